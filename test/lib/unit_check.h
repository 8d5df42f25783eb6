/*
 * unit_check.h — the pass/fail bookkeeping shared by the C unit tests under test/unit.
 *
 * CHECK(cond) or CHECK(cond, "format", args...) counts a passed or failed check and prints the
 * failing ones with file, line and the condition; unit_summary() prints the "N passed, M failed"
 * line test/run_all.sh reads and returns the exit status.
 */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int	unit_passed;
static int	unit_failed;

static void unit_check(int ok, const char *file, int line, const char *cond, const char *fmt, ...)
			__attribute__((format(printf, 5, 6)));

static void
unit_check(int ok, const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list		ap;

	if (ok)
	{
		unit_passed++;
		return;
	}
	unit_failed++;
	printf("FAIL %s:%d: %s", file, line, cond);
	if (fmt[2] != '\0')		/* fmt is ": " and the caller's format, if any */
	{
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
}

#define CHECK(cond, ...) unit_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond, ": " __VA_ARGS__)

static inline int
unit_summary(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif							/* UNIT_CHECK_H */
