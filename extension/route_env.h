/*
 * route_env.h — what the pure routing code (route_*.c) needs from its caller.
 *
 * The routing algorithms have no PostgreSQL dependency so they can be unit-tested and
 * benchmarked alone.  Their caller hands them a RouteEnv: an allocator (palloc inside the
 * server, so an ERROR or a cancel can never leak memory) and an interrupt callback that long
 * searches call every few microseconds (CHECK_FOR_INTERRUPTS inside the server; it may not
 * return).  Also here: the deterministic random generator and the monotonic clock the searches
 * use for their time budgets.
 */
#ifndef ROUTE_ENV_H
#define ROUTE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RouteEnv
{
	void	   *(*alloc) (void *ctx, size_t size);	/* zeroed memory, never NULL */
	void		(*release) (void *ctx, void *ptr);
	void		(*check_interrupts) (void *ctx);	/* may not return */
	void	   *ctx;
} RouteEnv;

static inline void *
route_alloc(const RouteEnv *env, size_t size)
{
	return env->alloc(env->ctx, size == 0 ? 1 : size);
}

static inline void
route_release(const RouteEnv *env, void *ptr)
{
	if (ptr)
		env->release(env->ctx, ptr);
}

#define ROUTE_NEW(env, type, count) ((type *) route_alloc((env), sizeof(type) * (size_t) (count)))

/* xorshift64* — small, fast, and the same sequence on every platform for a given seed. */
typedef struct RouteRng
{
	uint64_t	state;
} RouteRng;

static inline void
route_rng_seed(RouteRng *rng, uint64_t seed)
{
	rng->state = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
	if (rng->state == 0)
		rng->state = 1;
}

static inline uint64_t
route_rng_next(RouteRng *rng)
{
	uint64_t	x = rng->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* uniform integer in [0, bound) */
static inline int
route_rng_int(RouteRng *rng, int bound)
{
	return (int) ((route_rng_next(rng) >> 33) % (uint64_t) bound);
}

/* uniform double in [0, 1) */
static inline double
route_rng_unit(RouteRng *rng)
{
	return (double) (route_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Milliseconds on a monotonic clock (route_metric.c). */
extern double route_clock_ms(void);

#endif							/* ROUTE_ENV_H */
