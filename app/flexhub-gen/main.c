/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flexhub-gen: a testpmd-style generator and sink for benchmarks.
 *
 *   flexhub-gen floor --encr esp-gcm-256 --size 1420 [--seconds 3]
 *       the crypto floor: the ESP cipher+ICV work alone on bursts of 32 buffers, no packet I/O
 *   flexhub-gen run --mode plain|esp --size N|imix --seconds T [SA options] -- EAL args
 *       port 0 transmits as fast as it can, port 1 receives and counts; prints one JSON line
 *   --dst-count N[,N2,...] [--dst-base A.B.C.D] [--dst-stride S]   (plain mode)
 *       destinations cycle over base, base+S, ... base+(N-1)*S, one per frame sent (each frame's
 *       destination and header checksum rewritten just before it is sent); for flows spread over
 *       many tunnels' routed prefixes. Defaults: base 172.16.0.2, stride 256 (one /24 apart).
 *       Without --dst-count the 200 fixed destinations of 10.20.2.0/24 (unchanged). A list runs
 *       one warm-up + measured window per entry in the same process, without stopping traffic
 *       (memif links stay up), one JSON line each; "phase P" goes to stderr as each one starts.
 *
 * In esp mode the generator encrypts its frames once, with the SA given (replay windows of the
 * receiver must be off, since the same frames repeat). Frames go to --dst-mac (the device under
 * test's MAC on port 0).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "fh_config.h"
#include "fh_esp.h"

#define BURST 32
/* Distinct frames (flows) sent in turn: 252 is a multiple of IMIX's 12-frame pattern. */
#define TEMPLATES 252

struct opts {
	const char *cmd;
	const char *mode;
	const char *size;
	const char *encr;
	const char *integ;
	const char *engine;
	uint32_t spi;
	double seconds;
	struct rte_ether_addr dst_mac;
	uint8_t key[64], akey[64];
	uint32_t key_len, akey_len;
	bool gre;
	uint32_t dst_counts[16]; /* per phase; 0: the templates' own destinations */
	uint32_t n_phases;
	uint32_t dst_base, dst_stride;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t encr_of(const char *s)
{
	if (strcmp(s, "esp-gcm-256") == 0)
		return FH_ENCR_AES_GCM_256;
	if (strcmp(s, "esp-gcm-128") == 0)
		return FH_ENCR_AES_GCM_128;
	if (strcmp(s, "esp-aes-128") == 0)
		return FH_ENCR_AES_CBC_128;
	return FH_ENCR_AES_CBC_256;
}

static uint8_t integ_of(const char *s)
{
	if (s == NULL || strcmp(s, "none") == 0)
		return FH_INTEG_NONE;
	if (strcmp(s, "esp-sha-hmac") == 0)
		return FH_INTEG_SHA1_96;
	return FH_INTEG_SHA256_128;
}

/* IMIX (7:4:1 of 64, 594, 1518-byte frames), or one size, as a list of frame sizes. */
static uint32_t frame_size(const char *spec, uint32_t i)
{
	static const uint32_t imix[12] = {64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518};

	if (strcmp(spec, "imix") == 0)
		return imix[i % 12];
	return (uint32_t)atoi(spec);
}

/* The crypto floor: what the engine alone does with ESP-shaped buffers of this size. */
static int floor_run(const struct opts *o)
{
	const struct fh_crypto_engine *e = fh_crypto_engine_get(o->engine);
	uint8_t encr = encr_of(o->encr), integ = fh_crypto_is_aead(encr) ? FH_INTEG_NONE : integ_of(o->integ);
	struct fh_crypto_xform x = {.encr = encr, .integ = integ, .enc_key = o->key,
				    .enc_key_len = encr == FH_ENCR_AES_GCM_256 ? 36 : encr == FH_ENCR_AES_GCM_128 ? 20 :
						   encr == FH_ENCR_AES_CBC_128 ? 16 : 32,
				    .auth_key = o->akey, .auth_key_len = integ == FH_INTEG_SHA1_96 ? 20 : 32};
	static uint8_t bufs[BURST][2048] __attribute__((aligned(64)));
	static struct fh_crypto_op ops[BURST];
	void *sess = aligned_alloc(64, (e->sess_size + 63) / 64 * 64), *lc = e->lcore_create();
	uint32_t iv = fh_crypto_iv_len(encr), blk = fh_crypto_block_len(encr), n_ops;
	uint64_t pkts = 0, bytes = 0, burst_bytes = 0, c0;
	double t0, t;

	if (sess == NULL || lc == NULL || e->sess_init(sess, &x, FH_CRYPTO_ENCRYPT) != 0) {
		fprintf(stderr, "flexhub-gen: engine setup failed\n");
		return 1;
	}
	/* IMIX repeats every 12 frames: a burst of 24 keeps its 7:4:1 mix exact */
	n_ops = strcmp(o->size, "imix") == 0 ? 24 : BURST;
	for (uint32_t i = 0; i < n_ops; i++) {
		/* the ciphertext an ESP tunnel packet of this frame carries: inner IP packet + trailer */
		uint32_t frame = frame_size(o->size, i), inner = frame > 14 ? frame - 14 : 64;
		uint32_t ct = (inner + 2 + blk - 1) / blk * blk;

		ops[i] = (struct fh_crypto_op){.sess = sess, .cipher = bufs[i] + 8 + iv, .cipher_len = ct, .iv = bufs[i] + 8,
					       .auth = bufs[i], .auth_len = 8 + iv + ct, .aad = bufs[i], .aad_len = 8};
		burst_bytes += frame;
	}
	t0 = now();
	c0 = rte_rdtsc();
	do {
		for (int k = 0; k < 64; k++)
			e->process(lc, FH_CRYPTO_ENCRYPT, ops, (uint16_t)n_ops);
		pkts += 64 * n_ops;
		bytes += 64 * burst_bytes;
		t = now();
	} while (t - t0 < o->seconds);
	printf("{\"test\":\"floor\",\"engine\":\"%s\",\"encr\":\"%s\",\"integ\":\"%s\",\"size\":\"%s\",\"mpps\":%.3f,"
	       "\"gbps\":%.2f,\"cycles_per_packet\":%.0f,\"tsc_hz\":%.0f}\n",
	       o->engine, o->encr, fh_crypto_is_aead(encr) ? "none" : o->integ, o->size, pkts / (t - t0) / 1e6,
	       (double)bytes * 8 / (t - t0) / 1e9, (double)(rte_rdtsc() - c0) / (double)pkts,
	       (double)(rte_rdtsc() - c0) / (now() - t0));
	e->sess_clear(sess);
	e->lcore_free(lc);
	free(sess);
	return 0;
}

static struct rte_mbuf *plain_frame(struct rte_mempool *pool, const struct opts *o, uint32_t i, uint32_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t ip_len = size - 14;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)size);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	memset(eth, 0, size);
	eth->dst_addr = o->dst_mac;
	eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0xbe, 0x01}};
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	/* LAN A hosts to LAN B hosts, many flows */
	ip->src_addr = rte_cpu_to_be_32(0x0a0a0200 | (20 + i % 200));
	ip->dst_addr = rte_cpu_to_be_32(0x0a140200 | (2 + i % 200));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + i));
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - 20));
	return m;
}

/* The same flows as ESP from the far router: what the device under test decrypts. */
static struct rte_mbuf *esp_frame(struct rte_mempool *pool, const struct opts *o, struct fh_esp_lcore *lc,
				  struct fh_sa *sa, uint32_t i, uint32_t size)
{
	struct rte_mbuf *m = plain_frame(pool, o, i, size);
	struct rte_ipv4_hdr *ip;
	uint8_t why;

	/* reversed: LAN B to hosts behind LAN A's gateway */
	rte_pktmbuf_adj(m, 14);
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	ip->src_addr = rte_cpu_to_be_32(0x0a140200 | (2 + i % 200));
	ip->dst_addr = rte_cpu_to_be_32(0x0a0a0200 | (20 + i % 200));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (o->gre) {
		/* FlexVPN's GRE over IPsec: delivery header and GRE inside ESP */
		uint16_t tot = (uint16_t)(rte_pktmbuf_data_len(m) + 24);
		struct rte_ipv4_hdr *d = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, 24);

		if (d == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memset(d, 0, 24);
		d->version_ihl = 0x45;
		d->total_length = rte_cpu_to_be_16(tot);
		d->time_to_live = 255;
		d->next_proto_id = IPPROTO_GRE;
		d->src_addr = rte_cpu_to_be_32(0xc0a80014);
		d->dst_addr = rte_cpu_to_be_32(0xc0a8000a);
		d->hdr_checksum = rte_ipv4_cksum(d);
		((uint8_t *)d)[22] = 0x08; /* GRE protocol type IPv4 */
	}
	if (fh_esp_outbound(lc, &m, &sa, 1, &why) != 1) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	{
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, 14);

		eth->dst_addr = o->dst_mac;
		eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0xbe, 0x02}};
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	}
	return m;
}

/* Queue pairs per port (--queues): memif pairs queues one to one, so this must match the device
 * under test (flexhub: one per worker; ipsec-secgw: one TX queue per lcore). */
static uint16_t gen_queues = 1;
#define GEN_QUEUES gen_queues

static int port_init(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = {0};

	if (rte_eth_dev_configure(port, GEN_QUEUES, GEN_QUEUES, &conf) != 0)
		return -1;
	for (uint16_t q = 0; q < GEN_QUEUES; q++)
		if (rte_eth_rx_queue_setup(port, q, 1024, (unsigned int)rte_eth_dev_socket_id(port), NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(port, q, 1024, (unsigned int)rte_eth_dev_socket_id(port), NULL) != 0)
			return -1;
	return rte_eth_dev_start(port);
}

static int gen_run(const struct opts *o)
{
	struct rte_mempool *pool = rte_pktmbuf_pool_create("gen", 16383, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
							   (int)rte_socket_id());
	struct rte_mbuf *tmpl[TEMPLATES];
	uint64_t tx = 0, rx = 0, rx_bytes = 0, rx0 = 0, rxb0 = 0, tx0 = 0;
	double t0, tstart, t;
	bool measuring = false;
	uint32_t next = 0, dnext = 0;

	if (o->dst_counts[0] > 0 && strcmp(o->mode, "plain") != 0) {
		fprintf(stderr, "flexhub-gen: --dst-count needs --mode plain\n");
		return 1;
	}
	if (pool == NULL || rte_eth_dev_count_avail() < 2 || port_init(0, pool) != 0 || port_init(1, pool) != 0) {
		fprintf(stderr, "flexhub-gen: need two ports (got %u) and memory\n", rte_eth_dev_count_avail());
		return 1;
	}
	if (strcmp(o->mode, "esp") == 0) {
		struct fh_esp_lcore lc;
		uint8_t encr = encr_of(o->encr);
		struct fh_sa_params p = {.spi = o->spi, .dir = FH_SA_OUT, .mode = FH_ESP_TUNNEL, .encr = encr,
					 .integ = fh_crypto_is_aead(encr) ? FH_INTEG_NONE : integ_of(o->integ),
					 .src = 0xc0a80014, .dst = 0xc0a8000a, .enc_key = o->key, .enc_key_len = o->key_len,
					 .auth_key = o->akey, .auth_key_len = o->akey_len};
		const struct fh_crypto_engine *e = fh_crypto_engine_get("ipsec-mb");
		struct fh_sa *sa = fh_sa_create(&p, e);

		if (sa == NULL || fh_esp_lcore_init(&lc, e) != 0) {
			fprintf(stderr, "flexhub-gen: bad SA options\n");
			return 1;
		}
		for (uint32_t i = 0; i < TEMPLATES; i++)
			if ((tmpl[i] = esp_frame(pool, o, &lc, sa, i, frame_size(o->size, i))) == NULL)
				return 1;
	} else {
		for (uint32_t i = 0; i < TEMPLATES; i++)
			tmpl[i] = plain_frame(pool, o, i, frame_size(o->size, i));
	}
	/* memif links come up when the device under test connects: wait for both */
	for (int i = 0; i < 600; i++) {
		struct rte_eth_link l0, l1;

		rte_eth_link_get_nowait(0, &l0);
		rte_eth_link_get_nowait(1, &l1);
		if (l0.link_status && l1.link_status)
			break;
		rte_delay_ms(100);
	}
	/* a second of warm-up (caches, the peer's first packets), then the measured window; with a
	 * list of destination counts, one warm-up and window per entry, back to back (one JSON line
	 * each, and "phase P" on stderr when its warm-up starts, for scripts that act during it) */
	for (uint32_t ph = 0; ph < o->n_phases; ph++) {
		uint32_t dcount = o->dst_counts[ph];

		measuring = false;
		tstart = t0 = now();
		fprintf(stderr, "phase %u\n", ph);
		for (;;) {
			struct rte_mbuf *b[BURST];
			uint16_t n;

			for (int i = 0; i < BURST; i++) {
				b[i] = tmpl[next++ % TEMPLATES];
				rte_mbuf_refcnt_update(b[i], 1); /* the port frees its reference after sending */
				if (dcount > 0) {
					/* memif copies the frame inside tx_burst, so a template is free to be
					 * rewritten before its next turn (a burst never holds one twice) */
					struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(b[i], struct rte_ipv4_hdr *, 14);

					ip->dst_addr = rte_cpu_to_be_32(o->dst_base + (dnext++ % dcount) * o->dst_stride);
					ip->hdr_checksum = 0;
					ip->hdr_checksum = rte_ipv4_cksum(ip);
				}
			}
			n = rte_eth_tx_burst(0, 0, b, BURST);
			for (uint16_t i = n; i < BURST; i++)
				rte_mbuf_refcnt_update(b[i], -1);
			next -= BURST - n;
			dnext -= dcount > 0 ? BURST - n : 0;
			tx += n;
			for (uint16_t q = 0; q < GEN_QUEUES; q++) {
				n = rte_eth_rx_burst(1, q, b, BURST);
				for (uint16_t i = 0; i < n; i++)
					rx_bytes += rte_pktmbuf_pkt_len(b[i]);
				rx += n;
				rte_pktmbuf_free_bulk(b, n);
			}
			t = now();
			/* the device under test may take seconds to start forwarding (ipsec-secgw waits for
			 * link status): warm-up is the first second after something came back */
			if (rx == 0) {
				tstart = t;
				if (t - t0 > 60)
					break;
			}
			if (!measuring && rx > 0 && t - tstart >= 1.0) {
				measuring = true;
				t0 = t;
				rx0 = rx;
				rxb0 = rx_bytes;
				tx0 = tx;
			}
			if (measuring && t - t0 >= o->seconds)
				break;
		}
		if (!measuring)
			t0 = t, rx0 = rx, rxb0 = rx_bytes, tx0 = tx; /* nothing came back: report zeros */
		if (o->n_phases > 1 || dcount > 0)
			printf("{\"test\":\"gen\",\"mode\":\"%s\",\"size\":\"%s\",\"tx_mpps\":%.3f,\"rx_mpps\":%.3f,\"rx_gbps\":%.3f,"
			       "\"dst_count\":%u,\"phase\":%u}\n",
			       o->mode, o->size, (tx - tx0) / (t - t0) / 1e6, (rx - rx0) / (t - t0) / 1e6,
			       (rx_bytes - rxb0) * 8.0 / (t - t0) / 1e9, dcount, ph);
		else
			printf("{\"test\":\"gen\",\"mode\":\"%s\",\"size\":\"%s\",\"tx_mpps\":%.3f,\"rx_mpps\":%.3f,\"rx_gbps\":%.3f}\n",
			       o->mode, o->size, (tx - tx0) / (t - t0) / 1e6, (rx - rx0) / (t - t0) / 1e6,
			       (rx_bytes - rxb0) * 8.0 / (t - t0) / 1e9);
		fflush(stdout);
	}
	return 0;
}

static uint32_t unhex(const char *h, uint8_t *out, uint32_t max)
{
	uint32_t n = (uint32_t)strlen(h) / 2;

	for (uint32_t i = 0; i < n && i < max; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n < max ? n : max;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"mode", required_argument, NULL, 'm'},    {"size", required_argument, NULL, 's'},
		{"encr", required_argument, NULL, 'e'},    {"integ", required_argument, NULL, 'i'},
		{"seconds", required_argument, NULL, 't'}, {"spi", required_argument, NULL, 'p'},
		{"key", required_argument, NULL, 'k'},     {"auth-key", required_argument, NULL, 'a'},
		{"dst-mac", required_argument, NULL, 'd'}, {"engine", required_argument, NULL, 'g'},
		{"gre", no_argument, NULL, 'G'},           {"queues", required_argument, NULL, 'q'},
		{"dst-count", required_argument, NULL, 'n'}, {"dst-base", required_argument, NULL, 'b'},
		{"dst-stride", required_argument, NULL, 'S'}, {NULL, 0, NULL, 0},
	};
	struct opts o = {.mode = "plain", .size = "1420", .encr = "esp-gcm-256", .integ = "esp-sha256-hmac",
			 .engine = "ipsec-mb", .seconds = 3, .spi = 0xa001,
			 .dst_base = 0xac100002, .dst_stride = 256, .n_phases = 1};
	int c, eal_argc;

	if (argc < 2) {
		fprintf(stderr, "usage: flexhub-gen floor|run [options] [-- EAL args]\n");
		return 2;
	}
	o.cmd = argv[1];
	memset(o.key, 0x11, sizeof(o.key));
	memset(o.akey, 0x33, sizeof(o.akey));
	o.key_len = 36;
	o.akey_len = 32;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 's': o.size = optarg; break;
		case 'e': o.encr = optarg; break;
		case 'i': o.integ = optarg; break;
		case 't': o.seconds = atof(optarg); break;
		case 'p': o.spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': o.key_len = unhex(optarg, o.key, sizeof(o.key)); break;
		case 'a': o.akey_len = unhex(optarg, o.akey, sizeof(o.akey)); break;
		case 'g': o.engine = optarg; break;
		case 'G': o.gre = true; break;
		case 'q': gen_queues = (uint16_t)atoi(optarg); break;
		case 'd': rte_ether_unformat_addr(optarg, &o.dst_mac); break;
		case 'n': {
			char *e = optarg;

			o.n_phases = 0;
			while (*e && o.n_phases < 16) {
				o.dst_counts[o.n_phases++] = (uint32_t)strtoul(e, &e, 0);
				if (*e == ',')
					e++;
				else if (*e) {
					fprintf(stderr, "flexhub-gen: bad --dst-count %s\n", optarg);
					return 2;
				}
			}
			break;
		}
		case 'S': o.dst_stride = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': {
			unsigned int a, b2, c2, d;

			if (sscanf(optarg, "%u.%u.%u.%u", &a, &b2, &c2, &d) != 4 || a > 255 || b2 > 255 || c2 > 255 ||
			    d > 255) {
				fprintf(stderr, "flexhub-gen: bad --dst-base %s\n", optarg);
				return 2;
			}
			o.dst_base = a << 24 | b2 << 16 | c2 << 8 | d;
			break;
		}
		default: return 2;
		}
	}
	if (strcmp(o.cmd, "floor") == 0)
		return floor_run(&o);
	eal_argc = argc - optind + 1;
	argv[optind - 1] = argv[0];
	if (rte_eal_init(eal_argc, argv + optind - 1) < 0) {
		fprintf(stderr, "flexhub-gen: EAL init failed\n");
		return 1;
	}
	c = gen_run(&o);
	rte_eal_cleanup();
	return c;
}
