/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_SADB_H
#define FH_SADB_H

/*
 * The SA database: every child SA pair the router holds (manually keyed or negotiated by IKEv2),
 * its state, and two indexes: by inbound SPI (O(1), what the peer names in its Deletes and what
 * show commands look up) and by tunnel (a short list per tunnel, newest first, to choose the
 * pair that encrypts). Pairs are referred to by stable handles (fh_handle.h).
 *
 * This is bookkeeping only: it neither creates crypto sessions nor touches the data plane. The
 * caller (the daemon's SA glue) creates the SA objects, installs the inbound one in the workers'
 * SPI hash and points the tunnel at fh_sadb_outbound(); on removal it takes them out of the data
 * plane, marks the pair RETIRING, and deletes it once the grace period is over.
 *
 * States:
 *   INSTALLING  created, not yet visible to workers
 *   ACTIVE      decrypts; may encrypt (the newest active pair of a tunnel does)
 *   STANDBY     decrypts; encrypts only when the tunnel has no active pair (a rekey's new pair
 *               on the rekey responder, RFC 7296 2.8)
 *   RETIRING    out of the data plane, objects freed after the grace period; no longer found
 *               by SPI (a new pair may take it); a pair never leaves this state but by deletion
 *
 * Threading: the control lcore only. Errors: NULL / -1 with errno (ENOSPC at the pair limit,
 * EEXIST for an inbound SPI in use, ENOENT).
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_handle.h"

enum fh_sadb_state {
	FH_SADB_INSTALLING,
	FH_SADB_ACTIVE,
	FH_SADB_STANDBY,
	FH_SADB_RETIRING,
};

enum fh_sadb_origin {
	FH_SADB_STATIC, /* crypto ipsec static-sa in the config */
	FH_SADB_IKE,    /* negotiated */
};

struct fh_sa;

struct fh_sadb_pair {
	fh_handle_t handle;
	fh_handle_t tunnel;    /* the tunnel interface it protects */
	uint8_t state;         /* enum fh_sadb_state */
	uint8_t origin;        /* enum fh_sadb_origin */
	uint32_t spi_in, spi_out;
	struct fh_sa *in, *out; /* the caller's objects */
	uint32_t ike_id;       /* IKE SA's tunnel-id, 0 for static */
	uint32_t src, dst;     /* outer addresses, host order */
	uint64_t installed;    /* install order (a counter): newer pairs have larger values */
	void *user;            /* the caller's per-pair data */
	/* per-tunnel list, newest first: slots, UINT32_MAX ends it */
	uint32_t t_prev, t_next;
};

struct fh_sadb;

/* pairs: the most pairs (the sa-pairs limit); tunnel_slots: the tunnel handles' slot range. */
struct fh_sadb *fh_sadb_new(uint32_t pairs, uint32_t tunnel_slots);
/* Frees the database, not the pairs' SA objects or user data (walk with fh_sadb_next first). */
void fh_sadb_free(struct fh_sadb *db);

/* A new pair in state INSTALLING, first on its tunnel's list. NULL with errno ENOSPC (limit),
 * EEXIST (spi_in already used by another pair), EINVAL (spi 0 or no tunnel). */
struct fh_sadb_pair *fh_sadb_add(struct fh_sadb *db, fh_handle_t tunnel, uint32_t spi_in, uint32_t spi_out,
				 uint8_t origin);
/* Remove a pair (any state) for good; its handle goes stale. */
void fh_sadb_del(struct fh_sadb *db, struct fh_sadb_pair *p);
void fh_sadb_set_state(struct fh_sadb *db, struct fh_sadb_pair *p, enum fh_sadb_state st);

struct fh_sadb_pair *fh_sadb_get(const struct fh_sadb *db, fh_handle_t h);
struct fh_sadb_pair *fh_sadb_find_spi(const struct fh_sadb *db, uint32_t spi_in);

/* The pair that encrypts into a tunnel: its newest ACTIVE pair, else its newest STANDBY one;
 * NULL when it has neither. O(pairs of that tunnel). */
struct fh_sadb_pair *fh_sadb_outbound(const struct fh_sadb *db, fh_handle_t tunnel);

/* A tunnel's pairs, newest first (any state): first, then next until NULL. */
struct fh_sadb_pair *fh_sadb_tunnel_first(const struct fh_sadb *db, fh_handle_t tunnel);
struct fh_sadb_pair *fh_sadb_tunnel_next(const struct fh_sadb *db, const struct fh_sadb_pair *p);
uint32_t fh_sadb_tunnel_count(const struct fh_sadb *db, fh_handle_t tunnel);

/* Every pair, in slot order, by cursor (start at 0): for show commands and shutdown. */
struct fh_sadb_pair *fh_sadb_next(const struct fh_sadb *db, uint32_t *cursor);
uint32_t fh_sadb_count(const struct fh_sadb *db);
uint32_t fh_sadb_count_state(const struct fh_sadb *db, enum fh_sadb_state st);

const char *fh_sadb_state_name(enum fh_sadb_state st);

#endif
