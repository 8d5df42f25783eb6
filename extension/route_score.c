/*
 * route_score.c — simulate a vehicle along a given route and score it.  No PostgreSQL
 * dependency.
 */
#include "route_score.h"

#include <math.h>
#include <string.h>

static double
leg_time(const RouteScoreInput *in, double depart, double dist)
{
	double		factor = 1.0;

	/* a clock that has overflowed has no hour of day; the caller rejects the result */
	if (in->traffic && isfinite(depart))
	{
		double		day = fmod(depart, 86400.0);
		int			hour;

		if (day < 0)
			day += 86400.0;
		hour = (int) (day / 3600.0);
		factor = in->traffic[hour < 0 ? 0 : hour > 23 ? 23 : hour];
	}
	return dist / in->speed * factor;
}

void
route_score(const RouteScoreInput *in, double *arrival, double *late, RouteScore *out)
{
	double		t = in->start_time;
	int			legs = in->closed ? in->count : in->count - 1;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < in->count; i++)
	{
		int			stop = in->order[i];
		double		start;

		if (i > 0)
		{
			double		d = route_dist(in->m, in->order[i - 1], stop);
			double		drive = leg_time(in, t, d);

			out->distance += d;
			out->drive_time += drive;
			t += drive;
		}
		arrival[i] = t;
		start = t;
		if (in->tw_open && start < in->tw_open[stop])
		{
			out->wait_time += in->tw_open[stop] - start;
			start = in->tw_open[stop];
		}
		late[i] = (in->tw_close && start > in->tw_close[stop]) ? start - in->tw_close[stop] : 0.0;
		if (late[i] > 0)
		{
			out->lateness += late[i];
			out->late_stops++;
		}
		if (in->service)
		{
			out->service_time += in->service[stop];
			start += in->service[stop];
		}
		t = start;
		if (in->demand)
			out->load += in->demand[stop];
	}
	if (legs == in->count && in->count > 1)
	{
		double		d = route_dist(in->m, in->order[in->count - 1], in->order[0]);
		double		drive = leg_time(in, t, d);

		out->distance += d;
		out->drive_time += drive;
		t += drive;
		/* back at the first stop (the depot) after it closes */
		if (in->tw_close && t > in->tw_close[in->order[0]])
		{
			out->lateness += t - in->tw_close[in->order[0]];
			out->late_stops++;
		}
	}
	out->end_time = t;
	out->total_time = t - in->start_time;
	if (in->capacity > 0 && out->load > in->capacity)
		out->overload = out->load - in->capacity;
	out->feasible = out->late_stops == 0 && out->overload == 0;
	out->score = in->w_distance * out->distance + in->w_time * out->total_time +
		in->w_lateness * out->lateness + in->w_overload * out->overload;
}
