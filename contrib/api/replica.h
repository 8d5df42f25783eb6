/*
 * replica.h — where a statement runs: writes on the primary; reads on a replica (db-replica-uri)
 * unless the client asks to read its own writes (Freight-Min-LSN header with the Freight-LSN a
 * write returned) and no replica has replayed that far within replica-wait-ms.
 */
#ifndef API_REPLICA_H
#define API_REPLICA_H

#include "server.h"

typedef struct Route
{
	Pool	   *pool;
	PgConn	   *conn;
	const char *served_by;		/* "primary" or "replica" */
} Route;

/* Acquires a connection for the request; false + err (400 bad LSN, 504 pool timeout). */
bool		route_acquire(Request *req, bool read_only, Route *route, ApiError *err);
void		route_release(Route *route);

/* The statement a write appends after COMMIT to learn the LSN its commit is covered by. */
extern const char *const replica_lsn_sql;

#endif
