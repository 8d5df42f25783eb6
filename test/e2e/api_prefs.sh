#!/bin/sh
# test/e2e/api_prefs.sh — freight-api's Prefer: max-affected, timezone and params=single-object,
# end to end (own cluster and schema, api_prefs_schema.sql; real HTTP on 127.0.0.1): a write
# or function over max-affected is refused with PGRST124 and leaves every row as it was; the
# request's statements run in its time zone; an RPC gets the whole body as its one json(b)
# argument; bad values are ignored or (handling=strict) refused; without these preferences the
# transaction is the usual one; count=planned|estimated on a set-returning function answers the
# planner's estimate (a stable one's POST too; a volatile one's POST counts exactly).  Then the real @supabase/postgrest-js (api_prefs.mjs).  Ends
# with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-prefs
e2e_cluster prefstest "-c max_connections=20"
e2e_sql prefstest "$HERE/api_prefs_schema.sql"
q() { $PSQL -d prefstest -tAc "$1"; }

e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/prefstest" FREIGHT_DB_ANON_ROLE=web_anon \
	FREIGHT_JWT_SECRET=prefs-secret-0123456789abcdef012345 FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 \
	FREIGHT_LOG_SQL=1 FREIGHT_DB_MAX_ROWS=100 || e2e_abort "$WORK/api.err"
A="http://127.0.0.1:$PORT/api"

# the transaction log-sql logged for the last request
last_tx() { grep '"event":"sql"' "$WORK/api.err" | tail -n 1; }
JSON='Content-Type: application/json'
STRICT='Prefer: handling=strict'
qty() { q "SELECT string_agg(qty::text, ',' ORDER BY id) FROM api.items WHERE grp = '$1'"; }

echo "# max-affected"
check "PATCH over max-affected is refused" 400 \
	'"code":"PGRST124".*"message":"Query result exceeds max-affected preference constraint".*"details":"The query affects 7 rows"' \
	-X PATCH -H "$JSON" -H "$STRICT" -H 'Prefer: max-affected=5, return=representation' -d '{"qty":9}' "$A/items?grp=eq.b"
expect "  ... and rolled back: no row of group b changed" "$(qty b)" "0,0,0,0,0,0,0"
case "$(last_tx)" in *'"sql":"BEGIN"'*) pass "  ... (it ran in a transaction left open for the check)" ;;
	*) fail "  ... (it ran in a transaction left open for the check: $(last_tx | head -c 300))" ;; esac
check "PATCH within max-affected commits" 204 "" \
	-X PATCH -H "$JSON" -H "$STRICT" -H 'Prefer: max-affected=3' -d '{"qty":5}' "$A/items?grp=eq.a"
expect "  ... all three rows" "$(qty a)" "5,5,5"
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "handling=strict, max-affected=3"
case "$(header Freight-LSN)" in */*) pass "  ... with its commit LSN" ;; *) fail "  ... with its commit LSN (none)" ;; esac
check "max-affected=0 refuses any change" 400 '"details":"The query affects 1 rows"' \
	-X PATCH -H "$JSON" -H "$STRICT" -H 'Prefer: max-affected=0' -d '{"qty":1}' "$A/items?id=eq.1"
expect "  ... row 1 unchanged" "$(q "SELECT qty FROM api.items WHERE id = 1")" 5
check "DELETE over max-affected is refused" 400 '"code":"PGRST124".*"The query affects 7 rows"' \
	-X DELETE -H "$STRICT" -H 'Prefer: max-affected=6' "$A/items?grp=eq.b"
expect "  ... nothing deleted" "$(q "SELECT count(*) FROM api.items")" 10
check "a singular PATCH with max-affected still needs exactly one row" 406 '"code":"PGRST116"' -X PATCH -H "$JSON" \
	-H "$STRICT" -H 'Prefer: max-affected=10' -H 'Accept: application/vnd.pgrst.object+json' -d '{"qty":7}' "$A/items?grp=eq.a"
expect "  ... and changes nothing" "$(qty a)" "5,5,5"
check "max-affected without handling=strict is ignored" 204 "" \
	-X PATCH -H "$JSON" -H 'Prefer: max-affected=1' -d '{"qty":2}' "$A/items?grp=eq.b"
expect "  ... all seven rows changed" "$(qty b)" "2,2,2,2,2,2,2"
expect "  ... and it is not in Preference-Applied" "$(header Preference-Applied)" ""
case "$(last_tx)" in *'"sql":"BEGIN"'*|*timezone*) fail "  ... the usual one-pipeline transaction ($(last_tx | head -c 300))" ;;
	*) pass "  ... the usual one-pipeline transaction (no BEGIN, no extra setting)" ;; esac
check "an RPC returning a set over max-affected is refused" 400 '"code":"PGRST124".*"The query affects 7 rows"' \
	-H "$JSON" -H "$STRICT" -H 'Prefer: max-affected=2' -d '{"g":"b"}' "$A/rpc/bump"
expect "  ... and what it wrote is rolled back" "$(qty b)" "2,2,2,2,2,2,2"
check "an RPC within max-affected commits" 200 '"qty":6' \
	-H "$JSON" -H "$STRICT" -H 'Prefer: max-affected=3' -d '{"g":"a"}' "$A/rpc/bump"
expect "  ... what it wrote" "$(qty a)" "6,6,6"
check "max-affected on a read is not applied" 200 '' -H "$STRICT" -H 'Prefer: max-affected=1' "$A/items"
expect "  ... all ten rows, no PGRST124" "$(grep -o '"id"' "$WORK/body" | wc -l)" 10
expect "  ... not in Preference-Applied" "$(header Preference-Applied)" "handling=strict"
for bad in abc -1 1.5 '' 99999999999999999999; do
	check "max-affected=$bad with handling=strict is PGRST122" 400 '"code":"PGRST122".*max-affected' \
		-X DELETE -H "$STRICT" -H "Prefer: max-affected=$bad" "$A/items?grp=eq.b"
done
expect "  ... none of them deleted anything" "$(q "SELECT count(*) FROM api.items")" 10
check "a bad max-affected without strict is ignored" 204 "" -X PATCH -H "$JSON" -H 'Prefer: max-affected=x' -d '{"qty":0}' "$A/items?id=eq.10"

echo "# timezone"
check "timezone= renders timestamptz in that zone" 200 '"at":"2024-06-15T01:00:00\+09:00"' \
	-H 'Prefer: timezone=Asia/Tokyo' "$A/events?id=eq.1"
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "timezone=Asia/Tokyo"
case "$(last_tx)" in *"set_config('timezone', \$8, true)"*Asia/Tokyo*) pass "  ... set in the setup SELECT, as a parameter" ;;
	*) fail "  ... set in the setup SELECT, as a parameter ($(last_tx | head -c 400))" ;; esac
check "a function sees the request's zone" 200 '"timezone" : "America/New_York", "local" : "12:00"' \
	-H 'Prefer: timezone=America/New_York' "$A/rpc/zone"
check "zone names are case-insensitive, as in PostgreSQL" 200 '\+09:00' -H 'Prefer: timezone=asia/tokyo' "$A/events"
check "a write reads its input in the request's zone" 201 "" -H "$JSON" -H 'Prefer: timezone=Asia/Tokyo' \
	-d '{"id":2,"at":"2024-06-14 12:00:00"}' "$A/events"
expect "  ... stored as 03:00 UTC" "$(q "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM api.events WHERE id = 2")" "2024-06-14 03:00"
same_zone=0
for _ in 1 2 3 4; do
	curl -s "$A/rpc/zone" | grep -q '"timezone" : "UTC"' && same_zone=$((same_zone + 1))
done
expect "the zone does not outlive its request (pooled connections are back to UTC)" "$same_zone" 4
check "an unknown zone is ignored" 200 '"at":"2024-06-14T16:00:00\+00:00"' -H 'Prefer: timezone=Mars/Olympus' "$A/events?id=eq.1"
expect "  ... and not in Preference-Applied" "$(header Preference-Applied)" ""
check "an unknown zone with handling=strict is PGRST122" 400 '"code":"PGRST122".*"details":"timezone=Mars/Olympus"' \
	-H "$STRICT" -H 'Prefer: timezone=Mars/Olympus' "$A/events"
check "an unknown zone with handling=strict refuses a write" 400 '"code":"PGRST122"' -H "$JSON" -H "$STRICT" \
	-H 'Prefer: timezone=Nowhere' -d '{"id":3,"at":"2024-06-14 12:00:00"}' "$A/events"
expect "  ... which is not written" "$(q "SELECT count(*) FROM api.events")" 2
check "an injection attempt as a zone is ignored" 200 '' -H "Prefer: timezone=UTC'); DELETE FROM api.items; --" "$A/events"
expect "  ... and does nothing" "$(q "SELECT count(*) FROM api.items")" 10

echo "# params=single-object"
check "the whole body is the one jsonb argument" 200 '^\{"a": 1, "b": \[2, 3\]\}$' \
	-H "$JSON" -H 'Prefer: params=single-object' -d '{"a":1,"b":[2,3]}' "$A/rpc/echo"
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "params=single-object"
check "  ... even when its keys name the argument" 200 '^\{"payload": \{"x": 1\}\}$' \
	-H "$JSON" -H 'Prefer: params=single-object' -d '{"payload":{"x":1}}' "$A/rpc/echo"
check "  ... (without it, the keys are the arguments)" 200 '^\{"x": 1\}$' -H "$JSON" -d '{"payload":{"x":1}}' "$A/rpc/echo"
check "an unnamed json argument" 200 '^\{"k":"v"\}$' -H "$JSON" -H 'Prefer: params=single-object' -d '{"k":"v"}' "$A/rpc/echo_json"
check "an array body" 200 '^\[\{"a": 1\}, \{"a": 2\}\]$' -H "$JSON" -H 'Prefer: params=single-object' -d '[{"a":1},{"a":2}]' "$A/rpc/echo"
check "with handling=strict it is a valid preference" 200 '"a": 1' -H "$JSON" -H "$STRICT" -H 'Prefer: params=single-object' -d '{"a":1}' "$A/rpc/echo"
check "a function without one json(b) argument is a clear 404" 404 '"code":"PGRST202".*single json or jsonb parameter.*"details":"Prefer: params=single-object' \
	-H "$JSON" -H 'Prefer: params=single-object' -d '{"a":1,"b":2}' "$A/rpc/add"
check "an unknown function" 404 '"code":"PGRST202"' -H "$JSON" -H 'Prefer: params=single-object' -d '{}' "$A/rpc/nope"
check "invalid JSON" 400 '"code":"PGRST102"' -H "$JSON" -H 'Prefer: params=single-object' -d '{"a":' "$A/rpc/echo"
check "a scalar body" 400 '"code":"PGRST102"' -H "$JSON" -H 'Prefer: params=single-object' -d '42' "$A/rpc/echo"
check "not applied to GET" 200 '^\{"x": 1\}$' -H 'Prefer: params=single-object' "$A/rpc/echo?payload=%7B%22x%22%3A1%7D"
expect "  ... nor echoed" "$(header Preference-Applied)" ""

echo "# all three together"
check "timezone, max-affected and handling=strict in one request" 200 '"qty":7' -H "$JSON" \
	-H 'Prefer: handling=strict, timezone=Asia/Tokyo, max-affected=3' -d '{"g":"a"}' "$A/rpc/bump"
expect "  ... Preference-Applied in PostgREST's order" "$(header Preference-Applied)" "handling=strict, timezone=Asia/Tokyo, max-affected=3"

echo "# count=planned and count=estimated on /rpc"
# plan_rows SQL: the planner's row estimate for SQL, as the API must report it
plan_rows() { q "EXPLAIN (FORMAT JSON) $1" | sed -n 's/.*"Plan Rows": \([0-9]*\).*/\1/p' | head -n 1; }
ALL=$(plan_rows "SELECT * FROM api.items_of() t WHERE t.qty >= 0")
ONE=$(plan_rows "SELECT * FROM api.items_of() t WHERE t.id = 1")
POSTED=$(plan_rows "SELECT * FROM json_to_record('{\"g\":\"b\"}') AS _args(g text), LATERAL api.items_of(g := _args.g) t")
[ -n "$ALL" ] && [ "$ALL" != 10 ] && [ -n "$ONE" ] && [ "$ONE" -le 100 ] && [ -n "$POSTED" ] && [ "$POSTED" != 7 ] &&
	pass "the plans' estimates ($ALL, $ONE, $POSTED) differ from the exact counts (10, 1, 7)" ||
	fail "the plans' estimates ($ALL, $ONE, $POSTED) differ from the exact counts (10, 1, 7)"
check "GET count=exact on a function" 200 '' -H 'Prefer: count=exact' "$A/rpc/items_of?qty=gte.0"
expect "  ... the exact total" "$(header Content-Range)" "0-9/10"
check "GET count=planned on a function: the plan's estimate" 206 '' -H 'Prefer: count=planned' "$A/rpc/items_of?qty=gte.0"
expect "  ... in Content-Range" "$(header Content-Range)" "0-9/$ALL"
expect "  ... all ten rows in the body" "$(grep -o '"id"' "$WORK/body" | wc -l)" 10
expect "  ... Preference-Applied says so" "$(header Preference-Applied)" "count=planned"
check "HEAD count=planned" 206 '' -I -H 'Prefer: count=planned' "$A/rpc/items_of?qty=gte.0&limit=2"
expect "  ... the estimate, paged" "$(header Content-Range)" "0-1/$ALL"
check "count=estimated above db-max-rows (100) is planned" 206 '' -H 'Prefer: count=estimated' "$A/rpc/items_of?qty=gte.0"
expect "  ... in Content-Range" "$(header Content-Range)" "0-9/$ALL"
check "count=estimated below db-max-rows is exact" 200 '"id":1' -H 'Prefer: count=estimated' "$A/rpc/items_of?id=eq.1"
expect "  ... in Content-Range" "$(header Content-Range)" "0-0/1"
check "POST count=planned on a stable function: the estimate, as for GET" 206 '' \
	-H "$JSON" -H 'Prefer: count=planned' -d '{"g":"b"}' "$A/rpc/items_of"
expect "  ... in Content-Range" "$(header Content-Range)" "0-6/$POSTED"
check "POST count=planned on a volatile function counts exactly" 200 '"qty":' \
	-H "$JSON" -H 'Prefer: count=planned' -d '{"g":"a"}' "$A/rpc/bump"
expect "  ... in Content-Range" "$(header Content-Range)" "0-2/3"
check "count=planned with a bad filter value" 400 '"code":"22P02"' -H 'Prefer: count=planned' "$A/rpc/items_of?id=eq.x"
check "count=planned with an unknown column" 400 '"code":"PGRST100"|"code":"42703"' -H 'Prefer: count=planned' "$A/rpc/items_of?nope=eq.1"

echo "# postgrest-js"
PSQL_ARGV="[\"$PGBIN/psql\",\"-X\",\"-q\",\"-h\",\"127.0.0.1\",\"-p\",\"$PGPORT\",\"-U\",\"postgres\",\"-d\",\"prefstest\"]"
e2e_client api_prefs.mjs API_URL="$A" PSQL_ARGV="$PSQL_ARGV"

e2e_finish "$API_PID"
