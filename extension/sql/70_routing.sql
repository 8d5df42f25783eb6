-- freight install script, part 70: route scoring and optimisation (extension/route_*.c).
--
-- User-facing: freight.route_distance, freight.optimize_route (coordinates or cost matrix),
-- freight.plan_routes (coordinates or cost matrix), freight.score_route, the table
-- freight.traffic_factors.  The freight.route_*_c functions are the C entry points; the wrappers
-- read the options jsonb, reject unknown options and fill in the defaults.

-- Travel-time multipliers by hour of the day (1.0 = free flow): score_route's speed profile.
CREATE TABLE freight.traffic_factors (
	hour int PRIMARY KEY CHECK (hour BETWEEN 0 AND 23),
	factor float8 NOT NULL CHECK (factor > 0 AND factor <= 10)
);
COMMENT ON TABLE freight.traffic_factors IS
	'Travel-time multiplier per hour of day (1.0 = free flow, 1.5 = legs take 50% longer); used by score_route';
INSERT INTO freight.traffic_factors (hour, factor)
SELECT h, CASE WHEN h IN (7, 8) THEN 1.4 WHEN h IN (16, 17, 18) THEN 1.35
			   WHEN h BETWEEN 9 AND 15 THEN 1.1 ELSE 1.0 END
FROM pg_catalog.generate_series(0, 23) AS h;
GRANT SELECT ON freight.traffic_factors TO freight_admin, freight_app, freight_driver;
GRANT UPDATE ON freight.traffic_factors TO freight_admin;

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
		traffic := ARRAY(SELECT t.factor FROM freight.traffic_factors AS t ORDER BY t.hour);
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
