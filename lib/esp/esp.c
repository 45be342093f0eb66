/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP encapsulation and decapsulation, in bursts: parse and check, one engine call, finish. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "fh_config.h"
#include "fh_esp.h"

static const char *const err_names[FH_ESP_ERR_MAX] = {
	[FH_ESP_OK] = "ok",
	[FH_ESP_ERR_LEN] = "bad-length",
	[FH_ESP_ERR_REPLAY] = "replay",
	[FH_ESP_ERR_AUTH] = "auth-failed",
	[FH_ESP_ERR_PAD] = "bad-padding",
	[FH_ESP_ERR_PROTO] = "bad-next-header",
	[FH_ESP_ERR_SEQ] = "seq-overflow",
	[FH_ESP_ERR_EXPIRED] = "sa-expired",
	[FH_ESP_ERR_NOROOM] = "no-room",
	[FH_ESP_ERR_CRYPTO] = "crypto-error",
};

const char *fh_esp_err_name(enum fh_esp_err e)
{
	return e < FH_ESP_ERR_MAX ? err_names[e] : "?";
}

struct fh_sa *fh_sa_create(const struct fh_sa_params *p, const struct fh_crypto_engine *eng)
{
	struct fh_crypto_xform x = {.encr = p->encr, .integ = p->integ, .enc_key = p->enc_key,
				    .enc_key_len = p->enc_key_len, .auth_key = p->auth_key, .auth_key_len = p->auth_key_len};
	struct fh_sa *sa;

	if (p->replay_win > FH_REPLAY_WIN_MAX || (p->mode != FH_ESP_TUNNEL && p->mode != FH_ESP_TRANSPORT))
		return NULL;
	size_t base = fh_sa_lst_offset(eng);
	uint16_t nl = p->dir == FH_SA_OUT ? (p->n_lcores ? p->n_lcores : 1) : 0;

	sa = rte_zmalloc("fh_sa", base + nl * sizeof(struct fh_sa_lstats), RTE_CACHE_LINE_SIZE);
	if (sa == NULL)
		return NULL;
	sa->lst = nl ? (struct fh_sa_lstats *)((uint8_t *)sa + base) : NULL;
	sa->n_lst = nl;
	sa->seq_single = p->dir == FH_SA_OUT && p->n_lcores == 1;
	sa->spi = p->spi;
	sa->dir = p->dir;
	sa->mode = p->mode;
	sa->encr = p->encr;
	sa->integ = p->integ;
	sa->iv_len = (uint8_t)fh_crypto_iv_len(p->encr);
	sa->block = (uint8_t)fh_crypto_block_len(p->encr);
	sa->icv_len = (uint8_t)fh_crypto_icv_len(p->encr, p->integ);
	sa->esn = p->esn;
	sa->udp_encap = p->udp_encap;
	sa->src = p->src;
	sa->dst = p->dst;
	sa->sport = p->sport ? p->sport : FH_NATT_PORT;
	sa->dport = p->dport ? p->dport : FH_NATT_PORT;
	sa->life_bytes = p->life_bytes;
	sa->life_pkts = p->life_pkts;
	sa->life_seconds = p->life_seconds;
	sa->created = rte_get_timer_cycles();
	sa->eng = eng;
	fh_replay_init(&sa->rp, p->replay_win);
	if (eng->sess_init(sa->sess, &x, p->dir == FH_SA_OUT ? FH_CRYPTO_ENCRYPT : FH_CRYPTO_DECRYPT) != 0) {
		rte_free(sa);
		return NULL;
	}
	return sa;
}

void fh_sa_stats_read(const struct fh_sa *sa, struct fh_sa_stats *out)
{
	out->pkts = __atomic_load_n(&sa->st.pkts, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&sa->st.bytes, __ATOMIC_RELAXED);
	out->auth_fail = __atomic_load_n(&sa->st.auth_fail, __ATOMIC_RELAXED);
	out->replay = __atomic_load_n(&sa->st.replay, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&sa->st.errors, __ATOMIC_RELAXED);
	for (uint16_t i = 0; i < sa->n_lst; i++) {
		out->pkts += __atomic_load_n(&sa->lst[i].pkts, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&sa->lst[i].bytes, __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&sa->lst[i].errors, __ATOMIC_RELAXED);
	}
}

void fh_sa_destroy(struct fh_sa *sa)
{
	if (sa == NULL)
		return;
	sa->eng->sess_clear(sa->sess);
	rte_free(sa);
}

/*
 * CBC IVs must be unpredictable (RFC 3602 2.3), not secret: they travel in the clear. AES-CTR
 * keystream under a key drawn from OpenSSL's DRBG is that, like the DRBG's own CTR mode, at the
 * cost of one cipher update per burst where RAND_bytes spent several thousand cycles (parameter
 * lookups, the DRBG's update step) on every burst. The key is drawn again after
 * FH_IV_REKEY_BLOCKS blocks, far below where CTR's output would become distinguishable (2^64).
 */
#define FH_IV_REKEY_BLOCKS (1u << 30)

static int iv_rekey(struct fh_esp_lcore *lc)
{
	uint8_t k[32];
	int ok;

	if (RAND_bytes(k, sizeof(k)) != 1)
		return -1;
	ok = EVP_EncryptInit_ex(lc->iv_gen, EVP_aes_128_ctr(), NULL, k, k + 16);
	OPENSSL_cleanse(k, sizeof(k));
	lc->iv_blocks = 0;
	return ok == 1 ? 0 : -1;
}

/* n blocks of IV; 0, or -1 when OpenSSL failed (the caller then has no IVs to give). */
static int iv_fill(struct fh_esp_lcore *lc, uint16_t n)
{
	static const uint8_t zero[FH_ESP_BURST_MAX * 16];
	int len;

	if (lc->iv_blocks >= FH_IV_REKEY_BLOCKS && iv_rekey(lc) != 0)
		return -1;
	lc->iv_blocks += n;
	return EVP_EncryptUpdate(lc->iv_gen, &lc->iv[0][0], &len, zero, 16 * n) == 1 ? 0 : -1;
}

int fh_esp_lcore_init(struct fh_esp_lcore *lc, const struct fh_crypto_engine *eng)
{
	memset(lc, 0, sizeof(*lc));
	lc->eng = eng;
	lc->eng_ctx = eng->lcore_create();
	lc->iv_gen = EVP_CIPHER_CTX_new();
	if (lc->eng_ctx == NULL || lc->iv_gen == NULL || iv_rekey(lc) != 0) {
		fh_esp_lcore_fini(lc);
		return -1;
	}
	return 0;
}

void fh_esp_lcore_fini(struct fh_esp_lcore *lc)
{
	if (lc->eng != NULL && lc->eng_ctx != NULL)
		lc->eng->lcore_free(lc->eng_ctx);
	EVP_CIPHER_CTX_free(lc->iv_gen);
	memset(lc, 0, sizeof(*lc));
}

/* ---- anti-replay (RFC 4303 3.4.3, buckets as RFC 6479) ---- */

void fh_replay_init(struct fh_replay *r, uint32_t win)
{
	memset(r, 0, sizeof(*r));
	/* round up to whole buckets: the window is at least what was asked for */
	r->win = (win + 63) / 64 * 64;
	r->nb = r->win / 64 + 1;
}

uint64_t fh_replay_esn(const struct fh_replay *r, uint32_t lo, bool esn)
{
	uint32_t tl = (uint32_t)r->top, th = (uint32_t)(r->top >> 32);
	uint32_t w = r->win ? r->win : FH_REPLAY_WIN_MAX;
	uint32_t hi;

	if (!esn)
		return lo; /* 0 is never a valid number (RFC 4303 3.3.3) and stays 0 */
	/* RFC 4303 A2.2: which 2^32 subspace the low half belongs to, relative to the window */
	if (tl >= w - 1) {
		hi = lo >= tl - w + 1 ? th : th + 1;
	} else {
		if (lo >= tl - w + 1) { /* wraps: lo sits at the end of the previous subspace */
			if (th == 0)
				return 0;
			hi = th - 1;
		} else {
			hi = th;
		}
	}
	return (uint64_t)hi << 32 | lo;
}

bool fh_replay_check(const struct fh_replay *r, uint64_t seq)
{
	if (seq == 0)
		return false;
	if (r->win == 0 || seq > r->top)
		return true;
	if (r->top - seq >= r->win)
		return false;
	return !(r->bits[(seq >> 6) % r->nb] & (1ull << (seq & 63)));
}

bool fh_replay_update(struct fh_replay *r, uint64_t seq)
{
	uint64_t *b;

	if (!fh_replay_check(r, seq))
		return false;
	if (r->win == 0) {
		if (seq > r->top)
			r->top = seq;
		return true;
	}
	if (seq > r->top) {
		uint64_t from = (r->top >> 6) + 1, to = seq >> 6;

		/* clear the buckets the window slides over (all of them at most once) */
		if (to - from + 1 >= r->nb)
			memset(r->bits, 0, sizeof(r->bits[0]) * r->nb);
		else
			for (uint64_t i = from; i <= to; i++)
				r->bits[i % r->nb] = 0;
		r->top = seq;
	}
	b = &r->bits[(seq >> 6) % r->nb];
	*b |= 1ull << (seq & 63);
	return true;
}

/* ---- helpers ---- */

static inline void put32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static void ip_fix(struct rte_ipv4_hdr *ip, uint16_t tot, uint8_t proto)
{
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static uint16_t partition(struct rte_mbuf *m[], uint8_t why[], uint8_t aux[], uint16_t n)
{
	struct rte_mbuf *bad[FH_ESP_BURST_MAX];
	uint8_t badwhy[FH_ESP_BURST_MAX], badaux[FH_ESP_BURST_MAX];
	uint16_t k = 0, nb = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (why[i] == FH_ESP_OK) {
			m[k] = m[i];
			if (aux != NULL)
				aux[k] = aux[i];
			why[k++] = FH_ESP_OK;
		} else {
			bad[nb] = m[i];
			badaux[nb] = aux != NULL ? aux[i] : 0;
			badwhy[nb++] = why[i];
		}
	}
	for (uint16_t i = 0; i < nb; i++) {
		m[k + i] = bad[i];
		why[k + i] = badwhy[i];
		if (aux != NULL)
			aux[k + i] = badaux[i];
	}
	return k;
}

void fh_sa_age(struct fh_sa *sa, uint64_t now, uint64_t hz)
{
	uint64_t age;

	if (sa->life_seconds == 0)
		return;
	age = (now - sa->created) / hz;
	if (age >= sa->life_seconds)
		sa->hard_expired = true;
	else if (age * 10 >= (uint64_t)sa->life_seconds * 9)
		sa->soft_expired = true;
}

/* Volume lifetime: b and p count this packet in. Outbound they come from the reserved sequence
 * number and the lcores' byte counts read once per run, so another lcore's packets of the same
 * burst time may be seen late: at most one burst per lcore over a limit, never a wrap. */
static bool life_check(struct fh_sa *sa, uint64_t b, uint64_t p)
{
	if (sa->hard_expired)
		return true;
	/* a lifetime of N packets (bytes) carries N of them, and no more */
	if ((sa->life_bytes && b > sa->life_bytes) || (sa->life_pkts && p > sa->life_pkts)) {
		sa->hard_expired = true; /* the control lcore reports it */
		return true;
	}
	/* soft at 90 %: the control lcore polls the flag and starts a rekey */
	if ((sa->life_bytes && b >= sa->life_bytes / 10 * 9) || (sa->life_pkts && p >= sa->life_pkts / 10 * 9))
		sa->soft_expired = true;
	return false;
}

static bool life_hit(struct fh_sa *sa, uint32_t bytes)
{
	return life_check(sa, sa->st.bytes + bytes, sa->st.pkts + 1);
}

/* GCM's AAD (RFC 4106 5): SPI and sequence number as on the wire, or with ESN SPI, seq high,
 * seq low, built in scratch (12 bytes). */
static void gcm_aad(struct fh_crypto_op *op, const uint8_t *esp, bool esn, uint64_t seq, uint8_t *scratch)
{
	if (!esn) {
		op->aad = esp;
		op->aad_len = 8;
		return;
	}
	memcpy(scratch, esp, 4);
	put32(scratch + 4, (uint32_t)(seq >> 32));
	memcpy(scratch + 8, esp + 4, 4);
	op->aad = scratch;
	op->aad_len = 12;
}

/* ---- inbound ---- */

struct in_meta {
	uint16_t off;     /* outer header bytes before ESP (IP + UDP) */
	uint16_t hlen;
	uint32_t ct_len;
	uint64_t seq;
};

/* i: the packet's slot (scratch buffers), k: where its op goes in the packed array */
static enum fh_esp_err in_prepare(struct fh_esp_lcore *lc, struct rte_mbuf *m, struct fh_sa *sa, uint16_t i,
				  uint16_t k, struct in_meta *mt)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), tot, payload, min;
	struct fh_crypto_op *op = &lc->ops[k];
	uint8_t *esp, *ct, *icv;

	if (m->nb_segs != 1)
		return FH_ESP_ERR_NOROOM;
	if (len < 20)
		return FH_ESP_ERR_LEN;
	mt->hlen = (uint16_t)((ip[0] & 0x0f) * 4);
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if (mt->hlen < 20 || tot > len || tot < mt->hlen)
		return FH_ESP_ERR_LEN;
	mt->off = (uint16_t)(mt->hlen + (ip[9] == IPPROTO_UDP ? 8 : 0));
	if (tot < mt->off)
		return FH_ESP_ERR_LEN;
	payload = tot - mt->off;
	/* exact length and type first, crypto after */
	min = FH_ESP_HDR_LEN + sa->iv_len + sa->block + sa->icv_len;
	if (payload < min || (payload - FH_ESP_HDR_LEN - sa->iv_len - sa->icv_len) % sa->block != 0)
		return FH_ESP_ERR_LEN;
	esp = ip + mt->off;
	mt->seq = fh_replay_esn(&sa->rp, get32(esp + 4), sa->esn);
	if (!fh_replay_check(&sa->rp, mt->seq))
		return FH_ESP_ERR_REPLAY;
	if (life_hit(sa, payload))
		return FH_ESP_ERR_EXPIRED;
	ct = esp + FH_ESP_HDR_LEN + sa->iv_len;
	mt->ct_len = payload - FH_ESP_HDR_LEN - sa->iv_len - sa->icv_len;
	icv = ct + mt->ct_len;
	*op = (struct fh_crypto_op){.sess = sa->sess, .cipher = ct, .cipher_len = mt->ct_len, .iv = esp + FH_ESP_HDR_LEN,
				    .auth = esp, .auth_len = FH_ESP_HDR_LEN + sa->iv_len + mt->ct_len, .icv_expected = icv};
	if (fh_crypto_is_aead(sa->encr)) {
		gcm_aad(op, esp, sa->esn, mt->seq, lc->iv[i]);
	} else if (sa->esn && sa->icv_len != 0) {
		/* RFC 4303 2.2.1: the ICV covers seq high too, appended after the payload; the received
		 * ICV is saved first since seq high is written where it was */
		memcpy(lc->saved_icv[i], icv, sa->icv_len);
		put32(icv, (uint32_t)(mt->seq >> 32));
		op->auth_len += 4;
		op->icv_expected = lc->saved_icv[i];
	}
	return FH_ESP_OK;
}

static enum fh_esp_err in_finish(struct rte_mbuf *m, struct fh_sa *sa, const struct in_meta *mt, int status,
				 uint8_t *nh)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ct = ip + mt->off + FH_ESP_HDR_LEN + sa->iv_len;
	uint32_t pad, inner;

	if (status == FH_CRYPTO_AUTH_FAILED)
		return FH_ESP_ERR_AUTH;
	if (status != FH_CRYPTO_OK)
		return FH_ESP_ERR_CRYPTO;
	/* only now, with the ICV verified, may the window move (RFC 4303 3.4.3) */
	if (!fh_replay_update(&sa->rp, mt->seq))
		return FH_ESP_ERR_REPLAY;
	pad = ct[mt->ct_len - 2];
	*nh = ct[mt->ct_len - 1];
	if (pad + 2 > mt->ct_len)
		return FH_ESP_ERR_PAD;
	/* RFC 4303 2.4: default padding is 1, 2, 3, ...; a receiver checks it */
	for (uint32_t k = 0; k < pad; k++)
		if (ct[mt->ct_len - 2 - pad + k] != (uint8_t)(k + 1))
			return FH_ESP_ERR_PAD;
	inner = mt->ct_len - 2 - pad;
	if (sa->mode == FH_ESP_TUNNEL) {
		/* IPv4 only; 59 (no next header, RFC 4303 2.6 dummy packets) is dropped as well */
		if (*nh != IPPROTO_IPIP || inner < 20)
			return FH_ESP_ERR_PROTO;
		rte_pktmbuf_adj(m, (uint16_t)(mt->off + FH_ESP_HDR_LEN + sa->iv_len));
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner));
	} else {
		uint16_t cut = (uint16_t)(mt->off - mt->hlen + FH_ESP_HDR_LEN + sa->iv_len);

		if (*nh == 59)
			return FH_ESP_ERR_PROTO;
		memmove(ip + cut, ip, mt->hlen);
		rte_pktmbuf_adj(m, cut);
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - mt->hlen - inner));
		ip_fix(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), (uint16_t)(mt->hlen + inner), *nh);
	}
	sa->st.pkts++;
	sa->st.bytes += inner;
	return FH_ESP_OK;
}

uint16_t fh_esp_inbound(struct fh_esp_lcore *lc, struct rte_mbuf *m[], struct fh_sa *sa[], uint16_t n,
			uint8_t next_hdr[], uint8_t why[])
{
	struct in_meta mt[FH_ESP_BURST_MAX];
	uint16_t idx[FH_ESP_BURST_MAX], k = 0;

	if (n > FH_ESP_BURST_MAX)
		n = FH_ESP_BURST_MAX;
	/* ops are packed as they are prepared: one engine call for those that passed the checks */
	for (uint16_t i = 0; i < n; i++) {
		next_hdr[i] = 0;
		why[i] = (uint8_t)in_prepare(lc, m[i], sa[i], i, k, &mt[i]);
		if (why[i] == FH_ESP_OK)
			idx[k++] = i;
	}
	if (k > 0)
		lc->eng->process(lc->eng_ctx, FH_CRYPTO_DECRYPT, lc->ops, k);
	for (uint16_t j = 0; j < k; j++) {
		uint16_t i = idx[j];

		why[i] = (uint8_t)in_finish(m[i], sa[i], &mt[i], lc->ops[j].status, &next_hdr[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		if (why[i] == FH_ESP_ERR_AUTH)
			sa[i]->st.auth_fail++;
		else if (why[i] == FH_ESP_ERR_REPLAY)
			sa[i]->st.replay++;
		else if (why[i] != FH_ESP_OK)
			sa[i]->st.errors++;
	}
	return partition(m, why, next_hdr, n);
}

/* ---- outbound ---- */

/* This lcore's counter line of an outbound SA: a single writer, plain sums stored relaxed. An SA
 * created for fewer lcores than encrypt with it (tests) shares its first line, atomically. */
static inline void lst_add(struct fh_sa *sa, uint16_t lcore, uint64_t errors, uint64_t pkts, uint64_t bytes)
{
	struct fh_sa_lstats *l;

	if (sa->lst == NULL) { /* an inbound SA used to encrypt (tests): its own counters */
		__atomic_fetch_add(&sa->st.errors, errors, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sa->st.pkts, pkts, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sa->st.bytes, bytes, __ATOMIC_RELAXED);
		return;
	}
	if (lcore >= sa->n_lst) {
		l = &sa->lst[0];
		__atomic_fetch_add(&l->errors, errors, __ATOMIC_RELAXED);
		__atomic_fetch_add(&l->pkts, pkts, __ATOMIC_RELAXED);
		__atomic_fetch_add(&l->bytes, bytes, __ATOMIC_RELAXED);
		return;
	}
	l = &sa->lst[lcore];
	__atomic_store_n(&l->errors, l->errors + errors, __ATOMIC_RELAXED);
	__atomic_store_n(&l->pkts, l->pkts + pkts, __ATOMIC_RELAXED);
	__atomic_store_n(&l->bytes, l->bytes + bytes, __ATOMIC_RELAXED);
}

static enum fh_esp_err out_prepare(struct fh_esp_lcore *lc, struct rte_mbuf *m, struct fh_sa *sa, uint16_t i,
				   uint16_t k, uint8_t **icv_pos, uint64_t seq, uint64_t *run_bytes)
{
	bool tunnel = sa->mode == FH_ESP_TUNNEL;
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4, len = rte_pktmbuf_data_len(m);
	uint32_t L, pad, head, udp = sa->udp_encap ? 8 : 0;
	struct fh_crypto_op *op = &lc->ops[k];
	uint8_t nh, tos, *trailer, *esp, *ct, *outer;

	if (m->nb_segs != 1)
		return FH_ESP_ERR_NOROOM;
	if (len < 20 || hlen < 20 || hlen > len)
		return FH_ESP_ERR_LEN;
	nh = tunnel ? IPPROTO_IPIP : ip[9];
	tos = ip[1];
	L = tunnel ? len : len - hlen;
	pad = (sa->block - (L + 2) % sa->block) % sa->block;
	*run_bytes += L;
	if (life_check(sa, *run_bytes, seq))
		return FH_ESP_ERR_EXPIRED;
	if (!sa->esn && seq > UINT32_MAX)
		return FH_ESP_ERR_SEQ; /* RFC 4303 3.3.3: never wrap; the SA must be rekeyed */
	trailer = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(pad + 2 + sa->icv_len));
	head = (tunnel ? 20 : 0) + udp + FH_ESP_HDR_LEN + sa->iv_len;
	if (trailer == NULL || rte_pktmbuf_headroom(m) < head)
		return FH_ESP_ERR_NOROOM;
	for (uint32_t k = 0; k < pad; k++)
		trailer[k] = (uint8_t)(k + 1);
	trailer[pad] = (uint8_t)pad;
	trailer[pad + 1] = nh;
	outer = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)head);
	if (!tunnel)
		memmove(outer, ip, hlen); /* transport: the IP header moves in front of ESP */
	esp = outer + (tunnel ? 20 : hlen) + udp;
	ct = esp + FH_ESP_HDR_LEN + sa->iv_len;
	put32(esp, sa->spi);
	put32(esp + 4, (uint32_t)seq);
	if (fh_crypto_is_aead(sa->encr)) {
		/* RFC 4106 3.1: the IV must not repeat under a key; the sequence number never does */
		uint64_t be = rte_cpu_to_be_64(seq);

		memcpy(esp + FH_ESP_HDR_LEN, &be, 8);
	} else if (sa->iv_len != 0) {
		/* CBC needs unpredictable IVs (RFC 3602 2.3): from the per-burst random block */
		memcpy(esp + FH_ESP_HDR_LEN, lc->iv[i], sa->iv_len);
	}
	*icv_pos = ct + L + pad + 2;
	*op = (struct fh_crypto_op){.sess = sa->sess, .cipher = ct, .cipher_len = L + pad + 2,
				    .iv = esp + FH_ESP_HDR_LEN, .auth = esp,
				    .auth_len = FH_ESP_HDR_LEN + sa->iv_len + L + pad + 2};
	if (fh_crypto_is_aead(sa->encr)) {
		gcm_aad(op, esp, sa->esn, seq, lc->saved_icv[i]);
	} else if (sa->esn && sa->icv_len != 0) {
		put32(*icv_pos, (uint32_t)(seq >> 32)); /* overwritten by the ICV afterwards */
		op->auth_len += 4;
	}
	if (tunnel) {
		struct rte_ipv4_hdr *o = (struct rte_ipv4_hdr *)outer;

		o->version_ihl = 0x45;
		o->type_of_service = tos; /* DSCP and ECN copied (RFC 4301 5.1.2.1, RFC 6040 normal mode) */
		/* distinct for 65,536 packets of the SA, from the reserved number: no shared counter */
		o->packet_id = rte_cpu_to_be_16((uint16_t)seq);
		o->fragment_offset = 0;
		o->time_to_live = 64;
		o->src_addr = rte_cpu_to_be_32(sa->src);
		o->dst_addr = rte_cpu_to_be_32(sa->dst);
		ip_fix(o, (uint16_t)rte_pktmbuf_data_len(m), udp ? IPPROTO_UDP : IPPROTO_ESP);
	} else {
		ip_fix((struct rte_ipv4_hdr *)outer, (uint16_t)rte_pktmbuf_data_len(m), udp ? IPPROTO_UDP : IPPROTO_ESP);
	}
	if (udp) {
		uint8_t *u = esp - 8;
		uint16_t ulen = (uint16_t)(rte_pktmbuf_data_len(m) - (tunnel ? 20 : hlen));

		u[0] = (uint8_t)(sa->sport >> 8), u[1] = (uint8_t)sa->sport;
		u[2] = (uint8_t)(sa->dport >> 8), u[3] = (uint8_t)sa->dport;
		u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
		u[6] = u[7] = 0; /* RFC 3948 2.1: checksum zero */
	}
	return FH_ESP_OK;
}

uint16_t fh_esp_outbound(struct fh_esp_lcore *lc, struct rte_mbuf *m[], struct fh_sa *sa[], uint16_t n,
			 uint8_t why[])
{
	uint8_t *icv_pos[FH_ESP_BURST_MAX];
	uint16_t idx[FH_ESP_BURST_MAX], k = 0;
	bool need_iv = false;

	if (n > FH_ESP_BURST_MAX)
		n = FH_ESP_BURST_MAX;
	for (uint16_t i = 0; i < n; i++)
		need_iv |= sa[i]->iv_len != 0 && !fh_crypto_is_aead(sa[i]->encr);
	/* CBC IVs: one keystream update per burst, not per packet (GCM uses the sequence number) */
	if (need_iv && iv_fill(lc, n) != 0)
		memset(lc->iv, 0, sizeof(lc->iv[0]) * n); /* only reached if OpenSSL is broken */
	for (uint16_t i = 0, run = 0; i < n; i += run) {
		/* a run of packets of one SA takes its sequence numbers with one atomic add */
		uint64_t base, bytes = 0;

		for (run = 1; i + run < n && sa[i + run] == sa[i]; run++)
			;
		if (sa[i]->seq_single && lc->index == 0) {
			/* the only writer: a plain add lets the line's miss overlap with other work,
			 * where a locked one would stall the core on it */
			base = sa[i]->seq;
			__atomic_store_n(&sa[i]->seq, base + run, __ATOMIC_RELAXED);
		} else {
			base = __atomic_fetch_add(&sa[i]->seq, run, __ATOMIC_RELAXED);
		}
		if (sa[i]->life_bytes != 0)
			for (uint16_t l = 0; l < sa[i]->n_lst; l++)
				bytes += __atomic_load_n(&sa[i]->lst[l].bytes, __ATOMIC_RELAXED);
		for (uint16_t r = 0; r < run; r++) {
			why[i + r] = (uint8_t)out_prepare(lc, m[i + r], sa[i + r], i + r, k, &icv_pos[i + r], base + 1 + r,
							  &bytes);
			if (why[i + r] == FH_ESP_OK)
				idx[k++] = i + r;
		}
	}
	if (k > 0)
		lc->eng->process(lc->eng_ctx, FH_CRYPTO_ENCRYPT, lc->ops, k);
	for (uint16_t j = 0; j < k; j++) {
		uint16_t i = idx[j];

		if (lc->ops[j].status != FH_CRYPTO_OK) {
			why[i] = FH_ESP_ERR_CRYPTO;
			continue;
		}
		memcpy(icv_pos[i], lc->ops[j].icv, sa[i]->icv_len);
		lst_add(sa[i], lc->index, 0, 1, lc->ops[j].cipher_len);
	}
	for (uint16_t i = 0; i < n; i++)
		if (why[i] != FH_ESP_OK)
			lst_add(sa[i], lc->index, 1, 0, 0);
	return partition(m, why, NULL, n);
}
