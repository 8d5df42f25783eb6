/*
 * http.h — the libmicrohttpd side: per-request state, body limits, response headers
 * (compression, ETag, Cache-Control, Vary, CORS), access log and metrics.
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

struct MHD_Daemon;

/* Starts the HTTP daemon on cfg host:port (TLS when configured); NULL + message on failure. */
struct MHD_Daemon *http_start(char *err, size_t errlen);

/* Requests between their URI and their completion (graceful shutdown waits for 0). */
int			http_active_requests(void);

/* The route table (router.c): fills resp for req. */
void		router_dispatch(Request *req, Response *resp);

#endif
