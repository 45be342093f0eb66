/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: ESP decapsulation of arbitrary bytes after a valid outer IPv4 header, through SAs of
 * every shape (CBC+HMAC with ESN, GCM, transport mode, and a NULL/NULL SA whose "decryption"
 * always verifies, so the trailer and next-header parsing see fuzzed bytes too).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fh_config.h"
#include "fh_esp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *pool;
static struct fh_esp_lcore lc;
static struct fh_sa *sas[4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {(*argv)[0], "--no-huge", "-m", "64", "--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
		       "--file-prefix=fh-fuzz-esp", NULL};
	static const uint8_t key[36] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
					19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36};
	struct fh_sa_params p = {.dir = FH_SA_IN, .spi = 0x100, .src = 1, .dst = 2, .replay_win = 128,
				 .enc_key = key, .auth_key = key};
	const struct fh_crypto_engine *e = fh_crypto_engine_get("ipsec-mb");

	(void)argc;
	if (rte_eal_init(8, eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL || fh_esp_lcore_init(&lc, e) < 0)
		abort();
	p.mode = FH_ESP_TUNNEL, p.encr = FH_ENCR_AES_CBC_256, p.integ = FH_INTEG_SHA1_96, p.esn = true;
	p.enc_key_len = 32, p.auth_key_len = 20;
	sas[0] = fh_sa_create(&p, e);
	p.encr = FH_ENCR_AES_GCM_128, p.integ = FH_INTEG_NONE, p.esn = false, p.enc_key_len = 20;
	sas[1] = fh_sa_create(&p, e);
	p.mode = FH_ESP_TRANSPORT, p.encr = FH_ENCR_AES_CBC_128, p.integ = FH_INTEG_SHA256_128, p.enc_key_len = 16,
	p.auth_key_len = 32;
	sas[2] = fh_sa_create(&p, e);
	p.mode = FH_ESP_TUNNEL, p.encr = FH_ENCR_NULL, p.integ = FH_INTEG_NONE, p.replay_win = 0;
	sas[3] = fh_sa_create(&p, e);
	for (int i = 0; i < 4; i++)
		if (sas[i] == NULL)
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct fh_sa *sa;
	uint8_t nh, why, *p;

	if (size < 2 || size > 1400)
		return 0;
	sa = sas[data[0] & 3];
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	/* a correct outer header, so the fuzzer spends its time inside ESP */
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(20 + size - 1));
	ip = (struct rte_ipv4_hdr *)p;
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + size - 1));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ESP;
	memcpy(p + 20, data + 1, size - 1);
	if (fh_esp_inbound(&lc, &m, &sa, 1, &nh, &why) == 1 && rte_pktmbuf_data_len(m) > 20 + size)
		abort(); /* decapsulation can only shrink a packet */
	rte_pktmbuf_free(m);
	return 0;
}
