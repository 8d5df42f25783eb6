/*
 * route_metric.h — distances between stops for every routing solver.
 *
 * Four metrics: haversine (great circle on x = longitude, y = latitude in degrees, result in
 * metres), euclidean (plain double precision), euc2d (TSPLIB: Euclidean rounded to the nearest
 * integer per edge) and a caller-supplied n x n cost matrix (row = from, column = to; it may be
 * asymmetric).  A fifth kind views another metric through a renumbering of its stops, without
 * copying n x n distances.  Also builds the k-nearest-neighbour candidate lists the searches
 * use.
 */
#ifndef ROUTE_METRIC_H
#define ROUTE_METRIC_H

#include "route_env.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef enum RouteMetricKind
{
	ROUTE_METRIC_EUCLIDEAN,
	ROUTE_METRIC_EUC2D,
	ROUTE_METRIC_HAVERSINE,
	ROUTE_METRIC_MATRIX,
	ROUTE_METRIC_RENUMBERED
} RouteMetricKind;

#define ROUTE_EARTH_RADIUS_M 6371008.8	/* IUGG mean Earth radius */

typedef struct RouteMetric
{
	RouteMetricKind kind;
	int			n;
	const double *x;			/* coordinates (not for MATRIX) */
	const double *y;
	const double *matrix;		/* n * n, row-major (MATRIX only) */
	double	   *lat;			/* HAVERSINE: radians and cos(latitude), precomputed */
	double	   *lon;
	double	   *coslat;
	const struct RouteMetric *base; /* RENUMBERED: the metric seen */
	const int  *node;			/* RENUMBERED: own stop -> base's stop */
	bool		free_return;	/* RENUMBERED: going to own stop 0 costs nothing */
} RouteMetric;

/* Set up a coordinate metric (x, y must outlive it); haversine inputs must be in range. */
extern void route_metric_init_xy(RouteMetric *m, const RouteEnv *env, RouteMetricKind kind,
								 int n, const double *x, const double *y);
extern void route_metric_init_matrix(RouteMetric *m, int n, const double *matrix);
/* base seen with stop i at base's node[i] (both must outlive m); free_return for open routes. */
extern void route_metric_init_renumbered(RouteMetric *m, const RouteMetric *base, int n,
										 const int *node, bool free_return);

/* Name of a metric ("haversine", ...) -> kind; false if unknown. */
extern bool route_metric_parse(const char *name, RouteMetricKind *kind);

/* Distance from stop i to stop j (route_dist_slow: all but the matrix). */
extern double route_dist_slow(const RouteMetric *m, int i, int j);

static inline double
route_dist(const RouteMetric *m, int i, int j)
{
	if (m->kind == ROUTE_METRIC_MATRIX)
		return m->matrix[(size_t) i * m->n + j];
	return route_dist_slow(m, i, j);
}

/*
 * For each of the n nodes, its k nearest other nodes by sym(i, j) = (d(i,j) + d(j,i)) / 2,
 * nearest first: out[i * k + r].  k is clamped to n - 1; returns the k used.
 */
extern int	route_neighbors(const RouteMetric *m, const RouteEnv *env, int k, int **out);

#endif							/* ROUTE_METRIC_H */
