/*
 * route_tsp.c — the one-vehicle solver: search-graph set-up (a dummy node turns open paths and
 * fixed ends into a cycle), exact dynamic programming for up to 12 nodes, nearest-neighbour
 * construction, iterated local search with segment-swap kicks, and extraction of the visiting
 * order.  No PostgreSQL dependency.
 */
#include "route_tsp.h"
#include "route_tour.h"

#include <math.h>
#include <string.h>

#define TSP_CANDIDATES 8
#define TSP_EXACT_MAX 12
#define KICK_SEGMENT_MAX 50
#define TSP_CACHE_MAX 1500		/* 18 MB of cached distances */

double
route_order_length(const RouteMetric *m, const int *order, int count, bool closed)
{
	double		len = 0.0;

	for (int i = 0; i + 1 < count; i++)
		len += route_dist(m, order[i], order[i + 1]);
	if (closed && count > 1)
		len += route_dist(m, order[count - 1], order[0]);
	return len;
}

static double
tour_length(const TspSearch *s)
{
	double		len = 0.0;

	for (int p = 0; p < s->n; p++)
		len += tsp_d(s, s->tour[p], s->tour[p + 1 == s->n ? 0 : p + 1]);
	return len;
}

/* An upper bound on any tour's length, so one "far" dummy edge outweighs any detour. */
static double
dummy_far_cost(const RouteMetric *m)
{
	double		total = 0.0;

	if (m->kind == ROUTE_METRIC_MATRIX)
	{
		for (int i = 0; i < m->n; i++)
		{
			double		mx = 0.0;

			for (int j = 0; j < m->n; j++)
				mx = fmax(mx, fabs(m->matrix[(size_t) i * m->n + j]));
			total += mx;
		}
	}
	else if (m->kind == ROUTE_METRIC_HAVERSINE)
		total = M_PI * ROUTE_EARTH_RADIUS_M * m->n;
	else
	{
		double		minx = m->x[0], maxx = m->x[0], miny = m->y[0], maxy = m->y[0];

		for (int i = 1; i < m->n; i++)
		{
			minx = fmin(minx, m->x[i]);
			maxx = fmax(maxx, m->x[i]);
			miny = fmin(miny, m->y[i]);
			maxy = fmax(maxy, m->y[i]);
		}
		total = (hypot(maxx - minx, maxy - miny) + 1.0) * m->n;
	}
	return ceil(2.0 * total + 1.0);
}

static bool
matrix_is_symmetric(const RouteMetric *m)
{
	if (m->kind != ROUTE_METRIC_MATRIX)
		return true;
	for (int i = 0; i < m->n; i++)
		for (int j = i + 1; j < m->n; j++)
			if (m->matrix[(size_t) i * m->n + j] != m->matrix[(size_t) j * m->n + i])
				return false;
	return true;
}

static void
cache_distances(TspSearch *s)
{
	int			n = s->m->n;
	double	   *cache = ROUTE_NEW(s->env, double, (size_t) n * n);

	for (int i = 0; i < n; i++)
	{
		tsp_tick(s);
		for (int j = 0; j < n; j++)
			cache[(size_t) i * n + j] = tsp_d(s, i, j);
	}
	s->cache = cache;
	s->ncache = n;
}

/* Candidate lists: k nearest stops, plus the dummy where an edge to it can be free. */
static void
build_candidates(TspSearch *s)
{
	int		   *nb;
	int			n = s->n;
	int			nreal = s->m->n;
	int			k = route_neighbors(s->m, s->env, TSP_CANDIDATES, &nb);

	s->kcand = k + 1 > 2 ? k + 1 : 2;
	s->cand = ROUTE_NEW(s->env, int, (size_t) n * s->kcand);
	s->ncand = ROUTE_NEW(s->env, int, n);
	for (int v = 0; v < nreal; v++)
	{
		int		   *row = s->cand + (size_t) v * s->kcand;

		for (int r = 0; r < k; r++)
			row[s->ncand[v]++] = nb[(size_t) v * k + r];
		if (s->dummy >= 0 && (s->dummy_a < 0 || v == s->dummy_a || v == s->dummy_b))
			row[s->ncand[v]++] = s->dummy;
	}
	if (s->dummy >= 0)
	{
		int		   *row = s->cand + (size_t) s->dummy * s->kcand;

		if (s->dummy_a >= 0)
		{
			row[s->ncand[s->dummy]++] = s->dummy_a;
			if (s->dummy_b >= 0)
				row[s->ncand[s->dummy]++] = s->dummy_b;
		}
		else
			for (int r = 0; r < s->kcand; r++)
				row[s->ncand[s->dummy]++] = (int) ((long) r * nreal / s->kcand);
	}
	route_release(s->env, nb);
}

/* Nearest neighbour from node first, preferring candidate lists, scanning when they are used up. */
static void
construct_nearest(TspSearch *s, int first)
{
	int			n = s->n;
	int		   *left = ROUTE_NEW(s->env, int, n);	/* unvisited nodes */
	int		   *where = ROUTE_NEW(s->env, int, n);
	int			nleft = n;
	int			cur = first;

	for (int v = 0; v < n; v++)
		left[v] = where[v] = v;
	for (int p = 0; p < n; p++)
	{
		int			next = -1;
		double		bestd = INFINITY;
		int			last;

		s->tour[p] = cur;
		s->pos[cur] = p;
		last = left[--nleft];
		left[where[cur]] = last;
		where[last] = where[cur];
		where[cur] = -1;
		if (nleft == 0)
			break;
		for (int c = 0; c < s->ncand[cur]; c++)
		{
			int			v = s->cand[(size_t) cur * s->kcand + c];

			if (where[v] >= 0 && tsp_d(s, cur, v) < bestd)
			{
				bestd = tsp_d(s, cur, v);
				next = v;
			}
		}
		if (next < 0)
		{
			tsp_tick(s);
			for (int i = 0; i < nleft; i++)
				if (tsp_d(s, cur, left[i]) < bestd)
				{
					bestd = tsp_d(s, cur, left[i]);
					next = left[i];
				}
		}
		cur = next;
	}
	route_release(s->env, left);
	route_release(s->env, where);
}

/* Held-Karp dynamic programming over the search graph: exact for up to TSP_EXACT_MAX nodes. */
static void
solve_exact(TspSearch *s)
{
	int			n = s->n;
	int			full = 1 << (n - 1);	/* subsets of nodes 1..n-1 */
	double	   *cost = ROUTE_NEW(s->env, double, (size_t) full * n);
	int		   *from = ROUTE_NEW(s->env, int, (size_t) full * n);
	int			set = full - 1;
	int			last = -1;
	double		best = INFINITY;

	for (int i = 0; i < full * n; i++)
		cost[i] = INFINITY;
	for (int v = 1; v < n; v++)
		cost[(size_t) (1 << (v - 1)) * n + v] = tsp_d(s, 0, v);
	for (int sub = 1; sub < full; sub++)
	{
		tsp_tick(s);
		for (int v = 1; v < n; v++)
		{
			double		cv = cost[(size_t) sub * n + v];

			if (!(sub & (1 << (v - 1))) || cv == INFINITY)
				continue;
			for (int w = 1; w < n; w++)
			{
				int			nsub = sub | (1 << (w - 1));
				double		c = cv + tsp_d(s, v, w);

				if (nsub == sub || c >= cost[(size_t) nsub * n + w])
					continue;
				cost[(size_t) nsub * n + w] = c;
				from[(size_t) nsub * n + w] = v;
			}
		}
	}
	for (int v = 1; v < n; v++)
		if (cost[(size_t) set * n + v] + tsp_d(s, v, 0) < best)
		{
			best = cost[(size_t) set * n + v] + tsp_d(s, v, 0);
			last = v;
		}
	s->tour[0] = 0;
	for (int p = n - 1; p >= 1; p--)
	{
		int			prev = from[(size_t) set * n + last];

		s->tour[p] = last;
		set &= ~(1 << (last - 1));
		last = prev;
	}
	for (int p = 0; p < n; p++)
		s->pos[s->tour[p]] = p;
	route_release(s->env, cost);
	route_release(s->env, from);
}

/*
 * Kick: swap two adjacent tour segments of random length 1..KICK_SEGMENT_MAX starting after a
 * random node (the "double bridge" that chains of 2-opt moves cannot undo).  Returns the change
 * in tour length and queues the six endpoints.
 */
static double
kick(TspSearch *s, RouteRng *rng)
{
	int			maxlen = (s->n - 2) / 3;
	int			l1, l2, p, s1, s2, nx, c, d;
	double		delta;

	if (maxlen > KICK_SEGMENT_MAX)
		maxlen = KICK_SEGMENT_MAX;
	l1 = 1 + route_rng_int(rng, maxlen);
	l2 = 1 + route_rng_int(rng, maxlen);
	p = route_rng_int(rng, s->n);
	s1 = tsp_succ(s, p);
	s2 = s->tour[(s->pos[s1] + l1 - 1) % s->n];
	nx = tsp_succ(s, s2);
	c = s->tour[(s->pos[nx] + l2 - 1) % s->n];
	d = tsp_succ(s, c);
	delta = tsp_d(s, p, nx) + tsp_d(s, c, s1) + tsp_d(s, s2, d)
		- tsp_d(s, p, s1) - tsp_d(s, s2, nx) - tsp_d(s, c, d);
	/* p [s1..s2] [nx..c] d  ->  p [nx..c] [s1..s2] d */
	tsp_move2(s, p, s1, c, d);
	tsp_move2(s, p, c, nx, s2);
	tsp_move2(s, c, s2, s1, d);
	tsp_push(s, p);
	tsp_push(s, s1);
	tsp_push(s, s2);
	tsp_push(s, nx);
	tsp_push(s, c);
	tsp_push(s, d);
	return delta;
}

static void
iterated_local_search(TspSearch *s, const RouteTspOptions *opt, double deadline,
					  RouteTspResult *result)
{
	RouteRng	rng;
	double		cur;
	double		best;
	long		best_at = 0;

	route_rng_seed(&rng, opt->seed);
	for (int v = 0; v < s->n; v++)
		tsp_push(s, s->tour[v]);
	s->log_len = 0;
	tsp_local_search(s, &deadline);
	cur = best = tour_length(s);
	for (result->iterations = 0; result->iterations < opt->max_iterations; result->iterations++)
	{
		double		len;

		if (opt->max_stall > 0 && result->iterations - best_at >= opt->max_stall)
			break;
		if ((result->iterations & 7) == 0 && route_clock_ms() > deadline)
			break;
		s->env->check_interrupts(s->env->ctx);
		s->log_len = 0;
		s->log_overflow = false;
		len = cur + kick(s, &rng);
		len -= tsp_local_search(s, NULL);
		if (len <= cur + 1e-9 || s->log_overflow)
		{
			cur = len;
			if (cur < best - 1e-9)
			{
				best = cur;
				best_at = result->iterations;
			}
		}
		else
			tsp_undo_to(s, 0);
	}
}

/* The visiting order: rotate so the path starts right after the dummy (or at the start stop). */
static void
extract_order(TspSearch *s, const RouteTspOptions *opt, int *order)
{
	int			nreal = s->m->n;
	int			anchor = s->dummy >= 0 ? s->dummy : (opt->start >= 0 ? opt->start : 0);
	int			p = s->pos[anchor];
	int			step = 1;
	int			count = 0;

	if (s->dummy >= 0)
	{
		bool		rev;

		/* walk away from the dummy towards the fixed start, or away from the fixed end */
		if (opt->start >= 0)
			rev = tsp_pred(s, s->dummy) == opt->start;
		else if (opt->end >= 0)
			rev = tsp_succ(s, s->dummy) == opt->end;
		else
			rev = false;
		step = rev ? -1 : 1;
		p = (p + step + s->n) % s->n;
	}
	while (count < nreal)
	{
		order[count++] = s->tour[p];
		p = (p + step + s->n) % s->n;
	}
	/* An asymmetric matrix was searched symmetrised: keep the cheaper direction if free. */
	if (s->symmetrize && opt->start < 0 && opt->end < 0 && s->dummy >= 0)
	{
		double		fwd = route_order_length(s->m, order, nreal, false);

		for (int i = 0; i < nreal / 2; i++)
		{
			int			t = order[i];

			order[i] = order[nreal - 1 - i];
			order[nreal - 1 - i] = t;
		}
		if (route_order_length(s->m, order, nreal, false) > fwd)
			for (int i = 0; i < nreal / 2; i++)
			{
				int			t = order[i];

				order[i] = order[nreal - 1 - i];
				order[nreal - 1 - i] = t;
			}
	}
	else if (s->symmetrize && opt->closed && nreal > 2)
	{
		double		fwd = route_order_length(s->m, order, nreal, true);

		/* reverse all but the first stop */
		for (int i = 1, j = nreal - 1; i < j; i++, j--)
		{
			int			t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		if (route_order_length(s->m, order, nreal, true) > fwd)
			for (int i = 1, j = nreal - 1; i < j; i++, j--)
			{
				int			t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
	}
}

void
route_tsp_solve(const RouteEnv *env, const RouteMetric *m, const RouteTspOptions *opt,
				int *order, RouteTspResult *result)
{
	TspSearch	s;
	double		t0 = route_clock_ms();
	int			nreal = m->n;

	memset(&s, 0, sizeof(s));
	memset(result, 0, sizeof(*result));
	s.env = env;
	s.m = m;
	s.symmetrize = !matrix_is_symmetric(m);
	s.dummy = -1;
	s.dummy_a = s.dummy_b = -1;
	if (!opt->closed)
	{
		s.dummy = nreal;
		s.dummy_a = opt->start;
		s.dummy_b = opt->end;
		if (s.dummy_a < 0)
		{
			s.dummy_a = s.dummy_b;
			s.dummy_b = -1;
		}
		if (s.dummy_a >= 0)
			s.dummy_far = dummy_far_cost(m);
	}
	s.n = nreal + (s.dummy >= 0 ? 1 : 0);
	s.tour = ROUTE_NEW(env, int, s.n);
	s.pos = ROUTE_NEW(env, int, s.n);

	if (s.n <= 3)
	{
		for (int v = 0; v < s.n; v++)
			s.tour[v] = s.pos[v] = v;
	}
	else if (s.n <= TSP_EXACT_MAX)
		solve_exact(&s);
	else
	{
		s.queue = ROUTE_NEW(env, int, s.n);
		s.queued = ROUTE_NEW(env, bool, s.n);
		s.log_cap = 4096;
		s.log_i = ROUTE_NEW(env, int, s.log_cap);
		s.log_j = ROUTE_NEW(env, int, s.log_cap);
		if (nreal <= TSP_CACHE_MAX)
			cache_distances(&s);
		build_candidates(&s);
		construct_nearest(&s, s.dummy >= 0 ? s.dummy : 0);
		iterated_local_search(&s, opt, t0 + opt->time_budget_ms, result);
	}
	extract_order(&s, opt, order);
	result->length = route_order_length(m, order, nreal, opt->closed);
	result->elapsed_ms = route_clock_ms() - t0;
}
