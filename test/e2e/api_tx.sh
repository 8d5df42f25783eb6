#!/bin/sh
# test/e2e/api_tx.sh — freight-api's per-request transaction, end to end (own cluster and schema,
# api_tx_schema.sql): a write commits exactly once, an error anywhere (the statement, the
# pre-request hook, the commit itself) rolls everything back, reads run READ ONLY; the
# request.headers / request.cookies settings; db-pre-request; Prefer: tx= against each db-tx-end
# mode; bad settings refused at start.  Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-tx
e2e_cluster txtest "-c max_connections=40"
e2e_sql txtest "$HERE/api_tx_schema.sql"
q() { $PSQL -d txtest -tAc "$1"; }

daemon_env() {	# the settings every daemon of this test shares
	echo FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/txtest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_JWT_SECRET=tx-secret-0123456789abcdef0123456789 FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0
}
start_api() {	# start_api NAME [VAR=VALUE ...] -> sets PORT_<NAME>
	name=$1; shift
	port=$(free_port)
	env $(daemon_env) FREIGHT_API_PORT="$port" "$@" "$API" > "$WORK/$name.out" 2> "$WORK/$name.err" &
	e2e_track $!
	e2e_wait_up "http://127.0.0.1:$port/api/health" $! || { echo "daemon $name did not start:"; e2e_abort "$WORK/$name.err"; }
	eval "PORT_$name=$port"
}
JSON='Content-Type: application/json'

echo "# request settings and db-pre-request (db-tx-end = commit)"
start_api hook FREIGHT_DB_PRE_REQUEST=api.pre_check FREIGHT_LOG_SQL=1
A="http://127.0.0.1:$PORT_hook/api"
check "a function reads request.headers, request.cookies, method and path" 200 \
	'"user" : "web_anon".*"agent" : "tx-test/1".*"tenant" : "acme".*"sid" : "abc".*"method" : "GET".*"path" : "/api/rpc/whoami"' \
	-A tx-test/1 -H 'X-Tenant: acme' -H 'Cookie: sid=abc; theme=dark' "$A/rpc/whoami"
check "a read runs READ ONLY" 200 '"read_only" : "on"' "$A/rpc/whoami"
check "a header that is not UTF-8 does not fail the request" 200 "" -H "$(printf 'X-Tenant: caf\351')" "$A/rpc/whoami"
if grep -qF "\"tenant\" : \"caf$(printf '\357\277\275')\"" "$WORK/body"; then pass "  ... its invalid byte reads as U+FFFD"
else fail "  ... its invalid byte reads as U+FFFD (body: $(head -c 300 "$WORK/body"))"; fi
TOKEN=$(FREIGHT_JWT_SECRET=tx-secret-0123456789abcdef0123456789 "$API" --sign-jwt '{"role":"web_user","sub":"u1"}')
check "a JWT request runs as its role" 200 '"user" : "web_user".*"sid" : "secret-cookie"' \
	-H "Authorization: Bearer $TOKEN" -H 'Cookie: sid=secret-cookie' "$A/rpc/whoami"
if grep -qF 'authorization\":\"***' "$WORK/hook.err" && ! grep -q -e "$TOKEN" -e secret-cookie "$WORK/hook.err"; then
	pass "  ... log-sql shows the transaction without the token or cookie values"
else
	fail "  ... log-sql shows the transaction without the token or cookie values ($(grep -c "$TOKEN" "$WORK/hook.err") lines with the token)"
fi
check "a write inside a read is refused (25006, 405) and changes nothing" 405 '"code":"25006"' "$A/rpc/sneaky_write"
expect "  ... no row written" "$(q "SELECT count(*) FROM api.items")" 0
check "the pre-request hook rejects a read with its own status and message" 403 \
	'"code":"PT403".*"message":"blocked by pre-request"' -H 'X-Block: yes' "$A/items"
check "a write commits" 201 "" -H "$JSON" -A tx-test/2 -d '{"name":"first"}' "$A/items"
expect "  ... exactly once" "$(q "SELECT count(*) FROM api.items WHERE name = 'first'")" 1
expect "  ... with what the pre-request hook wrote in the same transaction" \
	"$(q "SELECT string_agg(method || ' ' || agent, ',') FROM api.audit")" "POST tx-test/2"
case "$(header Freight-LSN)" in */*) pass "  ... and returns its commit LSN" ;; *) fail "  ... and returns its commit LSN (no Freight-LSN)" ;; esac
check "the pre-request hook rejects a write" 403 '"message":"blocked by pre-request"' \
	-H "$JSON" -H 'X-Block: yes' -d '{"name":"blocked"}' "$A/items"
check "a failing statement (check constraint) is a 400" 400 '"code":"23514"' -H "$JSON" -d '{"name":"bad"}' "$A/items"
expect "  ... and rolls back what the pre-request hook wrote" "$(q "SELECT count(*) FROM api.audit")" 1
check "an error raised by the commit itself (deferred foreign key) fails the request" 409 '"code":"23503"' \
	-H "$JSON" -d '{"item_id":999}' "$A/parts"
expect "  ... and nothing of it stays" "$(q "SELECT count(*) FROM api.parts") $(q "SELECT count(*) FROM api.audit")" "0 1"
ITEM=$(q "SELECT id FROM api.items WHERE name = 'first'")
check "the deferred check passes when the row exists" 201 "" -H "$JSON" -d "{\"item_id\":$ITEM}" "$A/parts"
expect "  ... committed" "$(q "SELECT count(*) FROM api.parts")" 1
check "Prefer: tx=rollback is ignored with db-tx-end = commit" 201 "" \
	-H "$JSON" -H 'Prefer: tx=rollback' -d '{"name":"kept"}' "$A/items"
expect "  ... the row is committed" "$(q "SELECT count(*) FROM api.items WHERE name = 'kept'")" 1
expect "  ... and tx is not in Preference-Applied" "$(header Preference-Applied)" ""

echo "# db-tx-end = commit-allow-override"
start_api override FREIGHT_DB_TX_END=commit-allow-override
B="http://127.0.0.1:$PORT_override/api"
check "Prefer: tx=rollback answers as usual" 201 '"name":"ghost"' \
	-H "$JSON" -H 'Prefer: return=representation, tx=rollback' -d '{"name":"ghost"}' "$B/items"
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "return=representation, tx=rollback"
expect "  ... nothing is committed" "$(q "SELECT count(*) FROM api.items WHERE name = 'ghost'")" 0
expect "  ... and no commit LSN is returned" "$(header Freight-LSN)" ""
check "a singular PATCH with tx=rollback answers the new row" 200 '"name":"renamed"' -X PATCH \
	-H "$JSON" -H 'Accept: application/vnd.pgrst.object+json' -H 'Prefer: return=representation, tx=rollback' \
	-d '{"name":"renamed"}' "$B/items?id=eq.$ITEM"
expect "  ... and leaves the row as it was" "$(q "SELECT name FROM api.items WHERE id = $ITEM")" first
check "Prefer: tx=commit commits" 201 "" -H "$JSON" -H 'Prefer: tx=commit' -d '{"name":"committed"}' "$B/items"
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "tx=commit"
expect "  ... the row is there" "$(q "SELECT count(*) FROM api.items WHERE name = 'committed'")" 1
check "an unknown tx value is ignored (lenient)" 201 "" -H "$JSON" -H 'Prefer: tx=maybe' -d '{"name":"lenient"}' "$B/items"
expect "  ... the default (commit) applies" "$(q "SELECT count(*) FROM api.items WHERE name = 'lenient'")" 1

echo "# db-tx-end = rollback and rollback-allow-override"
start_api rollback FREIGHT_DB_TX_END=rollback
start_api rollback_override FREIGHT_DB_TX_END=rollback-allow-override
C="http://127.0.0.1:$PORT_rollback/api"
D="http://127.0.0.1:$PORT_rollback_override/api"
check "db-tx-end = rollback: a write answers 201" 201 "" -H "$JSON" -H 'Prefer: tx=commit' -d '{"name":"dry-run"}' "$C/items"
expect "  ... and is rolled back, Prefer: tx=commit notwithstanding" "$(q "SELECT count(*) FROM api.items WHERE name = 'dry-run'")" 0
check "db-tx-end = rollback-allow-override: a write without Prefer" 201 "" -H "$JSON" -d '{"name":"dry-run"}' "$D/items"
expect "  ... is rolled back" "$(q "SELECT count(*) FROM api.items WHERE name = 'dry-run'")" 0
check "  ... with Prefer: tx=commit" 201 "" -H "$JSON" -H 'Prefer: tx=commit' -d '{"name":"dry-run"}' "$D/items"
expect "  ... is committed" "$(q "SELECT count(*) FROM api.items WHERE name = 'dry-run'")" 1

echo "# bad settings"
refused() {	# refused NAME STDERR_REGEX VAR=VALUE: the daemon must not start
	env $(daemon_env) FREIGHT_API_PORT="$(free_port)" "$3" "$API" > /dev/null 2> "$WORK/bad.err" &
	pid=$!
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fail "$1 (daemon started)"
	elif grep -Eq -- "$2" "$WORK/bad.err"; then pass "$1"
	else fail "$1 (stderr: $(head -c 300 "$WORK/bad.err"))"; fi
}
refused "db-tx-end must be one of the four modes" 'db-tx-end must be commit' FREIGHT_DB_TX_END=sometimes
refused "db-pre-request must be [schema.]function" 'db-pre-request must be' FREIGHT_DB_PRE_REQUEST=a.b.c
refused "db-pre-request must not be an empty name" 'db-pre-request must be' FREIGHT_DB_PRE_REQUEST=api.
start_api missing 'FREIGHT_DB_PRE_REQUEST=api."pre_check(); DROP TABLE api.items; --"'
check "a pre-request name is an identifier, never SQL: a missing function is an error" 404 '"code":"42883"' \
	"http://127.0.0.1:$PORT_missing/api/items"
expect "  ... and nothing else ran" "$(q "SELECT count(*) > 0 FROM api.items")" t

e2e_finish
