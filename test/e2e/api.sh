#!/bin/sh
# test/e2e/api.sh — end-to-end tests of freight-api (contrib/api/freight-api).
#
# Starts a throwaway PostgreSQL cluster with its own small schema (api_schema.sql; the daemon is
# general), the daemon on a free port, then: curl checks of errors and bad input, the real
# @supabase/postgrest-js client (api_client.mjs), server-sent events (api_sse.mjs), RS256 keys,
# TLS and mutual TLS, the tracking page in headless Chromium (api_page.mjs, skipped without
# Chromium), schema reload on NOTIFY, and a graceful SIGTERM.  Ends with "N passed, M failed".
# Runs as a non-root user (test/run_all.sh takes care of that).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SECRET=e2e-secret-0123456789abcdef0123456789
e2e_setup api-e2e

# ---- database ----
e2e_cluster apitest "-c max_connections=60"
e2e_sql apitest "$HERE/api_schema.sql"
PSQL_ARGV="[\"$PGBIN/psql\",\"-X\",\"-q\",\"-h\",\"127.0.0.1\",\"-p\",\"$PGPORT\",\"-U\",\"postgres\",\"-d\",\"apitest\"]"
export PSQL_ARGV

# ---- daemon ----
start_api() {	# start_api NAME PORT [VAR=VALUE ...]: starts a daemon, waits for /api/health
	name=$1; port=$2; shift 2
	env FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/apitest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_API_KEY_ROLE=web_user FREIGHT_SERVICE_ROLE=web_service \
		FREIGHT_DB_POOL=4 FREIGHT_API_PORT="$port" FREIGHT_SSE_HEARTBEAT_MS=300 "$@" \
		"$API" > "$WORK/$name.out" 2> "$WORK/$name.err" &
	echo $! > "$WORK/$name.pid"
	e2e_track $!
	scheme=http
	case "$*" in *FREIGHT_TLS_CERT*) scheme=https ;; esac
	e2e_wait_up "$scheme://127.0.0.1:$port/api/health" "$(cat "$WORK/$name.pid")" && return 0
	echo "daemon $name did not start:"; cat "$WORK/$name.err"
	return 1
}
PORT=$(free_port)
start_api main "$PORT" FREIGHT_JWT_SECRET="$SECRET" FREIGHT_JWT_AUD=freight-test FREIGHT_MAX_BODY=1048576 \
	FREIGHT_SLOW_MS=800 || e2e_abort
B="http://127.0.0.1:$PORT/api"
jwt() { node "$HERE/jwt.mjs" "$@"; }
USER_TOKEN=$(jwt hs256 "$SECRET" '{"role":"web_user","sub":"alice","aud":"freight-test","exp":"+3600"}')
ADMIN_TOKEN=$(jwt hs256 "$SECRET" '{"role":"web_admin","sub":"root"}')

rows() { $PSQL -d apitest -tAc "SELECT count(*) FROM private.shipments"; }

echo "# bad input: clear 4xx answers"
check "malformed filter operator" 400 '"code":"PGRST100"' "$B/shipments?status=equals.x"
check "filter without operator" 400 '"code":"PGRST100"' "$B/shipments?status=delivered"
check "unknown column in a filter" 400 '"code":"42703"' "$B/shipments?nope=eq.1"
check "unknown column in select" 400 '"code":"42703"' "$B/shipments?select=id,nope"
check "bad select syntax" 400 '"code":"PGRST100"' "$B/shipments?select=id,drivers(name"
check "bad cast type" 400 '"code":"PGRST100"' "$B/shipments?select=id::text;drop"
check "bad logic tree" 400 '"code":"PGRST100"' "$B/shipments?or=(id.eq.1,status.eq.x"
check "bad order" 400 '"code":"PGRST100"' "$B/shipments?order=id.sideways"
check "negative limit" 400 '"code":"PGRST100"' "$B/shipments?limit=-1"
check "filter on an embed not selected" 400 '"code":"PGRST108"' "$B/shipments?drivers.name=eq.Ada"
check "no relationship" 400 '"code":"PGRST200"' "$B/drivers?select=*,notes(*)"
check "spread of a to-many embed" 400 '"code":"PGRST119"' "$B/drivers?select=id,...shipments(id)"
check "unknown relation" 404 '"code":"42P01"' "$B/nowhere"
check "unknown function" 404 '"code":"PGRST202"' "$B/rpc/nowhere"
check "wrong argument type" 400 '"code":"22P02"' "$B/rpc/add?a=one&b=2"
check "unsupported method" 405 '"code":"PGRST117"' -X PROPFIND "$B/shipments"
check "PUT without primary-key filters" 405 '"code":"PGRST105"' -X PUT -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '{"id":1}' "$B/shipments"
check "unsupported Accept" 406 '"code":"PGRST107"' -H 'Accept: application/xml' "$B/shipments"
check "unknown profile" 406 '"code":"PGRST106"' -H 'Accept-Profile: private' "$B/shipments"
check "bad Range" 416 '"code":"PGRST103"' -H 'Range: 9-3' "$B/shipments"
check "offset past the end" 416 '"code":"PGRST103"' -H 'Prefer: count=exact' "$B/shipments?offset=500"
check "invalid JSON body" 400 '"code":"PGRST102"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '{"tracking_number":' "$B/shipments"
check "JSON body not an object" 400 '"code":"PGRST102"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '[1,2]' "$B/shipments"
check "unknown column in the body" 400 '"code":"PGRST204"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '{"nope":1}' "$B/shipments"
check "wrong Content-Type" 415 '"code":"PGRST107"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/xml' -d '<a/>' "$B/shipments"
head -c 2000000 /dev/zero | tr '\0' 'a' > "$WORK/huge"
check "huge body is 413" 413 '"code":"PGRST413"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' --data-binary "@$WORK/huge" "$B/shipments"
# the daemon answers and closes while curl is still sending, so curl may report no status
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H 'Expect:' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$WORK/huge" "$B/shipments")
{ [ "$code" = 413 ] || [ "$code" = 000 ]; } && grep -q PGRST413 "$WORK/body" && pass "huge chunked body is 413" || fail "huge chunked body ($code)"
check "PATCH without a WHERE-able body" 400 '"code":"PGRST102"' -X PATCH -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '{}' "$B/shipments?id=eq.1"
check "raised exception keeps message, detail, hint" 400 '"details":"it failed","hint":"do not call"' -X POST -H 'Content-Type: application/json' -d '{}' "$B/rpc/fail"

echo "# bad JWTs"
check "alg none" 401 '"code":"PGRST301"' -H "Authorization: Bearer $(jwt none - '{"role":"web_admin"}')" "$B/shipments"
check "expired" 401 'JWT expired' -H "Authorization: Bearer $(jwt hs256 "$SECRET" '{"role":"web_user","exp":"-120"}')" "$B/shipments"
check "not yet valid" 401 'JWT not yet valid' -H "Authorization: Bearer $(jwt hs256 "$SECRET" '{"role":"web_user","nbf":"+600"}')" "$B/shipments"
check "wrong key" 401 'invalid signature' -H "Authorization: Bearer $(jwt hs256 wrong-secret-0123456789abcdef0123456 '{"role":"web_admin"}')" "$B/shipments"
check "wrong audience" 401 'not in audience' -H "Authorization: Bearer $(jwt hs256 "$SECRET" '{"role":"web_user","aud":"someone-else"}')" "$B/shipments"
check "malformed token" 401 '"code":"PGRST301"' -H "Authorization: Bearer abc.def" "$B/shipments"
check "garbage token" 401 '"code":"PGRST301"' -H "Authorization: Bearer !!!.@@@.###" "$B/shipments"
check "401 carries WWW-Authenticate" 401 '' -H "Authorization: Bearer abc.def" "$B/shipments"
expect_match "WWW-Authenticate header" "$(header WWW-Authenticate)" '^Bearer error="invalid_token"'
check "unknown role in a valid token" 400 '"code":"22023"' -H "Authorization: Bearer $(jwt hs256 "$SECRET" '{"role":"superuser_please"}')" "$B/shipments"
check "Basic auth is refused" 401 'Bearer' -H "Authorization: Basic YWRtaW46YWRtaW4=" "$B/shipments"
n=$($PSQL -d apitest -tAc "SELECT count(*) FROM freight.security_events WHERE kind = 'auth_failure' AND detail->>'method' = 'jwt'")
[ "$n" -ge 8 ] && pass "bad JWTs recorded as security events ($n)" || fail "bad JWTs recorded: $n"

echo "# API keys, rate limits, security events"
KEY_A=ifk_aaaaaaaaaaaa_secreta
KEY_B=ifk_bbbbbbbbbbbb_secretb
# the statements the key checks send, from the server log (log_statement = all for this section)
$PSQL -d apitest -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" > /dev/null
sleep 0.3
LOG_FROM=$(($(wc -c < "$WORK/pg.log") + 1))
check "API key in the apikey header" 200 '"web_user:alice"' -H "apikey: $KEY_A" "$B/rpc/whoami"
expect "RateLimit headers" "$(header RateLimit-Limit) $(header RateLimit-Remaining)" "5 4"
check "API key in X-API-Key, row-level security applies" 200 '^\[\]$' -H "X-API-Key: $KEY_A" "$B/shipments?owner=eq.bob&select=id"
for i in 1 2 3 4 5; do curl -s -o /dev/null -H "apikey: $KEY_B" "$B/rpc/whoami"; done
check "sixth request of a 5-request key is 429" 429 '"code":"PGRST429"' -H "apikey: $KEY_B" "$B/rpc/whoami"
expect "Retry-After on 429" "$(header Retry-After)" 30
check "other keys are not limited by it" 200 '' -H "apikey: $KEY_A" "$B/rpc/whoami"
check "wrong API key secret" 401 'Invalid API key' -H "apikey: ifk_aaaaaaaaaaaa_wrong" "$B/rpc/whoami"
check "unknown API key" 401 'Invalid API key' -H "apikey: nonsense" "$B/rpc/whoami"
$PSQL -d apitest -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" > /dev/null
tail -c +"$LOG_FROM" "$WORK/pg.log" > "$WORK/keys.log"
n=$(grep -Ec 'authenticate_api_key|rate_limit|log_security_event' "$WORK/keys.log")
tx=$(grep -Ec '(statement|execute [^:]*): (BEGIN|COMMIT)' "$WORK/keys.log")
[ "$n" -ge 3 ] && [ "$tx" = 0 ] && pass "key checks, limits and security events run as implicit transactions ($n statements, no BEGIN/COMMIT)" ||
	fail "key checks, limits and security events run as implicit transactions ($n statements, $tx BEGIN/COMMIT)"
sec=$($PSQL -d apitest -tAc "SELECT count(*) FILTER (WHERE actor = 'ifk_aaaaaaaaaaaa' AND client_addr = '127.0.0.1'), count(*) FILTER (WHERE actor = 'bearer token' AND detail->>'reason' = 'JWT expired') FROM freight.security_events WHERE kind = 'auth_failure'")
[ "$sec" = "1|1" ] && pass "failed API key recorded as a security event (actor = key prefix, address)" || fail "security events: $sec"
$PSQL -d apitest -tAc "SELECT detail FROM freight.security_events" | grep -q secreta && fail "a key secret reached the security log" || pass "no key secret in the security log"

check "spread lifts a to-one embed's columns" 200 '^\[\{"id":1,"driver_name":"Bob"\}\]$' "$B/shipments?select=id,...drivers(driver_name:name)&id=eq.1"

echo "# writes: singular, minimal, HEAD"
check "singular PATCH of two rows is 406 and rolled back" 406 '"code":"PGRST116"' -X PATCH -H "Authorization: Bearer $USER_TOKEN" \
	-H 'Content-Type: application/json' -H 'Accept: application/vnd.pgrst.object+json' -d '{"body":"changed"}' "$B/notes?id=in.(1,2)"
[ "$($PSQL -d apitest -tAc "SELECT count(*) FROM api.notes WHERE body = 'changed'")" = 0 ] && pass "nothing changed after the 406" || fail "singular PATCH was not rolled back"
check "singular PATCH of one row returns the object" 200 '^\{"id":3,"body":"changed"\}$' -X PATCH -H "Authorization: Bearer $USER_TOKEN" \
	-H 'Content-Type: application/json' -H 'Accept: application/vnd.pgrst.object+json' -H 'Prefer: return=representation' \
	-d '{"body":"changed"}' "$B/notes?id=eq.3&select=id,body"
check "POST with return=minimal is 201 without a body" 201 EMPTY -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' \
	-H 'Prefer: return=minimal' -d '{"id":700,"body":"minimal"}' "$B/notes"
check "DELETE without representation is 204" 204 EMPTY -X DELETE -H "Authorization: Bearer $USER_TOKEN" "$B/notes?id=eq.700"
check "HEAD has no body" 200 EMPTY -X HEAD "$B/shipments?limit=1"
expect "HEAD has the headers of GET" "$(header Content-Range)" "0-0/*"
check "GET rpc of a volatile function runs read-only (405)" 405 '"code":"25006"' -H "Authorization: Bearer $ADMIN_TOKEN" \
	"$B/rpc/set_status?tn=IFE-000001&st=delivered"
check "upsert ignoring duplicates" 201 '^\[\]$' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' \
	-H 'Prefer: resolution=ignore-duplicates, return=representation' -d '{"id":1,"body":"dup"}' "$B/notes"

echo "# SQL injection strings change nothing"
before=$(rows)
check "injection in a filter value is a value" 200 '^\[\]$' "$B/shipments?status=eq.x'%20OR%201=1;DELETE%20FROM%20private.shipments;--"
check "injection in a column name" 400 '' "$B/shipments?select=id&id%3BDELETE%20FROM%20private.shipments--=eq.1"
check "injection in select" 400 '' "$B/shipments?select=id,(SELECT%201)"
check "injection in order" 400 '"code":"PGRST100"' "$B/shipments?order=id;DELETE%20FROM%20private.shipments"
check "injection in an in-list" 200 '^\[\]$' "$B/shipments?tracking_number=in.(\"x')%20OR%20('1'='1\")"
check "injection in a JSON path key" 200 '^\[\]$' "$B/shipments?meta->>city'%20OR%201%3D1--=eq.x"
check "injection in a relation name" 404 '' "$B/shipments;DELETE%20FROM%20private.shipments"
check "injection in an rpc argument" 400 '"code":"22P02"' "$B/rpc/add?a=1;DELETE%20FROM%20private.shipments&b=1"
check "injection in a JSON key" 400 '"code":"PGRST204"' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -d '{"tracking_number\"); DELETE FROM private.shipments; --":"x"}' "$B/shipments"
check "injection in on_conflict" 400 '' -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' -H 'Prefer: resolution=merge-duplicates' -d '{"tracking_number":"IFE-000001"}' "$B/shipments?on_conflict=tracking_number)%20DO%20NOTHING;--"
check "percent-encoded NUL" 400 '"code":"PGRST100"' "$B/shipments?status=eq.a%00b"
[ "$(rows)" = "$before" ] && pass "row count unchanged after injection attempts ($before)" || fail "row count changed: $before -> $(rows)"

echo "# caching, compression, headers"
check "anonymous read is publicly cacheable" 200 '' "$B/shipments?id=eq.1"
expect_match "Cache-Control public 60 s" "$(header Cache-Control)" '^public, max-age=60'
expect_match "Vary" "$(header Vary)" '^Accept, Accept-Encoding'
etag=$(header ETag)
check "If-None-Match gives 304" 304 '' -H "If-None-Match: $etag" "$B/shipments?id=eq.1"
check "authenticated read is private" 200 '' -H "Authorization: Bearer $USER_TOKEN" "$B/shipments?id=eq.1"
expect_match "Cache-Control private" "$(header Cache-Control)" '^private'
check "health is no-store" 200 '"status":"ok"' "$B/health"
expect_match "health no-store" "$(header Cache-Control)" '^no-store'
curl -s -D "$WORK/h4" -o "$WORK/gz" -H 'Accept-Encoding: gzip' "$B/shipments"
curl -s -o "$WORK/plain" "$B/shipments"
grep -qi '^Content-Encoding: gzip' "$WORK/h4" && gzip -dc "$WORK/gz" | cmp -s - "$WORK/plain" && pass "gzip above the threshold" || fail "gzip"
curl -s -D "$WORK/h5" -o "$WORK/br" -H 'Accept-Encoding: br, gzip' "$B/shipments"
if grep -qi '^Content-Encoding: br' "$WORK/h5" && [ "$(stat -c %s "$WORK/br")" -lt "$(stat -c %s "$WORK/plain")" ]; then
	node -e 'const z=require("zlib"),f=require("fs");process.exit(z.brotliDecompressSync(f.readFileSync(process.argv[1])).equals(f.readFileSync(process.argv[2]))?0:1)' "$WORK/br" "$WORK/plain" \
		&& pass "brotli preferred and correct" || fail "brotli content"
else
	fail "brotli"
fi
curl -s -D "$WORK/h6" -o /dev/null -H 'Accept-Encoding: gzip' "$B/shipments?id=eq.1"
grep -qi '^Content-Encoding' "$WORK/h6" && fail "small bodies are not compressed" || pass "small bodies are not compressed"
check "CORS preflight" 200 '' -X OPTIONS -H 'Origin: http://example.test' -H 'Access-Control-Request-Headers: authorization,prefer' "$B/shipments"
expect "CORS allow origin" "$(header Access-Control-Allow-Origin)" http://example.test
check "Prefer is echoed in Preference-Applied" 206 '' -H 'Prefer: count=exact' "$B/shipments?limit=1"
expect "Preference-Applied and Content-Range" "$(header Preference-Applied) $(header Content-Range)" "count=exact 0-0/60"

echo "# OpenAPI, docs, metrics"
check "OpenAPI 3 at /api/" 200 '"openapi":"3.0.3"' "$B/"
grep -q '"/shipments"' "$WORK/body" && grep -q '"/rpc/add"' "$WORK/body" && pass "OpenAPI has relations and functions" || fail "OpenAPI paths"
check "docs page" 200 'freight API' "http://127.0.0.1:$PORT/api-docs"
check "metrics" 200 'freight_api_requests_total\{route="relation",status="200"\}' "http://127.0.0.1:$PORT/metrics"
grep -q 'freight_api_request_duration_seconds_bucket' "$WORK/body" && grep -q 'freight_api_pool_connections' "$WORK/body" && pass "metrics histogram and pool" || fail "metrics histogram/pool"

echo "# schema cache reload on NOTIFY pgrst"
$PSQL -d apitest -c "CREATE VIEW api.late AS SELECT 1 AS x; GRANT SELECT ON api.late TO web_anon"
check "new view unknown before reload" 404 '' "$B/late"
$PSQL -d apitest -c "NOTIFY pgrst, 'reload schema'"
sleep 1
check "new view served after NOTIFY pgrst" 200 '\[\{"x":1\}\]' "$B/late"

echo "# postgrest-js"
e2e_client api_client.mjs API_URL="$B" USER_TOKEN="$USER_TOKEN" ADMIN_TOKEN="$ADMIN_TOKEN"

echo "# server-sent events"
e2e_client api_sse.mjs API_URL="$B" ADMIN_TOKEN="$ADMIN_TOKEN"

echo "# concurrency and slow clients"
node -e '
const net = require("net");
// 20 clients that send half a request and stall
const socks = [];
for (let i = 0; i < 20; i++) { const s = net.connect(Number(process.argv[1]), "127.0.0.1"); s.on("error", () => {}); s.write("GET /api/shipments HTTP/1.1\r\nHost: x\r\n"); socks.push(s); }
setTimeout(() => { socks.forEach((s) => s.destroy()); }, 4000);
' "$PORT" &
slow=$!
sleep 0.5
seq 1 200 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/shipments?id=eq.{}&select=id" > "$WORK/par"
[ "$(grep -c '^200$' "$WORK/par")" = 200 ] && pass "200 parallel requests while 20 clients stall" || fail "parallel requests: $(sort "$WORK/par" | uniq -c | tr '\n' ' ')"
wait $slow
grep -q '"request_id":"[0-9a-f]\{32\}"' "$WORK/main.out" && pass "JSON access log with request ids" || fail "access log"
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"seconds":1}' "$B/rpc/slow"
grep -q '"slow":true' "$WORK/main.err" && pass "slow request logged" || fail "slow request log"

echo "# RS256"
openssl genrsa -out "$WORK/rsa.pem" 2048 2>/dev/null
openssl rsa -in "$WORK/rsa.pem" -pubout -out "$WORK/rsa.pub" 2>/dev/null
RSPORT=$(free_port)
if start_api rs "$RSPORT" FREIGHT_JWT_SECRET="$(cat "$WORK/rsa.pub")" FREIGHT_ACCESS_LOG=0; then
	RB="http://127.0.0.1:$RSPORT/api"
	check "RS256 token accepted" 200 '"web_user:alice"' -H "Authorization: Bearer $(jwt rs256 "$WORK/rsa.pem" '{"role":"web_user","sub":"alice"}')" "$RB/rpc/whoami"
	check "HS256 signed with the public key refused" 401 'algorithm not allowed' -H "Authorization: Bearer $(jwt hs256 "$(cat "$WORK/rsa.pub")" '{"role":"web_admin"}')" "$RB/rpc/whoami"
	openssl genrsa -out "$WORK/rsa2.pem" 2048 2>/dev/null
	check "RS256 with another key refused" 401 'invalid signature' -H "Authorization: Bearer $(jwt rs256 "$WORK/rsa2.pem" '{"role":"web_admin"}')" "$RB/rpc/whoami"
else
	fail "RS256 daemon start"
fi

echo "# TLS and mutual TLS"
cd "$WORK" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=freight test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj "/CN=partner-service" 2>/dev/null
openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 2 -subj "/CN=rogue" 2>/dev/null
cd - > /dev/null || exit 1
TPORT=$(free_port)
if start_api tls "$TPORT" FREIGHT_TLS_CERT="$WORK/srv.crt" FREIGHT_TLS_KEY="$WORK/srv.key"; then
	check "TLS" 200 '"status":"ok"' --cacert "$WORK/ca.crt" "https://127.0.0.1:$TPORT/api/health"
	curl -s -o /dev/null "http://127.0.0.1:$TPORT/api/health" && fail "plain HTTP on the TLS port" || pass "plain HTTP refused on the TLS port"
else
	fail "TLS daemon start"
fi
MPORT=$(free_port)
if start_api mtls "$MPORT" FREIGHT_TLS_CERT="$WORK/srv.crt" FREIGHT_TLS_KEY="$WORK/srv.key" FREIGHT_TLS_CLIENT_CA="$WORK/ca.crt"; then
	check "mTLS with a client certificate" 200 '"status":"ok"' --cacert "$WORK/ca.crt" --cert "$WORK/cli.crt" --key "$WORK/cli.key" "https://127.0.0.1:$MPORT/api/health"
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.crt" "https://127.0.0.1:$MPORT/api/health")
	[ "$code" != 200 ] && pass "mTLS without a client certificate refused ($code)" || fail "mTLS without a certificate got 200"
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.crt" --cert "$WORK/rogue.crt" --key "$WORK/rogue.key" "https://127.0.0.1:$MPORT/api/health")
	[ "$code" != 200 ] && pass "mTLS with an untrusted certificate refused ($code)" || fail "mTLS with a rogue certificate got 200"
else
	fail "mTLS daemon start"
fi

echo "# read replica with read-your-writes"
RPGPORT=$(free_port)
if "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PGPORT" -U postgres -D "$WORK/replica" -R -X stream -c fast > "$WORK/basebackup.log" 2>&1; then
	# the replica applies commits 2 s late, so reads that must see a write cannot use it yet
	"$PGBIN/pg_ctl" -D "$WORK/replica" -l "$WORK/replica.log" -w \
		-o "-p $RPGPORT -k $WORK -c listen_addresses=127.0.0.1 -c recovery_min_apply_delay=2s -c hot_standby_feedback=on" start > /dev/null
	REPPORT=$(free_port)
	start_api rep "$REPPORT" FREIGHT_JWT_SECRET="$SECRET" FREIGHT_REPLICA_WAIT_MS=100 \
		FREIGHT_DB_REPLICA_URI="postgresql://authenticator@127.0.0.1:$RPGPORT/apitest" || fail "replica daemon start"
	RB="http://127.0.0.1:$REPPORT/api"
	check "write goes to the primary and returns its LSN" 201 '' -H "Authorization: Bearer $USER_TOKEN" \
		-H 'Content-Type: application/json' -d '{"id":900,"body":"replicated"}' "$RB/notes"
	lsn=$(header Freight-LSN)
	expect_match "Freight-LSN header" "$lsn" '^[0-9A-F]+/[0-9A-F]+$'
	check "a plain read is served by the lagging replica" 200 '^\[\]$' "$RB/notes?id=eq.900&select=id"
	expect "served by replica" "$(header Freight-Served-By)" replica
	check "a read with Freight-Min-LSN sees the write" 200 '"id":900' -H "Freight-Min-LSN: $lsn" "$RB/notes?id=eq.900&select=id"
	expect "read-your-writes fell back to the primary" "$(header Freight-Served-By)" primary
	sleep 3
	check "once replayed, the replica serves it" 200 '"id":900' -H "Freight-Min-LSN: $lsn" "$RB/notes?id=eq.900&select=id"
	expect "replica used after replay" "$(header Freight-Served-By)" replica
	check "bad Freight-Min-LSN" 400 '"code":"PGRST100"' -H "Freight-Min-LSN: 0/1; DROP" "$RB/notes"
	check "health reports replica lag" 200 '"replica":"up","replica_lag_seconds":[0-9.]+' "$RB/health"
else
	cat "$WORK/basebackup.log"
	fail "pg_basebackup"
fi

echo "# tracking page in headless Chromium"
if [ -x /usr/bin/chromium ] && [ -d "$HERE/node_modules/playwright-core" ]; then
	e2e_client api_page.mjs API_URL="$B"
else
	echo "skipped: /usr/bin/chromium not installed (make deps installs it)"
fi

echo "# the database restarts under the daemon"
"$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w restart > /dev/null 2>&1
ok=0
for _ in $(seq 1 30); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$B/shipments?id=eq.1&select=id")
	[ "$code" = 200 ] && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] && pass "requests succeed again after a database restart" || fail "no recovery after a database restart"
seq 1 20 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/shipments?id=eq.{}&select=id" > "$WORK/after"
[ "$(grep -c '^200$' "$WORK/after")" = 20 ] && pass "every pooled connection recovered" || fail "after restart: $(sort "$WORK/after" | uniq -c | tr '\n' ' ')"
$PSQL -d apitest -c "CREATE VIEW api.later AS SELECT 2 AS y; GRANT SELECT ON api.later TO web_anon"
ok=0
for _ in $(seq 1 40); do
	$PSQL -d apitest -c "NOTIFY pgrst" > /dev/null
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$B/later")" = 200 ] && { ok=1; break; }
	sleep 0.25
done
[ $ok = 1 ] && pass "the LISTEN connection reconnected (reload after restart)" || fail "schema reload after restart"

echo "# graceful SIGTERM"
curl -s -o "$WORK/inflight" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"seconds":1}' "$B/rpc/slow" > "$WORK/inflight.code" &
cpid=$!
sleep 0.3
kill -TERM "$(cat "$WORK/main.pid")"
wait $cpid
[ "$(cat "$WORK/inflight.code")" = 200 ] && pass "in-flight request completes during shutdown" || fail "in-flight request got $(cat "$WORK/inflight.code")"
for _ in $(seq 1 50); do kill -0 "$(cat "$WORK/main.pid")" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$(cat "$WORK/main.pid")" 2>/dev/null && grep -q '"event":"stopped"' "$WORK/main.err"; then
	pass "daemon stops cleanly on SIGTERM"
else
	fail "daemon did not stop on SIGTERM"
fi

e2e_finish
