/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_neigh.h"

#define NIL UINT32_MAX

struct entry {
	uint64_t key;
	uint64_t due_ms;
	uint32_t tries;
	uint32_t n;
	uint32_t prev, next;  /* the FIFO */
};

struct fh_nwait {
	struct fh_slots slots;
	struct entry *e;
	void **pkt;           /* qlen per entry slot */
	struct fh_map by_key;
	uint32_t qlen, retry_ms, tries;
	uint32_t head, tail;
	struct fh_nwait_stats st;
};

struct fh_nwait *fh_nwait_new(uint32_t entries, uint32_t qlen, uint32_t retry_ms, uint32_t tries)
{
	struct fh_nwait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->qlen = qlen;
	w->retry_ms = retry_ms;
	w->tries = tries ? tries : 1;
	w->head = w->tail = NIL;
	if (fh_slots_init(&w->slots, entries) < 0 || fh_map_init(&w->by_key, entries < 256 ? entries : 256) < 0)
		goto fail;
	w->e = calloc(entries, sizeof(*w->e));
	w->pkt = calloc((size_t)entries * (qlen ? qlen : 1), sizeof(*w->pkt));
	if (w->e == NULL || w->pkt == NULL)
		goto fail;
	return w;
fail:
	fh_nwait_free(w, NULL, NULL);
	errno = ENOMEM;
	return NULL;
}

static void unlink_e(struct fh_nwait *w, uint32_t s)
{
	struct entry *e = &w->e[s];

	if (e->prev != NIL)
		w->e[e->prev].next = e->next;
	else
		w->head = e->next;
	if (e->next != NIL)
		w->e[e->next].prev = e->prev;
	else
		w->tail = e->prev;
}

static void append(struct fh_nwait *w, uint32_t s)
{
	struct entry *e = &w->e[s];

	e->next = NIL;
	e->prev = w->tail;
	if (w->tail != NIL)
		w->e[w->tail].next = s;
	else
		w->head = s;
	w->tail = s;
}

/* Forget an entry, giving its packets to fn in order. */
static uint32_t finish(struct fh_nwait *w, uint32_t s, void (*fn)(void *, void *), void *arg)
{
	struct entry *e = &w->e[s];
	uint32_t n = e->n;

	unlink_e(w, s);
	fh_map_del(&w->by_key, e->key);
	for (uint32_t i = 0; i < n; i++)
		if (fn != NULL)
			fn(w->pkt[(size_t)s * w->qlen + i], arg);
	fh_slots_free(&w->slots, fh_slots_handle(&w->slots, s));
	w->st.waiting--;
	return n;
}

void fh_nwait_free(struct fh_nwait *w, void (*drop)(void *pkt, void *arg), void *arg)
{
	if (w == NULL)
		return;
	while (w->e != NULL && w->head != NIL)
		finish(w, w->head, drop, arg);
	fh_slots_fini(&w->slots);
	fh_map_fini(&w->by_key);
	free(w->e);
	free(w->pkt);
	free(w);
}

int fh_nwait_add(struct fh_nwait *w, uint64_t key, void *pkt, uint64_t now_ms, bool *ask)
{
	uint32_t s;

	*ask = false;
	if (!fh_map_get(&w->by_key, key, &s)) {
		fh_handle_t h = fh_slots_alloc(&w->slots);

		if (h == FH_HANDLE_NONE) {
			w->st.entries_full++;
			return -1;
		}
		s = fh_handle_slot(h);
		if (fh_map_put(&w->by_key, key, s) < 0) {
			fh_slots_free(&w->slots, h);
			return -1;
		}
		w->e[s] = (struct entry){.key = key, .due_ms = now_ms + w->retry_ms, .tries = 1};
		append(w, s);
		w->st.waiting++;
		*ask = true;
	}
	if (w->e[s].n >= w->qlen) {
		w->st.overflow++;
		errno = ENOSPC;
		return -1;
	}
	w->pkt[(size_t)s * w->qlen + w->e[s].n++] = pkt;
	w->st.queued++;
	return 0;
}

uint32_t fh_nwait_resolved(struct fh_nwait *w, uint64_t key, void (*send)(void *pkt, void *arg), void *arg)
{
	uint32_t s, n;

	if (!fh_map_get(&w->by_key, key, &s))
		return 0;
	n = finish(w, s, send, arg);
	w->st.flushed += n;
	return n;
}

void fh_nwait_tick(struct fh_nwait *w, uint64_t now_ms, void (*ask)(uint64_t key, void *arg),
		   void (*drop)(void *pkt, void *arg), void *arg)
{
	/* every entry is due retry_ms after its last attempt: the head is the earliest */
	while (w->head != NIL && w->e[w->head].due_ms <= now_ms) {
		uint32_t s = w->head;
		struct entry *e = &w->e[s];

		if (e->tries >= w->tries) {
			w->st.timed_out += finish(w, s, drop, arg);
			continue;
		}
		e->tries++;
		e->due_ms = now_ms + w->retry_ms;
		unlink_e(w, s);
		append(w, s);
		ask(e->key, arg);
	}
}

bool fh_nwait_pending(const struct fh_nwait *w, uint64_t key)
{
	return fh_map_get(&w->by_key, key, NULL);
}

void fh_nwait_stats(const struct fh_nwait *w, struct fh_nwait_stats *out)
{
	*out = w->st;
}
