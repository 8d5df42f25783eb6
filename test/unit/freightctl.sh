#!/bin/bash
# test/unit/freightctl.sh — the pure parts of contrib/dba/freightctl, without a cluster: WAL
# segment and LSN arithmetic, the archive-continuity check behind `freightctl verify` (against a
# stand-in pgBackRest listing, across a timeline switch), backup selection for a restore target,
# the generated repository settings (local, S3, remote host, encryption), the port chosen for a
# restored copy, and refusals of bad input.  Prints "N passed, M failed".  test/run_all.sh runs
# it with sh: it re-runs itself in bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRC=${FREIGHT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
LIB="$SRC/contrib/dba/lib"
PASS=0
FAIL=0
check() {	# check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
		echo "FAIL: $1: expected [$2], got [$3]"
	fi
}
# run SHELL-CODE: in a subshell with freightctl's libraries; prints stdout+stderr, then "rc=N".
run() {
	bash -c "set -euo pipefail; WAL_SEG_SIZE=16777216; PGBACKREST_CONF=/nonexistent; FREIGHT_STANZA=freight
		. '$LIB/common.sh'; . '$LIB/repo.sh'; . '$LIB/verify.sh'; . '$LIB/restore.sh'; $1" 2>&1
	echo "rc=$?"
}

# Segment and LSN arithmetic (16 MB segments: 256 per xlogid).
check "segno of a name" "259" "$(run 'segname_to_segno 000000020000000100000003' | head -n 1)"
check "name of a segno" "000000020000000100000003" "$(run 'segno_to_segname 2 259; echo' | head -n 1)"
check "segno of an LSN" "3" "$(run 'lsn_to_segno 0/3000060' | head -n 1)"
check "segno of a high LSN" "257" "$(run 'lsn_to_segno 1/1FFFFFF' | head -n 1)"
check "an LSN is an LSN" "rc=0" "$(run 'is_lsn 16/B374D848')"
check "a time is not an LSN" "rc=1" "$(run 'is_lsn "2026-11-26 01:00:00+00"')"

# A port for a restored copy or a replica: nobody listens on it, and it lies below the kernel's
# ephemeral range, where no outgoing connection (or its TIME_WAIT) can hold it.
read -r low _ < /proc/sys/net/ipv4/ip_local_port_range
port=$(run 'free_port' | head -n 1)
check "free_port is below the ephemeral range ($low)" "yes" "$([[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 10000 ] && [ "$port" -lt "$low" ] && echo yes)"

# Archive continuity: a stand-in pgbr lists segments 1..9 of timeline 1 up to the switch (at
# 0/7000100: segment 7 belongs to timeline 2) and 7..10 of timeline 2, minus the ones removed.
listing() {	# listing MISSING...: the stand-in's repo-ls JSON
	local keys="" n name
	for n in 1 2 3 4 5 6 7 8 9; do
		name=$(printf '00000001%08X%08X' 0 "$n")
		[ "$n" -ge 7 ] && name=$(printf '00000002%08X%08X' 0 "$n")
		case " $* " in *" $name "*) continue ;; esac
		keys="$keys\"${name:0:16}/$name-0123abcd.zst\":{\"type\":\"file\"},"
	done
	# an abandoned timeline-1 copy of segment 8 must not stand in for timeline 2's
	echo "{$keys\"0000000100000000/000000010000000000000008-ffff.zst\":{\"type\":\"file\"},\"archive.info\":{\"type\":\"file\"}}"
}
stub='pgbr() { case "$1" in repo-ls) cat "$LISTING" ;; repo-get) printf "1\t0/7000100\tno recovery target specified\n" ;; esac; }'
export LISTING=$(mktemp)
listing > "$LISTING"
out=$(run "$stub; check_archive_continuity 000000010000000000000002 000000020000000000000009 15-1; echo \"checked=\$CHECKED_SEGMENTS problems=\${#VERIFY_PROBLEMS[@]}\"")
check "continuous archive across a timeline switch" "checked=8 problems=0" "$(grep checked= <<<"$out")"
listing 000000010000000000000005 000000020000000000000008 > "$LISTING"
out=$(run "$stub; check_archive_continuity 000000010000000000000002 000000020000000000000009 15-1; echo \"problems=\${#VERIFY_PROBLEMS[@]}\"")
check "two gaps found" "problems=1" "$(grep problems= <<<"$out")"
check "gap message names both segments" "1" \
	"$(grep -c 'gap: 2 segment(s) missing between 000000010000000000000002 and 000000020000000000000009: 000000010000000000000005 000000020000000000000008' <<<"$out")"
stub_nohist='pgbr() { case "$1" in repo-ls) cat "$LISTING" ;; repo-get) return 1 ;; esac; }'
listing > "$LISTING"
out=$(run "$stub_nohist; check_archive_continuity 000000010000000000000002 000000020000000000000009 15-1; echo \"problems=\${#VERIFY_PROBLEMS[@]}\"")
check "missing history file is a problem" "1" "$(grep -c 'history file of timeline 2 is missing' <<<"$out")"
rm -f "$LISTING"

# Backup selection: the newest backup that ended before the target.
info='[{"backup":[{"label":"F1","lsn":{"stop":"0/3000100"},"timestamp":{"stop":1000}},
	{"label":"F1_I2","lsn":{"stop":"0/9000000"},"timestamp":{"stop":2000}}]}]'
check "backup for an LSN between two backups" "F1" "$(run "choose_backup '$info' lsn 0/5000000" | head -n 1)"
check "backup for a late LSN" "F1_I2" "$(run "choose_backup '$info' lsn 1/0" | head -n 1)"
check "backup for a time" "F1" "$(run "choose_backup '$info' time 1500.5" | head -n 1)"
check "no backup before an early time" "rc=0" "$(run "choose_backup '$info' time 10")"
check "latest backup" "F1_I2" "$(run "choose_backup '$info' latest x" | head -n 1)"

# Repository settings.
out=$(run 'FREIGHT_DBA_HOME=/d; FREIGHT_REPO_TYPE=posix; FREIGHT_REPO_CIPHER_PASS=s3cret; FREIGHT_RETENTION_FULL=3; FREIGHT_RETENTION_DIFF=; repo_settings')
check "local repository path" "1" "$(grep -c '^repo1-path=/d/repo$' <<<"$out")"
check "encryption" "2" "$(grep -cE '^repo1-cipher-(type=aes-256-cbc|pass=s3cret)$' <<<"$out")"
check "retention" "1" "$(grep -c '^repo1-retention-full=3$' <<<"$out")"
out=$(run 'FREIGHT_REPO_TYPE=s3; FREIGHT_REPO_S3_BUCKET=b; FREIGHT_REPO_S3_ENDPOINT=minio.lan; FREIGHT_REPO_S3_KEY=k;
	FREIGHT_REPO_S3_KEY_SECRET=ks; FREIGHT_REPO_S3_URI_STYLE=path; FREIGHT_RETENTION_FULL=2; FREIGHT_RETENTION_DIFF=; repo_settings')
check "S3 repository" "4" "$(grep -cE '^repo1-(type=s3|s3-bucket=b|s3-endpoint=minio.lan|s3-uri-style=path)$' <<<"$out")"
out=$(run 'FREIGHT_REPO_TYPE=s3; FREIGHT_REPO_S3_ENDPOINT=x; FREIGHT_REPO_S3_KEY=k; FREIGHT_REPO_S3_KEY_SECRET=ks; repo_settings')
check "S3 without a bucket is refused" "1" "$(grep -c 'set FREIGHT_REPO_S3_BUCKET' <<<"$out")"
out=$(run 'FREIGHT_REPO_TYPE=host; FREIGHT_REPO_HOST=backup1; FREIGHT_RETENTION_FULL=2; FREIGHT_RETENTION_DIFF=; repo_settings')
check "remote repository host" "2" "$(grep -cE '^repo1-host(=backup1|-user=pgbackrest)$' <<<"$out")"
out=$(run 'FREIGHT_REPO_TYPE=ftp; repo_settings')
check "unknown repository type is refused" "1" "$(grep -c 'FREIGHT_REPO_TYPE must be posix, s3 or host, not "ftp"' <<<"$out")"

# The command line refuses bad input before touching anything.
ctl="$SRC/contrib/dba/freightctl"
check "unknown command" "2" "$(FREIGHT_DBA_HOME=/nonexistent "$ctl" bogus >/dev/null 2>&1; echo $?)"
out=$(FREIGHT_DBA_HOME=/nonexistent "$ctl" restore --into /tmp/x 2>&1)
check "restore without --to" "freightctl: error: restore needs --to TIME|LSN|latest" "$out"
out=$(FREIGHT_DBA_HOME=/nonexistent "$ctl" replica add 'Bad Name' --into /tmp/x 2>&1)
check "bad replica name" "1" "$(grep -c 'replica name "Bad Name" must be lower-case' <<<"$out")"

# With a repository host, backup and verify run there, over the ssh command pgBackRest uses.
out=$(run 'FREIGHT_REPO_TYPE=host; FREIGHT_REPO_HOST=backup1; FREIGHT_REPO_HOST_PORT=2222;
	FREIGHT_REPO_HOST_CONFIG=/etc/pgbr/repo.conf; FREIGHT_REPO_HOST_SSH=/opt/ssh-wrap; FREIGHT_RETENTION_FULL=2;
	FREIGHT_RETENTION_DIFF=; repo_settings')
check "repository host: SSH port, its config file, the ssh command" "3" \
	"$(grep -cxE 'repo1-host-port=2222|repo1-host-config=/etc/pgbr/repo.conf|cmd-ssh=/opt/ssh-wrap' <<<"$out")"
out=$(run 'FREIGHT_REPO_TYPE=host; FREIGHT_REPO_HOST=backup1; FREIGHT_REPO_HOST_PORT=2222;
	FREIGHT_REPO_HOST_CONFIG="/etc/pg br/repo.conf"; FREIGHT_REPO_HOST_SSH=echo; pgbr_at_repo backup --type=full')
check "backup runs on the repository host, arguments quoted for its shell" \
	"-o BatchMode=yes -o LogLevel=error -p 2222 pgbackrest@backup1 pgbackrest --config=/etc/pg\\ br/repo.conf --stanza=freight backup --type=full 
rc=0" "$out"
out=$(run 'FREIGHT_REPO_TYPE=posix; pgbr() { echo "local pgbackrest $*"; }; pgbr_at_repo verify')
check "without a repository host, backup and verify run here" "local pgbackrest verify
rc=0" "$out"
out=$(FREIGHT_DBA_HOME=/nonexistent FREIGHTCTL_CONF=/nonexistent/conf "$ctl" verify 2>&1)
check "missing conf file" "freightctl: error: configuration file /nonexistent/conf does not exist" "$out"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
