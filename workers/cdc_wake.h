/*
 * cdc_wake.h — waking the CDC worker when a transaction commits.
 *
 * The worker publishes its latch and database in a small shared struct.  Every backend has a
 * commit callback (registered from _PG_init, inherited by all processes): when a transaction that
 * had a transaction id (it wrote something) commits in the worker's database, it sets the
 * worker's latch, so the change is decoded at once instead of at the next poll.  The poll
 * (freight.cdc_poll_interval) stays as the fallback, e.g. for asynchronous commits, whose WAL may
 * not be flushed yet when they wake the worker.
 */
#ifndef CDC_WAKE_H
#define CDC_WAKE_H

/* From cdc_worker_init(): shared memory hooks and the commit callback. */
extern void cdc_wake_init(void);

/* The CDC worker, once connected: publish its latch and database (withdrawn at exit). */
extern void cdc_wake_attach_worker(void);

#endif							/* CDC_WAKE_H */
