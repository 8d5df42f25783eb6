/*
 * jwt.c — JWT verification, the reloadable key set and HS256 signing (see jwt.h).
 */
#include "jwt.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ecdsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jwk.h"

#define JWT_LEEWAY 30
#define JWT_KEY_FILE_MAX (1024 * 1024)

/* One generation of the configured keys: a secret, a PEM key or those of a JWK / JWK Set. */
typedef struct KeySet
{
	JwkKey	   *keys;
	int			nkeys;
	int			refcount;		/* the JwtKey's reference + one per verification using it */
} KeySet;

/* The current key set; jwt_key_reload swaps it while verifications hold the one they took. */
struct JwtKey
{
	pthread_mutex_t lock;
	KeySet	   *current;
};

static void
keyset_free(KeySet *set)
{
	for (int i = 0; i < set->nkeys; i++)
		jwk_key_clear(&set->keys[i]);
	free(set->keys);
	free(set);
}

/* A file's contents without trailing whitespace (malloc'd), NULL + err when unreadable. */
static char *
read_key_file(const char *path, char *err, size_t errlen)
{
	Buf			b;
	int			rc;

	buf_init(&b);
	if ((rc = buf_read_file(&b, path, JWT_KEY_FILE_MAX)) != 0)
	{
		if (rc == EFBIG)
			snprintf(err, errlen, "jwt-secret: @%s is larger than 1 MiB", path);
		else
			snprintf(err, errlen, "jwt-secret: cannot read @%s: %s", path, strerror(rc));
		buf_free(&b);
		return NULL;
	}
	while (b.len > 0 && strchr(" \t\r\n", b.data[b.len - 1]) != NULL)
		b.len--;
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

/*
 * The bytes of a base64 secret (standard or URL-safe alphabet, padding optional) into key;
 * false when it is not base64.
 */
static bool
decode_base64_secret(const char *value, JwkKey *key)
{
	size_t		len = strlen(value);
	char	   *std = xmalloc(len + 4);
	size_t		n = 0;
	int			out;

	for (const char *c = value; *c && *c != '='; c++)
		std[n++] = *c == '-' ? '+' : *c == '_' ? '/' : *c;
	if (value[n] == '=' && value[n + strspn(value + n, "=")] != '\0')
		n = 0;					/* something after the padding */
	if (n % 4 == 1 || n == 0)
	{
		free(std);
		return false;
	}
	while (n % 4)
		std[n++] = '=';
	key->secret = xmalloc(n / 4 * 3 + 1);
	out = EVP_DecodeBlock(key->secret, (const unsigned char *) std, (int) n);
	if (out >= 0)
		out -= (int) strspn(std + n - 2, "=") == 2 ? 2 : std[n - 1] == '=' ? 1 : 0;
	OPENSSL_cleanse(std, n);
	free(std);
	if (out < 0)
	{
		free(key->secret);
		key->secret = NULL;
		return false;
	}
	key->secret_len = (size_t) out;
	return true;
}

/*
 * value (a JWK or JWK Set, a PEM key or a secret; see jwt.h) into a key set with refcount 1.
 * base64: a secret is given in base64 (jwt-secret-is-base64).
 */
static KeySet *
keyset_parse(const char *value, bool base64, char *err, size_t errlen)
{
	KeySet	   *set = xmalloc(sizeof(KeySet));
	bool		ok = true;

	set->refcount = 1;
	set->nkeys = 1;
	set->keys = xmalloc(sizeof(JwkKey));
	memset(set->keys, 0, sizeof(JwkKey));
	if (value[strspn(value, " \t\r\n")] == '{')
	{
		free(set->keys);
		set->keys = jwk_parse(value, &set->nkeys, err, errlen);
		ok = set->keys != NULL;
	}
	else if (strncmp(value, "-----BEGIN", 10) == 0)
		ok = jwk_pem_key(value, &set->keys[0], err, errlen);
	else if (base64)
	{
		set->keys[0].kind = JWK_HMAC;
		if (!decode_base64_secret(value, &set->keys[0]))
		{
			snprintf(err, errlen, "jwt-secret: jwt-secret-is-base64 is on, but the secret is not base64");
			ok = false;
		}
		else if (set->keys[0].secret_len < JWK_MIN_SECRET)
		{
			snprintf(err, errlen, "jwt-secret: the base64 secret decodes to %zu bytes; an HMAC secret "
					 "needs at least 32", set->keys[0].secret_len);
			OPENSSL_cleanse(set->keys[0].secret, set->keys[0].secret_len);
			free(set->keys[0].secret);
			ok = false;
		}
	}
	else if (strlen(value) < JWK_MIN_SECRET)
	{
		snprintf(err, errlen, "jwt-secret: an HMAC secret must have at least 32 characters");
		ok = false;
	}
	else
	{
		set->keys[0].kind = JWK_HMAC;
		set->keys[0].secret_len = strlen(value);
		set->keys[0].secret = (unsigned char *) xstrdup(value);
	}
	if (!ok)
	{
		free(set->keys);
		free(set);
		return NULL;
	}
	return set;
}

/* keyset_parse of value, or of the file it names when it is "@path". */
static KeySet *
keyset_load(const char *value, bool base64, char *err, size_t errlen)
{
	char	   *contents;
	KeySet	   *set;

	if (value[0] != '@')
		return keyset_parse(value, base64, err, errlen);
	if ((contents = read_key_file(value + 1, err, errlen)) == NULL)
		return NULL;
	set = keyset_parse(contents, base64, err, errlen);
	OPENSSL_cleanse(contents, strlen(contents));
	free(contents);
	return set;
}

static KeySet *
keyset_acquire(JwtKey *key)
{
	KeySet	   *set;

	pthread_mutex_lock(&key->lock);
	set = key->current;
	set->refcount++;
	pthread_mutex_unlock(&key->lock);
	return set;
}

static void
keyset_release(JwtKey *key, KeySet *set)
{
	bool		last;

	pthread_mutex_lock(&key->lock);
	last = --set->refcount == 0;
	pthread_mutex_unlock(&key->lock);
	if (last)
		keyset_free(set);
}

JwtKey *
jwt_key_load(const char *value, bool base64, char *err, size_t errlen)
{
	KeySet	   *set = keyset_load(value, base64, err, errlen);
	JwtKey	   *key;

	if (set == NULL)
		return NULL;
	key = xmalloc(sizeof(JwtKey));
	pthread_mutex_init(&key->lock, NULL);
	key->current = set;
	return key;
}

int
jwt_key_reload(JwtKey *key, const char *value, bool base64, char *err, size_t errlen)
{
	KeySet	   *set = keyset_load(value, base64, err, errlen);
	KeySet	   *old;
	int			nkeys;

	if (set == NULL)
		return -1;
	nkeys = set->nkeys;
	pthread_mutex_lock(&key->lock);
	old = key->current;
	key->current = set;
	pthread_mutex_unlock(&key->lock);
	keyset_release(key, old);
	return nkeys;
}

void
jwt_key_free(JwtKey *key)
{
	if (key == NULL)
		return;
	keyset_release(key, key->current);
	pthread_mutex_destroy(&key->lock);
	free(key);
}

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes base64url without padding; NULL on bad input.  *outlen excludes the added NUL. */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out = xmalloc(n * 3 / 4 + 3);
	size_t		j = 0;
	unsigned int acc = 0;
	int			bits = 0;

	if (n % 4 == 1)
	{
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
	{
		int			v = b64url_value(s[i]);

		if (v < 0)
		{
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[j++] = (unsigned char) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[j] = '\0';
	*outlen = j;
	return out;
}

static char *
b64url_encode(const unsigned char *in, size_t n)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char	   *out = xmalloc(n * 4 / 3 + 4);
	size_t		j = 0;

	for (size_t i = 0; i < n; i += 3)
	{
		unsigned int v = (unsigned int) in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned int) in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[j++] = tbl[(v >> 18) & 63];
		out[j++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[j++] = tbl[(v >> 6) & 63];
		if (i + 2 < n)
			out[j++] = tbl[v & 63];
	}
	out[j] = '\0';
	return out;
}

/* The token algorithms: which key kind (and EC coordinate size) verifies each, with which digest. */
static const struct
{
	const char *alg;
	JwkKind		kind;
	size_t		ec_coord_len;
	const EVP_MD *(*md) (void);
}			algs[] = {
	{"HS256", JWK_HMAC, 0, EVP_sha256},
	{"HS384", JWK_HMAC, 0, EVP_sha384},
	{"HS512", JWK_HMAC, 0, EVP_sha512},
	{"RS256", JWK_RSA, 0, EVP_sha256},
	{"RS384", JWK_RSA, 0, EVP_sha384},
	{"RS512", JWK_RSA, 0, EVP_sha512},
	{"ES256", JWK_EC, 32, EVP_sha256},
	{"ES384", JWK_EC, 48, EVP_sha384},
};
#define NALGS ((int) (sizeof(algs) / sizeof(algs[0])))

static bool
alg_fits_key(int a, const JwkKey *k)
{
	return k->kind == algs[a].kind && (k->kind != JWK_EC || k->ec_coord_len == algs[a].ec_coord_len);
}

/* A JWS ECDSA signature (r || s, each coord_len bytes) as the DER that OpenSSL verifies. */
static unsigned char *
ecdsa_der(const unsigned char *sig, size_t siglen, size_t coord_len, int *derlen)
{
	ECDSA_SIG  *es;
	BIGNUM	   *r, *s;
	unsigned char *der = NULL;

	if (siglen != 2 * coord_len || (es = ECDSA_SIG_new()) == NULL)
		return NULL;
	r = BN_bin2bn(sig, (int) coord_len, NULL);
	s = BN_bin2bn(sig + coord_len, (int) coord_len, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
	{
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	*derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	return *derlen > 0 ? der : NULL;
}

static bool
signature_ok(const JwkKey *key, const EVP_MD *md, const char *signed_part, size_t signed_len,
			 const unsigned char *sig, size_t siglen)
{
	if (key->kind == JWK_HMAC)
	{
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		if (HMAC(md, key->secret, (int) key->secret_len, (const unsigned char *) signed_part,
				 signed_len, mac, &maclen) == NULL)
			return false;
		return maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
	}
	else
	{
		unsigned char *der = NULL;
		int			derlen = 0;
		EVP_MD_CTX *ctx;
		bool		ok;

		if (key->kind == JWK_EC)
		{
			if ((der = ecdsa_der(sig, siglen, key->ec_coord_len, &derlen)) == NULL)
				return false;
			sig = der;
			siglen = (size_t) derlen;
		}
		ctx = EVP_MD_CTX_new();
		ok = ctx != NULL &&
			EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) == 1 &&
			EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *) signed_part, signed_len) == 1;
		EVP_MD_CTX_free(ctx);
		OPENSSL_free(der);
		return ok;
	}
}

static bool
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return false;
}

/* "JWT algorithm not allowed: expected HS256, HS384 or HS512": the algs the keys can verify. */
static bool
alg_not_allowed(const KeySet *set, char *err, size_t errlen)
{
	int			fits[NALGS];
	int			n = 0;
	size_t		used;

	for (int a = 0; a < NALGS; a++)
		for (int i = 0; i < set->nkeys; i++)
			if (alg_fits_key(a, &set->keys[i]))
			{
				fits[n++] = a;
				break;
			}
	used = (size_t) snprintf(err, errlen, "JWT algorithm not allowed: expected");
	for (int i = 0; i < n && used < errlen; i++)
		used += (size_t) snprintf(err + used, errlen - used, "%s%s",
								  i == 0 ? " " : i == n - 1 ? " or " : ", ", algs[fits[i]].alg);
	return false;
}

/*
 * The header's alg picks the keys that can verify it (HS* -> secrets, RS* -> RSA keys, ES256 ->
 * P-256 keys, ES384 -> P-384 keys; anything else is refused) and its kid among those (keys with
 * that kid or none; no kid -> each of them); the signature must verify with one of them.
 */
static bool
verify_signature(const KeySet *set, json_t *header, const char *signed_part, size_t signed_len,
				 const unsigned char *sig, size_t siglen, char *err, size_t errlen)
{
	const char *alg = json_string_value(json_object_get(header, "alg"));
	json_t	   *kid = json_object_get(header, "kid");
	int			a;
	bool		usable = false, candidate = false;

	for (a = 0; a < NALGS; a++)
		if (alg && strcmp(alg, algs[a].alg) == 0)
			break;
	for (int i = 0; a < NALGS && i < set->nkeys; i++)
		usable |= alg_fits_key(a, &set->keys[i]);
	if (!usable)
		return alg_not_allowed(set, err, errlen);
	if (kid && !json_is_string(kid))
		return fail(err, errlen, "JWT malformed: kid must be a string");
	for (int i = 0; i < set->nkeys; i++)
	{
		const JwkKey *k = &set->keys[i];

		if (!alg_fits_key(a, k) ||
			(kid && k->kid && strcmp(k->kid, json_string_value(kid)) != 0))
			continue;
		candidate = true;
		if (signature_ok(k, algs[a].md(), signed_part, signed_len, sig, siglen))
			return true;
	}
	return fail(err, errlen, candidate ? "JWT invalid signature" : "JWT kid matches no key");
}

static bool
aud_ok(json_t *claims, const char *aud)
{
	json_t	   *a = json_object_get(claims, "aud");
	size_t		i;
	json_t	   *v;

	if (aud == NULL || a == NULL)
		return true;
	if (json_is_string(a))
		return strcmp(json_string_value(a), aud) == 0;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), aud) == 0)
		return true;
	return false;
}

static json_t *
claim_at_path(json_t *claims, const char *path)
{
	char	   *copy = xstrdup(path);
	char	   *save = NULL;
	json_t	   *cur = claims;

	for (char *tok = strtok_r(copy, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, tok);
	free(copy);
	return cur;
}

static bool
check_claims(json_t *claims, const char *aud, time_t now, char *err, size_t errlen)
{
	json_t	   *exp = json_object_get(claims, "exp");
	json_t	   *nbf = json_object_get(claims, "nbf");

	if (exp && !json_is_number(exp))
		return fail(err, errlen, "JWT claim exp is not a number");
	if (nbf && !json_is_number(nbf))
		return fail(err, errlen, "JWT claim nbf is not a number");
	if (exp && json_number_value(exp) + JWT_LEEWAY <= (double) now)
		return fail(err, errlen, "JWT expired");
	if (nbf && json_number_value(nbf) - JWT_LEEWAY > (double) now)
		return fail(err, errlen, "JWT not yet valid");
	if (!aud_ok(claims, aud))
		return fail(err, errlen, "JWT not in audience");
	return true;
}

bool
jwt_verify(JwtKey *key, const char *token, const char *aud, const char *role_claim,
		   time_t now, JwtResult *out, char *err, size_t errlen)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	unsigned char *hdr = NULL, *payload = NULL, *sig = NULL;
	size_t		hdrlen, paylen, siglen;
	json_t	   *jh = NULL, *claims = NULL;
	KeySet	   *set = NULL;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return fail(err, errlen, "JWT malformed: expected 3 parts");
	hdr = b64url_decode(token, (size_t) (dot1 - token), &hdrlen);
	payload = b64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), &paylen);
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
	if (!hdr || !payload || !sig)
	{
		fail(err, errlen, "JWT malformed: bad base64url");
		goto done;
	}
	jh = json_loadb((const char *) hdr, hdrlen, 0, NULL);
	claims = json_loadb((const char *) payload, paylen, 0, NULL);
	if (!json_is_object(jh) || !json_is_object(claims))
	{
		fail(err, errlen, "JWT malformed: header and payload must be JSON objects");
		goto done;
	}
	set = keyset_acquire(key);
	if (!verify_signature(set, jh, token, (size_t) (dot2 - token), sig, siglen, err, errlen))
		goto done;
	if (!check_claims(claims, aud, now, err, errlen))
		goto done;
	{
		json_t	   *role = claim_at_path(claims, role_claim);

		if (role && !json_is_string(role))
		{
			fail(err, errlen, "JWT role claim is not a string");
			goto done;
		}
		out->role = role ? xstrdup(json_string_value(role)) : NULL;
	}
	out->claims_json = json_dumps(claims, JSON_COMPACT);
	ok = out->claims_json != NULL;
done:
	if (set)
		keyset_release(key, set);
	free(hdr);
	free(payload);
	free(sig);
	json_decref(jh);
	json_decref(claims);
	return ok;
}

void
jwt_result_free(JwtResult *r)
{
	free(r->claims_json);
	free(r->role);
	r->claims_json = r->role = NULL;
}

/* claims_json as an HS256 token signed with the HMAC secret of len bytes (malloc'd). */
static char *
sign_hs256(const unsigned char *secret, size_t len, const char *claims_json)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char	   *h = b64url_encode((const unsigned char *) header, strlen(header));
	char	   *p = b64url_encode((const unsigned char *) claims_json, strlen(claims_json));
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	Buf			b;
	char	   *s;

	buf_init(&b);
	buf_printf(&b, "%s.%s", h, p);
	HMAC(EVP_sha256(), secret, (int) len, (unsigned char *) b.data, b.len, mac, &maclen);
	s = b64url_encode(mac, maclen);
	buf_printf(&b, ".%s", s);
	free(h);
	free(p);
	free(s);
	return buf_steal(&b);
}

char *
jwt_sign_hs256(const char *secret, const char *claims_json)
{
	return sign_hs256((const unsigned char *) secret, strlen(secret), claims_json);
}

char *
jwt_key_sign_hs256(JwtKey *key, const char *claims_json, char *err, size_t errlen)
{
	KeySet	   *set = keyset_acquire(key);
	char	   *token = NULL;

	for (int i = 0; i < set->nkeys && token == NULL; i++)
		if (set->keys[i].kind == JWK_HMAC)
			token = sign_hs256(set->keys[i].secret, set->keys[i].secret_len, claims_json);
	keyset_release(key, set);
	if (token == NULL)
		snprintf(err, errlen, "jwt-secret holds no HMAC secret to sign HS256 with (public keys only verify)");
	return token;
}
