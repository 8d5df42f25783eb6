/*
 * route_tsp.h — one vehicle, many stops: the travelling-salesman solver behind
 * freight.optimize_route.
 *
 * Closed tours or open paths, optionally with a fixed first and/or last stop, over any
 * RouteMetric.  Nearest-neighbour construction, then Lin-Kernighan-style local search (chains
 * of 2-opt moves, depth 10, on neighbour lists with don't-look bits) plus Or-opt, inside an
 * iterated local search with segment-swap ("double bridge") kicks.  Deterministic for a given
 * seed when the search ends by its iteration limit; a time budget that expires first can stop it
 * at a different point on a slower or busier machine.  Up to 12 nodes are solved exactly.
 */
#ifndef ROUTE_TSP_H
#define ROUTE_TSP_H

#include "route_metric.h"

typedef struct RouteTspOptions
{
	bool		closed;			/* return to the first stop */
	int			start;			/* 0-based fixed first stop, -1 = free (closed: 0) */
	int			end;			/* 0-based fixed last stop of an open path, -1 = free */
	double		time_budget_ms; /* wall-clock limit of the search */
	long		max_iterations; /* kicks of the iterated local search */
	long		max_stall;		/* stop after this many kicks without a shorter tour; 0 = never */
	uint64_t	seed;
} RouteTspOptions;

typedef struct RouteTspResult
{
	double		length;			/* cost of the returned route (cycle or path) */
	long		iterations;		/* kicks performed */
	double		elapsed_ms;
} RouteTspResult;

/* Writes the visiting order (0-based, m->n entries, the start first) to order. */
extern void route_tsp_solve(const RouteEnv *env, const RouteMetric *m,
							const RouteTspOptions *opt, int *order, RouteTspResult *result);

/* Cost of visiting order (count entries), closing the cycle when closed. */
extern double route_order_length(const RouteMetric *m, const int *order, int count, bool closed);

#endif							/* ROUTE_TSP_H */
