/*
 * webhook_targets.h — the dispatcher's cache of endpoint settings (URL, decoded signing keys,
 * mTLS material), keyed by endpoint id and reloaded when the endpoint's config_version changes,
 * so secrets are decrypted once per change, not once per delivery.
 */
#ifndef WEBHOOK_TARGETS_H
#define WEBHOOK_TARGETS_H

#include "webhook_http.h"

/*
 * The target for an endpoint at config_version, loading it if needed (inside a transaction with
 * SPI connected).  Returns NULL with a reason in error when the endpoint is gone or its secret
 * cannot be used.  The result stays valid until the next call.
 */
extern const WebhookTarget *webhook_target_get(int64 endpoint_id, int32 config_version,
											   char *error, size_t error_size);

/* Forgets every cached target and wipes the keys. */
extern void webhook_targets_reset(void);

#endif							/* WEBHOOK_TARGETS_H */
