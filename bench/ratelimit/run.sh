#!/bin/sh
# bench/ratelimit — freight.rate_limit (shared memory, GCRA) against a naive SQL limiter
# (INSERT ... ON CONFLICT DO UPDATE on a durable counter table), in one run on one throwaway
# cluster: pgbench -c 16 over 1,000 keys and over 1 hot key, plus the trivial query SELECT 1 as
# the round-trip ceiling, and the C decision path timed in a loop inside the backend.
#
#   sh bench/ratelimit/run.sh    (DURATION=seconds per pgbench run, default 5; ROUNDS, default 3:
#                                 the runs are interleaved and the best of each is reported)
#
# The anchor gets its best reasonable set-up while staying durable: a fresh table with
# fillfactor 50 (HOT updates), a primary key on the key, prepared statements, synchronous_commit
# on, fsync on — the same server settings freight runs with.
set -eu
PGBIN=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CLIENTS=16
WORK=$(mktemp -d /tmp/freight-bench-ratelimit.XXXXXX)
AS=""
if [ "$(id -u)" = 0 ]; then
	chown freight "$WORK"
	AS="runuser -u freight --"
fi
PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
PG="$PGBIN/psql -X -q -h 127.0.0.1 -p $PORT -U postgres"

cleanup() { $AS "$PGBIN/pg_ctl" -D "$WORK/data" -m fast stop > /dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

$AS "$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust > /dev/null
$AS sh -c "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$WORK/kek'; chmod 600 '$WORK/kek'"
cat >> "$WORK/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'freight'
freight.key_file = '$WORK/kek'
max_connections = 50
shared_buffers = 256MB
CONF
$AS "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w start > /dev/null
$PG -d postgres -c "CREATE DATABASE freight"
$PG -d freight -c "CREATE EXTENSION freight CASCADE" 2> /dev/null
$PG -d freight <<'SQL'
-- Same policy for both: 100 per hour per key (the free tier).
CREATE TABLE naive_limits (
	key text PRIMARY KEY,
	window_start timestamptz NOT NULL,
	count int NOT NULL
) WITH (fillfactor = 50);
CREATE FUNCTION naive_rate_limit(k text) RETURNS boolean LANGUAGE sql AS $$
	INSERT INTO naive_limits AS l (key, window_start, count)
	VALUES (k, date_trunc('hour', now()), 1)
	ON CONFLICT (key) DO UPDATE
	SET count = CASE WHEN l.window_start = excluded.window_start THEN l.count + 1 ELSE 1 END,
		window_start = excluded.window_start
	RETURNING count <= 100
$$;
SQL

cat > "$WORK/freight_keys.sql" <<'S'
\set k random(1, 1000)
SELECT allowed FROM freight.rate_limit('bench-' || :k);
S
cat > "$WORK/naive_keys.sql" <<'S'
\set k random(1, 1000)
SELECT naive_rate_limit('bench-' || :k);
S
echo "SELECT allowed FROM freight.rate_limit('bench-hot');" > "$WORK/freight_hot.sql"
echo "SELECT naive_rate_limit('bench-hot');" > "$WORK/naive_hot.sql"
echo "SELECT 1;" > "$WORK/trivial.sql"

run() {	# run SCRIPT: decisions per second (pgbench tps without connection time)
	"$PGBIN/pgbench" -n -M prepared -c $CLIENTS -j 2 -T "$DURATION" -h 127.0.0.1 -p "$PORT" -U postgres \
		-f "$WORK/$1.sql" freight 2> "$WORK/$1.err" |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' | cut -d. -f1
}

# Warm both (the first 1,000 keys' tiers are resolved once, the table gets its rows).
DURATION=2 run freight_keys > /dev/null
DURATION=2 run naive_keys > /dev/null

# Interleaved rounds, best of each: the box is shared, so load drifts between runs.
best() { [ "${1:-0}" -gt "$2" ] && echo "$1" || echo "$2"; }
trivial=0 fk=0 nk=0 fh=0 nh=0
for round in $(seq "$ROUNDS"); do
	trivial=$(best "$(run trivial)" "$trivial")
	fk=$(best "$(run freight_keys)" "$fk")
	nk=$(best "$(run naive_keys)" "$nk")
	fh=$(best "$(run freight_hot)" "$fh")
	nh=$(best "$(run naive_hot)" "$nh")
done
ns=$($PG -d freight -tAc "SELECT round(cpu_ns::numeric, 1) || ' ns CPU, ' || round(wall_ns::numeric, 1) || ' ns elapsed' FROM freight.rate_limit_selftest(5000000)")

for f in "$WORK"/*.err; do
	if grep -q "error" "$f"; then echo "pgbench errors in $(basename "$f" .err):" >&2; grep error "$f" | head -3 >&2; exit 1; fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
echo "rate limit decisions/s, pgbench -c $CLIENTS -M prepared, best of $ROUNDS interleaved ${DURATION}s runs ($(date -u +%Y-%m-%d))"
printf "  %-34s %10s\n" "SELECT 1 (round-trip ceiling)" "$trivial"
printf "  %-34s %10s   naive SQL %8s   ratio %s\n" "1,000 keys: freight.rate_limit" "$fk" "$nk" "$(ratio "$fk" "$nk")"
printf "  %-34s %10s   naive SQL %8s   ratio %s\n" "1 hot key:  freight.rate_limit" "$fh" "$nh" "$(ratio "$fh" "$nh")"
echo "  C decision path inside the backend, per decision: $ns"
