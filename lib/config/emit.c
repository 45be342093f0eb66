/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Walks the schema to print a config (normalized YAML for show running-config, JSON for --json)
 * and the key reference (doc/config.md). Normalized YAML reloads to the same config.
 */
#include <stdlib.h>
#include <string.h>

#include "schema.h"

struct emitter {
	FILE *f;
	enum fh_emit_fmt fmt;
	unsigned flags;
};

/* Which interface keys a kind takes, so the output reloads without "does not apply" errors. */
static bool iface_key_applies(uint8_t kind, const char *key)
{
	static const char *const phys_only[] = {"device", "mtu", NULL};
	static const char *const tun_only[] = {"ip-unnumbered", "ip-mtu", "tunnel-source", "tunnel-mode",
					       "tunnel-key", "tunnel-protection", "nhrp", NULL};
	bool tun = kind == FH_IF_TUNNEL || kind == FH_IF_VTEMPLATE;

	for (int i = 0; phys_only[i] != NULL; i++)
		if (strcmp(key, phys_only[i]) == 0)
			return kind == FH_IF_PHYSICAL;
	for (int i = 0; tun_only[i] != NULL; i++)
		if (strcmp(key, tun_only[i]) == 0)
			return tun;
	if (strcmp(key, "tunnel-destination") == 0)
		return kind == FH_IF_TUNNEL;
	if (strcmp(key, "type") == 0)
		return kind == FH_IF_VTEMPLATE;
	return true;
}

/*
 * Length of a character at s that YAML does not take raw in a scalar, 0 for any other: DEL and
 * the C1 controls (not c-printable: the reader refuses them) and NEL, LS, PS (line breaks, folded
 * even inside quotes). A double-quoted escape may have put any of them into a loaded string.
 */
static size_t yaml_unsafe_char(const unsigned char *s)
{
	if (s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3; /* a byte-order mark: the reader drops it */
	return 0;
}

static bool yaml_needs_quotes(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "~", NULL};
	size_t n = strlen(s);

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) != NULL)
		return true;
	if (strstr(s, ": ") != NULL || strstr(s, " #") != NULL || s[n - 1] == ':')
		return true;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '\\' || s[i] == '"' || yaml_unsafe_char((const unsigned char *)s + i))
			return true;
	for (int i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	return false;
}

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		size_t u = yaml_unsafe_char((const unsigned char *)s);

		if (u == 1) {
			fputs("\\u007f", f);
		} else if (u == 2) {
			fprintf(f, "\\u00%02x", (unsigned char)s[1]);
			s++;
		} else if (u == 3) {
			fputs((unsigned char)s[0] == 0xef ? "\\ufeff" : (unsigned char)s[2] == 0xa8 ? "\\u2028" : "\\u2029", f);
			s += 2;
		} else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_string(const struct emitter *E, const char *s)
{
	if (E->fmt == FH_EMIT_JSON || yaml_needs_quotes(s))
		put_quoted(E->f, s);
	else
		fputs(s, E->f);
}

/* True when the scalar holds nothing worth printing (an unset optional string). */
static bool scalar_empty(const struct fh_key *k, const void *field)
{
	if (k->type == FH_K_STR || k->type == FH_K_HEX)
		return ((const char *)field)[0] == '\0';
	if (k->type == FH_K_IFADDR)
		return !((const struct fh_if_addr *)field)->present;
	return false;
}

static void put_scalar(const struct emitter *E, const struct fh_key *k, const void *field)
{
	char buf[64], a[16], w[16];

	if ((k->flags & FH_F_SECRET) && !(E->flags & FH_EMIT_SECRETS)) {
		put_string(E, "<hidden>");
		return;
	}
	switch (k->type) {
	case FH_K_STR:
	case FH_K_HEX:
		put_string(E, field);
		return;
	case FH_K_U32:
		if (k->flags & FH_F_HEXNUM) {
			snprintf(buf, sizeof(buf), "0x%08x", *(const uint32_t *)field);
			put_string(E, buf);
		} else {
			fprintf(E->f, "%u", *(const uint32_t *)field);
		}
		return;
	case FH_K_BOOL:
		fputs(*(const bool *)field ? "true" : "false", E->f);
		return;
	case FH_K_ENUM:
		put_string(E, fh_enum_name(k->enums, *(const uint8_t *)field));
		return;
	case FH_K_IPV4:
		fh_ip4_str(*(const uint32_t *)field, a, sizeof(a));
		put_string(E, a);
		return;
	case FH_K_PREFIX: {
		const struct fh_prefix *p = field;

		fh_ip4_str(p->addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s/%u", a, p->len);
		put_string(E, buf);
		return;
	}
	case FH_K_IFADDR: {
		const struct fh_if_addr *p = field;

		if (p->negotiated) {
			put_string(E, "negotiated");
			return;
		}
		fh_ip4_str(p->pfx.addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s/%u", a, p->pfx.len);
		put_string(E, buf);
		return;
	}
	case FH_K_RANGE: {
		const struct fh_cfg_pool_range *r = field;

		fh_ip4_str(r->first, a, sizeof(a));
		fh_ip4_str(r->last, w, sizeof(w));
		snprintf(buf, sizeof(buf), "%s %s", a, w);
		put_string(E, buf);
		return;
	}
	case FH_K_ACE: {
		const struct fh_ace *e = field;

		fh_ip4_str(e->addr, a, sizeof(a));
		fh_ip4_str(e->wildcard, w, sizeof(w));
		if (e->wildcard == ~0u)
			snprintf(buf, sizeof(buf), "%s any", e->permit ? "permit" : "deny");
		else
			snprintf(buf, sizeof(buf), "%s %s %s", e->permit ? "permit" : "deny", a, w);
		put_string(E, buf);
		return;
	}
	default:
		return;
	}
}

static void indent(FILE *f, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

static void emit_obj(const struct emitter *E, const struct fh_key *keys, const void *base, int depth,
		     int kind);

/* Print one key into a scratch stream; returns what was printed (NULL when nothing). */
static char *render_key(const struct emitter *E, const struct fh_key *k, const void *base, int depth)
{
	struct emitter sub = *E;
	const void *field = (const char *)base + k->off;
	uint32_t n = (k->type == FH_K_MAP || k->type == FH_K_LIST) ? *(const uint32_t *)((const char *)base + k->cnt_off) : 0;
	char *out = NULL;
	size_t len = 0;
	bool json = E->fmt == FH_EMIT_JSON;

	if (k->has_off != 0 && !*(const bool *)((const char *)base + k->has_off - 1))
		return NULL;
	/* an empty list whose key has a default is printed as [] (left out, it would reload as the
	 * default: "authentication-remote: []" came back as pre-share) */
	if (k->type == FH_K_LIST && n == 0 && k->dflt != NULL)
		return strdup("[]");
	if ((k->type == FH_K_MAP || k->type == FH_K_LIST) && n == 0)
		return NULL;
	if (k->type != FH_K_OBJ && k->type != FH_K_MAP && k->type != FH_K_LIST && scalar_empty(k, field))
		return NULL;
	sub.f = open_memstream(&out, &len);
	if (sub.f == NULL)
		return NULL;
	if (k->type == FH_K_OBJ) {
		emit_obj(&sub, k->sub, field, depth + 1, -1);
	} else if (k->type == FH_K_MAP) {
		const char *arr = *(const char *const *)field;

		for (uint32_t i = 0; i < n; i++) {
			const struct fh_named *el = (const void *)(arr + (size_t)i * k->size);
			int kind = k->sub[0].name != NULL && strcmp(k->name, "interfaces") == 0
					   ? ((const struct fh_cfg_iface *)el)->kind
					   : -1;

			if (json) {
				fprintf(sub.f, "%s", i ? "," : "");
				put_quoted(sub.f, el->name);
				fputc(':', sub.f);
				emit_obj(&sub, k->sub, el, depth + 1, kind);
			} else {
				indent(sub.f, depth + 1);
				put_string(&sub, el->name);
				fputs(":\n", sub.f);
				emit_obj(&sub, k->sub, el, depth + 2, kind);
			}
		}
	} else if (k->type == FH_K_LIST) {
		const char *arr = k->max > 0 ? field : *(const char *const *)field;

		for (uint32_t i = 0; i < n; i++) {
			const void *el = arr + (size_t)i * k->size;

			if (json)
				fputs(i ? "," : "", sub.f);
			if (k->flags & FH_F_OBJLIST) {
				if (!json) {
					/* "- " then the first key on the same line, as people write lists */
					char *o = NULL;
					size_t ol = 0;
					FILE *t = open_memstream(&o, &ol);
					struct emitter te = sub;

					if (t == NULL)
						continue;
					te.f = t;
					emit_obj(&te, k->sub, el, depth + 2, -1);
					fclose(t);
					indent(sub.f, depth + 1);
					fprintf(sub.f, "- %s", o + 2 * (depth + 2));
					free(o);
				} else {
					emit_obj(&sub, k->sub, el, depth + 1, -1);
				}
			} else {
				if (!json) {
					indent(sub.f, depth + 1);
					fputs("- ", sub.f);
				}
				put_scalar(&sub, &k->sub[0], el);
				if (!json)
					fputc('\n', sub.f);
			}
		}
	} else {
		put_scalar(&sub, k, field);
	}
	fclose(sub.f);
	if (len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void emit_obj(const struct emitter *E, const struct fh_key *keys, const void *base, int depth, int kind)
{
	bool json = E->fmt == FH_EMIT_JSON;
	bool first = true;

	if (json)
		fputc('{', E->f);
	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		char *v;

		if (kind >= 0 && !iface_key_applies((uint8_t)kind, k->name))
			continue;
		v = render_key(E, k, base, depth);
		if (v == NULL)
			continue;
		if (json) {
			fprintf(E->f, "%s\"%s\":", first ? "" : ",", k->name);
			if (k->type == FH_K_MAP)
				fprintf(E->f, "{%s}", v);
			else if (k->type == FH_K_LIST && strcmp(v, "[]") == 0)
				fputs(v, E->f);
			else if (k->type == FH_K_LIST)
				fprintf(E->f, "[%s]", v);
			else
				fputs(v, E->f);
		} else {
			indent(E->f, depth);
			if (k->type == FH_K_LIST && strcmp(v, "[]") == 0)
				fprintf(E->f, "%s: []\n", k->name);
			else if (k->type == FH_K_OBJ || k->type == FH_K_MAP || k->type == FH_K_LIST)
				fprintf(E->f, "%s:\n%s", k->name, v);
			else
				fprintf(E->f, "%s: %s\n", k->name, v);
		}
		first = false;
		free(v);
	}
	if (json)
		fputc('}', E->f);
}

int fh_config_emit(FILE *f, const struct fh_config *cfg, enum fh_emit_fmt fmt, unsigned flags)
{
	struct emitter E = {f, fmt, flags};

	emit_obj(&E, fh_schema_root, cfg, 0, -1);
	if (fmt == FH_EMIT_JSON)
		fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

static const char *doc_type(const struct fh_key *k)
{
	switch (k->type) {
	case FH_K_STR: return "string";
	case FH_K_U32: return "number";
	case FH_K_BOOL: return "bool";
	case FH_K_ENUM: return "keyword";
	case FH_K_IPV4: return "IPv4 address";
	case FH_K_PREFIX: return "IPv4 prefix";
	case FH_K_IFADDR: return "prefix or negotiated";
	case FH_K_ACE: return "access-list entry";
	case FH_K_HEX: return "hex";
	case FH_K_RANGE: return "address range";
	case FH_K_OBJ: return "block";
	case FH_K_MAP: return "named blocks";
	case FH_K_LIST: return "list";
	}
	return "?";
}

static void doc_block(FILE *f, const char *path, const struct fh_key *keys)
{
	fprintf(f, "\n### `%s`\n\n| key | type | default | range / values | meaning |\n|---|---|---|---|---|\n",
		path[0] ? path : "(top level)");
	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		const struct fh_key *vk = k->type == FH_K_LIST && !(k->flags & FH_F_OBJLIST) ? &k->sub[0] : k;
		char range[512] = "";

		if (vk->type == FH_K_U32)
			snprintf(range, sizeof(range), "%u..%u", vk->min, vk->max ? vk->max : UINT32_MAX);
		if (vk->type == FH_K_ENUM) {
			size_t n = 0;

			for (const struct fh_enum *e = vk->enums; e->name != NULL && n < sizeof(range); e++)
				n += (size_t)snprintf(range + n, sizeof(range) - n, "%s`%s`", n ? ", " : "", e->name);
		}
		if (k->type == FH_K_LIST && k->max > 0)
			snprintf(range + strlen(range), sizeof(range) - strlen(range), "%sat most %u items",
				 range[0] ? "; " : "", k->max);
		fprintf(f, "| `%s`%s | %s%s%s | %s | %s | %s |\n", k->name, (k->flags & FH_F_REQUIRED) ? " (required)" : "",
			k->type == FH_K_LIST && !(k->flags & FH_F_OBJLIST) ? "list of " : "",
			k->type == FH_K_LIST && !(k->flags & FH_F_OBJLIST) ? doc_type(vk) : doc_type(k),
			(k->flags & FH_F_SECRET) ? " (secret)" : "", k->dflt ? k->dflt : "", range, k->doc ? k->doc : "");
	}
	for (const struct fh_key *k = keys; k->name != NULL; k++) {
		char sub[256];

		if (k->type == FH_K_OBJ || k->type == FH_K_MAP || (k->type == FH_K_LIST && (k->flags & FH_F_OBJLIST))) {
			snprintf(sub, sizeof(sub), "%s%s%s%s", path, path[0] ? "." : "", k->name,
				 k->type == FH_K_MAP ? ".NAME" : k->type == FH_K_LIST ? "[]" : "");
			doc_block(f, sub, k->sub);
		}
	}
}

void fh_config_schema_doc(FILE *f)
{
	fputs("# flexhub configuration reference\n\n"
	      "Generated by `flexhub --schema-doc` from the schema table in lib/config/schema.c; a test\n"
	      "fails when this file and the table differ. See doc/config-guide.md for the mapping from\n"
	      "the FlexVPN IOS commands to these keys, and config/ for complete examples.\n\n"
	      "Conventions: lists of one item may be written as a bare value (`group: 14`); addresses\n"
	      "take `A.B.C.D/LEN` or the IOS form `A.B.C.D M.M.M.M`; interface names take IOS spellings\n"
	      "and abbreviations (`Gi1`, `tunnel 0`). Errors name file:line:column.\n",
	      f);
	doc_block(f, "", fh_schema_root);
}
