/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the config puts into the workers' tables, kept in step with it one entry at a time: our
 * addresses, tunnel entries (endpoints, MTU, and the outbound SA the SA database chooses),
 * connected, local and static routes (marked and swept on reload, so routes that did not change
 * are never touched), and static ARP entries. Negotiated SAs come and go through sa.c; nothing
 * here rebuilds a table.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "flexhub.h"

/* The config's limits block (doc/config.md; --check-config has checked that they fit memory-mb). */
void fh_limits_from_config(const struct fh_config *cfg, struct fh_app_limits *l)
{
	const struct fh_cfg_limits *c = &cfg->limits;

	l->interfaces = c->interfaces;
	/* tunnels are indexed by their interface slot: one table entry per slot */
	l->dp.tunnel_slots = c->interfaces;
	l->dp.sa_in = c->sa_pairs;
	l->dp.neighbours = c->neighbours;
	l->dp.routes = c->routes;
	l->dp.next_hops = c->next_hops;
	l->dp.tbl8_groups = c->lpm_tbl8_groups;
	l->neigh_queue = c->neighbour_queue;
	/* neighbours being resolved at once: a burst of new peers on a LAN, not the whole table */
	l->neigh_pending = c->neighbours / 8 > 64 ? c->neighbours / 8 : 64;
}

/* The address a tunnel's packets leave from: tunnel-source's interface address, or the literal. */
uint32_t fh_tunnel_source(const struct fh_app *app, const struct fh_cfg_iface *c)
{
	uint32_t a = 0;
	uint8_t l;

	if (c->source_idx >= 0) {
		int s = fh_iface_find(&app->ifs, app->cfg->iface[c->source_idx].hdr.name);

		if (s >= 0 && fh_iface_addr(&app->ifs, s, &a, &l))
			return a;
		return 0;
	}
	{
		unsigned int b[4];

		if (sscanf(c->tunnel_source, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) == 4)
			a = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	}
	return a;
}

/* Largest inner packet that still fits the path MTU after GRE, ESP and the outer header. */
static uint16_t tunnel_mtu(const struct fh_sa *sa, bool gre, bool key, uint32_t path_mtu)
{
	uint32_t fixed = 20 + (sa->udp_encap ? 8 : 0) + FH_ESP_HDR_LEN + sa->iv_len + sa->icv_len;
	uint32_t room = path_mtu - fixed; /* for ciphertext: whole blocks */
	uint32_t inner = room / sa->block * sa->block - 2 - (gre ? 20 + (key ? 8 : 4) : 0);

	return (uint16_t)inner;
}

/* A new version of a tunnel's data-plane entry: its current config, source and outbound pair. A
 * Virtual-Access takes its settings from its template and its endpoints from its session. */
void fh_tunnel_refresh(struct fh_app *app, int slot)
{
	struct fh_iface *f = &app->ifs.v[slot];
	const struct fh_session *ss = fh_session_of(app, slot);
	const struct fh_cfg_iface *c = NULL;
	const struct fh_sadb_pair *p;
	const struct fh_dp_tunnel *cur;
	struct fh_dp_tunnel t;
	bool gre;

	memset(&t, 0, sizeof(t)); /* padding too: versions are compared whole */
	if (f->used && f->kind == FH_IF_TUNNEL && f->cfg_idx >= 0)
		c = &app->cfg->iface[f->cfg_idx];
	else if (f->used && f->kind == FH_IF_VACCESS && ss != NULL && f->template_idx >= 0 &&
		 app->ifs.v[f->template_idx].cfg_idx >= 0)
		c = &app->cfg->iface[app->ifs.v[f->template_idx].cfg_idx];
	if (c == NULL) {
		fh_dp_tunnel_set(&app->dp, (uint32_t)slot, NULL);
		return;
	}
	p = fh_sadb_outbound(app->sadb, f->handle);
	if (f->kind == FH_IF_VACCESS) {
		gre = ss->gre;
		t.mode = gre ? FH_TUN_GRE : FH_TUN_IPSEC;
		t.src = ss->local.ip;
		t.dst = gre ? ss->gre_peer : ss->remote.ip;
		t.n_allow = ss->n_allow;
		memcpy(t.allow, ss->allow, sizeof(t.allow));
	} else {
		gre = c->tunnel_mode == FH_TUN_GRE;
		t.mode = c->tunnel_mode;
		t.src = fh_tunnel_source(app, c);
		t.dst = c->tunnel_destination;
	}
	t.has_key = c->has_tunnel_key;
	t.key = c->tunnel_key;
	t.out = p != NULL ? p->out : NULL;
	t.up = t.out != NULL && f->admin_up && t.src != 0;
	if (t.out != NULL) {
		uint32_t path = 1500;
		int src = c->source_idx;

		if (src >= 0 && app->cfg->iface[src].kind == FH_IF_PHYSICAL)
			path = app->cfg->iface[src].mtu;
		t.mtu = c->ip_mtu ? (uint16_t)c->ip_mtu : tunnel_mtu(t.out, gre, c->has_tunnel_key, path);
	}
	if (f->proto_up != t.up)
		fh_routing_link(app, slot, t.up); /* the mirror follows: FRR sees the tunnel go down */
	f->proto_up = t.up;
	t.slot = (uint32_t)slot;
	cur = fh_dp_tunnel_get(&app->dp.tables, (uint32_t)slot);
	/* a pair on standby, a retired one that was not encrypting: the workers' entry stays as it is */
	if (cur != NULL && memcmp(cur, &t, sizeof(t)) == 0)
		return;
	if (fh_dp_tunnel_set(&app->dp, (uint32_t)slot, &t) < 0)
		fh_log(FH_LOG_ERR, "dataplane", "%s: out of memory for its tunnel entry", f->name);
}

static void route_add(struct fh_app *app, uint32_t prefix, uint8_t len, uint8_t src, uint8_t dist,
		      const struct fh_nh *nh)
{
	if (fh_fib_add(app->dp.tables.fib, prefix, len, src, dist, nh, FH_FIB_OWNER_CONFIG) == 0)
		return;
	app->cc[FH_CC_ROUTE_LIMIT]++;
	fh_log(FH_LOG_ERR, "routing", "route %u.%u.%u.%u/%u not installed: %s (raise limits.routes, limits.next-hops "
	       "or limits.lpm-tbl8-groups)", prefix >> 24, (prefix >> 16) & 0xff, (prefix >> 8) & 0xff, prefix & 0xff,
	       len, strerror(errno));
}

/* The connected subnet that covers a gateway: how a static route's next hop is reached. */
static bool resolve_gw(const struct fh_app *app, uint32_t gw, struct fh_nh *out)
{
	int best = -1;

	/* gateways are on a port's subnet: a handful of interfaces, not the Virtual-Access crowd */
	for (uint32_t pi = 0; pi < FH_DP_PORTS_MAX; pi++) {
		int i = app->port_if[pi];
		const struct fh_iface *f = i >= 0 ? &app->ifs.v[i] : NULL;

		if (f == NULL || !f->has_addr || !f->admin_up || f->plen == 32 || ((gw ^ f->addr) & fh_prefix_mask(f->plen)) != 0)
			continue;
		if (best < 0 || f->plen > app->ifs.v[best].plen)
			best = i;
	}
	if (best < 0)
		return false;
	*out = (struct fh_nh){.kind = FH_NH_GATEWAY, .port = (uint16_t)app->ifs.v[best].port, .gw = gw, .if_idx = best};
	return true;
}

/* Everything the config says about routes, offered again; the sweep withdraws what it no longer
 * says. O(interfaces + routes); unchanged routes are not rewritten. */
static void config_routes(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;
	struct fh_fib *fib = app->dp.tables.fib;

	fh_fib_mark_begin(fib);
	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		struct fh_nh nh = {.if_idx = (int32_t)i};

		/* a negotiated address is its session's (session.c), with its routes */
		if (!f->used || !f->has_addr || !f->admin_up || f->method == FH_IFM_NEGOTIATED)
			continue;
		route_add(app, f->addr, 32, FH_RT_LOCAL, 0, &(struct fh_nh){.kind = FH_NH_LOCAL, .if_idx = (int32_t)i});
		if (f->plen == 32)
			continue;
		if (f->kind == FH_IF_PHYSICAL) {
			nh.kind = FH_NH_PORT;
			nh.port = (uint16_t)f->port;
		} else if (f->kind == FH_IF_TUNNEL) {
			nh.kind = FH_NH_TUNNEL;
			nh.tunnel = i;
		} else {
			nh.kind = FH_NH_DROP;
		}
		route_add(app, f->addr, f->plen, FH_RT_CONNECTED, 0, &nh);
	}
	for (uint32_t i = 0; i < cfg->n_route; i++) {
		const struct fh_cfg_route *c = &cfg->route[i];
		struct fh_nh nh = {.kind = FH_NH_DROP, .if_idx = -1};
		bool ok = true;

		if (c->if_idx >= 0) {
			int s = fh_iface_find(&app->ifs, cfg->iface[c->if_idx].hdr.name);
			const struct fh_iface *f = s >= 0 ? &app->ifs.v[s] : NULL;

			nh.if_idx = s;
			if (f != NULL && f->kind == FH_IF_PHYSICAL) {
				nh.kind = c->has_next_hop ? FH_NH_GATEWAY : FH_NH_PORT;
				nh.port = (uint16_t)f->port;
				nh.gw = c->has_next_hop ? c->next_hop : 0;
			} else if (f != NULL && f->kind == FH_IF_TUNNEL) {
				nh.kind = FH_NH_TUNNEL;
				nh.tunnel = (uint32_t)s;
			} else {
				ok = false;
			}
		} else {
			ok = resolve_gw(app, c->next_hop, &nh);
		}
		if (ok)
			route_add(app, c->prefix.addr, c->prefix.len, FH_RT_STATIC, (uint8_t)c->distance, &nh);
		else
			fh_log(FH_LOG_WARN, "routing", "ip route %u.%u.%u.%u/%u: next hop not reachable, not installed",
			       c->prefix.addr >> 24, (c->prefix.addr >> 16) & 0xff, (c->prefix.addr >> 8) & 0xff,
			       c->prefix.addr & 0xff, c->prefix.len);
	}
	fh_fib_sweep(fib, FH_FIB_OWNER_CONFIG);
}

void fh_tables_addrs(struct fh_app *app)
{
	struct fh_dp_local l = {0};

	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];

		if (!f->used || !f->has_addr || !f->admin_up)
			continue;
		if (l.n == FH_DP_LOCAL_ADDRS_MAX) {
			fh_log(FH_LOG_ERR, "dataplane", "more than %u local addresses: %s's not served", FH_DP_LOCAL_ADDRS_MAX,
			       f->name);
			continue;
		}
		l.addr[l.n] = rte_cpu_to_be_32(f->addr);
		l.port[l.n] = f->port >= 0 ? (uint16_t)f->port : UINT16_MAX;
		l.n++;
	}
	if (fh_dp_local_set(&app->dp, &l) < 0)
		fh_log(FH_LOG_ERR, "dataplane", "out of memory for the local address list");
}

static uint64_t neigh_key(uint16_t port, uint32_t ip)
{
	return (uint64_t)port << 32 | ip;
}

/* ip arp entries: set (they win over learned ones); those gone from the config are forgotten. */
static void static_neigh(struct fh_app *app)
{
	struct fh_map next;

	if (fh_map_init(&next, app->cfg->n_arp) < 0)
		return;
	for (uint32_t i = 0; i < app->cfg->n_arp; i++) {
		const struct fh_cfg_arp *a = &app->cfg->arp[i];
		int s = fh_iface_find(&app->ifs, app->cfg->iface[a->if_idx].hdr.name);
		struct rte_ether_addr mac;
		uint16_t port;

		if (s < 0 || app->ifs.v[s].port < 0)
			continue;
		port = (uint16_t)app->ifs.v[s].port;
		memcpy(mac.addr_bytes, a->mac_bytes, 6);
		if (fh_dp_neigh_set(&app->dp, a->address, port, &mac) < 0)
			fh_log(FH_LOG_ERR, "arp", "ip arp %u.%u.%u.%u: not installed (limits.neighbours)", a->address >> 24,
			       (a->address >> 16) & 0xff, (a->address >> 8) & 0xff, a->address & 0xff);
		fh_map_put(&next, neigh_key(port, a->address), 1);
		fh_map_del(&app->static_neigh, neigh_key(port, a->address));
	}
	/* what is left in the old set was removed from the config */
	for (uint32_t i = 0; i <= app->static_neigh.mask && app->static_neigh.key != NULL; i++)
		if (app->static_neigh.full[i])
			fh_dp_neigh_del(&app->dp, (uint32_t)app->static_neigh.key[i], (uint16_t)(app->static_neigh.key[i] >> 32));
	fh_map_fini(&app->static_neigh);
	app->static_neigh = next;
}

/* A configured interface is about to go (reload): its tunnel entry and its pairs first. */
void fh_tables_gone(void *arg, int slot)
{
	struct fh_app *app = arg;
	struct fh_iface *f = &app->ifs.v[slot];
	struct fh_sadb_pair *p, *next;

	f->cfg_idx = -1; /* its config entry is gone: nothing may read it now */
	for (p = fh_sadb_tunnel_first(app->sadb, f->handle); p != NULL; p = next) {
		next = fh_sadb_tunnel_next(app->sadb, p);
		fh_sa_retire(app, p);
	}
	fh_fib_del_owner(app->dp.tables.fib, f->handle);
	/* the config routes through it go with the sweep that follows; until then they point at a slot
	 * without a tunnel entry, which drops (and slots are reused oldest first) */
	fh_dp_tunnel_set(&app->dp, (uint32_t)slot, NULL);
}

static int sync_all(struct fh_app *app)
{
	for (uint32_t p = 0; p < FH_DP_PORTS_MAX; p++)
		app->port_if[p] = -1;
	for (uint32_t i = 0; i < app->ifs.n; i++)
		if (app->ifs.v[i].used && app->ifs.v[i].port >= 0 && app->ifs.v[i].port < FH_DP_PORTS_MAX)
			app->port_if[app->ifs.v[i].port] = (int)i;
	fh_tables_addrs(app);
	for (uint32_t i = 0; i < app->ifs.n; i++)
		if (app->ifs.v[i].used && app->ifs.v[i].kind == FH_IF_TUNNEL)
			fh_tunnel_refresh(app, (int)i);
	config_routes(app);
	static_neigh(app);
	return fh_static_sas_sync(app);
}

int fh_tables_start(struct fh_app *app)
{
	if (fh_map_init(&app->static_neigh, 16) < 0)
		return -1;
	return sync_all(app);
}

int fh_tables_reload(struct fh_app *app)
{
	return sync_all(app);
}
