/*
 * webhook_retry.c — outcome classification, retry schedule parsing and backoff with jitter
 * (see webhook_retry.h).
 */
#include "webhook_retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

WebhookOutcome
webhook_classify(long http_status)
{
	if (http_status >= 200 && http_status <= 299)
		return WEBHOOK_DELIVERED;
	if (http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500)
		return WEBHOOK_RETRY;
	if (http_status == 410)
		return WEBHOOK_GONE;
	return WEBHOOK_REJECTED;
}

/* Milliseconds per unit, or 0 for an unknown unit. */
static int64_t
unit_ms(const char *unit, size_t len)
{
	static const struct
	{
		const char *name;
		int64_t		ms;
	}			units[] = {
		{"", 1000}, {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && strncmp(units[i].name, unit, len) == 0)
			return units[i].ms;
	return 0;
}

int
webhook_schedule_parse(const char *text, int64_t delays_ms[WEBHOOK_SCHEDULE_MAX],
					   char *err, size_t err_size)
{
	const char *p = text;
	int			n = 0;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;)
	{
		char	   *end;
		const char *unit;
		long long	value;
		int64_t		ms;

		while (isspace((unsigned char) *p))
			p++;
		errno = 0;
		value = strtoll(p, &end, 10);
		if (end == p || errno != 0 || value < 0 || value > 1000000000LL)
		{
			snprintf(err, err_size, "Entry %d is not a non-negative whole number with a unit.", n + 1);
			return -1;
		}
		unit = end;
		while (isalpha((unsigned char) *end))
			end++;
		if ((ms = unit_ms(unit, (size_t) (end - unit))) == 0)
		{
			snprintf(err, err_size, "Entry %d has an unknown unit (use ms, s, min, h or d).", n + 1);
			return -1;
		}
		if (n == WEBHOOK_SCHEDULE_MAX)
		{
			snprintf(err, err_size, "The schedule lists more than %d retries.", WEBHOOK_SCHEDULE_MAX);
			return -1;
		}
		delays_ms[n++] = (int64_t) value * ms;
		while (isspace((unsigned char) *end))
			end++;
		if (*end == '\0')
			return n;
		if (*end != ',')
		{
			snprintf(err, err_size, "Entry %d is not followed by a comma.", n);
			return -1;
		}
		p = end + 1;
	}
}

int64_t
webhook_retry_delay_ms(const int64_t *delays_ms, int ndelays, int attempts_made,
					   int64_t retry_after_ms, double random01)
{
	int64_t		base;

	if (attempts_made < 1 || attempts_made > ndelays)
		return -1;
	if (retry_after_ms > 0)
		return retry_after_ms < WEBHOOK_RETRY_AFTER_MAX_MS ? retry_after_ms : WEBHOOK_RETRY_AFTER_MAX_MS;
	base = delays_ms[attempts_made - 1];
	return base + (int64_t) ((double) base * 0.2 * (random01 - 0.5));
}
