#!/bin/sh
# Unit test of the pure GCRA (extension/ratelimit_gcra.c): build it alone and run it.
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${FREIGHT_CHECK_WORK:-/tmp}/ratelimit_gcra_test.bin
cc -std=c11 -Wall -Wextra -Werror -O2 -I"$SRC/extension" -I"$SRC/test/lib" -o "$BIN" \
	"$SRC/test/unit/ratelimit_gcra_test.c" "$SRC/extension/ratelimit_gcra.c"
"$BIN"
