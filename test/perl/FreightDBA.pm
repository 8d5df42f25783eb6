# FreightDBA.pm — helpers for the TAP tests of contrib/dba (backups, replicas, failover).
#
# freightctl_env($node, $home) points freightctl at a test node (its socket directory, port, data
# directory and OS-user superuser) with its pgBackRest repository and state under $home;
# freightctl(@args) runs contrib/dba/freightctl and returns (exit code, stdout, stderr).
# restore_latest_and_check($into, $where) restores the latest point into $into and checks the
# marker rows the repository tests write (public.markers 'a' with an encrypted secret, 'b').
package FreightDBA;

use strict;
use warnings;
use IPC::Run;
use Test::More ();
use Exporter 'import';

our @EXPORT = qw(freightctl freightctl_env restore_latest_and_check);

my $ctl = ($ENV{FREIGHT_SRC} // die "FREIGHT_SRC is not set: run through test/run_all.sh")
  . '/contrib/dba/freightctl';

sub freightctl_env
{
	my ($node, $home) = @_;
	$ENV{FREIGHT_DBA_HOME} = $home;
	$ENV{FREIGHT_PGDATA} = $node->data_dir;
	$ENV{FREIGHT_PGHOST} = $node->host;
	$ENV{FREIGHT_PGPORT} = $node->port;
	$ENV{FREIGHT_PGUSER} = scalar getpwuid($<);
	$ENV{FREIGHT_ARCHIVE_TIMEOUT} = 1;
	return;
}

sub freightctl
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $ctl, @args ], '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	print STDERR "# freightctl @args -> $rc\n";
	print STDERR map { "#   $_\n" } split /\n/, $out . $err;
	return ($rc, $out, $err);
}

sub restore_latest_and_check
{
	my ($into, $where) = @_;
	my ($rc, $out, $err) = freightctl('restore', '--to', 'latest', '--into', $into);
	Test::More::is($rc, 0, "restore to latest from $where") or Test::More::diag("freightctl restore:\n$out\n$err");
	my ($port) = $out =~ /accepting writes on 127\.0\.0\.1:(\d+)/;
	my $psql = sub {
		my $r = `psql -X -tA -h 127.0.0.1 -p $port -d freight -c "$_[0]" 2>&1`;
		chomp $r;
		return $r;
	};
	Test::More::is($psql->("SELECT string_agg(label, ',' ORDER BY label) FROM public.markers"), 'a,b',
		"the restored cluster holds every marker (the last one from WAL in $where)");
	Test::More::is($psql->("SELECT freight.decrypt(secret, 'markers:a') FROM public.markers WHERE label = 'a'"),
		'secret a', 'encrypted values decrypt after the restore');
	system('pg_ctl', '-D', $into, '-m', 'immediate', 'stop');
	return;
}

1;
