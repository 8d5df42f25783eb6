/*
 * auth.h — who is calling: a JWT (Authorization: Bearer), an API key (apikey or X-API-Key
 * header, checked by the database function freight.verify_api_key when it exists), or nobody
 * (the anonymous role).  Failures are recorded as security events when the database has
 * freight.log_security_event.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "server.h"

typedef struct Auth
{
	const char *role;			/* role to switch to */
	const char *claims;			/* JSON text for request.jwt.claims */
	const char *api_key;		/* the presented API key, for rate limiting (NULL if none) */
	bool		anonymous;
} Auth;

/* false + err (401/500) when the credentials are bad; the failure is recorded. */
bool		auth_request(Request *req, const SchemaCache *sc, Auth *auth, ApiError *err);

#endif
