/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_POOL_H
#define FH_POOL_H

/*
 * Address pools of the hub role (IOS "ip local pool NAME FIRST LAST", the line repeated adds
 * ranges): the INTERNAL_IP4_ADDRESS a spoke gets in its CP reply.
 *
 * One pool = a name and up to FH_POOL_RANGES_MAX ranges of IPv4 addresses (host order), at most
 * FH_POOL_ADDRS_MAX addresses. Every address has a slot that never moves while the ranges stay;
 * allocation and release are O(1) (plus a binary search over the ranges, O(log ranges)); nothing
 * ever scans the pool but a reload and the show walks.
 *
 * Identity: alloc() takes the peer's identity (the IKE ID bytes, or any bytes the caller chooses,
 * 1..FH_POOL_ID_MAX) and keeps a keyed hash identity -> address (chains through the slots, the
 * seed from getrandom, so peers cannot aim their identities at one chain).
 *  - Stable while up: a second alloc() for an identity that holds an address returns that same
 *    address (a spoke that rebooted and re-authenticates replaces its old session and keeps its
 *    address; the caller must not release it twice).
 *  - Preferred when it returns soon: a released address remembers its last holder. Free addresses
 *    form one FIFO: release appends at the tail, alloc takes the head, so the least recently used
 *    address is handed out first and a just-released one only when nothing else is free. An
 *    identity that comes back while its old address is still free takes it out of the middle of
 *    the FIFO. A remembered identity is forgotten when its address goes to someone else.
 *
 * Exclusion: addresses an interface or a static route owns are never handed out.
 * fh_pool_exclude(first, last) / fh_pool_include(first, last) are reference-counted per address
 * (two owners of one address exclude it twice; it comes back with the second include) and cost the
 * intersection of [first, last] with the pool's ranges, not the pool's size; an include must name
 * an interval excluded before, exactly. An address excluded while allocated stays with its holder
 * (the session keeps working) but is not handed out again once released; it goes back to the free
 * list (at the tail) when its last exclusion is lifted. Exclusions are remembered by the pool, so a
 * reload applies them to the new ranges too.
 *
 * Reload (fh_pool_set_ranges): addresses in use that are inside the new ranges stay with their
 * holders; those outside are "draining": they stay allocated (alloc() for the identity still
 * returns them, release() takes them), are never handed out again and vanish at their release.
 * Free addresses that stay keep their place in the FIFO and their remembered identity; addresses
 * new to the pool go to the head (never used = least recently used). Cost: O(old + new slots).
 *
 * fh_pool_table: several pools by name, O(1) lookup (fh_map of fh_hash_str, names confirmed). A
 * config reload is a mark-and-sweep: fh_pool_table_begin(), fh_pool_table_set() for every pool of
 * the new config (created, or reloaded as above), fh_pool_table_end(): a pool that is no longer in
 * the config loses all its ranges, so every address it lends drains; it stays findable by name
 * until its last address is released (fh_pool_table_release frees it then; a later
 * fh_pool_table_end frees one whose addresses went through fh_pool_release).
 *
 * Ownership: a pool owns copies of the identities; a table owns its pools (fh_pool_table_free
 * frees them). Pool pointers from a table are valid until fh_pool_table_end() or
 * fh_pool_table_release() frees that pool: keep the name, not the pointer, across reloads.
 *
 * Threading: none; a pool and a table belong to one thread, the control lcore. Memory: malloc,
 * FH_COST_POOL_ADDR bytes per address (lib/config/fh_limits.h) plus the identities.
 *
 * Errors: -1 (or NULL) with errno: ENOSPC when no address is free (counted in `exhausted`),
 * EINVAL for bad arguments (ranges backwards, overlapping, too many, too large; an identity of 0
 * or more than FH_POOL_ID_MAX bytes), ENOENT (release of an address not allocated, include of an
 * interval not excluded), ENOMEM. A failed call changes nothing.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ranges of one pool: IOS has no limit; 64 lines of "ip local pool" is far past any guide. */
#define FH_POOL_RANGES_MAX 64
/* Addresses of one pool: 4 M, a /10; a hub of 10,000 spokes needs 10,000. */
#define FH_POOL_ADDRS_MAX (1u << 22)
/* Identity bytes: an IKE ID payload's data (a DER distinguished name is the longest kind). */
#define FH_POOL_ID_MAX 1024
/* Pool names: as the config's (FH_NAME_MAX). */
#define FH_POOL_NAME_MAX 64

struct fh_pool_range {
	uint32_t first, last; /* host order, first <= last */
};

struct fh_pool_stats {
	uint32_t ranges;
	uint32_t addresses;   /* in the ranges */
	uint32_t in_use;      /* allocated, draining ones included */
	uint32_t free;        /* could be handed out now */
	uint32_t excluded;    /* in the ranges and excluded (allocated or not) */
	uint32_t draining;    /* allocated, outside the ranges since a reload */
	uint64_t allocations; /* new leases (a repeated alloc of a holder is counted in `renewed`) */
	uint64_t renewed;     /* alloc() of an identity that held an address: the same one again */
	uint64_t returned;    /* new leases that were the identity's previous address */
	uint64_t releases;
	uint64_t exhausted;   /* alloc() refused with ENOSPC */
};

/* One range for show ip local pool. */
struct fh_pool_range_info {
	uint32_t first, last;
	uint32_t free, in_use, excluded;
};

/* One address in use for show ip local pool NAME. id points into the pool: valid until the next
 * call that changes it. */
struct fh_pool_lease {
	uint32_t addr;
	const uint8_t *id;
	uint16_t id_len;
	bool draining;
};

struct fh_pool;

/* A pool of n ranges (in any order; they must not overlap). NULL with errno EINVAL or ENOMEM. */
struct fh_pool *fh_pool_new(const char *name, const struct fh_pool_range *r, uint32_t n);
void fh_pool_free(struct fh_pool *p);
/* Reload with new ranges (see above); 0 or -1 (EINVAL, ENOMEM; the pool unchanged). */
int fh_pool_set_ranges(struct fh_pool *p, const struct fh_pool_range *r, uint32_t n);

/* An address for an identity: 0..UINT32_MAX, or -1 with errno ENOSPC, EINVAL, ENOMEM. */
int64_t fh_pool_alloc(struct fh_pool *p, const void *id, size_t len);
/* Give an allocated address back; 0 or -1 with errno ENOENT (not allocated, or not in the pool). */
int fh_pool_release(struct fh_pool *p, uint32_t addr);
/* The address an identity holds now; false when it holds none. */
bool fh_pool_find(const struct fh_pool *p, const void *id, size_t len, uint32_t *addr);

/* Exclude / include again [first, last]; the number of the pool's addresses in it (0 when none:
 * still remembered, for a later reload), or -1 with errno EINVAL (first > last), ENOENT (include
 * of an interval that is not excluded), ENOMEM. */
int64_t fh_pool_exclude(struct fh_pool *p, uint32_t first, uint32_t last);
int64_t fh_pool_include(struct fh_pool *p, uint32_t first, uint32_t last);

const char *fh_pool_name(const struct fh_pool *p);
void fh_pool_stats(const struct fh_pool *p, struct fh_pool_stats *st);
/* The ranges in address order, by cursor (start at 0): false after the last. */
bool fh_pool_range_next(const struct fh_pool *p, uint32_t *cursor, struct fh_pool_range_info *out);
/* The addresses in use, ranges in address order then the draining ones, by cursor (start at 0):
 * false after the last. A whole walk is O(pool), for show commands. */
bool fh_pool_lease_next(const struct fh_pool *p, uint32_t *cursor, struct fh_pool_lease *out);

struct fh_pool_table;

struct fh_pool_table *fh_pool_table_new(void);
/* Frees every pool. */
void fh_pool_table_free(struct fh_pool_table *t);
/* O(1); NULL when absent. */
struct fh_pool *fh_pool_table_find(const struct fh_pool_table *t, const char *name);
/* Start a reload: every pool unmarked. */
void fh_pool_table_begin(struct fh_pool_table *t);
/* Create the pool, or reload it with these ranges; marks it. NULL with errno (EINVAL, ENOMEM). */
struct fh_pool *fh_pool_table_set(struct fh_pool_table *t, const char *name, const struct fh_pool_range *r,
				  uint32_t n);
/* End a reload: unmarked pools lose their ranges (their addresses in use drain); those with
 * nothing in use are freed. Returns how many pools were freed. */
uint32_t fh_pool_table_end(struct fh_pool_table *t);
/* fh_pool_release in the named pool; frees the pool when it is out of the config and this was
 * its last address. 0 or -1 with errno ENOENT. */
int fh_pool_table_release(struct fh_pool_table *t, const char *name, uint32_t addr);
/* Exclude / include [first, last] in every pool, remembered for pools created later; as
 * fh_pool_exclude: the number of addresses it touched in all pools, or -1 with errno. */
int64_t fh_pool_table_exclude(struct fh_pool_table *t, uint32_t first, uint32_t last);
int64_t fh_pool_table_include(struct fh_pool_table *t, uint32_t first, uint32_t last);
/* Pools in creation order by cursor (start at 0), NULL after the last; for show commands. */
struct fh_pool *fh_pool_table_next(const struct fh_pool_table *t, uint32_t *cursor);
uint32_t fh_pool_table_count(const struct fh_pool_table *t);
/* Whether a pool is still in the config (set since the last fh_pool_table_begin). */
bool fh_pool_table_configured(const struct fh_pool_table *t, const struct fh_pool *p);

#endif
