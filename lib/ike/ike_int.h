/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_INT_H
#define FH_IKE_INT_H

/* The engine's private state, shared by its files (sa.c, init.c, auth.c, child.c, info.c,
 * policy.c). One concern per file; this header is the only coupling. */

#include "fh_ike.h"
#include "fh_ike_build.h"
#include "fh_ike_crypto.h"
#include "fh_ike_msg.h"
#include "fh_ike_sk.h"
#include "fh_log.h"

/* The largest message we build: IKE_AUTH with a few proposals and selectors stays far below. */
#define IKE_MSG_MAX 4096
/* The largest message we accept: RFC 7296 2 asks for 1280 at least; 64 KiB is UDP's limit. */
#define IKE_RX_MAX 65535
#define IKE_NONCE_LEN 32
#define IKE_CHILD_MAX 4   /* current pair, a rekeyed one waiting for delete, and room for races */
#define IKE_DELQ_MAX 8
#define IKE_HALF_OPEN_TIMEOUT_MS 30000
#define IKE_DPD_TRIES 5
/* Fragments of one message we send or reassemble (RFC 7383); 32 x 576 bytes is plenty. */
#define IKE_FRAG_MAX 32
/* A tunnel without a source address is asked again this often: the caller cannot tell us when
 * an address appears, and a second is as quick as an operator looks. */
#define IKE_SOURCE_POLL_MS 1000
/* DPD, volume lifetimes and NAT keepalives look at an SA's counters this often (fh_ike.h). */
#define IKE_CHECK_MS 1000

/* Notify message types (RFC 7296 3.10.1, RFC 7383). */
enum {
	N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
	N_INVALID_IKE_SPI = 4,
	N_INVALID_MAJOR_VERSION = 5,
	N_INVALID_SYNTAX = 7,
	N_INVALID_MESSAGE_ID = 9,
	N_INVALID_SPI = 11,
	N_NO_PROPOSAL_CHOSEN = 14,
	N_INVALID_KE_PAYLOAD = 17,
	N_AUTHENTICATION_FAILED = 24,
	N_SINGLE_PAIR_REQUIRED = 34,
	N_NO_ADDITIONAL_SAS = 35,
	N_INTERNAL_ADDRESS_FAILURE = 36,
	N_FAILED_CP_REQUIRED = 37,
	N_TS_UNACCEPTABLE = 38,
	N_TEMPORARY_FAILURE = 43,
	N_CHILD_SA_NOT_FOUND = 44,
	N_INITIAL_CONTACT = 16384,
	N_NAT_DETECTION_SOURCE_IP = 16388,
	N_NAT_DETECTION_DESTINATION_IP = 16389,
	N_COOKIE = 16390,
	N_USE_TRANSPORT_MODE = 16391,
	N_REKEY_SA = 16393,
	N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
	N_NON_FIRST_FRAGMENTS_ALSO = 16395,
	N_IKEV2_FRAGMENTATION_SUPPORTED = 16430,
};

#define XF_ENCR 1
#define XF_PRF 2
#define XF_INTEG 3
#define XF_DH 4
#define XF_ESN 5

#define PROTO_IKE 1
#define PROTO_ESP 3

#define AUTH_PSK 2

enum ike_state {
	ST_INIT_SENT,   /* initiator: IKE_SA_INIT request out */
	ST_AUTH_SENT,   /* initiator: IKE_AUTH request out */
	ST_INIT_DONE,   /* responder: answered IKE_SA_INIT, waiting for IKE_AUTH (half-open) */
	ST_ESTABLISHED,
	ST_DELETING,    /* our Delete of the IKE SA is out */
	ST_DEAD,        /* slot to be freed */
};

/* What an outstanding request of ours was, to handle its response. */
enum ike_req {
	RQ_NONE,
	RQ_INIT,
	RQ_AUTH,
	RQ_DPD,
	RQ_REKEY_CHILD,
	RQ_REKEY_IKE,
	RQ_DELETE_CHILD,
	RQ_DELETE_IKE,
};

/* Negotiated child algorithms (config enums) and selectors. */
struct ike_child_alg {
	uint8_t encr, integ;  /* enum fh_encr, enum fh_integ */
	bool esn;
	uint16_t dh;          /* PFS group of a CREATE_CHILD_SA, 0 none */
};

/* A link in one of the hash tables of index.c, inside the object it indexes. */
struct ike_node {
	struct ike_node *next;
	uint64_t k1, k2;
	bool linked;
};

struct ike_index {
	struct ike_node **b;
	uint32_t mask;          /* buckets - 1, a power of two */
	uint32_t n;
	uint64_t seed[2];       /* keyed hash: peers pick SPIs and addresses */
};

/* A timer of timer.c, inside the object it wakes; pos is its place in the heap + 1, 0 idle. */
struct ike_timer {
	uint64_t due;
	uint32_t pos;
};

struct ike_heap {
	struct ike_timer **v;
	uint32_t n, cap;
};

struct ike_child {
	bool used;
	struct ike_node by_spi; /* ike->ix_child, by spi_in */
	bool rekeyed;         /* replaced by a newer pair; deleted soon */
	uint32_t spi_in, spi_out;
	struct ike_child_alg alg;
	bool transport;
	struct fh_ike_ts ts_l, ts_r; /* local and remote selector */
	uint64_t created_ms;
	uint64_t rekey_ms;    /* when we start a rekey (soft lifetime) */
	uint64_t expire_ms;   /* hard lifetime */
	uint64_t seen_in, seen_out; /* packet counts at the last look, for DPD */
};

/* One IKE proposal as it goes on the wire: transform IDs (IANA). */
struct ike_prop {
	uint8_t num;
	uint16_t encr, key_bits, prf, integ, dh;
};

/* A message as it went out: one datagram, or its fragments back to back. */
struct ike_out {
	uint8_t *buf;
	uint16_t n;
	uint16_t len[IKE_FRAG_MAX];
};

/* Fragments of one message being reassembled (RFC 7383 2.6). */
struct ike_frags {
	uint32_t msg_id;
	bool response;
	uint16_t total, got;
	uint8_t first;
	uint8_t *chunk[IKE_FRAG_MAX];
	uint16_t chunk_len[IKE_FRAG_MAX];
};

/* The SA's entries in the engine's hash tables (struct fh_ike). */
enum {
	IX_SPI,                 /* our SPI (spi_i if initiator, else spi_r) */
	IX_INIT,                /* responders: (spi_i, peer address and port), for IKE_SA_INIT again */
	IX_ID,                  /* tunnel-id */
	IX_TUN,                 /* tunnel handle, when it has one */
	IX_PEER,                /* peer address */
	IX_RID,                 /* the peer's identity (hash of remote_id), once authenticated */
	IX_MAX,
};

struct ike_sa {
	bool used;
	uint8_t state;
	struct ike_node ix[IX_MAX];
	struct ike_timer timer;  /* its earliest deadline (sa_arm) */
	uint32_t live_pos;       /* place in ike->live */
	bool dirty, counted_est;
	struct ike_sa *dirty_next, *spare_next;
	bool initiator;         /* we are this IKE SA's original initiator (or its rekey's) */
	uint32_t id;            /* tunnel-id in show output */
	uint64_t spi_i, spi_r;
	struct fh_ike_addr local, remote;
	bool nat_local, nat_remote; /* NAT in front of us / in front of the peer */
	bool natt;              /* moved to port 4500 */
	uint32_t tunnel;        /* tunnel handle, 0 none; its config entry: ike_tun_of() */
	int profile, keyring, peer, ipsec_profile; /* indexes into the running config */
	struct ike_prop prop;   /* chosen */
	struct fh_ike_sk_alg sk;
	struct fh_ike_keys k;
	struct fh_ike_dh *dh;   /* during IKE_SA_INIT and rekeys */
	uint16_t want_group;    /* group to try next (after INVALID_KE_PAYLOAD) */
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
	uint8_t *init_req, *init_resp; /* the IKE_SA_INIT messages, signed in IKE_AUTH */
	size_t init_req_len, init_resp_len;
	uint8_t cookie[64];
	size_t cookie_len;
	uint8_t init_restarts;  /* IKE_SA_INIT sent again for a COOKIE or INVALID_KE_PAYLOAD */
	bool frag_peer;         /* the peer announced IKEV2_FRAGMENTATION_SUPPORTED */
	struct ike_frags rxf;
	bool initial_contact;   /* the peer said it has no other SA with us */
	char remote_id[FH_NAME_MAX + 8], local_id[FH_NAME_MAX + 8];
	bool authed;            /* remote_id is the authenticated identity (indexed by IX_RID) */

	/* the session IKE_AUTH set up through ops->session_up: owed one session_down */
	bool sess;
	bool va;                /* its tunnel is a Virtual-Access made for it */
	bool va_gre;            /* ... carrying GRE (else IPv4 directly, sVTI) */
	uint32_t va_peer;       /* the peer's GRE endpoint */
	uint32_t cfg_addr;      /* the address mode-config gave, either role; 0 none */
	uint8_t n_push;         /* responder: networks pushed, which narrow an sVTI peer's TSr */
	struct fh_ike_net push[FH_IKE_NETS_MAX];

	/* our request window (size 1) */
	uint32_t tx_id;         /* message ID of our next request */
	uint8_t req_kind;       /* enum ike_req, RQ_NONE when none is out */
	struct ike_out req;
	uint64_t req_sent_ms, req_next_ms;
	uint32_t req_tries;
	/* what a request in flight needs for its response */
	uint32_t rq_spi;        /* rekey/delete: our inbound SPI of the child concerned */
	uint32_t rq_new_spi;    /* child rekey: the new inbound SPI we proposed */
	uint64_t rq_new_ike_spi;
	uint8_t rq_nonce[IKE_NONCE_LEN];
	struct fh_ike_dh *rq_dh;

	/* the peer's requests */
	uint32_t rx_id;         /* message ID expected next */
	struct ike_out resp;    /* the response to rx_id - 1, sent again for a retransmitted request */
	bool has_resp;

	/* work waiting for the window */
	bool want_dpd, want_rekey_ike, want_delete_ike;
	uint32_t want_rekey_child; /* our inbound SPI, 0 none */
	uint32_t delq[IKE_DELQ_MAX]; /* our inbound SPIs of children to delete */
	uint32_t n_delq;

	struct ike_child child[IKE_CHILD_MAX];

	uint64_t created_ms, established_ms, last_rx_ms, expire_ms, rekey_ms;
	uint64_t dpd_idle_since_ms; /* on-demand DPD: outbound went on without inbound since */
	uint64_t keepalive_ms;
	uint64_t next_check_ms;
};

/* A configured tunnel interface, as the running config has it. */
struct ike_tun {
	struct ike_timer timer;  /* next initiation attempt */
	struct ike_node by_handle, by_dst;
	uint32_t handle;
	int idx;                 /* config interface index (this config only) */
	bool wanted;             /* ours to initiate: destination, protection, tunnel-initiate, up */
	bool manual;             /* manually keyed: never negotiated */
	uint64_t retry_at;
};

/* The tunnels of one config, built once in fh_ike_new / fh_ike_set_config. */
struct ike_tuns {
	struct ike_tun *v;
	uint32_t n;
	int32_t *of_iface;       /* config interface index -> v[] index, -1 not a tunnel */
	uint32_t n_iface;
	struct ike_index by_handle, by_dst;
	struct ike_heap heap;
};

struct fh_ike {
	const struct fh_config *cfg;
	const struct fh_ike_ops *ops;
	void *ctx;
	struct fh_ike_limits lim;
	struct ike_sa **live;   /* every SA that exists, compact; an SA itself never moves */
	uint32_t n_live, cap_live;
	struct ike_sa *dirty;   /* touched during this call: re-indexed and re-armed at its end */
	struct ike_sa *grave;   /* killed during this call: handlers may still look at them */
	struct ike_sa *spare;   /* free for ike_sa_new */
	struct ike_index ix[IX_MAX];
	struct ike_index ix_child; /* child SAs by our inbound SPI */
	struct ike_heap heap;   /* SA timers */
	struct ike_tuns tuns;
	uint32_t next_id;
	uint32_t half_open, n_est;
	uint64_t now;
	struct fh_ike_stats st;
	uint8_t secret[2][32];  /* cookie secrets, current and previous (RFC 7296 2.6) */
	uint8_t secret_ver;
	uint64_t secret_ms;
	uint64_t ctr[FH_IKE_CTR_MAX];
	struct fh_ratelimit rl;
	uint8_t tx[IKE_MSG_MAX];      /* scratch for outgoing messages */
	uint8_t inner[IKE_MSG_MAX];   /* scratch for plaintext of SK payloads */
	uint8_t rxplain[IKE_RX_MAX];  /* decrypted inner chain of a received message */
};

/* Peers' mistakes: counted by the caller, logged rate-limited here. */
void ike_err(struct fh_ike *ike, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* index.c: hint is the expected number of entries */
int ike_ix_init(struct ike_index *x, uint32_t hint);
void ike_ix_fini(struct ike_index *x);
void ike_ix_add(struct ike_index *x, struct ike_node *e, uint64_t k1, uint64_t k2);
void ike_ix_del(struct ike_index *x, struct ike_node *e);
/* linked under (k1, k2) when want, else not: what an object's current keys say */
void ike_ix_set(struct ike_index *x, struct ike_node *e, bool want, uint64_t k1, uint64_t k2);
/* the first entry with these keys, then the next with the same; probes counts compares */
struct ike_node *ike_ix_find(const struct ike_index *x, uint64_t k1, uint64_t k2, uint64_t *probes);
struct ike_node *ike_ix_next(const struct ike_index *x, const struct ike_node *e, uint64_t *probes);
#define IKE_CONTAINER(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* timer.c */
int ike_heap_init(struct ike_heap *h, uint32_t cap);
void ike_heap_fini(struct ike_heap *h);
int ike_heap_reserve(struct ike_heap *h, uint32_t cap);
/* arm or move a timer; -1 only when the heap had to grow and could not */
int ike_timer_set(struct ike_heap *h, struct ike_timer *t, uint64_t due);
void ike_timer_stop(struct ike_heap *h, struct ike_timer *t);
/* the earliest timer if it is due (taken off the heap), else NULL */
struct ike_timer *ike_timer_due(struct ike_heap *h, uint64_t now);

/* sa.c */
/* rekey: the new SA of an IKE SA rekey, which may pass sa_max (fh_ike.h) */
struct ike_sa *ike_sa_new(struct fh_ike *ike, bool rekey);
struct ike_sa *ike_sa_find(struct fh_ike *ike, uint64_t spi_i, uint64_t spi_r);
/* After changing what an SA is found by (SPIs, peer, tunnel, id) or its deadlines: it is
 * re-indexed and its timer moved when the engine's entry point returns (or now, reindex). */
void ike_sa_touch(struct fh_ike *ike, struct ike_sa *sa);
void ike_sa_reindex(struct fh_ike *ike, struct ike_sa *sa);
/* IKE SAs under one key, for loops: first, then next until NULL */
struct ike_sa *ike_sa_first(struct fh_ike *ike, int ix, uint64_t k1, uint64_t k2);
struct ike_sa *ike_sa_next_same(struct fh_ike *ike, int ix, const struct ike_sa *sa);
/* an IKE SPI of ours: random, nonzero, no other SA of ours has it */
uint64_t ike_new_ike_spi(struct fh_ike *ike);
uint64_t ike_rid_key(const char *id);
/* the tunnel of a handle in the running config, NULL if it has none */
struct ike_tun *ike_tun_of(const struct fh_ike *ike, uint32_t handle);
/* the running config's interface index of an SA's tunnel, -1 none */
int ike_sa_tun_idx(const struct fh_ike *ike, const struct ike_sa *sa);
bool ike_tunnel_has_sa(struct fh_ike *ike, uint32_t handle);
void ike_sa_kill(struct fh_ike *ike, struct ike_sa *sa, const char *why);
void ike_send(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len);
void ike_send_to(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *buf,
		 size_t len);
int ike_request(struct fh_ike *ike, struct ike_sa *sa, uint8_t exch, uint8_t kind, struct fh_ike_builder *inner);
int ike_respond(struct fh_ike *ike, struct ike_sa *sa, uint8_t exch, uint32_t msg_id, struct fh_ike_builder *inner);
void ike_inner_init(struct fh_ike *ike, struct fh_ike_builder *b);
int ike_request_plain(struct fh_ike *ike, struct ike_sa *sa, uint8_t kind, const uint8_t *buf, size_t len);
bool ike_has_notify(const struct fh_ike_msg *m, uint16_t type);
uint16_t ike_error_notify(const struct fh_ike_msg *m);
uint32_t ike_rand32(void);
uint64_t ike_rand64(void);
void ike_established(struct fh_ike *ike, struct ike_sa *sa);
void ike_child_remove(struct fh_ike *ike, struct ike_sa *sa, struct ike_child *c);
struct ike_child *ike_child_by_in(struct ike_sa *sa, uint32_t spi_in);
struct ike_child *ike_child_by_out(struct ike_sa *sa, uint32_t spi_out);
uint32_t ike_new_spi(struct fh_ike *ike);
uint64_t ike_soft_ms(uint32_t life_s, bool initiator);

/* policy.c: what the config allows */
uint16_t ike_encr_id(uint8_t e, uint16_t *bits);
uint16_t ike_integ_id(uint8_t i);
int ike_offer(const struct fh_ike *ike, uint32_t local, struct fh_ike_builder *b, const uint8_t *spi, uint8_t spi_len);
uint16_t ike_first_group(const struct fh_ike *ike, uint32_t local);
bool ike_group_allowed(const struct fh_ike *ike, uint32_t local, uint16_t g);
bool ike_prop_allowed(const struct fh_ike *ike, uint32_t local, const struct ike_prop *p);
bool ike_prop_pick(const struct fh_ike *ike, uint32_t local, const struct fh_ike_sa *offer, struct ike_prop *out,
		   uint16_t ke_group);
int ike_profile_for_tunnel(const struct fh_config *cfg, int tunnel, int *ipsec_profile);
int ike_profile_for_id(const struct fh_config *cfg, const struct fh_ike_id *id, uint32_t remote);
int ike_keyring_peer(const struct fh_config *cfg, int profile, const struct fh_ike_id *id, uint32_t remote);
uint32_t ike_tunnel_for_peer(struct fh_ike *ike, int profile, uint32_t remote, uint32_t local);
void ike_local_id(const struct fh_config *cfg, int profile, uint32_t local, uint8_t *body, size_t *len);
void ike_id_str(const struct fh_ike_id *id, char *out, size_t len);
bool ike_id_matches(const struct fh_config *cfg, int profile, const struct fh_ike_id *id);
void ike_set_sk(struct ike_sa *sa);

/* init.c */
void ike_initiate(struct fh_ike *ike, struct ike_tun *t);
void ike_init_request(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *buf,
		      size_t len, const struct fh_ike_msg *m);
void ike_init_response(struct fh_ike *ike, struct ike_sa *sa, const uint8_t *buf, size_t len,
		       const struct fh_ike_msg *m);
void ike_answer_notify(struct fh_ike *ike, const struct fh_ike_addr *l, const struct fh_ike_addr *r,
		       const struct fh_ike_hdr *req, uint16_t type, const uint8_t *data, size_t len);
void ike_add_ike_prop(struct fh_ike_builder *b, const struct ike_prop *p, uint64_t spi);
void ike_nat_hash(uint64_t spi_i, uint64_t spi_r, uint32_t ip, uint16_t port, uint8_t out[20]);

/* auth.c */
void ike_auth_send(struct fh_ike *ike, struct ike_sa *sa);
void ike_auth_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);
void ike_auth_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);

/* child.c */
int ike_child_sa_payload(struct fh_ike *ike, struct ike_sa *sa, struct fh_ike_builder *b, uint32_t spi, uint16_t dh);
int ike_child_pick(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_sa *offer, struct ike_child_alg *alg,
		   uint32_t *peer_spi, uint8_t *prop_num, bool pfs_allowed);
void ike_child_accepted_payload(struct fh_ike_builder *b, uint8_t num, uint32_t spi, const struct ike_child_alg *a);
int ike_child_check_accepted(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_sa *got,
			     struct ike_child_alg *alg, uint32_t *peer_spi, bool pfs);
void ike_ts_ours(struct fh_ike *ike, struct ike_sa *sa, struct fh_ike_ts *l, struct fh_ike_ts *r);
/* A responder's choice from the initiator's selectors: ours (l) and the peer's (r), narrowed to
 * what the tunnel allows; false when nothing is left (TS_UNACCEPTABLE). */
bool ike_ts_pick(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr,
		 struct fh_ike_tsl *l, struct fh_ike_tsl *r);
/* The selectors to offer when we rekey a child: what it was set up with. */
void ike_ts_child(struct fh_ike *ike, struct ike_sa *sa, const struct ike_child *c, struct fh_ike_tsl *l,
		  struct fh_ike_tsl *r);
/* The initiator's selectors are GRE between two hosts, the responder's side at local: a FlexVPN
 * spoke's GRE tunnel (its end in *peer). */
bool ike_ts_is_gre(const struct fh_ike_tsl *tsi, const struct fh_ike_tsl *tsr, uint32_t local, uint32_t *peer);
void ike_add_ts(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_ts *ts);
void ike_add_tsl(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_tsl *tsl);

/* modecfg.c: the CP payload (RFC 7296 3.15) */
#define CFG_REQUEST 1
#define CFG_REPLY 2
/* append a CP of this type; -1 when it does not fit */
int ike_cp_add(struct fh_ike_builder *b, uint8_t type, const struct fh_ike_modecfg *m);
/* the message's CP of this type decoded: 1, 0 none, -1 malformed (counted) */
int ike_cp_get(struct fh_ike *ike, const struct fh_ike_msg *m, uint8_t type, struct fh_ike_modecfg *out);
/* what an initiator asks for on a tunnel (ip address negotiated, route set access-list of its
 * authorization policy); false when it sends no CP */
bool ike_cp_request(const struct fh_ike *ike, const struct ike_sa *sa, struct fh_ike_modecfg *req);
/* debug crypto ikev2 client flexvpn: one line per CP sent or received */
void ike_cp_debug(const struct ike_sa *sa, const char *what, const struct fh_ike_modecfg *m);
/* the session's end: ops->session_down once, if it is owed */
void ike_session_end(struct fh_ike *ike, struct ike_sa *sa);
struct ike_child *ike_child_install(struct fh_ike *ike, struct ike_sa *sa, const struct ike_child_alg *alg,
				    uint32_t spi_in, uint32_t spi_out, bool transport, bool we_init, const uint8_t *ni, size_t ni_len,
				    const uint8_t *nr, size_t nr_len, const uint8_t *gir, size_t gir_len,
				    const struct fh_ike_ts *l, const struct fh_ike_ts *r, bool standby);
void ike_create_child_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);
void ike_create_child_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);
void ike_start_rekey_child(struct fh_ike *ike, struct ike_sa *sa, uint32_t spi_in);
void ike_start_rekey_ike(struct fh_ike *ike, struct ike_sa *sa);

/* info.c */
void ike_info_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);
void ike_info_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in);
void ike_start_dpd(struct fh_ike *ike, struct ike_sa *sa);
void ike_start_delete_child(struct fh_ike *ike, struct ike_sa *sa, uint32_t spi_in);
void ike_start_delete_ike(struct fh_ike *ike, struct ike_sa *sa);

/* Wire helpers. */
static inline uint16_t ike_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t ike_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void ike_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void ike_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
