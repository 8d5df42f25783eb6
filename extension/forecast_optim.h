/*
 * forecast_optim.h — bounded Nelder-Mead minimisation for model fitting.
 */
#ifndef FORECAST_OPTIM_H
#define FORECAST_OPTIM_H

#include "forecast.h"

typedef double (*FcObjective) (const double *x, void *arg);

/*
 * Minimise f over the box [lo, hi] starting from x (overwritten with the best point found).
 * Points are kept inside the box by projection; f may return HUGE_VAL for infeasible points.
 * Returns the best objective value.
 */
extern double fc_minimise(FcObjective f, void *arg, int dim, double *x,
						  const double *lo, const double *hi, int max_evals,
						  const FcEnv *env);

#endif							/* FORECAST_OPTIM_H */
