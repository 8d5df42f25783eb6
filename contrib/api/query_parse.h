/*
 * query_parse.h — the PostgREST query-string grammar, parsed into a tree.
 *
 * Pure C: no libpq, no libmicrohttpd, no schema knowledge, so it can be unit-tested and fuzzed
 * alone (test/unit/api_query_parse.sh, contrib/api/fuzz_query.c).  The SQL builder checks the
 * names against the schema cache and turns the tree into one parameterised statement.
 * Everything is allocated from the caller's arena.
 */
#ifndef API_QUERY_PARSE_H
#define API_QUERY_PARSE_H

#include <stdbool.h>

#include "buf.h"

typedef enum QpOp
{
	QP_EQ, QP_NEQ, QP_GT, QP_GTE, QP_LT, QP_LTE, QP_LIKE, QP_ILIKE, QP_MATCH, QP_IMATCH,
	QP_IN, QP_IS, QP_ISDISTINCT, QP_FTS, QP_PLFTS, QP_PHFTS, QP_WFTS,
	QP_CS, QP_CD, QP_OV, QP_SL, QP_SR, QP_NXR, QP_NXL, QP_ADJ
} QpOp;

typedef enum QpQuant
{
	QP_QUANT_NONE, QP_QUANT_ANY, QP_QUANT_ALL
} QpQuant;

/* A column, optionally followed by a JSON path: col->a->>b. */
typedef struct QpField
{
	const char *name;
	int			njson;
	const char **json_keys;
	bool	   *json_as_text;	/* true for ->> */
} QpField;

typedef enum QpCondKind
{
	QP_LEAF, QP_AND, QP_OR
} QpCondKind;

typedef struct QpCond QpCond;
struct QpCond
{
	QpCondKind	kind;
	bool		negate;
	/* leaf */
	QpField		field;
	QpOp		op;
	QpQuant		quant;
	const char *value;			/* raw value; for quantified ops the {..} array literal */
	const char **items;			/* in.(...) items */
	int			nitems;
	const char *fts_config;		/* fts(config) */
	/* and / or */
	QpCond	  **children;
	int			nchildren;
};

/* Embed paths are dotted names of embeds ("" = top level): drivers.order=name -> "drivers". */
typedef struct QpFilter
{
	const char *path;
	QpCond	   *cond;
} QpFilter;

typedef enum QpNulls
{
	QP_NULLS_DEFAULT, QP_NULLS_FIRST, QP_NULLS_LAST
} QpNulls;

typedef struct QpOrderTerm
{
	QpField		field;
	bool		desc;
	QpNulls		nulls;
} QpOrderTerm;

typedef struct QpOrder
{
	const char *path;
	QpOrderTerm *terms;
	int			nterms;
} QpOrder;

typedef struct QpPage
{
	const char *path;
	long long	value;
} QpPage;

typedef enum QpSelectKind
{
	QP_SEL_STAR, QP_SEL_FIELD, QP_SEL_EMBED, QP_SEL_SPREAD
} QpSelectKind;

typedef enum QpJoin
{
	QP_JOIN_DEFAULT, QP_JOIN_INNER, QP_JOIN_LEFT
} QpJoin;

/* Aggregate of a select item (PostgREST 12: col.sum(), count()). */
typedef enum QpAgg
{
	QP_AGG_NONE, QP_AGG_AVG, QP_AGG_COUNT, QP_AGG_MAX, QP_AGG_MIN, QP_AGG_SUM
} QpAgg;

typedef struct QpSelect QpSelect;
typedef struct QpSelectItem
{
	QpSelectKind kind;
	const char *alias;			/* NULL when none */
	QpField		field;			/* column, or for embeds the relation name in field.name;
								 * field.name is NULL for count() */
	const char *cast;			/* validated type name, NULL when none (of the aggregate's input) */
	QpAgg		agg;			/* QP_AGG_NONE unless field.agg() */
	const char *agg_cast;		/* cast of the aggregate's result, NULL when none */
	const char *hint;			/* embed !hint (constraint or column name) */
	QpJoin		join;
	QpSelect   *sub;			/* embed's own select list */
} QpSelectItem;

struct QpSelect
{
	QpSelectItem *items;
	int			nitems;
	int			cap;
};

/* A decoded key=value pair of the query string. */
typedef struct QpPair
{
	const char *key;
	const char *value;
} QpPair;

typedef struct QpQuery
{
	QpSelect   *select;			/* NULL = select=* */
	QpFilter   *filters;
	int			nfilters, cfilters;
	QpOrder    *orders;
	int			norders, corders;
	QpPage	   *limits;
	int			nlimits, climits;
	QpPage	   *offsets;
	int			noffsets, coffsets;
	const char **columns;		/* columns= */
	int			ncolumns;
	const char **on_conflict;	/* on_conflict= */
	int			non_conflict;
} QpQuery;

typedef struct QpError
{
	char		message[256];
	char		details[512];
} QpError;

/* Splits and percent-decodes a raw query string ('+' is a space).  false on bad encoding. */
bool		qp_decode_pairs(Arena *a, const char *raw, QpPair **pairs, int *npairs, QpError *err);

/*
 * Parses the pairs into *q.  Pairs whose skip[i] is true (RPC arguments) are left out; skip may
 * be NULL.  Returns false with err filled (PostgREST PGRST100) on a syntax error.
 */
bool		qp_parse(Arena *a, const QpPair *pairs, int npairs, const bool *skip, QpQuery *q,
					 QpError *err);

/* Parses a select= list alone (also used for return=representation). */
QpSelect   *qp_parse_select(Arena *a, const char *s, QpError *err);

/* Percent-decodes s in place semantics into a new arena string; NULL on bad encoding/NUL. */
char	   *qp_percent_decode(Arena *a, const char *s, size_t n, bool plus_is_space);

const char *qp_op_name(QpOp op);

/* "sum", "count", ... (the output key of an unaliased aggregate); NULL for QP_AGG_NONE. */
const char *qp_agg_name(QpAgg agg);

#endif
