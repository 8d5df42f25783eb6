/*
 * webhook_dispatch.c — the webhook dispatcher background worker.
 *
 * One loop: store finished attempts (one transaction), claim due deliveries up to the free
 * concurrency (one transaction, bounded batch), start their POSTs, then sleep on the latch, the
 * postmaster and curl's sockets together, with curl's timer or the next scheduled retry as the
 * timeout.  A committing transaction that created deliveries sets the latch (webhook_shmem.c),
 * so a new event is picked up at once; nothing polls.
 *
 * At-least-once: the deliveries being sent are only in this process's memory (reading them costs
 * no write); a delivery stays due in the database until its outcome is recorded, so after a
 * crash or restart it is simply sent again.  The worker commits with synchronous_commit off: losing its
 * last commits in a crash only means sending those webhooks again, which receivers de-duplicate
 * by webhook-id.  An error in a transaction is logged and retried later; the worker keeps running.
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "common/pg_prng.h"

#include "webhook_dispatch.h"
#include "webhook_http.h"
#include "webhook_retry.h"
#include "webhook_shmem.h"
#include "webhook_store.h"
#include "webhook_targets.h"
#include "worker_connect.h"

#define DEFAULT_RETRY_SCHEDULE "5s, 5min, 30min, 2h, 5h, 10h, 10h"
/* Sleep after a failed transaction before trying again. */
#define ERROR_BACKOFF_MS 1000
/* Longest sleep while the server is read-only. */
#define READ_ONLY_WAIT_MS 1000
/* Longest sleep without a known reason to wake (a safety net, not a poll). */
#define MAX_SLEEP_MS (10 * 60 * 1000)
/* Finished attempts stored together: at most this many, at most this late. */
#define RECORD_BATCH 256
#define RECORD_DELAY_MS 20
/* Old finished deliveries: looked for every minute, deleted a batch per transaction. */
#define PURGE_EVERY_MS 60000
#define PURGE_BATCH 10000
#define PURGE_ROUNDS 10

bool		webhook_enabled = true;
bool		webhook_allow_private = false;
int			webhook_concurrency = 64;
int			webhook_batch_size = 256;
int			webhook_timeout_ms = 15000;
int			webhook_connect_timeout_ms = 5000;
int			webhook_max_payload = 65536;
int			webhook_disable_after_s = 3 * 24 * 3600;
static int	webhook_retention_min = 30 * 24 * 60;
char	   *webhook_ca_file = NULL;
int			webhook_retry_count = 0;
int64		webhook_retry_delays_ms[WEBHOOK_SCHEDULE_MAX];
static char *retry_schedule_text = NULL;

/* What the loop carries between iterations. */
typedef struct DispatchState
{
	bool		claim_now;		/* woken, or the last claim was a full batch */
	TimestampTz next_due;		/* the next scheduled attempt, DT_NOEND if none */
	WebhookOutcomes outcomes;	/* finished attempts not yet stored */
	TimestampTz first_outcome_at;	/* when the oldest of them finished */
	TimestampTz record_retry_at;	/* after a failed attempt to store them */
	TimestampTz last_purge;		/* of old finished deliveries; 0 after a reload */
	bool		do_record;		/* what the next cycle transaction does */
	bool		do_claim;
	MemoryContext outcomes_context;
	MemoryContext batch_context;
} DispatchState;

static bool
check_retry_schedule(char **newval, void **extra, GucSource source)
{
	int64		delays[WEBHOOK_SCHEDULE_MAX];
	char		err[200];
	int			n = webhook_schedule_parse(*newval, delays, err, sizeof(err));
	int64	   *parsed;

	if (n < 0)
	{
		GUC_check_errdetail("%s", err);
		GUC_check_errhint("Example: '5s, 5min, 30min, 2h, 5h, 10h, 10h'.");
		return false;
	}
	parsed = malloc(sizeof(int64) * (WEBHOOK_SCHEDULE_MAX + 1));	/* GUC frees extra with free() */
	if (parsed == NULL)
		return false;
	parsed[0] = n;
	memcpy(parsed + 1, delays, sizeof(int64) * n);
	*extra = parsed;
	return true;
}

static bool
check_ca_file(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!is_absolute_path(*newval))
	{
		GUC_check_errdetail("\"%s\" is not an absolute path.", *newval);
		return false;
	}
	if (access(*newval, R_OK) != 0)
	{
		GUC_check_errdetail("The file \"%s\" cannot be read: %m.", *newval);
		return false;
	}
	return true;
}

static void
assign_retry_schedule(const char *newval, void *extra)
{
	int64	   *parsed = (int64 *) extra;

	webhook_retry_count = (int) parsed[0];
	memcpy(webhook_retry_delays_ms, parsed + 1, sizeof(int64) * webhook_retry_count);
}

static void
define_settings(void)
{
	DefineCustomBoolVariable("freight.webhook_enabled",
							 "Whether the webhook dispatcher sends deliveries.",
							 NULL, &webhook_enabled, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("freight.webhook_allow_private",
							 "Allows webhook URLs that resolve to private, loopback or link-local addresses.",
							 "Only for tests and closed networks: it lets webhooks reach internal services.",
							 &webhook_allow_private, false, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_concurrency",
							"Most webhook requests in flight at once.",
							NULL, &webhook_concurrency, 64, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_batch_size",
							"Most deliveries claimed in one transaction.",
							NULL, &webhook_batch_size, 256, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_timeout",
							"Total time allowed for one webhook request.",
							NULL, &webhook_timeout_ms, 15000, 100, 300000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_connect_timeout",
							"Time allowed to connect to a webhook endpoint.",
							NULL, &webhook_connect_timeout_ms, 5000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_max_payload",
							"Largest webhook body in bytes; larger messages are refused or dead-lettered.",
							NULL, &webhook_max_payload, 65536, 1024, 16 * 1024 * 1024, PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_disable_after",
							"An endpoint failing without a success for longer than this is disabled.",
							NULL, &webhook_disable_after_s, 3 * 24 * 3600, 1, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.webhook_retention",
							"How long finished (delivered or dead) webhook deliveries are kept; 0 keeps them.",
							NULL, &webhook_retention_min, 30 * 24 * 60, 0, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_MIN, NULL, NULL, NULL);
	DefineCustomStringVariable("freight.webhook_retry_schedule",
							   "Delays before each retry of a failed webhook delivery; then it is dead-lettered.",
							   "A comma-separated list such as '5s, 5min, 30min, 2h'.",
							   &retry_schedule_text, DEFAULT_RETRY_SCHEDULE, PGC_SIGHUP, 0,
							   check_retry_schedule, assign_retry_schedule, NULL);
	DefineCustomStringVariable("freight.webhook_ca_file",
							   "PEM file of the certificate authorities trusted for https webhook endpoints.",
							   "Empty: the system's CA bundle.  A file replaces that bundle (concatenate both to trust both).",
							   &webhook_ca_file, "", PGC_SIGHUP, 0,
							   check_ca_file, NULL, NULL);
}

void
webhook_dispatch_init(void)
{
	BackgroundWorker worker = {0};

	define_settings();
	webhook_shmem_install_hooks();
	worker_connect_init();

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_name, BGW_MAXLEN, "freight webhook dispatcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "freight webhook dispatcher");
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "freight");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "webhook_dispatch_main");
	RegisterBackgroundWorker(&worker);
}

/*
 * Runs step inside its own transaction with SPI connected.  On error the error is logged, the
 * transaction rolled back and false returned: the loop goes on.
 */
static bool
in_transaction(void (*step) (DispatchState *), DispatchState *state, const char *activity)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		step(state);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

static void
add_outcome(DispatchState *state, int64 delivery_id, const char *outcome, long status,
			const char *error, int64 delay_ms)
{
	WebhookOutcomes *o = &state->outcomes;
	MemoryContext old = MemoryContextSwitchTo(state->outcomes_context);

	if (o->n == 0)
		state->first_outcome_at = GetCurrentTimestamp();
	if (o->n == o->cap)
	{
		o->cap = o->cap == 0 ? 256 : o->cap * 2;
		o->ids = o->n ? repalloc(o->ids, sizeof(int64) * o->cap) : palloc(sizeof(int64) * o->cap);
		o->outcomes = o->n ? repalloc(o->outcomes, sizeof(char *) * o->cap) : palloc(sizeof(char *) * o->cap);
		o->status_codes = o->n ? repalloc(o->status_codes, sizeof(int32) * o->cap) : palloc(sizeof(int32) * o->cap);
		o->errors = o->n ? repalloc(o->errors, sizeof(char *) * o->cap) : palloc(sizeof(char *) * o->cap);
		o->delays_ms = o->n ? repalloc(o->delays_ms, sizeof(int64) * o->cap) : palloc(sizeof(int64) * o->cap);
	}
	o->ids[o->n] = delivery_id;
	o->outcomes[o->n] = outcome;
	o->status_codes[o->n] = (int32) status;
	o->errors[o->n] = error && error[0] ? pstrdup(error) : NULL;
	o->delays_ms[o->n] = delay_ms;
	o->n++;
	MemoryContextSwitchTo(old);
}

/* A failed attempt: retry per the schedule (or Retry-After), or dead-letter. */
static void
add_failure(DispatchState *state, int64 delivery_id, int attempts, long status,
			int64 retry_after_ms, const char *error)
{
	int64		delay = webhook_retry_delay_ms(webhook_retry_delays_ms, webhook_retry_count, attempts,
											   retry_after_ms, pg_prng_double(&pg_global_prng_state));

	add_outcome(state, delivery_id, delay < 0 ? "dead" : "retry", status, error, Max(delay, 0));
}

/* curl's completion callback: classify the answer and queue the outcome. */
static void
attempt_done(const WebhookAttempt *a, void *arg)
{
	DispatchState *state = (DispatchState *) arg;
	switch (webhook_classify(a->http_status))
	{
		case WEBHOOK_DELIVERED:
			add_outcome(state, a->delivery_id, "delivered", a->http_status, NULL, 0);
			break;
		case WEBHOOK_GONE:
			add_outcome(state, a->delivery_id, "gone", a->http_status, a->error, 0);
			break;
		case WEBHOOK_REJECTED:
			add_outcome(state, a->delivery_id, "dead", a->http_status, a->error, 0);
			break;
		case WEBHOOK_RETRY:
			add_failure(state, a->delivery_id, a->attempts, a->http_status, a->retry_after_ms, a->error);
			break;
	}
}

/* Claimed deliveries and their targets; the requests start after the claim commits. */
typedef struct Batch
{
	int			n;
	WebhookClaim *claims;
	const WebhookTarget **targets;
	char	  **errors;			/* why a target is missing */
} Batch;

static Batch current_batch;

/*
 * The deliveries not to claim: in flight, or finished but not yet recorded (unless recorded in
 * this transaction already).  Room is left for a batch more.
 */
static int
busy_ids(DispatchState *state, bool recorded, int64 **ids)
{
	int			n;

	*ids = palloc(sizeof(int64) * (webhook_http_in_flight() + state->outcomes.n + webhook_batch_size + 1));
	n = webhook_http_in_flight_ids(*ids);
	if (recorded)
		return n;
	memcpy(*ids + n, state->outcomes.ids, sizeof(int64) * state->outcomes.n);
	return n + state->outcomes.n;
}

static void
claim(DispatchState *state, const int64 *busy, int nbusy)
{
	int			free_slots = webhook_concurrency - webhook_http_in_flight();
	int			limit = Min(free_slots, webhook_batch_size);
	char		error[256];

	current_batch.n = webhook_store_claim(limit, busy, nbusy, state->batch_context,
										  &current_batch.claims);
	current_batch.targets = MemoryContextAllocZero(state->batch_context,
												   sizeof(WebhookTarget *) * Max(current_batch.n, 1));
	current_batch.errors = MemoryContextAllocZero(state->batch_context,
												  sizeof(char *) * Max(current_batch.n, 1));
	for (int i = 0; i < current_batch.n; i++)
	{
		WebhookClaim *c = &current_batch.claims[i];

		current_batch.targets[i] = webhook_target_get(c->endpoint_id, c->config_version,
													  error, sizeof(error));
		if (current_batch.targets[i] == NULL)
			current_batch.errors[i] = MemoryContextStrdup(state->batch_context, error);
	}
	state->claim_now = current_batch.n == limit;
}

/*
 * One transaction per loop cycle: store the finished attempts and/or claim new ones, then learn
 * when the next scheduled attempt is due (it must see the rows just changed).
 */
static void
cycle_step(DispatchState *state)
{
	int64	   *busy;
	int			nbusy;

	if (state->do_record)
		webhook_store_record(&state->outcomes, webhook_disable_after_s);
	nbusy = busy_ids(state, state->do_record, &busy);
	if (state->do_claim)
		claim(state, busy, nbusy);
	for (int i = 0; i < current_batch.n; i++)
		busy[nbusy++] = current_batch.claims[i].delivery_id;
	state->next_due = webhook_store_next_due(busy, nbusy);
}

static void
start_batch(DispatchState *state)
{
	for (int i = 0; i < current_batch.n; i++)
	{
		WebhookClaim *c = &current_batch.claims[i];

		if (current_batch.targets[i] == NULL)
		{
			add_outcome(state, c->delivery_id, "retry", 0, current_batch.errors[i], 60000);
			continue;
		}
		if (c->body == NULL)
		{
			add_outcome(state, c->delivery_id, "dead", 0,
						"the event is no longer in freight.events (retention)", 0);
			continue;
		}
		if (c->body_len > (size_t) webhook_max_payload)
		{
			char		error[200];

			snprintf(error, sizeof(error),
					 "the payload of %zu bytes exceeds freight.webhook_max_payload (%d bytes)",
					 c->body_len, webhook_max_payload);
			add_outcome(state, c->delivery_id, "dead", 0, error, 0);
			continue;
		}
		webhook_http_start(c->delivery_id, c->endpoint_id, c->attempts, c->webhook_id,
						   c->body, c->body_len, current_batch.targets[i]);
	}
}

static uint64 purged;

static void
purge_step(DispatchState *state)
{
	purged = webhook_store_purge(webhook_retention_min, PURGE_BATCH);
}

/* Oldest first, a batch per transaction, a bounded amount per round. */
static void
purge_old_deliveries(DispatchState *state, TimestampTz now)
{
	state->last_purge = now;
	for (int round = 0; round < PURGE_ROUNDS; round++)
	{
		if (!in_transaction(purge_step, state, "webhook dispatcher: purging old deliveries") ||
			purged < PURGE_BATCH)
			break;
	}
}

static bool
purge_due(DispatchState *state, TimestampTz now)
{
	return webhook_retention_min > 0 &&
		TimestampDifferenceExceeds(state->last_purge, now, PURGE_EVERY_MS);
}

static bool installed_result;

static void
installed_step(DispatchState *state)
{
	installed_result = webhook_store_installed();
}

static void
shutdown_dispatcher(int code, Datum arg)
{
	webhook_http_shutdown();
	webhook_targets_reset();
}

static long
ms_until(TimestampTz when, TimestampTz now)
{
	return when <= now ? 0 : (long) Min((when - now + 999) / 1000, MAX_SLEEP_MS);
}

/*
 * Outcomes are stored in batches (a transaction per few deliveries would cap the throughput):
 * when RECORD_BATCH are waiting, when nothing is in flight, or RECORD_DELAY_MS after the oldest.
 */
static TimestampTz
record_due_at(DispatchState *state)
{
	if (state->outcomes.n == 0)
		return DT_NOEND;
	if (state->outcomes.n >= RECORD_BATCH || webhook_http_in_flight() == 0)
		return state->record_retry_at;
	return Max(state->record_retry_at,
			   TimestampTzPlusMilliseconds(state->first_outcome_at, RECORD_DELAY_MS));
}

/*
 * Claims wait until a quarter of the slots (or a batch) is free, unless nothing is in flight:
 * under load that amortises the transaction, when idle a new event goes out at once.
 */
static bool
claim_possible(void)
{
	int			in_flight = webhook_http_in_flight();
	int			free_slots = webhook_concurrency - in_flight;

	return webhook_enabled && free_slots > 0 &&
		(in_flight == 0 || free_slots >= Min(webhook_batch_size, Max(webhook_concurrency / 4, 1)));
}

/*
 * Milliseconds to sleep: until curl's timer, storing outcomes, the next due attempt or purge.
 * While the server is read-only nothing can be stored or claimed: requests in flight go on and
 * their outcomes wait in memory; the reload that ends it wakes us (READ_ONLY_WAIT_MS is a net).
 */
static long
sleep_ms(DispatchState *state)
{
	TimestampTz now = GetCurrentTimestamp();
	long		ms = MAX_SLEEP_MS;
	long		curl_ms = webhook_http_timeout_ms();

	if (curl_ms >= 0)
		ms = Min(ms, curl_ms);
	if (DefaultXactReadOnly)
		return Min(ms, READ_ONLY_WAIT_MS);
	if (state->outcomes.n > 0)
		ms = Min(ms, ms_until(record_due_at(state), now));
	if (webhook_retention_min > 0)
		ms = Min(ms, ms_until(TimestampTzPlusMilliseconds(state->last_purge, PURGE_EVERY_MS), now));
	if (claim_possible())
	{
		if (state->claim_now)
			return 0;
		if (state->next_due != DT_NOEND)
			ms = Min(ms, ms_until(state->next_due, now));
	}
	return ms;
}

/* One cycle transaction when outcomes are due to be stored or deliveries to be claimed. */
static void
store_and_claim(DispatchState *state, TimestampTz now)
{
	state->do_record = state->outcomes.n > 0 && now >= record_due_at(state);
	/* Recording frees slots and may make a delivery due (an ordered endpoint's next one). */
	state->do_claim = claim_possible() && (state->claim_now || state->do_record || now >= state->next_due);
	if (!state->do_record && !state->do_claim)
		return;
	MemoryContextReset(state->batch_context);
	current_batch.n = 0;
	if (in_transaction(cycle_step, state, "webhook dispatcher: storing outcomes, claiming"))
	{
		if (state->do_record)
		{
			state->outcomes.n = 0;
			state->outcomes.cap = 0;
			MemoryContextReset(state->outcomes_context);
		}
		start_batch(state);
	}
	else
	{
		state->record_retry_at = TimestampTzPlusMilliseconds(now, ERROR_BACKOFF_MS);
		state->claim_now = false;
		state->next_due = TimestampTzPlusMilliseconds(now, ERROR_BACKOFF_MS);
	}
}

static void
wait_for_extension(WaitEventSet *wes, DispatchState *state)
{
	WaitEvent	event;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (in_transaction(installed_step, state, "webhook dispatcher: waiting for the extension") &&
			installed_result)
			return;
		/* CREATE EXTENSION sets our latch when it commits; the timeout is a safety net. */
		if (WaitEventSetWait(wes, 60000, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
			ResetLatch(MyLatch);
	}
}

void
webhook_dispatch_main(Datum main_arg)
{
	DispatchState state = {0};
	WaitEventSet *wes;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	worker_connect(WORKER_SLOT_WEBHOOK, "freight webhook dispatcher");
	/* See the header comment: losing the last commits only means sending again. */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	state.outcomes_context = AllocSetContextCreate(TopMemoryContext, "webhook outcomes",
												   ALLOCSET_DEFAULT_SIZES);
	state.batch_context = AllocSetContextCreate(TopMemoryContext, "webhook claim batch",
												ALLOCSET_DEFAULT_SIZES);
	webhook_http_init(AllocSetContextCreate(TopMemoryContext, "webhook requests", ALLOCSET_DEFAULT_SIZES));
	before_shmem_exit(shutdown_dispatcher, (Datum) 0);
	webhook_shmem_attach_dispatcher();

	wes = CreateWaitEventSet(TopMemoryContext, 3);
	AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	AddWaitEventToSet(wes, WL_SOCKET_READABLE, webhook_http_wait_fd(), NULL, NULL);

	wait_for_extension(wes, &state);
	state.claim_now = true;
	state.next_due = DT_NOEND;

	for (;;)
	{
		WaitEvent	event;
		long		timeout;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			state.last_purge = 0;	/* a new freight.webhook_retention applies at once */
		}

		webhook_http_run(attempt_done, &state);
		now = GetCurrentTimestamp();
		/*
		 * Read-only (pg_auto_failover holds a primary so while it promotes): store, claim and
		 * purge nothing yet; requests in flight go on and their outcomes wait in memory.
		 */
		if (!DefaultXactReadOnly)
		{
			store_and_claim(&state, now);
			if (purge_due(&state, now))
				purge_old_deliveries(&state, now);
		}

		timeout = sleep_ms(&state);
		if (WaitEventSetWait(wes, timeout, &event, 1, PG_WAIT_EXTENSION) > 0 &&
			(event.events & WL_LATCH_SET))
		{
			ResetLatch(MyLatch);
			state.claim_now = true;
		}
	}
}
