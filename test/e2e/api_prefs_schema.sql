-- api_prefs_schema.sql — the schema of test/e2e/api_prefs.sh: what Prefer: max-affected,
-- timezone, params=single-object and count=planned|estimated on /rpc must get right in
-- freight-api.
\ir api_roles.sql
ALTER DATABASE prefstest SET timezone = 'UTC';

CREATE SCHEMA api;
-- ten rows: group a has 3, group b has 7
CREATE TABLE api.items (
	id int PRIMARY KEY,
	grp text NOT NULL,
	qty int NOT NULL DEFAULT 0
);
INSERT INTO api.items (id, grp) SELECT i, CASE WHEN i <= 3 THEN 'a' ELSE 'b' END FROM generate_series(1, 10) i;

CREATE TABLE api.events (
	id int PRIMARY KEY,
	at timestamptz NOT NULL
);
INSERT INTO api.events VALUES (1, '2024-06-14 16:00:00+00');

-- a volatile set-returning function that writes one row per member of the group
CREATE FUNCTION api.bump(g text) RETURNS SETOF api.items LANGUAGE sql AS $$
	UPDATE api.items SET qty = qty + 1 WHERE grp = g RETURNING *
$$;

-- the request's time zone as the statement sees it
CREATE FUNCTION api.zone() RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('timezone', current_setting('timezone'),
		'local', to_char(timestamptz '2024-06-14 16:00:00+00', 'HH24:MI'))
$$;

-- params=single-object candidates: a named jsonb, an unnamed json, and one that takes no json
CREATE FUNCTION api.echo(payload jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT payload $$;
CREATE FUNCTION api.echo_json(json) RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;

-- count=planned on /rpc: a set-returning function the planner estimates at 1,000 rows (ROWS),
-- so its planned totals differ from the exact ones (10 rows, 7 in group b)
CREATE FUNCTION api.items_of(g text DEFAULT NULL) RETURNS SETOF api.items LANGUAGE plpgsql STABLE
ROWS 1000 AS $$
BEGIN
	RETURN QUERY SELECT * FROM api.items i WHERE g IS NULL OR i.grp = g;
END $$;

GRANT USAGE ON SCHEMA api TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.items, api.events TO web_anon;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon;
