/*
 * schema_cache.h — what the daemon knows about the exposed schemas: relations, columns, primary
 * keys, relationships (foreign keys, also through views) and functions.
 *
 * Loaded with one catalog query at start and on NOTIFY pgrst (see listener in main.c); readers
 * hold a reference while they build a statement, so a reload never frees a cache in use.
 * The structures are plain C so the SQL builder and its tests need no database.
 */
#ifndef API_SCHEMA_CACHE_H
#define API_SCHEMA_CACHE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ScColumn
{
	char	   *name;
	char	   *type;			/* format_type() */
	bool		nullable;
	bool		has_default;
	char	   *description;
} ScColumn;

typedef struct ScRelation
{
	char	   *schema;
	char	   *name;
	char		kind;			/* pg_class.relkind */
	bool		insertable;
	bool		updatable;
	bool		deletable;
	ScColumn   *cols;
	int			ncols;
	char	  **pk;
	int			npk;
	char	   *description;
} ScRelation;

/* A foreign key from one exposed relation to another (many-to-one from "from" to "to"). */
typedef struct ScForeignKey
{
	char	   *constraint_name;
	ScRelation *from;
	ScRelation *to;
	int			ncols;
	char	  **from_cols;
	char	  **to_cols;
	bool		from_unique;	/* the FK columns are unique: one-to-one */
} ScForeignKey;

typedef struct ScArg
{
	char	   *name;			/* "" when unnamed */
	char	   *type;
	bool		has_default;
} ScArg;

typedef struct ScFunction
{
	char	   *schema;
	char	   *name;
	ScArg	   *args;
	int			nargs;
	char	   *ret_type;
	bool		retset;
	bool		ret_composite;	/* row type or RETURNS TABLE */
	bool		ret_void;
	ScRelation *ret_rel;		/* when the row type is an exposed relation */
	char		volatility;		/* 'i', 's', 'v' */
	char	   *description;
} ScFunction;

typedef struct SchemaCache
{
	int			refcount;		/* protected by the holder's lock */
	char	  **schemas;
	int			nschemas;
	ScRelation *rels;
	int			nrels;
	ScForeignKey *fks;
	int			nfks;
	ScFunction *funcs;
	int			nfuncs;
	bool		has_security_log;	/* security-log-function exists */
	bool		has_api_keys;	/* api-key-function exists */
	bool		has_rate_limit;	/* rate-limit-function exists */
	char	   *schema_description;
	char	  **timezones;		/* pg_timezone_names, sorted case-insensitively */
	int			ntimezones;
} SchemaCache;

ScRelation *sc_find_relation(const SchemaCache *sc, const char *schema, const char *name);
ScColumn   *sc_find_column(const ScRelation *rel, const char *name);
ScFunction *sc_find_function(const SchemaCache *sc, const char *schema, const char *name,
							 const char *const *keys, int nkeys, int *nmatches);
bool		sc_in_schemas(const SchemaCache *sc, const char *schema);
/* name is a time zone of pg_timezone_names (case-insensitive, as PostgreSQL reads it) */
bool		sc_has_timezone(const SchemaCache *sc, const char *name);

/* Builds a cache from the JSON document the catalog query returns; NULL + message on error. */
SchemaCache *sc_from_json(const char *json, char *err, size_t errlen);
void		sc_free(SchemaCache *sc);

/*
 * The catalog query: $1 = text[] of exposed schemas, $2..$4 = names (schema.function) of the
 * security-log, API-key and rate-limit functions; returns one json column.
 */
extern const char *const sc_catalog_query;

#endif
