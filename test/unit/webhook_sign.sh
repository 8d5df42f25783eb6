#!/bin/sh
# Build and run the Standard Webhooks signature test against extension/webhook_sign.c.
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$(mktemp -d)/webhook_sign
cc -std=c11 -Wall -Wextra -O2 -I"$SRC/extension" -o "$BIN" \
	"$SRC/test/unit/webhook_sign_test.c" "$SRC/extension/webhook_sign.c" -ljansson -lcrypto
"$BIN" "$SRC/test/data/webhooks/standard-webhooks-vectors.json"
