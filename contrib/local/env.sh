# env.sh — settings shared by run.sh and stop.sh (sourced, not run).
FREIGHT_SRC=$(cd "$(dirname "$0")/../.." && pwd)
FREIGHT_HOME="$FREIGHT_SRC/.freight"
PGBIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
FREIGHT_PGPORT=${FREIGHT_PGPORT:-5433}
FREIGHT_API_PORT=${FREIGHT_API_PORT:-3000}
# PostgreSQL runs as the OS user freight; a checkout under a private directory (such as /root)
# is out of its reach, so the state then lives under /var/lib/freight with ./.freight a link.
if [ "$(id -u)" = 0 ] && [ ! -e "$FREIGHT_HOME" ] && id freight > /dev/null 2>&1 &&
	! runuser -u freight -- test -x "$FREIGHT_SRC"; then
	state="/var/lib/freight/$(echo "$FREIGHT_SRC" | md5sum | cut -c1-12)"
	mkdir -p "$state"
	chown freight "$state"
	ln -s "$state" "$FREIGHT_HOME"
	echo "note: $FREIGHT_SRC is private to root; state is kept in $state (linked as .freight)"
fi
[ -L "$FREIGHT_HOME" ] && FREIGHT_HOME=$(readlink -f "$FREIGHT_HOME")
PGDATA="$FREIGHT_HOME/data"
KEYFILE="$FREIGHT_HOME/kek.key"
# PostgreSQL refuses to run as root: as root, run the cluster as the OS user freight.
if [ "$(id -u)" = 0 ]; then
	AS="runuser -u freight --"
else
	AS=""
fi
PSQL="$AS $PGBIN/psql -X -q -h 127.0.0.1 -p $FREIGHT_PGPORT -U postgres"
