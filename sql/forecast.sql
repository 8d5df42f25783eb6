-- forecasting: freight.forecast and its methods, season detection, intervals, gap filling,
-- stored per-region demand forecasts with alerts, and bad input.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS freight CASCADE;
SET extra_float_digits = 0;
SET timezone = 'UTC';

-- A daily pattern (period 24) with a weekly bump, a slow trend and deterministic noise.
CREATE TEMP TABLE hourly AS
SELECT array_agg(100 + 0.005 * t + 30 * sin(2 * pi() * t / 24) + 10 * (t % 168 < 24)::int
				 + 3 * sin(t * 12.9898) ORDER BY t) AS y
FROM generate_series(0, 24 * 7 * 5 - 1) AS t;

-- seasonal naive repeats the last day exactly; intervals are symmetric and widen every season
SELECT f.step, round(f.point::numeric, 6) = round(h.y[cardinality(h.y) - 24 + (f.step - 1) % 24 + 1]::numeric, 6) AS repeats_last_day,
	   round((f.upper - f.point - (f.point - f.lower))::numeric, 9) AS asymmetry
FROM hourly h, freight.forecast(h.y, 48, 24, 'snaive') f
WHERE f.step IN (1, 24, 25, 48) ORDER BY f.step;
SELECT (SELECT upper - lower FROM freight.forecast(h.y, 48, 24, 'snaive') WHERE step = 25) >
	   (SELECT upper - lower FROM freight.forecast(h.y, 48, 24, 'snaive') WHERE step = 24) AS widens_after_a_season
FROM hourly h;

-- auto: much more accurate than a seasonal naive here (the next day has the weekly bump),
-- intervals contain the point, and most of the truth of the next two days lies inside them
CREATE TEMP TABLE truth AS
SELECT t - 24 * 7 * 5 + 1 AS step,
	   100 + 0.005 * t + 30 * sin(2 * pi() * t / 24) + 10 * (t % 168 < 24)::int + 3 * sin(t * 12.9898) AS y
FROM generate_series(24 * 7 * 5, 24 * 7 * 5 + 47) AS t;
SELECT m.method, count(*) AS steps, avg(abs(f.point - truth.y)) < 5 AS mae_below_5,
	   bool_and(f.lower < f.point AND f.point < f.upper) AS ordered,
	   count(*) FILTER (WHERE truth.y BETWEEN f.lower AND f.upper) >= 40 AS covered
FROM hourly h, unnest(ARRAY['auto', 'snaive']) m(method),
	 LATERAL freight.forecast(h.y, 48, 24, m.method) f JOIN truth USING (step)
GROUP BY m.method ORDER BY m.method;
SELECT freight.forecast_model(y, 48, 24) ~ '^ensemble\(.*\), seasons 24\+168$' AS auto_24_168,
	   freight.forecast_model(y, 48, 24, 'mseason') AS mseason
FROM hourly;

-- every method answers with finite, ordered rows
SELECT m.method, count(*) AS steps,
	   bool_and(f.lower <= f.point AND f.point <= f.upper AND f.upper - f.lower < 'Infinity') AS ordered_finite
FROM hourly h,
	 unnest(ARRAY['auto', 'ensemble', 'naive', 'snaive', 'ses', 'holt', 'damped', 'hw_additive',
				  'hw_multiplicative', 'ets', 'theta', 'otheta', 'mseason']) AS m(method),
	 LATERAL freight.forecast(h.y[1:24 * 14], 12, 24, m.method) f
GROUP BY m.method ORDER BY m.method;
SELECT freight.forecast_model(y[1:24 * 14], 12, 24, 'ets') ~ '^ETS\([AM],[NA]d?,[NAM]\)(, season 24)?$' AS ets_model
FROM hourly;

-- a higher level gives wider intervals
SELECT (SELECT upper - lower FROM freight.forecast(y, 1, 24, 'ses', 0.99)) >
	   (SELECT upper - lower FROM freight.forecast(y, 1, 24, 'ses', 0.80)) AS wider_at_99
FROM hourly;

-- season NULL detects the period (7 here); season 1 means none
SELECT freight.forecast_model(array_agg(50 + 20 * (t % 7 = 0)::int + (t % 3)::float8 ORDER BY t), 7) ~ 'season 7$' AS detected_7,
	   freight.forecast_model(array_agg(50 + 20 * (t % 7 = 0)::int + (t % 3)::float8 ORDER BY t), 7, 1, 'ses') AS none
FROM generate_series(1, 140) t;

-- Theta reproduces a straight line; SES of a constant series is that constant with no spread
SELECT step, round(point::numeric, 3) AS point FROM freight.forecast(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]::float8[], 3, 1, 'theta');
SELECT step, point, lower, upper FROM freight.forecast(array_fill(7::float8, ARRAY[30]), 2);
SELECT step, point, lower, upper FROM freight.forecast(array_fill(0::float8, ARRAY[30]), 2, NULL, 'hw_multiplicative');
-- huge and tiny magnitudes do not overflow
SELECT bool_and(point > 0 AND upper < 'Infinity' AND lower > '-Infinity') AS finite
FROM freight.forecast(ARRAY[1e300, 2e300, 1.5e300, 3e300, 2.5e300]::float8[], 3);
SELECT bool_and(point > 0 AND point < 1e-290) AS tiny FROM freight.forecast(ARRAY[1e-300, 2e-300, 1.5e-300, 3e-300]::float8[], 2, 1, 'naive');

-- bad input: a clear error each, nothing returned
SELECT * FROM freight.forecast(NULL, 3);
SELECT * FROM freight.forecast(ARRAY[1, 2]::float8[], NULL);
SELECT * FROM freight.forecast(ARRAY[]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[1, 2]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[1, NULL, 3, 4]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[1, 'NaN', 3, 4]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[1, 2, '-Infinity', 4]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[[1, 2], [3, 4]]::float8[], 3);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 0);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], -5);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 10001);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, 0);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, 5);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4, 5, 6]::float8[], 3, 4, 'hw_additive');
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, NULL, 'prophet');
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, NULL, 'auto', 1);
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, NULL, 'auto', 'NaN');
SELECT * FROM freight.forecast(ARRAY[1, 2, 3, 4]::float8[], 3, NULL, NULL);
-- a long search stops at statement_timeout (the optimiser checks for interrupts): fitting
-- every ETS model to three million values takes over a minute, the timeout stops it at once
CREATE TEMP TABLE long_series AS SELECT array_agg(100 + 10 * sin(t / 3.7) + (t % 11)) AS y
FROM generate_series(1, 3000000) t;
SET statement_timeout = '1s';
SELECT count(*) FROM long_series, freight.forecast(y, 10, 24, 'ets');
RESET statement_timeout;

-- (time, value) pairs: summed per bucket, gaps filled
SELECT r.last_bucket, r.series FROM freight.regular_series(
	ARRAY['2026-01-01 00:10', '2026-01-01 00:50', '2026-01-01 03:05', '2026-01-01 04:00']::timestamptz[],
	ARRAY[1, 2, 9, 4]::float8[], '1 hour') r;
SELECT f.fill, r.series FROM unnest(ARRAY['zero', 'previous', 'linear']) AS f(fill),
	LATERAL freight.regular_series(
		ARRAY['2026-01-01 00:00', '2026-01-01 01:00', '2026-01-01 04:00', '2026-01-01 05:00', '2026-01-01 06:00']::timestamptz[],
		ARRAY[NULL, 2, 8, NULL, NULL]::float8[], '1 hour', f.fill) r;
SELECT step, at, point FROM freight.forecast_timeseries(
	ARRAY['2026-01-01 00:00', '2026-01-01 02:00', '2026-01-01 03:00']::timestamptz[], ARRAY[5, 5, 5]::float8[],
	'1 hour', 2, 1, 'naive');
SELECT * FROM freight.regular_series(ARRAY['2026-01-01']::timestamptz[], ARRAY[1, 2]::float8[], '1 hour');
SELECT * FROM freight.regular_series(ARRAY[NULL]::timestamptz[], ARRAY[1]::float8[], '1 hour');
SELECT * FROM freight.regular_series(ARRAY['2026-01-01']::timestamptz[], ARRAY[1]::float8[], '1 month');
SELECT * FROM freight.regular_series(ARRAY['2026-01-01']::timestamptz[], ARRAY[1]::float8[], '1 hour', 'spline');
SELECT * FROM freight.regular_series(ARRAY['2000-01-01', '2026-01-01']::timestamptz[], ARRAY[1, 1]::float8[], '1 second');
SELECT * FROM freight.forecast_timeseries(ARRAY['2026-01-01']::timestamptz[], ARRAY[NULL]::float8[], '1 hour', 3);

-- demand per region: four weeks of shipments in Hamburg (busy every day 08-12) and Berlin, in a
-- database of its own so the other tests' tables, events and counts stay untouched
CREATE DATABASE forecast_demand_test;
\c forecast_demand_test
SET client_min_messages = warning;
CREATE EXTENSION freight CASCADE;
SET extra_float_digits = 0;
SET timezone = 'UTC';
SELECT id AS cust FROM freight.create_customer('Forecast Test GmbH', 'pro') \gset
BEGIN;	-- one now() for the data, the forecasts and the checks
INSERT INTO freight.shipments (id, customer_id, tracking_number, origin, destination, weight_kg, created_at)
SELECT id, :cust, freight.new_tracking_number(),
	   freight.encrypt(origin, freight.encryption_context('freight.shipments', 'origin', id)),
	   freight.encrypt('Rosenweg 1, 01067 Dresden', freight.encryption_context('freight.shipments', 'destination', id)),
	   10, at
FROM (SELECT nextval('freight.shipments_id_seq') AS id, x.origin, x.at
	  FROM (SELECT 'Hafenstrasse 5, 20457 Hamburg' AS origin, date_trunc('hour', now()) - h * interval '1 hour' + interval '10 minutes' AS at
			FROM generate_series(1, 24 * 28) h, generate_series(1, 3) k
			WHERE extract(hour FROM date_trunc('hour', now()) - h * interval '1 hour') BETWEEN 8 AND 12 OR k = 1
			UNION ALL
			SELECT 'Am Markt 1, 10115 Berlin', date_trunc('hour', now()) - h * interval '1 hour'
			FROM generate_series(1, 24 * 28, 5) h) x) s;
SELECT freight.address_region('Hafenstrasse 5, 20457 Hamburg') AS region, freight.address_region('somewhere') AS unknown;
INSERT INTO freight.demand_alerts (region, threshold) VALUES ('Hamburg', 2.5), ('Berlin', 50);
-- an ops endpoint subscribed to every event gets the demand events queued for delivery
SELECT id AS ops_hook FROM freight.register_webhook('https://93.184.216.34/hooks/ops', '{*}') \gset
SELECT freight.forecast_demand(48);
SELECT region, count(*) AS hours, min(hour) = date_trunc('hour', now()) AS starts_now,
	   bool_and(lower <= point AND point <= upper AND lower >= 0) AS ordered
FROM freight.demand_forecasts GROUP BY region ORDER BY region;
-- Hamburg's forecast is busy exactly in its busy hours
SELECT bool_and((point > 2) = (extract(hour FROM hour) BETWEEN 8 AND 12)) AS busy_hours_found
FROM freight.demand_forecasts WHERE region = 'Hamburg';
SELECT type, subject, data->>'region' AS region, (data->>'threshold')::float8 AS threshold,
	   (data->>'hours_above')::int >= 5 AS several_hours
FROM freight.events WHERE type = 'demand.high_predicted';
SELECT count(*) AS queued_for_ops FROM freight.webhook_deliveries d JOIN freight.events e ON e.id = d.event_id
WHERE d.endpoint_id = :ops_hook AND e.type = 'demand.high_predicted';
-- running again replaces the forecast, drops hours older than the history and does not repeat
-- the alert
INSERT INTO freight.demand_forecasts (region, hour, point, lower, upper, model)
VALUES ('Nowhere', now() - interval '40 days', 1, 0, 2, 'stale');
SELECT freight.forecast_demand(48);
SELECT count(*) AS stored FROM freight.demand_forecasts;
SELECT count(*) AS alerts FROM freight.events WHERE type = 'demand.high_predicted';
COMMIT;
-- the same through the API schema, for staff only
SET ROLE freight_app;
SELECT count(*) AS api_rows FROM api.demand_forecasts;
SELECT step, point FROM api.forecast(ARRAY[1, 2, 3, 4, 5]::float8[], 2, 1, 'naive');
SET ROLE freight_anon;
SELECT * FROM api.forecast(ARRAY[1, 2, 3, 4, 5]::float8[], 2);
SELECT count(*) FROM api.demand_forecasts;
RESET ROLE;
SELECT freight.forecast_demand(0);
SELECT freight.forecast_demand(48, '1 hour');
INSERT INTO freight.demand_alerts (region, threshold) VALUES ('Kiel', -1);
\c contrib_regression
DROP DATABASE forecast_demand_test;
