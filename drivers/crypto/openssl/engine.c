/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL engine: one EVP call sequence per packet. Slower than IPsec-MB, but independent code,
 * which is what the cross-check tests want, and available where IPsec-MB is not. Contexts are
 * created with the session and re-keyed per packet only with the IV: nothing is allocated on the
 * packet path.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "fh_config.h"
#include "fh_crypto.h"

struct ossl_sess {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	uint8_t salt[4];
	uint8_t encr;
	uint8_t integ;
	uint8_t icv_len;
	bool gcm;
};

static EVP_MAC *hmac_alg;

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

static const char *digest_of(uint8_t integ)
{
	switch (integ) {
	case FH_INTEG_SHA1_96: return "SHA1";
	case FH_INTEG_SHA256_128: return "SHA256";
	case FH_INTEG_SHA384_192: return "SHA384";
	case FH_INTEG_SHA512_256: return "SHA512";
	default: return NULL;
	}
}

static void ossl_sess_clear(void *sp)
{
	struct ossl_sess *s = sp;

	EVP_CIPHER_CTX_free(s->cipher);
	EVP_MAC_CTX_free(s->mac);
	memset(s, 0, sizeof(*s));
}

static int ossl_sess_init(void *sp, const struct fh_crypto_xform *x, enum fh_crypto_dir dir)
{
	struct ossl_sess *s = sp;
	const EVP_CIPHER *c = cipher_of(x->encr);
	int enc = dir == FH_CRYPTO_ENCRYPT;

	memset(s, 0, sizeof(*s));
	s->encr = x->encr;
	s->integ = x->integ;
	s->icv_len = (uint8_t)fh_crypto_icv_len(x->encr, x->integ);
	s->gcm = fh_crypto_is_aead(x->encr);
	if (x->encr != FH_ENCR_NULL) {
		uint32_t klen = s->gcm ? x->enc_key_len - 4 : x->enc_key_len;

		if (c == NULL || (int)klen != EVP_CIPHER_get_key_length(c))
			return -1;
		s->cipher = EVP_CIPHER_CTX_new();
		if (s->cipher == NULL || EVP_CipherInit_ex(s->cipher, c, NULL, x->enc_key, NULL, enc) != 1)
			goto fail;
		EVP_CIPHER_CTX_set_padding(s->cipher, 0);
		if (s->gcm) {
			memcpy(s->salt, x->enc_key + klen, 4);
			if (EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1)
				goto fail;
		}
	}
	if (!s->gcm && x->integ != FH_INTEG_NONE) {
		OSSL_PARAM p[2];

		if (hmac_alg == NULL)
			hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (hmac_alg == NULL || digest_of(x->integ) == NULL)
			goto fail;
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest_of(x->integ), 0);
		p[1] = OSSL_PARAM_construct_end();
		s->mac = EVP_MAC_CTX_new(hmac_alg);
		if (s->mac == NULL || EVP_MAC_init(s->mac, x->auth_key, x->auth_key_len, p) != 1)
			goto fail;
	}
	return 0;
fail:
	ossl_sess_clear(s);
	return -1;
}

static void *ossl_lcore_create(void)
{
	static int dummy;

	return &dummy; /* OpenSSL needs no per-lcore state beyond the sessions' contexts */
}

static void ossl_lcore_free(void *lctx)
{
	(void)lctx;
}

static int hmac(const struct ossl_sess *s, struct fh_crypto_op *op)
{
	uint8_t full[64];
	size_t len = 0;

	/* a NULL key re-initializes with the key given at session setup (OpenSSL 3 EVP_MAC_init) */
	if (EVP_MAC_init(s->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(s->mac, op->auth, op->auth_len) != 1 ||
	    EVP_MAC_final(s->mac, full, &len, sizeof(full)) != 1 || len < s->icv_len)
		return FH_CRYPTO_ERROR;
	memcpy(op->icv, full, s->icv_len);
	return FH_CRYPTO_OK;
}

static int gcm(const struct ossl_sess *s, struct fh_crypto_op *op, int enc)
{
	int out = 0;

	memcpy(op->nonce, s->salt, 4);
	memcpy(op->nonce + 4, op->iv, 8);
	if (EVP_CipherInit_ex(s->cipher, NULL, NULL, NULL, op->nonce, enc) != 1 ||
	    EVP_CipherUpdate(s->cipher, NULL, &out, op->aad, (int)op->aad_len) != 1 ||
	    EVP_CipherUpdate(s->cipher, op->cipher, &out, op->cipher, (int)op->cipher_len) != 1)
		return FH_CRYPTO_ERROR;
	if (enc) {
		if (EVP_CipherFinal_ex(s->cipher, op->cipher + out, &out) != 1 ||
		    EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, s->icv_len, op->icv) != 1)
			return FH_CRYPTO_ERROR;
		return FH_CRYPTO_OK;
	}
	memcpy(op->icv, op->icv_expected, s->icv_len);
	if (EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_TAG, s->icv_len, op->icv) != 1)
		return FH_CRYPTO_ERROR;
	/* Final checks the tag (in constant time inside OpenSSL) */
	return EVP_CipherFinal_ex(s->cipher, op->cipher + out, &out) == 1 ? FH_CRYPTO_OK : FH_CRYPTO_AUTH_FAILED;
}

static int one(const struct ossl_sess *s, struct fh_crypto_op *op, enum fh_crypto_dir dir)
{
	int out = 0, enc = dir == FH_CRYPTO_ENCRYPT;

	if (s->gcm)
		return gcm(s, op, enc);
	/* decrypt: verify before deciphering, so nothing of an unauthenticated packet is used */
	if (!enc && s->mac != NULL) {
		if (hmac(s, op) != FH_CRYPTO_OK)
			return FH_CRYPTO_ERROR;
		if (!fh_crypto_icv_equal(op->icv, op->icv_expected, s->icv_len))
			return FH_CRYPTO_AUTH_FAILED;
	}
	if (s->cipher != NULL && (EVP_CipherInit_ex(s->cipher, NULL, NULL, NULL, op->iv, enc) != 1 ||
				  EVP_CipherUpdate(s->cipher, op->cipher, &out, op->cipher, (int)op->cipher_len) != 1))
		return FH_CRYPTO_ERROR;
	if (enc && s->mac != NULL)
		return hmac(s, op);
	return FH_CRYPTO_OK;
}

static uint16_t ossl_process(void *lctx, enum fh_crypto_dir dir, struct fh_crypto_op *ops, uint16_t n)
{
	uint16_t ok = 0;

	(void)lctx;
	for (uint16_t i = 0; i < n; i++) {
		ops[i].status = one(ops[i].sess, &ops[i], dir);
		ok += ops[i].status == FH_CRYPTO_OK;
	}
	return ok;
}

const struct fh_crypto_engine fh_crypto_openssl = {
	.name = "openssl",
	.sess_size = sizeof(struct ossl_sess),
	.sess_init = ossl_sess_init,
	.sess_clear = ossl_sess_clear,
	.lcore_create = ossl_lcore_create,
	.lcore_free = ossl_lcore_free,
	.process = ossl_process,
};
