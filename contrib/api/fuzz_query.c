/*
 * fuzz_query.c — libFuzzer target over the URL/query-string parser, the SQL builder and the
 * CSV/form body decoders: any byte string is split into a path and a query, decoded, parsed,
 * and built into SQL (every action, PUT and missing=default row groups included) against a
 * small fixed schema with a many-to-many junction (aggregates enabled for odd-sized inputs, so
 * select=col.sum(), count() and their GROUP BY are built too); the whole input is also decoded as a CSV
 * and as a form body, loaded as a jwt-secret (JWK / JWK Set parsing) and verified as a token
 * against a JWK Set of two oct keys (header, kid and claims handling).  Built by `make -C contrib/api fuzz` (clang); run briefly
 * by test/unit/api_fuzz.sh in `make check`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body_decode.h"
#include "jwt.h"
#include "query_parse.h"
#include "schema_cache.h"
#include "sql_build.h"

static const char *schema_json =
"{\"relations\":["
" {\"schema\":\"api\",\"name\":\"s\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"status\",\"type\":\"text\"},"
"  {\"name\":\"d_id\",\"type\":\"integer\"},{\"name\":\"meta\",\"type\":\"jsonb\"}]},"
" {\"schema\":\"api\",\"name\":\"d\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"name\",\"type\":\"text\"}]},"
" {\"schema\":\"api\",\"name\":\"j\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"s_id\",\"d_id\"],\"columns\":["
"  {\"name\":\"s_id\",\"type\":\"integer\"},{\"name\":\"d_id\",\"type\":\"integer\"}]}],"
"\"fks\":[{\"name\":\"fk\",\"from_schema\":\"api\",\"from\":\"s\",\"to_schema\":\"api\",\"to\":\"d\","
"  \"from_cols\":[\"d_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"j_s\",\"from_schema\":\"api\",\"from\":\"j\",\"to_schema\":\"api\",\"to\":\"s\","
"  \"from_cols\":[\"s_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"j_d\",\"from_schema\":\"api\",\"from\":\"j\",\"to_schema\":\"api\",\"to\":\"d\","
"  \"from_cols\":[\"d_id\"],\"to_cols\":[\"id\"],\"unique\":false}],\"functions\":[]}";

static SchemaCache *sc;
static JwtKey *jwks;

static const char *jwks_json =
"{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"},"
" {\"kty\":\"oct\",\"k\":\"YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtb3ItbW9yZSE\"}]}";

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
		jwks = jwt_key_load(jwks_json, false, msg, sizeof(msg));
	}
	memcpy(s, data, size);
	s[size] = '\0';
	q = strchr(s, '?');
	arena_init(&a);
	qp_percent_decode(&a, s, q ? (size_t) (q - s) : strlen(s), false);
	if (qp_decode_pairs(&a, q ? q + 1 : s, &pairs, &npairs, &err) &&
		qp_parse(&a, pairs, npairs, NULL, &query, &err))
	{
		static const SqlAction actions[] = {SQL_READ, SQL_INSERT, SQL_UPDATE, SQL_DELETE, SQL_PUT};

		for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		{
			SqlRequest	r;
			SqlStatement st;
			const char *cols[] = {"status"};
			SqlRowGroup groups[] = {{cols, 1, "[]"}, {cols, 0, "[]"}};
			SqlAction	action = actions[k];

			memset(&r, 0, sizeof(r));
			r.action = action;
			r.sc = sc;
			r.rel = &sc->rels[size % 3];
			r.q = &query;
			r.shape = (SqlShape) (size % 4);
			r.limit = -1;
			r.body = "[]";
			r.body_cols = cols;
			r.nbody_cols = 1;
			r.upsert = size % 3 == 0;
			r.plan_count = action == SQL_READ && size % 5 == 0;
			r.has_known_total = size % 7 == 0;
			r.aggregates_enabled = size % 2 == 1;
			if (action == SQL_INSERT && size % 2 == 0)
			{
				r.groups = groups;
				r.ngroups = 1 + (int) (size % 3 == 1);
			}
			if (action == SQL_UPDATE && size % 2 == 0)
			{
				r.default_cols = cols;
				r.ndefault_cols = 1;
			}
			if (sql_build(&a, &r, &st, &aerr) || st.sql.data)
				buf_free(&st.sql);
		}
	}
	qp_parse_select(&a, s, &err);
	{
		char		msg[300];

		json_decref(body_from_csv((const char *) data, size, msg, sizeof(msg)));
		json_decref(body_from_form((const char *) data, size, msg, sizeof(msg)));
		if (s[0] != '@')		/* "@path" reads a file: not the parser under test */
			jwt_key_free(jwt_key_load(s, false, msg, sizeof(msg)));
	}
	{
		JwtResult	jr;
		char		msg[256];

		if (jwt_verify(jwks, s, "aud", "app.role", 1700000000, &jr, msg, sizeof(msg)))
			jwt_result_free(&jr);
	}
	arena_free(&a);
	free(s);
	return 0;
}
