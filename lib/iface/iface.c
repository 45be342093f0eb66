/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_iface.h"

/* A new interface in a free slot, zeroed but for its name and handle. */
static struct fh_iface *add(struct fh_iface_table *t, const char *name)
{
	fh_handle_t h = fh_slots_alloc(&t->slots);
	uint32_t slot;
	struct fh_iface *f;

	if (h == FH_HANDLE_NONE)
		return NULL;
	slot = fh_handle_slot(h);
	if (fh_map_put(&t->by_name, fh_hash_str(name), slot) < 0) {
		fh_slots_free(&t->slots, h);
		return NULL;
	}
	f = &t->v[slot];
	memset(f, 0, sizeof(*f));
	f->used = true;
	f->handle = h;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->cfg_idx = f->template_idx = f->borrow_idx = f->port = -1;
	if (slot >= t->n)
		t->n = slot + 1;
	t->count++;
	return f;
}

static void drop(struct fh_iface_table *t, int slot)
{
	struct fh_iface *f = &t->v[slot];

	fh_map_del(&t->by_name, fh_hash_str(f->name));
	fh_slots_free(&t->slots, f->handle);
	memset(f, 0, sizeof(*f));
	t->count--;
}

int fh_iface_find(const struct fh_iface_table *t, const char *name)
{
	uint32_t slot;

	/* the 64-bit hash is confirmed by the name itself */
	if (!fh_map_get(&t->by_name, fh_hash_str(name), &slot) || !t->v[slot].used || strcmp(t->v[slot].name, name) != 0)
		return -1;
	return (int)slot;
}

int fh_iface_slot(const struct fh_iface_table *t, fh_handle_t h)
{
	return (int)fh_slots_get(&t->slots, h);
}

/* Settings from the config entry; the address is the config's unless negotiated at run time. */
static void from_cfg(struct fh_iface *f, const struct fh_cfg_iface *c, int cfg_idx)
{
	bool was_negotiated = f->method == FH_IFM_NEGOTIATED && c->ip.present && c->ip.negotiated;

	f->kind = c->kind;
	f->unit = c->unit;
	f->cfg_idx = cfg_idx;
	f->admin_up = !c->shutdown;
	if (!was_negotiated) {
		f->has_addr = false;
		f->addr = 0;
		f->plen = 0;
		f->method = FH_IFM_UNSET;
	}
	if (c->ip.present && !c->ip.negotiated) {
		f->has_addr = true;
		f->addr = c->ip.pfx.addr;
		f->plen = c->ip.pfx.len;
		f->method = FH_IFM_MANUAL;
	}
	/* loopbacks are up as soon as they exist; others wait for their owner to say so */
	if (c->kind == FH_IF_LOOPBACK)
		f->proto_up = f->admin_up;
}

static int cfg_find(const struct fh_map *names, const struct fh_config *cfg, const char *name)
{
	uint32_t i;

	if (!fh_map_get(names, fh_hash_str(name), &i) || strcmp(cfg->iface[i].hdr.name, name) != 0)
		return -1;
	return (int)i;
}

/* A configured interface the new config no longer has (by name and kind); clones stay. */
static bool goes(const struct fh_iface_table *t, uint32_t s, const struct fh_map *names, const struct fh_config *cfg)
{
	const struct fh_iface *f = &t->v[s];
	int ci;

	if (!f->used || f->kind == FH_IF_VACCESS)
		return false;
	ci = cfg_find(names, cfg, f->name);
	return ci < 0 || cfg->iface[ci].kind != f->kind;
}

int fh_iface_table_sync(struct fh_iface_table *t, const struct fh_config *cfg,
			void (*gone)(void *arg, int slot), void *arg)
{
	uint32_t fresh = 0, going = 0;
	int port = 0, rc = -1;
	struct fh_map names; /* the new config's names: matching stays O(1) per interface */

	if (fh_map_init(&names, cfg->n_iface) < 0)
		return -1;
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		if (fh_map_put(&names, fh_hash_str(cfg->iface[i].hdr.name), i) < 0)
			goto out;
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		int s = fh_iface_find(t, cfg->iface[i].hdr.name);

		fresh += s < 0 || t->v[s].kind != cfg->iface[i].kind;
	}
	for (uint32_t s = 0; s < t->n; s++)
		going += goes(t, s, &names, cfg);
	if (t->count - going + fresh > t->cap) {
		errno = ENOSPC;
		goto out;
	}
	for (uint32_t s = 0; s < t->n; s++) {
		if (!goes(t, s, &names, cfg))
			continue;
		if (gone != NULL)
			gone(arg, (int)s);
		drop(t, (int)s);
	}
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		const struct fh_cfg_iface *c = &cfg->iface[i];
		int s = fh_iface_find(t, c->hdr.name);
		struct fh_iface *f = s >= 0 ? &t->v[s] : add(t, c->hdr.name);

		if (f == NULL)
			goto out; /* cannot happen: counted above */
		from_cfg(f, c, (int)i);
		f->port = c->kind == FH_IF_PHYSICAL ? port++ : -1;
	}
	/* borrowed addresses by name, now that every interface has its slot */
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		const struct fh_cfg_iface *c = &cfg->iface[i];

		t->v[fh_iface_find(t, c->hdr.name)].borrow_idx =
			c->unnumbered[0] != '\0' ? fh_iface_find(t, cfg->iface[c->unnumbered_idx].hdr.name) : -1;
	}
	/* clones follow their template's address */
	for (uint32_t s = 0; s < t->n; s++)
		if (t->v[s].used && t->v[s].kind == FH_IF_VACCESS && t->v[s].template_idx >= 0)
			t->v[s].borrow_idx = t->v[t->v[s].template_idx].borrow_idx;
	rc = 0;
out:
	fh_map_fini(&names);
	return rc;
}

int fh_iface_table_build(struct fh_iface_table *t, const struct fh_config *cfg, uint32_t cap)
{
	memset(t, 0, sizeof(*t));
	t->next_va = 1;
	t->cap = cap;
	t->v = calloc(cap ? cap : 1, sizeof(*t->v));
	if (t->v == NULL || fh_slots_init(&t->slots, cap) < 0 || fh_map_init(&t->by_name, cfg->n_iface + 16) < 0 ||
	    fh_iface_table_sync(t, cfg, NULL, NULL) < 0) {
		int e = errno;

		fh_iface_table_free(t);
		errno = e ? e : ENOMEM;
		return -1;
	}
	return 0;
}

void fh_iface_table_free(struct fh_iface_table *t)
{
	free(t->v);
	free(t->va_free);
	fh_slots_fini(&t->slots);
	fh_map_fini(&t->by_name);
	memset(t, 0, sizeof(*t));
}

bool fh_iface_addr(const struct fh_iface_table *t, int idx, uint32_t *addr, uint8_t *plen)
{
	/* a borrow chain is at most template -> tunnel -> address (spoke VT unnumbered Tunnel0) */
	for (int hops = 0; idx >= 0 && (uint32_t)idx < t->n && hops < 4; hops++) {
		const struct fh_iface *f = &t->v[idx];

		if (!f->used)
			return false;
		if (f->has_addr) {
			*addr = f->addr;
			*plen = f->plen;
			return true;
		}
		idx = f->borrow_idx;
	}
	return false;
}

/* The min-heap of Virtual-Access numbers given back below next_va. */
static void va_push(struct fh_iface_table *t, uint32_t u)
{
	uint32_t i = t->n_va_free++;

	while (i > 0 && t->va_free[(i - 1) / 2] > u) {
		t->va_free[i] = t->va_free[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->va_free[i] = u;
}

static uint32_t va_pop(struct fh_iface_table *t)
{
	uint32_t top = t->va_free[0], last = t->va_free[--t->n_va_free], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= t->n_va_free)
			break;
		if (c + 1 < t->n_va_free && t->va_free[c + 1] < t->va_free[c])
			c++;
		if (last <= t->va_free[c])
			break;
		t->va_free[i] = t->va_free[c];
		i = c;
	}
	if (t->n_va_free > 0)
		t->va_free[i] = last;
	return top;
}

int fh_iface_clone_vaccess(struct fh_iface_table *t, int vt)
{
	struct fh_iface *f;
	char name[FH_NAME_MAX];
	uint32_t unit;

	if (vt < 0 || (uint32_t)vt >= t->n || !t->v[vt].used || t->v[vt].kind != FH_IF_VTEMPLATE) {
		errno = EINVAL;
		return -1;
	}
	/* room to give every number below next_va back later, so a remove cannot fail */
	if (t->cap_va_free <= t->next_va) {
		uint32_t cap = t->cap_va_free ? 2 * t->cap_va_free : 64;
		uint32_t *v = realloc(t->va_free, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->va_free = v;
		t->cap_va_free = cap;
	}
	unit = t->n_va_free > 0 ? t->va_free[0] : t->next_va;
	snprintf(name, sizeof(name), "Virtual-Access%u", unit);
	f = add(t, name);
	if (f == NULL)
		return -1;
	if (t->n_va_free > 0)
		va_pop(t);
	else
		t->next_va++;
	f->unit = unit;
	f->kind = FH_IF_VACCESS;
	f->template_idx = vt;
	f->borrow_idx = t->v[vt].borrow_idx;
	f->admin_up = t->v[vt].admin_up;
	f->method = FH_IFM_UNSET;
	return (int)fh_handle_slot(f->handle);
}

int fh_iface_remove(struct fh_iface_table *t, int idx)
{
	uint32_t unit;

	if (idx < 0 || (uint32_t)idx >= t->n || !t->v[idx].used || t->v[idx].kind != FH_IF_VACCESS) {
		errno = EINVAL;
		return -1;
	}
	unit = t->v[idx].unit;
	drop(t, idx);
	if (unit + 1 == t->next_va)
		t->next_va--; /* the top one: no heap entry needed */
	else
		va_push(t, unit);
	return 0;
}

int fh_iface_set_negotiated(struct fh_iface_table *t, int idx, uint32_t addr, uint8_t plen)
{
	if (idx < 0 || (uint32_t)idx >= t->n || !t->v[idx].used || t->v[idx].kind != FH_IF_TUNNEL) {
		errno = EINVAL;
		return -1;
	}
	t->v[idx].has_addr = addr != 0;
	t->v[idx].addr = addr;
	t->v[idx].plen = plen;
	t->v[idx].method = addr != 0 ? FH_IFM_NEGOTIATED : FH_IFM_UNSET;
	return 0;
}
