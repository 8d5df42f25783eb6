/*
 * jwt.h — JSON Web Token verification (HS256/384/512 with a shared secret, RS256/384/512 with a
 * PEM public key).  The algorithm family comes from the configured key, never from the token,
 * so "alg": "none" and HS/RS confusion are refused.  Uses OpenSSL and jansson only.
 */
#ifndef API_JWT_H
#define API_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct JwtKey JwtKey;

/* value: a secret of at least 32 characters, or a PEM public key ("-----BEGIN ...").  */
JwtKey	   *jwt_key_load(const char *value, char *err, size_t errlen);
void		jwt_key_free(JwtKey *key);

typedef struct JwtResult
{
	char	   *claims_json;	/* malloc'd compact JSON of the claims */
	char	   *role;			/* malloc'd role from the role claim, NULL if none */
} JwtResult;

/*
 * Verifies token at time now: signature, exp and nbf (30 s leeway), aud when aud is not NULL
 * (a token without aud passes, as in PostgREST).  role_claim is a dotted path ("role",
 * "app_metadata.role").  false + err (a client-facing message) when invalid.
 */
bool		jwt_verify(const JwtKey *key, const char *token, const char *aud,
					   const char *role_claim, time_t now, JwtResult *out,
					   char *err, size_t errlen);
void		jwt_result_free(JwtResult *r);

/* Signs claims_json with an HMAC key as HS256 (used by tests and `make run` demo tokens). */
char	   *jwt_sign_hs256(const char *secret, const char *claims_json);

#endif
