/*
 * auth.c — JWT / API key / anonymous authentication of a request, API-key rate limits and the
 * security log of failures (see auth.h).
 *
 * API keys are checked in the database (bcrypt hashes there); a successful check is cached
 * in memory for api-key-cache-seconds under the key's SHA-256, so a revoked key stops working
 * within that time.  Failures are never cached: each one is checked and recorded.
 */
#include "auth.h"

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "rest_tx.h"

#define KEY_CACHE_SLOTS 256
#define JWT_CACHE_SLOTS 1024
#define JWT_CACHE_SECONDS 300

/* Verified tokens, so a client reusing its token costs no HMAC or JSON parse (like PostgREST's
 * jwt-cache): trusted until min(exp, 5 minutes). */
typedef struct JwtCacheEntry
{
	char	   *token;
	char	   *claims;
	char	   *role;			/* NULL = anonymous role */
	double		expires;
} JwtCacheEntry;

static JwtCacheEntry jwt_cache[JWT_CACHE_SLOTS];
static pthread_mutex_t jwt_cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* bumped by every clear: a token verified before a key reload is not cached after it */
static unsigned jwt_cache_generation;

static unsigned
token_slot(const char *token)
{
	unsigned	h = 2166136261u;

	for (const char *p = token; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h % JWT_CACHE_SLOTS;
}

/* A cached verification of token into auth; on a miss *generation is the cache's, for jwt_cache_put. */
static bool
jwt_cache_get(Request *req, const char *token, Auth *auth, unsigned *generation)
{
	JwtCacheEntry *e = &jwt_cache[token_slot(token)];
	bool		hit = false;

	pthread_mutex_lock(&jwt_cache_lock);
	if (e->token && strcmp(e->token, token) == 0 && e->expires > (double) time(NULL))
	{
		auth->claims = arena_strdup(&req->arena, e->claims);
		auth->role = e->role ? arena_strdup(&req->arena, e->role) : server.cfg.db_anon_role;
		auth->anonymous = e->role == NULL;
		hit = true;
	}
	*generation = jwt_cache_generation;
	pthread_mutex_unlock(&jwt_cache_lock);
	return hit;
}

/* Caches a verification made while the cache was at generation (see jwt_cache_generation). */
static void
jwt_cache_put(const char *token, const JwtResult *jr, unsigned generation)
{
	JwtCacheEntry *e = &jwt_cache[token_slot(token)];
	json_t	   *claims = json_loads(jr->claims_json, 0, NULL);
	json_t	   *exp = json_object_get(claims, "exp");
	double		expires = (double) time(NULL) + JWT_CACHE_SECONDS;

	if (json_is_number(exp) && json_number_value(exp) < expires)
		expires = json_number_value(exp);
	json_decref(claims);
	pthread_mutex_lock(&jwt_cache_lock);
	if (generation != jwt_cache_generation)
	{
		pthread_mutex_unlock(&jwt_cache_lock);
		return;
	}
	free(e->token);
	free(e->claims);
	free(e->role);
	e->token = xstrdup(token);
	e->claims = xstrdup(jr->claims_json);
	e->role = jr->role ? xstrdup(jr->role) : NULL;
	e->expires = expires;
	pthread_mutex_unlock(&jwt_cache_lock);
}

void
auth_jwt_cache_clear(void)
{
	pthread_mutex_lock(&jwt_cache_lock);
	for (int i = 0; i < JWT_CACHE_SLOTS; i++)
	{
		free(jwt_cache[i].token);
		free(jwt_cache[i].claims);
		free(jwt_cache[i].role);
	}
	memset(jwt_cache, 0, sizeof(jwt_cache));
	jwt_cache_generation++;
	pthread_mutex_unlock(&jwt_cache_lock);
}

typedef struct KeyCacheEntry
{
	unsigned char digest[32];
	char	   *claims;
	time_t		expires;
} KeyCacheEntry;

static KeyCacheEntry key_cache[KEY_CACHE_SLOTS];
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void
digest_of(const char *key, unsigned char out[32])
{
	unsigned int n = 32;

	EVP_Digest(key, strlen(key), out, &n, EVP_sha256(), NULL);
}

static char *
key_cache_get(const char *key, Arena *a)
{
	unsigned char d[32];
	KeyCacheEntry *e;
	char	   *claims = NULL;

	digest_of(key, d);
	e = &key_cache[d[0] % KEY_CACHE_SLOTS];
	pthread_mutex_lock(&key_cache_lock);
	if (e->claims && e->expires > time(NULL) && CRYPTO_memcmp(e->digest, d, 32) == 0)
		claims = arena_strdup(a, e->claims);
	pthread_mutex_unlock(&key_cache_lock);
	return claims;
}

static void
key_cache_put(const char *key, const char *claims)
{
	unsigned char d[32];
	KeyCacheEntry *e;

	if (server.cfg.api_key_cache_seconds <= 0)
		return;
	digest_of(key, d);
	e = &key_cache[d[0] % KEY_CACHE_SLOTS];
	pthread_mutex_lock(&key_cache_lock);
	free(e->claims);
	memcpy(e->digest, d, 32);
	e->claims = xstrdup(claims);
	e->expires = time(NULL) + server.cfg.api_key_cache_seconds;
	pthread_mutex_unlock(&key_cache_lock);
}

/* "schema.function" as a quoted identifier pair. */
static void
function_ident(Buf *b, const char *qualified)
{
	const char *dot = strchr(qualified, '.');
	char		schema[128];

	if (dot == NULL || (size_t) (dot - qualified) >= sizeof(schema))
	{
		buf_ident(b, qualified);
		return;
	}
	memcpy(schema, qualified, (size_t) (dot - qualified));
	schema[dot - qualified] = '\0';
	buf_ident(b, schema);
	buf_putc(b, '.');
	buf_ident(b, dot + 1);
}

/* The part of an API key that names it without its secret: "ifk_<prefix>" of "ifk_<prefix>_<secret>". */
static const char *
key_label(Arena *a, const char *key)
{
	const char *last = strrchr(key, '_');

	if (last && last != key)
		return arena_strndup(a, key, (size_t) (last - key));
	return arena_strndup(a, key, strlen(key) < 8 ? strlen(key) : 8);
}

/*
 * Runs sql with params as the service role in one implicit transaction (the setup SELECT and
 * the query up to one Sync, as every request runs: rest_tx.h), which commits what the query
 * writes (rate-limit state, security events).  Returns the result, or NULL + err.
 */
static PGresult *
service_query(const char *sql, const char *const *params, int nparams, ApiError *err)
{
	RunAs		as = {server.cfg.service_role, NULL, "pg_catalog", NULL, NULL, false, NULL};
	PGresult   *res;
	PGresult   *failed;

	if (!tx_query_as(&as, false, sql, params, nparams, &res, &failed, err))
		return NULL;
	if (failed != NULL)
		api_error(err, 500, "PGRSTX00", "authentication check failed",
				  PQresultErrorField(failed, PG_DIAG_MESSAGE_PRIMARY), NULL);
	PQclear(failed);
	return res;
}

/* Records a failed authentication; best effort: the request fails with 401 either way. */
static void
record_failure(Request *req, const SchemaCache *sc, const char *kind, const char *actor,
			   const char *reason)
{
	char		addr[64];
	json_t	   *detail;
	char	   *detail_text;
	const char *params[3];
	ApiError	err;
	Buf			sql;
	PGresult   *r;

	http_client_address(req, addr, sizeof(addr));
	fprintf(stderr, "{\"level\":\"warning\",\"event\":\"auth_failed\",\"request_id\":\"%s\",\"method\":\"%s\",\"reason\":\"%s\",\"client_addr\":\"%s\"}\n",
			req->request_id, kind, reason, addr);
	if (!sc->has_security_log)
		return;
	detail = json_pack("{s:s, s:s, s:s, s:s}", "method", kind, "reason", reason,
					   "path", req->path, "request_id", req->request_id);
	detail_text = json_dumps(detail, JSON_COMPACT);
	params[0] = actor;
	params[1] = addr[0] ? addr : NULL;
	params[2] = detail_text;
	buf_init(&sql);
	buf_puts(&sql, "SELECT ");
	function_ident(&sql, server.cfg.security_log_function);
	buf_puts(&sql, "('auth_failure', NULL, $1, $2::inet, $3::jsonb)");
	r = service_query(sql.data, params, 3, &err);
	if (r == NULL)
		fprintf(stderr, "{\"level\":\"warning\",\"event\":\"security_log_failed\",\"message\":\"%s\",\"details\":\"%s\"}\n",
				err.message, err.details);
	PQclear(r);
	buf_free(&sql);
	free(detail_text);
	json_decref(detail);
}

static bool
fail(Request *req, const SchemaCache *sc, ApiError *err, const char *kind, const char *actor,
	 const char *msg)
{
	record_failure(req, sc, kind, actor, msg);
	return api_error(err, 401, "PGRST301", msg, NULL, NULL);
}

static bool
auth_jwt(Request *req, const SchemaCache *sc, const char *token, Auth *auth, ApiError *err)
{
	JwtResult	jr;
	char		msg[256];
	unsigned	generation;

	if (server.jwt == NULL)
		return api_error(err, 500, "PGRST300", "Server lacks JWT secret", NULL,
						 "Set FREIGHT_JWT_SECRET (or jwt-secret).");
	if (jwt_cache_get(req, token, auth, &generation))
		return auth->role != NULL || api_error(err, 401, "PGRST302", "Anonymous access is disabled",
											   NULL, "Send a token with a role claim.");
	if (!jwt_verify(server.jwt, token, server.cfg.jwt_aud, server.cfg.jwt_role_claim,
					time(NULL), &jr, msg, sizeof(msg)))
		return fail(req, sc, err, "jwt", "bearer token", msg);
	jwt_cache_put(token, &jr, generation);
	auth->claims = arena_strdup(&req->arena, jr.claims_json);
	auth->role = jr.role ? arena_strdup(&req->arena, jr.role) : server.cfg.db_anon_role;
	auth->anonymous = jr.role == NULL;
	jwt_result_free(&jr);
	if (auth->role == NULL)
		return api_error(err, 401, "PGRST302", "Anonymous access is disabled", NULL,
						 "Send a token with a role claim.");
	return true;
}

/* One rate-limit decision for the key; false + 429 when denied. */
static bool
rate_limit(Request *req, const SchemaCache *sc, const char *label, Auth *auth, ApiError *err)
{
	const char *params[1] = {label};
	Buf			sql;
	PGresult   *r;
	bool		allowed = true;

	if (!sc->has_rate_limit)
		return true;
	buf_init(&sql);
	buf_puts(&sql, "SELECT r.allowed, r.\"limit\", r.remaining,"
			 " ceil(extract(epoch FROM r.reset_after))::bigint, ceil(extract(epoch FROM r.retry_after))::bigint FROM ");
	function_ident(&sql, server.cfg.rate_limit_function);
	buf_puts(&sql, "($1, 1) r");
	r = service_query(sql.data, params, 1, err);
	buf_free(&sql);
	if (r == NULL)
		return false;
	if (PQntuples(r) == 1)
	{
		allowed = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		auth->limited = true;
		auth->rl_limit = arena_strdup(&req->arena, PQgetvalue(r, 0, 1));
		auth->rl_remaining = arena_strdup(&req->arena, PQgetvalue(r, 0, 2));
		auth->rl_reset = arena_strdup(&req->arena, PQgetvalue(r, 0, 3));
		if (!allowed)
		{
			char		det[160];

			snprintf(det, sizeof(det), "The key %s may make %s requests per window; retry in %s s.",
					 label, auth->rl_limit, PQgetvalue(r, 0, 4));
			api_error(err, 429, "PGRST429", "Rate limit exceeded", det,
					  "Wait for Retry-After seconds or move the key to a higher tier.");
			snprintf(err->code, sizeof(err->code), "PGRST429");
			req->retry_after = arena_strdup(&req->arena, PQgetvalue(r, 0, 4));
		}
	}
	PQclear(r);
	return allowed;
}

static bool
auth_api_key(Request *req, const SchemaCache *sc, const char *key, Auth *auth, ApiError *err)
{
	const char *label = key_label(&req->arena, key);
	char	   *claims = key_cache_get(key, &req->arena);

	if (!sc->has_api_keys)
		return fail(req, sc, err, "api_key", label, "API keys are not enabled in this database");
	if (claims == NULL)
	{
		const char *params[2] = {key, server.cfg.api_key_role};
		Buf			sql;
		PGresult   *r;

		buf_init(&sql);
		buf_puts(&sql, "SELECT (to_jsonb(k) || jsonb_build_object('role', $2::text))::text FROM ");
		function_ident(&sql, server.cfg.api_key_function);
		buf_puts(&sql, "($1) k");
		r = service_query(sql.data, params, 2, err);
		buf_free(&sql);
		if (r == NULL)
			return false;
		if (PQntuples(r) >= 1 && !PQgetisnull(r, 0, 0))
		{
			claims = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
			key_cache_put(key, claims);
		}
		PQclear(r);
		if (claims == NULL)
			return fail(req, sc, err, "api_key", label, "Invalid API key");
	}
	auth->role = server.cfg.api_key_role;
	auth->claims = claims;
	return rate_limit(req, sc, label, auth, err);
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
		/* supabase clients send the API key as a bearer token too: same value = API key */
		if (!(key && strcmp(key, token) == 0))
			return auth_jwt(req, sc, token, auth, err);
	}
	else if (authz)
		return fail(req, sc, err, "jwt", "authorization header",
					"Authorization header must use the Bearer scheme");
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

void
auth_rate_headers(Request *req, Response *resp, const Auth *auth, const char *retry_after)
{
	if (auth->limited)
	{
		response_header(req, resp, "RateLimit-Limit", auth->rl_limit);
		response_header(req, resp, "RateLimit-Remaining", auth->rl_remaining);
		response_header(req, resp, "RateLimit-Reset", auth->rl_reset);
	}
	if (retry_after)
		response_header(req, resp, "Retry-After", retry_after);
}
