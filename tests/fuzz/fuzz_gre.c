/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the GRE parser reads only within (buf, len) and reports a header that fits. */
#include <stdlib.h>
#include <string.h>

#include "fh_gre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fh_gre_info g;
	uint8_t *copy;

	if (size < 5)
		return 0;
	/* first byte: whether a key is expected; the rest is the packet, copied to an exact size */
	copy = malloc(size - 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (fh_gre_parse(copy, (uint32_t)(size - 1), data[0] & 1, 0x01020304, &g) == FH_GRE_OK && g.hlen > size - 1)
		abort();
	free(copy);
	return 0;
}
