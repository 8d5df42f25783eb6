/*
 * cdc_slot_sync.c — the CDC slot survives a failover: the primary publishes it, standbys copy it.
 *
 * PostgreSQL 15 has no failover slots: a logical slot lives on one server only, and a slot created
 * on a promoted standby starts at the promotion, so the changes the old primary committed (and
 * replicated) but had not decoded yet would never become events.  This worker closes that gap in
 * the way of pg_failover_slots, without a network connection:
 *
 *   - on the primary it publishes the state of the CDC slot "freight_cdc" (restart_lsn,
 *     confirmed_flush, catalog_xmin, plus the logical-decoding snapshot file serialized at
 *     restart_lsn) into the one-row table freight.cdc_slot_state whenever it moved, at most once
 *     per freight.cdc_slot_sync_interval.  The row replicates to every standby through the WAL.
 *     The table is not tracked by the CDC worker, so the writes never become events;
 *
 *   - on a standby (the worker starts once recovery is consistent, connected read-only) it reads
 *     that row and keeps a local logical slot of the same name, plugin and database at that
 *     state, through the slot API (pg_create_logical_replication_slot refuses during recovery),
 *     decided by cdc_slot_plan.c.  The local slot retains the WAL from restart_lsn on the standby;
 *     the snapshot file lets decoding be consistent at restart_lsn exactly as on the primary.
 *
 * After a promotion the same worker turns publisher, and the CDC worker (which creates a slot only
 * when none exists) finds the copy and decodes from its restart_lsn across the timeline switch;
 * its replication origin, replicated with its commits, tells it which changes are already events.
 *
 * Why the copy is safe although it lags the primary: every published value is one the primary's
 * slot held at some point, so it is behind (more conservative than) the slot's state when any
 * later WAL the standby replays was written.  The primary's slot keeps its catalog rows, and
 * vacuum on the primary (replayed here) respects it; with hot_standby_feedback = on and a physical
 * slot, the standby's copy also holds catalog_xmin on the primary while the standby is connected.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "replication/slot.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"

#include "cdc_slot_plan.h"
#include "cdc_worker.h"
#include "freight.h"
#include "worker_connect.h"

/* The CDC worker's slot and output plugin (cdc_worker.c). */
#define CDC_SLOT_NAME		"freight_cdc"
#define CDC_PLUGIN			"freight"
#define SNAPSHOT_DIR		"pg_logical/snapshots"
#define SNAPSHOT_MAX_BYTES	(64 * 1024 * 1024)

static bool slot_sync_enabled = true;
static int	slot_sync_interval_ms = 1000;

/* What this process last published or applied, to log and write only on change. */
static CdcSlotPosition last_published;
static bool published_once = false;
static bool published_now = false;	/* in the current transaction */
static XLogRecPtr important_wal_at_publish = InvalidXLogRecPtr;
static CdcSlotAction last_action = CDC_SLOT_KEEP;
static const char *last_reason = NULL;
static bool was_standby = false;

PGDLLEXPORT void cdc_slot_sync_main(Datum main_arg);

void
cdc_slot_sync_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("freight.cdc_slot_sync",
							 "Publish the CDC slot's state on the primary and keep a copy of the slot on standbys.",
							 "With it, the CDC worker of a promoted standby loses no change across a failover.",
							 &slot_sync_enabled, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.cdc_slot_sync_interval",
							"How often the CDC slot's state is published (primary) or copied (standby).",
							NULL, &slot_sync_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP,
							GUC_UNIT_MS, NULL, NULL, NULL);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "freight");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cdc_slot_sync_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "freight cdc slot sync");
	snprintf(worker.bgw_type, BGW_MAXLEN, "freight cdc slot sync");
	RegisterBackgroundWorker(&worker);
}

/*
 * The state of the local slot "freight_cdc" (exists = false when there is none); its database
 * and plugin into *database and plugin (NAMEDATALEN bytes) when those are not NULL.
 */
static CdcSlotPosition
local_slot(Oid *database, char *plugin)
{
	CdcSlotPosition pos = {0};
	ReplicationSlot *slot;

	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	slot = SearchNamedReplicationSlot(CDC_SLOT_NAME, false);
	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		pos.exists = true;
		pos.is_freight = slot->data.database == MyDatabaseId &&
			strcmp(NameStr(slot->data.plugin), CDC_PLUGIN) == 0;
		pos.restart_lsn = slot->data.restart_lsn;
		pos.confirmed_flush = slot->data.confirmed_flush;
		pos.catalog_xmin = slot->data.catalog_xmin;
		if (database != NULL)
			*database = slot->data.database;
		if (plugin != NULL)
			strlcpy(plugin, NameStr(slot->data.plugin), NAMEDATALEN);
		SpinLockRelease(&slot->mutex);
	}
	LWLockRelease(ReplicationSlotControlLock);
	return pos;
}

static void
snapshot_path(char *path, XLogRecPtr lsn)
{
	snprintf(path, MAXPGPATH, SNAPSHOT_DIR "/%X-%X.snap", LSN_FORMAT_ARGS(lsn));
}

/* The decoding snapshot serialized at lsn, or NULL when there is none (palloc'd). */
static bytea *
read_snapshot_file(XLogRecPtr lsn)
{
	char		path[MAXPGPATH];
	struct stat st;
	bytea	   *contents;
	int			fd;
	int			got;

	snapshot_path(path, lsn);
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return NULL;
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", path)));
	}
	if (fstat(fd, &st) != 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not stat file \"%s\": %m", path)));
	if (st.st_size > SNAPSHOT_MAX_BYTES)
	{
		CloseTransientFile(fd);
		ereport(WARNING,
				(errmsg("freight cdc slot sync: decoding snapshot \"%s\" is too large to publish (%lld bytes)",
						path, (long long) st.st_size),
				 errdetail("A promoted standby then builds its snapshot from the WAL, which can skip transactions that were running at the slot's restart point.")));
		return NULL;
	}
	contents = palloc(VARHDRSZ + st.st_size);
	SET_VARSIZE(contents, VARHDRSZ + st.st_size);
	got = read(fd, VARDATA(contents), st.st_size);
	if (got != st.st_size)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", path)));
	CloseTransientFile(fd);
	return contents;
}

/* Writes the snapshot published for lsn here, durably, unless it is already there. */
static void
write_snapshot_file(XLogRecPtr lsn, bytea *contents)
{
	char		path[MAXPGPATH];
	char		tmp[MAXPGPATH];
	struct stat st;
	int			fd;

	snapshot_path(path, lsn);
	if (stat(path, &st) == 0)
		return;
	/* The temporary name PostgreSQL's own snapshot writer uses: checkpoints clean it up. */
	snprintf(tmp, MAXPGPATH, "%s.%d.tmp", path, MyProcPid);
	fd = OpenTransientFile(tmp, O_CREAT | O_TRUNC | O_WRONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create file \"%s\": %m", tmp)));
	errno = 0;
	if (write(fd, VARDATA_ANY(contents), VARSIZE_ANY_EXHDR(contents)) != VARSIZE_ANY_EXHDR(contents))
	{
		if (errno == 0)
			errno = ENOSPC;
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not write file \"%s\": %m", tmp)));
	}
	if (pg_fsync(fd) != 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not fsync file \"%s\": %m", tmp)));
	CloseTransientFile(fd);
	durable_rename(tmp, path, ERROR);
}

/* Whether freight.cdc_slot_state exists here (the extension may not be installed yet). */
static bool
state_table_exists(void)
{
	return OidIsValid(get_extension_oid("freight", true)) &&
		OidIsValid(RangeVarGetRelid(makeRangeVar("freight", "cdc_slot_state", -1), NoLock, true));
}

/* ---------------------------------------------------------------------------------------------
 * Primary: publish
 * --------------------------------------------------------------------------------------------- */

/*
 * Whether the slot moved since the last publication, for a reason other than that publication.
 * Only restart_lsn and catalog_xmin matter to a copy (the CDC worker resumes at its origin's
 * progress).  Publishing is itself a write, after which PostgreSQL logs the running transactions
 * and the slot moves: without other "important" WAL since (running-transaction records are not),
 * that move is not worth another write, or an idle primary would publish forever.
 */
static bool
position_changed(const CdcSlotPosition *now)
{
	if (!published_once || now->exists != last_published.exists)
		return true;
	if (now->restart_lsn == last_published.restart_lsn &&
		now->catalog_xmin == last_published.catalog_xmin)
		return false;
	return GetLastImportantRecPtr() != important_wal_at_publish;
}

/* Writes the one row of freight.cdc_slot_state (all NULL when there is no slot). */
static void
write_state_row(const CdcSlotPosition *pos, Oid database, const char *plugin, bytea *snapshot)
{
	Oid			types[6] = {OIDOID, NAMEOID, PG_LSNOID, PG_LSNOID, XIDOID, BYTEAOID};
	Datum		values[6];
	char		nulls[6];
	int			rc;

	memset(nulls, pos->exists ? ' ' : 'n', sizeof(nulls));
	if (snapshot == NULL)
		nulls[5] = 'n';		/* no snapshot file: a copy builds its snapshot from the WAL */
	values[0] = ObjectIdGetDatum(database);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(plugin));
	values[2] = LSNGetDatum(pos->restart_lsn);
	values[3] = LSNGetDatum(pos->confirmed_flush);
	values[4] = TransactionIdGetDatum(pos->catalog_xmin);
	values[5] = PointerGetDatum(snapshot);

	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	rc = SPI_execute_with_args("UPDATE freight.cdc_slot_state SET database = $1, plugin = $2,"
							   " restart_lsn = $3, confirmed_flush = $4, catalog_xmin = $5,"
							   " snapshot = $6, published_at = pg_catalog.now()",
							   6, types, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("freight cdc slot sync: freight.cdc_slot_state must have exactly one row"),
				 errhint("Re-create the extension, or insert the row: INSERT INTO freight.cdc_slot_state DEFAULT VALUES.")));
	PopActiveSnapshot();
	SPI_finish();
}

static void
publish_slot_state(void)
{
	Oid			database = InvalidOid;
	char		plugin[NAMEDATALEN] = "";
	CdcSlotPosition pos = local_slot(&database, plugin);
	bytea	   *snapshot = NULL;

	if (!position_changed(&pos))
		return;

	/* The snapshot file at restart_lsn; a checkpoint may remove it as the slot moves on. */
	while (pos.exists)
	{
		CdcSlotPosition again;

		snapshot = read_snapshot_file(pos.restart_lsn);
		again = local_slot(&database, plugin);
		if (snapshot != NULL || !again.exists || again.restart_lsn == pos.restart_lsn)
			break;
		pos = again;
	}
	write_state_row(&pos, database, plugin, snapshot);
	last_published = pos;
	published_once = true;
	published_now = true;
	elog(DEBUG1, "freight cdc slot sync published restart_lsn %X/%X, catalog_xmin %u",
		 LSN_FORMAT_ARGS(pos.restart_lsn), pos.catalog_xmin);
}

/* ---------------------------------------------------------------------------------------------
 * Standby: copy
 * --------------------------------------------------------------------------------------------- */

/* The published state; snapshot is set to the published snapshot file or NULL. */
static CdcSlotPosition
read_published(bytea **snapshot)
{
	CdcSlotPosition pos = {0};
	bool		isnull;
	Datum		d;
	char	   *plugin;

	*snapshot = NULL;
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT database, plugin, restart_lsn, confirmed_flush, catalog_xmin, snapshot"
					" FROM freight.cdc_slot_state", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "freight cdc slot sync: could not read freight.cdc_slot_state");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		d = SPI_getbinval(tup, desc, 3, &isnull);
		pos.exists = !isnull;
		if (pos.exists)
		{
			pos.restart_lsn = DatumGetLSN(d);
			d = SPI_getbinval(tup, desc, 4, &isnull);
			pos.confirmed_flush = isnull ? InvalidXLogRecPtr : DatumGetLSN(d);
			d = SPI_getbinval(tup, desc, 5, &isnull);
			pos.catalog_xmin = isnull ? InvalidTransactionId : DatumGetTransactionId(d);
			d = SPI_getbinval(tup, desc, 1, &isnull);
			plugin = SPI_getvalue(tup, desc, 2);
			pos.is_freight = !isnull && DatumGetObjectId(d) == MyDatabaseId &&
				plugin != NULL && strcmp(plugin, CDC_PLUGIN) == 0;
			d = SPI_getbinval(tup, desc, 6, &isnull);
			if (!isnull)
				*snapshot = (bytea *) SPI_datumTransfer(d, false, -1);
		}
	}
	PopActiveSnapshot();
	SPI_finish();
	return pos;
}

/* First LSN of the oldest WAL segment in pg_wal (none removed since). */
static XLogRecPtr
oldest_wal_here(void)
{
	DIR		   *dir = AllocateDir(XLOGDIR);
	struct dirent *de;
	XLogSegNo	oldest = 0;
	bool		found = false;
	XLogRecPtr	lsn;

	while ((de = ReadDir(dir, XLOGDIR)) != NULL)
	{
		TimeLineID	tli;
		XLogSegNo	segno;

		if (!IsXLogFileName(de->d_name))
			continue;
		XLogFromFileName(de->d_name, &tli, &segno, wal_segment_size);
		if (!found || segno < oldest)
			oldest = segno;
		found = true;
	}
	FreeDir(dir);
	if (!found)
		return PG_UINT64_MAX;
	oldest = Max(oldest, XLogGetLastRemovedSegno() + 1);
	XLogSegNoOffsetToRecPtr(oldest, 0, wal_segment_size, lsn);
	return lsn;
}

/* Sets the acquired slot to pos and makes the WAL and catalog horizons follow. */
static void
set_slot_position(const CdcSlotPosition *pos)
{
	ReplicationSlot *slot = MyReplicationSlot;

	SpinLockAcquire(&slot->mutex);
	slot->data.restart_lsn = pos->restart_lsn;
	slot->data.confirmed_flush = pos->confirmed_flush;
	slot->data.catalog_xmin = pos->catalog_xmin;
	slot->effective_catalog_xmin = pos->catalog_xmin;
	slot->data.xmin = InvalidTransactionId;
	slot->effective_xmin = InvalidTransactionId;
	SpinLockRelease(&slot->mutex);
	ReplicationSlotMarkDirty();
	ReplicationSlotsComputeRequiredXmin(false);
	ReplicationSlotsComputeRequiredLSN();
	ReplicationSlotSave();
}

/*
 * After the acquired slot was set back (or created) at pos: the slot now holds the WAL, but a
 * restartpoint may have removed some of it meanwhile.  False (slot released) when it did.
 */
static bool
wal_still_there(const CdcSlotPosition *pos)
{
	if (oldest_wal_here() <= pos->restart_lsn)
		return true;
	ereport(LOG,
			(errmsg("freight cdc slot sync: WAL at %X/%X was removed while slot \"%s\" was set there; dropping it",
					LSN_FORMAT_ARGS(pos->restart_lsn), CDC_SLOT_NAME)));
	ReplicationSlotRelease();	/* drops an ephemeral slot */
	return false;
}

/*
 * The snapshot file for restart_lsn must be written while the slot holds WAL at or before that
 * LSN: checkpoints remove the files before the oldest restart_lsn of all logical slots.
 */
static void
create_copy(const CdcSlotPosition *pos, bytea *snapshot)
{
	ReplicationSlotCreate(CDC_SLOT_NAME, true, RS_EPHEMERAL, false);
	SpinLockAcquire(&MyReplicationSlot->mutex);
	namestrcpy(&MyReplicationSlot->data.plugin, CDC_PLUGIN);
	SpinLockRelease(&MyReplicationSlot->mutex);
	set_slot_position(pos);
	if (!wal_still_there(pos))
		return;
	if (snapshot != NULL)
		write_snapshot_file(pos->restart_lsn, snapshot);
	ReplicationSlotPersist();
	ReplicationSlotRelease();
}

static void
move_copy(const CdcSlotPosition *pos, bytea *snapshot)
{
	bool		backwards;

	ReplicationSlotAcquire(CDC_SLOT_NAME, true);
	backwards = pos->restart_lsn < MyReplicationSlot->data.restart_lsn;
	if (snapshot != NULL && !backwards)
		write_snapshot_file(pos->restart_lsn, snapshot);
	set_slot_position(pos);
	if (backwards)
	{
		if (!wal_still_there(pos))
		{
			ReplicationSlotDrop(CDC_SLOT_NAME, true);
			return;
		}
		if (snapshot != NULL)
			write_snapshot_file(pos->restart_lsn, snapshot);
	}
	ReplicationSlotRelease();
}

static void
log_plan(CdcSlotPlan plan, const CdcSlotPosition *pub)
{
	bool		repeated = plan.action == last_action && plan.reason == last_reason;

	last_action = plan.action;
	last_reason = plan.reason;
	switch (plan.action)
	{
		case CDC_SLOT_KEEP:
			break;
		case CDC_SLOT_ADVANCE:
			elog(DEBUG1, "freight cdc slot sync: slot \"%s\" advanced to restart_lsn %X/%X",
				 CDC_SLOT_NAME, LSN_FORMAT_ARGS(pub->restart_lsn));
			break;
		case CDC_SLOT_CREATE:
		case CDC_SLOT_REWIND:
			ereport(LOG,
					(errmsg("freight cdc slot sync: %s slot \"%s\" at the primary's position: restart_lsn %X/%X, confirmed_flush %X/%X, catalog_xmin %u",
							plan.action == CDC_SLOT_CREATE ? "created" : "set back",
							CDC_SLOT_NAME, LSN_FORMAT_ARGS(pub->restart_lsn),
							LSN_FORMAT_ARGS(pub->confirmed_flush), pub->catalog_xmin),
					 errdetail("Reason: %s.", plan.reason)));
			break;
		case CDC_SLOT_DROP:
			ereport(LOG,
					(errmsg("freight cdc slot sync: dropped slot \"%s\": %s",
							CDC_SLOT_NAME, plan.reason)));
			break;
		case CDC_SLOT_WAIT_WAL:
			if (!repeated)
				ereport(LOG,
						(errmsg("freight cdc slot sync: slot \"%s\" not copied yet: %s",
								CDC_SLOT_NAME, plan.reason),
						 errdetail("The primary's slot restarts at %X/%X; the oldest WAL here starts at %X/%X and replay is at %X/%X.",
								   LSN_FORMAT_ARGS(pub->restart_lsn),
								   LSN_FORMAT_ARGS(oldest_wal_here()),
								   LSN_FORMAT_ARGS(GetXLogReplayRecPtr(NULL)))));
			break;
		case CDC_SLOT_FOREIGN:
			if (!repeated)
				ereport(WARNING,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("freight cdc slot sync: cannot keep a copy of the CDC slot: %s",
								plan.reason),
						 errdetail("Change capture on this server after a failover would start at the promotion and miss changes."),
						 errhint("Drop the replication slot \"%s\" on this standby; the copy is then created.",
								 CDC_SLOT_NAME)));
			break;
		case CDC_SLOT_UNUSABLE:
			if (!repeated)
				ereport(WARNING,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("freight cdc slot sync: cannot copy the CDC slot: %s", plan.reason),
						 errhint("On the primary, drop the slot \"%s\"; the CDC worker creates its own.",
								 CDC_SLOT_NAME)));
			break;
	}
}

static void
sync_from_primary(void)
{
	bytea	   *snapshot;
	CdcSlotPosition pub = read_published(&snapshot);
	CdcSlotPosition local = local_slot(NULL, NULL);
	CdcSlotPlan plan = cdc_slot_plan(&pub, &local, oldest_wal_here(), GetXLogReplayRecPtr(NULL));

	log_plan(plan, &pub);
	switch (plan.action)
	{
		case CDC_SLOT_CREATE:
			create_copy(&pub, snapshot);
			break;
		case CDC_SLOT_ADVANCE:
		case CDC_SLOT_REWIND:
			move_copy(&pub, snapshot);
			break;
		case CDC_SLOT_DROP:
			ReplicationSlotDrop(CDC_SLOT_NAME, true);
			break;
		case CDC_SLOT_KEEP:
		case CDC_SLOT_WAIT_WAL:
		case CDC_SLOT_FOREIGN:
		case CDC_SLOT_UNUSABLE:
			break;
	}
}

/* One round: publish on a primary, copy on a standby. */
static void
sync_round(void)
{
	bool		standby = RecoveryInProgress();

	if (was_standby && !standby)
	{
		ereport(LOG,
				(errmsg("freight cdc slot sync: this server was promoted; the CDC worker takes over slot \"%s\" and its state is published from here",
						CDC_SLOT_NAME)));
		published_once = false;
	}
	was_standby = standby;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* A primary may be read-only for a moment (pg_auto_failover sets that while it promotes). */
	if (!standby && XactReadOnly)
		elog(DEBUG1, "freight cdc slot sync: transactions are read-only, publishing later");
	else if (state_table_exists())
	{
		pgstat_report_activity(STATE_RUNNING, standby ? "copying the CDC slot" : "publishing the CDC slot");
		if (standby)
			sync_from_primary();
		else
			publish_slot_state();
	}
	CommitTransactionCommand();
	if (published_now)
		important_wal_at_publish = GetLastImportantRecPtr();
	published_now = false;
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
cdc_slot_sync_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (wal_level < WAL_LEVEL_LOGICAL || max_replication_slots == 0)
	{
		ereport(LOG,
				(errmsg("freight cdc slot sync not started: logical decoding is not available"),
				 errhint("Set wal_level = logical and max_replication_slots > 0 on every server, standbys included, and restart.")));
		proc_exit(0);
	}

	worker_connect(WORKER_SLOT_SLOT_SYNC, "freight cdc slot sync");
	pgstat_report_appname("freight cdc slot sync");
	/* The published row need not wait for a synchronous standby; a lost one is re-published. */
	SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (slot_sync_enabled)
			sync_round();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 slot_sync_interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
