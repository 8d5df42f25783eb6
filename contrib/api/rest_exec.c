/*
 * rest_exec.c — running a request's statement: one pipeline (role, claims and request
 * settings; db-pre-request; the statement; the LSN for read-your-writes; see rest_tx.h) on the
 * primary or a replica, through the pipelining executor (pool_async.h) or on a borrowed
 * connection, PostgreSQL errors as API errors, and the status, Content-Range and body of the
 * response.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "rest_internal.h"
#include "rest_tx.h"

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


bool
rest_query_as(const RunAs *as, const char *sql, const char *const *params, int nparams,
			  PGresult **res, ApiError *err)
{
	PGresult   *failed;

	if (!tx_query_as(as, true, sql, params, nparams, res, &failed, err))
		return false;
	if (failed == NULL)
		return true;
	pg_error_to(err, failed, as->anonymous);
	PQclear(failed);
	return false;
}

static void
json_string_array(Buf *b, const char *const *items, int n)
{
	buf_putc(b, '[');
	for (int i = 0; i < n; i++)
	{
		buf_printf(b, "%s\"", i ? "," : "");
		buf_json_escape(b, items[i] ? items[i] : "");
		buf_putc(b, '"');
	}
	buf_putc(b, ']');
}

/*
 * One JSON line with the transaction's statements, their parameters and where the Syncs go
 * (log-sql; bench/api/pgbench_anchor.mjs replays it).  Credentials in request.headers and
 * cookie values are logged as "***".
 */
static void
log_transaction(Request *req, const TxPlan *tx)
{
	Buf			b;

	buf_init(&b);
	buf_printf(&b, "{\"event\":\"sql\",\"request_id\":\"%s\",\"tx\":[", req->request_id);
	for (int i = 0; i < tx->n; i++)
	{
		buf_printf(&b, "%s{\"sql\":\"", i ? "," : "");
		buf_json_escape(&b, tx->stmts[i].sql);
		buf_puts(&b, "\",\"params\":");
		json_string_array(&b, i == tx->setup_index && tx->setup_logged[0] ? tx->setup_logged :
						  tx->stmts[i].params, tx->stmts[i].nparams);
		buf_printf(&b, ",\"sync\":%s}", (tx->sync_after & (1u << i)) || i == tx->n - 1 ? "true" : "false");
	}
	buf_puts(&b, "]}\n");
	fputs(b.data, stderr);
	buf_free(&b);
}

/* Adds tx=... to Preference-Applied (one header, like PostgREST). */
static void
preference_applied(Request *req, Response *resp, const char *pref)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (strcmp(resp->headers[i].name, "Preference-Applied") == 0)
		{
			size_t		n = strlen(resp->headers[i].value) + strlen(pref) + 3;
			char	   *v = arena_alloc(&req->arena, n);

			snprintf(v, n, "%s, %s", resp->headers[i].value, pref);
			resp->headers[i].value = v;
			return;
		}
	response_header(req, resp, "Preference-Applied", pref);
}

/* After a committed write: the LSN that covers it, for read-your-writes on replicas. */
static void
lsn_header(Request *req, Response *resp, PGresult *lsn)
{
	if (lsn && PQresultStatus(lsn) == PGRES_TUPLES_OK && PQntuples(lsn) == 1)
		response_header(req, resp, "Freight-LSN", arena_strdup(&req->arena, PQgetvalue(lsn, 0, 0)));
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

/* The plan EXPLAIN returned: one JSON document, or the lines of the text format. */
static void
plan_response(Request *req, Response *resp, PGresult *res, const Exec *ex)
{
	(void) req;
	resp->status = 200;
	resp->content_type = ex->ctype;
	for (int i = 0; ex->body_wanted && i < PQntuples(res); i++)
	{
		buf_add(&resp->body, PQgetvalue(res, i, 0), (size_t) PQgetlength(res, i, 0));
		if (PQntuples(res) > 1)
			buf_putc(&resp->body, '\n');
	}
}

/*
 * The rows counted break the request's constraint: 406 PGRST116 for a singular response without
 * exactly one row, else 400 PGRST124 for more rows affected than Prefer: max-affected allows.
 */
static void
row_count_error(Request *req, Response *resp, long long count, bool singular)
{
	ApiError	err;
	char		det[80];

	if (singular)
	{
		snprintf(det, sizeof(det), "The result contains %lld rows", count);
		api_error(&err, 406, "PGRST116", "JSON object requested, multiple (or no) rows returned", det, NULL);
	}
	else
	{
		snprintf(det, sizeof(det), "The query affects %lld rows", count);
		api_error(&err, 400, "PGRST124", "Query result exceeds max-affected preference constraint", det, NULL);
	}
	response_error(req, resp, &err);
}

/*
 * The response from a pipeline's results.  open: the connection whose transaction was left
 * open to check the rows affected (see rest_run_statement), NULL when it has ended.
 */
static void
statement_outcome(Request *req, Response *resp, TxPlan *tx, const Exec *ex, PgConn *open)
{
	long long	affected;
	PGresult   *main_res;
	PGresult   *failed;
	ApiError	err;
	char		errmsg[512];

	request_stage_done(req, STAGE_TRANSACTION);
	if ((failed = tx_failed(tx)) != NULL)
	{
		/* a failed explicit transaction has been rolled back too */
		pg_error(req, resp, failed, ex->auth->anonymous);
		return;
	}
	if (ex->explain)
	{
		plan_response(req, resp, tx->stmts[tx->main].result, ex);
		return;
	}
	main_res = tx->stmts[tx->main].result;
	if (PQresultStatus(main_res) != PGRES_TUPLES_OK || PQntuples(main_res) != 1)
	{
		api_error(&err, 500, "PGRSTX00", "unexpected result from the database", NULL, NULL);
		response_error(req, resp, &err);
		return;
	}
	affected = atoll(PQgetvalue(main_res, 0, 1));
	if ((ex->singular && affected != 1) || (ex->max_affected >= 0 && affected > ex->max_affected))
	{
		if (open)
		{
			PGresult   *r;

			pg_finish(open, false, &r);
			PQclear(r);
		}
		row_count_error(req, resp, affected, ex->singular && affected != 1);
		return;
	}
	if (open)
	{
		PGresult   *r;

		if (!pg_finish(open, !tx->rollback, &r) || PQresultStatus(r) != PGRES_COMMAND_OK)
		{
			if (r)
				pg_error(req, resp, r, ex->auth->anonymous);
			else
			{
				api_error(&err, 503, "PGRST001", "Database client error", NULL, NULL);
				response_error(req, resp, &err);
			}
			PQclear(r);
			return;
		}
		PQclear(r);
		if (!tx->rollback && ex->write)
		{
			PipeStmt	lsn = {replica_lsn_sql, NULL, 0, NULL};

			if (pg_pipeline(open, &lsn, 1, false, errmsg, sizeof(errmsg)))
				lsn_header(req, resp, lsn.result);
			PQclear(lsn.result);
		}
	}
	else if (tx->lsn >= 0)
		lsn_header(req, resp, tx->stmts[tx->lsn].result);
	if (tx->tx_applied)
		preference_applied(req, resp, tx->tx_applied);
	shape_response(req, resp, main_res, ex);
}

/* A statement handed to the pipelining executor, and what completing its response needs. */
typedef struct Deferred
{
	AsyncJob	job;
	Request    *req;
	TxPlan		tx;
	Exec		ex;
	Auth		auth;
	const char *error;			/* set when the executor lost or had no connection */
} Deferred;

static void
database_error(Request *req, Response *resp, const char *detail)
{
	ApiError	err;

	api_error(&err, 503, "PGRST001", "Database client error. Retrying the connection.", detail, NULL);
	response_error(req, resp, &err);
}

/* On the HTTP thread, after MHD resumed the connection (resp NULL: the request is gone). */
static void
deferred_resume(Request *req, Response *resp)
{
	Deferred   *d = req->resume_arg;

	if (resp && d->error)
		database_error(req, resp, d->error);
	else if (resp)
		statement_outcome(req, resp, &d->tx, &d->ex, NULL);
	tx_clear(&d->tx);
}

/*
 * On the executor thread (or on this one, when sending failed).  The HTTP side does not touch
 * req while it is suspended.
 */
static void
deferred_done(AsyncJob *job, const char *error)
{
	Deferred   *d = job->arg;

	if (error)
		d->error = arena_strdup(&d->req->arena, error);
	MHD_resume_connection(d->req->conn);
}

/*
 * The pipelining executor for this statement, or NULL when it must run on a borrowed
 * connection: a transaction that does not end at its Sync, a read that waits for a replica to
 * replay an LSN, or a caller that completes the response itself.
 */
static AsyncPool *
pipeline_for(Request *req, const TxPlan *tx, const Exec *ex, const char **served_by)
{
	bool		replica_read = ex->read_only && !ex->write && server.replica_pool != NULL;

	if (!ex->may_defer || server.pipeline == NULL || tx->leave_open || tx->rollback)
		return NULL;
	if (replica_read && request_header(req, "Freight-Min-LSN"))
		return NULL;
	if (replica_read && async_pool_connected(server.replica_pipeline) > 0)
	{
		*served_by = "replica";
		return server.replica_pipeline;
	}
	*served_by = "primary";
	return server.pipeline;
}

static void
run_deferred(Request *req, AsyncPool *pipe, TxPlan *tx, const Exec *ex)
{
	Deferred   *d = arena_alloc(&req->arena, sizeof(Deferred));

	d->req = req;
	d->tx = *tx;				/* the statements' SQL and parameters are sent before submit returns */
	d->auth = *ex->auth;
	d->ex = *ex;
	d->ex.auth = &d->auth;
	d->job.stmts = d->tx.stmts;
	d->job.n = d->tx.n;
	d->job.sync_after = d->tx.sync_after;
	d->job.done = deferred_done;
	d->job.arg = d;
	req->resume = deferred_resume;
	req->resume_arg = d;
	MHD_suspend_connection(req->conn);
	async_pool_submit(pipe, &d->job);
}

/*
 * One pipeline (see rest_tx.h), on the pipelining executor when it may, else on a borrowed
 * connection.  A singular write, or a write or volatile function with Prefer: max-affected,
 * leaves its transaction open, checks how many rows were affected (one; at most max-affected),
 * then ends it (commit, or rollback with tx=rollback or a failed check) and, after a commit,
 * asks for the LSN.
 */
void
rest_run_statement(Request *req, Response *resp, SqlStatement *st, const Exec *ex)
{
	RunAs		as = {ex->auth->role, ex->auth->claims, ex->schema, req->method, req->path,
	ex->auth->anonymous, ex->timezone};
	TxPlan		tx;
	Route		route;
	AsyncPool  *pipe;
	const char *served_by = NULL;
	char		errmsg[512];
	bool		checked = !ex->read_only && ((ex->write && ex->singular) || ex->max_affected >= 0);
	ApiError	err;
	const char *sql = st->sql.data;

	request_stage_done(req, STAGE_PARSE);
	if (ex->explain)
	{
		char	   *explained = arena_alloc(&req->arena, strlen(ex->explain) + st->sql.len + 1);

		strcpy(explained, ex->explain);
		strcat(explained, st->sql.data);
		sql = explained;
	}
	tx_plan(&tx, &req->arena, req, &as, ex->read_only, ex->write, checked, sql, st->params, st->nparams);
	if (server.cfg.log_sql)
		log_transaction(req, &tx);
	if ((pipe = pipeline_for(req, &tx, ex, &served_by)) != NULL)
	{
		response_header(req, resp, "Freight-Served-By", served_by);
		run_deferred(req, pipe, &tx, ex);
		return;
	}
	if (!route_acquire(req, ex->read_only && !ex->write, &route, &err))
	{
		response_error(req, resp, &err);
		return;
	}
	response_header(req, resp, "Freight-Served-By", route.served_by);
	if (!pg_pipeline_segments(route.conn, tx.stmts, tx.n, tx.sync_after, tx.leave_open, errmsg,
							  sizeof(errmsg)))
		database_error(req, resp, errmsg);
	else
		statement_outcome(req, resp, &tx, ex, checked ? route.conn : NULL);
	tx_clear(&tx);
	route_release(&route);
}
