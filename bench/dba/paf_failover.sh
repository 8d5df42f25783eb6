#!/bin/bash
# paf_failover.sh — one pg_auto_failover failover on loopback, for bench/dba/run.sh.
#
#   paf_failover.sh WORKDIR default|tuned
#
# A monitor and two nodes (every listener on 127.0.0.1), a writer committing through a multi-host
# connection string with target_session_attrs=read-write; then the primary "machine" dies (kill -9
# of its pg_autoctl process group, PostgreSQL included).  Prints "failover_s=N acked=N lost=N":
# seconds until a write commits again, acknowledged writes, acknowledged writes missing afterwards.
# "default" keeps pg_auto_failover's timeouts; "tuned" uses the ones test/t/082_failover.pl uses.
set -euo pipefail
W=$1
MODE=$2
B=$(pg_config --bindir)
export PATH="$B:$PATH"
D="$W/paf-$MODE"
mkdir -p "$D"/xdg/{config,data,run}
SOCK=$(mktemp -d /tmp/fpaf.XXXXXX)
export XDG_CONFIG_HOME="$D/xdg/config" XDG_DATA_HOME="$D/xdg/data" XDG_RUNTIME_DIR="$D/xdg/run" PGHOST="$SOCK"
KEEPERS=()
cleanup() {
	for k in "${KEEPERS[@]}"; do kill -KILL -- "-$k" 2>/dev/null || true; done
	for d in "$D/mon" "$D/n1" "$D/n2"; do pg_ctl -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
	rm -rf "$SOCK"
}
trap cleanup EXIT

port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
PM=$(port); P1=$(port); P2=$(port)
URI="postgres://autoctl_node@127.0.0.1:$PM/pg_auto_failover?sslmode=disable"

keeper() {	# keeper NAME PGDATA: pg_autoctl run in its own process group; sets KEEPER_PID
	setsid pg_autoctl run --pgdata "$2" >> "$D/$1.log" 2>&1 &
	KEEPER_PID=$!
	KEEPERS+=("$KEEPER_PID")
}
q() { psql -X -q -tA -d "$1" -c "$2" 2>/dev/null; }
wait_for() {	# wait_for SECONDS COMMAND...
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -lt $end ] || { echo "timeout: $*" >&2; exit 1; }; sleep 0.2; done
}

initdb -D "$D/mon" -A trust -N >/dev/null
cat >> "$D/mon/postgresql.auto.conf" <<CONF
unix_socket_directories = '$SOCK'
listen_addresses = '127.0.0.1'
shared_buffers = '64MB'
CONF
if [ "$MODE" = tuned ]; then
	cat >> "$D/mon/postgresql.auto.conf" <<CONF
pgautofailover.health_check_period = 500
pgautofailover.health_check_timeout = 500
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 200
pgautofailover.node_considered_unhealthy_timeout = 1000
pgautofailover.primary_demote_timeout = 1000
CONF
fi
pg_autoctl create monitor --pgdata "$D/mon" --pgport "$PM" --listen 127.0.0.1 --hostname 127.0.0.1 \
	--auth trust --no-ssl --pgctl "$B/pg_ctl" >> "$D/create.log" 2>&1
keeper mon "$D/mon"
wait_for 30 q "host=127.0.0.1 port=$PM dbname=pg_auto_failover" "SELECT 1" >/dev/null

node() {	# node NAME PORT
	pg_autoctl create postgres --pgdata "$D/$1" --pgport "$2" --pghost "$SOCK" --listen 127.0.0.1 \
		--hostname 127.0.0.1 --name "$1" --monitor "$URI" --auth trust --no-ssl --dbname bench \
		--pgctl "$B/pg_ctl" >> "$D/create.log" 2>&1
	echo "port = $2" >> "$D/$1/postgresql.auto.conf"
	if [ "$MODE" = tuned ]; then
		for kv in network_partition_timeout=2 prepare_promotion_walreceiver=1 prepare_promotion_catchup=5 \
			postgresql_restart_failure_timeout=2; do
			pg_autoctl config set --pgdata "$D/$1" "timeout.${kv%=*}" "${kv#*=}" >/dev/null
		done
	fi
}
initdb -D "$D/n1" -A trust -N >/dev/null
printf "unix_socket_directories = '%s'\nlisten_addresses = '127.0.0.1'\nshared_buffers = '128MB'\ncheckpoint_timeout = '30s'\n" \
	"$SOCK" >> "$D/n1/postgresql.auto.conf"
node n1 "$P1"
keeper n1 "$D/n1"
N1_KEEPER=$KEEPER_PID
n1_is_primary() { [ "$(q "host=127.0.0.1 port=$P1 dbname=bench" "SELECT NOT pg_is_in_recovery()")" = t ]; }
wait_for 60 n1_is_primary
q "host=127.0.0.1 port=$P1 dbname=bench" "CHECKPOINT" >/dev/null
node n2 "$P2"
keeper n2 "$D/n2"
both_ready() {
	[ "$(q "host=127.0.0.1 port=$PM dbname=pg_auto_failover" "SELECT count(*) FROM pgautofailover.node
		WHERE reportedstate = goalstate AND reportedstate IN ('primary', 'secondary')")" = 2 ]
}
wait_for 120 both_ready

MULTI="host=127.0.0.1,127.0.0.1 port=$P1,$P2 dbname=bench target_session_attrs=read-write connect_timeout=2"
q "$MULTI" "CREATE TABLE acked (id int PRIMARY KEY)" >/dev/null
acked=0
i=0
for _ in $(seq 1 20); do i=$((i + 1)); q "$MULTI" "INSERT INTO acked VALUES ($i)" >/dev/null && acked=$((acked + 1)); done
t0=$(date +%s%3N)
kill -KILL -- "-$N1_KEEPER"
while :; do
	i=$((i + 1))
	if q "$MULTI" "INSERT INTO acked VALUES ($i)" >/dev/null; then acked=$((acked + 1)); break; fi
	[ $(($(date +%s%3N) - t0)) -lt 180000 ] || { echo "failover_s=timeout"; exit 1; }
	sleep 0.05
done
t1=$(date +%s%3N)
have=$(q "$MULTI" "SELECT count(*) FROM acked")
printf 'failover_s=%d.%d acked=%d lost=%d\n' $(((t1 - t0) / 1000)) $((((t1 - t0) % 1000) / 100)) "$acked" $((acked - have))
