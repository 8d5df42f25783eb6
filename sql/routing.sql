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

-- plan_routes: four clusters of two, capacity 2 (routes shown sorted)
SELECT array_agg(r ORDER BY r) AS routes
FROM jsonb_array_elements(freight.plan_routes(ARRAY[0, 10, 11, -10, -11, 0, 0, 0, 0]::float8[],
                           ARRAY[0, 0, 0, 0, 0, 10, 11, -10, -11]::float8[],
                           ARRAY[0, 1, 1, 1, 1, 1, 1, 1, 1]::float8[], 2,
                           '{"metric": "euclidean", "max_iterations": 2000, "time_budget_ms": 600000}')) AS e,
     LATERAL (SELECT array_agg(v::int ORDER BY v::int) AS r FROM jsonb_array_elements_text(e) AS v) s;
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
-- a row in freight.traffic_factors overrides one hour of the built-in profile
SELECT cardinality(freight.traffic_profile()) AS hours, (freight.traffic_profile())[8] AS factor_07h;
INSERT INTO freight.traffic_factors VALUES (7, 2.0);
SELECT (freight.traffic_profile())[8] AS factor_07h,
       freight.score_route(ARRAY[0, 1000]::float8[], ARRAY[0, 0]::float8[], ARRAY[1, 2],
                           '{"metric": "euclidean", "speed": 10, "start_time": "07:30"}') ->> 'drive_time' AS drive_time;
DELETE FROM freight.traffic_factors;

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
-- times that overflow (a crawl over huge distances) are an error, not a crash or Infinity
SELECT freight.score_route(ARRAY[0, 1e15, 0]::float8[], ARRAY[0, 0, 0]::float8[], ARRAY[1, 2, 3],
                           '{"metric": "euclidean", "speed": 1e-300}');
SELECT freight.score_route(ARRAY[[0, 1e15], [1e15, 0]]::float8[], ARRAY[1, 2], '{"traffic": false, "speed": 1e-300}'::jsonb);
-- time windows on an open route (the start is the depot, its return is free): the nearer stop first
SELECT freight.optimize_route(ARRAY[0, 10, 1]::float8[], ARRAY[0, 0, 0]::float8[],
       '{"metric": "euclidean", "closed": false, "time_windows": [[0, 100], [0, 100], [0, 100]]}') AS open_with_windows;

-- the solvers are for staff and drivers
SET ROLE freight_anon;
SELECT freight.optimize_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[]);
SELECT freight.route_distance(0, 0, 3, 4, 'euclidean') AS anyone_may_measure;
RESET ROLE;
SET ROLE freight_driver;
SELECT freight.optimize_route(ARRAY[0, 1]::float8[], ARRAY[0, 1]::float8[]) AS driver_may_optimize;
RESET ROLE;

-- a driver's day: delivery points (stored encrypted), a plan with ETAs, re-planning
-- (terse errors: their details name driver ids, which depend on the other tests)
\set VERBOSITY terse
SELECT (freight.create_vehicle('RT 1', 500, 10)).id AS veh \gset
SELECT (freight.create_driver('Route Tester', '+49301234599', NULL, NULL, :veh)).id AS drv \gset
SELECT (freight.create_customer('Route Customer', 'pro', 'route@example.org', '+49301111199')).id AS cust \gset
CREATE TEMP TABLE day_ships AS
    SELECT i, (freight.create_shipment('Origin street ' || i, 'Destination street ' || i, 10, :cust,
                                        NULL, '2030-01-07')).tracking_number AS tn
    FROM generate_series(1, 5) AS i;
UPDATE freight.shipments SET driver_id = :drv WHERE tracking_number IN (SELECT tn FROM day_ships);
SELECT freight.plan_driver_day(:drv, 13.40, 52.50, '2030-01-07');  -- no delivery points yet
SELECT count(*) FROM (
    SELECT freight.set_delivery_point(tn, 13.40 + i * 0.01 * (i % 2 * 2 - 1), 52.52 + i * 0.005,
                                      CASE WHEN i = 3 THEN time '08:00' END, CASE WHEN i = 3 THEN time '08:20' END)
    FROM day_ships) s;
SELECT position(convert_to('13.4', 'UTF8') IN location) = 0 AS no_plaintext_coordinates
FROM freight.delivery_points d JOIN freight.shipments s ON s.id = d.shipment_id
WHERE s.tracking_number = (SELECT tn FROM day_ships WHERE i = 1);
SELECT p.seq, d.i AS shipment, p.eta::time(0) AS eta
FROM freight.plan_driver_day(:drv, 13.40, 52.50, '2030-01-07', '08:00', '{"seed": 1}') p
JOIN freight.shipments s ON s.id = p.shipment_id JOIN day_ships d ON d.tn = s.tracking_number
ORDER BY p.seq;
SELECT round(distance_m) AS planned_m, stale FROM freight.route_plans WHERE driver_id = :drv;
-- a shipment added to the day makes the plan stale; replan_due_routes re-plans it
INSERT INTO day_ships
    SELECT 6, (freight.create_shipment('Origin street 6', 'Destination street 6', 5, :cust, NULL, '2030-01-07')).tracking_number;
SELECT freight.set_delivery_point(tn, 13.45, 52.55) FROM day_ships WHERE i = 6;
UPDATE freight.shipments SET driver_id = :drv WHERE tracking_number = (SELECT tn FROM day_ships WHERE i = 6);
SELECT stale FROM freight.route_plans WHERE driver_id = :drv;
SELECT freight.replan_due_routes('2030-01-07');
SELECT count(*) AS stops, bool_and(eta > '2030-01-07 08:00') AS etas_after_start
FROM freight.route_plan_stops WHERE driver_id = :drv;
-- the driver is late: after the first delivery at 09:30, stop 3's window has closed
SELECT (freight.update_status(tn, 'picked_up')).status FROM day_ships WHERE i = 1;
SELECT (freight.update_status(tn, 'in_transit')).status FROM day_ships WHERE i = 1;
SELECT (freight.update_status(tn, 'out_for_delivery')).status FROM day_ships WHERE i = 1;
SELECT (freight.update_status(tn, 'delivered')).status FROM day_ships WHERE i = 1;
SELECT count(*) AS remaining, min(eta)::time(0) >= '09:30' AS from_now_on
FROM freight.replan_driver_day(:drv, '2030-01-07', '2030-01-07 09:30');
-- bad input
SELECT freight.plan_driver_day(-1, 13.4, 52.5);
SELECT freight.plan_driver_day(:drv, 200, 52.5);
SELECT freight.plan_driver_day(:drv, 13.4, 52.5, '2030-01-07', '08:00', '{"metric": "euclidean"}');
SELECT freight.replan_driver_day(:drv, '2031-01-01');
SELECT freight.set_delivery_point('IFE-000000000000', 13.4, 52.5);
SELECT freight.set_delivery_point(tn, 13.4, 95) FROM day_ships WHERE i = 2;
SELECT freight.set_delivery_point(tn, 13.4, 52.5, '10:00', '09:00') FROM day_ships WHERE i = 2;
UPDATE freight.shipments SET weight_kg = 200 WHERE driver_id = :drv;
SELECT freight.replan_driver_day(:drv, '2030-01-07', '2030-01-07 09:30');
