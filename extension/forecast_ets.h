/*
 * forecast_ets.h — exponential smoothing state-space models ETS(error, trend, season)
 * (Hyndman, Koehler, Ord & Snyder 2008), fitted by maximum likelihood and selected by AICc.
 */
#ifndef FORECAST_ETS_H
#define FORECAST_ETS_H

#include "forecast.h"

typedef enum FcComponent
{
	FC_NONE,
	FC_ADD,
	FC_MUL
} FcComponent;

typedef struct FcEtsSpec
{
	FcComponent error;			/* FC_ADD or FC_MUL */
	FcComponent trend;			/* FC_NONE or FC_ADD */
	bool		damped;
	FcComponent season;			/* FC_NONE, FC_ADD or FC_MUL */
	int			m;				/* period; ignored without a season */
} FcEtsSpec;

typedef struct FcEtsFit
{
	FcEtsSpec	spec;
	double		alpha,
				beta,
				gamma,
				phi;
	double		level0,
				slope0;			/* initial states (estimated) */
	double		level,
				slope;			/* states after the last observation */
	double	   *season;			/* m states; season[t % m] belongs to time t */
	int			n;				/* observations fitted */
	double		sigma2;			/* variance of the (relative, for FC_MUL errors) errors */
	double		aicc;
} FcEtsFit;

/* Fit one model; false when the model does not suit the data (too short, non-positive). */
extern bool fc_ets_fit(const double *y, int n, FcEtsSpec spec, const FcEnv *env,
					   FcEtsFit *fit);

/*
 * A non-seasonal fit's parameters and initial states run over another series with the same
 * start (e.g. a prefix of the fitted one, for holdout forecasts without refitting).
 */
extern bool fc_ets_refilter(const FcEtsFit *fit, const double *y, int n, FcEtsFit *out);

/* Fit every admissible model with period m (1 = non-seasonal) and keep the lowest AICc. */
extern bool fc_ets_select(const double *y, int n, int m, const FcEnv *env, FcEtsFit *best);

/*
 * Point forecasts and interval bounds at the given level for steps 1..h: analytic for
 * additive-error models with additive or no components, simulated (seeded) otherwise.
 * lower/upper may be NULL.
 */
extern void fc_ets_forecast(const FcEtsFit *fit, int h, double level, const FcEnv *env,
							double *point, double *lower, double *upper);

extern void fc_ets_describe(const FcEtsSpec *spec, char *buf, int len);

#endif							/* FORECAST_ETS_H */
