/*
 * crypto_aead.h — the primitives under freight's encrypted columns: AES-256-GCM with 96-bit
 * nonces and 128-bit tags, and HMAC-SHA256.  Thin, allocation-free wrappers over OpenSSL EVP
 * with no PostgreSQL dependency, so the very code the extension runs is also driven by the
 * Wycheproof/NIST test vectors (test/unit/crypto_vectors.c).
 */
#ifndef CRYPTO_AEAD_H
#define CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_NONCE_LEN	12
#define AEAD_TAG_LEN	16
#define HMAC_SHA256_LEN	32

typedef struct AeadCipher AeadCipher;

/* A reusable cipher context; NULL when OpenSSL cannot allocate one. */
extern AeadCipher *aead_cipher_new(void);
extern void aead_cipher_free(AeadCipher *cipher);

/*
 * Encrypt len bytes of plaintext into ciphertext (same length) and write the tag.
 * The key schedule is kept while consecutive calls use the same key.  Returns 0 on success.
 */
extern int	aead_seal(AeadCipher *cipher, const uint8_t key[AEAD_KEY_LEN],
					  const uint8_t nonce[AEAD_NONCE_LEN],
					  const uint8_t *aad, size_t aad_len,
					  const uint8_t *plaintext, size_t len,
					  uint8_t *ciphertext, uint8_t tag[AEAD_TAG_LEN]);

/*
 * Decrypt and authenticate.  Returns 0 when the tag verifies, -1 when it does not (the output
 * buffer is then wiped and must not be used).
 */
extern int	aead_open(AeadCipher *cipher, const uint8_t key[AEAD_KEY_LEN],
					  const uint8_t nonce[AEAD_NONCE_LEN],
					  const uint8_t *aad, size_t aad_len,
					  const uint8_t *ciphertext, size_t len,
					  const uint8_t tag[AEAD_TAG_LEN], uint8_t *plaintext);

/* HMAC-SHA256 of msg under key.  Returns 0 on success. */
extern int	hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
						uint8_t out[HMAC_SHA256_LEN]);

/* Overwrite secrets in a way the compiler cannot drop. */
extern void secure_wipe(void *ptr, size_t len);

#endif							/* CRYPTO_AEAD_H */
