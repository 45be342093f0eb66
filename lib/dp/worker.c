/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop, rings between workers and the control lcore, and table publication. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "fh_dp.h"
#include "fh_stage.h"

/* Punts are rare (control traffic); 4096 absorbs an IKE_SA_INIT flood while the control lcore
 * answers with cookies, beyond that drops are counted. */
#define FH_PUNT_RING_SIZE 4096
#define FH_TX_RING_SIZE 1024
/* Next hops waiting for ARP; duplicates are fine (the control lcore rate-limits requests). */
#define FH_RESOLVE_RING_SIZE 1024
/* ESP waiting for its SA's owner: a few bursts from every other worker. */
#define FH_HANDOFF_RING_SIZE 2048

int fh_dp_init(struct fh_dp *dp, uint16_t n_workers, unsigned int socket, const struct fh_crypto_engine *eng,
	       const struct fh_dp_limits *lim)
{
	char name[RTE_RING_NAMESIZE];
	size_t sz;

	if (n_workers == 0 || n_workers > FH_DP_WORKERS_MAX)
		return -EINVAL;
	dp->n_workers = n_workers;
	dp->punt = rte_ring_create("fh_punt", FH_PUNT_RING_SIZE, (int)socket, RING_F_SC_DEQ);
	dp->resolve = rte_ring_create("fh_resolve", FH_RESOLVE_RING_SIZE, (int)socket, RING_F_SC_DEQ);
	if (dp->punt == NULL || dp->resolve == NULL)
		return -rte_errno;
	for (uint16_t w = 0; w < n_workers; w++) {
		snprintf(name, sizeof(name), "fh_tx%u", w);
		dp->tx[w] = rte_ring_create(name, FH_TX_RING_SIZE, (int)socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->tx[w] == NULL)
			return -rte_errno;
		snprintf(name, sizeof(name), "fh_ho%u", w);
		dp->handoff[w] = rte_ring_create(name, FH_HANDOFF_RING_SIZE, (int)socket, RING_F_SC_DEQ);
		if (dp->handoff[w] == NULL)
			return -rte_errno;
		dp->esp[w] = rte_zmalloc_socket("fh_esp_lcore", sizeof(*dp->esp[w]), RTE_CACHE_LINE_SIZE, (int)socket);
		if (dp->esp[w] == NULL || fh_esp_lcore_init(dp->esp[w], eng) < 0)
			return -ENOMEM;
		dp->esp[w]->index = w;
	}
	sz = rte_rcu_qsbr_get_memsize(n_workers);
	dp->qsbr = rte_zmalloc_socket("fh_qsbr", sz, RTE_CACHE_LINE_SIZE, (int)socket);
	if (dp->qsbr == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(dp->qsbr, n_workers) != 0)
		return -rte_errno;
	return fh_dp_tables_init(dp, socket, lim);
}

void fh_dp_fini(struct fh_dp *dp)
{
	struct rte_mbuf *m;

	while (dp->punt != NULL && rte_ring_dequeue(dp->punt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(dp->punt);
	rte_ring_free(dp->resolve);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		while (dp->tx[w] != NULL && rte_ring_dequeue(dp->tx[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dp->tx[w]);
		while (dp->handoff[w] != NULL && rte_ring_dequeue(dp->handoff[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dp->handoff[w]);
		if (dp->esp[w] != NULL)
			fh_esp_lcore_fini(dp->esp[w]);
		rte_free(dp->esp[w]);
	}
	fh_dp_tables_fini(dp);
	rte_free(dp->qsbr);
	memset(dp, 0, sizeof(*dp));
}

uint64_t fh_dp_counter(const struct fh_dp *dp, enum fh_dp_ctr c)
{
	uint64_t sum = 0;

	for (uint16_t w = 0; w < dp->n_workers; w++)
		sum += __atomic_load_n(&dp->ctr[w].c[c], __ATOMIC_RELAXED);
	return sum;
}

void fh_dp_counters_clear(struct fh_dp *dp)
{
	/* Workers add to their own counters; a racing increment may survive the clear, which is
	 * what "clear counters" on a live router means anyway. */
	for (uint16_t w = 0; w < dp->n_workers; w++)
		for (int c = 0; c < FH_CTR_MAX; c++)
			__atomic_store_n(&dp->ctr[w].c[c], 0, __ATOMIC_RELAXED);
}

/* Classify a burst and send each packet down its stage. */
static void rx_burst_process(struct fh_stage *st, uint16_t pi, struct rte_mbuf **pkts, uint16_t n)
{
	/* forwarded and ESP packets go on as bursts (their table entries prefetched together) */
	struct rte_mbuf *fw[FH_DP_BURST_MAX], *esp[FH_DP_BURST_MAX];
	uint16_t nf = 0, ne = 0;

	/* the whole burst's header lines at once, so their misses overlap (frames often come from
	 * another core's cache); and, for writing, the headroom line where tunnel and ESP headers
	 * will be put in front */
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

		rte_prefetch0(d);
		if (rte_pktmbuf_headroom(pkts[i]) >= RTE_CACHE_LINE_SIZE)
			__builtin_prefetch(d - RTE_CACHE_LINE_SIZE, 1, 3); /* rte_prefetch0_write is experimental */
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum fh_punt_kind kind;
		enum fh_dp_ctr c;

		/* multi-segment frames: classify reads the first segment only, which holds the headers */
		c = fh_dp_classify(st->t, &st->dp->port[pi].mac, rte_pktmbuf_mtod(m, const uint8_t *),
				   rte_pktmbuf_data_len(m), &kind);
		m->port = pi;
		if (kind != 0) {
			fh_dp_count(st->ctr, c, 1);
			m->port = st->dp->port[pi].port_id;
			fh_stage_punt(st, m, kind);
		} else if (c == FH_CTR_ESP_IN) {
			rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
			esp[ne++] = m;
		} else if (c == FH_CTR_FORWARDED) {
			rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
			fw[nf++] = m;
		} else {
			fh_dp_count(st->ctr, c, 1);
			rte_pktmbuf_free(m);
		}
	}
	fh_stage_esp_queue_burst(st, esp, ne);
	fh_stage_forward_burst(st, fw, nf);
}

/* What the control lcore hands over: frames for a port, or packets to route. */
static uint16_t from_control(struct fh_stage *st)
{
	struct rte_mbuf *m[FH_DP_BURST_MAX];
	unsigned int n = rte_ring_dequeue_burst(st->dp->tx[st->worker], (void **)m, st->dp->burst, NULL);

	for (unsigned int i = 0; i < n; i++) {
		if (m[i]->hash.usr == FH_TX_ROUTE) {
			fh_stage_forward(st, m[i]);
			continue;
		}
		if (m[i]->hash.usr == FH_TX_TUNNEL) {
			fh_stage_into_tunnel(st, m[i], m[i]->hash.fdir.hi);
			continue;
		}
		if (m[i]->hash.usr == FH_TX_PORT) {
			fh_stage_out_port(st, m[i], m[i]->port, m[i]->hash.fdir.hi);
			continue;
		}
		if (rte_eth_tx_burst(m[i]->port, st->worker, &m[i], 1) == 1) {
			fh_dp_count(st->ctr, FH_CTR_TX, 1);
		} else {
			fh_dp_count(st->ctr, FH_CTR_DROP_TX_FULL, 1);
			rte_pktmbuf_free(m[i]);
		}
	}
	return (uint16_t)n;
}

/* ESP other workers received for SAs this one owns. */
static uint16_t from_handoff(struct fh_stage *st)
{
	struct rte_mbuf *m[FH_DP_BURST_MAX];
	unsigned int n = rte_ring_dequeue_burst(st->dp->handoff[st->worker], (void **)m, st->dp->burst, NULL);

	fh_stage_esp_queue_burst(st, m, (uint16_t)n);
	return (uint16_t)n;
}

/* End of an iteration: run the batched stages in order, then hand punts over. */
static void flush(struct fh_stage *st)
{
	fh_stage_esp_in(st);
	fh_stage_esp_out(st);
	for (uint16_t pi = 0; pi < st->dp->n_ports; pi++)
		fh_stage_flush_port(st, pi);
	if (st->n_punt > 0) {
		unsigned int done = rte_ring_enqueue_burst(st->dp->punt, (void **)st->punt, st->n_punt, NULL);

		if (done < st->n_punt) {
			fh_dp_count(st->ctr, FH_CTR_DROP_PUNT_FULL, st->n_punt - done);
			rte_pktmbuf_free_bulk(&st->punt[done], st->n_punt - done);
		}
		st->n_punt = 0;
	}
}

int fh_dp_worker_main(void *arg)
{
	const struct fh_dp_worker_arg *a = arg;
	struct fh_dp *dp = a->dp;
	uint16_t w = a->worker;
	struct fh_stage *st = rte_zmalloc("fh_stage", sizeof(*st), RTE_CACHE_LINE_SIZE);
	uint32_t idle = 0;

	if (st == NULL)
		return -ENOMEM;
	st->dp = dp;
	st->worker = w;
	st->ctr = &dp->ctr[w];
	st->t = &dp->tables;
	rte_rcu_qsbr_thread_register(dp->qsbr, w);
	rte_rcu_qsbr_thread_online(dp->qsbr, w);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		uint32_t got = 0;
		/* cycles of iterations with work: what packets cost this lcore, idle polls aside */
		uint64_t t0 = rte_rdtsc();

		for (uint16_t pi = 0; pi < dp->n_ports; pi++) {
			struct rte_mbuf *pkts[FH_DP_BURST_MAX];
			uint16_t n = rte_eth_rx_burst(dp->port[pi].port_id, w, pkts, dp->burst);

			if (n == 0)
				continue;
			fh_dp_count(st->ctr, FH_CTR_RX, n);
			rx_burst_process(st, pi, pkts, n);
			got += n;
		}
		got += from_control(st);
		if (dp->n_workers > 1)
			got += from_handoff(st);
		flush(st);
		/* nothing of this iteration holds a table pointer any more */
		rte_rcu_qsbr_quiescent(dp->qsbr, w);
		if (got != 0) {
			fh_dp_count(st->ctr, FH_CTR_BUSY_CYCLES, rte_rdtsc() - t0);
			idle = 0;
			continue;
		}
		/* Idle back-off: a lab with a hub and two spokes shares two cores. Off for benchmarks. */
		if (dp->idle_sleep_us != 0 && ++idle >= dp->idle_polls) {
			rte_rcu_qsbr_thread_offline(dp->qsbr, w);
			rte_delay_us_sleep(dp->idle_sleep_us);
			rte_rcu_qsbr_thread_online(dp->qsbr, w);
		}
	}
	rte_rcu_qsbr_thread_offline(dp->qsbr, w);
	rte_rcu_qsbr_thread_unregister(dp->qsbr, w);
	rte_free(st);
	return 0;
}
