-- showcase.sql — what `make run` shows at the end: the platform working on the demo data.
-- Each feature appends a few queries under its own heading.
\pset footer off

-- ---- domain: shipments, tracking, encryption at rest, row-level security ----
\echo
\echo == Shipments by status
SELECT status, count(*) AS shipments FROM freight.shipments GROUP BY status
ORDER BY (SELECT position FROM freight.shipment_statuses s WHERE s.status = shipments.status);

SELECT tracking_number AS showcase_tn FROM freight.shipments WHERE status = 'in_transit' ORDER BY id LIMIT 1 \gset
\echo == Tracking :showcase_tn as staff (freight.track)
SELECT jsonb_pretty(freight.track(:'showcase_tn') - 'history') AS track;
\echo == ... and as an anonymous caller (public tracking: status and times only)
SET ROLE freight_anon;
SELECT t ->> 'status' AS status, jsonb_path_query_array(t, '$.history[*].status') AS history,
	   t ?| ARRAY['origin', 'destination'] AS shows_addresses
FROM api.track(:'showcase_tn') t;
RESET ROLE;

\echo == origin at rest is AES-256-GCM ciphertext; the decrypting view shows plaintext
SELECT s.tracking_number, substr(encode(s.origin, 'hex'), 1, 40) || '...' AS origin_at_rest, d.origin AS origin_decrypted
FROM freight.shipments s JOIN freight.shipments_decrypted d USING (id)
WHERE s.tracking_number = :'showcase_tn';

\echo == Row-level security: what customer 1 sees (request.jwt.claims = {"customer_id": 1})
SET ROLE freight_customer;
SELECT set_config('request.jwt.claims', '{"role": "freight_customer", "customer_id": 1}', false) IS NOT NULL AS claims_set \gset
SELECT (SELECT count(*) FROM api.shipments) AS visible_shipments,
	   (SELECT count(DISTINCT customer_id) FROM api.shipments) AS distinct_customers,
	   (SELECT count(*) FROM api.invoices) AS visible_invoices;
RESET ROLE;
RESET request.jwt.claims;

-- ---- HTTP API (freight-api, started by run.d/50_api.sh) ----
\echo
\echo == HTTP API: newest shipments of the pro demo customer with their packages, one SQL statement (PostgREST grammar)
\! . "$FREIGHT_HOME/demo.env" && curl -s -H "apikey: $FREIGHT_API_KEY_PRO" "$FREIGHT_API_URL/shipments?select=tracking_number,status,packages(weight_kg)&order=created_at.desc&limit=2"; echo
\echo == ... shipments of customer 1 by status, counted and weighed by PostgreSQL (aggregates in select=)
\! . "$FREIGHT_HOME/demo.env" && curl -s -H "Authorization: Bearer $FREIGHT_CUSTOMER_JWT" "$FREIGHT_API_URL/shipments?select=status,count(),weight_kg.sum()&order=status"; echo
\echo == ... public tracking for anyone, and the health check
\! . "$FREIGHT_HOME/demo.env" && tn=$(curl -s -H "Authorization: Bearer $FREIGHT_ADMIN_JWT" "$FREIGHT_API_URL/shipments?select=tracking_number&limit=1" -H 'Accept: text/csv' | tail -n 1) && curl -s "$FREIGHT_API_URL/rpc/track?tracking_number=$tn" | cut -c1-160; echo; curl -s "$FREIGHT_API_URL/health"; echo

-- ---- rate limits and the security-event feed ----
\echo
\echo == Rate limits by tier (decided in shared memory; state survives restarts)
SELECT tier, requests, "window", burst FROM freight.rate_limit_tiers ORDER BY requests;
SELECT c.tier, r."limit", r.remaining, r.allowed
FROM (SELECT DISTINCT ON (c.tier) k.prefix, c.tier FROM freight.api_keys k
	  JOIN freight.customers c ON c.id = k.customer_id WHERE k.revoked_at IS NULL
	  ORDER BY c.tier, k.id) c,
	 LATERAL freight.rate_limit(c.prefix) r;
\echo == A free key asking for 150 requests at once: 100 admitted
SELECT count(*) FILTER (WHERE a) AS admitted, count(*) FILTER (WHERE NOT a) AS denied
FROM (SELECT (freight.rate_limit('showcase:' || pg_backend_pid())).allowed AS a
	  FROM generate_series(1, 150)) d;
\echo == Security events (five failed logins from one address raise an alert)
SELECT count(*) AS recorded FROM (SELECT freight.log_security_event('auth_failure', NULL,
	'showcase-key', '198.51.100.23', '{"reason": "bad secret"}') FROM generate_series(1, 5)) s;
SELECT kind, severity, actor, client_addr, detail ->> 'rule' AS rule
FROM freight.security_events ORDER BY id DESC LIMIT 3;
SELECT line AS syslog FROM freight.security_events_syslog(0, 100000) ORDER BY id DESC LIMIT 1;

-- ---- routing ----
\echo
\echo == Routing: 200 stops around Berlin, one vehicle (freight.optimize_route; haversine, km)
WITH pts AS (SELECT i, 13.2 + ((i * 7919) % 1000) / 2500.0 AS lon, 52.4 + ((i * 104729) % 1000) / 4000.0 AS lat
			 FROM generate_series(1, 200) AS i),
a AS (SELECT array_agg(lon ORDER BY i) AS x, array_agg(lat ORDER BY i) AS y FROM pts)
SELECT round((freight.score_route(x, y, ARRAY(SELECT generate_series(1, 200)), '{"closed": true}') ->> 'distance')::numeric / 1000, 1) AS km_as_given,
	   round((freight.score_route(x, y, freight.optimize_route(x, y), '{"closed": true}') ->> 'distance')::numeric / 1000, 1) AS km_optimized
FROM a;
\echo == ... the same stops as parcels of 1-3 for vans carrying 120 (freight.plan_routes): stops per van
WITH pts AS (SELECT i, 13.2 + ((i * 7919) % 1000) / 2500.0 AS lon, 52.4 + ((i * 104729) % 1000) / 4000.0 AS lat
			 FROM generate_series(1, 200) AS i)
SELECT ordinality AS van, jsonb_array_length(r) AS stops
FROM jsonb_array_elements(freight.plan_routes(
		(SELECT 13.4 || array_agg(lon ORDER BY i) FROM pts), (SELECT 52.52 || array_agg(lat ORDER BY i) FROM pts),
		(SELECT 0 || array_agg(1 + i % 3 ORDER BY i)::float8[] FROM pts), 120)) WITH ORDINALITY AS t(r, ordinality);

-- ---- change-data capture: every committed change of the tracked tables as a CloudEvent ----
\echo
\echo == Change-data capture: the slot and the newest events (freight.cdc_status, freight.events)
SELECT active, pending_wal_bytes, last_event_id, last_capture_delay FROM freight.cdc_status;
SELECT type, count(*) AS events FROM freight.events GROUP BY type ORDER BY events DESC LIMIT 6;
\echo == The newest shipment event as a CloudEvent (freight.cloudevent; no addresses: they are ciphertext)
SELECT jsonb_pretty(freight.cloudevent(e)) AS cloudevent
FROM freight.events e WHERE e.source = '/freight/shipments' ORDER BY e.id DESC LIMIT 1;
\echo == Captured live: an UPDATE of driver 1 that changes nothing, and the event it became (phone and e-mail are ciphertext: never in events)
SELECT set_config('showcase.last_event', coalesce(max(id), 0)::text, false) AS showcase_last_event
FROM freight.events \gset
UPDATE freight.drivers SET active = active WHERE id = (SELECT min(id) FROM freight.drivers);
DO $$ BEGIN		-- the worker writes it a few milliseconds after the commit; wait up to 2 s
	FOR i IN 1..100 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM freight.events WHERE type = 'driver.updated'
						  AND id > current_setting('showcase.last_event')::bigint);
		PERFORM pg_sleep(0.02);
	END LOOP;
END $$;
SELECT e.type, e.subject, e.data, e.recorded_at - e.time AS capture_delay
FROM freight.events e WHERE e.type = 'driver.updated' AND e.id > :showcase_last_event ORDER BY e.id LIMIT 1;

-- ---- demand forecasting ----
\echo
\echo == Forecasting: shipment demand per region and hour, next 24 hours (freight.forecast_demand)
INSERT INTO freight.demand_alerts (region, threshold) VALUES ('Hamburg', 0.5) ON CONFLICT (region) DO NOTHING;
SELECT freight.forecast_demand(24) AS regions_forecast;
SELECT region, hour, round(point::numeric, 2) AS shipments, round(lower::numeric, 2) AS lower,
	   round(upper::numeric, 2) AS upper, model
FROM freight.demand_forecasts WHERE hour < date_trunc('hour', now()) + interval '2 hours'
ORDER BY region, hour LIMIT 6;
\echo == ... forecasts above a regional threshold become events (demand.high_predicted)
SELECT type, subject, data FROM freight.events WHERE type = 'demand.high_predicted' ORDER BY id DESC LIMIT 1;
\echo == ... and any series: four weeks of a noisy daily cycle, every 6th hour of the next day (freight.forecast)
SELECT step, round(point::numeric, 1) AS point, round(lower::numeric, 1) AS lower, round(upper::numeric, 1) AS upper
FROM freight.forecast(ARRAY(SELECT 100 + 30 * sin(2 * pi() * t / 24) + 5 * sin(t * 12.9898)
							FROM generate_series(0, 24 * 28 - 1) t), 24, 24)
WHERE step % 6 = 0;
\echo
\echo == Replicas streaming from this primary (FREIGHT_REPLICAS=1 make run starts one on port 5434; contrib/dba/freightctl)
SELECT application_name AS replica, state, sync_state,
	   pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) AS replay_behind, replay_lag
FROM pg_stat_replication ORDER BY 1;
\echo == ... the CDC slot state this primary publishes, which every replica copies so that capture survives a failover
SELECT published_restart_lsn, published_catalog_xmin, published_at, in_sync FROM freight.cdc_failover_status;

\echo == Planning a driver day: 20 stops, some with a time window (freight.plan_driver_day; rolled back)
BEGIN;
SELECT d.id AS showcase_driver FROM freight.drivers d JOIN freight.vehicles v ON v.id = d.vehicle_id
ORDER BY v.capacity_kg DESC, d.id LIMIT 1 \gset
CREATE TEMPORARY TABLE showcase_day ON COMMIT DROP AS
	SELECT s.id, s.tracking_number, row_number() OVER (ORDER BY s.id) AS k FROM freight.shipments s
	WHERE s.status = 'in_transit' ORDER BY s.weight_kg, s.id LIMIT 20;
UPDATE freight.shipments s SET driver_id = :showcase_driver, scheduled_date = CURRENT_DATE
FROM showcase_day d WHERE d.id = s.id;
SELECT count(freight.set_delivery_point(tracking_number, 9.90 + (k * 37 % 20) * 0.01, 53.50 + (k * 53 % 20) * 0.005,
		CASE WHEN k % 5 = 0 THEN time '09:00' END, CASE WHEN k % 5 = 0 THEN time '10:00' END)) AS delivery_points
FROM showcase_day;
SELECT p.seq, s.tracking_number, to_char(p.eta, 'HH24:MI') AS arrival,
	   CASE WHEN d.window_start IS NOT NULL THEN d.window_start || '-' || d.window_end END AS window
FROM freight.plan_driver_day(:showcase_driver, 9.99, 53.55) p
JOIN freight.shipments s ON s.id = p.shipment_id JOIN freight.delivery_points d ON d.shipment_id = p.shipment_id
ORDER BY p.seq LIMIT 8;
SELECT round((distance_m / 1000)::numeric, 1) AS planned_km, (SELECT count(*) FROM freight.route_plan_stops r
	WHERE r.driver_id = p.driver_id AND r.day = p.day) AS stops
FROM freight.route_plans p WHERE p.driver_id = :showcase_driver AND p.day = CURRENT_DATE;
ROLLBACK;

-- ---- webhooks (rolled back: nothing is sent from the demo) ----
\echo
\echo == Webhooks: a partner endpoint for shipment events, its secret, and a queued test message
BEGIN;
SELECT id AS showcase_ep, left(secret, 12) || '...' AS secret_shown_once
FROM freight.register_webhook('https://93.184.216.34/freight-hooks', '{shipment.*,invoice.disputed}') \gset
SELECT :showcase_ep AS endpoint, :'secret_shown_once' AS secret_shown_once,
	   (SELECT count(*) FROM freight.webhook_event_types WHERE type LIKE 'shipment.%') AS shipment_event_types;
SELECT webhook_id, status, jsonb_pretty(body::jsonb - 'data') AS cloudevent
FROM freight.send_webhook(:showcase_ep, 'webhook.test', '{"hello": "partner"}');
ROLLBACK;
\echo == ... and an attempt to aim a webhook at the cloud metadata address is refused
DO $$
BEGIN
	PERFORM freight.webhook_check_url('http://169.254.169.254/latest/meta-data');
EXCEPTION WHEN invalid_parameter_value THEN
	RAISE NOTICE '% (%)', SQLERRM, SQLSTATE;
END
$$;
