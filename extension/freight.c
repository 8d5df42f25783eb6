/*
 * freight.c — the library's entry point.
 *
 * freight.so must be loaded through shared_preload_libraries: background workers and shared
 * memory can only be set up by the postmaster.  _PG_init() refuses to run otherwise (with a hint)
 * and then lets every module register its GUCs, shared memory requests and workers, in the order
 * listed in freight.h.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "freight.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("freight must be loaded via shared_preload_libraries"),
				 errhint("Add freight to shared_preload_libraries in postgresql.conf and restart the server.")));

	crypto_keys_init();
	ratelimit_init();
	security_init();
	cdc_worker_init();
	cdc_slot_sync_init();
	webhook_dispatch_init();

	MarkGUCPrefixReserved("freight");
}
