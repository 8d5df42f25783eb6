/*
 * sse.h — server-sent events: GET /api/events/stream (freight.events, optional ?type= filter)
 * and GET /api/shipments/{tracking}/stream (freight.track status), woken by NOTIFY
 * freight_events, resumable with Last-Event-ID, with heartbeats.
 */
#ifndef API_SSE_H
#define API_SSE_H

#include "server.h"

void		sse_events(Request *req, Response *resp, const char *arg);
void		sse_shipment(Request *req, Response *resp, const char *tracking);
/* Called by the LISTEN thread on NOTIFY freight_events. */
void		sse_wake_all(void);
void		sse_start(void);			/* heartbeat thread */
void		sse_stop(void);			/* ends every stream (shutdown) */

#endif
