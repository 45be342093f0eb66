/* SPDX-License-Identifier: BSD-3-Clause */
/* Packets waiting for ARP: kept in order up to the queue length, flushed when the neighbour
 * answers, retried and then dropped when it never does, each outcome counted. */
#include <stdint.h>
#include <string.h>

#include "fh_neigh.h"
#include "fh_test.h"

static int sent[64], n_sent, dropped[64], n_dropped, asked;

static void on_send(void *pkt, void *arg)
{
	(void)arg;
	sent[n_sent++] = (int)(intptr_t)pkt;
}

static void on_drop(void *pkt, void *arg)
{
	(void)arg;
	dropped[n_dropped++] = (int)(intptr_t)pkt;
}

static void on_ask(uint64_t key, void *arg)
{
	(void)arg;
	(void)key;
	asked++;
}

int main(void)
{
	struct fh_nwait *w = fh_nwait_new(4, 3, 1000, 3);
	struct fh_nwait_stats s;
	bool ask;
	int rc;

	fh_check(w != NULL, "nwait: created (4 neighbours, 3 packets each)");
	rc = fh_nwait_add(w, 1, (void *)(intptr_t)10, 0, &ask);
	fh_check(rc == 0 && ask, "nwait: first packet for a neighbour kept, ARP asked");
	fh_nwait_add(w, 1, (void *)(intptr_t)11, 1, &ask);
	fh_check(!ask, "nwait: second packet does not ask again");
	fh_nwait_add(w, 1, (void *)(intptr_t)12, 2, &ask);
	fh_check(fh_nwait_add(w, 1, (void *)(intptr_t)13, 3, &ask) < 0, "nwait: fourth packet refused (queue of 3)");
	fh_check(fh_nwait_resolved(w, 1, on_send, NULL) == 3 && n_sent == 3 && sent[0] == 10 && sent[1] == 11 &&
		 sent[2] == 12, "nwait: the reply flushes them, oldest first");
	fh_check(!fh_nwait_pending(w, 1) && fh_nwait_resolved(w, 1, on_send, NULL) == 0, "nwait: and forgets the entry");
	/* retries and timeout */
	fh_nwait_add(w, 2, (void *)(intptr_t)20, 0, &ask);
	fh_nwait_add(w, 3, (void *)(intptr_t)30, 500, &ask);
	fh_nwait_tick(w, 999, on_ask, on_drop, NULL);
	fh_check(asked == 0, "nwait: nothing due before a second");
	fh_nwait_tick(w, 1000, on_ask, on_drop, NULL);
	fh_check(asked == 1, "nwait: one retry due at 1 s");
	fh_nwait_tick(w, 1500, on_ask, on_drop, NULL);
	fh_check(asked == 2, "nwait: the other's at 1.5 s");
	fh_nwait_tick(w, 2000, on_ask, on_drop, NULL);
	fh_nwait_tick(w, 2500, on_ask, on_drop, NULL);
	fh_check(asked == 4 && n_dropped == 0, "nwait: third tries at 2 and 2.5 s");
	fh_nwait_tick(w, 3000, on_ask, on_drop, NULL);
	fh_check(n_dropped == 1 && dropped[0] == 20 && fh_nwait_pending(w, 3), "nwait: after 3 tries the first gives up");
	fh_nwait_tick(w, 3500, on_ask, on_drop, NULL);
	fh_check(n_dropped == 2 && !fh_nwait_pending(w, 3), "nwait: then the second");
	/* entry table full */
	for (uint64_t k = 10; k < 14; k++)
		fh_nwait_add(w, k, (void *)(intptr_t)k, 4000, &ask);
	fh_check(fh_nwait_add(w, 99, (void *)(intptr_t)99, 4000, &ask) < 0, "nwait: a fifth neighbour is refused");
	fh_nwait_stats(w, &s);
	fh_check(s.queued == 9 && s.flushed == 3 && s.overflow == 1 && s.timed_out == 2 && s.entries_full == 1 &&
		 s.waiting == 4, "nwait: counters (queued %lu flushed %lu overflow %lu timeout %lu full %lu)",
		 (unsigned long)s.queued, (unsigned long)s.flushed, (unsigned long)s.overflow,
		 (unsigned long)s.timed_out, (unsigned long)s.entries_full);
	n_dropped = 0;
	fh_nwait_free(w, on_drop, NULL);
	fh_check(n_dropped == 4, "nwait: freeing hands back what waited");
	return fh_test_done();
}
