#!/bin/sh
# test/e2e/api_jwks.sh — freight-api with jwt-secret as a JWK Set or a single JWK (PostgREST's
# JWKS), end to end (own cluster, real HTTP on 127.0.0.1): RS256 tokens verify with the RSA key
# their kid names, or without kid with any RSA key of the set; HS256 with the oct key; ES256 and
# ES384 with EC keys (P-256, P-384) of a set or a PEM key; wrong keys, unknown kids, alg none, a
# curve that does not fit the alg and HS/RS/ES confusion are 401; a bad JWKS or EC key stops the
# daemon at start with a clear message.  Key rotation: jwt-secret=@file, rewritten, then SIGUSR1
# (or NOTIFY pgrst, 'reload config') swaps the keys, also under load; a broken file keeps the
# current keys.  freight-api --sign-jwt reads FREIGHT_JWT_SECRET=@file, or a config file's
# jwt-secret, as the daemon reads jwt-secret (its tokens are accepted; a missing, unreadable or
# public-key file fails with exit status 1, no secret or a bad config file with 2).
# jwt-secret-is-base64 decodes an HMAC secret (the tokens of the decoded bytes pass, those of the
# text do not; a secret that is not base64 stops the daemon). Keys and tokens come from
# api_jwks.mjs (node's crypto). Ends with "N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_setup api-jwks
e2e_cluster jwkstest "-c max_connections=20"
e2e_sql jwkstest "$HERE/api_roles.sql" - <<'SQL'
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon, web_user;
CREATE FUNCTION api.whoami() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_user::text $$;
SQL
node "$HERE/api_jwks.mjs" "$WORK" || e2e_abort
. "$WORK/tokens.sh"
. "$WORK/bad-ec.sh"

# start_api SECRET: the daemon with jwt-secret = SECRET on a free port; sets PORT and API_PID
start_api() {
	e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" FREIGHT_DB_ANON_ROLE=web_anon \
		FREIGHT_JWT_SECRET="$1" FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0
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
	e2e_refuses "$1" "$3" FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" FREIGHT_JWT_SECRET="$2"
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

echo "# EC keys in the JWK Set"
start_api "$(cat "$WORK/jwks.json")"
who "ES256 with kid e1 (P-256)" "$ES256_E1" 200 '"web_user"'
who "ES256 without kid: the P-256 key verifies" "$ES256_E1_NOKID" 200 '"web_user"'
who "ES384 with kid e2 (P-384)" "$ES384_E2" 200 '"web_user"'
who "ES384 without kid" "$ES384_E2_NOKID" 200 '"web_user"'
who "ES256 by a key outside the set" "$ES256_STRANGER" 401 '"code":"PGRST301".*JWT invalid signature'
who "ES256 with a DER signature instead of r||s" "$ES256_E1_DER" 401 'JWT invalid signature'
who "ES256 signed by the P-384 key" "$ES256_BY_P384" 401 'JWT invalid signature'
who "ES384 signed by the P-256 key" "$ES384_BY_P256" 401 'JWT invalid signature'
stop_api

echo "# a PEM EC key (P-256), then P-384"
start_api "$(cat "$WORK/e1.pem")"
who "ES256 by the PEM key" "$ES256_E1" 200 '"web_user"'
who "ES384 against a P-256 key: wrong curve for the alg" "$ES384_BY_P256" 401 '"code":"PGRST301".*algorithm not allowed: expected ES256"'
who "ES256 by another P-256 key" "$ES256_STRANGER" 401 'JWT invalid signature'
who "HS256 keyed with the PEM text (alg confusion)" "$HS_WITH_EC_PEM" 401 'algorithm not allowed: expected ES256"'
who "RS256 against an EC key" "$RS_K1" 401 'algorithm not allowed: expected ES256"'
who "alg none against an EC key" "$NONE_EC" 401 'algorithm not allowed'
stop_api
start_api "$(cat "$WORK/e2.pem")"
who "ES384 by the PEM P-384 key" "$ES384_E2" 200 '"web_user"'
who "ES256 against a P-384 key" "$ES256_BY_P384" 401 'algorithm not allowed: expected ES384"'
stop_api

echo "# a single JWK (RSA, no kid)"
start_api "$(cat "$WORK/jwk.json")"
who "RS256 by that key, whatever its kid" "$RS_K1" 200 '"web_user"'
who "RS256 by another key" "$RS_K2" 401 'JWT invalid signature'
who "HS256 against an RSA-only key" "$HS_H1" 401 'expected RS256, RS384 or RS512'
who "ES256 against an RSA-only key" "$ES256_E1" 401 'expected RS256, RS384 or RS512'
stop_api

echo "# a single oct JWK"
start_api "$(jq -c '.keys[2]' "$WORK/jwks.json")"
who "HS256 by the oct key" "$HS_H1" 200 '"web_user"'
who "ES256 against an oct key" "$ES256_E1" 401 'algorithm not allowed: expected HS256, HS384 or HS512"'
stop_api

echo "# key rotation: jwt-secret=@file, SIGUSR1 and NOTIFY pgrst, 'reload config'"
# log_waits EVENT N: waits until api.err has N lines of EVENT
log_waits() {
	for _ in $(seq 1 50); do
		[ "$(grep -c "\"event\":\"$1\"" "$WORK/api.err")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
cp "$WORK/rot-e1.json" "$WORK/rot.json"
start_api "@$WORK/rot.json"
who "before rotation: e1 verifies" "$ES256_E1" 200 '"web_user"'
who "before rotation: e3 is unknown" "$ES256_E3" 401 'JWT kid matches no key'
cp "$WORK/rot-e3.json" "$WORK/rot.json"
kill -USR1 "$API_PID"
if log_waits jwt_keys_loaded 1; then pass "SIGUSR1 logs the reload"; else fail "no jwt_keys_loaded line: $(cat "$WORK/api.err")"; fi
who "after rotation: e3 verifies" "$ES256_E3" 200 '"web_user"'
who "after rotation: e1 (verified and cached before) is refused" "$ES256_E1" 401 '"code":"PGRST301".*JWT kid matches no key'
echo '{"keys":[{"kty":"EC","crv":"P-256"' > "$WORK/rot.json"
kill -USR1 "$API_PID"
if log_waits jwt_keys_reload_failed 1 &&
	grep '"event":"jwt_keys_reload_failed"' "$WORK/api.err" | jq -e '.level == "warning" and (.message | test("not a valid JWK"))' > /dev/null; then
	pass "a broken file logs a JSON warning"
else
	fail "no jwt_keys_reload_failed warning: $(cat "$WORK/api.err")"
fi
who "a broken file keeps the current keys" "$ES256_E3" 200 '"web_user"'
rm "$WORK/rot.json"
kill -USR1 "$API_PID"
if log_waits jwt_keys_reload_failed 2 && grep -q '"event":"jwt_keys_reload_failed","message":"jwt-secret: cannot read @' "$WORK/api.err"; then
	pass "a missing file logs a warning"
else
	fail "no warning for a missing file: $(cat "$WORK/api.err")"
fi
who "a missing file keeps the current keys" "$ES256_E3" 200 '"web_user"'
cp "$WORK/rot-e1.json" "$WORK/rot.json"
$PSQL -d jwkstest -c "NOTIFY pgrst, 'reload config'"
log_waits jwt_keys_loaded 2
who "NOTIFY pgrst, 'reload config' re-reads the file: e1 verifies" "$ES256_E1" 200 '"web_user"'
who "and e3 is refused" "$ES256_E3" 401 'JWT kid matches no key'
# under load: four clients, 60 requests each, while the same keys are reloaded 20 times
CLIENTS=""
for c in 1 2 3 4; do
	(for _ in $(seq 1 60); do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ES256_E1" "http://127.0.0.1:$PORT/api/rpc/whoami"
	done > "$WORK/load.$c") &
	CLIENTS="$CLIENTS $!"
done
for _ in $(seq 1 20); do kill -USR1 "$API_PID"; sleep 0.05; done
# shellcheck disable=SC2086
wait $CLIENTS
codes=$(cat "$WORK"/load.? | sort | uniq -c | tr -s ' ' | tr '\n' ';')
if [ "$codes" = " 240 200;" ] && kill -0 "$API_PID"; then
	pass "240 requests during 20 reloads: all 200, the daemon lives"
else
	fail "requests during reloads: $codes"
fi
stop_api

echo "# freight-api --sign-jwt reads jwt-secret=@file as the daemon does"
# sign SECRET: --sign-jwt of a web_user token with FREIGHT_JWT_SECRET=SECRET (stderr: sign.err)
sign() { FREIGHT_JWT_SECRET="$1" "$API" --sign-jwt '{"role":"web_user","sub":"cli"}' 2> "$WORK/sign.err"; }
# sign_fails NAME SECRET MESSAGE: --sign-jwt exits 1 with MESSAGE on stderr and prints no token
sign_fails() {
	out=$(sign "$2")
	rc=$?
	if [ "$rc" = 1 ] && [ -z "$out" ] && grep -Fq -- "$3" "$WORK/sign.err"; then
		pass "$1"
	else
		fail "$1 (exit $rc, stdout '$out'; stderr: $(head -c 300 "$WORK/sign.err"))"
	fi
}
HS_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$HS_SECRET" > "$WORK/hs.secret"
expect "--sign-jwt with @file signs with the file's secret (as the inline secret does)" \
	"$(sign "@$WORK/hs.secret")" "$(sign "$HS_SECRET")"
start_api "@$WORK/hs.secret"
who "a token of --sign-jwt with @file is accepted by the daemon given the same @file" "$(sign "@$WORK/hs.secret")" 200 '"web_user"'
who "a token of --sign-jwt with another secret is refused" "$(sign "x$HS_SECRET")" 401 'JWT invalid signature'
stop_api
start_api "@$WORK/jwks.json"
who "--sign-jwt with @file of a JWK Set signs with its oct key" "$(sign "@$WORK/jwks.json")" 200 '"web_user"'
stop_api
sign_fails "--sign-jwt with a missing @file fails clearly" "@$WORK/none.secret" "freight-api: --sign-jwt: jwt-secret: cannot read @$WORK/none.secret: No such file or directory"
chmod 000 "$WORK/hs.secret"
sign_fails "--sign-jwt with an unreadable @file fails clearly" "@$WORK/hs.secret" "cannot read @$WORK/hs.secret: Permission denied"
chmod 600 "$WORK/hs.secret"
sign_fails "--sign-jwt with @file of a public key cannot sign" "@$WORK/e1.pem" 'jwt-secret holds no HMAC secret to sign HS256 with'
printf 'short\n' > "$WORK/short.secret"
sign_fails "--sign-jwt with @file of a short secret" "@$WORK/short.secret" 'an HMAC secret must have at least 32 characters'
out=$(FREIGHT_JWT_SECRET="$HS_SECRET" "$API" --sign-jwt 'role=web_user' 2> "$WORK/sign.err")
rc=$?
if [ "$rc" = 1 ] && [ -z "$out" ] && grep -q 'CLAIMS must be a JSON object' "$WORK/sign.err"; then
	pass "--sign-jwt refuses claims that are not a JSON object"
else
	fail "--sign-jwt refuses claims that are not a JSON object (exit $rc; stderr: $(cat "$WORK/sign.err"))"
fi

echo "# freight-api --sign-jwt reads a config file's jwt-secret"
CLAIMS='{"role":"web_user","sub":"cli"}'
printf '# signing only\njwt-secret = "@%s"\n' "$WORK/hs.secret" > "$WORK/sign.conf"
printf 'db-anon-role = web_anon\n' > "$WORK/nosecret.conf"
expect "--sign-jwt CLAIMS FILE signs with the file's jwt-secret" \
	"$(env -u FREIGHT_JWT_SECRET "$API" --sign-jwt "$CLAIMS" "$WORK/sign.conf" 2>&1)" "$(sign "$HS_SECRET")"
expect "--sign-jwt with FREIGHT_CONFIG=FILE does the same" \
	"$(env -u FREIGHT_JWT_SECRET FREIGHT_CONFIG="$WORK/sign.conf" "$API" --sign-jwt "$CLAIMS" 2>&1)" "$(sign "$HS_SECRET")"
expect "FREIGHT_JWT_SECRET wins over the file's jwt-secret, as for the daemon" \
	"$(FREIGHT_JWT_SECRET="x$HS_SECRET" "$API" --sign-jwt "$CLAIMS" "$WORK/sign.conf" 2>&1)" "$(sign "x$HS_SECRET")"
# sign_exits NAME STATUS MESSAGE ARGS...: --sign-jwt CLAIMS ARGS (no FREIGHT_JWT_SECRET) exits
# with STATUS, MESSAGE on stderr, no token
sign_exits() {
	name=$1 status=$2 message=$3
	shift 3
	out=$(env -u FREIGHT_JWT_SECRET "$API" --sign-jwt "$CLAIMS" "$@" 2> "$WORK/sign.err")
	rc=$?
	if [ "$rc" = "$status" ] && [ -z "$out" ] && grep -Fq -- "$message" "$WORK/sign.err"; then
		pass "$name"
	else
		fail "$name (exit $rc, stdout '$out'; stderr: $(head -c 300 "$WORK/sign.err"))"
	fi
}
sign_exits "--sign-jwt with a config file that has no jwt-secret" 2 \
	"--sign-jwt needs a jwt-secret: FREIGHT_JWT_SECRET or the config file's jwt-secret" "$WORK/nosecret.conf"
sign_exits "--sign-jwt without any jwt-secret" 2 "--sign-jwt needs a jwt-secret"
sign_exits "--sign-jwt with a missing config file" 2 \
	"freight-api: --sign-jwt: cannot open config file $WORK/none.conf: No such file or directory" "$WORK/none.conf"
printf 'jwt-secret\n' > "$WORK/bad.conf"
sign_exits "--sign-jwt with a malformed config file" 2 "$WORK/bad.conf:1: expected key = value" "$WORK/bad.conf"
sign_exits "--sign-jwt with too many arguments" 2 "usage: freight-api --sign-jwt CLAIMS [config-file]" "$WORK/sign.conf" extra

echo "# bad JWKS at start"
refuses "not JSON" '{"keys":[' 'jwt-secret: not a valid JWK or JWK Set'
refuses "empty set" '{"keys":[]}' '"keys" of a JWK Set must be a non-empty array'
refuses "unsupported kty" '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}' 'JWK 1: unsupported "kty"'
refuses "EC key on P-521" "$BAD_EC_CRV" 'JWK 2: an EC key'"'"'s "crv" must be P-256 or P-384'
refuses "EC key with a short x" "$BAD_EC_SHORT_X" 'JWK 2: an EC key on P-256 needs "x" and "y" of 32 bytes each'
refuses "EC key without y" "$BAD_EC_NO_Y" 'JWK 2: an EC key on P-256 needs "x" and "y"'
refuses "EC point off the curve" "$BAD_EC_OFF_CURVE" 'JWK 2: the EC point ("x", "y") is not on the curve'
refuses "P-256 key with alg ES384" "$BAD_EC_ALG" 'JWK 2: a P-256 key'"'"'s "alg" must be ES256'
refuses "PEM EC key on secp256k1" "$(cat "$WORK/k256.pem")" 'the PEM EC key is on curve secp256k1'
refuses "@file that does not exist" "@$WORK/none.json" "jwt-secret: cannot read @$WORK/none.json"
refuses "RSA key without n" '{"kty":"RSA","e":"AQAB"}' 'an RSA key needs "n" and "e"'
refuses "short RSA modulus" '{"kty":"RSA","n":"AQAB","e":"AQAB"}' 'at least 2048 bits'
refuses "oct key too short" '{"kty":"oct","k":"c2hvcnQ"}' 'at least 32 bytes'
refuses "second key broken" "$(jq -c '.keys += [{"kty":"oct"}]' "$WORK/jwks.json")" 'JWK 6: a symmetric (oct) key needs "k"'

echo "# jwt-secret-is-base64"
B64=4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAQIDBAUGBw==
e2e_api FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" FREIGHT_DB_ANON_ROLE=web_anon \
	FREIGHT_JWT_SECRET="$B64" FREIGHT_JWT_SECRET_IS_BASE64=true FREIGHT_DB_POOL=2 FREIGHT_ACCESS_LOG=0 ||
	e2e_abort "$WORK/api.err"
who "a token signed with the decoded secret (--sign-jwt, same settings)" \
	"$(FREIGHT_JWT_SECRET="$B64" FREIGHT_JWT_SECRET_IS_BASE64=true "$API" --sign-jwt '{"role":"web_user"}')" 200 '"web_user"'
who "a token signed with the base64 text itself is 401" \
	"$(FREIGHT_JWT_SECRET="$B64" "$API" --sign-jwt '{"role":"web_user"}')" 401 'PGRST301'
stop_api
e2e_refuses "jwt-secret-is-base64 with a secret that is not base64 stops the daemon" \
	'jwt-secret: jwt-secret-is-base64 is on, but the secret is not base64' \
	FREIGHT_DB_URI="postgresql://authenticator@127.0.0.1:$PGPORT/jwkstest" \
	FREIGHT_JWT_SECRET='0123456789abcdef0123456789abcdef!' FREIGHT_JWT_SECRET_IS_BASE64=on

e2e_finish
