/*
 * cdc_slot_plan.c — decides what a standby does with its copy of the CDC slot (see the header).
 *
 * The published state only moves forward while one primary lives, so a local copy normally is
 * behind or equal.  A copy ahead of it comes from another history: the old primary rejoining as a
 * standby (its own slot), or a standby that followed a newer primary.  Such a copy is set back
 * to the published state, or dropped when this standby lacks the WAL to honour that state: a
 * slot position from a diverged timeline must never be used for decoding.
 */
#include "cdc_slot_plan.h"

#include <stddef.h>

bool
cdc_xid_precedes(uint32_t a, uint32_t b)
{
	return (int32_t) (a - b) < 0;
}

static CdcSlotPlan
plan(CdcSlotAction action, const char *reason)
{
	CdcSlotPlan p = {action, reason};

	return p;
}

static bool
same_position(const CdcSlotPosition *a, const CdcSlotPosition *b)
{
	return a->restart_lsn == b->restart_lsn && a->confirmed_flush == b->confirmed_flush &&
		a->catalog_xmin == b->catalog_xmin;
}

static bool
ahead_of(const CdcSlotPosition *local, const CdcSlotPosition *primary)
{
	return local->restart_lsn > primary->restart_lsn ||
		local->confirmed_flush > primary->confirmed_flush ||
		cdc_xid_precedes(primary->catalog_xmin, local->catalog_xmin);
}

CdcSlotPlan
cdc_slot_plan(const CdcSlotPosition *primary, const CdcSlotPosition *local,
			  uint64_t oldest_wal, uint64_t replayed)
{
	bool		local_ahead;

	if (local->exists && !local->is_freight)
		return plan(CDC_SLOT_FOREIGN, "a replication slot of that name exists here that is not a logical slot of freight's plugin and database");
	if (!primary->exists)
		return local->exists
			? plan(CDC_SLOT_DROP, "the primary has no such slot any more")
			: plan(CDC_SLOT_KEEP, "the primary has no such slot");
	if (!primary->is_freight || primary->catalog_xmin == 0 || primary->restart_lsn == 0 ||
		primary->confirmed_flush < primary->restart_lsn)
		return local->exists
			? plan(CDC_SLOT_DROP, "the primary's slot is not a usable freight slot of this database")
			: plan(CDC_SLOT_UNUSABLE, "the primary's slot is not a usable freight slot of this database");

	local_ahead = local->exists && ahead_of(local, primary);
	if (primary->restart_lsn < oldest_wal || primary->restart_lsn > replayed)
		return local_ahead
			? plan(CDC_SLOT_DROP, "the local slot is ahead of the primary's (a diverged history) and this server lacks the WAL to set it back")
			: plan(CDC_SLOT_WAIT_WAL, "the primary's slot needs WAL this standby does not have; waiting for it to advance");
	if (!local->exists)
		return plan(CDC_SLOT_CREATE, "no local copy yet");
	if (local_ahead)
		return plan(CDC_SLOT_REWIND, "the local slot is ahead of the primary's (a diverged history)");
	if (same_position(local, primary))
		return plan(CDC_SLOT_KEEP, "in sync");
	return plan(CDC_SLOT_ADVANCE, "the primary's slot advanced");
}
