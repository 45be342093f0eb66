/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_CRYPTO_H
#define FH_CRYPTO_H

/*
 * Data-plane crypto engines behind one batched interface: ipsec_mb (default, multi-buffer) and
 * openssl. An engine ciphers in place; encrypting, it writes the ICV to op->icv; decrypting, it
 * checks the ICV against op->icv_expected in constant time and reports a mismatch in status.
 *
 * Sessions hold precomputed keys (expanded AES keys, HMAC inner/outer states, GHASH tables);
 * they are built on the control lcore and then only read, so any number of lcores may use one
 * session at the same time (several workers share an outbound SA). Whatever an operation
 * mutates lives in the per-lcore context from lcore_create() (an IMB_MGR; OpenSSL's
 * EVP_CIPHER_CTXs), which must be used by that lcore only. process() never allocates, locks or
 * makes system calls.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fh_crypto_dir {
	FH_CRYPTO_ENCRYPT,
	FH_CRYPTO_DECRYPT,
};

/* Largest ICV (HMAC-SHA512-256) and key sizes the engines take. */
#define FH_CRYPTO_ICV_MAX 32
#define FH_CRYPTO_KEY_MAX 64

struct fh_crypto_xform {
	uint8_t encr;            /* enum fh_encr */
	uint8_t integ;           /* enum fh_integ; FH_INTEG_NONE with GCM */
	const uint8_t *enc_key;  /* GCM: the AES key followed by the 4-byte salt (RFC 4106 8.1) */
	uint32_t enc_key_len;
	const uint8_t *auth_key;
	uint32_t auth_key_len;
};

/* One packet's work. The ESP layer fills it; the engine reads the pointers and writes icv. */
struct fh_crypto_op {
	const void *sess;
	uint8_t *cipher;         /* ciphered in place */
	uint32_t cipher_len;     /* a multiple of the block size for CBC */
	const uint8_t *iv;       /* CBC: 16 bytes; GCM: the 8-byte explicit IV */
	const uint8_t *auth;     /* HMAC: the authenticated bytes (ESP header .. end of ciphertext [+ ESN hi]) */
	uint32_t auth_len;
	const uint8_t *aad;      /* GCM: SPI + sequence number (8, or 12 with ESN) */
	uint32_t aad_len;
	const uint8_t *icv_expected; /* decrypt: the ICV that came with the packet */
	uint8_t icv[FH_CRYPTO_ICV_MAX]; /* encrypt: out, the ICV; decrypt: engine scratch */
	uint8_t nonce[16];       /* engine scratch: GCM salt || IV */
	int status;              /* out: FH_CRYPTO_OK, FH_CRYPTO_ERROR or FH_CRYPTO_AUTH_FAILED */
};

#define FH_CRYPTO_OK 0
#define FH_CRYPTO_ERROR (-1)       /* the engine refused the op (bad lengths) */
#define FH_CRYPTO_AUTH_FAILED (-2) /* the ICV did not verify: the data must not be used */

/* Constant-time compare for ICVs: no early exit an attacker could time. */
static inline bool fh_crypto_icv_equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint8_t d = 0;

	for (uint32_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

struct fh_crypto_engine {
	const char *name;
	size_t sess_size;
	/* Bytes at the session's start one op reads (a worker prefetches them for a cold SA). */
	size_t sess_hot;
	/* Build a session; 0 or -1 (unsupported algorithm or key length). Control lcore. */
	int (*sess_init)(void *sess, const struct fh_crypto_xform *x, enum fh_crypto_dir dir);
	/* Wipe keys; the memory is the caller's. */
	void (*sess_clear)(void *sess);
	/* Per-lcore context; NULL on failure. */
	void *(*lcore_create)(void);
	void (*lcore_free)(void *lctx);
	/* Process n ops of one direction; returns how many completed with FH_CRYPTO_OK. */
	uint16_t (*process)(void *lctx, enum fh_crypto_dir dir, struct fh_crypto_op *ops, uint16_t n);
};

/* By name ("ipsec-mb", "openssl"); NULL when unknown. */
const struct fh_crypto_engine *fh_crypto_engine_get(const char *name);

/* ICV length of an integrity algorithm (enum fh_integ), 16 for GCM; IV and block sizes of a cipher. */
uint32_t fh_crypto_icv_len(uint8_t encr, uint8_t integ);
uint32_t fh_crypto_iv_len(uint8_t encr);
uint32_t fh_crypto_block_len(uint8_t encr);
bool fh_crypto_is_aead(uint8_t encr);

extern const struct fh_crypto_engine fh_crypto_ipsec_mb;
extern const struct fh_crypto_engine fh_crypto_openssl;

#endif
