/*
 * rest.c — the PostgREST routes /api/<relation> and /api/rpc/<function>: headers and body ->
 * SqlRequest -> one statement -> one pipeline -> HTTP response (see rest_request.c,
 * sql_build.c and rest_exec.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest_internal.h"

/*
 * POST/PATCH/DELETE: the action, the statuses, and the JSON body (an object becomes a one-row
 * array for INSERT; its keys, or columns=, are the columns written).  *body is for the caller
 * to free.
 */
static bool
setup_write(Request *req, const Prefs *prefs, const QpQuery *q, SqlRequest *sr, Exec *ex,
			json_t **body, ApiError *err)
{
	const char **cols = NULL;
	int			ncols = 0;
	bool		post = strcmp(req->method, "POST") == 0;

	ex->write = true;
	ex->body_wanted = prefs->ret == RETURN_REPRESENTATION;
	ex->ok_status = post ? 201 : (ex->body_wanted ? 200 : 204);
	sr->action = post ? SQL_INSERT : strcmp(req->method, "PATCH") == 0 ? SQL_UPDATE : SQL_DELETE;
	sr->upsert = prefs->merge_duplicates;
	sr->ignore_duplicates = prefs->ignore_duplicates;
	if (!ex->body_wanted)
		sr->shape = SHAPE_NONE;
	if (sr->action == SQL_DELETE)
		return true;
	*body = rest_parse_body(req, sr->action == SQL_INSERT, &cols, &ncols, err);
	if (*body == NULL)
		return false;
	sr->body_cols = q->ncolumns > 0 ? q->columns : cols;
	sr->nbody_cols = q->ncolumns > 0 ? q->ncolumns : ncols;
	if (json_is_object(*body) && sr->action == SQL_INSERT)
	{
		char	   *wrapped = arena_alloc(&req->arena, req->body.len + 3);

		wrapped[0] = '[';
		memcpy(wrapped + 1, req->body.data, req->body.len);
		wrapped[req->body.len + 1] = ']';
		sr->body = wrapped;
	}
	else
		sr->body = arena_strndup(&req->arena, req->body.data, req->body.len);
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
	rest_parse_prefer(req, &prefs, &applied);
	sr.sc = sc;
	sr.q = &q;
	sr.count_exact = prefs.count;
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
	if (!sql_build(&req->arena, &sr, &st, &err))
	{
		response_error(req, resp, &err);
		goto out;
	}
	if (applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, applied.data));
	rest_run_statement(req, resp, &st, &ex);
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
	Prefs		prefs;
	Buf			applied;
	Exec		ex;
	json_t	   *body = NULL;
	bool	   *skip;
	bool		exists;
	const char **keys = NULL;
	const char **values = NULL;
	int			nkeys = 0, cap = 0, vcap = 0, nvalues = 0;

	buf_init(&applied);
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
		body = rest_parse_body(req, false, &keys, &nkeys, &err);
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
	rest_parse_prefer(req, &prefs, &applied);
	sr.action = SQL_RPC;
	sr.sc = sc;
	sr.q = &q;
	sr.count_exact = prefs.count && sr.func->retset && sr.func->ret_composite;
	sr.arg_names = keys;
	sr.nargs = nkeys;
	sr.arg_values = is_get ? values : NULL;
	sr.body = req->body.len ? arena_strndup(&req->arena, req->body.data, req->body.len) : "{}";
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
	if (applied.len)
		response_header(req, resp, "Preference-Applied", arena_strdup(&req->arena, applied.data));
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
	buf_free(&applied);
	json_decref(body);
	server_cache_release(sc);
}
