/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Configuration payload codec: payloads built by scapy's IKEv2 CP layer (an independent
 * encoder) parsed and rebuilt byte for byte, round trips of every CFG type, and every
 * truncation, wrong attribute length, duplicate and limit refused with the right error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_ike_build.h"
#include "fh_ike_cp.h"
#include "fh_ike_msg.h"
#include "fh_test.h"

/*
 * Made once by tests/unit/gen_cp_vectors.py with scapy 2.5.0 (Debian bookworm python3-scapy):
 * scapy.contrib.ikev2.IKEv2_payload_CP(CFGType=..., attributes=[ConfigurationAttribute(...)]),
 * the generic header's 4 octets removed. scapy 2.5's CP layer cannot compute its own payload
 * length (its length field refers to a field "load" it lacks), so the script passes
 * length = 8 + the attributes' encoded size; everything else is scapy's encoding (IPField
 * values for addresses, StrLenField for subnets and strings).
 */
/* CFG_REQUEST: empty ADDRESS, NETMASK, DNS, NBNS, SUBNET; SUBNET 192.168.10.0/24, 10.1.0.0/16 */
static const char req_hex[] = "0100000000010000000200000003000000040000000d0000000d0008c0a80a00ffffff00000d0008"
			      "0a010000ffff0000";
/* CFG_REPLY: 172.16.1.10/24, DNS 8.8.8.8 and 1.1.1.1, NBNS 10.0.0.53, 10.0.0.0/8, 172.16.0.1/32 */
static const char rep_hex[] = "0200000000010004ac10010a00020004ffffff0000030004080808080003000401010101000400040a"
			      "000035000d00080a000000ff000000000d0008ac100001ffffffff";
/* CFG_SET: SUBNET 192.168.20.0/24 */
static const char set_hex[] = "03000000000d0008c0a81400ffffff00";
/* CFG_ACK: empty SUBNET */
static const char ack_hex[] = "04000000000d0000";
/* CFG_REQUEST with no attributes */
static const char none_hex[] = "01000000";
/* CFG_REQUEST: empty ADDRESS, APPLICATION_VERSION "flexhub 0.1", empty SUPPORTED_ATTRIBUTES */
static const char app_hex[] = "01000000000100000007000b666c657868756220302e31000e0000";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Parse from an exact-size heap copy (ASan sees a read past the end). The copy lives until the
 * next call, as the result's strings point into it. */
static uint8_t *exact_copy;

static int parse_exact(const uint8_t *b, size_t len, struct fh_ike_cfg *c)
{
	free(exact_copy);
	exact_copy = malloc(len ? len : 1);
	if (exact_copy == NULL)
		return -100;
	memcpy(exact_copy, b, len);
	return fh_ike_parse_cp(exact_copy, len, c);
}

/* Build c and compare with want[0..n). */
static bool builds_to(const struct fh_ike_cfg *c, const uint8_t *want, size_t n)
{
	uint8_t out[4096];
	size_t len;

	return fh_ike_build_cp(c, out, sizeof(out), &len) == FH_IKE_OK && len == n && memcmp(out, want, n) == 0 &&
	       fh_ike_cp_len(c) == n;
}

/* parse, build, re-parse: same bytes, same configuration */
static bool round_trip(const uint8_t *b, size_t len)
{
	static struct fh_ike_cfg c1, c2;
	uint8_t out[4096];
	size_t n;

	return fh_ike_parse_cp(b, len, &c1) == FH_IKE_OK && fh_ike_build_cp(&c1, out, sizeof(out), &n) == FH_IKE_OK &&
	       fh_ike_parse_cp(out, n, &c2) == FH_IKE_OK && fh_ike_cfg_same(&c1, &c2) && n == len &&
	       memcmp(out, b, n) == 0;
}

/* Every cut of b: inside the 4-octet header or an attribute header SHORT, inside a value
 * LENGTH, on an attribute boundary a valid payload with fewer attributes. */
static bool truncations(const uint8_t *b, size_t len)
{
	static struct fh_ike_cfg c;
	bool ok = true;

	for (size_t cut = 0; cut < len; cut++) {
		size_t off = FH_IKE_CP_HDR_LEN;
		int want;

		if (cut < FH_IKE_CP_HDR_LEN) {
			want = FH_IKE_ERR_SHORT;
		} else {
			want = FH_IKE_OK;
			while (off < cut) {
				size_t alen = (size_t)(b[off + 2] << 8 | b[off + 3]);

				if (cut - off < FH_IKE_CP_ATTR_HDR_LEN) {
					want = FH_IKE_ERR_SHORT;
					break;
				}
				if (cut - off < FH_IKE_CP_ATTR_HDR_LEN + alen) {
					want = FH_IKE_ERR_LENGTH;
					break;
				}
				off += FH_IKE_CP_ATTR_HDR_LEN + alen;
			}
		}
		if (parse_exact(b, cut, &c) != want) {
			printf("# cut at %zu: got %d, want %d\n", cut, parse_exact(b, cut, &c), want);
			ok = false;
		}
	}
	return ok;
}

/* A payload of one CFG type with one attribute of the given type and value length. */
static int one_attr(uint8_t cfg, uint16_t type, uint16_t vlen, const uint8_t *v, struct fh_ike_cfg *c)
{
	uint8_t b[128] = {cfg, 0, 0, 0, (uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(vlen >> 8), (uint8_t)vlen};

	if (vlen > sizeof(b) - 8)
		return -100;
	if (v)
		memcpy(b + 8, v, vlen);
	else
		memset(b + 8, 0xff, vlen); /* all-ones: a contiguous mask where one is read */
	return parse_exact(b, 8u + vlen, c);
}

static void attr_lengths(void)
{
	static const struct {
		uint16_t type;
		uint16_t ok1, ok2; /* the two lengths allowed; ok2 = 0xffff: none besides ok1 */
		const char *name;
	} t[] = {
		{FH_IKE_CFA_IP4_ADDRESS, 0, 4, "INTERNAL_IP4_ADDRESS"},
		{FH_IKE_CFA_IP4_NETMASK, 0, 4, "INTERNAL_IP4_NETMASK"},
		{FH_IKE_CFA_IP4_DNS, 0, 4, "INTERNAL_IP4_DNS"},
		{FH_IKE_CFA_IP4_NBNS, 0, 4, "INTERNAL_IP4_NBNS"},
		{FH_IKE_CFA_IP4_DHCP, 0, 4, "INTERNAL_IP4_DHCP"},
		{FH_IKE_CFA_IP4_SUBNET, 0, 8, "INTERNAL_IP4_SUBNET"},
		{FH_IKE_CFA_IP6_ADDRESS, 0, 17, "INTERNAL_IP6_ADDRESS"},
		{FH_IKE_CFA_IP6_DNS, 0, 16, "INTERNAL_IP6_DNS"},
		{FH_IKE_CFA_IP6_DHCP, 0, 16, "INTERNAL_IP6_DHCP"},
		{FH_IKE_CFA_IP6_SUBNET, 0, 17, "INTERNAL_IP6_SUBNET"},
	};
	static struct fh_ike_cfg c;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool ok = true;

		for (uint16_t l = 0; l <= 40; l++) {
			int r = one_attr(FH_IKE_CFG_REQUEST, t[i].type, l, NULL, &c);

			/* a valued netmask alone has no address beside it: SYNTAX for that reason */
			if (t[i].type == FH_IKE_CFA_IP4_NETMASK && l == 4)
				ok &= r == FH_IKE_ERR_SYNTAX;
			else if (l == t[i].ok1 || l == t[i].ok2)
				ok &= r == FH_IKE_OK;
			else
				ok &= r == FH_IKE_ERR_SYNTAX;
		}
		fh_check(ok, "%s: lengths 0..40, only %u and %u accepted", t[i].name, t[i].ok1, t[i].ok2);
	}
	{
		bool ok = true;

		for (uint16_t l = 0; l <= 40; l++)
			ok &= one_attr(FH_IKE_CFG_REPLY, FH_IKE_CFA_SUPPORTED, l, NULL, &c) ==
			      (l % 2 ? FH_IKE_ERR_SYNTAX : FH_IKE_OK);
		fh_check(ok, "SUPPORTED_ATTRIBUTES: even lengths only");
	}
	/* a declared length past the end, for each position of the overshoot */
	{
		bool ok = true;

		for (uint16_t over = 1; over <= 8; over++) {
			uint8_t b[12] = {2, 0, 0, 0, 0, FH_IKE_CFA_IP4_ADDRESS, 0, (uint8_t)(4 + over), 10, 0, 0, 1};

			ok &= parse_exact(b, sizeof(b), &c) == FH_IKE_ERR_LENGTH;
		}
		fh_check(ok, "attribute length past the payload: FH_IKE_ERR_LENGTH");
	}
	{
		uint8_t b[] = {2, 0, 0, 0, 0, 1, 0xff, 0xff, 10, 0, 0, 1};

		fh_check(parse_exact(b, sizeof(b), &c) == FH_IKE_ERR_LENGTH, "attribute length 65535 in a 12-octet payload");
	}
}

static void cfg_types(void)
{
	static struct fh_ike_cfg c;
	static const uint8_t bad[] = {0, 5, 127, 128, 255};
	bool ok = true;

	for (size_t i = 0; i < sizeof(bad); i++) {
		uint8_t b[4] = {bad[i], 0, 0, 0};

		ok &= parse_exact(b, 4, &c) == FH_IKE_ERR_SYNTAX;
	}
	fh_check(ok, "CFG types 0, 5, 127, 128, 255 refused");
	{
		uint8_t b[4] = {FH_IKE_CFG_SET, 0xff, 0xff, 0xff};

		fh_check(parse_exact(b, 4, &c) == FH_IKE_OK && c.type == FH_IKE_CFG_SET, "reserved octets ignored");
	}
	fh_ike_cfg_init(&c, 0);
	{
		uint8_t out[16];
		size_t n;

		fh_check(fh_ike_build_cp(&c, out, sizeof(out), &n) == FH_IKE_ERR_SYNTAX && fh_ike_cp_len(&c) == 0,
			 "builder refuses CFG type 0");
	}
}

static void vectors(void)
{
	static struct fh_ike_cfg c, d;
	uint8_t b[256];
	size_t len;

	len = unhex(req_hex, b);
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && c.type == FH_IKE_CFG_REQUEST && c.want_ip4_addr &&
			 !c.has_ip4_addr && c.want_netmask && !c.has_netmask && c.want_dns && c.n_dns == 0 && c.want_nbns &&
			 c.n_nbns == 0 && c.want_subnet && c.n_subnets == 2 && c.subnet[0].addr == IP4(192, 168, 10, 0) &&
			 c.subnet[0].mask == IP4(255, 255, 255, 0) && c.subnet[1].addr == IP4(10, 1, 0, 0) &&
			 c.subnet[1].mask == IP4(255, 255, 0, 0) && c.n_unknown == 0 && c.n_ip6 == 0,
		 "scapy's spoke CFG_REQUEST decodes (asks address/netmask/DNS/NBNS/subnet, announces 2 networks)");
	{
		struct fh_ike_cfg_subnet own[] = {{IP4(192, 168, 10, 0), IP4(255, 255, 255, 0)},
						  {IP4(10, 1, 0, 0), IP4(255, 255, 0, 0)}};

		fh_check(fh_ike_cfg_spoke_request(&d, own, 2) == FH_IKE_OK && builds_to(&d, b, len) &&
				 fh_ike_cfg_same(&c, &d),
			 "fh_ike_cfg_spoke_request builds scapy's bytes exactly");
	}
	fh_check(round_trip(b, len), "CFG_REQUEST round trip");
	fh_check(truncations(b, len), "CFG_REQUEST: every truncation refused or a shorter valid payload");

	len = unhex(rep_hex, b);
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && c.type == FH_IKE_CFG_REPLY && c.has_ip4_addr &&
			 !c.want_ip4_addr && c.ip4_addr == IP4(172, 16, 1, 10) && c.has_netmask &&
			 c.netmask == IP4(255, 255, 255, 0) && c.n_dns == 2 && c.dns[0] == IP4(8, 8, 8, 8) &&
			 c.dns[1] == IP4(1, 1, 1, 1) && c.n_nbns == 1 && c.nbns[0] == IP4(10, 0, 0, 53) && c.n_subnets == 2 &&
			 c.subnet[0].addr == IP4(10, 0, 0, 0) && c.subnet[0].mask == IP4(255, 0, 0, 0) &&
			 c.subnet[1].addr == IP4(172, 16, 0, 1) && c.subnet[1].mask == 0xffffffffu && !c.want_subnet,
		 "scapy's hub CFG_REPLY decodes (address, netmask, 2 DNS, NBNS, 2 pushed networks)");
	fh_ike_cfg_init(&d, FH_IKE_CFG_REPLY);
	d.has_ip4_addr = true, d.ip4_addr = IP4(172, 16, 1, 10);
	d.has_netmask = true, d.netmask = IP4(255, 255, 255, 0);
	d.n_dns = 2, d.dns[0] = IP4(8, 8, 8, 8), d.dns[1] = IP4(1, 1, 1, 1);
	d.n_nbns = 1, d.nbns[0] = IP4(10, 0, 0, 53);
	d.n_subnets = 2;
	d.subnet[0] = (struct fh_ike_cfg_subnet){IP4(10, 0, 0, 0), IP4(255, 0, 0, 0)};
	d.subnet[1] = (struct fh_ike_cfg_subnet){IP4(172, 16, 0, 1), 0xffffffffu};
	fh_check(builds_to(&d, b, len), "hub's CFG_REPLY built from a struct equals scapy's bytes");
	fh_check(round_trip(b, len), "CFG_REPLY round trip");
	fh_check(truncations(b, len), "CFG_REPLY: every truncation refused or a shorter valid payload");

	len = unhex(set_hex, b);
	fh_ike_cfg_init(&d, FH_IKE_CFG_SET);
	d.n_subnets = 1;
	d.subnet[0] = (struct fh_ike_cfg_subnet){IP4(192, 168, 20, 0), IP4(255, 255, 255, 0)};
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && fh_ike_cfg_same(&c, &d) && builds_to(&d, b, len),
		 "CFG_SET with one subnet: scapy's bytes parse and build");
	fh_check(round_trip(b, len) && truncations(b, len), "CFG_SET round trip and truncations");

	len = unhex(ack_hex, b);
	fh_ike_cfg_init(&d, FH_IKE_CFG_ACK);
	d.want_subnet = true;
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && fh_ike_cfg_same(&c, &d) && builds_to(&d, b, len),
		 "CFG_ACK acknowledging INTERNAL_IP4_SUBNET: scapy's bytes parse and build");
	fh_check(round_trip(b, len) && truncations(b, len), "CFG_ACK round trip and truncations");

	len = unhex(none_hex, b);
	fh_ike_cfg_init(&d, FH_IKE_CFG_REQUEST);
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && fh_ike_cfg_same(&c, &d) && !c.want_ip4_addr && !c.want_dns &&
			 !c.want_subnet && c.n_subnets == 0 && builds_to(&d, b, len) && fh_ike_cp_len(&d) == 4,
		 "a request that asks for nothing: valid, decodes to nothing, builds to 4 octets");

	len = unhex(app_hex, b);
	fh_check(parse_exact(b, len, &c) == FH_IKE_OK && c.want_ip4_addr && c.has_app_version &&
			 c.app_version.len == 11 && memcmp(c.app_version.p, "flexhub 0.1", 11) == 0 && c.want_supported &&
			 c.n_supported == 0 && round_trip(b, len),
		 "APPLICATION_VERSION string and an empty SUPPORTED_ATTRIBUTES query");
	fh_ike_cfg_init(&d, FH_IKE_CFG_REQUEST);
	d.want_ip4_addr = true;
	d.has_app_version = true;
	d.app_version = (struct fh_ike_cfg_str){(const uint8_t *)"flexhub 0.1", 11};
	d.want_supported = true;
	fh_check(builds_to(&d, b, len), "request with application version built equals scapy's bytes");
}

static void duplicates_and_limits(void)
{
	static struct fh_ike_cfg c;
	uint8_t b[8192];
	size_t n;

	/* two netmasks: RFC 7296 3.15.1 "Only one netmask is allowed" */
	{
		static const uint8_t two[] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0};
		static const uint8_t two_v[] = {2, 0, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1, 0, 2, 0, 4, 255, 0, 0, 0, 0, 2, 0, 4, 255, 0, 0, 0};

		fh_check(parse_exact(two, sizeof(two), &c) == FH_IKE_ERR_SYNTAX &&
				 parse_exact(two_v, sizeof(two_v), &c) == FH_IKE_ERR_SYNTAX,
			 "a second INTERNAL_IP4_NETMASK (empty or valued) refused");
	}
	{
		static const uint8_t mask_alone[] = {2, 0, 0, 0, 0, 2, 0, 4, 255, 255, 255, 0};
		static const uint8_t mask_bad[] = {2, 0, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1, 0, 2, 0, 4, 255, 0, 255, 0};
		static const uint8_t sub_bad[] = {2, 0, 0, 0, 0, 13, 0, 8, 10, 0, 0, 0, 255, 0, 0, 255};

		fh_check(parse_exact(mask_alone, sizeof(mask_alone), &c) == FH_IKE_ERR_SYNTAX,
			 "a netmask without an address refused");
		fh_check(parse_exact(mask_bad, sizeof(mask_bad), &c) == FH_IKE_ERR_SYNTAX,
			 "a non-contiguous netmask refused");
		fh_check(parse_exact(sub_bad, sizeof(sub_bad), &c) == FH_IKE_ERR_SYNTAX,
			 "a subnet with a non-contiguous mask refused");
	}
	/* duplicates allowed by the RFC: several addresses (first kept), repeated empty requests */
	{
		static const uint8_t addrs[] = {2, 0, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1, 0, 1, 0, 4, 10, 0, 0, 2, 0, 1, 0, 4, 10, 0, 0, 3};
		static const uint8_t empties[] = {1, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 13, 0, 0, 0, 13, 0, 0};
		static const uint8_t once[] = {1, 0, 0, 0, 0, 3, 0, 0, 0, 13, 0, 0};

		fh_check(parse_exact(addrs, sizeof(addrs), &c) == FH_IKE_OK && c.has_ip4_addr &&
				 c.ip4_addr == IP4(10, 0, 0, 1) && c.n_extra_ip4_addr == 2,
			 "three INTERNAL_IP4_ADDRESS values: the first kept, two counted as extra");
		fh_check(parse_exact(empties, sizeof(empties), &c) == FH_IKE_OK && c.want_dns && c.want_subnet &&
				 builds_to(&c, once, sizeof(once)),
			 "repeated empty DNS/SUBNET requests: asked once, built once");
	}
	/* list limits: one past each is refused, the limit itself accepted */
	{
		static const struct {
			uint16_t type;
			uint16_t vlen;
			size_t max;
			const char *name;
		} l[] = {{FH_IKE_CFA_IP4_DNS, 4, FH_IKE_CFG_DNS_MAX, "DNS"},
			 {FH_IKE_CFA_IP4_NBNS, 4, FH_IKE_CFG_NBNS_MAX, "NBNS"},
			 {FH_IKE_CFA_IP4_SUBNET, 8, FH_IKE_CFG_SUBNETS_MAX, "SUBNET"}};

		for (size_t k = 0; k < sizeof(l) / sizeof(l[0]); k++) {
			size_t off = 4;
			int r_max = 0, r_over;

			b[0] = FH_IKE_CFG_REPLY, b[1] = b[2] = b[3] = 0;
			for (size_t i = 0; i <= l[k].max; i++) {
				b[off] = 0, b[off + 1] = (uint8_t)l[k].type, b[off + 2] = 0, b[off + 3] = (uint8_t)l[k].vlen;
				memset(b + off + 4, 0, l[k].vlen);
				b[off + 4] = 10, b[off + 7] = (uint8_t)i;
				if (l[k].vlen == 8)
					memset(b + off + 8, 0xff, 4);
				off += 4u + l[k].vlen;
				if (i + 1 == l[k].max)
					r_max = parse_exact(b, off, &c);
			}
			r_over = parse_exact(b, off, &c);
			fh_check(r_max == FH_IKE_OK && r_over == FH_IKE_ERR_TOO_MANY, "%s: %zu accepted, %zu refused (TOO_MANY)",
				 l[k].name, l[k].max, l[k].max + 1);
		}
	}
	{
		uint8_t s[4 + 4 + 2 * (FH_IKE_CFG_SUPPORTED_MAX + 1)] = {2, 0, 0, 0, 0, 14};
		uint16_t vlen = 2 * (FH_IKE_CFG_SUPPORTED_MAX + 1);

		s[6] = (uint8_t)(vlen >> 8), s[7] = (uint8_t)vlen;
		for (int i = 0; i <= FH_IKE_CFG_SUPPORTED_MAX; i++)
			s[8 + 2 * i + 1] = (uint8_t)(i + 1);
		fh_check(parse_exact(s, sizeof(s), &c) == FH_IKE_ERR_TOO_MANY, "SUPPORTED_ATTRIBUTES past its limit refused");
		s[7] -= 2;
		fh_check(parse_exact(s, sizeof(s) - 2, &c) == FH_IKE_OK && c.n_supported == FH_IKE_CFG_SUPPORTED_MAX &&
				 c.supported[0] == 1 && c.supported[63] == 64,
			 "SUPPORTED_ATTRIBUTES with 64 types decoded");
	}
	/* the builder refuses counts past the limits (a corrupted struct never overruns) */
	fh_ike_cfg_init(&c, FH_IKE_CFG_REPLY);
	c.n_dns = FH_IKE_CFG_DNS_MAX + 1;
	fh_check(fh_ike_build_cp(&c, b, sizeof(b), &n) == FH_IKE_ERR_SYNTAX, "builder refuses n_dns past the limit");
	fh_ike_cfg_init(&c, FH_IKE_CFG_REPLY);
	c.has_netmask = true, c.netmask = IP4(255, 255, 255, 0);
	fh_check(fh_ike_build_cp(&c, b, sizeof(b), &n) == FH_IKE_ERR_SYNTAX, "builder refuses a netmask without an address");
	c.has_ip4_addr = true;
	c.netmask = IP4(255, 0, 255, 0);
	fh_check(fh_ike_build_cp(&c, b, sizeof(b), &n) == FH_IKE_ERR_SYNTAX, "builder refuses a non-contiguous netmask");
	{
		struct fh_ike_cfg_subnet bad = {IP4(10, 0, 0, 0), IP4(255, 0, 0, 255)};

		fh_check(fh_ike_cfg_spoke_request(&c, &bad, 1) == FH_IKE_ERR_SYNTAX &&
				 fh_ike_cfg_spoke_request(&c, &bad, FH_IKE_CFG_SUBNETS_MAX + 1) == FH_IKE_ERR_TOO_MANY,
			 "spoke request refuses a bad mask and too many networks");
	}
}

static void skipped(void)
{
	static struct fh_ike_cfg c;
	/* unknown 99, private 16384, obsolete INTERNAL_ADDRESS_EXPIRY 5 and INTERNAL_IP6_NETMASK 9
	 * (reserved in RFC 7296), IPv6 address/DNS/DHCP/subnet, then an address with the R bit */
	static const uint8_t b[] = {
		2, 0, 0, 0,
		0, 99, 0, 3, 1, 2, 3,
		0x40, 0x00, 0, 1, 0xaa,
		0, 5, 0, 4, 0, 0, 0x0e, 0x10,
		0, 9, 0, 0,
		0, 8, 0, 17, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 64,
		0, 10, 0, 16, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
		0, 12, 0, 0,
		0, 15, 0, 17, 0x20, 1, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 48,
		0x80, 1, 0, 4, 10, 9, 8, 7,
	};
	uint8_t out[256];
	size_t n;

	fh_check(parse_exact(b, sizeof(b), &c) == FH_IKE_OK && c.n_unknown == 4 && c.n_ip6 == 4 && c.has_ip4_addr &&
			 c.ip4_addr == IP4(10, 9, 8, 7),
		 "4 unknown and 4 IPv6 attributes skipped and counted; R bit ignored on receipt");
	fh_check(fh_ike_build_cp(&c, out, sizeof(out), &n) == FH_IKE_OK && n == 12 && out[4] == 0 && out[5] == 1,
		 "rebuilt without the skipped ones, R bit written as 0");
	fh_check(truncations(b, sizeof(b)), "every truncation of it refused or a shorter valid payload");
}

static void cisco(void)
{
	static struct fh_ike_cfg c, d;
	/* empty banner and default-domain requests, then valued split-DNS and backup servers */
	static const uint8_t b[] = {
		2, 0, 0, 0,
		0x70, 0x00, 0, 0,
		0x70, 0x02, 0, 0,
		0x70, 0x03, 0, 11, 'c', 'o', 'r', 'p', '.', 'e', 'x', 'a', 'm', 'p', 'l',
		0x70, 0x09, 0, 9, '1', '0', '.', '0', '.', '0', '.', '2', ',',
		0x70, 0x00, 0, 2, 'h', 'i',
	};

	fh_check(parse_exact(b, sizeof(b), &c) == FH_IKE_OK && c.want_cisco_banner && c.want_cisco_def_domain &&
			 c.cisco_split_dns.len == 11 && memcmp(c.cisco_split_dns.p, "corp.exampl", 11) == 0 &&
			 c.cisco_backup.len == 9 && c.cisco_banner.len == 2 && memcmp(c.cisco_banner.p, "hi", 2) == 0 &&
			 c.n_unknown == 0,
		 "Cisco Unity numbers 28672/28674/28675/28681 decoded as strings");
	{
		uint8_t out[256];
		size_t n;

		fh_check(fh_ike_build_cp(&c, out, sizeof(out), &n) == FH_IKE_OK && fh_ike_parse_cp(out, n, &d) == FH_IKE_OK &&
				 fh_ike_cfg_same(&c, &d),
			 "Cisco attributes round trip");
	}
	{
		static const uint8_t save[] = {2, 0, 0, 0, 0x70, 0x01, 0, 2, 0, 1};

		fh_check(parse_exact(save, sizeof(save), &c) == FH_IKE_OK && c.n_unknown == 1,
			 "other Unity numbers (28673 save-password) skipped as unknown");
	}
}

static void builder(void)
{
	static struct fh_ike_cfg c, d;
	uint8_t b[256], out[256], msg[512];
	size_t len = unhex(rep_hex, b), n;
	bool ok = true;

	fh_ike_parse_cp(b, len, &c);
	for (size_t cap = 0; cap < len; cap++)
		ok &= fh_ike_build_cp(&c, out, cap, &n) == FH_IKE_ERR_SHORT && n == 0;
	fh_check(ok, "every buffer shorter than the payload: FH_IKE_ERR_SHORT");
	{
		struct fh_ike_hdr h = {.spi_i = 1, .spi_r = 2, .exchange = FH_IKE_AUTH, .flags = FH_IKE_FLAG_RESPONSE, .msg_id = 1};
		struct fh_ike_builder bl;
		static struct fh_ike_msg m;
		const struct fh_ike_payload *p;

		fh_ike_build_init(&bl, msg, sizeof(msg), &h);
		fh_ike_add(&bl, FH_IKE_PL_AUTH, "\x02\0\0\0xxxx", 8);
		fh_check(fh_ike_add_cp(&bl, &c) && !bl.err && fh_ike_parse(msg, bl.len, &m) == FH_IKE_OK && m.n == 2 &&
				 (p = fh_ike_find(&m, FH_IKE_PL_CP)) != NULL && p->len == len &&
				 memcmp(p->body, b, len) == 0 && fh_ike_parse_cp(p->body, p->len, &d) == FH_IKE_OK &&
				 fh_ike_cfg_same(&c, &d),
			 "fh_ike_add_cp: a CP payload in a message, found and decoded back");
		{
			bool all = true;

			for (size_t cut = FH_IKE_HDR_LEN; cut < bl.len; cut++)
				all &= fh_ike_parse(msg, cut, &m) != FH_IKE_OK;
			fh_check(all, "every truncation of that message refused by the message parser");
		}
		fh_ike_build_init(&bl, msg, FH_IKE_HDR_LEN + 12 + 20, &h);
		fh_ike_add(&bl, FH_IKE_PL_AUTH, "\x02\0\0\0xxxx", 8);
		fh_check(!fh_ike_add_cp(&bl, &c) && bl.err && fh_ike_parse(msg, bl.len, &m) == FH_IKE_OK && m.n == 1,
			 "a CP that does not fit fails and leaves a valid message");
	}
}

static void masks(void)
{
	fh_check(fh_ike_mask_len(0) == 0 && fh_ike_mask_len(0xffffffffu) == 32 && fh_ike_mask_len(IP4(255, 255, 255, 0)) == 24 &&
			 fh_ike_mask_len(IP4(255, 255, 255, 254)) == 31 && fh_ike_mask_len(IP4(128, 0, 0, 0)) == 1 &&
			 fh_ike_mask_len(IP4(255, 0, 255, 0)) == -1 && fh_ike_mask_len(1) == -1 &&
			 fh_ike_mask_len(IP4(0, 255, 255, 255)) == -1,
		 "mask lengths: contiguous masks only");
}

int main(void)
{
	vectors();
	attr_lengths();
	cfg_types();
	duplicates_and_limits();
	skipped();
	cisco();
	builder();
	masks();
	free(exact_copy);
	return fh_test_done();
}
