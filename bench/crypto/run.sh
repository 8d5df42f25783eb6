#!/bin/sh
# bench/crypto — freight.encrypt/decrypt (AES-256-GCM, authenticated, per-row context) against
# pgcrypto in the same run on the same ~60-byte values:
#   encrypt_iv/decrypt_iv with aes-cbc (unauthenticated, fixed IV: the fast reference),
#   pgp_sym_encrypt/pgp_sym_decrypt with cipher-algo=aes256, with defaults and tuned
#   (compress-algo=0, s2k-count=1024: the cheapest key derivation it allows).
# Prints rows/s and ratios; best of 3 runs each.  ROWS (200000) and PGP_ROWS (5000) override.
set -eu
. "$(dirname "$0")/../lib.sh"
ROWS=${ROWS:-200000}
PGP_ROWS=${PGP_ROWS:-5000}
bench_cluster_start
trap bench_cluster_stop EXIT

$PSQL <<SQL
CREATE TABLE vals AS
	SELECT i AS id, 'Bahnhofstrasse ' || i || ', 8001 Zuerich, CH; +41 44 ' || lpad((i % 10000000)::text, 7, '0') AS v
	FROM generate_series(1, $ROWS) i;
CREATE TABLE enc AS
	SELECT id, freight.encrypt(v, 'freight.vals.v:' || id) AS f,
	       encrypt_iv(convert_to(v, 'UTF8'), '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '\x000102030405060708090a0b0c0d0e0f', 'aes-cbc') AS cbc,
	       CASE WHEN id <= $PGP_ROWS THEN pgp_sym_encrypt(v, 'correct horse battery staple', 'cipher-algo=aes256') END AS pgp,
	       CASE WHEN id <= $PGP_ROWS THEN pgp_sym_encrypt(v, 'correct horse battery staple', 'cipher-algo=aes256, compress-algo=0, s2k-count=1024') END AS pgp_fast
	FROM vals;
VACUUM ANALYZE vals;
VACUUM ANALYZE enc;
CREATE FUNCTION best_rate(q text, n int) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8 := 1e9; el float8;
BEGIN
	FOR i IN 1..3 LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		el := extract(epoch FROM clock_timestamp() - t0);
		best := least(best, el);
	END LOOP;
	RETURN round((n / best)::numeric);
END \$\$;
SQL

$PSQL -A -F ' ' -t > /tmp/freight-bench-crypto.$$ <<SQL
SELECT 'enc_freight', best_rate('SELECT count(freight.encrypt(v, ''freight.vals.v:'' || id)) FROM vals', $ROWS);
SELECT 'enc_cbc', best_rate('SELECT count(encrypt_iv(convert_to(v, ''UTF8''), ''\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'', ''\x000102030405060708090a0b0c0d0e0f'', ''aes-cbc'')) FROM vals', $ROWS);
SELECT 'enc_pgp', best_rate('SELECT count(pgp_sym_encrypt(v, ''correct horse battery staple'', ''cipher-algo=aes256'')) FROM vals WHERE id <= $PGP_ROWS', $PGP_ROWS);
SELECT 'enc_pgp_fast', best_rate('SELECT count(pgp_sym_encrypt(v, ''correct horse battery staple'', ''cipher-algo=aes256, compress-algo=0, s2k-count=1024'')) FROM vals WHERE id <= $PGP_ROWS', $PGP_ROWS);
SELECT 'dec_freight', best_rate('SELECT count(freight.decrypt(f, ''freight.vals.v:'' || id)) FROM enc', $ROWS);
SELECT 'dec_cbc', best_rate('SELECT count(convert_from(decrypt_iv(cbc, ''\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'', ''\x000102030405060708090a0b0c0d0e0f'', ''aes-cbc''), ''UTF8'')) FROM enc', $ROWS);
SELECT 'dec_pgp', best_rate('SELECT count(pgp_sym_decrypt(pgp, ''correct horse battery staple'')) FROM enc WHERE id <= $PGP_ROWS', $PGP_ROWS);
SELECT 'dec_pgp_fast', best_rate('SELECT count(pgp_sym_decrypt(pgp_fast, ''correct horse battery staple'')) FROM enc WHERE id <= $PGP_ROWS', $PGP_ROWS);
SELECT 'baseline', best_rate('SELECT count(convert_to(v, ''UTF8'')) FROM vals', $ROWS);
SELECT 'size_freight', round(avg(octet_length(f) - octet_length(v)), 1) FROM enc JOIN vals USING (id);
SELECT 'size_cbc', round(avg(octet_length(cbc) - octet_length(v)), 1) FROM enc JOIN vals USING (id);
SELECT 'size_pgp', round(avg(octet_length(pgp) - octet_length(v)), 1) FROM enc JOIN vals USING (id) WHERE id <= $PGP_ROWS;
SQL
r() { awk -v k="$1" '$1 == k { print $2 }' /tmp/freight-bench-crypto.$$; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<TXT
crypto benchmark, $(date -u +%Y-%m-%d), $ROWS values of ~60 bytes (pgp_sym_*: $PGP_ROWS)
                          encrypt rows/s   decrypt rows/s   bytes added per value
freight AES-256-GCM       $(printf '%14s' "$(r enc_freight)")   $(printf '%14s' "$(r dec_freight)")   $(r size_freight)
pgcrypto encrypt_iv CBC   $(printf '%14s' "$(r enc_cbc)")   $(printf '%14s' "$(r dec_cbc)")   $(r size_cbc) (no IV stored, no tag)
pgp_sym aes256 default    $(printf '%14s' "$(r enc_pgp)")   $(printf '%14s' "$(r dec_pgp)")   $(r size_pgp)
pgp_sym aes256 tuned      $(printf '%14s' "$(r enc_pgp_fast)")   $(printf '%14s' "$(r dec_pgp_fast)")
(scan + convert_to only: $(r baseline) rows/s)
ratios: encrypt vs encrypt_iv $(ratio "$(r enc_freight)" "$(r enc_cbc)")x, vs pgp_sym default $(ratio "$(r enc_freight)" "$(r enc_pgp)")x, vs pgp_sym tuned $(ratio "$(r enc_freight)" "$(r enc_pgp_fast)")x
        decrypt vs decrypt_iv $(ratio "$(r dec_freight)" "$(r dec_cbc)")x, vs pgp_sym default $(ratio "$(r dec_freight)" "$(r dec_pgp)")x, vs pgp_sym tuned $(ratio "$(r dec_freight)" "$(r dec_pgp_fast)")x
TXT
rm -f /tmp/freight-bench-crypto.$$
