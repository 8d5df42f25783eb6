/*
 * rest_internal.h — what the parts of the PostgREST routes share: rest_request.c (headers,
 * body, query string -> a SqlRequest), rest_exec.c (the pipeline and the response) and rest.c
 * (the two routes).
 */
#ifndef API_REST_INTERNAL_H
#define API_REST_INTERNAL_H

#include <jansson.h>

#include "auth.h"
#include "rest.h"
#include "sql_build.h"

typedef enum ReturnPref
{
	RETURN_DEFAULT, RETURN_MINIMAL, RETURN_REPRESENTATION, RETURN_HEADERS_ONLY
} ReturnPref;

typedef struct Prefs
{
	ReturnPref	ret;
	bool		count;
	bool		merge_duplicates;
	bool		ignore_duplicates;
} Prefs;

/* Everything needed to run one statement and shape its response. */
typedef struct Exec
{
	const Auth *auth;
	const char *schema;
	bool		read_only;
	bool		write;
	SqlShape	shape;
	bool		singular;		/* Accept: vnd.pgrst.object: exactly one row or 406 */
	const char *ctype;
	long long	first;			/* offset of the first row, for Content-Range */
	int			ok_status;		/* 200, 201 */
	bool		body_wanted;
} Exec;

/* rest_request.c */
void		rest_parse_prefer(Request *req, Prefs *p, Buf *applied);
bool		rest_parse_accept(Request *req, SqlShape *shape, const char **ctype);
json_t	   *rest_parse_body(Request *req, bool allow_array, const char ***names, int *nnames,
							ApiError *err);
bool		rest_prepare(Request *req, Response *resp, const SchemaCache *sc, bool write, Auth *auth,
						 const char **schema, const QpPair **pairs, int *npairs);
bool		rest_parse_query(Request *req, Response *resp, const QpPair *pairs, int npairs,
							 const bool *skip, QpQuery *q);
bool		rest_paging(Request *req, Response *resp, const QpQuery *q, SqlRequest *sr);

/* rest_exec.c */
void		rest_run_statement(Request *req, Response *resp, SqlStatement *st, const Exec *ex);

#endif
