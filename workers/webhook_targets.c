/*
 * webhook_targets.c — endpoint settings cache of the dispatcher (see webhook_targets.h).
 */
#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "webhook_store.h"
#include "webhook_targets.h"

typedef struct TargetEntry
{
	int64		endpoint_id;	/* hash key */
	int32		config_version;
	bool		loaded;
	bool		has_previous;
	TimestampTz previous_until;
	MemoryContext context;		/* holds the strings */
	WebhookTarget target;
} TargetEntry;

static HTAB *targets = NULL;

static void
drop_entry(TargetEntry *entry)
{
	if (entry->loaded)
	{
		for (int i = 0; i < 2; i++)
			webhook_key_wipe(&entry->target.keys[i]);
		if (entry->target.client_key != NULL)
			explicit_bzero((char *) entry->target.client_key, strlen(entry->target.client_key));
		MemoryContextDelete(entry->context);
	}
	entry->loaded = false;
}

void
webhook_targets_reset(void)
{
	HASH_SEQ_STATUS seq;
	TargetEntry *entry;

	if (targets == NULL)
		return;
	hash_seq_init(&seq, targets);
	while ((entry = hash_seq_search(&seq)) != NULL)
		drop_entry(entry);
	hash_destroy(targets);
	targets = NULL;
}

/* Loads an endpoint's settings into entry; false with a reason on failure. */
static bool
load_entry(TargetEntry *entry, char *error, size_t error_size)
{
	WebhookEndpointConfig config;
	MemoryContext context = AllocSetContextCreate(TopMemoryContext, "webhook target",
												  ALLOCSET_SMALL_SIZES);
	bool		ok;

	if (!webhook_store_endpoint(entry->endpoint_id, context, &config))
	{
		MemoryContextDelete(context);
		snprintf(error, error_size, "the endpoint no longer exists");
		return false;
	}
	memset(&entry->target, 0, sizeof(entry->target));
	ok = webhook_secret_decode(config.secret, &entry->target.keys[0]);
	entry->has_previous = ok && config.previous_secret != NULL &&
		webhook_secret_decode(config.previous_secret, &entry->target.keys[1]);
	explicit_bzero(config.secret, strlen(config.secret));
	if (config.previous_secret != NULL)
		explicit_bzero(config.previous_secret, strlen(config.previous_secret));
	if (!ok)
	{
		webhook_key_wipe(&entry->target.keys[0]);
		MemoryContextDelete(context);
		snprintf(error, error_size, "the endpoint's signing secret cannot be decoded");
		return false;
	}
	entry->previous_until = config.previous_secret_until;
	entry->target.url = config.url;
	entry->target.client_cert = config.client_cert;
	entry->target.client_key = config.client_key;
	entry->config_version = config.config_version;
	entry->context = context;
	entry->loaded = true;
	return true;
}

const WebhookTarget *
webhook_target_get(int64 endpoint_id, int32 config_version, char *error, size_t error_size)
{
	TargetEntry *entry;
	bool		found;

	if (targets == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(TargetEntry);
		targets = hash_create("webhook targets", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(targets, &endpoint_id, HASH_ENTER, &found);
	if (!found)
		entry->loaded = false;
	if (entry->loaded && entry->config_version != config_version)
		drop_entry(entry);
	if (!entry->loaded && !load_entry(entry, error, error_size))
	{
		hash_search(targets, &endpoint_id, HASH_REMOVE, NULL);
		return NULL;
	}
	/* Sign with the previous secret too while its rotation window lasts. */
	entry->target.nkeys = (entry->has_previous &&
						   GetCurrentTimestamp() < entry->previous_until) ? 2 : 1;
	return &entry->target;
}
