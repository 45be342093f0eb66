/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Child SAs: ESP proposals from the ipsec profile's transform sets, traffic selectors (GRE
 * between the tunnel endpoints for "tunnel mode gre", anything for "tunnel mode ipsec"), keying
 * material (RFC 7296 2.17), and CREATE_CHILD_SA: new and rekeyed child SAs (1.3.1, 1.3.3) and
 * the rekey of the IKE SA itself (1.3.2, 2.18), make-before-break.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_int.h"

#define REKEY_RETRY_MS 10000
#define REKEYED_GRACE_MS 30000

static bool is_gcm(uint8_t e)
{
	return e == FH_ENCR_AES_GCM_128 || e == FH_ENCR_AES_GCM_256;
}

static const struct fh_cfg_ipsec_profile *ipsec_profile(const struct fh_ike *ike, const struct ike_sa *sa)
{
	return sa->ipsec_profile >= 0 ? &ike->cfg->ipsec_profile[sa->ipsec_profile] : NULL;
}

int ike_child_sa_payload(struct fh_ike *ike, struct ike_sa *sa, struct fh_ike_builder *b, uint32_t spi, uint16_t dh)
{
	const struct fh_cfg_ipsec_profile *ip = ipsec_profile(ike, sa);
	struct fh_ike_prop_spec ps[FH_LIST_MAX];
	struct fh_ike_xf_spec xf[FH_LIST_MAX][4];
	uint8_t spib[4], n = 0;

	if (ip == NULL)
		return -1;
	ike_put32(spib, spi);
	for (uint32_t i = 0; i < ip->n_transform_set && n < FH_LIST_MAX; i++) {
		const struct fh_cfg_transform_set *t;
		uint8_t k = 0;
		uint16_t bits;

		if (ip->ts_idx[i] < 0)
			continue;
		t = &ike->cfg->transform_set[ip->ts_idx[i]];
		xf[n][k].type = XF_ENCR;
		xf[n][k].id = ike_encr_id(t->encr, &bits);
		xf[n][k++].key_len = bits;
		if (!is_gcm(t->encr) && t->integ != FH_INTEG_NONE)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_INTEG, ike_integ_id(t->integ), 0};
		if (dh != 0)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_DH, dh, 0};
		xf[n][k++] = (struct fh_ike_xf_spec){XF_ESN, 0, 0};
		ps[n] = (struct fh_ike_prop_spec){.num = (uint8_t)(n + 1), .protocol = PROTO_ESP, .spi = spib, .spi_len = 4,
						  .xf = xf[n], .n = k};
		n++;
	}
	if (n == 0)
		return -1;
	return fh_ike_add_sa_multi(b, ps, n) ? 0 : -1;
}

/* Does a transform set take this ESP proposal? Fills alg (without the DH choice). */
static bool set_takes(const struct fh_cfg_transform_set *t, const struct fh_ike_proposal *p, struct ike_child_alg *alg)
{
	bool encr = false, integ = false, has_integ = false, esn0 = false, esn1 = false, has_esn = false;
	uint16_t bits, id = ike_encr_id(t->encr, &bits);
	uint16_t want_integ = is_gcm(t->encr) ? 0 : ike_integ_id(t->integ);

	for (uint8_t i = 0; i < p->n_xf; i++) {
		const struct fh_ike_transform *x = &p->xf[i];

		switch (x->type) {
		case XF_ENCR: encr |= x->id == id && x->key_len == bits; break;
		case XF_INTEG:
			has_integ = true;
			integ |= x->id == want_integ;
			break;
		case XF_ESN:
			has_esn = true;
			esn0 |= x->id == 0;
			esn1 |= x->id == 1;
			break;
		default: break;
		}
	}
	if (!has_integ)
		integ = want_integ == 0;
	if (!encr || !integ || (has_esn && !esn0 && !esn1))
		return false;
	alg->encr = t->encr;
	alg->integ = is_gcm(t->encr) ? FH_INTEG_NONE : t->integ;
	alg->esn = has_esn && !esn0; /* no ESN when the peer lets us choose */
	return true;
}

/* PFS: the group of a CREATE_CHILD_SA proposal; -1 when it does not fit the profile's "set pfs". */
static int pick_dh(const struct fh_cfg_ipsec_profile *ip, const struct fh_ike_proposal *p)
{
	bool has_dh = false, none = false;
	int first = -1;

	for (uint8_t i = 0; i < p->n_xf; i++) {
		if (p->xf[i].type != XF_DH)
			continue;
		has_dh = true;
		if (p->xf[i].id == 0)
			none = true;
		else if (ip->pfs_group != 0 && p->xf[i].id == ip->pfs_group)
			return (int)ip->pfs_group;
		else if (first < 0 && fh_ike_dh_pub_len(p->xf[i].id) > 0)
			first = p->xf[i].id;
	}
	if (ip->pfs_group != 0)
		return -1;
	/* no PFS configured: take none when offered, else go along with the peer's group */
	if (!has_dh || none)
		return 0;
	return first;
}

int ike_child_pick(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_sa *offer, struct ike_child_alg *alg,
		   uint32_t *peer_spi, uint8_t *prop_num, bool pfs_allowed)
{
	const struct fh_cfg_ipsec_profile *ip = ipsec_profile(ike, sa);

	if (ip == NULL)
		return -1;
	for (uint8_t i = 0; i < offer->n; i++) {
		const struct fh_ike_proposal *p = &offer->p[i];

		if (p->protocol != PROTO_ESP || p->spi_len != 4)
			continue;
		for (uint32_t k = 0; k < ip->n_transform_set; k++) {
			int dh = 0;

			if (ip->ts_idx[k] < 0 || !set_takes(&ike->cfg->transform_set[ip->ts_idx[k]], p, alg))
				continue;
			/* IKE_AUTH's child has no KE of its own: DH transforms there are ignored (RFC 7296 1.2) */
			if (pfs_allowed && (dh = pick_dh(ip, p)) < 0)
				continue;
			alg->dh = (uint16_t)dh;
			*peer_spi = ike_be32(p->spi);
			*prop_num = p->num;
			return 0;
		}
	}
	return -1;
}

void ike_child_accepted_payload(struct fh_ike_builder *b, uint8_t num, uint32_t spi, const struct ike_child_alg *a)
{
	struct fh_ike_xf_spec xf[4];
	uint8_t spib[4], n = 0;
	uint16_t bits, id = ike_encr_id(a->encr, &bits);

	ike_put32(spib, spi);
	xf[n++] = (struct fh_ike_xf_spec){XF_ENCR, id, bits};
	if (a->integ != FH_INTEG_NONE)
		xf[n++] = (struct fh_ike_xf_spec){XF_INTEG, ike_integ_id(a->integ), 0};
	if (a->dh != 0)
		xf[n++] = (struct fh_ike_xf_spec){XF_DH, a->dh, 0};
	xf[n++] = (struct fh_ike_xf_spec){XF_ESN, a->esn ? 1 : 0, 0};
	struct fh_ike_prop_spec ps = {.num = num, .protocol = PROTO_ESP, .spi = spib, .spi_len = 4, .xf = xf, .n = n};
	fh_ike_add_sa_multi(b, &ps, 1);
}

/* The responder's answer to our proposals: one ESP proposal, one of our transform sets. */
int ike_child_check_accepted(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_sa *got,
			     struct ike_child_alg *alg, uint32_t *peer_spi, bool pfs)
{
	uint8_t num;

	if (got->n != 1)
		return -1;
	for (uint8_t i = 0; i < got->p[0].n_xf; i++)
		if (got->p[0].xf[i].type == XF_DH && got->p[0].xf[i].id != 0) {
			const struct fh_cfg_ipsec_profile *ip = ipsec_profile(ike, sa);

			if (ip == NULL || got->p[0].xf[i].id != ip->pfs_group)
				return -1;
		}
	/* IKE_AUTH's child has no DH of its own (pfs false): the profile's PFS applies to rekeys */
	if (ike_child_pick(ike, sa, got, alg, peer_spi, &num, pfs) < 0)
		return -1;
	return 0;
}

static bool tunnel_gre(const struct fh_ike *ike, const struct ike_sa *sa)
{
	int ti = ike_sa_tun_idx(ike, sa);

	return ti >= 0 && ike->cfg->iface[ti].tunnel_mode == FH_TUN_GRE;
}

static struct fh_ike_ts host_ts(uint32_t a, uint8_t proto)
{
	return (struct fh_ike_ts){.type = 7, .proto = proto, .port_lo = 0, .port_hi = 65535, .addr_lo = a, .addr_hi = a};
}

/* GRE tunnels protect GRE between the tunnel's endpoints (the guide's proxy identities); plain
 * IPsec tunnels protect everything: their routes decide what goes in. */
void ike_ts_ours(struct fh_ike *ike, struct ike_sa *sa, struct fh_ike_ts *l, struct fh_ike_ts *r)
{
	if (tunnel_gre(ike, sa)) {
		*l = host_ts(sa->local.ip, 47);
		*r = host_ts(ike->cfg->iface[ike_sa_tun_idx(ike, sa)].tunnel_destination, 47);
		return;
	}
	*l = (struct fh_ike_ts){.type = 7, .port_hi = 65535, .addr_hi = 0xffffffff};
	*r = *l;
}

static bool ts_covers(const struct fh_ike_ts *t, const struct fh_ike_ts *want)
{
	return t->type == 7 && (t->proto == 0 || t->proto == want->proto) && t->addr_lo <= want->addr_lo &&
	       t->addr_hi >= want->addr_hi && t->port_lo <= want->port_lo && t->port_hi >= want->port_hi;
}

static struct fh_ike_ts net_ts(uint32_t addr, uint32_t mask)
{
	return (struct fh_ike_ts){.type = 7, .port_hi = 65535, .addr_lo = addr & mask, .addr_hi = addr | ~mask};
}

static void tsl_one(struct fh_ike_tsl *l, const struct fh_ike_ts *ts)
{
	l->n = 1;
	l->ts[0] = *ts;
}

/* The overlap of two selectors, false when there is none. */
static bool ts_meet(const struct fh_ike_ts *a, const struct fh_ike_ts *b, struct fh_ike_ts *out)
{
	if (a->type != 7 || b->type != 7 || (a->proto != 0 && b->proto != 0 && a->proto != b->proto))
		return false;
	*out = (struct fh_ike_ts){.type = 7, .proto = a->proto ? a->proto : b->proto,
				  .port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo,
				  .port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi,
				  .addr_lo = a->addr_lo > b->addr_lo ? a->addr_lo : b->addr_lo,
				  .addr_hi = a->addr_hi < b->addr_hi ? a->addr_hi : b->addr_hi};
	return out->port_lo <= out->port_hi && out->addr_lo <= out->addr_hi;
}

/* Every overlap of what was offered with what we allow (RFC 7296 2.9 narrowing). */
static void tsl_meet(const struct fh_ike_tsl *offer, const struct fh_ike_ts *allow, uint32_t n_allow,
		     struct fh_ike_tsl *out)
{
	out->n = 0;
	for (uint8_t i = 0; i < offer->n; i++)
		for (uint32_t j = 0; j < n_allow && out->n < FH_IKE_TS_MAX; j++) {
			struct fh_ike_ts m;
			bool dup = false;

			if (!ts_meet(&offer->ts[i], &allow[j], &m))
				continue;
			for (uint8_t k = 0; k < out->n && !dup; k++)
				dup = memcmp(&out->ts[k], &m, sizeof(m)) == 0;
			if (!dup)
				out->ts[out->n++] = m;
		}
}

/* A Virtual-Access carrying IPv4 directly (a road warrior, sVTI): its selectors are the session's,
 * ours the networks we pushed (else everything), the peer's the address we gave (else its own). */
static uint32_t va_allow(const struct ike_sa *sa, bool ours, const struct fh_ike_ts *dflt, struct fh_ike_ts *out)
{
	if (ours) {
		for (uint8_t i = 0; i < sa->n_push; i++)
			out[i] = net_ts(sa->push[i].addr, sa->push[i].mask);
		if (sa->n_push > 0)
			return sa->n_push;
	} else if (sa->cfg_addr != 0) {
		out[0] = host_ts(sa->cfg_addr, 0);
		return 1;
	}
	out[0] = *dflt;
	return 1;
}

bool ike_ts_is_gre(const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr, uint32_t local, uint32_t *peer)
{
	struct fh_ike_ts me = host_ts(local, 47);

	if (tsi->n == 0 || tsr->n == 0 || tsi->ts[0].type != 7 || tsi->ts[0].proto != 47 ||
	    tsi->ts[0].addr_lo != tsi->ts[0].addr_hi || tsr->ts[0].proto != 47 || !ts_covers(&tsr->ts[0], &me))
		return false;
	*peer = tsi->ts[0].addr_lo;
	return true;
}

bool ike_ts_pick(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr,
		 struct fh_ike_tsl *l, struct fh_ike_tsl *r)
{
	struct fh_ike_ts wl, wr;
	bool okl = false, okr = false;

	l->n = r->n = 0;
	if (tsi->n == 0 || tsr->n == 0)
		return false;
	if (sa->va && !sa->va_gre) {
		struct fh_ike_ts allow[FH_IKE_NETS_MAX], any = net_ts(0, 0);
		uint32_t n = va_allow(sa, true, &any, allow);

		tsl_meet(tsr, allow, n, l);
		n = va_allow(sa, false, &any, allow);
		tsl_meet(tsi, allow, n, r);
		return l->n > 0 && r->n > 0;
	}
	if (sa->va) {
		wl = host_ts(sa->local.ip, 47);
		wr = host_ts(sa->va_peer, 47);
	} else if (!tunnel_gre(ike, sa)) {
		/* narrowing is the initiator's wish: take the first pair as offered */
		tsl_one(r, &tsi->ts[0]);
		tsl_one(l, &tsr->ts[0]);
		return r->ts[0].type == 7 && l->ts[0].type == 7;
	} else {
		ike_ts_ours(ike, sa, &wl, &wr);
	}
	/* the initiator's TSi is its side (our remote), TSr ours; either may be wider */
	for (uint8_t i = 0; i < tsr->n; i++)
		okl |= ts_covers(&tsr->ts[i], &wl);
	for (uint8_t i = 0; i < tsi->n; i++)
		okr |= ts_covers(&tsi->ts[i], &wr);
	tsl_one(l, &wl);
	tsl_one(r, &wr);
	return okl && okr;
}

void ike_ts_child(struct fh_ike *ike, struct ike_sa *sa, const struct ike_child *c, struct fh_ike_tsl *l,
		  struct fh_ike_tsl *r)
{
	if (sa->va && !sa->va_gre) {
		struct fh_ike_ts allow[FH_IKE_NETS_MAX];

		l->n = (uint8_t)va_allow(sa, true, &c->ts_l, allow);
		memcpy(l->ts, allow, l->n * sizeof(allow[0]));
		r->n = (uint8_t)va_allow(sa, false, &c->ts_r, allow);
		memcpy(r->ts, allow, r->n * sizeof(allow[0]));
		return;
	}
	if (sa->initiator && ike_sa_tun_idx(ike, sa) >= 0) {
		struct fh_ike_ts ol, orr;

		/* our configured tunnel: offer what we offered at first and let the responder narrow
		 * again (the child keeps only the first of a narrowed list) */
		ike_ts_ours(ike, sa, &ol, &orr);
		tsl_one(l, &ol);
		tsl_one(r, &orr);
		return;
	}
	tsl_one(l, &c->ts_l);
	tsl_one(r, &c->ts_r);
}

void ike_add_ts(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_ts *ts)
{
	struct fh_ike_tsl one = {.n = 1, .ts = {*ts}};

	ike_add_tsl(b, type, &one);
}

void ike_add_tsl(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_tsl *tsl)
{
	uint8_t *p = fh_ike_add(b, type, NULL, 4 + 16 * (size_t)tsl->n);

	if (p == NULL)
		return;
	memset(p, 0, 4);
	p[0] = tsl->n;
	for (uint8_t i = 0; i < tsl->n; i++) {
		const struct fh_ike_ts *ts = &tsl->ts[i];
		uint8_t *q = p + 4 + 16 * i;

		q[0] = 7;
		q[1] = ts->proto;
		ike_put16(q + 2, 16);
		ike_put16(q + 4, ts->port_lo);
		ike_put16(q + 6, ts->port_hi);
		ike_put32(q + 8, ts->addr_lo);
		ike_put32(q + 12, ts->addr_hi);
	}
}

struct ike_child *ike_child_install(struct fh_ike *ike, struct ike_sa *sa, const struct ike_child_alg *alg,
				    uint32_t spi_in, uint32_t spi_out, bool transport, bool we_init, const uint8_t *ni,
				    size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gir, size_t gir_len,
				    const struct fh_ike_ts *l, const struct fh_ike_ts *r, bool standby)
{
	const struct fh_cfg_ipsec_profile *ip = ipsec_profile(ike, sa);
	uint32_t el = fh_encr_key_len(alg->encr), il = fh_integ_key_len(alg->integ), life;
	uint8_t km[2 * (36 + 64)], seed[600 + 2 * 256];
	struct ike_child *c = NULL;
	struct fh_ike_child_sa cs;
	size_t sl = 0;
	int rc;

	if (ip == NULL || gir_len > 600 || ni_len > 256 || nr_len > 256)
		return NULL;
	for (int i = 0; i < IKE_CHILD_MAX && c == NULL; i++)
		if (!sa->child[i].used)
			c = &sa->child[i];
	if (c == NULL) {
		ike->ctr[FH_IKE_CTR_CHILD_LIMIT]++;
		ike_err(ike, "tunnel-id %u: too many child SAs at once (%d); new one refused", sa->id, IKE_CHILD_MAX);
		return NULL;
	}
	/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr): initiator-to-responder keys first */
	if (gir_len) {
		memcpy(seed, gir, gir_len);
		sl = gir_len;
	}
	memcpy(seed + sl, ni, ni_len);
	memcpy(seed + sl + ni_len, nr, nr_len);
	sl += ni_len + nr_len;
	if (fh_ike_prf_plus(sa->prop.prf, sa->k.sk_d, sa->k.prf_len, seed, sl, km, 2 * (el + il)) < 0)
		return NULL;
	life = ip->lifetime_seconds;
	cs = (struct fh_ike_child_sa){.tunnel = sa->tunnel, .ike_id = sa->id, .spi_in = spi_in, .spi_out = spi_out,
				      .encr = alg->encr, .integ = alg->integ, .esn = alg->esn, .transport = transport,
				      .udp_encap = sa->natt, .local = sa->local, .remote = sa->remote,
				      .replay_window = ip->replay_window, .life_seconds = life,
				      .life_kilobytes = ip->lifetime_kilobytes, .enc_len = el, .auth_len = il,
				      .standby = standby};
	/* ours are the initiator's when we initiated this exchange */
	cs.enc_out = we_init ? km : km + el + il;
	cs.auth_out = cs.enc_out + el;
	cs.enc_in = we_init ? km + el + il : km;
	cs.auth_in = cs.enc_in + el;
	rc = ike->ops->child_up(ike->ctx, &cs);
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc < 0) {
		ike_err(ike, "tunnel-id %u: the data plane refused child SA 0x%08x", sa->id, spi_in);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->spi_in = spi_in;
	ike_ix_add(&ike->ix_child, &c->by_spi, spi_in, 0);
	ike_sa_touch(ike, sa);
	c->spi_out = spi_out;
	c->alg = *alg;
	c->transport = transport;
	c->ts_l = *l;
	c->ts_r = *r;
	c->created_ms = ike->now;
	c->rekey_ms = ike->now + ike_soft_ms(life, sa->initiator);
	c->expire_ms = ike->now + (uint64_t)life * 1000;
	ike->ctr[FH_IKE_CTR_CHILD_UP]++;
	fh_log(FH_LOG_INFO, "crypto ipsec", "tunnel-id %u: child SA up: in 0x%08x out 0x%08x %s/%s%s%s", sa->id, spi_in,
	       spi_out, fh_encr_name(alg->encr), fh_integ_name(alg->integ), transport ? " transport" : "",
	       sa->natt ? " udp-encap" : "");
	return c;
}

/* ---- CREATE_CHILD_SA ---- */

static void add_nonce_ke(struct fh_ike_builder *b, const uint8_t *nonce, struct fh_ike_dh *dh, uint16_t group)
{
	uint8_t pub[600];
	int pl;

	fh_ike_add(b, FH_IKE_PL_NONCE, nonce, IKE_NONCE_LEN);
	if (dh != NULL && (pl = fh_ike_dh_public(dh, pub, sizeof(pub))) > 0)
		fh_ike_add_ke(b, group, pub, (size_t)pl);
}

void ike_start_rekey_child(struct fh_ike *ike, struct ike_sa *sa, uint32_t spi_in)
{
	struct ike_child *c = ike_child_by_in(sa, spi_in);
	const struct fh_cfg_ipsec_profile *ip = ipsec_profile(ike, sa);
	struct fh_ike_builder b;
	uint8_t spib[4];

	if (c == NULL || c->rekeyed || ip == NULL)
		return;
	fh_ike_dh_free(sa->rq_dh);
	sa->rq_dh = ip->pfs_group ? fh_ike_dh_new((uint16_t)ip->pfs_group) : NULL;
	sa->rq_spi = spi_in;
	sa->rq_new_spi = ike_new_spi(ike);
	sa->rq_new_ike_spi = 0;
	if (RAND_bytes(sa->rq_nonce, IKE_NONCE_LEN) != 1 || (ip->pfs_group && sa->rq_dh == NULL))
		return;
	ike_put32(spib, spi_in);
	ike_inner_init(ike, &b);
	fh_ike_add_notify(&b, PROTO_ESP, N_REKEY_SA, spib, 4, NULL, 0);
	if (c->transport)
		fh_ike_add_notify(&b, 0, N_USE_TRANSPORT_MODE, NULL, 0, NULL, 0);
	if (ike_child_sa_payload(ike, sa, &b, sa->rq_new_spi, (uint16_t)ip->pfs_group) < 0)
		return;
	add_nonce_ke(&b, sa->rq_nonce, sa->rq_dh, (uint16_t)ip->pfs_group);
	{
		struct fh_ike_tsl *l = malloc(2 * sizeof(*l));

		if (l == NULL)
			return;
		ike_ts_child(ike, sa, c, l, l + 1);
		ike_add_tsl(&b, FH_IKE_PL_TSI, l);
		ike_add_tsl(&b, FH_IKE_PL_TSR, l + 1);
		free(l);
	}
	fh_debug("crypto ikev2 internal", "tunnel-id %u: rekeying child SA 0x%08x", sa->id, spi_in);
	ike_request(ike, sa, FH_IKE_CREATE_CHILD_SA, RQ_REKEY_CHILD, &b);
}

void ike_start_rekey_ike(struct fh_ike *ike, struct ike_sa *sa)
{
	struct fh_ike_builder b;
	struct ike_prop prop = sa->prop;

	fh_ike_dh_free(sa->rq_dh);
	sa->rq_dh = fh_ike_dh_new(sa->prop.dh);
	sa->rq_new_ike_spi = ike_new_ike_spi(ike);
	if (sa->rq_dh == NULL || RAND_bytes(sa->rq_nonce, IKE_NONCE_LEN) != 1)
		return;
	prop.num = 1;
	ike_inner_init(ike, &b);
	ike_add_ike_prop(&b, &prop, sa->rq_new_ike_spi);
	add_nonce_ke(&b, sa->rq_nonce, sa->rq_dh, sa->prop.dh);
	fh_debug("crypto ikev2 internal", "tunnel-id %u: rekeying the IKE SA", sa->id);
	ike_request(ike, sa, FH_IKE_CREATE_CHILD_SA, RQ_REKEY_IKE, &b);
}

/* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) and the seven keys under the new SPIs. */
static int rekey_keys(const struct ike_sa *old, struct ike_sa *ns, const uint8_t *gir, size_t gir_len,
		      const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	uint8_t data[600 + 512 + 16], skeyseed[64], km[3 * 64 + 2 * 64 + 2 * 36];
	size_t h = fh_ike_prf_len(ns->prop.prf), il = fh_ike_sk_integ_key_len(&ns->sk),
	       el = fh_ike_sk_encr_key_len(&ns->sk), off = 0, dl = gir_len + ni_len + nr_len;
	int rc = -1;

	if (gir_len > 600 || ni_len > 256 || nr_len > 256 || h == 0)
		return -1;
	memcpy(data, gir, gir_len);
	memcpy(data + gir_len, ni, ni_len);
	memcpy(data + gir_len + ni_len, nr, nr_len);
	if (fh_ike_prf(old->prop.prf, old->k.sk_d, old->k.prf_len, data, dl, skeyseed) < 0)
		goto out;
	memcpy(data, ni, ni_len);
	memcpy(data + ni_len, nr, nr_len);
	for (int i = 0; i < 8; i++) {
		data[ni_len + nr_len + i] = (uint8_t)(ns->spi_i >> (56 - 8 * i));
		data[ni_len + nr_len + 8 + i] = (uint8_t)(ns->spi_r >> (56 - 8 * i));
	}
	if (fh_ike_prf_plus(ns->prop.prf, skeyseed, fh_ike_prf_len(old->prop.prf), data, ni_len + nr_len + 16, km,
			    3 * h + 2 * il + 2 * el) < 0)
		goto out;
	memset(&ns->k, 0, sizeof(ns->k));
	ns->k.prf_len = h;
	ns->k.integ_len = il;
	ns->k.encr_len = el;
	memcpy(ns->k.sk_d, km + off, h), off += h;
	memcpy(ns->k.sk_ai, km + off, il), off += il;
	memcpy(ns->k.sk_ar, km + off, il), off += il;
	memcpy(ns->k.sk_ei, km + off, el), off += el;
	memcpy(ns->k.sk_er, km + off, el), off += el;
	memcpy(ns->k.sk_pi, km + off, h), off += h;
	memcpy(ns->k.sk_pr, km + off, h);
	rc = 0;
out:
	OPENSSL_cleanse(skeyseed, sizeof(skeyseed));
	OPENSSL_cleanse(km, sizeof(km));
	return rc;
}

/* The new IKE SA of a rekey inherits everything but keys and SPIs; the children move to it. */
static struct ike_sa *rekeyed_sa(struct fh_ike *ike, struct ike_sa *old, bool initiator, uint64_t spi_i,
				 uint64_t spi_r, const struct ike_prop *prop)
{
	struct ike_sa *ns = ike_sa_new(ike, true);

	if (ns == NULL)
		return NULL;
	ns->initiator = initiator;
	ns->spi_i = spi_i;
	ns->spi_r = spi_r;
	ns->local = old->local;
	ns->remote = old->remote;
	ns->nat_local = old->nat_local;
	ns->nat_remote = old->nat_remote;
	ns->frag_peer = old->frag_peer;
	ns->natt = old->natt;
	ns->tunnel = old->tunnel;
	ns->profile = old->profile;
	ns->keyring = old->keyring;
	ns->peer = old->peer;
	ns->ipsec_profile = old->ipsec_profile;
	memcpy(ns->remote_id, old->remote_id, sizeof(ns->remote_id));
	memcpy(ns->local_id, old->local_id, sizeof(ns->local_id));
	ns->authed = old->authed;
	ns->va = old->va;
	ns->va_gre = old->va_gre;
	ns->va_peer = old->va_peer;
	ns->cfg_addr = old->cfg_addr;
	ns->n_push = old->n_push;
	memcpy(ns->push, old->push, sizeof(ns->push));
	ns->prop = *prop;
	ike_set_sk(ns);
	ike_sa_reindex(ike, ns);
	return ns;
}

static void adopt(struct fh_ike *ike, struct ike_sa *old, struct ike_sa *ns)
{
	uint32_t life = ns->profile >= 0 ? ike->cfg->ike_profile[ns->profile].lifetime : 86400;

	/* the children's table entries are inside them: out, moved, back in */
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		ike_ix_del(&ike->ix_child, &old->child[i].by_spi);
	memcpy(ns->child, old->child, sizeof(ns->child));
	memset(old->child, 0, sizeof(old->child));
	for (int i = 0; i < IKE_CHILD_MAX; i++)
		if (ns->child[i].used)
			ike_ix_add(&ike->ix_child, &ns->child[i].by_spi, ns->child[i].spi_in, 0);
	ns->id = old->id; /* the tunnel-id stays: it names the peer's session in show output */
	ns->sess = old->sess; /* and so does the session: its Virtual-Access, its address */
	old->sess = false;
	ns->state = ST_ESTABLISHED;
	ns->established_ms = ike->now;
	ns->expire_ms = ike->now + (uint64_t)life * 1000;
	ns->rekey_ms = ike->now + ike_soft_ms(life, ns->initiator);
	ns->last_rx_ms = ike->now;
	/* the old SA only waits for its Delete now */
	old->rekey_ms = 0;
	old->want_rekey_ike = old->want_dpd = false;
	old->want_rekey_child = 0;
	old->n_delq = 0;
	if (old->expire_ms > ike->now + REKEYED_GRACE_MS)
		old->expire_ms = ike->now + REKEYED_GRACE_MS;
	ike_sa_touch(ike, old);
	ike_sa_reindex(ike, ns);
	ike->ctr[FH_IKE_CTR_IKE_REKEYED]++;
	fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: IKE SA rekeyed (new SPIs %016llx/%016llx)", ns->id,
	       (unsigned long long)ns->spi_i, (unsigned long long)ns->spi_r);
}

static void respond_notify(struct fh_ike *ike, struct ike_sa *sa, uint32_t msg_id, uint16_t type, const uint8_t *d,
			   size_t dl)
{
	struct fh_ike_builder b;

	ike_inner_init(ike, &b);
	fh_ike_add_notify(&b, 0, type, NULL, 0, d, dl);
	ike_respond(ike, sa, FH_IKE_CREATE_CHILD_SA, msg_id, &b);
}

static void rekey_ike_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in,
			      const struct fh_ike_sa *offer, const struct fh_ike_payload *np)
{
	const struct fh_ike_payload *kp = fh_ike_find(in, FH_IKE_PL_KE);
	struct fh_ike_ke ke;
	struct ike_prop prop;
	struct ike_sa *ns;
	struct fh_ike_dh *dh;
	struct fh_ike_builder b;
	uint8_t nr[IKE_NONCE_LEN], gir[600], pub[600], g[2];
	uint64_t peer_spi = 0, my_spi;
	int gl, pl;

	if (kp == NULL || fh_ike_parse_ke(kp->body, kp->len, &ke) != FH_IKE_OK) {
		respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (!ike_prop_pick(ike, sa->local.ip, offer, &prop, ke.group)) {
		ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
		respond_notify(ike, sa, in->hdr.msg_id, N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (prop.dh != ke.group) {
		ike->ctr[FH_IKE_CTR_INVALID_KE]++;
		ike_put16(g, prop.dh);
		respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	/* RFC 7296 2.8.2: our own IKE rekey in flight too: the original initiator's side backs off
	 * the peer's, the other side takes it (and gives up its own when refused) */
	if (sa->req_kind == RQ_REKEY_IKE && sa->initiator) {
		respond_notify(ike, sa, in->hdr.msg_id, N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	for (uint8_t i = 0; i < offer->n; i++)
		if (offer->p[i].num == prop.num && offer->p[i].spi_len == 8)
			for (int k = 0; k < 8; k++)
				peer_spi = peer_spi << 8 | offer->p[i].spi[k];
	dh = fh_ike_dh_new(prop.dh);
	gl = dh != NULL ? fh_ike_dh_shared(dh, ke.data, ke.len, gir, sizeof(gir)) : -1;
	pl = dh != NULL ? fh_ike_dh_public(dh, pub, sizeof(pub)) : -1;
	fh_ike_dh_free(dh);
	if (peer_spi == 0 || gl < 0 || pl < 0 || RAND_bytes(nr, sizeof(nr)) != 1) {
		respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	my_spi = ike_new_ike_spi(ike);
	ns = rekeyed_sa(ike, sa, false, peer_spi, my_spi, &prop);
	if (ns == NULL || rekey_keys(sa, ns, gir, (size_t)gl, np->body, np->len, nr, sizeof(nr)) < 0) {
		OPENSSL_cleanse(gir, sizeof(gir));
		if (ns != NULL)
			ike_sa_kill(ike, ns, "rekey failed");
		respond_notify(ike, sa, in->hdr.msg_id, N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	OPENSSL_cleanse(gir, sizeof(gir));
	ike_inner_init(ike, &b);
	ike_add_ike_prop(&b, &prop, my_spi);
	fh_ike_add(&b, FH_IKE_PL_NONCE, nr, sizeof(nr));
	fh_ike_add_ke(&b, prop.dh, pub, (size_t)pl);
	ike_respond(ike, sa, FH_IKE_CREATE_CHILD_SA, in->hdr.msg_id, &b);
	adopt(ike, sa, ns);
}

static void child_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in,
			  const struct fh_ike_sa *offer, const struct fh_ike_payload *np)
{
	const struct fh_ike_payload *kp = fh_ike_find(in, FH_IKE_PL_KE), *tsip = fh_ike_find(in, FH_IKE_PL_TSI),
				    *tsrp = fh_ike_find(in, FH_IKE_PL_TSR);
	struct ike_child *old = NULL, *c;
	struct ike_child_alg alg;
	struct fh_ike_tsl *tsi = NULL, *tsr = NULL, *l = NULL, *r = NULL;
	struct fh_ike_builder b;
	uint32_t peer_spi, spi_in;
	uint8_t num, nr[IKE_NONCE_LEN], gir[600], pub[600], g[2];
	int gl = 0, pl = 0;
	bool transport;

	for (uint8_t i = 0; i < in->n; i++) {
		struct fh_ike_notify n;

		if (in->pl[i].type == FH_IKE_PL_NOTIFY &&
		    fh_ike_parse_notify(in->pl[i].body, in->pl[i].len, &n) == FH_IKE_OK && n.type == N_REKEY_SA) {
			if (n.protocol != PROTO_ESP || n.spi_len != 4 || (old = ike_child_by_out(sa, ike_be32(n.spi))) == NULL) {
				respond_notify(ike, sa, in->hdr.msg_id, N_CHILD_SA_NOT_FOUND, NULL, 0);
				return;
			}
		}
	}
	/* RFC 7296 2.8.1: both ends rekeying the same child: the IKE SA's initiator asks the peer to
	 * wait, the responder goes along (and deletes the extra pair its own rekey makes) */
	if (old != NULL && sa->req_kind == RQ_REKEY_CHILD && sa->rq_spi == old->spi_in && sa->initiator) {
		respond_notify(ike, sa, in->hdr.msg_id, N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	tsi = malloc(4 * sizeof(*tsi));
	tsr = tsi + 1;
	l = tsi + 2;
	r = tsi + 3;
	if (tsi == NULL || tsip == NULL || tsrp == NULL ||
	    fh_ike_parse_ts(tsip->body, tsip->len, tsi) != FH_IKE_OK ||
	    fh_ike_parse_ts(tsrp->body, tsrp->len, tsr) != FH_IKE_OK) {
		respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX, NULL, 0);
		goto out;
	}
	if (ike_child_pick(ike, sa, offer, &alg, &peer_spi, &num, true) < 0) {
		ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
		respond_notify(ike, sa, in->hdr.msg_id, N_NO_PROPOSAL_CHOSEN, NULL, 0);
		goto out;
	}
	if (!ike_ts_pick(ike, sa, tsi, tsr, l, r)) {
		ike->ctr[FH_IKE_CTR_TS_UNACCEPTABLE]++;
		respond_notify(ike, sa, in->hdr.msg_id, N_TS_UNACCEPTABLE, NULL, 0);
		goto out;
	}
	if (alg.dh != 0) {
		struct fh_ike_ke ke;
		struct fh_ike_dh *dh;

		if (kp == NULL || fh_ike_parse_ke(kp->body, kp->len, &ke) != FH_IKE_OK || ke.group != alg.dh) {
			ike->ctr[FH_IKE_CTR_INVALID_KE]++;
			ike_put16(g, alg.dh);
			respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_KE_PAYLOAD, g, 2);
			goto out;
		}
		dh = fh_ike_dh_new(alg.dh);
		gl = dh != NULL ? fh_ike_dh_shared(dh, ke.data, ke.len, gir, sizeof(gir)) : -1;
		pl = dh != NULL ? fh_ike_dh_public(dh, pub, sizeof(pub)) : -1;
		fh_ike_dh_free(dh);
		if (gl < 0 || pl < 0) {
			respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX, NULL, 0);
			goto out;
		}
	}
	if (RAND_bytes(nr, sizeof(nr)) != 1)
		goto out;
	transport = ike_has_notify(in, N_USE_TRANSPORT_MODE) && (old != NULL ? old->transport : false);
	spi_in = ike_new_spi(ike);
	c = ike_child_install(ike, sa, &alg, spi_in, peer_spi, transport, false, np->body, np->len, nr, sizeof(nr),
			      alg.dh ? gir : NULL, alg.dh ? (size_t)gl : 0, &l->ts[0], &r->ts[0], old != NULL);
	OPENSSL_cleanse(gir, sizeof(gir));
	if (c == NULL) {
		respond_notify(ike, sa, in->hdr.msg_id, N_NO_ADDITIONAL_SAS, NULL, 0);
		goto out;
	}
	if (old != NULL) {
		old->rekeyed = true;
		/* the peer deletes it; if it never does, it goes after a grace period */
		if (old->expire_ms > ike->now + REKEYED_GRACE_MS)
			old->expire_ms = ike->now + REKEYED_GRACE_MS;
		ike->ctr[FH_IKE_CTR_CHILD_REKEYED]++;
	}
	ike_inner_init(ike, &b);
	if (transport)
		fh_ike_add_notify(&b, 0, N_USE_TRANSPORT_MODE, NULL, 0, NULL, 0);
	ike_child_accepted_payload(&b, num, spi_in, &alg);
	fh_ike_add(&b, FH_IKE_PL_NONCE, nr, sizeof(nr));
	if (alg.dh != 0)
		fh_ike_add_ke(&b, alg.dh, pub, (size_t)pl);
	ike_add_tsl(&b, FH_IKE_PL_TSI, r);
	ike_add_tsl(&b, FH_IKE_PL_TSR, l);
	ike_respond(ike, sa, FH_IKE_CREATE_CHILD_SA, in->hdr.msg_id, &b);
out:
	free(tsi);
}

void ike_create_child_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	const struct fh_ike_payload *sap = fh_ike_find(in, FH_IKE_PL_SA), *np = fh_ike_find(in, FH_IKE_PL_NONCE);
	struct fh_ike_sa *offer;

	if (sa->state != ST_ESTABLISHED) {
		respond_notify(ike, sa, in->hdr.msg_id, N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	offer = malloc(sizeof(*offer));
	if (offer == NULL)
		return;
	if (sap == NULL || np == NULL || fh_ike_check_nonce(np->len) != 0 ||
	    fh_ike_parse_sa(sap->body, sap->len, offer) != FH_IKE_OK || offer->n == 0) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		respond_notify(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX, NULL, 0);
	} else if (offer->p[0].protocol == PROTO_IKE) {
		rekey_ike_request(ike, sa, in, offer, np);
	} else {
		child_request(ike, sa, in, offer, np);
	}
	free(offer);
}

static void retry_later(struct fh_ike *ike, struct ike_sa *sa, bool ike_sa, uint16_t err)
{
	struct ike_child *c = ike_child_by_in(sa, sa->rq_spi);

	if (err != N_TEMPORARY_FAILURE)
		ike_err(ike, "tunnel-id %u: peer refused our %s rekey (notify %u); retrying later", sa->id,
			ike_sa ? "IKE SA" : "child SA", err);
	if (ike_sa)
		sa->rekey_ms = ike->now + REKEY_RETRY_MS;
	else if (c != NULL && !c->rekeyed)
		c->rekey_ms = ike->now + REKEY_RETRY_MS;
	fh_ike_dh_free(sa->rq_dh);
	sa->rq_dh = NULL;
}

void ike_create_child_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	const struct fh_ike_payload *sap = fh_ike_find(in, FH_IKE_PL_SA), *np = fh_ike_find(in, FH_IKE_PL_NONCE),
				    *kp = fh_ike_find(in, FH_IKE_PL_KE);
	bool ike_rekey = sa->rq_new_ike_spi != 0;
	uint16_t err = ike_error_notify(in);
	struct fh_ike_sa *got = NULL;
	struct fh_ike_ke ke = {0};
	uint8_t gir[600];
	int gl = 0;

	if (err != 0 || sap == NULL || np == NULL || fh_ike_check_nonce(np->len) != 0) {
		retry_later(ike, sa, ike_rekey, err);
		return;
	}
	got = malloc(sizeof(*got));
	if (got == NULL || fh_ike_parse_sa(sap->body, sap->len, got) != FH_IKE_OK || got->n != 1 ||
	    (kp != NULL && fh_ike_parse_ke(kp->body, kp->len, &ke) != FH_IKE_OK)) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		retry_later(ike, sa, ike_rekey, N_INVALID_SYNTAX);
		free(got);
		return;
	}
	if (sa->rq_dh != NULL && kp != NULL)
		gl = fh_ike_dh_shared(sa->rq_dh, ke.data, ke.len, gir, sizeof(gir));
	if (ike_rekey) {
		struct ike_prop prop = sa->prop;
		uint64_t peer_spi = 0, mine = sa->rq_new_ike_spi; /* ours went out in the request */
		struct ike_sa *ns;

		for (int k = 0; got->p[0].spi_len == 8 && k < 8; k++)
			peer_spi = peer_spi << 8 | got->p[0].spi[k];
		sa->rq_new_ike_spi = 0;
		if (got->p[0].protocol != PROTO_IKE || peer_spi == 0 || kp == NULL || ke.group != prop.dh || gl <= 0 ||
		    (ns = rekeyed_sa(ike, sa, true, mine, peer_spi, &prop)) == NULL) {
			retry_later(ike, sa, true, N_INVALID_SYNTAX);
			free(got);
			return;
		}
		if (rekey_keys(sa, ns, gir, (size_t)gl, sa->rq_nonce, IKE_NONCE_LEN, np->body, np->len) < 0) {
			ike_sa_kill(ike, ns, "rekey failed");
			retry_later(ike, sa, true, N_INVALID_SYNTAX);
		} else {
			adopt(ike, sa, ns);
			sa->want_delete_ike = true; /* the old one goes: we started the rekey */
		}
	} else {
		struct ike_child *old = ike_child_by_in(sa, sa->rq_spi);
		struct ike_child_alg alg;
		uint32_t peer_spi;
		const struct fh_ike_payload *tsip = fh_ike_find(in, FH_IKE_PL_TSI), *tsrp = fh_ike_find(in, FH_IKE_PL_TSR);
		struct fh_ike_tsl *tsi = malloc(sizeof(*tsi)), *tsr = malloc(sizeof(*tsr));
		struct ike_child *c = NULL;

		if (tsi != NULL && tsr != NULL && tsip != NULL && tsrp != NULL &&
		    fh_ike_parse_ts(tsip->body, tsip->len, tsi) == FH_IKE_OK &&
		    fh_ike_parse_ts(tsrp->body, tsrp->len, tsr) == FH_IKE_OK && tsi->n > 0 && tsr->n > 0 &&
		    ike_child_check_accepted(ike, sa, got, &alg, &peer_spi, true) == 0 && (alg.dh == 0 || gl > 0))
			c = ike_child_install(ike, sa, &alg, sa->rq_new_spi, peer_spi,
					      old != NULL && old->transport && ike_has_notify(in, N_USE_TRANSPORT_MODE),
					      true, sa->rq_nonce, IKE_NONCE_LEN, np->body, np->len, alg.dh ? gir : NULL,
					      alg.dh ? (size_t)gl : 0, &tsi->ts[0], &tsr->ts[0], false);
		free(tsi);
		free(tsr);
		if (c == NULL) {
			retry_later(ike, sa, false, N_INVALID_SYNTAX);
		} else if (old == NULL || old->rekeyed) {
			/* the peer rekeyed it meanwhile (or it is gone): ours is the extra pair */
			if (sa->n_delq < IKE_DELQ_MAX)
				sa->delq[sa->n_delq++] = c->spi_in;
		} else {
			old->rekeyed = true;
			if (sa->n_delq < IKE_DELQ_MAX)
				sa->delq[sa->n_delq++] = old->spi_in;
			ike->ctr[FH_IKE_CTR_CHILD_REKEYED]++;
		}
	}
	OPENSSL_cleanse(gir, sizeof(gir));
	fh_ike_dh_free(sa->rq_dh);
	sa->rq_dh = NULL;
	free(got);
}
