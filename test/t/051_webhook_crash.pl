# 051_webhook_crash.pl — promise 2 for webhooks: kill -9 of the postmaster in the middle of a burst
# of events and deliveries loses nothing.  After the restart every committed event has its
# delivery and the receiver has seen every webhook-id at least once (duplicates are allowed: the
# receiver de-duplicates on webhook-id).
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my $partner = "$ENV{FREIGHT_SRC}/contrib/partner";
plan skip_all => "npm packages missing: run 'make deps'"
  unless -d "$partner/node_modules/standardwebhooks";

my $node = new_node(
	'webhook_crash', extra_conf => qq{
freight.webhook_allow_private = on
freight.webhook_retry_schedule = '200ms, 400ms, 800ms, 1s, 1s, 1s, 1s, 1s'
freight.webhook_timeout = 2s
freight.webhook_concurrency = 16
});
$node->start;
create_freight_db($node);

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $log = "$PostgreSQL::Test::Utils::tmp_check/receiver.jsonl";
my $secret = $node->safe_psql('freight',
	"SELECT secret FROM freight.register_webhook('http://127.0.0.1:$port/slow?ms=5', '{*}')");

my ($out, $err) = ('', '');
my $receiver = IPC::Run::start(
	[ 'node', "$partner/receiver.js" ],
	'>', \$out, '2>', \$err,
	init => sub {
		$ENV{PORT} = $port;
		$ENV{LOG} = $log;
		$ENV{WEBHOOK_SECRETS} = $secret;
	});
my $deadline = time + 20;
$receiver->pump until $out =~ /listening/ || time > $deadline;
like($out, qr/listening $port/, 'receiver is listening');

# A burst: 40 transactions of 100 events each, 0.1 s apart, written by a separate session while
# we crash.
my $burst = join '', map {
	"SELECT freight.emit_event('/freight/test', 'cdc.slot_lag', 'b$_-' || g, json_build_object('batch', $_, 'n', g)) FROM generate_series(1, 100) g;\n"
	  . "SELECT pg_sleep(0.1);\n"
} 1 .. 40;
my $burst_file = "$PostgreSQL::Test::Utils::tmp_check/burst.sql";
append_to_file($burst_file, $burst);
my ($bout, $berr) = ('', '');
my $writer = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('freight'), '-f', $burst_file ],
	'>', \$bout, '2>', \$berr);

ok( $node->poll_query_until('freight',
		"SELECT count(*) >= 300 FROM freight.webhook_deliveries WHERE status = 'delivered'"),
	'deliveries are flowing');
my $pid = $node->{_pid};
$node->kill9;
$writer->finish;
note "writer after the crash: $berr";
# The killed postmaster and its children need a moment to disappear before a restart.
for (1 .. 100)
{
	last unless kill 0, $pid;
	usleep(100_000);
}
my $started;
for (1 .. 30)
{
	last if ($started = $node->start(fail_ok => 1));
	usleep(500_000);
}
ok($started, 'the cluster restarts after kill -9');

my $events = $node->safe_psql('freight', 'SELECT count(*) FROM freight.events');
ok($events >= 300 && $events < 4000, "the crash interrupted the burst ($events events committed)");
is($node->safe_psql('freight',
		"SELECT count(*) FROM freight.events e WHERE NOT EXISTS (SELECT 1 FROM freight.webhook_deliveries d WHERE d.event_id = e.id)"),
	0, 'every committed event has its delivery');
ok( $node->poll_query_until('freight',
		"SELECT bool_and(status = 'delivered') FROM freight.webhook_deliveries"),
	'after the restart every delivery is delivered');

open my $fh, '<', $log or die $!;
my %seen;
my $requests = 0;
my $unverified = 0;
while (<$fh>)
{
	next unless /\S/;
	my $r = decode_json($_);
	$requests++;
	$unverified++ unless $r->{verified};
	$seen{ $r->{id} }++;
}
close $fh;
my @missing = grep { !$seen{$_} } split /\n/,
  $node->safe_psql('freight', 'SELECT webhook_id FROM freight.webhook_deliveries ORDER BY id');
is(scalar(@missing), 0, 'the receiver saw every webhook-id at least once')
  or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
is($unverified, 0, 'every request carried a valid signature');
my $dups = $requests - scalar(keys %seen);
note "$requests requests for " . scalar(keys %seen) . " webhook-ids ($dups re-sent after the crash)";

$receiver->kill_kill;
$node->stop;
done_testing();
