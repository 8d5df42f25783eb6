/*
 * rest_write.c — decoding a write on a relation: the action and statuses of POST, PATCH, PUT
 * and DELETE, PUT's primary-key rules, the body as rows and columns, Prefer: missing=default
 * (row groups for INSERT, DEFAULT columns for PATCH) and return=headers-only (Location).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rest_internal.h"

/* PUT: the filters must be one eq per primary-key column and nothing else (405 PGRST105). */
static bool
check_put_filters(const ScRelation *rel, const QpQuery *q, ApiError *err)
{
	bool		ok = rel->npk > 0 && q->nfilters == rel->npk;

	for (int i = 0; i < q->nfilters && ok; i++)
	{
		const QpCond *cond = q->filters[i].cond;
		bool		is_pk = false;

		ok = q->filters[i].path[0] == '\0' && cond->kind == QP_LEAF && !cond->negate &&
			cond->op == QP_EQ && cond->quant == QP_QUANT_NONE && cond->field.njson == 0;
		for (int k = 0; k < rel->npk && ok && !is_pk; k++)
			is_pk = strcmp(rel->pk[k], cond->field.name) == 0;
		for (int j = 0; j < i && ok && is_pk; j++)
			is_pk = strcmp(q->filters[j].cond->field.name, cond->field.name) != 0;
		ok = ok && is_pk;
	}
	if (ok)
		return true;
	return api_error(err, 405, "PGRST105",
					 "Filters must include all and only primary key columns with 'eq' operators",
					 rel->npk ? NULL : "the relation has no primary key",
					 "PUT /relation?pk=eq.value with the whole row, including the key, as the body.");
}

/* missing=default: at most this many different column sets (one INSERT each) per request */
#define MAX_ROW_GROUPS 16

/*
 * missing=default for an INSERT: the rows grouped by which of cols they have, so each group's
 * INSERT leaves the others to their DEFAULT.  400 PGRST102 beyond MAX_ROW_GROUPS sets.
 */
static bool
group_rows(Request *req, json_t *body, const char *const *cols, int ncols, SqlRequest *sr,
		   ApiError *err)
{
	size_t		nrows = json_is_array(body) ? json_array_size(body) : 1;
	SqlRowGroup *groups = arena_alloc(&req->arena, sizeof(SqlRowGroup) * MAX_ROW_GROUPS);
	char	   *patterns[MAX_ROW_GROUPS];	/* 'y'/'n' per column: which keys the group has */
	json_t	   *members[MAX_ROW_GROUPS];
	char	   *pattern = arena_alloc(&req->arena, (size_t) ncols + 1);
	int			ngroups = 0;
	bool		ok = true;

	for (size_t r = 0; r < nrows && ok; r++)
	{
		json_t	   *row = json_is_array(body) ? json_array_get(body, r) : body;
		int			g;

		for (int c = 0; c < ncols; c++)
			pattern[c] = json_object_get(row, cols[c]) ? 'y' : 'n';
		for (g = 0; g < ngroups && strcmp(pattern, patterns[g]) != 0; g++)
			;
		if (g == MAX_ROW_GROUPS)
		{
			ok = api_error(err, 400, "PGRST102", "Too many different sets of keys with missing=default",
						   "at most 16 per request", "Send rows with the same keys together, in several requests.");
			break;
		}
		if (g == ngroups)
		{
			const char **gcols = arena_alloc(&req->arena, sizeof(char *) * (size_t) (ncols + 1));

			patterns[g] = arena_strdup(&req->arena, pattern);
			groups[g].cols = gcols;
			for (int c = 0; c < ncols; c++)
				if (pattern[c] == 'y')
					gcols[groups[g].ncols++] = cols[c];
			members[g] = json_array();
			ngroups++;
		}
		json_array_append(members[g], row);
	}
	for (int g = 0; g < ngroups; g++)
	{
		char	   *text = json_dumps(members[g], JSON_COMPACT);

		groups[g].rows = arena_strdup(&req->arena, text);
		free(text);
		json_decref(members[g]);
	}
	sr->groups = groups;
	sr->ngroups = ngroups;
	return ok;
}

/* missing=default for PATCH: columns= names absent from the body are SET to DEFAULT. */
static void
split_default_cols(Request *req, json_t *body, const QpQuery *q, SqlRequest *sr)
{
	const char **present = arena_alloc(&req->arena, sizeof(char *) * (size_t) (q->ncolumns + 1));
	const char **absent = arena_alloc(&req->arena, sizeof(char *) * (size_t) (q->ncolumns + 1));
	int			np = 0, na = 0;

	for (int i = 0; i < q->ncolumns; i++)
	{
		if (json_object_get(body, q->columns[i]))
			present[np++] = q->columns[i];
		else
			absent[na++] = q->columns[i];
	}
	sr->body_cols = present;
	sr->nbody_cols = np;
	sr->default_cols = absent;
	sr->ndefault_cols = na;
}

/*
 * POST/PATCH/PUT/DELETE: the action, the statuses, and the body (JSON, CSV or form; an object
 * becomes a one-row array for INSERT and PUT; its keys, or columns=, are the columns written).
 * *body is for the caller to free.
 */
bool
rest_setup_write(Request *req, const Prefs *prefs, const QpQuery *q, SqlRequest *sr, Exec *ex,
				 json_t **body, ApiError *err)
{
	const char **cols = NULL;
	int			ncols = 0;
	const char *text;
	bool		post = strcmp(req->method, "POST") == 0;
	bool		put = strcmp(req->method, "PUT") == 0;

	ex->write = true;
	ex->body_wanted = prefs->ret == RETURN_REPRESENTATION;
	ex->ok_status = post ? 201 : (ex->body_wanted ? 200 : 204);
	sr->action = post ? SQL_INSERT : put ? SQL_PUT :
		strcmp(req->method, "PATCH") == 0 ? SQL_UPDATE : SQL_DELETE;
	sr->upsert = prefs->merge_duplicates;
	sr->ignore_duplicates = prefs->ignore_duplicates && !put;
	if (!ex->body_wanted)
		sr->shape = SHAPE_NONE;
	if (put && !check_put_filters(sr->rel, q, err))
		return false;
	if (sr->action == SQL_DELETE)
		return true;
	*body = rest_parse_body(req, sr->action == SQL_INSERT, true, &text, &cols, &ncols, err);
	if (*body == NULL)
		return false;
	sr->body_cols = q->ncolumns > 0 ? q->columns : cols;
	sr->nbody_cols = q->ncolumns > 0 ? q->ncolumns : ncols;
	if (json_is_object(*body) && sr->action != SQL_UPDATE)
	{
		size_t		n = strlen(text);
		char	   *wrapped = arena_alloc(&req->arena, n + 3);

		wrapped[0] = '[';
		memcpy(wrapped + 1, text, n);
		wrapped[n + 1] = ']';
		text = wrapped;
	}
	sr->body = text;
	if (prefs->missing_default && sr->action == SQL_INSERT)
		return group_rows(req, *body, sr->body_cols, sr->nbody_cols, sr, err);
	if (prefs->missing_default && sr->action == SQL_UPDATE && q->ncolumns > 0)
		split_default_cols(req, *body, q, sr);
	return true;
}

/*
 * After a PUT: the statement counted the rows it wrote (the total of Content-Range).  None: the body
 * row did not match the URL's key, so nothing was written: 400 PGRST115 as PostgREST answers.
 */
void
rest_put_outcome(Request *req, Response *resp, bool count_wanted)
{
	ApiError	err;

	for (int i = 0; i < resp->nheaders; i++)
	{
		if (strcasecmp(resp->headers[i].name, "Content-Range") != 0)
			continue;
		if (resp->status < 300 && strcmp(resp->headers[i].value, "*/0") == 0)
		{
			resp->headers[i] = resp->headers[--resp->nheaders];
			api_error(&err, 400, "PGRST115", "Payload values do not match URL in primary key column(s)",
					  NULL, "Give the same primary-key values in the body and in the eq filters.");
			response_error(req, resp, &err);
		}
		else if (!count_wanted)
			resp->headers[i].value = "*/*";
		return;
	}
}

/*
 * Prefer: return=headers-only on a POST to a relation with a primary key: the statement returns
 * the keys of the inserted rows (instead of select=) for rest_location.  False when it does not
 * apply.
 */
bool
rest_headers_only(Request *req, const Prefs *prefs, SqlRequest *sr, QpQuery *q, Exec *ex)
{
	QpSelect   *sel;

	if (prefs->ret != RETURN_HEADERS_ONLY || sr->action != SQL_INSERT || sr->rel->npk == 0)
		return false;
	sel = arena_alloc(&req->arena, sizeof(QpSelect));
	sel->items = arena_alloc(&req->arena, sizeof(QpSelectItem) * (size_t) sr->rel->npk);
	for (int i = 0; i < sr->rel->npk; i++)
	{
		sel->items[i].kind = QP_SEL_FIELD;
		sel->items[i].field.name = sr->rel->pk[i];
	}
	sel->nitems = sel->cap = sr->rel->npk;
	q->select = sel;
	sr->shape = SHAPE_ARRAY;
	ex->body_wanted = true;
	ex->ctype = "application/json; charset=utf-8";
	return true;
}

static void
percent_encode(Buf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char ch = (unsigned char) *s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			strchr("-._~", ch))
			buf_putc(b, (char) ch);
		else
			buf_printf(b, "%%%02X", ch);
	}
}

/*
 * After a headers-only POST: Location: /<relation>?pk=eq.<value>... when exactly one row was
 * inserted (PostgREST's rule); the keys in the body are dropped either way.
 */
void
rest_location(Request *req, Response *resp, const ScRelation *rel)
{
	json_t	   *rows;
	json_t	   *row;
	Buf			loc;

	if (resp->status >= 300)
		return;
	rows = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	row = json_array_size(rows) == 1 ? json_array_get(rows, 0) : NULL;
	buf_init(&loc);
	buf_putc(&loc, '/');
	percent_encode(&loc, rel->name);
	for (int i = 0; row && i < rel->npk; i++)
	{
		json_t	   *v = json_object_get(row, rel->pk[i]);
		char	   *text = json_is_string(v) ? xstrdup(json_string_value(v)) :
			json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		buf_putc(&loc, i ? '&' : '?');
		percent_encode(&loc, rel->pk[i]);
		buf_puts(&loc, "=eq.");
		percent_encode(&loc, text ? text : "");
		free(text);
	}
	if (row)
		response_header(req, resp, "Location", arena_strdup(&req->arena, loc.data));
	buf_free(&loc);
	json_decref(rows);
	buf_reset(&resp->body);
	resp->content_type = NULL;
	resp->status = 201;
}
