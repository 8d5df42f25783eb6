/*
 * unit_arena.h — an allocation arena for the C unit tests and fuzz drivers, standing in for a
 * PostgreSQL memory context: unit_arena_alloc() hands out zeroed, 16-byte aligned memory (the
 * signature of the allocator in RouteEnv and ForecastEnv) and unit_arena_reset() frees it all.
 */
#ifndef UNIT_ARENA_H
#define UNIT_ARENA_H

#include <stdlib.h>

typedef struct UnitBlock
{
	struct UnitBlock *next;
	_Alignas(16) unsigned char data[];
} UnitBlock;

static UnitBlock *unit_blocks;

static void *
unit_arena_alloc(void *ctx, size_t size)
{
	UnitBlock  *b = calloc(1, sizeof(UnitBlock) + size);

	(void) ctx;
	if (!b)
		abort();
	b->next = unit_blocks;
	unit_blocks = b;
	return b->data;
}

/* Memory of the arena goes back in bulk: a release of one block does nothing. */
static inline void
unit_arena_release(void *ctx, void *p)
{
	(void) ctx;
	(void) p;
}

static inline void
unit_arena_reset(void)
{
	while (unit_blocks)
	{
		UnitBlock  *next = unit_blocks->next;

		free(unit_blocks);
		unit_blocks = next;
	}
}

#endif							/* UNIT_ARENA_H */
