/*
 * sql_build.c — one parameterised SQL statement per request (see sql_build.h).
 *
 * Shape of a read (PostgREST's, so output matches json_agg of the rows):
 *   SELECT <total>, count(*), coalesce(json_agg(_t), '[]')::text
 *   FROM (SELECT <select list> FROM "schema"."rel" t WHERE ... ORDER BY ... LIMIT $n OFFSET $m) _t
 * Writes put the INSERT/UPDATE/DELETE ... RETURNING t.* in a CTE "src" and read from it.
 * Embeds are correlated subqueries in the select list: to-one -> row_to_json, to-many ->
 * json_agg, so the whole response is one statement and one round trip.
 */
#include "sql_build.h"

#include <stdio.h>
#include <string.h>

#include "sql_build_internal.h"

static void
body_expr(Buf *b, SqlShape shape)
{
	switch (shape)
	{
		case SHAPE_ARRAY:
			buf_puts(b, "coalesce(json_agg(_t), '[]')::text");
			break;
		case SHAPE_OBJECT:
			buf_puts(b, "(json_agg(_t) -> 0)::text");
			break;
		case SHAPE_CSV:
			buf_puts(b, "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_t) -> 0) k)"
					 " || E'\\n', '') || coalesce(string_agg(substr(_t::text, 2, length(_t::text) - 2),"
					 " E'\\n'), '')");
			break;
		case SHAPE_NONE:
			buf_puts(b, "NULL::text");
			break;
	}
}

static bool
check_unused(Ctx *c)
{
	const QpQuery *q = c->req->q;
	const char *path = NULL;

	for (int i = 0; i < q->nfilters && !path; i++)
		if (!c->filter_used[i])
			path = q->filters[i].path;
	for (int i = 0; i < q->norders && !path; i++)
		if (!c->order_used[i])
			path = q->orders[i].path;
	for (int i = 0; i < q->nlimits && !path; i++)
		if (!c->limit_used[i])
			path = q->limits[i].path;
	for (int i = 0; i < q->noffsets && !path; i++)
		if (!c->offset_used[i])
			path = q->offsets[i].path;
	if (path)
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "'%s' is not an embedded resource in this request", path);
		return api_error(c->err, 400, "PGRST108", msg, NULL,
						 "Verify that it is included in the select query parameter.");
	}
	return true;
}

static void
top_page(Ctx *c, Buf *b)
{
	if (c->req->limit >= 0)
	{
		buf_puts(b, " LIMIT ");
		sb_param_int(c, b, c->req->limit);
	}
	if (c->req->offset > 0)
	{
		buf_puts(b, " OFFSET ");
		sb_param_int(c, b, c->req->offset);
	}
}

/* Marks top-level limit/offset as used: the caller merged them into req->limit/offset. */
static void
use_top_page(Ctx *c)
{
	for (int i = 0; i < c->req->q->nlimits; i++)
		if (c->req->q->limits[i].path[0] == '\0')
			c->limit_used[i] = true;
	for (int i = 0; i < c->req->q->noffsets; i++)
		if (c->req->q->offsets[i].path[0] == '\0')
			c->offset_used[i] = true;
}

static bool
build_read(Ctx *c)
{
	const SqlRequest *r = c->req;
	Buf		   *sql = &c->st->sql;
	Buf			cols, where, group, tail;
	bool		ok;

	buf_init(&cols);
	buf_init(&where);
	buf_init(&group);
	buf_init(&tail);
	buf_puts(&where, " WHERE TRUE");
	ok = sb_select_list(c, &cols, &where, &group, r->rel, "t", r->q->select, "") &&
		sb_filters_for_path(c, &where, r->rel, "t", r->q->select, "") &&
		sb_order_for_path(c, &tail, r->rel, "t", "");
	use_top_page(c);
	if (ok && r->plan_count)
	{
		/* the planner's estimate of the filtered rows (count=planned), read by the caller */
		buf_printf(sql, "EXPLAIN (FORMAT JSON) SELECT %s FROM ", cols.data);
		sb_qualified(sql, r->rel->schema, r->rel->name);
		buf_printf(sql, " t%s%s", where.data, group.data);
		buf_free(&cols);
		buf_free(&where);
		buf_free(&group);
		buf_free(&tail);
		return true;
	}
	top_page(c, &tail);
	if (ok)
	{
		buf_puts(sql, "SELECT ");
		if (r->has_known_total)
		{
			sb_param_int(c, sql, r->known_total);
			buf_puts(sql, "::bigint");
		}
		else if (r->count_exact)
		{
			/* with GROUP BY the total counts the groups */
			buf_puts(sql, group.len ? "(SELECT count(*) FROM (SELECT 1 FROM " : "(SELECT count(*) FROM ");
			sb_qualified(sql, r->rel->schema, r->rel->name);
			buf_printf(sql, " t%s%s)%s", where.data, group.data, group.len ? " _g)" : "");
		}
		else
			buf_puts(sql, "NULL::bigint");
		buf_puts(sql, ", count(*), ");
		body_expr(sql, r->shape);
		buf_printf(sql, " FROM (SELECT %s FROM ", cols.data);
		sb_qualified(sql, r->rel->schema, r->rel->name);
		buf_printf(sql, " t%s%s%s) _t", where.data, group.data, tail.data);
	}
	buf_free(&cols);
	buf_free(&where);
	buf_free(&group);
	buf_free(&tail);
	return ok;
}

static bool
check_cols(Ctx *c, const char *const *cols, int n)
{
	for (int i = 0; i < n; i++)
		if (!sc_find_column(c->req->rel, cols[i]))
		{
			char		msg[400];

			snprintf(msg, sizeof(msg), "Could not find the '%s' column of '%s' in the schema cache",
					 cols[i], c->req->rel->name);
			return api_error(c->err, 400, "PGRST204", msg, NULL, NULL);
		}
	return true;
}

static bool
check_body_cols(Ctx *c)
{
	const SqlRequest *r = c->req;

	for (int g = 0; g < r->ngroups; g++)
		if (!check_cols(c, r->groups[g].cols, r->groups[g].ncols))
			return false;
	return check_cols(c, r->body_cols, r->nbody_cols) &&
		check_cols(c, r->default_cols, r->ndefault_cols);
}

static void
ident_list(Buf *b, const char *const *names, int n, const char *prefix)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		buf_puts(b, prefix);
		buf_ident(b, names[i]);
	}
}

/* " ON CONFLICT (target) DO NOTHING | DO UPDATE SET c = EXCLUDED.c, ..." */
static bool
on_conflict(Ctx *c, Buf *b, const char *const *cols, int ncols)
{
	const SqlRequest *r = c->req;
	const char *const *target = r->q->on_conflict;
	int			ntarget = r->q->non_conflict;

	if (ntarget == 0 || r->action == SQL_PUT)
	{
		target = (const char *const *) r->rel->pk;
		ntarget = r->rel->npk;
	}
	if (ntarget == 0)
		return api_error(c->err, 400, "PGRST100",
						 "an upsert needs a primary key or on_conflict= columns", NULL,
						 "Add on_conflict=col1,col2 naming a unique constraint's columns.");
	for (int i = 0; i < ntarget; i++)
		if (!sc_find_column(r->rel, target[i]))
			return sb_unknown_column(c, r->rel, target[i]);
	buf_puts(b, " ON CONFLICT (");
	ident_list(b, target, ntarget, "");
	buf_puts(b, ")");
	if (r->ignore_duplicates)
	{
		buf_puts(b, " DO NOTHING");
		return true;
	}
	buf_puts(b, " DO UPDATE SET ");
	for (int i = 0; i < ncols; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		buf_ident(b, cols[i]);
		buf_puts(b, " = EXCLUDED.");
		buf_ident(b, cols[i]);
	}
	return true;
}

/*
 * INSERT INTO rel AS t (cols) SELECT _b.cols FROM json_populate_recordset(NULL::rel, $n) _b
 * [WHERE <pk filters on _b> (PUT)] [ON CONFLICT ...] RETURNING t.*
 */
static bool
insert_sql(Ctx *c, Buf *b, const char *const *cols, int ncols, const char *rows)
{
	const SqlRequest *r = c->req;

	buf_puts(b, "INSERT INTO ");
	sb_qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, " AS t (");
	ident_list(b, cols, ncols, "");
	buf_puts(b, ") SELECT ");
	ident_list(b, cols, ncols, "_b.");
	buf_puts(b, " FROM json_populate_recordset(NULL::");
	sb_qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, ", ");
	sb_param(c, b, rows);
	buf_puts(b, "::json) _b");
	if (r->action == SQL_PUT)
	{
		buf_puts(b, " WHERE TRUE");
		if (!sb_filters_for_path(c, b, r->rel, "_b", NULL, ""))
			return false;
	}
	if ((r->upsert || r->ignore_duplicates || r->action == SQL_PUT) && !on_conflict(c, b, cols, ncols))
		return false;
	buf_puts(b, " RETURNING t.*");
	return true;
}

/* src AS (INSERT ...), or with row groups _i1 AS (...), ..., src AS (SELECT * FROM _i1 UNION ALL ...) */
static bool
build_insert_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;

	if (r->ngroups == 0)
	{
		if (r->nbody_cols == 0)
			return api_error(c->err, 400, "PGRST102", "Empty or invalid json", NULL,
							 "Send a JSON object or a non-empty array of objects.");
		buf_puts(b, "src AS (");
		if (!insert_sql(c, b, r->body_cols, r->nbody_cols, r->body))
			return false;
		buf_putc(b, ')');
		return true;
	}
	for (int g = 0; g < r->ngroups; g++)
	{
		if (r->groups[g].ncols == 0)
			return api_error(c->err, 400, "PGRST102", "Empty or invalid json",
							 "a row without any of the inserted columns",
							 "Give each row at least one column.");
		buf_printf(b, "_i%d AS (", g + 1);
		if (!insert_sql(c, b, r->groups[g].cols, r->groups[g].ncols, r->groups[g].rows))
			return false;
		buf_puts(b, "), ");
	}
	buf_puts(b, "src AS (");
	for (int g = 0; g < r->ngroups; g++)
		buf_printf(b, "%sSELECT * FROM _i%d", g ? " UNION ALL " : "", g + 1);
	buf_putc(b, ')');
	return true;
}

static bool
build_update_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;
	Buf			where;
	bool		ok;

	if (r->nbody_cols == 0 && r->ndefault_cols == 0)
		return api_error(c->err, 400, "PGRST102", "Empty or invalid json", NULL,
						 "Send a JSON object with the columns to set.");
	buf_puts(b, "src AS (UPDATE ");
	sb_qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, " AS t SET ");
	if (r->nbody_cols > 0)
	{
		buf_putc(b, '(');
		ident_list(b, r->body_cols, r->nbody_cols, "");
		buf_puts(b, ") = (SELECT ");
		ident_list(b, r->body_cols, r->nbody_cols, "_b.");
		buf_puts(b, " FROM json_populate_record(NULL::");
		sb_qualified(b, r->rel->schema, r->rel->name);
		buf_puts(b, ", ");
		sb_param(c, b, r->body);
		buf_puts(b, "::json) _b)");
	}
	for (int i = 0; i < r->ndefault_cols; i++)
	{
		buf_puts(b, i > 0 || r->nbody_cols > 0 ? ", " : "");
		buf_ident(b, r->default_cols[i]);
		buf_puts(b, " = DEFAULT");
	}
	buf_init(&where);
	buf_puts(&where, " WHERE TRUE");
	ok = sb_filters_for_path(c, &where, r->rel, "t", NULL, "");
	buf_printf(b, "%s RETURNING t.*)", where.data);
	buf_free(&where);
	return ok;
}

static bool
build_delete_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;
	Buf			where;
	bool		ok;

	buf_puts(b, "src AS (DELETE FROM ");
	sb_qualified(b, r->rel->schema, r->rel->name);
	buf_init(&where);
	buf_puts(&where, " AS t WHERE TRUE");
	ok = sb_filters_for_path(c, &where, r->rel, "t", NULL, "");
	buf_printf(b, "%s RETURNING t.*)", where.data);
	buf_free(&where);
	return ok;
}

static bool
build_write(Ctx *c)
{
	const SqlRequest *r = c->req;
	Buf		   *sql = &c->st->sql;
	Buf			cte, cols, where, group;
	bool		ok;

	if (r->q->nlimits || r->q->noffsets)
		return api_error(c->err, 400, "PGRST114", "limit and offset are not allowed on writes",
						 NULL, "Narrow the rows with filters instead.");
	if (!check_body_cols(c))
		return false;
	buf_init(&cte);
	buf_init(&cols);
	buf_init(&where);
	buf_init(&group);
	if (r->action == SQL_INSERT || r->action == SQL_PUT)
		ok = build_insert_cte(c, &cte);
	else if (r->action == SQL_UPDATE)
		ok = build_update_cte(c, &cte);
	else
		ok = build_delete_cte(c, &cte);
	if (ok && r->shape != SHAPE_NONE)
		ok = sb_select_list(c, &cols, &where, &group, r->rel, "t", r->q->select, "");
	buf_puts(&where, group.data);
	buf_free(&group);
	if (ok)						/* order= sorts the returned rows */
		ok = sb_order_for_path(c, &where, r->rel, "t", "");
	if (ok)
	{
		buf_printf(sql, "WITH %s SELECT ", cte.data);
		buf_puts(sql, r->count_exact ? "count(*)" : "NULL::bigint");
		buf_puts(sql, ", count(*), ");
		body_expr(sql, r->shape);
		if (r->shape == SHAPE_NONE)
			buf_puts(sql, " FROM src _t");
		else
			buf_printf(sql, " FROM (SELECT %s FROM src t WHERE TRUE%s) _t", cols.data, where.data);
	}
	buf_free(&cte);
	buf_free(&cols);
	buf_free(&where);
	return ok;
}

/* "fn"(a := <value>, ...): GET values are text parameters cast to the argument type. */
static void
rpc_call(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;
	const ScFunction *f = r->func;

	sb_qualified(b, f->schema, f->name);
	buf_putc(b, '(');
	if (r->rpc_whole_body)
	{
		sb_param(c, b, r->body);
		buf_printf(b, "::%s", f->args[0].type);
	}
	for (int i = 0; i < r->nargs && !r->rpc_whole_body; i++)
	{
		const char *type = "text";

		for (int a = 0; a < f->nargs; a++)
			if (strcmp(f->args[a].name, r->arg_names[i]) == 0)
				type = f->args[a].type;
		if (i > 0)
			buf_puts(b, ", ");
		buf_ident(b, r->arg_names[i]);
		buf_puts(b, " := ");
		if (r->arg_values)
		{
			sb_param(c, b, r->arg_values[i]);
			buf_printf(b, "::%s", type);
		}
		else
		{
			buf_puts(b, "_args.");
			buf_ident(b, r->arg_names[i]);
		}
	}
	buf_putc(b, ')');
}

/* FROM json_to_record($n::json) AS _args("a" int, ...) for POST arguments. */
static void
rpc_args_from(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;

	if (r->arg_values || r->rpc_whole_body || r->nargs == 0)
		return;
	buf_puts(b, " FROM json_to_record(");
	sb_param(c, b, r->body);
	buf_puts(b, "::json) AS _args(");
	for (int i = 0; i < r->nargs; i++)
	{
		const char *type = "text";

		for (int a = 0; a < r->func->nargs; a++)
			if (strcmp(r->func->args[a].name, r->arg_names[i]) == 0)
				type = r->func->args[a].type;
		if (i > 0)
			buf_puts(b, ", ");
		buf_ident(b, r->arg_names[i]);
		buf_printf(b, " %s", type);
	}
	buf_putc(b, ')');
}

static bool
build_rpc(Ctx *c)
{
	const SqlRequest *r = c->req;
	const ScFunction *f = r->func;
	Buf		   *sql = &c->st->sql;
	Buf			call, from, cols, where, group, tail;
	const char *fromtxt;
	const char *sep;
	bool		ok = true;

	buf_init(&call);
	buf_init(&from);
	rpc_args_from(c, &from);
	rpc_call(c, &call);
	if (!f->ret_composite || f->ret_void)
	{
		use_top_page(c);
		if (f->ret_void)
			buf_printf(sql, "SELECT NULL::bigint, 0::bigint, NULL::text FROM (SELECT %s%s) _v",
					   call.data, from.data);
		else if (f->retset)
			buf_printf(sql, "SELECT NULL::bigint, count(*), coalesce(json_agg(_t.v), '[]')::text"
					   " FROM (SELECT v%s%s, LATERAL %s AS v) _t",
					   from.len ? from.data : " FROM ", from.len ? "" : "", call.data);
		else
			buf_printf(sql, "SELECT NULL::bigint, 1::bigint, to_json(%s)::text%s",
					   call.data, from.data);
		ok = r->q->nfilters == 0 || api_error(c->err, 400, "PGRST100",
											   "filters need a function that returns rows", NULL, NULL);
		buf_free(&call);
		buf_free(&from);
		return ok;
	}
	fromtxt = from.len ? from.data : " FROM ";
	sep = from.len ? ", LATERAL " : "";
	buf_init(&cols);
	buf_init(&where);
	buf_init(&group);
	buf_init(&tail);
	buf_puts(&where, " WHERE TRUE");
	ok = sb_select_list(c, &cols, &where, &group, f->ret_rel, "t", r->q->select, "") &&
		sb_filters_for_path(c, &where, f->ret_rel, "t", r->q->select, "") &&
		sb_order_for_path(c, &tail, f->ret_rel, "t", "");
	use_top_page(c);
	if (ok && r->plan_count)
	{
		/* the planner's estimate of the function's filtered rows (count=planned) */
		buf_printf(sql, "EXPLAIN (FORMAT JSON) SELECT %s%s%s%s t%s%s", cols.data, fromtxt, sep,
				   call.data, where.data, group.data);
	}
	else if (ok)
	{
		top_page(c, &tail);
		buf_puts(sql, "SELECT ");
		if (r->has_known_total)
		{
			sb_param_int(c, sql, r->known_total);
			buf_puts(sql, "::bigint");
		}
		else if (r->count_exact && group.len)
			buf_printf(sql, "(SELECT count(*) FROM (SELECT 1%s%s%s t%s%s) _g)", fromtxt, sep,
					   call.data, where.data, group.data);
		else if (r->count_exact)
			buf_printf(sql, "(SELECT count(*)%s%s%s t%s)", fromtxt, sep, call.data, where.data);
		else
			buf_puts(sql, "NULL::bigint");
		buf_puts(sql, ", count(*), ");
		body_expr(sql, r->shape);
		buf_printf(sql, " FROM (SELECT %s%s%s%s t%s%s%s) _t", cols.data, fromtxt, sep, call.data,
				   where.data, group.data, tail.data);
	}
	buf_free(&call);
	buf_free(&from);
	buf_free(&cols);
	buf_free(&where);
	buf_free(&group);
	buf_free(&tail);
	return ok;
}

bool
sql_build(Arena *a, const SqlRequest *req, SqlStatement *st, ApiError *err)
{
	Ctx			c = {a, req, st, err, NULL, NULL, NULL, NULL, 0};
	bool		ok;

	memset(st, 0, sizeof(*st));
	buf_init(&st->sql);
	c.filter_used = arena_alloc(a, sizeof(bool) * (size_t) (req->q->nfilters + 1));
	c.order_used = arena_alloc(a, sizeof(bool) * (size_t) (req->q->norders + 1));
	c.limit_used = arena_alloc(a, sizeof(bool) * (size_t) (req->q->nlimits + 1));
	c.offset_used = arena_alloc(a, sizeof(bool) * (size_t) (req->q->noffsets + 1));
	switch (req->action)
	{
		case SQL_READ:
			ok = build_read(&c);
			break;
		case SQL_RPC:
			ok = build_rpc(&c);
			break;
		default:				/* INSERT, UPDATE, DELETE, PUT */
			ok = build_write(&c);
	}
	return ok && check_unused(&c);
}
