/*
 * jwk.h — JSON Web Keys (RFC 7517) for jwt-secret: one JWK or a JWK Set ({"keys":[...]}) turned
 * into verification keys.  RSA keys (kty RSA, n, e) verify RS256/384/512, elliptic-curve keys
 * (kty EC, crv P-256 or P-384, x, y) ES256 or ES384, symmetric keys (kty oct, k) HS256/384/512.
 * Also PEM public keys (RSA or EC).  Uses OpenSSL (EVP_PKEY_fromdata) and jansson only.
 */
#ifndef API_JWK_H
#define API_JWK_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum JwkKind
{
	JWK_HMAC,
	JWK_RSA,
	JWK_EC
} JwkKind;

/* One verification key: an HMAC secret, an RSA or an EC public key, with its optional "kid". */
typedef struct JwkKey
{
	JwkKind		kind;
	unsigned char *secret;		/* HMAC: malloc'd bytes */
	size_t		secret_len;
	EVP_PKEY   *pkey;			/* RSA, EC */
	size_t		ec_coord_len;	/* EC: bytes of a coordinate, 32 (P-256) or 48 (P-384) */
	char	   *kid;			/* malloc'd, NULL when the key has none */
} JwkKey;

/* HMAC secrets (JWK k, or a plain jwt-secret) must be at least this long, in bytes. */
#define JWK_MIN_SECRET 32

/*
 * Parses json (a JWK object or a JWK Set) into a malloc'd array of *nkeys keys.  NULL + err
 * (naming the key and what is wrong with it) when the JSON, a key or the set is invalid.
 */
JwkKey	   *jwk_parse(const char *json, int *nkeys, char *err, size_t errlen);

/*
 * Parses a PEM public key ("-----BEGIN PUBLIC KEY-----": RSA, or EC on P-256 or P-384) into key.  false + err when it is none of these.
 */
bool		jwk_pem_key(const char *pem, JwkKey *key, char *err, size_t errlen);

/* Frees what a key owns (not the key itself). */
void		jwk_key_clear(JwkKey *key);

#endif
