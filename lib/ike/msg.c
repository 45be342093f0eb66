/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv2 message parsing: lengths first, fields after (RFC 7296 section 3). */
#include <string.h>

#include "fh_ike_msg.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Payload types this implementation knows; others are skipped unless marked critical. */
static bool known(uint8_t t)
{
	return (t >= FH_IKE_PL_SA && t <= FH_IKE_PL_EAP) || t == FH_IKE_PL_SKF;
}

int fh_ike_parse_chain(const uint8_t *buf, size_t len, uint8_t next, struct fh_ike_msg *m)
{
	size_t off = 0;

	m->n = 0;
	while (next != FH_IKE_PL_NONE) {
		uint16_t plen;
		bool critical;

		if (len - off < FH_IKE_GEN_HDR_LEN)
			return FH_IKE_ERR_SHORT;
		plen = be16(buf + off + 2);
		critical = (buf[off + 1] & 0x80) != 0;
		if (plen < FH_IKE_GEN_HDR_LEN || plen > len - off)
			return FH_IKE_ERR_LENGTH;
		if (!known(next)) {
			/* RFC 7296 2.5: skip unknown payloads, refuse unknown critical ones */
			if (critical) {
				m->unsupported_critical = next;
				return FH_IKE_ERR_CRITICAL;
			}
		} else {
			if (m->n == FH_IKE_PAYLOADS_MAX)
				return FH_IKE_ERR_TOO_MANY;
			m->pl[m->n].type = next;
			m->pl[m->n].critical = critical;
			m->pl[m->n].body = buf + off + FH_IKE_GEN_HDR_LEN;
			m->pl[m->n].len = (uint16_t)(plen - FH_IKE_GEN_HDR_LEN);
			m->n++;
		}
		/* SK's next-payload field names the first payload inside it; nothing may follow it */
		if (next == FH_IKE_PL_SK || next == FH_IKE_PL_SKF) {
			if (off + plen != len)
				return FH_IKE_ERR_SK_NOT_LAST;
			return FH_IKE_OK;
		}
		next = buf[off];
		off += plen;
	}
	/* the last payload says "none" and must end exactly where the message does */
	return off == len ? FH_IKE_OK : FH_IKE_ERR_LENGTH;
}

int fh_ike_parse(const uint8_t *buf, size_t len, struct fh_ike_msg *m)
{
	struct fh_ike_hdr *h = &m->hdr;

	memset(m, 0, sizeof(*m));
	if (len < FH_IKE_HDR_LEN)
		return FH_IKE_ERR_SHORT;
	h->spi_i = be64(buf);
	h->spi_r = be64(buf + 8);
	h->next_payload = buf[16];
	h->major = buf[17] >> 4;
	h->minor = buf[17] & 0x0f;
	h->exchange = buf[18];
	h->flags = buf[19];
	h->msg_id = be32(buf + 20);
	h->length = be32(buf + 24);
	if (h->major != 2)
		return FH_IKE_ERR_VERSION;
	/* RFC 7296 3.1: the length is the whole message; a datagram that disagrees is dropped */
	if (h->length != len)
		return FH_IKE_ERR_LENGTH;
	return fh_ike_parse_chain(buf + FH_IKE_HDR_LEN, len - FH_IKE_HDR_LEN, h->next_payload, m);
}

const struct fh_ike_payload *fh_ike_find(const struct fh_ike_msg *m, uint8_t type)
{
	for (uint8_t i = 0; i < m->n; i++)
		if (m->pl[i].type == type)
			return &m->pl[i];
	return NULL;
}

/* One transform (RFC 7296 3.3.2) with its attributes (3.3.5); returns its length or an error. */
static int parse_transform(const uint8_t *b, size_t len, struct fh_ike_transform *t, bool *last)
{
	uint16_t tlen;
	size_t off = 8;

	if (len < 8)
		return FH_IKE_ERR_SHORT;
	*last = b[0] == 0;
	if (b[0] != 0 && b[0] != 3)
		return FH_IKE_ERR_SYNTAX;
	tlen = be16(b + 2);
	if (tlen < 8 || tlen > len)
		return FH_IKE_ERR_LENGTH;
	t->type = b[4];
	t->id = be16(b + 6);
	t->key_len = 0;
	while (off < tlen) {
		uint16_t at, alen;

		if (tlen - off < 4)
			return FH_IKE_ERR_SHORT;
		at = be16(b + off);
		if (at & 0x8000) { /* TV: the value is in the header */
			if ((at & 0x7fff) == 14)
				t->key_len = be16(b + off + 2);
			off += 4;
			continue;
		}
		alen = be16(b + off + 2);
		if (alen > tlen - off - 4)
			return FH_IKE_ERR_LENGTH;
		off += 4u + alen;
	}
	return tlen;
}

int fh_ike_parse_sa(const uint8_t *b, size_t len, struct fh_ike_sa *sa)
{
	size_t off = 0;
	bool last = false;

	sa->n = 0;
	if (len == 0)
		return FH_IKE_ERR_SYNTAX;
	while (!last) {
		struct fh_ike_proposal *p;
		uint16_t plen;
		uint8_t nxf;
		size_t toff;

		if (len - off < 8)
			return FH_IKE_ERR_SHORT;
		if (b[off] != 0 && b[off] != 2)
			return FH_IKE_ERR_SYNTAX;
		last = b[off] == 0;
		plen = be16(b + off + 2);
		if (plen < 8 || plen > len - off)
			return FH_IKE_ERR_LENGTH;
		if (sa->n == FH_IKE_PROPOSALS_MAX)
			return FH_IKE_ERR_TOO_MANY;
		p = &sa->p[sa->n++];
		p->num = b[off + 4];
		p->protocol = b[off + 5];
		p->spi_len = b[off + 6];
		nxf = b[off + 7];
		if (8u + p->spi_len > plen)
			return FH_IKE_ERR_LENGTH;
		p->spi = b + off + 8;
		p->n_xf = 0;
		toff = off + 8 + p->spi_len;
		for (uint8_t i = 0; i < nxf; i++) {
			bool tlast;
			int r;

			if (p->n_xf == FH_IKE_TRANSFORMS_MAX)
				return FH_IKE_ERR_TOO_MANY;
			r = parse_transform(b + toff, off + plen - toff, &p->xf[p->n_xf++], &tlast);
			if (r < 0)
				return r;
			toff += (size_t)r;
			if (tlast != (i + 1 == nxf))
				return FH_IKE_ERR_SYNTAX; /* "last" marks disagree with the transform count */
		}
		if (toff != off + plen)
			return FH_IKE_ERR_LENGTH;
		off += plen;
	}
	return off == len ? FH_IKE_OK : FH_IKE_ERR_LENGTH;
}

int fh_ike_parse_ke(const uint8_t *b, size_t len, struct fh_ike_ke *ke)
{
	if (len < 4)
		return FH_IKE_ERR_SHORT;
	ke->group = be16(b);
	ke->data = b + 4;
	ke->len = (uint16_t)(len - 4);
	return ke->len == 0 ? FH_IKE_ERR_SYNTAX : FH_IKE_OK;
}

int fh_ike_parse_notify(const uint8_t *b, size_t len, struct fh_ike_notify *n)
{
	if (len < 4)
		return FH_IKE_ERR_SHORT;
	n->protocol = b[0];
	n->spi_len = b[1];
	n->type = be16(b + 2);
	if (len - 4 < n->spi_len)
		return FH_IKE_ERR_LENGTH;
	n->spi = b + 4;
	n->data = b + 4 + n->spi_len;
	n->data_len = (uint16_t)(len - 4 - n->spi_len);
	return FH_IKE_OK;
}

int fh_ike_check_nonce(size_t len)
{
	return len >= 16 && len <= 256 ? FH_IKE_OK : FH_IKE_ERR_SYNTAX;
}

int fh_ike_parse_id(const uint8_t *b, size_t len, struct fh_ike_id *id)
{
	if (len < 5) /* type, 3 reserved, at least one byte of identity */
		return FH_IKE_ERR_SHORT;
	id->type = b[0];
	id->data = b + 4;
	id->len = (uint16_t)(len - 4);
	if (id->type == 1 && id->len != 4)
		return FH_IKE_ERR_SYNTAX;
	if (id->type == 5 && id->len != 16)
		return FH_IKE_ERR_SYNTAX;
	return FH_IKE_OK;
}

int fh_ike_parse_ts(const uint8_t *b, size_t len, struct fh_ike_tsl *t)
{
	uint8_t count;
	size_t off = 4;

	t->n = 0;
	if (len < 4)
		return FH_IKE_ERR_SHORT;
	count = b[0];
	if (count == 0)
		return FH_IKE_ERR_SYNTAX;
	for (uint8_t i = 0; i < count; i++) {
		uint16_t slen;

		if (len - off < 8)
			return FH_IKE_ERR_SHORT;
		slen = be16(b + off + 2);
		if (slen > len - off)
			return FH_IKE_ERR_LENGTH;
		if (b[off] == 7) {
			struct fh_ike_ts *ts;

			if (slen != 16)
				return FH_IKE_ERR_SYNTAX;
			if (t->n == FH_IKE_TS_MAX)
				return FH_IKE_ERR_TOO_MANY;
			ts = &t->ts[t->n++];
			ts->type = 7;
			ts->proto = b[off + 1];
			ts->port_lo = be16(b + off + 4);
			ts->port_hi = be16(b + off + 6);
			ts->addr_lo = be32(b + off + 8);
			ts->addr_hi = be32(b + off + 12);
			if (ts->port_lo > ts->port_hi || ts->addr_lo > ts->addr_hi)
				return FH_IKE_ERR_SYNTAX;
		} else if (b[off] == 8) {
			if (slen != 40)
				return FH_IKE_ERR_SYNTAX;
		} else {
			return FH_IKE_ERR_SYNTAX;
		}
		off += slen;
	}
	return off == len ? FH_IKE_OK : FH_IKE_ERR_LENGTH;
}
