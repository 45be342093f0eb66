/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker's first look at a frame: each kind of good and bad frame moves the counter it must. */
#include <string.h>

#include <rte_byteorder.h>

#include "fh_dp.h"
#include "fh_test.h"

static const struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 1}};

/* The IPv4 header checksum of frame b, after a field changed. */
static void ip_cksum(uint8_t *b)
{
	uint32_t sum = 0;

	b[24] = b[25] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)b[14 + i] << 8 | b[15 + i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	b[24] = (uint8_t)(~sum >> 8);
	b[25] = (uint8_t)~sum;
}

/* Ethernet + IPv4 (+ payload) to 192.168.0.10 with a correct checksum. */
static uint32_t frame(uint8_t *b, uint8_t proto, const uint8_t *l4, uint32_t l4len)
{
	uint32_t tot = 20 + l4len;

	memset(b, 0, 14 + tot);
	memcpy(b, mac.addr_bytes, 6);
	b[6] = 0x02;
	b[11] = 2;
	b[12] = 0x08;
	b[14] = 0x45;
	b[16] = (uint8_t)(tot >> 8);
	b[17] = (uint8_t)tot;
	b[22] = 64;
	b[23] = proto;
	b[26] = 192, b[27] = 168, b[28] = 0, b[29] = 20;
	b[30] = 192, b[31] = 168, b[32] = 0, b[33] = 10;
	ip_cksum(b);
	memcpy(b + 34, l4, l4len);
	return 14 + tot;
}

int main(void)
{
	struct fh_dp_local loc = {.n = 1};
	struct fh_dp_tables t = {.local = &loc};
	uint8_t b[256], l4[64] = {0};
	enum fh_punt_kind k;
	uint32_t n;

	loc.addr[0] = rte_cpu_to_be_32(0xc0a8000a);
	loc.port[0] = 0;

	l4[2] = 0x01, l4[3] = 0xf4; /* UDP dport 500 */
	n = frame(b, 17, l4, 36);
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_PUNT_IKE && k == FH_PUNT_IKE, "IKE on 500 is punted");
	l4[2] = 0x11, l4[3] = 0x94; /* 4500, non-ESP marker */
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 17, l4, 36), &k) == FH_CTR_PUNT_IKE, "IKE on 4500 is punted");
	l4[8] = 0xff;
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 17, l4, 9), &k) == FH_CTR_PUNT_IKE, "NAT keepalive is punted");
	l4[8] = 0x10; /* SPI starts: UDP-encapsulated ESP */
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 17, l4, 40), &k) == FH_CTR_ESP_IN && k == 0,
		 "ESP in UDP goes to ESP processing");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 50, l4, 40), &k) == FH_CTR_ESP_IN, "ESP goes to ESP processing");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 50, l4, 4), &k) == FH_CTR_DROP_RUNT, "ESP shorter than its header");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 47, l4, 8), &k) == FH_CTR_DROP_UNPROTECTED, "bare GRE");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 1, l4, 8), &k) == FH_CTR_PUNT_ICMP && k == FH_PUNT_ICMP, "ICMP");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 89, l4, 8), &k) == FH_CTR_PUNT_ROUTING, "OSPF is punted");
	fh_check(fh_dp_classify(&t, &mac, b, frame(b, 6, l4, 20), &k) == FH_CTR_DROP_LOCAL_PROTO, "TCP to us");
	/* a hello to a link-local group (224.0.0.5, OSPF): ours, never routed */
	n = frame(b, 89, l4, 8);
	b[30] = 224, b[31] = 0, b[32] = 0, b[33] = 5;
	ip_cksum(b);
	b[0] = 0x01, b[1] = 0x00, b[2] = 0x5e, b[3] = 0, b[4] = 0, b[5] = 5;
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_PUNT_ROUTING && k == FH_PUNT_ROUTING,
		 "OSPF to 224.0.0.5 is punted, not forwarded");
	b[23] = 6;
	ip_cksum(b);
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_LOCAL_PROTO,
		 "anything else to a link-local group is dropped, never routed");

	n = frame(b, 1, l4, 8);
	b[24] ^= 1;
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_BAD_IPV4, "bad header checksum");
	n = frame(b, 1, l4, 8);
	fh_check(fh_dp_classify(&t, &mac, b, n - 1, &k) == FH_CTR_DROP_RUNT, "truncated below total length");
	fh_check(fh_dp_classify(&t, &mac, b, 14 + 19, &k) == FH_CTR_DROP_RUNT, "shorter than an IPv4 header");
	fh_check(fh_dp_classify(&t, &mac, b, 10, &k) == FH_CTR_DROP_RUNT, "shorter than Ethernet");
	n = frame(b, 1, l4, 8);
	b[14] = 0x46; /* IHL 24 with 20 bytes of header: checksum catches it or lengths do */
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_BAD_IPV4, "IHL beyond the header");
	n = frame(b, 1, l4, 8);
	b[14] = 0x65;
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_BAD_IPV4, "IP version 6 in an IPv4 frame");
	n = frame(b, 1, l4, 8);
	b[0] = 0x04;
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_NOT_FOR_US, "another station's MAC");
	n = frame(b, 1, l4, 8);
	b[33] = 99, b[25] -= 89; /* to 192.168.0.99, checksum adjusted */
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_FORWARDED, "transit goes to the FIB");
	n = frame(b, 1, l4, 8);
	b[12] = 0x86, b[13] = 0xdd;
	fh_check(fh_dp_classify(&t, &mac, b, n, &k) == FH_CTR_DROP_ETHERTYPE, "IPv6 ethertype");
	memset(b, 0xff, 6);
	b[12] = 0x08, b[13] = 0x06;
	fh_check(fh_dp_classify(&t, &mac, b, 42, &k) == FH_CTR_PUNT_ARP && k == FH_PUNT_ARP, "broadcast ARP punted");
	fh_check(fh_dp_classify(&t, &mac, b, 41, &k) == FH_CTR_DROP_RUNT, "short ARP dropped");
	return fh_test_done();
}
