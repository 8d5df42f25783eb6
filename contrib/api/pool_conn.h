/*
 * pool_conn.h — one libpq connection in pipeline mode with its cache of prepared statements,
 * shared by the blocking pool (pool.c: one request at a time per connection) and the
 * pipelining executor (pool_async.c: many requests in flight per connection).
 */
#ifndef API_POOL_CONN_H
#define API_POOL_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

#define STMT_CACHE_SLOTS 1024	/* power of two; at most half used */

typedef struct StmtEntry
{
	char	   *sql;
	unsigned	hash;
	int			id;
	bool		confirmed;		/* its Prepare succeeded (until then others send it unnamed) */
} StmtEntry;

struct PgConn
{
	PGconn	   *conn;
	bool		busy;
	StmtEntry	cache[STMT_CACHE_SLOTS];
	int			ncached;
	int			next_id;
};

/* Per statement sent: was a Prepare sent before its Execute, and under which cache entry. */
typedef struct Sent
{
	bool		prepared_now;
	StmtEntry  *entry;
} Sent;

/*
 * Connects to uri (a URI or key=value string).  A server that does not answer is given up after
 * PG_CONNECT_TIMEOUT seconds (libpq's own default is to wait as long as the kernel does, about
 * two minutes per host, which would stall a multi-host URI's failover), unless the URI's
 * connect_timeout or the PGCONNECT_TIMEOUT environment variable says otherwise.
 */
#define PG_CONNECT_TIMEOUT "10"
PGconn	   *pg_connect(const char *uri);
/* (Re)connects c to uri in pipeline mode, forgetting its statements; false + err on failure. */
bool		pgconn_open(PgConn *c, const char *uri, char *err, size_t errlen);
/* Closes the connection and forgets its statements. */
void		pgconn_close(PgConn *c);
/* Forgets the prepared statements (the connection was lost or closed). */
void		pgconn_cache_clear(PgConn *c);

/*
 * Queues s: Execute of its prepared statement, preceded by its Prepare the first time the SQL
 * is seen on this connection.  SQL whose Prepare is still in flight (or a full cache) is sent
 * unnamed.  false when libpq refuses (the connection is unusable).
 */
bool		pgconn_send(PgConn *c, const PipeStmt *s, Sent *sent);
/* The Prepare of an entry failed: later uses of its SQL prepare it again. */
void		pgconn_forget(StmtEntry *e);

#endif
