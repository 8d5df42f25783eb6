/*
 * crypto_aead.c — AES-256-GCM and HMAC-SHA256 over OpenSSL EVP (see crypto_aead.h).
 *
 * Only 96-bit nonces and full 128-bit tags are supported: that is what the column format uses,
 * and refusing everything else keeps GCM's security argument simple.  The cipher context is
 * reused across calls; when the key is the same as in the previous call, only the nonce is set,
 * which skips OpenSSL's key expansion (a measurable share of the cost for ~60-byte values).
 */
#include "crypto_aead.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

struct AeadCipher
{
	EVP_CIPHER_CTX *ctx;
	int			encrypting;		/* direction the context was last initialised for, or -1 */
	uint8_t		key[AEAD_KEY_LEN];	/* the key the context holds (valid when encrypting >= 0) */
};

AeadCipher *
aead_cipher_new(void)
{
	AeadCipher *cipher = OPENSSL_zalloc(sizeof(AeadCipher));

	if (cipher == NULL)
		return NULL;
	cipher->ctx = EVP_CIPHER_CTX_new();
	if (cipher->ctx == NULL)
	{
		OPENSSL_free(cipher);
		return NULL;
	}
	cipher->encrypting = -1;
	return cipher;
}

void
aead_cipher_free(AeadCipher *cipher)
{
	if (cipher == NULL)
		return;
	EVP_CIPHER_CTX_free(cipher->ctx);
	OPENSSL_clear_free(cipher, sizeof(AeadCipher));
}

/* Initialise the context for one message, re-using the key schedule when the key is unchanged. */
static int
aead_init(AeadCipher *cipher, int encrypting, const uint8_t key[AEAD_KEY_LEN],
		  const uint8_t nonce[AEAD_NONCE_LEN])
{
	int			same_key = cipher->encrypting == encrypting &&
		CRYPTO_memcmp(cipher->key, key, AEAD_KEY_LEN) == 0;

	if (!same_key)
	{
		cipher->encrypting = -1;
		if (EVP_CipherInit_ex(cipher->ctx, EVP_aes_256_gcm(), NULL, key, NULL, encrypting) != 1)
			return -1;
		memcpy(cipher->key, key, AEAD_KEY_LEN);
		cipher->encrypting = encrypting;
	}
	return EVP_CipherInit_ex(cipher->ctx, NULL, NULL, NULL, nonce, encrypting) == 1 ? 0 : -1;
}

int
aead_seal(AeadCipher *cipher, const uint8_t key[AEAD_KEY_LEN], const uint8_t nonce[AEAD_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *plaintext, size_t len,
		  uint8_t *ciphertext, uint8_t tag[AEAD_TAG_LEN])
{
	int			outl;

	if (len > INT32_MAX || aad_len > INT32_MAX || aead_init(cipher, 1, key, nonce) != 0)
		return -1;
	if (aad_len > 0 && EVP_EncryptUpdate(cipher->ctx, NULL, &outl, aad, (int) aad_len) != 1)
		return -1;
	if (len > 0 && EVP_EncryptUpdate(cipher->ctx, ciphertext, &outl, plaintext, (int) len) != 1)
		return -1;
	if (EVP_EncryptFinal_ex(cipher->ctx, ciphertext + len, &outl) != 1)
		return -1;
	return EVP_CIPHER_CTX_ctrl(cipher->ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) == 1 ? 0 : -1;
}

int
aead_open(AeadCipher *cipher, const uint8_t key[AEAD_KEY_LEN], const uint8_t nonce[AEAD_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *ciphertext, size_t len,
		  const uint8_t tag[AEAD_TAG_LEN], uint8_t *plaintext)
{
	int			outl;

	if (len > INT32_MAX || aad_len > INT32_MAX || aead_init(cipher, 0, key, nonce) != 0)
		return -1;
	if (aad_len > 0 && EVP_DecryptUpdate(cipher->ctx, NULL, &outl, aad, (int) aad_len) != 1)
		return -1;
	if (len > 0 && EVP_DecryptUpdate(cipher->ctx, plaintext, &outl, ciphertext, (int) len) != 1)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(cipher->ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, (void *) tag) != 1 ||
		EVP_DecryptFinal_ex(cipher->ctx, plaintext + len, &outl) != 1)
	{
		secure_wipe(plaintext, len);
		return -1;
	}
	return 0;
}

int
hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
			uint8_t out[HMAC_SHA256_LEN])
{
	unsigned int out_len = 0;

	if (key_len > INT32_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int) key_len, msg, msg_len, out, &out_len) == NULL)
		return -1;
	return out_len == HMAC_SHA256_LEN ? 0 : -1;
}

void
secure_wipe(void *ptr, size_t len)
{
	OPENSSL_cleanse(ptr, len);
}
