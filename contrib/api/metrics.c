/*
 * metrics.c — counters and histograms behind GET /metrics (see metrics.h).
 */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "server.h"

static const char *const routes[] = {
	"relation", "rpc", "openapi", "docs", "health", "metrics", "stream", "page", "other"
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static atomic_ulong requests[NROUTES][600];
static atomic_ulong latency_bucket[NROUTES][NBUCKETS + 1];
static atomic_ulong latency_sum_us[NROUTES];

static size_t
route_index(const char *route)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (route && strcmp(routes[i], route) == 0)
			return i;
	return NROUTES - 1;
}

void
metrics_observe(const char *route, int status, double seconds)
{
	size_t		r = route_index(route);
	size_t		b = 0;

	if (status < 100 || status > 599)
		status = 599;
	atomic_fetch_add_explicit(&requests[r][status], 1, memory_order_relaxed);
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add_explicit(&latency_bucket[r][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us[r], (unsigned long) (seconds * 1e6), memory_order_relaxed);
}

/* A gauge of the pipelining executor, for the primary and (when there is one) the replica. */
static void
pipeline_gauge(Buf *b, const char *name, const char *help, int (*value) (AsyncPool *))
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	buf_printf(b, "%s{pool=\"primary\"} %d\n", name, value(server.pipeline));
	if (server.replica_pipeline)
		buf_printf(b, "%s{pool=\"replica\"} %d\n", name, value(server.replica_pipeline));
}

void
metrics_render(Buf *b)
{
	buf_puts(b, "# HELP freight_api_requests_total HTTP requests by route and status.\n"
			 "# TYPE freight_api_requests_total counter\n");
	for (size_t r = 0; r < NROUTES; r++)
		for (int s = 100; s < 600; s++)
		{
			unsigned long n = atomic_load_explicit(&requests[r][s], memory_order_relaxed);

			if (n)
				buf_printf(b, "freight_api_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
						   routes[r], s, n);
		}
	buf_puts(b, "# HELP freight_api_request_duration_seconds Request latency.\n"
			 "# TYPE freight_api_request_duration_seconds histogram\n");
	for (size_t r = 0; r < NROUTES; r++)
	{
		unsigned long cum = 0;

		for (size_t k = 0; k <= NBUCKETS; k++)
		{
			cum += atomic_load_explicit(&latency_bucket[r][k], memory_order_relaxed);
			if (k < NBUCKETS)
				buf_printf(b, "freight_api_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
						   routes[r], buckets[k], cum);
			else
				buf_printf(b, "freight_api_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
						   routes[r], cum);
		}
		buf_printf(b, "freight_api_request_duration_seconds_sum{route=\"%s\"} %.6f\n", routes[r],
				   (double) atomic_load_explicit(&latency_sum_us[r], memory_order_relaxed) / 1e6);
		buf_printf(b, "freight_api_request_duration_seconds_count{route=\"%s\"} %lu\n", routes[r], cum);
	}
	buf_puts(b, "# HELP freight_api_pool_connections Database connections in the pool.\n"
			 "# TYPE freight_api_pool_connections gauge\n");
	buf_printf(b, "freight_api_pool_connections{pool=\"primary\",state=\"in_use\"} %d\n",
			   pool_in_use(server.pool));
	buf_printf(b, "freight_api_pool_connections{pool=\"primary\",state=\"size\"} %d\n",
			   pool_size(server.pool));
	if (server.replica_pool)
	{
		buf_printf(b, "freight_api_pool_connections{pool=\"replica\",state=\"in_use\"} %d\n",
				   pool_in_use(server.replica_pool));
		buf_printf(b, "freight_api_pool_connections{pool=\"replica\",state=\"size\"} %d\n",
				   pool_size(server.replica_pool));
	}
	if (server.pipeline)
	{
		pipeline_gauge(b, "freight_api_pipeline_connections",
					   "Connections of the pipelining executor that are open.", async_pool_connected);
		pipeline_gauge(b, "freight_api_pipeline_requests",
					   "Requests waiting for their results in the pipelining executor.", async_pool_in_flight);
	}
}
