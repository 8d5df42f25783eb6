/*
 * cdc_config.h — which tables change-data capture tracks, and how their rows become events.
 *
 * The configuration is the table freight.cdc_tables (a user_catalog_table, so the output plugin
 * reads it with the historic snapshot of the change being decoded: a table starts or stops being
 * tracked exactly at the commit that changed the configuration).  cdc_config.c caches one
 * CdcRelInfo per relation and drops it on relcache invalidation; the trigger on
 * freight.cdc_tables issues that invalidation.
 */
#ifndef CDC_CONFIG_H
#define CDC_CONFIG_H

#include "fmgr.h"
#include "utils/relcache.h"

/* How one column's value is written into the event's JSON data. */
typedef enum CdcJsonKind
{
	CDC_JSON_SKIP,				/* never emitted: bytea (ciphertext) or listed as sensitive */
	CDC_JSON_STRING,			/* the type's text output, JSON-escaped */
	CDC_JSON_NUMBER,			/* integer, float, numeric: bare unless NaN or infinite */
	CDC_JSON_BOOL,
	CDC_JSON_RAW,				/* json and jsonb: their text is already JSON */
	CDC_JSON_DATETIME			/* date, timestamp, timestamptz: ISO 8601 (UTC for timestamptz) */
} CdcJsonKind;

typedef struct CdcColumn
{
	CdcJsonKind kind;
	Oid			typid;
	FmgrInfo	output;			/* the type's output function */
	char	   *json_key;		/* the column name as a JSON string followed by ':' */
} CdcColumn;

typedef struct CdcRelInfo
{
	Oid			relid;			/* hash key */
	bool		tracked;		/* false: a cached "not tracked" answer */
	char	   *source;			/* CloudEvents source, e.g. /freight/shipments */
	char	   *prefix;			/* event type prefix, e.g. shipment */
	AttrNumber	subject_attnum; /* 0: no subject */
	AttrNumber	status_attnum;	/* 0: no status-derived event types */
	int			n_status_events;
	char	  **status_events;	/* statuses that get their own type (shipment.delivered) */
	int			natts;
	CdcColumn  *columns;		/* natts entries, by attribute number - 1 */
} CdcRelInfo;

/* The cached configuration of rel, or NULL when rel is not tracked. */
extern CdcRelInfo *cdc_config_lookup(Relation rel);

#endif							/* CDC_CONFIG_H */
