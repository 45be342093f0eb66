/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fh_log.h"

/* The guide's debug commands ("Troubleshooting"), plus the data plane. */
static const char *const categories[] = {
	"crypto ikev2 packet", "crypto ikev2 internal", "crypto ikev2 error", "crypto ikev2 client flexvpn",
	"crypto ipsec message", "crypto ipsec states", "crypto ipsec error", "crypto interface",
	"nhrp detail", "nhrp event", "nhrp error", "nhrp packet", "nhrp routing", "dataplane", "ip routing",
};
#define N_CAT (sizeof(categories) / sizeof(categories[0]))

static bool enabled[N_CAT];
static bool muted;

void fh_log_mute(bool on)
{
	muted = on;
}

bool fh_log_muted(void)
{
	return muted;
}

void fh_log(enum fh_log_level lvl, const char *cat, const char *fmt, ...)
{
	static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (muted)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s %s: ", when, ts.tv_nsec / 1000000, names[lvl], cat);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "crypto ikev2" covers "crypto ikev2 packet" etc.; "nhrp" covers all of nhrp. */
static bool covers(const char *prefix, const char *cat)
{
	size_t n = strlen(prefix);

	return strncasecmp(prefix, cat, n) == 0 && (cat[n] == '\0' || cat[n] == ' ');
}

int fh_debug_set(const char *category, bool on)
{
	int hits = 0;

	for (unsigned i = 0; i < N_CAT; i++)
		if (covers(category, categories[i])) {
			enabled[i] = on;
			hits++;
		}
	return hits > 0 ? 0 : -1;
}

bool fh_debug_on(const char *category)
{
	for (unsigned i = 0; i < N_CAT; i++)
		if (enabled[i] && covers(category, categories[i]))
			return true;
	return false;
}

void fh_debug_list(char *buf, unsigned len)
{
	unsigned n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < N_CAT && n < len; i++)
		if (enabled[i])
			n += (unsigned)snprintf(buf + n, len - n, "%s\n", categories[i]);
}

void fh_debug_all_off(void)
{
	memset(enabled, 0, sizeof(enabled));
}

bool fh_ratelimit_ok(struct fh_ratelimit *rl, const char *cat)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec;
	if (now - rl->window_start >= FH_LOG_WINDOW_S) {
		if (rl->suppressed != 0)
			fh_log(FH_LOG_WARN, cat, "%u similar messages suppressed in the last %us", rl->suppressed,
			       FH_LOG_WINDOW_S);
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < FH_LOG_BURST) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
