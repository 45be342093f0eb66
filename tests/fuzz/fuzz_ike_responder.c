/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the IKEv2 responder's state machine. Two engines (the guide's RouterA as initiator,
 * RouterB as responder) talk in memory; the input either feeds raw datagrams to the responder
 * (first byte even: 2-byte length-prefixed messages, from a fixed peer) or corrupts one message
 * of a real exchange (first byte odd: which message, then an XOR mask and a length to cut it
 * to), which reaches the responder's checks past a well-formed start. Both ends fragment at
 * 200 bytes (RFC 7383), so reassembly is fuzzed too. Nothing may crash, leak or
 * read out of bounds, whatever arrives.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"
#include "fh_ike.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cfg_common[] =
	"crypto:\n"
	"  ikev2:\n"
	"    fragmentation-mtu: 200\n"
	"    proposals:\n"
	"      P: {encryption: aes-cbc-256, integrity: sha256, group: [19, 14]}\n"
	"      G: {encryption: aes-gcm-128, group: 31}\n"
	"    policies: {POL: {proposals: [P, G]}}\n"
	"    keyrings: {KR: {peers: {X: {address: 0.0.0.0 0.0.0.0, pre-shared-key: cisco123}}}}\n"
	"    profiles:\n"
	"      PR: {match-identity-remote: {address: 0.0.0.0}, authentication-remote: pre-share,\n"
	"           authentication-local: pre-share, keyring: KR, dpd: {interval: 10, retries: 2}}\n"
	"  ipsec:\n"
	"    transform-sets: {T: {encryption: esp-aes 256, integrity: esp-sha256-hmac}}\n"
	"    profiles: {IP: {transform-sets: T, ikev2-profile: PR}}\n";

static struct msgq {
	struct fh_ike_addr src, dst;
	size_t len;
	uint8_t buf[2048];
} q[2][16];
static int nq[2];
static int children[2];

struct side {
	int i;
	struct fh_config *cfg;
	struct fh_ike *ike;
};
static struct side S[2];

/* One tunnel per side, "Tunnel0": its handle is unlike any config index, so a mix-up shows. */
#define TUNNEL0 4242

static void cb_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *m, size_t len)
{
	struct side *s = ctx;

	if (nq[s->i] == 16 || len > sizeof(q[0][0].buf))
		return;
	q[s->i][nq[s->i]] = (struct msgq){.src = *l, .dst = *r, .len = len};
	memcpy(q[s->i][nq[s->i]].buf, m, len);
	nq[s->i]++;
}

static int cb_up(void *ctx, const struct fh_ike_child_sa *c)
{
	if (c->tunnel != TUNNEL0)
		abort(); /* a child SA bound to a tunnel that does not exist */
	children[((struct side *)ctx)->i]++;
	return 0;
}

static void cb_down(void *ctx, uint32_t t, uint32_t a, uint32_t b)
{
	(void)t, (void)a, (void)b;
	children[((struct side *)ctx)->i]--;
}

static bool cb_counts(void *ctx, uint32_t a, uint32_t b, struct fh_ike_child_counts *n)
{
	(void)ctx, (void)a, (void)b;
	memset(n, 0, sizeof(*n));
	return true;
}

static void cb_peer(void *ctx, uint32_t a, uint32_t b, const struct fh_ike_addr *l, const struct fh_ike_addr *r)
{
	(void)ctx, (void)a, (void)b, (void)l, (void)r;
}

static uint32_t cb_handle(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "Tunnel0") == 0 ? TUNNEL0 : 0;
}

static uint32_t cb_source(void *ctx, uint32_t tunnel)
{
	struct side *s = ctx;
	int t = tunnel == TUNNEL0 ? fh_config_iface_find(s->cfg, "Tunnel0") : -1;
	int src = t >= 0 ? s->cfg->iface[t].source_idx : -1;

	return src >= 0 ? s->cfg->iface[src].ip.pfx.addr : 0;
}

static const struct fh_ike_ops ops = {.send = cb_send, .child_up = cb_up, .child_down = cb_down,
				      .child_counts = cb_counts, .tunnel_handle = cb_handle, .tunnel_source = cb_source,
				      .child_peer = cb_peer};

static struct fh_config *load(const char *me, const char *peer, int initiate)
{
	char text[4096];
	struct fh_cfg_errs *errs = calloc(1, sizeof(*errs));
	struct fh_config *c;

	snprintf(text, sizeof(text),
		 "%s"
		 "interfaces:\n"
		 "  Tunnel0: {ip-address: 10.0.0.%d/24, tunnel-source: GigabitEthernet1, tunnel-destination: %s,\n"
		 "            tunnel-protection: IP, tunnel-initiate: %s}\n"
		 "  GigabitEthernet1: {device: net_null0, ip-address: %s/24}\n",
		 cfg_common, initiate ? 1 : 2, peer, initiate ? "true" : "false", me);
	c = fh_config_load_buffer("fuzz.yaml", text, strlen(text), errs);
	free(errs);
	return c;
}

static void setup(void)
{
	for (int i = 0; i < 2; i++) {
		S[i].i = i;
		S[i].cfg = load(i == 0 ? "192.0.2.1" : "192.0.2.2", i == 0 ? "192.0.2.2" : "192.0.2.1", i == 0);
		if (S[i].cfg == NULL)
			abort();
		S[i].ike = fh_ike_new(S[i].cfg, &ops, &S[i]);
	}
	nq[0] = nq[1] = 0;
	children[0] = children[1] = 0;
}

static void teardown(uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		fh_ike_free(S[i].ike, now);
		fh_config_free(S[i].cfg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000;
	int sent_by_a = 0;

	if (size < 1)
		return 0;
	setup();
	if ((data[0] & 1) == 0) {
		/* raw datagrams to the responder from a peer it has never seen */
		struct fh_ike_addr l = {0xc0000202, 500}, r = {0xc0000201, 500};
		size_t off = 1;

		while (off + 2 <= size) {
			size_t n = (size_t)data[off] << 8 | data[off + 1];
			uint8_t *copy;

			off += 2;
			if (n > size - off)
				n = size - off;
			copy = malloc(n ? n : 1);
			memcpy(copy, data + off, n);
			fh_ike_input(S[1].ike, &l, &r, copy, n, now);
			free(copy);
			off += n;
			now += 100;
			fh_ike_tick(S[1].ike, now);
			l.port = r.port = (data[off - 1] & 1) ? 4500 : 500;
		}
	} else {
		/* a real exchange with one of A's messages corrupted on the way */
		int victim = data[0] >> 1 & 7;
		size_t cut = size > 1 ? data[1] : 0;
		const uint8_t *mask = data + 2;
		size_t mlen = size > 2 ? size - 2 : 0;

		for (int step = 0; step < 300; step++) {
			now += 10;
			fh_ike_tick(S[0].ike, now);
			fh_ike_tick(S[1].ike, now);
			for (int side = 0; side < 2; side++) {
				int n = nq[side];
				struct msgq m[16];

				memcpy(m, q[side], sizeof(m[0]) * (size_t)n);
				nq[side] = 0;
				for (int k = 0; k < n; k++) {
					uint8_t *copy = malloc(m[k].len);
					size_t len = m[k].len;

					memcpy(copy, m[k].buf, len);
					if (side == 0 && sent_by_a++ == victim) {
						for (size_t b = 0; mlen > 0 && b < len; b++)
							copy[b] ^= mask[b % mlen];
						if (cut != 0 && cut * 8 < len)
							len = cut * 8;
					}
					fh_ike_input(S[1 - side].ike, &m[k].dst, &m[k].src, copy, len, now);
					free(copy);
				}
			}
		}
	}
	teardown(now);
	return 0;
}
