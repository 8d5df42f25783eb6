/*
 * query_parse.c — recursive-descent parser for the PostgREST query-string grammar
 * (filters, or/and trees, select with embeds, order, limit/offset, columns, on_conflict).
 *
 * Grammar summary: ../shared/specs/postgrest-api.md §2-§5.  Values are never interpreted here:
 * they become bind parameters in sql_build.c.  Names are not checked here either (the schema
 * cache does that), but the characters that may appear in them are limited so that an error
 * message can always echo them safely.
 */
#include "query_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
	const char *name;
	QpOp		op;
}			op_names[] =
{
	{"eq", QP_EQ}, {"neq", QP_NEQ}, {"gt", QP_GT}, {"gte", QP_GTE}, {"lt", QP_LT},
	{"lte", QP_LTE}, {"like", QP_LIKE}, {"ilike", QP_ILIKE}, {"match", QP_MATCH},
	{"imatch", QP_IMATCH}, {"in", QP_IN}, {"is", QP_IS}, {"isdistinct", QP_ISDISTINCT},
	{"fts", QP_FTS}, {"plfts", QP_PLFTS}, {"phfts", QP_PHFTS}, {"wfts", QP_WFTS},
	{"cs", QP_CS}, {"cd", QP_CD}, {"ov", QP_OV}, {"sl", QP_SL}, {"sr", QP_SR},
	{"nxr", QP_NXR}, {"nxl", QP_NXL}, {"adj", QP_ADJ},
};

const char *
qp_op_name(QpOp op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return "?";
}

/* Parser state over one string. */
typedef struct Parser
{
	Arena	   *a;
	const char *s;
	size_t		pos;
	QpError    *err;
	const char *what;			/* "filter", "select", ... for messages */
} Parser;

static bool
fail(Parser *p, const char *reason)
{
	snprintf(p->err->message, sizeof(p->err->message),
			 "failed to parse %s (%.160s)", p->what, p->s);
	snprintf(p->err->details, sizeof(p->err->details),
			 "unexpected %s at position %zu: %s",
			 p->s[p->pos] ? "character" : "end of input", p->pos + 1, reason);
	return false;
}

static char
peek(Parser *p)
{
	return p->s[p->pos];
}

static bool
accept_str(Parser *p, const char *lit)
{
	size_t		n = strlen(lit);

	if (strncmp(p->s + p->pos, lit, n) == 0)
	{
		p->pos += n;
		return true;
	}
	return false;
}

static void
skip_ws(Parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\n' || peek(p) == '\r')
		p->pos++;
}

/* A double-quoted string with \" and \\ escapes. */
static bool
parse_quoted(Parser *p, const char **out)
{
	Buf			b;

	if (peek(p) != '"')
		return fail(p, "expected '\"'");
	p->pos++;
	buf_init(&b);
	while (peek(p) && peek(p) != '"')
	{
		if (peek(p) == '\\' && p->s[p->pos + 1])
			p->pos++;
		buf_putc(&b, p->s[p->pos++]);
	}
	if (peek(p) != '"')
	{
		buf_free(&b);
		return fail(p, "unterminated quoted string");
	}
	p->pos++;
	*out = arena_strdup(p->a, b.data);
	buf_free(&b);
	return true;
}

/* Characters that end an unquoted name. */
static bool
name_stop(char c, const char *stops)
{
	return c == '\0' || strchr(stops, c) != NULL;
}

/* A name: quoted, or a run of characters up to one of stops (and never "->"). */
static bool
parse_name(Parser *p, const char *stops, const char **out)
{
	size_t		start;

	if (peek(p) == '"')
		return parse_quoted(p, out);
	start = p->pos;
	while (!name_stop(peek(p), stops) && strncmp(p->s + p->pos, "->", 2) != 0)
		p->pos++;
	if (p->pos == start)
		return fail(p, "expected a name");
	*out = arena_strndup(p->a, p->s + start, p->pos - start);
	return true;
}

/* field := name ( ("->" | "->>") key )* */
static bool
parse_field(Parser *p, const char *stops, QpField *f)
{
	int			cap = 0;
	int			cap2 = 0;
	int			n2 = 0;

	memset(f, 0, sizeof(*f));
	if (!parse_name(p, stops, &f->name))
		return false;
	while (strncmp(p->s + p->pos, "->", 2) == 0)
	{
		bool		as_text = strncmp(p->s + p->pos, "->>", 3) == 0;
		const char **key;
		bool	   *t;

		p->pos += as_text ? 3 : 2;
		key = arena_push(p->a, (void **) &f->json_keys, &f->njson, &cap, sizeof(char *));
		if (!parse_name(p, stops, key))
			return false;
		t = arena_push(p->a, (void **) &f->json_as_text, &n2, &cap2, sizeof(bool));
		*t = as_text;
	}
	return true;
}

static bool
lookup_op(const char *name, size_t n, QpOp *op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strlen(op_names[i].name) == n && strncmp(op_names[i].name, name, n) == 0)
		{
			*op = op_names[i].op;
			return true;
		}
	return false;
}

static bool
quantifiable(QpOp op)
{
	return op == QP_EQ || op == QP_GT || op == QP_GTE || op == QP_LT || op == QP_LTE ||
		op == QP_LIKE || op == QP_ILIKE || op == QP_MATCH || op == QP_IMATCH;
}

/* An unquoted value inside a tree: up to ',' or ')', or a balanced {...}. */
static bool
parse_tree_value(Parser *p, const char **out)
{
	size_t		start = p->pos;

	if (peek(p) == '"')
		return parse_quoted(p, out);
	if (peek(p) == '{')
	{
		while (peek(p) && peek(p) != '}')
			p->pos++;
		if (peek(p) != '}')
			return fail(p, "unterminated '{'");
		p->pos++;
	}
	else
		while (peek(p) && peek(p) != ',' && peek(p) != ')')
			p->pos++;
	*out = arena_strndup(p->a, p->s + start, p->pos - start);
	return true;
}

/* in.( item, ... ): items may be double-quoted. */
static bool
parse_in_list(Parser *p, QpCond *c)
{
	int			cap = 0;

	if (peek(p) != '(')
		return fail(p, "expected '(' after in.");
	p->pos++;
	if (peek(p) == ')')
	{
		p->pos++;
		return true;
	}
	for (;;)
	{
		const char **item = arena_push(p->a, (void **) &c->items, &c->nitems, &cap, sizeof(char *));

		if (peek(p) == '"')
		{
			if (!parse_quoted(p, item))
				return false;
		}
		else
		{
			size_t		start = p->pos;

			while (peek(p) && peek(p) != ',' && peek(p) != ')')
				p->pos++;
			*item = arena_strndup(p->a, p->s + start, p->pos - start);
		}
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == ')')
		{
			p->pos++;
			return true;
		}
		return fail(p, "expected ',' or ')' in list");
	}
}

/*
 * operation := ["not."] op ["(any)"|"(all)"|"(config)"] "." value
 * In a tree the value ends at ',' or ')'; at top level it is the rest of the string.
 */
static bool
parse_operation(Parser *p, QpCond *c, bool in_tree)
{
	size_t		start;

	c->kind = QP_LEAF;
	if (accept_str(p, "not."))
		c->negate = !c->negate;
	start = p->pos;
	while (islower((unsigned char) peek(p)))
		p->pos++;
	if (!lookup_op(p->s + start, p->pos - start, &c->op))
	{
		p->pos = start;
		return fail(p, "unknown operator");
	}
	if (peek(p) == '(')
	{
		size_t		arg = ++p->pos;

		while (peek(p) && peek(p) != ')')
			p->pos++;
		if (peek(p) != ')')
			return fail(p, "unterminated '('");
		if (c->op == QP_FTS || c->op == QP_PLFTS || c->op == QP_PHFTS || c->op == QP_WFTS)
			c->fts_config = arena_strndup(p->a, p->s + arg, p->pos - arg);
		else if (quantifiable(c->op) && strncmp(p->s + arg, "any)", 4) == 0)
			c->quant = QP_QUANT_ANY;
		else if (quantifiable(c->op) && strncmp(p->s + arg, "all)", 4) == 0)
			c->quant = QP_QUANT_ALL;
		else
			return fail(p, "expected (any), (all) or an fts configuration");
		p->pos++;
	}
	if (peek(p) != '.')
		return fail(p, "expected '.' after the operator");
	p->pos++;

	if (c->op == QP_IN)
		return parse_in_list(p, c);
	if (c->op == QP_IS)
	{
		static const char *const is_values[] = {"null", "true", "false", "unknown"};
		size_t		vs = p->pos;

		while (isalpha((unsigned char) peek(p)))
			p->pos++;
		for (int i = 0; i < 4; i++)
			if (p->pos - vs == strlen(is_values[i]) &&
				strncasecmp(p->s + vs, is_values[i], p->pos - vs) == 0)
			{
				c->value = is_values[i];
				return true;
			}
		p->pos = vs;
		return fail(p, "is. takes null, true, false or unknown");
	}
	if (in_tree)
	{
		if (!parse_tree_value(p, &c->value))
			return false;
	}
	else
	{
		c->value = arena_strdup(p->a, p->s + p->pos);
		p->pos += strlen(p->s + p->pos);
	}
	if (c->quant != QP_QUANT_NONE && c->value[0] != '{')
		return fail(p, "(any)/(all) take a {a,b} list");
	return true;
}

static bool parse_tree_list(Parser *p, QpCond *node, int depth);

/* cond := ["not."] ( ("or"|"and") "(" ... ")" | field "." operation ) */
static bool
parse_tree_cond(Parser *p, QpCond *c, int depth)
{
	if (accept_str(p, "not."))
		c->negate = true;
	if (accept_str(p, "or("))
	{
		p->pos--;
		c->kind = QP_OR;
		return parse_tree_list(p, c, depth + 1);
	}
	if (accept_str(p, "and("))
	{
		p->pos--;
		c->kind = QP_AND;
		return parse_tree_list(p, c, depth + 1);
	}
	if (!parse_field(p, ".,()", &c->field))
		return false;
	if (peek(p) != '.')
		return fail(p, "expected '.' after the column name");
	p->pos++;
	return parse_operation(p, c, true);
}

/* "(" cond ("," cond)* ")" */
static bool
parse_tree_list(Parser *p, QpCond *node, int depth)
{
	int			cap = 0;

	if (depth > 32)
		return fail(p, "logic tree nested too deeply");
	if (peek(p) != '(')
		return fail(p, "expected '('");
	p->pos++;
	for (;;)
	{
		QpCond	  **slot = arena_push(p->a, (void **) &node->children, &node->nchildren, &cap,
									  sizeof(QpCond *));

		*slot = arena_alloc(p->a, sizeof(QpCond));
		if (!parse_tree_cond(p, *slot, depth))
			return false;
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == ')')
		{
			p->pos++;
			return true;
		}
		return fail(p, "expected ',' or ')'");
	}
}

/* A type name for ::cast: letters, digits, '_', spaces, an optional trailing []. */
static bool
valid_type_name(const char *t)
{
	size_t		n = strlen(t);

	if (n == 0 || n > 63 || !(isalpha((unsigned char) t[0]) || t[0] == '_'))
		return false;
	if (n > 2 && strcmp(t + n - 2, "[]") == 0)
		n -= 2;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char) t[i]) || t[i] == '_' || t[i] == ' '))
			return false;
	return true;
}

static bool parse_select_list(Parser *p, QpSelect *sel, int depth);

static const char *const agg_names[] = {NULL, "avg", "count", "max", "min", "sum"};

const char *
qp_agg_name(QpAgg agg)
{
	return agg_names[agg];
}

static QpAgg
agg_from_name(const char *name, size_t n)
{
	for (int i = QP_AGG_AVG; i <= QP_AGG_SUM; i++)
		if (strlen(agg_names[i]) == n && strncmp(agg_names[i], name, n) == 0)
			return (QpAgg) i;
	return QP_AGG_NONE;
}

static bool
unknown_aggregate(Parser *p)
{
	return fail(p, "unknown aggregate function: use avg(), count(), max(), min() or sum()");
}

/* "::type" after a select item (stops before '.', so amount::int.sum() casts the input). */
static bool
parse_cast(Parser *p, const char **out)
{
	size_t		start = p->pos;
	char	   *t;

	while (peek(p) && peek(p) != ',' && peek(p) != ')' && peek(p) != '.')
		p->pos++;
	t = arena_strndup(p->a, p->s + start, p->pos - start);
	while (t[0] && t[strlen(t) - 1] == ' ')
		t[strlen(t) - 1] = '\0';
	if (!valid_type_name(t))
	{
		p->pos = start;
		return fail(p, "invalid type name in cast");
	}
	*out = t;
	return true;
}

/*
 * At "(" after a field: the unquoted field ends in ".agg" (amount.sum(), data->>k.max()) or is
 * count alone (count()).  Sets it->agg and consumes "()"; leaves an embed (rel(...)) untouched.
 */
static bool
split_aggregate(Parser *p, QpSelectItem *it)
{
	QpField    *f = &it->field;
	const char *last = f->njson ? f->json_keys[f->njson - 1] : f->name;
	const char *dot = strrchr(last, '.');
	bool		empty = strncmp(p->s + p->pos, "()", 2) == 0;

	if (dot == NULL)
	{
		if (!empty || f->njson > 0 || strcmp(f->name, "count") != 0)
			return true;		/* an embed */
		it->agg = QP_AGG_COUNT;
		f->name = NULL;
	}
	else
	{
		it->agg = agg_from_name(dot + 1, strlen(dot + 1));
		if (it->agg == QP_AGG_NONE && !empty)
			return true;		/* an embed of a relation with a dot in its name */
		if (it->agg == QP_AGG_NONE || dot == last)
			return unknown_aggregate(p);
		if (!empty)
			return fail(p, "an aggregate function takes no arguments: col.sum()");
		if (f->njson)
			f->json_keys[f->njson - 1] = arena_strndup(p->a, last, dot - last);
		else
			f->name = arena_strndup(p->a, last, dot - last);
	}
	p->pos += 2;
	return true;
}

/* ".agg()" after a quoted name or an input cast: "col".sum(), amount::int.sum(). */
static bool
parse_aggregate(Parser *p, QpSelectItem *it)
{
	size_t		start = ++p->pos;

	while (isalpha((unsigned char) peek(p)))
		p->pos++;
	it->agg = agg_from_name(p->s + start, p->pos - start);
	if (it->agg == QP_AGG_NONE)
	{
		p->pos = start;
		return unknown_aggregate(p);
	}
	if (!accept_str(p, "()"))
		return fail(p, "expected '()' after the aggregate function");
	return true;
}

/*
 * One select item: *, [alias:]field[::cast][.agg()[::cast]], count()[::cast],
 * [alias:]rel[!hint][!inner](...), ...rel(...).
 */
static bool
parse_select_item(Parser *p, QpSelectItem *it, int depth)
{
	skip_ws(p);
	if (accept_str(p, "*"))
	{
		it->kind = QP_SEL_STAR;
		return true;
	}
	if (accept_str(p, "..."))
		it->kind = QP_SEL_SPREAD;
	else
		it->kind = QP_SEL_FIELD;
	if (!parse_field(p, ",():!", &it->field))
		return false;
	if (peek(p) == ':' && p->s[p->pos + 1] != ':')
	{
		if (it->field.njson > 0 || it->kind == QP_SEL_SPREAD)
			return fail(p, "an alias must be a plain name");
		it->alias = it->field.name;
		p->pos++;
		if (!parse_field(p, ",():!", &it->field))
			return false;
	}
	if (it->kind == QP_SEL_FIELD && peek(p) == '(' && !split_aggregate(p, it))
		return false;
	while (it->agg == QP_AGG_NONE && peek(p) == '!')
	{
		const char *word;

		p->pos++;
		if (!parse_name(p, ",():!", &word))
			return false;
		if (strcmp(word, "inner") == 0)
			it->join = QP_JOIN_INNER;
		else if (strcmp(word, "left") == 0)
			it->join = QP_JOIN_LEFT;
		else
			it->hint = word;
	}
	if (it->agg == QP_AGG_NONE && peek(p) == '(')
	{
		if (it->field.njson > 0)
			return fail(p, "an embedded resource name cannot have a JSON path");
		if (it->kind != QP_SEL_SPREAD)
			it->kind = QP_SEL_EMBED;
		it->sub = arena_alloc(p->a, sizeof(QpSelect));
		p->pos++;
		if (!parse_select_list(p, it->sub, depth + 1))
			return false;
		if (peek(p) != ')')
			return fail(p, "expected ')' after an embedded select");
		p->pos++;
		skip_ws(p);
		return true;
	}
	if (it->kind == QP_SEL_SPREAD)
		return fail(p, "a spread needs an embedded resource: ...relation(columns)");
	if (it->hint || it->join != QP_JOIN_DEFAULT)
		return fail(p, "!hint and !inner only apply to embedded resources");
	if (it->agg == QP_AGG_NONE && accept_str(p, "::") && !parse_cast(p, &it->cast))
		return false;
	if (it->agg == QP_AGG_NONE && peek(p) == '.' && !parse_aggregate(p, it))
		return false;
	if (it->agg != QP_AGG_NONE && accept_str(p, "::") && !parse_cast(p, &it->agg_cast))
		return false;
	skip_ws(p);
	return true;
}

static bool
parse_select_list(Parser *p, QpSelect *sel, int depth)
{
	if (depth > 16)
		return fail(p, "embedding nested too deeply");
	skip_ws(p);
	if (peek(p) == ')' && depth > 0)
		return true;			/* empty embed: drivers() */
	for (;;)
	{
		QpSelectItem *it = arena_push(p->a, (void **) &sel->items, &sel->nitems, &sel->cap,
									  sizeof(QpSelectItem));

		if (!parse_select_item(p, it, depth))
			return false;
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == '\0' && depth == 0)
			return true;
		if (peek(p) == ')' && depth > 0)
			return true;
		return fail(p, "expected ',' or the end of the select list");
	}
}

QpSelect *
qp_parse_select(Arena *a, const char *s, QpError *err)
{
	Parser		p = {a, s, 0, err, "select"};
	QpSelect   *sel = arena_alloc(a, sizeof(QpSelect));

	if (!parse_select_list(&p, sel, 0))
		return NULL;
	return sel;
}

/* order := term ("," term)*; term := field ["." asc|desc] ["." nullsfirst|nullslast] */
static bool
parse_order(Parser *p, QpOrder *o)
{
	int			cap = 0;

	for (;;)
	{
		QpOrderTerm *t = arena_push(p->a, (void **) &o->terms, &o->nterms, &cap,
									sizeof(QpOrderTerm));

		if (!parse_field(p, ".,()", &t->field))
			return false;
		while (peek(p) == '.')
		{
			p->pos++;
			if (accept_str(p, "asc"))
				t->desc = false;
			else if (accept_str(p, "desc"))
				t->desc = true;
			else if (accept_str(p, "nullsfirst"))
				t->nulls = QP_NULLS_FIRST;
			else if (accept_str(p, "nullslast"))
				t->nulls = QP_NULLS_LAST;
			else
				return fail(p, "expected asc, desc, nullsfirst or nullslast");
		}
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == '\0')
			return true;
		return fail(p, "expected ',' or the end of the order list");
	}
}

/* A comma-separated list of names (columns=, on_conflict=). */
static bool
parse_name_list(Parser *p, const char ***out, int *n)
{
	int			cap = 0;

	for (;;)
	{
		const char **slot = arena_push(p->a, (void **) out, n, &cap, sizeof(char *));

		skip_ws(p);
		if (!parse_name(p, ",", slot))
			return false;
		skip_ws(p);
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == '\0')
			return true;
		return fail(p, "expected ','");
	}
}

static bool
parse_count(Parser *p, long long *out)
{
	char	   *end;

	errno = 0;
	if (!isdigit((unsigned char) peek(p)))
		return fail(p, "expected a non-negative integer");
	*out = strtoll(p->s, &end, 10);
	if (errno != 0 || *end != '\0')
		return fail(p, "expected a non-negative integer");
	return true;
}

char *
qp_percent_decode(Arena *a, const char *s, size_t n, bool plus_is_space)
{
	char	   *out = arena_alloc(a, n + 1);
	size_t		j = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n &&
			isxdigit((unsigned char) s[i + 1]) && isxdigit((unsigned char) s[i + 2]))
		{
			char		hex[3] = {s[i + 1], s[i + 2], '\0'};
			char		c = (char) strtol(hex, NULL, 16);

			if (c == '\0')
				return NULL;
			out[j++] = c;
			i += 2;
		}
		else if (s[i] == '+' && plus_is_space)
			out[j++] = ' ';
		else if (s[i] == '\0')
			return NULL;
		else
			out[j++] = s[i];
	}
	out[j] = '\0';
	return out;
}

bool
qp_decode_pairs(Arena *a, const char *raw, QpPair **pairs, int *npairs, QpError *err)
{
	int			cap = 0;

	*pairs = NULL;
	*npairs = 0;
	while (raw && *raw)
	{
		const char *amp = strchr(raw, '&');
		size_t		len = amp ? (size_t) (amp - raw) : strlen(raw);
		const char *eq = memchr(raw, '=', len);

		if (eq != NULL)
		{
			QpPair	   *pair = arena_push(a, (void **) pairs, npairs, &cap, sizeof(QpPair));

			pair->key = qp_percent_decode(a, raw, (size_t) (eq - raw), true);
			pair->value = qp_percent_decode(a, eq + 1, len - (size_t) (eq - raw) - 1, true);
			if (pair->key == NULL || pair->value == NULL)
			{
				snprintf(err->message, sizeof(err->message), "invalid query string");
				snprintf(err->details, sizeof(err->details),
						 "percent-encoded NUL bytes are not allowed");
				return false;
			}
		}
		raw += len + (amp ? 1 : 0);
	}
	return true;
}

/* Splits key "a.b.order" into path "a.b" and the last word; "not.or" keeps "not." */
static void
split_key(Arena *a, const char *key, const char **path, const char **last)
{
	const char *dot = strrchr(key, '.');

	if (dot == NULL)
	{
		*path = "";
		*last = key;
		return;
	}
	*last = dot + 1;
	*path = arena_strndup(a, key, (size_t) (dot - key));
	/* "x.not.or": the "not" belongs to the keyword */
	if ((strcmp(*last, "or") == 0 || strcmp(*last, "and") == 0))
	{
		size_t		plen = strlen(*path);

		if (strcmp(*path, "not") == 0)
		{
			*last = key;
			*path = "";
		}
		else if (plen > 4 && strcmp(*path + plen - 4, ".not") == 0)
		{
			*last = key + plen - 3;
			*path = arena_strndup(a, key, plen - 4);
		}
	}
}

static bool
parse_pair(Arena *a, const QpPair *pair, QpQuery *q, QpError *err)
{
	const char *path;
	const char *last;
	Parser		p = {a, pair->value, 0, err, "filter"};

	if (strcmp(pair->key, "select") == 0)
	{
		p.what = "select";
		q->select = arena_alloc(a, sizeof(QpSelect));
		return parse_select_list(&p, q->select, 0);
	}
	if (strcmp(pair->key, "columns") == 0)
	{
		p.what = "columns";
		return parse_name_list(&p, &q->columns, &q->ncolumns);
	}
	if (strcmp(pair->key, "on_conflict") == 0)
	{
		p.what = "on_conflict";
		return parse_name_list(&p, &q->on_conflict, &q->non_conflict);
	}
	split_key(a, pair->key, &path, &last);
	if (strcmp(last, "order") == 0)
	{
		QpOrder    *o = arena_push(a, (void **) &q->orders, &q->norders, &q->corders,
								   sizeof(QpOrder));

		p.what = "order";
		o->path = path;
		return parse_order(&p, o);
	}
	if (strcmp(last, "limit") == 0 || strcmp(last, "offset") == 0)
	{
		bool		is_limit = last[0] == 'l';
		QpPage	   *pg = is_limit
			? arena_push(a, (void **) &q->limits, &q->nlimits, &q->climits, sizeof(QpPage))
			: arena_push(a, (void **) &q->offsets, &q->noffsets, &q->coffsets, sizeof(QpPage));

		p.what = last;
		pg->path = path;
		return parse_count(&p, &pg->value);
	}
	if (strcmp(last, "or") == 0 || strcmp(last, "and") == 0 ||
		strcmp(last, "not.or") == 0 || strcmp(last, "not.and") == 0)
	{
		QpFilter   *f = arena_push(a, (void **) &q->filters, &q->nfilters, &q->cfilters,
								   sizeof(QpFilter));

		p.what = "logic tree";
		f->path = path;
		f->cond = arena_alloc(a, sizeof(QpCond));
		f->cond->negate = strncmp(last, "not.", 4) == 0;
		f->cond->kind = strstr(last, "or") ? QP_OR : QP_AND;
		if (!parse_tree_list(&p, f->cond, 0))
			return false;
		if (peek(&p) != '\0')
			return fail(&p, "unexpected text after the logic tree");
		return true;
	}
	{
		QpFilter   *f = arena_push(a, (void **) &q->filters, &q->nfilters, &q->cfilters,
								   sizeof(QpFilter));
		Parser		kp = {a, last, 0, err, "filter"};

		f->path = path;
		f->cond = arena_alloc(a, sizeof(QpCond));
		if (!parse_field(&kp, "", &f->cond->field))
			return false;
		return parse_operation(&p, f->cond, false);
	}
}

bool
qp_parse(Arena *a, const QpPair *pairs, int npairs, const bool *skip, QpQuery *q, QpError *err)
{
	memset(q, 0, sizeof(*q));
	for (int i = 0; i < npairs; i++)
	{
		if (skip && skip[i])
			continue;
		if (!parse_pair(a, &pairs[i], q, err))
			return false;
	}
	return true;
}
