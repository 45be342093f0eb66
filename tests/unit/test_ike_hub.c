/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 engine in the hub role, in memory: a hub engine (config/hub-and-spoke-hub.yaml) and
 * spoke engines (config/hub-and-spoke-spoke.yaml, variations of it) exchange messages through
 * queues, with fake ops that act like the daemon's session.c: a responder's session_up gives out
 * a Virtual-Access handle and an address from a tiny pool and pushes the authorization policy's
 * networks (route set access-list, route set interface). The checks look at what session_up and
 * session_down saw and in which order, which tunnel the child SAs went into, and at counters.
 *
 * A hand-made road-warrior initiator ("rw", built from the engine's own codec: build, SK,
 * crypto) talks to the hub too, for what an engine initiator never sends: malformed CP payloads,
 * TSi/TSr 0.0.0.0/0 without GRE, IKE_AUTH with or without INITIAL_CONTACT at will; it decrypts
 * the hub's answers, so the tests read the narrowed selectors and notifies themselves.
 * Run with the source root as argv[1].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"
#include "fh_ike.h"
#include "fh_ike_build.h"
#include "fh_ike_cp.h"
#include "fh_ike_crypto.h"
#include "fh_ike_msg.h"
#include "fh_ike_sk.h"
#include "fh_log.h"
#include "fh_test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define HUB_IP IP(192, 168, 0, 10)
#define SPOKE_IP IP(192, 168, 0, 20)
#define QMAX 64
#define CHILDREN 16
#define SESS 32
#define SIDES 4
#define NAMES 8
#define POOL_MAX 8
#define VA_BASE 9000 /* Virtual-Access handles: unlike any tunnel handle (1000 + 7k) */

#define N_INTERNAL_ADDRESS_FAILURE 36
#define N_INITIAL_CONTACT 16384
#define N_REKEY_SA 16393

static const char *root = ".";
static uint64_t now = 1000;
static int seq; /* order of session events over every side */

struct msg {
	struct fh_ike_addr src, dst;
	size_t len;
	uint8_t buf[4096];
};

struct child {
	bool up;
	struct fh_ike_child_sa c;
	uint64_t out_pkts;
};

/* What one session_up handed over, and whether its session_down came. */
struct srec {
	bool live;
	int up_seq, down_seq;
	uint32_t ike_id, tunnel_in, tunnel, down_tunnel;
	bool initiator, has_cfg, gre;
	uint32_t gre_peer;
	int vtemplate, authz;
	struct fh_ike_modecfg cfg, reply;
	char rid[80];
	struct fh_ike_addr remote;
};

struct side {
	const char *name;
	uint32_t addr;
	char tun[NAMES][FH_NAME_MAX];
	int n_tun;
	struct fh_config *cfg;
	struct fh_ike *ike;
	struct msg q[QMAX];
	int nq;
	bool drop;           /* lose what this side sends */
	struct child ch[CHILDREN];
	struct srec s[SESS];
	int n_s, ups, downs, stray_downs;
	uint16_t refuse;     /* session_up refuses with this notify */
	int pool_size;       /* the fake pool: pool_size addresses from the config pool's first */
	bool pool_used[POOL_MAX];
	uint32_t next_va;
};

static struct side S[SIDES];
#define HUB (&S[0])

/* ---- the hand-made initiator's inbox (messages the hub sent to a rw address) ---- */
#define RW_IN 16
static struct msg rw_in[RW_IN];
static int n_rw_in;
static uint32_t rw_ips[4];
static int n_rw_ips;

static uint32_t tun_handle(struct side *d, const char *name)
{
	for (int k = 0; k < d->n_tun; k++)
		if (strcmp(d->tun[k], name) == 0)
			return 1000 + (uint32_t)k * 7;
	if (d->n_tun == NAMES)
		return 0;
	snprintf(d->tun[d->n_tun], FH_NAME_MAX, "%s", name);
	return 1000 + (uint32_t)d->n_tun++ * 7;
}

static const char *tun_name(const struct side *d, uint32_t h)
{
	if (h < 1000 || (h - 1000) % 7 != 0 || (h - 1000) / 7 >= (uint32_t)d->n_tun)
		return NULL;
	return d->tun[(h - 1000) / 7];
}

static void cb_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *m, size_t len)
{
	struct side *d = ctx;

	if (len <= 1 || d->nq == QMAX || len > sizeof(d->q[0].buf))
		return;
	d->q[d->nq] = (struct msg){.src = *l, .dst = *r, .len = len};
	memcpy(d->q[d->nq].buf, m, len);
	d->nq++;
}

static int cb_child_up(void *ctx, const struct fh_ike_child_sa *c)
{
	struct side *d = ctx;

	for (int i = 0; i < CHILDREN; i++)
		if (!d->ch[i].up) {
			d->ch[i] = (struct child){.up = true, .c = *c};
			d->ch[i].c.enc_in = d->ch[i].c.enc_out = d->ch[i].c.auth_in = d->ch[i].c.auth_out = NULL;
			return 0;
		}
	return -1;
}

static void cb_child_down(void *ctx, uint32_t tunnel, uint32_t spi_in, uint32_t spi_out)
{
	struct side *d = ctx;

	(void)tunnel;
	for (int i = 0; i < CHILDREN; i++)
		if (d->ch[i].up && d->ch[i].c.spi_in == spi_in && d->ch[i].c.spi_out == spi_out)
			d->ch[i].up = false;
}

static bool cb_counts(void *ctx, uint32_t spi_in, uint32_t spi_out, struct fh_ike_child_counts *n)
{
	struct side *d = ctx;

	for (int i = 0; i < CHILDREN; i++)
		if (d->ch[i].up && d->ch[i].c.spi_in == spi_in && d->ch[i].c.spi_out == spi_out) {
			*n = (struct fh_ike_child_counts){.out_pkts = d->ch[i].out_pkts, .out_bytes = d->ch[i].out_pkts * 100};
			return true;
		}
	return false;
}

static void cb_peer(void *ctx, uint32_t spi_in, uint32_t spi_out, const struct fh_ike_addr *l,
		    const struct fh_ike_addr *r)
{
	(void)ctx, (void)spi_in, (void)spi_out, (void)l, (void)r;
}

static uint32_t cb_handle(void *ctx, const char *name)
{
	return tun_handle(ctx, name);
}

static uint32_t cb_source(void *ctx, uint32_t tunnel)
{
	struct side *d = ctx;
	const char *name = tun_name(d, tunnel);
	int t = name != NULL ? fh_config_iface_find(d->cfg, name) : -1, src = t >= 0 ? d->cfg->iface[t].source_idx : -1;

	return src >= 0 ? d->cfg->iface[src].ip.pfx.addr : 0;
}

/* The daemon's hub_reply, in small: pool address, the policy's access list, route set interface
 * (the template's unnumbered interface as a host route). */
static int hub_reply(struct side *d, struct fh_ike_session *s)
{
	const struct fh_config *cfg = d->cfg;
	const struct fh_cfg_authz_policy *pol =
		s->authz >= 0 && (uint32_t)s->authz < cfg->n_authz_policy ? &cfg->authz_policy[s->authz] : NULL;
	struct fh_ike_modecfg *r = &s->reply;

	memset(r, 0, sizeof(*r));
	if (pol == NULL)
		return 0;
	if (s->cfg.want_addr && pol->pool_idx >= 0) {
		int i;

		for (i = 0; i < d->pool_size && d->pool_used[i]; i++)
			;
		if (i == d->pool_size) {
			s->notify = N_INTERNAL_ADDRESS_FAILURE;
			return -1;
		}
		d->pool_used[i] = true;
		r->addr = cfg->pool[pol->pool_idx].range[0].first + (uint32_t)i;
	}
	r->netmask = pol->netmask;
	if (pol->acl_idx >= 0)
		for (uint32_t i = 0; i < cfg->acl[pol->acl_idx].n_ace && r->n_net < FH_IKE_NETS_MAX; i++) {
			const struct fh_ace *a = &cfg->acl[pol->acl_idx].ace[i];

			if (a->permit)
				r->net[r->n_net++] = (struct fh_ike_net){a->addr & ~a->wildcard, ~a->wildcard};
		}
	if (pol->route_set_interface && s->vtemplate >= 0 && cfg->iface[s->vtemplate].unnumbered_idx >= 0 &&
	    r->n_net < FH_IKE_NETS_MAX)
		r->net[r->n_net++] = (struct fh_ike_net){cfg->iface[cfg->iface[s->vtemplate].unnumbered_idx].ip.pfx.addr,
							 0xffffffffu};
	return 0;
}

static void pool_release(struct side *d, uint32_t addr)
{
	const struct fh_config *cfg = d->cfg;
	int p = cfg->n_pool > 0 ? 0 : -1;

	if (addr == 0 || p < 0)
		return;
	if (addr - cfg->pool[p].range[0].first < (uint32_t)d->pool_size)
		d->pool_used[addr - cfg->pool[p].range[0].first] = false;
}

static int cb_session_up(void *ctx, struct fh_ike_session *s)
{
	struct side *d = ctx;
	struct srec *r;

	if (d->n_s == SESS)
		return -1;
	if (d->refuse != 0) {
		s->notify = d->refuse;
		return -1;
	}
	r = &d->s[d->n_s];
	memset(r, 0, sizeof(*r));
	r->tunnel_in = s->tunnel;
	if (!s->initiator && s->has_cfg && hub_reply(d, s) < 0)
		return -1;
	if (!s->initiator && s->tunnel == 0) {
		if (s->vtemplate < 0)
			return -1;
		s->tunnel = d->next_va;
		d->next_va += 3;
	}
	r->live = true;
	r->up_seq = ++seq;
	r->ike_id = s->ike_id;
	r->tunnel = s->tunnel;
	r->initiator = s->initiator;
	r->has_cfg = s->has_cfg;
	r->gre = s->gre;
	r->gre_peer = s->gre_peer;
	r->vtemplate = s->vtemplate;
	r->authz = s->authz;
	r->cfg = s->cfg;
	r->reply = s->reply;
	r->remote = s->remote;
	snprintf(r->rid, sizeof(r->rid), "%s", s->remote_id ? s->remote_id : "");
	d->n_s++;
	d->ups++;
	return 0;
}

static void cb_session_down(void *ctx, uint32_t ike_id, uint32_t tunnel)
{
	struct side *d = ctx;

	for (int i = 0; i < d->n_s; i++)
		if (d->s[i].live && d->s[i].ike_id == ike_id) {
			d->s[i].live = false;
			d->s[i].down_seq = ++seq;
			d->s[i].down_tunnel = tunnel;
			if (!d->s[i].initiator)
				pool_release(d, d->s[i].reply.addr);
			d->downs++;
			return;
		}
	d->stray_downs++;
}

static const struct fh_ike_ops ops = {.send = cb_send, .child_up = cb_child_up, .child_down = cb_child_down,
				      .child_counts = cb_counts, .tunnel_handle = cb_handle, .tunnel_source = cb_source,
				      .child_peer = cb_peer, .session_up = cb_session_up,
				      .session_down = cb_session_down};

/* ---- configs ---- */

static char *read_file(const char *name)
{
	char path[512];
	FILE *f;
	long n;
	char *b;

	snprintf(path, sizeof(path), "%s/config/%s", root, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* text with one substring replaced (frees text); the substring must be there */
static char *edit(char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	size_t n = strlen(text) + strlen(to) + 1;
	char *o = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "edit: '%s' not in the config\n", from);
		abort();
	}
	snprintf(o, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	free(text);
	return o;
}

static char *hub_text, *spoke_text;

static char *dup_text(const char *t)
{
	return strcpy(malloc(strlen(t) + 1), t);
}

/* The spoke's config at another address, with its identity an FQDN when fqdn is set. */
static char *spoke_cfg(uint32_t ip, const char *fqdn, bool ipsec_mode)
{
	char *t = dup_text(spoke_text), a[64];

	snprintf(a, sizeof(a), "ip-address: %u.%u.%u.%u 255.255.255.0\n", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
	t = edit(t, "ip-address: 192.168.0.20 255.255.255.0\n", a);
	if (fqdn != NULL) {
		char l[128];

		snprintf(l, sizeof(l), "        keyring: FLEXVPN_KEYRING\n        identity-local: fqdn %s\n", fqdn);
		t = edit(t, "        keyring: FLEXVPN_KEYRING\n", l);
	}
	if (ipsec_mode)
		t = edit(t, "    tunnel-protection: FLEXVPN_PROFILE\n",
			 "    tunnel-protection: FLEXVPN_PROFILE\n    tunnel-mode: ipsec ipv4\n");
	return t;
}

/* The hub's config, also matching identity fqdn spoke.example, with DPD, and a lifetime. */
static char *hub_cfg(uint32_t lifetime)
{
	char *t = dup_text(hub_text), l[256];

	snprintf(l, sizeof(l),
		 "        virtual-template: 1     # virtual-template 1\n"
		 "        dpd: {interval: 10, retries: 2}\n"
		 "        lifetime: %u\n",
		 lifetime);
	t = edit(t, "          address: 0.0.0.0      # match identity remote address 0.0.0.0\n",
		 "          address: 0.0.0.0      # match identity remote address 0.0.0.0\n"
		 "          fqdn: spoke.example\n");
	return edit(t, "        virtual-template: 1     # virtual-template 1\n", l);
}

static struct fh_config *load(const char *name, const char *text)
{
	struct fh_cfg_errs *errs = calloc(1, sizeof(*errs));
	struct fh_config *c = fh_config_load_buffer(name, text, strlen(text), errs);

	if (c == NULL)
		fh_config_print_errs(stderr, errs);
	free(errs);
	return c;
}

static void side_free(struct side *d)
{
	if (d->ike != NULL)
		fh_ike_free(d->ike, now);
	if (d->cfg != NULL)
		fh_config_free(d->cfg);
	memset(d, 0, sizeof(*d));
}

static void reset(void)
{
	for (int i = 0; i < SIDES; i++)
		side_free(&S[i]);
	n_rw_in = n_rw_ips = 0;
}

/* A side from config text (freed here); false when it does not load. */
static bool side_start(struct side *d, const char *name, uint32_t addr, char *text)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->addr = addr;
	d->pool_size = 3;
	d->next_va = VA_BASE;
	d->cfg = load(name, text);
	free(text);
	if (d->cfg == NULL)
		return false;
	d->ike = fh_ike_new(d->cfg, &ops, d);
	return d->ike != NULL;
}

static bool hub_start(uint32_t lifetime)
{
	reset();
	return side_start(HUB, "hub", HUB_IP, hub_cfg(lifetime));
}

static bool spoke_start(int k, uint32_t ip, const char *fqdn, bool ipsec_mode)
{
	return side_start(&S[k], k == 1 ? "spoke1" : k == 2 ? "spoke2" : "spoke3", ip, spoke_cfg(ip, fqdn, ipsec_mode));
}

static struct side *side_at(uint32_t ip)
{
	for (int i = 0; i < SIDES; i++)
		if (S[i].ike != NULL && S[i].addr == ip)
			return &S[i];
	return NULL;
}

static bool is_rw(uint32_t ip)
{
	for (int i = 0; i < n_rw_ips; i++)
		if (rw_ips[i] == ip)
			return true;
	return false;
}

static int deliver(void)
{
	static struct msg q[QMAX];
	int n = 0;

	for (int i = 0; i < SIDES; i++) {
		struct side *from = &S[i];
		int nq = from->nq;

		if (from->ike == NULL)
			continue;
		memcpy(q, from->q, sizeof(q[0]) * (size_t)nq);
		from->nq = 0;
		for (int k = 0; k < nq; k++) {
			struct side *to = side_at(q[k].dst.ip);

			if (from->drop)
				continue;
			if (is_rw(q[k].dst.ip)) {
				if (n_rw_in < RW_IN)
					rw_in[n_rw_in++] = q[k];
				continue;
			}
			if (to == NULL)
				continue;
			fh_ike_input(to->ike, &q[k].dst, &q[k].src, q[k].buf, q[k].len, now);
			n++;
		}
	}
	return n;
}

static void run(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10) {
		now += 10;
		for (int i = 0; i < SIDES; i++)
			if (S[i].ike != NULL)
				fh_ike_tick(S[i].ike, now);
		while (deliver() > 0)
			;
	}
}

static int live(const struct side *d)
{
	int n = 0;

	for (int i = 0; i < CHILDREN; i++)
		n += d->ch[i].up;
	return n;
}

/* live children all on this tunnel handle */
static bool children_on(const struct side *d, uint32_t tunnel)
{
	for (int i = 0; i < CHILDREN; i++)
		if (d->ch[i].up && d->ch[i].c.tunnel != tunnel)
			return false;
	return live(d) > 0;
}

static int on_tunnel(const struct side *d, uint32_t tunnel)
{
	int n = 0;

	for (int i = 0; i < CHILDREN; i++)
		n += d->ch[i].up && d->ch[i].c.tunnel == tunnel;
	return n;
}

/* every child on a mirrors one on b */
static bool mirrored(const struct side *a, const struct side *b)
{
	int n = 0;

	for (int i = 0; i < CHILDREN; i++) {
		bool found = false;

		if (!a->ch[i].up)
			continue;
		for (int k = 0; k < CHILDREN && !found; k++)
			found = b->ch[k].up && b->ch[k].c.spi_in == a->ch[i].c.spi_out && b->ch[k].c.spi_out == a->ch[i].c.spi_in;
		if (!found)
			return false;
		n++;
	}
	return n > 0;
}

static int live_sessions(const struct side *d)
{
	int n = 0;

	for (int i = 0; i < d->n_s; i++)
		n += d->s[i].live;
	return n;
}

static bool has_net(const struct fh_ike_modecfg *m, uint32_t addr, uint32_t mask)
{
	for (uint8_t i = 0; i < m->n_net; i++)
		if (m->net[i].addr == addr && m->net[i].mask == mask)
			return true;
	return false;
}

static bool get_ready(const struct side *d, struct fh_ike_sa_info *o)
{
	for (uint32_t k = 0; fh_ike_sa_next(d->ike, &k, o);)
		if (strcmp(o->status, "READY") == 0)
			return true;
	return false;
}

static int ready(const struct side *d)
{
	struct fh_ike_sa_info i;
	int n = 0;

	for (uint32_t k = 0; fh_ike_sa_next(d->ike, &k, &i);)
		n += strcmp(i.status, "READY") == 0;
	return n;
}

static unsigned long ctr(const struct side *d, enum fh_ike_ctr c)
{
	return (unsigned long)fh_ike_counter(d->ike, c);
}

/* ---- the hand-made road warrior ---- */

struct rw {
	struct fh_ike_addr me;
	uint64_t spi_i, spi_r;
	uint8_t ni[32], nr[256];
	size_t nr_len;
	uint8_t init_req[2048];
	size_t init_req_len;
	struct fh_ike_keys k;
	struct fh_ike_sk_alg alg;
	uint32_t msg_id;       /* our next request */
	uint32_t esp_spi;      /* our inbound SPI of the current child */
	uint32_t hub_spi;      /* the hub's inbound SPI of it */
	/* the last message opened */
	struct fh_ike_msg m, inner;
	uint8_t raw[4096], plain[4096];
	size_t raw_len;
};

static void rw_new(struct rw *w, uint32_t ip)
{
	memset(w, 0, sizeof(*w));
	w->me = (struct fh_ike_addr){ip, 500};
	w->spi_i = 0x1122334455000000ull | ip;
	for (int i = 0; i < 32; i++)
		w->ni[i] = (uint8_t)(i * 7 + ip);
	w->alg = (struct fh_ike_sk_alg){.encr = FH_IKE_ENCR_AES_CBC, .key_len = 32, .integ = FH_IKE_INTEG_SHA256_128};
	w->esp_spi = 0x0a000000u | (ip & 0xffff);
	if (n_rw_ips < 4)
		rw_ips[n_rw_ips++] = ip;
}

static void rw_send(struct rw *w, const uint8_t *buf, size_t len)
{
	struct fh_ike_addr hub = {HUB_IP, 500};

	fh_ike_input(HUB->ike, &hub, &w->me, buf, len, now);
	while (deliver() > 0)
		;
}

/* The newest message the hub sent us of this exchange (response or request), opened when it is
 * encrypted; false when there is none or it does not verify. */
static bool rw_take(struct rw *w, uint8_t exch, bool response)
{
	for (int i = n_rw_in - 1; i >= 0; i--) {
		struct fh_ike_msg m;
		const struct fh_ike_payload *sk;
		int n;

		if (rw_in[i].dst.ip != w->me.ip || fh_ike_parse(rw_in[i].buf, rw_in[i].len, &m) != FH_IKE_OK ||
		    m.hdr.exchange != exch || ((m.hdr.flags & FH_IKE_FLAG_RESPONSE) != 0) != response)
			continue;
		memcpy(w->raw, rw_in[i].buf, rw_in[i].len);
		w->raw_len = rw_in[i].len;
		memmove(&rw_in[i], &rw_in[i + 1], sizeof(rw_in[0]) * (size_t)(n_rw_in - i - 1));
		n_rw_in--;
		if (fh_ike_parse(w->raw, w->raw_len, &w->m) != FH_IKE_OK)
			return false;
		sk = fh_ike_find(&w->m, FH_IKE_PL_SK);
		if (sk == NULL) {
			w->inner = w->m;
			return true;
		}
		n = fh_ike_sk_open(w->raw, w->raw_len, sk->body, sk->len, &w->alg, w->k.sk_er, w->k.sk_ar, w->plain,
				   sizeof(w->plain));
		return n >= 0 && fh_ike_parse_chain(w->plain, (size_t)n, sk->body[-4], &w->inner) == FH_IKE_OK;
	}
	return false;
}

static bool rw_notify(const struct rw *w, uint16_t type)
{
	for (uint8_t i = 0; i < w->inner.n; i++) {
		struct fh_ike_notify n;

		if (w->inner.pl[i].type == FH_IKE_PL_NOTIFY &&
		    fh_ike_parse_notify(w->inner.pl[i].body, w->inner.pl[i].len, &n) == FH_IKE_OK && n.type == type)
			return true;
	}
	return false;
}

static bool rw_ts(const struct rw *w, uint8_t type, struct fh_ike_tsl *t)
{
	const struct fh_ike_payload *p = fh_ike_find(&w->inner, type);

	return p != NULL && fh_ike_parse_ts(p->body, p->len, t) == FH_IKE_OK;
}

static bool rw_init(struct rw *w)
{
	static const struct fh_ike_xf_spec xf[4] = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}};
	struct fh_ike_hdr h = {.spi_i = w->spi_i, .exchange = FH_IKE_SA_INIT, .flags = FH_IKE_FLAG_INITIATOR};
	struct fh_ike_dh *dh = fh_ike_dh_new(14);
	struct fh_ike_builder b;
	const struct fh_ike_payload *kp, *np;
	struct fh_ike_ke ke;
	uint8_t pub[256], gir[256];
	int pl, gl;

	if (dh == NULL || (pl = fh_ike_dh_public(dh, pub, sizeof(pub))) < 0)
		return false;
	fh_ike_build_init(&b, w->init_req, sizeof(w->init_req), &h);
	fh_ike_add_sa(&b, 1, NULL, 0, xf, 4);
	fh_ike_add_ke(&b, 14, pub, (size_t)pl);
	fh_ike_add(&b, FH_IKE_PL_NONCE, w->ni, sizeof(w->ni));
	w->init_req_len = b.len;
	rw_send(w, w->init_req, w->init_req_len);
	if (b.err || !rw_take(w, FH_IKE_SA_INIT, true)) {
		fh_ike_dh_free(dh);
		return false;
	}
	kp = fh_ike_find(&w->m, FH_IKE_PL_KE);
	np = fh_ike_find(&w->m, FH_IKE_PL_NONCE);
	if (kp == NULL || np == NULL || np->len > sizeof(w->nr) || fh_ike_parse_ke(kp->body, kp->len, &ke) != FH_IKE_OK) {
		fh_ike_dh_free(dh);
		return false;
	}
	w->spi_r = w->m.hdr.spi_r;
	memcpy(w->nr, np->body, np->len);
	w->nr_len = np->len;
	gl = fh_ike_dh_shared(dh, ke.data, ke.len, gir, sizeof(gir));
	fh_ike_dh_free(dh);
	w->msg_id = 1;
	return gl > 0 && fh_ike_derive(5, w->ni, sizeof(w->ni), w->nr, w->nr_len, gir, (size_t)gl, w->spi_i, w->spi_r,
				       fh_ike_sk_integ_key_len(&w->alg), fh_ike_sk_encr_key_len(&w->alg), &w->k) == 0;
}

static void add_tsl(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_tsl *t)
{
	uint8_t body[4 + 16 * FH_IKE_TS_MAX] = {t->n};

	for (uint8_t i = 0; i < t->n; i++) {
		uint8_t *q = body + 4 + 16 * i;
		const struct fh_ike_ts *s = &t->ts[i];

		q[0] = 7, q[1] = s->proto, q[2] = 0, q[3] = 16;
		q[4] = (uint8_t)(s->port_lo >> 8), q[5] = (uint8_t)s->port_lo;
		q[6] = (uint8_t)(s->port_hi >> 8), q[7] = (uint8_t)s->port_hi;
		for (int k = 0; k < 4; k++) {
			q[8 + k] = (uint8_t)(s->addr_lo >> (24 - 8 * k));
			q[12 + k] = (uint8_t)(s->addr_hi >> (24 - 8 * k));
		}
	}
	fh_ike_add(b, type, body, 4 + 16 * (size_t)t->n);
}

static struct fh_ike_tsl tsl1(uint8_t proto, uint32_t lo, uint32_t hi)
{
	return (struct fh_ike_tsl){.n = 1, .ts = {{.type = 7, .proto = proto, .port_hi = 65535, .addr_lo = lo, .addr_hi = hi}}};
}

static void add_esp_sa(struct fh_ike_builder *b, uint32_t spi)
{
	static const struct fh_ike_xf_spec xf[3] = {{1, 12, 256}, {3, 2, 0}, {5, 0, 0}};
	uint8_t s[4] = {(uint8_t)(spi >> 24), (uint8_t)(spi >> 16), (uint8_t)(spi >> 8), (uint8_t)spi};

	fh_ike_add_sa(b, 3, s, 4, xf, 3);
}

static bool rw_seal_send(struct rw *w, uint8_t exch, const struct fh_ike_builder *inner)
{
	struct fh_ike_hdr h = {.spi_i = w->spi_i, .spi_r = w->spi_r, .exchange = exch, .flags = FH_IKE_FLAG_INITIATOR,
			       .msg_id = w->msg_id++};
	uint8_t buf[4096];
	struct fh_ike_builder b;

	fh_ike_build_init(&b, buf, sizeof(buf), &h);
	if (inner->err || fh_ike_sk_seal(&b, &w->alg, w->k.sk_ei, w->k.sk_ai, inner->buf[16], inner->buf + FH_IKE_HDR_LEN,
					 inner->len - FH_IKE_HDR_LEN) < 0 || b.err)
		return false;
	rw_send(w, buf, b.len);
	return true;
}

/*
 * IKE_AUTH: identity fqdn (NULL: our address), INITIAL_CONTACT or not, a CP body as given (NULL
 * none: cp_len 0 with cp non-NULL sends an empty CP payload), one ESP proposal, TSi/TSr. True when
 * the hub answered with something that verifies (rw->inner holds it).
 */
static bool rw_auth(struct rw *w, const char *fqdn, bool ic, const uint8_t *cp, size_t cp_len,
		    const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr)
{
	struct fh_ike_hdr zero = {0};
	struct fh_ike_builder ib;
	uint8_t ibuf[4096], id[128], key[32], macid[32], auth[4 + 32], octets[2048 + 256 + 32];
	size_t idl;
	const char *psk = "cisco123", *pad = "Key Pad for IKEv2";

	id[1] = id[2] = id[3] = 0;
	if (fqdn != NULL) {
		id[0] = 2;
		idl = strlen(fqdn);
		memcpy(id + 4, fqdn, idl);
	} else {
		id[0] = 1;
		idl = 4;
		for (int k = 0; k < 4; k++)
			id[4 + k] = (uint8_t)(w->me.ip >> (24 - 8 * k));
	}
	idl += 4;
	/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), IKE_SA_INIT request | Nr | prf(SK_pi, IDi')) */
	memcpy(octets, w->init_req, w->init_req_len);
	memcpy(octets + w->init_req_len, w->nr, w->nr_len);
	if (fh_ike_prf(5, w->k.sk_pi, w->k.prf_len, id, idl, macid) < 0 ||
	    fh_ike_prf(5, (const uint8_t *)psk, strlen(psk), (const uint8_t *)pad, strlen(pad), key) < 0)
		return false;
	memcpy(octets + w->init_req_len + w->nr_len, macid, 32);
	auth[0] = 2, auth[1] = auth[2] = auth[3] = 0;
	if (fh_ike_prf(5, key, 32, octets, w->init_req_len + w->nr_len + 32, auth + 4) < 0)
		return false;

	fh_ike_build_init(&ib, ibuf, sizeof(ibuf), &zero);
	fh_ike_add(&ib, FH_IKE_PL_IDI, id, idl);
	if (ic)
		fh_ike_add_notify(&ib, 0, N_INITIAL_CONTACT, NULL, 0, NULL, 0);
	fh_ike_add(&ib, FH_IKE_PL_AUTH, auth, sizeof(auth));
	if (cp != NULL)
		fh_ike_add(&ib, FH_IKE_PL_CP, cp, cp_len);
	add_esp_sa(&ib, w->esp_spi);
	add_tsl(&ib, FH_IKE_PL_TSI, tsi);
	add_tsl(&ib, FH_IKE_PL_TSR, tsr);
	if (!rw_seal_send(w, FH_IKE_AUTH, &ib) || !rw_take(w, FH_IKE_AUTH, true))
		return false;
	{
		const struct fh_ike_payload *sap = fh_ike_find(&w->inner, FH_IKE_PL_SA);
		struct fh_ike_sa *sa = malloc(sizeof(*sa));

		if (sap != NULL && sa != NULL && fh_ike_parse_sa(sap->body, sap->len, sa) == FH_IKE_OK && sa->n == 1 &&
		    sa->p[0].spi_len == 4)
			w->hub_spi = (uint32_t)sa->p[0].spi[0] << 24 | (uint32_t)sa->p[0].spi[1] << 16 |
				     (uint32_t)sa->p[0].spi[2] << 8 | sa->p[0].spi[3];
		free(sa);
	}
	return true;
}

/* CREATE_CHILD_SA rekeying our child, offering these selectors. */
static bool rw_rekey_child(struct rw *w, const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr)
{
	struct fh_ike_hdr zero = {0};
	struct fh_ike_builder ib;
	uint8_t ibuf[2048], nonce[32], spi[4] = {(uint8_t)(w->esp_spi >> 24), (uint8_t)(w->esp_spi >> 16),
						  (uint8_t)(w->esp_spi >> 8), (uint8_t)w->esp_spi};

	for (int i = 0; i < 32; i++)
		nonce[i] = (uint8_t)(0x5a ^ i);
	fh_ike_build_init(&ib, ibuf, sizeof(ibuf), &zero);
	fh_ike_add_notify(&ib, 3, N_REKEY_SA, spi, 4, NULL, 0);
	add_esp_sa(&ib, w->esp_spi + 1);
	fh_ike_add(&ib, FH_IKE_PL_NONCE, nonce, sizeof(nonce));
	add_tsl(&ib, FH_IKE_PL_TSI, tsi);
	add_tsl(&ib, FH_IKE_PL_TSR, tsr);
	if (!rw_seal_send(w, FH_IKE_CREATE_CHILD_SA, &ib) || !rw_take(w, FH_IKE_CREATE_CHILD_SA, true))
		return false;
	w->esp_spi++;
	return true;
}

static const uint8_t cp_want_addr[] = {1, 0, 0, 0, 0, 1, 0, 0}; /* CFG_REQUEST: INTERNAL_IP4_ADDRESS */

static bool ts_is(const struct fh_ike_ts *t, uint32_t lo, uint32_t hi)
{
	return t->type == 7 && t->addr_lo == lo && t->addr_hi == hi && t->port_lo == 0 && t->port_hi == 65535;
}

static bool tsl_has(const struct fh_ike_tsl *l, uint32_t lo, uint32_t hi)
{
	for (uint8_t i = 0; i < l->n; i++)
		if (ts_is(&l->ts[i], lo, hi))
			return true;
	return false;
}

/* the pushed networks of config/hub-and-spoke-hub.yaml, and its first pool address */
#define NET_LAN_LO IP(10, 10, 1, 0)
#define NET_LAN_HI IP(10, 10, 1, 255)
#define NET_LO1 IP(10, 1, 1, 1)
#define POOL_FIRST IP(10, 1, 1, 2)

/* ---- (a) hub and spoke engines: CP both ways, Virtual-Access ---- */

static void test_hub_and_spoke(void)
{
	struct fh_ike_sa_info hi, si;
	const struct srec *h, *s;

	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, NULL, false), "hub and spoke configs load, engines start");
	run(3000);
	fh_check(ready(HUB) == 1 && ready(&S[1]) == 1, "one IKE SA READY each (hub %d, spoke %d)", ready(HUB),
		 ready(&S[1]));
	fh_check(HUB->ups == 1 && HUB->downs == 0 && S[1].ups == 1 && S[1].downs == 0,
		 "one session_up on each side, no session_down (hub %d/%d, spoke %d/%d)", HUB->ups, HUB->downs, S[1].ups,
		 S[1].downs);
	if (HUB->n_s < 1 || S[1].n_s < 1)
		return;
	h = &HUB->s[0];
	s = &S[1].s[0];
	fh_check(!h->initiator && h->tunnel_in == 0 && h->vtemplate >= 0 &&
			 strcmp(HUB->cfg->iface[h->vtemplate].hdr.name, "Virtual-Template1") == 0,
		 "hub: responder session without a tunnel, asking for a Virtual-Access from Virtual-Template1");
	fh_check(h->has_cfg && h->cfg.want_addr, "hub's session_up got the spoke's CFG_REQUEST asking for an address");
	fh_check(h->cfg.n_net == 1 && has_net(&h->cfg, IP(10, 20, 2, 0), 0xffffff00u),
		 "hub's session_up got the spoke's announced 10.20.2.0/24 (%u networks)", h->cfg.n_net);
	fh_check(h->gre && h->gre_peer == SPOKE_IP, "hub: the spoke's selectors are GRE from 192.168.0.20");
	fh_check(h->authz >= 0 && strcmp(HUB->cfg->authz_policy[h->authz].hdr.name, "HUBPolicy") == 0,
		 "hub: authorization policy HUBPolicy passed to session_up");
	fh_check(strcmp(h->rid, "192.168.0.20") == 0, "hub: the session names the spoke's identity (%s)", h->rid);
	fh_check(s->initiator && s->has_cfg && s->tunnel == tun_handle(&S[1], "Tunnel0"),
		 "spoke: initiator session on its Tunnel0 with the CFG_REPLY");
	fh_check(s->cfg.addr == POOL_FIRST, "spoke's session_up got the pool address 10.1.1.2 (%08x)", s->cfg.addr);
	fh_check(s->cfg.n_net == 2 && has_net(&s->cfg, NET_LAN_LO, 0xffffff00u) && has_net(&s->cfg, NET_LO1, 0xffffffffu),
		 "spoke's session_up got the pushed 10.10.1.0/24 and 10.1.1.1/32 (route set interface) (%u networks)",
		 s->cfg.n_net);
	fh_check(h->tunnel >= VA_BASE && children_on(HUB, h->tunnel) && live(HUB) == 1,
		 "hub: the child SA went into the Virtual-Access handle session_up gave (%u)", h->tunnel);
	fh_check(children_on(&S[1], s->tunnel) && live(&S[1]) == 1 && mirrored(HUB, &S[1]),
		 "spoke: child SA on Tunnel0, mirroring the hub's");
	fh_check(get_ready(HUB, &hi) && hi.vaccess && hi.tunnel == h->tunnel && hi.cfg_addr == POOL_FIRST &&
			 hi.id == h->ike_id,
		 "hub's show crypto ikev2 sa: Virtual-Access, its handle, the given address, the session's id");
	fh_check(get_ready(&S[1], &si) && !si.vaccess && si.cfg_addr == POOL_FIRST, "spoke's SA shows the negotiated address");
	fh_check(ctr(HUB, FH_IKE_CTR_CP_MALFORMED) == 0 && ctr(HUB, FH_IKE_CTR_SESSION_REFUSED) == 0,
		 "no CP or session errors counted");
	/* a second spoke gets the next address and its own Virtual-Access */
	fh_check(spoke_start(2, IP(192, 168, 0, 30), NULL, false), "second spoke starts");
	run(3000);
	fh_check(HUB->ups == 2 && HUB->n_s == 2 && HUB->s[1].reply.addr == POOL_FIRST + 1 &&
			 HUB->s[1].tunnel != HUB->s[0].tunnel && S[2].n_s == 1 && S[2].s[0].cfg.addr == POOL_FIRST + 1,
		 "second spoke: 10.1.1.3 and a Virtual-Access of its own");
	fh_check(live(HUB) == 2 && mirrored(&S[2], HUB), "hub: two child SAs, one per Virtual-Access");
}

/* ---- (b) session_down exactly once per session_up ---- */

static bool balanced(const struct side *d)
{
	return d->ups == d->downs && d->stray_downs == 0 && live_sessions(d) == 0;
}

static void test_down_once(void)
{
	uint32_t va, id;

	/* Delete from the spoke */
	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, NULL, false), "down: engines start");
	run(3000);
	fh_check(HUB->ups == 1 && S[1].ups == 1, "down: sessions up");
	fh_check(fh_ike_clear(S[1].ike, 0, now) == 1 && S[1].downs == 1 && S[1].stray_downs == 0,
		 "clear on the spoke: its session_down at once");
	run(10);
	fh_check(HUB->downs == 1 && HUB->stray_downs == 0 && on_tunnel(HUB, HUB->s[0].tunnel) == 0 &&
			 HUB->s[0].down_tunnel == HUB->s[0].tunnel,
		 "Delete from the spoke: the hub's session_down once, for the Virtual-Access, children gone first");
	run(15000);
	fh_check(HUB->ups == 2 && HUB->downs == 1 && S[1].ups == 2 && S[1].downs == 1 && live(HUB) == 1,
		 "the spoke comes back: one more session_up each (hub %d/%d spoke %d/%d)", HUB->ups, HUB->downs, S[1].ups,
		 S[1].downs);
	fh_check(HUB->n_s == 2 && HUB->s[1].reply.addr == POOL_FIRST, "its address went back to the pool and is given again");

	/* clear on the hub */
	fh_check(fh_ike_clear(HUB->ike, 0, now) == 1 && HUB->downs == 2 && balanced(HUB), "clear on the hub: session_down once");
	run(100);
	fh_check(S[1].downs == 2 && S[1].stray_downs == 0, "the spoke got the Delete: its session_down once");

	/* engine free, with two sessions */
	run(15000);
	fh_check(spoke_start(2, IP(192, 168, 0, 30), NULL, false), "down: second spoke starts");
	run(3000);
	fh_check(live_sessions(HUB) == 2, "hub: two sessions (%d)", live_sessions(HUB));
	fh_ike_free(HUB->ike, now);
	HUB->ike = NULL;
	fh_check(balanced(HUB), "fh_ike_free: session_down once for each session (%d up, %d down, %d stray)", HUB->ups,
		 HUB->downs, HUB->stray_downs);
	fh_ike_free(S[1].ike, now);
	S[1].ike = NULL;
	fh_check(balanced(&S[1]), "spoke's fh_ike_free: its session_down too");

	/* DPD: the spoke goes silent */
	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, NULL, false), "dpd: engines start");
	run(3000);
	S[1].drop = true;
	for (int t = 0; t < 60 && ctr(HUB, FH_IKE_CTR_DPD_DEAD) == 0; t++) {
		for (int i = 0; i < CHILDREN; i++)
			if (HUB->ch[i].up)
				HUB->ch[i].out_pkts += 10;
		run(1000);
	}
	fh_check(ctr(HUB, FH_IKE_CTR_DPD_DEAD) == 1, "dpd: the hub declared the spoke dead");
	fh_check(HUB->ups == 1 && balanced(HUB) && live(HUB) == 0, "dpd: session_down once, after the children");

	/* IKE SA expiry: the hub's rekey is lost and never retransmitted before the hard lifetime */
	fh_check(hub_start(120) && spoke_start(1, SPOKE_IP, NULL, false), "expiry: engines start (hub lifetime 120 s)");
	{
		struct fh_ike_limits l;

		fh_ike_get_limits(HUB->ike, &l);
		l.retransmit_ms = 600000;
		fh_ike_set_limits(HUB->ike, &l);
	}
	run(3000);
	HUB->drop = true;
	run(125000);
	fh_check(ready(HUB) == 0 && fh_ike_sa_count(HUB->ike) == 0, "expiry: the hub's IKE SA is gone");
	fh_check(HUB->ups == 1 && balanced(HUB), "expiry: session_down once (%d/%d)", HUB->ups, HUB->downs);

	/* IKE SA rekeys: the session moves, nothing goes down */
	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, NULL, false), "rekey: engines start");
	run(3000);
	va = HUB->n_s ? HUB->s[0].tunnel : 0;
	id = HUB->n_s ? HUB->s[0].ike_id : 0;
	fh_check(fh_ike_rekey(HUB->ike, 0, true, now) == 1, "IKE SA rekey from the hub");
	run(1000);
	fh_check(fh_ike_rekey(S[1].ike, 0, true, now) == 1, "IKE SA rekey from the spoke");
	run(1000);
	fh_check(ctr(HUB, FH_IKE_CTR_IKE_REKEYED) == 2 && ctr(&S[1], FH_IKE_CTR_IKE_REKEYED) == 2,
		 "both IKE SA rekeys done on both sides (%lu, %lu)", ctr(HUB, FH_IKE_CTR_IKE_REKEYED),
		 ctr(&S[1], FH_IKE_CTR_IKE_REKEYED));
	fh_check(HUB->ups == 1 && HUB->downs == 0 && S[1].ups == 1 && S[1].downs == 0 && HUB->stray_downs == 0,
		 "no session_up or session_down for IKE SA rekeys (hub %d/%d, spoke %d/%d)", HUB->ups, HUB->downs,
		 S[1].ups, S[1].downs);
	{
		struct fh_ike_sa_info i;

		fh_check(ready(HUB) == 1 && get_ready(HUB, &i) && i.tunnel == va && i.vaccess && i.id == id &&
				 i.cfg_addr == POOL_FIRST,
			 "the new IKE SA keeps the session: tunnel-id, Virtual-Access handle, address");
	}
	fh_check(fh_ike_rekey(HUB->ike, 0, false, now) == 1, "child rekey from the hub");
	run(1000);
	fh_check(fh_ike_rekey(S[1].ike, 0, false, now) == 1, "child rekey from the spoke");
	run(1000);
	fh_check(ctr(HUB, FH_IKE_CTR_CHILD_REKEYED) == 2 && live(HUB) == 1 && children_on(HUB, va) && mirrored(HUB, &S[1]),
		 "children rekeyed under the new IKE SA, still on the Virtual-Access (%lu rekeys, %d live)",
		 ctr(HUB, FH_IKE_CTR_CHILD_REKEYED), live(HUB));
	fh_check(fh_ike_clear(HUB->ike, 0, now) == 1 && HUB->downs == 1 && balanced(HUB) &&
			 HUB->s[0].down_tunnel == va,
		 "clear after the rekeys: exactly one session_down, for the same Virtual-Access");
	run(100);
	fh_check(S[1].downs == 1 && S[1].stray_downs == 0, "and exactly one on the spoke");
}

/* ---- (c) session_up refusing ---- */

static void test_refused(void)
{
	struct rw w;
	struct fh_ike_tsl any = tsl1(0, 0, 0xffffffffu);

	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, NULL, false), "refused: engines start");
	HUB->refuse = N_INTERNAL_ADDRESS_FAILURE;
	run(3000);
	fh_check(ctr(HUB, FH_IKE_CTR_SESSION_REFUSED) >= 1, "hub counted the refusal (session-refused %lu)",
		 ctr(HUB, FH_IKE_CTR_SESSION_REFUSED));
	fh_check(HUB->ups == 0 && HUB->downs == 0 && HUB->stray_downs == 0, "refused: no session to end on the hub");
	fh_check(S[1].ups == 0 && S[1].downs == 0 && live(&S[1]) == 0 && live(HUB) == 0,
		 "the spoke got no session and no child SA");
	fh_check(fh_ike_sa_count(HUB->ike) == 0 && ctr(HUB, FH_IKE_CTR_DELETED) >= 1 && ready(&S[1]) == 0,
		 "the initiator deleted the IKE SA (hub SAs %u, deleted %lu)", fh_ike_sa_count(HUB->ike),
		 ctr(HUB, FH_IKE_CTR_DELETED));
	HUB->refuse = 0;
	run(20000);
	fh_check(HUB->ups == 1 && S[1].ups == 1 && live(&S[1]) == 1, "refusal lifted: the spoke's retry gets its session");

	/* what the peer sees: a road warrior reads notify 36 in the IKE_AUTH response */
	HUB->refuse = N_INTERNAL_ADDRESS_FAILURE;
	rw_new(&w, IP(192, 168, 0, 50));
	fh_check(rw_init(&w), "rw: IKE_SA_INIT with the hub");
	fh_check(rw_auth(&w, NULL, true, cp_want_addr, sizeof(cp_want_addr), &any, &any), "rw: IKE_AUTH answered");
	fh_check(rw_notify(&w, N_INTERNAL_ADDRESS_FAILURE) && fh_ike_find(&w.inner, FH_IKE_PL_AUTH) != NULL &&
			 fh_ike_find(&w.inner, FH_IKE_PL_SA) == NULL && fh_ike_find(&w.inner, FH_IKE_PL_CP) == NULL,
		 "rw: the response authenticates the hub and carries INTERNAL_ADDRESS_FAILURE, no SA, no CP");
	HUB->refuse = 0;

	/* the fake pool runs dry: the same answer */
	HUB->pool_size = 1;
	rw_new(&w, IP(192, 168, 0, 51));
	fh_check(rw_init(&w) && rw_auth(&w, NULL, true, cp_want_addr, sizeof(cp_want_addr), &any, &any) &&
			 rw_notify(&w, N_INTERNAL_ADDRESS_FAILURE),
		 "pool of one, taken by the spoke: the next peer gets INTERNAL_ADDRESS_FAILURE");
	fh_check(HUB->ups == 1, "no session for it");
}

/* ---- (d) a second IKE_AUTH of the same identity ---- */

static int last_up(const struct side *d)
{
	return d->n_s > 0 ? d->s[d->n_s - 1].up_seq : 0;
}

static void test_replace(void)
{
	struct rw w;
	struct fh_ike_tsl gre_i = tsl1(47, IP(192, 168, 0, 50), IP(192, 168, 0, 50)), gre_r = tsl1(47, HUB_IP, HUB_IP);

	fh_check(hub_start(86400) && spoke_start(1, SPOKE_IP, "spoke.example", false), "replace: engines start");
	run(3000);
	fh_check(HUB->ups == 1 && strcmp(HUB->s[0].rid, "spoke.example") == 0, "spoke up as fqdn spoke.example (%s)",
		 HUB->n_s ? HUB->s[0].rid : "");
	/* the same identity from another address, without INITIAL_CONTACT: both stay */
	rw_new(&w, IP(192, 168, 0, 50));
	fh_check(rw_init(&w) && rw_auth(&w, "spoke.example", false, cp_want_addr, sizeof(cp_want_addr), &gre_i, &gre_r),
		 "rw as spoke.example from 192.168.0.50, no INITIAL_CONTACT");
	fh_check(HUB->ups == 2 && HUB->downs == 0 && ctr(HUB, FH_IKE_CTR_REPLACED) == 0 && ready(HUB) == 2,
		 "no INITIAL_CONTACT, another address: the old session stays (%d up, %d down, replaced %lu)", HUB->ups,
		 HUB->downs, ctr(HUB, FH_IKE_CTR_REPLACED));
	fh_check(HUB->n_s == 2 && HUB->s[1].reply.addr == POOL_FIRST + 1, "each has its own address");
	/* the spoke reboots: a fresh engine at the same address says INITIAL_CONTACT */
	fh_ike_free(S[1].ike, now);
	fh_config_free(S[1].cfg);
	S[1].ike = NULL;
	S[1].cfg = NULL;
	fh_check(spoke_start(1, SPOKE_IP, "spoke.example", false), "the spoke restarts");
	run(3000);
	fh_check(ctr(HUB, FH_IKE_CTR_REPLACED) == 2 && HUB->ups == 3 && HUB->downs == 2 && HUB->stray_downs == 0,
		 "INITIAL_CONTACT: every old session of the identity replaced (replaced %lu, %d up, %d down)",
		 ctr(HUB, FH_IKE_CTR_REPLACED), HUB->ups, HUB->downs);
	fh_check(HUB->n_s == 3 && HUB->s[0].down_seq > 0 && HUB->s[1].down_seq > 0 &&
			 HUB->s[0].down_seq < last_up(HUB) && HUB->s[1].down_seq < last_up(HUB),
		 "the old sessions' session_down came before the new session_up");
	fh_check(HUB->n_s == 3 && HUB->s[2].reply.addr == POOL_FIRST, "the rebooted spoke gets its old address back");
	fh_check(live_sessions(HUB) == 1 && ready(HUB) == 1 && live(HUB) == 1 && children_on(HUB, HUB->s[2].tunnel),
		 "one session, one IKE SA, its child on the new Virtual-Access");
	/* from another address with INITIAL_CONTACT: replaced too */
	rw_new(&w, IP(192, 168, 0, 52));
	fh_check(rw_init(&w) && rw_auth(&w, "spoke.example", true, cp_want_addr, sizeof(cp_want_addr), &gre_i, &gre_r),
		 "rw as spoke.example from 192.168.0.52 with INITIAL_CONTACT");
	fh_check(ctr(HUB, FH_IKE_CTR_REPLACED) == 3 && HUB->downs == 3 && HUB->n_s == 4 &&
			 HUB->s[2].down_seq < HUB->s[3].up_seq,
		 "INITIAL_CONTACT from another address: the old session replaced, its down before the new up");
	fh_check(live_sessions(HUB) == 1 && HUB->stray_downs == 0, "one session left");
}

/* ---- (e) malformed CP payloads in a valid IKE_AUTH ---- */

struct cp_case {
	const char *what;
	uint8_t body[32];
	size_t len;
	bool malformed; /* counted in cp-malformed */
	bool reply;     /* a CFG_REPLY with an address comes back */
};

static const struct cp_case cp_cases[] = {
	{"truncated attribute header", {1, 0, 0, 0, 0, 1}, 6, true, false},
	{"attribute length past the payload", {1, 0, 0, 0, 0, 13, 0, 8, 10, 20}, 10, true, false},
	{"truncated CP header", {1, 0}, 2, true, false},
	{"INTERNAL_IP4_ADDRESS of 3 octets", {1, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3}, 11, true, false},
	{"unknown CFG type 9", {9, 0, 0, 0, 0, 1, 0, 0}, 8, true, false},
	{"unknown attribute types around a valid request", {1, 0, 0, 0, 0x12, 0x34, 0, 2, 0xaa, 0xbb, 0, 1, 0, 0, 0x7f,
							      0xf0, 0, 0}, 18, false, true},
	{"wrong CFG type (CFG_REPLY in a request)", {2, 0, 0, 0, 0, 1, 0, 4, 10, 9, 9, 9}, 12, false, false},
	{"wrong CFG type (CFG_SET)", {3, 0, 0, 0, 0, 1, 0, 0}, 8, false, false},
	{"empty CP payload", {0}, 0, true, false},
};

static void test_cp_malformed(void)
{
	struct fh_ike_tsl gre_i = tsl1(47, IP(192, 168, 0, 50), IP(192, 168, 0, 50)), gre_r = tsl1(47, HUB_IP, HUB_IP);

	for (size_t i = 0; i < sizeof(cp_cases) / sizeof(cp_cases[0]); i++) {
		const struct cp_case *c = &cp_cases[i];
		struct rw w;
		bool ok;
		const struct fh_ike_payload *cp;

		if (!fh_check(hub_start(86400), "cp: hub starts"))
			return;
		rw_new(&w, IP(192, 168, 0, 50));
		ok = rw_init(&w) && rw_auth(&w, NULL, true, c->body, c->len, &gre_i, &gre_r);
		fh_check(ok && fh_ike_find(&w.inner, FH_IKE_PL_AUTH) != NULL, "cp %s: IKE_AUTH answered and authenticated",
			 c->what);
		fh_check(ctr(HUB, FH_IKE_CTR_CP_MALFORMED) == (c->malformed ? 1u : 0u),
			 "cp %s: cp-malformed %lu (want %d)", c->what, ctr(HUB, FH_IKE_CTR_CP_MALFORMED), c->malformed);
		fh_check(ctr(HUB, FH_IKE_CTR_RX_MALFORMED) == 0 && ready(HUB) == 1,
			 "cp %s: the message is not malformed otherwise; IKE SA READY", c->what);
		cp = fh_ike_find(&w.inner, FH_IKE_PL_CP);
		if (c->reply) {
			struct fh_ike_cfg *r = calloc(1, sizeof(*r));

			fh_check(cp != NULL && fh_ike_parse_cp(cp->body, cp->len, r) == FH_IKE_OK && r->type == 2 &&
					 r->has_ip4_addr && r->ip4_addr == POOL_FIRST,
				 "cp %s: CFG_REPLY with 10.1.1.2", c->what);
			free(r);
		} else {
			fh_check(cp == NULL, "cp %s: ignored, no CFG_REPLY", c->what);
		}
		fh_check(HUB->ups == 1 && HUB->s[0].has_cfg == c->reply && live(HUB) == 1 && w.hub_spi != 0 &&
				 children_on(HUB, HUB->s[0].tunnel),
			 "cp %s: the session goes on (Virtual-Access, child SA) with%s mode-config", c->what,
			 c->reply ? "" : "out");
	}
}

/* ---- (f) a road warrior's 0.0.0.0/0 narrowed to its address and the pushed networks ---- */

static void test_narrowing(void)
{
	struct fh_ike_tsl any = tsl1(0, 0, 0xffffffffu), tsi, tsr;
	struct rw w;
	bool ok;

	fh_check(hub_start(86400), "narrow: hub starts");
	rw_new(&w, IP(192, 168, 0, 50));
	ok = rw_init(&w) && rw_auth(&w, NULL, true, cp_want_addr, sizeof(cp_want_addr), &any, &any);
	fh_check(ok && !rw_notify(&w, 38) && fh_ike_find(&w.inner, FH_IKE_PL_SA) != NULL,
		 "rw with TSi/TSr 0.0.0.0/0: child accepted");
	fh_check(HUB->ups == 1 && !HUB->s[0].gre && HUB->s[0].tunnel >= VA_BASE, "hub: an IPsec (sVTI) Virtual-Access");
	fh_check(rw_ts(&w, FH_IKE_PL_TSI, &tsi) && tsi.n == 1 && ts_is(&tsi.ts[0], POOL_FIRST, POOL_FIRST),
		 "IKE_AUTH: TSi narrowed to the assigned address 10.1.1.2/32 (%u selectors)", tsi.n);
	fh_check(rw_ts(&w, FH_IKE_PL_TSR, &tsr) && tsr.n == 2 && tsl_has(&tsr, NET_LAN_LO, NET_LAN_HI) &&
			 tsl_has(&tsr, NET_LO1, NET_LO1),
		 "IKE_AUTH: TSr narrowed to the pushed 10.10.1.0/24 and 10.1.1.1/32 (%u selectors)", tsr.n);
	/* the road warrior rekeys its child, offering 0.0.0.0/0 again */
	ok = rw_rekey_child(&w, &any, &any);
	fh_check(ok && fh_ike_find(&w.inner, FH_IKE_PL_SA) != NULL && ctr(HUB, FH_IKE_CTR_CHILD_REKEYED) == 1,
		 "rw's child rekey (0.0.0.0/0 offered) accepted");
	fh_check(rw_ts(&w, FH_IKE_PL_TSI, &tsi) && tsi.n == 1 && ts_is(&tsi.ts[0], POOL_FIRST, POOL_FIRST) &&
			 rw_ts(&w, FH_IKE_PL_TSR, &tsr) && tsr.n == 2 && tsl_has(&tsr, NET_LAN_LO, NET_LAN_HI) &&
			 tsl_has(&tsr, NET_LO1, NET_LO1),
		 "rw's rekey: narrowed alike (TSi %u, TSr %u selectors)", tsi.n, tsr.n);
	/* it rekeys again offering what it got: the same lists come back */
	{
		struct fh_ike_tsl mine = tsl1(0, POOL_FIRST, POOL_FIRST), theirs = tsr;

		ok = rw_rekey_child(&w, &mine, &theirs);
		fh_check(ok && rw_ts(&w, FH_IKE_PL_TSI, &tsi) && tsi.n == 1 && rw_ts(&w, FH_IKE_PL_TSR, &tsr) && tsr.n == 2 &&
				 tsl_has(&tsr, NET_LAN_LO, NET_LAN_HI) && tsl_has(&tsr, NET_LO1, NET_LO1),
			 "rw's rekey offering the narrowed lists: both pushed networks kept");
	}
	/* the hub rekeys it: its CREATE_CHILD_SA offers the narrowed lists, its side first */
	n_rw_in = 0;
	fh_check(fh_ike_rekey(HUB->ike, 0, false, now) == 1, "hub starts a rekey of the rw's child");
	while (deliver() > 0)
		;
	ok = rw_take(&w, FH_IKE_CREATE_CHILD_SA, false);
	fh_check(ok && rw_ts(&w, FH_IKE_PL_TSI, &tsi) && tsi.n == 2 && tsl_has(&tsi, NET_LAN_LO, NET_LAN_HI) &&
			 tsl_has(&tsi, NET_LO1, NET_LO1),
		 "hub's rekey request: TSi = the pushed networks (%u selectors)", ok ? tsi.n : 0);
	fh_check(ok && rw_ts(&w, FH_IKE_PL_TSR, &tsr) && tsr.n == 1 && ts_is(&tsr.ts[0], POOL_FIRST, POOL_FIRST),
		 "hub's rekey request: TSr = the road warrior's 10.1.1.2/32");
	/* a road warrior without CP: its own selectors stay as offered (no address to narrow to) */
	fh_check(hub_start(86400), "narrow: hub starts again");
	rw_new(&w, IP(192, 168, 0, 50));
	ok = rw_init(&w) && rw_auth(&w, NULL, true, NULL, 0, &any, &any);
	fh_check(ok && rw_ts(&w, FH_IKE_PL_TSI, &tsi) && tsi.n == 1 && ts_is(&tsi.ts[0], 0, 0xffffffffu) &&
			 rw_ts(&w, FH_IKE_PL_TSR, &tsr) && tsr.n == 1 && ts_is(&tsr.ts[0], 0, 0xffffffffu),
		 "rw without CP: 0.0.0.0/0 both ways (nothing pushed, no address)");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		root = argv[1];
	if (getenv("IKE_DEBUG") != NULL)
		fh_debug_set("crypto ikev2", true);
	hub_text = read_file("hub-and-spoke-hub.yaml");
	spoke_text = read_file("hub-and-spoke-spoke.yaml");
	if (!fh_check(hub_text != NULL && spoke_text != NULL, "hub-and-spoke configs readable"))
		return fh_test_done();
	test_hub_and_spoke();
	test_down_once();
	test_refused();
	test_replace();
	test_cp_malformed();
	test_narrowing();
	reset();
	free(hub_text);
	free(spoke_text);
	return fh_test_done();
}
