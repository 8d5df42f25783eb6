/*
 * jwk.c — JWK / JWK Set parsing into verification keys (see jwk.h).
 */
#include "jwk.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
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
			key->kind = JWK_RSA;
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

/* The JWK / OpenSSL names of the supported curves and their coordinate sizes. */
static const struct
{
	const char *crv;
	const char *group;
	size_t		coord_len;
}			ec_curves[] = {
	{"P-256", "prime256v1", 32},
	{"P-384", "secp384r1", 48},
};

/* A base64url coordinate (x, y) of exactly len bytes into out; false when missing or malformed. */
static bool
coordinate_member(json_t *jwk, const char *name, size_t len, unsigned char *out)
{
	const char *v = json_string_value(json_object_get(jwk, name));
	size_t		got = 0;
	unsigned char *bytes = v ? b64url_decode(v, &got) : NULL;
	bool		ok = bytes != NULL && got == len;

	if (ok)
		memcpy(out, bytes, len);
	free(bytes);
	return ok;
}

static bool
ec_key(json_t *jwk, JwkKey *key, int index, char *err, size_t errlen)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	unsigned char point[1 + 2 * 48];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY_CTX *check = NULL;
	size_t		c;
	size_t		len;
	bool		ok = false;

	for (c = 0; c < sizeof(ec_curves) / sizeof(ec_curves[0]); c++)
		if (crv && strcmp(crv, ec_curves[c].crv) == 0)
			break;
	if (c == sizeof(ec_curves) / sizeof(ec_curves[0]))
		return bad_key(err, errlen, index, "an EC key's \"crv\" must be P-256 or P-384");
	len = ec_curves[c].coord_len;
	point[0] = 0x04;			/* uncompressed point: 04 || x || y */
	if (!coordinate_member(jwk, "x", len, point + 1) || !coordinate_member(jwk, "y", len, point + 1 + len))
	{
		snprintf(err, errlen, "jwt-secret: JWK %d: an EC key on %s needs \"x\" and \"y\" of %zu bytes each in base64url",
				 index + 1, crv, len);
		return false;
	}
	bld = OSSL_PARAM_BLD_new();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (bld && ctx &&
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ec_curves[c].group, 0) &&
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * len) &&
		(params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		EVP_PKEY_fromdata_init(ctx) == 1 &&
		EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
		(check = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) != NULL &&
		EVP_PKEY_public_check(check) == 1)
	{
		key->kind = JWK_EC;
		key->ec_coord_len = len;
		ok = true;
	}
	else
		bad_key(err, errlen, index, "the EC point (\"x\", \"y\") is not on the curve");
	EVP_PKEY_CTX_free(check);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static bool
oct_key(json_t *jwk, JwkKey *key, int index, char *err, size_t errlen)
{
	const char *k = json_string_value(json_object_get(jwk, "k"));

	key->kind = JWK_HMAC;
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
	else if (strcmp(kty, "EC") == 0)
		ok = ec_key(jwk, key, index, err, errlen);
	else if (strcmp(kty, "oct") == 0)
		ok = oct_key(jwk, key, index, err, errlen);
	else
		return bad_key(err, errlen, index, "unsupported \"kty\" (RSA, EC and oct are supported)");
	if (ok && alg && key->kind == JWK_EC &&
		strcmp(alg, key->ec_coord_len == 32 ? "ES256" : "ES384") != 0)
		ok = bad_key(err, errlen, index, key->ec_coord_len == 32 ? "a P-256 key's \"alg\" must be ES256"
					 : "a P-384 key's \"alg\" must be ES384");
	else if (ok && alg && key->kind != JWK_EC && strncmp(alg, key->kind == JWK_RSA ? "RS" : "HS", 2) != 0)
		ok = bad_key(err, errlen, index, key->kind == JWK_RSA ? "an RSA key's \"alg\" must be RS256, RS384 or RS512"
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

bool
jwk_pem_key(const char *pem, JwkKey *key, char *err, size_t errlen)
{
	BIO		   *bio = BIO_new_mem_buf(pem, -1);
	char		group[64];
	size_t		c;

	memset(key, 0, sizeof(*key));
	key->pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key->pkey && EVP_PKEY_base_id(key->pkey) == EVP_PKEY_RSA)
	{
		key->kind = JWK_RSA;
		return true;
	}
	if (key->pkey && EVP_PKEY_base_id(key->pkey) == EVP_PKEY_EC &&
		EVP_PKEY_get_utf8_string_param(key->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1)
	{
		for (c = 0; c < sizeof(ec_curves) / sizeof(ec_curves[0]); c++)
			if (strcmp(group, ec_curves[c].group) == 0)
			{
				key->kind = JWK_EC;
				key->ec_coord_len = ec_curves[c].coord_len;
				return true;
			}
		snprintf(err, errlen, "jwt-secret: the PEM EC key is on curve %s (P-256 and P-384 are supported)", group);
	}
	else
		snprintf(err, errlen, "jwt-secret: not a PEM RSA or EC public key");
	jwk_key_clear(key);
	return false;
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
