#!/bin/sh
# bench/events — events and their delivery, each part against its anchor in the same run:
#   cdc.sh       CDC events/s written durably vs wal2json format-version 2 decoding the same WAL
#   webhook*.sh  webhook deliveries/s and commit-to-delivery latency (added by the webhook work)
set -u
dir=$(dirname "$0")
rc=0
for part in "$dir"/cdc.sh "$dir"/webhook*.sh; do
	[ -f "$part" ] || continue
	echo "--- bench/events/$(basename "$part")"
	sh "$part" || { echo "bench/events/$(basename "$part") failed"; rc=1; }
done
exit $rc
