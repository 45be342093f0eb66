/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_SK_H
#define FH_IKE_SK_H

/*
 * The Encrypted payload (SK, RFC 7296 3.14; AES-GCM per RFC 5282): sealing the inner payloads of
 * a message being built, and opening a received one after checking its ICV. Integrity first:
 * nothing is decrypted before the ICV (or GCM tag) verified.
 * Threading: none; control lcore. Errors: -1.
 */

#include <stddef.h>
#include <stdint.h>

#include "fh_ike_build.h"

/* IANA transform IDs (RFC 7296 3.3.2, RFC 5282). */
#define FH_IKE_ENCR_AES_CBC 12
#define FH_IKE_ENCR_AES_GCM_16 20
#define FH_IKE_INTEG_NONE 0
#define FH_IKE_INTEG_SHA1_96 2
#define FH_IKE_INTEG_SHA256_128 12
#define FH_IKE_INTEG_SHA384_192 13
#define FH_IKE_INTEG_SHA512_256 14

struct fh_ike_sk_alg {
	uint16_t encr;
	uint16_t key_len;   /* AES key bytes: 16, 24, 32 (GCM's 4-byte salt comes after the key) */
	uint16_t integ;     /* FH_IKE_INTEG_NONE with GCM */
};

/* Bytes of key material each needs from prf+ (SK_e includes GCM's salt), and the ICV length. */
size_t fh_ike_sk_encr_key_len(const struct fh_ike_sk_alg *a);
size_t fh_ike_sk_integ_key_len(const struct fh_ike_sk_alg *a);
size_t fh_ike_sk_icv_len(const struct fh_ike_sk_alg *a);

/* Append an SK payload holding inner (payload chain whose first type is first) to b. */
int fh_ike_sk_seal(struct fh_ike_builder *b, const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a,
		   uint8_t first, const uint8_t *inner, size_t inner_len);

/* Verify and decrypt the SK payload at sk (inside msg of len bytes, as fh_ike_parse found it);
 * writes the inner payload chain to out. Returns its length, or -1. */
int fh_ike_sk_open(const uint8_t *msg, size_t len, const uint8_t *sk_body, size_t sk_len, const struct fh_ike_sk_alg *a,
		   const uint8_t *sk_e, const uint8_t *sk_a, uint8_t *out, size_t cap);

/* The Encrypted Fragment payload (SKF, RFC 7383): fragment num of total (1-based) carrying chunk,
 * a piece of the inner payload chain; only fragment 1 names the first inner payload. */
int fh_ike_skf_seal(struct fh_ike_builder *b, const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a,
		    uint8_t first, uint16_t num, uint16_t total, const uint8_t *chunk, size_t len);

/* Verify and decrypt one SKF payload; its numbers come back in num/total. Returns the chunk's
 * length, or -1 (bad ICV, bad numbers, lengths). */
int fh_ike_skf_open(const uint8_t *msg, size_t len, const uint8_t *skf_body, size_t skf_len,
		    const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a, uint8_t *out, size_t cap,
		    uint16_t *num, uint16_t *total);

#endif
