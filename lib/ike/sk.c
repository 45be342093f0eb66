/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv2 Encrypted payload on OpenSSL 3: AES-CBC + HMAC (RFC 7296 3.14), AES-GCM-16 (RFC 5282). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "fh_ike_crypto.h"
#include "fh_ike_sk.h"

#define GCM_SALT 4
#define GCM_IV 8
#define GCM_TAG 16
#define CBC_IV 16
/* The largest message this builds or opens: IKE messages over UDP stay well below 64 KiB. */
#define SK_MAX 65535

static const EVP_MD *integ_md(uint16_t integ)
{
	switch (integ) {
	case FH_IKE_INTEG_SHA1_96: return EVP_sha1();
	case FH_IKE_INTEG_SHA256_128: return EVP_sha256();
	case FH_IKE_INTEG_SHA384_192: return EVP_sha384();
	case FH_IKE_INTEG_SHA512_256: return EVP_sha512();
	default: return NULL;
	}
}

static const EVP_CIPHER *cipher(const struct fh_ike_sk_alg *a)
{
	bool gcm = a->encr == FH_IKE_ENCR_AES_GCM_16;

	switch (a->key_len) {
	case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
	case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
	case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	default: return NULL;
	}
}

size_t fh_ike_sk_encr_key_len(const struct fh_ike_sk_alg *a)
{
	return (size_t)a->key_len + (a->encr == FH_IKE_ENCR_AES_GCM_16 ? GCM_SALT : 0);
}

size_t fh_ike_sk_integ_key_len(const struct fh_ike_sk_alg *a)
{
	const EVP_MD *md = integ_md(a->integ);

	/* HMAC keys as long as the hash output (RFC 4868 2.1.2, RFC 2404) */
	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

size_t fh_ike_sk_icv_len(const struct fh_ike_sk_alg *a)
{
	if (a->encr == FH_IKE_ENCR_AES_GCM_16)
		return GCM_TAG;
	return fh_ike_sk_integ_key_len(a) / 2 + (a->integ == FH_IKE_INTEG_SHA1_96 ? 2 : 0); /* 12, 16, 24, 32 */
}

static bool valid(const struct fh_ike_sk_alg *a)
{
	if (cipher(a) == NULL)
		return false;
	if (a->encr == FH_IKE_ENCR_AES_GCM_16)
		return a->integ == FH_IKE_INTEG_NONE;
	return a->encr == FH_IKE_ENCR_AES_CBC && integ_md(a->integ) != NULL;
}

static int crypt(const struct fh_ike_sk_alg *a, int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
		 size_t aad_len, uint8_t *data, size_t len, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	bool gcm = a->encr == FH_IKE_ENCR_AES_GCM_16;
	uint8_t nonce[GCM_SALT + GCM_IV];
	int n = 0, ok;

	if (c == NULL)
		return -1;
	if (gcm) {
		memcpy(nonce, key + a->key_len, GCM_SALT);
		memcpy(nonce + GCM_SALT, iv, GCM_IV);
	}
	ok = EVP_CipherInit_ex(c, cipher(a), NULL, key, gcm ? nonce : iv, enc) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1;
	if (ok && gcm) {
		ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1;
		if (ok && !enc)
			ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1;
	}
	ok = ok && EVP_CipherUpdate(c, data, &n, data, (int)len) == 1 && EVP_CipherFinal_ex(c, data + n, &n) == 1;
	if (ok && gcm && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* Seal inner into a payload of type (SK, or SKF with its 4-byte fragment numbers in prefix: the
 * numbers come before the IV and are covered by the ICV / GCM AAD, RFC 7383 2.5). */
static int seal(struct fh_ike_builder *b, uint8_t type, const uint8_t *prefix, size_t prefix_len,
		const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a, uint8_t first, const uint8_t *inner,
		size_t inner_len)
{
	bool gcm = a->encr == FH_IKE_ENCR_AES_GCM_16;
	size_t ivl = gcm ? GCM_IV : CBC_IV, icv = fh_ike_sk_icv_len(a), block = gcm ? 1 : 16;
	size_t pad = (block - (inner_len + 1) % block) % block, ct = inner_len + pad + 1;
	uint8_t *body, *iv, *p, full[64];
	unsigned int hl = 0;

	if (!valid(a) || inner_len > SK_MAX)
		return -1;
	body = fh_ike_add(b, type, NULL, prefix_len + ivl + ct + icv);
	if (body == NULL)
		return -1;
	/* the header names the first inner payload */
	b->buf[b->last] = first;
	if (prefix_len != 0)
		memcpy(body, prefix, prefix_len);
	iv = body + prefix_len;
	if (RAND_bytes(iv, (int)ivl) != 1)
		return -1;
	p = iv + ivl;
	memcpy(p, inner, inner_len);
	memset(p + inner_len, 0, pad); /* RFC 7296 3.14: padding of any value; zeros */
	p[inner_len + pad] = (uint8_t)pad;
	/* GCM: the AAD is the message up to the IV (RFC 5282 5.1, RFC 7383 2.5) */
	if (crypt(a, 1, sk_e, iv, b->buf, (size_t)(iv - b->buf), p, ct, p + ct) < 0)
		return -1;
	if (!gcm) {
		/* the ICV covers the whole message up to it, header included */
		if (fh_ike_hmac(integ_md(a->integ), sk_a, fh_ike_sk_integ_key_len(a), b->buf, (size_t)(p + ct - b->buf), full,
				&hl) < 0)
			return -1;
		memcpy(p + ct, full, icv);
	}
	return 0;
}

int fh_ike_sk_seal(struct fh_ike_builder *b, const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a,
		   uint8_t first, const uint8_t *inner, size_t inner_len)
{
	return seal(b, FH_IKE_PL_SK, NULL, 0, a, sk_e, sk_a, first, inner, inner_len);
}

int fh_ike_skf_seal(struct fh_ike_builder *b, const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a,
		    uint8_t first, uint16_t num, uint16_t total, const uint8_t *chunk, size_t len)
{
	uint8_t pre[4] = {(uint8_t)(num >> 8), (uint8_t)num, (uint8_t)(total >> 8), (uint8_t)total};

	/* only the first fragment names the first inner payload (RFC 7383 2.5) */
	return seal(b, FH_IKE_PL_SKF, pre, sizeof(pre), a, sk_e, sk_a, num == 1 ? first : 0, chunk, len);
}

static int open_any(const uint8_t *msg, size_t len, const uint8_t *body, size_t body_len, size_t prefix_len,
		    const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a, uint8_t *out, size_t cap)
{
	bool gcm = a->encr == FH_IKE_ENCR_AES_GCM_16;
	size_t ivl = gcm ? GCM_IV : CBC_IV, icv = fh_ike_sk_icv_len(a), ct;
	const uint8_t *iv = body + prefix_len;
	uint8_t full[64], tag[GCM_TAG];
	unsigned int hl = 0;
	uint8_t pad;

	if (!valid(a) || body < msg || body + body_len != msg + len || body_len < prefix_len + ivl + icv + 1)
		return -1;
	ct = body_len - prefix_len - ivl - icv;
	if ((!gcm && ct % 16 != 0) || ct > cap)
		return -1;
	if (!gcm) {
		/* integrity first: nothing is decrypted before the ICV matched */
		if (fh_ike_hmac(integ_md(a->integ), sk_a, fh_ike_sk_integ_key_len(a), msg, len - icv, full, &hl) < 0 ||
		    CRYPTO_memcmp(full, msg + len - icv, icv) != 0)
			return -1;
	}
	memcpy(out, iv + ivl, ct);
	memcpy(tag, msg + len - GCM_TAG, GCM_TAG);
	if (crypt(a, 0, sk_e, iv, msg, (size_t)(iv - msg), out, ct, tag) < 0) {
		memset(out, 0, ct); /* a failed GCM tag: the plaintext must not be used */
		return -1;
	}
	pad = out[ct - 1];
	if ((size_t)pad + 1 > ct)
		return -1;
	return (int)(ct - pad - 1);
}

int fh_ike_sk_open(const uint8_t *msg, size_t len, const uint8_t *sk_body, size_t sk_len, const struct fh_ike_sk_alg *a,
		   const uint8_t *sk_e, const uint8_t *sk_a, uint8_t *out, size_t cap)
{
	return open_any(msg, len, sk_body, sk_len, 0, a, sk_e, sk_a, out, cap);
}

int fh_ike_skf_open(const uint8_t *msg, size_t len, const uint8_t *skf_body, size_t skf_len,
		    const struct fh_ike_sk_alg *a, const uint8_t *sk_e, const uint8_t *sk_a, uint8_t *out, size_t cap,
		    uint16_t *num, uint16_t *total)
{
	if (skf_len < 4)
		return -1;
	*num = (uint16_t)(skf_body[0] << 8 | skf_body[1]);
	*total = (uint16_t)(skf_body[2] << 8 | skf_body[3]);
	/* RFC 7383 2.6: numbers start at 1 and never pass the total */
	if (*num == 0 || *num > *total)
		return -1;
	return open_any(msg, len, skf_body, skf_len, 4, a, sk_e, sk_a, out, cap);
}
