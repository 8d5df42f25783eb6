#!/bin/sh
# test/unit/api_query.sh — builds and runs test/unit/api_query.c against freight-api's pure C
# files (parser, SQL builder, schema cache, errors, JWT).  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${FREIGHT_CHECK_WORK:-/tmp}/api_query.bin
A="$SRC/contrib/api"
cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -I"$A" -o "$OUT" "$SRC/test/unit/api_query.c" \
	"$A/query_parse.c" "$A/sql_build.c" "$A/sql_filter.c" "$A/sql_embed.c" "$A/schema_cache.c" "$A/errors.c" "$A/jwt.c" "$A/jwk.c" "$A/buf.c" \
	-ljansson -lssl -lcrypto || { echo "0 passed, 1 failed"; exit 1; }
"$OUT"
