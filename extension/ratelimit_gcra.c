/*
 * ratelimit_gcra.c — the Generic Cell Rate Algorithm (see ratelimit_gcra.h).
 *
 * No PostgreSQL includes: the unit test (test/unit/ratelimit_gcra.sh) builds this file alone.
 */
#include <stddef.h>

#include "ratelimit_gcra.h"

/* Keep every product well inside int64 even with timestamps near year 2290. */
#define GCRA_MAX_TOLERANCE_US	((int64_t) 1 << 52)

GcraParamsError
gcra_params_init(GcraParams *params, int64_t requests, int64_t window_us, int32_t burst)
{
	int64_t		emission;

	if (requests < 1)
		return GCRA_PARAMS_BAD_REQUESTS;
	if (window_us < 1 || window_us / requests < 1)
		return GCRA_PARAMS_BAD_WINDOW;
	emission = window_us / requests;
	if (burst < 1 || emission > GCRA_MAX_TOLERANCE_US / burst)
		return GCRA_PARAMS_BAD_BURST;

	params->emission_us = emission;
	params->tolerance_us = emission * burst;
	params->burst = burst;
	return GCRA_PARAMS_OK;
}

void
gcra_decide(const GcraParams *params, int64_t *tat, int64_t now, int32_t cost,
			GcraDecision *decision)
{
	int64_t		start = *tat > now ? *tat : now;
	int64_t		new_tat = start + (int64_t) cost * params->emission_us;
	int64_t		allow_at = new_tat - params->tolerance_us;

	if (now < allow_at)
	{
		decision->allowed = false;
		decision->retry_after_us = allow_at - now;
		decision->reset_after_us = start - now;
		decision->remaining = (int32_t) ((params->tolerance_us - (start - now)) /
										 params->emission_us);
		return;
	}

	*tat = new_tat;
	decision->allowed = true;
	decision->retry_after_us = 0;
	decision->reset_after_us = new_tat - now;
	decision->remaining = (int32_t) ((now - allow_at) / params->emission_us);
}

void
gcra_rescale(const GcraParams *from, const GcraParams *to, int64_t *tat, int64_t now)
{
	if (*tat <= now)
		return;
	if (from != NULL && from->tolerance_us != to->tolerance_us)
		*tat = now + (int64_t) ((double) (*tat - now) / from->tolerance_us * to->tolerance_us);
	if (*tat - now > to->tolerance_us)
		*tat = now + to->tolerance_us;
}
