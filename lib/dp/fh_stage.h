/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_STAGE_H
#define FH_STAGE_H

/* Private to lib/dp: one worker's in-flight packets between stages during one loop iteration. */

#include "fh_dp.h"

struct fh_stage {
	struct fh_dp *dp;
	const struct fh_dp_tables *t;
	struct fh_dp_counters *ctr;
	uint16_t worker;
	/* ESP to decrypt, with their SAs */
	struct rte_mbuf *ei[FH_ESP_BURST_MAX];
	struct fh_sa *ei_sa[FH_ESP_BURST_MAX];
	uint16_t n_ei;
	/* packets to encrypt, with their outbound SAs */
	struct rte_mbuf *eo[FH_ESP_BURST_MAX];
	struct fh_sa *eo_sa[FH_ESP_BURST_MAX];
	uint16_t n_eo;
	/* frames ready for each port */
	struct rte_mbuf *tx[FH_DP_PORTS_MAX][FH_DP_BURST_MAX];
	uint16_t n_tx[FH_DP_PORTS_MAX];
	/* for the control lcore */
	struct rte_mbuf *punt[FH_DP_BURST_MAX * 2];
	uint16_t n_punt;
};

int fh_dp_tables_init(struct fh_dp *dp, unsigned int socket, const struct fh_dp_limits *lim);
void fh_dp_tables_fini(struct fh_dp *dp);

void fh_stage_esp_queue_burst(struct fh_stage *st, struct rte_mbuf *m[], uint16_t n);
void fh_stage_esp_in(struct fh_stage *st);
void fh_stage_esp_out(struct fh_stage *st);
void fh_stage_forward(struct fh_stage *st, struct rte_mbuf *m);
/* Into the tunnel of interface slot `slot` whatever the destination (what a kernel mirror sends). */
void fh_stage_into_tunnel(struct fh_stage *st, struct rte_mbuf *m, uint32_t slot);
/* Out of port index pi to neighbour nexthop (ARP as for any packet), no TTL check: ours. */
void fh_stage_out_port(struct fh_stage *st, struct rte_mbuf *m, uint16_t pi, uint32_t nexthop);
void fh_stage_forward_burst(struct fh_stage *st, struct rte_mbuf *m[], uint16_t n);
void fh_stage_flush_port(struct fh_stage *st, uint16_t pi);
void fh_stage_punt(struct fh_stage *st, struct rte_mbuf *m, enum fh_punt_kind kind);

#endif
