/*
 * route_sql.c — the SQL face of the routing solvers: turns arrays into RouteMetric and problem
 * structs, checks every input, runs the pure solvers (route_tsp.c, route_vrp.c, route_score.c)
 * in a memory context of their own, and turns the answers into int[] or jsonb.
 *
 * The user-facing functions (freight.optimize_route, freight.plan_routes, freight.score_route)
 * are SQL wrappers in extension/sql/70_routing.sql that read the options jsonb and call the
 * internal functions here.  Searches call CHECK_FOR_INTERRUPTS through RouteEnv every few
 * microseconds, so statement_timeout and pg_cancel_backend stop them at once; everything they
 * allocate is palloc'd, so an ERROR or a cancel leaks nothing.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "route_score.h"
#include "route_tsp.h"
#include "route_vrp.h"

PG_FUNCTION_INFO_V1(freight_route_distance);
PG_FUNCTION_INFO_V1(freight_route_tsp);
PG_FUNCTION_INFO_V1(freight_route_vrp);
PG_FUNCTION_INFO_V1(freight_route_score);

#define MAX_BUDGET_MS 600000
#define MAX_MAGNITUDE 1e15		/* coordinates and costs: keeps every sum of distances finite */

/*
 * Default search lengths: without max_iterations, a TSP search stops after max(50, n) kicks
 * (2n above 100 stops) that found nothing shorter — small problems finish in milliseconds,
 * deterministically — or at the time budget; a VRP search runs 2,000 ruin-and-recreate steps per stop or to the budget.
 */
#define DEFAULT_TSP_STALL(n) ((n) <= 100 ? Max(50, (int64) (n)) : 2 * (int64) (n))
#define DEFAULT_VRP_ITERATIONS(n) (2000 * (int64) (n))

static void *
pg_route_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static void
pg_route_release(void *ctx, void *ptr)
{
	pfree(ptr);
}

static void
pg_route_interrupts(void *ctx)
{
	CHECK_FOR_INTERRUPTS();
}

/* A RouteEnv whose allocations live in a child context of the current one. */
static RouteEnv
route_env_begin(void)
{
	RouteEnv	env;

	env.alloc = pg_route_alloc;
	env.release = pg_route_release;
	env.check_interrupts = pg_route_interrupts;
	env.ctx = AllocSetContextCreate(CurrentMemoryContext, "freight routing", ALLOCSET_DEFAULT_SIZES);
	return env;
}

static void
route_env_end(RouteEnv *env)
{
	MemoryContextDelete((MemoryContext) env->ctx);
}

/* A one-dimensional float8[] without NULLs or non-finite values; NULL array -> NULL. */
static double *
float8_array(ArrayType *a, const char *name, int *count)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *out;
	int			n;

	*count = 0;
	if (a == NULL)
		return NULL;
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name)));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	out = palloc(sizeof(double) * (n > 0 ? n : 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULLs", name),
					 errdetail("Element %d is NULL.", i + 1)));
		out[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(out[i]) || fabs(out[i]) > MAX_MAGNITUDE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s must contain only finite numbers of at most 1e15 in magnitude", name),
					 errdetail("Element %d is %g.", i + 1, out[i])));
	}
	*count = n;
	return out;
}

/* An optional per-stop array: NULL, or exactly n values. */
static double *
per_stop_array(ArrayType *a, const char *name, int n)
{
	int			count;
	double	   *v = float8_array(a, name, &count);

	if (v && count != n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d entries but there are %d stops", name, count, n)));
	return v;
}

static void
check_haversine(const double *x, const double *y, int n)
{
	for (int i = 0; i < n; i++)
		if (x[i] < -180 || x[i] > 180 || y[i] < -90 || y[i] > 90)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("coordinates of stop %d are out of range for haversine", i + 1),
					 errdetail("x = %g, y = %g; x is a longitude in [-180, 180] and y a latitude in [-90, 90].",
							   x[i], y[i]),
					 errhint("Use \"metric\": \"euclidean\" for planar coordinates.")));
}

/*
 * The metric from (x, y, metric name) or from a square cost matrix; returns the number of
 * stops.  Exactly one of the two forms must be given.
 */
static int
metric_from_args(FunctionCallInfo fcinfo, int xarg, RouteMetric *m, const RouteEnv *env)
{
	ArrayType  *xa = PG_ARGISNULL(xarg) ? NULL : PG_GETARG_ARRAYTYPE_P(xarg);
	ArrayType  *ya = PG_ARGISNULL(xarg + 1) ? NULL : PG_GETARG_ARRAYTYPE_P(xarg + 1);
	ArrayType  *ca = PG_ARGISNULL(xarg + 2) ? NULL : PG_GETARG_ARRAYTYPE_P(xarg + 2);
	char	   *metric = PG_ARGISNULL(xarg + 3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(xarg + 3));

	if (ca)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			count;
		double	   *cost;
		int			n;

		if (ARR_NDIM(ca) != 2 || ARR_DIMS(ca)[0] != ARR_DIMS(ca)[1])
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("cost matrix must be a square two-dimensional array"),
					 errdetail("Got %d dimension(s)%s.", ARR_NDIM(ca),
							   ARR_NDIM(ca) == 2 ? " of different lengths" : ""),
					 errhint("Pass ARRAY[[0, 5], [5, 0]]: row i, column j is the cost from stop i to stop j.")));
		n = ARR_DIMS(ca)[0];
		deconstruct_array(ca, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &count);
		cost = route_alloc(env, sizeof(double) * (size_t) count);
		for (int i = 0; i < count; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("cost matrix must not contain NULLs"),
						 errdetail("Row %d, column %d is NULL.", i / n + 1, i % n + 1)));
			cost[i] = DatumGetFloat8(elems[i]);
			if (!isfinite(cost[i]) || cost[i] < 0 || cost[i] > MAX_MAGNITUDE)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("cost matrix entries must be between 0 and 1e15"),
						 errdetail("Row %d, column %d is %g.", i / n + 1, i % n + 1, cost[i])));
		}
		for (int i = 0; i < n; i++)
			cost[(size_t) i * n + i] = 0.0;
		route_metric_init_matrix(m, n, cost);
		return n;
	}
	else
	{
		RouteMetricKind kind;
		int			nx, ny;
		double	   *x, *y;

		if (xa == NULL || ya == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("x and y must not be NULL")));
		if (metric == NULL || !route_metric_parse(metric, &kind))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown metric \"%s\"", metric ? metric : "(null)"),
					 errhint("Use haversine, euclidean or euc2d, or pass a cost matrix.")));
		x = float8_array(xa, "x", &nx);
		y = float8_array(ya, "y", &ny);
		if (nx != ny)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("x and y must have the same length"),
					 errdetail("x has %d entries, y has %d.", nx, ny)));
		if (kind == ROUTE_METRIC_HAVERSINE)
			check_haversine(x, y, nx);
		route_metric_init_xy(m, env, kind, nx, x, y);
		return nx;
	}
}

static void
check_stop_index(int v, int n, const char *name)
{
	if (v < 1 || v > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a stop index between 1 and %d", name, n),
				 errdetail("Got %d.", v)));
}

static void
check_search_limits(int budget_ms, int64 iterations)
{
	if (budget_ms < 1 || budget_ms > MAX_BUDGET_MS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_budget_ms must be between 1 and %d", MAX_BUDGET_MS),
				 errdetail("Got %d.", budget_ms)));
	if (iterations < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iterations must not be negative")));
}

static void
check_time_windows(const double *open, const double *close, int n)
{
	for (int i = 0; open && i < n; i++)
		if (open[i] > close[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time window of stop %d opens after it closes", i + 1),
					 errdetail("Window [%g, %g].", open[i], close[i])));
}

/*
 * freight.route_distance(x1, y1, x2, y2, metric) -> float8
 */
Datum
freight_route_distance(PG_FUNCTION_ARGS)
{
	double		x[2] = {PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(2)};
	double		y[2] = {PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(3)};
	char	   *metric = text_to_cstring(PG_GETARG_TEXT_PP(4));
	RouteMetricKind kind;
	RouteMetric m;
	RouteEnv	env;
	double		d;

	if (!route_metric_parse(metric, &kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metric),
				 errhint("Use haversine, euclidean or euc2d.")));
	for (int i = 0; i < 2; i++)
		if (!isfinite(x[i]) || !isfinite(y[i]) || fabs(x[i]) > MAX_MAGNITUDE || fabs(y[i]) > MAX_MAGNITUDE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("coordinates must be finite numbers of at most 1e15 in magnitude")));
	if (kind == ROUTE_METRIC_HAVERSINE)
		check_haversine(x, y, 2);
	env = route_env_begin();
	route_metric_init_xy(&m, &env, kind, 2, x, y);
	d = route_dist(&m, 0, 1);
	route_env_end(&env);
	PG_RETURN_FLOAT8(d);
}

static ArrayType *
order_to_array(const int *order, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int32GetDatum(order[i] + 1);
	return construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT);
}

/*
 * A single vehicle with time windows: the VRP solver with one vehicle and the start stop as
 * its depot (stops renumbered so the start is node 0); an open route returns to it for free.
 */
static void
tsp_with_time_windows(const RouteEnv *env, const RouteMetric *m, int start, bool closed,
					  const double *open, const double *close, const double *service,
					  double speed, int budget_ms, int64 iterations, uint64 seed, int *order)
{
	int			n = m->n;
	int		   *node = palloc(sizeof(int) * n);	/* new index -> stop */
	double	   *o = palloc(sizeof(double) * n);
	double	   *c = palloc(sizeof(double) * n);
	double	   *s = palloc(sizeof(double) * n);
	RouteMetric pm;
	RouteVrpProblem p;
	RouteVrpResult r;
	const char *why;
	int			bad;

	for (int i = 0; i < n; i++)
		node[i] = i == 0 ? start : (i <= start ? i - 1 : i);
	for (int i = 0; i < n; i++)
	{
		o[i] = open[node[i]];
		c[i] = close[node[i]];
		s[i] = service ? service[node[i]] : 0.0;
	}
	if (!closed)
		c[0] = INFINITY;
	/* no n x n copy: the solver caches distances itself up to its limit */
	route_metric_init_renumbered(&pm, m, n, node, !closed);
	memset(&p, 0, sizeof(p));
	p.m = &pm;
	p.tw_open = o;
	p.tw_close = c;
	p.service = s;
	p.speed = speed;
	p.max_vehicles = 1;
	p.time_budget_ms = budget_ms;
	p.max_iterations = iterations;
	p.seed = seed;
	bad = route_vrp_unservable(&p, &why);
	if (bad >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stop %d cannot be served: %s", node[bad] + 1, why)));
	route_vrp_solve(env, &p, &r);
	if (r.unassigned > 0 || r.nroutes > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no visiting order meets every time window"),
				 errdetail("The best order found still misses %d stop(s).", r.unassigned),
				 errhint("Widen the time windows, or use freight.plan_routes with more vehicles.")));
	order[0] = start;
	for (int i = 0; i < n - 1; i++)
		order[i + 1] = node[r.stops[i]];
}

/*
 * freight.route_tsp(x, y, cost, metric, closed, start, end, time_budget_ms, max_iterations,
 *                   seed, tw_open, tw_close, service, speed) -> int[]
 * start/end: 1-based stop or NULL (free).
 */
Datum
freight_route_tsp(PG_FUNCTION_ARGS)
{
	RouteEnv	env = route_env_begin();
	RouteMetric m;
	RouteTspOptions opt;
	RouteTspResult res;
	int			n = metric_from_args(fcinfo, 0, &m, &env);
	bool		closed = PG_ARGISNULL(4) ? true : PG_GETARG_BOOL(4);
	int			budget = PG_ARGISNULL(7) ? 1000 : PG_GETARG_INT32(7);
	int64		iterations = PG_ARGISNULL(8) ? PG_INT64_MAX : PG_GETARG_INT64(8);
	double	   *open = per_stop_array(PG_ARGISNULL(10) ? NULL : PG_GETARG_ARRAYTYPE_P(10), "time window opens", n);
	double	   *close = per_stop_array(PG_ARGISNULL(11) ? NULL : PG_GETARG_ARRAYTYPE_P(11), "time window closes", n);
	double	   *service = per_stop_array(PG_ARGISNULL(12) ? NULL : PG_GETARG_ARRAYTYPE_P(12), "service_times", n);
	double		speed = PG_ARGISNULL(13) ? 1.0 : PG_GETARG_FLOAT8(13);
	int		   *order;
	ArrayType  *result;

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no stops to visit"),
				 errhint("Pass at least one stop.")));
	opt.closed = closed;
	opt.start = -1;
	opt.end = -1;
	if (!PG_ARGISNULL(5))
	{
		check_stop_index(PG_GETARG_INT32(5), n, "start");
		opt.start = PG_GETARG_INT32(5) - 1;
	}
	if (!PG_ARGISNULL(6))
	{
		if (closed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("end cannot be used with a closed route"),
					 errhint("A closed route ends where it starts; set \"closed\": false for a fixed end.")));
		check_stop_index(PG_GETARG_INT32(6), n, "end");
		opt.end = PG_GETARG_INT32(6) - 1;
		if (opt.end == opt.start)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("start and end must be different stops"),
					 errhint("For a route back to its start use \"closed\": true.")));
	}
	check_search_limits(budget, iterations);
	if ((open == NULL) != (close == NULL))
		elog(ERROR, "time window opens and closes must be given together");
	check_time_windows(open, close, n);
	if (!(speed > 0) || !isfinite(speed))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("speed must be a positive number")));
	opt.time_budget_ms = budget;
	opt.max_iterations = iterations;
	opt.max_stall = PG_ARGISNULL(8) ? DEFAULT_TSP_STALL(n) : 0;
	opt.seed = PG_ARGISNULL(9) ? 1 : (uint64) PG_GETARG_INT64(9);

	order = palloc(sizeof(int) * n);
	if (open && n > 1)
	{
		if (opt.end >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a fixed end cannot be combined with time windows")));
		tsp_with_time_windows(&env, &m, opt.start >= 0 ? opt.start : 0, closed, open, close,
							  service, speed, budget,
							  PG_ARGISNULL(8) ? DEFAULT_VRP_ITERATIONS(n) : iterations, opt.seed, order);
	}
	else
		route_tsp_solve(&env, &m, &opt, order, &res);
	result = order_to_array(order, n);
	route_env_end(&env);
	PG_RETURN_ARRAYTYPE_P(result);
}

/* Routes as a JSON array of arrays of 1-based stops. */
static Datum
plan_to_jsonb(const RouteVrpResult *r)
{
	StringInfoData buf;
	int			k = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < r->nroutes; i++)
	{
		appendStringInfoString(&buf, i ? ", [" : "[");
		for (int j = 0; j < r->route_len[i]; j++)
			appendStringInfo(&buf, j ? ", %d" : "%d", r->stops[k++] + 1);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * freight.route_vrp(x, y, cost, metric, demand, capacity, tw_open, tw_close, service, speed,
 *                   vehicles, vehicle_cost, time_budget_ms, max_iterations, seed) -> jsonb
 */
Datum
freight_route_vrp(PG_FUNCTION_ARGS)
{
	RouteEnv	env = route_env_begin();
	RouteMetric m;
	RouteVrpProblem p;
	RouteVrpResult r;
	int			n = metric_from_args(fcinfo, 0, &m, &env);
	int			bad;
	const char *why;
	Datum		result;

	memset(&p, 0, sizeof(p));
	p.m = &m;
	p.demand = per_stop_array(PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4), "demand", n);
	p.capacity = PG_ARGISNULL(5) ? 0.0 : PG_GETARG_FLOAT8(5);
	p.tw_open = per_stop_array(PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6), "time window opens", n);
	p.tw_close = per_stop_array(PG_ARGISNULL(7) ? NULL : PG_GETARG_ARRAYTYPE_P(7), "time window closes", n);
	p.service = per_stop_array(PG_ARGISNULL(8) ? NULL : PG_GETARG_ARRAYTYPE_P(8), "service_times", n);
	p.speed = PG_ARGISNULL(9) ? 1.0 : PG_GETARG_FLOAT8(9);
	p.max_vehicles = PG_ARGISNULL(10) ? 0 : PG_GETARG_INT32(10);
	p.vehicle_cost = PG_ARGISNULL(11) ? 0.0 : PG_GETARG_FLOAT8(11);
	p.time_budget_ms = PG_ARGISNULL(12) ? 1000 : PG_GETARG_INT32(12);
	p.max_iterations = PG_ARGISNULL(13) ? DEFAULT_VRP_ITERATIONS(n) : PG_GETARG_INT64(13);
	p.seed = PG_ARGISNULL(14) ? 1 : (uint64) PG_GETARG_INT64(14);

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("plan_routes needs the depot and at least one stop"),
				 errdetail("Got %d point(s); point 1 is the depot.", n)));
	if (!isfinite(p.capacity) || p.capacity <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("capacity must be a positive number")));
	for (int i = 1; p.demand && i < n; i++)
		if (p.demand[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("demand of stop %d is negative", i + 1)));
	if (p.max_vehicles < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vehicles must not be negative")));
	if (!(p.speed > 0) || !isfinite(p.speed))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("speed must be a positive number")));
	if (!(p.vehicle_cost >= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vehicle_cost must be a number that is not negative")));
	if (isinf(p.vehicle_cost))
	{
		/* "minimize_vehicles": fewest vehicles first, then distance */
		p.vehicle_cost = 0.0;
		p.minimize_vehicles = true;
	}
	check_search_limits((int) p.time_budget_ms, p.max_iterations);
	if ((p.tw_open == NULL) != (p.tw_close == NULL))
		elog(ERROR, "time window opens and closes must be given together");
	check_time_windows(p.tw_open, p.tw_close, n);
	bad = route_vrp_unservable(&p, &why);
	if (bad >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stop %d cannot be served: %s", bad + 1, why)));

	route_vrp_solve(&env, &p, &r);
	if (r.unassigned > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d vehicle(s) cannot serve every stop", p.max_vehicles),
				 errdetail("The best plan found leaves %d stop(s) unserved.", r.unassigned),
				 errhint("Allow more vehicles, or leave \"vehicles\" out to use as many as needed.")));

	result = plan_to_jsonb(&r);
	route_env_end(&env);
	PG_RETURN_DATUM(result);
}

/* A route: 1-based stops, each once, as 0-based indexes. */
static int *
route_from_array(ArrayType *ra, int n, int *count)
{
	Datum	   *elems;
	bool	   *nulls;
	bool	   *seen = palloc0(sizeof(bool) * (n > 0 ? n : 1));
	int		   *order;

	if (ARR_NDIM(ra) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("route must be a one-dimensional array")));
	deconstruct_array(ra, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, count);
	if (*count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("route has no stops")));
	order = palloc(sizeof(int) * *count);
	for (int i = 0; i < *count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("route must not contain NULLs")));
		check_stop_index(DatumGetInt32(elems[i]), n, "each route entry");
		order[i] = DatumGetInt32(elems[i]) - 1;
		if (seen[order[i]])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("route visits stop %d twice", order[i] + 1)));
		seen[order[i]] = true;
	}
	return order;
}

static void
check_traffic(const double *traffic, int count)
{
	if (traffic && count != 24)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("traffic factors need one value per hour of the day (24)"),
				 errdetail("Got %d.", count)));
	for (int h = 0; traffic && h < 24; h++)
		if (!(traffic[h] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("traffic factor of hour %d must be positive", h)));
}

static Datum
score_to_jsonb(const RouteScoreInput *in, const RouteScore *sc, const double *arrival,
			   const double *late)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"distance\": %.10g, \"drive_time\": %.10g, \"service_time\": %.10g, "
					 "\"wait_time\": %.10g, \"total_time\": %.10g, \"end_time\": %.10g, "
					 "\"lateness\": %.10g, \"late_stops\": %d, \"load\": %.10g, ",
					 sc->distance, sc->drive_time, sc->service_time, sc->wait_time, sc->total_time,
					 sc->end_time, sc->lateness, sc->late_stops, sc->load);
	if (in->capacity > 0)
		appendStringInfo(&buf, "\"capacity_use\": %.10g, ", sc->load / in->capacity);
	appendStringInfo(&buf, "\"overload\": %.10g, \"feasible\": %s, \"score\": %.10g, \"stops\": [",
					 sc->overload, sc->feasible ? "true" : "false", sc->score);
	for (int i = 0; i < in->count; i++)
		appendStringInfo(&buf, "%s{\"stop\": %d, \"arrival\": %.10g, \"lateness\": %.10g}",
						 i ? ", " : "", in->order[i] + 1, arrival[i], late[i]);
	appendStringInfoString(&buf, "]}");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * freight.route_score(x, y, cost, metric, route int[], closed, start_time, speed, traffic,
 *                     service, tw_open, tw_close, demand, capacity, weights) -> jsonb
 */
Datum
freight_route_score(PG_FUNCTION_ARGS)
{
	RouteEnv	env = route_env_begin();
	RouteMetric m;
	RouteScoreInput in;
	RouteScore sc;
	int			n = metric_from_args(fcinfo, 0, &m, &env);
	int			ntraffic, nweights;
	double	   *arrival, *late, *weights;
	Datum		result;

	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("route must not be NULL")));
	memset(&in, 0, sizeof(in));
	in.m = &m;
	in.order = route_from_array(PG_GETARG_ARRAYTYPE_P(4), n, &in.count);
	in.closed = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	in.start_time = PG_ARGISNULL(6) ? 0.0 : PG_GETARG_FLOAT8(6);
	in.speed = PG_ARGISNULL(7) ? 1.0 : PG_GETARG_FLOAT8(7);
	in.traffic = float8_array(PG_ARGISNULL(8) ? NULL : PG_GETARG_ARRAYTYPE_P(8), "traffic factors", &ntraffic);
	in.service = per_stop_array(PG_ARGISNULL(9) ? NULL : PG_GETARG_ARRAYTYPE_P(9), "service_times", n);
	in.tw_open = per_stop_array(PG_ARGISNULL(10) ? NULL : PG_GETARG_ARRAYTYPE_P(10), "time window opens", n);
	in.tw_close = per_stop_array(PG_ARGISNULL(11) ? NULL : PG_GETARG_ARRAYTYPE_P(11), "time window closes", n);
	in.demand = per_stop_array(PG_ARGISNULL(12) ? NULL : PG_GETARG_ARRAYTYPE_P(12), "demand", n);
	in.capacity = PG_ARGISNULL(13) ? 0.0 : PG_GETARG_FLOAT8(13);
	weights = float8_array(PG_ARGISNULL(14) ? NULL : PG_GETARG_ARRAYTYPE_P(14), "weights", &nweights);
	check_traffic(in.traffic, ntraffic);
	if (!(in.speed > 0) || !isfinite(in.speed))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("speed must be a positive number")));
	if (!isfinite(in.start_time) || fabs(in.start_time) > MAX_MAGNITUDE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_time must be a finite number of seconds")));
	if (!PG_ARGISNULL(13) && !(in.capacity > 0 && isfinite(in.capacity)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("capacity must be a positive number")));
	if (weights == NULL || nweights != 4)
		elog(ERROR, "route_score needs four weights");
	in.w_distance = weights[0];
	in.w_time = weights[1];
	in.w_lateness = weights[2];
	in.w_overload = weights[3];
	if ((in.tw_open == NULL) != (in.tw_close == NULL))
		elog(ERROR, "time window opens and closes must be given together");
	check_time_windows(in.tw_open, in.tw_close, n);

	arrival = palloc(sizeof(double) * in.count);
	late = palloc(sizeof(double) * in.count);
	route_score(&in, arrival, late, &sc);
	if (!isfinite(sc.score) || !isfinite(sc.end_time) || !isfinite(sc.distance))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("route score is out of range"),
				 errdetail("The route's distance, times or weighted score overflow a double precision number."),
				 errhint("Use a higher speed, smaller costs or smaller weights.")));
	result = score_to_jsonb(&in, &sc, arrival, late);
	route_env_end(&env);
	PG_RETURN_DATUM(result);
}
