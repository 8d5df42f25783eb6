/*
 * worker_connect.h — connecting a freight background worker to freight.database.
 *
 * BackgroundWorkerInitializeConnection() ends the process with FATAL when the database does not
 * exist, and the postmaster restarts the worker 5 s later: a log line pair every 5 s for as long
 * as the database is missing (a fresh cluster, a typo in freight.database).  worker_connect()
 * remembers in shared memory how many attempts in a row died while connecting.  After the second
 * (the first retry is the usual case: the database is created just after the server starts), a
 * start checks pg_database without connecting to any database, says once that it is waiting, looks
 * again every second, and restarts itself (once) when the database appears.
 */
#ifndef WORKER_CONNECT_H
#define WORKER_CONNECT_H

/* Which worker: one flag each. */
typedef enum FreightWorkerSlot
{
	WORKER_SLOT_CDC,
	WORKER_SLOT_WEBHOOK,
	WORKER_SLOT_JANITOR,
	WORKER_SLOT_SLOT_SYNC,
	WORKER_SLOTS
} FreightWorkerSlot;

/* From the worker's init function (_PG_init): shared memory hooks (once, for every slot). */
extern void worker_connect_init(void);

/* Connects to freight.database, or waits as described above (never returns without connecting). */
extern void worker_connect(FreightWorkerSlot slot, const char *who);

#endif							/* WORKER_CONNECT_H */
