/*
 * pool.c — the blocking connection pool: a request borrows a connection, sends its pipeline
 * and waits for the results (connections and their prepared statements: pool_conn.c).
 * A broken connection is reset on its next use and forgets its prepared statements.
 */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pool_conn.h"

struct Pool
{
	char	   *uri;
	PgConn	   *conns;
	int			size;
	int			in_use;
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

/*
 * An idle connection has nothing to read unless the server is closing it (restart, idle
 * timeout, pg_terminate_backend: an error message, then EOF).  A readable idle socket is
 * therefore treated as lost and the pool reconnects before using it instead of failing the
 * request; the rare harmless message (a NOTICE) costs one reconnect.
 */
static bool
conn_alive(PgConn *c)
{
	struct pollfd pfd;

	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return false;
	pfd.fd = PQsocket(c->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

Pool *
pool_create(const char *uri, int size, char *err, size_t errlen)
{
	Pool	   *p = xmalloc(sizeof(Pool));

	memset(p, 0, sizeof(*p));
	p->uri = xstrdup(uri);
	p->size = size;
	p->conns = xmalloc(sizeof(PgConn) * (size_t) size);
	memset(p->conns, 0, sizeof(PgConn) * (size_t) size);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (int i = 0; i < size; i++)
		if (!pgconn_open(&p->conns[i], uri, err, errlen) && i == 0)
		{
			pool_destroy(p);
			return NULL;
		}
	return p;
}

void
pool_destroy(Pool *p)
{
	for (int i = 0; i < p->size; i++)
	{
		pgconn_close(&p->conns[i]);
	}
	free(p->conns);
	free(p->uri);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p);
}

PgConn *
pool_acquire(Pool *p, int timeout_ms)
{
	struct timespec deadline;
	PgConn	   *got = NULL;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (got == NULL)
	{
		for (int i = 0; i < p->size && got == NULL; i++)
			if (!p->conns[i].busy)
				got = &p->conns[i];
		if (got == NULL && pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (got)
	{
		got->busy = true;
		p->in_use++;
	}
	pthread_mutex_unlock(&p->lock);
	if (got && !conn_alive(got))
	{
		char		err[256];

		pgconn_open(got, p->uri, err, sizeof(err));	/* a failure shows on first use */
	}
	return got;
}

void
pool_release(Pool *p, PgConn *c)
{
	pthread_mutex_lock(&p->lock);
	c->busy = false;
	p->in_use--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

int
pool_size(const Pool *p)
{
	return p->size;
}

int
pool_in_use(Pool *p)
{
	int			n;

	pthread_mutex_lock(&p->lock);
	n = p->in_use;
	pthread_mutex_unlock(&p->lock);
	return n;
}

PGconn *
pg_raw(PgConn *c)
{
	return c->conn;
}

/* Reads one command's result (and the NULL that ends it). */
static PGresult *
read_one(PgConn *c)
{
	PGresult   *r = PQgetResult(c->conn);
	PGresult   *extra;

	if (r == NULL)
		return NULL;
	while ((extra = PQgetResult(c->conn)) != NULL)
		PQclear(extra);
	return r;
}

/* Sends COMMIT or ROLLBACK alone; *result (if not NULL) gets its result. */
static bool
end_transaction(PgConn *c, bool commit, PGresult **result)
{
	PGresult   *r;
	bool		ok;

	if (PQsendQueryParams(c->conn, commit ? "COMMIT" : "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
		PQpipelineSync(c->conn) != 1)
		return false;
	r = read_one(c);
	ok = r != NULL;
	if (result)
		*result = r;
	else
		PQclear(r);
	r = PQgetResult(c->conn);
	ok = ok && r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
	PQclear(r);
	return ok;
}

bool
pg_finish(PgConn *c, bool commit, PGresult **result)
{
	*result = NULL;
	if (c->conn == NULL)
		return false;
	if (!end_transaction(c, commit, result))
	{
		PQclear(*result);
		*result = NULL;
		pgconn_close(c);
		return false;
	}
	if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		end_transaction(c, false, NULL);
	return true;
}

/*
 * Reads the Sync that ends a segment.  An error in its place is the commit's (an implicit
 * transaction commits at the Sync): it becomes the result of the segment's last statement.
 */
static bool
read_sync(PgConn *c, PGresult **last)
{
	int			nulls = 0;

	for (;;)
	{
		PGresult   *r = PQgetResult(c->conn);

		if (r == NULL)
		{
			if (++nulls > 1)
				return false;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
		{
			PQclear(r);
			return true;
		}
		if (PQresultStatus(r) == PGRES_FATAL_ERROR)
		{
			PQclear(*last);
			*last = r;
		}
		else
			PQclear(r);
	}
}

bool
pg_pipeline(PgConn *c, PipeStmt *stmts, int n, bool leave_open, char *err, size_t errlen)
{
	return pg_pipeline_segments(c, stmts, n, 0, leave_open, err, errlen);
}

bool
pg_pipeline_segments(PgConn *c, PipeStmt *stmts, int n, unsigned sync_after, bool leave_open,
					 char *err, size_t errlen)
{
	Sent		sent[8];
	PGresult   *r;

	if (n > 8 || c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "%s", c->conn ? PQerrorMessage(c->conn) : "no connection");
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		stmts[i].result = NULL;
		if (!pgconn_send(c, &stmts[i], &sent[i]))
			goto broken;
		if (((sync_after & (1u << i)) || i == n - 1) && PQpipelineSync(c->conn) != 1)
			goto broken;
	}
	for (int i = 0; i < n; i++)
	{
		if (sent[i].prepared_now)
		{
			r = read_one(c);
			if (r == NULL)
				goto broken;
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
			{
				pgconn_forget(sent[i].entry);
				stmts[i].result = r;	/* the prepare's error is the statement's error */
				r = read_one(c);		/* the aborted execute */
				PQclear(r);
			}
			else
			{
				sent[i].entry->confirmed = true;
				PQclear(r);
			}
		}
		if (stmts[i].result == NULL && (stmts[i].result = read_one(c)) == NULL)
			goto broken;
		if (((sync_after & (1u << i)) || i == n - 1) && !read_sync(c, &stmts[i].result))
			goto broken;
	}
	if (PQtransactionStatus(c->conn) == PQTRANS_INERROR ||
		(PQtransactionStatus(c->conn) != PQTRANS_IDLE && !leave_open))
	{
		if (!end_transaction(c, false, NULL))
			goto broken;
	}
	return true;

broken:
	snprintf(err, errlen, "%s", PQerrorMessage(c->conn));
	for (int i = 0; i < n; i++)
	{
		PQclear(stmts[i].result);
		stmts[i].result = NULL;
	}
	pgconn_close(c);
	return false;
}
