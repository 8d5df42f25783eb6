#!/bin/sh
# bench/api_count/run.sh — what Prefer: count= costs through freight-api on a big table, in one
# run on the same data: a throwaway cluster with 1,000,000 rows (BENCH_ROWS), the daemon on a
# free port, and wrk (BENCH_CONNECTIONS, default 8) for 25 rows of a filter matching 10% of them
# with no count, count=planned (the planner's estimate, PostgREST's EXPLAIN) and count=exact.
# Anchors in the same run: freight-api with no count (what a count adds) and pgbench -M prepared
# running the exact count(*) alone (the database's own ceiling for exact counting).
# Env: BENCH_SECONDS (default 5), BENCH_ROWS, BENCH_CONNECTIONS.  Prints req/s, p50, p99, ratios.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PGBIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
SECS=${BENCH_SECONDS:-5}
ROWS=${BENCH_ROWS:-1000000}
CONNS=${BENCH_CONNECTIONS:-8}
API="$SRC/contrib/api/freight-api"

if [ "$(id -u)" = 0 ]; then
	exec runuser -u freight -- env BENCH_SECONDS="$SECS" BENCH_ROWS="$ROWS" BENCH_CONNECTIONS="$CONNS" PATH="$PATH" sh "$0" "$@"
fi
for tool in wrk "$PGBIN/pgbench" "$API"; do
	command -v "$tool" > /dev/null || { echo "bench/api_count: $tool is missing (make deps; make)"; exit 1; }
done
WORK=$(mktemp -d /tmp/freight-bench-count.XXXXXX)
API_PID=""
cleanup() {
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null
	"$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop > /dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

PGPORT=$(free_port)
"$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > /dev/null || exit 1
"$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w \
	-o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start > /dev/null || exit 1
PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U postgres -d postgres"
$PSQL <<SQL || exit 1
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
GRANT web_anon TO authenticator;
CREATE SCHEMA b;
CREATE TABLE b.events (id int PRIMARY KEY, kind int NOT NULL, payload text NOT NULL);
INSERT INTO b.events SELECT g, g % 10, md5(g::text) FROM generate_series(1, $ROWS) g;
CREATE INDEX ON b.events (kind, id);
VACUUM ANALYZE b.events;
GRANT USAGE ON SCHEMA b TO web_anon;
GRANT SELECT ON b.events TO web_anon;
SQL
API_PORT=$(free_port)
FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/postgres" FREIGHT_DB_SCHEMAS=b FREIGHT_DB_ANON_ROLE=web_anon \
	FREIGHT_DB_POOL="$CONNS" FREIGHT_API_PORT="$API_PORT" FREIGHT_ACCESS_LOG=0 "$API" > "$WORK/api.out" 2> "$WORK/api.err" &
API_PID=$!
URL="http://127.0.0.1:$API_PORT/api/events?kind=eq.3&order=id&limit=25&select=id,payload"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$API_PORT/api/health" && break; sleep 0.1; done

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
run_wrk() {	# run_wrk PREFER -> "rps p50 p99"
	curl -s -o /dev/null -D "$WORK/h" ${1:+-H "Prefer: $1"} "$URL"
	grep -i '^Content-Range' "$WORK/h" | tr -d '\r' | sed "s/^/#   ${1:-no count}: /" >&2
	wrk -t2 -c"$CONNS" -d1s ${1:+-H "Prefer: $1"} "$URL" > /dev/null 2>&1
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency ${1:+-H "Prefer: $1"} "$URL" > "$WORK/wrk.out" 2>&1
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
	[ -n "$non2xx" ] && echo "# $non2xx non-2xx answers" >&2
	echo "$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out") $(awk '$1 == "50%" {print $2}' "$WORK/wrk.out" | to_ms) $(awk '$1 == "99%" {print $2}' "$WORK/wrk.out" | to_ms)"
}
echo "SELECT count(*) FROM b.events WHERE kind = 3;" > "$WORK/count.sql"
"$PGBIN/pgbench" -n -M prepared -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CONNS" -j 2 -T 1 -f "$WORK/count.sql" postgres > /dev/null 2>&1
"$PGBIN/pgbench" -n -M prepared -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CONNS" -j 2 -T "$SECS" -f "$WORK/count.sql" postgres > "$WORK/pgb.out" 2>&1
pg_tps=$(awk '/^tps/ {printf "%.0f", $3}' "$WORK/pgb.out")
pg_lat=$(awk '/latency average/ {print $4}' "$WORK/pgb.out")

none=$(run_wrk "")
planned=$(run_wrk "count=planned")
exact=$(run_wrk "count=exact")
echo "bench/api_count: $(nproc) cores, $ROWS rows, filter matches 10%, 25 rows per page, $CONNS connections, ${SECS} s each"
printf '%-34s %10s %9s %9s\n' request req/s p50_ms p99_ms
echo "$none" | awk '{printf "%-34s %10.0f %9s %9s\n", "freight-api, no count (anchor)", $1, $2, $3}'
echo "$planned" | awk '{printf "%-34s %10.0f %9s %9s\n", "freight-api, count=planned", $1, $2, $3}'
echo "$exact" | awk '{printf "%-34s %10.0f %9s %9s\n", "freight-api, count=exact", $1, $2, $3}'
printf '%-34s %10s %9s %9s\n' "pgbench count(*) alone (anchor)" "$pg_tps" "$pg_lat" "(mean)"
awk -v n="${none%% *}" -v p="${planned%% *}" -v e="${exact%% *}" -v g="$pg_tps" 'BEGIN {
	printf "Ratios: planned %.2fx of no count, %.1fx exact; exact %.2fx of pgbench count(*) alone\n", p / n, p / e, e / g }'
