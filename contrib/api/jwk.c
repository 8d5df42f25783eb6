/*
 * jwk.c — JWK / JWK Set parsing into verification keys (see jwk.h).
 */
#include "jwk.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * Decodes base64url (RFC 4648 §5, padding optional) with OpenSSL's EVP_DecodeBlock; malloc'd,
 * NULL on bad input.
 */
static unsigned char *
b64url_decode(const char *s, size_t *outlen)
{
	size_t		n = strlen(s);
	size_t		padded;
	char	   *std;
	unsigned char *out;
	int			len;
	size_t		pad = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n == 0 || n % 4 == 1)
		return NULL;
	padded = (n + 3) / 4 * 4;
	std = xmalloc(padded + 1);
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == '+' || c == '/')
			c = '!';			/* not base64url: make EVP_DecodeBlock refuse it */
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	for (size_t i = n; i < padded; i++, pad++)
		std[i] = '=';
	std[padded] = '\0';
	out = xmalloc(padded / 4 * 3 + 1);
	len = EVP_DecodeBlock(out, (const unsigned char *) std, (int) padded);
	free(std);
	if (len < 0 || (size_t) len < pad)
	{
		free(out);
		return NULL;
	}
	*outlen = (size_t) len - pad;
	return out;
}

static bool
bad_key(char *err, size_t errlen, int index, const char *what)
{
	snprintf(err, errlen, "jwt-secret: JWK %d: %s", index + 1, what);
	return false;
}

/* A big-endian unsigned integer member (n, e) as a BIGNUM; NULL when missing or malformed. */
static BIGNUM *
bignum_member(json_t *jwk, const char *name)
{
	const char *v = json_string_value(json_object_get(jwk, name));
	size_t		len;
	unsigned char *bytes = v ? b64url_decode(v, &len) : NULL;
	BIGNUM	   *bn = bytes && len > 0 ? BN_bin2bn(bytes, (int) len, NULL) : NULL;

	free(bytes);
	return bn;
}

static bool
rsa_key(json_t *jwk, JwkKey *key, int index, char *err, size_t errlen)
{
	BIGNUM	   *n = bignum_member(jwk, "n");
	BIGNUM	   *e = bignum_member(jwk, "e");
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	bool		ok = false;

	if (n == NULL || e == NULL)
		bad_key(err, errlen, index, "an RSA key needs \"n\" and \"e\" in base64url");
	else if (BN_num_bits(n) < 2048)
		bad_key(err, errlen, index, "the RSA modulus \"n\" must have at least 2048 bits");
	else
	{
		bld = OSSL_PARAM_BLD_new();
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		if (bld && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
			OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
			(params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
			EVP_PKEY_fromdata_init(ctx) == 1 &&
			EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1)
		{
			key->is_rsa = true;
			ok = true;
		}
		else
			bad_key(err, errlen, index, "OpenSSL refused the RSA key");
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return ok;
}

static bool
oct_key(json_t *jwk, JwkKey *key, int index, char *err, size_t errlen)
{
	const char *k = json_string_value(json_object_get(jwk, "k"));

	if (k == NULL || (key->secret = b64url_decode(k, &key->secret_len)) == NULL)
		return bad_key(err, errlen, index, "a symmetric (oct) key needs \"k\" in base64url");
	if (key->secret_len < JWK_MIN_SECRET)
		return bad_key(err, errlen, index, "a symmetric (oct) key must have at least 32 bytes");
	return true;
}

/* One JWK into key.  "alg", when given, must fit the key type. */
static bool
parse_key(json_t *jwk, JwkKey *key, int index, char *err, size_t errlen)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	json_t	   *kid = json_object_get(jwk, "kid");
	const char *alg = json_string_value(json_object_get(jwk, "alg"));
	bool		ok;

	if (!json_is_object(jwk))
		return bad_key(err, errlen, index, "not a JSON object");
	if (kid && !json_is_string(kid))
		return bad_key(err, errlen, index, "\"kid\" must be a string");
	if (kty == NULL)
		return bad_key(err, errlen, index, "\"kty\" is missing");
	if (strcmp(kty, "RSA") == 0)
		ok = rsa_key(jwk, key, index, err, errlen);
	else if (strcmp(kty, "oct") == 0)
		ok = oct_key(jwk, key, index, err, errlen);
	else
		return bad_key(err, errlen, index, "unsupported \"kty\" (RSA and oct are supported)");
	if (ok && alg && strncmp(alg, key->is_rsa ? "RS" : "HS", 2) != 0)
		ok = bad_key(err, errlen, index, key->is_rsa ? "an RSA key's \"alg\" must be RS256, RS384 or RS512"
					 : "an oct key's \"alg\" must be HS256, HS384 or HS512");
	if (ok && kid)
		key->kid = xstrdup(json_string_value(kid));
	return ok;
}

JwkKey *
jwk_parse(const char *json, int *nkeys, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	   *root = json_loads(json, 0, &jerr);
	json_t	   *set;
	JwkKey	   *keys = NULL;
	int			n;

	*nkeys = 0;
	if (!json_is_object(root))
	{
		snprintf(err, errlen, "jwt-secret: not a valid JWK or JWK Set: %s",
				 root ? "expected a JSON object" : jerr.text);
		json_decref(root);
		return NULL;
	}
	set = json_object_get(root, "keys");
	if (set && (!json_is_array(set) || json_array_size(set) == 0))
	{
		snprintf(err, errlen, "jwt-secret: \"keys\" of a JWK Set must be a non-empty array");
		json_decref(root);
		return NULL;
	}
	n = set ? (int) json_array_size(set) : 1;
	keys = xmalloc(sizeof(JwkKey) * (size_t) n);
	memset(keys, 0, sizeof(JwkKey) * (size_t) n);
	for (int i = 0; i < n; i++)
	{
		if (!parse_key(set ? json_array_get(set, (size_t) i) : root, &keys[i], i, err, errlen))
		{
			for (int k = 0; k <= i; k++)
				jwk_key_clear(&keys[k]);
			free(keys);
			json_decref(root);
			return NULL;
		}
	}
	json_decref(root);
	*nkeys = n;
	return keys;
}

void
jwk_key_clear(JwkKey *key)
{
	if (key->secret)
		OPENSSL_cleanse(key->secret, key->secret_len);
	free(key->secret);
	EVP_PKEY_free(key->pkey);
	free(key->kid);
	memset(key, 0, sizeof(*key));
}
