# 30_replicas.sh — `make stop`: stop the local replica that FREIGHT_REPLICAS=1 started.
if [ -f "$FREIGHT_HOME/replica1/PG_VERSION" ]; then
	$AS "$PGBIN/pg_ctl" -D "$FREIGHT_HOME/replica1" -m fast -w stop > /dev/null 2>&1 && echo "stop: replica stopped"
fi
