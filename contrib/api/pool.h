/*
 * pool.h — a fixed pool of libpq connections, each kept in pipeline mode with a cache of
 * prepared statements, so one request's statements (role and claims; the query; for writes the
 * commit LSN) travel in one round trip.
 */
#ifndef API_POOL_H
#define API_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct PgConn PgConn;
typedef struct Pool Pool;

/* Opens size connections to uri; NULL + err if the first one fails. */
Pool	   *pool_create(const char *uri, int size, char *err, size_t errlen);
void		pool_destroy(Pool *pool);
/* Waits up to timeout_ms for a free connection; NULL on timeout. */
PgConn	   *pool_acquire(Pool *pool, int timeout_ms);
void		pool_release(Pool *pool, PgConn *c);
int			pool_size(const Pool *pool);
int			pool_in_use(Pool *pool);

/* One statement of a pipeline; result is filled by pg_pipeline (PQclear it). */
typedef struct PipeStmt
{
	const char *sql;
	const char *const *params;
	int			nparams;
	PGresult   *result;
} PipeStmt;

/*
 * Sends stmts in one pipeline with one Sync and collects each result.  After an error later
 * statements get PGRES_PIPELINE_ABORTED.  A failed transaction is rolled back; an open one too
 * unless leave_open (then the caller ends it with pg_finish after checking the result).
 * Returns false (err filled) only when the connection is unusable.
 */
bool		pg_pipeline(PgConn *c, PipeStmt *stmts, int n, bool leave_open, char *err,
						size_t errlen);

/*
 * pg_pipeline with a Sync after every statement i whose bit (1 << i) is set in sync_after, and
 * after the last.  The statements between two Syncs, outside BEGIN ... COMMIT, form one
 * implicit transaction committed at the Sync; an error anywhere in it rolls all of it back and
 * the segment's later statements get PGRES_PIPELINE_ABORTED.  An error raised by the commit
 * itself (a deferred constraint) replaces the result of the segment's last statement.
 */
bool		pg_pipeline_segments(PgConn *c, PipeStmt *stmts, int n, unsigned sync_after,
								 bool leave_open, char *err, size_t errlen);

/* Commits or rolls back the transaction left open by pg_pipeline; *result = COMMIT's result. */
bool		pg_finish(PgConn *c, bool commit, PGresult **result);

PGconn	   *pg_raw(PgConn *c);

#endif
