/*
 * webhook_dispatch.h — the webhook dispatcher background worker: its settings and its hooks.
 *
 * webhook_dispatch_init() (called from _PG_init) defines the freight.webhook_* settings, asks for
 * the small shared state the wake-up needs and registers the worker.  The settings are read by
 * the worker and by the SQL helpers (URL checks at registration use webhook_allow_private).
 */
#ifndef WEBHOOK_DISPATCH_H
#define WEBHOOK_DISPATCH_H

#include "postgres.h"

extern bool webhook_enabled;
extern bool webhook_allow_private;
extern int	webhook_concurrency;
extern int	webhook_batch_size;
extern int	webhook_timeout_ms;
extern int	webhook_connect_timeout_ms;
extern int	webhook_max_payload;
extern int	webhook_disable_after_s;
extern char *webhook_ca_file;

/* The parsed freight.webhook_retry_schedule. */
extern int	webhook_retry_count;
extern int64 webhook_retry_delays_ms[];

extern void webhook_dispatch_init(void);

extern PGDLLEXPORT void webhook_dispatch_main(Datum main_arg);

#endif							/* WEBHOOK_DISPATCH_H */
