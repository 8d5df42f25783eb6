/*
 * forecast_optim.c — bounded Nelder-Mead (Lagarias et al. 1998 coefficients) for the small,
 * smooth-ish likelihoods of forecasting models (2-5 parameters).
 *
 * Bounds are enforced by projecting every trial point onto the box; the initial simplex steps
 * 10% of each box width away from the start (inwards when the start is on the upper bound).
 * A search stops after max_evals evaluations or when the simplex's objective values agree to
 * a relative 1e-6, and is restarted from its best point while that still improves it.
 * env->check_interrupts is called once per iteration.
 */
#include "forecast_optim.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define FC_NM_MAX_DIM 8
#define FC_NM_RESTARTS 3

static void
project(double *x, const double *lo, const double *hi, int dim)
{
	for (int i = 0; i < dim; i++)
	{
		if (x[i] < lo[i])
			x[i] = lo[i];
		if (x[i] > hi[i])
			x[i] = hi[i];
	}
}

static double
evaluate(FcObjective f, void *arg, double *x, const double *lo, const double *hi, int dim,
		 int *evals)
{
	double		v;

	project(x, lo, hi, dim);
	(*evals)++;
	v = f(x, arg);
	return isnan(v) ? HUGE_VAL : v;
}

/* Point = centroid + t * (centroid - worst). */
static void
along(double *out, const double *centroid, const double *worst, double t, int dim)
{
	for (int i = 0; i < dim; i++)
		out[i] = centroid[i] + t * (centroid[i] - worst[i]);
}

static void
sort_simplex(double simplex[][FC_NM_MAX_DIM], double *fv, int dim)
{
	for (int i = 1; i <= dim; i++)
	{
		for (int j = i; j > 0 && fv[j] < fv[j - 1]; j--)
		{
			double		tf = fv[j];
			double		tx[FC_NM_MAX_DIM];

			fv[j] = fv[j - 1];
			fv[j - 1] = tf;
			memcpy(tx, simplex[j], sizeof(tx));
			memcpy(simplex[j], simplex[j - 1], sizeof(tx));
			memcpy(simplex[j - 1], tx, sizeof(tx));
		}
	}
}

static double
nelder_mead(FcObjective f, void *arg, int dim, double *x, const double *lo, const double *hi,
			int max_evals, const FcEnv *env, int *used)
{
	double		simplex[FC_NM_MAX_DIM + 1][FC_NM_MAX_DIM];
	double		fv[FC_NM_MAX_DIM + 1];
	double		centroid[FC_NM_MAX_DIM];
	double		xr[FC_NM_MAX_DIM], xe[FC_NM_MAX_DIM], xc[FC_NM_MAX_DIM];
	int			evals = 0;

	if (dim < 1 || dim > FC_NM_MAX_DIM)
		return HUGE_VAL;

	for (int i = 0; i <= dim; i++)
	{
		memcpy(simplex[i], x, sizeof(double) * dim);
		if (i > 0)
		{
			double		step = 0.1 * (hi[i - 1] - lo[i - 1]);

			if (simplex[i][i - 1] + step > hi[i - 1])
				step = -step;
			simplex[i][i - 1] += step;
		}
		fv[i] = evaluate(f, arg, simplex[i], lo, hi, dim, &evals);
	}

	while (evals < max_evals)
	{
		double		fr;

		if (env && env->check_interrupts)
			env->check_interrupts(env->ctx);
		sort_simplex(simplex, fv, dim);
		if (fabs(fv[dim] - fv[0]) <= 1e-6 * (fabs(fv[0]) + 1e-6))
			break;

		for (int j = 0; j < dim; j++)
		{
			centroid[j] = 0;
			for (int i = 0; i < dim; i++)
				centroid[j] += simplex[i][j] / dim;
		}

		along(xr, centroid, simplex[dim], 1.0, dim);
		fr = evaluate(f, arg, xr, lo, hi, dim, &evals);
		if (fr < fv[0])
		{
			double		fe;

			along(xe, centroid, simplex[dim], 2.0, dim);
			fe = evaluate(f, arg, xe, lo, hi, dim, &evals);
			memcpy(simplex[dim], fe < fr ? xe : xr, sizeof(double) * dim);
			fv[dim] = fe < fr ? fe : fr;
		}
		else if (fr < fv[dim - 1])
		{
			memcpy(simplex[dim], xr, sizeof(double) * dim);
			fv[dim] = fr;
		}
		else
		{
			bool		outside = fr < fv[dim];
			double		fc;

			along(xc, centroid, simplex[dim], outside ? 0.5 : -0.5, dim);
			fc = evaluate(f, arg, xc, lo, hi, dim, &evals);
			if (fc < (outside ? fr : fv[dim]))
			{
				memcpy(simplex[dim], xc, sizeof(double) * dim);
				fv[dim] = fc;
			}
			else
			{
				/* shrink towards the best point */
				for (int i = 1; i <= dim; i++)
				{
					for (int j = 0; j < dim; j++)
						simplex[i][j] = simplex[0][j] + 0.5 * (simplex[i][j] - simplex[0][j]);
					fv[i] = evaluate(f, arg, simplex[i], lo, hi, dim, &evals);
				}
			}
		}
	}
	sort_simplex(simplex, fv, dim);
	memcpy(x, simplex[0], sizeof(double) * dim);
	*used = evals;
	return fv[0];
}

static bool
on_boundary(const double *x, const double *lo, const double *hi, int dim)
{
	for (int i = 0; i < dim; i++)
		if (x[i] <= lo[i] || x[i] >= hi[i])
			return true;
	return false;
}

/*
 * Projection can flatten the simplex onto a face of the box, where it stalls; so a search that
 * ends on the boundary restarts from its best point with a fresh simplex until a restart no
 * longer improves it.
 */
double
fc_minimise(FcObjective f, void *arg, int dim, double *x, const double *lo, const double *hi,
			int max_evals, const FcEnv *env)
{
	int			used = 0;
	double		best = nelder_mead(f, arg, dim, x, lo, hi, max_evals, env, &used);

	for (int restart = 0; restart < FC_NM_RESTARTS && used < max_evals &&
		 on_boundary(x, lo, hi, dim); restart++)
	{
		int			more = 0;
		double		again = nelder_mead(f, arg, dim, x, lo, hi, max_evals - used, env, &more);

		used += more;
		if (!(again < best - 1e-6 * (fabs(best) + 1e-6)))
		{
			best = again < best ? again : best;
			break;
		}
		best = again;
	}
	return best;
}
