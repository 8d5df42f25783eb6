#!/bin/sh
# test/unit/route_fuzz.sh — builds the libFuzzer target test/unit/route_fuzz.c (the routing
# solvers with AddressSanitizer and UBSan) and runs it for a bounded time (FREIGHT_FUZZ_SECONDS,
# default 10) from a small seed corpus.  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${FREIGHT_CHECK_WORK:-/tmp}/route_fuzz
SECONDS_LIMIT=${FREIGHT_FUZZ_SECONDS:-10}
mkdir -p "$WORK/corpus"
if ! command -v clang > /dev/null; then
	echo "clang is missing (make deps installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$SRC/extension" -o "$WORK/fuzz_route" "$SRC/test/unit/route_fuzz.c" "$SRC/extension/route_metric.c" \
	"$SRC/extension/route_lk.c" "$SRC/extension/route_tsp.c" "$SRC/extension/route_vrp.c" \
	"$SRC/extension/route_score.c" -lm ||
	{ echo "0 passed, 1 failed"; exit 1; }
# seeds: 40 stops per metric, a tiny open path, raw bytes
for kind in 0 1 2 3; do
	awk -v k=$kind 'BEGIN { printf "%c%c%c%c%c%c", 40, k, 6, 3, 9, 17; for (i = 0; i < 120; i++) printf "%c", 33 + (i * 37) % 90 }' > "$WORK/corpus/seed$kind"
done
printf '\003\001\006\000\002\005abcdef' > "$WORK/corpus/tiny"
head -c 300 /dev/urandom > "$WORK/corpus/random"
if "$WORK/fuzz_route" -max_total_time="$SECONDS_LIMIT" -max_len=4200 -timeout=10 -rss_limit_mb=1024 \
	"$WORK/corpus" > "$WORK/fuzz.log" 2>&1; then
	tail -n 2 "$WORK/fuzz.log"
	echo "1 passed, 0 failed"
else
	tail -n 40 "$WORK/fuzz.log"
	echo "0 passed, 1 failed"
	exit 1
fi
