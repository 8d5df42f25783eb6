/*
 * router.c — the route table (one source of truth for paths, metric labels and cache policy)
 * and the small routes: health, metrics, OpenAPI, docs, the tracking page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "rest.h"
#include "sse.h"

typedef void (*Handler) (Request *req, Response *resp, const char *arg);

static void handle_health(Request *req, Response *resp, const char *arg);
static void handle_live(Request *req, Response *resp, const char *arg);
static void handle_metrics(Request *req, Response *resp, const char *arg);
static void handle_static(Request *req, Response *resp, const char *arg);

/* '*' matches one path segment and is passed to the handler. */
typedef struct Route
{
	const char *method;			/* NULL = any */
	const char *pattern;
	const char *label;
	Handler		handler;
	const char *arg;			/* fixed argument (static file name) */
} Route;

/* The admin server's (admin-server-port); /metrics is served only there when it runs. */
static const Route admin_routes[] =
{
	{"GET", "/live", "live", handle_live, NULL},
	{"GET", "/ready", "ready", handle_health, NULL},
	{"GET", "/metrics", "metrics", handle_metrics, NULL},
};

static const Route routes[] =
{
	{"GET", "/api/health", "health", handle_health, NULL},
	{"GET", "/metrics", "metrics", handle_metrics, NULL},
	{"GET", "/api/", "openapi", rest_openapi, NULL},
	{"GET", "/api", "openapi", rest_openapi, NULL},
	{"GET", "/api-docs", "docs", handle_static, "api-docs.html"},
	{"GET", "/", "page", handle_static, "index.html"},
	{"GET", "/api/events/stream", "stream", sse_events, NULL},
	{"GET", "/api/shipments/*/stream", "stream", sse_shipment, NULL},
	{NULL, "/api/rpc/*", "rpc", rest_rpc, NULL},
	{NULL, "/api/*", "relation", rest_relation, NULL},
};

static bool
match(const char *pattern, const char *path, Arena *a, const char **arg)
{
	while (*pattern && *path)
	{
		if (*pattern == '*')
		{
			const char *end = strchr(path, '/');
			size_t		n = end ? (size_t) (end - path) : strlen(path);

			if (n == 0)
				return false;
			*arg = arena_strndup(a, path, n);
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == '\0' && *path == '\0';
}

static bool
method_is(const char *want, const char *method)
{
	return want == NULL || strcmp(want, method) == 0 ||
		(strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

void
router_dispatch(Request *req, Response *resp)
{
	bool		path_known = false;
	const Route *table = req->admin ? admin_routes : routes;
	size_t		n = req->admin ? sizeof(admin_routes) / sizeof(Route) : sizeof(routes) / sizeof(Route);

	for (size_t i = 0; i < n; i++)
	{
		const Route *r = &table[i];
		const char *arg = r->arg;

		if (!match(r->pattern, req->path, &req->arena, &arg) ||
			(!req->admin && r->handler == handle_metrics && server.cfg.admin_port > 0))
			continue;
		path_known = true;
		if (strcmp(req->method, "OPTIONS") == 0)
		{
			req->route = r->label;
			response_header(req, resp, "Allow", r->method ? "OPTIONS, GET, HEAD" :
							strcmp(r->label, "rpc") == 0 ? "OPTIONS, GET, HEAD, POST" :
							"OPTIONS, GET, HEAD, POST, PATCH, PUT, DELETE");
			return;
		}
		if (!method_is(r->method, req->method))
			continue;
		req->route = r->label;
		r->handler(req, resp, arg);
		return;
	}
	{
		ApiError	err;

		if (path_known)
			api_error(&err, 405, "PGRST117", "Unsupported HTTP method", req->method, NULL);
		else
			api_error(&err, 404, "PGRST125", "Invalid path specified in request URL", req->path, NULL);
		response_error(req, resp, &err);
	}
}

/* One query on a pool; the first value as text into out ("null" when NULL); false when down. */
static bool
probe(Pool *pool, const char *sql, char *out, size_t n)
{
	PgConn	   *c = pool_acquire(pool, 2000);
	PipeStmt	st = {sql, NULL, 0, NULL};
	char		err[256];
	bool		ok = false;

	snprintf(out, n, "null");
	if (c == NULL)
		return false;
	if (pg_pipeline(c, &st, 1, false, err, sizeof(err)) && PQresultStatus(st.result) == PGRES_TUPLES_OK)
	{
		ok = true;
		if (!PQgetisnull(st.result, 0, 0))
			snprintf(out, n, "%s", PQgetvalue(st.result, 0, 0));
	}
	PQclear(st.result);
	pool_release(pool, c);
	return ok;
}

static void
handle_health(Request *req, Response *resp, const char *arg)
{
	char		one[32], lag[32] = "null";
	bool		db_ok = probe(server.pool, "SELECT 1", one, sizeof(one));
	bool		replica_ok = true;
	SchemaCache *sc = server_cache_acquire();

	(void) req;
	(void) arg;
	if (server.replica_pool)
		replica_ok = probe(server.replica_pool,
						   "SELECT round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 3)",
						   lag, sizeof(lag));
	resp->status = db_ok && sc && !server.stopping ? 200 : 503;
	resp->content_type = "application/json; charset=utf-8";
	resp->cache_control = "no-store";
	buf_printf(&resp->body, "{\"status\":\"%s\",\"database\":\"%s\",\"schema_cache\":\"%s\","
			   "\"replica\":%s,\"replica_lag_seconds\":%s,\"pool\":{\"size\":%d,\"in_use\":%d}}",
			   resp->status == 200 ? "ok" : "unavailable", db_ok ? "up" : "down",
			   sc ? "loaded" : "missing",
			   server.replica_pool ? (replica_ok ? "\"up\"" : "\"down\"") : "null", lag,
			   pool_size(server.pool), pool_in_use(server.pool));
	server_cache_release(sc);
}

/* The admin server's liveness probe: the process answers; it does not ask the database. */
static void
handle_live(Request *req, Response *resp, const char *arg)
{
	(void) req;
	(void) arg;
	resp->content_type = "application/json; charset=utf-8";
	resp->cache_control = "no-store";
	buf_puts(&resp->body, "{\"status\":\"alive\"}");
}

static void
handle_metrics(Request *req, Response *resp, const char *arg)
{
	(void) req;
	(void) arg;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->cache_control = "no-store";
	metrics_render(&resp->body);
}

/* Files of the static directory: the tracking page and the API docs page. */
static void
handle_static(Request *req, Response *resp, const char *name)
{
	char		path[1024];
	FILE	   *f;
	char		chunk[4096];
	size_t		n;

	(void) req;
	snprintf(path, sizeof(path), "%s/%s", server.cfg.static_dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		ApiError	err;

		api_error(&err, 404, "PGRST125", "page not found", name, "Check server-static-dir.");
		response_error(req, resp, &err);
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&resp->body, chunk, n);
	fclose(f);
	resp->content_type = "text/html; charset=utf-8";
	resp->cache_control = "public, max-age=300";
}
