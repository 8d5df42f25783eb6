/*
 * ratelimit_gcra_test.c — unit test of the pure GCRA (extension/ratelimit_gcra.c).
 * Built and run by test/unit/ratelimit_gcra.sh; prints "N passed, M failed".
 */
#include <stdio.h>

#include "ratelimit_gcra.h"
#include "unit_check.h"

#define HOUR_US		(3600LL * 1000000LL)
#define T0			((int64_t) 800000000LL * 1000000LL)	/* some instant in 2025 */

/* How many requests of cost 1 are admitted at one instant. */
static int
admitted_at_once(const GcraParams *p, int64_t *tat, int64_t now, int tries)
{
	GcraDecision d;
	int			n = 0;

	for (int i = 0; i < tries; i++)
	{
		gcra_decide(p, tat, now, 1, &d);
		n += d.allowed;
	}
	return n;
}

static void
test_tiers(void)
{
	static const struct
	{
		int64_t		requests;
	}			tiers[] = {{100}, {10000}, {1000000}};

	for (int i = 0; i < 3; i++)
	{
		GcraParams	p;
		int64_t		tat = 0;
		int64_t		r = tiers[i].requests;

		CHECK(gcra_params_init(&p, r, HOUR_US, (int32_t) r) == GCRA_PARAMS_OK);
		CHECK(admitted_at_once(&p, &tat, T0, (int) r + 10) == r);
		/* one emission interval later exactly one more */
		CHECK(admitted_at_once(&p, &tat, T0 + p.emission_us, 5) == 1);
		/* a whole window later the full burst again */
		CHECK(admitted_at_once(&p, &tat, T0 + p.emission_us + HOUR_US, (int) r + 10) == r);
	}
}

static void
test_fields(void)
{
	GcraParams	p;
	GcraDecision d;
	int64_t		tat = 0;

	gcra_params_init(&p, 100, HOUR_US, 100);
	CHECK(p.emission_us == 36000000);
	gcra_decide(&p, &tat, T0, 1, &d);
	CHECK(d.allowed && d.remaining == 99 && d.retry_after_us == 0);
	CHECK(d.reset_after_us == 36000000);
	gcra_decide(&p, &tat, T0, 99, &d);
	CHECK(d.allowed && d.remaining == 0 && d.reset_after_us == HOUR_US);
	gcra_decide(&p, &tat, T0, 1, &d);
	CHECK(!d.allowed && d.remaining == 0 && d.retry_after_us == 36000000);
	CHECK(d.reset_after_us == HOUR_US);
	/* a denied request does not move the TAT */
	CHECK(tat == T0 + HOUR_US);
	/* cost 3 needs three intervals */
	gcra_decide(&p, &tat, T0 + 36000000, 3, &d);
	CHECK(!d.allowed && d.retry_after_us == 72000000 && d.remaining == 1);
	gcra_decide(&p, &tat, T0 + 108000000, 3, &d);
	CHECK(d.allowed && d.remaining == 0);
}

static void
test_burst_smaller_than_rate(void)
{
	GcraParams	p;
	int64_t		tat = 0;

	/* 10 per second, burst 2: two at once, then one every 100 ms */
	CHECK(gcra_params_init(&p, 10, 1000000, 2) == GCRA_PARAMS_OK);
	CHECK(admitted_at_once(&p, &tat, T0, 10) == 2);
	CHECK(admitted_at_once(&p, &tat, T0 + 50000, 10) == 0);
	CHECK(admitted_at_once(&p, &tat, T0 + 100000, 10) == 1);
	/* over one second at 1 ms steps: exactly 10 more */
	{
		int			n = 0;

		for (int ms = 101; ms <= 1100; ms++)
			n += admitted_at_once(&p, &tat, T0 + ms * 1000LL, 1);
		CHECK(n == 10);
	}
}

static void
test_bad_params(void)
{
	GcraParams	p;

	CHECK(gcra_params_init(&p, 0, HOUR_US, 1) == GCRA_PARAMS_BAD_REQUESTS);
	CHECK(gcra_params_init(&p, -5, HOUR_US, 1) == GCRA_PARAMS_BAD_REQUESTS);
	CHECK(gcra_params_init(&p, 10, 0, 1) == GCRA_PARAMS_BAD_WINDOW);
	CHECK(gcra_params_init(&p, 1000, 999, 1) == GCRA_PARAMS_BAD_WINDOW);
	CHECK(gcra_params_init(&p, 10, HOUR_US, 0) == GCRA_PARAMS_BAD_BURST);
	CHECK(gcra_params_init(&p, 1, 366LL * 24 * HOUR_US, 2000000000) == GCRA_PARAMS_BAD_BURST);
}

static void
test_rescale(void)
{
	GcraParams	free_tier;
	GcraParams	pro_tier;
	GcraDecision d;
	int64_t		tat = 0;

	gcra_params_init(&free_tier, 100, HOUR_US, 100);
	gcra_params_init(&pro_tier, 10000, HOUR_US, 10000);
	/* a free key that used 60 of 100 moves to pro: 60% used there too */
	CHECK(admitted_at_once(&free_tier, &tat, T0, 60) == 60);
	gcra_rescale(&free_tier, &pro_tier, &tat, T0);
	gcra_decide(&pro_tier, &tat, T0, 1, &d);
	CHECK(d.allowed && d.remaining == 3999);
	/* and back down: exhausted pro key stays exhausted on free, never owes more than a burst */
	CHECK(admitted_at_once(&pro_tier, &tat, T0, 20000) == 3999);
	gcra_rescale(&pro_tier, &free_tier, &tat, T0);
	CHECK(tat == T0 + HOUR_US);
	gcra_decide(&free_tier, &tat, T0, 1, &d);
	CHECK(!d.allowed && d.remaining == 0 && d.retry_after_us == 36000000);
	/* unknown old parameters: capped to one burst */
	tat = T0 + 5 * HOUR_US;
	gcra_rescale(NULL, &free_tier, &tat, T0);
	CHECK(tat == T0 + HOUR_US);
	/* a key with a full budget is left alone */
	tat = T0 - 5;
	gcra_rescale(&pro_tier, &free_tier, &tat, T0);
	CHECK(tat == T0 - 5);
}

/* Random requests against invariants that any correct limiter keeps. */
static void
test_random_invariants(void)
{
	uint64_t	rng = 0x9E3779B97F4A7C15ULL;
	int			violations = 0;

	for (int round = 0; round < 200; round++)
	{
		GcraParams	p;
		int64_t		tat = 0;
		int64_t		now = T0;
		int64_t		admitted = 0;
		int32_t		burst;
		int64_t		requests;

#define NEXT() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
		requests = 1 + (int64_t) (NEXT() % 100000);
		burst = 1 + (int32_t) (NEXT() % 1000);
		if (gcra_params_init(&p, requests, HOUR_US, burst) != GCRA_PARAMS_OK)
		{
			violations++;
			continue;
		}
		for (int i = 0; i < 2000; i++)
		{
			GcraDecision d;
			int32_t		cost = 1 + (int32_t) (NEXT() % (uint64_t) burst);

			now += (int64_t) (NEXT() % (uint64_t) (2 * p.emission_us + 1));
			gcra_decide(&p, &tat, now, cost, &d);
			if (d.allowed)
			{
				admitted += cost;
				violations += d.remaining < 0 || d.remaining > burst - cost || d.retry_after_us != 0;
			}
			else
			{
				GcraDecision later;
				int64_t		copy = tat;

				violations += d.retry_after_us <= 0 || d.remaining >= cost;
				gcra_decide(&p, &copy, now + d.retry_after_us, cost, &later);
				violations += !later.allowed;
			}
			violations += d.reset_after_us < 0 || d.reset_after_us > p.tolerance_us;
			/* never more than the burst plus what the elapsed time earned */
			violations += admitted > burst + (now - T0) / p.emission_us;
		}
#undef NEXT
	}
	CHECK(violations == 0);
}

int
main(void)
{
	test_tiers();
	test_fields();
	test_burst_smaller_than_rate();
	test_bad_params();
	test_rescale();
	test_random_invariants();
	return unit_summary();
}
