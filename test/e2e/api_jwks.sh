#!/bin/sh
# test/e2e/api_jwks.sh — freight-api with jwt-secret as a JWK Set or a single JWK (PostgREST's
# JWKS), end to end (own cluster, real HTTP on 127.0.0.1): RS256 tokens verify with the RSA key
# their kid names, or without kid with any RSA key of the set; HS256 with the oct key; wrong
# keys, unknown kids, alg none and HS/RS confusion are 401; a bad JWKS stops the daemon at start
# with a clear message.  Keys and tokens come from api_jwks.mjs (node's crypto).  Ends with
# "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-jwks
e2e_cluster jwkstest "-c max_connections=20"
$PSQL -d jwkstest -v ON_ERROR_STOP=1 > "$WORK/schema.log" 2>&1 <<'SQL' || { cat "$WORK/schema.log"; exit 1; }
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
CREATE ROLE web_user NOLOGIN;
GRANT web_anon, web_user TO authenticator;
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon, web_user;
CREATE FUNCTION api.whoami() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_user::text $$;
SQL
node "$HERE/api_jwks.mjs" "$WORK" || { echo "0 passed, 1 failed"; exit 1; }
. "$WORK/tokens.sh"

# start_api SECRET: the daemon with jwt-secret = SECRET on a free port; sets PORT and API_PID
start_api() {
	PORT=$(free_port)
	FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_JWT_SECRET="$1" FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 FREIGHT_API_PORT="$PORT" \
		"$API" > "$WORK/api.out" 2> "$WORK/api.err" &
	API_PID=$!
	e2e_track "$API_PID"
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && return
		sleep 0.1
	done
}
stop_api() { kill "$API_PID"; wait "$API_PID" 2>/dev/null; API_PID=""; }
# who NAME TOKEN STATUS BODY_REGEX: GET rpc/whoami with the token ("" = none)
who() {
	got=$(curl -s -o "$WORK/body" -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} "http://127.0.0.1:$PORT/api/rpc/whoami")
	if [ "$got" = "$3" ] && grep -Eq -- "$4" "$WORK/body"; then
		pass "$1"
	else
		fail "$1 (status $got, want $3; body: $(head -c 300 "$WORK/body"))"
	fi
}
# refuses NAME SECRET MESSAGE: the daemon exits at start, saying MESSAGE on stderr
refuses() {
	FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" FREIGHT_JWT_SECRET="$2" \
		FREIGHT_API_PORT="$(free_port)" timeout 10 "$API" > /dev/null 2> "$WORK/refused.err"
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -Fq -- "$3" "$WORK/refused.err"; then
		pass "$1"
	else
		fail "$1 (exit $rc; stderr: $(head -c 300 "$WORK/refused.err"))"
	fi
}

echo "# a JWK Set: two RSA keys and an oct key"
start_api "$(cat "$WORK/jwks.json")"
who "RS256 with kid k1" "$RS_K1" 200 '"web_user"'
who "RS256 with kid k2" "$RS_K2" 200 '"web_user"'
who "RS256 without kid: each RSA key is tried" "$RS_K2_NOKID" 200 '"web_user"'
who "HS256 with the oct key's kid" "$HS_H1" 200 '"web_user"'
who "HS256 without kid" "$HS_NOKID" 200 '"web_user"'
who "signed by k2 but naming k1" "$RS_K2_AS_K1" 401 '"code":"PGRST301".*JWT invalid signature'
who "a kid no key has" "$RS_UNKNOWN_KID" 401 'JWT kid matches no key'
who "a key outside the set" "$RS_STRANGER" 401 'JWT invalid signature'
who "HS256 with a wrong secret" "$HS_WRONG" 401 'JWT invalid signature'
who "HS256 keyed with the public JWK (alg confusion)" "$HS_WITH_PUBLIC" 401 'JWT invalid signature'
who "alg none" "$NONE" 401 'algorithm not allowed'
who "expired, though signed by k1" "$RS_K1_EXPIRED" 401 'JWT expired'
who "no token: the anonymous role" "" 200 '"web_anon"'
stop_api

echo "# a single JWK (RSA, no kid)"
start_api "$(cat "$WORK/jwk.json")"
who "RS256 by that key, whatever its kid" "$RS_K1" 200 '"web_user"'
who "RS256 by another key" "$RS_K2" 401 'JWT invalid signature'
who "HS256 against an RSA-only key" "$HS_H1" 401 'expected RS256, RS384 or RS512'
stop_api

echo "# bad JWKS at start"
refuses "not JSON" '{"keys":[' 'jwt-secret: not a valid JWK or JWK Set'
refuses "empty set" '{"keys":[]}' '"keys" of a JWK Set must be a non-empty array'
refuses "unsupported kty" '{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}' 'JWK 1: unsupported "kty"'
refuses "RSA key without n" '{"kty":"RSA","e":"AQAB"}' 'an RSA key needs "n" and "e"'
refuses "short RSA modulus" '{"kty":"RSA","n":"AQAB","e":"AQAB"}' 'at least 2048 bits'
refuses "oct key too short" '{"kty":"oct","k":"c2hvcnQ"}' 'at least 32 bytes'
refuses "second key broken" "$(jq -c '.keys += [{"kty":"oct"}]' "$WORK/jwks.json")" 'JWK 4: a symmetric (oct) key needs "k"'

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
