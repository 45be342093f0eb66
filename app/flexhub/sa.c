/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SA database (lib/sadb) and the workers' view of it. A pair going in is one insert into the
 * SPI hash and, when it is the tunnel's new outbound pair, one new version of that tunnel entry; a
 * pair going out is the reverse, and its SA objects are destroyed after the grace period. Nothing
 * else is rebuilt, and the control lcore never waits for the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "flexhub.h"

int fh_sa_glue_start(struct fh_app *app)
{
	app->sadb = fh_sadb_new(app->lim.dp.sa_in, app->lim.interfaces);
	return app->sadb != NULL ? 0 : -1;
}

static void pair_user_free(struct fh_app_pair *u)
{
	if (u == NULL)
		return;
	free(u->cfg);
	free(u);
}

/* After the grace period: nobody reads the pair's SAs any more. */
static void pair_free(void *ptr, uint64_t handle)
{
	struct fh_app *app = ptr;
	struct fh_sadb_pair *p = app->sadb != NULL ? fh_sadb_get(app->sadb, (fh_handle_t)handle) : NULL;

	if (p == NULL)
		return;
	fh_sa_destroy(p->in);
	fh_sa_destroy(p->out);
	pair_user_free(p->user);
	fh_sadb_del(app->sadb, p);
}

void fh_sa_glue_free(struct fh_app *app)
{
	uint32_t cur = 0;
	struct fh_sadb_pair *p;

	if (app->sadb == NULL)
		return;
	/* the workers have stopped and the defer queue ran: what is left was never retired */
	while ((p = fh_sadb_next(app->sadb, &cur)) != NULL) {
		fh_sa_destroy(p->in);
		fh_sa_destroy(p->out);
		pair_user_free(p->user);
	}
	fh_sadb_free(app->sadb);
	app->sadb = NULL;
	free(app->statics);
	app->statics = NULL;
	app->n_statics = 0;
}

/*
 * The worker that decrypts an inbound SA: where the port its packets arrive on (the one our
 * address lives on, else the one the route to the peer leaves by) spreads by RSS over several
 * queues, the queue RSS puts the SA's outer tuple on (queue w is worker w's), so the packets
 * need no handoff. Otherwise by SPI, and what arrives elsewhere takes the handoff ring. A peer
 * behind a NAT that changes its port later only costs the handoff again: still correct.
 */
static uint16_t sa_owner(const struct fh_app *app, const struct fh_sa *in)
{
	const struct fh_dp_local *l = app->dp.tables.local;
	int pi = -1, q;

	for (uint32_t i = 0; l != NULL && i < l->n; i++)
		if (l->addr[i] == rte_cpu_to_be_32(in->dst) && l->port[i] != UINT16_MAX)
			pi = l->port[i];
	if (pi < 0) {
		const struct fh_nh *nh = fh_fib_lookup(app->dp.tables.fib, in->src);

		if (nh != NULL && (nh->kind == FH_NH_PORT || nh->kind == FH_NH_GATEWAY))
			pi = nh->port;
	}
	if (app->dp.n_workers > 1 && pi >= 0 && pi < app->dp.n_ports && app->rss[pi].reta_size != 0) {
		q = fh_rss_queue(&app->rss[pi], in->src, in->dst, in->udp_encap, in->sport, in->dport);
		if (q >= 0 && q < app->dp.n_workers)
			return (uint16_t)q;
	}
	return fh_dp_sa_owner(in->spi, app->dp.n_workers);
}

struct fh_sadb_pair *fh_sa_install(struct fh_app *app, fh_handle_t tunnel, struct fh_sa *in, struct fh_sa *out,
				   uint8_t origin, enum fh_sadb_state state, struct fh_app_pair *user)
{
	int slot = fh_iface_slot(&app->ifs, tunnel);
	struct fh_sadb_pair *p = slot >= 0 ? fh_sadb_add(app->sadb, tunnel, in->spi, out->spi, origin) : NULL;
	int rc;

	if (slot < 0)
		errno = EINVAL;
	if (p == NULL) {
		if (errno == ENOSPC)
			app->cc[FH_CC_SA_LIMIT]++;
		goto fail;
	}
	p->in = in;
	p->out = out;
	p->src = out->src;
	p->dst = out->dst;
	p->user = user;
	/* set once, before the SA is first visible, never changed after */
	in->owner = sa_owner(app, in);
	in->tunnel = (uint32_t)slot;
	rc = fh_dp_sa_add(&app->dp, in);
	if (rc < 0) {
		if (rc == -ENOSPC)
			app->cc[FH_CC_SA_LIMIT]++;
		fh_sadb_del(app->sadb, p);
		errno = -rc;
		goto fail;
	}
	fh_sadb_set_state(app->sadb, p, state);
	fh_tunnel_refresh(app, slot);
	return p;
fail:
	if (errno == ENOSPC)
		fh_log(FH_LOG_ERR, "crypto ipsec", "SA pair 0x%08x/0x%08x not installed: limits.sa-pairs (%u) reached",
		       in->spi, out->spi, app->lim.dp.sa_in);
	fh_sa_destroy(in);
	fh_sa_destroy(out);
	pair_user_free(user);
	return NULL;
}

void fh_sa_retire(struct fh_app *app, struct fh_sadb_pair *p)
{
	int slot = fh_iface_slot(&app->ifs, p->tunnel);

	if (p->state == FH_SADB_RETIRING)
		return;
	fh_dp_sa_del(&app->dp, p->in);
	fh_sadb_set_state(app->sadb, p, FH_SADB_RETIRING);
	/* the tunnel stops encrypting with it (another pair takes over, or the tunnel goes down) */
	if (slot >= 0)
		fh_tunnel_refresh(app, slot);
	fh_dp_defer(&app->dp, pair_free, app, p->handle);
}

void fh_sa_set_state(struct fh_app *app, struct fh_sadb_pair *p, enum fh_sadb_state st)
{
	int slot = fh_iface_slot(&app->ifs, p->tunnel);

	fh_sadb_set_state(app->sadb, p, st);
	if (slot >= 0)
		fh_tunnel_refresh(app, slot);
}

static uint32_t hexbytes(const char *hex, uint8_t *out, uint32_t max)
{
	uint32_t n = (uint32_t)strlen(hex) / 2;

	for (uint32_t i = 0; i < n && i < max; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return n < max ? n : max;
}

/* One direction of a manually keyed pair: keys "-in" for inbound, "-out" for outbound. */
static struct fh_sa *static_sa(const struct fh_app *app, const struct fh_cfg_static_sa *c,
			       const struct fh_crypto_engine *eng, uint8_t dir, uint32_t src, uint32_t dst)
{
	uint8_t ek[FH_KEY_MAX], ak[FH_KEY_MAX];
	struct fh_sa_params p = {.dir = dir, .spi = dir == FH_SA_IN ? c->spi_in : c->spi_out, .mode = c->mode,
				 .encr = c->encr, .integ = c->integ, .esn = c->esn, .udp_encap = c->udp_encap,
				 .replay_win = c->replay_window, .src = src, .dst = dst, .enc_key = ek, .auth_key = ak,
				 .life_seconds = c->lifetime_seconds, .life_bytes = (uint64_t)c->lifetime_kilobytes * 1024,
				 .life_pkts = c->lifetime_packets, .n_lcores = app->dp.n_workers};
	struct fh_sa *sa;

	p.enc_key_len = hexbytes(dir == FH_SA_IN ? c->enc_key_in : c->enc_key_out, ek, sizeof(ek));
	p.auth_key_len = hexbytes(dir == FH_SA_IN ? c->auth_key_in : c->auth_key_out, ak, sizeof(ak));
	sa = fh_sa_create(&p, eng);
	memset(ek, 0, sizeof(ek)); /* the session holds what it needs; no key copies left on the stack */
	memset(ak, 0, sizeof(ak));
	return sa;
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

/*
 * Manually keyed pairs: an entry whose pair exists with the same settings, tunnel and endpoints
 * keeps it (sequence numbers and replay windows go on); a changed one is retired and created
 * again; pairs whose entry is gone are retired. O(static-sa entries).
 */
int fh_static_sas_sync(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;
	const struct fh_crypto_engine *eng = fh_crypto_engine_get(fh_engine_name(cfg->dataplane.crypto_engine));
	fh_handle_t *next = calloc(cfg->n_static_sa + 1, sizeof(*next));
	struct fh_map keep;
	int rc = 0;

	if (next == NULL || eng == NULL || fh_map_init(&keep, cfg->n_static_sa) < 0) {
		free(next);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->n_static_sa; i++) {
		const struct fh_cfg_static_sa *c = &cfg->static_sa[i];
		const struct fh_cfg_iface *tc = &cfg->iface[c->if_idx];
		int slot = fh_iface_find(&app->ifs, tc->hdr.name);
		fh_handle_t tun = slot >= 0 ? app->ifs.v[slot].handle : FH_HANDLE_NONE;
		uint32_t src = fh_tunnel_source(app, tc), dst = tc->tunnel_destination;
		struct fh_sadb_pair *old = fh_sadb_find_spi(app->sadb, c->spi_in), *p;
		struct fh_app_pair *u;
		struct fh_sa *in, *out;

		if (old != NULL && old->origin == FH_SADB_STATIC && old->state != FH_SADB_RETIRING && old->tunnel == tun &&
		    old->user != NULL && fh_static_sa_same(((struct fh_app_pair *)old->user)->cfg, c) && old->src == src &&
		    old->dst == dst) {
			*((struct fh_app_pair *)old->user)->cfg = *c; /* indexes may have moved */
			next[i] = old->handle;
			fh_map_put(&keep, old->handle, 1);
			continue;
		}
		if (old != NULL)
			fh_sa_retire(app, old); /* its SPI is wanted by the new entry */
		if (tun == FH_HANDLE_NONE)
			continue;
		u = calloc(1, sizeof(*u));
		if (u != NULL)
			u->cfg = malloc(sizeof(*u->cfg));
		in = static_sa(app, c, eng, FH_SA_IN, dst, src);
		out = static_sa(app, c, eng, FH_SA_OUT, src, dst);
		if (u == NULL || u->cfg == NULL || in == NULL || out == NULL) {
			fh_log(FH_LOG_ERR, "crypto ipsec", "static-sa %s: cannot create the SA pair", c->hdr.name);
			fh_sa_destroy(in);
			fh_sa_destroy(out);
			pair_user_free(u);
			rc = -1;
			continue;
		}
		*u->cfg = *c;
		u->replay_window = c->replay_window;
		u->aged = true;
		p = fh_sa_install(app, tun, in, out, FH_SADB_STATIC, FH_SADB_ACTIVE, u);
		if (p == NULL) {
			fh_log(FH_LOG_ERR, "crypto ipsec", "static-sa %s: not installed (%s)", c->hdr.name, strerror(errno));
			rc = -1;
			continue;
		}
		next[i] = p->handle;
		fh_map_put(&keep, p->handle, 1);
	}
	/* what the new config no longer has */
	for (uint32_t i = 0; i < app->n_statics; i++) {
		struct fh_sadb_pair *p = fh_sadb_get(app->sadb, app->statics[i]);

		if (p != NULL && !fh_map_get(&keep, p->handle, NULL))
			fh_sa_retire(app, p);
	}
	fh_map_fini(&keep);
	free(app->statics);
	app->statics = next;
	app->n_statics = cfg->n_static_sa;
	return rc;
}

/* Manually keyed SAs' lifetimes: time is aged here; volume was marked by the workers. Each event
 * logged once. Negotiated pairs are IKE's (it rekeys and expires them). O(static pairs)/s. */
void fh_sa_lifetimes(struct fh_app *app)
{
	uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();

	if (now - app->last_aging < hz)
		return;
	app->last_aging = now;
	for (uint32_t i = 0; i < app->n_statics; i++) {
		struct fh_sadb_pair *p = fh_sadb_get(app->sadb, app->statics[i]);
		struct fh_app_pair *u = p != NULL ? p->user : NULL;
		struct fh_sa *sas[2];

		if (u == NULL || p->state == FH_SADB_RETIRING)
			continue;
		sas[0] = p->in;
		sas[1] = p->out;
		for (int d = 0; d < 2; d++) {
			struct fh_sa *sa = sas[d];

			fh_sa_age(sa, now, hz);
			if (sa->soft_expired && !u->soft_told[d]) {
				u->soft_told[d] = true;
				app->cc[FH_CC_SA_SOFT_EXPIRED]++;
				fh_log(FH_LOG_WARN, "crypto ipsec", "%s SA 0x%08x on %s reached its soft lifetime: rekey needed",
				       d == 0 ? "inbound" : "outbound", sa->spi, u->cfg->interface);
			}
			if (sa->hard_expired && !u->hard_told[d]) {
				u->hard_told[d] = true;
				app->cc[FH_CC_SA_HARD_EXPIRED]++;
				fh_log(FH_LOG_ERR, "crypto ipsec", "%s SA 0x%08x on %s reached its hard lifetime: traffic dropped",
				       d == 0 ? "inbound" : "outbound", sa->spi, u->cfg->interface);
			}
		}
	}
}
