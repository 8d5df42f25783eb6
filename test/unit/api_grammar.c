/*
 * api_grammar.c — unit tests of freight-api's write grammar in pure C: CSV and form-urlencoded
 * bodies (contrib/api/body_decode.c) and the statements the SQL builder makes for PUT,
 * missing=default row groups, DEFAULT columns of a PATCH, count=planned (EXPLAIN) and
 * many-to-many embeds through a junction table.  Run by api_grammar.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_decode.h"
#include "query_parse.h"
#include "schema_cache.h"
#include "sql_build.h"
#include "unit_check.h"

/* The JSON text of body (compact, keys sorted), or the error text prefixed with "ERR ". */
static char *
decoded(json_t *(*decode) (const char *, size_t, char *, size_t), const char *body, size_t len)
{
	char		err[300];
	json_t	   *j = decode(body, len, err, sizeof(err));
	char	   *out;

	if (j == NULL)
	{
		out = malloc(strlen(err) + 5);
		sprintf(out, "ERR %s", err);
		return out;
	}
	out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return out;
}

static void
expect(json_t *(*decode) (const char *, size_t, char *, size_t), const char *body, const char *want)
{
	char	   *got = decoded(decode, body, strlen(body));

	CHECK(strncmp(want, "ERR ", 4) == 0 ? strstr(got, want + 4) != NULL && strncmp(got, "ERR ", 4) == 0
		  : strcmp(got, want) == 0, "%s -> %s (want %s)", body, got, want);
	free(got);
}

static void
test_csv(void)
{
	expect(body_from_csv, "id,name\n1,a\n2,b", "[{\"id\":\"1\",\"name\":\"a\"},{\"id\":\"2\",\"name\":\"b\"}]");
	expect(body_from_csv, "id,name\r\n1,a\r\n", "[{\"id\":\"1\",\"name\":\"a\"}]");
	expect(body_from_csv, "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n",
		   "[{\"a\":\"x, y\",\"b\":\"say \\\"hi\\\"\",\"c\":\"two\\nlines\"}]");
	expect(body_from_csv, "a,b,c\nNULL,,\"NULL\"", "[{\"a\":null,\"b\":\"\",\"c\":\"NULL\"}]");
	expect(body_from_csv, "a\n\n", "[{\"a\":\"\"}]");
	expect(body_from_csv, "\"col,1\"\nv", "[{\"col,1\":\"v\"}]");
	expect(body_from_csv, "a,b\n1,\"2\"\n3,4", "[{\"a\":\"1\",\"b\":\"2\"},{\"a\":\"3\",\"b\":\"4\"}]");

	expect(body_from_csv, "\xEF\xBB\xBFid\n1", "[{\"id\":\"1\"}]");
	expect(body_from_csv, "", "ERR the CSV body is empty");
	expect(body_from_csv, "\xEF\xBB\xBF", "ERR the CSV body is empty");
	expect(body_from_csv, "a,b", "ERR has a header but no rows");
	expect(body_from_csv, "a,b\n", "ERR has a header but no rows");
	expect(body_from_csv, "a,a\n1,2", "ERR duplicate column name in the header on line 1");
	expect(body_from_csv, "a,,b\n1,2,3", "ERR empty column name");
	expect(body_from_csv, "a,b\n1,2,3", "ERR more fields than the header has columns on line 2");
	expect(body_from_csv, "a,b\n1,2\n3", "ERR fewer fields than the header has columns on line 3");
	expect(body_from_csv, "a,b\n1,\"open\n2,3\n", "ERR unterminated quoted field on line 2");
	expect(body_from_csv, "a\n\"x\"y", "ERR unexpected character after a closing quote on line 2");
	expect(body_from_csv, "a\nx\"y", "ERR a quote inside an unquoted field");
	expect(body_from_csv, "a\n\xff\xfe", "ERR not valid UTF-8");
	{
		char	   *got = decoded(body_from_csv, "a\nx\0y", 5);

		CHECK(strstr(got, "NUL byte") != NULL, "NUL in CSV: %s", got);
		free(got);
	}
}

static void
test_form(void)
{
	expect(body_from_form, "id=1&name=a+b%26c", "{\"id\":\"1\",\"name\":\"a b&c\"}");
	expect(body_from_form, "note=%C3%A9&empty=", "{\"empty\":\"\",\"note\":\"\xc3\xa9\"}");
	expect(body_from_form, "a=1&", "{\"a\":\"1\"}");
	expect(body_from_form, "", "ERR no key=value fields");
	expect(body_from_form, "a=1&b", "ERR the form field \"b\" is not name=value");
	expect(body_from_form, "=1", "ERR is not name=value");
	expect(body_from_form, "a=1&&b=2", "ERR is not name=value");
	expect(body_from_form, "a=1&a=2", "ERR the form field \"a\" is given twice");
	expect(body_from_form, "a=%FF", "ERR not valid UTF-8");
	expect(body_from_form, "a=%00", "ERR percent-encoded NUL");
}

/* films <- roles -> actors (roles' key holds both foreign keys); awards -> films and actors
 * outside its key (not a junction); crew is a second junction between films and actors. */
static const char *schema_json =
"{\"relations\":["
" {\"schema\":\"s\",\"name\":\"films\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"title\",\"type\":\"text\"}]},"
" {\"schema\":\"s\",\"name\":\"actors\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"name\",\"type\":\"text\"}]},"
" {\"schema\":\"s\",\"name\":\"roles\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"film_id\",\"actor_id\"],\"columns\":["
"  {\"name\":\"film_id\",\"type\":\"integer\"},{\"name\":\"actor_id\",\"type\":\"integer\"}]},"
" {\"schema\":\"s\",\"name\":\"awards\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"film_id\",\"type\":\"integer\"},{\"name\":\"actor_id\",\"type\":\"integer\"}]},"
" {\"schema\":\"s\",\"name\":\"directors\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"}]},"
" {\"schema\":\"s\",\"name\":\"crew\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"f\",\"d\"],\"columns\":["
"  {\"name\":\"f\",\"type\":\"integer\"},{\"name\":\"d\",\"type\":\"integer\"}]},"
" {\"schema\":\"s\",\"name\":\"crew2\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"f\",\"d\"],\"columns\":["
"  {\"name\":\"f\",\"type\":\"integer\"},{\"name\":\"d\",\"type\":\"integer\"}]}],"
"\"fks\":["
" {\"name\":\"roles_film\",\"from_schema\":\"s\",\"from\":\"roles\",\"to_schema\":\"s\",\"to\":\"films\","
"  \"from_cols\":[\"film_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"roles_actor\",\"from_schema\":\"s\",\"from\":\"roles\",\"to_schema\":\"s\",\"to\":\"actors\","
"  \"from_cols\":[\"actor_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"awards_film\",\"from_schema\":\"s\",\"from\":\"awards\",\"to_schema\":\"s\",\"to\":\"films\","
"  \"from_cols\":[\"film_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"awards_actor\",\"from_schema\":\"s\",\"from\":\"awards\",\"to_schema\":\"s\",\"to\":\"actors\","
"  \"from_cols\":[\"actor_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"crew_f\",\"from_schema\":\"s\",\"from\":\"crew\",\"to_schema\":\"s\",\"to\":\"films\","
"  \"from_cols\":[\"f\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"crew_d\",\"from_schema\":\"s\",\"from\":\"crew\",\"to_schema\":\"s\",\"to\":\"directors\","
"  \"from_cols\":[\"d\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"crew2_f\",\"from_schema\":\"s\",\"from\":\"crew2\",\"to_schema\":\"s\",\"to\":\"films\","
"  \"from_cols\":[\"f\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"crew2_d\",\"from_schema\":\"s\",\"from\":\"crew2\",\"to_schema\":\"s\",\"to\":\"directors\","
"  \"from_cols\":[\"d\"],\"to_cols\":[\"id\"],\"unique\":false}],"
"\"functions\":[]}";

static SchemaCache *sc;

/* Builds qs against relation rel with the fields of *tmpl (action, body, groups, ...). */
static bool
build(Arena *a, const char *rel, const char *qs, const SqlRequest *tmpl, SqlStatement *st, ApiError *err)
{
	QpQuery    *q = arena_alloc(a, sizeof(QpQuery));
	QpPair	   *pairs;
	int			npairs;
	QpError		qerr;
	SqlRequest	r = *tmpl;

	if (!qp_decode_pairs(a, qs, &pairs, &npairs, &qerr) || !qp_parse(a, pairs, npairs, NULL, q, &qerr))
		return api_error(err, 400, "PGRST100", qerr.message, qerr.details, NULL);
	r.sc = sc;
	r.rel = sc_find_relation(sc, "s", rel);
	r.q = q;
	r.limit = -1;
	memset(st, 0, sizeof(*st));
	return sql_build(a, &r, st, err);
}

static void
test_sql(void)
{
	char		msg[200];
	Arena		a;
	SqlStatement st;
	ApiError	err;
	SqlRequest	r;
	const char *cols[] = {"id", "title"};

	sc = sc_from_json(schema_json, msg, sizeof(msg));
	CHECK(sc != NULL && sc->nfks == 8, "schema: %s", msg);
	arena_init(&a);

	/* PUT: the body row where it matches the key filters, upserted on the primary key */
	memset(&r, 0, sizeof(r));
	r.action = SQL_PUT;
	r.shape = SHAPE_NONE;
	r.body = "[{\"id\":1,\"title\":\"x\"}]";
	r.body_cols = cols;
	r.nbody_cols = 2;
	CHECK(build(&a, "films", "id=eq.1", &r, &st, &err), "PUT: %s", err.message);
	CHECK(strstr(st.sql.data, "FROM json_populate_recordset(NULL::\"s\".\"films\", $1::json) _b WHERE TRUE AND (_b.\"id\" = $2)"
				 " ON CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\", \"title\" = EXCLUDED.\"title\" RETURNING t.*")
		  && st.nparams == 2 && strcmp(st.params[1], "1") == 0, "PUT SQL: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(!build(&a, "films", "id=eq.1&limit=1", &r, &st, &err) && strcmp(err.code, "PGRST114") == 0,
		  "PUT with limit: %s", err.code);
	buf_free(&st.sql);

	/* missing=default: one INSERT per group of rows with the same columns */
	{
		const char *g1[] = {"id"};
		SqlRowGroup groups[] = {{cols, 2, "[{\"id\":1,\"title\":\"a\"}]"}, {g1, 1, "[{\"id\":2}]"}};

		memset(&r, 0, sizeof(r));
		r.action = SQL_INSERT;
		r.shape = SHAPE_ARRAY;
		r.groups = groups;
		r.ngroups = 2;
		CHECK(build(&a, "films", "", &r, &st, &err), "groups: %s", err.message);
		CHECK(strstr(st.sql.data, "WITH _i1 AS (INSERT INTO \"s\".\"films\" AS t (\"id\", \"title\") SELECT _b.\"id\", _b.\"title\"")
			  && strstr(st.sql.data, "_i2 AS (INSERT INTO \"s\".\"films\" AS t (\"id\") SELECT _b.\"id\" FROM")
			  && strstr(st.sql.data, "src AS (SELECT * FROM _i1 UNION ALL SELECT * FROM _i2)")
			  && st.nparams == 2 && strcmp(st.params[1], "[{\"id\":2}]") == 0, "groups SQL: %s", st.sql.data);
		buf_free(&st.sql);
		groups[1].cols = (const char *[]) {"nope"};
		CHECK(!build(&a, "films", "", &r, &st, &err) && strcmp(err.code, "PGRST204") == 0,
			  "unknown column in a group: %s", err.code);
		buf_free(&st.sql);
		groups[1].ncols = 0;
		CHECK(!build(&a, "films", "", &r, &st, &err) && strcmp(err.code, "PGRST102") == 0,
			  "a group without columns: %s", err.code);
		buf_free(&st.sql);
	}

	/* PATCH with missing=default: absent columns= names are SET to DEFAULT */
	{
		const char *absent[] = {"title"};

		memset(&r, 0, sizeof(r));
		r.action = SQL_UPDATE;
		r.shape = SHAPE_NONE;
		r.default_cols = absent;
		r.ndefault_cols = 1;
		CHECK(build(&a, "films", "id=eq.3", &r, &st, &err), "default cols: %s", err.message);
		CHECK(strstr(st.sql.data, "UPDATE \"s\".\"films\" AS t SET \"title\" = DEFAULT WHERE TRUE AND (t.\"id\" = $1)"),
			  "default cols SQL: %s", st.sql.data);
		buf_free(&st.sql);
	}

	/* count=planned: EXPLAIN of the filtered rows, no paging; then the known total */
	memset(&r, 0, sizeof(r));
	r.action = SQL_READ;
	r.shape = SHAPE_NONE;
	r.plan_count = true;
	CHECK(build(&a, "films", "title=eq.x&order=id&limit=3", &r, &st, &err), "plan: %s", err.message);
	CHECK(strncmp(st.sql.data, "EXPLAIN (FORMAT JSON) SELECT t.* FROM \"s\".\"films\" t WHERE TRUE AND (t.\"title\" = $1)", 200) == 0
		  && st.nparams == 1, "plan SQL: %s", st.sql.data);
	buf_free(&st.sql);
	r.plan_count = false;
	r.has_known_total = true;
	r.known_total = 4242;
	CHECK(build(&a, "films", "title=eq.x", &r, &st, &err) && strncmp(st.sql.data, "SELECT $2::bigint, count(*)", 27) == 0
		  && strcmp(st.params[1], "4242") == 0, "known total: %s", st.sql.data);
	buf_free(&st.sql);

	/* many-to-many through roles (its key holds both foreign keys); awards is no junction */
	memset(&r, 0, sizeof(r));
	r.action = SQL_READ;
	r.shape = SHAPE_ARRAY;
	CHECK(build(&a, "films", "select=title,actors(name)&actors.name=eq.x", &r, &st, &err), "m2m: %s %s", err.message, err.details);
	CHECK(strstr(st.sql.data, "FROM \"s\".\"actors\" e1 WHERE EXISTS (SELECT 1 FROM \"s\".\"roles\" e1j WHERE "
				 "e1j.\"actor_id\" = e1.\"id\" AND e1j.\"film_id\" = t.\"id\") AND (e1.\"name\" = $1)"),
		  "m2m SQL: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(build(&a, "actors", "select=films!roles_film(id)", &r, &st, &err), "m2m hint by constraint: %s", err.message);
	buf_free(&st.sql);
	CHECK(!build(&a, "films", "select=actors!awards(id)", &r, &st, &err) && strcmp(err.code, "PGRST200") == 0,
		  "a table whose key lacks the foreign keys is no junction: %s", err.code);
	buf_free(&st.sql);
	CHECK(!build(&a, "films", "select=directors(id)", &r, &st, &err) && strcmp(err.code, "PGRST201") == 0 &&
		  strstr(err.details, "via crew") && strstr(err.details, "via crew2"), "two junctions are ambiguous: %s", err.details);
	buf_free(&st.sql);
	CHECK(build(&a, "films", "select=directors!crew2(id)", &r, &st, &err) && strstr(st.sql.data, "\"crew2\" e1j"),
		  "the hint picks a junction: %s", err.message);
	buf_free(&st.sql);
	CHECK(!build(&a, "films", "select=...actors(name)", &r, &st, &err) && strcmp(err.code, "PGRST119") == 0,
		  "no spread of a many-to-many: %s", err.code);
	buf_free(&st.sql);
	CHECK(build(&a, "films", "select=id,actors!inner()&actors.name=eq.x", &r, &st, &err) &&
		  strstr(st.sql.data, "SELECT t.\"id\" AS \"id\" FROM") && strstr(st.sql.data, "AND EXISTS (SELECT 1 FROM \"s\".\"actors\""),
		  "empty !inner embed: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(build(&a, "films", "select=actors()&actors.name=eq.x", &r, &st, &err) &&
		  strstr(st.sql.data, "(SELECT  FROM") && strstr(st.sql.data, "AND (TRUE OR EXISTS"),
		  "empty embed without !inner: %s", st.sql.data);
	buf_free(&st.sql);

	arena_free(&a);
	sc_free(sc);
}

int
main(void)
{
	test_csv();
	test_form();
	test_sql();
	return unit_summary();
}
