/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the worker's frame classifier reads only within the frame it was given. */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "fh_dp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 1}};
	struct fh_dp_local loc = {.n = 2};
	struct fh_dp_tables t = {.local = &loc};
	enum fh_punt_kind k;
	enum fh_dp_ctr c;
	uint8_t *copy;

	loc.addr[0] = rte_cpu_to_be_32(0xc0a8000a);
	loc.addr[1] = rte_cpu_to_be_32(0x0a0a010a);
	/* an exact-size heap copy, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	c = fh_dp_classify(&t, &mac, copy, (uint32_t)size, &k);
	if (c >= FH_CTR_MAX || (k != 0 && c != FH_CTR_PUNT_ARP && c != FH_CTR_PUNT_IKE && c != FH_CTR_PUNT_ICMP &&
				c != FH_CTR_PUNT_ROUTING))
		abort();
	free(copy);
	return 0;
}
