# Change-data capture end to end: 10,000 changes in transactions of mixed sizes, from two
# sessions at once and with the CDC worker terminated mid-way, become exactly 10,000 events in
# commit order (compared with test_decoding's view of the same WAL); rolled-back transactions give
# none; NOTIFY freight_events fires; switching capture off holds WAL back, which is reported (log
# warning and a cdc.slot_lag event), and switching it on again catches up.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FreightTest;

my $node = new_node('cdc', extra_conf => <<'CONF');
freight.cdc_batch_size = 700
CONF
$node->start;
create_freight_db($node);

sub sql { return $node->safe_psql('freight', $_[0]); }

$node->poll_query_until('freight', "SELECT active FROM freight.cdc_status")
  or die 'the CDC worker did not take its slot';

sql(<<'SQL');
CREATE TABLE public.items (id int PRIMARY KEY, status text NOT NULL, note text);
ALTER TABLE public.items REPLICA IDENTITY FULL;
INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column, status_column)
VALUES ('public.items', '/test/items', 'item', 'id', 'status');
SELECT 1 FROM pg_create_logical_replication_slot('truth', 'test_decoding');

-- 5,000 changes per call: 3,000 inserts, 1,500 status changes, 500 deletes, in transactions of
-- 1, 7, 50, 300 and 1000 rows in turn; every third transaction is followed by a rolled-back one.
CREATE PROCEDURE public.workload(part int) LANGUAGE plpgsql AS $$
DECLARE
	sizes int[] := '{1,7,50,300,1000}';
	base int := part * 100000;
	k int := 0;
	done int;
	sz int;
	total int;
	op text;
BEGIN
	FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
		total := CASE op WHEN 'insert' THEN 3000 WHEN 'update' THEN 1500 ELSE 500 END;
		done := 0;
		WHILE done < total LOOP
			sz := least(sizes[k % 5 + 1], total - done);
			IF op = 'insert' THEN
				INSERT INTO public.items SELECT base + i, 'new', 'row ' || i
				FROM generate_series(done + 1, done + sz) i;
			ELSIF op = 'update' THEN
				UPDATE public.items SET status = 'moving' WHERE id BETWEEN base + done + 1 AND base + done + sz;
			ELSE
				DELETE FROM public.items WHERE id BETWEEN base + 2001 + done AND base + 2000 + done + sz;
			END IF;
			COMMIT;
			IF k % 3 = 0 THEN
				INSERT INTO public.items SELECT base + 90000 + k * 10 + i, 'new', 'rolled back'
				FROM generate_series(1, 3) i;
				UPDATE public.items SET status = 'rolled' WHERE id = base + 1;
				ROLLBACK;
			END IF;
			done := done + sz;
			k := k + 1;
			PERFORM pg_sleep(0.001);
		END LOOP;
	END LOOP;
END $$;
SQL

# A listener, to see NOTIFY freight_events.
my ($listen_out, $listen_err) = ('', '');
my $listener = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('freight'), '-c', 'LISTEN freight_events',
		'-c', 'SELECT pg_sleep(4)', '-c', 'SELECT 1' ],
	'>', \$listen_out, '2>', \$listen_err);

# Two sessions at once, and the worker terminated while they run (it restarts after 5 s).
my @sessions;
for my $part (1, 2)
{
	my ($out, $err) = ('', '');
	push @sessions,
	  IPC::Run::start([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('freight'),
			'-c', "CALL public.workload($part)" ], '>', \$out, '2>', \$err);
}
$node->poll_query_until('freight', "SELECT count(*) > 2000 FROM freight.events WHERE source = '/test/items'");
ok(sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'freight cdc worker'") eq 't',
	'CDC worker terminated mid-workload');
ok($_->finish, 'workload session succeeded') for @sessions;
$listener->finish;

ok($node->poll_query_until('freight',
		"SELECT count(*) >= 10000 FROM freight.events WHERE source = '/test/items'"),
	'the CDC worker caught up');
sleep 1;
is(sql("SELECT count(*) FROM freight.events WHERE source = '/test/items'"), '10000',
	'exactly 10,000 events for 10,000 committed changes');
is(sql("SELECT count(*) FROM (SELECT DISTINCT lsn, seq FROM freight.events WHERE source = '/test/items') d"),
	'10000', 'every (lsn, seq) once');
is(sql("SELECT string_agg(type || ' ' || n, ', ' ORDER BY type) FROM "
		  . "(SELECT type, count(*) n FROM freight.events WHERE source = '/test/items' GROUP BY type) t"),
	'item.created 6000, item.deleted 1000, item.status_changed 3000', 'event types');
is(sql("SELECT count(*) FROM freight.events WHERE source = '/test/items' "
		  . "AND (data->>'note' = 'rolled back' OR data->>'status' = 'rolled')"),
	'0', 'rolled-back transactions produced no events');
is(sql("SELECT count(*) FROM (SELECT lsn, seq, lag(lsn) OVER w AS plsn, lag(seq) OVER w AS pseq "
		  . "FROM freight.events WHERE lsn IS NOT NULL WINDOW w AS (ORDER BY id)) x WHERE (lsn, seq) <= (plsn, pseq)"),
	'0', 'ids follow commit order (lsn, seq strictly increasing)');

# The same changes as test_decoding sees them, in its (commit) order.
my $truth = sql(<<'SQL');
SELECT string_agg(op || ':' || id, ',' ORDER BY n) FROM (
	SELECT n, CASE substring(data FROM '^table public\.items: ([A-Z]+):')
				WHEN 'INSERT' THEN 'item.created' WHEN 'UPDATE' THEN 'item.status_changed'
				ELSE 'item.deleted' END AS op,
		   substring(data FROM 'id\[integer\]:(\d+)') AS id
	FROM pg_logical_slot_get_changes('truth', NULL, NULL) WITH ORDINALITY AS c(lsn, xid, data, n)
	WHERE data LIKE 'table public.items:%') t
SQL
my $events = sql("SELECT string_agg(type || ':' || (data->>'id'), ',' ORDER BY id) "
	  . "FROM freight.events WHERE source = '/test/items'");
ok($truth eq $events, 'events are the committed changes, in commit order')
  or diag(substr($truth, 0, 300) . "\n" . substr($events, 0, 300));

like($listen_out, qr/Asynchronous notification "freight_events" with payload "\d+"/,
	'NOTIFY freight_events with the newest event id');

# The worker's own writes are not captured, and the status view reports no backlog.
is(sql("SELECT count(*) FROM freight.events WHERE source NOT IN ('/test/items')"), '0',
	'no other events (the worker does not capture itself)');
ok($node->poll_query_until('freight', "SELECT pending_wal_bytes < 100000 FROM freight.cdc_status"),
	'cdc_status shows the slot caught up');

# Capture off: the slot holds WAL back; over the limit there is a warning and a cdc.slot_lag event.
my $log_offset = -s $node->logfile;
sql("ALTER SYSTEM SET freight.cdc_enabled = off");
sql("ALTER SYSTEM SET freight.cdc_slot_lag_limit = '1MB'");
sql("SELECT pg_reload_conf()");
$node->poll_query_until('freight', "SELECT NOT active FROM freight.cdc_status");
sql("SELECT pg_drop_replication_slot('truth')");
sql("INSERT INTO public.items SELECT 500000 + i, 'new', repeat('x', 200) FROM generate_series(1, 20000) i");
ok($node->wait_for_log(qr/replication slot "freight_cdc" holds back \d+ MB of WAL/, $log_offset),
	'warning logged when the slot holds back more than freight.cdc_slot_lag_limit');
ok($node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.events WHERE type = 'cdc.slot_lag' "
		  . "AND (data->>'retained_wal_bytes')::bigint > 1048576 AND data->>'cdc_enabled' = 'false'"),
	'cdc.slot_lag event written');
is(sql("SELECT count(*) FROM freight.security_events WHERE kind = 'cdc_slot_lag' AND severity = 'high' "
		  . "AND (detail->>'retained_wal_bytes')::bigint > 1048576"),
	'1', 'cdc_slot_lag security event written');

# Capture on again: the changes made meanwhile arrive.
sql("ALTER SYSTEM SET freight.cdc_enabled = on");
sql("ALTER SYSTEM RESET freight.cdc_slot_lag_limit");
sql("SELECT pg_reload_conf()");
ok($node->poll_query_until('freight',
		"SELECT count(*) = 30000 FROM freight.events WHERE source = '/test/items'"),
	'capture resumes where it stopped');

# With a BEFORE row trigger on freight.events the worker writes through INSERT ... SELECT instead
# of multi-row inserts: same result.
sql(<<'SQL');
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS
	$$ BEGIN NEW.subject := NEW.subject || '!'; RETURN NEW; END $$;
CREATE TRIGGER stamp BEFORE INSERT ON freight.events FOR EACH ROW EXECUTE FUNCTION public.stamp();
SQL
sql("INSERT INTO public.items SELECT 600000 + i, 'new', 'via sql' FROM generate_series(1, 100) i");
ok($node->poll_query_until('freight', "SELECT count(*) = 100 FROM freight.events WHERE data->>'note' = 'via sql'"),
	'events written through the INSERT path');
is(sql("SELECT count(*) FROM freight.events WHERE data->>'note' = 'via sql' AND subject = (data->>'id') || '!'"),
	'100', 'the BEFORE trigger saw every row');
sql("DROP TRIGGER stamp ON freight.events");

# Retention: events older than freight.events_retention go, oldest first; the rest stay.  More
# than one batch (10,000) expires: a round deletes batch after batch, not one a minute.
my $cut = sql("SELECT max(id) - 50 FROM freight.events");
my $expiring = sql("SELECT count(*) FROM freight.events WHERE id <= $cut");
cmp_ok($expiring, '>', 10000, 'more than one purge batch expires');
sql("UPDATE freight.events SET time = time - interval '30 days' WHERE id <= $cut");
my $total = sql("SELECT count(*) FROM freight.events");
sql("ALTER SYSTEM SET freight.events_retention = '7d'");
sql("SELECT pg_reload_conf()");
my $purged = 0;
for (1 .. 40)
{
	last if ($purged = sql("SELECT NOT EXISTS (SELECT 1 FROM freight.events WHERE id <= $cut)") eq 't');
	sleep(1);
}
ok($purged, 'all expired events deleted in one round (within 40 s, not one batch a minute)');
is(sql("SELECT count(*) FROM freight.events"), $total - $expiring, 'only the expired events');

# A primary held read-only for a moment (pg_auto_failover does that while it promotes): the
# worker waits without failing or restarting, and captures again once writes are back.
my $cdc_pid = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'freight cdc worker'";
my $pid_before = sql($cdc_pid);
my $log_offset = -s $node->logfile;
sql("ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf()");
sleep(3);
unlike(slurp_file($node->logfile, $log_offset), qr/read-only transaction/, 'read-only server: the worker does not fail');
is(sql($cdc_pid), $pid_before, 'read-only server: the worker keeps running');
sql("SET default_transaction_read_only = off; ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf()");
sql("INSERT INTO public.items SELECT 700000 + i, 'new', 'after read-only' FROM generate_series(1, 10) i");
ok($node->poll_query_until('freight', "SELECT count(*) = 10 FROM freight.events WHERE data->>'note' = 'after read-only'"),
	'capture goes on once writes are back');

$node->stop;
done_testing();
