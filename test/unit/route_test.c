/*
 * route_test.c — unit tests of the pure routing code (extension/route_*.c): metrics, the TSP
 * solver (exact small cases, known optima on circles and grids, open paths with fixed ends,
 * asymmetric matrices, determinism, interrupts and time budgets), the VRP solver (every
 * customer once, capacities, time windows) and route scoring.  Prints "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route_score.h"
#include "route_tsp.h"
#include "route_vrp.h"
#include "unit_check.h"

static long interrupt_calls;
static clock_t last_interrupt;
static double max_interrupt_gap_ms;	/* longest CPU time between two interrupt checks */


static void *
test_alloc(void *ctx, size_t size)
{
	void	   *p = calloc(1, size);

	(void) ctx;
	if (!p)
		abort();
	return p;
}

static void
test_release(void *ctx, void *p)
{
	(void) ctx;
	free(p);
}

static void
test_interrupts(void *ctx)
{
	clock_t		now = clock();

	(void) ctx;
	if (interrupt_calls++ > 0 && (double) (now - last_interrupt) * 1000.0 / CLOCKS_PER_SEC > max_interrupt_gap_ms)
		max_interrupt_gap_ms = (double) (now - last_interrupt) * 1000.0 / CLOCKS_PER_SEC;
	last_interrupt = now;
}

static const RouteEnv env = {test_alloc, test_release, test_interrupts, NULL};

static bool
is_permutation(const int *order, int n)
{
	char	   *seen = calloc(n, 1);
	bool		ok = true;

	for (int i = 0; i < n; i++)
	{
		if (order[i] < 0 || order[i] >= n || seen[order[i]])
			ok = false;
		else
			seen[order[i]] = 1;
	}
	free(seen);
	return ok;
}

static RouteTspOptions
tsp_options(bool closed, int start, int end)
{
	RouteTspOptions o = {closed, start, end, 2000.0, 2000, 0, 7};

	return o;
}

static void
test_metrics(void)
{
	double		x[3] = {13.4050, 2.3522, 0}, y[3] = {52.5200, 48.8566, 0};
	double		px[2] = {0, 3}, py[2] = {0, 4.6};
	double		mat[4] = {0, 5, 7, 0};
	RouteMetric m;
	RouteMetricKind k;

	route_metric_init_xy(&m, &env, ROUTE_METRIC_HAVERSINE, 3, x, y);
	/* Berlin - Paris great circle: 877.5 km */
	CHECK(fabs(route_dist(&m, 0, 1) - 877464.5) < 100, "haversine Berlin-Paris %f", route_dist(&m, 0, 1));
	CHECK(route_dist(&m, 1, 1) == 0, "haversine zero");
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, 2, px, py);
	CHECK(fabs(route_dist(&m, 0, 1) - sqrt(9 + 4.6 * 4.6)) < 1e-12, "euclidean");
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUC2D, 2, px, py);
	CHECK(route_dist(&m, 0, 1) == 5, "euc2d rounds 5.46 to 5: %f", route_dist(&m, 0, 1));
	route_metric_init_matrix(&m, 2, mat);
	CHECK(route_dist(&m, 0, 1) == 5 && route_dist(&m, 1, 0) == 7, "matrix is row = from");
	CHECK(route_metric_parse("euc2d", &k) && k == ROUTE_METRIC_EUC2D, "parse euc2d");
	CHECK(!route_metric_parse("manhattan", &k), "unknown metric refused");
}

/* Points on a circle in shuffled order: the optimal closed tour is the polygon. */
static void
test_tsp_circle(int n)
{
	double	   *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
	int		   *order = malloc(sizeof(int) * n);
	RouteMetric m;
	RouteTspOptions o = tsp_options(true, -1, -1);
	RouteTspResult r;
	double		polygon;
	RouteRng	rng;
	int		   *perm = malloc(sizeof(int) * n);

	route_rng_seed(&rng, 42);
	for (int i = 0; i < n; i++)
		perm[i] = i;
	for (int i = n - 1; i > 0; i--)
	{
		int			j = route_rng_int(&rng, i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int i = 0; i < n; i++)
	{
		x[perm[i]] = 1000 * cos(2 * M_PI * i / n);
		y[perm[i]] = 1000 * sin(2 * M_PI * i / n);
	}
	polygon = n * 2000 * sin(M_PI / n);
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
	route_tsp_solve(&env, &m, &o, order, &r);
	CHECK(is_permutation(order, n), "circle %d: a permutation", n);
	CHECK(fabs(r.length - polygon) < 1e-6 * polygon, "circle %d: optimal %f, got %f", n, polygon, r.length);
	CHECK(fabs(route_order_length(&m, order, n, true) - r.length) < 1e-6, "circle %d: length reported", n);
	free(x);
	free(y);
	free(order);
	free(perm);
}

/* A 20 x 20 unit grid: the optimal tour has length 400. */
static void
test_tsp_grid(void)
{
	int			n = 400;
	double		x[400], y[400];
	int			order[400];
	RouteMetric m;
	RouteTspOptions o = tsp_options(true, 5, -1);
	RouteTspResult r;

	/* (i*7) mod 400 enumerates the grid in a scrambled order */
	for (int i = 0; i < n; i++)
	{
		x[i] = ((i * 7) % 400) % 20;
		y[i] = ((i * 7) % 400) / 20;
	}
	o.max_iterations = 20000;
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUC2D, n, x, y);
	route_tsp_solve(&env, &m, &o, order, &r);
	CHECK(is_permutation(order, n), "grid: a permutation");
	CHECK(order[0] == 5, "grid: starts at the fixed start");
	CHECK(r.length <= 400 * 1.01, "grid: within 1%% of 400, got %f", r.length);
}

/* Exhaustive check of small random instances (exact DP for <= 12 nodes, ILS above). */
static double
brute_force(const RouteMetric *m, int n, bool closed, int start, int end)
{
	int			perm[10];
	double		best = INFINITY;
	int			c[10] = {0};

	for (int i = 0; i < n; i++)
		perm[i] = i;
	/* Heap's algorithm */
	for (int i = 0;;)
	{
		bool		ok = (start < 0 || perm[0] == start) && (end < 0 || perm[n - 1] == end);

		if (ok)
		{
			double		len = route_order_length(m, perm, n, closed);

			if (len < best)
				best = len;
		}
		while (i < n && c[i] >= i)
			c[i++] = 0;
		if (i >= n)
			break;
		{
			int			j = (i % 2 == 0) ? 0 : c[i];
			int			t = perm[j];

			perm[j] = perm[i];
			perm[i] = t;
		}
		c[i]++;
		i = 0;
	}
	return best;
}

static void
test_tsp_small_exact(void)
{
	RouteRng	rng;

	route_rng_seed(&rng, 3);
	for (int trial = 0; trial < 12; trial++)
	{
		int			n = 2 + trial % 7;
		double		x[10], y[10], mat[100];
		int			order[10];
		RouteMetric m;
		bool		closed = trial % 2 == 0;
		int			start = trial % 3 == 0 ? 0 : -1;
		int			end = (!closed && trial % 4 == 1) ? n - 1 : -1;
		RouteTspOptions o = tsp_options(closed, start, end);
		RouteTspResult r;

		for (int i = 0; i < n; i++)
		{
			x[i] = route_rng_int(&rng, 100);
			y[i] = route_rng_int(&rng, 100);
		}
		if (trial >= 6)
		{
			/* asymmetric matrix */
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					mat[i * n + j] = i == j ? 0 : 1 + route_rng_int(&rng, 50);
			route_metric_init_matrix(&m, n, mat);
		}
		else
			route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
		route_tsp_solve(&env, &m, &o, order, &r);
		CHECK(is_permutation(order, n), "small %d: permutation", trial);
		CHECK(start < 0 || order[0] == start, "small %d: start", trial);
		CHECK(end < 0 || order[n - 1] == end, "small %d: end", trial);
		if (trial < 6)
			CHECK(fabs(r.length - brute_force(&m, n, closed, start, end)) < 1e-6,
				  "small %d (n=%d closed=%d start=%d end=%d): optimal %f, got %f", trial, n, closed,
				  start, end, brute_force(&m, n, closed, start, end), r.length);
		else
			/* asymmetric: searched symmetrised, then the cheaper direction; at most the optimum of
			 * the symmetrised problem in that direction */
			CHECK(r.length >= brute_force(&m, n, closed, start, end) - 1e-6,
				  "small %d: not below the optimum", trial);
	}
}

/* Stops on a line, open path from the leftmost fixed start to a fixed end at the right. */
static void
test_tsp_open_path(void)
{
	int			n = 60;
	double		x[60], y[60];
	int			order[60];
	RouteMetric m;
	RouteTspOptions o = tsp_options(false, 17, 3);
	RouteTspResult r;

	for (int i = 0; i < n; i++)
	{
		x[i] = (i * 37) % n;
		y[i] = 0;
	}
	/*
	 * Stop 17 is at x = 29 and stop 3 at x = 51.  Best: down to 0, up to 59, back to 51
	 * = 29 + 59 + 8 = 96 (going up first costs 30 + 59 + 51 = 140).
	 */
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
	route_tsp_solve(&env, &m, &o, order, &r);
	CHECK(is_permutation(order, n), "line: permutation");
	CHECK(order[0] == 17 && order[n - 1] == 3, "line: fixed ends %d .. %d", order[0], order[n - 1]);
	CHECK(fabs(r.length - 96) < 1e-9, "line: length 96, got %f", r.length);
}

static void
test_tsp_deterministic_and_duplicates(void)
{
	int			n = 150;
	double		x[150], y[150];
	int			a[150], b[150];
	RouteMetric m;
	RouteTspOptions o = tsp_options(true, -1, -1);
	RouteTspResult r1, r2;
	RouteRng	rng;

	route_rng_seed(&rng, 9);
	for (int i = 0; i < n; i++)
	{
		/* every point twice */
		x[i] = i < n / 2 ? route_rng_int(&rng, 1000) : x[i - n / 2];
		y[i] = i < n / 2 ? route_rng_int(&rng, 1000) : y[i - n / 2];
	}
	o.time_budget_ms = 60000;
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUC2D, n, x, y);
	route_tsp_solve(&env, &m, &o, a, &r1);
	route_tsp_solve(&env, &m, &o, b, &r2);
	CHECK(memcmp(a, b, sizeof(a)) == 0, "same seed and iteration limit: same tour");
	CHECK(r1.iterations == o.max_iterations, "ran all %ld iterations", o.max_iterations);
	CHECK(is_permutation(a, n), "duplicates: permutation");
	{
		int			half[75];
		RouteMetric mh;
		RouteTspResult rh;

		route_metric_init_xy(&mh, &env, ROUTE_METRIC_EUC2D, n / 2, x, y);
		route_tsp_solve(&env, &mh, &o, half, &rh);
		CHECK(r1.length <= rh.length * 1.02, "duplicates cost (almost) nothing: %f vs %f", r1.length, rh.length);
	}
}

static void
test_tsp_budget_and_interrupts(void)
{
	int			n = 2000;
	double	   *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
	int		   *order = malloc(sizeof(int) * n);
	RouteMetric m;
	RouteTspOptions o = tsp_options(true, -1, -1);
	RouteTspResult r;
	RouteRng	rng;
	long		calls;

	route_rng_seed(&rng, 5);
	for (int i = 0; i < n; i++)
	{
		x[i] = route_rng_unit(&rng) * 10000;
		y[i] = route_rng_unit(&rng) * 10000;
	}
	o.time_budget_ms = 300;
	o.max_iterations = 1L << 40;
	interrupt_calls = 0;
	max_interrupt_gap_ms = 0;
	calls = interrupt_calls;
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
	route_tsp_solve(&env, &m, &o, order, &r);
	CHECK(r.elapsed_ms < 300 + 250, "time budget 300 ms honoured: %f ms", r.elapsed_ms);
	CHECK(interrupt_calls - calls > 10 && max_interrupt_gap_ms < 20,
		  "interrupt callback called at least every 20 ms of CPU: %ld calls, longest gap %.1f ms",
		  interrupt_calls - calls, max_interrupt_gap_ms);
	CHECK(is_permutation(order, n), "budget: permutation");
	free(x);
	free(y);
	free(order);
}

/*
 * Random instances of random sizes with random options (open/closed, fixed ends, duplicates,
 * asymmetric matrices, haversine): always a permutation honouring the fixed ends, with the
 * reported length.
 */
static void
test_tsp_random(void)
{
	RouteRng	rng;
	int			bad_perm = 0, bad_ends = 0, bad_len = 0;

	route_rng_seed(&rng, 2026);
	for (int trial = 0; trial < 200; trial++)
	{
		int			n = 1 + route_rng_int(&rng, trial < 150 ? 40 : 400);
		double	   *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
		double	   *mat = NULL;
		int		   *order = malloc(sizeof(int) * n);
		RouteMetric m;
		RouteTspOptions o;
		RouteTspResult r;
		int			kind = route_rng_int(&rng, 4);

		for (int i = 0; i < n; i++)
		{
			bool		dup = i > 0 && route_rng_int(&rng, 5) == 0;

			x[i] = dup ? x[i - 1] : route_rng_unit(&rng) * 360 - 180;
			y[i] = dup ? y[i - 1] : route_rng_unit(&rng) * 180 - 90;
		}
		if (kind == 3)
		{
			mat = malloc(sizeof(double) * n * n);
			for (int i = 0; i < n * n; i++)
				mat[i] = (i / n == i % n) ? 0 : route_rng_int(&rng, 100);
			route_metric_init_matrix(&m, n, mat);
		}
		else
			route_metric_init_xy(&m, &env, kind == 0 ? ROUTE_METRIC_HAVERSINE :
								 kind == 1 ? ROUTE_METRIC_EUCLIDEAN : ROUTE_METRIC_EUC2D, n, x, y);
		o.closed = route_rng_int(&rng, 2) == 0;
		o.start = route_rng_int(&rng, 3) == 0 ? -1 : route_rng_int(&rng, n);
		o.end = (!o.closed && n > 1 && route_rng_int(&rng, 2) == 0) ? route_rng_int(&rng, n) : -1;
		if (o.end == o.start)
			o.end = -1;
		o.time_budget_ms = 5000;
		o.max_iterations = 300;
		o.max_stall = route_rng_int(&rng, 2) ? 50 : 0;
		o.seed = trial;
		route_tsp_solve(&env, &m, &o, order, &r);
		if (!is_permutation(order, n))
			bad_perm++;
		else
		{
			if ((o.start >= 0 && order[0] != o.start) || (o.closed && o.start < 0 && order[0] != 0) ||
				(o.end >= 0 && order[n - 1] != o.end))
				bad_ends++;
			if (fabs(route_order_length(&m, order, n, o.closed) - r.length) > 1e-6 * (1 + r.length))
				bad_len++;
		}
		free(x);
		free(y);
		free(mat);
		free(order);
	}
	CHECK(bad_perm == 0, "random instances: %d answers were not permutations", bad_perm);
	CHECK(bad_ends == 0, "random instances: %d answers missed their fixed start or end", bad_ends);
	CHECK(bad_len == 0, "random instances: %d reported lengths were wrong", bad_len);
}

static void
check_vrp_solution(const RouteVrpProblem *p, const RouteVrpResult *r, const char *what)
{
	int			n = p->m->n;
	int		   *all = malloc(sizeof(int) * n);
	int			k = 0;
	bool		capacity_ok = true, windows_ok = true;
	double		dist = 0;

	for (int i = 0; i < r->nroutes; i++)
	{
		double		load = 0, t = p->tw_open ? p->tw_open[0] : 0;
		int			prev = 0;

		for (int j = 0; j < r->route_len[i]; j++)
		{
			int			c = r->stops[k++];

			all[k - 1] = c - 1;
			load += p->demand[c];
			dist += route_dist(p->m, prev, c);
			if (p->tw_open)
			{
				t = fmax(t + route_dist(p->m, prev, c) / p->speed, p->tw_open[c]);
				if (t > p->tw_close[c] + 1e-6)
					windows_ok = false;
				t += p->service[c];
			}
			prev = c;
		}
		dist += route_dist(p->m, prev, 0);
		if (p->tw_open && t + route_dist(p->m, prev, 0) / p->speed > p->tw_close[0] + 1e-6)
			windows_ok = false;
		if (load > p->capacity + 1e-9)
			capacity_ok = false;
	}
	CHECK(k == n - 1 && is_permutation(all, n - 1), "%s: every customer exactly once", what);
	CHECK(capacity_ok, "%s: capacities respected", what);
	CHECK(windows_ok, "%s: time windows respected", what);
	CHECK(fabs(dist - r->distance) < 1e-6, "%s: distance reported %f vs %f", what, r->distance, dist);
	free(all);
}

static void
test_vrp(void)
{
	/* depot at the origin, 4 clusters of 5 customers at the compass points; capacity 5 */
	int			n = 21;
	double		x[21], y[21], dem[21], open[21], close[21], svc[21];
	RouteMetric m;
	RouteVrpProblem p;
	RouteVrpResult r;
	const char *why;

	x[0] = y[0] = 0;
	dem[0] = 0;
	for (int i = 1; i < n; i++)
	{
		int			cl = (i - 1) / 5;

		x[i] = (cl == 0 ? 100 : cl == 1 ? -100 : 0) + (i % 5);
		y[i] = (cl == 2 ? 100 : cl == 3 ? -100 : 0) + (i % 3);
		dem[i] = 1;
	}
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
	memset(&p, 0, sizeof(p));
	p.m = &m;
	p.demand = dem;
	p.capacity = 5;
	p.speed = 1;
	p.time_budget_ms = 5000;
	p.max_iterations = 3000;
	p.seed = 1;
	CHECK(route_vrp_unservable(&p, &why) < 0, "cvrp: all servable");
	route_vrp_solve(&env, &p, &r);
	CHECK(r.nroutes == 4, "cvrp: one route per cluster, got %d", r.nroutes);
	check_vrp_solution(&p, &r, "cvrp");

	/* capacity 10 and fewest vehicles first: two vans, each taking two opposite-ish clusters */
	p.capacity = 10;
	p.minimize_vehicles = true;
	route_vrp_solve(&env, &p, &r);
	CHECK(r.nroutes == 2, "cvrp, fewest vehicles: 2 routes, got %d", r.nroutes);
	check_vrp_solution(&p, &r, "cvrp fewest vehicles");
	p.minimize_vehicles = false;

	/* time windows: cluster 0 in the morning, cluster 1 late; service 10 */
	for (int i = 0; i < n; i++)
	{
		open[i] = 0;
		close[i] = 10000;
		svc[i] = i ? 10 : 0;
	}
	for (int i = 1; i <= 5; i++)
		close[i] = 200;
	for (int i = 6; i <= 10; i++)
		open[i] = 1000;
	p.capacity = 100;
	p.tw_open = open;
	p.tw_close = close;
	p.service = svc;
	route_vrp_solve(&env, &p, &r);
	check_vrp_solution(&p, &r, "vrptw");

	p.max_vehicles = 1;
	close[2] = 50;				/* stop 2 cannot be reached by time 50 from 100 away */
	CHECK(route_vrp_unservable(&p, &why) == 2, "vrptw: unreachable window detected");
	close[2] = 200;
	dem[3] = 500;
	CHECK(route_vrp_unservable(&p, &why) == 3, "vrptw: demand above capacity detected");
	dem[3] = 1;
	p.capacity = 5;
	route_vrp_solve(&env, &p, &r);
	CHECK(r.unassigned == 15, "one vehicle of capacity 5: 15 left over, got %d", r.unassigned);
}

/* Random VRPTW instances: whatever the solver returns is a valid plan. */
static void
test_vrp_random(void)
{
	RouteRng	rng;

	route_rng_seed(&rng, 77);
	for (int trial = 0; trial < 20; trial++)
	{
		int			n = 2 + route_rng_int(&rng, 60);
		double	   *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
		double	   *dem = malloc(sizeof(double) * n), *open = malloc(sizeof(double) * n);
		double	   *close = malloc(sizeof(double) * n), *svc = malloc(sizeof(double) * n);
		RouteMetric m;
		RouteVrpProblem p;
		RouteVrpResult r;
		const char *why;
		char		what[64];

		for (int i = 0; i < n; i++)
		{
			x[i] = route_rng_int(&rng, 100);
			y[i] = route_rng_int(&rng, 100);
			dem[i] = i ? 1 + route_rng_int(&rng, 10) : 0;
			open[i] = i ? route_rng_int(&rng, 300) : 0;
			close[i] = i ? open[i] + 30 + route_rng_int(&rng, 200) : 1000;
			svc[i] = i ? route_rng_int(&rng, 10) : 0;
		}
		route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, n, x, y);
		memset(&p, 0, sizeof(p));
		p.m = &m;
		p.demand = dem;
		p.capacity = 30;
		p.tw_open = open;
		p.tw_close = close;
		p.service = svc;
		p.speed = 1;
		p.minimize_vehicles = trial % 2 == 0;
		p.time_budget_ms = 5000;
		p.max_iterations = 500;
		p.seed = trial;
		if (route_vrp_unservable(&p, &why) < 0)
		{
			route_vrp_solve(&env, &p, &r);
			snprintf(what, sizeof(what), "random vrptw %d (n=%d)", trial, n);
			check_vrp_solution(&p, &r, what);
		}
		free(x);
		free(y);
		free(dem);
		free(open);
		free(close);
		free(svc);
	}
}

static void
test_score(void)
{
	/* four stops on a square of side 1000 m at 10 m/s: 100 s per leg */
	double		x[4] = {0, 1000, 1000, 0}, y[4] = {0, 0, 1000, 1000};
	double		traffic[24], svc[4] = {0, 60, 60, 60}, open[4] = {0, 0, 500, 0};
	double		close[4] = {1e9, 1e9, 1e9, 100}, dem[4] = {0, 3, 4, 5};
	double		arrival[4], late[4];
	int			order[4] = {0, 1, 2, 3};
	RouteMetric m;
	RouteScoreInput in;
	RouteScore s;

	for (int h = 0; h < 24; h++)
		traffic[h] = h == 8 ? 2.0 : 1.0;
	route_metric_init_xy(&m, &env, ROUTE_METRIC_EUCLIDEAN, 4, x, y);
	memset(&in, 0, sizeof(in));
	in.m = &m;
	in.order = order;
	in.count = 4;
	in.closed = true;
	in.start_time = 8 * 3600 - 50;	/* 07:59:10: the first leg starts before the rush hour */
	in.speed = 10;
	in.traffic = traffic;
	in.service = svc;
	in.tw_open = open;
	in.tw_close = close;
	in.demand = dem;
	in.capacity = 10;
	in.w_distance = 1;
	in.w_time = 0;
	in.w_lateness = 100;
	in.w_overload = 1000;
	route_score(&in, arrival, late, &s);
	CHECK(s.distance == 4000, "score: distance %f", s.distance);
	/* leg 1 at 07:59:10 -> 100 s; legs 2-4 start in hour 8 -> 200 s each */
	CHECK(fabs(arrival[1] - (in.start_time + 100)) < 1e-9, "score: arrival 2 %f", arrival[1]);
	CHECK(fabs(s.drive_time - 700) < 1e-9, "score: drive time with traffic %f", s.drive_time);
	/* stop 2: arrive t0+360 after 60 s service and 200 s; opens at 500 -> no wait (t0 > 500) */
	CHECK(late[3] > 0 && s.late_stops == 1, "score: stop 4 late");
	CHECK(s.load == 12 && fabs(s.overload - 2) < 1e-9, "score: overload 2, got %f", s.overload);
	CHECK(!s.feasible, "score: infeasible");
	CHECK(fabs(s.score - (4000 + 100 * s.lateness + 2000)) < 1e-6, "score: weighted %f", s.score);
	CHECK(fabs(s.total_time - (700 + 180)) < 1e-9, "score: total time %f", s.total_time);
}

int
main(void)
{
	test_metrics();
	test_tsp_small_exact();
	test_tsp_circle(13);
	test_tsp_circle(100);
	test_tsp_circle(500);
	test_tsp_grid();
	test_tsp_open_path();
	test_tsp_deterministic_and_duplicates();
	test_tsp_budget_and_interrupts();
	test_tsp_random();
	test_vrp();
	test_vrp_random();
	test_score();
	return unit_summary();
}
