/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: a route message parses within (buf, len), and what parses builds and parses the same. */
#include <stdlib.h>
#include <string.h>

#include "fh_rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fh_rtnl_route r, r2;
	uint8_t out[256];
	void *copy = malloc(size ? size : 1);
	int n;

	if (copy == NULL)
		return 0;
	/* netlink messages are 4-byte aligned in the kernel's buffer; malloc gives more */
	memcpy(copy, data, size);
	if (fh_rtnl_parse_route(copy, size, &r) == FH_RTNL_OK) {
		if (r.len > 32)
			abort();
		n = fh_rtnl_build_route(out, sizeof(out), &r, 1);
		if (n < 0 || fh_rtnl_parse_route(out, (size_t)n, &r2) != FH_RTNL_OK || r2.prefix != r.prefix ||
		    r2.len != r.len || r2.has_gw != r.has_gw || r2.gw != r.gw || r2.oif != r.oif || r2.add != r.add)
			abort();
	}
	free(copy);
	return 0;
}
