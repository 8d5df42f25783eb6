#!/bin/sh
# test/unit/api_fuzz.sh — builds the libFuzzer target contrib/api/fuzz_query.c (URL and query
# parser, SQL builder, CSV/form body decoders and JWK/JWT handling, with AddressSanitizer and UBSan) and runs it for a bounded time
# (FREIGHT_FUZZ_SECONDS, default 20) from a seed corpus.  Prints "N passed, M failed".
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${FREIGHT_CHECK_WORK:-/tmp}/api_fuzz
A="$SRC/contrib/api"
SECONDS_LIMIT=${FREIGHT_FUZZ_SECONDS:-20}
mkdir -p "$WORK/corpus"
if ! command -v clang > /dev/null; then
	echo "clang is missing (make deps installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I"$A" -o "$WORK/fuzz_query" \
	"$A/fuzz_query.c" "$A/body_decode.c" "$A/query_parse.c" "$A/sql_build.c" "$A/sql_filter.c" "$A/sql_embed.c" "$A/schema_cache.c" "$A/errors.c" "$A/buf.c" \
	"$A/jwt.c" "$A/jwk.c" -ljansson -lssl -lcrypto || { echo "0 passed, 1 failed"; exit 1; }
i=0
for seed in '/api/s?select=id,status,d(name)&status=eq.a&order=id.desc&limit=5' \
	'/api/s?or=(id.eq.1,and(status.in.(a,"b,c"),d_id.is.null))&meta->>k=eq.v' \
	'/api/s?select=x:id::text,d!fk!inner(*)&d.name=ilike.*a*&d.order=name&d.limit=1' \
	'/api/s?id=not.in.(1,2)&status=like(any).{a*,b*}&status=fts(english).a%20b' \
	'/api/s?columns=status&on_conflict=id&select=*,d()&d=not.is.null' \
	'/api/d?select=id,s!j(status),s!inner()&s.status=eq.x&id=eq.1' \
	'/api/s?select=status,n:count(),id::int.sum()::text,meta->>k.max(),d(id.avg())&order=status' \
	'/api/d?select=name,s(status,count()),"id".min()' \
	"$(printf 'id,name\n1,"a ""b"""\nNULL,')" \
	'id=1&name=a+b%26c&note=%C3%A9' \
	'{"keys":[{"kty":"oct","kid":"a","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}' \
	'eyJhbGciOiJIUzI1NiIsImtpZCI6ImEifQ.eyJhcHAiOnsicm9sZSI6InUifSwiZXhwIjoxODAwMDAwMDAwfQ.c2ln'; do
	i=$((i + 1))
	printf '%s' "$seed" > "$WORK/corpus/seed$i"
done
if "$WORK/fuzz_query" -max_total_time="$SECONDS_LIMIT" -max_len=512 -timeout=5 -rss_limit_mb=1024 \
	"$WORK/corpus" > "$WORK/fuzz.log" 2>&1; then
	tail -n 2 "$WORK/fuzz.log"
	echo "1 passed, 0 failed"
else
	tail -n 40 "$WORK/fuzz.log"
	echo "0 passed, 1 failed"
	exit 1
fi
