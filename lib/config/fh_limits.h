/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_LIMITS_H
#define FH_LIMITS_H

/*
 * What the run-time tables cost, per entry, and the EAL memory a config's `limits:` block needs.
 *
 * The data plane sizes its tables from `limits:` at start (peers, SAs, routes and neighbours come
 * and go at run time, so the tables are sized for the most the operator allows, not for what the
 * file holds). `flexhub --check-config` refuses a config whose tables and mbufs do not fit in
 * dataplane.memory-mb, so a daemon that starts never finds its memory short later, when the
 * 10,000th peer arrives.
 *
 * The costs are estimates from the structures as they are designed (sizeof plus the share of the
 * hash or LPM structure that holds them); the lead refines them by measurement (rte_malloc_dump_stats
 * before and after filling each table). Keep them plain decimal literals: schema.c prints them
 * into doc/config.md.
 *
 * Threading: pure functions of a config; any thread. Ownership: nothing is allocated.
 */

#include <stdint.h>

#include "fh_config.h"

/* Interface slot: struct fh_iface (name, addresses, kind, port, state) plus its lookup entry. */
#define FH_COST_IFACE 256
/* Tunnel: the data-plane tunnel entry (endpoints, MTU, GRE key, outbound SA pointer, counters). */
#define FH_COST_TUNNEL 320
/*
 * Child SA pair, both directions: two SAs, each with an RFC 6479 replay window of up to 4096
 * packets (64 buckets of 8 B + head, 520 B), an engine session with expanded AES keys and the
 * precomputed HMAC inner/outer pads, per-lcore byte/packet counters, and the inbound SPI hash
 * entry. 4.5 KiB per pair.
 */
#define FH_COST_SA_PAIR 4608
/* Route: a RIB entry (prefix, length, source, distance, next hop index) plus its rte_lpm rule. */
#define FH_COST_ROUTE 96
/* FIB next hop: struct fh_nh (kind, interface, port or tunnel, gateway). */
#define FH_COST_NEXT_HOP 32
/* ARP cache entry: address, MAC, state, timers, the hash slot at half load. */
#define FH_COST_NEIGH 96
/* A packet held while ARP is outstanding: a pointer; the mbuf itself is in dataplane.mbufs. */
#define FH_COST_NEIGH_QUEUE_PKT 8
/* IKE SA: keys, nonces, the last message of each direction for retransmission (heap, not EAL). */
#define FH_COST_IKE_SA 6144
/*
 * Pool address (lib/pool): its slot (free-list and identity-chain links, identity pointer and
 * length, exclusion count, state: 32 B), its share of the identity hash's buckets (4..8 B), and
 * the identity copy of its holder (malloc: about 16 B of overhead plus a 30-40 B FQDN). Heap, not
 * EAL memory.
 */
#define FH_COST_POOL_ADDR 96
/* rte_lpm's tbl24: 2^24 entries of 4 B, whatever the route count: 64 MiB, fixed. */
#define FH_COST_LPM_TBL24 67108864
/* One rte_lpm tbl8 group: 256 entries of 4 B, one per /24 that holds longer prefixes. */
#define FH_COST_LPM_TBL8 1024
/* Packet buffer: 2048 B data room + 128 B headroom + struct rte_mbuf and pool header, rounded. */
#define FH_COST_MBUF 2304

/* EAL memory kept for DPDK itself (memzones, rings, ethdev queues, the mempool caches). */
#define FH_LIMITS_EAL_RESERVE_MB 64

/* dataplane.workers at most: the data plane's per-worker arrays (FH_DP_WORKERS_MAX, lib/dp). */
#define FH_CFG_WORKERS_MAX 64

/* One term of the data-plane memory: the key that sizes it and what it costs in bytes. */
struct fh_limits_share {
	const char *key; /* "limits.sa-pairs", "dataplane.mbufs"; NULL for a fixed cost */
	const char *what;
	uint64_t bytes;
};

/* Terms of fh_limits_dp_bytes(), at most this many. */
#define FH_LIMITS_SHARES_MAX 12

/* Fill out[] with every term (n = FH_LIMITS_SHARES_MAX is enough); returns how many. */
unsigned fh_limits_dp_shares(const struct fh_config *cfg, struct fh_limits_share *out, unsigned n);

/* EAL memory in bytes the data plane needs for cfg's limits and mbufs (everything but IKE SAs,
 * which live on the heap), without FH_LIMITS_EAL_RESERVE_MB. */
uint64_t fh_limits_dp_bytes(const struct fh_config *cfg);

/* Heap bytes of limits.ike-sas IKE SAs. */
uint64_t fh_limits_ike_bytes(const struct fh_config *cfg);

#endif
