/* SPDX-License-Identifier: BSD-3-Clause */
/* Which IKEv2 profile and keyring entry a hub picks for a peer's identity (IOS precedence). */
#include <string.h>

#include "fh_test.h"
#include "ike_int.h"

static const char CFG[] =
	"hostname: hub\n"
	"crypto:\n"
	"  ikev2:\n"
	"    proposals: {P: {encryption: aes-cbc-256, integrity: sha256, group: 14}}\n"
	"    policies: {POL: {proposals: P}}\n"
	"    keyrings:\n"
	"      K:\n"
	"        peers:\n"
	"          ANY: {address: 0.0.0.0 0.0.0.0, pre-shared-key: any-key}\n"
	"          NET: {address: 192.168.0.0 255.255.255.0, pre-shared-key: net-key}\n"
	"          HOST: {address: 192.168.0.20 255.255.255.255, pre-shared-key: host-key}\n"
	"          ONE: {identity: fqdn spoke1.example.com, pre-shared-key: spoke1-key}\n"
	"          MAIL: {identity: email ops@example.com, pre-shared-key: mail-key}\n"
	"    profiles:\n"
	"      P_ANY: {match-identity-remote: {any: true}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"      P_DOM: {match-identity-remote: {fqdn: [domain example.com]}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"      P_EXACT: {match-identity-remote: {fqdn: [spoke9.example.com]}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"      P_MAIL: {match-identity-remote: {email: [domain example.com]}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"      P_NET: {match-identity-remote: {address: [10.0.0.0/8]}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"      P_HOST: {match-identity-remote: {address: [10.1.2.3]}, authentication-remote: pre-share,\n"
	"              authentication-local: pre-share, keyring: K}\n"
	"interfaces:\n"
	"  GigabitEthernet1: {device: net_null0, ip-address: 192.168.0.10 255.255.255.0}\n";

static struct fh_ike_id fqdn(const char *s)
{
	return (struct fh_ike_id){.type = 2, .data = (const uint8_t *)s, .len = (uint16_t)strlen(s)};
}

static struct fh_ike_id email(const char *s)
{
	return (struct fh_ike_id){.type = 3, .data = (const uint8_t *)s, .len = (uint16_t)strlen(s)};
}

static const char *profile(const struct fh_config *c, struct fh_ike_id id)
{
	int p = ike_profile_for_id(c, &id, 0);

	return p >= 0 ? c->ike_profile[p].hdr.name : "-";
}

static const char *peer(const struct fh_config *c, const struct fh_ike_id *id, uint32_t remote)
{
	int p = ike_profile_for_id(c, id, remote), k = ike_keyring_peer(c, p, id, remote);

	return k >= 0 ? c->keyring[c->ike_profile[p].keyring_idx].peer[k].hdr.name : "-";
}

int main(void)
{
	struct fh_cfg_errs errs = {0};
	struct fh_config *c = fh_config_load_buffer("policy.yaml", CFG, sizeof(CFG) - 1, &errs);
	uint8_t a1[4] = {10, 1, 2, 3}, a2[4] = {10, 9, 9, 9}, a3[4] = {172, 16, 0, 1};
	struct fh_ike_id ip1 = {.type = 1, .data = a1, .len = 4}, ip2 = {.type = 1, .data = a2, .len = 4},
			 ip3 = {.type = 1, .data = a3, .len = 4};

	if (!fh_check(c != NULL, "config loads (%s)", errs.n ? errs.e[0].msg : "ok"))
		return fh_test_done();
	fh_check(strcmp(profile(c, fqdn("spoke9.example.com")), "P_EXACT") == 0, "an exact fqdn beats its domain");
	fh_check(strcmp(profile(c, fqdn("spoke1.example.com")), "P_DOM") == 0, "fqdn domain matches a name in it");
	fh_check(strcmp(profile(c, fqdn("example.com")), "P_DOM") == 0, "fqdn domain matches the domain itself");
	fh_check(strcmp(profile(c, fqdn("evil-example.com")), "P_ANY") == 0, "fqdn domain is not a suffix match of the text");
	fh_check(strcmp(profile(c, fqdn("SPOKE2.Example.COM")), "P_DOM") == 0, "domains compare without case (DNS)");
	fh_check(strcmp(profile(c, email("ops@example.com")), "P_MAIL") == 0, "email domain matches user@domain");
	fh_check(strcmp(profile(c, email("ops@sub.example.com")), "P_ANY") == 0, "email domain: not a subdomain");
	fh_check(strcmp(profile(c, ip1), "P_HOST") == 0, "an address /32 beats its network");
	fh_check(strcmp(profile(c, ip2), "P_NET") == 0, "an address in the network");
	fh_check(strcmp(profile(c, ip3), "P_ANY") == 0, "anything else falls to match identity remote any");
	{
		struct fh_ike_id s1 = fqdn("spoke1.example.com"), s2 = fqdn("spoke2.example.com"), m = email("ops@example.com");

		fh_check(strcmp(peer(c, &s1, 0xc0a80014), "ONE") == 0, "keyring: the peer's identity first");
		fh_check(strcmp(peer(c, &m, 0xc0a80014), "MAIL") == 0, "keyring: an email identity");
		fh_check(strcmp(peer(c, &s2, 0xc0a80014), "HOST") == 0, "keyring: then the longest address match (/32)");
		fh_check(strcmp(peer(c, &s2, 0xc0a80015), "NET") == 0, "keyring: a /24");
		fh_check(strcmp(peer(c, &s2, 0x0a000001), "ANY") == 0, "keyring: 0.0.0.0 0.0.0.0 for any");
	}
	fh_config_free(c);
	return fh_test_done();
}
