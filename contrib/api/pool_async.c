/*
 * pool_async.c — the pipelining executor (see pool_async.h).
 *
 * The connections (non-blocking libpq in pipeline mode) and their queues are shared under one
 * lock.  The submitting HTTP thread sends its job itself: it goes to the connection with the
 * fewest jobs in flight, its statements and Syncs are sent at once and the job joins that
 * connection's queue; no other thread has to wake up for it.  The executor thread waits in
 * epoll on the connections' sockets and reads the results.  They arrive in sending order, so
 * the head of the queue owns whatever PQgetResult returns next; each job walks through its
 * statements (Prepare, Execute, Sync) exactly as pg_pipeline_segments does for the blocking
 * pool.  A connection whose head job is slow gets no new jobs while another can take them.  A
 * lost connection fails the jobs in its queue and is reopened when a job next needs it (after a
 * failed attempt, a second later).  Completed jobs' callbacks run after the lock is released.
 */
#include "pool_async.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pool_conn.h"

enum
{
	PHASE_PREPARE,				/* reading the result of the statement's Prepare */
	PHASE_EXECUTE,				/* reading the result of its Execute */
	PHASE_SYNC					/* reading up to the Sync that ends its segment */
};

typedef struct AsyncConn
{
	PgConn		pc;
	AsyncJob   *head, *tail;	/* in flight, in sending order */
	int			in_flight;
	double		head_since;		/* when the head job's results became the next to read */
	bool		want_write;		/* libpq has unsent output: wait for EPOLLOUT */
	double		retry_at;		/* a lost connection is reopened from then on */
} AsyncConn;

struct AsyncPool
{
	char	   *uri;
	AsyncConn  *conns;
	int			size;
	int			epfd;
	int			stopfd;			/* wakes the executor to stop */
	pthread_t	thread;
	pthread_mutex_t lock;		/* the connections, their queues and completed */
	AsyncJob   *completed, *completed_tail;	/* callbacks to run once the lock is released */
	atomic_bool stopping;
	atomic_int	in_flight;
	atomic_int	connected;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
watch(AsyncPool *p, AsyncConn *ac, int op)
{
	struct epoll_event ev = {.events = EPOLLIN | (ac->want_write ? EPOLLOUT : 0), .data.ptr = ac};

	epoll_ctl(p->epfd, op, PQsocket(ac->pc.conn), &ev);
}

static bool
conn_up(const AsyncConn *ac)
{
	return ac->pc.conn != NULL && PQstatus(ac->pc.conn) == CONNECTION_OK;
}

/* Opens (or reopens) ac: blocking, like the blocking pool's reconnect. */
static bool
conn_open(AsyncPool *p, AsyncConn *ac, char *err, size_t errlen)
{
	ac->want_write = false;
	if (!pgconn_open(&ac->pc, p->uri, err, errlen) || PQsetnonblocking(ac->pc.conn, 1) != 0)
	{
		pgconn_close(&ac->pc);
		ac->retry_at = now_seconds() + 1.0;
		return false;
	}
	watch(p, ac, EPOLL_CTL_ADD);
	atomic_fetch_add(&p->connected, 1);
	return true;
}

/* Appends job to the list head..tail; true when the list was empty. */
static bool
job_append(AsyncJob **head, AsyncJob **tail, AsyncJob *job)
{
	bool		was_empty = *tail == NULL;

	job->next = NULL;
	if (was_empty)
		*head = job;
	else
		(*tail)->next = job;
	*tail = job;
	return was_empty;
}

/* Under the lock: job is complete, or failed with error (its results dropped). */
static void
job_finish(AsyncPool *p, AsyncJob *job, const char *error)
{
	job->error[0] = '\0';
	if (error)
	{
		for (int i = 0; i < job->n; i++)
		{
			PQclear(job->stmts[i].result);
			job->stmts[i].result = NULL;
		}
		snprintf(job->error, sizeof(job->error), "%s", error);
	}
	job_append(&p->completed, &p->completed_tail, job);
}

/* Releases the lock, then runs the callbacks of the jobs completed while it was held. */
static void
unlock_and_notify(AsyncPool *p)
{
	AsyncJob   *job = p->completed;

	p->completed = p->completed_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	while (job)
	{
		AsyncJob   *next = job->next;	/* job may be gone once done returns */

		atomic_fetch_sub(&p->in_flight, 1);
		job->done(job, job->error[0] ? job->error : NULL);
		job = next;
	}
}

/* The connection is lost: every job in its queue fails with libpq's message. */
static void
conn_lost(AsyncPool *p, AsyncConn *ac)
{
	char		msg[512];

	snprintf(msg, sizeof(msg), "%s", ac->pc.conn ? PQerrorMessage(ac->pc.conn) : "connection lost");
	if (ac->pc.conn)
	{
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, PQsocket(ac->pc.conn), NULL);
		atomic_fetch_sub(&p->connected, 1);
	}
	pgconn_close(&ac->pc);
	ac->retry_at = 0;			/* reopened when next needed; a failed reopen waits a second */
	while (ac->head)
	{
		AsyncJob   *job = ac->head;

		ac->head = job->next;
		job_finish(p, job, msg);
	}
	ac->tail = NULL;
	ac->in_flight = 0;
}

static bool
sync_after(const AsyncJob *job, int i)
{
	return (job->sync_after & (1u << i)) || i == job->n - 1;
}

static void
start_statement(AsyncJob *job, int i)
{
	job->at = i;
	job->phase = job->prepared_now[i] ? PHASE_PREPARE : PHASE_EXECUTE;
}

/*
 * Gives r (possibly NULL: the end of a command's results) to the job reading; true when the job
 * has all its results.
 */
static bool
job_feed(AsyncJob *job, PGresult *r)
{
	PipeStmt   *st = &job->stmts[job->at];

	switch (job->phase)
	{
		case PHASE_PREPARE:
			if (r == NULL)
				job->phase = PHASE_EXECUTE;
			else if (PQresultStatus(r) != PGRES_COMMAND_OK)
			{
				pgconn_forget(job->entry[job->at]);
				st->result = r; /* the Prepare's error is the statement's error */
			}
			else
			{
				((StmtEntry *) job->entry[job->at])->confirmed = true;
				PQclear(r);
			}
			return false;
		case PHASE_EXECUTE:
			if (r == NULL)
			{
				if (sync_after(job, job->at))
					job->phase = PHASE_SYNC;
				else
					start_statement(job, job->at + 1);
			}
			else if (st->result == NULL)
				st->result = r;
			else
				PQclear(r);		/* the aborted Execute after a failed Prepare */
			return false;
		default:
			if (r == NULL)
				return false;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
			{
				PQclear(r);
				if (job->at == job->n - 1)
					return true;
				start_statement(job, job->at + 1);
			}
			else if (PQresultStatus(r) == PGRES_FATAL_ERROR)
			{
				/* an error at the Sync is the commit's: it replaces the segment's last result */
				PQclear(st->result);
				st->result = r;
			}
			else
				PQclear(r);
			return false;
	}
}

/*
 * Completes the jobs whose results are all in libpq's input buffer.  Called after reading and
 * also after sending: when the socket's send buffer is full, libpq reads what the server has
 * sent meanwhile (to avoid a deadlock), and epoll will not report that data again.
 */
static void
conn_drain(AsyncPool *p, AsyncConn *ac)
{
	while (ac->head && !PQisBusy(ac->pc.conn))
	{
		AsyncJob   *job = ac->head;

		if (!job_feed(job, PQgetResult(ac->pc.conn)))
			continue;
		ac->head = job->next;
		if (ac->head == NULL)
			ac->tail = NULL;
		else
			ac->head_since = now_seconds();
		ac->in_flight--;
		job_finish(p, job, NULL);
	}
	if (PQstatus(ac->pc.conn) != CONNECTION_OK)
		conn_lost(p, ac);
}

/* Reads what arrived on ac and completes the jobs whose results are all in. */
static void
conn_read(AsyncPool *p, AsyncConn *ac)
{
	if (!PQconsumeInput(ac->pc.conn))
		conn_lost(p, ac);
	else
		conn_drain(p, ac);
}

static void
conn_flush(AsyncPool *p, AsyncConn *ac)
{
	int			rc = PQflush(ac->pc.conn);
	bool		want = rc == 1;

	if (rc < 0)
	{
		conn_lost(p, ac);
		return;
	}
	if (want != ac->want_write)
	{
		ac->want_write = want;
		watch(p, ac, EPOLL_CTL_MOD);
	}
	conn_drain(p, ac);
}

/*
 * A job waits for every job sent before it on its connection, so a slow statement would hold up
 * the requests queued behind it: a connection whose head job has run longer than this gets no
 * new job while another connection has none so stuck.
 */
#define STUCK_SECONDS 0.02

/*
 * The open connection with the fewest jobs in flight, preferring those not stuck behind a slow
 * statement; lost connections are reopened when due.
 */
static AsyncConn *
choose_conn(AsyncPool *p)
{
	AsyncConn  *best = NULL;
	bool		best_stuck = true;
	double		now = now_seconds();

	for (int i = 0; i < p->size; i++)
	{
		AsyncConn  *ac = &p->conns[i];
		bool		stuck;

		if (!conn_up(ac))
		{
			char		err[512];

			if (now < ac->retry_at || !conn_open(p, ac, err, sizeof(err)))
				continue;
		}
		stuck = ac->head != NULL && now - ac->head_since > STUCK_SECONDS;
		if (best == NULL || (best_stuck && !stuck) ||
			(stuck == best_stuck && ac->in_flight < best->in_flight))
		{
			best = ac;
			best_stuck = stuck;
		}
	}
	return best;
}

static void
job_send(AsyncPool *p, AsyncJob *job)
{
	AsyncConn  *ac = choose_conn(p);
	bool		sent_all = true;

	if (ac == NULL)
	{
		job_finish(p, job, "no connection to the database");
		return;
	}
	for (int i = 0; i < job->n && sent_all; i++)
	{
		Sent		sent;

		job->stmts[i].result = NULL;
		sent_all = pgconn_send(&ac->pc, &job->stmts[i], &sent) &&
			(!sync_after(job, i) || PQpipelineSync(ac->pc.conn) == 1);
		job->prepared_now[i] = sent.prepared_now;
		job->entry[i] = sent.entry;
	}
	if (job_append(&ac->head, &ac->tail, job))
		ac->head_since = now_seconds();
	if (!sent_all)
	{
		/* libpq refused: the connection is unusable, and this job fails with the others */
		conn_lost(p, ac);
		return;
	}
	start_statement(job, 0);
	ac->in_flight++;
	conn_flush(p, ac);
}

static void *
executor_main(void *arg)
{
	AsyncPool  *p = arg;
	struct epoll_event evs[64];

	pthread_setname_np(pthread_self(), "freight-pipes");
	for (;;)
	{
		int			n = epoll_wait(p->epfd, evs, 64, 1000);

		for (int i = 0; i < n; i++)
		{
			AsyncConn  *ac = evs[i].data.ptr;

			if (ac == NULL)
			{
				uint64_t	v;	/* async_pool_stop: the flag is checked below */

				if (read(p->stopfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					perror("freight-api: executor stop");
				continue;
			}
			pthread_mutex_lock(&p->lock);
			if (conn_up(ac) && (evs[i].events & EPOLLOUT))
				conn_flush(p, ac);
			if (conn_up(ac) && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				conn_read(p, ac);
			unlock_and_notify(p);
		}
		if (atomic_load(&p->stopping) && atomic_load(&p->in_flight) == 0)
			return NULL;
	}
}

AsyncPool *
async_pool_start(const char *uri, int size, char *err, size_t errlen)
{
	AsyncPool  *p = xmalloc(sizeof(AsyncPool));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	memset(p, 0, sizeof(*p));
	p->uri = xstrdup(uri);
	p->size = size;
	p->conns = xmalloc(sizeof(AsyncConn) * (size_t) size);
	memset(p->conns, 0, sizeof(AsyncConn) * (size_t) size);
	pthread_mutex_init(&p->lock, NULL);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->stopfd, &ev);
	for (int i = 0; i < size; i++)
		if (!conn_open(p, &p->conns[i], err, errlen) && i == 0)
		{
			async_pool_stop(p);
			return NULL;
		}
	if (pthread_create(&p->thread, NULL, executor_main, p) != 0)
	{
		snprintf(err, errlen, "cannot start the executor thread");
		p->thread = 0;
		async_pool_stop(p);
		return NULL;
	}
	return p;
}

void
async_pool_stop(AsyncPool *p)
{
	if (p->thread)
	{
		uint64_t	one = 1;

		atomic_store(&p->stopping, true);
		if (write(p->stopfd, &one, sizeof(one)) < 0)
			perror("freight-api: executor stop");
		pthread_join(p->thread, NULL);
	}
	for (int i = 0; i < p->size; i++)
		pgconn_close(&p->conns[i].pc);
	close(p->epfd);
	close(p->stopfd);
	pthread_mutex_destroy(&p->lock);
	free(p->conns);
	free(p->uri);
	free(p);
}

void
async_pool_submit(AsyncPool *p, AsyncJob *job)
{
	atomic_fetch_add(&p->in_flight, 1);
	pthread_mutex_lock(&p->lock);
	job_send(p, job);
	unlock_and_notify(p);
}

int
async_pool_in_flight(AsyncPool *p)
{
	return atomic_load(&p->in_flight);
}

int
async_pool_connected(AsyncPool *p)
{
	return atomic_load(&p->connected);
}
