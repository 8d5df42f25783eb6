/*
 * forecast_test.c — unit tests of the pure forecasting code (extension/forecast_*.c): the
 * bounded optimiser, numeric helpers, seasonality test and decomposition, ETS fitting, AICc
 * selection and intervals (analytic and simulated), Theta, every method through forecast_run,
 * input checks, interrupts, and a randomised robustness run (finite, ordered output or a clean
 * error for any input).  Prints "N passed, M failed".
 */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "forecast_adjust.h"
#include "forecast_ets.h"
#include "forecast_optim.h"
#include "forecast_season.h"
#include "forecast_stats.h"
#include "forecast_theta.h"
#include "unit_arena.h"
#include "unit_check.h"



static long interrupt_calls;
static long interrupt_limit = -1;	/* abort the run (longjmp) after this many checks */
static jmp_buf interrupt_jump;

static void
test_interrupts(void *ctx)
{
	(void) ctx;
	if (interrupt_limit >= 0 && interrupt_calls >= interrupt_limit)
		longjmp(interrupt_jump, 1);
	interrupt_calls++;
}

static const FcEnv env = {unit_arena_alloc, test_interrupts, NULL};

/* Deterministic pseudo-noise in [-1, 1]. */
static double
noise(int t)
{
	double		x = sin(t * 12.9898 + 78.233) * 43758.5453;

	return 2 * (x - floor(x)) - 1;
}

static double
sphere(const double *x, void *arg)
{
	(void) arg;
	return (x[0] - 0.3) * (x[0] - 0.3) + (x[1] + 2) * (x[1] + 2);
}

static double
rosenbrock(const double *x, void *arg)
{
	(void) arg;
	return 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]);
}

static void
test_optimiser(void)
{
	double		x[2] = {0.9, 0.9};
	double		lo[2] = {0, -1},
				hi[2] = {1, 1};
	double		r[2] = {-1, 2},
				rlo[2] = {-2, -2},
				rhi[2] = {2, 3};
	double		f;

	interrupt_calls = 0;
	f = fc_minimise(sphere, NULL, 2, x, lo, hi, 500, &env);
	CHECK(fabs(x[0] - 0.3) < 1e-3 && fabs(x[1] + 1) < 1e-9, "bounded minimum at (0.3, -1): got (%g, %g)", x[0], x[1]);
	CHECK(fabs(f - 1) < 1e-6, "bounded minimum value 1: got %g", f);
	CHECK(interrupt_calls > 0, "the optimiser checks for interrupts");
	f = fc_minimise(rosenbrock, NULL, 2, r, rlo, rhi, 4000, &env);
	CHECK(fabs(r[0] - 1) < 0.02 && fabs(r[1] - 1) < 0.04, "Rosenbrock minimum (1, 1): got (%g, %g), f %g", r[0], r[1], f);
}

static void
test_stats(void)
{
	double		q[] = {5, 1, 4, 2, 3};
	double		line[20];
	double		a,
				b;
	FcRng		r1,
				r2;
	double		sum = 0,
				sumsq = 0;

	CHECK(fabs(fc_normal_quantile(0.975) - 1.959963985) < 1e-8, "z(0.975) = %.10f", fc_normal_quantile(0.975));
	CHECK(fabs(fc_normal_quantile(0.005) + 2.575829304) < 1e-8, "z(0.005) = %.10f", fc_normal_quantile(0.005));
	CHECK(fc_normal_quantile(0.5) == 0 || fabs(fc_normal_quantile(0.5)) < 1e-15, "z(0.5) = 0");
	CHECK(fabs(fc_quantile(q, 5, 0.5) - 3) < 1e-12 && fabs(fc_quantile(q, 5, 0.25) - 2) < 1e-12, "quantiles of 1..5");
	for (int t = 0; t < 20; t++)
		line[t] = 3 + 0.5 * t;
	fc_linear_fit(line, 20, &a, &b);
	CHECK(fabs(a - 3) < 1e-12 && fabs(b - 0.5) < 1e-12, "least-squares line: %g + %g t", a, b);
	fc_rng_seed(&r1, 42);
	fc_rng_seed(&r2, 42);
	CHECK(fc_rng_normal(&r1) == fc_rng_normal(&r2), "the PRNG is reproducible from its seed");
	for (int i = 0; i < 100000; i++)
	{
		double		z = fc_rng_normal(&r1);

		sum += z;
		sumsq += z * z;
	}
	CHECK(fabs(sum / 100000) < 0.02 && fabs(sumsq / 100000 - 1) < 0.02, "normal draws: mean %g, variance %g",
		  sum / 100000, sumsq / 100000);
}

static void
test_season(void)
{
	double		y[240],
				flat[240],
				idx[12],
				scratch[512];
	bool		exact = true;

	for (int t = 0; t < 240; t++)
	{
		y[t] = (100 + 0.1 * t) * (1 + 0.3 * sin(2 * 3.141592653589793 * t / 12));
		flat[t] = 100 + noise(t);
	}
	CHECK(fc_is_seasonal(y, 240, 12, scratch), "period 12 passes the seasonality test");
	CHECK(!fc_is_seasonal(flat, 240, 12, scratch), "noise does not pass the seasonality test");
	CHECK(!fc_is_seasonal(y, 30, 12, scratch), "the test needs three seasons");
	CHECK(fc_detect_season(y, 240, 100, scratch) == 12, "detects period 12: got %d", fc_detect_season(y, 240, 100, scratch));
	CHECK(fc_detect_season(flat, 240, 100, scratch) == 1, "no period in noise: got %d", fc_detect_season(flat, 240, 100, scratch));
	CHECK(fc_seasonal_indices(y, 240, 12, true, idx, scratch), "multiplicative indices");
	for (int i = 0; i < 12; i++)
		exact &= fabs(idx[i] - (1 + 0.3 * sin(2 * 3.141592653589793 * i / 12))) < 0.01;
	CHECK(exact, "indices recover the seasonal factors");
	CHECK(!fc_seasonal_indices(y, 20, 12, true, idx, scratch), "indices need two seasons");
}

static void
test_adjust(void)
{
	double		y[24 * 7 * 4],
				x[24 * 7 * 4],
				f[24];
	FcSeasonality s;
	double		spread = 0;

	for (int t = 0; t < 24 * 7 * 4; t++)
		y[t] = 50 * (1 + 0.5 * sin(2 * 3.141592653589793 * t / 24)) * (t % 168 < 24 ? 1.5 : 1);
	fc_adjust_estimate(y, 24 * 7 * 4, 24, 168, 7, 0, &env, &s);
	CHECK(s.m1 == 24 && s.m2 == 168 && s.multiplicative, "daily and weekly seasonality found: %d, %d", s.m1, s.m2);
	fc_adjust_remove(&s, y, 24 * 7 * 4, x);
	for (int t = 168; t < 24 * 7 * 4; t++)
		spread = fmax(spread, fabs(x[t] / x[167] - 1));
	CHECK(spread < 0.25, "the adjusted series is nearly flat (largest deviation %g)", spread);
	for (int j = 0; j < 24; j++)
		f[j] = x[24 * 7 * 4 - 1];
	fc_adjust_restore(&s, 24 * 7 * 4, 24, f);
	CHECK(f[12] < f[6], "restored forecast follows the daily cycle");
	unit_arena_reset();
}

static void
test_ets(void)
{
	double		walk[300],
				level[300],
				seasonal[120],
				point[12],
				lo[12],
				hi[12],
				lo2[12],
				hi2[12];
	FcEtsSpec	ses = {FC_ADD, FC_NONE, false, FC_NONE, 1};
	FcEtsSpec	hwm = {FC_MUL, FC_ADD, false, FC_MUL, 12};
	FcEtsFit	fit;
	char		name[32];
	double		err = 0;

	walk[0] = 100;
	for (int t = 1; t < 300; t++)
		walk[t] = walk[t - 1] + 3 * noise(t);
	for (int t = 0; t < 300; t++)
		level[t] = 100 + 3 * noise(t);
	CHECK(fc_ets_fit(walk, 300, ses, &env, &fit) && fit.alpha > 0.8, "SES on a random walk: alpha %g", fit.alpha);
	CHECK(fc_ets_fit(level, 300, ses, &env, &fit) && fit.alpha < 0.2, "SES on noise: alpha %g", fit.alpha);
	fc_ets_forecast(&fit, 12, 0.95, &env, point, lo, hi);
	for (int j = 0; j < 12; j++)
	{
		double		half = 1.959963985 * sqrt(fit.sigma2 * (1 + j * fit.alpha * fit.alpha));

		err = fmax(err, fabs((hi[j] - point[j]) - half));
	}
	CHECK(err < 1e-6, "SES intervals: sigma sqrt(1 + (h - 1) alpha^2) (max difference %g)", err);
	CHECK(point[0] == point[11], "SES forecasts are flat");

	for (int t = 0; t < 120; t++)
		seasonal[t] = (200 + 2 * t) * (1 + 0.2 * sin(2 * 3.141592653589793 * t / 12)) * (1 + 0.01 * noise(t));
	CHECK(fc_ets_fit(seasonal, 120, hwm, &env, &fit), "Holt-Winters multiplicative fits");
	fc_ets_forecast(&fit, 12, 0.95, &env, point, lo, hi);
	err = 0;
	for (int j = 0; j < 12; j++)
		err = fmax(err, fabs(point[j] / ((200 + 2 * (120 + j)) * (1 + 0.2 * sin(2 * 3.141592653589793 * (120 + j) / 12))) - 1));
	CHECK(err < 0.05, "Holt-Winters forecasts the seasonal trend within 5%% (%g)", err);
	/* one step ahead, a multiplicative-error interval is point (1 +- z sigma): the simulation agrees */
	CHECK(lo[0] < point[0] && point[0] < hi[0] &&
		  fabs((hi[0] - lo[0]) / (2 * 1.959963985 * sqrt(fit.sigma2) * point[0]) - 1) < 0.1,
		  "simulated one-step interval %g..%g around %g, sigma %g", lo[0], hi[0], point[0], sqrt(fit.sigma2));
	CHECK((hi[11] - lo[11]) / point[11] > 0.95 * (hi[0] - lo[0]) / point[0], "simulated intervals do not shrink");
	fc_ets_forecast(&fit, 12, 0.95, &env, point, lo2, hi2);
	CHECK(memcmp(lo, lo2, sizeof(lo)) == 0 && memcmp(hi, hi2, sizeof(hi)) == 0, "simulated intervals are reproducible");

	CHECK(fc_ets_select(seasonal, 120, 12, &env, &fit) && fit.spec.season != FC_NONE, "AICc picks a seasonal model");
	fc_ets_describe(&fit.spec, name, sizeof(name));
	CHECK(strncmp(name, "ETS(", 4) == 0, "model name %s", name);
	CHECK(!fc_ets_fit(seasonal, 20, hwm, &env, &fit), "a seasonal model needs two seasons");
	level[5] = -1;
	CHECK(!fc_ets_fit(level, 300, hwm, &env, &fit), "multiplicative models need positive data");
	unit_arena_reset();
}

static void
test_theta(void)
{
	double		line[50],
				point[5],
				lo[5],
				hi[5],
				theta;

	for (int t = 0; t < 50; t++)
		line[t] = 10 + 2 * t + 0.01 * noise(t);
	CHECK(fc_theta(line, 50, 5, 0.95, NULL, &env, point, lo, hi), "Theta fits");
	CHECK(fabs(point[0] - 109) < 1.5 && fabs(point[4] - 113) < 2, "Theta halves the trend of a line: %g, %g", point[0], point[4]);
	CHECK(fc_theta_optimised(line, 50, 5, 0.95, NULL, &env, point, lo, hi, &theta), "optimised Theta fits");
	CHECK(theta > 2 && point[4] > 115 && point[4] < 118.5,
		  "optimised Theta follows a line (113 < forecast <= 118) more closely than Theta (theta %g): %g",
		  theta, point[4]);
	unit_arena_reset();
}

static FcStatus
run(const double *y, int n, int h, int season, FcMethod method, double level, FcResult *res)
{
	FcRequest	req = {y, n, h, season, method, level};
	char		detail[256];

	return forecast_run(&req, &env, res, detail, sizeof(detail));
}

static bool
well_formed(const FcResult *res, int h)
{
	for (int j = 0; j < h; j++)
		if (!isfinite(res->point[j]) || !(res->lower[j] <= res->point[j]) || !(res->point[j] <= res->upper[j]))
			return false;
	return true;
}

static void
test_methods(void)
{
	double		y[24 * 7 * 4];
	int			n = 24 * 7 * 4;
	FcResult	res;
	FcMethod	m;

	for (int t = 0; t < n; t++)
		y[t] = 80 + 20 * sin(2 * 3.141592653589793 * t / 24) + (t % 168 < 24 ? 15 : 0) + 2 * noise(t);
	for (int i = 0; i < FC_METHOD_COUNT; i++)
	{
		FcStatus	st = run(y, n, 48, 24, (FcMethod) i, 0.9, &res);

		CHECK(st == FC_OK && well_formed(&res, 48), "method %s gives ordered finite forecasts",
			  forecast_method_name((FcMethod) i));
		unit_arena_reset();
	}
	CHECK(forecast_method_from_name("hw_multiplicative", &m) && m == FC_METHOD_HW_MUL, "method names");
	CHECK(!forecast_method_from_name("arima", &m), "unknown method name");

	CHECK(run(y, n, 48, 24, FC_METHOD_AUTO, 0.95, &res) == FC_OK && strstr(res.model, "seasons 24+168"),
		  "auto uses 24 and 168: %s", res.model);
	{
		double		mae = 0;

		for (int j = 0; j < 48; j++)
			mae += fabs(res.point[j] - (80 + 20 * sin(2 * 3.141592653589793 * (n + j) / 24) + ((n + j) % 168 < 24 ? 15 : 0))) / 48;
		CHECK(mae < 4, "auto forecasts the two-season pattern (MAE %g)", mae);
	}
	unit_arena_reset();
	CHECK(run(y, n, 48, 0, FC_METHOD_AUTO, 0.95, &res) == FC_OK && res.season == 24, "season detected: %d", res.season);
	unit_arena_reset();
}

static void
test_bad_input(void)
{
	double		y[40],
				flat[40];
	FcResult	res;

	for (int t = 0; t < 40; t++)
	{
		y[t] = 10 + noise(t);
		flat[t] = 5;
	}
	CHECK(run(y, 2, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_TOO_SHORT, "two values are too short");
	CHECK(run(y, FC_MAX_OBSERVATIONS + 1, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_TOO_LONG,
		  "more than the maximum number of values");
	CHECK(run(y, 40, 0, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_HORIZON, "horizon 0");
	CHECK(run(y, 40, -3, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_HORIZON, "negative horizon");
	CHECK(run(y, 40, FC_MAX_HORIZON + 1, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_HORIZON, "huge horizon");
	CHECK(run(y, 40, 5, 41, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_SEASON, "season longer than the series");
	CHECK(run(y, 40, 5, 30, FC_METHOD_HW_ADD, 0.95, &res) == FC_ERR_SEASON, "Holt-Winters without two seasons");
	{
		int			n = 3 * FC_MAX_SEASON + 3;
		double	   *big = unit_arena_alloc(NULL, sizeof(double) * n);

		for (int t = 0; t < n; t++)
			big[t] = 10 + noise(t);
		CHECK(run(big, n, 5, FC_MAX_SEASON + 1, FC_METHOD_SNAIVE, 0.95, &res) == FC_ERR_SEASON,
			  "a season above the maximum");
		CHECK(run(big, n, 5, FC_MAX_SEASON, FC_METHOD_MSEASON, 0.95, &res) == FC_OK && well_formed(&res, 5),
			  "the largest season works");
		unit_arena_reset();
	}
	CHECK(run(y, 40, 5, 0, FC_METHOD_AUTO, 0, &res) == FC_ERR_LEVEL, "level 0");
	CHECK(run(y, 40, 5, 0, FC_METHOD_AUTO, NAN, &res) == FC_ERR_LEVEL, "level NaN");
	CHECK(run(y, 40, 5, 0, FC_METHOD_COUNT, 0.95, &res) == FC_ERR_METHOD, "method out of range");
	y[7] = NAN;
	CHECK(run(y, 40, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_NOT_FINITE, "NaN value");
	y[7] = INFINITY;
	CHECK(run(y, 40, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_ERR_NOT_FINITE, "infinite value");
	CHECK(run(flat, 40, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_OK && res.point[4] == 5 && res.lower[4] == 5 &&
		  res.upper[4] == 5, "a constant series forecasts itself with no spread");
	unit_arena_reset();
	for (int t = 0; t < 40; t++)
		flat[t] = 0;
	for (int i = 0; i < FC_METHOD_COUNT; i++)
		CHECK(run(flat, 40, 5, 4, (FcMethod) i, 0.95, &res) == FC_OK && res.point[0] == 0 && well_formed(&res, 5),
			  "all zeros with method %s", forecast_method_name((FcMethod) i));
	unit_arena_reset();
	{
		/* found by the fuzzer: a low-level simulated interval must still contain the point */
		double		step[158];

		for (int t = 0; t < 158; t++)
			step[t] = (t >= 130 && t < 154) ? 155 : 25;
		CHECK(run(step, 158, 35, 17, FC_METHOD_ETS, 0.24, &res) == FC_OK && well_formed(&res, 35),
			  "narrow simulated intervals contain the point forecast");
		unit_arena_reset();
	}
	for (int t = 0; t < 40; t++)
		flat[t] = (t % 2 ? 1.7e308 : -1.7e308);
	CHECK(run(flat, 40, 5, 0, FC_METHOD_AUTO, 0.95, &res) == FC_OK && well_formed(&res, 5),
		  "values near DBL_MAX stay finite");
	unit_arena_reset();
}

static void
test_interrupt(void)
{
	double		y[2000];
	FcResult	res;

	for (int t = 0; t < 2000; t++)
		y[t] = 100 + 10 * sin(t / 3.0) + noise(t);
	interrupt_calls = 0;
	interrupt_limit = 5;
	if (setjmp(interrupt_jump) == 0)
	{
		run(y, 2000, 24, 24, FC_METHOD_ETS, 0.95, &res);
		CHECK(false, "the run should have been interrupted");
	}
	else
		CHECK(interrupt_calls == 5, "a run stops at the interrupt check (after %ld checks)", interrupt_calls);
	interrupt_limit = -1;
	unit_arena_reset();
}

/* Random series, lengths, horizons, seasons, methods and levels: an error or well-formed output. */
static void
test_random_inputs(int rounds)
{
	unsigned	seed = 12345;
	int			ok = 0,
				rejected = 0,
				bad = 0;

	for (int r = 0; r < rounds; r++)
	{
		int			n = 1 + (int) ((seed = seed * 1103515245 + 12345) >> 16) % 400;
		double	   *y = unit_arena_alloc(NULL, sizeof(double) * n);
		int			kind = (seed >> 8) % 6;
		int			h = 1 + (int) ((seed = seed * 1103515245 + 12345) >> 16) % 60;
		int			season = ((seed >> 4) % 3 == 0) ? 0 : (int) ((seed >> 12) % 30);
		FcMethod	method = (FcMethod) ((seed >> 20) % FC_METHOD_COUNT);
		double		level = ((seed >> 6) % 10 == 0) ? 1.5 : 0.5 + 0.49 * ((seed >> 9) % 100) / 100.0;
		FcResult	res;
		FcStatus	st;

		for (int t = 0; t < n; t++)
		{
			double		v = noise(t + r * 1000);

			y[t] = kind == 0 ? v : kind == 1 ? 1e6 * (2 + v) : kind == 2 ? (v > 0.8 ? 3 : 0) :
				kind == 3 ? t * v : kind == 4 ? 1e-200 * (2 + v) : floor(5 * v);
		}
		st = run(y, n, h, season, method, level, &res);
		if (st == FC_OK)
		{
			if (well_formed(&res, h))
				ok++;
			else
			{
				bad++;
				if (bad < 5)
					printf("bad output: n %d kind %d h %d season %d method %s level %g\n", n, kind, h, season,
						   forecast_method_name(method), level);
			}
		}
		else
			rejected++;
		unit_arena_reset();
	}
	CHECK(bad == 0 && ok > rounds / 2, "random inputs: %d well-formed, %d rejected, %d malformed", ok, rejected, bad);
}

int
main(void)
{
	test_optimiser();
	test_stats();
	test_season();
	test_adjust();
	test_ets();
	test_theta();
	test_methods();
	test_bad_input();
	test_interrupt();
	test_random_inputs(600);
	unit_arena_reset();
	return unit_summary();
}
