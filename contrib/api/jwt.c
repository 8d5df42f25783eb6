/*
 * jwt.c — JWT verification and HS256 signing (see jwt.h).
 */
#include "jwt.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jwk.h"

#define JWT_LEEWAY 30

/* The configured keys: one (a secret or a PEM key) or those of a JWK / JWK Set. */
struct JwtKey
{
	JwkKey	   *keys;
	int			nkeys;
};

static JwtKey *
single_key(JwkKey k)
{
	JwtKey	   *key = xmalloc(sizeof(JwtKey));

	key->keys = xmalloc(sizeof(JwkKey));
	key->keys[0] = k;
	key->nkeys = 1;
	return key;
}

JwtKey *
jwt_key_load(const char *value, char *err, size_t errlen)
{
	JwkKey		k;

	memset(&k, 0, sizeof(k));
	if (value[strspn(value, " \t\r\n")] == '{')
	{
		JwtKey	   *key = xmalloc(sizeof(JwtKey));

		key->keys = jwk_parse(value, &key->nkeys, err, errlen);
		if (key->keys == NULL)
		{
			free(key);
			return NULL;
		}
		return key;
	}
	if (strncmp(value, "-----BEGIN", 10) == 0)
	{
		BIO		   *bio = BIO_new_mem_buf(value, -1);

		k.pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (k.pkey == NULL || EVP_PKEY_base_id(k.pkey) != EVP_PKEY_RSA)
		{
			snprintf(err, errlen, "jwt-secret: not a PEM RSA public key");
			jwk_key_clear(&k);
			return NULL;
		}
		k.is_rsa = true;
		return single_key(k);
	}
	if (strlen(value) < JWK_MIN_SECRET)
	{
		snprintf(err, errlen, "jwt-secret: an HMAC secret must have at least 32 characters");
		return NULL;
	}
	k.secret_len = strlen(value);
	k.secret = (unsigned char *) xstrdup(value);
	return single_key(k);
}

void
jwt_key_free(JwtKey *key)
{
	if (key == NULL)
		return;
	for (int i = 0; i < key->nkeys; i++)
		jwk_key_clear(&key->keys[i]);
	free(key->keys);
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

/* The digest of an RS* or HS* alg; NULL for any other (none, ES256, HS/RS typos). */
static const EVP_MD *
md_for_alg(const char *alg)
{
	if (alg == NULL || (strncmp(alg, "RS", 2) != 0 && strncmp(alg, "HS", 2) != 0))
		return NULL;
	if (strcmp(alg + 2, "256") == 0)
		return EVP_sha256();
	if (strcmp(alg + 2, "384") == 0)
		return EVP_sha384();
	if (strcmp(alg + 2, "512") == 0)
		return EVP_sha512();
	return NULL;
}

static bool
signature_ok(const JwkKey *key, const EVP_MD *md, const char *signed_part, size_t signed_len,
			 const unsigned char *sig, size_t siglen)
{
	if (!key->is_rsa)
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
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		bool		ok = ctx != NULL &&
			EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) == 1 &&
			EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *) signed_part, signed_len) == 1;

		EVP_MD_CTX_free(ctx);
		return ok;
	}
}

static bool
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return false;
}

/*
 * The header's alg picks the key type (RS* -> RSA keys, HS* -> secrets, anything else is
 * refused) and its kid the keys (those with that kid or none; no kid -> every key of the
 * type); the signature must verify with one of them.
 */
static bool
verify_signature(const JwtKey *key, json_t *header, const char *signed_part, size_t signed_len,
				 const unsigned char *sig, size_t siglen, char *err, size_t errlen)
{
	const char *alg = json_string_value(json_object_get(header, "alg"));
	json_t	   *kid = json_object_get(header, "kid");
	const EVP_MD *md = md_for_alg(alg);
	bool		rsa = md && alg[0] == 'R';
	bool		has_rsa = false, has_hmac = false, candidate = false;

	for (int i = 0; i < key->nkeys; i++)
	{
		has_rsa |= key->keys[i].is_rsa;
		has_hmac |= !key->keys[i].is_rsa;
	}
	if (md == NULL || (rsa && !has_rsa) || (!rsa && !has_hmac))
		return fail(err, errlen, !has_hmac ? "JWT algorithm not allowed: expected RS256, RS384 or RS512"
					: !has_rsa ? "JWT algorithm not allowed: expected HS256, HS384 or HS512"
					: "JWT algorithm not allowed: expected HS256, HS384, HS512, RS256, RS384 or RS512");
	if (kid && !json_is_string(kid))
		return fail(err, errlen, "JWT malformed: kid must be a string");
	for (int i = 0; i < key->nkeys; i++)
	{
		const JwkKey *k = &key->keys[i];

		if (k->is_rsa != rsa ||
			(kid && k->kid && strcmp(k->kid, json_string_value(kid)) != 0))
			continue;
		candidate = true;
		if (signature_ok(k, md, signed_part, signed_len, sig, siglen))
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
jwt_verify(const JwtKey *key, const char *token, const char *aud, const char *role_claim,
		   time_t now, JwtResult *out, char *err, size_t errlen)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	unsigned char *hdr = NULL, *payload = NULL, *sig = NULL;
	size_t		hdrlen, paylen, siglen;
	json_t	   *jh = NULL, *claims = NULL;
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
	if (!verify_signature(key, jh, token, (size_t) (dot2 - token), sig, siglen, err, errlen))
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

char *
jwt_sign_hs256(const char *secret, const char *claims_json)
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
	HMAC(EVP_sha256(), secret, (int) strlen(secret), (unsigned char *) b.data, b.len, mac, &maclen);
	s = b64url_encode(mac, maclen);
	buf_printf(&b, ".%s", s);
	free(h);
	free(p);
	free(s);
	return buf_steal(&b);
}
