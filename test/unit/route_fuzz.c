/*
 * route_fuzz.c — libFuzzer target for the pure routing solvers (extension/route_*.c): the input
 * bytes become up to 64 stops (coordinates or an asymmetric cost matrix, duplicates likely), a
 * metric, open/closed, fixed ends, and for the vehicle-routing solver demands, time windows and
 * service times.  The TSP answer must be a permutation honouring its fixed ends; a VRP answer
 * must serve every customer once within capacity and windows; score_route must not fault.
 * AddressSanitizer and UBSan catch memory and arithmetic faults.  Built and run by
 * test/unit/route_fuzz.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route_score.h"
#include "route_tsp.h"
#include "route_vrp.h"
#include "unit_arena.h"

static void
fuzz_interrupts(void *ctx)
{
	(void) ctx;
}

static void
check_permutation(const int *order, int n)
{
	char		seen[64] = {0};

	for (int i = 0; i < n; i++)
	{
		if (order[i] < 0 || order[i] >= n || seen[order[i]])
			abort();
		seen[order[i]] = 1;
	}
}

static void
check_plan(const RouteVrpProblem *p, const RouteVrpResult *r)
{
	int			n = p->m->n;
	char		seen[64] = {0};
	int			k = 0;

	for (int i = 0; i < r->nroutes; i++)
	{
		double		load = 0, t = p->tw_open[0];
		int			prev = 0;

		for (int j = 0; j < r->route_len[i]; j++)
		{
			int			c = r->stops[k++];

			if (c < 1 || c >= n || seen[c]++)
				abort();
			load += p->demand[c];
			t = fmax(t + route_dist(p->m, prev, c) / p->speed, p->tw_open[c]);
			if (t > p->tw_close[c] + 1e-6)
				abort();
			t += p->service[c];
			prev = c;
		}
		if (load > p->capacity + 1e-9 || t + route_dist(p->m, prev, 0) / p->speed > p->tw_close[0] + 1e-6)
			abort();
	}
	if (k + r->unassigned != n - 1)
		abort();
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RouteEnv	env = {unit_arena_alloc, unit_arena_release, fuzz_interrupts, NULL};
	double		x[64], y[64], mat[64 * 64], dem[64], open[64], close[64], svc[64];
	double		arrival[64], late[64];
	int			order[64];
	RouteMetric m;
	RouteTspOptions o;
	RouteTspResult tr;
	RouteVrpProblem p;
	RouteVrpResult vr;
	RouteScoreInput si;
	RouteScore sc;
	const char *why;
	int			n, kind;

	if (size < 6)
		return 0;
	n = 1 + data[0] % 64;
	kind = data[1] % 4;
	o.closed = data[2] & 1;
	o.start = (data[2] & 2) ? data[3] % n : -1;
	o.end = (!o.closed && (data[2] & 4) && n > 1) ? data[4] % n : -1;
	if (o.end == o.start)
		o.end = -1;
	o.time_budget_ms = 1000;
	o.max_iterations = 1 + data[5] % 64;
	o.max_stall = data[5] & 1;
	o.seed = data[5];
	data += 6;
	size -= 6;
	for (int i = 0; i < n; i++)
	{
		uint8_t		a = size ? data[(2 * i) % size] : 0;
		uint8_t		b = size ? data[(2 * i + 1) % size] : 0;

		x[i] = kind == 0 ? a * 1.4 - 179 : a;	/* haversine wants degrees */
		y[i] = kind == 0 ? b * 0.7 - 89 : b;
		dem[i] = i ? 1 + a % 20 : 0;
		open[i] = i ? b : 0;
		close[i] = i ? open[i] + 50 + a : 2000;
		svc[i] = i ? a % 15 : 0;
	}
	if (kind == 3)
	{
		for (int i = 0; i < n * n; i++)
			mat[i] = (i / n == i % n || !size) ? 0 : data[i % size];
		route_metric_init_matrix(&m, n, mat);
	}
	else
		route_metric_init_xy(&m, &env, kind == 0 ? ROUTE_METRIC_HAVERSINE :
							 kind == 1 ? ROUTE_METRIC_EUCLIDEAN : ROUTE_METRIC_EUC2D, n, x, y);

	route_tsp_solve(&env, &m, &o, order, &tr);
	check_permutation(order, n);
	if ((o.start >= 0 && order[0] != o.start) || (o.end >= 0 && order[n - 1] != o.end))
		abort();

	memset(&si, 0, sizeof(si));
	si.m = &m;
	si.order = order;
	si.count = n;
	si.closed = o.closed;
	si.speed = 1;
	si.service = svc;
	si.tw_open = open;
	si.tw_close = close;
	si.demand = dem;
	si.capacity = 40;
	si.w_distance = 1;
	route_score(&si, arrival, late, &sc);

	if (n >= 2 && kind != 0)
	{
		memset(&p, 0, sizeof(p));
		p.m = &m;
		p.demand = dem;
		p.capacity = 40;
		p.tw_open = open;
		p.tw_close = close;
		p.service = svc;
		p.speed = 1;
		p.minimize_vehicles = size && (data[0] & 1);
		p.max_vehicles = (size && (data[0] & 2)) ? 1 + data[0] % 4 : 0;
		p.time_budget_ms = 1000;
		p.max_iterations = 50;
		p.seed = 1;
		if (route_vrp_unservable(&p, &why) < 0)
		{
			route_vrp_solve(&env, &p, &vr);
			check_plan(&p, &vr);
		}
	}
	unit_arena_reset();
	return 0;
}
