/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the config loader must refuse or accept any bytes without crashing or leaking, and
 * whatever it accepts must print as YAML that loads back to the same output. */
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *emit(const struct fh_config *cfg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fh_config_emit(f, cfg, FH_EMIT_YAML, FH_EMIT_SECRETS);
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fh_cfg_errs errs;
	struct fh_config *cfg, *again;
	char *a, *b;

	memset(&errs, 0, sizeof(errs));
	cfg = fh_config_load_buffer("fuzz.yaml", (const char *)data, size, &errs);
	if (cfg == NULL)
		return 0;
	a = emit(cfg);
	memset(&errs, 0, sizeof(errs));
	again = fh_config_load_buffer("normalized.yaml", a, strlen(a), &errs);
	if (again == NULL) {
		/* accepted input printed as something the loader refuses */
		fprintf(stderr, "--- normalized:\n%s--- refused:\n", a);
		fh_config_print_errs(stderr, &errs);
		abort();
	}
	b = emit(again);
	if (strcmp(a, b) != 0) {
		fprintf(stderr, "--- first:\n%s--- second:\n%s", a, b);
		abort(); /* normalized output is not a fixed point */
	}
	free(a);
	free(b);
	fh_config_free(again);
	fh_config_free(cfg);
	return 0;
}
