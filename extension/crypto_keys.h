/*
 * crypto_keys.h — the key hierarchy behind encrypted columns.
 *
 * A key-encryption key (KEK) comes from outside the database (freight.key_file or
 * freight.key_command) and is only ever held in backend memory.  Data keys are generated in the
 * database and stored in freight.data_keys wrapped (AES-256-GCM) by the KEK.  One 'data' key is
 * active for new writes; retired ones still decrypt.  One 'blind' key feeds the blind indexes.
 */
#ifndef CRYPTO_KEYS_H
#define CRYPTO_KEYS_H

#include "crypto_aead.h"

/* Largest data key id: ids are stored in 3 bytes of the ciphertext header. */
#define CRYPTO_MAX_KEY_ID 0xFFFFFF

/* The active data key, created on first use; *key_id receives its id. */
extern const uint8_t *crypto_active_data_key(uint32_t *key_id);

/* The data key with this id (active or retired); ERROR when unknown. */
extern const uint8_t *crypto_data_key(uint32_t key_id);

/* The key blind indexes are derived from, created on first use. */
extern const uint8_t *crypto_blind_key(void);

/* The backend's reusable AES-GCM context. */
extern AeadCipher *crypto_cipher(void);

/* Retire the active data key and create a new one; returns its id. */
extern uint32_t crypto_rotate_data_key(void);

/* Re-wrap every data key under the current KEK; returns how many were re-wrapped. */
extern int	crypto_rewrap_data_keys(void);

#endif							/* CRYPTO_KEYS_H */
