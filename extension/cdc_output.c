/*
 * cdc_output.c — freight's logical-decoding output plugin (slot plugin name "freight").
 *
 * Emits one text line per committed change of a tracked table (cdc_config.h), tab-separated and
 * cheap to split:
 *
 *     commit_lsn  seq  commit_time  source  type  subject  data
 *
 * commit_lsn and seq (1, 2, ... within the transaction) identify the change across re-decoding;
 * commit_time is ISO 8601 in UTC; type is <prefix>.created / .updated / .deleted / .truncated,
 * or <prefix>.status_changed / <prefix>.<status> when the configured status column changed (this
 * needs the old row: REPLICA IDENTITY FULL); subject is the configured column's value (control
 * characters replaced by spaces); data is a JSON object of the row's columns, the new row for
 * inserts and updates, the old row (or its key) for deletes.  bytea columns (ciphertext) and
 * columns listed in exclude_columns never appear; unchanged TOASTed values are left out because
 * the WAL does not carry them.  Begin and commit produce no lines; transactions that touch no
 * tracked table produce nothing.
 *
 * Option "exclude-origin" (a replication origin id) skips changes written under that origin: the
 * CDC worker passes its own, so writing events never feeds back into the stream.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/output_plugin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cdc_config.h"

typedef struct CdcOutputState
{
	MemoryContext context;		/* reset after each change */
	RepOriginId exclude_origin;
	/* the transaction being output */
	char		commit_lsn[32];
	char		commit_time[MAXDATELEN + 1];
	int32		seq;
} CdcOutputState;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void
cdc_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	CdcOutputState *state = palloc0(sizeof(CdcOutputState));
	ListCell   *lc;

	state->context = AllocSetContextCreate(ctx->context, "freight cdc change",
										   ALLOCSET_DEFAULT_SIZES);
	state->exclude_origin = InvalidRepOriginId;
	foreach(lc, ctx->output_plugin_options)
	{
		DefElem    *elem = lfirst(lc);

		if (strcmp(elem->defname, "exclude-origin") == 0)
		{
			int32		origin = elem->arg ? pg_strtoint32(strVal(elem->arg)) : -1;

			if (origin < 0 || origin > PG_UINT16_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"exclude-origin\""),
						 errdetail("The value must be a replication origin id (0 to 65535).")));
			state->exclude_origin = (RepOriginId) origin;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" is not known to the freight output plugin",
							elem->defname),
					 errhint("The only option is \"exclude-origin\".")));
	}
	ctx->output_plugin_private = state;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
}

static void
cdc_shutdown(LogicalDecodingContext *ctx)
{
	CdcOutputState *state = ctx->output_plugin_private;

	MemoryContextDelete(state->context);
}

static bool
cdc_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	CdcOutputState *state = ctx->output_plugin_private;

	return state->exclude_origin != InvalidRepOriginId && origin_id == state->exclude_origin;
}

static void
cdc_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	CdcOutputState *state = ctx->output_plugin_private;
	int			utc = 0;

	state->seq = 0;
	snprintf(state->commit_lsn, sizeof(state->commit_lsn), "%X/%X",
			 LSN_FORMAT_ARGS(txn->final_lsn));
	JsonEncodeDateTime(state->commit_time, TimestampTzGetDatum(txn->xact_time.commit_time),
					   TIMESTAMPTZOID, &utc);
}

static void
cdc_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
	/* Changes carry the commit position and time; the commit itself needs no line. */
}

static void
append_value_json(StringInfo out, CdcColumn *col, Datum value)
{
	char	   *text;
	char		buf[MAXDATELEN + 1];
	int			utc = 0;

	/* Integers are printed directly: no output function call, no palloc. */
	if (col->kind == CDC_JSON_NUMBER && col->typid == INT8OID)
	{
		appendBinaryStringInfo(out, buf, pg_lltoa(DatumGetInt64(value), buf));
		return;
	}
	if (col->kind == CDC_JSON_NUMBER && (col->typid == INT4OID || col->typid == INT2OID))
	{
		appendBinaryStringInfo(out, buf, pg_ltoa(col->typid == INT4OID ? DatumGetInt32(value)
												 : DatumGetInt16(value), buf));
		return;
	}
	switch (col->kind)
	{
		case CDC_JSON_BOOL:
			appendStringInfoString(out, DatumGetBool(value) ? "true" : "false");
			return;
		case CDC_JSON_DATETIME:
			JsonEncodeDateTime(buf, value, col->typid,
							   col->typid == TIMESTAMPTZOID ? &utc : NULL);
			appendStringInfoChar(out, '"');
			appendStringInfoString(out, buf);
			appendStringInfoChar(out, '"');
			return;
		default:
			break;
	}
	text = OutputFunctionCall(&col->output, value);
	if (col->kind == CDC_JSON_RAW)
		appendStringInfoString(out, text);
	else if (col->kind == CDC_JSON_NUMBER && (isdigit((unsigned char) text[0]) ||
											 (text[0] == '-' && isdigit((unsigned char) text[1]))))
		appendStringInfoString(out, text);
	else
		escape_json(out, text);		/* strings, and NaN / Infinity, which JSON lacks */
}

/* A decoded row, deformed once: values and nulls by attribute number - 1. */
typedef struct CdcRow
{
	Datum	   *values;
	bool	   *nulls;
} CdcRow;

static CdcRow *
deform_row(TupleDesc desc, HeapTuple tuple)
{
	CdcRow	   *row;

	if (tuple == NULL)
		return NULL;
	row = palloc(sizeof(CdcRow));
	row->values = palloc(sizeof(Datum) * desc->natts);
	row->nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, row->values, row->nulls);
	return row;
}

/* Whether attribute att (0-based) of row has a value that is in the WAL. */
static bool
has_value(TupleDesc desc, CdcRow *row, int att)
{
	return !row->nulls[att] &&
		!(TupleDescAttr(desc, att)->attlen == -1 &&
		  VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(row->values[att])));	/* unchanged TOAST */
}

static void
append_row_json(StringInfo out, CdcRelInfo *info, TupleDesc desc, CdcRow *row)
{
	bool		first = true;

	appendStringInfoChar(out, '{');
	for (int att = 0; row != NULL && att < desc->natts && att < info->natts; att++)
	{
		CdcColumn  *col = &info->columns[att];

		if (TupleDescAttr(desc, att)->attisdropped || col->kind == CDC_JSON_SKIP)
			continue;
		if (!row->nulls[att] && !has_value(desc, row, att))
			continue;			/* unchanged TOASTed value: not in the WAL */
		if (!first)
			appendStringInfoChar(out, ',');
		first = false;
		appendStringInfoString(out, col->json_key);
		if (row->nulls[att])
			appendStringInfoString(out, "null");
		else
			append_value_json(out, col, row->values[att]);
	}
	appendStringInfoChar(out, '}');
}

/* The text of attribute attnum of row, or NULL. */
static char *
row_text(CdcRelInfo *info, TupleDesc desc, CdcRow *row, AttrNumber attnum)
{
	if (row == NULL || attnum <= 0 || attnum > info->natts || attnum > desc->natts ||
		!has_value(desc, row, attnum - 1))
		return NULL;
	return OutputFunctionCall(&info->columns[attnum - 1].output, row->values[attnum - 1]);
}

/* Event type suffix of an update: a status change when the status column's value changed. */
static const char *
update_suffix(CdcRelInfo *info, TupleDesc desc, CdcRow *oldrow, CdcRow *newrow)
{
	char	   *before;
	char	   *after;

	if (info->status_attnum == 0 || oldrow == NULL)
		return "updated";
	before = row_text(info, desc, oldrow, info->status_attnum);
	after = row_text(info, desc, newrow, info->status_attnum);
	if (after == NULL || (before != NULL && strcmp(before, after) == 0))
		return "updated";
	for (int i = 0; i < info->n_status_events; i++)
	{
		if (strcmp(info->status_events[i], after) == 0)
			return info->status_events[i];
	}
	return "status_changed";
}

static void
append_sanitized(StringInfo out, const char *s)
{
	for (; s && *s; s++)
		appendStringInfoChar(out, ((unsigned char) *s < 0x20 || *s == 0x7f) ? ' ' : *s);
}

/* Writes one event line; subject_row and data_row may be NULL. */
static void
cdc_write_line(LogicalDecodingContext *ctx, CdcRelInfo *info, TupleDesc desc,
			   const char *suffix, CdcRow *subject_row, CdcRow *data_row)
{
	CdcOutputState *state = ctx->output_plugin_private;
	StringInfo	out;
	char		seq[16];

	OutputPluginPrepareWrite(ctx, true);
	out = ctx->out;
	snprintf(seq, sizeof(seq), "\t%d\t", ++state->seq);
	appendStringInfoString(out, state->commit_lsn);
	appendStringInfoString(out, seq);
	appendStringInfoString(out, state->commit_time);
	appendStringInfoChar(out, '\t');
	appendStringInfoString(out, info->source);
	appendStringInfoChar(out, '\t');
	appendStringInfoString(out, info->prefix);
	appendStringInfoChar(out, '.');
	appendStringInfoString(out, suffix);
	appendStringInfoChar(out, '\t');
	append_sanitized(out, row_text(info, desc, subject_row, info->subject_attnum));
	appendStringInfoChar(out, '\t');
	append_row_json(out, info, desc, data_row);
	OutputPluginWrite(ctx, true);
}

static void
cdc_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation relation,
		   ReorderBufferChange *change)
{
	CdcOutputState *state = ctx->output_plugin_private;
	CdcRelInfo *info = cdc_config_lookup(relation);
	TupleDesc	desc = RelationGetDescr(relation);
	CdcRow	   *oldrow;
	CdcRow	   *newrow;
	MemoryContext old;

	if (info == NULL)
		return;
	old = MemoryContextSwitchTo(state->context);
	oldrow = change->data.tp.oldtuple ? deform_row(desc, &change->data.tp.oldtuple->tuple) : NULL;
	newrow = change->data.tp.newtuple ? deform_row(desc, &change->data.tp.newtuple->tuple) : NULL;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			cdc_write_line(ctx, info, desc, "created", newrow, newrow);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			cdc_write_line(ctx, info, desc, update_suffix(info, desc, oldrow, newrow),
						   newrow, newrow);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			cdc_write_line(ctx, info, desc, "deleted", oldrow, oldrow);
			break;
		default:
			break;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->context);
}

static void
cdc_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
			 Relation relations[], ReorderBufferChange *change)
{
	CdcOutputState *state = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(state->context);

	for (int i = 0; i < nrelations; i++)
	{
		CdcRelInfo *info = cdc_config_lookup(relations[i]);

		if (info != NULL)
			cdc_write_line(ctx, info, RelationGetDescr(relations[i]), "truncated", NULL, NULL);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->context);
}

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = cdc_startup;
	cb->begin_cb = cdc_begin;
	cb->change_cb = cdc_change;
	cb->truncate_cb = cdc_truncate;
	cb->commit_cb = cdc_commit;
	cb->filter_by_origin_cb = cdc_filter_by_origin;
	cb->shutdown_cb = cdc_shutdown;
}
