/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_RSS_H
#define FH_RSS_H

/*
 * Which RX queue, and so which worker, a port's RSS puts a flow on: the Toeplitz hash the device
 * computes over the outer tuple its rss_hf selects, mapped through its redirection table. The
 * control lcore makes an inbound SA's owner the worker RSS delivers the SA's packets to, so on a
 * NIC they need no handoff between workers.
 *
 * Threading: fh_rss_read at port start and fh_rss_owner on the control lcore; pure functions of
 * the struct otherwise.
 */

#include <stdbool.h>
#include <stdint.h>

/* The longest hash keys (i40e, ice: 52 bytes; most NICs 40) and redirection tables (512) DPDK
 * 22.11's drivers report. */
#define FH_RSS_KEY_MAX 52
#define FH_RSS_RETA_MAX 512

struct fh_rss {
	uint64_t rss_hf;                  /* RTE_ETH_RSS_* the port hashes on, as configured */
	uint8_t key[FH_RSS_KEY_MAX];
	uint8_t key_len;
	uint16_t reta_size;               /* 0: the port does not spread by RSS */
	uint16_t reta[FH_RSS_RETA_MAX];   /* queue for each hash & (reta_size - 1) */
};

/*
 * The Toeplitz hash of an IPv4 packet as the device computes it (src, dst host order; ports for
 * UDP when udp is set and rss_hf hashes UDP over IPv4). *hashed is false when rss_hf does not
 * hash such a packet at all (the device then puts it on queue 0, or by its own default).
 */
uint32_t fh_rss_hash_ipv4(const struct fh_rss *rss, uint32_t src, uint32_t dst, bool udp, uint16_t sport,
			  uint16_t dport, bool *hashed);

/* The queue RSS delivers that packet to, or -1 when it cannot be known (no RSS, no hash for the
 * packet's type). */
int fh_rss_queue(const struct fh_rss *rss, uint32_t src, uint32_t dst, bool udp, uint16_t sport, uint16_t dport);

/* Read a started port's key, hash functions and RETA (rte_eth_dev_rss_hash_conf_get,
 * rte_eth_dev_rss_reta_query). 0, or -errno (the port then counts as not spreading). */
int fh_rss_read(struct fh_rss *rss, uint16_t port_id);

#endif
