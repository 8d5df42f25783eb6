#!/bin/sh
# Build and run the webhook policy test: outcome classes, retry schedule and backoff
# (workers/webhook_retry.c), URL and address checks (extension/webhook_url.c).
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$(mktemp -d)/webhook_policy
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -I"$SRC/extension" -I"$SRC/workers" -o "$BIN" \
	"$SRC/test/unit/webhook_policy_test.c" "$SRC/workers/webhook_retry.c" \
	"$SRC/extension/webhook_url.c" -lcurl
"$BIN"
