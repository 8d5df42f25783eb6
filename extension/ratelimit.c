/*
 * ratelimit.c — SQL face of the rate limiter: freight.rate_limit(key, cost) and its helpers.
 *
 * A decision is one partition-locked step in shared memory (ratelimit_store.c running the GCRA of
 * ratelimit_gcra.c).  Only a key that is new, or whose tier changed, costs a query: the tier is
 * resolved by the SQL function freight.rate_limit_resolve(key, default_tier) (override for the
 * key, else its API key's customer tier, else freight.rate_limit_default_tier), and cached in the
 * key's entry.  Changing freight.rate_limit_tiers or freight.rate_limit_overrides fires
 * freight.rate_limit_tiers_changed(), which bumps the shared generation when the change commits.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include <time.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "freight.h"
#include "ratelimit.h"
#include "security_queue.h"

PG_FUNCTION_INFO_V1(rate_limit);
PG_FUNCTION_INFO_V1(rate_limit_state);
PG_FUNCTION_INFO_V1(rate_limit_tiers_changed);
PG_FUNCTION_INFO_V1(rate_limit_selftest);

int			rate_limit_capacity = 20000;
int			rate_limit_idle_timeout = 600;
int			rate_limit_persist_interval = 10;
char	   *rate_limit_default_tier = NULL;

static SPIPlanPtr resolve_plan;

static void rate_limit_default_tier_assign(const char *newval, void *extra);
static bool generation_bump_pending;
static bool xact_callback_registered;

void
ratelimit_init(void)
{
	DefineCustomIntVariable("freight.rate_limit_capacity",
							"Most rate-limit keys tracked at once in shared memory.",
							"Each key takes about 200 bytes.  A new key beyond this is an error.",
							&rate_limit_capacity, 20000, 100, 10000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.rate_limit_idle_timeout",
							"Seconds after which an idle key with a full budget is forgotten.",
							NULL, &rate_limit_idle_timeout, 600, 1, 86400 * 7,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("freight.rate_limit_persist_interval",
							"Seconds between two saves of the rate-limit state by the janitor.",
							"The janitor also summarises violations and expires idle keys then.",
							&rate_limit_persist_interval, 10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("freight.rate_limit_default_tier",
							   "Tier of rate-limit keys that belong to no API key and have no override.",
							   "Changing it (and reloading) applies to every such key at once.",
							   &rate_limit_default_tier, "free",
							   PGC_SIGHUP, 0, NULL, rate_limit_default_tier_assign, NULL);
	rate_limit_store_init();
	rate_limit_janitor_register();
}

static void
check_store_ready(void)
{
	if (!rate_limit_store_ready())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("freight rate limiter is not initialised"),
				 errhint("Add freight to shared_preload_libraries and restart the server.")));
}

/* Validate the key argument and return it as a C string. */
static char *
rate_limit_key_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *key;
	int			len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rate-limit key must not be null")));
	key = PG_GETARG_TEXT_PP(argno);
	len = VARSIZE_ANY_EXHDR(key);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate-limit key must not be empty")));
	if (len > RATE_LIMIT_KEY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate-limit key is too long"),
				 errdetail("The key is %d bytes long; the limit is %d bytes.",
						   len, RATE_LIMIT_KEY_MAX)));
	return text_to_cstring(key);
}

/* Look up the tier parameters of key with freight.rate_limit_resolve(). */
static void
rate_limit_resolve(const char *key, GcraParams *params)
{
	Datum		args[2];
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	bool		isnull[3];
	int64		requests;
	int64		window_us;
	int32		burst;
	GcraParamsError err;

	SPI_connect();
	if (resolve_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT requests::int8, "
									   "(extract(epoch FROM \"window\") * 1000000)::int8, burst "
									   "FROM freight.rate_limit_resolve($1, $2)",
									   2, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		resolve_plan = plan;
	}
	args[0] = CStringGetTextDatum(key);
	args[1] = CStringGetTextDatum(rate_limit_default_tier ? rate_limit_default_tier : "");
	if (SPI_execute_plan(resolve_plan, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "freight.rate_limit_resolve returned no row");
	requests = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull[0]));
	window_us = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull[1]));
	burst = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull[2]));
	SPI_finish();

	if (isnull[0] || isnull[1] || isnull[2])
		elog(ERROR, "freight.rate_limit_resolve returned a null limit");
	err = gcra_params_init(params, requests, window_us, burst);
	if (err != GCRA_PARAMS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate-limit tier of key \"%s\" is not usable", key),
				 errdetail("%lld requests per %lld microseconds with a burst of %d: %s.",
						   (long long) requests, (long long) window_us, burst,
						   err == GCRA_PARAMS_BAD_REQUESTS ? "requests must be at least 1" :
						   err == GCRA_PARAMS_BAD_WINDOW ? "the window is shorter than one microsecond per request" :
						   "the burst is out of range")));
}

static Interval *
interval_from_us(int64 us)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = us;
	return result;
}

static void
report_table_full(const char *key, TimestampTz now)
{
	if (rate_limit_store_claim_full_report(now))
	{
		char		message[128];

		snprintf(message, sizeof(message), "rate-limit table is full (%d keys)",
				 rate_limit_capacity);
		security_queue_push("rate_limit_table_full", "high", key, ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
							message, NULL);
	}
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("rate-limit table is full"),
			 errdetail("All %d slots hold keys that are in use or still recovering their budget.",
					   rate_limit_capacity),
			 errhint("Raise freight.rate_limit_capacity and restart the server.")));
}

/*
 * freight.rate_limit(key text, cost int DEFAULT 1)
 *   RETURNS (allowed bool, "limit" int, remaining int, reset_after interval, retry_after interval)
 */
Datum
rate_limit(PG_FUNCTION_ARGS)
{
	char	   *key = rate_limit_key_arg(fcinfo, 0);
	int32		cost;
	TimestampTz now = GetCurrentTimestamp();
	GcraParams	params;
	GcraDecision decision;
	RateLimitOutcome outcome;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false};

	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate-limit cost must be a positive integer")));
	cost = PG_GETARG_INT32(1);
	check_store_ready();
	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		tupdesc = BlessTupleDesc(tupdesc);
		MemoryContextSwitchTo(oldcontext);
		fcinfo->flinfo->fn_extra = tupdesc;
	}

	outcome = rate_limit_store_decide(key, cost, now, NULL, 0, &params, &decision);
	if (outcome == RATE_LIMIT_NEED_PARAMS)
	{
		uint64		generation = rate_limit_generation();
		GcraParams	fresh;

		rate_limit_resolve(key, &fresh);
		outcome = rate_limit_store_decide(key, cost, now, &fresh, generation, &params, &decision);
	}
	if (outcome == RATE_LIMIT_FULL)
		report_table_full(key, now);
	if (outcome == RATE_LIMIT_COST_TOO_HIGH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rate-limit cost exceeds the burst of the key's tier"),
				 errdetail("The cost is %d; the burst is %d.", cost, params.burst),
				 errhint("A request may cost at most the burst of its tier.")));

	values[0] = BoolGetDatum(decision.allowed);
	values[1] = Int32GetDatum(params.burst);
	values[2] = Int32GetDatum(decision.remaining);
	values[3] = IntervalPGetDatum(interval_from_us(decision.reset_after_us));
	values[4] = IntervalPGetDatum(interval_from_us(decision.retry_after_us));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * freight.rate_limit_state() RETURNS TABLE (key text, tat timestamptz, last_seen timestamptz,
 * denied int): every tracked key, for operators and the tests.
 */
Datum
rate_limit_state(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RateLimitKeyState *states;
	int			n;

	check_store_ready();
	InitMaterializedSRF(fcinfo, 0);
	n = rate_limit_store_snapshot(&states);
	for (int i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false};

		values[0] = CStringGetTextDatum(states[i].key);
		values[1] = TimestampTzGetDatum(states[i].tat);
		values[2] = TimestampTzGetDatum(states[i].last_seen);
		values[3] = Int32GetDatum(states[i].denied);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

static void
rate_limit_xact_callback(XactEvent event, void *arg)
{
	if (!generation_bump_pending)
		return;
	/* On abort too: the transaction may have cached limits it saw in its own uncommitted rows. */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		rate_limit_bump_generation();
		generation_bump_pending = false;
	}
}

/* A new default tier (reload) applies to every key: each process that sees it bumps once. */
static void
rate_limit_default_tier_assign(const char *newval, void *extra)
{
	if (IsUnderPostmaster && rate_limit_store_ready() && rate_limit_default_tier != NULL &&
		strcmp(newval, rate_limit_default_tier) != 0)
		rate_limit_bump_generation();
}

/*
 * Statement trigger on the tier and override tables: every key re-resolves its tier once the
 * change is committed (bumping earlier could let a key cache the old tier under the new generation).
 */
Datum
rate_limit_tiers_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("rate_limit_tiers_changed() must be called as a trigger")));
	if (!rate_limit_store_ready())
		return PointerGetDatum(NULL);
	if (!xact_callback_registered)
	{
		RegisterXactCallback(rate_limit_xact_callback, NULL);
		xact_callback_registered = true;
	}
	generation_bump_pending = true;
	return PointerGetDatum(NULL);
}

/*
 * freight.rate_limit_selftest(decisions int) RETURNS (wall_ns float8, cpu_ns float8): nanoseconds
 * per decision of the shared-memory path alone (hash, partition lock, GCRA), over 1,000 keys
 * "selftest:N" of a huge tier, measured in a loop inside the backend, as elapsed time and as this
 * process's CPU time (which other load on the machine does not inflate).  For the benchmark.
 */
Datum
rate_limit_selftest(PG_FUNCTION_ARGS)
{
	int32		decisions = PG_GETARG_INT32(0);
	GcraParams	params;
	GcraParams	used;
	GcraDecision decision;
	char		keys[1000][32];
	uint64		generation;
	instr_time	start;
	instr_time	elapsed;
	struct timespec cpu_start;
	struct timespec cpu_end;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (decisions < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of decisions must be positive")));
	check_store_ready();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	gcra_params_init(&params, 1000000000, USECS_PER_SEC * 3600, 1000000);
	for (int i = 0; i < 1000; i++)
		snprintf(keys[i], sizeof(keys[i]), "selftest:%d", i);
	generation = rate_limit_generation();

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_start);
	INSTR_TIME_SET_CURRENT(start);
	for (int i = 0; i < decisions; i++)
	{
		RateLimitOutcome outcome;

		outcome = rate_limit_store_decide(keys[i % 1000], 1, GetCurrentTimestamp(), &params,
										  generation, &used, &decision);
		if (outcome == RATE_LIMIT_FULL)
			report_table_full(keys[i % 1000], GetCurrentTimestamp());
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_end);
	INSTR_TIME_SUBTRACT(elapsed, start);
	values[0] = Float8GetDatum(INSTR_TIME_GET_DOUBLE(elapsed) * 1e9 / decisions);
	values[1] = Float8GetDatum(((cpu_end.tv_sec - cpu_start.tv_sec) * 1e9 +
								(cpu_end.tv_nsec - cpu_start.tv_nsec)) / decisions);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
