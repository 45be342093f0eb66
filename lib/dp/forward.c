/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stages after classification, each over a whole burst: ESP decap (+ GRE), FIB lookup,
 * tunnel encap (GRE + ESP), neighbour resolution and per-port TX. Packets travel between stages
 * as IPv4 packets without Ethernet; Ethernet is put back just before TX.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "fh_config.h"
#include "fh_dp.h"
#include "fh_gre.h"
#include "fh_stage.h"

static void drop(struct fh_stage *st, struct rte_mbuf *m, enum fh_dp_ctr c)
{
	fh_dp_count(st->ctr, c, 1);
	rte_pktmbuf_free(m);
}

/* RFC 1624 incremental update: TTL is the high byte of its 16-bit word. */
static inline void ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t sum = (uint32_t)rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100;

	ip->time_to_live--;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)(sum + (sum >> 16)));
}

/* A packet about to be routed: a sane IPv4 header, trimmed to its total length. */
static bool ip_valid(struct rte_mbuf *m)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), hlen, tot;

	if (m->nb_segs != 1 || len < 20)
		return false;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || hlen < 20 || tot < hlen || tot > len || rte_raw_cksum(ip, hlen) != 0xffff)
		return false;
	if (tot < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - tot));
	return true;
}

/* Dropped, and its sender told why (RFC 1812 4.3.2): the control lcore builds the ICMP error. */
static void drop_icmp(struct fh_stage *st, struct rte_mbuf *m, enum fh_dp_ctr c, uint8_t type, uint8_t code,
		      uint16_t mtu)
{
	fh_dp_count(st->ctr, c, 1);
	m->hash.fdir.hi = (uint32_t)type << 24 | (uint32_t)code << 16 | mtu;
	fh_stage_punt(st, m, FH_PUNT_ICMP_ERR);
}

void fh_stage_punt(struct fh_stage *st, struct rte_mbuf *m, enum fh_punt_kind kind)
{
	m->hash.usr = (uint32_t)kind;
	if (st->n_punt == FH_DP_BURST_MAX * 2) {
		drop(st, m, FH_CTR_DROP_PUNT_FULL);
		return;
	}
	st->punt[st->n_punt++] = m;
}

/* Ethernet on, queued for its port; or dropped and resolved when the neighbour is unknown. */
static void l2_out(struct fh_stage *st, struct rte_mbuf *m, uint16_t pi, uint32_t nexthop)
{
	const struct fh_dp_neigh *n = fh_dp_neigh_find(st->t, nexthop, pi);
	struct rte_ether_hdr *eth;

	if (n == NULL) {
		/* the control lcore ARPs and keeps a few packets per neighbour until the reply, as
		 * Linux does: a new peer's first answer is not lost */
		m->hash.usr = nexthop;
		m->port = pi;
		if (rte_ring_enqueue(st->dp->resolve, m) != 0) {
			drop(st, m, FH_CTR_DROP_NO_NEIGH);
			return;
		}
		fh_dp_count(st->ctr, FH_CTR_NEIGH_WAIT, 1);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL) {
		drop(st, m, FH_CTR_DROP_TX_FULL);
		return;
	}
	eth->dst_addr = n->mac;
	eth->src_addr = st->dp->port[pi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	st->tx[pi][st->n_tx[pi]++] = m;
	if (st->n_tx[pi] == FH_DP_BURST_MAX)
		fh_stage_flush_port(st, pi);
}

void fh_stage_flush_port(struct fh_stage *st, uint16_t pi)
{
	uint16_t n = st->n_tx[pi], sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(st->dp->port[pi].port_id, st->worker, st->tx[pi], n);
	fh_dp_count(st->ctr, FH_CTR_TX, sent);
	if (sent < n) {
		fh_dp_count(st->ctr, FH_CTR_DROP_TX_FULL, n - sent);
		rte_pktmbuf_free_bulk(&st->tx[pi][sent], n - sent);
	}
	st->n_tx[pi] = 0;
}

/* An encapsulated packet leaves through the port its outer destination routes to. */
static void route_outer(struct fh_stage *st, struct rte_mbuf *m, uint32_t dst)
{
	const struct fh_nh *nh = fh_fib_lookup(st->t->fib, dst);

	if (nh == NULL || (nh->kind != FH_NH_PORT && nh->kind != FH_NH_GATEWAY)) {
		/* a tunnel routed into a tunnel would recurse: refused like a missing route */
		drop(st, m, FH_CTR_DROP_NO_ROUTE);
		return;
	}
	l2_out(st, m, nh->port, nh->kind == FH_NH_GATEWAY ? nh->gw : dst);
}

static void tunnel_in(struct fh_stage *st, struct rte_mbuf *m, const struct fh_dp_tunnel *tun);

/*
 * RFC 791 fragmentation of an inner packet too big for the tunnel, each fragment into the tunnel
 * on its own. Fragments are fresh single-segment mbufs from the packet's pool (ESP wants them
 * linear); a packet with options is dropped instead (options would have to be sorted into
 * copied and not copied ones, and nothing sends them).
 */
static void fragment_into(struct fh_stage *st, struct rte_mbuf *m, const struct fh_dp_tunnel *tun)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t hlen = (uint32_t)(p[0] & 0x0f) * 4, tot = rte_pktmbuf_data_len(m);
	uint32_t chunk = (tun->mtu - hlen) & ~7u, off;
	uint16_t fo = rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)p)->fragment_offset);
	uint16_t base = fo & RTE_IPV4_HDR_OFFSET_MASK;
	bool more = (fo & RTE_IPV4_HDR_MF_FLAG) != 0;

	if (hlen != 20 || chunk < 8) {
		drop(st, m, FH_CTR_DROP_MTU);
		return;
	}
	for (off = hlen; off < tot; off += chunk) {
		uint32_t n = tot - off < chunk ? tot - off : chunk;
		struct rte_mbuf *f = rte_pktmbuf_alloc(m->pool);
		struct rte_ipv4_hdr *h = f != NULL ? (struct rte_ipv4_hdr *)rte_pktmbuf_append(f, (uint16_t)(hlen + n)) : NULL;
		bool last = off + n == tot;

		if (h == NULL) {
			rte_pktmbuf_free(f);
			drop(st, m, FH_CTR_DROP_TX_FULL);
			return;
		}
		memcpy(h, p, hlen);
		memcpy((uint8_t *)h + hlen, p + off, n);
		h->total_length = rte_cpu_to_be_16((uint16_t)(hlen + n));
		h->fragment_offset = rte_cpu_to_be_16((uint16_t)((base + (off - hlen) / 8) |
								 (!last || more ? RTE_IPV4_HDR_MF_FLAG : 0)));
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
		f->port = m->port;
		fh_dp_count(st->ctr, FH_CTR_FRAGMENTED, 1);
		tunnel_in(st, f, tun);
	}
	rte_pktmbuf_free(m);
}

/* Put GRE and its delivery header in front (FlexVPN's GRE over IPsec); queue for ESP. */
static void tunnel_in(struct fh_stage *st, struct rte_mbuf *m, const struct fh_dp_tunnel *tun)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t tot = (uint16_t)rte_pktmbuf_data_len(m);

	if (tun == NULL || !tun->up || tun->out == NULL) {
		drop(st, m, FH_CTR_DROP_TUNNEL_DOWN);
		return;
	}
	if (tot > tun->mtu) {
		/* DF: "fragmentation needed" with the tunnel's MTU, so the sender's PMTU discovery
		 * adapts (RFC 1191). Without DF: fragmented before encryption, as IOS does by default
		 * ("crypto ipsec fragmentation before-encryption"), so the peer gets whole ESP packets */
		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))
			drop_icmp(st, m, FH_CTR_DROP_MTU, 3, 4, tun->mtu);
		else
			fragment_into(st, m, tun);
		return;
	}
	ttl_dec(ip);
	if (tun->mode == FH_TUN_GRE) {
		uint32_t gl = fh_gre_hlen(tun->has_key);
		uint8_t tos = ip->type_of_service;
		uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(20 + gl));
		struct rte_ipv4_hdr *d = (struct rte_ipv4_hdr *)h;

		if (h == NULL) {
			drop(st, m, FH_CTR_DROP_TX_FULL);
			return;
		}
		fh_gre_write(h + 20, FH_GRE_PROTO_IPV4, tun->has_key, tun->key);
		d->version_ihl = 0x45;
		d->type_of_service = tos;
		d->total_length = rte_cpu_to_be_16((uint16_t)(tot + 20 + gl));
		d->packet_id = 0;
		d->fragment_offset = 0;
		d->time_to_live = 255;
		d->next_proto_id = IPPROTO_GRE;
		d->src_addr = rte_cpu_to_be_32(tun->src);
		d->dst_addr = rte_cpu_to_be_32(tun->dst);
		d->hdr_checksum = 0;
		d->hdr_checksum = rte_ipv4_cksum(d);
	}
	st->eo[st->n_eo] = m;
	st->eo_sa[st->n_eo++] = tun->out;
	if (st->n_eo == FH_ESP_BURST_MAX)
		fh_stage_esp_out(st);
}

void fh_stage_esp_out(struct fh_stage *st)
{
	uint8_t why[FH_ESP_BURST_MAX];
	uint16_t n = st->n_eo, ok;

	if (n == 0)
		return;
	st->n_eo = 0;
	ok = fh_esp_outbound(st->dp->esp[st->worker], st->eo, st->eo_sa, n, why);
	fh_dp_count(st->ctr, FH_CTR_ESP_OUT, ok);
	for (uint16_t i = ok; i < n; i++)
		drop(st, st->eo[i], FH_CTR_DROP_ESP_OTHER);
	for (uint16_t i = 0; i < ok; i++)
		route_outer(st, st->eo[i], st->eo_sa[i]->dst);
}

/* The checks before a route lookup; the next hop, or NULL when the packet was dropped or punted. */
static const struct fh_nh *forward_lookup(struct fh_stage *st, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	const struct fh_nh *nh;

	if (!ip_valid(m)) {
		drop(st, m, FH_CTR_DROP_BAD_IPV4);
		return NULL;
	}
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if (fh_dp_is_local(st->t, ip->dst_addr)) {
		if (ip->next_proto_id == IPPROTO_ICMP)
			fh_stage_punt(st, m, FH_PUNT_ICMP_IP);
		else
			drop(st, m, FH_CTR_DROP_LOCAL_PROTO);
		return NULL;
	}
	if (ip->time_to_live <= 1) {
		drop_icmp(st, m, FH_CTR_DROP_TTL, 11, 0, 0); /* time exceeded in transit */
		return NULL;
	}
	nh = fh_fib_lookup(st->t->fib, rte_be_to_cpu_32(ip->dst_addr));
	if (nh == NULL)
		drop(st, m, FH_CTR_DROP_NO_ROUTE);
	return nh;
}

static void forward_to(struct fh_stage *st, struct rte_mbuf *m, const struct fh_nh *nh,
		       const struct fh_dp_tunnel *tun)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	switch (nh->kind) {
	case FH_NH_PORT:
	case FH_NH_GATEWAY:
		fh_dp_count(st->ctr, FH_CTR_FORWARDED, 1);
		ttl_dec(ip);
		l2_out(st, m, nh->port, nh->kind == FH_NH_GATEWAY ? nh->gw : rte_be_to_cpu_32(ip->dst_addr));
		break;
	case FH_NH_TUNNEL:
		fh_dp_count(st->ctr, FH_CTR_FORWARDED, 1);
		tunnel_in(st, m, tun);
		break;
	case FH_NH_LOCAL:
		drop(st, m, FH_CTR_DROP_LOCAL_PROTO);
		break;
	default:
		drop(st, m, FH_CTR_DROP_NO_ROUTE);
		break;
	}
}

/*
 * A routing protocol's packet that came out of a tunnel (EIGRP, OSPF, BGP's TCP to one of our
 * addresses or to a link-local multicast group) goes to the control lcore, which hands it to the
 * tunnel's kernel mirror where FRR listens. Only when routing runs (dp->punt_routing): otherwise
 * they are what they always were (dropped as local protocols, or routed).
 */
static inline bool routing_punt(struct fh_stage *st, struct rte_mbuf *m, const struct fh_dp_tunnel *tun)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t dst;

	if (!st->dp->punt_routing || rte_pktmbuf_data_len(m) < 20)
		return false;
	if (ip[9] != 88 && ip[9] != 89 && ip[9] != IPPROTO_TCP)
		return false;
	memcpy(&dst, ip + 16, 4);
	if ((rte_be_to_cpu_32(dst) & 0xffffff00u) != 0xe0000000u && !fh_dp_is_local(st->t, dst))
		return false;
	fh_dp_count(st->ctr, FH_CTR_PUNT_ROUTING, 1);
	m->hash.fdir.hi = tun->slot;
	fh_stage_punt(st, m, FH_PUNT_ROUTING_IP);
	return true;
}

void fh_stage_out_port(struct fh_stage *st, struct rte_mbuf *m, uint16_t pi, uint32_t nexthop)
{
	if (!ip_valid(m) || pi >= st->dp->n_ports) {
		drop(st, m, FH_CTR_DROP_BAD_IPV4);
		return;
	}
	l2_out(st, m, pi, nexthop);
}

void fh_stage_into_tunnel(struct fh_stage *st, struct rte_mbuf *m, uint32_t slot)
{
	if (!ip_valid(m)) {
		drop(st, m, FH_CTR_DROP_BAD_IPV4);
		return;
	}
	tunnel_in(st, m, fh_dp_tunnel_get(st->t, slot));
}

/* The passenger, out of its tunnel: a Virtual-Access's peer may only send from its own addresses.
 * True when it may be routed; false when it was dropped. */
static inline bool inner_ok(struct fh_stage *st, struct rte_mbuf *m, const struct fh_dp_tunnel *tun)
{
	uint32_t src;

	if (tun->n_allow != 0) {
		/* first: a spoofed source does not reach the control plane either */
		if (rte_pktmbuf_data_len(m) < 20) {
			drop(st, m, FH_CTR_DROP_INNER);
			return false;
		}
		memcpy(&src, rte_pktmbuf_mtod_offset(m, const uint8_t *, 12), 4);
		if (!fh_dp_tunnel_allows(tun, rte_be_to_cpu_32(src))) {
			drop(st, m, FH_CTR_DROP_SPOOFED);
			return false;
		}
	}
	return !routing_punt(st, m, tun);
}

/*
 * Route a burst in three passes, so that the cache misses of a burst spread over thousands of
 * tunnels overlap instead of stalling one after another: checks and route lookups, each tunnel
 * entry prefetched; then each tunnel's outbound SA and session prefetched (the entries have
 * arrived meanwhile); then GRE and the ESP queue, by the time fh_stage_esp_out runs the SAs are
 * in cache.
 */
void fh_stage_forward_burst(struct fh_stage *st, struct rte_mbuf *m[], uint16_t n)
{
	const struct fh_esp_lcore *lc = st->dp->esp[st->worker];
	const struct fh_nh *nh[FH_DP_BURST_MAX];
	const struct fh_dp_tunnel *tun[FH_DP_BURST_MAX];

	for (uint16_t i = 0; i < n; i++) {
		nh[i] = forward_lookup(st, m[i]);
		tun[i] = nh[i] != NULL && nh[i]->kind == FH_NH_TUNNEL ? fh_dp_tunnel_get(st->t, nh[i]->tunnel) : NULL;
		if (tun[i] != NULL)
			rte_prefetch0(tun[i]);
	}
	for (uint16_t i = 0; i < n; i++)
		if (tun[i] != NULL && tun[i]->out != NULL)
			fh_sa_prefetch_head(tun[i]->out);
	for (uint16_t i = 0; i < n; i++)
		if (tun[i] != NULL && tun[i]->out != NULL)
			fh_sa_prefetch_sess(lc, tun[i]->out);
	for (uint16_t i = 0; i < n; i++)
		if (tun[i] != NULL && tun[i]->out != NULL)
			fh_sa_prefetch_ctr(lc, tun[i]->out, FH_SA_OUT);
	for (uint16_t i = 0; i < n; i++)
		if (nh[i] != NULL)
			forward_to(st, m[i], nh[i], tun[i]);
}

void fh_stage_forward(struct fh_stage *st, struct rte_mbuf *m)
{
	fh_stage_forward_burst(st, &m, 1);
}

/* What ESP carried into a tunnel: the GRE delivery packet or the passenger itself. True when the
 * passenger is to be routed; false when it was dropped or punted. */
static bool esp_in_done(struct fh_stage *st, struct rte_mbuf *m, uint32_t ti)
{
	const struct fh_dp_tunnel *tun = fh_dp_tunnel_get(st->t, ti);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	struct fh_gre_info g;
	uint32_t hlen, tot, src, dst;

	fh_dp_count(st->ctr, FH_CTR_ESP_IN, 1);
	if (tun == NULL) {
		/* its tunnel went while the packet was in flight */
		drop(st, m, FH_CTR_DROP_TUNNEL_DOWN);
		return false;
	}
	if (tun->mode != FH_TUN_GRE)
		return inner_ok(st, m, tun);
	if (!ip_valid(m) || ip[9] != IPPROTO_GRE) {
		drop(st, m, FH_CTR_DROP_INNER);
		return false;
	}
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = rte_pktmbuf_data_len(m);
	/* the delivery header must be the tunnel's own, reversed (the proxy identities); after ESP
	 * the header is not 4-byte aligned, hence the copies */
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if (rte_be_to_cpu_32(src) != tun->dst || rte_be_to_cpu_32(dst) != tun->src) {
		drop(st, m, FH_CTR_DROP_INNER);
		return false;
	}
	if (fh_gre_parse(ip + hlen, tot - hlen, tun->has_key, tun->key, &g) != FH_GRE_OK) {
		drop(st, m, FH_CTR_DROP_GRE);
		return false;
	}
	rte_pktmbuf_adj(m, (uint16_t)(hlen + g.hlen));
	if (g.proto == FH_GRE_PROTO_NHRP) {
		fh_dp_count(st->ctr, FH_CTR_PUNT_NHRP, 1);
		m->hash.fdir.hi = ti; /* the tunnel it came from */
		fh_stage_punt(st, m, FH_PUNT_NHRP);
		return false;
	}
	if (g.proto != FH_GRE_PROTO_IPV4) {
		drop(st, m, FH_CTR_DROP_INNER);
		return false;
	}
	return inner_ok(st, m, tun);
}

static enum fh_dp_ctr esp_drop_reason(uint8_t why)
{
	switch (why) {
	case FH_ESP_ERR_LEN: return FH_CTR_DROP_ESP_LEN;
	case FH_ESP_ERR_AUTH: return FH_CTR_DROP_ESP_AUTH;
	case FH_ESP_ERR_REPLAY: return FH_CTR_DROP_ESP_REPLAY;
	case FH_ESP_ERR_PAD: return FH_CTR_DROP_ESP_PAD;
	default: return FH_CTR_DROP_ESP_OTHER;
	}
}

void fh_stage_esp_in(struct fh_stage *st)
{
	uint8_t nh[FH_ESP_BURST_MAX], why[FH_ESP_BURST_MAX];
	uint16_t n = st->n_ei, ok, nf = 0;
	struct fh_sa **sas = st->ei_sa;
	struct rte_mbuf *fw[FH_ESP_BURST_MAX];

	if (n == 0)
		return;
	st->n_ei = 0;
	for (uint16_t i = 0; i < n; i++)
		st->ei[i]->hash.usr = sas[i]->tunnel; /* survives the partition below */
	ok = fh_esp_inbound(st->dp->esp[st->worker], st->ei, sas, n, nh, why);
	for (uint16_t i = ok; i < n; i++)
		drop(st, st->ei[i], esp_drop_reason(why[i]));
	for (uint16_t i = 0; i < ok; i++)
		if (esp_in_done(st, st->ei[i], st->ei[i]->hash.usr))
			fw[nf++] = st->ei[i];
	fh_stage_forward_burst(st, fw, nf);
}

/*
 * ESP to our addresses: the burst's SAs by SPI in one bulk hash lookup, each SA's first line
 * prefetched, then each packet handed to its SA's owner or queued for decryption here with the
 * rest of its SA prefetched. classify checked that the ESP headers are there.
 */
void fh_stage_esp_queue_burst(struct fh_stage *st, struct rte_mbuf *m[], uint16_t n)
{
	const struct fh_esp_lcore *lc = st->dp->esp[st->worker];
	uint32_t spi[FH_DP_BURST_MAX];
	const void *keys[FH_DP_BURST_MAX];
	void *data[FH_DP_BURST_MAX];
	uint64_t hit = 0;

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *ip = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint32_t off = (uint32_t)(ip[0] & 0x0f) * 4 + (ip[9] == IPPROTO_UDP ? 8 : 0);

		memcpy(&spi[i], ip + off, 4);
		spi[i] = rte_be_to_cpu_32(spi[i]);
		keys[i] = &spi[i];
	}
	if (rte_hash_lookup_bulk_data(st->t->sa_in, keys, n, &hit, data) < 0)
		hit = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (spi[i] == 0 || !(hit & (1ull << i)))
			data[i] = NULL;
		else
			rte_prefetch0(data[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *ip = rte_pktmbuf_mtod(m[i], const uint8_t *);
		struct fh_sa *sa = data[i];

		if (sa == NULL || (ip[9] == IPPROTO_UDP) != sa->udp_encap) {
			drop(st, m[i], FH_CTR_DROP_NO_SA);
			continue;
		}
		if (sa->owner != st->worker) {
			/* the replay window has one writer: its owner decrypts */
			if (rte_ring_enqueue(st->dp->handoff[sa->owner], m[i]) != 0) {
				drop(st, m[i], FH_CTR_DROP_HANDOFF_FULL);
				continue;
			}
			fh_dp_count(st->ctr, FH_CTR_HANDOFF, 1);
			continue;
		}
		fh_sa_prefetch(lc, sa, FH_SA_IN);
		st->ei[st->n_ei] = m[i];
		st->ei_sa[st->n_ei++] = sa;
		if (st->n_ei == FH_ESP_BURST_MAX)
			fh_stage_esp_in(st);
	}
}
