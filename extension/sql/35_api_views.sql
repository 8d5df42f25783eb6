-- freight install script, part 35: schema api — the views and functions the HTTP API exposes.
--
-- Views are security_invoker, so the caller's privileges and row-level security apply exactly as
-- for the base tables.  Encrypted columns are decrypted only for roles with the freight_decrypt
-- grant; for other roles they read NULL (the base tables show them ciphertext).  Foreign-key
-- columns keep their names (driver_id, shipment_id, customer_id, vehicle_id) so the API can embed
-- related views.  The views are read-only (only SELECT is granted): changes go through the
-- functions below (POST /api/rpc/...), which check input and the status machine.

-- A decrypted column for callers with the freight_decrypt grant, NULL for the others.  A plain SQL
-- expression, so the planner inlines it (and, decryption being costly, evaluates it after a sort
-- and a LIMIT).
CREATE FUNCTION freight.decrypt_if_permitted(ciphertext bytea, table_name regclass, column_name name, key bigint)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN pg_catalog.pg_has_role('freight_decrypt', 'MEMBER')
				THEN freight.decrypt(ciphertext, freight.encryption_context(table_name, column_name, key)) END
$$;
COMMENT ON FUNCTION freight.decrypt_if_permitted(bytea, regclass, name, bigint) IS
	'Plaintext of an encrypted column for roles with the freight_decrypt grant, NULL for other roles';

CREATE VIEW api.shipments WITH (security_invoker = true) AS
	SELECT s.id, s.tracking_number, s.status, s.current_location, s.status_note, s.customer_id, s.driver_id, s.vehicle_id,
		   freight.decrypt_if_permitted(s.origin, 'freight.shipments', 'origin', s.id) AS origin,
		   freight.decrypt_if_permitted(s.destination, 'freight.shipments', 'destination', s.id) AS destination,
		   s.weight_kg, s.volume_m3, s.scheduled_date, s.created_at, s.updated_at
	FROM freight.shipments s;
COMMENT ON VIEW api.shipments IS 'Shipments the caller may see; origin/destination in plaintext for roles with the decrypt grant';

CREATE VIEW api.drivers WITH (security_invoker = true) AS
	SELECT d.id, d.name, d.active, d.vehicle_id,
		   freight.decrypt_if_permitted(d.phone, 'freight.drivers', 'phone', d.id) AS phone,
		   freight.decrypt_if_permitted(d.email, 'freight.drivers', 'email', d.id) AS email,
		   d.created_at
	FROM freight.drivers d;
COMMENT ON VIEW api.drivers IS 'Drivers the caller may see; phone/email in plaintext for roles with the decrypt grant';

CREATE VIEW api.customers WITH (security_invoker = true) AS
	SELECT c.id, c.name, c.tier,
		   freight.decrypt_if_permitted(c.email, 'freight.customers', 'email', c.id) AS email,
		   freight.decrypt_if_permitted(c.phone, 'freight.customers', 'phone', c.id) AS phone,
		   c.created_at
	FROM freight.customers c;
COMMENT ON VIEW api.customers IS 'Customers the caller may see (a customer: itself)';

CREATE VIEW api.vehicles WITH (security_invoker = true) AS
	SELECT v.id, v.plate, v.capacity_kg, v.capacity_m3, v.active FROM freight.vehicles v;
COMMENT ON VIEW api.vehicles IS 'The fleet';

CREATE VIEW api.packages WITH (security_invoker = true) AS
	SELECT p.id, p.shipment_id, p.customer_id, p.weight_kg, p.length_cm, p.width_cm, p.height_cm,
		   p.description, p.created_at
	FROM freight.packages p;
COMMENT ON VIEW api.packages IS 'Packages of the shipments the caller may see';

CREATE VIEW api.shipment_events WITH (security_invoker = true) AS
	SELECT e.id, e.shipment_id, e.customer_id, e.status, e.occurred_at, e.location, e.note
	FROM freight.shipment_events e;
COMMENT ON VIEW api.shipment_events IS 'Tracking history of the shipments the caller may see';

CREATE VIEW api.invoices WITH (security_invoker = true) AS
	SELECT i.id, i.customer_id, i.shipment_id, i.amount, i.currency, i.status, i.issued_at, i.due_date,
		   i.paid_at, i.dispute_reason
	FROM freight.invoices i;
COMMENT ON VIEW api.invoices IS 'Invoices the caller may see';

CREATE VIEW api.api_keys WITH (security_invoker = true) AS
	SELECT k.id, k.customer_id, k.prefix, k.label, k.created_at, k.revoked_at FROM freight.api_keys k;
COMMENT ON VIEW api.api_keys IS 'API keys the caller may see (never the hash)';

GRANT SELECT ON api.shipments, api.drivers, api.customers, api.packages, api.shipment_events,
	api.invoices, api.api_keys TO freight_app, freight_customer, freight_driver;
GRANT SELECT ON api.vehicles TO freight_app, freight_driver;

-- RPC: thin wrappers over the SQL API, with the caller's rights.
CREATE FUNCTION api.track(tracking_number text) RETURNS jsonb
LANGUAGE sql STABLE
AS $$ SELECT freight.track(tracking_number) $$;
COMMENT ON FUNCTION api.track(text) IS 'Tracking of a shipment (public fields for anonymous callers)';

-- Each writing wrapper calls the freight function, then returns the changed row through the view
-- (a fresh query, so the row written by the call is visible).
CREATE FUNCTION api.create_shipment(origin text, destination text, weight_kg numeric,
									customer_id bigint DEFAULT NULL, volume_m3 numeric DEFAULT NULL,
									scheduled_date date DEFAULT NULL)
RETURNS SETOF api.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	new_id bigint;
BEGIN
	SELECT s.id INTO new_id
	FROM freight.create_shipment(origin, destination, weight_kg, customer_id, volume_m3, scheduled_date) s;
	RETURN QUERY SELECT * FROM api.shipments v WHERE v.id = new_id;
END
$$;
COMMENT ON FUNCTION api.create_shipment(text, text, numeric, bigint, numeric, date) IS 'Creates a shipment';

CREATE FUNCTION api.update_status(tracking_number text, status text, location text DEFAULT NULL,
								  note text DEFAULT NULL)
RETURNS SETOF api.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT s.id INTO changed_id FROM freight.update_status(tracking_number, status, location, note) s;
	RETURN QUERY SELECT * FROM api.shipments v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.update_status(text, text, text, text) IS 'Moves a shipment to a new status';

CREATE FUNCTION api.assign_driver(tracking_number text, driver_id bigint, vehicle_id bigint DEFAULT NULL)
RETURNS SETOF api.shipments
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT s.id INTO changed_id FROM freight.assign_driver(tracking_number, driver_id, vehicle_id) s;
	RETURN QUERY SELECT * FROM api.shipments v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.assign_driver(text, bigint, bigint) IS 'Assigns a driver (and vehicle) to a shipment';

CREATE FUNCTION api.add_package(tracking_number text, weight_kg numeric, length_cm numeric, width_cm numeric,
								height_cm numeric, description text DEFAULT NULL)
RETURNS SETOF api.packages
LANGUAGE plpgsql
AS $$
DECLARE
	new_id bigint;
BEGIN
	SELECT p.id INTO new_id
	FROM freight.add_package(tracking_number, weight_kg, length_cm, width_cm, height_cm, description) p;
	RETURN QUERY SELECT * FROM api.packages v WHERE v.id = new_id;
END
$$;
COMMENT ON FUNCTION api.add_package(text, numeric, numeric, numeric, numeric, text) IS 'Adds a package to a shipment';

CREATE FUNCTION api.dispute_invoice(invoice_id bigint, reason text) RETURNS SETOF api.invoices
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT i.id INTO changed_id FROM freight.dispute_invoice(invoice_id, reason) i;
	RETURN QUERY SELECT * FROM api.invoices v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.dispute_invoice(bigint, text) IS 'Disputes an open invoice';

CREATE FUNCTION api.set_customer_contact(email text, phone text, customer_id bigint DEFAULT NULL)
RETURNS SETOF api.customers
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT c.id INTO changed_id FROM freight.set_customer_contact(email, phone, customer_id) c;
	RETURN QUERY SELECT * FROM api.customers v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.set_customer_contact(text, text, bigint) IS 'Replaces a customer''s contact email and phone';

CREATE FUNCTION api.set_driver_contact(phone text, email text DEFAULT NULL, driver_id bigint DEFAULT NULL)
RETURNS SETOF api.drivers
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT d.id INTO changed_id FROM freight.set_driver_contact(phone, email, driver_id) d;
	RETURN QUERY SELECT * FROM api.drivers v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.set_driver_contact(text, text, bigint) IS 'Replaces a driver''s phone and email';

CREATE FUNCTION api.create_api_key(label text DEFAULT NULL, customer_id bigint DEFAULT NULL)
RETURNS TABLE (id bigint, prefix text, api_key text)
LANGUAGE sql
AS $$ SELECT * FROM freight.create_api_key(customer_id, label) $$;
COMMENT ON FUNCTION api.create_api_key(text, bigint) IS 'Creates an API key; the clear key is returned only now';

CREATE FUNCTION api.revoke_api_key(id bigint) RETURNS SETOF api.api_keys
LANGUAGE plpgsql
AS $$
DECLARE
	changed_id bigint;
BEGIN
	SELECT k.id INTO changed_id FROM freight.revoke_api_key(id) k;
	RETURN QUERY SELECT * FROM api.api_keys v WHERE v.id = changed_id;
END
$$;
COMMENT ON FUNCTION api.revoke_api_key(bigint) IS 'Revokes an API key';

CREATE FUNCTION api.find_driver_by_phone(phone text) RETURNS SETOF api.drivers
LANGUAGE sql STABLE
AS $$ SELECT v.* FROM api.drivers v WHERE v.id IN (SELECT d.id FROM freight.find_driver_by_phone(find_driver_by_phone.phone) d) $$;
COMMENT ON FUNCTION api.find_driver_by_phone(text) IS 'The driver with this phone number (blind-index lookup)';

REVOKE EXECUTE ON FUNCTION api.assign_driver(text, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.assign_driver(text, bigint, bigint) TO freight_app;
