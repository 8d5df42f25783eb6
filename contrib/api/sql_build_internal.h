/*
 * sql_build_internal.h — what the three parts of the SQL builder share: sql_filter.c (names,
 * parameters, filters, order, paging), sql_embed.c (relationships, select lists, embeds) and
 * sql_build.c (whole statements).  Not for use outside the builder.
 */
#ifndef API_SQL_BUILD_INTERNAL_H
#define API_SQL_BUILD_INTERNAL_H

#include "sql_build.h"

/* State of one build: the request, the statement being built and which scoped parts were used. */
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

/*
 * A resolved embed: the target relation and how to join it to its parent.  Many-to-many goes
 * through a junction table: fk is junction -> parent and junction_fk junction -> target.
 */
typedef struct Embed
{
	const ScRelation *target;
	const ScForeignKey *fk;
	bool		parent_has_fk;	/* many-to-one: parent.from_cols -> target.to_cols */
	bool		to_one;
	const ScForeignKey *junction_fk;	/* many-to-many, else NULL */
} Embed;

/* sql_filter.c */
void		sb_param(Ctx *c, Buf *b, const char *value);
void		sb_param_int(Ctx *c, Buf *b, long long value);
void		sb_qualified(Buf *b, const char *schema, const char *name);
bool		sb_unknown_column(Ctx *c, const ScRelation *rel, const char *name);
bool		sb_field_expr(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const QpField *f);
const char *sb_path_join(Ctx *c, const char *parent, const char *name);
const char *sb_embed_name(const QpSelectItem *it);
bool		sb_filters_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias,
								const QpSelect *sel, const char *path);
bool		sb_order_for_path(Ctx *c, Buf *b, const ScRelation *rel, const char *alias, const char *path);
void		sb_page_for_path(Ctx *c, Buf *b, const char *path);

/* sql_embed.c */
/* The select list into b; with aggregates, " GROUP BY <the other columns>" into group. */
bool		sb_select_list(Ctx *c, Buf *b, Buf *where, Buf *group, const ScRelation *rel,
						   const char *alias, const QpSelect *sel, const char *path);
bool		sb_embed_exists(Ctx *c, Buf *b, const ScRelation *parent, const char *parent_alias,
							const QpSelectItem *it, const char *path);

#endif
