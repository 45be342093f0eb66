/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_CP_H
#define FH_IKE_CP_H

/*
 * The Configuration payload (RFC 7296 section 3.15, mode-config): its body decoded into struct
 * fh_ike_cfg and written back from one. A spoke's CFG_REQUEST (empty attributes asking for an
 * address, netmask, DNS, NBNS and the protected subnets, plus its own networks of `route set
 * access-list` as INTERNAL_IP4_SUBNET values), the hub's CFG_REPLY (address, netmask, DNS/NBNS,
 * one INTERNAL_IP4_SUBNET per pushed network), CFG_SET and CFG_ACK. doc/modecfg.md lists every
 * attribute with its source.
 *
 * Parsing checks each attribute's length against what is left and against the attribute's
 * defined length (INTERNAL_IP4_ADDRESS 0 or 4 octets, INTERNAL_IP4_SUBNET 0 or 8, ...) before
 * reading it; lists have fixed limits (an error past them, never a write past an array).
 * Strings are not copied: they point into the caller's buffer, which must outlive the result;
 * they are peer-controlled bytes (not NUL-terminated, not necessarily printable): escape them
 * before printing. Unknown attributes are skipped and counted (RFC 7296 3.15.1 leaves no
 * critical bit for them), the R bit is ignored on receipt and written as 0.
 * Threading: no state; any thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_ike_build.h"
#include "fh_ike_msg.h"

#define FH_IKE_CP_HDR_LEN 4  /* CFG Type, 3 reserved octets */
#define FH_IKE_CP_ATTR_HDR_LEN 4

enum fh_ike_cfg_type {
	FH_IKE_CFG_REQUEST = 1,
	FH_IKE_CFG_REPLY = 2,
	FH_IKE_CFG_SET = 3,
	FH_IKE_CFG_ACK = 4,
};

/* Attribute types (RFC 7296 3.15.1; IANA "IKEv2 Configuration Payload Attribute Types"). */
enum fh_ike_cfg_attr {
	FH_IKE_CFA_IP4_ADDRESS = 1,
	FH_IKE_CFA_IP4_NETMASK = 2,
	FH_IKE_CFA_IP4_DNS = 3,
	FH_IKE_CFA_IP4_NBNS = 4,
	FH_IKE_CFA_IP4_DHCP = 6,
	FH_IKE_CFA_APP_VERSION = 7,
	FH_IKE_CFA_IP6_ADDRESS = 8,
	FH_IKE_CFA_IP6_DNS = 10,
	FH_IKE_CFA_IP6_DHCP = 12,
	FH_IKE_CFA_IP4_SUBNET = 13,
	FH_IKE_CFA_SUPPORTED = 14,
	FH_IKE_CFA_IP6_SUBNET = 15,
	/* Cisco Unity mode-config numbers (private-use range), see doc/modecfg.md for what is
	 * known of their use in IKEv2 */
	FH_IKE_CFA_CISCO_BANNER = 28672,
	FH_IKE_CFA_CISCO_DEF_DOMAIN = 28674,
	FH_IKE_CFA_CISCO_SPLIT_DNS = 28675,
	FH_IKE_CFA_CISCO_BACKUP_SERVERS = 28681,
};

/*
 * Limits of one payload's lists. A CP payload has at most 65,531 octets of attributes; these
 * bound what we keep, and a payload with more is refused with FH_IKE_ERR_TOO_MANY.
 * DNS/NBNS: IOS pushes up to two of each (`dns`, `wins` in the authorization policy take two
 * addresses); 8 leaves room for other peers. Subnets: the hub's pushed routes or a spoke's
 * `route set access-list` entries; 256 (2 KiB per struct) is far above any reference config.
 * Supported-attributes: every type we could name fits in 64.
 */
#define FH_IKE_CFG_DNS_MAX 8
#define FH_IKE_CFG_NBNS_MAX 8
#define FH_IKE_CFG_SUBNETS_MAX 256
#define FH_IKE_CFG_SUPPORTED_MAX 64

struct fh_ike_cfg_str {
	const uint8_t *p; /* into the parsed buffer (or the builder's caller's memory) */
	uint16_t len;
};

struct fh_ike_cfg_subnet {
	uint32_t addr, mask; /* host order; mask contiguous */
};

/*
 * The decoded payload. For each attribute, want_* says it was present without a value (a
 * request naming what it asks for; in CFG_ACK, an attribute acknowledged) and the value
 * fields say what it carried. Both may be set where the attribute may repeat (e.g. a request
 * asking for "a subnet" and announcing its own networks).
 */
struct fh_ike_cfg {
	uint8_t type; /* enum fh_ike_cfg_type */

	bool want_ip4_addr;
	bool has_ip4_addr;
	uint32_t ip4_addr;  /* the first valued INTERNAL_IP4_ADDRESS; in a request, the one asked for */
	uint16_t n_extra_ip4_addr; /* further valued ones (more addresses): skipped, counted */

	bool want_netmask;
	bool has_netmask;
	uint32_t netmask;   /* at most one INTERNAL_IP4_NETMASK, contiguous, and only with an address */

	bool want_dns;
	uint8_t n_dns;
	uint32_t dns[FH_IKE_CFG_DNS_MAX];

	bool want_nbns;
	uint8_t n_nbns;
	uint32_t nbns[FH_IKE_CFG_NBNS_MAX];

	bool want_dhcp;
	bool has_dhcp;
	uint32_t dhcp;      /* first INTERNAL_IP4_DHCP with a value */

	bool want_subnet;
	uint16_t n_subnets;
	struct fh_ike_cfg_subnet subnet[FH_IKE_CFG_SUBNETS_MAX];

	bool want_app_version;
	bool has_app_version;
	struct fh_ike_cfg_str app_version; /* "printable ASCII, not NUL-terminated": not checked */

	bool want_supported;
	uint8_t n_supported;
	uint16_t supported[FH_IKE_CFG_SUPPORTED_MAX]; /* SUPPORTED_ATTRIBUTES: types, R bit cleared */

	/* Cisco Unity numbers: want_* when empty, the string when valued */
	bool want_cisco_banner, want_cisco_def_domain, want_cisco_split_dns, want_cisco_backup;
	struct fh_ike_cfg_str cisco_banner, cisco_def_domain, cisco_split_dns, cisco_backup;

	uint16_t n_ip6;     /* IPv6 attributes (8, 10, 12, 15): length checked, skipped */
	uint16_t n_unknown; /* other types: skipped */
};

/* Clear c and set its type. */
void fh_ike_cfg_init(struct fh_ike_cfg *c, uint8_t type);

/*
 * A CP payload body (after the generic payload header). FH_IKE_OK, or FH_IKE_ERR_SHORT
 * (truncated header or attribute), FH_IKE_ERR_LENGTH (an attribute's length past the payload),
 * FH_IKE_ERR_SYNTAX (unknown CFG type, a length the attribute does not allow, a second netmask,
 * a netmask without an address, a non-contiguous mask), FH_IKE_ERR_TOO_MANY (a list past its
 * limit). On error c holds what was decoded before it; do not use it.
 */
int fh_ike_parse_cp(const uint8_t *body, size_t len, struct fh_ike_cfg *c);

/*
 * Write c as a CP payload body into out (cap octets); *len gets its length. Attribute order:
 * address, netmask, DNS, NBNS, DHCP, application version, subnets, supported-attributes, Cisco
 * ones; for each, the empty one (want_*) before the valued ones. FH_IKE_OK, FH_IKE_ERR_SHORT
 * (does not fit), FH_IKE_ERR_SYNTAX (c is not something the parser would accept: unknown type,
 * counts past the limits, a non-contiguous mask, a netmask without an address).
 */
int fh_ike_build_cp(const struct fh_ike_cfg *c, uint8_t *out, size_t cap, size_t *len);

/* The length fh_ike_build_cp would write, or 0 when it would refuse c. */
size_t fh_ike_cp_len(const struct fh_ike_cfg *c);

/* Append a CP payload to a message (fh_ike_build.h); false (and b->err) when it fails. */
bool fh_ike_add_cp(struct fh_ike_builder *b, const struct fh_ike_cfg *c);

/*
 * A spoke's CFG_REQUEST as IOS FlexVPN clients send it: empty INTERNAL_IP4_ADDRESS, NETMASK,
 * DNS, NBNS and SUBNET, then its own networks (`route set access-list`) as valued
 * INTERNAL_IP4_SUBNET attributes. FH_IKE_ERR_TOO_MANY past FH_IKE_CFG_SUBNETS_MAX.
 */
int fh_ike_cfg_spoke_request(struct fh_ike_cfg *c, const struct fh_ike_cfg_subnet *own, size_t n);

/* True when a and b decode to the same configuration (strings by content; the skipped-attribute
 * counters n_ip6, n_unknown and n_extra_ip4_addr are not compared: building drops those). */
bool fh_ike_cfg_same(const struct fh_ike_cfg *a, const struct fh_ike_cfg *b);

/* Prefix length of a contiguous mask (0..32), or -1. */
int fh_ike_mask_len(uint32_t mask);

#endif
