/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "fh_fib.h"

#define NIL UINT32_MAX

/* One offered path to a prefix. */
struct path {
	uint32_t route;             /* its route slot */
	uint32_t owner;
	uint8_t src, distance;
	struct fh_nh nh;
	uint32_t epoch;             /* of fh_fib_mark_begin when last offered */
	uint64_t seq;               /* offer order: of equal distances the oldest wins */
	uint32_t next;              /* the route's paths */
	uint32_t o_prev, o_next;    /* the owner's paths */
};

struct route {
	uint32_t prefix;
	uint8_t len;
	uint32_t paths;             /* first path slot */
	uint32_t n_paths;
	uint32_t best;              /* installed path slot, NIL none */
	uint32_t nh_id;             /* installed next hop */
};

struct fh_rib {
	struct fh_slots route_slots, path_slots, nh_slots;
	struct route *route;
	struct path *path;
	uint32_t *nh_ref;
	struct fh_map by_prefix;    /* route_key(prefix, len) -> route slot */
	struct fh_map by_nh;        /* next-hop key -> id */
	struct fh_map owner_head;   /* owner -> its first path slot */
	struct rte_rcu_qsbr_dq *dq; /* next-hop ids waiting for the grace period */
	struct rte_rcu_qsbr *qsbr;
	uint32_t epoch;
	uint64_t seq;
	uint32_t nh_pending;
	uint64_t lpm_adds, lpm_dels, full;
};

static uint32_t mask(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

/* fh_map keeps 0 for "empty": the bit above the length keeps the default route's key apart. */
static inline uint64_t route_key(uint32_t prefix, uint8_t len)
{
	return (uint64_t)prefix << 9 | 1u << 8 | len;
}

/* An exact key per distinct next hop: what a kind uses, and nothing else, so no two differ. */
static uint64_t nh_key(const struct fh_nh *nh)
{
	uint64_t k = (uint64_t)nh->kind << 56;

	switch (nh->kind) {
	case FH_NH_PORT:
	case FH_NH_GATEWAY:
		return k | (uint64_t)nh->port << 32 | nh->gw;
	case FH_NH_TUNNEL:
		return k | nh->tunnel;
	default:
		return k | (uint32_t)nh->if_idx;
	}
}

static void nh_free_cb(void *p, void *e, unsigned int n)
{
	struct fh_fib *f = p;
	const uint32_t *ids = e;

	for (unsigned int i = 0; i < n; i++) {
		fh_slots_free(&f->rib->nh_slots, fh_slots_handle(&f->rib->nh_slots, ids[i]));
		f->rib->nh_pending--;
	}
}

/* A reference to the id of this next hop, allocating one (written before anyone can see it). */
static int nh_get(struct fh_fib *f, const struct fh_nh *nh, uint32_t *id)
{
	struct fh_rib *r = f->rib;
	uint64_t k = nh_key(nh);
	fh_handle_t h;

	if (fh_map_get(&r->by_nh, k, id)) {
		r->nh_ref[*id]++;
		return 0;
	}
	fh_fib_reclaim(f);
	h = fh_slots_alloc(&r->nh_slots);
	if (h == FH_HANDLE_NONE)
		return -1;
	*id = fh_handle_slot(h);
	if (fh_map_put(&r->by_nh, k, *id) < 0) {
		fh_slots_free(&r->nh_slots, h);
		return -1;
	}
	f->nh[*id] = *nh;
	r->nh_ref[*id] = 1;
	return 0;
}

static void nh_put(struct fh_fib *f, uint32_t id)
{
	struct fh_rib *r = f->rib;

	if (--r->nh_ref[id] != 0)
		return;
	fh_map_del(&r->by_nh, nh_key(&f->nh[id]));
	/* a worker may have just looked up a route to it: the id is reused only after a grace period */
	if (r->dq != NULL && rte_rcu_qsbr_dq_enqueue(r->dq, &id) == 0) {
		r->nh_pending++;
		return;
	}
	if (r->qsbr != NULL)
		rte_rcu_qsbr_synchronize(r->qsbr, RTE_QSBR_THRID_INVALID); /* the queue is full: rare */
	fh_slots_free(&r->nh_slots, fh_slots_handle(&r->nh_slots, id));
}

struct fh_fib *fh_fib_new(const struct fh_fib_params *p)
{
	struct rte_lpm_config c = {.max_rules = p->max_routes, .number_tbl8s = p->tbl8_groups};
	struct fh_fib *f = rte_zmalloc_socket("fh_fib", sizeof(*f), RTE_CACHE_LINE_SIZE, p->socket);
	struct fh_rib *r = calloc(1, sizeof(*r));
	static unsigned int instance;
	char name[32];

	if (f == NULL || r == NULL)
		goto fail;
	f->rib = r;
	if (fh_slots_init(&r->route_slots, p->max_routes) < 0 || fh_slots_init(&r->path_slots, p->max_routes * 2) < 0 ||
	    fh_slots_init(&r->nh_slots, p->max_nh) < 0 || fh_map_init(&r->by_prefix, 1024) < 0 ||
	    fh_map_init(&r->by_nh, 256) < 0 || fh_map_init(&r->owner_head, 256) < 0)
		goto fail;
	r->route = calloc(p->max_routes, sizeof(*r->route));
	r->path = calloc((size_t)p->max_routes * 2, sizeof(*r->path));
	r->nh_ref = calloc(p->max_nh, sizeof(*r->nh_ref));
	f->nh = rte_zmalloc_socket("fh_fib_nh", sizeof(*f->nh) * p->max_nh, RTE_CACHE_LINE_SIZE, p->socket);
	if (r->route == NULL || r->path == NULL || r->nh_ref == NULL || f->nh == NULL)
		goto fail;
	snprintf(name, sizeof(name), "fh_fib%u", instance++);
	f->lpm = rte_lpm_create(name, p->socket, &c);
	f->default_nh = UINT32_MAX;
	if (f->lpm == NULL)
		goto fail;
	r->qsbr = p->qsbr;
	if (p->qsbr != NULL) {
		struct rte_lpm_rcu_config lc = {.v = p->qsbr, .mode = RTE_LPM_QSBR_MODE_DQ};
		struct rte_rcu_qsbr_dq_parameters dp = {
			.name = name, .size = p->max_nh, .esize = sizeof(uint32_t),
			.trigger_reclaim_limit = 0, .max_reclaim_size = 64, .v = p->qsbr,
			.free_fn = nh_free_cb, .p = f,
		};

		if (rte_lpm_rcu_qsbr_add(f->lpm, &lc) != 0)
			goto fail;
		r->dq = rte_rcu_qsbr_dq_create(&dp);
		if (r->dq == NULL)
			goto fail;
	}
	return f;
fail:
	fh_fib_free(f);
	if (f == NULL)
		free(r);
	errno = ENOMEM;
	return NULL;
}

void fh_fib_free(struct fh_fib *f)
{
	struct fh_rib *r;

	if (f == NULL)
		return;
	r = f->rib;
	if (r != NULL) {
		if (r->dq != NULL)
			rte_rcu_qsbr_dq_delete(r->dq);
		fh_slots_fini(&r->route_slots);
		fh_slots_fini(&r->path_slots);
		fh_slots_fini(&r->nh_slots);
		fh_map_fini(&r->by_prefix);
		fh_map_fini(&r->by_nh);
		fh_map_fini(&r->owner_head);
		free(r->route);
		free(r->path);
		free(r->nh_ref);
		free(r);
	}
	rte_lpm_free(f->lpm);
	rte_free(f->nh);
	rte_free(f);
}

void fh_fib_reclaim(struct fh_fib *f)
{
	if (f->rib->dq != NULL && f->rib->nh_pending > 0)
		rte_rcu_qsbr_dq_reclaim(f->rib->dq, f->rib->nh_pending, NULL, NULL, NULL);
}

/* The LPM's add and delete, with the default route beside it (rte_lpm has no depth 0). A next
 * hop replaced under a worker is read whole: ids are published with a release store. */
static int lpm_add(struct fh_fib *f, uint32_t prefix, uint8_t len, uint32_t id)
{
	if (len == 0) {
		__atomic_store_n(&f->default_nh, id, __ATOMIC_RELEASE);
		return 0;
	}
	return rte_lpm_add(f->lpm, prefix, len, id);
}

static void lpm_del(struct fh_fib *f, uint32_t prefix, uint8_t len)
{
	if (len == 0)
		__atomic_store_n(&f->default_nh, UINT32_MAX, __ATOMIC_RELEASE);
	else
		rte_lpm_delete(f->lpm, prefix, len);
}

/* Install the best path of a route, or remove the route from the LPM when it has none. */
static int install(struct fh_fib *f, uint32_t rs)
{
	struct fh_rib *r = f->rib;
	struct route *rt = &r->route[rs];
	uint32_t best = NIL, id;

	for (uint32_t p = rt->paths; p != NIL; p = r->path[p].next)
		if (best == NIL || r->path[p].distance < r->path[best].distance ||
		    (r->path[p].distance == r->path[best].distance && r->path[p].seq < r->path[best].seq))
			best = p;
	if (best == NIL) {
		if (rt->best != NIL) {
			lpm_del(f, rt->prefix, rt->len);
			r->lpm_dels++;
			nh_put(f, rt->nh_id);
			rt->best = NIL;
		}
		return 0;
	}
	if (rt->best != NIL && nh_key(&r->path[best].nh) == nh_key(&f->nh[rt->nh_id])) {
		rt->best = best; /* same next hop: nothing changes for the workers */
		return 0;
	}
	if (nh_get(f, &r->path[best].nh, &id) < 0) {
		r->full++;
		return -1;
	}
	/* an existing rule's next hop is replaced in place: no moment without a route */
	if (lpm_add(f, rt->prefix, rt->len, id) < 0) {
		nh_put(f, id);
		r->full++;
		errno = ENOSPC;
		return -1;
	}
	r->lpm_adds++;
	if (rt->best != NIL)
		nh_put(f, rt->nh_id);
	rt->best = best;
	rt->nh_id = id;
	return 0;
}

static void owner_link(struct fh_rib *r, uint32_t ps)
{
	struct path *p = &r->path[ps];
	uint32_t head = NIL;

	fh_map_get(&r->owner_head, p->owner, &head);
	p->o_prev = NIL;
	p->o_next = head;
	if (head != NIL)
		r->path[head].o_prev = ps;
	fh_map_put(&r->owner_head, p->owner, ps);
}

static void owner_unlink(struct fh_rib *r, uint32_t ps)
{
	struct path *p = &r->path[ps];

	if (p->o_prev != NIL)
		r->path[p->o_prev].o_next = p->o_next;
	else if (p->o_next != NIL)
		fh_map_put(&r->owner_head, p->owner, p->o_next);
	else
		fh_map_del(&r->owner_head, p->owner);
	if (p->o_next != NIL)
		r->path[p->o_next].o_prev = p->o_prev;
}

static uint32_t find_route(const struct fh_rib *r, uint32_t prefix, uint8_t len)
{
	uint32_t rs;

	return fh_map_get(&r->by_prefix, route_key(prefix, len), &rs) ? rs : NIL;
}

/* The path (src, owner) offered to a route, or NIL. */
static uint32_t find_path(const struct fh_rib *r, uint32_t rs, uint8_t src, uint32_t owner)
{
	uint32_t ps;

	for (ps = r->route[rs].paths; ps != NIL; ps = r->path[ps].next)
		if (r->path[ps].src == src && r->path[ps].owner == owner)
			break;
	return ps;
}

int fh_fib_add(struct fh_fib *f, uint32_t prefix, uint8_t len, uint8_t src, uint8_t distance,
	       const struct fh_nh *nh, uint32_t owner)
{
	struct fh_rib *r = f->rib;
	uint32_t rs, ps;
	struct route *rt;
	struct path *p;
	bool new_route = false;

	if (len > 32) {
		errno = EINVAL;
		return -1;
	}
	prefix &= mask(len);
	rs = find_route(r, prefix, len);
	if (rs == NIL) {
		fh_handle_t h = fh_slots_alloc(&r->route_slots);

		if (h == FH_HANDLE_NONE) {
			r->full++;
			return -1;
		}
		rs = fh_handle_slot(h);
		if (fh_map_put(&r->by_prefix, route_key(prefix, len), rs) < 0) {
			fh_slots_free(&r->route_slots, h);
			return -1;
		}
		r->route[rs] = (struct route){.prefix = prefix, .len = len, .paths = NIL, .best = NIL};
		new_route = true;
	}
	rt = &r->route[rs];
	ps = find_path(r, rs, src, owner);
	if (ps != NIL) {
		p = &r->path[ps];
		p->epoch = r->epoch;
		if (p->distance == distance && nh_key(&p->nh) == nh_key(nh))
			return 0; /* offered again unchanged */
		p->distance = distance;
		p->nh = *nh;
		return install(f, rs);
	}
	{
		fh_handle_t h = fh_slots_alloc(&r->path_slots);

		if (h == FH_HANDLE_NONE) {
			r->full++;
			if (new_route) {
				fh_map_del(&r->by_prefix, route_key(prefix, len));
				fh_slots_free(&r->route_slots, fh_slots_handle(&r->route_slots, rs));
			}
			return -1;
		}
		ps = fh_handle_slot(h);
	}
	p = &r->path[ps];
	*p = (struct path){.route = rs, .owner = owner, .src = src, .distance = distance, .nh = *nh,
			   .epoch = r->epoch, .seq = ++r->seq, .next = rt->paths};
	rt->paths = ps;
	rt->n_paths++;
	owner_link(r, ps);
	if (install(f, rs) < 0) {
		fh_fib_del(f, prefix, len, src, owner);
		return -1;
	}
	return 0;
}

/* Take one path out of its route; the route goes when its last path does. */
static void path_remove(struct fh_fib *f, uint32_t ps)
{
	struct fh_rib *r = f->rib;
	uint32_t rs = r->path[ps].route, *pp;
	struct route *rt = &r->route[rs];

	for (pp = &rt->paths; *pp != ps; pp = &r->path[*pp].next)
		;
	*pp = r->path[ps].next;
	rt->n_paths--;
	owner_unlink(r, ps);
	fh_slots_free(&r->path_slots, fh_slots_handle(&r->path_slots, ps));
	if (rt->best == ps) {
		/* the installed path went: install the next best over it (the LPM rule stays, its next
		 * hop replaced in place), or withdraw the prefix when it was the last */
		uint32_t old_id = rt->nh_id;

		rt->best = NIL;
		if (rt->paths == NIL || install(f, rs) < 0) {
			lpm_del(f, rt->prefix, rt->len);
			r->lpm_dels++;
			rt->best = NIL;
		}
		nh_put(f, old_id);
	}
	if (rt->paths == NIL) {
		fh_map_del(&r->by_prefix, route_key(rt->prefix, rt->len));
		fh_slots_free(&r->route_slots, fh_slots_handle(&r->route_slots, rs));
	}
}

int fh_fib_del(struct fh_fib *f, uint32_t prefix, uint8_t len, uint8_t src, uint32_t owner)
{
	struct fh_rib *r = f->rib;
	uint32_t rs, ps;

	if (len > 32) {
		errno = EINVAL;
		return -1;
	}
	prefix &= mask(len);
	rs = find_route(r, prefix, len);
	if (rs == NIL) {
		errno = ENOENT;
		return -1;
	}
	ps = find_path(r, rs, src, owner);
	if (ps == NIL) {
		errno = ENOENT;
		return -1;
	}
	path_remove(f, ps);
	return 0;
}

uint32_t fh_fib_del_owner(struct fh_fib *f, uint32_t owner)
{
	uint32_t ps, n = 0;

	while (fh_map_get(&f->rib->owner_head, owner, &ps)) {
		path_remove(f, ps);
		n++;
	}
	return n;
}

void fh_fib_mark_begin(struct fh_fib *f)
{
	f->rib->epoch++;
}

uint32_t fh_fib_sweep(struct fh_fib *f, uint32_t owner)
{
	struct fh_rib *r = f->rib;
	uint32_t ps = NIL, n = 0;

	fh_map_get(&r->owner_head, owner, &ps);
	while (ps != NIL) {
		uint32_t next = r->path[ps].o_next;

		if (r->path[ps].epoch != r->epoch) {
			path_remove(f, ps);
			n++;
		}
		ps = next;
	}
	return n;
}

static void fill(const struct fh_fib *f, uint32_t rs, struct fh_route *out)
{
	const struct fh_rib *r = f->rib;
	const struct route *rt = &r->route[rs];
	uint32_t b = rt->best != NIL ? rt->best : rt->paths;

	*out = (struct fh_route){.prefix = rt->prefix, .len = rt->len, .src = r->path[b].src,
				 .distance = r->path[b].distance, .nh = r->path[b].nh, .n_paths = rt->n_paths};
}

bool fh_fib_get(const struct fh_fib *f, uint32_t prefix, uint8_t len, struct fh_route *out)
{
	uint32_t rs = find_route(f->rib, prefix & mask(len), len);

	if (rs == NIL)
		return false;
	fill(f, rs, out);
	return true;
}

bool fh_fib_next(const struct fh_fib *f, uint32_t *cursor, struct fh_route *out)
{
	const struct fh_slots *s = &f->rib->route_slots;

	for (; *cursor < s->hi; (*cursor)++)
		if (s->gen[*cursor] != 0) {
			fill(f, (*cursor)++, out);
			return true;
		}
	return false;
}

void fh_fib_stats(const struct fh_fib *f, struct fh_fib_stats *out)
{
	const struct fh_rib *r = f->rib;

	*out = (struct fh_fib_stats){.routes = r->route_slots.used, .paths = r->path_slots.used,
				     .next_hops = r->nh_slots.used - r->nh_pending, .nh_pending = r->nh_pending,
				     .lpm_adds = r->lpm_adds, .lpm_dels = r->lpm_dels, .full = r->full};
}
