#!/bin/bash
# bench/dba/run.sh — what recovery costs, measured with the real tools on pgbench scale 50:
#
#   1. full backup time and repository size per pgBackRest compression; the anchor is
#      pgBackRest's defaults (gz, process-max 1), freight's setting is zst with process-max 2;
#   2. incremental backup after a pgbench run; restore to the end of the archive;
#   3. point-in-time restore + replay + promote with freightctl restore --to TIME (goal <= 10 s);
#   4. RPO — how long a commit exists only on the primary: WAL archiving with archive_timeout 60 s
#      (idle and under load, synchronous and asynchronous archive-push) against a streaming WAL
#      receiver (pg_receivewal --synchronous; goal <= 1 s) and a synchronous receiver (0);
#   5. replica replay lag p50/p99 under pgbench load and the read-your-writes wait (commit on the
#      primary until the replica has replayed it);
#   6. failover: freightctl's fence + pg_promote, and pg_auto_failover with default timeouts (the
#      anchor) against the tuned ones (goal <= 5 s, no acknowledged write lost).
#
# Environment: FREIGHT_BENCH_SCALE (default 50), FREIGHT_BENCH_ARCHIVE_TIMEOUT (default 60 s),
# FREIGHT_BENCH_SKIP_PAF=1 skips pg_auto_failover.
# Runs as the OS user freight when started as root; everything listens on 127.0.0.1 only.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" = 0 ]; then
	W=$(mktemp -d /tmp/freight-bench-dba.XXXXXX)
	chown freight "$W"
	exec runuser -u freight -- env FREIGHT_BENCH_WORK="$W" bash "$0" "$@"
fi
W=${FREIGHT_BENCH_WORK:-$(mktemp -d /tmp/freight-bench-dba.XXXXXX)}
SCALE=${FREIGHT_BENCH_SCALE:-50}
B=$(pg_config --bindir 2>/dev/null || /usr/lib/postgresql/15/bin/pg_config --bindir)
export PATH="$B:$PATH"
CTL="$SRC/contrib/dba/freightctl"
SOCK=$(mktemp -d /tmp/fbdba.XXXXXX)
STARTED=()
BGPIDS=()
cleanup() {
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for d in "${STARTED[@]}"; do pg_ctl -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
	rm -rf "$W" "$SOCK"
}
trap cleanup EXIT

port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
ms() { date +%s%3N; }
secs() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
P=$(port)
q() { psql -X -q -tA -h "$SOCK" -p "$P" -d bench -c "$1"; }
# pct FILE P: the P-th percentile of the numbers in FILE
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(p * NR + 0.999); if (i < 1) i = 1; print v[i] }'; }
report() { printf '%-58s %s\n' "$1" "$2"; }

echo "bench/dba: pgbench scale $SCALE on 127.0.0.1 ($(nproc) cores), pgBackRest $(pgbackrest version | cut -d' ' -f2)"
initdb -D "$W/primary" -A trust -N >/dev/null
cat >> "$W/primary/postgresql.conf" <<CONF
port = $P
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
archive_mode = on
wal_level = replica
max_wal_size = '4GB'
checkpoint_timeout = '15min'
shared_buffers = '512MB'
CONF
pg_ctl -D "$W/primary" -l "$W/primary.log" -w start >/dev/null
STARTED+=("$W/primary")
createdb -h "$SOCK" -p "$P" bench
t=$(ms)
pgbench -h "$SOCK" -p "$P" -i -s "$SCALE" -q bench >/dev/null 2>&1
report "pgbench -i -s $SCALE ($(q "SELECT pg_size_pretty(pg_database_size('bench'))"))" "$(secs $(($(ms) - t))) s"

export FREIGHT_PGDATA="$W/primary" FREIGHT_PGHOST="$SOCK" FREIGHT_PGPORT="$P" FREIGHT_PGUSER="$(id -un)"
export FREIGHT_DB=bench FREIGHT_ARCHIVE_TIMEOUT=${FREIGHT_BENCH_ARCHIVE_TIMEOUT:-60}

# 1. Full backups per compression; each configuration gets its own repository.
full_backup() {	# full_backup NAME COMPRESS PROCESS_MAX -> prints seconds and size
	export FREIGHT_DBA_HOME="$W/dba-$1" FREIGHT_COMPRESS_TYPE=$2 FREIGHT_PROCESS_MAX=$3
	"$CTL" setup >/dev/null
	local t0
	t0=$(ms)
	"$CTL" backup full >/dev/null
	BACKUP_MS=$(($(ms) - t0))
	report "full backup, $2, process-max $3$([ "$1" = anchor ] && echo ' (anchor: defaults)')" \
		"$(secs $BACKUP_MS) s, repo $(du -sh "$W/dba-$1/repo" | cut -f1)"
}
full_backup anchor gz 1
ANCHOR_MS=$BACKUP_MS
full_backup lz4 lz4 2
full_backup zst zst 2
report "  ratio anchor / freight (zst, process-max 2)" "$(awk -v a=$ANCHOR_MS -v b=$BACKUP_MS 'BEGIN { printf "%.1fx", a / b }')"

# 2. Incremental after load; restore to the end of the archive.
pgbench -h "$SOCK" -p "$P" -c 4 -j 2 -T 15 bench >/dev/null 2>&1
t=$(ms)
"$CTL" backup incr >/dev/null
report "incremental backup after 15 s of pgbench" "$(secs $(($(ms) - t))) s"
out=$("$CTL" restore --to latest --into "$W/restored-latest")
STARTED+=("$W/restored-latest")
report "restore to end of archive (zst): $(sed -n 's/.*RTO \([0-9.]*\) s (\(.*\))/\2/p' <<<"$out")" \
	"$(sed -n 's/.*RTO \([0-9.]*\) s.*/\1/p' <<<"$out") s"
pg_ctl -D "$W/restored-latest" -m immediate stop >/dev/null
rm -rf "$W/restored-latest"

# 3. Point-in-time restore between two marker rows.
q "CREATE TABLE markers (label text PRIMARY KEY)"
q "INSERT INTO markers VALUES ('before')"
sleep 1
target=$(q "SELECT clock_timestamp()")
sleep 1
q "INSERT INTO markers VALUES ('after')"
q "SELECT pg_switch_wal()" >/dev/null
"$CTL" verify >/dev/null
out=$("$CTL" restore --to "$target" --into "$W/pitr")
STARTED+=("$W/pitr")
rport=$(sed -n 's/.*accepting writes on 127.0.0.1:\([0-9]*\).*/\1/p' <<<"$out")
got=$(psql -X -tA -h 127.0.0.1 -p "$rport" -d bench -c "SELECT string_agg(label, ',') FROM markers")
report "PITR restore + replay + promote (goal <= 10 s; got \"$got\")" \
	"$(sed -n 's/.*RTO \([0-9.]*\) s.*/\1/p' <<<"$out") s ($(sed -n 's/.*RTO [0-9.]* s (\(.*\))/\1/p' <<<"$out"))"
pg_ctl -D "$W/pitr" -m immediate stop >/dev/null
rm -rf "$W/pitr"

# 4. RPO: from a commit until its WAL is safe outside the primary.
archived_past() {	# archived_past SEGNO
	local last
	last=$(q "SELECT last_archived_wal FROM pg_stat_archiver")
	[ -n "$last" ] && [ $((0x${last:8:8} * 256 + 0x${last:16:8})) -ge "$1" ]
}
rpo_archive() {	# rpo_archive SAMPLES: seconds per commit until archived, one per line
	local i lsn seg t0
	for i in $(seq 1 "$1"); do
		lsn=$(q "INSERT INTO markers VALUES ('rpo-$RANDOM-$i-$(ms)') RETURNING pg_current_wal_lsn()" | head -n 1)
		t0=$(ms)
		seg=$(( ((0x${lsn%/*} << 32) | 0x${lsn#*/}) / 16777216 ))
		until archived_past "$seg"; do sleep 0.05; done
		secs $(($(ms) - t0))
		echo
		sleep 0.$((RANDOM % 10))
	done
}
load_start() {	# load_start [RATE]: background pgbench, throttled to RATE tps or at full speed
	pgbench -h "$SOCK" -p "$P" -c 4 -j 2 ${1:+-R "$1"} -T 600 bench >/dev/null 2>&1 &
	LOAD=$!
	BGPIDS+=("$LOAD")
	sleep 2
}
load_stop() { kill "$LOAD" 2>/dev/null || true; wait "$LOAD" 2>/dev/null || true; }

rpo_archive 1 > "$W/rpo-idle"
report "RPO archive only, idle, archive_timeout $FREIGHT_ARCHIVE_TIMEOUT s (1 sample)" "$(cat "$W/rpo-idle") s"
load_start
rpo_archive 2 > "$W/rpo-load"
report "RPO archive only, pgbench -c 4 full speed, p50 / max of 2" "$(pct "$W/rpo-load" 0.5) / $(pct "$W/rpo-load" 1) s"
load_stop
FREIGHT_ARCHIVE_ASYNC=y "$CTL" setup >/dev/null
load_start
rpo_archive 2 > "$W/rpo-async"
report "RPO archive-async, pgbench -c 4 full speed, p50 / max of 2" "$(pct "$W/rpo-async" 0.5) / $(pct "$W/rpo-async" 1) s"
load_stop
"$CTL" setup >/dev/null

# Streaming WAL receiver, measured inside the primary: commit through dblink (a separate session
# that commits; the SELECT after the INSERT gives an LSN past the commit record), then wait in
# 0.2 ms steps until the receiver reports it flushed (pg_stat_replication is read live).
q "CREATE EXTENSION dblink" >/dev/null
q "SELECT pg_create_physical_replication_slot('receiver')" >/dev/null
mkdir -p "$W/receivewal"
pg_receivewal -h "$SOCK" -p "$P" -D "$W/receivewal" -S receiver --synchronous -n 2>"$W/receivewal.log" &
BGPIDS+=("$!")
sleep 1
load_start 300
psql -X -q -tA -h "$SOCK" -p "$P" -d bench -c "
	DO \$\$
	DECLARE lsn pg_lsn; t0 timestamptz; w float8[] := '{}';
	BEGIN
		FOR i IN 1..200 LOOP
			SELECT l INTO lsn FROM dblink('host=$SOCK port=$P dbname=bench',
				'INSERT INTO markers VALUES (''s-' || i || '-' || clock_timestamp() || '''); SELECT pg_current_wal_lsn()')
				AS t(l pg_lsn);
			t0 := clock_timestamp();
			WHILE coalesce((SELECT flush_lsn FROM pg_stat_replication WHERE application_name = 'pg_receivewal'),
						   '0/0') < lsn LOOP
				PERFORM pg_sleep(0.0002);
			END LOOP;
			w := w || extract(epoch FROM clock_timestamp() - t0) * 1000;
		END LOOP;
		RAISE NOTICE 'rpo % %', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(w) x),
			(SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY x) FROM unnest(w) x);
	END \$\$" 2> "$W/rpo-stream"
read -r _ rpo50 rpo99 < <(grep -o 'rpo .*' "$W/rpo-stream")
report "RPO pg_receivewal --synchronous, pgbench -R 300, p50 / p99" "$(printf '%.1f / %.1f' "$rpo50" "$rpo99") ms (goal <= 1 s)"
load_stop
q "ALTER SYSTEM SET synchronous_standby_names = 'pg_receivewal'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 1
tps_sync=$(pgbench -h "$SOCK" -p "$P" -c 4 -j 2 -T 10 bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
q "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 1
tps_async=$(pgbench -h "$SOCK" -p "$P" -c 4 -j 2 -T 10 bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
report "RPO with pg_receivewal as synchronous standby" "0 (commit waits for its flush)"
report "  pgbench tps: synchronous receiver / none (anchor)" "${tps_sync%.*} / ${tps_async%.*}"

# 5. Replica lag under load, and the read-your-writes wait.
unset FREIGHT_ARCHIVE_ASYNC
RP=$(port)
"$CTL" replica add r1 --into "$W/r1" --port "$RP" >/dev/null
STARTED+=("$W/r1")
pgbench -h "$SOCK" -p "$P" -c 4 -j 2 -T 25 bench >/dev/null 2>&1 &
LOAD=$!
BGPIDS+=("$LOAD")
: > "$W/lag"
for i in $(seq 1 150); do
	q "SELECT coalesce(round(extract(epoch FROM replay_lag) * 1000, 1), 0) FROM pg_stat_replication WHERE application_name = 'r1'" >> "$W/lag"
	sleep 0.1
done
# Read-your-writes, measured on the replica: commit on the primary through dblink, then wait
# (busy, 0.2 ms steps) until the replica has replayed the commit's LSN.
psql -X -q -tA -h 127.0.0.1 -p "$RP" -d bench -c "
	DO \$\$
	DECLARE lsn pg_lsn; t0 timestamptz; w float8[] := '{}';
	BEGIN
		FOR i IN 1..200 LOOP
			SELECT l INTO lsn FROM dblink('host=$SOCK port=$P dbname=bench',
				'INSERT INTO markers VALUES (''ryw-' || i || '-' || clock_timestamp() || '''); SELECT pg_current_wal_lsn()')
				AS t(l pg_lsn);
			t0 := clock_timestamp();
			WHILE pg_last_wal_replay_lsn() < lsn LOOP PERFORM pg_sleep(0.0002); END LOOP;
			w := w || extract(epoch FROM clock_timestamp() - t0) * 1000;
		END LOOP;
		RAISE NOTICE 'ryw % %', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(w) x),
			(SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY x) FROM unnest(w) x);
	END \$\$" 2> "$W/ryw"
wait "$LOAD" 2>/dev/null || true
report "replica replay_lag under pgbench -c 4, p50 / p99" "$(pct "$W/lag" 0.5) / $(pct "$W/lag" 0.99) ms"
read -r _ ryw50 ryw99 < <(grep -o 'ryw .*' "$W/ryw")
report "read-your-writes wait under pgbench -c 4, p50 / p99" \
	"$(printf '%.1f / %.1f' "$ryw50" "$ryw99") ms"

# 6. Failover.
out=$("$CTL" failover r1)
STARTED+=("$W/r1")
report "freightctl failover (fence + pg_promote, no monitor)" "$(sed -n 's/.*failover done in \([0-9.]*\) s.*/\1/p' <<<"$out") s"
if [ "${FREIGHT_BENCH_SKIP_PAF:-0}" = 0 ]; then
	for mode in default tuned; do
		r=$(bash "$SRC/bench/dba/paf_failover.sh" "$W" "$mode" 2>/dev/null | tail -n 1)
		report "pg_auto_failover, kill -9 of the primary, $mode$([ $mode = default ] && echo ' (anchor)')" \
			"$(sed 's/failover_s=\([0-9.]*\)/\1 s,/; s/acked=/acknowledged /; s/lost=/lost /' <<<"$r")"
	done
fi
echo "bench/dba: done"
