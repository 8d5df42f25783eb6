-- freight install script, part 50: change-data capture — the event log and its configuration.
--
-- The CDC worker (workers/cdc_worker.c) decodes the WAL through freight's output plugin
-- (extension/cdc_output.c) and writes one row of freight.events per committed change of a tracked
-- table, in commit order, exactly once: (lsn, seq) is unique and the decoding position is stored
-- with the same commit.  Consumers follow the log with freight.events_since(cursor, lim).

-- ---------------------------------------------------------------------------------------------
-- The event log
-- ---------------------------------------------------------------------------------------------

CREATE TABLE freight.events (
	id			bigint PRIMARY KEY,
	source		text NOT NULL,
	type		text NOT NULL,
	subject		text,
	time		timestamptz NOT NULL,
	data		json,
	lsn			pg_lsn,
	seq			integer,
	recorded_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	CONSTRAINT events_change_once UNIQUE (lsn, seq)
);
COMMENT ON TABLE freight.events IS
	'CloudEvents 1.0 log: one row per committed change of a tracked table (lsn = commit LSN, seq = '
	'position in the transaction) in commit order, plus operational events (lsn NULL); id is the '
	'cursor and the CloudEvents id';
COMMENT ON COLUMN freight.events.data IS
	'The row as JSON, columns in table order (json, not jsonb: written as decoded, never re-parsed)';
COMMENT ON COLUMN freight.events.time IS 'Commit time of the change (operational events: when written)';
COMMENT ON COLUMN freight.events.recorded_at IS 'When the CDC worker wrote the row (time to recorded_at = capture delay)';

-- Not marked for pg_dump: the log is derived from the WAL, and restoring it would fire the
-- webhook fan-out for every old event.  Physical backups (pgBackRest) keep it.
GRANT SELECT ON freight.events TO freight_admin, freight_app;

-- Writers of freight.events lock the one row of this table until they commit and give their rows
-- the ids after the newest one, so ids become visible in increasing order and a consumer's cursor
-- never skips a row committed later with a smaller id.  (Retention never deletes the newest row,
-- so ids never restart.)  A row lock, not an advisory lock: any role may take any advisory lock and
-- hold it, which would stall change capture and the security-event feed; locking this row needs
-- UPDATE on the table, which no role is granted.
CREATE TABLE freight.events_write_gate (
	one boolean PRIMARY KEY DEFAULT true CHECK (one)
);
INSERT INTO freight.events_write_gate DEFAULT VALUES;
REVOKE ALL ON freight.events_write_gate FROM PUBLIC;
COMMENT ON TABLE freight.events_write_gate IS
	'One row that writers of freight.events lock until commit (freight.events_write_lock)';

CREATE FUNCTION freight.events_write_lock() RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	AS $$ SELECT FROM freight.events_write_gate FOR UPDATE $$;
REVOKE ALL ON FUNCTION freight.events_write_lock() FROM PUBLIC;
COMMENT ON FUNCTION freight.events_write_lock() IS
	'Serialises writers of freight.events until commit, so ids commit in increasing order (the CDC worker takes the same lock)';

CREATE FUNCTION freight.emit_event(source text, type text, subject text, data json)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id bigint;
BEGIN
	IF source IS NULL OR source !~ '^/[A-Za-z0-9_./-]*$' THEN
		RAISE EXCEPTION 'invalid event source %', pg_catalog.quote_nullable(source)
			USING ERRCODE = '22023', HINT = 'A source is a path such as /freight/cdc.';
	END IF;
	IF type IS NULL OR type !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' THEN
		RAISE EXCEPTION 'invalid event type %', pg_catalog.quote_nullable(type)
			USING ERRCODE = '22023', HINT = 'An event type is dotted lower-case words, e.g. cdc.slot_lag.';
	END IF;
	PERFORM freight.events_write_lock();
	INSERT INTO freight.events (id, source, type, subject, time, data)
	SELECT coalesce(pg_catalog.max(e.id), 0) + 1, emit_event.source, emit_event.type,
		   pg_catalog.translate(emit_event.subject, E'\t\n\r', '   '), pg_catalog.now(), emit_event.data
	FROM freight.events e
	RETURNING id INTO new_id;
	PERFORM pg_catalog.pg_notify('freight_events', new_id::text);
	RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION freight.emit_event(text, text, text, json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.emit_event(text, text, text, json) TO freight_admin;
COMMENT ON FUNCTION freight.emit_event(text, text, text, json) IS
	'Appends an operational event (not from CDC) to freight.events and notifies freight_events; returns its id';

CREATE FUNCTION freight.events_since(cursor bigint, lim integer DEFAULT 100)
	RETURNS SETOF freight.events
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
BEGIN
	IF lim < 1 OR lim > 100000 THEN
		RAISE EXCEPTION 'lim must be between 1 and 100000'
			USING ERRCODE = '22023', DETAIL = pg_catalog.format('lim was %s.', lim);
	END IF;
	RETURN QUERY SELECT e.* FROM freight.events e WHERE e.id > cursor ORDER BY e.id LIMIT lim;
END
$$;
COMMENT ON FUNCTION freight.events_since(bigint, integer) IS
	'The next events after cursor (an event id; 0 = from the beginning), at most lim (1..100000), in commit order';

CREATE FUNCTION freight.cloudevent(e freight.events) RETURNS jsonb
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'specversion', '1.0',
		'id', e.id::text,
		'source', e.source,
		'type', e.type,
		'subject', e.subject,
		'time', pg_catalog.to_char(e.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'datacontenttype', 'application/json',
		'freightlsn', e.lsn::text,
		'freightseq', e.seq)) || pg_catalog.jsonb_build_object('data', e.data)
$$;
COMMENT ON FUNCTION freight.cloudevent(freight.events) IS
	'The event as a CloudEvents 1.0 JSON object (structured mode); extensions freightlsn and freightseq';

-- ---------------------------------------------------------------------------------------------
-- Which tables are tracked
-- ---------------------------------------------------------------------------------------------

-- A user_catalog_table: the output plugin reads it with the historic snapshot of the change it
-- decodes.  cdc_config.c reads the columns by position: keep their order.
CREATE TABLE freight.cdc_tables (
	rel				regclass PRIMARY KEY,
	source			text NOT NULL,
	event_prefix	text NOT NULL,
	subject_column	name,
	status_column	name,
	status_events	text[] NOT NULL DEFAULT '{}',
	exclude_columns name[] NOT NULL DEFAULT '{}'
) WITH (user_catalog_table = true);
COMMENT ON TABLE freight.cdc_tables IS
	'Tables whose changes become events: source, type prefix (<prefix>.created/.updated/.deleted), '
	'subject column, status column (a changed status gives <prefix>.status_changed, or <prefix>.<status> '
	'for statuses in status_events; needs REPLICA IDENTITY FULL) and columns never to emit (bytea '
	'columns, i.e. ciphertext, are never emitted)';
-- pg_dump carries the tables you track (this script inserts freight's own).
SELECT pg_catalog.pg_extension_config_dump('freight.cdc_tables',
	'WHERE (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = rel) '
	'OPERATOR(pg_catalog.<>) ''freight''::pg_catalog.regnamespace');

CREATE FUNCTION freight.cdc_tables_check() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	col name;
	st text;
BEGIN
	IF NEW.rel IN ('freight.events'::regclass, 'freight.cdc_tables'::regclass) THEN
		RAISE EXCEPTION 'table % cannot be tracked', NEW.rel
			USING ERRCODE = '22023', DETAIL = 'Tracking the event log or its configuration would feed events back into themselves.';
	END IF;
	-- The CDC worker reads the WAL with superuser rights and publishes every row to freight.events:
	-- registering a table must not show anyone rows they could not read themselves.
	IF NOT has_table_privilege(NEW.rel, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied to track %', NEW.rel
			USING ERRCODE = '42501',
				  DETAIL = 'A tracked table''s rows are published in freight.events, so tracking it needs SELECT on the whole table.',
				  HINT = pg_catalog.format('Ask the owner of %s to grant you SELECT on it.', NEW.rel);
	END IF;
	IF (SELECT c.relkind FROM pg_class c WHERE c.oid = NEW.rel) <> 'r' THEN
		RAISE EXCEPTION '% is not a table', NEW.rel
			USING ERRCODE = '42809', HINT = 'Only ordinary tables can be tracked.';
	END IF;
	IF NEW.source !~ '^/[A-Za-z0-9_./-]*$' THEN
		RAISE EXCEPTION 'invalid event source %', pg_catalog.quote_literal(NEW.source)
			USING ERRCODE = '22023', HINT = 'A source is a path such as /freight/shipments.';
	END IF;
	IF NEW.event_prefix !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' THEN
		RAISE EXCEPTION 'invalid event prefix %', pg_catalog.quote_literal(NEW.event_prefix)
			USING ERRCODE = '22023', HINT = 'Use lower-case words separated by dots, e.g. shipment.';
	END IF;
	FOREACH st IN ARRAY NEW.status_events LOOP
		IF st IS NULL OR st !~ '^[a-z][a-z0-9_]*$' THEN
			RAISE EXCEPTION 'invalid status event %', pg_catalog.quote_nullable(st)
				USING ERRCODE = '22023', HINT = 'Status events are lower-case words, e.g. delivered.';
		END IF;
	END LOOP;
	FOREACH col IN ARRAY pg_catalog.array_remove(
			ARRAY[NEW.subject_column, NEW.status_column] || NEW.exclude_columns, NULL) LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = NEW.rel AND a.attname = col
					   AND a.attnum > 0 AND NOT a.attisdropped) THEN
			RAISE EXCEPTION 'column "%" of % does not exist', col, NEW.rel USING ERRCODE = '42703';
		END IF;
	END LOOP;
	IF NEW.subject_column = ANY (NEW.exclude_columns)
	   OR (SELECT pg_catalog.format_type(a.atttypid, NULL) FROM pg_attribute a
		   WHERE a.attrelid = NEW.rel AND a.attname = NEW.subject_column) = 'bytea' THEN
		RAISE EXCEPTION 'subject column "%" of % is never emitted', NEW.subject_column, NEW.rel
			USING ERRCODE = '22023', DETAIL = 'bytea columns (ciphertext) and excluded columns never leave the database.';
	END IF;
	IF NEW.status_column IS NOT NULL
	   AND (SELECT c.relreplident FROM pg_class c WHERE c.oid = NEW.rel) <> 'f' THEN
		RAISE EXCEPTION 'status events on % need the old row in the WAL', NEW.rel
			USING ERRCODE = '55000',
				  HINT = pg_catalog.format('Run ALTER TABLE %s REPLICA IDENTITY FULL first.', NEW.rel);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION freight.cdc_tables_check() IS 'Trigger: validates a freight.cdc_tables row';

CREATE TRIGGER check_row BEFORE INSERT OR UPDATE ON freight.cdc_tables
	FOR EACH ROW EXECUTE FUNCTION freight.cdc_tables_check();

CREATE FUNCTION freight.cdc_tables_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'cdc_tables_changed' LANGUAGE C;
COMMENT ON FUNCTION freight.cdc_tables_changed() IS
	'Trigger: makes logical decoding reload the CDC configuration at this commit';

CREATE TRIGGER reload_config AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON freight.cdc_tables
	FOR EACH STATEMENT EXECUTE FUNCTION freight.cdc_tables_changed();

GRANT SELECT ON freight.cdc_tables TO freight_admin, freight_app;
GRANT INSERT, UPDATE, DELETE ON freight.cdc_tables TO freight_admin;

-- Status-derived event types need the old row of an update.
ALTER TABLE freight.shipments REPLICA IDENTITY FULL;
ALTER TABLE freight.invoices REPLICA IDENTITY FULL;

INSERT INTO freight.cdc_tables (rel, source, event_prefix, subject_column, status_column, status_events) VALUES
	('freight.shipments', '/freight/shipments', 'shipment', 'tracking_number', 'status', '{delivered,cancelled}'),
	('freight.shipment_events', '/freight/shipment_events', 'shipment_event', 'shipment_id', NULL, '{}'),
	('freight.invoices', '/freight/invoices', 'invoice', 'id', 'status', '{paid,disputed}'),
	('freight.drivers', '/freight/drivers', 'driver', 'id', NULL, '{}');

-- ---------------------------------------------------------------------------------------------
-- Health of the capture
-- ---------------------------------------------------------------------------------------------

-- The CDC worker reports a slot holding back too much WAL to the security/ops feed as well.
INSERT INTO freight.security_event_kinds VALUES
	('cdc_slot_lag', 'high', 6003, 'API Activity',
	 'the CDC replication slot holds back more WAL than freight.cdc_slot_lag_limit');

CREATE VIEW freight.cdc_status AS
SELECT s.slot_name,
	   s.active,
	   s.restart_lsn,
	   s.confirmed_flush_lsn,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn)::bigint AS retained_wal_bytes,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS pending_wal_bytes,
	   pg_catalog.pg_size_bytes(pg_catalog.current_setting('freight.cdc_slot_lag_limit')) AS lag_limit_bytes,
	   s.wal_status,
	   (SELECT e.id FROM freight.events e ORDER BY e.id DESC LIMIT 1) AS last_event_id,
	   (SELECT e.recorded_at - e.time FROM freight.events e WHERE e.lsn IS NOT NULL
		ORDER BY e.id DESC LIMIT 1) AS last_capture_delay
FROM pg_catalog.pg_replication_slots s
WHERE s.slot_name = 'freight_cdc';
COMMENT ON VIEW freight.cdc_status IS
	'The CDC slot: WAL it holds back (retained_wal_bytes, compared with freight.cdc_slot_lag_limit), '
	'WAL not yet captured, last event id and its capture delay';
GRANT SELECT ON freight.cdc_status TO freight_admin, freight_app;

-- ---------------------------------------------------------------------------------------------
-- The CDC slot across failovers (workers/cdc_slot_sync.c)
-- ---------------------------------------------------------------------------------------------

-- Written on the primary by the worker "freight cdc slot sync" whenever the slot freight_cdc
-- moves; read on every standby (it replicates through the WAL), which keeps a local copy of the
-- slot at this state so that a promoted standby's CDC worker misses no change.  Not tracked by
-- CDC: writing it produces no event.
CREATE TABLE freight.cdc_slot_state (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	database oid,
	plugin name,
	restart_lsn pg_lsn,
	confirmed_flush pg_lsn,
	catalog_xmin xid,
	snapshot bytea,
	published_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
INSERT INTO freight.cdc_slot_state DEFAULT VALUES;
COMMENT ON TABLE freight.cdc_slot_state IS
	'The primary''s CDC slot freight_cdc as last published (all NULL: no slot); standbys copy it';
COMMENT ON COLUMN freight.cdc_slot_state.snapshot IS
	'The logical-decoding snapshot file serialized at restart_lsn (NULL: none), so that a copy decodes consistently from there';
REVOKE ALL ON freight.cdc_slot_state FROM PUBLIC;
GRANT SELECT (database, plugin, restart_lsn, confirmed_flush, catalog_xmin, published_at)
	ON freight.cdc_slot_state TO freight_admin;

-- On a standby: is the local copy of the slot at the published state?  On the primary: is the
-- published state current?
CREATE VIEW freight.cdc_failover_status AS
SELECT pg_catalog.pg_is_in_recovery() AS standby,
	   p.restart_lsn AS published_restart_lsn,
	   p.catalog_xmin AS published_catalog_xmin,
	   p.published_at,
	   s.restart_lsn AS slot_restart_lsn,
	   s.catalog_xmin AS slot_catalog_xmin,
	   s.slot_name IS NOT NULL AND p.restart_lsn IS NOT NULL
		   AND s.restart_lsn = p.restart_lsn
		   AND s.catalog_xmin::text = p.catalog_xmin::text AS in_sync
FROM freight.cdc_slot_state p
LEFT JOIN pg_catalog.pg_replication_slots s ON s.slot_name = 'freight_cdc';
COMMENT ON VIEW freight.cdc_failover_status IS
	'The CDC slot freight_cdc here compared with the state the primary published (in_sync: a failover to this server loses no change)';
GRANT SELECT ON freight.cdc_failover_status TO freight_admin;
