# 032_worker_database.pl — freight's background workers (CDC worker, webhook dispatcher, janitor,
# CDC slot sync) while freight.database does not exist yet: after one retry they say once that they wait (instead of failing and restarting
# every 5 s), and they start capturing and dispatching once the database is created.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my $node = new_node('worker_database', extra_conf => "freight.database = 'later'\n");
$node->start;

my @workers = ('freight cdc worker', 'freight webhook dispatcher', 'freight janitor', 'freight cdc slot sync');
my $in_list = join ', ', map { "'$_'" } @workers;
for my $who (@workers)
{
	ok($node->wait_for_log(qr/\Q$who\E is waiting for database "later" to be created/),
		"$who says it waits for the missing database");
}
# A few seconds of waiting must add no failure, restart or further message.
sleep 6;
my $log = slurp_file($node->logfile);
for my $who (@workers)
{
	my $waiting = () = $log =~ /\Q$who\E is waiting for database/g;
	is($waiting, 1, "$who says it only once");
	my $exits = () = $log =~ /background worker "\Q$who\E" \(PID \d+\) exited/g;
	is($exits, 2, "$who failed only twice (the first start and one retry)");
}
my $waiting_pids = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ($in_list) AND datname IS NULL");
is($waiting_pids, scalar @workers, 'all wait connected to no database');

my $offset = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE DATABASE later');
$node->safe_psql('later', 'CREATE EXTENSION freight CASCADE');
ok($node->poll_query_until('later',
		"SELECT count(*) = " . scalar(@workers) . " FROM pg_stat_activity WHERE datname = 'later' AND backend_type IN ($in_list)"),
	'all connect once the database exists');
ok($node->wait_for_log(qr/freight cdc worker capturing changes of database "later"/, $offset),
	'the CDC worker captures changes');
$log = substr(slurp_file($node->logfile), $offset);
for my $who (@workers)
{
	my $restarts = () = $log =~ /\Q$who\E restarts to connect to database "later"/g;
	is($restarts, 1, "$who restarts once to connect");
}
unlike($log, qr/database "later" does not exist/, 'no more failures after the database exists');

$node->stop;
done_testing();
