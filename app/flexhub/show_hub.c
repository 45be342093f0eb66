/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hub role's show and clear commands: show ip route (IOS layout and codes), show ip local
 * pool, show crypto session [detail], clear crypto session [remote A].
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fh_json.h"
#include "flexhub.h"

#define APP(ctx) ((struct fh_app *)(ctx))

static void ip4(uint32_t a, char *buf, size_t len)
{
	fh_ip4_str(a, buf, len);
}

static const char *slot_name(const struct fh_app *app, int32_t slot)
{
	if (slot < 0 || (uint32_t)slot >= app->ifs.n || !app->ifs.v[slot].used)
		return "";
	return app->ifs.v[slot].name;
}

/* ---- show ip route ---- */

static int route_cmp(const void *a, const void *b)
{
	const struct fh_route *x = a, *y = b;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (int)x->len - (int)y->len;
}

/* The code column as IOS prints it. A mode-config route is a static one there ("route set"). */
static const char *route_code(const struct fh_route *r)
{
	switch (r->src) {
	case FH_RT_CONNECTED: return "C";
	case FH_RT_LOCAL: return "L";
	case FH_RT_NHRP: return r->len == 32 ? "H" : "S %";
	case FH_RT_EIGRP: return r->len == 0 ? "D*" : "D";
	case FH_RT_OSPF: return r->len == 0 ? "O*" : "O";
	case FH_RT_BGP: return r->len == 0 ? "B*" : "B";
	default: return r->len == 0 ? "S*" : "S";
	}
}

static const char *route_src(uint8_t s)
{
	static const char *const n[FH_RT_SRC_MAX] = {"connected", "local", "static", "ikev2", "nhrp",
						       "eigrp", "ospf", "bgp", "frr"};

	return s < FH_RT_SRC_MAX ? n[s] : "?";
}

/* The classful network a prefix falls in (IOS groups by it). */
static uint8_t classful_len(uint32_t a)
{
	return a < 0x80000000u ? 8 : a < 0xc0000000u ? 16 : 24;
}

static void route_line(FILE *out, const struct fh_app *app, const struct fh_route *r, bool grouped)
{
	char p[16], gw[16];

	ip4(r->prefix, p, sizeof(p));
	fprintf(out, "%-3s%s%s/%u ", route_code(r), grouped ? "      " : "   ", p, r->len);
	if (r->nh.kind == FH_NH_GATEWAY || (r->src >= FH_RT_EIGRP && r->nh.gw != 0)) {
		/* a protocol's route through a tunnel names the neighbour it came from, as IOS does */
		ip4(r->nh.gw, gw, sizeof(gw));
		fprintf(out, "[%u/0] via %s%s%s\n", r->distance, gw, r->nh.if_idx >= 0 ? ", " : "",
			slot_name(app, r->nh.if_idx));
	} else if (r->src >= FH_RT_EIGRP) {
		fprintf(out, "[%u/0] via %s\n", r->distance, slot_name(app, r->nh.if_idx));
	} else if (r->nh.kind == FH_NH_DROP) {
		fprintf(out, "is directly connected, Null0\n");
	} else {
		fprintf(out, "is directly connected, %s\n", slot_name(app, r->nh.if_idx));
	}
}

static bool route_wanted(const struct fh_route *r, const char *filter)
{
	if (filter == NULL)
		return true;
	if (strcasecmp(filter, "static") == 0)
		return r->src == FH_RT_STATIC || r->src == FH_RT_IKE;
	if (strcasecmp(filter, "connected") == 0)
		return r->src == FH_RT_CONNECTED || r->src == FH_RT_LOCAL;
	if (strcasecmp(filter, "nhrp") == 0)
		return r->src == FH_RT_NHRP;
	if (strcasecmp(filter, "ikev2") == 0)
		return r->src == FH_RT_IKE;
	if (strcasecmp(filter, "eigrp") == 0)
		return r->src == FH_RT_EIGRP;
	if (strcasecmp(filter, "ospf") == 0)
		return r->src == FH_RT_OSPF;
	if (strcasecmp(filter, "bgp") == 0)
		return r->src == FH_RT_BGP;
	return true;
}

int fh_show_ip_route(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	struct fh_fib_stats st;
	struct fh_route *v, r;
	uint32_t n = 0, cur = 0;
	const char *filter = argc > 0 ? argv[0] : NULL;
	struct fh_json j;

	fh_fib_stats(app->dp.tables.fib, &st);
	v = malloc((st.routes + 1) * sizeof(*v));
	if (v == NULL) {
		fprintf(out, "%% out of memory\n");
		return -1;
	}
	while (n <= st.routes && fh_fib_next(app->dp.tables.fib, &cur, &r))
		if (route_wanted(&r, filter))
			v[n++] = r;
	qsort(v, n, sizeof(*v), route_cmp);
	if (json) {
		fh_json_init(&j, out);
		fh_json_arr_begin(&j);
		for (uint32_t i = 0; i < n; i++) {
			char p[24], gw[16];

			ip4(v[i].prefix, p, sizeof(p));
			snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%u", v[i].len);
			fh_json_obj_begin(&j);
			fh_json_kv_str(&j, "prefix", p);
			fh_json_kv_str(&j, "code", route_code(&v[i]));
			fh_json_kv_str(&j, "source", route_src(v[i].src));
			fh_json_kv_u64(&j, "distance", v[i].distance);
			fh_json_kv_str(&j, "interface", slot_name(app, v[i].nh.if_idx));
			if (v[i].nh.kind == FH_NH_GATEWAY) {
				ip4(v[i].nh.gw, gw, sizeof(gw));
				fh_json_kv_str(&j, "via", gw);
			}
			fh_json_kv_u64(&j, "paths", v[i].n_paths);
			fh_json_obj_end(&j);
		}
		fh_json_arr_end(&j);
		free(v);
		return fh_json_finish(&j);
	}
	fprintf(out, "Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP\n"
		     "       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area\n"
		     "       H - NHRP, + - replicated route, %% - next hop override\n\n");
	{
		const struct fh_route *def = NULL;

		for (uint32_t i = 0; i < n && def == NULL; i++)
			if (v[i].len == 0)
				def = &v[i];
		if (def != NULL && def->nh.kind == FH_NH_GATEWAY) {
			char gw[16];

			ip4(def->nh.gw, gw, sizeof(gw));
			fprintf(out, "Gateway of last resort is %s to network 0.0.0.0\n\n", gw);
		} else if (def != NULL) {
			fprintf(out, "Gateway of last resort is 0.0.0.0 to network 0.0.0.0\n\n");
		} else {
			fprintf(out, "Gateway of last resort is not set\n\n");
		}
	}
	for (uint32_t i = 0; i < n;) {
		uint8_t cl = classful_len(v[i].prefix);
		uint32_t net = v[i].prefix & (cl == 8 ? 0xff000000u : cl == 16 ? 0xffff0000u : 0xffffff00u), k = i;
		uint32_t masks = 0;
		char p[16];

		if (v[i].len < cl) {
			route_line(out, app, &v[i++], false); /* a supernet (the default route): on its own */
			continue;
		}
		/* the subnets of one classful network under one heading, as IOS prints them */
		while (k < n && v[k].len >= cl && (v[k].prefix & ~((1ull << (32 - cl)) - 1)) == net) {
			masks |= 1u << (v[k].len - cl);
			k++;
		}
		ip4(net, p, sizeof(p));
		if (__builtin_popcount(masks) > 1)
			fprintf(out, "      %s/%u is variably subnetted, %u subnets, %u masks\n", p, cl, k - i,
				__builtin_popcount(masks));
		else
			fprintf(out, "      %s/%u is subnetted, %u subnets\n", p, v[i].len, k - i);
		for (; i < k; i++)
			route_line(out, app, &v[i], true);
	}
	free(v);
	return 0;
}

/* ---- show ip local pool ---- */

int fh_show_ip_local_pool(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	const struct fh_config *cfg = app->cfg;
	struct fh_json j;

	fh_json_init(&j, out);
	if (json)
		fh_json_arr_begin(&j);
	else if (argc == 0)
		fprintf(out, " Pool                     Begin           End             Free  In use\n");
	for (uint32_t i = 0; i < cfg->n_pool; i++) {
		struct fh_pool *p = fh_pool_table_find(app->pools, cfg->pool[i].hdr.name);
		struct fh_pool_range_info ri;
		struct fh_pool_stats st;
		struct fh_pool_lease l;
		uint32_t c = 0;

		if (p == NULL || (argc > 0 && strcmp(argv[0], cfg->pool[i].hdr.name) != 0))
			continue;
		fh_pool_stats(p, &st);
		if (json) {
			fh_json_obj_begin(&j);
			fh_json_kv_str(&j, "pool", cfg->pool[i].hdr.name);
			fh_json_kv_u64(&j, "addresses", st.addresses);
			fh_json_kv_u64(&j, "free", st.free);
			fh_json_kv_u64(&j, "in-use", st.in_use);
			fh_json_kv_u64(&j, "excluded", st.excluded);
			fh_json_kv_u64(&j, "exhausted", st.exhausted);
			fh_json_key(&j, "ranges");
			fh_json_arr_begin(&j);
		} else if (argc > 0) {
			fprintf(out, "Pool %s: %u addresses, %u free, %u in use, %u excluded, %llu refused (exhausted)\n",
				cfg->pool[i].hdr.name, st.addresses, st.free, st.in_use, st.excluded,
				(unsigned long long)st.exhausted);
		}
		while (fh_pool_range_next(p, &c, &ri)) {
			char a[16], b[16];

			ip4(ri.first, a, sizeof(a));
			ip4(ri.last, b, sizeof(b));
			if (json) {
				fh_json_obj_begin(&j);
				fh_json_kv_str(&j, "begin", a);
				fh_json_kv_str(&j, "end", b);
				fh_json_kv_u64(&j, "free", ri.free);
				fh_json_kv_u64(&j, "in-use", ri.in_use);
				fh_json_obj_end(&j);
			} else {
				fprintf(out, " %-24s %-15s %-15s %5u %7u\n", cfg->pool[i].hdr.name, a, b, ri.free, ri.in_use);
			}
		}
		if (json) {
			fh_json_arr_end(&j);
			fh_json_key(&j, "leases");
			fh_json_arr_begin(&j);
		} else if (argc > 0) {
			fprintf(out, "\nAddress          Identity\n");
		}
		c = 0;
		while ((json || argc > 0) && fh_pool_lease_next(p, &c, &l)) {
			char a[16], id[FH_POOL_ID_MAX + 1];

			ip4(l.addr, a, sizeof(a));
			memcpy(id, l.id, l.id_len);
			id[l.id_len] = '\0';
			if (json) {
				fh_json_obj_begin(&j);
				fh_json_kv_str(&j, "address", a);
				fh_json_kv_str(&j, "identity", id);
				fh_json_kv_bool(&j, "draining", l.draining);
				fh_json_obj_end(&j);
			} else {
				fprintf(out, "%-16s %s%s\n", a, id, l.draining ? " (draining)" : "");
			}
		}
		if (json) {
			fh_json_arr_end(&j);
			fh_json_obj_end(&j);
		}
	}
	if (json) {
		fh_json_arr_end(&j);
		return fh_json_finish(&j);
	}
	return 0;
}

/* ---- show crypto session [detail] ---- */

#define CURSOR_STARTED (1ull << 32)

static void session_entry(FILE *out, struct fh_json *j, bool json, bool detail, struct fh_app *app,
			  const struct fh_ike_sa_info *i)
{
	int slot = fh_iface_slot(&app->ifs, i->tunnel);
	const struct fh_session *ss = fh_session_of(app, slot);
	const char *ifn = slot >= 0 ? app->ifs.v[slot].name : "";
	const char *prof = i->profile >= 0 ? app->cfg->ike_profile[i->profile].hdr.name : "";
	const char *status = strcmp(i->status, "READY") != 0 ? "UP-IDLE" : i->n_child > 0 ? "UP-ACTIVE" : "UP-NO-IKE";
	char l[16], r[16], a[16] = "";

	if (strcmp(i->status, "READY") != 0)
		status = "DOWN-NEGOTIATING";
	ip4(i->local.ip, l, sizeof(l));
	ip4(i->remote.ip, r, sizeof(r));
	if (i->cfg_addr)
		ip4(i->cfg_addr, a, sizeof(a));
	if (json) {
		fh_json_obj_begin(j);
		fh_json_kv_str(j, "interface", ifn);
		fh_json_kv_str(j, "profile", prof);
		fh_json_kv_str(j, "status", status);
		fh_json_kv_str(j, "peer", r);
		fh_json_kv_u64(j, "peer-port", i->remote.port);
		fh_json_kv_str(j, "local", l);
		fh_json_kv_u64(j, "session-id", i->id);
		fh_json_kv_str(j, "remote-id", i->remote_id);
		fh_json_kv_bool(j, "virtual-access", i->vaccess);
		fh_json_kv_str(j, "assigned-address", a);
		fh_json_kv_u64(j, "child-sas", i->n_child);
		fh_json_key(j, "routes");
		fh_json_arr_begin(j);
		for (uint8_t k = 0; ss != NULL && k < ss->n_net; k++) {
			char n[24];

			ip4(ss->net[k].addr, n, sizeof(n));
			snprintf(n + strlen(n), sizeof(n) - strlen(n), "/%d", __builtin_popcount(ss->net[k].mask));
			fh_json_str(j, n);
		}
		fh_json_arr_end(j);
		fh_json_obj_end(j);
		return;
	}
	fprintf(out, "Interface: %s\nProfile: %s\nSession status: %s\nPeer: %s port %u\n", ifn, prof, status, r,
		i->remote.port);
	fprintf(out, "  Session ID: %u\n  IKEv2 SA: local %s/%u remote %s/%u %s\n", i->id, l, i->local.port, r,
		i->remote.port, strcmp(i->status, "READY") == 0 ? "Active" : "Inactive");
	if (detail) {
		fprintf(out, "  Remote id: %s\n", i->remote_id);
		if (a[0])
			fprintf(out, "  Assigned address: %s\n", a);
		for (uint8_t k = 0; ss != NULL && k < ss->n_net; k++) {
			char n[16];

			ip4(ss->net[k].addr, n, sizeof(n));
			fprintf(out, "  %s route: %s/%d\n", ss->initiator ? "Pushed" : "Announced", n,
				__builtin_popcount(ss->net[k].mask));
		}
	}
	fprintf(out, "  IPSEC FLOW: %u SA pair(s)\n        Active SAs: %u, origin: crypto map\n\n", i->n_child,
		2 * i->n_child);
}

int fh_show_crypto_session(FILE *out, struct fh_ctl_cursor *cur, void *ctx)
{
	struct fh_app *app = APP(ctx);
	bool detail = cur->argc > 0 && strncasecmp(cur->argv[0], "detail", strlen(cur->argv[0])) == 0;
	struct fh_ike_sa_info i;
	uint32_t k;

	if (cur->pos == 0) {
		fh_json_init(&cur->js, out);
		if (cur->json)
			fh_json_arr_begin(&cur->js);
		else
			fprintf(out, "Crypto session current status\n\n");
		cur->pos = CURSOR_STARTED;
	}
	k = (uint32_t)cur->pos;
	while (fh_ike_sa_next(app->ike, &k, &i)) {
		session_entry(out, &cur->js, cur->json, detail, app, &i);
		if (fh_ctl_chunk_full(cur, out)) {
			cur->pos = CURSOR_STARTED | k;
			return 1;
		}
	}
	if (cur->json) {
		fh_json_arr_end(&cur->js);
		return fh_json_finish(&cur->js);
	}
	return 0;
}

/* clear crypto session [remote A]: the sessions' IKE SAs deleted (Delete sent); their
 * Virtual-Access interfaces and addresses go with them. */
int fh_clear_crypto_session(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = APP(ctx);
	uint32_t want = 0, *ids, n = 0, cap = fh_ike_sa_count(app->ike) + 1, k = 0;
	struct fh_ike_sa_info i;
	int cleared = 0;

	if (argc >= 2 && strcasecmp(argv[0], "remote") == 0) {
		unsigned int b[4];

		if (sscanf(argv[1], "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4) {
			fprintf(out, "%% bad address %s\n", argv[1]);
			return -1;
		}
		want = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	} else if (argc > 0) {
		fprintf(out, "%% usage: clear crypto session [remote A.B.C.D]\n");
		return -1;
	}
	/* the ids first: clearing changes the walk */
	ids = malloc(cap * sizeof(*ids));
	if (ids == NULL)
		return -1;
	while (n < cap && fh_ike_sa_next(app->ike, &k, &i))
		if (want == 0 || i.remote.ip == want)
			ids[n++] = i.id;
	for (uint32_t x = 0; x < n; x++)
		cleared += fh_ike_clear(app->ike, ids[x], fh_now_ms());
	free(ids);
	if (json)
		fprintf(out, "{\"cleared\": %d}\n", cleared);
	else
		fprintf(out, "%d session(s) cleared\n", cleared);
	return 0;
}

