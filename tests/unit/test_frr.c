/* SPDX-License-Identifier: BSD-3-Clause */
/* frr.conf from the router block, and the kernel mirrors' names. */
#include <stdlib.h>
#include <string.h>

#include "fh_frr.h"
#include "fh_test.h"

static char *conf_of(const char *yaml)
{
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (c == NULL) {
		for (uint32_t i = 0; i < errs.n && i < FH_CFG_ERRS_MAX; i++)
			printf("# %s\n", errs.e[i].msg);
		return NULL;
	}
	f = open_memstream(&buf, &len);
	if (f == NULL || fh_frr_conf(f, c, "/tmp/frr.log") < 0) {
		free(buf);
		buf = NULL;
	}
	if (f != NULL)
		fclose(f);
	fh_config_free(c);
	return buf;
}

static bool refused(const char *yaml, const char *want)
{
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
	bool found = false;

	if (c != NULL) {
		fh_config_free(c);
		return false;
	}
	for (uint32_t i = 0; i < errs.n && i < FH_CFG_ERRS_MAX; i++)
		found |= strstr(errs.e[i].msg, want) != NULL && strstr(errs.e[i].msg, "t.yaml:") != NULL;
	return found;
}

#define BASE "hostname: R1\ninterfaces:\n  GigabitEthernet1: {device: net_null0, ip-address: 10.1.120.1 255.255.255.0}\n"

int main(void)
{
	char n[FH_FRR_IFNAMSIZ], *c;

	fh_check(fh_frr_ifname("GigabitEthernet1", n, sizeof(n)) == 0 && strcmp(n, "Gi1") == 0, "GigabitEthernet1 -> Gi1");
	fh_check(fh_frr_ifname("Virtual-Access10000", n, sizeof(n)) == 0 && strcmp(n, "Va10000") == 0,
		 "Virtual-Access10000 -> Va10000");
	fh_check(fh_frr_ifname("Tunnel0", n, sizeof(n)) == 0 && strcmp(n, "Tu0") == 0 &&
			 fh_frr_ifname("Loopback1", n, sizeof(n)) == 0 && strcmp(n, "Lo1") == 0,
		 "Tunnel0 -> Tu0, Loopback1 -> Lo1");
	fh_check(fh_frr_ifname("SomethingVeryLongIndeed", n, sizeof(n)) < 0, "a name the kernel cannot take is refused");

	c = conf_of(BASE "router:\n  eigrp: {as: 100, auto-summary: false, networks: 10.1.120.0 0.0.0.255,\n"
			 "          passive-interfaces: [GigabitEthernet1], redistribute: [connected, ikev2]}\n");
	fh_check(c != NULL && strstr(c, "hostname R1\n") && strstr(c, "router eigrp 100\n network 10.1.120.0/24\n") &&
			 strstr(c, " passive-interface Gi1\n") && strstr(c, " redistribute connected\n redistribute kernel\n"),
		 "the guide's router eigrp 100 as FRR writes it:\n%s", c ? c : "(none)");
	free(c);
	c = conf_of(BASE "router:\n  ospf: {as: 1, router-id: 1.1.1.1, area: 0, networks: [10.0.0.0 0.255.255.255]}\n");
	fh_check(c != NULL && strstr(c, "router ospf\n ospf router-id 1.1.1.1\n network 10.0.0.0/8 area 0\n"),
		 "router ospf with its area:\n%s", c ? c : "(none)");
	free(c);
	c = conf_of(BASE "router:\n  bgp: {as: 65000, neighbors: [192.168.0.20 remote-as 65020], listen-range: 10.1.1.0/24,\n"
			 "        redistribute: [static]}\n");
	fh_check(c != NULL && strstr(c, "router bgp 65000\n") && strstr(c, " neighbor 192.168.0.20 remote-as 65020\n") &&
			 strstr(c, " neighbor SPOKES remote-as 65000\n") &&
			 strstr(c, " bgp listen range 10.1.1.0/24 peer-group SPOKES\n") &&
			 strstr(c, " neighbor 192.168.0.20 disable-connected-check\n") &&
			 strstr(c, "  redistribute kernel\n"),
		 "router bgp: a neighbour, a listen range (iBGP by default), redistribution:\n%s", c ? c : "(none)");
	free(c);
	fh_check(refused(BASE "router:\n  bgp: {as: 65000, neighbors: [192.168.0.20 as 65020]}\n", "remote-as N"),
		 "a bgp neighbour line without remote-as is refused with its position");
	fh_check(refused(BASE "router:\n  eigrp: {as: 100, networks: 10.1.0.0 0.0.255.1}\n", "contiguous"),
		 "a non-contiguous wildcard is refused");
	fh_check(refused(BASE "router:\n  eigrp: {as: 100, neighbors: [1.2.3.4 remote-as 5]}\n", "neighbors are for bgp"),
		 "neighbours only for bgp");
	fh_check(refused(BASE "router:\n  ospf: {redistribute: [rip]}\n", "expected connected, static"),
		 "an unknown redistribution is refused");
	fh_check(refused(BASE "router:\n  ospf: {passive-interfaces: [Tunnel9]}\n", "not configured"),
		 "a passive interface that does not exist is refused");
	fh_check(refused(BASE "routing: {frr: sometimes}\n", "frr"), "routing.frr takes managed or external");
	return fh_test_done();
}
