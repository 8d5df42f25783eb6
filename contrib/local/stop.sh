#!/bin/sh
# stop.sh — `make stop`: stop everything `make run` started (the API, replicas, the cluster).
. "$(dirname "$0")/env.sh"
for hook in "$FREIGHT_SRC"/contrib/local/stop.d/*.sh; do
	[ -f "$hook" ] && . "$hook"
done
if [ -f "$PGDATA/PG_VERSION" ]; then
	$AS "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop 2>/dev/null && echo "stop: PostgreSQL stopped"
fi
exit 0
