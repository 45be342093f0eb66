/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "fh_frr.h"

static const struct {
	const char *ios, *shortname;
} forms[] = {
	{"GigabitEthernet", "Gi"}, {"TenGigabitEthernet", "Te"}, {"Ethernet", "Et"}, {"Tunnel", "Tu"},
	{"Loopback", "Lo"}, {"Virtual-Access", "Va"}, {"Virtual-Template", "Vt"},
};

int fh_frr_ifname(const char *ios, char *out, size_t len)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t l = strlen(forms[i].ios);
		int n;

		if (strncmp(ios, forms[i].ios, l) != 0 || ios[l] < '0' || ios[l] > '9')
			continue;
		n = snprintf(out, len, "%s%s", forms[i].shortname, ios + l);
		if (n < 0 || (size_t)n >= len || n >= FH_FRR_IFNAMSIZ)
			break;
		return 0;
	}
	/* anything else goes as it is if the kernel takes it */
	if (strlen(ios) < FH_FRR_IFNAMSIZ && strlen(ios) < len && strchr(ios, '/') == NULL && strchr(ios, ' ') == NULL) {
		snprintf(out, len, "%s", ios);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

static void ip4(FILE *out, uint32_t a)
{
	fprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* "network NET WILDCARD" as FRR's prefix (validated contiguous) */
static void net(FILE *out, const struct fh_ace *a)
{
	ip4(out, a->addr & ~a->wildcard);
	fprintf(out, "/%d", 32 - __builtin_popcount(a->wildcard));
}

static bool wants(const struct fh_cfg_router *r, const char *what)
{
	for (uint32_t i = 0; i < r->n_redistribute; i++)
		if (strcmp(r->redistribute[i], what) == 0)
			return true;
	return false;
}

static void redistribute(FILE *out, const struct fh_cfg_router *r, const char *indent)
{
	if (wants(r, "connected"))
		fprintf(out, "%sredistribute connected\n", indent);
	/* flexhub's static, mode-config and NHRP routes reach zebra as kernel routes */
	if (wants(r, "static") || wants(r, "ikev2") || wants(r, "nhrp"))
		fprintf(out, "%sredistribute kernel\n", indent);
}

static void passive(FILE *out, const struct fh_cfg_router *r)
{
	char n[FH_FRR_IFNAMSIZ];

	for (uint32_t i = 0; i < r->n_passive; i++)
		if (fh_frr_ifname(r->passive[i], n, sizeof(n)) == 0)
			fprintf(out, " passive-interface %s\n", n);
}

static void eigrp(FILE *out, const struct fh_cfg_router *r)
{
	fprintf(out, "router eigrp %u\n", r->as);
	if (r->router_id[0])
		fprintf(out, " eigrp router-id %s\n", r->router_id);
	for (uint32_t i = 0; i < r->n_network; i++) {
		fprintf(out, " network ");
		net(out, &r->network[i]);
		fprintf(out, "\n");
	}
	passive(out, r);
	redistribute(out, r, " ");
	fprintf(out, "exit\n!\n");
}

static void ospf(FILE *out, const struct fh_cfg_router *r)
{
	fprintf(out, "router ospf\n");
	if (r->router_id[0])
		fprintf(out, " ospf router-id %s\n", r->router_id);
	for (uint32_t i = 0; i < r->n_network; i++) {
		fprintf(out, " network ");
		net(out, &r->network[i]);
		fprintf(out, " area %u\n", r->area);
	}
	passive(out, r);
	redistribute(out, r, " ");
	fprintf(out, "exit\n!\n");
}

static void bgp(FILE *out, const struct fh_cfg_router *r)
{
	fprintf(out, "router bgp %u\n", r->as);
	if (r->router_id[0])
		fprintf(out, " bgp router-id %s\n", r->router_id);
	/* IOS sends routes to eBGP neighbours without a policy; FRR 8 needs this to do the same */
	fprintf(out, " no bgp ebgp-requires-policy\n");
	for (uint32_t i = 0; i < r->n_neighbor; i++) {
		fprintf(out, " neighbor ");
		ip4(out, r->nb_addr[i]);
		fprintf(out, " remote-as %u\n", r->nb_as[i]);
		/* a tunnel comes up after FRR does: try again soon, not after FRR's 120 s; and peers
		 * across a tunnel are loopbacks or mode-config /32s, never on a shared subnet */
		fprintf(out, " neighbor ");
		ip4(out, r->nb_addr[i]);
		fprintf(out, " timers connect 5\n neighbor ");
		ip4(out, r->nb_addr[i]);
		fprintf(out, " disable-connected-check\n");
	}
	if (r->has_listen_range) {
		fprintf(out, " neighbor SPOKES peer-group\n neighbor SPOKES remote-as %u\n"
			     " neighbor SPOKES disable-connected-check\n",
			r->listen_remote_as ? r->listen_remote_as : r->as);
		fprintf(out, " bgp listen range ");
		ip4(out, r->listen_range.addr);
		fprintf(out, "/%u peer-group SPOKES\n", r->listen_range.len);
	}
	fprintf(out, " address-family ipv4 unicast\n");
	for (uint32_t i = 0; i < r->n_network; i++) {
		fprintf(out, "  network ");
		net(out, &r->network[i]);
		fprintf(out, "\n");
	}
	redistribute(out, r, "  ");
	fprintf(out, " exit-address-family\nexit\n!\n");
}

int fh_frr_conf(FILE *out, const struct fh_config *cfg, const char *log_path)
{
	fprintf(out, "! frr.conf written by flexhub from the router block of %s; edits are overwritten\n", cfg->file);
	fprintf(out, "frr defaults traditional\nhostname %s\n", cfg->hostname);
	if (log_path != NULL && log_path[0])
		fprintf(out, "log file %s\n", log_path);
	fprintf(out, "!\n");
	for (uint32_t i = 0; i < cfg->n_router; i++) {
		const struct fh_cfg_router *r = &cfg->router[i];

		if (strcmp(r->hdr.name, "eigrp") == 0)
			eigrp(out, r);
		else if (strcmp(r->hdr.name, "ospf") == 0)
			ospf(out, r);
		else if (strcmp(r->hdr.name, "bgp") == 0)
			bgp(out, r);
	}
	fprintf(out, "end\n");
	if (ferror(out)) {
		errno = EIO;
		return -1;
	}
	return 0;
}
