# common.sh — freightctl's settings and the helpers every command uses (sourced, not run).
#
# Settings (environment or the conf file; defaults match `make run`):
#   FREIGHT_DBA_HOME      where freightctl keeps pgbackrest.conf, logs, locks, the replica registry
#                         (default $FREIGHT_HOME/dba, FREIGHT_HOME defaulting to ./.freight)
#   FREIGHT_PGDATA        the primary's data directory          (default $FREIGHT_HOME/data)
#   FREIGHT_PGHOST        host or unix-socket directory          (default 127.0.0.1)
#   FREIGHT_PGPORT        port                                   (default 5433)
#   FREIGHT_PGSOCKET      unix-socket directory pgBackRest uses  (default: asked from the server)
#   FREIGHT_PGUSER        superuser                              (default postgres)
#   FREIGHT_DB            the freight database                   (default freight)
#   FREIGHT_PGBIN         PostgreSQL binaries                    (default pg_config --bindir)
#   FREIGHT_STANZA        pgBackRest stanza                      (default freight)
#   FREIGHT_REPO_TYPE     posix | s3 | host (a remote repository host over SSH)  (default posix)
#   FREIGHT_REPO_PATH     repository path (local or inside the bucket / on the host)
#   FREIGHT_REPO_S3_BUCKET, _ENDPOINT, _REGION, _KEY, _KEY_SECRET, _URI_STYLE (host|path),
#   FREIGHT_REPO_S3_VERIFY_TLS (y|n), _HOST, _PORT, _CA_FILE       S3-compatible storage
#   FREIGHT_REPO_HOST, FREIGHT_REPO_HOST_USER                   remote repository host
#   FREIGHT_REPO_HOST_PORT, _CONFIG, _SSH   its SSH port, its pgbackrest.conf, the ssh command
#   FREIGHT_REPO_CIPHER_PASS  encrypt the repository (aes-256-cbc) with this passphrase
#   FREIGHT_RETENTION_FULL    full backups kept (default 2); FREIGHT_RETENTION_DIFF (optional)
#   FREIGHT_COMPRESS_TYPE     zst | lz4 | gz | bz2 | none (default zst), FREIGHT_COMPRESS_LEVEL
#   FREIGHT_PROCESS_MAX       parallel processes for backup/restore (default 2)
#   FREIGHT_ARCHIVE_ASYNC     y: asynchronous archive-push/get with a spool directory (default n)
#   FREIGHT_ARCHIVE_TIMEOUT   archive_timeout set by setup, seconds (default 60)
#   FREIGHT_KEY_FILE          the key-encryption key to copy to replicas (default: the primary's
#                             freight.key_file)
#   FREIGHT_MONITOR_URI       pg_auto_failover monitor; when set, failover asks the monitor

die() {
	echo "freightctl: error: $*" >&2
	exit 1
}

say() {
	echo "freightctl: $*"
}

load_settings() {
	FREIGHT_HOME=${FREIGHT_HOME:-$PWD/.freight}
	FREIGHT_DBA_HOME=${FREIGHT_DBA_HOME:-$FREIGHT_HOME/dba}
	local conf=${FREIGHTCTL_CONF:-$FREIGHT_DBA_HOME/freightctl.conf}
	if [ -n "${FREIGHTCTL_CONF:-}" ] && [ ! -f "$conf" ]; then
		die "configuration file $conf does not exist"
	fi
	# shellcheck disable=SC1090
	[ -f "$conf" ] && . "$conf"
	# After `freightctl failover` the promoted node is the primary.
	# shellcheck disable=SC1091
	[ -f "$FREIGHT_DBA_HOME/current-primary.conf" ] && . "$FREIGHT_DBA_HOME/current-primary.conf"
	FREIGHT_PGDATA=${FREIGHT_PGDATA:-$FREIGHT_HOME/data}
	FREIGHT_PGHOST=${FREIGHT_PGHOST:-127.0.0.1}
	FREIGHT_PGPORT=${FREIGHT_PGPORT:-5433}
	FREIGHT_PGSOCKET=${FREIGHT_PGSOCKET:-}
	FREIGHT_PGUSER=${FREIGHT_PGUSER:-postgres}
	FREIGHT_DB=${FREIGHT_DB:-freight}
	FREIGHT_PGBIN=${FREIGHT_PGBIN:-$( (pg_config --bindir || /usr/lib/postgresql/15/bin/pg_config --bindir) 2>/dev/null)}
	FREIGHT_STANZA=${FREIGHT_STANZA:-freight}
	FREIGHT_REPO_TYPE=${FREIGHT_REPO_TYPE:-posix}
	FREIGHT_RETENTION_FULL=${FREIGHT_RETENTION_FULL:-2}
	FREIGHT_RETENTION_DIFF=${FREIGHT_RETENTION_DIFF:-}
	FREIGHT_COMPRESS_TYPE=${FREIGHT_COMPRESS_TYPE:-zst}
	FREIGHT_COMPRESS_LEVEL=${FREIGHT_COMPRESS_LEVEL:-3}
	FREIGHT_PROCESS_MAX=${FREIGHT_PROCESS_MAX:-2}
	FREIGHT_ARCHIVE_ASYNC=${FREIGHT_ARCHIVE_ASYNC:-n}
	FREIGHT_ARCHIVE_TIMEOUT=${FREIGHT_ARCHIVE_TIMEOUT:-60}
	FREIGHT_MONITOR_URI=${FREIGHT_MONITOR_URI:-}
	PGBACKREST_CONF="$FREIGHT_DBA_HOME/pgbackrest.conf"
	export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}
	[ -x "$FREIGHT_PGBIN/psql" ] || die "PostgreSQL binaries not found in \"$FREIGHT_PGBIN\"" \
		"(set FREIGHT_PGBIN)"
}

# PostgreSQL refuses to run as root: as root, re-run as the owner of the data directory.
run_as_cluster_owner() {
	[ "$(id -u)" = 0 ] || return 0
	local owner
	owner=$(stat -c %U "$FREIGHT_PGDATA" 2>/dev/null) ||
		die "running as root, and $FREIGHT_PGDATA does not exist to tell whose cluster it is"
	[ "$owner" != root ] || die "$FREIGHT_PGDATA is owned by root; run freightctl as the cluster's owner"
	mkdir -p "$FREIGHT_DBA_HOME"
	chown "$owner" "$FREIGHT_DBA_HOME"
	exec runuser -u "$owner" -- env FREIGHT_HOME="$FREIGHT_HOME" FREIGHT_DBA_HOME="$FREIGHT_DBA_HOME" \
		"$(readlink -f "$0")" "$@"
}

# sql HOST PORT DB QUERY: one query, unaligned tuples, errors fatal.
sql() {
	"$FREIGHT_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -tA -h "$1" -p "$2" -U "$FREIGHT_PGUSER" -d "$3" -c "$4"
}

# psql_primary QUERY [DB]: a query on the primary.
psql_primary() {
	sql "$FREIGHT_PGHOST" "$FREIGHT_PGPORT" "${2:-postgres}" "$1"
}

primary_is_up() {
	"$FREIGHT_PGBIN/pg_isready" -q -h "$FREIGHT_PGHOST" -p "$FREIGHT_PGPORT" -U "$FREIGHT_PGUSER"
}

pgbr() {
	[ -f "$PGBACKREST_CONF" ] || die "$PGBACKREST_CONF is missing: run \"freightctl setup\" first"
	pgbackrest --config="$PGBACKREST_CONF" --stanza="$FREIGHT_STANZA" "$@"
}

# A TCP port nobody listens on at 127.0.0.1 (bash's /dev/tcp: no extra tool needed), taken from
# below the kernel's ephemeral range: a port in that range can be held by an outgoing connection
# or its TIME_WAIT, which a connect probe does not see and which still makes the server's bind fail.
free_port() {
	local low=32768 p tries=0
	read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 11024 ] || low=11024
	while [ $tries -lt 200 ]; do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	die "no free TCP port found on 127.0.0.1"
}

now_ms() {
	date +%s%3N
}

# seconds_since START_MS: elapsed seconds with one decimal.
seconds_since() {
	local d=$(($(now_ms) - $1))
	printf '%d.%01d' $((d / 1000)) $(((d % 1000) / 100))
}

# --- WAL segment arithmetic (names are TTTTTTTT LLLLLLLL SSSSSSSS, as in pg_walfile_name) ---

# wal_seg_size: bytes per WAL segment (asked once from the primary, 16 MB if it is down).
wal_seg_size() {
	if [ -z "${WAL_SEG_SIZE:-}" ]; then
		WAL_SEG_SIZE=$(psql_primary "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'" 2>/dev/null) ||
			WAL_SEG_SIZE=16777216
	fi
	echo "$WAL_SEG_SIZE"
}

segs_per_xlogid() {
	echo $((0x100000000 / $(wal_seg_size)))
}

# segname_to_segno NAME: the segment number of a WAL file name (ignores the timeline).
segname_to_segno() {
	local n=$1
	echo $((0x${n:8:8} * $(segs_per_xlogid) + 0x${n:16:8}))
}

# segno_to_segname TLI SEGNO
segno_to_segname() {
	local per
	per=$(segs_per_xlogid)
	printf '%08X%08X%08X' "$1" $(($2 / per)) $(($2 % per))
}

# lsn_to_int LSN: "16/B374D848" as a 64-bit integer.
lsn_to_int() {
	echo $(((0x${1%/*} << 32) | 0x${1#*/}))
}

lsn_to_segno() {
	echo $(($(lsn_to_int "$1") / $(wal_seg_size)))
}

is_lsn() {
	[[ $1 =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]]
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.1 s until it succeeds (COMMAND is run
# anew each time: pass a function, not a test of an already-expanded "$(...)").
wait_until() {
	local limit=$1 what=$2 start
	shift 2
	start=$(now_ms)
	until "$@" >/dev/null 2>&1; do
		[ $(($(now_ms) - start)) -lt $((limit * 1000)) ] || die "timed out after ${limit} s waiting for $what"
		sleep 0.1
	done
}
