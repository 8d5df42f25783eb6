/*
 * forecast_stats.c — numeric helpers for the forecasting models (see forecast_stats.h).
 */
#include "forecast_stats.h"

#include <math.h>
#include <stdlib.h>

#define FC_PI 3.14159265358979323846

/* Acklam's rational approximation, refined by one Halley step; |error| < 1e-12. */
double
fc_normal_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
	2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
	2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	2.445134137142996e+00, 3.754408661907416e+00};
	double		q,
				r,
				x,
				e;

	if (p <= 0)
		return -HUGE_VAL;
	if (p >= 1)
		return HUGE_VAL;
	if (p < 0.02425)
	{
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else if (p > 1 - 0.02425)
	{
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	e = 0.5 * erfc(-x / sqrt(2)) - p;
	return x - e * sqrt(2 * FC_PI) * exp(x * x / 2) / (1 + x * e * sqrt(2 * FC_PI) * exp(x * x / 2) / 2);
}

void
fc_rng_seed(FcRng *rng, uint64_t seed)
{
	rng->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* xorshift64* */
static double
rng_uniform(FcRng *rng)
{
	uint64_t	x = rng->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->state = x;
	return ((x * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

double
fc_rng_normal(FcRng *rng)
{
	double		u1 = rng_uniform(rng),
				u2 = rng_uniform(rng);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * FC_PI * u2);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

double
fc_quantile(double *x, int n, double p)
{
	double		h;
	int			lo;

	qsort(x, n, sizeof(double), cmp_double);
	h = (n - 1) * p;
	lo = (int) floor(h);
	if (lo >= n - 1)
		return x[n - 1];
	return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

void
fc_linear_fit(const double *y, int n, double *a, double *b)
{
	double		tm = (n - 1) / 2.0,
				ym = 0,
				sxy = 0,
				sxx = 0;

	for (int t = 0; t < n; t++)
		ym += y[t];
	ym /= n;
	for (int t = 0; t < n; t++)
	{
		sxy += (t - tm) * (y[t] - ym);
		sxx += (t - tm) * (t - tm);
	}
	*b = sxx > 0 ? sxy / sxx : 0;
	*a = ym - *b * tm;
}
