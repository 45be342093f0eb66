/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_handle.h"

#define NIL UINT32_MAX

int fh_slots_init(struct fh_slots *s, uint32_t cap)
{
	memset(s, 0, sizeof(*s));
	if (cap == 0 || cap > FH_HANDLE_SLOT_MAX) {
		errno = EINVAL;
		return -1;
	}
	s->gen = calloc(cap, sizeof(*s->gen));
	s->last_gen = calloc(cap, sizeof(*s->last_gen));
	s->next = malloc((size_t)cap * sizeof(*s->next));
	if (s->gen == NULL || s->last_gen == NULL || s->next == NULL) {
		fh_slots_fini(s);
		errno = ENOMEM;
		return -1;
	}
	s->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		s->next[i] = i + 1 < cap ? i + 1 : NIL;
	s->head = 0;
	s->tail = cap - 1;
	return 0;
}

void fh_slots_fini(struct fh_slots *s)
{
	free(s->gen);
	free(s->last_gen);
	free(s->next);
	memset(s, 0, sizeof(*s));
}

fh_handle_t fh_slots_alloc(struct fh_slots *s)
{
	uint32_t slot = s->head;
	uint16_t g;

	if (slot == NIL) {
		errno = ENOSPC;
		return FH_HANDLE_NONE;
	}
	s->head = s->next[slot];
	if (s->head == NIL)
		s->tail = NIL;
	g = (uint16_t)(s->last_gen[slot] % FH_HANDLE_GEN_MAX + 1); /* 1..GEN_MAX, never 0 */
	s->gen[slot] = g;
	s->used++;
	if (slot >= s->hi)
		s->hi = slot + 1;
	return (fh_handle_t)g << FH_HANDLE_SLOT_BITS | slot;
}

bool fh_slots_free(struct fh_slots *s, fh_handle_t h)
{
	int64_t slot = fh_slots_get(s, h);

	if (slot < 0)
		return false;
	s->last_gen[slot] = s->gen[slot];
	s->gen[slot] = 0;
	s->used--;
	/* to the tail: the oldest free slot is reused first */
	s->next[slot] = NIL;
	if (s->tail == NIL)
		s->head = (uint32_t)slot;
	else
		s->next[s->tail] = (uint32_t)slot;
	s->tail = (uint32_t)slot;
	return true;
}

/* splitmix64's finaliser: SPIs and prefixes are far from random in their low bits */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int map_alloc(struct fh_map *m, uint32_t cap)
{
	m->key = malloc((size_t)cap * sizeof(*m->key));
	m->val = malloc((size_t)cap * sizeof(*m->val));
	m->full = calloc(cap, 1);
	if (m->key == NULL || m->val == NULL || m->full == NULL) {
		free(m->key);
		free(m->val);
		free(m->full);
		errno = ENOMEM;
		return -1;
	}
	m->mask = cap - 1;
	m->n = 0;
	return 0;
}

int fh_map_init(struct fh_map *m, uint32_t hint)
{
	uint32_t cap = 16;

	memset(m, 0, sizeof(*m));
	while (cap < 2 * (uint64_t)hint && cap < (1u << 31))
		cap <<= 1;
	return map_alloc(m, cap);
}

void fh_map_fini(struct fh_map *m)
{
	free(m->key);
	free(m->val);
	free(m->full);
	memset(m, 0, sizeof(*m));
}

static void put_new(struct fh_map *m, uint64_t key, uint32_t val)
{
	uint32_t i = (uint32_t)mix(key) & m->mask;

	while (m->full[i])
		i = (i + 1) & m->mask;
	m->full[i] = 1;
	m->key[i] = key;
	m->val[i] = val;
	m->n++;
}

static int grow(struct fh_map *m)
{
	struct fh_map old = *m;

	if (m->mask >= (1u << 30)) {
		errno = ENOMEM;
		return -1;
	}
	if (map_alloc(m, (old.mask + 1) * 2) < 0) {
		*m = old;
		return -1;
	}
	m->probes = old.probes;
	for (uint32_t i = 0; i <= old.mask; i++)
		if (old.full[i])
			put_new(m, old.key[i], old.val[i]);
	free(old.key);
	free(old.val);
	free(old.full);
	return 0;
}

int fh_map_put(struct fh_map *m, uint64_t key, uint32_t val)
{
	uint32_t i = (uint32_t)mix(key) & m->mask;

	for (; m->full[i]; i = (i + 1) & m->mask)
		if (m->key[i] == key) {
			m->val[i] = val;
			return 0;
		}
	/* at most half full: probe sequences stay a few slots long */
	if (2 * (m->n + 1) > m->mask + 1) {
		if (grow(m) < 0)
			return -1;
		put_new(m, key, val);
		return 0;
	}
	m->full[i] = 1;
	m->key[i] = key;
	m->val[i] = val;
	m->n++;
	return 0;
}

bool fh_map_get(const struct fh_map *m, uint64_t key, uint32_t *val)
{
	uint64_t *probes = &((struct fh_map *)m)->probes; /* statistics only */

	for (uint32_t i = (uint32_t)mix(key) & m->mask; m->full[i]; i = (i + 1) & m->mask) {
		(*probes)++;
		if (m->key[i] == key) {
			if (val != NULL)
				*val = m->val[i];
			return true;
		}
	}
	(*probes)++;
	return false;
}

bool fh_map_del(struct fh_map *m, uint64_t key)
{
	uint32_t i = (uint32_t)mix(key) & m->mask, j;

	for (; m->full[i]; i = (i + 1) & m->mask)
		if (m->key[i] == key)
			break;
	if (!m->full[i])
		return false;
	/* backward shift: move later members of the cluster into the hole when their home slot
	 * does not lie cyclically in (hole, their position] */
	for (j = (i + 1) & m->mask; m->full[j]; j = (j + 1) & m->mask) {
		uint32_t home = (uint32_t)mix(m->key[j]) & m->mask;

		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->full[i] = 0;
	m->n--;
	return true;
}

uint64_t fh_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s != '\0') {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}
