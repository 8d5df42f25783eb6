/*
 * webhook_sign.h — Standard Webhooks v1 signatures (HMAC-SHA256), with no PostgreSQL dependency.
 *
 * signed content = webhook-id "." webhook-timestamp "." body; the key is the base64-decoded part
 * of a "whsec_..." secret; the header entry is "v1," + base64(HMAC-SHA256(key, content)).
 * See /work/shared/specs/standard-webhooks.md and test/unit/webhook_sign.sh.
 */
#ifndef WEBHOOK_SIGN_H
#define WEBHOOK_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Secret keys are 24..64 random bytes (the specification's range). */
#define WEBHOOK_KEY_MIN 24
#define WEBHOOK_KEY_MAX 64
/* Bytes of key in a newly generated secret. */
#define WEBHOOK_KEY_NEW 32
/* "whsec_" + base64 of WEBHOOK_KEY_MAX bytes + NUL. */
#define WEBHOOK_SECRET_TEXT_MAX (6 + 4 * ((WEBHOOK_KEY_MAX + 2) / 3) + 1)
/* "v1," + base64 of a 32-byte MAC + NUL. */
#define WEBHOOK_SIGNATURE_LEN (3 + 44)

typedef struct WebhookKey
{
	size_t		len;
	unsigned char bytes[WEBHOOK_KEY_MAX];
} WebhookKey;

/*
 * Decodes "whsec_<base64>" (the prefix is optional, missing '=' padding is tolerated) into key.
 * Returns false if the text is not base64 or the key length is outside 24..64 bytes.
 */
extern bool webhook_secret_decode(const char *secret, WebhookKey *key);

/* Writes a new random secret "whsec_<base64 of 32 bytes>" into out; false if no randomness. */
extern bool webhook_secret_generate(char out[WEBHOOK_SECRET_TEXT_MAX]);

/*
 * Writes "v1,<base64 signature>" (NUL-terminated, WEBHOOK_SIGNATURE_LEN chars) into out.
 * Returns false only if OpenSSL fails.
 */
extern bool webhook_sign_v1(const WebhookKey *key, const char *msg_id, int64_t timestamp,
							const char *body, size_t body_len,
							char out[WEBHOOK_SIGNATURE_LEN + 1]);

/*
 * True if any space-separated "v1,<sig>" entry of header matches the signature for key
 * (constant-time comparison; entries of other versions are skipped).
 */
extern bool webhook_verify_v1(const WebhookKey *key, const char *msg_id, int64_t timestamp,
							  const char *body, size_t body_len, const char *header);

/* Overwrites key material so the compiler cannot drop the write. */
extern void webhook_key_wipe(WebhookKey *key);

#endif							/* WEBHOOK_SIGN_H */
