-- freight install script, part 70: route scoring and optimisation (extension/route_*.c).
--
-- User-facing: freight.route_distance, freight.optimize_route (coordinates or cost matrix),
-- freight.plan_routes (coordinates or cost matrix), freight.score_route, the table
-- freight.traffic_factors.  The freight.route_*_c functions are the C entry points; the wrappers
-- read the options jsonb, reject unknown options and fill in the defaults.

-- Travel-time multipliers by hour of the day (1.0 = free flow): score_route's speed profile.
-- Built in: 1.4 at 07-08 h, 1.1 at 09-15 h, 1.35 at 16-18 h, 1.0 otherwise; rows of
-- freight.traffic_factors override single hours.  The table starts empty and holds only what
-- users set, so pg_dump/restore carries it like any other data.
CREATE TABLE freight.traffic_factors (
	hour int PRIMARY KEY CHECK (hour BETWEEN 0 AND 23),
	factor float8 NOT NULL CHECK (factor > 0 AND factor <= 10)
);
COMMENT ON TABLE freight.traffic_factors IS
	'Travel-time multiplier per hour of day (1.5 = legs take 50% longer), overriding the built-in profile of freight.traffic_profile()';
GRANT SELECT ON freight.traffic_factors TO freight_admin, freight_app, freight_driver;
GRANT INSERT, UPDATE, DELETE ON freight.traffic_factors TO freight_admin;
SELECT pg_catalog.pg_extension_config_dump('freight.traffic_factors', '');

CREATE FUNCTION freight.traffic_profile() RETURNS float8[]
	LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.array_agg(COALESCE(t.factor,
			CASE WHEN h IN (7, 8) THEN 1.4 WHEN h BETWEEN 16 AND 18 THEN 1.35
				 WHEN h BETWEEN 9 AND 15 THEN 1.1 ELSE 1.0 END) ORDER BY h)
	FROM pg_catalog.generate_series(0, 23) AS h LEFT JOIN freight.traffic_factors t ON t.hour = h
$$;
COMMENT ON FUNCTION freight.traffic_profile() IS
	'The 24 travel-time factors score_route uses (hour 0 first): freight.traffic_factors over the built-in profile';

CREATE FUNCTION freight.route_distance(x1 float8, y1 float8, x2 float8, y2 float8,
									   metric text DEFAULT 'haversine') RETURNS float8
	AS 'MODULE_PATHNAME', 'freight_route_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION freight.route_distance(float8, float8, float8, float8, text) IS
	'Distance between two points: haversine (x = longitude, y = latitude, metres), euclidean or euc2d (TSPLIB rounding)';

CREATE FUNCTION freight.route_tsp_c(x float8[], y float8[], cost float8[], metric text,
									closed boolean, start int, "end" int, time_budget_ms int,
									max_iterations bigint, seed bigint, tw_open float8[],
									tw_close float8[], service float8[], speed float8) RETURNS int[]
	AS 'MODULE_PATHNAME', 'freight_route_tsp' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION freight.route_tsp_c(float8[], float8[], float8[], text, boolean, int, int, int, bigint, bigint, float8[], float8[], float8[], float8) IS
	'Internal: the C entry point of optimize_route';

CREATE FUNCTION freight.route_vrp_c(x float8[], y float8[], cost float8[], metric text,
									demand float8[], capacity float8, tw_open float8[],
									tw_close float8[], service float8[], speed float8, vehicles int,
									vehicle_cost float8, time_budget_ms int, max_iterations bigint,
									seed bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'freight_route_vrp' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION freight.route_vrp_c(float8[], float8[], float8[], text, float8[], float8, float8[], float8[], float8[], float8, int, float8, int, bigint, bigint) IS
	'Internal: the C entry point of plan_routes';

CREATE FUNCTION freight.route_score_c(x float8[], y float8[], cost float8[], metric text,
									  route int[], closed boolean, start_time float8, speed float8,
									  traffic float8[], service float8[], tw_open float8[],
									  tw_close float8[], demand float8[], capacity float8,
									  weights float8[]) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'freight_route_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION freight.route_score_c(float8[], float8[], float8[], text, int[], boolean, float8, float8, float8[], float8[], float8[], float8[], float8[], float8, float8[]) IS
	'Internal: the C entry point of score_route';

-- Options: a JSON object with known keys only.
CREATE FUNCTION freight.route_check_options(options jsonb, known text[]) RETURNS void
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	k text;
BEGIN
	IF pg_catalog.jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = pg_catalog.format('Got a JSON %s.', pg_catalog.jsonb_typeof(options));
	END IF;
	FOR k IN SELECT pg_catalog.jsonb_object_keys(options) LOOP
		IF NOT k = ANY (known) THEN
			RAISE EXCEPTION 'unknown option "%"', k USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Known options: ' || pg_catalog.array_to_string(known, ', ') || '.';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION freight.route_check_options(jsonb, text[]) IS
	'Raises invalid_parameter_value unless options is a JSON object whose keys are all known';

-- A JSON array of numbers as float8[] (NULL when the key is absent).
CREATE FUNCTION freight.route_option_array(options jsonb, key text) RETURNS float8[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN options ? key THEN
		ARRAY(SELECT (e.value #>> '{}')::float8
			  FROM pg_catalog.jsonb_array_elements(options -> key) WITH ORDINALITY AS e
			  ORDER BY e.ordinality) END
$$;
COMMENT ON FUNCTION freight.route_option_array(jsonb, text) IS
	'options->key (a JSON array of numbers) as float8[], NULL if absent';

-- Opening (bound 0) or closing (bound 1) times of "time_windows": [[open, close], ...].
CREATE FUNCTION freight.route_window_bound(options jsonb, bound int) RETURNS float8[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN options ? 'time_windows' THEN
		ARRAY(SELECT (w.value ->> bound)::float8
			  FROM pg_catalog.jsonb_array_elements(options -> 'time_windows') WITH ORDINALITY AS w
			  ORDER BY w.ordinality) END
$$;
COMMENT ON FUNCTION freight.route_window_bound(jsonb, int) IS
	'Opening (0) or closing (1) times of the time_windows option as float8[]';

-- Default speed: 13.89 m/s (50 km/h) with haversine, so times are seconds; 1 otherwise.
CREATE FUNCTION freight.route_speed(options jsonb) RETURNS float8
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT COALESCE((options ->> 'speed')::float8,
					CASE WHEN COALESCE(options ->> 'metric', 'haversine') = 'haversine'
						 THEN 50000.0 / 3600.0 ELSE 1.0 END)
$$;
COMMENT ON FUNCTION freight.route_speed(jsonb) IS
	'The speed option, or its default: 50 km/h in m/s with haversine, else 1 distance unit per time unit';

CREATE FUNCTION freight.optimize_route_options(x float8[], y float8[], cost float8[],
											   options jsonb) RETURNS int[]
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
BEGIN
	PERFORM freight.route_check_options(options, ARRAY['metric', 'closed', 'start', 'end',
		'time_budget_ms', 'max_iterations', 'seed', 'time_windows', 'service_times', 'speed']);
	RETURN freight.route_tsp_c(x, y, cost, COALESCE(options ->> 'metric', 'haversine'),
		COALESCE((options ->> 'closed')::boolean, true),
		CASE WHEN options ? 'start' THEN (options ->> 'start')::int ELSE 1 END,
		(options ->> 'end')::int,
		COALESCE((options ->> 'time_budget_ms')::int, 1000),
		(options ->> 'max_iterations')::bigint,
		COALESCE((options ->> 'seed')::bigint, 1),
		freight.route_window_bound(options, 0), freight.route_window_bound(options, 1),
		freight.route_option_array(options, 'service_times'), freight.route_speed(options));
END
$$;
COMMENT ON FUNCTION freight.optimize_route_options(float8[], float8[], float8[], jsonb) IS
	'Internal: optimize_route after reading its options';

CREATE FUNCTION freight.optimize_route(x float8[], y float8[], options jsonb DEFAULT '{}')
	RETURNS int[] LANGUAGE sql VOLATILE STRICT PARALLEL SAFE AS $$
	SELECT freight.optimize_route_options(x, y, NULL, options)
$$;
COMMENT ON FUNCTION freight.optimize_route(float8[], float8[], jsonb) IS
	'Visiting order (1-based) of stops at (x, y) for one vehicle; options: metric, closed, start, end, time_budget_ms, max_iterations, seed, time_windows, service_times, speed';

CREATE FUNCTION freight.optimize_route(cost float8[], options jsonb DEFAULT '{}')
	RETURNS int[] LANGUAGE sql VOLATILE STRICT PARALLEL SAFE AS $$
	SELECT freight.optimize_route_options(NULL, NULL, cost, options)
$$;
COMMENT ON FUNCTION freight.optimize_route(float8[], jsonb) IS
	'Visiting order (1-based) for one vehicle over a square cost matrix (row = from, column = to)';

CREATE FUNCTION freight.plan_routes_options(x float8[], y float8[], cost float8[], demand float8[],
											capacity float8, options jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
BEGIN
	PERFORM freight.route_check_options(options, ARRAY['metric', 'time_windows', 'service_times',
		'speed', 'vehicles', 'minimize_vehicles', 'vehicle_cost', 'time_budget_ms',
		'max_iterations', 'seed']);
	IF (options ->> 'minimize_vehicles')::boolean AND options ? 'vehicle_cost' THEN
		RAISE EXCEPTION 'minimize_vehicles and vehicle_cost cannot be combined'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN freight.route_vrp_c(x, y, cost, COALESCE(options ->> 'metric', 'haversine'),
		demand, capacity,
		freight.route_window_bound(options, 0), freight.route_window_bound(options, 1),
		freight.route_option_array(options, 'service_times'), freight.route_speed(options),
		(options ->> 'vehicles')::int,
		CASE WHEN (options ->> 'minimize_vehicles')::boolean THEN 'Infinity'::float8
			 ELSE COALESCE((options ->> 'vehicle_cost')::float8, 0) END,
		COALESCE((options ->> 'time_budget_ms')::int, 1000),
		(options ->> 'max_iterations')::bigint,
		COALESCE((options ->> 'seed')::bigint, 1));
END
$$;
COMMENT ON FUNCTION freight.plan_routes_options(float8[], float8[], float8[], float8[], float8, jsonb) IS
	'Internal: plan_routes after reading its options';

CREATE FUNCTION freight.plan_routes(x float8[], y float8[], demand float8[], capacity float8,
									options jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE sql VOLATILE STRICT PARALLEL SAFE AS $$
	SELECT freight.plan_routes_options(x, y, NULL, demand, capacity, options)
$$;
COMMENT ON FUNCTION freight.plan_routes(float8[], float8[], float8[], float8, jsonb) IS
	'Routes for several vehicles from depot 1: a JSON array of routes, each an array of 1-based stops; options: metric, time_windows, service_times, speed, vehicles, minimize_vehicles, vehicle_cost, time_budget_ms, max_iterations, seed';

CREATE FUNCTION freight.plan_routes(cost float8[], demand float8[], capacity float8,
									options jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE sql VOLATILE STRICT PARALLEL SAFE AS $$
	SELECT freight.plan_routes_options(NULL, NULL, cost, demand, capacity, options)
$$;
COMMENT ON FUNCTION freight.plan_routes(float8[], float8[], float8, jsonb) IS
	'plan_routes over a square cost matrix (row = from, column = to; stop 1 is the depot)';

CREATE FUNCTION freight.score_route_options(x float8[], y float8[], cost float8[], route int[],
											options jsonb) RETURNS jsonb
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
	w jsonb := COALESCE(options -> 'weights', '{}');
	traffic float8[];
BEGIN
	PERFORM freight.route_check_options(options, ARRAY['metric', 'closed', 'start_time', 'speed',
		'traffic', 'service_times', 'time_windows', 'demand', 'capacity', 'weights']);
	PERFORM freight.route_check_options(w, ARRAY['distance', 'time', 'lateness', 'overload']);
	IF COALESCE((options ->> 'traffic')::boolean, true) THEN
		traffic := freight.traffic_profile();
	END IF;
	RETURN freight.route_score_c(x, y, cost, COALESCE(options ->> 'metric', 'haversine'), route,
		COALESCE((options ->> 'closed')::boolean, false),
		CASE WHEN pg_catalog.jsonb_typeof(options -> 'start_time') = 'string'
			 THEN pg_catalog.date_part('epoch', (options ->> 'start_time')::time)
			 ELSE COALESCE((options ->> 'start_time')::float8, 0) END,
		freight.route_speed(options), traffic,
		freight.route_option_array(options, 'service_times'),
		freight.route_window_bound(options, 0), freight.route_window_bound(options, 1),
		freight.route_option_array(options, 'demand'), (options ->> 'capacity')::float8,
		ARRAY[COALESCE((w ->> 'distance')::float8, 1), COALESCE((w ->> 'time')::float8, 0),
			  COALESCE((w ->> 'lateness')::float8, 100), COALESCE((w ->> 'overload')::float8, 1000)]);
END
$$;
COMMENT ON FUNCTION freight.score_route_options(float8[], float8[], float8[], int[], jsonb) IS
	'Internal: score_route after reading its options';

CREATE FUNCTION freight.score_route(x float8[], y float8[], route int[], options jsonb DEFAULT '{}')
	RETURNS jsonb LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
	SELECT freight.score_route_options(x, y, NULL, route, options)
$$;
COMMENT ON FUNCTION freight.score_route(float8[], float8[], int[], jsonb) IS
	'Distance, driving time (traffic by hour), service, waiting, arrival and lateness per stop, capacity use, feasibility and a weighted score of a given route';

CREATE FUNCTION freight.score_route(cost float8[], route int[], options jsonb DEFAULT '{}')
	RETURNS jsonb LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
	SELECT freight.score_route_options(NULL, NULL, cost, route, options)
$$;
COMMENT ON FUNCTION freight.score_route(float8[], int[], jsonb) IS
	'score_route over a square cost matrix (row = from, column = to)';

-- ---------------------------------------------------------------------------------------------
-- A driver's day: delivery points, planned routes with ETAs, re-planning
-- ---------------------------------------------------------------------------------------------

-- Where a shipment is delivered.  The coordinates locate the recipient as precisely as the
-- destination address does, so they are stored only as ciphertext ("lon,lat").
CREATE TABLE freight.delivery_points (
	customer_id		bigint NOT NULL,
	shipment_id		bigint PRIMARY KEY,
	location		bytea NOT NULL,		-- ciphertext of 'lon,lat', context freight.delivery_points.location:<shipment_id>
	window_start	time,
	window_end		time,
	service_minutes numeric(6, 1) NOT NULL DEFAULT 5 CHECK (service_minutes >= 0),
	FOREIGN KEY (customer_id, shipment_id) REFERENCES freight.shipments (customer_id, id) ON DELETE CASCADE,
	CHECK ((window_start IS NULL) = (window_end IS NULL) AND window_start <= window_end)
);
COMMENT ON TABLE freight.delivery_points IS
	'Delivery coordinates (ciphertext), time window and service time of a shipment: the stops route planning uses';
INSERT INTO freight.encrypted_columns (table_name, column_name, key_column) VALUES
	('freight.delivery_points', 'location', 'shipment_id');

-- A planned day per driver: where the vehicle starts, and the ordered stops with their ETAs.
CREATE TABLE freight.route_plans (
	driver_id	bigint NOT NULL REFERENCES freight.drivers,
	day			date NOT NULL,
	depot_lon	float8 NOT NULL CHECK (depot_lon BETWEEN -180 AND 180),
	depot_lat	float8 NOT NULL CHECK (depot_lat BETWEEN -90 AND 90),
	start_time	time NOT NULL,
	planned_at	timestamptz,
	distance_m	float8,
	stale		boolean NOT NULL DEFAULT true,	-- stops were added or changed since planned_at
	PRIMARY KEY (driver_id, day)
);
COMMENT ON TABLE freight.route_plans IS
	'Planned day of a driver: depot, start time, planned distance; stale once its shipments change';

CREATE TABLE freight.route_plan_stops (
	driver_id	bigint NOT NULL,
	day			date NOT NULL,
	seq			int NOT NULL CHECK (seq > 0),
	customer_id bigint NOT NULL,
	shipment_id bigint NOT NULL,
	eta			timestamptz NOT NULL,
	PRIMARY KEY (driver_id, day, seq),
	FOREIGN KEY (driver_id, day) REFERENCES freight.route_plans ON DELETE CASCADE,
	FOREIGN KEY (customer_id, shipment_id) REFERENCES freight.shipments (customer_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE freight.route_plan_stops IS 'Stops of a planned day in visiting order, with their ETAs';

ALTER TABLE freight.delivery_points ENABLE ROW LEVEL SECURITY;
ALTER TABLE freight.route_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE freight.route_plan_stops ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON freight.delivery_points TO freight_app USING (true) WITH CHECK (true);
CREATE POLICY staff_all ON freight.route_plans TO freight_app USING (true) WITH CHECK (true);
CREATE POLICY staff_all ON freight.route_plan_stops TO freight_app USING (true) WITH CHECK (true);
CREATE POLICY customer_read ON freight.delivery_points FOR SELECT TO freight_customer
	USING (customer_id = freight.current_customer_id());
CREATE POLICY driver_read ON freight.delivery_points FOR SELECT TO freight_driver
	USING (EXISTS (SELECT 1 FROM freight.shipments s
				   WHERE s.id = shipment_id AND s.driver_id = freight.current_driver_id()));
CREATE POLICY driver_own ON freight.route_plans TO freight_driver
	USING (driver_id = freight.current_driver_id()) WITH CHECK (driver_id = freight.current_driver_id());
CREATE POLICY driver_own ON freight.route_plan_stops TO freight_driver
	USING (driver_id = freight.current_driver_id()) WITH CHECK (driver_id = freight.current_driver_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON freight.delivery_points, freight.route_plans,
	freight.route_plan_stops TO freight_app;
GRANT SELECT ON freight.delivery_points TO freight_customer, freight_driver;
GRANT SELECT, INSERT, UPDATE, DELETE ON freight.route_plans, freight.route_plan_stops TO freight_driver;
SELECT pg_catalog.pg_extension_config_dump('freight.delivery_points', '');
SELECT pg_catalog.pg_extension_config_dump('freight.route_plans', '');
SELECT pg_catalog.pg_extension_config_dump('freight.route_plan_stops', '');

CREATE FUNCTION freight.set_delivery_point(tracking_number text, lon float8, lat float8,
										   window_start time DEFAULT NULL, window_end time DEFAULT NULL,
										   service_minutes numeric DEFAULT 5) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	ship freight.shipments;
BEGIN
	SELECT s.* INTO ship FROM freight.shipments s WHERE s.tracking_number = set_delivery_point.tracking_number;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'shipment not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No shipment with tracking number %s is visible to you.', tracking_number);
	END IF;
	IF lon IS NULL OR lat IS NULL OR NOT (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90) THEN
		RAISE EXCEPTION 'delivery point coordinates are out of range' USING ERRCODE = 'numeric_value_out_of_range',
			DETAIL = pg_catalog.format('lon = %s, lat = %s; lon must be in [-180, 180] and lat in [-90, 90].', lon, lat);
	END IF;
	IF (window_start IS NULL) <> (window_end IS NULL) OR window_start > window_end THEN
		RAISE EXCEPTION 'time window must have a start and an end, the start first' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF service_minutes IS NULL OR service_minutes < 0 THEN
		RAISE EXCEPTION 'service_minutes must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO freight.delivery_points AS d
		VALUES (ship.customer_id, ship.id,
				freight.encrypt(lon || ',' || lat, freight.encryption_context('freight.delivery_points', 'location', ship.id)),
				window_start, window_end, service_minutes)
	ON CONFLICT (shipment_id) DO UPDATE
		SET location = EXCLUDED.location, window_start = EXCLUDED.window_start,
			window_end = EXCLUDED.window_end, service_minutes = EXCLUDED.service_minutes;
	UPDATE freight.route_plans p SET stale = true
		WHERE p.driver_id = ship.driver_id AND p.day = ship.scheduled_date;
END
$$;
COMMENT ON FUNCTION freight.set_delivery_point(text, float8, float8, time, time, numeric) IS
	'Set where (lon, lat; stored encrypted), when (optional time window) and how long (service minutes) a shipment is delivered';

-- Plan (or re-plan) the open stops of a driver's day from a position at a time of day; closed
-- = return to that position.  Stores the plan and returns its stops.
CREATE FUNCTION freight.route_plan_build(p_driver bigint, p_day date, from_lon float8, from_lat float8,
										 from_seconds float8, closed boolean, options jsonb)
RETURNS SETOF freight.route_plan_stops LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[]; custs bigint[]; xs float8[]; ys float8[]; windows jsonb; service jsonb;
	load numeric; capacity numeric; missing int; opts jsonb; tour int[]; score jsonb;
	has_windows boolean;
BEGIN
	PERFORM freight.route_check_options(options, ARRAY['time_budget_ms', 'seed', 'speed']);
	SELECT count(*) INTO missing FROM freight.shipments s
		WHERE s.driver_id = p_driver AND s.scheduled_date = p_day AND s.status NOT IN ('delivered', 'cancelled')
		  AND NOT EXISTS (SELECT 1 FROM freight.delivery_points d WHERE d.shipment_id = s.id);
	IF missing > 0 THEN
		RAISE EXCEPTION '% shipment(s) of the day have no delivery point', missing
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = pg_catalog.format('Driver %s on %s.', p_driver, p_day),
			HINT = 'Set them with freight.set_delivery_point().';
	END IF;
	WITH stops AS (
		SELECT s.id, s.customer_id, s.weight_kg, d.window_start, d.window_end, d.service_minutes,
			   pg_catalog.string_to_array(freight.decrypt(d.location,
					freight.encryption_context('freight.delivery_points', 'location', s.id)), ',')::float8[] AS lonlat
		FROM freight.shipments s JOIN freight.delivery_points d ON d.shipment_id = s.id
		WHERE s.driver_id = p_driver AND s.scheduled_date = p_day AND s.status NOT IN ('delivered', 'cancelled'))
	SELECT array_agg(id ORDER BY id), array_agg(customer_id ORDER BY id),
		   from_lon || array_agg(lonlat[1] ORDER BY id), from_lat || array_agg(lonlat[2] ORDER BY id),
		   pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_array(from_seconds, 2 * 86400)) ||
			   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
				   COALESCE(pg_catalog.date_part('epoch', window_start), 0),
				   COALESCE(pg_catalog.date_part('epoch', window_end), 2 * 86400)) ORDER BY id),
		   '[0]'::jsonb || pg_catalog.jsonb_agg(service_minutes * 60 ORDER BY id),
		   sum(weight_kg), bool_or(window_start IS NOT NULL)
	INTO ids, custs, xs, ys, windows, service, load, has_windows
	FROM stops;

	DELETE FROM freight.route_plan_stops p WHERE p.driver_id = p_driver AND p.day = p_day;
	IF ids IS NULL THEN
		UPDATE freight.route_plans p SET planned_at = pg_catalog.now(), distance_m = 0, stale = false
			WHERE p.driver_id = p_driver AND p.day = p_day;
		RETURN;
	END IF;
	SELECT v.capacity_kg INTO capacity FROM freight.drivers dr JOIN freight.vehicles v ON v.id = dr.vehicle_id
		WHERE dr.id = p_driver;
	IF load > capacity THEN
		RAISE EXCEPTION 'the open shipments weigh % kg, more than the vehicle carries (% kg)', load, capacity
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = pg_catalog.format('Driver %s on %s.', p_driver, p_day),
			HINT = 'Move shipments to another driver or day.';
	END IF;

	opts := pg_catalog.jsonb_build_object('metric', 'haversine', 'closed', closed, 'start', 1,
										  'service_times', service) || options;
	IF has_windows THEN
		opts := opts || pg_catalog.jsonb_build_object('time_windows', windows);
	END IF;
	BEGIN
		tour := freight.optimize_route(xs, ys, opts);
	EXCEPTION WHEN invalid_parameter_value THEN
		IF NOT has_windows THEN
			RAISE;
		END IF;
		-- a window that can no longer be met (a late driver) must not block the rest of the day
		RAISE NOTICE 'the time windows cannot all be met any more; planning the shortest route instead'
			USING DETAIL = pg_catalog.format('Driver %s on %s.', p_driver, p_day);
		tour := freight.optimize_route(xs, ys, opts - 'time_windows');
	END;
	score := freight.score_route(xs, ys, tour, pg_catalog.jsonb_build_object('metric', 'haversine',
		'closed', closed, 'start_time', from_seconds, 'service_times', service, 'time_windows', windows)
		|| (options - 'time_budget_ms' - 'seed'));
	INSERT INTO freight.route_plan_stops (driver_id, day, seq, customer_id, shipment_id, eta)
		SELECT p_driver, p_day, st.ord - 1, custs[(st.e ->> 'stop')::int - 1], ids[(st.e ->> 'stop')::int - 1],
			   p_day + pg_catalog.make_interval(secs => (st.e ->> 'arrival')::float8)
		FROM pg_catalog.jsonb_array_elements(score -> 'stops') WITH ORDINALITY AS st(e, ord)
		WHERE st.ord > 1;
	UPDATE freight.route_plans p SET planned_at = pg_catalog.now(), distance_m = (score ->> 'distance')::float8,
		stale = false
		WHERE p.driver_id = p_driver AND p.day = p_day;
	RETURN QUERY SELECT * FROM freight.route_plan_stops p WHERE p.driver_id = p_driver AND p.day = p_day ORDER BY p.seq;
END
$$;
COMMENT ON FUNCTION freight.route_plan_build(bigint, date, float8, float8, float8, boolean, jsonb) IS
	'Internal: order the open stops of a driver''s day from a position and time, store them with ETAs';

CREATE FUNCTION freight.plan_driver_day(driver_id bigint, depot_lon float8, depot_lat float8,
										day date DEFAULT CURRENT_DATE, start_time time DEFAULT '08:00',
										options jsonb DEFAULT '{}')
RETURNS SETOF freight.route_plan_stops LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM freight.drivers d WHERE d.id = plan_driver_day.driver_id) THEN
		RAISE EXCEPTION 'driver not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('No driver with id %s is visible to you.', driver_id);
	END IF;
	IF depot_lon IS NULL OR depot_lat IS NULL OR NOT (depot_lon BETWEEN -180 AND 180 AND depot_lat BETWEEN -90 AND 90) THEN
		RAISE EXCEPTION 'depot coordinates are out of range' USING ERRCODE = 'numeric_value_out_of_range';
	END IF;
	INSERT INTO freight.route_plans AS p (driver_id, day, depot_lon, depot_lat, start_time)
		VALUES (plan_driver_day.driver_id, plan_driver_day.day, depot_lon, depot_lat, start_time)
		ON CONFLICT ON CONSTRAINT route_plans_pkey DO UPDATE
		SET depot_lon = EXCLUDED.depot_lon, depot_lat = EXCLUDED.depot_lat, start_time = EXCLUDED.start_time;
	RETURN QUERY SELECT * FROM freight.route_plan_build(plan_driver_day.driver_id, plan_driver_day.day,
		depot_lon, depot_lat, pg_catalog.date_part('epoch', start_time), true, COALESCE(options, '{}'));
END
$$;
COMMENT ON FUNCTION freight.plan_driver_day(bigint, float8, float8, date, time, jsonb) IS
	'Plan a driver''s day: the open shipments of that day with delivery points, from and back to the depot (lon, lat), with ETAs stored in freight.route_plan_stops';

CREATE FUNCTION freight.replan_driver_day(driver_id bigint, day date DEFAULT CURRENT_DATE,
										  at timestamptz DEFAULT pg_catalog.now(), options jsonb DEFAULT '{}')
RETURNS SETOF freight.route_plan_stops LANGUAGE plpgsql AS $$
DECLARE
	plan freight.route_plans;
	last_loc float8[];
	from_seconds float8;
BEGIN
	SELECT p.* INTO plan FROM freight.route_plans p
		WHERE p.driver_id = replan_driver_day.driver_id AND p.day = replan_driver_day.day;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'route plan not found' USING ERRCODE = 'PT404',
			DETAIL = pg_catalog.format('Driver %s on %s.', driver_id, day),
			HINT = 'Plan the day first with freight.plan_driver_day().';
	END IF;
	-- the vehicle is where it delivered last (or still at the depot)
	SELECT pg_catalog.string_to_array(freight.decrypt(d.location,
			freight.encryption_context('freight.delivery_points', 'location', s.id)), ',')::float8[]
		INTO last_loc
		FROM freight.shipments s JOIN freight.delivery_points d ON d.shipment_id = s.id
		WHERE s.driver_id = plan.driver_id AND s.scheduled_date = plan.day AND s.status = 'delivered'
		ORDER BY s.updated_at DESC LIMIT 1;
	from_seconds := GREATEST(pg_catalog.date_part('epoch', plan.start_time),
							 pg_catalog.date_part('epoch', at - plan.day::timestamptz));
	IF last_loc IS NULL THEN
		RETURN QUERY SELECT * FROM freight.route_plan_build(plan.driver_id, plan.day, plan.depot_lon,
			plan.depot_lat, from_seconds, true, COALESCE(options, '{}'));
	ELSE
		RETURN QUERY SELECT * FROM freight.route_plan_build(plan.driver_id, plan.day, last_loc[1],
			last_loc[2], from_seconds, false, COALESCE(options, '{}'));
	END IF;
END
$$;
COMMENT ON FUNCTION freight.replan_driver_day(bigint, date, timestamptz, jsonb) IS
	'Re-plan the remaining stops of a planned day from where the driver delivered last (or the depot) at time at';

-- Stops whose ETA has passed without a delivery.
CREATE VIEW freight.late_stops WITH (security_invoker = true) AS
	SELECT p.driver_id, p.day, p.seq, p.shipment_id, s.tracking_number, p.eta, pg_catalog.now() - p.eta AS late_by
	FROM freight.route_plan_stops p JOIN freight.shipments s ON s.id = p.shipment_id
	WHERE p.eta < pg_catalog.now() AND s.status NOT IN ('delivered', 'cancelled');
COMMENT ON VIEW freight.late_stops IS 'Planned stops whose ETA has passed and that are not delivered yet';
GRANT SELECT ON freight.late_stops TO freight_app, freight_driver;

-- Re-plan every plan of the day that is stale (shipments added or moved) or has a late stop.
CREATE FUNCTION freight.replan_due_routes(day date DEFAULT CURRENT_DATE) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	d bigint;
	n int := 0;
BEGIN
	FOR d IN SELECT p.driver_id FROM freight.route_plans p
			 WHERE p.day = replan_due_routes.day
			   AND (p.stale OR EXISTS (SELECT 1 FROM freight.late_stops l
									   WHERE l.driver_id = p.driver_id AND l.day = p.day))
			 ORDER BY p.driver_id
	LOOP
		PERFORM freight.replan_driver_day(d, replan_due_routes.day);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION freight.replan_due_routes(date) IS
	'Re-plan the day''s plans that are stale or have late stops; returns how many were re-planned';

-- A shipment added to, moved between or removed from drivers' days makes their plans stale.
CREATE FUNCTION freight.route_plans_mark_stale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP <> 'DELETE' THEN
		UPDATE freight.route_plans SET stale = true
			WHERE driver_id = NEW.driver_id AND day = NEW.scheduled_date AND NOT stale;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		UPDATE freight.route_plans SET stale = true
			WHERE driver_id = OLD.driver_id AND day = OLD.scheduled_date AND NOT stale;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION freight.route_plans_mark_stale() IS
	'Trigger: marks the route plans of a shipment''s old and new driver/day stale';
CREATE TRIGGER route_plans_stale AFTER INSERT OR DELETE OR UPDATE OF driver_id, scheduled_date, status
	ON freight.shipments FOR EACH ROW EXECUTE FUNCTION freight.route_plans_mark_stale();

-- ---------------------------------------------------------------------------------------------
-- HTTP API (/api/rpc/...): thin wrappers with the caller's rights, for staff and drivers
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION api.optimize_route(x float8[], y float8[], options jsonb DEFAULT '{}') RETURNS int[]
	LANGUAGE sql VOLATILE PARALLEL SAFE
	AS $$ SELECT freight.optimize_route(x, y, options) $$;
COMMENT ON FUNCTION api.optimize_route(float8[], float8[], jsonb) IS
	'freight.optimize_route for API clients: visiting order (1-based) of stops at (x, y)';

CREATE FUNCTION api.plan_routes(x float8[], y float8[], demand float8[], capacity float8,
								options jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE sql VOLATILE PARALLEL SAFE
	AS $$ SELECT freight.plan_routes(x, y, demand, capacity, options) $$;
COMMENT ON FUNCTION api.plan_routes(float8[], float8[], float8[], float8, jsonb) IS
	'freight.plan_routes for API clients: routes of several vehicles from depot 1';

CREATE FUNCTION api.score_route(x float8[], y float8[], route int[], options jsonb DEFAULT '{}') RETURNS jsonb
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT freight.score_route(x, y, route, options) $$;
COMMENT ON FUNCTION api.score_route(float8[], float8[], int[], jsonb) IS
	'freight.score_route for API clients: distance, times, arrivals, lateness, load and score of a route';

CREATE VIEW api.route_plan_stops WITH (security_invoker = true) AS
	SELECT p.driver_id, p.day, p.seq, p.shipment_id, s.tracking_number, p.eta
	FROM freight.route_plan_stops p JOIN freight.shipments s ON s.id = p.shipment_id;
COMMENT ON VIEW api.route_plan_stops IS 'Planned stops with ETAs (drivers see their own)';

CREATE FUNCTION api.plan_driver_day(driver_id bigint, depot_lon float8, depot_lat float8,
									day date DEFAULT CURRENT_DATE, start_time time DEFAULT '08:00')
	RETURNS SETOF api.route_plan_stops LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM freight.plan_driver_day(driver_id, depot_lon, depot_lat, day, start_time);
	RETURN QUERY SELECT * FROM api.route_plan_stops v
		WHERE v.driver_id = plan_driver_day.driver_id AND v.day = plan_driver_day.day ORDER BY v.seq;
END
$$;
COMMENT ON FUNCTION api.plan_driver_day(bigint, float8, float8, date, time) IS
	'freight.plan_driver_day for API clients: plans and stores a driver''s day, returns its stops with ETAs';

CREATE FUNCTION api.replan_driver_day(driver_id bigint, day date DEFAULT CURRENT_DATE)
	RETURNS SETOF api.route_plan_stops LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM freight.replan_driver_day(driver_id, day);
	RETURN QUERY SELECT * FROM api.route_plan_stops v
		WHERE v.driver_id = replan_driver_day.driver_id AND v.day = replan_driver_day.day ORDER BY v.seq;
END
$$;
COMMENT ON FUNCTION api.replan_driver_day(bigint, date) IS
	'freight.replan_driver_day for API clients: re-plans the remaining stops from now';

REVOKE EXECUTE ON FUNCTION api.optimize_route(float8[], float8[], jsonb),
	api.plan_routes(float8[], float8[], float8[], float8, jsonb),
	api.score_route(float8[], float8[], int[], jsonb), api.plan_driver_day(bigint, float8, float8, date, time),
	api.replan_driver_day(bigint, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.optimize_route(float8[], float8[], jsonb),
	api.plan_routes(float8[], float8[], float8[], float8, jsonb),
	api.score_route(float8[], float8[], int[], jsonb), api.plan_driver_day(bigint, float8, float8, date, time),
	api.replan_driver_day(bigint, date) TO freight_app, freight_driver;
GRANT SELECT ON api.route_plan_stops TO freight_app, freight_driver;

-- The solvers can run for minutes: staff and drivers only (admins through freight_app).
DO $grants$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'freight'::regnamespace
			   AND p.proname = ANY (ARRAY['route_tsp_c', 'route_vrp_c', 'route_score_c',
				   'optimize_route_options', 'optimize_route', 'plan_routes_options', 'plan_routes',
				   'score_route_options', 'score_route', 'set_delivery_point', 'route_plan_build',
				   'plan_driver_day', 'replan_driver_day', 'replan_due_routes'])
	LOOP
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO freight_app, freight_driver', f);
	END LOOP;
	REVOKE EXECUTE ON FUNCTION freight.route_plans_mark_stale() FROM PUBLIC;
END
$grants$;
