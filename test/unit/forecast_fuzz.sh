#!/bin/sh
# test/unit/forecast_fuzz.sh — builds the libFuzzer target test/unit/forecast_fuzz.c (forecast_run
# with AddressSanitizer and UBSan) and runs it for a bounded time (FREIGHT_FUZZ_SECONDS, default
# 20) from a small seed corpus.  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${FREIGHT_CHECK_WORK:-/tmp}/forecast_fuzz
SECONDS_LIMIT=${FREIGHT_FUZZ_SECONDS:-20}
. "$SRC/test/lib/libfuzzer.sh"
mkdir -p "$WORK/corpus"
fuzz_build fuzz_forecast "$SRC/test/unit/forecast_fuzz.c" \
	$(ls "$SRC"/extension/forecast_*.c | grep -v forecast_sql.c)
# seeds: a daily cycle of small integers, a flat series, a short one, raw doubles
awk 'BEGIN { printf "%c%c%c%c", 48, 24, 0, 95; for (t = 0; t < 200; t++) printf "%c", 100 + int(20 * sin(t * 6.2832 / 24)) }' > "$WORK/corpus/daily"
awk 'BEGIN { printf "%c%c%c%c", 5, 0, 3, 80; for (t = 0; t < 50; t++) printf "%c", 120 }' > "$WORK/corpus/flat"
printf '\014\001\011\050abc' > "$WORK/corpus/short"
head -c 260 /dev/urandom > "$WORK/corpus/random"
fuzz_run fuzz_forecast 1100
