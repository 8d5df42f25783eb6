/*
 * security_retention.c — expiry of freight.security_events, run by the janitor.
 *
 * freight.security_events_retention (default 90 days, 0 keeps every event) bounds the table: an
 * attacker who sends bad tokens all day adds a row per attempt.  Events are deleted oldest first,
 * a batch per transaction, and never one that a configured export (file or syslog, see
 * security_export.c) has not shipped yet: the exports are the long-term record.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/guc.h"

#include "security_export.h"
#include "security_retention.h"

static int	security_events_retention_min = 90 * 24 * 60;

void
security_retention_define_gucs(void)
{
	DefineCustomIntVariable("freight.security_events_retention",
							"How long security events are kept in freight.security_events; 0 keeps them.",
							"Events a configured export has not shipped yet are kept until it has.",
							&security_events_retention_min, 90 * 24 * 60, 0, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_MIN, NULL, NULL, NULL);
}

bool
security_retention_enabled(void)
{
	return security_events_retention_min > 0;
}

/* Deletes one batch of expired events; inside a transaction with SPI.  Returns how many. */
uint64
security_retention_run(void)
{
	Oid			types[3] = {INT4OID, INT8OID, INT4OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	int64		exported = security_export_low_water();
	bool		isnull;

	args[0] = Int32GetDatum(security_events_retention_min);
	args[1] = Int64GetDatum(exported);
	if (exported < 0)
		nulls[1] = 'n';			/* no export configured */
	args[2] = Int32GetDatum(SECURITY_RETENTION_BATCH);
	if (SPI_execute_with_args("SELECT freight.security_events_purge($1 * interval '1 minute', $2, $3)",
							  3, types, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "freight.security_events_purge() failed");
	return (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}
