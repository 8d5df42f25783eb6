# drill.sh — `freightctl drill`: prove that a point-in-time restore works, and how long it takes
# (sourced).
#
#   1. take a backup (incremental when a full one exists);
#   2. write a marker row "before", note a target time one second later, write "after";
#   3. wait until the WAL holding "after" is in the repository: that wait is the RPO, the data a
#      restore from the archive alone would lose (bounded by archive_timeout);
#   4. restore to the target time into a scratch cluster on a free port: the time until it is
#      promoted and accepts writes is the RTO;
#   5. the scratch cluster must hold "before" and not "after"; then it is removed (--keep keeps it).
# Markers live in freight_drill.markers in $FREIGHT_DB; every drill appends a line to
# $FREIGHT_DBA_HOME/drill.log.

cmd_drill() {
	local keep=n
	while [ $# -gt 0 ]; do
		case "$1" in
		--keep) keep=y ;;
		*) die "drill: unknown argument \"$1\" (only --keep)" ;;
		esac
		shift
	done
	primary_is_up || die "the primary at $FREIGHT_PGHOST:$FREIGHT_PGPORT is not accepting connections"
	local id db=$FREIGHT_DB
	id="drill-$(date -u +%Y%m%dT%H%M%S)-$$"
	psql_primary "CREATE SCHEMA IF NOT EXISTS freight_drill;
		CREATE TABLE IF NOT EXISTS freight_drill.markers (
			drill text NOT NULL, label text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
			PRIMARY KEY (drill, label))" "$db" >/dev/null

	say "drill $id: backup"
	cmd_backup incr

	psql_primary "INSERT INTO freight_drill.markers (drill, label) VALUES ('$id', 'before')" "$db" >/dev/null
	sleep 1
	local target
	target=$(psql_primary "SELECT clock_timestamp()")
	sleep 1
	psql_primary "INSERT INTO freight_drill.markers (drill, label) VALUES ('$id', 'after')" "$db" >/dev/null
	local t_commit lsn seg rpo
	t_commit=$(now_ms)
	lsn=$(psql_primary "SELECT pg_current_wal_lsn()")
	seg=$(lsn_to_segno "$lsn")
	wait_until $((${FREIGHT_ARCHIVE_TIMEOUT%s} + 60)) "the WAL of the last marker to reach the archive" \
		wal_archived_past "$seg"
	rpo=$(seconds_since "$t_commit")
	say "drill $id: markers written; target time $target; archived after ${rpo} s (RPO)"

	local dir out rto got
	dir="$FREIGHT_DBA_HOME/drill/$id"
	out=$(cmd_restore --to "$target" --into "$dir") || {
		echo "$out"
		die "drill $id FAILED: the restore did not complete"
	}
	echo "$out"
	rto=$(sed -n 's/.*RTO \([0-9.]*\) s.*/\1/p' <<<"$out")
	local port
	port=$(sed -n "s/^port = //p" "$dir/postgresql.auto.conf" | tail -n 1)
	got=$(sql 127.0.0.1 "$port" "$db" "SELECT string_agg(label, ',' ORDER BY label)
		FROM freight_drill.markers WHERE drill = '$id'")
	if [ $keep = n ]; then
		"$FREIGHT_PGBIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null
		rm -rf "$dir"
	fi
	local verdict=PASS
	[ "$got" = before ] || verdict=FAIL
	echo "$(date -u +%FT%TZ) $id $verdict rto=${rto}s rpo=${rpo}s target=\"$target\" restored=\"$got\"" >> "$FREIGHT_DBA_HOME/drill.log"
	if [ $verdict = FAIL ]; then
		die "drill $id FAILED: the restore to $target holds markers \"$got\" (expected exactly \"before\")"
	fi
	say "drill $id PASS: restored to $target holds \"before\" and not \"after\"; RTO ${rto} s, RPO ${rpo} s"
}

# wal_archived_past SEGNO: has the archiver stored segment SEGNO (or a later one)?
wal_archived_past() {
	local last
	last=$(psql_primary "SELECT last_archived_wal FROM pg_stat_archiver")
	[ -n "$last" ] && [[ $last =~ ^[0-9A-F]{24}$ ]] && [ "$(segname_to_segno "$last")" -ge "$1" ]
}
