/*
 * forecast_stats.h — small numeric helpers shared by the forecasting models: normal quantile,
 * a seeded PRNG with normal draws, quantiles of a sample, least-squares line.
 */
#ifndef FORECAST_STATS_H
#define FORECAST_STATS_H

#include <stdint.h>

typedef struct FcRng
{
	uint64_t	state;
} FcRng;

extern double fc_normal_quantile(double p);
extern void fc_rng_seed(FcRng *rng, uint64_t seed);
extern double fc_rng_normal(FcRng *rng);
/* Sorts x in place and returns the p-quantile (linear interpolation, R type 7). */
extern double fc_quantile(double *x, int n, double p);
/* y ~ a + b t for t = 0..n-1. */
extern void fc_linear_fit(const double *y, int n, double *a, double *b);

#endif							/* FORECAST_STATS_H */
