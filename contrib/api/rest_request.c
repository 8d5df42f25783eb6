/*
 * rest_request.c — decoding a PostgREST request: Prefer, Accept, Range, Accept-/Content-Profile,
 * the JSON body, the query string and the paging they imply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "body_decode.h"
#include "rest_internal.h"

/* The Prefer headers, in order, joined with ", ". */
static enum MHD_Result
collect_prefer(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	Buf		   *all = cls;

	(void) kind;
	if (strcasecmp(key, "Prefer") == 0 && value)
		buf_printf(all, "%s%s", all->len ? ", " : "", value);
	return MHD_YES;
}

/* The preferences freight-api applies, by kind (PrefKind order); no values: checked by value_ok. */
static const struct
{
	const char *kind;
	const char *const values[4];
}			known_prefs[PREF_KINDS] =
{
	[PREF_RESOLUTION] = {"resolution", {"merge-duplicates", "ignore-duplicates"}},
	[PREF_MISSING] = {"missing", {"default", "null"}},
	[PREF_RETURN] = {"return", {"minimal", "headers-only", "representation"}},
	[PREF_PARAMS] = {"params", {"single-object"}},
	[PREF_COUNT] = {"count", {"exact", "planned", "estimated"}},
	[PREF_TX] = {"tx", {"commit", "rollback"}},	/* applied (and echoed) by rest_tx.c */
	[PREF_HANDLING] = {"handling", {"lenient", "strict"}},
	[PREF_TIMEZONE] = {"timezone", {NULL}},
	[PREF_MAX_AFFECTED] = {"max-affected", {NULL}},
};

/* The value of kind k as freight-api spells it (static or in the request's arena), or NULL. */
static const char *
value_ok(Request *req, const SchemaCache *sc, PrefKind k, const char *value)
{
	if (k == PREF_TIMEZONE)
		return sc_has_timezone(sc, value) ? arena_strdup(&req->arena, value) : NULL;
	if (k == PREF_MAX_AFFECTED)
		return value[0] && strspn(value, "0123456789") == strlen(value) && strlen(value) <= 18 ?
			arena_strdup(&req->arena, value) : NULL;
	for (int v = 0; v < 4 && known_prefs[k].values[v]; v++)
		if (strcmp(value, known_prefs[k].values[v]) == 0)
			return known_prefs[k].values[v];
	return NULL;
}

static void
apply_pref(Prefs *p, PrefKind k, const char *value)
{
	if (k == PREF_RESOLUTION)
	{
		p->merge_duplicates = strcmp(value, "merge-duplicates") == 0;
		p->ignore_duplicates = !p->merge_duplicates;
	}
	else if (k == PREF_MISSING)
		p->missing_default = strcmp(value, "default") == 0;
	else if (k == PREF_RETURN)
		p->ret = strcmp(value, "minimal") == 0 ? RETURN_MINIMAL :
			strcmp(value, "headers-only") == 0 ? RETURN_HEADERS_ONLY : RETURN_REPRESENTATION;
	else if (k == PREF_PARAMS)
		p->single_object = true;
	else if (k == PREF_COUNT)
		p->count = strcmp(value, "exact") == 0 ? COUNT_EXACT :
			strcmp(value, "planned") == 0 ? COUNT_PLANNED : COUNT_ESTIMATED;
	else if (k == PREF_HANDLING)
		p->strict = strcmp(value, "strict") == 0;
	else if (k == PREF_TIMEZONE)
		p->timezone = value;
	else if (k == PREF_MAX_AFFECTED)
		p->max_affected = atoll(value);
}

/*
 * RFC 7240 tokens kind=value; the first of each kind wins.  Unknown kinds, unknown values and
 * time zones PostgreSQL does not know are ignored, or with handling=strict answered 400
 * PGRST122 (a strict client must not believe they applied).  max-affected applies only with
 * handling=strict, like PostgREST's.
 */
bool
rest_parse_prefer(Request *req, const SchemaCache *sc, Prefs *p, ApiError *err)
{
	Buf			all;
	char	   *save = NULL;

	memset(p, 0, sizeof(*p));
	p->max_affected = -1;
	buf_init(&p->invalid);
	buf_init(&all);
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_prefer, &all);
	for (char *tok = strtok_r(all.data, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *end = tok + strlen(tok);
		char	   *eq;
		bool		valid = false;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		eq = strchr(tok, '=');
		for (int k = 0; k < PREF_KINDS && eq && !valid; k++)
			if (strlen(known_prefs[k].kind) == (size_t) (eq - tok) &&
				strncmp(tok, known_prefs[k].kind, (size_t) (eq - tok)) == 0)
			{
				const char *v = value_ok(req, sc, (PrefKind) k, eq + 1);

				valid = v != NULL;
				if (valid && p->value[k] == NULL)
					p->value[k] = v;
			}
		if (!valid)
			buf_printf(&p->invalid, "%s%s", p->invalid.len ? ", " : "", tok);
	}
	buf_free(&all);
	if (p->value[PREF_HANDLING] == NULL || strcmp(p->value[PREF_HANDLING], "strict") != 0)
		p->value[PREF_MAX_AFFECTED] = NULL;
	for (int k = 0; k < PREF_KINDS; k++)
		if (p->value[k])
			apply_pref(p, (PrefKind) k, p->value[k]);
	if (p->strict && p->invalid.len)
		return api_error(err, 400, "PGRST122", "Invalid preferences given with handling=strict",
						 p->invalid.data, "freight-api applies resolution, missing, return, params, count, tx, "
						 "handling, timezone (a name of pg_timezone_names) and max-affected (an integer).");
	return true;
}

void
prefs_free(Prefs *p)
{
	buf_free(&p->invalid);
}

void
rest_preference_applied(Request *req, Response *resp, const Prefs *p)
{
	Buf			b;

	buf_init(&b);
	for (int k = 0; k < PREF_KINDS; k++)
		if (p->value[k] && k != PREF_TX)
			buf_printf(&b, "%s%s=%s", b.len ? ", " : "", known_prefs[k].kind, p->value[k]);
	if (b.len)
		response_header(req, resp, "Preference-Applied", arena_strndup(&req->arena, b.data, b.len));
	buf_free(&b);
}

/* Accept -> shape; false for media types we cannot produce (406). */
/*
 * Accept: application/vnd.pgrst.plan[+json|+text][; options=analyze|verbose|settings|buffers|wal]
 * (PostgREST's syntax) into ex->explain.  Only reads: ANALYZE runs the statement, and a write's
 * would change data.
 */
static bool
parse_plan(Request *req, const char *accept, bool read, Exec *ex, ApiError *err)
{
	static const char *const allowed[] = {"analyze", "verbose", "settings", "buffers", "wal"};
	bool		text = strstr(accept, "application/vnd.pgrst.plan+text") != NULL;
	const char *opt = strstr(accept, "options=");
	Buf			b;

	if (!server.cfg.db_plan_enabled)
		return api_error(err, 406, "PGRST107", "None of these media types are available", accept,
						 "Execution plans are served only with db-plan-enabled.");
	if (!read)
		return api_error(err, 406, "PGRST107", "None of these media types are available", accept,
						 "Execution plans are served for reads (GET, HEAD) only.");
	buf_init(&b);
	buf_puts(&b, text ? "EXPLAIN (FORMAT TEXT" : "EXPLAIN (FORMAT JSON");
	for (opt = opt ? opt + 8 : NULL; opt && *opt && *opt != ';' && *opt != ',';)
	{
		size_t		n = strcspn(opt, "|;, ");
		bool		known = false;

		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (n == strlen(allowed[i]) && strncmp(opt, allowed[i], n) == 0)
			{
				buf_printf(&b, ", %s", allowed[i]);
				known = true;
			}
		if (!known)
		{
			buf_free(&b);
			return api_error(err, 406, "PGRST107", "None of these media types are available", accept,
							 "Plan options are analyze, verbose, settings, buffers and wal, joined by |.");
		}
		opt += n;
		opt += *opt == '|';
	}
	buf_puts(&b, ") ");
	ex->explain = arena_strdup(&req->arena, b.data);
	ex->ctype = text ? "application/vnd.pgrst.plan+text; charset=utf-8" :
		"application/vnd.pgrst.plan+json; charset=utf-8";
	buf_free(&b);
	return true;
}

bool
rest_parse_accept(Request *req, bool read, SqlShape *shape, Exec *ex, ApiError *err)
{
	const char *h = request_header(req, "Accept");

	*shape = SHAPE_ARRAY;
	ex->ctype = "application/json; charset=utf-8";
	if (h == NULL || h[0] == '\0')
		return true;
	if (strstr(h, "application/vnd.pgrst.plan"))
		return parse_plan(req, h, read, ex, err);
	if (strstr(h, "application/vnd.pgrst.object"))
	{
		*shape = SHAPE_OBJECT;
		ex->ctype = "application/vnd.pgrst.object+json; charset=utf-8";
		return true;
	}
	if (strstr(h, "text/csv"))
	{
		*shape = SHAPE_CSV;
		ex->ctype = "text/csv; charset=utf-8";
		return true;
	}
	if (strstr(h, "application/json") || strstr(h, "*/*") ||
		strstr(h, "application/vnd.pgrst.array") || strstr(h, "application/*"))
		return true;
	return api_error(err, 406, "PGRST107", "None of these media types are available", h, NULL);
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

typedef enum BodyType
{
	BODY_JSON, BODY_CSV, BODY_FORM, BODY_OTHER
} BodyType;

static BodyType
body_type(const char *ct)
{
	if (ct == NULL || strncasecmp(ct, "application/json", 16) == 0)
		return BODY_JSON;
	if (strncasecmp(ct, "text/csv", 8) == 0)
		return BODY_CSV;
	if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return BODY_FORM;
	return BODY_OTHER;
}

/* Adds the keys of object o not yet in names. */
static void
collect_keys(Request *req, json_t *o, const char ***names, int *nnames, int *cap)
{
	const char *key;
	json_t	   *v;

	json_object_foreach(o, key, v)
	{
		bool		seen = false;

		for (int k = 0; k < *nnames && !seen; k++)
			seen = strcmp((*names)[k], key) == 0;
		if (!seen)
			*(const char **) arena_push(&req->arena, (void **) names, nnames, cap,
										sizeof(char *)) = arena_strdup(&req->arena, key);
	}
}

/* The body decoded by its media type; NULL + err. */
static json_t *
decode_body(Request *req, bool allow_csv, const char **text, ApiError *err)
{
	const char *ct = request_header(req, "Content-Type");
	BodyType	type = body_type(ct);
	json_error_t jerr;
	json_t	   *root = NULL;
	char		det[300];

	if (type == BODY_OTHER || (type == BODY_CSV && !allow_csv))
	{
		api_error(err, 415, "PGRST107", allow_csv ?
				  "Content-Type must be application/json, text/csv or application/x-www-form-urlencoded" :
				  "Content-Type must be application/json or application/x-www-form-urlencoded", ct, NULL);
		return NULL;
	}
	if (type == BODY_JSON)
	{
		root = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL)
		{
			snprintf(det, sizeof(det), "%s at line %d, column %d", jerr.text, jerr.line, jerr.column);
			api_error(err, 400, "PGRST102", "Empty or invalid json", det, NULL);
			return NULL;
		}
		*text = arena_strndup(&req->arena, req->body.data, req->body.len);
		return root;
	}
	root = type == BODY_CSV ? body_from_csv(req->body.data, req->body.len, det, sizeof(det))
		: body_from_form(req->body.data, req->body.len, det, sizeof(det));
	if (root == NULL)
	{
		api_error(err, 400, "PGRST102", type == BODY_CSV ? "Invalid CSV body" : "Invalid form body",
				  det, NULL);
		return NULL;
	}
	{
		char	   *dumped = json_dumps(root, JSON_COMPACT);

		*text = arena_strdup(&req->arena, dumped);
		free(dumped);
	}
	return root;
}

json_t *
rest_parse_body(Request *req, bool allow_array, bool allow_csv, const char **text,
				const char ***names, int *nnames, ApiError *err)
{
	json_t	   *root;
	int			cap = 0;
	size_t		idx;
	json_t	   *obj;

	*names = NULL;
	*nnames = 0;
	root = decode_body(req, allow_csv, text, err);
	if (root == NULL)
		return NULL;
	if (!allow_array && json_is_array(root) && body_type(request_header(req, "Content-Type")) == BODY_CSV)
	{
		/* one CSV row for PATCH and PUT */
		json_t	   *row = json_incref(json_array_get(root, 0));
		char	   *dumped;

		if (json_array_size(root) != 1)
		{
			json_decref(row);
			json_decref(root);
			api_error(err, 400, "PGRST102", "Invalid CSV body", "this request takes exactly one row", NULL);
			return NULL;
		}
		json_decref(root);
		root = row;
		dumped = json_dumps(root, JSON_COMPACT);
		*text = arena_strdup(&req->arena, dumped);
		free(dumped);
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
	if (json_is_array(root))
		json_array_foreach(root, idx, obj)
			collect_keys(req, obj, names, nnames, &cap);
	else
		collect_keys(req, root, names, nnames, &cap);
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
	request_stage_done(req, STAGE_AUTH);
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
