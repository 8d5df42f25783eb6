/*
 * rest_internal.h — what the parts of the PostgREST routes share: rest_request.c (headers,
 * body, query string -> a SqlRequest), rest_write.c (writes and their bodies), rest_exec.c (the
 * pipeline and the response) and rest.c (the routes).
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

typedef enum CountPref
{
	COUNT_NONE, COUNT_EXACT, COUNT_PLANNED, COUNT_ESTIMATED
} CountPref;

/* The kinds of preference freight-api applies, in Preference-Applied's order. */
typedef enum PrefKind
{
	PREF_RESOLUTION, PREF_MISSING, PREF_RETURN, PREF_PARAMS, PREF_COUNT, PREF_TX, PREF_HANDLING,
	PREF_TIMEZONE, PREF_MAX_AFFECTED, PREF_KINDS
} PrefKind;

/* The Prefer header (first occurrence of each kind wins). */
typedef struct Prefs
{
	ReturnPref	ret;
	CountPref	count;
	bool		merge_duplicates;
	bool		ignore_duplicates;
	bool		missing_default;	/* missing=default: absent keys get the column DEFAULT */
	bool		strict;			/* handling=strict */
	bool		single_object;	/* params=single-object: the body is an RPC's one json argument */
	const char *timezone;		/* timezone=, a zone of pg_timezone_names; NULL when absent */
	long long	max_affected;	/* max-affected=N with handling=strict; -1 when absent */
	const char *value[PREF_KINDS];	/* the value taken of each kind, NULL when none */
	Buf			invalid;		/* preferences not understood or not applied, ", "-separated */
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
	long long	max_affected;	/* Prefer: max-affected: more rows affected is 400 PGRST124; -1 none */
	const char *timezone;		/* Prefer: timezone=, NULL when absent */
	bool		may_defer;		/* the caller adds nothing to the response afterwards, so it
								 * may be completed later, by the pipelining executor */
	const char *explain;		/* Accept: application/vnd.pgrst.plan: "EXPLAIN (...) " put before
								 * the statement (db-plan-enabled); NULL otherwise */
} Exec;

/* rest_request.c */
/*
 * Fills p (prefs_free it); time zones are checked against sc.  false + 400 PGRST122 with
 * handling=strict and invalid preferences.
 */
bool		rest_parse_prefer(Request *req, const SchemaCache *sc, Prefs *p, ApiError *err);
void		prefs_free(Prefs *p);
/* Preference-Applied from p->value (tx= is added by rest_exec.c once honoured). */
void		rest_preference_applied(Request *req, Response *resp, const Prefs *p);
/*
 * Accept: the shape and ex->ctype of the response, or an execution plan (ex->explain; reads only,
 * with db-plan-enabled).  false + 406 PGRST107 when nothing asked for can be served.
 */
bool		rest_parse_accept(Request *req, bool read, SqlShape *shape, Exec *ex, ApiError *err);

/*
 * The request body by Content-Type (JSON, form-urlencoded, and CSV when allow_csv: one row
 * unless allow_array) as JSON: *text is its JSON text (arena), names the object keys (union,
 * first-seen order).  NULL + err (400 PGRST102, 415 PGRST107) on a bad body.
 */
json_t	   *rest_parse_body(Request *req, bool allow_array, bool allow_csv, const char **text,
							const char ***names, int *nnames, ApiError *err);
bool		rest_prepare(Request *req, Response *resp, const SchemaCache *sc, bool write, Auth *auth,
						 const char **schema, const QpPair **pairs, int *npairs);
bool		rest_parse_query(Request *req, Response *resp, const QpPair *pairs, int npairs,
							 const bool *skip, QpQuery *q);
bool		rest_paging(Request *req, Response *resp, const QpQuery *q, SqlRequest *sr);

/* rest_write.c */
/*
 * POST/PATCH/PUT/DELETE: sr's action, rows and columns, ex's statuses; *body is the decoded body
 * (the caller frees it).  false + err (PGRST102/105/107/204) on a bad write.
 */
bool		rest_setup_write(Request *req, const Prefs *prefs, const QpQuery *q, SqlRequest *sr,
							 Exec *ex, json_t **body, ApiError *err);
/* After a PUT's statement: no row written is 400 PGRST115; the count asked for stays in Content-Range. */
void		rest_put_outcome(Request *req, Response *resp, bool count_wanted);

/* return=headers-only on POST: select the primary keys, then Location from them */
bool		rest_headers_only(Request *req, const Prefs *prefs, SqlRequest *sr, QpQuery *q, Exec *ex);
void		rest_location(Request *req, Response *resp, const ScRelation *rel);

/* rest_exec.c */
/*
 * Runs st and shapes resp.  With ex->may_defer the statement may go to the pipelining executor:
 * the connection is suspended and req->resume completes resp once the results are in.
 */
void		rest_run_statement(Request *req, Response *resp, SqlStatement *st, const Exec *ex);

#endif
