# Change-data capture across a crash: kill -9 of the postmaster in the middle of a burst of
# inserts and updates from several clients, then restart.  The table itself says what committed:
# every committed insert has exactly one created event, every committed update one updated event,
# nothing more; the same holds after a second burst following the restart.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use FreightTest;

my $node = new_node('cdc_crash', extra_conf => <<'CONF');
freight.cdc_batch_size = 500
CONF
$node->start;
create_freight_db($node);

sub sql { return $node->safe_psql('freight', $_[0]); }

$node->poll_query_until('freight', "SELECT active FROM freight.cdc_status")
  or die 'the CDC worker did not take its slot';
sql(<<'SQL');
CREATE TABLE public.ledger (id bigserial PRIMARY KEY, client int NOT NULL,
	version int NOT NULL DEFAULT 0, note text);
INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column)
VALUES ('public.ledger', '/test/ledger', 'ledger', 'id');
SQL

my $ins = "${PostgreSQL::Test::Utils::tmp_check}/ins.sql";
my $upd = "${PostgreSQL::Test::Utils::tmp_check}/upd.sql";
append_to_file($ins, "\\set n random(1, 20)\n"
	  . "INSERT INTO public.ledger (client, note) SELECT :client_id, 'burst' FROM generate_series(1, :n);\n");
append_to_file($upd, "\\set id random(1, 3000)\n"
	  . "UPDATE public.ledger SET version = version + 1 WHERE id = :id;\n");

# Exactly one event per committed change, nothing else.
my $consistent = <<'SQL';
SELECT (SELECT count(*) FROM public.ledger)
	 = (SELECT count(*) FROM freight.events WHERE type = 'ledger.created')
   AND (SELECT coalesce(sum(version), 0) FROM public.ledger)
	 = (SELECT count(*) FROM freight.events WHERE type = 'ledger.updated')
SQL

sub check_exactly_once
{
	my ($when) = @_;
	ok($node->poll_query_until('freight', $consistent), "$when: event counts match the table");
	is(sql("SELECT count(*) FROM ((SELECT id FROM public.ledger) EXCEPT "
			  . "(SELECT (data->>'id')::bigint FROM freight.events WHERE type = 'ledger.created')) m"),
		'0', "$when: no committed insert is missing an event");
	is(sql("SELECT count(*) FROM ((SELECT (data->>'id')::bigint FROM freight.events WHERE type = 'ledger.created') "
			  . "EXCEPT (SELECT id FROM public.ledger)) m"),
		'0', "$when: no event for an insert that did not commit");
	is(sql("SELECT count(*) - count(DISTINCT data->>'id') FROM freight.events WHERE type = 'ledger.created'"),
		'0', "$when: no insert has two events");
	is(sql("SELECT count(*) FROM ((SELECT id, version FROM public.ledger WHERE version > 0) EXCEPT "
			  . "(SELECT (data->>'id')::bigint, max((data->>'version')::int) FROM freight.events "
			  . " WHERE type = 'ledger.updated' GROUP BY 1 HAVING count(*) = max((data->>'version')::int))) m"),
		'0', "$when: each row has one update event per committed version");
	is(sql("SELECT count(*) - count(DISTINCT (lsn, seq)) FROM freight.events WHERE lsn IS NOT NULL"),
		'0', "$when: every (lsn, seq) once");
	return;
}

# The burst: four clients, three inserts to one update; kill -9 once events are flowing.
my ($out, $err) = ('', '');
my $burst = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '60', '-f', "$ins\@3", '-f', "$upd\@1",
		'-h', $node->host, '-p', $node->port, 'freight' ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('freight', "SELECT count(*) > 3000 FROM freight.events WHERE source = '/test/ledger'")
  or die 'no events before the crash';
my $before = sql("SELECT count(*) FROM freight.events WHERE source = '/test/ledger'");
my $postmaster = $node->{_pid};
$node->kill9;
$burst->finish;
note("killed the postmaster with $before events recorded");

# Start again once the killed postmaster is gone and its children have noticed.
usleep(100_000) while kill(0, $postmaster);
sleep 2;
ok($node->start(fail_ok => 1), 'server restarted after kill -9');
ok(sql("SELECT count(*) FROM public.ledger") > 0, 'committed rows survived');
note(sql("SELECT 'at restart: ' || (SELECT count(*) FROM public.ledger) || ' rows, ' || "
	  . "(SELECT count(*) FROM freight.events WHERE type = 'ledger.created') || ' created events'"));
check_exactly_once('after kill -9');

# A second burst after the restart is captured the same way.
$node->command_ok([ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '100', '-f', "$ins\@3", '-f', "$upd\@1", 'freight' ],
	'second burst');
check_exactly_once('after the second burst');

$node->stop;
done_testing();
