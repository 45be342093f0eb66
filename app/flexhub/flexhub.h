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
#include "fh_rss.h"
#include "fh_iface.h"
#include "fh_ike.h"
#include "fh_neigh.h"
#include "fh_pool.h"
#include "fh_sadb.h"
#include "fh_log.h"

/* What the daemon keeps beside a pair in the SA database (fh_sadb_pair.user). */
struct fh_app_pair {
	uint32_t replay_window;
	bool soft_told[2], hard_told[2]; /* lifetime events logged, per direction */
	bool aged;                       /* on the static list aged once a second */
	struct fh_cfg_static_sa *cfg;    /* a manually keyed pair: a copy of its config entry */
};

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
	FH_CC_NEIGH_QUEUED,       /* packets that waited for ARP */
	FH_CC_NEIGH_FLUSHED,      /* ... and were sent when it came */
	FH_CC_NEIGH_OVERFLOW,     /* dropped: that neighbour's queue was full (limits.neighbour-queue) */
	FH_CC_NEIGH_TIMEOUT,      /* dropped: the neighbour never answered */
	FH_CC_NEIGH_FULL,         /* neighbours not learned: limits.neighbours reached */
	FH_CC_SA_LIMIT,           /* SA pairs refused: limits.sa-pairs reached */
	FH_CC_ROUTE_LIMIT,        /* routes refused: limits.routes / next-hops / lpm-tbl8-groups */
	FH_CC_POOL_EXHAUSTED,     /* mode-config address refused: pool empty (INTERNAL_ADDRESS_FAILURE) */
	FH_CC_VACCESS_CREATED,    /* Virtual-Access interfaces cloned */
	FH_CC_VACCESS_FAILED,     /* ... refused (limits.interfaces, template gone) */
	FH_CC_MIRROR_IN,          /* routing protocol packets handed to a kernel mirror (to FRR) */
	FH_CC_MIRROR_OUT,         /* packets FRR sent out of a mirror, into its interface */
	FH_CC_MIRROR_DROPPED,     /* ... not delivered: no mirror, mirror full, no mbuf, TX ring full */
	FH_CC_FRR_RESTARTS,       /* FRR daemons started again after they died */
	FH_CC_MAX,
};

/* A peer's session on a tunnel (session.c), by interface slot: a hub's Virtual-Access or a
 * configured tunnel that did mode-config. */
struct fh_session {
	bool used;
	bool vaccess;              /* the interface was cloned for it and goes with it */
	bool initiator;
	bool gre;                  /* Virtual-Access: GRE inside ESP, else IPv4 directly */
	uint32_t ike_id;
	uint32_t gre_peer;         /* the peer's GRE endpoint */
	struct fh_ike_addr local, remote;
	uint32_t addr;             /* mode-config address given (hub) or taken (spoke), 0 none */
	char pool[FH_NAME_MAX];    /* the pool addr came from ("" none) */
	uint8_t n_net;             /* hub: the networks the peer announced; spoke: pushed ones */
	struct fh_ike_net net[FH_IKE_NETS_MAX];
	uint8_t n_allow;           /* inner sources the peer may use (hub) */
	struct fh_dp_prefix allow[FH_DP_TUN_ALLOW_MAX];
	char remote_id[FH_NAME_MAX + 8];
	time_t since;
};

/* Sizes of the run-time tables (the config's limits block). */
struct fh_app_limits {
	struct fh_dp_limits dp;
	uint32_t interfaces;
	uint32_t neigh_queue;      /* packets per unresolved neighbour */
	uint32_t neigh_pending;    /* neighbours being resolved at once */
};

struct fh_app {
	char cfg_path[1024];
	char ctl_path[256];
	struct fh_config *cfg;
	struct fh_app_limits lim;
	struct fh_iface_table ifs;
	int port_if[FH_DP_PORTS_MAX]; /* data-plane port -> the slot of its interface (-1 none) */
	struct fh_dp dp;
	struct fh_rss rss[FH_DP_PORTS_MAX]; /* per data-plane port, read at start; reta_size 0: no RSS */
	struct rte_mempool *pool;
	struct fh_ctl_server ctl;
	struct fh_dp_worker_arg wargs[FH_DP_WORKERS_MAX];
	uint64_t cc[FH_CC_MAX];
	uint64_t drops_reported[FH_CTR_MAX];
	time_t started;
	time_t last_report;
	struct fh_sadb *sadb;
	fh_handle_t *statics;      /* pairs from crypto ipsec static-sa, in config order */
	uint32_t n_statics;
	struct fh_map static_neigh; /* ip arp entries (port << 32 | ip): learning never overrides them */
	struct fh_nwait *nwait;    /* packets waiting for ARP */
	uint64_t last_aging;      /* timer cycles of the last SA lifetime pass */
	uint64_t icmp_err_window; /* timer cycles when the current second began */
	uint32_t icmp_err_sent;
	struct fh_ike *ike;
	struct fh_session *sess;   /* by interface slot (limits.interfaces) */
	struct fh_pool_table *pools;
	struct fh_pool_range *excl; /* addresses interfaces and static routes own: out of every pool */
	uint32_t n_excl;
	struct fh_ratelimit pool_rl;
	struct fh_routing *rt;     /* FRR: mirrors, route sync, daemons (NULL without a router block) */
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

/* tables.c: interfaces, addresses, routes and neighbours from the config, kept in step with it */
int fh_tables_start(struct fh_app *app);
/* After a reload's interface sync: everything derived from the config, one entry at a time. */
int fh_tables_reload(struct fh_app *app);
void fh_tables_gone(void *app, int slot); /* fh_iface_table_sync's callback */
void fh_tunnel_refresh(struct fh_app *app, int slot);
void fh_tables_addrs(struct fh_app *app); /* our addresses, after one changed at run time */
uint32_t fh_tunnel_source(const struct fh_app *app, const struct fh_cfg_iface *c);
void fh_limits_from_config(const struct fh_config *cfg, struct fh_app_limits *l);

/* sa.c: the SA database and the data plane's view of it */
int fh_sa_glue_start(struct fh_app *app);
void fh_sa_glue_free(struct fh_app *app);
/* Install a pair into a tunnel (state ACTIVE or STANDBY); takes the SA objects (destroyed on
 * failure). NULL with errno ENOSPC (limits.sa-pairs), EEXIST (SPI in use), EINVAL. */
struct fh_sadb_pair *fh_sa_install(struct fh_app *app, fh_handle_t tunnel, struct fh_sa *in, struct fh_sa *out,
				   uint8_t origin, enum fh_sadb_state state, struct fh_app_pair *user);
/* Out of the data plane now, freed after the grace period. */
void fh_sa_retire(struct fh_app *app, struct fh_sadb_pair *p);
void fh_sa_set_state(struct fh_app *app, struct fh_sadb_pair *p, enum fh_sadb_state st);
/* Crypto ipsec static-sa entries after a config change: unchanged pairs go on untouched. */
int fh_static_sas_sync(struct fh_app *app);
bool fh_static_sa_same(const struct fh_cfg_static_sa *a, const struct fh_cfg_static_sa *b);
void fh_sa_lifetimes(struct fh_app *app);

/* ike.c */
uint64_t fh_now_ms(void);
int fh_ike_glue_start(struct fh_app *app);
void fh_ike_glue_stop(struct fh_app *app);
void fh_ike_glue_reload(struct fh_app *app);
void fh_ike_punt(struct fh_app *app, struct rte_mbuf *m);

/* session.c: Virtual-Access per peer, mode-config pools and routes (the engine's session ops) */
int fh_sessions_start(struct fh_app *app);
void fh_sessions_reload(struct fh_app *app); /* after app->cfg changed */
void fh_sessions_free(struct fh_app *app);
int fh_session_up(void *ctx, struct fh_ike_session *s);
void fh_session_down(void *ctx, uint32_t ike_id, uint32_t tunnel);
const struct fh_session *fh_session_of(const struct fh_app *app, int slot);

/* routing.c: FRR (kernel mirrors, route sync, managed daemons) */
struct fh_routing;
int fh_routing_start(struct fh_app *app);
void fh_routing_stop(struct fh_app *app);
void fh_routing_reload(struct fh_app *app, const struct fh_config *old);
void fh_routing_poll(struct fh_app *app);
void fh_routing_iface(struct fh_app *app, int slot, bool up); /* an interface came or goes */
void fh_routing_punt(struct fh_app *app, struct rte_mbuf *m); /* a protocol packet for a mirror; frees m */
void fh_routing_link(struct fh_app *app, int slot, bool up);  /* a tunnel's protocol went up or down */
void fh_routing_export(struct fh_app *app, int slot, uint32_t prefix, uint8_t len); /* into a mirror */
void fh_routing_stats(const struct fh_app *app, uint32_t *mirrors, uint64_t *in, uint64_t *out, uint64_t *bad);

/* bench.c: SA table install rate and churn, for benchmarks */
int fh_bench_cmd(FILE *out, bool json, int argc, char **argv, void *ctx);
void fh_bench_tick(struct fh_app *app);
void fh_bench_free(void);

/* show_hub.c: show ip route, show ip local pool, show crypto session, clear crypto session */
int fh_show_ip_route(FILE *out, bool json, int argc, char **argv, void *ctx);
int fh_show_ip_local_pool(FILE *out, bool json, int argc, char **argv, void *ctx);
int fh_show_crypto_session(FILE *out, struct fh_ctl_cursor *cur, void *ctx);
int fh_clear_crypto_session(FILE *out, bool json, int argc, char **argv, void *ctx);

/* show.c */
extern const struct fh_ctl_cmd fh_commands[];

#endif
