/*
 * forecast_ensemble.h — the 'auto' ensemble (forecast_ensemble.c) and the helpers it shares
 * with forecast_auto.c.
 */
#ifndef FORECAST_ENSEMBLE_H
#define FORECAST_ENSEMBLE_H

#include "forecast.h"
#include "forecast_adjust.h"

/* What a forecast run works with after the request is checked. */
typedef struct FcWork
{
	const FcEnv *env;
	double		level;
	int			m1,
				m2;				/* candidate periods (1 = none) */
} FcWork;

/* The ensemble's forecast of y[0..n) into res; false when the series is too short for it. */
extern bool fc_ensemble_forecast(const FcWork *w, const double *y, int n, int h, FcResult *res);

extern double *fc_alloc_doubles(const FcEnv *env, int count);
/* f[j] = y[n - m + j mod m]: the last cycle repeated (m = 1: the last value). */
extern void fc_seasonal_naive(const double *y, int n, int m, int h, double *f);
/* "name, season 24", "name, seasons 24+168" or "name" */
extern void fc_describe_model(const char *name, const FcSeasonality *s, char *buf, size_t len);

#endif							/* FORECAST_ENSEMBLE_H */
