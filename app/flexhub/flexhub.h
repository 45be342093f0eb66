/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FLEXHUB_APP_H
#define FLEXHUB_APP_H

/* The daemon's state: owned by the main lcore, which is also the control lcore. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_mempool.h>

#include "fh_config.h"
#include "fh_ctl.h"
#include "fh_dp.h"
#include "fh_iface.h"
#include "fh_log.h"

/* Counters of the control lcore (single writer, read by show commands on the same lcore). */
enum fh_ctl_ctr {
	FH_CC_ARP_REPLIES,
	FH_CC_ARP_IGNORED,
	FH_CC_ICMP_ECHO_REPLIES,
	FH_CC_ICMP_IGNORED,
	FH_CC_IKE_UNHANDLED,
	FH_CC_ROUTING_UNHANDLED,
	FH_CC_REPLY_DROPPED,
	FH_CC_RELOAD_OK,
	FH_CC_RELOAD_FAILED,
	FH_CC_MAX,
};

struct fh_app {
	char cfg_path[1024];
	char ctl_path[256];
	struct fh_config *cfg;
	struct fh_iface_table ifs;
	struct fh_dp dp;
	struct rte_mempool *pool;
	struct fh_ctl_server ctl;
	struct fh_dp_worker_arg wargs[FH_DP_WORKERS_MAX];
	uint64_t cc[FH_CC_MAX];
	uint64_t drops_reported[FH_CTR_MAX];
	uint64_t ike_reported;
	time_t started;
	time_t last_report;
	int eal_argc;
	char **eal_argv;      /* the strings given to EAL, ours to free */
	char **eal_argv_list; /* the array EAL was given (it permutes it) */
};

extern volatile sig_atomic_t fh_quit, fh_reload;

/* eal.c: EAL argv from the config, then the command line's extra arguments. */
int fh_eal_build_args(const struct fh_config *cfg, int extra_argc, char **extra_argv, char ***argv_out);

/* ports.c */
int fh_ports_setup(struct fh_app *app);
void fh_ports_stop(struct fh_app *app);
bool fh_port_link_up(const struct fh_app *app, int port_idx);

/* control.c */
void fh_control_loop(struct fh_app *app);
int fh_control_reload(struct fh_app *app);
int fh_publish_tables(struct fh_app *app);

/* show.c */
extern const struct fh_ctl_cmd fh_commands[];

#endif
