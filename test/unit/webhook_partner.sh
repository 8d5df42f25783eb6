#!/bin/sh
# The partner's shell verifier (contrib/partner/verify.sh) against the Standard Webhooks vectors:
# the reference signatures verify, a one-byte change and a foreign signature do not, a rotation
# header with two entries verifies, and a stale timestamp is refused.
set -u
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
V="$SRC/test/data/webhooks/standard-webhooks-vectors.json"
VERIFY="$SRC/contrib/partner/verify.sh"
passed=0
failed=0
check() {	# check NAME EXPECTED_RC SECRET ID TS SIG PAYLOAD [NOW]
	name=$1 want=$2
	printf '%s' "$7" | WEBHOOK_NOW=${8:-$5} sh "$VERIFY" "$3" "$4" "$5" "$6" > /dev/null
	if [ $? = "$want" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
field() {	# field LIST INDEX KEY: one value from the vectors file
	node -e "const v=require('$V')['$1'][$2]; process.stdout.write(String(v['$3'] ?? ''))"
}
for i in 0 1; do
	s=$(field vectors $i secret); id=$(field vectors $i msg_id); ts=$(field vectors $i timestamp)
	p=$(field vectors $i payload); sig=$(field vectors $i expected_signature)
	check "vector $i verifies" 0 "$s" "$id" "$ts" "$sig" "$p"
	check "vector $i in a rotation header" 0 "$s" "$id" "$ts" "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU= $sig" "$p"
	check "vector $i, other id" 1 "$s" "msg_other" "$ts" "$sig" "$p"
	check "vector $i, 301 s old" 1 "$s" "$id" "$ts" "$sig" "$p" $((ts + 301))
	check "vector $i, 290 s old" 0 "$s" "$id" "$ts" "$sig" "$p" $((ts + 290))
done
s=$(field negative 1 secret); id=$(field negative 1 msg_id); ts=$(field negative 1 timestamp)
check "one-byte change" 1 "$s" "$id" "$ts" "$(field negative 1 signature)" "$(field negative 1 payload)"
s=$(field negative 0 secret); id=$(field negative 0 msg_id)
check "foreign signature" 1 "$s" "$id" 1649367553 "$(field negative 0 signature)" "$(field negative 0 payload)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
