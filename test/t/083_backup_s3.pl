# freightctl with an S3-compatible repository: pgBackRest speaking HTTPS to a local object store
# (s3rver from npm, on localhost with a certificate this test makes, trusted through
# FREIGHT_REPO_S3_CA_FILE), the repository encrypted.  A missing setting, a missing bucket and an
# unknown access key are refused with a clear error; setup, a full and an incremental backup,
# strict verify and a restore to the latest point all go through the bucket, and what lands
# there is not readable.
use strict;
use warnings;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FreightTest;
use FreightDBA;

my $s3rver = "$ENV{FREIGHT_SRC}/test/peers/node_modules/.bin/s3rver";
ok(-x $s3rver, 's3rver is installed (make deps: npm install in test/peers)') or BAIL_OUT('no s3rver');

my $home = PostgreSQL::Test::Utils::tempdir;
system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$home/s3.key",
	'-out', "$home/s3.crt", '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost')
  == 0 or die 'openssl req failed';
mkdir "$home/objects";
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $store = IPC::Run::start([ $s3rver, '-d', "$home/objects", '-a', 'localhost', '-p', $port,
	'--key', "$home/s3.key", '--cert', "$home/s3.crt", '--configure-bucket', 'freight-backups', '--silent' ],
	'<', \undef, '>', "$home/s3rver.log", '2>&1');
END { local $?; $store->kill_kill if $store && $store->pumpable; }    # also when the test dies half-way
my $up;
for (1 .. 200)
{
	last if $up = IO::Socket::INET->new(PeerAddr => 'localhost', PeerPort => $port, Timeout => 1);
	usleep(100_000);
}
ok($up, "S3 server listening on localhost:$port");

my $node = new_node('primary', extra_conf => "archive_mode = on\n");
$node->start;
create_freight_db($node);
freightctl_env($node, "$home/dba");
$ENV{FREIGHT_REPO_TYPE} = 's3';
$ENV{FREIGHT_REPO_S3_BUCKET} = 'freight-backups';
$ENV{FREIGHT_REPO_S3_ENDPOINT} = 'localhost';    # pgBackRest checks a certificate's DNS names, not IPs
$ENV{FREIGHT_REPO_S3_PORT} = $port;
$ENV{FREIGHT_REPO_S3_CA_FILE} = "$home/s3.crt";
$ENV{FREIGHT_REPO_S3_URI_STYLE} = 'path';
$ENV{FREIGHT_REPO_CIPHER_PASS} = 'bucket passphrase ' . int(rand(1e9));

# Bad input first: a missing setting, a bucket that does not exist and an unknown access key.
my ($rc, $out, $err) = freightctl('setup');
isnt($rc, 0, 'setup without the S3 key fails');
like($err, qr/FREIGHT_REPO_S3_KEY: set FREIGHT_REPO_S3_KEY/, 'missing S3 key: the setting is named');
ok(!-e "$home/dba/pgbackrest.conf", 'missing S3 key: no configuration written');
$ENV{FREIGHT_REPO_S3_KEY} = 'S3RVER';
$ENV{FREIGHT_REPO_S3_KEY_SECRET} = 'S3RVER';
$ENV{FREIGHT_REPO_S3_BUCKET} = 'no-such-bucket';
($rc, $out, $err) = freightctl('setup');
isnt($rc, 0, 'setup with a bucket that does not exist fails');
like($err, qr/NoSuchBucket|404/, 'missing bucket: the store\'s answer is shown');
$ENV{FREIGHT_REPO_S3_BUCKET} = 'freight-backups';
$ENV{FREIGHT_REPO_S3_KEY} = 'NOT-A-KEY';
($rc, $out, $err) = freightctl('setup');
isnt($rc, 0, 'setup with an unknown access key fails');
like($err, qr/InvalidAccessKeyId|403/, 'unknown access key: the store\'s refusal is shown');
ok(!glob("$home/objects/freight-backups/freight/*"), 'refused set-ups wrote nothing to the bucket');

$ENV{FREIGHT_REPO_S3_KEY} = 'S3RVER';
($rc, $out, $err) = freightctl('setup');
is($rc, 0, 'setup: stanza created in the bucket, archiving works');
($rc, $out, $err) = freightctl('backup', 'full');
like($out, qr/\(full\) done/, 'full backup to S3');
$node->safe_psql('freight', q{
	CREATE TABLE public.markers (label text PRIMARY KEY, secret bytea);
	INSERT INTO public.markers VALUES ('a', freight.encrypt('secret a', 'markers:a'));
});
($rc, $out, $err) = freightctl('backup', 'incr');
like($out, qr/\(incr\) done/, 'incremental backup to S3');
$node->safe_psql('freight', q{INSERT INTO public.markers (label) VALUES ('b')});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');

my @objects = grep { -f } glob("$home/objects/freight-backups/freight/backup/freight/*/pg_data/base/*/*");
ok(@objects > 10, scalar(@objects) . ' backup files stored as objects in the bucket');
my ($sample) = grep { -s $_ > 100 } @objects;
open my $fh, '<:raw', $sample or die "$sample: $!";
read $fh, my $magic, 4;
close $fh;
isnt(unpack('H8', $magic), '28b52ffd', 'objects in the bucket are encrypted (not readable zstd)');

($rc, $out, $err) = freightctl('verify');
is($rc, 0, 'strict verify passes on the S3 repository');
like($out, qr/WAL archive checked from \w+ \(oldest backup\)/, 'verify checks the archive in the bucket');

restore_latest_and_check("$home/restored", 'the bucket');

$node->stop;
done_testing();
