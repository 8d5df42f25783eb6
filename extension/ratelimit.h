/*
 * ratelimit.h — the rate limiter's internal API, shared by the SQL adapter (ratelimit.c), the
 * shared-memory table (ratelimit_store.c) and the janitor worker (workers/ratelimit_janitor.c).
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include "datatype/timestamp.h"
#include "ratelimit_gcra.h"

/* Longest rate-limit key, in bytes. */
#define RATE_LIMIT_KEY_MAX	128

/* GUCs */
extern int	rate_limit_capacity;
extern int	rate_limit_idle_timeout;
extern int	rate_limit_persist_interval;
extern char *rate_limit_default_tier;

typedef enum RateLimitOutcome
{
	RATE_LIMIT_DECIDED,			/* *decision is filled in */
	RATE_LIMIT_NEED_PARAMS,		/* key unknown or its tier changed: resolve it and call again */
	RATE_LIMIT_COST_TOO_HIGH,	/* cost exceeds the burst of the key's tier (in *params) */
	RATE_LIMIT_FULL,			/* no room for a new key */
} RateLimitOutcome;

/* One key's state, as the janitor persists it and reports violations. */
typedef struct RateLimitKeyState
{
	char		key[RATE_LIMIT_KEY_MAX + 1];
	TimestampTz tat;			/* theoretical arrival time */
	TimestampTz last_seen;
	int32		denied;			/* denials since the last sweep */
	TimestampTz last_denied;
} RateLimitKeyState;

/* ratelimit_store.c */
extern void rate_limit_store_init(void);
extern bool rate_limit_store_ready(void);
extern uint64 rate_limit_generation(void);
extern void rate_limit_bump_generation(void);
extern RateLimitOutcome rate_limit_store_decide(const char *key, int32 cost, TimestampTz now,
												const GcraParams *fresh, uint64 fresh_generation,
												GcraParams *params, GcraDecision *decision);
extern bool rate_limit_store_restore(const char *key, TimestampTz tat);
extern int	rate_limit_store_snapshot(RateLimitKeyState **states);
extern int	rate_limit_store_sweep(TimestampTz now, int64 idle_us, RateLimitKeyState **states,
								   int *nexpired);
extern bool rate_limit_store_is_restored(void);
extern void rate_limit_store_set_restored(void);
extern bool rate_limit_store_claim_full_report(TimestampTz now);

/* workers/ratelimit_janitor.c */
extern void rate_limit_janitor_register(void);

#endif							/* RATELIMIT_H */
