# The shared-memory security queue: events raised while nobody can store them (no freight
# database yet) wait in the queue, and what does not fit is counted, not lost silently.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my $node = new_node('security_queue');
$node->start;

# 300 failed GRANTs by a non-admin, in database postgres, before any freight database exists.
$node->safe_psql('postgres', 'CREATE ROLE mallory LOGIN');
my ($ret, $out, $err) = $node->psql('postgres', q{
	DO $$
	BEGIN
		FOR i IN 1 .. 300 LOOP
			BEGIN
				EXECUTE 'GRANT pg_monitor TO mallory';
			EXCEPTION WHEN insufficient_privilege THEN
				NULL;
			END;
		END LOOP;
	END
	$$;
}, connstr => $node->connstr('postgres') . ' user=mallory');
is($ret, 0, '300 refused GRANTs, each caught');

# Now the janitor gets its database: it stores the 256 queued events and counts the rest.
create_freight_db($node);
$node->poll_query_until('freight',
	"SELECT count(*) = 1 FROM freight.security_events WHERE kind = 'security_queue_overflow'")
  or diag('no overflow event');
is($node->safe_psql('freight',
		"SELECT count(*) FROM freight.security_events WHERE kind = 'privilege_escalation' AND actor = 'mallory'"),
	'256', 'the queue kept 256 events');
is($node->safe_psql('freight',
		"SELECT detail ->> 'dropped' FROM freight.security_events WHERE kind = 'security_queue_overflow'"),
	'44', 'and reported the 44 it had to drop');
is($node->safe_psql('freight',
		"SELECT DISTINCT detail ->> 'database' FROM freight.security_events WHERE kind = 'privilege_escalation'"),
	'postgres', 'events name the database they happened in');

$node->stop;
done_testing();
