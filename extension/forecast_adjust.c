/*
 * forecast_adjust.c — seasonal adjustment by classical decomposition at one or two periods.
 *
 * Multiplicative indices are used when every observation is positive, additive ones otherwise.
 * The second period's indices are estimated on the series already adjusted for the first and
 * shrunk by 40% towards "no effect", because a few cycles (four weeks of hourly data give four
 * values per hour of the week) make them noisy.
 */
#include "forecast_adjust.h"

#include <math.h>

#include "forecast_season.h"

#define FC_SECOND_PERIOD_SHRINK 0.6

static bool
all_positive(const double *y, int n)
{
	for (int t = 0; t < n; t++)
		if (!(y[t] > 0))
			return false;
	return true;
}

/* Where the last `cycles` cycles of period m start (0 = all: the series' start). */
static int
window_start(int n, int m, int cycles)
{
	return cycles > 0 && cycles * m < n ? n - cycles * m : 0;
}

void
fc_adjust_estimate(const double *y, int n, int m1, int m2, int cycles1, int cycles2,
				   const FcEnv *env, FcSeasonality *s)
{
	int			mmax = m2 > m1 ? m2 : m1;
	double	   *scratch = env->alloc(env->ctx, sizeof(double) * (2 * mmax + 2));

	s->m1 = s->m2 = 1;
	s->origin1 = window_start(n, m1, cycles1);
	s->origin2 = window_start(n, m2, cycles2);
	s->multiplicative = all_positive(y, n);
	if (m1 > 1 && fc_is_seasonal(y, n, m1, scratch))
	{
		s->idx1 = env->alloc(env->ctx, sizeof(double) * m1);
		if (fc_seasonal_indices(y + s->origin1, n - s->origin1, m1, s->multiplicative, s->idx1, scratch))
			s->m1 = m1;
	}
	if (m2 > 1 && s->m1 > 1 && m2 % s->m1 == 0 && n >= 3 * m2)
	{
		double	   *x = env->alloc(env->ctx, sizeof(double) * n);

		fc_adjust_remove(s, y, n, x);
		if (fc_is_seasonal(x, n, m2, scratch))
		{
			s->idx2 = env->alloc(env->ctx, sizeof(double) * m2);
			if (fc_seasonal_indices(x + s->origin2, n - s->origin2, m2, s->multiplicative,
									s->idx2, scratch))
			{
				double		neutral = s->multiplicative ? 1 : 0;

				for (int i = 0; i < m2; i++)
					s->idx2[i] = neutral + FC_SECOND_PERIOD_SHRINK * (s->idx2[i] - neutral);
				s->m2 = m2;
			}
		}
	}
}

/* t mod m in 0..m-1, also for negative t. */
static int
position(int t, int m)
{
	int			p = t % m;

	return p < 0 ? p + m : p;
}

double
fc_adjust_factor(const FcSeasonality *s, int t)
{
	double		f = s->multiplicative ? 1 : 0;

	if (s->m1 > 1)
		f = s->idx1[position(t - s->origin1, s->m1)];
	if (s->m2 > 1)
	{
		double		g = s->idx2[position(t - s->origin2, s->m2)];

		f = s->multiplicative ? f * g : f + g;
	}
	return f;
}

void
fc_adjust_remove(const FcSeasonality *s, const double *y, int n, double *x)
{
	for (int t = 0; t < n; t++)
	{
		double		f = fc_adjust_factor(s, t);

		x[t] = s->multiplicative ? y[t] / f : y[t] - f;
	}
}

void
fc_adjust_restore(const FcSeasonality *s, int n, int h, double *f)
{
	for (int j = 0; j < h; j++)
	{
		double		k = fc_adjust_factor(s, n + j);

		f[j] = s->multiplicative ? f[j] * k : f[j] + k;
	}
}
