/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mode-config in IKE_AUTH (RFC 7296 2.19, 3.15): the CP payload, what an initiator asks for, and
 * the end of a session. The hub side's answer (pool, pushed networks) is the caller's
 * (ops->session_up): the engine owns no addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_ike_cp.h"

#include "ike_int.h"

/* The engine's view (struct fh_ike_modecfg) to the codec's (fh_ike_cp.h) and back. */
int ike_cp_add(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_modecfg *m)
{
	struct fh_ike_cfg *c = malloc(sizeof(*c));
	struct fh_ike_cfg_subnet own[FH_IKE_NETS_MAX];
	bool ok;

	if (c == NULL)
		return -1;
	for (uint8_t i = 0; i < m->n_net && i < FH_IKE_NETS_MAX; i++)
		own[i] = (struct fh_ike_cfg_subnet){m->net[i].addr & m->net[i].mask, m->net[i].mask};
	if (type == CFG_REQUEST) {
		/* an IOS spoke asks for address, mask, DNS, NBNS and the hub's networks, and names its own */
		fh_ike_cfg_spoke_request(c, own, m->n_net);
		c->want_ip4_addr = m->want_addr;
		c->want_netmask = m->want_addr;
	} else {
		fh_ike_cfg_init(c, type);
		c->has_ip4_addr = m->addr != 0;
		c->ip4_addr = m->addr;
		c->has_netmask = m->addr != 0 && m->netmask != 0; /* a mask goes with an address */
		c->netmask = m->netmask;
		c->n_dns = m->n_dns;
		memcpy(c->dns, m->dns, sizeof(m->dns));
		c->n_nbns = m->n_nbns;
		memcpy(c->nbns, m->nbns, sizeof(m->nbns));
		c->n_subnets = m->n_net;
		memcpy(c->subnet, own, m->n_net * sizeof(own[0]));
	}
	ok = fh_ike_add_cp(b, c);
	free(c);
	return ok ? 0 : -1;
}

int ike_cp_get(struct fh_ike *ike, const struct fh_ike_msg *msg, uint8_t type, struct fh_ike_modecfg *out)
{
	const struct fh_ike_payload *p = fh_ike_find(msg, FH_IKE_PL_CP);
	struct fh_ike_cfg *c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return 0;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return 0;
	rc = fh_ike_parse_cp(p->body, p->len, c);
	if (rc != FH_IKE_OK) {
		free(c);
		ike->ctr[FH_IKE_CTR_CP_MALFORMED]++;
		ike_err(ike, "malformed CP payload (%u bytes, error %d) ignored", p->len, rc);
		return -1;
	}
	out->want_addr = c->want_ip4_addr;
	out->addr = c->has_ip4_addr ? c->ip4_addr : 0;
	out->netmask = c->has_netmask ? c->netmask : 0;
	for (uint8_t i = 0; i < c->n_dns && out->n_dns < 2; i++)
		out->dns[out->n_dns++] = c->dns[i];
	for (uint8_t i = 0; i < c->n_nbns && out->n_nbns < 2; i++)
		out->nbns[out->n_nbns++] = c->nbns[i];
	for (uint16_t i = 0; i < c->n_subnets; i++) {
		if (out->n_net == FH_IKE_NETS_MAX) {
			ike_err(ike, "CP payload with %u subnets: the first %d taken", c->n_subnets, FH_IKE_NETS_MAX);
			break;
		}
		out->net[out->n_net++] = (struct fh_ike_net){c->subnet[i].addr & c->subnet[i].mask, c->subnet[i].mask};
	}
	rc = c->type == type ? 1 : 0;
	free(c);
	return rc;
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

void ike_cp_debug(const struct ike_sa *sa, const char *what, const struct fh_ike_modecfg *m)
{
	char nets[FH_IKE_NETS_MAX * 20 + 1] = "", *p = nets;

	if (!fh_debug_on("crypto ikev2 client flexvpn"))
		return;
	for (uint8_t i = 0; i < m->n_net; i++)
		p += snprintf(p, (size_t)(nets + sizeof(nets) - p), " %u.%u.%u.%u/%d", m->net[i].addr >> 24,
			      (m->net[i].addr >> 16) & 0xff, (m->net[i].addr >> 8) & 0xff, m->net[i].addr & 0xff,
			      __builtin_popcount(m->net[i].mask));
	fh_log(FH_LOG_DEBUG, "crypto ikev2 client flexvpn",
	       "tunnel-id %u (%s): %s: %saddress %u.%u.%u.%u, netmask %u.%u.%u.%u, %u DNS, %u NBNS, subnets:%s", sa->id,
	       sa->remote_id, what, m->want_addr ? "asks for an address, " : "", m->addr >> 24, (m->addr >> 16) & 0xff,
	       (m->addr >> 8) & 0xff, m->addr & 0xff, m->netmask >> 24, (m->netmask >> 16) & 0xff,
	       (m->netmask >> 8) & 0xff, m->netmask & 0xff, m->n_dns, m->n_nbns, nets[0] ? nets : " none");
}

void ike_session_end(struct fh_ike *ike, struct ike_sa *sa)
{
	if (!sa->sess)
		return;
	sa->sess = false;
	fh_debug("crypto ikev2 client flexvpn", "tunnel-id %u (%s): session ends", sa->id, sa->remote_id);
	ike->ops->session_down(ike->ctx, sa->id, sa->tunnel);
}
