/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands of the control socket, with output shaped like the IOS lines in the guide. */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_version.h>

#include "fh_json.h"
#include "flexhub.h"

#define APP(ctx) ((struct fh_app *)(ctx))

static const char *const cc_names[FH_CC_MAX] = {
	[FH_CC_ARP_REPLIES] = "arp-replies",
	[FH_CC_ARP_IGNORED] = "arp-ignored",
	[FH_CC_ICMP_ECHO_REPLIES] = "icmp-echo-replies",
	[FH_CC_ICMP_IGNORED] = "icmp-ignored",
	[FH_CC_IKE_MALFORMED] = "ike-malformed-datagrams",
	[FH_CC_ROUTING_UNHANDLED] = "routing-not-running",
	[FH_CC_REPLY_DROPPED] = "reply-dropped",
	[FH_CC_ARP_REQUESTS] = "arp-requests",
	[FH_CC_ARP_LEARNED] = "arp-learned",
	[FH_CC_NHRP_UNHANDLED] = "nhrp-not-running",
	[FH_CC_ICMP_ERR_SENT] = "icmp-errors-sent",
	[FH_CC_ICMP_ERR_SUPPRESSED] = "icmp-errors-suppressed",
	[FH_CC_SA_SOFT_EXPIRED] = "sa-soft-lifetime",
	[FH_CC_SA_HARD_EXPIRED] = "sa-hard-lifetime",
	[FH_CC_RELOAD_OK] = "config-reloads",
	[FH_CC_RELOAD_FAILED] = "config-reload-failures",
	[FH_CC_IKE_SENT] = "ike-messages-sent",
	[FH_CC_NATT_KEEPALIVE] = "natt-keepalives-received",
	[FH_CC_NEIGH_QUEUED] = "neighbour-packets-queued",
	[FH_CC_NEIGH_FLUSHED] = "neighbour-packets-flushed",
	[FH_CC_NEIGH_OVERFLOW] = "neighbour-queue-overflow",
	[FH_CC_NEIGH_TIMEOUT] = "neighbour-queue-timeout",
	[FH_CC_NEIGH_FULL] = "neighbour-table-full",
	[FH_CC_SA_LIMIT] = "sa-pair-limit",
	[FH_CC_ROUTE_LIMIT] = "route-limit",
	[FH_CC_POOL_EXHAUSTED] = "pool-exhausted",
	[FH_CC_VACCESS_CREATED] = "virtual-access-created",
	[FH_CC_VACCESS_FAILED] = "virtual-access-refused",
	[FH_CC_MIRROR_IN] = "mirror-packets-in",
	[FH_CC_MIRROR_OUT] = "mirror-packets-out",
	[FH_CC_MIRROR_DROPPED] = "mirror-packets-dropped",
	[FH_CC_FRR_RESTARTS] = "frr-restarts",
};

static const char *method_name(uint8_t m)
{
	return m == FH_IFM_MANUAL ? "manual" : m == FH_IFM_NEGOTIATED ? "IKEv2" : "unset";
}

/* Status and Protocol columns, as IOS derives them. */
static void if_state(const struct fh_app *app, int i, const char **status, const char **proto)
{
	const struct fh_iface *f = &app->ifs.v[i];
	bool up;

	if (!f->admin_up) {
		*status = "administratively down";
		*proto = "down";
		return;
	}
	*status = "up";
	switch (f->kind) {
	case FH_IF_PHYSICAL:
		up = fh_port_link_up(app, f->port);
		*status = up ? "up" : "down";
		break;
	case FH_IF_TUNNEL: {
		const struct fh_cfg_iface *c = &app->cfg->iface[f->cfg_idx];
		int s = c->source_idx >= 0 ? fh_iface_find(&app->ifs, app->cfg->iface[c->source_idx].hdr.name) : -1;

		/* protected tunnels come up with their IPsec SA; plain ones with their source */
		up = c->protection[0] != '\0' ? f->proto_up
					       : s < 0 || fh_port_link_up(app, app->ifs.v[s].port) ||
							 app->ifs.v[s].kind == FH_IF_LOOPBACK;
		break;
	}
	case FH_IF_VTEMPLATE:
		up = false; /* a template never carries traffic itself */
		break;
	default:
		up = f->proto_up;
		break;
	}
	*proto = up ? "up" : "down";
}

#define BRIEF_STARTED (1ull << 32)

/* Streamed by slot, a chunk per control-loop pass: a hub has an interface per spoke. */
static int show_ip_int_brief(FILE *out, struct fh_ctl_cursor *cur, void *ctx)
{
	struct fh_app *app = APP(ctx);
	uint32_t i;

	if (cur->pos == 0) {
		fh_json_init(&cur->js, out);
		if (cur->json)
			fh_json_arr_begin(&cur->js);
		else
			fprintf(out, "%-22s %-15s %-3s %-6s %-21s %s\n", "Interface", "IP-Address", "OK?", "Method", "Status",
				"Protocol");
		cur->pos = BRIEF_STARTED;
	}
	for (i = (uint32_t)cur->pos; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		const char *status, *proto;
		char addr[16] = "unassigned";
		uint32_t a;
		uint8_t l;

		if (!f->used)
			continue;
		if (fh_iface_addr(&app->ifs, (int)i, &a, &l))
			fh_ip4_str(a, addr, sizeof(addr));
		if_state(app, (int)i, &status, &proto);
		if (cur->json) {
			fh_json_obj_begin(&cur->js);
			fh_json_kv_str(&cur->js, "interface", f->name);
			fh_json_kv_str(&cur->js, "ip-address", addr);
			fh_json_kv_str(&cur->js, "ok", "YES");
			fh_json_kv_str(&cur->js, "method", method_name(f->method));
			fh_json_kv_str(&cur->js, "status", status);
			fh_json_kv_str(&cur->js, "protocol", proto);
			fh_json_obj_end(&cur->js);
		} else {
			fprintf(out, "%-22s %-15s %-3s %-6s %-21s %s\n", f->name, addr, "YES", method_name(f->method), status,
				proto);
		}
		if (fh_ctl_chunk_full(cur, out)) {
			cur->pos = BRIEF_STARTED | (i + 1);
			return 1;
		}
	}
	if (cur->json) {
		fh_json_arr_end(&cur->js);
		return fh_json_finish(&cur->js);
	}
	return 0;
}

static int show_running(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);

	(void)argc;
	(void)argv;
	if (!json)
		fprintf(out, "# flexhub running configuration (normalized, from %s; keys hidden)\n", app->cfg_path);
	return fh_config_emit(out, app->cfg, json ? FH_EMIT_JSON : FH_EMIT_YAML, 0);
}

/* Port statistics: text lines to out, or members of the open JSON object j when j is not NULL. */
static void port_stats(FILE *out, struct fh_json *j, struct fh_app *app)
{
	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		struct rte_eth_stats st;

		if (!f->used || f->port < 0 || rte_eth_stats_get(app->dp.port[f->port].port_id, &st) != 0)
			continue;
		if (j != NULL) {
			fh_json_key(j, f->name);
			fh_json_obj_begin(j);
			fh_json_kv_u64(j, "rx-packets", st.ipackets);
			fh_json_kv_u64(j, "tx-packets", st.opackets);
			fh_json_kv_u64(j, "rx-bytes", st.ibytes);
			fh_json_kv_u64(j, "tx-bytes", st.obytes);
			fh_json_kv_u64(j, "rx-missed", st.imissed);
			fh_json_kv_u64(j, "rx-errors", st.ierrors);
			fh_json_kv_u64(j, "tx-errors", st.oerrors);
			fh_json_kv_u64(j, "rx-no-mbuf", st.rx_nombuf);
			fh_json_obj_end(j);
		} else {
			fprintf(out, "  %-20s rx %lu pkts %lu bytes, tx %lu pkts %lu bytes, missed %lu, errors %lu/%lu, no-mbuf %lu\n",
				f->name, st.ipackets, st.ibytes, st.opackets, st.obytes, st.imissed, st.ierrors, st.oerrors,
				st.rx_nombuf);
		}
	}
}

static int show_counters(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);

	(void)argc;
	(void)argv;
	if (json) {
		struct fh_json j;

		fh_json_init(&j, out);
		fh_json_obj_begin(&j);
		fh_json_key(&j, "dataplane");
		fh_json_obj_begin(&j);
		for (int c = 0; c < FH_CTR_MAX; c++)
			fh_json_kv_u64(&j, fh_dp_ctr_name(c), fh_dp_counter(&app->dp, c));
		fh_json_obj_end(&j);
		fh_json_key(&j, "control");
		fh_json_obj_begin(&j);
		for (int c = 0; c < FH_CC_MAX; c++)
			fh_json_kv_u64(&j, cc_names[c], app->cc[c]);
		fh_json_obj_end(&j);
		fh_json_key(&j, "ikev2");
		fh_json_obj_begin(&j);
		for (int c = 0; c < FH_IKE_CTR_MAX; c++)
			fh_json_kv_u64(&j, fh_ike_ctr_name(c), fh_ike_counter(app->ike, c));
		fh_json_obj_end(&j);
		fh_json_key(&j, "ports");
		fh_json_obj_begin(&j);
		port_stats(out, &j, app);
		fh_json_obj_end(&j);
		fh_json_obj_end(&j);
		return fh_json_finish(&j);
	}
	fprintf(out, "Data plane (%u worker%s)\n", app->dp.n_workers, app->dp.n_workers == 1 ? "" : "s");
	for (int c = 0; c < FH_CTR_MAX; c++)
		fprintf(out, "  %-26s %lu\n", fh_dp_ctr_name(c), (unsigned long)fh_dp_counter(&app->dp, c));
	fputs("Control plane\n", out);
	for (int c = 0; c < FH_CC_MAX; c++)
		fprintf(out, "  %-26s %lu\n", cc_names[c], (unsigned long)app->cc[c]);
	fputs("IKEv2\n", out);
	for (int c = 0; c < FH_IKE_CTR_MAX; c++)
		fprintf(out, "  %-26s %lu\n", fh_ike_ctr_name(c), (unsigned long)fh_ike_counter(app->ike, c));
	fputs("Ports\n", out);
	port_stats(out, NULL, app);
	return 0;
}

static int clear_counters(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);

	(void)json;
	(void)argc;
	(void)argv;
	fh_dp_counters_clear(&app->dp);
	memset(app->cc, 0, sizeof(app->cc));
	memset(app->drops_reported, 0, sizeof(app->drops_reported));
	fh_ike_counters_clear(app->ike);
	for (uint16_t i = 0; i < app->dp.n_ports; i++)
		rte_eth_stats_reset(app->dp.port[i].port_id);
	fputs("Counters cleared\n", out);
	return 0;
}

static int show_version(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	long up = (long)(time(NULL) - app->started);

	(void)argc;
	(void)argv;
	if (json) {
		struct fh_json j;

		fh_json_init(&j, out);
		fh_json_obj_begin(&j);
		fh_json_kv_str(&j, "version", FLEXHUB_VERSION);
		fh_json_kv_str(&j, "hostname", app->cfg->hostname);
		fh_json_kv_i64(&j, "uptime", up);
		fh_json_kv_u64(&j, "workers", app->dp.n_workers);
		fh_json_kv_u64(&j, "ports", app->dp.n_ports);
		fh_json_kv_str(&j, "dpdk", rte_version());
		fh_json_obj_end(&j);
		return fh_json_finish(&j);
	}
		fprintf(out, "flexhub %s (%s)\n%s uptime is %ld seconds\n%u worker lcore(s), %u port(s)\n",
			FLEXHUB_VERSION, rte_version(), app->cfg->hostname, up, app->dp.n_workers, app->dp.n_ports);
	return 0;
}

static int join_words(char *buf, size_t len, int argc, char **argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
	return argc;
}

static int debug_cmd(FILE *out, int argc, char **argv, bool on)
{
	char cat[256];

	if (join_words(cat, sizeof(cat), argc, argv) == 0 || fh_debug_set(cat, on) < 0) {
		fprintf(out, "%% Unknown debug category '%s'\n", cat);
		return -1;
	}
	fprintf(out, "%s debugging is %s\n", cat, on ? "on" : "off");
	return 0;
}

static int debug_on(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	(void)json;
	(void)ctx;
	return debug_cmd(out, argc, argv, true);
}

static int debug_off(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	(void)json;
	(void)ctx;
	return debug_cmd(out, argc, argv, false);
}

static int undebug_all(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	(void)json;
	(void)argc;
	(void)argv;
	(void)ctx;
	fh_debug_all_off();
	fputs("All possible debugging has been turned off\n", out);
	return 0;
}

static int show_debugging(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	char buf[1024];

	(void)json;
	(void)argc;
	(void)argv;
	(void)ctx;
	fh_debug_list(buf, sizeof(buf));
	fprintf(out, "%s", buf[0] ? buf : "No debugging is on\n");
	return 0;
}

static int config_replace(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);

	(void)json;
	(void)argc;
	(void)argv;
	if (fh_control_reload(app) < 0) {
		fprintf(out, "%% Reload of %s failed; running config kept (see the daemon's log)\n", app->cfg_path);
		return -1;
	}
	fprintf(out, "Reloaded %s\n", app->cfg_path);
	return 0;
}

/* IOS spells transforms "esp-256-aes esp-sha-hmac" in this output. */
static const char *ios_encr(uint8_t e)
{
	switch (e) {
	case FH_ENCR_AES_CBC_128: return "esp-aes";
	case FH_ENCR_AES_CBC_192: return "esp-192-aes";
	case FH_ENCR_AES_CBC_256: return "esp-256-aes";
	case FH_ENCR_AES_GCM_128: return "esp-gcm";
	case FH_ENCR_AES_GCM_256: return "esp-gcm 256";
	default: return "esp-null";
	}
}

static void ip4(uint32_t a, char *b)
{
	fh_ip4_str(a, b, 16);
}

static void sa_block(FILE *out, const char *dir, const struct fh_sa *sa, const struct fh_app_pair *c)
{
	fprintf(out, "     %s esp sas:\n", dir);
	if (sa == NULL)
		return;
	fprintf(out, "      spi: 0x%08X(%u)\n", sa->spi, sa->spi);
	fprintf(out, "        transform: %s %s ,\n", ios_encr(sa->encr),
		sa->integ == FH_INTEG_NONE ? "" : fh_esp_integ_name(sa->integ));
	fprintf(out, "        in use settings ={%s%s%s, }\n", sa->mode == FH_ESP_TUNNEL ? "Tunnel" : "Transport",
		sa->udp_encap ? " UDP-Encaps" : "", sa->esn ? " ESN" : "");
	if (sa->life_seconds == 0 && sa->life_bytes == 0 && sa->life_pkts == 0) {
		fprintf(out, "        sa timing: remaining key lifetime: manual key (no expiry)\n");
	} else {
		uint64_t age = (rte_get_timer_cycles() - sa->created) / rte_get_timer_hz();
		struct fh_sa_stats st;
		long kb;

		fh_sa_stats_read(sa, &st);
		kb = sa->life_bytes ? (long)((sa->life_bytes - RTE_MIN(sa->life_bytes, st.bytes)) / 1024) : -1;
		long sec = sa->life_seconds ? (long)(sa->life_seconds - RTE_MIN((uint64_t)sa->life_seconds, age)) : -1;

		fprintf(out, "        sa timing: remaining key lifetime (k/sec): (%ld/%ld)%s\n", kb, sec,
			sa->hard_expired ? " EXPIRED" : sa->soft_expired ? " soft limit reached" : "");
	}
	fprintf(out, "        IV size: %u bytes\n", sa->iv_len);
	fprintf(out, "        replay detection support: %s\n", sa->rp.win ? "Y" : "N");
	if (sa->dir == FH_SA_IN)
		fprintf(out, "        replay window size: %u\n", c->replay_window);
	fprintf(out, "        Status: ACTIVE(ACTIVE)\n\n");
}

/* One pair of show crypto ipsec sa; false when it is not shown (retiring, tunnel gone). */
static bool ipsec_pair(FILE *out, bool json, struct fh_json *jp, struct fh_app *app, const struct fh_sadb_pair *p)
{
#define j (*jp)
	{
		const struct fh_sa *in = p->in, *o = p->out;
		const struct fh_app_pair *u = p->user;
		int ts = fh_iface_slot(&app->ifs, p->tunnel);
		const struct fh_iface *ti = ts >= 0 ? &app->ifs.v[ts] : NULL;
		const struct fh_cfg_iface *tun;
		const struct fh_cfg_iface *src;
		const struct fh_dp_tunnel *dt;
		char l[16], r[16];
		uint64_t enc, dec, rerr, serr;
		struct fh_sa_stats ist, ost;
		uint16_t peer_port;
		uint32_t mtu;
		bool gre;

		if (p->state == FH_SADB_RETIRING || ti == NULL || ti->cfg_idx < 0)
			return false;
		tun = &app->cfg->iface[ti->cfg_idx];
		src = tun->source_idx >= 0 ? &app->cfg->iface[tun->source_idx] : NULL;
		dt = fh_dp_tunnel_get(&app->dp.tables, (uint32_t)ts);
		fh_sa_stats_read(in, &ist);
		fh_sa_stats_read(o, &ost);
		enc = ost.pkts;
		dec = ist.pkts;
		rerr = ist.auth_fail + ist.replay + ist.errors;
		serr = ost.errors;
		peer_port = o->udp_encap ? o->dport : 500;
		mtu = dt != NULL ? dt->mtu : 0;
		gre = tun->tunnel_mode == FH_TUN_GRE;

		ip4(p->src, l);
		ip4(p->dst, r);
		if (json) {
			fh_json_obj_begin(&j);
			fh_json_kv_str(&j, "interface", tun->hdr.name);
			fh_json_kv_str(&j, "local", l);
			fh_json_kv_str(&j, "remote", r);
			fh_json_kv_str(&j, "mode", gre ? "gre" : "ipsec");
			fh_json_kv_u64(&j, "encaps", enc);
			fh_json_kv_u64(&j, "decaps", dec);
			fh_json_kv_u64(&j, "send-errors", serr);
			fh_json_kv_u64(&j, "recv-errors", rerr);
			fh_json_kv_u64(&j, "auth-failures", ist.auth_fail);
			fh_json_kv_u64(&j, "replay-failures", ist.replay);
			fh_json_kv_u64(&j, "plaintext-mtu", mtu);
			fh_json_kv_u64(&j, "inbound-spi", p->spi_in);
			fh_json_kv_u64(&j, "outbound-spi", p->spi_out);
			fh_json_key(&j, "transform");
			fh_json_strf(&j, "%s %s", ios_encr(in->encr),
				     in->integ == FH_INTEG_NONE ? "" : fh_esp_integ_name(in->integ));
			fh_json_kv_str(&j, "keying", p->origin == FH_SADB_IKE ? "ikev2" : "manual");
			fh_json_kv_u64(&j, "peer-port", peer_port);
			fh_json_kv_str(&j, "state", fh_sadb_state_name(p->state));
			fh_json_obj_end(&j);
			return true;
		}
		fprintf(out, "\ninterface: %s\n    Crypto map tag: %s-head-0, local addr %s\n\n", tun->hdr.name,
			tun->hdr.name, l);
		fprintf(out, "   protected vrf: (none)\n");
		if (gre) {
			fprintf(out, "   local  ident (addr/mask/prot/port): (%s/255.255.255.255/47/0)\n", l);
			fprintf(out, "   remote ident (addr/mask/prot/port): (%s/255.255.255.255/47/0)\n", r);
		} else {
			fprintf(out, "   local  ident (addr/mask/prot/port): (0.0.0.0/0.0.0.0/0/0)\n");
			fprintf(out, "   remote ident (addr/mask/prot/port): (0.0.0.0/0.0.0.0/0/0)\n");
		}
		fprintf(out, "   current_peer %s port %u\n     PERMIT, flags={origin_is_acl,}\n", r, peer_port);
		fprintf(out, "    #pkts encaps: %lu, #pkts encrypt: %lu, #pkts digest: %lu\n", (unsigned long)enc,
			(unsigned long)enc, (unsigned long)enc);
		fprintf(out, "    #pkts decaps: %lu, #pkts decrypt: %lu, #pkts verify: %lu\n", (unsigned long)dec,
			(unsigned long)dec, (unsigned long)dec);
		fprintf(out, "    #pkts compressed: 0, #pkts decompressed: 0\n");
		fprintf(out, "    #pkts not compressed: 0, #pkts compr. failed: 0\n");
		fprintf(out, "    #pkts not decompressed: 0, #pkts decompress failed: 0\n");
		fprintf(out, "    #send errors %lu, #recv errors %lu\n", (unsigned long)serr, (unsigned long)rerr);
		fprintf(out, "    #pkts verify failed: %lu, #pkts replay failed: %lu\n\n",
			(unsigned long)(ist.auth_fail), (unsigned long)(ist.replay));
		fprintf(out, "     local crypto endpt.: %s, remote crypto endpt.: %s\n", l, r);
		fprintf(out, "     plaintext mtu %u, path mtu %u, ip mtu %u, ip mtu idb %s\n", mtu,
			src && src->kind == FH_IF_PHYSICAL ? src->mtu : 1500, src && src->kind == FH_IF_PHYSICAL ? src->mtu : 1500,
			src ? src->hdr.name : "-");
		fprintf(out, "     current outbound spi: 0x%08X(%u)\n     PFS (Y/N): N, DH group: none\n\n", p->spi_out,
			p->spi_out);
		sa_block(out, "inbound", in, u);
		fprintf(out, "     inbound ah sas:\n\n     inbound pcp sas:\n\n");
		sa_block(out, "outbound", o, u);
		fprintf(out, "     outbound ah sas:\n\n     outbound pcp sas:\n");
	}
	return true;
#undef j
}

/*
 * show crypto ipsec sa, streamed: a chunk at a time between control-loop passes, so 10,000 pairs
 * never hold IKE up. The cursor is a slot of the SA database (slots never move; pairs that come or
 * go between chunks are shown or not, as they are at that moment). Slot order: by tunnel would be
 * the guide's order, slot order is what a cursor walks in O(1) a pair.
 */
#define CURSOR_STARTED (1ull << 32)

static int show_crypto_ipsec_sa(FILE *out, struct fh_ctl_cursor *cur, void *ctx)
{
	struct fh_app *app = APP(ctx);
	struct fh_sadb_pair *p;
	uint32_t c;

	if (cur->pos == 0) {
		fh_json_init(&cur->js, out);
		if (cur->json)
			fh_json_arr_begin(&cur->js);
		cur->pos = CURSOR_STARTED;
	}
	c = (uint32_t)cur->pos;
	while ((p = fh_sadb_next(app->sadb, &c)) != NULL) {
		ipsec_pair(out, cur->json, &cur->js, app, p);
		if (fh_ctl_chunk_full(cur, out)) {
			cur->pos = CURSOR_STARTED | c;
			return 1;
		}
	}
	if (cur->json) {
		fh_json_arr_end(&cur->js);
		return fh_json_finish(&cur->js);
	}
	return 0;
}

/* show crypto ikev2 sa [detail]: the guide's layout, one block per IKE SA. */
/*
 * show crypto ikev2 sa [detail], streamed a chunk per control-loop pass by the engine's cursor
 * (its slots); SAs that come or go between chunks are shown as they are at that moment.
 */
static int show_crypto_ikev2_sa(FILE *out, struct fh_ctl_cursor *cur, void *ctx)
{
	struct fh_app *app = APP(ctx);
	bool json = cur->json;
	bool detail = cur->argc > 0 && strncasecmp(cur->argv[0], "detail", strlen(cur->argv[0])) == 0;
	struct fh_json *jp = &cur->js;
	struct fh_ike_sa_info i;
	uint32_t k;

	if (cur->pos == 0) {
		if (cur->argc > 1 || (cur->argc == 1 && !detail)) {
			fprintf(out, "%% usage: show crypto ikev2 sa [detail]\n");
			return -1;
		}
		fh_json_init(jp, out);
		if (json)
			fh_json_arr_begin(jp);
		else
			fprintf(out, " IPv4 Crypto IKEv2  SA\n\nTunnel-id Local                 Remote                fvrf/ivrf            Status\n");
		cur->pos = CURSOR_STARTED;
	}
#define j (*jp)
	k = (uint32_t)cur->pos;
	while (fh_ike_sa_next(app->ike, &k, &i)) {
		char l[24], r[24], lp[32], rp[32];
		int ts = fh_iface_slot(&app->ifs, i.tunnel);
		/* a Virtual-Access is not in the config: its name comes from the interface table */
		const char *tun = ts >= 0 ? app->ifs.v[ts].name : i.tunnel_name;
		char ca[16] = "";

		ip4(i.local.ip, l);
		ip4(i.remote.ip, r);
		snprintf(lp, sizeof(lp), "%s/%u", l, i.local.port);
		snprintf(rp, sizeof(rp), "%s/%u", r, i.remote.port);
		if (json) {
			fh_json_obj_begin(&j);
			fh_json_kv_u64(&j, "tunnel-id", i.id);
			fh_json_kv_str(&j, "local", l);
			fh_json_kv_u64(&j, "local-port", i.local.port);
			fh_json_kv_str(&j, "remote", r);
			fh_json_kv_u64(&j, "remote-port", i.remote.port);
			fh_json_kv_str(&j, "fvrf", "none");
			fh_json_kv_str(&j, "ivrf", "none");
			fh_json_kv_str(&j, "status", i.status);
			fh_json_kv_str(&j, "role", i.initiator ? "initiator" : "responder");
			fh_json_kv_str(&j, "encr", fh_ike_encr_name(i.encr));
			fh_json_kv_u64(&j, "keysize", i.key_bits);
			fh_json_kv_str(&j, "prf", fh_ike_prf_name(i.prf));
			fh_json_kv_str(&j, "hash", fh_ike_integ_name(i.integ));
			fh_json_kv_u64(&j, "dh-group", i.dh_group);
			fh_json_kv_str(&j, "auth-sign", i.auth_sign);
			fh_json_kv_str(&j, "auth-verify", i.auth_verify);
			fh_json_kv_u64(&j, "lifetime", i.lifetime_s);
			fh_json_kv_u64(&j, "active-time", i.active_s);
			/* the identities are the peer's bytes: the writer escapes them */
			fh_json_kv_str(&j, "local-id", i.local_id);
			fh_json_kv_str(&j, "remote-id", i.remote_id);
			fh_json_kv_bool(&j, "nat-local", i.nat_local);
			fh_json_kv_bool(&j, "nat-remote", i.nat_remote);
			fh_json_kv_str(&j, "interface", tun);
			fh_json_kv_bool(&j, "virtual-access", i.vaccess);
			if (i.cfg_addr) {
				ip4(i.cfg_addr, ca);
				fh_json_kv_str(&j, i.initiator ? "pushed-address" : "assigned-address", ca);
			}
			fh_json_key(&j, "spi-i");
			fh_json_strf(&j, "%016llx", (unsigned long long)i.spi_i);
			fh_json_key(&j, "spi-r");
			fh_json_strf(&j, "%016llx", (unsigned long long)i.spi_r);
			fh_json_kv_u64(&j, "child-sas", i.n_child);
			fh_json_obj_end(&j);
			if (fh_ctl_chunk_full(cur, out)) {
				cur->pos = CURSOR_STARTED | k;
				return 1;
			}
			continue;
		}
		fprintf(out, "%-9u %-21s %-21s %-20s %s\n", i.id, lp, rp, "none/none", i.status);
		fprintf(out, "      Encr: %s, keysize: %u, PRF: %s, Hash: %s, DH Grp:%u, Auth sign: %s, Auth verify: %s\n",
			fh_ike_encr_name(i.encr), i.key_bits, fh_ike_prf_name(i.prf), fh_ike_integ_name(i.integ), i.dh_group,
			i.auth_sign, i.auth_verify);
		fprintf(out, "      Life/Active Time: %u/%u sec\n", i.lifetime_s, i.active_s);
		if (detail) {
			fprintf(out, "      CE id: 0, Session-id: %u\n", i.id);
			fprintf(out, "      Local spi: %016llX       Remote spi: %016llX\n",
				(unsigned long long)(i.initiator ? i.spi_i : i.spi_r),
				(unsigned long long)(i.initiator ? i.spi_r : i.spi_i));
			fprintf(out, "      Status Description: %s\n",
				strcmp(i.status, "READY") == 0 ? "Negotiation done" : "Negotiation in progress");
			fprintf(out, "      Local id: %s\n      Remote id: %s\n", i.local_id, i.remote_id);
			if (tun[0])
				fprintf(out, "      Interface: %s\n", tun);
			if (i.cfg_addr) {
				ip4(i.cfg_addr, ca);
				/* IOS's words on each side of FlexVPN mode-config */
				fprintf(out, "      %s: %s\n", i.initiator ? "Pushed IP address" : "Assigned host addr", ca);
			}
			fprintf(out, "      Local req msg id:  %u             Remote req msg id:  %u\n", i.msgid_tx,
				i.msgid_rx);
			fprintf(out, "      Local next msg id: %u             Remote next msg id: %u\n", i.msgid_tx,
				i.msgid_rx);
			fprintf(out, "      Local req queued:  %u             Remote req queued:  %u\n", i.msgid_tx,
				i.msgid_rx);
			fprintf(out, "      Local window:      1             Remote window:      1\n");
			fprintf(out, "      DPD configured for %u seconds, retry %u\n",
				i.profile >= 0 && app->cfg->ike_profile[i.profile].dpd.present
					? app->cfg->ike_profile[i.profile].dpd.interval : 0,
				i.profile >= 0 && app->cfg->ike_profile[i.profile].dpd.present
					? app->cfg->ike_profile[i.profile].dpd.retries : 0);
			fprintf(out, "      Fragmentation not configured.\n      Extended Authentication not configured.\n");
			fprintf(out, "      NAT-T is %s\n", i.nat_local ? "detected inside" : i.nat_remote ? "detected outside"
													    : "not detected");
			fprintf(out, "      Cisco Trust Security SGT is disabled\n      Initiator of SA : %s\n",
				i.initiator ? "Yes" : "No");
			for (uint32_t c = 0; c < i.n_child; c++)
				fprintf(out, "      Child sa: local SPI 0x%08X remote SPI 0x%08X%s\n", i.child_spi_in[c],
					i.child_spi_out[c], tun[0] ? "" : "");
			if (tun[0])
				fprintf(out, "      Interface: %s\n", tun);
		}
		fputc('\n', out);
		if (fh_ctl_chunk_full(cur, out)) {
			cur->pos = CURSOR_STARTED | k;
			return 1;
		}
	}
#undef j
	if (json) {
		fh_json_arr_end(jp);
		return fh_json_finish(jp);
	}
	fprintf(out, " IPv6 Crypto IKEv2  SA\n");
	return 0;
}

/* clear crypto ikev2 sa [tunnel-id] */
static int clear_crypto_ikev2_sa(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	unsigned long id = 0;
	char *end = NULL;
	int n;

	(void)json;
	if (argc > 1 || (argc == 1 && ((id = strtoul(argv[0], &end, 10)) == 0 || *end != '\0'))) {
		fprintf(out, "%% usage: clear crypto ikev2 sa [tunnel-id]\n");
		return -1;
	}
	n = fh_ike_clear(app->ike, (uint32_t)id, fh_now_ms());
	if (id != 0 && n == 0) {
		fprintf(out, "%% no IKEv2 SA with tunnel-id %lu\n", id);
		return -1;
	}
	fprintf(out, "%d IKEv2 SA(s) cleared\n", n);
	return 0;
}

/* crypto ikev2 rekey child|ike [tunnel-id]: not in IOS (it rekeys on lifetimes only); here for
 * operations and tests that cannot wait for a lifetime. */
static int rekey_crypto_ikev2(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	unsigned long id = 0;
	char *end = NULL;
	bool ike;
	int n;

	(void)json;
	if (argc < 1 || argc > 2 || (strcasecmp(argv[0], "child") != 0 && strcasecmp(argv[0], "ike") != 0) ||
	    (argc == 2 && ((id = strtoul(argv[1], &end, 10)) == 0 || *end != '\0'))) {
		fprintf(out, "%% usage: crypto ikev2 rekey child|ike [tunnel-id]\n");
		return -1;
	}
	ike = strcasecmp(argv[0], "ike") == 0;
	n = fh_ike_rekey(app->ike, (uint32_t)id, ike, fh_now_ms());
	fprintf(out, "%d %s rekey(s) started\n", n, ike ? "IKE SA" : "child SA");
	return n > 0 ? 0 : -1;
}

/* show crypto ikev2 stats: the engine's counters */
static int show_crypto_ikev2_stats(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	struct fh_json j;

	(void)argc;
	(void)argv;
	fh_json_init(&j, out);
	if (json)
		fh_json_obj_begin(&j);
	for (int c = 0; c < FH_IKE_CTR_MAX; c++) {
		if (json)
			fh_json_kv_u64(&j, fh_ike_ctr_name(c), fh_ike_counter(app->ike, c));
		else
			fprintf(out, "  %-28s %lu\n", fh_ike_ctr_name(c), (unsigned long)fh_ike_counter(app->ike, c));
	}
	if (json) {
		fh_json_obj_end(&j);
		return fh_json_finish(&j);
	}
	return 0;
}

static int help(FILE *out, bool json, int argc, char **argv, void *ctx);

const struct fh_ctl_cmd fh_commands[] = {
	{"show ip interface brief", "interfaces, addresses and states", NULL, show_ip_int_brief},
	{"show ip route *", "routes [static|connected|ikev2|nhrp] with IOS codes", fh_show_ip_route},
	{"show ip local pool *", "address pools [NAME: the addresses in use and their holders]", fh_show_ip_local_pool},
	{"show crypto session *", "IKEv2 sessions per tunnel and Virtual-Access [detail]", NULL, fh_show_crypto_session},
	{"clear crypto session *", "delete sessions [remote A.B.C.D]; their Virtual-Access and address go too",
	 fh_clear_crypto_session},
	{"show running-config", "the running config as normalized YAML", show_running},
	{"show counters", "data-plane, control-plane and port counters", show_counters},
	{"show crypto ipsec sa", "IPsec SAs with counters, SPIs, transforms, MTUs", NULL, show_crypto_ipsec_sa},
	{"show crypto ikev2 sa *", "IKEv2 SAs [detail]", NULL, show_crypto_ikev2_sa},
	{"show crypto ikev2 stats", "IKEv2 message and SA counters", show_crypto_ikev2_stats},
	{"clear crypto ikev2 sa *", "delete IKEv2 SAs [tunnel-id]; configured tunnels come back", clear_crypto_ikev2_sa},
	{"crypto ikev2 rekey *", "rekey now: child|ike [tunnel-id] (flexhub extension)", rekey_crypto_ikev2},
	{"crypto ipsec bench *", "install N | churn RATE SECONDS | status: SA table benchmark (flexhub extension)",
	 fh_bench_cmd},
	{"show version", "version and uptime", show_version},
	{"show debugging", "debug categories that are on", show_debugging},
	{"clear counters", "zero every counter", clear_counters},
	{"debug *", "debug CATEGORY: e.g. debug crypto ikev2 packet", debug_on},
	{"no debug *", "turn a debug category off", debug_off},
	{"undebug all", "turn every debug category off", undebug_all},
	{"configure replace", "reload the config file (as SIGHUP)", config_replace},
	{"help", "this list", help},
	{NULL, NULL, NULL},
};

static int help(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	(void)json;
	(void)argc;
	(void)argv;
	(void)ctx;
	for (const struct fh_ctl_cmd *c = fh_commands; c->words != NULL; c++)
		fprintf(out, "  %-26s %s\n", c->words, c->help);
	return 0;
}
