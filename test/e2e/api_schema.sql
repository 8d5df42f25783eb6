-- api_schema.sql — a small self-contained schema the API end-to-end tests run against
-- (freight-api is general: it serves any database).  Base tables in schema private, exposed
-- through security_invoker views in schema api so row-level security applies per role.
\ir api_roles.sql
CREATE ROLE web_admin NOLOGIN;
GRANT web_admin TO authenticator;

CREATE SCHEMA private;
CREATE SCHEMA api;
COMMENT ON SCHEMA api IS 'freight API end-to-end test schema';

CREATE TABLE private.drivers (
	id serial PRIMARY KEY,
	name text NOT NULL,
	phone text
);
CREATE TABLE private.shipments (
	id serial PRIMARY KEY,
	tracking_number text NOT NULL UNIQUE,
	status text NOT NULL DEFAULT 'created',
	weight_kg numeric,
	tags text[] NOT NULL DEFAULT '{}',
	driver_id int REFERENCES private.drivers (id),
	meta jsonb NOT NULL DEFAULT '{}',
	owner text NOT NULL DEFAULT 'alice',
	created_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);
CREATE TABLE private.packages (
	id serial PRIMARY KEY,
	shipment_id int NOT NULL REFERENCES private.shipments (id) ON DELETE CASCADE,
	description text NOT NULL,
	weight_kg numeric NOT NULL DEFAULT 1
);
CREATE TABLE api.notes (
	id int PRIMARY KEY,
	shipment_id int REFERENCES private.shipments (id) ON DELETE CASCADE,
	body text NOT NULL CHECK (length(body) < 200)
);

CREATE VIEW api.drivers WITH (security_invoker = true) AS
	SELECT id, name, phone FROM private.drivers;
CREATE VIEW api.shipments WITH (security_invoker = true) AS
	SELECT id, tracking_number, status, weight_kg, tags, driver_id, meta, owner, created_at
	FROM private.shipments;
COMMENT ON VIEW api.shipments IS 'Shipments visible to the caller';
CREATE VIEW api.packages WITH (security_invoker = true) AS
	SELECT id, shipment_id, description, weight_kg FROM private.packages;

ALTER TABLE private.shipments ENABLE ROW LEVEL SECURITY;
CREATE POLICY admin_all ON private.shipments TO web_admin USING (true) WITH CHECK (true);
CREATE POLICY own_rows ON private.shipments TO web_user
	USING (owner = current_setting('request.jwt.claims', true)::json ->> 'sub')
	WITH CHECK (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
CREATE POLICY anon_read ON private.shipments FOR SELECT TO web_anon USING (true);

GRANT USAGE ON SCHEMA api, private TO web_anon, web_user, web_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA api, private TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA api, private TO web_user, web_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA private TO web_user, web_admin;

CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE FUNCTION api.by_status(s text) RETURNS SETOF api.shipments LANGUAGE sql STABLE
	AS 'SELECT * FROM api.shipments WHERE status = s';
CREATE FUNCTION api.set_status(tn text, st text) RETURNS void LANGUAGE sql
	AS 'UPDATE api.shipments SET status = st WHERE tracking_number = tn';
CREATE FUNCTION api.echo(json) RETURNS json LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION api.whoami() RETURNS text LANGUAGE sql STABLE
	AS $$SELECT current_user || ':' || coalesce(current_setting('request.jwt.claims', true)::json ->> 'sub', '')$$;
CREATE FUNCTION api.fail() RETURNS int LANGUAGE plpgsql
	AS $$BEGIN RAISE EXCEPTION 'custom failure' USING DETAIL = 'it failed', HINT = 'do not call'; END$$;

INSERT INTO private.drivers (name, phone) VALUES ('Ada', '+49 1'), ('Bob', NULL), ('Cleo', '+49 3');
INSERT INTO private.shipments (tracking_number, status, weight_kg, tags, driver_id, meta, owner)
SELECT 'IFE-' || lpad(g::text, 6, '0'),
	   (ARRAY['created', 'in_transit', 'delivered', 'exception'])[1 + g % 4],
	   g * 10, CASE WHEN g % 3 = 0 THEN '{fragile,cold}' ELSE '{fragile}' END::text[],
	   CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 3 END,
	   jsonb_build_object('priority', g % 2, 'city', CASE WHEN g % 2 = 0 THEN 'Berlin' ELSE 'Hamburg' END),
	   CASE WHEN g <= 30 THEN 'alice' ELSE 'bob' END
FROM generate_series(1, 60) g;
INSERT INTO private.packages (shipment_id, description, weight_kg)
SELECT 1 + (g % 10), 'box ' || g, g FROM generate_series(1, 25) g;
INSERT INTO api.notes VALUES (1, 1, 'first note'), (2, 1, 'second note'), (3, 2, 'other');

-- The slice of freight's event interface the event streams read (DESIGN.md: freight.events,
-- freight.events_since(cursor, lim), freight.track(tracking_number) and NOTIFY freight_events),
-- so the streams are tested without the extension.
CREATE SCHEMA freight;
CREATE TABLE freight.events (
	id bigserial PRIMARY KEY,
	source text NOT NULL DEFAULT '/freight/test',
	type text NOT NULL,
	subject text,
	time timestamptz NOT NULL DEFAULT now(),
	data json
);
CREATE FUNCTION freight.events_since(cursor bigint, lim integer DEFAULT 100) RETURNS SETOF freight.events
	LANGUAGE sql STABLE AS 'SELECT * FROM freight.events WHERE id > cursor ORDER BY id LIMIT lim';
CREATE FUNCTION freight.cloudevent(e freight.events) RETURNS jsonb LANGUAGE sql STABLE
	AS $$SELECT jsonb_build_object('specversion', '1.0', 'id', e.id::text, 'source', e.source,
								   'type', e.type, 'subject', e.subject, 'time', e.time, 'data', e.data)$$;
CREATE FUNCTION freight.track(tracking_number text) RETURNS jsonb LANGUAGE sql STABLE
	AS $$SELECT jsonb_build_object('tracking_number', s.tracking_number, 'status', s.status)
		 FROM api.shipments s WHERE s.tracking_number = track.tracking_number$$;
CREATE FUNCTION freight.emit(type text, subject text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	new_id bigint;
BEGIN
	INSERT INTO freight.events (type, subject, data)
	VALUES (emit.type, emit.subject, json_build_object('subject', emit.subject)) RETURNING id INTO new_id;
	PERFORM pg_notify('freight_events', new_id::text);
	RETURN new_id;
END
$$;
GRANT USAGE ON SCHEMA freight TO web_anon, web_user, web_admin;
GRANT SELECT ON freight.events TO web_user, web_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA freight TO web_anon, web_user, web_admin;
CREATE FUNCTION api.slow(seconds float8) RETURNS int LANGUAGE sql VOLATILE
	AS 'SELECT 1 FROM pg_sleep(seconds)';

-- The slice of freight's API-key, rate-limit and security-event interface the daemon calls
-- (freight.authenticate_api_key, freight.rate_limit, freight.log_security_event), as small
-- SQL stand-ins: bcrypt-hashed keys, a counter allowing 5 requests per key, an events table.
CREATE EXTENSION pgcrypto SCHEMA public;
CREATE ROLE web_service NOLOGIN;
GRANT web_service TO authenticator;
CREATE TABLE freight.api_keys (prefix text PRIMARY KEY, key_hash text NOT NULL, sub text NOT NULL, tier text NOT NULL);
INSERT INTO freight.api_keys VALUES
	('ifk_aaaaaaaaaaaa', public.crypt('secreta', public.gen_salt('bf')), 'alice', 'free'),
	('ifk_bbbbbbbbbbbb', public.crypt('secretb', public.gen_salt('bf')), 'alice', 'free');
CREATE FUNCTION freight.authenticate_api_key(api_key text) RETURNS TABLE (sub text, tier text)
	LANGUAGE sql STABLE AS $$
	SELECT k.sub, k.tier FROM freight.api_keys k
	WHERE k.prefix = split_part(api_key, '_', 1) || '_' || split_part(api_key, '_', 2)
	  AND k.key_hash = public.crypt(split_part(api_key, '_', 3), k.key_hash) $$;
CREATE TABLE freight.rate_counts (key text PRIMARY KEY, n int NOT NULL);
CREATE FUNCTION freight.rate_limit(key text, cost int DEFAULT 1, OUT allowed boolean, OUT "limit" int,
	OUT remaining int, OUT reset_after interval, OUT retry_after interval) LANGUAGE sql AS $$
	INSERT INTO freight.rate_counts AS c VALUES (key, cost)
	ON CONFLICT (key) DO UPDATE SET n = c.n + excluded.n
	RETURNING n <= 5, 5, greatest(5 - n, 0), interval '60 s',
			  CASE WHEN n <= 5 THEN interval '0' ELSE interval '30 s' END $$;
CREATE TABLE freight.security_events (id bigserial PRIMARY KEY, kind text NOT NULL, severity text,
	actor text, client_addr inet, detail jsonb, time timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION freight.log_security_event(kind text, severity text DEFAULT NULL, actor text DEFAULT NULL,
	client_addr inet DEFAULT NULL, detail jsonb DEFAULT '{}') RETURNS bigint LANGUAGE sql AS $$
	INSERT INTO freight.security_events (kind, severity, actor, client_addr, detail)
	VALUES (kind, severity, actor, client_addr, detail) RETURNING id $$;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA freight FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA freight TO web_anon, web_user, web_admin;
REVOKE EXECUTE ON FUNCTION freight.authenticate_api_key(text), freight.rate_limit(text, int),
	freight.log_security_event(text, text, text, inet, jsonb) FROM web_anon, web_user, web_admin;
GRANT USAGE ON SCHEMA freight TO web_service;
GRANT SELECT ON freight.api_keys TO web_service;
GRANT SELECT, INSERT, UPDATE ON freight.rate_counts TO web_service;
GRANT SELECT, INSERT ON freight.security_events TO web_service;
GRANT USAGE ON SEQUENCE freight.security_events_id_seq TO web_service;
GRANT EXECUTE ON FUNCTION freight.authenticate_api_key(text), freight.rate_limit(text, int),
	freight.log_security_event(text, text, text, inet, jsonb) TO web_service;
