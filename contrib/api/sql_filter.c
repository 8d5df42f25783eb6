/*
 * sql_filter.c — the SQL builder's names and parameters, filters (leaf operators, or/and
 * trees, filters on embeds), ORDER BY and LIMIT/OFFSET for one embed path.  Values are always
 * bind parameters; names are checked against the schema cache and quoted.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sql_build_internal.h"

void
sb_param(Ctx *c, Buf *b, const char *value)
{
	const char **slot = arena_push(c->a, (void **) &c->st->params, &c->st->nparams,
								   &c->st->cparams, sizeof(char *));

	*slot = value;
	buf_printf(b, "$%d", c->st->nparams);
}

void
sb_qualified(Buf *b, const char *schema, const char *name)
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

bool
sb_unknown_column(Ctx *c, const ScRelation *rel, const char *name)
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
bool
sb_field_expr(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpField *f)
{
	if (rel && !sc_find_column(rel, f->name))
		return sb_unknown_column(c, rel, f->name);
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

const char *
sb_path_join(Ctx *c, const char *parent, const char *name)
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

const char *
sb_embed_name(const QpSelectItem *it)
{
	return it->alias ? it->alias : it->field.name;
}

/* ---- relationships ---- */

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


static const QpSelectItem *
find_embed_item(const QpSelect *sel, const char *name)
{
	for (int i = 0; sel && i < sel->nitems; i++)
		if ((sel->items[i].kind == QP_SEL_EMBED || sel->items[i].kind == QP_SEL_SPREAD) &&
			strcmp(sb_embed_name(&sel->items[i]), name) == 0)
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
			return sb_unknown_column(c, rel, cond->field.name);
		if (cond->op != QP_IS || strcmp(cond->value, "null") != 0)
			return api_error(c->err, 400, "PGRST120",
							 "Bad operator on the embedded resource",
							 "Only is null or not is null filters are allowed on embedded resources", NULL);
		if (!cond->negate)
			buf_puts(b, "NOT ");
		return sb_embed_exists(c, b, rel, alias, it, sb_path_join(c, path, sb_embed_name(it)));
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
				sb_param(c, b, cond->fts_config);
				buf_puts(b, "::regconfig, ");
			}
		}
		if (!sb_field_expr(c, b, rel, alias, &cond->field))
			return false;
		buf_printf(b, "%s @@ %s(", is_tsvector ? "" : ")", fts_function(cond->op));
		if (cond->fts_config)
		{
			sb_param(c, b, cond->fts_config);
			buf_puts(b, "::regconfig, ");
		}
		sb_param(c, b, cond->value);
		buf_puts(b, "))");
		return true;
	}
	if (!sb_field_expr(c, b, rel, alias, &cond->field))
		return false;
	switch (cond->op)
	{
		case QP_IN:
			buf_puts(b, " = ANY (");
			sb_param(c, b, array_literal(c, cond));
			buf_putc(b, ')');
			break;
		case QP_IS:
			buf_printf(b, " IS %s", cond->value);
			break;
		case QP_ISDISTINCT:
			buf_puts(b, " IS DISTINCT FROM ");
			sb_param(c, b, cond->value);
			break;
		default:
			{
				bool		like = cond->op == QP_LIKE || cond->op == QP_ILIKE;
				const char *v = like ? stars_to_percent(c, cond->value) : cond->value;

				buf_printf(b, " %s ", op_sql(cond->op));
				if (cond->quant != QP_QUANT_NONE)
				{
					buf_puts(b, cond->quant == QP_QUANT_ANY ? "ANY (" : "ALL (");
					sb_param(c, b, v);
					buf_putc(b, ')');
				}
				else
					sb_param(c, b, v);
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
bool
sb_filters_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpSelect *sel,
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

bool
sb_order_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const char *path)
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
			if (!sb_field_expr(c, b, rel, alias, &term->field))
				return false;
			buf_puts(b, term->desc ? " DESC" : " ASC");
			if (term->nulls != QP_NULLS_DEFAULT)
				buf_puts(b, term->nulls == QP_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
		}
	}
	return true;
}

void
sb_param_int(Ctx *c, Buf *b, long long value)
{
	char	   *v = arena_alloc(c->a, 24);

	snprintf(v, 24, "%lld", value);
	sb_param(c, b, v);
}

void
sb_page_for_path(Ctx *c, Buf *b, const char *path)
{
	const QpQuery *q = c->req->q;

	for (int i = 0; i < q->nlimits; i++)
		if (strcmp(q->limits[i].path, path) == 0)
		{
			c->limit_used[i] = true;
			buf_puts(b, " LIMIT ");
			sb_param_int(c, b, q->limits[i].value);
		}
	for (int i = 0; i < q->noffsets; i++)
		if (strcmp(q->offsets[i].path, path) == 0)
		{
			c->offset_used[i] = true;
			buf_puts(b, " OFFSET ");
			sb_param_int(c, b, q->offsets[i].value);
		}
}

/* ---- select lists and embeds ---- */
