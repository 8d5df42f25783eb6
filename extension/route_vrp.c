/*
 * route_vrp.c — capacitated vehicle routing with time windows by Slack Induction by String
 * Removals (SISR): ruin strings of neighbouring customers, recreate by cheapest feasible
 * insertion with blinks, simulated-annealing acceptance.  No PostgreSQL dependency.
 *
 * A solution is a set of routes stored as doubly linked lists through the customers, with node
 * 0 (the depot) as the list terminator.  Each route keeps its distance, load, and per customer
 * the earliest and latest service start, so a time-window check of an insertion is O(1).
 */
#include "route_vrp.h"

#include <math.h>
#include <string.h>

#define RUIN_NEIGHBOURS 50		/* adjacency list length used by the ruin step */
#define AVG_REMOVED 10			/* c-bar: average customers removed per ruin */
#define MAX_STRING 10			/* L-max: longest removed string */
#define BLINK_RATE 0.01
#define ROUTE_REMOVAL_RATE 0.1	/* with a vehicle cost: ruin a whole route this often */
#define FLEET_AT 0.3			/* minimising vehicles: try with fewer after 30% of the budget */
#define FLEET_SHARE 0.5			/* for at most half of the budget */
#define FLEET_STALL 20000		/* give up one vehicle fewer after this many steps without progress */
#define VRP_CACHE_MAX 2000		/* cache distances up to 2,000 stops (32 MB) */

typedef struct VrpSol
{
	int		   *next;			/* per node; 0 = back to the depot */
	int		   *prev;			/* per node; 0 = first after the depot */
	int		   *route;			/* per node; -1 = unassigned */
	double	   *est;			/* earliest service start per node */
	double	   *lst;			/* latest service start per node */
	int		   *first;			/* per route */
	int		   *last;
	int		   *size;
	double	   *load;
	double	   *dist;
	bool	   *feasible;
	int			nroutes;
	int		   *unassigned;
	int			nun;
	double		distance;		/* sum of the routes' distances */
	double		cost;			/* what the annealing minimises */
} VrpSol;

typedef struct Vrp
{
	const RouteEnv *env;
	const RouteVrpProblem *p;
	const RouteMetric *m;		/* p->m, or a cached matrix of it */
	RouteMetric cached;
	int			n;
	int			max_routes;		/* 0 = no limit (p->max_vehicles, or fewer while minimising) */
	double		vehicle_cost;	/* per route in the annealing's cost */
	bool		fleet_phase;	/* minimising vehicles: no whole-route ruin */
	int		   *adj;			/* customers nearest each customer */
	int			kadj;
	double		penalty;		/* cost of one unassigned customer */
	RouteRng	rng;
	int		   *removed;		/* scratch: customers to reinsert */
	double	   *key;			/* scratch: sort keys */
	bool	   *ruined;			/* scratch: per route */
	int		   *touched;		/* scratch: routes changed by the ruin */
} Vrp;

static inline double
vd(const Vrp *v, int i, int j)
{
	return route_dist(v->m, i, j);
}

static inline double
vt(const Vrp *v, int i, int j)
{
	return route_dist(v->m, i, j) / v->p->speed;
}

static inline double
demand_of(const Vrp *v, int c)
{
	return v->p->demand ? v->p->demand[c] : 0.0;
}

static inline double
service_of(const Vrp *v, int c)
{
	return v->p->service ? v->p->service[c] : 0.0;
}

static VrpSol *
sol_new(const Vrp *v)
{
	const RouteEnv *env = v->env;
	int			n = v->n;
	VrpSol	   *s = ROUTE_NEW(env, VrpSol, 1);

	s->next = ROUTE_NEW(env, int, n);
	s->prev = ROUTE_NEW(env, int, n);
	s->route = ROUTE_NEW(env, int, n);
	s->est = ROUTE_NEW(env, double, n);
	s->lst = ROUTE_NEW(env, double, n);
	s->first = ROUTE_NEW(env, int, n);
	s->last = ROUTE_NEW(env, int, n);
	s->size = ROUTE_NEW(env, int, n);
	s->load = ROUTE_NEW(env, double, n);
	s->dist = ROUTE_NEW(env, double, n);
	s->feasible = ROUTE_NEW(env, bool, n);
	s->unassigned = ROUTE_NEW(env, int, n);
	return s;
}

static void
sol_copy(const Vrp *v, VrpSol *dst, const VrpSol *src)
{
	size_t		n = (size_t) v->n;
	size_t		r = (size_t) src->nroutes;

	memcpy(dst->next, src->next, n * sizeof(int));
	memcpy(dst->prev, src->prev, n * sizeof(int));
	memcpy(dst->route, src->route, n * sizeof(int));
	memcpy(dst->est, src->est, n * sizeof(double));
	memcpy(dst->lst, src->lst, n * sizeof(double));
	memcpy(dst->first, src->first, r * sizeof(int));
	memcpy(dst->last, src->last, r * sizeof(int));
	memcpy(dst->size, src->size, r * sizeof(int));
	memcpy(dst->load, src->load, r * sizeof(double));
	memcpy(dst->dist, src->dist, r * sizeof(double));
	memcpy(dst->feasible, src->feasible, r * sizeof(bool));
	memcpy(dst->unassigned, src->unassigned, (size_t) src->nun * sizeof(int));
	dst->nroutes = src->nroutes;
	dst->nun = src->nun;
	dst->distance = src->distance;
	dst->cost = src->cost;
}

/* Recompute a route's distance, load, time windows slack and feasibility. */
static void
route_update(const Vrp *v, VrpSol *s, int r)
{
	const RouteVrpProblem *p = v->p;
	double		dist = 0.0, load = 0.0;
	double		depart = p->tw_open ? p->tw_open[0] : 0.0;
	bool		ok = true;
	int			prev = 0;

	for (int c = s->first[r]; c != 0; c = s->next[c])
	{
		dist += vd(v, prev, c);
		load += demand_of(v, c);
		if (p->tw_open)
		{
			double		arrive = depart + vt(v, prev, c);

			s->est[c] = arrive > p->tw_open[c] ? arrive : p->tw_open[c];
			ok &= s->est[c] <= p->tw_close[c] + 1e-9;
			depart = s->est[c] + service_of(v, c);
		}
		prev = c;
	}
	dist += vd(v, prev, 0);
	if (p->tw_open)
	{
		double		latest = p->tw_close[0];
		int			nx = 0;

		ok &= depart + vt(v, prev, 0) <= latest + 1e-9;
		for (int c = s->last[r]; c != 0; c = s->prev[c])
		{
			double		l = latest - vt(v, c, nx) - service_of(v, c);

			s->lst[c] = l < p->tw_close[c] ? l : p->tw_close[c];
			latest = s->lst[c];
			nx = c;
		}
	}
	if (p->capacity > 0 && load > p->capacity + 1e-9)
		ok = false;
	s->dist[r] = dist;
	s->load[r] = load;
	s->feasible[r] = ok;
}

static void
sol_cost(const Vrp *v, VrpSol *s)
{
	double		cost = 0.0;

	for (int r = 0; r < s->nroutes; r++)
		cost += s->dist[r];
	s->distance = cost;
	s->cost = cost + v->vehicle_cost * s->nroutes + v->penalty * s->nun;
}

static void
unlink_customer(VrpSol *s, int c)
{
	int			r = s->route[c];
	int			a = s->prev[c];
	int			b = s->next[c];

	if (a)
		s->next[a] = b;
	else
		s->first[r] = b;
	if (b)
		s->prev[b] = a;
	else
		s->last[r] = a;
	s->size[r]--;
	s->route[c] = -1;
}

/* Put customer c after a in route r (a = 0: at the start). */
static void
link_customer(VrpSol *s, int c, int r, int a)
{
	int			b = a ? s->next[a] : s->first[r];

	s->prev[c] = a;
	s->next[c] = b;
	if (a)
		s->next[a] = c;
	else
		s->first[r] = c;
	if (b)
		s->prev[b] = c;
	else
		s->last[r] = c;
	s->size[r]++;
	s->route[c] = r;
}

/* Drop empty routes, moving the last route into each hole. */
static void
compact_routes(VrpSol *s)
{
	for (int r = 0; r < s->nroutes;)
	{
		int			last = s->nroutes - 1;

		if (s->size[r] > 0)
		{
			r++;
			continue;
		}
		if (r != last)
		{
			s->first[r] = s->first[last];
			s->last[r] = s->last[last];
			s->size[r] = s->size[last];
			s->load[r] = s->load[last];
			s->dist[r] = s->dist[last];
			s->feasible[r] = s->feasible[last];
			for (int c = s->first[r]; c != 0; c = s->next[c])
				s->route[c] = r;
		}
		s->nroutes--;
	}
}

/* Remove the string of up to len customers of c's route that holds c at a random offset. */
static int
remove_string(Vrp *v, VrpSol *s, int c, int len, int nremoved)
{
	int			back = route_rng_int(&v->rng, len);
	int			start = c;

	while (back-- > 0 && s->prev[start] != 0)
		start = s->prev[start];
	for (int i = 0; i < len && start != 0; i++)
	{
		int			nx = s->next[start];

		unlink_customer(s, start);
		v->removed[nremoved++] = start;
		start = nx;
	}
	return nremoved;
}

/* The ruin step of SISR; returns how many customers it removed into v->removed. */
static int
ruin(Vrp *v, VrpSol *s)
{
	int			assigned = v->n - 1 - s->nun;
	int			nremoved = 0;
	int			ntouched = 0;
	double		ls_max, ks_max;
	int			seed, ks;

	if (s->nroutes == 0 || assigned == 0)
		return 0;
	do
		seed = 1 + route_rng_int(&v->rng, v->n - 1);
	while (s->route[seed] < 0);

	if (v->vehicle_cost > 0 && !v->fleet_phase && s->nroutes > 1 &&
		route_rng_unit(&v->rng) < ROUTE_REMOVAL_RATE)
	{
		int			r = s->route[seed];

		nremoved = remove_string(v, s, s->first[r], s->size[r], 0);
		v->touched[ntouched++] = r;
	}
	else
	{
		ls_max = fmin(MAX_STRING, (double) assigned / s->nroutes);
		ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0;
		ks = 1 + (int) (route_rng_unit(&v->rng) * ks_max);
		for (int i = -1; i < v->kadj && ntouched < ks; i++)
		{
			int			c = i < 0 ? seed : v->adj[(size_t) seed * v->kadj + i];
			int			r, lmax;

			if (c == 0 || s->route[c] < 0 || v->ruined[s->route[c]])
				continue;
			r = s->route[c];
			lmax = (int) fmin(s->size[r], ls_max);
			nremoved = remove_string(v, s, c, 1 + route_rng_int(&v->rng, lmax), nremoved);
			v->ruined[r] = true;
			v->touched[ntouched++] = r;
		}
	}
	for (int i = 0; i < ntouched; i++)
	{
		v->ruined[v->touched[i]] = false;
		route_update(v, s, v->touched[i]);
	}
	compact_routes(s);
	return nremoved;
}

/* Is inserting u between a and b (0 = depot) in time for u and everything after it? */
static inline bool
insertion_on_time(const Vrp *v, const VrpSol *s, int a, int u, int b)
{
	const RouteVrpProblem *p = v->p;
	double		depart = a ? s->est[a] + service_of(v, a) : p->tw_open[0];
	double		start_u = depart + vt(v, a, u);

	if (start_u < p->tw_open[u])
		start_u = p->tw_open[u];
	if (start_u > p->tw_close[u] + 1e-9)
		return false;
	return start_u + service_of(v, u) + vt(v, u, b) <= (b ? s->lst[b] : p->tw_close[0]) + 1e-9;
}

/* Cheapest feasible insertion of u (with blinks); true if u was placed in a route. */
static bool
insert_best(Vrp *v, VrpSol *s, int u)
{
	const RouteVrpProblem *p = v->p;
	double		best = INFINITY;
	int			best_r = -1, best_a = 0;

	for (int r = 0; r < s->nroutes; r++)
	{
		int			a = 0;

		if (p->capacity > 0 && s->load[r] + demand_of(v, u) > p->capacity + 1e-9)
			continue;
		for (int b = s->first[r];; a = b, b = s->next[b])
		{
			double		delta = vd(v, a, u) + vd(v, u, b) - vd(v, a, b);

			if (delta < best && route_rng_unit(&v->rng) >= BLINK_RATE &&
				(!p->tw_open || insertion_on_time(v, s, a, u, b)))
			{
				best = delta;
				best_r = r;
				best_a = a;
			}
			if (b == 0)
				break;
		}
	}
	if (best_r < 0)
	{
		if (v->max_routes > 0 && s->nroutes >= v->max_routes)
			return false;
		best_r = s->nroutes++;
		s->first[best_r] = s->last[best_r] = 0;
		s->size[best_r] = 0;
		best_a = 0;
	}
	link_customer(s, u, best_r, best_a);
	route_update(v, s, best_r);
	return true;
}

/* The recreate step: reinsert the removed and the unassigned customers in a random-ish order. */
static void
recreate(Vrp *v, VrpSol *s, int nremoved)
{
	int			order = route_rng_int(&v->rng, 11);
	int			count = nremoved;

	for (int i = 0; i < s->nun; i++)
		v->removed[count++] = s->unassigned[i];
	s->nun = 0;
	for (int i = 0; i < count; i++)
	{
		int			c = v->removed[i];

		if (order < 4)
			v->key[i] = route_rng_unit(&v->rng);	/* random */
		else if (order < 8)
			v->key[i] = -demand_of(v, c);		/* largest demand first */
		else if (order < 10)
			v->key[i] = -vd(v, 0, c);			/* farthest first */
		else
			v->key[i] = vd(v, 0, c);			/* closest first */
	}
	/* insertion sort: the removed sets are small */
	for (int i = 1; i < count; i++)
	{
		int			c = v->removed[i];
		double		k = v->key[i];
		int			j = i;

		for (; j > 0 && v->key[j - 1] > k; j--)
		{
			v->removed[j] = v->removed[j - 1];
			v->key[j] = v->key[j - 1];
		}
		v->removed[j] = c;
		v->key[j] = k;
	}
	for (int i = 0; i < count; i++)
		if (!insert_best(v, s, v->removed[i]))
			s->unassigned[s->nun++] = v->removed[i];
}

static bool
all_feasible(const VrpSol *s)
{
	for (int r = 0; r < s->nroutes; r++)
		if (!s->feasible[r])
			return false;
	return true;
}

int
route_vrp_unservable(const RouteVrpProblem *p, const char **why)
{
	for (int c = 1; c < p->m->n; c++)
	{
		if (p->demand && p->capacity > 0 && p->demand[c] > p->capacity)
		{
			*why = "its demand exceeds the vehicle capacity";
			return c;
		}
		if (p->tw_open)
		{
			double		start = fmax(p->tw_open[0] + route_dist(p->m, 0, c) / p->speed, p->tw_open[c]);
			double		back = start + (p->service ? p->service[c] : 0.0) +
				route_dist(p->m, c, 0) / p->speed;

			if (start > p->tw_close[c])
			{
				*why = "its time window closes before a vehicle from the depot can arrive";
				return c;
			}
			if (back > p->tw_close[0])
			{
				*why = "a vehicle serving it cannot be back before the depot closes";
				return c;
			}
		}
	}
	return -1;
}

static void
vrp_init(Vrp *v, const RouteEnv *env, const RouteVrpProblem *p)
{
	int		   *nb;
	int			n = p->m->n;
	double		far = 0.0;

	memset(v, 0, sizeof(*v));
	v->env = env;
	v->p = p;
	v->m = p->m;
	v->n = n;
	if (p->m->kind != ROUTE_METRIC_MATRIX && n <= VRP_CACHE_MAX)
	{
		double	   *cache = ROUTE_NEW(env, double, (size_t) n * n);

		for (int i = 0; i < n; i++)
		{
			env->check_interrupts(env->ctx);
			for (int j = 0; j < n; j++)
				cache[(size_t) i * n + j] = route_dist(p->m, i, j);
		}
		route_metric_init_matrix(&v->cached, n, cache);
		v->m = &v->cached;
	}
	v->kadj = route_neighbors(p->m, env, RUIN_NEIGHBOURS, &nb);
	v->adj = nb;
	for (int c = 1; c < n; c++)
		far = fmax(far, vd(v, 0, c) + vd(v, c, 0));
	/* fewest vehicles first: one vehicle outweighs any distance (all round trips) */
	v->vehicle_cost = p->vehicle_cost;
	if (p->minimize_vehicles)
	{
		v->vehicle_cost = 1.0;
		for (int c = 1; c < n; c++)
			v->vehicle_cost += vd(v, 0, c) + vd(v, c, 0);
	}
	v->penalty = 1000.0 * (far + 1.0) + 10.0 * v->vehicle_cost;
	route_rng_seed(&v->rng, p->seed);
	v->max_routes = p->max_vehicles;
	v->removed = ROUTE_NEW(env, int, n);
	v->key = ROUTE_NEW(env, double, n);
	v->ruined = ROUTE_NEW(env, bool, n);
	v->touched = ROUTE_NEW(env, int, n);
}

static void
extract_result(const Vrp *v, const VrpSol *s, RouteVrpResult *result)
{
	int			k = 0;

	result->nroutes = s->nroutes;
	result->route_len = ROUTE_NEW(v->env, int, s->nroutes);
	result->stops = ROUTE_NEW(v->env, int, v->n);
	result->unassigned = s->nun;
	result->distance = 0.0;
	for (int r = 0; r < s->nroutes; r++)
	{
		result->route_len[r] = s->size[r];
		result->distance += s->dist[r];
		for (int c = s->first[r]; c != 0; c = s->next[c])
			result->stops[k++] = c;
	}
}

/* Is a better than b: fewer unassigned, then (if minimising) fewer vehicles, then cheaper? */
static bool
better(const Vrp *v, const VrpSol *a, const VrpSol *b)
{
	if (a->nun != b->nun)
		return a->nun < b->nun;
	if (v->p->minimize_vehicles && a->nroutes != b->nroutes)
		return a->nroutes < b->nroutes;
	if (v->p->minimize_vehicles)
		return a->distance < b->distance - 1e-9;
	return a->cost < b->cost - 1e-9;
}

/*
 * Fleet minimisation (SISR's): take the smallest route out, then ruin and recreate with one
 * vehicle fewer, accepting a solution with fewer unassigned customers or with a lower sum of
 * "absences" (how often each unassigned customer has been left out), until every customer fits;
 * repeat.  Gives up when the unassigned count has not fallen for FLEET_STALL steps, or at the
 * deadline or iteration limit, with cur the complete solution with the fewest vehicles.
 */
static void
minimise_fleet(Vrp *v, VrpSol **cur, VrpSol **cand, double deadline, long max_iterations,
			   long *iterations)
{
	const RouteEnv *env = v->env;
	VrpSol	   *work = sol_new(v);
	long	   *absence = ROUTE_NEW(env, long, v->n);

	v->fleet_phase = true;
	while ((*cur)->nroutes > 1 && *iterations < max_iterations && route_clock_ms() < deadline)
	{
		int			smallest = 0;
		int			nremoved;
		int			fewest;
		long		fewest_at;

		sol_copy(v, work, *cur);
		for (int r = 1; r < work->nroutes; r++)
			if (work->size[r] < work->size[smallest])
				smallest = r;
		nremoved = remove_string(v, work, work->first[smallest], work->size[smallest], 0);
		for (int i = 0; i < nremoved; i++)
			work->unassigned[work->nun++] = v->removed[i];
		route_update(v, work, smallest);
		compact_routes(work);
		v->max_routes = work->nroutes;
		fewest = work->nun;
		fewest_at = *iterations;
		while (work->nun > 0 && *iterations < max_iterations && *iterations - fewest_at < FLEET_STALL)
		{
			long		abs_work = 0, abs_cand = 0;
			VrpSol	   *tmp;

			env->check_interrupts(env->ctx);
			if ((++*iterations & 15) == 0 && route_clock_ms() > deadline)
				break;
			sol_copy(v, *cand, work);
			recreate(v, *cand, ruin(v, *cand));
			for (int i = 0; i < work->nun; i++)
				abs_work += absence[work->unassigned[i]];
			for (int i = 0; i < (*cand)->nun; i++)
				abs_cand += absence[(*cand)->unassigned[i]];
			if (all_feasible(*cand) &&
				((*cand)->nun < work->nun || abs_cand < abs_work))
			{
				tmp = work;
				work = *cand;
				*cand = tmp;
			}
			for (int i = 0; i < work->nun; i++)
				absence[work->unassigned[i]]++;
			if (work->nun < fewest)
			{
				fewest = work->nun;
				fewest_at = *iterations;
			}
		}
		if (work->nun > 0)
			break;
		sol_cost(v, work);
		sol_copy(v, *cur, work);
	}
	v->fleet_phase = false;
	v->max_routes = v->p->max_vehicles;
}

void
route_vrp_solve(const RouteEnv *env, const RouteVrpProblem *p, RouteVrpResult *result)
{
	Vrp			v;
	VrpSol	   *cur, *cand, *best, *tmp;
	double		t0 = route_clock_ms();
	double		temp0, temp1;
	double		frac = 0.0;
	bool		fleet_pending = p->minimize_vehicles;

	memset(result, 0, sizeof(*result));
	vrp_init(&v, env, p);
	cur = sol_new(&v);
	cand = sol_new(&v);
	best = sol_new(&v);
	for (int c = 1; c < v.n; c++)
	{
		cur->route[c] = -1;
		cur->unassigned[cur->nun++] = c;
	}
	recreate(&v, cur, 0);
	sol_cost(&v, cur);
	sol_copy(&v, best, cur);

	/* temperatures relative to the average edge (SISR: 100 -> 1 on coordinates ~0..1000) */
	temp0 = 1.0 * best->distance / (v.n - 1 + best->nroutes);
	temp1 = temp0 / 100.0;

	for (result->iterations = 0; result->iterations < p->max_iterations; result->iterations++)
	{
		double		temp;
		int			nremoved;

		env->check_interrupts(env->ctx);
		if ((result->iterations & 15) == 0)
		{
			double		elapsed = route_clock_ms() - t0;

			if (elapsed > p->time_budget_ms)
				break;
			frac = fmax(elapsed / p->time_budget_ms,
						(double) result->iterations / (double) p->max_iterations);
		}
		if (fleet_pending && frac >= FLEET_AT && best->nun == 0)
		{
			/* at FLEET_AT: try to do with fewer vehicles, then anneal on from there */
			fleet_pending = false;
			sol_copy(&v, cur, best);
			minimise_fleet(&v, &cur, &cand, t0 + (FLEET_AT + FLEET_SHARE) * p->time_budget_ms,
						   result->iterations + (long) (FLEET_SHARE * p->max_iterations),
						   &result->iterations);
			sol_cost(&v, cur);
			if (better(&v, cur, best))
				sol_copy(&v, best, cur);
			continue;
		}
		temp = temp0 * pow(temp1 / temp0, frac);
		sol_copy(&v, cand, cur);
		nremoved = ruin(&v, cand);
		recreate(&v, cand, nremoved);
		if (!all_feasible(cand))
			continue;
		sol_cost(&v, cand);
		if (cand->cost < cur->cost - temp * log(route_rng_unit(&v.rng) + 1e-300))
		{
			tmp = cur;
			cur = cand;
			cand = tmp;
			if (better(&v, cur, best))
				sol_copy(&v, best, cur);
		}
	}
	extract_result(&v, best, result);
	result->elapsed_ms = route_clock_ms() - t0;
}
