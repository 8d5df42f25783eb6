# Security events from the database's own hooks: privilege changes by non-admins (failed and
# succeeded), SET ROLE to a role the session cannot become, permission denials on freight objects
# (and not on others), passwords masked, client address recorded, the escalation rule, and admins
# neither blocked nor recorded.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Select;
use IPC::Run;
use IO::Socket::INET;
use JSON::PP;
use FreightTest;

# Export targets: a JSON-lines file and a syslog "server" (a UDP socket of this test).
my $syslog = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
  or die "udp socket: $!";
my $syslog_port = $syslog->sockport;
my $jsonl = "${PostgreSQL::Test::Utils::tmp_check}/security-events.jsonl";

my $node = new_node('security', extra_conf => <<"CONF");
listen_addresses = '127.0.0.1'
freight.rate_limit_persist_interval = 1
freight.security_events_file = '$jsonl'
freight.security_syslog_server = '127.0.0.1:$syslog_port'
CONF
$node->start;
create_freight_db($node);

sub sql { return $node->safe_psql('freight', $_[0]); }

sub as_role
{
	my ($role, $statement, %opts) = @_;
	my $connstr = $node->connstr('freight') . " user=$role";
	$connstr .= ' host=127.0.0.1' if $opts{tcp};
	my ($ret, $out, $err) = $node->psql('freight', $statement, connstr => $connstr);
	return ($ret, $err);
}

sub wait_events
{
	my ($where, $count) = @_;
	$node->poll_query_until('freight',
		"SELECT count(*) >= $count FROM freight.security_events WHERE $where")
	  or diag("timed out waiting for $count events where $where");
	return sql("SELECT count(*) FROM freight.security_events WHERE $where");
}

sql(q{
	CREATE ROLE mallory LOGIN PASSWORD 'x';
	CREATE ROLE boss LOGIN IN ROLE freight_admin;
	CREATE TABLE public.not_freight (id int);
	GRANT CREATE ON SCHEMA public TO mallory;
	GRANT USAGE ON SCHEMA freight TO mallory;
});

# Failed attempts by a non-admin: the statement fails as usual and is recorded.
my ($ret, $err) = as_role('mallory', 'GRANT freight_admin TO mallory', tcp => 1);
like($err, qr/must have admin option/, 'GRANT ROLE by non-admin fails as usual');
($ret, $err) = as_role('mallory', 'SET ROLE freight_admin');
like($err, qr/permission denied to set role/, 'SET ROLE to a foreign role fails as usual');
($ret, $err) = as_role('mallory', 'ALTER ROLE mallory SUPERUSER');
like($err, qr/must be superuser/, 'ALTER ROLE SUPERUSER fails as usual');
($ret, $err) = as_role('mallory', 'CREATE ROLE minion');
like($err, qr/permission denied to create role/, 'CREATE ROLE fails as usual');
is(wait_events("kind = 'privilege_escalation' AND actor = 'mallory' AND severity = 'high'", 4), 4,
	'four failed privilege changes recorded');
is(sql("SELECT client_addr FROM freight.security_events WHERE kind = 'privilege_escalation' "
	  . "AND detail ->> 'statement' LIKE 'GRANT freight_admin%'"), '127.0.0.1',
	'client address recorded for a TCP connection');
like(sql("SELECT detail ->> 'message' FROM freight.security_events WHERE kind = 'privilege_escalation' "
	  . "AND detail ->> 'statement' = 'CREATE ROLE minion'"), qr/^CREATE ROLE failed: permission denied/,
	'the command and the error are in the detail');
is(wait_events("kind = 'alert' AND detail ->> 'rule' = 'privilege_escalation_attempts' AND actor = 'mallory'", 1),
	1, 'repeated attempts raise one critical alert');

# Refused privileged actions outside utility statements are escalation attempts too.
($ret, $err) = as_role('mallory', "SELECT set_config('role', 'freight_admin', false)");
like($err, qr/permission denied to set role/, 'set_config(role) to a foreign role fails as usual');
($ret, $err) = as_role('mallory', "ALTER SYSTEM SET work_mem = '1GB'");
like($err, qr/permission denied to set parameter|must be superuser/, 'ALTER SYSTEM fails as usual');
is(wait_events("kind = 'privilege_escalation' AND actor = 'mallory' AND detail ->> 'statement' IS NULL", 2), 2,
	'both recorded as privilege escalation, without the statement');

# Succeeded changes by a non-admin are recorded too, with passwords masked.
($ret, $err) = as_role('mallory', "CREATE TABLE mine (id int); GRANT SELECT ON mine TO freight_anon");
is($ret, 0, 'GRANT on an own table works');
($ret, $err) = as_role('mallory', "ALTER ROLE mallory PASSWORD 'hunter2-secret'");
is($ret, 0, 'changing the own password works');
is(wait_events("kind = 'privilege_escalation' AND severity = 'medium' AND actor = 'mallory'", 2), 2,
	'succeeded privilege changes recorded');
is(sql("SELECT count(*) FROM freight.security_events WHERE detail::text LIKE '%hunter2%'"), '0',
	'the password is not in the events');
like(sql("SELECT detail ->> 'statement' FROM freight.security_events WHERE detail ->> 'statement' LIKE 'ALTER ROLE mallory PASSWORD%'"),
	qr/PASSWORD '\*\*\*'/, 'the password is masked');
# Quoted in other ways, nothing of the password is kept either.
as_role('mallory', 'ALTER ROLE mallory PASSWORD $$correct horse battery$$');
as_role('mallory', "ALTER ROLE mallory PASSWORD E'it''s staple'");
is(wait_events("kind = 'privilege_escalation' AND severity = 'medium' AND actor = 'mallory'", 4), 4,
	'dollar- and E-quoted password changes recorded');
is(sql("SELECT count(*) FROM freight.security_events WHERE detail::text ~ '(horse|battery|staple)'"), '0',
	'no part of a dollar- or E-quoted password is in the events');

# Permission denials: recorded on freight objects only.
($ret, $err) = as_role('mallory', 'SELECT * FROM freight.shipments');
like($err, qr/permission denied for table shipments/, 'reading freight.shipments is denied');
($ret, $err) = as_role('mallory', 'SELECT * FROM public.not_freight');
like($err, qr/permission denied for table not_freight/, 'reading another table is denied');
($ret, $err) = as_role('mallory', 'SELECT freight.rate_limit_state()');
like($err, qr/permission denied for function rate_limit_state/, 'calling an admin function is denied');
is(wait_events("kind = 'permission_denied' AND actor = 'mallory'", 2), 2,
	'two denials on freight objects recorded');
sql("SELECT freight.log_security_event('auth_failure', NULL, 'marker')");
wait_events("actor = 'marker'", 1);
is(sql("SELECT string_agg(detail ->> 'object', ',' ORDER BY id) FROM freight.security_events "
	  . "WHERE kind = 'permission_denied'"), 'shipments,rate_limit_state',
	'the denial on a non-freight table is not recorded');

# Denied decryptions (crypto.c) become decrypt_denied events; three raise an alert.
for (1 .. 3)
{
	($ret, $err) = as_role('mallory', "SELECT freight.decrypt(freight.encrypt('x', 'freight.t.c:1'), 'freight.t.c:1')");
	like($err, qr/permission denied to decrypt/, "decryption refused ($_)");
}
is(wait_events("kind = 'decrypt_denied' AND actor = 'mallory'", 3), 3, 'denied decryptions recorded');
is(wait_events("kind = 'alert' AND detail ->> 'rule' = 'decrypt_denials' AND actor = 'mallory'", 1), 1,
	'three denied decryptions raise an alert');

# Admins are neither blocked nor recorded.
my $before = sql("SELECT count(*) FROM freight.security_events");
($ret, $err) = as_role('boss', "SET ROLE freight_app; RESET ROLE; GRANT SELECT ON freight.rate_limit_tiers TO mallory; "
	  . "REVOKE SELECT ON freight.rate_limit_tiers FROM mallory");
is($ret, 0, 'freight_admin member runs SET ROLE, GRANT, REVOKE');
sql("CREATE ROLE helper; ALTER ROLE helper LOGIN; GRANT freight_app TO helper; DROP ROLE helper");
pass('superuser runs CREATE/ALTER/GRANT/DROP ROLE');
sql("SELECT freight.log_security_event('auth_failure', NULL, 'marker2')");
wait_events("actor = 'marker2'", 1);
is(sql("SELECT count(*) FROM freight.security_events") - $before, 1, 'nothing recorded for admins');

# A member SET ROLE to a role it may use is not an event.
sql("GRANT freight_app TO mallory");
($ret, $err) = as_role('mallory', 'SET ROLE freight_app; RESET ROLE');
is($ret, 0, 'SET ROLE to a granted role works');
sql("SELECT freight.log_security_event('auth_failure', NULL, 'marker3')");
wait_events("actor = 'marker3'", 1);
is(sql("SELECT count(*) FROM freight.security_events WHERE detail ->> 'statement' LIKE 'SET ROLE freight_app%'"),
	'0', 'not recorded');

# The export covers everything.
is(sql("SELECT count(*) = (SELECT count(*) FROM freight.security_events) FROM freight.security_events_jsonl()"),
	't', 'every event exported as a JSON line');

# The janitor exports every event to the file (one OCSF-style JSON object per line) and to syslog.
my $total = sql("SELECT count(*) FROM freight.security_events");
$node->poll_query_until('freight',
	"SELECT bool_and(last_id = (SELECT max(id) FROM freight.security_events)) AND count(*) = 2 "
	  . "FROM freight.security_export_cursors")
  or diag('export cursors did not catch up');
open(my $fh, '<', $jsonl) or die "open $jsonl: $!";
my @lines = <$fh>;
close($fh);
is(scalar(@lines), $total, "all $total events appended to the JSON-lines file");
my @parsed = grep { defined } map { eval { decode_json($_) } } @lines;
is(scalar(@parsed), $total, 'every line is one JSON object');
is(join(',', map { $_->{metadata}{uid} } @parsed), join(',', 1 .. $total),
	'in id order, each once');
ok((grep { $_->{class_name} eq 'Detection Finding' && $_->{severity} eq 'Critical' } @parsed),
	'alerts carry OCSF class and severity');
my $sel = IO::Select->new($syslog);
my @messages;
while (@messages < $total && $sel->can_read(10))
{
	my $datagram;
	$syslog->recv($datagram, 65535);
	push @messages, $datagram;
}
is(scalar(@messages), $total, "all $total events sent to syslog");
is(scalar(grep { /^<\d{1,3}>1 \S+ \S+ freight - [a-z_]+ \[freight\@32473 id="\d+"/ } @messages), $total,
	'each an RFC 5424 message');

# Retention: events older than freight.security_events_retention go, but none the exports have
# not shipped.  With the file export failing (its directory is missing), old events stay.
sql("UPDATE freight.security_events SET time = now() - interval '100 days' WHERE id <= 3");
my $kept = sql("SELECT count(*) FROM freight.security_events WHERE id > 3");
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "freight.security_events_file = '$jsonl.missing/events.jsonl'\n"
	  . "freight.security_events_retention = '90d'\n");
$node->reload;
$node->wait_for_log(qr/could not open security event file/, $log_offset);
sql("SELECT freight.log_security_event('auth_failure', NULL, 'while-file-fails', NULL, '{}')");
my $datagram = '';
while ($datagram !~ /while-file-fails/ && $sel->can_read(10)) { $syslog->recv($datagram, 65535); }
like($datagram, qr/while-file-fails/, 'a failing file export does not hold the syslog export back');
$kept++;
sql('SELECT pg_reload_conf()');		# the janitor applies the retention again at once
sleep(1);
is(sql("SELECT count(*) FROM freight.security_events WHERE id <= 3"), 3,
	'old events that an export has not shipped are kept');
$node->append_conf('postgresql.conf', "freight.security_events_file = '$jsonl'\n");
$node->reload;
ok($node->poll_query_until('freight', "SELECT count(*) = 0 FROM freight.security_events WHERE id <= 3"),
	'exported events older than freight.security_events_retention are deleted');
is(sql("SELECT count(*) FROM freight.security_events WHERE id > 3"), $kept, 'newer events are kept');

# With retention off the janitor still sleeps between its rounds (it must not spin).
$node->append_conf('postgresql.conf', "freight.security_events_retention = 0\n");
$node->reload;
sleep(1);
my $janitor = sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'freight janitor'");
sub cpu_ticks { open my $st, '<', "/proc/$_[0]/stat" or return 0; my @f = split ' ', (<$st> =~ s/^.*\) //r); return $f[11] + $f[12]; }
my $ticks = cpu_ticks($janitor);
sleep(3);
cmp_ok(cpu_ticks($janitor) - $ticks, '<', 30, 'retention off: the janitor is idle (under 0.3 s of CPU in 3 s)');

# Any role may take any advisory lock: holding the one writers of freight.events used to take
# stalled the janitor, so the queue overflowed and later events were dropped.  Writers now queue on
# a row no ordinary role may lock, and the lock holder changes nothing.
sub within
{
	my ($seconds, $query) = @_;
	for (1 .. $seconds * 4)
	{
		return 1 if sql($query) eq 't';
		select(undef, undef, undef, 0.25);
	}
	return 0;
}
sub hold
{
	my ($role, $lock) = @_;	# role undef: the superuser
	my ($out, $err) = ('', '');
	return IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('freight') . ($role ? " user=$role" : ''),
			'-c', 'BEGIN', '-c', $lock, '-c', 'SELECT pg_sleep(60)' ], '>', \$out, '2>', \$err);
}
sql('CREATE ROLE eve LOGIN; GRANT USAGE ON SCHEMA freight TO eve');
my $holder = hold('eve', 'SELECT pg_advisory_xact_lock(7261554375061373300)');
ok(within(10, "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"),
	'an ordinary role holds the old event-log advisory lock');
($ret) = $node->psql('freight', "SET statement_timeout = '10s'; "
	  . "SELECT freight.log_security_event('auth_failure', NULL, 'during-advisory-lock', NULL, '{}')");
is($ret, 0, 'recording a security event does not wait for that lock');
($ret, $err) = as_role('eve', 'SELECT * FROM freight.invoices');
like($err, qr/permission denied for table invoices/, 'reading freight.invoices is denied');
ok(within(10, "SELECT count(*) = 1 FROM freight.events WHERE type = 'security.auth_failure' "
	  . "AND data::text LIKE '%during-advisory-lock%'"),
	'an advisory lock held by any role does not hold up the event log');
ok(within(10, "SELECT count(*) = 1 FROM freight.security_events WHERE actor = 'eve' "
	  . "AND detail ->> 'object' = 'invoices'"),
	'nor the janitor recording queued security events');
$holder->kill_kill;

# A janitor waiting for a lock still stops when told to (pg_terminate_backend, shutdown).
$holder = hold(undef, 'LOCK freight.rate_limit_saved IN ACCESS EXCLUSIVE MODE');
sql("SELECT freight.rate_limit('k:blocked', 5)");
my $janitor_waits = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'freight janitor' AND wait_event_type = 'Lock'";
ok($node->poll_query_until('freight', "SELECT EXISTS ($janitor_waits)"), 'the janitor waits for the locked table');
my $blocked = sql($janitor_waits);
sql("SELECT pg_terminate_backend($blocked)");
# (its last save waits up to 5 s for the lock, then gives up)
ok(within(15, "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $blocked)"),
	'pg_terminate_backend stops a janitor that waits for a lock');
$holder->kill_kill;
ok($node->poll_query_until('freight',
		"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'freight janitor')"),
	'the janitor comes back');

$node->stop;
done_testing();
