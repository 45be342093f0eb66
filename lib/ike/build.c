/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "fh_ike_build.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

void fh_ike_build_init(struct fh_ike_builder *b, uint8_t *buf, size_t cap, const struct fh_ike_hdr *h)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->last = 0;
	b->err = cap < FH_IKE_HDR_LEN;
	if (b->err)
		return;
	put32(buf, (uint32_t)(h->spi_i >> 32));
	put32(buf + 4, (uint32_t)h->spi_i);
	put32(buf + 8, (uint32_t)(h->spi_r >> 32));
	put32(buf + 12, (uint32_t)h->spi_r);
	buf[16] = FH_IKE_PL_NONE;
	buf[17] = 0x20; /* version 2.0 */
	buf[18] = h->exchange;
	buf[19] = h->flags;
	put32(buf + 20, h->msg_id);
	b->len = FH_IKE_HDR_LEN;
	put32(buf + 24, (uint32_t)b->len);
}

uint8_t *fh_ike_add(struct fh_ike_builder *b, uint8_t type, const void *body, size_t len)
{
	uint8_t *p;

	if (b->err || len > 0xffff - FH_IKE_GEN_HDR_LEN || b->cap - b->len < FH_IKE_GEN_HDR_LEN + len) {
		b->err = true;
		return NULL;
	}
	p = b->buf + b->len;
	p[0] = FH_IKE_PL_NONE;
	p[1] = 0;
	put16(p + 2, (uint16_t)(FH_IKE_GEN_HDR_LEN + len));
	if (body != NULL)
		memcpy(p + FH_IKE_GEN_HDR_LEN, body, len);
	/* chain it: the header's or the previous payload's next-payload field names it */
	b->buf[b->last ? b->last : 16] = type;
	b->last = b->len;
	b->len += FH_IKE_GEN_HDR_LEN + len;
	put32(b->buf + 24, (uint32_t)b->len);
	return p + FH_IKE_GEN_HDR_LEN;
}

bool fh_ike_add_sa_multi(struct fh_ike_builder *b, const struct fh_ike_prop_spec *p, uint8_t n)
{
	uint8_t body[2048];
	size_t off = 0;

	if (n == 0) {
		b->err = true;
		return false;
	}
	for (uint8_t k = 0; k < n; k++) {
		size_t start = off;

		if (p[k].n == 0 || p[k].n > FH_IKE_TRANSFORMS_MAX || p[k].spi_len > 8 ||
		    off + 8 + p[k].spi_len + (size_t)p[k].n * 12 > sizeof(body)) {
			b->err = true;
			return false;
		}
		body[off] = k + 1 == n ? 0 : 2; /* last, or more proposals follow */
		body[off + 1] = 0;
		body[off + 4] = p[k].num;
		body[off + 5] = p[k].protocol;
		body[off + 6] = p[k].spi_len;
		body[off + 7] = p[k].n;
		if (p[k].spi_len)
			memcpy(body + off + 8, p[k].spi, p[k].spi_len);
		off += 8 + p[k].spi_len;
		for (uint8_t i = 0; i < p[k].n; i++) {
			const struct fh_ike_xf_spec *x = &p[k].xf[i];
			uint16_t tl = x->key_len ? 12 : 8;

			body[off] = i + 1 == p[k].n ? 0 : 3;
			body[off + 1] = 0;
			put16(body + off + 2, tl);
			body[off + 4] = x->type;
			body[off + 5] = 0;
			put16(body + off + 6, x->id);
			if (x->key_len) {
				put16(body + off + 8, 0x8000 | 14); /* TV Key Length (RFC 7296 3.3.5) */
				put16(body + off + 10, x->key_len);
			}
			off += tl;
		}
		put16(body + start + 2, (uint16_t)(off - start));
	}
	return fh_ike_add(b, FH_IKE_PL_SA, body, off) != NULL;
}

bool fh_ike_add_sa(struct fh_ike_builder *b, uint8_t protocol, const uint8_t *spi, uint8_t spi_len,
		   const struct fh_ike_xf_spec *xf, uint8_t n)
{
	struct fh_ike_prop_spec p = {.num = 1, .protocol = protocol, .spi = spi, .spi_len = spi_len, .xf = xf, .n = n};

	return fh_ike_add_sa_multi(b, &p, 1);
}

bool fh_ike_add_ke(struct fh_ike_builder *b, uint16_t group, const uint8_t *data, size_t len)
{
	uint8_t *p = fh_ike_add(b, FH_IKE_PL_KE, NULL, 4 + len);

	if (p == NULL)
		return false;
	put16(p, group);
	p[2] = p[3] = 0;
	memcpy(p + 4, data, len);
	return true;
}

bool fh_ike_add_notify(struct fh_ike_builder *b, uint8_t protocol, uint16_t type, const uint8_t *spi,
		       uint8_t spi_len, const uint8_t *data, size_t len)
{
	uint8_t *p = fh_ike_add(b, FH_IKE_PL_NOTIFY, NULL, 4 + (size_t)spi_len + len);

	if (p == NULL)
		return false;
	p[0] = protocol;
	p[1] = spi_len;
	put16(p + 2, type);
	if (spi_len)
		memcpy(p + 4, spi, spi_len);
	if (len)
		memcpy(p + 4 + spi_len, data, len);
	return true;
}
