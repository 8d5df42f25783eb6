/*
 * forecast.h — demand forecasting, the pure algorithm library (no PostgreSQL dependency).
 *
 * forecast_run() takes a series of observations and returns point forecasts and prediction
 * intervals for the next `horizon` steps.  Models live in their own files:
 *   forecast_optim.c    bounded Nelder-Mead minimiser used by every fitted model
 *   forecast_stats.c    normal quantile, seeded PRNG, sample quantiles, least squares
 *   forecast_season.c   ACF, seasonality test, period detection, classical decomposition
 *   forecast_adjust.c   seasonal adjustment at one or two periods (e.g. 24 and 168)
 *   forecast_ets.c      ETS state-space models (error/trend/season, damping), ML fit, AICc
 *   forecast_theta.c    Theta method and optimised Theta
 *   forecast_ensemble.c method 'auto': holdout-weighted ensemble, calibrated intervals
 *   forecast_auto.c     forecast_run: input checks, periods, method dispatch
 * forecast_sql.c is the PostgreSQL adapter (freight.forecast, freight.forecast_model).
 * All memory comes from the caller's allocator (FcEnv.alloc), is never freed piecemeal and
 * holds no other resources, so the caller may abandon a run at any point (for example when
 * FcEnv.check_interrupts does not return).
 */
#ifndef FORECAST_H
#define FORECAST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct FcEnv
{
	void	   *(*alloc) (void *ctx, size_t size);	/* returns zeroed memory or does not return */
	void		(*check_interrupts) (void *ctx);	/* called from every search loop; may be NULL */
	void	   *ctx;
} FcEnv;

/* Methods a caller may ask for; FC_METHOD_AUTO picks and combines by holdout accuracy. */
typedef enum FcMethod
{
	FC_METHOD_AUTO,
	FC_METHOD_NAIVE,
	FC_METHOD_SNAIVE,
	FC_METHOD_SES,
	FC_METHOD_HOLT,
	FC_METHOD_DAMPED,
	FC_METHOD_HW_ADD,			/* Holt-Winters, additive season */
	FC_METHOD_HW_MUL,			/* Holt-Winters, multiplicative season */
	FC_METHOD_ETS,				/* ETS model chosen by AICc */
	FC_METHOD_THETA,
	FC_METHOD_OTHETA,			/* optimised Theta */
	FC_METHOD_MSEASON,			/* multiple seasonality (e.g. 24 and 168) */
	FC_METHOD_ENSEMBLE,
	FC_METHOD_COUNT
} FcMethod;

/* Limits that forecast_run enforces (and the SQL adapter documents). */
#define FC_MIN_OBSERVATIONS 3
#define FC_MAX_HORIZON 10000
#define FC_MAX_OBSERVATIONS 10000000
#define FC_MAX_SEASON 10000

typedef enum FcStatus
{
	FC_OK = 0,
	FC_ERR_TOO_SHORT,
	FC_ERR_TOO_LONG,
	FC_ERR_NOT_FINITE,
	FC_ERR_HORIZON,
	FC_ERR_SEASON,
	FC_ERR_LEVEL,
	FC_ERR_METHOD
} FcStatus;

typedef struct FcRequest
{
	const double *y;
	int			n;
	int			horizon;
	int			season;			/* 0 = detect; 1 = none; >1 = period */
	FcMethod	method;
	double		level;			/* interval level in (0, 1) */
} FcRequest;

typedef struct FcResult
{
	double	   *point;			/* horizon values each */
	double	   *lower;
	double	   *upper;
	int			season;			/* the period used (1 = none) */
	char		model[160];		/* short description of what was fitted */
} FcResult;

extern FcStatus forecast_run(const FcRequest *req, const FcEnv *env, FcResult *res,
							 char *detail, size_t detail_len);
extern bool forecast_method_from_name(const char *name, FcMethod *method);
extern const char *forecast_method_name(FcMethod method);

#endif							/* FORECAST_H */
