/*
 * ratelimit_janitor.c — background worker "freight janitor": keeps the rate limiter's shared
 * memory and the security-event feed in step with the database.
 *
 * In the database named by freight.database (default "freight") it
 *  - restores the saved rate-limit state once per server start (freight.rate_limit_saved), so a
 *    restart does not hand every key a fresh budget;
 *  - every freight.rate_limit_persist_interval seconds, and once more at shutdown, saves the keys
 *    whose budget is not full, turns each key's denials into one rate_limit_violation security
 *    event, and forgets keys idle for freight.rate_limit_idle_timeout;
 *  - drains the shared-memory security queue (security_queue.c) into freight.security_events as
 *    soon as something is pushed (the pusher sets our latch);
 *  - exports new security events to a file and a syslog server when configured
 *    (security_export.c), and every minute deletes those older than
 *    freight.security_events_retention that are exported (security_retention.c).
 * Until CREATE EXTENSION freight has run there it just waits.  A failing unit of work is logged
 * and rolled back; the loop goes on.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ratelimit.h"
#include "security_export.h"
#include "security_queue.h"
#include "security_retention.h"
#include "worker_connect.h"

#define JANITOR_QUEUE_BATCH		64
#define JANITOR_MAX_VIOLATION_EVENTS	100	/* per sweep; further keys go into one summary */
#define JANITOR_NOT_INSTALLED_WAIT_MS	2000
#define JANITOR_READ_ONLY_WAIT_MS		500
#define JANITOR_EXPIRE_EVERY_MS		60000
#define JANITOR_EXPIRE_ROUNDS		10

PGDLLEXPORT void rate_limit_janitor_main(Datum arg);

static volatile sig_atomic_t shutdown_requested = false;
static volatile sig_atomic_t unit_running = false;

void
rate_limit_janitor_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "freight", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "rate_limit_janitor_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "freight janitor", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "freight janitor", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/*
 * SIGTERM asks the loop to stop.  A unit of work that is running (perhaps waiting for a lock a
 * session holds) is cancelled, so the request is seen at once; the last save that follows runs
 * with a lock timeout.
 */
static void
janitor_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	shutdown_requested = true;
	if (unit_running)
	{
		QueryCancelPending = true;
		InterruptPending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
unit_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
unit_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Is the extension installed in this database (with the objects this worker writes)? */
static bool
extension_installed(void)
{
	bool		installed;

	unit_begin("freight janitor: checking for the extension");
	SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'freight'", true, 1);
	installed = SPI_processed == 1;
	unit_end();
	return installed;
}

/* Put back the TATs saved before the restart. */
static void
restore_state(void)
{
	int			failed = 0;

	unit_begin("freight janitor: restoring rate-limit state");
	SPI_execute("SELECT key, tat FROM freight.rate_limit_saved WHERE tat > pg_catalog.now()",
				true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *key = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		TimestampTz tat = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 2, &isnull));

		if (strlen(key) > RATE_LIMIT_KEY_MAX || !rate_limit_store_restore(key, tat))
			failed++;
	}
	if (failed > 0)
		ereport(WARNING,
				(errmsg("freight janitor could not restore %d of %llu rate-limit keys", failed,
						(unsigned long long) SPI_processed),
				 errhint("Raise freight.rate_limit_capacity.")));
	unit_end();
	rate_limit_store_set_restored();
}

static Datum
text_array(char **items, int n)
{
	Datum	   *datums = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		datums[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(datums, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * One rate_limit_violation event per key denied since the last sweep; past
 * JANITOR_MAX_VIOLATION_EVENTS keys, one event (no actor) sums up the rest.
 */
static void
report_violations(const RateLimitKeyState *states, int n)
{
	Oid			types[4] = {TEXTOID, INT4OID, TIMESTAMPTZOID, INT4OID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			reported = 0;
	int			more_keys = 0;
	int64		more_denied = 0;
	TimestampTz more_last = 0;

	for (int i = 0; i < n; i++)
	{
		if (states[i].denied == 0)
			continue;
		if (reported == JANITOR_MAX_VIOLATION_EVENTS)
		{
			more_keys++;
			more_denied += states[i].denied;
			more_last = Max(more_last, states[i].last_denied);
			continue;
		}
		args[0] = CStringGetTextDatum(states[i].key);
		args[1] = Int32GetDatum(states[i].denied);
		args[2] = TimestampTzGetDatum(states[i].last_denied);
		args[3] = Int32GetDatum(rate_limit_persist_interval);
		SPI_execute_with_args("SELECT freight.log_security_event('rate_limit_violation', "
							  "'medium', $1, NULL, pg_catalog.jsonb_build_object("
							  "'denied', $2, 'last_denied', $3, 'period_seconds', $4))",
							  4, types, args, nulls, false, 0);
		reported++;
	}
	if (more_keys > 0)
	{
		nulls[0] = 'n';
		args[1] = Int32GetDatum((int32) Min(more_denied, PG_INT32_MAX));
		args[2] = TimestampTzGetDatum(more_last);
		args[3] = Int32GetDatum(more_keys);
		SPI_execute_with_args("SELECT freight.log_security_event('rate_limit_violation', "
							  "'high', $1, NULL, pg_catalog.jsonb_build_object("
							  "'denied', $2, 'last_denied', $3, 'other_keys', $4))",
							  4, types, args, nulls, false, 0);
	}
}

/* Fingerprint of the last state saved, so an unchanged state is not written again. */
static bool saved_once = false;
static uint64 saved_fingerprint;

/*
 * Save the keys whose budget is not full, report denials, forget idle keys.  One transaction: the
 * saved table is replaced as a whole, unless nothing changed since the last save (an idle server
 * writes nothing).
 */
static void
sweep(void)
{
	TimestampTz now = GetCurrentTimestamp();
	RateLimitKeyState *states;
	int			nexpired;
	int			n;
	char	  **keys;
	Datum	   *tats;
	int			nsaved = 0;
	uint64		fingerprint = 0;
	Oid			save_types[2] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[2];

	unit_begin("freight janitor: saving rate-limit state");
	n = rate_limit_store_sweep(now, (int64) rate_limit_idle_timeout * USECS_PER_SEC, &states,
							   &nexpired);
	keys = palloc(sizeof(char *) * Max(n, 1));
	tats = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (states[i].tat > now)
		{
			keys[nsaved] = states[i].key;
			tats[nsaved++] = TimestampTzGetDatum(states[i].tat);
			fingerprint += hash_bytes_extended((const unsigned char *) states[i].key,
											   strlen(states[i].key), (uint64) states[i].tat);
		}
	}
	report_violations(states, n);
	if (saved_once && fingerprint == saved_fingerprint)
	{
		unit_end();
		return;
	}
	SPI_execute("DELETE FROM freight.rate_limit_saved", false, 0);
	args[0] = text_array(keys, nsaved);
	args[1] = PointerGetDatum(construct_array(tats, nsaved, TIMESTAMPTZOID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	SPI_execute_with_args("INSERT INTO freight.rate_limit_saved (key, tat) "
						  "SELECT * FROM unnest($1::text[], $2::timestamptz[])",
						  2, save_types, args, NULL, false, 0);
	unit_end();
	saved_once = true;
	saved_fingerprint = fingerprint;
	elog(DEBUG1, "freight janitor: saved %d keys, expired %d", nsaved, nexpired);
}

/* Move queued security events into freight.security_events, a batch per transaction. */
static void
drain_queue(void)
{
	static SecurityQueuedEvent events[JANITOR_QUEUE_BATCH];
	Oid			types[12] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, OIDOID, OIDOID, OIDOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	uint64		dropped;
	int			n;

	while ((n = security_queue_peek(events, JANITOR_QUEUE_BATCH)) > 0)
	{
		unit_begin("freight janitor: recording security events");
		for (int i = 0; i < n; i++)
		{
			SecurityQueuedEvent *ev = &events[i];
			Datum		args[12];
			char		nulls[12];

			memset(nulls, ' ', sizeof(nulls));
			args[0] = CStringGetTextDatum(ev->kind);
			args[1] = CStringGetTextDatum(ev->severity);
			args[2] = TimestampTzGetDatum(ev->time);
			args[3] = CStringGetTextDatum(ev->actor);
			args[4] = ObjectIdGetDatum(ev->userid);
			args[5] = ObjectIdGetDatum(ev->session_userid);
			args[6] = ObjectIdGetDatum(ev->dbid);
			args[7] = CStringGetTextDatum(ev->client_addr);
			args[8] = CStringGetTextDatum(ev->sqlerrcode ? unpack_sql_state(ev->sqlerrcode) : "");
			args[9] = CStringGetTextDatum(ev->message);
			args[10] = CStringGetTextDatum(ev->statement);
			args[11] = Int32GetDatum(ev->pid);
			SPI_execute_with_args("SELECT freight.record_queued_security_event("
								  "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
								  12, types, args, nulls, false, 0);
		}
		unit_end();
		security_queue_consume(n);
	}

	dropped = security_queue_take_dropped();
	if (dropped > 0)
	{
		Oid			types1[1] = {INT8OID};
		Datum		args1[1] = {Int64GetDatum((int64) dropped)};

		unit_begin("freight janitor: recording security events");
		SPI_execute_with_args("SELECT freight.log_security_event('security_queue_overflow', "
							  "'high', NULL, NULL, pg_catalog.jsonb_build_object('dropped', $1))",
							  1, types1, args1, NULL, false, 0);
		unit_end();
	}
}

static void
export_to_file(void)
{
	unit_begin("freight janitor: exporting security events to the file");
	security_export_run(SECURITY_EXPORT_FILE);
	unit_end();
}

static void
export_to_syslog(void)
{
	unit_begin("freight janitor: exporting security events to syslog");
	security_export_run(SECURITY_EXPORT_SYSLOG);
	unit_end();
}

static uint64 expired;

static void
expire_events_batch(void)
{
	unit_begin("freight janitor: deleting expired security events");
	expired = security_retention_run();
	unit_end();
}

/*
 * Run one unit of work; on error log it, roll back and go on.  An event batch that fails is
 * dropped rather than retried forever.
 */
static bool
run_unit(void (*unit) (void))
{
	MemoryContext loop_context = CurrentMemoryContext;
	bool		ok = true;

	PG_TRY();
	{
		unit_running = true;
		unit();
		unit_running = false;
		QueryCancelPending = false; /* came too late for the unit; not meant for the loop */
	}
	PG_CATCH();
	{
		unit_running = false;
		QueryCancelPending = false;
		MemoryContextSwitchTo(loop_context);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Each target in its own transaction: one that fails does not hold the other back. */
static void
export_events(void)
{
	run_unit(export_to_file);
	run_unit(export_to_syslog);
}

/* Oldest first, a batch per transaction, a bounded amount per round. */
static void
expire_events(void)
{
	for (int round = 0; round < JANITOR_EXPIRE_ROUNDS; round++)
	{
		if (!run_unit(expire_events_batch) || expired < SECURITY_RETENTION_BATCH)
			break;
	}
}

static void
drain_queue_or_drop(void)
{
	/* A batch cancelled by a shutdown stays queued: a restarted janitor records it. */
	if (!run_unit(drain_queue) && !shutdown_requested)
	{
		static SecurityQueuedEvent batch[JANITOR_QUEUE_BATCH];
		int			n = security_queue_peek(batch, JANITOR_QUEUE_BATCH);

		security_queue_consume(n);
		ereport(WARNING, (errmsg("freight janitor dropped %d security events it could not record", n)));
	}
}

void
rate_limit_janitor_main(Datum arg)
{
	MemoryContext loop_context;
	TimestampTz next_sweep = 0;
	TimestampTz next_expiry = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	worker_connect(WORKER_SLOT_JANITOR, "freight janitor");

	/* Connected: from here a SIGTERM lets the loop save the state before it exits. */
	pqsignal(SIGTERM, janitor_sigterm);

	loop_context = AllocSetContextCreate(TopMemoryContext, "freight janitor loop",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(loop_context);

	while (!shutdown_requested)
	{
		long		wait_ms;

		MemoryContextReset(loop_context);
		MemoryContextSwitchTo(loop_context);
		if (!extension_installed())
			wait_ms = JANITOR_NOT_INSTALLED_WAIT_MS;
		else if (DefaultXactReadOnly)
		{
			/* A primary held read-only for a moment (pg_auto_failover does that while it
			 * promotes): the queue and the state wait in shared memory until writes are back. */
			elog(DEBUG1, "freight janitor: transactions are read-only, writing later");
			wait_ms = JANITOR_READ_ONLY_WAIT_MS;
		}
		else
		{
			TimestampTz now = GetCurrentTimestamp();

			if (!rate_limit_store_is_restored())
				run_unit(restore_state);
			drain_queue_or_drop();
			if (security_export_configured())
				export_events();
			if (now >= next_sweep && rate_limit_store_is_restored())
			{
				run_unit(sweep);
				next_sweep = now + (int64) rate_limit_persist_interval * USECS_PER_SEC;
			}
			if (now >= next_expiry)
			{
				if (security_retention_enabled())
					expire_events();
				next_expiry = now + (int64) JANITOR_EXPIRE_EVERY_MS * 1000;
			}
			wait_ms = Max(1, (Min(next_sweep, next_expiry) - GetCurrentTimestamp()) / 1000);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			next_expiry = 0;	/* a new freight.security_events_retention applies at once */
		}
	}

	/* Shutdown: record what is queued and save the state one last time, waiting for no lock long. */
	MemoryContextReset(loop_context);
	SetConfigOption("lock_timeout", "5s", PGC_SUSET, PGC_S_OVERRIDE);
	if (extension_installed() && rate_limit_store_is_restored())
	{
		drain_queue_or_drop();
		run_unit(sweep);
		if (security_export_configured())
			export_events();
	}
	/* Exit code 1: if this was not a server shutdown (pg_terminate_backend), come back. */
	proc_exit(1);
}
