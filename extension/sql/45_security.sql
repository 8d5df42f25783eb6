-- freight install script, part 45: the security-event feed (C: extension/security_*.c; the janitor
-- worker drains events that outlive their transaction).
--
-- Sources: failed authentications (the API), rate-limit violations and a full rate-limit table
-- (rate limiter and janitor), GRANT/REVOKE/ALTER ROLE/CREATE ROLE/SET ROLE by non-admins and
-- permission-denied errors on freight objects (hooks in security_hook.c), denied decryptions,
-- disabled webhook endpoints.  Detection rules are rows of freight.security_rules; a matching
-- burst adds an 'alert' event.  Export: security_events_jsonl() (OCSF-style JSON lines) and
-- security_events_syslog() (RFC 5424 lines).

CREATE TABLE freight.security_severities (
	severity	text PRIMARY KEY,
	severity_id int NOT NULL UNIQUE,	-- OCSF severity_id
	syslog_severity int NOT NULL		-- RFC 5424 severity
);
COMMENT ON TABLE freight.security_severities IS 'Severities of security events with their OCSF and syslog numbers';
INSERT INTO freight.security_severities VALUES
	('info', 1, 6), ('low', 2, 5), ('medium', 3, 4), ('high', 4, 3), ('critical', 5, 2);

CREATE TABLE freight.security_event_kinds (
	kind		text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
	default_severity text NOT NULL REFERENCES freight.security_severities,
	class_uid	int NOT NULL,		-- OCSF class
	class_name	text NOT NULL,
	description text NOT NULL
);
COMMENT ON TABLE freight.security_event_kinds IS 'The kinds of security event, with their OCSF class';
INSERT INTO freight.security_event_kinds VALUES
	('auth_failure', 'medium', 3002, 'Authentication', 'failed authentication (bad API key, JWT or password)'),
	('rate_limit_violation', 'medium', 4002, 'HTTP Activity', 'requests denied by the rate limiter'),
	('rate_limit_table_full', 'high', 6003, 'API Activity', 'the rate limiter had no room for a new key'),
	('privilege_escalation', 'high', 3005, 'User Access Management', 'GRANT, REVOKE, ALTER/CREATE ROLE or SET ROLE by a non-admin'),
	('permission_denied', 'medium', 3003, 'Authorize Session', 'permission denied on a freight object'),
	('decrypt_denied', 'high', 6003, 'API Activity', 'decryption refused'),
	('webhook_endpoint_disabled', 'medium', 6003, 'API Activity', 'a webhook endpoint was disabled'),
	('security_queue_overflow', 'high', 6003, 'API Activity', 'security events were dropped because the queue was full'),
	('alert', 'high', 2004, 'Detection Finding', 'a detection rule matched');

CREATE TABLE freight.security_events (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	kind		text NOT NULL REFERENCES freight.security_event_kinds,
	severity	text NOT NULL REFERENCES freight.security_severities,
	actor		text CHECK (pg_catalog.length(actor) <= 256),
	client_addr inet,
	detail		jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(detail) = 'object')
);
CREATE INDEX security_events_time ON freight.security_events (time);
SELECT pg_catalog.pg_extension_config_dump('freight.security_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('freight.security_events', 'id')::regclass, '');
CREATE INDEX security_events_actor ON freight.security_events (kind, actor, time);
CREATE INDEX security_events_addr ON freight.security_events (kind, client_addr, time);
COMMENT ON TABLE freight.security_events IS
	'Security-event feed: who (actor: role or key), from where, what kind, how severe, details';

CREATE TABLE freight.security_rules (
	name		text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
	kind		text NOT NULL REFERENCES freight.security_event_kinds,
	group_by	text NOT NULL CHECK (group_by IN ('actor', 'client_addr')),
	threshold	int NOT NULL CHECK (threshold >= 1),
	"window"	interval NOT NULL CHECK ("window" > interval '0'),
	severity	text NOT NULL REFERENCES freight.security_severities,
	enabled		boolean NOT NULL DEFAULT true,
	description text
);
COMMENT ON TABLE freight.security_rules IS
	'Detection rules: threshold or more events of kind from one actor or address within window raise one alert per window';
-- pg_dump keeps the rules an operator added (the defaults come with CREATE EXTENSION).
SELECT pg_catalog.pg_extension_config_dump('freight.security_rules',
	$$WHERE name NOT IN ('failed_auth_by_actor', 'failed_auth_by_address', 'rate_limit_abuse', 'decrypt_denials', 'privilege_escalation_attempts')$$);
INSERT INTO freight.security_rules (name, kind, group_by, threshold, "window", severity, description) VALUES
	('failed_auth_by_actor', 'auth_failure', 'actor', 5, interval '10 minutes', 'high',
	 '5 failed authentications for one key or user within 10 minutes'),
	('failed_auth_by_address', 'auth_failure', 'client_addr', 5, interval '10 minutes', 'high',
	 '5 failed authentications from one address within 10 minutes'),
	('rate_limit_abuse', 'rate_limit_violation', 'actor', 3, interval '10 minutes', 'medium',
	 'a key denied by the rate limiter in 3 reports within 10 minutes'),
	('decrypt_denials', 'decrypt_denied', 'actor', 3, interval '10 minutes', 'high',
	 '3 refused decryptions by one role within 10 minutes'),
	('privilege_escalation_attempts', 'privilege_escalation', 'actor', 3, interval '10 minutes', 'critical',
	 '3 privilege changes attempted by one non-admin role within 10 minutes');

CREATE FUNCTION freight.log_security_event(kind text, severity text DEFAULT NULL, actor text DEFAULT NULL,
	client_addr inet DEFAULT NULL, detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k freight.security_event_kinds;
	new_id bigint;
BEGIN
	SELECT * INTO k FROM freight.security_event_kinds e WHERE e.kind = log_security_event.kind;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown security event kind "%"', coalesce(log_security_event.kind, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Known kinds: ' || (SELECT string_agg(e.kind, ', ' ORDER BY e.kind)
											FROM freight.security_event_kinds e) || '.';
	END IF;
	IF severity IS NOT NULL AND NOT EXISTS (SELECT 1 FROM freight.security_severities s
											WHERE s.severity = log_security_event.severity) THEN
		RAISE EXCEPTION 'unknown security event severity "%"', severity
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use one of info, low, medium, high, critical, or NULL for the kind''s default.';
	END IF;
	IF length(actor) > 256 THEN
		RAISE EXCEPTION 'security event actor is too long'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The actor is %s characters; the limit is 256.', length(actor));
	END IF;
	IF detail IS NOT NULL AND jsonb_typeof(detail) <> 'object' THEN
		RAISE EXCEPTION 'security event detail must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got a JSON %s.', jsonb_typeof(detail));
	END IF;
	IF octet_length(detail::text) > 8192 THEN
		RAISE EXCEPTION 'security event detail is too large'
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = format('The detail is %s bytes as JSON text; the limit is 8192.', octet_length(detail::text));
	END IF;
	INSERT INTO freight.security_events AS e (kind, severity, actor, client_addr, detail)
	VALUES (k.kind, coalesce(severity, k.default_severity), actor, client_addr, coalesce(detail, '{}'))
	RETURNING e.id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION freight.log_security_event(text, text, text, inet, jsonb) IS
	'Records a security event (severity NULL = the kind''s default) and applies the detection rules; returns its id';

-- Detection: after each event, each enabled rule on its kind counts the group's events in the
-- window; at the threshold it adds one alert (at most one per rule, group and window).  An
-- advisory lock per rule and group makes concurrent events count each other.
CREATE FUNCTION freight.security_apply_rules() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r freight.security_rules;
	group_value text;
	n bigint;
BEGIN
	FOR r IN SELECT * FROM freight.security_rules WHERE enabled AND kind = NEW.kind LOOP
		-- history (a restore, a backfill) does not raise alerts
		CONTINUE WHEN NEW.time < now() - r."window";
		group_value := CASE r.group_by WHEN 'actor' THEN NEW.actor ELSE host(NEW.client_addr) END;
		CONTINUE WHEN group_value IS NULL;
		PERFORM pg_advisory_xact_lock(hashtext('freight.security_rules'), hashtext(r.name || '/' || group_value));
		SELECT count(*) INTO n FROM freight.security_events e
		WHERE e.kind = r.kind AND e.time > NEW.time - r."window"
		  AND CASE r.group_by WHEN 'actor' THEN e.actor = group_value
							  ELSE e.client_addr = NEW.client_addr END;
		CONTINUE WHEN n < r.threshold;
		CONTINUE WHEN EXISTS (SELECT 1 FROM freight.security_events e
							  WHERE e.kind = 'alert' AND e.time > NEW.time - r."window"
								AND e.detail ->> 'rule' = r.name AND e.detail ->> 'group' = group_value);
		INSERT INTO freight.security_events (kind, severity, actor, client_addr, detail)
		VALUES ('alert', r.severity,
				CASE r.group_by WHEN 'actor' THEN NEW.actor END,
				CASE r.group_by WHEN 'client_addr' THEN NEW.client_addr END,
				jsonb_build_object('rule', r.name, 'kind', r.kind, 'group_by', r.group_by,
								   'group', group_value, 'count', n, 'window', r."window"::text,
								   'description', r.description, 'last_event_id', NEW.id));
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION freight.security_apply_rules() IS 'Trigger: evaluates freight.security_rules for a new event';

CREATE TRIGGER security_apply_rules AFTER INSERT ON freight.security_events
	FOR EACH ROW WHEN (NEW.kind <> 'alert') EXECUTE FUNCTION freight.security_apply_rules();

-- Each event (alerts included) also goes to freight.events as CloudEvent type security.<kind>
-- (data: the OCSF-style JSON), so webhook endpoints subscribed to security.* receive it.  The
-- event log is part 50 of this script; without it events stay in this table only.
CREATE FUNCTION freight.security_events_publish() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- An event more than a minute old when stored is history (a restore, a backfill), not news.
	IF NEW.time >= now() - interval '1 minute'
	   AND to_regprocedure('freight.emit_event(text, text, text, json)') IS NOT NULL THEN
		PERFORM freight.emit_event('/freight/security', 'security.' || NEW.kind,
								   coalesce(NEW.actor, host(NEW.client_addr)),
								   freight.security_event_ocsf(NEW)::json);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION freight.security_events_publish() IS
	'Trigger: publishes a security event to freight.events as CloudEvent type security.<kind>';

CREATE TRIGGER security_events_publish AFTER INSERT ON freight.security_events
	FOR EACH ROW EXECUTE FUNCTION freight.security_events_publish();

-- Called by the janitor for each event from the shared-memory queue (security_queue.c).
-- Permission denials are kept only when they concern an object in schema freight or api of this
-- database; statements are kept only for privilege changes, with passwords masked.
CREATE FUNCTION freight.record_queued_security_event(kind text, severity text, happened timestamptz,
	actor text, userid oid, session_userid oid, dbid oid, client_addr text, sqlstate text,
	message text, statement text, pid int)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	object text[];
	new_id bigint;
	db name := (SELECT d.datname FROM pg_database d WHERE d.oid = dbid);
BEGIN
	-- Refused privileged actions outside the utility hook (set_config('role', ...), ALTER SYSTEM,
	-- COPY to a file, ...) are escalation attempts; their statements are not kept.
	IF kind = 'permission_denied'
	   AND message ~ '^(permission denied to |must be superuser|must have admin option|must be member of)' THEN
		kind := 'privilege_escalation';
		severity := 'high';
		statement := NULL;
	ELSIF kind = 'permission_denied' THEN
		object := regexp_match(message, '^permission denied for (table|view|materialized view|sequence|foreign table|function|procedure|schema) (.+)$');
		IF object IS NULL OR dbid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) THEN
			RETURN NULL;
		END IF;
		IF object[1] = 'schema' THEN
			IF object[2] NOT IN ('freight', 'api') THEN
				RETURN NULL;
			END IF;
		ELSIF object[1] IN ('function', 'procedure') THEN
			IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
						   WHERE p.proname = object[2] AND s.nspname IN ('freight', 'api')) THEN
				RETURN NULL;
			END IF;
		ELSIF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
						  WHERE c.relname = object[2] AND s.nspname IN ('freight', 'api')) THEN
			RETURN NULL;
		END IF;
	END IF;
	INSERT INTO freight.security_events AS e (time, kind, severity, actor, client_addr, detail)
	VALUES (happened, kind, severity,
			coalesce(nullif(actor, ''), pg_get_userbyid(userid)),
			CASE WHEN client_addr ~ '^[0-9a-fA-F.:]+$' THEN client_addr::inet END,
			jsonb_strip_nulls(jsonb_build_object(
				'message', nullif(message, ''),
				'sqlstate', nullif(sqlstate, ''),
				'object_type', object[1], 'object', object[2],
				'statement', CASE WHEN kind = 'privilege_escalation' THEN
					-- everything after PASSWORD: it may be quoted in any of SQL's ways
					regexp_replace(statement, '\m(password)\M.*$', '\1 ''***''', 'i') END,
				'session_user', CASE WHEN session_userid <> userid THEN pg_get_userbyid(session_userid) END,
				'database', db,
				'pid', pid)))
	RETURNING e.id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION freight.record_queued_security_event(text, text, timestamptz, text, oid, oid, oid, text, text, text, text, int) IS
	'Janitor: stores one event from the shared-memory security queue (filters and redacts; see source)';

-- The janitor's export cursors (security_export.c): last event id delivered per target.
CREATE TABLE freight.security_export_cursors (
	target		text PRIMARY KEY,		-- file:<path> or syslog:<host:port>
	last_id		bigint NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('freight.security_export_cursors', '');
COMMENT ON TABLE freight.security_export_cursors IS
	'Last security event id exported to each file or syslog target (freight.security_events_file, freight.security_syslog_server)';

-- OCSF-style JSON, one line per event.
CREATE FUNCTION freight.security_event_ocsf(e freight.security_events) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'time', (extract(epoch FROM e.time) * 1000)::bigint,
		'class_uid', k.class_uid,
		'class_name', k.class_name,
		'category_uid', k.class_uid / 1000,
		'activity_id', 99,
		'activity_name', e.kind,
		'type_uid', k.class_uid * 100 + 99,
		'severity_id', s.severity_id,
		'severity', initcap(s.severity),
		'message', k.description,
		'actor', jsonb_build_object('user', jsonb_build_object('name', e.actor)),
		'src_endpoint', CASE WHEN e.client_addr IS NOT NULL
							 THEN jsonb_build_object('ip', host(e.client_addr)) END,
		'metadata', jsonb_build_object('uid', e.id::text, 'version', '1.1.0',
									   'product', jsonb_build_object('name', 'freight', 'vendor_name', 'freight')),
		'unmapped', e.detail))
	FROM freight.security_event_kinds k, freight.security_severities s
	WHERE k.kind = e.kind AND s.severity = e.severity
$$;
COMMENT ON FUNCTION freight.security_event_ocsf(freight.security_events) IS 'A security event as OCSF-style JSON';

CREATE FUNCTION freight.security_events_jsonl(after_id bigint DEFAULT 0, lim int DEFAULT 10000)
RETURNS TABLE (id bigint, line text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT e.id, freight.security_event_ocsf(e)::text
	FROM freight.security_events e
	WHERE e.id > after_id
	ORDER BY e.id
	LIMIT lim
$$;
COMMENT ON FUNCTION freight.security_events_jsonl(bigint, int) IS
	'JSON-lines export: events after after_id, oldest first, one OCSF-style JSON object per line';

-- RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ELEMENT] MSG, facility authpriv (10).
CREATE FUNCTION freight.security_events_syslog(after_id bigint DEFAULT 0, lim int DEFAULT 10000,
	hostname text DEFAULT '-')
RETURNS TABLE (id bigint, line text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT e.id,
		   format('<%s>1 %s %s freight - %s [freight@32473 id="%s" severity="%s" actor="%s" client_addr="%s"] %s',
				  10 * 8 + s.syslog_severity,
				  to_char(e.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
				  coalesce(nullif(regexp_replace(hostname, '[^!-~]', '', 'g'), ''), '-'),
				  e.kind, e.id, e.severity,
				  regexp_replace(regexp_replace(coalesce(e.actor, ''), '[[:cntrl:]]', ' ', 'g'),
								 '(["\\\]])', '\\\1', 'g'),
				  coalesce(host(e.client_addr), ''),
				  e.detail::text)
	FROM freight.security_events e JOIN freight.security_severities s ON s.severity = e.severity
	WHERE e.id > after_id
	ORDER BY e.id
	LIMIT lim
$$;
COMMENT ON FUNCTION freight.security_events_syslog(bigint, int, text) IS
	'Syslog export: events after after_id as RFC 5424 lines (facility authpriv, structured data freight@32473)';

-- Expiry (security_retention.c, every minute with freight.security_events_retention): events
-- older than older_than, oldest first; with exported_up_to, none after that id (not yet exported).
-- Superusers only: an administrator's account must not be able to erase the audit trail.
CREATE FUNCTION freight.security_events_purge(older_than interval, exported_up_to bigint DEFAULT NULL,
											  max_rows int DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cutoff timestamptz := freight.purge_cutoff(older_than, max_rows);
	n bigint;
BEGIN
	DELETE FROM freight.security_events e
	WHERE e.id IN (SELECT o.id FROM freight.security_events o
				   WHERE o.time < cutoff AND (exported_up_to IS NULL OR o.id <= exported_up_to)
				   ORDER BY o.time
				   LIMIT max_rows);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION freight.security_events_purge(interval, bigint, int) IS
	'Deletes up to max_rows security events older than now() - older_than (and, given exported_up_to, with id at most that); returns how many';

REVOKE ALL ON FUNCTION freight.log_security_event(text, text, text, inet, jsonb),
	freight.security_events_purge(interval, bigint, int),
	freight.record_queued_security_event(text, text, timestamptz, text, oid, oid, oid, text, text, text, text, int),
	freight.security_events_jsonl(bigint, int), freight.security_events_syslog(bigint, int, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.log_security_event(text, text, text, inet, jsonb) TO freight_app, freight_admin;
GRANT EXECUTE ON FUNCTION freight.security_events_jsonl(bigint, int), freight.security_events_syslog(bigint, int, text)
	TO freight_admin;
GRANT SELECT ON freight.security_events, freight.security_event_kinds, freight.security_severities TO freight_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON freight.security_rules TO freight_admin;
