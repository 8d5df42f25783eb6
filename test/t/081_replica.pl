# Streaming replicas with freightctl: a replica serving reads (encrypted columns decrypt there with
# its own copy of the key-encryption key file), replay lag and read-your-writes wait measured
# under writes, a synchronous replica applying every acknowledged commit, status, removal, and bad
# input refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use FreightTest;
use FreightDBA;

my $home = PostgreSQL::Test::Utils::tempdir;
my $node = new_node('primary', extra_conf => "archive_mode = on\n");
$node->start;
create_freight_db($node);
freightctl_env($node, $home);
my ($rc, $out, $err) = freightctl('setup');
is($rc, 0, 'pgBackRest set up (replicas get its restore_command; archiving continues after failover)');
freightctl('backup', 'full');
$node->safe_psql('freight', q{
	CREATE TABLE readings (id bigserial PRIMARY KEY, secret bytea, at timestamptz DEFAULT clock_timestamp());
	INSERT INTO readings (secret) SELECT freight.encrypt('reading ' || i, 'readings') FROM generate_series(1, 100) i;
});

my @started;
END { local $?; system("pg_ctl -D $_ -m immediate stop >/dev/null 2>&1") for @started; }

($rc, $out, $err) = freightctl('replica', 'add', 'r1', '--into', "$home/r1");
is($rc, 0, 'replica r1 added');
push @started, "$home/r1";
my ($port) = $out =~ /streaming on 127\.0\.0\.1:(\d+)/;
ok($port, 'replica r1 reports its port');
my $r1 = sub {
	my ($q) = @_;
	my $o = `psql -X -q -tA -h 127.0.0.1 -p $port -d freight -c "$q" 2>&1`;
	chomp $o;
	return $o;
};

# The key file: a copy outside the data directory, identical, private.
my $kek = "$home/r1.kek";
is($r1->('SHOW freight.key_file'), $kek, 'replica uses its own key file copy');
ok(-f $kek && (stat $kek)[2] % 512 == 0600, 'key file copy has mode 600');
is(slurp_file($kek), slurp_file($ENV{FREIGHT_TEST_KEY_FILE}), 'key file copy is identical');
is($r1->(q{SELECT count(*) FROM readings WHERE freight.decrypt(secret, 'readings') LIKE 'reading %'}), '100',
	'replica serves reads and decrypts encrypted columns');
like($r1->(q{INSERT INTO readings (secret) VALUES (NULL)}), qr/read-only transaction/,
	'replica refuses writes');

# Lag under writes: after each commit, how long until the replica has replayed it and the read
# sees the row (the API's read-your-writes wait).
my @waits;
my $t_end = time + 3;
while (time < $t_end)
{
	my ($id, $lsn) = split /\|/, $node->safe_psql('freight',
		q{INSERT INTO readings (secret) VALUES (freight.encrypt('x', 'readings')) RETURNING id, pg_current_wal_lsn()});
	my $t0 = time;
	until ($r1->("SELECT pg_last_wal_replay_lsn() >= '$lsn' AND EXISTS (SELECT 1 FROM readings WHERE id = $id)") eq 't')
	{
		last if time - $t0 > 10;
		usleep(1000);
	}
	push @waits, (time - $t0) * 1000;
}
@waits = sort { $a <=> $b } @waits;
my ($p50, $p99) = map { $waits[ int($_ * $#waits) ] } 0.5, 0.99;
note(sprintf 'read-your-writes wait over %d commits: p50 %.1f ms, p99 %.1f ms', scalar @waits, $p50, $p99);
ok(@waits >= 10 && $p99 < 2000, sprintf 'replica keeps up: p50 %.1f ms, p99 %.1f ms', $p50, $p99);

($rc, $out, $err) = freightctl('replica', 'status');
is($rc, 0, 'status: every registered replica streams');
like($out, qr/^ r1\s+\| streaming \| async/m, 'status lists r1 as streaming');
like($out, qr/freight_r1\s*\| physical\s*\| t/, 'status lists r1\'s slot');

# A synchronous replica: every acknowledged commit is already applied there.
($rc, $out, $err) = freightctl('replica', 'add', 'r2', '--into', "$home/r2", '--sync');
is($rc, 0, 'synchronous replica r2 added');
push @started, "$home/r2";
my ($port2) = $out =~ /streaming on 127\.0\.0\.1:(\d+)/;
is($node->safe_psql('postgres', q{SELECT sync_state FROM pg_stat_replication WHERE application_name = 'r2'}),
	'quorum', 'r2 is a synchronous (quorum) standby');
my $id = $node->safe_psql('freight',
	q{SET synchronous_commit = remote_apply; INSERT INTO readings (secret) VALUES (NULL) RETURNING id});
is(`psql -X -tA -h 127.0.0.1 -p $port2 -d freight -c "SELECT count(*) FROM readings WHERE id = $id"` + 0, 1,
	'an acknowledged synchronous commit is visible on r2 at once');

# Bad input changes nothing.
($rc, $out, $err) = freightctl('replica', 'add', 'R-1', '--into', "$home/bad");
like($err, qr/replica name "R-1" must be lower-case/, 'bad replica name refused');
($rc, $out, $err) = freightctl('replica', 'add', 'r1', '--into', "$home/again");
like($err, qr/already registered/, 'duplicate replica name refused');
ok(!-e "$home/bad" && !-e "$home/again", 'refused replicas created nothing');
($rc, $out, $err) = freightctl('replica', 'remove', 'nosuch');
like($err, qr/no replica named "nosuch"/, 'removing an unknown replica: clear error');

# Removal drops the slot and the synchronous setting.
($rc, $out, $err) = freightctl('replica', 'remove', 'r2', '--purge');
is($rc, 0, 'r2 removed');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'freight_r2'}),
	'0', 'r2\'s slot is dropped');
is($node->safe_psql('postgres', 'SHOW synchronous_standby_names'), '', 'no synchronous standby left');
ok(!-e "$home/r2" && !-e "$home/r2.kek", '--purge deleted the data directory and the key copy');

# A stopped replica makes status fail.
system('pg_ctl', '-D', "$home/r1", '-m', 'fast', '-w', 'stop');
($rc, $out, $err) = freightctl('replica', 'status');
isnt($rc, 0, 'status fails when a registered replica is down');
like($out, qr/replica r1 .*NOT STREAMING/, 'status names the replica that is down');
system('pg_ctl', '-D', "$home/r1", '-l', "$home/r1.log", '-w', 'start');
$node->poll_query_until('postgres', q{SELECT state = 'streaming' FROM pg_stat_replication WHERE application_name = 'r1'})
  or die 'r1 did not come back';

# Failover without a monitor: freightctl fences the primary and promotes the most advanced replica.
my $rows = $node->safe_psql('freight', 'SELECT count(*) FROM readings');
($rc, $out, $err) = freightctl('failover');
is($rc, 0, 'freightctl failover promotes r1');
like($out, qr/failover done in [\d.]+ s: r1 \(127\.0\.0\.1:$port\) is the primary/, 'failover names the new primary');
is($node->psql('postgres', 'SELECT 1'), 2, 'the old primary is fenced (stopped)');
$node->_update_pid(0);    # stopped behind the test framework's back
is($r1->('SELECT pg_is_in_recovery()'), 'f', 'r1 is promoted');
is($r1->(q{INSERT INTO readings (secret) VALUES (freight.encrypt('after', 'readings')) RETURNING id > 0}), 't',
	'r1 takes writes, encrypting with its key file');
is($r1->('SELECT count(*) FROM readings'), $rows + 1, 'every row committed on the old primary is on r1');
like(slurp_file("$home/current-primary.conf"), qr/FREIGHT_PGPORT=$port/, 'the new primary is recorded for later commands');
($rc, $out, $err) = freightctl('replica', 'status');
like($out, qr/from the primary, 127\.0\.0\.1:$port/, 'later commands talk to the new primary');

# The promoted replica archives its own WAL (timeline 2) into the same repository, and verify
# follows the archive across the timeline switch, from the backup taken on timeline 1.
($rc, $out, $err) = freightctl('verify');
is($rc, 0, 'verify passes after the failover');
like($out, qr/WAL archive checked from 00000001\w+ \(oldest backup\) to 00000002\w+/,
	'verify checks the archive across the timeline switch');

done_testing();
