/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore: punted packets (ARP, ICMP to us; IKE and routing protocols once their
 * issues land), the control socket, config reload, and the periodic report of data-plane drops.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "flexhub.h"

#define PUNT_BURST 32
/* Control socket wait when nothing was punted: short enough for ARP/ICMP latency, long enough
 * that an idle daemon costs almost nothing. */
#define CTL_POLL_MS 1

volatile sig_atomic_t fh_quit, fh_reload;

static int port_index(const struct fh_app *app, uint16_t port_id)
{
	for (uint16_t i = 0; i < app->dp.n_ports; i++)
		if (app->dp.port[i].port_id == port_id)
			return i;
	return -1;
}

/* Is addr (network order) one of ours on the interface bound to this port? */
static bool local_on_port(const struct fh_app *app, int pi, uint32_t addr_be)
{
	const struct fh_dp_tables *t = app->dp.tables;

	for (uint32_t i = 0; i < t->n_local; i++)
		if (t->local_addr[i] == addr_be && (t->local_port[i] == (uint16_t)pi || t->local_port[i] == UINT16_MAX))
			return true;
	return false;
}

static void send_reply(struct fh_app *app, struct rte_mbuf *m, enum fh_ctl_ctr ok)
{
	/* worker 0 transmits for the control lcore: only workers touch port queues */
	if (rte_ring_enqueue(app->dp.tx[0], m) != 0) {
		app->cc[FH_CC_REPLY_DROPPED]++;
		rte_pktmbuf_free(m);
		return;
	}
	app->cc[ok]++;
}

static void handle_arp(struct fh_app *app, struct rte_mbuf *m, int pi)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint32_t tip = arp->arp_data.arp_tip;

	/* the worker checked the length; check the ARP format before trusting its addresses */
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 || arp->arp_plen != 4 ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || !local_on_port(app, pi, tip)) {
		/* replies will feed the neighbour table with the FIB (data-plane issue) */
		app->cc[FH_CC_ARP_IGNORED]++;
		rte_pktmbuf_free(m);
		return;
	}
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = app->dp.port[pi].mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = app->dp.port[pi].mac;
	send_reply(app, m, FH_CC_ARP_REPLIES);
}

/* One's complement sum: a packet with a correct checksum field sums to 0xffff. */
static bool csum_ok(const void *p, uint32_t len)
{
	return rte_raw_cksum(p, len) == 0xffff;
}

/* Echo replies only, and only on the interface the request arrived on: enough to ping the
 * router's own addresses, as every engineer does first. */
static void handle_icmp(struct fh_app *app, struct rte_mbuf *m, int pi)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t tmp;

	/* the worker checked IP lengths; the ICMP part must fit in this one segment */
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || sizeof(*eth) + tot > rte_pktmbuf_data_len(m) ||
	    !csum_ok(icmp, tot - hlen) || !local_on_port(app, pi, ip->dst_addr)) {
		app->cc[FH_CC_ICMP_IGNORED]++;
		rte_pktmbuf_free(m);
		return;
	}
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, tot - hlen);
	tmp = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = tmp;
	ip->time_to_live = 255;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = app->dp.port[pi].mac;
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - sizeof(*eth) - tot));
	send_reply(app, m, FH_CC_ICMP_ECHO_REPLIES);
}

static void handle_punts(struct fh_app *app, unsigned int *n_out)
{
	struct rte_mbuf *m[PUNT_BURST];
	unsigned int n = rte_ring_dequeue_burst(app->dp.punt, (void **)m, PUNT_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		int pi = port_index(app, m[i]->port);

		if (pi < 0) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		switch (m[i]->hash.usr) {
		case FH_PUNT_ARP:
			handle_arp(app, m[i], pi);
			break;
		case FH_PUNT_ICMP:
			handle_icmp(app, m[i], pi);
			break;
		case FH_PUNT_IKE:
			/* IKEv2 is the control-plane issue; until then say so, counted and rate-limited */
			app->cc[FH_CC_IKE_UNHANDLED]++;
			rte_pktmbuf_free(m[i]);
			break;
		default:
			app->cc[FH_CC_ROUTING_UNHANDLED]++;
			rte_pktmbuf_free(m[i]);
			break;
		}
	}
	*n_out = n;
}

int fh_publish_tables(struct fh_app *app)
{
	struct fh_dp_tables *t = rte_zmalloc("fh_tables", sizeof(*t), RTE_CACHE_LINE_SIZE);

	if (t == NULL)
		return -1;
	for (uint32_t i = 0; i < app->ifs.n && t->n_local < FH_DP_LOCAL_ADDRS_MAX; i++) {
		const struct fh_iface *f = &app->ifs.v[i];

		if (!f->has_addr || !f->admin_up)
			continue;
		t->local_addr[t->n_local] = rte_cpu_to_be_32(f->addr);
		t->local_port[t->n_local] = f->port >= 0 ? (uint16_t)f->port : UINT16_MAX;
		t->n_local++;
	}
	fh_dp_publish(&app->dp, t);
	return 0;
}

/* Which parts of a config need a restart to change: the ports and the lcore layout. */
static bool needs_restart(const struct fh_config *a, const struct fh_config *b, char *why, size_t len)
{
	uint32_t na = 0, nb = 0;

	if (a->dataplane.workers != b->dataplane.workers || a->dataplane.hugepages != b->dataplane.hugepages ||
	    a->dataplane.memory_mb != b->dataplane.memory_mb || a->dataplane.mbufs != b->dataplane.mbufs) {
		snprintf(why, len, "dataplane settings changed");
		return true;
	}
	for (uint32_t i = 0; i < a->n_iface; i++)
		na += a->iface[i].kind == FH_IF_PHYSICAL;
	for (uint32_t i = 0; i < b->n_iface; i++)
		nb += b->iface[i].kind == FH_IF_PHYSICAL;
	if (na != nb) {
		snprintf(why, len, "physical interfaces added or removed");
		return true;
	}
	for (uint32_t i = 0, j = 0; i < a->n_iface; i++) {
		if (a->iface[i].kind != FH_IF_PHYSICAL)
			continue;
		while (b->iface[j].kind != FH_IF_PHYSICAL)
			j++;
		if (strcmp(a->iface[i].hdr.name, b->iface[j].hdr.name) != 0 ||
		    strcmp(a->iface[i].device, b->iface[j].device) != 0) {
			snprintf(why, len, "interface %s changed its device or order", b->iface[j].hdr.name);
			return true;
		}
		j++;
	}
	return false;
}

int fh_control_reload(struct fh_app *app)
{
	struct fh_cfg_errs *errs = calloc(1, sizeof(*errs));
	struct fh_config *cfg;
	struct fh_iface_table ifs;
	char why[128];

	if (errs == NULL)
		return -1;
	cfg = fh_config_load_file(app->cfg_path, errs);
	if (cfg == NULL) {
		uint32_t kept = errs->n < FH_CFG_ERRS_MAX ? errs->n : FH_CFG_ERRS_MAX;

		for (uint32_t i = 0; i < kept; i++)
			fh_log(FH_LOG_ERR, "config", "%s", errs->e[i].msg);
		fh_log(FH_LOG_ERR, "config", "reload of %s failed with %u error(s); running config kept", app->cfg_path,
		       errs->n);
		app->cc[FH_CC_RELOAD_FAILED]++;
		free(errs);
		return -1;
	}
	free(errs);
	if (needs_restart(app->cfg, cfg, why, sizeof(why))) {
		fh_log(FH_LOG_ERR, "config", "reload of %s refused: %s (needs a restart); running config kept",
		       app->cfg_path, why);
		fh_config_free(cfg);
		app->cc[FH_CC_RELOAD_FAILED]++;
		return -1;
	}
	if (fh_iface_table_build(&ifs, cfg) < 0) {
		fh_config_free(cfg);
		app->cc[FH_CC_RELOAD_FAILED]++;
		return -1;
	}
	fh_iface_table_free(&app->ifs);
	app->ifs = ifs;
	fh_config_free(app->cfg);
	app->cfg = cfg;
	fh_debug_all_off();
	for (uint32_t i = 0; i < cfg->n_debug; i++)
		fh_debug_set(cfg->debug[i], true);
	fh_publish_tables(app);
	app->cc[FH_CC_RELOAD_OK]++;
	fh_log(FH_LOG_INFO, "config", "reloaded %s", app->cfg_path);
	return 0;
}

/* Packets are counted on the workers; this says so in the log, at most once per window. */
static void report_drops(struct fh_app *app)
{
	time_t now = time(NULL);

	if (now - app->last_report < FH_LOG_WINDOW_S)
		return;
	app->last_report = now;
	for (int c = FH_CTR_DROP_RUNT; c < FH_CTR_MAX; c++) {
		uint64_t v = fh_dp_counter(&app->dp, c);

		if (v > app->drops_reported[c])
			fh_log(FH_LOG_WARN, "dataplane", "%lu packet(s) dropped: %s (total %lu)",
			       (unsigned long)(v - app->drops_reported[c]), fh_dp_ctr_name(c), (unsigned long)v);
		app->drops_reported[c] = v;
	}
	if (app->cc[FH_CC_IKE_UNHANDLED] > app->ike_reported) {
		fh_log(FH_LOG_WARN, "crypto ikev2", "%lu IKE message(s) dropped: IKEv2 is not running yet",
		       (unsigned long)(app->cc[FH_CC_IKE_UNHANDLED] - app->ike_reported));
		app->ike_reported = app->cc[FH_CC_IKE_UNHANDLED];
	}
}

void fh_control_loop(struct fh_app *app)
{
	while (!fh_quit) {
		unsigned int n;

		handle_punts(app, &n);
		fh_ctl_poll(&app->ctl, n != 0 ? 0 : CTL_POLL_MS, fh_commands, app);
		if (fh_reload) {
			fh_reload = 0;
			fh_control_reload(app);
		}
		report_drops(app);
	}
}
