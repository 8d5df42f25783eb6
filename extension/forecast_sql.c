/*
 * forecast_sql.c — the SQL face of the forecasting library: freight.forecast(vals float8[],
 * horizon int, season int, method text, level float8) → TABLE(step, point, lower, upper).
 *
 * Checks the arguments, copies the array into a plain double vector, runs forecast_run() (the
 * pure code in forecast_*.c) in a memory context of its own and returns the rows.  The model
 * fits call CHECK_FOR_INTERRUPTS through FcEnv, so statement_timeout and pg_cancel_backend stop
 * long searches; everything is palloc'd, so an ERROR leaks nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "forecast.h"

PG_FUNCTION_INFO_V1(freight_forecast);
PG_FUNCTION_INFO_V1(freight_forecast_model);

static void *
pg_forecast_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static void
pg_forecast_interrupts(void *ctx)
{
	CHECK_FOR_INTERRUPTS();
}

static void
check_not_null(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* The series as doubles; NULL elements and multi-dimensional arrays are refused. */
static double *
series_from_array(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *y;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("series must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	y = palloc(sizeof(double) * (*n > 0 ? *n : 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("series contains a null at position %d", i + 1),
					 errhint("Fill gaps first, for example with freight.forecast_timeseries().")));
		y[i] = DatumGetFloat8(elems[i]);
	}
	return y;
}

static FcMethod
method_from_text(text *name)
{
	char	   *s = text_to_cstring(name);
	FcMethod	method;

	if (!forecast_method_from_name(s, &method))
	{
		StringInfoData names;

		initStringInfo(&names);
		for (int i = 0; i < FC_METHOD_COUNT; i++)
			appendStringInfo(&names, "%s%s", i ? ", " : "", forecast_method_name((FcMethod) i));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown forecast method \"%s\"", s),
				 errhint("Use one of %s.", names.data)));
	}
	return method;
}

/* forecast_run's status as an ereport with a specific SQLSTATE. */
static void
report_status(FcStatus status, const char *detail)
{
	int			code = ERRCODE_INVALID_PARAMETER_VALUE;
	const char *msg = "invalid forecast request";

	switch (status)
	{
		case FC_OK:
			return;
		case FC_ERR_TOO_SHORT:
			msg = "series is too short to forecast";
			break;
		case FC_ERR_TOO_LONG:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			msg = "series is too long to forecast";
			break;
		case FC_ERR_NOT_FINITE:
			code = ERRCODE_DATA_EXCEPTION;
			msg = "series contains a value that is not finite";
			break;
		case FC_ERR_HORIZON:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			msg = "horizon is out of range";
			break;
		case FC_ERR_SEASON:
			msg = "season does not fit the series";
			break;
		case FC_ERR_LEVEL:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			msg = "interval level is out of range";
			break;
		case FC_ERR_METHOD:
			break;
	}
	ereport(ERROR, (errcode(code), errmsg("%s", msg), errdetail("%s", detail)));
}

/*
 * Check the arguments and run the forecast; the result lives in the returned memory context,
 * a child of the current one, which the caller deletes.
 */
static MemoryContext
run_forecast(FunctionCallInfo fcinfo, FcRequest *req, FcResult *res)
{
	FcEnv		env;
	FcStatus	status;
	char		detail[256] = "";
	MemoryContext work;
	MemoryContext old;

	check_not_null(fcinfo, 0, "series");
	check_not_null(fcinfo, 1, "horizon");
	check_not_null(fcinfo, 3, "method");
	check_not_null(fcinfo, 4, "level");
	if (!PG_ARGISNULL(2) && PG_GETARG_INT32(2) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("season must be at least 1"),
				 errdetail("The season was %d.", PG_GETARG_INT32(2)),
				 errhint("Use NULL to detect the season, 1 for none.")));

	work = AllocSetContextCreate(CurrentMemoryContext, "freight forecast", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	req->y = series_from_array(PG_GETARG_ARRAYTYPE_P(0), &req->n);
	req->horizon = PG_GETARG_INT32(1);
	req->season = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	req->method = method_from_text(PG_GETARG_TEXT_PP(3));
	req->level = PG_GETARG_FLOAT8(4);
	env.alloc = pg_forecast_alloc;
	env.check_interrupts = pg_forecast_interrupts;
	env.ctx = work;
	status = forecast_run(req, &env, res, detail, sizeof(detail));
	MemoryContextSwitchTo(old);
	report_status(status, detail);
	return work;
}

Datum
freight_forecast(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FcRequest	req;
	FcResult	res;
	MemoryContext work;

	InitMaterializedSRF(fcinfo, 0);
	work = run_forecast(fcinfo, &req, &res);
	for (int j = 0; j < req.horizon; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(j + 1);
		values[1] = Float8GetDatum(res.point[j]);
		values[2] = Float8GetDatum(res.lower[j]);
		values[3] = Float8GetDatum(res.upper[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(work);
	PG_RETURN_NULL();
}

/* Which model (or ensemble) freight.forecast would use, with the season it settled on. */
Datum
freight_forecast_model(PG_FUNCTION_ARGS)
{
	FcRequest	req;
	FcResult	res;
	MemoryContext work = run_forecast(fcinfo, &req, &res);
	text	   *out = cstring_to_text(res.model);

	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(out);
}
