/* SPDX-License-Identifier: BSD-3-Clause */
/* Command matching of the control socket: IOS abbreviations, ambiguity, arguments, JSON prefix. */
#include <stdlib.h>
#include <string.h>

#include "fh_ctl.h"
#include "fh_test.h"

static char last[256];

static int rec(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	size_t n = (size_t)snprintf(last, sizeof(last), "%s%s", (const char *)ctx, json ? " json" : "");

	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(last + n, sizeof(last) - n, " [%s]", argv[i]);
	fputs("ok\n", out);
	return 0;
}

static int run(const struct fh_ctl_cmd *tab, const char *line, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");
	int rc;

	last[0] = '\0';
	rc = fh_ctl_dispatch(tab, line, f, (void *)"hit");
	fclose(f);
	return rc;
}

int main(void)
{
	static const struct fh_ctl_cmd tab[] = {
		{"show ip interface brief", "", rec},
		{"show ip route", "", rec},
		{"show running-config", "", rec},
		{"show counters", "", rec},
		{"debug *", "", rec},
		{"no debug *", "", rec},
		{NULL, NULL, NULL},
	};
	char out[512];

	fh_check(run(tab, "show ip interface brief", out, sizeof(out)) == 0 && strcmp(last, "hit") == 0, "full spelling");
	fh_check(run(tab, "sh ip int br", out, sizeof(out)) == 0 && strcmp(last, "hit") == 0, "IOS abbreviations");
	fh_check(run(tab, "SH IP INT BR", out, sizeof(out)) == 0, "case-insensitive");
	fh_check(run(tab, "json sh run", out, sizeof(out)) == 0 && strcmp(last, "hit json") == 0, "json prefix");
	fh_check(run(tab, "sh ip", out, sizeof(out)) < 0 && strstr(out, "% Incomplete command") != NULL,
		 "incomplete command");
	fh_check(run(tab, "sh ip r", out, sizeof(out)) == 0, "unique prefix of the last word");
	fh_check(run(tab, "sh c", out, sizeof(out)) == 0, "sh c is show counters");
	fh_check(run(tab, "show", out, sizeof(out)) < 0 && strstr(out, "Incomplete") != NULL, "bare show is incomplete");
	fh_check(run(tab, "show bogus", out, sizeof(out)) < 0 && strstr(out, "% Invalid input") != NULL,
		 "unknown command");
	fh_check(run(tab, "sh ip int br extra", out, sizeof(out)) < 0, "extra words refused");
	fh_check(run(tab, "debug crypto ikev2 packet", out, sizeof(out)) == 0 &&
			 strcmp(last, "hit [crypto] [ikev2] [packet]") == 0,
		 "trailing arguments passed on");
	fh_check(run(tab, "no debug nhrp", out, sizeof(out)) == 0 && strcmp(last, "hit [nhrp]") == 0, "no debug");
	fh_check(run(tab, "", out, sizeof(out)) < 0, "empty line refused");
	fh_check(run(tab, "a b c d e f g h i j k l m n o p q r s", out, sizeof(out)) < 0 &&
			 strstr(out, "Too many words") != NULL,
		 "too many words refused");
	{
		static const struct fh_ctl_cmd amb[] = {{"show counters", "", rec}, {"show crypto", "", rec}, {NULL, NULL, NULL}};

		fh_check(run(amb, "sh c", out, sizeof(out)) < 0 && strstr(out, "Ambiguous") != NULL, "ambiguous abbreviation");
	}
	return fh_test_done();
}
