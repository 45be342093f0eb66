/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message parsing: an IKE_SA_INIT request built by scapy's IKEv2 layers (an independent
 * encoder), then each class of malformed message refused with the error the RFC's answer needs.
 */
#include <stdio.h>
#include <string.h>

#include "fh_ike_build.h"
#include "fh_ike_msg.h"
#include "fh_test.h"

/* scapy 2.5: IKEv2(init_SPI=11..11, exch_type=34, flags=Initiator) / SA(1 proposal: ENCR 12,
 * PRF 5, INTEG 12, DH 14) / KE(group 14, 256 x 0x42) / Nonce(32 x 0x07) / Notify(16388, 20 x 01).
 * Its next-payload fields had to be given by hand: left to scapy, they chain nothing, and this
 * parser rightly refuses that. */
static const char sa_init_hex[] =
	"111111111111111100000000000000002120220800000000000001902200002c0000002801010004030000080100000c"
	"0300000802000005030000080300000c000000080400000e28000108000e000042424242424242424242424242424242"
	"424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
	"424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
	"424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
	"424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
	"424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
	"2900002407070707070707070707070707070707070707070707070707070707070707070000001c0000400401010101"
	"01010101010101010101010101010101";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

int main(void)
{
	uint8_t buf[1024] = {0}, bad[1024] = {0};
	size_t len = unhex(sa_init_hex, buf);
	struct fh_ike_msg m;
	struct fh_ike_sa sa;
	struct fh_ike_ke ke;
	struct fh_ike_notify nt;
	const struct fh_ike_payload *p;

	fh_check(fh_ike_parse(buf, len, &m) == FH_IKE_OK, "scapy's IKE_SA_INIT parses");
	fh_check(m.hdr.spi_i == 0x1111111111111111ull && m.hdr.spi_r == 0 && m.hdr.exchange == FH_IKE_SA_INIT &&
			 (m.hdr.flags & FH_IKE_FLAG_INITIATOR) && m.hdr.msg_id == 0 && m.hdr.length == len,
		 "header fields");
	fh_check(m.n == 4 && m.pl[0].type == FH_IKE_PL_SA && m.pl[1].type == FH_IKE_PL_KE &&
			 m.pl[2].type == FH_IKE_PL_NONCE && m.pl[3].type == FH_IKE_PL_NOTIFY,
		 "payload chain SA, KE, Ni, N");
	p = fh_ike_find(&m, FH_IKE_PL_SA);
	fh_check(p && fh_ike_parse_sa(p->body, p->len, &sa) == FH_IKE_OK && sa.n == 1 && sa.p[0].protocol == 1 &&
			 sa.p[0].n_xf == 4 && sa.p[0].xf[0].type == 1 && sa.p[0].xf[0].id == 12 && sa.p[0].xf[1].type == 2 &&
			 sa.p[0].xf[1].id == 5 && sa.p[0].xf[2].id == 12 && sa.p[0].xf[3].type == 4 && sa.p[0].xf[3].id == 14,
		 "SA: one IKE proposal, AES-CBC, PRF-SHA256, SHA256-128, group 14");
	p = fh_ike_find(&m, FH_IKE_PL_KE);
	fh_check(p && fh_ike_parse_ke(p->body, p->len, &ke) == FH_IKE_OK && ke.group == 14 && ke.len == 256 &&
			 ke.data[0] == 0x42,
		 "KE: group 14, 256 bytes");
	p = fh_ike_find(&m, FH_IKE_PL_NONCE);
	fh_check(p && fh_ike_check_nonce(p->len) == FH_IKE_OK && p->len == 32, "nonce of 32 bytes");
	fh_check(fh_ike_check_nonce(15) != FH_IKE_OK && fh_ike_check_nonce(257) != FH_IKE_OK, "nonce bounds 16..256");
	p = fh_ike_find(&m, FH_IKE_PL_NOTIFY);
	fh_check(p && fh_ike_parse_notify(p->body, p->len, &nt) == FH_IKE_OK && nt.type == 16388 && nt.data_len == 20,
		 "notify NAT_DETECTION_SOURCE_IP with 20 bytes");

	/* every truncation is refused, none reads past the end (ASan build checks the reads) */
	{
		int ok = 1;

		for (size_t cut = 0; cut < len; cut++) {
			memcpy(bad, buf, cut);
			ok &= fh_ike_parse(bad, cut, &m) != FH_IKE_OK;
		}
		fh_check(ok, "every truncated copy is refused");
	}
	memcpy(bad, buf, len);
	bad[27] ^= 1;
	fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_ERR_LENGTH, "header length disagreeing with the datagram");
	memcpy(bad, buf, len);
	bad[17] = 0x10;
	fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_ERR_VERSION, "major version 1: INVALID_MAJOR_VERSION");
	memcpy(bad, buf, len);
	bad[28 + 3] = 0xff; /* SA payload length beyond the message */
	fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_ERR_LENGTH, "payload length beyond the message");
	memcpy(bad, buf, len);
	bad[28 + 2] = 0, bad[28 + 3] = 3; /* SA payload length below its own header */
	fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_ERR_LENGTH, "payload length below the generic header");
	/* the Notify payload turned into an unknown type 99: skipped if not critical, refused if critical */
	{
		size_t off = 28, last_hdr = 0;
		uint8_t next = buf[16];

		while (next != 0 && off < len) {
			last_hdr = off;
			next = buf[off];
			off += (size_t)(buf[off + 2] << 8 | buf[off + 3]);
		}
		memcpy(bad, buf, len);
		/* the payload before the last names the last one's type */
		off = 28;
		while (off < len && (size_t)(off + (buf[off + 2] << 8 | buf[off + 3])) != last_hdr)
			off += (size_t)(buf[off + 2] << 8 | buf[off + 3]);
		bad[off] = 99;
		fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_OK && m.n == 3, "unknown non-critical payload skipped");
		bad[last_hdr + 1] = 0x80;
		fh_check(fh_ike_parse(bad, len, &m) == FH_IKE_ERR_CRITICAL && m.unsupported_critical == 99,
			 "unknown critical payload: UNSUPPORTED_CRITICAL_PAYLOAD(99)");
	}
	/* SA: transform count that disagrees with the "last" marks */
	p = fh_ike_find((fh_ike_parse(buf, len, &m), &m), FH_IKE_PL_SA);
	memcpy(bad, p->body, p->len);
	bad[7] = 5;
	fh_check(fh_ike_parse_sa(bad, p->len, &sa) != FH_IKE_OK, "proposal announcing 5 transforms, carrying 4");
	bad[7] = 3;
	fh_check(fh_ike_parse_sa(bad, p->len, &sa) != FH_IKE_OK, "proposal announcing 3 transforms, carrying 4");
	/* traffic selectors: one IPv4 range, GRE from one host to one host (the guide's proxy identities) */
	{
		static const uint8_t ts[] = {1, 0, 0, 0, 7, 47, 0, 16, 0, 0, 0xff, 0xff, 192, 168, 0, 10, 192, 168, 0, 10};
		struct fh_ike_tsl t;
		uint8_t b2[sizeof(ts)];

		fh_check(fh_ike_parse_ts(ts, sizeof(ts), &t) == FH_IKE_OK && t.n == 1 && t.ts[0].proto == 47 &&
				 t.ts[0].addr_lo == 0xc0a8000a && t.ts[0].addr_hi == 0xc0a8000a && t.ts[0].port_hi == 0xffff,
			 "TS: IPv4 host range, protocol 47");
		memcpy(b2, ts, sizeof(ts));
		b2[0] = 2;
		fh_check(fh_ike_parse_ts(b2, sizeof(b2), &t) != FH_IKE_OK, "TS count beyond the payload");
		memcpy(b2, ts, sizeof(ts));
		b2[12] = 193; /* start above end */
		fh_check(fh_ike_parse_ts(b2, sizeof(b2), &t) == FH_IKE_ERR_SYNTAX, "TS range backwards");
		fh_check(fh_ike_parse_ts(ts, 3, &t) == FH_IKE_ERR_SHORT, "TS truncated");
	}
	{
		static const uint8_t id4[] = {1, 0, 0, 0, 192, 168, 0, 20}, idbad[] = {1, 0, 0, 0, 192, 168, 0};
		struct fh_ike_id id;

		fh_check(fh_ike_parse_id(id4, sizeof(id4), &id) == FH_IKE_OK && id.type == 1 && id.len == 4,
			 "ID_IPV4_ADDR 192.168.0.20");
		fh_check(fh_ike_parse_id(idbad, sizeof(idbad), &id) == FH_IKE_ERR_SYNTAX, "ID_IPV4_ADDR of 3 bytes");
	}
	/* the builder produces scapy's message byte for byte; and it refuses what does not fit */
	{
		static const struct fh_ike_xf_spec xf[] = {{1, 12, 0}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}};
		struct fh_ike_hdr h = {.spi_i = 0x1111111111111111ull, .exchange = FH_IKE_SA_INIT,
				       .flags = FH_IKE_FLAG_INITIATOR};
		uint8_t out[1024], ked[256], nonce[32], nat[20], small[100];
		struct fh_ike_builder b;

		memset(ked, 0x42, sizeof(ked));
		memset(nonce, 0x07, sizeof(nonce));
		memset(nat, 0x01, sizeof(nat));
		fh_ike_build_init(&b, out, sizeof(out), &h);
		fh_ike_add_sa(&b, 1, NULL, 0, xf, 4);
		fh_ike_add_ke(&b, 14, ked, sizeof(ked));
		fh_ike_add(&b, FH_IKE_PL_NONCE, nonce, sizeof(nonce));
		fh_ike_add_notify(&b, 0, 16388, NULL, 0, nat, sizeof(nat));
		fh_check(!b.err && b.len == len && memcmp(out, buf, len) == 0, "built IKE_SA_INIT equals scapy's bytes");
		fh_ike_build_init(&b, small, sizeof(small), &h);
		fh_check(fh_ike_add_sa(&b, 1, NULL, 0, xf, 4) && !fh_ike_add_ke(&b, 14, ked, sizeof(ked)) && b.err &&
				 fh_ike_parse(small, b.len, &m) == FH_IKE_OK && m.n == 1,
			 "an append that does not fit fails and leaves a valid message");
		fh_ike_build_init(&b, out, sizeof(out), &h);
		fh_ike_add_sa(&b, 1, NULL, 0, (const struct fh_ike_xf_spec[]){{1, 12, 256}, {2, 5, 0}}, 2);
		fh_check(fh_ike_parse(out, b.len, &m) == FH_IKE_OK &&
				 fh_ike_parse_sa(m.pl[0].body, m.pl[0].len, &sa) == FH_IKE_OK && sa.p[0].xf[0].key_len == 256,
			 "Key Length attribute written and read back");
	}
	return fh_test_done();
}
