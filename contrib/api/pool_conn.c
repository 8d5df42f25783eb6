/*
 * pool_conn.c — a pipeline-mode connection and its prepared-statement cache (see pool_conn.h).
 *
 * Statements are prepared on first use per connection (named s1, s2, ... keyed by SQL text):
 * PostgREST-style queries differ only in their parameters, so the same few hundred texts repeat.
 */
#include "pool_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static unsigned
hash_sql(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

void
pgconn_cache_clear(PgConn *c)
{
	for (int i = 0; i < STMT_CACHE_SLOTS; i++)
	{
		free(c->cache[i].sql);
		c->cache[i].sql = NULL;
	}
	c->ncached = 0;
}

static StmtEntry *
cache_slot(PgConn *c, const char *sql, unsigned h)
{
	unsigned	i = h & (STMT_CACHE_SLOTS - 1);

	while (c->cache[i].sql && !(c->cache[i].hash == h && strcmp(c->cache[i].sql, sql) == 0))
		i = (i + 1) & (STMT_CACHE_SLOTS - 1);
	return &c->cache[i];
}

PGconn *
pg_connect(const char *uri)
{
	/* uri comes second: its own keywords override the ones before it */
	const char *const keys[] = {"connect_timeout", "dbname", NULL};
	const char *const values[] = {getenv("PGCONNECT_TIMEOUT") ? NULL : PG_CONNECT_TIMEOUT, uri, NULL};

	return PQconnectdbParams(keys, values, 1);
}

bool
pgconn_open(PgConn *c, const char *uri, char *err, size_t errlen)
{
	pgconn_close(c);
	c->conn = pg_connect(uri);
	if (PQstatus(c->conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "%s", PQerrorMessage(c->conn));
		return false;
	}
	if (PQenterPipelineMode(c->conn) != 1)
	{
		snprintf(err, errlen, "cannot enter pipeline mode: %s", PQerrorMessage(c->conn));
		return false;
	}
	return true;
}

void
pgconn_close(PgConn *c)
{
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	pgconn_cache_clear(c);
}

bool
pgconn_send(PgConn *c, const PipeStmt *s, Sent *sent)
{
	unsigned	h = hash_sql(s->sql);
	StmtEntry  *e = cache_slot(c, s->sql, h);
	char		name[16];

	sent->prepared_now = false;
	sent->entry = NULL;
	if ((e->sql && !e->confirmed) || (e->sql == NULL && c->ncached >= STMT_CACHE_SLOTS / 2))
		return PQsendQueryParams(c->conn, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0) == 1;
	if (e->sql == NULL)
	{
		e->sql = xstrdup(s->sql);
		e->hash = h;
		e->id = ++c->next_id;
		e->confirmed = false;
		c->ncached++;
		snprintf(name, sizeof(name), "s%d", e->id);
		if (PQsendPrepare(c->conn, name, s->sql, s->nparams, NULL) != 1)
			return false;
		sent->prepared_now = true;
		sent->entry = e;
	}
	snprintf(name, sizeof(name), "s%d", e->id);
	return PQsendQueryPrepared(c->conn, name, s->nparams, s->params, NULL, NULL, 0) == 1;
}

void
pgconn_forget(StmtEntry *e)
{
	/* Removing from linear probing would break chains: keep the slot, mark it unusable. */
	free(e->sql);
	e->sql = xstrdup("\x01");	/* never equal to real SQL */
	e->confirmed = false;
}
