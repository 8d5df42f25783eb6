/*
 * webhook_http.h — the dispatcher's HTTP engine: many signed POSTs in flight on one libcurl
 * multi handle, driven by socket readiness.
 *
 * curl's sockets are registered in an epoll set whose descriptor (webhook_http_wait_fd) the
 * dispatcher waits on together with its latch, and curl's timer becomes the wait timeout
 * (webhook_http_timeout_ms): no polling.  Every easy handle is tracked in the engine's list, so
 * an error in the dispatcher cannot leak one, and webhook_http_shutdown() frees them all.
 */
#ifndef WEBHOOK_HTTP_H
#define WEBHOOK_HTTP_H

#include "postgres.h"

#include "lib/ilist.h"
#include "webhook_sign.h"

/* What a request needs from its endpoint (cached by the dispatcher). */
typedef struct WebhookTarget
{
	const char *url;
	WebhookKey	keys[2];		/* the current key, then the previous one while rotating */
	int			nkeys;
	const char *client_cert;	/* PEM or NULL */
	const char *client_key;		/* PEM or NULL */
} WebhookTarget;

/* The outcome of one attempt. */
typedef struct WebhookAttempt
{
	int64		delivery_id;
	int64		endpoint_id;
	int			attempts;		/* attempts made so far, this one included */
	long		http_status;	/* 0 without an HTTP answer */
	int64		retry_after_ms; /* 0 when the answer had no Retry-After */
	char		error[256];		/* empty on success; else what went wrong */
} WebhookAttempt;

typedef void (*WebhookDoneFn) (const WebhookAttempt *attempt, void *arg);

/* Creates the multi handle and the epoll set; memory comes from context. */
extern void webhook_http_init(MemoryContext context);
extern void webhook_http_shutdown(void);

/* Starts a POST of body (copied) to target, signed with webhook_id and the current time. */
extern void webhook_http_start(int64 delivery_id, int64 endpoint_id, int attempts,
							   const char *webhook_id, const char *body, size_t body_len,
							   const WebhookTarget *target);

extern int	webhook_http_in_flight(void);
/* Writes the delivery ids in flight into ids (room for webhook_http_in_flight()); returns the count. */
extern int	webhook_http_in_flight_ids(int64 *ids);
extern int	webhook_http_wait_fd(void);
extern long webhook_http_timeout_ms(void);

/*
 * Does the work that is ready (sockets readable/writable, expired timers) without blocking and
 * calls done for every finished attempt.  Returns how many finished.
 */
extern int	webhook_http_run(WebhookDoneFn done, void *arg);

#endif							/* WEBHOOK_HTTP_H */
