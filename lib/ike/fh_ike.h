/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_H
#define FH_IKE_H

/*
 * The IKEv2 engine (RFC 7296): IKE SAs and their child SAs, as initiator and as responder, for
 * the tunnels and profiles of a running config. Exchanges: IKE_SA_INIT (proposals, DH, nonces,
 * NAT detection, cookies), IKE_AUTH with pre-shared keys (asymmetric local/remote keys from the
 * keyring), CREATE_CHILD_SA (child rekey, IKE SA rekey), INFORMATIONAL (DPD, delete).
 *
 * The engine knows no packets below UDP and no data plane: the caller hands it IKE messages (the
 * non-ESP marker of port 4500 removed) with their addresses, and gets called back to send
 * messages and to install or remove child SAs. Time comes in as milliseconds with every call, so
 * tests can drive two engines against each other without a clock.
 *
 * Tunnels are named by handles the caller gives out (ops->tunnel_handle): a handle stays the same
 * across config reloads for as long as a tunnel keeps its name, so an SA stays bound to its tunnel
 * whatever happens to the positions of interfaces in the config. 0 is no tunnel.
 *
 * Scale: IKE SAs are found by SPI, tunnel-id, tunnel and peer in O(1) (hash tables), and each SA
 * and each configured tunnel has one timer in a heap: fh_ike_tick looks only at what is due, so an
 * idle SA costs nothing per tick. A hub holds fh_ike_limits.sa_max IKE SAs.
 *
 * Threading: one engine belongs to the control lcore; nothing here is thread-safe, and the ops
 * are called from inside the engine's functions on the caller's thread.
 * Ownership: the engine keeps a pointer to the config; fh_ike_set_config() replaces it and the
 * caller frees the old one after the call.
 * Errors: peers' mistakes are answered as RFC 7296 says or dropped, counted (enum fh_ike_ctr)
 * and logged rate-limited under "crypto ikev2 error"; nothing a peer sends can stop the engine.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_config.h"

#define FH_IKE_PORT 500
#define FH_IKE_NATT_PORT 4500

struct fh_ike;

/* An IPv4 endpoint, host order. */
struct fh_ike_addr {
	uint32_t ip;
	uint16_t port;
};

/* A negotiated child SA pair, as the data plane needs it. Keys are only valid during the call. */
struct fh_ike_child_sa {
	uint32_t tunnel;         /* handle of the tunnel interface it protects (ops->tunnel_handle) */
	uint32_t ike_id;         /* the IKE SA's tunnel-id (show crypto ikev2 sa) */
	uint32_t spi_in, spi_out;
	uint8_t encr, integ;     /* enum fh_encr, enum fh_integ */
	bool esn, transport, udp_encap;
	/* a rekey's new pair on the rekey's responder: decrypt with it at once, encrypt with it only
	 * once the old pair is gone (RFC 7296 2.8: the initiator may not have the keys yet) */
	bool standby;
	struct fh_ike_addr local, remote;
	uint32_t replay_window;
	uint32_t life_seconds;   /* hard; the engine rekeys before */
	uint64_t life_kilobytes; /* hard, for the data plane to enforce; the engine rekeys at 90 % */
	const uint8_t *enc_in, *enc_out, *auth_in, *auth_out;
	uint32_t enc_len, auth_len; /* enc includes GCM's 4-byte salt */
};

/* Mode-config (RFC 7296 3.15) as the engine hands it over, decoded; host order. */
#define FH_IKE_NETS_MAX 16
struct fh_ike_net {
	uint32_t addr, mask;
};

struct fh_ike_modecfg {
	bool want_addr;          /* a request asks for an address (INTERNAL_IP4_ADDRESS) */
	uint32_t addr, netmask;  /* a reply's address and mask; 0 none */
	uint32_t dns[2], nbns[2];
	uint8_t n_dns, n_nbns;
	uint8_t n_net;           /* INTERNAL_IP4_SUBNET: a reply's pushed networks, a request's own */
	struct fh_ike_net net[FH_IKE_NETS_MAX];
};

/*
 * A peer's session as IKE_AUTH left it, beyond keys: the tunnel its child SAs go into and what
 * mode-config gave. A responder whose peer has no configured tunnel but whose profile names a
 * virtual-template asks the caller for a Virtual-Access (s->tunnel == 0 on the way in).
 */
struct fh_ike_session {
	uint32_t ike_id;             /* the IKE SA's tunnel-id; stays across IKE SA rekeys */
	bool initiator;
	uint32_t tunnel;             /* in: the configured tunnel, 0 none; out: the one to bind to */
	int profile;                 /* IKE profile, index in the running config */
	int vtemplate;               /* interface index of the profile's virtual-template, -1 none */
	int authz;                   /* authorization policy index (aaa authorization ... policy), -1 */
	bool gre;                    /* the peer's selectors are GRE between the endpoints */
	uint32_t gre_peer;           /* the peer's GRE endpoint (its selector; behind a NAT its own) */
	struct fh_ike_addr local, remote;
	const char *remote_id;       /* as show prints it: "10.0.0.1", "spoke1.example", "ops@example" */
	bool has_cfg;                /* the peer sent a CP: a CFG_REQUEST to us, or a CFG_REPLY */
	struct fh_ike_modecfg cfg;   /* the peer's CP */
	struct fh_ike_modecfg reply; /* responder, out: our CFG_REPLY (sent when has_cfg) */
	uint16_t notify;             /* responder, out, when refused: INTERNAL_ADDRESS_FAILURE (36),
				      * TS_UNACCEPTABLE (38), TEMPORARY_FAILURE (43) */
};

struct fh_ike_child_counts {
	uint64_t in_pkts, out_pkts, in_bytes, out_bytes;
};

struct fh_ike_ops {
	/* Send one IKE message from local to remote; the caller adds the non-ESP marker when a port
	 * is not 500. */
	void (*send)(void *ctx, const struct fh_ike_addr *local, const struct fh_ike_addr *remote, const uint8_t *msg,
		     size_t len);
	/* Install a child SA pair; traffic into the tunnel uses the newest pair that is not on
	 * standby (the newest on standby when there is no other). 0 or -1. */
	int (*child_up)(void *ctx, const struct fh_ike_child_sa *c);
	/* Remove a pair (rekeyed, deleted, dead peer, IKE SA gone). */
	void (*child_down)(void *ctx, uint32_t tunnel, uint32_t spi_in, uint32_t spi_out);
	/* A NATed peer moved (RFC 7296 2.23): the pair's outer addresses and ports change. */
	void (*child_peer)(void *ctx, uint32_t spi_in, uint32_t spi_out, const struct fh_ike_addr *local,
			   const struct fh_ike_addr *remote);
	/* Traffic through a pair so far (DPD, volume lifetime); false if unknown. */
	bool (*child_counts)(void *ctx, uint32_t spi_in, uint32_t spi_out, struct fh_ike_child_counts *c);
	/* The handle of the configured tunnel interface of this name, 0 if the caller has none. The
	 * same name must give the same handle across reloads, and two names never share one; the
	 * engine asks once per tunnel in fh_ike_new and fh_ike_set_config, never per message. */
	uint32_t (*tunnel_handle)(void *ctx, const char *name);
	/* The address a tunnel's packets leave from (its tunnel-source), 0 if it has none now. A
	 * tunnel waiting for a source is asked again every IKE_SOURCE_POLL_MS (1 s). */
	uint32_t (*tunnel_source)(void *ctx, uint32_t tunnel);
	/* IKE_AUTH succeeded and the session needs the caller: a responder with no configured tunnel
	 * for the peer (Virtual-Access from s->vtemplate: its handle into s->tunnel), or either role
	 * with mode-config (the responder fills s->reply: pool address, pushed networks). Called
	 * before the first child SA is installed. 0, or -1 to refuse the child SAs with s->notify
	 * (the IKE SA stays, RFC 7296 1.2, and its initiator deletes it). Every 0 is matched by one
	 * session_down. */
	int (*session_up)(void *ctx, struct fh_ike_session *s);
	/* The IKE SA of a session is gone (deleted, dead, expired, replaced, cleared); its child SAs
	 * were removed before. Not called for an IKE SA rekey: the session moves to the new SA. */
	void (*session_down)(void *ctx, uint32_t ike_id, uint32_t tunnel);
};

/* What happened to IKE messages and SAs; per engine, read by show commands. */
enum fh_ike_ctr {
	FH_IKE_CTR_RX,
	FH_IKE_CTR_TX,
	FH_IKE_CTR_RETRANSMIT,
	FH_IKE_CTR_RX_MALFORMED,     /* failed parsing (header, payload chain, payload contents) */
	FH_IKE_CTR_RX_NO_SA,         /* for an IKE SA we do not have */
	FH_IKE_CTR_RX_BAD_MSGID,     /* outside the message-ID window */
	FH_IKE_CTR_RX_DUP_REQUEST,   /* retransmitted request: cached response sent again */
	FH_IKE_CTR_RX_ICV,           /* SK payload did not verify */
	FH_IKE_CTR_NO_PROPOSAL,      /* no proposal chosen (sent or received) */
	FH_IKE_CTR_INVALID_KE,       /* INVALID_KE_PAYLOAD (sent or received) */
	FH_IKE_CTR_AUTH_FAILED,      /* AUTHENTICATION_FAILED (sent or received) */
	FH_IKE_CTR_NO_PROFILE,       /* no profile / keyring entry matches the peer */
	FH_IKE_CTR_TS_UNACCEPTABLE,
	FH_IKE_CTR_COOKIE_SENT,
	FH_IKE_CTR_COOKIE_BAD,       /* IKE_SA_INIT with a missing or stale cookie while under load */
	FH_IKE_CTR_HALF_OPEN_LIMIT,  /* IKE_SA_INIT dropped: too many half-open SAs */
	FH_IKE_CTR_SA_ESTABLISHED,
	FH_IKE_CTR_CHILD_UP,
	FH_IKE_CTR_CHILD_REKEYED,
	FH_IKE_CTR_IKE_REKEYED,
	FH_IKE_CTR_DELETED,          /* IKE SAs deleted (either side, or cleared) */
	FH_IKE_CTR_DPD_SENT,
	FH_IKE_CTR_DPD_DEAD,         /* peers declared dead */
	FH_IKE_CTR_TIMEOUT,          /* requests that were never answered */
	FH_IKE_CTR_KEEPALIVE,        /* NAT keepalives sent */
	FH_IKE_CTR_FRAG_TX,          /* IKEv2 fragments sent (RFC 7383) */
	FH_IKE_CTR_FRAG_RX,          /* IKEv2 fragments received and verified */
	FH_IKE_CTR_SA_LIMIT,         /* new IKE SA refused: fh_ike_limits.sa_max reached */
	FH_IKE_CTR_CHILD_LIMIT,      /* child SA refused (NO_ADDITIONAL_SAS): IKE SA has the most it may */
	FH_IKE_CTR_SESSION_REFUSED,  /* session_up said no (pool empty, no Virtual-Access): children refused */
	FH_IKE_CTR_REPLACED,         /* IKE SAs replaced by a new IKE_AUTH of the same identity */
	FH_IKE_CTR_CP_MALFORMED,     /* a CP payload that did not parse (ignored) */
	FH_IKE_CTR_MAX,
};

const char *fh_ike_ctr_name(enum fh_ike_ctr c);

/* Create an engine for a config; NULL without memory. ops (every member set) and ctx must outlive
 * the engine. */
struct fh_ike *fh_ike_new(const struct fh_config *cfg, const struct fh_ike_ops *ops, void *ctx);
/* Delete every SA (children removed through ops, Delete sent best effort) and free. */
void fh_ike_free(struct fh_ike *ike, uint64_t now_ms);

/* A new running config. Tunnels are matched by handle (so by name): an IKE SA whose tunnel is gone,
 * shut down, unprotected or has another destination is deleted (Delete sent, children removed
 * through ops->child_down); every other SA keeps its tunnel handle and its child SAs. Tunnels
 * without an SA are initiated again at the next tick. */
void fh_ike_set_config(struct fh_ike *ike, const struct fh_config *cfg, uint64_t now_ms);

/* One received IKE message (after the marker). */
void fh_ike_input(struct fh_ike *ike, const struct fh_ike_addr *local, const struct fh_ike_addr *remote,
		  const uint8_t *msg, size_t len, uint64_t now_ms);

/* Timers: retransmissions, initiation of configured tunnels, DPD, rekeys, expiry, keepalives.
 * Call often (every few ms is plenty): only SAs and tunnels whose timer is due are looked at. */
void fh_ike_tick(struct fh_ike *ike, uint64_t now_ms);

/* Tuning knobs: the first two and frag_mtu come from the config (crypto ikev2 cookie-challenge,
 * limit max-in-negotiation-sa, fragmentation-mtu) at fh_ike_new and fh_ike_set_config; tests
 * change them. */
struct fh_ike_limits {
	uint32_t cookie_threshold;   /* half-open SAs beyond which IKE_SA_INIT needs a cookie */
	uint32_t half_open_max;      /* half-open SAs beyond which IKE_SA_INIT is dropped */
	uint32_t retransmit_ms;      /* first retransmission; doubles each time */
	uint32_t retransmit_tries;   /* sends before a request is given up */
	uint32_t retry_initiate_ms;  /* pause before a failed tunnel is tried again */
	uint32_t frag_mtu;           /* IKEv2 fragmentation (RFC 7383): largest datagram; 0 = off */
	uint32_t sa_max;             /* IKE SAs at most (FH_IKE_SA_MAX_DEFAULT); a new IKE_SA_INIT
				      * beyond it is dropped (FH_IKE_CTR_SA_LIMIT); rekeys may pass it
				      * for a moment, up to twice, as the old SA goes right after */
};
/* A hub's worth of peers (10,000) with room for rekeys and stragglers. */
#define FH_IKE_SA_MAX_DEFAULT 16384
void fh_ike_get_limits(const struct fh_ike *ike, struct fh_ike_limits *l);
void fh_ike_set_limits(struct fh_ike *ike, const struct fh_ike_limits *l);

/* For show crypto ikev2 sa [detail]. */
struct fh_ike_sa_info {
	uint32_t id;                 /* tunnel-id */
	struct fh_ike_addr local, remote;
	const char *status;          /* "READY", "IN-NEG", "DELETE" */
	bool initiator;
	uint64_t spi_i, spi_r;
	uint16_t encr, key_bits, prf, integ, dh_group; /* IANA transform IDs */
	const char *auth_sign, *auth_verify;           /* "PSK" */
	uint32_t lifetime_s, active_s;
	bool nat_local, nat_remote;
	char local_id[FH_NAME_MAX + 8], remote_id[FH_NAME_MAX + 8];
	uint32_t tunnel;             /* tunnel handle, 0 none */
	bool vaccess;                /* the tunnel is a Virtual-Access made for this SA */
	uint32_t cfg_addr;           /* the address mode-config gave (either role), 0 none */
	char tunnel_name[FH_NAME_MAX]; /* its interface's name in the running config, "" none */
	int profile;                 /* index of the IKE profile in the running config, -1 none */
	uint32_t n_child;
	uint32_t child_spi_in[4], child_spi_out[4];
	uint32_t msgid_tx, msgid_rx;
};

/* Walk the IKE SAs: start with *cursor = 0, call until false. O(1) per SA. SAs created or deleted
 * between two calls may be missed or seen twice (the walk goes over a compact array), so a show
 * command should walk it in one go. */
bool fh_ike_sa_next(const struct fh_ike *ike, uint32_t *cursor, struct fh_ike_sa_info *out);
/* The IKE SA of a tunnel-id, O(1); during an IKE SA rekey the new SA (the one with the children).
 * false if there is none. */
bool fh_ike_sa_find(const struct fh_ike *ike, uint32_t id, struct fh_ike_sa_info *out);
/* IKE SAs that exist (any state). */
uint32_t fh_ike_sa_count(const struct fh_ike *ike);

/* What the engine's tables and timers did: for tests and "show crypto ikev2 stats", to see that
 * work stays O(1) per message and nothing is scanned per tick. */
struct fh_ike_stats {
	uint32_t sa;                 /* IKE SAs that exist */
	uint32_t half_open;          /* responder SAs between IKE_SA_INIT and IKE_AUTH */
	uint32_t established;        /* IKE SAs READY */
	uint32_t tunnels;            /* configured tunnel interfaces with a handle */
	uint32_t timers;             /* pending timers (SAs and tunnels) */
	uint64_t timer_pops;         /* SA timers that fired: each is one SA looked at by a tick */
	uint64_t tunnel_pops;        /* tunnel timers that fired */
	uint64_t lookups;            /* lookups by key (SPI, tunnel, peer, tunnel-id) */
	uint64_t probes;             /* entries compared by those lookups */
};
void fh_ike_get_stats(const struct fh_ike *ike, struct fh_ike_stats *st);
uint64_t fh_ike_counter(const struct fh_ike *ike, enum fh_ike_ctr c);
void fh_ike_counters_clear(struct fh_ike *ike);

/* clear crypto ikev2 sa [id]: delete one (id != 0) or all; returns how many. Tunnels that are
 * configured come back up by themselves. */
int fh_ike_clear(struct fh_ike *ike, uint32_t id, uint64_t now_ms);

/* Start a rekey now (operations, tests): child SAs (ike == false) or the IKE SA; returns how
 * many rekeys started. */
int fh_ike_rekey(struct fh_ike *ike, uint32_t id, bool ike_sa, uint64_t now_ms);

/* Transform names for show commands ("AES-CBC", "SHA256", "DH_GROUP_2048_MODP/Group 14"). */
const char *fh_ike_encr_name(uint16_t id);
const char *fh_ike_prf_name(uint16_t id);
const char *fh_ike_integ_name(uint16_t id);
const char *fh_ike_group_name(uint16_t id);

#endif
