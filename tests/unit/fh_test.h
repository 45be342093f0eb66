/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_TEST_H
#define FH_TEST_H

/* A tiny TAP producer: each check is one numbered "ok"/"not ok" line; meson counts them. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int fh_test_n, fh_test_failed;

__attribute__((format(printf, 2, 3))) static bool fh_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	fh_test_n++;
	printf("%s %d - ", ok ? "ok" : "not ok", fh_test_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		fh_test_failed++;
	fflush(stdout);
	return ok;
}

static int fh_test_done(void)
{
	printf("1..%d\n", fh_test_n);
	return fh_test_failed ? 1 : 0;
}

#endif
