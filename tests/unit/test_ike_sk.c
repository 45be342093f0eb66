/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Encrypted payload: IKE_AUTH-shaped messages sealed and opened for AES-CBC + HMAC and
 * AES-GCM, and every tampering (ciphertext, header, ICV, wrong key, truncation) refused.
 */
#include <string.h>

#include "fh_ike_build.h"
#include "fh_ike_msg.h"
#include "fh_ike_sk.h"
#include "fh_test.h"

static int roundtrip(const struct fh_ike_sk_alg *a, const char *name)
{
	struct fh_ike_hdr h = {.spi_i = 0x0102030405060708ull, .spi_r = 0x1112131415161718ull, .exchange = FH_IKE_AUTH,
			       .flags = FH_IKE_FLAG_INITIATOR, .msg_id = 1};
	uint8_t inner[256], msg[1024], out[1024], bad[1024], ek[36], ak[64], ek2[36];
	static const uint8_t idi[] = {1, 0, 0, 0, 192, 168, 0, 10};
	struct fh_ike_builder ib, b;
	struct fh_ike_msg m, im;
	const struct fh_ike_payload *sk;
	int n, ok = 1;

	memset(ek, 0x5a, sizeof(ek));
	memset(ek2, 0x5b, sizeof(ek2));
	memset(ak, 0xa5, sizeof(ak));
	/* the inner chain IDi, AUTH, built as payloads of a throwaway message, then cut out */
	fh_ike_build_init(&ib, inner, sizeof(inner), &h);
	fh_ike_add(&ib, FH_IKE_PL_IDI, idi, sizeof(idi));
	fh_ike_add(&ib, FH_IKE_PL_AUTH, "\x02\x00\x00\x00authentication-data-32-bytes....", 36);
	fh_ike_build_init(&b, msg, sizeof(msg), &h);
	ok &= fh_ike_sk_seal(&b, a, ek, ak, inner[16], inner + 28, ib.len - 28) == 0;
	ok &= fh_ike_parse(msg, b.len, &m) == FH_IKE_OK && m.n == 1 && m.pl[0].type == FH_IKE_PL_SK;
	sk = &m.pl[0];
	n = ok ? fh_ike_sk_open(msg, b.len, sk->body, sk->len, a, ek, ak, out, sizeof(out)) : -1;
	ok &= n == (int)(ib.len - 28) && memcmp(out, inner + 28, (size_t)n) == 0;
	ok &= n > 0 && fh_ike_parse_chain(out, (size_t)n, msg[28], &im) == FH_IKE_OK && im.n == 2 &&
	      im.pl[0].type == FH_IKE_PL_IDI && im.pl[1].type == FH_IKE_PL_AUTH;
	fh_check(ok, "%s: IDi + AUTH sealed and opened", name);
	/* tampering anywhere the ICV covers */
	for (size_t at = 0; at < b.len; at += 7) {
		memcpy(bad, msg, b.len);
		bad[at] ^= 0x20;
		if (fh_ike_sk_open(bad, b.len, bad + (sk->body - msg), sk->len, a, ek, ak, out, sizeof(out)) >= 0) {
			ok = 0;
			printf("# %s: tampered byte %zu accepted\n", name, at);
		}
	}
	fh_check(ok, "%s: a flipped bit in header, SK header, IV, ciphertext or ICV is refused", name);
	if (a->encr == FH_IKE_ENCR_AES_GCM_16) {
		fh_check(fh_ike_sk_open(msg, b.len, sk->body, sk->len, a, ek2, ak, out, sizeof(out)) < 0,
			 "%s: the wrong encryption key is refused", name);
	} else {
		uint8_t ak2[64];

		/* CBC + HMAC: the ICV checks the integrity key only; a wrong encryption key can only
		 * yield garbage (refused later by the inner parser), never the sealed payloads */
		n = fh_ike_sk_open(msg, b.len, sk->body, sk->len, a, ek2, ak, out, sizeof(out));
		fh_check(n < 0 || n != (int)(ib.len - 28) || memcmp(out, inner + 28, (size_t)n) != 0,
			 "%s: the wrong encryption key never yields the sealed payloads", name);
		memset(ak2, 0xa6, sizeof(ak2));
		fh_check(fh_ike_sk_open(msg, b.len, sk->body, sk->len, a, ek, ak2, out, sizeof(out)) < 0,
			 "%s: the wrong integrity key is refused", name);
	}
	fh_check(fh_ike_sk_open(msg, b.len - 1, sk->body, sk->len - 1, a, ek, ak, out, sizeof(out)) < 0,
		 "%s: a truncated message is refused", name);
	return ok;
}

int main(void)
{
	struct fh_ike_sk_alg cbc256 = {FH_IKE_ENCR_AES_CBC, 32, FH_IKE_INTEG_SHA256_128};
	struct fh_ike_sk_alg cbc128 = {FH_IKE_ENCR_AES_CBC, 16, FH_IKE_INTEG_SHA1_96};
	struct fh_ike_sk_alg gcm256 = {FH_IKE_ENCR_AES_GCM_16, 32, FH_IKE_INTEG_NONE};
	struct fh_ike_sk_alg bad = {FH_IKE_ENCR_AES_GCM_16, 32, FH_IKE_INTEG_SHA256_128};

	fh_check(fh_ike_sk_icv_len(&cbc256) == 16 && fh_ike_sk_icv_len(&cbc128) == 12 && fh_ike_sk_icv_len(&gcm256) == 16 &&
			 fh_ike_sk_encr_key_len(&gcm256) == 36 && fh_ike_sk_integ_key_len(&cbc256) == 32 &&
			 fh_ike_sk_integ_key_len(&cbc128) == 20,
		 "key and ICV lengths (RFC 4868, RFC 2404, RFC 5282)");
	roundtrip(&cbc256, "aes-cbc-256 + sha256-128");
	roundtrip(&cbc128, "aes-cbc-128 + sha1-96");
	roundtrip(&gcm256, "aes-gcm-256");
	{
		uint8_t buf[128];
		struct fh_ike_builder b;
		struct fh_ike_hdr h = {.exchange = FH_IKE_AUTH};

		fh_ike_build_init(&b, buf, sizeof(buf), &h);
		fh_check(fh_ike_sk_seal(&b, &bad, buf, buf, 0, buf, 0) < 0, "GCM with an integrity transform is refused");
	}
	return fh_test_done();
}
