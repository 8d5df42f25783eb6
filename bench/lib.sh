# bench/lib.sh — shared by benchmarks (sourced): a throwaway PostgreSQL cluster with freight.
#
#   . "$(dirname "$0")/../lib.sh"
#   bench_cluster_start            # sets BENCH_DIR, BENCH_PORT, PSQL (psql to db "bench", superuser)
#   ... $PSQL -c "..." ...
#   bench_cluster_stop
#
# As root, the cluster runs as the OS user freight (PostgreSQL refuses root).
PGBIN=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
if [ "$(id -u)" = 0 ]; then AS="runuser -u freight --"; else AS=""; fi

bench_free_port() {
	port=${1:-55432}
	while $PGBIN/pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null || \
		[ "$($PGBIN/pg_isready -h 127.0.0.1 -p "$port" 2>&1 | grep -c 'no response')" = 0 ]; do
		port=$((port + 1))
	done
	echo "$port"
}

bench_cluster_start() {
	BENCH_DIR=$(mktemp -d /tmp/freight-bench.XXXXXX)
	BENCH_PORT=$(bench_free_port "${BENCH_PORT:-55432}")
	[ -n "$AS" ] && chown freight "$BENCH_DIR"
	$AS sh -c "umask 077; openssl rand -hex 32 > '$BENCH_DIR/kek.key'"
	$AS "$PGBIN/initdb" -D "$BENCH_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > /dev/null
	cat >> "$BENCH_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $BENCH_PORT
unix_socket_directories = '$BENCH_DIR'
shared_preload_libraries = 'freight'
freight.key_file = '$BENCH_DIR/kek.key'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
output_plugin_libraries = 'pgoutput, test_decoding, freight, wal2json'
shared_buffers = 512MB
max_connections = 200
${BENCH_EXTRA_CONF:-}
CONF
	$AS "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/postgres.log" -w start > /dev/null
	PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $BENCH_PORT -U postgres"
	$PSQL -d postgres -c "CREATE DATABASE bench"
	PSQL="$PSQL -d bench"
	$PSQL -c "CREATE EXTENSION freight CASCADE"
}

bench_cluster_stop() {
	$AS "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -m fast stop > /dev/null 2>&1
	rm -rf "$BENCH_DIR"
}
