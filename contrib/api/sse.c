/*
 * sse.c — event streams over libmicrohttpd suspend/resume (see sse.h).
 *
 * Each stream is a content-reader response.  When it has nothing to send, the reader suspends
 * its connection; a NOTIFY (or the heartbeat timer) marks every stream awake and resumes it,
 * and the reader then queries the database as the client's role (so row-level security still
 * decides what it sees) and sends what is new.  A suspended connection costs no thread.
 */
#include "sse.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "query_parse.h"
#include "rest.h"

typedef struct SseClient SseClient;
struct SseClient
{
	SseClient  *next;
	SseClient  *prev;
	struct MHD_Connection *conn;
	Buf			out;			/* bytes not yet handed to MHD */
	size_t		out_pos;
	bool		suspended;
	bool		wake;			/* new events may exist */
	bool		heartbeat;		/* a heartbeat is due */
	bool		closing;
	bool		is_shipment;
	RunAs		as;				/* strings owned by arena */
	Arena		arena;
	const char *tracking;
	char	   *last_status;
	const char *type_like;		/* LIKE pattern or NULL */
	long long	cursor;			/* id of the last event sent */
	long long	counter;		/* shipment stream ids */
};

static pthread_mutex_t hub_lock = PTHREAD_MUTEX_INITIALIZER;
static SseClient *clients;
static pthread_t ticker;
static bool ticker_started;

static void
resume_locked(SseClient *c)
{
	if (c->suspended)
	{
		c->suspended = false;
		MHD_resume_connection(c->conn);
	}
}

void
sse_wake_all(void)
{
	pthread_mutex_lock(&hub_lock);
	for (SseClient *c = clients; c; c = c->next)
	{
		c->wake = true;
		resume_locked(c);
	}
	pthread_mutex_unlock(&hub_lock);
}

static void *
ticker_main(void *arg)
{
	const char *env = getenv("FREIGHT_SSE_HEARTBEAT_MS");
	int			ms = env ? atoi(env) : 15000;

	(void) arg;
	if (ms < 50)
		ms = 50;
	while (!server.stopping)
	{
		for (int waited = 0; waited < ms && !server.stopping; waited += 50)
			usleep(50000);
		pthread_mutex_lock(&hub_lock);
		for (SseClient *c = clients; c; c = c->next)
		{
			c->heartbeat = true;
			resume_locked(c);
		}
		pthread_mutex_unlock(&hub_lock);
	}
	return NULL;
}

void
sse_start(void)
{
	ticker_started = pthread_create(&ticker, NULL, ticker_main, NULL) == 0;
}

void
sse_stop(void)
{
	pthread_mutex_lock(&hub_lock);
	for (SseClient *c = clients; c; c = c->next)
	{
		c->closing = true;
		resume_locked(c);
	}
	pthread_mutex_unlock(&hub_lock);
	for (int i = 0; i < 20; i++)
	{
		bool		empty;

		pthread_mutex_lock(&hub_lock);
		empty = clients == NULL;
		pthread_mutex_unlock(&hub_lock);
		if (empty)
			break;
		usleep(50000);
	}
	if (ticker_started)
		pthread_join(ticker, NULL);
}

static void
client_free(void *cls)
{
	SseClient  *c = cls;

	pthread_mutex_lock(&hub_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&hub_lock);
	buf_free(&c->out);
	free(c->last_status);
	arena_free(&c->arena);
	free(c);
}

static void
emit(SseClient *c, const char *id, const char *event, const char *data)
{
	if (id)
		buf_printf(&c->out, "id: %s\n", id);
	buf_printf(&c->out, "event: %s\n", event);
	/* data lines must not contain newlines: JSON from PostgreSQL's json functions has none */
	buf_puts(&c->out, "data: ");
	for (const char *p = data; *p; p++)
		if (*p != '\n' && *p != '\r')
			buf_putc(&c->out, *p);
	buf_puts(&c->out, "\n\n");
}

static void
emit_error(SseClient *c, const ApiError *err)
{
	Buf			b;

	buf_init(&b);
	api_error_json(err, &b);
	emit(c, NULL, "error", b.data);
	buf_free(&b);
}

/* Event ids are the cursor of freight.events_since; freight.cloudevent renders CloudEvents JSON. */
static const char *const events_sql =
"SELECT e.id::text, e.type, freight.cloudevent(e)::text"
" FROM freight.events_since($1::bigint, 500) e"
" WHERE $2::text IS NULL OR e.type LIKE $2 ORDER BY e.id";

static bool
fetch_events(SseClient *c)
{
	char		cursor[24];
	const char *params[2];
	PGresult   *r;
	ApiError	err;

	if (c->cursor < 0)
	{
		/* no Last-Event-ID: the stream starts after the newest event */
		if (!rest_query_as(&c->as, "SELECT coalesce(max(e.id), 0)::text FROM freight.events e",
						   NULL, 0, &r, &err))
		{
			emit_error(c, &err);
			return false;
		}
		c->cursor = atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	snprintf(cursor, sizeof(cursor), "%lld", c->cursor);
	params[0] = cursor;
	params[1] = c->type_like;
	if (!rest_query_as(&c->as, events_sql, params, 2, &r, &err))
	{
		emit_error(c, &err);
		return false;
	}
	for (int i = 0; i < PQntuples(r); i++)
	{
		emit(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
		c->cursor = atoll(PQgetvalue(r, i, 0));
	}
	PQclear(r);
	return true;
}

static bool
fetch_status(SseClient *c)
{
	const char *params[1] = {c->tracking};
	PGresult   *r;
	ApiError	err;

	if (!rest_query_as(&c->as, "SELECT freight.track($1)::text", params, 1, &r, &err))
	{
		emit_error(c, &err);
		return false;
	}
	if (c->last_status == NULL && (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)))
	{
		api_error(&err, 404, "PGRST116", "shipment not found", c->tracking, NULL);
		emit_error(c, &err);
		PQclear(r);
		return false;
	}
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) &&
		(c->last_status == NULL || strcmp(c->last_status, PQgetvalue(r, 0, 0)) != 0))
	{
		char		id[24];

		free(c->last_status);
		c->last_status = xstrdup(PQgetvalue(r, 0, 0));
		snprintf(id, sizeof(id), "%lld", ++c->counter);
		emit(c, id, "status", c->last_status);
	}
	PQclear(r);
	return true;
}

static ssize_t
client_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	SseClient  *c = cls;
	bool		wake, heartbeat, closing;
	size_t		n;

	(void) pos;
	if (c->out_pos >= c->out.len)
	{
		buf_reset(&c->out);
		c->out_pos = 0;
		pthread_mutex_lock(&hub_lock);
		wake = c->wake;
		heartbeat = c->heartbeat;
		closing = c->closing || server.stopping;
		c->wake = c->heartbeat = false;
		pthread_mutex_unlock(&hub_lock);
		if (closing)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (wake && !(c->is_shipment ? fetch_status(c) : fetch_events(c)))
			c->closing = true;
		if (heartbeat && c->out.len == 0)
			buf_puts(&c->out, ": heartbeat\n\n");
		if (c->out.len == 0)
		{
			pthread_mutex_lock(&hub_lock);
			if (!c->wake && !c->heartbeat && !c->closing)
			{
				c->suspended = true;
				MHD_suspend_connection(c->conn);
			}
			pthread_mutex_unlock(&hub_lock);
			return 0;
		}
	}
	n = c->out.len - c->out_pos;
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->out_pos, n);
	c->out_pos += n;
	return (ssize_t) n;
}

/* Shared set-up: authenticate, then register a client whose first read sends the backlog. */
static SseClient *
client_new(Request *req, Response *resp)
{
	SchemaCache *sc = server_cache_acquire();
	Auth		auth;
	ApiError	err;
	SseClient  *c;

	if (!auth_request(req, sc, &auth, &err))
	{
		server_cache_release(sc);
		response_error(req, resp, &err);
		return NULL;
	}
	server_cache_release(sc);
	req->role = auth.role;
	c = xmalloc(sizeof(SseClient));
	memset(c, 0, sizeof(*c));
	arena_init(&c->arena);
	buf_init(&c->out);
	c->conn = req->conn;
	c->as.role = arena_strdup(&c->arena, auth.role);
	c->as.claims = arena_strdup(&c->arena, auth.claims);
	c->as.schema = server.schemas[0];
	c->as.method = "GET";
	c->as.path = arena_strdup(&c->arena, req->path);
	c->as.anonymous = auth.anonymous;
	c->wake = true;
	resp->stream = client_read;
	resp->stream_free = client_free;
	resp->stream_cls = c;
	resp->content_type = "text/event-stream";
	resp->cache_control = "no-store";
	response_header(req, resp, "X-Accel-Buffering", "no");
	return c;
}

static void
client_register(SseClient *c)
{
	pthread_mutex_lock(&hub_lock);
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	pthread_mutex_unlock(&hub_lock);
}

void
sse_shipment(Request *req, Response *resp, const char *tracking)
{
	SseClient  *c = client_new(req, resp);

	if (c == NULL)
		return;
	c->is_shipment = true;
	c->tracking = arena_strdup(&c->arena, tracking);
	client_register(c);
}

void
sse_events(Request *req, Response *resp, const char *arg)
{
	const char *last = request_header(req, "Last-Event-ID");
	const QpPair *pairs;
	QpPair	   *p;
	int			npairs;
	QpError		qerr;
	SseClient  *c;
	char	   *end = NULL;

	(void) arg;
	if (last)
	{
		strtoll(last, &end, 10);
		if (*last == '\0' || *end != '\0')
		{
			ApiError	err;

			api_error(&err, 400, "PGRST100", "Last-Event-ID must be an event id", last, NULL);
			response_error(req, resp, &err);
			return;
		}
	}
	if (!qp_decode_pairs(&req->arena, req->query, &p, &npairs, &qerr))
	{
		ApiError	err;

		api_error(&err, 400, "PGRST100", qerr.message, qerr.details, NULL);
		response_error(req, resp, &err);
		return;
	}
	pairs = p;
	c = client_new(req, resp);
	if (c == NULL)
		return;
	c->cursor = last ? atoll(last) : -1;
	for (int i = 0; i < npairs; i++)
	{
		if (strcmp(pairs[i].key, "type") == 0)
		{
			char	   *pat = arena_strdup(&c->arena, pairs[i].value);

			for (char *s = pat; *s; s++)
				if (*s == '*')
					*s = '%';
			c->type_like = pat;
		}
		else if (strcmp(pairs[i].key, "last_event_id") == 0 && !last)
			c->cursor = atoll(pairs[i].value);
	}
	client_register(c);
}
