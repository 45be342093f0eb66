/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_sadb.h"

#define NIL UINT32_MAX

struct fh_sadb {
	struct fh_slots slots;
	struct fh_sadb_pair *pair; /* by slot */
	struct fh_map by_spi;      /* spi_in -> slot */
	uint32_t n_tunnel_slots;
	uint32_t *t_head;          /* by tunnel slot: newest pair's slot */
	uint32_t *t_count;
	uint32_t n_state[FH_SADB_RETIRING + 1];
	uint64_t installs;
};

struct fh_sadb *fh_sadb_new(uint32_t pairs, uint32_t tunnel_slots)
{
	struct fh_sadb *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	if (fh_slots_init(&db->slots, pairs) < 0 || fh_map_init(&db->by_spi, pairs < 1024 ? pairs : 1024) < 0)
		goto fail;
	db->pair = calloc(pairs, sizeof(*db->pair));
	db->t_head = malloc((size_t)tunnel_slots * sizeof(*db->t_head));
	db->t_count = calloc(tunnel_slots, sizeof(*db->t_count));
	if (db->pair == NULL || db->t_head == NULL || db->t_count == NULL)
		goto fail;
	memset(db->t_head, 0xff, (size_t)tunnel_slots * sizeof(*db->t_head));
	db->n_tunnel_slots = tunnel_slots;
	return db;
fail:
	fh_sadb_free(db);
	errno = ENOMEM;
	return NULL;
}

void fh_sadb_free(struct fh_sadb *db)
{
	if (db == NULL)
		return;
	fh_slots_fini(&db->slots);
	fh_map_fini(&db->by_spi);
	free(db->pair);
	free(db->t_head);
	free(db->t_count);
	free(db);
}

static uint32_t slot_of(const struct fh_sadb *db, const struct fh_sadb_pair *p)
{
	return (uint32_t)(p - db->pair);
}

struct fh_sadb_pair *fh_sadb_add(struct fh_sadb *db, fh_handle_t tunnel, uint32_t spi_in, uint32_t spi_out,
				 uint8_t origin)
{
	uint32_t ts = fh_handle_slot(tunnel), slot;
	struct fh_sadb_pair *p;
	fh_handle_t h;

	if (spi_in == 0 || spi_out == 0 || tunnel == FH_HANDLE_NONE || ts >= db->n_tunnel_slots) {
		errno = EINVAL;
		return NULL;
	}
	if (fh_map_get(&db->by_spi, spi_in, NULL)) {
		errno = EEXIST;
		return NULL;
	}
	h = fh_slots_alloc(&db->slots);
	if (h == FH_HANDLE_NONE)
		return NULL; /* errno ENOSPC */
	slot = fh_handle_slot(h);
	if (fh_map_put(&db->by_spi, spi_in, slot) < 0) {
		fh_slots_free(&db->slots, h);
		return NULL;
	}
	p = &db->pair[slot];
	memset(p, 0, sizeof(*p));
	p->handle = h;
	p->tunnel = tunnel;
	p->state = FH_SADB_INSTALLING;
	p->origin = origin;
	p->spi_in = spi_in;
	p->spi_out = spi_out;
	p->installed = ++db->installs;
	p->t_prev = NIL;
	p->t_next = db->t_head[ts];
	if (p->t_next != NIL)
		db->pair[p->t_next].t_prev = slot;
	db->t_head[ts] = slot;
	db->t_count[ts]++;
	db->n_state[FH_SADB_INSTALLING]++;
	return p;
}

void fh_sadb_del(struct fh_sadb *db, struct fh_sadb_pair *p)
{
	uint32_t slot = slot_of(db, p), ts = fh_handle_slot(p->tunnel);

	if (fh_sadb_get(db, p->handle) != p)
		return;
	if (p->t_prev != NIL)
		db->pair[p->t_prev].t_next = p->t_next;
	else
		db->t_head[ts] = p->t_next;
	if (p->t_next != NIL)
		db->pair[p->t_next].t_prev = p->t_prev;
	db->t_count[ts]--;
	db->n_state[p->state]--;
	if (p->state != FH_SADB_RETIRING)
		fh_map_del(&db->by_spi, p->spi_in); /* a retiring pair left the index already */
	fh_slots_free(&db->slots, p->handle);
	memset(p, 0, sizeof(*p));
	(void)slot;
}

void fh_sadb_set_state(struct fh_sadb *db, struct fh_sadb_pair *p, enum fh_sadb_state st)
{
	if (p->state == FH_SADB_RETIRING)
		return; /* for good */
	/* a retiring pair frees its SPI at once: a new pair (a changed static entry, a peer that
	 * reuses SPIs) may take it while the old one waits for its grace period */
	if (st == FH_SADB_RETIRING)
		fh_map_del(&db->by_spi, p->spi_in);
	db->n_state[p->state]--;
	p->state = (uint8_t)st;
	db->n_state[st]++;
}

struct fh_sadb_pair *fh_sadb_get(const struct fh_sadb *db, fh_handle_t h)
{
	int64_t slot = fh_slots_get(&db->slots, h);

	return slot < 0 ? NULL : &db->pair[slot];
}

struct fh_sadb_pair *fh_sadb_find_spi(const struct fh_sadb *db, uint32_t spi_in)
{
	uint32_t slot;

	if (!fh_map_get(&db->by_spi, spi_in, &slot))
		return NULL;
	return &db->pair[slot];
}

struct fh_sadb_pair *fh_sadb_tunnel_first(const struct fh_sadb *db, fh_handle_t tunnel)
{
	uint32_t ts = fh_handle_slot(tunnel);

	if (tunnel == FH_HANDLE_NONE || ts >= db->n_tunnel_slots || db->t_head[ts] == NIL)
		return NULL;
	return &db->pair[db->t_head[ts]];
}

struct fh_sadb_pair *fh_sadb_tunnel_next(const struct fh_sadb *db, const struct fh_sadb_pair *p)
{
	return p->t_next == NIL ? NULL : &db->pair[p->t_next];
}

uint32_t fh_sadb_tunnel_count(const struct fh_sadb *db, fh_handle_t tunnel)
{
	uint32_t ts = fh_handle_slot(tunnel);

	return tunnel == FH_HANDLE_NONE || ts >= db->n_tunnel_slots ? 0 : db->t_count[ts];
}

struct fh_sadb_pair *fh_sadb_outbound(const struct fh_sadb *db, fh_handle_t tunnel)
{
	struct fh_sadb_pair *standby = NULL;

	/* newest first: the first active one wins, the first standby one is the fallback */
	for (struct fh_sadb_pair *p = fh_sadb_tunnel_first(db, tunnel); p != NULL; p = fh_sadb_tunnel_next(db, p)) {
		if (p->tunnel != tunnel)
			continue; /* a stale handle of the same slot: not this tunnel's */
		if (p->state == FH_SADB_ACTIVE)
			return p;
		if (p->state == FH_SADB_STANDBY && standby == NULL)
			standby = p;
	}
	return standby;
}

struct fh_sadb_pair *fh_sadb_next(const struct fh_sadb *db, uint32_t *cursor)
{
	for (; *cursor < db->slots.hi; (*cursor)++)
		if (db->slots.gen[*cursor] != 0)
			return &db->pair[(*cursor)++];
	return NULL;
}

uint32_t fh_sadb_count(const struct fh_sadb *db)
{
	return db->slots.used;
}

uint32_t fh_sadb_count_state(const struct fh_sadb *db, enum fh_sadb_state st)
{
	return db->n_state[st];
}

const char *fh_sadb_state_name(enum fh_sadb_state st)
{
	static const char *const n[] = {"installing", "active", "standby", "retiring"};

	return (unsigned)st <= FH_SADB_RETIRING ? n[st] : "?";
}
