/*
 * forecast_season.c — autocorrelation-based seasonality detection and classical
 * (moving-average) decomposition, as used by the M4 benchmarks and by forecast_auto.c to
 * seasonally adjust a series before fitting a non-seasonal model.
 */
#include "forecast_season.h"

#include <math.h>

#include "forecast_stats.h"

/* The seasonality test looks at most at this many of the latest observations. */
#define FC_ACF_WINDOW 30000

void
fc_acf(const double *y, int n, int max_lag, double *r)
{
	double		mean = 0,
				denom = 0;

	for (int t = 0; t < n; t++)
		mean += y[t];
	mean /= n;
	for (int t = 0; t < n; t++)
		denom += (y[t] - mean) * (y[t] - mean);
	r[0] = 1;
	for (int k = 1; k <= max_lag; k++)
	{
		double		num = 0;

		for (int t = k; t < n; t++)
			num += (y[t] - mean) * (y[t - k] - mean);
		r[k] = denom > 0 ? num / denom : 0;
	}
}

/* The threshold of the M4 test for lag m given r[1..m-1], at critical value z. */
static double
acf_limit(const double *r, int n, int m, double z)
{
	double		s = 0;

	for (int k = 1; k < m; k++)
		s += r[k] * r[k];
	return z * sqrt(1 + 2 * s) / sqrt((double) n);
}

bool
fc_is_seasonal(const double *y, int n, int m, double *scratch)
{
	if (m <= 1 || n < 3 * m)
		return false;
	/* the ACF costs n m operations: judge long series by their recent part */
	if (n > FC_ACF_WINDOW && FC_ACF_WINDOW >= 3 * m)
	{
		y += n - FC_ACF_WINDOW;
		n = FC_ACF_WINDOW;
	}
	fc_acf(y, n, m, scratch);
	return fabs(scratch[m]) > acf_limit(scratch, n, m, 1.645);
}

int
fc_detect_season(const double *y, int n, int max_period, double *scratch)
{
	int			max_lag = n / 3 < max_period ? n / 3 : max_period;
	int			best = 1;
	double		best_r = 0;
	double		z;

	if (max_lag < 2)
		return 1;
	/* many lags are tried: Bonferroni-correct the 5% level so noise rarely shows a period */
	z = fc_normal_quantile(1 - 0.05 / max_lag);
	fc_acf(y, n, max_lag + 1 <= n - 1 ? max_lag + 1 : max_lag, scratch);
	for (int k = 2; k <= max_lag; k++)
	{
		bool		peak = scratch[k] > scratch[k - 1] &&
			(k == max_lag || scratch[k] >= scratch[k + 1]);

		if (peak && scratch[k] > best_r && scratch[k] > acf_limit(scratch, n, k, z))
		{
			/* a multiple of a period already found is only taken when clearly stronger */
			if (best > 1 && k % best == 0 && scratch[k] < best_r + 0.1)
				continue;
			best = k;
			best_r = scratch[k];
		}
	}
	return best;
}

bool
fc_seasonal_indices(const double *y, int n, int m, bool multiplicative, double *idx,
					double *scratch)
{
	double	   *sum = scratch;
	double	   *count = scratch + m;
	int			half = m / 2;
	bool		even = m % 2 == 0;
	double		norm = 0,
				inner = 0;

	if (m <= 1 || n < 2 * m)
		return false;
	for (int i = 0; i < m; i++)
		sum[i] = count[i] = 0;

	/*
	 * The moving average as a running sum of the full-weight terms y[a..b] (re-summed every
	 * 4096 steps so rounding cannot accumulate): O(n) for any period.
	 */
	for (int t = half; t < n - half; t++)
	{
		int			a = t - half + (even ? 1 : 0);
		int			b = t + half - (even ? 1 : 0);
		double		trend;

		if (t == half || (t - half) % 4096 == 0)
		{
			inner = 0;
			for (int j = a; j <= b; j++)
				inner += y[j];
		}
		else
			inner += y[b] - y[a - 1];
		trend = even ? inner + 0.5 * (y[t - half] + y[t + half]) : inner;
		trend /= m;
		if (multiplicative)
		{
			if (!(trend > 0))
				return false;
			sum[t % m] += y[t] / trend;
		}
		else
			sum[t % m] += y[t] - trend;
		count[t % m] += 1;
	}
	for (int i = 0; i < m; i++)
	{
		idx[i] = count[i] > 0 ? sum[i] / count[i] : (multiplicative ? 1 : 0);
		norm += idx[i];
	}
	norm /= m;
	for (int i = 0; i < m; i++)
	{
		if (multiplicative)
			idx[i] /= norm;
		else
			idx[i] -= norm;
	}
	return true;
}
