/*
 * auth.c — JWT / API key / anonymous authentication of a request (see auth.h).
 */
#include "auth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Records a failed authentication; best effort, never fails the request further. */
static void
record_failure(Request *req, const SchemaCache *sc, const char *kind, const char *reason)
{
	PgConn	   *c;
	json_t	   *detail;
	char	   *detail_text;
	const char *params[3];
	PipeStmt	st;
	char		err[256];
	const char *ip = request_header(req, "X-Forwarded-For");

	fprintf(stderr, "{\"level\":\"warning\",\"event\":\"auth_failed\",\"request_id\":\"%s\",\"kind\":\"%s\",\"reason\":\"%s\"}\n",
			req->request_id, kind, reason);
	if (!sc->has_security_log)
		return;
	c = pool_acquire(server.pool, 1000);
	if (c == NULL)
		return;
	detail = json_pack("{s:s, s:s, s:s, s:s}", "reason", reason, "path", req->path,
					   "request_id", req->request_id, "ip", ip ? ip : "127.0.0.1");
	detail_text = json_dumps(detail, JSON_COMPACT);
	params[0] = "auth_failure";
	params[1] = kind;
	params[2] = detail_text;
	st.sql = "SELECT freight.log_security_event($1, $2, $3::jsonb)";
	st.params = params;
	st.nparams = 3;
	if (pg_pipeline(c, &st, 1, false, err, sizeof(err)))
		PQclear(st.result);
	pool_release(server.pool, c);
	free(detail_text);
	json_decref(detail);
}

static bool
fail(Request *req, const SchemaCache *sc, ApiError *err, const char *kind, const char *msg)
{
	record_failure(req, sc, kind, msg);
	return api_error(err, 401, "PGRST301", msg, NULL, NULL);
}

static bool
auth_jwt(Request *req, const SchemaCache *sc, const char *token, Auth *auth, ApiError *err)
{
	JwtResult	jr;
	char		msg[256];

	if (server.jwt == NULL)
		return api_error(err, 500, "PGRST300", "Server lacks JWT secret", NULL,
						 "Set FREIGHT_JWT_SECRET (or jwt-secret).");
	if (!jwt_verify(server.jwt, token, server.cfg.jwt_aud, server.cfg.jwt_role_claim,
					time(NULL), &jr, msg, sizeof(msg)))
		return fail(req, sc, err, "jwt", msg);
	auth->claims = arena_strdup(&req->arena, jr.claims_json);
	auth->role = jr.role ? arena_strdup(&req->arena, jr.role) : server.cfg.db_anon_role;
	auth->anonymous = jr.role == NULL;
	jwt_result_free(&jr);
	if (auth->role == NULL)
		return api_error(err, 401, "PGRST302", "Anonymous access is disabled", NULL,
						 "Send a token with a role claim.");
	return true;
}

/* Asks the database which role and claims an API key maps to. */
static bool
auth_api_key(Request *req, const SchemaCache *sc, const char *key, Auth *auth, ApiError *err)
{
	PgConn	   *c;
	PipeStmt	st;
	char		msg[256];
	bool		ok = false;

	if (!sc->has_api_keys)
		return fail(req, sc, err, "api_key", "API keys are not enabled in this database");
	c = pool_acquire(server.pool, server.cfg.db_pool_timeout_ms);
	if (c == NULL)
		return api_error(err, 504, "PGRST003", "Timed out acquiring connection from connection pool.", NULL, NULL);
	st.sql = "SELECT role::text, claims::text FROM freight.verify_api_key($1)";
	st.params = &key;
	st.nparams = 1;
	if (!pg_pipeline(c, &st, 1, false, msg, sizeof(msg)))
	{
		pool_release(server.pool, c);
		return api_error(err, 503, "PGRST001", "Database client error", msg, NULL);
	}
	if (PQresultStatus(st.result) == PGRES_TUPLES_OK && PQntuples(st.result) == 1 &&
		!PQgetisnull(st.result, 0, 0))
	{
		auth->role = arena_strdup(&req->arena, PQgetvalue(st.result, 0, 0));
		auth->claims = arena_strdup(&req->arena, PQgetisnull(st.result, 0, 1) ? "{}" :
									PQgetvalue(st.result, 0, 1));
		auth->api_key = key;
		ok = true;
	}
	PQclear(st.result);
	pool_release(server.pool, c);
	return ok || fail(req, sc, err, "api_key", "Invalid API key");
}

bool
auth_request(Request *req, const SchemaCache *sc, Auth *auth, ApiError *err)
{
	const char *authz = request_header(req, "Authorization");
	const char *key = request_header(req, "apikey");

	memset(auth, 0, sizeof(*auth));
	if (key == NULL)
		key = request_header(req, "X-API-Key");
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
	{
		const char *token = authz + 7;

		while (*token == ' ')
			token++;
		/* supabase clients send the anon API key as a bearer token too: same key = API key */
		if (!(key && strcmp(key, token) == 0))
			return auth_jwt(req, sc, token, auth, err);
	}
	else if (authz)
		return fail(req, sc, err, "jwt", "Authorization header must use the Bearer scheme");
	if (key)
		return auth_api_key(req, sc, key, auth, err);
	if (server.cfg.db_anon_role == NULL)
		return api_error(err, 401, "PGRST302", "Anonymous access is disabled", NULL,
						 "Send Authorization: Bearer <jwt> or an API key.");
	auth->role = server.cfg.db_anon_role;
	{
		Buf			b;

		buf_init(&b);
		buf_puts(&b, "{\"role\":\"");
		buf_json_escape(&b, auth->role);
		buf_puts(&b, "\"}");
		auth->claims = arena_strdup(&req->arena, b.data);
		buf_free(&b);
	}
	auth->anonymous = true;
	return true;
}
