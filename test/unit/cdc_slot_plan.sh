#!/bin/sh
# Build and run the unit test of the standby's CDC slot-copy decisions (workers/cdc_slot_plan.c).
set -e
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$(mktemp -d)/cdc_slot_plan
cc -std=c11 -Wall -Wextra -O2 -I"$SRC/workers" -I"$SRC/test/lib" -o "$BIN" \
	"$SRC/test/unit/cdc_slot_plan_test.c" "$SRC/workers/cdc_slot_plan.c"
"$BIN"
