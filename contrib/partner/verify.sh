#!/bin/sh
# verify.sh — check one freight webhook signature with openssl (Standard Webhooks v1).
#
#   verify.sh SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP "WEBHOOK_SIGNATURE" < body
#
# SECRET is the whsec_... value register_webhook returned; the other three are the request's
# webhook-id, webhook-timestamp and webhook-signature headers; the body must be the exact bytes
# received.  Exit 0 and "valid" if one v1 signature matches and the timestamp is within 5 minutes
# of now (WEBHOOK_NOW overrides now, for tests); else exit 1.  A debugging aid: in production use
# a library that compares in constant time (see verify.js).
set -eu
[ $# -eq 4 ] || { echo "usage: $0 SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP SIGNATURE_HEADER < body" >&2; exit 2; }
secret=${1#whsec_}
id=$2
ts=$3
now=${WEBHOOK_NOW:-$(date +%s)}
case "$ts" in *[!0-9]*|'') echo "invalid: bad timestamp"; exit 1 ;; esac
if [ $((now - ts)) -gt 300 ] || [ $((ts - now)) -gt 300 ]; then
	echo "invalid: timestamp outside the 5-minute tolerance"
	exit 1
fi
key_hex=$(printf '%s' "$secret" | base64 -d | od -An -v -tx1 | tr -d ' \n')
expected=$({ printf '%s.%s.' "$id" "$ts"; cat; } |
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)
for sig in $4; do
	if [ "$sig" = "v1,$expected" ]; then
		echo valid
		exit 0
	fi
done
echo "invalid: no matching v1 signature"
exit 1
