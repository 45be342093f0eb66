/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fh_ctl.h"

/* A client that connects and says nothing must not hold the control lcore: 200 ms to send. */
#define FH_CTL_READ_MS 200

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

int fh_ctl_dispatch(const struct fh_ctl_cmd *tab, const char *line, FILE *out, void *ctx)
{
	char buf[FH_CTL_LINE_MAX], *w[FH_CTL_WORDS_MAX + 1];
	const struct fh_ctl_cmd *hit = NULL;
	int n, used = 0, hits = 0, partial = 0;
	bool json = false;
	char **in;

	snprintf(buf, sizeof(buf), "%s", line);
	n = split(buf, w, FH_CTL_WORDS_MAX + 1);
	if (n < 0) {
		fprintf(out, "%% Too many words\n");
		return -1;
	}
	in = w;
	if (n > 0 && strcmp(w[0], "json") == 0) {
		json = true;
		in++;
		n--;
	}
	if (n == 0) {
		fprintf(out, "%% Incomplete command\n");
		return -1;
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
		return -1;
	}
	if (hits == 0) {
		fprintf(out, "%% Invalid input detected: '%s'\n", line);
		return -1;
	}
	if (hits > 1) {
		fprintf(out, "%% Ambiguous command: '%s'\n", line);
		return -1;
	}
	return hit->fn(out, json, n - used, in + used, ctx);
}

int fh_ctl_open(struct fh_ctl_server *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	s->fd = -1;
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
	return 0;
}

static void serve(int c, const struct fh_ctl_cmd *tab, void *ctx)
{
	char line[FH_CTL_LINE_MAX];
	size_t n = 0;
	struct pollfd p = {.fd = c, .events = POLLIN};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	while (n < sizeof(line) - 1 && memchr(line, '\n', n) == NULL) {
		ssize_t r;

		if (poll(&p, 1, FH_CTL_READ_MS) <= 0)
			break;
		r = read(c, line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	f = open_memstream(&out, &len);
	if (f == NULL)
		return;
	fh_ctl_dispatch(tab, line, f, ctx);
	fclose(f);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(c, out + off, len - off);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd q = {.fd = c, .events = POLLOUT};

			if (poll(&q, 1, FH_CTL_READ_MS) <= 0)
				break;
			continue;
		}
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(out);
}

int fh_ctl_poll(struct fh_ctl_server *s, int timeout_ms, const struct fh_ctl_cmd *tab, void *ctx)
{
	struct pollfd p = {.fd = s->fd, .events = POLLIN};
	int served = 0;

	if (s->fd < 0 || poll(&p, 1, timeout_ms) <= 0)
		return 0;
	for (;;) {
		int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0)
			break;
		serve(c, tab, ctx);
		close(c);
		served++;
	}
	return served;
}

void fh_ctl_close(struct fh_ctl_server *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	s->fd = -1;
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
