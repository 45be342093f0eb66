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

/* ---- many tunnels: a hub (B) answering spokes that one engine (A) plays ---- */

#define BIG_N 2000

struct bmsg {
	struct fh_ike_addr src, dst;
	size_t len;
	uint8_t *buf;
};

/* One side of the scale and reload tests. Tunnel k is "Tunnel<k>" with handle 1000 + 7k; what
 * the data plane would hold is counted per tunnel. */
struct bside {
	struct fh_config *cfg;
	struct fh_ike *ike;
	struct bmsg *q;
	size_t nq, cap;
	uint32_t n;                  /* tunnels in the first config */
	uint32_t *src;               /* tunnel k's source address */
	int *live, *ups, *downs;     /* per tunnel: child SAs installed now, ever, removed */
	int bad_tunnel;              /* child_up / child_down naming no tunnel of ours */
	uint32_t last_up_tunnel;
};

static struct bside BA, BB;

static uint32_t big_handle(uint32_t k)
{
	return 1000 + 7 * k;
}

static int big_k(const struct bside *s, uint32_t h)
{
	if (h < 1000 || (h - 1000) % 7 != 0 || (h - 1000) / 7 >= s->n)
		return -1;
	return (int)((h - 1000) / 7);
}

static void big_send(void *ctx, const struct fh_ike_addr *l, const struct fh_ike_addr *r, const uint8_t *m, size_t len)
{
	struct bside *s = ctx;

	if (len == 1)
		return;
	if (s->nq == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 256;
		struct bmsg *v = realloc(s->q, c * sizeof(*v));

		if (v == NULL)
			return;
		s->q = v;
		s->cap = c;
	}
	s->q[s->nq] = (struct bmsg){.src = *l, .dst = *r, .len = len, .buf = malloc(len)};
	if (s->q[s->nq].buf == NULL)
		return;
	memcpy(s->q[s->nq].buf, m, len);
	s->nq++;
}

static int big_up(void *ctx, const struct fh_ike_child_sa *c)
{
	struct bside *s = ctx;
	int k = big_k(s, c->tunnel);

	if (k < 0) {
		s->bad_tunnel++;
		return -1;
	}
	s->live[k]++;
	s->ups[k]++;
	s->last_up_tunnel = c->tunnel;
	return 0;
}

static void big_down(void *ctx, uint32_t tunnel, uint32_t spi_in, uint32_t spi_out)
{
	struct bside *s = ctx;
	int k = big_k(s, tunnel);

	(void)spi_in, (void)spi_out;
	if (k < 0) {
		s->bad_tunnel++;
		return;
	}
	s->live[k]--;
	s->downs[k]++;
}

static bool big_counts(void *ctx, uint32_t a, uint32_t b, struct fh_ike_child_counts *n)
{
	(void)ctx, (void)a, (void)b;
	memset(n, 0, sizeof(*n));
	return true;
}

static void big_peer(void *ctx, uint32_t a, uint32_t b, const struct fh_ike_addr *l, const struct fh_ike_addr *r)
{
	(void)ctx, (void)a, (void)b, (void)l, (void)r;
}

static uint32_t big_tunnel_handle(void *ctx, const char *name)
{
	struct bside *s = ctx;
	unsigned k;
	char tail;

	if (sscanf(name, "Tunnel%u%c", &k, &tail) != 1 || k >= s->n)
		return 0;
	return big_handle(k);
}

static uint32_t big_source(void *ctx, uint32_t tunnel)
{
	struct bside *s = ctx;
	int k = big_k(s, tunnel);

	return k >= 0 ? s->src[k] : 0;
}

static const struct fh_ike_ops big_ops = {.send = big_send, .child_up = big_up, .child_down = big_down,
					  .child_counts = big_counts, .tunnel_handle = big_tunnel_handle,
					  .tunnel_source = big_source, .child_peer = big_peer};

static const char big_common[] =
	"crypto:\n"
	"  ikev2:\n"
	"    proposals: {P: {encryption: aes-cbc-128, integrity: sha256, group: 31}}\n"
	"    policies: {POL: {proposals: P}}\n"
	"    keyrings: {KR: {peers: {X: {address: 0.0.0.0 0.0.0.0, pre-shared-key: cisco123}}}}\n"
	"    profiles:\n"
	"      PR: {match-identity-remote: {address: 0.0.0.0}, authentication-remote: pre-share,\n"
	"           authentication-local: pre-share, keyring: KR}\n"
	"  ipsec:\n"
	"    transform-sets: {T: {encryption: esp-aes 128, integrity: esp-sha256-hmac}}\n"
	"    profiles: {IP: {transform-sets: T, ikev2-profile: PR}}\n"
	"interfaces:\n"
	"  GigabitEthernet1: {device: net_null0, ip-address: %s/24}\n";

/* Spoke k's address: 10.(k / 250).(k % 250 + 1).1, every spoke its own. */
static uint32_t spoke_ip(uint32_t k)
{
	return 0x0a000001u | (k / 250) << 16 | (k % 250 + 1) << 8;
}

#define HUB_IP 0xc0a80014u /* 192.168.0.20 */

/* The config text of n tunnels, those with skip[k] left out; hub: toward each spoke, answering
 * only; spokes: each from its own address toward the hub. */
static struct fh_config *big_config(bool hub, uint32_t n, const bool *skip)
{
	size_t cap = 4096 + (size_t)n * 200, len;
	char *t = malloc(cap);
	struct fh_config *c;

	len = (size_t)snprintf(t, cap, big_common, hub ? "192.168.0.20" : "192.168.0.10");
	for (uint32_t k = 0; k < n; k++) {
		uint32_t sp = spoke_ip(k);

		if (skip != NULL && skip[k])
			continue;
		if (hub)
			len += (size_t)snprintf(t + len, cap - len,
						"  Tunnel%u: {ip-address: 172.16.%u.%u/31, tunnel-source: GigabitEthernet1,\n"
						"    tunnel-destination: %u.%u.%u.%u, tunnel-protection: IP, "
						"tunnel-initiate: false}\n",
						k, k / 128, (k % 128) * 2, sp >> 24, (sp >> 16) & 0xff, (sp >> 8) & 0xff, sp & 0xff);
		else
			len += (size_t)snprintf(t + len, cap - len,
						"  Tunnel%u: {ip-address: 172.16.%u.%u/31, tunnel-source: %u.%u.%u.%u,\n"
						"    tunnel-destination: 192.168.0.20, tunnel-protection: IP}\n",
						k, k / 128, (k % 128) * 2 + 1, sp >> 24, (sp >> 16) & 0xff, (sp >> 8) & 0xff, sp & 0xff);
	}
	c = load(hub ? "hub.yaml" : "spokes.yaml", t);
	free(t);
	return c;
}

static void big_reset(struct bside *s)
{
	if (s->ike != NULL)
		fh_ike_free(s->ike, now);
	if (s->cfg != NULL)
		fh_config_free(s->cfg);
	for (size_t i = 0; i < s->nq; i++)
		free(s->q[i].buf);
	free(s->q);
	free(s->src);
	free(s->live);
	free(s->ups);
	free(s->downs);
	memset(s, 0, sizeof(*s));
}

static bool big_setup(uint32_t n)
{
	struct fh_ike_limits l;

	big_reset(&BA);
	big_reset(&BB);
	for (int i = 0; i < 2; i++) {
		struct bside *s = i == 0 ? &BA : &BB;

		s->n = n;
		s->src = calloc(n, sizeof(*s->src));
		s->live = calloc(n, sizeof(int));
		s->ups = calloc(n, sizeof(int));
		s->downs = calloc(n, sizeof(int));
		for (uint32_t k = 0; k < n; k++)
			s->src[k] = i == 0 ? spoke_ip(k) : HUB_IP;
		s->cfg = big_config(i == 1, n, NULL);
		if (s->cfg == NULL)
			return false;
		s->ike = fh_ike_new(s->cfg, &big_ops, s);
		if (s->ike == NULL)
			return false;
	}
	/* every spoke comes at once: the hub takes them all half-open, without cookies */
	fh_ike_get_limits(BB.ike, &l);
	l.cookie_threshold = l.half_open_max = 4 * n;
	fh_ike_set_limits(BB.ike, &l);
	return true;
}

static int big_deliver(void)
{
	int n = 0;

	for (int i = 0; i < 2; i++) {
		struct bside *from = i == 0 ? &BA : &BB, *to = i == 0 ? &BB : &BA;
		struct bmsg *q = from->q;
		size_t nq = from->nq;

		from->q = NULL;
		from->nq = from->cap = 0;
		for (size_t k = 0; k < nq; k++) {
			fh_ike_input(to->ike, &q[k].dst, &q[k].src, q[k].buf, q[k].len, now);
			free(q[k].buf);
			n++;
		}
		free(q);
	}
	return n;
}

static void big_run(uint64_t ms, uint64_t step)
{
	for (uint64_t t = 0; t < ms; t += step) {
		now += step;
		fh_ike_tick(BA.ike, now);
		fh_ike_tick(BB.ike, now);
		while (big_deliver() > 0)
			;
	}
}

/* Every SA of a side: bound to the tunnel its handle names, toward that tunnel's peer, found
 * again by tunnel-id; counts those READY with a child. */
static uint32_t big_consistent(struct bside *s, bool hub, const bool *gone, bool *ok)
{
	struct fh_ike_sa_info i, j;
	uint32_t ready = 0;
	bool *seen = calloc(s->n, sizeof(bool));

	*ok = true;
	for (uint32_t cur = 0; fh_ike_sa_next(s->ike, &cur, &i);) {
		int k = big_k(s, i.tunnel);
		char name[32];

		if (k < 0 || seen[k] || (gone != NULL && gone[k])) {
			*ok = false;
			continue;
		}
		seen[k] = true;
		snprintf(name, sizeof(name), "Tunnel%d", k);
		if (strcmp(i.tunnel_name, name) != 0 || i.remote.ip != (hub ? spoke_ip((uint32_t)k) : HUB_IP) ||
		    !fh_ike_sa_find(s->ike, i.id, &j) || j.spi_i != i.spi_i || j.spi_r != i.spi_r)
			*ok = false;
		if (strcmp(i.status, "READY") == 0 && i.n_child == 1 && s->live[k] == 1)
			ready++;
	}
	free(seen);
	return ready;
}

static void test_many_tunnels(void)
{
	struct fh_ike_stats st, st2;
	bool ok, *gone;
	uint32_t ready_a, ready_b, left_ok = 0;
	struct fh_config *next;
	int bad_downs = 0;

	now = 1000;
	fh_check(big_setup(BIG_N), "%d tunnels: configs load and engines start", BIG_N);
	fh_ike_get_stats(BA.ike, &st);
	fh_check(st.tunnels == BIG_N && st.timers == BIG_N, "spokes: %u tunnels with handles, one timer each (%u)",
		 st.tunnels, st.timers);
	big_run(200, 10);
	ready_a = big_consistent(&BA, false, NULL, &ok);
	fh_check(ok && ready_a == BIG_N, "spokes: %u of %d IKE SAs READY with their child, each bound to its tunnel",
		 ready_a, BIG_N);
	ready_b = big_consistent(&BB, true, NULL, &ok);
	fh_check(ok && ready_b == BIG_N && fh_ike_sa_count(BB.ike) == BIG_N,
		 "hub: %u of %d READY, each on the tunnel toward its spoke, found by tunnel-id", ready_b, BIG_N);
	fh_ike_get_stats(BB.ike, &st);
	fh_check(st.established == BIG_N && st.half_open == 0 && BA.bad_tunnel == 0 && BB.bad_tunnel == 0,
		 "hub counts %u established, %u half-open; no child on a tunnel that is not ours", st.established,
		 st.half_open);
	fh_check(st.lookups > (uint64_t)BIG_N && st.probes <= 2 * st.lookups,
		 "hub lookups stay O(1): %lu compares over %lu lookups", (unsigned long)st.probes,
		 (unsigned long)st.lookups);

	/* idle: a tick with nothing due looks at no SA; a second of 1-ms ticks looks at each SA about
	 * once (its counter check), not once per tick */
	fh_ike_get_stats(BB.ike, &st);
	fh_ike_tick(BB.ike, now);
	fh_ike_get_stats(BB.ike, &st2);
	fh_check(st2.timer_pops == st.timer_pops && st2.tunnel_pops == st.tunnel_pops,
		 "a tick with no timer due touches no SA and no tunnel");
	big_run(1000, 1);
	fh_ike_get_stats(BB.ike, &st2);
	fh_check(st2.timer_pops - st.timer_pops <= 2 * BIG_N + 16,
		 "1000 ticks over %d idle SAs: %lu timer pops (a scan would look at %d)", BIG_N,
		 (unsigned long)(st2.timer_pops - st.timer_pops), 1000 * BIG_N);

	/* half the spokes' tunnels go by a reload (every second one, so the rest move up in the
	 * config): their SAs are deleted on both ends, the others keep tunnel and child */
	gone = calloc(BIG_N, sizeof(bool));
	for (uint32_t k = 0; k < BIG_N; k++)
		gone[k] = k % 2 == 1;
	next = big_config(false, BIG_N, gone);
	fh_check(next != NULL, "spokes: config without every second tunnel loads");
	if (next == NULL) {
		free(gone);
		return;
	}
	fh_ike_set_config(BA.ike, next, now);
	fh_config_free(BA.cfg);
	BA.cfg = next;
	big_run(100, 10);
	for (uint32_t k = 0; k < BIG_N; k++) {
		bool want = !gone[k];

		if (BA.live[k] == (want ? 1 : 0) && BB.live[k] == (want ? 1 : 0))
			left_ok++;
		if (BB.downs[k] != (want ? 0 : 1) || BA.downs[k] != (want ? 0 : 1))
			bad_downs++;
	}
	fh_check(left_ok == BIG_N && bad_downs == 0,
		 "after the reload: %u of %d tunnels as they should be (half gone, half untouched on both ends)",
		 left_ok, BIG_N);
	ready_a = big_consistent(&BA, false, gone, &ok);
	fh_check(ok && ready_a == BIG_N / 2 && fh_ike_sa_count(BA.ike) == BIG_N / 2,
		 "spokes: the %u SAs left keep their handles across the shifted config", ready_a);
	ready_b = big_consistent(&BB, true, gone, &ok);
	fh_ike_get_stats(BB.ike, &st);
	fh_check(ok && ready_b == BIG_N / 2 && st.sa == BIG_N / 2 && st.established == BIG_N / 2,
		 "hub: the %u SAs left are the right ones, counters follow (%u)", ready_b, st.established);
	free(gone);
	big_reset(&BA);
	big_reset(&BB);
}

/* The old reload bug: a tunnel removed from the middle of the hub's config. Only its SA goes;
 * the tunnels after it move up in the config but keep their SAs, handles and child SAs, and
 * keying them again uses their own config entries. */
static void test_reload_middle(void)
{
	const uint32_t n = 5;
	bool gone[5] = {false, false, true, false, false};
	struct fh_config *next;
	struct fh_ike_sa_info i;
	uint32_t id3 = 0;
	bool ok = true, found3 = false;
	int ups3;

	now = 1000;
	fh_check(big_setup(n), "reload: 5 tunnels up");
	big_run(200, 10);
	fh_check(big_consistent(&BB, true, NULL, &ok) == n && ok, "reload: hub has 5 READY SAs");
	next = big_config(true, n, gone);
	fh_check(next != NULL, "reload: hub config without Tunnel2 loads");
	if (next == NULL)
		return;
	fh_ike_set_config(BB.ike, next, now);
	fh_config_free(BB.cfg);
	BB.cfg = next;
	fh_check(BB.downs[2] == 1 && BB.live[2] == 0, "Tunnel2's child SA removed, named by Tunnel2's handle (%u)",
		 big_handle(2));
	fh_check(BB.downs[0] + BB.downs[1] + BB.downs[3] + BB.downs[4] == 0 &&
			 BB.live[0] + BB.live[1] + BB.live[3] + BB.live[4] == 4,
		 "no other tunnel lost its child SA");
	ok = true;
	for (uint32_t cur = 0; fh_ike_sa_next(BB.ike, &cur, &i);) {
		int k = big_k(&BB, i.tunnel);
		char name[32];

		snprintf(name, sizeof(name), "Tunnel%d", k);
		if (k < 0 || k == 2 || strcmp(i.tunnel_name, name) != 0 || i.remote.ip != spoke_ip((uint32_t)k) ||
		    i.n_child != 1)
			ok = false;
		if (k == 3) {
			id3 = i.id;
			found3 = true;
		}
	}
	fh_check(ok && fh_ike_sa_count(BB.ike) == n - 1 && found3,
		 "the 4 SAs left keep their handles and tunnels although Tunnel3 and Tunnel4 moved up");
	big_run(20, 10);
	fh_check(BA.downs[2] == 1 && BA.live[2] == 0 && BA.live[3] == 1,
		 "the spoke of Tunnel2 got the Delete; Tunnel3's spoke kept its pair");
	/* Tunnel3 is at index 2 now: a rekey from the hub must key it as Tunnel3 */
	ups3 = BB.ups[3];
	fh_check(fh_ike_rekey(BB.ike, id3, false, now) == 1, "hub rekeys Tunnel3's child SA");
	big_run(50, 10);
	fh_check(BB.ups[3] == ups3 + 1 && BB.last_up_tunnel == big_handle(3) && BB.live[3] == 1 && BA.live[3] == 1 &&
			 BB.bad_tunnel == 0,
		 "the new pair is Tunnel3's (handle %u) and the old one went", BB.last_up_tunnel);
	big_reset(&BA);
	big_reset(&BB);
}

/* sa_max: the hub takes 3 IKE SAs of 5 spokes; the rest are dropped and counted, nothing breaks. */
static void test_sa_limit(void)
{
	struct fh_ike_limits l;
	bool ok;

	now = 1000;
	fh_check(big_setup(5), "sa-max: engines start");
	fh_ike_get_limits(BB.ike, &l);
	fh_check(l.sa_max == FH_IKE_SA_MAX_DEFAULT, "sa-max defaults to %d", FH_IKE_SA_MAX_DEFAULT);
	l.sa_max = 3;
	fh_ike_set_limits(BB.ike, &l);
	big_run(500, 10);
	fh_check(big_consistent(&BB, true, NULL, &ok) == 3 && ok && fh_ike_sa_count(BB.ike) == 3,
		 "hub holds 3 IKE SAs at sa-max 3");
	fh_check(fh_ike_counter(BB.ike, FH_IKE_CTR_SA_LIMIT) >= 2, "IKE_SA_INIT beyond it dropped and counted (%lu)",
		 (unsigned long)fh_ike_counter(BB.ike, FH_IKE_CTR_SA_LIMIT));
	big_reset(&BA);
	big_reset(&BB);
}

/* IKE_CHILD_MAX: the peer's rekeys keep failing on A's side, so B collects pairs; once B holds
 * IKE_CHILD_MAX it answers NO_ADDITIONAL_SAS and counts it. */
static void test_child_limit(const char *a, const char *b)
{
	fh_check(setup(a, b), "child limit: engines start");
	run(3000);
	fh_check(live(&A) == 1 && live(&B) == 1, "child limit: tunnel up");
	A.refuse_up = true;
	for (int r = 0; r < 4; r++) {
		fh_ike_rekey(A.ike, 0, false, now);
		run(200);
	}
	fh_check(live(&B) == 4 && fh_ike_counter(B.ike, FH_IKE_CTR_CHILD_LIMIT) == 1,
		 "B holds 4 pairs (IKE_CHILD_MAX), refused the 5th with NO_ADDITIONAL_SAS and counted it (%d, %lu)",
		 live(&B), (unsigned long)fh_ike_counter(B.ike, FH_IKE_CTR_CHILD_LIMIT));
	fh_check(ready(&A) == 1 && ready(&B) == 1, "the IKE SA stays up");
	A.refuse_up = false;
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
	test_child_limit(a, b);
	test_reload_middle();
	test_sa_limit();
	test_many_tunnels();
	side_reset(&A);
	side_reset(&B);
	free(a);
	free(b);
	return fh_test_done();
}
