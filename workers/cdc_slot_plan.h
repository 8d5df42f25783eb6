/*
 * cdc_slot_plan.h — what a standby does with its copy of the CDC slot (pure, no PostgreSQL).
 *
 * The primary publishes the state of its slot "freight_cdc" in freight.cdc_slot_state; each
 * standby keeps a local logical slot of the same name at that state (workers/cdc_slot_sync.c), so
 * that the CDC worker of a promoted standby decodes from where the old primary stopped.  Given
 * the published state, the local slot and the WAL this standby has, cdc_slot_plan() says what to
 * do.  Unit-tested by test/unit/cdc_slot_plan.sh.
 */
#ifndef CDC_SLOT_PLAN_H
#define CDC_SLOT_PLAN_H

#include <stdbool.h>
#include <stdint.h>

/* A slot's position: the published one (the primary's) or the local copy. */
typedef struct CdcSlotPosition
{
	bool		exists;
	bool		is_freight;		/* logical, plugin "freight", database freight.database */
	uint64_t	restart_lsn;	/* oldest WAL decoding needs */
	uint64_t	confirmed_flush;	/* changes before it are consumed */
	uint32_t	catalog_xmin;	/* oldest catalog rows decoding needs */
} CdcSlotPosition;

typedef enum CdcSlotAction
{
	CDC_SLOT_KEEP,				/* nothing to do */
	CDC_SLOT_CREATE,			/* no local slot yet: create it at the published state */
	CDC_SLOT_ADVANCE,			/* the local slot is behind: move it forward */
	CDC_SLOT_REWIND,			/* the local slot is ahead (a diverged history): set it back */
	CDC_SLOT_DROP,				/* the local slot must go (reason says why) */
	CDC_SLOT_WAIT_WAL,			/* the published state needs WAL this standby does not have */
	CDC_SLOT_FOREIGN,			/* a slot of that name freight does not own: left alone */
	CDC_SLOT_UNUSABLE			/* the published slot is not a freight slot of this database */
} CdcSlotAction;

typedef struct CdcSlotPlan
{
	CdcSlotAction action;
	const char *reason;			/* one sentence for the log, lower-case, no period */
} CdcSlotPlan;

/*
 * primary: the published state (exists = false when the primary has no slot); local: this
 * standby's slot; oldest_wal: first LSN of the oldest WAL segment this standby still has;
 * replayed: how far it has replayed.
 */
extern CdcSlotPlan cdc_slot_plan(const CdcSlotPosition *primary, const CdcSlotPosition *local,
								 uint64_t oldest_wal, uint64_t replayed);

/* Transaction-id order modulo 2^32, as PostgreSQL compares normal xids. */
extern bool cdc_xid_precedes(uint32_t a, uint32_t b);

#endif							/* CDC_SLOT_PLAN_H */
