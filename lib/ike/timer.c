/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Timers: a binary min-heap of deadlines. Each timer is embedded in the object it wakes (an IKE
 * SA, a configured tunnel) and knows its place in the heap, so moving or cancelling one is
 * O(log n) and the heap never holds a pointer to something that is gone. An object has one timer
 * for its earliest deadline; fh_ike_tick pops only the ones that are due.
 */
#include <stdlib.h>
#include <string.h>

#include "ike_int.h"

int ike_heap_init(struct ike_heap *h, uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	return ike_heap_reserve(h, cap);
}

void ike_heap_fini(struct ike_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->v[i]->pos = 0;
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int ike_heap_reserve(struct ike_heap *h, uint32_t cap)
{
	struct ike_timer **v;

	if (cap <= h->cap)
		return 0;
	v = realloc(h->v, (size_t)cap * sizeof(*v));
	if (v == NULL)
		return -1;
	h->v = v;
	h->cap = cap;
	return 0;
}

static void place(struct ike_heap *h, uint32_t i, struct ike_timer *t)
{
	h->v[i] = t;
	t->pos = i + 1;
}

static void up(struct ike_heap *h, uint32_t i)
{
	struct ike_timer *t = h->v[i];

	while (i > 0 && h->v[(i - 1) / 2]->due > t->due) {
		place(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(h, i, t);
}

static void down(struct ike_heap *h, uint32_t i)
{
	struct ike_timer *t = h->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->due < h->v[c]->due)
			c++;
		if (h->v[c]->due >= t->due)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, t);
}

int ike_timer_set(struct ike_heap *h, struct ike_timer *t, uint64_t due)
{
	if (t->pos != 0) {
		uint64_t was = t->due;

		t->due = due;
		if (due < was)
			up(h, t->pos - 1);
		else if (due > was)
			down(h, t->pos - 1);
		return 0;
	}
	if (h->n == h->cap && ike_heap_reserve(h, h->cap ? h->cap * 2 : 64) < 0)
		return -1;
	t->due = due;
	place(h, h->n++, t);
	up(h, h->n - 1);
	return 0;
}

void ike_timer_stop(struct ike_heap *h, struct ike_timer *t)
{
	uint32_t i;
	struct ike_timer *last;

	if (t->pos == 0)
		return;
	i = t->pos - 1;
	t->pos = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->due > last->due)
		up(h, i);
	else
		down(h, i);
}

struct ike_timer *ike_timer_due(struct ike_heap *h, uint64_t now)
{
	struct ike_timer *t;

	if (h->n == 0 || h->v[0]->due > now)
		return NULL;
	t = h->v[0];
	ike_timer_stop(h, t);
	return t;
}
