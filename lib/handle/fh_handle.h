/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_HANDLE_H
#define FH_HANDLE_H

/*
 * Stable handles for run-time objects (interfaces, tunnels, SA pairs), and an O(1) index to find
 * them by key.
 *
 * fh_slots hands out slot numbers that never move while the object lives, each with a
 * generation, so a handle (generation << FH_HANDLE_SLOT_BITS | slot) that outlived its object is
 * recognised as stale instead of naming the slot's next tenant (VPP's pool indexes, WireGuard's
 * index hashtable). Freed slots are reused oldest first, which keeps a just-freed slot (that a
 * worker may still be reading for one grace period) out of reuse for as long as possible.
 *
 * fh_map maps 64-bit keys to 32-bit values: open addressing, linear probing, deletion by backward
 * shift (no tombstones, so lookups stay short however many keys came and went), doubled when half
 * full. Keys are the callers' (SPIs, name hashes, prefix|length).
 *
 * Threading: none; each table belongs to one thread (the control lcore). Memory: malloc.
 * Errors: -1 / 0 handles with errno ENOMEM or ENOSPC; lookups of absent or stale keys fail
 * quietly (return -1 or false).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t fh_handle_t;

#define FH_HANDLE_NONE 0u
/* 2^22 slots (4 M): far above any limit a 64-bit hub sets; 10 bits of generation catch stale
 * handles until a slot has been reused 1023 times. */
#define FH_HANDLE_SLOT_BITS 22
#define FH_HANDLE_SLOT_MAX (1u << FH_HANDLE_SLOT_BITS)
#define FH_HANDLE_GEN_MAX ((1u << (32 - FH_HANDLE_SLOT_BITS)) - 1)

static inline uint32_t fh_handle_slot(fh_handle_t h)
{
	return h & (FH_HANDLE_SLOT_MAX - 1);
}

struct fh_slots {
	uint32_t cap;       /* slots, fixed at init */
	uint32_t used;      /* slots in use */
	uint32_t hi;        /* one past the highest slot ever used: iteration bound */
	uint16_t *gen;      /* per slot: current generation, 0 = free */
	uint16_t *last_gen; /* per slot: the generation it had last */
	uint32_t *next;     /* free list links */
	uint32_t head, tail;
};

/* 0 or -1 (ENOMEM, or EINVAL for cap 0 or above FH_HANDLE_SLOT_MAX). */
int fh_slots_init(struct fh_slots *s, uint32_t cap);
void fh_slots_fini(struct fh_slots *s);
/* A new handle, or FH_HANDLE_NONE with errno ENOSPC when every slot is in use. */
fh_handle_t fh_slots_alloc(struct fh_slots *s);
/* Free a live handle; false (nothing done) when it is stale or invalid. */
bool fh_slots_free(struct fh_slots *s, fh_handle_t h);
/* The slot of a live handle, or -1. */
static inline int64_t fh_slots_get(const struct fh_slots *s, fh_handle_t h)
{
	uint32_t slot = fh_handle_slot(h);

	if (slot >= s->cap || s->gen[slot] == 0 || s->gen[slot] != h >> FH_HANDLE_SLOT_BITS)
		return -1;
	return slot;
}
/* The handle of a slot in use, or FH_HANDLE_NONE. */
static inline fh_handle_t fh_slots_handle(const struct fh_slots *s, uint32_t slot)
{
	if (slot >= s->cap || s->gen[slot] == 0)
		return FH_HANDLE_NONE;
	return (fh_handle_t)s->gen[slot] << FH_HANDLE_SLOT_BITS | slot;
}

struct fh_map {
	uint64_t *key;
	uint32_t *val;
	uint8_t *full;
	uint32_t mask;      /* capacity - 1, capacity a power of two */
	uint32_t n;
	uint64_t probes;    /* slots looked at by lookups: a test sees that lookups stay O(1) */
};

/* 0 or -1 (ENOMEM). hint: expected keys (the table starts at twice that). */
int fh_map_init(struct fh_map *m, uint32_t hint);
void fh_map_fini(struct fh_map *m);
/* Insert or replace; 0 or -1 (ENOMEM when it had to grow and could not). */
int fh_map_put(struct fh_map *m, uint64_t key, uint32_t val);
bool fh_map_get(const struct fh_map *m, uint64_t key, uint32_t *val);
/* true when the key was there. */
bool fh_map_del(struct fh_map *m, uint64_t key);

/* 64-bit FNV-1a of a string, for maps keyed by name (callers confirm the name on a hit). */
uint64_t fh_hash_str(const char *s);

#endif
