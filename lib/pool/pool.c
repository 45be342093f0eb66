/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address pools: a slot per address (ranges in address order, then the draining addresses of a
 * reload), a FIFO of free slots doubly linked through the slots (so a returning identity takes
 * its old address out of the middle), and an identity hash chained through the slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fh_handle.h"
#include "fh_pool.h"

#define NIL UINT32_MAX

enum slot_state {
	S_FREE,  /* on the free FIFO */
	S_USED,  /* allocated */
	S_OFF,   /* not allocated, excluded: off the FIFO */
	S_DEAD,  /* a draining address that was released: gone until the next reload compacts */
};

struct slot {
	uint32_t next, prev; /* free FIFO (S_FREE) */
	uint32_t hnext;      /* identity chain; NIL ends it */
	uint32_t hash;       /* of the identity */
	uint8_t *id;         /* the holder's (S_USED) or last holder's identity; NULL = none */
	uint32_t excl;       /* exclusions covering the address */
	uint16_t id_len;
	uint8_t state;       /* enum slot_state */
};

struct range {
	uint32_t first, last;
	uint32_t base;   /* slot of first */
	uint32_t used;   /* allocated */
	uint32_t off;    /* excluded and not allocated */
	uint32_t excl_n; /* excluded (allocated or not) */
};

struct excl {
	uint32_t first, last, refs;
};

/* Exclusion records: intervals with a reference count, found in O(1) by (first, last). */
struct excl_set {
	struct excl *e;
	uint32_t n, cap;
	struct fh_map by_iv; /* first << 32 | last -> index */
};

struct fh_pool {
	char name[FH_POOL_NAME_MAX];
	struct range range[FH_POOL_RANGES_MAX];
	uint32_t n_range;
	uint32_t n_addr;       /* slots [0, n_addr) are the ranges' addresses */
	uint32_t n_slot;       /* then the draining ones up to n_slot */
	struct slot *slot;
	uint32_t *drain_addr;  /* by slot - n_addr */
	struct fh_map drain;   /* draining address -> slot */
	uint32_t n_drain;      /* draining slots still allocated */
	uint32_t *bucket;
	uint32_t bmask;
	uint64_t seed[2];
	uint32_t head, tail;   /* free FIFO: alloc at the head, release at the tail */
	struct excl_set ex;
	struct fh_pool_stats st; /* counters; the gauges are computed in fh_pool_stats */
};

/* splitmix64's finaliser */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* A keyed hash of the identity: not a MAC, but peers do not know the seed, so they cannot
 * choose identities that share a chain. */
static uint32_t id_hash(const struct fh_pool *p, const uint8_t *id, size_t len)
{
	uint64_t h = p->seed[0] ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, id + i, 8);
		h = mix(h ^ w) + p->seed[1];
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, id + i, len - i);
		h = mix(h ^ w ^ (uint64_t)(len - i) << 59) + p->seed[1];
	}
	return (uint32_t)mix(h ^ p->seed[1]);
}

static void seed(struct fh_pool *p)
{
	static uint64_t fallback = 0x9e3779b97f4a7c15ull;

	if (getrandom(p->seed, sizeof(p->seed), GRND_NONBLOCK) != (ssize_t)sizeof(p->seed)) {
		/* no entropy yet (early boot): still distinct per pool */
		fallback = mix(fallback + (uintptr_t)p);
		p->seed[0] = fallback;
		p->seed[1] = mix(fallback ^ (uintptr_t)&p);
	}
}

/* ---- ranges ---- */

static int range_cmp(const void *a, const void *b)
{
	const struct fh_pool_range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorted, checked copy of the caller's ranges into out[]; the address count, or -1 (EINVAL). */
static int64_t ranges_prepare(const struct fh_pool_range *r, uint32_t n, struct range *out)
{
	struct fh_pool_range s[FH_POOL_RANGES_MAX];
	uint64_t total = 0;

	if (n > FH_POOL_RANGES_MAX || (n > 0 && r == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0)
		memcpy(s, r, n * sizeof(*s));
	qsort(s, n, sizeof(*s), range_cmp);
	for (uint32_t i = 0; i < n; i++) {
		if (s[i].first > s[i].last || (i > 0 && s[i].first <= s[i - 1].last)) {
			errno = EINVAL;
			return -1;
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].first = s[i].first;
		out[i].last = s[i].last;
		out[i].base = (uint32_t)total;
		total += (uint64_t)s[i].last - s[i].first + 1;
		if (total > FH_POOL_ADDRS_MAX) {
			errno = EINVAL;
			return -1;
		}
	}
	return (int64_t)total;
}

/* The range holding addr, or NULL: binary search. */
static const struct range *range_of_addr(const struct range *r, uint32_t n, uint32_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addr < r[mid].first)
			hi = mid;
		else if (addr > r[mid].last)
			lo = mid + 1;
		else
			return &r[mid];
	}
	return NULL;
}

/* The first range whose last is >= addr (n when none). */
static uint32_t range_from(const struct range *r, uint32_t n, uint32_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The range of a slot below n_addr. */
static struct range *range_of_slot(struct fh_pool *p, uint32_t s)
{
	uint32_t lo = 0, hi = p->n_range;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->range[mid].base <= s)
			lo = mid;
		else
			hi = mid;
	}
	return &p->range[lo];
}

static uint32_t slot_addr(const struct fh_pool *p, uint32_t s)
{
	if (s >= p->n_addr)
		return p->drain_addr[s - p->n_addr];
	{
		const struct range *r = range_of_slot((struct fh_pool *)p, s);

		return r->first + (s - r->base);
	}
}

/* The slot of an address in the pool (ranges or draining), NIL when none. */
static uint32_t slot_of_addr(const struct fh_pool *p, uint32_t addr)
{
	const struct range *r = range_of_addr(p->range, p->n_range, addr);
	uint32_t s;

	if (r != NULL)
		return r->base + (addr - r->first);
	if (p->n_drain > 0 && fh_map_get(&p->drain, addr, &s))
		return s;
	return NIL;
}

/* ---- free FIFO ---- */

static void fifo_append(struct fh_pool *p, uint32_t s)
{
	p->slot[s].state = S_FREE;
	p->slot[s].next = NIL;
	p->slot[s].prev = p->tail;
	if (p->tail == NIL)
		p->head = s;
	else
		p->slot[p->tail].next = s;
	p->tail = s;
}

static void fifo_unlink(struct fh_pool *p, uint32_t s)
{
	struct slot *x = &p->slot[s];

	if (x->prev == NIL)
		p->head = x->next;
	else
		p->slot[x->prev].next = x->next;
	if (x->next == NIL)
		p->tail = x->prev;
	else
		p->slot[x->next].prev = x->prev;
	x->next = x->prev = NIL;
}

/* ---- identity hash ---- */

static void hash_link(struct fh_pool *p, uint32_t s)
{
	uint32_t b = p->slot[s].hash & p->bmask;

	p->slot[s].hnext = p->bucket[b];
	p->bucket[b] = s;
}

static void hash_unlink(struct fh_pool *p, uint32_t s)
{
	uint32_t *link = &p->bucket[p->slot[s].hash & p->bmask];

	while (*link != s && *link != NIL)
		link = &p->slot[*link].hnext;
	if (*link == s)
		*link = p->slot[s].hnext;
	p->slot[s].hnext = NIL;
}

/* Drop the identity a slot remembers. */
static void forget(struct fh_pool *p, uint32_t s)
{
	if (p->slot[s].id == NULL)
		return;
	hash_unlink(p, s);
	free(p->slot[s].id);
	p->slot[s].id = NULL;
	p->slot[s].id_len = 0;
}

static uint32_t id_lookup(const struct fh_pool *p, const uint8_t *id, size_t len, uint32_t h)
{
	for (uint32_t s = p->bucket[h & p->bmask]; s != NIL; s = p->slot[s].hnext) {
		const struct slot *x = &p->slot[s];

		if (x->hash == h && x->id_len == len && memcmp(x->id, id, len) == 0)
			return s;
	}
	return NIL;
}

static uint32_t buckets_for(uint32_t slots)
{
	uint32_t n = 16;

	while (n < slots && n < (1u << 30))
		n <<= 1;
	return n;
}

/* ---- exclusion records ---- */

static uint64_t iv_key(uint32_t first, uint32_t last)
{
	return (uint64_t)first << 32 | last;
}

static int excl_set_init(struct excl_set *x)
{
	memset(x, 0, sizeof(*x));
	return fh_map_init(&x->by_iv, 16);
}

static void excl_set_fini(struct excl_set *x)
{
	free(x->e);
	fh_map_fini(&x->by_iv);
	memset(x, 0, sizeof(*x));
}

/* One more reference to [first, last]; 0 or -1 (ENOMEM). */
static int excl_set_add(struct excl_set *x, uint32_t first, uint32_t last)
{
	uint32_t i;

	if (fh_map_get(&x->by_iv, iv_key(first, last), &i)) {
		x->e[i].refs++;
		return 0;
	}
	if (x->n == x->cap) {
		uint32_t cap = x->cap ? 2 * x->cap : 8;
		struct excl *e = realloc(x->e, (size_t)cap * sizeof(*e));

		if (e == NULL) {
			errno = ENOMEM;
			return -1;
		}
		x->e = e;
		x->cap = cap;
	}
	if (fh_map_put(&x->by_iv, iv_key(first, last), x->n) < 0)
		return -1;
	x->e[x->n++] = (struct excl){first, last, 1};
	return 0;
}

/* One reference less; 0 or -1 (ENOENT). */
static int excl_set_del(struct excl_set *x, uint32_t first, uint32_t last)
{
	uint32_t i;

	if (!fh_map_get(&x->by_iv, iv_key(first, last), &i)) {
		errno = ENOENT;
		return -1;
	}
	if (--x->e[i].refs > 0)
		return 0;
	fh_map_del(&x->by_iv, iv_key(first, last));
	if (i != x->n - 1) {
		x->e[i] = x->e[x->n - 1];
		fh_map_put(&x->by_iv, iv_key(x->e[i].first, x->e[i].last), i); /* replaces: no growth */
	}
	x->n--;
	return 0;
}

/* ---- pool ---- */

static void slots_init(struct slot *sl, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sl[i] = (struct slot){.next = NIL, .prev = NIL, .hnext = NIL};
}

struct fh_pool *fh_pool_new(const char *name, const struct fh_pool_range *r, uint32_t n)
{
	struct fh_pool *p;
	int64_t total;

	if (name == NULL || strlen(name) >= FH_POOL_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	total = ranges_prepare(r, n, p->range);
	if (total < 0) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	strcpy(p->name, name);
	p->n_range = n;
	p->n_addr = p->n_slot = (uint32_t)total;
	p->head = p->tail = NIL;
	seed(p);
	p->bmask = buckets_for(p->n_slot) - 1;
	p->slot = malloc(((size_t)p->n_slot + 1) * sizeof(*p->slot));
	p->bucket = malloc(((size_t)p->bmask + 1) * sizeof(*p->bucket));
	if (p->slot == NULL || p->bucket == NULL || fh_map_init(&p->drain, 16) < 0 || excl_set_init(&p->ex) < 0) {
		fh_pool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	memset(p->bucket, 0xff, ((size_t)p->bmask + 1) * sizeof(*p->bucket));
	slots_init(p->slot, p->n_slot);
	for (uint32_t s = 0; s < p->n_addr; s++)
		fifo_append(p, s);
	p->st.ranges = n;
	return p;
}

void fh_pool_free(struct fh_pool *p)
{
	if (p == NULL)
		return;
	if (p->slot != NULL)
		for (uint32_t s = 0; s < p->n_slot; s++)
			free(p->slot[s].id);
	free(p->slot);
	free(p->bucket);
	free(p->drain_addr);
	fh_map_fini(&p->drain);
	excl_set_fini(&p->ex);
	free(p);
}

const char *fh_pool_name(const struct fh_pool *p)
{
	return p->name;
}

int64_t fh_pool_alloc(struct fh_pool *p, const void *id, size_t len)
{
	uint32_t h, s;
	uint8_t *copy;
	struct range *r;

	if (id == NULL || len == 0 || len > FH_POOL_ID_MAX) {
		errno = EINVAL;
		return -1;
	}
	h = id_hash(p, id, len);
	s = id_lookup(p, id, len, h);
	if (s != NIL) {
		struct slot *x = &p->slot[s];

		if (x->state == S_USED) {
			p->st.renewed++;
			return slot_addr(p, s);
		}
		if (x->state == S_FREE) {
			/* back soon: its old address is still free */
			fifo_unlink(p, s);
			x->state = S_USED;
			range_of_slot(p, s)->used++;
			p->st.allocations++;
			p->st.returned++;
			return slot_addr(p, s);
		}
		/* its old address is excluded now: a new one, and only one address per identity */
		forget(p, s);
	}
	s = p->head;
	if (s == NIL) {
		p->st.exhausted++;
		errno = ENOSPC;
		return -1;
	}
	copy = malloc(len);
	if (copy == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(copy, id, len);
	fifo_unlink(p, s);
	forget(p, s); /* the least recently used address forgets its last holder */
	p->slot[s].id = copy;
	p->slot[s].id_len = (uint16_t)len;
	p->slot[s].hash = h;
	p->slot[s].state = S_USED;
	hash_link(p, s);
	r = range_of_slot(p, s);
	r->used++;
	p->st.allocations++;
	return slot_addr(p, s);
}

int fh_pool_release(struct fh_pool *p, uint32_t addr)
{
	uint32_t s = slot_of_addr(p, addr);
	struct range *r;

	if (s == NIL || p->slot[s].state != S_USED) {
		errno = ENOENT;
		return -1;
	}
	p->st.releases++;
	if (s >= p->n_addr) {
		/* draining: the address leaves the pool with its holder */
		forget(p, s);
		p->slot[s].state = S_DEAD;
		fh_map_del(&p->drain, addr);
		p->n_drain--;
		return 0;
	}
	r = range_of_slot(p, s);
	r->used--;
	if (p->slot[s].excl > 0) {
		p->slot[s].state = S_OFF; /* keeps its identity for when the exclusion is lifted */
		r->off++;
	} else {
		fifo_append(p, s);
	}
	return 0;
}

bool fh_pool_find(const struct fh_pool *p, const void *id, size_t len, uint32_t *addr)
{
	uint32_t s;

	if (id == NULL || len == 0 || len > FH_POOL_ID_MAX)
		return false;
	s = id_lookup(p, id, len, id_hash(p, id, len));
	if (s == NIL || p->slot[s].state != S_USED)
		return false;
	if (addr != NULL)
		*addr = slot_addr(p, s);
	return true;
}

/* Add d (+1 or -1) to the exclusion count of every pool address in [first, last]; how many. */
static uint64_t excl_apply(struct fh_pool *p, uint32_t first, uint32_t last, int d)
{
	uint64_t n = 0;

	for (uint32_t i = range_from(p->range, p->n_range, first); i < p->n_range && p->range[i].first <= last; i++) {
		struct range *r = &p->range[i];
		uint32_t lo = first > r->first ? first : r->first, hi = last < r->last ? last : r->last;

		for (uint64_t a = lo; a <= hi; a++) {
			uint32_t s = r->base + (uint32_t)(a - r->first);
			struct slot *x = &p->slot[s];

			n++;
			if (d > 0) {
				if (x->excl++ > 0)
					continue;
				r->excl_n++;
				if (x->state == S_FREE) {
					fifo_unlink(p, s);
					x->state = S_OFF;
					r->off++;
				}
			} else {
				if (x->excl == 0 || --x->excl > 0)
					continue;
				r->excl_n--;
				if (x->state == S_OFF) {
					r->off--;
					fifo_append(p, s);
				}
			}
		}
	}
	return n;
}

int64_t fh_pool_exclude(struct fh_pool *p, uint32_t first, uint32_t last)
{
	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	if (excl_set_add(&p->ex, first, last) < 0)
		return -1;
	return (int64_t)excl_apply(p, first, last, 1);
}

int64_t fh_pool_include(struct fh_pool *p, uint32_t first, uint32_t last)
{
	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	if (excl_set_del(&p->ex, first, last) < 0)
		return -1;
	return (int64_t)excl_apply(p, first, last, -1);
}

/* New slot of an old slot's address under new ranges nr (NIL: outside them). */
static uint32_t new_slot(const struct range *nr, uint32_t n, uint32_t addr)
{
	const struct range *r = range_of_addr(nr, n, addr);

	return r == NULL ? NIL : r->base + (addr - r->first);
}

int fh_pool_set_ranges(struct fh_pool *p, const struct fh_pool_range *in, uint32_t n)
{
	struct range nr[FH_POOL_RANGES_MAX];
	int64_t total = ranges_prepare(in, n, nr);
	uint32_t n_addr, n_drain = 0, n_slot, *drain_addr = NULL, *bucket = NULL, bmask, d;
	struct slot *sl = NULL;
	uint8_t *placed = NULL;
	struct fh_map drain;
	struct fh_pool old;

	if (total < 0)
		return -1;
	n_addr = (uint32_t)total;
	/* addresses in use that fall outside the new ranges drain */
	for (uint32_t s = 0; s < p->n_slot; s++)
		if (p->slot[s].state == S_USED && new_slot(nr, n, slot_addr(p, s)) == NIL)
			n_drain++;
	n_slot = n_addr + n_drain;
	bmask = buckets_for(n_slot) - 1;
	sl = malloc(((size_t)n_slot + 1) * sizeof(*sl));
	bucket = malloc(((size_t)bmask + 1) * sizeof(*bucket));
	drain_addr = malloc(((size_t)n_drain + 1) * sizeof(*drain_addr));
	placed = calloc((size_t)n_addr + 1, 1);
	if (sl == NULL || bucket == NULL || drain_addr == NULL || placed == NULL ||
	    fh_map_init(&drain, n_drain) < 0) {
		free(sl);
		free(bucket);
		free(drain_addr);
		free(placed);
		errno = ENOMEM;
		return -1;
	}
	/* nothing below can fail: the old state moves over */
	old = *p;
	slots_init(sl, n_slot);
	memset(bucket, 0xff, ((size_t)bmask + 1) * sizeof(*bucket));
	memcpy(p->range, nr, n * sizeof(*nr));
	p->n_range = n;
	p->n_addr = n_addr;
	p->n_slot = n_slot;
	p->slot = sl;
	p->bucket = bucket;
	p->bmask = bmask;
	p->drain_addr = drain_addr;
	p->drain = drain;
	p->n_drain = n_drain;
	p->head = p->tail = NIL;
	p->st.ranges = n;
	/* the exclusions the pool knows, on the new addresses */
	for (uint32_t i = 0; i < p->ex.n; i++)
		for (uint32_t k = range_from(nr, n, p->ex.e[i].first); k < n && nr[k].first <= p->ex.e[i].last; k++) {
			struct range *r = &p->range[k];
			uint32_t lo = p->ex.e[i].first > r->first ? p->ex.e[i].first : r->first;
			uint32_t hi = p->ex.e[i].last < r->last ? p->ex.e[i].last : r->last;

			for (uint64_t a = lo; a <= hi; a++) {
				struct slot *x = &sl[r->base + (uint32_t)(a - r->first)];

				if (x->excl++ == 0)
					r->excl_n++;
			}
		}
	/* identities and allocations move to their new slots */
	d = n_addr;
	for (uint32_t s = 0; s < old.n_slot; s++) {
		struct slot *o = &old.slot[s];
		uint32_t a, t;

		if (o->state == S_DEAD)
			continue;
		a = slot_addr(&old, s);
		t = new_slot(nr, n, a);
		if (t == NIL && o->state == S_USED) {
			t = d++;
			drain_addr[t - n_addr] = a;
			fh_map_put(&p->drain, a, t); /* sized for all of them: cannot grow */
		} else if (t == NIL) {
			free(o->id); /* a free address that left the pool: forgotten */
			continue;
		}
		sl[t].id = o->id;
		sl[t].id_len = o->id_len;
		sl[t].hash = o->hash;
		if (o->id != NULL)
			hash_link(p, t);
		if (o->state == S_USED) {
			sl[t].state = S_USED;
			if (t < n_addr) {
				range_of_slot(p, t)->used++;
				placed[t] = 1;
			}
		} else {
			placed[t] = 2; /* carried, free: placed in the FIFO below in its old order */
		}
	}
	/* FIFO: addresses new to the pool first (never used), then the old FIFO's order, then the
	 * old excluded ones; each excluded now stays off */
	for (uint32_t t = 0; t < n_addr; t++)
		if (placed[t] == 0) {
			placed[t] = 1;
			if (sl[t].excl > 0) {
				sl[t].state = S_OFF;
				range_of_slot(p, t)->off++;
			} else {
				fifo_append(p, t);
			}
		}
	for (int pass = 0; pass < 2; pass++) {
		uint32_t s = pass == 0 ? old.head : 0;

		while (pass == 0 ? s != NIL : s < old.n_addr) {
			uint32_t next = pass == 0 ? old.slot[s].next : s + 1;
			uint32_t t = new_slot(nr, n, slot_addr(&old, s));

			if (t != NIL && placed[t] == 2) {
				placed[t] = 1;
				if (sl[t].excl > 0) {
					sl[t].state = S_OFF;
					range_of_slot(p, t)->off++;
				} else {
					fifo_append(p, t);
				}
			}
			s = next;
		}
	}
	free(placed);
	free(old.slot);
	free(old.bucket);
	free(old.drain_addr);
	fh_map_fini(&old.drain);
	return 0;
}

void fh_pool_stats(const struct fh_pool *p, struct fh_pool_stats *st)
{
	*st = p->st;
	st->addresses = p->n_addr;
	st->in_use = p->n_drain;
	st->free = 0;
	st->excluded = 0;
	st->draining = p->n_drain;
	for (uint32_t i = 0; i < p->n_range; i++) {
		const struct range *r = &p->range[i];
		uint32_t size = r->last - r->first + 1;

		st->in_use += r->used;
		st->free += size - r->used - r->off;
		st->excluded += r->excl_n;
	}
}

bool fh_pool_range_next(const struct fh_pool *p, uint32_t *cursor, struct fh_pool_range_info *out)
{
	const struct range *r;

	if (*cursor >= p->n_range)
		return false;
	r = &p->range[(*cursor)++];
	out->first = r->first;
	out->last = r->last;
	out->in_use = r->used;
	out->free = r->last - r->first + 1 - r->used - r->off;
	out->excluded = r->excl_n;
	return true;
}

bool fh_pool_lease_next(const struct fh_pool *p, uint32_t *cursor, struct fh_pool_lease *out)
{
	for (; *cursor < p->n_slot; (*cursor)++) {
		const struct slot *x = &p->slot[*cursor];

		if (x->state != S_USED)
			continue;
		out->addr = slot_addr(p, *cursor);
		out->id = x->id;
		out->id_len = x->id_len;
		out->draining = *cursor >= p->n_addr;
		(*cursor)++;
		return true;
	}
	return false;
}

/* ---- table ---- */

struct fh_pool_table {
	struct fh_pool **pool;
	uint8_t *marked;
	uint32_t n, cap;
	struct fh_map by_name; /* fh_hash_str(name) -> index; names confirmed */
	struct excl_set ex;    /* for pools created later */
};

struct fh_pool_table *fh_pool_table_new(void)
{
	struct fh_pool_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (fh_map_init(&t->by_name, 16) < 0 || excl_set_init(&t->ex) < 0) {
		fh_pool_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void fh_pool_table_free(struct fh_pool_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		fh_pool_free(t->pool[i]);
	free(t->pool);
	free(t->marked);
	fh_map_fini(&t->by_name);
	excl_set_fini(&t->ex);
	free(t);
}

/* Index of a pool by name, or -1. Names with equal hashes: the map holds the first, later ones
 * are found by a scan (a 64-bit collision between pool names of one config: never in practice). */
static int64_t table_index(const struct fh_pool_table *t, const char *name)
{
	uint32_t i;

	if (fh_map_get(&t->by_name, fh_hash_str(name), &i) && strcmp(t->pool[i]->name, name) == 0)
		return i;
	if (fh_map_get(&t->by_name, fh_hash_str(name), &i))
		for (i = 0; i < t->n; i++)
			if (strcmp(t->pool[i]->name, name) == 0)
				return i;
	return -1;
}

struct fh_pool *fh_pool_table_find(const struct fh_pool_table *t, const char *name)
{
	int64_t i = table_index(t, name);

	return i < 0 ? NULL : t->pool[i];
}

void fh_pool_table_begin(struct fh_pool_table *t)
{
	if (t->n > 0)
		memset(t->marked, 0, t->n);
}

struct fh_pool *fh_pool_table_set(struct fh_pool_table *t, const char *name, const struct fh_pool_range *r,
				  uint32_t n)
{
	int64_t i = table_index(t, name);
	struct fh_pool *p;
	uint64_t h;

	if (i >= 0) {
		if (fh_pool_set_ranges(t->pool[i], r, n) < 0)
			return NULL;
		t->marked[i] = 1;
		return t->pool[i];
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 8;
		struct fh_pool **np = realloc(t->pool, cap * sizeof(*np));
		uint8_t *nm;

		if (np == NULL)
			return NULL;
		t->pool = np;
		nm = realloc(t->marked, cap);
		if (nm == NULL)
			return NULL;
		t->marked = nm;
		t->cap = cap;
	}
	p = fh_pool_new(name, r, n);
	if (p == NULL)
		return NULL;
	for (uint32_t k = 0; k < t->ex.n; k++)
		for (uint32_t refs = 0; refs < t->ex.e[k].refs; refs++)
			if (fh_pool_exclude(p, t->ex.e[k].first, t->ex.e[k].last) < 0) {
				fh_pool_free(p);
				return NULL;
			}
	h = fh_hash_str(name);
	if (!fh_map_get(&t->by_name, h, NULL) && fh_map_put(&t->by_name, h, t->n) < 0) {
		fh_pool_free(p);
		return NULL;
	}
	t->pool[t->n] = p;
	t->marked[t->n] = 1;
	t->n++;
	return p;
}

/* Remove pool i: the last one takes its index. */
static void table_remove(struct fh_pool_table *t, uint32_t i)
{
	struct fh_pool *p = t->pool[i];
	uint32_t j;

	if (fh_map_get(&t->by_name, fh_hash_str(p->name), &j) && j == i)
		fh_map_del(&t->by_name, fh_hash_str(p->name));
	fh_pool_free(p);
	t->n--;
	if (i != t->n) {
		t->pool[i] = t->pool[t->n];
		t->marked[i] = t->marked[t->n];
		if (fh_map_get(&t->by_name, fh_hash_str(t->pool[i]->name), &j) && j == t->n)
			fh_map_put(&t->by_name, fh_hash_str(t->pool[i]->name), i);
	}
	/* a name that shared the hash with the removed one takes the map entry */
	for (j = 0; j < t->n; j++)
		if (!fh_map_get(&t->by_name, fh_hash_str(t->pool[j]->name), NULL))
			fh_map_put(&t->by_name, fh_hash_str(t->pool[j]->name), j);
}

uint32_t fh_pool_table_end(struct fh_pool_table *t)
{
	uint32_t freed = 0;

	for (uint32_t i = 0; i < t->n;) {
		struct fh_pool *p = t->pool[i];

		if (t->marked[i]) {
			i++;
			continue;
		}
		if (p->n_range > 0)
			(void)fh_pool_set_ranges(p, NULL, 0); /* allocates little: the draining slots */
		if (p->n_drain == 0 && p->n_addr == 0) {
			table_remove(t, i);
			freed++;
			continue;
		}
		i++;
	}
	return freed;
}

int fh_pool_table_release(struct fh_pool_table *t, const char *name, uint32_t addr)
{
	int64_t i = table_index(t, name);

	if (i < 0) {
		errno = ENOENT;
		return -1;
	}
	if (fh_pool_release(t->pool[i], addr) < 0)
		return -1;
	if (!t->marked[i] && t->pool[i]->n_drain == 0 && t->pool[i]->n_addr == 0)
		table_remove(t, (uint32_t)i);
	return 0;
}

int64_t fh_pool_table_exclude(struct fh_pool_table *t, uint32_t first, uint32_t last)
{
	int64_t n = 0;

	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	if (excl_set_add(&t->ex, first, last) < 0)
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		int64_t k = fh_pool_exclude(t->pool[i], first, last);

		if (k < 0) {
			int e = errno;

			while (i-- > 0)
				fh_pool_include(t->pool[i], first, last);
			excl_set_del(&t->ex, first, last);
			errno = e;
			return -1;
		}
		n += k;
	}
	return n;
}

int64_t fh_pool_table_include(struct fh_pool_table *t, uint32_t first, uint32_t last)
{
	int64_t n = 0;

	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	if (excl_set_del(&t->ex, first, last) < 0)
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		int64_t k = fh_pool_include(t->pool[i], first, last);

		if (k > 0)
			n += k;
	}
	return n;
}

struct fh_pool *fh_pool_table_next(const struct fh_pool_table *t, uint32_t *cursor)
{
	return *cursor < t->n ? t->pool[(*cursor)++] : NULL;
}

uint32_t fh_pool_table_count(const struct fh_pool_table *t)
{
	return t->n;
}

bool fh_pool_table_configured(const struct fh_pool_table *t, const struct fh_pool *p)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->pool[i] == p)
			return t->marked[i] != 0;
	return false;
}
