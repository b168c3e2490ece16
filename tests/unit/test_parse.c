/*
 * test_parse.c - unit tests for src/web/parse.c (cmocka).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "parse.h"

#define BOUNDARY	"----WebKitFormBoundaryAbC123"
#define CTYPE		"multipart/form-data; boundary=" BOUNDARY

static int
setup_arena(void **state)
{
	struct arena	*a;

	if ((a = arena_new(0)) == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown_arena(void **state)
{
	arena_free(*state);
	return 0;
}

/*
 * Urlencoded.
 */

static void
test_url_normal(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err = "x";
	const char	*s = "a=1&b=two&a=3";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_null(err);
	assert_int_equal(l.n, 3);
	assert_string_equal(kv_get(&l, "a"), "1");
	assert_string_equal(kv_get(&l, "b"), "two");
	assert_int_equal(kv_count(&l, "a"), 2);
	assert_int_equal(kv_count(&l, "zz"), 0);
	assert_null(kv_get(&l, "zz"));
	assert_string_equal(l.v[2].val, "3");
	/* Only len bytes are read. */
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, "k=vvvv", 3, &l, 10, &err), 0);
	assert_string_equal(kv_get(&l, "k"), "v");
	/* Empty input. */
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, NULL, 0, &l, 10, &err), 0);
	assert_int_equal(l.n, 0);
}

static void
test_url_plus(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*s = "q=hello+world&x+y=%2B";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_string_equal(kv_get(&l, "q"), "hello world");
	assert_string_equal(kv_get(&l, "x y"), "+");
}

static void
test_url_utf8(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*s =
	    "%E5%A7%93%E5%90%8D=%E5%BC%A0%E4%B8%89&b=%e4%b8%ad";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_string_equal(kv_get(&l, "姓名"), "张三");
	assert_string_equal(kv_get(&l, "b"), "中");
	/* Raw (unescaped) UTF-8 is kept as is. */
	kvlist_init(&l);
	s = "名=值";
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_string_equal(kv_get(&l, "名"), "值");
}

static void
test_url_nul(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const struct kv	*kv;
	const char	*err;
	const char	*s = "v=a%00b&w=%00";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_non_null(kv = kv_find(&l, "v"));
	assert_int_equal(kv->vallen, 3);
	assert_memory_equal(kv->val, "a\0b", 4);
	assert_non_null(kv = kv_find(&l, "w"));
	assert_int_equal(kv->vallen, 1);
	/* A NUL byte in a key is refused. */
	kvlist_init(&l);
	s = "k%00x=1";
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), -1);
	assert_non_null(err);
}

static void
test_url_missing_eq(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const struct kv	*kv;
	const char	*err;
	const char	*s = "c&d=&=e&f";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_int_equal(l.n, 4);
	assert_non_null(kv = kv_find(&l, "c"));
	assert_string_equal(kv->val, "");
	assert_int_equal(kv->vallen, 0);
	assert_string_equal(kv_get(&l, "d"), "");
	assert_string_equal(kv_get(&l, ""), "e");
	assert_string_equal(kv_get(&l, "f"), "");
	/* Only the first '=' splits. */
	kvlist_init(&l);
	s = "k=a=b";
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_string_equal(kv_get(&l, "k"), "a=b");
}

static void
test_url_empty_pairs(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*s = "&&a=1&&&b=2&";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 2, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_get(&l, "a"), "1");
	assert_string_equal(kv_get(&l, "b"), "2");
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, "&&&", 3, &l, 0, &err), 0);
	assert_int_equal(l.n, 0);
}

static void
test_url_malformed(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*bad[] = { "a=%G1", "a=%4", "a=%", "a=1&b=%4", "%zz=1",
	    "a=%4g", "a=%%41" };
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kvlist_init(&l);
		err = NULL;
		assert_int_equal(parse_urlencoded(a, bad[i], strlen(bad[i]),
		    &l, 10, &err), -1);
		assert_non_null(err);
		assert_string_equal(err, "malformed %-escape");
	}
	/* A '%' escape cut by len is malformed too. */
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, "a=%41", 4, &l, 10, &err), -1);
}

static void
test_url_too_many(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*s = "a=1&b=2&c=3";

	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 3, &err), 0);
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 2, &err), -1);
	assert_string_equal(err, "too many fields");
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, "a", 1, &l, 0, &err), -1);
}

static void
test_url_long_key(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	char		 s[2048];

	memset(s, 'k', 256);
	strcpy(s + 256, "=v");
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	assert_int_equal(strlen(l.v[0].key), 256);
	memset(s, 'k', 257);
	strcpy(s + 257, "=v");
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), -1);
	assert_string_equal(err, "field name too long");
	/* Counted after decoding: 256 escapes decode to 256 bytes. */
	for (size_t i = 0; i < 256; i++)
		memcpy(s + 3 * i, "%41", 3);
	strcpy(s + 768, "=v");
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, strlen(s), &l, 10, &err), 0);
	/* A long value is fine. */
	memset(s, 'v', 2000);
	memcpy(s, "k=", 2);
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, s, 2000, &l, 10, &err), 0);
	assert_int_equal(kv_find(&l, "k")->vallen, 1998);
}

static void
test_url_bad_utf8_key(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	const char	*err;
	const char	*bad[] = { "%FF=1", "%C0%AF=1", "%E4%B8=1",
	    "%ED%A0%80=1", "\xff=1" };
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kvlist_init(&l);
		assert_int_equal(parse_urlencoded(a, bad[i], strlen(bad[i]),
		    &l, 10, &err), -1);
		assert_non_null(err);
	}
	/* Values are not checked. */
	kvlist_init(&l);
	assert_int_equal(parse_urlencoded(a, "k=%FF", 5, &l, 10, &err), 0);
	assert_int_equal((unsigned char)kv_get(&l, "k")[0], 0xff);
}

static void
test_kvlist_add(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	char		 key[16];
	size_t		 i;

	kvlist_init(&l);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(kvlist_add(a, &l, key, strlen(key), "v\0w",
		    3), 0);
	}
	assert_int_equal(l.n, 100);
	assert_non_null(kv_find(&l, "k99"));
	assert_int_equal(kv_find(&l, "k42")->vallen, 3);
	assert_memory_equal(kv_find(&l, "k42")->val, "v\0w", 4);
	/* Only keylen bytes of the key. */
	assert_int_equal(kvlist_add(a, &l, "abcdef", 3, "", 0), 0);
	assert_string_equal(kv_get(&l, "abc"), "");
}

/*
 * Cookies.
 */

static void
test_cookie_normal(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;

	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "sid=abc123; lang=zh-CN", &l, 10), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_get(&l, "sid"), "abc123");
	assert_string_equal(kv_get(&l, "lang"), "zh-CN");
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, NULL, &l, 10), 0);
	assert_int_equal(parse_cookies(a, "", &l, 10), 0);
	assert_int_equal(l.n, 0);
	/* No %-decoding; '=' inside the value is kept. */
	assert_int_equal(parse_cookies(a, "t=a%20b==", &l, 10), 0);
	assert_string_equal(kv_get(&l, "t"), "a%20b==");
}

static void
test_cookie_spaces(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;

	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "  a = 1 ;b=2;\tc=3\t;;  ; d=", &l,
	    10), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(kv_get(&l, "a"), "1");
	assert_string_equal(kv_get(&l, "b"), "2");
	assert_string_equal(kv_get(&l, "c"), "3");
	assert_string_equal(kv_get(&l, "d"), "");
}

static void
test_cookie_quotes(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;

	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "a=\"quoted\"; b=\"\"; c=\"", &l,
	    10), 0);
	assert_string_equal(kv_get(&l, "a"), "quoted");
	assert_string_equal(kv_get(&l, "b"), "");
	/* A lone quote is malformed. */
	assert_null(kv_get(&l, "c"));
	assert_int_equal(l.n, 2);
}

static void
test_cookie_malformed(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;

	kvlist_init(&l);
	assert_int_equal(parse_cookies(a,
	    "junk; =nokey; a b=1; ok=yes; x=\"in\"side\"; y=\x01; good=1;"
	    " (p)=2; z=a\"b", &l, 10), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_get(&l, "ok"), "yes");
	assert_string_equal(kv_get(&l, "good"), "1");
	/* Duplicates are kept in order. */
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "s=1; s=2", &l, 10), 0);
	assert_string_equal(kv_get(&l, "s"), "1");
	assert_int_equal(kv_count(&l, "s"), 2);
}

static void
test_cookie_limits(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	char		*h;

	h = malloc(8200);
	assert_non_null(h);
	memset(h, 'v', 8192);
	memcpy(h, "k=", 2);
	h[8192] = '\0';
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, h, &l, 10), 0);
	assert_int_equal(kv_find(&l, "k")->vallen, 8190);
	h[8192] = 'v';
	h[8193] = '\0';
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, h, &l, 10), -1);
	free(h);

	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "a=1; b=2; c=3", &l, 3), 0);
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "a=1; b=2; c=3", &l, 2), -1);
	/* Skipped pairs do not count. */
	kvlist_init(&l);
	assert_int_equal(parse_cookies(a, "a=1; junk; b b=2", &l, 1), 0);
}

/*
 * Multipart.
 */

/* Records the events as text: "B name|filename|type\n", the data bytes
 * after "D" (one "D" per run of data calls), "E\n". */
struct rec {
	struct buf	 out;
	int		 indata;
	int		 inpart;
	int		 abort_begin;	/* fail part_begin of this part (1-) */
	int		 abort_data;	/* fail the first part_data */
	int		 nbegin;
};

static int
rec_begin(void *arg, const struct mp_part *p)
{
	struct rec	*r = arg;

	assert_false(r->inpart);
	r->inpart = 1;
	r->indata = 0;
	if (++r->nbegin == r->abort_begin)
		return -1;
	assert_int_equal(buf_printf(&r->out, "B %s|%s|%s\n", p->name,
	    p->filename ? p->filename : "(null)",
	    p->content_type ? p->content_type : "(null)"), 0);
	return 0;
}

static int
rec_data(void *arg, const char *p, size_t n)
{
	struct rec	*r = arg;

	assert_true(r->inpart);
	assert_true(n > 0);
	if (r->abort_data)
		return -1;
	if (!r->indata)
		assert_int_equal(buf_append(&r->out, "D", 1), 0);
	r->indata = 1;
	assert_int_equal(buf_append(&r->out, p, n), 0);
	return 0;
}

static int
rec_end(void *arg)
{
	struct rec	*r = arg;

	assert_true(r->inpart);
	r->inpart = 0;
	r->indata = 0;
	assert_int_equal(buf_append(&r->out, "E\n", 2), 0);
	return 0;
}

static const struct mp_callbacks rec_cb = { rec_begin, rec_data, rec_end };

static const char FILE1[] =
    "DICM\0\x01\x02\r\n--\r\n--" "----WebKitFormBoundaryAbC12X\r\n" "-" BOUNDARY
    "\r\n\r--" BOUNDARY "\r\n---" BOUNDARY "\r\n--" "----WebKitFormBound"
    "\xff\x00\r\r\n\r";

static size_t
browser_body(char *out, size_t size)
{
	struct buf	 b;
	char		*s;
	size_t		 len;

	buf_init(&b, 0);
	assert_int_equal(buf_appends(&b,
	    "--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n"
	    "\r\n"
	    "CT 胸部平扫\r\n"
	    "--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"note\"\r\n"
	    "\r\n"
	    "line1\r\nline2\r\n"
	    "--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"scan\"; "
	    "filename=\"scan.dcm\"\r\n"
	    "Content-Type: application/dicom\r\n"
	    "\r\n"), 0);
	assert_int_equal(buf_append(&b, FILE1, sizeof(FILE1) - 1), 0);
	assert_int_equal(buf_appends(&b,
	    "\r\n--" BOUNDARY "\r\n"
	    "Content-Disposition: form-data; name=\"report\"; "
	    "filename=\"report.txt\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "hello\r\n"
	    "--" BOUNDARY "--\r\n"), 0);
	len = b.len;
	assert_true(len <= size);
	s = buf_take(&b);
	memcpy(out, s, len);
	free(s);
	return len;
}

static char *
expected_events(size_t *len)
{
	struct buf	 b;
	char		*s;

	buf_init(&b, 0);
	assert_int_equal(buf_appends(&b,
	    "B title|(null)|(null)\nDCT 胸部平扫E\n"
	    "B note|(null)|(null)\nDline1\r\nline2E\n"
	    "B scan|scan.dcm|application/dicom\nD"), 0);
	assert_int_equal(buf_append(&b, FILE1, sizeof(FILE1) - 1), 0);
	assert_int_equal(buf_appends(&b,
	    "E\nB report|report.txt|text/plain\nDhelloE\n"), 0);
	*len = b.len;
	s = buf_take(&b);
	return s;
}

/* Feed body in chunks from sizes[] (cycled; 0 ends the list; NULL: all
 * at once) to a parser whose events go to r.  Returns the result of the
 * feeds and mp_finish(), or -2 if mp_new() failed; *why is the reason. */
static int
mp_run_chunks(struct arena *a, const char *ctype, const char *body,
    size_t len, const size_t *sizes, struct rec *r,
    const struct mp_limits *lim, const char **why)
{
	struct mp_parser	*mp;
	const char		*err = NULL;
	size_t			 off, n, k = 0;
	int			 rc = 0;

	*why = NULL;
	if ((mp = mp_new(a, ctype, &rec_cb, r, lim, &err)) == NULL) {
		*why = err;
		return -2;
	}
	for (off = 0; off < len; off += n) {
		n = sizes == NULL ? len : sizes[k];
		if (sizes != NULL && sizes[++k] == 0)
			k = 0;
		if (n > len - off)
			n = len - off;
		if ((rc = mp_feed(mp, body + off, n)) == -1)
			break;
	}
	if (rc == 0)
		rc = mp_finish(mp);
	*why = mp_error(mp);
	return rc;
}

static void
test_mp_browser_whole(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	char		 body[4096], *exp;
	size_t		 len, elen;
	const char	*why;

	len = browser_body(body, sizeof(body));
	exp = expected_events(&elen);
	memset(&r, 0, sizeof(r));
	buf_init(&r.out, 0);
	assert_int_equal(mp_run_chunks(a, CTYPE, body, len, NULL, &r, NULL,
	    &why), 0);
	assert_null(why);
	assert_int_equal(r.out.len, elen);
	assert_memory_equal(r.out.data, exp, elen);
	buf_free(&r.out);
	free(exp);
}

static void
test_mp_browser_bytewise(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	char		 body[4096], *exp;
	size_t		 len, elen;
	const size_t	 one[] = { 1, 0 };
	const char	*why;

	len = browser_body(body, sizeof(body));
	exp = expected_events(&elen);
	memset(&r, 0, sizeof(r));
	buf_init(&r.out, 0);
	assert_int_equal(mp_run_chunks(a, CTYPE, body, len, one, &r, NULL,
	    &why), 0);
	assert_int_equal(r.out.len, elen);
	assert_memory_equal(r.out.data, exp, elen);
	buf_free(&r.out);
	free(exp);
}

static void
test_mp_browser_random(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	char		 body[4096], *exp;
	size_t		 len, elen, sizes[64], i;
	uint32_t	 seed = 12345;
	int		 round;
	const char	*why;

	len = browser_body(body, sizeof(body));
	exp = expected_events(&elen);
	for (round = 0; round < 500; round++) {
		for (i = 0; i < 63; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly small chunks, around the delimiter size. */
			sizes[i] = 1 + (seed >> 16) % (round % 2 ? 40 : 300);
		}
		sizes[63] = 0;
		memset(&r, 0, sizeof(r));
		buf_init(&r.out, 0);
		assert_int_equal(mp_run_chunks(a, CTYPE, body, len, sizes, &r,
		    NULL, &why), 0);
		assert_int_equal(r.out.len, elen);
		assert_memory_equal(r.out.data, exp, elen);
		buf_free(&r.out);
		arena_reset(a);
	}
	free(exp);
}

/* Run a body whole and bytewise; both must agree on the result and the
 * events.  Returns the result; the whole run's events stay in *r. */
static int
mp_both(struct arena *a, const char *ctype, const char *body,
    struct rec *r, const struct mp_limits *lim, const char **why)
{
	struct rec	 r1;
	const size_t	 one[] = { 1, 0 };
	const char	*why1;
	int		 rc, rc1, abort_begin, abort_data;

	abort_begin = r->abort_begin;
	abort_data = r->abort_data;
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
	memset(&r1, 0, sizeof(r1));
	buf_init(&r1.out, 0);
	r->abort_begin = r1.abort_begin = abort_begin;
	r->abort_data = r1.abort_data = abort_data;
	rc = mp_run_chunks(a, ctype, body, strlen(body), NULL, r, lim, why);
	rc1 = mp_run_chunks(a, ctype, body, strlen(body), one, &r1, lim,
	    &why1);
	assert_int_equal(rc, rc1);
	assert_int_equal(r->out.len, r1.out.len);
	if (r->out.len > 0)
		assert_memory_equal(r->out.data, r1.out.data, r->out.len);
	if (*why != NULL || why1 != NULL)
		assert_string_equal(*why, why1);
	buf_free(&r1.out);
	return rc;
}

/* As mp_both() but only the result and reason matter. */
static int
mp_check(struct arena *a, const char *ctype, const char *body,
    const struct mp_limits *lim, const char **why)
{
	struct rec	 r = { .indata = 0 };
	int		 rc;

	rc = mp_both(a, ctype, body, &r, lim, why);
	buf_free(&r.out);
	return rc;
}

static void
test_mp_boundary_quoted(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	const char	*why;
	const char	*body =
	    "preamble to ignore\r\n"
	    "--a'b(c)+_,-./:=?d e\r\n"
	    "Content-Disposition: form-data; name=x\r\n\r\n"
	    "1\r\n--a'b(c)+_,-./:=?d e--\r\nepilogue --a'b(c) junk";

	assert_int_equal(mp_both(a,
	    "Multipart/Form-Data; charset=utf-8; "
	    "BOUNDARY=\"a'b(c)+_,-./:=?d e\"",
	    body, &r, NULL, &why), 0);
	assert_string_equal(r.out.data, "B x|(null)|(null)\nD1E\n");
	buf_free(&r.out);

	/* Unquoted boundary, spaces around parameters. */
	body = "--xyz\r\nContent-Disposition: form-data; name=\"y\"\r\n\r\n"
	    "2\r\n--xyz--";
	assert_int_equal(mp_both(a, "multipart/form-data ;boundary = xyz ",
	    body, &r, NULL, &why), 0);
	assert_string_equal(r.out.data, "B y|(null)|(null)\nD2E\n");
	buf_free(&r.out);

	/* Transport padding after a delimiter; first delimiter after CRLF. */
	body = "\r\n--xyz \t\r\nContent-Disposition: form-data; name=\"z\"\r\n"
	    "\r\n\r\n--xyz  --";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=xyz",
	    body, NULL, &why), -1);
	body = "\r\n--xyz \t\r\nContent-Disposition: form-data; name=\"z\"\r\n"
	    "\r\n\r\n--xyz--";
	assert_int_equal(mp_both(a, "multipart/form-data; boundary=xyz",
	    body, &r, NULL, &why), 0);
	assert_string_equal(r.out.data, "B z|(null)|(null)\nE\n");
	buf_free(&r.out);
}

static void
test_mp_filename(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	const char	*why;
	const char	*body =
	    "--b\r\n"
	    "content-disposition: FORM-DATA; NAME=\"f1\"; "
	    "FileName=\"C:\\x\\a.dcm\"\r\n\r\n1\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f2\"; "
	    "filename=\"C:\\\\x\\\\b.dcm\"\r\n\r\n2\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f3\"; "
	    "filename=\"/etc/../c \\\"q\\\".dcm\"\r\n\r\n3\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f4\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f5\"; "
	    "filename=plain.txt\r\n"
	    "\r\n5\r\n"
	    "--b--\r\n";

	assert_int_equal(mp_both(a, "multipart/form-data; boundary=b", body,
	    &r, NULL, &why), 0);
	assert_string_equal(r.out.data,
	    "B f1|a.dcm|(null)\nD1E\n"
	    "B f2|b.dcm|(null)\nD2E\n"
	    "B f3|c \"q\".dcm|(null)\nD3E\n"
	    "B f4||application/octet-stream\nE\n"
	    "B f5|plain.txt|(null)\nD5E\n");
	buf_free(&r.out);

	/* A name that is all directory is refused. */
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"dir/..\"\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	assert_string_equal(why, "file name has no base name");
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"C:\\dir\\\"\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	/* Invalid UTF-8 in a file name. */
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"\xc0\xaf\"\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	/* Unterminated quoted string. */
	body = "--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
}

static void
test_mp_filename_ext(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	const char	*why;
	const char	*body =
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"fallback.dcm\"; "
	    "filename*=UTF-8''%E4%B8%AD%E6%96%87.dcm\r\n\r\nx\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"g\"; "
	    "filename*=utf-8'zh'dir%2F%E5%BD%B1%E5%83%8F.dcm\r\n\r\ny\r\n"
	    "--b\r\n"
	    "Content-Disposition: form-data; name=\"h\"; "
	    "filename*=iso-8859-1'en'%E9t%E9.txt\r\n\r\nz\r\n"
	    "--b--";

	assert_int_equal(mp_both(a, "multipart/form-data; boundary=b", body,
	    &r, NULL, &why), 0);
	assert_string_equal(r.out.data,
	    "B f|中文.dcm|(null)\nDxE\n"
	    "B g|影像.dcm|(null)\nDyE\n"
	    "B h|été.txt|(null)\nDzE\n");
	buf_free(&r.out);

	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''%E4%B8\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''%G0\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename*=KOI8-R''abc\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename*=abc\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
	body = "--b\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''a%00b\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", body,
	    NULL, &why), -1);
}

static void
test_mp_truncated(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	char		 body[4096];
	size_t		 len, cut;
	const char	*why;

	len = browser_body(body, sizeof(body));
	/* Every proper prefix that ends before the closing "--" fails. */
	for (cut = 0; cut < len - 4; cut++) {
		memset(&r, 0, sizeof(r));
		buf_init(&r.out, 0);
		assert_int_equal(mp_run_chunks(a, CTYPE, body, cut, NULL, &r,
		    NULL, &why), -1);
		assert_non_null(why);
		buf_free(&r.out);
	}
	assert_int_equal(mp_check(a, CTYPE, "", NULL, &why), -1);
	assert_string_equal(why, "no multipart boundary in body");
	/* Cut inside the part data: no part_end for it. */
	memset(&r, 0, sizeof(r));
	buf_init(&r.out, 0);
	cut = (size_t)((char *)memmem(body, len, "DICM", 4) - body) + 3;
	assert_int_equal(mp_run_chunks(a, CTYPE, body, cut, NULL, &r, NULL,
	    &why), -1);
	assert_string_equal(why, "truncated multipart body");
	assert_true(r.inpart);
	buf_free(&r.out);
}

static void
test_mp_no_closing(void **state)
{
	struct arena	*a = *state;
	const char	*why;

	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "data\r\n--b\r\n", NULL, &why), -1);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "data\r\n", NULL, &why), -1);
	assert_string_equal(why, "truncated multipart body");
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "data\r\n--b-", NULL, &why), -1);
	/* A delimiter followed by junk is malformed. */
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "data\r\n--bx\r\n--b--", NULL, &why), -1);
	assert_string_equal(why, "malformed boundary line");
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "data\r\n--b-x", NULL, &why), -1);
	/* Header block without its blank line. */
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", NULL,
	    &why), -1);
	/* Zero parts with a closing delimiter is accepted. */
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b--\r\n", NULL, &why), 0);
}

static void
test_mp_sticky(void **state)
{
	struct arena		*a = *state;
	struct mp_parser	*mp;
	const char		*err;
	const char		*bad = "--b\r\n\r\n";
	const char		*good = "--b\r\nContent-Disposition: form-data;"
	    " name=a\r\n\r\n\r\n--b--";

	mp = mp_new(a, "multipart/form-data; boundary=b", NULL, NULL, NULL,
	    &err);
	assert_non_null(mp);
	assert_null(mp_error(mp));
	assert_int_equal(mp_feed(mp, bad, strlen(bad)), -1);
	assert_non_null(mp_error(mp));
	assert_int_equal(mp_feed(mp, "x", 1), -1);
	assert_int_equal(mp_finish(mp), -1);
	/* Without callbacks the parse still validates; feeding after the
	 * closing delimiter is ignored. */
	mp = mp_new(a, "multipart/form-data; boundary=b", NULL, NULL, NULL,
	    &err);
	assert_int_equal(mp_feed(mp, good, strlen(good)), 0);
	assert_int_equal(mp_feed(mp, "junk", 4), 0);
	assert_int_equal(mp_feed(mp, NULL, 0), 0);
	assert_int_equal(mp_finish(mp), 0);
}

static void
test_mp_header_limits(void **state)
{
	struct arena		*a = *state;
	struct mp_limits	 lim = { 0, 64 };
	struct buf		 b;
	const char		*why;
	char			*s;
	int			 i;

	/* Exactly 64 bytes of header block passes; 65 does not. */
	s = "--b\r\nContent-Disposition: form-data; "
	    "name=\"abcdefghijklmnopqrstu\""
	    "\r\n\r\n\r\n--b--";
	assert_int_equal(strstr(s, "\r\n\r\n") + 4 - (s + 5), 64);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", s,
	    &lim, &why), 0);
	s = "--b\r\nContent-Disposition: form-data; "
	    "name=\"abcdefghijklmnopqrstuv\""
	    "\r\n\r\n\r\n--b--";
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b", s,
	    &lim, &why), -1);
	assert_string_equal(why, "part header too long");

	/* The default limit, with a never-ending header. */
	buf_init(&b, 0);
	assert_int_equal(buf_appends(&b, "--b\r\nX-Junk: "), 0);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_append(&b, "a", 1), 0);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    b.data, NULL, &why), -1);
	assert_string_equal(why, "part header too long");
	buf_free(&b);
}

static void
test_mp_too_many_parts(void **state)
{
	struct arena		*a = *state;
	struct mp_limits	 lim = { 3, 0 };
	struct buf		 b;
	const char		*why;
	int			 i;

	buf_init(&b, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(buf_appends(&b, "--b\r\nContent-Disposition:"
		    " form-data; name=\"p\"\r\n\r\nv\r\n"), 0);
	assert_int_equal(buf_appends(&b, "--b--"), 0);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    b.data, &lim, &why), 0);
	buf_clear(&b);
	for (i = 0; i < 4; i++)
		assert_int_equal(buf_appends(&b, "--b\r\nContent-Disposition:"
		    " form-data; name=\"p\"\r\n\r\nv\r\n"), 0);
	assert_int_equal(buf_appends(&b, "--b--"), 0);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    b.data, &lim, &why), -1);
	assert_string_equal(why, "too many parts");
	/* Default: 1000. */
	buf_clear(&b);
	for (i = 0; i < 1001; i++)
		assert_int_equal(buf_appends(&b, "--b\r\nContent-Disposition:"
		    " form-data; name=p\r\n\r\n\r\n"), 0);
	assert_int_equal(buf_appends(&b, "--b--"), 0);
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    b.data, NULL, &why), -1);
	assert_string_equal(why, "too many parts");
	buf_free(&b);
}

static void
test_mp_bad_headers(void **state)
{
	struct arena	*a = *state;
	const char	*why;
	size_t		 i;
	const char	*bad[] = {
		/* missing name */
		"--b\r\nContent-Disposition: form-data\r\n\r\n--b--",
		"--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\n"
		    "--b--",
		/* no Content-Disposition */
		"--b\r\nContent-Type: text/plain\r\n\r\n--b--",
		"--b\r\n\r\n--b--",
		/* not form-data */
		"--b\r\nContent-Disposition: attachment; name=a\r\n\r\n--b--",
		/* folding */
		"--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\n"
		    "--b--",
		/* bare LF, bare CR, NUL */
		"--b\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n"
		    "--b--",
		"--b\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\n"
		    "--b--",
		/* no colon, bad header name */
		"--b\r\nContent-Disposition form-data; name=a\r\n\r\n--b--",
		"--b\r\nBad Name: x\r\nContent-Disposition: form-data; name=a"
		    "\r\n\r\n--b--",
		": x\r\n",
		/* duplicates */
		"--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n"
		    "--b--",
		"--b\r\nContent-Disposition: form-data; name=a\r\n"
		    "Content-Disposition: form-data; name=b\r\n\r\n--b--",
		"--b\r\nContent-Disposition: form-data; name=a\r\n"
		    "Content-Type: a/b\r\nContent-Type: c/d\r\n\r\n--b--",
		/* parameter syntax */
		"--b\r\nContent-Disposition: form-data; name\r\n\r\n--b--",
		"--b\r\nContent-Disposition: form-data; name=a b\r\n\r\n--b--",
		"--b\r\nContent-Disposition: form-data name=a\r\n\r\n--b--",
		"--b\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\n"
		    "--b--",
		/* control character in the name */
		"--b\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\n"
		    "--b--",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mp_check(a, "multipart/form-data; boundary=b", bad[i], NULL,
		    &why) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    bad[0], NULL, &why), -1);
	assert_string_equal(why, "part has no name");
	/* NUL byte (not expressible in the strings above). */
	{
		const char body[] = "--b\r\nContent-Disposition: form-data; "
		    "name=a\0\r\n\r\n--b--";
		struct mp_parser *mp;

		mp = mp_new(a, "multipart/form-data; boundary=b", NULL, NULL,
		    NULL, &why);
		assert_int_equal(mp_feed(mp, body, sizeof(body) - 1), -1);
		assert_string_equal(mp_error(mp), "NUL byte in part header");
	}
	/* Accepted: trailing ';', extra parameters and headers, empty
	 * name, spaces. */
	assert_int_equal(mp_check(a, "multipart/form-data; boundary=b",
	    "--b\r\ncontent-disposition:form-data;name=\"\";x=y;\t\r\n"
	    "X-Other: \"whatever\r\n\r\n\r\n--b--", NULL, &why), 0);
}

static void
test_mp_content_type(void **state)
{
	struct arena	*a = *state;
	const char	*err;
	char		 b71[128];
	size_t		 i;
	const char	*bad[] = {
		NULL,
		"",
		"text/plain",
		"multipart/mixed; boundary=b",
		"application/x-www-form-urlencoded",
		"multipart/form-data",
		"multipart/form-data; charset=utf-8",
		"multipart/form-data; boundary=",
		"multipart/form-data; boundary=\"\"",
		"multipart/form-data; boundary=\"ab \"",
		"multipart/form-data; boundary=a\x01",
		"multipart/form-data; boundary=\"a\\\"b\"",
		"multipart/form-data; boundary=a[b]",
		"multipart/form-data; boundary=\"unterminated",
		"multipart/form-data; boundary=a; boundary=b",
		"multipart/form-data boundary=a",
		"multipart/form-dataX; boundary=a",
		"multipart/; boundary=a",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (mp_new(a, bad[i], NULL, NULL, NULL, &err) != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	assert_null(mp_new(a, "text/plain", NULL, NULL, NULL, &err));
	assert_string_equal(err, "Content-Type is not multipart/form-data");
	assert_null(mp_new(a, "multipart/form-data", NULL, NULL, NULL, &err));
	assert_string_equal(err, "missing multipart boundary");

	memset(b71, 'x', sizeof(b71));
	memcpy(b71, "multipart/form-data; boundary=", 30);
	b71[30 + 70] = '\0';
	assert_non_null(mp_new(a, b71, NULL, NULL, NULL, &err));
	b71[30 + 70] = 'x';
	b71[30 + 71] = '\0';
	assert_null(mp_new(a, b71, NULL, NULL, NULL, &err));
	assert_string_equal(err, "invalid multipart boundary");
	assert_non_null(mp_new(a, "multipart/form-data; boundary=\"a b\"",
	    NULL, NULL, NULL, &err));
	assert_non_null(mp_new(a, "MULTIPART/FORM-DATA;BOUNDARY=q", NULL,
	    NULL, NULL, &err));
}

static void
test_mp_abort(void **state)
{
	struct arena	*a = *state;
	struct rec	 r = { .indata = 0 };
	char		 body[4096];
	size_t		 len;
	const char	*why;

	len = browser_body(body, sizeof(body));
	body[len] = '\0';
	memset(&r, 0, sizeof(r));
	r.abort_begin = 2;
	assert_int_equal(mp_both(a, CTYPE, body, &r, NULL, &why), -1);
	assert_string_equal(why, "part refused by part_begin callback");
	assert_string_equal(r.out.data,
	    "B title|(null)|(null)\nDCT 胸部平扫E\n");
	buf_free(&r.out);

	memset(&r, 0, sizeof(r));
	r.abort_data = 1;
	assert_int_equal(mp_both(a, CTYPE, body, &r, NULL, &why), -1);
	assert_string_equal(why, "upload aborted while receiving part data");
	buf_free(&r.out);
}

/*
 * Collector and mp_parse_buffer().
 */

struct files {
	struct buf	 out;
	int		 fail_end;
};

static int
files_begin(void *arg, const struct mp_part *p)
{
	struct files	*f = arg;

	return buf_printf(&f->out, "[%s:%s:", p->name, p->filename);
}

static int
files_data(void *arg, const char *p, size_t n)
{
	struct files	*f = arg;

	return buf_append(&f->out, p, n);
}

static int
files_end(void *arg)
{
	struct files	*f = arg;

	if (f->fail_end)
		return -1;
	return buf_append(&f->out, "]", 1);
}

static const struct mp_callbacks files_cb = {
	files_begin, files_data, files_end
};

static void
test_mp_parse_buffer(void **state)
{
	struct arena	*a = *state;
	struct kvlist	 l;
	struct files	 f;
	char		 body[4096];
	size_t		 len;
	const char	*err;

	len = browser_body(body, sizeof(body));
	kvlist_init(&l);
	buf_init(&f.out, 0);
	f.fail_end = 0;
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len, &l, 100,
	    &files_cb, &f, &err), 0);
	assert_null(err);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_get(&l, "title"), "CT 胸部平扫");
	assert_string_equal(kv_get(&l, "note"), "line1\r\nline2");
	assert_int_equal(f.out.len, strlen("[scan:scan.dcm:") +
	    sizeof(FILE1) - 1 + strlen("][report:report.txt:hello]"));
	assert_memory_equal(f.out.data, "[scan:scan.dcm:", 15);
	assert_memory_equal(f.out.data + 15, FILE1, sizeof(FILE1) - 1);
	buf_free(&f.out);

	/* Value cap: the longest value, "CT 胸部平扫", is 15 bytes. */
	kvlist_init(&l);
	buf_init(&f.out, 0);
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len, &l, 15,
	    &files_cb, &f, &err), 0);
	buf_free(&f.out);
	kvlist_init(&l);
	buf_init(&f.out, 0);
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len, &l, 14,
	    &files_cb, &f, &err), -1);
	assert_string_equal(err, "form field value too long");
	buf_free(&f.out);

	/* Files refused. */
	kvlist_init(&l);
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len, &l, 100, NULL,
	    NULL, &err), -1);
	assert_string_equal(err, "file uploads are not accepted here");

	/* File callback abort and parser errors. */
	kvlist_init(&l);
	buf_init(&f.out, 0);
	f.fail_end = 1;
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len, &l, 100,
	    &files_cb, &f, &err), -1);
	assert_string_equal(err, "upload aborted by part_end callback");
	buf_free(&f.out);
	kvlist_init(&l);
	assert_int_equal(mp_parse_buffer(a, "text/plain", body, len, &l, 100,
	    NULL, NULL, &err), -1);
	assert_string_equal(err, "Content-Type is not multipart/form-data");
	kvlist_init(&l);
	buf_init(&f.out, 0);
	f.fail_end = 0;
	assert_int_equal(mp_parse_buffer(a, CTYPE, body, len - 6, &l, 100,
	    &files_cb, &f, &err), -1);
	assert_string_equal(err, "truncated multipart body");
	buf_free(&f.out);

	/* A field value with NUL bytes, and an empty one. */
	kvlist_init(&l);
	{
		const char b2[] = "--b\r\nContent-Disposition: form-data; "
		    "name=v\r\n\r\na\0b\r\n--b\r\nContent-Disposition: "
		    "form-data; name=e\r\n\r\n\r\n--b--";

		assert_int_equal(mp_parse_buffer(a,
		    "multipart/form-data; boundary=b", b2, sizeof(b2) - 1, &l,
		    10, NULL, NULL, &err), 0);
		assert_int_equal(kv_find(&l, "v")->vallen, 3);
		assert_memory_equal(kv_find(&l, "v")->val, "a\0b", 4);
		assert_string_equal(kv_get(&l, "e"), "");
	}
}

static void
test_mp_collect_stream(void **state)
{
	struct arena		*a = *state;
	struct mp_collect	 col;
	struct mp_parser	*mp;
	struct kvlist		 l;
	struct files		 f;
	char			 body[4096];
	size_t			 len, off, n;
	const char		*err;

	len = browser_body(body, sizeof(body));
	kvlist_init(&l);
	buf_init(&f.out, 0);
	f.fail_end = 0;
	mp_collect_init(&col, a, &l, 100, 1000, &files_cb, &f);
	assert_non_null(mp = mp_collect_new(&col, CTYPE, NULL, &err));
	for (off = 0; off < len; off += n) {
		n = len - off < 7 ? len - off : 7;
		assert_int_equal(mp_feed(mp, body + off, n), 0);
	}
	assert_int_equal(mp_finish(mp), 0);
	assert_null(mp_collect_error(&col, mp));
	mp_collect_free(&col);
	mp_collect_free(&col);
	assert_string_equal(kv_get(&l, "title"), "CT 胸部平扫");
	assert_string_equal(kv_get(&l, "note"), "line1\r\nline2");
	buf_free(&f.out);

	/* Total cap: the two values are 15 + 12 bytes. */
	kvlist_init(&l);
	buf_init(&f.out, 0);
	mp_collect_init(&col, a, &l, 100, 25, &files_cb, &f);
	assert_non_null(mp = mp_collect_new(&col, CTYPE, NULL, &err));
	assert_int_equal(mp_feed(mp, body, len), -1);
	assert_string_equal(mp_collect_error(&col, mp),
	    "form fields too long in total");
	assert_int_equal(mp_finish(mp), -1);
	mp_collect_free(&col);
	buf_free(&f.out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup_arena, teardown_arena)
		T(test_url_normal),
		T(test_url_plus),
		T(test_url_utf8),
		T(test_url_nul),
		T(test_url_missing_eq),
		T(test_url_empty_pairs),
		T(test_url_malformed),
		T(test_url_too_many),
		T(test_url_long_key),
		T(test_url_bad_utf8_key),
		T(test_kvlist_add),
		T(test_cookie_normal),
		T(test_cookie_spaces),
		T(test_cookie_quotes),
		T(test_cookie_malformed),
		T(test_cookie_limits),
		T(test_mp_browser_whole),
		T(test_mp_browser_bytewise),
		T(test_mp_browser_random),
		T(test_mp_boundary_quoted),
		T(test_mp_filename),
		T(test_mp_filename_ext),
		T(test_mp_truncated),
		T(test_mp_no_closing),
		T(test_mp_sticky),
		T(test_mp_header_limits),
		T(test_mp_too_many_parts),
		T(test_mp_bad_headers),
		T(test_mp_content_type),
		T(test_mp_abort),
		T(test_mp_parse_buffer),
		T(test_mp_collect_stream),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
