/* SPDX-License-Identifier: BSD-3-Clause */
/* The incremental FIB: best path per prefix by distance, fallback to the covering route,
 * withdrawal by owner, mark-and-sweep reloads that leave unchanged routes alone, next hops shared
 * and freed after the grace period, limits that refuse instead of failing, and churn of 20,000
 * host routes over 10,000 tunnels checked against a model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "fh_fib.h"
#include "fh_test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct fh_nh port(uint16_t p)
{
	return (struct fh_nh){.kind = FH_NH_PORT, .port = p, .if_idx = p};
}

static struct fh_nh tun(uint32_t t)
{
	return (struct fh_nh){.kind = FH_NH_TUNNEL, .tunnel = t, .if_idx = (int32_t)t};
}

static bool via(const struct fh_fib *f, uint32_t dst, uint8_t kind, uint32_t what)
{
	const struct fh_nh *nh = fh_fib_lookup(f, dst);

	if (nh == NULL || nh->kind != kind)
		return false;
	return kind == FH_NH_TUNNEL ? nh->tunnel == what : nh->port == what;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_basics(struct rte_rcu_qsbr *q)
{
	struct fh_fib_params p = {.max_routes = 64, .max_nh = 16, .tbl8_groups = 16, .qsbr = q};
	struct fh_fib *f = fh_fib_new(&p);
	struct fh_nh a = port(0), b = port(1), t = tun(7);
	struct fh_fib_stats s;
	struct fh_route r;
	uint64_t adds;

	fh_check(f != NULL, "fib: created");
	fh_check(fh_fib_add(f, IP(10, 0, 0, 0), 8, FH_RT_STATIC, 1, &a, FH_FIB_OWNER_CONFIG) == 0 &&
		 fh_fib_add(f, IP(10, 1, 1, 0), 24, FH_RT_CONNECTED, 0, &b, FH_FIB_OWNER_CONFIG) == 0 &&
		 fh_fib_add(f, IP(10, 1, 1, 9), 32, FH_RT_IKE, 1, &t, 42) == 0, "fib: three routes");
	fh_check(via(f, IP(10, 9, 9, 9), FH_NH_PORT, 0) && via(f, IP(10, 1, 1, 8), FH_NH_PORT, 1) &&
		 via(f, IP(10, 1, 1, 9), FH_NH_TUNNEL, 7) && fh_fib_lookup(f, IP(11, 0, 0, 1)) == NULL,
		 "fib: longest prefix wins, no default route");
	fh_check(fh_fib_del(f, IP(10, 1, 1, 9), 32, FH_RT_IKE, 42) == 0 && via(f, IP(10, 1, 1, 9), FH_NH_PORT, 1),
		 "fib: a withdrawn /32 falls back to its /24");
	fh_check(fh_fib_del(f, IP(10, 1, 1, 9), 32, FH_RT_IKE, 42) < 0 && errno == ENOENT, "fib: withdrawing twice is ENOENT");
	/* distance: a static /24 at 250 (floating) under the connected one; the connected goes */
	fh_check(fh_fib_add(f, IP(10, 1, 1, 0), 24, FH_RT_STATIC, 250, &t, FH_FIB_OWNER_CONFIG) == 0 &&
		 via(f, IP(10, 1, 1, 5), FH_NH_PORT, 1), "fib: a floating static stays behind the connected route");
	fh_check(fh_fib_get(f, IP(10, 1, 1, 0), 24, &r) && r.n_paths == 2 && r.src == FH_RT_CONNECTED,
		 "fib: show sees the best path and two offered");
	fh_check(fh_fib_del(f, IP(10, 1, 1, 0), 24, FH_RT_CONNECTED, FH_FIB_OWNER_CONFIG) == 0 &&
		 via(f, IP(10, 1, 1, 5), FH_NH_TUNNEL, 7), "fib: ... and takes over when it goes");
	/* owner withdrawal */
	for (uint32_t i = 0; i < 10; i++)
		fh_fib_add(f, IP(172, 16, i, 0), 24, FH_RT_IKE, 1, &t, 99);
	fh_check(via(f, IP(172, 16, 3, 3), FH_NH_TUNNEL, 7) && fh_fib_del_owner(f, 99) == 10 &&
		 fh_fib_lookup(f, IP(172, 16, 3, 3)) == NULL, "fib: every route of one owner withdrawn at once");
	/* mark and sweep: unchanged routes not touched */
	fh_fib_stats(f, &s);
	adds = s.lpm_adds;
	fh_fib_mark_begin(f);
	fh_fib_add(f, IP(10, 0, 0, 0), 8, FH_RT_STATIC, 1, &a, FH_FIB_OWNER_CONFIG);
	fh_fib_stats(f, &s);
	fh_check(s.lpm_adds == adds, "fib: a route offered again unchanged is not rewritten");
	{
		/* rte_lpm has no depth 0: the default route lives beside it */
		struct fh_nh g = {.kind = FH_NH_GATEWAY, .port = 0, .gw = IP(192, 168, 0, 1), .if_idx = 1};

		fh_check(fh_fib_lookup(f, IP(203, 0, 113, 1)) == NULL, "fib: no route, no default: no match");
		fh_check(fh_fib_add(f, 0, 0, FH_RT_STATIC, 1, &g, 77) == 0, "fib: a default route is taken");
		fh_check(via(f, IP(203, 0, 113, 1), FH_NH_GATEWAY, 0) && via(f, IP(10, 200, 0, 1), FH_NH_PORT, 0),
			 "fib: the default route catches what nothing more specific does");
		fh_check(fh_fib_get(f, 0, 0, &r) && r.len == 0, "fib: the default route is in the RIB");
		fh_check(fh_fib_del_owner(f, 77) == 1 && fh_fib_lookup(f, IP(203, 0, 113, 1)) == NULL,
			 "fib: the default route withdrawn");
	}
	fh_check(fh_fib_sweep(f, FH_FIB_OWNER_CONFIG) == 1 && via(f, IP(10, 1, 1, 5), FH_NH_PORT, 0) &&
		 via(f, IP(10, 200, 0, 1), FH_NH_PORT, 0), "fib: the sweep withdrew only the route not offered again");
	/* limits */
	{
		int fails = 0;

		for (uint32_t i = 0; i < 100; i++)
			fails += fh_fib_add(f, IP(192, 168, i, 0), 24, FH_RT_STATIC, 1, &a, 5) < 0;
		fh_fib_stats(f, &s);
		fh_check(fails > 0 && s.routes == 64 && s.full > 0, "fib: past max-routes refused and counted (%d)", fails);
		fh_fib_del_owner(f, 5);
	}
	{
		int fails = 0;

		for (uint32_t i = 0; i < 40; i++) {
			struct fh_nh n = tun(100 + i);

			fails += fh_fib_add(f, IP(192, 168, i, 0), 24, FH_RT_STATIC, 1, &n, 6) < 0;
		}
		fh_check(fails > 0, "fib: past max next-hops refused (%d)", fails);
		fh_fib_del_owner(f, 6);
		fh_fib_reclaim(f);
		fh_fib_stats(f, &s);
		fh_check(s.nh_pending == 0 && s.next_hops <= 3, "fib: unused next hops freed after the grace period (%u left)",
			 s.next_hops);
	}
	fh_fib_free(f);
}

#define T 10000
#define R 20000

static void test_churn(struct rte_rcu_qsbr *q)
{
	struct fh_fib_params p = {.max_routes = R + 16, .max_nh = T + 16, .tbl8_groups = 1024, .qsbr = q};
	struct fh_fib *f = fh_fib_new(&p);
	uint32_t *dst = malloc(R * sizeof(*dst)), *tn = malloc(R * sizeof(*tn));
	bool *in = calloc(R, 1), ok = true;
	struct fh_fib_stats s;
	struct fh_nh lan = port(0);

	/* a covering route for what is not a host route: 10.0.0.0/8 via port 0 */
	fh_fib_add(f, IP(10, 0, 0, 0), 8, FH_RT_STATIC, 1, &lan, FH_FIB_OWNER_CONFIG);
	for (uint32_t i = 0; i < R; i++) {
		dst[i] = IP(10, 0, 0, 0) | (i * 7919u & 0xffff); /* distinct, over 256 /24s (tbl8 groups) */
		tn[i] = rnd() % T;
	}
	for (uint32_t round = 0; round < 4 * R; round++) {
		uint32_t i = rnd() % R;

		if (in[i]) {
			ok &= fh_fib_del(f, dst[i], 32, FH_RT_IKE, tn[i]) == 0;
		} else {
			struct fh_nh n = tun(tn[i]);

			ok &= fh_fib_add(f, dst[i], 32, FH_RT_IKE, 1, &n, tn[i]) == 0;
		}
		in[i] = !in[i];
		if (round % 64 == 0)
			fh_fib_reclaim(f);
	}
	fh_check(ok, "fib churn: %u adds/withdrawals of host routes over %u tunnels", 4 * R, T);
	ok = true;
	for (uint32_t i = 0; i < R; i++)
		ok &= in[i] ? via(f, dst[i], FH_NH_TUNNEL, tn[i]) : via(f, dst[i], FH_NH_PORT, 0);
	fh_check(ok, "fib churn: every lookup matches the model");
	for (uint32_t i = 0; i < R; i++)
		if (in[i])
			fh_fib_del_owner(f, tn[i]);
	fh_fib_reclaim(f);
	fh_fib_stats(f, &s);
	fh_check(s.routes == 1 && s.paths == 1 && s.next_hops == 1 && s.nh_pending == 0,
		 "fib churn: back to one route, one next hop (routes %u paths %u nh %u)", s.routes, s.paths, s.next_hops);
	fh_fib_free(f);
	free(dst);
	free(tn);
	free(in);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
		       "--file-prefix=fh-test-fib", NULL};
	struct rte_rcu_qsbr *q;

	(void)argc;
	if (rte_eal_init(8, eal) < 0) {
		printf("Bail out! EAL init failed\n");
		return 1;
	}
	/* a QSBR variable with one reader that never registers: grace periods end at once */
	q = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(q, 1);
	test_basics(q);
	test_churn(q);
	rte_free(q);
	rte_eal_cleanup();
	return fh_test_done();
}
