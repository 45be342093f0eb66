/* SPDX-License-Identifier: BSD-3-Clause */
/* Physical interfaces -> DPDK ports: one RX and one TX queue per worker on every port. */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "flexhub.h"

/* Descriptors per queue: enough for a burst-sized backlog on virtual devices and common NICs. */
#define FH_RX_DESC 1024
#define FH_TX_DESC 1024

static int port_setup(struct fh_app *app, const struct fh_cfg_iface *c, struct fh_dp_port *p, struct fh_rss *rss)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	uint16_t nrx = FH_RX_DESC, ntx = FH_TX_DESC, q, nq = app->dp.n_workers;
	char name[FH_DEVARGS_MAX];
	int rc;

	snprintf(name, sizeof(name), "%s", c->device);
	name[strcspn(name, ",")] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &p->port_id) != 0) {
		fh_log(FH_LOG_ERR, "init", "interface %s: DPDK device '%s' did not probe (device: %s)", c->hdr.name, name,
		       c->device);
		return -1;
	}
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		goto fail;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		fh_log(FH_LOG_ERR, "init",
		       "interface %s: %s has %u RX / %u TX queues, %u workers need one each (net_af_packet: qpairs=%u)",
		       c->hdr.name, name, info.max_rx_queues, info.max_tx_queues, nq, nq);
		return -1;
	}
	/*
	 * Several queues: spread by RSS where the device hashes (real NICs; the vdevs here mostly do
	 * not and keep the default). On the IP pair only, not ESP's SPI even where a device offers
	 * it: all of one peer's ESP then lands on one queue, and which queue is predictable from the
	 * SA's outer addresses alone (NICs differ on what an ESP hash covers), so the control lcore
	 * makes the SA's owner the worker of that queue (fh_rss_queue) and the packets need no
	 * handoff between workers.
	 */
	if (nq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	rc = rte_eth_dev_configure(p->port_id, nq, nq, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	for (q = 0; rc == 0 && q < nq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nrx, (unsigned int)rte_eth_dev_socket_id(p->port_id), NULL,
					    app->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, q, ntx, (unsigned int)rte_eth_dev_socket_id(p->port_id),
						    NULL);
	}
	if (rc != 0)
		goto fail;
	/* some virtual devices cannot change their MTU; they carry what the kernel side allows */
	rc = rte_eth_dev_set_mtu(p->port_id, (uint16_t)c->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		fh_log(FH_LOG_WARN, "init", "interface %s: cannot set mtu %u: %s", c->hdr.name, c->mtu, rte_strerror(-rc));
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		goto fail;
	/* what the device really hashes on and where it sends each hash: read back, since drivers
	 * pick their own default key and table */
	memset(rss, 0, sizeof(*rss));
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS) {
		int rr = fh_rss_read(rss, p->port_id);

		if (rr != 0)
			fh_log(FH_LOG_WARN, "init", "interface %s: RSS table unreadable (%s): inbound SAs owned by SPI",
			       c->hdr.name, rte_strerror(-rr));
	}
	/* multicast for routing protocols (OSPF, EIGRP hellos) arriving on this port */
	rte_eth_allmulticast_enable(p->port_id);
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if (c->shutdown)
		rte_eth_dev_set_link_down(p->port_id);
	return 0;
fail:
	fh_log(FH_LOG_ERR, "init", "interface %s: port %s: %s", c->hdr.name, name, rte_strerror(rc < 0 ? -rc : rc));
	return -1;
}

int fh_ports_setup(struct fh_app *app)
{
	const struct fh_config *cfg = app->cfg;

	app->dp.n_ports = 0;
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		if (cfg->iface[i].kind != FH_IF_PHYSICAL)
			continue;
		if (app->dp.n_ports == FH_DP_PORTS_MAX) {
			fh_log(FH_LOG_ERR, "init", "more than %d physical interfaces", FH_DP_PORTS_MAX);
			return -1;
		}
		if (port_setup(app, &cfg->iface[i], &app->dp.port[app->dp.n_ports], &app->rss[app->dp.n_ports]) < 0)
			return -1;
		app->dp.n_ports++;
	}
	return 0;
}

void fh_ports_stop(struct fh_app *app)
{
	for (uint16_t i = 0; i < app->dp.n_ports; i++) {
		rte_eth_dev_stop(app->dp.port[i].port_id);
		rte_eth_dev_close(app->dp.port[i].port_id);
	}
	app->dp.n_ports = 0;
}

bool fh_port_link_up(const struct fh_app *app, int port_idx)
{
	struct rte_eth_link link;

	if (port_idx < 0 || port_idx >= app->dp.n_ports)
		return false;
	if (rte_eth_link_get_nowait(app->dp.port[port_idx].port_id, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_UP;
}
