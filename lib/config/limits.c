/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL memory a config's limits and mbufs need: the sum of entries times their costs
 * (fh_limits.h). The validator compares it with dataplane.memory-mb.
 */
#include "fh_limits.h"

_Static_assert(FH_COST_LPM_TBL24 == (1u << 24) * 4u, "rte_lpm tbl24: 2^24 entries of 4 B");
_Static_assert(FH_COST_LPM_TBL8 == 256 * 4, "rte_lpm tbl8 group: 256 entries of 4 B");

static void put(struct fh_limits_share *out, unsigned n, unsigned *i, const char *key, const char *what,
		uint64_t bytes)
{
	if (*i < n)
		out[*i] = (struct fh_limits_share){key, what, bytes};
	(*i)++;
}

unsigned fh_limits_dp_shares(const struct fh_config *cfg, struct fh_limits_share *out, unsigned n)
{
	const struct fh_cfg_limits *l = &cfg->limits;
	unsigned i = 0;

	put(out, n, &i, "limits.interfaces", "interfaces", (uint64_t)l->interfaces * FH_COST_IFACE);
	put(out, n, &i, "limits.tunnels", "tunnels", (uint64_t)l->tunnels * FH_COST_TUNNEL);
	put(out, n, &i, "limits.sa-pairs", "SA pairs", (uint64_t)l->sa_pairs * FH_COST_SA_PAIR);
	put(out, n, &i, "limits.routes", "routes", (uint64_t)l->routes * FH_COST_ROUTE);
	put(out, n, &i, "limits.next-hops", "next hops", (uint64_t)l->next_hops * FH_COST_NEXT_HOP);
	put(out, n, &i, "limits.neighbours", "neighbours", (uint64_t)l->neighbours * FH_COST_NEIGH);
	put(out, n, &i, "limits.neighbour-queue", "held packets",
	    (uint64_t)l->neighbours * l->neighbour_queue * FH_COST_NEIGH_QUEUE_PKT);
	put(out, n, &i, NULL, "LPM tbl24", FH_COST_LPM_TBL24);
	put(out, n, &i, "limits.lpm-tbl8-groups", "LPM tbl8 groups", (uint64_t)l->lpm_tbl8_groups * FH_COST_LPM_TBL8);
	put(out, n, &i, "dataplane.mbufs", "mbufs", (uint64_t)cfg->dataplane.mbufs * FH_COST_MBUF);
	return i < n ? i : n;
}

uint64_t fh_limits_dp_bytes(const struct fh_config *cfg)
{
	struct fh_limits_share s[FH_LIMITS_SHARES_MAX];
	unsigned n = fh_limits_dp_shares(cfg, s, FH_LIMITS_SHARES_MAX);
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += s[i].bytes;
	return sum;
}

uint64_t fh_limits_ike_bytes(const struct fh_config *cfg)
{
	return (uint64_t)cfg->limits.ike_sas * FH_COST_IKE_SA;
}
