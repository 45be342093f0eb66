/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flexhubctl: IOS-style commands to a running flexhub over its control socket.
 *   flexhubctl [-s SOCKET] [--json] show ip interface brief
 * Exit status: 0 answered, 1 the daemon refused the command, 2 usage, 3 daemon unreachable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_ctl.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = getenv("FLEXHUB_SOCKET");
	char line[FH_CTL_LINE_MAX];
	size_t n = 0;
	bool json = false;
	int c, rc;

	if (sock == NULL)
		sock = "/run/flexhub.sock";
	/* "+": stop at the first command word, so "no debug ..." is not read as options */
	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: flexhubctl [-s SOCKET] [--json] COMMAND...   (try: flexhubctl help)\n");
			return 0;
		default: return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: flexhubctl [-s SOCKET] [--json] COMMAND...\n");
		return 2;
	}
	line[0] = '\0';
	if (json)
		n += (size_t)snprintf(line, sizeof(line), "json ");
	for (int i = optind; i < argc && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i > optind ? " " : "", argv[i]);
	if (n >= sizeof(line)) {
		fprintf(stderr, "flexhubctl: command too long\n");
		return 2;
	}
	rc = fh_ctl_request(sock, line, stdout);
	if (rc < 0) {
		fprintf(stderr, "flexhubctl: cannot reach flexhub at %s: %s\n", sock, strerror(errno));
		return 3;
	}
	return rc;
}
