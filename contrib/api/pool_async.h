/*
 * pool_async.h — the pipelining executor: a few connections with many requests in flight on
 * each, so under load PostgreSQL finds the next request already waiting when it finishes one
 * instead of sleeping between requests (the blocking pool sends one request per connection and
 * waits for it).  An HTTP thread sends its job itself and suspends the connection; one executor
 * thread reads the results and calls the job's done callback.
 *
 * Only implicit transactions run here (statements between Syncs, see rest_tx.h): a job must
 * leave its connection idle, since the next job is already queued behind it.
 */
#ifndef API_POOL_ASYNC_H
#define API_POOL_ASYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

#define ASYNC_MAX_STMTS 8

typedef struct AsyncJob AsyncJob;

/*
 * Called when every result is in (stmts[i].result, PQclear them), or with error set (and no
 * results) when the connection was lost or none could be opened: on the executor thread, or on
 * the submitting thread before async_pool_submit returns.
 */
typedef void (*AsyncDone) (AsyncJob *job, const char *error);

struct AsyncJob
{
	PipeStmt   *stmts;			/* the array must stay valid until done is called; the SQL and
								 * parameters only until async_pool_submit returns */
	int			n;
	unsigned	sync_after;		/* a Sync after statement i when bit i is set, and after the last */
	AsyncDone	done;
	void	   *arg;
	/* the pool's */
	AsyncJob   *next;
	bool		prepared_now[ASYNC_MAX_STMTS];
	void	   *entry[ASYNC_MAX_STMTS];
	int			at;				/* statement whose results are being read */
	int			phase;
	char		error[256];		/* why it failed, handed to done */
};

typedef struct AsyncPool AsyncPool;

/* Opens size connections to uri and starts the thread; NULL + err if the first one fails. */
AsyncPool  *async_pool_start(const char *uri, int size, char *err, size_t errlen);
/* Finishes the jobs in flight, then stops the thread and closes the connections. */
void		async_pool_stop(AsyncPool *p);
/* Sends job (n <= ASYNC_MAX_STMTS); done is called exactly once, possibly before this returns. */
void		async_pool_submit(AsyncPool *p, AsyncJob *job);
/* Jobs submitted and not yet done; connections open. */
int			async_pool_in_flight(AsyncPool *p);
int			async_pool_connected(AsyncPool *p);

#endif
