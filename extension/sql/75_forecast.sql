-- freight install script, part 75: demand forecasting (extension/forecast_*.c).
--
-- User-facing: freight.forecast (a numeric series in, forecasts with intervals out),
-- freight.forecast_model (which model it would use), freight.forecast_timeseries ((time, value)
-- pairs in, gaps filled, timestamped forecasts out), freight.forecast_demand (hourly shipment
-- demand per region, stored in freight.demand_forecasts), freight.demand_alerts (thresholds that
-- write demand.high_predicted events).

CREATE FUNCTION freight.forecast(vals float8[], horizon int, season int DEFAULT NULL,
								 method text DEFAULT 'auto', level float8 DEFAULT 0.95)
	RETURNS TABLE(step int, point float8, lower float8, upper float8)
	AS 'MODULE_PATHNAME', 'freight_forecast' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.forecast(float8[], int, int, text, float8) IS
	'Forecasts the next horizon values of a series with prediction intervals at level; season NULL = detect, 1 = none; '
	'method auto (holdout-weighted ensemble), naive, snaive, ses, holt, damped, hw_additive, hw_multiplicative, ets, '
	'theta, otheta, mseason';

CREATE FUNCTION freight.forecast_model(vals float8[], horizon int, season int DEFAULT NULL,
									   method text DEFAULT 'auto', level float8 DEFAULT 0.95)
	RETURNS text
	AS 'MODULE_PATHNAME', 'freight_forecast_model' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.forecast_model(float8[], int, int, text, float8) IS
	'The model (or ensemble weights) and season freight.forecast uses for these arguments';

-- (time, value) pairs → a regular series: values are summed per bucket (date_bin from
-- 2000-01-01), and buckets without values (or with only NULL values) are filled by `fill`:
-- zero (counts), previous (last known value) or linear (interpolation); leading or trailing
-- buckets that previous/linear cannot fill are dropped.  last_bucket is the start of the last
-- bucket of the series.
CREATE FUNCTION freight.regular_series(times timestamptz[], vals float8[], bucket interval,
									   fill text DEFAULT 'zero',
									   OUT last_bucket timestamptz, OUT series float8[])
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	first_bucket timestamptz;
	lo int;
	hi int;
BEGIN
	IF times IS NULL OR vals IS NULL OR bucket IS NULL OR fill IS NULL THEN
		RAISE EXCEPTION 'times, vals, bucket and fill must not be null' USING ERRCODE = '22004';
	END IF;
	IF cardinality(times) <> cardinality(vals) THEN
		RAISE EXCEPTION 'times and vals must have the same length'
			USING ERRCODE = '2202E',
				  DETAIL = format('times has %s elements, vals has %s.', cardinality(times), cardinality(vals));
	END IF;
	IF array_position(times, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'times contains a null at position %', array_position(times, NULL) USING ERRCODE = '22004';
	END IF;
	IF bucket <= interval '0' OR extract(month FROM bucket) <> 0 OR extract(year FROM bucket) <> 0 THEN
		RAISE EXCEPTION 'bucket must be a positive interval without months or years'
			USING ERRCODE = '22023', DETAIL = format('The bucket was %s.', bucket);
	END IF;
	IF fill NOT IN ('zero', 'previous', 'linear') THEN
		RAISE EXCEPTION 'unknown fill "%"', fill USING ERRCODE = '22023', HINT = 'Use zero, previous or linear.';
	END IF;

	SELECT min(b), max(b) INTO first_bucket, last_bucket
	FROM unnest(times) AS t, LATERAL date_bin(bucket, t, timestamptz '2000-01-01 00:00+00') AS b;
	IF first_bucket IS NULL THEN
		series := '{}';
		RETURN;
	END IF;
	IF extract(epoch FROM last_bucket - first_bucket) / extract(epoch FROM bucket) > 10000000 THEN
		RAISE EXCEPTION 'too many buckets' USING ERRCODE = '54000',
			DETAIL = format('%s to %s in steps of %s is more than 10000000 buckets.', first_bucket, last_bucket, bucket);
	END IF;

	WITH grid AS (
		SELECT g.b, sum(u.v) AS v, count(u.v) AS n
		FROM generate_series(first_bucket, last_bucket, bucket) AS g(b)
		LEFT JOIN (SELECT date_bin(bucket, x.t, timestamptz '2000-01-01 00:00+00') AS b, x.v
				   FROM unnest(times, vals) AS x(t, v)) u ON u.b = g.b
		GROUP BY g.b
	), marked AS (
		SELECT b, CASE WHEN n > 0 THEN v END AS v, row_number() OVER (ORDER BY b) AS i,
			   count(CASE WHEN n > 0 THEN 1 END) OVER (ORDER BY b) AS grp
		FROM grid
	), neighbours AS (
		SELECT m.*, first_value(v) OVER (PARTITION BY grp ORDER BY b) AS prev_v,
			   min(i) OVER (PARTITION BY grp) AS prev_i
		FROM marked m
	), filled AS (
		SELECT nb.b, coalesce(nb.v, CASE fill
			WHEN 'zero' THEN 0
			WHEN 'previous' THEN nb.prev_v
			ELSE nb.prev_v + (nx.v - nb.prev_v) * (nb.i - nb.prev_i) / (nx.i - nb.prev_i)
		END) AS v
		FROM neighbours nb
		LEFT JOIN LATERAL (SELECT m2.v, m2.i FROM marked m2 WHERE m2.i > nb.i AND m2.v IS NOT NULL
						   ORDER BY m2.i LIMIT 1) nx ON nb.v IS NULL AND fill = 'linear'
	)
	SELECT array_agg(v ORDER BY b) INTO series FROM filled;

	SELECT min(i), max(i) INTO lo, hi FROM unnest(series) WITH ORDINALITY AS s(v, i) WHERE v IS NOT NULL;
	IF lo IS NULL THEN
		series := '{}';
	ELSE
		last_bucket := first_bucket + (hi - 1) * bucket;
		series := series[lo:hi];
	END IF;
END
$$;
COMMENT ON FUNCTION freight.regular_series(timestamptz[], float8[], interval, text) IS
	'(time, value) pairs as a regular series: summed per bucket, gaps filled (zero, previous or linear); '
	'last_bucket = start of the last bucket';

CREATE FUNCTION freight.forecast_timeseries(times timestamptz[], vals float8[], bucket interval,
											horizon int, season int DEFAULT NULL,
											method text DEFAULT 'auto', level float8 DEFAULT 0.95,
											fill text DEFAULT 'zero')
	RETURNS TABLE(step int, at timestamptz, point float8, lower float8, upper float8)
	LANGUAGE sql STABLE PARALLEL SAFE
	BEGIN ATOMIC
		SELECT f.step, r.last_bucket + f.step * bucket, f.point, f.lower, f.upper
		FROM freight.regular_series(times, vals, bucket, fill) r,
			 LATERAL freight.forecast(r.series, horizon, season, method, level) f;
	END;
COMMENT ON FUNCTION freight.forecast_timeseries(timestamptz[], float8[], interval, int, int, text, float8, text) IS
	'Forecasts a series given as (time, value) pairs (freight.regular_series, then freight.forecast); '
	'at = the start of each forecast bucket';

-- ---------------------------------------------------------------------------------------------
-- Hourly shipment demand per region, stored, with alert thresholds
-- ---------------------------------------------------------------------------------------------

-- The region of a shipment is the town of its origin address (the words after the postcode at
-- its end, "Hafenstrasse 5, 20457 Hamburg" → Hamburg), or 'unknown'.
CREATE FUNCTION freight.address_region(address text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT coalesce(pg_catalog.substring(address, '[0-9]{4,5}\s+([^,0-9]+?)\s*$'), 'unknown') $$;
COMMENT ON FUNCTION freight.address_region(text) IS
	'Region of an address for demand forecasts: the town after the postcode at its end, else unknown';

CREATE TABLE freight.demand_forecasts (
	region		text NOT NULL,
	hour		timestamptz NOT NULL,
	point		float8 NOT NULL,
	lower		float8 NOT NULL,
	upper		float8 NOT NULL,
	model		text NOT NULL,
	made_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (region, hour)
);
COMMENT ON TABLE freight.demand_forecasts IS
	'Forecast shipments created per hour and region (point, prediction interval), written by freight.forecast_demand; '
	'a newer forecast of the same hour replaces the older one';
GRANT SELECT ON freight.demand_forecasts TO freight_admin, freight_app;

CREATE TABLE freight.demand_alerts (
	region		text PRIMARY KEY,
	threshold	float8 NOT NULL CHECK (threshold > 0 AND threshold < 'Infinity'),
	last_alerted_hour timestamptz	-- first hour above the threshold of the last event written
);
COMMENT ON TABLE freight.demand_alerts IS
	'Demand thresholds (shipments per hour) per region; a stored forecast above one writes a demand.high_predicted event';
GRANT SELECT ON freight.demand_alerts TO freight_admin, freight_app;
GRANT INSERT, UPDATE, DELETE ON freight.demand_alerts TO freight_admin;
SELECT pg_catalog.pg_extension_config_dump('freight.demand_forecasts', '');
SELECT pg_catalog.pg_extension_config_dump('freight.demand_alerts', '');

-- Writes one demand.high_predicted event per region whose stored forecast crosses its threshold,
-- unless an event for the same first crossing hour was already written.  Returns the events.
CREATE FUNCTION freight.check_demand_alerts() RETURNS bigint
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	written bigint := 0;
BEGIN
	PERFORM 1 FROM freight.demand_alerts FOR UPDATE;	-- one checker at a time
	FOR r IN
		SELECT a.region, a.threshold, min(f.hour) AS first_hour, count(*) AS hours_above,
			   (array_agg(f.hour ORDER BY f.point DESC, f.hour))[1] AS peak_hour, max(f.point) AS peak
		FROM freight.demand_alerts a
		JOIN freight.demand_forecasts f ON f.region = a.region AND f.point > a.threshold AND f.hour >= now()
		GROUP BY a.region, a.threshold, a.last_alerted_hour
		HAVING a.last_alerted_hour IS DISTINCT FROM min(f.hour)
		ORDER BY a.region
	LOOP
		PERFORM freight.emit_event('/freight/forecast', 'demand.high_predicted', r.region,
			json_build_object('region', r.region, 'threshold', r.threshold, 'first_hour', r.first_hour,
							  'peak_hour', r.peak_hour, 'peak', round(r.peak::numeric, 2),
							  'hours_above', r.hours_above));
		UPDATE freight.demand_alerts SET last_alerted_hour = r.first_hour WHERE region = r.region;
		written := written + 1;
	END LOOP;
	RETURN written;
END
$$;
REVOKE ALL ON FUNCTION freight.check_demand_alerts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.check_demand_alerts() TO freight_admin;
COMMENT ON FUNCTION freight.check_demand_alerts() IS
	'Writes a demand.high_predicted event for each region whose stored future forecast exceeds its threshold '
	'(once per first crossing hour); returns how many were written';

-- Counts shipments created per hour and region over `history` before the current hour (empty
-- hours count 0), forecasts the next `horizon` hours per region (daily and weekly seasonality
-- are detected), stores them in freight.demand_forecasts (dropping hours older than the
-- history window) and checks the alerts.  Needs the
-- decrypt grant (regions come from origin addresses).  Returns the number of regions.
CREATE FUNCTION freight.forecast_demand(horizon int DEFAULT 48, history interval DEFAULT '28 days',
										level float8 DEFAULT 0.95) RETURNS int
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	window_end timestamptz := date_trunc('hour', now());
	window_start timestamptz;
	regions int := 0;
	r record;
BEGIN
	IF horizon IS NULL OR horizon < 1 OR horizon > 24 * 366 THEN
		RAISE EXCEPTION 'horizon must be between 1 and 8784 hours' USING ERRCODE = '22003',
			DETAIL = format('The horizon was %s.', horizon);
	END IF;
	IF history IS NULL OR history < interval '1 day' OR history > interval '3 years' THEN
		RAISE EXCEPTION 'history must be between 1 day and 3 years' USING ERRCODE = '22003',
			DETAIL = format('The history was %s.', history);
	END IF;
	window_start := window_end - history;
	FOR r IN
		-- zero counts at both ends of the window make every region's series span all of it
		SELECT g.region, rs.last_bucket, rs.series,
			   freight.forecast_model(rs.series, horizon, 24, 'auto', level) AS model
		FROM (SELECT freight.address_region(s.origin) AS region,
					 array_agg(s.created_at) || ARRAY[window_start, window_end - interval '1 hour'] AS times,
					 array_agg(1::float8) || ARRAY[0::float8, 0::float8] AS ones
			  FROM freight.shipments_decrypted s
			  WHERE s.created_at >= window_start AND s.created_at < window_end
			  GROUP BY 1) g,
			 LATERAL freight.regular_series(g.times, g.ones, interval '1 hour') rs
		ORDER BY g.region
	LOOP
		INSERT INTO freight.demand_forecasts AS d (region, hour, point, lower, upper, model)
		SELECT r.region, r.last_bucket + f.step * interval '1 hour', greatest(f.point, 0),
			   greatest(f.lower, 0), greatest(f.upper, 0), r.model
		FROM freight.forecast(r.series, horizon, 24, 'auto', level) f
		ON CONFLICT (region, hour) DO UPDATE
			SET point = excluded.point, lower = excluded.lower, upper = excluded.upper,
				model = excluded.model, made_at = excluded.made_at;
		regions := regions + 1;
	END LOOP;
	-- forecasts of hours that have left the history window are of no further use
	DELETE FROM freight.demand_forecasts WHERE hour < window_start;
	PERFORM freight.check_demand_alerts();
	RETURN regions;
END
$$;
REVOKE ALL ON FUNCTION freight.forecast_demand(int, interval, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION freight.forecast_demand(int, interval, float8) TO freight_admin;
COMMENT ON FUNCTION freight.forecast_demand(int, interval, float8) IS
	'Forecasts shipments created per hour for each origin region over the next horizon hours from the last history, '
	'stores them in freight.demand_forecasts and checks freight.demand_alerts; returns the number of regions';

-- ---------------------------------------------------------------------------------------------
-- HTTP API (schema api): POST /api/rpc/forecast, GET /api/demand_forecasts
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION api.forecast(vals float8[], horizon int, season int DEFAULT NULL,
							 method text DEFAULT 'auto', level float8 DEFAULT 0.95)
	RETURNS TABLE(step int, point float8, lower float8, upper float8)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT f.step, f.point, f.lower, f.upper FROM freight.forecast(vals, horizon, season, method, level) f $$;
REVOKE EXECUTE ON FUNCTION api.forecast(float8[], int, int, text, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.forecast(float8[], int, int, text, float8) TO freight_app;
COMMENT ON FUNCTION api.forecast(float8[], int, int, text, float8) IS
	'freight.forecast for API clients (staff): forecasts of a series with prediction intervals';

CREATE VIEW api.demand_forecasts WITH (security_invoker = true) AS
	SELECT d.region, d.hour, d.point, d.lower, d.upper, d.model, d.made_at FROM freight.demand_forecasts d;
GRANT SELECT ON api.demand_forecasts TO freight_app;
COMMENT ON VIEW api.demand_forecasts IS 'Stored hourly shipment-demand forecasts per region (staff)';
