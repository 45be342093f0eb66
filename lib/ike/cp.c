/* SPDX-License-Identifier: BSD-3-Clause */
/* The Configuration payload (RFC 7296 3.15): lengths first, fields after. */
#include <string.h>

#include "fh_ike_cp.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int fh_ike_mask_len(uint32_t mask)
{
	uint32_t inv = ~mask;

	/* contiguous: the inverted mask is 2^k - 1 */
	if ((inv & (inv + 1)) != 0)
		return -1;
	return 32 - __builtin_popcount(inv);
}

void fh_ike_cfg_init(struct fh_ike_cfg *c, uint8_t type)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
}

static bool cfg_type_ok(uint8_t t)
{
	return t >= FH_IKE_CFG_REQUEST && t <= FH_IKE_CFG_ACK;
}

/* A string attribute: an empty one asks, a valued one carries the string. */
static void take_str(const uint8_t *v, uint16_t alen, bool *want, struct fh_ike_cfg_str *s)
{
	if (alen == 0) {
		*want = true;
		return;
	}
	/* the first valued one is kept; RFC 7296 defines no repetition of these */
	if (s->len == 0) {
		s->p = v;
		s->len = alen;
	}
}

/* One attribute whose length was checked against the payload; its value is v[0..alen). */
static int take_attr(struct fh_ike_cfg *c, uint16_t type, const uint8_t *v, uint16_t alen)
{
	switch (type) {
	case FH_IKE_CFA_IP4_ADDRESS:
		if (alen != 0 && alen != 4)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0)
			c->want_ip4_addr = true;
		else if (!c->has_ip4_addr)
			c->has_ip4_addr = true, c->ip4_addr = be32(v);
		else
			c->n_extra_ip4_addr++;
		return FH_IKE_OK;
	case FH_IKE_CFA_IP4_NETMASK:
		if (alen != 0 && alen != 4)
			return FH_IKE_ERR_SYNTAX;
		/* "Only one netmask is allowed in the request and response messages" */
		if (c->want_netmask || c->has_netmask)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0) {
			c->want_netmask = true;
		} else {
			c->has_netmask = true;
			c->netmask = be32(v);
			if (fh_ike_mask_len(c->netmask) < 0)
				return FH_IKE_ERR_SYNTAX;
		}
		return FH_IKE_OK;
	case FH_IKE_CFA_IP4_DNS:
	case FH_IKE_CFA_IP4_NBNS: {
		bool dns = type == FH_IKE_CFA_IP4_DNS;
		uint8_t *n = dns ? &c->n_dns : &c->n_nbns;
		uint32_t *a = dns ? c->dns : c->nbns;
		uint8_t max = dns ? FH_IKE_CFG_DNS_MAX : FH_IKE_CFG_NBNS_MAX;

		if (alen != 0 && alen != 4)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0) {
			*(dns ? &c->want_dns : &c->want_nbns) = true;
			return FH_IKE_OK;
		}
		if (*n == max)
			return FH_IKE_ERR_TOO_MANY;
		a[(*n)++] = be32(v);
		return FH_IKE_OK;
	}
	case FH_IKE_CFA_IP4_DHCP:
		if (alen != 0 && alen != 4)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0)
			c->want_dhcp = true;
		else if (!c->has_dhcp)
			c->has_dhcp = true, c->dhcp = be32(v);
		return FH_IKE_OK;
	case FH_IKE_CFA_APP_VERSION:
		if (alen == 0)
			c->want_app_version = true;
		else if (!c->has_app_version)
			c->has_app_version = true, c->app_version = (struct fh_ike_cfg_str){v, alen};
		return FH_IKE_OK;
	case FH_IKE_CFA_IP4_SUBNET:
		if (alen != 0 && alen != 8)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0) {
			c->want_subnet = true;
			return FH_IKE_OK;
		}
		if (c->n_subnets == FH_IKE_CFG_SUBNETS_MAX)
			return FH_IKE_ERR_TOO_MANY;
		c->subnet[c->n_subnets].addr = be32(v);
		c->subnet[c->n_subnets].mask = be32(v + 4);
		if (fh_ike_mask_len(c->subnet[c->n_subnets].mask) < 0)
			return FH_IKE_ERR_SYNTAX;
		c->n_subnets++;
		return FH_IKE_OK;
	case FH_IKE_CFA_SUPPORTED:
		/* a list of 2-octet types (RFC 7296 3.15.1: "Multiple of 2") */
		if (alen % 2 != 0)
			return FH_IKE_ERR_SYNTAX;
		if (alen == 0)
			c->want_supported = true;
		for (uint16_t i = 0; i < alen; i += 2) {
			if (c->n_supported == FH_IKE_CFG_SUPPORTED_MAX)
				return FH_IKE_ERR_TOO_MANY;
			c->supported[c->n_supported++] = be16(v + i) & 0x7fff;
		}
		return FH_IKE_OK;
	case FH_IKE_CFA_IP6_ADDRESS:
	case FH_IKE_CFA_IP6_SUBNET: /* address + prefix length */
		if (alen != 0 && alen != 17)
			return FH_IKE_ERR_SYNTAX;
		c->n_ip6++;
		return FH_IKE_OK;
	case FH_IKE_CFA_IP6_DNS:
	case FH_IKE_CFA_IP6_DHCP:
		if (alen != 0 && alen != 16)
			return FH_IKE_ERR_SYNTAX;
		c->n_ip6++;
		return FH_IKE_OK;
	case FH_IKE_CFA_CISCO_BANNER:
		take_str(v, alen, &c->want_cisco_banner, &c->cisco_banner);
		return FH_IKE_OK;
	case FH_IKE_CFA_CISCO_DEF_DOMAIN:
		take_str(v, alen, &c->want_cisco_def_domain, &c->cisco_def_domain);
		return FH_IKE_OK;
	case FH_IKE_CFA_CISCO_SPLIT_DNS:
		take_str(v, alen, &c->want_cisco_split_dns, &c->cisco_split_dns);
		return FH_IKE_OK;
	case FH_IKE_CFA_CISCO_BACKUP_SERVERS:
		take_str(v, alen, &c->want_cisco_backup, &c->cisco_backup);
		return FH_IKE_OK;
	default:
		c->n_unknown++;
		return FH_IKE_OK;
	}
}

int fh_ike_parse_cp(const uint8_t *b, size_t len, struct fh_ike_cfg *c)
{
	size_t off = FH_IKE_CP_HDR_LEN;

	memset(c, 0, sizeof(*c));
	if (len < FH_IKE_CP_HDR_LEN)
		return FH_IKE_ERR_SHORT;
	c->type = b[0];
	if (!cfg_type_ok(c->type))
		return FH_IKE_ERR_SYNTAX;
	/* b[1..3] reserved: ignored on receipt */
	while (off < len) {
		uint16_t type, alen;
		int r;

		if (len - off < FH_IKE_CP_ATTR_HDR_LEN)
			return FH_IKE_ERR_SHORT;
		type = be16(b + off) & 0x7fff; /* R bit: "MUST be ignored on receipt" */
		alen = be16(b + off + 2);
		if (alen > len - off - FH_IKE_CP_ATTR_HDR_LEN)
			return FH_IKE_ERR_LENGTH;
		r = take_attr(c, type, b + off + FH_IKE_CP_ATTR_HDR_LEN, alen);
		if (r != FH_IKE_OK)
			return r;
		off += FH_IKE_CP_ATTR_HDR_LEN + (size_t)alen;
	}
	/* "MUST be used only with an INTERNAL_IP4_ADDRESS attribute": a netmask with a value
	 * and no address beside it means nothing */
	if (c->has_netmask && !c->has_ip4_addr && !c->want_ip4_addr)
		return FH_IKE_ERR_SYNTAX;
	return FH_IKE_OK;
}

/* What the builder refuses: the same things the parser refuses. */
static bool cfg_valid(const struct fh_ike_cfg *c)
{
	if (!cfg_type_ok(c->type) || c->n_dns > FH_IKE_CFG_DNS_MAX || c->n_nbns > FH_IKE_CFG_NBNS_MAX ||
	    c->n_subnets > FH_IKE_CFG_SUBNETS_MAX || c->n_supported > FH_IKE_CFG_SUPPORTED_MAX)
		return false;
	if (c->want_netmask && c->has_netmask)
		return false; /* two netmask attributes */
	if (c->has_netmask && (fh_ike_mask_len(c->netmask) < 0 || (!c->has_ip4_addr && !c->want_ip4_addr)))
		return false;
	for (uint16_t i = 0; i < c->n_subnets; i++)
		if (fh_ike_mask_len(c->subnet[i].mask) < 0)
			return false;
	for (uint8_t i = 0; i < c->n_supported; i++)
		if (c->supported[i] & 0x8000)
			return false;
	if ((c->has_app_version && c->app_version.len == 0) || (c->app_version.len && c->app_version.p == NULL))
		return false;
	if ((c->cisco_banner.len && !c->cisco_banner.p) || (c->cisco_def_domain.len && !c->cisco_def_domain.p) ||
	    (c->cisco_split_dns.len && !c->cisco_split_dns.p) || (c->cisco_backup.len && !c->cisco_backup.p))
		return false;
	return true;
}

/* Attribute writer over a bounded buffer: every put checks the room, the first miss sticks. */
struct aw {
	uint8_t *out;
	size_t cap, len;
	bool full;
};

static uint8_t *attr(struct aw *w, uint16_t type, size_t vlen)
{
	uint8_t *p;

	if (w->full || vlen > 0xffff || w->cap - w->len < FH_IKE_CP_ATTR_HDR_LEN + vlen) {
		w->full = true;
		return NULL;
	}
	p = w->out + w->len;
	put16(p, type & 0x7fff); /* R bit 0 */
	put16(p + 2, (uint16_t)vlen);
	w->len += FH_IKE_CP_ATTR_HDR_LEN + vlen;
	return p + FH_IKE_CP_ATTR_HDR_LEN;
}

static void attr_ip4(struct aw *w, uint16_t type, uint32_t a)
{
	uint8_t *p = attr(w, type, 4);

	if (p)
		put32(p, a);
}

static void attr_str(struct aw *w, uint16_t type, bool want, const struct fh_ike_cfg_str *s)
{
	uint8_t *p;

	if (want)
		attr(w, type, 0);
	if (s->len && (p = attr(w, type, s->len)) != NULL)
		memcpy(p, s->p, s->len);
}

/* Every attribute of c, in the documented order. */
static void emit(const struct fh_ike_cfg *c, struct aw *w)
{
	if (c->want_ip4_addr)
		attr(w, FH_IKE_CFA_IP4_ADDRESS, 0);
	if (c->has_ip4_addr)
		attr_ip4(w, FH_IKE_CFA_IP4_ADDRESS, c->ip4_addr);
	if (c->want_netmask)
		attr(w, FH_IKE_CFA_IP4_NETMASK, 0);
	if (c->has_netmask)
		attr_ip4(w, FH_IKE_CFA_IP4_NETMASK, c->netmask);
	if (c->want_dns)
		attr(w, FH_IKE_CFA_IP4_DNS, 0);
	for (uint8_t i = 0; i < c->n_dns; i++)
		attr_ip4(w, FH_IKE_CFA_IP4_DNS, c->dns[i]);
	if (c->want_nbns)
		attr(w, FH_IKE_CFA_IP4_NBNS, 0);
	for (uint8_t i = 0; i < c->n_nbns; i++)
		attr_ip4(w, FH_IKE_CFA_IP4_NBNS, c->nbns[i]);
	if (c->want_dhcp)
		attr(w, FH_IKE_CFA_IP4_DHCP, 0);
	if (c->has_dhcp)
		attr_ip4(w, FH_IKE_CFA_IP4_DHCP, c->dhcp);
	attr_str(w, FH_IKE_CFA_APP_VERSION, c->want_app_version,
		 c->has_app_version ? &c->app_version : &(struct fh_ike_cfg_str){NULL, 0});
	if (c->want_subnet)
		attr(w, FH_IKE_CFA_IP4_SUBNET, 0);
	for (uint16_t i = 0; i < c->n_subnets; i++) {
		uint8_t *p = attr(w, FH_IKE_CFA_IP4_SUBNET, 8);

		if (p) {
			put32(p, c->subnet[i].addr);
			put32(p + 4, c->subnet[i].mask);
		}
	}
	if (c->want_supported)
		attr(w, FH_IKE_CFA_SUPPORTED, 0);
	if (c->n_supported) {
		uint8_t *p = attr(w, FH_IKE_CFA_SUPPORTED, 2u * c->n_supported);

		for (uint8_t i = 0; p && i < c->n_supported; i++)
			put16(p + 2 * i, c->supported[i]);
	}
	attr_str(w, FH_IKE_CFA_CISCO_BANNER, c->want_cisco_banner, &c->cisco_banner);
	attr_str(w, FH_IKE_CFA_CISCO_DEF_DOMAIN, c->want_cisco_def_domain, &c->cisco_def_domain);
	attr_str(w, FH_IKE_CFA_CISCO_SPLIT_DNS, c->want_cisco_split_dns, &c->cisco_split_dns);
	attr_str(w, FH_IKE_CFA_CISCO_BACKUP_SERVERS, c->want_cisco_backup, &c->cisco_backup);
}

size_t fh_ike_cp_len(const struct fh_ike_cfg *c)
{
	size_t n = FH_IKE_CP_HDR_LEN;

	if (!cfg_valid(c))
		return 0;
	n += 4 * ((size_t)c->want_ip4_addr + c->want_netmask + c->want_dns + c->want_nbns + c->want_dhcp +
		  c->want_app_version + c->want_subnet + c->want_supported + c->want_cisco_banner +
		  c->want_cisco_def_domain + c->want_cisco_split_dns + c->want_cisco_backup);
	n += 8 * ((size_t)c->has_ip4_addr + c->has_netmask + c->n_dns + c->n_nbns + c->has_dhcp);
	if (c->has_app_version)
		n += 4 + (size_t)c->app_version.len;
	n += 12 * (size_t)c->n_subnets;
	if (c->n_supported)
		n += 4 + 2 * (size_t)c->n_supported;
	if (c->cisco_banner.len)
		n += 4 + (size_t)c->cisco_banner.len;
	if (c->cisco_def_domain.len)
		n += 4 + (size_t)c->cisco_def_domain.len;
	if (c->cisco_split_dns.len)
		n += 4 + (size_t)c->cisco_split_dns.len;
	if (c->cisco_backup.len)
		n += 4 + (size_t)c->cisco_backup.len;
	return n;
}

int fh_ike_build_cp(const struct fh_ike_cfg *c, uint8_t *out, size_t cap, size_t *len)
{
	struct aw w = {.out = out, .cap = cap, .len = FH_IKE_CP_HDR_LEN};

	*len = 0;
	if (!cfg_valid(c))
		return FH_IKE_ERR_SYNTAX;
	if (cap < FH_IKE_CP_HDR_LEN)
		return FH_IKE_ERR_SHORT;
	out[0] = c->type;
	out[1] = out[2] = out[3] = 0;
	emit(c, &w);
	if (w.full)
		return FH_IKE_ERR_SHORT;
	*len = w.len;
	return FH_IKE_OK;
}

bool fh_ike_add_cp(struct fh_ike_builder *b, const struct fh_ike_cfg *c)
{
	size_t n = fh_ike_cp_len(c), got;
	uint8_t *p;

	if (n == 0 || n > 0xffff - FH_IKE_GEN_HDR_LEN) {
		b->err = true;
		return false;
	}
	p = fh_ike_add(b, FH_IKE_PL_CP, NULL, n);
	if (p == NULL)
		return false;
	/* the room is reserved and the length known: this cannot fail short */
	if (fh_ike_build_cp(c, p, n, &got) != FH_IKE_OK || got != n) {
		b->err = true;
		return false;
	}
	return true;
}

int fh_ike_cfg_spoke_request(struct fh_ike_cfg *c, const struct fh_ike_cfg_subnet *own, size_t n)
{
	fh_ike_cfg_init(c, FH_IKE_CFG_REQUEST);
	c->want_ip4_addr = c->want_netmask = c->want_dns = c->want_nbns = c->want_subnet = true;
	if (n > FH_IKE_CFG_SUBNETS_MAX)
		return FH_IKE_ERR_TOO_MANY;
	for (size_t i = 0; i < n; i++) {
		if (fh_ike_mask_len(own[i].mask) < 0)
			return FH_IKE_ERR_SYNTAX;
		c->subnet[i] = own[i];
	}
	c->n_subnets = (uint16_t)n;
	return FH_IKE_OK;
}

static bool str_same(const struct fh_ike_cfg_str *a, const struct fh_ike_cfg_str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

bool fh_ike_cfg_same(const struct fh_ike_cfg *a, const struct fh_ike_cfg *b)
{
	if (a->type != b->type || a->want_ip4_addr != b->want_ip4_addr || a->has_ip4_addr != b->has_ip4_addr ||
	    (a->has_ip4_addr && a->ip4_addr != b->ip4_addr) || a->want_netmask != b->want_netmask ||
	    a->has_netmask != b->has_netmask || (a->has_netmask && a->netmask != b->netmask) ||
	    a->want_dns != b->want_dns || a->n_dns != b->n_dns || a->want_nbns != b->want_nbns ||
	    a->n_nbns != b->n_nbns || a->want_dhcp != b->want_dhcp || a->has_dhcp != b->has_dhcp ||
	    (a->has_dhcp && a->dhcp != b->dhcp) || a->want_subnet != b->want_subnet || a->n_subnets != b->n_subnets ||
	    a->want_app_version != b->want_app_version || a->has_app_version != b->has_app_version ||
	    a->want_supported != b->want_supported || a->n_supported != b->n_supported ||
	    a->want_cisco_banner != b->want_cisco_banner || a->want_cisco_def_domain != b->want_cisco_def_domain ||
	    a->want_cisco_split_dns != b->want_cisco_split_dns || a->want_cisco_backup != b->want_cisco_backup)
		return false;
	if (a->n_dns > FH_IKE_CFG_DNS_MAX || a->n_nbns > FH_IKE_CFG_NBNS_MAX || a->n_subnets > FH_IKE_CFG_SUBNETS_MAX ||
	    a->n_supported > FH_IKE_CFG_SUPPORTED_MAX)
		return false;
	if (memcmp(a->dns, b->dns, sizeof(a->dns[0]) * a->n_dns) != 0 ||
	    memcmp(a->nbns, b->nbns, sizeof(a->nbns[0]) * a->n_nbns) != 0 ||
	    memcmp(a->subnet, b->subnet, sizeof(a->subnet[0]) * a->n_subnets) != 0 ||
	    memcmp(a->supported, b->supported, sizeof(a->supported[0]) * a->n_supported) != 0)
		return false;
	return (!a->has_app_version || str_same(&a->app_version, &b->app_version)) &&
	       str_same(&a->cisco_banner, &b->cisco_banner) && str_same(&a->cisco_def_domain, &b->cisco_def_domain) &&
	       str_same(&a->cisco_split_dns, &b->cisco_split_dns) && str_same(&a->cisco_backup, &b->cisco_backup);
}
