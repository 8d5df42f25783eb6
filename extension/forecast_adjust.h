/*
 * forecast_adjust.h — seasonal adjustment with one or two periods (e.g. 24 and 168 for hourly
 * data): estimate indices, divide them out (or subtract them), and put them back into a forecast.
 */
#ifndef FORECAST_ADJUST_H
#define FORECAST_ADJUST_H

#include "forecast.h"

typedef struct FcSeasonality
{
	int			m1;				/* first period; 1 = not seasonal */
	int			m2;				/* second period (a multiple of m1); 1 = none */
	int			origin1;		/* idx1 counts positions from y[origin1] */
	int			origin2;		/* idx2 counts positions from y[origin2] */
	bool		multiplicative;
	double	   *idx1;			/* m1 indices by t mod m1 */
	double	   *idx2;			/* m2 indices of what idx1 leaves, by t mod m2 */
} FcSeasonality;

/*
 * Estimate the seasonality of y[0..n) for the candidate periods m1 and m2 (1 = none); a period
 * is kept only if the series passes the seasonality test for it.  The indices of period m1
 * come from its last cycles1 cycles, those of m2 from its last cycles2 (0 = the whole series).
 */
extern void fc_adjust_estimate(const double *y, int n, int m1, int m2, int cycles1,
							   int cycles2, const FcEnv *env, FcSeasonality *s);
extern double fc_adjust_factor(const FcSeasonality *s, int t);
/* x[t] = y[t] without the seasonal effect, t = 0..n-1. */
extern void fc_adjust_remove(const FcSeasonality *s, const double *y, int n, double *x);
/* f[j] (forecast of time n + j) gets the seasonal effect back, j = 0..h-1. */
extern void fc_adjust_restore(const FcSeasonality *s, int n, int h, double *f);

#endif							/* FORECAST_ADJUST_H */
