/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_ESP_H
#define FH_ESP_H

/*
 * ESP (RFC 4303) on mbufs, in bursts: tunnel and transport mode, AES-CBC + HMAC and AES-GCM
 * (RFC 4106) through a crypto engine, 64-bit extended sequence numbers, anti-replay with a window
 * of up to 4096 packets in 64-bit buckets (RFC 6479), UDP encapsulation (RFC 3948).
 *
 * Burst contract (as DPDK lib/ipsec): fh_esp_inbound/outbound take n mbufs and return k; the k
 * good ones are at the front, in their original order, the n - k bad ones after them with a
 * reason in why[] (enum fh_esp_err). The caller frees and counts the bad ones.
 *
 * Threading: an inbound SA's replay window and counters have one writer, the SA's owner lcore.
 * Several workers may share an outbound SA: each burst reserves its sequence numbers with one
 * atomic add per run of packets of that SA (as DPDK lib/ipsec does), and outbound counters are
 * per lcore (each on its own cache line), summed on read by fh_sa_stats_read().
 * SAs are created and destroyed by the control lcore; a published SA is never freed before a
 * QSBR grace period.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "fh_crypto.h"

/* Replay window limits: RFC 4303 3.4.3 asks for 32 at least; 4096 covers reordering across
 * many workers and links. */
#define FH_REPLAY_WIN_MAX 4096
#define FH_REPLAY_BUCKETS (FH_REPLAY_WIN_MAX / 64 + 1)

#define FH_ESP_HDR_LEN 8
#define FH_NATT_PORT 4500

enum fh_sa_dir {
	FH_SA_IN,
	FH_SA_OUT,
};

enum fh_esp_err {
	FH_ESP_OK,
	FH_ESP_ERR_LEN,        /* truncated, or lengths that do not add up */
	FH_ESP_ERR_REPLAY,     /* duplicate or older than the window */
	FH_ESP_ERR_AUTH,       /* ICV did not verify */
	FH_ESP_ERR_PAD,        /* padding bytes or length wrong (RFC 4303 2.4) */
	FH_ESP_ERR_PROTO,      /* next header we do not carry */
	FH_ESP_ERR_SEQ,        /* sequence number space used up: needs a rekey */
	FH_ESP_ERR_EXPIRED,    /* hard lifetime reached */
	FH_ESP_ERR_NOROOM,     /* no headroom/tailroom or chained mbuf */
	FH_ESP_ERR_CRYPTO,     /* engine refused the op */
	FH_ESP_ERR_MAX,
};

const char *fh_esp_err_name(enum fh_esp_err e);

struct fh_replay {
	uint64_t top;                       /* highest sequence number accepted */
	uint32_t win;                       /* packets; 0 = replay check off */
	uint32_t nb;                        /* buckets in use: win/64 + 1 */
	uint64_t bits[FH_REPLAY_BUCKETS];
};

/* Counters as "show crypto ipsec sa" prints them. */
struct fh_sa_stats {
	uint64_t pkts;        /* encaps (out) / decaps (in) */
	uint64_t bytes;
	uint64_t auth_fail;
	uint64_t replay;
	uint64_t errors;      /* every other drop */
};

struct fh_sa_params {
	uint32_t spi;
	uint8_t dir;          /* enum fh_sa_dir */
	uint8_t mode;         /* enum fh_esp_mode */
	uint8_t encr, integ;
	bool esn;
	bool udp_encap;
	uint32_t src, dst;    /* outer addresses, host order (out: ours -> peer; in: peer -> ours) */
	uint16_t sport, dport;
	uint32_t replay_win;
	uint64_t life_bytes, life_pkts; /* hard limits; soft at 90 %; 0 = none */
	uint32_t life_seconds;          /* checked by the control lcore (fh_sa_age) */
	uint16_t n_lcores;              /* out: workers that may encrypt with it (counter slots); 0 = 1 */
	const uint8_t *enc_key;
	uint32_t enc_key_len;
	const uint8_t *auth_key;
	uint32_t auth_key_len;
};

/*
 * Layout: what one packet reads of its SA sits on the first cache line (64 bytes), so a burst
 * spread over thousands of tunnels pays one miss per SA for it, and fh_sa_prefetch() can ask for
 * it (and the session's first lines) ahead of the ESP stage. The outbound sequence number is on
 * that line too: the atomic add needs the line exclusive anyway, and a locked add on a line that
 * is not there stalls the core with nothing to overlap (doc/performance.md "Thousands of
 * tunnels"). What only the control lcore reads comes after.
 */
struct fh_sa {
	/* ---- line 0: read (and seq, the expiry flags written) per packet ---- */
	uint64_t seq;                        /* out: last sequence number reserved */
	uint64_t life_bytes, life_pkts;      /* hard limits; 0 = none */
	struct fh_sa_lstats *lst;            /* out: n_lst per-lcore counter lines */
	uint32_t spi;
	uint32_t src, dst;
	uint32_t tunnel;                     /* in: the data-plane tunnel (interface slot) its packets
					      * arrive on; set by the control lcore before the SA is
					      * published, never changed after */
	uint16_t sport, dport;
	uint16_t owner;                      /* in: the worker that owns the replay window */
	uint16_t n_lst;
	uint8_t mode, encr, iv_len, block, icv_len;
	bool esn : 1, udp_encap : 1;
	bool seq_single : 1;                 /* out: one lcore encrypts with it (n_lcores == 1): no
					      * lock on seq */
	volatile bool soft_expired;          /* set by workers (volume) or fh_sa_age (time) */
	volatile bool hard_expired;          /* set by workers (volume) or fh_sa_age; workers then drop */
	/* ---- control lcore only ---- */
	uint8_t dir, integ;
	uint32_t life_seconds;
	uint64_t created;                    /* timer cycles */
	const struct fh_crypto_engine *eng;
	struct fh_replay rp __rte_cache_aligned; /* in */
	struct fh_sa_stats st __rte_cache_aligned; /* in: the owner's; out: unused (see lst) */
	uint8_t sess[] __rte_cache_aligned;  /* the engine's session, eng->sess_size bytes */
};

/* One lcore's outbound counters of an SA: a single writer, so relaxed stores of the sums. */
struct fh_sa_lstats {
	uint64_t pkts, bytes, errors;
} __rte_cache_aligned;

/* The SA's counters as show commands and IKE's DPD/volume checks want them: inbound ones as the
 * owner wrote them, outbound ones summed over lcores. Any lcore. */
void fh_sa_stats_read(const struct fh_sa *sa, struct fh_sa_stats *out);

/* Time-based lifetime: marks soft (90 %) and hard expiry. Control lcore, about once a second. */
void fh_sa_age(struct fh_sa *sa, uint64_t now, uint64_t hz);

/* Allocate (rte_malloc) and key an SA; NULL on a bad parameter or no memory. Control lcore. */
struct fh_sa *fh_sa_create(const struct fh_sa_params *p, const struct fh_crypto_engine *eng);
void fh_sa_destroy(struct fh_sa *sa);

/* Per-lcore state: the engine's context and room for one burst of ops. */
#define FH_ESP_BURST_MAX 64
struct fh_esp_lcore {
	uint16_t index;                      /* the worker's number: its counter slot in outbound SAs */
	const struct fh_crypto_engine *eng;
	void *eng_ctx;
	struct fh_crypto_op ops[FH_ESP_BURST_MAX];
	uint8_t saved_icv[FH_ESP_BURST_MAX][FH_CRYPTO_ICV_MAX];
	uint8_t iv[FH_ESP_BURST_MAX][16];
	void *iv_gen;                        /* CBC IVs: AES-128-CTR keystream under a per-lcore
					      * random key (an EVP_CIPHER_CTX) */
	uint32_t iv_blocks;                  /* IV blocks since that key was drawn */
};

_Static_assert(offsetof(struct fh_sa, dir) <= RTE_CACHE_LINE_SIZE, "struct fh_sa: the per-packet fields fill one line");

int fh_esp_lcore_init(struct fh_esp_lcore *lc, const struct fh_crypto_engine *eng);

/* Where an SA's per-lcore counter lines start (fh_sa_create puts them after the session). */
static inline size_t fh_sa_lst_offset(const struct fh_crypto_engine *eng)
{
	return RTE_ALIGN_CEIL(sizeof(struct fh_sa) + eng->sess_size, RTE_CACHE_LINE_SIZE);
}

/*
 * Ask for the lines one packet of sa will touch, without reading the SA (its own loads would
 * wait for the very miss being prefetched). Workers, a stage before ESP, for a whole burst, so the
 * misses of many SAs overlap; a burst spread over many SAs asks for each part for every packet
 * before the next part, in the order ESP reads them, since the core has only so many misses in
 * flight. Prefetches do not fault, so an address past a short SA is harmless.
 */
/* The first line, for writing (seq, expiry flags). */
static inline void fh_sa_prefetch_head(const struct fh_sa *sa)
{
	__builtin_prefetch(sa, 1, 3);
}

/* The session's first eng->sess_hot bytes: what the engine reads for one op. */
static inline void fh_sa_prefetch_sess(const struct fh_esp_lcore *lc, const struct fh_sa *sa)
{
	for (size_t o = 0; o < lc->eng->sess_hot; o += RTE_CACHE_LINE_SIZE)
		__builtin_prefetch(sa->sess + o, 0, 3);
}

/* Counters, for writing: outbound this lcore's line, inbound the replay window's first line and
 * the owner's counters. */
static inline void fh_sa_prefetch_ctr(const struct fh_esp_lcore *lc, const struct fh_sa *sa, enum fh_sa_dir dir)
{
	if (dir == FH_SA_OUT) {
		__builtin_prefetch((const uint8_t *)sa + fh_sa_lst_offset(lc->eng) +
				   (size_t)lc->index * sizeof(struct fh_sa_lstats), 1, 3);
	} else {
		__builtin_prefetch(&sa->rp, 1, 3);
		__builtin_prefetch(&sa->st, 1, 3);
	}
}

static inline void fh_sa_prefetch(const struct fh_esp_lcore *lc, const struct fh_sa *sa, enum fh_sa_dir dir)
{
	fh_sa_prefetch_head(sa);
	fh_sa_prefetch_ctr(lc, sa, dir);
	fh_sa_prefetch_sess(lc, sa);
}

void fh_esp_lcore_fini(struct fh_esp_lcore *lc);

/*
 * Inbound: each mbuf starts at the outer IPv4 header of an ESP (or ESP-in-UDP) packet for sa[i].
 * Good ones come back starting at what ESP carried, next_hdr[i] saying what (4 = IPv4, 47 = GRE
 * in transport mode), with the outer header gone in tunnel mode; in transport mode the IPv4 header
 * is kept with its protocol and length fixed.
 */
uint16_t fh_esp_inbound(struct fh_esp_lcore *lc, struct rte_mbuf *m[], struct fh_sa *sa[], uint16_t n,
			uint8_t next_hdr[], uint8_t why[]);

/*
 * Outbound: tunnel mode: each mbuf starts at the IPv4 packet to protect (for GRE tunnels, the GRE
 * delivery packet); next_hdr[i] is 4. Transport mode: each starts at an IPv4 header whose payload
 * is protected in place. Good ones come back starting at the outer IPv4 header.
 */
uint16_t fh_esp_outbound(struct fh_esp_lcore *lc, struct rte_mbuf *m[], struct fh_sa *sa[], uint16_t n,
			 uint8_t why[]);

/* Replay window, exposed for tests: check is read-only, update after the ICV verified. */
void fh_replay_init(struct fh_replay *r, uint32_t win);
/* Full 64-bit sequence number for a received low half (RFC 4303 Appendix A2.2); 0 = invalid. */
uint64_t fh_replay_esn(const struct fh_replay *r, uint32_t seq_lo, bool esn);
bool fh_replay_check(const struct fh_replay *r, uint64_t seq);
bool fh_replay_update(struct fh_replay *r, uint64_t seq);

#endif
