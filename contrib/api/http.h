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

/*
 * Starts the HTTP daemon on cfg host:port (TLS when configured); NULL + message on failure.
 * server-host: an IPv4 or IPv6 address, a host name (its first address), or * (all, dual stack).
 */
struct MHD_Daemon *http_start(char *err, size_t errlen);

/* The admin server (admin-server-port: /live, /ready, /metrics) on plain HTTP; NULL + message. */
struct MHD_Daemon *http_start_admin(char *err, size_t errlen);

/*
 * The daemon's base URL, e.g. http://127.0.0.1:3000 or https://[::1]:3000 (IPv6 in brackets);
 * http://localhost on a Unix-domain socket (server-unix-socket).
 */
void		http_base_url(char *out, size_t n);

/* The client's IP address as text (an IPv4-mapped IPv6 address as IPv4); "" when unknown. */
void		http_client_address(Request *req, char *out, size_t n);

/* Requests between their URI and their completion (graceful shutdown waits for 0). */
int			http_active_requests(void);

/* The route table (router.c): fills resp for req. */
void		router_dispatch(Request *req, Response *resp);

#endif
