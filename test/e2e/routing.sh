#!/bin/sh
# test/e2e/routing.sh — routing over HTTP: freight-api in front of a throwaway cluster with the
# freight extension.  A driver's token calls /api/rpc/optimize_route, plan_routes, score_route
# and plans its own day (plan_driver_day, with ETAs); another driver's day (invisible: 404),
# anonymous calls and bad input get the PostgREST-style error bodies with the right SQLSTATE and status.
# Ends with "N passed, M failed".  Runs as a non-root user (test/run_all.sh takes care of that).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SECRET=routing-e2e-secret-0123456789abcdef0123
e2e_setup routing-e2e

# ---- database with freight ----
e2e_freight_cluster freight "-c wal_level=logical"
e2e_sql freight - <<'SQL'
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
D1=$($PSQL -d freight -tAc "SELECT min(id) FROM freight.drivers")
D2=$($PSQL -d freight -tAc "SELECT max(id) FROM freight.drivers")

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
e2e_track "$API_PID"
URL="http://127.0.0.1:$PORT/api"
e2e_wait_up "$URL/health" "$API_PID" || e2e_abort "$WORK/api.err"
exp=$(( $(date +%s) + 3600 ))
TOKEN=$(FREIGHT_JWT_SECRET=$SECRET "$API" --sign-jwt "{\"role\":\"freight_driver\",\"sub\":\"d1\",\"driver_id\":$D1,\"exp\":$exp}")
# rpc NAME STATUS BODY_REGEX FUNCTION JSON [TOKEN]: check of a POST of JSON to /api/rpc/FUNCTION
rpc() {
	check "$1" "$2" "$3" -X POST -H "Content-Type: application/json" ${6:+-H "Authorization: Bearer $6"} -d "$5" "$URL/rpc/$4"
}

# ---- checks ----
rpc "optimize_route over HTTP" 200 '^\[1,4,2,3\]$' \
	optimize_route '{"x": [13.40, 13.45, 13.38, 13.50], "y": [52.52, 52.50, 52.49, 52.53]}' "$TOKEN"
rpc "plan_routes over HTTP" 200 '^\[\[2, 3\], \[4\]\]$' \
	plan_routes '{"x": [0, 1, 2, -1], "y": [0, 0, 0, 0], "demand": [0, 1, 1, 1], "capacity": 2, "options": {"metric": "euclidean"}}' "$TOKEN"
rpc "score_route over HTTP" 200 '"distance": 4' \
	score_route '{"x": [0, 1, 1, 0], "y": [0, 0, 1, 1], "route": [1, 2, 3, 4], "options": {"metric": "euclidean", "closed": true, "traffic": false}}' "$TOKEN"
rpc "bad input: 400 with SQLSTATE 22003 and a hint" 400 '"code":"22003".*"hint":"[^"]+"' \
	optimize_route '{"x": [1, 200], "y": [1, 2]}' "$TOKEN"
rpc "bad input: unknown option is 22023" 400 '"code":"22023"' \
	optimize_route '{"x": [1, 2], "y": [1, 2], "options": {"metrik": "euclidean"}}' "$TOKEN"
rpc "anonymous callers may not run the solvers" 401 '"code":"42501"' \
	optimize_route '{"x": [1], "y": [1]}'
rpc "a driver plans its own day: 200" 200 '^\[' \
	plan_driver_day "{\"driver_id\": $D1, \"depot_lon\": 13.40, \"depot_lat\": 52.50}" "$TOKEN"
expect "the plan has the 6 stops" "$(grep -o '"seq"' "$WORK/body" | wc -l)" 6
expect "the plan carries an ETA at each stop" "$(grep -o '"eta"' "$WORK/body" | wc -l)" 6
check "the stored plan is readable through api.route_plan_stops" 200 '^\[\{"seq":1\},' \
	-H "Authorization: Bearer $TOKEN" "$URL/route_plan_stops?select=seq&order=seq"
expect "  ... all 6 stops of it" "$(grep -o '"seq"' "$WORK/body" | wc -l)" 6
rpc "another driver's day is invisible: 404" 404 '^\{"code":"PT404","message":"driver not found"' \
	plan_driver_day "{\"driver_id\": $D2, \"depot_lon\": 13.40, \"depot_lat\": 52.50}" "$TOKEN"

e2e_finish
