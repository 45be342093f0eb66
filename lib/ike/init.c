/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_SA_INIT (RFC 7296 1.2): proposals, Diffie-Hellman, nonces, NAT detection (2.23), and the
 * responder's defences: cookies once half-open SAs pass a threshold (2.6) and a hard cap on
 * half-open SAs. The responder keeps no state for a request it answers with a cookie.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_int.h"

#define COOKIE_LEN 17 /* version byte + 16 bytes of SHA-256 */
#define INIT_RESTARTS_MAX 4

void ike_nat_hash(uint64_t spi_i, uint64_t spi_r, uint32_t ip, uint16_t port, uint8_t out[20])
{
	uint8_t in[22];
	unsigned int n = 20;

	for (int i = 0; i < 8; i++) {
		in[i] = (uint8_t)(spi_i >> (56 - 8 * i));
		in[8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
	}
	ike_put32(in + 16, ip);
	ike_put16(in + 20, port);
	EVP_Digest(in, sizeof(in), out, &n, EVP_sha1(), NULL);
}

static void make_cookie(const struct fh_ike *ike, int which, const uint8_t *ni, size_t ni_len, uint32_t ip,
			uint64_t spi_i, uint8_t out[COOKIE_LEN])
{
	uint8_t d[32];
	unsigned int n = sizeof(d);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t tail[12];

	ike_put32(tail, ip);
	for (int i = 0; i < 8; i++)
		tail[4 + i] = (uint8_t)(spi_i >> (56 - 8 * i));
	memset(d, 0, sizeof(d));
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, ni, ni_len) == 1 &&
	    EVP_DigestUpdate(c, tail, sizeof(tail)) == 1 &&
	    EVP_DigestUpdate(c, ike->secret[which], sizeof(ike->secret[which])) == 1)
		EVP_DigestFinal_ex(c, d, &n);
	EVP_MD_CTX_free(c);
	out[0] = (uint8_t)(ike->secret_ver - which);
	memcpy(out + 1, d, COOKIE_LEN - 1);
}

/* An unencrypted answer to an IKE_SA_INIT request: one notify, no state kept. */
void ike_answer_notify(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r,
		       const struct fh_ike_hdr *req, uint16_t type, const uint8_t *data, size_t len)
{
	struct fh_ike_hdr h = {.spi_i = req->spi_i, .spi_r = 0, .exchange = FH_IKE_SA_INIT,
			       .flags = FH_IKE_FLAG_RESPONSE, .msg_id = 0};
	struct fh_ike_builder b;

	fh_ike_build_init(&b, ike->tx, sizeof(ike->tx), &h);
	fh_ike_add_notify(&b, 0, type, NULL, 0, data, len);
	if (!b.err)
		ike_send_to(ike, l, r, b.buf, b.len);
}

static void add_nat_d(struct fh_ike_builder *b, uint64_t spi_i, uint64_t spi_r, const struct fh_ike_addr *src,
		      const struct fh_ike_addr *dst)
{
	uint8_t h[20];

	ike_nat_hash(spi_i, spi_r, src->ip, src->port, h);
	fh_ike_add_notify(b, 0, N_NAT_DETECTION_SOURCE_IP, NULL, 0, h, 20);
	ike_nat_hash(spi_i, spi_r, dst->ip, dst->port, h);
	fh_ike_add_notify(b, 0, N_NAT_DETECTION_DESTINATION_IP, NULL, 0, h, 20);
}

/* NAT detection from the peer's hashes: a source hash that is not of the address we saw it come
 * from means a NAT in front of the peer; a destination hash not of ours, one in front of us. */
static void nat_detect(struct ike_sa *sa, const struct fh_ike_msg *m, uint64_t spi_r)
{
	uint8_t src[20], dst[20];
	bool have_s = false, have_d = false, ok_s = false, ok_d = false;

	ike_nat_hash(sa->spi_i, spi_r, sa->remote.ip, sa->remote.port, src);
	ike_nat_hash(sa->spi_i, spi_r, sa->local.ip, sa->local.port, dst);
	for (uint8_t i = 0; i < m->n; i++) {
		struct fh_ike_notify n;

		if (m->pl[i].type != FH_IKE_PL_NOTIFY || fh_ike_parse_notify(m->pl[i].body, m->pl[i].len, &n) != FH_IKE_OK ||
		    n.data_len != 20)
			continue;
		if (n.type == N_NAT_DETECTION_SOURCE_IP) {
			have_s = true;
			ok_s |= memcmp(n.data, src, 20) == 0;
		} else if (n.type == N_NAT_DETECTION_DESTINATION_IP) {
			have_d = true;
			ok_d = memcmp(n.data, dst, 20) == 0;
		}
	}
	sa->nat_remote = have_s && !ok_s;
	sa->nat_local = have_d && !ok_d;
}

static void *dup_msg(const uint8_t *buf, size_t len)
{
	void *p = malloc(len);

	if (p != NULL)
		memcpy(p, buf, len);
	return p;
}

static void send_init(struct fh_ike *ike, struct ike_sa *sa, bool new_dh)
{
	struct fh_ike_hdr h = {.spi_i = sa->spi_i, .exchange = FH_IKE_SA_INIT, .flags = FH_IKE_FLAG_INITIATOR};
	struct fh_ike_builder b;
	uint8_t pub[600];
	int pl;

	if (new_dh) {
		fh_ike_dh_free(sa->dh);
		sa->dh = fh_ike_dh_new(sa->want_group);
	}
	pl = sa->dh != NULL ? fh_ike_dh_public(sa->dh, pub, sizeof(pub)) : -1;
	if (pl < 0) {
		ike_sa_kill(ike, sa, "cannot make a DH key");
		return;
	}
	fh_ike_build_init(&b, ike->tx, sizeof(ike->tx), &h);
	if (sa->cookie_len)
		fh_ike_add_notify(&b, 0, N_COOKIE, NULL, 0, sa->cookie, sa->cookie_len);
	ike_offer(ike, sa->local.ip, &b, NULL, 0);
	fh_ike_add_ke(&b, sa->want_group, pub, (size_t)pl);
	fh_ike_add(&b, FH_IKE_PL_NONCE, sa->ni, sa->ni_len);
	add_nat_d(&b, sa->spi_i, 0, &sa->local, &sa->remote);
	if (ike->lim.frag_mtu != 0)
		fh_ike_add_notify(&b, 0, N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0, NULL, 0);
	if (b.err) {
		ike_sa_kill(ike, sa, "cannot build IKE_SA_INIT");
		return;
	}
	free(sa->init_req);
	sa->init_req = dup_msg(b.buf, b.len);
	sa->init_req_len = b.len;
	sa->state = ST_INIT_SENT;
	if (sa->init_req == NULL || ike_request_plain(ike, sa, RQ_INIT, b.buf, b.len) < 0)
		ike_sa_kill(ike, sa, "out of memory");
}

/* Initiate a configured tunnel; tried again at t->retry_at unless an SA serves it by then. */
void ike_initiate(struct fh_ike *ike, struct ike_tun *t)
{
	const struct fh_cfg_iface *f = &ike->cfg->iface[t->idx];
	struct ike_sa *sa;
	int ipp, prof = ike_profile_for_tunnel(ike->cfg, t->idx, &ipp);
	uint32_t local = ike->ops->tunnel_source(ike->ctx, t->handle);

	t->retry_at = ike->now + ike->lim.retry_initiate_ms;
	if (prof < 0 || local == 0 || ike_first_group(ike, local) == 0 || (sa = ike_sa_new(ike, false)) == NULL)
		return;
	sa->initiator = true;
	sa->tunnel = t->handle;
	sa->profile = prof;
	sa->ipsec_profile = ipp;
	sa->keyring = ike->cfg->ike_profile[prof].keyring_idx;
	sa->local = (struct fh_ike_addr){local, FH_IKE_PORT};
	sa->remote = (struct fh_ike_addr){f->tunnel_destination, FH_IKE_PORT};
	sa->spi_i = ike_new_ike_spi(ike);
	ike_sa_reindex(ike, sa); /* the response is found by our SPI */
	sa->want_group = ike_first_group(ike, local);
	sa->ni_len = IKE_NONCE_LEN;
	if (RAND_bytes(sa->ni, IKE_NONCE_LEN) != 1) {
		ike_sa_kill(ike, sa, "no randomness");
		return;
	}
	fh_debug("crypto ikev2 internal", "tunnel-id %u: initiating to %u.%u.%u.%u for %s", sa->id,
		 f->tunnel_destination >> 24, (f->tunnel_destination >> 16) & 0xff, (f->tunnel_destination >> 8) & 0xff,
		 f->tunnel_destination & 0xff, f->hdr.name);
	send_init(ike, sa, true);
}

/* Our proposal as the peer chose it: one proposal, one transform of each type we offered. */
static bool chosen(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *m)
{
	const struct fh_ike_payload *p = fh_ike_find(m, FH_IKE_PL_SA);
	struct fh_ike_sa *got = malloc(sizeof(*got));
	struct ike_prop c = {0};
	bool ok = false;

	if (got == NULL || p == NULL || fh_ike_parse_sa(p->body, p->len, got) != FH_IKE_OK || got->n != 1 ||
	    got->p[0].protocol != PROTO_IKE) {
		free(got);
		return false;
	}
	c.num = got->p[0].num;
	for (uint8_t i = 0; i < got->p[0].n_xf; i++) {
		const struct fh_ike_transform *x = &got->p[0].xf[i];

		switch (x->type) {
		case XF_ENCR: c.encr = x->id, c.key_bits = x->key_len; break;
		case XF_PRF: c.prf = x->id; break;
		case XF_INTEG: c.integ = x->id; break;
		case XF_DH: c.dh = x->id; break;
		default: break;
		}
	}
	ok = ike_prop_allowed(ike, sa->local.ip, &c);
	if (ok)
		sa->prop = c;
	free(got);
	return ok;
}

static bool derive(struct ike_sa *sa, const uint8_t *peer, size_t len)
{
	uint8_t gir[600];
	int n = fh_ike_dh_shared(sa->dh, peer, len, gir, sizeof(gir));
	bool ok;

	if (n < 0)
		return false;
	ike_set_sk(sa);
	ok = fh_ike_derive(sa->prop.prf, sa->ni, sa->ni_len, sa->nr, sa->nr_len, gir, (size_t)n, sa->spi_i, sa->spi_r,
			   fh_ike_sk_integ_key_len(&sa->sk), fh_ike_sk_encr_key_len(&sa->sk), &sa->k) == 0;
	OPENSSL_cleanse(gir, sizeof(gir));
	fh_ike_dh_free(sa->dh);
	sa->dh = NULL;
	return ok;
}

void ike_init_response(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len,
		       const struct fh_ike_msg *m)
{
	const struct fh_ike_payload *ke_p, *n_p;
	struct fh_ike_ke ke;

	for (uint8_t i = 0; i < m->n; i++) {
		struct fh_ike_notify n;

		if (m->pl[i].type != FH_IKE_PL_NOTIFY || fh_ike_parse_notify(m->pl[i].body, m->pl[i].len, &n) != FH_IKE_OK)
			continue;
		/* a responder that keeps asking (for cookies or groups) is not followed for ever */
		if ((n.type == N_COOKIE || n.type == N_INVALID_KE_PAYLOAD) && ++sa->init_restarts > INIT_RESTARTS_MAX) {
			ike_err(ike, "tunnel-id %u: responder keeps answering IKE_SA_INIT with notify %u; giving up", sa->id,
				n.type);
			ike_sa_kill(ike, sa, "IKE_SA_INIT restarted too often");
			return;
		}
		if (n.type == N_COOKIE && n.data_len > 0 && n.data_len <= sizeof(sa->cookie)) {
			memcpy(sa->cookie, n.data, n.data_len);
			sa->cookie_len = n.data_len;
			fh_debug("crypto ikev2 internal", "tunnel-id %u: responder asked for a cookie", sa->id);
			send_init(ike, sa, false);
			return;
		}
		if (n.type == N_INVALID_KE_PAYLOAD && n.data_len == 2) {
			uint16_t g = ike_be16(n.data);

			ike->ctr[FH_IKE_CTR_INVALID_KE]++;
			if (g == sa->want_group || !ike_group_allowed(ike, sa->local.ip, g)) {
				ike_err(ike, "tunnel-id %u: peer wants DH group %u, which policy does not allow", sa->id, g);
				ike_sa_kill(ike, sa, "no acceptable DH group");
				return;
			}
			sa->want_group = g;
			send_init(ike, sa, true);
			return;
		}
		if (n.type < 16384) {
			if (n.type == N_NO_PROPOSAL_CHOSEN)
				ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
			ike_err(ike, "tunnel-id %u: peer refused IKE_SA_INIT with notify %u", sa->id, n.type);
			ike_sa_kill(ike, sa, "refused by the peer");
			return;
		}
	}
	ke_p = fh_ike_find(m, FH_IKE_PL_KE);
	n_p = fh_ike_find(m, FH_IKE_PL_NONCE);
	if (m->hdr.spi_r == 0 || ke_p == NULL || n_p == NULL || fh_ike_parse_ke(ke_p->body, ke_p->len, &ke) != FH_IKE_OK ||
	    fh_ike_check_nonce(n_p->len) != 0) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_err(ike, "tunnel-id %u: IKE_SA_INIT response lacks SA, KE or nonce", sa->id);
		return; /* maybe forged: the real answer may still come */
	}
	if (!chosen(ike, sa, m) || ke.group != sa->want_group || sa->prop.dh != sa->want_group) {
		ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
		ike_err(ike, "tunnel-id %u: peer chose a proposal we did not offer", sa->id);
		ike_sa_kill(ike, sa, "bad proposal in the response");
		return;
	}
	memcpy(sa->nr, n_p->body, n_p->len);
	sa->nr_len = n_p->len;
	sa->spi_r = m->hdr.spi_r;
	if (!derive(sa, ke.data, ke.len)) {
		ike_err(ike, "tunnel-id %u: peer's KE is not a valid group element", sa->id);
		ike_sa_kill(ike, sa, "bad KE");
		return;
	}
	nat_detect(sa, m, sa->spi_r);
	sa->frag_peer = ike->lim.frag_mtu != 0 && ike_has_notify(m, N_IKEV2_FRAGMENTATION_SUPPORTED);
	sa->init_resp = dup_msg(buf, len);
	sa->init_resp_len = len;
	free(sa->req.buf);
	memset(&sa->req, 0, sizeof(sa->req));
	sa->req_kind = RQ_NONE;
	sa->tx_id = 1;
	if (sa->init_resp == NULL) {
		ike_sa_kill(ike, sa, "out of memory");
		return;
	}
	/* RFC 7296 2.23: behind a NAT, or a peer behind one, everything moves to port 4500 */
	if (sa->nat_local || sa->nat_remote) {
		sa->natt = true;
		sa->local.port = FH_IKE_NATT_PORT;
		sa->remote.port = FH_IKE_NATT_PORT;
	}
	sa->state = ST_AUTH_SENT;
	ike_auth_send(ike, sa);
}

static bool cookie_ok(struct fh_ike *ike, const struct fh_ike_msg *m, const uint8_t *ni, size_t ni_len, uint32_t ip)
{
	struct fh_ike_notify n;
	uint8_t want[COOKIE_LEN];

	/* RFC 7296 2.6: the cookie is the first payload */
	if (m->n == 0 || m->pl[0].type != FH_IKE_PL_NOTIFY ||
	    fh_ike_parse_notify(m->pl[0].body, m->pl[0].len, &n) != FH_IKE_OK || n.type != N_COOKIE ||
	    n.data_len != COOKIE_LEN)
		return false;
	for (int w = 0; w < 2; w++) {
		make_cookie(ike, w, ni, ni_len, ip, m->hdr.spi_i, want);
		if (CRYPTO_memcmp(want, n.data, COOKIE_LEN) == 0)
			return true;
	}
	return false;
}

/* Our SA for this initiator's SPI from this address and port, if we answered it already. */
static struct ike_sa *find_half_open(struct fh_ike *ike, uint64_t spi_i, const struct fh_ike_addr *r)
{
	uint64_t k2 = (uint64_t)r->ip << 16 | r->port;

	for (struct ike_sa *sa = ike_sa_first(ike, IX_INIT, spi_i, k2); sa != NULL; sa = ike_sa_next_same(ike, IX_INIT, sa))
		if (sa->used && !sa->initiator && sa->spi_i == spi_i && sa->remote.ip == r->ip && sa->remote.port == r->port)
			return sa;
	return NULL;
}

/* An SA payload of one IKE proposal: what a responder accepted, or a rekey's (with its new SPI). */
void ike_add_ike_prop(struct fh_ike_builder *b, const struct ike_prop *p, uint64_t spi)
{
	struct fh_ike_xf_spec xf[4];
	uint8_t spib[8], n = 0;

	for (int i = 0; i < 8; i++)
		spib[i] = (uint8_t)(spi >> (56 - 8 * i));
	xf[n++] = (struct fh_ike_xf_spec){XF_ENCR, p->encr, p->key_bits};
	xf[n++] = (struct fh_ike_xf_spec){XF_PRF, p->prf, 0};
	if (p->integ != 0)
		xf[n++] = (struct fh_ike_xf_spec){XF_INTEG, p->integ, 0};
	xf[n++] = (struct fh_ike_xf_spec){XF_DH, p->dh, 0};
	struct fh_ike_prop_spec ps = {.num = p->num, .protocol = PROTO_IKE, .spi = spib, .spi_len = spi ? 8 : 0,
				      .xf = xf, .n = n};
	fh_ike_add_sa_multi(b, &ps, 1);
}

void ike_init_request(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *buf,
		      size_t len, const struct fh_ike_msg *m)
{
	const struct fh_ike_payload *sa_p = fh_ike_find(m, FH_IKE_PL_SA), *ke_p = fh_ike_find(m, FH_IKE_PL_KE),
				    *n_p = fh_ike_find(m, FH_IKE_PL_NONCE);
	struct fh_ike_ke ke;
	struct fh_ike_sa *offer;
	struct ike_prop prop;
	struct ike_sa *sa = find_half_open(ike, m->hdr.spi_i, r);
	uint8_t pub[600], ck[COOKIE_LEN], g[2];
	struct fh_ike_builder b;
	int pl;

	if (sa != NULL) {
		/* a retransmission: the same answer again (the initiator missed ours) */
		if (sa->state == ST_INIT_DONE && sa->init_resp != NULL) {
			ike->ctr[FH_IKE_CTR_RX_DUP_REQUEST]++;
			ike_send(ike, sa, sa->init_resp, sa->init_resp_len);
		}
		return;
	}
	if (ike->n_live >= ike->lim.sa_max) {
		ike->ctr[FH_IKE_CTR_SA_LIMIT]++;
		ike_err(ike, "IKE SAs at the limit (%u): IKE_SA_INIT from %u.%u.%u.%u dropped", ike->lim.sa_max,
			r->ip >> 24, (r->ip >> 16) & 0xff, (r->ip >> 8) & 0xff, r->ip & 0xff);
		return;
	}
	if (ike->half_open >= ike->lim.half_open_max) {
		ike->ctr[FH_IKE_CTR_HALF_OPEN_LIMIT]++;
		ike_err(ike, "half-open IKE SAs at the limit (%u): IKE_SA_INIT dropped", ike->lim.half_open_max);
		return;
	}
	if (sa_p == NULL || ke_p == NULL || n_p == NULL || fh_ike_parse_ke(ke_p->body, ke_p->len, &ke) != FH_IKE_OK ||
	    fh_ike_check_nonce(n_p->len) != 0) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_answer_notify(ike, l, r, &m->hdr, N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (ike->half_open >= ike->lim.cookie_threshold && !cookie_ok(ike, m, n_p->body, n_p->len, r->ip)) {
		bool had = m->n > 0 && m->pl[0].type == FH_IKE_PL_NOTIFY;

		ike->ctr[had ? FH_IKE_CTR_COOKIE_BAD : FH_IKE_CTR_COOKIE_SENT]++;
		make_cookie(ike, 0, n_p->body, n_p->len, r->ip, m->hdr.spi_i, ck);
		ike_answer_notify(ike, l, r, &m->hdr, N_COOKIE, ck, sizeof(ck));
		return;
	}
	offer = malloc(sizeof(*offer));
	if (offer == NULL)
		return;
	if (fh_ike_parse_sa(sa_p->body, sa_p->len, offer) != FH_IKE_OK) {
		free(offer);
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_answer_notify(ike, l, r, &m->hdr, N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (!ike_prop_pick(ike, l->ip, offer, &prop, ke.group)) {
		free(offer);
		ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
		ike_err(ike, "IKE_SA_INIT from %u.%u.%u.%u: no proposal chosen", r->ip >> 24, (r->ip >> 16) & 0xff,
			(r->ip >> 8) & 0xff, r->ip & 0xff);
		ike_answer_notify(ike, l, r, &m->hdr, N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	free(offer);
	if (ke.group != prop.dh) {
		ike->ctr[FH_IKE_CTR_INVALID_KE]++;
		ike_put16(g, prop.dh);
		ike_answer_notify(ike, l, r, &m->hdr, N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	sa = ike_sa_new(ike, false);
	if (sa == NULL)
		return;
	sa->initiator = false;
	sa->spi_i = m->hdr.spi_i;
	sa->spi_r = ike_new_ike_spi(ike);
	sa->local = *l;
	sa->remote = *r;
	ike_sa_reindex(ike, sa); /* a retransmitted IKE_SA_INIT finds it */
	sa->natt = l->port != FH_IKE_PORT;
	sa->prop = prop;
	sa->dh = fh_ike_dh_new(prop.dh);
	memcpy(sa->ni, n_p->body, n_p->len);
	sa->ni_len = n_p->len;
	sa->nr_len = IKE_NONCE_LEN;
	pl = sa->dh != NULL ? fh_ike_dh_public(sa->dh, pub, sizeof(pub)) : -1;
	if (pl < 0 || RAND_bytes(sa->nr, IKE_NONCE_LEN) != 1) {
		ike_sa_kill(ike, sa, "cannot make a DH key");
		return;
	}
	if (!derive(sa, ke.data, ke.len)) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_err(ike, "IKE_SA_INIT from %u.%u.%u.%u: KE is not a valid group element", r->ip >> 24,
			(r->ip >> 16) & 0xff, (r->ip >> 8) & 0xff, r->ip & 0xff);
		ike_answer_notify(ike, l, r, &m->hdr, N_INVALID_SYNTAX, NULL, 0);
		ike_sa_kill(ike, sa, "bad KE");
		return;
	}
	nat_detect(sa, m, 0);
	sa->frag_peer = ike->lim.frag_mtu != 0 && ike_has_notify(m, N_IKEV2_FRAGMENTATION_SUPPORTED);
	{
		struct fh_ike_hdr h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r, .exchange = FH_IKE_SA_INIT,
				       .flags = FH_IKE_FLAG_RESPONSE};

		fh_ike_build_init(&b, ike->tx, sizeof(ike->tx), &h);
	}
	ike_add_ike_prop(&b, &prop, 0); /* IKE_SA_INIT: no SPI in the proposal */
	fh_ike_add_ke(&b, prop.dh, pub, (size_t)pl);
	fh_ike_add(&b, FH_IKE_PL_NONCE, sa->nr, sa->nr_len);
	add_nat_d(&b, sa->spi_i, sa->spi_r, &sa->local, &sa->remote);
	if (sa->frag_peer)
		fh_ike_add_notify(&b, 0, N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0, NULL, 0);
	sa->init_req = dup_msg(buf, len);
	sa->init_req_len = len;
	sa->init_resp = b.err ? NULL : dup_msg(b.buf, b.len);
	sa->init_resp_len = b.len;
	if (sa->init_req == NULL || sa->init_resp == NULL) {
		ike_sa_kill(ike, sa, "out of memory");
		return;
	}
	sa->state = ST_INIT_DONE;
	sa->rx_id = 1;
	ike->half_open++;
	ike_send(ike, sa, b.buf, b.len);
}
