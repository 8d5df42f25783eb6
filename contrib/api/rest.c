/*
 * rest.c — the PostgREST routes /api/<relation> and /api/rpc/<function>: headers and body ->
 * SqlRequest -> one statement -> one pipeline -> HTTP response (see rest_request.c,
 * sql_build.c and rest_exec.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openapi.h"
#include "rest_internal.h"

/* PUT: the filters must be one eq per primary-key column and nothing else (405 PGRST105). */
static bool
check_put_filters(const ScRelation *rel, const QpQuery *q, ApiError *err)
{
	bool		ok = rel->npk > 0 && q->nfilters == rel->npk;

	for (int i = 0; i < q->nfilters && ok; i++)
	{
		const QpCond *cond = q->filters[i].cond;
		bool		is_pk = false;

		ok = q->filters[i].path[0] == '\0' && cond->kind == QP_LEAF && !cond->negate &&
			cond->op == QP_EQ && cond->quant == QP_QUANT_NONE && cond->field.njson == 0;
		for (int k = 0; k < rel->npk && ok && !is_pk; k++)
			is_pk = strcmp(rel->pk[k], cond->field.name) == 0;
		for (int j = 0; j < i && ok && is_pk; j++)
			is_pk = strcmp(q->filters[j].cond->field.name, cond->field.name) != 0;
		ok = ok && is_pk;
	}
	if (ok)
		return true;
	return api_error(err, 405, "PGRST105",
					 "Filters must include all and only primary key columns with 'eq' operators",
					 rel->npk ? NULL : "the relation has no primary key",
					 "PUT /relation?pk=eq.value with the whole row, including the key, as the body.");
}

/* missing=default: at most this many different column sets (one INSERT each) per request */
#define MAX_ROW_GROUPS 16

/*
 * missing=default for an INSERT: the rows grouped by which of cols they have, so each group's
 * INSERT leaves the others to their DEFAULT.  400 PGRST102 beyond MAX_ROW_GROUPS sets.
 */
static bool
group_rows(Request *req, json_t *body, const char *const *cols, int ncols, SqlRequest *sr,
		   ApiError *err)
{
	size_t		nrows = json_is_array(body) ? json_array_size(body) : 1;
	SqlRowGroup *groups = arena_alloc(&req->arena, sizeof(SqlRowGroup) * MAX_ROW_GROUPS);
	char	   *patterns[MAX_ROW_GROUPS];	/* 'y'/'n' per column: which keys the group has */
	json_t	   *members[MAX_ROW_GROUPS];
	char	   *pattern = arena_alloc(&req->arena, (size_t) ncols + 1);
	int			ngroups = 0;
	bool		ok = true;

	for (size_t r = 0; r < nrows && ok; r++)
	{
		json_t	   *row = json_is_array(body) ? json_array_get(body, r) : body;
		int			g;

		for (int c = 0; c < ncols; c++)
			pattern[c] = json_object_get(row, cols[c]) ? 'y' : 'n';
		for (g = 0; g < ngroups && strcmp(pattern, patterns[g]) != 0; g++)
			;
		if (g == MAX_ROW_GROUPS)
		{
			ok = api_error(err, 400, "PGRST102", "Too many different sets of keys with missing=default",
						   "at most 16 per request", "Send rows with the same keys together, in several requests.");
			break;
		}
		if (g == ngroups)
		{
			const char **gcols = arena_alloc(&req->arena, sizeof(char *) * (size_t) (ncols + 1));

			patterns[g] = arena_strdup(&req->arena, pattern);
			groups[g].cols = gcols;
			for (int c = 0; c < ncols; c++)
				if (pattern[c] == 'y')
					gcols[groups[g].ncols++] = cols[c];
			members[g] = json_array();
			ngroups++;
		}
		json_array_append(members[g], row);
	}
	for (int g = 0; g < ngroups; g++)
	{
		char	   *text = json_dumps(members[g], JSON_COMPACT);

		groups[g].rows = arena_strdup(&req->arena, text);
		free(text);
		json_decref(members[g]);
	}
	sr->groups = groups;
	sr->ngroups = ngroups;
	return ok;
}

/* missing=default for PATCH: columns= names absent from the body are SET to DEFAULT. */
static void
split_default_cols(Request *req, json_t *body, const QpQuery *q, SqlRequest *sr)
{
	const char **present = arena_alloc(&req->arena, sizeof(char *) * (size_t) (q->ncolumns + 1));
	const char **absent = arena_alloc(&req->arena, sizeof(char *) * (size_t) (q->ncolumns + 1));
	int			np = 0, na = 0;

	for (int i = 0; i < q->ncolumns; i++)
	{
		if (json_object_get(body, q->columns[i]))
			present[np++] = q->columns[i];
		else
			absent[na++] = q->columns[i];
	}
	sr->body_cols = present;
	sr->nbody_cols = np;
	sr->default_cols = absent;
	sr->ndefault_cols = na;
}

/*
 * POST/PATCH/PUT/DELETE: the action, the statuses, and the body (JSON, CSV or form; an object
 * becomes a one-row array for INSERT and PUT; its keys, or columns=, are the columns written).
 * *body is for the caller to free.
 */
static bool
setup_write(Request *req, const Prefs *prefs, const QpQuery *q, SqlRequest *sr, Exec *ex,
			json_t **body, ApiError *err)
{
	const char **cols = NULL;
	int			ncols = 0;
	const char *text;
	bool		post = strcmp(req->method, "POST") == 0;
	bool		put = strcmp(req->method, "PUT") == 0;

	ex->write = true;
	ex->body_wanted = prefs->ret == RETURN_REPRESENTATION;
	ex->ok_status = post ? 201 : (ex->body_wanted ? 200 : 204);
	sr->action = post ? SQL_INSERT : put ? SQL_PUT :
		strcmp(req->method, "PATCH") == 0 ? SQL_UPDATE : SQL_DELETE;
	sr->upsert = prefs->merge_duplicates;
	sr->ignore_duplicates = prefs->ignore_duplicates && !put;
	if (!ex->body_wanted)
		sr->shape = SHAPE_NONE;
	if (put && !check_put_filters(sr->rel, q, err))
		return false;
	if (sr->action == SQL_DELETE)
		return true;
	*body = rest_parse_body(req, sr->action == SQL_INSERT, true, &text, &cols, &ncols, err);
	if (*body == NULL)
		return false;
	sr->body_cols = q->ncolumns > 0 ? q->columns : cols;
	sr->nbody_cols = q->ncolumns > 0 ? q->ncolumns : ncols;
	if (json_is_object(*body) && sr->action != SQL_UPDATE)
	{
		size_t		n = strlen(text);
		char	   *wrapped = arena_alloc(&req->arena, n + 3);

		wrapped[0] = '[';
		memcpy(wrapped + 1, text, n);
		wrapped[n + 1] = ']';
		text = wrapped;
	}
	sr->body = text;
	if (prefs->missing_default && sr->action == SQL_INSERT)
		return group_rows(req, *body, sr->body_cols, sr->nbody_cols, sr, err);
	if (prefs->missing_default && sr->action == SQL_UPDATE && q->ncolumns > 0)
		split_default_cols(req, *body, q, sr);
	return true;
}

/*
 * count=planned: the planner's row estimate for the filtered relation (EXPLAIN (FORMAT JSON),
 * as PostgREST does), run as the request's role.
 */
static bool
planned_total(Request *req, const Auth *auth, const char *schema, const SqlRequest *sr,
			  long long *total, ApiError *err)
{
	SqlRequest	pr = *sr;
	SqlStatement st;
	RunAs		as = {auth->role, auth->claims, schema, req->method, req->path, auth->anonymous};
	PGresult   *res = NULL;
	json_t	   *plan = NULL;
	json_t	   *rows;
	bool		ok;

	pr.plan_count = true;
	pr.shape = SHAPE_NONE;
	pr.count_exact = false;
	ok = sql_build(&req->arena, &pr, &st, err) &&
		rest_query_as(&as, st.sql.data, st.params, st.nparams, &res, err);
	buf_free(&st.sql);
	if (ok)
		plan = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	rows = json_object_get(json_object_get(json_array_get(plan, 0), "Plan"), "Plan Rows");
	if (ok && !json_is_number(rows))
		ok = api_error(err, 500, "PGRSTX00", "could not read the row estimate from the plan", NULL, NULL);
	if (ok)
		*total = (long long) (json_number_value(rows) + 0.5);
	json_decref(plan);
	PQclear(res);
	return ok;
}

/* Prefer: count= -> the total the statement reports (exact, or known from the plan). */
static bool
choose_count(Request *req, const Prefs *prefs, const Auth *auth, const char *schema,
			 bool read, SqlRequest *sr, ApiError *err)
{
	long long	planned;

	sr->count_exact = prefs->count != COUNT_NONE;
	if (!read || (prefs->count != COUNT_PLANNED && prefs->count != COUNT_ESTIMATED))
		return true;
	if (prefs->count == COUNT_ESTIMATED && server.cfg.db_max_rows <= 0)
		return true;
	if (!planned_total(req, auth, schema, sr, &planned, err))
		return false;
	if (prefs->count == COUNT_PLANNED || planned > server.cfg.db_max_rows)
	{
		sr->count_exact = false;
		sr->has_known_total = true;
		sr->known_total = planned;
	}
	return true;
}

/*
 * After a PUT: the statement counted the rows it wrote (the total of Content-Range).  None: the body
 * row did not match the URL's key, so nothing was written: 400 PGRST115 as PostgREST answers.
 */
static void
put_outcome(Request *req, Response *resp, bool count_wanted)
{
	ApiError	err;

	for (int i = 0; i < resp->nheaders; i++)
	{
		if (strcasecmp(resp->headers[i].name, "Content-Range") != 0)
			continue;
		if (resp->status < 300 && strcmp(resp->headers[i].value, "*/0") == 0)
		{
			resp->headers[i] = resp->headers[--resp->nheaders];
			api_error(&err, 400, "PGRST115", "Payload values do not match URL in primary key column(s)",
					  NULL, "Give the same primary-key values in the body and in the eq filters.");
			response_error(req, resp, &err);
		}
		else if (!count_wanted)
			resp->headers[i].value = "*/*";
		return;
	}
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
	Prefs		prefs = {0};
	Exec		ex;
	json_t	   *body = NULL;

	memset(&sr, 0, sizeof(sr));
	memset(&ex, 0, sizeof(ex));
	if (!is_get && strcmp(req->method, "POST") != 0 && strcmp(req->method, "PATCH") != 0 &&
		strcmp(req->method, "PUT") != 0 && strcmp(req->method, "DELETE") != 0)
	{
		api_error(&err, 405, "PGRST117", "Unsupported HTTP method", req->method, NULL);
		response_error(req, resp, &err);
		goto out;
	}
	if (!rest_prepare(req, resp, sc, write, &auth, &schema, &pairs, &npairs) ||
		!rest_parse_query(req, resp, pairs, npairs, NULL, &q))
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
	if (!rest_parse_accept(req, &sr.shape, &ex.ctype))
	{
		api_error(&err, 406, "PGRST107", "None of these media types are available", request_header(req, "Accept"), NULL);
		response_error(req, resp, &err);
		goto out;
	}
	ex.singular = sr.shape == SHAPE_OBJECT;
	if (!rest_parse_prefer(req, &prefs, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	sr.sc = sc;
	sr.q = &q;
	if (!rest_paging(req, resp, &q, &sr))
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
	else if (!setup_write(req, &prefs, &q, &sr, &ex, &body, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (strcmp(req->method, "HEAD") == 0)
		sr.shape = SHAPE_NONE;
	ex.shape = sr.shape;
	if (!choose_count(req, &prefs, &auth, schema, is_get, &sr, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	sr.count_exact |= sr.action == SQL_PUT;	/* for put_outcome */
	if (!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (prefs.applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, prefs.applied.data));
	rest_run_statement(req, resp, &st, &ex);
	if (sr.action == SQL_PUT)
		put_outcome(req, resp, prefs.count != COUNT_NONE);
out:
	if (st.sql.data)
		buf_free(&st.sql);
	prefs_free(&prefs);
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

/*
 * The overload of schema.name whose argument names are exactly covered by keys (PostgREST
 * resolves by names); failing that, for a POST, a single unnamed json/jsonb argument that takes
 * the whole body.  404 PGRST202 when none fits, 300 PGRST203 when several do.
 */
static bool
resolve_function(const SchemaCache *sc, const char *schema, const char *name,
				 const char *const *keys, int nkeys, bool whole_body_ok, SqlRequest *sr,
				 ApiError *err)
{
	int			nmatches;
	char		msg[400];
	Buf			k;

	sr->func = sc_find_function(sc, schema, name, keys, nkeys, &nmatches);
	for (int f = 0; f < sc->nfuncs && sr->func == NULL && whole_body_ok; f++)
	{
		const ScFunction *fn = &sc->funcs[f];

		if (strcmp(fn->name, name) == 0 && strcmp(fn->schema, schema) == 0 && fn->nargs == 1 &&
			fn->args[0].name[0] == '\0' &&
			(strcmp(fn->args[0].type, "json") == 0 || strcmp(fn->args[0].type, "jsonb") == 0))
		{
			sr->func = fn;
			sr->rpc_whole_body = true;
			nmatches = 1;
		}
	}
	if (sr->func != NULL && nmatches == 1)
		return true;
	if (nmatches > 1)
	{
		snprintf(msg, sizeof(msg), "Could not choose the best candidate function between overloads of %s.%s", schema, name);
		return api_error(err, 300, "PGRST203", msg, NULL, "Rename or remove overloads with the same argument names.");
	}
	buf_init(&k);
	for (int i = 0; i < nkeys; i++)
		buf_printf(&k, "%s%s", i ? ", " : "", keys[i]);
	snprintf(msg, sizeof(msg), "Could not find the function %s.%s(%s) in the schema cache", schema, name, k.data);
	buf_free(&k);
	return api_error(err, 404, "PGRST202", msg, NULL,
					 whole_body_ok ? "The function exists with other argument names." : NULL);
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
	Prefs		prefs = {0};
	Exec		ex;
	json_t	   *body = NULL;
	bool	   *skip;
	bool		exists;
	const char **keys = NULL;
	const char **values = NULL;
	const char *body_text = "{}";
	int			nkeys = 0, cap = 0, vcap = 0, nvalues = 0;

	memset(&sr, 0, sizeof(sr));
	memset(&ex, 0, sizeof(ex));
	if (!is_get && strcmp(req->method, "POST") != 0)
	{
		api_error(&err, 405, "PGRST101", "Only GET, HEAD and POST are allowed for functions", NULL, NULL);
		response_error(req, resp, &err);
		goto out;
	}
	if (!rest_prepare(req, resp, sc, !is_get, &auth, &schema, &pairs, &npairs))
		goto out;
	skip = rpc_arg_pairs(req, sc, schema, name, pairs, npairs, &exists);
	if (!rest_parse_query(req, resp, pairs, npairs, skip, &q))
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
		body = rest_parse_body(req, false, false, &body_text, &keys, &nkeys, &err);
		if (body == NULL)
		{
			response_error(req, resp, &err);
			goto out;
		}
	}
	if (!resolve_function(sc, schema, name, keys, nkeys, !is_get && exists, &sr, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (!rest_parse_accept(req, &sr.shape, &ex.ctype))
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
	if (!rest_parse_prefer(req, &prefs, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	sr.action = SQL_RPC;
	sr.sc = sc;
	sr.q = &q;
	sr.count_exact = prefs.count != COUNT_NONE && sr.func->retset && sr.func->ret_composite;
	sr.arg_names = keys;
	sr.nargs = nkeys;
	sr.arg_values = is_get ? values : NULL;
	sr.body = body_text;
	if (!rest_paging(req, resp, &q, &sr))
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
	if (prefs.applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, prefs.applied.data));
	rest_run_statement(req, resp, &st, &ex);
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
	prefs_free(&prefs);
	json_decref(body);
	server_cache_release(sc);
}

void
rest_openapi(Request *req, Response *resp, const char *arg)
{
	SchemaCache *sc = server_cache_acquire();
	Auth		auth;
	const char *schema;
	const QpPair *pairs;
	int			npairs;
	PGresult   *res = NULL;
	json_t	   *access = NULL;
	ApiError	err;

	(void) arg;
	if (rest_prepare(req, resp, sc, false, &auth, &schema, &pairs, &npairs))
	{
		RunAs		as = {auth.role, auth.claims, schema, req->method, req->path, auth.anonymous};
		const char *params[1] = {schema};

		if (rest_query_as(&as, openapi_access_query, params, 1, &res, &err) &&
			(access = json_loads(PQgetvalue(res, 0, 0), 0, NULL)) == NULL)
			api_error(&err, 500, "PGRSTX00", "could not read the role's privileges", NULL, NULL);
		if (access == NULL)
			response_error(req, resp, &err);
		else
		{
			resp->content_type = "application/openapi+json; charset=utf-8";
			/* the document depends on the role: only the anonymous one is the same for all */
			resp->cache_control = auth.anonymous ? "public, max-age=60" : "private, max-age=60";
			openapi_render(sc, schema, access, &resp->body);
		}
	}
	json_decref(access);
	PQclear(res);
	server_cache_release(sc);
}
