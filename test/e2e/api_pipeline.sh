#!/bin/sh
# test/e2e/api_pipeline.sh — freight-api's pipelining executor (pool_async.c), end to end (own
# cluster, real HTTP on 127.0.0.1): many concurrent requests share one pipelined connection and
# each still gets its own role, claims, transaction and answer — reads under row-level security
# for different users, errors and 406s interleaved with successes, inserts with conflicts; a slow
# statement does not hold up requests that another connection can take; a connection killed
# under a request answers 503 and the next request reconnects; SIGTERM lets requests in flight
# finish; db-pipelines=0 turns it off and bad values are refused at start; a database server
# that accepts connections but never answers is given up after the connect timeout (10 s, or
# the URI's connect_timeout) instead of stalling the daemon.  Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-pipeline
e2e_cluster pipetest "-c max_connections=40"
e2e_sql pipetest "$HERE/api_roles.sql" - <<'SQL'
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon, web_user;
CREATE TABLE api.items (
	id int PRIMARY KEY,
	name text NOT NULL,
	owner text NOT NULL DEFAULT current_setting('request.jwt.claims', true)::json->>'sub'
);
INSERT INTO api.items SELECT g, 'item-' || g, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END
FROM generate_series(1, 200) g;
ALTER TABLE api.items ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON api.items TO web_user
	USING (owner = current_setting('request.jwt.claims', true)::json->>'sub');
CREATE POLICY anon_read ON api.items FOR SELECT TO web_anon USING (id <= 10);
GRANT SELECT ON api.items TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.items TO web_user;
CREATE VIEW api.sleepy AS SELECT 1 AS x FROM pg_sleep(1.5);
GRANT SELECT ON api.sleepy TO web_anon, web_user;
SQL
SECRET=pipe-secret-0123456789abcdef01234567

# start_api [VAR=VALUE ...]: a daemon on a free port; sets PORT and API_PID
start_api() {
	e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/pipetest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_JWT_SECRET=$SECRET FREIGHT_DB_POOL=2 FREIGHT_API_THREADS=4 FREIGHT_ACCESS_LOG=0 "$@"
}
stop_api() { kill "$API_PID"; wait "$API_PID" 2> /dev/null; }
# run_client PIPELINES: api_pipeline.mjs against the running daemon (started with db-pipelines=PIPELINES)
run_client() {
	e2e_client api_pipeline.mjs PSQL_ARGV="$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' $PSQL -d pipetest)" \
		API_URL="http://127.0.0.1:$PORT/api" JWT_SECRET="$SECRET" API_BIN="$API" PIPELINES="$1"
}

echo "# one pipelined connection carries every request"
start_api FREIGHT_DB_PIPELINES=1 || e2e_abort "$WORK/api.err"
run_client 1
if curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^freight_api_pipeline_connections{pool="primary"} 1$'; then
	pass "/metrics shows the pipelined connection"
else
	fail "/metrics shows the pipelined connection"
fi
stop_api

echo "# two pipelined connections: a slow statement holds up nothing another connection can take"
start_api FREIGHT_DB_PIPELINES=2 || e2e_abort "$WORK/api.err"
run_client 2
curl -s -o "$WORK/slow.body" -w '%{http_code}' "http://127.0.0.1:$PORT/api/sleepy" > "$WORK/slow.status" &
CURL_PID=$!
sleep 0.5
kill "$API_PID"
wait "$CURL_PID"
wait "$API_PID"
API_RC=$?
if [ "$(cat "$WORK/slow.status")" = 200 ] && grep -q '"x":1' "$WORK/slow.body" && [ "$API_RC" = 0 ]; then
	pass "SIGTERM lets a pipelined request in flight finish, then the daemon exits 0"
else
	fail "SIGTERM lets a pipelined request in flight finish (status $(cat "$WORK/slow.status"), exit $API_RC)"
fi

echo "# db-pipelines = 0: every request on the blocking pool"
start_api FREIGHT_DB_PIPELINES=0 || e2e_abort "$WORK/api.err"
if curl -s "http://127.0.0.1:$PORT/api/items?id=eq.3&select=name" | grep -q '^\[{"name":"item-3"}\]$' &&
	! curl -s "http://127.0.0.1:$PORT/metrics" | grep -q pipeline_connections; then
	pass "reads are answered without the executor"
else
	fail "reads are answered without the executor"
fi
stop_api

for bad in -1 65 many; do
	if start_api FREIGHT_DB_PIPELINES=$bad; then
		fail "db-pipelines=$bad is refused at start"
		stop_api
	elif grep -q "db-pipelines" "$WORK/api.err"; then
		pass "db-pipelines=$bad is refused at start with a clear message"
	else
		fail "db-pipelines=$bad is refused at start with a clear message ($(head -c 200 "$WORK/api.err"))"
	fi
done

echo "# a database server that accepts connections but never answers"
SILENT_PORT=$(free_port)
node -e 'require("net").createServer(() => {}).listen(+process.argv[1], "127.0.0.1")' "$SILENT_PORT" &
e2e_track $!
sleep 0.5
# gives_up NAME MIN MAX URI: the daemon exits with libpq's timeout error after MIN..MAX seconds
gives_up() {
	started=$(date +%s)
	env FREIGHT_DB_URI="$4" FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_JWT_SECRET=$SECRET \
		FREIGHT_API_PORT="$(free_port)" timeout 40 "$API" > "$WORK/api.out" 2> "$WORK/api.err"
	rc=$?
	took=$(($(date +%s) - started))
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$took" -ge "$2" ] && [ "$took" -le "$3" ] &&
		grep -q "timeout expired" "$WORK/api.err"; then
		pass "$1 (exit $rc after $took s)"
	else
		fail "$1 (exit $rc after $took s: $(head -c 200 "$WORK/api.err"))"
	fi
}
gives_up "a silent server is given up after the default 10 s connect timeout" 9 14 \
	"postgresql://authenticator@127.0.0.1:$SILENT_PORT/pipetest"
gives_up "the URI's own connect_timeout wins over the default" 1 4 \
	"postgresql://authenticator@127.0.0.1:$SILENT_PORT/pipetest?connect_timeout=2"

e2e_finish
