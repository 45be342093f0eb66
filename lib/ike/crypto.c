/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv2 Diffie-Hellman, PRF, prf+ and key derivation on OpenSSL 3. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "fh_ike_crypto.h"

struct fh_ike_dh {
	uint16_t group;
	EVP_PKEY *key;
};

struct group_info {
	uint16_t id;
	const char *alg;   /* OpenSSL key type */
	const char *name;  /* OpenSSL group name */
	size_t len;        /* public value length on the wire */
};

static const struct group_info groups[] = {
	{14, "DH", "modp_2048", 256}, {15, "DH", "modp_3072", 384}, {16, "DH", "modp_4096", 512},
	{19, "EC", "prime256v1", 64}, {20, "EC", "secp384r1", 96},  {21, "EC", "secp521r1", 132},
	{31, "X25519", NULL, 32},
};

static const struct group_info *group_of(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

size_t fh_ike_dh_pub_len(uint16_t group)
{
	const struct group_info *g = group_of(group);

	return g ? g->len : 0;
}

#ifdef FH_FUZZ_CHEAP_DH
/*
 * Fuzz builds only (lib/ike/meson.build builds fh_ike_fuzz with -DFH_FUZZ_CHEAP_DH for the state
 * machine's fuzz target): key pairs, public values and shared secrets are fixed bytes of the
 * group's lengths, so an exchange costs no modular exponentiation and a recorded exchange can be
 * replayed (both ends compute the same g^ir whatever the KE payloads say). Lengths are checked
 * as the real code checks them; PRFs, prf+, key derivation and the SK payload stay real.
 */
struct fh_ike_dh *fh_ike_dh_new(uint16_t group)
{
	struct fh_ike_dh *dh;

	if (group_of(group) == NULL || (dh = calloc(1, sizeof(*dh))) == NULL)
		return NULL;
	dh->group = group;
	return dh;
}

void fh_ike_dh_free(struct fh_ike_dh *dh)
{
	free(dh);
}

int fh_ike_dh_public(const struct fh_ike_dh *dh, uint8_t *out, size_t cap)
{
	const struct group_info *g = group_of(dh->group);

	if (cap < g->len)
		return -1;
	for (size_t i = 0; i < g->len; i++)
		out[i] = (uint8_t)(0xa5 ^ i ^ dh->group);
	return (int)g->len;
}

int fh_ike_dh_shared(const struct fh_ike_dh *dh, const uint8_t *v, size_t len, uint8_t *out, size_t cap)
{
	const struct group_info *g = group_of(dh->group);
	size_t want = strcmp(g->alg, "EC") == 0 ? g->len / 2 : g->len;

	(void)v;
	if (len != g->len || cap < want)
		return -1;
	for (size_t i = 0; i < want; i++)
		out[i] = (uint8_t)(0x3c + i * 7 + dh->group);
	return (int)want;
}
#else
struct fh_ike_dh *fh_ike_dh_new(uint16_t group)
{
	const struct group_info *g = group_of(group);
	struct fh_ike_dh *dh;
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM p[2];

	if (g == NULL)
		return NULL;
	dh = calloc(1, sizeof(*dh));
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->alg, NULL);
	if (dh == NULL || ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
		goto fail;
	if (g->name != NULL) {
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0);
		p[1] = OSSL_PARAM_construct_end();
		if (EVP_PKEY_CTX_set_params(ctx, p) <= 0)
			goto fail;
	}
	if (EVP_PKEY_generate(ctx, &dh->key) <= 0)
		goto fail;
	dh->group = group;
	EVP_PKEY_CTX_free(ctx);
	return dh;
fail:
	EVP_PKEY_CTX_free(ctx);
	free(dh);
	return NULL;
}

void fh_ike_dh_free(struct fh_ike_dh *dh)
{
	if (dh != NULL) {
		EVP_PKEY_free(dh->key);
		free(dh);
	}
}

int fh_ike_dh_public(const struct fh_ike_dh *dh, uint8_t *out, size_t cap)
{
	const struct group_info *g = group_of(dh->group);
	uint8_t pt[1 + 2 * 66];
	size_t n = 0;

	if (cap < g->len)
		return -1;
	if (strcmp(g->alg, "DH") == 0) {
		BIGNUM *pub = NULL;
		int ok = EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &pub) == 1 &&
			 BN_bn2binpad(pub, out, (int)g->len) == (int)g->len;

		BN_free(pub);
		return ok ? (int)g->len : -1;
	}
	if (strcmp(g->alg, "EC") == 0) {
		/* RFC 5903 7: x || y, without SEC1's 0x04 prefix */
		if (EVP_PKEY_get_octet_string_param(dh->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &n) != 1 ||
		    n != g->len + 1 || pt[0] != 0x04)
			return -1;
		memcpy(out, pt + 1, g->len);
		return (int)g->len;
	}
	n = cap;
	return EVP_PKEY_get_raw_public_key(dh->key, out, &n) == 1 && n == g->len ? (int)n : -1;
}

/* The peer's public value as an EVP_PKEY of our group; NULL when it is not a valid element. */
static EVP_PKEY *peer_key(const struct fh_ike_dh *dh, const struct group_info *g, const uint8_t *v, size_t len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;
	BIGNUM *bn = NULL;
	uint8_t pt[1 + 2 * 66];

	if (len != g->len)
		return NULL;
	if (strcmp(g->alg, "X25519") == 0)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, v, len);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0) != 1)
		goto out;
	if (strcmp(g->alg, "DH") == 0) {
		bn = BN_bin2bn(v, (int)len, NULL);
		if (bn == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn) != 1)
			goto out;
	} else {
		pt[0] = 0x04;
		memcpy(pt + 1, v, len);
		if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, len + 1) != 1)
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->alg, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	/* RFC 6989: check the element, once: 1 < y < p-1 for MODP (2.1: enough for the safe primes of
	 * groups 14-16; the full subgroup test cost 3 ms per peer), on the curve for ECP */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	if (ctx == NULL ||
	    (strcmp(g->alg, "DH") == 0 ? EVP_PKEY_public_check_quick(ctx) : EVP_PKEY_public_check(ctx)) != 1) {
		EVP_PKEY_free(peer);
		peer = NULL;
	}
out:
	(void)dh;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	return peer;
}

int fh_ike_dh_shared(const struct fh_ike_dh *dh, const uint8_t *v, size_t len, uint8_t *out, size_t cap)
{
	const struct group_info *g = group_of(dh->group);
	EVP_PKEY *peer = peer_key(dh, g, v, len);
	EVP_PKEY_CTX *ctx = NULL;
	size_t want = strcmp(g->alg, "EC") == 0 ? g->len / 2 : g->len, n = 0;
	uint8_t tmp[512];
	int rc = -1;

	if (peer == NULL || cap < want)
		goto out;
	ctx = EVP_PKEY_CTX_new(dh->key, NULL);
	n = sizeof(tmp);
	/* MODP secrets keep their leading zeros (RFC 7296 2.14: the length of the prime) */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    (strcmp(g->alg, "DH") == 0 && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    /* checked in peer_key already: not again (it was another 3 ms for MODP) */
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0 || EVP_PKEY_derive(ctx, tmp, &n) <= 0 || n != want)
		goto out;
	/* an all-zero X25519 result means a small-order peer point (RFC 8031 2.4) */
	if (strcmp(g->alg, "X25519") == 0) {
		uint8_t z = 0;

		for (size_t i = 0; i < n; i++)
			z |= tmp[i];
		if (z == 0)
			goto out;
	}
	memcpy(out, tmp, n);
	rc = (int)n;
out:
	memset(tmp, 0, sizeof(tmp));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return rc;
}
#endif /* FH_FUZZ_CHEAP_DH */

static const EVP_MD *md_of(uint16_t prf)
{
	switch (prf) {
	case FH_IKE_PRF_SHA1: return EVP_sha1();
	case FH_IKE_PRF_SHA256: return EVP_sha256();
	case FH_IKE_PRF_SHA384: return EVP_sha384();
	case FH_IKE_PRF_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

size_t fh_ike_prf_len(uint16_t prf)
{
	const EVP_MD *md = md_of(prf);

	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

/*
 * HMAC with contexts kept per thread and per digest: OpenSSL 3's one-shot HMAC() fetches the
 * algorithm and allocates a context on every call, which cost more than the hashing itself (18 %
 * of a responder's IKE SA with X25519). A context is re-keyed by EVP_MAC_init and keeps its digest.
 */
int fh_ike_hmac(const EVP_MD *md, const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen, uint8_t *out,
		unsigned int *outlen)
{
	static __thread EVP_MAC *mac;
	static __thread struct {
		const EVP_MD *md;
		EVP_MAC_CTX *ctx;
	} cache[4];
	EVP_MAC_CTX *ctx = NULL;
	size_t n = 0;

	if (md == NULL)
		return -1;
	if (mac == NULL && (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	for (int i = 0; i < 4 && ctx == NULL; i++) {
		if (cache[i].md == md) {
			ctx = cache[i].ctx;
		} else if (cache[i].md == NULL) {
			OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string("digest", (char *)EVP_MD_get0_name(md), 0),
					   OSSL_PARAM_construct_end()};

			ctx = EVP_MAC_CTX_new(mac);
			if (ctx == NULL || EVP_MAC_CTX_set_params(ctx, p) != 1) {
				EVP_MAC_CTX_free(ctx);
				return -1;
			}
			cache[i].md = md;
			cache[i].ctx = ctx;
		}
	}
	if (ctx == NULL) /* more digests than slots: the slow way */
		return HMAC(md, key, (int)klen, data, dlen, out, outlen) != NULL ? 0 : -1;
	if (EVP_MAC_init(ctx, key, klen, NULL) != 1 || EVP_MAC_update(ctx, data, dlen) != 1 ||
	    EVP_MAC_final(ctx, out, &n, EVP_MAX_MD_SIZE) != 1)
		return -1;
	*outlen = (unsigned int)n;
	return 0;
}

int fh_ike_prf(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen, uint8_t *out)
{
	unsigned int n = 0;

	if (fh_ike_hmac(md_of(prf), key, klen, data, dlen, out, &n) < 0)
		return -1;
	return (int)n;
}

int fh_ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *seed, size_t slen, uint8_t *out,
		    size_t len)
{
	size_t h = fh_ike_prf_len(prf), done = 0;
	uint8_t t[64], *buf;
	size_t tlen = 0;
	int rc = 0;

	if (h == 0 || len > 255 * h)
		return -1;
	buf = malloc(h + slen + 1);
	if (buf == NULL)
		return -1;
	for (unsigned int i = 1; done < len; i++) {
		size_t take;

		/* Tn = prf(K, Tn-1 | S | n) */
		memcpy(buf, t, tlen);
		memcpy(buf + tlen, seed, slen);
		buf[tlen + slen] = (uint8_t)i;
		if (fh_ike_prf(prf, key, klen, buf, tlen + slen + 1, t) < 0) {
			rc = -1;
			break;
		}
		tlen = h;
		take = len - done < h ? len - done : h;
		memcpy(out + done, t, take);
		done += take;
	}
	memset(t, 0, sizeof(t));
	free(buf);
	return rc;
}

int fh_ike_derive(uint16_t prf, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		  const uint8_t *gir, size_t gir_len, uint64_t spi_i, uint64_t spi_r, size_t integ_len, size_t encr_len,
		  struct fh_ike_keys *k)
{
	size_t h = fh_ike_prf_len(prf), total;
	uint8_t nonces[512], skeyseed[64], seed[512 + 16], km[2 * 64 * 3 + 2 * 36 + 64];
	size_t off = 0;
	int rc = -1;

	if (h == 0 || ni_len + nr_len > sizeof(nonces) || integ_len > 64 || encr_len > 36)
		return -1;
	memset(k, 0, sizeof(*k));
	k->prf_len = h;
	k->integ_len = integ_len;
	k->encr_len = encr_len;
	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	memcpy(nonces, ni, ni_len);
	memcpy(nonces + ni_len, nr, nr_len);
	if (fh_ike_prf(prf, nonces, ni_len + nr_len, gir, gir_len, skeyseed) < 0)
		goto out;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
	memcpy(seed, nonces, ni_len + nr_len);
	for (int i = 0; i < 8; i++) {
		seed[ni_len + nr_len + i] = (uint8_t)(spi_i >> (56 - 8 * i));
		seed[ni_len + nr_len + 8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
	}
	total = 3 * h + 2 * integ_len + 2 * encr_len;
	if (fh_ike_prf_plus(prf, skeyseed, h, seed, ni_len + nr_len + 16, km, total) < 0)
		goto out;
	memcpy(k->sk_d, km + off, h), off += h;
	memcpy(k->sk_ai, km + off, integ_len), off += integ_len;
	memcpy(k->sk_ar, km + off, integ_len), off += integ_len;
	memcpy(k->sk_ei, km + off, encr_len), off += encr_len;
	memcpy(k->sk_er, km + off, encr_len), off += encr_len;
	memcpy(k->sk_pi, km + off, h), off += h;
	memcpy(k->sk_pr, km + off, h);
	rc = 0;
out:
	memset(skeyseed, 0, sizeof(skeyseed));
	memset(km, 0, sizeof(km));
	return rc;
}
