# 30_replicas.sh — `make run` with FREIGHT_REPLICAS=1: a streaming replica of the local cluster on
# 127.0.0.1:$FREIGHT_REPLICA_PORT (default 5434), made by contrib/dba/freightctl (its own
# replication slot and its own copy of the key-encryption key file), so that the API's read
# routing has a replica to send reads to.  Sourced by contrib/local/run.sh before the API starts;
# exports FREIGHT_DB_REPLICA_URI for it.
if [ "${FREIGHT_REPLICAS:-0}" != 0 ]; then
	FREIGHT_REPLICA_PORT=${FREIGHT_REPLICA_PORT:-5434}
	REPLICA_DIR="$FREIGHT_HOME/replica1"
	if [ ! -f "$REPLICA_DIR/PG_VERSION" ]; then
		FREIGHT_HOME="$FREIGHT_HOME" FREIGHT_PGHOST=127.0.0.1 FREIGHT_PGPORT="$FREIGHT_PGPORT" \
			"$FREIGHT_SRC/contrib/dba/freightctl" replica add replica1 --into "$REPLICA_DIR" \
			--port "$FREIGHT_REPLICA_PORT" | sed 's/^freightctl: /run: /'
	elif ! $AS "$PGBIN/pg_ctl" -D "$REPLICA_DIR" status > /dev/null 2>&1; then
		$AS "$PGBIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR.log" -w start > /dev/null
		echo "run: replica started on 127.0.0.1:$FREIGHT_REPLICA_PORT (log: $REPLICA_DIR.log)"
	fi
	# Let it replay what the primary wrote while it was down (a re-created database, say) before
	# the API routes reads to it.
	target=$($PSQL -d postgres -tAc "SELECT pg_current_wal_lsn()")
	for _ in $(seq 1 100); do
		[ "$($PSQL -d postgres -p "$FREIGHT_REPLICA_PORT" -tAc \
			"SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn" 2> /dev/null)" = t ] && break
		sleep 0.2
	done
	export FREIGHT_DB_REPLICA_URI="postgresql://freight_authenticator@127.0.0.1:$FREIGHT_REPLICA_PORT/freight?application_name=freight-api"
fi
