# freightctl with a pgBackRest repository host: the production layout where backups live on
# another machine reached over SSH.  The "repository host" is this machine under another
# pgbackrest.conf, behind an SSH server this test starts on 127.0.0.1 (dropbear, as the test's
# own user; nss_wrapper gives that user a home of the test's, so its authorized_keys is the
# test's key and nothing outside the test directory is touched).  The server archives WAL to the
# repository host and restores from it; backup and verify run on the repository host, which
# reaches back to this server over SSH, as pgBackRest requires: freightctl starts them there.  Refused: an unreachable repository
# host, and a repository host without the configuration file named.
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

my $dropbear = '/usr/sbin/dropbear';
my ($nss_wrapper) = grep { -e } glob('/usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so');
ok(-x $dropbear && $nss_wrapper, 'dropbear and nss_wrapper are installed (make deps)') or BAIL_OUT('no dropbear or nss_wrapper');

my $home = PostgreSQL::Test::Utils::tempdir;
my $user = scalar getpwuid($<);
my $group = scalar getgrgid($();

# The SSH server, with a host key and a client key made here.
mkdir "$home/sshhome" or die;
mkdir "$home/sshhome/.ssh" or die;
chmod 0700, "$home/sshhome", "$home/sshhome/.ssh";
system("dropbearkey -t ed25519 -f '$home/hostkey' > /dev/null 2>&1") == 0 or die 'dropbearkey failed';
system('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', "$home/client") == 0 or die 'ssh-keygen failed';
system("cp '$home/client.pub' '$home/sshhome/.ssh/authorized_keys'") == 0 or die;
chmod 0600, "$home/sshhome/.ssh/authorized_keys";
open my $pw, '>', "$home/passwd" or die;
print $pw "$user:x:$<:" . ($( + 0) . ":repository host:$home/sshhome:/bin/sh\n";
close $pw;
open my $gr, '>', "$home/group" or die;
print $gr "$group:x:" . ($( + 0) . ":\n";
close $gr;
my $ssh_port = PostgreSQL::Test::Cluster::get_free_port();
my $sshd = IPC::Run::start(
	[ 'env', "LD_PRELOAD=$nss_wrapper", "NSS_WRAPPER_PASSWD=$home/passwd", "NSS_WRAPPER_GROUP=$home/group",
	  $dropbear, '-F', '-E', '-s', '-w', '-r', "$home/hostkey", '-p', "127.0.0.1:$ssh_port", '-P', "$home/dropbear.pid" ],
	'<', \undef, '>', "$home/dropbear.log", '2>&1');
END { local $?; $sshd->kill_kill if $sshd && $sshd->pumpable; }    # also when the test dies half-way
my $up;
for (1 .. 100)
{
	last if $up = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ssh_port, Timeout => 1);
	usleep(100_000);
}
ok($up, "SSH server listening on 127.0.0.1:$ssh_port");

# The ssh command pgBackRest runs (cmd-ssh): the test's key and known-hosts file.
open my $wrap, '>', "$home/ssh" or die;
print $wrap "#!/bin/sh\nexec ssh -i '$home/client' -o UserKnownHostsFile='$home/known_hosts' "
  . "-o StrictHostKeyChecking=accept-new -o BatchMode=yes -o LogLevel=error \"\$@\"\n";
close $wrap;
chmod 0755, "$home/ssh";
my $remote = `'$home/ssh' -p $ssh_port $user\@127.0.0.1 'echo \$HOME; pgbackrest version' 2>&1`;
like($remote, qr/^\Q$home\E\/sshhome\npgBackRest \d/, 'ssh reaches the repository host, pgBackRest is there');

my $node = new_node('primary', extra_conf => "archive_mode = on\n");
$node->start;
create_freight_db($node);
freightctl_env($node, "$home/dba");
$ENV{FREIGHT_REPO_TYPE} = 'host';
$ENV{FREIGHT_REPO_HOST} = '127.0.0.1';
$ENV{FREIGHT_REPO_HOST_USER} = $user;
$ENV{FREIGHT_REPO_HOST_PORT} = $ssh_port;
$ENV{FREIGHT_REPO_HOST_CONFIG} = "$home/repohost/pgbackrest.conf";
$ENV{FREIGHT_REPO_HOST_SSH} = "$home/ssh";
$ENV{FREIGHT_REPO_PATH} = "$home/repohost/repo";

# The repository host's own configuration: its repository, and this server as pg1-host.
mkdir "$home/repohost" or die;
open my $rc_conf, '>', "$home/repohost/pgbackrest.conf" or die;
printf $rc_conf <<'CONF', $home, $home, $home, $home, $ssh_port, $user, $home, $node->data_dir, $node->port, $node->host;
[global]
repo1-path=%s/repohost/repo
repo1-retention-full=2
log-path=%s/repohost
lock-path=%s/repohost
cmd-ssh=%s/ssh
compress-type=zst
start-fast=y
log-level-console=warn

[freight]
pg1-host=127.0.0.1
pg1-host-port=%d
pg1-host-user=%s
pg1-host-config=%s/dba/pgbackrest.conf
pg1-path=%s
pg1-port=%d
pg1-socket-path=%s
CONF
close $rc_conf;
sub on_repo_host
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pgbackrest', "--config=$home/repohost/pgbackrest.conf", '--stanza=freight', @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out . $err);
}

# Bad input first: a repository host nobody answers on.
$ENV{FREIGHT_REPO_HOST_PORT} = PostgreSQL::Test::Cluster::get_free_port();
my ($rc, $out, $err) = freightctl('setup');
isnt($rc, 0, 'setup with an unreachable repository host fails');
like($err, qr/ssh|connect|remote/i, 'unreachable repository host: the SSH failure is shown');
$ENV{FREIGHT_REPO_HOST_PORT} = $ssh_port;

($rc, $out, $err) = freightctl('setup');
is($rc, 0, 'setup: stanza on the repository host, archiving over SSH works') or diag("$out\n$err");

# backup (with the expiry that ends it) and verify run only where the repository is: freightctl
# runs them there over SSH.
# A repository host without its configuration file is refused, and nothing is stored.
$ENV{FREIGHT_REPO_HOST_CONFIG} = "$home/repohost/missing.conf";
($rc, $out, $err) = freightctl('backup', 'full');
isnt($rc, 0, 'backup fails when the repository host has no such configuration file');
like($err, qr/missing\.conf/, 'missing configuration on the repository host: the file is named');
ok(!-e "$home/repohost/repo/backup/freight/backup.info" || !glob("$home/repohost/repo/backup/freight/2*"),
	'refused backup: no backup in the repository');
$ENV{FREIGHT_REPO_HOST_CONFIG} = "$home/repohost/pgbackrest.conf";

($rc, $out, $err) = freightctl('backup', 'full');
like($out, qr/\(full\) done/, 'full backup, run on the repository host, reading this server over SSH') or diag($err);
$node->safe_psql('freight', q{
	CREATE TABLE public.markers (label text PRIMARY KEY, secret bytea);
	INSERT INTO public.markers VALUES ('a', freight.encrypt('secret a', 'markers:a'));
});
($rc, $out, $err) = freightctl('backup', 'incr');
like($out, qr/\(incr\) done/, 'incremental backup on the repository host') or diag($err);
my ($brc, $bout) = on_repo_host('info');
like($bout, qr/full backup:.*\n(?s:.*)incr backup:/, 'the repository host\'s own pgBackRest lists both backups');
$node->safe_psql('freight', q{INSERT INTO public.markers (label) VALUES ('b')});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');

my @files = glob("$home/repohost/repo/backup/freight/*/pg_data/base/*/*");
ok(@files > 10, scalar(@files) . ' backup files in the repository host\'s repository');
ok(!-e "$home/dba/repo", 'nothing is stored in a local repository');

($rc, $out, $err) = freightctl('verify');
is($rc, 0, 'strict verify passes, reading the repository over SSH') or diag("$out\n$err");
like($out, qr/WAL archive checked from \w+ \(oldest backup\)/, 'verify checks the archive on the repository host');

restore_latest_and_check("$home/restored", 'the repository host');

($rc, $out, $err) = freightctl('drill');
is($rc, 0, 'drill (backup on the repository host, point-in-time restore from it) passes') or diag("$out\n$err");
like($out, qr/drill \S+ PASS/, 'drill reports success');

$node->stop;
done_testing();
