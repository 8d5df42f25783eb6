# 060_routing_cancel.pl — route searches stop at once when asked to.
#
# statement_timeout and pg_cancel_backend must stop a long optimize_route / plan_routes search
# within a fraction of a second (the solvers call CHECK_FOR_INTERRUPTS every few microseconds),
# the backend must stay usable afterwards, and a time budget must be honoured.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FreightTest;

my $node = new_node('routing_cancel');
$node->start;
create_freight_db($node);

# 3,000 random stops and a search that would run for a minute.
my $points = q{(SELECT array_agg(random() * 10000) AS x, array_agg(random() * 10000) AS y
               FROM (SELECT setseed(0.5)) s, generate_series(1, 3000))};
my $long_tsp = qq{SELECT freight.optimize_route(x, y,
	'{"metric": "euclidean", "time_budget_ms": 60000, "max_iterations": 100000000}') FROM $points p};
my $long_vrp = qq{SELECT freight.plan_routes(x, y, array_fill(1::float8, ARRAY[3000]), 20,
	'{"metric": "euclidean", "time_budget_ms": 60000, "max_iterations": 100000000}') FROM $points p};

# statement_timeout
for my $case ([ 'optimize_route', $long_tsp ], [ 'plan_routes', $long_vrp ])
{
	my ($name, $sql) = @$case;
	my $t0 = time;
	my ($ret, $out, $err) =
	  $node->psql('freight', "SET statement_timeout = '1500ms'; $sql");
	my $elapsed = time - $t0;
	isnt($ret, 0, "$name: statement_timeout ends the search with an error");
	like($err, qr/canceling statement due to statement timeout/, "$name: the timeout error");
	cmp_ok($elapsed, '<', 1.5 + 1.0, "$name: stopped within a fraction of a second of the timeout ("
		  . sprintf('%.2f', $elapsed) . ' s)');
}

# pg_cancel_backend from another session
my ($stdin, $stdout, $stderr) = ('', '', '');
my $psql = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('freight'), '-c', "SET application_name = 'long_route'; $long_tsp" ],
	\$stdin, \$stdout, \$stderr);
my $pid = '';
for (1 .. 200)
{
	$pid = $node->safe_psql('freight',
		q{SELECT pid FROM pg_stat_activity WHERE application_name = 'long_route' AND state = 'active'});
	last if $pid ne '';
	sleep 0.05;
}
isnt($pid, '', 'the long search is running');
sleep 1.0;    # well inside the search by now
my $t0 = time;
$node->safe_psql('freight', "SELECT pg_cancel_backend($pid)");
$psql->finish;
my $elapsed = time - $t0;
like($stderr, qr/canceling statement due to user request/, 'pg_cancel_backend cancels the search');
cmp_ok($elapsed, '<', 1.0, 'cancelled within a fraction of a second (' . sprintf('%.2f', $elapsed) . ' s)');

# 1,000 stops for the budget checks, so building the first solution stays well inside 500 ms.
my $points1k = q{(SELECT array_agg(random() * 10000) AS x, array_agg(random() * 10000) AS y
                 FROM (SELECT setseed(0.5)) s, generate_series(1, 1000))};

# The time budget is honoured (measured inside the server, so client start-up does not count;
# the margin allows for set-up outside the budget and for a busy 2-core CI machine — without the
# budget the search would run for a minute).
my $ms = $node->safe_psql('freight', qq{
	SELECT round(extract(epoch FROM clock_timestamp() - t0) * 1000)
	FROM (SELECT clock_timestamp() AS t0) s,
	     LATERAL (SELECT freight.optimize_route(x, y,
	        '{"metric": "euclidean", "time_budget_ms": 500, "max_iterations": 100000000}') AS r FROM $points1k p) q
	WHERE cardinality(r) = 1000});
cmp_ok($ms, '>=', 400, "optimize_route uses its 500 ms budget ($ms ms)");
cmp_ok($ms, '<', 500 + 2000, "optimize_route stops near its 500 ms budget ($ms ms)");

$ms = $node->safe_psql('freight', qq{
	SELECT round(extract(epoch FROM clock_timestamp() - t0) * 1000)
	FROM (SELECT clock_timestamp() AS t0) s,
	     LATERAL (SELECT freight.plan_routes(x, y, array_fill(1::float8, ARRAY[1000]), 20,
	        '{"metric": "euclidean", "time_budget_ms": 500, "max_iterations": 100000000}') AS r FROM $points1k p) q
	WHERE jsonb_array_length(r) >= 50});
cmp_ok($ms, '<', 500 + 2000, "plan_routes stops near its 500 ms budget ($ms ms)");

is($node->safe_psql('freight', 'SELECT 1'), '1', 'the server still answers');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
