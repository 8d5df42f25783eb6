/*
 * rest_request.c — decoding a PostgREST request: Prefer, Accept, Range, Accept-/Content-Profile,
 * the JSON body, the query string and the paging they imply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rest_internal.h"

void
rest_parse_prefer(Request *req, Prefs *p, Buf *applied)
{
	const char *h = request_header(req, "Prefer");
	char	   *copy, *save = NULL;

	memset(p, 0, sizeof(*p));
	if (h == NULL)
		return;
	copy = arena_strdup(&req->arena, h);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		bool		known = true;

		while (*tok == ' ')
			tok++;
		if (strcmp(tok, "return=minimal") == 0)
			p->ret = RETURN_MINIMAL;
		else if (strcmp(tok, "return=representation") == 0)
			p->ret = RETURN_REPRESENTATION;
		else if (strcmp(tok, "return=headers-only") == 0)
			p->ret = RETURN_HEADERS_ONLY;
		else if (strncmp(tok, "count=", 6) == 0)
			p->count = true;	/* exact; planned and estimated are answered exactly too */
		else if (strcmp(tok, "resolution=merge-duplicates") == 0)
			p->merge_duplicates = true;
		else if (strcmp(tok, "resolution=ignore-duplicates") == 0)
			p->ignore_duplicates = true;
		else
			known = false;
		if (known)
			buf_printf(applied, "%s%s", applied->len ? ", " : "", tok);
	}
}

/* Accept -> shape; false for media types we cannot produce (406). */
bool
rest_parse_accept(Request *req, SqlShape *shape, const char **ctype)
{
	const char *h = request_header(req, "Accept");

	*shape = SHAPE_ARRAY;
	*ctype = "application/json; charset=utf-8";
	if (h == NULL || h[0] == '\0')
		return true;
	if (strstr(h, "application/vnd.pgrst.object"))
	{
		*shape = SHAPE_OBJECT;
		*ctype = "application/vnd.pgrst.object+json; charset=utf-8";
		return true;
	}
	if (strstr(h, "text/csv"))
	{
		*shape = SHAPE_CSV;
		*ctype = "text/csv; charset=utf-8";
		return true;
	}
	return strstr(h, "application/json") || strstr(h, "*/*") ||
		strstr(h, "application/vnd.pgrst.array") || strstr(h, "application/*");
}

/* Range: 0-24 -> offset/limit (-1 when absent); false when malformed. */
static bool
parse_range(Request *req, long long *offset, long long *limit)
{
	const char *h = request_header(req, "Range");
	long long	first, last = -1;
	int			n;
	char		tail;

	*offset = -1;
	*limit = -1;
	if (h == NULL)
		return true;
	if (strncmp(h, "items=", 6) == 0)
		h += 6;
	n = sscanf(h, "%lld-%lld%c", &first, &last, &tail);
	if (n == 1 && h[strlen(h) - 1] == '-')
		last = -1;
	else if (n != 2)
		return false;
	if (first < 0 || (last >= 0 && last < first))
		return false;
	*offset = first;
	if (last >= 0)
		*limit = last - first + 1;
	return true;
}

/* The schema from Accept-Profile / Content-Profile, else the first exposed one. */
static const char *
pick_schema(Request *req, bool write, ApiError *err)
{
	const char *h = request_header(req, write ? "Content-Profile" : "Accept-Profile");

	if (h == NULL)
		return server.schemas[0];
	for (int i = 0; i < server.nschemas; i++)
		if (strcmp(server.schemas[i], h) == 0)
			return server.schemas[i];
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "The schema must be one of the following: %s", server.cfg.db_schemas);
		api_error(err, 406, "PGRST106", msg, NULL, NULL);
	}
	return NULL;
}

static bool
require_json_body(Request *req, ApiError *err)
{
	const char *ct = request_header(req, "Content-Type");

	if (ct && strncasecmp(ct, "application/json", 16) != 0)
		return api_error(err, 415, "PGRST107", "Content-Type must be application/json", ct, NULL);
	return true;
}

/* Parses the JSON body; collects object keys (union, first-seen order) into names. */
json_t *
rest_parse_body(Request *req, bool allow_array, const char ***names, int *nnames, ApiError *err)
{
	json_error_t jerr;
	json_t	   *root;
	int			cap = 0;
	size_t		idx;
	json_t	   *obj;

	*names = NULL;
	*nnames = 0;
	if (!require_json_body(req, err))
		return NULL;
	root = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
	{
		char		det[300];

		snprintf(det, sizeof(det), "%s at line %d, column %d", jerr.text, jerr.line, jerr.column);
		api_error(err, 400, "PGRST102", "Empty or invalid json", det, NULL);
		return NULL;
	}
	if (!(json_is_object(root) || (allow_array && json_is_array(root))))
	{
		json_decref(root);
		api_error(err, 400, "PGRST102", allow_array ? "Expected a JSON object or an array of objects"
				  : "Expected a JSON object", NULL, NULL);
		return NULL;
	}
	json_array_foreach(json_is_array(root) ? root : NULL, idx, obj)
		if (!json_is_object(obj))
		{
			json_decref(root);
			api_error(err, 400, "PGRST102", "All array elements must be JSON objects", NULL, NULL);
			return NULL;
		}
	for (size_t i = 0; i < (json_is_array(root) ? json_array_size(root) : 1); i++)
	{
		json_t	   *o = json_is_array(root) ? json_array_get(root, i) : root;
		const char *key;
		json_t	   *v;

		json_object_foreach(o, key, v)
		{
			bool		seen = false;

			for (int k = 0; k < *nnames && !seen; k++)
				seen = strcmp((*names)[k], key) == 0;
			if (!seen)
				*(const char **) arena_push(&req->arena, (void **) names, nnames, &cap,
											sizeof(char *)) = arena_strdup(&req->arena, key);
		}
	}
	return root;
}

/* Common front half: auth, schema, parse.  Returns false after filling resp with the error. */
bool
rest_prepare(Request *req, Response *resp, const SchemaCache *sc, bool write, Auth *auth,
		const char **schema, const QpPair **pairs, int *npairs)
{
	ApiError	err;
	QpError		qerr;
	QpPair	   *p;

	if (!auth_request(req, sc, auth, &err) || (*schema = pick_schema(req, write, &err)) == NULL)
	{
		response_error(req, resp, &err);
		auth_rate_headers(req, resp, auth, req->retry_after);
		return false;
	}
	auth_rate_headers(req, resp, auth, NULL);
	req->role = auth->role;
	if (!qp_decode_pairs(&req->arena, req->query, &p, npairs, &qerr))
	{
		api_error(&err, 400, "PGRST100", qerr.message, qerr.details, NULL);
		response_error(req, resp, &err);
		return false;
	}
	*pairs = p;
	return true;
}

bool
rest_parse_query(Request *req, Response *resp, const QpPair *pairs, int npairs, const bool *skip,
			QpQuery *q)
{
	QpError		qerr;
	ApiError	err;

	if (qp_parse(&req->arena, pairs, npairs, skip, q, &qerr))
		return true;
	api_error(&err, 400, "PGRST100", qerr.message, qerr.details, NULL);
	response_error(req, resp, &err);
	return false;
}

/* Merges offset=/limit=, the Range header and db-max-rows into sr. */
bool
rest_paging(Request *req, Response *resp, const QpQuery *q, SqlRequest *sr)
{
	long long	roff, rlim;
	ApiError	err;

	sr->offset = 0;
	sr->limit = -1;
	if (!parse_range(req, &roff, &rlim))
	{
		api_error(&err, 416, "PGRST103", "Requested range not satisfiable", "bad Range header", NULL);
		response_error(req, resp, &err);
		return false;
	}
	for (int i = 0; i < q->nlimits; i++)
		if (q->limits[i].path[0] == '\0')
			sr->limit = q->limits[i].value;
	for (int i = 0; i < q->noffsets; i++)
		if (q->offsets[i].path[0] == '\0')
			sr->offset = q->offsets[i].value;
	if (roff >= 0)
	{
		sr->offset += roff;
		if (rlim >= 0 && (sr->limit < 0 || rlim < sr->limit))
			sr->limit = rlim;
	}
	if (server.cfg.db_max_rows > 0 && (sr->limit < 0 || sr->limit > server.cfg.db_max_rows))
		sr->limit = server.cfg.db_max_rows;
	return true;
}
