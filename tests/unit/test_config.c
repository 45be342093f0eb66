/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: the guide's configurations load with the values the guide gives, smart defaults
 * fill a minimal file, output reloads to itself, and every class of bad input is refused with
 * file:line:column. Run with the source root as argv[1].
 */
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"
#include "fh_limits.h"
#include "schema.h"
#include "fh_test.h"

static const char *root = ".";

static struct fh_config *load_example(const char *name, struct fh_cfg_errs *errs)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/config/%s", root, name);
	memset(errs, 0, sizeof(*errs));
	return fh_config_load_file(path, errs);
}

static char *emit(const struct fh_config *cfg, enum fh_emit_fmt fmt, unsigned flags)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fh_config_emit(f, cfg, fmt, flags);
	fclose(f);
	return out;
}

static void test_examples(void)
{
	static const char *const files[] = {"site-to-site-a.yaml", "site-to-site-b.yaml", "hub.yaml", "spoke1.yaml",
					    "spoke2.yaml", "hub-and-spoke-hub.yaml", "hub-and-spoke-spoke.yaml", NULL};

	for (int i = 0; files[i] != NULL; i++) {
		struct fh_cfg_errs errs;
		struct fh_config *cfg = load_example(files[i], &errs);
		char *a, *b;
		struct fh_config *again;

		if (!fh_check(cfg != NULL, "%s loads", files[i])) {
			fh_config_print_errs(stdout, &errs);
			continue;
		}
		/* normalized output (with secrets) reloads to exactly the same output */
		a = emit(cfg, FH_EMIT_YAML, FH_EMIT_SECRETS);
		memset(&errs, 0, sizeof(errs));
		again = fh_config_load_buffer("normalized", a, strlen(a), &errs);
		if (again == NULL) {
			fh_config_print_errs(stdout, &errs);
			printf("%s", a);
		}
		b = again ? emit(again, FH_EMIT_YAML, FH_EMIT_SECRETS) : NULL;
		fh_check(b != NULL && strcmp(a, b) == 0, "%s: normalized YAML reloads to itself", files[i]);
		free(a);
		free(b);
		fh_config_free(again);
		a = emit(cfg, FH_EMIT_YAML, 0);
		fh_check(strstr(a, "cisco123") == NULL && strstr(a, "<hidden>") != NULL, "%s: keys hidden by default",
			 files[i]);
		free(a);
		fh_config_free(cfg);
	}
}

static void test_site_to_site_values(void)
{
	struct fh_cfg_errs errs;
	struct fh_config *c = load_example("site-to-site-b.yaml", &errs);
	int t;

	if (!fh_check(c != NULL, "site-to-site-b loads"))
		return;
	fh_check(strcmp(c->hostname, "RouterB") == 0, "hostname");
	fh_check(c->n_proposal == 1 && c->proposal[0].encr[0] == FH_ENCR_AES_CBC_256 &&
			 c->proposal[0].integ[0] == FH_INTEG_SHA256_128 && c->proposal[0].group[0] == 14 &&
			 c->proposal[0].n_prf == 1 && c->proposal[0].prf[0] == FH_PRF_SHA256,
		 "proposal aes-cbc-256 sha256 group 14, PRF derived sha256");
	fh_check(c->ike_policy[0].proposal_idx[0] == 0, "policy resolves its proposal");
	fh_check(c->keyring[0].peer[0].address.addr == 0xc0a8000a && c->keyring[0].peer[0].address.len == 32 &&
			 strcmp(c->keyring[0].peer[0].psk_local, "cisco123") == 0,
		 "keyring peer 192.168.0.10 with key");
	fh_check(c->ike_profile[0].lifetime == 86400 && c->ike_profile[0].dpd.present &&
			 c->ike_profile[0].dpd.interval == 10 && c->ike_profile[0].dpd.retries == 2 &&
			 c->ike_profile[0].dpd.mode == FH_DPD_ON_DEMAND && c->ike_profile[0].keyring_idx == 0,
		 "profile lifetime 86400, dpd 10 2 on-demand, keyring");
	t = fh_config_iface_find(c, "Tunnel0");
	fh_check(t >= 0 && c->iface[t].kind == FH_IF_TUNNEL && c->iface[t].ip.pfx.addr == 0x0a017814 &&
			 c->iface[t].ip.pfx.len == 24 && c->iface[t].tunnel_destination == 0xc0a8000a &&
			 c->iface[t].tunnel_mode == FH_TUN_GRE &&
			 c->iface[c->iface[t].source_idx].ip.pfx.addr == 0xc0a80014,
		 "Tunnel0 10.1.120.20/24 to 192.168.0.10 from GigabitEthernet1, GRE");
	fh_check(fh_config_iface_find(c, "tu0") == t && fh_config_iface_find(c, "tunnel 0") == t,
		 "interface abbreviations resolve");
	fh_check(c->transform_set[0].encr == FH_ENCR_AES_CBC_256 && c->transform_set[0].integ == FH_INTEG_SHA1_96,
		 "transform-set esp-aes 256 esp-sha-hmac");
	fh_check(c->n_router == 1 && c->router[0].as == 100 && c->router[0].network[0].addr == 0x0a017800 &&
			 c->router[0].network[0].wildcard == 0xff,
		 "router eigrp 100 network 10.1.120.0 0.0.0.255");
	fh_config_free(c);
}

static void test_hub_values(void)
{
	struct fh_cfg_errs errs;
	struct fh_config *c = load_example("hub.yaml", &errs);
	int vt;

	if (!fh_check(c != NULL, "hub loads"))
		return;
	fh_check(c->n_pool == 1 && c->pool[0].first == 0x0a010102 && c->pool[0].last == 0x0a0101fe,
		 "FlexPool 10.1.1.2 - 10.1.1.254");
	fh_check(c->n_acl == 1 && c->acl[0].n_ace == 1 && c->acl[0].ace[0].addr == 0x0a000000 &&
			 c->acl[0].ace[0].wildcard == 0x00ffffff && c->acl[0].ace[0].permit,
		 "FlexTraffic permit 10.0.0.0 0.255.255.255");
	fh_check(c->authz_policy[0].pool_idx == 0 && c->authz_policy[0].acl_idx == 0 &&
			 c->authz_policy[0].route_set_interface,
		 "HUBPolicy: pool, route set interface, route set access-list");
	vt = fh_config_iface_find(c, "Virtual-Template1");
	fh_check(vt >= 0 && c->ike_profile[0].vtemplate_if_idx == vt && c->ike_profile[0].aaa.present &&
			 c->ike_profile[0].aaa.list_idx == 0 && c->ike_profile[0].aaa.policy_idx == 0,
		 "profile: aaa authorization group psk list FlexAuth HUBPolicy, virtual-template 1");
	fh_check(vt >= 0 && c->iface[vt].nhrp.present && c->iface[vt].nhrp.network_id == 1 && c->iface[vt].nhrp.redirect &&
			 strcmp(c->iface[c->iface[vt].unnumbered_idx].hdr.name, "Loopback1") == 0,
		 "Virtual-Template1: unnumbered Loopback1, nhrp network-id 1, redirect");
	fh_check(c->keyring[0].peer[0].has_address && c->keyring[0].peer[0].address.len == 0,
		 "keyring peer address 0.0.0.0 0.0.0.0 is any");
	fh_check(c->ike_profile[0].match_remote.n_address == 1 && c->ike_profile[0].match_remote.address[0].len == 0,
		 "match identity remote address 0.0.0.0 is any");
	fh_config_free(c);

	c = load_example("spoke2.yaml", &errs);
	if (!fh_check(c != NULL, "spoke2 loads"))
		return;
	{
		int t = fh_config_iface_find(c, "Tunnel0");
		int v = fh_config_iface_find(c, "Virtual-Template1");

		fh_check(t >= 0 && c->iface[t].ip.negotiated && c->iface[t].nhrp.shortcut_vtemplate == 1,
			 "spoke Tunnel0: address negotiated, nhrp shortcut virtual-template 1");
		fh_check(v >= 0 && c->iface[v].unnumbered_idx == t, "spoke Virtual-Template1 unnumbered Tunnel0");
	}
	fh_config_free(c);
}

static void test_smart_defaults(void)
{
	static const char minimal[] = "crypto:\n"
				      "  ikev2:\n"
				      "    keyrings:\n"
				      "      K: {peers: {P: {address: 192.168.0.20, pre-shared-key: secret}}}\n"
				      "    profiles:\n"
				      "      PROF: {match-identity-remote: {address: 192.168.0.20}, keyring: K}\n"
				      "interfaces:\n"
				      "  Gi1: {device: net_null0, ip-address: 192.168.0.10/24}\n"
				      "  Tunnel0: {ip-address: 10.0.0.1/30, tunnel-source: Gi1, tunnel-destination: "
				      "192.168.0.20, tunnel-protection: default}\n";
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("minimal.yaml", minimal, sizeof(minimal) - 1, &errs);

	if (!fh_check(c != NULL, "minimal config with smart defaults loads")) {
		fh_config_print_errs(stdout, &errs);
		return;
	}
	fh_check(c->n_proposal == 1 && strcmp(c->proposal[0].hdr.name, "default") == 0 && c->proposal[0].n_encr == 2 &&
			 c->proposal[0].n_group == 3,
		 "default ikev2 proposal");
	fh_check(c->n_ike_policy == 1 && c->ike_policy[0].proposal_idx[0] == 0, "default ikev2 policy");
	fh_check(c->n_transform_set == 1 && c->transform_set[0].encr == FH_ENCR_AES_CBC_256 &&
			 c->transform_set[0].integ == FH_INTEG_SHA256_128,
		 "default transform-set");
	fh_check(c->n_ipsec_profile == 1 && c->ipsec_profile[0].ike_profile_idx == 0 &&
			 c->ipsec_profile[0].ts_idx[0] == 0 && c->ipsec_profile[0].replay_window == 1024,
		 "default ipsec profile binds the only ikev2 profile");
	fh_check(strcmp(c->keyring[0].peer[0].psk_local, "secret") == 0 &&
			 strcmp(c->keyring[0].peer[0].psk_remote, "secret") == 0,
		 "symmetric pre-shared-key sets local and remote");
	fh_check(strcmp(c->iface[0].hdr.name, "GigabitEthernet1") == 0 && c->iface[0].mtu == 1500,
		 "Gi1 is GigabitEthernet1 with mtu 1500");
	fh_check(c->dataplane.workers == 1 && c->dataplane.burst == 32 && c->dataplane.idle_sleep_us == 200 &&
			 !c->dataplane.hugepages,
		 "dataplane defaults");
	fh_config_free(c);

	memset(&errs, 0, sizeof(errs));
	c = fh_config_load_buffer("empty.yaml", "", 0, &errs);
	fh_check(c != NULL && c->n_iface == 0 && strcmp(c->hostname, "flexhub") == 0, "an empty file is all defaults");
	fh_config_free(c);
}

struct bad {
	const char *what;
	const char *yaml;
	const char *expect; /* substring of the first error */
	unsigned line, col;
};

#define IF_GI1 "interfaces:\n  Gi1: {device: net_null0, ip-address: 192.168.0.10/24}\n"

/* eight one-address ranges, for the range-count bound */
#define R8 "\"10.8.0.1 10.8.0.1\", \"10.8.0.2 10.8.0.2\", \"10.8.0.3 10.8.0.3\", \"10.8.0.4 10.8.0.4\", " \
	   "\"10.8.0.5 10.8.0.5\", \"10.8.0.6 10.8.0.6\", \"10.8.0.7 10.8.0.7\", \"10.8.0.8 10.8.0.8\", "

static const struct bad bad[] = {
	{"YAML syntax", "hostname: [a\n", "YAML syntax error", 2, 1},
	{"IKEv2 fragmentation MTU too small", "crypto:\n  ikev2:\n    fragmentation-mtu: 100\n",
	 "fragmentation-mtu 100: 0 (off) or 200 to 9000", 3, 24},
	{"unknown top-level key", "hostnme: x\n", "unknown key 'hostnme'", 1, 1},
	{"unknown key in proposal", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-cbc-256, integrity: sha256, group: 14, dh: 5}\n",
	 "unknown key 'dh'", 4, 66},
	{"bad cipher", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-cbc-999, integrity: sha256, group: 14}\n",
	 "'aes-cbc-999' is not one of", 4, 23},
	{"unsupported DH group", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-cbc-256, integrity: sha256, group: 2}\n",
	 "DH group 2 is not supported", 4, 62},
	{"GCM with integrity", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-gcm-256, integrity: sha256, group: 19}\n",
	 "AES-GCM carries its own integrity", 4, 47},
	{"CBC without integrity", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-cbc-256, group: 19}\n",
	 "AES-CBC needs integrity", 4, 7},
	{"GCM and CBC in one proposal",
	 "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: [aes-gcm-256, aes-cbc-256], integrity: sha256, group: 19}\n",
	 "cannot share a proposal", 4, 24},
	{"policy names unknown proposal", "crypto:\n  ikev2:\n    policies:\n      POL: {proposals: [NOPE]}\n",
	 "unknown ikev2 proposal 'NOPE'", 4, 25},
	{"peer without key", "crypto:\n  ikev2:\n    keyrings:\n      K:\n        peers:\n          P: {address: 10.0.0.1}\n",
	 "needs pre-shared-key", 6, 11},
	{"peer with both key forms",
	 "crypto:\n  ikev2:\n    keyrings:\n      K:\n        peers:\n          P: {address: 10.0.0.1, pre-shared-key: a, pre-shared-key-local: b, pre-shared-key-remote: c}\n",
	 "not both", 6, 50},
	{"peer bad address", "crypto:\n  ikev2:\n    keyrings:\n      K:\n        peers:\n          P: {address: 192.168.0.300, pre-shared-key: a}\n",
	 "expected A.B.C.D", 6, 24},
	{"peer address host bits", "crypto:\n  ikev2:\n    keyrings:\n      K:\n        peers:\n          P: {address: 10.0.0.1 255.0.0.0, pre-shared-key: a}\n",
	 "host bits", 6, 24},
	{"profile unknown keyring", "crypto:\n  ikev2:\n    profiles:\n      PR: {match-identity-remote: {address: 0.0.0.0}, keyring: NOPE}\n",
	 "unknown keyring 'NOPE'", 4, 64},
	{"profile lifetime too short", "crypto:\n  ikev2:\n    profiles:\n      PR: {match-identity-remote: {address: 0.0.0.0}, lifetime: 50}\n",
	 "50 is out of range 120..86400", 4, 65},
	{"dpd interval too short", "crypto:\n  ikev2:\n    profiles:\n      PR:\n        match-identity-remote: {address: 0.0.0.0}\n        dpd: {interval: 5}\n",
	 "out of range 10..3600", 6, 25},
	{"dpd without interval", "crypto:\n  ikev2:\n    profiles:\n      PR:\n        match-identity-remote: {address: 0.0.0.0}\n        dpd: {retries: 3}\n",
	 "missing required key 'interval'", 6, 14},
	{"profile without match", "crypto:\n  ikev2:\n    profiles:\n      PR: {keyring: K}\n",
	 "missing required key 'match-identity-remote'", 4, 11},
	{"profile unknown aaa list",
	 "crypto:\n  ikev2:\n    profiles:\n      PR:\n        match-identity-remote: {address: 0.0.0.0}\n        authentication-remote: []\n        aaa-authorization: {list: NOLIST, policy: NOPOL}\n",
	 "unknown aaa authorization network list 'NOLIST'", 7, 35},
	{"profile unknown virtual-template",
	 "crypto:\n  ikev2:\n    profiles:\n      PR: {match-identity-remote: {address: 0.0.0.0}, authentication-remote: [], virtual-template: 5}\n",
	 "Virtual-Template5 does not exist", 4, 100},
	{"rsa-sig not implemented",
	 "crypto:\n  ikev2:\n    profiles:\n      PR: {match-identity-remote: {address: 0.0.0.0}, authentication-remote: rsa-sig}\n",
	 "only pre-share authentication is implemented", 4, 78},
	{"transform-set GCM with HMAC", "crypto:\n  ipsec:\n    transform-sets:\n      T: {encryption: esp-gcm-256, integrity: esp-sha-hmac}\n",
	 "AES-GCM carries its own integrity", 4, 47},
	{"transform-set without encryption", "crypto:\n  ipsec:\n    transform-sets:\n      T: {integrity: esp-sha-hmac}\n",
	 "missing required key 'encryption'", 4, 10},
	{"transform-set CBC without integrity", "crypto:\n  ipsec:\n    transform-sets:\n      T: {encryption: esp-aes 256}\n",
	 "needs an integrity transform", 4, 7},
	{"ipsec profile unknown transform-set", "crypto:\n  ipsec:\n    profiles:\n      IP: {transform-sets: NOPE}\n",
	 "unknown transform-set 'NOPE'", 4, 28},
	{"ipsec profile unknown ikev2 profile", "crypto:\n  ipsec:\n    profiles:\n      IP: {ikev2-profile: NOPE}\n",
	 "unknown ikev2 profile 'NOPE'", 4, 27},
	{"replay window too small", "crypto:\n  ipsec:\n    profiles:\n      IP: {replay-window: 16}\n",
	 "replay-window is 0 (off) or 64..4096", 4, 27},
	{"pools overlap", "ip:\n  local-pools:\n    A: {first: 10.1.1.2, last: 10.1.1.100}\n    B: {first: 10.1.1.50, last: 10.1.1.200}\n",
	 "overlaps pool A", 4, 5},
	{"pool backwards", "ip:\n  local-pools:\n    A: {first: 10.1.1.200, last: 10.1.1.2}\n",
	 "last address is below the first", 3, 34},
	{"pool holds an interface address", IF_GI1 "ip:\n  local-pools:\n    A: {first: 192.168.0.2, last: 192.168.0.200}\n",
	 "holds GigabitEthernet1's own address", 5, 5},
	{"non-contiguous wildcard", "ip:\n  access-lists:\n    A: [permit 10.0.0.0 0.255.0.255]\n",
	 "wildcard 0.255.0.255 is not contiguous", 3, 9},
	{"ACL address inside wildcard", "ip:\n  access-lists:\n    A: [permit 10.0.0.1 0.0.0.255]\n",
	 "has bits set inside wildcard", 3, 9},
	{"ACL garbage", "ip:\n  access-lists:\n    A: [allow everything]\n", "expected '[permit|deny]", 3, 9},
	{"authorization policy unknown pool", "crypto:\n  ikev2:\n    authorization-policies:\n      AP: {pool: NOPE}\n",
	 "unknown ip local pool 'NOPE'", 4, 18},
	{"authorization policy unknown ACL", "crypto:\n  ikev2:\n    authorization-policies:\n      AP: {route-set-access-list: NOPE}\n",
	 "unknown access-list 'NOPE'", 4, 35},
	{"unknown interface kind", "interfaces:\n  Serial0: {ip-address: 10.0.0.1/30}\n",
	 "expected GigabitEthernetN", 2, 3},
	{"physical without device", "interfaces:\n  Gi1: {ip-address: 10.0.0.1/24}\n", "need a DPDK 'device'", 2, 3},
	{"tunnel without destination", IF_GI1 "  Tunnel0: {ip-address: 10.0.0.1/30, tunnel-source: Gi1}\n",
	 "needs tunnel-destination", 3, 3},
	{"tunnel unknown protection",
	 IF_GI1 "  Tunnel0: {ip-address: 10.0.0.1/30, tunnel-source: Gi1, tunnel-destination: 1.2.3.4, tunnel-protection: NOPE}\n",
	 "unknown ipsec profile 'NOPE'", 3, 106},
	{"loopback with device", "interfaces:\n  Loopback0: {device: net_null0, ip-address: 10.0.0.1/32}\n",
	 "'device' does not apply to a loopback interface", 2, 23},
	{"negotiated on a loopback", "interfaces:\n  Loopback0: {ip-address: negotiated}\n",
	 "only Tunnel interfaces take 'negotiated'", 2, 27},
	{"address and unnumbered",
	 IF_GI1 "  Tunnel0: {ip-address: 10.0.0.1/30, ip-unnumbered: Gi1, tunnel-source: Gi1, tunnel-destination: 1.2.3.4}\n",
	 "give ip-address or ip-unnumbered, not both", 3, 53},
	{"unnumbered unknown interface", IF_GI1 "  Virtual-Template1: {ip-unnumbered: Loopback9}\n",
	 "unknown interface 'Loopback9'", 3, 38},
	{"interface addresses overlap", IF_GI1 "  Gi2: {device: net_null1, ip-address: 192.168.0.11/24}\n",
	 "address overlaps GigabitEthernet1", 3, 40},
	{"interface defined twice", "interfaces:\n  Loopback0: {}\n  lo0: {}\n", "interface Loopback0 is defined twice", 3, 3},
	{"map name twice", "ip:\n  local-pools:\n    A: {first: 10.1.1.2, last: 10.1.1.3}\n    A: {first: 10.1.2.2, last: 10.1.2.3}\n",
	 "'A' is defined twice", 4, 5},
	{"key twice", "hostname: a\nhostname: b\n", "key 'hostname' is given twice", 2, 1},
	{"non-contiguous netmask", "interfaces:\n  Loopback0: {ip-address: 10.0.0.1 255.0.255.0}\n", "not contiguous", 2, 27},
	{"network address on an interface", "interfaces:\n  Loopback0: {ip-address: 10.0.0.0/24}\n",
	 "this is the network address", 2, 27},
	{"bare address needs a mask", "interfaces:\n  Loopback0: {ip-address: 10.0.0.1}\n", "expected 'A.B.C.D/LEN'", 2, 27},
	{"static SA key length",
	 IF_GI1 "  Tunnel0: {ip-address: 10.0.0.1/30, tunnel-source: Gi1, tunnel-destination: 1.2.3.4}\n"
		"crypto:\n  ipsec:\n    static-sas:\n      S: {interface: Tunnel0, spi-in: 0x1000, spi-out: 0x2000, encryption: esp-gcm-256, "
		"encryption-key-in: 0011, encryption-key-out: 0011}\n",
	 "encryption-key-in is 2 bytes, this algorithm needs 36", 7, 108},
	{"static SA on a non-tunnel",
	 IF_GI1 "crypto:\n  ipsec:\n    static-sas:\n      S: {interface: Gi1, spi-in: 0x1000, spi-out: 0x2000, encryption: esp-null, "
		"integrity: esp-sha-hmac, integrity-key-in: 0102030405060708091011121314151617181920, integrity-key-out: "
		"0102030405060708091011121314151617181920}\n",
	 "Gi1 is not a Tunnel interface", 6, 22},
	{"static SA reserved SPI", "crypto:\n  ipsec:\n    static-sas:\n      S: {interface: Tunnel0, spi-in: 5, spi-out: 0x2000, encryption: esp-null}\n",
	 "5 is out of range 256..4294967295", 4, 39},
	{"route unknown interface", "ip:\n  routes:\n    - {prefix: 10.0.0.0/8, interface: Tunnel7}\n", "unknown interface 'Tunnel7'", 3, 39},
	{"route without way out", "ip:\n  routes:\n    - {prefix: 10.0.0.0/8}\n", "needs an interface or a next-hop", 3, 7},
	{"route with host bits", "ip:\n  routes:\n    - {prefix: 10.0.0.1/8, next-hop: 1.1.1.1}\n", "host bits", 3, 16},
	{"unknown debug category", "debug: [crypto ikev3]\n", "unknown category 'crypto ikev3'", 1, 9},
	{"two documents", "hostname: a\n---\nhostname: b\n", "only one YAML document", 3, 1},
	{"aaa radius", "aaa:\n  authorization-network:\n    L: radius\n", "only the local method", 3, 5},
	{"unknown routing protocol", "router:\n  rip: {as: 1}\n", "expected eigrp, ospf or bgp", 2, 3},
	{"too many list items", "crypto:\n  ikev2:\n    proposals:\n      P: {encryption: aes-gcm-128, group: [14,14,14,14,14,14,14,14,14,14,14,14,14,14,14,14,14]}\n",
	 "17 items, at most 16", 4, 43},
	{"string too long", "hostname: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 "too long: 77 characters, at most 63", 1, 11},
	{"empty string for a key with a default", "hostname: \"\"\n", "must not be empty (default: flexhub)", 1, 11},
	{"scalar where a block goes", "crypto: 5\n", "crypto: expected a mapping", 1, 9},
	{"mapping where a scalar goes", "hostname: {a: b}\n", "hostname: expected a string", 1, 11},
	{"bool that is not", "dataplane: {hugepages: maybe}\n", "expected true or false", 1, 24},
	{"number that is not", "dataplane: {workers: two}\n", "expected a number", 1, 22},
	{"alias bomb",
	 "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	 "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ndebug: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
	 "unknown key 'a'", 1, 1},
	{"tunnel-source a template", IF_GI1 "  Virtual-Template1: {}\n  Tunnel0: {ip-address: 10.0.0.1/30, tunnel-source: Virtual-Template1, tunnel-destination: 1.2.3.4}\n",
	 "tunnel-source must be a physical or loopback", 4, 53},
	{"static ARP with a bad MAC", IF_GI1 "ip:\n  arp:\n    - {address: 192.168.0.20, mac: 02:00:zz:00:00:01, interface: Gi1}\n",
	 "is not a unicast MAC", 5, 36},
	{"static ARP with a multicast MAC", IF_GI1 "ip:\n  arp:\n    - {address: 192.168.0.20, mac: 0100.5e00.0001, interface: Gi1}\n",
	 "is not a unicast MAC", 5, 36},
	{"static ARP on a loopback",
	 "interfaces:\n  Loopback0: {ip-address: 10.0.0.1/32}\nip:\n  arp:\n    - {address: 10.0.0.2, mac: 02:00:00:00:00:01, interface: Loopback0}\n",
	 "is not a physical interface", 5, 62},
	{"workers beyond the data plane's 64", "dataplane: {workers: 65}\n", "65 is out of range 1..64", 1, 22},
	{"limits need more memory than memory-mb", "hostname: a\nlimits:\n  sa-pairs: 1048576\n",
	 "the data-plane limits need 4780 MiB of EAL memory (4716 MiB of tables and mbufs + 64 MiB for DPDK itself) but "
	 "dataplane.memory-mb is 512: raise memory-mb or lower limits.sa-pairs (the largest share, 4608 MiB)", 2, 1},
	{"default limits in a memory-mb too small", "dataplane:\n  memory-mb: 256\n",
	 "need 316 MiB of EAL memory (252 MiB of tables and mbufs + 64 MiB for DPDK itself) but dataplane.memory-mb is 256: "
	 "raise memory-mb or lower limits.sa-pairs", 2, 14},
	{"mbufs the largest share", "dataplane: {mbufs: 262143}\n", "lower dataplane.mbufs (the largest share, 576 MiB)", 1, 20},
	{"limit out of range", "limits: {neighbour-queue: 65}\n", "65 is out of range 0..64", 1, 27},
	{"more tunnels than limits.tunnels",
	 IF_GI1 "  Tunnel0: {tunnel-source: Gi1, tunnel-destination: 1.2.3.4}\n  Loopback0: {}\n"
		"  Tunnel1: {tunnel-source: Gi1, tunnel-destination: 1.2.3.5}\nlimits: {tunnels: 1}\n",
	 "interface Tunnel1: more tunnel interfaces than limits.tunnels (1); raise limits.tunnels", 5, 3},
	{"more static SAs than limits.sa-pairs",
	 IF_GI1 "  Tunnel0: {tunnel-source: Gi1, tunnel-destination: 1.2.3.4}\nlimits: {sa-pairs: 1}\n"
		"crypto:\n  ipsec:\n    static-sas:\n"
		"      A: {interface: Tunnel0, spi-in: 0x1000, spi-out: 0x2000, encryption: esp-gcm-128, "
		"encryption-key-in: 0011223344556677889900112233445566778899, encryption-key-out: 0011223344556677889900112233445566778899}\n"
		"      B: {interface: Tunnel0, spi-in: 0x1001, spi-out: 0x2001, encryption: esp-gcm-128, "
		"encryption-key-in: 0011223344556677889900112233445566778899, encryption-key-out: 0011223344556677889900112233445566778899}\n",
	 "static-sa B: the config has 2 static SAs, more than limits.sa-pairs (1); raise limits.sa-pairs", 9, 7},
	{"pool ranges overlap within a pool", "ip:\n  local-pools:\n    P: [\"10.1.1.2 10.1.1.100\", \"10.1.1.50 10.1.1.60\"]\n",
	 "10.1.1.50 10.1.1.60 overlaps another range of the pool (10.1.1.2 10.1.1.100)", 3, 32},
	{"pool range overlaps another pool", "ip:\n  local-pools:\n    A: {first: 10.1.1.2, last: 10.1.1.100}\n"
	 "    B: [\"10.2.0.1 10.2.0.9\", \"10.1.1.90 10.1.1.95\"]\n", "overlaps pool A (10.1.1.2 10.1.1.100)", 4, 30},
	{"pool range backwards", "ip:\n  local-pools:\n    P: [\"10.1.1.9 10.1.1.2\"]\n", "last address is below the first", 3, 9},
	{"pool holds 0.0.0.0", "ip:\n  local-pools:\n    P: [\"0.0.0.0 0.0.0.10\"]\n", "holds 0.0.0.0", 3, 9},
	{"pool holds the broadcast address", "ip:\n  local-pools:\n    P: {first: 10.0.0.1, last: 255.255.255.255}\n",
	 "holds 255.255.255.255", 3, 5},
	{"pool holds multicast", "ip:\n  local-pools:\n    P: [\"10.0.0.1 10.0.0.2\", \"223.255.255.250 224.0.0.5\"]\n",
	 "223.255.255.250 224.0.0.5 holds multicast addresses", 3, 30},
	{"pools past limits.pool-addresses",
	 "limits:\n  pool-addresses: 100\nip:\n  local-pools:\n    A: {first: 10.0.0.1, last: 10.0.0.50}\n"
	 "    B: {ranges: [\"10.0.1.1 10.0.1.40\", \"10.0.2.1 10.0.2.40\"]}\n",
	 "the pools hold 130 addresses or more, more than limits.pool-addresses (100)", 6, 40},
	{"pool with first/last and ranges", "ip:\n  local-pools:\n    P: {first: 10.0.0.1, last: 10.0.0.2, ranges: [\"10.0.1.1 10.0.1.2\"]}\n",
	 "give first/last or ranges, not both", 3, 16},
	{"pool with first only", "ip:\n  local-pools:\n    P: {first: 10.0.0.1}\n", "needs both first and last", 3, 5},
	{"pool without addresses", "ip:\n  local-pools:\n    P: {}\n", "no addresses", 3, 5},
	{"pool range garbage", "ip:\n  local-pools:\n    P: [\"10.0.0.1\"]\n", "expected 'FIRST LAST'", 3, 9},
	{"pool of too many ranges", "ip:\n  local-pools:\n    P: [" R8 R8 R8 R8 R8 R8 R8 R8 "\"10.9.9.9 10.9.9.9\"]\n",
	 "65 items, at most 64", 3, 8},
	{"identity-local malformed", "crypto:\n  ikev2:\n    profiles:\n      PR: {match-identity-remote: {fqdn: a.b}, authentication-remote: [], identity-local: fqdn}\n",
	 "identity-local must be", 4, 91},
};

/* The config is refused, and one of its errors is at line:col and says expect. */
static void check_bad(const struct bad *b)
{
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("bad.yaml", b->yaml, strlen(b->yaml), &errs);
	char where[64];
	bool ok = false;

	snprintf(where, sizeof(where), "bad.yaml:%u:%u: ", b->line, b->col);
	for (uint32_t e = 0; c == NULL && e < errs.n && e < FH_CFG_ERRS_MAX; e++)
		ok |= strncmp(errs.e[e].msg, where, strlen(where)) == 0 && strstr(errs.e[e].msg, b->expect) != NULL;
	if (!fh_check(ok, "refused: %s", b->what)) {
		printf("# want %s...%s\n", where, b->expect);
		for (uint32_t e = 0; e < errs.n && e < FH_CFG_ERRS_MAX; e++)
			printf("# got  %s\n", errs.e[e].msg);
	}
	fh_config_free(c);
}

static void test_bad_configs(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(&bad[i]);
}

/* A growing text buffer for generated configs. */
struct gen {
	char *s;
	size_t len;
	FILE *f;
};

static void gen_open(struct gen *g)
{
	g->s = NULL;
	g->len = 0;
	g->f = open_memstream(&g->s, &g->len);
}

static char *gen_close(struct gen *g)
{
	fclose(g->f);
	return g->s;
}

static struct fh_config *load_text(const char *name, const char *y, struct fh_cfg_errs *errs)
{
	memset(errs, 0, sizeof(*errs));
	return fh_config_load_buffer(name, y, strlen(y), errs);
}

static void test_limits_defaults(void)
{
	struct fh_cfg_errs errs;
	struct fh_config *c = load_text("empty.yaml", "", &errs);
	uint64_t need;

	if (!fh_check(c != NULL, "an empty config loads with the default limits"))
		return;
	fh_check(c->limits.interfaces == 20480 && c->limits.tunnels == 16384 && c->limits.sa_pairs == 32768 &&
			 c->limits.routes == 65536 && c->limits.next_hops == 32768 && c->limits.neighbours == 8192 &&
			 c->limits.neighbour_queue == 4 && c->limits.ike_sas == 16384 && c->limits.lpm_tbl8_groups == 8192 &&
			 c->limits.pos.line == 0,
		 "limits defaults: 20480 interfaces, 16384 tunnels, 32768 SA pairs, 65536 routes, ...");
	need = fh_limits_dp_bytes(c);
	/* the sum by hand, so a changed cost or default shows up here and in doc/config-guide.md */
	fh_check(need == 20480ull * 256 + 16384ull * 320 + 32768ull * 4608 + 65536ull * 96 + 32768ull * 32 +
				 8192ull * 96 + 8192ull * 4 * 8 + (1ull << 26) + 8192ull * 1024 + 8191ull * 2304,
		 "fh_limits_dp_bytes of the defaults: %llu bytes", (unsigned long long)need);
	fh_check((need >> 20) + 1 + FH_LIMITS_EAL_RESERVE_MB <= c->dataplane.memory_mb,
		 "the defaults (sized for 10,000 peers) fit the default memory-mb: %llu + %u <= %u MiB",
		 (unsigned long long)(need >> 20) + 1, FH_LIMITS_EAL_RESERVE_MB, c->dataplane.memory_mb);
	fh_check(fh_limits_ike_bytes(c) == 16384ull * 6144, "IKE SAs are counted apart (heap)");
	fh_config_free(c);

	c = load_text("limits.yaml", "limits:\n  tunnels: 100\n  sa-pairs: 200\n", &errs);
	fh_check(c != NULL && c->limits.tunnels == 100 && c->limits.sa_pairs == 200 && c->limits.routes == 65536 &&
			 c->limits.pos.line == 1 && c->limits.pos.col == 1,
		 "a limits block sets its keys, the others keep their defaults, its position is kept");
	fh_config_free(c);
}

/* Generated configs that cross one limit by one object: the error is at that object. */
static void test_limits_objects(void)
{
	struct gen g;
	struct bad b;
	char *y;

	gen_open(&g);
	fputs("limits: {interfaces: 16}\ninterfaces:\n", g.f);
	for (int i = 0; i < 17; i++)
		fprintf(g.f, "  Loopback%d: {}\n", i);
	y = gen_close(&g);
	b = (struct bad){"17 interfaces, limits.interfaces 16", y,
			 "interface Loopback16: the config has 17 interfaces, more than limits.interfaces (16); raise "
			 "limits.interfaces", 19, 3};
	check_bad(&b);
	free(y);

	/* 7 addresses (14 routes) + 2 routes fit 16; the third route does not */
	gen_open(&g);
	fputs("limits: {routes: 16}\ninterfaces:\n", g.f);
	for (int i = 0; i < 7; i++)
		fprintf(g.f, "  Loopback%d: {ip-address: 10.0.%d.1/32}\n", i, i);
	fputs("ip:\n  routes:\n", g.f);
	for (int i = 0; i < 3; i++)
		fprintf(g.f, "    - {prefix: 10.%d.0.0/16, interface: Loopback0}\n", 10 + i);
	y = gen_close(&g);
	b = (struct bad){"routes past limits.routes", y,
			 "ip route: route 17 of the config (with two per interface address) is past limits.routes (16); "
			 "raise limits.routes", 14, 7};
	check_bad(&b);
	free(y);

	gen_open(&g);
	fputs("limits: {routes: 16}\ninterfaces:\n", g.f);
	for (int i = 0; i < 9; i++)
		fprintf(g.f, "  Loopback%d: {ip-address: 10.0.%d.1/32}\n", i, i);
	y = gen_close(&g);
	b = (struct bad){"interface addresses past limits.routes", y,
			 "interface Loopback8: its address routes are past limits.routes (16); raise limits.routes", 11, 27};
	check_bad(&b);
	free(y);

	gen_open(&g);
	fputs("limits: {neighbours: 16}\n" IF_GI1 "ip:\n  arp:\n", g.f);
	for (int i = 0; i < 17; i++)
		fprintf(g.f, "    - {address: 192.168.0.%d, mac: 02:00:00:00:00:%02x, interface: Gi1}\n", 20 + i, i + 1);
	y = gen_close(&g);
	b = (struct bad){"static ARP past limits.neighbours", y,
			 "arp: the config has 17 static neighbours, more than limits.neighbours (16); raise limits.neighbours",
			 22, 7};
	check_bad(&b);
	free(y);
}

/* A hub written out with 10,001 static tunnels: refused under limits.tunnels 10000, naming it at
 * the 10,001st tunnel; accepted when the limit is raised, once memory-mb holds the tables. */
static char *hub_10001(const char *limits, const char *memory)
{
	struct gen g;

	gen_open(&g);
	fprintf(g.f, "dataplane: {%s}\nlimits: {%s}\ninterfaces:\n  Gi1: {device: net_null0, ip-address: 192.168.0.1/16}\n",
		memory, limits);
	for (uint32_t i = 0; i < 10001; i++)
		fprintf(g.f, "  Tunnel%u: {ip-address: 10.%u.%u.%u/30, tunnel-source: Gi1, tunnel-destination: 172.16.%u.%u}\n", i,
			(i * 4) >> 16, ((i * 4) >> 8) & 0xff, ((i * 4) & 0xff) + 1, i >> 8, i & 0xff);
	return gen_close(&g);
}

static void test_limits_10001_tunnels(void)
{
	struct fh_cfg_errs errs;
	struct fh_config *c;
	char *y;
	bool named = false;

	y = hub_10001("tunnels: 10000", "memory-mb: 512");
	c = load_text("hub10k.yaml", y, &errs);
	for (uint32_t e = 0; e < errs.n && e < FH_CFG_ERRS_MAX; e++)
		named |= strncmp(errs.e[e].msg, "hub10k.yaml:10005:3: interface Tunnel10000: ", 44) == 0 &&
			 strstr(errs.e[e].msg, "raise limits.tunnels") != NULL;
	if (!fh_check(c == NULL && errs.n == 1 && named, "10,001 tunnels under limits.tunnels 10000: refused at Tunnel10000"))
		fh_config_print_errs(stdout, &errs);
	fh_config_free(c);
	free(y);

	/* the most tunnels there are: 320 MiB of tunnel table, which 512 MiB cannot hold with the rest */
	y = hub_10001("tunnels: 1048576", "memory-mb: 512");
	c = load_text("hub10k.yaml", y, &errs);
	if (!fh_check(c == NULL && errs.n == 1 && strstr(errs.e[0].msg, "hub10k.yaml:2:1: ") == errs.e[0].msg &&
			      strstr(errs.e[0].msg, "raise memory-mb or lower limits.tunnels (the largest share, 320 MiB)") != NULL,
		      "limits.tunnels raised past memory-mb: refused naming memory-mb and limits.tunnels"))
		fh_config_print_errs(stdout, &errs);
	fh_config_free(c);
	free(y);

	y = hub_10001("tunnels: 1048576", "memory-mb: 1024");
	c = load_text("hub10k.yaml", y, &errs);
	if (!fh_check(c != NULL && c->n_iface == 10002 && c->limits.tunnels == 1048576,
		      "10,001 tunnels with limits.tunnels raised and memory-mb 1024: accepted"))
		fh_config_print_errs(stdout, &errs);
	fh_config_free(c);
	free(y);
}

static void test_alias_bomb_bounded(void)
{
	/* 10^7 leaves through aliases: refused for size, quickly, without walking them all */
	static const char y[] =
		"debug: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"dataplane: {eal-args: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n";
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("bomb.yaml", y, sizeof(y) - 1, &errs);

	fh_check(c == NULL && errs.n >= 1, "aliases used as list items are refused as a type error");
	fh_config_free(c);
}

static void test_all_errors_listed(void)
{
	static const char y[] = "hostnme: x\n"
				"crypto:\n  ikev2:\n    policies:\n      POL: {proposals: [NOPE]}\n"
				"ip:\n  local-pools:\n    A: {first: 10.1.1.200, last: 10.1.1.2}\n";
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("multi.yaml", y, sizeof(y) - 1, &errs);

	/* parse errors stop before cross checks, so the unknown key is the one listed */
	fh_check(c == NULL && errs.n == 1 && strstr(errs.e[0].msg, "hostnme"), "parse errors are reported first");
	{
		static const char z[] = "crypto:\n  ikev2:\n    policies:\n      POL: {proposals: [NOPE]}\n"
					"ip:\n  local-pools:\n    A: {first: 10.1.1.200, last: 10.1.1.2}\n"
					"interfaces:\n  Gi1: {ip-address: 10.0.0.1/24}\n";
		memset(&errs, 0, sizeof(errs));
		c = fh_config_load_buffer("multi.yaml", z, sizeof(z) - 1, &errs);
		fh_check(c == NULL && errs.n == 3, "every semantic error is listed (%u)", errs.n);
	}
	fh_config_free(c);
}

static void test_schema(void)
{
	char err[256] = "";
	char *gen = NULL, *have = NULL;
	size_t glen = 0;
	FILE *f = open_memstream(&gen, &glen);
	char path[512];
	long n = 0;

	fh_check(fh_schema_check_defaults(fh_schema_root, err, sizeof(err)) == 0, "every schema default parses %s", err);
	fh_config_schema_doc(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/doc/config.md", root);
	f = fopen(path, "rb");
	if (f != NULL) {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		have = calloc(1, (size_t)n + 1);
		if (fread(have, 1, (size_t)n, f) != (size_t)n)
			n = -1;
		fclose(f);
	}
	if (!fh_check(have != NULL && strcmp(have, gen) == 0, "doc/config.md matches the schema"))
		printf("# regenerate: build/app/flexhub/flexhub --schema-doc > doc/config.md\n");
	free(gen);
	free(have);
}

static void test_json(void)
{
	struct fh_cfg_errs errs;
	struct fh_config *c = load_example("hub.yaml", &errs);
	char *j;
	int depth = 0, min = 0;
	bool instr = false;

	if (c == NULL)
		return;
	j = emit(c, FH_EMIT_JSON, 0);
	for (char *p = j; *p; p++) {
		if (instr) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				instr = false;
			continue;
		}
		if (*p == '"')
			instr = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		if (depth < min)
			min = depth;
	}
	fh_check(j[0] == '{' && depth == 0 && min == 0 && strstr(j, "\"FlexPool\":{\"first\":\"10.1.1.2\"") != NULL,
		 "JSON output is balanced and carries the pool");
	free(j);
	fh_config_free(c);
}

/* The three ways to write a pool, their normalized forms, and the fixed point. */
static void test_pool_forms(void)
{
	static const struct {
		const char *what, *yaml, *emitted;
		uint32_t n;
	} forms[] = {
		{"first/last", "ip:\n  local-pools:\n    P: {first: 10.1.1.2, last: 10.1.1.254}\n",
		 "    P:\n      first: 10.1.1.2\n      last: 10.1.1.254\n", 1},
		{"IOS strings", "ip:\n  local-pools:\n    P: [\"10.1.1.2 10.1.1.254\", 10.2.0.1  10.2.0.100]\n",
		 "    P:\n      ranges:\n        - 10.1.1.2 10.1.1.254\n        - 10.2.0.1 10.2.0.100\n", 2},
		{"ranges key", "ip:\n  local-pools:\n    P:\n      ranges:\n        - 10.2.0.1 10.2.0.100\n        - 10.1.1.2 10.1.1.254\n",
		 "    P:\n      ranges:\n        - 10.2.0.1 10.2.0.100\n        - 10.1.1.2 10.1.1.254\n", 2},
		{"one string", "ip:\n  local-pools:\n    P: 10.1.1.2 10.1.1.254\n",
		 "    P:\n      first: 10.1.1.2\n      last: 10.1.1.254\n", 1},
		{"a list of one", "ip:\n  local-pools:\n    P: {ranges: [\"10.1.1.2 10.1.1.254\"]}\n",
		 "    P:\n      first: 10.1.1.2\n      last: 10.1.1.254\n", 1},
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct fh_cfg_errs errs;
		struct fh_config *c = load_text("pool.yaml", forms[i].yaml, &errs), *again;
		char *a, *b;

		if (!fh_check(c != NULL && c->n_pool == 1 && c->pool[0].n_range == forms[i].n, "pool %s: loads, %u range(s)",
			      forms[i].what, forms[i].n)) {
			fh_config_print_errs(stdout, &errs);
			fh_config_free(c);
			continue;
		}
		fh_check(c->pool[0].range[0].first == (i == 2 ? 0x0a020001u : 0x0a010102u) &&
				 c->pool[0].range[forms[i].n - 1].last == (i == 1 ? 0x0a020064u : 0x0a0101feu),
			 "pool %s: range values", forms[i].what);
		a = emit(c, FH_EMIT_YAML, 0);
		again = load_text("again.yaml", a, &errs);
		b = again ? emit(again, FH_EMIT_YAML, 0) : NULL;
		fh_check(strstr(a, forms[i].emitted) != NULL && b != NULL && strcmp(a, b) == 0,
			 "pool %s: normalized form as expected, and a fixed point", forms[i].what);
		free(a);
		free(b);
		fh_config_free(again);
		fh_config_free(c);
	}
}

/* Normalized output reloads to itself: an empty list whose key has a default, and strings with
 * characters YAML takes only escaped (both found by fuzz_config). */
static void test_fixed_point_cases(void)
{
	static const char *const y[] = {
		"interfaces:\n  Loopback0: {description: \"a\\x7f\\u0080\\x85\\u2028 \\u2029        b\\ufeff\"}\n",
		"hostname: \"x\\u2028 y\"\n",
	};
	struct fh_cfg_errs errs;
	struct fh_config *c = load_example("hub.yaml", &errs);
	char *a, *b;

	for (size_t i = 0; i < sizeof(y) / sizeof(y[0]); i++) {
		struct fh_config *p = load_text("s.yaml", y[i], &errs), *q;

		a = p ? emit(p, FH_EMIT_YAML, 0) : NULL;
		q = a ? load_text("again.yaml", a, &errs) : NULL;
		b = q ? emit(q, FH_EMIT_YAML, 0) : NULL;
		fh_check(b != NULL && strcmp(a, b) == 0, "fixed point: escaped string %zu reloads to itself", i);
		free(a);
		free(b);
		fh_config_free(p);
		fh_config_free(q);
	}
	if (c == NULL)
		return;
	c->ike_profile[0].n_auth_remote = 0; /* as "authentication-remote: []" loads */
	a = emit(c, FH_EMIT_YAML, 0);
	{
		struct fh_config *q = load_text("again.yaml", a, &errs);

		b = q ? emit(q, FH_EMIT_YAML, 0) : NULL;
		fh_check(strstr(a, "authentication-remote: []") != NULL && b != NULL && strcmp(a, b) == 0 &&
				 q->ike_profile[0].n_auth_remote == 0,
			 "fixed point: an empty list with a default prints as [] and stays empty");
		fh_config_free(q);
	}
	free(a);
	free(b);
	fh_config_free(c);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		root = argv[1];
	test_examples();
	test_site_to_site_values();
	test_hub_values();
	test_smart_defaults();
	test_bad_configs();
	test_limits_defaults();
	test_limits_objects();
	test_limits_10001_tunnels();
	test_alias_bomb_bounded();
	test_all_errors_listed();
	test_schema();
	test_json();
	test_pool_forms();
	test_fixed_point_cases();
	return fh_test_done();
}
