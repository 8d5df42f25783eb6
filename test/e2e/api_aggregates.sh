#!/bin/sh
# test/e2e/api_aggregates.sh — freight-api's aggregate functions in select= (PostgREST 12),
# end to end (own cluster and schema, api_aggregates_schema.sql; real HTTP on 127.0.0.1):
# sum/avg/count/max/min alone, grouped by the other selected columns, aliased, with casts on the
# input and on the result, with filters, count=exact and inside an embed; bad syntax, unknown
# functions and columns are clear 400s; with db-aggregates-enabled off (the default) every
# aggregate is PGRST123.  Then the real @supabase/postgrest-js (api_aggregates.mjs).  Ends with
# "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-agg
e2e_cluster aggtest "-c max_connections=20"
e2e_sql aggtest "$HERE/api_aggregates_schema.sql"

# start_api PORT AGGREGATES_ENABLED: prints the daemon's pid
start_api() {
	FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/aggtest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_JWT_SECRET=agg-secret-0123456789abcdef0123456789 FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 \
		FREIGHT_DB_AGGREGATES_ENABLED="$2" FREIGHT_API_PORT="$1" "$API" > "$WORK/api-$1.out" 2> "$WORK/api-$1.err" &
	echo $!
}
PORT=$(free_port)
API_PID=$(start_api "$PORT" true)
OFF_PORT=$(free_port)
OFF_PID=$(start_api "$OFF_PORT" false)
e2e_track "$API_PID" "$OFF_PID"
A="http://127.0.0.1:$PORT/api"
OFF="http://127.0.0.1:$OFF_PORT/api"
e2e_wait_up "$A/health" "$API_PID" || e2e_abort "$WORK/api-$PORT.err"
e2e_wait_up "$OFF/health" "$OFF_PID" || e2e_abort "$WORK/api-$OFF_PORT.err"

# check NAME EXPECTED_STATUS EXPECTED_BODY curl-args...: status and the body without spaces and
# newlines (numbers as PostgreSQL printed them; "" = any body)
check() {
	name=$1; want=$2; want_body=$3; shift 3
	got=$(curl -s -g -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$@")
	body=$(tr -d ' \n' < "$WORK/body")
	if [ "$got" = "$want" ] && { [ -z "$want_body" ] || [ "$body" = "$want_body" ]; }; then
		pass "$name"
	else
		fail "$name (status $got, want $want; body: $(echo "$body" | head -c 300); want: $want_body)"
	fi
}
# check_code NAME STATUS CODE MESSAGE_REGEX curl-args...: a PostgREST error
check_code() {
	name=$1; want=$2; code=$3; msg_re=$4; shift 4
	got=$(curl -s -g -o "$WORK/body" -w '%{http_code}' "$@")
	gcode=$(jq -r .code "$WORK/body" 2>/dev/null)
	gmsg=$(jq -r '.message + " " + (.details // "")' "$WORK/body" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "$gcode" = "$code" ] && echo "$gmsg" | grep -Eq -- "$msg_re"; then
		pass "$name"
	else
		fail "$name (status $got, want $want; body: $(head -c 300 "$WORK/body"))"
	fi
}

echo "# disabled (the default)"
check_code "sum() when disabled" 400 PGRST123 '^Use of aggregate functions is not allowed' "$OFF/orders?select=amount.sum()"
check_code "count() when disabled" 400 PGRST123 'not allowed' "$OFF/orders?select=status,count()"
check_code "inside an embed when disabled" 400 PGRST123 'not allowed' "$OFF/customers?select=name,orders(count())"
check "plain selects still work when disabled" 200 '[{"id":1,"status":"open"}]' "$OFF/orders?select=id,status&id=eq.1"

echo "# whole-table aggregates"
check "sum, max, min and count()" 200 '[{"sum":137.00,"max":100.00,"min":1.25,"count":5}]' \
	"$A/orders?select=amount.sum(),amount.max(),amount.min(),count()"
check "avg" 200 '[{"avg":27.4000000000000000}]' "$A/orders?select=amount.avg()"
check "count of a column skips nulls" 200 '[{"count":4}]' "$A/orders?select=customer_id.count()"
check "aliases" 200 '[{"total":137.00,"n":5}]' "$A/orders?select=total:amount.sum(),n:count()"
check "cast of the result" 200 '[{"avg":27}]' "$A/orders?select=amount.avg()::int"
check "cast of the input" 200 '[{"sum":"137"}]' "$A/orders?select=amount::int.sum()::text"
check "cast of the result of count()" 200 '[{"count":"5"}]' "$A/orders?select=count()::text"
check "with a filter (a bind parameter)" 200 '[{"sum":30.75,"count":2}]' \
	"$A/orders?select=amount.sum(),count()&status=eq.open"
check "no rows: count 0, sum null" 200 '[{"sum":null,"count":0}]' \
	"$A/orders?select=amount.sum(),count()&status=eq.lost"
check "a quoted column name" 200 '[{"sum":137.00}]' "$A/orders?select=%22amount%22.sum()"

echo "# grouping by the other columns"
check "status,count() groups by status" 200 \
	'[{"status":"cancelled","count":1},{"status":"open","count":2},{"status":"shipped","count":2}]' \
	"$A/orders?select=status,count()&order=status"
check "two aggregates per group, aliased group column" 200 \
	'[{"s":"cancelled","sum":1.25,"max":1.25},{"s":"open","sum":30.75,"max":20.25},{"s":"shipped","sum":105.00,"max":100.00}]' \
	"$A/orders?select=s:status,amount.sum(),amount.max()&order=status"
check "group by a cast column" 200 '[{"customer_id":"1","count":2}]' \
	"$A/orders?select=customer_id::text,count()&customer_id=eq.1"
check_code "order by a column that is not grouped: PostgreSQL's grouping error" 400 42803 'GROUP BY' \
	"$A/orders?select=status,count()&order=id"
check "limit applies to the groups" 200 '[{"status":"cancelled","count":1}]' \
	"$A/orders?select=status,count()&order=status&limit=1"
check "count=exact counts the groups" 206 '' -H 'Prefer: count=exact' "$A/orders?select=status,count()&order=status&limit=2"
expect "  ... Content-Range" "$(header Content-Range)" "0-1/3"
check "singular object" 200 '{"count":5}' -H 'Accept: application/vnd.pgrst.object+json' "$A/orders?select=count()"
check "csv" 200 '' -H 'Accept: text/csv' "$A/orders?select=status,count()&order=status"
expect "  ... body" "$(tr -d '\r' < "$WORK/body" | tr '\n' '|')" "status,count|cancelled,1|open,2|shipped,2"

echo "# inside an embed"
check "sum per customer (to-many embed)" 200 \
	'[{"name":"ann","orders":[{"sum":30.75,"count":2}]},{"name":"bob","orders":[{"sum":6.25,"count":2}]},{"name":"cy","orders":[{"sum":null,"count":0}]}]' \
	"$A/customers?select=name,orders(amount.sum(),count())&order=id"
check "grouped inside an embed" 200 \
	'[{"id":2,"orders":[{"status":"cancelled","count":1},{"status":"shipped","count":1}]}]' \
	"$A/customers?select=id,orders(status,count())&id=eq.2&orders.order=status"

echo "# bad input"
check_code "unknown aggregate function" 400 PGRST100 'unknown aggregate function' "$A/orders?select=amount.median()"
check_code "unknown function after a cast" 400 PGRST100 'unknown aggregate function' "$A/orders?select=amount::int.total()"
check_code "aggregate of an unknown column" 400 42703 'column api.orders.nope does not exist|nope' "$A/orders?select=nope.sum()"
check_code "missing ()" 400 PGRST100 "expected '\\(\\)'" "$A/orders?select=amount::int.sum"
check_code "unclosed parenthesis" 400 PGRST100 'failed to parse select' "$A/orders?select=amount.sum("
check_code "argument inside ()" 400 PGRST100 'takes no arguments' "$A/orders?select=amount.sum(1)"
check_code "injection in the result cast" 400 PGRST100 'invalid type name' "$A/orders?select=amount.sum()::int;drop%20table%20api.orders"
check_code "* with an aggregate" 400 PGRST100 "'\\*' cannot be combined" "$A/orders?select=*,count()"
check_code "aggregate in a spread" 400 PGRST119 'spread' "$A/orders?select=id,...customers(count())"
expect "  ... the table is intact" "$($PSQL -d aggtest -tAc 'SELECT count(*) FROM api.orders')" "5"

echo "# postgrest-js"
e2e_client api_aggregates.mjs API_URL="$A" API_URL_OFF="$OFF"

e2e_finish "$API_PID"
