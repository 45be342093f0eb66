/* SPDX-License-Identifier: BSD-3-Clause */
#include "fh_gre.h"

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
/* the strict source route bit and recursion control of RFC 1701, reserved in RFC 2784 */
#define GRE_RESERVED0 0x0ff8
#define GRE_VERSION 0x0007

static uint16_t csum(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum fh_gre_err fh_gre_parse(const uint8_t *buf, uint32_t len, bool key_expected, uint32_t want_key,
			     struct fh_gre_info *out)
{
	uint16_t flags;
	uint32_t off = 4;

	if (len < 4)
		return FH_GRE_ERR_LEN;
	flags = (uint16_t)(buf[0] << 8 | buf[1]);
	if ((flags & (GRE_VERSION | GRE_R | GRE_RESERVED0)) != 0)
		return FH_GRE_ERR_VERSION;
	out->proto = (uint16_t)(buf[2] << 8 | buf[3]);
	out->hlen = (uint16_t)(4 + ((flags & GRE_C) ? 4 : 0) + ((flags & GRE_K) ? 4 : 0) + ((flags & GRE_S) ? 4 : 0));
	if (len < out->hlen)
		return FH_GRE_ERR_LEN;
	if (flags & GRE_C) {
		/* RFC 2784 2.5: the checksum covers the GRE header and the payload */
		if (csum(buf, len) != 0xffff)
			return FH_GRE_ERR_CSUM;
		off += 4;
	}
	out->has_key = (flags & GRE_K) != 0;
	out->key = 0;
	if (out->has_key) {
		out->key = get32(buf + off);
		off += 4;
	}
	out->has_seq = (flags & GRE_S) != 0;
	out->seq = out->has_seq ? get32(buf + off) : 0;
	if (out->has_key != key_expected || (key_expected && out->key != want_key))
		return FH_GRE_ERR_KEY;
	return FH_GRE_OK;
}

void fh_gre_write(uint8_t *buf, uint16_t proto, bool with_key, uint32_t key)
{
	buf[0] = with_key ? 0x20 : 0;
	buf[1] = 0;
	buf[2] = (uint8_t)(proto >> 8);
	buf[3] = (uint8_t)proto;
	if (with_key) {
		buf[4] = (uint8_t)(key >> 24);
		buf[5] = (uint8_t)(key >> 16);
		buf[6] = (uint8_t)(key >> 8);
		buf[7] = (uint8_t)key;
	}
}
