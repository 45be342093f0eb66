/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command matching of the control socket: IOS abbreviations, ambiguity, arguments, JSON prefix;
 * and the JSON writer: escaping (every control character, quotes, backslashes, DEL, invalid
 * UTF-8), nesting and commas, misuse; cross-checked with Python's json module when it is there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fh_ctl.h"
#include "fh_json.h"
#include "fh_test.h"

static char last[256];

static int rec(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	size_t n = (size_t)snprintf(last, sizeof(last), "%s%s", (const char *)ctx, json ? " json" : "");

	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(last + n, sizeof(last) - n, " [%s]", argv[i]);
	fputs("ok\n", out);
	return 0;
}

static int run(const struct fh_ctl_cmd *tab, const char *line, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");
	int rc;

	last[0] = '\0';
	rc = fh_ctl_dispatch(tab, line, f, (void *)"hit");
	fclose(f);
	return rc;
}

/* Writes through a fresh writer; returns the output (caller frees) and fh_json_finish()'s result. */
struct jbuf {
	char *s;
	size_t len;
	FILE *f;
	struct fh_json j;
};

static struct fh_json *jopen(struct jbuf *b)
{
	b->s = NULL;
	b->len = 0;
	b->f = open_memstream(&b->s, &b->len);
	fh_json_init(&b->j, b->f);
	return &b->j;
}

static int jclose(struct jbuf *b)
{
	int rc = fh_json_finish(&b->j);

	fclose(b->f);
	return rc;
}

/* One string value, escaped: the output without its newline. */
static bool str_is(const char *in, size_t n, const char *want)
{
	struct jbuf b;
	bool ok;
	int rc;

	fh_json_strn(jopen(&b), in, n);
	rc = jclose(&b);
	ok = rc == 0 && b.len > 0 && b.s[b.len - 1] == '\n' && b.len - 1 == strlen(want) &&
	     memcmp(b.s, want, b.len - 1) == 0;
	if (!ok)
		printf("# got %s# want %s\n", b.s, want);
	free(b.s);
	return ok;
}

static void test_json_escapes(void)
{
	char ctl[32];

	for (int c = 0; c < 32; c++)
		ctl[c] = (char)c;
	fh_check(str_is(ctl, sizeof(ctl),
			"\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e"
			"\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a"
			"\\u001b\\u001c\\u001d\\u001e\\u001f\""),
		 "every control character: \\b \\t \\n \\f \\r by name, the others \\u00XX, NUL included");
	fh_check(str_is("fqdn \"a\\b\"/c", 12, "\"fqdn \\\"a\\\\b\\\"/c\""), "quotes and backslashes escaped, / kept");
	fh_check(str_is("a\x7f" "b", 3, "\"a\\ufffdb\""), "DEL becomes \\ufffd");
	fh_check(str_is("", 0, "\"\""), "empty string");
	fh_check(str_is("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 16,
			"\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\""),
		 "valid UTF-8 (2, 3, 4 bytes, U+10FFFF) passes as it is");
	fh_check(str_is("\x80", 1, "\"\\ufffd\""), "a stray continuation byte is replaced");
	fh_check(str_is("\xc0\xaf", 2, "\"\\ufffd\\ufffd\""), "overlong C0 AF: two replacements");
	fh_check(str_is("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\""), "overlong E0 80 AF: three");
	fh_check(str_is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""), "a UTF-16 surrogate (ED A0 80): three");
	fh_check(str_is("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""), "above U+10FFFF: four");
	fh_check(str_is("\xe2\x82", 2, "\"\\ufffd\""), "a sequence cut by the end of the string: one");
	fh_check(str_is("\xe2\x82" "A\xf0\x9f\x98", 6, "\"\\ufffdA\\ufffd\""), "a sequence cut by an ASCII byte: one");
	fh_check(str_is("\xf5\xff\xfe", 3, "\"\\ufffd\\ufffd\\ufffd\""), "F5..FF never start a sequence");
}

static void test_json_nesting(void)
{
	struct jbuf b;
	struct fh_json *j = jopen(&b);
	char big[400];
	int rc;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fh_json_obj_begin(j);
	fh_json_key(j, "a");
	fh_json_arr_begin(j);
	fh_json_u64(j, UINT64_MAX);
	fh_json_i64(j, INT64_MIN);
	fh_json_bool(j, true);
	fh_json_bool(j, false);
	fh_json_null(j);
	fh_json_str(j, NULL);
	fh_json_obj_begin(j);
	fh_json_kv_str(j, "b", "c");
	fh_json_kv_u64(j, "n", 7);
	fh_json_kv_i64(j, "m", -7);
	fh_json_kv_bool(j, "t", true);
	fh_json_obj_end(j);
	fh_json_arr_begin(j);
	fh_json_arr_end(j);
	fh_json_arr_end(j);
	fh_json_kv_str(j, "k\"ey", "v");
	fh_json_key(j, "d");
	fh_json_obj_begin(j);
	fh_json_obj_end(j);
	fh_json_key(j, "spi");
	fh_json_strf(j, "%016llx", 0x1234ull);
	fh_json_key(j, "big");
	fh_json_strf(j, "%s", big);
	fh_json_obj_end(j);
	rc = jclose(&b);
	{
		static const char head[] = "{\"a\":[18446744073709551615,-9223372036854775808,true,false,null,null,"
					   "{\"b\":\"c\",\"n\":7,\"m\":-7,\"t\":true},[]],\"k\\\"ey\":\"v\",\"d\":{},"
					   "\"spi\":\"0000000000001234\",\"big\":\"";
		size_t h = sizeof(head) - 1;
		bool ok = rc == 0 && b.len == h + 399 + 3 && strncmp(b.s, head, h) == 0 &&
			  strspn(b.s + h, "x") == 399 && strcmp(b.s + h + 399, "\"}\n") == 0;

		if (!fh_check(ok, "nesting, commas, every value type, escaped keys, long formatted strings"))
			printf("# got %s", b.s);
	}
	free(b.s);
}

static void test_json_misuse(void)
{
	struct jbuf b;
	struct fh_json *j;

	j = jopen(&b);
	fh_json_obj_begin(j);
	fh_json_u64(j, 1);
	fh_json_obj_end(j);
	fh_check(jclose(&b) < 0, "a value in an object without its key is refused");
	free(b.s);

	j = jopen(&b);
	fh_json_arr_begin(j);
	fh_json_key(j, "k");
	fh_json_arr_end(j);
	fh_check(jclose(&b) < 0, "a key in an array is refused");
	free(b.s);

	j = jopen(&b);
	fh_json_arr_begin(j);
	fh_json_obj_end(j);
	fh_check(jclose(&b) < 0, "an end that does not match is refused");
	free(b.s);

	j = jopen(&b);
	fh_json_arr_begin(j);
	fh_check(jclose(&b) < 0 && strcmp(b.s, "[") == 0, "an open array is refused at the end (no newline)");
	free(b.s);

	j = jopen(&b);
	fh_json_obj_begin(j);
	fh_json_key(j, "k");
	fh_json_obj_end(j);
	fh_check(jclose(&b) < 0, "a key without its value is refused");
	free(b.s);

	j = jopen(&b);
	fh_json_u64(j, 1);
	fh_json_u64(j, 2);
	fh_check(jclose(&b) < 0 && strcmp(b.s, "1\n") == 0, "a second top-level value is refused and not written");
	free(b.s);

	j = jopen(&b);
	for (int i = 0; i < FH_JSON_DEPTH_MAX + 1; i++)
		fh_json_arr_begin(j);
	fh_check(jclose(&b) < 0 && b.len == FH_JSON_DEPTH_MAX, "nesting deeper than FH_JSON_DEPTH_MAX is refused");
	free(b.s);
}

/* Random byte strings through the writer and Python's json module: what Python decodes must be
 * the bytes as UTF-8 with invalid sequences replaced (DEL too), and the output must parse. */
static void test_json_python(void)
{
	static const char py[] =
		"import json,sys\n"
		"d=open(sys.argv[1],'rb').read().split(b'\\n')\n"
		"got=json.loads(d[0])\n"
		"raw=[bytes.fromhex(h.decode()) for h in d[1].split(b',')[:-1]]\n"
		"want=[r.decode('utf-8','replace').replace('\\x7f','\\ufffd') for r in raw]\n"
		"bad=[i for i in range(len(want)) if got['s'][i]!=want[i]]\n"
		"print('ok' if len(got['s'])==len(want) and not bad and got['n']==len(want) else 'bad %s' % bad[:3])\n";
	char path[] = "/tmp/fh_json_XXXXXX", cmd[512], res[64] = "";
	unsigned seed = 12345;
	struct fh_json j;
	FILE *f, *p;
	int fd, rc;

	if (access("/usr/bin/python3", X_OK) != 0) {
		fh_check(true, "# SKIP no /usr/bin/python3");
		return;
	}
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fh_check(f != NULL, "temporary file for the Python check"))
		return;
	fh_json_init(&j, f);
	fh_json_obj_begin(&j);
	fh_json_key(&j, "s");
	fh_json_arr_begin(&j);
	char (*strs)[48] = calloc(500, 48);
	size_t lens[500];

	for (int i = 0; i < 500; i++) {
		lens[i] = (size_t)(i % 48);
		for (size_t k = 0; k < lens[i]; k++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly the interesting bytes: controls, quotes, DEL, lead and continuation bytes */
			static const unsigned char pick[] = {0, 1, 9, 10, 31, '"', '\\', '/', 'a', 0x7f, 0x80, 0xbf,
							     0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0};
			strs[i][k] = (char)((seed >> 16) % 4 == 0 ? (seed >> 8) & 0xff : pick[(seed >> 16) % sizeof(pick)]);
		}
		fh_json_strn(&j, strs[i], lens[i]);
	}
	fh_json_arr_end(&j);
	fh_json_kv_u64(&j, "n", 500);
	fh_json_obj_end(&j);
	rc = fh_json_finish(&j);
	for (int i = 0; i < 500; i++) {
		for (size_t k = 0; k < lens[i]; k++)
			fprintf(f, "%02x", (unsigned char)strs[i][k]);
		fputc(',', f);
	}
	fclose(f);
	free(strs);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$FH_PY\" %s", path);
	setenv("FH_PY", py, 1);
	p = popen(cmd, "r");
	if (p != NULL) {
		if (fgets(res, sizeof(res), p) == NULL)
			res[0] = '\0';
		res[strcspn(res, "\n")] = '\0';
		pclose(p);
	}
	unlink(path);
	fh_check(rc == 0 && strncmp(res, "ok", 2) == 0, "500 random byte strings: Python's json decodes what was meant (%s)",
		 res);
}

/* A streamed command: 10,000 JSON entries of about 200 bytes (2 MB), a chunk per call. */
#define BIG_N 10000

static struct {
	unsigned calls, calls_this_poll, max_calls_per_poll;
	long max_bytes;
} big;

static int show_big(FILE *out, struct fh_ctl_cursor *cur, void *ctx)
{
	long start = ftell(out);

	(void)ctx;
	big.calls++;
	big.calls_this_poll++;
	if (cur->pos == 0) {
		fh_json_init(&cur->js, out);
		fh_json_arr_begin(&cur->js);
	}
	for (; cur->pos < BIG_N && !fh_ctl_chunk_full(cur, out); cur->pos++) {
		fh_json_obj_begin(&cur->js);
		fh_json_kv_u64(&cur->js, "tunnel-id", cur->pos + 1);
		fh_json_kv_str(&cur->js, "remote-id", "fqdn \"peer\"\\with quotes and a long name to make the entry long");
		fh_json_kv_str(&cur->js, "status", "READY");
		fh_json_kv_str(&cur->js, "padding", "................................................................");
		fh_json_obj_end(&cur->js);
	}
	if (ftell(out) - start > big.max_bytes)
		big.max_bytes = ftell(out) - start;
	if (cur->pos < BIG_N)
		return 1;
	fh_json_arr_end(&cur->js);
	return fh_json_finish(&cur->js);
}

static int show_small(FILE *out, bool json, int argc, char **argv, void *ctx)
{
	(void)json;
	(void)argc;
	(void)argv;
	(void)ctx;
	fputs("small\n", out);
	return 0;
}

static const struct fh_ctl_cmd stream_tab[] = {
	{"show big", "", NULL, show_big},
	{"show small", "", show_small},
	{NULL, NULL, NULL},
};

static double ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Child: one request through the client library, the answer into a file. */
static pid_t client(const char *sock, const char *line, const char *file)
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *f = fopen(file, "w");
		int rc = f != NULL ? fh_ctl_request(sock, line, f) : -1;

		if (f != NULL)
			fclose(f);
		_exit(rc == 0 ? 0 : 1);
	}
	return pid;
}

/* Child: sends its line, then reads nothing for stall_ms, then everything (counted in the file). */
static pid_t slow_client(const char *sock, const char *line, int stall_ms, const char *file)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char buf[65536];
		size_t total = 0;
		ssize_t r;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		FILE *f;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, line, strlen(line)) < 0)
			_exit(1);
		usleep((useconds_t)stall_ms * 1000);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += (size_t)r;
		f = fopen(file, "w");
		if (f != NULL) {
			fprintf(f, "%zu\n", total);
			fclose(f);
		}
		_exit(0);
	}
	return pid;
}

static char *slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *s = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (s != NULL && fread(s, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return s;
}

static void test_stream(void)
{
	struct fh_ctl_server srv;
	char sock[64], f_big[64], f_small[64], f_slow[64], *txt;
	pid_t slow, fast, small;
	double t0, t_fast = 0, t_slow = 0, worst = 0;
	unsigned calls_at_fast, per_answer;
	size_t len, n_entries = 0;
	int status, pending = 3;

	snprintf(sock, sizeof(sock), "/tmp/fh_ctl_test_%d.sock", (int)getpid());
	snprintf(f_big, sizeof(f_big), "/tmp/fh_ctl_test_%d.big", (int)getpid());
	snprintf(f_small, sizeof(f_small), "/tmp/fh_ctl_test_%d.small", (int)getpid());
	snprintf(f_slow, sizeof(f_slow), "/tmp/fh_ctl_test_%d.slow", (int)getpid());
	{
		bool had0 = fcntl(0, F_GETFD) >= 0;

		memset(&srv, 0, sizeof(srv)); /* as the daemon's calloc'd app */
		fh_ctl_close(&srv);           /* stop() after a start that failed early: must not close fd 0 */
		fh_check(!had0 || fcntl(0, F_GETFD) >= 0, "closing a never-opened server leaves fd 0 alone");
	}
	if (!fh_check(fh_ctl_open(&srv, sock) == 0, "control socket opens"))
		return;
	memset(&big, 0, sizeof(big));
	t0 = ms_now();
	slow = slow_client(sock, "json show big\n", 700, f_slow);
	fast = client(sock, "json show big", f_big);
	small = client(sock, "show small", f_small);
	calls_at_fast = 0;
	while (pending > 0 && ms_now() - t0 < 20000) {
		double a = ms_now();
		pid_t w;

		big.calls_this_poll = 0;
		fh_ctl_poll(&srv, 1, stream_tab, NULL);
		if (big.calls_this_poll > big.max_calls_per_poll)
			big.max_calls_per_poll = big.calls_this_poll;
		if (ms_now() - a > worst)
			worst = ms_now() - a;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			pending--;
			if (w == fast) {
				t_fast = ms_now() - t0;
				calls_at_fast = big.calls;
			}
			if (w == slow)
				t_slow = ms_now() - t0;
		}
	}
	fh_ctl_close(&srv);
	per_answer = big.calls / 2;
	(void)small;
	fh_check(pending == 0, "three clients answered");
	fh_check(big.max_bytes <= FH_CTL_CHUNK + 256, "a streamed call writes one chunk: at most %ld bytes", big.max_bytes);
	fh_check(big.max_calls_per_poll <= 2, "at most one chunk per connection per poll (%u, two streaming)",
		 big.max_calls_per_poll);
	fh_check(t_fast > 0 && t_fast < 650 && t_slow >= 700,
		 "a client that does not read holds nothing up: the other big answer done at %.0f ms, the stalled one at %.0f ms",
		 t_fast, t_slow);
	/* while the slow client read nothing its command made only what its socket could buffer */
	fh_check(calls_at_fast <= per_answer + 30,
		 "the stalled command waited: %u of its %u chunks made when the other answer was done",
		 calls_at_fast - per_answer, per_answer);
	fh_check(worst < 250, "the longest poll took %.1f ms", worst);
	txt = slurp(f_big, &len);
	for (const char *p = txt; p != NULL && (p = strstr(p, "\"tunnel-id\":")) != NULL; p++)
		n_entries++;
	fh_check(txt != NULL && len > 1900000 && txt[0] == '[' && strcmp(txt + len - 3, "}]\n") == 0 &&
			 n_entries == BIG_N && strstr(txt, "\"remote-id\":\"fqdn \\\"peer\\\"\\\\with") != NULL,
		 "the streamed JSON answer arrived whole: %zu entries, %zu bytes", n_entries, len);
	free(txt);
	txt = slurp(f_slow, &len);
	fh_check(txt != NULL && strtoul(txt, NULL, 10) > 1900000, "the stalled client got its whole answer too (%s bytes)",
		 txt ? strtok(txt, "\n") : "no");
	free(txt);
	txt = slurp(f_small, &len);
	fh_check(txt != NULL && strcmp(txt, "small\n") == 0, "a plain command is answered as before");
	free(txt);
	unlink(f_big);
	unlink(f_small);
	unlink(f_slow);
	{
		/* one-shot dispatch runs a streamed command to its end */
		char *o = NULL;
		size_t ol = 0;
		FILE *f = open_memstream(&o, &ol);
		int rc = fh_ctl_dispatch(stream_tab, "json show big", f, NULL);

		fclose(f);
		fh_check(rc == 0 && ol > 1900000 && strcmp(o + ol - 3, "}]\n") == 0, "fh_ctl_dispatch runs a cursor to the end");
		free(o);
	}
}

int main(void)
{
	static const struct fh_ctl_cmd tab[] = {
		{"show ip interface brief", "", rec},
		{"show ip route", "", rec},
		{"show running-config", "", rec},
		{"show counters", "", rec},
		{"debug *", "", rec},
		{"no debug *", "", rec},
		{NULL, NULL, NULL},
	};
	char out[512];

	fh_check(run(tab, "show ip interface brief", out, sizeof(out)) == 0 && strcmp(last, "hit") == 0, "full spelling");
	fh_check(run(tab, "sh ip int br", out, sizeof(out)) == 0 && strcmp(last, "hit") == 0, "IOS abbreviations");
	fh_check(run(tab, "SH IP INT BR", out, sizeof(out)) == 0, "case-insensitive");
	fh_check(run(tab, "json sh run", out, sizeof(out)) == 0 && strcmp(last, "hit json") == 0, "json prefix");
	fh_check(run(tab, "sh ip", out, sizeof(out)) < 0 && strstr(out, "% Incomplete command") != NULL,
		 "incomplete command");
	fh_check(run(tab, "sh ip r", out, sizeof(out)) == 0, "unique prefix of the last word");
	fh_check(run(tab, "sh c", out, sizeof(out)) == 0, "sh c is show counters");
	fh_check(run(tab, "show", out, sizeof(out)) < 0 && strstr(out, "Incomplete") != NULL, "bare show is incomplete");
	fh_check(run(tab, "show bogus", out, sizeof(out)) < 0 && strstr(out, "% Invalid input") != NULL,
		 "unknown command");
	fh_check(run(tab, "sh ip int br extra", out, sizeof(out)) < 0, "extra words refused");
	fh_check(run(tab, "debug crypto ikev2 packet", out, sizeof(out)) == 0 &&
			 strcmp(last, "hit [crypto] [ikev2] [packet]") == 0,
		 "trailing arguments passed on");
	fh_check(run(tab, "no debug nhrp", out, sizeof(out)) == 0 && strcmp(last, "hit [nhrp]") == 0, "no debug");
	fh_check(run(tab, "", out, sizeof(out)) < 0, "empty line refused");
	fh_check(run(tab, "a b c d e f g h i j k l m n o p q r s", out, sizeof(out)) < 0 &&
			 strstr(out, "Too many words") != NULL,
		 "too many words refused");
	{
		static const struct fh_ctl_cmd amb[] = {{"show counters", "", rec}, {"show crypto", "", rec}, {NULL, NULL, NULL}};

		fh_check(run(amb, "sh c", out, sizeof(out)) < 0 && strstr(out, "Ambiguous") != NULL, "ambiguous abbreviation");
	}
	test_json_escapes();
	test_json_nesting();
	test_json_misuse();
	test_json_python();
	test_stream();
	return fh_test_done();
}
