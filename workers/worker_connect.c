/*
 * worker_connect.c — connecting freight's background workers to freight.database, and waiting
 * quietly while it does not exist (see worker_connect.h).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/snapmgr.h"

#include "cdc_worker.h"
#include "worker_connect.h"

/* How often a waiting worker looks for the database (one index lookup in pg_database). */
#define DATABASE_CHECK_MS 1000

/* Failed attempts in a row before a worker waits instead (the first retry is the usual case). */
#define FAILURES_BEFORE_WAITING 2

typedef struct WorkerConnectShared
{
	bool		connecting[WORKER_SLOTS];	/* an attempt started and did not come back */
	int			failures[WORKER_SLOTS]; /* such attempts in a row */
} WorkerConnectShared;

static WorkerConnectShared *shared = NULL;
static bool hooks_installed = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
worker_connect_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerConnectShared)));
}

static void
worker_connect_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("freight worker connections", sizeof(WorkerConnectShared), &found);
	if (!found)
		memset(shared, 0, sizeof(WorkerConnectShared));
	LWLockRelease(AddinShmemInitLock);
}

void
worker_connect_init(void)
{
	if (hooks_installed)
		return;
	hooks_installed = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_connect_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_connect_shmem_startup;
}

/*
 * Without a database only the shared catalogs' heaps can be read (their indexes may not be in
 * the relation cache yet): a sequential scan of pg_database, as the autovacuum launcher does.
 */
static bool
database_exists(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		exists = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!exists && (tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		exists = strcmp(NameStr(((Form_pg_database) GETSTRUCT(tup))->datname), name) == 0;
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return exists;
}

/* Connected to no database (shared catalogs only): wait until name exists. */
static void
wait_for_database(const char *name, const char *who)
{
	bool		logged = false;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (database_exists(name))
			return;
		if (!logged)
			ereport(LOG,
					(errmsg("%s is waiting for database \"%s\" to be created", who, name),
					 errhint("Create the database, or set freight.database to an existing one and restart.")));
		logged = true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 DATABASE_CHECK_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

void
worker_connect(FreightWorkerSlot slot, const char *who)
{
	const char *name = freight_database && freight_database[0] ? freight_database : "freight";

	if (shared->connecting[slot])
		shared->failures[slot]++;
	shared->connecting[slot] = false;
	if (shared->failures[slot] >= FAILURES_BEFORE_WAITING)
	{
		/* The database is most likely missing: look for it without connecting to it. */
		BackgroundWorkerInitializeConnection(NULL, NULL, 0);
		pgstat_report_appname(who);
		wait_for_database(name, who);
		shared->failures[slot] = 0;
		/* A process connects only once: the next start connects to the database. */
		ereport(LOG, (errmsg("%s restarts to connect to database \"%s\"", who, name)));
		proc_exit(1);
	}
	shared->connecting[slot] = true;
	BackgroundWorkerInitializeConnection(name, NULL, 0);
	shared->connecting[slot] = false;
	shared->failures[slot] = 0;
	pgstat_report_appname(who);
}
