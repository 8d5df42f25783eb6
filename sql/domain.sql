-- domain: the freight domain's SQL API — customers, drivers, shipments and their status machine,
-- packages, invoices, API keys, tracking — including bad input that must change nothing.
-- Ids and tracking numbers are not printed (they depend on other tests and on randomness).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS freight CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- Customers, vehicles, drivers
SELECT id AS cust FROM freight.create_customer('Domain Test GmbH', 'pro', ' Ops@Domain-Test.example ', '+49 (40) 555-0199') \gset
SELECT name, tier, email_bidx = freight.blind_index('ops@domain-test.example', 'email') AS email_normalised,
	   phone_bidx = freight.blind_index('49405550199', 'phone') AS phone_normalised,
	   position('domain-test' IN encode(email, 'escape')) = 0 AS email_is_ciphertext
FROM freight.customers WHERE id = :cust;
SELECT email, phone FROM api.customers WHERE id = :cust;
SELECT count(*) FROM freight.find_customer_by_email('OPS@domain-test.example') WHERE id = :cust;
SELECT freight.create_customer('Bad Tier Ltd', 'platinum');
SELECT freight.create_customer('', 'free');
SELECT freight.create_customer('Bad Mail Ltd', 'free', 'not-an-email');
SELECT freight.create_customer('Bad Phone Ltd', 'free', NULL, '12ab34');
SELECT count(*) AS customers_named_bad FROM freight.customers WHERE name LIKE 'Bad %';

SELECT id AS van FROM freight.create_vehicle('hh-dt 1', 1000, 8) \gset
SELECT plate, capacity_kg, capacity_m3 FROM freight.vehicles WHERE id = :van;
SELECT freight.create_vehicle('HH DT 2', 0, 8);
SELECT freight.create_vehicle('no/slash', 100, 8);

SELECT id AS drv FROM freight.create_driver('Dora Domain', '+49 170 5559901', 'dora@domain-test.example', 'dora-dt', :van) \gset
SELECT id AS drv_idle FROM freight.create_driver('Ivo Idle', '0170/5559902') \gset
UPDATE freight.drivers SET active = false WHERE id = :drv_idle;
-- the blind index finds the driver in any notation of the same digits (not a national form)
SELECT name FROM freight.find_driver_by_phone('+49 (170) 555-9901') UNION ALL
SELECT name FROM freight.find_driver_by_phone('+491705559901') UNION ALL
SELECT name FROM freight.find_driver_by_email('DORA@domain-test.example');
SELECT count(*) AS national_form FROM freight.find_driver_by_phone('0170 5559901');
SELECT phone, email FROM api.drivers WHERE id = :drv;
-- (terse: the error detail would show the blind index, which differs per key)
\set VERBOSITY terse
SELECT freight.create_driver('Dup Phone', '+49 170 5559901');
\set VERBOSITY default
SELECT freight.create_driver('No Phone', NULL);
SELECT freight.find_driver_by_phone('call me');
-- contact changes re-encrypt and re-index
SELECT phone, email FROM api.set_driver_contact('+49 170 5559911', 'dora.new@domain-test.example', :drv);
SELECT count(*) AS old_phone FROM freight.find_driver_by_phone('+49 170 5559901');
SELECT name FROM freight.find_driver_by_phone('+49 170 5559911');
SELECT freight.set_driver_contact(NULL, NULL, :drv);
SELECT freight.set_driver_contact('+49 170 5559912', NULL, -1);
SELECT email, phone FROM api.set_customer_contact('new@domain-test.example', NULL, :cust);
SELECT freight.set_customer_contact('x@y', NULL, :cust);
SELECT email FROM api.customers WHERE id = :cust;

-- Shipments
SELECT id AS ship, tracking_number AS tn
FROM freight.create_shipment('Marktplatz 1, 20095 Hamburg', 'Domstrasse 5, 50667 Koeln', 420.5, :cust, 2.5) \gset
SELECT :'tn' ~ '^IFE-[0-9]{12}$' AS tracking_number_ok, status, driver_id IS NULL AS unassigned, weight_kg, volume_m3,
	   scheduled_date = CURRENT_DATE AS scheduled_today,
	   position('Marktplatz' IN encode(origin, 'escape')) = 0 AS origin_is_ciphertext,
	   position('Domstrasse' IN encode(destination, 'escape')) = 0 AS destination_is_ciphertext
FROM freight.shipments WHERE id = :ship;
SELECT origin, destination FROM freight.shipments_decrypted WHERE id = :ship;
SELECT origin, destination FROM api.shipments WHERE tracking_number = :'tn';
SELECT status, location, note FROM freight.shipment_events WHERE shipment_id = :ship ORDER BY id;

-- bad input is refused and creates nothing
SELECT count(*) AS shipments_before FROM freight.shipments \gset
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', -1, :cust);
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', NULL, :cust);
SELECT freight.create_shipment('  ', 'Domstrasse 5, Koeln', 10, :cust);
SELECT freight.create_shipment(NULL, 'Domstrasse 5, Koeln', 10, :cust);
SELECT freight.create_shipment(repeat('x', 501), 'Domstrasse 5, Koeln', 10, :cust);
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', 10);
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', 10, -42);
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', 10, :cust, 0);
SELECT freight.create_shipment('Marktplatz 1, Hamburg', 'Domstrasse 5, Koeln', 10, :cust, NULL, '2001-01-01');
SELECT count(*) = :shipments_before AS nothing_created FROM freight.shipments;

-- Packages: only before pickup
SELECT weight_kg, length_cm, width_cm, height_cm, description
FROM freight.add_package(:'tn', 200, 120, 80, 100, 'Pallet of books');
SELECT freight.add_package(:'tn', 0, 120, 80, 100);
SELECT freight.add_package(:'tn', 10, 120, 80, 5000);
SELECT freight.add_package('IFE-000000000000', 10, 10, 10, 10);
SELECT freight.add_package('TRK-1', 10, 10, 10, 10);

-- Driver assignment
SELECT freight.assign_driver(:'tn', :drv_idle);
SELECT freight.assign_driver(:'tn', -1);
SELECT freight.assign_driver(:'tn', :drv, -1);
SELECT id AS small_van FROM freight.create_vehicle('HH DT 3', 100, 1) \gset
SELECT freight.assign_driver(:'tn', :drv, :small_van);
SELECT driver_id = :drv AS assigned, vehicle_id = :van AS drivers_vehicle FROM freight.assign_driver(:'tn', :drv);

-- The status machine: the transition table is the one source of truth
SELECT from_status, string_agg(to_status, ', ' ORDER BY to_status) AS may_go_to
FROM freight.status_transitions GROUP BY from_status ORDER BY from_status;
SELECT status FROM freight.update_status(:'tn', 'picked_up', 'Hamburg dock', 'Two pallets loaded');
SELECT status FROM freight.update_status(:'tn', 'in_transit', 'Hub Hannover');
SELECT status FROM freight.update_status(:'tn', 'in_transit', 'Hub Kassel', 'Scanned');
SELECT status FROM freight.update_status(:'tn', 'picked_up');
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM freight.update_status(:'tn', 'teleported');
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM freight.update_status(:'tn', NULL);
SELECT status FROM freight.update_status(:'tn', 'exception', repeat('x', 201));
-- a direct UPDATE obeys the same table
UPDATE freight.shipments SET status = 'created' WHERE id = :ship;
\echo :LAST_ERROR_SQLSTATE
SELECT status, (SELECT count(*) FROM freight.shipment_events e WHERE e.shipment_id = :ship) AS events
FROM freight.shipments WHERE id = :ship;
-- a valid direct UPDATE is recorded in the history like update_status
UPDATE freight.shipments SET status = 'exception', current_location = 'Hub Kassel', status_note = 'Forklift damage, repacking'
WHERE id = :ship;
SELECT status FROM freight.update_status(:'tn', 'out_for_delivery', 'Koeln depot');
SELECT status FROM freight.update_status(:'tn', 'delivered', 'Domstrasse 5', 'Signed by M. Muster');
SELECT status FROM freight.update_status(:'tn', 'cancelled');
SELECT status FROM freight.update_status(:'tn', 'delivered');
SELECT freight.add_package(:'tn', 1, 1, 1, 1);
SELECT freight.assign_driver(:'tn', :drv);
SELECT status, current_location, status_note, updated_at > created_at AS touched FROM freight.shipments WHERE id = :ship;
SELECT status, location, note FROM freight.shipment_events WHERE shipment_id = :ship ORDER BY occurred_at, id;
-- rewriting the ciphertext of the same address (as reencrypt_all does after a key rotation) is
-- not a business change: no event, updated_at kept
SELECT updated_at AS before_reencrypt, origin AS old_ciphertext FROM freight.shipments WHERE id = :ship \gset
UPDATE freight.shipments
SET origin = freight.encrypt(freight.decrypt(origin, freight.encryption_context('freight.shipments', 'origin', id)),
							 freight.encryption_context('freight.shipments', 'origin', id))
WHERE id = :ship;
SELECT s.origin <> :'old_ciphertext'::bytea AS rewritten, s.updated_at = :'before_reencrypt' AS updated_at_kept,
	   (SELECT count(*) FROM freight.shipment_events e WHERE e.shipment_id = s.id) AS events, d.origin
FROM freight.shipments s JOIN freight.shipments_decrypted d USING (id) WHERE s.id = :ship;

-- Tracking: the full view for staff (superuser here), with addresses
SELECT t ->> 'status' AS status, t ->> 'origin' AS origin, t ->> 'destination' AS destination,
	   jsonb_path_query_array(t, '$.history[*].status') AS history
FROM freight.track(:'tn') t;
SELECT freight.track('IFE-000000000000');
\echo :LAST_ERROR_SQLSTATE
SELECT freight.track('12345');
SELECT freight.track(NULL);

-- A customer cancels a shipment that has not been picked up
SELECT tracking_number AS tn2 FROM freight.create_shipment('Am Hafen 2, Kiel', 'Ring 3, Rostock', 5, :cust) \gset
SELECT status FROM freight.update_status(:'tn2', 'cancelled', NULL, 'Ordered twice');
SELECT jsonb_path_query_array(freight.track(:'tn2'), '$.history[*].status') AS history;

-- Invoices
SELECT id AS inv, status, amount, currency, due_date = CURRENT_DATE + 30 AS due_in_30_days
FROM freight.issue_invoice(:'tn', 199.90) \gset
SELECT :'status' AS status, :amount AS amount, :'currency' AS currency, :'due_in_30_days' AS due_in_30_days;
SELECT freight.issue_invoice(:'tn', -5);
SELECT freight.issue_invoice(:'tn', 5, 'euro');
SELECT freight.dispute_invoice(:inv, 'no');
SELECT status, dispute_reason FROM freight.dispute_invoice(:inv, 'Delivered two days late');
SELECT freight.dispute_invoice(:inv, 'Still late');
\echo :LAST_ERROR_SQLSTATE
SELECT freight.dispute_invoice(-1, 'Who is this');
\echo :LAST_ERROR_SQLSTATE
SELECT status, dispute_reason, paid_at IS NOT NULL AS paid FROM freight.pay_invoice(:inv);
SELECT freight.pay_invoice(:inv);
UPDATE freight.invoices SET status = 'open', paid_at = NULL WHERE id = :inv;
\echo :LAST_ERROR_SQLSTATE

-- API keys: the clear key is returned once; only a bcrypt hash is stored
SELECT id AS key_id, api_key FROM freight.create_api_key(:cust, 'ci pipeline') \gset
SELECT :'api_key' ~ '^ifk_[0-9a-f]{12}_[0-9a-f]{40}$' AS key_format;
SELECT key_hash LIKE '$2a$%' AS bcrypt, position(split_part(:'api_key', '_', 3) IN key_hash) = 0 AS secret_not_stored,
	   prefix = split_part(:'api_key', '_', 2) AS prefix_stored, label
FROM freight.api_keys WHERE id = :key_id;
SELECT customer_id = :cust AS right_customer, tier FROM freight.authenticate_api_key(:'api_key');
SELECT role, claims ->> 'tier' AS tier, (claims ->> 'customer_id')::bigint = :cust AS right_customer,
	   (claims ->> 'api_key_id')::bigint = :key_id AS right_key
FROM freight.verify_api_key(:'api_key');
SELECT count(*) AS wrong_secret FROM freight.authenticate_api_key(substr(:'api_key', 1, 20) || repeat('0', 40));
SELECT count(*) AS garbage FROM freight.authenticate_api_key('hello');
SELECT revoked_at IS NOT NULL AS revoked FROM freight.revoke_api_key(:key_id);
SELECT count(*) AS after_revoke FROM freight.authenticate_api_key(:'api_key');
SELECT count(*) AS verify_after_revoke FROM freight.verify_api_key(:'api_key');
\set VERBOSITY terse
SELECT freight.revoke_api_key(:key_id);
\set VERBOSITY default
SELECT freight.create_api_key(NULL);
SELECT freight.create_api_key(-7);
\echo :LAST_ERROR_SQLSTATE

-- Tracking-number collisions: another number is drawn; after five collisions the call fails
-- (40001, retry) and creates nothing.  A stand-in generator replays an existing number.
ALTER FUNCTION freight.new_tracking_number() RENAME TO new_tracking_number_real;
CREATE SEQUENCE regress_draws;
CREATE FUNCTION freight.new_tracking_number() RETURNS text LANGUAGE sql
AS $$ SELECT CASE WHEN nextval('regress_draws') % 3 = 0 THEN 'IFE-999999999999' ELSE (SELECT min(tracking_number) FROM freight.shipments) END $$;
SELECT tracking_number FROM freight.create_shipment('Kollision 1, Kiel', 'Kollision 2, Kiel', 1, :cust);
SELECT count(*) AS shipments_before FROM freight.shipments \gset
SELECT freight.create_shipment('Kollision 3, Kiel', 'Kollision 4, Kiel', 1, :cust);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) = :shipments_before AS nothing_created FROM freight.shipments;
DROP FUNCTION freight.new_tracking_number();
DROP SEQUENCE regress_draws;
ALTER FUNCTION freight.new_tracking_number_real() RENAME TO new_tracking_number;
SELECT freight.new_tracking_number() ~ '^IFE-[0-9]{12}$' AS generator_restored;
