#!/bin/sh
# test/e2e/api_memory.sh — freight-api under a long stream of bad input (own cluster, real HTTP
# on 127.0.0.1): 35,400 requests of 18 kinds — malformed filters and selects, unknown columns,
# embeddings, functions and routes, alg none, expired, foreign and garbage JWTs (a new one every
# time, as a new valid token is), invalid JSON, bodies over server-max-body, duplicate keys,
# SQL-injection strings — each gets its own status, the table is untouched, and the daemon's
# resident memory does not grow (a leak of 70 bytes a request would show).  Ends with
# "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-memory
e2e_cluster memtest
e2e_sql memtest "$HERE/api_roles.sql" - <<'SQL'
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon, web_user;
CREATE TABLE api.items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO api.items SELECT g, 'item-' || g FROM generate_series(1, 10) g;
GRANT SELECT ON api.items TO web_anon;
GRANT SELECT, INSERT ON api.items TO web_user;
SQL
SECRET=memory-secret-0123456789abcdef0123456

e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/memtest" FREIGHT_DB_ANON_ROLE=web_anon \
	FREIGHT_JWT_SECRET=$SECRET FREIGHT_DB_POOL=4 FREIGHT_API_THREADS=2 FREIGHT_ACCESS_LOG=0 \
	FREIGHT_MAX_BODY=4096 || e2e_abort "$WORK/api.err"

e2e_client api_memory.mjs API_URL="http://127.0.0.1:$PORT/api" API_PID="$API_PID" JWT_SECRET="$SECRET"
expect "the table is untouched: 10 rows, none named dup" \
	"$($PSQL -d memtest -tAc "SELECT count(*), count(*) FILTER (WHERE name = 'dup') FROM api.items")" "10|0"
e2e_finish "$API_PID"
