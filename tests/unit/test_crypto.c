/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto engines: published vectors (GCM spec test cases 4 and 16, as RFC 4106 uses GCM;
 * RFC 3602 and SP 800-38A for CBC; RFC 2202 / RFC 4231 for HMAC truncated as RFC 2404 / 4868),
 * then both engines cross-checked on random packets, and tampering caught by both.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fh_config.h"
#include "fh_crypto.h"
#include "fh_test.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

static const struct fh_crypto_engine *engines[2];

struct sess_buf {
	uint8_t b[8192] __attribute__((aligned(64)));
};

static int gcm_vector(const struct fh_crypto_engine *e, const char *key, const char *tag_hex, const char *ct_hex)
{
	static const char *P = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449"
			       "a6b525b16aedf5aa0de657ba637b39";
	static struct sess_buf se, sd;
	uint8_t k[40], buf[64], ct[64], tag[16], aad[20], iv[8];
	size_t kl = unhex(key, k), pl = unhex(P, buf);
	struct fh_crypto_xform x = {.encr = kl == 16 ? FH_ENCR_AES_GCM_128 : FH_ENCR_AES_GCM_256, .enc_key = k};
	struct fh_crypto_op op = {0};
	void *lc = e->lcore_create();
	int ok;

	unhex("cafebabe", k + kl); /* salt: the first 4 bytes of the 12-byte IV */
	x.enc_key_len = (uint32_t)kl + 4;
	unhex("facedbaddecaf888", iv);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
	unhex(ct_hex, ct);
	unhex(tag_hex, tag);
	if (e->sess_init(&se, &x, FH_CRYPTO_ENCRYPT) != 0 || e->sess_init(&sd, &x, FH_CRYPTO_DECRYPT) != 0)
		return 0;
	op = (struct fh_crypto_op){.sess = &se, .cipher = buf, .cipher_len = (uint32_t)pl, .iv = iv, .aad = aad, .aad_len = 20};
	ok = e->process(lc, FH_CRYPTO_ENCRYPT, &op, 1) == 1 && memcmp(buf, ct, pl) == 0 && memcmp(op.icv, tag, 16) == 0;
	op = (struct fh_crypto_op){.sess = &sd, .cipher = buf, .cipher_len = (uint32_t)pl, .iv = iv, .aad = aad, .aad_len = 20,
				   .icv_expected = tag};
	ok = ok && e->process(lc, FH_CRYPTO_DECRYPT, &op, 1) == 1;
	unhex(P, ct);
	ok = ok && memcmp(buf, ct, pl) == 0;
	/* a flipped tag bit must fail, and say so */
	tag[15] ^= 1;
	op.cipher = ct;
	ok = ok && e->process(lc, FH_CRYPTO_DECRYPT, &op, 1) == 0 && op.status == FH_CRYPTO_AUTH_FAILED;
	e->sess_clear(&se);
	e->sess_clear(&sd);
	e->lcore_free(lc);
	return ok;
}

static int cbc_vector(const struct fh_crypto_engine *e, uint8_t encr, const char *key, const char *iv_hex,
		      const char *p_hex, const char *c_hex)
{
	static struct sess_buf s;
	uint8_t k[32], iv[16], buf[64], c[64];
	size_t kl = unhex(key, k), n = unhex(p_hex, buf);
	struct fh_crypto_xform x = {.encr = encr, .integ = FH_INTEG_NONE, .enc_key = k, .enc_key_len = (uint32_t)kl};
	struct fh_crypto_op op = {0};
	void *lc = e->lcore_create();
	int ok;

	unhex(iv_hex, iv);
	unhex(c_hex, c);
	if (e->sess_init(&s, &x, FH_CRYPTO_ENCRYPT) != 0)
		return 0;
	op = (struct fh_crypto_op){.sess = &s, .cipher = buf, .cipher_len = (uint32_t)n, .iv = iv, .auth = buf};
	ok = e->process(lc, FH_CRYPTO_ENCRYPT, &op, 1) == 1 && memcmp(buf, c, n) == 0;
	e->sess_clear(&s);
	e->lcore_free(lc);
	return ok;
}

static int hmac_vector(const struct fh_crypto_engine *e, uint8_t integ, const char *want_hex)
{
	static struct sess_buf s;
	static const char data[] = "what do ya want for nothing?";
	uint8_t want[32], buf[64];
	size_t wl = unhex(want_hex, want);
	struct fh_crypto_xform x = {.encr = FH_ENCR_NULL, .integ = integ, .auth_key = (const uint8_t *)"Jefe", .auth_key_len = 4};
	struct fh_crypto_op op = {0};
	void *lc = e->lcore_create();
	int ok;

	memcpy(buf, data, sizeof(data) - 1);
	if (e->sess_init(&s, &x, FH_CRYPTO_ENCRYPT) != 0)
		return 0;
	op = (struct fh_crypto_op){.sess = &s, .auth = buf, .auth_len = sizeof(data) - 1, .cipher = buf + sizeof(data) - 1};
	ok = e->process(lc, FH_CRYPTO_ENCRYPT, &op, 1) == 1 && fh_crypto_icv_len(FH_ENCR_NULL, integ) == wl &&
	     memcmp(op.icv, want, wl) == 0;
	e->sess_clear(&s);
	e->lcore_free(lc);
	return ok;
}

/* ESP-shaped packets through one engine's encrypt and the other's decrypt, both ways. */
static int cross(uint8_t encr, uint8_t integ, int rounds)
{
	static struct sess_buf s[2][2];
	uint8_t ek[36], ak[64], pkt[2][1600], orig[1600];
	uint32_t eklen = encr == FH_ENCR_AES_GCM_256 ? 36 : encr == FH_ENCR_AES_GCM_128 ? 20 : encr == FH_ENCR_AES_CBC_128 ? 16 : 32;
	uint32_t aklen = integ == FH_INTEG_SHA1_96 ? 20 : integ == FH_INTEG_SHA256_128 ? 32 : integ == FH_INTEG_SHA384_192 ? 48
			 : integ == FH_INTEG_SHA512_256 ? 64 : 0;
	struct fh_crypto_xform x = {.encr = encr, .integ = integ, .enc_key = ek, .enc_key_len = eklen, .auth_key = ak,
				    .auth_key_len = aklen};
	uint32_t ivl = fh_crypto_iv_len(encr), icv = fh_crypto_icv_len(encr, integ);
	void *lc[2];
	int ok = 1;

	RAND_bytes(ek, sizeof(ek));
	RAND_bytes(ak, sizeof(ak));
	for (int i = 0; i < 2; i++) {
		lc[i] = engines[i]->lcore_create();
		if (engines[i]->sess_init(&s[i][0], &x, FH_CRYPTO_ENCRYPT) != 0 ||
		    engines[i]->sess_init(&s[i][1], &x, FH_CRYPTO_DECRYPT) != 0)
			return 0;
	}
	for (int r = 0; r < rounds && ok; r++) {
		uint32_t len = 16 * (1 + (uint32_t)(rand() % 90)); /* ciphertext length: whole blocks */
		int from = r & 1, to = !from;
		struct fh_crypto_op op;
		uint8_t *p = pkt[0];

		RAND_bytes(p, 8 + ivl + len);
		memcpy(orig, p, 8 + ivl + len);
		op = (struct fh_crypto_op){.sess = &s[from][0], .cipher = p + 8 + ivl, .cipher_len = len, .iv = p + 8,
					   .auth = p, .auth_len = 8 + ivl + len, .aad = p, .aad_len = 8};
		ok &= engines[from]->process(lc[from], FH_CRYPTO_ENCRYPT, &op, 1) == 1;
		memcpy(p + 8 + ivl + len, op.icv, icv);
		memcpy(pkt[1], p, 8 + ivl + len + icv);
		op = (struct fh_crypto_op){.sess = &s[to][1], .cipher = p + 8 + ivl, .cipher_len = len, .iv = p + 8,
					   .auth = p, .auth_len = 8 + ivl + len, .aad = p, .aad_len = 8,
					   .icv_expected = p + 8 + ivl + len};
		ok &= engines[to]->process(lc[to], FH_CRYPTO_DECRYPT, &op, 1) == 1 && memcmp(p, orig, 8 + ivl + len) == 0;
		/* one flipped bit anywhere in what is authenticated: refused by both engines */
		p = pkt[1];
		p[rand() % (int)(8 + ivl + len)] ^= (uint8_t)(1u << (rand() % 8));
		for (int i = 0; i < 2; i++) {
			uint8_t q[1600];

			memcpy(q, p, 8 + ivl + len + icv);
			op = (struct fh_crypto_op){.sess = &s[i][1], .cipher = q + 8 + ivl, .cipher_len = len, .iv = q + 8,
						   .auth = q, .auth_len = 8 + ivl + len, .aad = q, .aad_len = 8,
						   .icv_expected = q + 8 + ivl + len};
			ok &= engines[i]->process(lc[i], FH_CRYPTO_DECRYPT, &op, 1) == 0 && op.status == FH_CRYPTO_AUTH_FAILED;
		}
	}
	for (int i = 0; i < 2; i++) {
		engines[i]->sess_clear(&s[i][0]);
		engines[i]->sess_clear(&s[i][1]);
		engines[i]->lcore_free(lc[i]);
	}
	return ok;
}

static int batch(const struct fh_crypto_engine *e)
{
	/* a burst of 32 with different lengths completes whole and in order-independent fashion */
	static struct sess_buf s;
	static uint8_t pkts[32][512];
	struct fh_crypto_op ops[32];
	uint8_t ek[32] = {1}, ak[32] = {2};
	struct fh_crypto_xform x = {.encr = FH_ENCR_AES_CBC_256, .integ = FH_INTEG_SHA256_128, .enc_key = ek,
				    .enc_key_len = 32, .auth_key = ak, .auth_key_len = 32};
	void *lc = e->lcore_create();
	uint16_t done;

	if (e->sess_init(&s, &x, FH_CRYPTO_ENCRYPT) != 0)
		return 0;
	for (int i = 0; i < 32; i++) {
		memset(pkts[i], i, sizeof(pkts[i]));
		ops[i] = (struct fh_crypto_op){.sess = &s, .cipher = pkts[i] + 24, .cipher_len = 16u * (1 + (uint32_t)i % 20),
					       .iv = pkts[i] + 8, .auth = pkts[i], .auth_len = 24 + 16u * (1 + (uint32_t)i % 20)};
	}
	done = e->process(lc, FH_CRYPTO_ENCRYPT, ops, 32);
	e->sess_clear(&s);
	e->lcore_free(lc);
	return done == 32;
}

/* OpenSSL's allocations, counted: the openssl engine must not allocate per packet. */
static long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	__atomic_fetch_add(&ossl_allocs, 1, __ATOMIC_RELAXED);
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	__atomic_fetch_add(&ossl_allocs, 1, __ATOMIC_RELAXED);
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	free(p);
}

/* 100 packets each way through the openssl engine; the allocations made meanwhile. */
static long allocs_per_100(uint8_t encr, uint8_t integ)
{
	static struct sess_buf se, sd;
	static uint8_t pkt[8 + 16 + 256 + 32];
	uint8_t ek[36] = {3}, ak[32] = {4};
	struct fh_crypto_xform x = {.encr = encr, .integ = integ, .enc_key = ek,
				    .enc_key_len = encr == FH_ENCR_AES_GCM_128 ? 20 : 32, .auth_key = ak, .auth_key_len = 32};
	const struct fh_crypto_engine *e = engines[1];
	void *lc = e->lcore_create();
	long before;
	int ok = lc != NULL && e->sess_init(&se, &x, FH_CRYPTO_ENCRYPT) == 0 && e->sess_init(&sd, &x, FH_CRYPTO_DECRYPT) == 0;

	before = ossl_allocs;
	for (int i = 0; ok && i < 100; i++) {
		struct fh_crypto_op op = {.sess = &se, .cipher = pkt + 24, .cipher_len = 256, .iv = pkt + 8, .auth = pkt,
					  .auth_len = 24 + 256, .aad = pkt, .aad_len = 8};

		ok = e->process(lc, FH_CRYPTO_ENCRYPT, &op, 1) == 1;
		memcpy(pkt + 24 + 256, op.icv, 16);
		op = (struct fh_crypto_op){.sess = &sd, .cipher = pkt + 24, .cipher_len = 256, .iv = pkt + 8, .auth = pkt,
					   .auth_len = 24 + 256, .aad = pkt, .aad_len = 8, .icv_expected = pkt + 24 + 256};
		ok = ok && e->process(lc, FH_CRYPTO_DECRYPT, &op, 1) == 1;
	}
	before = ok ? ossl_allocs - before : -1;
	e->sess_clear(&se);
	e->sess_clear(&sd);
	e->lcore_free(lc);
	return before;
}

int main(void)
{
	/* before OpenSSL's first allocation, or it refuses (and the no-allocation checks would prove nothing) */
	int counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);

	engines[0] = fh_crypto_engine_get("ipsec-mb");
	engines[1] = fh_crypto_engine_get("openssl");
	fh_check(engines[0] != NULL && engines[1] != NULL && fh_crypto_engine_get("nope") == NULL, "engines by name");
	for (int i = 0; i < 2; i++) {
		const struct fh_crypto_engine *e = engines[i];

		fh_check(e->sess_size <= sizeof(struct sess_buf), "%s: session fits", e->name);
		fh_check(gcm_vector(e, "feffe9928665731c6d6a8f9467308308", "5bc94fbc3221a5db94fae95ae7121a47",
				    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa0"
				    "51ba30b396a0aac973d58e091"),
			 "%s: AES-128-GCM test case 4 (encrypt, decrypt, bad tag)", e->name);
		fh_check(gcm_vector(e, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
				    "76fc6ece0f4e1768cddf8853bb2d551b",
				    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c"
				    "5f61e6393ba7a0abcc9f662"),
			 "%s: AES-256-GCM test case 16", e->name);
		fh_check(cbc_vector(e, FH_ENCR_AES_CBC_128, "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
				    "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a"),
			 "%s: RFC 3602 case 1 (AES-128-CBC)", e->name);
		fh_check(cbc_vector(e, FH_ENCR_AES_CBC_128, "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
				    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
				    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
			 "%s: RFC 3602 case 2", e->name);
		fh_check(cbc_vector(e, FH_ENCR_AES_CBC_256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
				    "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
				    "f58c4c04d6e5f1ba779eabfb5f7bfbd6"),
			 "%s: SP 800-38A F.2.5 (AES-256-CBC)", e->name);
		fh_check(hmac_vector(e, FH_INTEG_SHA1_96, "effcdf6ae5eb2fa2d27416d5"), "%s: RFC 2202 HMAC-SHA1-96", e->name);
		fh_check(hmac_vector(e, FH_INTEG_SHA256_128, "5bdcc146bf60754e6a042426089575c7"),
			 "%s: RFC 4231 HMAC-SHA256-128", e->name);
		fh_check(batch(e), "%s: a burst of 32 completes", e->name);
	}
	fh_check(cross(FH_ENCR_AES_CBC_256, FH_INTEG_SHA1_96, 200), "cross-check AES-256-CBC + HMAC-SHA1-96");
	fh_check(cross(FH_ENCR_AES_CBC_128, FH_INTEG_SHA256_128, 200), "cross-check AES-128-CBC + HMAC-SHA256-128");
	fh_check(cross(FH_ENCR_AES_CBC_256, FH_INTEG_SHA256_128, 200), "cross-check AES-256-CBC + HMAC-SHA256-128");
	fh_check(cross(FH_ENCR_AES_GCM_128, FH_INTEG_NONE, 200), "cross-check AES-128-GCM");
	fh_check(cross(FH_ENCR_AES_GCM_256, FH_INTEG_NONE, 200), "cross-check AES-256-GCM");
	fh_check(cross(FH_ENCR_AES_CBC_256, FH_INTEG_SHA384_192, 200), "cross-check AES-256-CBC + HMAC-SHA384-192");
	fh_check(cross(FH_ENCR_AES_CBC_256, FH_INTEG_SHA512_256, 200), "cross-check AES-256-CBC + HMAC-SHA512-256");
	fh_check(counting == 1 && ossl_allocs > 0, "OpenSSL's allocations are counted");
	fh_check(allocs_per_100(FH_ENCR_AES_CBC_256, FH_INTEG_SHA256_128) == 0,
		 "openssl: no allocation per packet (AES-256-CBC + HMAC-SHA256-128)");
	fh_check(allocs_per_100(FH_ENCR_AES_GCM_128, FH_INTEG_NONE) == 0, "openssl: no allocation per packet (AES-128-GCM)");
	return fh_test_done();
}
