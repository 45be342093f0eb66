/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the IKEv2 responder's state machine in the hub role. The responder runs
 * config/hub-and-spoke-hub.yaml (a Virtual-Access per spoke, mode-config from a pool, pushed
 * networks); its ops act like the daemon's session.c with a tiny pool. The first input byte picks
 * how the input reaches it:
 *   odd:            a real exchange with the guide's spoke (config/hub-and-spoke-spoke.yaml, CP
 *                   request, GRE) with one of the spoke's messages corrupted on the way (bits 1-3:
 *                   which message; then a length to cut it to, in 8-byte units, and an XOR mask);
 *                   bit 4 turns on IKEv2 fragmentation at 200 bytes on both ends (RFC 7383);
 *   even, bit 1 0:  raw datagrams to the responder from the spoke's address (2-byte length before
 *                   each, its top bit for port 4500); the seeds are a recorded IKE_SA_INIT + IKE_AUTH with CP, which replay
 *                   to an established session (see "Determinism");
 *   even, bit 1 1:  the harness does IKE_SA_INIT itself and then seals what the input says into
 *                   SK payloads with the real keys: records of [exchange][flags][length, 2 bytes]
 *                   [first inner payload type, inner payload chain]; an IKE_AUTH request's AUTH
 *                   payload of 36 bytes is rewritten to the correct pre-shared-key AUTH over the
 *                   record's own IDi, so the fuzzer reaches everything behind authentication:
 *                   CP, Virtual-Access, selectors, CREATE_CHILD_SA, INFORMATIONAL.
 * Invariants (abort): child SAs only on the spoke's Tunnel0 or on a Virtual-Access that
 * session_up gave and session_down has not taken back; each session_down matches a session_up;
 * after fh_ike_free no session and no child SA is left.
 *
 * Speed: the target links fh_ike_fuzz (lib/ike/meson.build: FH_FUZZ_CHEAP_DH, fixed DH values,
 * every parser, PRF and the SK payload real), mutes the log (fh_log_mute), loads the configs once.
 * Determinism: RAND_bytes is replaced here by one generator per engine, reset for every input,
 * so SPIs and nonces repeat and a recorded exchange replays. FUZZ_IKE_RESPONDER_SEEDS=dir makes
 * the target write its seeds (tests/fuzz/seeds/ike_responder-*) there and exit.
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

#ifndef FH_FUZZ_CONFIG_DIR
#define FH_FUZZ_CONFIG_DIR "config"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define SPOKE 0
#define HUB 1
#define SPOKE_IP 0xc0a80014u /* 192.168.0.20 */
#define HUB_IP 0xc0a8000au   /* 192.168.0.10 */
#define TUNNEL0 4242         /* the spoke's Tunnel0: unlike any config index */
#define VA_BASE 7000
#define SESS_MAX 16
#define POOL 2
#define QN 16

/* ---- randomness: one stream per engine (splitmix64), reset per input ---- */
static uint64_t rng[3];
static int rng_cur;

int RAND_bytes(unsigned char *buf, int num);
int RAND_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i += 8) {
		uint64_t z = (rng[rng_cur] += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int k = 0; k < 8 && i + k < num; k++)
			buf[i + k] = (uint8_t)(z >> (8 * k));
	}
	return 1;
}

/* ---- the two engines and their ops ---- */
static struct msgq {
	struct fh_ike_addr src, dst;
	size_t len;
	uint8_t buf[2048];
} q[2][QN];
static int nq[2];

struct sess {
	uint32_t ike_id, tunnel, addr;
};

struct side {
	int i;
	struct fh_config *cfg;
	struct fh_ike *ike;
	int children;
	struct sess s[SESS_MAX];
	int n_s;
	uint32_t next_va;
	bool pool_used[POOL];
};
static struct side S[2];
static struct fh_config *cfg_hub, *cfg_spoke;

static struct fh_ike *enter(int i)
{
	rng_cur = i;
	return S[i].ike;
}

static void cb_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *m, size_t len)
{
	struct side *s = ctx;

	if (nq[s->i] == QN || len > sizeof(q[0][0].buf))
		return;
	q[s->i][nq[s->i]] = (struct msgq){.src = *l, .dst = *r, .len = len};
	memcpy(q[s->i][nq[s->i]].buf, m, len);
	nq[s->i]++;
}

static bool live_tunnel(const struct side *s, uint32_t t)
{
	if (s->i == SPOKE)
		return t == TUNNEL0;
	for (int k = 0; k < s->n_s; k++)
		if (s->s[k].tunnel == t)
			return true;
	return false;
}

static int cb_up(void *ctx, const struct fh_ike_child_sa *c)
{
	struct side *s = ctx;

	if (!live_tunnel(s, c->tunnel))
		abort(); /* a child SA on a tunnel that does not exist (or no longer) */
	s->children++;
	return 0;
}

static void cb_down(void *ctx, uint32_t t, uint32_t a, uint32_t b)
{
	(void)t, (void)a, (void)b;
	((struct side *)ctx)->children--;
}

static bool cb_counts(void *ctx, uint32_t a, uint32_t b, struct fh_ike_child_counts *n)
{
	(void)ctx, (void)a, (void)b;
	memset(n, 0, sizeof(*n));
	return true;
}

static void cb_peer(void *ctx, uint32_t a, uint32_t b, const struct fh_ike_addr *l, const struct fh_ike_addr *r)
{
	(void)ctx, (void)a, (void)b, (void)l, (void)r;
}

static uint32_t cb_handle(void *ctx, const char *name)
{
	return ((struct side *)ctx)->i == SPOKE && strcmp(name, "Tunnel0") == 0 ? TUNNEL0 : 0;
}

static uint32_t cb_source(void *ctx, uint32_t tunnel)
{
	struct side *s = ctx;
	int t = tunnel == TUNNEL0 ? fh_config_iface_find(s->cfg, "Tunnel0") : -1;
	int src = t >= 0 ? s->cfg->iface[t].source_idx : -1;

	return src >= 0 ? s->cfg->iface[src].ip.pfx.addr : 0;
}

/* The daemon's hub_reply in small: a pool of POOL, the access list, route set interface. */
static int hub_reply(struct side *d, struct fh_ike_session *s, uint32_t *addr)
{
	const struct fh_config *cfg = d->cfg;
	const struct fh_cfg_authz_policy *pol =
		s->authz >= 0 && (uint32_t)s->authz < cfg->n_authz_policy ? &cfg->authz_policy[s->authz] : NULL;
	struct fh_ike_modecfg *r = &s->reply;

	memset(r, 0, sizeof(*r));
	*addr = 0;
	if (pol == NULL)
		return 0;
	if (s->cfg.want_addr && pol->pool_idx >= 0) {
		int i;

		for (i = 0; i < POOL && d->pool_used[i]; i++)
			;
		if (i == POOL) {
			s->notify = 36; /* INTERNAL_ADDRESS_FAILURE */
			return -1;
		}
		d->pool_used[i] = true;
		*addr = r->addr = cfg->pool[pol->pool_idx].range[0].first + (uint32_t)i;
	}
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

static int cb_session_up(void *ctx, struct fh_ike_session *s)
{
	struct side *d = ctx;
	uint32_t addr = 0;

	if (d->n_s == SESS_MAX)
		return -1;
	if (!s->initiator && s->has_cfg && hub_reply(d, s, &addr) < 0)
		return -1;
	if (!s->initiator && s->tunnel == 0) {
		if (s->vtemplate < 0)
			abort(); /* the engine asks only with a template */
		s->tunnel = d->next_va;
		d->next_va += 3;
	}
	d->s[d->n_s++] = (struct sess){s->ike_id, s->tunnel, addr};
	return 0;
}

static void cb_session_down(void *ctx, uint32_t ike_id, uint32_t tunnel)
{
	struct side *d = ctx;
	const struct fh_config *cfg = d->cfg;

	for (int k = 0; k < d->n_s; k++)
		if (d->s[k].ike_id == ike_id) {
			if (d->s[k].tunnel != tunnel)
				abort(); /* ended with another tunnel than it was set up with */
			if (d->s[k].addr != 0 && cfg->n_pool > 0)
				d->pool_used[d->s[k].addr - cfg->pool[0].range[0].first] = false;
			d->s[k] = d->s[--d->n_s];
			return;
		}
	abort(); /* a session_down without its session_up */
}

static const struct fh_ike_ops ops = {.send = cb_send, .child_up = cb_up, .child_down = cb_down,
				      .child_counts = cb_counts, .tunnel_handle = cb_handle, .tunnel_source = cb_source,
				      .child_peer = cb_peer, .session_up = cb_session_up,
				      .session_down = cb_session_down};

static struct fh_config *load(const char *name)
{
	const char *dir = getenv("FUZZ_CONFIG_DIR") ? getenv("FUZZ_CONFIG_DIR") : FH_FUZZ_CONFIG_DIR;
	char path[1024];
	struct fh_cfg_errs *errs = calloc(1, sizeof(*errs));
	struct fh_config *c;
	FILE *f;
	char *text;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL || errs == NULL) {
		fprintf(stderr, "fuzz_ike_responder: cannot read %s (set FUZZ_CONFIG_DIR)\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	c = fh_config_load_buffer(name, text, (size_t)n, errs);
	if (c == NULL) {
		fh_config_print_errs(stderr, errs);
		abort();
	}
	free(text);
	free(errs);
	return c;
}

static void setup(bool spoke, bool frag)
{
	memset(S, 0, sizeof(S));
	rng[SPOKE] = 0x5eed0001;
	rng[HUB] = 0x5eed0002;
	rng[2] = 0x5eed0003;
	for (int i = 0; i < 2; i++) {
		S[i].i = i;
		S[i].next_va = VA_BASE;
		S[i].cfg = i == HUB ? cfg_hub : cfg_spoke;
		if (i == SPOKE && !spoke)
			continue;
		rng_cur = i;
		S[i].ike = fh_ike_new(S[i].cfg, &ops, &S[i]);
		if (S[i].ike == NULL)
			abort();
		if (frag) {
			struct fh_ike_limits l;

			fh_ike_get_limits(S[i].ike, &l);
			l.frag_mtu = 200;
			fh_ike_set_limits(S[i].ike, &l);
		}
	}
	nq[0] = nq[1] = 0;
}

static void teardown(uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		if (S[i].ike == NULL)
			continue;
		rng_cur = i;
		fh_ike_free(S[i].ike, now);
		if (S[i].n_s != 0 || S[i].children != 0)
			abort(); /* sessions or child SAs left behind by fh_ike_free */
	}
}

/* ---- the harness as initiator (sealed mode) ---- */
struct hand {
	uint64_t spi_i, spi_r;
	uint8_t ni[32], nr[256];
	size_t nr_len;
	uint8_t init[1024];
	size_t init_len;
	struct fh_ike_keys k;
	struct fh_ike_sk_alg alg;
	uint32_t msg_id, peer_req_id;
};

static const struct fh_ike_addr hub_addr = {HUB_IP, 500}, spoke_addr = {SPOKE_IP, 500};

/* hub's queue: the newest message to the spoke of this kind; NULL none */
static const struct msgq *from_hub(uint8_t exch, bool response, struct fh_ike_msg *m)
{
	for (int k = nq[HUB] - 1; k >= 0; k--)
		if (fh_ike_parse(q[HUB][k].buf, q[HUB][k].len, m) == FH_IKE_OK && m->hdr.exchange == exch &&
		    ((m->hdr.flags & FH_IKE_FLAG_RESPONSE) != 0) == response)
			return &q[HUB][k];
	return NULL;
}

static bool hand_init(struct hand *h, uint64_t now)
{
	static const struct fh_ike_xf_spec xf[4] = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}};
	struct fh_ike_hdr hd = {.spi_i = 0x0123456789abcdefull, .exchange = FH_IKE_SA_INIT,
				.flags = FH_IKE_FLAG_INITIATOR};
	struct fh_ike_builder b;
	struct fh_ike_msg *m = malloc(sizeof(*m));
	const struct fh_ike_payload *np;
	struct fh_ike_dh *dh;
	uint8_t pub[256], gir[256];
	int gl;
	bool ok = false;

	memset(h, 0, sizeof(*h));
	h->spi_i = hd.spi_i;
	h->alg = (struct fh_ike_sk_alg){.encr = FH_IKE_ENCR_AES_CBC, .key_len = 32, .integ = FH_IKE_INTEG_SHA256_128};
	rng_cur = 2;
	RAND_bytes(h->ni, sizeof(h->ni));
	dh = fh_ike_dh_new(14);
	if (m == NULL || dh == NULL || fh_ike_dh_public(dh, pub, sizeof(pub)) != 256)
		goto out;
	fh_ike_build_init(&b, h->init, sizeof(h->init), &hd);
	fh_ike_add_sa(&b, 1, NULL, 0, xf, 4);
	fh_ike_add_ke(&b, 14, pub, sizeof(pub));
	fh_ike_add(&b, FH_IKE_PL_NONCE, h->ni, sizeof(h->ni));
	h->init_len = b.len;
	nq[HUB] = 0;
	fh_ike_input(enter(HUB), &hub_addr, &spoke_addr, h->init, h->init_len, now);
	if (from_hub(FH_IKE_SA_INIT, true, m) == NULL || (np = fh_ike_find(m, FH_IKE_PL_NONCE)) == NULL ||
	    np->len > sizeof(h->nr))
		goto out;
	h->spi_r = m->hdr.spi_r;
	memcpy(h->nr, np->body, np->len);
	h->nr_len = np->len;
	gl = fh_ike_dh_shared(dh, pub, sizeof(pub), gir, sizeof(gir));
	ok = gl > 0 && fh_ike_derive(5, h->ni, sizeof(h->ni), h->nr, h->nr_len, gir, (size_t)gl, h->spi_i, h->spi_r,
				     fh_ike_sk_integ_key_len(&h->alg), fh_ike_sk_encr_key_len(&h->alg), &h->k) == 0;
	h->msg_id = 1;
out:
	fh_ike_dh_free(dh);
	free(m);
	return ok;
}

/* The AUTH payload of an IKE_AUTH request's chain made right for its IDi (pre-shared key cisco123). */
static void fix_auth(const struct hand *h, uint8_t *chain, size_t len)
{
	struct fh_ike_msg *m = malloc(sizeof(*m));
	const struct fh_ike_payload *idp, *ap;
	uint8_t key[32], macid[32], *oct;
	const char *psk = "cisco123", *pad = "Key Pad for IKEv2";

	if (m == NULL || len < 1 || fh_ike_parse_chain(chain + 1, len - 1, chain[0], m) != FH_IKE_OK ||
	    (idp = fh_ike_find(m, FH_IKE_PL_IDI)) == NULL || (ap = fh_ike_find(m, FH_IKE_PL_AUTH)) == NULL ||
	    ap->len != 36 || (oct = malloc(h->init_len + h->nr_len + 32)) == NULL) {
		free(m);
		return;
	}
	memcpy(oct, h->init, h->init_len);
	memcpy(oct + h->init_len, h->nr, h->nr_len);
	if (fh_ike_prf(5, h->k.sk_pi, h->k.prf_len, idp->body, idp->len, macid) >= 0 &&
	    fh_ike_prf(5, (const uint8_t *)psk, strlen(psk), (const uint8_t *)pad, strlen(pad), key) >= 0) {
		uint8_t *a = chain + 1 + (ap->body - (chain + 1));

		memcpy(oct + h->init_len + h->nr_len, macid, 32);
		a[0] = 2, a[1] = a[2] = a[3] = 0;
		fh_ike_prf(5, key, 32, oct, h->init_len + h->nr_len + 32, a + 4);
	}
	free(oct);
	free(m);
}

/* Seal one record's chain (first type, then payloads) and give it to the hub. */
static void hand_send(struct hand *h, uint8_t exch, bool response, const uint8_t *chain, size_t len, uint64_t now)
{
	struct fh_ike_hdr hd = {.spi_i = h->spi_i, .spi_r = h->spi_r, .exchange = exch,
				.flags = (uint8_t)(FH_IKE_FLAG_INITIATOR | (response ? FH_IKE_FLAG_RESPONSE : 0)),
				.msg_id = response ? h->peer_req_id : h->msg_id++};
	static uint8_t out[4096];
	struct fh_ike_builder b;

	if (len < 1)
		return;
	fh_ike_build_init(&b, out, sizeof(out), &hd);
	if (fh_ike_sk_seal(&b, &h->alg, h->k.sk_ei, h->k.sk_ai, chain[0], chain + 1, len - 1) < 0 || b.err)
		return;
	fh_ike_input(enter(HUB), &hub_addr, &spoke_addr, out, b.len, now);
}

static void note_hub_requests(struct hand *h)
{
	struct fh_ike_msg m;

	for (int k = 0; k < nq[HUB]; k++)
		if (fh_ike_parse(q[HUB][k].buf, q[HUB][k].len, &m) == FH_IKE_OK && !(m.hdr.flags & FH_IKE_FLAG_RESPONSE))
			h->peer_req_id = m.hdr.msg_id;
	nq[HUB] = 0;
}

static uint64_t run_sealed(const uint8_t *data, size_t size, uint64_t now)
{
	struct hand h;
	size_t off = 1;
	uint8_t *chain;

	if (!hand_init(&h, now))
		return now;
	note_hub_requests(&h);
	while (off + 4 <= size) {
		uint8_t exch = (uint8_t)(FH_IKE_SA_INIT + (data[off] & 3)), fl = data[off + 1];
		size_t n = (size_t)data[off + 2] << 8 | data[off + 3];

		off += 4;
		if (n > size - off)
			n = size - off;
		chain = malloc(n ? n : 1);
		memcpy(chain, data + off, n);
		off += n;
		if (exch == FH_IKE_AUTH && !(fl & 1))
			fix_auth(&h, chain, n);
		hand_send(&h, exch, fl & 1, chain, n, now);
		free(chain);
		now += (fl & 2) ? 30000 : 100;
		fh_ike_tick(enter(HUB), now);
		note_hub_requests(&h);
	}
	return now;
}

/* ---- raw and corrupted modes ---- */
static uint64_t run_raw(const uint8_t *data, size_t size, uint64_t now)
{
	struct fh_ike_addr l = hub_addr, r = spoke_addr;
	size_t off = 1;

	while (off + 2 <= size) {
		size_t n = ((size_t)data[off] << 8 | data[off + 1]) & 0x7fff;
		uint8_t *copy;

		/* the length's top bit: this datagram comes to port 4500 (NAT-T) */
		l.port = r.port = (data[off] & 0x80) ? 4500 : 500;
		off += 2;
		if (n > size - off)
			n = size - off;
		copy = malloc(n ? n : 1);
		memcpy(copy, data + off, n);
		fh_ike_input(enter(HUB), &l, &r, copy, n, now);
		free(copy);
		off += n;
		now += 100;
		fh_ike_tick(enter(HUB), now);
		nq[HUB] = 0;
	}
	return now;
}

/* One step of the two engines: ticks, then what each sent goes to the other; the spoke's
 * victim-th message is handed to *record (when set) or corrupted. */
static uint64_t run_exchange(const uint8_t *data, size_t size, uint64_t now, int steps, FILE *record)
{
	int victim = record ? -1 : data[0] >> 1 & 7, sent_by_spoke = 0;
	size_t cut = size > 1 ? data[1] : 0;
	const uint8_t *mask = data + 2;
	size_t mlen = size > 2 ? size - 2 : 0;

	uint64_t end = now + (uint64_t)steps * 10;

	/* 10 ms steps while messages flow; idle stretches (waiting for a retransmission) jump 250 ms */
	for (int step = 0; step < steps && now < end; step++) {
		if (record == NULL)
			now += nq[SPOKE] + nq[HUB] > 0 || step < 2 ? 10 : 250;
		fh_ike_tick(enter(SPOKE), now);
		for (int side = 0; side < 2; side++) {
			int n = nq[side];
			static struct msgq m[QN];

			memcpy(m, q[side], sizeof(m[0]) * (size_t)n);
			nq[side] = 0;
			for (int k = 0; k < n; k++) {
				uint8_t *copy = malloc(m[k].len);
				size_t len = m[k].len;

				memcpy(copy, m[k].buf, len);
				if (side == SPOKE && sent_by_spoke++ == victim) {
					for (size_t b = 0; mlen > 0 && b < len; b++)
						copy[b] ^= mask[b % mlen];
					if (cut != 0 && cut * 8 < len)
						len = cut * 8;
				}
				if (side == SPOKE && record != NULL) {
					/* the raw mode's framing, and its clock: input, +100 ms, tick */
					fputc((int)(len >> 8), record);
					fputc((int)(len & 0xff), record);
					fwrite(copy, 1, len, record);
					fh_ike_input(enter(HUB), &m[k].dst, &m[k].src, copy, len, now);
					now += 100;
					fh_ike_tick(enter(HUB), now);
				} else {
					fh_ike_input(enter(1 - side), &m[k].dst, &m[k].src, copy, len, now);
				}
				free(copy);
			}
		}
		if (record == NULL)
			fh_ike_tick(enter(HUB), now);
	}
	return now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		setup(true, (data[0] & 0x10) != 0);
		now = run_exchange(data, size, now, 300, NULL);
	} else if ((data[0] & 2) == 0) {
		setup(false, false);
		now = run_raw(data, size, now);
	} else {
		setup(false, false);
		now = run_sealed(data, size, now);
	}
	teardown(now);
	return 0;
}

/* ---- seeds ---- */
static void put16(FILE *f, size_t v)
{
	fputc((int)(v >> 8 & 0xff), f);
	fputc((int)(v & 0xff), f);
}

/* An inner chain [first type][payloads] of a builder whose header is zero. */
static void put_record(FILE *f, uint8_t exch, uint8_t flags, const struct fh_ike_builder *b)
{
	fputc(exch - FH_IKE_SA_INIT, f);
	fputc(flags, f);
	put16(f, b->len - FH_IKE_HDR_LEN + 1);
	fputc(b->buf[16], f);
	fwrite(b->buf + FH_IKE_HDR_LEN, 1, b->len - FH_IKE_HDR_LEN, f);
}

static void add_ts(struct fh_ike_builder *b, uint8_t type, uint8_t proto, uint32_t lo, uint32_t hi)
{
	uint8_t t[20] = {1, 0, 0, 0, 7, proto, 0, 16, 0, 0, 0xff, 0xff};

	for (int k = 0; k < 4; k++) {
		t[12 + k] = (uint8_t)(lo >> (24 - 8 * k));
		t[16 + k] = (uint8_t)(hi >> (24 - 8 * k));
	}
	fh_ike_add(b, type, t, sizeof(t));
}

static void add_esp(struct fh_ike_builder *b, uint32_t spi)
{
	static const struct fh_ike_xf_spec xf[3] = {{1, 12, 256}, {3, 2, 0}, {5, 0, 0}};
	uint8_t s[4] = {(uint8_t)(spi >> 24), (uint8_t)(spi >> 16), (uint8_t)(spi >> 8), (uint8_t)spi};

	fh_ike_add_sa(b, 3, s, 4, xf, 3);
}

static FILE *seed_open(const char *dir, const char *name)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ike_responder-%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	return f;
}

/* A sealed-mode seed: IKE_AUTH (CP request, GRE or 0.0.0.0/0 selectors), then more. */
static void seed_sealed(const char *dir, const char *name, bool gre, int more)
{
	struct fh_ike_hdr zero = {0};
	struct fh_ike_builder b;
	uint8_t buf[2048], id[8] = {1, 0, 0, 0, 192, 168, 0, 20}, auth[36] = {2};
	struct fh_ike_cfg *c = calloc(1, sizeof(*c));
	struct fh_ike_cfg_subnet own = {0x0a140200u, 0xffffff00u};
	FILE *f = seed_open(dir, name);

	fputc(2, f);
	fh_ike_build_init(&b, buf, sizeof(buf), &zero);
	fh_ike_add(&b, FH_IKE_PL_IDI, id, sizeof(id));
	fh_ike_add_notify(&b, 0, 16384, NULL, 0, NULL, 0); /* INITIAL_CONTACT */
	fh_ike_add(&b, FH_IKE_PL_AUTH, auth, sizeof(auth));
	fh_ike_cfg_spoke_request(c, &own, 1);
	fh_ike_add_cp(&b, c);
	add_esp(&b, 0x0a000014u);
	if (gre) {
		add_ts(&b, FH_IKE_PL_TSI, 47, SPOKE_IP, SPOKE_IP);
		add_ts(&b, FH_IKE_PL_TSR, 47, HUB_IP, HUB_IP);
	} else {
		add_ts(&b, FH_IKE_PL_TSI, 0, 0, 0xffffffffu);
		add_ts(&b, FH_IKE_PL_TSR, 0, 0, 0xffffffffu);
	}
	put_record(f, FH_IKE_AUTH, 0, &b);
	if (more >= 1) {
		/* rekey the child (REKEY_SA with our inbound SPI) */
		uint8_t spi[4] = {0x0a, 0, 0, 0x14}, nonce[32] = {1, 2, 3};

		fh_ike_build_init(&b, buf, sizeof(buf), &zero);
		fh_ike_add_notify(&b, 3, 16393, spi, 4, NULL, 0);
		add_esp(&b, 0x0a000015u);
		fh_ike_add(&b, FH_IKE_PL_NONCE, nonce, sizeof(nonce));
		add_ts(&b, FH_IKE_PL_TSI, 0, 0, 0xffffffffu);
		add_ts(&b, FH_IKE_PL_TSR, 0, 0, 0xffffffffu);
		put_record(f, FH_IKE_CREATE_CHILD_SA, 0, &b);
	}
	if (more >= 2) {
		/* rekey the IKE SA (new SPI, KE of group 14, nonce) */
		static const struct fh_ike_xf_spec xf[4] = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}};
		uint8_t spi[8] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}, nonce[32] = {9, 8, 7}, pub[256];

		memset(pub, 0x77, sizeof(pub));
		fh_ike_build_init(&b, buf, sizeof(buf), &zero);
		fh_ike_add_sa(&b, 1, spi, 8, xf, 4);
		fh_ike_add(&b, FH_IKE_PL_NONCE, nonce, sizeof(nonce));
		fh_ike_add_ke(&b, 14, pub, sizeof(pub));
		put_record(f, FH_IKE_CREATE_CHILD_SA, 0, &b);
	}
	if (more >= 3) {
		/* DPD (empty INFORMATIONAL), then Delete of the IKE SA */
		uint8_t del[4] = {1, 0, 0, 0};

		fh_ike_build_init(&b, buf, sizeof(buf), &zero);
		put_record(f, FH_IKE_INFORMATIONAL, 2, &b);
		fh_ike_build_init(&b, buf, sizeof(buf), &zero);
		fh_ike_add(&b, FH_IKE_PL_DELETE, del, sizeof(del));
		put_record(f, FH_IKE_INFORMATIONAL, 0, &b);
	}
	free(c);
	fclose(f);
}

static void write_seeds(const char *dir)
{
	FILE *f;

	/* raw mode: the spoke engine's IKE_SA_INIT and IKE_AUTH (CP request) against the hub, recorded
	 * with the raw mode's clock so that the hub draws the same SPIs and nonces on replay */
	setup(true, false);
	f = seed_open(dir, "raw-init-auth-cp");
	fputc(0, f);
	run_exchange((const uint8_t *)"\0", 1, 1000, 3, f);
	fclose(f);
	if (S[HUB].n_s != 1)
		fprintf(stderr, "fuzz_ike_responder: recording did not reach a hub session (%d)\n", S[HUB].n_s);
	teardown(2000);
	/* corrupted mode: a clean exchange, with fragmentation */
	f = seed_open(dir, "exchange-frag");
	fputc(0x11, f);
	fclose(f);
	seed_sealed(dir, "sealed-auth-gre", true, 0);
	seed_sealed(dir, "sealed-auth-svti", false, 0);
	seed_sealed(dir, "sealed-auth-rekeys-delete", false, 3);
	seed_sealed(dir, "sealed-auth-gre-rekey", true, 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fh_log_mute(getenv("FUZZ_LOG") == NULL);
	cfg_hub = load("hub-and-spoke-hub.yaml");
	cfg_spoke = load("hub-and-spoke-spoke.yaml");
	if (getenv("FUZZ_IKE_RESPONDER_SEEDS") != NULL) {
		write_seeds(getenv("FUZZ_IKE_RESPONDER_SEEDS"));
		exit(0);
	}
	return 0;
}
