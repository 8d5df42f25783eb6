#!/bin/sh
# bench/api/run.sh — freight-api against its references, in one run, on the same data
# (make run's demo data: 10,000 shipments) and the same two requests:
#   single: GET /api/shipments?tracking_number=eq.<one>      (admin JWT)
#   list:   GET /api/shipments?status=eq.in_transit&order=created_at.desc&limit=50
# References: (1) pgbench -M prepared running exactly the transaction freight-api sends for
# that request (taken from its log-sql output), pipelined like freight-api, with 8 clients, as
# many as freight-api's pool, or 64, whichever is fastest in a calibration run before the rounds; (2) Fastify + pg and (3) Express + pg
# servers (bench/api/*.mjs), PostgreSQL building the JSON in all.  Every client reaches
# PostgreSQL over its Unix socket (the fastest transport for all of them).  Load: wrk, 64
# connections over 127.0.0.1.  Prints req/s, p50, p99 and the ratios.
#
# Scheduling: PostgreSQL backends call setsid(), and with the kernel's autogroup feature every
# session is a scheduling group of its own, so each busy backend gets as much CPU as the whole
# of a multi-threaded client process (freight-api, wrk, node).  Run as root, the benchmark
# turns autogroup off for its duration (every thread weighs the same, as within one systemd
# service cgroup) and restores it; BENCH_AUTOGROUP=keep leaves it alone.  The setting applies
# to every server in the run; it is printed with the results.
# Env: BENCH_SECONDS (default 5), BENCH_ROUNDS (5), BENCH_CONNECTIONS (64), BENCH_API_POOL
# (freight-api blocking pool, default 16), BENCH_API_THREADS (its HTTP threads, default 2),
# BENCH_API_PIPELINES (its pipelined connections, default 2), BENCH_NODE_POOL (4),
# BENCH_ENDPOINTS ("single list"), BENCH_API_BIN (the freight-api binary, default
# contrib/api/freight-api).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PGBIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
API_POOL=${BENCH_API_POOL:-16}
API_BIN=${BENCH_API_BIN:-$SRC/contrib/api/freight-api}

API_THREADS=${BENCH_API_THREADS:-2}
API_PIPELINES=${BENCH_API_PIPELINES:-2}
AUTOGROUP=/proc/sys/kernel/sched_autogroup_enabled

if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: run the whole benchmark as the OS user freight.
	saved=$(cat "$AUTOGROUP" 2> /dev/null)
	if [ "${BENCH_AUTOGROUP:-off}" != keep ] && [ -n "$saved" ]; then
		echo 0 > "$AUTOGROUP" 2> /dev/null
	fi
	runuser -u freight -- env BENCH_SECONDS="$SECS" BENCH_CONNECTIONS="$CONNS" BENCH_API_POOL="$API_POOL" \
		BENCH_API_THREADS="$API_THREADS" BENCH_API_PIPELINES="$API_PIPELINES" \
		BENCH_ROUNDS="${BENCH_ROUNDS:-5}" BENCH_ENDPOINTS="${BENCH_ENDPOINTS:-single list}" \
		BENCH_API_BIN="${BENCH_API_BIN:-$SRC/contrib/api/freight-api}" \
		BENCH_NODE_POOL="${BENCH_NODE_POOL:-4}" PATH="$PATH" sh "$0" "$@"
	rc=$?
	[ -n "$saved" ] && echo "$saved" > "$AUTOGROUP" 2> /dev/null
	exit $rc
fi
for tool in wrk node "$PGBIN/pgbench"; do
	command -v "$tool" > /dev/null || { echo "bench/api: $tool is missing (make deps installs it)"; exit 1; }
done
[ -x "$API_BIN" ] || { echo "bench/api: build freight-api first (make)"; exit 1; }
[ -d "$HERE/node_modules/fastify" ] || { echo "bench/api: npm packages missing in bench/api (make deps)"; exit 1; }
[ -f "$(/usr/lib/postgresql/15/bin/pg_config --sharedir)/extension/freight.control" ] || { echo "bench/api: install the extension first (make install)"; exit 1; }

WORK=$(mktemp -d /tmp/freight-bench-api.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2> /dev/null; done
	"$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop > /dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench/api: $1 did not come up"; exit 1; }

echo "bench/api: preparing a cluster with the demo data ..."
PGPORT=$(free_port)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/kek.key"
chmod 600 "$WORK/kek.key"
"$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > /dev/null
cat >> "$WORK/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'freight'
freight.key_file = '$WORK/kek.key'
freight.database = 'freight'
max_connections = 200
shared_buffers = 256MB
CONF
"$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w start > /dev/null || { tail "$WORK/pg.log"; exit 1; }
PSQL="$PGBIN/psql -X -q -h 127.0.0.1 -p $PGPORT -U postgres"
$PSQL -d postgres -c "CREATE DATABASE freight"
$PSQL -d freight -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION freight CASCADE" > /dev/null || exit 1
$PSQL -d freight -v ON_ERROR_STOP=1 -f "$SRC/contrib/local/demo.sql" > /dev/null || exit 1
$PSQL -d freight -c "CREATE ROLE freight_authenticator LOGIN NOINHERIT" \
	-c "GRANT freight_admin, freight_anon TO freight_authenticator" -c "ANALYZE" > /dev/null
TN=$($PSQL -d freight -tAc "SELECT tracking_number FROM freight.shipments ORDER BY id LIMIT 1")
DB_URI="postgresql://freight_authenticator@/freight?host=$WORK&port=$PGPORT"
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
JWT=$(FREIGHT_JWT_SECRET="$SECRET" "$API_BIN" --sign-jwt '{"role":"freight_admin","sub":"bench"}')
SINGLE="/api/shipments?tracking_number=eq.$TN"
LIST="/api/shipments?status=eq.in_transit&order=created_at.desc&limit=50"

start_api() {	# start_api PORT [VAR=VALUE ...]
	port=$1; shift
	env FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" \
		FREIGHT_API_PORT="$port" FREIGHT_DB_POOL="$API_POOL" FREIGHT_API_THREADS="$API_THREADS" \
		FREIGHT_DB_PIPELINES="$API_PIPELINES" "$@" \
		"$API_BIN" > "$WORK/api-$port.out" 2> "$WORK/api-$port.err" &
	PIDS="$PIDS $!"
	wait_http "http://127.0.0.1:$port/api/health"
}

# The statements freight-api sends for the two requests, for the pgbench anchor.
LOGPORT=$(free_port)
start_api "$LOGPORT" FREIGHT_LOG_SQL=1 FREIGHT_ACCESS_LOG=0
curl -s -o /dev/null -H "Authorization: Bearer $JWT" "http://127.0.0.1:$LOGPORT$SINGLE"
grep '"event":"sql"' "$WORK/api-$LOGPORT.err" | tail -n 1 > "$WORK/single.sql.json"
curl -s -o /dev/null -H "Authorization: Bearer $JWT" "http://127.0.0.1:$LOGPORT$LIST"
grep '"event":"sql"' "$WORK/api-$LOGPORT.err" | tail -n 1 > "$WORK/list.sql.json"

API_PORT=$(free_port)
start_api "$API_PORT" FREIGHT_ACCESS_LOG=0
FASTIFY_PORT=$(free_port)
(cd "$HERE" && PORT=$FASTIFY_PORT BENCH_DB_URI="$DB_URI" FREIGHT_JWT_SECRET="$SECRET" node fastify_server.mjs) &
PIDS="$PIDS $!"
EXPRESS_PORT=$(free_port)
(cd "$HERE" && PORT=$EXPRESS_PORT BENCH_DB_URI="$DB_URI" FREIGHT_JWT_SECRET="$SECRET" node express_server.mjs) &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$FASTIFY_PORT/"
wait_http "http://127.0.0.1:$EXPRESS_PORT/"

# Same answer from all three (same rows, same JSON from PostgreSQL).
for path in "$SINGLE" "$LIST"; do
	a=$(curl -s -H "Authorization: Bearer $JWT" "http://127.0.0.1:$API_PORT$path" | md5sum)
	f=$(curl -s -H "Authorization: Bearer $JWT" "http://127.0.0.1:$FASTIFY_PORT$path" | md5sum)
	e=$(curl -s -H "Authorization: Bearer $JWT" "http://127.0.0.1:$EXPRESS_PORT$path" | md5sum)
	if [ "$a" != "$f" ] || [ "$a" != "$e" ]; then echo "bench/api: the servers disagree on $path"; exit 1; fi
done

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
run_wrk() {	# run_wrk URL -> "rps p50 p99"
	wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $JWT" "$1" > /dev/null 2>&1	# warm-up
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $JWT" "$1" > "$WORK/wrk.out" 2>&1
	rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
	p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out" | to_ms)
	p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out" | to_ms)
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
	[ -n "$non2xx" ] && echo "  (warning: $non2xx non-2xx answers from $1)" >&2
	echo "$rps $p50 $p99"
}
run_pgbench() {	# run_pgbench SQLJSON CLIENTS -> "tps p50 p99 clients"
	mkdir -p "$WORK/pgb" && rm -f "$WORK/pgb"/pgbench_log*
	node "$HERE/pgbench_anchor.mjs" "$1" "$PGBIN/pgbench" "host=$WORK port=$PGPORT user=freight_authenticator dbname=freight" \
		"$2" 2 "$WORK/pgb" > /dev/null	# warm-up
	rm -f "$WORK/pgb"/pgbench_log*
	node "$HERE/pgbench_anchor.mjs" "$1" "$PGBIN/pgbench" "host=$WORK port=$PGPORT user=freight_authenticator dbname=freight" \
		"$2" "$SECS" "$WORK/pgb" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(r.tps.toFixed(0), r.p50_ms.toFixed(2), r.p99_ms.toFixed(2), process.argv[1])})' "$2"
}
# The machine is shared and noisy: every server is measured once in each of BENCH_ROUNDS
# interleaved rounds and keeps its best round, so each gets the same chance at a quiet moment;
# the ratios are also computed within each round (the servers one after the other, under about
# the same load) and their median printed, which a single quiet moment cannot skew.  pgbench's
# client count is its configuration: it is chosen once, before the rounds, as the fastest of 8
# (about the best on 2 cores), freight-api's pool size and wrk's connection count.
ROUNDS=${BENCH_ROUNDS:-5}
best() {	# best "rps p50 p99" lines on stdin -> the one with the highest rps
	sort -k1,1 -g -r | head -n 1
}
echo "bench/api: $(nproc) cores, wrk $CONNS connections, best of $ROUNDS rounds of ${SECS} s; freight-api" \
	"$API_THREADS HTTP threads, $API_PIPELINES pipelined connections, pool $API_POOL; autogroup $(cat $AUTOGROUP 2> /dev/null || echo n/a)"
for ep in ${BENCH_ENDPOINTS:-single list}; do
	if [ "$ep" = single ]; then path=$SINGLE; else path=$LIST; fi
	: > "$WORK/pg.res"; : > "$WORK/api.res"; : > "$WORK/fa.res"; : > "$WORK/ex.res"; : > "$WORK/ratios"
	: > "$WORK/calibrate.pg"
	for clients in $(printf '%s\n' 8 "$API_POOL" "$CONNS" | sort -nu); do
		run_pgbench "$WORK/$ep.sql.json" "$clients" >> "$WORK/calibrate.pg"
	done
	clients=$(best < "$WORK/calibrate.pg" | cut -d' ' -f4)
	best < "$WORK/calibrate.pg" >> "$WORK/pg.res"	# pgbench's best round may be its calibration run
	echo "$ep: pgbench calibration (tps p50 p99 clients): $(tr '\n' ';' < "$WORK/calibrate.pg") -> $clients clients"
	for round in $(seq 1 "$ROUNDS"); do
		p=$(run_pgbench "$WORK/$ep.sql.json" "$clients"); echo "$p" >> "$WORK/pg.res"
		a=$(run_wrk "http://127.0.0.1:$API_PORT$path"); echo "$a" >> "$WORK/api.res"
		f=$(run_wrk "http://127.0.0.1:$FASTIFY_PORT$path"); echo "$f" >> "$WORK/fa.res"
		e=$(run_wrk "http://127.0.0.1:$EXPRESS_PORT$path"); echo "$e" >> "$WORK/ex.res"
		echo "$ep round $round req/s: pgbench ${p%% *}, freight-api ${a%% *}, Fastify ${f%% *}, Express ${e%% *}"
		echo "${a%% *} ${p%% *} ${f%% *} ${e%% *}" | awk '{printf "%.3f %.3f %.3f\n", $1/$2, $1/$3, $1/$4}' >> "$WORK/ratios"
	done
	printf '%-8s %-26s %10s %9s %9s\n' endpoint server req/s p50_ms p99_ms
	set -- $(best < "$WORK/pg.res"); pg_rps=$1
	printf '%-8s %-26s %10s %9s %9s\n' "$ep" "pgbench -M prepared -c $4" "$1" "$2" "$3"
	set -- $(best < "$WORK/api.res"); api_rps=$1
	printf '%-8s %-26s %10s %9s %9s\n' "$ep" "freight-api" "$1" "$2" "$3"
	set -- $(best < "$WORK/fa.res"); fa_rps=$1
	printf '%-8s %-26s %10s %9s %9s\n' "$ep" "Fastify + pg" "$1" "$2" "$3"
	set -- $(best < "$WORK/ex.res"); ex_rps=$1
	printf '%-8s %-26s %10s %9s %9s\n' "$ep" "Express + pg" "$1" "$2" "$3"
	awk -v a="$api_rps" -v p="$pg_rps" -v f="$fa_rps" -v e="$ex_rps" -v ep="$ep" \
		'BEGIN {printf "%-8s ratios (best rounds): freight-api / pgbench = %.2f, / Fastify = %.2f, / Express = %.2f\n", ep, a/p, a/f, a/e}'
	median() { cut -d' ' -f"$1" "$WORK/ratios" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
	printf '%-8s ratios (median of %s rounds): freight-api / pgbench = %.2f, / Fastify = %.2f, / Express = %.2f\n' \
		"$ep" "$ROUNDS" "$(median 1)" "$(median 2)" "$(median 3)"
	echo "$ep per-round ratios (pgbench Fastify Express): $(tr '\n' ';' < "$WORK/ratios")"
done
