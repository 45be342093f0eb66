/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IKE_BUILD_H
#define FH_IKE_BUILD_H

/*
 * IKEv2 message building into a caller's buffer: the header, then payloads appended one by one;
 * each append fixes the previous payload's next-payload field and the header's length, so the
 * buffer holds a valid message after every call. Appends that do not fit fail and leave the
 * message as it was (b->err records the first failure, so a sequence can be checked once).
 * Threading: no state beyond the builder; any thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_ike_msg.h"

struct fh_ike_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t last;   /* offset of the last payload's generic header; 0 = none yet */
	bool err;
};

void fh_ike_build_init(struct fh_ike_builder *b, uint8_t *buf, size_t cap, const struct fh_ike_hdr *h);

/* A payload of type with body (copied); returns a pointer to the body in the buffer, or NULL. */
uint8_t *fh_ike_add(struct fh_ike_builder *b, uint8_t type, const void *body, size_t len);

struct fh_ike_xf_spec {
	uint8_t type;
	uint16_t id;
	uint16_t key_len; /* 0: no Key Length attribute */
};

/* One proposal of an SA payload. */
struct fh_ike_prop_spec {
	uint8_t num;
	uint8_t protocol;
	const uint8_t *spi;
	uint8_t spi_len;
	const struct fh_ike_xf_spec *xf;
	uint8_t n;
};

/* SA payload with n proposals, in order. */
bool fh_ike_add_sa_multi(struct fh_ike_builder *b, const struct fh_ike_prop_spec *p, uint8_t n);

/* SA payload with one proposal (num 1). */
bool fh_ike_add_sa(struct fh_ike_builder *b, uint8_t protocol, const uint8_t *spi, uint8_t spi_len,
		   const struct fh_ike_xf_spec *xf, uint8_t n);
bool fh_ike_add_ke(struct fh_ike_builder *b, uint16_t group, const uint8_t *data, size_t len);
bool fh_ike_add_notify(struct fh_ike_builder *b, uint8_t protocol, uint16_t type, const uint8_t *spi,
		       uint8_t spi_len, const uint8_t *data, size_t len);

#endif
