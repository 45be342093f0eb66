/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 engine on the control lcore: punted UDP 500/4500 in, messages out through worker 0
 * (routed like any packet we originate), and child SAs installed into the data-plane tables as
 * IKEv2 negotiates them. The newest pair of a tunnel carries its outbound traffic; every pair
 * still alive decrypts, so a rekey loses nothing (make-before-break).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "flexhub.h"

uint64_t fh_now_ms(void)
{
	return rte_get_timer_cycles() * 1000 / rte_get_timer_hz();
}

static void ike_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *msg,
		     size_t len)
{
	struct fh_app *app = ctx;
	/* port 4500 carries IKE behind a 4-byte non-ESP marker (RFC 3948 2.2); a lone 0xff byte is a
	 * NAT keepalive and goes as is */
	bool keepalive = len == 1 && msg[0] == 0xff;
	size_t marker = (l->port != FH_IKE_PORT && !keepalive) ? 4 : 0;
	size_t tot = 20 + 8 + marker + len;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	if (tot > 0xffff || tot > (size_t)rte_pktmbuf_data_room_size(app->pool) - RTE_PKTMBUF_HEADROOM ||
	    (m = rte_pktmbuf_alloc(app->pool)) == NULL) {
		app->cc[FH_CC_REPLY_DROPPED]++;
		return;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)tot);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		app->cc[FH_CC_REPLY_DROPPED]++;
		return;
	}
	udp = (struct rte_udp_hdr *)(ip + 1);
	memset(ip, 0, 28 + marker);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(l->ip);
	ip->dst_addr = rte_cpu_to_be_32(r->ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(l->port);
	udp->dst_port = rte_cpu_to_be_16(r->port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + marker + len));
	memcpy((uint8_t *)(udp + 1) + marker, msg, len);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	m->hash.usr = FH_TX_ROUTE;
	if (rte_ring_enqueue(app->dp.tx[0], m) != 0) {
		app->cc[FH_CC_REPLY_DROPPED]++;
		rte_pktmbuf_free(m);
		return;
	}
	app->cc[FH_CC_IKE_SENT]++;
}

static struct fh_sa *make_sa(const struct fh_app *app, const struct fh_ike_child_sa *c, uint8_t dir)
{
	const struct fh_crypto_engine *eng = fh_crypto_engine_get(fh_engine_name(app->cfg->dataplane.crypto_engine));
	bool in = dir == FH_SA_IN;
	struct fh_sa_params p = {
		.dir = dir, .spi = in ? c->spi_in : c->spi_out,
		.mode = c->transport ? FH_ESP_TRANSPORT : FH_ESP_TUNNEL, .encr = c->encr, .integ = c->integ,
		.esn = c->esn, .udp_encap = c->udp_encap,
		.src = in ? c->remote.ip : c->local.ip, .dst = in ? c->local.ip : c->remote.ip,
		.sport = in ? c->remote.port : c->local.port, .dport = in ? c->local.port : c->remote.port,
		.replay_win = c->replay_window,
		/* the volume limit is enforced here (the engine rekeys at 90 %); time is the engine's
		 * (it removes the pair at the end): life_seconds is for show commands only, as
		 * negotiated pairs are not aged by sa_lifetimes() */
		.life_bytes = c->life_kilobytes * 1024, .life_seconds = c->life_seconds,
		.n_lcores = app->dp.n_workers,
		.enc_key = in ? c->enc_in : c->enc_out, .enc_key_len = c->enc_len,
		.auth_key = in ? c->auth_in : c->auth_out, .auth_key_len = c->auth_len,
	};

	if (eng == NULL)
		return NULL;
	return fh_sa_create(&p, eng);
}

/* Tunnels are named to the engine by their interface handle: stable across reloads while the
 * name stays, stale once the interface is gone. */
static uint32_t tunnel_handle(void *ctx, const char *name)
{
	struct fh_app *app = ctx;
	int slot = fh_iface_find(&app->ifs, name);

	return slot >= 0 ? app->ifs.v[slot].handle : FH_HANDLE_NONE;
}

static int child_up(void *ctx, const struct fh_ike_child_sa *c)
{
	struct fh_app *app = ctx;
	fh_handle_t tun = c->tunnel;
	struct fh_app_pair *u;
	struct fh_sadb_pair *p;
	struct fh_sa *in, *out;

	if (fh_iface_slot(&app->ifs, tun) < 0)
		return -1;
	u = calloc(1, sizeof(*u));
	in = make_sa(app, c, FH_SA_IN);
	out = make_sa(app, c, FH_SA_OUT);
	if (u == NULL || in == NULL || out == NULL) {
		free(u);
		fh_sa_destroy(in);
		fh_sa_destroy(out);
		return -1;
	}
	u->replay_window = c->replay_window;
	p = fh_sa_install(app, tun, in, out, FH_SADB_IKE, c->standby ? FH_SADB_STANDBY : FH_SADB_ACTIVE, u);
	if (p == NULL) {
		fh_log(FH_LOG_ERR, "crypto ipsec", "child SA 0x%08x: not installed (%s)", c->spi_in, strerror(errno));
		return -1;
	}
	p->ike_id = c->ike_id;
	return 0;
}

/* The installed pair with these SPIs, or NULL. O(1). */
static struct fh_sadb_pair *find_pair(struct fh_app *app, uint32_t spi_in, uint32_t spi_out)
{
	struct fh_sadb_pair *p = fh_sadb_find_spi(app->sadb, spi_in);

	return p != NULL && p->spi_out == spi_out && p->origin == FH_SADB_IKE ? p : NULL;
}

static void child_down(void *ctx, uint32_t tunnel, uint32_t spi_in, uint32_t spi_out)
{
	struct fh_app *app = ctx;
	struct fh_sadb_pair *p = find_pair(app, spi_in, spi_out), *q;
	fh_handle_t tun;

	if (p == NULL || p->tunnel != tunnel)
		return;
	tun = p->tunnel;
	fh_sa_retire(app, p);
	/* the old pair of a rekey is gone: the pairs waiting on standby carry the tunnel now */
	if (fh_sadb_outbound(app->sadb, tun) != NULL && fh_sadb_outbound(app->sadb, tun)->state == FH_SADB_ACTIVE)
		return;
	for (q = fh_sadb_tunnel_first(app->sadb, tun); q != NULL; q = fh_sadb_tunnel_next(app->sadb, q))
		if (q->state == FH_SADB_STANDBY)
			fh_sa_set_state(app, q, FH_SADB_ACTIVE);
}

static bool child_counts(void *ctx, uint32_t spi_in, uint32_t spi_out, struct fh_ike_child_counts *n)
{
	const struct fh_sadb_pair *s = find_pair(ctx, spi_in, spi_out);

	if (s == NULL)
		return false;
	struct fh_sa_stats in, out;

	fh_sa_stats_read(s->in, &in);
	fh_sa_stats_read(s->out, &out);
	n->in_pkts = in.pkts;
	n->out_pkts = out.pkts;
	n->in_bytes = in.bytes;
	n->out_bytes = out.bytes;
	return true;
}

/* Workers read an SA's outer address and port per packet: single aligned stores, and a packet
 * built between the two goes to a half-updated address at worst, once. */
static void child_peer(void *ctx, uint32_t spi_in, uint32_t spi_out, const struct fh_ike_addr *l,
		       const struct fh_ike_addr *r)
{
	struct fh_sadb_pair *s = find_pair(ctx, spi_in, spi_out);

	if (s == NULL)
		return;
	__atomic_store_n(&s->out->dst, r->ip, __ATOMIC_RELAXED);
	__atomic_store_n(&s->out->dport, r->port, __ATOMIC_RELAXED);
	__atomic_store_n(&s->out->sport, l->port, __ATOMIC_RELAXED);
	s->in->src = r->ip;
	s->in->sport = r->port;
	s->dst = r->ip;
}

static uint32_t tunnel_src(void *ctx, uint32_t tunnel)
{
	struct fh_app *app = ctx;
	int slot = fh_iface_slot(&app->ifs, tunnel);

	if (slot < 0 || !app->ifs.v[slot].admin_up || app->ifs.v[slot].cfg_idx < 0)
		return 0;
	return fh_tunnel_source(app, &app->cfg->iface[app->ifs.v[slot].cfg_idx]);
}

static const struct fh_ike_ops ike_ops = {
	.send = ike_send, .child_up = child_up, .child_down = child_down, .child_counts = child_counts,
	.child_peer = child_peer,
	.tunnel_source = tunnel_src, .tunnel_handle = tunnel_handle,
	.session_up = fh_session_up, .session_down = fh_session_down,
};

int fh_ike_glue_start(struct fh_app *app)
{
	app->ike = fh_ike_new(app->cfg, &ike_ops, app);
	return app->ike != NULL ? 0 : -1;
}

void fh_ike_glue_stop(struct fh_app *app)
{
	fh_ike_free(app->ike, fh_now_ms());
	app->ike = NULL;
}

/* A new config: the engine deletes the IKE SAs whose tunnel went; the rest keep their tunnel. */
void fh_ike_glue_reload(struct fh_app *app)
{
	fh_ike_set_config(app->ike, app->cfg, fh_now_ms());
}

/* A punted IKE datagram: Ethernet, IPv4 (checked by the worker), UDP 500 or 4500. */
void fh_ike_punt(struct fh_app *app, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), hl, ulen, off;
	const struct rte_ipv4_hdr *ip;
	struct fh_ike_addr l, r;

	if (len < 14 + 20 + 8 || m->nb_segs != 1)
		goto bad;
	ip = (const struct rte_ipv4_hdr *)(p + 14);
	hl = rte_ipv4_hdr_len(ip);
	if (len < 14 + hl + 8)
		goto bad;
	ulen = (uint32_t)p[14 + hl + 4] << 8 | p[14 + hl + 5];
	if (ulen < 8 || 14 + hl + ulen > len)
		goto bad;
	l.ip = rte_be_to_cpu_32(ip->dst_addr);
	r.ip = rte_be_to_cpu_32(ip->src_addr);
	r.port = (uint16_t)(p[14 + hl] << 8 | p[14 + hl + 1]);
	l.port = (uint16_t)(p[14 + hl + 2] << 8 | p[14 + hl + 3]);
	off = 14 + hl + 8;
	ulen -= 8;
	if (l.port == FH_IKE_NATT_PORT) {
		if (ulen == 1 && p[off] == 0xff) { /* NAT keepalive: nothing to answer */
			app->cc[FH_CC_NATT_KEEPALIVE]++;
			rte_pktmbuf_free(m);
			return;
		}
		if (ulen < 4 || p[off] | p[off + 1] | p[off + 2] | p[off + 3])
			goto bad;
		off += 4;
		ulen -= 4;
	}
	fh_ike_input(app->ike, &l, &r, p + off, ulen, fh_now_ms());
	rte_pktmbuf_free(m);
	return;
bad:
	app->cc[FH_CC_IKE_MALFORMED]++;
	rte_pktmbuf_free(m);
}
