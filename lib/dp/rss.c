/* SPDX-License-Identifier: BSD-3-Clause */
/* The RSS queue of an outer tuple, computed as the port computes it (see fh_rss.h). */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_thash.h>

#include "fh_rss.h"

/* rss_hf bits under which a device hashes an IPv4 packet on its addresses: ESP (and UDP when UDP
 * is not hashed on its ports) is "other" IPv4 to a NIC. */
#define FH_RSS_V4_L3 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)
#define FH_RSS_PART (RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_SRC_ONLY | \
		     RTE_ETH_RSS_L4_DST_ONLY)

uint32_t fh_rss_hash_ipv4(const struct fh_rss *rss, uint32_t src, uint32_t dst, bool udp, uint16_t sport,
			  uint16_t dport, bool *hashed)
{
	/* the tuple as rte_softrss wants it: 32-bit words in host order, source first (the
	 * Microsoft RSS specification's input order: addresses, then ports) */
	uint32_t t[3] = {src, dst, (uint32_t)sport << 16 | dport};
	uint32_t words;

	if (rss->rss_hf & FH_RSS_PART)
		words = 0; /* a part of the tuple only: not what ports.c asks for, not modelled */
	else if (udp && (rss->rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP))
		words = (uint32_t)RTE_THASH_V4_L4_LEN;
	else if (rss->rss_hf & FH_RSS_V4_L3)
		words = (uint32_t)RTE_THASH_V4_L3_LEN;
	else
		words = 0;
	/* rte_softrss reads 32 key bits past the tuple's */
	*hashed = words != 0 && rss->key_len >= (words + 1) * 4;
	if (!*hashed)
		return 0;
	return rte_softrss(t, words, rss->key);
}

int fh_rss_queue(const struct fh_rss *rss, uint32_t src, uint32_t dst, bool udp, uint16_t sport, uint16_t dport)
{
	bool hashed;
	uint32_t h;

	if (rss->reta_size == 0 || rss->reta_size > FH_RSS_RETA_MAX)
		return -1;
	h = fh_rss_hash_ipv4(rss, src, dst, udp, sport, dport, &hashed);
	if (!hashed)
		return -1;
	/* NICs index the table with the hash's low bits; their table sizes are powers of two */
	return rss->reta[h % rss->reta_size];
}

int fh_rss_read(struct fh_rss *rss, uint16_t port_id)
{
	struct rte_eth_rss_reta_entry64 conf[FH_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf hc = {.rss_key = rss->key, .rss_key_len = FH_RSS_KEY_MAX};
	struct rte_eth_dev_info info;
	int rc;

	memset(rss, 0, sizeof(*rss));
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return rc;
	if (info.reta_size == 0 || info.reta_size > FH_RSS_RETA_MAX || info.hash_key_size > FH_RSS_KEY_MAX)
		return -ENOTSUP;
	rc = rte_eth_dev_rss_hash_conf_get(port_id, &hc);
	if (rc != 0)
		goto fail;
	memset(conf, 0, sizeof(conf));
	for (uint16_t i = 0; i < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; i++)
		conf[i].mask = UINT64_MAX;
	rc = rte_eth_dev_rss_reta_query(port_id, conf, info.reta_size);
	if (rc != 0)
		goto fail;
	for (uint16_t i = 0; i < info.reta_size; i++)
		rss->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	rss->rss_hf = hc.rss_hf;
	rss->key_len = info.hash_key_size ? (uint8_t)info.hash_key_size : 40;
	rss->reta_size = info.reta_size;
	return 0;
fail:
	memset(rss, 0, sizeof(*rss));
	return rc;
}
