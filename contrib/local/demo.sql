-- demo.sql — demo data for `make run` (loaded once, as superuser, by contrib/local/run.sh).
--
-- Six customers (two per tier), 20 vehicles, 50 drivers, 10,000 shipments spread over the last
-- 60 days with their tracking history, 1-3 packages each, and invoices for delivered shipments.
-- Everything is set-based; addresses, phones and emails go through freight.encrypt with the same
-- contexts the SQL API uses, so the data at rest looks exactly like production data.
-- setseed() makes the statuses, weights and addresses the same on every load (the tracking
-- numbers come from a strong random source and differ).
\set ON_ERROR_STOP 1
BEGIN;
SELECT setseed(0.4711);

SELECT freight.create_customer(c.name, c.tier, c.email, c.phone)
FROM (VALUES
	('Nordwind Handel GmbH', 'free', 'logistik@nordwind.example', '+49 40 5550101'),
	('Kleiner Laden', 'free', 'info@kleiner-laden.example', '+49 30 5550102'),
	('Baltic Parts AG', 'pro', 'shipping@baltic-parts.example', '+49 381 5550103'),
	('Rhein Moebel KG', 'pro', 'versand@rhein-moebel.example', '+49 221 5550104'),
	('Alpen Pharma SE', 'enterprise', 'supply@alpen-pharma.example', '+49 89 5550105'),
	('Europa Retail Group', 'enterprise', 'ops@europa-retail.example', '+49 69 5550106')
) AS c(name, tier, email, phone);

INSERT INTO freight.vehicles (plate, capacity_kg, capacity_m3)
SELECT 'HH-FR ' || (100 + g), CASE WHEN g <= 12 THEN 3500 ELSE 12000 END, CASE WHEN g <= 12 THEN 18 ELSE 60 END
FROM generate_series(1, 20) g;

SELECT freight.create_driver(
	(ARRAY['Anna', 'Ben', 'Clara', 'Deniz', 'Emil', 'Fatma', 'Greta', 'Hannes', 'Ida', 'Jonas'])[1 + (g - 1) % 10]
		|| ' ' || (ARRAY['Schulz', 'Yilmaz', 'Nowak', 'Berger', 'Koch'])[1 + (g - 1) / 10],
	'+49 170 ' || (5550000 + g),
	'driver' || g || '@freight.example',
	'driver-' || g,
	(SELECT v.id FROM freight.vehicles v ORDER BY v.id OFFSET (g - 1) % 20 LIMIT 1))
FROM generate_series(1, 50) g;

-- Final status of each shipment, its path through the status machine, and when it started.
CREATE TEMPORARY TABLE demo_shipments ON COMMIT DROP AS
SELECT nextval('freight.shipments_id_seq') AS id, g, final.status, final.path,
	   (SELECT c.id FROM freight.customers c ORDER BY c.id OFFSET (g * 7) % 6 LIMIT 1) AS customer_id,
	   (SELECT d.id FROM freight.drivers d ORDER BY d.id OFFSET g % 50 LIMIT 1) AS driver_id,
	   CASE WHEN final.status = 'created' THEN now() - random() * interval '1 day'
			ELSE now() - interval '2 days' - random() * interval '58 days' END AS created_at,
	   round((1 + random() * 900)::numeric, 1) AS weight_kg
FROM (SELECT g, random() AS r FROM generate_series(1, 10000) g) s
CROSS JOIN LATERAL (
	SELECT * FROM (VALUES
		(0.55, 'delivered', ARRAY['created', 'picked_up', 'in_transit', 'in_transit', 'out_for_delivery', 'delivered']),
		(0.67, 'in_transit', ARRAY['created', 'picked_up', 'in_transit', 'in_transit']),
		(0.73, 'out_for_delivery', ARRAY['created', 'picked_up', 'in_transit', 'out_for_delivery']),
		(0.80, 'picked_up', ARRAY['created', 'picked_up']),
		(0.92, 'created', ARRAY['created']),
		(0.96, 'exception', ARRAY['created', 'picked_up', 'in_transit', 'exception']),
		(1.01, 'cancelled', ARRAY['created', 'cancelled'])
	) AS p(upto, status, path)
	WHERE s.r < p.upto ORDER BY p.upto LIMIT 1
) final;

-- Each step of each path: the tracking history, seven hours apart (never in the future).
CREATE TEMPORARY TABLE demo_steps ON COMMIT DROP AS
SELECT s.id, s.customer_id, step.n, step.n = cardinality(s.path) AS last, step.status,
	   least(now(), s.created_at + (step.n - 1) * interval '7 hours') AS occurred_at,
	   CASE step.status
		   WHEN 'created' THEN NULL
		   WHEN 'picked_up' THEN 'Customer dock'
		   WHEN 'out_for_delivery' THEN 'Delivery vehicle'
		   WHEN 'cancelled' THEN NULL
		   ELSE (ARRAY['Hub Hamburg', 'Hub Hannover', 'Hub Kassel', 'Hub Leipzig', 'Hub Nuernberg'])[1 + (s.g + step.n) % 5]
	   END AS location,
	   CASE step.status
		   WHEN 'exception' THEN (ARRAY['Recipient not at home', 'Package damaged in transit', 'Address incomplete'])[1 + s.g % 3]
		   WHEN 'cancelled' THEN 'Cancelled by customer'
		   WHEN 'delivered' THEN 'Signed by recipient'
	   END AS note
FROM demo_shipments s
CROSS JOIN LATERAL unnest(s.path) WITH ORDINALITY AS step(status, n);

-- The shipment carries its last step's location and note.
INSERT INTO freight.shipments (id, customer_id, tracking_number, status, current_location, status_note, driver_id,
							   vehicle_id, origin, destination, weight_kg, volume_m3, scheduled_date, created_at, updated_at)
SELECT s.id, s.customer_id, freight.new_tracking_number(), s.status, last.location, last.note,
	   CASE WHEN s.status NOT IN ('created', 'cancelled') THEN s.driver_id END,
	   CASE WHEN s.status NOT IN ('created', 'cancelled') THEN d.vehicle_id END,
	   freight.encrypt(addr.origin, freight.encryption_context('freight.shipments', 'origin', s.id)),
	   freight.encrypt(addr.destination, freight.encryption_context('freight.shipments', 'destination', s.id)),
	   s.weight_kg, round(s.weight_kg / 250, 3), (s.created_at + interval '1 day')::date,
	   s.created_at, last.occurred_at
FROM demo_shipments s
JOIN demo_steps last ON last.id = s.id AND last.last
JOIN freight.drivers d ON d.id = s.driver_id
CROSS JOIN LATERAL (
	SELECT (ARRAY['Hafenstrasse', 'Lindenallee', 'Am Markt', 'Bahnhofstrasse', 'Industrieweg', 'Gartenweg',
				  'Schulstrasse', 'Muehlenweg'])[1 + s.g % 8] || ' ' || (1 + s.g % 97) || ', '
		   || (ARRAY['20457 Hamburg', '10115 Berlin', '80331 Muenchen', '50667 Koeln', '60311 Frankfurt',
					 '70173 Stuttgart', '04109 Leipzig', '28195 Bremen'])[1 + (s.g * 3 + s.g / 8) % 8] AS origin,
		   (ARRAY['Kirchplatz', 'Rosenweg', 'Hauptstrasse', 'Feldstrasse', 'Am Hang', 'Ringstrasse', 'Uferweg'])[1 + s.g % 7]
		   || ' ' || (1 + (s.g * 13) % 150) || ', '
		   || (ARRAY['01067 Dresden', '30159 Hannover', '90402 Nuernberg', '44135 Dortmund', '24103 Kiel',
					 '99084 Erfurt', '18055 Rostock'])[1 + (s.g * 5 + s.g / 7) % 7] AS destination
) addr;

INSERT INTO freight.shipment_events (customer_id, shipment_id, status, occurred_at, location, note)
SELECT st.customer_id, st.id, st.status, st.occurred_at, st.location, st.note
FROM demo_steps st
ORDER BY st.id, st.n;

INSERT INTO freight.packages (customer_id, shipment_id, weight_kg, length_cm, width_cm, height_cm, description, created_at)
SELECT s.customer_id, s.id, round(s.weight_kg / (1 + s.g % 3), 2), 120, 80, 40 + (p * 10 + s.g) % 120,
	   (ARRAY['Pallet', 'Carton', 'Crate'])[1 + (s.g + p) % 3], s.created_at
FROM demo_shipments s
CROSS JOIN LATERAL generate_series(1, 1 + s.g % 3) p;

INSERT INTO freight.invoices (customer_id, shipment_id, amount, status, issued_at, due_date, paid_at, dispute_reason)
SELECT s.customer_id, s.id, round(25 + s.weight_kg * 0.42, 2), inv.status, i.issued_at,
	   (i.issued_at + interval '30 days')::date,
	   CASE WHEN inv.status = 'paid' THEN least(now(), i.issued_at + interval '9 days') END,
	   CASE WHEN inv.status = 'disputed' THEN 'Delivery was late' END
FROM demo_shipments s
CROSS JOIN LATERAL (SELECT s.created_at + interval '2 days' AS issued_at) i
CROSS JOIN LATERAL (SELECT CASE WHEN s.g % 20 = 0 THEN 'disputed'
								WHEN i.issued_at < now() - interval '30 days' OR s.g % 3 > 0 THEN 'paid'
								ELSE 'open' END AS status) inv
WHERE s.status = 'delivered';

COMMIT;
ANALYZE freight.customers, freight.drivers, freight.vehicles, freight.shipments, freight.shipment_events,
	freight.packages, freight.invoices;
