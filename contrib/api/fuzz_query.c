/*
 * fuzz_query.c — libFuzzer target over the URL/query-string parser and the SQL builder:
 * any byte string is split into a path and a query, decoded, parsed, and built into SQL
 * against a small fixed schema.  Built by `make -C contrib/api fuzz` (clang); run briefly
 * by test/unit/api_fuzz.sh in `make check`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query_parse.h"
#include "schema_cache.h"
#include "sql_build.h"

static const char *schema_json =
"{\"relations\":["
" {\"schema\":\"api\",\"name\":\"s\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"status\",\"type\":\"text\"},"
"  {\"name\":\"d_id\",\"type\":\"integer\"},{\"name\":\"meta\",\"type\":\"jsonb\"}]},"
" {\"schema\":\"api\",\"name\":\"d\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"name\",\"type\":\"text\"}]}],"
"\"fks\":[{\"name\":\"fk\",\"from_schema\":\"api\",\"from\":\"s\",\"to_schema\":\"api\",\"to\":\"d\","
"  \"from_cols\":[\"d_id\"],\"to_cols\":[\"id\"],\"unique\":false}],\"functions\":[]}";

static SchemaCache *sc;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	const char *q;
	Arena		a;
	QpPair	   *pairs;
	int			npairs;
	QpQuery		query;
	QpError		err;
	ApiError	aerr;

	if (sc == NULL)
	{
		char		msg[128];

		sc = sc_from_json(schema_json, msg, sizeof(msg));
	}
	memcpy(s, data, size);
	s[size] = '\0';
	q = strchr(s, '?');
	arena_init(&a);
	qp_percent_decode(&a, s, q ? (size_t) (q - s) : strlen(s), false);
	if (qp_decode_pairs(&a, q ? q + 1 : s, &pairs, &npairs, &err) &&
		qp_parse(&a, pairs, npairs, NULL, &query, &err))
	{
		for (int action = SQL_READ; action <= SQL_DELETE; action++)
		{
			SqlRequest	r;
			SqlStatement st;
			const char *cols[] = {"status"};

			memset(&r, 0, sizeof(r));
			r.action = (SqlAction) action;
			r.sc = sc;
			r.rel = &sc->rels[size % 2];
			r.q = &query;
			r.shape = (SqlShape) (size % 4);
			r.limit = -1;
			r.body = "[]";
			r.body_cols = cols;
			r.nbody_cols = 1;
			r.upsert = size % 3 == 0;
			if (sql_build(&a, &r, &st, &aerr) || st.sql.data)
				buf_free(&st.sql);
		}
	}
	qp_parse_select(&a, s, &err);
	arena_free(&a);
	free(s);
	return 0;
}
