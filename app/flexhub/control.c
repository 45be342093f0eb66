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
	const struct fh_dp_tables *t = app->dp.tables;

	for (uint32_t i = 0; i < t->n_local; i++)
		if (t->local_addr[i] == addr_be &&
		    (pi < 0 || t->local_port[i] == (uint16_t)pi || t->local_port[i] == UINT16_MAX))
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
	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];

		if (f->port == pi && f->has_addr && f->plen < 32 && ((addr ^ f->addr) & fh_prefix_mask(f->plen)) == 0 &&
		    addr != f->addr)
			return true;
	}
	return false;
}

/* Remember who has an address on a port's subnet; republish when it is new or moved. */
static void neigh_learn(struct fh_app *app, int pi, uint32_t ip, const struct rte_ether_addr *mac)
{
	uint32_t i;

	if (!on_link(app, pi, ip) || rte_is_zero_ether_addr(mac) || rte_is_multicast_ether_addr(mac))
		return;
	for (i = 0; i < app->n_static_neigh; i++)
		if (app->neigh[i].ip == ip)
			return; /* static entries win */
	for (i = 0; i < app->n_neigh; i++)
		if (app->neigh[i].ip == ip && app->neigh[i].port == (uint16_t)pi) {
			if (rte_is_same_ether_addr(&app->neigh[i].mac, mac))
				return;
			break;
		}
	if (i == app->n_neigh) {
		if (app->n_neigh == FH_NEIGH_MAX)
			return; /* full: entries stay until restart; counted as ignored */
		app->n_neigh++;
	}
	app->neigh[i].ip = ip;
	app->neigh[i].port = (uint16_t)pi;
	app->neigh[i].mac = *mac;
	app->cc[FH_CC_ARP_LEARNED]++;
	fh_publish_neigh(app);
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
	nh = fh_fib_lookup(app->dp.tables->fib, osrc);
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
	for (uint32_t i = 0; i < app->ifs.n; i++)
		if (app->ifs.v[i].port == pi && app->ifs.v[i].has_addr)
			return app->ifs.v[i].addr;
	return 0;
}

/* ARP requests for next hops the workers could not resolve, at most one per address per second. */
static void handle_resolve(struct fh_app *app)
{
	void *keys[32];
	unsigned int n = rte_ring_dequeue_burst(app->dp.resolve, keys, 32, NULL);
	uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();

	for (unsigned int i = 0; i < n; i++) {
		uintptr_t k = (uintptr_t)keys[i];
		int pi = (int)(k >> 32);
		uint32_t ip = (uint32_t)k, slot = ip % FH_NEIGH_MAX;
		struct rte_mbuf *m;
		struct rte_ether_hdr *eth;
		struct rte_arp_hdr *arp;

		if (pi >= app->dp.n_ports || (app->asked_ip[slot] == ip && now - app->neigh_asked[slot] < hz))
			continue;
		app->asked_ip[slot] = ip;
		app->neigh_asked[slot] = now;
		m = rte_pktmbuf_alloc(app->pool);
		if (m == NULL)
			continue;
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
	{
		/* the old config is the one the live SAs' entries were copied from: keep it until the
		 * tables built from the new one are published */
		struct fh_config *old = app->cfg;

		app->cfg = cfg;
		fh_ike_glue_reload(app);
		if (fh_publish_tables(app) < 0)
			fh_log(FH_LOG_ERR, "config", "reload: cannot publish the new tables");
		fh_config_free(old);
	}
	fh_debug_all_off();
	for (uint32_t i = 0; i < cfg->n_debug; i++)
		fh_debug_set(cfg->debug[i], true);
	app->cc[FH_CC_RELOAD_OK]++;
	fh_log(FH_LOG_INFO, "config", "reloaded %s", app->cfg_path);
	return 0;
}

/* SA lifetimes: time is aged here; volume was marked by the workers. Each event logged once. */
static void sa_lifetimes(struct fh_app *app)
{
	uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();

	if (now - app->last_aging < hz)
		return;
	app->last_aging = now;
	for (uint32_t i = 0; i < app->n_sas; i++) {
		struct fh_app_sa *p = &app->sas[i];
		struct fh_sa *sas[2] = {p->in, p->out};

		for (int d = 0; d < 2; d++) {
			struct fh_sa *sa = sas[d];

			if (sa == NULL)
				continue;
			fh_sa_age(sa, now, hz);
			if (sa->soft_expired && !p->soft_told[d]) {
				p->soft_told[d] = true;
				app->cc[FH_CC_SA_SOFT_EXPIRED]++;
				fh_log(FH_LOG_WARN, "crypto ipsec", "%s SA 0x%08x on %s reached its soft lifetime: rekey needed",
				       d == 0 ? "inbound" : "outbound", sa->spi, p->cfg.interface);
			}
			if (sa->hard_expired && !p->hard_told[d]) {
				p->hard_told[d] = true;
				app->cc[FH_CC_SA_HARD_EXPIRED]++;
				fh_log(FH_LOG_ERR, "crypto ipsec", "%s SA 0x%08x on %s reached its hard lifetime: traffic dropped",
				       d == 0 ? "inbound" : "outbound", sa->spi, p->cfg.interface);
			}
		}
	}
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

		if (c == FH_CTR_HANDOFF || c == FH_CTR_FRAGMENTED)
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
		sa_lifetimes(app);
		fh_ike_tick(app->ike, fh_now_ms());
		fh_ctl_poll(&app->ctl, n != 0 ? 0 : CTL_POLL_MS, fh_commands, app);
		if (fh_reload) {
			fh_reload = 0;
			fh_control_reload(app);
		}
		report_drops(app);
	}
}
