/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ikegen: an IKEv2 load generator for the hub role. It plays many initiators (spokes) against one
 * responder over plain UDP sockets: IKE_SA_INIT, then IKE_AUTH with a pre-shared key, a
 * CFG_REQUEST for an INTERNAL_IP4_ADDRESS and one ESP child SA (GRE host-to-host selectors like a
 * FlexVPN spoke, or 0.0.0.0/0 like a strongSwan road warrior), at a set rate or with a window of
 * outstanding negotiations. It records, per spoke, when its IKE_SA_INIT went out, when the
 * IKE_AUTH response came back, success or the reason of failure and the assigned address, and
 * prints established/s, latency percentiles and failures by reason as text and as one JSON line.
 *
 * Messages are built and opened with lib/ike's codec (fh_ike_build, fh_ike_parse, fh_ike_cp,
 * fh_ike_sk, fh_ike_crypto); what lib/ike keeps static (AUTH for PSK, NAT detection hashes, the
 * TS payload) is redone here in a few lines.
 *
 * Every spoke has its own source address (many addresses on one interface) and/or port: one UDP
 * socket per source port, bound to the wildcard address, IP_PKTINFO choosing the source address
 * on send and naming the destination on receive; the spoke is found from (address, port) in O(1).
 *
 * A test tool, not the data plane: one thread, epoll, non-blocking sockets.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "fh_ike_build.h"
#include "fh_ike_cp.h"
#include "fh_ike_crypto.h"
#include "fh_ike_msg.h"
#include "fh_ike_sk.h"

/* IANA numbers (RFC 7296 3.3.2, 3.10.1) the tool needs; lib/ike keeps its own in ike_int.h. */
#define XF_ENCR 1
#define XF_PRF 2
#define XF_INTEG 3
#define XF_DH 4
#define XF_ESN 5
#define PROTO_IKE 1
#define PROTO_ESP 3
#define AUTH_PSK 2
#define ID_IPV4 1
#define ID_FQDN 2
#define ESP_INTEG_SHA1_96 2
#define N_INVALID_SYNTAX 7
#define N_NO_PROPOSAL_CHOSEN 14
#define N_INVALID_KE_PAYLOAD 17
#define N_AUTHENTICATION_FAILED 24
#define N_NO_ADDITIONAL_SAS 35
#define N_INTERNAL_ADDRESS_FAILURE 36
#define N_FAILED_CP_REQUIRED 37
#define N_TS_UNACCEPTABLE 38
#define N_TEMPORARY_FAILURE 43
#define N_NAT_DETECTION_SOURCE_IP 16388
#define N_NAT_DETECTION_DESTINATION_IP 16389
#define N_COOKIE 16390
#define KEY_PAD "Key Pad for IKEv2"

/* Our nonce: 32 bytes (RFC 7296 2.10: at least half the PRF's key size, SHA-256's 32). */
#define NONCE_LEN 32
/* The largest datagram we send or take: IKE_AUTH with CP and one proposal is under 600 bytes; a
 * responder's IKE_SA_INIT with MODP-4096 under 700. */
#define MSG_MAX 4096
/* Cookies are at most 64 bytes (RFC 7296 2.6). */
#define COOKIE_MAX 64
/* Datagrams taken from one socket per wakeup before looking at timers again. */
#define RX_BATCH 64
/* --hub-pid given at most this often (flexhub, charon, ...). */
#define PIDS_MAX 4

enum state { S_IDLE, S_INIT, S_AUTH, S_UP, S_WAIT, S_FAIL, S_DEL, S_GONE };

enum fail {
	F_NONE,
	F_TIMEOUT_INIT,
	F_TIMEOUT_AUTH,
	F_NO_PROPOSAL,
	F_INVALID_KE,
	F_AUTH_FAILED,
	F_ADDR_FAILURE,
	F_TS_UNACCEPTABLE,
	F_TEMPORARY,
	F_NO_ADDITIONAL,
	F_CP_REQUIRED,
	F_SYNTAX,
	F_OTHER_NOTIFY,
	F_BAD_RESPONSE,
	F_NO_ADDRESS,
	F_AUTH_MISMATCH,
	F_NO_CHILD,
	F_SEND,
	F_DELETED,
	F_MAX,
};

static const char *fail_name[F_MAX] = {
	"none", "timeout-init", "timeout-auth", "no-proposal-chosen", "invalid-ke-payload", "authentication-failed",
	"internal-address-failure", "ts-unacceptable", "temporary-failure", "no-additional-sas", "failed-cp-required",
	"invalid-syntax", "other-notify", "bad-response", "no-address-assigned", "responder-auth-mismatch",
	"no-child-sa", "send-error", "deleted-by-hub",
};

struct spoke {
	uint32_t ip;          /* host order */
	uint16_t port;
	uint16_t sock;        /* index into g.fd */
	uint8_t state;
	uint8_t tries;        /* sends of the current request */
	uint8_t fail;         /* enum fail: the last attempt's */
	uint8_t cookie_len;
	uint16_t attempts;    /* IKE_SA_INIT restarts after failures (--retries) */
	uint16_t init_len, resp_init_len, last_len, resp_len;
	uint16_t nr_len;
	uint64_t spi_i, spi_r;
	uint32_t tx_id, rx_id;
	uint32_t cfg_addr;    /* host order */
	uint32_t child_spi;
	uint64_t t_first;     /* ns: the phase's first IKE_SA_INIT */
	uint64_t t_init;      /* ns: this attempt's first IKE_SA_INIT */
	uint64_t t_done;      /* ns: IKE_AUTH response */
	uint64_t t_next;      /* ns: retransmission or retry */
	uint8_t ni[NONCE_LEN];
	uint8_t nr[256];
	uint8_t cookie[COOKIE_MAX];
	uint8_t *init_req;    /* our IKE_SA_INIT (AUTH signs it) */
	uint8_t *resp_init;   /* the responder's (its AUTH signs it) */
	uint8_t *last;        /* the request in flight, for retransmission */
	uint8_t *resp;        /* our last response to a request of the hub's */
	struct gen_dh *dh;    /* --fresh-dh only */
	struct fh_ike_keys k;
};

struct opts {
	uint32_t count, rate, window, storm_window;
	uint32_t src_base, src_count, ports;
	uint16_t port_base, hub_port;
	uint32_t hub;
	uint16_t group;
	bool hold, del, fresh_dh, fqdn, gre, no_nat_d, no_verify;
	double hold_s, timeout_s;
	uint32_t rto_ms, tries, retries, retry_ms;
	const char *psk, *label, *out_csv;
	int pid[PIDS_MAX];    /* --hub-pid: processes whose CPU time a phase reports */
	uint32_t n_pid;
	const char *pid_file; /* --hub-pid-file: the first pid, read again at each phase (restarts) */
};

static struct {
	struct opts o;
	struct spoke *sp;
	int *fd;
	int ep;
	struct gen_dh *dh;    /* shared by all spokes unless --fresh-dh */
	uint8_t pub[600];
	int pub_len;
	struct fh_ike_sk_alg alg;
	uint8_t psk_key[32];  /* prf(PSK, "Key Pad for IKEv2") */
	/* phase */
	const char *phase;
	uint64_t t0, t_last_done;
	uint32_t next_new, outstanding, settled, up;
	uint64_t started;
	uint64_t retransmits, cookies, restarts, send_errors, rx, tx, rx_bad, rx_unknown;
	uint64_t hub_requests, hub_deletes;
	uint32_t unfinished;
	uint64_t cpu0[PIDS_MAX], self0;
	double cpu[PIDS_MAX], self_cpu;
	uint32_t fails[F_MAX];
} g;

static volatile sig_atomic_t sig_stop, sig_storm;

static void on_signal(int s)
{
	if (s == SIGUSR1)
		sig_storm = 1;
	else
		sig_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void *dup_bytes(const void *p, size_t n)
{
	void *q = malloc(n);

	if (q != NULL)
		memcpy(q, p, n);
	return q;
}

static void ip_str(uint32_t ip, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* ---- the generator's own DH ----
 * lib/ike's fh_ike_dh_shared checks every peer value in full (RFC 6989), which for MODP costs a
 * 2048-bit exponentiation, twice (EVP_PKEY_public_check, then again inside
 * EVP_PKEY_derive_set_peer): about 6 ms a spoke here, so the generator could not outrun the hub.
 * The generator trusts its hub: the same groups through OpenSSL, without the checks. */

struct gen_dh {
	uint16_t group;
	EVP_PKEY *key;
};

static struct gen_dh *gen_dh_new(uint16_t group)
{
	struct gen_dh *d = calloc(1, sizeof(*d));
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, group == 31 ? "X25519" : "DH", NULL);
	OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"modp_2048", 0),
			   OSSL_PARAM_construct_end()};

	if (d == NULL || c == NULL || EVP_PKEY_keygen_init(c) <= 0 || (group == 14 && EVP_PKEY_CTX_set_params(c, p) <= 0) ||
	    (group != 14 && group != 31) || EVP_PKEY_generate(c, &d->key) <= 0) {
		EVP_PKEY_CTX_free(c);
		free(d);
		return NULL;
	}
	EVP_PKEY_CTX_free(c);
	d->group = group;
	return d;
}

static void gen_dh_free(struct gen_dh *d)
{
	if (d != NULL) {
		EVP_PKEY_free(d->key);
		free(d);
	}
}

static int gen_dh_public(const struct gen_dh *d, uint8_t *out, size_t cap)
{
	size_t n = cap;

	if (d->group == 31)
		return EVP_PKEY_get_raw_public_key(d->key, out, &n) == 1 ? (int)n : -1;
	{
		BIGNUM *pub = NULL;
		int ok = cap >= 256 && EVP_PKEY_get_bn_param(d->key, OSSL_PKEY_PARAM_PUB_KEY, &pub) == 1 &&
			 BN_bn2binpad(pub, out, 256) == 256;

		BN_free(pub);
		return ok ? 256 : -1;
	}
}

static int gen_dh_shared(const struct gen_dh *d, const uint8_t *v, size_t len, uint8_t *out, size_t cap)
{
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *c = NULL;
	size_t n = cap;
	int rc = -1;

	if (d->group == 31) {
		peer = len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, v, len) : NULL;
	} else if (len == 256) {
		OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
		BIGNUM *bn = BN_bin2bn(v, (int)len, NULL);
		OSSL_PARAM *pa = NULL;

		if (b != NULL && bn != NULL &&
		    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "modp_2048", 0) == 1 &&
		    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, bn) == 1 && (pa = OSSL_PARAM_BLD_to_param(b)) != NULL &&
		    (c = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) != NULL && EVP_PKEY_fromdata_init(c) > 0)
			EVP_PKEY_fromdata(c, &peer, EVP_PKEY_PUBLIC_KEY, pa);
		EVP_PKEY_CTX_free(c);
		c = NULL;
		OSSL_PARAM_free(pa);
		OSSL_PARAM_BLD_free(b);
		BN_free(bn);
	}
	if (peer == NULL)
		return -1;
	c = EVP_PKEY_CTX_new(d->key, NULL);
	if (c != NULL && EVP_PKEY_derive_init(c) > 0 && (d->group == 31 || EVP_PKEY_CTX_set_dh_pad(c, 1) > 0) &&
	    EVP_PKEY_derive_set_peer_ex(c, peer, 0) > 0 && EVP_PKEY_derive(c, out, &n) > 0)
		rc = (int)n;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	return rc;
}

/* ---- sending ---- */

static int send_to_hub(struct spoke *s, const uint8_t *msg, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(g.o.hub_port), .sin_addr.s_addr = htonl(g.o.hub)};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} c;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = {.ipi_spec_dst.s_addr = htonl(s->ip)};

	memset(c.buf, 0, sizeof(c.buf));
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(g.fd[s->sock], &mh, 0) != (ssize_t)len) {
		g.send_errors++;
		return -1;
	}
	g.tx++;
	return 0;
}

/* The request in flight: kept for retransmission, first retransmission after rto. */
static void send_request(struct spoke *s, const uint8_t *msg, size_t len, uint64_t now)
{
	free(s->last);
	s->last = dup_bytes(msg, len);
	s->last_len = (uint16_t)len;
	s->tries = 1;
	s->t_next = now + (uint64_t)g.o.rto_ms * 1000000ull;
	send_to_hub(s, msg, len);
}

/* ---- the phases' bookkeeping ---- */

static bool in_neg(const struct spoke *s)
{
	return s->state == S_INIT || s->state == S_AUTH;
}

static void set_state(struct spoke *s, uint8_t st)
{
	bool was = in_neg(s), is;

	s->state = st;
	is = in_neg(s);
	if (was && !is)
		g.outstanding--;
	else if (!was && is)
		g.outstanding++;
}

static void forget(struct spoke *s)
{
	free(s->init_req);
	free(s->resp_init);
	free(s->last);
	free(s->resp);
	s->init_req = s->resp_init = s->last = s->resp = NULL;
	s->init_len = s->resp_init_len = s->last_len = s->resp_len = 0;
	gen_dh_free(s->dh);
	s->dh = NULL;
	OPENSSL_cleanse(&s->k, sizeof(s->k));
}

/* ---- IKE_SA_INIT ---- */

static void nat_hash(uint64_t spi_i, uint64_t spi_r, uint32_t ip, uint16_t port, uint8_t out[20])
{
	uint8_t b[8 + 8 + 4 + 2];
	unsigned int n = 20;

	put64(b, spi_i);
	put64(b + 8, spi_r);
	put32(b + 16, ip);
	put16(b + 20, port);
	EVP_Digest(b, sizeof(b), out, &n, EVP_sha1(), NULL);
}

static int build_init(struct spoke *s, uint8_t *buf, size_t cap)
{
	struct fh_ike_hdr h = {.spi_i = s->spi_i, .exchange = FH_IKE_SA_INIT, .flags = FH_IKE_FLAG_INITIATOR};
	struct fh_ike_xf_spec xf[] = {{XF_ENCR, FH_IKE_ENCR_AES_CBC, 256},
				      {XF_PRF, FH_IKE_PRF_SHA256, 0},
				      {XF_INTEG, FH_IKE_INTEG_SHA256_128, 0},
				      {XF_DH, g.o.group, 0}};
	struct fh_ike_builder b;
	uint8_t pub[600], nh[20];
	int pl = g.pub_len;

	if (g.o.fresh_dh) {
		pl = gen_dh_public(s->dh, pub, sizeof(pub));
		if (pl < 0)
			return -1;
	} else {
		memcpy(pub, g.pub, (size_t)pl);
	}
	fh_ike_build_init(&b, buf, cap, &h);
	if (s->cookie_len)
		fh_ike_add_notify(&b, 0, N_COOKIE, NULL, 0, s->cookie, s->cookie_len);
	fh_ike_add_sa(&b, PROTO_IKE, NULL, 0, xf, 4);
	fh_ike_add_ke(&b, g.o.group, pub, (size_t)pl);
	fh_ike_add(&b, FH_IKE_PL_NONCE, s->ni, NONCE_LEN);
	if (!g.o.no_nat_d) {
		nat_hash(s->spi_i, 0, s->ip, s->port, nh);
		fh_ike_add_notify(&b, 0, N_NAT_DETECTION_SOURCE_IP, NULL, 0, nh, 20);
		nat_hash(s->spi_i, 0, g.o.hub, g.o.hub_port, nh);
		fh_ike_add_notify(&b, 0, N_NAT_DETECTION_DESTINATION_IP, NULL, 0, nh, 20);
	}
	return b.err ? -1 : (int)b.len;
}

static void send_init(struct spoke *s, uint64_t now)
{
	uint8_t buf[MSG_MAX];
	int n = build_init(s, buf, sizeof(buf));

	if (n < 0) {
		fprintf(stderr, "ikegen: cannot build IKE_SA_INIT\n");
		exit(1);
	}
	free(s->init_req);
	s->init_req = dup_bytes(buf, (size_t)n);
	s->init_len = (uint16_t)n;
	send_request(s, buf, (size_t)n, now);
}

/* A new attempt: fresh SPI (the spoke's index in the low half, for the lookup), nonce, keys. */
static void start(struct spoke *s, uint32_t idx, uint64_t now)
{
	uint32_t r;

	forget(s);
	RAND_bytes((uint8_t *)&r, sizeof(r));
	s->spi_i = (uint64_t)(r | 1) << 32 | idx;
	s->spi_r = 0;
	s->tx_id = 0;
	s->rx_id = 0;
	s->cookie_len = 0;
	s->cfg_addr = 0;
	s->fail = F_NONE;
	RAND_bytes(s->ni, NONCE_LEN);
	if (g.o.fresh_dh && (s->dh = gen_dh_new(g.o.group)) == NULL) {
		fprintf(stderr, "ikegen: cannot make a DH key for group %u\n", g.o.group);
		exit(1);
	}
	s->t_init = now;
	if (s->t_first == 0)
		s->t_first = now;
	set_state(s, S_INIT);
	g.started++;
	send_init(s, now);
}

static void settle(struct spoke *s, uint8_t st, uint8_t why, uint64_t now)
{
	set_state(s, st);
	if (st == S_UP) {
		s->t_done = now;
		if (now > g.t_last_done)
			g.t_last_done = now;
		g.up++;
		g.settled++;
		return;
	}
	s->fail = why;
	if (s->attempts < g.o.retries) {
		/* again later, with jitter so that a crowd does not come back as one */
		uint32_t j;

		RAND_bytes((uint8_t *)&j, sizeof(j));
		s->attempts++;
		g.restarts++;
		s->state = S_WAIT;
		s->t_next = now + (uint64_t)g.o.retry_ms * 1000000ull + (uint64_t)(j % (g.o.retry_ms + 1)) * 1000000ull;
		return;
	}
	s->state = S_FAIL;
	g.fails[why]++;
	g.settled++;
}

static uint8_t fail_of_notify(uint16_t t)
{
	switch (t) {
	case N_NO_PROPOSAL_CHOSEN: return F_NO_PROPOSAL;
	case N_INVALID_KE_PAYLOAD: return F_INVALID_KE;
	case N_AUTHENTICATION_FAILED: return F_AUTH_FAILED;
	case N_INTERNAL_ADDRESS_FAILURE: return F_ADDR_FAILURE;
	case N_TS_UNACCEPTABLE: return F_TS_UNACCEPTABLE;
	case N_TEMPORARY_FAILURE: return F_TEMPORARY;
	case N_NO_ADDITIONAL_SAS: return F_NO_ADDITIONAL;
	case N_FAILED_CP_REQUIRED: return F_CP_REQUIRED;
	case N_INVALID_SYNTAX: return F_SYNTAX;
	default: return F_OTHER_NOTIFY;
	}
}

/* The first error notify (types below 16384, RFC 7296 3.10.1) of a message, 0 none. */
static uint16_t error_notify(const struct fh_ike_msg *m, const uint8_t **data, uint16_t *dlen)
{
	for (uint8_t i = 0; i < m->n; i++) {
		struct fh_ike_notify n;

		if (m->pl[i].type != FH_IKE_PL_NOTIFY || fh_ike_parse_notify(m->pl[i].body, m->pl[i].len, &n) != FH_IKE_OK)
			continue;
		if (n.type < 16384) {
			if (data) {
				*data = n.data;
				*dlen = n.data_len;
			}
			return n.type;
		}
	}
	return 0;
}

/* ---- IKE_AUTH ---- */

/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID')), RFC 7296 2.15. */
static int psk_auth(const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *sk_p,
		    size_t prf_len, const uint8_t *id, size_t id_len, uint8_t *out)
{
	uint8_t octets[MSG_MAX + 256 + 64], macid[64];

	if (msg_len + nonce_len + 32 > sizeof(octets) ||
	    fh_ike_prf(FH_IKE_PRF_SHA256, sk_p, prf_len, id, id_len, macid) < 0)
		return -1;
	memcpy(octets, msg, msg_len);
	memcpy(octets + msg_len, nonce, nonce_len);
	memcpy(octets + msg_len + nonce_len, macid, 32);
	return fh_ike_prf(FH_IKE_PRF_SHA256, g.psk_key, 32, octets, msg_len + nonce_len + 32, out) < 0 ? -1 : 32;
}

static size_t my_id(const struct spoke *s, uint32_t idx, uint8_t *id)
{
	memset(id, 0, 4);
	if (g.o.fqdn) {
		int n = snprintf((char *)id + 4, 60, "spoke%u.example", idx + 1);

		id[0] = ID_FQDN;
		return 4 + (size_t)n;
	}
	id[0] = ID_IPV4;
	put32(id + 4, s->ip);
	return 8;
}

/* A TS payload body with one IPv4 range selector. */
static void add_ts(struct fh_ike_builder *b, uint8_t type, uint8_t proto, uint32_t lo, uint32_t hi)
{
	uint8_t t[4 + 16] = {1, 0, 0, 0, 7, proto, 0, 16, 0, 0, 0xff, 0xff};

	put32(t + 12, lo);
	put32(t + 16, hi);
	fh_ike_add(b, type, t, sizeof(t));
}

/* Seal an inner chain (built with a dummy header, fh_ike_build) into buf. */
static int seal(const struct spoke *s, uint8_t exch, uint8_t flags, uint32_t msg_id, const struct fh_ike_builder *in,
		uint8_t *buf, size_t cap)
{
	struct fh_ike_hdr h = {.spi_i = s->spi_i, .spi_r = s->spi_r, .exchange = exch, .msg_id = msg_id,
			       .flags = (uint8_t)(flags | FH_IKE_FLAG_INITIATOR)};
	struct fh_ike_builder b;

	if (in->err)
		return -1;
	fh_ike_build_init(&b, buf, cap, &h);
	if (fh_ike_sk_seal(&b, &g.alg, s->k.sk_ei, s->k.sk_ai, in->buf[16], in->buf + FH_IKE_HDR_LEN,
			   in->len - FH_IKE_HDR_LEN) < 0 ||
	    b.err)
		return -1;
	return (int)b.len;
}

static void send_auth(struct spoke *s, uint32_t idx, uint64_t now)
{
	uint8_t inner[MSG_MAX], buf[MSG_MAX], id[64], auth[4 + 64], spi[4];
	struct fh_ike_builder b;
	struct fh_ike_hdr h0 = {0};
	struct fh_ike_xf_spec xf[] = {{XF_ENCR, FH_IKE_ENCR_AES_CBC, 256}, {XF_INTEG, ESP_INTEG_SHA1_96, 0}, {XF_ESN, 0, 0}};
	struct fh_ike_cfg cfg;
	size_t idl = my_id(s, idx, id);
	int al, n;

	al = psk_auth(s->init_req, s->init_len, s->nr, s->nr_len, s->k.sk_pi, s->k.prf_len, id, idl, auth + 4);
	if (al < 0) {
		settle(s, S_FAIL, F_BAD_RESPONSE, now);
		return;
	}
	auth[0] = AUTH_PSK;
	auth[1] = auth[2] = auth[3] = 0;
	RAND_bytes(spi, sizeof(spi));
	s->child_spi = get32(spi);
	fh_ike_build_init(&b, inner, sizeof(inner), &h0);
	fh_ike_add(&b, FH_IKE_PL_IDI, id, idl);
	fh_ike_add(&b, FH_IKE_PL_AUTH, auth, 4 + (size_t)al);
	fh_ike_cfg_init(&cfg, FH_IKE_CFG_REQUEST);
	cfg.want_ip4_addr = true;
	fh_ike_add_cp(&b, &cfg);
	fh_ike_add_sa(&b, PROTO_ESP, spi, 4, xf, 3);
	if (g.o.gre) {
		add_ts(&b, FH_IKE_PL_TSI, 47, s->ip, s->ip);
		add_ts(&b, FH_IKE_PL_TSR, 47, g.o.hub, g.o.hub);
	} else {
		add_ts(&b, FH_IKE_PL_TSI, 0, 0, 0xffffffff);
		add_ts(&b, FH_IKE_PL_TSR, 0, 0, 0xffffffff);
	}
	s->tx_id = 1;
	n = seal(s, FH_IKE_AUTH, 0, 1, &b, buf, sizeof(buf));
	if (n < 0) {
		settle(s, S_FAIL, F_BAD_RESPONSE, now);
		return;
	}
	set_state(s, S_AUTH);
	send_request(s, buf, (size_t)n, now);
}

static void on_init_resp(struct spoke *s, uint32_t idx, const uint8_t *buf, size_t len, const struct fh_ike_msg *m,
			 uint64_t now)
{
	const struct fh_ike_payload *sap = fh_ike_find(m, FH_IKE_PL_SA), *kep = fh_ike_find(m, FH_IKE_PL_KE),
				    *np = fh_ike_find(m, FH_IKE_PL_NONCE);
	struct fh_ike_sa *sa;
	struct fh_ike_ke ke;
	uint8_t gir[600];
	const uint8_t *d = NULL;
	uint16_t dl = 0, err;
	int gl;
	bool ok;

	/* a cookie first (RFC 7296 2.6): the same request again, the cookie in front */
	if (m->n > 0 && m->pl[0].type == FH_IKE_PL_NOTIFY) {
		struct fh_ike_notify nt;

		if (fh_ike_parse_notify(m->pl[0].body, m->pl[0].len, &nt) == FH_IKE_OK && nt.type == N_COOKIE) {
			if (nt.data_len == 0 || nt.data_len > COOKIE_MAX) {
				settle(s, S_FAIL, F_BAD_RESPONSE, now);
				return;
			}
			memcpy(s->cookie, nt.data, nt.data_len);
			s->cookie_len = (uint8_t)nt.data_len;
			g.cookies++;
			send_init(s, now);
			return;
		}
	}
	err = error_notify(m, &d, &dl);
	if (err != 0) {
		settle(s, S_FAIL, fail_of_notify(err), now);
		return;
	}
	if (sap == NULL || kep == NULL || np == NULL || fh_ike_check_nonce(np->len) != 0 || np->len > sizeof(s->nr) ||
	    fh_ike_parse_ke(kep->body, kep->len, &ke) != FH_IKE_OK || ke.group != g.o.group || m->hdr.spi_r == 0) {
		settle(s, S_FAIL, F_BAD_RESPONSE, now);
		return;
	}
	sa = malloc(sizeof(*sa));
	ok = sa != NULL && fh_ike_parse_sa(sap->body, sap->len, sa) == FH_IKE_OK && sa->n == 1 &&
	     sa->p[0].protocol == PROTO_IKE;
	free(sa);
	if (!ok) {
		settle(s, S_FAIL, F_BAD_RESPONSE, now);
		return;
	}
	gl = gen_dh_shared(g.o.fresh_dh ? s->dh : g.dh, ke.data, ke.len, gir, sizeof(gir));
	s->spi_r = m->hdr.spi_r;
	memcpy(s->nr, np->body, np->len);
	s->nr_len = np->len;
	if (gl < 0 || fh_ike_derive(FH_IKE_PRF_SHA256, s->ni, NONCE_LEN, s->nr, s->nr_len, gir, (size_t)gl, s->spi_i,
				    s->spi_r, fh_ike_sk_integ_key_len(&g.alg), fh_ike_sk_encr_key_len(&g.alg),
				    &s->k) < 0) {
		OPENSSL_cleanse(gir, sizeof(gir));
		settle(s, S_FAIL, F_BAD_RESPONSE, now);
		return;
	}
	OPENSSL_cleanse(gir, sizeof(gir));
	if (!g.o.no_verify) {
		free(s->resp_init);
		s->resp_init = dup_bytes(buf, len);
		s->resp_init_len = (uint16_t)len;
	}
	gen_dh_free(s->dh);
	s->dh = NULL;
	send_auth(s, idx, now);
}

/* Open a protected message; its inner chain into im (pointing into inner). */
static bool open_sk(const struct spoke *s, const uint8_t *buf, size_t len, const struct fh_ike_msg *m, uint8_t *inner,
		    size_t cap, struct fh_ike_msg *im)
{
	const struct fh_ike_payload *sk = fh_ike_find(m, FH_IKE_PL_SK);
	int n;

	if (sk == NULL)
		return false;
	n = fh_ike_sk_open(buf, len, sk->body, sk->len, &g.alg, s->k.sk_er, s->k.sk_ar,
			   inner, cap);
	if (n < 0)
		return false;
	return fh_ike_parse_chain(inner, (size_t)n, sk->body[-FH_IKE_GEN_HDR_LEN], im) == FH_IKE_OK;
}

static void send_delete(struct spoke *s, uint64_t now);

static void on_auth_resp(struct spoke *s, uint32_t idx, const uint8_t *buf, size_t len, const struct fh_ike_msg *m,
			 uint64_t now)
{
	uint8_t inner[MSG_MAX];
	struct fh_ike_msg im;
	const struct fh_ike_payload *idp, *ap, *cpp, *sap;
	uint16_t err;

	(void)idx;
	if (!open_sk(s, buf, len, m, inner, sizeof(inner), &im)) {
		g.rx_bad++;
		return; /* not from the hub, or damaged: the retransmission timer goes on */
	}
	free(s->last);
	s->last = NULL;
	err = error_notify(&im, NULL, NULL);
	if (err == N_AUTHENTICATION_FAILED) {
		settle(s, S_FAIL, F_AUTH_FAILED, now);
		return;
	}
	idp = fh_ike_find(&im, FH_IKE_PL_IDR);
	ap = fh_ike_find(&im, FH_IKE_PL_AUTH);
	if (idp == NULL || ap == NULL || ap->len < 4 + 32) {
		settle(s, S_FAIL, err ? fail_of_notify(err) : F_BAD_RESPONSE, now);
		return;
	}
	if (!g.o.no_verify) {
		uint8_t want[64];

		if (s->resp_init == NULL ||
		    psk_auth(s->resp_init, s->resp_init_len, s->ni, NONCE_LEN, s->k.sk_pr, s->k.prf_len, idp->body, idp->len,
			     want) != 32 ||
		    ap->body[0] != AUTH_PSK || CRYPTO_memcmp(want, ap->body + 4, 32) != 0) {
			settle(s, S_FAIL, F_AUTH_MISMATCH, now);
			return;
		}
	}
	if (err != 0) {
		/* the IKE SA is up but its child or address was refused (RFC 7296 1.2): delete it */
		uint8_t why = fail_of_notify(err);

		send_delete(s, now);
		settle(s, S_FAIL, why, now);
		return;
	}
	cpp = fh_ike_find(&im, FH_IKE_PL_CP);
	sap = fh_ike_find(&im, FH_IKE_PL_SA);
	if (cpp != NULL) {
		struct fh_ike_cfg *c = malloc(sizeof(*c));

		if (c != NULL && fh_ike_parse_cp(cpp->body, cpp->len, c) == FH_IKE_OK && c->type == FH_IKE_CFG_REPLY &&
		    c->has_ip4_addr)
			s->cfg_addr = c->ip4_addr;
		free(c);
	}
	if (s->cfg_addr == 0) {
		send_delete(s, now);
		settle(s, S_FAIL, F_NO_ADDRESS, now);
		return;
	}
	if (sap == NULL || fh_ike_find(&im, FH_IKE_PL_TSI) == NULL || fh_ike_find(&im, FH_IKE_PL_TSR) == NULL) {
		send_delete(s, now);
		settle(s, S_FAIL, F_NO_CHILD, now);
		return;
	}
	free(s->init_req);
	free(s->resp_init);
	s->init_req = s->resp_init = NULL;
	s->tx_id = 2;
	settle(s, S_UP, F_NONE, now);
}

/* ---- after IKE_AUTH: the hub's requests (DPD, Delete, rekeys), our Delete ---- */

static void send_delete(struct spoke *s, uint64_t now)
{
	uint8_t inner[64], buf[MSG_MAX];
	uint8_t d[4] = {PROTO_IKE, 0, 0, 0};
	struct fh_ike_builder b;
	struct fh_ike_hdr h0 = {0};
	int n;

	fh_ike_build_init(&b, inner, sizeof(inner), &h0);
	fh_ike_add(&b, FH_IKE_PL_DELETE, d, sizeof(d));
	n = seal(s, FH_IKE_INFORMATIONAL, 0, s->tx_id, &b, buf, sizeof(buf));
	if (n > 0)
		send_request(s, buf, (size_t)n, now);
}

static void respond(struct spoke *s, uint8_t exch, uint32_t msg_id, uint16_t notify)
{
	uint8_t inner[64], buf[MSG_MAX];
	struct fh_ike_builder b;
	struct fh_ike_hdr h0 = {0};
	int n;

	fh_ike_build_init(&b, inner, sizeof(inner), &h0);
	if (notify)
		fh_ike_add_notify(&b, 0, notify, NULL, 0, NULL, 0);
	n = seal(s, exch, FH_IKE_FLAG_RESPONSE, msg_id, &b, buf, sizeof(buf));
	if (n < 0)
		return;
	free(s->resp);
	s->resp = dup_bytes(buf, (size_t)n);
	s->resp_len = (uint16_t)n;
	send_to_hub(s, buf, (size_t)n);
}

static void on_hub_request(struct spoke *s, const uint8_t *buf, size_t len, const struct fh_ike_msg *m, uint64_t now)
{
	uint8_t inner[MSG_MAX];
	struct fh_ike_msg im;
	bool del = false;

	if (m->hdr.msg_id + 1 == s->rx_id && s->resp != NULL) {
		send_to_hub(s, s->resp, s->resp_len); /* it missed our answer */
		return;
	}
	if (m->hdr.msg_id != s->rx_id || !open_sk(s, buf, len, m, inner, sizeof(inner), &im)) {
		g.rx_bad++;
		return;
	}
	g.hub_requests++;
	s->rx_id++;
	if (m->hdr.exchange != FH_IKE_INFORMATIONAL) {
		respond(s, m->hdr.exchange, m->hdr.msg_id, N_NO_ADDITIONAL_SAS);
		return;
	}
	for (uint8_t i = 0; i < im.n; i++)
		if (im.pl[i].type == FH_IKE_PL_DELETE && im.pl[i].len >= 1 && im.pl[i].body[0] == PROTO_IKE)
			del = true;
	respond(s, FH_IKE_INFORMATIONAL, m->hdr.msg_id, 0);
	if (del && s->state == S_UP) {
		g.hub_deletes++;
		g.up--;
		s->state = S_FAIL;
		s->fail = F_DELETED;
		(void)now;
	}
}

static void on_response(struct spoke *s, uint32_t idx, const uint8_t *buf, size_t len, const struct fh_ike_msg *m,
			uint64_t now)
{
	if (m->hdr.exchange == FH_IKE_SA_INIT && s->state == S_INIT && m->hdr.msg_id == 0) {
		on_init_resp(s, idx, buf, len, m, now);
	} else if (m->hdr.exchange == FH_IKE_AUTH && s->state == S_AUTH && m->hdr.msg_id == 1 && m->hdr.spi_r == s->spi_r) {
		on_auth_resp(s, idx, buf, len, m, now);
	} else if (m->hdr.exchange == FH_IKE_INFORMATIONAL && s->state == S_DEL && m->hdr.msg_id == s->tx_id) {
		uint8_t inner[MSG_MAX];
		struct fh_ike_msg im;

		if (open_sk(s, buf, len, m, inner, sizeof(inner), &im)) {
			free(s->last);
			s->last = NULL;
			s->state = S_GONE;
			g.settled++;
		}
	} else {
		g.rx_unknown++;
	}
}

static void on_datagram(const uint8_t *buf, size_t len, uint32_t dst, uint16_t dport, uint64_t now)
{
	struct fh_ike_msg m;
	uint32_t a, p, idx;
	struct spoke *s;

	g.rx++;
	if (len >= 4 && get32(buf) == 0) {
		buf += 4; /* the non-ESP marker of port 4500 */
		len -= 4;
	}
	a = dst - g.o.src_base;
	p = (uint32_t)(dport - g.o.port_base);
	if (a >= g.o.src_count || p >= g.o.ports || fh_ike_parse(buf, len, &m) != FH_IKE_OK) {
		g.rx_bad++;
		return;
	}
	idx = p * g.o.src_count + a;
	if (idx >= g.o.count || (uint32_t)m.hdr.spi_i != idx) {
		g.rx_unknown++;
		return;
	}
	s = &g.sp[idx];
	if (m.hdr.spi_i != s->spi_i) {
		g.rx_unknown++;
		return;
	}
	if (m.hdr.flags & FH_IKE_FLAG_RESPONSE)
		on_response(s, idx, buf, len, &m, now);
	else if (s->state == S_UP || s->state == S_DEL)
		on_hub_request(s, buf, len, &m, now);
	else
		g.rx_unknown++;
}

/* ---- timers and launching ---- */

static void timers(uint64_t now)
{
	for (uint32_t i = 0; i < g.o.count; i++) {
		struct spoke *s = &g.sp[i];

		if (s->t_next == 0 || now < s->t_next)
			continue;
		if (s->state == S_WAIT) {
			if (g.outstanding < g.o.window)
				start(s, i, now);
			else
				s->t_next = now + 10000000ull;
			continue;
		}
		if ((!in_neg(s) && s->state != S_DEL) || s->last == NULL) {
			s->t_next = 0;
			continue;
		}
		if (s->tries >= g.o.tries) {
			s->t_next = 0;
			if (s->state == S_DEL) {
				s->state = S_GONE; /* no answer: counted apart */
				g.settled++;
				continue;
			}
			settle(s, S_FAIL, s->state == S_INIT ? F_TIMEOUT_INIT : F_TIMEOUT_AUTH, now);
			continue;
		}
		s->tries++;
		g.retransmits++;
		s->t_next = now + ((uint64_t)g.o.rto_ms << (s->tries - 1)) * 1000000ull;
		send_to_hub(s, s->last, s->last_len);
	}
}

static void launch(uint64_t now)
{
	uint64_t allowed = g.o.count;

	if (g.o.rate) {
		allowed = (uint64_t)((double)(now - g.t0) * 1e-9 * g.o.rate) + 1;
		if (allowed > g.o.count)
			allowed = g.o.count;
	}
	while (g.next_new < allowed && g.outstanding < g.o.window) {
		start(&g.sp[g.next_new], g.next_new, now);
		g.next_new++;
	}
}

static void drain(int fd, uint64_t now)
{
	for (int k = 0; k < RX_BATCH; k++) {
		uint8_t buf[MSG_MAX];
		struct sockaddr_in from;
		union {
			char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} c;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = c.b, .msg_controllen = sizeof(c.b)};
		struct sockaddr_in self;
		socklen_t sl = sizeof(self);
		ssize_t n = recvmsg(fd, &mh, 0);
		uint32_t dst = 0;

		if (n < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				dst = ntohl(pi.ipi_addr.s_addr);
			}
		if (ntohl(from.sin_addr.s_addr) != g.o.hub)
			continue;
		getsockname(fd, (struct sockaddr *)&self, &sl);
		on_datagram(buf, (size_t)n, dst, ntohs(self.sin_port), now);
	}
}

/* ---- reports ---- */

/* CPU time of every thread of a process, ns (schedstat: time on a CPU), 0 if it is gone. */
static uint64_t proc_cpu_ns(int pid)
{
	char path[300];
	uint64_t sum = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		unsigned long long run;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/schedstat", pid, e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			sum += run;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)ceil(p / 100.0 * (double)n);
	if (i > 0)
		i--;
	return (double)v[i < n ? i : n - 1] / 1e6;
}

static void report(uint64_t now)
{
	uint64_t *lat = malloc(sizeof(uint64_t) * (g.o.count + 1));
	size_t n = 0;
	double secs = (double)((g.t_last_done > g.t0 ? g.t_last_done : now) - g.t0) * 1e-9;
	double rate;
	char hub[16];
	bool first = true;

	for (uint32_t i = 0; i < g.o.count; i++)
		if (g.sp[i].state == S_UP && g.sp[i].t_done >= g.t0)
			lat[n++] = g.sp[i].t_done - g.sp[i].t_first;
	qsort(lat, n, sizeof(lat[0]), cmp_u64);
	rate = secs > 0 ? (double)n / secs : 0;
	ip_str(g.o.hub, hub, sizeof(hub));
	printf("ikegen %s %s: %u spokes, group %u, %s %u: %zu established, %u failed in %.3f s = %.0f established/s\n",
	       g.phase, g.o.label, g.o.count, g.o.group, g.o.rate ? "rate" : "window", g.o.rate ? g.o.rate : g.o.window, n,
	       g.o.count - (uint32_t)n, secs, rate);
	printf("  latency (first IKE_SA_INIT sent to IKE_AUTH response) ms: p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
	       pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99), n ? (double)lat[n - 1] / 1e6 : 0);
	printf("  retransmits %" PRIu64 ", cookies %" PRIu64 ", restarts %" PRIu64 ", send errors %" PRIu64
	       ", datagrams tx %" PRIu64 " rx %" PRIu64 " (bad %" PRIu64 ", unmatched %" PRIu64 ")\n",
	       g.retransmits, g.cookies, g.restarts, g.send_errors, g.tx, g.rx, g.rx_bad, g.rx_unknown);
	for (uint32_t p = 0; p < g.o.n_pid; p++) {
		double c = (double)(proc_cpu_ns(g.o.pid[p]) - g.cpu0[p]) * 1e-9;

		printf("  pid %d used %.3f s of CPU in the phase: %.1f us per established IKE SA (%.0f/s per core)\n",
		       g.o.pid[p], c, n ? c * 1e6 / (double)n : 0, c > 0 ? (double)n / c : 0);
		g.cpu[p] = c;
	}
	g.self_cpu = (double)(self_cpu_ns() - g.self0) * 1e-9;
	printf("  ikegen itself: %.3f s of CPU (%.1f us per IKE SA)\n", g.self_cpu, n ? g.self_cpu * 1e6 / (double)n : 0);
	printf("  failures:");
	for (int f = 1; f < F_MAX; f++)
		if (g.fails[f])
			printf(" %s %u", fail_name[f], g.fails[f]);
	{
		uint32_t open = 0;

		for (uint32_t i = 0; i < g.o.count; i++)
			open += g.sp[i].state != S_UP && g.sp[i].state != S_FAIL && g.sp[i].state != S_GONE;
		if (open)
			printf(" unfinished %u", open);
		g.unfinished = open;
	}
	printf(n == g.o.count ? " none\n" : "\n");
	printf("{\"tool\":\"ikegen\",\"phase\":\"%s\",\"label\":\"%s\",\"hub\":\"%s\",\"count\":%u,\"group\":%u,"
	       "\"rate_target\":%u,\"window\":%u,\"ts\":\"%s\",\"established\":%zu,\"failed\":%u,\"seconds\":%.4f,"
	       "\"established_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
	       "\"retransmits\":%" PRIu64 ",\"cookies\":%" PRIu64 ",\"restarts\":%" PRIu64 ",\"send_errors\":%" PRIu64
	       ",\"failures\":{",
	       g.phase, g.o.label, hub, g.o.count, g.o.group, g.o.rate, g.o.window, g.o.gre ? "gre" : "any", n,
	       g.o.count - (uint32_t)n, secs, rate, pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99),
	       n ? (double)lat[n - 1] / 1e6 : 0, g.retransmits, g.cookies, g.restarts, g.send_errors);
	for (int f = 1; f < F_MAX; f++)
		if (g.fails[f]) {
			printf("%s\"%s\":%u", first ? "" : ",", fail_name[f], g.fails[f]);
			first = false;
		}
	if (g.unfinished)
		printf("%s\"unfinished\":%u", first ? "" : ",", g.unfinished);
	printf("},\"tool_cpu_s\":%.4f,\"hub_cpu\":[", g.self_cpu);
	for (uint32_t p = 0; p < g.o.n_pid; p++)
		printf("%s{\"pid\":%d,\"cpu_s\":%.4f,\"us_per_sa\":%.1f,\"sa_per_cpu_s\":%.0f}", p ? "," : "", g.o.pid[p],
		       g.cpu[p], n ? g.cpu[p] * 1e6 / (double)n : 0, g.cpu[p] > 0 ? (double)n / g.cpu[p] : 0);
	printf("]}\n");
	fflush(stdout);
	if (g.o.out_csv != NULL) {
		FILE *f = fopen(g.o.out_csv, "w");

		if (f != NULL) {
			fprintf(f, "spoke,source,state,attempts,init_sent_ms,auth_done_ms,latency_ms,failure,address\n");
			for (uint32_t i = 0; i < g.o.count; i++) {
				const struct spoke *s = &g.sp[i];
				char a[16], c[16];

				ip_str(s->ip, a, sizeof(a));
				ip_str(s->cfg_addr, c, sizeof(c));
				fprintf(f, "%u,%s:%u,%s,%u,%.3f,%.3f,%.3f,%s,%s\n", i + 1, a, s->port,
					s->state == S_UP ? "up" : "down", s->attempts,
					s->t_first ? (double)(s->t_first - g.t0) / 1e6 : -1.0,
					s->t_done >= g.t0 && s->state == S_UP ? (double)(s->t_done - g.t0) / 1e6 : -1.0,
					s->state == S_UP ? (double)(s->t_done - s->t_first) / 1e6 : -1.0,
					fail_name[s->state == S_UP ? F_NONE : s->fail], s->cfg_addr ? c : "");
			}
			fclose(f);
		}
	}
	free(lat);
}

static void phase_begin(const char *name, uint32_t window, uint64_t now)
{
	g.phase = name;
	g.o.window = window;
	g.t0 = now;
	g.t_last_done = 0;
	g.next_new = 0;
	g.settled = 0;
	g.up = 0;
	g.retransmits = g.cookies = g.restarts = g.send_errors = g.tx = g.rx = g.rx_bad = g.rx_unknown = 0;
	memset(g.fails, 0, sizeof(g.fails));
	if (g.o.pid_file != NULL) {
		FILE *f = fopen(g.o.pid_file, "r");
		int pid;

		if (f != NULL && fscanf(f, "%d", &pid) == 1) {
			g.o.pid[0] = pid;
			if (g.o.n_pid == 0)
				g.o.n_pid = 1;
		}
		if (f != NULL)
			fclose(f);
	}
	for (uint32_t p = 0; p < g.o.n_pid; p++)
		g.cpu0[p] = proc_cpu_ns(g.o.pid[p]);
	g.self0 = self_cpu_ns();
	for (uint32_t i = 0; i < g.o.count; i++) {
		struct spoke *s = &g.sp[i];

		set_state(s, S_IDLE);
		forget(s);
		s->t_first = s->t_init = s->t_done = s->t_next = 0;
		s->attempts = 0;
		s->fail = F_NONE;
	}
}

/* Run the event loop until every spoke settled (or the deadline, or a signal). */
static void run_until_settled(double timeout_s)
{
	struct epoll_event ev[16];
	uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9), next_scan = 0;

	for (;;) {
		uint64_t now = now_ns();
		int n, wait_ms = 10;

		launch(now);
		if (now >= next_scan) {
			timers(now);
			next_scan = now + 5000000ull;
		}
		if (g.settled >= g.o.count || now >= deadline || sig_stop)
			break;
		if (g.o.rate && g.next_new < g.o.count)
			wait_ms = 1;
		n = epoll_wait(g.ep, ev, 16, wait_ms);
		now = now_ns();
		for (int i = 0; i < n; i++)
			drain(g.fd[ev[i].data.u32], now);
	}
}

/* Keep the SAs up: answer the hub (DPD, Delete) until the time is up or a signal comes. */
static void hold(double secs)
{
	struct epoll_event ev[16];
	uint64_t end = secs > 0 ? now_ns() + (uint64_t)(secs * 1e9) : UINT64_MAX;

	while (!sig_stop && !sig_storm && now_ns() < end) {
		int n = epoll_wait(g.ep, ev, 16, 50);
		uint64_t now = now_ns();

		for (int i = 0; i < n; i++)
			drain(g.fd[ev[i].data.u32], now);
	}
}

static void delete_all(void)
{
	uint64_t now = now_ns();
	uint32_t sent = 0, done = 0;

	g.settled = 0;
	for (uint32_t i = 0; i < g.o.count; i++) {
		struct spoke *s = &g.sp[i];

		if (s->state == S_UP) {
			s->state = S_DEL;
			send_delete(s, now);
			sent++;
		} else {
			g.settled++;
		}
		if ((i & 255) == 255) { /* let answers in as we go */
			struct epoll_event ev[16];
			int n = epoll_wait(g.ep, ev, 16, 0);

			for (int j = 0; j < n; j++)
				drain(g.fd[ev[j].data.u32], now_ns());
			now = now_ns();
		}
	}
	g.o.window = UINT32_MAX;
	g.next_new = g.o.count;
	sig_stop = 0;
	run_until_settled(20);
	for (uint32_t i = 0; i < g.o.count; i++)
		done += g.sp[i].state == S_GONE && g.sp[i].last == NULL;
	printf("ikegen delete %s: Delete sent for %u IKE SAs, %u answered\n", g.o.label, sent, done);
	printf("{\"tool\":\"ikegen\",\"phase\":\"delete\",\"label\":\"%s\",\"sent\":%u,\"answered\":%u}\n", g.o.label, sent,
	       done);
	fflush(stdout);
}

/* ---- --crypto-costs: what each lib/ike step a responder runs per IKE SA costs on this core ---- */

static double per_op_us(uint64_t t0, uint32_t n)
{
	return (double)(now_ns() - t0) / 1e3 / n;
}

static int crypto_costs(uint16_t group, uint32_t n)
{
	struct fh_ike_dh *peer = fh_ike_dh_new(group), *d;
	uint8_t pub[600], pp[600], gir[600], msg[600], out[64], ni[32], nr[32], inner[400], buf[MSG_MAX], plain[MSG_MAX];
	struct fh_ike_keys k;
	struct fh_ike_sk_alg alg = {.encr = FH_IKE_ENCR_AES_CBC, .key_len = 32, .integ = FH_IKE_INTEG_SHA256_128};
	struct fh_ike_hdr h = {.spi_i = 1, .spi_r = 2, .exchange = FH_IKE_AUTH};
	double t_new, t_pub, t_shared, t_nocheck, t_derive, t_auth, t_seal, t_open;
	int pl = peer ? fh_ike_dh_public(peer, pp, sizeof(pp)) : -1, gl = 0, sl = 0;
	uint64_t t;

	if (pl < 0)
		return 1;
	RAND_bytes(ni, sizeof(ni));
	RAND_bytes(nr, sizeof(nr));
	RAND_bytes(msg, sizeof(msg));
	memset(inner, 0, sizeof(inner));
	t = now_ns();
	for (uint32_t i = 0; i < n; i++)
		fh_ike_dh_free(fh_ike_dh_new(group));
	t_new = per_op_us(t, n);
	d = fh_ike_dh_new(group);
	t = now_ns();
	for (uint32_t i = 0; i < n; i++)
		fh_ike_dh_public(d, pub, sizeof(pub));
	t_pub = per_op_us(t, n);
	t = now_ns();
	for (uint32_t i = 0; i < n; i++)
		gl = fh_ike_dh_shared(d, pp, (size_t)pl, gir, sizeof(gir));
	t_shared = per_op_us(t, n);
	{
		/* the same secret without the peer-value checks (what they cost) */
		struct gen_dh *gd = gen_dh_new(group);
		uint8_t tmp[600];

		t = now_ns();
		for (uint32_t i = 0; i < n && gd != NULL; i++)
			gen_dh_shared(gd, pp, (size_t)pl, tmp, sizeof(tmp));
		t_nocheck = per_op_us(t, n);
		gen_dh_free(gd);
	}
	t = now_ns();
	for (uint32_t i = 0; i < n; i++)
		fh_ike_derive(FH_IKE_PRF_SHA256, ni, 32, nr, 32, gir, (size_t)gl, 1, 2, 32, 32, &k);
	t_derive = per_op_us(t, n);
	/* a responder computes two AUTH values (check the peer's, make its own): three prf each */
	t = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		uint8_t key[32];

		fh_ike_prf(FH_IKE_PRF_SHA256, (const uint8_t *)"cisco123", 8, (const uint8_t *)KEY_PAD, strlen(KEY_PAD), key);
		fh_ike_prf(FH_IKE_PRF_SHA256, k.sk_pi, 32, msg, 8, out);
		fh_ike_prf(FH_IKE_PRF_SHA256, key, 32, msg, 400, out);
	}
	t_auth = per_op_us(t, n);
	t = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		struct fh_ike_builder b;

		fh_ike_build_init(&b, buf, sizeof(buf), &h);
		fh_ike_sk_seal(&b, &alg, k.sk_ei, k.sk_ai, FH_IKE_PL_IDI, inner, 300);
		sl = (int)b.len;
	}
	t_seal = per_op_us(t, n);
	{
		struct fh_ike_msg m;
		const struct fh_ike_payload *sk;

		fh_ike_parse(buf, (size_t)sl, &m);
		sk = fh_ike_find(&m, FH_IKE_PL_SK);
		t = now_ns();
		for (uint32_t i = 0; i < n && sk != NULL; i++)
			fh_ike_sk_open(buf, (size_t)sl, sk->body, sk->len, &alg, k.sk_ei, k.sk_ai, plain, sizeof(plain));
		t_open = per_op_us(t, n);
	}
	printf("lib/ike per operation on this core, group %u (%u each), microseconds:\n"
	       "  fh_ike_dh_new %.1f, fh_ike_dh_public %.1f, fh_ike_dh_shared (with the peer-value checks) %.1f,\n"
	       "  the same secret without the checks (EVP_PKEY_derive_set_peer_ex(.., 0)) %.1f,\n"
	       "  fh_ike_derive (SKEYSEED + 7 keys) %.1f, one PSK AUTH (3 prf) %.1f, SK seal 300 B %.1f, SK open %.1f\n"
	       "  a responder's IKE SA: new + public + shared + derive + 2 AUTH + open + seal = %.1f us -> at most %.0f/s\n",
	       group, n, t_new, t_pub, t_shared, t_nocheck, t_derive, t_auth, t_seal, t_open,
	       t_new + t_pub + t_shared + t_derive + 2 * t_auth + t_seal + t_open,
	       1e6 / (t_new + t_pub + t_shared + t_derive + 2 * t_auth + t_seal + t_open));
	printf("{\"tool\":\"ikegen\",\"phase\":\"crypto-costs\",\"group\":%u,\"n\":%u,\"us\":{\"dh_new\":%.2f,"
	       "\"dh_public\":%.2f,\"dh_shared\":%.2f,\"dh_shared_unchecked\":%.2f,\"derive\":%.2f,\"psk_auth\":%.2f,\"sk_seal\":%.2f,\"sk_open\":%.2f}}\n",
	       group, n, t_new, t_pub, t_shared, t_nocheck, t_derive, t_auth, t_seal, t_open);
	fh_ike_dh_free(d);
	fh_ike_dh_free(peer);
	return 0;
}

/* ---- setup ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ikegen --hub A.B.C.D [options]\n"
		"       ikegen --crypto-costs [GROUP [N]]   time lib/ike's per-SA crypto steps on this core\n"
		"  --count N          spokes (1000)\n"
		"  --rate R           start R spokes per second (default: as fast as the window allows)\n"
		"  --window W         at most W negotiations outstanding (64; with --rate too)\n"
		"  --src-base A.B.C.D first source address (must be local); spoke i uses base + i %% K\n"
		"  --src-count K      source addresses (1)\n"
		"  --port-base P      first source port (500); spoke i uses P + i / K\n"
		"  --hub-port P       the hub's port (500)\n"
		"  --group 14|31      DH group (14); the IKE proposal is aes-cbc-256/sha256/sha256\n"
		"  --psk KEY          pre-shared key (cisco123)\n"
		"  --id address|fqdn  identity: the source address (default) or spokeN.example\n"
		"  --ts gre|any       child selectors: GRE between the endpoints (FlexVPN spoke, default) or\n"
		"                     0.0.0.0/0 both ways (strongSwan road warrior)\n"
		"  --fresh-dh         a new DH key per spoke (default: one for all; the hub cannot tell)\n"
		"  --no-nat-d         leave out the NAT detection notifies\n"
		"  --no-verify        do not check the responder's AUTH\n"
		"  --rto MS           first retransmission (2000), doubling; --tries N sends (4)\n"
		"  --retries N        start a failed spoke again, up to N times, after --retry-ms MS (1000) + jitter\n"
		"  --timeout S        give up on the phase after S seconds (120)\n"
		"  --hold             keep the SAs after setup, answering the hub's DPD and Delete, until\n"
		"                     SIGTERM/SIGINT (or --hold-seconds S); SIGUSR1 re-initiates every spoke at\n"
		"                     once (a storm: after a hub restart), with its own report\n"
		"  --hub-pid PID      report the CPU time PID (all its threads) used during each phase, per IKE SA\n"
		"  --hub-pid-file F   the same, the pid read from F at the start of each phase (hub restarts)\n"
		"  --storm-window W   the storm's window (all spokes)\n"
		"  --delete           send Delete for every IKE SA at the end\n"
		"  --label TEXT       name of the run in the JSON line\n"
		"  --csv FILE         per spoke: source, state, attempts, times, failure, address\n");
}

static uint32_t parse_ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "ikegen: not an IPv4 address: %s\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{"count", 1, 0, 'n'},      {"rate", 1, 0, 'r'},        {"window", 1, 0, 'w'},   {"src-base", 1, 0, 'b'},
		{"src-count", 1, 0, 'k'},  {"port-base", 1, 0, 'P'},   {"hub-port", 1, 0, 'Q'}, {"hub", 1, 0, 'h'},
		{"group", 1, 0, 'g'},      {"psk", 1, 0, 'p'},         {"id", 1, 0, 'i'},       {"ts", 1, 0, 't'},
		{"fresh-dh", 0, 0, 'F'},   {"no-nat-d", 0, 0, 'N'},    {"no-verify", 0, 0, 'V'}, {"rto", 1, 0, 'R'},
		{"tries", 1, 0, 'T'},      {"retries", 1, 0, 'x'},     {"retry-ms", 1, 0, 'y'}, {"timeout", 1, 0, 'o'},
		{"hold", 0, 0, 'H'},  {"hold-seconds", 1, 0, 'J'}, {"hub-pid", 1, 0, 'X'}, {"hub-pid-file", 1, 0, 'Y'},       {"storm-window", 1, 0, 'S'}, {"delete", 0, 0, 'D'},  {"label", 1, 0, 'l'},
		{"csv", 1, 0, 'c'},        {"help", 0, 0, '?'},        {0, 0, 0, 0}};
	struct opts *o = &g.o;
	int c;

	*o = (struct opts){.count = 1000, .window = 64, .src_count = 1, .port_base = 500, .hub_port = 500, .group = 14,
			   .gre = true, .timeout_s = 120, .rto_ms = 2000, .tries = 4, .retry_ms = 1000, .psk = "cisco123",
			   .label = ""};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o->rate = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': o->window = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o->src_base = parse_ip(optarg); break;
		case 'k': o->src_count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': o->port_base = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'Q': o->hub_port = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'h': o->hub = parse_ip(optarg); break;
		case 'g': o->group = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'p': o->psk = optarg; break;
		case 'i': o->fqdn = strcmp(optarg, "fqdn") == 0; break;
		case 't': o->gre = strcmp(optarg, "any") != 0; break;
		case 'F': o->fresh_dh = true; break;
		case 'N': o->no_nat_d = true; break;
		case 'V': o->no_verify = true; break;
		case 'R': o->rto_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': o->tries = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'x': o->retries = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'y': o->retry_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': o->timeout_s = strtod(optarg, NULL); break;
		case 'H': o->hold = true; break;
		case 'J':
			o->hold = true;
			o->hold_s = strtod(optarg, NULL);
			break;
		case 'Y': o->pid_file = optarg; break;
		case 'X':
			if (o->n_pid < PIDS_MAX)
				o->pid[o->n_pid++] = atoi(optarg);
			break;
		case 'S': o->storm_window = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'D': o->del = true; break;
		case 'l': o->label = optarg; break;
		case 'c': o->out_csv = optarg; break;
		default: usage(c == '?' ? stdout : stderr); exit(c == '?' ? 0 : 2);
		}
	}
	if (o->hub == 0 || o->count == 0 || o->src_count == 0 || o->window == 0 || o->tries == 0 ||
	    (o->group != 14 && o->group != 31) || strchr(o->label, '"') || strchr(o->label, '\\')) {
		usage(stderr);
		exit(2);
	}
	if (o->src_base == 0)
		o->src_base = 0x7f000001;
	o->ports = (o->count + o->src_count - 1) / o->src_count;
	if ((uint32_t)o->port_base + o->ports > 65536) {
		fprintf(stderr, "ikegen: %u spokes on %u addresses need %u ports from %u: too many\n", o->count,
			o->src_count, o->ports, o->port_base);
		exit(2);
	}
	if (o->storm_window == 0)
		o->storm_window = o->count;
}

static void open_sockets(void)
{
	struct rlimit rl = {.rlim_cur = g.o.ports + 64, .rlim_max = g.o.ports + 64};

	if (g.o.ports + 64 > 1024)
		setrlimit(RLIMIT_NOFILE, &rl);
	g.fd = calloc(g.o.ports, sizeof(int));
	g.ep = epoll_create1(0);
	for (uint32_t p = 0; p < g.o.ports; p++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(g.o.port_base + p))};
		int one = 1, big = 8 << 20, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = p};

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "ikegen: UDP socket on port %u: %s\n", g.o.port_base + p, strerror(errno));
			exit(1);
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev);
		g.fd[p] = fd;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (argc >= 2 && strcmp(argv[1], "--crypto-costs") == 0)
		return crypto_costs(argc >= 3 ? (uint16_t)atoi(argv[2]) : 14, argc >= 4 ? (uint32_t)atoi(argv[3]) : 1000);
	parse_opts(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	g.alg = (struct fh_ike_sk_alg){.encr = FH_IKE_ENCR_AES_CBC, .key_len = 32, .integ = FH_IKE_INTEG_SHA256_128};
	if (fh_ike_prf(FH_IKE_PRF_SHA256, (const uint8_t *)g.o.psk, strlen(g.o.psk), (const uint8_t *)KEY_PAD,
		       strlen(KEY_PAD), g.psk_key) < 0)
		return 1;
	if (!g.o.fresh_dh) {
		g.dh = gen_dh_new(g.o.group);
		g.pub_len = g.dh ? gen_dh_public(g.dh, g.pub, sizeof(g.pub)) : -1;
		if (g.pub_len < 0) {
			fprintf(stderr, "ikegen: cannot make a DH key for group %u\n", g.o.group);
			return 1;
		}
	}
	g.sp = calloc(g.o.count, sizeof(*g.sp));
	if (g.sp == NULL)
		return 1;
	for (uint32_t i = 0; i < g.o.count; i++) {
		g.sp[i].ip = g.o.src_base + i % g.o.src_count;
		g.sp[i].port = (uint16_t)(g.o.port_base + i / g.o.src_count);
		g.sp[i].sock = (uint16_t)(i / g.o.src_count);
	}
	open_sockets();

	phase_begin("setup", g.o.window, now_ns());
	run_until_settled(g.o.timeout_s);
	report(now_ns());
	while (g.o.hold && !sig_stop) {
		hold(g.o.hold_s);
		if (!sig_storm)
			break;
		sig_storm = 0;
		/* the hub came back without our SAs: everyone again, at once */
		phase_begin("storm", g.o.storm_window, now_ns());
		run_until_settled(g.o.timeout_s);
		report(now_ns());
	}
	if (g.o.del) {
		sig_stop = 0;
		delete_all();
	}
	return g.up == g.o.count ? 0 : 3;
}
