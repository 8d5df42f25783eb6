/*
 * cdc_batch.c — buffering decoded changes and writing them to freight.events set-based.
 *
 * Each line of the output plugin is split at its tabs into typed datums as it arrives (commit
 * LSN and time are parsed once per transaction); cdc_batch_write() passes them as seven arrays to
 * one INSERT ... SELECT FROM unnest(...) ON CONFLICT (lsn, seq) DO NOTHING, so a batch costs one
 * statement whatever its size, rows keep the order they were decoded in (commit order), and
 * changes decoded a second time after a crash are skipped.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "cdc_batch.h"

#define CDC_FIELDS 7			/* lsn, seq, time, source, type, subject, data */

struct CdcBatch
{
	MemoryContext cxt;			/* everything below; reset after each write */
	int			count;
	int			capacity;
	Datum	   *lsn;
	Datum	   *seq;
	Datum	   *time;
	Datum	   *source;
	Datum	   *type;
	Datum	   *subject;
	bool	   *subject_null;
	Datum	   *data;
	/* the transaction whose lines are arriving */
	char		last_lsn_text[32];
	Datum		last_lsn;
	char		last_time_text[64];
	Datum		last_time;
};

static const char *const insert_sql =
"WITH written AS ("
"  INSERT INTO freight.events (source, type, subject, time, data, lsn, seq)"
"  SELECT c.source, c.type, c.subject, c.time, c.data::jsonb, c.lsn, c.seq"
"  FROM unnest($1::pg_lsn[], $2::int4[], $3::timestamptz[], $4::text[], $5::text[],"
"              $6::text[], $7::text[]) AS c(lsn, seq, time, source, type, subject, data)"
"  ON CONFLICT (lsn, seq) DO NOTHING"
"  RETURNING id)"
" SELECT count(*), max(id) FROM written";

CdcBatch *
cdc_batch_create(MemoryContext parent)
{
	CdcBatch   *batch = MemoryContextAllocZero(parent, sizeof(CdcBatch));

	batch->cxt = AllocSetContextCreate(parent, "freight cdc batch", ALLOCSET_DEFAULT_SIZES);
	return batch;
}

static void
cdc_batch_grow(CdcBatch *batch)
{
	MemoryContext old = MemoryContextSwitchTo(batch->cxt);
	int			n = batch->capacity == 0 ? 1024 : batch->capacity * 2;

	if (batch->capacity == 0)
	{
		batch->lsn = palloc(sizeof(Datum) * n);
		batch->seq = palloc(sizeof(Datum) * n);
		batch->time = palloc(sizeof(Datum) * n);
		batch->source = palloc(sizeof(Datum) * n);
		batch->type = palloc(sizeof(Datum) * n);
		batch->subject = palloc(sizeof(Datum) * n);
		batch->subject_null = palloc(sizeof(bool) * n);
		batch->data = palloc(sizeof(Datum) * n);
	}
	else
	{
		batch->lsn = repalloc_huge(batch->lsn, sizeof(Datum) * n);
		batch->seq = repalloc_huge(batch->seq, sizeof(Datum) * n);
		batch->time = repalloc_huge(batch->time, sizeof(Datum) * n);
		batch->source = repalloc_huge(batch->source, sizeof(Datum) * n);
		batch->type = repalloc_huge(batch->type, sizeof(Datum) * n);
		batch->subject = repalloc_huge(batch->subject, sizeof(Datum) * n);
		batch->subject_null = repalloc_huge(batch->subject_null, sizeof(bool) * n);
		batch->data = repalloc_huge(batch->data, sizeof(Datum) * n);
	}
	batch->capacity = n;
	MemoryContextSwitchTo(old);
}

void
cdc_batch_add(CdcBatch *batch, const char *line, int len)
{
	const char *field[CDC_FIELDS];
	int			flen[CDC_FIELDS];
	const char *p = line;
	const char *end = line + len;
	int			i = batch->count;
	MemoryContext old;

	for (int f = 0; f < CDC_FIELDS; f++)
	{
		const char *tab = f < CDC_FIELDS - 1 ? memchr(p, '\t', end - p) : NULL;

		if (f < CDC_FIELDS - 1 && tab == NULL)
			elog(ERROR, "malformed line from the freight output plugin: \"%.*s\"",
				 Min(len, 200), line);
		field[f] = p;
		flen[f] = (tab ? tab : end) - p;
		p = tab ? tab + 1 : end;
	}

	if (batch->count == batch->capacity)
		cdc_batch_grow(batch);
	old = MemoryContextSwitchTo(batch->cxt);

	if (flen[0] >= (int) sizeof(batch->last_lsn_text) || flen[2] >= (int) sizeof(batch->last_time_text))
		elog(ERROR, "malformed line from the freight output plugin: \"%.*s\"", Min(len, 200), line);
	if (strncmp(batch->last_lsn_text, field[0], flen[0]) != 0 || batch->last_lsn_text[flen[0]] != '\0')
	{
		bool		bad = false;

		memcpy(batch->last_lsn_text, field[0], flen[0]);
		batch->last_lsn_text[flen[0]] = '\0';
		batch->last_lsn = LSNGetDatum(pg_lsn_in_internal(batch->last_lsn_text, &bad));
		if (bad)
			elog(ERROR, "malformed commit LSN from the freight output plugin: \"%s\"",
				 batch->last_lsn_text);
	}
	if (strncmp(batch->last_time_text, field[2], flen[2]) != 0 || batch->last_time_text[flen[2]] != '\0')
	{
		memcpy(batch->last_time_text, field[2], flen[2]);
		batch->last_time_text[flen[2]] = '\0';
		batch->last_time = DirectFunctionCall3(timestamptz_in,
											   CStringGetDatum(batch->last_time_text),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	batch->lsn[i] = batch->last_lsn;
	batch->seq[i] = Int32GetDatum(pg_strtoint32(pnstrdup(field[1], flen[1])));
	batch->time[i] = batch->last_time;
	batch->source[i] = PointerGetDatum(cstring_to_text_with_len(field[3], flen[3]));
	batch->type[i] = PointerGetDatum(cstring_to_text_with_len(field[4], flen[4]));
	batch->subject_null[i] = flen[5] == 0;
	batch->subject[i] = flen[5] == 0 ? (Datum) 0
		: PointerGetDatum(cstring_to_text_with_len(field[5], flen[5]));
	batch->data[i] = PointerGetDatum(cstring_to_text_with_len(field[6], flen[6]));
	batch->count++;
	MemoryContextSwitchTo(old);
}

int
cdc_batch_count(CdcBatch *batch)
{
	return batch->count;
}

TimestampTz
cdc_batch_last_commit_time(CdcBatch *batch)
{
	return batch->count > 0 ? DatumGetTimestampTz(batch->time[batch->count - 1]) : 0;
}

static Datum
make_array(CdcBatch *batch, Datum *values, bool *nulls, Oid type, int typlen, bool byval,
		   char align)
{
	int			dims[1] = {batch->count};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, typlen,
											  byval, align));
}

uint64
cdc_batch_write(CdcBatch *batch)
{
	Oid			types[CDC_FIELDS] = {PG_LSNARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[CDC_FIELDS];
	MemoryContext old;
	uint64		written = 0;
	bool		isnull;
	int			rc;

	if (batch->count == 0)
		return 0;
	old = MemoryContextSwitchTo(batch->cxt);
	args[0] = make_array(batch, batch->lsn, NULL, PG_LSNOID, sizeof(XLogRecPtr), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[1] = make_array(batch, batch->seq, NULL, INT4OID, 4, true, TYPALIGN_INT);
	args[2] = make_array(batch, batch->time, NULL, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[3] = make_array(batch, batch->source, NULL, TEXTOID, -1, false, TYPALIGN_INT);
	args[4] = make_array(batch, batch->type, NULL, TEXTOID, -1, false, TYPALIGN_INT);
	args[5] = make_array(batch, batch->subject, batch->subject_null, TEXTOID, -1, false, TYPALIGN_INT);
	args[6] = make_array(batch, batch->data, NULL, TEXTOID, -1, false, TYPALIGN_INT);
	MemoryContextSwitchTo(old);

	/* Writers of freight.events commit in id order (see freight.events_write_lock()). */
	rc = SPI_execute("SELECT freight.events_write_lock()", false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "freight cdc: could not take the events write lock (SPI code %d)", rc);
	rc = SPI_execute_with_args(insert_sql, CDC_FIELDS, types, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "freight cdc: writing events failed (SPI code %d)", rc);
	written = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (written > 0)
	{
		Datum		max_id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		char		payload[32];

		snprintf(payload, sizeof(payload), INT64_FORMAT, DatumGetInt64(max_id));
		Async_Notify("freight_events", payload);
	}
	return written;
}

void
cdc_batch_reset(CdcBatch *batch)
{
	MemoryContextReset(batch->cxt);
	batch->count = 0;
	batch->capacity = 0;
	batch->last_lsn_text[0] = '\0';
	batch->last_time_text[0] = '\0';
}
