/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the Configuration payload codec. Whatever parses must build (to the length
 * fh_ike_cp_len predicts), re-parse to the same configuration, and build again to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_ike_cp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fh_ike_cfg c1, c2;
	uint8_t *copy = malloc(size ? size : 1), *out = NULL, *out2 = NULL;
	size_t n, n2, cap = size + 64;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size); /* exact size: ASan sees any read past the end */
	if (fh_ike_parse_cp(copy, size, &c1) != FH_IKE_OK)
		goto done;
	out = malloc(cap);
	out2 = malloc(cap);
	if (out == NULL || out2 == NULL)
		goto done;
	/* what parses builds, and never to more than it came from (skipped attributes go, repeated
	 * empty ones collapse, SUPPORTED_ATTRIBUTES lists merge) */
	if (fh_ike_build_cp(&c1, out, cap, &n) != FH_IKE_OK || n != fh_ike_cp_len(&c1) || n > size)
		abort();
	if (fh_ike_parse_cp(out, n, &c2) != FH_IKE_OK || !fh_ike_cfg_same(&c1, &c2))
		abort();
	if (c2.n_unknown != 0 || c2.n_ip6 != 0 || c2.n_extra_ip4_addr != 0)
		abort();
	if (fh_ike_build_cp(&c2, out2, cap, &n2) != FH_IKE_OK || n2 != n || memcmp(out, out2, n) != 0)
		abort();
	/* one octet less room never fits */
	if (fh_ike_build_cp(&c1, out2, n - 1, &n2) != FH_IKE_ERR_SHORT)
		abort();
done:
	free(out);
	free(out2);
	free(copy);
	return 0;
}
