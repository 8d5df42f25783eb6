/*
 * sql_embed.c — relationships between exposed relations (foreign keys, also through views) and
 * select lists with embeds: to-one embeds become row_to_json subqueries, to-many embeds
 * json_agg subqueries, !inner an EXISTS in the parent's WHERE, so a response is one statement.
 */
#include <stdio.h>
#include <string.h>

#include "sql_build_internal.h"

static bool
fk_matches_hint(const ScForeignKey *fk, const char *hint)
{
	if (hint == NULL)
		return true;
	return strcmp(fk->constraint_name, hint) == 0 ||
		(fk->ncols == 1 && (strcmp(fk->from_cols[0], hint) == 0 ||
							strcmp(fk->to_cols[0], hint) == 0));
}

/* The foreign key's columns are all part of its table's primary key. */
static bool
fk_in_pk(const ScForeignKey *fk)
{
	for (int i = 0; i < fk->ncols; i++)
	{
		bool		in = false;

		for (int k = 0; k < fk->from->npk && !in; k++)
			in = strcmp(fk->from->pk[k], fk->from_cols[i]) == 0;
		if (!in)
			return false;
	}
	return true;
}

/*
 * Many-to-many candidates of parent -> name: a junction table with one foreign key to the
 * parent and one to the target, both inside its primary key (PostgREST's rule).  The hint may
 * name the junction or either constraint.
 */
static int
junction_candidates(const SchemaCache *sc, const ScRelation *parent, const QpSelectItem *it,
					Embed *out, Buf *cand, int found)
{
	for (int i = 0; i < sc->nfks; i++)
	{
		const ScForeignKey *to_parent = &sc->fks[i];
		const ScRelation *junction = to_parent->from;

		if (to_parent->to != parent || junction == parent || !fk_in_pk(to_parent))
			continue;
		for (int j = 0; j < sc->nfks; j++)
		{
			const ScForeignKey *to_target = &sc->fks[j];
			const char *hint = it->hint;

			if (j == i || to_target->from != junction || to_target->to == junction ||
				strcmp(to_target->to->name, it->field.name) != 0 || !fk_in_pk(to_target))
				continue;
			if (hint && strcmp(hint, junction->name) != 0 &&
				strcmp(hint, to_parent->constraint_name) != 0 &&
				strcmp(hint, to_target->constraint_name) != 0)
				continue;
			out->target = to_target->to;
			out->fk = to_parent;
			out->junction_fk = to_target;
			out->parent_has_fk = false;
			out->to_one = false;
			found++;
			buf_printf(cand, "%s%s many-to-many via %s", found > 1 ? "; " : "",
					   to_target->to->name, junction->name);
		}
	}
	return found;
}

static bool
resolve_embed(Ctx *c, const ScRelation *parent, const QpSelectItem *it, Embed *out)
{
	const SchemaCache *sc = c->req->sc;
	const char *name = it->field.name;
	int			found = 0;
	Buf			cand;

	buf_init(&cand);
	out->junction_fk = NULL;
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
	found = junction_candidates(sc, parent, it, out, &cand, found);
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

/* EXISTS (SELECT 1 FROM junction <t>j WHERE <t>j.x = target.y AND ... AND <t>j.z = parent.w ...) */
static void
junction_cond(Buf *b, const Embed *e, const char *target_alias, const char *parent_alias)
{
	const ScForeignKey *tf = e->junction_fk;
	const ScForeignKey *pf = e->fk;

	buf_puts(b, "EXISTS (SELECT 1 FROM ");
	sb_qualified(b, tf->from->schema, tf->from->name);
	buf_printf(b, " %sj WHERE ", target_alias);
	for (int i = 0; i < tf->ncols + pf->ncols; i++)
	{
		bool		to_target = i < tf->ncols;
		const ScForeignKey *fk = to_target ? tf : pf;
		int			k = to_target ? i : i - tf->ncols;

		if (i > 0)
			buf_puts(b, " AND ");
		buf_printf(b, "%sj.", target_alias);
		buf_ident(b, fk->from_cols[k]);
		buf_printf(b, " = %s.", to_target ? target_alias : parent_alias);
		buf_ident(b, fk->to_cols[k]);
	}
	buf_putc(b, ')');
}

/* target_alias.x = parent_alias.y AND ... */
static void
join_cond(Buf *b, const Embed *e, const char *target_alias, const char *parent_alias)
{
	if (e->junction_fk)
	{
		junction_cond(b, e, target_alias, parent_alias);
		return;
	}
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
next_alias(Ctx *c)
{
	char	   *s = arena_alloc(c->a, 16);

	snprintf(s, 16, "e%d", ++c->alias_seq);
	return s;
}

/*
 * The FROM ... WHERE of an embed: "FROM target eN WHERE <join> AND <inner joins> AND <filters>",
 * then GROUP BY when its select list has aggregates.
 */
static bool
embed_from_where(Ctx *c, Buf *b, Buf *cols, const Embed *e, const char *ea, const char *parent_alias,
				 const QpSelectItem *it, const char *path)
{
	Buf			where;
	Buf			group;
	bool		ok;

	buf_init(&where);
	buf_init(&group);
	ok = (cols == NULL || sb_select_list(c, cols, &where, &group, e->target, ea, it->sub, path)) &&
		sb_filters_for_path(c, &where, e->target, ea, it->sub, path);
	if (ok)
	{
		buf_puts(b, " FROM ");
		sb_qualified(b, e->target->schema, e->target->name);
		buf_printf(b, " %s WHERE ", ea);
		join_cond(b, e, ea, parent_alias);
		buf_puts(b, where.data);
		buf_puts(b, group.data);
	}
	buf_free(&where);
	buf_free(&group);
	return ok;
}

bool
sb_embed_exists(Ctx *c, Buf *b, const ScRelation *parent, const char *parent_alias,
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

/* One column of a spread: (SELECT eN."col" FROM target eN WHERE <join>) AS "out". */
static bool
spread_column(Ctx *c, Buf *b, const Embed *e, const char *parent_alias, const QpField *field,
			  const char *cast, const char *out)
{
	const char *ea = next_alias(c);

	buf_puts(b, "(SELECT ");
	if (cast)
		buf_putc(b, '(');
	if (!sb_field_expr(c, b, e->target, ea, field))
		return false;
	if (cast)
		buf_printf(b, ")::%s", cast);
	buf_puts(b, " FROM ");
	sb_qualified(b, e->target->schema, e->target->name);
	buf_printf(b, " %s WHERE ", ea);
	join_cond(b, e, ea, parent_alias);
	buf_puts(b, ") AS ");
	buf_ident(b, out);
	return true;
}

/*
 * ...relation(cols): the columns of a to-one embed lifted into the parent row (PostgREST v12
 * spreads only to-one relationships: to-many is 400 PGRST119).
 */
static bool
spread_sql(Ctx *c, Buf *b, const Embed *e, const char *parent_alias, const QpSelectItem *it)
{
	const QpSelect *sub = it->sub;
	bool		first = true;

	if (!e->to_one)
		return api_error(c->err, 400, "PGRST119", "A spread operation on a to-many relationship is not allowed",
						 NULL, "Embed it as an array instead: relation(columns).");
	for (int i = 0; sub && i < sub->nitems; i++)
	{
		const QpSelectItem *s = &sub->items[i];

		if (s->kind == QP_SEL_STAR)
		{
			for (int k = 0; k < e->target->ncols; k++)
			{
				QpField		f = {e->target->cols[k].name, 0, NULL, NULL};

				buf_puts(b, first ? "" : ", ");
				first = false;
				if (!spread_column(c, b, e, parent_alias, &f, NULL, f.name))
					return false;
			}
			continue;
		}
		if (s->kind != QP_SEL_FIELD || s->agg != QP_AGG_NONE)
			return api_error(c->err, 400, "PGRST119", "a spread may only list columns", NULL, NULL);
		buf_puts(b, first ? "" : ", ");
		first = false;
		if (!spread_column(c, b, e, parent_alias, &s->field, s->cast,
						   s->alias ? s->alias : (s->field.njson ? s->field.json_keys[s->field.njson - 1] : s->field.name)))
			return false;
	}
	return true;
}

static bool
embed_sql(Ctx *c, Buf *b, Buf *parent_where, const ScRelation *parent, const char *parent_alias,
		  const QpSelectItem *it, const char *parent_path)
{
	Embed		e;
	const char *ea = next_alias(c);
	const char *path = sb_path_join(c, parent_path, sb_embed_name(it));
	Buf			cols;
	Buf			from;
	bool		ok;

	if (!resolve_embed(c, parent, it, &e))
		return false;
	if (it->kind == QP_SEL_SPREAD)
		return spread_sql(c, b, &e, parent_alias, it);
	buf_init(&cols);
	buf_init(&from);
	ok = embed_from_where(c, &from, &cols, &e, ea, parent_alias, it, path);
	if (ok && !e.to_one)
		ok = sb_order_for_path(c, &from, e.target, ea, path);
	if (ok && !e.to_one)
		sb_page_for_path(c, &from, path);
	if (ok)
	{
		if (e.to_one)
			buf_printf(b, "(SELECT row_to_json(_%s) FROM (SELECT %s%s) _%s)", ea,
					   cols.len ? cols.data : "", from.data, ea);
		else
			buf_printf(b, "(SELECT coalesce(json_agg(_%s), '[]') FROM (SELECT %s%s) _%s)", ea,
					   cols.len ? cols.data : "", from.data, ea);
		buf_puts(b, " AS ");
		buf_ident(b, sb_embed_name(it));
		if (it->join == QP_JOIN_INNER)
		{
			buf_puts(parent_where, " AND ");
			ok = sb_embed_exists(c, parent_where, parent, parent_alias, it, path);
		}
	}
	buf_free(&cols);
	buf_free(&from);
	return ok;
}

/*
 * An embed that selects nothing (rel() or ...rel()) has no output column.  With !inner it still
 * filters the parent (EXISTS); otherwise its filters are checked but, as in PostgREST, change
 * nothing (TRUE OR EXISTS keeps their parameters typed).
 */
static bool
empty_embed(Ctx *c, Buf *where, const ScRelation *rel, const char *alias, const QpSelectItem *it,
			const char *path)
{
	const char *epath = sb_path_join(c, path, sb_embed_name(it));
	bool		inner = it->join == QP_JOIN_INNER;

	buf_puts(where, inner ? " AND " : " AND (TRUE OR ");
	if (!sb_embed_exists(c, where, rel, alias, it, epath))
		return false;
	if (!inner)
		buf_putc(where, ')');
	return true;
}

/*
 * A column item: [(]col[)::cast], or with an aggregate agg([(]col[)::cast])[::cast]
 * (count() is count(*)).  Aggregates need db-aggregates-enabled (else 400 PGRST123).
 */
static bool
field_item_sql(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpSelectItem *it)
{
	if (it->agg != QP_AGG_NONE)
	{
		if (!c->req->aggregates_enabled)
			return api_error(c->err, 400, "PGRST123", "Use of aggregate functions is not allowed",
							 NULL, NULL);
		if (it->agg_cast)
			buf_putc(b, '(');
		buf_printf(b, "%s(", qp_agg_name(it->agg));
	}
	if (it->field.name == NULL)
		buf_putc(b, '*');
	else
	{
		if (it->cast)
			buf_putc(b, '(');
		if (!sb_field_expr(c, b, rel, alias, &it->field))
			return false;
		if (it->cast)
			buf_printf(b, ")::%s", it->cast);
	}
	if (it->agg != QP_AGG_NONE)
		buf_putc(b, ')');
	if (it->agg_cast)
		buf_printf(b, ")::%s", it->agg_cast);
	return true;
}

static const char *
field_item_key(const QpSelectItem *it)
{
	if (it->alias)
		return it->alias;
	if (it->agg != QP_AGG_NONE)
		return qp_agg_name(it->agg);
	return it->field.njson ? it->field.json_keys[it->field.njson - 1] : it->field.name;
}

static bool
has_aggregate(const QpSelect *sel)
{
	for (int i = 0; sel && i < sel->nitems; i++)
		if (sel->items[i].agg != QP_AGG_NONE)
			return true;
	return false;
}

bool
sb_select_list(Ctx *c, Buf *b, Buf *where, Buf *group, const ScRelation *rel, const char *alias,
			   const QpSelect *sel, const char *path)
{
	bool		first = true;
	bool		grouped = has_aggregate(sel);

	if (sel == NULL)
	{
		buf_printf(b, "%s.*", alias);
		return true;
	}
	for (int i = 0; i < sel->nitems; i++)
	{
		const QpSelectItem *it = &sel->items[i];

		if ((it->kind == QP_SEL_EMBED || it->kind == QP_SEL_SPREAD) && rel &&
			it->sub && it->sub->nitems == 0)
		{
			if (!empty_embed(c, where, rel, alias, it, path))
				return false;
			continue;
		}
		if (!first)
			buf_puts(b, ", ");
		first = false;
		switch (it->kind)
		{
			case QP_SEL_STAR:
				if (grouped)
					return api_error(c->err, 400, "PGRST100",
									 "'*' cannot be combined with aggregate functions",
									 NULL, "List the columns to group by instead of '*'.");
				buf_printf(b, "%s.*", alias);
				break;
			case QP_SEL_FIELD:
				{
					size_t		start = b->len;

					if (!field_item_sql(c, b, rel, alias, it))
						return false;
					if (grouped && it->agg == QP_AGG_NONE)
						buf_printf(group, "%s%.*s", group->len ? ", " : " GROUP BY ",
								   (int) (b->len - start), b->data + start);
					buf_puts(b, " AS ");
					buf_ident(b, field_item_key(it));
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
	return true;				/* an empty list selects a row of no columns: {} */
}

/* ---- whole statements ---- */
