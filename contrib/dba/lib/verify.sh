# verify.sh — `freightctl verify`: stricter than the tools under it (sourced).
#
# pgBackRest 2.45's `verify` exits 0 even when it reports an invalid checksum, and nothing in
# pgBackRest notices a segment missing from the WAL archive; a restore "to the end" through such a
# gap promotes silently at the gap.  So verify fails (exit 1, one line per problem) when:
#   - pgbackrest check cannot archive the current WAL segment (archiving is broken);
#   - pgbackrest info reports a status other than ok, no backup, or a backup flagged with errors;
#   - pgbackrest verify reports anything but ok (checksums, missing or unreadable files);
#   - any WAL segment is missing between the oldest backup's start segment and the segment
#     `pgbackrest check` just archived (the current WAL position), following timeline switches.

VERIFY_PROBLEMS=()

problem() {
	VERIFY_PROBLEMS+=("$*")
	echo "freightctl: verify: PROBLEM: $*" >&2
}

# repo_archive_segments ARCHIVE_ID: names (24 hex digits) of the WAL segments in the repository.
repo_archive_segments() {
	pgbr repo-ls --recurse --output=json "archive/$FREIGHT_STANZA/$1" |
		jq -r 'keys[] | select(test("^[0-9A-F]{16}/[0-9A-F]{24}-")) | split("/")[1][0:24]'
}

# timeline_map TLI ARCHIVE_ID: fill MAP_TLI/MAP_START (oldest first) from TLI's history file:
# segment n belongs to the newest timeline whose first segment is <= n.
timeline_map() {
	local tli=$1 id=$2 hist parent lsn start=0
	MAP_TLI=()
	MAP_START=()
	if [ "$tli" -gt 1 ]; then
		if hist=$(pgbr repo-get "archive/$FREIGHT_STANZA/$id/$(printf %08X "$tli").history" 2>/dev/null); then
			while read -r parent lsn _; do
				[[ $parent =~ ^[0-9]+$ ]] || continue
				MAP_TLI+=("$parent")
				MAP_START+=("$start")
				start=$(lsn_to_segno "$lsn")
			done <<<"$hist"
		else
			problem "the history file of timeline $tli is missing from the archive"
		fi
	fi
	MAP_TLI+=("$tli")
	MAP_START+=("$start")
}

# check_archive_continuity FROM_SEGNAME TO_SEGNAME ARCHIVE_ID: report every missing segment.
# Sets CHECKED_SEGMENTS to the number of segments checked.
check_archive_continuity() {
	local from=$1 to=$2 id=$3 per n first last tli name i
	local -A have=()
	local -a gaps=()
	while read -r name; do have[$name]=1; done < <(repo_archive_segments "$id")
	timeline_map $((0x${to:0:8})) "$id"
	per=$(segs_per_xlogid)
	first=$(segname_to_segno "$from")
	last=$(segname_to_segno "$to")
	for ((n = first; n <= last; n++)); do
		tli=${MAP_TLI[0]}
		for ((i = 0; i < ${#MAP_TLI[@]}; i++)); do
			[ "${MAP_START[$i]}" -le "$n" ] && tli=${MAP_TLI[$i]}
		done
		printf -v name '%08X%08X%08X' "$tli" $((n / per)) $((n % per))
		[ -n "${have[$name]:-}" ] || gaps+=("$name")
	done
	if [ ${#gaps[@]} -gt 0 ]; then
		local shown=${gaps[*]:0:5}
		[ ${#gaps[@]} -le 5 ] || shown="$shown ..."
		problem "WAL archive has a gap: ${#gaps[@]} segment(s) missing between $from and $to: $shown" \
			"(a restore past the gap would stop there and lose every later commit)"
	fi
	CHECKED_SEGMENTS=$((last - first + 1))
}

cmd_verify() {
	local offline=n
	while [ $# -gt 0 ]; do
		case "$1" in
		--offline) offline=y ;;
		*) die "verify: unknown argument \"$1\" (only --offline)" ;;
		esac
		shift
	done
	local start info end_seg out id oldest label nbackups
	start=$(now_ms)

	# 1. Archiving works now, and the current segment is in the repository.
	if [ $offline = n ]; then
		if out=$(pgbr check --log-level-console=info 2>&1); then
			end_seg=$(sed -n 's/.*WAL segment \([0-9A-F]\{24\}\) successfully archived.*/\1/p' <<<"$out" | tail -n 1)
			[ -n "$end_seg" ] || problem "pgbackrest check did not report the archived WAL segment"
		else
			problem "pgbackrest check failed: WAL archiving is broken: $(grep -E 'ERROR|HINT' <<<"$out" | head -n 3 | tr -s ' \n' ' ')"
		fi
	fi

	# 2. The repository's own bookkeeping.
	info=$(pgbr info --output=json) || die "pgbackrest info failed"
	[ "$(jq -r '.[0].status.code' <<<"$info")" = 0 ] ||
		problem "pgbackrest info: $(jq -r '.[0].status.message' <<<"$info")"
	nbackups=$(jq '.[0].backup | length' <<<"$info")
	[ "$nbackups" -gt 0 ] || problem "the repository holds no backup"
	while read -r label; do
		problem "backup $label is flagged with errors (page checksum errors while it was taken)"
	done < <(jq -r '.[0].backup[] | select(.error == true) | .label' <<<"$info")

	# 3. pgBackRest's verify, trusting its report rather than its exit status.
	if out=$(pgbr_at_repo verify --output=text 2>&1); then
		# 2.45 prints nothing when all is well and a report (still exiting 0) when it is not.
		if ! grep -qiE 'error|invalid|missing|fail' <<<"$out"; then
			say "verify: pgbackrest verify: every backup and archived segment checks out"
		else
			problem "pgbackrest verify reported errors (its exit status was 0): $(tr -s ' \n' ' ' <<<"$out")"
		fi
	else
		problem "pgbackrest verify failed: $(tr -s ' \n' ' ' <<<"$out")"
	fi

	# 4. Continuity from the oldest backup to the current WAL position.
	if [ "$nbackups" -gt 0 ]; then
		id=$(jq -r '.[0].archive[-1].id' <<<"$info")
		oldest=$(jq -r --argjson db "$(jq '.[0].archive[-1].database.id' <<<"$info")" \
			'[.[0].backup[] | select(.database.id == $db)][0].archive.start' <<<"$info")
		if [ -z "${end_seg:-}" ]; then
			end_seg=$(jq -r '.[0].archive[-1].max' <<<"$info")
			[ $offline = y ] || end_seg=""
		fi
		if [ -n "$end_seg" ] && [ "$oldest" != null ]; then
			check_archive_continuity "$oldest" "$end_seg" "$id"
			say "verify: WAL archive checked from $oldest (oldest backup) to $end_seg ($CHECKED_SEGMENTS segments)"
		fi
	fi

	if [ ${#VERIFY_PROBLEMS[@]} -gt 0 ]; then
		echo "freightctl: verify FAILED: ${#VERIFY_PROBLEMS[@]} problem(s) found in $(seconds_since "$start") s" >&2
		exit 1
	fi
	say "verify: OK ($nbackups backup(s), $(seconds_since "$start") s)"
}
