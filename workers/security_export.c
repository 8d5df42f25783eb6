/*
 * security_export.c — ship freight.security_events out of the database, run by the janitor.
 *
 *  - freight.security_events_file: append each new event as one OCSF-style JSON line
 *    (freight.security_events_jsonl), fsync'd, file mode 0600 — for Filebeat, Vector, Splunk UF.
 *  - freight.security_syslog_server ("host" or "host:port", default port 514): send each new
 *    event as one RFC 5424 message over UDP (freight.security_events_syslog).
 *
 * Each target keeps its cursor (last exported id) in freight.security_export_cursors, updated in
 * the transaction that read the batch, after the batch was written: delivery is at least once
 * (a crash in between repeats a batch; the event id is in every line to spot repeats).
 */
#include "postgres.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "security_export.h"

#define EXPORT_BATCH	1000

static char *security_events_file = NULL;
static char *security_syslog_server = NULL;

void
security_export_define_gucs(void)
{
	DefineCustomStringVariable("freight.security_events_file",
							   "File the janitor appends security events to, as OCSF-style JSON lines.",
							   "Empty: no file export.",
							   &security_events_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("freight.security_syslog_server",
							   "host or host:port the janitor sends security events to, as RFC 5424 syslog over UDP.",
							   "Empty: no syslog export.  The default port is 514.",
							   &security_syslog_server, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
}

bool
security_export_configured(void)
{
	return (security_events_file && security_events_file[0]) ||
		(security_syslog_server && security_syslog_server[0]);
}

/* Last id exported to target (0 if never).  Inside SPI. */
static int64
cursor_get(const char *target)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(target)};
	bool		isnull;

	SPI_execute_with_args("SELECT last_id FROM freight.security_export_cursors WHERE target = $1",
						  1, types, args, NULL, true, 1);
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
cursor_set(const char *target, int64 last_id)
{
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		args[2] = {CStringGetTextDatum(target), Int64GetDatum(last_id)};

	SPI_execute_with_args("INSERT INTO freight.security_export_cursors (target, last_id) VALUES ($1, $2) "
						  "ON CONFLICT (target) DO UPDATE SET last_id = excluded.last_id, "
						  "updated_at = pg_catalog.now()",
						  2, types, args, NULL, false, 0);
}

/* Fetch the next batch after the target's cursor with query ($1 = after id, $2 = limit). */
static uint64
fetch_batch(const char *target, const char *query, int64 *last_id)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		args[2];
	bool		isnull;

	args[0] = Int64GetDatum(cursor_get(target));
	args[1] = Int32GetDatum(EXPORT_BATCH);
	SPI_execute_with_args(query, 2, types, args, NULL, true, 0);
	if (SPI_processed > 0)
		*last_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[SPI_processed - 1],
											   SPI_tuptable->tupdesc, 1, &isnull));
	return SPI_processed;
}

/* The cursor names of the two targets. */
static void
file_target(char *buf, size_t size)
{
	snprintf(buf, size, "file:%s", security_events_file);
}

static void
syslog_target(char *buf, size_t size)
{
	snprintf(buf, size, "syslog:%s", security_syslog_server);
}

static void
export_file(void)
{
	char		target[MAXPGPATH + 8];
	int64		last_id = 0;
	uint64		n;
	StringInfoData buf;
	int			fd;

	file_target(target, sizeof(target));
	n = fetch_batch(target, "SELECT id, line FROM freight.security_events_jsonl($1, $2)", &last_id);
	if (n == 0)
		return;
	initStringInfo(&buf);
	for (uint64 i = 0; i < n; i++)
	{
		appendStringInfoString(&buf, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		appendStringInfoChar(&buf, '\n');
	}
	fd = OpenTransientFilePerm(security_events_file, O_WRONLY | O_APPEND | O_CREAT | PG_BINARY,
							   S_IRUSR | S_IWUSR);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open security event file \"%s\": %m", security_events_file)));
	if (write(fd, buf.data, buf.len) != buf.len || pg_fsync(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write security event file \"%s\": %m", security_events_file)));
	CloseTransientFile(fd);
	cursor_set(target, last_id);
}

static void
export_syslog(void)
{
	char		target[MAXPGPATH + 8];
	char		host[256];
	const char *port = "514";
	char	   *colon;
	char		hostname[256];
	Oid			types[3] = {INT8OID, INT4OID, TEXTOID};
	Datum		args[3];
	struct addrinfo hints;
	struct addrinfo *addr;
	int			sock;
	int64		last_id = 0;
	bool		isnull;
	int			rc;

	syslog_target(target, sizeof(target));
	strlcpy(host, security_syslog_server, sizeof(host));
	colon = strrchr(host, ':');
	if (colon != NULL && strchr(host, ':') == colon)
	{
		*colon = '\0';
		port = colon + 1;
	}
	if (gethostname(hostname, sizeof(hostname)) != 0)
		strlcpy(hostname, "-", sizeof(hostname));

	args[0] = Int64GetDatum(cursor_get(target));
	args[1] = Int32GetDatum(EXPORT_BATCH);
	args[2] = CStringGetTextDatum(hostname);
	SPI_execute_with_args("SELECT id, line FROM freight.security_events_syslog($1, $2, $3)",
						  3, types, args, NULL, true, 0);
	if (SPI_processed == 0)
		return;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &addr);
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not resolve syslog server \"%s\": %s", security_syslog_server,
						gai_strerror(rc))));
	sock = socket(addr->ai_family, SOCK_DGRAM, 0);
	if (sock < 0)
	{
		freeaddrinfo(addr);
		ereport(ERROR, (errcode_for_socket_access(), errmsg("could not create socket: %m")));
	}
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *line = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (sendto(sock, line, strlen(line), 0, addr->ai_addr, addr->ai_addrlen) < 0)
		{
			close(sock);
			freeaddrinfo(addr);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not send to syslog server \"%s\": %m", security_syslog_server)));
		}
		last_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	close(sock);
	freeaddrinfo(addr);
	cursor_set(target, last_id);
}

/*
 * One batch to the file (target SECURITY_EXPORT_FILE) or to syslog, if configured; called by the
 * janitor inside a transaction with SPI, one per target, so that a failing one stops only itself.
 */
void
security_export_run(SecurityExportTarget target)
{
	if (target == SECURITY_EXPORT_FILE && security_events_file && security_events_file[0])
		export_file();
	if (target == SECURITY_EXPORT_SYSLOG && security_syslog_server && security_syslog_server[0])
		export_syslog();
}

/* The last id every configured target has exported, -1 without an export.  Inside SPI. */
int64
security_export_low_water(void)
{
	char		target[MAXPGPATH + 8];
	int64		low = -1;

	if (security_events_file && security_events_file[0])
	{
		file_target(target, sizeof(target));
		low = cursor_get(target);
	}
	if (security_syslog_server && security_syslog_server[0])
	{
		int64		syslog_last;

		syslog_target(target, sizeof(target));
		syslog_last = cursor_get(target);
		low = low < 0 ? syslog_last : Min(low, syslog_last);
	}
	return low;
}
