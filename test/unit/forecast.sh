#!/bin/sh
# forecast.sh — build and run the unit tests of the pure forecasting code (test/unit/forecast_test.c
# against extension/forecast_*.c except the SQL adapter), with AddressSanitizer and UBSan where
# the compiler has them.  Prints "N passed, M failed".
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TMPDIR:-/tmp}/forecast_test.$$
trap 'rm -f "$BIN"' EXIT
FILES=$(ls "$SRC"/extension/forecast_*.c | grep -v forecast_sql.c)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
echo 'int main(void){return 0;}' | cc $SAN -x c -o "$BIN" - 2> /dev/null || SAN=""
cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra $SAN -I"$SRC/extension" -I"$SRC/test/lib" -o "$BIN" \
	"$SRC/test/unit/forecast_test.c" $FILES -lm
"$BIN"
