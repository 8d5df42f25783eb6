-- Security events: recording, validation, detection rules, JSON-lines and syslog export.
SET search_path = freight, public;

-- Recording returns the id; severity defaults to the kind's.
SELECT log_security_event('auth_failure', NULL, 'key:a1', '203.0.113.7', '{"reason": "bad secret"}') > 0 AS recorded;
SELECT kind, severity, actor, client_addr, detail FROM security_events ORDER BY id;

-- Rule failed_auth_by_actor: the 5th failure for one key within 10 minutes raises one alert;
-- failed_auth_by_address does the same per address.
SELECT count(*) FROM (SELECT log_security_event('auth_failure', NULL, 'key:a1', ('198.51.100.' || i)::inet)
					  FROM generate_series(1, 3) i) s;
SELECT count(*) AS alerts FROM security_events WHERE kind = 'alert';
SELECT log_security_event('auth_failure', NULL, 'key:a1', '198.51.100.9') > 0;
SELECT severity, actor, detail ->> 'rule' AS rule, detail ->> 'count' AS n
FROM security_events WHERE kind = 'alert' ORDER BY id;
-- more failures in the same window: no second alert for that key
SELECT count(*) FROM (SELECT log_security_event('auth_failure', NULL, 'key:a1', NULL)
					  FROM generate_series(1, 5)) s;
SELECT count(*) AS alerts FROM security_events WHERE kind = 'alert' AND detail ->> 'rule' = 'failed_auth_by_actor';
-- five different keys from one address
SELECT count(*) FROM (SELECT log_security_event('auth_failure', NULL, 'key:b' || i, '192.0.2.66')
					  FROM generate_series(1, 5) i) s;
SELECT severity, actor, client_addr, detail ->> 'rule' AS rule
FROM security_events WHERE kind = 'alert' AND detail ->> 'rule' = 'failed_auth_by_address';
-- events older than the window do not count
INSERT INTO security_events (time, kind, severity, actor)
SELECT now() - interval '1 hour', 'auth_failure', 'medium', 'key:old' FROM generate_series(1, 4);
SELECT log_security_event('auth_failure', NULL, 'key:old') > 0;
SELECT count(*) AS alerts FROM security_events WHERE kind = 'alert' AND actor = 'key:old';
-- rules are data: a disabled rule does not fire, a new one does
UPDATE security_rules SET enabled = false WHERE name = 'decrypt_denials';
INSERT INTO security_rules (name, kind, group_by, threshold, "window", severity)
VALUES ('any_table_full', 'rate_limit_table_full', 'actor', 1, '1 hour', 'critical');
SELECT count(*) FROM (SELECT log_security_event('decrypt_denied', NULL, 'role:new') FROM generate_series(1, 4)) s;
SELECT log_security_event('rate_limit_table_full', NULL, 'k') > 0;
SELECT actor, severity, detail ->> 'rule' AS rule FROM security_events
WHERE kind = 'alert' AND actor IN ('role:new', 'k');

-- Bad input: clear errors, nothing recorded.
SELECT count(*) AS before FROM security_events \gset
\set VERBOSITY terse
-- (terse: the hint lists the known kinds, which other parts of freight add to)
SELECT log_security_event('no_such_kind');
SELECT log_security_event(NULL);
\set VERBOSITY default
SELECT log_security_event('auth_failure', 'urgent');
SELECT log_security_event('auth_failure', NULL, repeat('a', 257));
SELECT log_security_event('auth_failure', NULL, 'x', NULL, '[1, 2]');
SELECT log_security_event('auth_failure', NULL, 'x', NULL,
						  jsonb_build_object('blob', repeat('x', 9000)));
SELECT count(*) = :before AS nothing_recorded FROM security_events;

-- JSON lines, OCSF-style: one object per line.
SELECT line::jsonb - 'time' AS line FROM security_events_jsonl() j
WHERE (j.line::jsonb -> 'metadata' ->> 'uid')::bigint = (SELECT min(id) FROM security_events);
SELECT count(*) = (SELECT count(*) FROM security_events) AS all_lines,
	   bool_and(line !~ '\n') AS single_lines
FROM security_events_jsonl(0, 100000);
SELECT count(*) FROM security_events_jsonl((SELECT max(id) - 2 FROM security_events));

-- Syslog, RFC 5424 (timestamp masked).
SELECT regexp_replace(line, '^(<[0-9]+>1) \S+', '\1 TS') AS line
FROM security_events_syslog(0, 100000, 'db1.example') s
WHERE s.id = (SELECT min(id) FROM security_events);
SELECT log_security_event('privilege_escalation', 'critical', 'we"ird]\actor', NULL, '{}') AS weird \gset
SELECT regexp_replace(line, '^(<[0-9]+>1) \S+', '\1 TS') AS line
FROM security_events_syslog(0, 100000) s WHERE s.id = :weird;
-- a line break in the actor must not start a forged syslog line
SELECT log_security_event('auth_failure', NULL, E'key\n<82>1 2026-01-01T00:00:00Z forged', NULL, '{}') AS forged \gset
SELECT regexp_replace(line, '^(<[0-9]+>1) \S+', '\1 TS') AS line, line ~ '[\r\n]' AS has_line_break
FROM security_events_syslog(0, 100000) s WHERE s.id = :forged;
SELECT bool_and(line ~ '^<[0-9]{1,3}>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z \S+ freight - [a-z_]+ \[freight@32473 ')
	AS well_formed
FROM security_events_syslog();

-- Every event is also a CloudEvent security.<kind> in freight.events (for webhooks); history
-- (the rows stored with an old time above) is not.
SELECT (SELECT count(*) FROM events WHERE type LIKE 'security.%')
	   = (SELECT count(*) FROM security_events WHERE time > now() - interval '1 minute') AS all_new_published,
	   (SELECT count(*) FROM events WHERE subject = 'key:old') AS key_old_published;
SELECT source, type, subject, data -> 'unmapped' AS data FROM events
WHERE type LIKE 'security.%' ORDER BY id LIMIT 2;

-- Expiry: events older than the cutoff go, oldest first; given exported_up_to, none after it.
UPDATE security_events SET time = now() - interval '100 days'
WHERE id <= (SELECT min(id) + 2 FROM security_events);
SELECT count(*) AS old_before, min(id) AS first_old FROM security_events
WHERE time < now() - interval '90 days' \gset
SELECT security_events_purge(interval '90 days', :first_old) AS purged_up_to_exported;
SELECT security_events_purge(interval '90 days') = :old_before - 1 AS purged_the_rest;
SELECT count(*) AS old_left FROM security_events WHERE time < now() - interval '90 days';
\set SHOW_CONTEXT never
SELECT security_events_purge(interval '0');
SELECT security_events_purge(interval '1 day', NULL, 0);
-- Only superusers: an administrator's account cannot erase the audit trail.
SET ROLE freight_admin;
SELECT security_events_purge(interval '1 day');
RESET ROLE;
