/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_CRYPTO_H
#define FH_IKE_CRYPTO_H

/*
 * IKEv2 key exchange and key derivation through OpenSSL 3 (RFC 7296 2.13, 2.14):
 * Diffie-Hellman groups 14/15/16 (MODP, RFC 3526), 19/20/21 (ECP, RFC 5903: public value x || y),
 * 31 (Curve25519, RFC 8031), the PRFs HMAC-SHA1/256/384/512, prf+, and SKEYSEED with the seven keys.
 *
 * Threading: objects belong to the control lcore. Errors: NULL / -1; peer values that are not
 * valid group elements are refused (RFC 6989), which the state machine answers with
 * INVALID_KE_PAYLOAD or INVALID_SYNTAX.
 */

#include <stddef.h>
#include <stdint.h>

struct fh_ike_dh;

/* A fresh key pair for a group; NULL for an unsupported group. */
struct fh_ike_dh *fh_ike_dh_new(uint16_t group);
void fh_ike_dh_free(struct fh_ike_dh *dh);
/* Length of the group's public values and shared secrets on the wire. */
size_t fh_ike_dh_pub_len(uint16_t group);
/* Our public value as the KE payload carries it; returns its length or -1. */
int fh_ike_dh_public(const struct fh_ike_dh *dh, uint8_t *out, size_t cap);
/* g^ir from the peer's public value; returns the secret's length or -1 (bad peer value). */
int fh_ike_dh_shared(const struct fh_ike_dh *dh, const uint8_t *peer, size_t len, uint8_t *out, size_t cap);

enum fh_ike_prf_alg {
	FH_IKE_PRF_SHA1 = 2,   /* IANA transform IDs (RFC 7296 3.3.2) */
	FH_IKE_PRF_SHA256 = 5,
	FH_IKE_PRF_SHA384 = 6,
	FH_IKE_PRF_SHA512 = 7,
};

/* Output length of a PRF, 0 if unknown. */
size_t fh_ike_prf_len(uint16_t prf);
int fh_ike_prf(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen, uint8_t *out);
/* HMAC with per-thread contexts (no allocation per call); 0 or -1. */
struct evp_md_st;
int fh_ike_hmac(const struct evp_md_st *md, const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen,
		uint8_t *out, unsigned int *outlen);
/* prf+ (RFC 7296 2.13): T1 | T2 | ..., Tn = prf(K, Tn-1 | S | n); at most 255 blocks. */
int fh_ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *seed, size_t slen, uint8_t *out,
		    size_t len);

/* The IKE SA's keys (RFC 7296 2.14), lengths as the negotiated algorithms need. */
struct fh_ike_keys {
	uint8_t sk_d[64], sk_ai[64], sk_ar[64], sk_ei[36], sk_er[36], sk_pi[64], sk_pr[64];
	size_t prf_len, integ_len, encr_len;
};

int fh_ike_derive(uint16_t prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		  const uint8_t *gir, size_t gir_len, uint64_t spi_i, uint64_t spi_r, size_t integ_len, size_t encr_len,
		  struct fh_ike_keys *k);

#endif
