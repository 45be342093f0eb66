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

#include "fh_esp.h"
#include "fh_fib.h"

/* Ports one daemon drives; a hub has a handful of physical interfaces. */
#define FH_DP_PORTS_MAX 16
/* Local IPv4 addresses checked per packet; a linear scan beats a hash at this size. */
#define FH_DP_LOCAL_ADDRS_MAX 64
#define FH_DP_WORKERS_MAX 64
#define FH_DP_BURST_MAX 64
/* Tunnel interfaces the data plane knows (static tunnels now, Virtual-Access later). */
#define FH_DP_TUNNELS_MAX 1024
/* Inbound SA lookup slots: a power of two, at least twice the SAs (open addressing). */
#define FH_DP_SA_SLOTS 4096
/* Neighbour (ARP) cache slots, power of two. */
#define FH_DP_NEIGH_SLOTS 1024

/* What happened to a packet. One counter each, per lcore, summed on read. */
enum fh_dp_ctr {
	FH_CTR_RX,
	FH_CTR_TX,
	FH_CTR_BUSY_CYCLES,        /* TSC cycles of loop iterations that had work (not a packet count) */
	FH_CTR_FORWARDED,          /* routed plaintext, to a port or into a tunnel */
	FH_CTR_ESP_IN,             /* decapsulated */
	FH_CTR_ESP_OUT,            /* encapsulated */
	FH_CTR_PUNT_ARP,
	FH_CTR_PUNT_IKE,
	FH_CTR_PUNT_ICMP,
	FH_CTR_PUNT_ROUTING,
	FH_CTR_PUNT_NHRP,
	FH_CTR_DROP_RUNT,          /* shorter than its headers claim */
	FH_CTR_DROP_BAD_IPV4,      /* version, IHL, total length or checksum wrong */
	FH_CTR_DROP_ETHERTYPE,     /* not IPv4 or ARP */
	FH_CTR_DROP_NOT_FOR_US,    /* unicast to another MAC */
	FH_CTR_DROP_NO_SA,         /* ESP for an SPI we have no SA for */
	FH_CTR_DROP_UNPROTECTED,   /* GRE to us outside ESP */
	FH_CTR_DROP_LOCAL_PROTO,   /* to us, a protocol nothing here serves */
	FH_CTR_DROP_NO_ROUTE,      /* no route, or a route to nowhere */
	FH_CTR_DROP_FRAGMENT,      /* fragments to us (reassembly is not done) */
	FH_CTR_DROP_TTL,           /* TTL expired in transit */
	FH_CTR_DROP_NO_NEIGH,      /* next hop's MAC unknown yet (ARP sent) */
	FH_CTR_DROP_TUNNEL_DOWN,   /* route into a tunnel without an SA */
	FH_CTR_DROP_MTU,           /* DF set and too big for the tunnel */
	FH_CTR_DROP_ESP_LEN,       /* ESP: truncated or misaligned */
	FH_CTR_DROP_ESP_AUTH,      /* ESP: ICV failed */
	FH_CTR_DROP_ESP_REPLAY,    /* ESP: replayed or too old */
	FH_CTR_DROP_ESP_PAD,       /* ESP: padding wrong */
	FH_CTR_DROP_ESP_OTHER,     /* ESP: next header, lifetime, sequence space, crypto */
	FH_CTR_DROP_INNER,         /* decrypted packet is not what the tunnel carries */
	FH_CTR_DROP_GRE,           /* GRE header wrong (version, key, checksum) */
	FH_CTR_HANDOFF,            /* ESP handed to the worker owning its SA */
	FH_CTR_FRAGMENTED,         /* fragments made before encryption (inner packet over the tunnel MTU, no DF) */
	FH_CTR_DROP_HANDOFF_FULL,  /* that worker is behind: its handoff ring is full */
	FH_CTR_DROP_PUNT_FULL,     /* control lcore behind: punt ring full */
	FH_CTR_DROP_TX_FULL,       /* port TX queue full */
	FH_CTR_MAX,
};

const char *fh_dp_ctr_name(enum fh_dp_ctr c);

/* What a packet was punted for; kept in the mbuf's hash.usr so the control lcore need not reparse. */
enum fh_punt_kind {
	FH_PUNT_ARP = 1,
	FH_PUNT_IKE,
	FH_PUNT_ICMP,      /* with Ethernet, from a port */
	FH_PUNT_ROUTING,
	FH_PUNT_ICMP_IP,   /* an IP packet for us out of a tunnel (no Ethernet) */
	FH_PUNT_NHRP,
	FH_PUNT_ICMP_ERR,  /* a dropped IP packet whose sender gets an ICMP error: hash.fdir.hi
			    * holds type << 24 | code << 16 | next-hop MTU */
};

/* What the control lcore puts on a worker's TX ring (mbuf->hash.usr). */
enum fh_tx_kind {
	FH_TX_FRAME = 1, /* an Ethernet frame for port mbuf->port */
	FH_TX_ROUTE,     /* an IPv4 packet to route like transit traffic (may enter a tunnel) */
};

struct fh_dp_counters {
	uint64_t c[FH_CTR_MAX];
} __rte_cache_aligned;

struct fh_dp_tunnel {
	bool up;             /* has an outbound SA */
	uint8_t mode;        /* enum fh_tunnel_mode: GRE inside ESP, or IPv4 directly */
	bool has_key;
	uint32_t key;
	uint32_t src, dst;   /* endpoints, host order */
	uint16_t mtu;        /* largest inner packet */
	int if_idx;
	struct fh_sa *out;
};

/* The worker owning an inbound SA: one writer per replay window, no atomics on it (the packets
 * of an SA that arrive elsewhere are handed over). Spread by SPI. */
static inline uint16_t fh_dp_sa_owner(uint32_t spi, uint16_t n_workers)
{
	return (uint16_t)(spi % n_workers);
}

struct fh_dp_sa_slot {
	uint32_t spi;        /* 0 = empty (SPI 0 is reserved, RFC 4303 2.1) */
	uint16_t tunnel;
	struct fh_sa *sa;
};

struct fh_dp_neigh {
	uint32_t ip;         /* host order; 0 = empty */
	uint16_t port;
	struct rte_ether_addr mac;
};

/* Tables the control lcore publishes to workers: read-only once published. The FIB and SAs are
 * pointed to; the control lcore owns them and frees them only after a grace period. */
struct fh_dp_tables {
	uint32_t n_local;
	uint32_t local_addr[FH_DP_LOCAL_ADDRS_MAX]; /* network order, for a compare without a swap */
	uint16_t local_port[FH_DP_LOCAL_ADDRS_MAX]; /* port the address lives on; UINT16_MAX = any */
	uint32_t generation;
	struct fh_fib *fib;
	uint32_t n_tunnels;
	struct fh_dp_tunnel tun[FH_DP_TUNNELS_MAX];
	struct fh_dp_sa_slot sa_in[FH_DP_SA_SLOTS];
	struct fh_dp_neigh neigh[FH_DP_NEIGH_SLOTS];
};

/* Is dst (network order) one of our addresses? A linear scan: FH_DP_LOCAL_ADDRS_MAX is small. */
static inline bool fh_dp_is_local(const struct fh_dp_tables *t, uint32_t dst_be)
{
	for (uint32_t i = 0; i < t->n_local; i++)
		if (t->local_addr[i] == dst_be)
			return true;
	return false;
}

/* Slot lookups shared by workers and the control lcore. */
static inline const struct fh_dp_sa_slot *fh_dp_sa_find(const struct fh_dp_tables *t, uint32_t spi)
{
	for (uint32_t i = 0, h = (spi * 2654435761u) & (FH_DP_SA_SLOTS - 1); i < FH_DP_SA_SLOTS;
	     i++, h = (h + 1) & (FH_DP_SA_SLOTS - 1)) {
		if (t->sa_in[h].spi == spi)
			return &t->sa_in[h];
		if (t->sa_in[h].spi == 0)
			return NULL;
	}
	return NULL;
}

static inline uint32_t fh_dp_neigh_hash(uint32_t ip, uint16_t port)
{
	return ((ip ^ ((uint32_t)port << 24)) * 2654435761u) & (FH_DP_NEIGH_SLOTS - 1);
}

static inline const struct fh_dp_neigh *fh_dp_neigh_find(const struct fh_dp_tables *t, uint32_t ip, uint16_t port)
{
	for (uint32_t i = 0, h = fh_dp_neigh_hash(ip, port); i < FH_DP_NEIGH_SLOTS; i++, h = (h + 1) & (FH_DP_NEIGH_SLOTS - 1)) {
		if (t->neigh[h].ip == ip && t->neigh[h].port == port)
			return &t->neigh[h];
		if (t->neigh[h].ip == 0)
			return NULL;
	}
	return NULL;
}

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
	struct rte_ring *resolve;                /* MP (workers) / SC (control): next hops to ARP for */
	struct rte_ring *handoff[FH_DP_WORKERS_MAX]; /* MP (workers) / SC (owner): ESP for its SAs */
	struct fh_esp_lcore *esp[FH_DP_WORKERS_MAX]; /* per worker crypto state */
	struct rte_rcu_qsbr *qsbr;
	struct fh_dp_tables *tables;             /* RCU-published */
	struct fh_dp_counters ctr[FH_DP_WORKERS_MAX];
	volatile bool quit;
};

/* Set up rings, per-worker crypto state and QSBR for n_workers; 0 or -errno. Control lcore,
 * before workers start. */
int fh_dp_init(struct fh_dp *dp, uint16_t n_workers, unsigned int socket, const struct fh_crypto_engine *eng);
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
 * lcore should get it. FH_CTR_ESP_IN means ESP to us (the SA is looked up next), FH_CTR_FORWARDED
 * transit traffic. Pure function of the packet and the tables, for unit tests and fuzzing. */
enum fh_dp_ctr fh_dp_classify(const struct fh_dp_tables *t, const struct rte_ether_addr *port_mac,
			      const uint8_t *pkt, uint32_t len, enum fh_punt_kind *punt);

/* Sum one counter over workers. */
uint64_t fh_dp_counter(const struct fh_dp *dp, enum fh_dp_ctr c);

/* A worker adds to its own counters only: a relaxed store of the sum is enough for readers. */
static inline void fh_dp_count(struct fh_dp_counters *ctr, enum fh_dp_ctr c, uint64_t n)
{
	__atomic_store_n(&ctr->c[c], ctr->c[c] + n, __ATOMIC_RELAXED);
}
void fh_dp_counters_clear(struct fh_dp *dp);

#endif
