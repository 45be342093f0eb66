/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fh_ctl.h"

/* A client that connects and says nothing gets 200 ms to send its line (then it is answered as is). */
#define FH_CTL_READ_MS 200
/* A client that stops reading its answer is dropped after this long without progress; it holds
 * one chunk meanwhile, never the control lcore. */
#define FH_CTL_STALL_MS 5000

static int split(char *buf, char **w, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *p = strtok_r(buf, " \t\r\n", &save); p != NULL; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		w[n++] = p;
	}
	return n;
}

/* How many input words cmd consumes (each input word a prefix of the command word), or -1. */
static int match(const char *cmd, char **in, int n_in, bool *exact, bool *rest)
{
	char buf[256], *cw[FH_CTL_WORDS_MAX];
	int n_cw, i;

	snprintf(buf, sizeof(buf), "%s", cmd);
	n_cw = split(buf, cw, FH_CTL_WORDS_MAX);
	*rest = n_cw > 0 && strcmp(cw[n_cw - 1], "*") == 0;
	if (*rest)
		n_cw--;
	if (n_cw < 0 || (n_in > n_cw && !*rest))
		return -1;
	*exact = true;
	for (i = 0; i < n_cw && i < n_in; i++) {
		size_t l = strlen(in[i]);

		if (strncasecmp(cw[i], in[i], l) != 0)
			return -1;
		if (l != strlen(cw[i]))
			*exact = false;
	}
	/* every word typed fits, but the command needs more ("show ip") */
	if (n_in < n_cw)
		return -2;
	return n_cw;
}

/*
 * Match line against tab. Returns the command with json and its argument words (pointing into buf
 * and w, which the caller keeps as long as it needs them), or NULL with the "% ..." answer
 * written to out.
 */
static const struct fh_ctl_cmd *lookup(const struct fh_ctl_cmd *tab, const char *line, char *buf, char **w,
				       bool *json, int *argc, char ***argv, FILE *out)
{
	const struct fh_ctl_cmd *hit = NULL;
	int n, used = 0, hits = 0, partial = 0;
	char **in;

	snprintf(buf, FH_CTL_LINE_MAX, "%s", line);
	n = split(buf, w, FH_CTL_WORDS_MAX + 1);
	if (n < 0) {
		fprintf(out, "%% Too many words\n");
		return NULL;
	}
	in = w;
	*json = false;
	if (n > 0 && strcmp(w[0], "json") == 0) {
		*json = true;
		in++;
		n--;
	}
	if (n == 0) {
		fprintf(out, "%% Incomplete command\n");
		return NULL;
	}
	for (const struct fh_ctl_cmd *c = tab; c->words != NULL; c++) {
		bool exact, rest;
		int k = match(c->words, in, n, &exact, &rest);

		if (k == -2)
			partial++;
		if (k < 0)
			continue;
		if (exact && !rest && k == n) { /* a full spelling wins over abbreviations of others */
			hit = c;
			used = k;
			hits = 1;
			break;
		}
		hit = c;
		used = k;
		hits++;
	}
	if (hits == 0 && partial > 0) {
		fprintf(out, "%% Incomplete command: '%s'\n", line);
		return NULL;
	}
	if (hits == 0) {
		fprintf(out, "%% Invalid input detected: '%s'\n", line);
		return NULL;
	}
	if (hits > 1) {
		fprintf(out, "%% Ambiguous command: '%s'\n", line);
		return NULL;
	}
	*argc = n - used;
	*argv = in + used;
	return hit;
}

bool fh_ctl_chunk_full(const struct fh_ctl_cursor *cur, FILE *out)
{
	long at = ftell(out);

	return at >= 0 && (size_t)(at - cur->start) >= cur->budget;
}

static int run_next(const struct fh_ctl_cmd *cmd, struct fh_ctl_cursor *cur, FILE *out, void *ctx)
{
	cur->start = ftell(out);
	cur->js.out = out;
	return cmd->next(out, cur, ctx);
}

int fh_ctl_dispatch(const struct fh_ctl_cmd *tab, const char *line, FILE *out, void *ctx)
{
	char buf[FH_CTL_LINE_MAX], *w[FH_CTL_WORDS_MAX + 1], **argv;
	const struct fh_ctl_cmd *cmd;
	struct fh_ctl_cursor cur;
	bool json;
	int argc, rc;

	cmd = lookup(tab, line, buf, w, &json, &argc, &argv, out);
	if (cmd == NULL)
		return -1;
	if (cmd->next == NULL)
		return cmd->fn(out, json, argc, argv, ctx);
	cur = (struct fh_ctl_cursor){.json = json, .argc = argc, .argv = argv, .budget = FH_CTL_CHUNK};
	do
		rc = run_next(cmd, &cur, out, ctx);
	while (rc > 0);
	return rc;
}

int fh_ctl_open(struct fh_ctl_server *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	s->fd = -1;
	s->open = false;
	for (int i = 0; i < FH_CTL_CONNS_MAX; i++)
		s->conn[i] = (struct fh_ctl_conn){.fd = -1};
	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(s->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	unlink(path);
	/* the socket answers show running-config: root only */
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(s->fd, 16) < 0) {
		int e = errno;

		close(s->fd);
		s->fd = -1;
		errno = e;
		return -1;
	}
	s->open = true;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void conn_close(struct fh_ctl_conn *c)
{
	close(c->fd);
	free(c->out);
	*c = (struct fh_ctl_conn){.fd = -1};
}

/* The next chunk of c's streamed command becomes what is pending. */
static void conn_next(struct fh_ctl_conn *c, void *ctx)
{
	FILE *f;
	int rc;

	free(c->out);
	c->out = NULL;
	c->len = c->off = 0;
	f = open_memstream(&c->out, &c->len);
	if (f == NULL) {
		c->streaming = false;
		return;
	}
	rc = run_next(c->cmd, &c->cur, f, ctx);
	fclose(f);
	if (rc <= 0)
		c->streaming = false;
}

/* The request line is complete (or its time is up): run it; the answer becomes what is pending. */
static void conn_dispatch(struct fh_ctl_conn *c, const struct fh_ctl_cmd *tab, void *ctx, uint64_t now)
{
	const struct fh_ctl_cmd *cmd;
	char **argv = NULL;
	bool json = false;
	int argc = 0;
	FILE *f;

	c->line[c->n] = '\0';
	c->line[strcspn(c->line, "\r\n")] = '\0';
	c->reading = false;
	c->deadline_ms = now + FH_CTL_STALL_MS;
	f = open_memstream(&c->out, &c->len);
	if (f == NULL)
		return;
	cmd = lookup(tab, c->line, c->args, c->argv, &json, &argc, &argv, f);
	if (cmd != NULL && cmd->next == NULL)
		cmd->fn(f, json, argc, argv, ctx);
	fclose(f);
	if (cmd != NULL && cmd->next != NULL) {
		c->cmd = cmd;
		c->streaming = true;
		c->cur = (struct fh_ctl_cursor){.json = json, .argc = argc, .argv = argv, .budget = FH_CTL_CHUNK};
		conn_next(c, ctx);
	}
}

/* Read what has arrived: 1 when the line is complete, 0 to wait, -1 on a socket error. */
static int conn_read(struct fh_ctl_conn *c)
{
	while (c->n < sizeof(c->line) - 1) {
		ssize_t r = read(c->fd, c->line + c->n, sizeof(c->line) - 1 - c->n);

		if (r > 0) {
			c->n += (size_t)r;
			if (memchr(c->line + c->n - (size_t)r, '\n', (size_t)r) != NULL)
				return 1;
			continue;
		}
		if (r == 0)
			return 1; /* the client shut its side: what came is the line */
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	}
	return 1;
}

/*
 * Write what is pending; when it is all out and the command streams, make one more chunk and
 * write that too, but only one per poll (made: this poll's chunk is made already), so each poll
 * costs at most one chunk of work per connection.
 * Returns false when the connection is done (answered, or the client went away).
 */
static bool conn_write(struct fh_ctl_conn *c, void *ctx, uint64_t now, bool made)
{
	for (;;) {
		while (c->off < c->len) {
			ssize_t w = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return true;
			if (w <= 0)
				return false;
			c->off += (size_t)w;
			c->deadline_ms = now + FH_CTL_STALL_MS;
		}
		if (!c->streaming)
			return false;
		if (made)
			return true;
		conn_next(c, ctx);
		made = true;
	}
}

/* A connection's turn: read, dispatch, write as far as it goes. false = close it. */
static bool conn_step(struct fh_ctl_conn *c, const struct fh_ctl_cmd *tab, void *ctx, uint64_t now, int *served)
{
	bool made = false;

	if (c->reading) {
		int r = conn_read(c);

		if (r < 0)
			return false;
		if (r == 0 && now < c->deadline_ms)
			return true;
		conn_dispatch(c, tab, ctx, now);
		(*served)++;
		made = true;
	}
	if (!conn_write(c, ctx, now, made))
		return false;
	return now < c->deadline_ms; /* a client that stopped reading for FH_CTL_STALL_MS is dropped */
}

int fh_ctl_poll(struct fh_ctl_server *s, int timeout_ms, const struct fh_ctl_cmd *tab, void *ctx)
{
	struct pollfd p[FH_CTL_CONNS_MAX + 1];
	int slot[FH_CTL_CONNS_MAX + 1], n = 0, served = 0, free_slots = 0, wait = timeout_ms;
	uint64_t now = now_ms();

	if (!s->open)
		return 0;
	for (int i = 0; i < FH_CTL_CONNS_MAX; i++) {
		struct fh_ctl_conn *c = &s->conn[i];

		if (c->fd < 0) {
			free_slots++;
			continue;
		}
		/* a reader's deadline ends the wait; a writer waits for room in its socket */
		if (c->reading && (int64_t)(c->deadline_ms - now) < wait)
			wait = c->deadline_ms > now ? (int)(c->deadline_ms - now) : 0;
		p[n] = (struct pollfd){.fd = c->fd, .events = c->reading ? POLLIN : POLLOUT};
		slot[n++] = i;
	}
	if (free_slots > 0) {
		p[n] = (struct pollfd){.fd = s->fd, .events = POLLIN};
		slot[n++] = -1;
	}
	if (poll(p, (nfds_t)n, wait) < 0)
		for (int k = 0; k < n; k++)
			p[k].revents = 0;
	now = now_ms();
	for (int k = 0; k < n; k++) {
		struct fh_ctl_conn *c = slot[k] >= 0 ? &s->conn[slot[k]] : NULL;

		if (c == NULL || (p[k].revents == 0 && now < c->deadline_ms))
			continue;
		if (!conn_step(c, tab, ctx, now, &served))
			conn_close(c);
	}
	for (int i = 0; i < FH_CTL_CONNS_MAX && n > 0 && slot[n - 1] == -1 && (p[n - 1].revents & POLLIN); i++) {
		struct fh_ctl_conn *c = &s->conn[i];
		int fd;

		if (c->fd >= 0)
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			break;
		*c = (struct fh_ctl_conn){.fd = fd, .reading = true, .deadline_ms = now + FH_CTL_READ_MS};
		/* flexhubctl sends its line right after connecting: it is usually there already */
		if (!conn_step(c, tab, ctx, now, &served))
			conn_close(c);
	}
	return served;
}

void fh_ctl_close(struct fh_ctl_server *s)
{
	/* a zeroed server that was never opened (start failed early) holds nothing: fd 0 is not ours */
	if (!s->open)
		return;
	for (int i = 0; i < FH_CTL_CONNS_MAX; i++)
		if (s->conn[i].fd >= 0)
			conn_close(&s->conn[i]);
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
	s->open = false;
}

int fh_ctl_request(const char *path, const char *line, FILE *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	bool first = true, err = false;
	ssize_t r;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, line, strlen(line)) < 0 ||
	    write(fd, "\n", 1) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (first)
			err = buf[0] == '%';
		first = false;
		fwrite(buf, 1, (size_t)r, out);
	}
	close(fd);
	return err ? 1 : 0;
}
