/*
 * cdc_batch.c — buffering decoded changes and writing them to freight.events set-based.
 *
 * Each line of the output plugin is split at its tabs into typed datums as it arrives (commit
 * LSN and time are parsed once per transaction; data is already valid JSON and is never parsed
 * again).  cdc_batch_write() stores the rows in the order they were decoded (commit order) the way
 * COPY does (heap_multi_insert(), index entries, constraints, AFTER triggers), or, when
 * freight.events has BEFORE row triggers or extra columns, with one INSERT ... SELECT FROM
 * unnest(arrays).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
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
	/* source and type repeat from row to row: shared, not copied */
	text	   *last_source;
	text	   *last_type;
};

/* The columns of freight.events, in the order of EventColumn. */
typedef enum EventColumn
{
	EV_ID, EV_SOURCE, EV_TYPE, EV_SUBJECT, EV_TIME, EV_DATA, EV_LSN, EV_SEQ, EV_RECORDED_AT,
	EV_NCOLUMNS
} EventColumn;

static const char *const event_column_names[EV_NCOLUMNS] = {
	"id", "source", "type", "subject", "time", "data", "lsn", "seq", "recorded_at"
};

/* Memory the batch keeps between batches (its first block). */
#define BATCH_KEPT_BYTES (16 * 1024 * 1024)

/* Rows per heap_multi_insert() call. */
#define MULTI_INSERT_ROWS 1000

/*
 * The general path, used when freight.events has BEFORE row triggers or columns of its own:
 * one INSERT ... SELECT FROM unnest(arrays).
 */
static const char *const insert_sql =
"INSERT INTO freight.events (id, source, type, subject, time, data, lsn, seq)"
" SELECT $8 + c.n, c.source, c.type, c.subject, c.time, c.data, c.lsn, c.seq"
" FROM unnest($1::pg_lsn[], $2::int4[], $3::timestamptz[], $4::text[], $5::text[],"
"             $6::text[], $7::json[]) WITH ORDINALITY AS c(lsn, seq, time, source, type, subject, data, n)"
" WHERE c.lsn > $9";

CdcBatch *
cdc_batch_create(MemoryContext parent)
{
	CdcBatch   *batch = MemoryContextAllocZero(parent, sizeof(CdcBatch));

	/* A first block that outlives resets holds a typical batch: no fresh memory per batch. */
	batch->cxt = AllocSetContextCreate(parent, "freight cdc batch", BATCH_KEPT_BYTES,
									   ALLOCSET_DEFAULT_INITSIZE, BATCH_KEPT_BYTES);
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

static int32
parse_seq(const char *s, int len)
{
	int32		seq = 0;

	if (len < 1 || len > 9)
		elog(ERROR, "malformed sequence number from the freight output plugin: \"%.*s\"", Min(len, 20), s);
	for (int i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			elog(ERROR, "malformed sequence number from the freight output plugin: \"%.*s\"", len, s);
		seq = seq * 10 + (s[i] - '0');
	}
	return seq;
}

/* The text datum for s, reusing *last when it holds the same string. */
static text *
shared_text(text **last, const char *s, int len)
{
	if (*last == NULL || VARSIZE_ANY_EXHDR(*last) != len || memcmp(VARDATA_ANY(*last), s, len) != 0)
		*last = cstring_to_text_with_len(s, len);
	return *last;
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
	batch->seq[i] = Int32GetDatum(parse_seq(field[1], flen[1]));
	batch->time[i] = batch->last_time;
	batch->source[i] = PointerGetDatum(shared_text(&batch->last_source, field[3], flen[3]));
	batch->type[i] = PointerGetDatum(shared_text(&batch->last_type, field[4], flen[4]));
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

static uint64
insert_with_sql(CdcBatch *batch, int64 last_id, XLogRecPtr last_lsn)
{
	Oid			types[CDC_FIELDS + 2] = {PG_LSNARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, JSONARRAYOID, INT8OID, PG_LSNOID};
	Datum		args[CDC_FIELDS + 2];
	MemoryContext old = MemoryContextSwitchTo(batch->cxt);
	int			rc;

	args[0] = make_array(batch, batch->lsn, NULL, PG_LSNOID, sizeof(XLogRecPtr), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[1] = make_array(batch, batch->seq, NULL, INT4OID, 4, true, TYPALIGN_INT);
	args[2] = make_array(batch, batch->time, NULL, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[3] = make_array(batch, batch->source, NULL, TEXTOID, -1, false, TYPALIGN_INT);
	args[4] = make_array(batch, batch->type, NULL, TEXTOID, -1, false, TYPALIGN_INT);
	args[5] = make_array(batch, batch->subject, batch->subject_null, TEXTOID, -1, false, TYPALIGN_INT);
	args[6] = make_array(batch, batch->data, NULL, JSONOID, -1, false, TYPALIGN_INT);
	args[7] = Int64GetDatum(last_id);
	args[8] = LSNGetDatum(last_lsn);
	MemoryContextSwitchTo(old);

	rc = SPI_execute_with_args(insert_sql, CDC_FIELDS + 2, types, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "freight cdc: writing events failed (SPI code %d)", rc);
	return SPI_processed;
}

/*
 * Maps freight.events' attributes to EventColumn; false when the table has anything the direct
 * path does not handle (BEFORE or INSTEAD OF row triggers, generated or unknown columns).
 */
static bool
direct_insert_possible(Relation rel, AttrNumber *attnum)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			found = 0;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		(rel->trigdesc && (rel->trigdesc->trig_insert_before_row ||
						   rel->trigdesc->trig_insert_instead_row)))
		return false;
	for (int att = 0; att < desc->natts; att++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, att);
		int			col;

		if (attr->attisdropped)
			continue;
		for (col = 0; col < EV_NCOLUMNS; col++)
			if (strcmp(NameStr(attr->attname), event_column_names[col]) == 0)
				break;
		if (col == EV_NCOLUMNS || attr->attgenerated)
			return false;
		attnum[col] = attr->attnum;
		found++;
	}
	return found == EV_NCOLUMNS;
}

static void
flush_slots(ResultRelInfo *rri, EState *estate, BulkInsertState bistate,
			TransitionCaptureState *transition, TupleTableSlot **slots, int n)
{
	Relation	rel = rri->ri_RelationDesc;
	bool		after_row = rri->ri_TrigDesc &&
		(rri->ri_TrigDesc->trig_insert_after_row || rri->ri_TrigDesc->trig_insert_new_table);

	if (rel->rd_att->constr)
		for (int i = 0; i < n; i++)
			ExecConstraints(rri, slots[i], estate);
	table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, bistate);
	for (int i = 0; i < n; i++)
	{
		List	   *recheck = ExecInsertIndexTuples(rri, slots[i], estate, false, false, NULL, NIL);

		if (after_row)
			ExecARInsertTriggers(estate, rri, slots[i], recheck, transition);
		list_free(recheck);
		ResetPerTupleExprContext(estate);
	}
}

/* Fills slot with row i of the batch. */
static void
fill_slot(TupleTableSlot *slot, CdcBatch *batch, int i, AttrNumber *attnum, int64 id,
		  Datum recorded_at)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Datum	   *v = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;

	ExecClearTuple(slot);
	for (int att = 0; att < desc->natts; att++)
		isnull[att] = TupleDescAttr(desc, att)->attisdropped;
	v[attnum[EV_ID] - 1] = Int64GetDatum(id);
	v[attnum[EV_SOURCE] - 1] = batch->source[i];
	v[attnum[EV_TYPE] - 1] = batch->type[i];
	v[attnum[EV_SUBJECT] - 1] = batch->subject[i];
	isnull[attnum[EV_SUBJECT] - 1] = batch->subject_null[i];
	v[attnum[EV_TIME] - 1] = batch->time[i];
	v[attnum[EV_DATA] - 1] = batch->data[i];
	v[attnum[EV_LSN] - 1] = batch->lsn[i];
	v[attnum[EV_SEQ] - 1] = batch->seq[i];
	v[attnum[EV_RECORDED_AT] - 1] = recorded_at;
	ExecStoreVirtualTuple(slot);
}

/*
 * The fast path, what COPY FROM does: ready-made tuples go in with heap_multi_insert(), then
 * their index entries, constraints are checked and AFTER triggers (including statement triggers
 * with transition tables) fire as for one INSERT statement; no parsing or planning per batch.
 */
static uint64
insert_direct(CdcBatch *batch, Relation rel, AttrNumber *attnum, int64 last_id,
			  XLogRecPtr last_lsn)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	BulkInsertState bistate = GetBulkInsertState();
	TransitionCaptureState *transition;
	TupleTableSlot *slots[MULTI_INSERT_ROWS];
	int			maxslots = Min(batch->count, MULTI_INSERT_ROWS);
	Datum		recorded_at = TimestampTzGetDatum(GetCurrentTimestamp());
	int			nslots = 0;
	uint64		written = 0;

	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(rel);
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(estate, list_make1(rte));
	ExecInitResultRelation(estate, rri, 1);
	ExecOpenIndices(rri, false);
	for (int i = 0; i < maxslots; i++)
		slots[i] = table_slot_create(rel, NULL);

	AfterTriggerBeginQuery();
	transition = MakeTransitionCaptureState(rel->trigdesc, RelationGetRelid(rel), CMD_INSERT);
	ExecBSInsertTriggers(estate, rri);
	for (int i = 0; i < batch->count; i++)
	{
		if (DatumGetLSN(batch->lsn[i]) <= last_lsn)
			continue;			/* decoded again after a crash: already recorded */
		fill_slot(slots[nslots++], batch, i, attnum, last_id + i + 1, recorded_at);
		written++;
		if (nslots == maxslots)
		{
			flush_slots(rri, estate, bistate, transition, slots, nslots);
			nslots = 0;
		}
	}
	if (nslots > 0)
		flush_slots(rri, estate, bistate, transition, slots, nslots);
	ExecASInsertTriggers(estate, rri, transition);
	AfterTriggerEndQuery(estate);

	for (int i = maxslots - 1; i >= 0; i--)	/* newest first: the resource owner forgets LIFO */
		ExecDropSingleTupleTableSlot(slots[i]);
	FreeBulkInsertState(bistate);
	ExecCloseResultRelations(estate);	/* closes the indexes too */
	ExecCloseRangeTableRelations(estate);
	FreeExecutorState(estate);
	return written;
}

/* Statements run for every batch, planned once (and re-planned by the plan cache when needed). */
static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr newest_plan = NULL;

static SPIPlanPtr
prepare_kept(const char *sql)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "freight cdc: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return plan;
}

uint64
cdc_batch_write(CdcBatch *batch)
{
	Oid			events_relid = get_relname_relid("events", get_namespace_oid("freight", false));
	AttrNumber	attnum[EV_NCOLUMNS];
	Relation	rel;
	int64		last_id;
	XLogRecPtr	last_lsn;
	uint64		written;
	bool		isnull;
	int			rc;

	if (batch->count == 0)
		return 0;

	/*
	 * Writers of freight.events commit in id order (see freight.events_write_lock()).  A batch
	 * holds whole transactions in commit order, so a change decoded a second time (after a crash
	 * between commit and confirmation) has a commit LSN at or below the newest one recorded and is
	 * skipped; the unique (lsn, seq) constraint backs this up.  Ids continue from the newest one.
	 */
	if (lock_plan == NULL)
	{
		lock_plan = prepare_kept("SELECT freight.events_write_lock()");
		newest_plan = prepare_kept("SELECT coalesce(max(id), 0), coalesce(max(lsn), '0/0') FROM freight.events");
	}
	rc = SPI_execute_plan(lock_plan, NULL, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "freight cdc: could not take the events write lock (SPI code %d)", rc);
	rc = SPI_execute_plan(newest_plan, NULL, NULL, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "freight cdc: could not read the newest event (SPI code %d)", rc);
	last_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	last_lsn = DatumGetLSN(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	rel = table_open(events_relid, RowExclusiveLock);
	if (direct_insert_possible(rel, attnum))
		written = insert_direct(batch, rel, attnum, last_id, last_lsn);
	else
		written = insert_with_sql(batch, last_id, last_lsn);
	table_close(rel, NoLock);

	if (written > 0)
	{
		char		payload[32];

		snprintf(payload, sizeof(payload), INT64_FORMAT, last_id + batch->count);
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
	batch->last_source = NULL;
	batch->last_type = NULL;
}
