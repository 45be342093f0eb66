/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_CONFIG_H
#define FH_CONFIG_H

/*
 * Typed flexhub configuration, loaded from YAML.
 *
 * Every FlexVPN block of the reference guide has a twin here (see doc/config.md, generated from
 * the schema table in schema.c). Loading is all-or-nothing: fh_config_load_*() either returns a
 * fully validated, smart-defaulted config or NULL with every error listed in the error list.
 *
 * Ownership: the returned struct fh_config owns all its memory; free it with fh_config_free().
 * Threading: the loader uses no global state and may run on any thread; the control lcore owns
 * the running config and is the only one that reads it (workers get derived tables, never this).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Names of blocks: IOS allows long names; 63 covers every name in the guide with room. */
#define FH_NAME_MAX 64
/* IOS accepts pre-shared keys up to 128 characters. */
#define FH_PSK_MAX 129
/* A DPDK devargs string such as "net_af_packet0,iface=veth0,qpairs=1". */
#define FH_DEVARGS_MAX 256
/* Longest list of algorithms / groups / references in one block. */
#define FH_LIST_MAX 16
/* Keys for manual SAs: AES-256 (32) + GCM salt (4), or HMAC-SHA512 (64), as hex. */
#define FH_KEY_MAX 64
/* Errors kept in one load; further ones are counted, not stored. */
#define FH_CFG_ERRS_MAX 64
#define FH_CFG_ERR_LEN 320

/* A position in a YAML file, 1-based; line 0 means "not from the file" (a default). */
struct fh_pos {
	uint32_t line;
	uint32_t col;
};

/* IPv4 address + prefix length, host byte order. */
struct fh_prefix {
	uint32_t addr;
	uint8_t len;
};

/* Every named block starts with this, so generic code can report and find it. */
struct fh_named {
	char name[FH_NAME_MAX];
	struct fh_pos pos;
};

enum fh_encr {
	FH_ENCR_AES_CBC_128,
	FH_ENCR_AES_CBC_192,
	FH_ENCR_AES_CBC_256,
	FH_ENCR_AES_GCM_128,
	FH_ENCR_AES_GCM_256,
	FH_ENCR_NULL,
};

enum fh_integ {
	FH_INTEG_NONE,
	FH_INTEG_SHA1_96,
	FH_INTEG_SHA256_128,
	FH_INTEG_SHA384_192,
	FH_INTEG_SHA512_256,
};

enum fh_prf {
	FH_PRF_SHA1,
	FH_PRF_SHA256,
	FH_PRF_SHA384,
	FH_PRF_SHA512,
};

enum fh_auth_method {
	FH_AUTH_PSK,
	FH_AUTH_RSA_SIG,
	FH_AUTH_EAP,
};

enum fh_dpd_mode {
	FH_DPD_ON_DEMAND,
	FH_DPD_PERIODIC,
};

enum fh_esp_mode {
	FH_ESP_TUNNEL,
	FH_ESP_TRANSPORT,
};

enum fh_tunnel_mode {
	FH_TUN_GRE,   /* "tunnel mode gre ip": GRE inside ESP, FlexVPN's default */
	FH_TUN_IPSEC, /* "tunnel mode ipsec ipv4": IP directly in ESP, what non-Cisco peers speak */
};

enum fh_aaa_method {
	FH_AAA_LOCAL,
	FH_AAA_RADIUS,
};

enum fh_aaa_group {
	FH_AAA_GROUP_PSK,
	FH_AAA_GROUP_CERT,
	FH_AAA_GROUP_EAP,
};

enum fh_if_kind {
	FH_IF_PHYSICAL,
	FH_IF_LOOPBACK,
	FH_IF_TUNNEL,
	FH_IF_VTEMPLATE,
};

enum fh_engine_kind {
	FH_ENGINE_IPSEC_MB,
	FH_ENGINE_OPENSSL,
};

/* crypto ikev2 proposal */
struct fh_cfg_proposal {
	struct fh_named hdr;
	uint8_t encr[FH_LIST_MAX];
	uint32_t n_encr;
	uint8_t integ[FH_LIST_MAX];
	uint32_t n_integ;
	uint8_t prf[FH_LIST_MAX]; /* empty in the file: derived from integrity */
	uint32_t n_prf;
	uint32_t group[FH_LIST_MAX];
	uint32_t n_group;
};

/* crypto ikev2 policy */
struct fh_cfg_ike_policy {
	struct fh_named hdr;
	char proposal[FH_LIST_MAX][FH_NAME_MAX];
	uint32_t n_proposal;
	struct fh_prefix match_local[FH_LIST_MAX]; /* "match address local" */
	uint32_t n_match_local;
	int proposal_idx[FH_LIST_MAX]; /* resolved */
};

/* crypto ikev2 keyring / peer */
struct fh_cfg_peer {
	struct fh_named hdr;
	struct fh_prefix address; /* "address 0.0.0.0 0.0.0.0" = any */
	bool has_address;
	char identity[FH_NAME_MAX]; /* "identity fqdn|email|address ..." as given */
	char hostname[FH_NAME_MAX];
	char psk_local[FH_PSK_MAX];
	char psk_remote[FH_PSK_MAX];
	char psk[FH_PSK_MAX]; /* symmetric shorthand, copied into local/remote */
};

struct fh_cfg_keyring {
	struct fh_named hdr;
	struct fh_cfg_peer *peer;
	uint32_t n_peer;
};

struct fh_cfg_match_identity {
	bool any;                   /* "match identity remote any" */
	struct fh_prefix address[FH_LIST_MAX];
	uint32_t n_address;
	char fqdn[FH_LIST_MAX][FH_NAME_MAX];   /* a name, or "domain D": any name ending in .D or D */
	uint32_t n_fqdn;
	char email[FH_LIST_MAX][FH_NAME_MAX];  /* an address, or "domain D": any user@D */
	uint32_t n_email;
	char key_id[FH_LIST_MAX][FH_NAME_MAX];
	uint32_t n_key_id;
};

struct fh_cfg_dpd {
	bool present;
	uint32_t interval;
	uint32_t retries;
	uint8_t mode;
};

struct fh_cfg_aaa_authz {
	bool present;
	uint8_t group;
	char list[FH_NAME_MAX];
	char policy[FH_NAME_MAX];
	int list_idx, policy_idx;
};

/* crypto ikev2 profile */
struct fh_cfg_ike_profile {
	struct fh_named hdr;
	struct fh_cfg_match_identity match_remote;
	char identity_local[FH_NAME_MAX]; /* "address" (default), "fqdn X", "email X", "key-id X" */
	uint8_t auth_local;
	uint8_t auth_remote[FH_LIST_MAX];
	uint32_t n_auth_remote;
	char keyring[FH_NAME_MAX];
	uint32_t lifetime;
	struct fh_cfg_dpd dpd;
	uint32_t nat_keepalive;
	struct fh_cfg_aaa_authz aaa;
	uint32_t virtual_template; /* 0 = none */
	int keyring_idx;
	int vtemplate_if_idx;
};

/* crypto ipsec transform-set */
struct fh_cfg_transform_set {
	struct fh_named hdr;
	uint8_t encr;
	uint8_t integ;
	uint8_t mode;
};

/* crypto ipsec profile */
struct fh_cfg_ipsec_profile {
	struct fh_named hdr;
	char transform_set[FH_LIST_MAX][FH_NAME_MAX];
	uint32_t n_transform_set;
	char ike_profile[FH_NAME_MAX];
	uint32_t pfs_group; /* 0 = no PFS */
	uint32_t lifetime_seconds;
	uint32_t lifetime_kilobytes;
	uint32_t replay_window;
	int ts_idx[FH_LIST_MAX];
	int ike_profile_idx;
};

/* aaa authorization network <list> local */
struct fh_cfg_aaa_list {
	struct fh_named hdr;
	uint8_t method;
};

/* Ranges of one ip local pool ("ip local pool NAME FIRST LAST" repeated); as lib/pool's
 * FH_POOL_RANGES_MAX. */
#define FH_CFG_POOL_RANGES_MAX 64

/* One range of a pool, host order. */
struct fh_cfg_pool_range {
	uint32_t first;
	uint32_t last;
};

/*
 * ip local pool. In the file either first/last (one range) or ranges (several, "FIRST LAST"
 * each). After loading, range[0..n_range) holds every range whichever form was written, and the
 * form the emitter prints follows the count: first/last for one range (has_first/has_last set),
 * ranges for several (has_ranges set), so the normalized output is a fixed point.
 */
struct fh_cfg_pool {
	struct fh_named hdr;
	uint32_t first;
	uint32_t last;
	bool has_first, has_last;
	struct fh_cfg_pool_range range[FH_CFG_POOL_RANGES_MAX];
	uint32_t n_range;
	bool has_ranges;
};

/* One "permit|deny <net> <wildcard>" line of a standard access list. */
struct fh_ace {
	bool permit;
	uint32_t addr;
	uint32_t wildcard;
};

/* ip access-list standard */
struct fh_cfg_acl {
	struct fh_named hdr;
	struct fh_ace *ace;
	uint32_t n_ace;
};

/* crypto ikev2 authorization policy */
struct fh_cfg_authz_policy {
	struct fh_named hdr;
	char pool[FH_NAME_MAX];
	uint32_t netmask; /* pushed INTERNAL_IP4_NETMASK, 0 = none */
	uint32_t dns[2];
	uint32_t n_dns;
	uint32_t wins[2];
	uint32_t n_wins;
	char def_domain[FH_NAME_MAX];
	bool route_set_interface;
	char route_set_acl[FH_NAME_MAX];
	bool route_accept_any;
	uint32_t idle_timeout;
	uint32_t session_lifetime;
	int pool_idx;
	int acl_idx;
};

struct fh_cfg_nhrp {
	bool present;
	uint32_t network_id;
	bool redirect;
	uint32_t shortcut_vtemplate; /* 0 = no shortcut */
	uint32_t holdtime;
};

/* The value of "ip address": a prefix, or "negotiated" (IKEv2 mode-config). */
struct fh_if_addr {
	bool present;
	bool negotiated;
	struct fh_prefix pfx;
};

/* interface <name>: one struct for every kind; the validator checks which keys each kind takes. */
struct fh_cfg_iface {
	struct fh_named hdr;
	char description[FH_NAME_MAX * 2];
	bool shutdown;
	char device[FH_DEVARGS_MAX];
	struct fh_if_addr ip;
	char unnumbered[FH_NAME_MAX];
	uint32_t mtu;
	uint32_t ip_mtu;
	char tunnel_source[FH_NAME_MAX];
	uint32_t tunnel_destination;
	bool has_destination;
	uint8_t tunnel_mode;
	uint32_t tunnel_key;
	bool has_tunnel_key;
	char protection[FH_NAME_MAX];
	bool tunnel_initiate;
	char vt_type[16];
	struct fh_cfg_nhrp nhrp;
	/* derived */
	uint8_t kind;
	uint32_t unit; /* the number in Loopback1, Tunnel0, Virtual-Template1 */
	int unnumbered_idx, source_idx, protection_idx;
};

/* ip route <prefix> <interface|next-hop> [distance] */
struct fh_cfg_route {
	struct fh_pos pos;
	struct fh_prefix prefix;
	char interface[FH_NAME_MAX];
	uint32_t next_hop;
	bool has_next_hop;
	uint32_t distance;
	int if_idx;
};

/* arp <address> <mac> arpa: a static neighbour (labs, benchmarks, peers that do not answer ARP) */
struct fh_cfg_arp {
	struct fh_pos pos;
	uint32_t address;
	char mac[24];
	char interface[FH_NAME_MAX];
	uint8_t mac_bytes[6];
	int if_idx;
};

/* Manually keyed SA pair bound to a tunnel (tests and benchmarks; IKEv2 installs the same objects). */
struct fh_cfg_static_sa {
	struct fh_named hdr;
	char interface[FH_NAME_MAX];
	uint32_t spi_in;
	uint32_t spi_out;
	uint8_t encr;
	uint8_t integ;
	uint8_t mode;
	char enc_key_in[FH_KEY_MAX * 2 + 1];
	char enc_key_out[FH_KEY_MAX * 2 + 1];
	char auth_key_in[FH_KEY_MAX * 2 + 1];
	char auth_key_out[FH_KEY_MAX * 2 + 1];
	bool esn;
	bool udp_encap;
	uint32_t replay_window;
	uint32_t lifetime_seconds;   /* 0 = none (manual keys do not expire by default) */
	uint32_t lifetime_kilobytes;
	uint32_t lifetime_packets;
	int if_idx;
};

/* router eigrp / ospf / bgp: kept for the FRR integration (routing over tunnels). */
struct fh_cfg_router {
	struct fh_named hdr; /* "eigrp", "ospf", "bgp" */
	uint32_t as;
	struct fh_ace network[FH_LIST_MAX];
	uint32_t n_network;
	bool auto_summary;
	char router_id[FH_NAME_MAX];
	uint32_t area;                               /* ospf: the area of every network line */
	char neighbor[FH_LIST_MAX][FH_NAME_MAX];     /* bgp: "A.B.C.D remote-as N" */
	uint32_t n_neighbor;
	struct fh_prefix listen_range;               /* bgp listen range (dynamic neighbours) */
	uint32_t listen_remote_as;
	char redistribute[FH_LIST_MAX][FH_NAME_MAX]; /* connected, static, ikev2, nhrp */
	uint32_t n_redistribute;
	char passive[FH_LIST_MAX][FH_NAME_MAX];      /* passive-interface NAME */
	uint32_t n_passive;
	/* derived */
	uint32_t nb_addr[FH_LIST_MAX], nb_as[FH_LIST_MAX];
	bool has_listen_range;
};

/* How routing protocols run (FRR). */
enum fh_frr_mode {
	FH_FRR_MANAGED,  /* flexhub writes frr.conf and starts/stops FRR's daemons */
	FH_FRR_EXTERNAL, /* an FRR someone else runs: flexhub only mirrors interfaces and syncs routes */
};

struct fh_cfg_routing {
	uint8_t frr;
	char frr_dir[FH_DEVARGS_MAX];   /* where zebra, eigrpd, ospfd, bgpd live */
	char state_dir[FH_DEVARGS_MAX]; /* frr.conf, pid files and sockets of a managed FRR */
};

struct fh_cfg_dataplane {
	uint32_t workers;
	uint8_t crypto_engine;
	uint32_t idle_sleep_us;
	uint32_t idle_polls;
	uint32_t burst;
	uint32_t mbufs;
	bool hugepages;
	uint32_t memory_mb;
	char eal_args[FH_LIST_MAX][FH_DEVARGS_MAX];
	uint32_t n_eal_args;
};

/*
 * limits: the most of each run-time object the daemon holds. The data plane sizes its tables from
 * these at start (peers come and go at run time); fh_limits.h has what each entry costs and
 * --check-config refuses limits that do not fit in dataplane.memory-mb.
 */
struct fh_cfg_limits {
	uint32_t interfaces;      /* interface slots, Virtual-Access clones included */
	uint32_t tunnels;         /* static Tunnel + Virtual-Access interfaces */
	uint32_t sa_pairs;        /* child SA pairs in the data plane (both directions) */
	uint32_t routes;          /* FIB routes */
	uint32_t next_hops;       /* distinct FIB next hops (one per tunnel) */
	uint32_t neighbours;      /* ARP cache entries */
	uint32_t neighbour_queue; /* packets held per unresolved neighbour */
	uint32_t ike_sas;         /* IKE SAs, established and half-open */
	uint32_t lpm_tbl8_groups; /* rte_lpm tbl8 groups */
	uint32_t pool_addresses;  /* addresses of all ip local pools together */
	struct fh_pos pos;        /* where "limits:" was written; line 0 = not given (all defaults) */
};

struct fh_config {
	char hostname[FH_NAME_MAX];
	char control_socket[FH_DEVARGS_MAX];
	struct fh_cfg_dataplane dataplane;
	struct fh_cfg_limits limits;
	char debug[FH_LIST_MAX][FH_NAME_MAX];
	uint32_t n_debug;
	uint32_t ike_cookie_challenge;
	uint32_t ike_max_in_negotiation;
	uint32_t ike_frag_mtu;

	struct fh_cfg_proposal *proposal;
	uint32_t n_proposal;
	struct fh_cfg_ike_policy *ike_policy;
	uint32_t n_ike_policy;
	struct fh_cfg_keyring *keyring;
	uint32_t n_keyring;
	struct fh_cfg_ike_profile *ike_profile;
	uint32_t n_ike_profile;
	struct fh_cfg_authz_policy *authz_policy;
	uint32_t n_authz_policy;
	struct fh_cfg_transform_set *transform_set;
	uint32_t n_transform_set;
	struct fh_cfg_ipsec_profile *ipsec_profile;
	uint32_t n_ipsec_profile;
	struct fh_cfg_static_sa *static_sa;
	uint32_t n_static_sa;
	struct fh_cfg_aaa_list *aaa_list;
	uint32_t n_aaa_list;
	struct fh_cfg_pool *pool;
	uint32_t n_pool;
	struct fh_cfg_acl *acl;
	uint32_t n_acl;
	struct fh_cfg_route *route;
	uint32_t n_route;
	struct fh_cfg_arp *arp;
	uint32_t n_arp;
	struct fh_cfg_iface *iface;
	uint32_t n_iface;
	struct fh_cfg_router *router;
	uint32_t n_router;
	struct fh_cfg_routing routing;

	/* where each scalar came from, for errors found after parsing (private to lib/config) */
	struct fh_cfg_posmap *posmap;
	char file[FH_DEVARGS_MAX];
};

struct fh_cfg_err {
	char msg[FH_CFG_ERR_LEN]; /* "file:line:col: message" */
};

/* Errors of one load. n counts all of them; only the first FH_CFG_ERRS_MAX are kept. */
struct fh_cfg_errs {
	struct fh_cfg_err e[FH_CFG_ERRS_MAX];
	uint32_t n;
};

/*
 * Load, default and validate a config. Returns NULL when there is any error; errs then lists
 * them, each naming file, line and column. name is what errors call the buffer.
 */
struct fh_config *fh_config_load_file(const char *path, struct fh_cfg_errs *errs);
struct fh_config *fh_config_load_buffer(const char *name, const char *buf, size_t len,
					struct fh_cfg_errs *errs);
void fh_config_free(struct fh_config *cfg);

/* Print every error, one per line, then "N error(s)". */
void fh_config_print_errs(FILE *f, const struct fh_cfg_errs *errs);

/* Normalized output of a whole config, every default spelled out. */
enum fh_emit_fmt {
	FH_EMIT_YAML,
	FH_EMIT_JSON,
};
#define FH_EMIT_SECRETS 1u /* print keys; otherwise they are shown as <hidden> */
int fh_config_emit(FILE *f, const struct fh_config *cfg, enum fh_emit_fmt fmt, unsigned flags);

/* The reference of every key, as Markdown (doc/config.md is this output). */
void fh_config_schema_doc(FILE *f);

/* Lookups by name; -1 when absent. */
int fh_config_iface_find(const struct fh_config *cfg, const char *name);

/* Names for enums, shared with show commands. */
const char *fh_encr_name(unsigned v);
const char *fh_integ_name(unsigned v);
const char *fh_prf_name(unsigned v);
const char *fh_if_kind_name(unsigned v);
const char *fh_engine_name(unsigned v);
const char *fh_esp_encr_name(unsigned v);
const char *fh_esp_integ_name(unsigned v);

/* Key bytes of an ESP algorithm (enum fh_encr: cipher key, plus GCM's 4-byte salt; enum
 * fh_integ: HMAC key); 0 for none. */
uint32_t fh_encr_key_len(unsigned encr);
uint32_t fh_integ_key_len(unsigned integ);

/* "GigabitEthernet1" for "gigabitethernet 1", "Gi1"; returns false for an unknown kind. */
bool fh_iface_canon_name(const char *in, char *out, size_t outlen, uint8_t *kind, uint32_t *unit);

/* Address helpers shared with other libs. */
uint32_t fh_prefix_mask(uint8_t len);
void fh_ip4_str(uint32_t addr, char *buf, size_t len);

#endif
