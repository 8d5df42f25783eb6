/*
 * rest.c — one PostgREST request end to end: headers (Accept, Prefer, Range, profiles) and
 * body -> SqlRequest -> one statement -> one pipeline (BEGIN; role and claims; the statement;
 * COMMIT) -> HTTP status, Content-Range and the body PostgreSQL built.
 */
#include "rest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "replica.h"
#include "sql_build.h"

typedef enum ReturnPref
{
	RETURN_DEFAULT, RETURN_MINIMAL, RETURN_REPRESENTATION, RETURN_HEADERS_ONLY
} ReturnPref;

typedef struct Prefs
{
	ReturnPref	ret;
	bool		count;
	bool		merge_duplicates;
	bool		ignore_duplicates;
	bool		tx_rollback;
} Prefs;

static void
parse_prefer(Request *req, Prefs *p, Buf *applied)
{
	const char *h = request_header(req, "Prefer");
	char	   *copy, *save = NULL;

	memset(p, 0, sizeof(*p));
	if (h == NULL)
		return;
	copy = arena_strdup(&req->arena, h);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		bool		known = true;

		while (*tok == ' ')
			tok++;
		if (strcmp(tok, "return=minimal") == 0)
			p->ret = RETURN_MINIMAL;
		else if (strcmp(tok, "return=representation") == 0)
			p->ret = RETURN_REPRESENTATION;
		else if (strcmp(tok, "return=headers-only") == 0)
			p->ret = RETURN_HEADERS_ONLY;
		else if (strncmp(tok, "count=", 6) == 0)
			p->count = true;	/* exact; planned and estimated are answered exactly too */
		else if (strcmp(tok, "resolution=merge-duplicates") == 0)
			p->merge_duplicates = true;
		else if (strcmp(tok, "resolution=ignore-duplicates") == 0)
			p->ignore_duplicates = true;
		else
			known = false;
		if (known)
			buf_printf(applied, "%s%s", applied->len ? ", " : "", tok);
	}
}

/* Accept -> shape; false for media types we cannot produce (406). */
static bool
parse_accept(Request *req, SqlShape *shape, const char **ctype)
{
	const char *h = request_header(req, "Accept");

	*shape = SHAPE_ARRAY;
	*ctype = "application/json; charset=utf-8";
	if (h == NULL || h[0] == '\0')
		return true;
	if (strstr(h, "application/vnd.pgrst.object"))
	{
		*shape = SHAPE_OBJECT;
		*ctype = "application/vnd.pgrst.object+json; charset=utf-8";
		return true;
	}
	if (strstr(h, "text/csv"))
	{
		*shape = SHAPE_CSV;
		*ctype = "text/csv; charset=utf-8";
		return true;
	}
	return strstr(h, "application/json") || strstr(h, "*/*") ||
		strstr(h, "application/vnd.pgrst.array") || strstr(h, "application/*");
}

/* Range: 0-24 -> offset/limit (-1 when absent); false when malformed. */
static bool
parse_range(Request *req, long long *offset, long long *limit)
{
	const char *h = request_header(req, "Range");
	long long	first, last = -1;
	int			n;
	char		tail;

	*offset = -1;
	*limit = -1;
	if (h == NULL)
		return true;
	if (strncmp(h, "items=", 6) == 0)
		h += 6;
	n = sscanf(h, "%lld-%lld%c", &first, &last, &tail);
	if (n == 1 && h[strlen(h) - 1] == '-')
		last = -1;
	else if (n != 2)
		return false;
	if (first < 0 || (last >= 0 && last < first))
		return false;
	*offset = first;
	if (last >= 0)
		*limit = last - first + 1;
	return true;
}

/* The schema from Accept-Profile / Content-Profile, else the first exposed one. */
static const char *
pick_schema(Request *req, bool write, ApiError *err)
{
	const char *h = request_header(req, write ? "Content-Profile" : "Accept-Profile");

	if (h == NULL)
		return server.schemas[0];
	for (int i = 0; i < server.nschemas; i++)
		if (strcmp(server.schemas[i], h) == 0)
			return server.schemas[i];
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "The schema must be one of the following: %s", server.cfg.db_schemas);
		api_error(err, 406, "PGRST106", msg, NULL, NULL);
	}
	return NULL;
}

static bool
require_json_body(Request *req, ApiError *err)
{
	const char *ct = request_header(req, "Content-Type");

	if (ct && strncasecmp(ct, "application/json", 16) != 0)
		return api_error(err, 415, "PGRST107", "Content-Type must be application/json", ct, NULL);
	return true;
}

/* Parses the JSON body; collects object keys (union, first-seen order) into names. */
static json_t *
parse_body(Request *req, bool allow_array, const char ***names, int *nnames, ApiError *err)
{
	json_error_t jerr;
	json_t	   *root;
	int			cap = 0;
	size_t		idx;
	json_t	   *obj;

	*names = NULL;
	*nnames = 0;
	if (!require_json_body(req, err))
		return NULL;
	root = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
	{
		char		det[300];

		snprintf(det, sizeof(det), "%s at line %d, column %d", jerr.text, jerr.line, jerr.column);
		api_error(err, 400, "PGRST102", "Empty or invalid json", det, NULL);
		return NULL;
	}
	if (!(json_is_object(root) || (allow_array && json_is_array(root))))
	{
		json_decref(root);
		api_error(err, 400, "PGRST102", allow_array ? "Expected a JSON object or an array of objects"
				  : "Expected a JSON object", NULL, NULL);
		return NULL;
	}
	json_array_foreach(json_is_array(root) ? root : NULL, idx, obj)
		if (!json_is_object(obj))
		{
			json_decref(root);
			api_error(err, 400, "PGRST102", "All array elements must be JSON objects", NULL, NULL);
			return NULL;
		}
	for (size_t i = 0; i < (json_is_array(root) ? json_array_size(root) : 1); i++)
	{
		json_t	   *o = json_is_array(root) ? json_array_get(root, i) : root;
		const char *key;
		json_t	   *v;

		json_object_foreach(o, key, v)
		{
			bool		seen = false;

			for (int k = 0; k < *nnames && !seen; k++)
				seen = strcmp((*names)[k], key) == 0;
			if (!seen)
				*(const char **) arena_push(&req->arena, (void **) names, nnames, &cap,
											sizeof(char *)) = arena_strdup(&req->arena, key);
		}
	}
	return root;
}

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

/* Everything needed to run one statement and shape its response. */
typedef struct Exec
{
	const Auth *auth;
	const char *schema;
	bool		read_only;
	bool		write;
	SqlShape	shape;
	bool		singular;		/* Accept: vnd.pgrst.object: exactly one row or 406 */
	const char *ctype;
	long long	first;			/* offset of the first row, for Content-Range */
	int			ok_status;		/* 200, 201 */
	bool		body_wanted;
} Exec;

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
static void
run_statement(Request *req, Response *resp, SqlStatement *st, const Exec *ex)
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

/* Common front half: auth, schema, parse.  Returns false after filling resp with the error. */
static bool
prepare(Request *req, Response *resp, const SchemaCache *sc, bool write, Auth *auth,
		const char **schema, const QpPair **pairs, int *npairs)
{
	ApiError	err;
	QpError		qerr;
	QpPair	   *p;

	if (!auth_request(req, sc, auth, &err) || (*schema = pick_schema(req, write, &err)) == NULL)
	{
		response_error(req, resp, &err);
		auth_rate_headers(req, resp, auth, req->retry_after);
		return false;
	}
	auth_rate_headers(req, resp, auth, NULL);
	req->role = auth->role;
	if (!qp_decode_pairs(&req->arena, req->query, &p, npairs, &qerr))
	{
		api_error(&err, 400, "PGRST100", qerr.message, qerr.details, NULL);
		response_error(req, resp, &err);
		return false;
	}
	*pairs = p;
	return true;
}

static bool
parse_query(Request *req, Response *resp, const QpPair *pairs, int npairs, const bool *skip,
			QpQuery *q)
{
	QpError		qerr;
	ApiError	err;

	if (qp_parse(&req->arena, pairs, npairs, skip, q, &qerr))
		return true;
	api_error(&err, 400, "PGRST100", qerr.message, qerr.details, NULL);
	response_error(req, resp, &err);
	return false;
}

/* Merges offset=/limit=, the Range header and db-max-rows into sr. */
static bool
paging(Request *req, Response *resp, const QpQuery *q, SqlRequest *sr)
{
	long long	roff, rlim;
	ApiError	err;

	sr->offset = 0;
	sr->limit = -1;
	if (!parse_range(req, &roff, &rlim))
	{
		api_error(&err, 416, "PGRST103", "Requested range not satisfiable", "bad Range header", NULL);
		response_error(req, resp, &err);
		return false;
	}
	for (int i = 0; i < q->nlimits; i++)
		if (q->limits[i].path[0] == '\0')
			sr->limit = q->limits[i].value;
	for (int i = 0; i < q->noffsets; i++)
		if (q->offsets[i].path[0] == '\0')
			sr->offset = q->offsets[i].value;
	if (roff >= 0)
	{
		sr->offset += roff;
		if (rlim >= 0 && (sr->limit < 0 || rlim < sr->limit))
			sr->limit = rlim;
	}
	if (server.cfg.db_max_rows > 0 && (sr->limit < 0 || sr->limit > server.cfg.db_max_rows))
		sr->limit = server.cfg.db_max_rows;
	return true;
}

void
rest_relation(Request *req, Response *resp, const char *name)
{
	SchemaCache *sc = server_cache_acquire();
	bool		is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool		write = !is_get;
	Auth		auth;
	const char *schema;
	const QpPair *pairs;
	int			npairs;
	QpQuery		q;
	SqlRequest	sr;
	SqlStatement st = {0};
	ApiError	err;
	Prefs		prefs;
	Buf			applied;
	Exec		ex;
	json_t	   *body = NULL;

	buf_init(&applied);
	memset(&sr, 0, sizeof(sr));
	memset(&ex, 0, sizeof(ex));
	if (!is_get && strcmp(req->method, "POST") != 0 && strcmp(req->method, "PATCH") != 0 &&
		strcmp(req->method, "DELETE") != 0)
	{
		api_error(&err, 405, "PGRST117", "Unsupported HTTP method", req->method, NULL);
		response_error(req, resp, &err);
		goto out;
	}
	if (!prepare(req, resp, sc, write, &auth, &schema, &pairs, &npairs) ||
		!parse_query(req, resp, pairs, npairs, NULL, &q))
		goto out;
	sr.rel = sc_find_relation(sc, schema, name);
	if (sr.rel == NULL)
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "relation \"%s.%s\" does not exist", schema, name);
		api_error(&err, 404, "42P01", msg, NULL, "Check the name; only the views and tables of the exposed schemas are served.");
		response_error(req, resp, &err);
		goto out;
	}
	if (!parse_accept(req, &sr.shape, &ex.ctype))
	{
		api_error(&err, 406, "PGRST107", "None of these media types are available", request_header(req, "Accept"), NULL);
		response_error(req, resp, &err);
		goto out;
	}
	ex.singular = sr.shape == SHAPE_OBJECT;
	parse_prefer(req, &prefs, &applied);
	sr.sc = sc;
	sr.q = &q;
	sr.count_exact = prefs.count;
	if (!paging(req, resp, &q, &sr))
		goto out;
	ex.auth = &auth;
	ex.schema = schema;
	ex.first = sr.offset;
	if (is_get)
	{
		sr.action = SQL_READ;
		ex.read_only = true;
		ex.ok_status = 200;
		ex.body_wanted = strcmp(req->method, "HEAD") != 0;
	}
	else
	{
		const char **cols;
		int			ncols = 0;

		ex.write = true;
		ex.body_wanted = prefs.ret == RETURN_REPRESENTATION;
		ex.ok_status = ex.body_wanted ? (strcmp(req->method, "POST") == 0 ? 201 : 200)
			: (strcmp(req->method, "POST") == 0 ? 201 : 204);
		sr.action = strcmp(req->method, "POST") == 0 ? SQL_INSERT :
			strcmp(req->method, "PATCH") == 0 ? SQL_UPDATE : SQL_DELETE;
		if (sr.action != SQL_DELETE)
		{
			body = parse_body(req, sr.action == SQL_INSERT, &cols, &ncols, &err);
			if (body == NULL)
			{
				response_error(req, resp, &err);
				goto out;
			}
			if (q.ncolumns > 0)
			{
				cols = q.columns;
				ncols = q.ncolumns;
			}
			sr.body_cols = cols;
			sr.nbody_cols = ncols;
			if (json_is_object(body) && sr.action == SQL_INSERT)
			{
				Buf			wrapped;

				buf_init(&wrapped);
				buf_putc(&wrapped, '[');
				buf_add(&wrapped, req->body.data, req->body.len);
				buf_putc(&wrapped, ']');
				sr.body = arena_strdup(&req->arena, wrapped.data);
				buf_free(&wrapped);
			}
			else
				sr.body = arena_strndup(&req->arena, req->body.data, req->body.len);
		}
		sr.upsert = prefs.merge_duplicates;
		sr.ignore_duplicates = prefs.ignore_duplicates;
		if (!ex.body_wanted)
			sr.shape = SHAPE_NONE;
	}
	if (strcmp(req->method, "HEAD") == 0)
		sr.shape = SHAPE_NONE;
	ex.shape = sr.shape;
	if (!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, applied.data));
	run_statement(req, resp, &st, &ex);
out:
	if (st.sql.data)
		buf_free(&st.sql);
	buf_free(&applied);
	json_decref(body);
	server_cache_release(sc);
}

/* Marks the query pairs that are arguments of some overload of schema.name. */
static bool *
rpc_arg_pairs(Request *req, const SchemaCache *sc, const char *schema, const char *name,
			  const QpPair *pairs, int npairs, bool *exists)
{
	bool	   *skip = arena_alloc(&req->arena, sizeof(bool) * (size_t) (npairs + 1));

	*exists = false;
	for (int f = 0; f < sc->nfuncs; f++)
	{
		const ScFunction *fn = &sc->funcs[f];

		if (strcmp(fn->name, name) != 0 || strcmp(fn->schema, schema) != 0)
			continue;
		*exists = true;
		for (int i = 0; i < npairs; i++)
			for (int a = 0; a < fn->nargs; a++)
				if (fn->args[a].name[0] && strcmp(fn->args[a].name, pairs[i].key) == 0)
					skip[i] = true;
	}
	return skip;
}

void
rest_rpc(Request *req, Response *resp, const char *name)
{
	SchemaCache *sc = server_cache_acquire();
	bool		is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	Auth		auth;
	const char *schema;
	const QpPair *pairs;
	int			npairs;
	QpQuery		q;
	SqlRequest	sr;
	SqlStatement st = {0};
	ApiError	err;
	Prefs		prefs;
	Buf			applied;
	Exec		ex;
	json_t	   *body = NULL;
	bool	   *skip;
	bool		exists;
	const char **keys = NULL;
	const char **values = NULL;
	int			nkeys = 0, cap = 0, vcap = 0, nvalues = 0;
	int			nmatches;

	buf_init(&applied);
	memset(&sr, 0, sizeof(sr));
	memset(&ex, 0, sizeof(ex));
	if (!is_get && strcmp(req->method, "POST") != 0)
	{
		api_error(&err, 405, "PGRST101", "Only GET, HEAD and POST are allowed for functions", NULL, NULL);
		response_error(req, resp, &err);
		goto out;
	}
	if (!prepare(req, resp, sc, !is_get, &auth, &schema, &pairs, &npairs))
		goto out;
	skip = rpc_arg_pairs(req, sc, schema, name, pairs, npairs, &exists);
	if (!parse_query(req, resp, pairs, npairs, skip, &q))
		goto out;
	if (is_get)
	{
		for (int i = 0; i < npairs; i++)
			if (skip[i])
			{
				*(const char **) arena_push(&req->arena, (void **) &keys, &nkeys, &cap, sizeof(char *)) = pairs[i].key;
				*(const char **) arena_push(&req->arena, (void **) &values, &nvalues, &vcap, sizeof(char *)) = pairs[i].value;
			}
	}
	else if (req->body.len > 0)
	{
		body = parse_body(req, false, &keys, &nkeys, &err);
		if (body == NULL)
		{
			response_error(req, resp, &err);
			goto out;
		}
	}
	sr.func = sc_find_function(sc, schema, name, keys, nkeys, &nmatches);
	if (sr.func == NULL && !is_get && exists)
	{
		/* a single unnamed json/jsonb parameter takes the whole body */
		for (int f = 0; f < sc->nfuncs && sr.func == NULL; f++)
		{
			const ScFunction *fn = &sc->funcs[f];

			if (strcmp(fn->name, name) == 0 && strcmp(fn->schema, schema) == 0 && fn->nargs == 1 &&
				fn->args[0].name[0] == '\0' &&
				(strcmp(fn->args[0].type, "json") == 0 || strcmp(fn->args[0].type, "jsonb") == 0))
			{
				sr.func = fn;
				sr.rpc_whole_body = true;
				nmatches = 1;
			}
		}
	}
	if (sr.func == NULL || nmatches > 1)
	{
		char		msg[400];
		Buf			k;

		buf_init(&k);
		for (int i = 0; i < nkeys; i++)
			buf_printf(&k, "%s%s", i ? ", " : "", keys[i]);
		if (nmatches > 1)
		{
			snprintf(msg, sizeof(msg), "Could not choose the best candidate function between overloads of %s.%s", schema, name);
			api_error(&err, 300, "PGRST203", msg, NULL, "Rename or remove overloads with the same argument names.");
		}
		else
		{
			snprintf(msg, sizeof(msg), "Could not find the function %s.%s(%s) in the schema cache", schema, name, k.data);
			api_error(&err, 404, "PGRST202", msg, NULL, exists ? "The function exists with other argument names." : NULL);
		}
		buf_free(&k);
		response_error(req, resp, &err);
		goto out;
	}
	if (!parse_accept(req, &sr.shape, &ex.ctype))
	{
		api_error(&err, 406, "PGRST107", "None of these media types are available", request_header(req, "Accept"), NULL);
		response_error(req, resp, &err);
		goto out;
	}
	if (sr.func->ret_composite && !sr.func->retset && sr.shape == SHAPE_ARRAY)
	{
		sr.shape = SHAPE_OBJECT;
		ex.ctype = "application/json; charset=utf-8";
	}
	ex.singular = sr.shape == SHAPE_OBJECT;
	parse_prefer(req, &prefs, &applied);
	sr.action = SQL_RPC;
	sr.sc = sc;
	sr.q = &q;
	sr.count_exact = prefs.count && sr.func->retset && sr.func->ret_composite;
	sr.arg_names = keys;
	sr.nargs = nkeys;
	sr.arg_values = is_get ? values : NULL;
	sr.body = req->body.len ? arena_strndup(&req->arena, req->body.data, req->body.len) : "{}";
	if (!paging(req, resp, &q, &sr))
		goto out;
	if (strcmp(req->method, "HEAD") == 0)
		sr.shape = SHAPE_NONE;
	ex.auth = &auth;
	ex.schema = schema;
	ex.first = sr.offset;
	ex.read_only = is_get || sr.func->volatility != 'v';
	ex.shape = sr.shape;
	ex.ok_status = 200;
	ex.body_wanted = strcmp(req->method, "HEAD") != 0;
	if (!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, applied.data));
	run_statement(req, resp, &st, &ex);
	if (sr.func->ret_void && resp->status == 200)
	{
		resp->status = 204;
		buf_reset(&resp->body);
	}
	if (!sr.func->ret_composite && resp->status < 300 && ex.shape == SHAPE_OBJECT)
		resp->content_type = "application/json; charset=utf-8";
out:
	if (st.sql.data)
		buf_free(&st.sql);
	buf_free(&applied);
	json_decref(body);
	server_cache_release(sc);
}
