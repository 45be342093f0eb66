/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_LOG_H
#define FH_LOG_H

/*
 * Logging for the control lcore (workers count, they never log). Lines go to stderr as
 * "<time> <level> <category>: message". Debug lines print only while their IOS-style category is
 * switched on ("debug crypto ikev2 packet"). Errors caused by peers go through a rate limiter so
 * a flood cannot drown the log: at most FH_LOG_BURST lines per FH_LOG_WINDOW_S per limiter, then
 * one line saying how many were suppressed.
 *
 * Threading: control lcore (and main before launch) only.
 */

#include <stdbool.h>
#include <stdint.h>

enum fh_log_level { FH_LOG_ERR, FH_LOG_WARN, FH_LOG_INFO, FH_LOG_DEBUG };

#define FH_LOG_BURST 10
#define FH_LOG_WINDOW_S 10

void fh_log(enum fh_log_level lvl, const char *cat, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Drop every line (true) or print again (false). For fuzz targets, which would otherwise spend
 * most of their time formatting and writing lines nobody reads; the daemon never mutes. */
void fh_log_mute(bool on);
bool fh_log_muted(void);

/* Debug categories: set/clear by name ("crypto ikev2" sets every "crypto ikev2 *"). */
int fh_debug_set(const char *category, bool on);
bool fh_debug_on(const char *category);
/* Names of the categories that are on, one per line, into buf. */
void fh_debug_list(char *buf, unsigned len);
void fh_debug_all_off(void);

#define fh_debug(cat, ...)                                  \
	do {                                                \
		if (fh_debug_on(cat))                       \
			fh_log(FH_LOG_DEBUG, cat, __VA_ARGS__); \
	} while (0)

struct fh_ratelimit {
	uint64_t window_start; /* seconds */
	uint32_t printed;
	uint32_t suppressed;
};

/* True when a line may be printed now; says how many were suppressed when a window reopens. */
bool fh_ratelimit_ok(struct fh_ratelimit *rl, const char *cat);

#endif
