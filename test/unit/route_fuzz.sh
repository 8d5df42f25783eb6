#!/bin/sh
# test/unit/route_fuzz.sh — builds the libFuzzer target test/unit/route_fuzz.c (the routing
# solvers with AddressSanitizer and UBSan) and runs it for a bounded time (FREIGHT_FUZZ_SECONDS,
# default 10) from a small seed corpus.  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${FREIGHT_CHECK_WORK:-/tmp}/route_fuzz
SECONDS_LIMIT=${FREIGHT_FUZZ_SECONDS:-10}
. "$SRC/test/lib/libfuzzer.sh"
mkdir -p "$WORK/corpus"
fuzz_build fuzz_route "$SRC/test/unit/route_fuzz.c" "$SRC/extension/route_metric.c" \
	"$SRC/extension/route_lk.c" "$SRC/extension/route_tsp.c" "$SRC/extension/route_vrp.c" \
	"$SRC/extension/route_score.c"
# seeds: 40 stops per metric, a tiny open path, raw bytes
for kind in 0 1 2 3; do
	awk -v k=$kind 'BEGIN { printf "%c%c%c%c%c%c", 40, k, 6, 3, 9, 17; for (i = 0; i < 120; i++) printf "%c", 33 + (i * 37) % 90 }' > "$WORK/corpus/seed$kind"
done
printf '\003\001\006\000\002\005abcdef' > "$WORK/corpus/tiny"
head -c 300 /dev/urandom > "$WORK/corpus/random"
fuzz_run fuzz_route 4200
