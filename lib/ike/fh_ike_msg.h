/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_MSG_H
#define FH_IKE_MSG_H

/*
 * IKEv2 message parsing (RFC 7296 section 3): the header, the payload chain, and the payloads
 * the exchanges need (SA with proposals and transforms, KE, Ni/Nr, N, ID, AUTH, TS, D, CP, V, SK).
 * Every parser takes (buf, len) and checks each length against what is left before reading a
 * field; nothing is copied: results point into the caller's buffer, which must outlive them.
 *
 * Errors are negative enum fh_ike_perr values; the state machine answers them as RFC 7296 asks
 * (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD with the payload type, or a silent drop).
 * Threading: no state; any thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FH_IKE_HDR_LEN 28
#define FH_IKE_GEN_HDR_LEN 4
/* Payloads in one message we keep track of; IKE_AUTH with CP, TS and notifies stays far below. */
#define FH_IKE_PAYLOADS_MAX 32
/* Proposals in an SA payload and transforms in a proposal that a parse keeps (RFC 7296 3.3). */
#define FH_IKE_PROPOSALS_MAX 16
#define FH_IKE_TRANSFORMS_MAX 64

enum fh_ike_payload_type {
	FH_IKE_PL_NONE = 0,
	FH_IKE_PL_SA = 33,
	FH_IKE_PL_KE = 34,
	FH_IKE_PL_IDI = 35,
	FH_IKE_PL_IDR = 36,
	FH_IKE_PL_CERT = 37,
	FH_IKE_PL_CERTREQ = 38,
	FH_IKE_PL_AUTH = 39,
	FH_IKE_PL_NONCE = 40,
	FH_IKE_PL_NOTIFY = 41,
	FH_IKE_PL_DELETE = 42,
	FH_IKE_PL_VENDOR = 43,
	FH_IKE_PL_TSI = 44,
	FH_IKE_PL_TSR = 45,
	FH_IKE_PL_SK = 46,
	FH_IKE_PL_CP = 47,
	FH_IKE_PL_EAP = 48,
	FH_IKE_PL_SKF = 53, /* encrypted fragment, RFC 7383 */
};

enum fh_ike_exchange {
	FH_IKE_SA_INIT = 34,
	FH_IKE_AUTH = 35,
	FH_IKE_CREATE_CHILD_SA = 36,
	FH_IKE_INFORMATIONAL = 37,
};

#define FH_IKE_FLAG_INITIATOR 0x08
#define FH_IKE_FLAG_VERSION 0x10
#define FH_IKE_FLAG_RESPONSE 0x20

enum fh_ike_perr {
	FH_IKE_OK = 0,
	FH_IKE_ERR_SHORT = -1,       /* fewer bytes than a length field says */
	FH_IKE_ERR_LENGTH = -2,      /* lengths that do not add up (header vs. datagram, payload chain) */
	FH_IKE_ERR_VERSION = -3,     /* major version not 2 (answer INVALID_MAJOR_VERSION) */
	FH_IKE_ERR_CRITICAL = -4,    /* unknown payload with the critical bit (UNSUPPORTED_CRITICAL_PAYLOAD) */
	FH_IKE_ERR_SYNTAX = -5,      /* a payload malformed inside (INVALID_SYNTAX) */
	FH_IKE_ERR_TOO_MANY = -6,    /* more payloads/proposals/transforms than we keep */
	FH_IKE_ERR_SK_NOT_LAST = -7, /* payloads after the encrypted one */
};

struct fh_ike_hdr {
	uint64_t spi_i, spi_r;
	uint8_t next_payload;
	uint8_t major, minor;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

struct fh_ike_payload {
	uint8_t type;
	bool critical;
	const uint8_t *body; /* after the 4-byte generic header */
	uint16_t len;        /* of body */
};

struct fh_ike_msg {
	struct fh_ike_hdr hdr;
	uint8_t n;
	struct fh_ike_payload pl[FH_IKE_PAYLOADS_MAX];
	uint8_t unsupported_critical; /* set with FH_IKE_ERR_CRITICAL: the type to name in the notify */
};

/* Header and payload chain of a whole datagram (after any non-ESP marker). */
int fh_ike_parse(const uint8_t *buf, size_t len, struct fh_ike_msg *m);

/* The payload chain alone, e.g. the decrypted contents of SK, whose first type is next. */
int fh_ike_parse_chain(const uint8_t *buf, size_t len, uint8_t next, struct fh_ike_msg *m);

/* First payload of a type, or NULL. */
const struct fh_ike_payload *fh_ike_find(const struct fh_ike_msg *m, uint8_t type);

struct fh_ike_transform {
	uint8_t type;      /* 1 ENCR, 2 PRF, 3 INTEG, 4 DH, 5 ESN */
	uint16_t id;
	uint16_t key_len;  /* attribute 14 (Key Length), 0 when absent */
};

struct fh_ike_proposal {
	uint8_t num;
	uint8_t protocol;  /* 1 IKE, 2 AH, 3 ESP */
	uint8_t spi_len;
	const uint8_t *spi;
	uint8_t n_xf;
	struct fh_ike_transform xf[FH_IKE_TRANSFORMS_MAX];
};

struct fh_ike_sa {
	uint8_t n;
	struct fh_ike_proposal p[FH_IKE_PROPOSALS_MAX];
};

int fh_ike_parse_sa(const uint8_t *body, size_t len, struct fh_ike_sa *sa);

struct fh_ike_ke {
	uint16_t group;
	const uint8_t *data;
	uint16_t len;
};

int fh_ike_parse_ke(const uint8_t *body, size_t len, struct fh_ike_ke *ke);

struct fh_ike_notify {
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	uint16_t data_len;
};

int fh_ike_parse_notify(const uint8_t *body, size_t len, struct fh_ike_notify *n);

/* Nonces are 16..256 bytes (RFC 7296 3.9). */
int fh_ike_check_nonce(size_t len);

struct fh_ike_id {
	uint8_t type; /* 1 IPv4, 2 FQDN, 3 RFC822, 5 IPv6, 11 KEY_ID */
	const uint8_t *data;
	uint16_t len;
};

int fh_ike_parse_id(const uint8_t *body, size_t len, struct fh_ike_id *id);

struct fh_ike_ts {
	uint8_t type;      /* 7 IPv4 range */
	uint8_t proto;
	uint16_t port_lo, port_hi;
	uint32_t addr_lo, addr_hi; /* host order */
};

#define FH_IKE_TS_MAX 16
struct fh_ike_tsl {
	uint8_t n;
	struct fh_ike_ts ts[FH_IKE_TS_MAX];
};

/* Traffic selectors; IPv6 selectors (type 8) are checked for length and skipped. */
int fh_ike_parse_ts(const uint8_t *body, size_t len, struct fh_ike_tsl *t);

#endif
