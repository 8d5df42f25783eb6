/*
 * freight.h — what the pieces of freight.so share: the per-module start-up hooks that
 * _PG_init() calls, and small helpers used across modules.
 *
 * Each feature keeps its own header for its SQL-facing and internal API; this file only lists
 * the entry points the library's loader needs, so adding a module is one line here and one line
 * in freight.c.
 */
#ifndef FREIGHT_H
#define FREIGHT_H

/* Defines freight.key_file / freight.key_command (crypto_keys.c). */
extern void crypto_keys_init(void);

/* Rate-limit GUCs, shared memory and the janitor worker (ratelimit.c). */
extern void ratelimit_init(void);

/* Security-event hooks and their shared-memory queue (security_hook.c). */
extern void security_init(void);

/* Change-data capture GUCs and worker, freight.database (workers/cdc_worker.c). */
extern void cdc_worker_init(void);

/* The CDC slot across failovers: published on the primary, copied on standbys (workers/cdc_slot_sync.c). */
extern void cdc_slot_sync_init(void);

/* Webhook dispatcher GUCs, wake-up shared state and worker (workers/webhook_dispatch.c). */
extern void webhook_dispatch_init(void);

#endif							/* FREIGHT_H */
