/*
 * rest_tx.c — the statements of one request's transaction (see rest_tx.h): the setup SELECT
 * with role, claims and request settings, db-pre-request, Prefer: tx= against db-tx-end, and
 * where the Syncs go.
 */
#include "rest_tx.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replica.h"

#define SETUP_BASE \
"SELECT set_config('search_path', $1, true), set_config('role', $2, true)," \
" set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true)," \
" set_config('request.path', $5, true)"
#define SETUP_REQUEST \
", set_config('request.headers', $6, true), set_config('request.cookies', $7, true)"
#define SETUP_TIMEZONE ", set_config('timezone', $8, true)"
#define SETUP_READ_ONLY ", set_config('transaction_read_only', 'on', true)"

/*
 * [the daemon's own query / a request / a request with Prefer: timezone=][read only]; tx_init
 * adds the app.settings.* of the configuration to each.
 */
static const char *setup_sql[3][2] = {
	{SETUP_BASE, SETUP_BASE SETUP_READ_ONLY},
	{SETUP_BASE SETUP_REQUEST, SETUP_BASE SETUP_REQUEST SETUP_READ_ONLY},
	{SETUP_BASE SETUP_REQUEST SETUP_TIMEZONE, SETUP_BASE SETUP_REQUEST SETUP_TIMEZONE SETUP_READ_ONLY},
};

/* The schemas after the request's own in search_path (db-extra-search-path), quoted. */
static const char *extra_search_path = ", \"public\"";

/*
 * The configuration's app.settings.* as set_config calls.  Fixed for the daemon's life, so they
 * are literals in the statement text (one prepared statement, no extra parameters): names are
 * checked by the configuration, values are E'' strings, which read the same whatever
 * standard_conforming_strings says.
 */
void
tx_init(const ApiConfig *cfg)
{
	Buf			app;

	if (cfg->db_extra_search_path)
	{
		char	   *list = xstrdup(cfg->db_extra_search_path);
		char	   *save = NULL;
		Buf			path;

		buf_init(&path);
		for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save))
		{
			while (*s == ' ')
				s++;
			for (char *e = s + strlen(s); e > s && e[-1] == ' ';)
				*--e = '\0';
			if (*s == '\0')
				continue;
			buf_puts(&path, ", ");
			buf_ident(&path, s);
		}
		free(list);
		if (path.len > 0)
			extra_search_path = buf_steal(&path);
		else
		{
			buf_free(&path);
			extra_search_path = "";	/* only commas: nothing after the exposed schema */
		}
	}
	if (cfg->napp_settings == 0)
		return;
	buf_init(&app);
	for (int i = 0; i < cfg->napp_settings; i++)
	{
		buf_printf(&app, ", set_config('app.settings.%s', E'", cfg->app_setting_names[i]);
		for (const char *c = cfg->app_setting_values[i]; *c; c++)
		{
			if (*c == '\\' || *c == '\'')
				buf_putc(&app, *c);
			buf_putc(&app, *c);
		}
		buf_puts(&app, "', true)");
	}
	for (int kind = 0; kind < 3; kind++)
	{
		Buf			sql;

		buf_init(&sql);
		buf_puts(&sql, setup_sql[kind][0]);
		buf_add(&sql, app.data, app.len);
		setup_sql[kind][0] = buf_steal(&sql);
		buf_init(&sql);
		buf_puts(&sql, setup_sql[kind][0]);
		buf_puts(&sql, SETUP_READ_ONLY);
		setup_sql[kind][1] = buf_steal(&sql);
	}
	buf_free(&app);
}

/* Length of the valid UTF-8 sequence at s, or 0 when the bytes there are not one. */
static int
utf8_sequence_length(const unsigned char *s)
{
	int			n = s[0] < 0x80 ? 1 : (s[0] >= 0xC2 && s[0] <= 0xDF) ? 2 :
		(s[0] >= 0xE0 && s[0] <= 0xEF) ? 3 : (s[0] >= 0xF0 && s[0] <= 0xF4) ? 4 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;			/* also stops at the terminating NUL */
	if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0)))
		return 0;				/* overlong, or a surrogate */
	if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
		return 0;				/* overlong, or beyond U+10FFFF */
	return n;
}

/*
 * Appends s as the inside of a JSON string.  Header bytes are not necessarily UTF-8 (Latin-1
 * clients exist) and PostgreSQL refuses invalid UTF-8 in a parameter, failing the request: an
 * invalid byte becomes U+FFFD.
 */
static void
json_text(Buf *b, const char *s, bool lower)
{
	for (const unsigned char *p = (const unsigned char *) s; *p;)
	{
		size_t		plain = 0;
		int			n;

		/* printable ASCII that needs no escape (nor lower-casing) goes in one piece */
		while (p[plain] >= 0x20 && p[plain] < 0x80 && p[plain] != '"' && p[plain] != '\\' &&
			   !(lower && p[plain] >= 'A' && p[plain] <= 'Z'))
			plain++;
		if (plain > 0)
		{
			buf_add(b, (const char *) p, plain);
			p += plain;
			continue;
		}
		n = utf8_sequence_length(p);

		if (n == 0)
			buf_puts(b, "\\ufffd");
		else if (n == 1)
		{
			char		one[2] = {(char) (lower ? tolower(*p) : *p), '\0'};

			buf_json_escape(b, one);
		}
		else
			buf_add(b, (const char *) p, (size_t) n);
		p += n ? n : 1;
	}
}

typedef struct JsonPairs
{
	Buf			b;
	bool		lower;
	bool		redact;			/* for log-sql: credentials and cookie values as "***" */
} JsonPairs;

static bool
is_credential(const char *name)
{
	return strcasecmp(name, "authorization") == 0 || strcasecmp(name, "apikey") == 0 ||
		strcasecmp(name, "x-api-key") == 0 || strcasecmp(name, "cookie") == 0;
}

static enum MHD_Result
add_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	JsonPairs  *j = cls;

	(void) kind;
	if (j->b.len > 1)
		buf_putc(&j->b, ',');
	buf_putc(&j->b, '"');
	json_text(&j->b, key, j->lower);	/* header names are case-insensitive */
	buf_puts(&j->b, "\":\"");
	if (j->redact && (!j->lower || is_credential(key)))
		buf_puts(&j->b, "***");
	else
		json_text(&j->b, value ? value : "", false);
	buf_putc(&j->b, '"');
	return MHD_YES;
}

/* The request's headers (names lower-cased) or cookies as a JSON object, allocated in a. */
static const char *
pairs_json(Arena *a, Request *req, enum MHD_ValueKind kind, bool redact)
{
	JsonPairs	j = {.lower = kind == MHD_HEADER_KIND, .redact = redact};
	const char *out;

	buf_init(&j.b);
	buf_putc(&j.b, '{');
	MHD_get_connection_values(req->conn, kind, add_pair, &j);
	buf_putc(&j.b, '}');
	out = arena_strndup(a, j.b.data, j.b.len);
	buf_free(&j.b);
	return out;
}

/* Prefer: tx=commit|rollback -> "commit", "rollback" or NULL (other tokens are not ours). */
static const char *
prefer_tx(Request *req)
{
	const char *h = request_header(req, "Prefer");

	for (const char *p = h; p && *p;)
	{
		size_t		n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 9 && strncmp(p, "tx=commit", 9) == 0)
			return "commit";
		if (n == 11 && strncmp(p, "tx=rollback", 11) == 0)
			return "rollback";
		p += strcspn(p, ",");
	}
	return NULL;
}

static int
add_stmt(TxPlan *tx, const char *sql, const char *const *params, int nparams)
{
	tx->stmts[tx->n] = (PipeStmt) {sql, params, nparams, NULL};
	return tx->n++;
}

void
tx_plan(TxPlan *tx, Arena *a, Request *req, const RunAs *as, bool read_only, bool write,
		bool leave_open, const char *sql, const char *const *params, int nparams)
{
	int			kind = req == NULL ? 0 : as->timezone == NULL ? 1 : 2;
	const char *pref = req ? prefer_tx(req) : NULL;
	bool		rollback = server.cfg.tx_rollback;
	bool		explicit_tx;
	Buf			sp;

	memset(tx, 0, sizeof(*tx));
	tx->lsn = -1;
	if (pref && server.cfg.tx_allow_override)
	{
		rollback = strcmp(pref, "rollback") == 0;
		tx->tx_applied = rollback ? "tx=rollback" : "tx=commit";
	}
	/* a read-only transaction ends the same either way: it keeps the fast path */
	tx->rollback = rollback && !read_only;
	explicit_tx = tx->rollback || leave_open;

	buf_init(&sp);
	buf_ident(&sp, as->schema);
	buf_puts(&sp, extra_search_path);
	tx->setup[0] = arena_strndup(a, sp.data, sp.len);
	buf_free(&sp);
	tx->setup[1] = as->role;
	tx->setup[2] = as->claims;
	tx->setup[3] = as->method;
	tx->setup[4] = as->path;
	tx->nsetup = 5;
	if (req)
	{
		tx->setup[5] = pairs_json(a, req, MHD_HEADER_KIND, false);
		tx->setup[6] = pairs_json(a, req, MHD_COOKIE_KIND, false);
		tx->nsetup = 7;
		if (as->timezone)
			tx->setup[tx->nsetup++] = as->timezone;
		if (server.cfg.log_sql)
		{
			memcpy(tx->setup_logged, tx->setup, sizeof(tx->setup));
			tx->setup_logged[5] = pairs_json(a, req, MHD_HEADER_KIND, true);
			tx->setup_logged[6] = pairs_json(a, req, MHD_COOKIE_KIND, true);
		}
	}

	if (explicit_tx)
		add_stmt(tx, "BEGIN", NULL, 0);
	tx->setup_index = add_stmt(tx, setup_sql[kind][read_only && !explicit_tx], tx->setup, tx->nsetup);
	if (req && server.cfg.pre_request_sql)
		add_stmt(tx, server.cfg.pre_request_sql, NULL, 0);
	tx->main = add_stmt(tx, sql, params, nparams);
	if (tx->rollback && !leave_open)
		add_stmt(tx, "ROLLBACK", NULL, 0);
	tx->leave_open = leave_open;
	if (write && !explicit_tx)
	{
		tx->sync_after = 1u << (tx->n - 1);
		tx->lsn = add_stmt(tx, replica_lsn_sql, NULL, 0);
	}
}

PGresult *
tx_failed(const TxPlan *tx)
{
	for (int i = 0; i < tx->n; i++)
		if (i != tx->lsn && PQresultStatus(tx->stmts[i].result) == PGRES_FATAL_ERROR)
			return tx->stmts[i].result;
	return NULL;
}

bool
tx_query_as(const RunAs *as, bool read_only, const char *sql, const char *const *params,
			int nparams, PGresult **res, PGresult **failed, ApiError *err)
{
	Arena		a;
	TxPlan		tx;
	PgConn	   *c;
	char		msg[512];
	bool		ok = false;

	*res = NULL;
	*failed = NULL;
	c = pool_acquire(server.pool, server.cfg.db_pool_timeout_ms);
	if (c == NULL)
		return api_error(err, 504, "PGRST003", "Timed out acquiring connection from connection pool.", NULL, NULL);
	arena_init(&a);
	tx_plan(&tx, &a, NULL, as, read_only, false, false, sql, params, nparams);
	if (!pg_pipeline_segments(c, tx.stmts, tx.n, tx.sync_after, false, msg, sizeof(msg)))
		api_error(err, 503, "PGRST001", "Database client error. Retrying the connection.", msg, NULL);
	else
	{
		ok = true;
		for (int i = 0; i < tx.n && *failed == NULL; i++)
			if (PQresultStatus(tx.stmts[i].result) == PGRES_FATAL_ERROR)
			{
				*failed = tx.stmts[i].result;
				tx.stmts[i].result = NULL;
			}
		if (*failed == NULL)
		{
			*res = tx.stmts[tx.main].result;
			tx.stmts[tx.main].result = NULL;
		}
	}
	tx_clear(&tx);
	pool_release(server.pool, c);
	arena_free(&a);
	return ok;
}

void
tx_clear(TxPlan *tx)
{
	for (int i = 0; i < tx->n; i++)
	{
		PQclear(tx->stmts[i].result);
		tx->stmts[i].result = NULL;
	}
}
