/*
 * webhook_sign.c — Standard Webhooks v1 signing and verification (see webhook_sign.h).
 *
 * Pure C on top of OpenSSL (HMAC, base64, randomness, constant-time compare), so the unit test
 * test/unit/webhook_sign.sh can check it against the reference vectors without a server.
 */
#include "webhook_sign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SECRET_PREFIX "whsec_"

void
webhook_key_wipe(WebhookKey *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

bool
webhook_secret_decode(const char *secret, WebhookKey *key)
{
	char		padded[4 * ((WEBHOOK_KEY_MAX + 2) / 3) + 4];
	unsigned char raw[sizeof(padded)];
	size_t		len;
	size_t		npad = 0;
	int			decoded;

	if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0)
		secret += strlen(SECRET_PREFIX);
	len = strlen(secret);
	if (len == 0 || len + 3 >= sizeof(padded))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		char		c = secret[i];

		if (c == '=')
		{
			if (len - i > 2)
				return false;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '+' || c == '/'))
			return false;
	}
	memcpy(padded, secret, len);
	while ((len % 4) != 0)
		padded[len++] = '=';
	padded[len] = '\0';
	/* EVP_DecodeBlock counts padding as zero bytes: subtract them. */
	for (size_t i = len; i > 0 && padded[i - 1] == '='; i--)
		npad++;
	if (npad > 2)
		return false;
	decoded = EVP_DecodeBlock(raw, (const unsigned char *) padded, (int) len);
	if (decoded < 0)
		return false;
	decoded -= (int) npad;
	if (decoded < WEBHOOK_KEY_MIN || decoded > WEBHOOK_KEY_MAX)
	{
		OPENSSL_cleanse(raw, sizeof(raw));
		return false;
	}
	key->len = (size_t) decoded;
	memcpy(key->bytes, raw, key->len);
	OPENSSL_cleanse(raw, sizeof(raw));
	return true;
}

bool
webhook_secret_generate(char out[WEBHOOK_SECRET_TEXT_MAX])
{
	unsigned char raw[WEBHOOK_KEY_NEW];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	memcpy(out, SECRET_PREFIX, strlen(SECRET_PREFIX));
	EVP_EncodeBlock((unsigned char *) out + strlen(SECRET_PREFIX), raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return true;
}

/* Computes the raw HMAC-SHA256 of "msg_id.timestamp.body". */
static bool
sign_raw(const WebhookKey *key, const char *msg_id, int64_t timestamp,
		 const char *body, size_t body_len, unsigned char mac[32])
{
	static EVP_MAC *hmac = NULL;
	char		ts[24];
	char		digest[] = "SHA256";
	size_t		mac_len = 0;
	bool		ok;
	EVP_MAC_CTX *ctx;
	OSSL_PARAM	params[2];

	if (hmac == NULL && (hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return false;
	if ((ctx = EVP_MAC_CTX_new(hmac)) == NULL)
		return false;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	snprintf(ts, sizeof(ts), "%lld", (long long) timestamp);
	ok = EVP_MAC_init(ctx, key->bytes, key->len, params) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) msg_id, strlen(msg_id)) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) ".", 1) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) ts, strlen(ts)) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) ".", 1) == 1 &&
		EVP_MAC_update(ctx, (const unsigned char *) body, body_len) == 1 &&
		EVP_MAC_final(ctx, mac, &mac_len, 32) == 1 && mac_len == 32;
	EVP_MAC_CTX_free(ctx);
	return ok;
}

bool
webhook_sign_v1(const WebhookKey *key, const char *msg_id, int64_t timestamp,
				const char *body, size_t body_len, char out[WEBHOOK_SIGNATURE_LEN + 1])
{
	unsigned char mac[32];

	if (!sign_raw(key, msg_id, timestamp, body, body_len, mac))
		return false;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *) out + 3, mac, sizeof(mac));
	return true;
}

bool
webhook_verify_v1(const WebhookKey *key, const char *msg_id, int64_t timestamp,
				  const char *body, size_t body_len, const char *header)
{
	char		expected[WEBHOOK_SIGNATURE_LEN + 1];
	const char *p = header;
	bool		found = false;

	if (!webhook_sign_v1(key, msg_id, timestamp, body, body_len, expected))
		return false;
	while (*p != '\0')
	{
		const char *end = strchr(p, ' ');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (n == WEBHOOK_SIGNATURE_LEN && strncmp(p, "v1,", 3) == 0 &&
			CRYPTO_memcmp(p, expected, WEBHOOK_SIGNATURE_LEN) == 0)
			found = true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return found;
}
