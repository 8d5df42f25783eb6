# 50_api.sh — `make stop`: stop freight-api gracefully (SIGTERM lets in-flight requests finish).
API_PIDFILE="$FREIGHT_HOME/run/api.pid"
api_pid=$(cat "$API_PIDFILE" 2> /dev/null)
if [ -n "$api_pid" ] && kill -0 "$api_pid" 2> /dev/null; then
	kill -TERM "$api_pid"
	for _ in $(seq 1 50); do
		kill -0 "$api_pid" 2> /dev/null || break
		sleep 0.2
	done
	echo "stop: freight-api stopped"
fi
rm -f "$API_PIDFILE"
