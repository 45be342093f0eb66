/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore: punted packets (ARP, ICMP to us; IKE and routing protocols once their
 * issues land), the control socket, config reload, and the periodic report of data-plane drops.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
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

/* Is addr (network order) one of ours on the interface bound to this port (pi < 0: anywhere)? */
static bool local_on_port(const struct fh_app *app, int pi, uint32_t addr_be)
{
	const struct fh_dp_local *l = app->dp.tables.local;

	for (uint32_t i = 0; l != NULL && i < l->n; i++)
		if (l->addr[i] == addr_be && (pi < 0 || l->port[i] == (uint16_t)pi || l->port[i] == UINT16_MAX))
			return true;
	return false;
}

static void send_reply(struct fh_app *app, struct rte_mbuf *m, enum fh_tx_kind kind, enum fh_ctl_ctr ok)
{
	m->hash.usr = kind;
	/* worker 0 transmits for the control lcore: only workers touch port queues */
	if (rte_ring_enqueue(app->dp.tx[0], m) != 0) {
		app->cc[FH_CC_REPLY_DROPPED]++;
		rte_pktmbuf_free(m);
		return;
	}
	app->cc[ok]++;
}

/* Is addr (host order) inside a subnet configured on the interface bound to port pi? */
static bool on_link(const struct fh_app *app, int pi, uint32_t addr)
{
	const struct fh_iface *f = pi >= 0 && pi < FH_DP_PORTS_MAX && app->port_if[pi] >= 0 ? &app->ifs.v[app->port_if[pi]]
											: NULL;

	return f != NULL && f->has_addr && f->plen < 32 && ((addr ^ f->addr) & fh_prefix_mask(f->plen)) == 0 &&
	       addr != f->addr;
}

/* A packet that waited for ARP goes out now: Ethernet on, to its port through worker 0. */
static void neigh_send(void *pkt, void *arg)
{
	struct fh_app *app = arg;
	struct rte_mbuf *m = pkt;
	const struct fh_dp_neigh *n = fh_dp_neigh_find(&app->dp.tables, m->hash.usr, m->port);
	struct rte_ether_hdr *eth = n != NULL ? (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth)) : NULL;
	uint16_t pi = m->port;

	if (eth == NULL) {
		app->cc[FH_CC_REPLY_DROPPED]++;
		rte_pktmbuf_free(m);
		return;
	}
	eth->dst_addr = n->mac;
	eth->src_addr = app->dp.port[pi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	m->port = app->dp.port[pi].port_id;
	send_reply(app, m, FH_TX_FRAME, FH_CC_NEIGH_FLUSHED);
}

static void neigh_drop(void *pkt, void *arg)
{
	struct fh_app *app = arg;

	app->cc[FH_CC_NEIGH_TIMEOUT]++;
	rte_pktmbuf_free(pkt);
}

static uint64_t neigh_key(int pi, uint32_t ip)
{
	return (uint64_t)(uint16_t)pi << 32 | ip;
}

/* Remember who has an address on a port's subnet (one entry of the workers' hash), and send what
 * waited for it. */
static void neigh_learn(struct fh_app *app, int pi, uint32_t ip, const struct rte_ether_addr *mac)
{
	const struct fh_dp_neigh *n;
	int rc;

	if (!on_link(app, pi, ip) || rte_is_zero_ether_addr(mac) || rte_is_multicast_ether_addr(mac) ||
	    fh_map_get(&app->static_neigh, neigh_key(pi, ip), NULL))
		return; /* static entries win */
	n = fh_dp_neigh_find(&app->dp.tables, ip, (uint16_t)pi);
	if (n == NULL || !rte_is_same_ether_addr(&n->mac, mac)) {
		rc = fh_dp_neigh_set(&app->dp, ip, (uint16_t)pi, mac);
		if (rc < 0) {
			/* full: known entries stay until restart */
			app->cc[FH_CC_NEIGH_FULL]++;
			fh_log(FH_LOG_ERR, "arp", "%u.%u.%u.%u not learned: limits.neighbours (%u) reached", ip >> 24,
			       (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, app->lim.dp.neighbours);
			return;
		}
		app->cc[FH_CC_ARP_LEARNED]++;
	}
	fh_nwait_resolved(app->nwait, neigh_key(pi, ip), neigh_send, app);
}

static void handle_arp(struct fh_app *app, struct rte_mbuf *m, int pi)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint32_t tip = arp->arp_data.arp_tip;

	/* the worker checked the length; check the ARP format before trusting its addresses */
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 || arp->arp_plen != 4) {
		app->cc[FH_CC_ARP_IGNORED]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 826: a request or reply for us teaches us the sender */
	if (local_on_port(app, pi, tip))
		neigh_learn(app, pi, rte_be_to_cpu_32(arp->arp_data.arp_sip), &arp->arp_data.arp_sha);
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || !local_on_port(app, pi, tip)) {
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
	send_reply(app, m, FH_TX_FRAME, FH_CC_ARP_REPLIES);
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
	/* pi < 0: an IP packet out of a tunnel, the reply is routed (back into the tunnel) */
	struct rte_ether_hdr *eth = pi >= 0 ? rte_pktmbuf_mtod(m, struct rte_ether_hdr *) : NULL;
	struct rte_ipv4_hdr *ip = eth != NULL ? (struct rte_ipv4_hdr *)(eth + 1) : rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t l2 = eth != NULL ? sizeof(*eth) : 0;
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t tmp;

	/* the worker checked IP lengths; the ICMP part must fit in this one segment */
	if (l2 + tot > rte_pktmbuf_data_len(m) || tot < hlen + 8 || icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    !csum_ok(icmp, tot - hlen) || !local_on_port(app, -1, ip->dst_addr)) {
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
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - l2 - tot));
	if (eth == NULL) {
		send_reply(app, m, FH_TX_ROUTE, FH_CC_ICMP_ECHO_REPLIES);
		return;
	}
	eth->dst_addr = eth->src_addr;
	eth->src_addr = app->dp.port[pi].mac;
	send_reply(app, m, FH_TX_FRAME, FH_CC_ICMP_ECHO_REPLIES);
}

/* ICMP errors the workers asked for: at most FH_ICMP_ERR_PER_S a second (RFC 1812 4.3.2.8). */
#define FH_ICMP_ERR_PER_S 100

static void handle_icmp_err(struct fh_app *app, struct rte_mbuf *orig)
{
	const uint8_t *o = rte_pktmbuf_mtod(orig, const uint8_t *);
	uint32_t info = orig->hash.fdir.hi, olen = rte_pktmbuf_data_len(orig);
	uint32_t quote = (uint32_t)(o[0] & 0x0f) * 4 + 8, osrc, src = 0;
	uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();
	const struct fh_nh *nh;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;
	uint8_t len8;

	if (now - app->icmp_err_window > hz) {
		app->icmp_err_window = now;
		app->icmp_err_sent = 0;
	}
	bool about_icmp_error;

	memcpy(&osrc, o + 12, 4);
	osrc = rte_be_to_cpu_32(osrc);
	/* the ICMP type sits right after the original header; 0 and 8 are echo, the rest errors */
	about_icmp_error = o[9] == IPPROTO_ICMP && olen > quote - 8 && o[quote - 8] != 0 && o[quote - 8] != 8;
	/* RFC 1812 4.3.2.7: never about ICMP errors, broadcasts or multicasts */
	if (app->icmp_err_sent >= FH_ICMP_ERR_PER_S || about_icmp_error || osrc == 0 || (osrc >> 28) >= 14) {
		app->cc[FH_CC_ICMP_ERR_SUPPRESSED]++;
		rte_pktmbuf_free(orig);
		return;
	}
	/* from the address of the interface facing the sender */
	nh = fh_fib_lookup(app->dp.tables.fib, osrc);
	if (nh != NULL && nh->if_idx >= 0)
		fh_iface_addr(&app->ifs, nh->if_idx, &src, &len8);
	m = src != 0 ? rte_pktmbuf_alloc(app->pool) : NULL;
	if (m == NULL) {
		app->cc[FH_CC_ICMP_ERR_SUPPRESSED]++;
		rte_pktmbuf_free(orig);
		return;
	}
	if (quote > olen)
		quote = olen;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)(20 + 8 + quote));
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(orig);
		return;
	}
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	memset(ip, 0, 28);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(28 + quote));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(osrc);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = (uint8_t)(info >> 24);
	icmp->icmp_code = (uint8_t)(info >> 16);
	/* type 3 code 4: the next-hop MTU in the low half of the second word (RFC 1191) */
	icmp->icmp_seq_nb = rte_cpu_to_be_16((uint16_t)info);
	memcpy(icmp + 1, o, quote);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + quote);
	rte_pktmbuf_free(orig);
	app->icmp_err_sent++;
	send_reply(app, m, FH_TX_ROUTE, FH_CC_ICMP_ERR_SENT);
}

static void handle_punts(struct fh_app *app, unsigned int *n_out)
{
	struct rte_mbuf *m[PUNT_BURST];
	unsigned int n = rte_ring_dequeue_burst(app->dp.punt, (void **)m, PUNT_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		int pi = port_index(app, m[i]->port);

		if (m[i]->hash.usr == FH_PUNT_ICMP_ERR) {
			handle_icmp_err(app, m[i]);
			continue;
		}
		if (m[i]->hash.usr == FH_PUNT_ICMP_IP) {
			handle_icmp(app, m[i], -1);
			continue;
		}
		if (m[i]->hash.usr == FH_PUNT_ROUTING_IP) {
			fh_routing_punt(app, m[i]);
			continue;
		}
		if (m[i]->hash.usr == FH_PUNT_NHRP) {
			/* NHRP is its own issue; until then counted */
			app->cc[FH_CC_NHRP_UNHANDLED]++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
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
			fh_ike_punt(app, m[i]);
			break;
		case FH_PUNT_ROUTING:
			if (app->rt != NULL && app->port_if[pi] >= 0 && rte_pktmbuf_adj(m[i], 14) != NULL) {
				/* a hello on a LAN: to the port's mirror, without its Ethernet header */
				m[i]->hash.fdir.hi = (uint32_t)app->port_if[pi];
				fh_routing_punt(app, m[i]);
				break;
			}
			/* fall through */
		default:
			app->cc[FH_CC_ROUTING_UNHANDLED]++;
			rte_pktmbuf_free(m[i]);
			break;
		}
	}
	*n_out = n;
}

/* The source address a port's ARP requests carry: its interface address. */
static uint32_t port_addr(const struct fh_app *app, int pi)
{
	const struct fh_iface *f = pi >= 0 && pi < FH_DP_PORTS_MAX && app->port_if[pi] >= 0 ? &app->ifs.v[app->port_if[pi]]
											: NULL;

	return f != NULL && f->has_addr ? f->addr : 0;
}

static void arp_request(struct fh_app *app, int pi, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(app->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = app->dp.port[pi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = app->dp.port[pi].mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(port_addr(app, pi));
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(ip);
	m->port = app->dp.port[pi].port_id;
	send_reply(app, m, FH_TX_FRAME, FH_CC_ARP_REQUESTS);
}

static void arp_again(uint64_t key, void *arg)
{
	arp_request(arg, (int)(key >> 32), (uint32_t)key);
}

/*
 * Packets the workers could not address (their next hop's MAC unknown): kept a few per
 * neighbour while we ask, once a second up to three times (lib/neigh), then sent or dropped.
 */
static void handle_resolve(struct fh_app *app)
{
	struct rte_mbuf *m[32];
	unsigned int n = rte_ring_dequeue_burst(app->dp.resolve, (void **)m, 32, NULL);

	for (unsigned int i = 0; i < n; i++) {
		int pi = m[i]->port;
		uint32_t ip = m[i]->hash.usr;
		bool ask = false;

		if (pi >= app->dp.n_ports) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		/* learned while the packet was on its way here */
		if (fh_dp_neigh_find(&app->dp.tables, ip, (uint16_t)pi) != NULL) {
			neigh_send(m[i], app);
			continue;
		}
		if (fh_nwait_add(app->nwait, neigh_key(pi, ip), m[i], fh_now_ms(), &ask) == 0) {
			app->cc[FH_CC_NEIGH_QUEUED]++;
		} else {
			app->cc[FH_CC_NEIGH_OVERFLOW]++;
			rte_pktmbuf_free(m[i]);
		}
		if (ask)
			arp_request(app, pi, ip);
	}
	fh_nwait_tick(app->nwait, fh_now_ms(), arp_again, neigh_drop, app);
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
	{
		/* the tables are sized once, at start */
		struct fh_cfg_limits la = a->limits, lb = b->limits;

		memset(&la.pos, 0, sizeof(la.pos));
		memset(&lb.pos, 0, sizeof(lb.pos));
		if (memcmp(&la, &lb, sizeof(la)) != 0) {
			snprintf(why, len, "limits changed");
			return true;
		}
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
	{
		/* the old config is the one the engine and the pairs' entries were read from: it goes
		 * once everything refers to the new one. Order: interfaces matched by name (those gone
		 * take their SAs with them), then IKE (SAs of removed tunnels deleted, the others keep
		 * their tunnel), then the tables, one entry at a time. */
		struct fh_config *old = app->cfg;

		app->cfg = cfg;
		if (fh_iface_table_sync(&app->ifs, cfg, fh_tables_gone, app) < 0) {
			app->cfg = old;
			fh_log(FH_LOG_ERR, "config", "reload of %s refused: more interfaces than limits.interfaces (%u)",
			       app->cfg_path, app->lim.interfaces);
			fh_config_free(cfg);
			app->cc[FH_CC_RELOAD_FAILED]++;
			return -1;
		}
		fh_ike_glue_reload(app);
		if (fh_tables_reload(app) < 0)
			fh_log(FH_LOG_ERR, "config", "reload: some static SAs could not be installed");
		fh_sessions_reload(app);
		fh_routing_reload(app, old);
		fh_config_free(old);
	}
	fh_debug_all_off();
	for (uint32_t i = 0; i < cfg->n_debug; i++)
		fh_debug_set(cfg->debug[i], true);
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

		if (c == FH_CTR_HANDOFF || c == FH_CTR_FRAGMENTED || c == FH_CTR_NEIGH_WAIT)
			continue; /* work done, not drops */

		if (v > app->drops_reported[c])
			fh_log(FH_LOG_WARN, "dataplane", "%lu packet(s) dropped: %s (total %lu)",
			       (unsigned long)(v - app->drops_reported[c]), fh_dp_ctr_name(c), (unsigned long)v);
		app->drops_reported[c] = v;
	}
}

void fh_control_loop(struct fh_app *app)
{
	while (!fh_quit) {
		unsigned int n;

		handle_punts(app, &n);
		handle_resolve(app);
		fh_sa_lifetimes(app);
		fh_bench_tick(app);
		fh_dp_reclaim(&app->dp);
		fh_ike_tick(app->ike, fh_now_ms());
		fh_routing_poll(app);
		fh_ctl_poll(&app->ctl, n != 0 ? 0 : CTL_POLL_MS, fh_commands, app);
		if (fh_reload) {
			fh_reload = 0;
			fh_control_reload(app);
		}
		report_drops(app);
	}
}
