-- routing: distances, optimize_route, plan_routes, score_route and their input checks.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

-- distances: Berlin -> Paris in metres, TSPLIB rounding, plain Euclidean
SELECT round(freight.route_distance(13.4050, 52.5200, 2.3522, 48.8566)) AS berlin_paris_m;
SELECT freight.route_distance(0, 0, 3, 4.6, 'euc2d') AS euc2d,
       round(freight.route_distance(0, 0, 3, 4.6, 'euclidean')::numeric, 4) AS euclidean;

-- a square with a centre point: closed tour from stop 1
SELECT freight.optimize_route(ARRAY[0, 10, 0, 10, 5]::float8[], ARRAY[0, 0, 10, 10, 5]::float8[],
                              '{"metric": "euclidean"}');
-- open path from stop 1 to a fixed end
SELECT freight.optimize_route(ARRAY[0, 10, 0, 10, 5]::float8[], ARRAY[0, 0, 10, 10, 5]::float8[],
                              '{"metric": "euclidean", "closed": false, "end": 3}');
-- open path with a free start over a cost matrix
SELECT freight.optimize_route(ARRAY[[0, 1, 9], [1, 0, 1], [9, 1, 0]]::float8[],
                              '{"closed": false, "start": null}'::jsonb);
-- an asymmetric matrix: the cheaper direction of the cycle is returned
SELECT freight.optimize_route(ARRAY[[0, 1, 50, 50], [50, 0, 1, 50], [50, 50, 0, 1], [1, 50, 50, 0]]::float8[]);
-- one stop, two stops, duplicate points
SELECT freight.optimize_route(ARRAY[5]::float8[], ARRAY[5]::float8[], '{"metric": "euclidean"}');
SELECT freight.optimize_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], '{"metric": "euclidean"}');
SELECT freight.optimize_route(ARRAY[0, 3, 0, 3, 0]::float8[], ARRAY[0, 0, 0, 0, 0]::float8[],
                              '{"metric": "euclidean"}');

-- 30 points on a circle, shuffled: the optimal tour is the polygon, found by the local search
WITH pts AS (
    SELECT i, cos(2 * pi() * ((i * 7) % 30) / 30) * 100 AS x, sin(2 * pi() * ((i * 7) % 30) / 30) * 100 AS y
    FROM generate_series(0, 29) AS i),
tour AS (
    SELECT freight.optimize_route(array_agg(x ORDER BY i), array_agg(y ORDER BY i),
                                  '{"metric": "euclidean", "seed": 3, "max_iterations": 500,
                                    "time_budget_ms": 600000}') AS t FROM pts)
SELECT cardinality(t) AS stops,
       (SELECT count(DISTINCT s) FROM unnest(t) AS s) AS distinct_stops,
       round((freight.score_route(array_agg(x ORDER BY i), array_agg(y ORDER BY i), t,
                                  '{"metric": "euclidean", "closed": true}') ->> 'distance')::numeric, 6)
         = round((30 * 200 * sin(pi() / 30))::numeric, 6) AS optimal
FROM pts, tour GROUP BY t;

-- the same seed and iteration limit give the same tour (a generous time budget, so the
-- iteration limit ends the search)
WITH pts AS (SELECT i, (i * 37) % 101 AS x, (i * 53) % 97 AS y FROM generate_series(1, 60) AS i),
opts AS (SELECT '{"metric": "euc2d", "seed": 5, "max_iterations": 300, "time_budget_ms": 600000}'::jsonb AS o)
SELECT freight.optimize_route(array_agg(x ORDER BY i), array_agg(y ORDER BY i), o)
     = freight.optimize_route(array_agg(x ORDER BY i), array_agg(y ORDER BY i), o) AS same_tour
FROM pts, opts GROUP BY o;

-- time windows: stop 4 must come first, stop 2 last
SELECT freight.optimize_route(ARRAY[0, 10, 0, 10]::float8[], ARRAY[0, 0, 10, 10]::float8[],
    '{"metric": "euclidean", "time_windows": [[0, 1000], [40, 1000], [0, 1000], [0, 15]]}');

-- plan_routes: four clusters of two, capacity 2
SELECT freight.plan_routes(ARRAY[0, 10, 11, -10, -11, 0, 0, 0, 0]::float8[],
                           ARRAY[0, 0, 0, 0, 0, 10, 11, -10, -11]::float8[],
                           ARRAY[0, 1, 1, 1, 1, 1, 1, 1, 1]::float8[], 2,
                           '{"metric": "euclidean", "max_iterations": 2000, "time_budget_ms": 600000}');
-- with time windows and service times; minimize vehicles
SELECT jsonb_array_length(freight.plan_routes(ARRAY[0, 10, 11, -10, -11]::float8[], ARRAY[0, 0, 0, 0, 0]::float8[],
    ARRAY[0, 1, 1, 1, 1]::float8[], 10,
    '{"metric": "euclidean", "minimize_vehicles": true, "service_times": [0, 5, 5, 5, 5],
      "time_windows": [[0, 200], [0, 200], [0, 200], [0, 200], [0, 200]]}')) AS vehicles;
-- over a cost matrix
SELECT freight.plan_routes(ARRAY[[0, 1, 1], [1, 0, 5], [1, 5, 0]]::float8[], ARRAY[0, 1, 1]::float8[], 1);

-- score_route: 1 km legs at 10 m/s from 07:59:10; the default traffic factor of hours 7 and 8 is 1.4
SELECT freight.score_route(ARRAY[0, 1000, 1000]::float8[], ARRAY[0, 0, 1000]::float8[], ARRAY[1, 2, 3],
    '{"metric": "euclidean", "speed": 10, "start_time": "07:59:10", "service_times": [0, 60, 60],
      "time_windows": [[0, 86400], [0, 86400], [0, 28900]], "demand": [0, 4, 8], "capacity": 10}');
SELECT freight.score_route(ARRAY[[0, 5], [7, 0]]::float8[], ARRAY[2, 1], '{"closed": true, "traffic": false}') ->> 'distance' AS matrix_distance;

-- bad input: a clear error each time
SELECT freight.optimize_route(ARRAY[]::float8[], ARRAY[]::float8[]);
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1]::float8[]);
SELECT freight.optimize_route(ARRAY[1, NULL]::float8[], ARRAY[1, 2]::float8[]);
SELECT freight.optimize_route(ARRAY[1, 200]::float8[], ARRAY[1, 2]::float8[]);
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 95]::float8[]);
SELECT freight.optimize_route(ARRAY[1, 'NaN']::float8[], ARRAY[1, 2]::float8[], '{"metric": "euclidean"}');
SELECT freight.optimize_route(ARRAY[[0, 1, 2], [1, 0, 2]]::float8[]);
SELECT freight.optimize_route(ARRAY[0, 1, 2]::float8[]);
SELECT freight.optimize_route(ARRAY[[0, -1], [1, 0]]::float8[]);
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"metric": "manhattan"}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"metrik": "euclidean"}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '[1]');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"time_budget_ms": 0}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"time_budget_ms": 600001}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"max_iterations": -1}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"start": 3}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"end": 2}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"closed": false, "end": 1}');
SELECT freight.optimize_route(ARRAY[1, 2]::float8[], ARRAY[1, 2]::float8[], '{"closed": "maybe"}');
SELECT freight.optimize_route(ARRAY[0, 10]::float8[], ARRAY[0, 0]::float8[],
    '{"metric": "euclidean", "time_windows": [[0, 100], [0, 5]]}');
SELECT freight.optimize_route(ARRAY[0, 10]::float8[], ARRAY[0, 0]::float8[],
    '{"metric": "euclidean", "time_windows": [[0, 100], [50, 40]]}');
SELECT freight.optimize_route(ARRAY[0, 10]::float8[], ARRAY[0, 0]::float8[],
    '{"metric": "euclidean", "time_windows": [[0, 100]]}');
SELECT freight.optimize_route(ARRAY[0, 10, 0]::float8[], ARRAY[0, 0, 10]::float8[],
    '{"metric": "euclidean", "time_windows": [[0, 100], [0, 10], [0, 10]]}');
SELECT freight.optimize_route(NULL::float8[], ARRAY[1]::float8[]) IS NULL AS null_in_null_out;
SELECT freight.plan_routes(ARRAY[0]::float8[], ARRAY[0]::float8[], ARRAY[0]::float8[], 10);
SELECT freight.plan_routes(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], 0);
SELECT freight.plan_routes(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[0, 11]::float8[], 10);
SELECT freight.plan_routes(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[0, -1]::float8[], 10);
SELECT freight.plan_routes(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[0, 1, 1]::float8[], 10);
SELECT freight.plan_routes(ARRAY[0, 1, 2]::float8[], ARRAY[0, 1, 2]::float8[], ARRAY[0, 6, 6]::float8[], 10,
                           '{"vehicles": 1, "metric": "euclidean"}');
SELECT freight.plan_routes(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], 10,
                           '{"minimize_vehicles": true, "vehicle_cost": 5}');
SELECT freight.score_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[1, 1]);
SELECT freight.score_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[1, 3]);
SELECT freight.score_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[]::int[]);
SELECT freight.score_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[], ARRAY[1, 2], '{"weights": {"speed": 1}}');
