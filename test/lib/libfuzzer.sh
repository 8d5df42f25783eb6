# test/lib/libfuzzer.sh — shared by the libFuzzer scripts in test/unit (sourced, not run).
#
#   fuzz_build NAME SOURCE...    compile a fuzz target with AddressSanitizer and UBSan into $WORK
#   fuzz_run NAME MAX_LEN        run it for $SECONDS_LIMIT seconds over $WORK/corpus and print
#                                "N passed, M failed"; exits non-zero on a finding
# The caller sets SRC, WORK (with WORK/corpus holding the seeds) and SECONDS_LIMIT.

fuzz_build() {
	name=$1
	shift
	if ! command -v clang > /dev/null; then
		echo "clang is missing (make deps installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$SRC/extension" -I"$SRC/test/lib" -o "$WORK/$name" "$@" -lm ||
		{ echo "0 passed, 1 failed"; exit 1; }
}

fuzz_run() {
	if "$WORK/$1" -max_total_time="$SECONDS_LIMIT" -max_len="$2" -timeout=10 -rss_limit_mb=1024 \
		"$WORK/corpus" > "$WORK/fuzz.log" 2>&1; then
		tail -n 2 "$WORK/fuzz.log"
		echo "1 passed, 0 failed"
	else
		tail -n 40 "$WORK/fuzz.log"
		echo "0 passed, 1 failed"
		exit 1
	fi
}
