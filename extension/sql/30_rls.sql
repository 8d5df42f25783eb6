-- freight install script, part 30: privileges and row-level security for the domain tables.
--
-- Identity comes from request.jwt.claims (freight.current_customer_id(), current_driver_id()),
-- set per request exactly as PostgREST does, so one set of policies serves SQL and HTTP callers.
--
--   freight_app, freight_admin  every row (admin is a member of app; only admin may delete)
--   freight_customer            its own customer row, shipments, packages, events, invoices, keys;
--                               the drivers assigned to its shipments; may create shipments,
--                               packages and keys, cancel its shipments, dispute its invoices,
--                               change its contact details
--   freight_driver              itself, the shipments assigned to it (and their packages and
--                               events), vehicles; may move those shipments' status (not cancel)
--                               and change its own contact details
--   freight_partner, freight_anon  no table access; public tracking through freight.track()
--
-- Writes by customers and drivers go through the SQL API (20_domain.sql), whose functions run
-- with the caller's rights: the policies below are the one place that decides rows.  Table
-- privileges are column-level where a role may change only some columns.

-- Reference data: readable by everyone, changed by admins.
ALTER TABLE freight.shipment_statuses ENABLE ROW LEVEL SECURITY;
ALTER TABLE freight.status_transitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON freight.shipment_statuses FOR SELECT USING (true);
CREATE POLICY readable ON freight.status_transitions FOR SELECT USING (true);
CREATE POLICY admin_all ON freight.shipment_statuses TO freight_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON freight.status_transitions TO freight_admin USING (true) WITH CHECK (true);
GRANT SELECT ON freight.shipment_statuses, freight.status_transitions TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON freight.shipment_statuses, freight.status_transitions TO freight_admin;

-- Staff (app and admin) see and change every row of every domain table.
DO $staff$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['customers', 'api_keys', 'vehicles', 'drivers', 'shipments', 'packages',
							 'shipment_events', 'invoices']
	LOOP
		EXECUTE pg_catalog.format('ALTER TABLE freight.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE pg_catalog.format('CREATE POLICY staff_all ON freight.%I TO freight_app USING (true) WITH CHECK (true)', t);
		EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON freight.%I TO freight_app', t);
		EXECUTE pg_catalog.format('GRANT DELETE ON freight.%I TO freight_admin', t);
	END LOOP;
END
$staff$;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA freight TO freight_app;

-- customers
GRANT SELECT ON freight.customers TO freight_customer;
GRANT UPDATE (email, email_bidx, phone, phone_bidx) ON freight.customers TO freight_customer;
CREATE POLICY customer_self ON freight.customers FOR SELECT TO freight_customer
	USING (id = freight.current_customer_id());
CREATE POLICY customer_contact ON freight.customers FOR UPDATE TO freight_customer
	USING (id = freight.current_customer_id()) WITH CHECK (id = freight.current_customer_id());

-- api_keys: customers manage their own keys; nobody but staff reads the hashes.
GRANT SELECT (id, customer_id, prefix, label, created_at, revoked_at) ON freight.api_keys TO freight_customer;
GRANT INSERT (customer_id, prefix, key_hash, label), UPDATE (revoked_at) ON freight.api_keys TO freight_customer;
CREATE POLICY customer_own ON freight.api_keys TO freight_customer
	USING (customer_id = freight.current_customer_id())
	WITH CHECK (customer_id = freight.current_customer_id());

-- vehicles
GRANT SELECT ON freight.vehicles TO freight_driver;
CREATE POLICY driver_read ON freight.vehicles FOR SELECT TO freight_driver USING (true);

-- drivers: a driver sees itself; a customer sees the drivers of its shipments (the subquery runs
-- under the customer's own shipment policy).
GRANT SELECT ON freight.drivers TO freight_driver, freight_customer;
GRANT UPDATE (phone, phone_bidx, email, email_bidx) ON freight.drivers TO freight_driver;
CREATE POLICY driver_self ON freight.drivers FOR SELECT TO freight_driver
	USING (id = freight.current_driver_id());
CREATE POLICY driver_contact ON freight.drivers FOR UPDATE TO freight_driver
	USING (id = freight.current_driver_id()) WITH CHECK (id = freight.current_driver_id());
CREATE POLICY customer_assigned ON freight.drivers FOR SELECT TO freight_customer
	USING (EXISTS (SELECT 1 FROM freight.shipments s WHERE s.driver_id = drivers.id));

-- shipments
GRANT SELECT ON freight.shipments TO freight_customer, freight_driver;
GRANT INSERT (id, customer_id, tracking_number, origin, destination, weight_kg, volume_m3, scheduled_date)
	ON freight.shipments TO freight_customer;
GRANT UPDATE (status, current_location, status_note) ON freight.shipments TO freight_customer, freight_driver;
GRANT USAGE ON SEQUENCE freight.shipments_id_seq TO freight_customer;
CREATE POLICY customer_read ON freight.shipments FOR SELECT TO freight_customer
	USING (customer_id = freight.current_customer_id());
CREATE POLICY customer_create ON freight.shipments FOR INSERT TO freight_customer
	WITH CHECK (customer_id = freight.current_customer_id() AND status = 'created'
				AND driver_id IS NULL AND vehicle_id IS NULL);
CREATE POLICY customer_cancel ON freight.shipments FOR UPDATE TO freight_customer
	USING (customer_id = freight.current_customer_id())
	WITH CHECK (customer_id = freight.current_customer_id() AND status = 'cancelled');
CREATE POLICY driver_read ON freight.shipments FOR SELECT TO freight_driver
	USING (driver_id = freight.current_driver_id());
CREATE POLICY driver_move ON freight.shipments FOR UPDATE TO freight_driver
	USING (driver_id = freight.current_driver_id())
	WITH CHECK (driver_id = freight.current_driver_id() AND status <> 'cancelled');

-- packages
GRANT SELECT ON freight.packages TO freight_customer, freight_driver;
GRANT INSERT ON freight.packages TO freight_customer;
CREATE POLICY customer_read ON freight.packages FOR SELECT TO freight_customer
	USING (customer_id = freight.current_customer_id());
CREATE POLICY customer_add ON freight.packages FOR INSERT TO freight_customer
	WITH CHECK (customer_id = freight.current_customer_id()
				AND EXISTS (SELECT 1 FROM freight.shipments s
							WHERE s.id = packages.shipment_id AND s.status = 'created'));
CREATE POLICY driver_read ON freight.packages FOR SELECT TO freight_driver
	USING (EXISTS (SELECT 1 FROM freight.shipments s WHERE s.id = packages.shipment_id));

-- shipment_events: rows are written by the triggers on shipments (20_domain.sql), so the history
-- always matches the shipment.  The one event a customer writes itself is the first 'created'
-- event of its new shipment (create_shipment); drivers write none.
GRANT SELECT ON freight.shipment_events TO freight_customer, freight_driver;
GRANT INSERT (customer_id, shipment_id, status, occurred_at) ON freight.shipment_events TO freight_customer;
CREATE POLICY customer_read ON freight.shipment_events FOR SELECT TO freight_customer
	USING (customer_id = freight.current_customer_id());
CREATE POLICY customer_first_event ON freight.shipment_events FOR INSERT TO freight_customer
	WITH CHECK (customer_id = freight.current_customer_id() AND status = 'created'
				AND EXISTS (SELECT 1 FROM freight.shipments s
							WHERE s.id = shipment_events.shipment_id AND s.status = 'created')
				AND NOT EXISTS (SELECT 1 FROM freight.shipment_events e
								WHERE e.shipment_id = shipment_events.shipment_id));
CREATE POLICY driver_read ON freight.shipment_events FOR SELECT TO freight_driver
	USING (EXISTS (SELECT 1 FROM freight.shipments s WHERE s.id = shipment_events.shipment_id));

-- invoices: customers read theirs and may only move one to disputed.
GRANT SELECT ON freight.invoices TO freight_customer;
GRANT UPDATE (status, dispute_reason) ON freight.invoices TO freight_customer;
CREATE POLICY customer_read ON freight.invoices FOR SELECT TO freight_customer
	USING (customer_id = freight.current_customer_id());
CREATE POLICY customer_dispute ON freight.invoices FOR UPDATE TO freight_customer
	USING (customer_id = freight.current_customer_id())
	WITH CHECK (customer_id = freight.current_customer_id() AND status = 'disputed');

-- Functions: staff-only operations and the API-key check are not for everyone.
REVOKE EXECUTE ON FUNCTION freight.create_customer(text, text, text, text), freight.create_vehicle(text, numeric, numeric),
	freight.create_driver(text, text, text, text, bigint), freight.assign_driver(text, bigint, bigint),
	freight.issue_invoice(text, numeric, text, date), freight.pay_invoice(bigint),
	freight.authenticate_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.create_customer(text, text, text, text), freight.create_vehicle(text, numeric, numeric),
	freight.create_driver(text, text, text, text, bigint), freight.assign_driver(text, bigint, bigint),
	freight.issue_invoice(text, numeric, text, date), freight.pay_invoice(bigint),
	freight.authenticate_api_key(text) TO freight_app;

GRANT SELECT ON freight.shipments_decrypted TO freight_app, freight_customer, freight_driver;
