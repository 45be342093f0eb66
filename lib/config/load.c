/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML -> typed config, driven by the schema table. libyaml builds the node tree; this file walks
 * it once, checking every key against the schema, and records where each value came from so the
 * cross checks in validate.c can name file, line and column too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "schema.h"

/* Largest config file read; a hub with thousands of peers in its keyring stays far below. */
#define FH_CFG_FILE_MAX (16u << 20)
/* Nodes walked at most: aliases can make a tiny file expand exponentially (billion laughs). */
#define FH_CFG_WALK_MAX 1000000u
/* A schema object has at most this many keys (required-key bookkeeping is a 64-bit set). */
#define FH_CFG_OBJ_KEYS_MAX 64

struct loader {
	struct fh_config *cfg;
	yaml_document_t *doc;
	const char *file;
	struct fh_cfg_errs *errs;
	uint32_t walked;
	bool too_big;
};

static struct fh_pos node_pos(const yaml_node_t *n)
{
	struct fh_pos p = {(uint32_t)n->start_mark.line + 1, (uint32_t)n->start_mark.column + 1};

	return p;
}

static bool node_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static bool walk(struct loader *L)
{
	if (++L->walked > FH_CFG_WALK_MAX) {
		if (!L->too_big)
			fh_cfg_error(L->errs, L->file, (struct fh_pos){1, 1},
				     "document expands to more than %u nodes (aliases?)", FH_CFG_WALK_MAX);
		L->too_big = true;
		return false;
	}
	return true;
}

static const char *type_word(enum fh_ktype t)
{
	switch (t) {
	case FH_K_STR: return "a string";
	case FH_K_U32: return "a number";
	case FH_K_BOOL: return "true or false";
	case FH_K_ENUM: return "a keyword";
	case FH_K_IPV4: return "an IPv4 address";
	case FH_K_PREFIX: return "an IPv4 prefix";
	case FH_K_IFADDR: return "an address or 'negotiated'";
	case FH_K_ACE: return "an access-list entry";
	case FH_K_HEX: return "hex digits";
	case FH_K_RANGE: return "an address range 'FIRST LAST'";
	case FH_K_OBJ: return "a mapping";
	case FH_K_MAP: return "a mapping of names";
	case FH_K_LIST: return "a list";
	}
	return "?";
}

/* Parse text s into the field of key k; used both for the file and for defaults. */
static int parse_scalar(const struct fh_key *k, void *field, const char *s, char *err, size_t elen)
{
	switch (k->type) {
	case FH_K_STR:
		/* a key with a default means something when empty only by accident ("hostname: \"\"") */
		if (s[0] == '\0' && k->dflt != NULL && k->dflt[0] != '\0') {
			snprintf(err, elen, "must not be empty (default: %s)", k->dflt);
			return -1;
		}
		if (strlen(s) >= k->size) {
			snprintf(err, elen, "too long: %zu characters, at most %zu", strlen(s), k->size - 1);
			return -1;
		}
		strcpy(field, s);
		return 0;
	case FH_K_U32:
		return fh_parse_u32(s, k->min, k->max ? k->max : UINT32_MAX, field, err, elen);
	case FH_K_BOOL:
		return fh_parse_bool(s, field, err, elen);
	case FH_K_ENUM:
		return fh_parse_enum(k->enums, s, field, err, elen);
	case FH_K_IPV4:
		return fh_parse_ipv4(s, field, err, elen);
	case FH_K_PREFIX:
		return fh_parse_prefix(s, field, err, elen);
	case FH_K_IFADDR: {
		struct fh_if_addr *a = field;

		a->present = true;
		if (strcmp(s, "negotiated") == 0) {
			a->negotiated = true;
			return 0;
		}
		a->negotiated = false;
		if (strchr(s, '/') == NULL && strchr(s, ' ') == NULL) {
			snprintf(err, elen, "expected 'A.B.C.D/LEN', 'A.B.C.D M.M.M.M' or negotiated, got '%s'", s);
			return -1;
		}
		return fh_parse_prefix(s, &a->pfx, err, elen);
	}
	case FH_K_ACE:
		return fh_parse_ace(s, field, err, elen);
	case FH_K_HEX:
		return fh_parse_hex(s, field, k->size, err, elen);
	case FH_K_RANGE:
		return fh_parse_range(s, field, err, elen);
	default:
		snprintf(err, elen, "internal: key '%s' is not a scalar", k->name);
		return -1;
	}
}

static void set_has(const struct fh_key *k, void *base)
{
	if (k->has_off != 0)
		*(bool *)((char *)base + k->has_off - 1) = true;
}

void fh_schema_apply_defaults(const struct fh_key *keys, void *base)
{
	char err[FH_CFG_ERR_LEN];

	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		void *field = (char *)base + k->off;

		if (k->type == FH_K_OBJ) {
			fh_schema_apply_defaults(k->sub, field);
		} else if (k->type == FH_K_LIST && k->dflt != NULL && k->max > 0) {
			/* a scalar list's default is its single first item */
			if (parse_scalar(&k->sub[0], field, k->dflt, err, sizeof(err)) == 0)
				*(uint32_t *)((char *)base + k->cnt_off) = 1;
		} else if (k->dflt != NULL && k->type != FH_K_MAP && k->type != FH_K_LIST) {
			/* schema defaults are checked by the unit tests; they cannot fail here */
			(void)parse_scalar(k, field, k->dflt, err, sizeof(err));
		}
	}
}

int fh_schema_check_defaults(const struct fh_key *keys, char *err, size_t elen)
{
	/* large enough for any field of any struct the schema describes */
	static union {
		struct fh_config c;
		struct fh_cfg_iface i;
		struct fh_cfg_static_sa s;
	} scratch;

	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		const struct fh_key *vk = k->type == FH_K_LIST ? &k->sub[0] : k;

		if (k->sub != NULL && (k->type != FH_K_LIST || (k->flags & FH_F_OBJLIST)) &&
		    fh_schema_check_defaults(k->sub, err, elen) < 0)
			return -1;
		if (k->dflt == NULL)
			continue;
		memset(&scratch, 0, sizeof(scratch));
		if (parse_scalar(vk, &scratch, k->dflt, err, elen) < 0) {
			size_t n = strlen(err);

			snprintf(err + n, elen - n, " (default of '%s')", k->name);
			return -1;
		}
	}
	return 0;
}

static void load_obj(struct loader *L, const struct fh_key *keys, void *base, yaml_node_t *node,
		     const char *path);

static void load_value(struct loader *L, const struct fh_key *k, void *base, yaml_node_t *val,
		       const char *path);

static void load_scalar(struct loader *L, const struct fh_key *k, void *field, yaml_node_t *n,
			const char *path)
{
	char err[FH_CFG_ERR_LEN];

	if (n->type != YAML_SCALAR_NODE || node_is_null(n)) {
		fh_cfg_error(L->errs, L->file, node_pos(n), "%s: expected %s", path, type_word(k->type));
		return;
	}
	if (parse_scalar(k, field, (const char *)n->data.scalar.value, err, sizeof(err)) < 0) {
		fh_cfg_error(L->errs, L->file, node_pos(n), "%s: %s", path, err);
		return;
	}
	fh_posmap_add(L->cfg, field, node_pos(n));
}

static void load_map(struct loader *L, const struct fh_key *k, void *base, yaml_node_t *node,
		     const char *path)
{
	void **arr = (void **)((char *)base + k->off);
	uint32_t *cnt = (uint32_t *)((char *)base + k->cnt_off);
	yaml_node_pair_t *p;
	size_t n;
	char *elems;

	if (node_is_null(node))
		return;
	if (node->type != YAML_MAPPING_NODE) {
		fh_cfg_error(L->errs, L->file, node_pos(node), "%s: expected a mapping of names", path);
		return;
	}
	n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
	if (n == 0)
		return;
	/* Sized once from the node, so element addresses stay valid for the position map. */
	elems = calloc(n, k->size);
	if (elems == NULL) {
		fh_cfg_error(L->errs, L->file, node_pos(node), "%s: out of memory", path);
		return;
	}
	*arr = elems;
	*cnt = (uint32_t)n;
	for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		struct fh_named *el = (struct fh_named *)(elems + (size_t)(p - node->data.mapping.pairs.start) * k->size);
		char sub[FH_CFG_ERR_LEN / 2];

		if (!walk(L))
			return;
		fh_schema_apply_defaults(k->sub, el);
		if (kn == NULL || vn == NULL || kn->type != YAML_SCALAR_NODE) {
			fh_cfg_error(L->errs, L->file, kn ? node_pos(kn) : node_pos(node), "%s: names must be scalars", path);
			continue;
		}
		if (strlen((const char *)kn->data.scalar.value) >= FH_NAME_MAX || kn->data.scalar.value[0] == '\0') {
			fh_cfg_error(L->errs, L->file, node_pos(kn), "%s: name must be 1..%d characters", path,
				     FH_NAME_MAX - 1);
			continue;
		}
		strcpy(el->name, (const char *)kn->data.scalar.value);
		el->pos = node_pos(kn);
		for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);

			if (qk != NULL && qk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)qk->data.scalar.value, el->name) == 0) {
				fh_cfg_error(L->errs, L->file, el->pos, "%s: '%s' is defined twice (first at line %u)", path,
					     el->name, (unsigned)qk->start_mark.line + 1);
				break;
			}
		}
		snprintf(sub, sizeof(sub), "%s %s", path, el->name);
		if (vn->type == YAML_MAPPING_NODE || node_is_null(vn)) {
			load_obj(L, k->sub, el, vn, sub);
			continue;
		}
		for (const struct fh_key *s = k->sub; s->name != NULL; s++)
			if (s->flags & FH_F_SHORTHAND) {
				load_value(L, s, el, vn, sub);
				goto next;
			}
		fh_cfg_error(L->errs, L->file, node_pos(vn), "%s: expected a mapping", sub);
next:;
	}
}

static void load_list(struct loader *L, const struct fh_key *k, void *base, yaml_node_t *node,
		      const char *path)
{
	uint32_t *cnt = (uint32_t *)((char *)base + k->cnt_off);
	yaml_node_item_t *items, single;
	size_t n;
	char *elems;

	if (node_is_null(node)) {
		*cnt = 0;
		return;
	}
	if (node->type == YAML_SEQUENCE_NODE) {
		items = node->data.sequence.items.start;
		n = (size_t)(node->data.sequence.items.top - items);
	} else if (node->type == YAML_SCALAR_NODE && !(k->flags & FH_F_OBJLIST)) {
		/* "group: 14" is a list of one */
		single = (yaml_node_item_t)(node - L->doc->nodes.start + 1);
		items = &single;
		n = 1;
	} else {
		fh_cfg_error(L->errs, L->file, node_pos(node), "%s: expected a list", path);
		return;
	}
	if (k->max > 0) {
		if (n > k->max) {
			fh_cfg_error(L->errs, L->file, node_pos(node), "%s: %zu items, at most %u", path, n, k->max);
			return;
		}
		elems = (char *)base + k->off;
		memset(elems, 0, k->max * k->size);
	} else {
		void **arr = (void **)((char *)base + k->off);

		free(*arr);
		*arr = NULL;
		*cnt = 0;
		if (n == 0)
			return;
		elems = calloc(n, k->size);
		if (elems == NULL) {
			fh_cfg_error(L->errs, L->file, node_pos(node), "%s: out of memory", path);
			return;
		}
		*arr = elems;
	}
	*cnt = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = yaml_document_get_node(L->doc, items[i]);
		void *el = elems + i * k->size;

		if (it == NULL || !walk(L))
			return;
		if (k->flags & FH_F_OBJLIST) {
			fh_schema_apply_defaults(k->sub, el);
			fh_posmap_add(L->cfg, el, node_pos(it));
			load_obj(L, k->sub, el, it, path);
		} else {
			load_scalar(L, &k->sub[0], el, it, path);
		}
	}
}

static void load_value(struct loader *L, const struct fh_key *k, void *base, yaml_node_t *val,
		       const char *path)
{
	char sub[FH_CFG_ERR_LEN / 2];

	snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? " " : "", k->name);
	set_has(k, base);
	switch (k->type) {
	case FH_K_OBJ:
		load_obj(L, k->sub, (char *)base + k->off, val, sub);
		break;
	case FH_K_MAP:
		load_map(L, k, base, val, sub);
		break;
	case FH_K_LIST:
		load_list(L, k, base, val, sub);
		break;
	default:
		load_scalar(L, k, (char *)base + k->off, val, sub);
		break;
	}
}

static void unknown_key(struct loader *L, const struct fh_key *keys, yaml_node_t *kn, const char *path)
{
	char list[FH_CFG_ERR_LEN / 2];
	size_t n = 0;

	list[0] = '\0';
	for (const struct fh_key *k = keys; k->name != NULL && n < sizeof(list); k++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", k->name);
	fh_cfg_error(L->errs, L->file, node_pos(kn), "%s%sunknown key '%s'; expected one of: %s", path,
		     path[0] ? ": " : "", (const char *)kn->data.scalar.value, list);
}

static void load_obj(struct loader *L, const struct fh_key *keys, void *base, yaml_node_t *node,
		     const char *path)
{
	uint64_t seen = 0;
	yaml_node_pair_t *p;

	if (!walk(L))
		return;
	if (node_is_null(node))
		goto required;
	if (node->type != YAML_MAPPING_NODE) {
		fh_cfg_error(L->errs, L->file, node_pos(node), "%s%sexpected a mapping", path, path[0] ? ": " : "");
		return;
	}
	for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		const struct fh_key *k;
		int idx = 0;

		if (kn == NULL || vn == NULL)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			fh_cfg_error(L->errs, L->file, node_pos(kn), "%s: keys must be scalars", path);
			continue;
		}
		for (k = keys; k->name != NULL; k++, idx++)
			if (strcmp(k->name, (const char *)kn->data.scalar.value) == 0)
				break;
		if (k->name == NULL) {
			unknown_key(L, keys, kn, path);
			continue;
		}
		if (seen & (1ull << idx)) {
			fh_cfg_error(L->errs, L->file, node_pos(kn), "%s%skey '%s' is given twice", path,
				     path[0] ? ": " : "", k->name);
			continue;
		}
		/* "peers:" with nothing after it gives nothing a required key needs */
		if ((k->flags & FH_F_REQUIRED) && node_is_null(vn))
			continue;
		seen |= 1ull << idx;
		if (k->pos_off != 0)
			*(struct fh_pos *)((char *)base + k->pos_off - 1) = node_pos(kn);
		load_value(L, k, base, vn, path);
	}
required:
	for (int idx = 0; keys[idx].name != NULL; idx++)
		if ((keys[idx].flags & FH_F_REQUIRED) && !(seen & (1ull << idx)))
			fh_cfg_error(L->errs, L->file, node_pos(node), "%s%smissing required key '%s'", path,
				     path[0] ? ": " : "", keys[idx].name);
}

static void yaml_error(const yaml_parser_t *P, const char *file, struct fh_cfg_errs *errs)
{
	struct fh_pos pos = {(uint32_t)P->problem_mark.line + 1, (uint32_t)P->problem_mark.column + 1};

	fh_cfg_error(errs, file, pos, "YAML syntax error: %s%s%s", P->problem ? P->problem : "unknown",
		     P->context ? " " : "", P->context ? P->context : "");
}

struct fh_config *fh_config_load_buffer(const char *name, const char *buf, size_t len, struct fh_cfg_errs *errs)
{
	struct loader L = {.file = name, .errs = errs};
	yaml_parser_t P;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	struct fh_config *cfg;
	uint32_t errs_before = errs->n;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		fh_cfg_error(errs, name, (struct fh_pos){0, 0}, "out of memory");
		return NULL;
	}
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	fh_schema_apply_defaults(fh_schema_root, cfg);
	if (!yaml_parser_initialize(&P)) {
		fh_cfg_error(errs, name, (struct fh_pos){0, 0}, "out of memory");
		free(cfg);
		return NULL;
	}
	yaml_parser_set_input_string(&P, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&P, &doc)) {
		yaml_error(&P, name, errs);
		yaml_parser_delete(&P);
		free(cfg);
		return NULL;
	}
	L.cfg = cfg;
	L.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL)
		load_obj(&L, fh_schema_root, cfg, root, "");
	/* A second document would be silently ignored by the loader above: say so instead. */
	if (root != NULL && errs->n == errs_before) {
		if (!yaml_parser_load(&P, &extra)) {
			yaml_error(&P, name, errs);
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&extra);

			if (r2 != NULL)
				fh_cfg_error(errs, name, node_pos(r2), "only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&P);
	if (errs->n == errs_before) {
		fh_config_smart_defaults(cfg);
		fh_config_validate(cfg, errs);
	}
	if (errs->n != errs_before) {
		fh_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct fh_config *fh_config_load_file(const char *path, struct fh_cfg_errs *errs)
{
	FILE *f = fopen(path, "rb");
	struct fh_config *cfg;
	char *buf;
	long len;

	if (f == NULL) {
		fh_cfg_error(errs, path, (struct fh_pos){0, 0}, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fh_cfg_error(errs, path, (struct fh_pos){0, 0}, "cannot read: %s", strerror(errno));
		fclose(f);
		return NULL;
	}
	if ((unsigned long)len > FH_CFG_FILE_MAX) {
		fh_cfg_error(errs, path, (struct fh_pos){0, 0}, "file is %ld bytes, at most %u", len, FH_CFG_FILE_MAX);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fh_cfg_error(errs, path, (struct fh_pos){0, 0}, "cannot read: %s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	cfg = fh_config_load_buffer(path, buf, (size_t)len, errs);
	free(buf);
	return cfg;
}

static void free_keys(const struct fh_key *keys, void *base)
{
	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		void *field = (char *)base + k->off;

		if (k->type == FH_K_OBJ) {
			free_keys(k->sub, field);
		} else if (k->type == FH_K_MAP || (k->type == FH_K_LIST && k->max == 0)) {
			char *arr = *(char **)field;
			uint32_t n = *(uint32_t *)((char *)base + k->cnt_off);

			if (arr != NULL && (k->type == FH_K_MAP || (k->flags & FH_F_OBJLIST)))
				for (uint32_t i = 0; i < n; i++)
					free_keys(k->sub, arr + (size_t)i * k->size);
			free(arr);
			*(char **)field = NULL;
		}
	}
}

void fh_config_free(struct fh_config *cfg)
{
	if (cfg == NULL)
		return;
	free_keys(fh_schema_root, cfg);
	fh_posmap_free(cfg);
	free(cfg);
}
