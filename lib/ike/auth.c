/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_AUTH with pre-shared keys (RFC 7296 2.15): each side signs its own IKE_SA_INIT message, the
 * peer's nonce and its identity with its local key; keys may differ per direction (IOS
 * "pre-shared-key local|remote"). The first child SA rides along.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_int.h"

#define KEY_PAD "Key Pad for IKEv2"

/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID')); returns its length. */
static int psk_auth(const struct ike_sa *sa, const char *psk, const uint8_t *msg, size_t msg_len,
		    const uint8_t *nonce, size_t nonce_len, const uint8_t *sk_p, const uint8_t *id, size_t id_len,
		    uint8_t *out)
{
	uint16_t prf = sa->prop.prf;
	size_t h = fh_ike_prf_len(prf);
	uint8_t macid[64], key[64];
	uint8_t *octets = malloc(msg_len + nonce_len + h);
	int rc = -1;

	if (octets == NULL || h == 0 || psk[0] == '\0')
		goto out;
	if (fh_ike_prf(prf, sk_p, sa->k.prf_len, id, id_len, macid) < 0 ||
	    fh_ike_prf(prf, (const uint8_t *)psk, strlen(psk), (const uint8_t *)KEY_PAD, strlen(KEY_PAD), key) < 0)
		goto out;
	memcpy(octets, msg, msg_len);
	memcpy(octets + msg_len, nonce, nonce_len);
	memcpy(octets + msg_len + nonce_len, macid, h);
	if (fh_ike_prf(prf, key, h, octets, msg_len + nonce_len + h, out) >= 0)
		rc = (int)h;
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(octets);
	return rc;
}

static const struct fh_cfg_peer *peer_of(const struct fh_ike *ike, const struct ike_sa *sa)
{
	if (sa->profile < 0 || sa->peer < 0)
		return NULL;
	return &ike->cfg->keyring[ike->cfg->ike_profile[sa->profile].keyring_idx].peer[sa->peer];
}

static const char *psk_local(const struct fh_cfg_peer *p)
{
	return p->psk_local[0] ? p->psk_local : p->psk;
}

static const char *psk_remote(const struct fh_cfg_peer *p)
{
	return p->psk_remote[0] ? p->psk_remote : p->psk;
}

static void add_auth(struct fh_ike_builder *b, const uint8_t *auth, int len)
{
	uint8_t *p = fh_ike_add(b, FH_IKE_PL_AUTH, NULL, 4 + (size_t)len);

	if (p == NULL)
		return;
	p[0] = AUTH_PSK;
	p[1] = p[2] = p[3] = 0;
	memcpy(p + 4, auth, (size_t)len);
}

/* Is another IKE SA with this peer up? If not, INITIAL_CONTACT tells it to drop stale ones. */
static bool first_contact(struct fh_ike *ike, const struct ike_sa *sa)
{
	for (struct ike_sa *o = ike_sa_first(ike, IX_PEER, sa->remote.ip, 0); o != NULL;
	     o = ike_sa_next_same(ike, IX_PEER, o))
		if (o != sa && o->used && o->state == ST_ESTABLISHED && o->remote.ip == sa->remote.ip)
			return false;
	return true;
}

static bool want_transport(const struct fh_ike *ike, const struct ike_sa *sa)
{
	const struct fh_cfg_ipsec_profile *ip;

	if (sa->ipsec_profile < 0)
		return false;
	ip = &ike->cfg->ipsec_profile[sa->ipsec_profile];
	return ip->n_transform_set > 0 && ip->ts_idx[0] >= 0 &&
	       ike->cfg->transform_set[ip->ts_idx[0]].mode == FH_ESP_TRANSPORT;
}

void ike_auth_send(struct fh_ike *ike, struct ike_sa *sa)
{
	struct fh_ike_builder b;
	uint8_t id[4 + FH_NAME_MAX], auth[64];
	size_t id_len;
	struct fh_ike_ts l, r;
	const struct fh_cfg_peer *p;
	int al;

	sa->peer = ike_keyring_peer(ike->cfg, sa->profile, NULL, sa->remote.ip);
	p = peer_of(ike, sa);
	if (p == NULL || psk_local(p)[0] == '\0') {
		ike->ctr[FH_IKE_CTR_NO_PROFILE]++;
		ike_err(ike, "tunnel-id %u: no pre-shared key for %u.%u.%u.%u in the keyring", sa->id, sa->remote.ip >> 24,
			(sa->remote.ip >> 16) & 0xff, (sa->remote.ip >> 8) & 0xff, sa->remote.ip & 0xff);
		ike_sa_kill(ike, sa, "no key");
		return;
	}
	ike_local_id(ike->cfg, sa->profile, sa->local.ip, id, &id_len);
	{
		struct fh_ike_id v = {.type = id[0], .data = id + 4, .len = (uint16_t)(id_len - 4)};

		ike_id_str(&v, sa->local_id, sizeof(sa->local_id));
	}
	al = psk_auth(sa, psk_local(p), sa->init_req, sa->init_req_len, sa->nr, sa->nr_len, sa->k.sk_pi, id, id_len, auth);
	if (al < 0) {
		ike_sa_kill(ike, sa, "cannot compute AUTH");
		return;
	}
	sa->rq_new_spi = ike_new_spi(ike);
	ike_inner_init(ike, &b);
	fh_ike_add(&b, FH_IKE_PL_IDI, id, id_len);
	if (first_contact(ike, sa))
		fh_ike_add_notify(&b, 0, N_INITIAL_CONTACT, NULL, 0, NULL, 0);
	add_auth(&b, auth, al);
	if (want_transport(ike, sa))
		fh_ike_add_notify(&b, 0, N_USE_TRANSPORT_MODE, NULL, 0, NULL, 0);
	if (ike_child_sa_payload(ike, sa, &b, sa->rq_new_spi, 0) < 0) {
		ike_sa_kill(ike, sa, "no transform set for the child SA");
		return;
	}
	ike_ts_ours(ike, sa, &l, &r);
	ike_add_ts(&b, FH_IKE_PL_TSI, &l);
	ike_add_ts(&b, FH_IKE_PL_TSR, &r);
	{
		struct fh_ike_modecfg req;

		if (ike_cp_request(ike, sa, &req)) {
			ike_cp_add(&b, CFG_REQUEST, &req);
			ike_cp_debug(sa, "CFG_REQUEST sent", &req);
		}
	}
	if (ike_request(ike, sa, FH_IKE_AUTH, RQ_AUTH, &b) < 0)
		ike_sa_kill(ike, sa, "cannot send IKE_AUTH");
}

/* Bookkeeping once IKE_AUTH completed, either role. */
static void sa_up(struct fh_ike *ike, struct ike_sa *sa)
{
	uint32_t life = sa->profile >= 0 ? ike->cfg->ike_profile[sa->profile].lifetime : 86400;
	uint64_t soft = ike_soft_ms(life, sa->initiator);

	sa->state = ST_ESTABLISHED;
	sa->established_ms = ike->now;
	sa->expire_ms = ike->now + (uint64_t)life * 1000;
	sa->rekey_ms = ike->now + soft;
	free(sa->init_req);
	free(sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	ike->ctr[FH_IKE_CTR_SA_ESTABLISHED]++;
	fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: IKE SA with %s (%u.%u.%u.%u:%u) established as %s", sa->id,
	       sa->remote_id, sa->remote.ip >> 24, (sa->remote.ip >> 16) & 0xff, (sa->remote.ip >> 8) & 0xff,
	       sa->remote.ip & 0xff, sa->remote.port, sa->initiator ? "initiator" : "responder");
	ike_established(ike, sa);
}

bool ike_has_notify(const struct fh_ike_msg *m, uint16_t type)
{
	for (uint8_t i = 0; i < m->n; i++) {
		struct fh_ike_notify n;

		if (m->pl[i].type == FH_IKE_PL_NOTIFY && fh_ike_parse_notify(m->pl[i].body, m->pl[i].len, &n) == FH_IKE_OK &&
		    n.type == type)
			return true;
	}
	return false;
}

/* The first error notify of a message, 0 when there is none. */
uint16_t ike_error_notify(const struct fh_ike_msg *m)
{
	for (uint8_t i = 0; i < m->n; i++) {
		struct fh_ike_notify n;

		if (m->pl[i].type == FH_IKE_PL_NOTIFY && fh_ike_parse_notify(m->pl[i].body, m->pl[i].len, &n) == FH_IKE_OK &&
		    n.type < 16384)
			return n.type;
	}
	return 0;
}

static void respond_error(struct fh_ike *ike, struct ike_sa *sa, uint32_t msg_id, uint16_t type)
{
	struct fh_ike_builder b;

	ike_inner_init(ike, &b);
	fh_ike_add_notify(&b, 0, type, NULL, 0, NULL, 0);
	ike_respond(ike, sa, FH_IKE_AUTH, msg_id, &b);
}

static bool check_auth(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_payload *ap,
		       const struct fh_ike_payload *idp, bool from_initiator)
{
	const struct fh_cfg_peer *p = peer_of(ike, sa);
	uint8_t want[64];
	int wl;

	if (p == NULL || ap->len < 5 || ap->body[0] != AUTH_PSK)
		return false;
	if (from_initiator)
		wl = psk_auth(sa, psk_remote(p), sa->init_req, sa->init_req_len, sa->nr, sa->nr_len, sa->k.sk_pi, idp->body,
			      idp->len, want);
	else
		wl = psk_auth(sa, psk_remote(p), sa->init_resp, sa->init_resp_len, sa->ni, sa->ni_len, sa->k.sk_pr,
			      idp->body, idp->len, want);
	return wl > 0 && (size_t)wl == (size_t)ap->len - 4 && CRYPTO_memcmp(want, ap->body + 4, (size_t)wl) == 0;
}

/* The ipsec profile a responder's child SAs follow: the tunnel's (a Virtual-Access: its
 * template's tunnel protection), else one naming the profile. */
static int ipsec_profile_for(const struct fh_ike *ike, const struct ike_sa *sa)
{
	const struct fh_config *cfg = ike->cfg;
	int ip = -1, ti = ike_sa_tun_idx(ike, sa);

	if (ti >= 0 && ike_profile_for_tunnel(cfg, ti, &ip) >= 0)
		return ip;
	if (sa->va && sa->profile >= 0 && cfg->ike_profile[sa->profile].vtemplate_if_idx >= 0 &&
	    cfg->iface[cfg->ike_profile[sa->profile].vtemplate_if_idx].protection_idx >= 0)
		return cfg->iface[cfg->ike_profile[sa->profile].vtemplate_if_idx].protection_idx;
	for (uint32_t i = 0; i < cfg->n_ipsec_profile; i++)
		if (cfg->ipsec_profile[i].ike_profile_idx == sa->profile)
			return (int)i;
	return -1;
}

/* A second IKE_AUTH of an identity that has a session with us: a spoke that rebooted (it says
 * INITIAL_CONTACT, or comes from the same address and port) replaces its old session, whose
 * address it then gets again. Other peers that share an identity keep theirs. */
static void replace_old(struct fh_ike *ike, struct ike_sa *sa)
{
	struct ike_sa *o, *next;

	for (o = ike_sa_first(ike, IX_RID, ike_rid_key(sa->remote_id), 0); o != NULL; o = next) {
		next = ike_sa_next_same(ike, IX_RID, o);
		if (o == sa || !o->used || o->state != ST_ESTABLISHED || !o->sess || strcmp(o->remote_id, sa->remote_id) != 0)
			continue;
		if (!sa->initial_contact && (o->remote.ip != sa->remote.ip || o->remote.port != sa->remote.port))
			continue;
		ike->ctr[FH_IKE_CTR_REPLACED]++;
		fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: %s authenticated again (tunnel-id %u): old session replaced",
		       o->id, sa->remote_id, sa->id);
		ike_start_delete_ike(ike, o);
		ike_sa_kill(ike, o, "replaced by a new session of the same identity");
	}
}

/* The responder's session: a Virtual-Access for a peer without a configured tunnel, mode-config.
 * Returns the notify refusing the children, 0 when they may go on. */
static uint16_t responder_session(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in,
				  const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr, bool *send_cp,
				  struct fh_ike_modecfg *reply)
{
	const struct fh_cfg_ike_profile *prof = &ike->cfg->ike_profile[sa->profile];
	struct fh_ike_session s = {.ike_id = sa->id, .tunnel = sa->tunnel, .profile = sa->profile,
				   .vtemplate = -1, .authz = -1, .local = sa->local, .remote = sa->remote,
				   .remote_id = sa->remote_id};
	bool need_va = sa->tunnel == 0 && prof->virtual_template != 0 && prof->vtemplate_if_idx >= 0;
	int cp = ike_cp_get(ike, in, CFG_REQUEST, &s.cfg);

	*send_cp = false;
	if (sa->tunnel == 0 && !need_va) {
		ike_err(ike, "IKE_AUTH from %s: no tunnel interface toward %u.%u.%u.%u and profile %s has no "
			     "virtual-template; TS_UNACCEPTABLE", sa->remote_id, sa->remote.ip >> 24,
			(sa->remote.ip >> 16) & 0xff, (sa->remote.ip >> 8) & 0xff, sa->remote.ip & 0xff, prof->hdr.name);
		return N_TS_UNACCEPTABLE;
	}
	if (!need_va && cp != 1)
		return 0;
	s.has_cfg = cp == 1;
	if (s.has_cfg)
		ike_cp_debug(sa, "CFG_REQUEST received", &s.cfg);
	if (need_va)
		s.vtemplate = prof->vtemplate_if_idx;
	if (prof->aaa.present)
		s.authz = prof->aaa.policy_idx;
	if (tsi != NULL && tsr != NULL)
		s.gre = ike_ts_is_gre(tsi, tsr, sa->local.ip, &s.gre_peer);
	if (ike->ops->session_up(ike->ctx, &s) < 0) {
		ike->ctr[FH_IKE_CTR_SESSION_REFUSED]++;
		return s.notify != 0 ? s.notify : N_TEMPORARY_FAILURE;
	}
	sa->sess = true;
	if (need_va) {
		sa->tunnel = s.tunnel;
		sa->va = true;
		sa->va_gre = s.gre;
		sa->va_peer = s.gre_peer;
	}
	sa->cfg_addr = s.has_cfg ? s.reply.addr : 0;
	sa->n_push = s.has_cfg ? s.reply.n_net : 0;
	memcpy(sa->push, s.reply.net, sizeof(sa->push));
	ike_sa_touch(ike, sa);
	*send_cp = s.has_cfg;
	*reply = s.reply;
	return 0;
}

void ike_auth_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	const struct fh_ike_payload *idp = fh_ike_find(in, FH_IKE_PL_IDI), *ap = fh_ike_find(in, FH_IKE_PL_AUTH),
				    *sap = fh_ike_find(in, FH_IKE_PL_SA), *tsip = fh_ike_find(in, FH_IKE_PL_TSI),
				    *tsrp = fh_ike_find(in, FH_IKE_PL_TSR);
	struct fh_ike_id id;
	struct fh_ike_builder b;
	uint8_t myid[4 + FH_NAME_MAX], auth[64];
	size_t myid_len;
	uint16_t child_err = 0;
	struct ike_child_alg alg = {0};
	uint32_t peer_spi = 0, spi_in = 0;
	uint8_t num = 0;
	struct fh_ike_sa *offer = NULL;
	struct fh_ike_tsl *ts = NULL; /* the initiator's TSi, TSr; our choice l, r */
	struct fh_ike_modecfg reply;
	bool transport = false, send_cp = false, parsed = false;
	int al;

	if (idp == NULL || ap == NULL || fh_ike_parse_id(idp->body, idp->len, &id) != FH_IKE_OK) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		respond_error(ike, sa, in->hdr.msg_id, N_INVALID_SYNTAX);
		ike_sa_kill(ike, sa, "IKE_AUTH without identity or AUTH");
		return;
	}
	ike_id_str(&id, sa->remote_id, sizeof(sa->remote_id));
	sa->profile = ike_profile_for_id(ike->cfg, &id, sa->remote.ip);
	sa->keyring = sa->profile >= 0 ? ike->cfg->ike_profile[sa->profile].keyring_idx : -1;
	sa->peer = ike_keyring_peer(ike->cfg, sa->profile, &id, sa->remote.ip);
	if (sa->profile < 0 || sa->peer < 0) {
		ike->ctr[FH_IKE_CTR_NO_PROFILE]++;
		ike->ctr[FH_IKE_CTR_AUTH_FAILED]++;
		ike_err(ike, "IKE_AUTH from %s: no profile or keyring entry matches; AUTHENTICATION_FAILED", sa->remote_id);
		respond_error(ike, sa, in->hdr.msg_id, N_AUTHENTICATION_FAILED);
		ike_sa_kill(ike, sa, "no matching profile");
		return;
	}
	if (!check_auth(ike, sa, ap, idp, true)) {
		ike->ctr[FH_IKE_CTR_AUTH_FAILED]++;
		ike_err(ike, "IKE_AUTH from %s: pre-shared key does not match; AUTHENTICATION_FAILED", sa->remote_id);
		respond_error(ike, sa, in->hdr.msg_id, N_AUTHENTICATION_FAILED);
		ike_sa_kill(ike, sa, "authentication failed");
		return;
	}
	sa->initial_contact = ike_has_notify(in, N_INITIAL_CONTACT);
	sa->authed = true;
	ike_sa_reindex(ike, sa);
	replace_old(ike, sa);
	sa->tunnel = ike_tunnel_for_peer(ike, sa->profile, sa->remote.ip, sa->local.ip);
	if (sa->tunnel == 0 && id.type == 1 && id.len == 4)
		sa->tunnel = ike_tunnel_for_peer(ike, sa->profile, ike_be32(id.data), sa->local.ip);
	ike_sa_reindex(ike, sa);

	/* the child SA: problems with it do not undo the IKE SA (RFC 7296 1.2) */
	if (sap != NULL && tsip != NULL && tsrp != NULL) {
		offer = malloc(sizeof(*offer));
		ts = malloc(4 * sizeof(*ts));
		parsed = offer != NULL && ts != NULL && fh_ike_parse_sa(sap->body, sap->len, offer) == FH_IKE_OK &&
			 fh_ike_parse_ts(tsip->body, tsip->len, &ts[0]) == FH_IKE_OK &&
			 fh_ike_parse_ts(tsrp->body, tsrp->len, &ts[1]) == FH_IKE_OK;
	}
	child_err = responder_session(ike, sa, in, parsed ? &ts[0] : NULL, parsed ? &ts[1] : NULL, &send_cp, &reply);
	sa->ipsec_profile = ipsec_profile_for(ike, sa);
	if (child_err != 0) {
		/* said and counted already */
	} else if (sap == NULL || tsip == NULL || tsrp == NULL) {
		child_err = N_NO_PROPOSAL_CHOSEN;
	} else if (!parsed) {
		child_err = N_INVALID_SYNTAX;
	} else if (ike_child_pick(ike, sa, offer, &alg, &peer_spi, &num, false) < 0) {
		child_err = N_NO_PROPOSAL_CHOSEN;
	} else if (!ike_ts_pick(ike, sa, &ts[0], &ts[1], &ts[2], &ts[3])) {
		child_err = N_TS_UNACCEPTABLE;
		ike_err(ike, "IKE_AUTH from %s: its traffic selectors do not fit %s; TS_UNACCEPTABLE", sa->remote_id,
			sa->va ? "the session's Virtual-Access" : "the tunnel");
	}
	if (child_err == N_NO_PROPOSAL_CHOSEN)
		ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
	if (child_err == N_TS_UNACCEPTABLE)
		ike->ctr[FH_IKE_CTR_TS_UNACCEPTABLE]++;
	if (child_err == 0) {
		transport = ike_has_notify(in, N_USE_TRANSPORT_MODE) && want_transport(ike, sa);
		spi_in = ike_new_spi(ike);
		if (ike_child_install(ike, sa, &alg, spi_in, peer_spi, transport, false, sa->ni, sa->ni_len, sa->nr,
				      sa->nr_len, NULL, 0, &ts[2].ts[0], &ts[3].ts[0], false) == NULL)
			child_err = N_TEMPORARY_FAILURE;
	}

	ike_local_id(ike->cfg, sa->profile, sa->local.ip, myid, &myid_len);
	{
		struct fh_ike_id v = {.type = myid[0], .data = myid + 4, .len = (uint16_t)(myid_len - 4)};

		ike_id_str(&v, sa->local_id, sizeof(sa->local_id));
	}
	al = psk_auth(sa, psk_local(peer_of(ike, sa)), sa->init_resp, sa->init_resp_len, sa->ni, sa->ni_len, sa->k.sk_pr,
		      myid, myid_len, auth);
	if (al < 0) {
		free(offer);
		free(ts);
		respond_error(ike, sa, in->hdr.msg_id, N_AUTHENTICATION_FAILED);
		ike_sa_kill(ike, sa, "no local key");
		return;
	}
	ike_inner_init(ike, &b);
	fh_ike_add(&b, FH_IKE_PL_IDR, myid, myid_len);
	add_auth(&b, auth, al);
	if (send_cp) {
		ike_cp_add(&b, CFG_REPLY, &reply);
		ike_cp_debug(sa, "CFG_REPLY sent", &reply);
	}
	if (child_err != 0) {
		fh_ike_add_notify(&b, 0, child_err, NULL, 0, NULL, 0);
	} else {
		if (transport)
			fh_ike_add_notify(&b, 0, N_USE_TRANSPORT_MODE, NULL, 0, NULL, 0);
		ike_child_accepted_payload(&b, num, spi_in, &alg);
		ike_add_tsl(&b, FH_IKE_PL_TSI, &ts[3]);
		ike_add_tsl(&b, FH_IKE_PL_TSR, &ts[2]);
	}
	free(offer);
	free(ts);
	if (ike->half_open > 0)
		ike->half_open--;
	sa->state = ST_ESTABLISHED; /* before the response: a retransmitted IKE_AUTH gets it again */
	ike_respond(ike, sa, FH_IKE_AUTH, in->hdr.msg_id, &b);
	sa_up(ike, sa);
}

/* What the responder's CFG_REPLY gave us (an address for "ip address negotiated", networks to
 * route into the tunnel), handed to the caller; false when the SA goes. */
static bool initiator_session(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	struct fh_ike_session s = {.ike_id = sa->id, .initiator = true, .tunnel = sa->tunnel, .profile = sa->profile,
				   .vtemplate = -1, .authz = -1, .local = sa->local, .remote = sa->remote,
				   .remote_id = sa->remote_id};
	struct fh_ike_modecfg req;
	bool asked = ike_cp_request(ike, sa, &req);

	if (ike_cp_get(ike, in, CFG_REPLY, &s.cfg) != 1) {
		if (asked && req.want_addr) {
			ike_err(ike, "tunnel-id %u: %s gave no address for the negotiated tunnel address; deleting",
				sa->id, sa->remote_id);
			sa->want_delete_ike = true;
			return false;
		}
		return true;
	}
	if (!asked)
		return true; /* a reply to nothing: RFC 7296 3.15 lets us ignore it */
	s.has_cfg = true;
	ike_cp_debug(sa, "CFG_REPLY received", &s.cfg);
	if (sa->profile >= 0 && ike->cfg->ike_profile[sa->profile].aaa.present)
		s.authz = ike->cfg->ike_profile[sa->profile].aaa.policy_idx;
	if (ike->ops->session_up(ike->ctx, &s) < 0) {
		ike->ctr[FH_IKE_CTR_SESSION_REFUSED]++;
		ike_err(ike, "tunnel-id %u: the mode-config from %s could not be applied; deleting", sa->id, sa->remote_id);
		sa->want_delete_ike = true;
		return false;
	}
	sa->sess = true;
	sa->cfg_addr = s.cfg.addr;
	return true;
}

void ike_auth_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	const struct fh_ike_payload *idp = fh_ike_find(in, FH_IKE_PL_IDR), *ap = fh_ike_find(in, FH_IKE_PL_AUTH),
				    *sap = fh_ike_find(in, FH_IKE_PL_SA), *tsip = fh_ike_find(in, FH_IKE_PL_TSI),
				    *tsrp = fh_ike_find(in, FH_IKE_PL_TSR);
	uint16_t err = ike_error_notify(in);
	struct fh_ike_id id;
	struct ike_child_alg alg;
	uint32_t peer_spi;

	if (err == N_AUTHENTICATION_FAILED || idp == NULL || ap == NULL) {
		if (err == N_AUTHENTICATION_FAILED)
			ike->ctr[FH_IKE_CTR_AUTH_FAILED]++;
		ike_err(ike, "tunnel-id %u: peer refused IKE_AUTH (notify %u)", sa->id, err);
		ike_sa_kill(ike, sa, "IKE_AUTH refused");
		return;
	}
	if (fh_ike_parse_id(idp->body, idp->len, &id) != FH_IKE_OK) {
		ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
		ike_sa_kill(ike, sa, "malformed IDr");
		return;
	}
	ike_id_str(&id, sa->remote_id, sizeof(sa->remote_id));
	if (!ike_id_matches(ike->cfg, sa->profile, &id) || !check_auth(ike, sa, ap, idp, false)) {
		ike->ctr[FH_IKE_CTR_AUTH_FAILED]++;
		ike_err(ike, "tunnel-id %u: responder %s failed authentication (identity or pre-shared key)", sa->id,
			sa->remote_id);
		/* RFC 7296 2.21.2: the responder thinks the SA is up; tell it to drop it */
		ike_start_delete_ike(ike, sa);
		ike_sa_kill(ike, sa, "responder not authenticated");
		return;
	}
	sa->authed = true;
	sa_up(ike, sa);
	if (!initiator_session(ike, sa, in))
		return;
	if (err != 0 || sap == NULL || tsip == NULL || tsrp == NULL) {
		if (err == N_NO_PROPOSAL_CHOSEN)
			ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
		if (err == N_TS_UNACCEPTABLE)
			ike->ctr[FH_IKE_CTR_TS_UNACCEPTABLE]++;
		ike_err(ike, "tunnel-id %u: IKE SA up but the peer refused the child SA (notify %u); deleting", sa->id, err);
		sa->want_delete_ike = true;
		return;
	}
	{
		struct fh_ike_sa *got = malloc(sizeof(*got));
		struct fh_ike_tsl *tsi = malloc(sizeof(*tsi)), *tsr = malloc(sizeof(*tsr));
		bool ok = got != NULL && tsi != NULL && tsr != NULL && fh_ike_parse_sa(sap->body, sap->len, got) == FH_IKE_OK &&
			  fh_ike_parse_ts(tsip->body, tsip->len, tsi) == FH_IKE_OK &&
			  fh_ike_parse_ts(tsrp->body, tsrp->len, tsr) == FH_IKE_OK && tsi->n > 0 && tsr->n > 0 &&
			  ike_child_check_accepted(ike, sa, got, &alg, &peer_spi, false) == 0;

		if (ok && ike_child_install(ike, sa, &alg, sa->rq_new_spi, peer_spi,
					    ike_has_notify(in, N_USE_TRANSPORT_MODE) && want_transport(ike, sa), true, sa->ni,
					    sa->ni_len, sa->nr, sa->nr_len, NULL, 0, &tsi->ts[0], &tsr->ts[0], false) == NULL)
			ok = false;
		free(got);
		free(tsi);
		free(tsr);
		if (!ok) {
			ike->ctr[FH_IKE_CTR_NO_PROPOSAL]++;
			ike_err(ike, "tunnel-id %u: the child SA the peer accepted is not one we offered; deleting", sa->id);
			sa->want_delete_ike = true;
		}
	}
}
