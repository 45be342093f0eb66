/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: IKEv2 message parsing, then every payload body through its own parser. */
#include <stdlib.h>
#include <string.h>

#include "fh_ike_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fh_ike_msg m;
	static struct fh_ike_sa sa;
	static struct fh_ike_tsl ts;
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size); /* exact size: ASan sees any read past the end */
	if (fh_ike_parse(copy, size, &m) == FH_IKE_OK) {
		for (uint8_t i = 0; i < m.n; i++) {
			const struct fh_ike_payload *p = &m.pl[i];
			struct fh_ike_ke ke;
			struct fh_ike_notify n;
			struct fh_ike_id id;

			if (p->body < copy || p->body + p->len > copy + size)
				abort();
			switch (p->type) {
			case FH_IKE_PL_SA: fh_ike_parse_sa(p->body, p->len, &sa); break;
			case FH_IKE_PL_KE: fh_ike_parse_ke(p->body, p->len, &ke); break;
			case FH_IKE_PL_NOTIFY: fh_ike_parse_notify(p->body, p->len, &n); break;
			case FH_IKE_PL_IDI:
			case FH_IKE_PL_IDR: fh_ike_parse_id(p->body, p->len, &id); break;
			case FH_IKE_PL_TSI:
			case FH_IKE_PL_TSR: fh_ike_parse_ts(p->body, p->len, &ts); break;
			default: break;
			}
		}
	}
	free(copy);
	return 0;
}
