/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_GRE_H
#define FH_GRE_H

/*
 * GRE (RFC 2784, key and sequence bits of RFC 2890) as FlexVPN tunnels use it inside ESP: a
 * delivery IPv4 header (tunnel source -> destination, protocol 47), GRE, then the passenger.
 *
 * The parser takes (buf, len) and checks every length before reading. Threading: any lcore.
 */

#include <stdbool.h>
#include <stdint.h>

#define FH_GRE_PROTO_IPV4 0x0800
#define FH_GRE_PROTO_NHRP 0x2001 /* NHRP over GRE (RFC 2332 uses the GRE protocol type) */

enum fh_gre_err {
	FH_GRE_OK,
	FH_GRE_ERR_LEN,     /* shorter than the header its flags announce */
	FH_GRE_ERR_VERSION, /* version != 0, or routing/reserved bits set (RFC 2784 2.3) */
	FH_GRE_ERR_CSUM,    /* checksum present and wrong */
	FH_GRE_ERR_KEY,     /* key absent, present or different from the tunnel's */
};

struct fh_gre_info {
	uint16_t proto;   /* passenger protocol type */
	uint16_t hlen;    /* GRE header bytes (4..16) */
	bool has_key;
	uint32_t key;
	bool has_seq;
	uint32_t seq;
};

/* Parse the GRE header at buf; checks the checksum when present and the key against want_key. */
enum fh_gre_err fh_gre_parse(const uint8_t *buf, uint32_t len, bool key_expected, uint32_t want_key,
			     struct fh_gre_info *out);

/* Header length that fh_gre_write() produces. */
static inline uint32_t fh_gre_hlen(bool with_key)
{
	return with_key ? 8 : 4;
}

/* Write a GRE header (no checksum, no sequence: what IOS sends) into buf. */
void fh_gre_write(uint8_t *buf, uint16_t proto, bool with_key, uint32_t key);

#endif
