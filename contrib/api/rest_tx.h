/*
 * rest_tx.h — the statements of one request's transaction, sent as one pipeline:
 *
 *   SELECT set_config(search_path, role, request.jwt.claims, request.method, request.path,
 *                     request.headers, request.cookies[, timezone][, transaction_read_only]);
 *   [SELECT <db-pre-request>();]
 *   <the statement>;                                   -- Sync: the implicit transaction commits
 *   [SELECT pg_current_wal_insert_lsn();]              -- writes: the LSN covering the commit
 *
 * Between two Syncs the extended protocol runs the statements as one implicit transaction: an
 * error anywhere rolls all of it back, and success commits once, at the Sync.  A transaction
 * that must end otherwise is explicit: BEGIN ... ROLLBACK for Prefer: tx=rollback or
 * db-tx-end = rollback, and BEGIN left open for a singular write or one with Prefer:
 * max-affected, whose caller commits or rolls back after counting the rows.
 */
#ifndef API_REST_TX_H
#define API_REST_TX_H

#include "pool.h"
#include "rest.h"

#define TX_MAX_STMTS 6
#define TX_SETUP_PARAMS 8

typedef struct TxPlan
{
	PipeStmt	stmts[TX_MAX_STMTS];
	int			n;
	unsigned	sync_after;		/* for pg_pipeline_segments */
	int			main;			/* index of the request's statement */
	int			lsn;			/* index of the commit-LSN query, -1 when none */
	bool		leave_open;		/* the caller ends the transaction with pg_finish */
	bool		rollback;		/* the transaction ends in ROLLBACK */
	const char *tx_applied;		/* "tx=commit" / "tx=rollback" when Prefer: tx= was honoured */
	const char *setup[TX_SETUP_PARAMS];
	int			nsetup;
	int			setup_index;	/* index of the setup SELECT */
	const char *setup_logged[TX_SETUP_PARAMS];	/* log-sql: setup with credentials redacted */
} TxPlan;

/*
 * Adds cfg's db-extra-search-path and app.settings.* to every transaction's setup SELECT; once,
 * before any request.
 */
void		tx_init(const ApiConfig *cfg);

/*
 * Plans the transaction running sql as `as` (parameters allocated in a).  req (NULL for the daemon's own queries) supplies
 * request.headers, request.cookies and Prefer: tx=, and enables db-pre-request and as->timezone.
 * read_only: a GET or a non-volatile function; write: a write whose commit LSN the client gets;
 * leave_open: leave the transaction open for the caller (it checks the rows affected first).
 */
void		tx_plan(TxPlan *tx, Arena *a, Request *req, const RunAs *as, bool read_only, bool write,
					bool leave_open, const char *sql, const char *const *params, int nparams);

/*
 * Runs sql as `as` (the daemon's own query: no request settings) in one implicit transaction
 * (setup SELECT, the statement, one Sync) on a connection of the primary's pool; READ ONLY when
 * read_only, else it commits at the Sync.  true: exactly one of *res (the statement's result)
 * and *failed (the first failed statement's result) is set; PQclear it.  false + err (503
 * PGRST001, 504 PGRST003) when no connection could run it.
 */
bool		tx_query_as(const RunAs *as, bool read_only, const char *sql, const char *const *params,
						int nparams, PGresult **res, PGresult **failed, ApiError *err);

/* The first failed statement's result, or NULL when all succeeded. */
PGresult   *tx_failed(const TxPlan *tx);

void		tx_clear(TxPlan *tx);

#endif
