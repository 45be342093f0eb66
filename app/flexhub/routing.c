/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing through FRR (the router block), the way VPP's linux-cp lets FRR route for VPP:
 * - every interface the router block covers (its address inside a `networks` line: tunnels,
 *   Virtual-Access clones of a covered template, loopbacks, LAN ports) gets a kernel mirror, a TUN
 *   device named by IOS's short form (lib/frr: Tu0, Va12, Gi2), with its address and MTU;
 * - FRR's daemons (managed: zebra and one per protocol, configured from lib/frr's frr.conf, run as
 *   user frr in flexhub's network namespace) see those devices and install what they learn into
 *   the kernel; flexhub listens to the kernel's route messages (lib/rtnl) and offers each route to
 *   its own FIB with the mirror's interface as next hop, withdrawn when FRR withdraws it;
 * - with routing.frr external, FRR is someone else's: only the mirrors and the sync run.
 * Everything here is the control lcore's; the syscalls are, too (never a worker's).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>

#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fh_frr.h"
#include "fh_rtnl.h"
#include "flexhub.h"

#define FRR_DAEMONS_MAX 4
#define RESTARTS_MAX 5
#define RESTART_WINDOW_S 60

struct fh_mirror {
	int fd;                  /* the TUN device; -1 none */
	uint32_t ifindex;
	char name[FH_FRR_IFNAMSIZ];
};

struct fh_routing {
	struct mnl_socket *ev;   /* route events (RTMGRP_IPV4_ROUTE), non-blocking */
	struct mnl_socket *rq;   /* requests with acks, and the start-up dump */
	uint32_t seq;
	struct fh_mirror *m;     /* by interface slot */
	uint32_t n_mirrors;
	struct fh_map by_ifindex; /* kernel ifindex -> slot */
	char dir[FH_DEVARGS_MAX];
	pid_t pid[FRR_DAEMONS_MAX];
	char daemon[FRR_DAEMONS_MAX][16];
	uint32_t n_pid;
	/* a daemon that dies is started again, as FRR's watchfrr would, at most RESTARTS_MAX times
	 * per RESTART_WINDOW_S (past that, a crash loop: it stays down, said once) */
	uint32_t n_restarts[FRR_DAEMONS_MAX];
	time_t window_start[FRR_DAEMONS_MAX];
	uint64_t routes_in, routes_out, routes_bad;
	time_t last_reap;
	int ep;                  /* epoll of the mirrors' descriptors: only readable ones are read */
	uint8_t buf[32768];      /* one netlink datagram (a dump part is at most a page or two) */
};

static bool covered(const struct fh_config *cfg, uint32_t addr)
{
	for (uint32_t i = 0; i < cfg->n_router; i++)
		/* BGP runs over TCP to any address: every interface with one takes part */
		if (strcmp(cfg->router[i].hdr.name, "bgp") == 0)
			return true;
	for (uint32_t i = 0; i < cfg->n_router; i++)
		for (uint32_t k = 0; k < cfg->router[i].n_network; k++) {
			const struct fh_ace *a = &cfg->router[i].network[k];

			if (((addr ^ a->addr) & ~a->wildcard) == 0)
				return true;
		}
	return false;
}

/* Does this interface take part in routing (IOS: a network statement covers its address)? */
static bool routed(const struct fh_app *app, int slot, uint32_t *addr, uint8_t *plen)
{
	const struct fh_iface *f = &app->ifs.v[slot];

	if (!f->used || f->kind == FH_IF_VTEMPLATE || !fh_iface_addr(&app->ifs, slot, addr, plen))
		return false;
	return covered(app->cfg, *addr);
}

/* One request, answered by an ACK or an error; -errno or 0. */
static int request(struct fh_routing *r, void *msg, int len)
{
	uint32_t seq = ((struct nlmsghdr *)msg)->nlmsg_seq;
	int n;

	if (len < 0 || mnl_socket_sendto(r->rq, msg, (size_t)len) < 0)
		return -errno;
	n = (int)mnl_socket_recvfrom(r->rq, r->buf, sizeof(r->buf));
	if (n < 0)
		return -errno;
	n = fh_rtnl_ack(r->buf, (size_t)n, seq);
	return n == 1 ? -EPROTO : n;
}

static uint32_t mirror_mtu(const struct fh_app *app, int slot)
{
	const struct fh_iface *f = &app->ifs.v[slot];
	const struct fh_dp_tunnel *t = fh_dp_tunnel_get(&app->dp.tables, (uint32_t)slot);

	if (f->kind == FH_IF_PHYSICAL && f->cfg_idx >= 0)
		return app->cfg->iface[f->cfg_idx].mtu;
	if (t != NULL && t->mtu != 0)
		return t->mtu;
	return 1400; /* a tunnel before its first SA: GRE over ESP leaves about this much */
}

/*
 * flexhub's own routes into an interface with a mirror, offered to the kernel as protocol
 * "static" routes through that mirror: FRR sees them (`redistribute static|ikev2` is FRR's
 * `redistribute kernel`), and the namespace's own traffic (FRR's BGP sessions to a hub's
 * loopback learned by mode-config) follows them. They go with the mirror.
 */
void fh_routing_export(struct fh_app *app, int slot, uint32_t prefix, uint8_t len)
{
	struct fh_routing *r = app->rt;
	struct fh_rtnl_route rt = {.add = true, .prefix = prefix, .len = len, .table = RT_TABLE_MAIN,
				   .protocol = FH_RTPROT_STATIC, .type = RTN_UNICAST};
	uint8_t msg[256];
	int rc;

	if (r == NULL || slot < 0 || (uint32_t)slot >= app->lim.interfaces || r->m[slot].fd < 0)
		return;
	rt.oif = r->m[slot].ifindex;
	rc = request(r, msg, fh_rtnl_build_route(msg, sizeof(msg), &rt, ++r->seq));
	if (rc < 0)
		fh_log(FH_LOG_WARN, "routing", "%u.%u.%u.%u/%u via %s not offered to the kernel: %s", prefix >> 24,
		       (prefix >> 16) & 0xff, (prefix >> 8) & 0xff, prefix & 0xff, len, r->m[slot].name, strerror(-rc));
}

/* What flexhub routes into this interface when its mirror appears: the config's static routes
 * naming it, and its session's (pushed or announced networks, the peer's address). */
static void export_slot(struct fh_app *app, int slot)
{
	const struct fh_config *cfg = app->cfg;
	const struct fh_session *ss = fh_session_of(app, slot);

	for (uint32_t i = 0; i < cfg->n_route; i++) {
		const struct fh_cfg_route *c = &cfg->route[i];

		if (c->if_idx >= 0 && !c->has_next_hop && strcmp(cfg->iface[c->if_idx].hdr.name, app->ifs.v[slot].name) == 0)
			fh_routing_export(app, slot, c->prefix.addr, c->prefix.len);
	}
	if (ss == NULL)
		return;
	if (ss->vaccess && ss->addr != 0)
		fh_routing_export(app, slot, ss->addr, 32);
	for (uint8_t i = 0; i < ss->n_net; i++)
		fh_routing_export(app, slot, ss->net[i].addr & ss->net[i].mask, (uint8_t)__builtin_popcount(ss->net[i].mask));
}

static int mirror_open(struct fh_app *app, int slot, uint32_t addr, uint8_t plen)
{
	struct fh_routing *r = app->rt;
	struct fh_mirror *m = &r->m[slot];
	struct ifreq ifr;
	uint8_t msg[256];
	int fd, rc;

	if (fh_frr_ifname(app->ifs.v[slot].name, m->name, sizeof(m->name)) < 0) {
		fh_log(FH_LOG_ERR, "routing", "%s: no kernel name fits for its mirror", app->ifs.v[slot].name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fh_log(FH_LOG_ERR, "routing", "%s: /dev/net/tun: %s", app->ifs.v[slot].name, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", m->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || (m->ifindex = if_nametoindex(m->name)) == 0) {
		fh_log(FH_LOG_ERR, "routing", "%s: mirror %s: %s", app->ifs.v[slot].name, m->name, strerror(errno));
		close(fd);
		return -1;
	}
	m->fd = fd;
	rc = request(r, msg, fh_rtnl_build_addr(msg, sizeof(msg), m->ifindex, addr, plen, ++r->seq));
	if (rc == 0)
		rc = request(r, msg, fh_rtnl_build_link(msg, sizeof(msg), m->ifindex, true, mirror_mtu(app, slot), ++r->seq));
	if (rc < 0)
		fh_log(FH_LOG_ERR, "routing", "%s: mirror %s: address or state not set: %s", app->ifs.v[slot].name, m->name,
		       strerror(-rc));
	fh_map_put(&r->by_ifindex, m->ifindex, (uint32_t)slot);
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)slot};

		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			fh_log(FH_LOG_ERR, "routing", "%s: epoll: %s", m->name, strerror(errno));
	}
	r->n_mirrors++;
	fh_debug("ip routing", "%s: kernel mirror %s (ifindex %u)", app->ifs.v[slot].name, m->name, m->ifindex);
	export_slot(app, slot);
	return 0;
}

static void mirror_close(struct fh_app *app, int slot)
{
	struct fh_routing *r = app->rt;
	struct fh_mirror *m = &r->m[slot];

	if (m->fd < 0)
		return;
	/* FRR's routes through it: the kernel drops them with the device, and so do we */
	if (app->dp.tables.fib != NULL)
		fh_fib_del_owner(app->dp.tables.fib, FH_FIB_OWNER_FRR(slot));
	fh_map_del(&r->by_ifindex, m->ifindex);
	epoll_ctl(r->ep, EPOLL_CTL_DEL, m->fd, NULL);
	close(m->fd); /* a non-persistent TUN device goes with its last descriptor */
	m->fd = -1;
	r->n_mirrors--;
}

void fh_routing_iface(struct fh_app *app, int slot, bool up)
{
	uint32_t a;
	uint8_t l;

	if (app->rt == NULL || slot < 0 || (uint32_t)slot >= app->lim.interfaces)
		return;
	if (!up) {
		mirror_close(app, slot);
		return;
	}
	if (app->rt->m[slot].fd < 0 && routed(app, slot, &a, &l))
		mirror_open(app, slot, a, l);
}

/* A tunnel whose IPsec SA went (line protocol down, as IOS says) takes its mirror down with it:
 * the kernel and zebra drop the routes through it, and the FIB follows their withdrawals. */
void fh_routing_link(struct fh_app *app, int slot, bool up)
{
	struct fh_routing *r = app->rt;
	uint8_t msg[256];
	int rc;

	if (r == NULL || slot < 0 || (uint32_t)slot >= app->lim.interfaces || r->m[slot].fd < 0)
		return;
	rc = request(r, msg, fh_rtnl_build_link(msg, sizeof(msg), r->m[slot].ifindex, up, up ? mirror_mtu(app, slot) : 0,
						++r->seq));
	if (rc < 0)
		fh_log(FH_LOG_ERR, "routing", "mirror %s: not set %s: %s", r->m[slot].name, up ? "up" : "down", strerror(-rc));
	/* routes zebra had through it leave the kernel without a message per route when the link
	 * goes down: withdraw ours through it now */
	if (!up)
		fh_fib_del_owner(app->dp.tables.fib, FH_FIB_OWNER_FRR(slot));
}

/* ---- packets between the tunnels and the mirrors ---- */

void fh_routing_punt(struct fh_app *app, struct rte_mbuf *m)
{
	struct fh_routing *r = app->rt;
	uint32_t slot = m->hash.fdir.hi;

	if (r == NULL || slot >= app->lim.interfaces || r->m[slot].fd < 0 || rte_pktmbuf_is_contiguous(m) == 0 ||
	    write(r->m[slot].fd, rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m)) < 0)
		app->cc[FH_CC_MIRROR_DROPPED]++;
	else
		app->cc[FH_CC_MIRROR_IN]++;
	rte_pktmbuf_free(m);
}

static bool group_frame(struct fh_app *app, struct rte_mbuf *m, uint16_t pi)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));

	if (eth == NULL || pi >= app->dp.n_ports)
		return false;
	/* ip still points at the packet: the Ethernet header went into the headroom before it */
	eth->dst_addr = (struct rte_ether_addr){{0x01, 0x00, 0x5e, (uint8_t)(ip[17] & 0x7f), ip[18], ip[19]}};
	eth->src_addr = app->dp.port[pi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	m->port = app->dp.port[pi].port_id;
	m->hash.usr = FH_TX_FRAME;
	return true;
}

/* A unicast FRR sends out of a LAN port's mirror (EIGRP's reliable updates, BGP): to the next
 * hop the FIB names for it on that port, without the TTL check of transit traffic (FRR sends
 * TTL 1 to its neighbours). */
static bool port_unicast(struct fh_app *app, struct rte_mbuf *m, const struct fh_iface *f)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	const struct fh_nh *nh = fh_fib_lookup(app->dp.tables.fib, dst);

	if (f->kind != FH_IF_PHYSICAL || f->port < 0 || nh == NULL ||
	    (nh->kind != FH_NH_PORT && nh->kind != FH_NH_GATEWAY) || nh->port != (uint16_t)f->port)
		return false;
	m->port = (uint16_t)f->port;
	m->hash.usr = FH_TX_PORT;
	m->hash.fdir.hi = nh->kind == FH_NH_GATEWAY ? nh->gw : dst;
	return true;
}

/* What FRR sent out of a mirror: into that interface (a tunnel: whatever the destination, so a
 * hello to 224.0.0.10 goes through the tunnel it was sent on), or routed (a port's mirror). */
static void mirror_read(struct fh_app *app, uint32_t slot)
{
	struct fh_routing *r = app->rt;
	const struct fh_iface *f = &app->ifs.v[slot];

	for (int k = 0; k < 32; k++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(app->pool);
		uint16_t room;
		ssize_t n;

		if (m == NULL) {
			app->cc[FH_CC_MIRROR_DROPPED]++;
			return;
		}
		room = (uint16_t)(rte_pktmbuf_tailroom(m));
		n = read(r->m[slot].fd, rte_pktmbuf_mtod(m, void *), room);
		if (n <= 0) {
			rte_pktmbuf_free(m);
			return;
		}
		if (n < 20 || (rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4) != 4) {
			rte_pktmbuf_free(m); /* IPv6 router solicitations and the like: not ours */
			continue;
		}
		rte_pktmbuf_append(m, (uint16_t)n);
		if (f->kind == FH_IF_TUNNEL || f->kind == FH_IF_VACCESS) {
			m->hash.usr = FH_TX_TUNNEL;
			m->hash.fdir.hi = slot;
		} else if ((rte_pktmbuf_mtod(m, const uint8_t *)[16] & 0xf0) == 0xe0) {
			/* a hello to a group on a LAN: out of that port to the group's MAC (RFC 1112 6.4) */
			if (f->kind != FH_IF_PHYSICAL || f->port < 0 || !group_frame(app, m, (uint16_t)f->port)) {
				app->cc[FH_CC_MIRROR_DROPPED]++;
				rte_pktmbuf_free(m);
				continue;
			}
		} else if (!port_unicast(app, m, f)) {
			app->cc[FH_CC_MIRROR_DROPPED]++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (rte_ring_enqueue(app->dp.tx[0], m) != 0) {
			app->cc[FH_CC_MIRROR_DROPPED]++;
			rte_pktmbuf_free(m);
			continue;
		}
		app->cc[FH_CC_MIRROR_OUT]++;
	}
}

static void mirrors_poll(struct fh_app *app)
{
	struct epoll_event ev[32];
	int n = epoll_wait(app->rt->ep, ev, 32, 0);

	for (int i = 0; i < n; i++)
		if (app->rt->m[ev[i].data.u32].fd >= 0)
			mirror_read(app, ev[i].data.u32);
}

/* ---- FRR's daemons ---- */

static const char *state_dir(const struct fh_config *cfg, char *buf, size_t len)
{
	if (cfg->routing.state_dir[0])
		snprintf(buf, len, "%s", cfg->routing.state_dir);
	else
		snprintf(buf, len, "/run/flexhub-%s-frr", cfg->hostname);
	return buf;
}

static int write_conf(struct fh_app *app, const char *path, uid_t uid, gid_t gid)
{
	char log[FH_DEVARGS_MAX + 16];
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	snprintf(log, sizeof(log), "%s/frr.log", app->rt->dir);
	rc = fh_frr_conf(f, app->cfg, log);
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && chown(path, uid, gid) < 0)
		rc = -1;
	return rc;
}

static pid_t launch(struct fh_app *app, const char *daemon)
{
	struct fh_routing *r = app->rt;
	char bin[FH_DEVARGS_MAX + 32], conf[FH_DEVARGS_MAX + 16], pidf[FH_DEVARGS_MAX + 32],
		zs[FH_DEVARGS_MAX + 16], logf[FH_DEVARGS_MAX + 40];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/%s", app->cfg->routing.frr_dir, daemon);
	snprintf(conf, sizeof(conf), "%s/frr.conf", r->dir);
	snprintf(pidf, sizeof(pidf), "%s/%s.pid", r->dir, daemon);
	snprintf(zs, sizeof(zs), "%s/zserv.api", r->dir);
	snprintf(logf, sizeof(logf), "file:%s/%s.log", r->dir, daemon);
	pid = fork();
	if (pid == 0) {
		/* out of our process group: a Ctrl-C reaches flexhub, which stops FRR itself */
		setsid();
		execl(bin, daemon, "-f", conf, "-i", pidf, "-z", zs, "--vty_socket", r->dir, "-u", "frr", "-g", "frr",
		      "--log", logf, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		fh_log(FH_LOG_ERR, "routing", "cannot start %s: %s", bin, strerror(errno));
		return -1;
	}
	fh_log(FH_LOG_INFO, "routing", "started FRR's %s (pid %d; vtysh --vty_socket %s)", daemon, (int)pid, r->dir);
	return pid;
}

static void spawn(struct fh_app *app, const char *daemon)
{
	struct fh_routing *r = app->rt;

	if (r->n_pid == FRR_DAEMONS_MAX)
		return;
	snprintf(r->daemon[r->n_pid], sizeof(r->daemon[0]), "%s", daemon);
	r->pid[r->n_pid] = launch(app, daemon);
	r->n_restarts[r->n_pid] = 0;
	r->n_pid++;
}

/* Every directory above dir must be searchable by others, or FRR (user frr) cannot reach it. */
static void reachable(const char *dir)
{
	char up[FH_DEVARGS_MAX];
	struct stat st;
	char *sl;

	snprintf(up, sizeof(up), "%s", dir);
	while ((sl = strrchr(up, '/')) != NULL && sl != up) {
		*sl = '\0';
		if (stat(up, &st) == 0 && (st.st_mode & S_IXOTH) == 0)
			fh_log(FH_LOG_ERR, "routing", "%s is not searchable by others: FRR (user frr) cannot reach %s; choose "
			       "routing.state-dir elsewhere", up, dir);
	}
}

static int frr_start(struct fh_app *app)
{
	struct fh_routing *r = app->rt;
	const struct passwd *pw = getpwnam("frr");
	const struct group *gr = getgrnam("frr");
	char conf[FH_DEVARGS_MAX + 16];

	if (pw == NULL || gr == NULL) {
		fh_log(FH_LOG_ERR, "routing", "FRR's user frr does not exist: install FRR (Debian package frr) or set "
					      "routing.frr: external");
		return -1;
	}
	if (mkdir(r->dir, 0750) < 0 && errno != EEXIST) {
		fh_log(FH_LOG_ERR, "routing", "%s: %s", r->dir, strerror(errno));
		return -1;
	}
	/* FRR drops root for user frr: its sockets, pid files and logs are in a directory it owns,
	 * and every directory above must let it through */
	if (chown(r->dir, pw->pw_uid, gr->gr_gid) < 0)
		fh_log(FH_LOG_WARN, "routing", "%s: chown: %s", r->dir, strerror(errno));
	reachable(r->dir);
	snprintf(conf, sizeof(conf), "%s/frr.conf", r->dir);
	if (write_conf(app, conf, pw->pw_uid, gr->gr_gid) < 0) {
		fh_log(FH_LOG_ERR, "routing", "%s: cannot write: %s", conf, strerror(errno));
		return -1;
	}
	spawn(app, "zebra");
	for (uint32_t i = 0; i < app->cfg->n_router; i++) {
		const char *n = app->cfg->router[i].hdr.name;

		spawn(app, strcmp(n, "eigrp") == 0 ? "eigrpd" : strcmp(n, "ospf") == 0 ? "ospfd" : "bgpd");
	}
	return 0;
}

static void frr_stop(struct fh_app *app)
{
	struct fh_routing *r = app->rt;

	for (uint32_t i = 0; i < r->n_pid; i++)
		if (r->pid[i] > 0)
			kill(r->pid[i], SIGTERM);
	for (uint32_t i = 0; i < r->n_pid; i++) {
		int st;

		if (r->pid[i] <= 0)
			continue;
		for (int t = 0; t < 200 && waitpid(r->pid[i], &st, WNOHANG) == 0; t++)
			usleep(10000);
		if (waitpid(r->pid[i], &st, WNOHANG) == 0) {
			kill(r->pid[i], SIGKILL);
			waitpid(r->pid[i], &st, 0);
		}
	}
	r->n_pid = 0;
}

/* ---- routes from the kernel ---- */

static void route_src(uint8_t proto, uint8_t *src, uint8_t *dist)
{
	switch (proto) {
	case FH_RTPROT_EIGRP: *src = FH_RT_EIGRP; *dist = 90; break;
	case FH_RTPROT_OSPF: *src = FH_RT_OSPF; *dist = 110; break;
	case FH_RTPROT_BGP: *src = FH_RT_BGP; *dist = 20; break;
	default: *src = FH_RT_FRR; *dist = 1; break;
	}
}

static void route_msg(struct fh_app *app, const struct nlmsghdr *nlh)
{
	struct fh_routing *r = app->rt;
	struct fh_rtnl_route rt;
	struct fh_nh nh = {0};
	uint8_t src, dist;
	uint32_t slot;
	int rc = fh_rtnl_parse_route(nlh, nlh->nlmsg_len, &rt);

	if (rc == FH_RTNL_BAD) {
		r->routes_bad++;
		return;
	}
	/* the kernel's own (our mirrors' connected routes) and other tables are not FRR's word */
	if (rc != FH_RTNL_OK || rt.protocol <= FH_RTPROT_STATIC || rt.table != RT_TABLE_MAIN ||
	    rt.type != RTN_UNICAST || !fh_map_get(&r->by_ifindex, rt.oif, &slot))
		return;
	route_src(rt.protocol, &src, &dist);
	if (!rt.add) {
		if (fh_fib_del(app->dp.tables.fib, rt.prefix, rt.len, src, FH_FIB_OWNER_FRR(slot)) == 0)
			r->routes_out++;
		return;
	}
	nh.if_idx = (int32_t)slot;
	if (app->ifs.v[slot].kind == FH_IF_PHYSICAL) {
		nh.kind = rt.has_gw ? FH_NH_GATEWAY : FH_NH_PORT;
		nh.port = (uint16_t)app->ifs.v[slot].port;
		nh.gw = rt.gw;
	} else {
		nh.kind = FH_NH_TUNNEL;
		nh.tunnel = slot;
		nh.gw = rt.gw; /* shown as "via", not used to forward */
	}
	if (fh_fib_add(app->dp.tables.fib, rt.prefix, rt.len, src, dist, &nh, FH_FIB_OWNER_FRR(slot)) < 0) {
		app->cc[FH_CC_ROUTE_LIMIT]++;
		fh_log(FH_LOG_ERR, "routing", "FRR's route %u.%u.%u.%u/%u not installed: %s", rt.prefix >> 24,
		       (rt.prefix >> 16) & 0xff, (rt.prefix >> 8) & 0xff, rt.prefix & 0xff, rt.len, strerror(errno));
		return;
	}
	r->routes_in++;
}

/* The route messages of one datagram; true when it ended a dump (NLMSG_DONE or an error). */
static bool messages(struct fh_app *app, const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= (uint32_t)left; nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
		if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE)
			route_msg(app, nlh);
	}
	return false;
}

/* A daemon of ours that died is said, with where to look, and started again (zebra drops the routes
 * of a daemon that went; the new one learns them again); a crash loop stops after RESTARTS_MAX. */
static void reap(struct fh_app *app, time_t now)
{
	struct fh_routing *r = app->rt;

	for (uint32_t i = 0; i < r->n_pid; i++) {
		int st;

		if (r->pid[i] <= 0 || waitpid(r->pid[i], &st, WNOHANG) != r->pid[i])
			continue;
		fh_log(FH_LOG_ERR, "routing", "FRR's %s exited (%s %d); see %s/%s.log", r->daemon[i],
		       WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), r->dir,
		       r->daemon[i]);
		r->pid[i] = -1;
		if (now - r->window_start[i] >= RESTART_WINDOW_S) {
			r->window_start[i] = now;
			r->n_restarts[i] = 0;
		}
		if (r->n_restarts[i]++ >= RESTARTS_MAX) {
			fh_log(FH_LOG_ERR, "routing", "FRR's %s died %d times within %d s: not started again", r->daemon[i],
			       RESTARTS_MAX, RESTART_WINDOW_S);
			continue;
		}
		r->pid[i] = launch(app, r->daemon[i]);
		app->cc[FH_CC_FRR_RESTARTS]++;
	}
}

void fh_routing_poll(struct fh_app *app)
{
	struct fh_routing *r = app->rt;
	time_t now = time(NULL);

	if (r == NULL)
		return;
	if (now != r->last_reap) {
		r->last_reap = now;
		reap(app, now);
	}
	mirrors_poll(app);

	for (int i = 0; r != NULL && i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(r->ev, r->buf, sizeof(r->buf));

		if (n <= 0) {
			if (n < 0 && errno == ENOBUFS) {
				/* the kernel dropped events: we may have missed routes; say so loudly */
				fh_log(FH_LOG_ERR, "routing", "netlink events lost (ENOBUFS): FIB may miss FRR routes");
				continue;
			}
			break;
		}
		messages(app, r->buf, (size_t)n);
	}
}

/* The routes already in the kernel (an external FRR that runs already). */
static void dump(struct fh_app *app)
{
	struct fh_routing *r = app->rt;
	uint8_t msg[256];
	int len = fh_rtnl_build_dump(msg, sizeof(msg), ++r->seq);

	if (len < 0 || mnl_socket_sendto(r->rq, msg, (size_t)len) < 0)
		return;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->rq, r->buf, sizeof(r->buf));

		/* a dump ends with NLMSG_DONE, maybe in the same datagram as its last routes */
		if (n <= 0 || messages(app, r->buf, (size_t)n))
			break;
	}
}

static struct mnl_socket *nl_open(unsigned int groups)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0));

	if (s != NULL && mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	if (s != NULL && groups == 0) {
		/* requests wait for their answer: never longer than a second on the control lcore */
		struct timeval tv = {.tv_sec = 1};

		setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	return s;
}

int fh_routing_start(struct fh_app *app)
{
	struct fh_routing *r;

	if (app->cfg->n_router == 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->ep = -1;
	app->rt = r;
	r->m = calloc(app->lim.interfaces, sizeof(*r->m));
	if (r->m == NULL || fh_map_init(&r->by_ifindex, 64) < 0)
		return -1;
	for (uint32_t i = 0; i < app->lim.interfaces; i++)
		r->m[i].fd = -1;
	r->ev = nl_open(RTMGRP_IPV4_ROUTE);
	r->rq = nl_open(0);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ev == NULL || r->rq == NULL || r->ep < 0) {
		fh_log(FH_LOG_ERR, "routing", "netlink: %s", strerror(errno));
		return -1;
	}
	state_dir(app->cfg, r->dir, sizeof(r->dir));
	for (uint32_t i = 0; i < app->ifs.n; i++)
		fh_routing_iface(app, (int)i, true);
	dump(app);
	if (app->cfg->routing.frr == FH_FRR_MANAGED)
		frr_start(app);
	app->dp.punt_routing = true;
	fh_log(FH_LOG_INFO, "routing", "%u interface(s) mirrored for FRR (%s)", r->n_mirrors,
	       app->cfg->routing.frr == FH_FRR_MANAGED ? "managed" : "external");
	return 0;
}

void fh_routing_stop(struct fh_app *app)
{
	struct fh_routing *r = app->rt;

	if (r == NULL)
		return;
	frr_stop(app);
	for (uint32_t i = 0; r->m != NULL && i < app->lim.interfaces; i++)
		mirror_close(app, (int)i);
	if (r->ev != NULL)
		mnl_socket_close(r->ev);
	if (r->rq != NULL)
		mnl_socket_close(r->rq);
	fh_map_fini(&r->by_ifindex);
	if (r->ep >= 0)
		close(r->ep);
	free(r->m);
	free(r);
	app->rt = NULL;
	app->dp.punt_routing = false;
}

/* frr.conf of a config, without its first line (which names the file): what FRR would be told. */
static char *conf_text(const struct fh_config *cfg)
{
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fh_frr_conf(f, cfg, "");
	fprintf(f, "routing %u %s %s\n", cfg->routing.frr, cfg->routing.frr_dir, cfg->routing.state_dir);
	fclose(f);
	nl = buf != NULL ? strchr(buf, '\n') : NULL;
	if (nl != NULL)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
	return buf;
}

/* A reload: mirrors follow the interfaces and the router block; FRR is given its new config by a
 * restart of its daemons (adjacencies re-form) only when what it would be told changed. */
void fh_routing_reload(struct fh_app *app, const struct fh_config *old)
{
	char *a = conf_text(old), *b = conf_text(app->cfg);
	bool changed = a == NULL || b == NULL || strcmp(a, b) != 0 || (old->n_router == 0) != (app->cfg->n_router == 0);

	free(a);
	free(b);
	if (app->rt == NULL || changed) {
		if (app->rt != NULL || app->cfg->n_router > 0)
			fh_log(FH_LOG_INFO, "routing", "router block changed: FRR restarted with the new one");
		fh_routing_stop(app);
		fh_routing_start(app);
		return;
	}
	for (uint32_t i = 0; i < app->ifs.n && i < app->lim.interfaces; i++) {
		uint32_t ad;
		uint8_t l;

		if (!routed(app, (int)i, &ad, &l))
			mirror_close(app, (int)i);
		else
			fh_routing_iface(app, (int)i, true);
	}
}

void fh_routing_stats(const struct fh_app *app, uint32_t *mirrors, uint64_t *in, uint64_t *out, uint64_t *bad)
{
	const struct fh_routing *r = app->rt;

	*mirrors = r ? r->n_mirrors : 0;
	*in = r ? r->routes_in : 0;
	*out = r ? r->routes_out : 0;
	*bad = r ? r->routes_bad : 0;
}
