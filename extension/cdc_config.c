/*
 * cdc_config.c — the per-relation configuration cache of change-data capture.
 *
 * cdc_config_lookup() answers "is this relation tracked, and how are its rows turned into
 * events?" from freight.cdc_tables.  Inside logical decoding the catalog snapshot is the historic
 * one, so the answer is the configuration as of the decoded change.  Answers (including "not
 * tracked") are cached per relation and dropped on relcache invalidation: ALTER TABLE on a tracked
 * table invalidates that table, and the trigger cdc_tables_changed() on freight.cdc_tables
 * invalidates the configuration table itself, which drops every entry.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cdc_config.h"

/* Column numbers of freight.cdc_tables (extension/sql/50_events.sql). */
#define Anum_cdc_tables_rel				1
#define Anum_cdc_tables_source			2
#define Anum_cdc_tables_event_prefix	3
#define Anum_cdc_tables_subject_column	4
#define Anum_cdc_tables_status_column	5
#define Anum_cdc_tables_status_events	6
#define Anum_cdc_tables_exclude_columns 7

typedef struct CdcCacheEntry
{
	Oid			relid;			/* hash key */
	bool		valid;
	MemoryContext cxt;			/* holds everything info points to */
	CdcRelInfo	info;
} CdcCacheEntry;

/* One row of freight.cdc_tables, as read. */
typedef struct CdcTableRow
{
	char	   *source;
	char	   *prefix;
	char	   *subject_column;
	char	   *status_column;
	List	   *status_events;	/* of char * */
	List	   *exclude_columns;	/* of char * */
} CdcTableRow;

static HTAB *cdc_cache = NULL;
static Oid	cdc_config_relid = InvalidOid;	/* freight.cdc_tables, once seen */

PG_FUNCTION_INFO_V1(cdc_tables_changed);

static void
cdc_config_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	CdcCacheEntry *entry;

	if (cdc_cache == NULL)
		return;
	if (OidIsValid(relid) && relid != cdc_config_relid)
	{
		entry = hash_search(cdc_cache, &relid, HASH_FIND, NULL);
		if (entry)
			entry->valid = false;
		return;
	}
	/* Everything, or the configuration table itself, changed: every answer may be stale. */
	hash_seq_init(&status, cdc_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
		entry->valid = false;
}

static List *
text_array_to_list(Datum array, Oid elemtype)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), elemtype,
					  elemtype == NAMEOID ? NAMEDATALEN : -1, false,
					  elemtype == NAMEOID ? TYPALIGN_CHAR : TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		result = lappend(result, elemtype == NAMEOID
						 ? pstrdup(NameStr(*DatumGetName(elems[i])))
						 : TextDatumGetCString(elems[i]));
	}
	return result;
}

static char *
nullable_text(HeapTuple tup, TupleDesc desc, int attnum, bool is_name)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	if (isnull)
		return NULL;
	return is_name ? pstrdup(NameStr(*DatumGetName(d))) : TextDatumGetCString(d);
}

/* Reads relid's row of freight.cdc_tables into *row; false when there is none. */
static bool
cdc_config_read(Oid relid, CdcTableRow *row)
{
	Oid			nsp = get_namespace_oid("freight", true);
	Oid			cfgid;
	Relation	cfg;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(nsp))
		return false;
	cfgid = get_relname_relid("cdc_tables", nsp);
	if (!OidIsValid(cfgid))
		return false;
	cdc_config_relid = cfgid;

	cfg = table_open(cfgid, AccessShareLock);
	scan = systable_beginscan(cfg, InvalidOid, false, NULL, 0, NULL);
	while (!found && (tup = systable_getnext(scan)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(cfg);
		bool		isnull;
		Datum		d;

		d = heap_getattr(tup, Anum_cdc_tables_rel, desc, &isnull);
		if (isnull || DatumGetObjectId(d) != relid)
			continue;
		found = true;
		row->source = nullable_text(tup, desc, Anum_cdc_tables_source, false);
		row->prefix = nullable_text(tup, desc, Anum_cdc_tables_event_prefix, false);
		row->subject_column = nullable_text(tup, desc, Anum_cdc_tables_subject_column, true);
		row->status_column = nullable_text(tup, desc, Anum_cdc_tables_status_column, true);
		d = heap_getattr(tup, Anum_cdc_tables_status_events, desc, &isnull);
		row->status_events = isnull ? NIL : text_array_to_list(d, TEXTOID);
		d = heap_getattr(tup, Anum_cdc_tables_exclude_columns, desc, &isnull);
		row->exclude_columns = isnull ? NIL : text_array_to_list(d, NAMEOID);
	}
	systable_endscan(scan);
	table_close(cfg, AccessShareLock);
	return found && row->source != NULL && row->prefix != NULL;
}

static bool
list_has_string(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	}
	return false;
}

static CdcJsonKind
cdc_json_kind(Oid basetype)
{
	switch (basetype)
	{
		case BYTEAOID:
			return CDC_JSON_SKIP;
		case BOOLOID:
			return CDC_JSON_BOOL;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return CDC_JSON_NUMBER;
		case JSONOID:
		case JSONBOID:
			return CDC_JSON_RAW;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return CDC_JSON_DATETIME;
		default:
			return CDC_JSON_STRING;
	}
}

/* Fills entry->info for rel from its configuration row (allocating in the entry's context). */
static void
cdc_config_build(CdcCacheEntry *entry, Relation rel, CdcTableRow *row)
{
	CdcRelInfo *info = &entry->info;
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;
	int			i = 0;

	info->tracked = true;
	info->source = pstrdup(row->source);
	info->prefix = pstrdup(row->prefix);
	info->n_status_events = list_length(row->status_events);
	info->status_events = palloc(sizeof(char *) * Max(1, info->n_status_events));
	foreach(lc, row->status_events)
		info->status_events[i++] = pstrdup((char *) lfirst(lc));

	info->natts = desc->natts;
	info->columns = palloc0(sizeof(CdcColumn) * Max(1, desc->natts));
	for (int att = 0; att < desc->natts; att++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, att);
		CdcColumn  *col = &info->columns[att];
		const char *name = NameStr(attr->attname);
		Oid			outfn;
		bool		isvarlena;
		StringInfoData key;

		if (attr->attisdropped)
			continue;
		if (row->subject_column && strcmp(name, row->subject_column) == 0)
			info->subject_attnum = attr->attnum;
		if (row->status_column && strcmp(name, row->status_column) == 0)
			info->status_attnum = attr->attnum;

		col->typid = getBaseType(attr->atttypid);
		col->kind = list_has_string(row->exclude_columns, name)
			? CDC_JSON_SKIP : cdc_json_kind(col->typid);
		/* A column never emitted in data is not shown as the subject either. */
		if (col->kind == CDC_JSON_SKIP && info->subject_attnum == attr->attnum)
			info->subject_attnum = 0;
		getTypeOutputInfo(attr->atttypid, &outfn, &isvarlena);
		fmgr_info_cxt(outfn, &col->output, entry->cxt);
		initStringInfo(&key);
		escape_json(&key, name);
		appendStringInfoChar(&key, ':');
		col->json_key = key.data;
	}
}

CdcRelInfo *
cdc_config_lookup(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	CdcCacheEntry *entry;
	bool		found;

	if (cdc_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CdcCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		cdc_cache = hash_create("freight cdc configuration", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(cdc_config_invalidate, (Datum) 0);
	}

	entry = hash_search(cdc_cache, &relid, HASH_ENTER, &found);
	if (!found)
		entry->cxt = NULL;
	if (!found || !entry->valid)
	{
		CdcTableRow row = {0};
		MemoryContext old;

		if (entry->cxt)
			MemoryContextDelete(entry->cxt);
		entry->cxt = AllocSetContextCreate(CacheMemoryContext, "freight cdc relation",
										   ALLOCSET_SMALL_SIZES);
		memset(&entry->info, 0, sizeof(entry->info));
		entry->info.relid = relid;
		entry->valid = true;
		old = MemoryContextSwitchTo(entry->cxt);
		if (cdc_config_read(relid, &row))
			cdc_config_build(entry, rel, &row);
		MemoryContextSwitchTo(old);
	}
	return entry->info.tracked ? &entry->info : NULL;
}

/*
 * Trigger on freight.cdc_tables: a configuration change invalidates the configuration table's
 * relcache entry.  The invalidation is WAL-logged with the commit, so logical decoding drops its
 * cached answers exactly at that point of the change stream (and the transaction counts as a
 * catalog change, so the historic snapshot sees the new configuration from then on).
 */
Datum
cdc_tables_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdc_tables_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
