/*
 * ratelimit_gcra.h — the Generic Cell Rate Algorithm, free of PostgreSQL.
 *
 * A limit of `requests` per `window` with a `burst` is one number per key: the theoretical
 * arrival time (TAT), in microseconds on any monotonic-enough clock.  A request of cost n is
 * admitted when TAT + n * emission - tolerance <= now, and then TAT moves forward by n * emission.
 * Because a key whose TAT is in the past holds a full budget, such a key can be forgotten without
 * changing any later decision.
 */
#ifndef RATELIMIT_GCRA_H
#define RATELIMIT_GCRA_H

#include <stdbool.h>
#include <stdint.h>

typedef struct GcraParams
{
	int64_t		emission_us;	/* time one request "costs": window / requests */
	int64_t		tolerance_us;	/* emission_us * burst: how far TAT may run ahead of now */
	int32_t		burst;			/* most requests admitted at once */
} GcraParams;

typedef struct GcraDecision
{
	bool		allowed;
	int32_t		remaining;		/* requests still admissible right now */
	int64_t		reset_after_us; /* until the full burst is available again */
	int64_t		retry_after_us; /* until this request would be admitted; 0 when allowed */
} GcraDecision;

typedef enum GcraParamsError
{
	GCRA_PARAMS_OK = 0,
	GCRA_PARAMS_BAD_REQUESTS,	/* requests < 1 */
	GCRA_PARAMS_BAD_WINDOW,		/* window < 1 us or shorter than requests (emission < 1 us) */
	GCRA_PARAMS_BAD_BURST,		/* burst < 1 or emission * burst overflows */
} GcraParamsError;

/* Fill *params from a tier; returns what is wrong with the tier, if anything. */
extern GcraParamsError gcra_params_init(GcraParams *params, int64_t requests, int64_t window_us,
										int32_t burst);

/*
 * Decide a request of `cost` (1 .. burst) at `now` for a key whose TAT is *tat (0 for a new key);
 * *tat is advanced only when the request is admitted.
 */
extern void gcra_decide(const GcraParams *params, int64_t *tat, int64_t now, int32_t cost,
						GcraDecision *decision);

/*
 * Carry a key's state over to new parameters (its tier changed): the used share of the burst
 * stays the same.  With from == NULL (old parameters unknown, e.g. state restored after a
 * restart) the TAT is only capped so that the key owes at most one full burst.
 */
extern void gcra_rescale(const GcraParams *from, const GcraParams *to, int64_t *tat, int64_t now);

#endif							/* RATELIMIT_GCRA_H */
