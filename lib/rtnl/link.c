/* SPDX-License-Identifier: BSD-3-Clause */
/* Requests for the kernel mirrors' addresses and state, and the route dump, built with libmnl. */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "fh_rtnl.h"

/* Room for a header, its family header and a few u32 attributes. */
#define SMALL_MSG 128

static struct nlmsghdr *start(void *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;

	if (cap < SMALL_MSG) {
		errno = ENOSPC;
		return NULL;
	}
	memset(buf, 0, SMALL_MSG);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

int fh_rtnl_build_addr(void *buf, size_t cap, uint32_t ifindex, uint32_t addr, uint8_t plen, uint32_t seq)
{
	struct nlmsghdr *nlh = start(buf, cap, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
	struct ifaddrmsg *ifa;

	if (nlh == NULL)
		return -1;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
	return (int)nlh->nlmsg_len;
}

int fh_rtnl_build_link(void *buf, size_t cap, uint32_t ifindex, bool up, uint32_t mtu, uint32_t seq)
{
	struct nlmsghdr *nlh = start(buf, cap, RTM_NEWLINK, NLM_F_ACK, seq);
	struct ifinfomsg *ifi;

	if (nlh == NULL)
		return -1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return (int)nlh->nlmsg_len;
}

int fh_rtnl_build_dump(void *buf, size_t cap, uint32_t seq)
{
	struct nlmsghdr *nlh = start(buf, cap, RTM_GETROUTE, NLM_F_DUMP, seq);
	struct rtmsg *rtm;

	if (nlh == NULL)
		return -1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	return (int)nlh->nlmsg_len;
}

int fh_rtnl_ack(const void *msg, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlmsgerr *e;

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return 1;
	e = mnl_nlmsg_get_payload(nlh);
	return e->error;
}
