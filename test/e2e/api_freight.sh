#!/bin/sh
# test/e2e/api_freight.sh — freight-api over the real freight extension: row-level security
# through the api views, embedding through the views' base-table foreign keys, public tracking,
# writes through api functions, API keys checked by freight.authenticate_api_key and limited by
# freight.rate_limit, failed logins in freight.security_events with the client's address.  Then
# the listen address (server-host): IPv6 only (::1), every address of both families (*), a host
# name, and values that are none of these, refused at start; a Unix-domain socket
# (server-unix-socket) with its permissions, a stale socket file replaced, a live one or another
# file left alone.  Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-freight
e2e_freight_cluster freight
e2e_sql freight - <<'SQL'
SELECT freight.create_customer('Acme', 'free', 'ops@acme.example');
SELECT freight.create_customer('Globex', 'pro', 'ops@globex.example');
SELECT freight.create_driver('Dora Driver', '+49 170 5550001');
SELECT freight.create_shipment('Hafenstrasse 1, Hamburg', 'Marktplatz 2, Bremen', 12.5, 1);
SELECT freight.create_shipment('Hafenstrasse 3, Hamburg', 'Domplatz 4, Koeln', 30, 1);
SELECT freight.create_shipment('Alexanderplatz 5, Berlin', 'Zeil 6, Frankfurt', 7, 2);
SELECT freight.add_package(s.tracking_number, 5, 30, 20, 10, 'box') FROM freight.shipments s WHERE s.id = 1;
SELECT freight.add_package(s.tracking_number, 7.5, 40, 30, 20, 'crate') FROM freight.shipments s WHERE s.id = 1;
SELECT freight.assign_driver(s.tracking_number, 1) FROM freight.shipments s WHERE s.id = 1;
SQL
TN1=$($PSQL -d freight -tAc "SELECT tracking_number FROM freight.shipments WHERE id = 1")
TN3=$($PSQL -d freight -tAc "SELECT tracking_number FROM freight.shipments WHERE id = 3")
API_KEY=$($PSQL -d freight -tAc "SELECT api_key FROM freight.create_api_key(1, 'e2e')")

SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
e2e_api FREIGHT_DB_URI="postgresql://freight_authenticator@127.0.0.1:$PGPORT/freight" FREIGHT_DB_ANON_ROLE=freight_anon \
	FREIGHT_JWT_SECRET="$SECRET" FREIGHT_DB_POOL=4 || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
sign() { FREIGHT_JWT_SECRET="$SECRET" "$API" --sign-jwt "$1"; }
CUSTOMER=$(sign '{"role":"freight_customer","customer_id":1}')
ADMIN=$(sign '{"role":"freight_admin","sub":"admin"}')
DRIVER=$(sign '{"role":"freight_driver","driver_id":1}')

check "schema cache found the relationships between the api views" 200 '"tracking_number":"'"$TN1"'","driver":\{"name":"Dora Driver"\},"packages":\[' \
	-H "Authorization: Bearer $ADMIN" "$B/shipments?select=tracking_number,driver:drivers(name),packages(description,weight_kg)&id=eq.1"
check "a customer sees only its own shipments" 200 '' -H "Authorization: Bearer $CUSTOMER" -H 'Prefer: count=exact' "$B/shipments?select=id,customer_id"
[ "$(grep -o '"customer_id":[0-9]*' "$WORK/body" | sort -u)" = '"customer_id":1' ] && pass "only customer 1's rows" || fail "RLS rows: $(cat "$WORK/body")"
check "addresses are plaintext for the customer (decrypt grant)" 200 'Hafenstrasse 1, Hamburg' -H "Authorization: Bearer $CUSTOMER" "$B/shipments?select=origin&id=eq.1"
check "another customer's shipment is invisible" 200 '^\[\]$' -H "Authorization: Bearer $CUSTOMER" "$B/shipments?tracking_number=eq.$TN3"
check "anonymous public tracking without addresses" 200 '"status"' "$B/rpc/track?tracking_number=$TN1"
grep -q 'Hafenstrasse' "$WORK/body" && fail "public tracking leaked an address" || pass "public tracking shows no address"
check "anonymous cannot list shipments" 401 '"code":"42501"' "$B/shipments"
check "driver moves the shipment through the api function" 200 '"status":"picked_up"' -X POST -H "Authorization: Bearer $DRIVER" \
	-H 'Content-Type: application/json' -d "{\"tracking_number\":\"$TN1\",\"status\":\"picked_up\",\"location\":\"Hamburg\"}" "$B/rpc/update_status"
check "an invalid status transition is a clear 4xx" 400 '"message"' -X POST -H "Authorization: Bearer $DRIVER" \
	-H 'Content-Type: application/json' -d "{\"tracking_number\":\"$TN1\",\"status\":\"teleported\"}" "$B/rpc/update_status"
check "views are read-only over HTTP" 401 '' -X PATCH -H 'Content-Type: application/json' -d '{"status":"delivered"}' "$B/shipments?id=eq.1"
check "API key (freight.authenticate_api_key) as customer 1" 200 '"customer_id":1' -H "apikey: $API_KEY" "$B/shipments?select=customer_id&limit=1"
expect_match "freight.rate_limit answered with RateLimit headers" "$(header RateLimit-Limit)" '^[0-9]+$'
prefix=$(echo "$API_KEY" | cut -d_ -f1-2)
check "wrong API key secret is 401" 401 'Invalid API key' -H "apikey: ${prefix}_0000000000000000000000000000000000000000" "$B/shipments"
check "bad JWT is 401" 401 'invalid signature' -H "Authorization: Bearer $(FREIGHT_JWT_SECRET=another-secret-0123456789abcdef0123 "$API" --sign-jwt '{"role":"freight_admin"}')" "$B/shipments"
n=$($PSQL -d freight -tAc "SELECT count(*) FROM freight.security_events WHERE kind = 'auth_failure' AND client_addr = '127.0.0.1' AND (actor = '$prefix' OR actor = 'bearer token')")
[ "$n" = 2 ] && pass "both failures are in freight.security_events" || fail "security events: $n"
check "OpenAPI describes the freight views a customer may use" 200 '"/shipments"' -H "Authorization: Bearer $CUSTOMER" "$B/"
check "the anonymous OpenAPI leaves out the shipments view" 200 '"/rpc/track"' "$B/"
grep -q '"/shipments"' "$WORK/body" && fail "anonymous OpenAPI lists /shipments" || pass "anonymous OpenAPI follows privileges"

echo "# listen addresses (server-host)"
DB_URI="postgresql://freight_authenticator@127.0.0.1:$PGPORT/freight"
failures_from() { $PSQL -d freight -tAc "SELECT count(*) FROM freight.security_events WHERE kind = 'auth_failure' AND client_addr = '$1'"; }
kill "$API_PID"; wait "$API_PID" 2>/dev/null
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

e2e_finish
