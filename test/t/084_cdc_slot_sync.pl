# The CDC slot across an unplanned failover, on a plain streaming replica (the pg_auto_failover
# version is 082_failover.pl).  The primary publishes its slot's state (freight.cdc_slot_state),
# the standby keeps a copy of the slot (workers/cdc_slot_sync.c); after kill -9 of the primary
# and pg_promote() of the standby, the CDC worker there turns every committed change into exactly
# one event: those the old primary had decoded, those it had not (capture paused before the
# crash, one of them in a transaction that was open across the slot's restart point), and those
# committed after the promotion.  Also: a standby cloned before the extension was installed waits
# quietly, a foreign slot of that name gets a clear warning, freight.cdc_slot_sync switches the
# copy off and on, the copy advances with the primary's slot, publishing produces no event.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use FreightTest;

my $primary = new_node('cdcsync_primary', extra_conf => "freight.cdc_slot_sync_interval = 100ms\n");
$primary->start;
$primary->safe_psql('postgres', q{CREATE DATABASE freight;
	SELECT pg_create_physical_replication_slot('standby1')});
sub prim { return $primary->safe_psql('freight', $_[0]); }

# The standby is cloned before the extension exists, and a physical slot squats the name there.
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('cdcsync_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby1'\nhot_standby_feedback = on\n");
$standby->start;
sub stby { return $standby->safe_psql('freight', $_[0]); }
$standby->safe_psql('postgres', q{SELECT pg_create_physical_replication_slot('freight_cdc')});

prim('CREATE EXTENSION freight CASCADE');
$primary->poll_query_until('freight', 'SELECT active FROM freight.cdc_status')
  or die 'the CDC worker did not take its slot';
prim(q{CREATE TABLE public.parcels (id int PRIMARY KEY);
	INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column)
	VALUES ('public.parcels', '/test/parcels', 'parcel', 'id')});
prim("INSERT INTO public.parcels VALUES ($_)") for 1 .. 10;
ok($primary->poll_query_until('freight', q{SELECT count(*) = 10 FROM freight.events WHERE type = 'parcel.created'}),
	'10 events on the primary');
ok($primary->poll_query_until('freight', q{SELECT in_sync FROM freight.cdc_failover_status}),
	'the primary publishes its slot state');

ok($standby->wait_for_log(qr/WARNING:  freight cdc slot sync: cannot keep a copy of the CDC slot: a replication slot of that name exists here that is not a logical slot/),
	'a foreign slot named freight_cdc on the standby: clear warning');
is(stby(q{SELECT slot_type FROM pg_replication_slots WHERE slot_name = 'freight_cdc'}), 'physical',
	'the foreign slot is left alone');
unlike(slurp_file($standby->logfile), qr/ERROR/,
	'no error on the standby while the extension was not installed yet');

# Switched off, the copier does nothing; switched on, it copies.
$standby->safe_psql('postgres', 'ALTER SYSTEM SET freight.cdc_slot_sync = off; SELECT pg_reload_conf()');
sleep 1;
$standby->safe_psql('postgres', q{SELECT pg_drop_replication_slot('freight_cdc')});
sleep 1;
is(stby(q{SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'freight_cdc'}), '0',
	'freight.cdc_slot_sync = off: no copy');
$standby->safe_psql('postgres', 'ALTER SYSTEM RESET freight.cdc_slot_sync; SELECT pg_reload_conf()');
ok($standby->poll_query_until('freight', q{SELECT in_sync FROM freight.cdc_failover_status}),
	'the standby keeps a copy of the CDC slot at the published state');
is(stby(q{SELECT slot_type || ' ' || plugin || ' ' || database || ' ' || (catalog_xmin IS NOT NULL)
	FROM pg_replication_slots WHERE slot_name = 'freight_cdc'}), 'logical freight freight true',
	'the copy is a logical slot of the freight plugin and database, holding catalog rows');
is(stby(q{SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'freight_cdc'}),
	prim(q{SELECT restart_lsn FROM freight.cdc_slot_state}), 'same restart_lsn as the published one');
ok($primary->poll_query_until('postgres',
	q{SELECT catalog_xmin IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'standby1'}),
	'hot_standby_feedback: the standby\'s physical slot holds a catalog_xmin on the primary');

# A transaction open across the slot's restart point: with the snapshot serialized there copied
# too, the promoted standby decodes it; without, it would start decoding inconsistent there.
my $copy_before = stby(q{SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'freight_cdc'});
my $txn_a = $primary->background_psql('freight');
$txn_a->query_safe('BEGIN; INSERT INTO public.parcels VALUES (100)');
my $decoded = sub {
	my $lsn = prim('CHECKPOINT; SELECT pg_current_wal_lsn()');
	$primary->poll_query_until('freight',
		"SELECT confirmed_flush_lsn >= '$lsn' FROM pg_replication_slots WHERE slot_name = 'freight_cdc'");
};
$decoded->();
my $txn_b = $primary->background_psql('freight');
$txn_b->query_safe('BEGIN; INSERT INTO public.parcels VALUES (101)');
$txn_a->query_safe('COMMIT');
$txn_a->quit;
prim("INSERT INTO public.parcels VALUES ($_)") for 11 .. 20;
$decoded->();
$decoded->();
ok($standby->poll_query_until('freight',
	"SELECT in_sync AND slot_restart_lsn > '$copy_before' FROM freight.cdc_failover_status"),
	'the copy advances with the primary\'s slot');
is(prim(q{SELECT snapshot IS NOT NULL FROM freight.cdc_slot_state}), 't',
	'the decoding snapshot at restart_lsn is published');
is(prim(q{SELECT count(*) FROM freight.events WHERE type <> 'parcel.created'}), '0',
	'publishing the slot state produces no event');

# Capture paused on the primary; more commits, then the open transaction commits; crash.
prim('ALTER SYSTEM SET freight.cdc_enabled = off; SELECT pg_reload_conf()');
$primary->poll_query_until('freight', 'SELECT NOT active FROM freight.cdc_status');
prim("INSERT INTO public.parcels VALUES ($_)") for 21 .. 40;
$txn_b->query_safe('COMMIT');
$txn_b->quit;
is(prim(q{SELECT count(*) FROM freight.events WHERE type = 'parcel.created'}), '21',
	'21 changes decoded on the primary, 21 not');
$primary->wait_for_catchup($standby, 'replay');
$primary->stop('immediate');
my $t_promote = time;
$standby->promote;
stby("INSERT INTO public.parcels VALUES ($_)") for 41 .. 45;

my @ids = (1 .. 45, 100, 101);
ok($standby->poll_query_until('freight',
	q{SELECT count(*) = 47 FROM freight.events WHERE type = 'parcel.created'}),
	'the promoted standby captures the changes the old primary had not decoded');
note(sprintf('all events on the promoted standby %.1f s after pg_promote() was called', time - $t_promote));
is(stby(q{SELECT count(*) FROM public.parcels p WHERE (SELECT count(*) FROM freight.events e
	WHERE e.type = 'parcel.created' AND e.subject = p.id::text) <> 1}), '0',
	'every committed change has exactly one event across the failover (' . scalar(@ids) . ' changes)');
is(stby(q{SELECT count(*) FROM public.parcels}), scalar(@ids), 'all committed rows are there');
ok($standby->log_contains(qr/freight cdc slot sync: this server was promoted/),
	'the slot copier hands over to the CDC worker at promotion');
ok($standby->poll_query_until('freight', q{SELECT in_sync AND NOT standby FROM freight.cdc_failover_status}),
	'the promoted server publishes its slot state');

done_testing();
