/*
 * cdc_slot_plan_test.c — unit test of the standby's slot-copy decisions (workers/cdc_slot_plan.c).
 * Prints "N passed, M failed".
 */
#include <stdio.h>

#include "cdc_slot_plan.h"
#include "unit_check.h"

static CdcSlotPosition
slot(uint64_t restart, uint64_t confirmed, uint32_t xmin)
{
	CdcSlotPosition s = {true, true, restart, confirmed, xmin};

	return s;
}

static CdcSlotAction
act(CdcSlotPosition primary, CdcSlotPosition local, uint64_t oldest_wal, uint64_t replayed)
{
	return cdc_slot_plan(&primary, &local, oldest_wal, replayed).action;
}

int
main(void)
{
	CdcSlotPosition none = {false, false, 0, 0, 0};
	CdcSlotPosition pub = slot(0x5000000, 0x5100000, 1000);
	CdcSlotPosition foreign = slot(0x4000000, 0x4000000, 900);

	foreign.is_freight = false;

	CHECK(cdc_xid_precedes(999, 1000), "999 precedes 1000");
	CHECK(!cdc_xid_precedes(1000, 1000), "an xid does not precede itself");
	CHECK(cdc_xid_precedes(4294967000u, 100), "xids compare across wraparound");
	CHECK(!cdc_xid_precedes(100, 4294967000u), "xids compare across wraparound (other way)");

	CHECK(act(none, none, 0x1000000, 0x9000000) == CDC_SLOT_KEEP, "no slot anywhere: nothing to do");
	CHECK(act(none, slot(0x5000000, 0x5000000, 1000), 0x1000000, 0x9000000) == CDC_SLOT_DROP,
		  "slot dropped on the primary: the copy is dropped");
	CHECK(act(pub, none, 0x1000000, 0x9000000) == CDC_SLOT_CREATE, "first sync creates the copy");
	CHECK(act(pub, pub, 0x1000000, 0x9000000) == CDC_SLOT_KEEP, "in sync: nothing to do");
	CHECK(act(pub, slot(0x4000000, 0x4100000, 990), 0x1000000, 0x9000000) == CDC_SLOT_ADVANCE,
		  "copy behind: advance");
	CHECK(act(pub, slot(0x5000000, 0x5000000, 1000), 0x1000000, 0x9000000) == CDC_SLOT_ADVANCE,
		  "only confirmed_flush behind: advance");
	CHECK(act(pub, slot(0x6000000, 0x6100000, 1100), 0x1000000, 0x9000000) == CDC_SLOT_REWIND,
		  "copy ahead (old primary rejoined): set back");
	CHECK(act(pub, slot(0x5000000, 0x5100000, 1001), 0x1000000, 0x9000000) == CDC_SLOT_REWIND,
		  "catalog_xmin ahead: set back");
	CHECK(act(pub, none, 0x5800000, 0x9000000) == CDC_SLOT_WAIT_WAL,
		  "WAL before the standby's oldest segment: wait");
	CHECK(act(pub, none, 0x1000000, 0x4000000) == CDC_SLOT_WAIT_WAL,
		  "restart_lsn beyond what is replayed: wait");
	CHECK(act(pub, slot(0x6000000, 0x6100000, 1100), 0x5800000, 0x9000000) == CDC_SLOT_DROP,
		  "copy ahead and no WAL to set it back: dropped");
	CHECK(act(pub, foreign, 0x1000000, 0x9000000) == CDC_SLOT_FOREIGN, "someone else's slot: left alone");
	CHECK(act(none, foreign, 0x1000000, 0x9000000) == CDC_SLOT_FOREIGN,
		  "someone else's slot, primary without one: left alone");

	{
		CdcSlotPosition other = pub;

		other.is_freight = false;
		CHECK(act(other, none, 0x1000000, 0x9000000) == CDC_SLOT_UNUSABLE, "primary slot of another plugin");
		CHECK(act(other, pub, 0x1000000, 0x9000000) == CDC_SLOT_DROP,
			  "primary slot became unusable: copy dropped");
		other = pub;
		other.catalog_xmin = 0;
		CHECK(act(other, none, 0x1000000, 0x9000000) == CDC_SLOT_UNUSABLE, "no catalog_xmin: unusable");
		other = pub;
		other.confirmed_flush = other.restart_lsn - 1;
		CHECK(act(other, none, 0x1000000, 0x9000000) == CDC_SLOT_UNUSABLE,
			  "confirmed_flush before restart_lsn: unusable");
	}
	CHECK(act(slot(0x5000000, 0x5100000, 5), slot(0x4000000, 0x4000000, 4294967000u),
			  0x1000000, 0x9000000) == CDC_SLOT_ADVANCE, "catalog_xmin wrapped around: advance");
	CHECK(cdc_slot_plan(&pub, &none, 0x1000000, 0x9000000).reason != NULL, "every plan has a reason");

	return unit_summary();
}
