/*
 * http.c — libmicrohttpd glue (see http.h).
 *
 * MHD runs an internal thread pool over epoll; a request's handler runs on one of those
 * threads.  Most requests hand their pipeline to the pipelining executor (pool_async.c) and
 * suspend the connection until it answers; the others borrow a pooled connection and wait.
 * Per-request state lives in con_cls from the URI-log callback to NOTIFY_COMPLETED.
 */
#include "http.h"

#include <arpa/inet.h>
#include <brotli/encode.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "listen_unix.h"
#include "metrics.h"
#include "query_parse.h"
#include "server.h"
#include "tls.h"

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
request_stage_done(Request *req, RequestStage stage)
{
	if (server.cfg.server_timing)
		req->stage_end[stage] = now_seconds();
}

/* Server-Timing: auth, parse, transaction and response, in ms, for the stages that happened. */
static void
add_server_timing(Request *req, struct MHD_Response *mr)
{
	static const char *const names[NSTAGES] = {"auth", "parse", "transaction"};
	double		from = req->start;
	double		now = now_seconds();
	char		value[200];
	size_t		len = 0;

	for (int i = 0; i < NSTAGES; i++)
		if (req->stage_end[i] > 0)
		{
			len += (size_t) snprintf(value + len, sizeof(value) - len, "%s;dur=%.3f, ", names[i],
									 (req->stage_end[i] - from) * 1000.0);
			from = req->stage_end[i];
		}
	snprintf(value + len, sizeof(value) - len, "response;dur=%.3f", (now - from) * 1000.0);
	MHD_add_response_header(mr, "Server-Timing", value);
}

const char *
request_header(Request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void
response_init(Response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	buf_init(&r->body);
}

void
response_header(Request *req, Response *r, const char *name, const char *value)
{
	Header	   *h = arena_push(&req->arena, (void **) &r->headers, &r->nheaders, &r->cheaders,
							   sizeof(Header));

	h->name = name;
	h->value = value;
}

void
response_error(Request *req, Response *r, const ApiError *err)
{
	(void) req;
	r->status = err->status;
	buf_reset(&r->body);
	api_error_json(err, &r->body);
	r->content_type = "application/json; charset=utf-8";
	if (err->status == 401)
	{
		Buf			h;

		buf_init(&h);
		buf_puts(&h, "Bearer error=\"invalid_token\", error_description=\"");
		for (const char *p = err->message; *p; p++)
			if (*p != '"' && *p != '\\')
				buf_putc(&h, *p);
		buf_putc(&h, '"');
		response_header(req, r, "WWW-Authenticate", arena_strdup(&req->arena, h.data));
		buf_free(&h);
	}
}

/* ---- compression and caching ---- */

static bool
compressible(const char *ctype)
{
	return ctype && (strncmp(ctype, "application/", 12) == 0 || strncmp(ctype, "text/", 5) == 0);
}

static bool
accepts_encoding(Request *req, const char *enc)
{
	const char *h = request_header(req, "Accept-Encoding");
	const char *p;

	if (h == NULL || (p = strstr(h, enc)) == NULL)
		return false;
	p += strlen(enc);
	while (*p == ' ')
		p++;
	return !(strncmp(p, ";q=0", 4) == 0 && strncmp(p, ";q=0.", 5) != 0);
}

static bool
compress_gzip(const Buf *in, Buf *out)
{
	z_stream	zs;
	int			rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	out->len = 0;
	if (out->cap < deflateBound(&zs, in->len) + 1)
	{
		out->cap = deflateBound(&zs, in->len) + 1;
		out->data = xrealloc(out->data, out->cap);
	}
	zs.next_in = (Bytef *) in->data;
	zs.avail_in = (uInt) in->len;
	zs.next_out = (Bytef *) out->data;
	zs.avail_out = (uInt) (out->cap - 1);
	rc = deflate(&zs, Z_FINISH);
	out->len = zs.total_out;
	deflateEnd(&zs);
	return rc == Z_STREAM_END;
}

static bool
compress_brotli(const Buf *in, Buf *out)
{
	size_t		n = BrotliEncoderMaxCompressedSize(in->len);

	if (n == 0)
		return false;
	if (out->cap < n + 1)
	{
		out->cap = n + 1;
		out->data = xrealloc(out->data, out->cap);
	}
	if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, in->len,
							   (const uint8_t *) in->data, &n, (uint8_t *) out->data))
		return false;
	out->len = n;
	return true;
}

/* Replaces the body by its gzip/brotli encoding when the client accepts one and it pays. */
static const char *
maybe_compress(Request *req, Response *r)
{
	const char *enc = NULL;
	Buf			out;
	bool		ok = false;

	if (r->body.len < (size_t) server.cfg.compress_min || !compressible(r->content_type))
		return NULL;
	buf_init(&out);
	if (accepts_encoding(req, "br"))
	{
		enc = "br";
		ok = compress_brotli(&r->body, &out);
	}
	else if (accepts_encoding(req, "gzip"))
	{
		enc = "gzip";
		ok = compress_gzip(&r->body, &out);
	}
	if (!ok || out.len >= r->body.len)
	{
		buf_free(&out);
		return NULL;
	}
	buf_free(&r->body);
	r->body = out;
	return enc;
}

/*
 * A weak validator from the body bytes: zlib's CRC-32 and Adler-32 side by side (64 bits; both
 * run several bytes per cycle, where a byte-at-a-time hash cost a microsecond per response).
 */
static void
etag_of(const Buf *body, char *out, size_t n)
{
	const Bytef *data = (const Bytef *) body->data;
	unsigned long crc = crc32_z(crc32_z(0L, Z_NULL, 0), data, body->len);
	unsigned long adler = adler32_z(adler32_z(0L, Z_NULL, 0), data, body->len);

	snprintf(out, n, "W/\"%08lx%08lx\"", crc, adler);
}

static bool
etag_matches(const char *inm, const char *etag)
{
	return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag + 2) != NULL);
}

/* Is this Origin allowed by server-cors-allowed-origins (unset: any origin, as PostgREST)? */
static bool
cors_allowed(const char *origin)
{
	char	  **allowed = server.cfg.cors_origins;

	if (allowed == NULL)
		return true;
	for (; *allowed; allowed++)
		if (strcasecmp(*allowed, origin) == 0)
			return true;
	return false;
}

/* CORS headers for an allowed Origin; none for another, so that the browser keeps the answer. */
static void
add_cors(Request *req, struct MHD_Response *mr)
{
	const char *origin = request_header(req, "Origin");

	if (origin == NULL || !cors_allowed(origin))
		return;
	MHD_add_response_header(mr, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(mr, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(mr, "Access-Control-Expose-Headers",
							"Content-Encoding, Content-Location, Content-Range, Content-Type, Date, "
							"Location, Server, Transfer-Encoding, Range-Unit, ETag, X-Request-Id");
	if (strcmp(req->method, "OPTIONS") == 0)
	{
		const char *h = request_header(req, "Access-Control-Request-Headers");

		MHD_add_response_header(mr, "Access-Control-Allow-Methods",
								"GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS");
		MHD_add_response_header(mr, "Access-Control-Allow-Headers", h ? h : "Authorization");
		MHD_add_response_header(mr, "Access-Control-Max-Age", "86400");
	}
}

static enum MHD_Result
send_response(Request *req, Response *r)
{
	struct MHD_Response *mr;
	const char *enc = NULL;
	char		etag[40] = "";
	enum MHD_Result ret;
	bool		cacheable = (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) &&
		r->status == 200 && r->stream == NULL;

	if (cacheable)
	{
		etag_of(&r->body, etag, sizeof(etag));
		if (etag_matches(request_header(req, "If-None-Match"), etag))
		{
			r->status = 304;
			buf_reset(&r->body);
		}
	}
	if (r->stream)
		mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, r->stream, r->stream_cls,
											   r->stream_free);
	else
	{
		size_t		len;

		if (r->status != 304)
			enc = maybe_compress(req, r);
		len = r->body.len;
		req->bytes = len;
		if (strcmp(req->method, "HEAD") == 0)
			len = 0;
		mr = MHD_create_response_from_buffer(len, buf_steal(&r->body), MHD_RESPMEM_MUST_FREE);
	}
	if (mr == NULL)
		return MHD_NO;
	if (r->content_type && r->status != 304)
		MHD_add_response_header(mr, "Content-Type", r->content_type);
	if (enc)
		MHD_add_response_header(mr, "Content-Encoding", enc);
	if (etag[0])
		MHD_add_response_header(mr, "ETag", etag);
	MHD_add_response_header(mr, "Vary", "Accept, Accept-Encoding, Accept-Profile, Authorization, apikey, Origin, Prefer, Range");
	MHD_add_response_header(mr, "Cache-Control", r->cache_control ? r->cache_control :
							(req->role && strcmp(req->role, server.cfg.db_anon_role ? server.cfg.db_anon_role : "") == 0 && cacheable
							 ? "public, max-age=60" : "private, no-cache"));
	MHD_add_response_header(mr, "X-Request-Id", req->request_id);
	if (req->trace)
		MHD_add_response_header(mr, server.cfg.trace_header, req->trace);
	for (int i = 0; i < r->nheaders; i++)
		MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
	add_cors(req, mr);
	if (server.cfg.server_timing)
		add_server_timing(req, mr);
	req->status = r->status;
	req->responded = true;
	ret = MHD_queue_response(req->conn, (unsigned int) r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static enum MHD_Result
send_error(Request *req, int status, const char *code, const char *message, const char *details)
{
	Response	r;
	ApiError	err;
	enum MHD_Result ret;

	response_init(&r);
	api_error(&err, status, code, message, details, NULL);
	response_error(req, &r, &err);
	ret = send_response(req, &r);
	buf_free(&r.body);
	return ret;
}

/* ---- MHD callbacks ---- */

static atomic_int active_requests;

/*
 * Request ids: unique, not secret.  Each thread seeds a splitmix64 stream from OpenSSL's
 * generator once, instead of asking it for every request.
 */
static void
next_request_id(unsigned char out[16])
{
	static _Thread_local uint64_t state;
	static _Thread_local bool seeded;

	if (!seeded)
	{
		if (RAND_bytes((unsigned char *) &state, sizeof(state)) != 1)
			state = (uint64_t) time(NULL) ^ (uint64_t) (uintptr_t) &state;
		seeded = true;
	}
	for (int half = 0; half < 2; half++)
	{
		uint64_t	z = (state += 0x9E3779B97F4A7C15ULL);

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		memcpy(out + 8 * half, &z, 8);
	}
}

int
http_active_requests(void)
{
	return atomic_load(&active_requests);
}

/* on_uri's argument on the admin server */
static int	admin_marker;

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	Request    *req = xmalloc(sizeof(Request));
	unsigned char rnd[16];
	const char *q;

	memset(req, 0, sizeof(*req));
	arena_init(&req->arena);
	buf_init(&req->body);
	req->conn = conn;
	req->start = now_seconds();
	req->raw_uri = arena_strdup(&req->arena, uri);
	q = strchr(req->raw_uri, '?');
	req->query = q ? q + 1 : "";
	req->path = qp_percent_decode(&req->arena, req->raw_uri,
								  q ? (size_t) (q - req->raw_uri) : strlen(req->raw_uri), false);
	next_request_id(rnd);
	for (int i = 0; i < 16; i++)
	{
		req->request_id[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
		req->request_id[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
	}
	req->request_id[32] = '\0';
	req->route = "other";
	req->admin = cls == &admin_marker;
	atomic_fetch_add(&active_requests, 1);
	return req;
}

/* The client's IP address as text (an IPv4-mapped IPv6 address as IPv4); "" when unknown. */
void
http_client_address(Request *req, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const struct in6_addr *a6;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) n);
	else if (sa && sa->sa_family == AF_INET6)
	{
		a6 = &((const struct sockaddr_in6 *) sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t) n);
		else
			inet_ntop(AF_INET6, a6, out, (socklen_t) n);
	}
}

static void
log_access(Request *req, double seconds)
{
	Buf			line;
	char		addr[INET6_ADDRSTRLEN];
	/* event streams are long by design: never "slow" */
	bool		slow = seconds * 1000.0 >= server.cfg.slow_ms && strcmp(req->route, "stream") != 0;

	if (!server.cfg.access_log && !slow)
		return;
	buf_init(&line);
	buf_printf(&line, "{\"time\":%.3f,\"request_id\":\"%s\",\"method\":\"", (double) time(NULL),
			   req->request_id);
	buf_json_escape(&line, req->method ? req->method : "");
	buf_puts(&line, "\",\"path\":\"");
	buf_json_escape(&line, req->path ? req->path : "");
	buf_printf(&line, "\",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu,\"role\":\"",
			   req->route, req->status, seconds * 1000.0, req->bytes);
	buf_json_escape(&line, req->role ? req->role : "");
	http_client_address(req, addr, sizeof(addr));
	buf_printf(&line, "\",\"client_addr\":\"%s\"", addr);
	if (req->trace)
		buf_printf(&line, ",\"trace\":\"%s\"", req->trace);
	buf_puts(&line, slow ? ",\"slow\":true}\n" : "}\n");
	fwrite(line.data, 1, line.len, slow ? stderr : stdout);
	if (!slow)
		fflush(stdout);
	buf_free(&line);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Request    *req = *con_cls;
	double		seconds;

	(void) cls;
	(void) conn;
	(void) toe;
	if (req == NULL)
		return;
	seconds = now_seconds() - req->start;
	if (req->responded)
	{
		metrics_observe(req->route, req->status, seconds);
		log_access(req, seconds);
	}
	if (req->resume)
		req->resume(req, NULL);
	buf_free(&req->resp.body);
	buf_free(&req->body);
	arena_free(&req->arena);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&active_requests, 1);
}

/*
 * server-trace-header: a value of 1 to 128 visible ASCII characters (no quote or backslash) is
 * echoed in the response; under X-Request-Id it becomes the request id of the logs as well.
 * Any other value is ignored.
 */
static void
take_trace(Request *req)
{
	const char *v = request_header(req, server.cfg.trace_header);
	size_t		len = v ? strlen(v) : 0;

	if (len == 0 || len >= sizeof(req->request_id))
		return;
	for (const char *c = v; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\\')
			return;
	if (strcasecmp(server.cfg.trace_header, "X-Request-Id") == 0)
		memcpy(req->request_id, v, len + 1);
	else
		req->trace = arena_strdup(&req->arena, v);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	Request    *req = *con_cls;
	enum MHD_Result ret;

	(void) cls;
	(void) url;
	(void) version;
	if (req == NULL)
		return MHD_NO;
	if (req->method == NULL)
	{
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

		req->method = arena_strdup(&req->arena, method);
		if (server.cfg.trace_header)
			take_trace(req);
		if (server.cfg.tls_client_ca && !req->admin)
		{
			char		subject[256];

			if (!tls_client_verified(conn, subject, sizeof(subject)))
				return send_error(req, 401, "PGRST401", "A trusted client certificate is required",
								  "This server verifies client certificates (mutual TLS).");
			req->client_cert = arena_strdup(&req->arena, subject);
		}
		if (cl && strtoll(cl, NULL, 10) > server.cfg.max_body)
			return send_error(req, 413, "PGRST413", "Payload Too Large",
							  "The request body exceeds the configured server-max-body.");
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (!req->body_too_large && req->body.len + *upload_data_size <= (size_t) server.cfg.max_body)
			buf_add(&req->body, upload_data, *upload_data_size);
		else if (!req->body_too_large)
		{
			req->body_too_large = true;
			*upload_data_size = 0;
			return send_error(req, 413, "PGRST413", "Payload Too Large",
							  "The request body exceeds the configured server-max-body.");
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;
	if (req->resume)
	{
		/* resumed: the pipelining executor has the results */
		void		(*resume) (Request *, Response *) = req->resume;

		req->resume = NULL;
		resume(req, &req->resp);
	}
	else
	{
		if (server.stopping)
			return send_error(req, 503, "PGRST000", "Server is shutting down", NULL);
		response_init(&req->resp);
		router_dispatch(req, &req->resp);
		if (req->resume)
			return MHD_YES;		/* suspended until the database answers */
	}
	ret = send_response(req, &req->resp);
	buf_free(&req->resp.body);
	return ret;
}

/* A PEM file for MHD (malloc'd), NULL + err when unreadable. */
static char *
read_file(const char *path, char *err, size_t errlen)
{
	Buf			b;

	buf_init(&b);
	if (buf_read_file(&b, path, 1024 * 1024) != 0)
	{
		snprintf(err, errlen, "cannot read %s", path);
		buf_free(&b);
		return NULL;
	}
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

/* what a host name or an IP address (IPv6 with a %zone) is made of */
#define HOST_CHARS "0123456789.-_:%abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/*
 * server-host as a socket address: "*" is every IPv4 and IPv6 address (dual stack); otherwise an
 * IPv4 or IPv6 address, or a host name whose first address is taken.  Adds MHD's IPv6 flags.
 */
static bool
listen_address(const char *host, int port, struct sockaddr_storage *ss, unsigned int *flags, char *err,
			   size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	bool		v6 = strchr(host, ':') != NULL;
	int			rc;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "*") == 0)
	{
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t) port);
		*flags |= MHD_USE_DUAL_STACK;
		return true;
	}
	/* an IPv6 address is never looked up, nor is what cannot be a host name */
	if (v6)
		hints.ai_flags |= AI_NUMERICHOST;
	if (host[0] == '\0' || host[strspn(host, HOST_CHARS)] != '\0' ||
		((rc = getaddrinfo(host, NULL, &hints, &res)) != 0 && v6))
	{
		snprintf(err, errlen, "server-host: \"%s\" is neither an IPv4 or IPv6 address nor a host name "
				 "(* listens on every address)", host);
		return false;
	}
	if (rc != 0)
	{
		snprintf(err, errlen, "server-host: cannot resolve \"%s\": %s", host, gai_strerror(rc));
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET6)
	{
		((struct sockaddr_in6 *) ss)->sin6_port = htons((uint16_t) port);
		*flags |= MHD_USE_IPv6;
	}
	else
		((struct sockaddr_in *) ss)->sin_port = htons((uint16_t) port);
	return true;
}

/* host:port, an IPv6 address in brackets ([::1]:3000). */
static void
host_port(char *out, size_t n, const char *host, int port)
{
	bool		v6 = strchr(host, ':') != NULL;

	snprintf(out, n, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

struct MHD_Daemon *
http_start_admin(char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	const char *host = server.cfg.admin_host ? server.cfg.admin_host : server.cfg.host;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	if (!listen_address(host, server.cfg.admin_port, &addr, &flags, err, errlen))
		return NULL;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
						 MHD_OPTION_SOCK_ADDR, &addr,
						 MHD_OPTION_URI_LOG_CALLBACK, on_uri, &admin_marker,
						 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
						 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
						 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		char		where[300];

		host_port(where, sizeof(where), host, server.cfg.admin_port);
		snprintf(err, errlen, "admin-server-port: cannot listen on %s", where);
	}
	return d;
}

void
http_base_url(char *out, size_t n)
{
	char		where[300];

	if (server.cfg.unix_socket)
		snprintf(where, sizeof(where), "localhost");
	else
		host_port(where, sizeof(where), server.cfg.host, server.cfg.port);
	snprintf(out, n, "http%s://%s", server.cfg.tls_cert ? "s" : "", where);
}

struct MHD_Daemon *
http_start(char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
	struct MHD_OptionItem opts[16];
	int			n = 0;
	char	   *cert = NULL, *key = NULL, *ca = NULL;
	struct MHD_Daemon *d;

	if (server.cfg.unix_socket)
	{
		int			fd = unix_listen(server.cfg.unix_socket, server.cfg.unix_mode, err, errlen);

		if (fd < 0)
			return NULL;
		opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_LISTEN_SOCKET, fd, NULL};
	}
	else if (listen_address(server.cfg.host, server.cfg.port, &addr, &flags, err, errlen))
		opts[n++] = (struct MHD_OptionItem) {.option = MHD_OPTION_SOCK_ADDR, .value = 0, .ptr_value = &addr};
	else
		return NULL;
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t) server.cfg.threads, NULL};
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) on_uri, NULL};
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) on_completed, NULL};
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL};
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL};
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
	/* per-connection buffer, cleared for every request: 16 KiB holds headers with long tokens */
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16384, NULL};
	if (server.cfg.tls_cert)
	{
		if ((cert = read_file(server.cfg.tls_cert, err, errlen)) == NULL ||
			(key = read_file(server.cfg.tls_key ? server.cfg.tls_key : "", err, errlen)) == NULL)
			return NULL;
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
		opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_KEY, 0, key};
		if (server.cfg.tls_client_ca)
		{
			if ((ca = read_file(server.cfg.tls_client_ca, err, errlen)) == NULL)
				return NULL;
			opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_TRUST, 0, ca};
		}
	}
	opts[n++] = (struct MHD_OptionItem) {MHD_OPTION_END, 0, NULL};
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		char		url[300];

		http_base_url(url, sizeof(url));
		snprintf(err, errlen, "cannot listen on %s", server.cfg.unix_socket ? server.cfg.unix_socket : url);
		if (server.cfg.unix_socket)
			unlink(server.cfg.unix_socket);
	}
	/* MHD copies the PEM strings it needs */
	free(cert);
	free(key);
	free(ca);
	return d;
}
