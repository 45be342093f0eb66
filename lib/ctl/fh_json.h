/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_JSON_H
#define FH_JSON_H

/*
 * The one JSON writer of the control socket's --json output (RFC 8259). Commands write to the
 * same FILE * their text goes to; the writer puts the commas, the colons and the nesting, and
 * escapes every string: '"', '\\', control characters (\b \f \n \r \t, else \u00XX), and DEL and
 * bytes that are not valid UTF-8 become \ufffd. Strings reach it from peers (IKE identities), so
 * nothing is written by hand anywhere else.
 *
 *   struct fh_json j;
 *   fh_json_init(&j, out);
 *   fh_json_arr_begin(&j);
 *   fh_json_obj_begin(&j);
 *   fh_json_kv_str(&j, "remote-id", peer_id);
 *   fh_json_kv_u64(&j, "child-sas", n);
 *   fh_json_obj_end(&j);
 *   fh_json_arr_end(&j);
 *   return fh_json_finish(&j);   // "\n"; -1 when misused
 *
 * Misuse (a value in an object without its key, a key in an array, an end that does not match,
 * nesting deeper than FH_JSON_DEPTH_MAX, a second top-level value) writes nothing more and makes
 * fh_json_finish() return -1, so the output stays valid as far as it goes and a test notices.
 *
 * Threading: one writer per output; no global state. Ownership: the writer holds the FILE *
 * it was given and never closes it; nothing is allocated except briefly in fh_json_strf().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting: show output is three levels (array, object, counters); 16 is plenty. */
#define FH_JSON_DEPTH_MAX 16

struct fh_json {
	FILE *out;
	uint32_t depth;                      /* open containers */
	bool obj[FH_JSON_DEPTH_MAX + 1];     /* container at this depth is an object */
	bool first[FH_JSON_DEPTH_MAX + 1];   /* nothing written in it yet */
	bool after_key;                      /* a key was written, its value comes next */
	bool done;                           /* the top-level value is complete */
	bool err;                            /* misused; sticky */
};

void fh_json_init(struct fh_json *j, FILE *out);

void fh_json_obj_begin(struct fh_json *j);
void fh_json_obj_end(struct fh_json *j);
void fh_json_arr_begin(struct fh_json *j);
void fh_json_arr_end(struct fh_json *j);

/* A member name, escaped like any string; the next call writes its value. */
void fh_json_key(struct fh_json *j, const char *key);

/* Values. str: NUL-terminated (NULL writes null); strn: n bytes, NULs included (as \u0000). */
void fh_json_str(struct fh_json *j, const char *s);
void fh_json_strn(struct fh_json *j, const char *s, size_t n);
void fh_json_strf(struct fh_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fh_json_u64(struct fh_json *j, uint64_t v);
void fh_json_i64(struct fh_json *j, int64_t v);
void fh_json_bool(struct fh_json *j, bool v);
void fh_json_null(struct fh_json *j);

/* key + value in one call, for the members of flat objects */
void fh_json_kv_str(struct fh_json *j, const char *key, const char *s);
void fh_json_kv_u64(struct fh_json *j, const char *key, uint64_t v);
void fh_json_kv_i64(struct fh_json *j, const char *key, int64_t v);
void fh_json_kv_bool(struct fh_json *j, const char *key, bool v);

/* End of the output: a newline after a complete top-level value. 0, or -1 when the writer was
 * misused, left containers open or the stream failed. */
int fh_json_finish(struct fh_json *j);

#endif
