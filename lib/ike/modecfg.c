/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mode-config in IKE_AUTH (RFC 7296 2.19, 3.15): the CP payload, what an initiator asks for, and
 * the end of a session. The hub side's answer (pool, pushed networks) is the caller's
 * (ops->session_up): the engine owns no addresses.
 */
#include <string.h>

#include "ike_int.h"

/* Attribute types (RFC 7296 3.15.1). */
enum {
	CA_IP4_ADDRESS = 1,
	CA_IP4_NETMASK = 2,
	CA_IP4_DNS = 3,
	CA_IP4_NBNS = 4,
	CA_IP4_SUBNET = 13,
};

static uint8_t *attr(uint8_t *p, uint16_t type, const void *v, uint16_t len)
{
	ike_put16(p, type & 0x7fff);
	ike_put16(p + 2, len);
	if (len)
		memcpy(p + 4, v, len);
	return p + 4 + len;
}

static uint8_t *attr32(uint8_t *p, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	ike_put32(b, v);
	return attr(p, type, b, 4);
}

int ike_cp_add(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_modecfg *m)
{
	uint8_t body[4 + 8 * 4 + FH_IKE_NETS_MAX * 12], *p = body + 4;

	memset(body, 0, 4);
	body[0] = type;
	if (type == CFG_REQUEST) {
		if (m->want_addr) {
			p = attr(p, CA_IP4_ADDRESS, NULL, 0);
			p = attr(p, CA_IP4_NETMASK, NULL, 0);
		}
		p = attr(p, CA_IP4_DNS, NULL, 0);
		p = attr(p, CA_IP4_NBNS, NULL, 0);
		/* an IOS spoke asks for the hub's networks with an empty subnet, and names its own */
		p = attr(p, CA_IP4_SUBNET, NULL, 0);
	} else {
		if (m->addr != 0)
			p = attr32(p, CA_IP4_ADDRESS, m->addr);
		if (m->netmask != 0)
			p = attr32(p, CA_IP4_NETMASK, m->netmask);
		for (uint8_t i = 0; i < m->n_dns && i < 2; i++)
			p = attr32(p, CA_IP4_DNS, m->dns[i]);
		for (uint8_t i = 0; i < m->n_nbns && i < 2; i++)
			p = attr32(p, CA_IP4_NBNS, m->nbns[i]);
	}
	for (uint8_t i = 0; i < m->n_net && i < FH_IKE_NETS_MAX; i++) {
		uint8_t v[8];

		ike_put32(v, m->net[i].addr);
		ike_put32(v + 4, m->net[i].mask);
		p = attr(p, CA_IP4_SUBNET, v, 8);
	}
	return fh_ike_add(b, FH_IKE_PL_CP, body, (size_t)(p - body)) != NULL ? 0 : -1;
}

static int cp_parse(const uint8_t *body, size_t len, uint8_t *type, struct fh_ike_modecfg *m)
{
	size_t off = 4;

	memset(m, 0, sizeof(*m));
	if (len < 4)
		return -1;
	*type = body[0];
	while (off < len) {
		uint16_t t, l;
		const uint8_t *v;

		if (len - off < 4)
			return -1;
		t = ike_be16(body + off) & 0x7fff;
		l = ike_be16(body + off + 2);
		if (len - off - 4 < l)
			return -1;
		v = body + off + 4;
		off += 4 + (size_t)l;
		switch (t) {
		case CA_IP4_ADDRESS:
			if (l != 0 && l != 4)
				return -1;
			if (l == 0)
				m->want_addr = true;
			else if (m->addr == 0)
				m->addr = ike_be32(v);
			break;
		case CA_IP4_NETMASK:
			if (l != 0 && l != 4)
				return -1;
			if (l == 4)
				m->netmask = ike_be32(v);
			break;
		case CA_IP4_DNS:
		case CA_IP4_NBNS:
			if (l != 0 && l != 4)
				return -1;
			if (l == 4 && t == CA_IP4_DNS && m->n_dns < 2)
				m->dns[m->n_dns++] = ike_be32(v);
			if (l == 4 && t == CA_IP4_NBNS && m->n_nbns < 2)
				m->nbns[m->n_nbns++] = ike_be32(v);
			break;
		case CA_IP4_SUBNET:
			if (l != 0 && l != 8)
				return -1;
			if (l == 8 && m->n_net < FH_IKE_NETS_MAX) {
				m->net[m->n_net].addr = ike_be32(v) & ike_be32(v + 4);
				m->net[m->n_net++].mask = ike_be32(v + 4);
			}
			break;
		default:
			break; /* IPv6, application version, vendors': not ours to act on */
		}
	}
	return 0;
}

int ike_cp_get(struct fh_ike *ike, const struct fh_ike_msg *msg, uint8_t type, struct fh_ike_modecfg *out)
{
	const struct fh_ike_payload *p = fh_ike_find(msg, FH_IKE_PL_CP);
	uint8_t got;

	if (p == NULL)
		return 0;
	if (cp_parse(p->body, p->len, &got, out) < 0) {
		ike->ctr[FH_IKE_CTR_CP_MALFORMED]++;
		ike_err(ike, "malformed CP payload (%u bytes) ignored", p->len);
		return -1;
	}
	return got == type ? 1 : 0;
}

/* An authorization policy's access list as networks (permit lines only, as IOS takes them). */
static void acl_nets(const struct fh_config *cfg, int acl, struct fh_ike_modecfg *m)
{
	if (acl < 0)
		return;
	for (uint32_t i = 0; i < cfg->acl[acl].n_ace && m->n_net < FH_IKE_NETS_MAX; i++) {
		const struct fh_ace *a = &cfg->acl[acl].ace[i];

		if (!a->permit)
			continue;
		m->net[m->n_net].addr = a->addr & ~a->wildcard;
		m->net[m->n_net++].mask = ~a->wildcard;
	}
}

bool ike_cp_request(const struct fh_ike *ike, const struct ike_sa *sa, struct fh_ike_modecfg *req)
{
	const struct fh_config *cfg = ike->cfg;
	int ti = ike_sa_tun_idx(ike, sa), pol = -1;

	memset(req, 0, sizeof(*req));
	if (sa->profile >= 0 && cfg->ike_profile[sa->profile].aaa.present)
		pol = cfg->ike_profile[sa->profile].aaa.policy_idx;
	req->want_addr = ti >= 0 && cfg->iface[ti].ip.present && cfg->iface[ti].ip.negotiated;
	if (pol >= 0)
		acl_nets(cfg, cfg->authz_policy[pol].acl_idx, req);
	/* IOS sends a CFG_REQUEST whenever the profile has an authorization policy */
	return req->want_addr || pol >= 0;
}

void ike_session_end(struct fh_ike *ike, struct ike_sa *sa)
{
	if (!sa->sess)
		return;
	sa->sess = false;
	ike->ops->session_down(ike->ctx, sa->id, sa->tunnel);
}
