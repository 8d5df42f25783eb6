/*
 * route_tour.h — internal to the TSP solver (route_tsp.c, route_lk.c): the tour as an array
 * with positions, the search graph (the stops plus an optional dummy node that turns an open
 * path into a cycle), the flip log used to undo rejected kicks, and the local-search entry point.
 */
#ifndef ROUTE_TOUR_H
#define ROUTE_TOUR_H

#include "route_metric.h"

typedef struct TspSearch
{
	const RouteEnv *env;
	const RouteMetric *m;
	int			n;				/* nodes in the search graph */
	int			dummy;			/* index of the dummy node, -1 if none */
	int			dummy_a;		/* stops the dummy must touch (-1 = any, at cost 0) */
	int			dummy_b;
	double		dummy_far;		/* cost of a dummy edge to any other stop */
	bool		symmetrize;		/* asymmetric matrix: search on (c_ij + c_ji) / 2 */
	double	   *cache;			/* stop-to-stop search distances, n x n, when small */
	int			ncache;
	int		   *tour;			/* tour[p] = node at position p */
	int		   *pos;			/* pos[v] = position of node v */
	int		   *cand;			/* candidate neighbours, ncand[v] of them at cand[v * kcand] */
	int		   *ncand;
	int			kcand;
	int		   *log_i;			/* reversals since the last mark, to undo */
	int		   *log_j;
	int			log_len;
	int			log_cap;
	bool		log_overflow;
	int		   *queue;			/* FIFO of nodes whose don't-look bit is off */
	bool	   *queued;
	int			qhead;
	int			qcount;
	unsigned	ticks;			/* interrupt-check counter */
} TspSearch;

static inline double
tsp_d(const TspSearch *s, int i, int j)
{
	if (i == s->dummy || j == s->dummy)
	{
		int			o = (i == s->dummy) ? j : i;

		if (o == s->dummy || s->dummy_a < 0 || o == s->dummy_a || o == s->dummy_b)
			return 0.0;
		return s->dummy_far;
	}
	if (s->cache)
		return s->cache[(size_t) i * s->ncache + j];
	if (s->symmetrize)
		return 0.5 * (route_dist(s->m, i, j) + route_dist(s->m, j, i));
	return route_dist(s->m, i, j);
}

static inline int
tsp_succ(const TspSearch *s, int v)
{
	int			p = s->pos[v] + 1;

	return s->tour[p == s->n ? 0 : p];
}

static inline int
tsp_pred(const TspSearch *s, int v)
{
	int			p = s->pos[v] - 1;

	return s->tour[p < 0 ? s->n - 1 : p];
}

static inline void
tsp_tick(TspSearch *s)
{
	if ((++s->ticks & 255) == 0)
		s->env->check_interrupts(s->env->ctx);
}

/* route_lk.c */
extern void tsp_move2(TspSearch *s, int a, int b, int c, int d);
extern void tsp_undo_to(TspSearch *s, int mark);
extern void tsp_push(TspSearch *s, int v);
extern double tsp_local_search(TspSearch *s, const double *deadline_ms);

#endif							/* ROUTE_TOUR_H */
