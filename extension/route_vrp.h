/*
 * route_vrp.h — several vehicles from one depot: the capacitated vehicle-routing solver with
 * time windows and service times behind freight.plan_routes.
 *
 * Slack Induction by String Removals (Christiaens & Vanden Berghe, 2020): ruin a few strings of
 * neighbouring customers from nearby routes, recreate by cheapest feasible insertion with
 * blinks, accept by simulated annealing whose temperature falls with the spent budget.  Node 0
 * is the depot.  Travel time = distance / speed.  Deterministic for a given seed when the search
 * ends by its iteration limit.
 */
#ifndef ROUTE_VRP_H
#define ROUTE_VRP_H

#include "route_metric.h"

typedef struct RouteVrpProblem
{
	const RouteMetric *m;		/* n nodes, node 0 = depot */
	const double *demand;		/* n entries (depot's ignored), NULL = none */
	double		capacity;		/* per vehicle; <= 0 = unlimited */
	const double *tw_open;		/* n entries each, NULL = no time windows */
	const double *tw_close;
	const double *service;		/* n entries, NULL = 0 */
	double		speed;			/* distance units per time unit */
	int			max_vehicles;	/* 0 = as many as needed */
	double		vehicle_cost;	/* added per route: > 0 makes fewer vehicles win */
	bool		minimize_vehicles;	/* fewest vehicles first, then distance */
	double		time_budget_ms;
	long		max_iterations;
	uint64_t	seed;
} RouteVrpProblem;

typedef struct RouteVrpResult
{
	int			nroutes;
	int		   *route_len;		/* nroutes entries */
	int		   *stops;			/* customers in visiting order, route after route */
	int			unassigned;		/* customers left out (only with max_vehicles) */
	double		distance;		/* total distance of all routes */
	long		iterations;
	double		elapsed_ms;
} RouteVrpResult;

/*
 * A customer that no vehicle can serve even alone (demand above capacity, or a time window
 * that cannot be reached from the depot and back): its index and why, or -1.
 */
extern int	route_vrp_unservable(const RouteVrpProblem *p, const char **why);

extern void route_vrp_solve(const RouteEnv *env, const RouteVrpProblem *p, RouteVrpResult *result);

#endif							/* ROUTE_VRP_H */
