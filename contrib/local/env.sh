# env.sh — settings shared by run.sh and stop.sh (sourced, not run).
FREIGHT_SRC=$(cd "$(dirname "$0")/../.." && pwd)
FREIGHT_HOME="$FREIGHT_SRC/.freight"
PGBIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
FREIGHT_PGPORT=${FREIGHT_PGPORT:-5433}
FREIGHT_API_PORT=${FREIGHT_API_PORT:-3000}
PGDATA="$FREIGHT_HOME/data"
KEYFILE="$FREIGHT_HOME/kek.key"
# PostgreSQL refuses to run as root: as root, run the cluster as the OS user freight.
if [ "$(id -u)" = 0 ]; then
	AS="runuser -u freight --"
else
	AS=""
fi
PSQL="$AS $PGBIN/psql -X -q -h 127.0.0.1 -p $FREIGHT_PGPORT -U postgres"
