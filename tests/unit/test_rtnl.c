/* SPDX-License-Identifier: BSD-3-Clause */
/* rtnetlink routes: what zebra installs, parsed; what flexhub offers, built; every length checked. */
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "fh_rtnl.h"
#include "fh_test.h"

/* A route message as the kernel reports zebra's routes, built here with libmnl directly. */
static size_t kernel_msg(uint8_t *buf, uint16_t type, uint8_t family, uint8_t dst_len, uint32_t dst, uint32_t gw,
			 uint32_t oif, uint8_t proto, bool multipath)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = proto;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	if (dst_len)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
	if (gw)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 20);
	if (multipath) {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		mnl_attr_nest_end(nlh, mp);
	}
	return nlh->nlmsg_len;
}

int main(void)
{
	uint8_t buf[512];
	struct fh_rtnl_route r;
	size_t n = kernel_msg(buf, RTM_NEWROUTE, AF_INET, 24, 0x0a140200, 0x0a017802, 7, FH_RTPROT_EIGRP, false);
	int rc = fh_rtnl_parse_route(buf, n, &r);

	fh_check(rc == FH_RTNL_OK && r.add && r.prefix == 0x0a140200 && r.len == 24 && r.has_gw && r.gw == 0x0a017802 &&
			 r.oif == 7 && r.protocol == FH_RTPROT_EIGRP && r.table == RT_TABLE_MAIN && r.metric == 20,
		 "zebra's EIGRP route 10.20.2.0/24 via 10.1.120.2 dev 7 parsed");
	n = kernel_msg(buf, RTM_DELROUTE, AF_INET, 0, 0, 0x0a000001, 3, FH_RTPROT_OSPF, false);
	fh_check(fh_rtnl_parse_route(buf, n, &r) == FH_RTNL_OK && !r.add && r.len == 0 && r.prefix == 0,
		 "a default route withdrawn");
	n = kernel_msg(buf, RTM_NEWROUTE, AF_INET6, 64, 0, 0, 3, FH_RTPROT_BGP, false);
	fh_check(fh_rtnl_parse_route(buf, n, &r) == FH_RTNL_SKIP, "IPv6: not for us");
	n = kernel_msg(buf, RTM_NEWROUTE, AF_INET, 24, 0x0a000000, 0, 3, FH_RTPROT_BGP, true);
	fh_check(fh_rtnl_parse_route(buf, n, &r) == FH_RTNL_SKIP, "multipath: not one FIB entry");
	n = kernel_msg(buf, RTM_NEWLINK, AF_INET, 24, 0x0a000000, 0, 3, 0, false);
	fh_check(fh_rtnl_parse_route(buf, n, &r) == FH_RTNL_SKIP, "not a route message");
	{
		bool ok = true;

		n = kernel_msg(buf, RTM_NEWROUTE, AF_INET, 24, 0x0a140200, 0x0a017802, 7, FH_RTPROT_EIGRP, false);
		/* a datagram cut short of what its header says: refused whatever the cut */
		for (size_t cut = 0; cut < n; cut++)
			ok &= fh_rtnl_parse_route(buf, cut, &r) == FH_RTNL_BAD;
		fh_check(ok, "every datagram shorter than its nlmsg_len is refused");
		/* a header that says less than was sent: only what it covers is read (ASan watches),
		 * and a /24 whose RTA_DST was cut off is refused rather than read as 0.0.0.0/24 */
		ok = true;
		for (size_t cut = 0; cut < n; cut++) {
			uint8_t copy[512];

			memcpy(copy, buf, n);
			((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)cut;
			rc = fh_rtnl_parse_route(copy, cut, &r);
			if (rc == FH_RTNL_OK && r.prefix != 0x0a140200)
				ok = false;
		}
		fh_check(ok, "a shorter nlmsg_len never yields a route with a wrong prefix");
	}
	{
		/* an RTA_GATEWAY of 2 bytes: refused, never read past */
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;

		nlh->nlmsg_type = RTM_NEWROUTE;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET;
		rtm->rtm_dst_len = 8;
		mnl_attr_put_u16(nlh, RTA_GATEWAY, 7);
		fh_check(fh_rtnl_parse_route(buf, nlh->nlmsg_len, &r) == FH_RTNL_BAD, "a gateway attribute of the wrong size");
		rtm->rtm_dst_len = 40;
		fh_check(fh_rtnl_parse_route(buf, nlh->nlmsg_len, &r) == FH_RTNL_BAD, "a prefix length over 32");
	}
	{
		struct fh_rtnl_route w = {.add = true, .prefix = 0x0a010102, .len = 32, .table = 254,
					  .protocol = FH_RTPROT_STATIC, .oif = 9, .metric = 1};
		int l = fh_rtnl_build_route(buf, sizeof(buf), &w, 42);

		fh_check(l > 0 && fh_rtnl_parse_route(buf, (size_t)l, &r) == FH_RTNL_OK && r.add && r.prefix == w.prefix &&
				 r.len == 32 && !r.has_gw && r.oif == 9 && r.protocol == FH_RTPROT_STATIC && r.metric == 1,
			 "a route flexhub offers (10.1.1.2/32 dev 9) builds and parses back");
		fh_check(((struct nlmsghdr *)buf)->nlmsg_seq == 42 &&
				 (((struct nlmsghdr *)buf)->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE)) ==
					 (NLM_F_CREATE | NLM_F_REPLACE),
			 "an add replaces what is there (one entry per prefix)");
		fh_check(fh_rtnl_build_route(buf, 16, &w, 1) < 0, "a short buffer is refused");
	}
	return fh_test_done();
}
