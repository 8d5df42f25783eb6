-- freight install script, part 20: the freight domain — tables, the shipment status machine and
-- the SQL API applications call (create_shipment, assign_driver, update_status, track, ...).
--
-- Encrypted columns.  shipments.origin/destination and the phone/email of customers and drivers
-- are stored only as ciphertext (freight.encrypt, AES-256-GCM).  Each ciphertext is bound to its
-- table, column and row by the context 'freight.<table>.<column>:<id>' (freight.encryption_context),
-- so the row id must exist before the value is encrypted: the functions below allocate the id with
-- nextval() first, encrypt, then insert.  Equality lookups on phone and email go through blind
-- indexes (freight.blind_index over the normalised value, purposes 'phone' and 'email').
--
-- Errors raised here (see README, "SQL reference"): 22023 bad argument, PT404 no such object,
-- PT409 conflicts with the object's current state (e.g. an invalid status transition); the PTxyz
-- codes are the PostgREST convention, so the HTTP API answers with status xyz.
--
-- Functions are SECURITY INVOKER unless noted: row-level security (30_rls.sql) decides which rows
-- a caller may read or change, the same for SQL and HTTP callers.

-- ---------------------------------------------------------------------------------------------
-- Helpers: identity of the caller, normalisation for blind indexes, argument checks
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.current_claims() RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb $$;
COMMENT ON FUNCTION freight.current_claims() IS
	'The request''s JWT claims (setting request.jwt.claims, set per request as PostgREST does), or NULL';

CREATE FUNCTION freight.current_customer_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (freight.current_claims() ->> 'customer_id')::bigint $$;
COMMENT ON FUNCTION freight.current_customer_id() IS
	'customer_id claim of the current request, or NULL';

CREATE FUNCTION freight.current_driver_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (freight.current_claims() ->> 'driver_id')::bigint $$;
COMMENT ON FUNCTION freight.current_driver_id() IS
	'driver_id claim of the current request, or NULL';

CREATE FUNCTION freight.normalize_email(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	norm text := pg_catalog.lower(pg_catalog.btrim(email));
BEGIN
	IF norm !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' OR pg_catalog.length(norm) > 254 THEN
		RAISE EXCEPTION 'invalid email address'
			USING ERRCODE = '22023', DETAIL = pg_catalog.format('Value %L is not of the form name@domain.tld.', email);
	END IF;
	RETURN norm;
END
$$;
COMMENT ON FUNCTION freight.normalize_email(text) IS
	'Trimmed, lower-cased email address (the form that is blind-indexed); errors on malformed input';

CREATE FUNCTION freight.normalize_phone(phone text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	digits text := pg_catalog.regexp_replace(phone, '[^0-9]', '', 'g');
BEGIN
	IF phone !~ '^\s*\+?[0-9 ()./-]+\s*$' OR pg_catalog.length(digits) NOT BETWEEN 6 AND 15 THEN
		RAISE EXCEPTION 'invalid phone number'
			USING ERRCODE = '22023',
				  DETAIL = pg_catalog.format('Value %L must consist of 6 to 15 digits (spaces, +, -, /, ., parentheses allowed).', phone);
	END IF;
	RETURN digits;
END
$$;
COMMENT ON FUNCTION freight.normalize_phone(text) IS
	'Digits of a phone number (the form that is blind-indexed); errors on malformed input';

CREATE FUNCTION freight.require(condition boolean, message text, detail text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
	IF condition IS NOT TRUE AND detail IS NULL THEN
		RAISE EXCEPTION '%', message USING ERRCODE = '22023';
	ELSIF condition IS NOT TRUE THEN
		RAISE EXCEPTION '%', message USING ERRCODE = '22023', DETAIL = detail;
	END IF;
END
$$;
COMMENT ON FUNCTION freight.require(boolean, text, text) IS
	'Argument check: raises 22023 (invalid_parameter_value) with the message unless condition is true';

-- The purge functions' shared argument check (webhook_purge, security_events_purge).
CREATE FUNCTION freight.purge_cutoff(older_than interval, max_rows int) RETURNS timestamptz
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	PERFORM freight.require(older_than IS NOT NULL AND older_than > interval '0',
							'older_than must be a positive interval');
	PERFORM freight.require(max_rows IS NOT NULL AND max_rows > 0, 'max_rows must be positive');
	RETURN pg_catalog.now() - older_than;
END
$$;
COMMENT ON FUNCTION freight.purge_cutoff(interval, int) IS
	'now() - older_than, after checking a purge''s arguments (positive interval, positive row limit)';

-- ---------------------------------------------------------------------------------------------
-- Reference data: the shipment status machine
-- ---------------------------------------------------------------------------------------------

CREATE TABLE freight.shipment_statuses (
	status		text PRIMARY KEY,
	position	int NOT NULL UNIQUE,
	terminal	boolean NOT NULL,
	description text NOT NULL
);
COMMENT ON TABLE freight.shipment_statuses IS 'The statuses a shipment can be in';

INSERT INTO freight.shipment_statuses VALUES
	('created', 1, false, 'registered, waiting for pickup'),
	('picked_up', 2, false, 'collected from the sender'),
	('in_transit', 3, false, 'moving between hubs'),
	('out_for_delivery', 4, false, 'on the vehicle for final delivery'),
	('delivered', 5, true, 'handed over to the recipient'),
	('exception', 6, false, 'held up (damage, failed attempt, address problem); resumes or is cancelled'),
	('cancelled', 7, true, 'will not be delivered');

-- The one source of truth for which status changes are allowed (update_status and the trigger on
-- shipments both check it).  in_transit -> in_transit records another hub scan.
CREATE TABLE freight.status_transitions (
	from_status text NOT NULL REFERENCES freight.shipment_statuses,
	to_status	text NOT NULL REFERENCES freight.shipment_statuses,
	PRIMARY KEY (from_status, to_status)
);
COMMENT ON TABLE freight.status_transitions IS 'Allowed shipment status changes (from_status -> to_status)';

INSERT INTO freight.status_transitions VALUES
	('created', 'picked_up'), ('created', 'exception'), ('created', 'cancelled'),
	('picked_up', 'in_transit'), ('picked_up', 'exception'),
	('in_transit', 'in_transit'), ('in_transit', 'out_for_delivery'), ('in_transit', 'exception'),
	('out_for_delivery', 'delivered'), ('out_for_delivery', 'exception'),
	('exception', 'picked_up'), ('exception', 'in_transit'), ('exception', 'out_for_delivery'),
	('exception', 'cancelled');

CREATE FUNCTION freight.check_transition(from_status text, to_status text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM freight.shipment_statuses s WHERE s.status = to_status) THEN
		RAISE EXCEPTION 'unknown shipment status "%"', to_status
			USING ERRCODE = '22023',
				  HINT = 'Valid statuses: ' || (SELECT pg_catalog.string_agg(s.status, ', ' ORDER BY s.position)
												FROM freight.shipment_statuses s) || '.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM freight.status_transitions t
				   WHERE t.from_status = check_transition.from_status
					 AND t.to_status = check_transition.to_status) THEN
		RAISE EXCEPTION 'invalid status transition'
			USING ERRCODE = 'PT409',
				  DETAIL = pg_catalog.format('A shipment cannot go from "%s" to "%s".', from_status, to_status),
				  HINT = coalesce('From "' || from_status || '" it can go to: ' ||
					  (SELECT pg_catalog.string_agg(t.to_status, ', ' ORDER BY s.position)
					   FROM freight.status_transitions t JOIN freight.shipment_statuses s ON s.status = t.to_status
					   WHERE t.from_status = check_transition.from_status) || '.',
					  '"' || from_status || '" is final.');
	END IF;
END
$$;
COMMENT ON FUNCTION freight.check_transition(text, text) IS
	'Raises PT409 (with from/to in the detail) unless freight.status_transitions allows the change';

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

CREATE TABLE freight.customers (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	name		text NOT NULL CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
	tier		text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
	email		bytea,				-- ciphertext, context freight.customers.email:<id>
	email_bidx	bytea,				-- blind_index(normalize_email(email), 'email')
	phone		bytea,				-- ciphertext, context freight.customers.phone:<id>
	phone_bidx	bytea,				-- blind_index(normalize_phone(phone), 'phone')
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX customers_email_bidx ON freight.customers (email_bidx);
CREATE INDEX customers_phone_bidx ON freight.customers (phone_bidx);
COMMENT ON TABLE freight.customers IS 'Customers (tenants); contact email/phone stored only as ciphertext';

CREATE TABLE freight.api_keys (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	customer_id bigint NOT NULL REFERENCES freight.customers,
	prefix		text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{12}$'),
	key_hash	text NOT NULL,		-- pgcrypto crypt(secret, gen_salt('bf'))
	label		text CHECK (pg_catalog.length(label) <= 200),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	revoked_at	timestamptz
);
CREATE INDEX api_keys_customer ON freight.api_keys (customer_id);
COMMENT ON TABLE freight.api_keys IS
	'API keys of customers: the lookup prefix and a bcrypt hash; the clear key is shown once by create_api_key';

CREATE TABLE freight.vehicles (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	plate		text NOT NULL UNIQUE CHECK (plate ~ '^[A-Z0-9][A-Z0-9 -]{0,14}$'),
	capacity_kg numeric(10, 2) NOT NULL CHECK (capacity_kg > 0),
	capacity_m3 numeric(8, 3) NOT NULL CHECK (capacity_m3 > 0),
	active		boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE freight.vehicles IS 'The fleet: plate and load capacity';

CREATE TABLE freight.drivers (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	user_id		text UNIQUE,		-- the driver's subject in the identity provider (JWT sub)
	name		text NOT NULL CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
	phone		bytea NOT NULL,		-- ciphertext, context freight.drivers.phone:<id>
	phone_bidx	bytea NOT NULL UNIQUE,
	email		bytea,				-- ciphertext, context freight.drivers.email:<id>
	email_bidx	bytea UNIQUE,
	vehicle_id	bigint REFERENCES freight.vehicles,
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE freight.drivers IS 'Drivers; phone/email stored only as ciphertext, found through blind indexes';

CREATE SEQUENCE freight.shipments_id_seq AS bigint;

CREATE TABLE freight.shipments (
	id				bigint PRIMARY KEY DEFAULT pg_catalog.nextval('freight.shipments_id_seq'),
	customer_id		bigint NOT NULL REFERENCES freight.customers,
	tracking_number text NOT NULL UNIQUE CHECK (tracking_number ~ '^IFE-[0-9]{12}$'),
	status			text NOT NULL DEFAULT 'created' REFERENCES freight.shipment_statuses,
	current_location text CHECK (pg_catalog.length(current_location) <= 200),	-- where it was last seen
	status_note		text CHECK (pg_catalog.length(status_note) <= 1000),	-- note of the last status event
	driver_id		bigint REFERENCES freight.drivers,
	vehicle_id		bigint REFERENCES freight.vehicles,
	origin			bytea NOT NULL,	-- ciphertext, context freight.shipments.origin:<id>
	destination		bytea NOT NULL,	-- ciphertext, context freight.shipments.destination:<id>
	weight_kg		numeric(10, 2) NOT NULL CHECK (weight_kg > 0),
	volume_m3		numeric(8, 3) CHECK (volume_m3 > 0),
	scheduled_date	date NOT NULL DEFAULT CURRENT_DATE,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (customer_id, id)		-- target of the (customer_id, shipment_id) foreign keys
);
ALTER SEQUENCE freight.shipments_id_seq OWNED BY freight.shipments.id;
CREATE INDEX shipments_customer_status ON freight.shipments (customer_id, status);
-- The dispatcher's list: shipments in one status, newest first (GET /api/shipments?status=eq.…&order=created_at.desc).
CREATE INDEX shipments_status_recent ON freight.shipments (status, created_at);
CREATE INDEX shipments_driver_day ON freight.shipments (driver_id, scheduled_date) WHERE driver_id IS NOT NULL;
COMMENT ON TABLE freight.shipments IS
	'Shipments; origin and destination are stored only as ciphertext (read them through freight.shipments_decrypted or api.shipments)';

-- Children of a shipment carry its customer_id and reference (customer_id, id), so a child can
-- never name another tenant's shipment (and the tables are ready to be distributed by customer_id).
CREATE TABLE freight.packages (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	customer_id bigint NOT NULL,
	shipment_id bigint NOT NULL,
	weight_kg	numeric(10, 2) NOT NULL CHECK (weight_kg > 0),
	length_cm	numeric(7, 1) NOT NULL CHECK (length_cm > 0),
	width_cm	numeric(7, 1) NOT NULL CHECK (width_cm > 0),
	height_cm	numeric(7, 1) NOT NULL CHECK (height_cm > 0),
	description text CHECK (pg_catalog.length(description) <= 500),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	FOREIGN KEY (customer_id, shipment_id) REFERENCES freight.shipments (customer_id, id) ON DELETE CASCADE
);
CREATE INDEX packages_shipment ON freight.packages (shipment_id);
COMMENT ON TABLE freight.packages IS 'Packages (parcels, pallets) of a shipment';

CREATE TABLE freight.shipment_events (
	id			bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	customer_id bigint NOT NULL,
	shipment_id bigint NOT NULL,
	status		text NOT NULL REFERENCES freight.shipment_statuses,
	occurred_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	location	text CHECK (pg_catalog.length(location) <= 200),
	note		text CHECK (pg_catalog.length(note) <= 1000),
	FOREIGN KEY (customer_id, shipment_id) REFERENCES freight.shipments (customer_id, id) ON DELETE CASCADE
);
CREATE INDEX shipment_events_shipment ON freight.shipment_events (shipment_id, occurred_at);
COMMENT ON TABLE freight.shipment_events IS 'Tracking history: one row per status change or scan';

CREATE TABLE freight.invoices (
	id				bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	customer_id		bigint NOT NULL REFERENCES freight.customers,
	shipment_id		bigint,
	amount			numeric(12, 2) NOT NULL CHECK (amount >= 0),
	currency		text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
	status			text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'disputed')),
	issued_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	due_date		date NOT NULL DEFAULT CURRENT_DATE + 30,
	paid_at			timestamptz,
	dispute_reason	text CHECK (pg_catalog.length(dispute_reason) <= 1000),
	FOREIGN KEY (customer_id, shipment_id) REFERENCES freight.shipments (customer_id, id),
	CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
	CHECK ((status = 'disputed') = (dispute_reason IS NOT NULL))
);
CREATE INDEX invoices_customer_status ON freight.invoices (customer_id, status);
CREATE INDEX invoices_shipment ON freight.invoices (shipment_id);
COMMENT ON TABLE freight.invoices IS 'Invoices: open, paid or disputed';

-- Invoice status changes, by any path: open -> paid | disputed, disputed -> paid | open (dispute
-- rejected); paid is final.
CREATE FUNCTION freight.invoices_before_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.status IS DISTINCT FROM OLD.status
	   AND (OLD.status, NEW.status) NOT IN (('open', 'paid'), ('open', 'disputed'), ('disputed', 'paid'),
											('disputed', 'open')) THEN
		RAISE EXCEPTION 'invalid invoice status change'
			USING ERRCODE = 'PT409',
				  DETAIL = pg_catalog.format('An invoice cannot go from "%s" to "%s".', OLD.status, NEW.status);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION freight.invoices_before_update() IS
	'Trigger: refuses invoice status changes other than open->paid|disputed, disputed->paid|open';

CREATE TRIGGER invoices_before_update BEFORE UPDATE ON freight.invoices
	FOR EACH ROW EXECUTE FUNCTION freight.invoices_before_update();

-- ---------------------------------------------------------------------------------------------
-- Triggers on shipments.  Every change of status, current_location or status_note, whatever the
-- path (update_status or a direct UPDATE), obeys the transition table and is recorded as exactly
-- one shipment_events row, written here with the owner's rights: customers and drivers cannot
-- insert events themselves (except a new shipment's first 'created' event, see 30_rls.sql), so
-- the history cannot contradict the shipment.  There is no INSERT trigger, so restoring a dump
-- (COPY of shipments, then of shipment_events) does not invent events.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.shipments_before_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF (NEW.status, NEW.current_location, NEW.status_note) IS DISTINCT FROM
	   (OLD.status, OLD.current_location, OLD.status_note) THEN
		PERFORM freight.check_transition(OLD.status, NEW.status);
	END IF;
	-- Re-encryption after a key rotation rewrites only origin/destination: not a business change.
	IF pg_catalog.to_jsonb(NEW) - '{origin,destination,updated_at}'::text[]
	   IS DISTINCT FROM pg_catalog.to_jsonb(OLD) - '{origin,destination,updated_at}'::text[] THEN
		NEW.updated_at := pg_catalog.now();
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION freight.shipments_before_update() IS
	'Trigger: refuses status events the transition table does not allow; stamps updated_at on business changes';

CREATE TRIGGER shipments_before_update BEFORE UPDATE ON freight.shipments
	FOR EACH ROW EXECUTE FUNCTION freight.shipments_before_update();

CREATE FUNCTION freight.shipments_record_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO freight.shipment_events (customer_id, shipment_id, status, occurred_at, location, note)
	VALUES (NEW.customer_id, NEW.id, NEW.status, now(), NEW.current_location, NEW.status_note);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION freight.shipments_record_event() IS
	'Trigger: writes the shipment_events row of a status event';

CREATE TRIGGER shipments_record_event AFTER UPDATE ON freight.shipments
	FOR EACH ROW
	WHEN ((NEW.status, NEW.current_location, NEW.status_note) IS DISTINCT FROM
		  (OLD.status, OLD.current_location, OLD.status_note))
	EXECUTE FUNCTION freight.shipments_record_event();

-- ---------------------------------------------------------------------------------------------
-- Customers, drivers, vehicles
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.create_customer(name text, tier text DEFAULT 'free', email text DEFAULT NULL,
										phone text DEFAULT NULL) RETURNS freight.customers
LANGUAGE plpgsql
AS $$
DECLARE
	new_id bigint := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('freight.customers', 'id'));
	norm_email text := freight.normalize_email(email);
	norm_phone text := freight.normalize_phone(phone);
	result freight.customers;
BEGIN
	PERFORM freight.require(pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 200,
							'customer name must be 1 to 200 characters');
	PERFORM freight.require(tier IN ('free', 'pro', 'enterprise'), 'invalid subscription tier',
							pg_catalog.format('Tier %L is not one of free, pro, enterprise.', tier));
	INSERT INTO freight.customers (id, name, tier, email, email_bidx, phone, phone_bidx)
	VALUES (new_id, pg_catalog.btrim(name), tier,
			freight.encrypt(norm_email, freight.encryption_context('freight.customers', 'email', new_id)),
			freight.blind_index(norm_email, 'email'),
			freight.encrypt(norm_phone, freight.encryption_context('freight.customers', 'phone', new_id)),
			freight.blind_index(norm_phone, 'phone'))
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.create_customer(text, text, text, text) IS
	'Registers a customer on a tier (free, pro, enterprise); email and phone are stored encrypted';

CREATE FUNCTION freight.set_customer_contact(email text, phone text, customer_id bigint DEFAULT NULL)
RETURNS freight.customers
LANGUAGE plpgsql
AS $$
DECLARE
	target_id bigint := coalesce(set_customer_contact.customer_id, freight.current_customer_id());
	norm_email text := freight.normalize_email(email);
	norm_phone text := freight.normalize_phone(phone);
	result freight.customers;
BEGIN
	PERFORM freight.require(target_id IS NOT NULL, 'customer_id is required',
							'Pass customer_id, or call with a customer_id claim in request.jwt.claims.');
	UPDATE freight.customers c
	SET email = freight.encrypt(norm_email, freight.encryption_context('freight.customers', 'email', c.id)),
		email_bidx = freight.blind_index(norm_email, 'email'),
		phone = freight.encrypt(norm_phone, freight.encryption_context('freight.customers', 'phone', c.id)),
		phone_bidx = freight.blind_index(norm_phone, 'phone')
	WHERE c.id = target_id
	RETURNING * INTO result;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'customer not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No customer with id %s is visible to you.', target_id);
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.set_customer_contact(text, text, bigint) IS
	'Replaces a customer''s contact email and phone (NULL removes one); customer_id defaults to the caller''s claim';

CREATE FUNCTION freight.find_customer_by_email(email text) RETURNS SETOF freight.customers
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT c.* FROM freight.customers c
	WHERE c.email_bidx = freight.blind_index(freight.normalize_email(find_customer_by_email.email), 'email')
$$;
COMMENT ON FUNCTION freight.find_customer_by_email(text) IS
	'Customers whose contact email equals the argument (through the blind index)';

CREATE FUNCTION freight.create_vehicle(plate text, capacity_kg numeric, capacity_m3 numeric)
RETURNS freight.vehicles
LANGUAGE plpgsql
AS $$
DECLARE
	result freight.vehicles;
BEGIN
	PERFORM freight.require(pg_catalog.upper(pg_catalog.btrim(plate)) ~ '^[A-Z0-9][A-Z0-9 -]{0,14}$',
							'invalid licence plate', pg_catalog.format('Plate %L: use 1 to 15 letters, digits, spaces or dashes.', plate));
	PERFORM freight.require(capacity_kg > 0 AND capacity_m3 > 0, 'vehicle capacities must be positive');
	INSERT INTO freight.vehicles (plate, capacity_kg, capacity_m3)
	VALUES (pg_catalog.upper(pg_catalog.btrim(plate)), capacity_kg, capacity_m3)
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.create_vehicle(text, numeric, numeric) IS 'Adds a vehicle to the fleet';

CREATE FUNCTION freight.create_driver(name text, phone text, email text DEFAULT NULL,
									  user_id text DEFAULT NULL, vehicle_id bigint DEFAULT NULL)
RETURNS freight.drivers
LANGUAGE plpgsql
AS $$
DECLARE
	new_id bigint := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('freight.drivers', 'id'));
	norm_phone text := freight.normalize_phone(phone);
	norm_email text := freight.normalize_email(email);
	result freight.drivers;
BEGIN
	PERFORM freight.require(pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 200,
							'driver name must be 1 to 200 characters');
	PERFORM freight.require(norm_phone IS NOT NULL, 'a driver needs a phone number');
	INSERT INTO freight.drivers (id, user_id, name, phone, phone_bidx, email, email_bidx, vehicle_id)
	VALUES (new_id, user_id, pg_catalog.btrim(name),
			freight.encrypt(norm_phone, freight.encryption_context('freight.drivers', 'phone', new_id)),
			freight.blind_index(norm_phone, 'phone'),
			freight.encrypt(norm_email, freight.encryption_context('freight.drivers', 'email', new_id)),
			freight.blind_index(norm_email, 'email'),
			vehicle_id)
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.create_driver(text, text, text, text, bigint) IS
	'Registers a driver; phone (required) and email are stored encrypted with blind indexes (unique)';

CREATE FUNCTION freight.set_driver_contact(phone text, email text DEFAULT NULL, driver_id bigint DEFAULT NULL)
RETURNS freight.drivers
LANGUAGE plpgsql
AS $$
DECLARE
	target_id bigint := coalesce(set_driver_contact.driver_id, freight.current_driver_id());
	norm_phone text := freight.normalize_phone(phone);
	norm_email text := freight.normalize_email(email);
	result freight.drivers;
BEGIN
	PERFORM freight.require(target_id IS NOT NULL, 'driver_id is required',
							'Pass driver_id, or call with a driver_id claim in request.jwt.claims.');
	PERFORM freight.require(norm_phone IS NOT NULL, 'a driver needs a phone number');
	UPDATE freight.drivers d
	SET phone = freight.encrypt(norm_phone, freight.encryption_context('freight.drivers', 'phone', d.id)),
		phone_bidx = freight.blind_index(norm_phone, 'phone'),
		email = freight.encrypt(norm_email, freight.encryption_context('freight.drivers', 'email', d.id)),
		email_bidx = freight.blind_index(norm_email, 'email')
	WHERE d.id = target_id
	RETURNING * INTO result;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'driver not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No driver with id %s is visible to you.', target_id);
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.set_driver_contact(text, text, bigint) IS
	'Replaces a driver''s phone (required) and email (NULL removes it); driver_id defaults to the caller''s claim';

CREATE FUNCTION freight.find_driver_by_phone(phone text) RETURNS SETOF freight.drivers
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT d.* FROM freight.drivers d
	WHERE d.phone_bidx = freight.blind_index(freight.normalize_phone(find_driver_by_phone.phone), 'phone')
$$;
COMMENT ON FUNCTION freight.find_driver_by_phone(text) IS
	'The driver with this phone number, in any notation (through the blind index)';

CREATE FUNCTION freight.find_driver_by_email(email text) RETURNS SETOF freight.drivers
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT d.* FROM freight.drivers d
	WHERE d.email_bidx = freight.blind_index(freight.normalize_email(find_driver_by_email.email), 'email')
$$;
COMMENT ON FUNCTION freight.find_driver_by_email(text) IS
	'The driver with this email address (through the blind index)';

-- ---------------------------------------------------------------------------------------------
-- Shipments
-- ---------------------------------------------------------------------------------------------

-- 'IFE-' and 12 digits from a strong random source (gen_random_uuid), so numbers cannot be guessed
-- from one another.
CREATE FUNCTION freight.new_tracking_number() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
	SELECT 'IFE-' || pg_catalog.lpad((('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 1, 15))::bit(60)::bigint
									  % 1000000000000)::text, 12, '0')
$$;
COMMENT ON FUNCTION freight.new_tracking_number() IS 'A fresh random tracking number: IFE- and 12 digits';

CREATE FUNCTION freight.shipment_by_tracking_number(tracking_number text, for_update boolean DEFAULT false)
RETURNS freight.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	result freight.shipments;
BEGIN
	PERFORM freight.require(tracking_number ~ '^IFE-[0-9]{12}$', 'invalid tracking number',
							pg_catalog.format('%L is not of the form IFE- followed by 12 digits.', tracking_number));
	IF for_update THEN
		SELECT * INTO result FROM freight.shipments s
		WHERE s.tracking_number = shipment_by_tracking_number.tracking_number FOR UPDATE;
	ELSE
		SELECT * INTO result FROM freight.shipments s
		WHERE s.tracking_number = shipment_by_tracking_number.tracking_number;
	END IF;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'shipment not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No shipment with tracking number %s is visible to you.', tracking_number);
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.shipment_by_tracking_number(text, boolean) IS
	'The shipment with this tracking number as the caller may see it (row-level security applies); PT404 if none';

CREATE FUNCTION freight.create_shipment(origin text, destination text, weight_kg numeric,
										customer_id bigint DEFAULT NULL, volume_m3 numeric DEFAULT NULL,
										scheduled_date date DEFAULT NULL)
RETURNS freight.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	owner_id bigint := coalesce(customer_id, freight.current_customer_id());
	new_id bigint := pg_catalog.nextval('freight.shipments_id_seq');
	result freight.shipments;
BEGIN
	PERFORM freight.require(owner_id IS NOT NULL, 'customer_id is required',
							'Pass customer_id, or call with a customer_id claim in request.jwt.claims.');
	PERFORM freight.require(pg_catalog.length(pg_catalog.btrim(origin)) BETWEEN 3 AND 500,
							'origin must be an address of 3 to 500 characters');
	PERFORM freight.require(pg_catalog.length(pg_catalog.btrim(destination)) BETWEEN 3 AND 500,
							'destination must be an address of 3 to 500 characters');
	PERFORM freight.require(weight_kg > 0 AND weight_kg < 100000000, 'weight_kg must be positive',
							pg_catalog.format('Got %s.', coalesce(weight_kg::text, 'NULL')));
	PERFORM freight.require(volume_m3 IS NULL OR (volume_m3 > 0 AND volume_m3 < 100000),
							'volume_m3 must be positive when given');
	PERFORM freight.require(scheduled_date IS NULL OR scheduled_date >= CURRENT_DATE - 1,
							'scheduled_date must not be in the past');

	-- A random 12-digit number collides rarely; then draw another (ON CONFLICT, not an exception
	-- block, so bulk creation in one transaction does not pile up subtransactions).
	FOR attempt IN 1..5 LOOP
		INSERT INTO freight.shipments (id, customer_id, tracking_number, origin, destination,
									   weight_kg, volume_m3, scheduled_date)
		VALUES (new_id, owner_id, freight.new_tracking_number(),
				freight.encrypt(pg_catalog.btrim(origin), freight.encryption_context('freight.shipments', 'origin', new_id)),
				freight.encrypt(pg_catalog.btrim(destination), freight.encryption_context('freight.shipments', 'destination', new_id)),
				weight_kg, volume_m3, coalesce(scheduled_date, CURRENT_DATE))
		ON CONFLICT (tracking_number) DO NOTHING
		RETURNING * INTO result;
		EXIT WHEN result.id IS NOT NULL;
	END LOOP;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'could not allocate a unique tracking number' USING ERRCODE = '40001',
			HINT = 'Retry the call.';
	END IF;

	INSERT INTO freight.shipment_events (customer_id, shipment_id, status, occurred_at)
	VALUES (owner_id, new_id, 'created', result.created_at);
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.create_shipment(text, text, numeric, bigint, numeric, date) IS
	'Creates a shipment in status created with a new tracking number; origin/destination are stored encrypted. '
	'customer_id defaults to the caller''s customer_id claim';

CREATE FUNCTION freight.assign_driver(tracking_number text, driver_id bigint, vehicle_id bigint DEFAULT NULL)
RETURNS freight.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	ship freight.shipments := freight.shipment_by_tracking_number(tracking_number, true);
	drv freight.drivers;
	veh freight.vehicles;
	result freight.shipments;
BEGIN
	SELECT * INTO drv FROM freight.drivers d WHERE d.id = assign_driver.driver_id;
	IF drv.id IS NULL THEN
		RAISE EXCEPTION 'driver not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No driver with id %s.', driver_id);
	END IF;
	IF NOT drv.active THEN
		RAISE EXCEPTION 'driver is not active'
			USING ERRCODE = 'PT409', DETAIL = 'Only active drivers can be assigned to shipments.';
	END IF;
	IF (SELECT s.terminal FROM freight.shipment_statuses s WHERE s.status = ship.status) THEN
		RAISE EXCEPTION 'shipment is already %', ship.status
			USING ERRCODE = 'PT409', DETAIL = 'Drivers can only be assigned to shipments that are still moving.';
	END IF;
	SELECT * INTO veh FROM freight.vehicles v
	WHERE v.id = coalesce(assign_driver.vehicle_id, drv.vehicle_id);
	IF coalesce(assign_driver.vehicle_id, drv.vehicle_id) IS NOT NULL AND veh.id IS NULL THEN
		RAISE EXCEPTION 'vehicle not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No vehicle with id %s.', vehicle_id);
	END IF;
	IF veh.id IS NOT NULL AND veh.capacity_kg < ship.weight_kg THEN
		RAISE EXCEPTION 'shipment too heavy for vehicle %', veh.plate
			USING ERRCODE = '22023',
				  DETAIL = pg_catalog.format('The shipment weighs %s kg; the vehicle carries at most %s kg.',
											 ship.weight_kg, veh.capacity_kg);
	END IF;
	UPDATE freight.shipments s SET driver_id = drv.id, vehicle_id = veh.id
	WHERE s.id = ship.id
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.assign_driver(text, bigint, bigint) IS
	'Assigns an active driver (and a vehicle, default the driver''s) to a shipment that is not final';

CREATE FUNCTION freight.update_status(tracking_number text, status text, location text DEFAULT NULL,
									  note text DEFAULT NULL)
RETURNS freight.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	ship freight.shipments := freight.shipment_by_tracking_number(tracking_number, true);
	result freight.shipments;
BEGIN
	PERFORM freight.require(status IS NOT NULL, 'status is required');
	PERFORM freight.require(location IS NULL OR pg_catalog.length(location) <= 200, 'location is longer than 200 characters');
	PERFORM freight.require(note IS NULL OR pg_catalog.length(note) <= 1000, 'note is longer than 1000 characters');
	PERFORM freight.check_transition(ship.status, status);

	-- The triggers on shipments check the change again and record the event.
	UPDATE freight.shipments s
	SET status = update_status.status, current_location = location, status_note = note
	WHERE s.id = ship.id
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.update_status(text, text, text, text) IS
	'Moves a shipment to a new status (checked against freight.status_transitions; PT409 if not allowed), '
	'with optional location and note; the event is recorded in shipment_events';

CREATE FUNCTION freight.add_package(tracking_number text, weight_kg numeric, length_cm numeric,
									width_cm numeric, height_cm numeric, description text DEFAULT NULL)
RETURNS freight.packages
LANGUAGE plpgsql
AS $$
DECLARE
	ship freight.shipments := freight.shipment_by_tracking_number(tracking_number, true);
	result freight.packages;
BEGIN
	PERFORM freight.require(weight_kg > 0 AND length_cm > 0 AND width_cm > 0 AND height_cm > 0,
							'package weight and dimensions must be positive');
	PERFORM freight.require(greatest(length_cm, width_cm, height_cm) <= 2000,
							'package dimensions must be at most 2000 cm');
	PERFORM freight.require(description IS NULL OR pg_catalog.length(description) <= 500,
							'description is longer than 500 characters');
	IF ship.status <> 'created' THEN
		RAISE EXCEPTION 'shipment is already %', ship.status
			USING ERRCODE = 'PT409', DETAIL = 'Packages can only be added before pickup (status created).';
	END IF;
	INSERT INTO freight.packages (customer_id, shipment_id, weight_kg, length_cm, width_cm, height_cm, description)
	VALUES (ship.customer_id, ship.id, weight_kg, length_cm, width_cm, height_cm, description)
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.add_package(text, numeric, numeric, numeric, numeric, text) IS
	'Adds a package to a shipment that has not been picked up yet';

-- Public tracking: status and times only, for any caller (SECURITY DEFINER; it reads past
-- row-level security, so it must never return addresses, contacts, locations or notes).
CREATE FUNCTION freight.track_public(tracking_number text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ship record;
BEGIN
	PERFORM freight.require(tracking_number ~ '^IFE-[0-9]{12}$', 'invalid tracking number',
							pg_catalog.format('%L is not of the form IFE- followed by 12 digits.', tracking_number));
	SELECT s.id, s.status, s.created_at, s.updated_at INTO ship
	FROM freight.shipments s WHERE s.tracking_number = track_public.tracking_number;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'shipment not found' USING ERRCODE = 'PT404',
			DETAIL = format('No shipment has tracking number %s.', tracking_number);
	END IF;
	RETURN jsonb_build_object(
		'tracking_number', tracking_number, 'status', ship.status,
		'created_at', ship.created_at, 'updated_at', ship.updated_at,
		'history', (SELECT coalesce(jsonb_agg(jsonb_build_object('status', e.status, 'at', e.occurred_at)
											  ORDER BY e.occurred_at, e.id), '[]')
					FROM freight.shipment_events e WHERE e.shipment_id = ship.id));
END
$$;
COMMENT ON FUNCTION freight.track_public(text) IS
	'Public tracking of a shipment: status, times and the status history; no addresses, locations or notes';

CREATE FUNCTION freight.track(tracking_number text) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	ship freight.shipments;
	may_decrypt boolean := pg_catalog.pg_has_role('freight_decrypt', 'MEMBER');
BEGIN
	IF pg_catalog.has_table_privilege('freight.shipments', 'SELECT') THEN
		SELECT * INTO ship FROM freight.shipments s WHERE s.tracking_number = track.tracking_number;
	END IF;
	-- Not visible to the caller (anonymous, or another tenant's shipment): public tracking only.
	IF ship.id IS NULL THEN
		RETURN freight.track_public(tracking_number);
	END IF;
	RETURN pg_catalog.jsonb_build_object(
		'tracking_number', ship.tracking_number, 'status', ship.status,
		'created_at', ship.created_at, 'updated_at', ship.updated_at,
		'scheduled_date', ship.scheduled_date, 'weight_kg', ship.weight_kg, 'driver_id', ship.driver_id,
		'current_location', ship.current_location, 'status_note', ship.status_note,
		'origin', CASE WHEN may_decrypt THEN
			freight.decrypt(ship.origin, freight.encryption_context('freight.shipments', 'origin', ship.id)) END,
		'destination', CASE WHEN may_decrypt THEN
			freight.decrypt(ship.destination, freight.encryption_context('freight.shipments', 'destination', ship.id)) END,
		'history', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
						'status', e.status, 'at', e.occurred_at, 'location', e.location, 'note', e.note)
						ORDER BY e.occurred_at, e.id), '[]')
					FROM freight.shipment_events e WHERE e.shipment_id = ship.id));
END
$$;
COMMENT ON FUNCTION freight.track(text) IS
	'Tracking of a shipment as jsonb (status, times, history). Callers who may see the shipment also get '
	'addresses (with the decrypt grant), event locations and notes; everyone else gets public tracking';

-- ---------------------------------------------------------------------------------------------
-- Invoices
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.issue_invoice(tracking_number text, amount numeric, currency text DEFAULT 'EUR',
									  due_date date DEFAULT NULL)
RETURNS freight.invoices
LANGUAGE plpgsql
AS $$
DECLARE
	ship freight.shipments := freight.shipment_by_tracking_number(tracking_number);
	result freight.invoices;
BEGIN
	PERFORM freight.require(amount >= 0 AND amount < 10000000000, 'amount must be zero or positive');
	PERFORM freight.require(currency ~ '^[A-Z]{3}$', 'invalid currency', 'Use an ISO 4217 code such as EUR.');
	PERFORM freight.require(due_date IS NULL OR due_date >= CURRENT_DATE, 'due_date must not be in the past');
	INSERT INTO freight.invoices (customer_id, shipment_id, amount, currency, due_date)
	VALUES (ship.customer_id, ship.id, amount, currency, coalesce(due_date, CURRENT_DATE + 30))
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.issue_invoice(text, numeric, text, date) IS 'Issues an open invoice for a shipment';

CREATE FUNCTION freight.invoice_for_update(invoice_id bigint) RETURNS freight.invoices
LANGUAGE plpgsql
AS $$
DECLARE
	result freight.invoices;
BEGIN
	SELECT * INTO result FROM freight.invoices i WHERE i.id = invoice_id FOR UPDATE;
	IF result.id IS NULL THEN
		RAISE EXCEPTION 'invoice not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No invoice with id %s is visible to you.', invoice_id);
	END IF;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.invoice_for_update(bigint) IS
	'The invoice, locked, as the caller may see it (row-level security applies); PT404 if none';

CREATE FUNCTION freight.dispute_invoice(invoice_id bigint, reason text) RETURNS freight.invoices
LANGUAGE plpgsql
AS $$
DECLARE
	inv freight.invoices := freight.invoice_for_update(invoice_id);
	result freight.invoices;
BEGIN
	PERFORM freight.require(pg_catalog.length(pg_catalog.btrim(reason)) BETWEEN 3 AND 1000,
							'a dispute needs a reason of 3 to 1000 characters');
	IF inv.status <> 'open' THEN
		RAISE EXCEPTION 'invoice is %', inv.status
			USING ERRCODE = 'PT409', DETAIL = 'Only open invoices can be disputed.';
	END IF;
	UPDATE freight.invoices i SET status = 'disputed', dispute_reason = pg_catalog.btrim(reason)
	WHERE i.id = inv.id
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.dispute_invoice(bigint, text) IS 'Disputes an open invoice, with a reason';

CREATE FUNCTION freight.pay_invoice(invoice_id bigint) RETURNS freight.invoices
LANGUAGE plpgsql
AS $$
DECLARE
	inv freight.invoices := freight.invoice_for_update(invoice_id);
	result freight.invoices;
BEGIN
	IF inv.status = 'paid' THEN
		RAISE EXCEPTION 'invoice is already paid' USING ERRCODE = 'PT409';
	END IF;
	UPDATE freight.invoices i SET status = 'paid', paid_at = pg_catalog.now(), dispute_reason = NULL
	WHERE i.id = inv.id
	RETURNING * INTO result;
	RETURN result;
END
$$;
COMMENT ON FUNCTION freight.pay_invoice(bigint) IS 'Marks an open or disputed invoice as paid';

-- ---------------------------------------------------------------------------------------------
-- API keys (pgcrypto: bcrypt hashes, random bytes).  Key format: ifk_<12 hex prefix>_<40 hex secret>.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION freight.create_api_key(customer_id bigint DEFAULT NULL, label text DEFAULT NULL)
RETURNS TABLE (id bigint, prefix text, api_key text)
LANGUAGE plpgsql
AS $$
DECLARE
	owner_id bigint := coalesce(create_api_key.customer_id, freight.current_customer_id());
	new_prefix text := pg_catalog.encode(gen_random_bytes(6), 'hex');
	secret text := pg_catalog.encode(gen_random_bytes(20), 'hex');
BEGIN
	PERFORM freight.require(owner_id IS NOT NULL, 'customer_id is required',
							'Pass customer_id, or call with a customer_id claim in request.jwt.claims.');
	PERFORM freight.require(label IS NULL OR pg_catalog.length(label) <= 200, 'label is longer than 200 characters');
	INSERT INTO freight.api_keys AS k (customer_id, prefix, key_hash, label)
	VALUES (owner_id, new_prefix, crypt(secret, gen_salt('bf')), label)
	RETURNING k.id, k.prefix INTO id, prefix;
	api_key := 'ifk_' || new_prefix || '_' || secret;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION freight.create_api_key(bigint, text) IS
	'Creates an API key for a customer and returns the clear key; it is shown this once and stored only as a bcrypt hash';

CREATE FUNCTION freight.revoke_api_key(key_id bigint)
RETURNS TABLE (id bigint, customer_id bigint, prefix text, label text, created_at timestamptz, revoked_at timestamptz)
LANGUAGE plpgsql
AS $$
BEGIN
	RETURN QUERY
		UPDATE freight.api_keys k SET revoked_at = pg_catalog.now()
		WHERE k.id = key_id AND k.revoked_at IS NULL
		RETURNING k.id, k.customer_id, k.prefix, k.label, k.created_at, k.revoked_at;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'api key not found or already revoked' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No active API key with id %s is visible to you.', key_id);
	END IF;
END
$$;
COMMENT ON FUNCTION freight.revoke_api_key(bigint) IS 'Revokes an API key (it stops authenticating at once)';

-- SECURITY DEFINER: the API daemon authenticates a key before it knows the caller's role.
CREATE FUNCTION freight.authenticate_api_key(api_key text)
RETURNS TABLE (api_key_id bigint, customer_id bigint, tier text)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
AS $$
DECLARE
	parts text[] := pg_catalog.regexp_match(api_key, '^ifk_([0-9a-f]{12})_([0-9a-f]{40})$');
BEGIN
	IF parts IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
		SELECT k.id, k.customer_id, c.tier
		FROM freight.api_keys k JOIN freight.customers c ON c.id = k.customer_id
		WHERE k.prefix = parts[1] AND k.revoked_at IS NULL AND k.key_hash = crypt(parts[2], k.key_hash);
END
$$;
COMMENT ON FUNCTION freight.authenticate_api_key(text) IS
	'The key''s id, customer and tier if the clear API key is valid and not revoked; no row otherwise';

-- The HTTP API's question "who is this key?": the role and the JWT-style claims to run the request
-- with.  Granted to PUBLIC because the daemon asks before it switches role (as its login role); it
-- answers only for a valid, unrevoked key (160 random bits), so it reveals nothing otherwise.
CREATE FUNCTION freight.verify_api_key(api_key text) RETURNS TABLE (role text, claims jsonb)
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'freight_customer',
		   jsonb_build_object('role', 'freight_customer', 'customer_id', a.customer_id,
							  'api_key_id', a.api_key_id, 'tier', a.tier)
	FROM freight.authenticate_api_key(api_key) a
$$;
COMMENT ON FUNCTION freight.verify_api_key(text) IS
	'Role and claims (customer_id, api_key_id, tier) for a valid API key; no row otherwise (used by freight-api)';

-- crypt/gen_salt/gen_random_bytes come from pgcrypto, wherever CREATE EXTENSION ... CASCADE put it:
-- pin that schema (after pg_catalog) into the search_path of the functions that use them.
DO $pin$
DECLARE
	pgcrypto_schema text := (SELECT n.nspname FROM pg_catalog.pg_extension e
							 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
							 WHERE e.extname = 'pgcrypto');
BEGIN
	EXECUTE pg_catalog.format('ALTER FUNCTION freight.create_api_key(bigint, text) SET search_path = pg_catalog, %I, pg_temp',
							  pgcrypto_schema);
	EXECUTE pg_catalog.format('ALTER FUNCTION freight.authenticate_api_key(text) SET search_path = pg_catalog, %I, pg_temp',
							  pgcrypto_schema);
END
$pin$;

-- ---------------------------------------------------------------------------------------------
-- Plaintext view for trusted roles (errors for roles without the decrypt grant)
-- ---------------------------------------------------------------------------------------------

CREATE VIEW freight.shipments_decrypted WITH (security_invoker = true) AS
	SELECT s.id, s.customer_id, s.tracking_number, s.status, s.current_location, s.status_note, s.driver_id, s.vehicle_id,
		   freight.decrypt(s.origin, freight.encryption_context('freight.shipments', 'origin', s.id)) AS origin,
		   freight.decrypt(s.destination, freight.encryption_context('freight.shipments', 'destination', s.id)) AS destination,
		   s.weight_kg, s.volume_m3, s.scheduled_date, s.created_at, s.updated_at
	FROM freight.shipments s;
COMMENT ON VIEW freight.shipments_decrypted IS
	'Shipments with origin and destination in plaintext; needs the freight_decrypt grant (row-level security applies)';

-- Register the encrypted columns, so freight.reencrypt_all() re-encrypts them after a key rotation.
INSERT INTO freight.encrypted_columns (table_name, column_name, key_column) VALUES
	('freight.customers', 'email', 'id'), ('freight.customers', 'phone', 'id'),
	('freight.drivers', 'phone', 'id'), ('freight.drivers', 'email', 'id'),
	('freight.shipments', 'origin', 'id'), ('freight.shipments', 'destination', 'id');

-- The domain tables belong to the extension, so pg_dump would skip their rows unless they are
-- marked as configuration tables; with their sequences, a dump restores the data and id counters.
-- (The reference tables shipment_statuses and status_transitions are created by this script.)
DO $dump$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['customers', 'api_keys', 'vehicles', 'drivers', 'shipments', 'packages',
							 'shipment_events', 'invoices']
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(('freight.' || t)::regclass, '');
		PERFORM pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('freight.' || t, 'id')::regclass, '');
	END LOOP;
END
$dump$;
