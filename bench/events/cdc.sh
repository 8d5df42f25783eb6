#!/bin/sh
# bench/events/cdc.sh — change-data capture throughput: freight's CDC worker (decode, write
# freight.events durably, commit) against wal2json format-version 2 decoding the same WAL through
# pg_logical_slot_get_changes (decode only, nothing written), in the same run on the same changes.
#
# Both slots exist before the workload, so both see exactly the same changes: CHANGES (200000)
# row changes, half inserts and half updates, in transactions of mixed sizes (1, 10, 100 and
# 1000 rows).  wal2json runs first with its cheapest options (format-version 2, no
# begin/commit rows; best of three passes); then the CDC worker is switched on and timed from the switch until the last
# event is committed (events carry their write time).  Prints events/s, changes/s and the ratio.
set -eu
. "$(dirname "$0")/../lib.sh"
CHANGES=${CHANGES:-200000}
HALF=$((CHANGES / 2))

BENCH_EXTRA_CONF="freight.database = 'bench'
freight.cdc_enabled = off
max_wal_size = 8GB
logical_decoding_work_mem = 256MB"
bench_cluster_start
trap bench_cluster_stop EXIT

$PSQL <<SQL
CREATE TABLE public.parcels (
	id bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	tracking_number text NOT NULL,
	status text NOT NULL,
	weight_kg numeric(10, 2) NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column)
VALUES ('public.parcels', '/bench/parcels', 'parcel', 'tracking_number');
SELECT 1 FROM pg_create_logical_replication_slot('freight_cdc', 'freight');
SELECT 1 FROM pg_create_logical_replication_slot('w2j', 'wal2json');
-- The workload: inserts then updates, each in transactions of 1, 10, 100 and 1000 rows in turn.
CREATE PROCEDURE public.workload(n bigint) LANGUAGE plpgsql AS \$\$
DECLARE
	sizes int[] := '{1,10,100,1000}';
	done bigint := 0;
	k int := 0;
	sz int;
BEGIN
	WHILE done < n LOOP
		sz := least(sizes[k % 4 + 1], n - done);
		INSERT INTO public.parcels (id, customer_id, tracking_number, status, weight_kg)
		SELECT i, i % 1000, 'IFE-' || lpad(i::text, 12, '0'), 'created', (i % 5000) / 100.0 + 1
		FROM generate_series(done + 1, done + sz) i;
		COMMIT;
		done := done + sz; k := k + 1;
	END LOOP;
	done := 0;
	WHILE done < n LOOP
		sz := least(sizes[k % 4 + 1], n - done);
		UPDATE public.parcels SET status = 'in_transit', updated_at = now()
		WHERE id BETWEEN done + 1 AND done + sz;
		COMMIT;
		done := done + sz; k := k + 1;
	END LOOP;
END \$\$;
CALL public.workload($HALF);
SQL

# Best of three: peek_changes decodes exactly like get_changes but leaves the slot where it is.
W2J=$($PSQL -tA <<'SQL'
CREATE TEMP TABLE w2j_runs (n bigint, secs float8);
DO $$
DECLARE t0 timestamptz; n bigint;
BEGIN
	FOR i IN 1..3 LOOP
		t0 := clock_timestamp();
		SELECT count(*) INTO n FROM pg_logical_slot_peek_changes('w2j', NULL, NULL,
			'format-version', '2', 'include-transaction', 'false');
		INSERT INTO w2j_runs VALUES (n, extract(epoch FROM clock_timestamp() - t0));
	END LOOP;
END $$;
SELECT n || ' ' || secs FROM w2j_runs ORDER BY secs LIMIT 1;
SQL
)
w2j_rows=${W2J% *}
w2j_secs=${W2J#* }

T0=$($PSQL -tAc "SELECT extract(epoch FROM clock_timestamp())")
$PSQL -c "ALTER SYSTEM SET freight.cdc_enabled = on" -c "SELECT pg_reload_conf()" > /dev/null
tries=0
while [ "$($PSQL -tAc "SELECT count(*) FROM freight.events WHERE source = '/bench/parcels'")" -lt $((HALF * 2)) ]; do
	tries=$((tries + 1))
	[ $tries -gt 1200 ] && { echo "cdc: timed out waiting for $((HALF * 2)) events" >&2; exit 1; }
	sleep 0.1
done
CDC=$($PSQL -tAc "SELECT count(*) || ' ' || (extract(epoch FROM max(recorded_at)) - $T0)
	FROM freight.events WHERE source = '/bench/parcels'")
cdc_rows=${CDC% *}
cdc_secs=${CDC#* }
FIRST=$($PSQL -tAc "SELECT round((extract(epoch FROM min(recorded_at)) - $T0)::numeric, 2) FROM freight.events")
CHECK=$($PSQL -tAc "SELECT count(DISTINCT (lsn, seq)) = count(*) AND bool_and(type IN ('parcel.created', 'parcel.updated'))
	FROM freight.events WHERE source = '/bench/parcels'")

echo "cdc: first events written $FIRST s after capture was switched on"
awk -v n="$cdc_rows" -v s="$cdc_secs" -v wn="$w2j_rows" -v ws="$w2j_secs" -v ok="$CHECK" 'BEGIN {
	cdc = n / s; w2j = wn / ws;
	printf "cdc: %d events written durably in %.2f s = %.0f events/s (distinct, typed: %s)\n", n, s, cdc, ok;
	printf "wal2json v2 (anchor): %d changes decoded in %.2f s = %.0f changes/s\n", wn, ws, w2j;
	printf "ratio cdc/wal2json: %.2f (goal >= 0.50)\n", cdc / w2j;
}'
