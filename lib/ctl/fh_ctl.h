/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_CTL_H
#define FH_CTL_H

/*
 * The control socket behind flexhubctl: a Unix stream socket, one request line per connection
 * ("[json ]show ip interface brief"), the answer, then close. Commands are matched word by word
 * with IOS abbreviations ("sh ip int br").
 *
 * Two kinds of command. A plain one (fn) writes its whole answer in one call. A streamed one
 * (next) writes it in chunks through a cursor: the server calls it again on a later poll once the
 * previous chunk has gone out to the client, so a 10,000-entry table never holds the control lcore
 * (which also runs IKE) for longer than one chunk, and a client that stops reading stops the
 * command instead of growing a buffer.
 *
 * Threading: control lcore only; fh_ctl_poll() never blocks longer than its timeout: sockets are
 * non-blocking and every connection is a small state machine (read the line, write, call the
 * cursor again). Errors: -1 with errno; answers to bad commands start with "% ".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fh_json.h"

/* A request line is a command, not data: IOS commands stay far below this. */
#define FH_CTL_LINE_MAX 1024
/* Words in a command, and how many trailing arguments a handler may take. */
#define FH_CTL_WORDS_MAX 16

/* Bytes a streamed command writes per call, about: a few hundred table rows of show output. */
#define FH_CTL_CHUNK 16384
/* Connections served at once; more wait in the listen backlog. */
#define FH_CTL_CONNS_MAX 8

/*
 * Where a streamed command is between calls. The server zeroes it, fills json/argc/argv and
 * calls next(); the handler keeps its place in pos (and whatever else it needs in gen) and
 * writes entries until fh_ctl_chunk_full(). A JSON answer keeps its writer in js across calls:
 * initialise it on the first call (pos == 0); before every later call the server points js.out
 * at that call's out, so commas and nesting go on where they stopped.
 *
 * Between calls the tables may change (SAs deleted, peers added): a handler should resume by a
 * stable key or handle (the next SPI above the last one written, a slot index with a generation),
 * not by the position of an entry in an array that shifts.
 */
struct fh_ctl_cursor {
	bool json;     /* the request had the "json " prefix */
	int argc;      /* words after the command words ("*" commands) */
	char **argv;   /* valid until the command is done */
	uint64_t pos;  /* the handler's: where to go on; 0 on the first call */
	uint64_t gen;  /* the handler's: e.g. the generation of the table pos indexes */
	struct fh_json js;
	size_t budget; /* bytes per call (FH_CTL_CHUNK) */
	long start;    /* private: where this call's output began in out */
};

/* True when this call has written its share: stop after the current entry and return 1. */
bool fh_ctl_chunk_full(const struct fh_ctl_cursor *cur, FILE *out);

struct fh_ctl_cmd {
	const char *words; /* "show ip interface brief"; a trailing "*" takes any further words */
	const char *help;
	/* plain: argv holds the words after the matched ones (for "*" commands); returns 0 or -1 */
	int (*fn)(FILE *out, bool json, int argc, char **argv, void *ctx);
	/* streamed (instead of fn): returns 1 when there is more (call again), 0 when done, -1 on an
	 * error (done; the answer written so far goes out) */
	int (*next)(FILE *out, struct fh_ctl_cursor *cur, void *ctx);
};

/* Run one request line against a table terminated by {NULL}. Writes "% ..." on no/ambiguous match.
 * A streamed command runs to its end here, chunk after chunk into out (tests, one-shot callers). */
int fh_ctl_dispatch(const struct fh_ctl_cmd *tab, const char *line, FILE *out, void *ctx);

/* One client: its request line, then the answer pending on its socket. Private to ctl.c. */
struct fh_ctl_conn {
	int fd; /* -1 = free slot */
	bool reading, streaming;
	char line[FH_CTL_LINE_MAX];
	size_t n;
	uint64_t deadline_ms; /* reading: until the line must be there; writing: until progress */
	char *out;            /* answer bytes not yet written */
	size_t len, off;
	const struct fh_ctl_cmd *cmd; /* streamed command in progress */
	struct fh_ctl_cursor cur;
	char args[FH_CTL_LINE_MAX]; /* storage of cur.argv */
	char *argv[FH_CTL_WORDS_MAX + 1];
};

struct fh_ctl_server {
	int fd;
	bool open; /* fh_ctl_open() succeeded: a zeroed struct is a closed server */
	char path[256];
	struct fh_ctl_conn conn[FH_CTL_CONNS_MAX];
};

/* Listen on path (replacing a stale socket file, mode 0600). 0, or -1 with errno. */
int fh_ctl_open(struct fh_ctl_server *s, const char *path);
/* Accept connections, read their request lines, write what is pending and call streamed
 * commands for their next chunk; waits at most timeout_ms for something to do. Returns the
 * requests dispatched in this call. */
int fh_ctl_poll(struct fh_ctl_server *s, int timeout_ms, const struct fh_ctl_cmd *tab, void *ctx);
/* Close the socket and every connection; safe on a zeroed or never-opened server. */
void fh_ctl_close(struct fh_ctl_server *s);

/* Client side: send one line, copy the answer to out. Returns 0, 1 when the answer is an error
 * ("% ..."), -1 when the daemon cannot be reached. */
int fh_ctl_request(const char *path, const char *line, FILE *out);

#endif
