# replica.sh — `freightctl replica add|status|remove`: streaming replicas (sourced).
#
# A replica is a pg_basebackup of the primary with its own physical replication slot
# (freight_NAME), hot_standby_feedback on, the repository's restore_command as a fallback, and
# its own copy of the key-encryption key file: freight on a replica decrypts with the same key as
# the primary, and the key never lives in a data directory.  Replicas are registered in
# $FREIGHT_DBA_HOME/replicas/NAME so status, remove and failover can find them.

registry_dir() {
	echo "$FREIGHT_DBA_HOME/replicas"
}

# load_replica NAME: sets REPLICA_DIR, REPLICA_PORT, REPLICA_KEY_FILE.
load_replica() {
	local f
	f="$(registry_dir)/$1"
	[ -f "$f" ] || die "no replica named \"$1\" is registered in $(registry_dir)"
	# shellcheck disable=SC1090
	. "$f"
}

check_replica_name() {
	[[ $1 =~ ^[a-z][a-z0-9_]{0,40}$ ]] || die "replica name \"$1\" must be lower-case letters, digits and _"
}

# sync_names_without NAME: the primary's synchronous standbys, minus NAME, one per line.
sync_names_without() {
	local cur
	cur=$(psql_primary "SHOW synchronous_standby_names")
	cur=$(sed -E 's/^(ANY|FIRST)? *[0-9]* *\(//; s/\)$//' <<<"$cur")
	tr ',' '\n' <<<"$cur" | tr -d ' "' | grep -v -x -e '' -e "$1" || true
}

set_sync_names() {
	local names list=""
	names=$(cat)
	for n in $names; do list="$list${list:+, }\"$n\""; done
	if [ -n "$list" ]; then
		psql_primary "ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 ($list)'" >/dev/null
	else
		psql_primary "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null
	fi
	psql_primary "SELECT pg_reload_conf()" >/dev/null
}

# The key-encryption key file the primary uses (empty when freight has none configured).
primary_key_file() {
	if [ -n "${FREIGHT_KEY_FILE:-}" ]; then
		echo "$FREIGHT_KEY_FILE"
	else
		psql_primary "SELECT current_setting('freight.key_file', true)" 2>/dev/null || true
	fi
}

replica_streams() {
	[ "$(psql_primary "SELECT state FROM pg_stat_replication WHERE application_name = '$1'")" = streaming ]
}

replica_is_sync() {
	local state
	state=$(psql_primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$1'")
	[ -n "$state" ] && [ "$state" != async ]
}

slot_released() {
	[ "$(psql_primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$1' AND active")" = 0 ]
}

replica_add() {
	local name=${1:-} into="" port="" sync=n keyfile=""
	[ -n "$name" ] || die "replica add needs a NAME"
	shift
	check_replica_name "$name"
	while [ $# -gt 0 ]; do
		case "$1" in
		--into) into=${2:?--into needs a directory}; shift ;;
		--port) port=${2:?--port needs a number}; shift ;;
		--key-file) keyfile=${2:?--key-file needs a path}; shift ;;
		--sync) sync=y ;;
		*) die "replica add: unknown argument \"$1\"" ;;
		esac
		shift
	done
	[ -n "$into" ] || die "replica add needs --into DIR (a new data directory)"
	[ -z "$port" ] || [[ $port =~ ^[0-9]+$ ]] || die "--port must be a number"
	[ ! -f "$(registry_dir)/$name" ] || die "a replica named \"$name\" is already registered"
	if [ -e "$into" ] && [ -n "$(ls -A "$into" 2>/dev/null)" ]; then
		die "$into is not empty: a replica needs a new data directory"
	fi
	primary_is_up || die "the primary at $FREIGHT_PGHOST:$FREIGHT_PGPORT is not accepting connections"
	[ -n "$port" ] || port=$(free_port)
	into=$(readlink -m "$into")

	local t0 src_key
	t0=$(now_ms)
	src_key=$(primary_key_file)
	[ -n "$keyfile" ] || keyfile="$(dirname "$into")/$name.kek"
	"$FREIGHT_PGBIN/pg_basebackup" -h "$FREIGHT_PGHOST" -p "$FREIGHT_PGPORT" -U "$FREIGHT_PGUSER" \
		-D "$into" -X stream -C -S "freight_$name" -c fast -d "application_name=freightctl_$name"

	# The key-encryption key: copied next to (never into) the data directory, mode 600.
	if [ -n "$src_key" ]; then
		[ -r "$src_key" ] || die "cannot read the key-encryption key $src_key"
		(umask 077 && cp "$src_key" "$keyfile")
		cmp -s "$src_key" "$keyfile" || die "copying the key-encryption key to $keyfile failed"
	fi

	touch "$into/standby.signal"
	{
		echo "# --- freightctl replica $name ---"
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "primary_conninfo = 'host=$FREIGHT_PGHOST port=$FREIGHT_PGPORT user=$FREIGHT_PGUSER application_name=$name'"
		echo "primary_slot_name = 'freight_$name'"
		echo "hot_standby = on"
		echo "hot_standby_feedback = on"
		echo "synchronous_standby_names = ''"
		[ -z "$src_key" ] || echo "freight.key_file = '$keyfile'"
		if [ -f "$PGBACKREST_CONF" ]; then
			echo "archive_command = '$(archive_command_for "$into" | sed "s/'/''/g")'"
			echo "restore_command = '$(restore_command_for "$into" | sed "s/'/''/g")'"
		fi
	} >> "$into/postgresql.auto.conf"

	"$FREIGHT_PGBIN/pg_ctl" -D "$into" -l "$into.log" -w start >/dev/null
	wait_until 60 "replica $name to stream from the primary" replica_streams "$name"

	mkdir -p "$(registry_dir)"
	printf 'REPLICA_DIR=%q\nREPLICA_PORT=%q\nREPLICA_KEY_FILE=%q\n' "$into" "$port" "$keyfile" > "$(registry_dir)/$name"
	if [ $sync = y ]; then
		{ sync_names_without "$name"; echo "$name"; } | set_sync_names
		wait_until 30 "replica $name to become synchronous" replica_is_sync "$name"
	fi
	say "replica $name streaming on 127.0.0.1:$port ($([ $sync = y ] && echo synchronous || echo asynchronous)," \
		"slot freight_$name${src_key:+, key file $keyfile}) in $(seconds_since "$t0") s"
}

replica_status() {
	[ $# = 0 ] || die "replica status takes no arguments"
	local bad=0 f name
	echo "replication (from the primary, 127.0.0.1:$FREIGHT_PGPORT):"
	"$FREIGHT_PGBIN/psql" -X -q -h "$FREIGHT_PGHOST" -p "$FREIGHT_PGPORT" -U "$FREIGHT_PGUSER" -d postgres -P footer=off -c "
		SELECT application_name AS replica, state, sync_state,
		       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) AS replay_behind,
		       round(extract(epoch FROM replay_lag) * 1000) AS replay_lag_ms,
		       round(extract(epoch FROM flush_lag) * 1000) AS flush_lag_ms
		  FROM pg_stat_replication ORDER BY 1" || die "cannot reach the primary"
	echo "replication slots (WAL each one holds back on the primary):"
	"$FREIGHT_PGBIN/psql" -X -q -h "$FREIGHT_PGHOST" -p "$FREIGHT_PGPORT" -U "$FREIGHT_PGUSER" -d postgres -P footer=off -c "
		SELECT slot_name, slot_type, active, wal_status,
		       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained
		  FROM pg_replication_slots ORDER BY 1"
	for f in "$(registry_dir)"/*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		load_replica "$name"
		if ! replica_streams "$name"; then
			echo "replica $name (127.0.0.1:$REPLICA_PORT): NOT STREAMING"
			bad=1
		fi
	done
	return $bad
}

replica_remove() {
	local name=${1:-} purge=n
	[ -n "$name" ] || die "replica remove needs a NAME"
	shift
	[ "${1:-}" != --purge ] || purge=y
	check_replica_name "$name"
	load_replica "$name"
	"$FREIGHT_PGBIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null 2>&1 || true
	if primary_is_up; then
		sync_names_without "$name" | set_sync_names
		wait_until 30 "slot freight_$name to be released" slot_released "freight_$name"
		psql_primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE slot_name = 'freight_$name'" >/dev/null
	else
		say "warning: primary unreachable; drop slot freight_$name on it later"
	fi
	rm -f "$(registry_dir)/$name"
	if [ $purge = y ]; then
		rm -rf "$REPLICA_DIR" "$REPLICA_DIR.log"
		rm -f "$REPLICA_KEY_FILE"
	fi
	say "replica $name removed$([ $purge = y ] && echo ", data directory and key copy deleted")"
}

cmd_replica() {
	local sub=${1:-}
	[ -n "$sub" ] || die "replica needs add, status or remove"
	shift
	case "$sub" in
	add) replica_add "$@" ;;
	status) replica_status "$@" ;;
	remove) replica_remove "$@" ;;
	*) die "replica: unknown subcommand \"$sub\" (add, status, remove)" ;;
	esac
}
