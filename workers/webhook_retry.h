/*
 * webhook_retry.h — what an attempt's outcome means and when to try again.
 *
 * Pure functions (no PostgreSQL, no libcurl) used by the dispatcher and the unit test
 * test/unit/webhook_retry.sh: classification of an HTTP answer, parsing of the retry schedule
 * setting freight.webhook_retry_schedule, and the backoff delay with jitter.
 */
#ifndef WEBHOOK_RETRY_H
#define WEBHOOK_RETRY_H

#include <stddef.h>
#include <stdint.h>

/* Most retries a schedule may list. */
#define WEBHOOK_SCHEDULE_MAX 32

/* Retry-After values are honoured up to one day. */
#define WEBHOOK_RETRY_AFTER_MAX_MS (24 * 3600 * 1000LL)

typedef enum WebhookOutcome
{
	WEBHOOK_DELIVERED,			/* 2xx */
	WEBHOOK_RETRY,				/* no answer, timeout, 408, 429, 5xx */
	WEBHOOK_REJECTED,			/* any other answer: dead-letter at once */
	WEBHOOK_GONE				/* 410: dead-letter and disable the endpoint */
} WebhookOutcome;

/* http_status is 0 when there was no HTTP answer (connect error, timeout, reset). */
extern WebhookOutcome webhook_classify(long http_status);

/*
 * Parses a comma-separated list of delays such as "5s, 5min, 30min, 2h" (units ms, s, min, h,
 * d; a bare number means seconds) into delays_ms.  Returns the count (0 for an empty list = no
 * retries), or -1 with a sentence in err.
 */
extern int	webhook_schedule_parse(const char *text, int64_t delays_ms[WEBHOOK_SCHEDULE_MAX],
								   char *err, size_t err_size);

/*
 * Delay before the next attempt after attempts_made failed attempts, or -1 when the schedule
 * is used up (dead-letter).  The schedule delay gets +-10% jitter from random01 in [0,1); a
 * positive retry_after_ms (the receiver's Retry-After) replaces it, capped at one day.
 */
extern int64_t webhook_retry_delay_ms(const int64_t *delays_ms, int ndelays, int attempts_made,
									  int64_t retry_after_ms, double random01);

#endif							/* WEBHOOK_RETRY_H */
