/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 engine against itself, in memory: two engines loaded from the guide's site-to-site
 * configs exchange messages through queues (optionally through a fake NAT, or dropping them), and
 * the checks look at what each side installed: both child SAs keyed alike, rekeys without a gap,
 * DPD, delete, wrong keys, no proposal, cookies, INVALID_KE, NAT-T, retransmissions.
 * Run with the source root as argv[1].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"
#include "fh_ike.h"
#include "fh_ike_msg.h"
#include "fh_log.h"
#include "fh_test.h"

#define QMAX 64
#define CHILDREN 16

static const char *root = ".";

struct msg {
	struct fh_ike_addr src, dst;
	size_t len;
	uint8_t buf[4096];
};

struct child {
	bool up;
	struct fh_ike_child_sa c;
	uint8_t enc_in[64], enc_out[64], auth_in[64], auth_out[64];
	uint64_t in_pkts, out_pkts, in_bytes, out_bytes;
};

/* Tunnel handles as a caller hands them out: by name, stable for as long as the name lives, and
 * on purpose unlike any config index (1000 + 7k for the k-th name seen). */
#define NAMES 16
struct names {
	char name[NAMES][FH_NAME_MAX];
	int n;
};

static uint32_t names_handle(struct names *m, const char *name)
{
	for (int k = 0; k < m->n; k++)
		if (strcmp(m->name[k], name) == 0)
			return 1000 + (uint32_t)k * 7;
	if (m->n == NAMES)
		return 0;
	snprintf(m->name[m->n], FH_NAME_MAX, "%s", name);
	return 1000 + (uint32_t)m->n++ * 7;
}

static const char *names_of(const struct names *m, uint32_t h)
{
	if (h < 1000 || (h - 1000) % 7 != 0 || (h - 1000) / 7 >= (uint32_t)m->n)
		return NULL;
	return m->name[(h - 1000) / 7];
}

struct side {
	const char *name;
	struct names tun;
	struct fh_config *cfg;
	struct fh_ike *ike;
	struct msg q[QMAX]; /* messages this side sent, not yet delivered */
	int nq;
	struct child ch[CHILDREN];
	int ups, downs, keepalives;
	uint32_t addr;
	bool refuse_up;      /* the data plane refuses new pairs */
};

static struct side A = {.name = "A"}, B = {.name = "B"};
static uint64_t now = 1000;
static bool drop_a, drop_b;      /* lose what a side sends */
static uint32_t nat_ip;          /* A is behind a NAT with this public address (0 = none) */
static uint16_t nat_port_500 = 40500, nat_port_4500 = 44500;

static void cb_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *m, size_t len)
{
	struct side *s = ctx;

	if (len == 1) {
		s->keepalives++;
		return;
	}
	if (s->nq == QMAX || len > sizeof(s->q[0].buf))
		return;
	s->q[s->nq].src = *l;
	s->q[s->nq].dst = *r;
	s->q[s->nq].len = len;
	memcpy(s->q[s->nq].buf, m, len);
	s->nq++;
}

static int cb_up(void *ctx, const struct fh_ike_child_sa *c)
{
	struct side *s = ctx;

	if (s->refuse_up)
		return -1;
	for (int i = 0; i < CHILDREN; i++)
		if (!s->ch[i].up) {
			struct child *k = &s->ch[i];

			memset(k, 0, sizeof(*k));
			k->up = true;
			k->c = *c;
			memcpy(k->enc_in, c->enc_in, c->enc_len);
			memcpy(k->enc_out, c->enc_out, c->enc_len);
			memcpy(k->auth_in, c->auth_in, c->auth_len);
			memcpy(k->auth_out, c->auth_out, c->auth_len);
			s->ups++;
			return 0;
		}
	return -1;
}

static void cb_down(void *ctx, uint32_t tunnel, uint32_t spi_in, uint32_t spi_out)
{
	struct side *s = ctx;

	(void)tunnel;
	for (int i = 0; i < CHILDREN; i++)
		if (s->ch[i].up && s->ch[i].c.spi_in == spi_in && s->ch[i].c.spi_out == spi_out) {
			s->ch[i].up = false;
			s->downs++;
		}
}

static bool cb_counts(void *ctx, uint32_t spi_in, uint32_t spi_out, struct fh_ike_child_counts *n)
{
	struct side *s = ctx;

	for (int i = 0; i < CHILDREN; i++)
		if (s->ch[i].up && s->ch[i].c.spi_in == spi_in && s->ch[i].c.spi_out == spi_out) {
			n->in_pkts = s->ch[i].in_pkts;
			n->out_pkts = s->ch[i].out_pkts;
			n->in_bytes = s->ch[i].in_bytes;
			n->out_bytes = s->ch[i].out_bytes;
			return true;
		}
	return false;
}

static void cb_peer(void *ctx, uint32_t spi_in, uint32_t spi_out, const struct fh_ike_addr *l,
		    const struct fh_ike_addr *r)
{
	struct side *s = ctx;

	for (int i = 0; i < CHILDREN; i++)
		if (s->ch[i].up && s->ch[i].c.spi_in == spi_in && s->ch[i].c.spi_out == spi_out) {
			s->ch[i].c.local = *l;
			s->ch[i].c.remote = *r;
		}
}

static uint32_t cb_handle(void *ctx, const char *name)
{
	return names_handle(&((struct side *)ctx)->tun, name);
}

static uint32_t cb_source(void *ctx, uint32_t tunnel)
{
	struct side *s = ctx;
	const char *name = names_of(&s->tun, tunnel);
	int t = name != NULL ? fh_config_iface_find(s->cfg, name) : -1, src = t >= 0 ? s->cfg->iface[t].source_idx : -1;

	return src >= 0 ? s->cfg->iface[src].ip.pfx.addr : 0;
}

static const struct fh_ike_ops ops = {.send = cb_send, .child_up = cb_up, .child_down = cb_down,
				      .child_counts = cb_counts, .tunnel_handle = cb_handle, .tunnel_source = cb_source,
				      .child_peer = cb_peer};

static char *read_file(const char *name)
{
	char path[512];
	FILE *f;
	long n;
	char *b;

	snprintf(path, sizeof(path), "%s/config/%s", root, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* The config text with one substring replaced (a test's variation of the guide's config). */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *p = from ? strstr(text, from) : NULL;
	size_t n = strlen(text) + (to ? strlen(to) : 0) + 1;
	char *o = malloc(n);

	if (p == NULL) {
		snprintf(o, n, "%s", text);
		return o;
	}
	snprintf(o, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	return o;
}

static struct fh_config *load(const char *name, const char *text)
{
	struct fh_cfg_errs *errs = calloc(1, sizeof(*errs));
	struct fh_config *c = fh_config_load_buffer(name, text, strlen(text), errs);

	if (c == NULL)
		fh_config_print_errs(stderr, errs);
	free(errs);
	return c;
}

static void side_reset(struct side *s)
{
	if (s->ike != NULL)
		fh_ike_free(s->ike, now);
	s->ike = NULL;
	if (s->cfg != NULL)
		fh_config_free(s->cfg);
	s->cfg = NULL;
	memset(s->ch, 0, sizeof(s->ch));
	s->nq = 0;
	s->ups = s->downs = s->keepalives = 0;
	s->refuse_up = false;
}

static bool setup(const char *text_a, const char *text_b)
{
	side_reset(&A);
	side_reset(&B);
	drop_a = drop_b = false;
	nat_ip = 0;
	A.cfg = load("a.yaml", text_a);
	B.cfg = load("b.yaml", text_b);
	if (A.cfg == NULL || B.cfg == NULL)
		return false;
	A.ike = fh_ike_new(A.cfg, &ops, &A);
	B.ike = fh_ike_new(B.cfg, &ops, &B);
	A.addr = 0xc0a8000a; /* 192.168.0.10 */
	B.addr = 0xc0a80014; /* 192.168.0.20 */
	return A.ike != NULL && B.ike != NULL;
}

/* Deliver what each side sent, through the NAT when there is one; returns how many. */
static int deliver(void)
{
	int n = 0;
	struct msg *q = malloc(sizeof(A.q));

	for (int s = 0; s < 2; s++) {
		struct side *from = s == 0 ? &A : &B, *to = s == 0 ? &B : &A;
		int nq = from->nq;

		memcpy(q, from->q, sizeof(from->q));
		from->nq = 0;
		for (int i = 0; i < nq; i++) {
			struct fh_ike_addr src = q[i].src, dst = q[i].dst;

			if ((s == 0 && drop_a) || (s == 1 && drop_b))
				continue;
			if (nat_ip != 0 && s == 0) {
				src.ip = nat_ip;
				src.port = src.port == 500 ? nat_port_500 : nat_port_4500;
			}
			if (nat_ip != 0 && s == 1) {
				if (dst.ip != nat_ip)
					continue; /* nobody there */
				dst.ip = A.addr;
				dst.port = dst.port == nat_port_500 ? 500 : dst.port == nat_port_4500 ? 4500 : 0;
				if (dst.port == 0)
					continue;
			}
			if (dst.ip != to->addr)
				continue;
			fh_ike_input(to->ike, &dst, &src, q[i].buf, q[i].len, now);
			n++;
		}
	}
	free(q);
	return n;
}

/* Run both engines for ms milliseconds of fake time, in 10 ms steps. */
static void run(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10) {
		now += 10;
		fh_ike_tick(A.ike, now);
		fh_ike_tick(B.ike, now);
		while (deliver() > 0)
			;
	}
}

static int live(const struct side *s)
{
	int n = 0;

	for (int i = 0; i < CHILDREN; i++)
		n += s->ch[i].up;
	return n;
}

static const struct child *newest(const struct side *s)
{
	const struct child *c = NULL;

	for (int i = 0; i < CHILDREN; i++)
		if (s->ch[i].up && (c == NULL || s->ch[i].c.spi_in != 0))
			c = &s->ch[i];
	return c;
}

static const struct child *find_in(const struct side *s, uint32_t spi_in)
{
	for (int i = 0; i < CHILDREN; i++)
		if (s->ch[i].up && s->ch[i].c.spi_in == spi_in)
			return &s->ch[i];
	return NULL;
}

/* Every live pair on A has its mirror on B: SPIs crossed, keys crossed. */
static bool pairs_match(void)
{
	int n = 0;

	for (int i = 0; i < CHILDREN; i++) {
		const struct child *a = &A.ch[i], *b;

		if (!a->up)
			continue;
		b = find_in(&B, a->c.spi_out);
		if (b == NULL || b->c.spi_out != a->c.spi_in || b->c.enc_len != a->c.enc_len ||
		    memcmp(a->enc_out, b->enc_in, a->c.enc_len) != 0 || memcmp(a->enc_in, b->enc_out, a->c.enc_len) != 0 ||
		    memcmp(a->auth_out, b->auth_in, a->c.auth_len) != 0 || memcmp(a->auth_in, b->auth_out, a->c.auth_len) != 0 ||
		    b->c.encr != a->c.encr || b->c.integ != a->c.integ || b->c.udp_encap != a->c.udp_encap)
			return false;
		n++;
	}
	return n > 0 && n == live(&B);
}

static int ready(const struct side *s)
{
	struct fh_ike_sa_info i;
	int n = 0;

	for (uint32_t k = 0; fh_ike_sa_next(s->ike, &k, &i);)
		n += strcmp(i.status, "READY") == 0;
	return n;
}

/* The READY IKE SA of a side (tests have one at most). */
static bool get_ready(const struct side *s, struct fh_ike_sa_info *o)
{
	for (uint32_t k = 0; fh_ike_sa_next(s->ike, &k, o);)
		if (strcmp(o->status, "READY") == 0)
			return true;
	return false;
}

static void test_site_to_site(const char *a, const char *b)
{
	struct fh_ike_sa_info i;
	uint64_t rek;

	fh_check(setup(a, b), "the guide's site-to-site configs load and engines start");
	run(3000);
	fh_check(ready(&A) == 1 && ready(&B) == 1, "one IKE SA READY on each side (A %d, B %d)", ready(&A), ready(&B));
	fh_check(live(&A) == 1 && live(&B) == 1, "one child SA pair on each side (A %d, B %d)", live(&A), live(&B));
	fh_check(pairs_match(), "child SAs: SPIs and keys mirror each other");
	fh_check(newest(&A) && newest(&A)->c.encr == FH_ENCR_AES_CBC_256 && newest(&A)->c.integ == FH_INTEG_SHA1_96,
		 "child uses the transform set: esp-aes 256 esp-sha-hmac");
	fh_check(newest(&A) && !newest(&A)->c.udp_encap, "no NAT: ESP not UDP-encapsulated");
	fh_check(get_ready(&A, &i) && i.encr == 12 && i.key_bits == 256 && i.prf == 5 && i.integ == 12 &&
			 i.dh_group == 14,
		 "IKE SA: AES-CBC-256, PRF SHA256, SHA256, group 14 as the proposal says");
	fh_check(strcmp(i.remote_id, "192.168.0.20") == 0 && i.lifetime_s == 86400,
		 "A sees B's identity (address) and the profile's lifetime (%s, %u)", i.remote_id, i.lifetime_s);

	/* child rekey, make-before-break: the new pair is up before the old one goes */
	rek = fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED);
	{
		uint32_t old_in = newest(&A)->c.spi_in;
		int ups = A.ups, downs = A.downs;

		fh_check(fh_ike_rekey(A.ike, 0, false, now) == 1, "child rekey starts");
		run(500);
		fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == rek + 1, "child SA rekeyed");
		fh_check(A.ups == ups + 1 && A.downs == downs + 1 && find_in(&A, old_in) == NULL,
			 "new pair installed, old one removed after (ups %d downs %d)", A.ups - ups, A.downs - downs);
		fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match(), "after child rekey: one pair each, mirrored");
	}
	/* IKE SA rekey: children move to the new IKE SA */
	{
		int ups = A.ups;

		fh_check(fh_ike_rekey(B.ike, 0, true, now) == 1, "IKE SA rekey starts (from the responder)");
		run(500);
		fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_IKE_REKEYED) == 1 && fh_ike_counter(A.ike, FH_IKE_CTR_IKE_REKEYED) == 1,
			 "IKE SA rekeyed on both sides");
		fh_check(ready(&A) == 1 && ready(&B) == 1, "one IKE SA each after the rekey (A %d, B %d)", ready(&A),
			 ready(&B));
		fh_check(live(&A) == 1 && A.ups == ups && pairs_match(), "children untouched by the IKE SA rekey");
		fh_check(fh_ike_rekey(A.ike, 0, false, now) == 1, "child rekey on the new IKE SA");
		run(500);
		fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match() && A.ups == ups + 1,
			 "the new IKE SA's keys work: child rekeyed under them");
	}
}

static void test_dpd(const char *a, const char *b)
{
	struct child *c;

	fh_check(setup(a, b), "DPD: engines start");
	run(3000);
	fh_check(live(&A) == 1, "DPD: tunnel up");
	/* on-demand: traffic out, nothing in for the interval -> DPD; the peer answers */
	for (int t = 0; t < 15; t++) {
		for (int i = 0; i < CHILDREN; i++)
			if (A.ch[i].up)
				A.ch[i].out_pkts += 10;
		run(1000);
	}
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_DPD_SENT) >= 1, "on-demand DPD sent after 10 s of one-way traffic");
	fh_check(live(&A) == 1 && ready(&A) == 1, "peer answered DPD: tunnel stays up");
	/* the peer vanishes */
	drop_b = true;
	for (int t = 0; t < 40; t++) {
		c = NULL;
		for (int i = 0; i < CHILDREN; i++)
			if (A.ch[i].up)
				c = &A.ch[i];
		if (c != NULL)
			c->out_pkts += 10;
		run(1000);
	}
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_DPD_DEAD) == 1, "peer declared dead after DPD retries");
	fh_check(live(&A) == 0, "dead peer: child SAs removed, tunnel down");
	drop_b = false;
	run(15000);
	fh_check(live(&A) == 1 && pairs_match(), "peer back: tunnel re-established by itself");
}

static void test_delete(const char *a, const char *b)
{
	uint64_t del;
	uint32_t old;

	fh_check(setup(a, b), "delete: engines start");
	run(3000);
	del = fh_ike_counter(A.ike, FH_IKE_CTR_DELETED);
	old = newest(&A) ? newest(&A)->c.spi_in : 0;
	fh_check(fh_ike_clear(B.ike, 0, now) == 1, "clear crypto ikev2 sa on B");
	fh_check(live(&B) == 0, "B removed its children at once");
	run(10);
	fh_check(find_in(&A, old) == NULL && fh_ike_counter(A.ike, FH_IKE_CTR_DELETED) == del + 1,
		 "A got the Delete and removed its SAs");
	run(10000);
	fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match(), "configured tunnel came back after the clear");
}

static void test_wrong_psk(const char *a, const char *b)
{
	char *b2 = edit(b, "pre-shared-key-remote: cisco123", "pre-shared-key-remote: wrong-key");

	fh_check(setup(a, b2), "wrong PSK: engines start");
	run(2000);
	fh_check(live(&A) == 0 && live(&B) == 0, "wrong PSK: no child SA anywhere");
	fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_AUTH_FAILED) >= 1, "B counts authentication failures");
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_AUTH_FAILED) >= 1, "A counts AUTHENTICATION_FAILED notifies");
	fh_check(ready(&A) == 0 && ready(&B) == 0, "no IKE SA left READY");
	free(b2);
}

static void test_no_proposal(const char *a, const char *b)
{
	char *b2 = edit(b, "encryption: aes-cbc-256 #", "encryption: aes-cbc-128 #");

	fh_check(setup(a, b2), "no proposal: engines start");
	run(2000);
	fh_check(live(&A) == 0 && fh_ike_counter(B.ike, FH_IKE_CTR_NO_PROPOSAL) >= 1 &&
			 fh_ike_counter(A.ike, FH_IKE_CTR_NO_PROPOSAL) >= 1,
		 "different IKE proposals: NO_PROPOSAL_CHOSEN sent and received");
	free(b2);
	b2 = edit(b, "encryption: esp-aes 256", "encryption: esp-aes 128");
	fh_check(setup(a, b2), "child no proposal: engines start");
	run(2000);
	fh_check(live(&A) == 0 && live(&B) == 0, "different transform sets: no child SA");
	fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_NO_PROPOSAL) >= 1, "child NO_PROPOSAL_CHOSEN counted");
	free(b2);
}

static void test_invalid_ke(const char *a, const char *b)
{
	char *a2 = edit(a, "group: 14 ", "group: [19, 14] ");
	char *b2 = edit(b, "group: 14 ", "group: [31, 14] ");
	struct fh_ike_sa_info i;

	fh_check(setup(a2, b2), "INVALID_KE: engines start (A tries 19 first, B takes 31 or 14)");
	run(3000);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_INVALID_KE) >= 1 && fh_ike_counter(B.ike, FH_IKE_CTR_INVALID_KE) >= 1,
		 "INVALID_KE_PAYLOAD sent and received (each side proposed a group the other lacks)");
	fh_check(live(&A) == 1 && pairs_match() && get_ready(&A, &i) && i.dh_group == 14,
		 "then group 14 was used and the tunnel came up");
	free(a2);
	free(b2);
}

static void test_groups(const char *a, const char *b)
{
	static const char *const groups[] = {"19", "20", "21", "31", "15"};

	for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		char to[32];
		struct fh_ike_sa_info i;
		char *a2, *b2;

		snprintf(to, sizeof(to), "group: %s ", groups[g]);
		a2 = edit(a, "group: 14 ", to);
		b2 = edit(b, "group: 14 ", to);
		fh_check(setup(a2, b2), "group %s: engines start", groups[g]);
		run(3000);
		fh_check(live(&A) == 1 && pairs_match() && get_ready(&A, &i) && i.dh_group == atoi(groups[g]),
			 "group %s: tunnel up, keys mirror", groups[g]);
		free(a2);
		free(b2);
	}
	{
		char *a2 = edit(a, "encryption: aes-cbc-256 #  encryption aes-cbc-256\n        integrity: sha256 ",
				"encryption: aes-gcm-256\n        prf: sha384 ");
		char *b2 = edit(b, "encryption: aes-cbc-256 #  encryption aes-cbc-256\n        integrity: sha256 ",
				"encryption: aes-gcm-256\n        prf: sha384 ");
		char *a3 = edit(a2, "encryption: esp-aes 256\n        integrity: esp-sha-hmac",
				"encryption: esp-gcm 256");
		char *b3 = edit(b2, "encryption: esp-aes 256\n        integrity: esp-sha-hmac",
				"encryption: esp-gcm 256");
		struct fh_ike_sa_info i;

		fh_check(setup(a3, b3), "AES-GCM IKE and ESP: engines start");
		run(3000);
		fh_check(live(&A) == 1 && pairs_match() && get_ready(&A, &i) && i.encr == 20 && i.prf == 6 &&
				 newest(&A)->c.encr == FH_ENCR_AES_GCM_256 && newest(&A)->c.enc_len == 36,
			 "AES-GCM-256 IKE SA (PRF SHA384) and ESP child (key + salt) up");
		free(a2);
		free(b2);
		free(a3);
		free(b3);
	}
}

static void test_nat(const char *a, const char *b)
{
	struct fh_ike_sa_info i;
	bool ok;

	char *a2 = edit(a, "        lifetime: 86400", "        lifetime: 86400\n        nat-keepalive: 20");

	fh_check(setup(a2, b), "NAT: engines start");
	free(a2);
	nat_ip = 0xcb007105; /* 203.0.113.5 */
	/* B expects A at 192.168.0.10; behind the NAT it arrives from 203.0.113.5, so B needs a
	 * keyring entry and identity that match A's (identity is A's own address, as IOS sends) */
	run(3000);
	fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match(), "through the NAT: tunnel up");
	fh_check(newest(&A) && newest(&A)->c.udp_encap && newest(&B)->c.udp_encap,
		 "NAT detected: ESP in UDP on both sides");
	ok = get_ready(&B, &i);
	fh_check(ok && i.remote.ip == nat_ip && i.remote.port == nat_port_4500 && i.local.port == 4500 && i.nat_remote,
		 "B talks to the NAT's port 4500 mapping (%u) and knows the peer is behind NAT", i.remote.port);
	fh_check(get_ready(&A, &i) && i.nat_local && i.local.port == 4500, "A knows it is behind a NAT");
	/* the NAT reboots: A's port 4500 mapping changes; A's next message moves B's ESP with it */
	nat_port_4500 = 45500;
	fh_check(fh_ike_rekey(A.ike, 0, false, now) == 1, "NAT rebinding: A sends a request from the new port");
	run(500);
	fh_check(newest(&B) && newest(&B)->c.remote.port == 45500 && get_ready(&B, &i) && i.remote.port == 45500,
		 "B's IKE SA and child SAs follow the new mapping (port %u)", newest(&B) ? newest(&B)->c.remote.port : 0);
	fh_check(live(&A) == 1 && pairs_match(), "tunnel still up after the NAT rebinding");
	nat_port_4500 = 44500;
	run(30000);
	fh_check(A.keepalives >= 1 && B.keepalives == 0,
		 "the side behind the NAT sends keepalives (nat-keepalive 20), the other does not (%d, %d)", A.keepalives,
		 B.keepalives);
}

static void test_cookie(const char *a, const char *b)
{
	struct fh_ike_limits l;

	fh_check(setup(a, b), "cookie: engines start");
	fh_ike_get_limits(B.ike, &l);
	l.cookie_threshold = 0; /* every IKE_SA_INIT must bring a cookie */
	fh_ike_set_limits(B.ike, &l);
	run(3000);
	fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_COOKIE_SENT) >= 1, "B answered with a COOKIE");
	fh_check(live(&A) == 1 && pairs_match(), "A came back with the cookie and the tunnel is up");
	l.cookie_threshold = 64;
	l.half_open_max = 0;
	fh_ike_set_limits(B.ike, &l);
	fh_ike_clear(A.ike, 0, now);
	run(3000);
	fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_HALF_OPEN_LIMIT) >= 1 && live(&A) == 0,
		 "half-open limit 0: IKE_SA_INIT dropped and counted");
}

static void test_retransmit(const char *a, const char *b)
{
	fh_check(setup(a, b), "retransmit: engines start");
	drop_b = true;
	run(1500);
	drop_b = false;
	run(5000);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_RETRANSMIT) >= 1, "A retransmitted its request");
	fh_check(fh_ike_counter(B.ike, FH_IKE_CTR_RX_DUP_REQUEST) >= 1, "B answered the retransmission from its cache");
	fh_check(live(&A) == 1 && pairs_match() && ready(&B) == 1, "one tunnel despite the lost answers");
}

/* Both ends initiate at once: one IKE SA survives and traffic has one pair to use. */
static void test_collision(const char *a, const char *b)
{
	fh_check(setup(a, b), "collision: engines start");
	run(8000);
	fh_check(ready(&A) == 1 && ready(&B) == 1, "simultaneous initiation: one IKE SA left on each side (A %d, B %d)",
		 ready(&A), ready(&B));
	fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match(), "and one mirrored child pair");
}

/* Lifetimes of 120 s (IOS's minimum) on both sides: rekeys happen by themselves, and a pair is
 * installed on each side at every moment. Then a volume lifetime: traffic past 90 % of it. */
static void test_lifetimes(const char *a, const char *b)
{
	static const char *const from = "        ikev2-profile: FLEXVPN_PROFILE";
	static const char *const to = "        ikev2-profile: FLEXVPN_PROFILE\n        lifetime-seconds: 120\n"
				      "        lifetime-kilobytes: 2560";
	char *a1 = edit(a, from, to), *b1 = edit(b, from, to);
	char *a2 = edit(a1, "lifetime: 86400", "lifetime: 120"), *b2 = edit(b1, "lifetime: 86400", "lifetime: 120");
	bool always = true;
	uint64_t crk, irk;

	fh_check(setup(a2, b2), "lifetimes 120 s: engines start");
	run(3000);
	for (int t = 0; t < 260; t++) {
		run(1000);
		always &= live(&A) >= 1 && live(&B) >= 1;
	}
	crk = fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) + fh_ike_counter(B.ike, FH_IKE_CTR_CHILD_REKEYED);
	irk = fh_ike_counter(A.ike, FH_IKE_CTR_IKE_REKEYED);
	fh_check(crk >= 2 * 2 && irk >= 2, "260 s of 120-s lifetimes: children rekeyed (%lu) and IKE SA rekeyed (%lu)",
		 (unsigned long)crk, (unsigned long)irk);
	fh_check(always, "a child SA pair was installed on both sides at every second");
	fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match() && ready(&A) == 1 && ready(&B) == 1,
		 "after the lifetimes: one IKE SA and one mirrored pair each");
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_TIMEOUT) == 0 && fh_ike_counter(B.ike, FH_IKE_CTR_TIMEOUT) == 0,
		 "no request timed out on the way");
	/* volume: 2560 KB, rekey at 90 % */
	crk = fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED);
	for (int i = 0; i < CHILDREN; i++)
		if (A.ch[i].up)
			A.ch[i].out_bytes = 2560 * 1024 / 10 * 9 + 1;
	run(2000);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == crk + 1 && live(&A) == 1 && pairs_match(),
		 "90 %% of lifetime-kilobytes sent: the child SA is rekeyed");
	fh_check(newest(&A) && newest(&A)->c.life_kilobytes == 2560, "the data plane gets the volume limit to enforce");
	free(a1);
	free(b1);
	free(a2);
	free(b2);
}

/* IKEv2 fragmentation (RFC 7383) at a 200-byte MTU: IKE_AUTH and later messages go in SKF
 * fragments, are reassembled, and everything works as without; one side without it: whole. */
static void test_fragmentation(const char *a, const char *b)
{
	struct fh_ike_limits l;

	for (int only_a = 0; only_a < 2; only_a++) {
		fh_check(setup(a, b), "fragmentation: engines start");
		fh_ike_get_limits(A.ike, &l);
		l.frag_mtu = 200;
		fh_ike_set_limits(A.ike, &l);
		if (!only_a)
			fh_ike_set_limits(B.ike, &l);
		run(3000);
		fh_check(live(&A) == 1 && pairs_match(), "%s: tunnel up", only_a ? "only A fragments" : "both fragment");
		fh_check(fh_ike_rekey(A.ike, 0, false, now) == 1, "child rekey over fragments");
		run(500);
		if (only_a) {
			fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_FRAG_TX) == 0 && fh_ike_counter(B.ike, FH_IKE_CTR_FRAG_RX) == 0,
				 "the peer did not announce it: nothing is fragmented");
		} else {
			fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_FRAG_TX) >= 4 &&
					 fh_ike_counter(B.ike, FH_IKE_CTR_FRAG_RX) == fh_ike_counter(A.ike, FH_IKE_CTR_FRAG_TX),
				 "A sent %lu fragments, B took them all",
				 (unsigned long)fh_ike_counter(A.ike, FH_IKE_CTR_FRAG_TX));
		}
		fh_check(live(&A) == 1 && live(&B) == 1 && pairs_match() &&
				 fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == 1,
			 "rekeyed through fragmented messages");
	}
}

/* PFS ("set pfs group19" on both ipsec profiles): a child rekey carries its own KE. */
static void test_pfs(const char *a, const char *b)
{
	static const char *const from = "        ikev2-profile: FLEXVPN_PROFILE";
	static const char *const to = "        ikev2-profile: FLEXVPN_PROFILE\n        pfs: 19";
	char *a1 = edit(a, from, to), *b1 = edit(b, from, to), *b2;
	uint32_t old_key;

	fh_check(setup(a1, b1), "PFS: engines start");
	run(3000);
	old_key = newest(&A) ? newest(&A)->c.spi_in : 0;
	fh_check(fh_ike_rekey(A.ike, 0, false, now) == 1, "PFS: child rekey");
	run(500);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == 1 && live(&A) == 1 && pairs_match() &&
			 find_in(&A, old_key) == NULL,
		 "PFS group 19: child rekeyed with a fresh DH, keys mirror");
	/* B requires PFS, A's rekey offers none: refused (NO_PROPOSAL_CHOSEN), the old pair stays */
	fh_check(setup(a, b1), "PFS on B only: engines start");
	run(3000);
	old_key = newest(&A) ? newest(&A)->c.spi_in : 0;
	fh_ike_rekey(A.ike, 0, false, now);
	run(500);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == 0 && find_in(&A, old_key) != NULL && pairs_match() &&
			 fh_ike_counter(B.ike, FH_IKE_CTR_NO_PROPOSAL) >= 1,
		 "PFS required by B, not offered by A: rekey refused, old pair kept");
	/* A offers PFS, B has none configured: B goes along (as IOS does) */
	b2 = edit(b, from, from);
	fh_check(setup(a1, b2), "PFS on A only: engines start");
	run(3000);
	fh_ike_rekey(A.ike, 0, false, now);
	run(500);
	fh_check(fh_ike_counter(A.ike, FH_IKE_CTR_CHILD_REKEYED) == 1 && live(&A) == 1 && pairs_match(),
		 "PFS offered by A only: B accepts it and the rekey completes");
	free(a1);
	free(b1);
	free(b2);
}

/* Transport mode, asymmetric keys, FQDN identities: each as the config states it. */
static void test_variants(const char *a, const char *b)
{
	char *a1 = edit(a, "        mode: tunnel", "        mode: transport");
	char *b1 = edit(b, "        mode: tunnel", "        mode: transport");
	char *a2, *b2, *a3, *b3, *t;
	struct fh_ike_sa_info i;

	fh_check(setup(a1, b1), "transport mode: engines start");
	run(3000);
	fh_check(live(&A) == 1 && pairs_match() && newest(&A)->c.transport && newest(&B)->c.transport,
		 "USE_TRANSPORT_MODE: both install transport-mode ESP (GRE over transport, as FlexVPN can)");
	free(a1);
	free(b1);
	/* different keys each way: A signs with k-a, B with k-b */
	a2 = edit(a, "pre-shared-key-local: cisco123", "pre-shared-key-local: k-a");
	t = edit(a2, "pre-shared-key-remote: cisco123", "pre-shared-key-remote: k-b");
	free(a2);
	a2 = t;
	b2 = edit(b, "pre-shared-key-local: cisco123", "pre-shared-key-local: k-b");
	t = edit(b2, "pre-shared-key-remote: cisco123", "pre-shared-key-remote: k-a");
	free(b2);
	b2 = t;
	fh_check(setup(a2, b2), "asymmetric keys: engines start");
	run(3000);
	fh_check(live(&A) == 1 && pairs_match(), "asymmetric pre-shared keys: tunnel up");
	/* FQDN identities: B knows A by name in its profile and keyring */
	a3 = edit(a, "        authentication-remote: pre-share", "        identity-local: fqdn routera.example\n"
								     "        authentication-remote: pre-share");
	b3 = edit(b, "          address: 192.168.0.10 #", "          fqdn: routera.example #");
	t = edit(b3, "            address: 192.168.0.10\n", "            identity: fqdn routera.example\n");
	free(b3);
	b3 = t;
	fh_check(setup(a3, b3), "FQDN identity: engines start");
	run(3000);
	fh_check(live(&A) == 1 && pairs_match() && get_ready(&B, &i) && strcmp(i.remote_id, "routera.example") == 0,
		 "B matched A's FQDN identity to its profile and keyring (%s)", i.remote_id);
	free(a2);
	free(b2);
	free(a3);
	free(b3);
}

int main(int argc, char **argv)
{
	char *a, *b;

	if (argc > 1)
		root = argv[1];
	if (getenv("IKE_DEBUG") != NULL) /* the engine's debug lines, to see an exchange fail */
		fh_debug_set("crypto ikev2", true);
	a = read_file("site-to-site-a.yaml");
	b = read_file("site-to-site-b.yaml");
	if (!fh_check(a != NULL && b != NULL, "guide configs readable"))
		return fh_test_done();
	test_site_to_site(a, b);
	test_collision(a, b);
	test_dpd(a, b);
	test_delete(a, b);
	test_wrong_psk(a, b);
	test_no_proposal(a, b);
	test_invalid_ke(a, b);
	test_groups(a, b);
	test_nat(a, b);
	test_cookie(a, b);
	test_retransmit(a, b);
	test_lifetimes(a, b);
	test_fragmentation(a, b);
	test_pfs(a, b);
	test_variants(a, b);
	side_reset(&A);
	side_reset(&B);
	free(a);
	free(b);
	return fh_test_done();
}
