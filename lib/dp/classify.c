/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * First look at a received frame: is it for the control plane, for the data plane, or junk.
 * Every length is checked against what arrived before a field is read.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "fh_dp.h"

#define IKE_PORT 500
#define NATT_PORT 4500
#define PROTO_EIGRP 88
#define PROTO_OSPF 89

static const char *const ctr_names[FH_CTR_MAX] = {
	[FH_CTR_RX] = "rx-packets",
	[FH_CTR_TX] = "tx-packets",
	[FH_CTR_BUSY_CYCLES] = "busy-cycles",
	[FH_CTR_FORWARDED] = "forwarded",
	[FH_CTR_ESP_IN] = "esp-decaps",
	[FH_CTR_ESP_OUT] = "esp-encaps",
	[FH_CTR_PUNT_NHRP] = "punt-nhrp",
	[FH_CTR_PUNT_ROUTING] = "punt-routing",
	[FH_CTR_DROP_TTL] = "drop-ttl-expired",
	[FH_CTR_NEIGH_WAIT] = "neigh-wait",
	[FH_CTR_DROP_NO_NEIGH] = "drop-no-arp",
	[FH_CTR_DROP_TUNNEL_DOWN] = "drop-tunnel-down",
	[FH_CTR_DROP_MTU] = "drop-too-big",
	[FH_CTR_DROP_ESP_LEN] = "drop-esp-length",
	[FH_CTR_DROP_ESP_AUTH] = "drop-esp-auth",
	[FH_CTR_DROP_ESP_REPLAY] = "drop-esp-replay",
	[FH_CTR_DROP_ESP_PAD] = "drop-esp-padding",
	[FH_CTR_DROP_ESP_OTHER] = "drop-esp-other",
	[FH_CTR_DROP_INNER] = "drop-inner-invalid",
	[FH_CTR_DROP_SPOOFED] = "drop-inner-source-not-allowed",
	[FH_CTR_DROP_GRE] = "drop-gre",
	[FH_CTR_PUNT_ARP] = "punt-arp",
	[FH_CTR_PUNT_IKE] = "punt-ike",
	[FH_CTR_PUNT_ICMP] = "punt-icmp",
	[FH_CTR_DROP_RUNT] = "drop-runt",
	[FH_CTR_DROP_BAD_IPV4] = "drop-bad-ipv4",
	[FH_CTR_DROP_ETHERTYPE] = "drop-ethertype",
	[FH_CTR_DROP_NOT_FOR_US] = "drop-not-for-us",
	[FH_CTR_DROP_NO_SA] = "drop-no-sa",
	[FH_CTR_DROP_UNPROTECTED] = "drop-unprotected-gre",
	[FH_CTR_DROP_LOCAL_PROTO] = "drop-local-proto",
	[FH_CTR_DROP_NO_ROUTE] = "drop-no-route",
	[FH_CTR_DROP_FRAGMENT] = "drop-fragment",
	[FH_CTR_HANDOFF] = "esp-handoff",
	[FH_CTR_FRAGMENTED] = "fragmented-before-encryption",
	[FH_CTR_DROP_HANDOFF_FULL] = "drop-handoff-full",
	[FH_CTR_DROP_PUNT_FULL] = "drop-punt-full",
	[FH_CTR_DROP_TX_FULL] = "drop-tx-full",
};

const char *fh_dp_ctr_name(enum fh_dp_ctr c)
{
	return c < FH_CTR_MAX ? ctr_names[c] : "?";
}

static enum fh_dp_ctr classify_local(const uint8_t *l4, uint32_t l4len, uint8_t proto, enum fh_punt_kind *punt)
{
	switch (proto) {
	case IPPROTO_UDP: {
		uint16_t dport;

		if (l4len < 8)
			return FH_CTR_DROP_RUNT;
		dport = (uint16_t)(l4[2] << 8 | l4[3]);
		if (dport == IKE_PORT) {
			*punt = FH_PUNT_IKE;
			return FH_CTR_PUNT_IKE;
		}
		if (dport == NATT_PORT) {
			/* RFC 3948 2.2: a NAT-keepalive is one 0xff byte; RFC 3948 2.1 marker: IKE starts 0000 */
			if (l4len == 9 && l4[8] == 0xff) {
				*punt = FH_PUNT_IKE;
				return FH_CTR_PUNT_IKE;
			}
			if (l4len >= 12 && l4[8] == 0 && l4[9] == 0 && l4[10] == 0 && l4[11] == 0) {
				*punt = FH_PUNT_IKE;
				return FH_CTR_PUNT_IKE;
			}
			if (l4len < 8 + 8)
				return FH_CTR_DROP_RUNT;
			return FH_CTR_ESP_IN;
		}
		return FH_CTR_DROP_LOCAL_PROTO;
	}
	case IPPROTO_ESP:
		if (l4len < 8)
			return FH_CTR_DROP_RUNT;
		return FH_CTR_ESP_IN;
	case IPPROTO_GRE:
		return FH_CTR_DROP_UNPROTECTED;
	case IPPROTO_ICMP:
		if (l4len < 8)
			return FH_CTR_DROP_RUNT;
		*punt = FH_PUNT_ICMP;
		return FH_CTR_PUNT_ICMP;
	case PROTO_EIGRP:
	case PROTO_OSPF:
		*punt = FH_PUNT_ROUTING;
		return FH_CTR_PUNT_ROUTING;
	default:
		return FH_CTR_DROP_LOCAL_PROTO;
	}
}

enum fh_dp_ctr fh_dp_classify(const struct fh_dp_tables *t, const struct rte_ether_addr *port_mac,
			      const uint8_t *pkt, uint32_t len, enum fh_punt_kind *punt)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)pkt;
	const uint8_t *ip;
	uint32_t iplen, hlen, tot;
	uint16_t etype, frag;
	uint32_t dst;

	*punt = 0;
	if (len < sizeof(*eth))
		return FH_CTR_DROP_RUNT;
	if (!rte_is_multicast_ether_addr(&eth->dst_addr) && !rte_is_same_ether_addr(&eth->dst_addr, port_mac))
		return FH_CTR_DROP_NOT_FOR_US;
	etype = rte_be_to_cpu_16(eth->ether_type);
	if (etype == RTE_ETHER_TYPE_ARP) {
		/* Ethernet/IPv4 ARP is 28 bytes (RFC 826) */
		if (len < sizeof(*eth) + 28)
			return FH_CTR_DROP_RUNT;
		*punt = FH_PUNT_ARP;
		return FH_CTR_PUNT_ARP;
	}
	if (etype != RTE_ETHER_TYPE_IPV4)
		return FH_CTR_DROP_ETHERTYPE;
	ip = pkt + sizeof(*eth);
	iplen = len - (uint32_t)sizeof(*eth);
	if (iplen < 20)
		return FH_CTR_DROP_RUNT;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || hlen < 20 || tot < hlen)
		return FH_CTR_DROP_BAD_IPV4;
	/* Ethernet pads short frames: trailing bytes are fine, missing ones are not. */
	if (tot > iplen || hlen > iplen)
		return FH_CTR_DROP_RUNT;
	/* a correct header sums to 0xffff (the header length was checked above) */
	if (rte_raw_cksum(ip, hlen) != 0xffff)
		return FH_CTR_DROP_BAD_IPV4;
	memcpy(&dst, ip + 16, 4);
	/* 224.0.0.0/24 is link-local (RFC 5771): never routed; the routing protocols' hellos to
	 * 224.0.0.5/6/10 are ours, like a packet to one of our addresses */
	if (!fh_dp_is_local(t, dst) && (rte_be_to_cpu_32(dst) & 0xffffff00u) != 0xe0000000u)
		return FH_CTR_FORWARDED;
	frag = (uint16_t)(ip[6] << 8 | ip[7]);
	if (frag & 0x3fff) /* MF set or an offset: a fragment */
		return FH_CTR_DROP_FRAGMENT;
	return classify_local(ip + hlen, tot - hlen, ip[9], punt);
}
