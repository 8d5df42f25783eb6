/*
 * body_decode.c — CSV and form-urlencoded request bodies as JSON (see body_decode.h).
 */
#include "body_decode.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "query_parse.h"

/* A cursor over the CSV text. */
typedef struct Csv
{
	const char *s;
	size_t		len;
	size_t		pos;
	int			line;
	char	   *err;
	size_t		errlen;
} Csv;

static bool
csv_fail(Csv *c, const char *reason)
{
	snprintf(c->err, c->errlen, "%s on line %d of the CSV body", reason, c->line);
	return false;
}

static bool
at_record_end(const Csv *c)
{
	return c->pos >= c->len || c->s[c->pos] == '\n' ||
		(c->s[c->pos] == '\r' && c->pos + 1 < c->len && c->s[c->pos + 1] == '\n');
}

/*
 * One field into out; *is_null for an unquoted NULL.  Leaves the cursor on the separator
 * (',' or the record end).
 */
static bool
csv_field(Csv *c, Buf *out, bool *is_null)
{
	size_t		start = c->pos;

	buf_reset(out);
	*is_null = false;
	if (c->pos < c->len && c->s[c->pos] == '"')
	{
		int			open_line = c->line;

		c->pos++;
		for (;;)
		{
			if (c->pos >= c->len)
			{
				c->line = open_line;
				return csv_fail(c, "unterminated quoted field");
			}
			if (c->s[c->pos] == '"')
			{
				if (c->pos + 1 < c->len && c->s[c->pos + 1] == '"')
				{
					buf_putc(out, '"');
					c->pos += 2;
					continue;
				}
				c->pos++;
				break;
			}
			if (c->s[c->pos] == '\n')
				c->line++;
			buf_putc(out, c->s[c->pos++]);
		}
		if (!at_record_end(c) && c->s[c->pos] != ',')
			return csv_fail(c, "unexpected character after a closing quote");
		return true;
	}
	while (!at_record_end(c) && c->s[c->pos] != ',')
	{
		if (c->s[c->pos] == '"')
			return csv_fail(c, "a quote inside an unquoted field (quote the whole field)");
		c->pos++;
	}
	buf_add(out, c->s + start, c->pos - start);
	*is_null = strcmp(out->data, "NULL") == 0;
	return true;
}

/* Steps over the record end; false at the end of the text. */
static bool
csv_next_record(Csv *c)
{
	if (c->pos >= c->len)
		return false;
	if (c->s[c->pos] == '\r')
		c->pos++;
	c->pos++;
	c->line++;
	return c->pos < c->len;
}

static bool
csv_header(Csv *c, json_t *names)
{
	Buf			f;
	bool		is_null;
	bool		ok = true;

	buf_init(&f);
	for (;;)
	{
		if (!(ok = csv_field(c, &f, &is_null)))
			break;
		if (f.len == 0)
		{
			ok = csv_fail(c, "empty column name in the header");
			break;
		}
		for (size_t i = 0; i < json_array_size(names) && ok; i++)
			if (strcmp(json_string_value(json_array_get(names, i)), f.data) == 0)
				ok = csv_fail(c, "duplicate column name in the header");
		if (ok && json_array_append_new(names, json_stringn(f.data, f.len)) != 0)
			ok = csv_fail(c, "a column name that is not valid UTF-8");
		if (!ok || at_record_end(c))
			break;
		c->pos++;				/* ',' */
	}
	buf_free(&f);
	return ok;
}

static bool
csv_row(Csv *c, json_t *names, json_t *rows)
{
	json_t	   *row = json_object();
	Buf			f;
	bool		is_null;
	bool		ok = true;
	size_t		n = 0;

	buf_init(&f);
	for (;;)
	{
		json_t	   *v;

		if (!(ok = csv_field(c, &f, &is_null)))
			break;
		if (n >= json_array_size(names))
		{
			ok = csv_fail(c, "more fields than the header has columns");
			break;
		}
		v = is_null ? json_null() : json_stringn(f.data, f.len);
		if (v == NULL)
		{
			ok = csv_fail(c, "a value that is not valid UTF-8");
			break;
		}
		json_object_set_new(row, json_string_value(json_array_get(names, n++)), v);
		if (at_record_end(c))
			break;
		c->pos++;				/* ',' */
	}
	if (ok && n < json_array_size(names))
		ok = csv_fail(c, "fewer fields than the header has columns");
	buf_free(&f);
	if (ok)
		json_array_append_new(rows, row);
	else
		json_decref(row);
	return ok;
}

json_t *
body_from_csv(const char *data, size_t len, char *err, size_t errlen)
{
	Csv			c = {data, len, 0, 1, err, errlen};
	json_t	   *names = json_array();
	json_t	   *rows = json_array();
	bool		ok;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		c.pos = 3;				/* a UTF-8 byte order mark, as spreadsheets write */
	if (len == c.pos)
	{
		snprintf(err, errlen, "the CSV body is empty (it needs a header line of column names)");
		ok = false;
	}
	else if (memchr(data, '\0', len) != NULL)
	{
		snprintf(err, errlen, "the CSV body contains a NUL byte");
		ok = false;
	}
	else
		ok = csv_header(&c, names);
	while (ok && csv_next_record(&c))
		ok = csv_row(&c, names, rows);
	if (ok && json_array_size(rows) == 0)
	{
		snprintf(err, errlen, "the CSV body has a header but no rows");
		ok = false;
	}
	json_decref(names);
	if (!ok)
	{
		json_decref(rows);
		return NULL;
	}
	return rows;
}

json_t *
body_from_form(const char *data, size_t len, char *err, size_t errlen)
{
	Arena		a;
	char	   *text;
	QpPair	   *pairs;
	int			npairs;
	QpError		qerr;
	json_t	   *obj = NULL;

	arena_init(&a);
	text = arena_strndup(&a, data, len);
	if (strlen(text) != len)
		snprintf(err, errlen, "the form body contains a NUL byte");
	else if (!qp_decode_pairs(&a, text, &pairs, &npairs, &qerr))
		snprintf(err, errlen, "%s: %s", qerr.message, qerr.details);
	else
	{
		obj = json_object();
		for (const char *p = text; *p;)
		{
			size_t		n = strcspn(p, "&");
			const char *eq = memchr(p, '=', n);

			if (eq == NULL || eq == p)
			{
				snprintf(err, errlen, "the form field \"%.*s\" is not name=value",
						 (int) (n < 100 ? n : 100), p);
				goto bad;
			}
			p += n + (p[n] == '&');
		}
		for (int i = 0; i < npairs; i++)
		{
			json_t	   *v = json_string(pairs[i].value);

			if (json_object_get(obj, pairs[i].key) != NULL)
			{
				json_decref(v);
				snprintf(err, errlen, "the form field \"%.100s\" is given twice", pairs[i].key);
				goto bad;
			}
			if (v == NULL || json_object_set_new(obj, pairs[i].key, v) != 0)
			{
				snprintf(err, errlen, "a form field that is not valid UTF-8");
				goto bad;
			}
		}
		if (npairs == 0)
		{
			snprintf(err, errlen, "the form body has no key=value fields");
			goto bad;
		}
	}
	arena_free(&a);
	return obj;
bad:
	json_decref(obj);
	arena_free(&a);
	return NULL;
}
