/*
 * rest.h — the PostgREST routes: /api/<relation> and /api/rpc/<function>.
 */
#ifndef API_REST_H
#define API_REST_H

#include "server.h"

void		rest_relation(Request *req, Response *resp, const char *name);

/* Who runs a statement: the transaction settings every request makes. */
typedef struct RunAs
{
	const char *role;
	const char *claims;
	const char *schema;
	const char *method;
	const char *path;
	bool		anonymous;
	const char *timezone;		/* Prefer: timezone= (requests only), NULL when absent */
} RunAs;

/*
 * Runs sql in a READ ONLY transaction as `as` (one pipeline) and returns its result in *res
 * (PQclear it).  false + err when the database is unreachable or the statement fails.
 */
bool		rest_query_as(const RunAs *as, const char *sql, const char *const *params, int nparams,
						  PGresult **res, ApiError *err);
void		rest_rpc(Request *req, Response *resp, const char *name);

/* GET /api/: the OpenAPI document of what the requesting role may use (Accept-Profile schema). */
void		rest_openapi(Request *req, Response *resp, const char *arg);

#endif
