/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL arguments derived from the config, so a user writes YAML, not EAL flags. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flexhub.h"

/* Enough for the fixed flags, one per port, the config's and the command line's extras. */
#define EAL_ARGS_MAX (32 + 2 * 64 + FH_LIST_MAX)

static bool has_arg(const struct fh_config *cfg, int argc, char **argv, const char *a, const char *b)
{
	for (uint32_t i = 0; i < cfg->dataplane.n_eal_args; i++)
		if (strncmp(cfg->dataplane.eal_args[i], a, strlen(a)) == 0 ||
		    (b != NULL && strncmp(cfg->dataplane.eal_args[i], b, strlen(b)) == 0))
			return true;
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], a, strlen(a)) == 0 || (b != NULL && strncmp(argv[i], b, strlen(b)) == 0))
			return true;
	return false;
}

/* lcore i runs on the i-th CPU we may use, wrapping: a hub with more lcores than CPUs still starts
 * (slower), which is what a lab on two cores needs. */
static char *lcore_map(uint32_t n_lcores)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n = 0;
	char *s = malloc(16 * n_lcores + 16);
	size_t len = 0;

	if (s == NULL)
		return NULL;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	len += (size_t)sprintf(s, "--lcores=");
	for (uint32_t i = 0; i < n_lcores; i++)
		len += (size_t)sprintf(s + len, "%s%u@%d", i ? "," : "", i, cpus[i % (uint32_t)n]);
	return s;
}

int fh_eal_build_args(const struct fh_config *cfg, int extra_argc, char **extra_argv, char ***argv_out)
{
	char **v = calloc(EAL_ARGS_MAX + (size_t)extra_argc + 1, sizeof(*v));
	bool any_pci = false;
	char buf[FH_DEVARGS_MAX + 16];
	int n = 0;

	if (v == NULL)
		return -1;
	v[n++] = strdup("flexhub");
	if (!has_arg(cfg, extra_argc, extra_argv, "-l", "--lcores") && !has_arg(cfg, extra_argc, extra_argv, "-c", NULL))
		v[n++] = lcore_map(cfg->dataplane.workers + 1);
	bool in_memory = false;

	if (!cfg->dataplane.hugepages) {
		v[n++] = strdup("--no-huge");
	} else if (!has_arg(cfg, extra_argc, extra_argv, "--huge-dir", "--in-memory")) {
		v[n++] = strdup("--in-memory");
		in_memory = true;
	}
	if (!has_arg(cfg, extra_argc, extra_argv, "-m", "--socket-mem")) {
		snprintf(buf, sizeof(buf), "-m%u", cfg->dataplane.memory_mb);
		v[n++] = strdup(buf);
	}
	/* one runtime directory per process, so several daemons (hub and spokes) share a host */
	if (!in_memory && !has_arg(cfg, extra_argc, extra_argv, "--file-prefix", "--in-memory")) {
		snprintf(buf, sizeof(buf), "--file-prefix=flexhub-%d", (int)getpid());
		v[n++] = strdup(buf);
	}
	if (!has_arg(cfg, extra_argc, extra_argv, "--log-level", NULL))
		v[n++] = strdup("--log-level=lib.eal:warning");
	for (uint32_t i = 0; i < cfg->n_iface && n < EAL_ARGS_MAX - FH_LIST_MAX - 4; i++) {
		const char *d = cfg->iface[i].device;

		if (cfg->iface[i].kind != FH_IF_PHYSICAL || d[0] == '\0')
			continue;
		if (strncmp(d, "net_", 4) == 0) {
			snprintf(buf, sizeof(buf), "--vdev=%s", d);
		} else {
			snprintf(buf, sizeof(buf), "--allow=%s", d);
			any_pci = true;
		}
		v[n++] = strdup(buf);
	}
	if (!any_pci && !has_arg(cfg, extra_argc, extra_argv, "--allow", "-a"))
		v[n++] = strdup("--no-pci");
	for (uint32_t i = 0; i < cfg->dataplane.n_eal_args; i++)
		v[n++] = strdup(cfg->dataplane.eal_args[i]);
	for (int i = 0; i < extra_argc; i++)
		v[n++] = strdup(extra_argv[i]);
	for (int i = 0; i < n; i++)
		if (v[i] == NULL)
			return -1;
	*argv_out = v;
	return n;
}
