#!/bin/sh
# test/unit/forecast_fuzz.sh — builds the libFuzzer target test/unit/forecast_fuzz.c (forecast_run
# with AddressSanitizer and UBSan) and runs it for a bounded time (FREIGHT_FUZZ_SECONDS, default
# 20) from a small seed corpus.  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${FREIGHT_CHECK_WORK:-/tmp}/forecast_fuzz
SECONDS_LIMIT=${FREIGHT_FUZZ_SECONDS:-20}
mkdir -p "$WORK/corpus"
if ! command -v clang > /dev/null; then
	echo "clang is missing (make deps installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
FILES=$(ls "$SRC"/extension/forecast_*.c | grep -v forecast_sql.c)
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$SRC/extension" -o "$WORK/fuzz_forecast" "$SRC/test/unit/forecast_fuzz.c" $FILES -lm ||
	{ echo "0 passed, 1 failed"; exit 1; }
# seeds: a daily cycle of small integers, a flat series, a short one, raw doubles
awk 'BEGIN { printf "%c%c%c%c", 48, 24, 0, 95; for (t = 0; t < 200; t++) printf "%c", 100 + int(20 * sin(t * 6.2832 / 24)) }' > "$WORK/corpus/daily"
awk 'BEGIN { printf "%c%c%c%c", 5, 0, 3, 80; for (t = 0; t < 50; t++) printf "%c", 120 }' > "$WORK/corpus/flat"
printf '\014\001\011\050abc' > "$WORK/corpus/short"
head -c 260 /dev/urandom > "$WORK/corpus/random"
if "$WORK/fuzz_forecast" -max_total_time="$SECONDS_LIMIT" -max_len=1100 -timeout=10 -rss_limit_mb=1024 \
	"$WORK/corpus" > "$WORK/fuzz.log" 2>&1; then
	tail -n 2 "$WORK/fuzz.log"
	echo "1 passed, 0 failed"
else
	tail -n 40 "$WORK/fuzz.log"
	echo "0 passed, 1 failed"
	exit 1
fi
