# 50_api.sh — `make run`: start freight-api on 127.0.0.1:$FREIGHT_API_PORT and write demo
# credentials (sourced by contrib/local/run.sh with $PSQL, $AS, $FREIGHT_HOME, $FREIGHT_SRC,
# $FREIGHT_PGPORT, $FREIGHT_API_PORT set).
#
# The daemon logs in as freight_authenticator (LOGIN NOINHERIT, member of the API roles) and
# switches role per request.  Its JWT secret is generated once into .freight/jwt_secret; demo
# JWTs (admin, one customer, one driver; 30 days) and one API key per tier go to demo.env.
API_BIN="$FREIGHT_SRC/contrib/api/freight-api"
API_PIDFILE="$FREIGHT_HOME/run/api.pid"
API_CONF="$FREIGHT_HOME/api.conf"
API_URL="http://127.0.0.1:$FREIGHT_API_PORT"
DEMO_ENV="$FREIGHT_HOME/demo.env"

if [ ! -x "$API_BIN" ]; then
	echo "run: $API_BIN is not built (make -C contrib/api)" >&2
	return 1
fi
if [ ! -f "$FREIGHT_HOME/jwt_secret" ]; then
	(umask 077; openssl rand -hex 32 > "$FREIGHT_HOME/jwt_secret")
	[ -n "$AS" ] && chown freight "$FREIGHT_HOME/jwt_secret"
fi
JWT_SECRET=$(cat "$FREIGHT_HOME/jwt_secret")

$PSQL -d freight -v ON_ERROR_STOP=1 > /dev/null <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'freight_authenticator') THEN
		CREATE ROLE freight_authenticator LOGIN NOINHERIT;
	END IF;
END
$$;
GRANT freight_admin, freight_app, freight_customer, freight_driver, freight_partner, freight_anon
	TO freight_authenticator;
SQL

# The replica for read routing (run.d/30_replicas.sh exports its URI when FREIGHT_REPLICAS=1).
REPLICA_LINE="# no replica (FREIGHT_REPLICAS=1 make run starts one)"
[ -n "${FREIGHT_DB_REPLICA_URI:-}" ] && REPLICA_LINE="db-replica-uri = $FREIGHT_DB_REPLICA_URI"
OLD_API_CONF=$(cat "$API_CONF" 2> /dev/null)
(umask 077; cat > "$API_CONF" <<CONF
# freight-api configuration written by make run (contrib/local/run.d/50_api.sh)
db-uri = postgresql://freight_authenticator@127.0.0.1:$FREIGHT_PGPORT/freight?application_name=freight-api
db-schemas = api
db-anon-role = freight_anon
jwt-secret = $JWT_SECRET
db-pool = 8
# aggregates in select= (off by default, as in PostgREST: a grouped query can be costly)
db-aggregates-enabled = true
server-host = 127.0.0.1
server-port = $FREIGHT_API_PORT
$REPLICA_LINE
CONF
)
[ -n "$AS" ] && chown freight "$API_CONF"

# A running daemon keeps its configuration: restart it when the configuration changed (a replica
# added or gone).  The JWT secret is stable, so issued tokens stay valid.
if [ -f "$API_PIDFILE" ] && kill -0 "$(cat "$API_PIDFILE")" 2> /dev/null && [ "$OLD_API_CONF" != "$(cat "$API_CONF")" ]; then
	echo "run: freight-api configuration changed: restarting it"
	FREIGHT_HOME="$FREIGHT_HOME" sh "$FREIGHT_SRC/contrib/local/stop.d/50_api.sh" > /dev/null
fi
if [ -f "$API_PIDFILE" ] && kill -0 "$(cat "$API_PIDFILE")" 2> /dev/null; then
	echo "run: freight-api already running (pid $(cat "$API_PIDFILE"))"
else
	$AS sh -c "echo \$\$ > '$API_PIDFILE'; exec '$API_BIN' '$API_CONF' >> '$FREIGHT_HOME/api.log' 2>> '$FREIGHT_HOME/api.err'" &
	for _ in $(seq 1 50); do
		curl -sf -o /dev/null "$API_URL/api/health" && break
		sleep 0.2
	done
	if curl -sf -o /dev/null "$API_URL/api/health"; then
		echo "run: freight-api started on $API_URL (log: $FREIGHT_HOME/api.log, errors: $FREIGHT_HOME/api.err)"
	else
		echo "run: freight-api did not start; see $FREIGHT_HOME/api.err" >&2
		tail -n 5 "$FREIGHT_HOME/api.err" >&2
	fi
fi

# Demo credentials: tokens are re-issued on every start; API keys are created once (the clear key
# exists only in demo.env) and again when the database was re-created.
sign() { FREIGHT_JWT_SECRET="$JWT_SECRET" "$API_BIN" --sign-jwt "$1"; }
exp=$(( $(date +%s) + 30 * 86400 ))
customer_id=$($PSQL -d freight -tAc "SELECT min(id) FROM freight.customers")
driver_id=$($PSQL -d freight -tAc "SELECT min(id) FROM freight.drivers")
ADMIN_JWT=$(sign "{\"role\":\"freight_admin\",\"sub\":\"admin\",\"exp\":$exp}")
CUSTOMER_JWT=$(sign "{\"role\":\"freight_customer\",\"sub\":\"customer-$customer_id\",\"customer_id\":$customer_id,\"exp\":$exp}")
DRIVER_JWT=$(sign "{\"role\":\"freight_driver\",\"sub\":\"driver-$driver_id\",\"driver_id\":$driver_id,\"exp\":$exp}")
KEY_FREE="" KEY_PRO="" KEY_ENTERPRISE=""
if [ -f "$DEMO_ENV" ]; then
	KEY_FREE=$(sed -n 's/^FREIGHT_API_KEY_FREE=//p' "$DEMO_ENV")
	KEY_PRO=$(sed -n 's/^FREIGHT_API_KEY_PRO=//p' "$DEMO_ENV")
	KEY_ENTERPRISE=$(sed -n 's/^FREIGHT_API_KEY_ENTERPRISE=//p' "$DEMO_ENV")
fi
demo_key() {	# demo_key TIER: a new API key for the first customer of that tier
	$PSQL -d freight -tAc "SELECT k.api_key FROM freight.create_api_key(
		(SELECT min(c.id) FROM freight.customers c WHERE c.tier = '$1'), 'make run demo ($1)') k"
}
valid_key() {	# valid_key KEY: true if the key works in this database (it was re-created on a rebuild)
	[ -n "$1" ] && [ "$($PSQL -d freight -tAc "SELECT count(*) FROM freight.authenticate_api_key('$1')")" = 1 ]
}
valid_key "$KEY_FREE" || KEY_FREE=""
valid_key "$KEY_PRO" || KEY_PRO=""
valid_key "$KEY_ENTERPRISE" || KEY_ENTERPRISE=""
[ -n "$KEY_FREE" ] || KEY_FREE=$(demo_key free)
[ -n "$KEY_PRO" ] || KEY_PRO=$(demo_key pro)
[ -n "$KEY_ENTERPRISE" ] || KEY_ENTERPRISE=$(demo_key enterprise)
(umask 077; cat > "$DEMO_ENV" <<ENV
# freight demo credentials (make run).  Use: . ./.freight/demo.env
FREIGHT_API_URL=$API_URL/api
FREIGHT_ADMIN_JWT=$ADMIN_JWT
FREIGHT_CUSTOMER_JWT=$CUSTOMER_JWT
FREIGHT_DRIVER_JWT=$DRIVER_JWT
FREIGHT_API_KEY_FREE=$KEY_FREE
FREIGHT_API_KEY_PRO=$KEY_PRO
FREIGHT_API_KEY_ENTERPRISE=$KEY_ENTERPRISE
ENV
)
# for the HTTP lines of showcase.sql (psql \\! runs a shell with this environment)
export FREIGHT_HOME FREIGHT_API_PORT
cat <<TXT

freight-api: $API_URL/api/   (OpenAPI: $API_URL/api/, docs: $API_URL/api-docs, tracking page: $API_URL/,
             health: $API_URL/api/health, metrics: $API_URL/metrics)
demo credentials ($DEMO_ENV):
  admin JWT:      $ADMIN_JWT
  customer JWT:   $CUSTOMER_JWT   (customer $customer_id)
  driver JWT:     $DRIVER_JWT   (driver $driver_id)
  API keys:       free $KEY_FREE
                  pro $KEY_PRO
                  enterprise $KEY_ENTERPRISE
  try: curl -H "Authorization: Bearer \$FREIGHT_CUSTOMER_JWT" "$API_URL/api/shipments?select=tracking_number,status&limit=3"
TXT
