#!/bin/sh
# test/unit/api_grammar.sh — builds and runs test/unit/api_grammar.c against freight-api's pure
# C files (CSV/form body decoding, SQL builder).  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${FREIGHT_CHECK_WORK:-/tmp}/api_grammar.bin
A="$SRC/contrib/api"
cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -fsanitize=address,undefined -I"$A" -I"$SRC/test/lib" -o "$OUT" "$SRC/test/unit/api_grammar.c" \
	"$A/body_decode.c" "$A/query_parse.c" "$A/sql_build.c" "$A/sql_filter.c" "$A/sql_embed.c" "$A/schema_cache.c" "$A/errors.c" "$A/buf.c" \
	-ljansson || { echo "0 passed, 1 failed"; exit 1; }
"$OUT"
