-- Change-data capture: the freight output plugin through the SQL interface, the configuration
-- table's checks, the event log functions and bad input.  (The CDC worker itself is tested by
-- test/t/030_cdc.pl and 031_cdc_crash.pl; this instance has no database "freight".)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS freight CASCADE;
SET search_path = freight, public;
SET timezone = 'Europe/Zurich';

CREATE TABLE public.regress_items (
	id		int PRIMARY KEY,
	name	text,
	status	text NOT NULL DEFAULT 'new',
	secret	bytea,
	hidden	text,
	amount	numeric,
	weight	float8,
	ok		boolean,
	at		timestamptz,
	day		date,
	doc		jsonb
);
ALTER TABLE public.regress_items REPLICA IDENTITY FULL;
SELECT 'slot' FROM pg_create_logical_replication_slot('regress_cdc', 'freight');

CREATE FUNCTION public.decoded() RETURNS TABLE (seq text, source text, type text, subject text, data text)
LANGUAGE sql AS $$
	SELECT split_part(c.data, E'\t', 2), split_part(c.data, E'\t', 4), split_part(c.data, E'\t', 5),
		   split_part(c.data, E'\t', 6), split_part(c.data, E'\t', 7)
	FROM pg_logical_slot_get_changes('regress_cdc', NULL, NULL) c
$$;

-- Not tracked yet: no output.
INSERT INTO public.regress_items (id, name) VALUES (0, 'before');
SELECT * FROM public.decoded();

INSERT INTO cdc_tables (rel, source, event_prefix, subject_column, status_column, status_events, exclude_columns)
VALUES ('public.regress_items', '/regress/items', 'item', 'name', 'status', '{done}', '{hidden}');

-- Inserts (two in one transaction: seq 1 and 2), bytea and excluded columns never appear,
-- timestamptz in UTC, NaN as a string, a tab in the subject becomes a space.
BEGIN;
INSERT INTO public.regress_items VALUES
	(1, 'crate', 'new', '\x00ff', 'do not show', 12.50, 'NaN', true, '2024-05-01 12:00:00+02', '2024-05-02', '{"b": [1, "x\"y"]}'),
	(2, E'tab\there', 'new', NULL, NULL, NULL, 1.5, NULL, NULL, NULL, NULL);
COMMIT;
-- Status changes, a status with its own type, an update leaving the status alone, a delete.
UPDATE public.regress_items SET status = 'moving' WHERE id = 1;
UPDATE public.regress_items SET status = 'done' WHERE id = 1;
UPDATE public.regress_items SET amount = 13 WHERE id = 1;
DELETE FROM public.regress_items WHERE id = 2;
-- Rolled back work produces nothing.
BEGIN;
INSERT INTO public.regress_items (id, name) VALUES (3, 'rolled back');
ROLLBACK;
TRUNCATE public.regress_items;
SELECT * FROM public.decoded();

-- The fixed fields: commit LSN, ISO 8601 commit time in UTC.
INSERT INTO public.regress_items (id, name) VALUES (4, 'fields');
SELECT split_part(data, E'\t', 1)::pg_lsn > '0/0' AS lsn_ok,
	   split_part(data, E'\t', 3) ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$' AS time_ok,
	   split_part(data, E'\t', 3)::timestamptz BETWEEN now() - interval '1 hour' AND clock_timestamp() AS time_recent
FROM pg_logical_slot_get_changes('regress_cdc', NULL, NULL);

-- A TOASTed value the update left alone is not in the WAL, so it is left out of that event.
INSERT INTO public.regress_items (id, name, doc)
SELECT 7, 'toasted', jsonb_build_object('big', string_agg(md5(i::text), '')) FROM generate_series(1, 400) i;
UPDATE public.regress_items SET amount = 1 WHERE id = 7;
SELECT type, length(data) > 10000 AS big, position('"doc"' IN data) > 0 AS has_doc,
	   position('"amount":1' IN data) > 0 AS has_amount
FROM public.decoded();

-- Schema changes of a tracked table apply from their commit on: a new column appears, a dropped
-- one disappears, a column turned into bytea is no longer emitted.
ALTER TABLE public.regress_items ADD COLUMN extra int DEFAULT 7;
ALTER TABLE public.regress_items DROP COLUMN weight;
ALTER TABLE public.regress_items ALTER COLUMN name TYPE bytea USING convert_to(name, 'UTF8');
INSERT INTO public.regress_items (id, name) VALUES (6, 'after ddl');
SELECT * FROM public.decoded();
ALTER TABLE public.regress_items ALTER COLUMN name TYPE text USING convert_from(name, 'UTF8');

-- Removing the configuration stops capture from that commit on.
DELETE FROM cdc_tables WHERE rel = 'public.regress_items'::regclass;
INSERT INTO public.regress_items (id, name) VALUES (5, 'untracked again');
SELECT * FROM public.decoded();

-- The domain tables are tracked out of the box; ciphertext columns are never emitted.
SELECT rel, source, event_prefix, subject_column, status_column, status_events FROM cdc_tables ORDER BY rel::text;

-- Bad configuration: clear errors, nothing changes.
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('freight.events', '/x', 'x');
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('public.regress_items', 'no-slash', 'item');
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('public.regress_items', '/r', 'Item!');
INSERT INTO cdc_tables (rel, source, event_prefix, subject_column) VALUES ('public.regress_items', '/r', 'item', 'nope');
INSERT INTO cdc_tables (rel, source, event_prefix, status_events) VALUES ('public.regress_items', '/r', 'item', '{Bad Status}');
INSERT INTO cdc_tables (rel, source, event_prefix, subject_column) VALUES ('public.regress_items', '/r', 'item', 'secret');
INSERT INTO cdc_tables (rel, source, event_prefix, subject_column, exclude_columns) VALUES ('public.regress_items', '/r', 'item', 'hidden', '{hidden}');
CREATE TABLE public.regress_plain (id int PRIMARY KEY, status text);
INSERT INTO cdc_tables (rel, source, event_prefix, status_column) VALUES ('public.regress_plain', '/p', 'plain', 'status');
CREATE VIEW public.regress_view AS SELECT 1 AS one;
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('public.regress_view', '/v', 'view');
SELECT count(*) AS tracked_tables FROM cdc_tables;
-- Tracking publishes a table's rows: it needs SELECT on the whole table.
CREATE TABLE public.regress_private (id int PRIMARY KEY, secret text);
REVOKE ALL ON public.regress_private FROM PUBLIC;
SET ROLE freight_admin;
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('public.regress_private', '/p', 'private');
RESET ROLE;
GRANT SELECT (id) ON public.regress_private TO freight_admin;
SET ROLE freight_admin;
INSERT INTO cdc_tables (rel, source, event_prefix) VALUES ('public.regress_private', '/p', 'private');
RESET ROLE;
SELECT count(*) AS tracked_tables FROM cdc_tables;
DROP TABLE public.regress_private;
-- Writers of the event log queue on a row no ordinary role may lock (any role may hold any
-- advisory lock, which stalled capture and the security feed).
SET ROLE freight_app;
SELECT FROM events_write_gate FOR UPDATE;
SELECT events_write_lock();
RESET ROLE;

-- Bad plugin options.
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_cdc', NULL, NULL, 'bogus', '1');
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_cdc', NULL, NULL, 'exclude-origin', '-4');

SELECT pg_drop_replication_slot('regress_cdc');

-- The event log: emit_event, events_since, cloudevent.
SELECT emit_event('/regress/ops', 'regress.hello', E'sub\tject', '{"n": 1}') > 0 AS emitted;
SELECT source, type, subject, data::text, lsn, seq FROM events_since(0, 10) WHERE source = '/regress/ops';
SELECT count(*) FROM events_since((SELECT max(id) FROM events), 10);
SELECT ce - 'id' - 'time' AS cloudevent,
	   ce->>'id' = e.id::text AS id_is_text,
	   ce->>'time' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS time_rfc3339
FROM events e, cloudevent(e) ce WHERE e.source = '/regress/ops';
SELECT emit_event('/regress/ops', 'Not A Type', NULL, NULL);
SELECT emit_event('relative', 'regress.hello', NULL, NULL);
SELECT * FROM events_since(0, 0);
SELECT * FROM events_since(0, 100001);
SELECT count(*) AS events_after_bad_input FROM events WHERE source = '/regress/ops';

-- The capture status view answers even when no slot exists.
SELECT count(*) FROM cdc_status;

DROP VIEW public.regress_view;
DROP TABLE public.regress_items, public.regress_plain;
DROP FUNCTION public.decoded();
