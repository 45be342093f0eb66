/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "fh_fib.h"

/* tbl8 groups: one per prefix longer than /24 sharing a /24; 1024 covers thousands of /32s. */
#define FH_FIB_TBL8 1024

static int nh_id(struct fh_fib *f, const struct fh_nh *nh)
{
	for (uint32_t i = 0; i < f->n_nh; i++)
		if (memcmp(&f->nh[i], nh, sizeof(*nh)) == 0)
			return (int)i;
	if (f->n_nh == FH_FIB_NH_MAX)
		return -1;
	f->nh[f->n_nh] = *nh;
	return (int)f->n_nh++;
}

struct fh_fib *fh_fib_build(const struct fh_route *r, uint32_t n, uint32_t generation)
{
	struct rte_lpm_config c = {.max_rules = n + 16, .number_tbl8s = FH_FIB_TBL8};
	struct fh_fib *f = rte_zmalloc("fh_fib", sizeof(*f), 0);
	char name[32];

	if (f == NULL)
		return NULL;
	snprintf(name, sizeof(name), "fh_fib%u", generation);
	f->lpm = rte_lpm_create(name, 0, &c);
	f->routes = rte_zmalloc("fh_routes", sizeof(*r) * (n ? n : 1), 0);
	if (f->lpm == NULL || f->routes == NULL)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		bool better = true;
		int id;

		/* administrative distance: keep the best route per prefix */
		for (uint32_t j = 0; j < f->n_routes; j++)
			if (f->routes[j].prefix == r[i].prefix && f->routes[j].len == r[i].len) {
				better = r[i].distance < f->routes[j].distance;
				if (better)
					f->routes[j] = r[i];
				else
					better = false;
				goto next;
			}
		f->routes[f->n_routes++] = r[i];
next:
		if (!better)
			continue;
		id = nh_id(f, &r[i].nh);
		if (id < 0 || rte_lpm_add(f->lpm, r[i].prefix, r[i].len, (uint32_t)id) < 0)
			goto fail;
	}
	return f;
fail:
	fh_fib_free(f);
	return NULL;
}

void fh_fib_free(struct fh_fib *f)
{
	if (f == NULL)
		return;
	rte_lpm_free(f->lpm);
	rte_free(f->routes);
	rte_free(f);
}
