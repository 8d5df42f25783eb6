# Backup and point-in-time restore drill with freightctl and pgBackRest, on an encrypted
# repository: a full and an incremental backup, marker rows at known times, a restore to a point
# between them into a scratch cluster (the right rows, encrypted values decrypting with the same
# key file, the later rows absent), RTO/RPO reported, `freightctl drill` end to end, bad input
# refused, and `freightctl verify` failing where pgBackRest 2.45's own verify passes: a corrupted
# repository file and a gap in the WAL archive.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;
use FreightDBA;

my $home = PostgreSQL::Test::Utils::tempdir;
my $node = new_node('primary', extra_conf => "archive_mode = on\n");
$node->start;
create_freight_db($node);
freightctl_env($node, $home);
$ENV{FREIGHT_REPO_CIPHER_PASS} = 'drill passphrase ' . int(rand(1e9));    # an encrypted repository

my ($rc, $out, $err) = freightctl('setup');
is($rc, 0, 'setup: stanza created, archiving works');
($rc, $out, $err) = freightctl('backup', 'full');
is($rc, 0, 'full backup');
my $pgbr = "pgbackrest --config=$home/pgbackrest.conf --stanza=freight";
like(`$pgbr info --output=json`, qr/"cipher":"aes-256-cbc"/, 'the repository is encrypted');
my ($sample) = grep { -s $_ > 100 } glob("$home/repo/backup/freight/*F/pg_data/base/*/*.zst");
open my $sfh, '<:raw', $sample or die "$sample: $!";
read $sfh, my $magic, 4;
close $sfh;
isnt(unpack('H8', $magic), '28b52ffd', 'repository files are not readable zstd (encrypted)');

$node->safe_psql('freight', q{
	CREATE TABLE markers (label text PRIMARY KEY, secret bytea, at timestamptz DEFAULT clock_timestamp());
	INSERT INTO markers (label, secret) VALUES ('a', freight.encrypt('secret a', 'markers:a'));
});
($rc, $out, $err) = freightctl('backup', 'incr');
like($out, qr/\(incr\) done/, 'incremental backup after marker a');
$node->safe_psql('freight', q{INSERT INTO markers (label, secret) VALUES ('b', freight.encrypt('secret b', 'markers:b'))});
my $lsn_b = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
sleep 1;
my $target = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 1;
$node->safe_psql('freight', q{INSERT INTO markers (label) VALUES ('c')});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');

($rc, $out, $err) = freightctl('verify');
is($rc, 0, 'verify passes on a sound repository');
like($out, qr/WAL archive checked from \w+ \(oldest backup\) to \w+ \((\d+) segments\)/,
	'verify checks the archive from the oldest backup to the current position');
($rc, $out, $err) = freightctl('verify', '--offline');
is($rc, 0, 'verify --offline passes on a sound repository');
like($out, qr/WAL archive checked from \w+ \(oldest backup\) to \w+/,
	'verify --offline checks the archive up to its newest segment');
($rc, $out, $err) = freightctl('verify', '--online');
isnt($rc, 0, 'verify refuses an unknown argument');
like($err, qr/verify: unknown argument "--online"/, 'unknown argument: clear message');

# Restore to the target time: a and b are there (b only in the WAL after the incremental), c not.
my $scratch = "$home/restored";
($rc, $out, $err) = freightctl('restore', '--to', $target, '--into', $scratch);
is($rc, 0, 'restore to a point in time');
my ($rto) = $out =~ /RTO ([\d.]+) s/;
ok(defined $rto && $rto < 60, "RTO reported: ${\($rto // '?')} s");
my ($port) = $out =~ /accepting writes on 127\.0\.0\.1:(\d+)/;
my $psql_r = sub {
	my ($q) = @_;
	my $o = `psql -X -tA -h 127.0.0.1 -p $port -d freight -c "$q" 2>&1`;
	chomp $o;
	return $o;
};
is($psql_r->('SELECT string_agg(label, \',\' ORDER BY label) FROM markers'), 'a,b',
	'restored cluster holds the rows before the target and not the later one');
is($psql_r->(q{SELECT freight.decrypt(secret, 'markers:' || label) FROM markers WHERE label = 'b'}),
	'secret b', 'restored encrypted values decrypt with the same key file');
is($psql_r->('SELECT pg_is_in_recovery()'), 'f', 'restored cluster is promoted');
is($psql_r->('SHOW archive_mode'), 'off', 'restored copy does not archive into the repository');
system('pg_ctl', '-D', $scratch, '-m', 'immediate', 'stop');

# To an LSN (taken right after b committed).
($rc, $out, $err) = freightctl('restore', '--to', $lsn_b, '--into', "$home/by_lsn");
is($rc, 0, 'restore to an LSN');
($port) = $out =~ /accepting writes on 127\.0\.0\.1:(\d+)/;
is($psql_r->('SELECT string_agg(label, \',\' ORDER BY label) FROM markers'), 'a,b',
	'restore to the LSN after b holds a and b');
system('pg_ctl', '-D', "$home/by_lsn", '-m', 'immediate', 'stop');

# A restore to latest replays to the end of the archive.
($rc, $out, $err) = freightctl('restore', '--to', 'latest', '--into', "$home/latest");
is($rc, 0, 'restore to latest from the newest backup');
($port) = $out =~ /accepting writes on 127\.0\.0\.1:(\d+)/;
is($psql_r->('SELECT string_agg(label, \',\' ORDER BY label) FROM markers'), 'a,b,c', 'latest holds every marker');
system('pg_ctl', '-D', "$home/latest", '-m', 'immediate', 'stop');

# The drill, end to end.
($rc, $out, $err) = freightctl('drill');
is($rc, 0, 'freightctl drill passes');
my ($drto, $drpo) = $out =~ /PASS: .*RTO ([\d.]+) s, RPO ([\d.]+) s/;
ok(defined $drpo && $drpo <= 5, "drill RPO with archive_timeout 1 s: ${\($drpo // '?')} s; RTO ${\($drto // '?')} s");
note("drill: RTO $drto s, RPO $drpo s") if defined $drto;

# Bad input: a clear error and nothing created.
($rc, $out, $err) = freightctl('restore', '--to', 'yesterday-ish nonsense', '--into', "$home/bad");
isnt($rc, 0, 'restore refuses an unparsable target');
like($err, qr/is not an LSN .*, a time .* or latest/, 'unparsable target: clear message');
ok(!-e "$home/bad", 'unparsable target: nothing created');
($rc, $out, $err) = freightctl('restore', '--to', 'latest', '--into', $home);
like($err, qr/is not empty/, 'restore refuses a non-empty directory');
($rc, $out, $err) = freightctl('backup', 'weekly');
like($err, qr/backup type must be full, diff or incr/, 'backup refuses an unknown type');
($rc, $out, $err) = freightctl('restore', '--to', '2000-01-01 00:00:00+00', '--into', "$home/old");
like($err, qr/no backup in the repository finished before/, 'restore refuses a time before every backup');

# Damage the repository: a corrupted backup file, then a WAL segment deleted from the archive.
my $repo = "$home/repo";
my ($victim) = grep { -s $_ > 100 } glob("$repo/backup/freight/*F/pg_data/base/*/*.zst");
open my $fh, '+<', $victim or die "$victim: $!";
seek $fh, 40, 0;
print $fh 'corrupted';
close $fh;
system("$pgbr verify --output=none");
note('pgbackrest verify exit status with a corrupted file: ' . ($? >> 8));
($rc, $out, $err) = freightctl('verify');
isnt($rc, 0, 'verify fails on a corrupted repository file');
like($err, qr/pgbackrest verify reported errors .*(checksum invalid|invalid|error)/, 'corruption: clear message');
unlike($err, qr/gap/, 'no gap reported before one exists');

my $seg_b = $node->safe_psql('postgres', "SELECT pg_walfile_name('$lsn_b')");
my ($wal) = glob("$repo/archive/freight/15-1/*/$seg_b-*");
ok(defined $wal && unlink($wal), "deleted archived segment $seg_b");
($rc, $out, $err) = freightctl('verify');
isnt($rc, 0, 'verify fails on a gap in the WAL archive');
like($err, qr/WAL archive has a gap: 1 segment\(s\) missing between \w+ and \w+: $seg_b/,
	'gap: clear message naming the missing segment');
my ($full) = `$pgbr info --output=json` =~ /"label":"(\d+-\d+F)"/;
($rc, $out, $err) = freightctl('restore', '--to', 'latest', '--set', $full, '--into', "$home/through_gap");
isnt($rc, 0, 'restore to latest from the full backup refuses to run over the gap');
like($err, qr/refusing to restore to latest over a gap/, 'gap: restore explains why');

# With the database down (a repository checked from another machine): still strict.
$node->stop;
($rc, $out, $err) = freightctl('verify', '--offline');
isnt($rc, 0, 'verify --offline with the database stopped fails on the damaged repository');
like($err, qr/WAL archive has a gap: 1 segment\(s\) missing between \w+ and \w+: $seg_b/,
	'verify --offline names the missing segment');
done_testing();
