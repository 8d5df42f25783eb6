-- rls: roles and row-level security.  Identity comes from request.jwt.claims, set per request the
-- way PostgREST does; cross-tenant reads and writes must fail for customers and drivers, anonymous
-- callers get public tracking only, and a role without freight_decrypt sees ciphertext only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS freight CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- Two tenants, two drivers (as superuser)
SELECT id AS cust_a FROM freight.create_customer('RLS Alpha', 'free', 'alpha@rls.example') \gset
SELECT id AS cust_b FROM freight.create_customer('RLS Beta', 'enterprise', 'beta@rls.example') \gset
SELECT id AS drv_1 FROM freight.create_driver('RLS Driver One', '+49 171 5551001') \gset
SELECT id AS drv_2 FROM freight.create_driver('RLS Driver Two', '+49 171 5551002') \gset
SELECT id AS sa1, tracking_number AS tn_a1 FROM freight.create_shipment('Alpha Weg 1, Bremen', 'Alpha Ziel 1, Kiel', 10, :cust_a) \gset
SELECT id AS sa2, tracking_number AS tn_a2 FROM freight.create_shipment('Alpha Weg 2, Bremen', 'Alpha Ziel 2, Kiel', 20, :cust_a) \gset
SELECT id AS sb1, tracking_number AS tn_b1 FROM freight.create_shipment('Beta Weg 1, Essen', 'Beta Ziel 1, Bonn', 30, :cust_b) \gset
SELECT driver_id = :drv_1 AS ok FROM freight.assign_driver(:'tn_a1', :drv_1);
SELECT driver_id = :drv_2 AS ok FROM freight.assign_driver(:'tn_b1', :drv_2);
SELECT count(*) FROM freight.add_package(:'tn_b1', 5, 10, 10, 10, 'Beta parcel');
SELECT id AS inv_a FROM freight.issue_invoice(:'tn_a1', 50) \gset
SELECT id AS inv_b FROM freight.issue_invoice(:'tn_b1', 70) \gset
SELECT id AS key_b FROM freight.create_api_key(:cust_b, 'beta key') \gset

-- ===== customer A =====
SET ROLE freight_customer;
SELECT set_config('request.jwt.claims', json_build_object('role', 'freight_customer', 'customer_id', :cust_a)::text, false) IS NOT NULL AS claims_set;
SELECT freight.current_customer_id() = :cust_a AS me, freight.current_driver_id() AS no_driver;
-- reads: only A's rows, through the tables and the api views
SELECT count(*) AS my_shipments, bool_and(customer_id = :cust_a) AS all_mine FROM freight.shipments;
SELECT count(*) AS my_view_rows, bool_and(origin LIKE 'Alpha%') AS decrypted FROM api.shipments;
SELECT count(*) AS b_shipment FROM api.shipments WHERE id = :sb1;
SELECT count(*) AS b_packages FROM api.packages WHERE shipment_id = :sb1;
SELECT count(*) AS b_events FROM api.shipment_events WHERE shipment_id = :sb1;
SELECT count(*) AS my_invoices, bool_and(customer_id = :cust_a) AS all_mine FROM api.invoices;
SELECT count(*) AS customers_visible, min(name) AS name FROM api.customers;
SELECT name FROM api.drivers ORDER BY name;	-- only the driver of my shipment
SELECT count(*) AS b_keys FROM api.api_keys WHERE customer_id = :cust_b;
SELECT key_hash FROM freight.api_keys;
-- writes on B's rows fail or touch nothing (terse: details name random tracking numbers)
\set VERBOSITY terse
SELECT freight.update_status(:'tn_b1', 'cancelled');
\echo :LAST_ERROR_SQLSTATE
UPDATE freight.shipments SET status = 'cancelled' WHERE id = :sb1;
SELECT freight.dispute_invoice(:inv_b, 'Not my shipment');
\echo :LAST_ERROR_SQLSTATE
SELECT freight.add_package(:'tn_b1', 1, 1, 1, 1);
SELECT freight.revoke_api_key(:key_b);
\set VERBOSITY default
SELECT freight.create_shipment('Fake 1, Essen', 'Fake 2, Bonn', 1, :cust_b);
\echo :LAST_ERROR_SQLSTATE
SELECT freight.create_api_key(:cust_b);
-- the history is written by the triggers on shipments; a customer may only add the first
-- 'created' event of its own new shipment (create_shipment does), so it cannot forge history
INSERT INTO freight.shipment_events (customer_id, shipment_id, status) VALUES (:cust_b, :sb1, 'created');
INSERT INTO freight.shipment_events (customer_id, shipment_id, status) VALUES (:cust_a, :sa2, 'created');
INSERT INTO freight.shipment_events (customer_id, shipment_id, status) VALUES (:cust_a, :sa2, 'delivered');
\echo :LAST_ERROR_SQLSTATE
-- staff-only operations
SELECT freight.assign_driver(:'tn_a2', :drv_1);
SELECT freight.create_customer('Sneaky', 'enterprise');
DELETE FROM freight.shipments WHERE id = :sa2;
-- customers create, cancel and dispute their own, and nothing else
SELECT status, customer_id = :cust_a AS mine FROM api.create_shipment('Alpha Weg 3, Bremen', 'Alpha Ziel 3, Kiel', 3);
SELECT freight.update_status(:'tn_a2', 'picked_up');
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM api.update_status(:'tn_a2', 'cancelled', NULL, 'Changed my mind');
SELECT status FROM api.dispute_invoice(:inv_a, 'Price was agreed lower');
-- direct writes obey the same rules: a customer cannot reopen its invoice, nor add a package to
-- a shipment that is no longer 'created' (a2 is cancelled now)
UPDATE freight.invoices SET status = 'open', dispute_reason = NULL WHERE id = :inv_a;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO freight.packages (customer_id, shipment_id, weight_kg, length_cm, width_cm, height_cm)
VALUES (:cust_a, :sa2, 1, 1, 1, 1);
SELECT count(*) AS my_new_key FROM api.create_api_key('my key');
SELECT email FROM api.set_customer_contact('alpha.new@rls.example', NULL);
\set VERBOSITY terse
SELECT freight.set_customer_contact('evil@rls.example', NULL, :cust_b);
\set VERBOSITY default
SELECT freight.set_driver_contact('+49 171 5559999', NULL, :drv_1);
-- tracking B's shipment falls back to public tracking: no addresses, locations or notes
SELECT jsonb_object_keys(freight.track(:'tn_b1')) AS public_keys ORDER BY 1;
SELECT freight.track(:'tn_a1') ?& ARRAY['origin', 'destination'] AS my_tracking_has_addresses;
RESET ROLE;

-- B's rows are untouched
SELECT status, (SELECT count(*) FROM freight.packages p WHERE p.shipment_id = :sb1) AS packages,
	   (SELECT count(*) FROM freight.shipment_events e WHERE e.shipment_id = :sb1) AS events
FROM freight.shipments WHERE id = :sb1;
SELECT status FROM freight.invoices WHERE id = :inv_b;
SELECT revoked_at IS NULL AS b_key_active, (SELECT count(*) FROM freight.api_keys k WHERE k.customer_id = :cust_b) AS b_keys
FROM freight.api_keys WHERE id = :key_b;
SELECT count(*) AS shipments_of_b FROM freight.shipments WHERE customer_id = :cust_b;
SELECT email AS b_email FROM api.customers WHERE id = :cust_b;

-- ===== driver 1 =====
SET ROLE freight_driver;
SELECT set_config('request.jwt.claims', json_build_object('role', 'freight_driver', 'driver_id', :drv_1)::text, false) IS NOT NULL AS claims_set;
SELECT count(*) AS assigned, bool_and(id = :sa1) AS only_a1 FROM api.shipments;
SELECT name FROM api.drivers;
SELECT phone FROM api.set_driver_contact('+49 171 5551011');
\set VERBOSITY terse
SELECT freight.set_driver_contact('+49 171 5551012', NULL, :drv_2);
\set VERBOSITY default
SELECT count(*) FROM api.customers;	-- drivers do not read customers
SELECT count(*) AS b_packages FROM api.packages WHERE shipment_id = :sb1;
SELECT status FROM api.update_status(:'tn_a1', 'picked_up', 'Bremen dock');
SELECT status FROM api.update_status(:'tn_a1', 'exception', 'Bremen dock', 'Flat tyre');
SELECT freight.update_status(:'tn_a1', 'cancelled');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT freight.update_status(:'tn_b1', 'picked_up');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
UPDATE freight.shipments SET status = 'picked_up' WHERE id = :sb1;
UPDATE freight.shipments SET driver_id = :drv_1 WHERE id = :sb1;
INSERT INTO freight.shipment_events (customer_id, shipment_id, status) VALUES (:cust_b, :sb1, 'created');
-- a direct UPDATE of an assigned shipment is allowed, checked and recorded like update_status
UPDATE freight.shipments SET status = 'in_transit', current_location = 'Hub Bremen', status_note = NULL WHERE id = :sa1;
SELECT jsonb_path_query_array(freight.track(:'tn_a1'), '$.history[*].status') AS statuses,
	   jsonb_path_query_array(freight.track(:'tn_a1'), '$.history[*].location') AS locations;
RESET ROLE;
SELECT status, driver_id = :drv_2 AS still_driver_2 FROM freight.shipments WHERE id = :sb1;

-- ===== anonymous =====
SET ROLE freight_anon;
SELECT set_config('request.jwt.claims', '{"role": "freight_anon"}', false) IS NOT NULL AS claims_set;
SELECT count(*) FROM freight.shipments;
SELECT count(*) FROM api.shipments;
SELECT count(*) FROM freight.customers;
SELECT jsonb_object_keys(api.track(:'tn_a1')) AS public_keys ORDER BY 1;
SELECT DISTINCT jsonb_object_keys(h) AS history_keys FROM jsonb_array_elements(freight.track(:'tn_a1') -> 'history') h ORDER BY 1;
SELECT api.track(:'tn_a1')::text LIKE '%Bremen%' AS leaks_location;
SELECT freight.decrypt(origin, 'x') FROM freight.shipments LIMIT 1;
SELECT count(*) FROM freight.authenticate_api_key('ifk_000000000000_0000000000000000000000000000000000000000');
RESET ROLE;

-- ===== a role with table access but without freight_decrypt sees ciphertext only =====
CREATE ROLE regress_rls_auditor NOLOGIN;
GRANT USAGE ON SCHEMA freight, api TO regress_rls_auditor;
GRANT SELECT ON freight.shipments, freight.shipments_decrypted, api.shipments TO regress_rls_auditor;
CREATE POLICY regress_auditor_read ON freight.shipments FOR SELECT TO regress_rls_auditor USING (true);
SET ROLE regress_rls_auditor;
SELECT pg_has_role('freight_decrypt', 'MEMBER') AS may_decrypt;
SELECT position('Alpha' IN encode(origin, 'escape')) = 0 AS origin_is_ciphertext, octet_length(origin) > 0 AS has_bytes
FROM freight.shipments WHERE id = :sa1;
SELECT origin IS NULL AS origin_hidden, destination IS NULL AS destination_hidden, status FROM api.shipments WHERE id = :sa1;
SELECT origin FROM freight.shipments_decrypted WHERE id = :sa1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP POLICY regress_auditor_read ON freight.shipments;
REVOKE ALL ON freight.shipments, freight.shipments_decrypted, api.shipments FROM regress_rls_auditor;
REVOKE ALL ON SCHEMA freight, api FROM regress_rls_auditor;
DROP ROLE regress_rls_auditor;
RESET request.jwt.claims;
