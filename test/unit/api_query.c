/*
 * api_query.c — unit tests of freight-api's pure parts: the PostgREST query parser
 * (contrib/api/query_parse.c), the SQL builder (sql_build.c) over a schema cache made from JSON,
 * the SQLSTATE -> HTTP table (errors.c) and JWT verification (jwt.c).  Run by api_query.sh.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "jwt.h"
#include "query_parse.h"
#include "schema_cache.h"
#include "sql_build.h"

static int	passed, failed;

#define CHECK(cond, ...) do { \
	if (cond) passed++; \
	else { failed++; printf("not ok - %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

static bool
parse(Arena *a, const char *qs, QpQuery *q, QpError *err)
{
	QpPair	   *pairs;
	int			n;

	return qp_decode_pairs(a, qs, &pairs, &n, err) && qp_parse(a, pairs, n, NULL, q, err);
}

static void
test_parser(void)
{
	Arena		a;
	QpQuery		q;
	QpError		err;

	arena_init(&a);
	CHECK(parse(&a, "status=eq.in_transit&weight_kg=gte.100", &q, &err), "simple filters");
	CHECK(q.nfilters == 2 && q.filters[0].cond->op == QP_EQ &&
		  strcmp(q.filters[0].cond->value, "in_transit") == 0 &&
		  strcmp(q.filters[0].cond->field.name, "status") == 0 && q.filters[1].cond->op == QP_GTE,
		  "filter contents");

	CHECK(parse(&a, "id=not.in.(1,%22a,b%22,3)", &q, &err), "in list");
	CHECK(q.filters[0].cond->negate && q.filters[0].cond->op == QP_IN &&
		  q.filters[0].cond->nitems == 3 && strcmp(q.filters[0].cond->items[1], "a,b") == 0,
		  "quoted in item keeps its comma");

	CHECK(parse(&a, "or=(status.eq.exception,and(weight_kg.gt.1000,driver_id.is.null))", &q, &err),
		  "or/and tree");
	CHECK(q.filters[0].cond->kind == QP_OR && q.filters[0].cond->nchildren == 2 &&
		  q.filters[0].cond->children[1]->kind == QP_AND &&
		  q.filters[0].cond->children[1]->children[1]->op == QP_IS,
		  "tree shape");

	CHECK(parse(&a, "drivers.name=eq.Ada&drivers.order=name.desc&drivers.limit=2&not.or=(a.eq.1)", &q, &err),
		  "embed paths");
	CHECK(strcmp(q.filters[0].path, "drivers") == 0 && strcmp(q.orders[0].path, "drivers") == 0 &&
		  q.orders[0].terms[0].desc && q.limits[0].value == 2 && q.filters[1].cond->negate &&
		  strcmp(q.filters[1].path, "") == 0, "embed path contents");

	CHECK(parse(&a, "select=id,trk:tracking_number,w:weight_kg::text,driver:drivers!shipments_driver_id_fkey!inner(name),city:meta->>city,packages()",
				&q, &err), "select list: %s %s", err.message, err.details);
	CHECK(q.select->nitems == 6 && strcmp(q.select->items[1].alias, "trk") == 0 &&
		  strcmp(q.select->items[2].cast, "text") == 0 && q.select->items[3].kind == QP_SEL_EMBED &&
		  strcmp(q.select->items[3].hint, "shipments_driver_id_fkey") == 0 &&
		  q.select->items[3].join == QP_JOIN_INNER && q.select->items[4].field.njson == 1 &&
		  q.select->items[4].field.json_as_text[0] && q.select->items[5].sub->nitems == 0,
		  "select contents");

	CHECK(parse(&a, "order=created_at.desc.nullslast,id&limit=10&offset=20", &q, &err), "order");
	CHECK(q.orders[0].nterms == 2 && q.orders[0].terms[0].nulls == QP_NULLS_LAST &&
		  q.limits[0].value == 10 && q.offsets[0].value == 20, "order contents");

	CHECK(parse(&a, "name=like(any).{B*,H*}&doc=fts(english).cat%20%26%20dog&tags=cs.{a,b}", &q, &err),
		  "quantifiers and fts");
	CHECK(q.filters[0].cond->quant == QP_QUANT_ANY && strcmp(q.filters[1].cond->fts_config, "english") == 0 &&
		  strcmp(q.filters[1].cond->value, "cat & dog") == 0 && q.filters[2].cond->op == QP_CS,
		  "quantifier/fts contents");
	CHECK(parse(&a, "select&x", &q, &err) && q.nfilters == 0, "keys without a value are ignored");

	/* errors */
	CHECK(!parse(&a, "status=equals.x", &q, &err) && strstr(err.message, "failed to parse filter"), "unknown op");
	CHECK(!parse(&a, "status=eq", &q, &err), "missing dot");
	CHECK(!parse(&a, "limit=-1", &q, &err), "negative limit");
	CHECK(!parse(&a, "limit=99999999999999999999", &q, &err), "limit overflow");
	CHECK(!parse(&a, "select=id,(", &q, &err), "bad select");
	CHECK(!parse(&a, "select=id::text;drop", &q, &err), "bad cast");
	CHECK(!parse(&a, "or=(a.eq.1", &q, &err), "unterminated tree");
	CHECK(!parse(&a, "id=is.maybe", &q, &err), "bad is value");
	CHECK(!parse(&a, "x=eq.a%00b", &q, &err), "NUL byte");
	CHECK(!parse(&a, "x=in.(a,b", &q, &err), "unterminated in");
	{
		char		deep[600] = "or=(";

		for (int i = 0; i < 40; i++)
			strcat(deep, "or(");
		strcat(deep, "a.eq.1");
		CHECK(!parse(&a, deep, &q, &err), "deep nesting is refused");
	}
	arena_free(&a);
}

static const char *schema_json =
"{\"relations\":["
" {\"schema\":\"api\",\"name\":\"shipments\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"status\",\"type\":\"text\"},"
"  {\"name\":\"driver_id\",\"type\":\"integer\"},{\"name\":\"backup_driver_id\",\"type\":\"integer\"},"
"  {\"name\":\"meta\",\"type\":\"jsonb\"},{\"name\":\"doc\",\"type\":\"tsvector\"}]},"
" {\"schema\":\"api\",\"name\":\"drivers\",\"kind\":\"v\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"name\",\"type\":\"text\"}]},"
" {\"schema\":\"api\",\"name\":\"packages\",\"kind\":\"r\",\"upd\":28,\"pk\":[\"id\"],\"columns\":["
"  {\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"shipment_id\",\"type\":\"integer\"}]}],"
"\"fks\":["
" {\"name\":\"ship_driver\",\"from_schema\":\"api\",\"from\":\"shipments\",\"to_schema\":\"api\",\"to\":\"drivers\","
"  \"from_cols\":[\"driver_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"ship_backup\",\"from_schema\":\"api\",\"from\":\"shipments\",\"to_schema\":\"api\",\"to\":\"drivers\","
"  \"from_cols\":[\"backup_driver_id\"],\"to_cols\":[\"id\"],\"unique\":false},"
" {\"name\":\"pkg_ship\",\"from_schema\":\"api\",\"from\":\"packages\",\"to_schema\":\"api\",\"to\":\"shipments\","
"  \"from_cols\":[\"shipment_id\"],\"to_cols\":[\"id\"],\"unique\":false}],"
"\"functions\":[]}";

static bool aggregates_enabled;	/* db-aggregates-enabled for build() */

static bool
build(SchemaCache *sc, const char *rel, const char *qs, SqlAction action, SqlStatement *st, ApiError *err,
	  Arena *a)
{
	QpQuery    *q = arena_alloc(a, sizeof(QpQuery));
	QpError		qerr;
	SqlRequest	r;

	if (!parse(a, qs, q, &qerr))
		return api_error(err, 400, "PGRST100", qerr.message, qerr.details, NULL);
	memset(&r, 0, sizeof(r));
	r.action = action;
	r.sc = sc;
	r.rel = sc_find_relation(sc, "api", rel);
	r.q = q;
	r.shape = SHAPE_ARRAY;
	r.limit = -1;
	r.aggregates_enabled = aggregates_enabled;
	return sql_build(a, &r, st, err);
}

static void
test_sql_build(void)
{
	char		msg[256];
	SchemaCache *sc = sc_from_json(schema_json, msg, sizeof(msg));
	Arena		a;
	SqlStatement st;
	ApiError	err;
	const char *evil = "x'); DROP TABLE shipments; --";
	char		qs[256];

	CHECK(sc != NULL && sc->nrels == 3 && sc->nfks == 3, "schema cache from JSON: %s", msg);
	arena_init(&a);

	snprintf(qs, sizeof(qs), "status=eq.%s", "x%27%29%3B%20DROP%20TABLE%20shipments%3B%20--");
	CHECK(build(sc, "shipments", qs, SQL_READ, &st, &err, &a), "build read: %s", err.message);
	CHECK(strstr(st.sql.data, "DROP") == NULL && st.nparams == 1 && strcmp(st.params[0], evil) == 0,
		  "values only travel as parameters: %s", st.sql.data);
	CHECK(strstr(st.sql.data, "t.\"status\" = $1") != NULL, "filter SQL: %s", st.sql.data);
	buf_free(&st.sql);

	CHECK(build(sc, "shipments", "id=in.(1,2)&meta->>city=eq.Berlin&doc=fts.cat", SQL_READ, &st, &err, &a),
		  "in/json/fts");
	CHECK(strstr(st.sql.data, "= ANY ($1)") && strcmp(st.params[0], "{\"1\",\"2\"}") == 0 &&
		  strstr(st.sql.data, "t.\"meta\"->>'city' = $2") && strstr(st.sql.data, "t.\"doc\" @@ to_tsquery($3)"),
		  "in/json/fts SQL: %s", st.sql.data);
	buf_free(&st.sql);

	CHECK(build(sc, "shipments", "select=id,drivers!ship_driver(name),packages(id)&packages.order=id.desc",
				SQL_READ, &st, &err, &a), "embeds: %s", err.message);
	CHECK(strstr(st.sql.data, "row_to_json") && strstr(st.sql.data, "json_agg(_e") &&
		  strstr(st.sql.data, "ORDER BY e2.\"id\" DESC"), "embed SQL: %s", st.sql.data);
	buf_free(&st.sql);

	CHECK(!build(sc, "shipments", "select=id,drivers(name)", SQL_READ, &st, &err, &a) &&
		  err.status == 300 && strcmp(err.code, "PGRST201") == 0, "ambiguous embed is 300 PGRST201");
	CHECK(!build(sc, "drivers", "select=id,nothing(*)", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "PGRST200") == 0, "missing relationship is PGRST200");
	CHECK(!build(sc, "shipments", "nope=eq.1", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "42703") == 0 && err.status == 400, "unknown column");
	CHECK(!build(sc, "shipments", "drivers.name=eq.x", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "PGRST108") == 0, "embed filter without embed");
	CHECK(!build(sc, "shipments", "select=id,packages(id)&packages=eq.1", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "PGRST120") == 0, "only is.null on an embed");
	CHECK(build(sc, "shipments", "select=id,packages(id)&packages=not.is.null", SQL_READ, &st, &err, &a) &&
		  strstr(st.sql.data, "EXISTS (SELECT 1 FROM \"api\".\"packages\""), "embed not.is.null -> EXISTS");
	buf_free(&st.sql);
	CHECK(build(sc, "shipments", "id=eq.1", SQL_DELETE, &st, &err, &a) &&
		  strstr(st.sql.data, "DELETE FROM \"api\".\"shipments\" AS t WHERE TRUE AND (t.\"id\" = $1) RETURNING t.*"),
		  "delete SQL: %s", st.sql.data);
	buf_free(&st.sql);
	arena_free(&a);
	sc_free(sc);
}

static void
test_errors(void)
{
	CHECK(api_status_for_sqlstate("23505", false) == 409, "23505");
	CHECK(api_status_for_sqlstate("23503", false) == 409, "23503");
	CHECK(api_status_for_sqlstate("23502", false) == 400, "23502");
	CHECK(api_status_for_sqlstate("42501", true) == 401, "42501 anonymous");
	CHECK(api_status_for_sqlstate("42501", false) == 403, "42501 authenticated");
	CHECK(api_status_for_sqlstate("42P01", false) == 404, "42P01");
	CHECK(api_status_for_sqlstate("25006", false) == 405, "25006");
	CHECK(api_status_for_sqlstate("08006", false) == 503, "08*");
	CHECK(api_status_for_sqlstate("57P01", false) == 503, "57P01");
	CHECK(api_status_for_sqlstate("57014", false) == 500, "57*");
	CHECK(api_status_for_sqlstate("PT402", false) == 402, "PT402");
	CHECK(api_status_for_sqlstate("P0001", false) == 400, "P0001");
	CHECK(api_status_for_sqlstate("XX000", false) == 500, "XX000");
	CHECK(api_status_for_sqlstate("22P02", false) == 400, "22P02");
	{
		ApiError	e;
		Buf			b;

		buf_init(&b);
		api_error(&e, 400, "X1", "say \"hi\"\n", NULL, "h");
		api_error_json(&e, &b);
		CHECK(strcmp(b.data, "{\"code\":\"X1\",\"message\":\"say \\\"hi\\\"\\n\",\"details\":null,\"hint\":\"h\"}") == 0,
			  "error JSON escaping: %s", b.data);
		buf_free(&b);
	}
}

/* jwt-secret-is-base64: the secret's bytes (a NUL among them) sign as the same oct JWK does. */
static void
test_jwt_base64(void)
{
	char		err[256];
	JwtResult	r = {0};
	JwtKey	   *std = jwt_key_load("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGBw==", true, err, sizeof(err));
	JwtKey	   *url = jwt_key_load("4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8AAQIDBAUGBw", true, err, sizeof(err));
	JwtKey	   *jwk = jwt_key_load("{\"kty\":\"oct\",\"k\":\"4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8AAQIDBAUGBw\"}",
								   false, err, sizeof(err));
	char	   *tok;

	CHECK(std && url && jwk, "base64 secrets (standard, URL-safe unpadded) and the oct JWK load: %s", err);
	if (!std || !url || !jwk)
		return;
	tok = jwt_key_sign_hs256(std, "{\"role\":\"web_user\"}", err, sizeof(err));
	CHECK(tok && jwt_verify(jwk, tok, NULL, "role", time(NULL), &r, err, sizeof(err)),
		  "signed with the decoded bytes, a token verifies with the same bytes as an oct JWK: %s", err);
	jwt_result_free(&r);
	CHECK(tok && jwt_verify(url, tok, NULL, "role", time(NULL), &r, err, sizeof(err)),
		  "... and with the URL-safe spelling: %s", err);
	jwt_result_free(&r);
	free(tok);
	CHECK(jwt_key_load("not base64 at all, not at all!!", true, err, sizeof(err)) == NULL &&
		  strstr(err, "jwt-secret-is-base64 is on, but the secret is not base64"), "not base64: %s", err);
	CHECK(jwt_key_load("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", true, err, sizeof(err)) == NULL &&
		  strstr(err, "decodes to 31 bytes"), "31 bytes are too few: %s", err);
	CHECK(jwt_key_load("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGBw==AAAA", true, err, sizeof(err)) == NULL,
		  "data after the padding is refused");
	CHECK(jwt_key_load("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGB", true, err, sizeof(err)) == NULL,
		  "a length no base64 has (4n + 1) is refused");
	jwt_key_free(std);
	jwt_key_free(url);
	jwt_key_free(jwk);
}

static void
test_jwt(void)
{
	const char *secret = "0123456789abcdef0123456789abcdef";
	char		err[256];
	JwtKey	   *key = jwt_key_load(secret, false, err, sizeof(err));
	JwtResult	r;
	char	   *tok;
	char		claims[256];
	time_t		now = time(NULL);

	CHECK(key != NULL, "HMAC key");
	CHECK(jwt_key_load("short", false, err, sizeof(err)) == NULL, "short secrets are refused");
	snprintf(claims, sizeof(claims), "{\"role\":\"web_user\",\"exp\":%ld,\"aud\":[\"a\",\"freight\"]}", (long) now + 60);
	tok = jwt_sign_hs256(secret, claims);
	CHECK(jwt_verify(key, tok, "freight", "role", now, &r, err, sizeof(err)) && strcmp(r.role, "web_user") == 0,
		  "valid token: %s", err);
	jwt_result_free(&r);
	CHECK(!jwt_verify(key, tok, "other", "role", now, &r, err, sizeof(err)) && strstr(err, "audience"), "audience");
	CHECK(!jwt_verify(key, tok, NULL, "role", now + 120, &r, err, sizeof(err)) && strcmp(err, "JWT expired") == 0, "expired");
	tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
	CHECK(!jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)), "tampered signature");
	free(tok);
	CHECK(!jwt_verify(key, "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.", NULL, "role", now, &r, err, sizeof(err)) &&
		  strstr(err, "algorithm"), "alg none: %s", err);
	CHECK(!jwt_verify(key, "a.b", NULL, "role", now, &r, err, sizeof(err)), "two parts");
	CHECK(!jwt_verify(key, "a.b.c.d", NULL, "role", now, &r, err, sizeof(err)), "four parts");
	tok = jwt_sign_hs256(secret, "{\"app\":{\"role\":\"web_admin\"}}");
	CHECK(jwt_verify(key, tok, NULL, "app.role", now, &r, err, sizeof(err)) && strcmp(r.role, "web_admin") == 0,
		  "nested role claim");
	jwt_result_free(&r);
	free(tok);
	tok = jwt_sign_hs256(secret, "[1,2]");
	CHECK(!jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)), "claims must be an object");
	free(tok);
	jwt_key_free(key);

	/* JWK / JWK Set: oct keys verify HS256 (no kid: each key is tried); bad sets are refused */
	{
		static const char *const bad[][2] = {
			{"{\"keys\":[]}", "non-empty array"},
			{"{\"keys\":[{\"kty\":\"oct\"", "not a valid JWK"},
			{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "JWK 1: unsupported \"kty\""},
			{"{\"keys\":[{\"kty\":\"oct\",\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"},{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
			 "JWK 2: the RSA modulus"},
			{"{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "needs \"n\" and \"e\""},
			{"{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}", "at least 32 bytes"},
			{"{\"kty\":\"oct\",\"k\":\"a+b/\"}", "needs \"k\" in base64url"},
			{"{\"kty\":\"oct\",\"alg\":\"RS256\",\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"}", "\"alg\" must be HS256"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(jwt_key_load(bad[i][0], false, err, sizeof(err)) == NULL && strstr(err, bad[i][1]),
				  "bad JWK %zu refused with '%s': %s", i, bad[i][1], err);
		key = jwt_key_load("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"other\","
						   "\"k\":\"YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtb3ItbW9yZSE\"},"
						   "{\"kty\":\"oct\",\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\"}]}",
						   false, err, sizeof(err));
		CHECK(key != NULL, "JWK Set of two oct keys: %s", err);
		tok = jwt_key_sign_hs256(key, "{\"role\":\"web_user\"}", err, sizeof(err));
		CHECK(tok != NULL && jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)) &&
			  strcmp(r.role, "web_user") == 0, "signed with the set's first oct key, it verifies: %s", err);
		jwt_result_free(&r);
		free(tok);
		tok = jwt_sign_hs256(secret, "{\"role\":\"web_user\"}");
		CHECK(jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)) && strcmp(r.role, "web_user") == 0,
			  "no kid: the second oct key verifies: %s", err);
		jwt_result_free(&r);
		free(tok);
		tok = jwt_sign_hs256("another-secret-of-32-bytes-or-more?", "{\"role\":\"web_user\"}");
		CHECK(!jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)) &&
			  strcmp(err, "JWT invalid signature") == 0, "no oct key verifies a foreign secret: %s", err);
		free(tok);
		CHECK(!jwt_verify(key, "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlIjoid2ViX3VzZXIifQ.AAAA", NULL, "role", now, &r,
						  err, sizeof(err)) && strstr(err, "expected HS256"), "RS256 against oct keys: %s", err);
		jwt_key_free(key);
	}

	/* RS256: a token signed with a fresh key; HS256 "signed" with the public key is refused */
	{
		EVP_PKEY   *pk = EVP_RSA_gen(2048);
		BIO		   *bio = BIO_new(BIO_s_mem());
		char	   *pem;
		long		n;
		char	   *pemcopy;

		PEM_write_bio_PUBKEY(bio, pk);
		n = BIO_get_mem_data(bio, &pem);
		pemcopy = strndup(pem, (size_t) n);
		key = jwt_key_load(pemcopy, false, err, sizeof(err));
		CHECK(key != NULL, "RSA public key: %s", err);
		CHECK(jwt_key_sign_hs256(key, "{}", err, sizeof(err)) == NULL && strstr(err, "no HMAC secret"),
			  "a public key cannot sign: %s", err);
		tok = jwt_sign_hs256(pemcopy, "{\"role\":\"web_admin\"}");
		CHECK(!jwt_verify(key, tok, NULL, "role", now, &r, err, sizeof(err)) && strstr(err, "algorithm"),
			  "HS256 with the RSA public key as secret is refused");
		free(tok);
		{
			const char *hp = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlIjoid2ViX3VzZXIifQ";
			unsigned char sig[512];
			size_t		siglen = sizeof(sig);
			EVP_MD_CTX *ctx = EVP_MD_CTX_new();
			char		b64[1024];
			int			len;
			char		token[2048];

			EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk);
			EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) hp, strlen(hp));
			EVP_MD_CTX_free(ctx);
			len = EVP_EncodeBlock((unsigned char *) b64, sig, (int) siglen);
			for (int i = 0; i < len; i++)
				b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
			while (len > 0 && b64[len - 1] == '=')
				len--;
			b64[len] = '\0';
			snprintf(token, sizeof(token), "%s.%s", hp, b64);
			CHECK(jwt_verify(key, token, NULL, "role", now, &r, err, sizeof(err)) && strcmp(r.role, "web_user") == 0,
				  "RS256 token verifies: %s", err);
			jwt_result_free(&r);
		}
		jwt_key_free(key);
		free(pemcopy);
		BIO_free(bio);
		EVP_PKEY_free(pk);
	}
}

/* select=col.sum(), count(), casts and aliases: the parse tree and the SQL with its GROUP BY. */
static void
test_aggregates(void)
{
	char		msg[256];
	SchemaCache *sc = sc_from_json(schema_json, msg, sizeof(msg));
	Arena		a;
	QpQuery		q;
	QpError		perr;
	SqlStatement st;
	ApiError	err;

	arena_init(&a);
	CHECK(parse(&a, "select=status,total:weight_kg::int.sum()::text,count(),\"id\".max(),meta->>n.avg()",
				&q, &perr), "aggregate select: %s %s", perr.message, perr.details);
	CHECK(q.select->nitems == 5 && q.select->items[0].agg == QP_AGG_NONE &&
		  q.select->items[1].agg == QP_AGG_SUM && strcmp(q.select->items[1].alias, "total") == 0 &&
		  strcmp(q.select->items[1].field.name, "weight_kg") == 0 &&
		  strcmp(q.select->items[1].cast, "int") == 0 && strcmp(q.select->items[1].agg_cast, "text") == 0 &&
		  q.select->items[2].agg == QP_AGG_COUNT && q.select->items[2].field.name == NULL &&
		  q.select->items[3].agg == QP_AGG_MAX && strcmp(q.select->items[3].field.name, "id") == 0 &&
		  q.select->items[4].agg == QP_AGG_AVG && strcmp(q.select->items[4].field.json_keys[0], "n") == 0,
		  "aggregate select contents");
	CHECK(parse(&a, "select=id,count(*)", &q, &perr) && q.select->items[1].agg == QP_AGG_NONE &&
		  q.select->items[1].kind == QP_SEL_EMBED, "count(*) is not the aggregate (an embed named count)");
	CHECK(!parse(&a, "select=id.median()", &q, &perr) && strstr(perr.details, "unknown aggregate"),
		  "unknown aggregate");
	CHECK(!parse(&a, "select=id::int.total()", &q, &perr) && strstr(perr.details, "unknown aggregate"),
		  "unknown aggregate after a cast");
	CHECK(!parse(&a, "select=id.sum(id)", &q, &perr) && strstr(perr.details, "no arguments"),
		  "aggregate with an argument");
	CHECK(!parse(&a, "select=id::int.sum", &q, &perr), "aggregate without ()");
	CHECK(!parse(&a, "select=id.sum()::int;drop", &q, &perr), "bad result cast");
	CHECK(!parse(&a, "select=id.sum()!inner", &q, &perr), "!inner after an aggregate");

	CHECK(!build(sc, "shipments", "select=id.sum()", SQL_READ, &st, &err, &a) &&
		  err.status == 400 && strcmp(err.code, "PGRST123") == 0 &&
		  strcmp(err.message, "Use of aggregate functions is not allowed") == 0, "disabled: PGRST123");
	aggregates_enabled = true;
	CHECK(build(sc, "shipments", "select=status,n:count(),id::bigint.sum()::text&status=eq.x", SQL_READ,
				&st, &err, &a), "aggregate read: %s", err.message);
	CHECK(strstr(st.sql.data, "t.\"status\" AS \"status\", count(*) AS \"n\", "
				 "(sum((t.\"id\")::bigint))::text AS \"sum\" FROM") &&
		  strstr(st.sql.data, "WHERE TRUE AND (t.\"status\" = $1) GROUP BY t.\"status\")") &&
		  st.nparams == 1, "aggregate SQL: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(build(sc, "shipments", "select=count()", SQL_READ, &st, &err, &a) &&
		  strstr(st.sql.data, "GROUP BY") == NULL, "no GROUP BY without plain columns: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(build(sc, "shipments", "select=id,packages(id.count())", SQL_READ, &st, &err, &a) &&
		  strstr(st.sql.data, "count(e1.\"id\")"), "aggregate in an embed: %s", st.sql.data);
	buf_free(&st.sql);
	CHECK(!build(sc, "shipments", "select=nope.sum()", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "42703") == 0, "aggregate of an unknown column");
	CHECK(!build(sc, "shipments", "select=*,count()", SQL_READ, &st, &err, &a) &&
		  strcmp(err.code, "PGRST100") == 0, "* with an aggregate");
	aggregates_enabled = false;
	arena_free(&a);
	sc_free(sc);
}

int
main(void)
{
	test_parser();
	test_sql_build();
	test_aggregates();
	test_errors();
	test_jwt();
	test_jwt_base64();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
