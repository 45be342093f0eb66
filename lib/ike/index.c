/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's lookup tables: chained hash tables whose links live in the objects they index
 * (IKE SAs, child SAs, tunnels), so that adding or removing an entry never allocates and an
 * object never moves. Several objects may share a key (the SAs of one peer address, the old and
 * new SA of a rekey under one tunnel-id); lookups walk the chain and the caller filters.
 *
 * Peers choose some of the keys (their SPIs, their addresses), so the bucket is a keyed hash with
 * a random secret per table: a peer cannot aim many entries at one chain without seeing into the
 * process.
 */
#include <stdlib.h>
#include <string.h>

#include "ike_int.h"

/* Grow when chains average more than this: lookups stay at one or two compares. */
#define IX_LOAD_MAX 2

static uint64_t mix(uint64_t x)
{
	/* the splitmix64 finalizer: every input bit moves every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint32_t bucket(const struct ike_index *x, uint64_t k1, uint64_t k2)
{
	return (uint32_t)(mix(mix(k1 ^ x->seed[0]) ^ k2 ^ x->seed[1]) & x->mask);
}

int ike_ix_init(struct ike_index *x, uint32_t hint)
{
	uint32_t n = 16;

	memset(x, 0, sizeof(*x));
	while (n < hint && n < (1u << 30))
		n <<= 1;
	x->b = calloc(n, sizeof(*x->b));
	if (x->b == NULL)
		return -1;
	x->mask = n - 1;
	x->seed[0] = ike_rand64();
	x->seed[1] = ike_rand64();
	return 0;
}

void ike_ix_fini(struct ike_index *x)
{
	free(x->b);
	memset(x, 0, sizeof(*x));
}

/* Twice the buckets, every node moved to its new chain; on ENOMEM the table stays as it is
 * (longer chains, still correct). */
static void grow(struct ike_index *x)
{
	uint32_t n = (x->mask + 1) * 2;
	struct ike_node **b = calloc(n, sizeof(*b)), **old = x->b;
	uint32_t old_n = x->mask + 1;

	if (b == NULL || n == 0) {
		free(b);
		return;
	}
	x->b = b;
	x->mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++)
		for (struct ike_node *e = old[i], *next; e != NULL; e = next) {
			uint32_t h = bucket(x, e->k1, e->k2);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(old);
}

void ike_ix_add(struct ike_index *x, struct ike_node *e, uint64_t k1, uint64_t k2)
{
	uint32_t h;

	if (e->linked)
		ike_ix_del(x, e);
	if (x->n >= (x->mask + 1) * IX_LOAD_MAX)
		grow(x);
	h = bucket(x, k1, k2);
	e->k1 = k1;
	e->k2 = k2;
	e->next = x->b[h];
	e->linked = true;
	x->b[h] = e;
	x->n++;
}

void ike_ix_del(struct ike_index *x, struct ike_node *e)
{
	struct ike_node **p;

	if (!e->linked)
		return;
	for (p = &x->b[bucket(x, e->k1, e->k2)]; *p != NULL; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			x->n--;
			break;
		}
	e->next = NULL;
	e->linked = false;
}

void ike_ix_set(struct ike_index *x, struct ike_node *e, bool want, uint64_t k1, uint64_t k2)
{
	if (!want)
		ike_ix_del(x, e);
	else if (!e->linked || e->k1 != k1 || e->k2 != k2)
		ike_ix_add(x, e, k1, k2);
}

static struct ike_node *walk(const struct ike_index *x, struct ike_node *e, uint64_t k1, uint64_t k2,
			     uint64_t *probes)
{
	for (; e != NULL; e = e->next) {
		if (probes != NULL)
			(*probes)++;
		if (e->k1 == k1 && e->k2 == k2)
			return e;
	}
	(void)x;
	return NULL;
}

struct ike_node *ike_ix_find(const struct ike_index *x, uint64_t k1, uint64_t k2, uint64_t *probes)
{
	if (x->b == NULL)
		return NULL;
	return walk(x, x->b[bucket(x, k1, k2)], k1, k2, probes);
}

struct ike_node *ike_ix_next(const struct ike_index *x, const struct ike_node *e, uint64_t *probes)
{
	return walk(x, e->next, e->k1, e->k2, probes);
}
