# Failover with pg_auto_failover (Debian's postgresql-15-auto-failover): a monitor and two freight
# nodes on loopback, every listener on 127.0.0.1, timeouts tuned for a fast failover.  The primary
# machine "dies" (kill -9 of its pg_autoctl and PostgreSQL processes); writes resume through a
# multi-host connection string with target_session_attrs=read-write; no acknowledged (synchronous)
# write is lost; freight's background workers run on the promoted node and the CDC worker turns
# every committed change into exactly one event, including the changes the old primary had
# committed but not decoded when it died (the standby kept a copy of the CDC slot,
# workers/cdc_slot_sync.c).  Then the old primary rejoins as a secondary (its own, diverged CDC
# slot becomes a copy of the new primary's), `freightctl failover` asks the monitor for a planned
# failover back, and capture goes on there, again exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use POSIX ();
use IPC::Run;
use FreightTest;
use FreightDBA;

my $base = PostgreSQL::Test::Utils::tempdir;
my $sock = PostgreSQL::Test::Utils::tempdir_short;    # every node's unix socket, for pg_autoctl
my $bindir = `pg_config --bindir`;
chomp $bindir;
for my $d (qw(config data run)) { mkdir "$base/xdg"; mkdir "$base/xdg/$d"; }
$ENV{XDG_CONFIG_HOME} = "$base/xdg/config";
$ENV{XDG_DATA_HOME} = "$base/xdg/data";
$ENV{XDG_RUNTIME_DIR} = "$base/xdg/run";
$ENV{PGHOST} = $sock;

my (@keepers, @datadirs);
END
{
	local $?;
	kill 'KILL', -$_ for @keepers;
	system("pg_ctl -D $_ -m immediate stop >/dev/null 2>&1") for @datadirs;
}

# pg_autoctl runs in its own session so that "the machine dies" can kill it and everything it
# started (its supervisor children and PostgreSQL) at once.
sub keeper_start
{
	my ($name, $pgdata) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0)
	{
		POSIX::setsid();
		open STDOUT, '>>', "$base/$name.keeper.log" or POSIX::_exit(127);
		open STDERR, '>&', \*STDOUT;
		exec('pg_autoctl', 'run', '--pgdata', $pgdata) or POSIX::_exit(127);
	}
	push @keepers, $pid;
	return $pid;
}

sub autoctl
{
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ 'pg_autoctl', @_ ], '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	};
	my $rc = defined $ok ? $? >> 8 : 124;
	diag("pg_autoctl @_[0..1] failed ($rc): $err") if $rc;
	return $rc;
}

# psql over TCP: (exit code, output).
sub sql
{
	my ($conn, $q) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', $conn, '-c', $q ],
		'<', \undef, '>', \$out, '2>', \$err);
	chomp $out;
	return ($? >> 8, $out . $err);
}

sub poll
{
	my ($what, $limit, $check) = @_;
	my $t0 = time;
	until ($check->())
	{
		return fail("timed out after $limit s waiting for $what") if time - $t0 > $limit;
		usleep(100_000);
	}
	return 1;
}

my ($pm, $p1, $p2) = map { PostgreSQL::Test::Cluster::get_free_port() } 1 .. 3;
my $uri = "postgres://autoctl_node\@127.0.0.1:$pm/pg_auto_failover?sslmode=disable";
my $monitor = "host=127.0.0.1 port=$pm dbname=pg_auto_failover";

# The monitor, tuned: unhealthy after ~1 s of failed health checks, no 30 s demote wait.
my $mon = "$base/monitor";
push @datadirs, $mon;
system("initdb -D $mon -A trust -N >/dev/null") == 0 or die 'initdb failed';
open my $fh, '>>', "$mon/postgresql.auto.conf" or die;
print $fh <<CONF;
unix_socket_directories = '$sock'
listen_addresses = '127.0.0.1'
shared_buffers = '64MB'
pgautofailover.health_check_period = 500
pgautofailover.health_check_timeout = 500
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 200
pgautofailover.node_considered_unhealthy_timeout = 1000
pgautofailover.primary_demote_timeout = 1000
CONF
close $fh;
is(autoctl('create', 'monitor', '--pgdata', $mon, '--pgport', $pm, '--listen', '127.0.0.1',
		'--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--pgctl', "$bindir/pg_ctl"), 0,
	'monitor created') or BAIL_OUT('no monitor');
keeper_start('monitor', $mon);
poll('the monitor', 30, sub { (sql($monitor, 'SELECT 1'))[0] == 0 });

# Node settings every keeper gets before it runs: quick partition detection and promotion.
sub tune_keeper
{
	my ($pgdata) = @_;
	autoctl('config', 'set', '--pgdata', $pgdata, "timeout.$_->[0]", $_->[1])
	  for [ network_partition_timeout => 2 ], [ prepare_promotion_walreceiver => 1 ],
	  [ prepare_promotion_catchup => 5 ], [ postgresql_restart_failure_timeout => 2 ];
}

sub create_node
{
	my ($name, $pgdata, $port, $sockdir) = @_;
	return autoctl('create', 'postgres', '--pgdata', $pgdata, '--pgport', $port, '--pghost', $sockdir,
		'--listen', '127.0.0.1', '--hostname', '127.0.0.1', '--name', $name, '--monitor', $uri,
		'--auth', 'trust', '--no-ssl', '--dbname', 'freight', '--pgctl', "$bindir/pg_ctl");
}

# n1: a freight node (freight preloaded, key file), then n2 cloned from it by pg_auto_failover.
my $n1 = new_node('n1');
my $n1dir = $n1->data_dir;
push @datadirs, $n1dir;
open $fh, '>>', "$n1dir/postgresql.auto.conf" or die;
# hot_standby_feedback: a standby's copy of the CDC slot also holds its catalog rows on the primary.
print $fh "listen_addresses = '127.0.0.1'\nshared_buffers = '128MB'\nport = $p1\nunix_socket_directories = '$sock'\n"
  . "checkpoint_timeout = '30s'\nhot_standby_feedback = on\n";
close $fh;
is(create_node('n1', $n1dir, $p1, $sock), 0, 'node n1 created') or BAIL_OUT('no n1');
tune_keeper($n1dir);
my $n1_keeper = keeper_start('n1', $n1dir);
my $c1 = "host=127.0.0.1 port=$p1 dbname=freight";
poll('n1 to be primary', 60, sub { (sql($c1, 'SELECT NOT pg_is_in_recovery()'))[1] eq 't' });
is((sql($c1, 'CREATE EXTENSION freight CASCADE'))[0], 0, 'freight installed on n1');

# n2's data directory is a pg_basebackup of n1 (which waits for a spread checkpoint: have one
# with nothing left to write).
sql($c1, 'CHECKPOINT');
my $n2dir = "$base/n2";
push @datadirs, $n2dir;
is(create_node('n2', $n2dir, $p2, $sock), 0, 'node n2 created') or BAIL_OUT('no n2');
open $fh, '>>', "$n2dir/postgresql.auto.conf" or die;
print $fh "port = $p2\n";
close $fh;
tune_keeper($n2dir);
keeper_start('n2', $n2dir);
poll('primary and secondary', 90, sub {
	(sql($monitor, q{SELECT count(*) FROM pgautofailover.node
		WHERE reportedstate = goalstate AND reportedstate IN ('primary', 'secondary')}))[1] eq '2' });
like((sql($c1, 'SHOW synchronous_standby_names'))[1], qr/ANY 1/, 'n1 commits wait for n2 (synchronous)');

# Listening TCP sockets on our ports, from /proc/net/tcp{,6}: all must be 127.0.0.1.
my (%ours, @listening) = map { $_ => 1 } $pm, $p1, $p2;
for my $f ('/proc/net/tcp', '/proc/net/tcp6')
{
	open my $t, '<', $f or next;
	for (<$t>)
	{
		my (undef, $local, undef, $state) = split ' ';
		next unless $state && $state eq '0A' && $local =~ /^(\w+):(\w{4})$/ && $ours{ hex $2 };
		push @listening, $1;
	}
}
ok(@listening >= 3 && !grep({ $_ ne '0100007F' } @listening),
	'monitor and nodes listen on 127.0.0.1 only (' . scalar(@listening) . ' sockets)');

# Writes through the multi-host connection string; a row counts as acknowledged when the commit
# returned.  freight's CDC tracks the table.
my $multi = "host=127.0.0.1,127.0.0.1 port=$p1,$p2 dbname=freight target_session_attrs=read-write connect_timeout=2";
sql($multi, q{CREATE TABLE acked (id int PRIMARY KEY);
	INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column)
	VALUES ('acked', '/test/acked', 'acked', 'id')});
my @acked;
my $next = 1;
sub write_one
{
	my ($rc) = sql($multi, "INSERT INTO acked VALUES ($next)");
	push @acked, $next if $rc == 0;
	$next++;
	return $rc == 0;
}
write_one() for 1 .. 30;
is(scalar @acked, 30, 'writes through the multi-host connection string');
poll('CDC events on n1', 30, sub {
	(sql($c1, q{SELECT count(*) FROM freight.events WHERE type = 'acked.created'}))[1] eq '30' });

# Changes the old primary will never decode: CDC paused on n1, 20 more synchronous commits.
is((sql($c1, 'ALTER SYSTEM SET freight.cdc_enabled = off'))[0], 0, 'CDC switched off on n1');
sql($c1, 'SELECT pg_reload_conf()');
sleep 2;
write_one() for 1 .. 20;
is(scalar @acked, 50, '20 more acknowledged writes');
sleep 1;
is((sql($c1, q{SELECT count(*) FROM freight.events WHERE type = 'acked.created'}))[1], '30',
	'CDC paused on n1: 20 committed changes not decoded before the crash');

my $c2 = "host=127.0.0.1 port=$p2 dbname=freight";
poll('n2 to hold a copy of the CDC slot', 30, sub {
	(sql($c2, 'SELECT in_sync FROM freight.cdc_failover_status'))[1] eq 't' });
pass('n2 keeps a copy of the CDC slot at the state n1 published');

# The primary machine dies.
kill 'KILL', -$n1_keeper;
my $t_kill = time;
waitpid($n1_keeper, 0);    # no zombie: pg_autoctl's pidfile check would think it still runs
my $resumed;
for (1 .. 600)
{
	if (write_one()) { $resumed = time - $t_kill; last; }
	usleep(50_000);
}
ok(defined $resumed, 'writes resume after the primary is killed');
my $failover_s = sprintf '%.1f', $resumed // -1;
note("failover: writes resumed $failover_s s after kill -9 of the primary");
ok(defined $resumed && $resumed <= 15, "failover time $failover_s s");
write_one() for 1 .. 10;

is((sql($c2, 'SELECT pg_is_in_recovery()'))[1], 'f', 'n2 is the new primary');
my $list = join ',', @acked;
is((sql($c2, "SELECT count(*) FROM acked WHERE id IN ($list)"))[1], scalar @acked,
	'every acknowledged write is on the new primary (' . scalar(@acked) . ')');

# freight on the promoted node: workers running, events for every acknowledged row exactly once.
poll('freight workers on n2', 20, sub {
	(sql($c2, q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type LIKE 'freight%'}))[1] eq 't' });
pass('freight background workers run on the promoted node');

# CDC across the failover.  Every change n1 decoded (ids 1-30), every change it had committed
# and replicated but not decoded (31-50: n2's CDC worker decodes them from its copy of the slot)
# and every change committed on n2 (after 50) has exactly one event.
my $per_id = q{SELECT a.id, count(e.id) FROM acked a
	LEFT JOIN freight.events e ON e.type = 'acked.created' AND e.subject = a.id::text GROUP BY a.id};
my $counts = sub { my %c = map { split /\|/ } split /\n/, (sql($_[0], $per_id))[1]; return \%c; };
my @after = grep { $_ > 50 } @acked;
poll('CDC on n2 to capture the writes after the failover', 30, sub {
	my $c = $counts->($c2); !grep { ($c->{$_} // 0) != 1 } @after, 31 .. 50 });
my $c = $counts->($c2);
is(scalar(grep { ($c->{$_} // 0) != 1 } 1 .. 30), 0, 'CDC: the 30 changes n1 decoded have one event each on n2');
is(scalar(grep { ($c->{$_} // 0) != 1 } @after), 0,
	'CDC: the ' . scalar(@after) . ' changes committed after the failover have one event each');
is((sql($c2, q{SELECT count(*) - count(DISTINCT subject) FROM freight.events WHERE type = 'acked.created'}))[1],
	'0', 'CDC: no event duplicated across the failover');
is(join(',', grep { ($c->{$_} // 0) != 1 } 31 .. 50), '',
	'CDC: the 20 changes n1 committed but had not decoded when it died have one event each on n2');

# The old primary comes back as a secondary; then a planned failover through freightctl.
keeper_start('n1', $n1dir);
poll('n1 to rejoin as secondary', 90, sub {
	(sql($monitor, q{SELECT count(*) FROM pgautofailover.node
		WHERE reportedstate = goalstate AND reportedstate IN ('primary', 'secondary')}))[1] eq '2' });
# n1 still has capture switched off in its own configuration (from before the crash).
sql($c1, 'ALTER SYSTEM RESET freight.cdc_enabled');
sql($c1, 'SELECT pg_reload_conf()');
poll('n1 to hold a copy of n2\'s CDC slot', 60, sub {
	(sql($c1, 'SELECT in_sync FROM freight.cdc_failover_status'))[1] eq 't' });
pass('the old primary\'s own CDC slot became a copy of the new primary\'s');
$ENV{FREIGHT_MONITOR_URI} = $uri;
$ENV{FREIGHT_DBA_HOME} = "$base/dba";
$ENV{FREIGHT_PGDATA} = $n1dir;
$ENV{FREIGHT_PGUSER} = scalar getpwuid($<);
my ($rc, $out, $err) = freightctl('failover');
is($rc, 0, 'freightctl failover through the monitor');
like($out, qr/primary was 127\.0\.0\.1:$p2, now 127\.0\.0\.1:$p1/, 'n1 is primary again');
ok(write_one(), 'writes go to the new primary through the same connection string');
is((sql($c1, "SELECT count(*) FROM acked"))[1], scalar @acked, 'no acknowledged write lost across both failovers');
write_one() for 1 .. 5;
poll('CDC on n1 after the failover back', 30, sub {
	my $c = $counts->($c1); !grep { ($c->{$_} // 0) != 1 } @acked });
is((sql($c1, q{SELECT count(*) - count(DISTINCT subject) FROM freight.events WHERE type = 'acked.created'}))[1],
	'0', 'CDC: every change has exactly one event on n1 after both failovers (' . scalar(@acked) . ')');

done_testing();
