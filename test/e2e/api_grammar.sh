#!/bin/sh
# test/e2e/api_grammar.sh — freight-api's PostgREST grammar beyond reads: PUT, Prefer
# return=headers-only (Location), missing=default and handling=strict, CSV and form-urlencoded
# bodies, count=planned/estimated,
# many-to-many embedding through a junction table and the OpenAPI document filtered by the
# caller's privileges.  A throwaway cluster with api_grammar_schema.sql, the daemon on a free
# port serving schema gram, curl checks (statuses, PostgREST error codes, and that bad input
# changes nothing), then the real @supabase/postgrest-js (api_grammar.mjs).
# Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SECRET=grammar-secret-0123456789abcdef0123456
e2e_setup api-grammar
e2e_cluster gram
e2e_sql gram "$HERE/api_grammar_schema.sql"

e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/gram" FREIGHT_DB_SCHEMAS=gram \
	FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_JWT_SECRET="$SECRET" FREIGHT_DB_POOL=2 FREIGHT_DB_MAX_ROWS=1000 \
	FREIGHT_ACCESS_LOG=0 || e2e_abort "$WORK/api.err"
B="http://127.0.0.1:$PORT/api"
USER_TOKEN=$(node "$HERE/jwt.mjs" hs256 "$SECRET" '{"role":"web_user","sub":"alice"}')
AUTH="Authorization: Bearer $USER_TOKEN"
JSON='Content-Type: application/json'

# jcheck NAME EXPECTED_JSON curl-args...: status 200 and a body equal to EXPECTED_JSON as JSON
jcheck() {
	name=$1; want=$2; shift 2
	got=$(curl -s -g -o "$WORK/body" -w '%{http_code}' "$@")
	if [ "$got" = 200 ] && node -e 'const f=require("fs");const a=JSON.stringify(JSON.parse(f.readFileSync(process.argv[1],"utf8")));process.exit(a===JSON.stringify(JSON.parse(process.argv[2]))?0:1)' "$WORK/body" "$want"; then
		pass "$name"
	else
		fail "$name (status $got; body: $(head -c 300 "$WORK/body"))"
	fi
}
q() { $PSQL -d gram -tAc "$1"; }

echo "# PUT: single-row upsert by primary key"
check "PUT inserts a new row" 200 '^\[\{"id":1,"name":"bolt","qty":3,"note":"none","tags":null\}\]$' -X PUT -H "$AUTH" -H "$JSON" \
	-H 'Prefer: return=representation' -d '{"id":1,"name":"bolt","qty":3}' "$B/items?id=eq.1"
check "PUT replaces the row" 204 EMPTY -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"nut","qty":4,"note":"x"}' "$B/items?id=eq.1"
expect "the row was replaced" "$(q "SELECT name || qty || note FROM gram.items WHERE id = 1")" "nut4x"
check "PUT with a composite key" 204 EMPTY -X PUT -H "$AUTH" -H "$JSON" -d '{"a":1,"b":2,"v":"p"}' "$B/pairs?a=eq.1&b=eq.2"
check "PUT body key differs from the URL" 400 '"code":"PGRST115"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":2,"name":"x"}' "$B/items?id=eq.1"
check "PUT body without the key" 400 '"code":"PGRST115"' -X PUT -H "$AUTH" -H "$JSON" -d '{"name":"x"}' "$B/items?id=eq.5"
check "PUT without filters" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items"
check "PUT with part of a composite key" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"a":1,"b":2,"v":"q"}' "$B/pairs?a=eq.1"
check "PUT with a non-eq filter" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items?id=gt.0"
check "PUT with a non-key filter" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items?id=eq.1&name=eq.nut"
check "PUT with a negated filter" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items?id=not.eq.1"
check "PUT on a table without a primary key" 405 '"code":"PGRST105"' -X PUT -H "$AUTH" -H "$JSON" -d '{"x":1}' "$B/nokey?x=eq.1"
check "PUT with limit" 400 '"code":"PGRST114"' -X PUT -H "$AUTH" -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items?id=eq.1&limit=1"
check "PUT with an array body" 400 '"code":"PGRST102"' -X PUT -H "$AUTH" -H "$JSON" -d '[{"id":1,"name":"x"}]' "$B/items?id=eq.1"
expect "failed PUTs changed nothing" "$(q "SELECT string_agg(id || name, ',' ORDER BY id) FROM gram.items") $(q "SELECT v FROM gram.pairs")" "1nut p"
check "OPTIONS on a relation" 200 '' -X OPTIONS "$B/items"
expect_match "Allow lists PUT for relations" "$(header Allow)" '^OPTIONS, GET, HEAD, POST, PATCH, PUT, DELETE'
check "OPTIONS on a function" 200 '' -X OPTIONS "$B/rpc/anyone"
expect_match "Allow lists only GET, HEAD and POST for functions" "$(header Allow)" '^OPTIONS, GET, HEAD, POST$'
check "PUT is refused to the anonymous role" 401 '"code":"42501"' -X PUT -H "$JSON" -d '{"id":1,"name":"x"}' "$B/items?id=eq.1"

echo "# Prefer: return=headers-only"
check "headers-only POST of one row" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: return=headers-only' -d '{"id":60,"name":"loc"}' "$B/items?select=name"
expect_match "Location names the new row by its key" "$(header Location)" '^/items\?id=eq\.60$'
check "headers-only POST with a composite key" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: return=headers-only' -d '{"a":5,"b":6,"v":"x"}' "$B/pairs"
expect_match "Location with both key columns" "$(header Location)" '^/pairs\?a=eq\.5&b=eq\.6$'
check "headers-only POST of a text key" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: return=headers-only' -d '{"name":"a b&c/é"}' "$B/labels"
expect_match "the key is percent-encoded" "$(header Location)" '^/labels\?name=eq\.a%20b%26c%2F%C3%A9$'
check "headers-only POST of two rows" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: return=headers-only' -d '[{"id":61,"name":"x"},{"id":62,"name":"y"}]' "$B/items"
expect "no Location for two rows" "$(header Location)" ""
check "headers-only POST to a table without a key" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: return=headers-only' -d '{"x":1}' "$B/nokey"
expect "no Location without a key" "$(header Location)" ""
$PSQL -d gram -c "DELETE FROM gram.items WHERE id >= 60; DELETE FROM gram.pairs WHERE a = 5; DELETE FROM gram.nokey"

echo "# Prefer: missing=default, handling=strict"
check "bulk insert with missing=default" 201 '' -H "$AUTH" -H "$JSON" -H 'Prefer: missing=default, return=representation' \
	-d '[{"id":10,"name":"a"},{"id":11,"name":"b","qty":2,"note":null},{"id":12,"name":"c","note":"n"}]' "$B/items?columns=id,name,qty,note&select=id,qty,note"
expect_match "Preference-Applied lists missing=default" "$(header Preference-Applied)" '^missing=default, return=representation'
expect "absent keys got their DEFAULT, explicit null stays null" \
	"$(q "SELECT string_agg(id || ':' || qty || ':' || coalesce(note, 'NULL'), ' ' ORDER BY id) FROM gram.items WHERE id >= 10")" \
	"10:7:none 11:2:NULL 12:7:n"
check "without missing=default absent keys are null" 400 '"code":"23502"' -H "$AUTH" -H "$JSON" \
	-d '[{"id":13,"name":"a"},{"id":14,"name":"b","qty":2}]' "$B/items?columns=id,name,qty"
check "PATCH with missing=default sets absent columns= to DEFAULT" 204 EMPTY -X PATCH -H "$AUTH" -H "$JSON" -H 'Prefer: missing=default' \
	-d '{"name":"z"}' "$B/items?id=eq.11&columns=name,qty"
expect "PATCHed row" "$(q "SELECT name || qty FROM gram.items WHERE id = 11")" "z7"
check "handling=strict with an unknown preference" 400 '"code":"PGRST122"' -H "$AUTH" -H "$JSON" -H 'Prefer: handling=strict, return=everything' \
	-d '{"id":20,"name":"s"}' "$B/items"
grep -q 'return=everything' "$WORK/body" && pass "PGRST122 details name the invalid preference" || fail "PGRST122 details: $(cat "$WORK/body")"
check "handling=strict with a time zone PostgreSQL does not know" 400 '"code":"PGRST122"' -H 'Prefer: handling=strict, timezone=Mars/Olympus' "$B/items"
node -e 'const c=["id","name","qty","note","tags"];console.log(JSON.stringify(Array.from({length: 17}, (_, i) => Object.fromEntries(c.filter((_, b) => (i + 1) & (1 << b)).map((k) => [k, null])))))' > "$WORK/groups.json"
check "missing=default with more than 16 key sets" 400 'Too many different sets of keys' -H "$AUTH" -H "$JSON" -H 'Prefer: missing=default' \
	--data-binary "@$WORK/groups.json" "$B/items?columns=id,name,qty,note,tags"
expect "a strict failure wrote nothing" "$(q "SELECT count(*) FROM gram.items WHERE id = 20")" 0
check "handling=lenient ignores it" 201 EMPTY -H "$AUTH" -H "$JSON" -H 'Prefer: handling=lenient, return=everything' \
	-d '{"id":20,"name":"s"}' "$B/items"
expect_match "Preference-Applied echoes handling" "$(header Preference-Applied)" '^handling=lenient'
check "handling=strict with valid preferences" 201 '' -H "$AUTH" -H "$JSON" -H 'Prefer: handling=strict' -H 'Prefer: return=representation' \
	-d '{"id":21,"name":"t"}' "$B/items"
expect_match "several Prefer headers are combined" "$(header Preference-Applied)" '^return=representation, handling=strict'

echo "# text/csv and form-urlencoded bodies"
CSV='Content-Type: text/csv'
printf 'id,name,note,tags\n30,"comma, name",NULL,"{a,b}"\r\n31,"say ""hi""",,{c}\n' > "$WORK/ok.csv"
check "CSV bulk insert" 201 '' -H "$AUTH" -H "$CSV" -H 'Prefer: return=representation' --data-binary "@$WORK/ok.csv" "$B/items?select=id,name,note,tags"
grep -Fq '{"id":30,"name":"comma, name","note":null,"tags":["a","b"]}' "$WORK/body" &&
	grep -Fq '{"id":31,"name":"say \"hi\"","note":"","tags":["c"]}' "$WORK/body" && pass "CSV quoting, NULL and empty fields" || fail "CSV rows: $(cat "$WORK/body")"
check "CSV PATCH" 204 EMPTY -X PATCH -H "$AUTH" -H "$CSV" --data-binary "$(printf 'qty\n9')" "$B/items?id=eq.30"
expect "CSV PATCH applied" "$(q "SELECT qty FROM gram.items WHERE id = 30")" 9
check "CSV PATCH of two rows" 400 'exactly one row' -X PATCH -H "$AUTH" -H "$CSV" --data-binary "$(printf 'qty\n1\n2')" "$B/items?id=eq.30"
before=$(q "SELECT count(*) || sum(qty) FROM gram.items")
printf 'id,name\n40,"open\n' > "$WORK/bad1.csv"
check "CSV with an unterminated quote" 400 '"code":"PGRST102".*unterminated quoted field on line 2' -H "$AUTH" -H "$CSV" --data-binary "@$WORK/bad1.csv" "$B/items"
check "CSV row with too many fields" 400 'more fields than the header has columns on line 3' -H "$AUTH" -H "$CSV" \
	--data-binary "$(printf 'id,name\n41,a\n42,b,c')" "$B/items"
check "CSV row with too few fields" 400 'fewer fields than the header has columns on line 2' -H "$AUTH" -H "$CSV" \
	--data-binary "$(printf 'id,name\n41')" "$B/items"
check "CSV with a header only" 400 '"code":"PGRST102"' -H "$AUTH" -H "$CSV" --data-binary 'id,name' "$B/items"
check "CSV with a duplicate column" 400 'duplicate column name' -H "$AUTH" -H "$CSV" --data-binary "$(printf 'id,id\n1,2')" "$B/items"
check "CSV with an unknown column" 400 '"code":"PGRST204"' -H "$AUTH" -H "$CSV" --data-binary "$(printf 'id,nope\n43,x')" "$B/items"
check "CSV with a value of the wrong type" 400 '"code":"22P02"' -H "$AUTH" -H "$CSV" --data-binary "$(printf 'id,name\nforty,x')" "$B/items"
check "CSV for a function is refused" 415 '"code":"PGRST107"' -X POST -H "$CSV" --data-binary "$(printf 'a\n1')" "$B/rpc/anyone"
expect "bad CSV bodies changed nothing" "$(q "SELECT count(*) || sum(qty) FROM gram.items")" "$before"
FORM='Content-Type: application/x-www-form-urlencoded'
check "form insert" 201 '^\[\{"id":50,"name":"a b&c","qty":5\}\]$' -H "$AUTH" -H "$FORM" -H 'Prefer: return=representation' \
	--data-raw 'id=50&name=a+b%26c&qty=5' "$B/items?select=id,name,qty"
check "form PATCH" 200 '^\[\{"note":"é"\}\]$' -X PATCH -H "$AUTH" -H "$FORM" -H 'Prefer: return=representation' \
	--data-raw 'note=%C3%A9' "$B/items?id=eq.50&select=note"
check "form PUT" 204 EMPTY -X PUT -H "$AUTH" -H "$FORM" --data-raw 'id=51&name=put' "$B/items?id=eq.51"
check "form body for a function" 200 '^42$' -X POST -H "$AUTH" -H "$FORM" --data-raw '' "$B/rpc/admin_only"
before=$(q "SELECT count(*) FROM gram.items")
check "form field without =" 400 'is not name=value' -H "$AUTH" -H "$FORM" --data-raw 'id=52&name' "$B/items"
check "form field given twice" 400 'is given twice' -H "$AUTH" -H "$FORM" --data-raw 'id=52&id=53&name=x' "$B/items"
check "form with bad UTF-8" 400 'not valid UTF-8' -H "$AUTH" -H "$FORM" --data-raw 'id=52&name=%FF' "$B/items"
check "form with a NUL" 400 '"code":"PGRST102"' -H "$AUTH" -H "$FORM" --data-raw 'id=52&name=a%00' "$B/items"
check "form with an empty name" 400 'is not name=value' -H "$AUTH" -H "$FORM" --data-raw '=1' "$B/items"
check "other media types are 415" 415 '"code":"PGRST107"' -H "$AUTH" -H 'Content-Type: text/plain' --data-raw 'x' "$B/items"
expect "bad form bodies changed nothing" "$(q "SELECT count(*) FROM gram.items")" "$before"

echo "# count=planned and count=estimated"
check "planned count of the whole table" 206 '' -H 'Prefer: count=planned' "$B/big?select=id&limit=5"
expect_match "Content-Range carries the planner's estimate" "$(header Content-Range)" '^0-4/5000'
expect_match "Preference-Applied count=planned" "$(header Preference-Applied)" '^count=planned'
check "planned count with a filter" 206 '' -H 'Prefer: count=planned' "$B/big?select=id&grp=lt.3&limit=1"
est=$(header Content-Range | sed -n 's|^0-0/\([0-9]*\)$|\1|p')
[ -n "$est" ] && [ "$est" -ge 1200 ] && [ "$est" -le 1800 ] && pass "filtered estimate near 1500 ($est)" || fail "filtered estimate: '$est'"
check "estimated below db-max-rows is exact" 206 '' -H 'Prefer: count=estimated' "$B/big?select=id&grp=eq.1&id=lt.2000&limit=1"
expect_match "exact count below db-max-rows" "$(header Content-Range)" '^0-0/200'
check "estimated above db-max-rows is planned" 206 '' -H 'Prefer: count=estimated' "$B/big?select=id&limit=1"
expect_match "planned count above db-max-rows" "$(header Content-Range)" '^0-0/5000'
check "planned count with a bad filter" 400 '"code":"22P02"' -H 'Prefer: count=planned' "$B/big?grp=eq.x"
check "planned count honours privileges" 401 '"code":"42501"' -H 'Prefer: count=planned' "$B/secrets"

echo "# many-to-many embedding through a junction table"
jcheck "films with their actors" '[{"title":"Alien","actors":[{"name":"Holm"},{"name":"Weaver"}]},{"title":"Heat","actors":[{"name":"De Niro"},{"name":"Pacino"}]},{"title":"Solaris","actors":[]}]' \
	"$B/films?select=title,actors(name)&actors.order=name&order=id"
jcheck "actors with their films, filtered" '[{"name":"Weaver","films":[{"title":"Alien"}]}]' "$B/actors?select=name,films(title)&id=eq.10"
jcheck "inner join through the junction" '[{"id":2}]' "$B/films?select=id,actors!inner()&actors.name=eq.Pacino"
jcheck "an empty embed without !inner filters nothing" '[{"id":1},{"id":2},{"id":3}]' "$B/films?select=id,actors()&actors.name=eq.Pacino&order=id"
jcheck "junction named as the hint" '[{"actors":[{"id":10},{"id":13}]}]' "$B/films?select=actors!roles(id)&actors.order=id&id=eq.1"
jcheck "many-to-many with embed limit and nested filter" '[{"id":2,"actors":[{"name":"Pacino"}]}]' \
	"$B/films?select=id,actors(name)&actors.name=like.P*&id=eq.2"
check "the junction itself still embeds one-to-many" 200 '"roles":\[\{"character":"Ripley"\}\]' "$B/actors?select=roles(character)&id=eq.10"
check "many-to-many spread is refused" 400 '"code":"PGRST119"' "$B/films?select=...actors(name)"
check "many-to-many with a wrong hint" 400 '"code":"PGRST200"' "$B/films?select=actors!nope(name)"

echo "# OpenAPI filtered by privilege"
check "OpenAPI for the anonymous role" 200 '"openapi"' "$B/"
grep -q '"/items"' "$WORK/body" && ! grep -q '"/secrets"' "$WORK/body" && ! grep -q '"/rpc/admin_only"' "$WORK/body" &&
	grep -q '"/rpc/anyone"' "$WORK/body" && pass "anonymous sees only what it may use" || fail "anonymous OpenAPI paths"
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));const p=d.paths["/items"];process.exit(p.get&&!p.post&&!p.patch&&!p.delete&&!d.components.schemas.secrets?0:1)' "$WORK/body" &&
	pass "read-only role gets GET only" || fail "anonymous methods on /items"
expect_match "the anonymous document is the same for all: publicly cacheable" "$(header Cache-Control)" '^public'
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));const p=Object.keys(d.components.schemas.people.properties).join(",");const f=d.paths["/people"].get.parameters.map((x)=>x.name).filter(Boolean).join(",");process.exit(p==="id,name"&&!f.includes("salary")?0:1)' "$WORK/body" &&
	pass "column grants: only the columns the role may select" || fail "OpenAPI columns of /people"
check "and the API agrees: salary is not readable" 401 '"code":"42501"' "$B/people?select=salary"
jcheck "the granted columns are" '[{"id":1,"name":"Ann"}]' "$B/people?select=id,name"
check "OpenAPI for web_user" 200 '"/secrets"' -H "$AUTH" "$B/"
grep -q '"/rpc/admin_only"' "$WORK/body" && pass "web_user sees its function" || fail "web_user OpenAPI functions"
expect_match "a role's document is not publicly cacheable" "$(header Cache-Control)" '^private'
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));const p=d.paths["/items"];process.exit(p.get&&p.post&&p.patch&&p.put&&p.delete?0:1)' "$WORK/body" &&
	pass "web_user gets every method (PUT for a table with a key)" || fail "web_user methods on /items"
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1]));const c=d.paths["/items"].post.requestBody.content;process.exit(c["application/json"]&&c["text/csv"]&&c["application/x-www-form-urlencoded"]&&!d.paths["/nokey"].put?0:1)' "$WORK/body" &&
	pass "request bodies: JSON, CSV, form; no PUT without a primary key" || fail "OpenAPI request bodies / PUT"
check "OpenAPI with a bad token" 401 '"code":"PGRST301"' -H 'Authorization: Bearer x.y.z' "$B/"
check "OpenAPI for an unknown profile" 406 '"code":"PGRST106"' -H 'Accept-Profile: nope' "$B/"

echo "# postgrest-js"
e2e_client api_grammar.mjs API_URL="$B" USER_TOKEN="$USER_TOKEN"

e2e_finish "$API_PID"
