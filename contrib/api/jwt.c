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

#define JWT_LEEWAY 30

struct JwtKey
{
	bool		is_rsa;
	unsigned char *secret;
	size_t		secret_len;
	EVP_PKEY   *pkey;
};

JwtKey *
jwt_key_load(const char *value, char *err, size_t errlen)
{
	JwtKey	   *key = xmalloc(sizeof(JwtKey));

	memset(key, 0, sizeof(*key));
	if (strncmp(value, "-----BEGIN", 10) == 0)
	{
		BIO		   *bio = BIO_new_mem_buf(value, -1);

		key->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (key->pkey == NULL || EVP_PKEY_base_id(key->pkey) != EVP_PKEY_RSA)
		{
			snprintf(err, errlen, "jwt-secret: not a PEM RSA public key");
			jwt_key_free(key);
			return NULL;
		}
		key->is_rsa = true;
		return key;
	}
	if (strlen(value) < 32)
	{
		snprintf(err, errlen, "jwt-secret: an HMAC secret must have at least 32 characters");
		jwt_key_free(key);
		return NULL;
	}
	key->secret_len = strlen(value);
	key->secret = (unsigned char *) xstrdup(value);
	return key;
}

void
jwt_key_free(JwtKey *key)
{
	if (key == NULL)
		return;
	if (key->secret)
		OPENSSL_cleanse(key->secret, key->secret_len);
	free(key->secret);
	EVP_PKEY_free(key->pkey);
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

static const EVP_MD *
md_for_alg(const char *alg, bool rsa)
{
	const char *want = rsa ? "RS" : "HS";

	if (alg == NULL || strncmp(alg, want, 2) != 0)
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
signature_ok(const JwtKey *key, const EVP_MD *md, const char *signed_part, size_t signed_len,
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
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return false;
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
	const EVP_MD *md;
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
	md = md_for_alg(json_string_value(json_object_get(jh, "alg")), key->is_rsa);
	if (md == NULL)
	{
		fail(err, errlen, key->is_rsa ? "JWT algorithm not allowed: expected RS256, RS384 or RS512"
			 : "JWT algorithm not allowed: expected HS256, HS384 or HS512");
		goto done;
	}
	if (!signature_ok(key, md, token, (size_t) (dot2 - token), sig, siglen))
	{
		fail(err, errlen, "JWT invalid signature");
		goto done;
	}
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
