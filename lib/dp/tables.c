/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' tables, changed one entry at a time by the control lcore. Readers never lock:
 * rte_hash in lock-free mode (a deleted key's slot is given back only after a grace period, so a
 * reader in the middle of a lookup never sees it reused), pointers swapped with release stores.
 * Everything replaced goes through one QSBR defer queue and is freed once every worker has
 * reported a quiescent state; the control lcore polls the queue and never waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "fh_dp.h"

/* What waits in the defer queue: a function and what to give it. */
struct defer {
	void (*fn)(void *ptr, uint64_t arg);
	void *ptr;
	uint64_t arg;
};

static void defer_run(void *p, void *e, unsigned int n)
{
	struct fh_dp *dp = p;
	struct defer *d = e;

	for (unsigned int i = 0; i < n; i++) {
		d[i].fn(d[i].ptr, d[i].arg);
		dp->dq_pending--;
	}
}

static void free_rte(void *ptr, uint64_t arg)
{
	(void)arg;
	rte_free(ptr);
}


static void free_key(void *h, uint64_t pos)
{
	rte_hash_free_key_with_position(h, (int32_t)pos);
}

void fh_dp_defer(struct fh_dp *dp, void (*fn)(void *ptr, uint64_t arg), void *ptr, uint64_t arg)
{
	struct defer d = {.fn = fn, .ptr = ptr, .arg = arg};

	if (dp->dq != NULL && rte_rcu_qsbr_dq_enqueue(dp->dq, &d) == 0) {
		dp->dq_pending++;
		return;
	}
	/* the queue is full (workers stuck?) or not there: wait for the grace period here */
	dp->dq_sync++;
	if (dp->qsbr != NULL)
		rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	fn(ptr, arg);
}

void fh_dp_reclaim(struct fh_dp *dp)
{
	if (dp->dq != NULL && dp->dq_pending > 0)
		rte_rcu_qsbr_dq_reclaim(dp->dq, dp->dq_pending, NULL, NULL, NULL);
	if (dp->tables.fib != NULL)
		fh_fib_reclaim(dp->tables.fib);
}

static struct rte_hash *hash_new(const char *name, uint32_t entries, uint32_t key_len, unsigned int socket)
{
	struct rte_hash_parameters p = {
		.name = name, .entries = entries < 64 ? 64 : entries, .key_len = key_len, .hash_func = rte_hash_crc,
		.socket_id = (int)socket,
		/* lock-free readers, one writer; the extendable table makes `entries` a guarantee
		 * rather than a hope of the cuckoo placement */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	return rte_hash_create(&p);
}

int fh_dp_tables_init(struct fh_dp *dp, unsigned int socket, const struct fh_dp_limits *lim)
{
	struct fh_dp_tables *t = &dp->tables;
	struct fh_fib_params fp = {.max_routes = lim->routes, .max_nh = lim->next_hops,
				   .tbl8_groups = lim->tbl8_groups, .qsbr = dp->qsbr, .socket = (int)socket};
	/* every entry can be waiting once: SAs and their keys, tunnel versions, neighbours */
	uint32_t dq_size = 2 * lim->sa_in + 2 * lim->tunnel_slots + 2 * lim->neighbours + 1024;
	struct rte_rcu_qsbr_dq_parameters dqp = {
		.name = "fh_dq", .size = dq_size, .esize = sizeof(struct defer), .trigger_reclaim_limit = 0,
		.max_reclaim_size = 256, .v = dp->qsbr, .free_fn = defer_run, .p = dp,
	};

	dp->dq = rte_rcu_qsbr_dq_create(&dqp);
	t->sa_in = hash_new("fh_sa_in", lim->sa_in, sizeof(uint32_t), socket);
	t->neigh = hash_new("fh_neigh", lim->neighbours, sizeof(struct fh_dp_neigh_key), socket);
	t->tun = rte_zmalloc_socket("fh_tun", sizeof(*t->tun) * lim->tunnel_slots, RTE_CACHE_LINE_SIZE, (int)socket);
	t->fib = fh_fib_new(&fp);
	if (dp->dq == NULL || t->sa_in == NULL || t->neigh == NULL || t->tun == NULL || t->fib == NULL)
		return -ENOMEM;
	t->n_tun = lim->tunnel_slots;
	return 0;
}

void fh_dp_tables_fini(struct fh_dp *dp)
{
	struct fh_dp_tables *t = &dp->tables;
	const void *key;
	void *data;
	uint32_t it = 0;

	/* the workers are gone: every grace period is over */
	if (dp->dq != NULL) {
		rte_rcu_qsbr_dq_delete(dp->dq);
		dp->dq = NULL;
	}
	for (uint32_t i = 0; t->tun != NULL && i < t->n_tun; i++)
		rte_free(t->tun[i]);
	rte_free(t->tun);
	while (t->neigh != NULL && rte_hash_iterate(t->neigh, &key, &data, &it) >= 0)
		rte_free(data);
	rte_hash_free(t->neigh);
	rte_hash_free(t->sa_in); /* the SAs are their owners' */
	fh_fib_free(t->fib);
	rte_free(t->local);
	memset(t, 0, sizeof(*t));
}

int fh_dp_sa_add(struct fh_dp *dp, struct fh_sa *sa)
{
	int rc = rte_hash_add_key_data(dp->tables.sa_in, &sa->spi, sa);

	return rc == -ENOSPC ? -ENOSPC : rc;
}

int fh_dp_sa_del(struct fh_dp *dp, const struct fh_sa *sa)
{
	int32_t pos = rte_hash_del_key(dp->tables.sa_in, &sa->spi);

	if (pos < 0)
		return pos;
	fh_dp_defer(dp, free_key, dp->tables.sa_in, (uint64_t)pos);
	return 0;
}

int fh_dp_tunnel_set(struct fh_dp *dp, uint32_t slot, const struct fh_dp_tunnel *v)
{
	struct fh_dp_tables *t = &dp->tables;
	struct fh_dp_tunnel *n = NULL, *old;

	if (slot >= t->n_tun)
		return -EINVAL;
	if (v != NULL) {
		n = rte_malloc("fh_tunnel", sizeof(*n), RTE_CACHE_LINE_SIZE);
		if (n == NULL)
			return -ENOMEM;
		memcpy(n, v, sizeof(*n)); /* padding too: the control lcore compares versions whole */
		n->slot = slot;
	}
	old = t->tun[slot];
	__atomic_store_n(&t->tun[slot], n, __ATOMIC_RELEASE);
	if (old != NULL)
		fh_dp_defer(dp, free_rte, old, 0);
	return 0;
}

int fh_dp_neigh_set(struct fh_dp *dp, uint32_t ip, uint16_t port, const struct rte_ether_addr *mac)
{
	struct fh_dp_neigh_key k = {.ip = ip, .port = port};
	struct fh_dp_neigh *n = rte_malloc("fh_neigh", sizeof(*n), 0), *old = NULL;
	int rc;

	if (n == NULL)
		return -ENOMEM;
	n->ip = ip;
	n->port = port;
	n->mac = *mac;
	rte_hash_lookup_data(dp->tables.neigh, &k, (void **)&old);
	/* for a key already there, the data pointer is swapped atomically */
	rc = rte_hash_add_key_data(dp->tables.neigh, &k, n);
	if (rc < 0) {
		rte_free(n);
		return rc;
	}
	if (old != NULL)
		fh_dp_defer(dp, free_rte, old, 0);
	return 0;
}

int fh_dp_neigh_del(struct fh_dp *dp, uint32_t ip, uint16_t port)
{
	struct fh_dp_neigh_key k = {.ip = ip, .port = port};
	struct fh_dp_neigh *old = NULL;
	int32_t pos;

	if (rte_hash_lookup_data(dp->tables.neigh, &k, (void **)&old) < 0)
		return -ENOENT;
	pos = rte_hash_del_key(dp->tables.neigh, &k);
	if (pos < 0)
		return pos;
	fh_dp_defer(dp, free_key, dp->tables.neigh, (uint64_t)pos);
	fh_dp_defer(dp, free_rte, old, 0);
	return 0;
}

uint32_t fh_dp_neigh_count(const struct fh_dp *dp)
{
	return (uint32_t)rte_hash_count(dp->tables.neigh);
}

int fh_dp_local_set(struct fh_dp *dp, const struct fh_dp_local *l)
{
	struct fh_dp_local *n = rte_malloc("fh_local", sizeof(*n), RTE_CACHE_LINE_SIZE), *old = dp->tables.local;

	if (n == NULL)
		return -ENOMEM;
	*n = *l;
	__atomic_store_n(&dp->tables.local, n, __ATOMIC_RELEASE);
	if (old != NULL)
		fh_dp_defer(dp, free_rte, old, 0);
	return 0;
}
