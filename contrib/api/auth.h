/*
 * auth.h — who is calling: a JWT (Authorization: Bearer), an API key (apikey or X-API-Key
 * header, checked by the database's api-key-function, default freight.authenticate_api_key,
 * then limited by its rate-limit-function, default freight.rate_limit), or nobody (the
 * anonymous role).  Failed authentications are recorded with the security-log-function
 * (default freight.log_security_event) when the database has it.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "server.h"

typedef struct Auth
{
	const char *role;			/* role to switch to */
	const char *claims;			/* JSON text for request.jwt.claims */
	bool		anonymous;
	/* rate limit of an API key (limited = false when none applies) */
	bool		limited;
	const char *rl_limit;
	const char *rl_remaining;
	const char *rl_reset;
} Auth;

/*
 * false + err when the request may not proceed: bad credentials (401, recorded), rate limit
 * exceeded (429), database unreachable (503/504).
 */
bool		auth_request(Request *req, const SchemaCache *sc, Auth *auth, ApiError *err);

/* Forgets every verified token (after the JWT keys changed, so a removed key's tokens fail). */
void		auth_jwt_cache_clear(void);

/* Adds RateLimit-* (and Retry-After on 429) headers for auth to resp. */
void		auth_rate_headers(Request *req, Response *resp, const Auth *auth, const char *retry_after);

#endif
