/*
 * forecast_theta.c — Theta and optimised Theta forecasts.
 *
 * Theta (as the M4 benchmark, R forecast::thetaf): fit SES by maximum likelihood, then add the
 * drift b/2 (h - 1 + (1 - (1 - alpha)^n) / alpha), b = least-squares slope of the series.
 *
 * Optimised Theta: the forecast is the combination (1 - 1/theta) L + (1/theta) S of the
 * extrapolated regression line L and SES applied to the theta line Z = theta y + (1 - theta) L;
 * theta is chosen on the grid 1 (plain SES), 2, 3, 5 by the in-sample one-step mean squared
 * error of that combination.  Intervals use the SES model's analytic variance.
 */
#include "forecast_theta.h"

#include <math.h>
#include <string.h>

#include "forecast_stats.h"

static const FcEtsSpec ses_spec = {FC_ADD, FC_NONE, false, FC_NONE, 1};

static void
shift_bounds(const double *ses_point, const double *point, double *lower, double *upper, int h)
{
	for (int j = 0; j < h; j++)
	{
		lower[j] += point[j] - ses_point[j];
		upper[j] += point[j] - ses_point[j];
	}
}

/* The caller's SES fit, or a new one in *fit. */
static const FcEtsFit *
ses_fit(const double *y, int n, const FcEtsFit *given, const FcEnv *env, FcEtsFit *fit)
{
	if (given)
		return given;
	return fc_ets_fit(y, n, ses_spec, env, fit) ? fit : NULL;
}

bool
fc_theta(const double *y, int n, int h, double level, const FcEtsFit *given, const FcEnv *env,
		 double *point, double *lower, double *upper)
{
	FcEtsFit	own;
	const FcEtsFit *fit = ses_fit(y, n, given, env, &own);
	double	   *ses = env->alloc(env->ctx, sizeof(double) * h);
	double		a,
				b,
				alpha;

	if (!fit)
		return false;
	fc_ets_forecast(fit, h, level, env, ses, lower, upper);
	fc_linear_fit(y, n, &a, &b);
	alpha = fit->alpha > 1e-10 ? fit->alpha : 1e-10;
	for (int j = 0; j < h; j++)
		point[j] = ses[j] + b / 2 * (j + (1 - pow(1 - alpha, n)) / alpha);
	if (lower && upper)
		shift_bounds(ses, point, lower, upper, h);
	return true;
}

/* SES one-step in-sample fit with a fixed alpha, initial level = z[0]; returns final level. */
static double
ses_filter(const double *z, int n, double alpha, double *fitted)
{
	double		l = z[0];

	for (int t = 0; t < n; t++)
	{
		fitted[t] = l;
		l += alpha * (z[t] - l);
	}
	return l;
}

bool
fc_theta_optimised(const double *y, int n, int h, double level, const FcEtsFit *given,
				   const FcEnv *env, double *point, double *lower, double *upper,
				   double *theta)
{
	static const double grid[] = {1.0, 2.0, 3.0, 5.0};
	double	   *z = env->alloc(env->ctx, sizeof(double) * n);
	double	   *fitted = env->alloc(env->ctx, sizeof(double) * n);
	double	   *ses = env->alloc(env->ctx, sizeof(double) * h);
	double		a,
				b,
				best_mse = HUGE_VAL;
	FcEtsFit	fit;

	if (n < 4)
		return false;
	fc_linear_fit(y, n, &a, &b);
	*theta = 2;
	for (size_t g = 0; g < sizeof(grid) / sizeof(grid[0]); g++)
	{
		double		th = grid[g],
					mse = 0;

		const FcEtsFit *zfit;

		for (int t = 0; t < n; t++)
			z[t] = th * y[t] + (1 - th) * (a + b * t);
		/* theta = 1 is plain SES of y */
		zfit = ses_fit(z, n, th == 1.0 ? given : NULL, env, &fit);
		if (!zfit)
			continue;
		ses_filter(z, n, zfit->alpha, fitted);
		for (int t = 1; t < n; t++)
		{
			double		f = (1 - 1 / th) * (a + b * t) + fitted[t] / th;

			mse += (y[t] - f) * (y[t] - f);
		}
		if (mse < best_mse)
		{
			best_mse = mse;
			*theta = th;
			fc_ets_forecast(zfit, h, level, env, ses, NULL, NULL);
			for (int j = 0; j < h; j++)
				point[j] = (1 - 1 / th) * (a + b * (n + j)) + ses[j] / th;
		}
	}
	if (!isfinite(best_mse))
		return false;
	if (lower && upper)
	{
		const FcEtsFit *yfit = ses_fit(y, n, given, env, &fit);

		if (!yfit)
			return false;
		fc_ets_forecast(yfit, h, level, env, ses, lower, upper);
		shift_bounds(ses, point, lower, upper, h);
	}
	return true;
}
