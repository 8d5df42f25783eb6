# FreightDBA.pm — helpers for the TAP tests of contrib/dba (backups, replicas, failover).
#
# freightctl_env($node, $home) points freightctl at a test node (its socket directory, port, data
# directory and OS-user superuser) with its pgBackRest repository and state under $home;
# freightctl(@args) runs contrib/dba/freightctl and returns (exit code, stdout, stderr).
package FreightDBA;

use strict;
use warnings;
use IPC::Run;
use Exporter 'import';

our @EXPORT = qw(freightctl freightctl_env);

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

1;
