/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_FIB_H
#define FH_FIB_H

/*
 * IPv4 FIB: rte_lpm (DIR-24-8) whose next hop ids index a next-hop array; a next hop is a port
 * (connected: the destination itself is the neighbour), a gateway on a port, a tunnel interface,
 * or this router. Routes come from the control lcore (connected, static, later IKEv2 and NHRP).
 *
 * A FIB is built whole and then only read: the control lcore builds a new one when routes change,
 * publishes it with the data-plane tables, and frees the old one after a QSBR grace period
 * (double-buffered tables). Lookups are lock-free from any worker.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_lpm.h>

/* Distinct next hops; routes far outnumber them (many prefixes via one tunnel or gateway). */
#define FH_FIB_NH_MAX 4096

enum fh_nh_kind {
	FH_NH_DROP,
	FH_NH_LOCAL,   /* one of our addresses */
	FH_NH_PORT,    /* connected subnet on a port */
	FH_NH_GATEWAY, /* via a gateway on a port */
	FH_NH_TUNNEL,  /* into a tunnel interface */
};

/* Where a route came from, as "show ip route" codes it. */
enum fh_route_src {
	FH_RT_CONNECTED, /* C */
	FH_RT_LOCAL,     /* L */
	FH_RT_STATIC,    /* S */
	FH_RT_IKE,       /* S (pushed by IKEv2 mode-config) */
	FH_RT_NHRP,      /* S % (NHRP shortcut) */
};

struct fh_nh {
	uint8_t kind;
	uint16_t port;   /* data-plane port index */
	uint16_t tunnel; /* data-plane tunnel index */
	uint32_t gw;     /* host order */
	int if_idx;      /* interface table index, for show */
};

struct fh_route {
	uint32_t prefix; /* host order */
	uint8_t len;
	uint8_t src;
	uint8_t distance;
	struct fh_nh nh;
};

struct fh_fib {
	struct rte_lpm *lpm;
	uint32_t n_nh;
	struct fh_nh nh[FH_FIB_NH_MAX];
	uint32_t n_routes;
	struct fh_route *routes; /* what was installed, for show ip route */
};

/* Build from routes (the lowest distance wins per prefix; ties: first given). NULL on failure.
 * Control lcore; memory from rte_malloc (socket 0). */
struct fh_fib *fh_fib_build(const struct fh_route *r, uint32_t n, uint32_t generation);
void fh_fib_free(struct fh_fib *f);

/* NULL when no route. */
static inline const struct fh_nh *fh_fib_lookup(const struct fh_fib *f, uint32_t dst)
{
	uint32_t id;

	if (rte_lpm_lookup(f->lpm, dst, &id) != 0)
		return NULL;
	return &f->nh[id];
}

#endif
