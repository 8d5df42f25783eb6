/*
 * jwt.h — JSON Web Token verification (HS256/384/512 with a shared secret, RS256/384/512 with a
 * PEM public key, or either with the keys of a JWK / JWK Set, jwk.h).  A token's alg only picks
 * among the configured keys of its type (a secret never verifies RS*, an RSA key never HS*), so
 * "alg": "none" and HS/RS confusion are refused; its kid picks among several keys.  Uses
 * OpenSSL and jansson only.
 */
#ifndef API_JWT_H
#define API_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct JwtKey JwtKey;

/*
 * value: a secret of at least 32 characters, a PEM public key ("-----BEGIN ..."), or a JWK or
 * JWK Set as JSON ("{...}").  NULL + err (for the operator) when it is not usable.
 */
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
