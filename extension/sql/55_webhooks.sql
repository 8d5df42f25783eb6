-- freight install script, part 55: webhook endpoints, deliveries, and the fan-out of
-- freight.events into deliveries.  The background worker workers/webhook_dispatch.c sends them.
--
-- Life of a delivery: the statement trigger on freight.events inserts one row per (event,
-- matching active endpoint) in the event's own transaction, so a committed event always has its
-- deliveries; at commit the dispatcher's latch is set.  The dispatcher reads due rows (status
-- pending or failed; the ones it is sending are kept in its memory, so reading costs no write),
-- POSTs the CloudEvent signed per Standard Webhooks, and records the outcome in one write:
-- delivered; failed with next_attempt_at from freight.webhook_retry_schedule; or dead (schedule
-- used up, a 4xx other than 408/429, 410).  A row stays due until its outcome is recorded, so
-- after a crash it is simply sent again (at least once).  webhook_replay() puts deliveries back
-- to pending.  An ordered endpoint has, per subject (a shipment's tracking number, ...), only its
-- oldest waiting delivery due at a time (webhook_ordered_heads): the messages of one subject go
-- out one by one in creation order, through retries; different subjects side by side.
--
-- Secrets: the current and the previous secret (kept valid for a while after a rotation) are
-- ciphertext under the context freight.webhook_endpoints.secret:<id>; the mTLS client key under
-- freight.webhook_endpoints.client_key:<id>.  The clear secret is returned once, at creation.
--
-- Errors: 22023 bad argument, PT404 no such endpoint or delivery, 54000 payload too large (see
-- README, "SQL reference").

-- ---------------------------------------------------------------------------------------------
-- Event types a subscription may name
-- ---------------------------------------------------------------------------------------------

-- Derived from the CDC configuration (freight.cdc_tables, see 50_events.sql) so that there is one
-- list: <prefix>.created/.updated/.deleted/.truncated, <prefix>.status_changed for tables with a
-- status column, <prefix>.<status> for their status events; plus the operational events.
CREATE VIEW freight.webhook_event_types AS
SELECT c.event_prefix || '.' || v.suffix AS type, c.source
FROM freight.cdc_tables c
CROSS JOIN (VALUES ('created'), ('updated'), ('deleted'), ('truncated')) AS v(suffix)
UNION
SELECT c.event_prefix || '.status_changed', c.source FROM freight.cdc_tables c WHERE c.status_column IS NOT NULL
UNION
SELECT c.event_prefix || '.' || st, c.source FROM freight.cdc_tables c, pg_catalog.unnest(c.status_events) AS st
UNION
SELECT 'security.' || k.kind, '/freight/security' FROM freight.security_event_kinds k
UNION
VALUES ('cdc.slot_lag', '/freight/cdc'),
	   ('webhook.test', '/freight/webhooks'),
	   ('webhook.endpoint_disabled', '/freight/webhooks'),
	   ('demand.high_predicted', '/freight/forecast');
COMMENT ON VIEW freight.webhook_event_types IS
	'Event types a webhook endpoint may subscribe to (from freight.cdc_tables and freight.security_event_kinds, plus operational events)';
GRANT SELECT ON freight.webhook_event_types TO PUBLIC;

CREATE FUNCTION freight.webhook_type_matches(event_type text, filters text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN EXISTS (
	SELECT 1 FROM pg_catalog.unnest(filters) AS f
	WHERE f OPERATOR(pg_catalog.=) '*' OR f OPERATOR(pg_catalog.=) event_type
	   OR (pg_catalog.right(f, 2) OPERATOR(pg_catalog.=) '.*'
		   AND pg_catalog.starts_with(event_type, pg_catalog.rtrim(f, '*'))));
COMMENT ON FUNCTION freight.webhook_type_matches(text, text[]) IS
	'Does an event type match a subscription filter (exact types, ''prefix.*'' or ''*'')?';

-- Checks a subscription filter and returns it without duplicates.
CREATE FUNCTION freight.webhook_check_event_types(event_types text[]) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
	f text;
BEGIN
	IF event_types IS NULL OR pg_catalog.cardinality(event_types) = 0 THEN
		RAISE EXCEPTION 'event_types must list at least one event type'
			USING ERRCODE = '22023', HINT = 'Use ''{*}'' for every event, or e.g. ''{shipment.*,invoice.disputed}''.';
	END IF;
	IF pg_catalog.cardinality(event_types) > 100 THEN
		RAISE EXCEPTION 'event_types lists more than 100 entries' USING ERRCODE = '22023';
	END IF;
	FOREACH f IN ARRAY event_types LOOP
		IF f IS NULL OR NOT EXISTS (
			SELECT 1 FROM freight.webhook_event_types t
			WHERE f OPERATOR(pg_catalog.=) '*' OR t.type OPERATOR(pg_catalog.=) f
			   OR (pg_catalog.right(f, 2) OPERATOR(pg_catalog.=) '.*'
				   AND pg_catalog.starts_with(t.type, pg_catalog.rtrim(f, '*')))) THEN
			RAISE EXCEPTION 'unknown event type "%"', f
				USING ERRCODE = '22023',
					  DETAIL = 'An entry must be an event type listed in freight.webhook_event_types, a prefix such as ''shipment.*'', or ''*''.',
					  HINT = 'SELECT type FROM freight.webhook_event_types;';
		END IF;
	END LOOP;
	RETURN ARRAY(SELECT DISTINCT x FROM pg_catalog.unnest(event_types) AS x ORDER BY x);
END
$$;
COMMENT ON FUNCTION freight.webhook_check_event_types(text[]) IS
	'Validates a webhook subscription filter (22023 on unknown types) and returns it sorted and de-duplicated';

-- ---------------------------------------------------------------------------------------------
-- C helpers (extension/webhook_funcs.c, workers/webhook_shmem.c)
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.webhook_check_url(url text) RETURNS text
	AS 'MODULE_PATHNAME', 'freight_webhook_check_url' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION freight.webhook_check_url(text) IS
	'Returns the URL if it is an acceptable webhook target (http/https, resolves only to public addresses unless freight.webhook_allow_private); 22023 otherwise';

CREATE FUNCTION freight.webhook_new_secret() RETURNS text
	AS 'MODULE_PATHNAME', 'freight_webhook_new_secret' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION freight.webhook_new_secret() IS
	'A new Standard Webhooks secret: whsec_ + base64 of 32 random bytes';

CREATE FUNCTION freight.webhook_wake() RETURNS void
	AS 'MODULE_PATHNAME', 'freight_webhook_wake' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION freight.webhook_wake() IS
	'Wakes the webhook dispatcher when the current transaction commits (nothing happens on abort)';

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

CREATE TABLE freight.webhook_endpoints (
	id					bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	customer_id			bigint REFERENCES freight.customers ON DELETE CASCADE,	-- NULL: platform-wide (ops)
	owner				name NOT NULL DEFAULT CURRENT_USER,
	url					text NOT NULL,
	event_types			text[] NOT NULL,
	secret				bytea NOT NULL,		-- ciphertext, context freight.webhook_endpoints.secret:<id>
	previous_secret		bytea,				-- ciphertext, same context; still signed with until previous_secret_until
	previous_secret_until timestamptz,
	client_cert			text,				-- PEM certificate for mTLS, or NULL
	client_key			bytea,				-- ciphertext of the PEM key, context freight.webhook_endpoints.client_key:<id>
	ordered				boolean NOT NULL DEFAULT false,	-- per subject one delivery at a time, in creation order
	active				boolean NOT NULL DEFAULT true,
	disabled_reason		text,
	failing_since		timestamptz,		-- first failure since the last success
	config_version		int NOT NULL DEFAULT 1,	-- bumped on every change, so the dispatcher reloads
	created_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CHECK (active OR disabled_reason IS NOT NULL),
	CHECK ((client_cert IS NULL) = (client_key IS NULL)),
	CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL))
);
CREATE INDEX webhook_endpoints_customer ON freight.webhook_endpoints (customer_id);
COMMENT ON TABLE freight.webhook_endpoints IS
	'Webhook endpoints: URL, event-type filter, signing secret (ciphertext), optional mTLS client certificate';

CREATE TABLE freight.webhook_deliveries (
	id				bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	endpoint_id		bigint NOT NULL REFERENCES freight.webhook_endpoints ON DELETE CASCADE,
	event_id		bigint,				-- freight.events.id; NULL for a message from send_webhook
	body			text,				-- the CloudEvent of a message without an event
	webhook_id		text NOT NULL CHECK (webhook_id ~ '^[A-Za-z0-9_-]+$'),	-- stable across retries
	order_key		text NOT NULL DEFAULT '',	-- the CloudEvent subject: an ordered endpoint's sequence
	status			text NOT NULL DEFAULT 'pending'
					CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
	attempts		int NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	last_attempt_at	timestamptz,
	last_status_code int,				-- HTTP status of the last attempt, NULL without an answer
	last_error		text,
	delivered_at	timestamptz,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CHECK ((event_id IS NULL) <> (body IS NULL)),
	UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON freight.webhook_deliveries (next_attempt_at)
	WHERE status IN ('pending', 'failed');
-- Finished deliveries are purged by age (freight.webhook_retention): a block-range index is
-- enough for rows that arrive in time order, and costs almost nothing to keep.
CREATE INDEX webhook_deliveries_created ON freight.webhook_deliveries USING brin (created_at);
-- An ordered endpoint's heads of line: per subject its oldest delivery still waiting.
CREATE INDEX webhook_deliveries_waiting ON freight.webhook_deliveries (endpoint_id, order_key, id)
	WHERE status IN ('pending', 'failed');
COMMENT ON TABLE freight.webhook_deliveries IS
	'One row per (event, endpoint): status pending|delivered|failed|dead, attempts, next attempt, last answer';
-- pg_dump carries the endpoints (their secrets as ciphertext) but not the deliveries: those
-- belong to freight.events, which is not dumped either (restored, they would be sent again).
SELECT pg_catalog.pg_extension_config_dump('freight.webhook_endpoints', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('freight.webhook_endpoints', 'id')::regclass, '');

ALTER TABLE freight.webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE freight.webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_staff ON freight.webhook_endpoints
	TO freight_admin, freight_app USING (true);
CREATE POLICY webhook_endpoints_own ON freight.webhook_endpoints
	TO freight_customer, freight_partner
	USING (customer_id OPERATOR(pg_catalog.=) freight.current_customer_id());
-- A delivery is visible to whoever sees its endpoint.
CREATE POLICY webhook_deliveries_by_endpoint ON freight.webhook_deliveries
	USING (EXISTS (SELECT 1 FROM freight.webhook_endpoints e WHERE e.id OPERATOR(pg_catalog.=) endpoint_id));

REVOKE ALL ON freight.webhook_endpoints, freight.webhook_deliveries FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON freight.webhook_endpoints
	TO freight_admin, freight_app, freight_customer, freight_partner;
GRANT SELECT, INSERT, UPDATE ON freight.webhook_deliveries
	TO freight_admin, freight_app, freight_customer, freight_partner;
GRANT USAGE ON SEQUENCE freight.webhook_endpoints_id_seq, freight.webhook_deliveries_id_seq
	TO freight_admin, freight_app, freight_customer, freight_partner;

-- Health of every endpoint the caller may see (row-level security of the tables applies): what
-- waits and since when, the last success, what failed lately.  For dashboards and alerts.
CREATE VIEW freight.webhook_status WITH (security_invoker = true) AS
	SELECT e.id AS endpoint_id, e.customer_id, e.url, e.active, e.ordered, e.disabled_reason, e.failing_since,
		   w.waiting, w.oldest_waiting_since, w.next_attempt_at,
		   r.last_delivered_at, r.delivered_24h, r.dead_24h
	FROM freight.webhook_endpoints e
	CROSS JOIN LATERAL (
		SELECT pg_catalog.count(*) AS waiting, pg_catalog.min(d.created_at) AS oldest_waiting_since,
			   pg_catalog.min(d.next_attempt_at) AS next_attempt_at
		FROM freight.webhook_deliveries d
		WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'failed')) w
	CROSS JOIN LATERAL (
		SELECT pg_catalog.max(d.delivered_at) AS last_delivered_at,
			   pg_catalog.count(*) FILTER (WHERE d.status = 'delivered') AS delivered_24h,
			   pg_catalog.count(*) FILTER (WHERE d.status = 'dead') AS dead_24h
		FROM freight.webhook_deliveries d
		WHERE d.endpoint_id = e.id AND d.last_attempt_at > pg_catalog.now() - interval '24 hours') r;
COMMENT ON VIEW freight.webhook_status IS
	'Per endpoint: waiting deliveries (count, oldest, next attempt), last delivery in the past day, delivered and dead in the past 24 hours';
GRANT SELECT ON freight.webhook_status TO freight_admin, freight_app, freight_customer, freight_partner;

-- ---------------------------------------------------------------------------------------------
-- Managing endpoints
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.register_webhook(url text, event_types text[], customer_id bigint DEFAULT NULL,
										 client_cert text DEFAULT NULL, client_key text DEFAULT NULL,
										 ordered boolean DEFAULT false)
RETURNS TABLE (id bigint, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
	owner_id bigint := COALESCE(register_webhook.customer_id, freight.current_customer_id());
	new_id bigint := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('freight.webhook_endpoints', 'id'));
	filters text[] := freight.webhook_check_event_types(event_types);
	new_secret text := freight.webhook_new_secret();
BEGIN
	PERFORM freight.require(url IS NOT NULL, 'url is required');
	PERFORM freight.require(ordered IS NOT NULL, 'ordered must be true or false');
	PERFORM freight.require((client_cert IS NULL) = (client_key IS NULL),
							'client_cert and client_key go together',
							'Pass both the PEM certificate and its PEM private key for mutual TLS, or neither.');
	PERFORM freight.require(client_cert IS NULL OR client_cert LIKE '-----BEGIN CERTIFICATE-----%',
							'client_cert is not a PEM certificate');
	PERFORM freight.require(client_key IS NULL OR client_key LIKE '-----BEGIN %PRIVATE KEY-----%',
							'client_key is not a PEM private key');
	INSERT INTO freight.webhook_endpoints AS e
		(id, customer_id, url, event_types, secret, client_cert, client_key, ordered)
	VALUES (new_id, owner_id, freight.webhook_check_url(url), filters,
			freight.encrypt(new_secret, freight.encryption_context('freight.webhook_endpoints', 'secret', new_id)),
			client_cert,
			freight.encrypt(client_key, freight.encryption_context('freight.webhook_endpoints', 'client_key', new_id)),
			register_webhook.ordered)
	RETURNING e.id INTO id;
	secret := new_secret;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION freight.register_webhook(text, text[], bigint, text, text, boolean) IS
	'Registers a webhook endpoint (ordered: per subject one delivery at a time, in order); returns its id and its signing secret (whsec_...), shown this once';

-- Locks an endpoint the caller may see, or raises PT404.
CREATE FUNCTION freight.webhook_endpoint_for_update(endpoint_id bigint) RETURNS freight.webhook_endpoints
LANGUAGE plpgsql
AS $$
DECLARE
	result freight.webhook_endpoints;
BEGIN
	SELECT * INTO result FROM freight.webhook_endpoints e WHERE e.id = endpoint_id FOR UPDATE;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'webhook endpoint % not found', endpoint_id USING ERRCODE = 'PT404';
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.webhook_endpoint_for_update(bigint) IS
	'The endpoint row, locked; PT404 if it does not exist or the caller may not see it';

CREATE FUNCTION freight.rotate_webhook_secret(endpoint_id bigint, keep_previous interval DEFAULT '24 hours')
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
	new_secret text := freight.webhook_new_secret();
BEGIN
	PERFORM freight.require(keep_previous IS NOT NULL AND keep_previous >= interval '0'
							AND keep_previous <= interval '30 days',
							'keep_previous must be between 0 and 30 days');
	UPDATE freight.webhook_endpoints e
	SET secret = freight.encrypt(new_secret, freight.encryption_context('freight.webhook_endpoints', 'secret', ep.id)),
		previous_secret = CASE WHEN keep_previous > interval '0' THEN ep.secret END,
		previous_secret_until = CASE WHEN keep_previous > interval '0' THEN pg_catalog.now() + keep_previous END,
		config_version = e.config_version + 1
	WHERE e.id = ep.id;
	RETURN new_secret;
END
$$;
COMMENT ON FUNCTION freight.rotate_webhook_secret(bigint, interval) IS
	'New signing secret (returned once); the previous one keeps signing too (two signatures) for keep_previous';

CREATE FUNCTION freight.disable_webhook(endpoint_id bigint, reason text DEFAULT 'disabled by its owner')
RETURNS freight.webhook_endpoints
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
BEGIN
	PERFORM freight.require(reason IS NOT NULL AND pg_catalog.length(reason) BETWEEN 1 AND 500,
							'reason must be 1 to 500 characters');
	UPDATE freight.webhook_endpoints e
	SET active = false, disabled_reason = reason, config_version = e.config_version + 1
	WHERE e.id = ep.id RETURNING * INTO ep;
	RETURN ep;
END
$$;
COMMENT ON FUNCTION freight.disable_webhook(bigint, text) IS
	'Stops deliveries to an endpoint (pending ones wait until it is enabled again)';

CREATE FUNCTION freight.enable_webhook(endpoint_id bigint) RETURNS freight.webhook_endpoints
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
BEGIN
	UPDATE freight.webhook_endpoints e
	SET active = true, disabled_reason = NULL, failing_since = NULL, config_version = e.config_version + 1
	WHERE e.id = ep.id RETURNING * INTO ep;
	PERFORM freight.webhook_wake();
	RETURN ep;
END
$$;
COMMENT ON FUNCTION freight.enable_webhook(bigint) IS
	'Resumes deliveries to an endpoint (its waiting deliveries are sent)';

CREATE FUNCTION freight.set_webhook_ordered(endpoint_id bigint, ordered boolean) RETURNS freight.webhook_endpoints
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
BEGIN
	PERFORM freight.require(ordered IS NOT NULL, 'ordered must be true or false');
	UPDATE freight.webhook_endpoints e
	SET ordered = set_webhook_ordered.ordered, config_version = e.config_version + 1
	WHERE e.id = ep.id RETURNING * INTO ep;
	PERFORM freight.webhook_wake();		-- unordered again: the waiting deliveries may all go now
	RETURN ep;
END
$$;
COMMENT ON FUNCTION freight.set_webhook_ordered(bigint, boolean) IS
	'Ordered delivery on or off: per subject one delivery at a time, each after the one before it is delivered or dead';

-- ---------------------------------------------------------------------------------------------
-- Deliveries: fan-out, test messages, replay
-- ---------------------------------------------------------------------------------------------

-- The request body of an event: the CloudEvent of freight.cloudevent() (same attributes), built
-- as json so that the data column is copied verbatim instead of parsed again (4x cheaper); unset
-- attributes are written as null, which CloudEvents reads as unset.
CREATE FUNCTION freight.webhook_body(ev freight.events) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.json_build_object(
	'specversion', '1.0',
	'id', ev.id::text,
	'source', ev.source,
	'type', ev.type,
	'subject', ev.subject,
	'time', pg_catalog.to_char(ev."time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	'datacontenttype', 'application/json',
	'freightlsn', ev.lsn::text,
	'freightseq', ev.seq,
	'data', ev.data)::text;
COMMENT ON FUNCTION freight.webhook_body(freight.events) IS
	'The webhook request body of an event: its CloudEvent (structured mode JSON)';

-- SECURITY DEFINER: whoever writes events, every matching endpoint gets its delivery.
CREATE FUNCTION freight.webhook_fan_out() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM freight.webhook_endpoints ep WHERE ep.active) THEN
		RETURN NULL;			-- nobody subscribed: skip the join over the new events
	END IF;
	INSERT INTO freight.webhook_deliveries (endpoint_id, event_id, webhook_id, order_key)
	SELECT ep.id, ev.id, 'msg_' || ev.id, COALESCE(ev.subject, '')
	FROM new_events ev
	JOIN freight.webhook_endpoints ep
	  ON ep.active AND freight.webhook_type_matches(ev.type, ep.event_types)
	ORDER BY ev.id		-- delivery ids in event order: an ordered endpoint's order
	ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		PERFORM freight.webhook_wake();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION freight.webhook_fan_out() IS
	'Statement trigger on freight.events: one delivery per (new event, matching active endpoint)';

CREATE TRIGGER webhook_fan_out AFTER INSERT ON freight.events
	REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION freight.webhook_fan_out();

CREATE FUNCTION freight.send_webhook(endpoint_id bigint, event_type text, data jsonb DEFAULT '{}')
RETURNS freight.webhook_deliveries
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
	new_id bigint := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('freight.webhook_deliveries', 'id'));
	payload text;
	max_bytes int := pg_catalog.current_setting('freight.webhook_max_payload')::int;
	result freight.webhook_deliveries;
BEGIN
	PERFORM freight.require(event_type IS NOT NULL AND EXISTS (
								SELECT 1 FROM freight.webhook_event_types t WHERE t.type = event_type),
							pg_catalog.format('unknown event type "%s"', event_type),
							'The type must be listed in freight.webhook_event_types.');
	PERFORM freight.require(data IS NOT NULL, 'data must not be null', 'Pass ''{}'' for an empty payload.');
	-- The same CloudEvent as events get; source /freight/webhooks, id = the delivery id.
	payload := freight.webhook_body(ROW(new_id, '/freight/webhooks', event_type, ep.id::text, pg_catalog.now(),
										data::json, NULL, NULL, pg_catalog.now())::freight.events);
	IF pg_catalog.octet_length(payload) > max_bytes THEN
		RAISE EXCEPTION 'webhook payload too large'
			USING ERRCODE = '54000',
				  DETAIL = pg_catalog.format('The CloudEvent is %s bytes; the limit (freight.webhook_max_payload) is %s bytes.',
											 pg_catalog.octet_length(payload), max_bytes),
				  HINT = 'Send identifiers and let the receiver fetch details (thin payloads).';
	END IF;
	PERFORM freight.require(ep.active, pg_catalog.format('webhook endpoint %s is disabled', ep.id),
							ep.disabled_reason);
	INSERT INTO freight.webhook_deliveries AS d (id, endpoint_id, body, webhook_id, order_key)
	VALUES (new_id, ep.id, payload, 'msg_t' || new_id, ep.id::text)
	RETURNING * INTO result;
	PERFORM freight.webhook_wake();
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.send_webhook(bigint, text, jsonb) IS
	'Queues a message (e.g. webhook.test) to one endpoint, outside the event stream; 54000 if over freight.webhook_max_payload';

CREATE FUNCTION freight.webhook_replay(delivery_id bigint) RETURNS freight.webhook_deliveries
LANGUAGE plpgsql
AS $$
DECLARE
	result freight.webhook_deliveries;
BEGIN
	UPDATE freight.webhook_deliveries d
	SET status = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(), delivered_at = NULL
	WHERE d.id = delivery_id
	RETURNING * INTO result;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'webhook delivery % not found', delivery_id USING ERRCODE = 'PT404';
	END IF;
	PERFORM freight.webhook_wake();
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.webhook_replay(bigint) IS
	'Sends a delivery again (same webhook-id, fresh retry schedule), whatever its status';

CREATE FUNCTION freight.webhook_replay(endpoint_id bigint, since timestamptz, until timestamptz)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
	ep freight.webhook_endpoints := freight.webhook_endpoint_for_update(endpoint_id);
	n bigint;
	created bigint;
BEGIN
	PERFORM freight.require(since IS NOT NULL AND until IS NOT NULL AND since < until,
							'since must be earlier than until');
	-- Events in the range that have no delivery yet (e.g. sent while the endpoint was disabled).
	INSERT INTO freight.webhook_deliveries (endpoint_id, event_id, webhook_id, order_key)
	SELECT ep.id, ev.id, 'msg_' || ev.id, COALESCE(ev.subject, '')
	FROM freight.events ev
	WHERE ev."time" >= since AND ev."time" < until AND freight.webhook_type_matches(ev.type, ep.event_types)
	ORDER BY ev.id
	ON CONFLICT DO NOTHING;
	GET DIAGNOSTICS created = ROW_COUNT;
	UPDATE freight.webhook_deliveries d
	SET status = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(), delivered_at = NULL
	WHERE d.endpoint_id = ep.id AND d.status <> 'pending'
	  AND (d.created_at >= since AND d.created_at < until
		   OR d.event_id IN (SELECT ev.id FROM freight.events ev WHERE ev."time" >= since AND ev."time" < until));
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM freight.webhook_wake();
	RETURN n + created;
END
$$;
COMMENT ON FUNCTION freight.webhook_replay(bigint, timestamptz, timestamptz) IS
	'Sends again every event of [since, until) to an endpoint (creating missing deliveries); returns how many';

-- The dispatcher calls it every minute with freight.webhook_retention; a superuser may too.
CREATE FUNCTION freight.webhook_purge(older_than interval, max_rows int DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
	cutoff timestamptz := freight.purge_cutoff(older_than, max_rows);
	n bigint;
BEGIN
	DELETE FROM freight.webhook_deliveries d
	WHERE d.id IN (SELECT o.id FROM freight.webhook_deliveries o
				   WHERE o.created_at < cutoff AND o.status IN ('delivered', 'dead')
					 AND COALESCE(o.last_attempt_at, o.created_at) < cutoff
				   LIMIT max_rows);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION freight.webhook_purge(interval, int) IS
	'Deletes up to max_rows delivered or dead deliveries created and last tried before now() - older_than; returns how many';

-- ---------------------------------------------------------------------------------------------
-- The dispatcher's side (workers/webhook_store.c); not for applications
-- ---------------------------------------------------------------------------------------------

-- Of an ordered endpoint the dispatcher may send, per subject, only the oldest waiting delivery
-- (the head of line; the rest of that subject wait behind it): the heads that are due by due_by
-- and not busy, at most lim.  A skip scan over webhook_deliveries_waiting, one index probe per
-- subject with waiting deliveries, so a long queue behind a head costs nothing.
CREATE FUNCTION freight.webhook_ordered_heads(busy bigint[], due_by timestamptz, lim int)
RETURNS TABLE (id bigint, endpoint_id bigint, config_version int, attempts int, webhook_id text,
			   event_id bigint, body text, next_attempt_at timestamptz)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	ep record;
	head freight.webhook_deliveries;
	n int := 0;
BEGIN
	FOR ep IN SELECT e.id, e.config_version FROM freight.webhook_endpoints e WHERE e.active AND e.ordered LOOP
		SELECT d.* INTO head FROM freight.webhook_deliveries d
		WHERE d.endpoint_id = ep.id AND d.status IN ('pending', 'failed')
		ORDER BY d.order_key, d.id LIMIT 1;
		WHILE FOUND LOOP
			IF head.next_attempt_at <= due_by AND head.id <> ALL (busy) THEN
				id := head.id; endpoint_id := ep.id; config_version := ep.config_version;
				attempts := head.attempts; webhook_id := head.webhook_id; event_id := head.event_id;
				body := head.body; next_attempt_at := head.next_attempt_at;
				RETURN NEXT;
				n := n + 1;
				IF n >= lim THEN
					RETURN;
				END IF;
			END IF;
			SELECT d.* INTO head FROM freight.webhook_deliveries d
			WHERE d.endpoint_id = ep.id AND d.status IN ('pending', 'failed') AND d.order_key > head.order_key
			ORDER BY d.order_key, d.id LIMIT 1;
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION freight.webhook_ordered_heads(bigint[], timestamptz, int) IS
	'Dispatcher: per subject of each active ordered endpoint its oldest waiting delivery, if due by due_by and not busy (at most lim)';

-- busy: the deliveries the dispatcher is sending or has not recorded yet (kept in its memory).
-- Deliveries to unordered endpoints come off the due index in order, each branch limited on its
-- own: a UNION of the two sorted afterwards would read every waiting row.
CREATE FUNCTION freight.webhook_claim(lim int, busy bigint[])
RETURNS TABLE (delivery_id bigint, endpoint_id bigint, config_version int, attempts int, webhook_id text,
			   body text)
LANGUAGE sql STABLE
BEGIN ATOMIC
	WITH due AS (
		(SELECT d.id, d.endpoint_id, e.config_version, d.attempts, d.webhook_id, d.event_id, d.body,
				d.next_attempt_at
		 FROM freight.webhook_deliveries d
		 JOIN freight.webhook_endpoints e ON e.id = d.endpoint_id AND e.active AND NOT e.ordered
		 WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= pg_catalog.now()
		   AND d.id <> ALL (busy)
		 ORDER BY d.next_attempt_at
		 LIMIT lim)
		UNION ALL
		SELECT * FROM freight.webhook_ordered_heads(busy, pg_catalog.now(), lim))
	SELECT d.id, d.endpoint_id, d.config_version, d.attempts + 1, d.webhook_id,
		   COALESCE(d.body,
			   (SELECT freight.webhook_body(ev) FROM freight.events ev WHERE ev.id = d.event_id))
	FROM due d
	ORDER BY d.next_attempt_at
	LIMIT lim;
END;
COMMENT ON FUNCTION freight.webhook_claim(int, bigint[]) IS
	'Dispatcher: up to lim due deliveries (not in busy; of an ordered endpoint only the oldest waiting one per subject) with their attempt number and CloudEvent body';

CREATE FUNCTION freight.webhook_next_due(busy bigint[]) RETURNS timestamptz
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT pg_catalog.min(w.next_attempt_at) FROM (
		(SELECT d.next_attempt_at
		 FROM freight.webhook_deliveries d
		 JOIN freight.webhook_endpoints e ON e.id = d.endpoint_id AND e.active AND NOT e.ordered
		 WHERE d.status IN ('pending', 'failed') AND d.id <> ALL (busy)
		 ORDER BY d.next_attempt_at LIMIT 1)
		UNION ALL
		-- A head due now settles it after a few probes; only when none is due are all heads read.
		SELECT COALESCE(
			(SELECT h.next_attempt_at FROM freight.webhook_ordered_heads(busy, pg_catalog.now(), 1) h),
			(SELECT pg_catalog.min(h.next_attempt_at) FROM freight.webhook_ordered_heads(busy, 'infinity', 2147483647) h))) w;
END;
COMMENT ON FUNCTION freight.webhook_next_due(bigint[]) IS
	'Dispatcher: when the next waiting delivery (not in busy) is due';

CREATE FUNCTION freight.webhook_endpoint_config(endpoint_id bigint)
RETURNS TABLE (url text, config_version int, secret text, previous_secret text,
			   previous_secret_until timestamptz, client_cert text, client_key text)
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT e.url, e.config_version,
		   freight.decrypt(e.secret, freight.encryption_context('freight.webhook_endpoints', 'secret', e.id)),
		   freight.decrypt(e.previous_secret, freight.encryption_context('freight.webhook_endpoints', 'secret', e.id)),
		   e.previous_secret_until, e.client_cert,
		   freight.decrypt(e.client_key, freight.encryption_context('freight.webhook_endpoints', 'client_key', e.id))
	FROM freight.webhook_endpoints e WHERE e.id = endpoint_id;
END;
COMMENT ON FUNCTION freight.webhook_endpoint_config(bigint) IS
	'Dispatcher: an endpoint''s URL and clear secrets (needs freight_decrypt)';

-- outcome: delivered | retry (delay_ms says when) | dead | gone (dead, and disable the endpoint).
-- One statement: store the outcomes, then touch only the endpoints whose health changes.
CREATE FUNCTION freight.webhook_record(ids bigint[], outcomes text[], status_codes int[], errors text[],
									   delays_ms bigint[], disable_after interval)
RETURNS TABLE (endpoint_id bigint, reason text, security_event_id bigint, event_id bigint)
LANGUAGE sql
BEGIN ATOMIC
	WITH r AS (
		SELECT * FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(outcomes),
								 pg_catalog.unnest(status_codes), pg_catalog.unnest(errors),
								 pg_catalog.unnest(delays_ms))
			AS r(id, outcome, status_code, error, delay_ms)),
	u AS (
		UPDATE freight.webhook_deliveries d
		SET attempts = d.attempts + 1,
			last_attempt_at = pg_catalog.now(),
			status = CASE r.outcome WHEN 'delivered' THEN 'delivered' WHEN 'retry' THEN 'failed' ELSE 'dead' END,
			next_attempt_at = CASE WHEN r.outcome = 'retry'
								   THEN pg_catalog.now() + r.delay_ms * interval '1 millisecond'
								   ELSE d.next_attempt_at END,
			last_status_code = r.status_code,
			last_error = r.error,
			delivered_at = CASE WHEN r.outcome = 'delivered' THEN pg_catalog.now() END
		FROM r WHERE d.id = r.id
		RETURNING d.endpoint_id, r.outcome),
	s AS (
		SELECT u.endpoint_id, pg_catalog.bool_or(u.outcome = 'delivered') AS ok,
			   pg_catalog.bool_or(u.outcome = 'gone') AS gone
		FROM u GROUP BY u.endpoint_id),
	h AS (
		SELECT e.id, s.ok,
			   e.active AND (s.gone OR (NOT s.ok AND COALESCE(e.failing_since < pg_catalog.now() - disable_after, false)))
				   AS disable,
			   CASE WHEN s.gone THEN 'the endpoint answered 410 Gone'
					ELSE pg_catalog.format('failing since %s, longer than freight.webhook_disable_after (%s)',
										   e.failing_since, disable_after) END AS reason
		FROM freight.webhook_endpoints e JOIN s ON s.endpoint_id = e.id),
	upd AS (
		UPDATE freight.webhook_endpoints e
		SET failing_since = CASE WHEN h.ok THEN NULL ELSE COALESCE(e.failing_since, pg_catalog.now()) END,
			active = e.active AND NOT h.disable,
			disabled_reason = CASE WHEN h.disable THEN h.reason ELSE e.disabled_reason END,
			config_version = e.config_version + CASE WHEN h.disable THEN 1 ELSE 0 END
		FROM h
		WHERE e.id = h.id AND (h.disable OR (h.ok = (e.failing_since IS NOT NULL)))
		RETURNING e.id, e.customer_id, h.disable, h.reason)
	SELECT upd.id, upd.reason,
		   freight.log_security_event('webhook_endpoint_disabled', NULL, 'freight webhook dispatcher', NULL,
									  pg_catalog.jsonb_build_object('endpoint_id', upd.id, 'customer_id', upd.customer_id,
																	'reason', upd.reason)),
		   freight.emit_event('/freight/webhooks', 'webhook.endpoint_disabled', upd.id::text,
							  pg_catalog.json_build_object('endpoint_id', upd.id, 'customer_id', upd.customer_id,
														   'reason', upd.reason))
	FROM upd WHERE upd.disable;
END;
COMMENT ON FUNCTION freight.webhook_record(bigint[], text[], int[], text[], bigint[], interval) IS
	'Dispatcher: stores attempt outcomes, tracks failing endpoints, disables those failing too long or gone (with a security event and a webhook.endpoint_disabled event) and returns them';

REVOKE ALL ON FUNCTION freight.webhook_ordered_heads(bigint[], timestamptz, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION freight.webhook_purge(interval, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION freight.webhook_claim(int, bigint[]),
	freight.webhook_next_due(bigint[]), freight.webhook_endpoint_config(bigint),
	freight.webhook_record(bigint[], text[], int[], text[], bigint[], interval) FROM PUBLIC;

-- Wake the dispatcher when the extension is installed: it waits for the tables to exist.
SELECT freight.webhook_wake();
