# test/e2e/lib.sh — what the freight-api end-to-end scripts share (sourced after HERE is set):
# a work directory and the pass/fail counters, a throwaway PostgreSQL cluster, free ports, and
# a cleanup at exit that stops the daemons the script started and every cluster in $WORK.
#   e2e_setup NAME                   WORK=/tmp/freight-NAME.XXXXXX; stops if freight-api is not built
#   e2e_cluster DB [POSTGRES_OPTS]   initdb + start on a free port, database DB; sets PGPORT, PSQL
#   e2e_freight_cluster DB [POSTGRES_OPTS]  e2e_cluster with the freight extension preloaded (a
#                                    key file in $WORK) and created in DB, and the daemon's login
#                                    role freight_authenticator, a member of every freight API role
#   e2e_pg_stop, e2e_pg_start        stop that cluster, start it again as it was
#   e2e_sql DB FILE ...              runs the SQL files (- = standard input) in DB as postgres,
#                                    stopping at the first error; on one: psql's output, e2e_abort
#   e2e_track PID ...                the cleanup stops these processes too
#   e2e_wait_up URL [PID]            waits (10 s at most) until URL answers (curl with
#                                    $E2E_CURL_ARGS); fails early if the process PID has exited
#   e2e_api VAR=VALUE ...            starts freight-api with these settings on a free port (output
#                                    in $WORK/api.out and api.err), tracks it and waits for
#                                    /api/health (at E2E_API_HOST, default 127.0.0.1); sets PORT
#                                    and API_PID; false if it did not come up
#   e2e_refuses NAME MESSAGE VAR=VALUE ...  one check: freight-api started with these settings (on
#                                    a free port unless they say) exits at start (within 10 s,
#                                    non-zero) saying MESSAGE on stderr
#   e2e_count LOG                    prints a client's output and adds its "N passed, M failed"
#                                    to the counters (no such line: one failure)
#   e2e_client SCRIPT [VAR=VALUE ...]  runs the node client $HERE/SCRIPT with these variables and
#                                    counts its results (e2e_count of $WORK/SCRIPT.log)
#   e2e_abort [LOG]                  the script cannot go on: prints LOG and the counts with one
#                                    more failure, exits 1
#   e2e_finish [PID]                 the last line of a script: (with PID, one check that the
#                                    daemon PID is still alive) prints "N passed, M failed" and
#                                    exits 0 if nothing failed, else 1
#   check NAME STATUS BODY_REGEX curl-args...   status and body of a request ("" = any body,
#                                    EMPTY = no body); the response is left in $WORK/headers
#                                    and $WORK/body
#   expect NAME ACTUAL WANTED        equality
#   expect_match NAME ACTUAL REGEX   ACTUAL matches the extended regular expression
#   header NAME                      the value of header NAME in the last response
SRC=${FREIGHT_SRC:-$(cd "$HERE/../.." && pwd)}
API="$SRC/contrib/api/freight-api"
PGBIN=${PGBIN:-$(/usr/lib/postgresql/15/bin/pg_config --bindir)}
PASSED=0
FAILED=0
E2E_PIDS=""

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
e2e_track() { E2E_PIDS="$E2E_PIDS $*"; }

e2e_count() {
	cat "$1"
	e2e_p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$1" | tail -n 1)
	e2e_f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$1" | tail -n 1)
	PASSED=$((PASSED + ${e2e_p:-0})); FAILED=$((FAILED + ${e2e_f:-1}))
}

e2e_client() {
	e2e_script=$1; shift
	env "$@" node "$HERE/$e2e_script" > "$WORK/$e2e_script.log" 2>&1
	e2e_count "$WORK/$e2e_script.log"
}

e2e_abort() {
	[ -n "${1:-}" ] && cat "$1"
	echo "$PASSED passed, $((FAILED + 1)) failed"
	exit 1
}

e2e_finish() {
	if [ -n "${1:-}" ]; then
		kill -0 "$1" 2>/dev/null && pass "daemon alive after all of it" || fail "daemon died"
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ] && exit 0
	exit 1
}

check() {
	name=$1; want=$2; body_re=$3; shift 3
	got=$(curl -s -g -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$@")
	if [ "$got" = "$want" ] && { [ -z "$body_re" ] || { [ "$body_re" = EMPTY ] && [ ! -s "$WORK/body" ]; } ||
		grep -Eq -- "$body_re" "$WORK/body"; }; then
		pass "$name"
	else
		fail "$name (status $got, want $want; body: $(head -c 300 "$WORK/body"))"
	fi
}
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1 (got '$(printf '%s' "$2" | head -c 300)', want /$3/)"; fi
}
header() { tr -d '\r' < "$WORK/headers" | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" {sub(/^[^:]*: */, ""); print}'; }

e2e_cleanup() {
	for p in $E2E_PIDS; do kill "$p" 2>/dev/null; done
	for pidfile in "$WORK"/*/postmaster.pid; do
		[ -f "$pidfile" ] && "$PGBIN/pg_ctl" -D "${pidfile%/postmaster.pid}" -m immediate stop > /dev/null 2>&1
	done
	rm -rf "$WORK"
}

e2e_setup() {
	WORK=$(mktemp -d "/tmp/freight-$1.XXXXXX")
	trap e2e_cleanup EXIT
	if [ ! -x "$API" ] || [ ! -d "$HERE/node_modules/@supabase/postgrest-js" ]; then
		echo "freight-api not built or npm packages missing in test/e2e (make deps; make)"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

e2e_cluster() {
	PGPORT=$(free_port)
	"$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$WORK/initdb.log" 2>&1 ||
		{ cat "$WORK/initdb.log"; exit 1; }
	E2E_PG_OPTS="-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 ${2:-}"
	e2e_pg_start || { cat "$WORK/pg.log"; exit 1; }
	PSQL="$PGBIN/psql -X -q -h 127.0.0.1 -p $PGPORT -U postgres"
	$PSQL -d postgres -c "CREATE DATABASE $1" || exit 1
}

e2e_pg_start() { "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w -o "$E2E_PG_OPTS" start > /dev/null; }
e2e_pg_stop() { "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w stop > /dev/null; }

e2e_sql() {
	e2e_db=$1; shift
	for e2e_file in "$@"; do set -- "$@" -f "$e2e_file"; shift; done	# each FILE becomes -f FILE
	$PSQL -d "$e2e_db" -v ON_ERROR_STOP=1 "$@" > "$WORK/sql.log" 2>&1 || e2e_abort "$WORK/sql.log"
}

e2e_freight_cluster() {
	if [ ! -f "$("$PGBIN/pg_config" --sharedir)/extension/freight.control" ]; then
		echo "the freight extension is not installed (make install)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/kek.key"
	chmod 600 "$WORK/kek.key"
	e2e_cluster "$1" "-c shared_preload_libraries=freight -c freight.key_file=$WORK/kek.key -c freight.database=$1 ${2:-}"
	e2e_sql "$1" - <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION freight CASCADE;
CREATE ROLE freight_authenticator LOGIN NOINHERIT;
GRANT freight_admin, freight_app, freight_customer, freight_driver, freight_partner, freight_anon
	TO freight_authenticator;
SQL
}

e2e_wait_up() {
	for _ in $(seq 1 100); do
		curl -sk ${E2E_CURL_ARGS:-} -o /dev/null "$1" && return 0
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}

e2e_api() {
	PORT=$(free_port)
	env "$@" FREIGHT_API_PORT="$PORT" "$API" > "$WORK/api.out" 2> "$WORK/api.err" &
	API_PID=$!
	e2e_track "$API_PID"
	e2e_wait_up "http://${E2E_API_HOST:-127.0.0.1}:$PORT/api/health" "$API_PID"
}

e2e_refuses() {
	e2e_name=$1; e2e_msg=$2; shift 2
	env FREIGHT_API_PORT="$(free_port)" "$@" timeout 10 "$API" > /dev/null 2> "$WORK/refused.err"
	e2e_rc=$?
	if [ "$e2e_rc" != 0 ] && [ "$e2e_rc" != 124 ] && grep -Fq -- "$e2e_msg" "$WORK/refused.err"; then
		pass "$e2e_name"
	else
		fail "$e2e_name (exit $e2e_rc; stderr: $(head -c 300 "$WORK/refused.err"))"
	fi
}
