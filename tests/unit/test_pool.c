/* SPDX-License-Identifier: BSD-3-Clause */
/* Address pools: ranges, stability per identity, the return-soon preference, FIFO reuse,
 * exclusion, exhaustion, reload, the table, and 100,000 random operations against a model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_pool.h"
#include "fh_test.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static int64_t get(struct fh_pool *p, const char *id)
{
	return fh_pool_alloc(p, id, strlen(id));
}

static struct fh_pool_stats stats(const struct fh_pool *p)
{
	struct fh_pool_stats st;

	fh_pool_stats(p, &st);
	return st;
}

static void test_ranges(void)
{
	struct fh_pool_range r[] = {{A(10, 0, 1, 10), A(10, 0, 1, 11)}, {A(10, 0, 0, 1), A(10, 0, 0, 3)}};
	struct fh_pool *p = fh_pool_new("P", r, 2);
	struct fh_pool_range_info ri;
	uint32_t want[] = {A(10, 0, 0, 1), A(10, 0, 0, 2), A(10, 0, 0, 3), A(10, 0, 1, 10), A(10, 0, 1, 11)};
	uint32_t cur = 0;
	bool ok = true;
	char id[24];

	fh_check(p != NULL && stats(p).addresses == 5 && stats(p).free == 5 && stats(p).ranges == 2,
		 "ranges: two ranges given out of order, 5 addresses");
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "spoke%d", i);
		ok &= get(p, id) == want[i];
	}
	fh_check(ok, "ranges: a fresh pool hands out in address order, across ranges");
	fh_check(fh_pool_range_next(p, &cur, &ri) && ri.first == A(10, 0, 0, 1) && ri.last == A(10, 0, 0, 3) &&
			 ri.in_use == 3 && ri.free == 0 && fh_pool_range_next(p, &cur, &ri) && ri.in_use == 2 &&
			 !fh_pool_range_next(p, &cur, &ri),
		 "ranges: the walk shows each range with its counts");
	fh_pool_free(p);
	r[1].last = A(10, 0, 1, 10);
	errno = 0;
	fh_check(fh_pool_new("P", r, 2) == NULL && errno == EINVAL, "ranges: overlapping ranges are EINVAL");
	r[0] = (struct fh_pool_range){5, 4};
	fh_check(fh_pool_new("P", r, 1) == NULL && errno == EINVAL, "ranges: first > last is EINVAL");
	r[0] = (struct fh_pool_range){0, FH_POOL_ADDRS_MAX};
	fh_check(fh_pool_new("P", r, 1) == NULL && errno == EINVAL, "ranges: more than FH_POOL_ADDRS_MAX is EINVAL");
	r[0] = (struct fh_pool_range){A(10, 0, 0, 0), A(10, 1, 134, 159)}; /* 100,000 addresses */
	p = fh_pool_new("big", r, 1);
	fh_check(p != NULL && stats(p).free == 100000, "ranges: a pool of 100,000 addresses");
	fh_pool_free(p);
}

static void test_identity(void)
{
	struct fh_pool_range r = {A(10, 1, 1, 2), A(10, 1, 1, 9)};
	struct fh_pool *p = fh_pool_new("P", &r, 1);
	int64_t a = get(p, "fqdn spoke1"), b, c, d, again;
	uint32_t found;

	again = get(p, "fqdn spoke1");
	fh_check(a == A(10, 1, 1, 2) && again == a && stats(p).in_use == 1 && stats(p).renewed == 1,
		 "identity: a second alloc of a holder returns its address (one lease, counted as renewed)");
	fh_check(fh_pool_find(p, "fqdn spoke1", 11, &found) && found == a && !fh_pool_find(p, "fqdn spoke2", 11, NULL),
		 "identity: find by identity");
	fh_check(fh_pool_release(p, (uint32_t)a) == 0, "identity: released");
	errno = 0;
	fh_check(fh_pool_release(p, (uint32_t)a) < 0 && errno == ENOENT, "identity: a second release is ENOENT");
	fh_check(fh_pool_release(p, A(10, 9, 9, 9)) < 0 && errno == ENOENT, "identity: release outside the pool is ENOENT");
	b = get(p, "fqdn spoke2");
	c = get(p, "fqdn spoke3");
	fh_check(b != a && c != a && b >= 0 && c >= 0, "identity: others get other addresses while any is free");
	d = get(p, "fqdn spoke1");
	fh_check(d == a && stats(p).returned == 1, "identity: back soon, it gets its old address again");
	fh_check(get(p, "") < 0 && errno == EINVAL, "identity: an empty identity is EINVAL");
	fh_pool_free(p);
}

static void test_fifo(void)
{
	struct fh_pool_range r = {A(10, 2, 0, 1), A(10, 2, 0, 4)};
	struct fh_pool *p = fh_pool_new("P", &r, 1);
	uint32_t order[] = {2, 0, 3, 1};
	int64_t a[4];
	bool ok = true;
	char id[24];

	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "old%d", i);
		a[i] = get(p, id);
	}
	for (int i = 0; i < 4; i++)
		fh_pool_release(p, (uint32_t)a[order[i]]);
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "new%d", i);
		ok &= get(p, id) == a[order[i]];
	}
	fh_check(ok, "fifo: new identities get the addresses in the order they were released (LRU first)");
	fh_check(get(p, "old0") < 0 && errno == ENOSPC,
		 "fifo: an old identity whose address went to another gets none when the pool is full");
	fh_pool_release(p, (uint32_t)a[2]);
	fh_check(get(p, "old0") == a[2], "fifo: ... and another address when one is free");
	fh_pool_free(p);
}

static void test_exclusion(void)
{
	struct fh_pool_range r[] = {{A(10, 3, 0, 1), A(10, 3, 0, 4)}, {A(10, 3, 1, 1), A(10, 3, 1, 2)}};
	struct fh_pool *p = fh_pool_new("P", r, 2);
	int64_t a, b;
	bool ok = true;

	fh_check(fh_pool_exclude(p, A(10, 3, 0, 1), A(10, 3, 0, 1)) == 1 && stats(p).excluded == 1 &&
			 stats(p).free == 5,
		 "exclude: one address, counted");
	a = get(p, "x");
	fh_check(a == A(10, 3, 0, 2), "exclude: an excluded address is not handed out");
	/* two owners: an interface address and a static route over .3-.4 and the second range */
	fh_check(fh_pool_exclude(p, A(10, 3, 0, 3), A(10, 3, 1, 1)) == 3 &&
			 fh_pool_exclude(p, A(10, 3, 0, 3), A(10, 3, 0, 3)) == 1 && stats(p).excluded == 4 &&
			 stats(p).free == 1,
		 "exclude: an interval across two ranges (3 addresses), and .3 a second time");
	fh_check(fh_pool_include(p, A(10, 3, 0, 3), A(10, 3, 1, 1)) == 3 && stats(p).excluded == 2 &&
			 stats(p).free == 3,
		 "include: .4 and 10.3.1.1 come back; .3 is still held by its second owner");
	fh_check(fh_pool_include(p, A(10, 3, 0, 3), A(10, 3, 0, 3)) == 1 && stats(p).excluded == 1 &&
			 stats(p).free == 4,
		 "include: .3 back after its last owner");
	errno = 0;
	fh_check(fh_pool_include(p, A(10, 3, 0, 3), A(10, 3, 0, 3)) < 0 && errno == ENOENT,
		 "include: of an interval not excluded is ENOENT");
	fh_check(fh_pool_exclude(p, 5, 4) < 0 && errno == EINVAL, "exclude: first > last is EINVAL");
	/* an allocated address excluded: stays with its holder, not handed out once released */
	fh_check(fh_pool_exclude(p, (uint32_t)a, (uint32_t)a) == 1 && get(p, "x") == a && stats(p).in_use == 1,
		 "exclude: an allocated address stays with its holder");
	fh_pool_release(p, (uint32_t)a);
	fh_check(stats(p).free == 4 && stats(p).in_use == 0, "exclude: released, it is not free");
	for (int i = 0; i < 4; i++) {
		char id[24];

		snprintf(id, sizeof(id), "y%d", i);
		b = get(p, id);
		ok &= b >= 0 && b != a && b != A(10, 3, 0, 1);
	}
	fh_check(ok && get(p, "x") < 0 && errno == ENOSPC, "exclude: never handed out, even to its last holder");
	fh_check(fh_pool_include(p, (uint32_t)a, (uint32_t)a) == 1 && get(p, "x") == a,
		 "include: back on the free list, its last holder gets it");
	/* cost: the intersection, not the interval: 2^31 addresses outside the pool cost nothing */
	fh_check(fh_pool_exclude(p, A(128, 0, 0, 0), A(255, 255, 255, 254)) == 0 &&
			 fh_pool_include(p, A(128, 0, 0, 0), A(255, 255, 255, 254)) == 0,
		 "exclude: a huge interval outside the pool touches nothing (and returns at once)");
	fh_pool_free(p);
}

static void test_exhaustion(void)
{
	struct fh_pool_range r = {A(10, 4, 0, 1), A(10, 4, 0, 5)};
	struct fh_pool *p = fh_pool_new("P", &r, 1);
	bool ok = true;
	int64_t a[5];
	char id[24];

	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		a[i] = get(p, id);
		ok &= a[i] >= 0;
	}
	errno = 0;
	fh_check(ok && get(p, "c5") < 0 && errno == ENOSPC && stats(p).exhausted == 1 && stats(p).free == 0,
		 "exhaustion: 6 clients on a pool of 5: the sixth gets ENOSPC, counted");
	fh_check(get(p, "c0") == a[0] && stats(p).exhausted == 1, "exhaustion: a holder still gets its address");
	fh_pool_release(p, (uint32_t)a[3]);
	fh_check(get(p, "c5") == a[3] && stats(p).allocations == 6 && stats(p).releases == 1,
		 "exhaustion: after a release the sixth gets the freed address");
	fh_pool_free(p);
}

static void test_reload(void)
{
	struct fh_pool_range r = {A(10, 5, 0, 1), A(10, 5, 0, 10)}, r2 = {A(10, 5, 0, 3), A(10, 5, 0, 20)};
	struct fh_pool *p = fh_pool_new("P", &r, 1);
	struct fh_pool_lease l;
	uint32_t cur = 0, n = 0, nd = 0;
	char id[24];

	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		get(p, id);
	}
	fh_pool_release(p, A(10, 5, 0, 5));
	fh_pool_exclude(p, A(10, 5, 0, 15), A(10, 5, 0, 15));
	fh_check(fh_pool_set_ranges(p, &r2, 1) == 0, "reload: new ranges");
	fh_check(stats(p).in_use == 4 && stats(p).draining == 2 && stats(p).addresses == 18 && stats(p).excluded == 1,
		 "reload: .1 and .2 drain, .3 and .4 stay; the remembered exclusion applies to the new .15");
	fh_check(get(p, "s1") == A(10, 5, 0, 1) && get(p, "s3") == A(10, 5, 0, 3),
		 "reload: holders keep their addresses, draining or not");
	fh_check(get(p, "s5") == A(10, 5, 0, 5), "reload: a free address that stayed remembers its identity");
	fh_check(get(p, "new") == A(10, 5, 0, 11), "reload: addresses new to the pool come first");
	while (fh_pool_lease_next(p, &cur, &l)) {
		n++;
		nd += l.draining;
	}
	fh_check(n == 6 && nd == 2, "reload: the lease walk shows 6 in use, 2 draining");
	fh_check(fh_pool_release(p, A(10, 5, 0, 1)) == 0 && stats(p).draining == 1 &&
			 fh_pool_release(p, A(10, 5, 0, 1)) < 0 && errno == ENOENT,
		 "reload: a draining address vanishes at its release");
	fh_check(get(p, "s1") != A(10, 5, 0, 1), "reload: and is never handed out again");
	fh_check(fh_pool_set_ranges(p, &r2, 1) == 0 && stats(p).draining == 1 && get(p, "s2") == A(10, 5, 0, 2),
		 "reload: a second reload carries the draining address still held");
	r2.first = 7;
	r2.last = 6;
	fh_check(fh_pool_set_ranges(p, &r2, 1) < 0 && errno == EINVAL && stats(p).in_use == 6,
		 "reload: bad ranges are EINVAL and change nothing");
	fh_pool_free(p);
}

static void test_table(void)
{
	struct fh_pool_table *t = fh_pool_table_new();
	struct fh_pool_range a = {A(10, 6, 0, 1), A(10, 6, 0, 9)}, b = {A(10, 7, 0, 1), A(10, 7, 0, 9)};
	struct fh_pool *pa, *pb;
	int64_t x;
	uint32_t cur = 0;

	fh_check(fh_pool_table_exclude(t, A(10, 7, 0, 1), A(10, 7, 0, 1)) == 0, "table: exclude before any pool");
	pa = fh_pool_table_set(t, "FlexPool", &a, 1);
	pb = fh_pool_table_set(t, "Other", &b, 1);
	fh_check(pa != NULL && pb != NULL && fh_pool_table_find(t, "FlexPool") == pa &&
			 fh_pool_table_find(t, "Other") == pb && fh_pool_table_find(t, "nope") == NULL &&
			 fh_pool_table_count(t) == 2,
		 "table: two pools found by name");
	fh_check(stats(pb).excluded == 1, "table: a pool created later gets the table's exclusions");
	x = get(pb, "spoke");
	fh_pool_table_begin(t);
	fh_pool_table_set(t, "FlexPool", &a, 1);
	fh_check(fh_pool_table_end(t) == 0 && fh_pool_table_find(t, "Other") == pb && stats(pb).draining == 1 &&
			 !fh_pool_table_configured(t, pb),
		 "table: a pool gone from the config with an address in use drains");
	fh_check(get(pb, "someone") < 0 && errno == ENOSPC, "table: ... and hands out nothing");
	fh_check(fh_pool_table_release(t, "Other", (uint32_t)x) == 0 && fh_pool_table_find(t, "Other") == NULL &&
			 fh_pool_table_count(t) == 1,
		 "table: it vanishes with its last address");
	fh_check(fh_pool_table_next(t, &cur) == pa && fh_pool_table_next(t, &cur) == NULL, "table: walk");
	fh_pool_table_begin(t);
	fh_check(fh_pool_table_end(t) == 1 && fh_pool_table_count(t) == 0, "table: an unused pool is freed at once");
	fh_pool_table_free(t);
}

/* The model: the pool's documented behaviour written the slow, obvious way. */
#define M_RANGES 3
#define M_IDS 1500
#define M_OPS 100000

struct model {
	uint32_t n;           /* addresses */
	uint32_t addr[1024];  /* model index -> address */
	int holder[1024];     /* identity holding it, -1 */
	int last[1024];       /* identity it remembers, -1 */
	uint32_t excl[1024];
	uint32_t fifo[1024], nf;
	int held[M_IDS];      /* model index the identity holds, -1 */
};

static int m_index(const struct model *m, uint32_t addr)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (m->addr[i] == addr)
			return (int)i;
	return -1;
}

static int m_fifo_pos(const struct model *m, uint32_t i)
{
	for (uint32_t k = 0; k < m->nf; k++)
		if (m->fifo[k] == i)
			return (int)k;
	return -1;
}

static void m_fifo_del(struct model *m, int k)
{
	memmove(&m->fifo[k], &m->fifo[k + 1], (m->nf - (uint32_t)k - 1) * sizeof(m->fifo[0]));
	m->nf--;
}

static void test_random(void)
{
	static struct model m;
	struct fh_pool_range r[M_RANGES] = {{A(10, 8, 0, 1), A(10, 8, 1, 144)},    /* 400 */
					    {A(10, 9, 0, 0), A(10, 9, 1, 43)},     /* 300 */
					    {A(172, 16, 0, 1), A(172, 16, 1, 44)}}; /* 300 */
	struct fh_pool *p = fh_pool_new("M", r, M_RANGES);
	uint32_t ex_lo[64], ex_hi[64], n_ex = 0, bad = 0, allocs = 0, nospc = 0;
	struct fh_pool_stats st;
	char id[24];

	for (int k = 0; k < M_RANGES; k++)
		for (uint32_t a = r[k].first; a <= r[k].last; a++)
			m.addr[m.n++] = a;
	for (uint32_t i = 0; i < m.n; i++) {
		m.holder[i] = m.last[i] = -1;
		m.fifo[m.nf++] = i;
	}
	for (int i = 0; i < M_IDS; i++)
		m.held[i] = -1;
	for (uint32_t op = 0; op < M_OPS && bad == 0; op++) {
		uint32_t c = rnd() % 100;

		if (c < 65) { /* alloc */
			int who = (int)(rnd() % M_IDS), want = -1, k;
			int64_t got;

			snprintf(id, sizeof(id), "id%d", who);
			if (m.held[who] >= 0) {
				want = m.held[who];
			} else {
				int prev = -1;

				for (uint32_t i = 0; i < m.n && prev < 0; i++)
					if (m.last[i] == who)
						prev = (int)i;
				if (prev >= 0 && m.holder[prev] < 0 && (k = m_fifo_pos(&m, (uint32_t)prev)) >= 0) {
					want = prev;
					m_fifo_del(&m, k);
				} else {
					if (prev >= 0)
						m.last[prev] = -1; /* excluded: forgotten */
					if (m.nf > 0) {
						want = (int)m.fifo[0];
						m_fifo_del(&m, 0);
					}
				}
				if (want >= 0) {
					m.holder[want] = m.last[want] = who;
					m.held[who] = want;
				}
			}
			got = fh_pool_alloc(p, id, strlen(id));
			if (want < 0) {
				nospc++;
				bad += !(got < 0 && errno == ENOSPC);
			} else {
				allocs++;
				bad += got != m.addr[want];
			}
		} else if (c < 95) { /* release someone's address */
			int who = (int)(rnd() % M_IDS), i = m.held[who];

			if (i < 0) {
				uint32_t j = rnd() % m.n;

				if (m.holder[j] < 0)
					bad += fh_pool_release(p, m.addr[j]) == 0; /* not allocated: ENOENT */
				continue;
			}
			bad += fh_pool_release(p, m.addr[i]) != 0;
			m.holder[i] = -1;
			m.held[who] = -1;
			if (m.excl[i] == 0)
				m.fifo[m.nf++] = (uint32_t)i;
		} else if (c < 98 && n_ex < 64) { /* exclude a few addresses */
			uint32_t lo = m.addr[rnd() % m.n], hi = lo + rnd() % 4;

			bad += fh_pool_exclude(p, lo, hi) < 0;
			ex_lo[n_ex] = lo;
			ex_hi[n_ex++] = hi;
			for (uint64_t a = lo; a <= hi; a++) {
				int i = m_index(&m, (uint32_t)a), k;

				if (i < 0 || m.excl[i]++ > 0)
					continue;
				if ((k = m_fifo_pos(&m, (uint32_t)i)) >= 0)
					m_fifo_del(&m, k);
			}
		} else if (n_ex > 0) { /* include one again */
			uint32_t e = rnd() % n_ex, lo = ex_lo[e], hi = ex_hi[e];

			bad += fh_pool_include(p, lo, hi) < 0;
			ex_lo[e] = ex_lo[--n_ex];
			ex_hi[e] = ex_hi[n_ex];
			for (uint64_t a = lo; a <= hi; a++) {
				int i = m_index(&m, (uint32_t)a);

				if (i >= 0 && --m.excl[i] == 0 && m.holder[i] < 0)
					m.fifo[m.nf++] = (uint32_t)i;
			}
		}
		if (op % 997 == 0) {
			uint32_t used = 0, ex = 0;

			fh_pool_stats(p, &st);
			for (uint32_t i = 0; i < m.n; i++) {
				used += m.holder[i] >= 0;
				ex += m.excl[i] > 0;
			}
			bad += st.in_use != used || st.free != m.nf || st.excluded != ex;
		}
	}
	fh_check(bad == 0, "random: %u operations agree with the model (%u allocations, %u refused full)", M_OPS, allocs,
		 nospc);
	for (int who = 0; who < M_IDS; who++)
		if (m.held[who] >= 0)
			bad += fh_pool_release(p, m.addr[m.held[who]]) != 0;
	while (n_ex > 0) {
		n_ex--;
		bad += fh_pool_include(p, ex_lo[n_ex], ex_hi[n_ex]) < 0;
	}
	fh_pool_stats(p, &st);
	fh_check(bad == 0 && st.in_use == 0 && st.free == 1000 && st.excluded == 0 && st.allocations == st.releases,
		 "random: everything released and included: all 1,000 free, allocations == releases (no leak)");
	fh_pool_free(p);
}

int main(void)
{
	test_ranges();
	test_identity();
	test_fifo();
	test_exclusion();
	test_exhaustion();
	test_reload();
	test_table();
	test_random();
	return fh_test_done();
}
