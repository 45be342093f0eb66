/* SPDX-License-Identifier: BSD-3-Clause */
/* Scalar parsers, error collection and the field -> position map. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"

struct fh_posent {
	const void *field;
	struct fh_pos pos;
};

/*
 * Entries in the order written, and an open-addressing index by field address over them (the
 * newest entry of a field wins), so the validator's lookups stay O(1) for a hub's 10,000 tunnels.
 */
struct fh_cfg_posmap {
	struct fh_posent *e;
	size_t n, cap;
	uint32_t *idx; /* entry index + 1; 0 = empty */
	size_t icap;   /* power of two, at least twice n */
};

static size_t pos_hash(const void *field, size_t icap)
{
	uint64_t h = (uint64_t)(uintptr_t)field * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (icap - 1);
}

static void pos_index(struct fh_cfg_posmap *m, size_t i)
{
	size_t h = pos_hash(m->e[i].field, m->icap);

	while (m->idx[h] != 0 && m->e[m->idx[h] - 1].field != m->e[i].field)
		h = (h + 1) & (m->icap - 1);
	m->idx[h] = (uint32_t)i + 1;
}

static int pos_reindex(struct fh_cfg_posmap *m, size_t icap)
{
	uint32_t *idx = calloc(icap, sizeof(*idx));

	if (idx == NULL)
		return -1;
	free(m->idx);
	m->idx = idx;
	m->icap = icap;
	for (size_t i = 0; i < m->n; i++)
		pos_index(m, i);
	return 0;
}

void fh_cfg_error(struct fh_cfg_errs *errs, const char *file, struct fh_pos pos, const char *fmt, ...)
{
	if (errs == NULL)
		return;
	if (errs->n < FH_CFG_ERRS_MAX) {
		char *m = errs->e[errs->n].msg;
		int k = snprintf(m, FH_CFG_ERR_LEN, "%s:%u:%u: ", file, pos.line, pos.col);
		va_list ap;

		if (k < 0 || k >= FH_CFG_ERR_LEN)
			k = 0;
		va_start(ap, fmt);
		vsnprintf(m + k, FH_CFG_ERR_LEN - (size_t)k, fmt, ap);
		va_end(ap);
	}
	errs->n++;
}

void fh_config_print_errs(FILE *f, const struct fh_cfg_errs *errs)
{
	uint32_t kept = errs->n < FH_CFG_ERRS_MAX ? errs->n : FH_CFG_ERRS_MAX;

	for (uint32_t i = 0; i < kept; i++)
		fprintf(f, "%s\n", errs->e[i].msg);
	if (errs->n > kept)
		fprintf(f, "... and %u more\n", errs->n - kept);
	fprintf(f, "%u error%s\n", errs->n, errs->n == 1 ? "" : "s");
}

void fh_posmap_add(struct fh_config *cfg, const void *field, struct fh_pos pos)
{
	struct fh_cfg_posmap *m = cfg->posmap;

	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			return;
		cfg->posmap = m;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct fh_posent *e = realloc(m->e, cap * sizeof(*e));

		if (e == NULL || cap > UINT32_MAX - 1)
			return; /* positions are a nicety for messages; losing one is not fatal */
		m->e = e;
		m->cap = cap;
	}
	if (2 * (m->n + 1) > m->icap && pos_reindex(m, m->icap ? m->icap * 2 : 512) < 0)
		return;
	m->e[m->n].field = field;
	m->e[m->n].pos = pos;
	pos_index(m, m->n);
	m->n++;
}

struct fh_pos fh_posmap_get(const struct fh_config *cfg, const void *field)
{
	const struct fh_cfg_posmap *m = cfg->posmap;
	struct fh_pos none = {0, 0};

	if (m == NULL || m->icap == 0)
		return none;
	for (size_t h = pos_hash(field, m->icap); m->idx[h] != 0; h = (h + 1) & (m->icap - 1))
		if (m->e[m->idx[h] - 1].field == field)
			return m->e[m->idx[h] - 1].pos;
	return none;
}

void fh_posmap_rebase(struct fh_config *cfg, uintptr_t old, size_t len, const void *new_base)
{
	struct fh_cfg_posmap *m = cfg->posmap;
	uintptr_t lo = old, hi = lo + len;
	bool moved = false;

	if (m == NULL || old == 0)
		return;
	for (size_t i = 0; i < m->n; i++) {
		uintptr_t f = (uintptr_t)m->e[i].field;

		if (f >= lo && f < hi) {
			m->e[i].field = (const char *)new_base + (f - lo);
			moved = true;
		}
	}
	/* same size: only the addresses changed; on failure lookups of moved fields miss (no position) */
	if (moved)
		(void)pos_reindex(m, m->icap);
}

void fh_posmap_free(struct fh_config *cfg)
{
	if (cfg->posmap != NULL) {
		free(cfg->posmap->e);
		free(cfg->posmap->idx);
		free(cfg->posmap);
		cfg->posmap = NULL;
	}
}

int fh_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err, size_t elen)
{
	unsigned long long v;
	char *end;
	int base = 10;

	/* Decimal, or 0x hex for SPIs and keys; a leading 0 is not octal here. */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	if (!isdigit((unsigned char)s[0])) {
		snprintf(err, elen, "expected a number, got '%s'", s);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || end == s) {
		snprintf(err, elen, "expected a number, got '%s'", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, elen, "%s is out of range %u..%u", s, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int fh_parse_bool(const char *s, bool *out, char *err, size_t elen)
{
	static const char *const yes[] = {"true", "yes", "on", "enable", NULL};
	static const char *const no[] = {"false", "no", "off", "disable", NULL};

	for (int i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	for (int i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	snprintf(err, elen, "expected true or false, got '%s'", s);
	return -1;
}

/* Strict dotted quad: four decimal octets, no leading zeros beyond "0", nothing else. */
static int ipv4_prefix_of(const char *s, size_t n, uint32_t *out)
{
	uint32_t a = 0;
	int octets = 0;
	size_t i = 0;

	while (octets < 4) {
		uint32_t v = 0;
		size_t start = i;

		while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (uint32_t)(s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return -1;
		a = a << 8 | v;
		octets++;
		if (octets < 4) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != n)
		return -1;
	*out = a;
	return 0;
}

int fh_parse_ipv4(const char *s, uint32_t *out, char *err, size_t elen)
{
	if (ipv4_prefix_of(s, strlen(s), out) < 0) {
		snprintf(err, elen, "expected an IPv4 address A.B.C.D, got '%s'", s);
		return -1;
	}
	return 0;
}

/* "FIRST LAST" as IOS writes "ip local pool NAME FIRST LAST": two addresses, blanks between. */
int fh_parse_range(const char *s, struct fh_cfg_pool_range *out, char *err, size_t elen)
{
	const char *sp = strchr(s, ' ');
	const char *b = sp;

	if (sp == NULL || ipv4_prefix_of(s, (size_t)(sp - s), &out->first) < 0)
		goto bad;
	while (*b == ' ')
		b++;
	if (ipv4_prefix_of(b, strlen(b), &out->last) < 0)
		goto bad;
	return 0;
bad:
	snprintf(err, elen, "expected 'FIRST LAST' (two IPv4 addresses), got '%s'", s);
	return -1;
}

uint32_t fh_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

void fh_ip4_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* A netmask (or, inverted, a wildcard) must be contiguous ones then zeros. */
static int mask_len(uint32_t mask)
{
	uint32_t inv = ~mask;

	if ((inv & (inv + 1)) != 0)
		return -1;
	return __builtin_popcount(mask);
}

int fh_parse_prefix(const char *s, struct fh_prefix *out, char *err, size_t elen)
{
	const char *slash = strchr(s, '/');
	const char *space = strchr(s, ' ');
	uint32_t addr, mask;

	if (slash != NULL) {
		uint32_t len;

		if (ipv4_prefix_of(s, (size_t)(slash - s), &addr) < 0 ||
		    fh_parse_u32(slash + 1, 0, 32, &len, err, elen) < 0) {
			snprintf(err, elen, "expected A.B.C.D/LEN with LEN 0..32, got '%s'", s);
			return -1;
		}
		out->addr = addr;
		out->len = (uint8_t)len;
		return 0;
	}
	if (space != NULL) {
		int len;

		while (*space == ' ')
			space++;
		if (ipv4_prefix_of(s, (size_t)(strchr(s, ' ') - s), &addr) < 0 ||
		    ipv4_prefix_of(space, strlen(space), &mask) < 0) {
			snprintf(err, elen, "expected 'A.B.C.D M.M.M.M', got '%s'", s);
			return -1;
		}
		len = mask_len(mask);
		if (len < 0) {
			snprintf(err, elen, "netmask '%s' is not contiguous", space);
			return -1;
		}
		out->addr = addr;
		out->len = (uint8_t)len;
		return 0;
	}
	if (ipv4_prefix_of(s, strlen(s), &addr) < 0) {
		snprintf(err, elen, "expected A.B.C.D, A.B.C.D/LEN or 'A.B.C.D M.M.M.M', got '%s'", s);
		return -1;
	}
	/* A bare address is a host, except 0.0.0.0 which IOS keyrings and matches read as "any". */
	out->addr = addr;
	out->len = addr == 0 ? 0 : 32;
	return 0;
}

/* Split on blanks into at most max words; returns the count or -1 when there are more. */
static int split_words(char *buf, char **w, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *p = strtok_r(buf, " \t", &save); p != NULL; p = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -1;
		w[n++] = p;
	}
	return n;
}

int fh_parse_ace(const char *s, struct fh_ace *out, char *err, size_t elen)
{
	char buf[128], *w[4];
	int n, i = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, elen, "access-list entry too long");
		return -1;
	}
	strcpy(buf, s);
	n = split_words(buf, w, 4);
	out->permit = true;
	if (n > 0 && (strcmp(w[0], "permit") == 0 || strcmp(w[0], "deny") == 0)) {
		out->permit = w[0][0] == 'p';
		i = 1;
	}
	if (n - i == 1 && strcmp(w[i], "any") == 0) {
		out->addr = 0;
		out->wildcard = ~0u;
		return 0;
	}
	if (n - i == 2 && strcmp(w[i], "host") == 0) {
		out->wildcard = 0;
		if (ipv4_prefix_of(w[i + 1], strlen(w[i + 1]), &out->addr) == 0)
			return 0;
	} else if (n - i == 2) {
		if (ipv4_prefix_of(w[i], strlen(w[i]), &out->addr) == 0 &&
		    ipv4_prefix_of(w[i + 1], strlen(w[i + 1]), &out->wildcard) == 0) {
			if (mask_len(~out->wildcard) < 0) {
				snprintf(err, elen, "wildcard %s is not contiguous (routes need a prefix)", w[i + 1]);
				return -1;
			}
			if ((out->addr & out->wildcard) != 0) {
				snprintf(err, elen, "address %s has bits set inside wildcard %s", w[i], w[i + 1]);
				return -1;
			}
			return 0;
		}
	} else if (n - i == 1) {
		if (ipv4_prefix_of(w[i], strlen(w[i]), &out->addr) == 0) {
			out->wildcard = 0;
			return 0;
		}
	}
	snprintf(err, elen, "expected '[permit|deny] A.B.C.D W.W.W.W', 'host A.B.C.D' or 'any', got '%s'", s);
	return -1;
}

int fh_parse_hex(const char *s, char *out, size_t outlen, char *err, size_t elen)
{
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n == 0 || n % 2 != 0) {
		snprintf(err, elen, "expected an even number of hex digits");
		return -1;
	}
	if (n >= outlen) {
		snprintf(err, elen, "key too long: %zu hex digits, at most %zu", n, outlen - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i])) {
			snprintf(err, elen, "'%c' is not a hex digit", s[i]);
			return -1;
		}
	memcpy(out, s, n + 1);
	return 0;
}

int fh_parse_enum(const struct fh_enum *e, const char *s, uint8_t *out, char *err, size_t elen)
{
	size_t k = 0;

	for (const struct fh_enum *p = e; p->name != NULL; p++)
		if (strcasecmp(p->name, s) == 0) {
			*out = p->val;
			return 0;
		}
	k = (size_t)snprintf(err, elen, "'%s' is not one of:", s);
	for (const struct fh_enum *p = e; p->name != NULL && k < elen; p++) {
		/* list each value once, by its canonical (first) name */
		if (fh_enum_name(e, p->val) != p->name)
			continue;
		k += (size_t)snprintf(err + k, elen - k, " %s", p->name);
	}
	return -1;
}

const char *fh_enum_name(const struct fh_enum *e, uint8_t v)
{
	for (const struct fh_enum *p = e; p->name != NULL; p++)
		if (p->val == v)
			return p->name;
	return "?";
}

const char *fh_encr_name(unsigned v)
{
	return fh_enum_name(fh_enum_encr, (uint8_t)v);
}

const char *fh_integ_name(unsigned v)
{
	return fh_enum_name(fh_enum_integ, (uint8_t)v);
}

const char *fh_prf_name(unsigned v)
{
	return fh_enum_name(fh_enum_prf, (uint8_t)v);
}

const char *fh_engine_name(unsigned v)
{
	return fh_enum_name(fh_enum_engine, (uint8_t)v);
}

const char *fh_esp_encr_name(unsigned v)
{
	return fh_enum_name(fh_enum_esp_encr, (uint8_t)v);
}

const char *fh_esp_integ_name(unsigned v)
{
	return fh_enum_name(fh_enum_esp_integ, (uint8_t)v);
}

const char *fh_if_kind_name(unsigned v)
{
	static const char *const names[] = {"physical", "loopback", "tunnel", "virtual-template"};

	return v < 4 ? names[v] : "?";
}

/* IOS interface names and the abbreviations engineers type. */
static const struct {
	const char *canon;
	const char *abbrev[4];
	uint8_t kind;
} if_kinds[] = {
	{"GigabitEthernet", {"gi", "gig", "ge", NULL}, FH_IF_PHYSICAL},
	{"TenGigabitEthernet", {"te", "ten", NULL}, FH_IF_PHYSICAL},
	{"FortyGigabitEthernet", {"fo", NULL}, FH_IF_PHYSICAL},
	{"HundredGigE", {"hu", NULL}, FH_IF_PHYSICAL},
	{"Ethernet", {"eth", "et", NULL}, FH_IF_PHYSICAL},
	{"Loopback", {"lo", NULL}, FH_IF_LOOPBACK},
	{"Tunnel", {"tu", NULL}, FH_IF_TUNNEL},
	{"Virtual-Template", {"vt", "virtual-template", NULL}, FH_IF_VTEMPLATE},
};

bool fh_iface_canon_name(const char *in, char *out, size_t outlen, uint8_t *kind, uint32_t *unit)
{
	size_t n = 0;
	const char *num;
	char err[64];
	uint32_t u;

	while (isalpha((unsigned char)in[n]) || in[n] == '-')
		n++;
	num = in + n;
	while (*num == ' ')
		num++;
	if (n == 0 || *num == '\0' || fh_parse_u32(num, 0, 65535, &u, err, sizeof(err)) < 0)
		return false;
	for (size_t i = 0; i < sizeof(if_kinds) / sizeof(if_kinds[0]); i++) {
		bool hit = strlen(if_kinds[i].canon) == n && strncasecmp(if_kinds[i].canon, in, n) == 0;

		for (int a = 0; !hit && if_kinds[i].abbrev[a] != NULL; a++)
			hit = strlen(if_kinds[i].abbrev[a]) == n && strncasecmp(if_kinds[i].abbrev[a], in, n) == 0;
		if (hit) {
			snprintf(out, outlen, "%s%u", if_kinds[i].canon, u);
			*kind = if_kinds[i].kind;
			*unit = u;
			return true;
		}
	}
	return false;
}
