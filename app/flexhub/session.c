/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peers' sessions (the IKE engine's ops->session_up/down): on a hub, a Virtual-Access cloned
 * from the profile's virtual-template per spoke, an address from the authorization policy's pool,
 * the CFG_REPLY (address, DNS/NBNS, route set access-list and route set interface networks), routes
 * to the spoke's address and to the networks it announced, and the inner sources it may use; on a
 * spoke, the negotiated tunnel address and the pushed routes. Everything a session made is undone
 * by its session_down, one entry at a time: routes by owner (the tunnel's handle), the pool
 * address, the Virtual-Access and its tunnel entry. O(1) per session but for its own routes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flexhub.h"

#define IKE_N_INTERNAL_ADDRESS_FAILURE 36
#define IKE_N_TEMPORARY_FAILURE 43

/* Addresses the config gives to interfaces and static routes: never handed out by a pool. */
static uint32_t excl_build(const struct fh_config *cfg, struct fh_pool_range **out)
{
	uint32_t n = 0, cap = cfg->n_iface + cfg->n_route;
	struct fh_pool_range *v = calloc(cap ? cap : 1, sizeof(*v));

	*out = v;
	if (v == NULL)
		return 0;
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		if (cfg->iface[i].ip.present && !cfg->iface[i].ip.negotiated)
			v[n++] = (struct fh_pool_range){cfg->iface[i].ip.pfx.addr, cfg->iface[i].ip.pfx.addr};
	for (uint32_t i = 0; i < cfg->n_route; i++) {
		uint32_t a = cfg->route[i].prefix.addr, len = cfg->route[i].prefix.len;
		uint32_t mask = len ? ~0u << (32 - len) : 0;

		/* a default route owns nothing in particular */
		if (len > 0)
			v[n++] = (struct fh_pool_range){a & mask, (a & mask) | ~mask};
	}
	return n;
}

/* The config's pools, created or given their new ranges (addresses in use stay: lib/pool). */
static int pools_sync(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;
	int rc = 0;

	fh_pool_table_begin(app->pools);
	for (uint32_t i = 0; i < cfg->n_pool; i++) {
		const struct fh_cfg_pool *c = &cfg->pool[i];
		struct fh_pool_range r[FH_CFG_POOL_RANGES_MAX];

		for (uint32_t j = 0; j < c->n_range; j++)
			r[j] = (struct fh_pool_range){c->range[j].first, c->range[j].last};
		if (fh_pool_table_set(app->pools, c->hdr.name, r, c->n_range) == NULL) {
			fh_log(FH_LOG_ERR, "pool", "ip local pool %s: cannot be set up: %s", c->hdr.name, strerror(errno));
			rc = -1;
		}
	}
	fh_pool_table_end(app->pools);
	/* the old config's exclusions off, the new one's on: the table applies them to every pool,
	 * those created later too */
	for (uint32_t j = 0; j < app->n_excl; j++)
		fh_pool_table_include(app->pools, app->excl[j].first, app->excl[j].last);
	free(app->excl);
	app->n_excl = excl_build(cfg, &app->excl);
	for (uint32_t j = 0; j < app->n_excl; j++)
		fh_pool_table_exclude(app->pools, app->excl[j].first, app->excl[j].last);
	return rc;
}

int fh_sessions_start(struct fh_app *app)
{
	app->sess = calloc(app->lim.interfaces, sizeof(*app->sess));
	app->pools = fh_pool_table_new();
	if (app->sess == NULL || app->pools == NULL)
		return -1;
	return pools_sync(app);
}

void fh_sessions_reload(struct fh_app *app)
{
	pools_sync(app);
}

void fh_sessions_free(struct fh_app *app)
{
	fh_pool_table_free(app->pools);
	app->pools = NULL;
	free(app->sess);
	app->sess = NULL;
	free(app->excl);
	app->excl = NULL;
}

const struct fh_session *fh_session_of(const struct fh_app *app, int slot)
{
	if (app->sess == NULL || slot < 0 || (uint32_t)slot >= app->lim.interfaces || !app->sess[slot].used)
		return NULL;
	return &app->sess[slot];
}

/* A route into the tunnel, or (src connected) our own negotiated address, which IOS shows as
 * "C a.b.c.d/32 is directly connected, Tunnel0". */
static void route(struct fh_app *app, int slot, uint32_t addr, uint32_t mask, uint8_t src)
{
	struct fh_nh nh = {.kind = FH_NH_TUNNEL, .tunnel = (uint32_t)slot, .if_idx = slot};
	uint8_t len = (uint8_t)__builtin_popcount(mask);

	if (src == FH_RT_CONNECTED)
		nh = (struct fh_nh){.kind = FH_NH_LOCAL, .if_idx = slot};
	if (fh_fib_add(app->dp.tables.fib, addr & mask, len, src, src == FH_RT_CONNECTED ? 0 : 1, &nh,
		       app->ifs.v[slot].handle) == 0)
		return;
	app->cc[FH_CC_ROUTE_LIMIT]++;
	fh_log(FH_LOG_ERR, "routing", "%s: route %u.%u.%u.%u/%u not installed: %s (raise limits.routes, limits.next-hops "
	       "or limits.lpm-tbl8-groups)", app->ifs.v[slot].name, addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
	       addr & 0xff, len, strerror(errno));
}

static void allow(struct fh_session *ss, uint32_t addr, uint32_t mask)
{
	if (ss->n_allow < FH_DP_TUN_ALLOW_MAX)
		ss->allow[ss->n_allow++] = (struct fh_dp_prefix){addr & mask, mask};
}

static const struct fh_cfg_authz_policy *policy_of(const struct fh_app *app, int authz)
{
	return authz >= 0 && (uint32_t)authz < app->cfg->n_authz_policy ? &app->cfg->authz_policy[authz] : NULL;
}

/* A hub's CFG_REPLY: the pool address, what the policy pushes. */
static int hub_reply(struct fh_app *app, int slot, struct fh_session *ss, struct fh_ike_session *s)
{
	const struct fh_cfg_authz_policy *pol = policy_of(app, s->authz);
	struct fh_ike_modecfg *r = &s->reply;

	memset(r, 0, sizeof(*r));
	if (pol == NULL)
		return 0;
	if (s->cfg.want_addr && pol->pool[0] != '\0') {
		struct fh_pool *p = fh_pool_table_find(app->pools, pol->pool);
		int64_t a = p != NULL ? fh_pool_alloc(p, s->remote_id, strlen(s->remote_id)) : -1;

		if (a < 0) {
			app->cc[FH_CC_POOL_EXHAUSTED]++;
			if (fh_ratelimit_ok(&app->pool_rl, "pool"))
				fh_log(FH_LOG_ERR, "pool", "ip local pool %s: no address for %s (%s): INTERNAL_ADDRESS_FAILURE "
				       "(pool-exhausted %llu)", pol->pool, s->remote_id,
				       p == NULL ? "no such pool" : errno == ENOSPC ? "exhausted" : strerror(errno),
				       (unsigned long long)app->cc[FH_CC_POOL_EXHAUSTED]);
			s->notify = IKE_N_INTERNAL_ADDRESS_FAILURE;
			return -1;
		}
		r->addr = (uint32_t)a;
		snprintf(ss->pool, sizeof(ss->pool), "%s", pol->pool);
		ss->addr = r->addr;
	}
	r->netmask = pol->netmask;
	for (uint32_t i = 0; i < pol->n_dns && i < 2; i++)
		r->dns[r->n_dns++] = pol->dns[i];
	for (uint32_t i = 0; i < pol->n_wins && i < 2; i++)
		r->nbns[r->n_nbns++] = pol->wins[i];
	if (pol->acl_idx >= 0) {
		const struct fh_cfg_acl *acl = &app->cfg->acl[pol->acl_idx];

		for (uint32_t i = 0; i < acl->n_ace && r->n_net < FH_IKE_NETS_MAX; i++)
			if (acl->ace[i].permit)
				r->net[r->n_net++] = (struct fh_ike_net){acl->ace[i].addr & ~acl->ace[i].wildcard,
									 ~acl->ace[i].wildcard};
	}
	if (pol->route_set_interface && r->n_net < FH_IKE_NETS_MAX) {
		uint32_t a;
		uint8_t l;

		/* the interface's address as a host route (IOS "route set interface") */
		if (fh_iface_addr(&app->ifs, slot, &a, &l))
			r->net[r->n_net++] = (struct fh_ike_net){a, 0xffffffffu};
	}
	return 0;
}

static void undo(struct fh_app *app, int slot)
{
	struct fh_session *ss = &app->sess[slot];
	struct fh_iface *f = &app->ifs.v[slot];

	fh_fib_del_owner(app->dp.tables.fib, f->handle);
	if (ss->addr != 0 && ss->pool[0] != '\0') {
		struct fh_pool *p = fh_pool_table_find(app->pools, ss->pool);

		if (p != NULL)
			fh_pool_release(p, ss->addr);
	}
	if (!ss->vaccess && f->method == FH_IFM_NEGOTIATED) {
		fh_iface_set_negotiated(&app->ifs, slot, 0, 0);
		fh_tables_addrs(app);
	}
	fh_routing_iface(app, slot, false);
	if (ss->vaccess) {
		fh_log(FH_LOG_INFO, "interface", "%s removed (peer %s)", f->name, ss->remote_id);
		fh_dp_tunnel_set(&app->dp, (uint32_t)slot, NULL);
		fh_iface_remove(&app->ifs, slot);
	}
	memset(ss, 0, sizeof(*ss));
	if (!app->ifs.v[slot].used || app->ifs.v[slot].kind != FH_IF_VACCESS)
		fh_tunnel_refresh(app, slot);
}

static void note(struct fh_session *ss, const struct fh_ike_session *s, bool va)
{
	ss->used = true;
	ss->vaccess = va;
	ss->ike_id = s->ike_id;
	ss->initiator = s->initiator;
	ss->gre = s->gre;
	ss->gre_peer = s->gre_peer;
	ss->local = s->local;
	ss->remote = s->remote;
	ss->since = time(NULL);
	snprintf(ss->remote_id, sizeof(ss->remote_id), "%s", s->remote_id);
}

/* A hub's peer without a configured tunnel: Virtual-Access, address, reply, routes. */
static int hub_up(struct fh_app *app, struct fh_ike_session *s)
{
	int vt = fh_iface_find(&app->ifs, app->cfg->iface[s->vtemplate].hdr.name), slot;
	struct fh_session *ss;

	slot = vt >= 0 ? fh_iface_clone_vaccess(&app->ifs, vt) : -1;
	if (slot < 0) {
		app->cc[FH_CC_VACCESS_FAILED]++;
		if (fh_ratelimit_ok(&app->pool_rl, "interface"))
			fh_log(FH_LOG_ERR, "interface", "no Virtual-Access for %s: %s", s->remote_id,
			       vt < 0 ? "its virtual-template is gone"
				      : errno == ENOSPC ? "limits.interfaces reached" : strerror(errno));
		s->notify = IKE_N_TEMPORARY_FAILURE;
		return -1;
	}
	ss = &app->sess[slot];
	memset(ss, 0, sizeof(*ss));
	note(ss, s, true);
	if (s->has_cfg && hub_reply(app, slot, ss, s) < 0) {
		memset(ss, 0, sizeof(*ss));
		fh_iface_remove(&app->ifs, slot);
		return -1;
	}
	if (ss->addr != 0) {
		route(app, slot, ss->addr, 0xffffffffu, FH_RT_IKE);
		allow(ss, ss->addr, 0xffffffffu);
	}
	/* the networks the spoke announced (its route set access-list) live behind it */
	for (uint8_t i = 0; s->has_cfg && i < s->cfg.n_net; i++) {
		route(app, slot, s->cfg.net[i].addr, s->cfg.net[i].mask, FH_RT_IKE);
		allow(ss, s->cfg.net[i].addr, s->cfg.net[i].mask);
		ss->net[ss->n_net++] = s->cfg.net[i];
	}
	s->tunnel = app->ifs.v[slot].handle;
	fh_tunnel_refresh(app, slot);
	fh_routing_iface(app, slot, true);
	fh_log(FH_LOG_INFO, "interface", "%s created from %s for %s (%u.%u.%u.%u), %s", app->ifs.v[slot].name,
	       app->ifs.v[vt].name, s->remote_id, s->remote.ip >> 24, (s->remote.ip >> 16) & 0xff,
	       (s->remote.ip >> 8) & 0xff, s->remote.ip & 0xff, s->gre ? "GRE" : "IPsec (sVTI)");
	app->cc[FH_CC_VACCESS_CREATED]++;
	fh_debug("crypto ikev2 client flexvpn", "%s: %u route(s) to %s, %u allowed source prefix(es)",
		 app->ifs.v[slot].name, ss->n_net + (ss->addr != 0), s->remote_id, ss->n_allow);
	return 0;
}

/* A spoke's tunnel that got mode-config: its address, the pushed networks. */
static int spoke_up(struct fh_app *app, int slot, struct fh_ike_session *s)
{
	struct fh_session *ss = &app->sess[slot];
	const struct fh_iface *f = &app->ifs.v[slot];
	const struct fh_cfg_iface *c = f->cfg_idx >= 0 ? &app->cfg->iface[f->cfg_idx] : NULL;

	if (ss->used)
		undo(app, slot); /* a new IKE SA on the same tunnel: the old session's state goes first */
	note(ss, s, false);
	if (c != NULL && c->ip.present && c->ip.negotiated && s->cfg.addr != 0) {
		fh_iface_set_negotiated(&app->ifs, slot, s->cfg.addr, 32);
		ss->addr = s->cfg.addr;
		fh_tables_addrs(app);
		route(app, slot, s->cfg.addr, 0xffffffffu, FH_RT_CONNECTED);
		fh_log(FH_LOG_INFO, "interface", "%s: address %u.%u.%u.%u negotiated from %s", f->name, s->cfg.addr >> 24,
		       (s->cfg.addr >> 16) & 0xff, (s->cfg.addr >> 8) & 0xff, s->cfg.addr & 0xff, s->remote_id);
	}
	for (uint8_t i = 0; i < s->cfg.n_net; i++) {
		route(app, slot, s->cfg.net[i].addr, s->cfg.net[i].mask, FH_RT_IKE);
		ss->net[ss->n_net++] = s->cfg.net[i];
	}
	fh_tunnel_refresh(app, slot);
	fh_routing_iface(app, slot, true); /* its address makes it take part in routing */
	return 0;
}

int fh_session_up(void *ctx, struct fh_ike_session *s)
{
	struct fh_app *app = ctx;
	int slot;

	if (s->tunnel == 0)
		return s->vtemplate >= 0 ? hub_up(app, s) : -1;
	slot = fh_iface_slot(&app->ifs, s->tunnel);
	if (slot < 0)
		return -1;
	if (s->initiator)
		return spoke_up(app, slot, s);
	/* a configured tunnel whose peer asks for mode-config: the same answer as a Virtual-Access's */
	if (app->sess[slot].used)
		undo(app, slot);
	note(&app->sess[slot], s, false);
	if (hub_reply(app, slot, &app->sess[slot], s) < 0) {
		memset(&app->sess[slot], 0, sizeof(app->sess[slot]));
		return -1;
	}
	if (app->sess[slot].addr != 0)
		route(app, slot, app->sess[slot].addr, 0xffffffffu, FH_RT_IKE);
	for (uint8_t i = 0; i < s->cfg.n_net; i++)
		route(app, slot, s->cfg.net[i].addr, s->cfg.net[i].mask, FH_RT_IKE);
	return 0;
}

void fh_session_down(void *ctx, uint32_t ike_id, uint32_t tunnel)
{
	struct fh_app *app = ctx;
	int slot = fh_iface_slot(&app->ifs, tunnel);

	/* an older IKE SA of a tunnel whose session a newer one took over: nothing of it is left */
	if (slot < 0 || !app->sess[slot].used || app->sess[slot].ike_id != ike_id)
		return;
	undo(app, slot);
}
