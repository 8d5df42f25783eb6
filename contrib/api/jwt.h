/*
 * jwt.h — JSON Web Token verification (HS256/384/512 with a shared secret, RS256/384/512 with an
 * RSA key, ES256/ES384 with a P-256/P-384 EC key: PEM public keys or the keys of a JWK / JWK Set,
 * jwk.h).  A token's alg only picks among the configured keys that fit it (a secret never
 * verifies RS* or ES*, an RSA key never HS* or ES*, a P-256 key only ES256), so "alg": "none"
 * and alg confusion are refused; its kid picks among several keys.  The keys can be replaced
 * while requests verify (jwt_key_reload).  Uses OpenSSL and jansson only.
 */
#ifndef API_JWT_H
#define API_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct JwtKey JwtKey;

/*
 * value: a secret of at least 32 characters, a PEM public key ("-----BEGIN ..."), a JWK or
 * JWK Set as JSON ("{...}"), or "@path" of a file holding one of these (trailing whitespace
 * ignored).  base64 (jwt-secret-is-base64): such a secret is given in base64, standard or
 * URL-safe, and must decode to at least 32 bytes.  NULL + err (for the operator) when it is not
 * usable.
 */
JwtKey	   *jwt_key_load(const char *value, bool base64, char *err, size_t errlen);

/*
 * Loads value as jwt_key_load does (re-reading an "@path" file) and makes it key's keys
 * atomically: verifications already running finish with the keys they started with, which
 * are freed after the last one.  Returns the number of keys, or -1 + err with key unchanged.
 */
int			jwt_key_reload(JwtKey *key, const char *value, bool base64, char *err, size_t errlen);
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
bool		jwt_verify(JwtKey *key, const char *token, const char *aud,
					   const char *role_claim, time_t now, JwtResult *out,
					   char *err, size_t errlen);
void		jwt_result_free(JwtResult *r);

/* Signs claims_json as HS256 with secret, a string (used by tests). */
char	   *jwt_sign_hs256(const char *secret, const char *claims_json);

/*
 * Signs claims_json as HS256 with the first HMAC key of key (a plain secret or a JWK "oct" key,
 * as jwt_key_load read it): freight-api --sign-jwt.  NULL + err when key has none.
 */
char	   *jwt_key_sign_hs256(JwtKey *key, const char *claims_json, char *err, size_t errlen);

#endif
