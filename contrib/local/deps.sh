#!/bin/sh
# deps.sh — install what freight needs on Debian 12 (`make deps`).  Fast when all is present.
#
# Debian packages: PostgreSQL 15 and its headers, the C libraries freight links, the tools the
# tests and benchmarks drive.  npm packages: the end-to-end clients under test/e2e and bench/.
# Also creates the OS user "freight" that runs local clusters and tests (PostgreSQL will not run
# as root).
set -e
PKGS="postgresql-15 postgresql-server-dev-15 postgresql-contrib libssl-dev libcurl4-openssl-dev
libmicrohttpd-dev libjansson-dev zlib1g-dev libbrotli-dev libmimalloc-dev libpq-dev libipc-run-perl
postgresql-15-wal2json postgresql-15-pgrouting pgbackrest postgresql-15-auto-failover
gcc make perl openssl curl nodejs npm jq
libgnutls28-dev clang wrk chromium openssh-client dropbear-bin libnss-wrapper"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node from another source (nvm, NodeSource) is fine: only install Debian's if there is none.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	missing=$(echo "$missing" | sed 's/ nodejs//; s/ npm//')
fi
if [ -n "$(echo "$missing" | tr -d ' ')" ]; then
	echo "deps: installing$missing"
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi

if ! id freight >/dev/null 2>&1; then
	echo "deps: creating OS user freight"
	$SUDO useradd --system --create-home --shell /bin/sh freight
fi

# npm packages for end-to-end tests and benchmarks (each folder with a package.json).
for d in test/e2e test/peers bench/api contrib/partner; do
	if [ -f "$d/package.json" ] && [ ! -d "$d/node_modules" ]; then
		echo "deps: npm install in $d"
		(cd "$d" && npm install --no-audit --no-fund --loglevel=error)
	fi
done
exit 0
