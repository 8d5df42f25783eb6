/*
 * errors.c — SQLSTATE → HTTP status (one table, PostgREST v12 semantics) and the error body.
 */
#include "errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest prefix wins: exact codes first, then classes.  Anything unlisted is 400. */
static const struct
{
	const char *prefix;
	int			status;
}			sqlstate_status[] =
{
	{"23503", 409}, {"23505", 409}, {"25006", 405}, {"42883", 404}, {"42P01", 404},
	{"42P17", 500}, {"53400", 500}, {"57P01", 503}, {"P0001", 400}, {"21000", 500},
	{"08", 503}, {"09", 500}, {"0L", 403}, {"0P", 403}, {"25", 500}, {"28", 403},
	{"2D", 500}, {"38", 500}, {"39", 500}, {"3B", 500}, {"40", 500}, {"53", 503},
	{"54", 500}, {"55", 500}, {"57", 500}, {"58", 500}, {"F0", 500}, {"HV", 500},
	{"P0", 500}, {"XX", 500},
};

int
api_status_for_sqlstate(const char *sqlstate, bool anonymous)
{
	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return 500;
	if (strcmp(sqlstate, "42501") == 0)
		return anonymous ? 401 : 403;
	if (strncmp(sqlstate, "PT", 2) == 0)
	{
		int			s = atoi(sqlstate + 2);

		return (s >= 100 && s <= 599) ? s : 500;
	}
	for (size_t i = 0; i < sizeof(sqlstate_status) / sizeof(sqlstate_status[0]); i++)
		if (strncmp(sqlstate, sqlstate_status[i].prefix, strlen(sqlstate_status[i].prefix)) == 0)
			return sqlstate_status[i].status;
	return 400;
}

bool
api_error(ApiError *err, int status, const char *code, const char *message,
		  const char *details, const char *hint)
{
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->message, sizeof(err->message), "%s", message);
	snprintf(err->details, sizeof(err->details), "%s", details ? details : "");
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	return false;
}

static void
json_string_or_null(Buf *b, const char *s)
{
	if (s[0] == '\0')
	{
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	buf_json_escape(b, s);
	buf_putc(b, '"');
}

void
api_error_json(const ApiError *err, Buf *b)
{
	buf_puts(b, "{\"code\":\"");
	buf_json_escape(b, err->code);
	buf_puts(b, "\",\"message\":\"");
	buf_json_escape(b, err->message);
	buf_puts(b, "\",\"details\":");
	json_string_or_null(b, err->details);
	buf_puts(b, ",\"hint\":");
	json_string_or_null(b, err->hint);
	buf_putc(b, '}');
}
