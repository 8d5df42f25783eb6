#!/bin/sh
# test/run_all.sh — run every test suite against throwaway clusters and print one summary line.
#
#   sh test/run_all.sh                 all suites
#   sh test/run_all.sh regress tap     only these suites
#   sh test/run_all.sh tap:010_crypto  one TAP file (or regress:NAME, unit:NAME, e2e:NAME)
#
# Suites, each picked up by wildcard so a feature adds tests without editing this file:
#   unit     test/unit/*.sh     self-contained programs (pure C modules, test vectors, fuzzers)
#   regress  sql/*.sql          pg_regress on a temporary instance with freight preloaded
#   tap      test/t/*.pl        PostgreSQL::Test::Cluster tests (workers, crashes, replicas, backups)
#   e2e      test/e2e/*.sh      HTTP end-to-end tests (real daemon, real clients)
# unit and e2e scripts end with a line "N passed, M failed"; a script that exits non-zero
# without such a line counts as one failure.
#
# PostgreSQL refuses to run as root, so as root the suites run as the OS user "freight"
# (created by `make deps`) in a scratch directory.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
PGXS_DIR=$(dirname "$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --pgxs)")/..
export PATH="$PGBIN:$PATH" FREIGHT_SRC="$SRC"

if [ "$(id -u)" = 0 ]; then
	WORK=$(mktemp -d /tmp/freight-check.XXXXXX)
	chown freight "$WORK"
	chmod 755 "$WORK"
	# A clone under a private directory (such as /root) is unreadable for freight: test a copy.
	if ! runuser -u freight -- test -r "$SRC/test/run_all.sh"; then
		cp -a "$SRC" "$WORK/src"
		chown -R freight "$WORK/src"
		SRC="$WORK/src"
	fi
	runuser -u freight -- env FREIGHT_CHECK_WORK="$WORK" CI="${CI:-}" PATH="$PATH" sh "$SRC/test/run_all.sh" "$@"
	rc=$?
	[ $rc = 0 ] && rm -rf "$WORK"
	exit $rc
fi

WORK=${FREIGHT_CHECK_WORK:-$(mktemp -d /tmp/freight-check.XXXXXX)}
export FREIGHT_CHECK_WORK="$WORK"
PASSED=0
FAILED=0
FAILED_NAMES=""

want() {	# want SUITE NAME: is this test selected?
	[ $# -gt 0 ] || return 0
	for sel in $SELECTION; do
		case "$sel" in
			"$1") return 0 ;;
			"$1:$2") return 0 ;;
		esac
	done
	[ -z "$SELECTION" ]
}

record() {	# record NAME PASSED FAILED
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	[ "$3" -gt 0 ] && FAILED_NAMES="$FAILED_NAMES $1"
	echo "== $1: $2 passed, $3 failed ($(( $(date +%s) - ITEM_START )) s)"
}

# A key-encryption key for the test clusters, outside any data directory.
KEYFILE="$WORK/kek.key"
[ -f "$KEYFILE" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$KEYFILE"; chmod 600 "$KEYFILE"; }
export FREIGHT_TEST_KEY_FILE="$KEYFILE"

run_script_suite() {	# run_script_suite SUITE DIR
	for t in "$SRC"/$2/*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		[ "$name" = lib ] && continue	# the helpers the scripts source, not a suite
		want "$1" "$name" || continue
		log="$WORK/$1-$name.log"
		echo "-- $1/$name"
		ITEM_START=$(date +%s)
		( cd "$WORK" && sh "$t" ) > "$log" 2>&1
		rc=$?
		line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | sed 's/^[A-Za-z]*: //')
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		p=${p:-0}; f=${f:-0}
		[ $rc != 0 ] && [ "$f" = 0 ] && f=1
		[ "$f" -gt 0 ] && tail -n 40 "$log"
		record "$1/$name" "$p" "$f"
	done
}

run_regress() {
	tests=""
	for t in "$SRC"/sql/*.sql; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sql)
		want regress "$name" && tests="$tests $name"
	done
	[ -n "$tests" ] || return 0
	conf="$WORK/regress.conf"
	sed "s|@KEYFILE@|$KEYFILE|" "$SRC/test/regress.conf" > "$conf"
	out="$WORK/regress"
	mkdir -p "$out"
	echo "-- regress:$tests"
	ITEM_START=$(date +%s)
	"$PGXS_DIR/test/regress/pg_regress" --bindir="$PGBIN" --inputdir="$SRC" --outputdir="$out" \
		--temp-instance="$out/tmp_check" --temp-config="$conf" --dbname=contrib_regression \
		--load-extension=pgcrypto --load-extension=freight \
		$tests > "$out/run.log" 2>&1
	cat "$out/run.log"
	p=$(grep -cE '\.\.\. +ok' "$out/run.log")
	f=$(grep -cE '\.\.\. +FAILED' "$out/run.log")
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi
	[ -f "$out/regression.diffs" ] && head -n 200 "$out/regression.diffs"
	record regress "$p" "$f"
}

run_tap() {
	for t in "$SRC"/test/t/*.pl; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .pl)
		want tap "$name" || continue
		dir="$WORK/tap-$name"
		mkdir -p "$dir"
		echo "-- tap/$name"
		ITEM_START=$(date +%s)
		( cd "$dir" && TESTDIR="$dir" PG_REGRESS="$PGXS_DIR/test/regress/pg_regress" \
			perl -I "$PGXS_DIR/test/perl" -I "$SRC/test/perl" "$t" ) > "$dir/tap.log" 2>&1
		rc=$?
		p=$(grep -cE '^ok ' "$dir/tap.log" 2>/dev/null)
		f=$(grep -cE '^not ok ' "$dir/tap.log" 2>/dev/null)
		p=${p:-0}; f=${f:-0}
		if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; fi
		if [ "$f" -gt 0 ]; then
			grep -E '^(not ok|#)' "$dir/tap.log" | tail -n 40
			for l in "$dir"/tmp_check/log/*.log; do [ -f "$l" ] && { echo "--- $l"; tail -n 30 "$l"; }; done
		fi
		record "tap/$name" "$p" "$f"
	done
}

SELECTION="$*"
start=$(date +%s)
want_suite() { [ -z "$SELECTION" ] || echo " $SELECTION " | grep -qE " $1(:| )"; }
want_suite unit && run_script_suite unit test/unit
want_suite regress && run_regress
want_suite tap && run_tap
want_suite e2e && run_script_suite e2e test/e2e
echo "== finished in $(( $(date +%s) - start )) s; failed:${FAILED_NAMES:- none}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
