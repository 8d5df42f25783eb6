#!/bin/sh
# test/e2e/routing.sh — routing over HTTP: freight-api in front of a throwaway cluster with the
# freight extension.  A driver's token calls /api/rpc/optimize_route, plan_routes, score_route
# and plans its own day (plan_driver_day, with ETAs); another driver's day (invisible: 404),
# anonymous calls and bad input get the PostgREST-style error bodies with the right SQLSTATE and status.
# Ends with "N passed, M failed".  Runs as a non-root user (test/run_all.sh takes care of that).
set -u
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
API="$SRC/contrib/api/freight-api"
PGBIN=${PGBIN:-$(/usr/lib/postgresql/15/bin/pg_config --bindir)}
WORK=$(mktemp -d /tmp/freight-routing-e2e.XXXXXX)
SECRET=routing-e2e-secret-0123456789abcdef0123
PASSED=0
FAILED=0
API_PID=""

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; }
check() {	# check NAME EXPECTED ACTUAL: ACTUAL must contain EXPECTED
	case "$3" in *"$2"*) pass "$1" ;; *) fail "$1: expected $2, got $3" ;; esac
}
cleanup() {
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null
	"$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop > /dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x "$API" ]; then
	echo "freight-api is not built: run make (or make -C contrib/api)"
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- database with freight ----
PGPORT=$(free_port)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/kek.key"
chmod 600 "$WORK/kek.key"
"$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
cat >> "$WORK/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$WORK'
shared_preload_libraries = 'freight'
freight.key_file = '$WORK/kek.key'
wal_level = logical
CONF
"$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w start > /dev/null || { cat "$WORK/pg.log"; exit 1; }
PSQL="$PGBIN/psql -X -q -At -h 127.0.0.1 -p $PGPORT -U postgres"
$PSQL -d postgres -c "CREATE DATABASE freight" || exit 1
$PSQL -d freight -v ON_ERROR_STOP=1 > "$WORK/setup.log" 2>&1 <<'SQL' || { cat "$WORK/setup.log"; exit 1; }
CREATE EXTENSION freight CASCADE;
CREATE ROLE freight_authenticator LOGIN NOINHERIT;
GRANT freight_admin, freight_app, freight_customer, freight_driver, freight_partner, freight_anon
	TO freight_authenticator;
SELECT (freight.create_vehicle('E2E 1', 1000, 10)).id AS veh \gset
SELECT (freight.create_driver('Route Driver', '+49301234501', NULL, NULL, :veh)).id AS d1 \gset
SELECT (freight.create_driver('Other Driver', '+49301234502', NULL, NULL, :veh)).id AS d2 \gset
SELECT (freight.create_customer('Route Customer', 'pro', 'e2e@example.org', '+49301234503')).id AS cust \gset
CREATE TABLE e2e_ships AS
	SELECT i, (freight.create_shipment('Origin street ' || i, 'Destination street ' || i, 10, :cust,
									   NULL, CURRENT_DATE)).tracking_number AS tn
	FROM generate_series(1, 6) AS i;
UPDATE freight.shipments SET driver_id = :d1 WHERE tracking_number IN (SELECT tn FROM e2e_ships);
SELECT count(freight.set_delivery_point(tn, 13.40 + i * 0.01, 52.50 + (i % 3) * 0.01)) FROM e2e_ships;
SQL
D1=$($PSQL -d freight -c "SELECT min(id) FROM freight.drivers")
D2=$($PSQL -d freight -c "SELECT max(id) FROM freight.drivers")

# ---- daemon ----
PORT=$(free_port)
cat > "$WORK/api.conf" <<CONF
db-uri = postgresql://freight_authenticator@127.0.0.1:$PGPORT/freight
db-schemas = api
db-anon-role = freight_anon
jwt-secret = $SECRET
db-pool = 2
server-host = 127.0.0.1
server-port = $PORT
CONF
"$API" "$WORK/api.conf" > "$WORK/api.log" 2> "$WORK/api.err" &
API_PID=$!
URL="http://127.0.0.1:$PORT/api"
for _ in $(seq 1 50); do
	curl -sf -o /dev/null "$URL/health" && break
	sleep 0.2
done
curl -sf -o /dev/null "$URL/health" || { tail -n 20 "$WORK/api.err"; echo "0 passed, 1 failed"; exit 1; }
exp=$(( $(date +%s) + 3600 ))
TOKEN=$(FREIGHT_JWT_SECRET=$SECRET "$API" --sign-jwt "{\"role\":\"freight_driver\",\"sub\":\"d1\",\"driver_id\":$D1,\"exp\":$exp}")
rpc() {	# rpc FUNCTION JSON [TOKEN]: prints "HTTP-status body"
	curl -s -o "$WORK/body" -w '%{http_code}' -X POST "$URL/rpc/$1" -H "Content-Type: application/json" \
		${3:+-H "Authorization: Bearer $3"} -d "$2"
	printf ' '
	cat "$WORK/body"
}

# ---- checks ----
check "optimize_route over HTTP" '200 [1,4,2,3]' \
	"$(rpc optimize_route '{"x": [13.40, 13.45, 13.38, 13.50], "y": [52.52, 52.50, 52.49, 52.53]}' "$TOKEN")"
check "plan_routes over HTTP" '200 [[2, 3], [4]]' \
	"$(rpc plan_routes '{"x": [0, 1, 2, -1], "y": [0, 0, 0, 0], "demand": [0, 1, 1, 1], "capacity": 2, "options": {"metric": "euclidean"}}' "$TOKEN")"
check "score_route over HTTP" '"distance": 4' \
	"$(rpc score_route '{"x": [0, 1, 1, 0], "y": [0, 0, 1, 1], "route": [1, 2, 3, 4], "options": {"metric": "euclidean", "closed": true, "traffic": false}}' "$TOKEN")"
check "bad input: 400 with SQLSTATE 22003 and a hint" '"code":"22003"' \
	"$(rpc optimize_route '{"x": [1, 200], "y": [1, 2]}' "$TOKEN")"
check "bad input: unknown option is 22023" '"code":"22023"' \
	"$(rpc optimize_route '{"x": [1, 2], "y": [1, 2], "options": {"metrik": "euclidean"}}' "$TOKEN")"
check "anonymous callers may not run the solvers" '"code":"42501"' \
	"$(rpc optimize_route '{"x": [1], "y": [1]}')"
day=$(rpc plan_driver_day "{\"driver_id\": $D1, \"depot_lon\": 13.40, \"depot_lat\": 52.50}" "$TOKEN")
check "a driver plans its own day: 200" '200 [' "$day"
stops=$(printf '%s' "$day" | grep -o '"seq"' | wc -l)
[ "$stops" = 6 ] && pass "the plan has the 6 stops" || fail "the plan has the 6 stops: got $stops in $day"
check "the plan carries ETAs" '"eta"' "$day"
check "the stored plan is readable through api.route_plan_stops" '6' \
	"$(curl -s "$URL/route_plan_stops?select=seq" -H "Authorization: Bearer $TOKEN" | grep -o '"seq"' | wc -l)"
check "another driver's day is invisible: 404" '404 {"code":"PT404","message":"driver not found"' \
	"$(rpc plan_driver_day "{\"driver_id\": $D2, \"depot_lon\": 13.40, \"depot_lat\": 52.50}" "$TOKEN")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
