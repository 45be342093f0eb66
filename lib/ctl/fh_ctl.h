/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_CTL_H
#define FH_CTL_H

/*
 * The control socket behind flexhubctl: a Unix stream socket, one request line per connection
 * ("[json ]show ip interface brief"), the answer, then close. Commands are matched word by word
 * with IOS abbreviations ("sh ip int br").
 *
 * Threading: control lcore only; fh_ctl_poll() never blocks longer than its timeout plus one
 * client's short read deadline. Errors: -1 with errno; answers to bad commands start with "% ".
 */

#include <stdbool.h>
#include <stdio.h>

/* A request line is a command, not data: IOS commands stay far below this. */
#define FH_CTL_LINE_MAX 1024
/* Words in a command, and how many trailing arguments a handler may take. */
#define FH_CTL_WORDS_MAX 16

struct fh_ctl_cmd {
	const char *words; /* "show ip interface brief"; a trailing "*" takes any further words */
	const char *help;
	/* argv holds the words after the matched ones (for "*" commands); returns 0 or -1 */
	int (*fn)(FILE *out, bool json, int argc, char **argv, void *ctx);
};

/* Run one request line against a table terminated by {NULL}. Writes "% ..." on no/ambiguous match. */
int fh_ctl_dispatch(const struct fh_ctl_cmd *tab, const char *line, FILE *out, void *ctx);

struct fh_ctl_server {
	int fd;
	char path[256];
};

int fh_ctl_open(struct fh_ctl_server *s, const char *path);
/* Serve every pending connection; wait at most timeout_ms for the first. Returns requests served. */
int fh_ctl_poll(struct fh_ctl_server *s, int timeout_ms, const struct fh_ctl_cmd *tab, void *ctx);
void fh_ctl_close(struct fh_ctl_server *s);

/* Client side: send one line, copy the answer to out. Returns 0, 1 when the answer is an error
 * ("% ..."), -1 when the daemon cannot be reached. */
int fh_ctl_request(const char *path, const char *line, FILE *out);

#endif
