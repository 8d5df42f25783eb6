/*
 * cdc_wake.c — the CDC worker's published latch and the commit callback that sets it
 * (see cdc_wake.h).
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "cdc_wake.h"

typedef struct CdcWakeShared
{
	Latch	   *worker_latch;	/* in the worker's PGPROC (shared memory), or NULL */
	Oid			database;		/* the worker's database */
} CdcWakeShared;

static CdcWakeShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
cdc_wake_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CdcWakeShared)));
}

static void
cdc_wake_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("freight cdc worker wake-up", sizeof(CdcWakeShared), &found);
	if (!found)
	{
		shared->worker_latch = NULL;
		shared->database = InvalidOid;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* At commit: a transaction that wrote something in the worker's database wakes the worker. */
static void
cdc_wake_xact_callback(XactEvent event, void *arg)
{
	Latch	   *latch;

	if (event != XACT_EVENT_COMMIT || shared == NULL ||
		!TransactionIdIsValid(GetTopTransactionIdIfAny()) || shared->database != MyDatabaseId)
		return;
	latch = shared->worker_latch;
	if (latch != NULL && latch != MyLatch)
		SetLatch(latch);
}

void
cdc_wake_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cdc_wake_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cdc_wake_shmem_startup;
	RegisterXactCallback(cdc_wake_xact_callback, NULL);
}

static void
cdc_wake_detach_worker(int code, Datum arg)
{
	shared->worker_latch = NULL;
	pg_memory_barrier();
}

void
cdc_wake_attach_worker(void)
{
	shared->database = MyDatabaseId;
	pg_memory_barrier();
	shared->worker_latch = &MyProc->procLatch;
	pg_memory_barrier();
	on_shmem_exit(cdc_wake_detach_worker, (Datum) 0);
}
