#!/bin/sh
# test/e2e/api_server.sh — freight-api's server settings, end to end over the freight extension
# (own cluster, real HTTP): the listen address (server-host) as IPv6 only (::1), every address of
# both families (*) or a host name, with clients' addresses in the access log and in
# freight.security_events (an IPv4 client of a dual-stack socket as IPv4), and values that are
# none of these refused at start; a Unix-domain socket (server-unix-socket) with its
# permissions, a stale socket file replaced, a live one or another file left alone, removed on
# SIGTERM; the Server-Timing header (server-timing-enabled); app.settings.* from the config file
# and the environment, set in every transaction, with bad names refused; server-trace-header
# (a load balancer's X-Request-Id becomes the request id; another header is echoed and logged);
# openapi-server-proxy-uri in the OpenAPI document; openapi-mode (disabled, ignore-privileges);
# db-extra-search-path; the admin server (admin-server-port: /live answers while the database is
# down, /ready does not; /metrics moves there); execution plans (db-plan-enabled: Accept:
# application/vnd.pgrst.plan, reads only); freight-api --dump-config (secrets not shown, and what
# it writes reads back the same).  Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-server
e2e_freight_cluster freight
e2e_sql freight - <<'SQL'
SELECT freight.create_customer('Acme', 'free', 'ops@acme.example');
SELECT freight.create_shipment('Hafenstrasse 1, Hamburg', 'Marktplatz 2, Bremen', 12.5, 1);
-- what the transaction sees of app.settings.*, read-only (GET) and in a writing one (POST)
CREATE FUNCTION api.app_settings() RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('issuer', current_setting('app.settings.issuer', true),
		'quote', current_setting('app.settings.quote', true),
		'region', current_setting('app.settings.region', true),
		'read_only', current_setting('transaction_read_only'))
$$;
CREATE FUNCTION api.app_settings_in_write() RETURNS json LANGUAGE sql VOLATILE AS $$ SELECT api.app_settings() $$;
GRANT EXECUTE ON FUNCTION api.app_settings(), api.app_settings_in_write() TO freight_anon;
-- db-extra-search-path: api.greet() calls greeting() unqualified, found only in "Ext Schema"
CREATE SCHEMA "Ext Schema";
CREATE FUNCTION "Ext Schema".greeting() RETURNS text LANGUAGE sql AS $$ SELECT 'hello from the extra path' $$;
GRANT USAGE ON SCHEMA "Ext Schema" TO freight_anon;
CREATE FUNCTION api.greet() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN greeting(); END $$;
GRANT EXECUTE ON FUNCTION api.greet() TO freight_anon;
SQL
TN1=$($PSQL -d freight -tAc "SELECT tracking_number FROM freight.shipments WHERE id = 1")
DB_URI="postgresql://freight_authenticator@127.0.0.1:$PGPORT/freight"
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
failures_from() { $PSQL -d freight -tAc "SELECT count(*) FROM freight.security_events WHERE kind = 'auth_failure' AND client_addr = '$1'"; }

echo "# listen addresses (server-host)"
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	E2E_API_HOST='[::1]' e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon \
		FREIGHT_JWT_SECRET="$SECRET" FREIGHT_API_HOST=::1 || e2e_abort "$WORK/api.err"
	check "server-host = ::1 serves over IPv6" 200 '"status"' "http://[::1]:$PORT/api/rpc/track?tracking_number=$TN1"
	expect_match "  ... its access log names the client ::1" "$(grep '"route":"rpc"' "$WORK/api.out" | tail -n 1)" '"client_addr":"::1"'
	expect_match "  ... the start log gives the URL with the address in brackets" \
		"$(grep '"event":"listening"' "$WORK/api.err")" "\"url\":\"http://\\[::1\\]:$PORT/api/\""
	check "  ... a bad token over IPv6 is 401" 401 'PGRST301' -H 'Authorization: Bearer not.a.token' "http://[::1]:$PORT/api/shipments"
	expect "  ... recorded with the client address ::1" "$(failures_from ::1)" 1
	expect "  ... and it does not listen on IPv4" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/health")" 000
	kill "$API_PID"; wait "$API_PID" 2>/dev/null

	E2E_API_HOST='[::1]' e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon \
		FREIGHT_JWT_SECRET="$SECRET" FREIGHT_API_HOST='*' || e2e_abort "$WORK/api.err"
	check "server-host = * answers on IPv6" 200 '"status"' "http://[::1]:$PORT/api/rpc/track?tracking_number=$TN1"
	check "  ... and on IPv4" 200 '"status"' "http://127.0.0.1:$PORT/api/rpc/track?tracking_number=$TN1"
	expect_match "  ... an IPv4 client is logged as IPv4, not ::ffff:127.0.0.1" \
		"$(grep '"route":"rpc"' "$WORK/api.out" | tail -n 1)" '"client_addr":"127\.0\.0\.1"'
	before=$(failures_from 127.0.0.1)
	check "  ... a bad token over IPv4 is 401" 401 'PGRST301' -H 'Authorization: Bearer not.a.token' "http://127.0.0.1:$PORT/api/shipments"
	expect "  ... recorded with the client address 127.0.0.1" "$(failures_from 127.0.0.1)" $((before + 1))
	kill "$API_PID"; wait "$API_PID" 2>/dev/null
else
	echo "skipped: IPv6 checks (no ::1 on this machine)"
fi
E2E_API_HOST=localhost e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon \
	FREIGHT_JWT_SECRET="$SECRET" FREIGHT_API_HOST=localhost || e2e_abort "$WORK/api.err"
check "server-host = localhost (a host name)" 200 '"status"' "http://localhost:$PORT/api/rpc/track?tracking_number=$TN1"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_refuses "server-host that cannot be a host name is refused at start" \
	'server-host: "bad host!" is neither an IPv4 or IPv6 address nor a host name' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_HOST='bad host!'
e2e_refuses "a malformed IPv6 server-host is refused (never looked up)" \
	'server-host: "::1::2" is neither an IPv4 or IPv6 address nor a host name' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_HOST=::1::2
e2e_refuses "an empty server-host is refused" 'server-host is empty' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_HOST=

echo "# a Unix-domain socket (server-unix-socket)"
SOCK="$WORK/api.sock"
on_socket() { E2E_CURL_ARGS="--unix-socket $SOCK" E2E_API_HOST=localhost e2e_api FREIGHT_DB_URI="$DB_URI" \
	FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" FREIGHT_API_UNIX_SOCKET="$SOCK" "$@"; }
on_socket FREIGHT_API_UNIX_SOCKET_MODE=600 || e2e_abort "$WORK/api.err"
check "requests over the socket" 200 '"status"' --unix-socket "$SOCK" "http://localhost/api/rpc/track?tracking_number=$TN1"
expect "  ... the socket has the permissions asked for" "$(stat -c %a "$SOCK")" 600
expect "  ... and no TCP port is open" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/health")" 000
expect_match "  ... the start log names the socket" "$(grep '"event":"listening"' "$WORK/api.err")" "\"socket\":\"$SOCK\""
e2e_refuses "a second daemon on a socket in use is refused" "server-unix-socket: $SOCK is in use by another server" \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_UNIX_SOCKET="$SOCK"
check "  ... and the first one still answers" 200 '"status":"ok"' --unix-socket "$SOCK" http://localhost/api/health
kill -9 "$API_PID"; wait "$API_PID" 2>/dev/null
[ -S "$SOCK" ] && pass "a killed daemon leaves its socket file" || fail "a killed daemon leaves its socket file"
on_socket || e2e_abort "$WORK/api.err"
check "  ... which the next daemon replaces (default permissions 660)" 200 '"status":"ok"' --unix-socket "$SOCK" http://localhost/api/health
expect "  ... 660" "$(stat -c %a "$SOCK")" 660
kill "$API_PID"; wait "$API_PID" 2>/dev/null
[ -e "$SOCK" ] && fail "SIGTERM removes the socket file" || pass "SIGTERM removes the socket file"
echo 'not a socket' > "$WORK/file.sock"
e2e_refuses "a file that is not a socket is refused" "server-unix-socket: $WORK/file.sock exists and is not a socket" \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_UNIX_SOCKET="$WORK/file.sock"
expect "  ... and left as it was" "$(cat "$WORK/file.sock")" 'not a socket'
LONG="$WORK/$(printf '%0120d' 0).sock"
e2e_refuses "a socket path over 107 bytes is refused" "server-unix-socket: the path is longer than 107 bytes" \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_UNIX_SOCKET="$LONG"
e2e_refuses "socket permissions that are not octal are refused" 'server-unix-socket-mode must be octal permissions from 600 to 777' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_UNIX_SOCKET="$SOCK" FREIGHT_API_UNIX_SOCKET_MODE=rw
e2e_refuses "permissions that lock the daemon out are refused" 'got "400"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_API_UNIX_SOCKET="$SOCK" FREIGHT_API_UNIX_SOCKET_MODE=400

echo "# Server-Timing (server-timing-enabled)"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_SERVER_TIMING=on || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
ADMIN=$(FREIGHT_JWT_SECRET="$SECRET" "$API" --sign-jwt '{"role":"freight_admin"}')
D='[0-9]+\.[0-9]{3}'
check "a read" 200 '"tracking_number"' -H "Authorization: Bearer $ADMIN" "$B/shipments?select=tracking_number&limit=1"
expect_match "  ... says where its time went" "$(header Server-Timing)" "^auth;dur=$D, parse;dur=$D, transaction;dur=$D, response;dur=$D$"
check "a function call" 200 '"status"' "$B/rpc/track?tracking_number=$TN1"
expect_match "  ... too" "$(header Server-Timing)" "^auth;dur=$D, parse;dur=$D, transaction;dur=$D, response;dur=$D$"
check "a request refused before the database" 401 'PGRST301' -H 'Authorization: Bearer not.a.token' "$B/shipments"
expect_match "  ... has only the time to answer" "$(header Server-Timing)" "^response;dur=$D$"
check "an unknown column fails after authentication" 400 '' -H "Authorization: Bearer $ADMIN" "$B/shipments?select=nope"
expect_match "  ... and before the transaction" "$(header Server-Timing)" "^auth;dur=$D, response;dur=$D$"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon || e2e_abort "$WORK/api.err"
check "without server-timing-enabled" 200 '' "http://127.0.0.1:$PORT/api/rpc/track?tracking_number=$TN1"
expect "  ... no Server-Timing header" "$(header Server-Timing)" ""
e2e_refuses "a server-timing-enabled that is not a boolean is refused" 'server-timing-enabled: expected a boolean, got "sometimes"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_SERVER_TIMING=sometimes

echo "# app.settings.* (config file and FREIGHT_APP_SETTINGS_*)"
cat > "$WORK/app.conf" <<CONF
db-uri = "$DB_URI"
db-anon-role = freight_anon
app.settings.issuer = "from the file"
app.settings.Quote = "it's a \\ back'slash"
CONF
PORT=$(free_port)
FREIGHT_API_PORT=$PORT FREIGHT_APP_SETTINGS_REGION=eu-central FREIGHT_APP_SETTINGS_ISSUER=from-env \
	"$API" "$WORK/app.conf" > "$WORK/api.out" 2> "$WORK/api.err" &
API_PID=$!
e2e_track "$API_PID"
e2e_wait_up "http://127.0.0.1:$PORT/api/health" "$API_PID" || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
check "a read-only transaction sees every app.settings value (the environment's over the file's)" 200 \
	'^\{"issuer" : "from-env", "quote" : "it.s a \\\\ back.slash", "region" : "eu-central", "read_only" : "on"\}$' "$B/rpc/app_settings"
check "  ... and so does a writing one" 200 '"issuer" : "from-env".*"region" : "eu-central", "read_only" : "off"' \
	-X POST -H 'Content-Type: application/json' -d '{}' "$B/rpc/app_settings_in_write"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
printf 'db-uri = "%s"\napp.settings.bad-name = x\n' "$DB_URI" > "$WORK/bad-app.conf"
FREIGHT_API_PORT=$(free_port) timeout 10 "$API" "$WORK/bad-app.conf" > /dev/null 2> "$WORK/refused.err"
expect_match "a setting name with a - is refused at start" "$(cat "$WORK/refused.err")" 'app\.settings\.bad-name: a setting name is letters, digits and _'
e2e_refuses "  ... from the environment too" 'FREIGHT_APP_SETTINGS_A.B: a setting name is letters, digits and _' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_APP_SETTINGS_A.B=x

echo "# server-trace-header"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_SERVER_TRACE_HEADER=X-Request-Id || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
check "X-Request-Id from a load balancer" 200 '"status"' -H 'X-Request-Id: lb-7f3a/42' "$B/rpc/track?tracking_number=$TN1"
expect "  ... is the response's" "$(header X-Request-Id)" lb-7f3a/42
expect_match "  ... and the access log's request id" "$(grep '"route":"rpc"' "$WORK/api.out" | tail -n 1)" '"request_id":"lb-7f3a/42"'
check "  ... a failed login under it" 401 'PGRST301' -H 'X-Request-Id: lb-login-1' -H 'Authorization: Bearer not.a.token' "$B/shipments"
expect "  ... is found in freight.security_events by it" \
	"$($PSQL -d freight -tAc "SELECT count(*) FROM freight.security_events WHERE detail->>'request_id' = 'lb-login-1'")" 1
check "without one" 200 '' "$B/rpc/track?tracking_number=$TN1"
expect_match "  ... the daemon makes its own" "$(header X-Request-Id)" '^[0-9a-f]{32}$'
check "one with a quote in it" 200 '' -H 'X-Request-Id: a"b' "$B/rpc/track?tracking_number=$TN1"
expect_match "  ... is not taken" "$(header X-Request-Id)" '^[0-9a-f]{32}$'
check "one of 200 characters" 200 '' -H "X-Request-Id: $(printf '%0200d' 7)" "$B/rpc/track?tracking_number=$TN1"
expect_match "  ... is not taken" "$(header X-Request-Id)" '^[0-9a-f]{32}$'
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_SERVER_TRACE_HEADER=traceparent ||
	e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
TP=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
check "server-trace-header = traceparent" 200 '"status"' -H "traceparent: $TP" "$B/rpc/track?tracking_number=$TN1"
expect "  ... is echoed" "$(header traceparent)" "$TP"
expect_match "  ... beside the daemon's own request id" "$(header X-Request-Id)" '^[0-9a-f]{32}$'
expect_match "  ... and logged" "$(grep '"route":"rpc"' "$WORK/api.out" | tail -n 1)" "\"trace\":\"$TP\""
check "  ... a request without it" 200 '' "$B/rpc/track?tracking_number=$TN1"
expect "  ... gets none" "$(header traceparent)" ""
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_refuses "a server-trace-header that is no header name is refused" \
	'server-trace-header must be a header name (letters, digits, - and the like), got "X Trace"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_SERVER_TRACE_HEADER='X Trace'

echo "# openapi-server-proxy-uri"
OPENAPI='Accept: application/openapi+json'
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon || e2e_abort "$WORK/api.err"
check "the OpenAPI document" 200 '"openapi":"3.0.3"' -H "$OPENAPI" "http://127.0.0.1:$PORT/api/"
expect "  ... names the API's URL relative to the server by default" "$(jq -r '.servers[0].url' "$WORK/body")" /api
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon \
	FREIGHT_OPENAPI_SERVER_PROXY_URI=https://api.example.test/freight/v1 || e2e_abort "$WORK/api.err"
check "behind a proxy" 200 '"openapi":"3.0.3"' -H "$OPENAPI" "http://127.0.0.1:$PORT/api/"
expect "  ... it names the proxy's URL" "$(jq -r '.servers[0].url' "$WORK/body")" https://api.example.test/freight/v1
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_refuses "an openapi-server-proxy-uri without a scheme is refused" \
	'openapi-server-proxy-uri must be an http:// or https:// URL with a host, e.g. https://api.example.com/v1, got "api.example.test"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_OPENAPI_SERVER_PROXY_URI=api.example.test
e2e_refuses "  ... and one without a host" 'got "https:///v1"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_OPENAPI_SERVER_PROXY_URI=https:///v1

echo "# openapi-mode"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_OPENAPI_MODE=disabled || e2e_abort "$WORK/api.err"
check "openapi-mode = disabled: no document" 404 '"code":"PGRST126","message":"Root endpoint metadata is disabled"' \
	-H "$OPENAPI" "http://127.0.0.1:$PORT/api/"
check "  ... the API itself still answers" 200 '"status"' "http://127.0.0.1:$PORT/api/rpc/track?tracking_number=$TN1"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon || e2e_abort "$WORK/api.err"
check "openapi-mode = follow-privileges (default): the anonymous document" 200 '"/rpc/track"' -H "$OPENAPI" "http://127.0.0.1:$PORT/api/"
expect "  ... leaves out what anonymous callers may not read" "$(jq '.paths | has("/shipments")' "$WORK/body")" false
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_OPENAPI_MODE=ignore-privileges ||
	e2e_abort "$WORK/api.err"
check "openapi-mode = ignore-privileges" 200 '"/rpc/track"' -H "$OPENAPI" "http://127.0.0.1:$PORT/api/"
expect "  ... describes every view, whoever asks" "$(jq '.paths | has("/shipments")' "$WORK/body")" true
check "  ... which does not let anyone read it" 401 '"code":"42501"' "http://127.0.0.1:$PORT/api/shipments"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_refuses "an unknown openapi-mode is refused" \
	'openapi-mode must be follow-privileges, ignore-privileges or disabled, got "off"' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_OPENAPI_MODE=off

echo "# db-extra-search-path"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon || e2e_abort "$WORK/api.err"
check "by default (public) a function outside it is not found" 404 '"code":"42883"' "http://127.0.0.1:$PORT/api/rpc/greet"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon \
	FREIGHT_DB_EXTRA_SEARCH_PATH='public, Ext Schema' || e2e_abort "$WORK/api.err"
check "with db-extra-search-path = 'public, Ext Schema' it is" 200 '"hello from the extra path"' "http://127.0.0.1:$PORT/api/rpc/greet"
kill "$API_PID"; wait "$API_PID" 2>/dev/null

echo "# admin server (admin-server-port)"
ADMIN_PORT=$(free_port)
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_ADMIN_PORT="$ADMIN_PORT" ||
	e2e_abort "$WORK/api.err"
ADM="http://127.0.0.1:$ADMIN_PORT"
check "/live" 200 '^\{"status":"alive"\}$' "$ADM/live"
check "/ready" 200 '"status":"ok","database":"up"' "$ADM/ready"
check "/metrics on the admin port" 200 'freight_api_requests_total' "$ADM/metrics"
check "  ... and no longer on the public one" 404 '"code":"PGRST125"' "http://127.0.0.1:$PORT/metrics"
check "the API is not served on the admin port" 404 '"code":"PGRST125"' "$ADM/api/shipments"
e2e_pg_stop
check "with the database down, /live still answers" 200 '"alive"' "$ADM/live"
check "  ... and /ready does not" 503 '"status":"unavailable","database":"down"' "$ADM/ready"
e2e_pg_start
ok=0
for _ in $(seq 1 50); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$ADM/ready")" = 200 ] && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] && pass "  ... until it is back" || fail "  ... until it is back"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_refuses "an admin port equal to the server port is refused" 'admin-server-port must be in 1..65535 and differ from server-port, got 3000' \
	FREIGHT_DB_URI="$DB_URI" FREIGHT_ADMIN_PORT=3000 FREIGHT_API_PORT=3000
e2e_refuses "an admin port over 65535 is refused" 'got 70000' FREIGHT_DB_URI="$DB_URI" FREIGHT_ADMIN_PORT=70000

echo "# execution plans (db-plan-enabled)"
PLAN='Accept: application/vnd.pgrst.plan+json'
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
check "by default no plans" 406 '"code":"PGRST107".*"hint":"Execution plans are served only with db-plan-enabled."' \
	-H "$PLAN" -H "Authorization: Bearer $ADMIN" "$B/shipments?tracking_number=eq.$TN1"
kill "$API_PID"; wait "$API_PID" 2>/dev/null
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=freight_anon FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_DB_PLAN_ENABLED=on || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
check "the plan of a read, as JSON" 200 '"Plan"' -H "$PLAN" -H "Authorization: Bearer $ADMIN" "$B/shipments?tracking_number=eq.$TN1"
expect "  ... with its media type" "$(header Content-Type)" 'application/vnd.pgrst.plan+json; charset=utf-8'
expect "  ... a plan tree, not rows" "$(jq -r '.[0].Plan."Node Type"' "$WORK/body")" Aggregate
check "as text, with options=analyze|verbose: timings" 200 'actual time=' \
	-H 'Accept: application/vnd.pgrst.plan+text; options=analyze|verbose' -H "Authorization: Bearer $ADMIN" "$B/shipments?tracking_number=eq.$TN1"
expect "  ... its media type" "$(header Content-Type)" 'application/vnd.pgrst.plan+text; charset=utf-8'
expect_match "  ... and output columns (verbose)" "$(cat "$WORK/body")" 'Output: '
check "the plan of a function called with GET" 200 '"Plan"' -H "$PLAN" "$B/rpc/track?tracking_number=$TN1"
check "an unknown plan option" 406 '"hint":"Plan options are analyze, verbose, settings, buffers and wal, joined by |."' \
	-H 'Accept: application/vnd.pgrst.plan; options=analyze|drop' "$B/rpc/track?tracking_number=$TN1"
check "no plans of writes (ANALYZE would run them)" 406 '"hint":"Execution plans are served for reads \(GET, HEAD\) only."' \
	-X POST -H "$PLAN" -H 'Content-Type: application/json' -d '{}' "$B/rpc/app_settings_in_write"
check "  ... and RLS still decides what is planned: anonymous callers get no plan of shipments" 401 '"code":"42501"' \
	-H "$PLAN" "$B/shipments?tracking_number=eq.$TN1"
kill "$API_PID"; wait "$API_PID" 2>/dev/null

echo "# freight-api --dump-config"
env -i PATH="$PATH" FREIGHT_DB_URI='postgresql://app:s3cret@db.example/freight' FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_DB_POOL=7 FREIGHT_CORS_ALLOWED_ORIGINS=https://ops.example.test FREIGHT_APP_SETTINGS_MOTTO='say "hi" \ bye' \
	"$API" --dump-config > "$WORK/dump.conf" 2> "$WORK/dump.err"
expect "exits 0" "$?" 0
expect "  ... the environment's settings" "$(grep -E '^(db-pool|server-cors-allowed-origins) ' "$WORK/dump.conf")" \
	"$(printf 'db-pool = 7\nserver-cors-allowed-origins = "https://ops.example.test"')"
expect "  ... a database URI with a password is not shown" "$(grep -c 's3cret' "$WORK/dump.conf")" 0
expect "  ... nor is jwt-secret" "$(grep -c -- "$SECRET" "$WORK/dump.conf") $(grep -c '^# jwt-secret is set' "$WORK/dump.conf")" "0 1"
expect "  ... app.settings with its quotes escaped" "$(grep '^app.settings' "$WORK/dump.conf")" 'app.settings.motto = "say \"hi\" \\ bye"'
grep -v '^#' "$WORK/dump.conf" > "$WORK/again.conf"
echo 'db-uri = "postgresql://app@db.example/freight"' >> "$WORK/again.conf"
env -i PATH="$PATH" "$API" --dump-config "$WORK/again.conf" > "$WORK/dump2.conf" 2>&1
expect "what it writes reads back the same" "$(diff "$WORK/dump.conf" "$WORK/dump2.conf" | grep -c '^[<>]')" 4
expect "  ... (only the database URI, now without a password, and the unset jwt-secret differ)" \
	"$(diff "$WORK/dump.conf" "$WORK/dump2.conf" | grep '^>' | tr '\n' '|')" \
	'> db-uri = "postgresql://app@db.example/freight"|> # jwt-secret is not set|'
env -i PATH="$PATH" FREIGHT_DB_POOL=many "$API" --dump-config > /dev/null 2> "$WORK/dump.err"
expect "a bad setting: exit 2" "$? $(cat "$WORK/dump.err")" \
	'2 freight-api: db-pool: expected a non-negative integer, got "many"'
env -i PATH="$PATH" "$API" --dump-config a b > /dev/null 2> "$WORK/dump.err"
expect "too many arguments: exit 2" "$? $(cat "$WORK/dump.err")" '2 usage: freight-api --dump-config [config-file]'

e2e_finish
