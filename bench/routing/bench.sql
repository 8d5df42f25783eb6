-- bench.sql — tables, runners and reports of bench/routing (loaded by run.sh into the
-- throwaway benchmark database).
CREATE TABLE bench_points (instance text, idx int, x float8, y float8, demand float8,
						   ready float8, due float8, service float8, PRIMARY KEY (instance, idx));
CREATE TABLE bench_capacity (instance text PRIMARY KEY, capacity float8);
CREATE TABLE bench_optimum (set text, instance text, n int, optimum float8, vehicles int);
CREATE TABLE bench_result (set text, instance text, n int, solver text, length float8,
						   vehicles int, ms float8, valid boolean);

-- Length of the closed tour (1-based stop indexes) under a metric.
CREATE FUNCTION bench_cycle_length(xs float8[], ys float8[], tour int[], metric text) RETURNS float8
LANGUAGE sql AS $$
	SELECT sum(freight.route_distance(xs[tour[i]], ys[tour[i]],
									  xs[tour[i % cardinality(tour) + 1]], ys[tour[i % cardinality(tour) + 1]], metric))
	FROM generate_series(1, cardinality(tour)) AS i
$$;

CREATE FUNCTION bench_is_permutation(tour int[], n int) RETURNS boolean LANGUAGE sql AS $$
	SELECT cardinality(tour) = n AND (SELECT count(DISTINCT s) = n AND min(s) = 1 AND max(s) = n FROM unnest(tour) AS s)
$$;

CREATE FUNCTION bench_tsp(inst text, budget int, large_budget int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	xs float8[]; ys float8[]; tour int[]; t0 timestamptz; ms float8; n int;
BEGIN
	SELECT array_agg(x ORDER BY idx), array_agg(y ORDER BY idx) INTO xs, ys FROM bench_points WHERE instance = inst;
	n := cardinality(xs);
	t0 := clock_timestamp();
	-- default stopping rule (max(50, n) kicks without improvement, 2n above 100 stops) capped by the budget
	tour := freight.optimize_route(xs, ys, jsonb_build_object('metric', 'euc2d',
		'time_budget_ms', CASE WHEN n > 1100 THEN large_budget ELSE budget END));
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
	INSERT INTO bench_result VALUES ('tsplib', inst, n, 'freight', bench_cycle_length(xs, ys, tour, 'euc2d'),
									 1, ms, bench_is_permutation(tour, n));
END
$$;

-- pgRouting's pgr_TSPeuclidean (Boost's metric TSP approximation in 3.4; it takes no tuning).
CREATE FUNCTION bench_pgr(inst text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	xs float8[]; ys float8[]; tour int[]; t0 timestamptz; ms float8; n int;
BEGIN
	SELECT array_agg(x ORDER BY idx), array_agg(y ORDER BY idx) INTO xs, ys FROM bench_points WHERE instance = inst;
	n := cardinality(xs);
	t0 := clock_timestamp();
	EXECUTE 'SELECT array_agg(node::int ORDER BY seq) FROM pgr_TSPeuclidean($1)'
		INTO tour USING format('SELECT idx AS id, x, y FROM bench_points WHERE instance = %L', inst);
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
	tour := tour[1:cardinality(tour) - 1];		-- the tour returns to its start
	INSERT INTO bench_result VALUES ('tsplib', inst, n, 'pgrouting', bench_cycle_length(xs, ys, tour, 'euc2d'),
									 1, ms, bench_is_permutation(tour, n));
END
$$;

-- CVRP (euc2d) or VRPTW (euclidean, fewest vehicles first); every route re-scored and checked.
CREATE FUNCTION bench_vrp(inst text, tw boolean, budget int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	xs float8[]; ys float8[]; dem float8[]; cap float8; opts jsonb; score_opts jsonb; plan jsonb;
	t0 timestamptz; ms float8; n int; total float8 := 0; ok boolean := true; seen int[] := '{}';
	route int[]; sc jsonb; r jsonb;
BEGIN
	SELECT array_agg(x ORDER BY idx), array_agg(y ORDER BY idx), array_agg(demand ORDER BY idx)
		INTO xs, ys, dem FROM bench_points WHERE instance = inst;
	SELECT capacity INTO cap FROM bench_capacity WHERE instance = inst;
	n := cardinality(xs);
	opts := jsonb_build_object('metric', CASE WHEN tw THEN 'euclidean' ELSE 'euc2d' END,
							   'time_budget_ms', budget, 'max_iterations', 1000000000000);
	score_opts := jsonb_build_object('metric', opts ->> 'metric', 'closed', true, 'traffic', false,
									 'demand', to_jsonb(dem), 'capacity', cap);
	IF tw THEN
		opts := opts || jsonb_build_object('minimize_vehicles', true,
			'time_windows', (SELECT jsonb_agg(jsonb_build_array(ready, due) ORDER BY idx) FROM bench_points WHERE instance = inst),
			'service_times', (SELECT jsonb_agg(service ORDER BY idx) FROM bench_points WHERE instance = inst));
		score_opts := score_opts || jsonb_build_object('speed', 1, 'start_time', 0,
			'time_windows', opts -> 'time_windows', 'service_times', opts -> 'service_times');
	END IF;
	t0 := clock_timestamp();
	plan := freight.plan_routes(xs, ys, dem, cap, opts);
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
	FOR r IN SELECT value FROM jsonb_array_elements(plan) LOOP
		route := ARRAY(SELECT v::int FROM jsonb_array_elements_text(r) AS v);
		seen := seen || route;
		sc := freight.score_route(xs, ys, 1 || route, score_opts);
		total := total + (sc ->> 'distance')::float8;
		ok := ok AND (sc ->> 'feasible')::boolean;
	END LOOP;
	ok := ok AND bench_is_permutation(1 || seen, n);
	INSERT INTO bench_result VALUES (CASE WHEN tw THEN 'solomon-hier-exact' ELSE 'cvrp' END, inst, n - 1,
									 'freight', total, jsonb_array_length(plan), ms, ok);
END
$$;

CREATE VIEW bench_tsp_report AS
SELECT o.instance, o.n, o.optimum::bigint AS optimum,
	   f.length::bigint AS freight, round((100 * (f.length / o.optimum - 1))::numeric, 2) AS "gap %",
	   round((f.ms / 1000)::numeric, 2) AS "time s",
	   p.length::bigint AS pgrouting, round((100 * (p.length / o.optimum - 1))::numeric, 2) AS "pgr gap %",
	   round((p.ms / 1000)::numeric, 2) AS "pgr time s",
	   CASE WHEN NOT f.valid OR NOT p.valid THEN 'INVALID TOUR'
			WHEN p.length IS NULL THEN 'yes (pgr: no answer)'
			WHEN f.length < p.length AND f.ms < p.ms THEN 'yes' ELSE 'no' END AS "shorter and faster"
FROM bench_optimum o
JOIN bench_result f ON f.instance = o.instance AND f.solver = 'freight'
LEFT JOIN bench_result p ON p.instance = o.instance AND p.solver = 'pgrouting'
WHERE o.set = 'tsplib'
ORDER BY o.n;

CREATE VIEW bench_tsp_summary AS
SELECT CASE WHEN o.n <= 1002 THEN 'up to 1,002 stops' ELSE o.instance END AS tsp,
	   count(*) AS instances,
	   round(avg(100 * (f.length / o.optimum - 1))::numeric, 2) AS "avg gap %",
	   round(max(f.ms / 1000)::numeric, 2) AS "max time s",
	   count(p.length) AS "pgr answers",
	   round(avg(100 * (p.length / o.optimum - 1))::numeric, 2) AS "pgr avg gap % (answered)",
	   round(avg(p.ms / 1000)::numeric, 2) AS "pgr avg time s (answered)"
FROM bench_optimum o
JOIN bench_result f ON f.instance = o.instance AND f.solver = 'freight'
LEFT JOIN bench_result p ON p.instance = o.instance AND p.solver = 'pgrouting'
WHERE o.set = 'tsplib'
GROUP BY 1 ORDER BY min(o.n);

CREATE VIEW bench_vrp_report AS
SELECT o.set, o.instance, o.n AS customers, o.vehicles AS "bks vehicles", f.vehicles,
	   o.optimum AS bks, round(f.length::numeric, 2) AS freight,
	   round((100 * (f.length / o.optimum - 1))::numeric, 2) AS "gap %",
	   round((f.ms / 1000)::numeric, 2) AS "time s", f.valid
FROM bench_optimum o JOIN bench_result f ON f.instance = o.instance AND f.solver = 'freight'
WHERE o.set IN ('cvrp-A', 'cvrp-X', 'solomon-hier-exact')
ORDER BY o.set, o.n, o.instance;

CREATE VIEW bench_vrp_summary AS
SELECT o.set, count(*) AS instances, round(avg(100 * (f.length / o.optimum - 1))::numeric, 2) AS "avg gap %",
	   round(max(f.ms / 1000)::numeric, 2) AS "max time s",
	   count(*) FILTER (WHERE o.vehicles IS NULL OR f.vehicles <= o.vehicles) AS "at bks vehicle count",
	   round(avg(100 * (f.length / o.optimum - 1)) FILTER (WHERE o.vehicles IS NULL OR f.vehicles <= o.vehicles)::numeric, 2)
		 AS "avg gap % of those",
	   bool_and(f.valid) AS "all valid"
FROM bench_optimum o JOIN bench_result f ON f.instance = o.instance AND f.solver = 'freight'
WHERE o.set IN ('cvrp-A', 'cvrp-X', 'solomon-hier-exact')
GROUP BY o.set ORDER BY o.set;
