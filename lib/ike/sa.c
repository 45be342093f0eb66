/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's core: IKE SA slots, the message-ID windows (RFC 7296 2.1-2.3: one request of ours
 * in flight, retransmitted with back-off; the peer's retransmitted request answered from the
 * cached response), the SK envelope of every exchange after IKE_SA_INIT, dispatch by exchange,
 * and the timers that drive initiation, DPD, rekeys and expiry.
 *
 * Every SA that exists is in ike->live (compact, for walks) and in the hash tables of index.c
 * (by our SPI, by tunnel-id, tunnel and peer). A handler that changes what an SA is found by or
 * when it must wake calls ike_sa_touch(); at the end of each entry point (input, tick, reload,
 * clear, rekey) touched SAs are re-indexed and their one timer moved to their earliest deadline
 * (sa_arm), and SAs killed during the call become reusable: until then a handler may still look
 * at one it holds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_int.h"

#define SA_LIVE_START 64

static void flush(struct fh_ike *ike);

static const char *const ctr_names[FH_IKE_CTR_MAX] = {
	[FH_IKE_CTR_RX] = "rx",
	[FH_IKE_CTR_TX] = "tx",
	[FH_IKE_CTR_RETRANSMIT] = "retransmitted",
	[FH_IKE_CTR_RX_MALFORMED] = "rx-malformed",
	[FH_IKE_CTR_RX_NO_SA] = "rx-unknown-ike-sa",
	[FH_IKE_CTR_RX_BAD_MSGID] = "rx-bad-message-id",
	[FH_IKE_CTR_RX_DUP_REQUEST] = "rx-retransmitted-request",
	[FH_IKE_CTR_RX_ICV] = "rx-integrity-failed",
	[FH_IKE_CTR_NO_PROPOSAL] = "no-proposal-chosen",
	[FH_IKE_CTR_INVALID_KE] = "invalid-ke-payload",
	[FH_IKE_CTR_AUTH_FAILED] = "authentication-failed",
	[FH_IKE_CTR_NO_PROFILE] = "no-matching-profile",
	[FH_IKE_CTR_TS_UNACCEPTABLE] = "ts-unacceptable",
	[FH_IKE_CTR_COOKIE_SENT] = "cookie-challenges",
	[FH_IKE_CTR_COOKIE_BAD] = "cookie-missing-or-bad",
	[FH_IKE_CTR_HALF_OPEN_LIMIT] = "half-open-limit-drops",
	[FH_IKE_CTR_SA_ESTABLISHED] = "ike-sa-established",
	[FH_IKE_CTR_CHILD_UP] = "child-sa-up",
	[FH_IKE_CTR_CHILD_REKEYED] = "child-sa-rekeyed",
	[FH_IKE_CTR_IKE_REKEYED] = "ike-sa-rekeyed",
	[FH_IKE_CTR_DELETED] = "ike-sa-deleted",
	[FH_IKE_CTR_DPD_SENT] = "dpd-sent",
	[FH_IKE_CTR_DPD_DEAD] = "dpd-peer-dead",
	[FH_IKE_CTR_TIMEOUT] = "request-timeouts",
	[FH_IKE_CTR_KEEPALIVE] = "nat-keepalives",
	[FH_IKE_CTR_FRAG_TX] = "fragments-sent",
	[FH_IKE_CTR_FRAG_RX] = "fragments-received",
	[FH_IKE_CTR_SA_LIMIT] = "ike-sa-limit-drops",
	[FH_IKE_CTR_CHILD_LIMIT] = "child-sa-limit-refused",
	[FH_IKE_CTR_SESSION_REFUSED] = "session-refused",
	[FH_IKE_CTR_REPLACED] = "sessions-replaced",
	[FH_IKE_CTR_CP_MALFORMED] = "cp-malformed",
};

const char *fh_ike_ctr_name(enum fh_ike_ctr c)
{
	return c < FH_IKE_CTR_MAX ? ctr_names[c] : "?";
}

void ike_err(struct fh_ike *ike, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	/* "debug crypto ikev2 error" shows every one; otherwise a flood is rate-limited */
	bool debug = fh_debug_on("crypto ikev2 error");

	if (!debug && !fh_ratelimit_ok(&ike->rl, "crypto ikev2 error"))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fh_log(debug ? FH_LOG_DEBUG : FH_LOG_WARN, debug ? "crypto ikev2 error" : "crypto ikev2", "%s", buf);
}

uint32_t ike_rand32(void)
{
	uint32_t v = 0;

	if (RAND_bytes((uint8_t *)&v, sizeof(v)) != 1)
		abort(); /* no randomness: no keys can be made safely */
	return v;
}

uint64_t ike_rand64(void)
{
	return (uint64_t)ike_rand32() << 32 | ike_rand32();
}

/* ---- the tunnels of a config ---- */

static void tuns_free(struct ike_tuns *t)
{
	ike_heap_fini(&t->heap);
	ike_ix_fini(&t->by_handle);
	ike_ix_fini(&t->by_dst);
	free(t->v);
	free(t->of_iface);
	memset(t, 0, sizeof(*t));
}

static struct ike_tun *tuns_find(const struct ike_tuns *t, uint32_t handle)
{
	struct ike_node *n = handle != 0 ? ike_ix_find(&t->by_handle, handle, 0, NULL) : NULL;

	return n != NULL ? IKE_CONTAINER(n, struct ike_tun, by_handle) : NULL;
}

/* Once per config: each tunnel interface with its handle from the caller, found by handle and by
 * destination, and whether we initiate it, so that nothing per message or per tick walks the
 * config's interfaces. */
static int tuns_build(struct fh_ike *ike, const struct fh_config *cfg, struct ike_tuns *t)
{
	uint32_t n = 0;

	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		n += cfg->iface[i].kind == FH_IF_TUNNEL;
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	t->of_iface = malloc((cfg->n_iface ? cfg->n_iface : 1) * sizeof(*t->of_iface));
	t->n_iface = cfg->n_iface;
	if (t->v == NULL || t->of_iface == NULL || ike_ix_init(&t->by_handle, n) < 0 || ike_ix_init(&t->by_dst, n) < 0 ||
	    ike_heap_init(&t->heap, n ? n : 1) < 0) {
		tuns_free(t);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		const struct fh_cfg_iface *f = &cfg->iface[i];
		struct ike_tun *e;
		uint32_t h;

		t->of_iface[i] = -1;
		if (f->kind != FH_IF_TUNNEL)
			continue;
		h = ike->ops->tunnel_handle(ike->ctx, f->hdr.name);
		if (h == 0 || tuns_find(t, h) != NULL) {
			fh_log(FH_LOG_ERR, "crypto ikev2", "tunnel %s: no handle of its own (%u); IKE leaves it alone",
			       f->hdr.name, h);
			continue;
		}
		e = &t->v[t->n];
		t->of_iface[i] = (int32_t)t->n++;
		e->handle = h;
		e->idx = (int)i;
		ike_ix_add(&t->by_handle, &e->by_handle, h, 0);
		if (f->has_destination)
			ike_ix_add(&t->by_dst, &e->by_dst, f->tunnel_destination, 0);
	}
	/* manually keyed tunnels are not negotiated */
	for (uint32_t k = 0; k < cfg->n_static_sa; k++) {
		int i = cfg->static_sa[k].if_idx;

		if (i >= 0 && (uint32_t)i < cfg->n_iface && t->of_iface[i] >= 0)
			t->v[t->of_iface[i]].manual = true;
	}
	for (uint32_t k = 0; k < t->n; k++) {
		struct ike_tun *e = &t->v[k];
		const struct fh_cfg_iface *f = &cfg->iface[e->idx];
		int ip;

		e->wanted = !e->manual && f->has_destination && !f->shutdown && f->tunnel_initiate &&
			    ike_profile_for_tunnel(cfg, e->idx, &ip) >= 0;
	}
	return 0;
}

struct ike_tun *ike_tun_of(const struct fh_ike *ike, uint32_t handle)
{
	return tuns_find(&ike->tuns, handle);
}

int ike_sa_tun_idx(const struct fh_ike *ike, const struct ike_sa *sa)
{
	const struct ike_tun *t = ike_tun_of(ike, sa->tunnel);

	return t != NULL ? t->idx : -1;
}

/* The next initiation attempt of a tunnel we initiate; never in the past of the running tick (a
 * retry pause of 0 would spin). */
static void tun_arm(struct fh_ike *ike, struct ike_tun *t, uint64_t at)
{
	t->retry_at = at;
	if (t->wanted)
		ike_timer_set(&ike->tuns.heap, &t->timer, at); /* room for every tunnel was reserved */
}

/* Every tunnel we initiate, now (a new config, clear crypto ikev2 sa). */
static void tuns_arm_all(struct fh_ike *ike, uint64_t at)
{
	for (uint32_t k = 0; k < ike->tuns.n; k++)
		tun_arm(ike, &ike->tuns.v[k], at);
}

/* crypto ikev2 cookie-challenge, limit max-in-negotiation-sa, fragmentation mtu, limits.ike-sas */
static void config_limits(struct fh_ike *ike, const struct fh_config *cfg)
{
	ike->lim.sa_max = cfg->limits.ike_sas ? cfg->limits.ike_sas : FH_IKE_SA_MAX_DEFAULT;
	ike->lim.cookie_threshold = cfg->ike_cookie_challenge;
	ike->lim.half_open_max = cfg->ike_max_in_negotiation;
	ike->lim.frag_mtu = cfg->ike_frag_mtu;
}

static void engine_free(struct fh_ike *ike)
{
	struct ike_sa *sa;

	for (uint32_t i = 0; i < ike->n_live; i++)
		free(ike->live[i]);
	while ((sa = ike->grave) != NULL) {
		ike->grave = sa->spare_next;
		free(sa);
	}
	while ((sa = ike->spare) != NULL) {
		ike->spare = sa->spare_next;
		free(sa);
	}
	for (int i = 0; i < IX_MAX; i++)
		ike_ix_fini(&ike->ix[i]);
	ike_ix_fini(&ike->ix_child);
	ike_heap_fini(&ike->heap);
	tuns_free(&ike->tuns);
	free(ike->live);
	OPENSSL_cleanse(ike->secret, sizeof(ike->secret));
	free(ike);
}

struct fh_ike *fh_ike_new(const struct fh_config *cfg, const struct fh_ike_ops *ops, void *ctx)
{
	struct fh_ike *ike = calloc(1, sizeof(*ike));
	bool ok;

	if (ike == NULL)
		return NULL;
	ike->cfg = cfg;
	ike->ops = ops;
	ike->ctx = ctx;
	ike->lim = (struct fh_ike_limits){.retransmit_ms = 1000, .retransmit_tries = 5, .retry_initiate_ms = 5000,
					  .sa_max = FH_IKE_SA_MAX_DEFAULT};
	config_limits(ike, cfg);
	ike->cap_live = SA_LIVE_START;
	ike->live = calloc(ike->cap_live, sizeof(*ike->live));
	ok = ike->live != NULL && ike_heap_init(&ike->heap, ike->cap_live) == 0 &&
	     ike_ix_init(&ike->ix_child, SA_LIVE_START) == 0 && tuns_build(ike, cfg, &ike->tuns) == 0 &&
	     RAND_bytes(ike->secret[0], sizeof(ike->secret[0])) == 1;
	for (int i = 0; ok && i < IX_MAX; i++)
		ok = ike_ix_init(&ike->ix[i], SA_LIVE_START) == 0;
	if (!ok) {
		engine_free(ike);
		return NULL;
	}
	memcpy(ike->secret[1], ike->secret[0], sizeof(ike->secret[0]));
	ike->next_id = 1;
	tuns_arm_all(ike, 0); /* configured tunnels start at the first tick */
	return ike;
}

void fh_ike_get_limits(const struct fh_ike *ike, struct fh_ike_limits *l)
{
	*l = ike->lim;
}

void fh_ike_set_limits(struct fh_ike *ike, const struct fh_ike_limits *l)
{
	ike->lim = *l;
	if (ike->lim.retransmit_tries == 0)
		ike->lim.retransmit_tries = 1;
	if (ike->lim.retry_initiate_ms == 0)
		ike->lim.retry_initiate_ms = 1; /* a tunnel's timer must move forward */
}

static void sa_free_bufs(struct ike_sa *sa)
{
	fh_ike_dh_free(sa->dh);
	fh_ike_dh_free(sa->rq_dh);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->req.buf);
	free(sa->resp.buf);
	sa->dh = sa->rq_dh = NULL;
	sa->init_req = sa->init_resp = sa->req.buf = sa->resp.buf = NULL;
	for (int i = 0; i < IKE_FRAG_MAX; i++) {
		free(sa->rxf.chunk[i]);
		sa->rxf.chunk[i] = NULL;
	}
}

void ike_sa_touch(struct fh_ike *ike, struct ike_sa *sa)
{
	if (sa->dirty)
		return;
	sa->dirty = true;
	sa->dirty_next = ike->dirty;
	ike->dirty = sa;
}

static uint64_t own_spi(const struct ike_sa *sa)
{
	return sa->initiator ? sa->spi_i : sa->spi_r;
}

/* An identity as a key (FNV-1a): the index hashes it again with its secret seed, and users of
 * IX_RID compare the strings. */
uint64_t ike_rid_key(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 0x100000001b3ull;
	return h;
}

/* The SA's entries in the hash tables as its fields say now; each a no-op when unchanged. */
void ike_sa_reindex(struct fh_ike *ike, struct ike_sa *sa)
{
	bool est = sa->used && sa->state == ST_ESTABLISHED;

	if (!sa->used)
		return;
	ike_ix_set(&ike->ix[IX_SPI], &sa->ix[IX_SPI], own_spi(sa) != 0, own_spi(sa), 0);
	ike_ix_set(&ike->ix[IX_INIT], &sa->ix[IX_INIT], !sa->initiator && sa->spi_i != 0, sa->spi_i,
		   (uint64_t)sa->remote.ip << 16 | sa->remote.port);
	ike_ix_set(&ike->ix[IX_ID], &sa->ix[IX_ID], true, sa->id, 0);
	ike_ix_set(&ike->ix[IX_TUN], &sa->ix[IX_TUN], sa->tunnel != 0, sa->tunnel, 0);
	ike_ix_set(&ike->ix[IX_PEER], &sa->ix[IX_PEER], sa->remote.ip != 0, sa->remote.ip, 0);
	ike_ix_set(&ike->ix[IX_RID], &sa->ix[IX_RID], sa->authed, sa->authed ? ike_rid_key(sa->remote_id) : 0, 0);
	if (est != sa->counted_est) {
		sa->counted_est = est;
		if (est)
			ike->n_est++;
		else
			ike->n_est--;
	}
}

/* The SA whose ix-th table entry n is. */
static struct ike_sa *sa_of(struct ike_node *n, int ix)
{
	return n != NULL ? (struct ike_sa *)(void *)((char *)(n - ix) - offsetof(struct ike_sa, ix)) : NULL;
}

struct ike_sa *ike_sa_first(struct fh_ike *ike, int ix, uint64_t k1, uint64_t k2)
{
	ike->st.lookups++;
	return sa_of(ike_ix_find(&ike->ix[ix], k1, k2, &ike->st.probes), ix);
}

struct ike_sa *ike_sa_next_same(struct fh_ike *ike, int ix, const struct ike_sa *sa)
{
	return sa_of(ike_ix_next(&ike->ix[ix], &sa->ix[ix], &ike->st.probes), ix);
}

struct ike_sa *ike_sa_new(struct fh_ike *ike, bool rekey)
{
	/* a rekey's new SA replaces one that goes right after: let it pass the limit, up to twice */
	uint64_t max = rekey ? 2ull * ike->lim.sa_max : ike->lim.sa_max;
	struct ike_sa *sa;

	if (ike->n_live >= max) {
		ike->ctr[FH_IKE_CTR_SA_LIMIT]++;
		ike_err(ike, "IKE SAs at the limit (%u): no new one", ike->lim.sa_max);
		return NULL;
	}
	if (ike->n_live == ike->cap_live) {
		uint32_t n = ike->cap_live * 2;
		struct ike_sa **v = realloc(ike->live, n * sizeof(*v));

		if (v == NULL)
			return NULL;
		ike->live = v;
		ike->cap_live = n;
	}
	/* one timer per SA: room for all of them now, so arming one never fails */
	if (ike_heap_reserve(&ike->heap, ike->cap_live) < 0)
		return NULL;
	if (ike->spare != NULL) {
		sa = ike->spare;
		ike->spare = sa->spare_next;
	} else if ((sa = malloc(sizeof(*sa))) == NULL) {
		return NULL;
	}
	memset(sa, 0, sizeof(*sa));
	sa->used = true;
	if (ike->next_id == 0)
		ike->next_id = 1;
	sa->id = ike->next_id++;
	sa->profile = sa->keyring = sa->peer = sa->ipsec_profile = -1;
	sa->created_ms = sa->last_rx_ms = ike->now;
	sa->live_pos = ike->n_live;
	ike->live[ike->n_live++] = sa;
	ike_sa_touch(ike, sa);
	return sa;
}

/* By our own SPI, the one half of the pair that is ours and unique among our SAs. */
struct ike_sa *ike_sa_find(struct fh_ike *ike, uint64_t spi_i, uint64_t spi_r)
{
	struct ike_sa *sa;

	for (sa = ike_sa_first(ike, IX_SPI, spi_i, 0); sa != NULL; sa = ike_sa_next_same(ike, IX_SPI, sa))
		if (sa->initiator && sa->spi_i == spi_i && sa->spi_r == spi_r && sa->state != ST_DEAD)
			return sa;
	if (spi_r == 0)
		return NULL;
	for (sa = ike_sa_first(ike, IX_SPI, spi_r, 0); sa != NULL; sa = ike_sa_next_same(ike, IX_SPI, sa))
		if (!sa->initiator && sa->spi_i == spi_i && sa->spi_r == spi_r && sa->state != ST_DEAD)
			return sa;
	return NULL;
}

uint64_t ike_new_ike_spi(struct fh_ike *ike)
{
	for (;;) {
		uint64_t spi = ike_rand64();

		if (spi != 0 && ike_sa_first(ike, IX_SPI, spi, 0) == NULL)
			return spi;
	}
}

struct ike_child *ike_child_by_in(struct ike_sa *sa, uint32_t spi_in)
{
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		if (sa->child[i].used && sa->child[i].spi_in == spi_in)
			return &sa->child[i];
	return NULL;
}

struct ike_child *ike_child_by_out(struct ike_sa *sa, uint32_t spi_out)
{
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		if (sa->child[i].used && sa->child[i].spi_out == spi_out)
			return &sa->child[i];
	return NULL;
}

void ike_child_remove(struct fh_ike *ike, struct ike_sa *sa, struct ike_child *c)
{
	if (!c->used)
		return;
	ike_ix_del(&ike->ix_child, &c->by_spi);
	ike->ops->child_down(ike->ctx, sa->tunnel, c->spi_in, c->spi_out);
	fh_debug("crypto ikev2 internal", "tunnel-id %u: child SA in 0x%08x out 0x%08x removed", sa->id, c->spi_in,
		 c->spi_out);
	memset(c, 0, sizeof(*c));
	ike_sa_touch(ike, sa);
}

/* A fresh inbound SPI no child of ours has: random, never 0 or the reserved 1..255 (RFC 4303). */
uint32_t ike_new_spi(struct fh_ike *ike)
{
	for (;;) {
		uint32_t spi = ike_rand32();

		ike->st.lookups++;
		if (spi >= 256 && ike_ix_find(&ike->ix_child, spi, 0, &ike->st.probes) == NULL)
			return spi;
	}
}

/* When to rekey an SA of life_s seconds: 90 % for the side that initiated it, 95 % for the other,
 * less up to 3 % of jitter, so the two ends do not start together and the initiator usually
 * goes first. */
uint64_t ike_soft_ms(uint32_t life_s, bool initiator)
{
	return (uint64_t)life_s * (initiator ? 900 : 950) - (uint64_t)life_s * (ike_rand32() % 30);
}

bool ike_tunnel_has_sa(struct fh_ike *ike, uint32_t handle)
{
	if (handle == 0)
		return false;
	for (struct ike_sa *o = ike_sa_first(ike, IX_TUN, handle, 0); o != NULL; o = ike_sa_next_same(ike, IX_TUN, o))
		if (o->used && o->state != ST_DEAD && o->tunnel == handle)
			return true;
	return false;
}

void ike_sa_kill(struct fh_ike *ike, struct ike_sa *sa, const char *why)
{
	struct ike_tun *t;
	struct ike_sa *last;

	if (!sa->used)
		return;
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		ike_child_remove(ike, sa, &sa->child[i]);
	ike_session_end(ike, sa);
	if (sa->state == ST_INIT_DONE && ike->half_open > 0)
		ike->half_open--;
	if (sa->state == ST_ESTABLISHED || sa->state == ST_DELETING)
		fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: IKE SA with %u.%u.%u.%u down: %s", sa->id,
		       sa->remote.ip >> 24, (sa->remote.ip >> 16) & 0xff, (sa->remote.ip >> 8) & 0xff, sa->remote.ip & 0xff,
		       why);
	else
		fh_debug("crypto ikev2 internal", "tunnel-id %u: negotiation ended: %s", sa->id, why);
	sa_free_bufs(sa);
	OPENSSL_cleanse(&sa->k, sizeof(sa->k));
	sa->used = false;
	sa->state = ST_DEAD;
	for (int i = 0; i < IX_MAX; i++)
		ike_ix_del(&ike->ix[i], &sa->ix[i]);
	if (sa->counted_est) {
		sa->counted_est = false;
		ike->n_est--;
	}
	ike_timer_stop(&ike->heap, &sa->timer);
	last = ike->live[--ike->n_live];
	ike->live[sa->live_pos] = last;
	last->live_pos = sa->live_pos;
	/* reusable once the entry point returns: the handler that killed it may still read it */
	sa->spare_next = ike->grave;
	ike->grave = sa;
	/* a configured tunnel comes back: try again after a pause, unless another SA serves it */
	if (sa->tunnel != 0 && (t = ike_tun_of(ike, sa->tunnel)) != NULL && !ike_tunnel_has_sa(ike, sa->tunnel))
		tun_arm(ike, t, ike->now + ike->lim.retry_initiate_ms);
}

void ike_send_to(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *buf,
		 size_t len)
{
	ike->ctr[FH_IKE_CTR_TX]++;
	if (fh_debug_on("crypto ikev2 packet"))
		fh_log(FH_LOG_DEBUG, "crypto ikev2 packet", "send %zu bytes to %u.%u.%u.%u:%u: exchange %u %s msgid %u", len,
		       r->ip >> 24, (r->ip >> 16) & 0xff, (r->ip >> 8) & 0xff, r->ip & 0xff, r->port, buf[18],
		       (buf[19] & FH_IKE_FLAG_RESPONSE) ? "response" : "request", ike_be32(buf + 20));
	ike->ops->send(ike->ctx, l, r, buf, len);
}

void ike_send(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len)
{
	ike_send_to(ike, &sa->local, &sa->remote, buf, len);
}

/* A builder for the plaintext inside an SK payload: its header is a placeholder, only the
 * payload chain after it is used. */
void ike_inner_init(struct fh_ike *ike, struct fh_ike_builder *b)
{
	struct fh_ike_hdr h = {0};

	fh_ike_build_init(b, ike->inner, sizeof(ike->inner), &h);
}

static void send_out(struct fh_ike *ike, struct ike_sa *sa, const struct ike_out *o)
{
	size_t off = 0;

	for (uint16_t i = 0; i < o->n; i++) {
		ike_send(ike, sa, o->buf + off, o->len[i]);
		off += o->len[i];
	}
}

/* Append one built message to o (o->buf grows). */
static int out_add(struct ike_out *o, const uint8_t *msg, size_t len)
{
	size_t have = 0;
	uint8_t *b;

	if (o->n == IKE_FRAG_MAX)
		return -1;
	for (uint16_t i = 0; i < o->n; i++)
		have += o->len[i];
	b = realloc(o->buf, have + len);
	if (b == NULL)
		return -1;
	memcpy(b + have, msg, len);
	o->buf = b;
	o->len[o->n++] = (uint16_t)len;
	return 0;
}

static void out_free(struct ike_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/*
 * Seal the inner payloads into one message, or, when both ends do IKEv2 fragmentation and the
 * message would exceed the fragmentation MTU, into SKF fragments that each fit (RFC 7383 2.5).
 */
static int seal(struct fh_ike *ike, struct ike_sa *sa, uint8_t exch, uint8_t flags, uint32_t msg_id,
		struct fh_ike_builder *inner, struct ike_out *o)
{
	struct fh_ike_hdr h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r, .exchange = exch, .msg_id = msg_id,
			       .flags = (uint8_t)(flags | (sa->initiator ? FH_IKE_FLAG_INITIATOR : 0))};
	const uint8_t *ek = sa->initiator ? sa->k.sk_ei : sa->k.sk_er, *ak = sa->initiator ? sa->k.sk_ai : sa->k.sk_ar;
	const uint8_t *plain = inner->buf + FH_IKE_HDR_LEN;
	size_t plen = inner->len - FH_IKE_HDR_LEN, chunk;
	struct fh_ike_builder b;
	uint16_t total;

	memset(o, 0, sizeof(*o));
	if (inner->err)
		return -1;
	fh_ike_build_init(&b, ike->tx, sizeof(ike->tx), &h);
	if (fh_ike_sk_seal(&b, &sa->sk, ek, ak, inner->buf[16], plain, plen) < 0 || b.err)
		return -1;
	if (!sa->frag_peer || ike->lim.frag_mtu == 0 || b.len + 28 <= ike->lim.frag_mtu)
		return out_add(o, b.buf, b.len);
	/* the MTU counts IP and UDP headers too: room per fragment after them, the IKE header, the
	 * SKF header with its numbers, IV, worst-case padding and ICV */
	{
		size_t over = 20 + 8 + FH_IKE_HDR_LEN + 4 + 4 + 16 + 16 + fh_ike_sk_icv_len(&sa->sk);

		chunk = ike->lim.frag_mtu > over + 64 ? ike->lim.frag_mtu - over : 64;
	}
	total = (uint16_t)((plen + chunk - 1) / chunk);
	if (total > IKE_FRAG_MAX)
		return out_add(o, b.buf, b.len); /* would not fit our reassembly either: send whole */
	for (uint16_t i = 0; i < total; i++) {
		size_t at = (size_t)i * chunk, n = plen - at < chunk ? plen - at : chunk;

		fh_ike_build_init(&b, ike->tx, sizeof(ike->tx), &h);
		if (fh_ike_skf_seal(&b, &sa->sk, ek, ak, inner->buf[16], (uint16_t)(i + 1), total, plain + at, n) < 0 ||
		    b.err || out_add(o, b.buf, b.len) < 0) {
			out_free(o);
			return -1;
		}
	}
	ike->ctr[FH_IKE_CTR_FRAG_TX] += total;
	fh_debug("crypto ikev2 internal", "tunnel-id %u: message %u sent in %u fragments", sa->id, msg_id, total);
	return 0;
}

static uint64_t backoff(const struct fh_ike *ike, const struct ike_sa *sa)
{
	if (sa->req_kind == RQ_DPD && sa->profile >= 0 && ike->cfg->ike_profile[sa->profile].dpd.present)
		return (uint64_t)ike->cfg->ike_profile[sa->profile].dpd.retries * 1000;
	return (uint64_t)ike->lim.retransmit_ms << (sa->req_tries - 1 < 6 ? sa->req_tries - 1 : 6);
}

/* Send a request and keep it for retransmission until its response arrives (takes o). */
static int request_out(struct fh_ike *ike, struct ike_sa *sa, uint8_t kind, struct ike_out *o)
{
	out_free(&sa->req);
	sa->req = *o;
	sa->req_kind = kind;
	sa->req_tries = 1;
	sa->req_sent_ms = ike->now;
	sa->req_next_ms = ike->now + backoff(ike, sa);
	ike_sa_touch(ike, sa);
	send_out(ike, sa, &sa->req);
	return 0;
}

int ike_request_plain(struct fh_ike *ike, struct ike_sa *sa, uint8_t kind, const uint8_t *buf, size_t len)
{
	struct ike_out o = {0};

	if (out_add(&o, buf, len) < 0)
		return -1;
	return request_out(ike, sa, kind, &o);
}

int ike_request(struct fh_ike *ike, struct ike_sa *sa, uint8_t exch, uint8_t kind, struct fh_ike_builder *inner)
{
	struct ike_out o;

	if (seal(ike, sa, exch, 0, sa->tx_id, inner, &o) < 0) {
		ike_err(ike, "tunnel-id %u: cannot build the %u request", sa->id, exch);
		return -1;
	}
	return request_out(ike, sa, kind, &o);
}

int ike_respond(struct fh_ike *ike, struct ike_sa *sa, uint8_t exch, uint32_t msg_id, struct fh_ike_builder *inner)
{
	struct ike_out o;

	sa->rx_id = msg_id + 1;
	if (seal(ike, sa, exch, FH_IKE_FLAG_RESPONSE, msg_id, inner, &o) < 0) {
		ike_err(ike, "tunnel-id %u: cannot build the %u response", sa->id, exch);
		return -1;
	}
	out_free(&sa->resp);
	sa->resp = o;
	sa->has_resp = true;
	send_out(ike, sa, &sa->resp);
	return 0;
}

/* One SKF fragment into the SA's reassembly; 0 with the whole chain in ike->rxplain (its length
 * in *n, first payload in *first), 1 while fragments are missing, -1 on errors. */
static int reassemble(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len,
		      const struct fh_ike_msg *m, const struct fh_ike_payload *skf, size_t *n_out, uint8_t *first)
{
	const uint8_t *ek = sa->initiator ? sa->k.sk_er : sa->k.sk_ei, *ak = sa->initiator ? sa->k.sk_ar : sa->k.sk_ai;
	struct ike_frags *f = &sa->rxf;
	bool response = (m->hdr.flags & FH_IKE_FLAG_RESPONSE) != 0;
	uint16_t num, total;
	size_t at = 0;
	int n = fh_ike_skf_open(buf, len, skf->body, skf->len, &sa->sk, ek, ak, ike->rxplain, sizeof(ike->rxplain), &num,
				&total);

	if (n < 0) {
		ike->ctr[FH_IKE_CTR_RX_ICV]++;
		ike_err(ike, "tunnel-id %u: fragment of message %u failed its checks; dropped", sa->id, m->hdr.msg_id);
		return -1;
	}
	if (total > IKE_FRAG_MAX) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_err(ike, "tunnel-id %u: message %u in %u fragments (we take %d); dropped", sa->id, m->hdr.msg_id, total,
			IKE_FRAG_MAX);
		return -1;
	}
	/* another message (or another split of it): start over */
	if (f->msg_id != m->hdr.msg_id || f->response != response || f->total != total || f->got == 0) {
		for (int i = 0; i < IKE_FRAG_MAX; i++) {
			free(f->chunk[i]);
			f->chunk[i] = NULL;
		}
		f->msg_id = m->hdr.msg_id;
		f->response = response;
		f->total = total;
		f->got = 0;
	}
	if (f->chunk[num - 1] != NULL)
		return 1; /* a retransmitted fragment */
	ike->ctr[FH_IKE_CTR_FRAG_RX]++;
	f->chunk[num - 1] = malloc((size_t)n ? (size_t)n : 1);
	if (f->chunk[num - 1] == NULL)
		return -1;
	memcpy(f->chunk[num - 1], ike->rxplain, (size_t)n);
	f->chunk_len[num - 1] = (uint16_t)n;
	if (num == 1)
		f->first = skf->body[-4];
	if (++f->got < total)
		return 1;
	for (uint16_t i = 0; i < total; i++) {
		if (at + f->chunk_len[i] > sizeof(ike->rxplain))
			return -1;
		memcpy(ike->rxplain + at, f->chunk[i], f->chunk_len[i]);
		at += f->chunk_len[i];
		free(f->chunk[i]);
		f->chunk[i] = NULL;
	}
	f->got = 0;
	*n_out = at;
	*first = f->first;
	return 0;
}

/* Verify and decrypt a message's SK payload (or collect its SKF fragment); the inner chain is
 * parsed into inner. 0 when it is there, 1 while fragments are missing, -1 on errors. */
static int open_sk(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len, const struct fh_ike_msg *m,
		   struct fh_ike_msg *inner)
{
	const struct fh_ike_payload *sk = fh_ike_find(m, FH_IKE_PL_SK), *skf = fh_ike_find(m, FH_IKE_PL_SKF);
	const uint8_t *ek = sa->initiator ? sa->k.sk_er : sa->k.sk_ei, *ak = sa->initiator ? sa->k.sk_ar : sa->k.sk_ai;
	uint8_t first;
	size_t n;
	int rc;

	if (sk == NULL && skf != NULL) {
		if (ike->lim.frag_mtu == 0) {
			ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
			ike_err(ike, "tunnel-id %u: IKEv2 fragment while fragmentation is off; dropped", sa->id);
			return -1;
		}
		rc = reassemble(ike, sa, buf, len, m, skf, &n, &first);
		if (rc != 0)
			return rc;
	} else if (sk != NULL) {
		int k;

		first = sk->body[-4]; /* the SK payload's next-payload field names the first inner payload */
		k = fh_ike_sk_open(buf, len, sk->body, sk->len, &sa->sk, ek, ak, ike->rxplain, sizeof(ike->rxplain));
		if (k < 0) {
			ike->ctr[FH_IKE_CTR_RX_ICV]++;
			ike_err(ike, "tunnel-id %u: message %u failed its integrity check; dropped", sa->id, m->hdr.msg_id);
			return -1;
		}
		n = (size_t)k;
	} else {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		return -1;
	}
	rc = fh_ike_parse_chain(ike->rxplain, n, first, inner);
	if (rc != FH_IKE_OK) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_err(ike, "tunnel-id %u: message %u: malformed encrypted payloads (%d)", sa->id, m->hdr.msg_id, rc);
		return -1;
	}
	inner->hdr = m->hdr;
	return 0;
}

/* RFC 7296 2.23: behind a NAT the peer's address or port may change; an authenticated message
 * on port 4500 says where it is now. */
static void follow_peer(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_addr *l,
			const struct fh_ike_addr *r)
{
	bool moved;

	if (l->port != FH_IKE_NATT_PORT)
		return;
	moved = sa->remote.ip != r->ip || sa->remote.port != r->port;
	sa->natt = true;
	sa->local = *l;
	sa->remote = *r;
	ike_sa_reindex(ike, sa);
	if (!moved || sa->state != ST_ESTABLISHED)
		return;
	/* a NAT mapping that changed: ESP follows, or the tunnel is a black hole DPD cannot see */
	fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: peer moved to %u.%u.%u.%u:%u (NAT); child SAs follow", sa->id,
	       r->ip >> 24, (r->ip >> 16) & 0xff, (r->ip >> 8) & 0xff, r->ip & 0xff, r->port);
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		if (sa->child[i].used)
			ike->ops->child_peer(ike->ctx, sa->child[i].spi_in, sa->child[i].spi_out, &sa->local, &sa->remote);
}

static void on_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_addr *l,
			const struct fh_ike_addr *r, const uint8_t *buf, size_t len, const struct fh_ike_msg *m)
{
	struct fh_ike_msg inner;
	uint8_t kind = sa->req_kind;

	if (kind == RQ_NONE || m->hdr.msg_id != sa->tx_id) {
		ike->ctr[FH_IKE_CTR_RX_BAD_MSGID]++;
		return;
	}
	if (open_sk(ike, sa, buf, len, m, &inner) != 0)
		return;
	sa->last_rx_ms = ike->now;
	follow_peer(ike, sa, l, r);
	/* the window is free again before the handler runs: it may start the next request */
	out_free(&sa->req);
	sa->req_kind = RQ_NONE;
	sa->tx_id++;
	switch (kind) {
	case RQ_AUTH:
		ike_auth_response(ike, sa, &inner);
		break;
	case RQ_REKEY_CHILD:
	case RQ_REKEY_IKE:
		ike_create_child_response(ike, sa, &inner);
		break;
	default:
		sa->req_kind = kind; /* info.c needs to know what was asked */
		ike_info_response(ike, sa, &inner);
		if (sa->used)
			sa->req_kind = RQ_NONE;
		break;
	}
}

static void on_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_addr *l,
		       const struct fh_ike_addr *r, const uint8_t *buf, size_t len, const struct fh_ike_msg *m)
{
	struct fh_ike_msg inner;

	if (sa->has_resp && m->hdr.msg_id + 1 == sa->rx_id) {
		const struct fh_ike_payload *skf = fh_ike_find(m, FH_IKE_PL_SKF);

		/* a fragmented request retransmitted: answer its first fragment only (RFC 7383 2.6.1) */
		if (skf != NULL && (skf->len < 2 || skf->body[0] != 0 || skf->body[1] != 1))
			return;
		ike->ctr[FH_IKE_CTR_RX_DUP_REQUEST]++;
		send_out(ike, sa, &sa->resp);
		return;
	}
	if (m->hdr.msg_id != sa->rx_id) {
		ike->ctr[FH_IKE_CTR_RX_BAD_MSGID]++;
		return;
	}
	if ((m->hdr.exchange == FH_IKE_AUTH) != (sa->state == ST_INIT_DONE) ||
	    (sa->state != ST_INIT_DONE && sa->state != ST_ESTABLISHED && sa->state != ST_DELETING)) {
		ike->ctr[FH_IKE_CTR_RX_BAD_MSGID]++;
		return;
	}
	if (open_sk(ike, sa, buf, len, m, &inner) != 0)
		return;
	sa->last_rx_ms = ike->now;
	follow_peer(ike, sa, l, r);
	switch (m->hdr.exchange) {
	case FH_IKE_AUTH:
		ike_auth_request(ike, sa, &inner);
		break;
	case FH_IKE_CREATE_CHILD_SA:
		ike_create_child_request(ike, sa, &inner);
		break;
	case FH_IKE_INFORMATIONAL:
		ike_info_request(ike, sa, &inner);
		break;
	default:
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		break;
	}
}

void fh_ike_input(struct fh_ike *ike, const struct fh_ike_addr *local, const struct fh_ike_addr *remote,
		  const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct fh_ike_msg *m = malloc(sizeof(*m));
	struct ike_sa *sa;
	bool response;
	int rc;

	ike->now = now_ms;
	ike->ctr[FH_IKE_CTR_RX]++;
	if (m == NULL)
		return;
	rc = fh_ike_parse(msg, len, m);
	if (rc != FH_IKE_OK) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		/* a new peer's first request gets told why (RFC 7296 2.5, 3.10.1); nothing else does,
		 * as nothing unauthenticated may change an SA */
		if ((rc == FH_IKE_ERR_CRITICAL || rc == FH_IKE_ERR_VERSION) && m->hdr.exchange == FH_IKE_SA_INIT &&
		    !(m->hdr.flags & FH_IKE_FLAG_RESPONSE) && m->hdr.spi_r == 0 && m->hdr.msg_id == 0) {
			uint8_t t = m->unsupported_critical;

			if (rc == FH_IKE_ERR_CRITICAL)
				ike_answer_notify(ike, local, remote, &m->hdr, N_UNSUPPORTED_CRITICAL_PAYLOAD, &t, 1);
			else
				ike_answer_notify(ike, local, remote, &m->hdr, N_INVALID_MAJOR_VERSION, NULL, 0);
		}
		ike_err(ike, "malformed message from %u.%u.%u.%u:%u (%d); dropped", remote->ip >> 24,
			(remote->ip >> 16) & 0xff, (remote->ip >> 8) & 0xff, remote->ip & 0xff, remote->port, rc);
		free(m);
		return;
	}
	fh_debug("crypto ikev2 packet", "recv %zu bytes from %u.%u.%u.%u:%u: exchange %u %s msgid %u", len,
		 remote->ip >> 24, (remote->ip >> 16) & 0xff, (remote->ip >> 8) & 0xff, remote->ip & 0xff, remote->port,
		 m->hdr.exchange, (m->hdr.flags & FH_IKE_FLAG_RESPONSE) ? "response" : "request", m->hdr.msg_id);
	response = (m->hdr.flags & FH_IKE_FLAG_RESPONSE) != 0;
	if (m->hdr.exchange == FH_IKE_SA_INIT) {
		if (!response && m->hdr.spi_r == 0 && m->hdr.msg_id == 0 && (m->hdr.flags & FH_IKE_FLAG_INITIATOR)) {
			ike_init_request(ike, local, remote, msg, len, m);
		} else if (response && (sa = ike_sa_find(ike, m->hdr.spi_i, 0)) != NULL && sa->state == ST_INIT_SENT) {
			ike_sa_touch(ike, sa);
			ike_init_response(ike, sa, msg, len, m);
		} else {
			ike->ctr[FH_IKE_CTR_RX_NO_SA]++;
		}
		free(m);
		flush(ike);
		return;
	}
	sa = ike_sa_find(ike, m->hdr.spi_i, m->hdr.spi_r);
	/* the I flag says who sent it: it must be the peer's role, not ours */
	if (sa == NULL || sa->state == ST_INIT_SENT ||
	    ((m->hdr.flags & FH_IKE_FLAG_INITIATOR) != 0) == sa->initiator) {
		ike->ctr[FH_IKE_CTR_RX_NO_SA]++;
		free(m);
		return;
	}
	ike_sa_touch(ike, sa);
	if (response)
		on_response(ike, sa, local, remote, msg, len, m);
	else
		on_request(ike, sa, local, remote, msg, len, m);
	free(m);
	flush(ike);
}

/* Collisions (both ends initiated, RFC 7296 2.8 spirit): of two IKE SAs for one tunnel, the one
 * whose initiator has the lower address goes, and its initiator deletes it. A peer that says
 * INITIAL_CONTACT has lost its state: our older SAs with it go silently. */
void ike_established(struct fh_ike *ike, struct ike_sa *sa)
{
	int ix = sa->tunnel != 0 ? IX_TUN : IX_PEER;
	uint64_t key = sa->tunnel != 0 ? sa->tunnel : sa->remote.ip;
	struct ike_sa *o, *next;

	ike_sa_reindex(ike, sa);
	for (o = ike_sa_first(ike, ix, key, 0); o != NULL; o = next) {
		next = ike_sa_next_same(ike, ix, o); /* before o may go */
		if (o == sa || !o->used || o->state != ST_ESTABLISHED)
			continue;
		if (sa->initial_contact && !sa->initiator) {
			ike_sa_kill(ike, o, "peer sent INITIAL_CONTACT");
			continue;
		}
		/* the loser of the pair, deleted by its initiator when that is us */
		struct ike_sa *lose = (sa->initiator ? sa->local.ip : sa->remote.ip) <
					      (o->initiator ? o->local.ip : o->remote.ip)
				      ? sa
				      : o;
		if (lose->initiator && lose->local.ip < lose->remote.ip) {
			lose->want_delete_ike = true;
			ike_sa_touch(ike, lose);
		}
	}
}

static void start_next(struct fh_ike *ike, struct ike_sa *sa)
{
	if (sa->req_kind != RQ_NONE)
		return;
	if (sa->want_delete_ike) {
		sa->want_delete_ike = false;
		ike_start_delete_ike(ike, sa);
	} else if (sa->n_delq > 0) {
		uint32_t spi = sa->delq[0];

		memmove(sa->delq, sa->delq + 1, (sa->n_delq - 1) * sizeof(sa->delq[0]));
		sa->n_delq--;
		ike_start_delete_child(ike, sa, spi);
	} else if (sa->want_rekey_ike) {
		sa->want_rekey_ike = false;
		ike_start_rekey_ike(ike, sa);
	} else if (sa->want_rekey_child != 0) {
		uint32_t spi = sa->want_rekey_child;

		sa->want_rekey_child = 0;
		ike_start_rekey_child(ike, sa, spi);
	} else if (sa->want_dpd) {
		sa->want_dpd = false;
		ike_start_dpd(ike, sa);
	}
}

/* Once a second: child SA volume lifetimes, then dead peer detection (IOS "dpd <interval>
 * <retry> on-demand|periodic"): periodic asks after
 * interval seconds without anything from the peer; on-demand only when we sent traffic into the
 * tunnel and nothing came back for that long. ESP from the peer counts as a sign of life. */
static void traffic_check(struct fh_ike *ike, struct ike_sa *sa)
{
	const struct fh_cfg_dpd *d;
	uint64_t ivl, soft_bytes = 0;
	bool sent = false;

	if (sa->ipsec_profile >= 0)
		soft_bytes = (uint64_t)ike->cfg->ipsec_profile[sa->ipsec_profile].lifetime_kilobytes * 1024 / 10 * 9;
	for (int i = 0; i < IKE_CHILD_MAX; i++) {
		struct ike_child *c = &sa->child[i];
		struct fh_ike_child_counts n;

		if (!c->used || !ike->ops->child_counts(ike->ctx, c->spi_in, c->spi_out, &n))
			continue;
		if (n.in_pkts != c->seen_in)
			sa->last_rx_ms = ike->now;
		if (n.out_pkts != c->seen_out)
			sent = true;
		c->seen_in = n.in_pkts;
		c->seen_out = n.out_pkts;
		/* volume lifetime ("set security-association lifetime kilobytes"): rekey at 90 % */
		if (soft_bytes != 0 && !c->rekeyed && c->rekey_ms != 0 &&
		    (n.in_bytes >= soft_bytes || n.out_bytes >= soft_bytes)) {
			c->rekey_ms = 0;
			sa->want_rekey_child = c->spi_in;
		}
	}
	if (sa->profile < 0 || !(d = &ike->cfg->ike_profile[sa->profile].dpd)->present)
		return;
	ivl = (uint64_t)d->interval * 1000;
	if (ike->now - sa->last_rx_ms < ivl) {
		sa->dpd_idle_since_ms = 0;
		return;
	}
	if (d->mode == FH_DPD_PERIODIC) {
		sa->want_dpd = true;
		return;
	}
	if (sent && sa->dpd_idle_since_ms == 0)
		sa->dpd_idle_since_ms = ike->now;
	if (sa->dpd_idle_since_ms != 0) {
		sa->dpd_idle_since_ms = 0;
		sa->want_dpd = true;
	}
}

/* Does the once-a-second look at the counters have anything to do for this SA? */
static bool needs_check(const struct fh_ike *ike, const struct ike_sa *sa)
{
	const struct fh_config *c = ike->cfg;
	const struct fh_cfg_ike_profile *p = sa->profile >= 0 ? &c->ike_profile[sa->profile] : NULL;

	if (sa->ipsec_profile >= 0 && c->ipsec_profile[sa->ipsec_profile].lifetime_kilobytes != 0)
		return true;
	return p != NULL && (p->dpd.present || (sa->nat_local && p->nat_keepalive > 0));
}

/* Everything sa_timers acts on, in the same terms: what it does at a time t, it is woken for at t. */
static void sa_arm(struct fh_ike *ike, struct ike_sa *sa)
{
	uint64_t due = UINT64_MAX;

	if (sa->req_kind != RQ_NONE && sa->req_next_ms < due)
		due = sa->req_next_ms;
	if (sa->state == ST_INIT_DONE && sa->created_ms + IKE_HALF_OPEN_TIMEOUT_MS + 1 < due)
		due = sa->created_ms + IKE_HALF_OPEN_TIMEOUT_MS + 1;
	if (sa->state == ST_ESTABLISHED) {
		if (sa->expire_ms < due)
			due = sa->expire_ms;
		if (sa->rekey_ms != 0 && sa->rekey_ms < due)
			due = sa->rekey_ms;
		for (int i = 0; i < IKE_CHILD_MAX; i++) {
			const struct ike_child *c = &sa->child[i];

			if (!c->used)
				continue;
			if (c->expire_ms < due)
				due = c->expire_ms;
			if (!c->rekeyed && c->rekey_ms != 0 && c->rekey_ms < due)
				due = c->rekey_ms;
		}
		if (needs_check(ike, sa) && sa->next_check_ms < due)
			due = sa->next_check_ms;
		/* work waiting for the window: start_next at the next tick */
		if (sa->req_kind == RQ_NONE && (sa->want_dpd || sa->want_rekey_ike || sa->want_delete_ike ||
						sa->want_rekey_child != 0 || sa->n_delq > 0))
			due = ike->now;
	}
	if (due == UINT64_MAX)
		ike_timer_stop(&ike->heap, &sa->timer);
	else
		ike_timer_set(&ike->heap, &sa->timer, due); /* room for every SA was reserved */
}

/* The end of every entry point: touched SAs re-indexed and re-armed, killed ones reusable. */
static void flush(struct fh_ike *ike)
{
	struct ike_sa *sa;

	while ((sa = ike->dirty) != NULL) {
		ike->dirty = sa->dirty_next;
		sa->dirty = false;
		sa->dirty_next = NULL;
		if (sa->used) {
			ike_sa_reindex(ike, sa);
			sa_arm(ike, sa);
		}
	}
	while ((sa = ike->grave) != NULL) {
		ike->grave = sa->spare_next;
		sa->spare_next = ike->spare;
		ike->spare = sa;
	}
}

static void sa_timers(struct fh_ike *ike, struct ike_sa *sa)
{
	if (sa->req_kind != RQ_NONE && ike->now >= sa->req_next_ms) {
		uint32_t tries = sa->req_kind == RQ_DPD ? IKE_DPD_TRIES : ike->lim.retransmit_tries;

		if (sa->req_tries >= tries) {
			ike->ctr[FH_IKE_CTR_TIMEOUT]++;
			if (sa->req_kind == RQ_DPD) {
				ike->ctr[FH_IKE_CTR_DPD_DEAD]++;
				ike_sa_kill(ike, sa, "peer is dead (DPD)");
			} else {
				ike_sa_kill(ike, sa, sa->req_kind == RQ_DELETE_IKE ? "deleted (no answer)"
										 : "peer did not answer");
			}
			return;
		}
		sa->req_tries++;
		sa->req_next_ms = ike->now + backoff(ike, sa);
		ike->ctr[FH_IKE_CTR_RETRANSMIT]++;
		send_out(ike, sa, &sa->req);
	}
	if (sa->state == ST_INIT_DONE && ike->now - sa->created_ms > IKE_HALF_OPEN_TIMEOUT_MS) {
		ike_sa_kill(ike, sa, "half-open SA timed out");
		return;
	}
	if (sa->state != ST_ESTABLISHED)
		return;
	if (ike->now >= sa->expire_ms) {
		ike_sa_kill(ike, sa, "lifetime expired");
		return;
	}
	if (ike->now >= sa->rekey_ms && sa->rekey_ms != 0) {
		sa->rekey_ms = 0;
		sa->want_rekey_ike = true;
	}
	for (int i = 0; i < IKE_CHILD_MAX; i++) {
		struct ike_child *c = &sa->child[i];

		if (!c->used)
			continue;
		if (ike->now >= c->expire_ms) {
			ike_child_remove(ike, sa, c);
			continue;
		}
		if (!c->rekeyed && c->rekey_ms != 0 && ike->now >= c->rekey_ms) {
			c->rekey_ms = 0;
			sa->want_rekey_child = c->spi_in;
		}
	}
	if (needs_check(ike, sa) && ike->now >= sa->next_check_ms) {
		sa->next_check_ms = ike->now + IKE_CHECK_MS;
		traffic_check(ike, sa);
		if (sa->nat_local && sa->profile >= 0 && ike->cfg->ike_profile[sa->profile].nat_keepalive > 0 &&
		    ike->now >= sa->keepalive_ms) {
			sa->keepalive_ms = ike->now + (uint64_t)ike->cfg->ike_profile[sa->profile].nat_keepalive * 1000;
			ike->ctr[FH_IKE_CTR_KEEPALIVE]++;
			ike->ops->send(ike->ctx, &sa->local, &sa->remote, (const uint8_t *)"\xff", 1);
		}
	}
	start_next(ike, sa);
}

/* A tunnel's initiation timer: initiate it unless an SA serves it (whose end arms it again). */
static void tun_fire(struct fh_ike *ike, struct ike_tun *t)
{
	ike->st.tunnel_pops++;
	if (!t->wanted || ike_tunnel_has_sa(ike, t->handle))
		return;
	if (ike->now < t->retry_at) {
		tun_arm(ike, t, t->retry_at);
		return;
	}
	if (ike->ops->tunnel_source(ike->ctx, t->handle) == 0) {
		tun_arm(ike, t, ike->now + IKE_SOURCE_POLL_MS);
		return;
	}
	ike_initiate(ike, t);
	tun_arm(ike, t, t->retry_at);
}

void fh_ike_tick(struct fh_ike *ike, uint64_t now_ms)
{
	struct ike_timer *t;

	ike->now = now_ms;
	/* cookie secrets change every two minutes; the previous one stays valid (RFC 7296 2.6) */
	if (now_ms - ike->secret_ms > 120000) {
		ike->secret_ms = now_ms;
		memcpy(ike->secret[1], ike->secret[0], sizeof(ike->secret[0]));
		if (RAND_bytes(ike->secret[0], sizeof(ike->secret[0])) == 1)
			ike->secret_ver++;
	}
	/* a popped SA is re-armed by flush(), after the loop: what is still due now waits a tick */
	while ((t = ike_timer_due(&ike->heap, now_ms)) != NULL) {
		struct ike_sa *sa = IKE_CONTAINER(t, struct ike_sa, timer);

		ike->st.timer_pops++;
		ike_sa_touch(ike, sa);
		sa_timers(ike, sa);
	}
	/* a fired tunnel is armed again only for later than now (ike_initiate, tun_fire) */
	while ((t = ike_timer_due(&ike->tuns.heap, now_ms)) != NULL)
		tun_fire(ike, IKE_CONTAINER(t, struct ike_tun, timer));
	flush(ike);
}

static int profile_by_name(const struct fh_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_ike_profile; i++)
		if (strcmp(cfg->ike_profile[i].hdr.name, name) == 0)
			return (int)i;
	return -1;
}

static int ipsec_profile_by_name(const struct fh_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_ipsec_profile; i++)
		if (strcmp(cfg->ipsec_profile[i].hdr.name, name) == 0)
			return (int)i;
	return -1;
}

void fh_ike_set_config(struct fh_ike *ike, const struct fh_config *cfg, uint64_t now_ms)
{
	const struct fh_config *old = ike->cfg;
	struct ike_tuns nt;
	bool have = tuns_build(ike, cfg, &nt) == 0;

	ike->now = now_ms;
	if (!have) {
		/* without the new table no SA can be bound to a tunnel of the new config: they go, and
		 * the tunnels are not initiated until the next reload */
		fh_log(FH_LOG_ERR, "crypto ikev2", "out of memory for the tunnels of the new config");
		memset(&nt, 0, sizeof(nt));
	}
	/* backwards: a kill moves the last SA into the gap, and that one was seen already */
	for (uint32_t i = ike->n_live; i-- > 0;) {
		struct ike_sa *sa = ike->live[i];
		int ip = -1;

		if (sa->tunnel != 0 && !sa->va) {
			/* the same handle is the same tunnel, wherever the reload put it */
			const struct ike_tun *ot = ike_tun_of(ike, sa->tunnel), *t = have ? tuns_find(&nt, sa->tunnel) : NULL;

			if (t == NULL || ot == NULL ||
			    cfg->iface[t->idx].tunnel_destination != old->iface[ot->idx].tunnel_destination ||
			    ike_profile_for_tunnel(cfg, t->idx, &ip) < 0 || cfg->iface[t->idx].shutdown) {
				/* the Delete goes out under the keys and names it was made with */
				ike_start_delete_ike(ike, sa);
				ike_sa_kill(ike, sa, "tunnel removed or changed by a reload");
				continue;
			}
			sa->profile = ike_profile_for_tunnel(cfg, t->idx, &ip);
			sa->ipsec_profile = ip;
		} else {
			/* profiles move too: follow them by name */
			sa->profile = sa->profile >= 0 ? profile_by_name(cfg, old->ike_profile[sa->profile].hdr.name) : -1;
			sa->ipsec_profile = sa->ipsec_profile >= 0
						    ? ipsec_profile_by_name(cfg, old->ipsec_profile[sa->ipsec_profile].hdr.name)
						    : -1;
			/* a Virtual-Access lives as long as its peer's session, as on IOS: only a profile
			 * that went (or no longer clones) takes it down */
			if (sa->va && (sa->profile < 0 || cfg->ike_profile[sa->profile].virtual_template == 0)) {
				ike_start_delete_ike(ike, sa);
				ike_sa_kill(ike, sa, "its profile or virtual-template was removed by a reload");
				continue;
			}
		}
		/* keyring entries are only read during IKE_AUTH; after it, an index would only go stale */
		sa->keyring = sa->profile >= 0 ? cfg->ike_profile[sa->profile].keyring_idx : -1;
		if (sa->state == ST_ESTABLISHED)
			sa->peer = -1;
		ike_sa_touch(ike, sa);
	}
	tuns_free(&ike->tuns);
	ike->tuns = nt;
	ike->cfg = cfg;
	config_limits(ike, cfg);
	tuns_arm_all(ike, now_ms); /* tunnels without an SA are tried at once, as after a start */
	flush(ike);
}

void fh_ike_free(struct fh_ike *ike, uint64_t now_ms)
{
	if (ike == NULL)
		return;
	ike->now = now_ms;
	while (ike->n_live > 0) {
		struct ike_sa *sa = ike->live[ike->n_live - 1];

		if (sa->state == ST_ESTABLISHED)
			ike_start_delete_ike(ike, sa);
		ike_sa_kill(ike, sa, "shutting down");
	}
	engine_free(ike);
}

int fh_ike_clear(struct fh_ike *ike, uint32_t id, uint64_t now_ms)
{
	int n = 0;

	ike->now = now_ms;
	for (uint32_t i = ike->n_live; i-- > 0;) {
		struct ike_sa *sa = ike->live[i];
		uint32_t tunnel = sa->tunnel;
		struct ike_tun *t;

		if (id != 0 && sa->id != id)
			continue;
		if (sa->state == ST_ESTABLISHED)
			ike_start_delete_ike(ike, sa); /* counts it */
		else
			ike->ctr[FH_IKE_CTR_DELETED]++;
		ike_sa_kill(ike, sa, "cleared");
		n++;
		/* cleared tunnels come back at once, as after "clear crypto ikev2 sa" on IOS */
		if ((t = ike_tun_of(ike, tunnel)) != NULL)
			tun_arm(ike, t, now_ms);
	}
	if (id == 0)
		tuns_arm_all(ike, now_ms);
	flush(ike);
	return n;
}

static int rekey_one(struct fh_ike *ike, struct ike_sa *sa, bool ike_sa)
{
	int n = 0;

	if (!sa->used || sa->state != ST_ESTABLISHED)
		return 0;
	if (ike_sa) {
		sa->want_rekey_ike = true;
		n++;
	} else {
		for (int c = 0; c < IKE_CHILD_MAX; c++)
			if (sa->child[c].used && !sa->child[c].rekeyed) {
				sa->want_rekey_child = sa->child[c].spi_in;
				n++;
				break;
			}
	}
	ike_sa_touch(ike, sa);
	start_next(ike, sa);
	return n;
}

int fh_ike_rekey(struct fh_ike *ike, uint32_t id, bool ike_sa, uint64_t now_ms)
{
	int n = 0;

	ike->now = now_ms;
	if (id != 0) {
		for (struct ike_sa *sa = ike_sa_first(ike, IX_ID, id, 0); sa != NULL; sa = ike_sa_next_same(ike, IX_ID, sa))
			if (sa->id == id)
				n += rekey_one(ike, sa, ike_sa);
	} else {
		for (uint32_t i = 0; i < ike->n_live; i++)
			n += rekey_one(ike, ike->live[i], ike_sa);
	}
	flush(ike);
	return n;
}

static const char *state_name(uint8_t s)
{
	switch (s) {
	case ST_ESTABLISHED: return "READY";
	case ST_DELETING: return "DELETE";
	default: return "IN-NEG";
	}
}

static void sa_info(const struct fh_ike *ike, const struct ike_sa *sa, struct fh_ike_sa_info *o)
{
	int ti = ike_sa_tun_idx(ike, sa);

	memset(o, 0, sizeof(*o));
	o->id = sa->id;
	o->local = sa->local;
	o->remote = sa->remote;
	o->status = state_name(sa->state);
	o->initiator = sa->initiator;
	o->spi_i = sa->spi_i;
	o->spi_r = sa->spi_r;
	o->encr = sa->prop.encr;
	o->key_bits = sa->prop.key_bits;
	o->prf = sa->prop.prf;
	o->integ = sa->prop.integ;
	o->dh_group = sa->prop.dh;
	o->auth_sign = o->auth_verify = "PSK";
	o->lifetime_s = sa->profile >= 0 ? ike->cfg->ike_profile[sa->profile].lifetime : 86400;
	o->active_s = sa->established_ms ? (uint32_t)((ike->now - sa->established_ms) / 1000) : 0;
	o->nat_local = sa->nat_local;
	o->nat_remote = sa->nat_remote;
	snprintf(o->local_id, sizeof(o->local_id), "%s", sa->local_id);
	snprintf(o->remote_id, sizeof(o->remote_id), "%s", sa->remote_id);
	o->tunnel = sa->tunnel;
	o->vaccess = sa->va;
	o->cfg_addr = sa->cfg_addr;
	if (ti >= 0)
		snprintf(o->tunnel_name, sizeof(o->tunnel_name), "%s", ike->cfg->iface[ti].hdr.name);
	o->profile = sa->profile;
	for (int c = 0; c < IKE_CHILD_MAX; c++)
		if (sa->child[c].used && o->n_child < 4) {
			o->child_spi_in[o->n_child] = sa->child[c].spi_in;
			o->child_spi_out[o->n_child] = sa->child[c].spi_out;
			o->n_child++;
		}
	o->msgid_tx = sa->tx_id;
	o->msgid_rx = sa->rx_id;
}

bool fh_ike_sa_next(const struct fh_ike *ike, uint32_t *cursor, struct fh_ike_sa_info *out)
{
	if (*cursor >= ike->n_live)
		return false;
	sa_info(ike, ike->live[(*cursor)++], out);
	return true;
}

/* Of the SAs of one tunnel-id (an IKE SA rekey has two for a moment), the one in charge: READY,
 * with the most children, the newest. */
static int rank(const struct ike_sa *sa)
{
	int n = 0;

	for (int c = 0; c < IKE_CHILD_MAX; c++)
		n += sa->child[c].used;
	return (sa->state == ST_ESTABLISHED ? 100 : 0) + n;
}

bool fh_ike_sa_find(const struct fh_ike *ike, uint32_t id, struct fh_ike_sa_info *out)
{
	const struct ike_sa *best = NULL;

	for (struct ike_node *n = ike_ix_find(&ike->ix[IX_ID], id, 0, NULL); n != NULL;
	     n = ike_ix_next(&ike->ix[IX_ID], n, NULL)) {
		const struct ike_sa *sa = IKE_CONTAINER(n - IX_ID, struct ike_sa, ix);

		if (sa->used && sa->id == id &&
		    (best == NULL || rank(sa) > rank(best) || (rank(sa) == rank(best) && sa->created_ms >= best->created_ms)))
			best = sa;
	}
	if (best == NULL)
		return false;
	sa_info(ike, best, out);
	return true;
}

uint32_t fh_ike_sa_count(const struct fh_ike *ike)
{
	return ike->n_live;
}

void fh_ike_get_stats(const struct fh_ike *ike, struct fh_ike_stats *st)
{
	*st = ike->st;
	st->sa = ike->n_live;
	st->half_open = ike->half_open;
	st->established = ike->n_est;
	st->tunnels = ike->tuns.n;
	st->timers = ike->heap.n + ike->tuns.heap.n;
}

uint64_t fh_ike_counter(const struct fh_ike *ike, enum fh_ike_ctr c)
{
	return c < FH_IKE_CTR_MAX ? ike->ctr[c] : 0;
}

void fh_ike_counters_clear(struct fh_ike *ike)
{
	memset(ike->ctr, 0, sizeof(ike->ctr));
}

const char *fh_ike_encr_name(uint16_t id)
{
	switch (id) {
	case FH_IKE_ENCR_AES_CBC: return "AES-CBC";
	case FH_IKE_ENCR_AES_GCM_16: return "AES-GCM";
	default: return "unknown";
	}
}

const char *fh_ike_prf_name(uint16_t id)
{
	switch (id) {
	case FH_IKE_PRF_SHA1: return "SHA1";
	case FH_IKE_PRF_SHA256: return "SHA256";
	case FH_IKE_PRF_SHA384: return "SHA384";
	case FH_IKE_PRF_SHA512: return "SHA512";
	default: return "unknown";
	}
}

const char *fh_ike_integ_name(uint16_t id)
{
	switch (id) {
	case FH_IKE_INTEG_NONE: return "None";
	case FH_IKE_INTEG_SHA1_96: return "SHA96";
	case FH_IKE_INTEG_SHA256_128: return "SHA256";
	case FH_IKE_INTEG_SHA384_192: return "SHA384";
	case FH_IKE_INTEG_SHA512_256: return "SHA512";
	default: return "unknown";
	}
}

const char *fh_ike_group_name(uint16_t id)
{
	switch (id) {
	case 14: return "DH_GROUP_2048_MODP/Group 14";
	case 15: return "DH_GROUP_3072_MODP/Group 15";
	case 16: return "DH_GROUP_4096_MODP/Group 16";
	case 19: return "DH_GROUP_256_ECP/Group 19";
	case 20: return "DH_GROUP_384_ECP/Group 20";
	case 21: return "DH_GROUP_521_ECP/Group 21";
	case 31: return "DH_GROUP_CURVE25519/Group 31";
	default: return "unknown";
	}
}
