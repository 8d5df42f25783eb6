# 010_no_plaintext.pl — promise 1: no plaintext of sensitive columns at rest.
#
# A marker address, email and phone are written through the normal path (freight.create_customer,
# freight.create_driver, freight.create_shipment).  After a CHECKPOINT, the test proves that
# pg_dump output, every WAL segment, every data file and the server log hold no occurrence of
# them, while the decrypting view and freight.track() still return them.  A control string
# written to a plain column is found in the same places, so the scans demonstrably can see
# plaintext.
#
# Statement logging would capture the literals (see README, "Security model"): this cluster runs
# with log_statement = 'none' and log_min_error_statement = panic.
use strict;
use warnings;
use File::Find;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my %secret = (
	address => 'Marker Strasse 4711 Zzyzx',
	email => 'zzyzx.marker@example.org',
	phone => '4930987654321',);
my $control = 'Control Zzyzx Plain 0815';

my $node = new_node('no_plaintext',
	extra_conf => "log_statement = 'none'\nlog_min_error_statement = panic\n");
$node->start;
create_freight_db($node);

my $tracking = $node->safe_psql(
	'freight', qq{
	SELECT (freight.create_driver('Driver Zzyzx', '+$secret{phone}', '$secret{email}')).id \\gset
	SELECT (freight.create_customer('$control', 'pro', '$secret{email}', '+$secret{phone}')).id AS cust \\gset
	SELECT tracking_number FROM freight.create_shipment('$secret{address}', 'Elsewhere 1, Berlin', 12.5, :cust);
});
like($tracking, qr/^IFE-\d{12}$/, 'shipment created through create_shipment');

is( $node->safe_psql(
		'freight',
		"SELECT origin FROM freight.shipments_decrypted WHERE tracking_number = '$tracking'"),
	$secret{address},
	'the decrypting view returns the address');
is( $node->safe_psql(
		'freight', "SELECT freight.track('$tracking') ->> 'origin'"),
	$secret{address},
	'track() returns the address to a caller with the decrypt grant');
is( $node->safe_psql(
		'freight',
		"SELECT email || ' ' || phone FROM api.drivers WHERE name = 'Driver Zzyzx'"),
	"$secret{email} $secret{phone}",
	'the api view returns the driver contacts');

$node->safe_psql('freight', 'CHECKPOINT');

# Where the bytes at rest are: the dump, the WAL, the data files, the log.
my ($dump, $dump_err) = run_command(['pg_dump', '-d', $node->connstr('freight')]);
is($dump_err, '', 'pg_dump ran cleanly');

my (%wal, %data);
find(
	sub {
		return unless -f $_;
		my $rel = $File::Find::name;
		my $content = slurp_file($_);
		if ($rel =~ m{/pg_wal/}) { $wal{$rel} = $content; }
		else { $data{$rel} = $content; }
	},
	$node->data_dir);
ok(scalar(keys %wal) > 0, 'found WAL segments: ' . scalar(keys %wal));
ok(scalar(keys %data) > 100, 'found data files: ' . scalar(keys %data));
my $log = slurp_file($node->logfile);

sub holds
{
	my ($haystacks, $needle) = @_;
	return grep { index($haystacks->{$_}, $needle) >= 0 } sort keys %$haystacks;
}

my %places = (
	'pg_dump output' => { dump => $dump },
	'the WAL' => \%wal,
	'the data files' => \%data,
	'the server log' => { log => $log },);

# The scans see plaintext where there is some (the log is not expected to hold the control).
for my $place ('pg_dump output', 'the WAL', 'the data files')
{
	ok(scalar(holds($places{$place}, $control)) > 0, "control string found in $place");
}

for my $what (sort keys %secret)
{
	for my $place (sort keys %places)
	{
		my @hits = holds($places{$place}, $secret{$what});
		is(scalar(@hits), 0, "no plaintext $what in $place")
		  or diag("found in: @hits");
	}
}

# The dump is a usable backup: restored into a new database, the ciphertext decrypts again
# (same rows, same contexts, data keys dumped wrapped) and new rows get fresh ids.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my ($restore_out, $restore_err) = ('', '');
IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored') ],
	'<', \$dump, '>', \$restore_out, '2>', \$restore_err);
is($restore_err, '', 'the dump restores without errors');
is( $node->safe_psql(
		'restored',
		"SELECT origin FROM freight.shipments_decrypted WHERE tracking_number = '$tracking'"),
	$secret{address},
	'the restored copy decrypts the address');
is( $node->safe_psql(
		'restored', q{
	SELECT (freight.create_shipment('After 1, Kiel', 'After 2, Kiel', 1, c.id)).id > s.max_id
	FROM freight.customers c, (SELECT max(id) AS max_id FROM freight.shipments) s LIMIT 1}),
	't',
	'the restored copy continues the id sequences');

$node->stop;
done_testing();
