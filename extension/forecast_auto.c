/*
 * forecast_auto.c — forecast_run(): input checks, the periods to consider, method dispatch and
 * the single-model methods; 'auto' is the ensemble of forecast_ensemble.c.
 *
 * Seasonal adjustment: when the series has a period m (given, or detected from the ACF) and
 * passes the M4 seasonality test, it is divided by classical multiplicative seasonal indices
 * (subtracted, for additive ones when the data is not positive).  For hourly-like data whose
 * period is 24 and which also shows a 7 x 24 = 168 cycle, indices at 168 are used on top of
 * those at 24 (multiple seasonality).  Non-seasonal models then forecast the adjusted series
 * and the forecast is re-seasonalised.
 */
#include "forecast.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast_adjust.h"
#include "forecast_ensemble.h"
#include "forecast_ets.h"
#include "forecast_season.h"
#include "forecast_stats.h"
#include "forecast_theta.h"

static const char *const method_names[FC_METHOD_COUNT] = {
	"auto", "naive", "snaive", "ses", "holt", "damped", "hw_additive", "hw_multiplicative",
	"ets", "theta", "otheta", "mseason", "ensemble"
};

bool
forecast_method_from_name(const char *name, FcMethod *method)
{
	for (int i = 0; i < FC_METHOD_COUNT; i++)
		if (strcmp(name, method_names[i]) == 0)
		{
			*method = (FcMethod) i;
			return true;
		}
	return false;
}

const char *
forecast_method_name(FcMethod method)
{
	return method >= 0 && method < FC_METHOD_COUNT ? method_names[method] : "?";
}

/* Interval bounds of a random walk (step = 1) or seasonal random walk (step = m). */
static void
naive_forecast(const double *y, int n, int m, int h, double level, FcResult *res)
{
	double		z = fc_normal_quantile((1 + level) / 2);
	double		sum = 0;

	if (m < 1 || n <= m)
		m = 1;
	for (int t = m; t < n; t++)
		sum += (y[t] - y[t - m]) * (y[t] - y[t - m]);
	fc_seasonal_naive(y, n, m, h, res->point);
	for (int j = 0; j < h; j++)
	{
		double		half = z * sqrt(sum / (n - m > 0 ? n - m : 1) * (j / m + 1));

		res->lower[j] = res->point[j] - half;
		res->upper[j] = res->point[j] + half;
	}
	if (m > 1)
		snprintf(res->model, sizeof(res->model), "snaive, season %d", m);
	else
		snprintf(res->model, sizeof(res->model), "naive");
}

/* SES, Holt, damped, Theta, optimised Theta on the seasonally adjusted series. */
static bool
adjusted_forecast(const FcWork *w, FcMethod method, const double *y, int n, int h, FcResult *res)
{
	FcSeasonality s;
	double	   *x = fc_alloc_doubles(w->env, n);
	FcEtsSpec	spec = {FC_ADD, FC_NONE, false, FC_NONE, 1};
	FcEtsFit	fit;
	double		theta;
	bool		ok;

	fc_adjust_estimate(y, n, w->m1, method == FC_METHOD_MSEASON ? w->m2 : 1, 0, 0, w->env, &s);
	fc_adjust_remove(&s, y, n, x);
	if (method == FC_METHOD_HOLT || method == FC_METHOD_DAMPED)
	{
		spec.trend = FC_ADD;
		spec.damped = method == FC_METHOD_DAMPED;
	}
	if (method == FC_METHOD_THETA || method == FC_METHOD_MSEASON)
		ok = fc_theta(x, n, h, w->level, NULL, w->env, res->point, res->lower, res->upper);
	else if (method == FC_METHOD_OTHETA)
		ok = fc_theta_optimised(x, n, h, w->level, NULL, w->env, res->point, res->lower,
								res->upper, &theta);
	else if ((ok = fc_ets_fit(x, n, spec, w->env, &fit)))
		fc_ets_forecast(&fit, h, w->level, w->env, res->point, res->lower, res->upper);
	if (!ok)
		return false;
	fc_adjust_restore(&s, n, h, res->point);
	fc_adjust_restore(&s, n, h, res->lower);
	fc_adjust_restore(&s, n, h, res->upper);
	fc_describe_model(forecast_method_name(method), &s, res->model, sizeof(res->model));
	return true;
}

/* Holt-Winters and AICc-selected ETS, with the season inside the state-space model. */
static bool
ets_forecast(const FcWork *w, FcMethod method, const double *y, int n, int h, FcResult *res)
{
	FcEtsFit	fit;
	FcEtsSpec	spec = {FC_ADD, FC_ADD, false, FC_ADD, w->m1};
	bool		ok;

	if (method == FC_METHOD_ETS)
		ok = fc_ets_select(y, n, w->m1, w->env, &fit);
	else
	{
		if (method == FC_METHOD_HW_MUL)
			spec.error = spec.season = FC_MUL;
		ok = w->m1 > 1 && fc_ets_fit(y, n, spec, w->env, &fit);
	}
	if (!ok)
		return false;
	fc_ets_forecast(&fit, h, w->level, w->env, res->point, res->lower, res->upper);
	fc_ets_describe(&fit.spec, res->model, sizeof(res->model));
	if (fit.spec.season != FC_NONE)
		snprintf(res->model + strlen(res->model), sizeof(res->model) - strlen(res->model),
				 ", season %d", fit.spec.m);
	return true;
}

static FcStatus
check_request(const FcRequest *req, char *detail, size_t len)
{
	if (req->n < FC_MIN_OBSERVATIONS || req->n > FC_MAX_OBSERVATIONS)
	{
		snprintf(detail, len, "The series has %d values; between %d and %d are needed.",
				 req->n, FC_MIN_OBSERVATIONS, FC_MAX_OBSERVATIONS);
		return req->n < FC_MIN_OBSERVATIONS ? FC_ERR_TOO_SHORT : FC_ERR_TOO_LONG;
	}
	for (int t = 0; t < req->n; t++)
		if (!isfinite(req->y[t]))
		{
			snprintf(detail, len, "Value %d is %s.", t + 1, isnan(req->y[t]) ? "NaN" : "infinite");
			return FC_ERR_NOT_FINITE;
		}
	if (req->horizon < 1 || req->horizon > FC_MAX_HORIZON)
	{
		snprintf(detail, len, "The horizon is %d; it must be between 1 and %d.",
				 req->horizon, FC_MAX_HORIZON);
		return FC_ERR_HORIZON;
	}
	if (req->season < 0 || req->season > req->n)
	{
		snprintf(detail, len, "The season is %d but the series has %d values.",
				 req->season, req->n);
		return FC_ERR_SEASON;
	}
	if (req->season > FC_MAX_SEASON)
	{
		snprintf(detail, len, "The season is %d; at most %d is supported.", req->season,
				 FC_MAX_SEASON);
		return FC_ERR_SEASON;
	}
	if (!(req->level > 0 && req->level < 1))
	{
		snprintf(detail, len, "The level is %g; it must be strictly between 0 and 1.",
				 req->level);
		return FC_ERR_LEVEL;
	}
	if (req->method < 0 || req->method >= FC_METHOD_COUNT)
	{
		snprintf(detail, len, "Unknown method number %d.", (int) req->method);
		return FC_ERR_METHOD;
	}
	return FC_OK;
}

/* The periods to consider: given or detected; hourly-like data also gets the weekly 168. */
static void
resolve_periods(const FcRequest *req, const double *y, int n, const FcEnv *env, FcWork *w)
{
	int			tail = n < 5000 ? n : 5000;
	double	   *scratch = fc_alloc_doubles(env, 402);

	w->m1 = req->season;
	if (w->m1 == 0)
		w->m1 = fc_detect_season(y + n - tail, tail, 400, scratch);
	w->m2 = 1;
	if (w->m1 == 168)
		w->m1 = 24;
	if (w->m1 == 24)
		w->m2 = 168;
}

static bool
all_finite(const FcResult *res, int h)
{
	for (int j = 0; j < h; j++)
		if (!isfinite(res->point[j]) || !isfinite(res->lower[j]) || !isfinite(res->upper[j]))
			return false;
	return true;
}

static bool
dispatch(const FcWork *w, FcMethod method, const double *y, int n, int h, FcResult *res)
{
	switch (method)
	{
		case FC_METHOD_AUTO:
		case FC_METHOD_ENSEMBLE:
			return fc_ensemble_forecast(w, y, n, h, res);
		case FC_METHOD_NAIVE:
			naive_forecast(y, n, 1, h, w->level, res);
			return true;
		case FC_METHOD_SNAIVE:
			naive_forecast(y, n, w->m1, h, w->level, res);
			return true;
		case FC_METHOD_HW_ADD:
		case FC_METHOD_HW_MUL:
		case FC_METHOD_ETS:
			return ets_forecast(w, method, y, n, h, res);
		default:
			return adjusted_forecast(w, method, y, n, h, res);
	}
}

FcStatus
forecast_run(const FcRequest *req, const FcEnv *env, FcResult *res, char *detail, size_t len)
{
	FcStatus	status = check_request(req, detail, len);
	int			n = req->n,
				h = req->horizon;
	double	   *y;
	double		scale = 0;
	FcWork		w = {env, req->level, 1, 1};

	if (status != FC_OK)
		return status;
	res->point = fc_alloc_doubles(env, h);
	res->lower = fc_alloc_doubles(env, h);
	res->upper = fc_alloc_doubles(env, h);

	/* work on y / max|y| so that huge values cannot overflow sums of squares */
	for (int t = 0; t < n; t++)
		scale = fabs(req->y[t]) > scale ? fabs(req->y[t]) : scale;
	if (scale == 0)
		scale = 1;
	y = fc_alloc_doubles(env, n);
	for (int t = 0; t < n; t++)
		y[t] = req->y[t] / scale;

	resolve_periods(req, y, n, env, &w);
	res->season = w.m1;
	if (w.m1 > 1 && (req->method == FC_METHOD_HW_ADD || req->method == FC_METHOD_HW_MUL) &&
		n < 2 * w.m1)
	{
		snprintf(detail, len, "Holt-Winters needs two full seasons (%d values); the series has %d.",
				 2 * w.m1, n);
		return FC_ERR_SEASON;
	}
	if (!dispatch(&w, req->method, y, n, h, res) || !all_finite(res, h))
	{
		/* documented fallback: a model that does not suit the data becomes the naive one */
		naive_forecast(y, n, req->method == FC_METHOD_SNAIVE ? w.m1 : 1, h, req->level, res);
	}
	for (int j = 0; j < h; j++)
	{
		/*
		 * Simulated bounds of a multiplicative model are quantiles around the median, which
		 * need not contain the (mean) point forecast at low levels: widen to contain it.
		 */
		res->lower[j] = fmin(res->lower[j], res->point[j]) * scale;
		res->upper[j] = fmax(res->upper[j], res->point[j]) * scale;
		res->point[j] *= scale;
	}
	return FC_OK;
}
