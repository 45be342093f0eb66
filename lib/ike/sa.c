/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's core: IKE SA slots, the message-ID windows (RFC 7296 2.1-2.3: one request of ours
 * in flight, retransmitted with back-off; the peer's retransmitted request answered from the
 * cached response), the SK envelope of every exchange after IKE_SA_INIT, dispatch by exchange,
 * and the timers that drive initiation, DPD, rekeys and expiry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_int.h"

#define SA_SLOTS_START 64
#define SA_SLOTS_MAX 65536

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

/* crypto ikev2 cookie-challenge, limit max-in-negotiation-sa, fragmentation mtu */
static void config_limits(struct fh_ike *ike, const struct fh_config *cfg)
{
	ike->lim.cookie_threshold = cfg->ike_cookie_challenge;
	ike->lim.half_open_max = cfg->ike_max_in_negotiation;
	ike->lim.frag_mtu = cfg->ike_frag_mtu;
}

struct fh_ike *fh_ike_new(const struct fh_config *cfg, const struct fh_ike_ops *ops, void *ctx)
{
	struct fh_ike *ike = calloc(1, sizeof(*ike));

	if (ike == NULL)
		return NULL;
	ike->cfg = cfg;
	ike->ops = ops;
	ike->ctx = ctx;
	ike->lim = (struct fh_ike_limits){.retransmit_ms = 1000, .retransmit_tries = 5, .retry_initiate_ms = 5000};
	config_limits(ike, cfg);
	ike->n_sa = SA_SLOTS_START;
	ike->sa = calloc(ike->n_sa, sizeof(*ike->sa));
	ike->n_retry = cfg->n_iface;
	ike->retry_at = calloc(ike->n_retry + 1, sizeof(*ike->retry_at));
	if (ike->sa == NULL || ike->retry_at == NULL || RAND_bytes(ike->secret[0], sizeof(ike->secret[0])) != 1) {
		free(ike->sa);
		free(ike->retry_at);
		free(ike);
		return NULL;
	}
	memcpy(ike->secret[1], ike->secret[0], sizeof(ike->secret[0]));
	ike->next_id = 1;
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

struct ike_sa *ike_sa_new(struct fh_ike *ike)
{
	struct ike_sa *sa = NULL;
	uint32_t i;

	for (i = 0; i < ike->n_sa; i++)
		if (ike->sa[i] == NULL || !ike->sa[i]->used)
			break;
	if (i == ike->n_sa) {
		uint32_t n = ike->n_sa * 2;
		struct ike_sa **v;

		if (n > SA_SLOTS_MAX || (v = realloc(ike->sa, n * sizeof(*v))) == NULL)
			return NULL;
		memset(v + ike->n_sa, 0, (n - ike->n_sa) * sizeof(*v));
		ike->sa = v;
		ike->n_sa = n;
	}
	if (ike->sa[i] == NULL && (ike->sa[i] = malloc(sizeof(*sa))) == NULL)
		return NULL;
	sa = ike->sa[i];
	memset(sa, 0, sizeof(*sa));
	sa->used = true;
	sa->id = ike->next_id++;
	sa->tunnel = sa->profile = sa->keyring = sa->peer = sa->ipsec_profile = -1;
	sa->created_ms = sa->last_rx_ms = ike->now;
	return sa;
}

struct ike_sa *ike_sa_find(struct fh_ike *ike, uint64_t spi_i, uint64_t spi_r)
{
	for (uint32_t i = 0; i < ike->n_sa; i++) {
		struct ike_sa *sa = ike->sa[i];

		if (sa != NULL && sa->used && sa->state != ST_DEAD && sa->spi_i == spi_i && sa->spi_r == spi_r)
			return sa;
	}
	return NULL;
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
	ike->ops->child_down(ike->ctx, sa->tunnel, c->spi_in, c->spi_out);
	fh_debug("crypto ikev2 internal", "tunnel-id %u: child SA in 0x%08x out 0x%08x removed", sa->id, c->spi_in,
		 c->spi_out);
	memset(c, 0, sizeof(*c));
}

/* A fresh inbound SPI no child of ours has: random, never 0 or the reserved 1..255 (RFC 4303). */
uint32_t ike_new_spi(struct fh_ike *ike)
{
	for (;;) {
		uint32_t spi = ike_rand32();
		bool used = spi < 256;

		for (uint32_t i = 0; i < ike->n_sa && !used; i++)
			for (int c = 0; ike->sa[i] != NULL && c < IKE_CHILD_MAX && ike->sa[i]->used; c++)
				used |= ike->sa[i]->child[c].used && ike->sa[i]->child[c].spi_in == spi;
		if (!used)
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

static bool tunnel_has_sa(const struct fh_ike *ike, int tunnel)
{
	for (uint32_t i = 0; i < ike->n_sa; i++)
		if (ike->sa[i] != NULL && ike->sa[i]->used && ike->sa[i]->state != ST_DEAD && ike->sa[i]->tunnel == tunnel)
			return true;
	return false;
}

void ike_sa_kill(struct fh_ike *ike, struct ike_sa *sa, const char *why)
{
	if (!sa->used)
		return;
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		ike_child_remove(ike, sa, &sa->child[i]);
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
	/* a configured tunnel comes back: try again after a pause, unless another SA serves it */
	if (sa->tunnel >= 0 && (uint32_t)sa->tunnel < ike->n_retry && !tunnel_has_sa(ike, sa->tunnel))
		ike->retry_at[sa->tunnel] = ike->now + ike->lim.retry_initiate_ms;
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
		if (!response && m->hdr.spi_r == 0 && m->hdr.msg_id == 0 && (m->hdr.flags & FH_IKE_FLAG_INITIATOR))
			ike_init_request(ike, local, remote, msg, len, m);
		else if (response && (sa = ike_sa_find(ike, m->hdr.spi_i, 0)) != NULL && sa->state == ST_INIT_SENT)
			ike_init_response(ike, sa, msg, len, m);
		else
			ike->ctr[FH_IKE_CTR_RX_NO_SA]++;
		free(m);
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
	if (response)
		on_response(ike, sa, local, remote, msg, len, m);
	else
		on_request(ike, sa, local, remote, msg, len, m);
	free(m);
}

/* Collisions (both ends initiated, RFC 7296 2.8 spirit): of two IKE SAs for one tunnel, the one
 * whose initiator has the lower address goes, and its initiator deletes it. A peer that says
 * INITIAL_CONTACT has lost its state: our older SAs with it go silently. */
void ike_established(struct fh_ike *ike, struct ike_sa *sa)
{
	for (uint32_t i = 0; i < ike->n_sa; i++) {
		struct ike_sa *o = ike->sa[i];

		if (o == NULL || o == sa || !o->used || o->state != ST_ESTABLISHED)
			continue;
		if (sa->tunnel >= 0 ? o->tunnel != sa->tunnel : o->remote.ip != sa->remote.ip)
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
		if (lose->initiator && lose->local.ip < lose->remote.ip)
			lose->want_delete_ike = true;
	}
}

static bool tunnel_wanted(const struct fh_ike *ike, uint32_t i)
{
	const struct fh_cfg_iface *f = &ike->cfg->iface[i];
	int ip;

	if (f->kind != FH_IF_TUNNEL || !f->has_destination || f->shutdown || !f->tunnel_initiate ||
	    ike_profile_for_tunnel(ike->cfg, (int)i, &ip) < 0)
		return false;
	/* manually keyed tunnels are not negotiated */
	for (uint32_t k = 0; k < ike->cfg->n_static_sa; k++)
		if (ike->cfg->static_sa[k].if_idx == (int)i)
			return false;
	return true;
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
	if (ike->now >= sa->next_check_ms) {
		sa->next_check_ms = ike->now + 1000;
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

void fh_ike_tick(struct fh_ike *ike, uint64_t now_ms)
{
	ike->now = now_ms;
	/* cookie secrets change every two minutes; the previous one stays valid (RFC 7296 2.6) */
	if (now_ms - ike->secret_ms > 120000) {
		ike->secret_ms = now_ms;
		memcpy(ike->secret[1], ike->secret[0], sizeof(ike->secret[0]));
		if (RAND_bytes(ike->secret[0], sizeof(ike->secret[0])) == 1)
			ike->secret_ver++;
	}
	for (uint32_t i = 0; i < ike->n_sa; i++)
		if (ike->sa[i] != NULL && ike->sa[i]->used)
			sa_timers(ike, ike->sa[i]);
	for (uint32_t i = 0; i < ike->cfg->n_iface && i < ike->n_retry; i++)
		if (tunnel_wanted(ike, i) && !tunnel_has_sa(ike, (int)i) && now_ms >= ike->retry_at[i] &&
		    ike->ops->tunnel_source(ike->ctx, (int)i) != 0)
			ike_initiate(ike, (int)i);
}

void fh_ike_set_config(struct fh_ike *ike, const struct fh_config *cfg, uint64_t now_ms)
{
	uint64_t *r = calloc(cfg->n_iface + 1, sizeof(*r));
	const struct fh_config *old = ike->cfg;

	ike->now = now_ms;
	for (uint32_t i = 0; i < ike->n_sa; i++) {
		struct ike_sa *sa = ike->sa[i];
		int t = -1, ip = -1;

		if (sa == NULL || !sa->used)
			continue;
		/* follow the tunnel and the profile by name into the new config */
		if (sa->tunnel >= 0)
			t = fh_config_iface_find(cfg, old->iface[sa->tunnel].hdr.name);
		if (sa->tunnel >= 0 && (t < 0 || cfg->iface[t].kind != FH_IF_TUNNEL ||
					cfg->iface[t].tunnel_destination != old->iface[sa->tunnel].tunnel_destination ||
					ike_profile_for_tunnel(cfg, t, &ip) < 0 || cfg->iface[t].shutdown)) {
			ike->cfg = old; /* the Delete goes out under the keys and names it was made with */
			ike_start_delete_ike(ike, sa);
			ike_sa_kill(ike, sa, "tunnel removed or changed by a reload");
			continue;
		}
		sa->tunnel = t;
		if (t >= 0) {
			sa->profile = ike_profile_for_tunnel(cfg, t, &ip);
			sa->ipsec_profile = ip;
		} else {
			sa->profile = sa->profile >= 0 && (uint32_t)sa->profile < cfg->n_ike_profile ? sa->profile : -1;
		}
	}
	ike->cfg = cfg;
	config_limits(ike, cfg);
	if (r != NULL) {
		free(ike->retry_at);
		ike->retry_at = r;
		ike->n_retry = cfg->n_iface;
	}
}

void fh_ike_free(struct fh_ike *ike, uint64_t now_ms)
{
	if (ike == NULL)
		return;
	ike->now = now_ms;
	for (uint32_t i = 0; i < ike->n_sa; i++)
		if (ike->sa[i] != NULL && ike->sa[i]->used) {
			if (ike->sa[i]->state == ST_ESTABLISHED)
				ike_start_delete_ike(ike, ike->sa[i]);
			ike_sa_kill(ike, ike->sa[i], "shutting down");
		}
	/* only now: killing one SA looks at the others */
	for (uint32_t i = 0; i < ike->n_sa; i++)
		free(ike->sa[i]);
	free(ike->sa);
	free(ike->retry_at);
	OPENSSL_cleanse(ike->secret, sizeof(ike->secret));
	free(ike);
}

int fh_ike_clear(struct fh_ike *ike, uint32_t id, uint64_t now_ms)
{
	int n = 0;

	ike->now = now_ms;
	for (uint32_t i = 0; i < ike->n_sa; i++) {
		struct ike_sa *sa = ike->sa[i];

		if (sa == NULL || !sa->used || (id != 0 && sa->id != id))
			continue;
		if (sa->state == ST_ESTABLISHED)
			ike_start_delete_ike(ike, sa); /* counts it */
		else
			ike->ctr[FH_IKE_CTR_DELETED]++;
		ike_sa_kill(ike, sa, "cleared");
		n++;
	}
	/* cleared tunnels come back at once, as after "clear crypto ikev2 sa" on IOS */
	for (uint32_t i = 0; i < ike->n_retry; i++)
		ike->retry_at[i] = now_ms;
	return n;
}

int fh_ike_rekey(struct fh_ike *ike, uint32_t id, bool ike_sa, uint64_t now_ms)
{
	int n = 0;

	ike->now = now_ms;
	for (uint32_t i = 0; i < ike->n_sa; i++) {
		struct ike_sa *sa = ike->sa[i];

		if (sa == NULL || !sa->used || sa->state != ST_ESTABLISHED || (id != 0 && sa->id != id))
			continue;
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
		start_next(ike, sa);
	}
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

bool fh_ike_sa_get(const struct fh_ike *ike, uint32_t idx, struct fh_ike_sa_info *o)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < ike->n_sa; i++) {
		const struct ike_sa *sa = ike->sa[i];

		if (sa == NULL || !sa->used || k++ != idx)
			continue;
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
		o->profile = sa->profile;
		for (int c = 0; c < IKE_CHILD_MAX; c++)
			if (sa->child[c].used && o->n_child < 4) {
				o->child_spi_in[o->n_child] = sa->child[c].spi_in;
				o->child_spi_out[o->n_child] = sa->child[c].spi_out;
				o->n_child++;
			}
		o->msgid_tx = sa->tx_id;
		o->msgid_rx = sa->rx_id;
		return true;
	}
	return false;
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
