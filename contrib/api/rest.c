/*
 * rest.c — the PostgREST routes /api/<relation>, /api/rpc/<function> and the OpenAPI document
 * at /api/: headers and body -> SqlRequest -> one statement -> one pipeline -> HTTP response
 * (see rest_request.c, rest_write.c, sql_build.c and rest_exec.c), and Prefer: count=planned
 * and count=estimated for both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi.h"
#include "rest_internal.h"

/*
 * count=planned: the planner's row estimate for the filtered relation or set-returning function
 * (EXPLAIN (FORMAT JSON), as PostgREST does), run as the request's role.
 */
static bool
planned_total(Request *req, const Auth *auth, const char *schema, const SqlRequest *sr,
			  long long *total, ApiError *err)
{
	SqlRequest	pr = *sr;
	SqlStatement st;
	RunAs		as = {auth->role, auth->claims, schema, req->method, req->path, auth->anonymous, NULL};
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
	bool		headers_only = false;

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
	if (!rest_parse_accept(req, is_get, &sr.shape, &ex, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	ex.singular = sr.shape == SHAPE_OBJECT;
	if (!rest_parse_prefer(req, sc, &prefs, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	prefs.value[PREF_PARAMS] = NULL;	/* for functions only */
	if (strcmp(req->method, "PATCH") != 0 && strcmp(req->method, "DELETE") != 0)
		prefs.value[PREF_MAX_AFFECTED] = NULL;
	sr.sc = sc;
	sr.q = &q;
	sr.aggregates_enabled = server.cfg.db_aggregates_enabled;
	if (!rest_paging(req, resp, &q, &sr))
		goto out;
	ex.auth = &auth;
	ex.schema = schema;
	ex.first = sr.offset;
	ex.timezone = prefs.timezone;
	ex.max_affected = prefs.value[PREF_MAX_AFFECTED] ? prefs.max_affected : -1;
	if (is_get)
	{
		sr.action = SQL_READ;
		ex.read_only = true;
		ex.ok_status = 200;
		ex.body_wanted = strcmp(req->method, "HEAD") != 0;
	}
	else if (!rest_setup_write(req, &prefs, &q, &sr, &ex, &body, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	headers_only = rest_headers_only(req, &prefs, &sr, &q, &ex);
	if (strcmp(req->method, "HEAD") == 0)
		sr.shape = SHAPE_NONE;
	ex.shape = sr.shape;
	if (!choose_count(req, &prefs, &auth, schema, is_get, &sr, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	sr.count_exact |= sr.action == SQL_PUT;	/* for rest_put_outcome */
	if (!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	rest_preference_applied(req, resp, &prefs);
	ex.may_defer = sr.action != SQL_PUT && !headers_only;
	rest_run_statement(req, resp, &st, &ex);
	if (sr.action == SQL_PUT)
		rest_put_outcome(req, resp, prefs.count != COUNT_NONE);
	if (headers_only)
		rest_location(req, resp, sr.rel);
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

/*
 * Prefer: params=single-object: the overload of schema.name with one json or jsonb parameter
 * (named or not) gets the whole body.  404 PGRST202 when there is none, 300 PGRST203 when
 * there are several.
 */
static bool
resolve_single_object(const SchemaCache *sc, const char *schema, const char *name,
					  SqlRequest *sr, ApiError *err)
{
	int			nmatches = 0;
	char		msg[400];

	for (int f = 0; f < sc->nfuncs; f++)
	{
		const ScFunction *fn = &sc->funcs[f];

		if (strcmp(fn->name, name) == 0 && strcmp(fn->schema, schema) == 0 && fn->nargs == 1 &&
			(strcmp(fn->args[0].type, "json") == 0 || strcmp(fn->args[0].type, "jsonb") == 0))
		{
			sr->func = fn;
			nmatches++;
		}
	}
	sr->rpc_whole_body = true;
	if (nmatches == 1)
		return true;
	if (nmatches > 1)
	{
		snprintf(msg, sizeof(msg), "Could not choose the best candidate function between overloads of %s.%s", schema, name);
		return api_error(err, 300, "PGRST203", msg, "Prefer: params=single-object found several functions with one json or jsonb parameter.",
						 "Keep one overload taking json or jsonb.");
	}
	snprintf(msg, sizeof(msg), "Could not find the function %s.%s with a single json or jsonb parameter in the schema cache", schema, name);
	return api_error(err, 404, "PGRST202", msg,
					 "Prefer: params=single-object passes the whole body as the function's one json or jsonb argument.",
					 "Give the function exactly one parameter of type json or jsonb, or send its arguments as the keys of a JSON object without params=single-object.");
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
	bool		single_object;
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
	if (!rest_parse_prefer(req, sc, &prefs, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	single_object = prefs.single_object && !is_get;
	if (!single_object)
		prefs.value[PREF_PARAMS] = NULL;
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
		body = rest_parse_body(req, single_object, false, &body_text, &keys, &nkeys, &err);
		if (body == NULL)
		{
			response_error(req, resp, &err);
			goto out;
		}
	}
	if (single_object ? !resolve_single_object(sc, schema, name, &sr, &err) :
		!resolve_function(sc, schema, name, keys, nkeys, !is_get && exists, &sr, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (!rest_parse_accept(req, is_get, &sr.shape, &ex, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (sr.func->ret_composite && !sr.func->retset && sr.shape == SHAPE_ARRAY && !ex.explain)
	{
		sr.shape = SHAPE_OBJECT;
		ex.ctype = "application/json; charset=utf-8";
	}
	ex.singular = sr.shape == SHAPE_OBJECT;
	if (!sr.func->retset)
		prefs.value[PREF_MAX_AFFECTED] = NULL;
	sr.action = SQL_RPC;
	sr.sc = sc;
	sr.q = &q;
	sr.aggregates_enabled = server.cfg.db_aggregates_enabled;
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
	ex.timezone = prefs.timezone;
	ex.max_affected = prefs.value[PREF_MAX_AFFECTED] ? prefs.max_affected : -1;
	ex.shape = sr.shape;
	ex.ok_status = 200;
	ex.body_wanted = strcmp(req->method, "HEAD") != 0;
	/* planned and estimated counts as for a relation; a volatile function's POST counts exactly */
	if ((sr.count_exact && !choose_count(req, &prefs, &auth, schema, ex.read_only, &sr, &err)) ||
		!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	rest_preference_applied(req, resp, &prefs);
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
	if (server.cfg.openapi_mode == OPENAPI_DISABLED)
	{
		api_error(&err, 404, "PGRST126", "Root endpoint metadata is disabled", NULL,
				  "openapi-mode is disabled on this server.");
		response_error(req, resp, &err);
	}
	else if (rest_prepare(req, resp, sc, false, &auth, &schema, &pairs, &npairs))
	{
		RunAs		as = {auth.role, auth.claims, schema, req->method, req->path, auth.anonymous, NULL};
		const char *params[1] = {schema};
		bool		follow = server.cfg.openapi_mode == OPENAPI_FOLLOW_PRIVILEGES;

		if (follow && rest_query_as(&as, openapi_access_query, params, 1, &res, &err) &&
			(access = json_loads(PQgetvalue(res, 0, 0), 0, NULL)) == NULL)
			api_error(&err, 500, "PGRSTX00", "could not read the role's privileges", NULL, NULL);
		if (follow && access == NULL)
			response_error(req, resp, &err);
		else
		{
			resp->content_type = "application/openapi+json; charset=utf-8";
			/* the document depends on the role: only the anonymous one is the same for all */
			resp->cache_control = auth.anonymous ? "public, max-age=60" : "private, max-age=60";
			openapi_render(sc, schema, access,
						   server.cfg.openapi_proxy_uri ? server.cfg.openapi_proxy_uri : "/api", &resp->body);
		}
	}
	json_decref(access);
	PQclear(res);
	server_cache_release(sc);
}
