/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one table of configuration keys. Adding a key here makes the loader accept it, the emitter
 * print it and doc/config.md describe it; semantic checks across blocks live in validate.c.
 */
#include <stddef.h>

#include "fh_limits.h"
#include "schema.h"

#define OFF(st, m) offsetof(struct st, m)
#define SZ(st, m) sizeof(((struct st *)0)->m)
#define HAS(st, m) (offsetof(struct st, m) + 1)
#define STR_(x) #x
#define STR(x) STR_(x)
#define NELEM(st, m) (sizeof(((struct st *)0)->m) / sizeof(((struct st *)0)->m[0]))

const struct fh_enum fh_enum_encr[] = {
	{"aes-cbc-256", FH_ENCR_AES_CBC_256}, {"aes-cbc-192", FH_ENCR_AES_CBC_192},
	{"aes-cbc-128", FH_ENCR_AES_CBC_128}, {"aes-gcm-256", FH_ENCR_AES_GCM_256},
	{"aes-gcm-128", FH_ENCR_AES_GCM_128}, {NULL, 0},
};

/* IOS spells ESP transforms "esp-aes 256"; both that and the dashed form are accepted. */
const struct fh_enum fh_enum_esp_encr[] = {
	{"esp-aes-256", FH_ENCR_AES_CBC_256}, {"esp-aes-192", FH_ENCR_AES_CBC_192},
	{"esp-aes-128", FH_ENCR_AES_CBC_128}, {"esp-gcm-256", FH_ENCR_AES_GCM_256},
	{"esp-gcm-128", FH_ENCR_AES_GCM_128}, {"esp-null", FH_ENCR_NULL},
	{"esp-aes 256", FH_ENCR_AES_CBC_256}, {"esp-aes 192", FH_ENCR_AES_CBC_192},
	{"esp-aes 128", FH_ENCR_AES_CBC_128}, {"esp-aes", FH_ENCR_AES_CBC_128},
	{"esp-gcm 256", FH_ENCR_AES_GCM_256}, {"esp-gcm 128", FH_ENCR_AES_GCM_128},
	{"esp-gcm", FH_ENCR_AES_GCM_128}, {NULL, 0},
};

const struct fh_enum fh_enum_integ[] = {
	{"sha1", FH_INTEG_SHA1_96}, {"sha256", FH_INTEG_SHA256_128},
	{"sha384", FH_INTEG_SHA384_192}, {"sha512", FH_INTEG_SHA512_256}, {NULL, 0},
};

const struct fh_enum fh_enum_esp_integ[] = {
	{"esp-sha-hmac", FH_INTEG_SHA1_96}, {"esp-sha256-hmac", FH_INTEG_SHA256_128},
	{"esp-sha384-hmac", FH_INTEG_SHA384_192}, {"esp-sha512-hmac", FH_INTEG_SHA512_256},
	{"none", FH_INTEG_NONE}, {NULL, 0},
};

const struct fh_enum fh_enum_prf[] = {
	{"sha1", FH_PRF_SHA1}, {"sha256", FH_PRF_SHA256},
	{"sha384", FH_PRF_SHA384}, {"sha512", FH_PRF_SHA512}, {NULL, 0},
};

const struct fh_enum fh_enum_auth[] = {
	{"pre-share", FH_AUTH_PSK}, {"rsa-sig", FH_AUTH_RSA_SIG}, {"eap", FH_AUTH_EAP}, {NULL, 0},
};

const struct fh_enum fh_enum_dpd[] = {
	{"on-demand", FH_DPD_ON_DEMAND}, {"periodic", FH_DPD_PERIODIC}, {NULL, 0},
};

const struct fh_enum fh_enum_esp_mode[] = {
	{"tunnel", FH_ESP_TUNNEL}, {"transport", FH_ESP_TRANSPORT}, {NULL, 0},
};

const struct fh_enum fh_enum_tun_mode[] = {
	{"gre", FH_TUN_GRE}, {"ipsec", FH_TUN_IPSEC},
	{"gre ip", FH_TUN_GRE}, {"ipsec ipv4", FH_TUN_IPSEC}, {NULL, 0},
};

const struct fh_enum fh_enum_aaa_method[] = {
	{"local", FH_AAA_LOCAL}, {"radius", FH_AAA_RADIUS}, {NULL, 0},
};

const struct fh_enum fh_enum_aaa_group[] = {
	{"psk", FH_AAA_GROUP_PSK}, {"cert", FH_AAA_GROUP_CERT}, {"eap", FH_AAA_GROUP_EAP}, {NULL, 0},
};

const struct fh_enum fh_enum_engine[] = {
	{"ipsec-mb", FH_ENGINE_IPSEC_MB}, {"openssl", FH_ENGINE_OPENSSL}, {NULL, 0},
};

/* Elements of scalar lists. */
static const struct fh_key el_name[] = {{.name = "name", .type = FH_K_STR, .size = FH_NAME_MAX}};
static const struct fh_key el_path[] = {{.name = "arg", .type = FH_K_STR, .size = FH_DEVARGS_MAX}};
static const struct fh_key el_prefix[] = {{.name = "prefix", .type = FH_K_PREFIX}};
static const struct fh_key el_ipv4[] = {{.name = "address", .type = FH_K_IPV4}};
static const struct fh_key el_ace[] = {{.name = "entry", .type = FH_K_ACE}};
static const struct fh_key el_encr[] = {{.name = "encryption", .type = FH_K_ENUM, .enums = fh_enum_encr}};
static const struct fh_key el_integ[] = {{.name = "integrity", .type = FH_K_ENUM, .enums = fh_enum_integ}};
static const struct fh_key el_prf[] = {{.name = "prf", .type = FH_K_ENUM, .enums = fh_enum_prf}};
static const struct fh_key el_auth[] = {{.name = "method", .type = FH_K_ENUM, .enums = fh_enum_auth}};
/* DH groups: MODP 14-16 (RFC 3526), ECP 19-21 (RFC 5903), Curve25519 31 (RFC 8031). */
static const struct fh_key el_group[] = {{.name = "group", .type = FH_K_U32, .min = 1, .max = 65535}};

#define SCALAR_LIST(kname, st, m, el, d, doctext)                                                   \
	{                                                                                            \
		.name = kname, .type = FH_K_LIST, .off = OFF(st, m), .size = sizeof(((struct st *)0)->m[0]), \
		.cnt_off = OFF(st, n_##m), .max = NELEM(st, m), .sub = el, .dflt = d, .doc = doctext      \
	}

static const struct fh_key k_proposal[] = {
	SCALAR_LIST("encryption", fh_cfg_proposal, encr, el_encr, NULL,
		    "IKE SA ciphers, in order of preference: aes-cbc-128|192|256, aes-gcm-128|256."),
	SCALAR_LIST("integrity", fh_cfg_proposal, integ, el_integ, NULL,
		    "IKE SA integrity: sha1, sha256, sha384, sha512. Must be empty with AES-GCM."),
	SCALAR_LIST("prf", fh_cfg_proposal, prf, el_prf, NULL,
		    "PRFs; when absent, the PRFs that match the integrity list (or sha256.. for GCM)."),
	SCALAR_LIST("group", fh_cfg_proposal, group, el_group, NULL,
		    "Diffie-Hellman groups: 14, 15, 16 (MODP), 19, 20, 21 (ECP), 31 (Curve25519)."),
	{0},
};

static const struct fh_key k_ike_policy[] = {
	SCALAR_LIST("proposals", fh_cfg_ike_policy, proposal, el_name, NULL,
		    "ikev2 proposals offered/accepted, in order."),
	SCALAR_LIST("match-address-local", fh_cfg_ike_policy, match_local, el_prefix, NULL,
		    "Use this policy only for IKE on these local addresses (empty = any)."),
	{0},
};

static const struct fh_key k_peer[] = {
	{.name = "address", .type = FH_K_PREFIX, .off = OFF(fh_cfg_peer, address),
	 .has_off = HAS(fh_cfg_peer, has_address),
	 .doc = "Peer address or network: 192.168.0.20, 0.0.0.0 0.0.0.0 or 0.0.0.0/0 for any."},
	{.name = "identity", .type = FH_K_STR, .off = OFF(fh_cfg_peer, identity), .size = SZ(fh_cfg_peer, identity),
	 .doc = "Match the peer's IKE identity instead: \"fqdn NAME\", \"email NAME\", \"address A\", \"key-id ID\"."},
	{.name = "hostname", .type = FH_K_STR, .off = OFF(fh_cfg_peer, hostname), .size = SZ(fh_cfg_peer, hostname),
	 .doc = "Peer host name, used by the initiator to pick this entry."},
	{.name = "pre-shared-key", .type = FH_K_STR, .off = OFF(fh_cfg_peer, psk), .size = SZ(fh_cfg_peer, psk),
	 .flags = FH_F_SECRET, .doc = "Symmetric key: sets both local and remote."},
	{.name = "pre-shared-key-local", .type = FH_K_STR, .off = OFF(fh_cfg_peer, psk_local),
	 .size = SZ(fh_cfg_peer, psk_local), .flags = FH_F_SECRET, .doc = "Key this router signs with."},
	{.name = "pre-shared-key-remote", .type = FH_K_STR, .off = OFF(fh_cfg_peer, psk_remote),
	 .size = SZ(fh_cfg_peer, psk_remote), .flags = FH_F_SECRET, .doc = "Key the peer's AUTH is verified with."},
	{0},
};

static const struct fh_key k_keyring[] = {
	{.name = "peers", .type = FH_K_MAP, .off = OFF(fh_cfg_keyring, peer), .size = sizeof(struct fh_cfg_peer),
	 .cnt_off = OFF(fh_cfg_keyring, n_peer), .sub = k_peer, .flags = FH_F_REQUIRED,
	 .doc = "Peers by name (\"peer FLEVPNPeers\")."},
	{0},
};

static const struct fh_key k_match_identity[] = {
	{.name = "any", .type = FH_K_BOOL, .off = OFF(fh_cfg_match_identity, any), .dflt = "false",
	 .doc = "Any remote identity (\"match identity remote any\"); the least specific match."},
	SCALAR_LIST("address", fh_cfg_match_identity, address, el_prefix, NULL,
		    "Remote IKE identity of type address, within these networks (0.0.0.0 = any)."),
	SCALAR_LIST("fqdn", fh_cfg_match_identity, fqdn, el_name, NULL,
		    "Remote identity of type FQDN: a name, or \"domain D\" for any name in D."),
	SCALAR_LIST("email", fh_cfg_match_identity, email, el_name, NULL,
		    "Remote identity of type RFC822: an address, or \"domain D\" for any user@D."),
	SCALAR_LIST("key-id", fh_cfg_match_identity, key_id, el_name, NULL, "Remote identity of type KEY_ID."),
	{0},
};

static const struct fh_key k_dpd[] = {
	{.name = "interval", .type = FH_K_U32, .off = OFF(fh_cfg_dpd, interval), .min = 10, .max = 3600,
	 .flags = FH_F_REQUIRED, .doc = "Seconds between liveness checks (IOS: 10-3600)."},
	{.name = "retries", .type = FH_K_U32, .off = OFF(fh_cfg_dpd, retries), .min = 2, .max = 60, .dflt = "2",
	 .doc = "Seconds between retransmitted checks before the peer is declared dead (IOS: 2-60)."},
	{.name = "mode", .type = FH_K_ENUM, .off = OFF(fh_cfg_dpd, mode), .enums = fh_enum_dpd, .dflt = "on-demand",
	 .doc = "on-demand: only when traffic is sent but none received; periodic: always."},
	{0},
};

static const struct fh_key k_aaa_authz[] = {
	{.name = "group", .type = FH_K_ENUM, .off = OFF(fh_cfg_aaa_authz, group), .enums = fh_enum_aaa_group,
	 .dflt = "psk", .doc = "Which peers it applies to: psk, cert, eap."},
	{.name = "list", .type = FH_K_STR, .off = OFF(fh_cfg_aaa_authz, list), .size = SZ(fh_cfg_aaa_authz, list),
	 .flags = FH_F_REQUIRED, .doc = "aaa authorization network list."},
	{.name = "policy", .type = FH_K_STR, .off = OFF(fh_cfg_aaa_authz, policy),
	 .size = SZ(fh_cfg_aaa_authz, policy), .flags = FH_F_REQUIRED, .doc = "ikev2 authorization policy."},
	{0},
};

static const struct fh_key k_ike_profile[] = {
	{.name = "match-identity-remote", .type = FH_K_OBJ, .off = OFF(fh_cfg_ike_profile, match_remote),
	 .sub = k_match_identity, .flags = FH_F_REQUIRED, .doc = "\"match identity remote ...\"."},
	{.name = "identity-local", .type = FH_K_STR, .off = OFF(fh_cfg_ike_profile, identity_local),
	 .size = SZ(fh_cfg_ike_profile, identity_local), .dflt = "address",
	 .doc = "Own IKE identity: address, \"fqdn NAME\", \"email NAME\", \"key-id ID\"."},
	{.name = "authentication-local", .type = FH_K_ENUM, .off = OFF(fh_cfg_ike_profile, auth_local),
	 .enums = fh_enum_auth, .dflt = "pre-share", .doc = "How this router authenticates itself."},
	SCALAR_LIST("authentication-remote", fh_cfg_ike_profile, auth_remote, el_auth, "pre-share",
		    "How peers may authenticate."),
	{.name = "keyring", .type = FH_K_STR, .off = OFF(fh_cfg_ike_profile, keyring),
	 .size = SZ(fh_cfg_ike_profile, keyring), .doc = "\"keyring local NAME\" (needed for pre-share)."},
	{.name = "lifetime", .type = FH_K_U32, .off = OFF(fh_cfg_ike_profile, lifetime), .min = 120, .max = 86400,
	 .dflt = "86400", .doc = "IKE SA lifetime in seconds (IOS: 120-86400)."},
	{.name = "dpd", .type = FH_K_OBJ, .off = OFF(fh_cfg_ike_profile, dpd), .sub = k_dpd,
	 .has_off = OFF(fh_cfg_ike_profile, dpd) + OFF(fh_cfg_dpd, present) + 1,
	 .doc = "Dead peer detection (\"dpd 10 2 on-demand\"); absent = off."},
	{.name = "nat-keepalive", .type = FH_K_U32, .off = OFF(fh_cfg_ike_profile, nat_keepalive), .min = 0,
	 .max = 3600, .dflt = "0", .doc = "Seconds between NAT keepalives when behind NAT (0 = off)."},
	{.name = "aaa-authorization", .type = FH_K_OBJ, .off = OFF(fh_cfg_ike_profile, aaa), .sub = k_aaa_authz,
	 .has_off = OFF(fh_cfg_ike_profile, aaa) + OFF(fh_cfg_aaa_authz, present) + 1,
	 .doc = "\"aaa authorization group psk list LIST POLICY\"."},
	{.name = "virtual-template", .type = FH_K_U32, .off = OFF(fh_cfg_ike_profile, virtual_template), .min = 0,
	 .max = 65535, .dflt = "0", .doc = "Clone Virtual-Access interfaces from this Virtual-Template (0 = none)."},
	{0},
};

static const struct fh_key k_authz_policy[] = {
	{.name = "pool", .type = FH_K_STR, .off = OFF(fh_cfg_authz_policy, pool), .size = SZ(fh_cfg_authz_policy, pool),
	 .doc = "ip local pool that peer addresses come from."},
	{.name = "netmask", .type = FH_K_IPV4, .off = OFF(fh_cfg_authz_policy, netmask), .dflt = "0.0.0.0",
	 .doc = "Pushed INTERNAL_IP4_NETMASK (0.0.0.0 = none)."},
	SCALAR_LIST("dns", fh_cfg_authz_policy, dns, el_ipv4, NULL, "Up to two pushed DNS servers."),
	SCALAR_LIST("wins", fh_cfg_authz_policy, wins, el_ipv4, NULL, "Up to two pushed WINS servers."),
	{.name = "def-domain", .type = FH_K_STR, .off = OFF(fh_cfg_authz_policy, def_domain),
	 .size = SZ(fh_cfg_authz_policy, def_domain), .doc = "Pushed default domain."},
	{.name = "route-set-interface", .type = FH_K_BOOL, .off = OFF(fh_cfg_authz_policy, route_set_interface),
	 .dflt = "false", .doc = "Push the tunnel interface's address as a /32 route (\"route set interface\")."},
	{.name = "route-set-access-list", .type = FH_K_STR, .off = OFF(fh_cfg_authz_policy, route_set_acl),
	 .size = SZ(fh_cfg_authz_policy, route_set_acl), .doc = "Push the permits of this standard access list as routes."},
	{.name = "route-accept-any", .type = FH_K_BOOL, .off = OFF(fh_cfg_authz_policy, route_accept_any),
	 .dflt = "true", .doc = "Install routes the peer pushes."},
	{.name = "idle-timeout", .type = FH_K_U32, .off = OFF(fh_cfg_authz_policy, idle_timeout), .max = 86400,
	 .dflt = "0", .doc = "Tear down a session idle this many seconds (0 = never)."},
	{.name = "session-lifetime", .type = FH_K_U32, .off = OFF(fh_cfg_authz_policy, session_lifetime),
	 .max = 31536000, .dflt = "0", .doc = "Tear down a session after this many seconds (0 = never)."},
	{0},
};

static const struct fh_key k_transform_set[] = {
	{.name = "encryption", .type = FH_K_ENUM, .off = OFF(fh_cfg_transform_set, encr), .enums = fh_enum_esp_encr,
	 .flags = FH_F_REQUIRED, .doc = "esp-aes-128|192|256 (or \"esp-aes 256\"), esp-gcm-128|256, esp-null."},
	{.name = "integrity", .type = FH_K_ENUM, .off = OFF(fh_cfg_transform_set, integ), .enums = fh_enum_esp_integ,
	 .dflt = "none", .doc = "esp-sha-hmac, esp-sha256-hmac, esp-sha384-hmac, esp-sha512-hmac; none with GCM."},
	{.name = "mode", .type = FH_K_ENUM, .off = OFF(fh_cfg_transform_set, mode), .enums = fh_enum_esp_mode,
	 .dflt = "tunnel", .doc = "ESP mode: tunnel or transport."},
	{0},
};

static const struct fh_key k_ipsec_profile[] = {
	SCALAR_LIST("transform-sets", fh_cfg_ipsec_profile, transform_set, el_name, NULL,
		    "\"set transform-set\": accepted transform sets, in order."),
	{.name = "ikev2-profile", .type = FH_K_STR, .off = OFF(fh_cfg_ipsec_profile, ike_profile),
	 .size = SZ(fh_cfg_ipsec_profile, ike_profile), .doc = "\"set ikev2-profile\"."},
	{.name = "pfs", .type = FH_K_U32, .off = OFF(fh_cfg_ipsec_profile, pfs_group), .max = 65535, .dflt = "0",
	 .doc = "DH group for PFS on CREATE_CHILD_SA (0 = no PFS)."},
	{.name = "lifetime-seconds", .type = FH_K_U32, .off = OFF(fh_cfg_ipsec_profile, lifetime_seconds),
	 .min = 120, .max = 2592000, .dflt = "3600", .doc = "Child SA lifetime in seconds."},
	{.name = "lifetime-kilobytes", .type = FH_K_U32, .off = OFF(fh_cfg_ipsec_profile, lifetime_kilobytes),
	 .min = 2560, .max = 4294967295u, .dflt = "4608000", .doc = "Child SA lifetime in kilobytes."},
	{.name = "replay-window", .type = FH_K_U32, .off = OFF(fh_cfg_ipsec_profile, replay_window), .min = 0,
	 .max = 4096, .dflt = "1024", .doc = "Anti-replay window in packets (0 = off; 64..4096)."},
	{0},
};

static const struct fh_key k_static_sa[] = {
	{.name = "interface", .type = FH_K_STR, .off = OFF(fh_cfg_static_sa, interface),
	 .size = SZ(fh_cfg_static_sa, interface), .flags = FH_F_REQUIRED, .doc = "Tunnel the SA pair protects."},
	{.name = "spi-in", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, spi_in), .min = 256, .max = 4294967295u,
	 .flags = FH_F_REQUIRED | FH_F_HEXNUM, .doc = "Inbound SPI (256 and up; 1-255 are reserved by IANA)."},
	{.name = "spi-out", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, spi_out), .min = 256, .max = 4294967295u,
	 .flags = FH_F_REQUIRED | FH_F_HEXNUM, .doc = "Outbound SPI."},
	{.name = "encryption", .type = FH_K_ENUM, .off = OFF(fh_cfg_static_sa, encr), .enums = fh_enum_esp_encr,
	 .flags = FH_F_REQUIRED, .doc = "As in transform sets."},
	{.name = "integrity", .type = FH_K_ENUM, .off = OFF(fh_cfg_static_sa, integ), .enums = fh_enum_esp_integ,
	 .dflt = "none", .doc = "As in transform sets."},
	{.name = "mode", .type = FH_K_ENUM, .off = OFF(fh_cfg_static_sa, mode), .enums = fh_enum_esp_mode,
	 .dflt = "tunnel", .doc = "ESP mode."},
	{.name = "encryption-key-in", .type = FH_K_HEX, .off = OFF(fh_cfg_static_sa, enc_key_in),
	 .size = SZ(fh_cfg_static_sa, enc_key_in), .flags = FH_F_SECRET,
	 .doc = "Hex; for GCM the key followed by the 4-byte salt (RFC 4106)."},
	{.name = "encryption-key-out", .type = FH_K_HEX, .off = OFF(fh_cfg_static_sa, enc_key_out),
	 .size = SZ(fh_cfg_static_sa, enc_key_out), .flags = FH_F_SECRET, .doc = "Hex."},
	{.name = "integrity-key-in", .type = FH_K_HEX, .off = OFF(fh_cfg_static_sa, auth_key_in),
	 .size = SZ(fh_cfg_static_sa, auth_key_in), .flags = FH_F_SECRET, .doc = "Hex, length of the HMAC key."},
	{.name = "integrity-key-out", .type = FH_K_HEX, .off = OFF(fh_cfg_static_sa, auth_key_out),
	 .size = SZ(fh_cfg_static_sa, auth_key_out), .flags = FH_F_SECRET, .doc = "Hex."},
	{.name = "esn", .type = FH_K_BOOL, .off = OFF(fh_cfg_static_sa, esn), .dflt = "false",
	 .doc = "64-bit extended sequence numbers."},
	{.name = "udp-encap", .type = FH_K_BOOL, .off = OFF(fh_cfg_static_sa, udp_encap), .dflt = "false",
	 .doc = "ESP in UDP 4500 (RFC 3948)."},
	{.name = "replay-window", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, replay_window), .max = 4096,
	 .dflt = "1024", .doc = "Anti-replay window (0 = off)."},
	{.name = "lifetime-seconds", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, lifetime_seconds), .max = 31536000,
	 .dflt = "0", .doc = "Hard lifetime in seconds, soft at 90 % (0 = none)."},
	{.name = "lifetime-kilobytes", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, lifetime_kilobytes),
	 .max = 4294967295u, .dflt = "0", .doc = "Hard lifetime in kilobytes of payload (0 = none)."},
	{.name = "lifetime-packets", .type = FH_K_U32, .off = OFF(fh_cfg_static_sa, lifetime_packets),
	 .max = 4294967295u, .dflt = "0", .doc = "Hard lifetime in packets (0 = none)."},
	{0},
};

static const struct fh_key k_aaa_list[] = {
	{.name = "method", .type = FH_K_ENUM, .off = OFF(fh_cfg_aaa_list, method), .enums = fh_enum_aaa_method,
	 .dflt = "local", .flags = FH_F_SHORTHAND, .doc = "local (the authorization policies here) or radius. A bare value is the method."},
	{0},
};

static const struct fh_key el_range[] = {{.name = "range", .type = FH_K_RANGE}};

static const struct fh_key k_pool[] = {
	{.name = "first", .type = FH_K_IPV4, .off = OFF(fh_cfg_pool, first), .has_off = HAS(fh_cfg_pool, has_first),
	 .doc = "A pool of one range: its first address (with `last`)."},
	{.name = "last", .type = FH_K_IPV4, .off = OFF(fh_cfg_pool, last), .has_off = HAS(fh_cfg_pool, has_last),
	 .doc = "A pool of one range: its last address (with `first`)."},
	{.name = "ranges", .type = FH_K_LIST, .off = OFF(fh_cfg_pool, range), .size = sizeof(struct fh_cfg_pool_range),
	 .cnt_off = OFF(fh_cfg_pool, n_range), .has_off = HAS(fh_cfg_pool, has_ranges), .max = FH_CFG_POOL_RANGES_MAX,
	 .sub = el_range, .flags = FH_F_SHORTHAND,
	 .doc = "Several ranges, \"FIRST LAST\" each, as the repeated IOS line; instead of first/last. A bare list "
		"(or string) is the ranges: `FlexPool: [\"10.1.1.2 10.1.1.254\", \"10.2.0.1 10.2.0.100\"]`."},
	{0},
};

static const struct fh_key k_acl[] = {
	{.name = "entries", .type = FH_K_LIST, .off = OFF(fh_cfg_acl, ace), .size = sizeof(struct fh_ace),
	 .cnt_off = OFF(fh_cfg_acl, n_ace), .sub = el_ace, .flags = FH_F_SHORTHAND,
	 .doc = "\"permit|deny NET WILDCARD\", \"permit host A\", \"permit any\". A bare list is the entries."},
	{0},
};

static const struct fh_key k_nhrp[] = {
	{.name = "network-id", .type = FH_K_U32, .off = OFF(fh_cfg_nhrp, network_id), .min = 1, .max = 4294967295u,
	 .flags = FH_F_REQUIRED, .doc = "\"ip nhrp network-id\"."},
	{.name = "redirect", .type = FH_K_BOOL, .off = OFF(fh_cfg_nhrp, redirect), .dflt = "false",
	 .doc = "\"ip nhrp redirect\": tell spokes of a shorter path (hub)."},
	{.name = "shortcut-virtual-template", .type = FH_K_U32, .off = OFF(fh_cfg_nhrp, shortcut_vtemplate),
	 .max = 65535, .dflt = "0", .doc = "\"ip nhrp shortcut virtual-template N\" (spokes; 0 = off)."},
	{.name = "holdtime", .type = FH_K_U32, .off = OFF(fh_cfg_nhrp, holdtime), .min = 1, .max = 65535,
	 .dflt = "600", .doc = "Seconds NHRP answers are valid (IOS default 600)."},
	{0},
};

static const struct fh_key k_iface[] = {
	{.name = "description", .type = FH_K_STR, .off = OFF(fh_cfg_iface, description),
	 .size = SZ(fh_cfg_iface, description), .doc = "Free text."},
	{.name = "shutdown", .type = FH_K_BOOL, .off = OFF(fh_cfg_iface, shutdown), .dflt = "false",
	 .doc = "Administratively down."},
	{.name = "device", .type = FH_K_STR, .off = OFF(fh_cfg_iface, device), .size = SZ(fh_cfg_iface, device),
	 .doc = "Physical only: DPDK device, a PCI address or vdev devargs (net_tap0,iface=fh0)."},
	{.name = "ip-address", .type = FH_K_IFADDR, .off = OFF(fh_cfg_iface, ip),
	 .doc = "\"A.B.C.D/LEN\", \"A.B.C.D M.M.M.M\", or negotiated (tunnels: from the hub's pool)."},
	{.name = "ip-unnumbered", .type = FH_K_STR, .off = OFF(fh_cfg_iface, unnumbered),
	 .size = SZ(fh_cfg_iface, unnumbered), .doc = "Tunnels, templates: borrow this interface's address."},
	{.name = "mtu", .type = FH_K_U32, .off = OFF(fh_cfg_iface, mtu), .min = 576, .max = 9600, .dflt = "1500",
	 .doc = "Physical: the L3 MTU of the port."},
	{.name = "ip-mtu", .type = FH_K_U32, .off = OFF(fh_cfg_iface, ip_mtu), .min = 0, .max = 9600, .dflt = "0",
	 .doc = "Tunnels: inner MTU (0 = derived from the path MTU minus the tunnel overhead)."},
	{.name = "tunnel-source", .type = FH_K_STR, .off = OFF(fh_cfg_iface, tunnel_source),
	 .size = SZ(fh_cfg_iface, tunnel_source), .doc = "Tunnels, templates: interface whose address is the outer source."},
	{.name = "tunnel-destination", .type = FH_K_IPV4, .off = OFF(fh_cfg_iface, tunnel_destination),
	 .has_off = HAS(fh_cfg_iface, has_destination), .doc = "Static tunnels: the peer's address."},
	{.name = "tunnel-mode", .type = FH_K_ENUM, .off = OFF(fh_cfg_iface, tunnel_mode), .enums = fh_enum_tun_mode,
	 .dflt = "gre", .doc = "gre (GRE over IPsec, FlexVPN's default) or ipsec (IPv4 in ESP, for non-Cisco peers)."},
	{.name = "tunnel-key", .type = FH_K_U32, .off = OFF(fh_cfg_iface, tunnel_key),
	 .has_off = HAS(fh_cfg_iface, has_tunnel_key), .max = 4294967295u, .doc = "GRE key (RFC 2890)."},
	{.name = "tunnel-protection", .type = FH_K_STR, .off = OFF(fh_cfg_iface, protection),
	 .size = SZ(fh_cfg_iface, protection), .doc = "\"tunnel protection ipsec profile NAME\"."},
	{.name = "tunnel-initiate", .type = FH_K_BOOL, .off = OFF(fh_cfg_iface, tunnel_initiate), .dflt = "true",
	 .doc = "Static tunnels with protection: negotiate IKEv2 as soon as the tunnel is up (IOS does); false = "
		"answer only, wait for the peer to initiate (flexhub extension)."},
	{.name = "type", .type = FH_K_STR, .off = OFF(fh_cfg_iface, vt_type), .size = SZ(fh_cfg_iface, vt_type),
	 .doc = "Virtual-Template only: tunnel (\"interface virtual-template 1 type tunnel\")."},
	{.name = "nhrp", .type = FH_K_OBJ, .off = OFF(fh_cfg_iface, nhrp), .sub = k_nhrp,
	 .has_off = OFF(fh_cfg_iface, nhrp) + OFF(fh_cfg_nhrp, present) + 1, .doc = "NHRP on tunnels and templates."},
	{0},
};

static const struct fh_key k_route[] = {
	{.name = "prefix", .type = FH_K_PREFIX, .off = OFF(fh_cfg_route, prefix), .flags = FH_F_REQUIRED,
	 .doc = "Destination network."},
	{.name = "interface", .type = FH_K_STR, .off = OFF(fh_cfg_route, interface), .size = SZ(fh_cfg_route, interface),
	 .doc = "Out interface (needed for tunnels; optional with next-hop)."},
	{.name = "next-hop", .type = FH_K_IPV4, .off = OFF(fh_cfg_route, next_hop),
	 .has_off = HAS(fh_cfg_route, has_next_hop), .doc = "Gateway address."},
	{.name = "distance", .type = FH_K_U32, .off = OFF(fh_cfg_route, distance), .min = 1, .max = 255, .dflt = "1",
	 .doc = "Administrative distance."},
	{0},
};

static const struct fh_key k_arp[] = {
	{.name = "address", .type = FH_K_IPV4, .off = OFF(fh_cfg_arp, address), .flags = FH_F_REQUIRED,
	 .doc = "Neighbour's IPv4 address."},
	{.name = "mac", .type = FH_K_STR, .off = OFF(fh_cfg_arp, mac), .size = SZ(fh_cfg_arp, mac), .flags = FH_F_REQUIRED,
	 .doc = "Its MAC: aa:bb:cc:dd:ee:ff or IOS aabb.ccdd.eeff."},
	{.name = "interface", .type = FH_K_STR, .off = OFF(fh_cfg_arp, interface), .size = SZ(fh_cfg_arp, interface),
	 .flags = FH_F_REQUIRED, .doc = "Physical interface it is on."},
	{0},
};

static const struct fh_key k_router[] = {
	{.name = "as", .type = FH_K_U32, .off = OFF(fh_cfg_router, as), .min = 0, .max = 4294967295u, .dflt = "0",
	 .doc = "Autonomous system (EIGRP, BGP); OSPF process id."},
	SCALAR_LIST("networks", fh_cfg_router, network, el_ace, NULL, "\"network NET WILDCARD\" lines."),
	{.name = "auto-summary", .type = FH_K_BOOL, .off = OFF(fh_cfg_router, auto_summary), .dflt = "false",
	 .doc = "EIGRP auto-summary."},
	{.name = "router-id", .type = FH_K_STR, .off = OFF(fh_cfg_router, router_id), .size = SZ(fh_cfg_router, router_id),
	 .doc = "Router id."},
	{.name = "area", .type = FH_K_U32, .off = OFF(fh_cfg_router, area), .dflt = "0",
	 .doc = "OSPF: the area of the network lines (\"network NET WILDCARD area N\")."},
	SCALAR_LIST("neighbors", fh_cfg_router, neighbor, el_name, NULL,
		    "BGP: \"A.B.C.D remote-as N\" lines (\"neighbor A.B.C.D remote-as N\")."),
	{.name = "listen-range", .type = FH_K_PREFIX, .off = OFF(fh_cfg_router, listen_range),
	 .dflt = "0.0.0.0/0", .doc = "BGP: accept sessions from this network (\"bgp listen range\"), e.g. the spokes' "
				     "pool; 0.0.0.0/0: none."},
	{.name = "listen-remote-as", .type = FH_K_U32, .off = OFF(fh_cfg_router, listen_remote_as), .dflt = "0",
	 .doc = "BGP: the AS of listen-range neighbours (0 = the router's own: iBGP)."},
	SCALAR_LIST("redistribute", fh_cfg_router, redistribute, el_name, NULL,
		    "Routes of flexhub given to the protocol: connected, static, ikev2 (mode-config), nhrp."),
	SCALAR_LIST("passive-interfaces", fh_cfg_router, passive, el_name, NULL,
		    "Interfaces whose networks are announced but that send no hellos."),
	{0},
};

static const struct fh_enum fh_enum_frr[] = {
	{"managed", FH_FRR_MANAGED}, {"external", FH_FRR_EXTERNAL}, {NULL, 0},
};

static const struct fh_key k_routing[] = {
	{.name = "frr", .type = FH_K_ENUM, .off = OFF(fh_cfg_routing, frr), .enums = fh_enum_frr, .dflt = "managed",
	 .doc = "managed: flexhub writes frr.conf from the router block and runs FRR's daemons; external: an FRR "
		"run by someone else, flexhub only mirrors interfaces and syncs routes."},
	{.name = "frr-dir", .type = FH_K_STR, .off = OFF(fh_cfg_routing, frr_dir), .size = SZ(fh_cfg_routing, frr_dir),
	 .dflt = "/usr/lib/frr", .doc = "Where FRR's daemons are (Debian: /usr/lib/frr)."},
	{.name = "state-dir", .type = FH_K_STR, .off = OFF(fh_cfg_routing, state_dir),
	 .size = SZ(fh_cfg_routing, state_dir), .dflt = "",
	 .doc = "frr.conf, pid files and sockets of a managed FRR (empty: /run/flexhub-HOSTNAME-frr)."},
	{0},
};

static const struct fh_key k_dataplane[] = {
	{.name = "workers", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, workers), .min = 1,
	 .max = FH_CFG_WORKERS_MAX, .dflt = "1", .doc = "Worker lcores (the control lcore is extra)."},
	{.name = "crypto-engine", .type = FH_K_ENUM, .off = OFF(fh_cfg_dataplane, crypto_engine),
	 .enums = fh_enum_engine, .dflt = "ipsec-mb", .doc = "Data-plane crypto: ipsec-mb or openssl."},
	{.name = "idle-sleep-us", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, idle_sleep_us), .max = 100000,
	 .dflt = "200", .doc = "Sleep of an idle worker in microseconds (0 = busy poll, for benchmarks)."},
	{.name = "idle-polls", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, idle_polls), .min = 1, .max = 1000000,
	 .dflt = "64", .doc = "Empty polls in a row before an idle worker sleeps."},
	{.name = "burst", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, burst), .min = 1, .max = 64, .dflt = "32",
	 .doc = "RX/TX burst size."},
	{.name = "mbufs", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, mbufs), .min = 1023, .max = 4194303,
	 .dflt = "8191", .doc = "Packet buffers in the pool; " STR(FH_COST_MBUF) " B of EAL memory each."},
	{.name = "hugepages", .type = FH_K_BOOL, .off = OFF(fh_cfg_dataplane, hugepages), .dflt = "false",
	 .doc = "Use hugepages (false: EAL --no-huge, works anywhere)."},
	{.name = "memory-mb", .type = FH_K_U32, .off = OFF(fh_cfg_dataplane, memory_mb), .min = 64, .max = 1048576,
	 .dflt = "512",
	 .doc = "EAL memory (-m). Must hold the tables of `limits`, the mbufs and " STR(FH_LIMITS_EAL_RESERVE_MB)
		" MiB for DPDK itself; --check-config says when it does not."},
	SCALAR_LIST("eal-args", fh_cfg_dataplane, eal_args, el_path, NULL,
		    "Extra EAL arguments (e.g. [\"-l\", \"0-2\"]); the command line's after -- come last."),
	{0},
};

/*
 * Defaults sized for a hub of 10,000 peers: a tunnel (Virtual-Access) and an IKE SA each, two
 * child SA pairs during a rekey, a route or two per peer; they fit the default memory-mb (512),
 * see doc/config-guide.md "Sizing a hub".
 */
#define LIM(kname, m, lo, hi, d, doctext)                                                              \
	{                                                                                              \
		.name = kname, .type = FH_K_U32, .off = OFF(fh_cfg_limits, m), .min = lo, .max = hi, .dflt = d, \
		.doc = doctext                                                                         \
	}

static const struct fh_key k_limits[] = {
	LIM("interfaces", interfaces, 16, 1048576, "20480",
	    "Interface slots, Virtual-Access clones included; " STR(FH_COST_IFACE) " B each."),
	LIM("tunnels", tunnels, 1, 1048576, "16384",
	    "Tunnel interfaces (static Tunnel and Virtual-Access); " STR(FH_COST_TUNNEL) " B each."),
	LIM("sa-pairs", sa_pairs, 1, 1048576, "32768",
	    "Child SA pairs in the data plane (both directions; a rekey holds two per tunnel for a while); "
	    STR(FH_COST_SA_PAIR) " B each."),
	LIM("routes", routes, 16, 4194304, "65536",
	    "FIB routes (each interface address takes two: the subnet and the /32); " STR(FH_COST_ROUTE) " B each."),
	LIM("next-hops", next_hops, 16, 1048576, "32768",
	    "Distinct FIB next hops (one per tunnel, one per gateway); " STR(FH_COST_NEXT_HOP) " B each."),
	LIM("neighbours", neighbours, 16, 1048576, "8192", "ARP cache entries; " STR(FH_COST_NEIGH) " B each."),
	LIM("neighbour-queue", neighbour_queue, 0, 64, "4",
	    "Packets held per unresolved neighbour while ARP is outstanding (0 = drop them); "
	    STR(FH_COST_NEIGH_QUEUE_PKT) " B each per neighbour, the mbufs are in dataplane.mbufs."),
	LIM("ike-sas", ike_sas, 1, 1048576, "16384",
	    "IKE SAs, established and half-open; " STR(FH_COST_IKE_SA) " B of heap each (not EAL memory)."),
	LIM("lpm-tbl8-groups", lpm_tbl8_groups, 256, 65536, "8192",
	    "rte_lpm tbl8 groups, one per /24 that holds longer prefixes; " STR(FH_COST_LPM_TBL8)
	    " B each, on top of the fixed 64 MiB tbl24."),
	LIM("pool-addresses", pool_addresses, 16, 4194304, "131072",
	    "Addresses of all ip local pools together; " STR(FH_COST_POOL_ADDR) " B of heap each (not EAL memory)."),
	{0},
};

static const struct fh_key k_ikev2[] = {
	{.name = "proposals", .type = FH_K_MAP, .off = OFF(fh_config, proposal), .size = sizeof(struct fh_cfg_proposal),
	 .cnt_off = OFF(fh_config, n_proposal), .sub = k_proposal,
	 .doc = "\"crypto ikev2 proposal NAME\". Smart default: \"default\" (aes-cbc-256/128, sha512..sha1, groups 19 20 14)."},
	{.name = "policies", .type = FH_K_MAP, .off = OFF(fh_config, ike_policy), .size = sizeof(struct fh_cfg_ike_policy),
	 .cnt_off = OFF(fh_config, n_ike_policy), .sub = k_ike_policy,
	 .doc = "\"crypto ikev2 policy NAME\". Smart default: \"default\" with every proposal."},
	{.name = "keyrings", .type = FH_K_MAP, .off = OFF(fh_config, keyring), .size = sizeof(struct fh_cfg_keyring),
	 .cnt_off = OFF(fh_config, n_keyring), .sub = k_keyring, .doc = "\"crypto ikev2 keyring NAME\"."},
	{.name = "profiles", .type = FH_K_MAP, .off = OFF(fh_config, ike_profile),
	 .size = sizeof(struct fh_cfg_ike_profile), .cnt_off = OFF(fh_config, n_ike_profile), .sub = k_ike_profile,
	 .doc = "\"crypto ikev2 profile NAME\"."},
	{.name = "cookie-challenge", .type = FH_K_U32, .off = OFF(fh_config, ike_cookie_challenge), .min = 0,
	 .max = 100000, .dflt = "64",
	 .doc = "\"crypto ikev2 cookie-challenge N\": half-open IKE SAs beyond which IKE_SA_INIT must return a "
		"cookie (RFC 7296 2.6); 0 = always. IOS has no default (off); 64 guards a hub."},
	{.name = "fragmentation-mtu", .type = FH_K_U32, .off = OFF(fh_config, ike_frag_mtu), .min = 0, .max = 9000,
	 .dflt = "0",
	 .doc = "\"crypto ikev2 fragmentation mtu N\": IKEv2 fragmentation (RFC 7383), announced to peers; messages "
		"larger than N bytes (IP datagram) go in fragments. 0 = off (IOS's default); 200 to 9000."},
	{.name = "limit-max-in-negotiation-sa", .type = FH_K_U32, .off = OFF(fh_config, ike_max_in_negotiation),
	 .min = 1, .max = 100000, .dflt = "1024",
	 .doc = "\"crypto ikev2 limit max-in-negotiation-sa N\": half-open IKE SAs beyond which IKE_SA_INIT is dropped."},
	{.name = "authorization-policies", .type = FH_K_MAP, .off = OFF(fh_config, authz_policy),
	 .size = sizeof(struct fh_cfg_authz_policy), .cnt_off = OFF(fh_config, n_authz_policy), .sub = k_authz_policy,
	 .doc = "\"crypto ikev2 authorization policy NAME\"."},
	{0},
};

static const struct fh_key k_ipsec[] = {
	{.name = "transform-sets", .type = FH_K_MAP, .off = OFF(fh_config, transform_set),
	 .size = sizeof(struct fh_cfg_transform_set), .cnt_off = OFF(fh_config, n_transform_set), .sub = k_transform_set,
	 .doc = "\"crypto ipsec transform-set NAME\". Smart default: \"default\" (esp-aes-256 esp-sha256-hmac)."},
	{.name = "profiles", .type = FH_K_MAP, .off = OFF(fh_config, ipsec_profile),
	 .size = sizeof(struct fh_cfg_ipsec_profile), .cnt_off = OFF(fh_config, n_ipsec_profile), .sub = k_ipsec_profile,
	 .doc = "\"crypto ipsec profile NAME\". Smart default: \"default\" (transform-set default, the only ikev2 profile)."},
	{.name = "static-sas", .type = FH_K_MAP, .off = OFF(fh_config, static_sa), .size = sizeof(struct fh_cfg_static_sa),
	 .cnt_off = OFF(fh_config, n_static_sa), .sub = k_static_sa,
	 .doc = "Manually keyed SA pairs on tunnels (tests, benchmarks)."},
	{0},
};

static const struct fh_key k_crypto[] = {
	{.name = "ikev2", .type = FH_K_OBJ, .off = 0, .sub = k_ikev2, .doc = "IKEv2 blocks."},
	{.name = "ipsec", .type = FH_K_OBJ, .off = 0, .sub = k_ipsec, .doc = "IPsec blocks."},
	{0},
};

static const struct fh_key k_aaa[] = {
	{.name = "authorization-network", .type = FH_K_MAP, .off = OFF(fh_config, aaa_list),
	 .size = sizeof(struct fh_cfg_aaa_list), .cnt_off = OFF(fh_config, n_aaa_list), .sub = k_aaa_list,
	 .doc = "\"aaa authorization network LIST local\" (\"aaa new-model\" is implied)."},
	{0},
};

static const struct fh_key k_ip[] = {
	{.name = "local-pools", .type = FH_K_MAP, .off = OFF(fh_config, pool), .size = sizeof(struct fh_cfg_pool),
	 .cnt_off = OFF(fh_config, n_pool), .sub = k_pool,
	 .doc = "\"ip local pool NAME FIRST LAST\" (the line repeated adds ranges). Ranges must not overlap within or "
		"between pools, nor hold 0.0.0.0, 255.255.255.255, multicast or an interface's address."},
	{.name = "access-lists", .type = FH_K_MAP, .off = OFF(fh_config, acl), .size = sizeof(struct fh_cfg_acl),
	 .cnt_off = OFF(fh_config, n_acl), .sub = k_acl, .doc = "\"ip access-list standard NAME\"."},
	{.name = "routes", .type = FH_K_LIST, .off = OFF(fh_config, route), .size = sizeof(struct fh_cfg_route),
	 .cnt_off = OFF(fh_config, n_route), .sub = k_route, .flags = FH_F_OBJLIST, .doc = "\"ip route\": static routes."},
	{.name = "arp", .type = FH_K_LIST, .off = OFF(fh_config, arp), .size = sizeof(struct fh_cfg_arp),
	 .cnt_off = OFF(fh_config, n_arp), .sub = k_arp, .flags = FH_F_OBJLIST,
	 .doc = "\"arp A.B.C.D MAC arpa\": static neighbours (learned ones never replace them)."},
	{0},
};

const struct fh_key fh_schema_root[] = {
	{.name = "hostname", .type = FH_K_STR, .off = OFF(fh_config, hostname), .size = SZ(fh_config, hostname),
	 .dflt = "flexhub", .doc = "Router name (prompt of show output)."},
	{.name = "control-socket", .type = FH_K_STR, .off = OFF(fh_config, control_socket),
	 .size = SZ(fh_config, control_socket), .dflt = "/run/flexhub.sock", .doc = "Unix socket of flexhubctl."},
	{.name = "dataplane", .type = FH_K_OBJ, .off = OFF(fh_config, dataplane), .sub = k_dataplane,
	 .doc = "Worker lcores and DPDK."},
	{.name = "limits", .type = FH_K_OBJ, .off = OFF(fh_config, limits), .sub = k_limits,
	 .pos_off = OFF(fh_config, limits) + OFF(fh_cfg_limits, pos) + 1,
	 .doc = "Capacity of the run-time tables (peers, SAs, routes, neighbours) and the memory each costs."},
	SCALAR_LIST("debug", fh_config, debug, el_name, NULL,
		    "Debug categories on at start, as in IOS: \"crypto ikev2 packet\", \"nhrp event\", ..."),
	{.name = "crypto", .type = FH_K_OBJ, .off = 0, .sub = k_crypto, .doc = "crypto ikev2 / crypto ipsec."},
	{.name = "aaa", .type = FH_K_OBJ, .off = 0, .sub = k_aaa, .doc = "aaa."},
	{.name = "ip", .type = FH_K_OBJ, .off = 0, .sub = k_ip, .doc = "ip local pool, ip access-list, ip route."},
	{.name = "interfaces", .type = FH_K_MAP, .off = OFF(fh_config, iface), .size = sizeof(struct fh_cfg_iface),
	 .cnt_off = OFF(fh_config, n_iface), .sub = k_iface,
	 .doc = "By IOS name: GigabitEthernet1, Loopback1, Tunnel0, Virtual-Template1."},
	{.name = "routing", .type = FH_K_OBJ, .off = OFF(fh_config, routing), .sub = k_routing,
	 .doc = "How the router block runs: FRR managed by flexhub, or an external FRR."},
	{.name = "router", .type = FH_K_MAP, .off = OFF(fh_config, router), .size = sizeof(struct fh_cfg_router),
	 .cnt_off = OFF(fh_config, n_router), .sub = k_router,
	 .doc = "Routing protocols by name (eigrp, ospf, bgp), run through FRR over the tunnels."},
	{0},
};
