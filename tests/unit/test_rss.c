/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RSS owner without a NIC: the Toeplitz hashes of the Microsoft RSS verification suite
 * ("Verifying the RSS Hash Calculation", IPv4 table: the 40-byte default key, addresses only and
 * addresses with ports), then queues through a known redirection table, and the cases where the
 * queue cannot be known.
 */
#include <string.h>

#include <rte_ethdev.h>

#include "fh_rss.h"
#include "fh_test.h"

static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const struct {
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
	uint32_t l3, l4; /* published: IPv4 only, IPv4 with (TCP) ports */
} ms[] = {
	{IP4(66, 9, 149, 187), 2794, IP4(161, 142, 100, 80), 1766, 0x323e8fc2, 0x51ccc178},
	{IP4(199, 92, 111, 2), 14230, IP4(65, 69, 140, 83), 4739, 0xd718262a, 0xc626b0ea},
	{IP4(24, 19, 198, 95), 12898, IP4(12, 22, 207, 184), 38024, 0xd2d0a5de, 0x5c2b394a},
	{IP4(38, 27, 205, 30), 48228, IP4(209, 142, 163, 6), 2217, 0x82989176, 0xafc7327f},
	{IP4(153, 39, 163, 191), 44251, IP4(202, 188, 127, 2), 1303, 0x5d1809c5, 0x10e828a2},
};

int main(void)
{
	struct fh_rss r;
	bool hashed;

	memset(&r, 0, sizeof(r));
	memcpy(r.key, ms_key, sizeof(ms_key));
	r.key_len = sizeof(ms_key);
	/* what ports.c asks for: the IP pair; ESP-in-UDP then hashes on the addresses too */
	r.rss_hf = RTE_ETH_RSS_IP;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t h = fh_rss_hash_ipv4(&r, ms[i].src, ms[i].dst, false, 0, 0, &hashed);

		fh_check(hashed && h == ms[i].l3, "IPv4 %zu: 0x%08x, published 0x%08x", i, h, ms[i].l3);
		h = fh_rss_hash_ipv4(&r, ms[i].src, ms[i].dst, true, ms[i].sport, ms[i].dport, &hashed);
		fh_check(hashed && h == ms[i].l3, "UDP without UDP hashing %zu: the addresses only", i);
	}
	r.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t h = fh_rss_hash_ipv4(&r, ms[i].src, ms[i].dst, true, ms[i].sport, ms[i].dport, &hashed);

		fh_check(hashed && h == ms[i].l4, "IPv4 + ports %zu: 0x%08x, published 0x%08x", i, h, ms[i].l4);
		h = fh_rss_hash_ipv4(&r, ms[i].src, ms[i].dst, false, ms[i].sport, ms[i].dport, &hashed);
		fh_check(hashed && h == ms[i].l3, "ESP with UDP hashing on %zu: still the addresses only", i);
	}

	/* a 128-entry table spreading over 4 queues as DPDK's default does (i % queues) */
	r.rss_hf = RTE_ETH_RSS_IP;
	r.reta_size = 128;
	for (uint16_t i = 0; i < r.reta_size; i++)
		r.reta[i] = i % 4;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int want = (int)((ms[i].l3 & 127) % 4);

		fh_check(fh_rss_queue(&r, ms[i].src, ms[i].dst, false, 0, 0) == want, "queue of %zu: %d", i, want);
	}
	/* 0x323e8fc2 & 127 = 66: an entry pointed elsewhere moves exactly that flow */
	r.reta[66] = 3;
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == 3, "RETA entry 66 -> queue 3");
	fh_check(fh_rss_queue(&r, ms[1].src, ms[1].dst, false, 0, 0) == (int)((0xd718262a & 127) % 4),
		 "other flows unmoved");
	/* 512 entries (i40e, ice) use 9 bits of the hash */
	r.reta_size = 512;
	for (uint16_t i = 0; i < r.reta_size; i++)
		r.reta[i] = (uint16_t)(i >> 7);
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == (int)((0x323e8fc2 & 511) >> 7),
		 "512-entry table: queue %d", (int)((0x323e8fc2 & 511) >> 7));

	/* unknowable: no table, no IPv4 hashing, part of the tuple only, a key too short */
	r.reta_size = 0;
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == -1, "no RETA: -1");
	r.reta_size = 128;
	r.rss_hf = RTE_ETH_RSS_IPV6;
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == -1, "IPv6 hashing only: -1");
	r.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_L3_SRC_ONLY;
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == -1, "source only: -1");
	r.rss_hf = RTE_ETH_RSS_IP;
	r.key_len = 8;
	fh_check(fh_rss_queue(&r, ms[0].src, ms[0].dst, false, 0, 0) == -1, "8-byte key: -1");
	return fh_test_done();
}
