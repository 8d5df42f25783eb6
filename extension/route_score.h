/*
 * route_score.h — what a given route costs: distance, driving time under a speed profile by
 * hour of day (traffic factors), service and waiting time, arrival per stop, time-window
 * lateness, capacity use, feasibility, and one weighted score.
 *
 * Times are seconds (time windows and the start time in seconds since midnight); the travel
 * time of a leg is distance / speed times the traffic factor of the hour in which it starts.
 */
#ifndef ROUTE_SCORE_H
#define ROUTE_SCORE_H

#include "route_metric.h"

typedef struct RouteScoreInput
{
	const RouteMetric *m;
	const int  *order;			/* 0-based stops in visiting order */
	int			count;
	bool		closed;			/* return to the first stop at the end */
	double		start_time;		/* departure from the first stop, seconds since midnight */
	double		speed;			/* distance units per second */
	const double *traffic;		/* 24 travel-time factors by hour, NULL = all 1 */
	const double *service;		/* per stop index (not per position); NULL = none */
	const double *tw_open;		/* per stop index; NULL = no windows */
	const double *tw_close;
	const double *demand;		/* per stop index; NULL = none */
	double		capacity;		/* <= 0: unlimited */
	double		w_distance;		/* score = w_distance * distance + w_time * total time */
	double		w_time;			/* + w_lateness * lateness + w_overload * overload */
	double		w_lateness;
	double		w_overload;
} RouteScoreInput;

typedef struct RouteScore
{
	double		distance;
	double		drive_time;
	double		service_time;
	double		wait_time;
	double		total_time;		/* from departure to the end (return when closed) */
	double		end_time;
	double		lateness;		/* sum over stops of max(0, service start - window close),
								 * plus a closed route's late return to its first stop */
	int			late_stops;
	double		load;
	double		overload;
	bool		feasible;
	double		score;
} RouteScore;

/* arrival and late receive count entries each: arrival time and lateness per position. */
extern void route_score(const RouteScoreInput *in, double *arrival, double *late, RouteScore *out);

#endif							/* ROUTE_SCORE_H */
