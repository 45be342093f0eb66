/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the running config allows: IKE proposals by policy (match address local), profiles by
 * tunnel or by the peer's identity, keyring entries by identity or address, and identities.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ike_int.h"

static const struct {
	uint16_t id, bits;
} encr_map[] = {
	[FH_ENCR_AES_CBC_128] = {FH_IKE_ENCR_AES_CBC, 128}, [FH_ENCR_AES_CBC_192] = {FH_IKE_ENCR_AES_CBC, 192},
	[FH_ENCR_AES_CBC_256] = {FH_IKE_ENCR_AES_CBC, 256}, [FH_ENCR_AES_GCM_128] = {FH_IKE_ENCR_AES_GCM_16, 128},
	[FH_ENCR_AES_GCM_256] = {FH_IKE_ENCR_AES_GCM_16, 256}, [FH_ENCR_NULL] = {11, 0},
};
static const uint16_t integ_map[] = {
	[FH_INTEG_NONE] = FH_IKE_INTEG_NONE, [FH_INTEG_SHA1_96] = FH_IKE_INTEG_SHA1_96,
	[FH_INTEG_SHA256_128] = FH_IKE_INTEG_SHA256_128, [FH_INTEG_SHA384_192] = FH_IKE_INTEG_SHA384_192,
	[FH_INTEG_SHA512_256] = FH_IKE_INTEG_SHA512_256,
};
static const uint16_t prf_map[] = {
	[FH_PRF_SHA1] = FH_IKE_PRF_SHA1, [FH_PRF_SHA256] = FH_IKE_PRF_SHA256,
	[FH_PRF_SHA384] = FH_IKE_PRF_SHA384, [FH_PRF_SHA512] = FH_IKE_PRF_SHA512,
};

uint16_t ike_encr_id(uint8_t e, uint16_t *bits)
{
	*bits = encr_map[e].bits;
	return encr_map[e].id;
}

uint16_t ike_integ_id(uint8_t i)
{
	return integ_map[i];
}

/* The policy for a local address: the first whose "match address local" has it, else the first
 * without a match (IOS's default policy). */
static int policy_for(const struct fh_config *cfg, uint32_t local)
{
	int any = -1;

	for (uint32_t i = 0; i < cfg->n_ike_policy; i++) {
		const struct fh_cfg_ike_policy *p = &cfg->ike_policy[i];

		if (p->n_match_local == 0 && any < 0)
			any = (int)i;
		for (uint32_t k = 0; k < p->n_match_local; k++)
			if (((local ^ p->match_local[k].addr) & fh_prefix_mask(p->match_local[k].len)) == 0)
				return (int)i;
	}
	return any;
}

/* The proposals of the policy for local, as the SA payload of an IKE_SA_INIT request. The first
 * proposal's first group is the one our KE uses unless the peer asked for another. */
int ike_offer(const struct fh_ike *ike, uint32_t local, struct fh_ike_builder *b, const uint8_t *spi, uint8_t spi_len)
{
	const struct fh_config *cfg = ike->cfg;
	int pol = policy_for(cfg, local);
	struct fh_ike_prop_spec ps[FH_LIST_MAX];
	struct fh_ike_xf_spec xf[FH_LIST_MAX][4 * FH_LIST_MAX];
	uint8_t n = 0;

	if (pol < 0)
		return -1;
	for (uint32_t i = 0; i < cfg->ike_policy[pol].n_proposal && n < FH_LIST_MAX; i++) {
		int pi = cfg->ike_policy[pol].proposal_idx[i];
		const struct fh_cfg_proposal *cp;
		uint8_t k = 0;

		if (pi < 0)
			continue;
		cp = &cfg->proposal[pi];
		for (uint32_t j = 0; j < cp->n_encr; j++)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_ENCR, encr_map[cp->encr[j]].id, encr_map[cp->encr[j]].bits};
		for (uint32_t j = 0; j < cp->n_prf; j++)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_PRF, prf_map[cp->prf[j]], 0};
		for (uint32_t j = 0; j < cp->n_integ; j++)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_INTEG, integ_map[cp->integ[j]], 0};
		for (uint32_t j = 0; j < cp->n_group; j++)
			xf[n][k++] = (struct fh_ike_xf_spec){XF_DH, (uint16_t)cp->group[j], 0};
		ps[n] = (struct fh_ike_prop_spec){.num = (uint8_t)(n + 1), .protocol = PROTO_IKE, .spi = spi,
						  .spi_len = spi_len, .xf = xf[n], .n = k};
		n++;
	}
	return fh_ike_add_sa_multi(b, ps, n) ? 0 : -1;
}

/* The group our first KE carries: the first of the first proposal. */
uint16_t ike_first_group(const struct fh_ike *ike, uint32_t local)
{
	const struct fh_config *cfg = ike->cfg;
	int pol = policy_for(cfg, local);

	if (pol < 0 || cfg->ike_policy[pol].n_proposal == 0 || cfg->ike_policy[pol].proposal_idx[0] < 0)
		return 0;
	return (uint16_t)cfg->proposal[cfg->ike_policy[pol].proposal_idx[0]].group[0];
}

/* Is a group one of the policy's? */
bool ike_group_allowed(const struct fh_ike *ike, uint32_t local, uint16_t g)
{
	const struct fh_config *cfg = ike->cfg;
	int pol = policy_for(cfg, local);

	for (uint32_t i = 0; pol >= 0 && i < cfg->ike_policy[pol].n_proposal; i++) {
		int pi = cfg->ike_policy[pol].proposal_idx[i];

		for (uint32_t j = 0; pi >= 0 && j < cfg->proposal[pi].n_group; j++)
			if (cfg->proposal[pi].group[j] == g)
				return true;
	}
	return false;
}

/* Does one of our proposals allow this combination? */
static bool allowed(const struct fh_cfg_proposal *cp, const struct ike_prop *p)
{
	bool e = false, r = false, i = cp->n_integ == 0 && p->integ == 0, d = false;

	for (uint32_t j = 0; j < cp->n_encr; j++)
		e |= encr_map[cp->encr[j]].id == p->encr && encr_map[cp->encr[j]].bits == p->key_bits;
	for (uint32_t j = 0; j < cp->n_prf; j++)
		r |= prf_map[cp->prf[j]] == p->prf;
	for (uint32_t j = 0; j < cp->n_integ; j++)
		i |= integ_map[cp->integ[j]] == p->integ;
	for (uint32_t j = 0; j < cp->n_group; j++)
		d |= cp->group[j] == p->dh;
	return e && r && i && d;
}

bool ike_prop_allowed(const struct fh_ike *ike, uint32_t local, const struct ike_prop *p)
{
	const struct fh_config *cfg = ike->cfg;
	int pol = policy_for(cfg, local);

	for (uint32_t i = 0; pol >= 0 && i < cfg->ike_policy[pol].n_proposal; i++) {
		int pi = cfg->ike_policy[pol].proposal_idx[i];

		if (pi >= 0 && allowed(&cfg->proposal[pi], p))
			return true;
	}
	return false;
}

/*
 * The responder's choice (RFC 7296 2.7): the first of the peer's IKE proposals of which we allow
 * one transform of each type; within it, the peer's order. The group of the peer's KE wins when
 * the proposal has it, so no extra round trip is needed.
 */
bool ike_prop_pick(const struct fh_ike *ike, uint32_t local, const struct fh_ike_sa *offer, struct ike_prop *out,
		   uint16_t ke_group)
{
	for (uint8_t i = 0; i < offer->n; i++) {
		const struct fh_ike_proposal *pp = &offer->p[i];
		uint16_t groups[FH_IKE_TRANSFORMS_MAX];
		uint8_t ng = 0;
		struct ike_prop c = {.num = pp->num};
		bool has_integ = false;

		if (pp->protocol != PROTO_IKE)
			continue;
		for (uint8_t t = 0; t < pp->n_xf; t++) {
			if (pp->xf[t].type == XF_DH)
				groups[ng++] = pp->xf[t].id;
			has_integ |= pp->xf[t].type == XF_INTEG;
		}
		/* try KE's group first, then the others in the peer's order */
		for (int gi = -1; gi < ng; gi++) {
			uint16_t g = gi < 0 ? ke_group : groups[gi];
			bool in_offer = false;

			for (uint8_t k = 0; k < ng; k++)
				in_offer |= groups[k] == g;
			if (!in_offer)
				continue;
			for (uint8_t a = 0; a < pp->n_xf; a++) {
				if (pp->xf[a].type != XF_ENCR)
					continue;
				for (uint8_t b = 0; b < pp->n_xf; b++) {
					if (pp->xf[b].type != XF_PRF)
						continue;
					for (int ci = -1; ci < pp->n_xf; ci++) {
						/* with integrity transforms one of them, without none */
						if (ci >= 0 ? pp->xf[ci].type != XF_INTEG : has_integ)
							continue;
						c.encr = pp->xf[a].id;
						c.key_bits = pp->xf[a].key_len;
						c.prf = pp->xf[b].id;
						c.integ = ci < 0 ? 0 : pp->xf[ci].id;
						c.dh = g;
						if (ike_prop_allowed(ike, local, &c)) {
							*out = c;
							return true;
						}
					}
				}
			}
		}
	}
	return false;
}

int ike_profile_for_tunnel(const struct fh_config *cfg, int tunnel, int *ipsec_profile)
{
	int ip;

	if (tunnel < 0 || (uint32_t)tunnel >= cfg->n_iface)
		return -1;
	ip = cfg->iface[tunnel].protection_idx;
	*ipsec_profile = ip;
	if (ip < 0)
		return -1;
	return cfg->ipsec_profile[ip].ike_profile_idx;
}

void ike_id_str(const struct fh_ike_id *id, char *out, size_t len)
{
	int n = id->len < 64 ? id->len : 64;

	switch (id->type) {
	case 1:
		if (id->len == 4) {
			snprintf(out, len, "%u.%u.%u.%u", id->data[0], id->data[1], id->data[2], id->data[3]);
			return;
		}
		break;
	case 2:
	case 3:
	case 11:
		snprintf(out, len, "%.*s", n, (const char *)id->data);
		for (char *c = out; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		return;
	default:
		break;
	}
	snprintf(out, len, "<type %u, %u bytes>", id->type, id->len);
}

static bool str_is(const struct fh_ike_id *id, const char *s)
{
	return strlen(s) == id->len && memcmp(s, id->data, id->len) == 0;
}

/* "domain D" matches a name in D (fqdn: D itself or *.D; email: *@D), case-insensitively as DNS. */
static bool in_domain(const struct fh_ike_id *id, const char *dom, char sep)
{
	size_t dl = strlen(dom);

	if (id->len < dl || strncasecmp((const char *)id->data + id->len - dl, dom, dl) != 0)
		return false;
	return id->len == dl ? sep == '.' : id->data[id->len - dl - 1] == (uint8_t)sep;
}

/*
 * How well a profile's "match identity remote" lines fit an identity, 0 for not at all. IOS picks
 * the most specific match: an exact identity (a name, an address with a /32 mask) over a domain or
 * a network (longer first), over "any" and address 0.0.0.0.
 */
static int match_score(const struct fh_cfg_match_identity *mi, const struct fh_ike_id *id)
{
	int best = 0;

	if (id->type == 1 && id->len == 4) {
		uint32_t a = ike_be32(id->data);

		for (uint32_t i = 0; i < mi->n_address; i++) {
			const struct fh_prefix *p = &mi->address[i];
			int sc = p->addr == 0 && p->len == 0 ? 1 : p->len == 32 ? 1000 : 100 + p->len;

			/* "address 0.0.0.0" with no mask means any address identity, as the guide writes it */
			if ((p->addr == 0 || ((a ^ p->addr) & fh_prefix_mask(p->len)) == 0) && sc > best)
				best = p->addr == 0 ? 1 : sc;
		}
	}
	for (uint32_t i = 0; i < mi->n_fqdn || i < mi->n_email; i++) {
		const char *f = i < mi->n_fqdn && id->type == 2 ? mi->fqdn[i] : NULL;
		const char *e = i < mi->n_email && id->type == 3 ? mi->email[i] : NULL;
		const char *m = f != NULL ? f : e;

		if (m == NULL)
			continue;
		if (strncmp(m, "domain ", 7) == 0) {
			if (in_domain(id, m + 7, f != NULL ? '.' : '@') && 500 + (int)strlen(m + 7) > best)
				best = 500 + (int)strlen(m + 7);
		} else if (str_is(id, m)) {
			best = 1000;
		}
	}
	for (uint32_t i = 0; id->type == 11 && i < mi->n_key_id; i++)
		if (str_is(id, mi->key_id[i]))
			best = 1000;
	if (best == 0 && mi->any)
		best = 1;
	return best;
}

static bool match_identity(const struct fh_cfg_match_identity *mi, const struct fh_ike_id *id)
{
	return match_score(mi, id) > 0;
}

bool ike_id_matches(const struct fh_config *cfg, int profile, const struct fh_ike_id *id)
{
	const struct fh_cfg_match_identity *mi = &cfg->ike_profile[profile].match_remote;

	if (mi->any || mi->n_address + mi->n_fqdn + mi->n_email + mi->n_key_id == 0)
		return true;
	return match_identity(mi, id);
}

/* The profile whose match is the most specific; of equals, the first in the config. */
int ike_profile_for_id(const struct fh_config *cfg, const struct fh_ike_id *id, uint32_t remote)
{
	int best = -1, best_score = 0;

	(void)remote;
	for (uint32_t i = 0; i < cfg->n_ike_profile; i++) {
		int sc = match_score(&cfg->ike_profile[i].match_remote, id);

		if (sc > best_score) {
			best = (int)i;
			best_score = sc;
		}
	}
	return best;
}

/* "fqdn NAME", "email NAME", "address A", "key-id ID" against an identity. */
static bool peer_identity_is(const char *spec, const struct fh_ike_id *id)
{
	static const struct {
		const char *kw;
		uint8_t type;
	} kinds[] = {{"fqdn ", 2}, {"email ", 3}, {"key-id ", 11}, {"address ", 1}};
	char buf[80];

	for (unsigned k = 0; k < 4; k++) {
		size_t l = strlen(kinds[k].kw);

		if (strncmp(spec, kinds[k].kw, l) != 0 || kinds[k].type != id->type)
			continue;
		if (id->type == 1) {
			ike_id_str(id, buf, sizeof(buf));
			return strcmp(buf, spec + l) == 0;
		}
		return str_is(id, spec + l);
	}
	return false;
}

/* The keyring entry for a peer: identity first (RFC 7296 2.15 keys by identity), then the longest
 * address match (IOS "address A M"). id may be NULL (initiator before IKE_AUTH). */
int ike_keyring_peer(const struct fh_config *cfg, int profile, const struct fh_ike_id *id, uint32_t remote)
{
	int kr, best = -1;
	int best_len = -1;

	if (profile < 0 || (kr = cfg->ike_profile[profile].keyring_idx) < 0)
		return -1;
	for (uint32_t i = 0; id != NULL && i < cfg->keyring[kr].n_peer; i++) {
		const struct fh_cfg_peer *p = &cfg->keyring[kr].peer[i];

		if (p->identity[0] != '\0' && peer_identity_is(p->identity, id))
			return (int)i;
	}
	/* by the address the peer's messages come from; behind a NAT that is the NAT's, so an
	 * address identity (what IOS sends by default) is tried as well */
	for (int pass = 0; pass < 2 && best < 0; pass++) {
		uint32_t a = remote;

		if (pass == 1) {
			if (id == NULL || id->type != 1 || id->len != 4)
				break;
			a = ike_be32(id->data);
		}
		for (uint32_t i = 0; i < cfg->keyring[kr].n_peer; i++) {
			const struct fh_cfg_peer *p = &cfg->keyring[kr].peer[i];

			if (p->has_address && ((a ^ p->address.addr) & fh_prefix_mask(p->address.len)) == 0 &&
			    (int)p->address.len > best_len) {
				best = (int)i;
				best_len = p->address.len;
			}
		}
	}
	return best;
}

/* The static tunnel a responder's IKE SA protects: the one toward this peer whose protection
 * names this profile (or any profile, when the tunnel's says none). */
uint32_t ike_tunnel_for_peer(struct fh_ike *ike, int profile, uint32_t remote, uint32_t local)
{
	const struct fh_config *cfg = ike->cfg;
	const struct ike_tun *best = NULL;

	/* the tunnels toward this address only (a table built with the config); of those that fit,
	 * the first in config order */
	ike->st.lookups++;
	for (struct ike_node *n = ike_ix_find(&ike->tuns.by_dst, remote, 0, &ike->st.probes); n != NULL;
	     n = ike_ix_next(&ike->tuns.by_dst, n, &ike->st.probes)) {
		const struct ike_tun *t = IKE_CONTAINER(n, struct ike_tun, by_dst);
		const struct fh_cfg_iface *f = &cfg->iface[t->idx];
		int ip;

		if ((best != NULL && t->idx > best->idx) || !f->has_destination || f->tunnel_destination != remote ||
		    f->shutdown)
			continue;
		if (ike_profile_for_tunnel(cfg, t->idx, &ip) != profile && ip >= 0 &&
		    cfg->ipsec_profile[ip].ike_profile_idx >= 0)
			continue;
		if (ike->ops->tunnel_source(ike->ctx, t->handle) != local)
			continue;
		best = t;
	}
	if (best == NULL || best->manual)
		return 0; /* none, or manually keyed: not for IKE */
	return best->handle;
}

/* Our ID payload body (type, 3 reserved, data): "address" (the default) or fqdn/email/key-id. */
void ike_local_id(const struct fh_config *cfg, int profile, uint32_t local, uint8_t *body, size_t *len)
{
	const char *spec = profile >= 0 ? cfg->ike_profile[profile].identity_local : "";
	static const struct {
		const char *kw;
		uint8_t type;
	} kinds[] = {{"fqdn ", 2}, {"email ", 3}, {"key-id ", 11}};

	memset(body, 0, 4);
	for (unsigned k = 0; k < 3; k++) {
		size_t l = strlen(kinds[k].kw), n;

		if (strncmp(spec, kinds[k].kw, l) != 0)
			continue;
		n = strlen(spec + l);
		body[0] = kinds[k].type;
		memcpy(body + 4, spec + l, n);
		*len = 4 + n;
		return;
	}
	body[0] = 1;
	ike_put32(body + 4, local);
	*len = 8;
}

void ike_set_sk(struct ike_sa *sa)
{
	sa->sk.encr = sa->prop.encr;
	sa->sk.key_len = (uint16_t)(sa->prop.key_bits / 8);
	sa->sk.integ = sa->prop.integ;
}
