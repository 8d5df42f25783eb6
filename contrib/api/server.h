/*
 * server.h — the daemon's shared state and the request/response types every route uses.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"
#include "errors.h"
#include "jwt.h"
#include "pool.h"
#include "pool_async.h"
#include "schema_cache.h"

struct MHD_Connection;

typedef struct Server
{
	ApiConfig	cfg;
	Pool	   *pool;			/* primary: writes (and reads without replicas) */
	Pool	   *replica_pool;	/* reads, NULL without db-replica-uri */
	AsyncPool  *pipeline;		/* primary, pipelined (db-pipelines; NULL when 0) */
	AsyncPool  *replica_pipeline;	/* replica, pipelined */
	JwtKey	   *jwt;
	pthread_mutex_t cache_lock;
	SchemaCache *cache;			/* holds one reference */
	char	  **schemas;		/* exposed schemas, first = default */
	int			nschemas;
	volatile bool stopping;
} Server;

extern Server server;

/* Takes and drops a reference to the current schema cache. */
SchemaCache *server_cache_acquire(void);
void		server_cache_release(SchemaCache *sc);
/* Reloads the schema cache from the database; false + message on failure. */
bool		server_cache_reload(char *err, size_t errlen);

typedef struct Header
{
	const char *name;
	const char *value;
} Header;

/* A streamed body (server-sent events): MHD's content reader and its cleanup. */
typedef ssize_t (*StreamReader) (void *cls, uint64_t pos, char *buf, size_t max);
typedef void (*StreamFree) (void *cls);

typedef struct Response
{
	int			status;
	StreamReader stream;		/* non-NULL: body produced by this callback */
	StreamFree	stream_free;
	void	   *stream_cls;
	Buf			body;
	const char *content_type;
	const char *cache_control;
	Header	   *headers;
	int			nheaders, cheaders;
} Response;

/* Everything about one HTTP request, freed when the request completes. */
typedef struct Request Request;

/* Where a request's time goes, for the Server-Timing header (server-timing-enabled). */
typedef enum RequestStage
{
	STAGE_AUTH,					/* JWT or API key checked, role chosen */
	STAGE_PARSE,				/* query parsed, SQL built */
	STAGE_TRANSACTION,			/* the database's answer is in */
	NSTAGES
} RequestStage;

struct Request
{
	Arena		arena;
	struct MHD_Connection *conn;
	const char *method;
	const char *raw_uri;		/* path?query as received */
	const char *path;			/* percent-decoded path */
	const char *query;			/* raw query string ("" when none) */
	Buf			body;
	bool		body_too_large;
	bool		responded;
	double		start;			/* monotonic seconds */
	double		stage_end[NSTAGES];	/* when each stage ended (0: it did not happen) */
	char		request_id[129];	/* ours (32 hex digits), or the client's under server-trace-header */
	bool		admin;			/* came in on the admin server (admin-server-port) */
	const char *trace;			/* the server-trace-header value received, to echo; NULL: none */
	const char *route;			/* metrics label */
	const char *role;			/* for the access log */
	const char *client_cert;	/* verified client certificate subject (mTLS) */
	const char *retry_after;	/* seconds, set when a rate limit denies the request */
	int			status;
	size_t		bytes;
	Response	resp;			/* filled by the route */
	/*
	 * Set while the connection is suspended for the pipelining executor: called on the HTTP
	 * thread once the results are in, to complete resp; with resp NULL when the request ends
	 * without an answer (the client went away), to release what it holds.
	 */
	void		(*resume) (Request *req, Response *resp);
	void	   *resume_arg;
};

const char *request_header(Request *req, const char *name);
/* Notes that req finished stage now (only with server-timing-enabled). */
void		request_stage_done(Request *req, RequestStage stage);
void		response_init(Response *r);
void		response_header(Request *req, Response *r, const char *name, const char *value);
/* Fills r with the JSON error body of err (and WWW-Authenticate for 401). */
void		response_error(Request *req, Response *r, const ApiError *err);

#endif
