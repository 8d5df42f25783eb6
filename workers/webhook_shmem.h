/*
 * webhook_shmem.h — how anyone wakes the webhook dispatcher.
 *
 * The dispatcher publishes its latch in a small shared struct.  A transaction that creates
 * deliveries calls webhook_wake_at_commit(): the latch is set when (and only if) it commits, so
 * aborted work never wakes the dispatcher and committed work wakes it within microseconds.
 */
#ifndef WEBHOOK_SHMEM_H
#define WEBHOOK_SHMEM_H

/* Hooks chained from webhook_dispatch_init(). */
extern void webhook_shmem_install_hooks(void);

/* The dispatcher: publish / withdraw its latch. */
extern void webhook_shmem_attach_dispatcher(void);

/* Set the dispatcher's latch when the current transaction commits. */
extern void webhook_wake_at_commit(void);

#endif							/* WEBHOOK_SHMEM_H */
