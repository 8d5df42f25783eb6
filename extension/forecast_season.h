/*
 * forecast_season.h — seasonality: autocorrelation, the M4 seasonality test, period detection
 * and classical decomposition indices.
 */
#ifndef FORECAST_SEASON_H
#define FORECAST_SEASON_H

#include <stdbool.h>

/* Sample autocorrelations r[1..max_lag] (r[0] = 1); r must hold max_lag + 1 values. */
extern void fc_acf(const double *y, int n, int max_lag, double *r);

/* The M4 90% test: |r_m| > 1.645 sqrt(1 + 2 sum_{k<m} r_k^2) / sqrt(n); needs n >= 3m. */
extern bool fc_is_seasonal(const double *y, int n, int m, double *scratch);

/*
 * Strongest ACF peak between 2 and min(n / 3, max_period) that is significant at 5% after a
 * Bonferroni correction for the number of lags tried; 1 when none.  scratch holds
 * min(n / 3, max_period) + 2 values.
 */
extern int	fc_detect_season(const double *y, int n, int max_period, double *scratch);

/*
 * Classical decomposition (as R's decompose): seasonal indices idx[0..m-1] for positions
 * t mod m counted from y[0]; multiplicative indices average 1, additive ones 0.  Needs
 * n >= 2m; returns false otherwise or when a multiplicative trend is not positive.
 */
extern bool fc_seasonal_indices(const double *y, int n, int m, bool multiplicative,
								double *idx, double *scratch);

#endif							/* FORECAST_SEASON_H */
