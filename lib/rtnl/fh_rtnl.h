/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_RTNL_H
#define FH_RTNL_H

/*
 * Routes over rtnetlink (RFC 3549), as FRR's zebra installs them into the kernel and as flexhub
 * offers its own to zebra: one RTM_NEWROUTE / RTM_DELROUTE message to and from a plain struct.
 * Messages are parsed and built with libmnl (a well-kept Debian library: netlink is not parsed by
 * hand here); every attribute this code reads is checked for its type's length first, and
 * anything else (IPv6, multipath, metrics, encapsulation) is reported as not for us.
 *
 * Threading: none (pure functions). Errors: parse returns FH_RTNL_OK, FH_RTNL_SKIP (a valid
 * message that is not an IPv4 unicast route of one next hop), or FH_RTNL_BAD (malformed: lengths,
 * attribute sizes); build returns the message length or -1 (errno ENOSPC: the buffer is short).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FH_RTNL_OK = 0, FH_RTNL_SKIP = 1, FH_RTNL_BAD = -1 };

/* Linux's route protocol numbers of the daemons FRR runs (include/uapi/linux/rtnetlink.h,
 * FRR's lib/route_types.txt): what a route in the FIB is shown as. */
#define FH_RTPROT_KERNEL 2
#define FH_RTPROT_BOOT 3
#define FH_RTPROT_STATIC 4
#define FH_RTPROT_ZEBRA 11
#define FH_RTPROT_BGP 186
#define FH_RTPROT_ISIS 187
#define FH_RTPROT_OSPF 188
#define FH_RTPROT_RIP 189
#define FH_RTPROT_EIGRP 192

struct fh_rtnl_route {
	bool add;            /* RTM_NEWROUTE (else RTM_DELROUTE) */
	uint32_t prefix;     /* host order */
	uint8_t len;
	uint32_t table;      /* RT_TABLE_MAIN 254 */
	uint8_t protocol;    /* FH_RTPROT_... */
	uint8_t type;        /* RTN_UNICAST 1, RTN_BLACKHOLE 6, ... */
	uint32_t oif;        /* output interface index, 0 none */
	bool has_gw;
	uint32_t gw;         /* host order */
	uint32_t metric;     /* RTA_PRIORITY */
};

/* One netlink message (header included) of len bytes. */
int fh_rtnl_parse_route(const void *msg, size_t len, struct fh_rtnl_route *out);
/* An RTM_NEWROUTE (add, with NLM_F_CREATE | NLM_F_REPLACE) or RTM_DELROUTE request. */
int fh_rtnl_build_route(void *buf, size_t cap, const struct fh_rtnl_route *r, uint32_t seq);

/* An RTM_NEWADDR request: addr/plen on interface ifindex (a mirror's address). */
int fh_rtnl_build_addr(void *buf, size_t cap, uint32_t ifindex, uint32_t addr, uint8_t plen, uint32_t seq);
/* An RTM_NEWLINK request: the interface up (or down) with this MTU (0 leaves it). */
int fh_rtnl_build_link(void *buf, size_t cap, uint32_t ifindex, bool up, uint32_t mtu, uint32_t seq);
/* An RTM_GETROUTE dump request of the IPv4 routes. */
int fh_rtnl_build_dump(void *buf, size_t cap, uint32_t seq);
/* An NLMSG_ERROR answer to seq: 0 for an ACK, the negative errno it carries, or 1 when the
 * message is not that answer. */
int fh_rtnl_ack(const void *msg, size_t len, uint32_t seq);

#endif
