/*
 * route_metric.c — distances (haversine, euclidean, TSPLIB euc2d, cost matrix) and
 * nearest-neighbour candidate lists for the routing solvers.  No PostgreSQL dependency.
 */
#include "route_metric.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define DEG2RAD (M_PI / 180.0)

double
route_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

bool
route_metric_parse(const char *name, RouteMetricKind *kind)
{
	if (strcmp(name, "euclidean") == 0)
		*kind = ROUTE_METRIC_EUCLIDEAN;
	else if (strcmp(name, "euc2d") == 0)
		*kind = ROUTE_METRIC_EUC2D;
	else if (strcmp(name, "haversine") == 0)
		*kind = ROUTE_METRIC_HAVERSINE;
	else
		return false;
	return true;
}

void
route_metric_init_xy(RouteMetric *m, const RouteEnv *env, RouteMetricKind kind,
					 int n, const double *x, const double *y)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->n = n;
	m->x = x;
	m->y = y;
	if (kind == ROUTE_METRIC_HAVERSINE)
	{
		m->lat = ROUTE_NEW(env, double, n);
		m->lon = ROUTE_NEW(env, double, n);
		m->coslat = ROUTE_NEW(env, double, n);
		for (int i = 0; i < n; i++)
		{
			m->lon[i] = x[i] * DEG2RAD;
			m->lat[i] = y[i] * DEG2RAD;
			m->coslat[i] = cos(m->lat[i]);
		}
	}
}

void
route_metric_init_matrix(RouteMetric *m, int n, const double *matrix)
{
	memset(m, 0, sizeof(*m));
	m->kind = ROUTE_METRIC_MATRIX;
	m->n = n;
	m->matrix = matrix;
}

void
route_metric_init_renumbered(RouteMetric *m, const RouteMetric *base, int n, const int *node,
							 bool free_return)
{
	memset(m, 0, sizeof(*m));
	m->kind = ROUTE_METRIC_RENUMBERED;
	m->n = n;
	m->base = base;
	m->node = node;
	m->free_return = free_return;
}

/* Whether d(i, j) may differ from d(j, i). */
static bool
route_metric_asymmetric(const RouteMetric *m)
{
	if (m->kind == ROUTE_METRIC_RENUMBERED)
		return m->free_return || route_metric_asymmetric(m->base);
	return m->kind == ROUTE_METRIC_MATRIX;
}

double
route_dist_slow(const RouteMetric *m, int i, int j)
{
	switch (m->kind)
	{
		case ROUTE_METRIC_EUCLIDEAN:
			{
				/* not hypot(): 5x slower, and inputs are bounded so nothing overflows */
				double		dx = m->x[i] - m->x[j];
				double		dy = m->y[i] - m->y[j];

				return sqrt(dx * dx + dy * dy);
			}
		case ROUTE_METRIC_EUC2D:
			{
				double		dx = m->x[i] - m->x[j];
				double		dy = m->y[i] - m->y[j];

				return (double) (long) (sqrt(dx * dx + dy * dy) + 0.5);
			}
		case ROUTE_METRIC_HAVERSINE:
			{
				double		sdlat = sin((m->lat[j] - m->lat[i]) * 0.5);
				double		sdlon = sin((m->lon[j] - m->lon[i]) * 0.5);
				double		h = sdlat * sdlat + m->coslat[i] * m->coslat[j] * sdlon * sdlon;

				if (h > 1.0)
					h = 1.0;
				return 2.0 * ROUTE_EARTH_RADIUS_M * asin(sqrt(h));
			}
		case ROUTE_METRIC_MATRIX:
			return m->matrix[(size_t) i * m->n + j];
		case ROUTE_METRIC_RENUMBERED:
			if (j == 0 && m->free_return)
				return 0.0;
			return route_dist(m->base, m->node[i], m->node[j]);
	}
	return 0.0;
}

int
route_neighbors(const RouteMetric *m, const RouteEnv *env, int k, int **out)
{
	int			n = m->n;
	bool		asymmetric = route_metric_asymmetric(m);
	int		   *nb;
	double	   *dist;

	if (k > n - 1)
		k = n - 1;
	if (k < 0)
		k = 0;
	nb = ROUTE_NEW(env, int, (size_t) n * (k > 0 ? k : 1));
	dist = ROUTE_NEW(env, double, k + 1);
	for (int i = 0; i < n && k > 0; i++)
	{
		int			cnt = 0;
		int		   *row = nb + (size_t) i * k;

		if ((i & 63) == 0)
			env->check_interrupts(env->ctx);
		for (int j = 0; j < n; j++)
		{
			double		d;
			int			p;

			if (j == i)
				continue;
			d = asymmetric ?
				0.5 * (route_dist(m, i, j) + route_dist(m, j, i)) : route_dist(m, i, j);
			if (cnt == k && d >= dist[k - 1])
				continue;
			/* insertion into the sorted list of the k best so far */
			p = cnt < k ? cnt++ : k - 1;
			while (p > 0 && dist[p - 1] > d)
			{
				dist[p] = dist[p - 1];
				row[p] = row[p - 1];
				p--;
			}
			dist[p] = d;
			row[p] = j;
		}
	}
	route_release(env, dist);
	*out = nb;
	return k;
}
