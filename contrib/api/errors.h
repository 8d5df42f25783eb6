/*
 * errors.h — API errors: the PostgREST body {code, message, details, hint} and the one table
 * that maps a SQLSTATE to an HTTP status.  Pure C.
 */
#ifndef API_ERRORS_H
#define API_ERRORS_H

#include <stdbool.h>

#include "buf.h"

typedef struct ApiError
{
	int			status;
	char		code[16];
	char		message[512];
	char		details[1024];	/* "" = null */
	char		hint[512];		/* "" = null */
} ApiError;

/* Fills err; details and hint may be NULL.  Returns false so callers can `return api_error(...)`. */
bool		api_error(ApiError *err, int status, const char *code, const char *message,
					  const char *details, const char *hint);

/* HTTP status for a PostgreSQL SQLSTATE (PostgREST v12 pgErrorStatus); anonymous matters for 42501. */
int			api_status_for_sqlstate(const char *sqlstate, bool anonymous);

/* Appends the JSON body of err to b. */
void		api_error_json(const ApiError *err, Buf *b);

#endif
