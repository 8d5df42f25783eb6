# Rate limits across sessions and restarts: exact allowance over a short window, concurrent
# backends never over-admit, state survives a clean restart and a crash, tier and default-tier
# changes apply live, violations become security events, a full table errors and is reported,
# idle keys expire.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FreightTest;

my $node = new_node('ratelimit', extra_conf => <<'CONF');
freight.rate_limit_persist_interval = 1
freight.rate_limit_idle_timeout = 2
freight.rate_limit_capacity = 200
max_connections = 40
CONF
$node->start;
create_freight_db($node);

sub sql { return $node->safe_psql('freight', $_[0]); }

sub allowed_of
{
	my ($key, $n) = @_;
	return sql("SELECT count(*) FILTER (WHERE a) FROM "
		  . "(SELECT (freight.rate_limit('$key')).allowed AS a FROM generate_series(1, $n)) d");
}

# Exact allowance over a short window: 5 per 2 s (one every 400 ms), burst 5.
sql("INSERT INTO freight.rate_limit_tiers VALUES ('fast', 5, '2 seconds', 5)");
sql("INSERT INTO freight.rate_limit_overrides (key, tier) VALUES ('k:fast', 'fast')");
is(allowed_of('k:fast', 20), 5, 'burst of 5 admitted at once, then denied');
my $retry = sql("SELECT extract(epoch FROM retry_after) FROM freight.rate_limit('k:fast')");
ok($retry > 0 && $retry <= 0.4, "retry_after is at most one emission interval ($retry s)");
usleep(int(($retry + 0.02) * 1e6));
is(sql("SELECT array_agg(allowed)::text FROM (SELECT (freight.rate_limit('k:fast')).allowed "
	  . "FROM generate_series(1, 3)) d"), '{t,f,f}', 'after retry_after exactly one more');

# Concurrency: 16 clients hammer one key of burst 1000 (1000 per day): exactly 1000 admitted.
sql("CREATE TABLE admitted (n int)");
sql("INSERT INTO freight.rate_limit_tiers VALUES ('daily', 1000, '1 day', 1000)");
sql("INSERT INTO freight.rate_limit_overrides (key, tier) VALUES ('k:hot', 'daily')");
my $script = "${PostgreSQL::Test::Utils::tmp_check}/hot.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"INSERT INTO admitted SELECT count(*) FILTER (WHERE a) FROM "
	  . "(SELECT (freight.rate_limit('k:hot')).allowed AS a FROM generate_series(1, 100)) d;\n");
$node->command_ok([ 'pgbench', '-n', '-c', '16', '-j', '2', '-t', '4', '-f', $script, 'freight' ],
	'16 concurrent clients');
is(sql("SELECT sum(n) || ' of ' || count(*) * 100 FROM admitted"), '1000 of 6400',
	'exactly the burst admitted over 6400 concurrent decisions');

# A change made in one session applies at once to a key cached by every session.
is(sql("SELECT \"limit\" FROM freight.rate_limit('k:live')"), '100', 'default tier free');
sql("UPDATE freight.rate_limit_tiers SET burst = 150, requests = 150 WHERE tier = 'free'");
is(sql("SELECT \"limit\" FROM freight.rate_limit('k:live')"), '150', 'tier change applies live');
sql("UPDATE freight.rate_limit_tiers SET burst = 100, requests = 100 WHERE tier = 'free'");

# The default tier: a reload applies it to existing keys; an unknown one is a clear error.
sql("ALTER SYSTEM SET freight.rate_limit_default_tier = 'pro'");
$node->reload;
$node->poll_query_until('freight', "SELECT \"limit\" = 10000 FROM freight.rate_limit('k:live')")
  or die 'default tier not applied';
pass('new default tier applies to a cached key after reload');
sql("ALTER SYSTEM SET freight.rate_limit_default_tier = 'gold'");
$node->reload;
$node->poll_query_until('freight', "SHOW freight.rate_limit_default_tier", 'gold');
my ($rc, $out, $err) = $node->psql('freight', "SELECT * FROM freight.rate_limit('k:other')");
like($err, qr/unknown rate-limit tier "gold"/, 'unknown default tier: clear error');
sql("ALTER SYSTEM RESET freight.rate_limit_default_tier");
$node->reload;
$node->poll_query_until('freight', "SHOW freight.rate_limit_default_tier", 'free');

# Violations are summarised into security events by the janitor.
is(allowed_of('k:abuser', 103), 100, 'free key: 100 admitted');
$node->poll_query_until('freight',
	"SELECT (detail ->> 'denied')::int FROM freight.security_events "
	  . "WHERE kind = 'rate_limit_violation' AND actor = 'k:abuser'", '3')
  or die 'no violation event';
pass('denials reported as one rate_limit_violation event with the count');
for (1 .. 2)
{
	allowed_of('k:abuser', 1);
	$node->poll_query_until('freight',
		"SELECT count(*) >= $_ + 1 FROM freight.security_events "
		  . "WHERE kind = 'rate_limit_violation' AND actor = 'k:abuser'");
}
is(sql("SELECT detail ->> 'rule' FROM freight.security_events WHERE kind = 'alert' AND actor = 'k:abuser'"),
	'rate_limit_abuse', 'three violation reports raise a rate_limit_abuse alert');

# Many denied keys at once: at most 100 events per sweep, the rest summed up in one; nothing lost.
sql("SELECT freight.rate_limit('k:many-' || i, 100), freight.rate_limit('k:many-' || i) "
	  . "FROM generate_series(1, 150) i");
$node->poll_query_until('freight',
	"SELECT coalesce(sum((detail ->> 'denied')::int), 0) = 150 FROM freight.security_events "
	  . "WHERE kind = 'rate_limit_violation' AND (actor LIKE 'k:many-%' OR actor IS NULL)")
  or diag('violations of 150 keys not all reported');
is(sql("SELECT coalesce(sum((detail ->> 'denied')::int), 0) FROM freight.security_events "
	  . "WHERE kind = 'rate_limit_violation' AND (actor LIKE 'k:many-%' OR actor IS NULL)"),
	'150', 'every denial of 150 keys reported');
cmp_ok(sql("SELECT count(*) FROM freight.security_events WHERE kind = 'rate_limit_violation' "
	  . "AND actor LIKE 'k:many-%'"), '<', 150, 'in fewer than one event per key');

# Restart keeps the state: clean shutdown (saved at exit) and crash (saved every second).
is(allowed_of('k:restart', 101), 100, 'k:restart exhausted');
$node->restart;
$node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.rate_limit_state() WHERE key = 'k:restart'")
  or die 'state not restored';
is(sql("SELECT allowed::text || remaining FROM freight.rate_limit('k:restart')"), 'false0',
	'after a restart the key is still exhausted');
is(allowed_of('k:crash', 100), 100, 'k:crash exhausted');
$node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.rate_limit_saved WHERE key = 'k:crash'")
  or die 'state not saved';
$node->stop('immediate');
$node->start;
$node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.rate_limit_state() WHERE key = 'k:crash'")
  or die 'state not restored after crash';
is(sql("SELECT allowed::text FROM freight.rate_limit('k:crash')"), 'false', 'after a crash the key is still exhausted');

# Idle keys with a full budget are forgotten (idle timeout 2 s); keys that owe are kept.
sql("SELECT freight.rate_limit('k:idle-' || i) FROM generate_series(1, 3) i");
sql("INSERT INTO freight.rate_limit_overrides (key, requests, \"window\", burst) VALUES ('k:brief', 10, '10 ms', 10)");
sql("SELECT freight.rate_limit('k:brief')");
$node->poll_query_until('freight', "SELECT count(*) = 0 FROM freight.rate_limit_state() WHERE key = 'k:brief'")
  or die 'idle key not expired';
is(sql("SELECT count(*) FROM freight.rate_limit_state() WHERE key LIKE 'k:idle-%'"), '3',
	'idle keys that still owe are kept');

# A primary held read-only for a moment (pg_auto_failover does that while it promotes): limits
# still decide, the janitor waits without errors and saves the state once writes are back.
sql("ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf()");
sleep(1);
my $log_offset = -s $node->logfile;
is(allowed_of('k:readonly', 101), 100, 'limits decide while the server is read-only');
sleep(3);
unlike(slurp_file($node->logfile, $log_offset), qr/read-only transaction/,
	'janitor: no errors while the server is read-only');
is(sql("SELECT count(*) FROM freight.rate_limit_saved WHERE key = 'k:readonly'"), '0', 'nothing saved while read-only');
sql("SET default_transaction_read_only = off; ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf()");
ok($node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.rate_limit_saved WHERE key = 'k:readonly'"),
	'state saved once writes are back');

# A full table: clear error, nothing admitted, one security event.
my $used = sql("SELECT count(*) FROM freight.rate_limit_state()");
($rc, $out, $err) = $node->psql('freight',
	"SELECT freight.rate_limit('k:fill-' || i) FROM generate_series(1, 250) i");
like($err, qr/rate-limit table is full/, 'full table: clear error');
$node->poll_query_until('freight',
	"SELECT count(*) = 1 FROM freight.security_events WHERE kind = 'rate_limit_table_full'")
  or die 'no table-full event';
pass('full table reported as a security event');
is(sql("SELECT count(*) FROM freight.rate_limit_state()"), '200', 'table holds exactly its capacity');

# An idle server writes nothing: the saved state is rewritten only when it changed.
sleep(2);
my $writes = "SELECT n_tup_ins + n_tup_del FROM pg_stat_user_tables WHERE relid = 'freight.rate_limit_saved'::regclass";
my $before = sql($writes);
sleep(3);
is(sql($writes), $before, 'no rewrites of the saved state while idle');

$node->stop;
done_testing();
