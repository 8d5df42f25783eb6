#!/bin/sh
# bench/run_all.sh — `make bench`: run every benchmark (bench/*/run.sh), or the ones named.
# Each benchmark runs its anchor in the same run on the same data and prints the ratio.
set -u
cd "$(dirname "$0")"
for d in */; do
	name=${d%/}
	[ -f "$name/run.sh" ] || continue
	if [ $# -gt 0 ] && ! echo " $* " | grep -q " $name "; then continue; fi
	echo "=== bench/$name"
	sh "$name/run.sh" || echo "bench/$name failed"
done
