#!/bin/sh
# test/e2e/api_cors.sh — freight-api's CORS, end to end (own cluster, real HTTP on 127.0.0.1):
# without server-cors-allowed-origins any Origin is answered (as PostgREST does); with it, only the
# listed origins get Access-Control-* headers, compared whole (a longer host or another port is
# another origin) and without regard to case; preflights likewise; every response says
# Vary: Origin so that a shared cache does not hand one origin's answer to another.  A list that is
# not made of origins (a path, no scheme, a wildcard, nothing) stops the daemon at start with a
# clear message.  Then headless Chromium (api_cors.mjs): a page from a listed origin reads the API
# with a bearer token, a page from another origin is refused by the browser.  Ends with
# "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-cors
e2e_cluster corstest "-c max_connections=20"
e2e_sql corstest "$HERE/api_roles.sql" - <<'SQL'
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon, web_user;
CREATE TABLE api.items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.items VALUES (1, 'pallet'), (2, 'crate');
GRANT SELECT ON api.items TO web_anon, web_user;
SQL
DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/corstest"
SECRET=cors-secret-0123456789abcdef0123456789
# preflight NAME ORIGIN STATUS: an OPTIONS preflight for a GET with Authorization from ORIGIN
preflight() {
	check "$1" "$2" '' -X OPTIONS -H "Origin: $3" -H 'Access-Control-Request-Method: GET' \
		-H 'Access-Control-Request-Headers: authorization, prefer' "$A/items"
}
# refuses NAME ORIGINS MESSAGE: the daemon exits at start with this list, saying MESSAGE
refuses() {
	e2e_refuses "$1" "$3" FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_CORS_ALLOWED_ORIGINS="$2"
}

echo "# no allow-list: any origin, as PostgREST"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 || e2e_abort "$WORK/api.err"
A="http://127.0.0.1:$PORT/api"
check "GET from any origin" 200 '"pallet"' -H 'Origin: https://anywhere.example.test' "$A/items?order=id"
expect "  ... is allowed" "$(header Access-Control-Allow-Origin)" https://anywhere.example.test
expect_match "  ... Vary names Origin" "$(header Vary)" '(^|, )Origin(,|$)'
check "GET without Origin" 200 '"crate"' "$A/items?order=id"
expect "  ... has no CORS headers" "$(grep -ci '^Access-Control-' "$WORK/headers")" 0
expect_match "  ... and still Vary: Origin (a cache must not serve it to a cross-origin request)" "$(header Vary)" '(^|, )Origin(,|$)'
kill "$API_PID"; wait "$API_PID" 2>/dev/null

echo "# an allow-list"
e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_JWT_SECRET="$SECRET" \
	FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 \
	FREIGHT_CORS_ALLOWED_ORIGINS=' https://app.example.test ,http://localhost:5173,' || e2e_abort "$WORK/api.err"
A="http://127.0.0.1:$PORT/api"
check "GET from a listed origin" 200 '"pallet"' -H 'Origin: https://app.example.test' "$A/items?order=id"
expect "  ... is allowed, with credentials" \
	"$(header Access-Control-Allow-Origin) $(header Access-Control-Allow-Credentials)" "https://app.example.test true"
expect_match "  ... and may read Content-Range" "$(header Access-Control-Expose-Headers)" 'Content-Range'
check "GET from the second listed origin, in capitals" 200 '' -H 'Origin: HTTP://LOCALHOST:5173' "$A/items"
expect "  ... is allowed (origins compare without case)" "$(header Access-Control-Allow-Origin)" HTTP://LOCALHOST:5173
preflight "preflight from a listed origin" 200 http://localhost:5173
expect "  ... allows it" "$(header Access-Control-Allow-Origin)" http://localhost:5173
expect_match "  ... with the methods" "$(header Access-Control-Allow-Methods)" '^GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS$'
expect "  ... and the headers asked for, for a day" \
	"$(header Access-Control-Allow-Headers) / $(header Access-Control-Max-Age)" "authorization, prefer / 86400"
for origin in https://evil.example.test https://app.example.test.evil.test http://app.example.test \
	https://app.example.test:8443 http://localhost:5174 null; do
	check "GET from $origin (not listed)" 200 '"pallet"' -H "Origin: $origin" "$A/items?order=id"
	expect "  ... gets no CORS header: the browser keeps the answer from the page" \
		"$(grep -ci '^Access-Control-' "$WORK/headers")" 0
done
preflight "preflight from an origin not listed" 200 https://evil.example.test
expect "  ... allows nothing" "$(grep -ci '^Access-Control-' "$WORK/headers")" 0
expect_match "Vary names Origin" "$(header Vary)" '(^|, )Origin(,|$)'
kill "$API_PID"; wait "$API_PID" 2>/dev/null

echo "# from a config file"
printf 'db-uri = "%s"\ndb-anon-role = web_anon\nserver-cors-allowed-origins = "https://ops.example.test"\n' \
	"$DB_URI" > "$WORK/cors.conf"
PORT=$(free_port)
FREIGHT_API_PORT=$PORT FREIGHT_ACCESS_LOG=0 "$API" "$WORK/cors.conf" > "$WORK/api.out" 2> "$WORK/api.err" &
API_PID=$!
e2e_track "$API_PID"
e2e_wait_up "http://127.0.0.1:$PORT/api/health" "$API_PID" || e2e_abort "$WORK/api.err"
A="http://127.0.0.1:$PORT/api"
check "server-cors-allowed-origins in the file: listed" 200 '' -H 'Origin: https://ops.example.test' "$A/items"
expect "  ... allowed" "$(header Access-Control-Allow-Origin)" https://ops.example.test
check "  ... and another origin" 200 '' -H 'Origin: https://app.example.test' "$A/items"
expect "  ... not" "$(grep -ci '^Access-Control-' "$WORK/headers")" 0
kill "$API_PID"; wait "$API_PID" 2>/dev/null

echo "# lists that are not origins stop the daemon at start"
refuses "an origin with a path" 'https://app.example.test/' '"https://app.example.test/" is not an origin'
refuses "a host without a scheme" 'app.example.test' '"app.example.test" is not an origin'
refuses "a wildcard" 'https://*.example.test' '"https://*.example.test" is not an origin'
refuses "a port that is no port" 'http://localhost:123456' '"http://localhost:123456" is not an origin'
refuses "one bad entry among good ones" 'https://a.example.test, ftp//b' '"ftp//b" is not an origin'
refuses "commas only" ' , ,' 'lists no origin; leave it unset to allow any'

echo "# headless Chromium"
if [ -x /usr/bin/chromium ] && [ -d "$HERE/node_modules/playwright-core" ]; then
	PAGE_PORT=$(free_port)
	OTHER_PORT=$(free_port)
	e2e_api FREIGHT_DB_URI="$DB_URI" FREIGHT_DB_ANON_ROLE=web_anon FREIGHT_JWT_SECRET="$SECRET" \
		FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 \
		FREIGHT_CORS_ALLOWED_ORIGINS="http://127.0.0.1:$PAGE_PORT" || e2e_abort "$WORK/api.err"
	TOKEN=$(FREIGHT_JWT_SECRET="$SECRET" "$API" --sign-jwt '{"role":"web_user"}')
	e2e_client api_cors.mjs API_URL="http://127.0.0.1:$PORT/api" TOKEN="$TOKEN" \
		PAGE_PORT="$PAGE_PORT" OTHER_PORT="$OTHER_PORT"
else
	echo "skipped: /usr/bin/chromium not installed (make deps installs it)"
fi
e2e_finish
