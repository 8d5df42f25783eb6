# failover.sh — `freightctl failover`: make a replica the primary (sourced).
#
# With FREIGHT_MONITOR_URI set, pg_auto_failover owns the decision: freightctl asks its monitor
# to fail over (pgautofailover.perform_failover) and waits for the new primary to take writes.
# Without a monitor, freightctl promotes a registered replica with pg_promote(): the old primary
# is fenced first when it still answers (a fast shutdown streams its last WAL to the replicas),
# the chosen replica (the named one, or the one that has replayed the most WAL) is promoted, the
# other replicas are pointed at it, and the new primary is recorded in
# $FREIGHT_DBA_HOME/current-primary.conf, which later commands read.

failover_with_monitor() {
	local old new t0
	t0=$(now_ms)
	old=$(monitor_primary) || die "the monitor at $FREIGHT_MONITOR_URI knows no writable primary"
	sql_uri "SELECT pgautofailover.perform_failover('default', 0)" >/dev/null
	wait_until "${FREIGHT_FAILOVER_TIMEOUT:-60}" "pg_auto_failover to promote a new primary" \
		new_primary_takes_writes "$old"
	new=$(monitor_primary)
	say "failover done by pg_auto_failover in $(seconds_since "$t0") s: primary was $old, now $new"
}

sql_uri() {
	"$FREIGHT_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -tA -d "$FREIGHT_MONITOR_URI" -c "$1"
}

# host:port of the node the monitor considers writable.
monitor_primary() {
	local p
	p=$(sql_uri "SELECT primary_host || ':' || primary_port FROM pgautofailover.get_primary('default', 0)" 2>/dev/null)
	[ -n "$p" ] && echo "$p"
}

new_primary_takes_writes() {
	local now
	now=$(monitor_primary) && [ "$now" != "$1" ] &&
		[ "$(sql "${now%:*}" "${now##*:}" postgres "SELECT NOT pg_is_in_recovery()
			AND current_setting('default_transaction_read_only') = 'off'")" = t ]
}

out_of_recovery() {
	[ "$(sql 127.0.0.1 "$1" postgres "SELECT pg_is_in_recovery()")" = f ]
}

# The registered replica that has replayed the most WAL.
most_advanced_replica() {
	local f best="" best_lsn=-1 lsn
	for f in "$(registry_dir)"/*; do
		[ -f "$f" ] || continue
		load_replica "$(basename "$f")"
		lsn=$(sql 127.0.0.1 "$REPLICA_PORT" postgres "SELECT pg_last_wal_replay_lsn()" 2>/dev/null) || continue
		lsn=$(lsn_to_int "$lsn")
		if [ "$lsn" -gt "$best_lsn" ]; then
			best=$(basename "$f")
			best_lsn=$lsn
		fi
	done
	[ -n "$best" ] || die "no registered replica answers: nothing to promote"
	echo "$best"
}

cmd_failover() {
	[ $# -le 1 ] || die "failover takes at most one argument: the replica to promote"
	if [ -n "$FREIGHT_MONITOR_URI" ]; then
		[ $# = 0 ] || die "with pg_auto_failover the monitor chooses the new primary; give no replica name"
		failover_with_monitor
		return
	fi
	local name=${1:-} t0 old_port=$FREIGHT_PGPORT old_host=$FREIGHT_PGHOST
	[ -n "$name" ] || name=$(most_advanced_replica)
	check_replica_name "$name"
	load_replica "$name"
	t0=$(now_ms)

	if primary_is_up; then
		say "fencing the old primary ($FREIGHT_PGDATA) with a fast shutdown"
		"$FREIGHT_PGBIN/pg_ctl" -D "$FREIGHT_PGDATA" -m fast -w stop >/dev/null ||
			die "could not stop the old primary: fence it before promoting a replica"
	else
		say "the old primary does not answer: promoting without fencing (make sure it stays down)"
	fi
	[ "$(sql 127.0.0.1 "$REPLICA_PORT" postgres "SELECT pg_promote(true, 60)")" = t ] ||
		die "pg_promote on replica $name did not finish"
	wait_until 30 "the new primary to accept writes" out_of_recovery "$REPLICA_PORT"
	local took
	took=$(seconds_since "$t0")

	# The promoted node becomes the primary freightctl works with.
	FREIGHT_PGDATA=$REPLICA_DIR
	FREIGHT_PGPORT=$REPLICA_PORT
	FREIGHT_PGHOST=127.0.0.1
	printf '# written by freightctl failover %s\nFREIGHT_PGDATA=%q\nFREIGHT_PGPORT=%q\nFREIGHT_PGHOST=127.0.0.1\n' \
		"$(date -u +%FT%TZ)" "$REPLICA_DIR" "$REPLICA_PORT" > "$FREIGHT_DBA_HOME/current-primary.conf"
	rm -f "$(registry_dir)/$name"
	[ ! -f "$PGBACKREST_CONF" ] || write_pgbackrest_conf

	# Other replicas follow the new primary (recovery_target_timeline is 'latest' by default).
	local f other
	for f in "$(registry_dir)"/*; do
		[ -f "$f" ] || continue
		other=$(basename "$f")
		load_replica "$other"
		psql_primary "SELECT pg_create_physical_replication_slot('freight_$other')" >/dev/null
		sql 127.0.0.1 "$REPLICA_PORT" postgres "ALTER SYSTEM SET primary_conninfo =
			'host=127.0.0.1 port=$FREIGHT_PGPORT user=$FREIGHT_PGUSER application_name=$other'" >/dev/null
		sql 127.0.0.1 "$REPLICA_PORT" postgres "SELECT pg_reload_conf()" >/dev/null
		say "replica $other now follows 127.0.0.1:$FREIGHT_PGPORT"
	done
	say "failover done in $took s: $name (127.0.0.1:$FREIGHT_PGPORT) is the primary; the old primary" \
		"($old_host:$old_port) must be rebuilt as a replica (pg_rewind or replica add) before it runs again"
}
