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
#include <rte_hash.h>
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
	FH_CTR_NEIGH_WAIT,         /* handed to the control lcore to wait for ARP (not a drop) */
	FH_CTR_DROP_NO_NEIGH,      /* next hop's MAC unknown and the wait queue full */
	FH_CTR_DROP_TUNNEL_DOWN,   /* route into a tunnel without an SA */
	FH_CTR_DROP_MTU,           /* DF set and too big for the tunnel */
	FH_CTR_DROP_ESP_LEN,       /* ESP: truncated or misaligned */
	FH_CTR_DROP_ESP_AUTH,      /* ESP: ICV failed */
	FH_CTR_DROP_ESP_REPLAY,    /* ESP: replayed or too old */
	FH_CTR_DROP_ESP_PAD,       /* ESP: padding wrong */
	FH_CTR_DROP_ESP_OTHER,     /* ESP: next header, lifetime, sequence space, crypto */
	FH_CTR_DROP_INNER,         /* decrypted packet is not what the tunnel carries */
	FH_CTR_DROP_SPOOFED,       /* decrypted on a Virtual-Access, inner source not the peer's */
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
	FH_PUNT_ROUTING_IP, /* a routing protocol's IP packet out of a tunnel (no Ethernet): hash.fdir.hi
			     * = the tunnel's interface slot */
	FH_PUNT_ICMP_ERR,  /* a dropped IP packet whose sender gets an ICMP error: hash.fdir.hi
			    * holds type << 24 | code << 16 | next-hop MTU */
};

/* What the control lcore puts on a worker's TX ring (mbuf->hash.usr). */
enum fh_tx_kind {
	FH_TX_FRAME = 1, /* an Ethernet frame for port mbuf->port */
	FH_TX_ROUTE,     /* an IPv4 packet to route like transit traffic (may enter a tunnel) */
	FH_TX_TUNNEL,    /* an IPv4 packet into the tunnel of interface slot hash.fdir.hi, whatever its
			  * destination (a routing protocol's multicast out of a kernel mirror) */
	FH_TX_PORT,      /* an IPv4 packet we originate out of port index mbuf->port to the neighbour
			  * hash.fdir.hi (host order): no TTL check, as FRR's TTL-1 packets need */
};

struct fh_dp_counters {
	uint64_t c[FH_CTR_MAX];
} __rte_cache_aligned;

/* A tunnel as workers see it. Published whole and never changed after (a change is a new copy
 * swapped in, the old one freed after a grace period), so a worker reads one consistent
 * version: endpoints, MTU and the outbound SA that goes with them. */
/* Inner sources a peer may send from (its mode-config address, the networks it announced). */
#define FH_DP_TUN_ALLOW_MAX 16
struct fh_dp_prefix {
	uint32_t net, mask;  /* host order */
};

struct fh_dp_tunnel {
	bool up;             /* has an outbound SA and a source */
	uint8_t n_allow;     /* 0: any inner source (configured tunnels: their routes decide) */
	uint8_t mode;        /* enum fh_tunnel_mode: GRE inside ESP, or IPv4 directly */
	bool has_key;
	uint16_t mtu;        /* largest inner packet */
	uint32_t key;
	uint32_t src, dst;   /* endpoints, host order */
	uint32_t slot;       /* its interface slot */
	struct fh_sa *out;
	struct fh_dp_prefix allow[FH_DP_TUN_ALLOW_MAX];
};

/* A spoke may not send from another's address: the inner source must be one the session gave or
 * the peer announced. A few prefixes, scanned: a spoke announces one LAN or two. */
static inline bool fh_dp_tunnel_allows(const struct fh_dp_tunnel *t, uint32_t src)
{
	if (t->n_allow == 0)
		return true;
	for (uint8_t i = 0; i < t->n_allow; i++)
		if ((src & t->allow[i].mask) == t->allow[i].net)
			return true;
	return false;
}

/* The worker owning an inbound SA: one writer per replay window, no atomics on it (the packets
 * of an SA that arrive elsewhere are handed over). Spread by SPI. */
static inline uint16_t fh_dp_sa_owner(uint32_t spi, uint16_t n_workers)
{
	return (uint16_t)(spi % n_workers);
}

struct fh_dp_neigh {
	uint32_t ip;         /* host order */
	uint16_t port;
	struct rte_ether_addr mac;
};

/* Our own addresses, replaced whole (they change with the config, not with peers). */
struct fh_dp_local {
	uint32_t n;
	uint32_t addr[FH_DP_LOCAL_ADDRS_MAX]; /* network order, for a compare without a swap */
	uint16_t port[FH_DP_LOCAL_ADDRS_MAX]; /* port the address lives on; UINT16_MAX = any */
};

/* Sizes, from the config's limits block. */
struct fh_dp_limits {
	uint32_t tunnel_slots;  /* interface slots (limits.interfaces): tunnels are indexed by slot */
	uint32_t sa_in;         /* inbound SAs (limits.sa-pairs) */
	uint32_t neighbours;
	uint32_t routes, next_hops, tbl8_groups;
};

/*
 * What workers look things up in. Each table lives as long as the daemon and changes one entry
 * at a time, by the control lcore: inbound SAs in an rte_hash with lock-free readers (SPI ->
 * struct fh_sa *), neighbours likewise ((ip, port) -> struct fh_dp_neigh *), tunnels as an array
 * of pointers by interface slot, the FIB by prefix (lib/fib). A replaced or removed entry is freed
 * through fh_dp_defer() after every worker passed a quiescent state.
 */
struct fh_dp_tables {
	struct fh_dp_local *local;      /* RCU pointer */
	struct fh_fib *fib;
	struct rte_hash *sa_in;
	struct rte_hash *neigh;
	struct fh_dp_tunnel **tun;      /* RCU pointers by interface slot; NULL: not a tunnel (now) */
	uint32_t n_tun;
};

static inline bool fh_dp_is_local(const struct fh_dp_tables *t, uint32_t dst_be)
{
	const struct fh_dp_local *l = __atomic_load_n(&t->local, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; l != NULL && i < l->n; i++)
		if (l->addr[i] == dst_be)
			return true;
	return false;
}

/* The inbound SA of an SPI, or NULL. Workers and the control lcore. */
static inline struct fh_sa *fh_dp_sa_find(const struct fh_dp_tables *t, uint32_t spi)
{
	void *sa;

	return rte_hash_lookup_data(t->sa_in, &spi, &sa) < 0 ? NULL : sa;
}

struct fh_dp_neigh_key {
	uint32_t ip;
	uint32_t port;
};

static inline const struct fh_dp_neigh *fh_dp_neigh_find(const struct fh_dp_tables *t, uint32_t ip, uint16_t port)
{
	struct fh_dp_neigh_key k = {.ip = ip, .port = port};
	void *n;

	return rte_hash_lookup_data(t->neigh, &k, &n) < 0 ? NULL : n;
}

static inline const struct fh_dp_tunnel *fh_dp_tunnel_get(const struct fh_dp_tables *t, uint32_t slot)
{
	return slot < t->n_tun ? __atomic_load_n(&t->tun[slot], __ATOMIC_ACQUIRE) : NULL;
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
	struct rte_ring *resolve;                /* MP (workers) / SC (control): packets whose next hop
						  * needs ARP (hash.usr: next hop, port: port index) */
	struct rte_ring *handoff[FH_DP_WORKERS_MAX]; /* MP (workers) / SC (owner): ESP for its SAs */
	struct fh_esp_lcore *esp[FH_DP_WORKERS_MAX]; /* per worker crypto state */
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;              /* frees waiting for a grace period */
	uint32_t dq_pending;
	uint64_t dq_sync;                        /* times the queue was full and we had to wait */
	struct fh_dp_tables tables;
	struct fh_dp_counters ctr[FH_DP_WORKERS_MAX];
	volatile bool quit;
	bool punt_routing;   /* FRR runs: routing protocols out of tunnels go to the control lcore */
};

/* Set up rings, per-worker crypto state, QSBR and the tables for n_workers; 0 or -errno.
 * Control lcore, before workers start. */
int fh_dp_init(struct fh_dp *dp, uint16_t n_workers, unsigned int socket, const struct fh_crypto_engine *eng,
	       const struct fh_dp_limits *lim);
/* After the workers stopped: runs every deferred free, then frees the tables. */
void fh_dp_fini(struct fh_dp *dp);

/*
 * Table changes, control lcore only. Each is one entry; nothing else is rebuilt and nothing waits
 * for the workers (but fh_dp_defer when its queue is full, counted in dq_sync).
 */
/* fn(ptr, arg) once every worker has passed a quiescent state. */
void fh_dp_defer(struct fh_dp *dp, void (*fn)(void *ptr, uint64_t arg), void *ptr, uint64_t arg);
/* Run the deferred frees whose grace period is over (non-blocking); every control-loop pass. */
void fh_dp_reclaim(struct fh_dp *dp);
/* An inbound SA visible to workers by its SPI (sa->owner and sa->tunnel set before). 0 or -errno
 * (-ENOSPC: limits.sa-pairs reached, -EEXIST). */
int fh_dp_sa_add(struct fh_dp *dp, struct fh_sa *sa);
/* No longer found by workers; the caller frees the SA through fh_dp_defer. */
int fh_dp_sa_del(struct fh_dp *dp, const struct fh_sa *sa);
/* Replace what workers see of tunnel slot (a copy of *v; NULL: not a tunnel). 0 or -ENOMEM. */
int fh_dp_tunnel_set(struct fh_dp *dp, uint32_t slot, const struct fh_dp_tunnel *v);
/* Learn or change a neighbour. 0 or -errno (-ENOSPC: limits.neighbours reached). */
int fh_dp_neigh_set(struct fh_dp *dp, uint32_t ip, uint16_t port, const struct rte_ether_addr *mac);
int fh_dp_neigh_del(struct fh_dp *dp, uint32_t ip, uint16_t port);
uint32_t fh_dp_neigh_count(const struct fh_dp *dp);
/* Our addresses, replaced whole. 0 or -ENOMEM. */
int fh_dp_local_set(struct fh_dp *dp, const struct fh_dp_local *l);

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
