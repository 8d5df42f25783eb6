# FreightTest.pm — shared set-up for freight's TAP tests.
#
# new_node() returns a PostgreSQL::Test::Cluster configured the way `make run` configures the
# local cluster (freight preloaded, logical WAL, a key-encryption key file outside the data
# directory); create_freight_db() makes database "freight" with the extension installed.
package FreightTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Exporter 'import';

our @EXPORT = qw(new_node create_freight_db);

sub new_node
{
	my ($name, %params) = @_;
	my $extra_conf = delete $params{extra_conf} // '';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical', %params);
	my $keyfile = $ENV{FREIGHT_TEST_KEY_FILE}
	  or die "FREIGHT_TEST_KEY_FILE is not set: run through test/run_all.sh";
	$node->append_conf('postgresql.conf', <<"CONF");
shared_preload_libraries = 'freight'
freight.key_file = '$keyfile'
output_plugin_libraries = 'pgoutput, test_decoding, freight, wal2json'
$extra_conf
CONF
	return $node;
}

sub create_freight_db
{
	my ($node) = @_;
	$node->safe_psql('postgres', 'CREATE DATABASE freight');
	$node->safe_psql('freight', 'CREATE EXTENSION freight CASCADE');
	return;
}

1;
