#!/bin/sh
# bench/routing — freight's route solvers on the standard instances, against the proven optima
# and best-known solutions, and against pgRouting's pgr_TSPeuclidean in the same run.
#
#   TSP    TSPLIB eil51 .. fnl4461 (EUC_2D, lengths with nint rounding per edge), closed tours
#          through freight.optimize_route(x, y, '{"metric": "euc2d"}') and pgr_TSPeuclidean.
#   CVRP   CVRPLIB set A and X (EUC_2D nint) through freight.plan_routes.
#   VRPTW  Solomon 100-customer instances, hierarchical objective (fewest vehicles, then
#          double-precision distance) through freight.plan_routes with minimize_vehicles.
# Every answer is checked (each stop once, capacities, time windows via freight.score_route)
# and re-measured with the instance's own rounding; per instance the length, the gap to the
# optimum / best-known and the time are printed.
#
# pgRouting 3.4 ignores statement_timeout and cancel requests, so each of its runs happens in a
# separate backend that is terminated — and if that does not stop it, killed, which makes the
# throwaway cluster restart — after PGR_LIMIT seconds; those instances count as "no answer".
#
# Data: $FREIGHT_BENCH_DATA/routing (default ../shared/bench-data/routing next to the checkout).
# Budgets (ms per instance): TSP_MS (1000; TSP_LARGE_MS 5000 above 1,100 stops), CVRP_MS (10000),
# VRPTW_MS (5000); PGR_LIMIT (30 s).  SETS="tsp cvrp vrptw" picks the parts.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${FREIGHT_BENCH_DATA:-$HERE/../../../shared/bench-data}/routing
TSP_MS=${TSP_MS:-1000}
TSP_LARGE_MS=${TSP_LARGE_MS:-5000}
CVRP_MS=${CVRP_MS:-10000}
VRPTW_MS=${VRPTW_MS:-5000}
PGR_LIMIT=${PGR_LIMIT:-30}
SETS=${SETS:-tsp cvrp vrptw}

if [ ! -f "$DATA/optimal.csv" ]; then
	echo "bench/routing: MISSING DATA: $DATA/optimal.csv not found."
	echo "  Set FREIGHT_BENCH_DATA to the folder that holds routing/ (TSPLIB, CVRPLIB, Solomon files)."
	exit 1
fi

. "$HERE/../lib.sh"
bench_cluster_start
trap bench_cluster_stop EXIT
OUT=$BENCH_DIR/out
mkdir -p "$OUT"
chmod 777 "$OUT"

$PSQL -c "CREATE EXTENSION pgrouting CASCADE" > /dev/null 2>&1 || echo "bench/routing: pgRouting is not installed; its column stays empty"
$PSQL -f "$HERE/bench.sql" > /dev/null

# instances and reference values
awk -f "$HERE/load.awk" "$DATA"/tsplib/*.tsp "$DATA"/cvrp/*.vrp "$DATA"/vrptw/*.txt > "$OUT/points.tsv"
grep -v '^#' "$OUT/points.tsv" | $PSQL -c "COPY bench_points FROM STDIN"
grep '^#capacity' "$OUT/points.tsv" | cut -f2,3 | $PSQL -c "COPY bench_capacity FROM STDIN"
awk -F, 'NR > 1 { v = ""; if (match($0, /BKS vehicles=[0-9]+/)) v = substr($0, RSTART + 13, RLENGTH - 13);
	print $1 "\t" $2 "\t" $3 "\t" $4 "\t" (v == "" ? "\\N" : v) }' "$DATA/optimal.csv" | $PSQL -c "COPY bench_optimum FROM STDIN"

# pgr_TSPeuclidean in its own backend, stopped after PGR_LIMIT seconds whatever it does
run_pgrouting() {
	inst=$1
	$PSQL -c "SET application_name = 'bench_pgr'; SET statement_timeout = '${PGR_LIMIT}s';
		SELECT bench_pgr('$inst')" > /dev/null 2>&1 &
	client=$!
	ticks=0
	while kill -0 $client 2>/dev/null && [ $ticks -lt $((PGR_LIMIT * 5 + 10)) ]; do
		sleep 0.2
		ticks=$((ticks + 1))
	done
	if kill -0 $client 2>/dev/null; then
		$PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench_pgr'" > /dev/null
		sleep 3
		pid=$($PSQL -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_pgr'")
		if [ -n "$pid" ]; then
			echo "  (pgRouting ignored the timeout and the terminate request on $inst: killing backend $pid; the cluster restarts)"
			kill -9 "$pid" 2>/dev/null || true
			sleep 2
			until $PSQL -c "SELECT 1" > /dev/null 2>&1; do sleep 0.5; done
		fi
		kill $client 2>/dev/null || true
	fi
	wait $client 2>/dev/null || true
}

if echo " $SETS " | grep -q ' tsp '; then
	echo "TSP (TSPLIB, closed tours, EUC_2D nint): freight budget ${TSP_MS} ms (${TSP_LARGE_MS} ms above 1,100 stops); pgRouting limit ${PGR_LIMIT} s"
	for inst in $($PSQL -At -c "SELECT instance FROM bench_optimum WHERE set = 'tsplib' ORDER BY n"); do
		$PSQL -c "SELECT bench_tsp('$inst', $TSP_MS, $TSP_LARGE_MS)" > /dev/null
	done
	if $PSQL -At -c "SELECT 1 FROM pg_extension WHERE extname = 'pgrouting'" | grep -q 1; then
		for inst in $($PSQL -At -c "SELECT instance FROM bench_optimum WHERE set = 'tsplib' ORDER BY n"); do
			run_pgrouting "$inst"
		done
	fi
	$PSQL -P footer=off -c "SELECT * FROM bench_tsp_report"
	$PSQL -P footer=off -c "SELECT * FROM bench_tsp_summary"
fi

if echo " $SETS " | grep -q ' cvrp '; then
	echo "CVRP (CVRPLIB A and X, EUC_2D nint, routes free): budget ${CVRP_MS} ms"
	for inst in $($PSQL -At -c "SELECT instance FROM bench_optimum WHERE set LIKE 'cvrp%' ORDER BY n, instance"); do
		$PSQL -c "SELECT bench_vrp('$inst', false, $CVRP_MS)" > /dev/null
	done
	$PSQL -P footer=off -c "SELECT * FROM bench_vrp_report WHERE set LIKE 'cvrp%'"
fi

if echo " $SETS " | grep -q ' vrptw '; then
	echo "VRPTW (Solomon 100, fewest vehicles then distance, double precision): budget ${VRPTW_MS} ms"
	for inst in $($PSQL -At -c "SELECT instance FROM bench_optimum WHERE set = 'solomon-hier-exact' ORDER BY instance"); do
		$PSQL -c "SELECT bench_vrp('$inst', true, $VRPTW_MS)" > /dev/null
	done
	$PSQL -P footer=off -c "SELECT * FROM bench_vrp_report WHERE set = 'solomon-hier-exact'"
fi
echo "CVRP / VRPTW summary"
$PSQL -P footer=off -c "SELECT * FROM bench_vrp_summary"
