/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data-plane tables, built on the control lcore from the running config and what the control
 * plane learned (neighbours; SAs from IKEv2 later): local addresses, tunnels, inbound SAs by SPI,
 * the FIB and the neighbour cache. Published whole with QSBR; replaced objects are freed after.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "flexhub.h"

static uint32_t hexbytes(const char *hex, uint8_t *out, uint32_t max)
{
	uint32_t n = (uint32_t)strlen(hex) / 2;

	for (uint32_t i = 0; i < n && i < max; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return n < max ? n : max;
}

/* The address a tunnel's packets leave from: tunnel-source's interface address, or the literal. */
uint32_t fh_tunnel_source(const struct fh_app *app, const struct fh_cfg_iface *c)
{
	uint32_t a = 0;
	uint8_t l;

	if (c->source_idx >= 0 && fh_iface_addr(&app->ifs, c->source_idx, &a, &l))
		return a;
	if (c->source_idx < 0) {
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

/* One direction of a manually keyed pair: keys "-in" for inbound, "-out" for outbound. */
static struct fh_sa *static_sa(const struct fh_cfg_static_sa *c, const struct fh_crypto_engine *eng, uint8_t dir,
			       uint32_t src, uint32_t dst)
{
	uint8_t ek[FH_KEY_MAX], ak[FH_KEY_MAX];
	struct fh_sa_params p = {.dir = dir, .spi = dir == FH_SA_IN ? c->spi_in : c->spi_out, .mode = c->mode,
				 .encr = c->encr, .integ = c->integ, .esn = c->esn, .udp_encap = c->udp_encap,
				 .replay_win = c->replay_window, .src = src, .dst = dst, .enc_key = ek, .auth_key = ak,
				 .life_seconds = c->lifetime_seconds, .life_bytes = (uint64_t)c->lifetime_kilobytes * 1024,
				 .life_pkts = c->lifetime_packets};
	struct fh_sa *sa;

	p.enc_key_len = hexbytes(dir == FH_SA_IN ? c->enc_key_in : c->enc_key_out, ek, sizeof(ek));
	p.auth_key_len = hexbytes(dir == FH_SA_IN ? c->auth_key_in : c->auth_key_out, ak, sizeof(ak));
	sa = fh_sa_create(&p, eng);
	memset(ek, 0, sizeof(ek)); /* the session holds what it needs; no key copies left on the stack */
	memset(ak, 0, sizeof(ak));
	return sa;
}

/* Static SAs: keep the live objects of unchanged entries across a reload (sequence numbers and
 * replay windows go on), create the new ones, retire the rest after the next grace period. */
static int static_sas(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;
	const struct fh_crypto_engine *eng = fh_crypto_engine_get(fh_engine_name(cfg->dataplane.crypto_engine));
	struct fh_app_sa *next = calloc(cfg->n_static_sa + 1, sizeof(*next));

	if (next == NULL || eng == NULL) {
		free(next);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->n_static_sa; i++) {
		const struct fh_cfg_static_sa *c = &cfg->static_sa[i];
		const struct fh_cfg_iface *tun = &cfg->iface[c->if_idx];
		struct fh_app_sa *old = NULL;

		for (uint32_t j = 0; j < app->n_sas; j++)
			if (app->sas[j].in != NULL && fh_static_sa_same(&app->sas[j].cfg, c) &&
			    app->sas[j].src == fh_tunnel_source(app, tun) && app->sas[j].dst == tun->tunnel_destination)
				old = &app->sas[j];
		if (old != NULL) {
			next[i] = *old;
			next[i].cfg = *c; /* same keys and SPIs; indexes may have moved */
			old->in = old->out = NULL;
			continue;
		}
		next[i].cfg = *c;
		{
			next[i].src = fh_tunnel_source(app, tun);
			next[i].dst = tun->tunnel_destination;
			next[i].in = static_sa(c, eng, FH_SA_IN, next[i].dst, next[i].src);
			next[i].out = static_sa(c, eng, FH_SA_OUT, next[i].src, next[i].dst);
			if (next[i].in == NULL || next[i].out == NULL) {
				fh_log(FH_LOG_ERR, "crypto ipsec", "static-sa %s: cannot create the SA pair", c->hdr.name);
				fh_sa_destroy(next[i].in);
				fh_sa_destroy(next[i].out);
				next[i].in = next[i].out = NULL;
			}
		}
	}
	/* what is left in the old list is retired after the publication that drops it */
	app->retired = app->sas;
	app->n_retired = app->n_sas;
	app->sas = next;
	app->n_sas = cfg->n_static_sa;
	return 0;
}

static void add_route(struct fh_route **r, uint32_t *n, uint32_t *cap, uint32_t prefix, uint8_t len, uint8_t src,
		      uint8_t dist, struct fh_nh nh)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		struct fh_route *v = realloc(*r, c * sizeof(*v));

		if (v == NULL)
			return;
		*r = v;
		*cap = c;
	}
	(*r)[(*n)++] = (struct fh_route){.prefix = prefix & fh_prefix_mask(len), .len = len, .src = src,
					 .distance = dist, .nh = nh};
}

/* Which connected route covers a gateway: that is how a static route's next hop is reached. */
static bool resolve_gw(const struct fh_route *r, uint32_t n, uint32_t gw, struct fh_nh *out)
{
	int best = -1;

	for (uint32_t i = 0; i < n; i++)
		if (r[i].src == FH_RT_CONNECTED && ((gw ^ r[i].prefix) & fh_prefix_mask(r[i].len)) == 0 &&
		    (best < 0 || r[i].len > r[best].len))
			best = (int)i;
	if (best < 0)
		return false;
	*out = r[best].nh;
	if (out->kind == FH_NH_PORT) {
		out->kind = FH_NH_GATEWAY;
		out->gw = gw;
	}
	return true;
}

static struct fh_fib *build_fib(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;
	struct fh_route *r = NULL;
	uint32_t n = 0, cap = 0;
	struct fh_fib *fib;

	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		struct fh_nh nh = {.if_idx = (int)i};

		if (!f->has_addr || !f->admin_up)
			continue;
		add_route(&r, &n, &cap, f->addr, 32, FH_RT_LOCAL, 0, (struct fh_nh){.kind = FH_NH_LOCAL, .if_idx = (int)i});
		if (f->plen == 32)
			continue;
		if (f->kind == FH_IF_PHYSICAL) {
			nh.kind = FH_NH_PORT;
			nh.port = (uint16_t)f->port;
		} else if (f->kind == FH_IF_TUNNEL) {
			nh.kind = FH_NH_TUNNEL;
			nh.tunnel = (uint16_t)app->tun_of_if[i];
		} else {
			nh.kind = FH_NH_DROP;
		}
		add_route(&r, &n, &cap, f->addr, f->plen, FH_RT_CONNECTED, 0, nh);
	}
	for (uint32_t i = 0; i < cfg->n_route; i++) {
		const struct fh_cfg_route *c = &cfg->route[i];
		struct fh_nh nh = {.kind = FH_NH_DROP, .if_idx = c->if_idx};
		bool ok = true;

		if (c->if_idx >= 0) {
			const struct fh_iface *f = &app->ifs.v[c->if_idx];

			if (f->kind == FH_IF_PHYSICAL) {
				nh.kind = c->has_next_hop ? FH_NH_GATEWAY : FH_NH_PORT;
				nh.port = (uint16_t)f->port;
				nh.gw = c->next_hop;
			} else if (f->kind == FH_IF_TUNNEL) {
				nh.kind = FH_NH_TUNNEL;
				nh.tunnel = (uint16_t)app->tun_of_if[c->if_idx];
			} else {
				ok = false;
			}
		} else {
			ok = resolve_gw(r, n, c->next_hop, &nh);
		}
		if (ok)
			add_route(&r, &n, &cap, c->prefix.addr, c->prefix.len, FH_RT_STATIC, (uint8_t)c->distance, nh);
		else
			fh_log(FH_LOG_WARN, "routing", "ip route %u.%u.%u.%u/%u: next hop not reachable, not installed",
			       c->prefix.addr >> 24, (c->prefix.addr >> 16) & 0xff, (c->prefix.addr >> 8) & 0xff,
			       c->prefix.addr & 0xff, c->prefix.len);
	}
	fib = fh_fib_build(r, n, ++app->fib_generation);
	free(r);
	return fib;
}

/* Static entries from the config first; learned ones for other addresses after them. */
static void static_neigh(struct fh_app *app)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < app->cfg->n_arp && n < FH_NEIGH_MAX; i++) {
		const struct fh_cfg_arp *a = &app->cfg->arp[i];

		app->neigh[n].ip = a->address;
		app->neigh[n].port = (uint16_t)app->ifs.v[a->if_idx].port;
		memcpy(app->neigh[n].mac.addr_bytes, a->mac_bytes, 6);
		n++;
	}
	for (uint32_t i = app->n_static_neigh; i < app->n_neigh && n < FH_NEIGH_MAX; i++) {
		bool shadowed = false;

		for (uint32_t j = 0; j < app->cfg->n_arp; j++)
			shadowed |= app->neigh[i].ip == app->cfg->arp[j].address;
		if (!shadowed)
			app->neigh[n++] = app->neigh[i];
	}
	app->n_neigh = n;
	app->n_static_neigh = app->cfg->n_arp < FH_NEIGH_MAX ? app->cfg->n_arp : FH_NEIGH_MAX;
}

static void fill_neigh(const struct fh_app *app, struct fh_dp_tables *t)
{
	memset(t->neigh, 0, sizeof(t->neigh));
	for (uint32_t i = 0; i < app->n_neigh; i++) {
		uint32_t h = fh_dp_neigh_hash(app->neigh[i].ip, app->neigh[i].port);

		while (t->neigh[h].ip != 0)
			h = (h + 1) & (FH_DP_NEIGH_SLOTS - 1);
		t->neigh[h] = app->neigh[i];
	}
}

static void retire(struct fh_app *app, struct fh_fib *old_fib)
{
	fh_fib_free(old_fib);
	for (uint32_t i = 0; i < app->n_retired; i++) {
		fh_sa_destroy(app->retired[i].in);
		fh_sa_destroy(app->retired[i].out);
	}
	free(app->retired);
	app->retired = NULL;
	app->n_retired = 0;
	fh_ike_reap(app);
}

int fh_publish_tables(struct fh_app *app)
{
	struct fh_dp_tables *t = rte_zmalloc("fh_tables", sizeof(*t), RTE_CACHE_LINE_SIZE);
	struct fh_fib *old_fib = app->dp.tables != NULL ? app->dp.tables->fib : NULL;

	uint32_t ti = 0;

	if (t == NULL)
		return -1;
	/* tunnels are numbered in config order; the FIB's tunnel next hops need the numbers */
	for (uint32_t i = 0; i < app->ifs.n && i < FH_IFACES_MAX; i++)
		app->tun_of_if[i] = app->ifs.v[i].kind == FH_IF_TUNNEL && ti < FH_DP_TUNNELS_MAX ? (int)ti++ : -1;
	/* the FIB first: if memory runs out, nothing else (SAs) has changed yet */
	t->fib = build_fib(app);
	if (t->fib == NULL || static_sas(app) < 0) {
		fh_log(FH_LOG_ERR, "routing", "cannot build the data-plane tables (memory-mb too small?)");
		fh_fib_free(t->fib);
		rte_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < app->ifs.n && t->n_local < FH_DP_LOCAL_ADDRS_MAX; i++) {
		const struct fh_iface *f = &app->ifs.v[i];

		if (!f->has_addr || !f->admin_up)
			continue;
		t->local_addr[t->n_local] = rte_cpu_to_be_32(f->addr);
		t->local_port[t->n_local] = f->port >= 0 ? (uint16_t)f->port : UINT16_MAX;
		t->n_local++;
	}
	/* tunnels: static Tunnel interfaces, numbered in config order */
	for (uint32_t i = 0; i < app->ifs.n && i < FH_IFACES_MAX; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		const struct fh_cfg_iface *c;
		struct fh_dp_tunnel *tun;

		if (app->tun_of_if[i] < 0)
			continue;
		c = &app->cfg->iface[f->cfg_idx];
		tun = &t->tun[app->tun_of_if[i]];
		tun->if_idx = (int)i;
		tun->mode = c->tunnel_mode;
		tun->has_key = c->has_tunnel_key;
		tun->key = c->tunnel_key;
		tun->src = fh_tunnel_source(app, c);
		tun->dst = c->tunnel_destination;
		for (uint32_t s = 0; s < app->n_sas; s++) {
			if (app->sas[s].cfg.if_idx != f->cfg_idx || app->sas[s].out == NULL)
				continue;
			tun->out = app->sas[s].out;
			break;
		}
		/* negotiated pairs win over manual ones; the newest carries the traffic, a pair on
		 * standby only when there is no other */
		{
			struct fh_sa *live = NULL, *standby = NULL;

			for (uint32_t s = 0; s < app->n_ike_sas; s++)
				if (app->ike_sas[s].cfg.if_idx == f->cfg_idx)
					*(app->ike_sas[s].standby ? &standby : &live) = app->ike_sas[s].out;
			if (live != NULL || standby != NULL)
				tun->out = live != NULL ? live : standby;
		}
		tun->up = tun->out != NULL && f->admin_up && tun->src != 0;
		if (tun->out != NULL) {
			uint32_t path = 1500;
			int src = c->source_idx;

			if (src >= 0 && app->cfg->iface[src].kind == FH_IF_PHYSICAL)
				path = app->cfg->iface[src].mtu;
			tun->mtu = c->ip_mtu ? (uint16_t)c->ip_mtu
					     : tunnel_mtu(tun->out, c->tunnel_mode == FH_TUN_GRE, c->has_tunnel_key, path);
		}
		app->ifs.v[i].proto_up = tun->up;
	}
	t->n_tunnels = ti; /* numbered before the FIB was built */
	for (uint32_t s = 0; s < app->n_sas + app->n_ike_sas; s++) {
		const struct fh_app_sa *p = s < app->n_sas ? &app->sas[s] : &app->ike_sas[s - app->n_sas];
		struct fh_sa *in = p->in;
		uint32_t h;

		if (in == NULL || p->cfg.if_idx < 0)
			continue;
		h = (in->spi * 2654435761u) & (FH_DP_SA_SLOTS - 1);
		while (t->sa_in[h].spi != 0)
			h = (h + 1) & (FH_DP_SA_SLOTS - 1);
		t->sa_in[h].spi = in->spi;
		t->sa_in[h].sa = in;
		/* set once, before the SA is first published, never changed after */
		in->owner = fh_dp_sa_owner(in->spi, app->dp.n_workers);
		/* configured interfaces come first in the table, in config order: same index */
		t->sa_in[h].tunnel = (uint16_t)(app->tun_of_if[p->cfg.if_idx] < 0 ? 0 : app->tun_of_if[p->cfg.if_idx]);
	}
	static_neigh(app);
	fill_neigh(app, t);
	fh_dp_publish(&app->dp, t);
	retire(app, old_fib);
	return 0;
}

/* Only the neighbour cache changed: copy the tables, keep FIB and SAs. */
int fh_publish_neigh(struct fh_app *app)
{
	struct fh_dp_tables *t = rte_malloc("fh_tables", sizeof(*t), RTE_CACHE_LINE_SIZE);

	if (t == NULL)
		return -1;
	memcpy(t, app->dp.tables, sizeof(*t));
	fill_neigh(app, t);
	fh_dp_publish(&app->dp, t);
	return 0;
}

bool fh_static_sa_same(const struct fh_cfg_static_sa *a, const struct fh_cfg_static_sa *b)
{
	return strcmp(a->interface, b->interface) == 0 && a->spi_in == b->spi_in && a->spi_out == b->spi_out &&
	       a->encr == b->encr && a->integ == b->integ && a->mode == b->mode && a->esn == b->esn &&
	       a->udp_encap == b->udp_encap && a->replay_window == b->replay_window &&
	       a->lifetime_seconds == b->lifetime_seconds && a->lifetime_kilobytes == b->lifetime_kilobytes &&
	       a->lifetime_packets == b->lifetime_packets &&
	       strcmp(a->enc_key_in, b->enc_key_in) == 0 && strcmp(a->enc_key_out, b->enc_key_out) == 0 &&
	       strcmp(a->auth_key_in, b->auth_key_in) == 0 && strcmp(a->auth_key_out, b->auth_key_out) == 0;
}
