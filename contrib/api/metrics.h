/*
 * metrics.h — Prometheus metrics: requests by route and status, a latency histogram per route,
 * connection-pool use.  Lock-free counters (C11 atomics).
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include "buf.h"

void		metrics_observe(const char *route, int status, double seconds);
void		metrics_render(Buf *b);

#endif
