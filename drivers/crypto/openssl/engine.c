/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL engine: one EVP call sequence per packet. Slower than IPsec-MB, but independent code,
 * which is what the cross-check tests want, and available where IPsec-MB is not.
 *
 * Several workers may encrypt with one outbound SA at the same time, so nothing in a session is
 * written after sess_init: it holds the raw cipher key and the HMAC inner and outer hash states.
 * What EVP mutates per operation lives in the per-lcore context: one EVP_CIPHER_CTX per cipher,
 * re-keyed on every packet from the session's key (EVP_CipherInit_ex with no cipher re-runs the
 * key schedule in place: measured 0 allocations per call on OpenSSL 3.0.19).
 *
 * HMAC uses the low-level SHA functions (deprecated in 3.0, still shipped) because on 3.0 every
 * EVP_MAC_init and EVP_DigestInit_ex frees and allocates the provider context (measured 2 to 5
 * allocations per packet); with them the precomputed ipad/opad states are plain structs that a
 * packet copies onto its stack: no allocation, no shared mutable state.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA*_Init/Update/Final: see above */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fh_config.h"
#include "fh_crypto.h"

/* One cipher context per cipher per lcore, indexed by enum fh_encr (NULL cipher: none). */
#define OSSL_CIPHERS (FH_ENCR_AES_GCM_256 + 1)

union ossl_hash {
	SHA_CTX sha1;
	SHA256_CTX sha256;
	SHA512_CTX sha512; /* SHA-384 too */
};

struct ossl_sess {
	union ossl_hash hin, hout; /* HMAC states after the ipad and opad blocks (RFC 2104) */
	uint8_t key[32];           /* the AES key without the GCM salt */
	uint8_t salt[4];
	uint8_t encr;
	uint8_t integ;
	uint8_t icv_len;
	bool gcm;
};

struct ossl_lcore {
	EVP_CIPHER_CTX *c[OSSL_CIPHERS];
};

static const EVP_CIPHER *cipher_of(uint8_t encr)
{
	switch (encr) {
	case FH_ENCR_AES_CBC_128: return EVP_aes_128_cbc();
	case FH_ENCR_AES_CBC_192: return EVP_aes_192_cbc();
	case FH_ENCR_AES_CBC_256: return EVP_aes_256_cbc();
	case FH_ENCR_AES_GCM_128: return EVP_aes_128_gcm();
	case FH_ENCR_AES_GCM_256: return EVP_aes_256_gcm();
	default: return NULL;
	}
}

/* Hash block size of an integrity algorithm; 0 when it is not one we do. */
static uint32_t hash_block(uint8_t integ)
{
	switch (integ) {
	case FH_INTEG_SHA1_96:
	case FH_INTEG_SHA256_128: return 64;
	case FH_INTEG_SHA384_192:
	case FH_INTEG_SHA512_256: return 128;
	default: return 0;
	}
}

static void h_init(uint8_t integ, union ossl_hash *h)
{
	switch (integ) {
	case FH_INTEG_SHA1_96: SHA1_Init(&h->sha1); break;
	case FH_INTEG_SHA256_128: SHA256_Init(&h->sha256); break;
	case FH_INTEG_SHA384_192: SHA384_Init(&h->sha512); break;
	default: SHA512_Init(&h->sha512); break;
	}
}

static void h_update(uint8_t integ, union ossl_hash *h, const void *p, size_t n)
{
	switch (integ) {
	case FH_INTEG_SHA1_96: SHA1_Update(&h->sha1, p, n); break;
	case FH_INTEG_SHA256_128: SHA256_Update(&h->sha256, p, n); break;
	case FH_INTEG_SHA384_192: SHA384_Update(&h->sha512, p, n); break;
	default: SHA512_Update(&h->sha512, p, n); break;
	}
}

/* Final digest into out (64 bytes room); returns its length. */
static uint32_t h_final(uint8_t integ, union ossl_hash *h, uint8_t *out)
{
	switch (integ) {
	case FH_INTEG_SHA1_96: SHA1_Final(out, &h->sha1); return 20;
	case FH_INTEG_SHA256_128: SHA256_Final(out, &h->sha256); return 32;
	case FH_INTEG_SHA384_192: SHA384_Final(out, &h->sha512); return 48;
	default: SHA512_Final(out, &h->sha512); return 64;
	}
}

static void ossl_sess_clear(void *sp)
{
	OPENSSL_cleanse(sp, sizeof(struct ossl_sess));
}

static int ossl_sess_init(void *sp, const struct fh_crypto_xform *x, enum fh_crypto_dir dir)
{
	struct ossl_sess *s = sp;
	const EVP_CIPHER *c = cipher_of(x->encr);

	(void)dir; /* one session serves either direction: the op says which */
	memset(s, 0, sizeof(*s));
	s->encr = x->encr;
	s->integ = x->integ;
	s->icv_len = (uint8_t)fh_crypto_icv_len(x->encr, x->integ);
	s->gcm = fh_crypto_is_aead(x->encr);
	if (x->encr != FH_ENCR_NULL) {
		uint32_t klen = s->gcm ? x->enc_key_len - 4 : x->enc_key_len;

		if (c == NULL || x->enc_key_len < (s->gcm ? 4u : 0u) || (int)klen != EVP_CIPHER_get_key_length(c) ||
		    klen > sizeof(s->key))
			return -1;
		memcpy(s->key, x->enc_key, klen);
		if (s->gcm)
			memcpy(s->salt, x->enc_key + klen, 4);
	}
	if (!s->gcm && x->integ != FH_INTEG_NONE) {
		uint32_t bs = hash_block(x->integ);
		uint8_t k[128], pad[128];

		if (bs == 0)
			goto fail;
		/* RFC 2104: a key longer than the block is hashed first, a shorter one zero-padded */
		memset(k, 0, sizeof(k));
		if (x->auth_key_len > bs) {
			union ossl_hash t;

			h_init(x->integ, &t);
			h_update(x->integ, &t, x->auth_key, x->auth_key_len);
			h_final(x->integ, &t, k);
		} else {
			memcpy(k, x->auth_key, x->auth_key_len);
		}
		for (uint32_t i = 0; i < bs; i++)
			pad[i] = k[i] ^ 0x36;
		h_init(x->integ, &s->hin);
		h_update(x->integ, &s->hin, pad, bs);
		for (uint32_t i = 0; i < bs; i++)
			pad[i] = k[i] ^ 0x5c;
		h_init(x->integ, &s->hout);
		h_update(x->integ, &s->hout, pad, bs);
		OPENSSL_cleanse(k, sizeof(k));
		OPENSSL_cleanse(pad, sizeof(pad));
	}
	return 0;
fail:
	ossl_sess_clear(s);
	return -1;
}

static void ossl_lcore_free(void *lctx)
{
	struct ossl_lcore *l = lctx;

	if (l == NULL)
		return;
	for (int i = 0; i < OSSL_CIPHERS; i++)
		EVP_CIPHER_CTX_free(l->c[i]);
	OPENSSL_free(l);
}

static void *ossl_lcore_create(void)
{
	struct ossl_lcore *l = OPENSSL_zalloc(sizeof(*l));

	if (l == NULL)
		return NULL;
	/* the cipher is set once here; per packet only key, IV and direction change */
	for (int i = 0; i < OSSL_CIPHERS; i++) {
		l->c[i] = EVP_CIPHER_CTX_new();
		if (l->c[i] == NULL || EVP_CipherInit_ex(l->c[i], cipher_of((uint8_t)i), NULL, NULL, NULL, 1) != 1) {
			ossl_lcore_free(l);
			return NULL;
		}
		EVP_CIPHER_CTX_set_padding(l->c[i], 0); /* ESP pads itself */
	}
	return l;
}

static void hmac(const struct ossl_sess *s, struct fh_crypto_op *op)
{
	union ossl_hash h = s->hin;
	uint8_t full[64];
	uint32_t n;

	h_update(s->integ, &h, op->auth, op->auth_len);
	n = h_final(s->integ, &h, full);
	h = s->hout;
	h_update(s->integ, &h, full, n);
	h_final(s->integ, &h, full);
	memcpy(op->icv, full, s->icv_len);
}

/* GCM's 12-byte IV is EVP's default length: nothing to set per context. */
static int gcm(const struct ossl_sess *s, EVP_CIPHER_CTX *c, struct fh_crypto_op *op, int enc)
{
	int out = 0;

	memcpy(op->nonce, s->salt, 4);
	memcpy(op->nonce + 4, op->iv, 8);
	if (EVP_CipherInit_ex(c, NULL, NULL, s->key, op->nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &out, op->aad, (int)op->aad_len) != 1 ||
	    EVP_CipherUpdate(c, op->cipher, &out, op->cipher, (int)op->cipher_len) != 1)
		return FH_CRYPTO_ERROR;
	if (enc) {
		if (EVP_CipherFinal_ex(c, op->cipher + out, &out) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, s->icv_len, op->icv) != 1)
			return FH_CRYPTO_ERROR;
		return FH_CRYPTO_OK;
	}
	memcpy(op->icv, op->icv_expected, s->icv_len);
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, s->icv_len, op->icv) != 1)
		return FH_CRYPTO_ERROR;
	/* Final checks the tag (in constant time inside OpenSSL) */
	return EVP_CipherFinal_ex(c, op->cipher + out, &out) == 1 ? FH_CRYPTO_OK : FH_CRYPTO_AUTH_FAILED;
}

static int one(struct ossl_lcore *l, const struct ossl_sess *s, struct fh_crypto_op *op, enum fh_crypto_dir dir)
{
	int out = 0, enc = dir == FH_CRYPTO_ENCRYPT;
	bool mac = !s->gcm && s->integ != FH_INTEG_NONE;

	if (s->gcm)
		return gcm(s, l->c[s->encr], op, enc);
	/* decrypt: verify before deciphering, so nothing of an unauthenticated packet is used */
	if (!enc && mac) {
		hmac(s, op);
		if (!fh_crypto_icv_equal(op->icv, op->icv_expected, s->icv_len))
			return FH_CRYPTO_AUTH_FAILED;
	}
	if (s->encr != FH_ENCR_NULL) {
		EVP_CIPHER_CTX *c = l->c[s->encr];

		if (EVP_CipherInit_ex(c, NULL, NULL, s->key, op->iv, enc) != 1 ||
		    EVP_CipherUpdate(c, op->cipher, &out, op->cipher, (int)op->cipher_len) != 1)
			return FH_CRYPTO_ERROR;
	}
	if (enc && mac)
		hmac(s, op);
	return FH_CRYPTO_OK;
}

static uint16_t ossl_process(void *lctx, enum fh_crypto_dir dir, struct fh_crypto_op *ops, uint16_t n)
{
	uint16_t ok = 0;

	for (uint16_t i = 0; i < n; i++) {
		ops[i].status = one(lctx, ops[i].sess, &ops[i], dir);
		ok += ops[i].status == FH_CRYPTO_OK;
	}
	return ok;
}

const struct fh_crypto_engine fh_crypto_openssl = {
	.name = "openssl",
	.sess_size = sizeof(struct ossl_sess),
	.sess_hot = sizeof(struct ossl_sess),
	.sess_init = ossl_sess_init,
	.sess_clear = ossl_sess_clear,
	.lcore_create = ossl_lcore_create,
	.lcore_free = ossl_lcore_free,
	.process = ossl_process,
};
