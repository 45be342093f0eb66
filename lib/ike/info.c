/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INFORMATIONAL exchanges (RFC 7296 1.4): dead peer detection (an empty request, 2.4), and Delete
 * of child SAs (answered with the Delete of our side of each pair) and of the IKE SA.
 */
#include <string.h>

#include "ike_int.h"

void ike_start_dpd(struct fh_ike *ike, struct ike_sa *sa)
{
	struct fh_ike_builder b;

	ike_inner_init(ike, &b);
	ike->ctr[FH_IKE_CTR_DPD_SENT]++;
	fh_debug("crypto ikev2 internal", "tunnel-id %u: DPD: is the peer alive?", sa->id);
	ike_request(ike, sa, FH_IKE_INFORMATIONAL, RQ_DPD, &b);
}

static void add_delete(struct fh_ike_builder *b, uint8_t proto, const uint32_t *spi, uint16_t n)
{
	uint8_t *p = fh_ike_add(b, FH_IKE_PL_DELETE, NULL, 4 + (size_t)n * (proto == PROTO_ESP ? 4 : 0));

	if (p == NULL)
		return;
	p[0] = proto;
	p[1] = proto == PROTO_ESP ? 4 : 0;
	ike_put16(p + 2, proto == PROTO_ESP ? n : 0);
	for (uint16_t i = 0; proto == PROTO_ESP && i < n; i++)
		ike_put32(p + 4 + 4 * i, spi[i]);
}

void ike_start_delete_child(struct fh_ike *ike, struct ike_sa *sa, uint32_t spi_in)
{
	struct fh_ike_builder b;

	if (ike_child_by_in(sa, spi_in) == NULL)
		return;
	ike_inner_init(ike, &b);
	add_delete(&b, PROTO_ESP, &spi_in, 1);
	sa->rq_spi = spi_in;
	ike_request(ike, sa, FH_IKE_INFORMATIONAL, RQ_DELETE_CHILD, &b);
}

void ike_start_delete_ike(struct fh_ike *ike, struct ike_sa *sa)
{
	struct fh_ike_builder b;

	/* a request of ours still out is abandoned: the Delete takes the next message ID (the peer
	 * answered the other one, or will time it out with the SA) */
	if (sa->req_kind != RQ_NONE)
		sa->tx_id++;
	ike_inner_init(ike, &b);
	add_delete(&b, PROTO_IKE, NULL, 0);
	sa->state = ST_DELETING;
	ike->ctr[FH_IKE_CTR_DELETED]++;
	ike_request(ike, sa, FH_IKE_INFORMATIONAL, RQ_DELETE_IKE, &b);
}

void ike_info_request(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	uint32_t ours[IKE_CHILD_MAX * 4];
	uint16_t n_ours = 0;
	bool delete_ike = false;
	struct fh_ike_builder b;

	for (uint8_t i = 0; i < in->n; i++) {
		const struct fh_ike_payload *p = &in->pl[i];
		uint16_t n;

		if (p->type != FH_IKE_PL_DELETE || p->len < 4)
			continue;
		n = ike_be16(p->body + 2);
		if (p->body[0] == PROTO_IKE) {
			delete_ike = true;
			continue;
		}
		if (p->body[0] != PROTO_ESP || p->body[1] != 4 || (size_t)p->len < 4 + (size_t)n * 4) {
			ike->ctr[FH_IKE_CTR_RX_MALFORMED]++;
			continue;
		}
		for (uint16_t k = 0; k < n; k++) {
			struct ike_child *c = ike_child_by_out(sa, ike_be32(p->body + 4 + 4 * k));

			if (c == NULL)
				continue; /* RFC 7296 1.4.1: unknown SPIs are ignored */
			if (n_ours < sizeof(ours) / sizeof(ours[0]))
				ours[n_ours++] = c->spi_in;
			ike_child_remove(ike, sa, c);
		}
	}
	ike_inner_init(ike, &b);
	if (n_ours > 0 && !delete_ike)
		add_delete(&b, PROTO_ESP, ours, n_ours);
	ike_respond(ike, sa, FH_IKE_INFORMATIONAL, in->hdr.msg_id, &b);
	if (delete_ike) {
		ike->ctr[FH_IKE_CTR_DELETED]++;
		ike_sa_kill(ike, sa, "deleted by the peer");
		return;
	}
	/* the peer took the tunnel's last child SA away: an IKE SA that carries nothing goes too, so
	 * that the tunnel is negotiated again whole (by whichever end initiates it) */
	if (n_ours > 0 && sa->tunnel != 0) {
		for (int i = 0; i < IKE_CHILD_MAX; i++)
			if (sa->child[i].used)
				return;
		fh_log(FH_LOG_INFO, "crypto ikev2", "tunnel-id %u: peer deleted the last child SA; deleting the IKE SA",
		       sa->id);
		sa->want_delete_ike = true;
	}
}

void ike_info_response(struct fh_ike *ike, struct ike_sa *sa, const struct fh_ike_msg *in)
{
	struct ike_child *c;

	(void)in;
	switch (sa->req_kind) {
	case RQ_DELETE_CHILD:
		c = ike_child_by_in(sa, sa->rq_spi);
		if (c != NULL)
			ike_child_remove(ike, sa, c);
		break;
	case RQ_DELETE_IKE:
		ike_sa_kill(ike, sa, "deleted");
		break;
	default:
		break; /* DPD: the answer itself was the point */
	}
}
