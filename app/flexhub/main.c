/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flexhub: load and check the config, start DPDK on the ports it names, launch one worker per
 * worker lcore and run the control plane on the main lcore until SIGINT/SIGTERM. SIGHUP reloads.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <rte_cycles.h>

#include "flexhub.h"
#include "fh_limits.h"

_Static_assert(FH_CFG_WORKERS_MAX == FH_DP_WORKERS_MAX, "the schema allows the workers the data plane has");

/* Per-lcore mbuf cache: DPDK's recommended upper bound is 512; 256 fits the default pool size. */
#define FH_MBUF_CACHE 256

static void usage(FILE *f)
{
	fputs("usage: flexhub -c CONFIG [options] [-- EAL arguments]\n"
	      "  -c, --config FILE     YAML configuration (see doc/config.md)\n"
	      "  -s, --socket PATH     control socket (default: the config's control-socket)\n"
	      "      --check-config    load and check the config, print every error, and exit\n"
	      "      --print-config    print the normalized config (with --json: as JSON) and exit\n"
	      "      --schema-doc      print the configuration reference (doc/config.md) and exit\n"
	      "  -V, --version         print the version and exit\n",
	      f);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		fh_reload = 1;
	else
		fh_quit = 1;
}

static void signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int start(struct fh_app *app, int extra_argc, char **extra_argv)
{
	char **eal_argv;
	int eal_argc = fh_eal_build_args(app->cfg, extra_argc, extra_argv, &eal_argv);
	unsigned int lcore, w = 0;
	int rc;

	if (eal_argc < 0) {
		fh_log(FH_LOG_ERR, "init", "out of memory");
		return -1;
	}
	/* EAL permutes argv and may keep pointers into it: free our copy of the list after cleanup */
	app->eal_argc = eal_argc;
	app->eal_argv = calloc((size_t)eal_argc, sizeof(char *));
	if (app->eal_argv == NULL)
		return -1;
	memcpy(app->eal_argv, eal_argv, (size_t)eal_argc * sizeof(char *));
	app->eal_argv_list = eal_argv;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fh_log(FH_LOG_ERR, "init", "DPDK EAL init failed: %s", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_lcore_count() < app->cfg->dataplane.workers + 1) {
		fh_log(FH_LOG_ERR, "init", "%u lcores, need %u (1 control + %u workers)", rte_lcore_count(),
		       app->cfg->dataplane.workers + 1, app->cfg->dataplane.workers);
		return -1;
	}
	app->pool = rte_pktmbuf_pool_create("fh_mbuf", app->cfg->dataplane.mbufs, FH_MBUF_CACHE, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app->pool == NULL) {
		fh_log(FH_LOG_ERR, "init", "mbuf pool of %u: %s (raise dataplane memory-mb or lower mbufs)",
		       app->cfg->dataplane.mbufs, rte_strerror(rte_errno));
		return -1;
	}
	fh_limits_from_config(app->cfg, &app->lim);
	rc = fh_dp_init(&app->dp, (uint16_t)app->cfg->dataplane.workers, rte_socket_id(),
			fh_crypto_engine_get(fh_engine_name(app->cfg->dataplane.crypto_engine)), &app->lim.dp);
	if (rc < 0) {
		fh_log(FH_LOG_ERR, "init", "data plane tables: %s (dataplane.memory-mb %u too small for the limits?)",
		       rte_strerror(-rc), app->cfg->dataplane.memory_mb);
		return -1;
	}
	app->dp.burst = (uint16_t)app->cfg->dataplane.burst;
	app->dp.idle_sleep_us = app->cfg->dataplane.idle_sleep_us;
	app->dp.idle_polls = app->cfg->dataplane.idle_polls;
	if (fh_ports_setup(app) < 0)
		return -1;
	if (fh_iface_table_build(&app->ifs, app->cfg, app->lim.interfaces) < 0) {
		fh_log(FH_LOG_ERR, "init", "interface table: %s (limits.interfaces %u)", strerror(errno),
		       app->lim.interfaces);
		return -1;
	}
	app->nwait = fh_nwait_new(app->lim.neigh_pending, app->lim.neigh_queue, 1000, 3);
	if (app->nwait == NULL || fh_sa_glue_start(app) < 0 || fh_ike_glue_start(app) < 0) {
		fh_log(FH_LOG_ERR, "init", "out of memory");
		return -1;
	}
	if (fh_tables_start(app) < 0)
		fh_log(FH_LOG_ERR, "init", "some static SAs could not be installed (see above)");
	if (fh_sessions_start(app) < 0)
		fh_log(FH_LOG_ERR, "init", "address pools: see above");
	if (fh_routing_start(app) < 0)
		fh_log(FH_LOG_ERR, "init", "routing through FRR is not running (see above)");
	if (fh_ctl_open(&app->ctl, app->ctl_path) < 0) {
		fh_log(FH_LOG_ERR, "init", "control socket %s: %s", app->ctl_path, strerror(errno));
		return -1;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w == app->dp.n_workers)
			break;
		app->wargs[w].dp = &app->dp;
		app->wargs[w].worker = (uint16_t)w;
		if (rte_eal_remote_launch(fh_dp_worker_main, &app->wargs[w], lcore) != 0) {
			fh_log(FH_LOG_ERR, "init", "cannot launch worker %u on lcore %u", w, lcore);
			return -1;
		}
		w++;
	}
	return 0;
}

static void nwait_drop(void *pkt, void *arg)
{
	(void)arg;
	rte_pktmbuf_free(pkt);
}

static void stop(struct fh_app *app)
{
	if (app->ike != NULL && app->dp.punt != NULL) {
		/* peers hear our Deletes (RFC 7296 1.4.1) before the workers that send them stop */
		fh_ike_glue_stop(app);
		rte_delay_ms(50);
	}
	__atomic_store_n(&app->dp.quit, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	fh_ports_stop(app);
	fh_ctl_close(&app->ctl);
	if (app->ike != NULL)
		fh_ike_free(app->ike, 0); /* never got to run: nothing to tell anyone */
	app->ike = NULL;
	fh_routing_stop(app);
	/* the workers are gone: every deferred free runs now (retired pairs among them) */
	if (app->dp.punt != NULL)
		fh_dp_fini(&app->dp);
	fh_sessions_free(app);
	fh_sa_glue_free(app);
	fh_bench_free();
	fh_nwait_free(app->nwait, nwait_drop, NULL);
	app->nwait = NULL;
	rte_mempool_free(app->pool);
	fh_iface_table_free(&app->ifs);
	fh_map_fini(&app->static_neigh);
	rte_eal_cleanup();
	for (int i = 0; app->eal_argv != NULL && i < app->eal_argc; i++)
		free(app->eal_argv[i]);
	free(app->eal_argv);
	free(app->eal_argv_list);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},   {"socket", required_argument, NULL, 's'},
		{"check-config", no_argument, NULL, 'C'},   {"print-config", no_argument, NULL, 'P'},
		{"json", no_argument, NULL, 'j'},           {"schema-doc", no_argument, NULL, 'D'},
		{"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct fh_app app;
	struct fh_cfg_errs *errs;
	bool check = false, print = false, json = false;
	const char *sock = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:s:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': snprintf(app.cfg_path, sizeof(app.cfg_path), "%s", optarg); break;
		case 's': sock = optarg; break;
		case 'C': check = true; break;
		case 'P': print = true; break;
		case 'j': json = true; break;
		case 'D': fh_config_schema_doc(stdout); return 0;
		case 'V': printf("flexhub %s\n", FLEXHUB_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (app.cfg_path[0] == '\0') {
		usage(stderr);
		return 2;
	}
	errs = calloc(1, sizeof(*errs));
	if (errs == NULL)
		return 1;
	app.cfg = fh_config_load_file(app.cfg_path, errs);
	if (app.cfg == NULL) {
		fh_config_print_errs(stderr, errs);
		free(errs);
		return 1;
	}
	free(errs);
	if (check) {
		printf("%s: OK\n", app.cfg_path);
		fh_config_free(app.cfg);
		return 0;
	}
	if (print) {
		fh_config_emit(stdout, app.cfg, json ? FH_EMIT_JSON : FH_EMIT_YAML, FH_EMIT_SECRETS);
		fh_config_free(app.cfg);
		return 0;
	}
	snprintf(app.ctl_path, sizeof(app.ctl_path), "%s", sock != NULL ? sock : app.cfg->control_socket);
	for (uint32_t i = 0; i < app.cfg->n_debug; i++)
		fh_debug_set(app.cfg->debug[i], true);
	signals();
	app.started = time(NULL);
	app.last_report = app.started;
	rc = start(&app, argc - optind, argv + optind);
	if (rc == 0 && !fh_quit) {
		printf("flexhub %s: %s up: %u port(s), %u worker(s), control socket %s\n", FLEXHUB_VERSION,
		       app.cfg->hostname, app.dp.n_ports, app.dp.n_workers, app.ctl_path);
		fflush(stdout);
		fh_log(FH_LOG_INFO, "init", "%s up", app.cfg->hostname);
		fh_control_loop(&app);
		fh_log(FH_LOG_INFO, "init", "%s shutting down", app.cfg->hostname);
	}
	stop(&app);
	fh_config_free(app.cfg);
	return rc == 0 ? 0 : 1;
}
