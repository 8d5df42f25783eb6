/*
 * webhook_store.c — SPI calls of the dispatcher (see webhook_store.h).  The logic is in the SQL
 * functions of extension/sql/55_webhooks.sql; this file only moves values in and out.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "webhook_store.h"

static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr next_due_plan = NULL;
static SPIPlanPtr purge_plan = NULL;

/* Prepares a plan once per process (SPI_keepplan keeps it across transactions). */
static SPIPlanPtr
keep_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

bool
webhook_store_installed(void)
{
	bool		isnull;

	if (SPI_execute("SELECT pg_catalog.to_regprocedure('freight.webhook_claim(int, bigint[])') IS NOT NULL",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up freight.webhook_claim");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static char *
copy_text(HeapTuple tuple, TupleDesc desc, int col, size_t *len)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);
	text	   *t;

	if (isnull)
		return NULL;
	t = DatumGetTextPP(d);
	if (len != NULL)
		*len = VARSIZE_ANY_EXHDR(t);
	return text_to_cstring(t);
}

/* The busy ids as an int8[] datum. */
static Datum
busy_array(const int64 *busy, int nbusy)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(nbusy, 1));

	for (int i = 0; i < nbusy; i++)
		elems[i] = Int64GetDatum(busy[i]);
	return PointerGetDatum(construct_array(elems, nbusy, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}

int
webhook_store_claim(int limit, const int64 *busy, int nbusy, MemoryContext into,
					WebhookClaim **claims)
{
	Oid			argtypes[2] = {INT4OID, INT8ARRAYOID};
	Datum		args[2] = {Int32GetDatum(limit), busy_array(busy, nbusy)};
	SPIPlanPtr	plan = keep_plan(&claim_plan,
								 "SELECT delivery_id, endpoint_id, config_version, attempts, webhook_id, body "
								 "FROM freight.webhook_claim($1, $2)", 2, argtypes);
	MemoryContext old;
	uint64		n;
	bool		isnull;

	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "freight.webhook_claim() failed");
	n = SPI_processed;
	old = MemoryContextSwitchTo(into);
	*claims = n > 0 ? palloc0(sizeof(WebhookClaim) * n) : NULL;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		WebhookClaim *c = &(*claims)[i];

		c->delivery_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		c->endpoint_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		c->config_version = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		c->attempts = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		c->webhook_id = copy_text(tup, desc, 5, NULL);
		c->body = copy_text(tup, desc, 6, &c->body_len);
	}
	MemoryContextSwitchTo(old);
	return (int) n;
}

/* Not read-only: it must see the rows this transaction just rescheduled. */
TimestampTz
webhook_store_next_due(const int64 *busy, int nbusy)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		args[1] = {busy_array(busy, nbusy)};
	SPIPlanPtr	plan = keep_plan(&next_due_plan, "SELECT freight.webhook_next_due($1)", 1, argtypes);
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "freight.webhook_next_due() failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? DT_NOEND : DatumGetTimestampTz(d);
}

bool
webhook_store_endpoint(int64 endpoint_id, MemoryContext into, WebhookEndpointConfig *config)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(endpoint_id)};
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		until;

	if (SPI_execute_with_args("SELECT * FROM freight.webhook_endpoint_config($1)", 1, argtypes,
							  args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "freight.webhook_endpoint_config() failed");
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(into);
	config->url = copy_text(tup, desc, 1, NULL);
	config->config_version = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	config->secret = copy_text(tup, desc, 3, NULL);
	config->previous_secret = copy_text(tup, desc, 4, NULL);
	until = SPI_getbinval(tup, desc, 5, &isnull);
	config->previous_secret_until = isnull ? DT_NOBEGIN : DatumGetTimestampTz(until);
	config->client_cert = copy_text(tup, desc, 6, NULL);
	config->client_key = copy_text(tup, desc, 7, NULL);
	MemoryContextSwitchTo(old);
	return true;
}

/* Builds a one-dimensional array; nulls may be NULL. */
static Datum
make_array(Datum *values, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

void
webhook_store_record(const WebhookOutcomes *o, int disable_after_s)
{
	Oid			argtypes[6] = {INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
	INT8ARRAYOID, INTERVALOID};
	SPIPlanPtr	plan = keep_plan(&record_plan,
								 "SELECT endpoint_id, reason FROM freight.webhook_record($1, $2, $3, $4, $5, $6)",
								 6, argtypes);
	Datum	   *ids = palloc(sizeof(Datum) * o->n);
	Datum	   *outcomes = palloc(sizeof(Datum) * o->n);
	Datum	   *codes = palloc(sizeof(Datum) * o->n);
	bool	   *code_nulls = palloc(sizeof(bool) * o->n);
	Datum	   *errors = palloc(sizeof(Datum) * o->n);
	bool	   *error_nulls = palloc(sizeof(bool) * o->n);
	Datum	   *delays = palloc(sizeof(Datum) * o->n);
	Datum		args[6];
	Interval   *disable_after = palloc0(sizeof(Interval));

	for (int i = 0; i < o->n; i++)
	{
		ids[i] = Int64GetDatum(o->ids[i]);
		outcomes[i] = CStringGetTextDatum(o->outcomes[i]);
		codes[i] = Int32GetDatum(o->status_codes[i]);
		code_nulls[i] = o->status_codes[i] == 0;
		error_nulls[i] = o->errors[i] == NULL;
		errors[i] = error_nulls[i] ? (Datum) 0 : CStringGetTextDatum(o->errors[i]);
		delays[i] = Int64GetDatum(o->delays_ms[i]);
	}
	disable_after->time = (int64) disable_after_s * USECS_PER_SEC;
	args[0] = make_array(ids, NULL, o->n, INT8OID);
	args[1] = make_array(outcomes, NULL, o->n, TEXTOID);
	args[2] = make_array(codes, code_nulls, o->n, INT4OID);
	args[3] = make_array(errors, error_nulls, o->n, TEXTOID);
	args[4] = make_array(delays, NULL, o->n, INT8OID);
	args[5] = IntervalPGetDatum(disable_after);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "freight.webhook_record() failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		endpoint_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 1, &isnull));
		char	   *reason = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		ereport(LOG,
				(errmsg("webhook endpoint " INT64_FORMAT " disabled", endpoint_id),
				 errdetail_internal("%s", reason)));
	}
}

uint64
webhook_store_purge(int retention_min, int max_rows)
{
	Oid			argtypes[2] = {INT4OID, INT4OID};
	Datum		args[2] = {Int32GetDatum(retention_min), Int32GetDatum(max_rows)};
	SPIPlanPtr	plan = keep_plan(&purge_plan, "SELECT freight.webhook_purge($1 * interval '1 minute', $2)",
								 2, argtypes);
	bool		isnull;

	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "freight.webhook_purge() failed");
	return (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}
