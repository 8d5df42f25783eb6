# restore.sh — `freightctl restore`: point-in-time restore into a new data directory (sourced).
#
# The restored cluster is started on 127.0.0.1 (a free port unless --port), replays the archive to
# the target and promotes.  It never archives into the repository it came from (archive_mode off),
# never waits for synchronous standbys and has no primary_conninfo: it is a scratch copy until the
# DBA decides otherwise.  A restore to "latest" refuses to run over a gap in the WAL archive
# (PostgreSQL would stop at the gap and promote without complaint) unless --force.

# choose_backup INFO_JSON TYPE TARGET: the label of the newest backup that ended before TARGET.
choose_backup() {
	local info=$1 type=$2 target=$3
	case "$type" in
	latest)
		jq -r '.[0].backup[-1].label // empty' <<<"$info"
		;;
	lsn)
		local want label stop
		want=$(lsn_to_int "$target")
		while read -r label stop; do
			[ "$(lsn_to_int "$stop")" -le "$want" ] && echo "$label"
		done < <(jq -r '.[0].backup[] | "\(.label) \(.lsn.stop)"' <<<"$info") | tail -n 1
		;;
	time)
		jq -r --argjson t "$target" '[.[0].backup[] | select(.timestamp.stop < $t)][-1].label // empty' <<<"$info"
		;;
	esac
}

# configure_scratch_cluster DIR PORT: settings that keep a restored copy to itself.
configure_scratch_cluster() {
	cat >> "$1/postgresql.auto.conf" <<CONF
# --- freightctl restore ---
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
synchronous_standby_names = ''
primary_conninfo = ''
primary_slot_name = ''
CONF
}

# recovery_end_segno DIR: the segment where recovery ended (the new timeline's switch point).
recovery_end_segno() {
	local tli hist
	tli=$("$FREIGHT_PGBIN/pg_controldata" "$1" | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
	hist="$1/pg_wal/$(printf %08X "$tli").history"
	[ -f "$hist" ] || return 1
	lsn_to_segno "$(awk 'NF >= 2 && $1 ~ /^[0-9]+$/ { lsn = $2 } END { print lsn }' "$hist")"
}

cmd_restore() {
	local to="" into="" port="" set="" start_it=y force=n
	while [ $# -gt 0 ]; do
		case "$1" in
		--to) to=${2:?--to needs a value}; shift ;;
		--into) into=${2:?--into needs a directory}; shift ;;
		--port) port=${2:?--port needs a number}; shift ;;
		--set) set=${2:?--set needs a backup label}; shift ;;
		--no-start) start_it=n ;;
		--force) force=y ;;
		*) die "restore: unknown argument \"$1\"" ;;
		esac
		shift
	done
	[ -n "$to" ] || die "restore needs --to TIME|LSN|latest"
	[ -n "$into" ] || die "restore needs --into DIR (a new, empty directory)"
	[ -z "$port" ] || [[ $port =~ ^[0-9]+$ ]] || die "--port must be a number"
	if [ -e "$into" ] && [ -n "$(ls -A "$into" 2>/dev/null)" ]; then
		die "$into is not empty: restore into a new directory"
	fi

	local type target_args=() target_epoch=""
	if [ "$to" = latest ]; then
		type=latest
		target_args=(--type=default)
	elif is_lsn "$to"; then
		type=lsn
		target_args=(--type=lsn "--target=$to")
	elif target_epoch=$(date -d "$to" +%s.%N 2>/dev/null); then
		type=time
		target_args=(--type=time "--target=$to")
	else
		die "--to \"$to\" is not an LSN (like 0/3000060), a time (like \"2026-11-26 01:30:00+00\") or latest"
	fi

	local info
	info=$(pgbr info --output=json) || die "pgbackrest info failed"
	if [ -z "$set" ]; then
		set=$(choose_backup "$info" "$type" "${target_epoch:-$to}")
		[ -n "$set" ] || die "no backup in the repository finished before $to"
	fi
	local backup_start archive_id archive_max
	backup_start=$(jq -r --arg s "$set" '.[0].backup[] | select(.label == $s) | .archive.start' <<<"$info")
	[ -n "$backup_start" ] || die "backup set $set does not exist"
	archive_id=$(jq -r '.[0].archive[-1].id' <<<"$info")
	archive_max=$(jq -r '.[0].archive[-1].max' <<<"$info")

	check_archive_continuity "$backup_start" "$archive_max" "$archive_id"
	if [ ${#VERIFY_PROBLEMS[@]} -gt 0 ]; then
		if [ $type = latest ] && [ $force = n ]; then
			die "refusing to restore to latest over a gap in the WAL archive (--force to accept the loss)"
		fi
		say "warning: continuing; PostgreSQL refuses to promote if the target lies beyond the gap"
	fi

	local t0 t1
	t0=$(now_ms)
	mkdir -p "$into"
	chmod 700 "$into"
	# Type "default" replays to the end of the archive and always promotes.
	[ $type = latest ] || target_args+=(--target-action=promote)
	pgbr restore --pg1-path="$into" --set="$set" "${target_args[@]}" --archive-mode=off \
		--log-level-console=warn
	[ -n "$port" ] || port=$(free_port)
	configure_scratch_cluster "$into" "$port"
	local restore_s
	restore_s=$(seconds_since "$t0")
	say "restored backup $set into $into in $restore_s s"
	[ $start_it = y ] || { say "not started (--no-start): pg_ctl -D $into start"; return 0; }

	t1=$(now_ms)
	local limit=${FREIGHT_RESTORE_TIMEOUT:-600}
	# -w returns once the copy is consistent (read-only); then wait for the promotion.
	"$FREIGHT_PGBIN/pg_ctl" -D "$into" -l "$into/freightctl-restore.log" -w -t "$limit" start >/dev/null || {
		tail -n 5 "$into/freightctl-restore.log" >&2
		die "the restored cluster did not start (log: $into/freightctl-restore.log)"
	}
	while [ "$(sql 127.0.0.1 "$port" postgres "SELECT pg_is_in_recovery()" 2>/dev/null)" != f ]; do
		if ! "$FREIGHT_PGBIN/pg_ctl" -D "$into" status >/dev/null 2>&1; then
			tail -n 5 "$into/freightctl-restore.log" >&2
			die "the restored cluster stopped during recovery (log: $into/freightctl-restore.log)"
		fi
		[ $(($(now_ms) - t1)) -lt $((limit * 1000)) ] || die "recovery did not finish in $limit s"
		sleep 0.05
	done
	local replay_s rto_s end_seg
	replay_s=$(seconds_since "$t1")
	rto_s=$(seconds_since "$t0")
	if [ $type = latest ] && end_seg=$(recovery_end_segno "$into") &&
		[ "$end_seg" -lt "$(segname_to_segno "$archive_max")" ]; then
		die "recovery stopped in segment $(segno_to_segname 1 "$end_seg" | cut -c9-) but the archive reaches $archive_max: WAL is missing"
	fi
	say "restored to $to: promoted and accepting writes on 127.0.0.1:$port"
	say "RTO ${rto_s} s (restore ${restore_s} s, replay + promote ${replay_s} s)"
}
