/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_CONFIG_SCHEMA_H
#define FH_CONFIG_SCHEMA_H

/*
 * The schema: one table of keys, types, ranges and defaults. The loader, the emitter (show
 * running-config, JSON) and the reference (doc/config.md) all walk it; nothing else knows keys.
 */

#include "fh_config.h"

enum fh_ktype {
	FH_K_STR,    /* char[size] */
	FH_K_U32,    /* uint32_t in [min, max] */
	FH_K_BOOL,   /* bool */
	FH_K_ENUM,   /* uint8_t, names in enums */
	FH_K_IPV4,   /* uint32_t host order */
	FH_K_PREFIX, /* struct fh_prefix: "a.b.c.d/len" or "a.b.c.d m.m.m.m" */
	FH_K_IFADDR, /* struct fh_if_addr: prefix or "negotiated" */
	FH_K_ACE,    /* struct fh_ace: "permit a.b.c.d w.w.w.w" */
	FH_K_HEX,    /* char[size] of hex digits (keys) */
	FH_K_RANGE,  /* struct fh_cfg_pool_range: "FIRST LAST", two IPv4 addresses */
	FH_K_OBJ,    /* nested struct, keys in sub */
	FH_K_MAP,    /* name -> struct (first member struct fh_named), calloc'd array + count */
	FH_K_LIST,   /* sequence: elem describes one item; objects are calloc'd, scalars fixed arrays */
};

#define FH_F_REQUIRED 1u
#define FH_F_SECRET 2u /* hidden in show output unless asked */
#define FH_F_HEXNUM 4u /* U32 printed as 0x... (SPIs) */
#define FH_F_OBJLIST 8u /* LIST whose items are objects with keys in sub */
#define FH_F_SHORTHAND 16u /* a block given as a bare scalar or sequence sets this key */

struct fh_enum {
	const char *name;
	uint8_t val;
};

struct fh_key {
	const char *name;
	enum fh_ktype type;
	size_t off;       /* field offset in the parent struct */
	size_t size;      /* STR/HEX: buffer size; MAP/LIST: element size */
	size_t cnt_off;   /* MAP/LIST: offset of the uint32_t count */
	size_t has_off;   /* offset + 1 of a bool set when the key is present; 0 = none */
	size_t pos_off;   /* offset + 1 of a struct fh_pos set to where the key was written; 0 = none
			   * (blocks have no field of their own in the position map) */
	uint32_t min, max; /* U32 range; LIST/MAP: max items (0 = unbounded for allocated) */
	const struct fh_enum *enums;
	const struct fh_key *sub;  /* OBJ/MAP: keys of the struct; LIST: the element (one key) */
	const char *dflt;          /* default, as it would be written in YAML */
	unsigned flags;
	const char *doc;
};

extern const struct fh_key fh_schema_root[];

/* Scalar parsers shared by loader and validator; return 0 or -1 with err filled. */
int fh_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err, size_t elen);
int fh_parse_bool(const char *s, bool *out, char *err, size_t elen);
int fh_parse_ipv4(const char *s, uint32_t *out, char *err, size_t elen);
int fh_parse_prefix(const char *s, struct fh_prefix *out, char *err, size_t elen);
int fh_parse_ace(const char *s, struct fh_ace *out, char *err, size_t elen);
int fh_parse_range(const char *s, struct fh_cfg_pool_range *out, char *err, size_t elen);
int fh_parse_hex(const char *s, char *out, size_t outlen, char *err, size_t elen);
int fh_parse_enum(const struct fh_enum *e, const char *s, uint8_t *out, char *err, size_t elen);
const char *fh_enum_name(const struct fh_enum *e, uint8_t v);

/* Positions of scalars by field address, so later checks can point into the file. */
struct fh_cfg_posmap;
void fh_posmap_add(struct fh_config *cfg, const void *field, struct fh_pos pos);
struct fh_pos fh_posmap_get(const struct fh_config *cfg, const void *field);
void fh_posmap_free(struct fh_config *cfg);
/* An array of fields moved (realloc): make its recorded positions follow it. */
void fh_posmap_rebase(struct fh_config *cfg, uintptr_t old, size_t len, const void *new_base);

/* Append "file:line:col: fmt" to errs. */
void fh_cfg_error(struct fh_cfg_errs *errs, const char *file, struct fh_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Apply the defaults of keys to a zeroed struct. */
void fh_schema_apply_defaults(const struct fh_key *keys, void *base);

/* Every default in the table parses (a unit test calls it); 0 or -1 with err naming the key. */
int fh_schema_check_defaults(const struct fh_key *keys, char *err, size_t elen);

/* Smart defaults and cross checks, run after a clean parse. */
void fh_config_smart_defaults(struct fh_config *cfg);
void fh_config_validate(struct fh_config *cfg, struct fh_cfg_errs *errs);

extern const struct fh_enum fh_enum_encr[], fh_enum_esp_encr[], fh_enum_integ[], fh_enum_esp_integ[],
	fh_enum_prf[], fh_enum_auth[], fh_enum_dpd[], fh_enum_esp_mode[], fh_enum_tun_mode[],
	fh_enum_aaa_method[], fh_enum_aaa_group[], fh_enum_engine[];

#endif
