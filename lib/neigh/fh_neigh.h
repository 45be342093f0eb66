/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_NEIGH_H
#define FH_NEIGH_H

/*
 * Packets waiting for a neighbour's MAC address: what Linux keeps per unresolved neighbour
 * (a few packets, sent when the ARP reply comes), so the first reply to a new peer (its
 * IKE_SA_INIT answer, its first ESP packet) is not lost and does not cost it a retransmission.
 *
 * An entry per unresolved neighbour (key: the caller's, e.g. port << 32 | IPv4 address) holds at
 * most `qlen` packets in arrival order; more are refused (the caller drops and counts them).
 * Entries wait on one FIFO ordered by their next ARP attempt (every attempt is `retry_ms` after
 * the last, so a FIFO is a complete timer: no scan of idle entries); after `tries` attempts the
 * entry's packets are given back as timed out.
 *
 * Packets are opaque pointers (mbufs in the daemon); whoever gets one back through a callback
 * owns it again. Threading: one thread (the control lcore). Errors: -1 with errno ENOSPC (queue
 * or entry table full) or ENOMEM.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_handle.h"

struct fh_nwait;

struct fh_nwait_stats {
	uint64_t queued, flushed, overflow, timed_out, entries_full;
	uint32_t waiting;      /* entries */
};

/* entries: most neighbours unresolved at once; qlen: packets per neighbour (0 = keep none). */
struct fh_nwait *fh_nwait_new(uint32_t entries, uint32_t qlen, uint32_t retry_ms, uint32_t tries);
/* Hands every packet still waiting to drop(). */
void fh_nwait_free(struct fh_nwait *w, void (*drop)(void *pkt, void *arg), void *arg);

/* Queue a packet for key. *ask is set when this is a new neighbour (send the first ARP request
 * now). 0: the packet is kept; -1: refused (ENOSPC), the caller still owns it. */
int fh_nwait_add(struct fh_nwait *w, uint64_t key, void *pkt, uint64_t now_ms, bool *ask);
/* The neighbour answered: its packets, oldest first, to send(); the entry goes. Returns how many. */
uint32_t fh_nwait_resolved(struct fh_nwait *w, uint64_t key, void (*send)(void *pkt, void *arg), void *arg);
/* Due entries: ask() again, or after the last try give their packets to drop() and forget them. */
void fh_nwait_tick(struct fh_nwait *w, uint64_t now_ms, void (*ask)(uint64_t key, void *arg),
		   void (*drop)(void *pkt, void *arg), void *arg);
bool fh_nwait_pending(const struct fh_nwait *w, uint64_t key);
void fh_nwait_stats(const struct fh_nwait *w, struct fh_nwait_stats *out);

#endif
