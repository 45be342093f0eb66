/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_iface.h"

static struct fh_iface *grow(struct fh_iface_table *t)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		struct fh_iface *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

int fh_iface_find(const struct fh_iface_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

int fh_iface_table_build(struct fh_iface_table *t, const struct fh_config *cfg)
{
	int port = 0;

	memset(t, 0, sizeof(*t));
	t->next_vaccess = 1;
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		const struct fh_cfg_iface *c = &cfg->iface[i];
		struct fh_iface *f = grow(t);

		if (f == NULL) {
			fh_iface_table_free(t);
			return -1;
		}
		snprintf(f->name, sizeof(f->name), "%s", c->hdr.name);
		f->kind = c->kind;
		f->unit = c->unit;
		f->cfg_idx = (int)i;
		f->template_idx = -1;
		f->borrow_idx = -1;
		f->port = c->kind == FH_IF_PHYSICAL ? port++ : -1;
		f->admin_up = !c->shutdown;
		f->method = FH_IFM_UNSET;
		if (c->ip.present && !c->ip.negotiated) {
			f->has_addr = true;
			f->addr = c->ip.pfx.addr;
			f->plen = c->ip.pfx.len;
			f->method = FH_IFM_MANUAL;
		}
		/* loopbacks are up as soon as they exist; others wait for their owner to say so */
		f->proto_up = c->kind == FH_IF_LOOPBACK && f->admin_up;
	}
	/* config and table indexes coincide here, so the config's resolved indexes carry over */
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		t->v[i].borrow_idx = cfg->iface[i].unnumbered[0] != '\0' ? cfg->iface[i].unnumbered_idx : -1;
	return 0;
}

void fh_iface_table_free(struct fh_iface_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

bool fh_iface_addr(const struct fh_iface_table *t, int idx, uint32_t *addr, uint8_t *plen)
{
	/* a borrow chain is at most template -> tunnel -> address (spoke VT unnumbered Tunnel0) */
	for (int hops = 0; idx >= 0 && (uint32_t)idx < t->n && hops < 4; hops++) {
		const struct fh_iface *f = &t->v[idx];

		if (f->has_addr) {
			*addr = f->addr;
			*plen = f->plen;
			return true;
		}
		idx = f->borrow_idx;
	}
	return false;
}

int fh_iface_clone_vaccess(struct fh_iface_table *t, int vt)
{
	struct fh_iface *f, tmpl;

	if (vt < 0 || (uint32_t)vt >= t->n || t->v[vt].kind != FH_IF_VTEMPLATE) {
		errno = EINVAL;
		return -1;
	}
	tmpl = t->v[vt]; /* grow() may move the array */
	f = grow(t);
	if (f == NULL)
		return -1;
	snprintf(f->name, sizeof(f->name), "Virtual-Access%u", t->next_vaccess);
	f->unit = t->next_vaccess++;
	f->kind = FH_IF_VACCESS;
	f->cfg_idx = -1;
	f->template_idx = vt;
	f->borrow_idx = tmpl.borrow_idx;
	f->port = -1;
	f->admin_up = tmpl.admin_up;
	f->method = FH_IFM_UNSET;
	return (int)(t->n - 1);
}

int fh_iface_remove(struct fh_iface_table *t, int idx)
{
	if (idx < 0 || (uint32_t)idx >= t->n || t->v[idx].kind != FH_IF_VACCESS) {
		errno = EINVAL;
		return -1;
	}
	memmove(&t->v[idx], &t->v[idx + 1], (t->n - (uint32_t)idx - 1) * sizeof(t->v[0]));
	t->n--;
	/* Virtual-Access interfaces come after every configured one, so only their own indexes moved,
	 * and nothing borrows from a Virtual-Access. */
	return 0;
}

int fh_iface_set_negotiated(struct fh_iface_table *t, int idx, uint32_t addr, uint8_t plen)
{
	if (idx < 0 || (uint32_t)idx >= t->n || t->v[idx].kind != FH_IF_TUNNEL) {
		errno = EINVAL;
		return -1;
	}
	t->v[idx].has_addr = addr != 0;
	t->v[idx].addr = addr;
	t->v[idx].plen = plen;
	t->v[idx].method = addr != 0 ? FH_IFM_NEGOTIATED : FH_IFM_UNSET;
	return 0;
}
