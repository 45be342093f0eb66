/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON writer (RFC 8259) with escaping of everything a peer can put in a string. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fh_json.h"

/* What replaces DEL and bytes that are not UTF-8: U+FFFD, escaped so the output stays ASCII-safe. */
#define FH_JSON_REPLACEMENT "\\ufffd"

void fh_json_init(struct fh_json *j, FILE *out)
{
	*j = (struct fh_json){.out = out};
}

/* Before any value: the comma, or the check that the object's key came first. */
static bool value_ok(struct fh_json *j)
{
	if (j->err || j->done) {
		j->err = true;
		return false;
	}
	if (j->depth > 0 && j->obj[j->depth]) {
		if (!j->after_key) {
			j->err = true;
			return false;
		}
		j->after_key = false;
		return true;
	}
	if (j->depth > 0 && !j->first[j->depth])
		fputc(',', j->out);
	if (j->depth > 0)
		j->first[j->depth] = false;
	return true;
}

/* After a scalar or a closed container: the top-level value may be complete. */
static void value_done(struct fh_json *j)
{
	if (j->depth == 0)
		j->done = true;
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629 section 4: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 with *bad set to the bytes of its maximal invalid subpart, which
 * become one U+FFFD (Unicode's "substitution of maximal subparts").
 */
static size_t utf8_len(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else {
		*bad = 1; /* a stray continuation byte, C0/C1 (always overlong) or F5..FF */
		return 0;
	}
	/* the second byte's range is narrower after E0 (overlong), ED (surrogates), F0, F4 */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

static void put_escaped(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len, bad;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			fputc(c, f);
			i++;
			continue;
		}
		i++;
		switch (c) {
		case '"': fputs("\\\"", f); continue;
		case '\\': fputs("\\\\", f); continue;
		case '\b': fputs("\\b", f); continue;
		case '\f': fputs("\\f", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\r': fputs("\\r", f); continue;
		case '\t': fputs("\\t", f); continue;
		case 0x7f: fputs(FH_JSON_REPLACEMENT, f); continue;
		default: break;
		}
		if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			continue;
		}
		len = utf8_len(s + i - 1, n - (i - 1), &bad);
		if (len == 0) {
			fputs(FH_JSON_REPLACEMENT, f);
			i += bad - 1;
		} else {
			fwrite(s + i - 1, 1, len, f);
			i += len - 1;
		}
	}
	fputc('"', f);
}

static void open_container(struct fh_json *j, bool obj)
{
	if (!value_ok(j))
		return;
	if (j->depth == FH_JSON_DEPTH_MAX) {
		j->err = true;
		return;
	}
	fputc(obj ? '{' : '[', j->out);
	j->depth++;
	j->obj[j->depth] = obj;
	j->first[j->depth] = true;
}

static void close_container(struct fh_json *j, bool obj)
{
	if (j->err || j->depth == 0 || j->obj[j->depth] != obj || j->after_key) {
		j->err = true;
		return;
	}
	fputc(obj ? '}' : ']', j->out);
	j->depth--;
	value_done(j);
}

void fh_json_obj_begin(struct fh_json *j)
{
	open_container(j, true);
}

void fh_json_obj_end(struct fh_json *j)
{
	close_container(j, true);
}

void fh_json_arr_begin(struct fh_json *j)
{
	open_container(j, false);
}

void fh_json_arr_end(struct fh_json *j)
{
	close_container(j, false);
}

void fh_json_key(struct fh_json *j, const char *key)
{
	if (j->err || j->depth == 0 || !j->obj[j->depth] || j->after_key || key == NULL) {
		j->err = true;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	put_escaped(j->out, key, strlen(key));
	fputc(':', j->out);
	j->after_key = true;
}

void fh_json_strn(struct fh_json *j, const char *s, size_t n)
{
	if (!value_ok(j))
		return;
	put_escaped(j->out, s, n);
	value_done(j);
}

void fh_json_str(struct fh_json *j, const char *s)
{
	if (s == NULL)
		fh_json_null(j);
	else
		fh_json_strn(j, s, strlen(s));
}

void fh_json_strf(struct fh_json *j, const char *fmt, ...)
{
	char buf[256], *p = buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		j->err = true;
		return;
	}
	if ((size_t)n >= sizeof(buf)) {
		p = malloc((size_t)n + 1);
		if (p == NULL) {
			j->err = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	fh_json_strn(j, p, (size_t)n);
	if (p != buf)
		free(p);
}

void fh_json_u64(struct fh_json *j, uint64_t v)
{
	if (!value_ok(j))
		return;
	fprintf(j->out, "%" PRIu64, v);
	value_done(j);
}

void fh_json_i64(struct fh_json *j, int64_t v)
{
	if (!value_ok(j))
		return;
	fprintf(j->out, "%" PRId64, v);
	value_done(j);
}

void fh_json_bool(struct fh_json *j, bool v)
{
	if (!value_ok(j))
		return;
	fputs(v ? "true" : "false", j->out);
	value_done(j);
}

void fh_json_null(struct fh_json *j)
{
	if (!value_ok(j))
		return;
	fputs("null", j->out);
	value_done(j);
}

void fh_json_kv_str(struct fh_json *j, const char *key, const char *s)
{
	fh_json_key(j, key);
	fh_json_str(j, s);
}

void fh_json_kv_u64(struct fh_json *j, const char *key, uint64_t v)
{
	fh_json_key(j, key);
	fh_json_u64(j, v);
}

void fh_json_kv_i64(struct fh_json *j, const char *key, int64_t v)
{
	fh_json_key(j, key);
	fh_json_i64(j, v);
}

void fh_json_kv_bool(struct fh_json *j, const char *key, bool v)
{
	fh_json_key(j, key);
	fh_json_bool(j, v);
}

int fh_json_finish(struct fh_json *j)
{
	if (j->done)
		fputc('\n', j->out);
	if (j->err || !j->done || j->depth != 0 || ferror(j->out))
		return -1;
	return 0;
}
