/*
 * forecast_fuzz.c — libFuzzer target for forecast_run (extension/forecast_*.c): the input bytes
 * become a series of doubles (any bit pattern, NaN and infinities included), a horizon, a season,
 * a method and a level.  Every run must return an error status or finite, ordered forecasts;
 * AddressSanitizer and UBSan catch memory and arithmetic faults.  Built and run by
 * test/unit/forecast_fuzz.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit_arena.h"
#include "forecast.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FcEnv		env = {unit_arena_alloc, NULL, NULL};
	FcRequest	req;
	FcResult	res;
	char		detail[256];
	double		y[512];
	int			n;

	if (size < 4)
		return 0;
	req.horizon = 1 + data[0] % 64;
	req.season = data[1] % 40;
	req.method = (FcMethod) (data[2] % FC_METHOD_COUNT);
	req.level = (data[3] % 101) / 100.0;
	data += 4;
	size -= 4;
	/* the rest: either raw doubles (high bit of the first byte) or small integers */
	if (size > 0 && (data[0] & 0x80))
	{
		n = (int) ((size - 1) / sizeof(double));
		n = n > 512 ? 512 : n;
		memcpy(y, data + 1, n * sizeof(double));
	}
	else
	{
		n = (int) (size > 512 ? 512 : size);
		for (int i = 0; i < n; i++)
			y[i] = (double) data[i] - 100;
	}
	req.y = y;
	req.n = n;
	if (forecast_run(&req, &env, &res, detail, sizeof(detail)) == FC_OK)
	{
		for (int j = 0; j < req.horizon; j++)
			if (!isfinite(res.point[j]) || !(res.lower[j] <= res.point[j]) || !(res.point[j] <= res.upper[j]))
				abort();
	}
	unit_arena_reset();
	return 0;
}
