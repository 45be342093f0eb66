/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "fh_rtnl.h"

struct attrs {
	const struct nlattr *a[RTA_MAX + 1];
	bool bad;
};

/* The attributes we read, each checked for its size; the others are only walked. */
static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *at = data;
	uint16_t t = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK; /* newer than our headers: not ours */
	switch (t) {
	case RTA_DST:
	case RTA_GATEWAY:
	case RTA_OIF:
	case RTA_PRIORITY:
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
			at->bad = true;
			return MNL_CB_ERROR;
		}
		break;
	default:
		break;
	}
	at->a[t] = attr;
	return MNL_CB_OK;
}

int fh_rtnl_parse_route(const void *msg, size_t len, struct fh_rtnl_route *out)
{
	const struct nlmsghdr *nlh = msg;
	const struct rtmsg *rtm;
	struct attrs at = {0};

	memset(out, 0, sizeof(*out));
	/* mnl_nlmsg_ok compares nlmsg_len as an int: a length past 2 GiB passes it, hence the first test */
	if (len < sizeof(*nlh) || len > INT32_MAX || nlh->nlmsg_len > len || !mnl_nlmsg_ok(nlh, (int)len) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return FH_RTNL_BAD;
	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return FH_RTNL_SKIP;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, &at) < 0 || at.bad)
		return FH_RTNL_BAD;
	if (rtm->rtm_family != AF_INET)
		return FH_RTNL_SKIP;
	if (rtm->rtm_dst_len > 32)
		return FH_RTNL_BAD;
	/* multipath and source-specific routes are not for one FIB entry */
	if (at.a[RTA_MULTIPATH] != NULL || rtm->rtm_src_len != 0)
		return FH_RTNL_SKIP;
	out->add = nlh->nlmsg_type == RTM_NEWROUTE;
	out->len = rtm->rtm_dst_len;
	out->protocol = rtm->rtm_protocol;
	out->type = rtm->rtm_type;
	out->table = at.a[RTA_TABLE] != NULL ? mnl_attr_get_u32(at.a[RTA_TABLE]) : rtm->rtm_table;
	if (at.a[RTA_DST] != NULL)
		out->prefix = ntohl(mnl_attr_get_u32(at.a[RTA_DST]));
	else if (out->len != 0)
		return FH_RTNL_BAD;
	if (out->len < 32)
		out->prefix &= out->len ? ~0u << (32 - out->len) : 0;
	if (at.a[RTA_GATEWAY] != NULL) {
		out->has_gw = true;
		out->gw = ntohl(mnl_attr_get_u32(at.a[RTA_GATEWAY]));
	}
	if (at.a[RTA_OIF] != NULL)
		out->oif = mnl_attr_get_u32(at.a[RTA_OIF]);
	if (at.a[RTA_PRIORITY] != NULL)
		out->metric = mnl_attr_get_u32(at.a[RTA_PRIORITY]);
	return FH_RTNL_OK;
}

int fh_rtnl_build_route(void *buf, size_t cap, const struct fh_rtnl_route *r, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	/* header, rtmsg and five u32 attributes */
	size_t need = mnl_nlmsg_size(sizeof(*rtm)) + 5 * MNL_ALIGN(sizeof(struct nlattr) + 4) + 16;

	if (cap < need) {
		errno = ENOSPC;
		return -1;
	}
	memset(buf, 0, need);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = r->add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (r->add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = r->len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
	if (r->len > 0)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(r->prefix));
	if (r->table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->has_gw)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(r->gw));
	if (r->oif != 0)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	if (r->metric != 0)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return (int)nlh->nlmsg_len;
}
