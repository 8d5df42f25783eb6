#!/bin/sh
# run.sh — `make run`: a local freight cluster in ./.freight with demo data, then what to try.
#
# Idempotent: an existing cluster is started (not re-created), demo data is loaded once.
set -e
. "$(dirname "$0")/env.sh"

mkdir -p "$FREIGHT_HOME/run"
[ -n "$AS" ] && chown freight "$FREIGHT_HOME" "$FREIGHT_HOME/run"

# The key-encryption key lives outside the data directory and never enters the database.
if [ ! -f "$KEYFILE" ]; then
	$AS sh -c "umask 077; openssl rand -hex 32 > '$KEYFILE'"
	echo "run: generated key-encryption key $KEYFILE (back it up: without it nothing decrypts)"
fi

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	echo "run: initdb $PGDATA"
	$AS "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$FREIGHT_HOME/initdb.log"
	cat >> "$PGDATA/postgresql.conf" <<CONF

# --- freight (written by make run) ---
listen_addresses = '127.0.0.1'
port = $FREIGHT_PGPORT
unix_socket_directories = '$FREIGHT_HOME/run'
shared_preload_libraries = 'freight'
freight.key_file = '$KEYFILE'
freight.database = 'freight'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
output_plugin_libraries = 'pgoutput, test_decoding, freight, wal2json'
log_line_prefix = '%m [%p] %q%u@%d '
CONF
fi

# A rebuilt extension needs a restarted server (freight.so is preloaded) and, since the install
# script is not versioned during development, a fresh database: demo data is reloaded.
BUILD_ID=$(cat "$($PGBIN/pg_config --pkglibdir)/freight.so" "$($PGBIN/pg_config --sharedir)"/extension/freight--*.sql | md5sum | cut -c1-32)
REBUILT=""
if [ -f "$FREIGHT_HOME/build.id" ] && [ "$(cat "$FREIGHT_HOME/build.id")" != "$BUILD_ID" ]; then
	echo "run: freight was rebuilt since this cluster was set up: restarting it with fresh demo data"
	sh "$FREIGHT_SRC/contrib/local/stop.sh" > /dev/null
	REBUILT=1
fi

if ! $AS "$PGBIN/pg_ctl" -D "$PGDATA" status > /dev/null 2>&1; then
	$AS "$PGBIN/pg_ctl" -D "$PGDATA" -l "$FREIGHT_HOME/postgres.log" -w start > /dev/null
	echo "run: PostgreSQL started on 127.0.0.1:$FREIGHT_PGPORT (log: $FREIGHT_HOME/postgres.log)"
fi

if [ -n "$REBUILT" ]; then
	# The CDC worker's logical slot belongs to the old database and PostgreSQL refuses to drop a
	# database with slots: end the worker's hold on it and drop it first (the worker comes back,
	# waits for the new database and makes a new slot there).
	for _ in $(seq 1 50); do
		$PSQL -d postgres -tAc "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
			WHERE database = 'freight' AND active_pid IS NOT NULL" > /dev/null
		$PSQL -d postgres -tAc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = 'freight' AND NOT active" > /dev/null 2>&1
		[ "$($PSQL -d postgres -tAc "SELECT count(*) FROM pg_replication_slots WHERE database = 'freight'")" = 0 ] && break
		sleep 0.1
	done
	$PSQL -d postgres -c "DROP DATABASE IF EXISTS freight WITH (FORCE)"
fi
if [ "$($PSQL -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'freight'")" != 1 ]; then
	$PSQL -d postgres -c "CREATE DATABASE freight"
fi
$PSQL -d freight -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS freight CASCADE"
# Change capture starts when the CDC worker has its slot (it looks for the extension every second;
# after the database was re-created it first restarts to connect to it).
for _ in $(seq 1 30); do
	[ "$($PSQL -d freight -tAc "SELECT count(*) FROM freight.cdc_status")" = 1 ] && break
	sleep 1
done
if [ "$($PSQL -d freight -tAc "SELECT count(*) > 0 FROM freight.customers")" != t ]; then
	echo "run: loading demo data (customers, 50 drivers, 10,000 shipments, invoices)"
	$PSQL -d freight -v ON_ERROR_STOP=1 < "$FREIGHT_SRC/contrib/local/demo.sql" > /dev/null
fi

echo "$BUILD_ID" > "$FREIGHT_HOME/build.id"

for hook in "$FREIGHT_SRC"/contrib/local/run.d/*.sh; do
	[ -f "$hook" ] && . "$hook"
done
# The showcase runs psql as the cluster's OS user, and reads the demo credentials.
[ -n "$AS" ] && [ -f "$FREIGHT_HOME/demo.env" ] && chown freight "$FREIGHT_HOME/demo.env"

$PSQL -d freight < "$FREIGHT_SRC/contrib/local/showcase.sql"

cat <<TXT

freight is running.
  SQL:   psql -h 127.0.0.1 -p $FREIGHT_PGPORT -U postgres freight
  data:  $FREIGHT_HOME   (key-encryption key: $KEYFILE)
  stop:  make stop        wipe: make clean-run
TXT
[ -f "$FREIGHT_HOME/demo.env" ] && { echo "  demo credentials: $FREIGHT_HOME/demo.env"; }
exit 0
