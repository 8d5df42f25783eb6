/*
 * rest_exec.c — running a request's statement: one pipeline (BEGIN; role, claims and request
 * settings; the statement; COMMIT; the LSN for read-your-writes) on the primary or a replica,
 * PostgreSQL errors as API errors, and the status, Content-Range and body of the response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "rest_internal.h"

static void
content_range(Request *req, Response *resp, long long first, long long count, const char *total)
{
	char		v[80];

	if (count == 0)
		snprintf(v, sizeof(v), "*/%s", total ? total : "*");
	else
		snprintf(v, sizeof(v), "%lld-%lld/%s", first, first + count - 1, total ? total : "*");
	response_header(req, resp, "Content-Range", arena_strdup(&req->arena, v));
}

static void
pg_error_to(ApiError *err, PGresult *res, bool anonymous)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	api_error(err, api_status_for_sqlstate(state, anonymous), state ? state : "XX000",
			  msg ? msg : PQresultErrorMessage(res), PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	if (state && strcmp(state, "21000") == 0 && msg && strstr(msg, "requires a WHERE clause"))
		err->status = 400;
}

static void
pg_error(Request *req, Response *resp, PGresult *res, bool anonymous)
{
	ApiError	err;

	pg_error_to(&err, res, anonymous);
	response_error(req, resp, &err);
}


static const char *const setup_sql =
"SELECT set_config('search_path', $1, true), set_config('role', $2, true),"
" set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true),"
" set_config('request.path', $5, true)";

/* The five parameters of setup_sql, allocated in a. */
static void
setup_params_for(Arena *a, const RunAs *as, const char *out[5])
{
	Buf			sp;

	buf_init(&sp);
	buf_ident(&sp, as->schema);
	buf_puts(&sp, ", \"public\"");
	out[0] = arena_strdup(a, sp.data);
	buf_free(&sp);
	out[1] = as->role;
	out[2] = as->claims;
	out[3] = as->method;
	out[4] = as->path;
}

static void pg_error_to(ApiError *err, PGresult *res, bool anonymous);

bool
rest_query_as(const RunAs *as, const char *sql, const char *const *params, int nparams,
			  PGresult **res, ApiError *err)
{
	Arena		a;
	const char *sp[5];
	PipeStmt	stmts[4];
	PgConn	   *c;
	char		msg[512];
	bool		ok = false;

	*res = NULL;
	c = pool_acquire(server.pool, server.cfg.db_pool_timeout_ms);
	if (c == NULL)
		return api_error(err, 504, "PGRST003", "Timed out acquiring connection from connection pool.", NULL, NULL);
	arena_init(&a);
	setup_params_for(&a, as, sp);
	stmts[0] = (PipeStmt) {"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY", NULL, 0, NULL};
	stmts[1] = (PipeStmt) {setup_sql, sp, 5, NULL};
	stmts[2] = (PipeStmt) {sql, params, nparams, NULL};
	stmts[3] = (PipeStmt) {"COMMIT", NULL, 0, NULL};
	if (!pg_pipeline(c, stmts, 4, false, msg, sizeof(msg)))
		api_error(err, 503, "PGRST001", "Database client error. Retrying the connection.", msg, NULL);
	else
	{
		ok = true;
		for (int i = 0; i < 4 && ok; i++)
			if (PQresultStatus(stmts[i].result) == PGRES_FATAL_ERROR)
			{
				pg_error_to(err, stmts[i].result, as->anonymous);
				ok = false;
			}
		if (ok)
		{
			*res = stmts[2].result;
			stmts[2].result = NULL;
		}
		for (int i = 0; i < 4; i++)
			PQclear(stmts[i].result);
	}
	pool_release(server.pool, c);
	arena_free(&a);
	return ok;
}

/* One JSON line with the statement and its parameters (log-sql). */
static void
log_statement(Request *req, const SqlStatement *st, const char *const setup[5])
{
	Buf			b;

	buf_init(&b);
	buf_printf(&b, "{\"event\":\"sql\",\"request_id\":\"%s\",\"setup\":[", req->request_id);
	for (int i = 0; i < 5; i++)
	{
		buf_printf(&b, "%s\"", i ? "," : "");
		buf_json_escape(&b, setup[i]);
		buf_putc(&b, '"');
	}
	buf_puts(&b, "],\"sql\":\"");
	buf_json_escape(&b, st->sql.data);
	buf_puts(&b, "\",\"params\":[");
	for (int i = 0; i < st->nparams; i++)
	{
		buf_printf(&b, "%s\"", i ? "," : "");
		buf_json_escape(&b, st->params[i]);
		buf_putc(&b, '"');
	}
	buf_puts(&b, "]}\n");
	fputs(b.data, stderr);
	buf_free(&b);
}

/* After a committed write: the LSN that covers it, for read-your-writes on replicas. */
static void
lsn_header(Request *req, Response *resp, PGresult *lsn)
{
	if (lsn && PQresultStatus(lsn) == PGRES_TUPLES_OK && PQntuples(lsn) == 1)
		response_header(req, resp, "Freight-LSN", arena_strdup(&req->arena, PQgetvalue(lsn, 0, 0)));
}

/* 406 for a singular response with 0 or more than 1 rows. */
static void
singular_error(Request *req, Response *resp, long long count)
{
	ApiError	err;
	char		det[80];

	snprintf(det, sizeof(det), "The result contains %lld rows", count);
	api_error(&err, 406, "PGRST116", "JSON object requested, multiple (or no) rows returned", det, NULL);
	response_error(req, resp, &err);
}

/* Status, Content-Range and body from the statement's one row (total, page count, body). */
static void
shape_response(Request *req, Response *resp, PGresult *main_res, const Exec *ex)
{
	long long	count = atoll(PQgetvalue(main_res, 0, 1));
	const char *total = PQgetisnull(main_res, 0, 0) ? NULL : PQgetvalue(main_res, 0, 0);
	ApiError	err;

	resp->status = ex->ok_status;
	if (!ex->write && total && count < atoll(total))
		resp->status = 206;
	if (!ex->write && total && ex->first > 0 && ex->first >= atoll(total) && count == 0)
	{
		char		msg[160];

		snprintf(msg, sizeof(msg), "An offset of %lld was requested, but there are only %s rows.",
				 ex->first, total);
		api_error(&err, 416, "PGRST103", "Requested range not satisfiable", msg, NULL);
		response_error(req, resp, &err);
		return;
	}
	content_range(req, resp, ex->write ? 0 : ex->first, ex->write ? 0 : count, total);
	if (ex->body_wanted && !PQgetisnull(main_res, 0, 2))
	{
		buf_add(&resp->body, PQgetvalue(main_res, 0, 2), (size_t) PQgetlength(main_res, 0, 2));
		resp->content_type = ex->ctype;
	}
	else if (ex->write)
		resp->status = ex->ok_status == 201 ? 201 : 204;
}

/*
 * One pipeline: BEGIN; role, claims and request settings; the statement; COMMIT; and for writes
 * the LSN after the commit.  A singular write instead leaves the transaction open, checks that
 * exactly one row was affected, then commits or rolls back.
 */
void
rest_run_statement(Request *req, Response *resp, SqlStatement *st, const Exec *ex)
{
	const char *setup_params[5];
	RunAs		as = {ex->auth->role, ex->auth->claims, ex->schema, req->method, req->path,
	ex->auth->anonymous};
	PipeStmt	stmts[5];
	Route		route;
	char		errmsg[512];
	bool		singular_write = ex->write && ex->singular;
	int			n = singular_write ? 3 : (ex->write ? 5 : 4);
	PGresult   *main_res;
	ApiError	err;

	memset(stmts, 0, sizeof(stmts));
	setup_params_for(&req->arena, &as, setup_params);
	if (server.cfg.log_sql)
		log_statement(req, st, setup_params);
	stmts[0] = (PipeStmt) {ex->read_only ? "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY" : "BEGIN", NULL, 0, NULL};
	stmts[1] = (PipeStmt) {setup_sql, setup_params, 5, NULL};
	stmts[2] = (PipeStmt) {st->sql.data, st->params, st->nparams, NULL};
	stmts[3] = (PipeStmt) {"COMMIT", NULL, 0, NULL};
	stmts[4] = (PipeStmt) {replica_lsn_sql, NULL, 0, NULL};

	if (!route_acquire(req, ex->read_only && !ex->write, &route, &err))
	{
		response_error(req, resp, &err);
		return;
	}
	response_header(req, resp, "Freight-Served-By", route.served_by);
	if (!pg_pipeline(route.conn, stmts, n, singular_write, errmsg, sizeof(errmsg)))
	{
		route_release(&route);
		api_error(&err, 503, "PGRST001", "Database client error. Retrying the connection.", errmsg, NULL);
		response_error(req, resp, &err);
		return;
	}
	for (int i = 0; i < n && i < 4; i++)
		if (PQresultStatus(stmts[i].result) == PGRES_FATAL_ERROR)
		{
			pg_error(req, resp, stmts[i].result, ex->auth->anonymous);
			goto done;
		}
	main_res = stmts[2].result;
	if (PQresultStatus(main_res) != PGRES_TUPLES_OK || PQntuples(main_res) != 1)
	{
		api_error(&err, 500, "PGRSTX00", "unexpected result from the database", NULL, NULL);
		response_error(req, resp, &err);
		goto done;
	}
	if (ex->singular && atoll(PQgetvalue(main_res, 0, 1)) != 1)
	{
		if (singular_write)
		{
			PGresult   *r;

			pg_finish(route.conn, false, &r);
			PQclear(r);
		}
		singular_error(req, resp, atoll(PQgetvalue(main_res, 0, 1)));
		goto done;
	}
	if (singular_write)
	{
		PGresult   *r;

		if (!pg_finish(route.conn, true, &r) || PQresultStatus(r) != PGRES_COMMAND_OK)
		{
			if (r)
				pg_error(req, resp, r, ex->auth->anonymous);
			else
			{
				api_error(&err, 503, "PGRST001", "Database client error", NULL, NULL);
				response_error(req, resp, &err);
			}
			PQclear(r);
			goto done;
		}
		PQclear(r);
		if (pg_pipeline(route.conn, &stmts[4], 1, false, errmsg, sizeof(errmsg)))
			lsn_header(req, resp, stmts[4].result);
	}
	else if (ex->write)
		lsn_header(req, resp, stmts[4].result);
	shape_response(req, resp, main_res, ex);
done:
	for (int i = 0; i < 5; i++)
		PQclear(stmts[i].result);
	route_release(&route);
}
