#!/bin/sh
# Build and run the AES-256-GCM / HMAC-SHA256 vector test against extension/crypto_aead.c.
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$(mktemp -d)/crypto_vectors
cc -std=c11 -Wall -Wextra -O2 -I"$SRC/extension" -o "$BIN" \
	"$SRC/test/unit/crypto_vectors.c" "$SRC/extension/crypto_aead.c" -ljansson -lcrypto
"$BIN" "$SRC/test/data/vectors"
