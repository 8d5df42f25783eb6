# 012_dump_restore.pl — a logical backup (pg_dump, pg_restore) of a freight database restores into
# a working copy.  freight's tables belong to the extension, so pg_dump writes only the rows of
# those marked as configuration tables: the domain data, data keys, webhook endpoints, the tables
# a user tracks in freight.cdc_tables or registers in freight.encrypted_columns, demand alerts
# and forecasts, rate-limit and security settings.  Not dumped, by design: freight.events and
# the webhook deliveries that belong to them (restored, they would be sent to partners again).
# The restore must be clean (no error, no duplicate of a row the extension script inserts), the
# ciphertext must decrypt, and new rows must get new ids.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my $node = new_node('dump_restore', extra_conf => "freight.webhook_allow_private = off\n");
$node->start;
create_freight_db($node);
sub sql { my ($db, $q) = @_; return $node->safe_psql($db, $q); }

# Data of every kind that a dump must carry.
my $tracking = sql('freight', q{
	SELECT (freight.create_customer('Dump Test GmbH', 'pro', 'dump@example.org', '+4930111222')).id AS cust \gset
	SELECT tracking_number FROM freight.create_shipment('Dumpstrasse 1, Berlin', 'Restoreweg 2, Hamburg', 7.5, :cust);
});
my ($endpoint, $secret) = split /\|/, sql('freight',
	"SELECT id || '|' || secret FROM freight.register_webhook('https://93.184.216.34/hooks/dump', '{cdc.*}')");
sql('freight', q{
	CREATE TABLE public.depots (id int PRIMARY KEY, name text NOT NULL, code bytea);
	INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column) VALUES ('public.depots', '/depots', 'depot', 'id');
	INSERT INTO freight.encrypted_columns (table_name, column_name, key_column) VALUES ('public.depots', 'code', 'id');
	INSERT INTO freight.demand_alerts (region, threshold) VALUES ('north', 42);
	INSERT INTO freight.rate_limit_overrides (key, tier) SELECT 'customer:1', 'enterprise';
});
sql('freight', "SELECT freight.emit_event('/freight/test', 'cdc.slot_lag', 'dump', '{}')");
is(sql('freight', 'SELECT count(*) FROM freight.webhook_deliveries'), 1,
	'the original holds an event and its delivery (which the dump leaves out)');
my %count_of = map { $_ => sql('freight', "SELECT count(*) FROM freight.$_") }
  qw(cdc_tables encrypted_columns shipment_statuses security_event_kinds rate_limit_tiers);

my $dump = "$PostgreSQL::Test::Utils::tmp_check/freight.dump";
my ($out, $err) = ('', '');
IPC::Run::run([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('freight') ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'pg_dump succeeds');
is($err, '', 'pg_dump prints no warning');

sql('postgres', 'CREATE DATABASE restored');
IPC::Run::run([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'pg_restore succeeds');
is($err, '', 'pg_restore prints no error (no duplicate of a row the extension inserts)');

is(sql('restored', "SELECT origin || ' -> ' || destination FROM freight.shipments_decrypted WHERE tracking_number = '$tracking'"),
	'Dumpstrasse 1, Berlin -> Restoreweg 2, Hamburg', 'restored shipment decrypts (data keys came along)');
is(sql('restored', "SELECT freight.decrypt(email, freight.encryption_context('freight.customers', 'email', id)) FROM freight.customers WHERE name = 'Dump Test GmbH'"),
	'dump@example.org', 'restored customer contact decrypts');
is(sql('restored', "SELECT url || ' ' || secret FROM freight.webhook_endpoint_config($endpoint)"),
	"https://93.184.216.34/hooks/dump $secret", 'webhook endpoint restored, its secret decrypts');
is(sql('restored', "SELECT string_agg(source, ',') FROM freight.cdc_tables WHERE rel = 'public.depots'::regclass"),
	'/depots', 'the tracked user table is still tracked');
is(sql('restored', "SELECT count(*) FROM freight.encrypted_columns WHERE table_name = 'public.depots'::regclass"),
	1, 'the user-registered encrypted column is still registered');
for my $t (sort keys %count_of)
{
	is(sql('restored', "SELECT count(*) FROM freight.$t"), $count_of{$t}, "freight.$t: same rows, none doubled");
}
is(sql('restored', "SELECT threshold FROM freight.demand_alerts WHERE region = 'north'"), 42, 'demand alert restored');
is(sql('restored', "SELECT tier FROM freight.rate_limit_overrides WHERE key = 'customer:1'"), 'enterprise',
	'rate-limit override restored');
is(sql('restored', 'SELECT count(*) FROM freight.events') . ' ' . sql('restored', 'SELECT count(*) FROM freight.webhook_deliveries'),
	'0 0', 'events and their deliveries are not in the dump');

# New rows continue the id sequences instead of colliding with restored ones.
ok(sql('restored', "SELECT (freight.create_customer('After Restore')).id > max(id) - 1 FROM freight.customers") eq 't'
	  && sql('restored', "SELECT count(DISTINCT id) = count(*) FROM freight.customers") eq 't',
	'a new customer gets a new id');
cmp_ok(sql('restored', "SELECT id FROM freight.register_webhook('https://93.184.216.34/hooks/new', '{*}')"),
	'>', $endpoint, 'a new webhook endpoint gets a new id');

$node->stop;
done_testing();
