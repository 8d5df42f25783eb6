# 050_webhooks.pl — the webhook dispatcher against real receivers on 127.0.0.1.
#
# One Node receiver (contrib/partner/receiver.js) plays every kind of partner by path: it
# answers 200, 500, 410, 400, 429 with Retry-After, answers slowly, never answers, drops the
# connection, or fails the first attempts.  It verifies every delivery with the npm package
# standardwebhooks (independent of freight's signing code) and logs one JSON line per request.
# The test checks retries, backoff growth, Retry-After, dead-lettering, replay, secret rotation
# (two signatures, either secret verifies), the connect-time private-address check, oversized
# events, disabling an endpoint that fails for too long, and ordered delivery through retries.
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
	'webhooks', extra_conf => qq{
freight.webhook_allow_private = on
freight.webhook_retry_schedule = '300ms, 600ms, 1200ms'
freight.webhook_timeout = 2s
freight.webhook_connect_timeout = 1s
freight.webhook_disable_after = 1min
});
$node->start;
create_freight_db($node);

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $base = "http://127.0.0.1:$port";
my $secrets_file = "$PostgreSQL::Test::Utils::tmp_check/webhook_secrets";
my $log = "$PostgreSQL::Test::Utils::tmp_check/receiver.jsonl";

sub sql { return $node->safe_psql('freight', shift); }

# Registers an endpoint; returns (id, secret).
sub register
{
	my ($path, $types) = @_;
	my $row = sql("SELECT id || ' ' || secret FROM freight.register_webhook('$base$path', '$types')");
	return split / /, $row;
}

sub write_secrets
{
	open my $fh, '>', $secrets_file or die $!;
	print $fh map { "$_\n" } @_;
	close $fh;
}

# Receiver log lines (decoded), optionally only those for a path.
sub received
{
	my ($path) = @_;
	return () unless -f $log;
	open my $fh, '<', $log or die $!;
	my @lines = map { decode_json($_) } grep { /\S/ } <$fh>;
	close $fh;
	return grep { !defined $path || $_->{path} eq $path } @lines;
}

sub wait_for_status
{
	my ($where, $status, $name) = @_;
	ok( $node->poll_query_until(
			'freight',
			"SELECT bool_and(status = '$status') AND count(*) > 0 FROM freight.webhook_deliveries WHERE $where"),
		$name);
}

my %ep;
my %secret_of;
my @secrets;
for my $p (qw(ok fail hang drop slow gone reject throttle flaky rotate private sick))
{
	my $path = {
		slow => '/slow?ms=300',
		throttle => '/throttle?s=2',
		flaky => '/flaky?n=2',
		rotate => '/ok',
		private => '/ok',
		sick => '/fail',
	}->{$p} // "/$p";
	my ($id, $secret) = register($path, $p eq 'ok' ? '{*}' : '{webhook.test}');
	$ep{$p} = $id;
	$secret_of{$p} = $secret;
	push @secrets, $secret;
}
write_secrets(@secrets);

my ($out, $err) = ('', '');
my $receiver = IPC::Run::start(
	[ 'node', "$partner/receiver.js" ],
	'>', \$out, '2>', \$err,
	init => sub {
		$ENV{PORT} = $port;
		$ENV{LOG} = $log;
		$ENV{SECRETS_FILE} = $secrets_file;
	});
my $deadline = time + 20;
$receiver->pump until $out =~ /listening/ || time > $deadline;
like($out, qr/listening $port/, 'receiver is listening');

# --- Delivery of CDC and operational events, signed and verified independently ---------------
ok($node->poll_query_until('freight', "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'freight_cdc'"),
	'the CDC worker is capturing');
my $customer = sql("SELECT id FROM freight.create_customer('Webhook Test Customer')");
my $tracking = sql("SELECT tracking_number FROM freight.create_shipment('A 1', 'B 2', 5, $customer)");
sql("SELECT freight.emit_event('/freight/test', 'cdc.slot_lag', 'n' || g, json_build_object('n', g)) FROM generate_series(1, 20) g");
ok($node->poll_query_until('freight', "SELECT count(*) = 21 FROM freight.webhook_deliveries d JOIN freight.events e ON e.id = d.event_id WHERE d.endpoint_id = $ep{ok} AND d.status = 'delivered' AND e.type IN ('shipment.created', 'cdc.slot_lag')"),
	'CDC and operational events to /ok are delivered');
my @ok = received('/ok');
my %types = map { ($_->{type} // '') => 1 } @ok;
ok($types{'shipment.created'}, 'the CDC event shipment.created reached the endpoint');
is(scalar(grep { $_->{type} eq 'cdc.slot_lag' } @ok), 20, 'all 20 operational events arrived');
ok(!grep({ !$_->{verified} } @ok), 'every delivery verifies with the standardwebhooks package');
ok(!grep({ $_->{content_type} ne 'application/cloudevents+json; charset=utf-8' } @ok),
	'structured-mode CloudEvents content type');
is(sql("SELECT count(*) FROM freight.webhook_deliveries WHERE endpoint_id = $ep{ok} AND webhook_id <> 'msg_' || event_id"),
	0, 'webhook-id is msg_<event id>');

# --- Failure modes: one test message each -------------------------------------------------------
for my $p (qw(fail hang drop slow gone reject throttle flaky))
{
	sql("SELECT freight.send_webhook($ep{$p}, 'webhook.test', '{\"case\": \"$p\"}')");
}

wait_for_status("endpoint_id = $ep{slow}", 'delivered', 'a slow answer within the timeout is delivered');
wait_for_status("endpoint_id = $ep{flaky}", 'delivered', 'a flaky endpoint is delivered after retries');
is(sql("SELECT attempts FROM freight.webhook_deliveries WHERE endpoint_id = $ep{flaky}"), 3,
	'flaky: two 500s, then 200 on the third attempt');

wait_for_status("endpoint_id = $ep{reject}", 'dead', '400 is dead-lettered at once');
is(sql("SELECT attempts || ' ' || last_status_code FROM freight.webhook_deliveries WHERE endpoint_id = $ep{reject}"),
	'1 400', '400: one attempt, no retry');

wait_for_status("endpoint_id = $ep{gone}", 'dead', '410 is dead-lettered at once');
is(sql("SELECT active || ' ' || disabled_reason FROM freight.webhook_endpoints WHERE id = $ep{gone}"),
	'false the endpoint answered 410 Gone', '410 disables the endpoint with a reason');
is(sql("SELECT count(*) FROM freight.security_events WHERE kind = 'webhook_endpoint_disabled' AND detail->>'endpoint_id' = '$ep{gone}'"),
	1, 'a security event records the disabled endpoint');
is(sql("SELECT count(*) FROM freight.events WHERE type = 'webhook.endpoint_disabled' AND subject = '$ep{gone}'"),
	1, 'a webhook.endpoint_disabled event is written');

for my $p (qw(fail hang drop))
{
	wait_for_status("endpoint_id = $ep{$p}", 'dead', "$p: dead-lettered after the retry schedule");
	is(sql("SELECT attempts FROM freight.webhook_deliveries WHERE endpoint_id = $ep{$p}"), 4,
		"$p: 1 attempt + 3 retries");
}
my @fail = received('/fail');
@fail = grep { $_->{type} eq 'webhook.test' && $_->{id} eq $fail[0]{id} } @fail;
is(scalar(@fail), 4, 'the receiver saw 4 attempts of the failing message');
ok(!grep({ $_->{id} ne $fail[0]{id} } @fail), 'webhook-id is the same on every retry');
my @gaps = map { $fail[$_]{t} - $fail[ $_ - 1 ]{t} } 1 .. $#fail;
ok($gaps[0] >= 250 && $gaps[1] >= 500 && $gaps[2] >= 1000, "backoff follows the schedule (gaps @gaps ms)");
ok($gaps[1] > $gaps[0] && $gaps[2] > $gaps[1], 'backoff grows');
like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{hang}"),
	qr/timed out/i, 'hang: the error says the request timed out');
like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{drop}"),
	qr/empty reply|recv|reset|closed/i, 'drop: the error says the connection was dropped');
is(scalar(received('/hang')), 4, 'hang: the receiver saw every attempt');

# 429 with Retry-After: 2 — the retry waits 2 s instead of the schedule's 300 ms.
ok($node->poll_query_until('freight', "SELECT attempts >= 2 FROM freight.webhook_deliveries WHERE endpoint_id = $ep{throttle}"),
	'throttled delivery is retried');
my @thr = received('/throttle');
ok($thr[1]{t} - $thr[0]{t} >= 1900, 'Retry-After is honoured (' . ($thr[1]{t} - $thr[0]{t}) . ' ms)');

# --- Replay: a single delivery and a time range ---------------------------------------------
my $delivered = sql("SELECT id FROM freight.webhook_deliveries WHERE endpoint_id = $ep{ok} ORDER BY id LIMIT 1");
my $wid = sql("SELECT webhook_id FROM freight.webhook_deliveries WHERE id = $delivered");
sql("SELECT freight.webhook_replay($delivered)");
ok($node->poll_query_until('freight', "SELECT status = 'delivered' FROM freight.webhook_deliveries WHERE id = $delivered"),
	'replayed delivery is delivered again');
is(scalar(grep { $_->{id} eq $wid } received('/ok')), 2, 'the receiver got the replay with the same webhook-id');
my $dead = sql("SELECT id FROM freight.webhook_deliveries WHERE endpoint_id = $ep{reject}");
sql("UPDATE freight.webhook_endpoints SET url = '$base/ok', config_version = config_version + 1 WHERE id = $ep{reject}");
sql("SELECT freight.webhook_replay($dead)");
ok($node->poll_query_until('freight', "SELECT status = 'delivered' FROM freight.webhook_deliveries WHERE id = $dead"),
	'a dead-lettered delivery replays once the partner fixed its URL');
is(sql("SELECT freight.webhook_replay($ep{ok}, now() - interval '1 hour', now() + interval '1 hour')"),
	sql("SELECT count(*) FROM freight.webhook_deliveries WHERE endpoint_id = $ep{ok}"),
	'time-range replay re-sends every delivery of the endpoint in the range');
wait_for_status("endpoint_id = $ep{ok}", 'delivered', 'time-range replay delivered');

# --- Secret rotation: two signatures while rotating; either secret alone verifies ------------
my $new = sql("SELECT freight.rotate_webhook_secret($ep{rotate})");
write_secrets($new);
sql("SELECT freight.send_webhook($ep{rotate}, 'webhook.test', '{\"secret\": \"new\"}')");
wait_for_status("endpoint_id = $ep{rotate}", 'delivered', 'after rotation: delivered, verified with the new secret alone');
write_secrets($secret_of{rotate});
sql("SELECT freight.send_webhook($ep{rotate}, 'webhook.test', '{\"secret\": \"old\"}')");
wait_for_status("endpoint_id = $ep{rotate}", 'delivered', 'after rotation: verified with the old secret alone');
my @rot = grep { $_->{type} eq 'webhook.test' } received('/ok');
ok(@rot >= 2 && !grep({ $_->{signatures} != 2 || !$_->{verified} } @rot[-2, -1]),
	'rotating endpoint sends two signatures, both deliveries verified');
write_secrets(@secrets, $new);

# --- Connect-time address check ---------------------------------------------------------------
$node->append_conf('postgresql.conf', "freight.webhook_allow_private = off\n");
$node->reload;
usleep(300_000);
my $before = scalar(received());
sql("SELECT freight.send_webhook($ep{private}, 'webhook.test', '{}')");
ok($node->poll_query_until('freight', "SELECT last_error IS NOT NULL FROM freight.webhook_deliveries WHERE endpoint_id = $ep{private}"),
	'delivery to a loopback address is attempted');
like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{private}"),
	qr/refused to (connect|send) to a non-public address \(loopback\)/, 'refused at connect time');
is(scalar(received()), $before, 'the receiver saw nothing');
$node->append_conf('postgresql.conf', "freight.webhook_allow_private = on\n");
$node->reload;

# --- Oversized events are dead-lettered with a clear error ------------------------------------
sql("SELECT freight.emit_event('/freight/test', 'cdc.slot_lag', 'big', json_build_object('blob', repeat('x', 70000)))");
ok($node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.webhook_deliveries d JOIN freight.events e ON e.id = d.event_id WHERE e.subject = 'big' AND d.status = 'dead'"),
	'an event larger than freight.webhook_max_payload is dead-lettered');
like(sql("SELECT last_error FROM freight.webhook_deliveries d JOIN freight.events e ON e.id = d.event_id WHERE e.subject = 'big'"),
	qr/exceeds freight.webhook_max_payload/, 'with a clear error');

# --- An endpoint failing longer than freight.webhook_disable_after (1 min) is disabled --------
sql("SELECT freight.send_webhook($ep{sick}, 'webhook.test', '{}')");
wait_for_status("endpoint_id = $ep{sick}", 'dead', 'sick endpoint: first message dead-lettered');
ok(sql("SELECT failing_since IS NOT NULL AND active FROM freight.webhook_endpoints WHERE id = $ep{sick}") eq 't',
	'the failing endpoint is marked failing, still active');
# Pretend the failures began two minutes ago rather than waiting for them.
sql("UPDATE freight.webhook_endpoints SET failing_since = now() - interval '2 minutes' WHERE id = $ep{sick}");
sql("SELECT freight.send_webhook($ep{sick}, 'webhook.test', '{}')");
ok($node->poll_query_until('freight', "SELECT NOT active FROM freight.webhook_endpoints WHERE id = $ep{sick}"),
	'an endpoint failing for longer than freight.webhook_disable_after is disabled');
like(sql("SELECT disabled_reason FROM freight.webhook_endpoints WHERE id = $ep{sick}"),
	qr/failing since .* longer than freight.webhook_disable_after/, 'with the reason');

# --- Ordered delivery: one message at a time, in order, even through retries -----------------
# Four messages each to an ordered and an unordered endpoint that fail every message twice.
my @flaky_secrets;
for my $mode (qw(ordered unordered))
{
	my $row = sql("SELECT id || ' ' || secret FROM freight.register_webhook('$base/flaky?n=2', '{webhook.test}', "
		  . 'ordered => ' . ($mode eq 'ordered' ? 'true' : 'false') . ')');
	($ep{$mode}, my $secret) = split / /, $row;
	push @flaky_secrets, $secret;
}
write_secrets(@secrets, $new, @flaky_secrets);
sql("SELECT freight.send_webhook(ep, 'webhook.test', json_build_object('n', g)::jsonb)
	 FROM unnest(ARRAY[$ep{ordered}, $ep{unordered}]) ep, generate_series(1, 4) g");
wait_for_status("endpoint_id IN ($ep{ordered}, $ep{unordered})", 'delivered',
	'ordered and unordered: all eight messages delivered after their retries');

# The webhook-ids of an endpoint's deliveries in the order the receiver saw the attempts.
sub arrivals
{
	my ($endpoint) = @_;
	my %mine = map { $_ => 1 } split /\n/, sql("SELECT webhook_id FROM freight.webhook_deliveries WHERE endpoint_id = $endpoint");
	return map { $_->{id} } grep { $mine{ $_->{id} } } received('/flaky');
}
my @in_order = split /\n/, sql("SELECT webhook_id FROM freight.webhook_deliveries WHERE endpoint_id = $ep{ordered} ORDER BY id");
is_deeply([ arrivals($ep{ordered}) ], [ map { ($_) x 3 } @in_order ],
	'ordered: every attempt of a message comes before the first attempt of the next');
my @unordered = arrivals($ep{unordered});
is(scalar(@unordered), 12, 'unordered: three attempts of each of the four messages');
is(scalar(keys %{ { map { $_ => 1 } @unordered[0 .. 3] } }), 4,
	'unordered: all four messages are tried before any retry (sent side by side)');

# Order is per subject (a shipment's tracking number, ...): two subjects, two events each.
my ($by_subject, $by_subject_secret) = split / /,
  sql("SELECT id || ' ' || secret FROM freight.register_webhook('$base/flaky?n=2', '{cdc.slot_lag}', ordered => true)");
push @flaky_secrets, $by_subject_secret;
write_secrets(@secrets, $new, @flaky_secrets);
sql("SELECT count(freight.emit_event('/freight/test', 'cdc.slot_lag', s, '{}')) FROM unnest(ARRAY['a', 'b', 'a', 'b']) s");
wait_for_status("endpoint_id = $by_subject", 'delivered', 'by subject: all four events delivered after their retries');
my %subject_of = map { split / / } split /\n/,
  sql("SELECT webhook_id || ' ' || order_key FROM freight.webhook_deliveries WHERE endpoint_id = $by_subject");
my @by_subject = arrivals($by_subject);
# (The /ok endpoint gets the same events with the same webhook-ids, so the receiver counts some
# of their failing attempts there: compare the order of the attempts, not their number.)
my %rank;
@rank{ split /\n/, sql("SELECT webhook_id FROM freight.webhook_deliveries WHERE endpoint_id = $by_subject ORDER BY id") } = (1 .. 4);
for my $s (qw(a b))
{
	my @ranks = map { $rank{$_} } grep { $subject_of{$_} eq $s } @by_subject;
	my %distinct = map { $_ => 1 } @ranks;
	ok(keys(%distinct) == 2 && join(',', @ranks) eq join(',', sort { $a <=> $b } @ranks),
		"by subject: the attempts of subject $s come in event order (@ranks)");
}
isnt($subject_of{ $by_subject[0] }, $subject_of{ $by_subject[1] }, 'by subject: the two subjects go side by side');

# --- A read-only server (pg_auto_failover holds a primary so while it promotes) --------------
# A delivery in flight when writes stop: its outcome waits in memory, without errors, and is
# stored once writes are back.
my ($slow_ep, $slow_secret) = split / /,
  sql("SELECT id || ' ' || secret FROM freight.register_webhook('$base/slow?ms=1500', '{webhook.test}')");
write_secrets(@secrets, $new, @flaky_secrets, $slow_secret);
my $ro_offset = -s $node->logfile;
sql("SELECT freight.send_webhook($slow_ep, 'webhook.test', '{}')");
usleep(300_000);
sql("ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf()");
sleep(3);
is(sql("SELECT status || ' ' || attempts FROM freight.webhook_deliveries WHERE endpoint_id = $slow_ep"), 'pending 0',
	'read-only: the answered delivery is not stored yet');
unlike(slurp_file($node->logfile, $ro_offset), qr/read-only transaction/, 'read-only: the dispatcher logs no error');
sql("SET default_transaction_read_only = off; ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf()");
wait_for_status("endpoint_id = $slow_ep", 'delivered', 'writes back: the outcome is stored');
is(scalar(grep { $_->{path} eq '/slow' && $_->{status} == 200 } received('/slow')), 2,
	'sent once (the other /slow request is the earlier test message)');

# --- Retention: the dispatcher deletes finished deliveries older than freight.webhook_retention -
sql("UPDATE freight.webhook_deliveries SET created_at = now() - interval '40 days', last_attempt_at = now() - interval '40 days'
	 WHERE endpoint_id = $ep{ok}");
my $waiting = sql("SELECT count(*) FROM freight.webhook_deliveries WHERE status IN ('pending', 'failed')");
my $recent = sql("SELECT count(*) FROM freight.webhook_deliveries WHERE endpoint_id <> $ep{ok}");
sql("ALTER SYSTEM SET freight.webhook_retention = '30d'");
sql('SELECT pg_reload_conf()');
ok($node->poll_query_until('freight', "SELECT count(*) = 0 FROM freight.webhook_deliveries WHERE endpoint_id = $ep{ok}"),
	'finished deliveries older than freight.webhook_retention are deleted');
is(sql("SELECT count(*) FROM freight.webhook_deliveries WHERE endpoint_id <> $ep{ok}"), $recent,
	'newer deliveries are kept');

# The worker kept running through all of it.
is(sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'freight webhook dispatcher'"), 1,
	'the dispatcher is still running');
my $log_text = slurp_file($node->logfile);
unlike($log_text, qr/whsec_/, 'no secret in the server log');

$receiver->kill_kill;
$node->stop;
done_testing();
