-- api_tx_schema.sql — the schema of test/e2e/api_tx.sh: what the per-request transaction of
-- freight-api must get right (commit once, roll back everything on error, read-only reads,
-- request.headers/cookies, db-pre-request, Prefer: tx / db-tx-end).
\ir api_roles.sql

CREATE SCHEMA api;
CREATE TABLE api.items (
	id serial PRIMARY KEY,
	name text NOT NULL CHECK (name <> 'bad')
);
-- checked at commit: an error raised by the commit itself must fail the request
CREATE TABLE api.parts (
	id serial PRIMARY KEY,
	item_id int NOT NULL REFERENCES api.items (id) DEFERRABLE INITIALLY DEFERRED
);
-- what the pre-request hook wrote in the request's transaction
CREATE TABLE api.audit (
	id serial PRIMARY KEY,
	method text NOT NULL,
	agent text
);

-- db-pre-request: refuses "x-block: yes", records writes in api.audit (same transaction)
CREATE FUNCTION api.pre_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	h json := current_setting('request.headers', true)::json;
BEGIN
	IF h->>'x-block' = 'yes' THEN
		RAISE SQLSTATE 'PT403' USING MESSAGE = 'blocked by pre-request', DETAIL = 'x-block header';
	END IF;
	IF current_setting('transaction_read_only') = 'off' THEN
		INSERT INTO api.audit (method, agent) VALUES (current_setting('request.method'), h->>'user-agent');
	END IF;
END $$;

-- what a function sees of the request
CREATE FUNCTION api.whoami() RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'user', current_user,
		'agent', current_setting('request.headers', true)::json->>'user-agent',
		'tenant', current_setting('request.headers', true)::json->>'x-tenant',
		'sid', current_setting('request.cookies', true)::json->>'sid',
		'method', current_setting('request.method', true),
		'path', current_setting('request.path', true),
		'read_only', current_setting('transaction_read_only'))
$$;

-- a volatile function that writes: called with GET it runs READ ONLY, so this fails (25006)
CREATE FUNCTION api.sneaky_write() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO api.items (name) VALUES ('sneaky');
	RETURN 1;
END $$;

GRANT USAGE ON SCHEMA api TO web_anon, web_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.items, api.parts, api.audit TO web_anon, web_user;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA api TO web_anon, web_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon, web_user;
