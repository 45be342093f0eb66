/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Measuring the SA tables from the inside (benchmarks and tests, never a timed test): install N
 * extra SA pairs and remove them again, timing both, or keep a steady churn of pairs going in and
 * out at a given rate while traffic flows. The pairs are real (AES-GCM-256 keys from the DRBG,
 * in the workers' SPI hash, freed after the grace period) and sit on standby behind each tunnel's
 * active pair, so they change the tables without taking traffic: what is measured is the cost of
 * the change, to the control lcore and to the workers. Their SPIs are 0xf0000000 and up, a range
 * our IKEv2 never allocates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <rte_cycles.h>

#include "flexhub.h"

#define BENCH_SPI_BASE 0xf0000000u

struct bench_state {
	fh_handle_t *tunnels;    /* tunnels with an active pair, round robin */
	uint32_t n_tunnels;
	fh_handle_t *live;       /* churn: pairs in, oldest first (a ring) */
	uint32_t cap, head, n;
	uint32_t next_spi;
	uint32_t rate;           /* churn: pairs per second in (and out) */
	uint64_t until, next_at, period; /* timer cycles */
	uint64_t added, removed, failed;
};

static struct bench_state bs;

static int collect_tunnels(struct fh_app *app)
{
	free(bs.tunnels);
	bs.tunnels = calloc(app->ifs.n + 1, sizeof(*bs.tunnels));
	bs.n_tunnels = 0;
	if (bs.tunnels == NULL)
		return -1;
	for (uint32_t i = 0; i < app->ifs.n; i++) {
		const struct fh_iface *f = &app->ifs.v[i];
		const struct fh_sadb_pair *p;

		if (!f->used || f->kind != FH_IF_TUNNEL)
			continue;
		p = fh_sadb_outbound(app->sadb, f->handle);
		if (p != NULL && p->state == FH_SADB_ACTIVE)
			bs.tunnels[bs.n_tunnels++] = f->handle;
	}
	return bs.n_tunnels > 0 ? 0 : -1;
}

static struct fh_sa *bench_sa(struct fh_app *app, uint32_t spi, uint8_t dir, const struct fh_sadb_pair *model)
{
	const struct fh_crypto_engine *eng = fh_crypto_engine_get(fh_engine_name(app->cfg->dataplane.crypto_engine));
	uint8_t key[36];
	struct fh_sa_params p = {.dir = dir, .spi = spi, .mode = FH_ESP_TUNNEL, .encr = FH_ENCR_AES_GCM_256,
				 .integ = FH_INTEG_NONE, .replay_win = 1024, .enc_key = key, .enc_key_len = sizeof(key),
				 .n_lcores = app->dp.n_workers,
				 .src = dir == FH_SA_IN ? model->dst : model->src,
				 .dst = dir == FH_SA_IN ? model->src : model->dst};
	struct fh_sa *sa;

	if (eng == NULL || RAND_bytes(key, sizeof(key)) != 1)
		return NULL;
	sa = fh_sa_create(&p, eng);
	memset(key, 0, sizeof(key));
	return sa;
}

/* One more standby pair on the next tunnel; its handle, or 0. */
static fh_handle_t add_one(struct fh_app *app)
{
	fh_handle_t tun = bs.tunnels[bs.next_spi % bs.n_tunnels];
	const struct fh_sadb_pair *model = fh_sadb_outbound(app->sadb, tun);
	uint32_t spi = BENCH_SPI_BASE + (bs.next_spi++ & 0x0fffffff);
	struct fh_app_pair *u = calloc(1, sizeof(*u));
	struct fh_sa *in, *out;
	struct fh_sadb_pair *p;

	if (model == NULL || u == NULL) {
		free(u);
		return FH_HANDLE_NONE;
	}
	in = bench_sa(app, spi, FH_SA_IN, model);
	out = bench_sa(app, spi ^ 0x08000000u, FH_SA_OUT, model);
	if (in == NULL || out == NULL) {
		fh_sa_destroy(in);
		fh_sa_destroy(out);
		free(u);
		return FH_HANDLE_NONE;
	}
	u->replay_window = 1024;
	p = fh_sa_install(app, tun, in, out, FH_SADB_IKE, FH_SADB_STANDBY, u);
	return p != NULL ? p->handle : FH_HANDLE_NONE;
}

static void del_one(struct fh_app *app, fh_handle_t h)
{
	struct fh_sadb_pair *p = fh_sadb_get(app->sadb, h);

	if (p != NULL)
		fh_sa_retire(app, p);
}

/* crypto ipsec bench install N | churn RATE SECONDS | status */
int fh_bench_cmd(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	struct fh_app *app = ctx;
	uint64_t hz = rte_get_timer_hz();

	if (argc >= 2 && strcmp(argv[0], "install") == 0) {
		uint32_t n = (uint32_t)strtoul(argv[1], NULL, 0), ok = 0;
		fh_handle_t *h;
		uint64_t t0, t1, t2;

		if (bs.rate != 0) {
			fprintf(out, "%% a churn is running\n");
			return -1;
		}
		if (n == 0 || collect_tunnels(app) < 0 || (h = calloc(n, sizeof(*h))) == NULL) {
			fprintf(out, "%% needs a count and at least one tunnel with an active SA pair\n");
			return -1;
		}
		t0 = rte_get_timer_cycles();
		for (uint32_t i = 0; i < n; i++)
			ok += (h[i] = add_one(app)) != FH_HANDLE_NONE;
		t1 = rte_get_timer_cycles();
		for (uint32_t i = 0; i < n; i++)
			if (h[i] != FH_HANDLE_NONE)
				del_one(app, h[i]);
		t2 = rte_get_timer_cycles();
		free(h);
		if (json)
			fprintf(out, "{\"installed\":%u,\"asked\":%u,\"install-us\":%lu,\"remove-us\":%lu,"
				"\"install-per-s\":%.0f,\"remove-per-s\":%.0f,\"tunnels\":%u}\n", ok, n,
				(unsigned long)((t1 - t0) * 1000000 / hz), (unsigned long)((t2 - t1) * 1000000 / hz),
				ok * (double)hz / (double)(t1 - t0 + 1), ok * (double)hz / (double)(t2 - t1 + 1), bs.n_tunnels);
		else
			fprintf(out, "installed %u of %u SA pairs over %u tunnels in %.3f ms (%.0f pairs/s), removed in %.3f ms "
				"(%.0f pairs/s)\n", ok, n, bs.n_tunnels, (t1 - t0) * 1000.0 / hz,
				ok * (double)hz / (double)(t1 - t0 + 1), (t2 - t1) * 1000.0 / hz,
				ok * (double)hz / (double)(t2 - t1 + 1));
		return ok == n ? 0 : -1;
	}
	if (argc >= 3 && strcmp(argv[0], "churn") == 0) {
		uint32_t rate = (uint32_t)strtoul(argv[1], NULL, 0), secs = (uint32_t)strtoul(argv[2], NULL, 0);

		if (rate == 0 || secs == 0 || collect_tunnels(app) < 0) {
			fprintf(out, "%% needs a rate, seconds and at least one tunnel with an active SA pair\n");
			return -1;
		}
		free(bs.live);
		bs.cap = rate;   /* a second's worth stays in: every pair lives about a second */
		bs.live = calloc(bs.cap, sizeof(*bs.live));
		if (bs.live == NULL)
			return -1;
		bs.head = bs.n = 0;
		bs.added = bs.removed = bs.failed = 0;
		bs.rate = rate;
		bs.period = hz / rate ? hz / rate : 1;
		bs.next_at = rte_get_timer_cycles();
		bs.until = bs.next_at + (uint64_t)secs * hz;
		fprintf(out, "churn of %u SA pairs/s in and out for %u s over %u tunnels\n", rate, secs, bs.n_tunnels);
		return 0;
	}
	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		if (json)
			fprintf(out, "{\"running\":%s,\"added\":%lu,\"removed\":%lu,\"failed\":%lu,\"live\":%u}\n",
				bs.rate ? "true" : "false", (unsigned long)bs.added, (unsigned long)bs.removed,
				(unsigned long)bs.failed, bs.n);
		else
			fprintf(out, "churn %s: %lu added, %lu removed, %lu failed, %u in\n", bs.rate ? "running" : "stopped",
				(unsigned long)bs.added, (unsigned long)bs.removed, (unsigned long)bs.failed, bs.n);
		return 0;
	}
	fprintf(out, "%% usage: crypto ipsec bench install N | churn RATE SECONDS | status\n");
	return -1;
}

/* Control loop: the churn's adds and removals that are due. */
void fh_bench_tick(struct fh_app *app)
{
	uint64_t now;

	if (bs.rate == 0)
		return;
	now = rte_get_timer_cycles();
	while (bs.next_at <= now) {
		fh_handle_t h;

		bs.next_at += bs.period;
		if (bs.n == bs.cap) {
			del_one(app, bs.live[bs.head]);
			bs.head = (bs.head + 1) % bs.cap;
			bs.n--;
			bs.removed++;
		}
		h = add_one(app);
		if (h == FH_HANDLE_NONE) {
			bs.failed++;
			continue;
		}
		bs.live[(bs.head + bs.n++) % bs.cap] = h;
		bs.added++;
	}
	if (now >= bs.until) {
		while (bs.n > 0) {
			del_one(app, bs.live[bs.head]);
			bs.head = (bs.head + 1) % bs.cap;
			bs.n--;
			bs.removed++;
		}
		bs.rate = 0;
	}
}

void fh_bench_free(void)
{
	free(bs.tunnels);
	free(bs.live);
	memset(&bs, 0, sizeof(bs));
}
