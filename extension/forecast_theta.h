/*
 * forecast_theta.h — the Theta method (Assimakopoulos & Nikolopoulos 2000, in the form of
 * Hyndman & Billah 2003: SES with half the regression slope as drift) and an optimised Theta
 * that chooses the weight of the theta line by in-sample one-step error.
 */
#ifndef FORECAST_THETA_H
#define FORECAST_THETA_H

#include "forecast_ets.h"

/*
 * Point forecasts for steps 1..h; bounds (may be NULL) from the SES model's variance.  ses is
 * an SES (ETS(A,N,N)) fit of y when the caller has one, else NULL.
 */
extern bool fc_theta(const double *y, int n, int h, double level, const FcEtsFit *ses,
					 const FcEnv *env, double *point, double *lower, double *upper);
/* *theta receives the chosen theta coefficient; ses as for fc_theta. */
extern bool fc_theta_optimised(const double *y, int n, int h, double level,
							   const FcEtsFit *ses, const FcEnv *env, double *point,
							   double *lower, double *upper, double *theta);

#endif							/* FORECAST_THETA_H */
