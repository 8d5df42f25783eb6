#!/bin/sh
# bench/forecast — freight.forecast on M4 Hourly (414 series, h = 48, season 24) and M4 Weekly
# (359 series, h = 13, season detected), every series through the SQL function on a throwaway
# cluster.  Writes the forecasts and 95% interval bounds as M4-layout CSVs in bench/forecast/out,
# scores them with the M4 scorer (sMAPE, MASE, OWA against Naive2, MSIS, coverage) and prints
# them beside the published M4 values, with series per second.
#
# Anchors in the same run, same data, same function: the M4 benchmarks snaive (Hourly), SES,
# Theta and damped (method => 'snaive' / 'ses' / 'theta' / 'damped', seasonally adjusted as
# the M4 benchmarks are); SES and Theta reproduce the published values, which checks the
# pipeline.  'auto' is timed in one session (the goal) and again in one session per core.
#
# Data: $FREIGHT_BENCH_DATA/forecast (default ../shared/bench-data/forecast next to the checkout):
# m4/{Hourly,Weekly}-{train,test}.csv, m4/results/*.csv and m4_score.js.  Needs node.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${FREIGHT_BENCH_DATA:-$HERE/../../../shared/bench-data}/forecast
SESSIONS=${SESSIONS:-$(nproc)}

for f in m4/Hourly-train.csv m4/Hourly-test.csv m4/Weekly-train.csv m4/Weekly-test.csv m4_score.js \
	m4/results/m4-published-point.csv m4/results/m4-published-pi.csv; do
	if [ ! -f "$DATA/$f" ]; then
		echo "bench/forecast: MISSING DATA: $DATA/$f not found."
		echo "  Set FREIGHT_BENCH_DATA to the folder that holds forecast/ (M4 data and m4_score.js)."
		exit 1
	fi
done
command -v node > /dev/null || { echo "bench/forecast: node is missing (make deps installs it)"; exit 1; }

# a port of our own, away from the other benchmarks' default
BENCH_PORT=${BENCH_PORT:-$((56000 + $$ % 2000))}
. "$HERE/../lib.sh"
bench_cluster_start
trap bench_cluster_stop EXIT
OUT=$HERE/out
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT/timings.tsv"

$PSQL -c "CREATE TABLE m4 (freq text, id text, vals float8[], part int)"
for freq in Hourly Weekly; do
	awk -F, -v freq="$freq" 'NR > 1 { gsub(/"/, ""); s = "";
		for (i = 2; i <= NF; i++) if ($i != "" && $i != "NA") s = s (s == "" ? "" : ",") $i;
		print freq "\t" $1 "\t{" s "}\t" (NR % '"$SESSIONS"') }' "$DATA/m4/$freq-train.csv" |
		$PSQL -c "COPY m4 FROM STDIN"
done

now() { date +%s.%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# forecast FREQ METHOD H SEASON [SESSIONS]: time the forecasts of every series into table
# res_FREQ_METHOD (SESSIONS parallel sessions, one per part), then export three CSVs.  One
# session also records the CPU time of its backend: on a shared machine, series per wall-clock
# second depend on the other load, series per CPU second do not.
forecast() {
	freq=$1 method=$2 h=$3 season=$4 sessions=${5:-1}
	res="res_${freq}_${method}_$sessions"
	$PSQL -c "CREATE UNLOGGED TABLE $res (id text, step int, point float8, lower float8, upper float8)"
	cpu=""
	if [ "$sessions" = 1 ]; then
		$PSQL -At > "$OUT/cpu.txt" <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
\! awk -v hz="\$(getconf CLK_TCK)" '{ print (\$14 + \$15) / hz }' /proc/\$BACKEND_PID/stat
\! date +%s.%N
INSERT INTO $res SELECT m.id, f.* FROM m4 m, freight.forecast(m.vals, $h, $season, '$method') f WHERE m.freq = '$freq';
\! awk -v hz="\$(getconf CLK_TCK)" '{ print (\$14 + \$15) / hz }' /proc/\$BACKEND_PID/stat
\! date +%s.%N
SQL
		set -- $(cat "$OUT/cpu.txt")
		seconds=$(awk "BEGIN { print $4 - $2 }")
		cpu=$(awk "BEGIN { print $3 - $1 }")
	else
		start=$(now)
		p=0
		while [ $p -lt "$sessions" ]; do
			$PSQL -c "INSERT INTO $res SELECT m.id, f.* FROM m4 m, freight.forecast(m.vals, $h, $season, '$method') f
				WHERE m.freq = '$freq' AND m.part % $sessions = $p" &
			p=$((p + 1))
		done
		wait
		seconds=$(awk "BEGIN { print $(now) - $start }")
	fi
	series=$($PSQL -At -c "SELECT count(DISTINCT id) FROM $res")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$freq" "$method" "$sessions" "$series" "$seconds" "$cpu" >> "$OUT/timings.tsv"
	[ "$sessions" = 1 ] || return 0
	for part in point lower upper; do
		{
			echo "id,$(seq -s, -f 'F%g' 1 "$h")"
			$PSQL -At -c "COPY (SELECT id || ',' || string_agg($part::text, ',' ORDER BY step) FROM $res
				GROUP BY id ORDER BY id) TO STDOUT"
		} > "$OUT/$freq-$method-$part.csv"
	done
}

for method in auto snaive ses theta damped; do
	forecast Hourly "$method" 48 24
done
forecast Hourly auto 48 24 "$SESSIONS"
for method in auto ses theta damped; do
	season=1
	[ "$method" = auto ] && season=NULL
	forecast Weekly "$method" 13 "$season"
done

rm -f "$OUT/cpu.txt"
echo "bench/forecast: load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "bench/forecast: forecasts in $OUT (M4 layout: <Freq>-<method>-{point,lower,upper}.csv)"
node "$HERE/report.js" "$DATA" "$OUT"
