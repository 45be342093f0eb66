/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_DP_H
#define FH_DP_H

/*
 * The worker pipeline: RX burst -> classify -> (punt | drop | TX) on each worker lcore, run to
 * completion. Later stages (ESP, GRE, FIB) slot in between classify and TX.
 *
 * Threading: fh_dp_worker_main() runs on each worker lcore; everything else here runs on the
 * control lcore. Workers read the published struct fh_dp_tables without locks; the control lcore
 * replaces it with fh_dp_publish(), which waits on QSBR before freeing the old one.
 *
 * Ownership: a worker owns each mbuf it received until it TXes, punts (the punt ring takes it)
 * or frees it. The control lcore owns punted mbufs and hands replies to a worker's TX ring.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

/* Ports one daemon drives; a hub has a handful of physical interfaces. */
#define FH_DP_PORTS_MAX 16
/* Local IPv4 addresses checked per packet; a linear scan beats a hash at this size. */
#define FH_DP_LOCAL_ADDRS_MAX 64
#define FH_DP_WORKERS_MAX 64
#define FH_DP_BURST_MAX 64

/* Why a packet left the fast path. One counter each, per lcore, summed on read. */
enum fh_dp_ctr {
	FH_CTR_RX,
	FH_CTR_TX,
	FH_CTR_PUNT_ARP,
	FH_CTR_PUNT_IKE,
	FH_CTR_PUNT_ICMP,
	FH_CTR_PUNT_ROUTING,
	FH_CTR_DROP_RUNT,          /* shorter than its headers claim */
	FH_CTR_DROP_BAD_IPV4,      /* version, IHL, total length or checksum wrong */
	FH_CTR_DROP_ETHERTYPE,     /* not IPv4 or ARP */
	FH_CTR_DROP_NOT_FOR_US,    /* unicast to another MAC */
	FH_CTR_DROP_NO_SA,         /* ESP for an SPI we have no SA for */
	FH_CTR_DROP_UNPROTECTED,   /* GRE to us outside ESP */
	FH_CTR_DROP_LOCAL_PROTO,   /* to us, a protocol nothing here serves */
	FH_CTR_DROP_NO_ROUTE,      /* transit traffic with no route */
	FH_CTR_DROP_FRAGMENT,      /* fragments to us (reassembly is not done) */
	FH_CTR_DROP_PUNT_FULL,     /* control lcore behind: punt ring full */
	FH_CTR_DROP_TX_FULL,       /* port TX queue full */
	FH_CTR_MAX,
};

const char *fh_dp_ctr_name(enum fh_dp_ctr c);

/* What a packet was punted for; kept in the mbuf's hash.usr so the control lcore need not reparse. */
enum fh_punt_kind {
	FH_PUNT_ARP = 1,
	FH_PUNT_IKE,
	FH_PUNT_ICMP,
	FH_PUNT_ROUTING,
};

struct fh_dp_counters {
	uint64_t c[FH_CTR_MAX];
} __rte_cache_aligned;

/* Tables the control lcore publishes to workers: read-only once published. */
struct fh_dp_tables {
	uint32_t n_local;
	uint32_t local_addr[FH_DP_LOCAL_ADDRS_MAX]; /* network order, for a compare without a swap */
	uint16_t local_port[FH_DP_LOCAL_ADDRS_MAX]; /* port the address lives on; UINT16_MAX = any */
	uint32_t generation;
};

struct fh_dp_port {
	uint16_t port_id;
	struct rte_ether_addr mac;
};

struct fh_dp {
	uint16_t n_ports;
	struct fh_dp_port port[FH_DP_PORTS_MAX];
	uint16_t n_workers;
	uint16_t burst;
	uint32_t idle_sleep_us;
	uint32_t idle_polls;
	struct rte_ring *punt;                   /* MP (workers) / SC (control) */
	struct rte_ring *tx[FH_DP_WORKERS_MAX];  /* per worker, SP (control) / SC (worker) */
	struct rte_rcu_qsbr *qsbr;
	struct fh_dp_tables *tables;             /* RCU-published */
	struct fh_dp_counters ctr[FH_DP_WORKERS_MAX];
	volatile bool quit;
};

/* Set up rings and QSBR for n_workers; 0 or -rte_errno. Control lcore, before workers start. */
int fh_dp_init(struct fh_dp *dp, uint16_t n_workers, unsigned int socket);
void fh_dp_fini(struct fh_dp *dp);

/* Replace the tables (takes ownership of t, allocated with rte_malloc); waits for every worker to
 * pass a quiescent state, then frees the old ones. Control lcore only. */
void fh_dp_publish(struct fh_dp *dp, struct fh_dp_tables *t);

/* rte_eal_remote_launch() entry; arg is a struct fh_dp_worker_arg. */
struct fh_dp_worker_arg {
	struct fh_dp *dp;
	uint16_t worker; /* 0-based worker index: its RX/TX queue on every port */
};
int fh_dp_worker_main(void *arg);

/* Classify one received packet: returns the counter it bumps and sets *punt when the control
 * lcore should get it. Pure function of the packet and the tables, for unit tests and fuzzing. */
enum fh_dp_ctr fh_dp_classify(const struct fh_dp_tables *t, const struct rte_ether_addr *port_mac,
			      uint16_t port_idx, const uint8_t *pkt, uint32_t len, enum fh_punt_kind *punt);

/* Sum one counter over workers. */
uint64_t fh_dp_counter(const struct fh_dp *dp, enum fh_dp_ctr c);
void fh_dp_counters_clear(struct fh_dp *dp);

#endif
