/*
 * webhook_http.c — libcurl multi engine for the webhook dispatcher (see webhook_http.h).
 *
 * Each request: POST of the CloudEvent (structured mode) with the Standard Webhooks headers;
 * no redirects, http/https only, connect and total timeouts, no proxy from the environment,
 * response read capped, and an open-socket callback that refuses private, loopback and
 * link-local addresses at connect time (unless freight.webhook_allow_private), so a DNS answer
 * that changed since registration cannot reach the internal network; a pre-request callback
 * checks the address again on reused connections.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "webhook_dispatch.h"
#include "webhook_http.h"
#include "webhook_url.h"

/* Bytes of a response read before the transfer is cut (the answer's status is all we need). */
#define RESPONSE_READ_MAX (64 * 1024)
/* Bytes of a failed response kept for last_error. */
#define EXCERPT_MAX 120
#define EPOLL_BATCH 64

typedef struct Request
{
	dlist_node	node;
	CURL	   *easy;
	struct curl_slist *headers;
	char	   *body;
	int64		delivery_id;
	int64		endpoint_id;
	int			attempts;
	size_t		received;
	bool		allow_private;
	char		refused[200];	/* why the open-socket callback refused, or empty */
	char		excerpt[EXCERPT_MAX + 1];
	char		errbuf[CURL_ERROR_SIZE];
} Request;

static MemoryContext engine_context = NULL;
static CURLM *multi = NULL;
static int	epoll_fd = -1;
static dlist_head requests = DLIST_STATIC_INIT(requests);
static int	nrequests = 0;
static TimestampTz timer_deadline = -1;	/* when curl wants CURL_SOCKET_TIMEOUT, or -1 */

/* curl socket callback: mirror curl's interest in a socket into the epoll set. */
static int
socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct epoll_event ev = {0};

	if (what == CURL_POLL_REMOVE)
	{
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.data.fd = fd;
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0 &&
		epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	return 0;
}

/* curl timer callback: remember when curl wants to be called back. */
static int
timer_callback(CURLM *m, long timeout_ms, void *userp)
{
	timer_deadline = timeout_ms < 0 ? -1 :
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

/* Keeps the start of the response for error messages and cuts overly long ones. */
static size_t
write_callback(char *data, size_t size, size_t nmemb, void *userdata)
{
	Request    *req = (Request *) userdata;
	size_t		n = size * nmemb;
	size_t		have = strlen(req->excerpt);

	if (have < EXCERPT_MAX)
	{
		size_t		take = Min(n, EXCERPT_MAX - have);

		memcpy(req->excerpt + have, data, take);
		req->excerpt[have + take] = '\0';
	}
	req->received += n;
	return req->received > RESPONSE_READ_MAX ? 0 : n;
}

/* Connect-time address check (the registration check cannot see later DNS changes). */
static curl_socket_t
open_socket_callback(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	Request    *req = (Request *) clientp;
	const char *cls = webhook_address_class(&address->addr);

	if (cls != NULL && !req->allow_private)
	{
		snprintf(req->refused, sizeof(req->refused),
				 "refused to connect to a non-public address (%s); freight.webhook_allow_private is off", cls);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/*
 * Before each request, also on a reused connection: the address actually used must still be
 * allowed (freight.webhook_allow_private may have been turned off since the connection opened).
 */
static int
prereq_callback(void *clientp, char *conn_primary_ip, char *conn_local_ip,
				int conn_primary_port, int conn_local_port)
{
	Request    *req = (Request *) clientp;
	struct sockaddr_storage ss = {0};
	const char *cls;

	if (req->allow_private)
		return CURL_PREREQFUNC_OK;
	if (inet_pton(AF_INET, conn_primary_ip, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, conn_primary_ip, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	cls = webhook_address_class((struct sockaddr *) &ss);
	if (cls == NULL)
		return CURL_PREREQFUNC_OK;
	snprintf(req->refused, sizeof(req->refused),
			 "refused to send to a non-public address (%s); freight.webhook_allow_private is off", cls);
	return CURL_PREREQFUNC_ABORT;
}

void
webhook_http_init(MemoryContext context)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not initialise libcurl")));
	engine_context = context;
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0)
		ereport(ERROR, (errcode_for_socket_access(), errmsg("could not create epoll set: %m")));
	multi = curl_multi_init();
	if (multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl multi handle")));
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_callback);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_callback);
	/* Keep connections to busy receivers open between deliveries. */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) Max(webhook_concurrency, 16));
}

static void
free_request(Request *req)
{
	dlist_delete(&req->node);
	nrequests--;
	curl_multi_remove_handle(multi, req->easy);
	curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	pfree(req->body);
	pfree(req);
}

void
webhook_http_shutdown(void)
{
	dlist_mutable_iter it;

	if (multi == NULL)
		return;
	dlist_foreach_modify(it, &requests)
		free_request(dlist_container(Request, node, it.cur));
	curl_multi_cleanup(multi);
	multi = NULL;
	if (epoll_fd >= 0)
		close(epoll_fd);
	epoll_fd = -1;
}

/* Appends a header line; curl allocates, so a NULL means out of memory. */
static struct curl_slist *
add_header(struct curl_slist *list, const char *line)
{
	struct curl_slist *next = curl_slist_append(list, line);

	if (next == NULL)
	{
		curl_slist_free_all(list);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory building webhook headers")));
	}
	return next;
}

static struct curl_slist *
signed_headers(const char *webhook_id, const char *body, size_t body_len, const WebhookTarget *target)
{
	struct curl_slist *h = NULL;
	int64		now = (int64) time(NULL);
	char		line[64 + WEBHOOK_SIGNATURE_LEN * 2 + 256];
	char	   *p;

	h = add_header(h, "Content-Type: application/cloudevents+json; charset=utf-8");
	h = add_header(h, "Expect:");
	snprintf(line, sizeof(line), "webhook-id: %s", webhook_id);
	h = add_header(h, line);
	snprintf(line, sizeof(line), "webhook-timestamp: " INT64_FORMAT, now);
	h = add_header(h, line);
	p = line + snprintf(line, sizeof(line), "webhook-signature:");
	for (int i = 0; i < target->nkeys; i++)
	{
		*p++ = ' ';
		if (!webhook_sign_v1(&target->keys[i], webhook_id, now, body, body_len, p))
		{
			curl_slist_free_all(h);
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute a webhook signature")));
		}
		p += strlen(p);
	}
	return add_header(h, line);
}

void
webhook_http_start(int64 delivery_id, int64 endpoint_id, int attempts, const char *webhook_id,
				   const char *body, size_t body_len, const WebhookTarget *target)
{
	Request    *req = MemoryContextAllocZero(engine_context, sizeof(Request));
	CURL	   *e;

	req->delivery_id = delivery_id;
	req->endpoint_id = endpoint_id;
	req->attempts = attempts;
	req->allow_private = webhook_allow_private;
	req->body = MemoryContextAlloc(engine_context, body_len + 1);
	memcpy(req->body, body, body_len);
	req->body[body_len] = '\0';
	PG_TRY();
	{
		req->headers = signed_headers(webhook_id, body, body_len, target);
		req->easy = e = curl_easy_init();
		if (e == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl handle")));
	}
	PG_CATCH();
	{
		curl_slist_free_all(req->headers);
		pfree(req->body);
		pfree(req);
		PG_RE_THROW();
	}
	PG_END_TRY();

	curl_easy_setopt(e, CURLOPT_URL, target->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "freight-webhooks/0.1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) webhook_connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) webhook_timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket_callback);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_callback);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	if (webhook_ca_file != NULL && webhook_ca_file[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, webhook_ca_file);
	if (target->client_cert != NULL && target->client_key != NULL)
	{
		struct curl_blob cert = {(void *) target->client_cert, strlen(target->client_cert), CURL_BLOB_COPY};
		struct curl_blob key = {(void *) target->client_key, strlen(target->client_key), CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	dlist_push_tail(&requests, &req->node);
	nrequests++;
	curl_multi_add_handle(multi, e);
}

int
webhook_http_in_flight(void)
{
	return nrequests;
}

int
webhook_http_in_flight_ids(int64 *ids)
{
	dlist_iter	it;
	int			n = 0;

	dlist_foreach(it, &requests)
		ids[n++] = dlist_container(Request, node, it.cur)->delivery_id;
	return n;
}

int
webhook_http_wait_fd(void)
{
	return epoll_fd;
}

long
webhook_http_timeout_ms(void)
{
	long		ms;

	if (timer_deadline < 0)
		return -1;
	ms = (long) ((timer_deadline - GetCurrentTimestamp() + 999) / 1000);
	return Max(ms, 0);
}

/* Turns a finished transfer into an attempt outcome. */
static void
finish(Request *req, CURLcode rc, WebhookDoneFn done, void *arg)
{
	WebhookAttempt a = {0};
	long		status = 0;
	curl_off_t	retry_after = 0;

	a.delivery_id = req->delivery_id;
	a.endpoint_id = req->endpoint_id;
	a.attempts = req->attempts;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after);
	/* A cut-short response still counts when its status line arrived. */
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && status > 0))
	{
		a.http_status = status;
		a.retry_after_ms = (int64) retry_after * 1000;
		if (status < 200 || status > 299)
		{
			for (char *c = req->excerpt; *c; c++)
				if ((unsigned char) *c < ' ' || (unsigned char) *c > '~')
					*c = ' ';
			snprintf(a.error, sizeof(a.error), "HTTP %ld%s%s", status,
					 req->excerpt[0] ? ": " : "", req->excerpt);
		}
	}
	else if (req->refused[0] != '\0')
		snprintf(a.error, sizeof(a.error), "%s", req->refused);
	else
		snprintf(a.error, sizeof(a.error), "%s", req->errbuf[0] ? req->errbuf : curl_easy_strerror(rc));
	done(&a, arg);
}

int
webhook_http_run(WebhookDoneFn done, void *arg)
{
	struct epoll_event events[EPOLL_BATCH];
	int			running;
	int			nready;
	int			left;
	int			finished = 0;
	CURLMsg    *msg;

	if (timer_deadline >= 0 && GetCurrentTimestamp() >= timer_deadline)
	{
		timer_deadline = -1;
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	do
	{
		nready = epoll_wait(epoll_fd, events, EPOLL_BATCH, 0);
		for (int i = 0; i < nready; i++)
		{
			int			flags = 0;

			if (events[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (events[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (events[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(multi, events[i].data.fd, flags, &running);
		}
	} while (nready == EPOLL_BATCH);

	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		Request    *req;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
		finish(req, msg->data.result, done, arg);
		free_request(req);
		finished++;
	}
	return finished;
}
