#!/bin/sh
# test/e2e/api_freight.sh — freight-api over the real freight extension: row-level security
# through the api views, embedding through the views' base-table foreign keys, public tracking,
# writes through api functions, API keys checked by freight.authenticate_api_key and limited by
# freight.rate_limit, failed logins in freight.security_events.  Ends with "N passed, M failed".
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

e2e_finish
