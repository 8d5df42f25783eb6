/*
 * forecast_ets.c — ETS state-space models: recursions, maximum-likelihood fitting with the
 * bounded Nelder-Mead of forecast_optim.c, AICc model selection, analytic or simulated
 * prediction intervals.
 *
 * States are updated as in Hyndman et al. (2008), which is the same recursion for additive
 * and multiplicative errors; the error type only changes the likelihood:
 *   -2 log L = n log(SSE / n) + n (1 + log 2 pi) [+ 2 sum log |mu_t| for multiplicative errors]
 * Smoothing parameters, the initial level and slope are estimated; initial seasonal states
 * come from a classical decomposition of the series (they still count as parameters in the
 * AICc).  Constraints: 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98.
 */
#include "forecast_ets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast_optim.h"
#include "forecast_season.h"
#include "forecast_stats.h"

#define ETS_MAX_EVALS 400
#define ETS_SIMULATIONS 1000

typedef struct EtsProblem
{
	const double *y;
	int			n;
	FcEtsSpec	spec;
	const double *season0;		/* initial seasonal states */
	double	   *season;			/* working copy */
} EtsProblem;

/* Parameter vector layout: alpha, beta?, gamma?, phi?, level0, slope0? */
typedef struct EtsParams
{
	double		alpha,
				beta,
				gamma,
				phi,
				level,
				slope;
} EtsParams;

static int
param_count(const FcEtsSpec *spec)
{
	return 2 + (spec->trend != FC_NONE ? 2 : 0) + (spec->season != FC_NONE ? 1 : 0) +
		(spec->damped ? 1 : 0);
}

static EtsParams
unpack(const FcEtsSpec *spec, const double *x)
{
	EtsParams	p = {x[0], 0, 0, 1, 0, 0};
	int			i = 1;

	if (spec->trend != FC_NONE)
		p.beta = x[i++];
	if (spec->season != FC_NONE)
		p.gamma = x[i++];
	if (spec->damped)
		p.phi = x[i++];
	p.level = x[i++];
	if (spec->trend != FC_NONE)
		p.slope = x[i++];
	return p;
}

/* -2 log L from the sum of squared errors and sum of log |mu| (multiplicative errors). */
static double
minus_two_loglik(double sse, double sumlog, int n)
{
	if (!(sse > 0))
		sse = 1e-300;
	return n * log(sse / n) + n * (1 + log(2 * 3.14159265358979323846)) + 2 * sumlog;
}

/*
 * The recursions of additive-error models without a season, the most frequent case, without
 * branches in the loop (the loop is latency-bound: keep SES's dependency chain short).
 */
static double
recurse_additive_nonseasonal(const double *y, int n, const EtsParams *p, bool trend,
							 double *level, double *slope, double *sse_out)
{
	double		l = p->level,
				b = trend ? p->slope : 0,
				alpha = p->alpha,
				sse = 0;

	if (!trend)
	{
		for (int t = 0; t < n; t++)
		{
			double		e = y[t] - l;

			sse += e * e;
			l += alpha * e;
		}
	}
	else
	{
		double		phi = p->phi,
					beta_star = p->beta / p->alpha;

		for (int t = 0; t < n; t++)
		{
			double		q = l + phi * b;
			double		e = y[t] - q;
			double		lnew = q + alpha * e;

			sse += e * e;
			b = phi * b + beta_star * (lnew - l - phi * b);
			l = lnew;
		}
	}
	*level = l;
	*slope = b;
	if (sse_out)
		*sse_out = sse;
	return minus_two_loglik(sse, 0, n);
}

/*
 * Run the recursion over y; returns -2 log L (HUGE_VAL when a multiplicative mean is not
 * positive) and leaves the final states in *level, *slope and season[].
 */
static double
ets_recurse(const double *y, int n, const FcEtsSpec *spec, const EtsParams *p,
			double *season, double *level, double *slope, double *sse_out)
{
	double		l = p->level,
				b = p->slope,
				sse = 0,
				sumlog = 0;
	int			m = spec->season != FC_NONE ? spec->m : 1;
	bool		positive = spec->error == FC_MUL || spec->season == FC_MUL;

	if (spec->error == FC_ADD && spec->season == FC_NONE)
		return recurse_additive_nonseasonal(y, n, p, spec->trend != FC_NONE, level, slope,
											sse_out);
	for (int t = 0; t < n; t++)
	{
		double		q = l + p->phi * b;
		double		s = spec->season != FC_NONE ? season[t % m] : 0;
		double		mu = spec->season == FC_ADD ? q + s : spec->season == FC_MUL ? q * s : q;
		double		e,
					deseasoned,
					lnew;

		if (positive && !(mu > 1e-10 && q > 1e-10))
			return HUGE_VAL;
		e = spec->error == FC_MUL ? (y[t] - mu) / mu : y[t] - mu;
		sse += e * e;
		if (spec->error == FC_MUL)
			sumlog += log(mu);

		deseasoned = spec->season == FC_ADD ? y[t] - s : spec->season == FC_MUL ? y[t] / s : y[t];
		lnew = q + p->alpha * (deseasoned - q);
		if (spec->trend != FC_NONE)
			b = p->phi * b + (p->beta / p->alpha) * (lnew - l - p->phi * b);
		if (spec->season == FC_ADD)
			season[t % m] = s + p->gamma * (y[t] - q - s);
		else if (spec->season == FC_MUL)
			season[t % m] = s + p->gamma * (y[t] / q - s);
		l = lnew;
	}
	*level = l;
	*slope = b;
	if (sse_out)
		*sse_out = sse;
	return minus_two_loglik(sse, sumlog, n);
}

static double
ets_objective(const double *x, void *arg)
{
	EtsProblem *pr = arg;
	EtsParams	p = unpack(&pr->spec, x);
	double		l,
				b;

	if (pr->spec.trend != FC_NONE && p.beta >= p.alpha)
		return HUGE_VAL;
	if (pr->spec.season != FC_NONE && p.gamma >= 1 - p.alpha)
		return HUGE_VAL;
	if (pr->spec.season != FC_NONE)
		memcpy(pr->season, pr->season0, sizeof(double) * pr->spec.m);
	return ets_recurse(pr->y, pr->n, &pr->spec, &p, pr->season, &l, &b, NULL);
}

/* Initial seasonal states and a deseasonalised start for level and slope. */
static bool
initial_states(const double *y, int n, const FcEtsSpec *spec, const FcEnv *env,
			   double *season0, double *level0, double *slope0, double *scale)
{
	int			m = spec->season != FC_NONE ? spec->m : 1;
	int			k = n < 10 ? n : 10;
	double	   *scratch = env->alloc(env->ctx, sizeof(double) * 2 * m + 16);
	double		first[10];
	double		a,
				b,
				lo = y[0],
				hi = y[0];

	if (spec->season != FC_NONE)
	{
		int			cycles = n / m < 4 ? n / m : 4;

		if (!fc_seasonal_indices(y, cycles * m, m, spec->season == FC_MUL, season0, scratch) &&
			!fc_seasonal_indices(y, n, m, spec->season == FC_MUL, season0, scratch))
			return false;
		if (spec->season == FC_MUL)
			for (int i = 0; i < m; i++)
				if (!(season0[i] > 0))
					return false;
	}
	for (int t = 0; t < k; t++)
	{
		double		s = spec->season != FC_NONE ? season0[t % m] : 0;

		first[t] = spec->season == FC_MUL ? y[t] / s : y[t] - s;
	}
	fc_linear_fit(first, k, &a, &b);
	*level0 = a;
	*slope0 = spec->trend != FC_NONE ? b : 0;
	for (int t = 0; t < n; t++)
	{
		lo = y[t] < lo ? y[t] : lo;
		hi = y[t] > hi ? y[t] : hi;
	}
	*scale = hi - lo > 0 ? hi - lo : fabs(hi) + 1;
	return true;
}

bool
fc_ets_fit(const double *y, int n, FcEtsSpec spec, const FcEnv *env, FcEtsFit *fit)
{
	EtsProblem	pr;
	double		x[8],
				lo[8],
				hi[8];
	int			dim = param_count(&spec);
	int			m = spec.season != FC_NONE ? spec.m : 1;
	int			k = dim + (spec.season != FC_NONE ? m - 1 : 0) + 1;
	double	   *season0 = env->alloc(env->ctx, sizeof(double) * m);
	double		level0,
				slope0,
				scale,
				sse,
				lik;
	EtsParams	p;
	int			i = 0;

	if (spec.season != FC_NONE && (m < 2 || n < 2 * m))
		return false;
	if (n <= k + 1 || n < 3)
		return false;
	if (spec.error == FC_MUL || spec.season == FC_MUL)
		for (int t = 0; t < n; t++)
			if (!(y[t] > 0))
				return false;
	if (!initial_states(y, n, &spec, env, season0, &level0, &slope0, &scale))
		return false;

	lo[i] = 1e-4, hi[i] = 0.9999, x[i++] = 0.5;
	if (spec.trend != FC_NONE)
		lo[i] = 1e-4, hi[i] = 0.9999, x[i++] = 0.05;
	if (spec.season != FC_NONE)
		lo[i] = 1e-4, hi[i] = 0.9999, x[i++] = 0.05;
	if (spec.damped)
		lo[i] = 0.8, hi[i] = 0.98, x[i++] = 0.95;
	lo[i] = level0 - scale, hi[i] = level0 + scale, x[i++] = level0;
	if (spec.trend != FC_NONE)
		lo[i] = slope0 - scale / 10, hi[i] = slope0 + scale / 10, x[i++] = slope0;

	pr.y = y;
	pr.n = n;
	pr.spec = spec;
	pr.season0 = season0;
	pr.season = env->alloc(env->ctx, sizeof(double) * m);
	lik = fc_minimise(ets_objective, &pr, dim, x, lo, hi, ETS_MAX_EVALS, env);
	if (!isfinite(lik))
		return false;

	p = unpack(&spec, x);
	memset(fit, 0, sizeof(*fit));
	fit->spec = spec;
	fit->alpha = p.alpha;
	fit->beta = p.beta;
	fit->gamma = p.gamma;
	fit->phi = p.phi;
	fit->level0 = p.level;
	fit->slope0 = p.slope;
	fit->season = env->alloc(env->ctx, sizeof(double) * m);
	memcpy(fit->season, season0, sizeof(double) * m);
	lik = ets_recurse(y, n, &spec, &p, fit->season, &fit->level, &fit->slope, &sse);
	fit->n = n;
	fit->sigma2 = sse / (n - dim > 1 ? n - dim : 1);
	fit->aicc = lik + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1);
	return true;
}

bool
fc_ets_refilter(const FcEtsFit *fit, const double *y, int n, FcEtsFit *out)
{
	EtsParams	p = {fit->alpha, fit->beta, fit->gamma, fit->phi, fit->level0, fit->slope0};
	double		sse;

	if (fit->spec.season != FC_NONE || n < 1)
		return false;
	*out = *fit;
	if (!isfinite(ets_recurse(y, n, &fit->spec, &p, NULL, &out->level, &out->slope, &sse)))
		return false;
	out->n = n;
	return true;
}

bool
fc_ets_select(const double *y, int n, int m, const FcEnv *env, FcEtsFit *best)
{
	static const FcComponent errors[] = {FC_ADD, FC_MUL};
	static const FcComponent seasons[] = {FC_NONE, FC_ADD, FC_MUL};
	bool		found = false;

	for (int e = 0; e < 2; e++)
		for (int tr = 0; tr < 3; tr++)
			for (int s = 0; s < (m > 1 ? 3 : 1); s++)
			{
				FcEtsSpec	spec = {errors[e], tr == 0 ? FC_NONE : FC_ADD, tr == 2,
				seasons[s], m};
				FcEtsFit	fit;

				/* additive errors with a multiplicative season are numerically unstable */
				if (spec.error == FC_ADD && spec.season == FC_MUL)
					continue;
				if (fc_ets_fit(y, n, spec, env, &fit) && (!found || fit.aicc < best->aicc))
				{
					*best = fit;
					found = true;
				}
			}
	return found;
}

/* Mean forecast of step j (1-based) from states l, b and season[] after time n - 1. */
static double
ets_mean(const FcEtsSpec *spec, double phi, double l, double b, const double *season, int n,
		 int j)
{
	double		damp = 0,
				pw = 1,
				q;
	int			m = spec->season != FC_NONE ? spec->m : 1;

	for (int i = 1; i <= j; i++)
	{
		pw *= phi;
		damp += pw;
	}
	q = l + (spec->trend != FC_NONE ? damp * b : 0);
	if (spec->season == FC_ADD)
		return q + season[(n + j - 1) % m];
	if (spec->season == FC_MUL)
		return q * season[(n + j - 1) % m];
	return q;
}

/* Additive-error, additive-component models: var_h = sigma2 (1 + sum_{j<h} c_j^2). */
static void
analytic_bounds(const FcEtsFit *fit, int h, double z, const double *point, double *lower,
				double *upper)
{
	double		acc = 1,
				phisum = 0,
				pw = 1;
	int			m = fit->spec.season != FC_NONE ? fit->spec.m : 0;

	for (int j = 1; j <= h; j++)
	{
		double		half = z * sqrt(fit->sigma2 * acc);
		double		c;

		lower[j - 1] = point[j - 1] - half;
		upper[j - 1] = point[j - 1] + half;
		pw *= fit->phi;
		phisum += fit->spec.damped ? pw : 1;
		c = fit->alpha + (fit->spec.trend != FC_NONE ? fit->beta * phisum : 0) +
			(m > 0 && j % m == 0 ? fit->gamma : 0);
		acc += c * c;
	}
}

/* Simulate future paths with the model's own recursion and take per-step quantiles. */
static void
simulated_bounds(const FcEtsFit *fit, int h, double level, const FcEnv *env, double *lower,
				 double *upper)
{
	const FcEtsSpec *spec = &fit->spec;
	int			m = spec->season != FC_NONE ? spec->m : 1;
	double	   *paths = env->alloc(env->ctx, sizeof(double) * h * ETS_SIMULATIONS);
	double	   *season = env->alloc(env->ctx, sizeof(double) * m);
	double	   *column = env->alloc(env->ctx, sizeof(double) * ETS_SIMULATIONS);
	double		sigma = sqrt(fit->sigma2);
	EtsParams	p = {fit->alpha, fit->beta, fit->gamma, fit->phi, 0, 0};
	FcRng		rng;

	fc_rng_seed(&rng, 20261126);
	for (int r = 0; r < ETS_SIMULATIONS; r++)
	{
		double		l = fit->level,
					b = fit->slope;

		if (r % 64 == 0 && env->check_interrupts)
			env->check_interrupts(env->ctx);
		memcpy(season, fit->season, sizeof(double) * m);
		for (int j = 0; j < h; j++)
		{
			int			pos = (fit->n + j) % m;
			double		q = l + p.phi * b;
			double		s = spec->season != FC_NONE ? season[pos] : 0;
			double		mu = spec->season == FC_ADD ? q + s : spec->season == FC_MUL ? q * s : q;
			double		e = sigma * fc_rng_normal(&rng);
			double		y = spec->error == FC_MUL ? mu * (1 + e) : mu + e;
			double		d = spec->season == FC_ADD ? y - s : spec->season == FC_MUL ? y / s : y;
			double		lnew = q + p.alpha * (d - q);

			if (spec->trend != FC_NONE)
				b = p.phi * b + (p.beta / p.alpha) * (lnew - l - p.phi * b);
			if (spec->season == FC_ADD)
				season[pos] = s + p.gamma * (y - q - s);
			else if (spec->season == FC_MUL && q != 0)
				season[pos] = s + p.gamma * (y / q - s);
			l = lnew;
			paths[j * ETS_SIMULATIONS + r] = y;
		}
	}
	for (int j = 0; j < h; j++)
	{
		memcpy(column, paths + j * ETS_SIMULATIONS, sizeof(double) * ETS_SIMULATIONS);
		lower[j] = fc_quantile(column, ETS_SIMULATIONS, (1 - level) / 2);
		upper[j] = fc_quantile(column, ETS_SIMULATIONS, (1 + level) / 2);
	}
}

void
fc_ets_forecast(const FcEtsFit *fit, int h, double level, const FcEnv *env, double *point,
				double *lower, double *upper)
{
	for (int j = 1; j <= h; j++)
		point[j - 1] = ets_mean(&fit->spec, fit->phi, fit->level, fit->slope, fit->season,
								fit->n, j);
	if (!lower || !upper)
		return;
	if (fit->spec.error == FC_ADD && fit->spec.season != FC_MUL)
		analytic_bounds(fit, h, fc_normal_quantile((1 + level) / 2), point, lower, upper);
	else
		simulated_bounds(fit, h, level, env, lower, upper);
}

void
fc_ets_describe(const FcEtsSpec *spec, char *buf, int len)
{
	static const char *code[] = {"N", "A", "M"};

	snprintf(buf, len, "ETS(%s,%s%s,%s)", code[spec->error], code[spec->trend],
			 spec->damped ? "d" : "", code[spec->season]);
}
