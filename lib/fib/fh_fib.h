/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_FIB_H
#define FH_FIB_H

/*
 * IPv4 FIB: one rte_lpm (DIR-24-8) for the daemon's life, whose next-hop ids index a next-hop
 * array, and beside it the RIB the control lcore keeps: per prefix, every path that was offered
 * (connected, static, IKEv2-pushed, NHRP...) with its distance; the best one is in the LPM.
 *
 * Changes are incremental: a route added or removed is one rte_lpm_add/rte_lpm_delete of that
 * prefix (the LPM falls back to the covering route by itself); next hops are shared by every
 * route through them, reference-counted, and an unused one is freed only after a QSBR grace
 * period (and so are the LPM's tbl8 groups, through rte_lpm's own RCU support), so a worker that
 * looked a route up a moment ago still reads what it found. A tunnel next hop names the tunnel's
 * interface slot; the tunnel's SAs change without touching any route.
 *
 * Threading: fh_fib_lookup from any worker, lock-free; everything else on the control lcore.
 * Errors: -1 with errno: ENOSPC (routes, next hops or tbl8 groups used up: the limit to raise is
 * in the log line of the caller), ENOMEM, ENOENT (no such route).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_lpm.h>
#include <rte_rcu_qsbr.h>

#include "fh_handle.h"

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
	FH_RT_EIGRP,     /* D (learned by FRR's eigrpd) */
	FH_RT_OSPF,      /* O */
	FH_RT_BGP,       /* B */
	FH_RT_FRR,       /* S (FRR's static routes, and protocols without an IOS code here) */
	FH_RT_SRC_MAX,
};

struct fh_nh {
	uint8_t kind;
	uint16_t port;   /* data-plane port index */
	uint32_t tunnel; /* tunnel: its interface slot */
	uint32_t gw;     /* host order */
	int32_t if_idx;  /* interface slot, for show and ICMP source selection */
};

struct fh_fib_params {
	uint32_t max_routes;   /* prefixes (limits.routes) */
	uint32_t max_nh;       /* distinct next hops (limits.next-hops) */
	uint32_t tbl8_groups;  /* limits.lpm-tbl8-groups */
	struct rte_rcu_qsbr *qsbr; /* the workers' QSBR variable; NULL in tests without readers */
	int socket;
};

/* A route as show commands see it: the best path, and how many were offered. */
struct fh_route {
	uint32_t prefix; /* host order */
	uint8_t len;
	uint8_t src;
	uint8_t distance;
	struct fh_nh nh;
	uint32_t n_paths;
};

struct fh_rib; /* control-lcore side, private */

struct fh_fib {
	struct rte_lpm *lpm;
	/* rte_lpm takes depths 1..32: the default route's next-hop id lives here, read when the LPM
	 * has no match (UINT32_MAX none) */
	uint32_t default_nh;
	struct fh_nh *nh;     /* by next-hop id; written before an id is published, never after */
	struct fh_rib *rib;
};

struct fh_fib *fh_fib_new(const struct fh_fib_params *p);
/* After the workers stopped. */
void fh_fib_free(struct fh_fib *f);

/*
 * Offer a path to prefix/len from (src, owner): a path of the same src and owner to the same
 * prefix is replaced, others are kept; the best path (lowest distance, then the oldest) is what
 * workers use. owner is the caller's tag (an interface handle, FH_FIB_OWNER_CONFIG, ...), so
 * that everything one owner offered can be withdrawn at once. 0 or -1 (ENOSPC, ENOMEM).
 */
int fh_fib_add(struct fh_fib *f, uint32_t prefix, uint8_t len, uint8_t src, uint8_t distance,
	       const struct fh_nh *nh, uint32_t owner);
/* Withdraw the path of (src, owner) to prefix/len; 0 or -1 (ENOENT). */
int fh_fib_del(struct fh_fib *f, uint32_t prefix, uint8_t len, uint8_t src, uint32_t owner);
/* Withdraw every path an owner offered; returns how many. O(that owner's paths). */
uint32_t fh_fib_del_owner(struct fh_fib *f, uint32_t owner);

/* Reload support: fh_fib_mark_begin starts a new epoch; paths offered (or offered again,
 * unchanged) after it carry it; fh_fib_sweep withdraws the owner's paths not offered since.
 * Unchanged routes are never withdrawn, so forwarding on them does not stop for a moment. */
void fh_fib_mark_begin(struct fh_fib *f);
uint32_t fh_fib_sweep(struct fh_fib *f, uint32_t owner);

/* Free next hops whose grace period has passed (non-blocking); call every control-loop pass. */
void fh_fib_reclaim(struct fh_fib *f);

/* The best route of an exact prefix; false when there is none. */
bool fh_fib_get(const struct fh_fib *f, uint32_t prefix, uint8_t len, struct fh_route *out);
/* Every route by cursor (start at 0), in no particular order; false at the end. */
bool fh_fib_next(const struct fh_fib *f, uint32_t *cursor, struct fh_route *out);

struct fh_fib_stats {
	uint32_t routes, paths, next_hops;
	uint32_t nh_pending;     /* next hops waiting for their grace period */
	uint64_t lpm_adds, lpm_dels;
	uint64_t full;           /* adds refused: a limit was reached */
};
void fh_fib_stats(const struct fh_fib *f, struct fh_fib_stats *out);

/* Owner tag of routes that come from the config file (connected, local, ip route). */
#define FH_FIB_OWNER_CONFIG 0xffffffffu
/* Owner tags of routes FRR installed through interface slot s (synced from the kernel,
 * app/flexhub/routing.c): one per interface, so a tunnel that goes down withdraws its own. Apart
 * from interface handles (a generation of at most 1023 over slots below 2^20 ends at 0xffcfffff,
 * limits.interfaces being at most 2^20) and from the constants above. */
#define FH_FIB_OWNER_FRR(s) (0xffe00000u | (uint32_t)(s))

/* NULL when no route. */
static inline const struct fh_nh *fh_fib_lookup(const struct fh_fib *f, uint32_t dst)
{
	uint32_t id;

	if (rte_lpm_lookup(f->lpm, dst, &id) != 0) {
		id = __atomic_load_n(&f->default_nh, __ATOMIC_ACQUIRE);
		if (id == UINT32_MAX)
			return NULL;
	}
	return &f->nh[id];
}

#endif
