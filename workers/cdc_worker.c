/*
 * cdc_worker.c — the change-data-capture background worker.
 *
 * One worker per cluster, connected to freight.database.  It owns the logical replication slot
 * "freight_cdc" (plugin "freight", cdc_output.c) and the replication origin of the same name, and
 * runs a single decoding context for as long as capture is enabled, so the WAL is read once.
 * Each cycle, in one transaction:
 *
 *   1. decode WAL up to the flushed end (or until freight.cdc_batch_size events are buffered;
 *      a transaction's changes always arrive whole, at its commit record);
 *   2. insert the buffered events set-based (cdc_batch.c) and queue NOTIFY freight_events;
 *   3. commit with the replication origin's progress set to the decoded position.
 *
 * The commit record carries the events and the decoding position together: after a crash the
 * worker restarts decoding at the origin's progress, so nothing is lost and nothing is written
 * twice (the unique (lsn, seq) constraint is the second line of defence).  The commit is
 * asynchronous, as in PostgreSQL's own logical replication apply workers: while WAL is waiting,
 * the worker goes on decoding while the WAL writer flushes; once caught up it flushes itself.  The
 * slot's confirmed position moves (letting PostgreSQL recycle the WAL) only once the commit is
 * flushed.  A crash can lose the last unflushed batches, but then it loses their origin progress
 * with them, and they are decoded and written again, with the same ids and contents.  The
 * worker's own writes carry its origin, which the output plugin filters out.
 *
 * A commit in its database wakes it at once (cdc_wake.c); freight.cdc_poll_interval is the fallback.
 * It does not start without wal_level = logical, replication slots, or "freight" in this build's
 * output_plugin_libraries (it says so in the log).  Between cycles it checks how much WAL the
 * slot holds back (warning and cdc.slot_lag events above freight.cdc_slot_lag_limit) and deletes
 * events older than freight.events_retention in small batches.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlogutils.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/slot.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "cdc_batch.h"
#include "cdc_wake.h"
#include "cdc_worker.h"
#include "worker_connect.h"

#define CDC_SLOT_NAME		"freight_cdc"
#define CDC_ORIGIN_NAME		"freight_cdc"
#define CDC_PLUGIN			"freight"
#define CDC_PURGE_BATCH		10000
#define LAG_CHECK_MS		10000
#define LAG_REPEAT_MS		600000
#define PURGE_EVERY_MS		60000
#define CDC_READ_ONLY_WAIT_MS	500

char	   *freight_database = NULL;
static bool cdc_enabled = true;
static int	cdc_batch_size = 50000;
static int	cdc_poll_interval_ms = 50;
static int	cdc_slot_lag_limit_mb = 1024;
static int	events_retention_min = 7 * 24 * 60;

static CdcBatch *batch = NULL;

/*
 * Decoding looks catalogs up with historic snapshots, everything else with current ones, and the
 * caches must not mix them: they are flushed between the two, but only when needed (most idle
 * cycles decode nothing but the worker's own commits, which are filtered out before any lookup).
 */
static bool current_lookups_cached = true;	/* normal catalog access since the last flush */
static bool historic_lookups_cached = false;	/* a transaction replayed since the last flush */
static LogicalDecodeBeginCB plugin_begin_cb = NULL;
static LogicalDecodingContext *decoding = NULL;
static TimestampTz last_lag_check = 0;
static TimestampTz last_lag_warning = 0;
static TimestampTz last_purge = 0;

/* Decoded up to here, with events committed up to unflushed_commit_end: not yet confirmed. */
static XLogRecPtr unconfirmed_done = InvalidXLogRecPtr;
static XLogRecPtr unflushed_commit_end = InvalidXLogRecPtr;

void
cdc_worker_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("freight.database",
							   "Database that freight's background workers connect to.",
							   NULL, &freight_database, "freight", PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("freight.cdc_enabled",
							 "Capture changes of the tracked tables into freight.events.",
							 "When off, the slot freight_cdc keeps its position and holds back WAL.",
							 &cdc_enabled, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.cdc_batch_size",
							"Events the CDC worker buffers before writing them in one transaction.",
							NULL, &cdc_batch_size, 50000, 1, 1000000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.cdc_poll_interval",
							"How often the idle CDC worker looks for new WAL without being woken.",
							"Commits in the worker's database wake it at once; the poll finds WAL "
							"flushed later (asynchronous commits).",
							&cdc_poll_interval_ms, 50, 1, 10000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.cdc_slot_lag_limit",
							"WAL the CDC slot may hold back before a warning and a cdc.slot_lag event (0: no limit).",
							NULL, &cdc_slot_lag_limit_mb, 1024, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.events_retention",
							"Age after which events are deleted from freight.events (0: keep forever).",
							NULL, &events_retention_min, 7 * 24 * 60, 0, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_MIN, NULL, NULL, NULL);

	cdc_wake_init();
	worker_connect_init();

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "freight");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cdc_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "freight cdc worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "freight cdc worker");
	RegisterBackgroundWorker(&worker);
}

/* Wraps the output plugin's begin callback: a replayed transaction means historic lookups. */
static void
cdc_begin_replay(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	historic_lookups_cached = true;
	plugin_begin_cb(ctx, txn);
}

static void
flush_catalog_caches(void)
{
	InvalidateSystemCaches();
	current_lookups_cached = false;
	historic_lookups_cached = false;
}

/* Output plugin writer callbacks: every line goes into the batch. */
static void
cdc_prepare_write(LogicalDecodingContext *ctx, XLogRecPtr lsn, TransactionId xid, bool last_write)
{
	resetStringInfo(ctx->out);
}

static void
cdc_write(LogicalDecodingContext *ctx, XLogRecPtr lsn, TransactionId xid, bool last_write)
{
	cdc_batch_add(batch, ctx->out->data, ctx->out->len);
}

/* Runs one statement; returns the rows it processed (SPI_finish resets SPI_processed). */
static uint64
run_sql(const char *sql)
{
	int			rc;
	uint64		processed;

	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		elog(ERROR, "freight cdc: \"%s\" failed (SPI code %d)", sql, rc);
	processed = SPI_processed;
	PopActiveSnapshot();
	SPI_finish();
	return processed;
}

static void
create_slot(void)
{
	StartTransactionCommand();
	run_sql("SELECT pg_catalog.pg_create_logical_replication_slot('" CDC_SLOT_NAME "', '" CDC_PLUGIN "')");
	CommitTransactionCommand();
	ereport(LOG, (errmsg("freight cdc worker created replication slot \"%s\"", CDC_SLOT_NAME)));
}

/*
 * The WAL reader's page source: read_local_xlog_page(), once the bytes asked for are flushed.
 * A record may run past the flush position (the WAL writer flushes whole pages, and the worker's
 * own commits are asynchronous), and read_local_xlog_page() would then wait for the rest in a loop
 * that does not watch the postmaster: after a kill -9 of the postmaster nothing flushes that WAL,
 * and the worker would keep holding the shared memory a restart needs.  So flush it here when it
 * is already inserted, else wait on a timer that exits when the postmaster is gone.
 */
static int
cdc_read_page(XLogReaderState *state, XLogRecPtr targetPagePtr, int reqLen,
			  XLogRecPtr targetRecPtr, char *cur_page)
{
	XLogRecPtr	needed = targetPagePtr + reqLen;

	while (needed > GetFlushRecPtr(NULL))
	{
		if (needed <= GetXLogInsertRecPtr())
			XLogFlush(needed);
		else
			(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
	return read_local_xlog_page(state, targetPagePtr, reqLen, targetRecPtr, cur_page);
}

/* Sets up origin, slot and decoding context; false while the extension is not installed. */
static bool
cdc_start(void)
{
	RepOriginId origin;
	XLogRecPtr	start;
	List	   *options;
	MemoryContext old;

	current_lookups_cached = true;
	StartTransactionCommand();
	if (!OidIsValid(get_extension_oid("freight", true)))
	{
		CommitTransactionCommand();
		return false;
	}
	origin = replorigin_by_name(CDC_ORIGIN_NAME, true);
	if (origin == InvalidRepOriginId)
		origin = replorigin_create(CDC_ORIGIN_NAME);
	CommitTransactionCommand();

	if (SearchNamedReplicationSlot(CDC_SLOT_NAME, true) == NULL)
		create_slot();

	replorigin_session_setup(origin);
	replorigin_session_origin = origin;
	start = replorigin_session_get_progress(false);

	ReplicationSlotAcquire(CDC_SLOT_NAME, true);
	if (MyReplicationSlot->data.database != MyDatabaseId ||
		strcmp(NameStr(MyReplicationSlot->data.plugin), CDC_PLUGIN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("replication slot \"%s\" is not a freight slot of database \"%s\"",
						CDC_SLOT_NAME, freight_database),
				 errhint("Drop the slot; the CDC worker creates its own.")));

	/* The decoding context outlives transactions: it lives in TopMemoryContext. */
	StartTransactionCommand();
	old = MemoryContextSwitchTo(TopMemoryContext);
	options = list_make1(makeDefElem("exclude-origin",
									 (Node *) makeString(psprintf("%d", (int) origin)), -1));
	decoding = CreateDecodingContext(start, options, false,
									 XL_ROUTINE(.page_read = cdc_read_page,
												.segment_open = wal_segment_open,
												.segment_close = wal_segment_close),
									 cdc_prepare_write, cdc_write, NULL);
	plugin_begin_cb = decoding->callbacks.begin_cb;
	decoding->callbacks.begin_cb = cdc_begin_replay;
	XLogBeginRead(decoding->reader, MyReplicationSlot->data.restart_lsn);
	MemoryContextSwitchTo(old);
	CommitTransactionCommand();

	ereport(LOG,
			(errmsg("freight cdc worker capturing changes of database \"%s\" committed after %X/%X",
					freight_database,
					LSN_FORMAT_ARGS(Max(start, MyReplicationSlot->data.confirmed_flush))),
			 errdetail("Events are recorded up to %X/%X; the slot has confirmed %X/%X.",
					   LSN_FORMAT_ARGS(start),
					   LSN_FORMAT_ARGS(MyReplicationSlot->data.confirmed_flush))));
	return true;
}

/*
 * Moves the slot's confirmed position to what is decoded, once the events written for it are
 * flushed; with wait, flushes them first.
 */
static void
confirm_durable(bool wait)
{
	if (XLogRecPtrIsInvalid(unconfirmed_done))
		return;
	if (GetFlushRecPtr(NULL) < unflushed_commit_end)
	{
		if (!wait)
			return;
		XLogFlush(unflushed_commit_end);
	}
	LogicalConfirmReceivedLocation(unconfirmed_done);
	unconfirmed_done = InvalidXLogRecPtr;
}

static void
cdc_stop(void)
{
	confirm_durable(true);
	FreeDecodingContext(decoding);
	decoding = NULL;
	ReplicationSlotRelease();
	replorigin_session_reset();
	replorigin_session_origin = InvalidRepOriginId;
	ereport(LOG, (errmsg("freight cdc worker paused: freight.cdc_enabled is off")));
}

/* One decode-write-commit cycle; true when it stopped at a full batch (more WAL is waiting). */
static bool
cdc_cycle(void)
{
	XLogRecPtr	end_of_wal = GetFlushRecPtr(NULL);
	XLogRecPtr	done;
	bool		full = false;
	MemoryContext old;

	if (decoding->reader->EndRecPtr >= end_of_wal)
		return false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "decoding WAL into freight.events");

	/* No current catalog entries into decoding ... */
	if (current_lookups_cached)
		flush_catalog_caches();
	/* The WAL reader keeps buffers across cycles: decode in the decoding context's memory. */
	old = MemoryContextSwitchTo(decoding->context);
	while (decoding->reader->EndRecPtr < end_of_wal)
	{
		char	   *errm = NULL;
		XLogRecord *record = XLogReadRecord(decoding->reader, &errm);

		if (errm)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("freight cdc: could not read WAL for logical decoding: %s", errm)));
		if (record != NULL)
			LogicalDecodingProcessRecord(decoding, decoding->reader);
		if (cdc_batch_count(batch) >= cdc_batch_size)
		{
			full = true;
			break;
		}
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(old);
	done = decoding->reader->EndRecPtr;
	/* ... and no historic ones out of it. */
	if (historic_lookups_cached)
		flush_catalog_caches();

	if (cdc_batch_count(batch) > 0)
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		cdc_batch_write(batch);
		current_lookups_cached = true;
		PopActiveSnapshot();
		SPI_finish();
		/* Stored with this commit: where decoding resumes after a crash. */
		replorigin_session_origin_lsn = done;
		replorigin_session_origin_timestamp = cdc_batch_last_commit_time(batch);
	}
	CommitTransactionCommand();
	if (cdc_batch_count(batch) > 0)
		unflushed_commit_end = XactLastCommitEnd;
	cdc_batch_reset(batch);

	/* Once the events are durable, the slot may let go of the WAL before done. */
	unconfirmed_done = done;
	confirm_durable(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(false);
	return full;
}

/* Runs fn in its own transaction; an error is logged as a warning and the worker goes on. */
static void
run_guarded(void (*fn) (void), const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;

	current_lookups_cached = true;
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		fn();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("freight cdc worker: %s failed: %s", what, edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static XLogRecPtr
slot_restart_lsn(void)
{
	ReplicationSlot *slot;
	XLogRecPtr	restart = InvalidXLogRecPtr;

	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	slot = SearchNamedReplicationSlot(CDC_SLOT_NAME, false);
	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		restart = slot->data.restart_lsn;
		SpinLockRelease(&slot->mutex);
	}
	LWLockRelease(ReplicationSlotControlLock);
	return restart;
}

static int64 lag_retained_bytes;

static void
emit_lag_event(void)
{
	char		detail[256];
	char		sql[512];

	if (!OidIsValid(get_extension_oid("freight", true)))
		return;
	snprintf(detail, sizeof(detail),
			 "{\"slot\": \"" CDC_SLOT_NAME "\", \"retained_wal_bytes\": " INT64_FORMAT
			 ", \"limit_bytes\": " INT64_FORMAT ", \"cdc_enabled\": %s}",
			 lag_retained_bytes, (int64) cdc_slot_lag_limit_mb * 1024 * 1024,
			 cdc_enabled ? "true" : "false");
	/* For consumers of the event log (and webhooks) ... */
	snprintf(sql, sizeof(sql),
			 "SELECT freight.emit_event('/freight/cdc', 'cdc.slot_lag', '" CDC_SLOT_NAME "', '%s')",
			 detail);
	run_sql(sql);
	/* ... and for the security/ops feed. */
	snprintf(sql, sizeof(sql),
			 "SELECT freight.log_security_event('cdc_slot_lag', NULL, 'freight cdc worker', NULL, '%s')",
			 detail);
	run_sql(sql);
}

static void
check_slot_lag(void)
{
	XLogRecPtr	restart = slot_restart_lsn();
	XLogRecPtr	now_lsn = GetXLogWriteRecPtr();
	TimestampTz now = GetCurrentTimestamp();

	if (cdc_slot_lag_limit_mb == 0 || XLogRecPtrIsInvalid(restart) || now_lsn <= restart)
		return;
	lag_retained_bytes = (int64) (now_lsn - restart);
	if (lag_retained_bytes <= (int64) cdc_slot_lag_limit_mb * 1024 * 1024)
	{
		last_lag_warning = 0;
		return;
	}
	if (last_lag_warning != 0 && !TimestampDifferenceExceeds(last_lag_warning, now, LAG_REPEAT_MS))
		return;
	last_lag_warning = now;
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("replication slot \"%s\" holds back " INT64_FORMAT " MB of WAL, more than freight.cdc_slot_lag_limit (%d MB)",
					CDC_SLOT_NAME, lag_retained_bytes / (1024 * 1024), cdc_slot_lag_limit_mb),
			 errdetail(cdc_enabled
					   ? "The CDC worker is not keeping up, or a long transaction holds the slot back."
					   : "freight.cdc_enabled is off, so nothing consumes the slot."),
			 errhint("Turn freight.cdc_enabled on, or drop the slot with pg_drop_replication_slot('%s') if change capture is not wanted.",
					 CDC_SLOT_NAME)));
	run_guarded(emit_lag_event, "writing the cdc.slot_lag event");
}

static uint64 purged;

static void
purge_old_events(void)
{
	char		sql[512];

	snprintf(sql, sizeof(sql),
			 "DELETE FROM freight.events WHERE id IN (SELECT id FROM freight.events ORDER BY id LIMIT %d)"
			 " AND time < pg_catalog.now() - %d * interval '1 minute'"
			 " AND id < (SELECT max(id) FROM freight.events)",	/* ids continue from the newest */
			 CDC_PURGE_BATCH, events_retention_min);
	purged = run_sql(sql);
}

static void
housekeeping(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (TimestampDifferenceExceeds(last_lag_check, now, LAG_CHECK_MS))
	{
		last_lag_check = now;
		check_slot_lag();
	}
	if (decoding != NULL && events_retention_min > 0 &&
		TimestampDifferenceExceeds(last_purge, now, PURGE_EVERY_MS))
	{
		last_purge = now;
		/* Oldest first, a batch per transaction, a bounded amount per round. */
		for (int round = 0; round < 10; round++)
		{
			purged = 0;
			run_guarded(purge_old_events, "deleting expired events");
			if (purged < CDC_PURGE_BATCH)
				break;
			CHECK_FOR_INTERRUPTS();
		}
	}
}

/* Whether this server lets "freight" serve as an output plugin (setting output_plugin_libraries). */
static bool
plugin_allowed(void)
{
	char	   *list = pstrdup(output_plugin_libraries_string ? output_plugin_libraries_string : "");
	List	   *names;
	ListCell   *lc;

	if (!SplitIdentifierString(list, ',', &names))
		return false;
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), CDC_PLUGIN) == 0)
			return true;
	}
	return false;
}

void
cdc_worker_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (wal_level < WAL_LEVEL_LOGICAL || max_replication_slots == 0)
	{
		ereport(LOG,
				(errmsg("freight cdc worker not started: logical decoding is not available"),
				 errhint("Set wal_level = logical and max_replication_slots > 0 and restart to capture changes into freight.events.")));
		proc_exit(0);
	}
	if (!plugin_allowed())
	{
		ereport(LOG,
				(errmsg("freight cdc worker not started: output_plugin_libraries does not list \"%s\"",
						CDC_PLUGIN),
				 errhint("Add %s to output_plugin_libraries and restart.", CDC_PLUGIN)));
		proc_exit(0);
	}

	worker_connect(WORKER_SLOT_CDC, "freight cdc worker");
	cdc_wake_attach_worker();
	/* Events must be durable before the slot lets go of their WAL: see confirm_durable(). */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	/* Its statements are cheap and run every batch: compiling them would cost more than it saves. */
	SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	/* AFTER triggers with transition tables (the webhook fan-out) keep a batch in memory. */
	SetConfigOption("work_mem", "65536", PGC_SUSET, PGC_S_OVERRIDE);
	batch = cdc_batch_create(TopMemoryContext);

	for (;;)
	{
		bool		more = false;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* New limits apply now, not at the next scheduled check. */
			last_lag_check = 0;
			last_purge = 0;
		}
		/*
		 * A primary held read-only for a moment (pg_auto_failover does that while it promotes):
		 * events cannot be written, so wait for writes to come back rather than fail.
		 */
		if (DefaultXactReadOnly)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 CDC_READ_ONLY_WAIT_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}
		if (cdc_enabled && decoding == NULL)
			cdc_start();
		else if (!cdc_enabled && decoding != NULL)
			cdc_stop();
		if (decoding != NULL)
		{
			more = cdc_cycle();
			/* Caught up: flush now rather than leave it to the WAL writer's next round. */
			confirm_durable(!more);
		}
		housekeeping();
		if (!more)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 decoding != NULL ? cdc_poll_interval_ms : 1000, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
