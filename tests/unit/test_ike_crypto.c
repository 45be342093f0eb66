/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 key exchange and derivation: every DH group agrees with itself in wire format lengths
 * (RFC 3526, RFC 5903 x || y, RFC 8031), invalid peer values are refused (RFC 6989), the PRFs match
 * RFC 2202 / RFC 4231, prf+ chains as RFC 7296 2.13 writes it, and SKEYSEED splits as 2.14 does.
 */
#include <string.h>

#include "fh_ike_crypto.h"
#include "fh_test.h"

static int unhex(const char *h, uint8_t *out)
{
	int n = (int)strlen(h) / 2;

	for (int i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

static void groups(void)
{
	static const struct {
		uint16_t g;
		int pub, secret;
	} t[] = {{14, 256, 256}, {15, 384, 384}, {16, 512, 512}, {19, 64, 32}, {20, 96, 48}, {21, 132, 66}, {31, 32, 32}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fh_ike_dh *a = fh_ike_dh_new(t[i].g), *b = fh_ike_dh_new(t[i].g);
		uint8_t pa[600], pb[600], sa[600], sb[600], bad[600];
		int la = a ? fh_ike_dh_public(a, pa, sizeof(pa)) : -1, lb = b ? fh_ike_dh_public(b, pb, sizeof(pb)) : -1;
		int xa = la > 0 ? fh_ike_dh_shared(a, pb, (size_t)lb, sa, sizeof(sa)) : -1;
		int xb = lb > 0 ? fh_ike_dh_shared(b, pa, (size_t)la, sb, sizeof(sb)) : -1;

		fh_check(la == t[i].pub && lb == t[i].pub && (size_t)la == fh_ike_dh_pub_len(t[i].g) && xa == t[i].secret &&
				 xb == xa && memcmp(sa, sb, (size_t)xa) == 0 && memcmp(pa, pb, (size_t)la) != 0,
			 "group %u: public values of %d bytes, both sides derive the same %d-byte secret", t[i].g, t[i].pub,
			 t[i].secret);
		memset(bad, 0, sizeof(bad));
		fh_check(a && fh_ike_dh_shared(a, bad, (size_t)t[i].pub, sa, sizeof(sa)) < 0,
			 "group %u: an all-zero peer value is refused", t[i].g);
		if (t[i].g < 19) {
			bad[t[i].pub - 1] = 1; /* y = 1 */
			fh_check(fh_ike_dh_shared(a, bad, (size_t)t[i].pub, sa, sizeof(sa)) < 0, "group %u: y = 1 is refused",
				 t[i].g);
		} else if (t[i].g < 31) {
			memcpy(bad, pb, (size_t)lb);
			bad[lb - 1] ^= 1; /* y off the curve */
			fh_check(fh_ike_dh_shared(a, bad, (size_t)lb, sa, sizeof(sa)) < 0, "group %u: a point off the curve is refused",
				 t[i].g);
		}
		fh_check(a && fh_ike_dh_shared(a, pb, (size_t)lb - 1, sa, sizeof(sa)) < 0, "group %u: a short value is refused",
			 t[i].g);
		fh_ike_dh_free(a);
		fh_ike_dh_free(b);
	}
	fh_check(fh_ike_dh_new(2) == NULL && fh_ike_dh_new(5) == NULL, "MODP 1024/1536 (groups 2, 5) are not offered");
}

static void prfs(void)
{
	static const char data[] = "what do ya want for nothing?";
	uint8_t out[64], want[64], t1[64], t2[64], buf[256], plus[80];
	int n;

	n = fh_ike_prf(FH_IKE_PRF_SHA256, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, sizeof(data) - 1, out);
	unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want);
	fh_check(n == 32 && memcmp(out, want, 32) == 0, "PRF_HMAC_SHA2_256: RFC 4231 test case 2");
	n = fh_ike_prf(FH_IKE_PRF_SHA1, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, sizeof(data) - 1, out);
	unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", want);
	fh_check(n == 20 && memcmp(out, want, 20) == 0, "PRF_HMAC_SHA1: RFC 2202 test case 2");
	n = fh_ike_prf(FH_IKE_PRF_SHA512, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, sizeof(data) - 1, out);
	unhex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b"
	      "636e070a38bce737", want);
	fh_check(n == 64 && memcmp(out, want, 64) == 0, "PRF_HMAC_SHA2_512: RFC 4231 test case 2");
	/* prf+ = T1 | T2 | ..., T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02) */
	memcpy(buf, data, sizeof(data) - 1);
	buf[sizeof(data) - 1] = 1;
	fh_ike_prf(FH_IKE_PRF_SHA256, (const uint8_t *)"Jefe", 4, buf, sizeof(data), t1);
	memcpy(buf, t1, 32);
	memcpy(buf + 32, data, sizeof(data) - 1);
	buf[32 + sizeof(data) - 1] = 2;
	fh_ike_prf(FH_IKE_PRF_SHA256, (const uint8_t *)"Jefe", 4, buf, 32 + sizeof(data), t2);
	fh_check(fh_ike_prf_plus(FH_IKE_PRF_SHA256, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, sizeof(data) - 1,
				 plus, 50) == 0 &&
			 memcmp(plus, t1, 32) == 0 && memcmp(plus + 32, t2, 18) == 0,
		 "prf+ chains T1 | T2 as RFC 7296 2.13");
	fh_check(fh_ike_prf_plus(FH_IKE_PRF_SHA1, (const uint8_t *)"k", 1, (const uint8_t *)"s", 1, plus, 255 * 20 + 1) < 0,
		 "prf+ refuses more than 255 blocks");
}

static void derive(void)
{
	uint8_t ni[32], nr[32], gir[256], seed[80], skeyseed[32], km[32 * 3 + 32 * 2 + 32 * 2];
	struct fh_ike_keys k, k2;

	memset(ni, 1, sizeof(ni));
	memset(nr, 2, sizeof(nr));
	memset(gir, 3, sizeof(gir));
	fh_check(fh_ike_derive(FH_IKE_PRF_SHA256, ni, 32, nr, 32, gir, 256, 0x1111111111111111ull, 0x2222222222222222ull,
			       32, 32, &k) == 0,
		 "SKEYSEED and keys for aes-cbc-256 / sha256 / prf-sha256");
	/* the same by hand: SKEYSEED = prf(Ni | Nr, g^ir), then prf+ over Ni | Nr | SPIi | SPIr */
	memcpy(seed, ni, 32);
	memcpy(seed + 32, nr, 32);
	fh_ike_prf(FH_IKE_PRF_SHA256, seed, 64, gir, 256, skeyseed);
	memset(seed + 64, 0x11, 8);
	memset(seed + 72, 0x22, 8);
	fh_ike_prf_plus(FH_IKE_PRF_SHA256, skeyseed, 32, seed, 80, km, sizeof(km));
	fh_check(memcmp(k.sk_d, km, 32) == 0 && memcmp(k.sk_ai, km + 32, 32) == 0 && memcmp(k.sk_ar, km + 64, 32) == 0 &&
			 memcmp(k.sk_ei, km + 96, 32) == 0 && memcmp(k.sk_er, km + 128, 32) == 0 &&
			 memcmp(k.sk_pi, km + 160, 32) == 0 && memcmp(k.sk_pr, km + 192, 32) == 0,
		 "keys split SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr (RFC 7296 2.14)");
	fh_ike_derive(FH_IKE_PRF_SHA256, ni, 32, nr, 32, gir, 256, 0x1111111111111111ull, 0x2222222222222223ull, 32, 32, &k2);
	fh_check(memcmp(k.sk_d, k2.sk_d, 32) != 0, "another responder SPI, other keys");
}

int main(void)
{
	groups();
	prfs();
	derive();
	return fh_test_done();
}
