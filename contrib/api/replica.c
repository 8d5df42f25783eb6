/*
 * replica.c — read routing with read-your-writes by LSN (see replica.h).
 */
#include "replica.h"

#include <ctype.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const replica_lsn_sql = "SELECT pg_catalog.pg_current_wal_insert_lsn()::text";

/* An LSN as PostgreSQL prints it: hex/hex. */
static bool
valid_lsn(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t		n = strlen(s);

	if (slash == NULL || slash == s || slash[1] == '\0' || n > 17)
		return false;
	for (const char *p = s; *p; p++)
		if (p != slash && !isxdigit((unsigned char) *p))
			return false;
	return true;
}

/* true when the replica behind c has replayed min_lsn. */
static bool
replayed(PgConn *c, const char *min_lsn, bool *broken)
{
	const char *params[1] = {min_lsn};
	PipeStmt	st = {"SELECT coalesce(pg_catalog.pg_last_wal_replay_lsn() >= $1::pg_lsn, true)", params, 1, NULL};
	char		err[256];
	bool		ok;

	if (!pg_pipeline(c, &st, 1, false, err, sizeof(err)))
	{
		*broken = true;
		return false;
	}
	ok = PQresultStatus(st.result) == PGRES_TUPLES_OK && strcmp(PQgetvalue(st.result, 0, 0), "t") == 0;
	PQclear(st.result);
	return ok;
}

static bool
use_primary(Route *route, ApiError *err)
{
	route->pool = server.pool;
	route->served_by = "primary";
	route->conn = pool_acquire(server.pool, server.cfg.db_pool_timeout_ms);
	if (route->conn == NULL)
		return api_error(err, 504, "PGRST003", "Timed out acquiring connection from connection pool.", NULL, NULL);
	return true;
}

bool
route_acquire(Request *req, bool read_only, Route *route, ApiError *err)
{
	const char *min_lsn = request_header(req, "Freight-Min-LSN");
	struct timespec start, now;
	bool		broken = false;

	memset(route, 0, sizeof(*route));
	if (min_lsn && !valid_lsn(min_lsn))
		return api_error(err, 400, "PGRST100", "Freight-Min-LSN must be an LSN like 0/16B3748", min_lsn, NULL);
	if (!read_only || server.replica_pool == NULL)
		return use_primary(route, err);
	route->conn = pool_acquire(server.replica_pool, server.cfg.db_pool_timeout_ms);
	if (route->conn == NULL)
		return use_primary(route, err);
	route->pool = server.replica_pool;
	route->served_by = "replica";
	if (min_lsn == NULL)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;)
	{
		long		waited_ms;

		if (replayed(route->conn, min_lsn, &broken))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (broken || waited_ms >= server.cfg.replica_wait_ms)
			break;
		usleep(10000);
	}
	pool_release(server.replica_pool, route->conn);
	return use_primary(route, err);
}

void
route_release(Route *route)
{
	if (route->conn)
		pool_release(route->pool, route->conn);
	route->conn = NULL;
}
