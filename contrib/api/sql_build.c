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

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct Ctx
{
	Arena	   *a;
	const SqlRequest *req;
	SqlStatement *st;
	ApiError   *err;
	bool	   *filter_used;
	bool	   *order_used;
	bool	   *limit_used;
	bool	   *offset_used;
	int			alias_seq;
} Ctx;

/* A resolved embed: the target relation and how to join it to its parent. */
typedef struct Embed
{
	const ScRelation *target;
	const ScForeignKey *fk;
	bool		parent_has_fk;	/* many-to-one: parent.from_cols -> target.to_cols */
	bool		to_one;
} Embed;

static void
param(Ctx *c, Buf *b, const char *value)
{
	const char **slot = arena_push(c->a, (void **) &c->st->params, &c->st->nparams,
								   &c->st->cparams, sizeof(char *));

	*slot = value;
	buf_printf(b, "$%d", c->st->nparams);
}

static void
qualified(Buf *b, const char *schema, const char *name)
{
	buf_ident(b, schema);
	buf_putc(b, '.');
	buf_ident(b, name);
}

static const char *
rel_label(const ScRelation *rel)
{
	return rel ? rel->name : "result";
}

static bool
unknown_column(Ctx *c, const ScRelation *rel, const char *name)
{
	char		msg[400];

	snprintf(msg, sizeof(msg), "column %s.%s does not exist", rel_label(rel), name);
	return api_error(c->err, 400, "42703", msg, NULL, NULL);
}

static bool
all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 9)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char) *s))
			return false;
	return true;
}

/* alias."col"->'k'->>'j'; checks the column exists (rel NULL: function result, unchecked). */
static bool
field_expr(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpField *f)
{
	if (rel && !sc_find_column(rel, f->name))
		return unknown_column(c, rel, f->name);
	buf_puts(b, alias);
	buf_putc(b, '.');
	buf_ident(b, f->name);
	for (int i = 0; i < f->njson; i++)
	{
		buf_puts(b, f->json_as_text[i] ? "->>" : "->");
		if (all_digits(f->json_keys[i]))
			buf_puts(b, f->json_keys[i]);
		else
			buf_literal(b, f->json_keys[i]);
	}
	return true;
}

static const char *
path_join(Ctx *c, const char *parent, const char *name)
{
	size_t		n;
	char	   *p;

	if (parent[0] == '\0')
		return name;
	n = strlen(parent) + strlen(name) + 2;
	p = arena_alloc(c->a, n);
	snprintf(p, n, "%s.%s", parent, name);
	return p;
}

static const char *
embed_name(const QpSelectItem *it)
{
	return it->alias ? it->alias : it->field.name;
}

/* ---- relationships ---- */

static bool
fk_matches_hint(const ScForeignKey *fk, const char *hint)
{
	if (hint == NULL)
		return true;
	return strcmp(fk->constraint_name, hint) == 0 ||
		(fk->ncols == 1 && (strcmp(fk->from_cols[0], hint) == 0 ||
							strcmp(fk->to_cols[0], hint) == 0));
}

static bool
resolve_embed(Ctx *c, const ScRelation *parent, const QpSelectItem *it, Embed *out)
{
	const SchemaCache *sc = c->req->sc;
	const char *name = it->field.name;
	int			found = 0;
	Buf			cand;

	buf_init(&cand);
	for (int i = 0; i < sc->nfks; i++)
	{
		const ScForeignKey *fk = &sc->fks[i];
		bool		by_col = fk->ncols == 1 && strcmp(fk->from_cols[0], name) == 0;

		if (!fk_matches_hint(fk, it->hint))
			continue;
		if (fk->from == parent &&
			(strcmp(fk->to->name, name) == 0 || strcmp(fk->constraint_name, name) == 0 || by_col))
		{
			out->target = fk->to;
			out->fk = fk;
			out->parent_has_fk = true;
			out->to_one = true;
			found++;
			buf_printf(&cand, "%s%s many-to-one via %s", found > 1 ? "; " : "", fk->to->name,
					   fk->constraint_name);
		}
		if (fk->to == parent && (fk->from != parent || fk->to != parent || !by_col) &&
			(strcmp(fk->from->name, name) == 0 || strcmp(fk->constraint_name, name) == 0))
		{
			out->target = fk->from;
			out->fk = fk;
			out->parent_has_fk = false;
			out->to_one = fk->from_unique;
			found++;
			buf_printf(&cand, "%s%s one-to-many via %s", found > 1 ? "; " : "", fk->from->name,
					   fk->constraint_name);
		}
	}
	if (found == 1)
	{
		buf_free(&cand);
		return true;
	}
	{
		char		msg[512];
		bool		ok;

		if (found == 0)
		{
			snprintf(msg, sizeof(msg),
					 "Could not find a relationship between '%s' and '%s' in the schema cache",
					 parent->name, name);
			ok = api_error(c->err, 400, "PGRST200", msg, NULL,
						   "Embed by a related table name, a foreign key constraint name or a foreign key column.");
		}
		else
		{
			snprintf(msg, sizeof(msg),
					 "Could not embed because more than one relationship was found for '%s' and '%s'",
					 parent->name, name);
			ok = api_error(c->err, 300, "PGRST201", msg, cand.data,
						   "Disambiguate with '!<constraint name>', e.g. relation!fkey_name(*).");
		}
		buf_free(&cand);
		return ok;
	}
}

/* target_alias.x = parent_alias.y AND ... */
static void
join_cond(Buf *b, const Embed *e, const char *target_alias, const char *parent_alias)
{
	for (int i = 0; i < e->fk->ncols; i++)
	{
		const char *tcol = e->parent_has_fk ? e->fk->to_cols[i] : e->fk->from_cols[i];
		const char *pcol = e->parent_has_fk ? e->fk->from_cols[i] : e->fk->to_cols[i];

		if (i > 0)
			buf_puts(b, " AND ");
		buf_printf(b, "%s.", target_alias);
		buf_ident(b, tcol);
		buf_printf(b, " = %s.", parent_alias);
		buf_ident(b, pcol);
	}
}

/* ---- filters ---- */

static const char *
op_sql(QpOp op)
{
	switch (op)
	{
		case QP_EQ:
			return "=";
		case QP_NEQ:
			return "<>";
		case QP_GT:
			return ">";
		case QP_GTE:
			return ">=";
		case QP_LT:
			return "<";
		case QP_LTE:
			return "<=";
		case QP_LIKE:
			return "LIKE";
		case QP_ILIKE:
			return "ILIKE";
		case QP_MATCH:
			return "~";
		case QP_IMATCH:
			return "~*";
		case QP_CS:
			return "@>";
		case QP_CD:
			return "<@";
		case QP_OV:
			return "&&";
		case QP_SL:
			return "<<";
		case QP_SR:
			return ">>";
		case QP_NXR:
			return "&<";
		case QP_NXL:
			return "&>";
		case QP_ADJ:
			return "-|-";
		default:
			return NULL;
	}
}

static const char *
stars_to_percent(Ctx *c, const char *v)
{
	char	   *s = arena_strdup(c->a, v);

	for (char *p = s; *p; p++)
		if (*p == '*')
			*p = '%';
	return s;
}

/* {"a","b"}: a PostgreSQL array literal of the in.(...) items. */
static const char *
array_literal(Ctx *c, const QpCond *cond)
{
	Buf			b;
	const char *out;

	buf_init(&b);
	buf_putc(&b, '{');
	for (int i = 0; i < cond->nitems; i++)
	{
		if (i > 0)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		for (const char *p = cond->items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *p);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	out = arena_strdup(c->a, b.data);
	buf_free(&b);
	return out;
}

static const char *fts_function(QpOp op)
{
	switch (op)
	{
		case QP_PLFTS:
			return "plainto_tsquery";
		case QP_PHFTS:
			return "phraseto_tsquery";
		case QP_WFTS:
			return "websearch_to_tsquery";
		default:
			return "to_tsquery";
	}
}

static bool embed_exists(Ctx *c, Buf *b, const ScRelation *parent, const char *parent_alias,
						 const QpSelectItem *it, const char *path);

static const QpSelectItem *
find_embed_item(const QpSelect *sel, const char *name)
{
	for (int i = 0; sel && i < sel->nitems; i++)
		if ((sel->items[i].kind == QP_SEL_EMBED || sel->items[i].kind == QP_SEL_SPREAD) &&
			strcmp(embed_name(&sel->items[i]), name) == 0)
			return &sel->items[i];
	return NULL;
}

static bool
leaf_sql(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpCond *cond,
		 const QpSelect *sel, const char *path)
{
	const ScColumn *col = rel ? sc_find_column(rel, cond->field.name) : NULL;

	if (rel && col == NULL)
	{
		const QpSelectItem *it = find_embed_item(sel, cond->field.name);

		if (it == NULL || cond->field.njson > 0)
			return unknown_column(c, rel, cond->field.name);
		if (cond->op != QP_IS || strcmp(cond->value, "null") != 0)
			return api_error(c->err, 400, "PGRST120",
							 "Bad operator on the embedded resource",
							 "Only is null or not is null filters are allowed on embedded resources", NULL);
		if (!cond->negate)
			buf_puts(b, "NOT ");
		return embed_exists(c, b, rel, alias, it, path_join(c, path, embed_name(it)));
	}
	if (cond->negate)
		buf_puts(b, "NOT ");
	buf_putc(b, '(');
	if (cond->op == QP_FTS || cond->op == QP_PLFTS || cond->op == QP_PHFTS || cond->op == QP_WFTS)
	{
		bool		is_tsvector = col && strcmp(col->type, "tsvector") == 0 && cond->field.njson == 0;

		if (!is_tsvector)
		{
			buf_puts(b, "to_tsvector(");
			if (cond->fts_config)
			{
				param(c, b, cond->fts_config);
				buf_puts(b, "::regconfig, ");
			}
		}
		if (!field_expr(c, b, rel, alias, &cond->field))
			return false;
		buf_printf(b, "%s @@ %s(", is_tsvector ? "" : ")", fts_function(cond->op));
		if (cond->fts_config)
		{
			param(c, b, cond->fts_config);
			buf_puts(b, "::regconfig, ");
		}
		param(c, b, cond->value);
		buf_puts(b, "))");
		return true;
	}
	if (!field_expr(c, b, rel, alias, &cond->field))
		return false;
	switch (cond->op)
	{
		case QP_IN:
			buf_puts(b, " = ANY (");
			param(c, b, array_literal(c, cond));
			buf_putc(b, ')');
			break;
		case QP_IS:
			buf_printf(b, " IS %s", cond->value);
			break;
		case QP_ISDISTINCT:
			buf_puts(b, " IS DISTINCT FROM ");
			param(c, b, cond->value);
			break;
		default:
			{
				bool		like = cond->op == QP_LIKE || cond->op == QP_ILIKE;
				const char *v = like ? stars_to_percent(c, cond->value) : cond->value;

				buf_printf(b, " %s ", op_sql(cond->op));
				if (cond->quant != QP_QUANT_NONE)
				{
					buf_puts(b, cond->quant == QP_QUANT_ANY ? "ANY (" : "ALL (");
					param(c, b, v);
					buf_putc(b, ')');
				}
				else
					param(c, b, v);
			}
	}
	buf_putc(b, ')');
	return true;
}

static bool
cond_sql(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpCond *cond,
		 const QpSelect *sel, const char *path)
{
	if (cond->kind == QP_LEAF)
		return leaf_sql(c, b, rel, alias, cond, sel, path);
	if (cond->negate)
		buf_puts(b, "NOT ");
	buf_putc(b, '(');
	for (int i = 0; i < cond->nchildren; i++)
	{
		if (i > 0)
			buf_puts(b, cond->kind == QP_AND ? " AND " : " OR ");
		if (!cond_sql(c, b, rel, alias, cond->children[i], sel, path))
			return false;
	}
	buf_putc(b, ')');
	return true;
}

/* Appends " AND <filter>" for every filter at path. */
static bool
filters_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpSelect *sel,
				 const char *path)
{
	const QpQuery *q = c->req->q;

	for (int i = 0; i < q->nfilters; i++)
	{
		if (strcmp(q->filters[i].path, path) != 0)
			continue;
		c->filter_used[i] = true;
		buf_puts(b, " AND ");
		if (!cond_sql(c, b, rel, alias, q->filters[i].cond, sel, path))
			return false;
	}
	return true;
}

static bool
order_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const char *path)
{
	const QpQuery *q = c->req->q;
	bool		first = true;

	for (int i = 0; i < q->norders; i++)
	{
		if (strcmp(q->orders[i].path, path) != 0)
			continue;
		c->order_used[i] = true;
		for (int t = 0; t < q->orders[i].nterms; t++)
		{
			const QpOrderTerm *term = &q->orders[i].terms[t];

			buf_puts(b, first ? " ORDER BY " : ", ");
			first = false;
			if (!field_expr(c, b, rel, alias, &term->field))
				return false;
			buf_puts(b, term->desc ? " DESC" : " ASC");
			if (term->nulls != QP_NULLS_DEFAULT)
				buf_puts(b, term->nulls == QP_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
		}
	}
	return true;
}

static void
param_int(Ctx *c, Buf *b, long long value)
{
	char	   *v = arena_alloc(c->a, 24);

	snprintf(v, 24, "%lld", value);
	param(c, b, v);
}

static void
page_for_path(Ctx *c, Buf *b, const char *path)
{
	const QpQuery *q = c->req->q;

	for (int i = 0; i < q->nlimits; i++)
		if (strcmp(q->limits[i].path, path) == 0)
		{
			c->limit_used[i] = true;
			buf_puts(b, " LIMIT ");
			param_int(c, b, q->limits[i].value);
		}
	for (int i = 0; i < q->noffsets; i++)
		if (strcmp(q->offsets[i].path, path) == 0)
		{
			c->offset_used[i] = true;
			buf_puts(b, " OFFSET ");
			param_int(c, b, q->offsets[i].value);
		}
}

/* ---- select lists and embeds ---- */

static bool select_list(Ctx *c, Buf *b, Buf *where, const ScRelation *rel, const char *alias,
						const QpSelect *sel, const char *path);

static const char *
next_alias(Ctx *c)
{
	char	   *s = arena_alloc(c->a, 16);

	snprintf(s, 16, "e%d", ++c->alias_seq);
	return s;
}

/* The FROM ... WHERE of an embed: "FROM target eN WHERE <join> AND <inner joins> AND <filters>" */
static bool
embed_from_where(Ctx *c, Buf *b, Buf *cols, const Embed *e, const char *ea, const char *parent_alias,
				 const QpSelectItem *it, const char *path)
{
	Buf			where;
	bool		ok;

	buf_init(&where);
	ok = (cols == NULL || select_list(c, cols, &where, e->target, ea, it->sub, path)) &&
		filters_for_path(c, &where, e->target, ea, it->sub, path);
	if (ok)
	{
		buf_puts(b, " FROM ");
		qualified(b, e->target->schema, e->target->name);
		buf_printf(b, " %s WHERE ", ea);
		join_cond(b, e, ea, parent_alias);
		buf_puts(b, where.data);
	}
	buf_free(&where);
	return ok;
}

static bool
embed_exists(Ctx *c, Buf *b, const ScRelation *parent, const char *parent_alias,
			 const QpSelectItem *it, const char *path)
{
	Embed		e;
	const char *ea = next_alias(c);

	if (!resolve_embed(c, parent, it, &e))
		return false;
	buf_puts(b, "EXISTS (SELECT 1");
	if (!embed_from_where(c, b, NULL, &e, ea, parent_alias, it, path))
		return false;
	buf_putc(b, ')');
	return true;
}

static bool
embed_sql(Ctx *c, Buf *b, Buf *parent_where, const ScRelation *parent, const char *parent_alias,
		  const QpSelectItem *it, const char *parent_path)
{
	Embed		e;
	const char *ea = next_alias(c);
	const char *path = path_join(c, parent_path, embed_name(it));
	Buf			cols;
	Buf			from;
	bool		ok;

	if (it->kind == QP_SEL_SPREAD)
		return api_error(c->err, 400, "PGRST119", "spread embeds are not supported", NULL,
						 "Select the embedded columns as an embedded object instead.");
	if (!resolve_embed(c, parent, it, &e))
		return false;
	buf_init(&cols);
	buf_init(&from);
	ok = embed_from_where(c, &from, &cols, &e, ea, parent_alias, it, path);
	if (ok && !e.to_one)
		ok = order_for_path(c, &from, e.target, ea, path);
	if (ok && !e.to_one)
		page_for_path(c, &from, path);
	if (ok)
	{
		if (e.to_one)
			buf_printf(b, "(SELECT row_to_json(_%s) FROM (SELECT %s%s) _%s)", ea,
					   cols.len ? cols.data : "", from.data, ea);
		else
			buf_printf(b, "(SELECT coalesce(json_agg(_%s), '[]') FROM (SELECT %s%s) _%s)", ea,
					   cols.len ? cols.data : "", from.data, ea);
		buf_puts(b, " AS ");
		buf_ident(b, embed_name(it));
		if (it->join == QP_JOIN_INNER)
		{
			buf_puts(parent_where, " AND ");
			ok = embed_exists(c, parent_where, parent, parent_alias, it, path);
		}
	}
	buf_free(&cols);
	buf_free(&from);
	return ok;
}

static bool
select_list(Ctx *c, Buf *b, Buf *where, const ScRelation *rel, const char *alias,
			const QpSelect *sel, const char *path)
{
	bool		first = true;

	if (sel == NULL)
	{
		buf_printf(b, "%s.*", alias);
		return true;
	}
	for (int i = 0; i < sel->nitems; i++)
	{
		const QpSelectItem *it = &sel->items[i];

		if (!first)
			buf_puts(b, ", ");
		first = false;
		switch (it->kind)
		{
			case QP_SEL_STAR:
				buf_printf(b, "%s.*", alias);
				break;
			case QP_SEL_FIELD:
				{
					const char *out = it->alias ? it->alias :
						(it->field.njson ? it->field.json_keys[it->field.njson - 1] : it->field.name);

					if (it->cast)
						buf_putc(b, '(');
					if (!field_expr(c, b, rel, alias, &it->field))
						return false;
					if (it->cast)
						buf_printf(b, ")::%s", it->cast);
					buf_puts(b, " AS ");
					buf_ident(b, out);
					break;
				}
			case QP_SEL_EMBED:
			case QP_SEL_SPREAD:
				if (rel == NULL)
					return api_error(c->err, 400, "PGRST200",
									 "Embedding needs a function that returns rows of an exposed table or view",
									 NULL, NULL);
				if (!embed_sql(c, b, where, rel, alias, it, path))
					return false;
				break;
		}
	}
	if (first)					/* empty select list: embeds used only as filters */
		buf_puts(b, "NULL AS \"\"");
	return true;
}

/* ---- whole statements ---- */

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
		param_int(c, b, c->req->limit);
	}
	if (c->req->offset > 0)
	{
		buf_puts(b, " OFFSET ");
		param_int(c, b, c->req->offset);
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
	Buf			cols, where, tail;
	bool		ok;

	buf_init(&cols);
	buf_init(&where);
	buf_init(&tail);
	buf_puts(&where, " WHERE TRUE");
	ok = select_list(c, &cols, &where, r->rel, "t", r->q->select, "") &&
		filters_for_path(c, &where, r->rel, "t", r->q->select, "") &&
		order_for_path(c, &tail, r->rel, "t", "");
	use_top_page(c);
	top_page(c, &tail);
	if (ok)
	{
		buf_puts(sql, "SELECT ");
		if (r->count_exact)
		{
			buf_puts(sql, "(SELECT count(*) FROM ");
			qualified(sql, r->rel->schema, r->rel->name);
			buf_printf(sql, " t%s)", where.data);
		}
		else
			buf_puts(sql, "NULL::bigint");
		buf_puts(sql, ", count(*), ");
		body_expr(sql, r->shape);
		buf_printf(sql, " FROM (SELECT %s FROM ", cols.data);
		qualified(sql, r->rel->schema, r->rel->name);
		buf_printf(sql, " t%s%s) _t", where.data, tail.data);
	}
	buf_free(&cols);
	buf_free(&where);
	buf_free(&tail);
	return ok;
}

static bool
check_body_cols(Ctx *c)
{
	for (int i = 0; i < c->req->nbody_cols; i++)
		if (!sc_find_column(c->req->rel, c->req->body_cols[i]))
		{
			char		msg[400];

			snprintf(msg, sizeof(msg), "Could not find the '%s' column of '%s' in the schema cache",
					 c->req->body_cols[i], c->req->rel->name);
			return api_error(c->err, 400, "PGRST204", msg, NULL, NULL);
		}
	return true;
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

static bool
build_insert_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;

	if (r->nbody_cols == 0)
		return api_error(c->err, 400, "PGRST102", "Empty or invalid json", NULL,
						 "Send a JSON object or a non-empty array of objects.");
	buf_puts(b, "INSERT INTO ");
	qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, " AS t (");
	ident_list(b, r->body_cols, r->nbody_cols, "");
	buf_puts(b, ") SELECT ");
	ident_list(b, r->body_cols, r->nbody_cols, "");
	buf_puts(b, " FROM json_populate_recordset(NULL::");
	qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, ", ");
	param(c, b, r->body);
	buf_puts(b, "::json)");
	if (r->upsert || r->ignore_duplicates)
	{
		const char *const *target = r->q->on_conflict;
		int			ntarget = r->q->non_conflict;

		if (ntarget == 0)
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
				return unknown_column(c, r->rel, target[i]);
		buf_puts(b, " ON CONFLICT (");
		ident_list(b, target, ntarget, "");
		buf_puts(b, ")");
		if (r->ignore_duplicates)
			buf_puts(b, " DO NOTHING");
		else
		{
			buf_puts(b, " DO UPDATE SET ");
			for (int i = 0; i < r->nbody_cols; i++)
			{
				if (i > 0)
					buf_puts(b, ", ");
				buf_ident(b, r->body_cols[i]);
				buf_puts(b, " = EXCLUDED.");
				buf_ident(b, r->body_cols[i]);
			}
		}
	}
	buf_puts(b, " RETURNING t.*");
	return true;
}

static bool
build_update_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;
	Buf			where;
	bool		ok;

	if (r->nbody_cols == 0)
		return api_error(c->err, 400, "PGRST102", "Empty or invalid json", NULL,
						 "Send a JSON object with the columns to set.");
	buf_puts(b, "UPDATE ");
	qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, " AS t SET (");
	ident_list(b, r->body_cols, r->nbody_cols, "");
	buf_puts(b, ") = (SELECT ");
	ident_list(b, r->body_cols, r->nbody_cols, "_b.");
	buf_puts(b, " FROM json_populate_record(NULL::");
	qualified(b, r->rel->schema, r->rel->name);
	buf_puts(b, ", ");
	param(c, b, r->body);
	buf_puts(b, "::json) _b)");
	buf_init(&where);
	buf_puts(&where, " WHERE TRUE");
	ok = filters_for_path(c, &where, r->rel, "t", NULL, "");
	buf_printf(b, "%s RETURNING t.*", where.data);
	buf_free(&where);
	return ok;
}

static bool
build_delete_cte(Ctx *c, Buf *b)
{
	const SqlRequest *r = c->req;
	Buf			where;
	bool		ok;

	buf_puts(b, "DELETE FROM ");
	qualified(b, r->rel->schema, r->rel->name);
	buf_init(&where);
	buf_puts(&where, " AS t WHERE TRUE");
	ok = filters_for_path(c, &where, r->rel, "t", NULL, "");
	buf_printf(b, "%s RETURNING t.*", where.data);
	buf_free(&where);
	return ok;
}

static bool
build_write(Ctx *c)
{
	const SqlRequest *r = c->req;
	Buf		   *sql = &c->st->sql;
	Buf			cte, cols, where;
	bool		ok;

	if (r->q->nlimits || r->q->noffsets)
		return api_error(c->err, 400, "PGRST114", "limit and offset are not allowed on writes",
						 NULL, "Narrow the rows with filters instead.");
	if (!check_body_cols(c))
		return false;
	buf_init(&cte);
	buf_init(&cols);
	buf_init(&where);
	if (r->action == SQL_INSERT)
		ok = build_insert_cte(c, &cte);
	else if (r->action == SQL_UPDATE)
		ok = build_update_cte(c, &cte);
	else
		ok = build_delete_cte(c, &cte);
	if (ok && r->shape != SHAPE_NONE)
		ok = select_list(c, &cols, &where, r->rel, "t", r->q->select, "");
	if (ok)
	{
		buf_printf(sql, "WITH src AS (%s) SELECT ", cte.data);
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

	qualified(b, f->schema, f->name);
	buf_putc(b, '(');
	if (r->rpc_whole_body)
	{
		param(c, b, r->body);
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
			param(c, b, r->arg_values[i]);
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
	param(c, b, r->body);
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
	Buf			call, from, cols, where, tail;
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
	buf_init(&cols);
	buf_init(&where);
	buf_init(&tail);
	buf_puts(&where, " WHERE TRUE");
	ok = select_list(c, &cols, &where, f->ret_rel, "t", r->q->select, "") &&
		filters_for_path(c, &where, f->ret_rel, "t", r->q->select, "") &&
		order_for_path(c, &tail, f->ret_rel, "t", "");
	use_top_page(c);
	top_page(c, &tail);
	if (ok)
	{
		const char *fromtxt = from.len ? from.data : " FROM ";
		const char *sep = from.len ? ", LATERAL " : "";

		buf_puts(sql, "SELECT ");
		if (r->count_exact)
			buf_printf(sql, "(SELECT count(*)%s%s%s t%s)", fromtxt, sep, call.data, where.data);
		else
			buf_puts(sql, "NULL::bigint");
		buf_puts(sql, ", count(*), ");
		body_expr(sql, r->shape);
		buf_printf(sql, " FROM (SELECT %s%s%s%s t%s%s) _t", cols.data, fromtxt, sep, call.data,
				   where.data, tail.data);
	}
	buf_free(&call);
	buf_free(&from);
	buf_free(&cols);
	buf_free(&where);
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
		default:
			ok = build_write(&c);
	}
	return ok && check_unused(&c);
}
