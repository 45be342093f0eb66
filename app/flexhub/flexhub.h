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
#include "fh_ike.h"
#include "fh_log.h"

/* Interfaces the daemon tracks (configured plus cloned). */
#define FH_IFACES_MAX 4096
/* Neighbours learned by ARP; half the data-plane slots keeps its open addressing short. */
#define FH_NEIGH_MAX (FH_DP_NEIGH_SLOTS / 2)

/* A manually keyed SA pair and the config it came from. */
struct fh_app_sa {
	struct fh_cfg_static_sa cfg;
	uint32_t src, dst;
	struct fh_sa *in, *out;
	bool soft_told[2], hard_told[2]; /* lifetime events logged, per direction */
	bool ike;                        /* negotiated by IKEv2 (cfg holds what show needs) */
	bool standby;                    /* rekeyed pair not yet used outbound (see fh_ike.h) */
};

/* SA objects out of the tables, destroyed after the next publication's grace period. */
#define FH_DEAD_MAX 256

/* Counters of the control lcore (single writer, read by show commands on the same lcore). */
enum fh_ctl_ctr {
	FH_CC_ARP_REPLIES,
	FH_CC_ARP_IGNORED,
	FH_CC_ICMP_ECHO_REPLIES,
	FH_CC_ICMP_IGNORED,
	FH_CC_IKE_MALFORMED,      /* punted UDP 500/4500 that is not an IKE message */
	FH_CC_ROUTING_UNHANDLED,
	FH_CC_REPLY_DROPPED,
	FH_CC_ARP_REQUESTS,
	FH_CC_ARP_LEARNED,
	FH_CC_NHRP_UNHANDLED,
	FH_CC_ICMP_ERR_SENT,
	FH_CC_ICMP_ERR_SUPPRESSED,
	FH_CC_SA_SOFT_EXPIRED,
	FH_CC_SA_HARD_EXPIRED,
	FH_CC_RELOAD_OK,
	FH_CC_RELOAD_FAILED,
	FH_CC_IKE_SENT,
	FH_CC_NATT_KEEPALIVE,
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
	time_t started;
	time_t last_report;
	struct fh_app_sa *sas;
	uint32_t n_sas;
	struct fh_app_sa *retired; /* replaced SAs, destroyed after the next publication */
	uint32_t n_retired;
	int tun_of_if[FH_IFACES_MAX]; /* interface index -> data-plane tunnel index */
	uint32_t fib_generation;
	struct fh_dp_neigh neigh[FH_NEIGH_MAX];
	uint32_t n_neigh;
	uint32_t n_static_neigh; /* the first entries, from the config's ip arp */
	uint64_t neigh_asked[FH_NEIGH_MAX]; /* rate limit of ARP requests, by cache slot order */
	uint32_t asked_ip[FH_NEIGH_MAX];
	uint64_t last_aging;      /* timer cycles of the last SA lifetime pass */
	uint64_t icmp_err_window; /* timer cycles when the current second began */
	uint32_t icmp_err_sent;
	struct fh_ike *ike;
	struct fh_app_sa *ike_sas; /* child SA pairs IKEv2 installed, oldest first */
	uint32_t n_ike_sas, cap_ike_sas;
	struct fh_sa **dead;
	uint32_t n_dead;
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

/* tables.c */
int fh_publish_tables(struct fh_app *app);
int fh_publish_neigh(struct fh_app *app);
bool fh_static_sa_same(const struct fh_cfg_static_sa *a, const struct fh_cfg_static_sa *b);

uint32_t fh_tunnel_source(const struct fh_app *app, const struct fh_cfg_iface *c);

/* ike.c */
uint64_t fh_now_ms(void);
int fh_ike_glue_start(struct fh_app *app);
void fh_ike_glue_stop(struct fh_app *app);
void fh_ike_glue_free(struct fh_app *app);
void fh_ike_glue_reload(struct fh_app *app);
void fh_ike_reap(struct fh_app *app);
void fh_ike_punt(struct fh_app *app, struct rte_mbuf *m);

/* show.c */
extern const struct fh_ctl_cmd fh_commands[];

#endif
