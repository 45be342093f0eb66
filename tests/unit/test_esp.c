/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP on mbufs: round trips for every algorithm, mode, ESN and UDP encapsulation, across both
 * engines; the anti-replay window at its edges and across an ESN wrap; and every bad packet class
 * (wrong ICV, replay, truncated, misaligned, bad padding, sequence overflow, hard lifetime).
 * Runs EAL with --no-huge.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fh_config.h"
#include "fh_esp.h"
#include "fh_test.h"

static struct rte_mempool *pool;
static struct fh_esp_lcore lc_mb, lc_ossl;
static uint8_t ek[36], ak[32];

static struct rte_mbuf *ip_packet(uint32_t payload, uint8_t proto, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv4_hdr *ip = m != NULL ? (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)(20 + payload)) : NULL;

	/* (GCC -O3 -Warray-bounds follows append's NULL path into the memset otherwise) */
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(ip, fill, 20 + payload);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + payload));
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(0x0a0a010a);
	ip->dst_addr = rte_cpu_to_be_32(0x0a140214);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

struct pair {
	struct fh_sa *out, *in;
};

static struct pair mkpair(uint8_t encr, uint8_t integ, uint8_t mode, bool esn, bool udp, uint32_t win,
			  const struct fh_crypto_engine *eo, const struct fh_crypto_engine *ei)
{
	uint32_t el = encr == FH_ENCR_AES_GCM_256 ? 36 : encr == FH_ENCR_AES_GCM_128 ? 20 : encr == FH_ENCR_AES_CBC_128 ? 16 : 32;
	uint32_t al = integ == FH_INTEG_SHA1_96 ? 20 : integ == FH_INTEG_SHA256_128 ? 32 : 0;
	struct fh_sa_params p = {.spi = 0x1001, .mode = mode, .encr = encr, .integ = integ, .esn = esn, .udp_encap = udp,
				 .src = 0xc0a8000a, .dst = 0xc0a80014, .replay_win = win, .enc_key = ek, .enc_key_len = el,
				 .auth_key = ak, .auth_key_len = al};
	struct pair r;

	p.dir = FH_SA_OUT;
	r.out = fh_sa_create(&p, eo);
	p.dir = FH_SA_IN;
	r.in = fh_sa_create(&p, ei);
	return r;
}

static void freepair(struct pair *p)
{
	fh_sa_destroy(p->out);
	fh_sa_destroy(p->in);
}

/* Encrypt one packet with out, return it (or NULL with *why set). */
static struct rte_mbuf *enc1(struct fh_esp_lcore *lc, struct fh_sa *sa, struct rte_mbuf *m, uint8_t *why)
{
	if (fh_esp_outbound(lc, &m, &sa, 1, why) == 1)
		return m;
	rte_pktmbuf_free(m);
	return NULL;
}

static uint8_t dec1(struct fh_esp_lcore *lc, struct fh_sa *sa, struct rte_mbuf *m, uint8_t *nh)
{
	uint8_t why;

	fh_esp_inbound(lc, &m, &sa, 1, nh, &why);
	rte_pktmbuf_free(m);
	return why;
}

static void roundtrips(void)
{
	static const struct {
		uint8_t encr, integ;
		const char *name;
	} algs[] = {
		{FH_ENCR_AES_CBC_256, FH_INTEG_SHA1_96, "esp-aes-256 esp-sha-hmac"},
		{FH_ENCR_AES_CBC_128, FH_INTEG_SHA256_128, "esp-aes-128 esp-sha256-hmac"},
		{FH_ENCR_AES_CBC_256, FH_INTEG_SHA256_128, "esp-aes-256 esp-sha256-hmac"},
		{FH_ENCR_AES_GCM_128, FH_INTEG_NONE, "esp-gcm-128"},
		{FH_ENCR_AES_GCM_256, FH_INTEG_NONE, "esp-gcm-256"},
	};

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
		for (int v = 0; v < 8; v++) {
			uint8_t mode = (v & 1) ? FH_ESP_TRANSPORT : FH_ESP_TUNNEL;
			bool esn = v & 2, udp = v & 4;
			/* encrypt with one engine, decrypt with the other, alternating */
			struct fh_esp_lcore *lo = (v + (int)a) & 1 ? &lc_ossl : &lc_mb;
			struct fh_esp_lcore *li = lo == &lc_mb ? &lc_ossl : &lc_mb;
			struct pair p = mkpair(algs[a].encr, algs[a].integ, mode, esn, udp, 1024, lo->eng, li->eng);
			bool ok = p.out != NULL && p.in != NULL;

			for (uint32_t size = 0; ok && size < 300; size += 37) {
				struct rte_mbuf *m = ip_packet(size, 47, (uint8_t)size), *c;
				uint8_t ref[400], why, nh;
				uint32_t rl = rte_pktmbuf_data_len(m);
				struct rte_mbuf *bm[1];
				struct fh_sa *bs[1] = {p.in};

				memcpy(ref, rte_pktmbuf_mtod(m, void *), rl);
				c = enc1(lo, p.out, m, &why);
				ok = c != NULL;
				if (!ok)
					break;
				{
					const uint8_t *o = rte_pktmbuf_mtod(c, const uint8_t *);

					/* outer header: ESP (or UDP 4500) between our tunnel endpoints, right length */
					ok = o[9] == (udp ? IPPROTO_UDP : IPPROTO_ESP) &&
					     ((uint32_t)o[2] << 8 | o[3]) == rte_pktmbuf_data_len(c) &&
					     rte_raw_cksum(o, 20) == 0xffff;
					if (mode == FH_ESP_TUNNEL)
						ok = ok && o[12] == 192 && o[15] == 10 && o[19] == 20;
				}
				bm[0] = c;
				ok = ok && fh_esp_inbound(li, bm, bs, 1, &nh, &why) == 1 &&
				     nh == (mode == FH_ESP_TUNNEL ? IPPROTO_IPIP : 47) && rte_pktmbuf_data_len(c) == rl &&
				     memcmp(rte_pktmbuf_mtod(c, void *), ref, rl) == 0;
				rte_pktmbuf_free(c);
			}
			fh_check(ok, "round trip %s, %s%s%s, %s -> %s", algs[a].name, mode == FH_ESP_TUNNEL ? "tunnel" : "transport",
				 esn ? ", ESN" : "", udp ? ", UDP 4500" : "", lo->eng->name, li->eng->name);
			freepair(&p);
		}
}

static void replay_window(void)
{
	struct fh_replay r;
	bool ok = true;

	fh_replay_init(&r, 1024);
	ok &= !fh_replay_check(&r, 0);
	ok &= fh_replay_update(&r, 1) && !fh_replay_update(&r, 1);
	ok &= fh_replay_update(&r, 2000) && fh_replay_update(&r, 2000 - 1023);
	ok &= !fh_replay_check(&r, 2000 - 1024);
	ok &= fh_replay_update(&r, 1500) && !fh_replay_update(&r, 1500);
	ok &= fh_replay_update(&r, 1000000) && !fh_replay_check(&r, 2000) && fh_replay_check(&r, 1000000 - 1023);
	fh_check(ok, "replay: zero, duplicate, window edge (1023 ok, 1024 old), big jump");

	fh_replay_init(&r, 64);
	ok = true;
	for (uint64_t s = 1; s <= 200; s += 2)
		ok &= fh_replay_update(&r, s);
	for (uint64_t s = 200 - 63; s <= 200; s++)
		ok &= fh_replay_check(&r, s) == !(s & 1);
	fh_check(ok, "replay: interleaved arrivals inside a 64 window");

	/* ESN: the low half wraps; the window decides which 2^32 subspace a number is in */
	fh_replay_init(&r, 1024);
	r.top = 0xfffffff0ull;
	ok = fh_replay_esn(&r, 0x10, true) == 0x100000010ull && fh_replay_esn(&r, 0xffffff00u, true) == 0xffffff00ull;
	ok &= fh_replay_update(&r, fh_replay_esn(&r, 0x10, true)) && r.top == 0x100000010ull;
	ok &= fh_replay_esn(&r, 0xfffffff5u, true) == 0xfffffff5ull && fh_replay_update(&r, 0xfffffff5ull);
	ok &= !fh_replay_update(&r, fh_replay_esn(&r, 0x10, true));
	fh_check(ok, "replay: ESN wrap (RFC 4303 A2.2) both sides of 2^32");
	fh_check(fh_replay_esn(&r, 5, false) == 5, "replay: without ESN the number is the low half");
}

static void bad_packets(void)
{
	struct pair p = mkpair(FH_ENCR_AES_CBC_256, FH_INTEG_SHA1_96, FH_ESP_TUNNEL, false, false, 1024, lc_mb.eng, lc_mb.eng);
	struct rte_mbuf *c, *d;
	uint8_t why, nh;

	/* wrong ICV: one bit of ciphertext */
	c = enc1(&lc_mb, p.out, ip_packet(100, 1, 1), &why);
	rte_pktmbuf_mtod(c, uint8_t *)[20 + 8 + 16 + 3] ^= 0x40;
	fh_check(dec1(&lc_mb, p.in, c, &nh) == FH_ESP_ERR_AUTH && p.in->st.auth_fail == 1, "flipped ciphertext bit: auth-failed");
	/* the failed packet did not move the window: the same number, intact, is accepted */
	p.out->seq = 0;
	c = enc1(&lc_mb, p.out, ip_packet(100, 1, 1), &why);
	d = rte_pktmbuf_copy(c, pool, 0, UINT32_MAX);
	fh_check(dec1(&lc_mb, p.in, c, &nh) == FH_ESP_OK, "window unmoved by a bad ICV");
	fh_check(dec1(&lc_mb, p.in, d, &nh) == FH_ESP_ERR_REPLAY && p.in->st.replay == 1, "replayed packet: replay");
	/* a duplicate inside one burst: the second is refused after the first moved the window */
	{
		struct rte_mbuf *b[2];
		struct fh_sa *s[2] = {p.in, p.in};
		uint8_t w[2], n2[2];

		b[0] = enc1(&lc_mb, p.out, ip_packet(64, 1, 2), &why);
		b[1] = rte_pktmbuf_copy(b[0], pool, 0, UINT32_MAX);
		fh_check(fh_esp_inbound(&lc_mb, b, s, 2, n2, w) == 1 && w[1] == FH_ESP_ERR_REPLAY, "duplicate within a burst");
		rte_pktmbuf_free(b[0]);
		rte_pktmbuf_free(b[1]);
	}
	/* truncated: cut into the ICV; misaligned: ciphertext not whole blocks */
	c = enc1(&lc_mb, p.out, ip_packet(100, 1, 3), &why);
	rte_pktmbuf_trim(c, 4);
	{
		uint8_t *o = rte_pktmbuf_mtod(c, uint8_t *);
		uint16_t tl = (uint16_t)rte_pktmbuf_data_len(c);

		o[2] = (uint8_t)(tl >> 8), o[3] = (uint8_t)tl;
	}
	fh_check(dec1(&lc_mb, p.in, c, &nh) == FH_ESP_ERR_LEN, "ciphertext not whole blocks: bad-length");
	c = enc1(&lc_mb, p.out, ip_packet(100, 1, 3), &why);
	rte_pktmbuf_trim(c, rte_pktmbuf_data_len(c) - 40);
	fh_check(dec1(&lc_mb, p.in, c, &nh) == FH_ESP_ERR_LEN, "IP length beyond the data: bad-length");
	c = enc1(&lc_mb, p.out, ip_packet(100, 1, 3), &why);
	{
		uint8_t *o = rte_pktmbuf_mtod(c, uint8_t *);

		o[2] = 0, o[3] = 20 + 8 + 16 + 12; /* room for header, IV, ICV: no ciphertext at all */
	}
	fh_check(dec1(&lc_mb, p.in, c, &nh) == FH_ESP_ERR_LEN, "no ciphertext: bad-length");
	/* sequence space used up without ESN */
	p.out->seq = UINT32_MAX;
	c = enc1(&lc_mb, p.out, ip_packet(10, 1, 4), &why);
	fh_check(c == NULL && why == FH_ESP_ERR_SEQ, "outbound sequence overflow without ESN: refused");
	freepair(&p);

	/* hard lifetime in packets, and in seconds (aged by the control lcore through fh_sa_age) */
	{
		struct pair q = mkpair(FH_ENCR_AES_GCM_128, FH_INTEG_NONE, FH_ESP_TUNNEL, false, false, 64, lc_mb.eng, lc_mb.eng);
		int sent = 0;

		q.out->life_pkts = 5;
		for (int i = 0; i < 8; i++) {
			c = enc1(&lc_mb, q.out, ip_packet(10, 1, 5), &why);
			if (c != NULL) {
				sent++;
				rte_pktmbuf_free(c);
			}
		}
		fh_check(sent == 5 && q.out->soft_expired && q.out->hard_expired && why == FH_ESP_ERR_EXPIRED,
			 "a 5-packet lifetime carries 5 packets, flags soft before, hard after");
		freepair(&q);
		q = mkpair(FH_ENCR_AES_GCM_128, FH_INTEG_NONE, FH_ESP_TUNNEL, false, false, 64, lc_mb.eng, lc_mb.eng);
		q.out->life_seconds = 100;
		fh_sa_age(q.out, q.out->created + 50 * rte_get_timer_hz(), rte_get_timer_hz());
		c = enc1(&lc_mb, q.out, ip_packet(10, 1, 5), &why);
		fh_check(c != NULL && !q.out->soft_expired, "50 s into a 100 s lifetime: carries on");
		rte_pktmbuf_free(c);
		fh_sa_age(q.out, q.out->created + 95 * rte_get_timer_hz(), rte_get_timer_hz());
		c = enc1(&lc_mb, q.out, ip_packet(10, 1, 5), &why);
		fh_check(c != NULL && q.out->soft_expired && !q.out->hard_expired, "95 s: soft lifetime, still carrying");
		rte_pktmbuf_free(c);
		fh_sa_age(q.out, q.out->created + 100 * rte_get_timer_hz(), rte_get_timer_hz());
		c = enc1(&lc_mb, q.out, ip_packet(10, 1, 5), &why);
		fh_check(c == NULL && why == FH_ESP_ERR_EXPIRED, "100 s: hard lifetime, dropped");
		freepair(&q);
	}
}

/* A packet with padding that is not 1, 2, 3, ... but a valid ICV: built by hand with OpenSSL. */
static void bad_padding(void)
{
	struct pair p = mkpair(FH_ENCR_AES_CBC_128, FH_INTEG_SHA256_128, FH_ESP_TUNNEL, false, false, 1024, lc_mb.eng, lc_mb.eng);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *o = (uint8_t *)rte_pktmbuf_append(m, 20 + 8 + 16 + 32 + 16);
	uint8_t *esp = o + 20, *ct = esp + 24, mac[32], nh;
	unsigned int ml = 0;
	int outl = 0;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	struct rte_mbuf *ok;
	uint8_t why;

	if (m == NULL || o == NULL || x == NULL) {
		fh_check(false, "bad padding: setup");
		return;
	}
	memset(o, 0, 20 + 8 + 16 + 32 + 16);
	o[0] = 0x45, o[3] = 20 + 8 + 16 + 32 + 16, o[8] = 64, o[9] = IPPROTO_ESP;
	esp[2] = 0x10, esp[3] = 0x01, esp[7] = 1; /* SPI 0x1001, seq 1 */
	/* plaintext: a 20-byte IPv4 header, 10 bytes of pad that should be 1..10 but are 7s, pad len, nh */
	ct[0] = 0x45;
	ct[3] = 20;
	memset(ct + 20, 7, 10);
	ct[30] = 10;
	ct[31] = IPPROTO_IPIP;
	EVP_EncryptInit_ex(x, EVP_aes_128_cbc(), NULL, ek, esp + 8);
	EVP_CIPHER_CTX_set_padding(x, 0);
	EVP_EncryptUpdate(x, ct, &outl, ct, 32);
	EVP_CIPHER_CTX_free(x);
	HMAC(EVP_sha256(), ak, 32, esp, 8 + 16 + 32, mac, &ml);
	memcpy(ct + 32, mac, 16);
	fh_check(dec1(&lc_mb, p.in, m, &nh) == FH_ESP_ERR_PAD, "padding not 1, 2, 3, ...: bad-padding");
	/* a packet with correct padding is fine: the check is not refusing everything (seq 1 was
	 * consumed: the ICV of the bad-padding packet verified, so the window moved) */
	p.out->seq = 1;
	ok = enc1(&lc_mb, p.out, ip_packet(0, 6, 0), &why);
	fh_check(ok != NULL && dec1(&lc_mb, p.in, ok, &nh) == FH_ESP_OK, "correct padding accepted");
	freepair(&p);
}

/* Two workers encrypting on one outbound SA at once (a tunnel whose traffic arrives on both):
 * every sequence number used exactly once, each packet decrypts, the outer IP id follows the
 * sequence number, and the per-lcore counters sum to what was sent. */
#define MT_BURSTS 300
#define MT_BURST 16
#define MT_N (2 * MT_BURSTS * MT_BURST)

struct mt_arg {
	const struct fh_crypto_engine *eng;
	struct fh_sa *out, *in; /* sessions are made on one thread (the control lcore's job) */
	uint16_t index;
	uint8_t *seen;   /* by sequence number */
	uint32_t bad;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	struct fh_esp_lcore lc;
	struct fh_sa *in = a->in;

	if (in == NULL || fh_esp_lcore_init(&lc, a->eng) < 0) {
		a->bad = UINT32_MAX;
		return NULL;
	}
	lc.index = a->index;
	for (int b = 0; b < MT_BURSTS; b++) {
		struct rte_mbuf *m[MT_BURST];
		struct fh_sa *sas[MT_BURST], *ins[MT_BURST];
		uint8_t why[MT_BURST], nh[MT_BURST];
		uint16_t k;

		for (int i = 0; i < MT_BURST; i++) {
			m[i] = ip_packet(64 + i, 6, (uint8_t)i);
			sas[i] = a->out;
			ins[i] = in;
		}
		k = fh_esp_outbound(&lc, m, sas, MT_BURST, why);
		for (uint16_t i = 0; i < k; i++) {
			const uint8_t *o = rte_pktmbuf_mtod(m[i], const uint8_t *);
			uint32_t seq = (uint32_t)o[24] << 24 | (uint32_t)o[25] << 16 | (uint32_t)o[26] << 8 | o[27];
			uint16_t id = (uint16_t)(o[4] << 8 | o[5]);

			if (seq == 0 || seq > MT_N || id != (uint16_t)seq)
				a->bad++;
			else
				__atomic_fetch_add(&a->seen[seq], 1, __ATOMIC_RELAXED);
		}
		a->bad += MT_BURST - k;
		if (fh_esp_inbound(&lc, m, ins, k, nh, why) != k)
			a->bad++;
		for (uint16_t i = 0; i < k; i++)
			rte_pktmbuf_free(m[i]);
	}
	fh_esp_lcore_fini(&lc);
	return NULL;
}

static void shared_outbound(const char *engine, uint8_t encr, uint8_t integ)
{
	const struct fh_crypto_engine *eng = fh_crypto_engine_get(engine);
	struct fh_sa_params op = {.spi = 0x1001, .dir = FH_SA_OUT, .mode = FH_ESP_TUNNEL, .encr = encr, .integ = integ,
				  .src = 0xc0a8000a, .dst = 0xc0a80014, .enc_key = ek,
				  .enc_key_len = encr == FH_ENCR_AES_GCM_256 ? 36 : 32, .auth_key = ak, .auth_key_len = 32,
				  .n_lcores = 2};
	struct fh_sa *out = fh_sa_create(&op, eng), *in[2];
	uint8_t *seen = calloc(MT_N + 1, 1);
	struct mt_arg a[2];

	/* each thread decrypts with its own inbound twin (replay check off: one writer each) */
	op.dir = FH_SA_IN;
	op.src = 0xc0a80014;
	op.dst = 0xc0a8000a;
	in[0] = fh_sa_create(&op, eng);
	in[1] = fh_sa_create(&op, eng);
	a[0] = (struct mt_arg){.eng = eng, .out = out, .in = in[0], .index = 0, .seen = seen};
	a[1] = (struct mt_arg){.eng = eng, .out = out, .in = in[1], .index = 1, .seen = seen};
	pthread_t t[2];
	struct fh_sa_stats st;
	uint32_t once = 0;

	if (out == NULL || in[0] == NULL || in[1] == NULL) {
		fh_check(false, "%s: SAs created", engine);
		return;
	}
	pthread_create(&t[0], NULL, mt_worker, &a[0]);
	pthread_create(&t[1], NULL, mt_worker, &a[1]);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	for (uint32_t i = 1; i <= MT_N; i++)
		once += seen[i] == 1;
	fh_sa_stats_read(out, &st);
	fh_check(a[0].bad == 0 && a[1].bad == 0 && once == MT_N && out->seq == MT_N,
		 "%s, 2 threads on one outbound SA: %u sequence numbers each used once, all decrypt, IP id from seq "
		 "(bad %u/%u)", engine, once, a[0].bad, a[1].bad);
	fh_check(st.pkts == MT_N && st.errors == 0, "%s: per-lcore counters sum to %u (%lu)", engine, MT_N,
		 (unsigned long)st.pkts);
	fh_sa_destroy(out);
	fh_sa_destroy(in[0]);
	fh_sa_destroy(in[1]);
	free(seen);
}

/* An SA made for one lcore reserves its numbers without a lock: runs of it interleaved with another
 * SA's in one burst still get 1, 2, 3, ... in packet order, and decrypt. */
static void single_writer(void)
{
	struct fh_sa_params op = {.spi = 0x2001, .dir = FH_SA_OUT, .mode = FH_ESP_TUNNEL, .encr = FH_ENCR_AES_CBC_256,
				  .integ = FH_INTEG_SHA256_128, .src = 0xc0a8000a, .dst = 0xc0a80014, .replay_win = 64,
				  .enc_key = ek, .enc_key_len = 32, .auth_key = ak, .auth_key_len = 32, .n_lcores = 1};
	const struct fh_crypto_engine *eng = fh_crypto_engine_get("ipsec-mb");
	struct fh_sa *a = fh_sa_create(&op, eng), *ain, *b;
	static const uint8_t pick[8] = {0, 0, 1, 0, 1, 1, 0, 0};
	struct rte_mbuf *m[8];
	struct fh_sa *sa[8];
	uint8_t why[8], nh;
	uint32_t next[2] = {1, 1}, bad = 0, okdec = 0, same_iv = 0;
	uint8_t ivs[16][16];
	uint16_t k;

	op.n_lcores = 0;
	op.spi = 0x2002;
	b = fh_sa_create(&op, eng);
	op.spi = 0x2001;
	op.dir = FH_SA_IN;
	ain = fh_sa_create(&op, eng);
	if (a == NULL || b == NULL || ain == NULL) {
		fh_check(false, "single writer: SAs created");
		return;
	}
	fh_check(a->seq_single && !b->seq_single && !ain->seq_single, "n_lcores 1 outbound: no lock; 0 or inbound: atomic");
	for (int i = 0; i < 8; i++) {
		m[i] = ip_packet(100, IPPROTO_UDP, (uint8_t)i);
		sa[i] = pick[i] ? b : a;
	}
	k = fh_esp_outbound(&lc_mb, m, sa, 8, why);
	for (uint16_t i = 0; i < k; i++) {
		const uint8_t *e = rte_pktmbuf_mtod(m[i], const uint8_t *) + 20;
		uint32_t spi = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
		uint32_t seq = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
		int which = spi == 0x2002;

		bad += seq != next[which]++;
		memcpy(ivs[i], e + 8, 16);
		if (!which)
			okdec += dec1(&lc_mb, ain, m[i], &nh) == FH_ESP_OK;
		else
			rte_pktmbuf_free(m[i]);
	}
	fh_check(k == 8 && bad == 0 && a->seq == 5 && b->seq == 3 && okdec == 5,
		 "single writer: interleaved runs numbered in order (A 1..5, B 1..3), A's decrypt (k %u, bad %u, dec %u)", k,
		 bad, okdec);
	/* a second burst: CBC IVs never repeat, within a burst or across bursts */
	for (int i = 0; i < 8; i++) {
		m[i] = ip_packet(100, IPPROTO_UDP, (uint8_t)i);
		sa[i] = a;
	}
	k = (uint16_t)(k + fh_esp_outbound(&lc_mb, m, sa, 8, why));
	for (uint16_t i = 0; i < 8 && k == 16; i++) {
		memcpy(ivs[8 + i], rte_pktmbuf_mtod(m[i], const uint8_t *) + 28, 16);
		rte_pktmbuf_free(m[i]);
	}
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < i; j++)
			same_iv += memcmp(ivs[i], ivs[j], 16) == 0;
	fh_check(k == 16 && same_iv == 0, "CBC IVs of two bursts all different (%u equal pairs)", same_iv);
	fh_sa_destroy(a);
	fh_sa_destroy(b);
	fh_sa_destroy(ain);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "128", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
		       "--file-prefix=fh-test-esp", NULL};

	(void)argc;
	if (rte_eal_init(8, eal) < 0) {
		printf("Bail out! EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	for (size_t i = 0; i < sizeof(ek); i++)
		ek[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(ak); i++)
		ak[i] = (uint8_t)(i * 13 + 5);
	if (pool == NULL || fh_esp_lcore_init(&lc_mb, fh_crypto_engine_get("ipsec-mb")) < 0 ||
	    fh_esp_lcore_init(&lc_ossl, fh_crypto_engine_get("openssl")) < 0) {
		printf("Bail out! setup failed\n");
		return 1;
	}
	roundtrips();
	replay_window();
	bad_packets();
	bad_padding();
	single_writer();
	shared_outbound("ipsec-mb", FH_ENCR_AES_GCM_256, FH_INTEG_NONE);
	shared_outbound("ipsec-mb", FH_ENCR_AES_CBC_256, FH_INTEG_SHA256_128);
	shared_outbound("openssl", FH_ENCR_AES_GCM_256, FH_INTEG_NONE);
	shared_outbound("openssl", FH_ENCR_AES_CBC_256, FH_INTEG_SHA256_128);
	fh_check(rte_mempool_in_use_count(pool) == 0, "every mbuf returned to the pool");
	fh_esp_lcore_fini(&lc_mb);
	fh_esp_lcore_fini(&lc_ossl);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return fh_test_done();
}
