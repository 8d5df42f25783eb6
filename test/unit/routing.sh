#!/bin/sh
# routing.sh — build and run the unit tests of the pure routing code (test/unit/route_test.c
# against extension/route_*.c, no PostgreSQL needed).  Prints "N passed, M failed".
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TMPDIR:-/tmp}/route_test.$$
trap 'rm -f "$BIN"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -I"$SRC/extension" -I"$SRC/test/lib" -o "$BIN" "$SRC/test/unit/route_test.c" \
	"$SRC/extension/route_metric.c" "$SRC/extension/route_lk.c" "$SRC/extension/route_tsp.c" \
	"$SRC/extension/route_vrp.c" "$SRC/extension/route_score.c" -lm
"$BIN"
