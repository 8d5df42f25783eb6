/*
 * sql_build.h — turns a parsed request (query_parse.h) plus the schema cache into ONE SQL
 * statement whose every value is a bind parameter and whose JSON PostgreSQL builds.
 *
 * The statement returns one row: (total bigint or NULL, page_count bigint, body text).
 * Pure C (no libpq): unit-tested in test/unit/api_sql_build.sh.
 */
#ifndef API_SQL_BUILD_H
#define API_SQL_BUILD_H

#include "buf.h"
#include "errors.h"
#include "query_parse.h"
#include "schema_cache.h"

typedef enum SqlAction
{
	SQL_READ, SQL_INSERT, SQL_UPDATE, SQL_DELETE, SQL_RPC,
	SQL_PUT						/* single-row upsert: INSERT of the body row where it matches the
								 * primary-key filters, ON CONFLICT (pk) DO UPDATE */
} SqlAction;

/* missing=default: the rows of a bulk insert that have the same columns, inserted together. */
typedef struct SqlRowGroup
{
	const char *const *cols;
	int			ncols;
	const char *rows;			/* JSON array of these rows */
} SqlRowGroup;

typedef enum SqlShape
{
	SHAPE_ARRAY,				/* JSON array */
	SHAPE_OBJECT,				/* first row as a JSON object (caller checks page_count == 1) */
	SHAPE_CSV,
	SHAPE_NONE					/* no body (return=minimal, HEAD) */
} SqlShape;

typedef struct SqlRequest
{
	SqlAction	action;
	const SchemaCache *sc;
	const ScRelation *rel;		/* relation actions */
	const ScFunction *func;		/* SQL_RPC */
	const QpQuery *q;
	SqlShape	shape;
	bool		count_exact;
	bool		has_known_total;	/* the total is known already (count=planned): known_total */
	long long	known_total;
	bool		plan_count;		/* SQL_READ, and SQL_RPC of a function returning rows of a
								 * relation type: EXPLAIN (FORMAT JSON) of the filtered rows
								 * instead */
	long long	offset;			/* from offset= and Range, -1 = none */
	long long	limit;			/* -1 = none */
	/* writes: the columns the JSON body sets (already checked to be keys of the body) */
	const char *const *body_cols;
	int			nbody_cols;
	const char *body;			/* JSON text: array for INSERT and PUT, object for UPDATE, RPC args */
	/* INSERT with missing=default: one INSERT per group instead of body_cols/body */
	const SqlRowGroup *groups;
	int			ngroups;
	/* UPDATE with missing=default: columns= names absent from the body, SET to DEFAULT */
	const char *const *default_cols;
	int			ndefault_cols;
	bool		upsert;
	bool		ignore_duplicates;
	/* RPC: argument names given, and for GET their text values (else from the JSON body) */
	const char *const *arg_names;
	const char *const *arg_values;
	int			nargs;
	bool		rpc_whole_body;	/* single unnamed json/jsonb argument gets the body */
	bool		aggregates_enabled;	/* db-aggregates-enabled: col.sum(), count() in select= */
} SqlRequest;

typedef struct SqlStatement
{
	Buf			sql;
	const char **params;
	int			nparams;
	int			cparams;
} SqlStatement;

/* Builds st (its Buf is initialised here; free with buf_free).  false + err on bad input. */
bool		sql_build(Arena *a, const SqlRequest *req, SqlStatement *st, ApiError *err);

#endif
