/*
 * webhook_store.h — the dispatcher's SQL: claiming due deliveries, loading an endpoint's
 * settings, recording outcomes, purging old ones.  Each call runs inside a transaction the caller opened, with SPI
 * connected; results are copied into the memory context the caller names.
 */
#ifndef WEBHOOK_STORE_H
#define WEBHOOK_STORE_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct WebhookClaim
{
	int64		delivery_id;
	int64		endpoint_id;
	int32		config_version;
	int32		attempts;		/* this attempt included */
	char	   *webhook_id;
	char	   *body;			/* NULL when the event is no longer retained */
	size_t		body_len;
} WebhookClaim;

typedef struct WebhookEndpointConfig
{
	char	   *url;
	int32		config_version;
	char	   *secret;
	char	   *previous_secret;	/* NULL unless a rotation is in progress */
	TimestampTz previous_secret_until;
	char	   *client_cert;
	char	   *client_key;
} WebhookEndpointConfig;

/* A batch of outcomes to store; outcome is "delivered", "retry", "dead" or "gone". */
typedef struct WebhookOutcomes
{
	int			n;
	int			cap;
	int64	   *ids;
	const char **outcomes;
	int32	   *status_codes;	/* 0 = none (stored as NULL) */
	char	  **errors;			/* NULL = none */
	int64	   *delays_ms;
} WebhookOutcomes;

/* Does this database have the extension's webhook tables? */
extern bool webhook_store_installed(void);
/* busy: ids of the deliveries being sent or not yet recorded (nbusy of them). */
extern int	webhook_store_claim(int limit, const int64 *busy, int nbusy, MemoryContext into,
								WebhookClaim **claims);
extern TimestampTz webhook_store_next_due(const int64 *busy, int nbusy);
extern bool webhook_store_endpoint(int64 endpoint_id, MemoryContext into, WebhookEndpointConfig *config);
extern void webhook_store_record(const WebhookOutcomes *outcomes, int disable_after_s);
/* Deletes up to max_rows finished deliveries older than retention_min minutes; returns how many. */
extern uint64 webhook_store_purge(int retention_min, int max_rows);

#endif							/* WEBHOOK_STORE_H */
