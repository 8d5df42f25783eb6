/*
 * schema_cache.c — the catalog query and the in-memory schema cache built from its JSON
 * (see schema_cache.h).
 *
 * Relationships through views follow PostgREST: each view column is traced to its base table
 * column through the view's rewrite rule (the resorigtbl/resorigcol of its target list), and a
 * foreign key between two base tables becomes a relationship between every pair of exposed
 * relations that expose all of its columns.
 */
#include "schema_cache.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

const char *const sc_catalog_query =
"WITH rels AS ("
"  SELECT c.oid, n.nspname::text AS nspname, c.relname::text AS relname, c.relkind,"
"         pg_catalog.obj_description(c.oid, 'pg_class') AS descr,"
"         pg_catalog.pg_relation_is_updatable(c.oid::regclass, true) AS upd"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"  WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r','v','m','f','p')),"
" viewmap AS ("
"  SELECT DISTINCT r.oid AS rel_oid, m[1] AS colname, m[2]::oid AS base_oid, m[3]::int2 AS base_att"
"  FROM rels r"
"  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = r.oid AND rw.rulename = '_RETURN'"
"  CROSS JOIN LATERAL pg_catalog.regexp_matches(rw.ev_action::text,"
"    ':resname (\\S+) :ressortgroupref \\d+ :resorigtbl (\\d+) :resorigcol (\\d+)', 'g') m"
"  WHERE r.relkind IN ('v','m') AND m[2] <> '0'),"
" colsrc AS ("
"  SELECT r.oid AS rel_oid, a.attname::text AS colname, r.oid AS base_oid, a.attnum AS base_att"
"  FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0"
"   AND NOT a.attisdropped WHERE r.relkind IN ('r','p','f')"
"  UNION"
"  SELECT v.rel_oid, v.colname, v.base_oid, v.base_att FROM viewmap v"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid = v.rel_oid AND a.attname = v.colname"
"   AND NOT a.attisdropped),"
" fks AS ("
"  SELECT con.conname::text AS conname, ca.rel_oid AS from_oid, cb.rel_oid AS to_oid,"
"         array_agg(ca.colname ORDER BY k.ord) AS from_cols,"
"         array_agg(cb.colname ORDER BY k.ord) AS to_cols,"
"         EXISTS (SELECT 1 FROM pg_catalog.pg_constraint u WHERE u.conrelid = con.conrelid"
"                 AND u.contype IN ('p','u') AND u.conkey <@ con.conkey"
"                 AND con.conkey <@ u.conkey) AS from_unique"
"  FROM pg_catalog.pg_constraint con"
"  CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(a, b, ord)"
"  JOIN colsrc ca ON ca.base_oid = con.conrelid AND ca.base_att = k.a"
"  JOIN colsrc cb ON cb.base_oid = con.confrelid AND cb.base_att = k.b"
"  WHERE con.contype = 'f'"
"  GROUP BY con.oid, con.conname, con.conrelid, con.conkey, ca.rel_oid, cb.rel_oid"
"  HAVING count(*) = cardinality(con.conkey)),"
" pks AS ("
"  SELECT DISTINCT ON (rel_oid) rel_oid, pk FROM ("
"   SELECT cs.rel_oid, array_agg(cs.colname ORDER BY array_position(i.indkey::int2[], cs.base_att)) AS pk"
"   FROM pg_catalog.pg_index i"
"   JOIN colsrc cs ON cs.base_oid = i.indrelid AND cs.base_att = ANY (i.indkey::int2[])"
"   WHERE i.indisprimary GROUP BY cs.rel_oid, i.indexrelid, i.indnatts"
"   HAVING count(*) = i.indnatts) x ORDER BY rel_oid),"
" cols AS ("
"  SELECT a.attrelid, json_agg(json_build_object('name', a.attname,"
"     'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'nullable', NOT a.attnotnull,"
"     'default', a.atthasdef, 'description', pg_catalog.col_description(a.attrelid, a.attnum))"
"     ORDER BY a.attnum) AS cols"
"  FROM pg_catalog.pg_attribute a JOIN rels r ON r.oid = a.attrelid"
"  WHERE a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid),"
" funcs AS ("
"  SELECT n.nspname AS schema, p.proname AS name, p.provolatile AS volatility,"
"         p.proretset AS retset, pg_catalog.format_type(p.prorettype, NULL) AS ret_type,"
"         (t.typtype = 'c' OR p.prorettype = 'record'::regtype) AS ret_composite,"
"         p.prorettype = 'void'::regtype AS ret_void,"
"         rn.nspname AS ret_schema, rc.relname AS ret_name, p.pronargdefaults AS ndefaults,"
"         pg_catalog.obj_description(p.oid, 'pg_proc') AS description,"
"         (SELECT coalesce(json_agg(json_build_object('name', coalesce(a.nm, ''),"
"                   'type', pg_catalog.format_type(a.ty, NULL)) ORDER BY a.ord), '[]')"
"          FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),"
"                      coalesce(p.proargmodes, array_fill('i'::\"char\", ARRAY[p.pronargs::int])),"
"                      coalesce(p.proargnames, array_fill(''::text,"
"                        ARRAY[cardinality(coalesce(p.proallargtypes, p.proargtypes::oid[]))])))"
"               WITH ORDINALITY AS a(ty, mode, nm, ord)"
"          WHERE a.mode IN ('i','b','v')) AS args"
"  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
"  JOIN pg_catalog.pg_type t ON t.oid = p.prorettype"
"  LEFT JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid"
"  LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace"
"  WHERE n.nspname = ANY($1::text[]) AND p.prokind = 'f')"
" SELECT json_build_object("
"  'relations', (SELECT coalesce(json_agg(json_build_object('schema', r.nspname, 'name', r.relname,"
"      'kind', r.relkind, 'upd', r.upd, 'description', r.descr, 'columns', coalesce(c.cols, '[]'),"
"      'pk', coalesce(to_json(pk.pk), '[]'))), '[]')"
"    FROM rels r LEFT JOIN cols c ON c.attrelid = r.oid LEFT JOIN pks pk ON pk.rel_oid = r.oid),"
"  'fks', (SELECT coalesce(json_agg(json_build_object('name', f.conname, 'from_schema', fr.nspname,"
"      'from', fr.relname, 'to_schema', tr.nspname, 'to', tr.relname, 'from_cols', f.from_cols,"
"      'to_cols', f.to_cols, 'unique', f.from_unique)), '[]')"
"    FROM fks f JOIN rels fr ON fr.oid = f.from_oid JOIN rels tr ON tr.oid = f.to_oid),"
"  'functions', (SELECT coalesce(json_agg(f), '[]') FROM funcs f),"
"  'schema_description', (SELECT pg_catalog.obj_description(n.oid, 'pg_namespace')"
"      FROM pg_catalog.pg_namespace n WHERE n.nspname = ($1::text[])[1]),"
"  'timezones', (SELECT json_agg(name) FROM pg_catalog.pg_timezone_names),"
"  'security_log', EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n"
"      ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = $2),"
"  'api_keys', EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n"
"      ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = $3),"
"  'rate_limit', EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n"
"      ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = $4))::text";

static char *
jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return xstrdup(s ? s : "");
}

static char *
jstr_or_null(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

static int
compare_names_nocase(const void *a, const void *b)
{
	return strcasecmp(*(char *const *) a, *(char *const *) b);
}

static char **
jstr_array(json_t *arr, int *n)
{
	char	  **out;

	*n = (int) json_array_size(arr);
	out = xmalloc(sizeof(char *) * (size_t) (*n + 1));
	for (int i = 0; i < *n; i++)
	{
		const char *s = json_string_value(json_array_get(arr, (size_t) i));

		out[i] = xstrdup(s ? s : "");
	}
	return out;
}

static void
load_relation(ScRelation *r, json_t *j)
{
	json_t	   *cols = json_object_get(j, "columns");
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_int_t	upd = json_integer_value(json_object_get(j, "upd"));

	r->schema = jstr(j, "schema");
	r->name = jstr(j, "name");
	r->kind = kind ? kind[0] : 'r';
	r->updatable = (upd & 4) != 0;
	r->insertable = (upd & 8) != 0;
	r->deletable = (upd & 16) != 0;
	r->description = jstr_or_null(j, "description");
	r->ncols = (int) json_array_size(cols);
	r->cols = xmalloc(sizeof(ScColumn) * (size_t) (r->ncols + 1));
	for (int i = 0; i < r->ncols; i++)
	{
		json_t	   *c = json_array_get(cols, (size_t) i);

		r->cols[i].name = jstr(c, "name");
		r->cols[i].type = jstr(c, "type");
		r->cols[i].nullable = json_is_true(json_object_get(c, "nullable"));
		r->cols[i].has_default = json_is_true(json_object_get(c, "default"));
		r->cols[i].description = jstr_or_null(c, "description");
	}
	r->pk = jstr_array(json_object_get(j, "pk"), &r->npk);
}

static void
load_function(SchemaCache *sc, ScFunction *f, json_t *j)
{
	json_t	   *args = json_object_get(j, "args");
	const char *vol = json_string_value(json_object_get(j, "volatility"));
	int			ndefaults = (int) json_integer_value(json_object_get(j, "ndefaults"));
	const char *ret_schema = json_string_value(json_object_get(j, "ret_schema"));
	const char *ret_name = json_string_value(json_object_get(j, "ret_name"));

	f->schema = jstr(j, "schema");
	f->name = jstr(j, "name");
	f->ret_type = jstr(j, "ret_type");
	f->retset = json_is_true(json_object_get(j, "retset"));
	f->ret_composite = json_is_true(json_object_get(j, "ret_composite"));
	f->ret_void = json_is_true(json_object_get(j, "ret_void"));
	f->volatility = vol ? vol[0] : 'v';
	f->description = jstr_or_null(j, "description");
	f->ret_rel = (ret_schema && ret_name) ? sc_find_relation(sc, ret_schema, ret_name) : NULL;
	f->nargs = (int) json_array_size(args);
	f->args = xmalloc(sizeof(ScArg) * (size_t) (f->nargs + 1));
	for (int i = 0; i < f->nargs; i++)
	{
		json_t	   *a = json_array_get(args, (size_t) i);

		f->args[i].name = jstr(a, "name");
		f->args[i].type = jstr(a, "type");
		f->args[i].has_default = i >= f->nargs - ndefaults;
	}
}

SchemaCache *
sc_from_json(const char *text, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	   *root = json_loads(text, 0, &jerr);
	json_t	   *rels, *fks, *funcs;
	SchemaCache *sc;

	if (root == NULL)
	{
		snprintf(err, errlen, "schema cache: bad catalog JSON: %s", jerr.text);
		return NULL;
	}
	sc = xmalloc(sizeof(SchemaCache));
	memset(sc, 0, sizeof(*sc));
	rels = json_object_get(root, "relations");
	fks = json_object_get(root, "fks");
	funcs = json_object_get(root, "functions");

	sc->nrels = (int) json_array_size(rels);
	sc->rels = xmalloc(sizeof(ScRelation) * (size_t) (sc->nrels + 1));
	memset(sc->rels, 0, sizeof(ScRelation) * (size_t) (sc->nrels + 1));
	for (int i = 0; i < sc->nrels; i++)
		load_relation(&sc->rels[i], json_array_get(rels, (size_t) i));

	sc->fks = xmalloc(sizeof(ScForeignKey) * (json_array_size(fks) + 1));
	for (size_t i = 0; i < json_array_size(fks); i++)
	{
		json_t	   *j = json_array_get(fks, i);
		ScForeignKey *fk = &sc->fks[sc->nfks];
		int			n2;

		fk->from = sc_find_relation(sc, json_string_value(json_object_get(j, "from_schema")),
									json_string_value(json_object_get(j, "from")));
		fk->to = sc_find_relation(sc, json_string_value(json_object_get(j, "to_schema")),
								  json_string_value(json_object_get(j, "to")));
		if (fk->from == NULL || fk->to == NULL)
			continue;
		fk->constraint_name = jstr(j, "name");
		fk->from_cols = jstr_array(json_object_get(j, "from_cols"), &fk->ncols);
		fk->to_cols = jstr_array(json_object_get(j, "to_cols"), &n2);
		fk->from_unique = json_is_true(json_object_get(j, "unique"));
		sc->nfks++;
	}

	sc->nfuncs = (int) json_array_size(funcs);
	sc->funcs = xmalloc(sizeof(ScFunction) * (size_t) (sc->nfuncs + 1));
	for (int i = 0; i < sc->nfuncs; i++)
		load_function(sc, &sc->funcs[i], json_array_get(funcs, (size_t) i));

	sc->schema_description = jstr_or_null(root, "schema_description");
	sc->has_security_log = json_is_true(json_object_get(root, "security_log"));
	sc->has_api_keys = json_is_true(json_object_get(root, "api_keys"));
	sc->has_rate_limit = json_is_true(json_object_get(root, "rate_limit"));
	sc->timezones = jstr_array(json_object_get(root, "timezones"), &sc->ntimezones);
	qsort(sc->timezones, (size_t) sc->ntimezones, sizeof(char *), compare_names_nocase);
	json_decref(root);
	return sc;
}

static void
free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
sc_free(SchemaCache *sc)
{
	if (sc == NULL)
		return;
	for (int i = 0; i < sc->nrels; i++)
	{
		ScRelation *r = &sc->rels[i];

		for (int c = 0; c < r->ncols; c++)
		{
			free(r->cols[c].name);
			free(r->cols[c].type);
			free(r->cols[c].description);
		}
		free(r->cols);
		free_strv(r->pk, r->npk);
		free(r->schema);
		free(r->name);
		free(r->description);
	}
	free(sc->rels);
	for (int i = 0; i < sc->nfks; i++)
	{
		free(sc->fks[i].constraint_name);
		free_strv(sc->fks[i].from_cols, sc->fks[i].ncols);
		free_strv(sc->fks[i].to_cols, sc->fks[i].ncols);
	}
	free(sc->fks);
	for (int i = 0; i < sc->nfuncs; i++)
	{
		ScFunction *f = &sc->funcs[i];

		for (int a = 0; a < f->nargs; a++)
		{
			free(f->args[a].name);
			free(f->args[a].type);
		}
		free(f->args);
		free(f->schema);
		free(f->name);
		free(f->ret_type);
		free(f->description);
	}
	free(sc->funcs);
	free_strv(sc->schemas, sc->nschemas);
	free(sc->schema_description);
	free_strv(sc->timezones, sc->ntimezones);
	free(sc);
}

ScRelation *
sc_find_relation(const SchemaCache *sc, const char *schema, const char *name)
{
	if (schema == NULL || name == NULL)
		return NULL;
	for (int i = 0; i < sc->nrels; i++)
		if (strcmp(sc->rels[i].name, name) == 0 && strcmp(sc->rels[i].schema, schema) == 0)
			return &sc->rels[i];
	return NULL;
}

ScColumn *
sc_find_column(const ScRelation *rel, const char *name)
{
	for (int i = 0; i < rel->ncols; i++)
		if (strcmp(rel->cols[i].name, name) == 0)
			return &rel->cols[i];
	return NULL;
}

bool
sc_in_schemas(const SchemaCache *sc, const char *schema)
{
	for (int i = 0; i < sc->nschemas; i++)
		if (strcmp(sc->schemas[i], schema) == 0)
			return true;
	return false;
}

bool
sc_has_timezone(const SchemaCache *sc, const char *name)
{
	return bsearch(&name, sc->timezones, (size_t) sc->ntimezones, sizeof(char *),
				   compare_names_nocase) != NULL;
}

static bool
function_accepts(const ScFunction *f, const char *const *keys, int nkeys)
{
	/* every key is an argument name; every argument without a default is given */
	for (int k = 0; k < nkeys; k++)
	{
		bool		found = false;

		for (int a = 0; a < f->nargs && !found; a++)
			found = strcmp(f->args[a].name, keys[k]) == 0;
		if (!found)
			return false;
	}
	for (int a = 0; a < f->nargs; a++)
	{
		bool		given = false;

		for (int k = 0; k < nkeys && !given; k++)
			given = strcmp(f->args[a].name, keys[k]) == 0;
		if (!given && !f->args[a].has_default)
			return false;
	}
	return true;
}

ScFunction *
sc_find_function(const SchemaCache *sc, const char *schema, const char *name,
				 const char *const *keys, int nkeys, int *nmatches)
{
	ScFunction *found = NULL;

	*nmatches = 0;
	for (int i = 0; i < sc->nfuncs; i++)
	{
		ScFunction *f = &sc->funcs[i];

		if (strcmp(f->name, name) != 0 || strcmp(f->schema, schema) != 0)
			continue;
		if (!function_accepts(f, keys, nkeys))
			continue;
		if (found == NULL)
			found = f;
		(*nmatches)++;
	}
	return found;
}
