/*
 * openapi.c — GET /api/: an OpenAPI 3.0 document with a path per relation (GET with the
 * PostgREST parameters and one filter parameter per column; POST/PATCH/PUT/DELETE when the
 * relation allows them) and per function (/rpc/name), and a schema per relation, showing only
 * what the requesting role may use (openapi_access_query).  Built with jansson: this is the one
 * response the database does not build.
 */
#include "openapi.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *const openapi_access_query =
"SELECT json_build_object("
" 'rels', (SELECT coalesce(json_object_agg(c.relname,"
"     CASE WHEN pg_catalog.has_any_column_privilege(c.oid, 'SELECT') THEN 'r' ELSE '' END ||"
"     CASE WHEN pg_catalog.has_any_column_privilege(c.oid, 'INSERT') THEN 'a' ELSE '' END ||"
"     CASE WHEN pg_catalog.has_any_column_privilege(c.oid, 'UPDATE') THEN 'w' ELSE '' END ||"
"     CASE WHEN pg_catalog.has_table_privilege(c.oid, 'DELETE') THEN 'd' ELSE '' END), '{}')"
"   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"   WHERE n.nspname = $1 AND c.relkind IN ('r','v','m','f','p')"
"     AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')),"
" 'funcs', (SELECT coalesce(json_object_agg(f.proname, true), '{}') FROM ("
"   SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p"
"   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
"   WHERE n.nspname = $1 AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')"
"     AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) f),"
" 'cols', (SELECT coalesce(json_object_agg(c.relname, (SELECT json_agg(a.attname)"
"     FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0"
"       AND NOT a.attisdropped AND pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT'))), '{}')"
"   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"   WHERE n.nspname = $1 AND c.relkind IN ('r','v','m','f','p')"
"     AND pg_catalog.has_any_column_privilege(c.oid, 'SELECT')"
"     AND NOT pg_catalog.has_table_privilege(c.oid, 'SELECT')))::text";

/* The column may be selected by the role (access "cols" lists them for column-level grants). */
static bool
col_visible(json_t *access, const char *rel, const char *col)
{
	json_t	   *cols = json_object_get(json_object_get(access, "cols"), rel);
	size_t		i;
	json_t	   *c;

	if (cols == NULL)
		return true;
	json_array_foreach(cols, i, c)
	{
		if (strcmp(json_string_value(c), col) == 0)
			return true;
	}
	return false;
}

static json_t *
type_schema(const char *pgtype)
{
	if (strcmp(pgtype, "integer") == 0 || strcmp(pgtype, "smallint") == 0)
		return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
	if (strcmp(pgtype, "bigint") == 0)
		return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
	if (strncmp(pgtype, "numeric", 7) == 0 || strcmp(pgtype, "real") == 0 ||
		strcmp(pgtype, "double precision") == 0)
		return json_pack("{s:s, s:s}", "type", "number", "format", pgtype);
	if (strcmp(pgtype, "boolean") == 0)
		return json_pack("{s:s}", "type", "boolean");
	if (strcmp(pgtype, "json") == 0 || strcmp(pgtype, "jsonb") == 0)
		return json_pack("{s:s}", "description", pgtype);
	if (strlen(pgtype) > 2 && strcmp(pgtype + strlen(pgtype) - 2, "[]") == 0)
		return json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
	if (strncmp(pgtype, "timestamp", 9) == 0)
		return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
	if (strcmp(pgtype, "date") == 0)
		return json_pack("{s:s, s:s}", "type", "string", "format", "date");
	if (strcmp(pgtype, "uuid") == 0)
		return json_pack("{s:s, s:s}", "type", "string", "format", "uuid");
	return json_pack("{s:s, s:s}", "type", "string", "format", pgtype);
}

static json_t *
relation_schema(const ScRelation *r, json_t *access)
{
	json_t	   *props = json_object();
	json_t	   *required = json_array();
	json_t	   *s;

	for (int i = 0; i < r->ncols; i++)
	{
		json_t	   *t;

		if (!col_visible(access, r->name, r->cols[i].name))
			continue;
		t = type_schema(r->cols[i].type);

		if (r->cols[i].description)
			json_object_set_new(t, "description", json_string(r->cols[i].description));
		for (int k = 0; k < r->npk; k++)
			if (strcmp(r->pk[k], r->cols[i].name) == 0)
				json_object_set_new(t, "x-primary-key", json_true());
		json_object_set_new(props, r->cols[i].name, t);
		if (!r->cols[i].nullable && !r->cols[i].has_default)
			json_array_append_new(required, json_string(r->cols[i].name));
	}
	s = json_pack("{s:s, s:o}", "type", "object", "properties", props);
	if (json_array_size(required))
		json_object_set_new(s, "required", required);
	else
		json_decref(required);
	if (r->description)
		json_object_set_new(s, "description", json_string(r->description));
	return s;
}

static json_t *
ref(const char *kind, const char *name)
{
	return json_pack("{s:o}", "$ref", json_sprintf("#/components/%s/%s", kind, name));
}

static json_t *
rows_response(const char *rel)
{
	return json_pack("{s:{s:s, s:{s:{s:{s:s, s:o}}}}}", "200", "description", "OK",
					 "content", "application/json", "schema", "type", "array", "items",
					 ref("schemas", rel));
}

/* The privilege letters of relation name ("rawd" when access is NULL, "" when none). */
static const char *
rel_access(json_t *access, const char *name)
{
	const char *letters;

	if (access == NULL)
		return "rawd";
	letters = json_string_value(json_object_get(json_object_get(access, "rels"), name));
	return letters ? letters : "";
}

/* A write with a row body: JSON, CSV (rows) or a form (one row). */
static json_t *
body_op(const char *tag, const char *rel, const char *status, const char *description)
{
	return json_pack("{s:[s], s:{s:{s:{s:o}, s:{s:{s:s}}, s:{s:o}}}, s:{s:{s:s}}}", "tags", tag,
					 "requestBody", "content", "application/json", "schema", ref("schemas", rel),
					 "text/csv", "schema", "type", "string",
					 "application/x-www-form-urlencoded", "schema", ref("schemas", rel),
					 "responses", status, "description", description);
}

/* GET always; POST, PATCH, PUT (needs a primary key) and DELETE as the relation and role allow. */
static json_t *
relation_path(const ScRelation *r, const char *letters, json_t *access)
{
	json_t	   *path = json_object();
	json_t	   *params = json_array();
	static const char *const common[] = {"select", "order", "limit", "offset", "range", "prefer"};
	const char *tag = r->name;

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		json_array_append_new(params, ref("parameters", common[i]));
	for (int i = 0; i < r->ncols; i++)
		if (col_visible(access, r->name, r->cols[i].name))
			json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", r->cols[i].name,
												"in", "query", "required", 0, "description",
												"PostgREST filter, e.g. eq.value", "schema", "type", "string"));
	json_object_set_new(path, "get", json_pack("{s:[s], s:s, s:o, s:o}", "tags", tag, "summary",
											   r->description ? r->description : r->name,
											   "parameters", params, "responses", rows_response(r->name)));
	if (r->insertable && strchr(letters, 'a'))
		json_object_set_new(path, "post", body_op(tag, r->name, "201", "Created"));
	if (r->updatable && strchr(letters, 'w'))
		json_object_set_new(path, "patch", body_op(tag, r->name, "204", "No Content"));
	if (r->insertable && r->updatable && r->npk > 0 && strchr(letters, 'a') && strchr(letters, 'w'))
		json_object_set_new(path, "put", body_op(tag, r->name, "204", "No Content"));
	if (r->deletable && strchr(letters, 'd'))
		json_object_set_new(path, "delete", json_pack("{s:[s], s:{s:{s:s}}}", "tags", tag,
													  "responses", "204", "description", "No Content"));
	return path;
}

static json_t *
function_path(const ScFunction *f)
{
	json_t	   *props = json_object();
	json_t	   *path = json_object();
	json_t	   *op;

	for (int i = 0; i < f->nargs; i++)
		if (f->args[i].name[0])
			json_object_set_new(props, f->args[i].name, type_schema(f->args[i].type));
	op = json_pack("{s:[s], s:s, s:{s:{s:{s:{s:s, s:o}}}}, s:{s:{s:s}}}", "tags", "rpc", "summary",
				   f->description ? f->description : f->name, "requestBody", "content",
				   "application/json", "schema", "type", "object", "properties", props,
				   "responses", "200", "description", "OK");
	json_object_set_new(path, "post", op);
	if (f->volatility != 'v')
		json_object_set_new(path, "get", json_pack("{s:[s], s:s, s:{s:{s:s}}}", "tags", "rpc", "summary",
												   f->description ? f->description : f->name,
												   "responses", "200", "description", "OK"));
	return path;
}

void
openapi_render(const SchemaCache *sc, const char *schema, json_t *access, const char *server_url,
			   Buf *out)
{
	json_t	   *paths = json_object();
	json_t	   *schemas = json_object();
	json_t	   *doc;
	char	   *text;
	json_t	   *params = json_pack("{s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:{s:s}},"
								   " s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:{s:s}},"
								   " s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s, s:s, s:s, s:{s:s}}}",
								   "select", "name", "select", "in", "query", "description",
								   "Columns and embedded resources, e.g. *,driver:drivers(*)", "schema", "type", "string",
								   "order", "name", "order", "in", "query", "description",
								   "Ordering, e.g. created_at.desc.nullslast", "schema", "type", "string",
								   "limit", "name", "limit", "in", "query", "description", "Maximum rows",
								   "schema", "type", "integer",
								   "offset", "name", "offset", "in", "query", "description", "Rows to skip",
								   "schema", "type", "integer",
								   "range", "name", "Range", "in", "header", "description", "Item range, e.g. 0-24",
								   "schema", "type", "string",
								   "prefer", "name", "Prefer", "in", "header", "description",
								   "return=representation|minimal, count=exact|planned|estimated, resolution=merge-duplicates,"
								   " missing=default, handling=strict, max-affected=N, timezone=<zone>, params=single-object",
								   "schema", "type", "string");

	for (int i = 0; i < sc->nrels; i++)
		if (strcmp(sc->rels[i].schema, schema) == 0 && strchr(rel_access(access, sc->rels[i].name), 'r'))
		{
			Buf			p;

			buf_init(&p);
			buf_printf(&p, "/%s", sc->rels[i].name);
			json_object_set_new(paths, p.data, relation_path(&sc->rels[i], rel_access(access, sc->rels[i].name), access));
			json_object_set_new(schemas, sc->rels[i].name, relation_schema(&sc->rels[i], access));
			buf_free(&p);
		}
	for (int i = 0; i < sc->nfuncs; i++)
		if (strcmp(sc->funcs[i].schema, schema) == 0 &&
			(access == NULL || json_object_get(json_object_get(access, "funcs"), sc->funcs[i].name)))
		{
			Buf			p;

			buf_init(&p);
			buf_printf(&p, "/rpc/%s", sc->funcs[i].name);
			json_object_set_new(paths, p.data, function_path(&sc->funcs[i]));
			buf_free(&p);
		}
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:{s:o, s:o, s:{s:{s:s, s:s, s:s}}}, s:[{s:[]}]}",
					"openapi", "3.0.3", "info", "title", "freight API", "description",
					sc->schema_description ? sc->schema_description : "PostgREST-style API",
					"version", "0.1", "servers", "url",
					server_url, "paths", paths,
					"components", "schemas", schemas, "parameters", params, "securitySchemes",
					"bearer", "type", "http", "scheme", "bearer", "bearerFormat", "JWT",
					"security", "bearer");
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	buf_puts(out, text ? text : "{}");
	free(text);
	json_decref(doc);
}
