/* SPDX-License-Identifier: BSD-3-Clause */
/* Stable handles, the O(1) map and the SA database under churn: 100,000 objects added and removed
 * in random order, every lookup checked against a model kept beside it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_handle.h"
#include "fh_sadb.h"
#include "fh_test.h"

#define N 100000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void shuffle(uint32_t *v, uint32_t n)
{
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = rnd() % (i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static void test_slots(void)
{
	struct fh_slots s;
	fh_handle_t *h = malloc(N * sizeof(*h)), stale;
	uint32_t *order = malloc(N * sizeof(*order));
	bool ok = true;

	fh_check(fh_slots_init(&s, N) == 0, "slots: %u slots", N);
	for (uint32_t i = 0; i < N; i++) {
		h[i] = fh_slots_alloc(&s);
		ok &= h[i] != FH_HANDLE_NONE && fh_slots_get(&s, h[i]) >= 0;
		order[i] = i;
	}
	fh_check(ok && s.used == N, "slots: %u allocated, all live", N);
	errno = 0;
	fh_check(fh_slots_alloc(&s) == FH_HANDLE_NONE && errno == ENOSPC, "slots: full is ENOSPC, not a hang");
	shuffle(order, N);
	ok = true;
	for (uint32_t i = 0; i < N / 2; i++)
		ok &= fh_slots_free(&s, h[order[i]]);
	fh_check(ok && s.used == N / 2, "slots: half freed in random order");
	ok = true;
	for (uint32_t i = 0; i < N; i++)
		ok &= (fh_slots_get(&s, h[order[i]]) >= 0) == (i >= N / 2);
	fh_check(ok, "slots: freed handles are stale, the others live");
	stale = h[order[0]];
	fh_check(!fh_slots_free(&s, stale), "slots: a stale handle is not freed twice");
	ok = true;
	for (uint32_t i = 0; i < N / 2; i++) {
		h[order[i]] = fh_slots_alloc(&s);
		ok &= h[order[i]] != FH_HANDLE_NONE;
	}
	fh_check(ok && s.used == N, "slots: slots reused");
	fh_check(fh_slots_get(&s, stale) < 0, "slots: the old handle of a reused slot stays stale");
	fh_slots_fini(&s);
	free(h);
	free(order);
}

static void test_map(void)
{
	struct fh_map m;
	uint64_t *key = malloc(N * sizeof(*key));
	uint32_t *order = malloc(N * sizeof(*order)), v;
	bool ok = true;
	uint64_t before;

	fh_check(fh_map_init(&m, 16) == 0, "map: created small (it grows)");
	for (uint32_t i = 0; i < N; i++) {
		/* SPI-like keys: sequential and clustered values are the hard case for a weak hash */
		key[i] = i < N / 2 ? 0x1000 + i : (uint64_t)rnd() << 20 | i;
		ok &= fh_map_put(&m, key[i], i) == 0;
		order[i] = i;
	}
	fh_check(ok && m.n == N, "map: %u keys", N);
	shuffle(order, N);
	for (uint32_t i = 0; i < N / 2; i++)
		ok &= fh_map_del(&m, key[order[i]]);
	fh_check(ok && m.n == N / 2, "map: half deleted in random order");
	ok = true;
	before = m.probes;
	for (uint32_t i = 0; i < N; i++) {
		bool there = fh_map_get(&m, key[order[i]], &v);

		ok &= there == (i >= N / 2) && (!there || v == order[i]);
	}
	fh_check(ok, "map: every lookup right after deletions (backward shift kept clusters whole)");
	fh_check((m.probes - before) < 4ull * N, "map: %.2f slots per lookup", (double)(m.probes - before) / N);
	fh_check(!fh_map_del(&m, key[order[0]]), "map: deleting an absent key says so");
	for (uint32_t i = 0; i < N / 2; i++)
		fh_map_del(&m, key[order[N / 2 + i]]);
	fh_check(m.n == 0, "map: empty again");
	fh_map_fini(&m);
	free(key);
	free(order);
}

static void test_sadb(void)
{
	struct fh_sadb *db = fh_sadb_new(N, 1024);
	struct fh_sadb_pair **p = calloc(N, sizeof(*p)), *q;
	uint32_t *order = malloc(N * sizeof(*order)), cursor = 0, n = 0;
	fh_handle_t tun[1024];
	bool ok = true;

	for (uint32_t t = 0; t < 1024; t++)
		tun[t] = (fh_handle_t)(t + 1) << FH_HANDLE_SLOT_BITS | t; /* a handle of slot t */
	for (uint32_t i = 0; i < N; i++) {
		p[i] = fh_sadb_add(db, tun[i % 1024], 0x100 + i, 0x80000000u + i, FH_SADB_IKE);
		ok &= p[i] != NULL;
		if (p[i] != NULL)
			fh_sadb_set_state(db, p[i], i % 3 == 0 ? FH_SADB_STANDBY : FH_SADB_ACTIVE);
		order[i] = i;
	}
	fh_check(ok && fh_sadb_count(db) == N, "sadb: %u pairs over 1024 tunnels", N);
	errno = 0;
	fh_check(fh_sadb_add(db, tun[0], 0x100, 7, FH_SADB_IKE) == NULL, "sadb: a used inbound SPI is refused");
	fh_check(fh_sadb_add(db, tun[0], 0x7fffffff, 7, FH_SADB_IKE) == NULL && errno == ENOSPC,
		 "sadb: past the pair limit ENOSPC");
	/* newest active of tunnel 5: the highest i with i % 1024 == 5 and i % 3 != 0 */
	{
		uint32_t best = 0;

		for (uint32_t i = 5; i < N; i += 1024)
			if (i % 3 != 0)
				best = i;
		q = fh_sadb_outbound(db, tun[5]);
		fh_check(q != NULL && q->spi_in == 0x100 + best, "sadb: outbound is the newest active pair");
	}
	shuffle(order, N);
	for (uint32_t i = 0; i < N / 2; i++) {
		fh_handle_t h = p[order[i]]->handle;

		fh_sadb_del(db, p[order[i]]);
		ok &= fh_sadb_get(db, h) == NULL;
		p[order[i]] = NULL;
	}
	fh_check(ok && fh_sadb_count(db) == N / 2, "sadb: half removed in random order, their handles stale");
	ok = true;
	for (uint32_t i = 0; i < N; i++) {
		struct fh_sadb_pair *f = fh_sadb_find_spi(db, 0x100 + i);

		ok &= p[i] != NULL ? f == p[i] && f->spi_out == 0x80000000u + i && fh_sadb_get(db, f->handle) == f
				   : f == NULL;
	}
	fh_check(ok, "sadb: every SPI lookup right");
	ok = true;
	for (uint32_t t = 0; t < 1024; t++) {
		uint32_t c = 0, want = 0;
		uint64_t last = UINT64_MAX;
		struct fh_sadb_pair *out = NULL, *standby = NULL;

		for (uint32_t i = t; i < N; i += 1024)
			want += p[i] != NULL;
		for (q = fh_sadb_tunnel_first(db, tun[t]); q != NULL; q = fh_sadb_tunnel_next(db, q)) {
			ok &= q->tunnel == tun[t] && q->installed < last;
			last = q->installed;
			if (q->state == FH_SADB_ACTIVE && out == NULL)
				out = q;
			if (q->state == FH_SADB_STANDBY && standby == NULL)
				standby = q;
			c++;
		}
		ok &= c == want && c == fh_sadb_tunnel_count(db, tun[t]);
		ok &= fh_sadb_outbound(db, tun[t]) == (out != NULL ? out : standby);
	}
	fh_check(ok, "sadb: per-tunnel lists newest first, counts and outbound choice right");
	while ((q = fh_sadb_next(db, &cursor)) != NULL)
		n++;
	fh_check(n == N / 2, "sadb: the cursor visits each pair once");
	for (uint32_t i = 0; i < N; i++)
		if (p[i] != NULL) {
			p[i] = fh_sadb_find_spi(db, 0x100 + i);
			fh_sadb_del(db, p[i]);
		}
	fh_check(fh_sadb_count(db) == 0 && fh_sadb_count_state(db, FH_SADB_ACTIVE) == 0 &&
		 fh_sadb_count_state(db, FH_SADB_STANDBY) == 0 && fh_sadb_tunnel_first(db, tun[5]) == NULL,
		 "sadb: empty again, state counts back to 0");
	/* standby fallback and its promotion when the active one goes */
	{
		struct fh_sadb_pair *a = fh_sadb_add(db, tun[9], 11, 12, FH_SADB_IKE);
		struct fh_sadb_pair *b = fh_sadb_add(db, tun[9], 21, 22, FH_SADB_IKE);

		fh_sadb_set_state(db, a, FH_SADB_ACTIVE);
		fh_sadb_set_state(db, b, FH_SADB_STANDBY);
		fh_check(fh_sadb_outbound(db, tun[9]) == a, "sadb: the active pair encrypts while a rekeyed one waits");
		fh_sadb_set_state(db, a, FH_SADB_RETIRING);
		fh_check(fh_sadb_outbound(db, tun[9]) == b, "sadb: a retiring pair never encrypts; standby takes over");
		fh_check(fh_sadb_find_spi(db, 11) == NULL && fh_sadb_get(db, a->handle) == a,
			 "sadb: a retiring pair is out of the SPI index but still held by its handle");
		{
			struct fh_sadb_pair *c = fh_sadb_add(db, tun[9], 11, 13, FH_SADB_STATIC);

			fh_check(c != NULL && fh_sadb_find_spi(db, 11) == c, "sadb: its SPI can be taken at once");
			fh_sadb_del(db, a);
			fh_check(fh_sadb_find_spi(db, 11) == c, "sadb: deleting the retired pair leaves the new one indexed");
			a = c;
		}
		fh_sadb_del(db, a);
		fh_sadb_del(db, b);
		fh_check(fh_sadb_outbound(db, tun[9]) == NULL, "sadb: no pair, no outbound");
	}
	fh_sadb_free(db);
	free(p);
	free(order);
}

int main(void)
{
	test_slots();
	test_map();
	test_sadb();
	return fh_test_done();
}
