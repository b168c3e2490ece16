/*
 * test_tmpl.c - unit tests for the template engine (src/web/tmpl.c).
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "tmpl.h"

/* Per-test state: an arena for dicts and an output buffer. */
struct fix {
	struct arena	*a;
	struct buf	 out;
	char		 err[256];
};

static int
setup(void **state)
{
	struct fix	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if ((f->a = arena_new(0)) == NULL) {
		free(f);
		return -1;
	}
	buf_init(&f->out, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	buf_free(&f->out);
	arena_free(f->a);
	free(f);
	return 0;
}

/* Parse src as "t.html" alone, link, render with scope; return output. */
static const char *
render1(struct fix *f, const char *src, const struct tmpl_scope *sc)
{
	struct tmpl_set	*set;
	int		 rc;

	assert_non_null(set = tmpl_set_new());
	f->err[0] = '\0';
	assert_int_equal(tmpl_set_add(set, "t.html", src, strlen(src),
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);
	buf_clear(&f->out);
	rc = tmpl_render(set, "t.html", sc, tmpl_write_buf, &f->out);
	tmpl_set_free(set);
	assert_int_equal(rc, 0);
	return f->out.data != NULL ? f->out.data : "";
}

/* Parse src as "t.html"; expect failure; return the message. */
static const char *
parse_err(struct fix *f, const char *src)
{
	struct tmpl_set	*set;

	assert_non_null(set = tmpl_set_new());
	f->err[0] = '\0';
	assert_int_equal(tmpl_set_add(set, "t.html", src, strlen(src),
	    f->err, sizeof(f->err)), -1);
	assert_false(tmpl_has(set, "t.html"));
	tmpl_set_free(set);
	return f->err;
}

/* Scope with a single value "v" for key "v". */
static const char *
single_get(void *arg, const char *key)
{
	return strcmp(key, "v") == 0 ? arg : NULL;
}

static const char *
render_v(struct fix *f, const char *tmpl, const char *v)
{
	struct tmpl_scope	 sc = { single_get, NULL, NULL, NULL };

	sc.arg = (void *)(uintptr_t)v;
	return render1(f, tmpl, &sc);
}

static void
test_text_passthrough(void **state)
{
	struct fix	*f = *state;

	assert_string_equal(render1(f, "", NULL), "");
	assert_string_equal(render1(f, "<p class=\"x\">a & b</p>\n", NULL),
	    "<p class=\"x\">a & b</p>\n");
	assert_string_equal(render1(f, "{ } }} {x} 中文", NULL),
	    "{ } }} {x} 中文");
	assert_string_equal(render1(f, "a{{! a comment\n over lines }}b",
	    NULL), "ab");
}

static void
test_escape_text(void **state)
{
	struct fix	*f = *state;

	assert_string_equal(render_v(f, "<b>{{v}}</b>",
	    "<script>alert(\"x\")&'</script>"),
	    "<b>&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;&lt;/script&gt;"
	    "</b>");
	assert_string_equal(render_v(f, "{{ v }}|{{v|text}}|{{ v | text }}",
	    "<"), "&lt;|&lt;|&lt;");
	assert_string_equal(render_v(f, "{{v}}", "病人 张三 — ✓ 😀"),
	    "病人 张三 — ✓ 😀");
	assert_string_equal(render_v(f, "{{v}}", "plain text, ok."),
	    "plain text, ok.");
}

static void
test_escape_attr(void **state)
{
	struct fix	*f = *state;

	assert_string_equal(render_v(f, "<a title=\"{{v|attr}}\">",
	    "a b\"'<>&=`x"),
	    "<a title=\"a&#x20;b&#x22;&#x27;&#x3C;&#x3E;&#x26;&#x3D;"
	    "&#x60;x\">");
	assert_string_equal(render_v(f, "{{v|attr}}", "张三abc9"),
	    "张三abc9");
	assert_string_equal(render_v(f, "{{ v|attr }}",
	    "\" onmouseover=alert(1) x=\""),
	    "&#x22;&#x20;onmouseover&#x3D;alert&#x28;1&#x29;&#x20;x&#x3D;"
	    "&#x22;");
	assert_string_equal(render_v(f, "{{v|attr}}", "-_./\t\n"),
	    "&#x2D;&#x5F;&#x2E;&#x2F;&#x09;&#x0A;");
}

static void
test_escape_url(void **state)
{
	struct fix	*f = *state;

	assert_string_equal(render_v(f, "/s?q={{v|url}}",
	    "a b&c=d/e?f#g+h%中~-_.AZaz09"),
	    "/s?q=a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25%E4%B8%AD~-_.AZaz09");
	assert_string_equal(render_v(f, "{{v|url}}", "\"><script>"),
	    "%22%3E%3Cscript%3E");
	/* Bytes are encoded as they are, valid UTF-8 or not. */
	assert_string_equal(render_v(f, "{{v|url}}", "\xff\xfe"),
	    "%FF%FE");
}

#define FFFD	"\xEF\xBF\xBD"

static void
test_invalid_utf8(void **state)
{
	struct fix	*f = *state;

	assert_string_equal(render_v(f, "{{v}}", "a\xffz"), "a" FFFD "z");
	/* A truncated sequence is one replacement. */
	assert_string_equal(render_v(f, "{{v}}", "a\xe4\xb8z"),
	    "a" FFFD "z");
	assert_string_equal(render_v(f, "{{v}}", "\xe4\xb8"), FFFD);
	/* Overlong form, surrogate, beyond U+10FFFF, stray continuation. */
	assert_string_equal(render_v(f, "{{v}}", "\xc0\xaf"), FFFD FFFD);
	assert_string_equal(render_v(f, "{{v}}", "\xed\xa0\x80"),
	    FFFD FFFD FFFD);
	assert_string_equal(render_v(f, "{{v}}", "\xf4\x90\x80\x80"),
	    FFFD FFFD FFFD FFFD);
	assert_string_equal(render_v(f, "{{v}}", "\x80<"), FFFD "&lt;");
	/* Largest valid code point passes. */
	assert_string_equal(render_v(f, "{{v}}", "\xf4\x8f\xbf\xbf"),
	    "\xf4\x8f\xbf\xbf");
	/* Attribute context. */
	assert_string_equal(render_v(f, "{{v|attr}}", "中\xff\xe4\xb8 "),
	    "中" FFFD FFFD "&#x20;");
}

static int
cmp_write(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

static void
test_escapers_direct(void **state)
{
	struct fix	*f = *state;

	buf_clear(&f->out);
	assert_int_equal(tmpl_esc_html(cmp_write, &f->out, "a\0<", 3), 0);
	assert_memory_equal(f->out.data, "a" FFFD "&lt;", f->out.len);
	buf_clear(&f->out);
	assert_int_equal(tmpl_esc_attr(cmp_write, &f->out, "a\0.", 3), 0);
	assert_string_equal(f->out.data, "a" FFFD "&#x2E;");
	buf_clear(&f->out);
	assert_int_equal(tmpl_esc_url(cmp_write, &f->out, "a\0 ", 3), 0);
	assert_string_equal(f->out.data, "a%00%20");
	buf_clear(&f->out);
	assert_int_equal(tmpl_esc_html(cmp_write, &f->out, "", 0), 0);
	assert_int_equal(f->out.len, 0);
}

static void
test_missing_keys(void **state)
{
	struct fix	*f = *state;
	struct tdict	*d;

	assert_string_equal(render1(f, "[{{nope}}][{{a.b-c_d|attr}}]"
	    "[{{x|url}}]", NULL), "[][][]");
	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(d, "k", "v"), 0);
	assert_string_equal(render1(f, "{{k}}{{K}}{{kk}}", tdict_scope(d)),
	    "v");
	/* An unclaimed section renders zero times, inverted once. */
	assert_string_equal(render1(f, "{{#x}}X{{/x}}{{^x}}N{{/x}}",
	    tdict_scope(d)), "N");
	assert_string_equal(render1(f, "{{#x}}X{{/x}}{{^x}}N{{/x}}", NULL),
	    "N");
}

static void
test_sections(void **state)
{
	struct fix	*f = *state;
	struct tdict	*d, *c;
	const char	*t = "<ul>{{#rows}}<li>{{name}}</li>{{/rows}}</ul>";
	int		 i;

	assert_non_null(d = tdict_new(f->a, NULL));
	assert_string_equal(render1(f, t, tdict_scope(d)), "<ul></ul>");
	assert_non_null(c = tdict_add(d, "rows"));
	assert_int_equal(tdict_set(c, "name", "a<"), 0);
	assert_string_equal(render1(f, t, tdict_scope(d)),
	    "<ul><li>a&lt;</li></ul>");
	for (i = 0; i < 3; i++) {
		assert_non_null(c = tdict_add(d, "rows"));
		assert_int_equal(tdict_setf(c, "name", "n%d", i), 0);
	}
	assert_string_equal(render1(f, t, tdict_scope(d)),
	    "<ul><li>a&lt;</li><li>n0</li><li>n1</li><li>n2</li></ul>");

	/* Booleans. */
	assert_int_equal(tdict_bool(d, "admin", 1), 0);
	assert_int_equal(tdict_bool(d, "guest", 0), 0);
	assert_string_equal(render1(f, "{{#admin}}A{{/admin}}"
	    "{{#guest}}G{{/guest}}", tdict_scope(d)), "A");
	assert_int_equal(tdict_bool(d, "admin", 0), 0);
	assert_string_equal(render1(f, "{{#admin}}A{{/admin}}",
	    tdict_scope(d)), "");
}

static void
test_nested_sections(void **state)
{
	struct fix	*f = *state;
	struct tdict	*d, *s, *img;
	const char	*t =
	    "{{#studies}}[{{uid}}:{{#images}}({{uid}},{{n}},{{title}})"
	    "{{#mark}}*{{/mark}}{{/images}}]{{/studies}}";

	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(d, "title", "T"), 0);
	assert_non_null(s = tdict_add(d, "studies"));
	assert_int_equal(tdict_set(s, "uid", "s1"), 0);
	assert_int_equal(tdict_bool(s, "mark", 1), 0);
	assert_non_null(img = tdict_add(s, "images"));
	assert_int_equal(tdict_set(img, "n", "1"), 0);
	assert_non_null(img = tdict_add(s, "images"));
	assert_int_equal(tdict_set(img, "n", "2"), 0);
	assert_int_equal(tdict_set(img, "uid", "i2"), 0);
	assert_non_null(s = tdict_add(d, "studies"));
	assert_int_equal(tdict_set(s, "uid", "s2"), 0);
	assert_string_equal(render1(f, t, tdict_scope(d)),
	    "[s1:(s1,1,T)*(i2,2,T)*][s2:]");

	/* A list of the root rendered inside an item of another list sees
	 * the item's keys (context stack). */
	assert_non_null(d = tdict_new(f->a, NULL));
	assert_non_null(s = tdict_add(d, "outer"));
	assert_int_equal(tdict_set(s, "o", "O1"), 0);
	assert_non_null(img = tdict_add(d, "inner"));
	assert_int_equal(tdict_set(img, "i", "I1"), 0);
	assert_string_equal(render1(f,
	    "{{#outer}}{{#inner}}{{o}}{{i}}{{/inner}}{{/outer}}",
	    tdict_scope(d)), "O1I1");
}

static void
test_inverted(void **state)
{
	struct fix	*f = *state;
	struct tdict	*d, *c;
	const char	*t = "{{^rows}}none{{/rows}}{{#rows}}{{v}}{{/rows}}";

	assert_non_null(d = tdict_new(f->a, NULL));
	assert_string_equal(render1(f, t, tdict_scope(d)), "none");
	assert_non_null(c = tdict_add(d, "rows"));
	assert_int_equal(tdict_set(c, "v", "1"), 0);
	assert_non_null(c = tdict_add(d, "rows"));
	assert_int_equal(tdict_set(c, "v", "2"), 0);
	assert_string_equal(render1(f, t, tdict_scope(d)), "12");

	assert_int_equal(tdict_bool(d, "on", 1), 0);
	assert_int_equal(tdict_bool(d, "off", 0), 0);
	assert_string_equal(render1(f, "{{^on}}a{{/on}}{{^off}}b{{/off}}",
	    tdict_scope(d)), "b");
	/* Inverted inside a section, using the item's scope. */
	assert_int_equal(tdict_bool(c, "sel", 1), 0);
	assert_string_equal(render1(f,
	    "{{#rows}}{{v}}{{^sel}}-{{/sel}}{{/rows}}", tdict_scope(d)),
	    "1-2");
}

/* A hand-written scope: "n" repetitions of section "rep", counting calls. */
struct rep {
	int	 n;
	int	 calls;
	int	 fail;	/* return -1 from the callback */
	int	 ignore;	/* ignore tmpl_emit() errors */
};

static const char *
rep_get(void *arg, const char *key)
{
	(void)arg;
	return strcmp(key, "who") == 0 ? "rep" : NULL;
}

static const char *
item_get(void *arg, const char *key)
{
	return strcmp(key, "i") == 0 ? arg : NULL;
}

static int
rep_section(void *arg, const char *name, struct tmpl_ctx *ctx)
{
	static const char	*nums[] = { "0", "1", "2", "3", "4", "5" };
	struct rep		*r = arg;
	struct tmpl_scope	 child;
	int			 i;

	if (strcmp(name, "rep") != 0)
		return 1;
	r->calls++;
	if (r->fail)
		return -1;
	for (i = 0; i < r->n; i++) {
		child.get = item_get;
		child.section = NULL;
		child.arg = (void *)(uintptr_t)nums[i % 6];
		child.parent = tmpl_ctx_scope(ctx);
		if (tmpl_emit(ctx, &child) == -1 && !r->ignore)
			return -1;
	}
	return 0;
}

static void
test_callback_scope(void **state)
{
	struct fix		*f = *state;
	struct rep		 r = { 3, 0, 0, 0 };
	struct tmpl_scope	 sc = { rep_get, rep_section, NULL, NULL };
	struct tdict		*d;

	sc.arg = &r;
	assert_string_equal(render1(f, "{{#rep}}{{i}}{{who}},{{/rep}}", &sc),
	    "0rep,1rep,2rep,");
	assert_int_equal(r.calls, 1);

	/* Inverted: the callback runs in counting mode, renders nothing. */
	r.calls = 0;
	assert_string_equal(render1(f, "[{{^rep}}X{{i}}{{/rep}}]", &sc),
	    "[]");
	assert_int_equal(r.calls, 1);
	r.n = 0;
	assert_string_equal(render1(f, "[{{^rep}}X{{i}}{{who}}{{/rep}}]",
	    &sc), "[Xrep]");
	r.n = 1;
	assert_string_equal(render1(f, "{{#rep}}{{^rep}}in{{/rep}}{{/rep}}",
	    &sc), "");

	/* A dict above the hand-written scope: names it does not own go
	 * up (returning 1), names it owns shadow the parent's. */
	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_bool(d, "flag", 1), 0);
	assert_int_equal(tdict_bool(d, "rep", 1), 0);
	assert_int_equal(tdict_set(d, "who", "dict"), 0);
	sc.parent = tdict_scope(d);
	r.n = 2;
	assert_string_equal(render1(f,
	    "{{#flag}}F{{/flag}}{{#rep}}{{i}}{{who}}{{/rep}}", &sc),
	    "F0rep1rep");

	/* tmpl_emit outside any section fails. */
	assert_int_equal(tmpl_emit(NULL, NULL), -1);
}

static void
test_callback_error(void **state)
{
	struct fix		*f = *state;
	struct rep		 r = { 2, 0, 1, 0 };
	struct tmpl_scope	 sc = { rep_get, rep_section, NULL, NULL };
	struct tmpl_set		*set;

	sc.arg = &r;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "t.html",
	    "a{{#rep}}x{{/rep}}b", 18, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);
	buf_clear(&f->out);
	assert_int_equal(tmpl_render(set, "t.html", &sc, tmpl_write_buf,
	    &f->out), -1);
	/* Also in counting mode. */
	assert_int_equal(tmpl_set_add(set, "i.html",
	    "a{{^rep}}x{{/rep}}b", 18, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_render(set, "i.html", &sc, tmpl_write_buf,
	    &f->out), -1);
	tmpl_set_free(set);
}

static void
test_partials(void **state)
{
	struct fix	*f = *state;
	struct tmpl_set	*set;
	struct tdict	*d, *c;
	const char	*page = "<html>{{> head.html }}{{#rows}}"
			    "{{>row.html}}{{/rows}}</html>";
	const char	*head = "<title>{{title}}</title>";
	const char	*row = "<tr>{{v}}{{>cell.html}}</tr>";
	const char	*cell = "<td>{{title|attr}}</td>";

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "page.html", page, strlen(page),
	    f->err, sizeof(f->err)), 0);
	/* Not linked: unknown partials are only noticed by the link. */
	assert_int_equal(tmpl_render(set, "page.html", NULL, tmpl_write_buf,
	    &f->out), -1);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err,
	    "page.html:1: unknown partial 'head.html'");
	assert_int_equal(tmpl_set_add(set, "head.html", head, strlen(head),
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "row.html", row, strlen(row),
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "cell.html", cell, strlen(cell),
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "cell.html", cell, strlen(cell),
	    f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "cell.html: duplicate template");
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);
	assert_true(tmpl_has(set, "row.html"));
	assert_false(tmpl_has(set, "nope.html"));

	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(d, "title", "A&B"), 0);
	assert_non_null(c = tdict_add(d, "rows"));
	assert_int_equal(tdict_set(c, "v", "1"), 0);
	assert_non_null(c = tdict_add(d, "rows"));
	assert_int_equal(tdict_set(c, "v", "2"), 0);
	assert_int_equal(tmpl_render(set, "page.html", tdict_scope(d),
	    tmpl_write_buf, &f->out), 0);
	assert_string_equal(f->out.data, "<html><title>A&amp;B</title>"
	    "<tr>1<td>A&#x26;B</td></tr><tr>2<td>A&#x26;B</td></tr></html>");
	assert_int_equal(tmpl_render(set, "nope.html", NULL, tmpl_write_buf,
	    &f->out), -1);
	tmpl_set_free(set);
}

static void
test_partial_cycles(void **state)
{
	struct fix	*f = *state;
	struct tmpl_set	*set;
	char		 name[32], src[64];
	int		 i;

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "self.html", "a\n{{>self.html}}",
	    16, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err,
	    "self.html:2: include cycle through 'self.html'");
	tmpl_set_free(set);

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "a.html", "{{>b.html}}", 11,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "b.html", "x\ny\n{{>c.html}}", 15,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "c.html", "{{#s}}{{>a.html}}{{/s}}",
	    23, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "c.html:1: include cycle through 'a.html'");
	assert_int_equal(tmpl_render(set, "a.html", NULL, tmpl_write_buf,
	    &f->out), -1);
	tmpl_set_free(set);

	/* A chain of exactly TMPL_MAX_PARTIAL_DEPTH includes is fine, one
	 * more is not. */
	assert_non_null(set = tmpl_set_new());
	for (i = 0; i <= TMPL_MAX_PARTIAL_DEPTH; i++) {
		snprintf(name, sizeof(name), "p%d.html", i);
		if (i < TMPL_MAX_PARTIAL_DEPTH)
			snprintf(src, sizeof(src), "%d{{>p%d.html}}", i, i + 1);
		else
			snprintf(src, sizeof(src), "end");
		assert_int_equal(tmpl_set_add(set, name, src, strlen(src),
		    f->err, sizeof(f->err)), 0);
	}
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);
	buf_clear(&f->out);
	assert_int_equal(tmpl_render(set, "p30.html", NULL, tmpl_write_buf,
	    &f->out), 0);
	assert_string_equal(f->out.data, "3031end");
	assert_int_equal(tmpl_set_add(set, "top.html", "{{>p0.html}}", 12,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "partials nested too deeply"));
	tmpl_set_free(set);
}

static void
test_parse_errors(void **state)
{
	struct fix	*f = *state;
	char		*deep;
	size_t		 i;

	assert_string_equal(parse_err(f, "a\nb {{ name\n"),
	    "t.html:2: unclosed tag");
	assert_string_equal(parse_err(f, "a\nb {{ name }\n}"),
	    "t.html:2: unclosed tag");
	assert_string_equal(parse_err(f, "x\n\n{{#rows}}\n<li>\n"),
	    "t.html:3: unclosed section 'rows'");
	assert_string_equal(parse_err(f, "{{#a}}\n{{#b}}\n{{/a}}"),
	    "t.html:3: section 'b' (line 2) closed as 'a'");
	assert_string_equal(parse_err(f, "{{#a}}{{/a}}\n\n{{/a}}"),
	    "t.html:3: unexpected close of section 'a'");
	assert_string_equal(parse_err(f, "\n{{ na me }}"),
	    "t.html:2: bad key 'na me'");
	assert_string_equal(parse_err(f, "{{<b>}}"),
	    "t.html:1: bad key '<b>'");
	assert_string_equal(parse_err(f, "{{!\n\n}}{{{raw}}}"),
	    "t.html:3: bad key '{raw'");
	assert_string_equal(parse_err(f, "\n\n\n{{}}"),
	    "t.html:4: empty key");
	assert_string_equal(parse_err(f, "{{  }}"), "t.html:1: empty key");
	assert_string_equal(parse_err(f, "{{#}}{{/}}"),
	    "t.html:1: empty key");
	assert_string_equal(parse_err(f, "{{|attr}}"), "t.html:1: empty key");
	assert_string_equal(parse_err(f, "{{>}}"), "t.html:1: empty key");
	assert_string_equal(parse_err(f, "\n{{#a|attr}}{{/a}}"),
	    "t.html:2: bad key 'a|attr'");
	assert_string_equal(parse_err(f, "a\nb\n{{ x | raw }}"),
	    "t.html:3: unknown filter 'raw'");
	assert_string_equal(parse_err(f, "{{x|}}"),
	    "t.html:1: unknown filter ''");
	assert_string_equal(parse_err(f, "{{x|attr|url}}"),
	    "t.html:1: unknown filter 'attr|url'");

	/* TMPL_MAX_SECTION_DEPTH levels parse, one more does not. */
	assert_non_null(deep = malloc(16 * 200));
	deep[0] = '\0';
	for (i = 0; i < TMPL_MAX_SECTION_DEPTH; i++)
		strcat(deep, "{{#s}}");
	for (i = 0; i < TMPL_MAX_SECTION_DEPTH; i++)
		strcat(deep, "{{/s}}");
	assert_string_equal(render1(f, deep, NULL), "");
	deep[0] = '\0';
	for (i = 0; i < TMPL_MAX_SECTION_DEPTH; i++)
		strcat(deep, "{{#s}}");
	strcat(deep, "\n{{^t}}");
	assert_string_equal(parse_err(f, deep),
	    "t.html:2: sections nested too deeply (max 64)");
	free(deep);
}

static void
test_tdict(void **state)
{
	struct fix		*f = *state;
	struct tdict		*root, *kid, *c;
	const struct tmpl_scope	*sc;

	assert_non_null(root = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(root, "a", "1"), 0);
	assert_int_equal(tdict_set(root, "a", "2"), 0);	/* replaces */
	assert_int_equal(tdict_setf(root, "n", "%d-%s", 42, "x"), 0);
	assert_non_null(kid = tdict_new(f->a, root));
	assert_int_equal(tdict_set(kid, "b", "3"), 0);
	sc = tdict_scope(kid);
	assert_non_null(sc->get);
	assert_ptr_equal(sc->parent, tdict_scope(root));
	assert_string_equal(sc->get(sc->arg, "b"), "3");
	assert_null(sc->get(sc->arg, "a"));
	assert_string_equal(render1(f, "{{a}}{{b}}{{n}}", sc), "2342-x");

	/* Same name as key, bool and list: separate name spaces. */
	assert_int_equal(tdict_set(kid, "x", "val"), 0);
	assert_int_equal(tdict_bool(kid, "x", 1), 0);
	assert_string_equal(render1(f, "{{#x}}{{x}}{{/x}}", sc), "val");
	/* The kid's "off" hides the root's "on". */
	assert_int_equal(tdict_bool(root, "y", 1), 0);
	assert_string_equal(render1(f, "{{#y}}Y{{/y}}", sc), "Y");
	assert_int_equal(tdict_bool(kid, "y", 0), 0);
	assert_string_equal(render1(f, "{{#y}}Y{{/y}}", sc), "");

	/* A list child falls back to its dict when used as a scope. */
	assert_non_null(c = tdict_add(root, "l"));
	assert_int_equal(tdict_set(c, "c", "C"), 0);
	assert_string_equal(render1(f, "{{c}}{{a}}", tdict_scope(c)), "C2");
	/* Values are copies. */
	{
		char	 tmp[8] = "before";

		assert_int_equal(tdict_set(root, "copy", tmp), 0);
		strcpy(tmp, "after");
		assert_string_equal(render1(f, "{{copy}}", tdict_scope(root)),
		    "before");
	}
}

static void
test_tdict_oom(void **state)
{
	struct arena	*a;
	struct tdict	*d;

	(void)state;
	assert_non_null(a = arena_new(1024));
	assert_non_null(d = tdict_new(a, NULL));
	arena_set_cap(a, arena_used(a));
	assert_int_equal(tdict_set(d, "k", "v"), -1);
	assert_int_equal(tdict_setf(d, "k", "%d", 1), -1);
	assert_int_equal(tdict_bool(d, "b", 1), -1);
	assert_null(tdict_add(d, "l"));
	assert_null(tdict_new(a, d));
	arena_free(a);
}

static void
write_file(const char *dir, const char *name, const char *s)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(s, 1, strlen(s), fp), strlen(s));
	assert_int_equal(fclose(fp), 0);
}

static void
remove_file(const char *dir, const char *name)
{
	char	 path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	(void)rmdir(path);
}

static void
test_set_load(void **state)
{
	struct fix	*f = *state;
	struct tmpl_set	*set;
	struct tdict	*d;
	char		 dir[] = "/tmp/test_tmpl.XXXXXX";
	char		 sub[600];

	assert_non_null(mkdtemp(dir));
	write_file(dir, "login.html", "<form>{{>csrf.html}}{{user|attr}}"
	    "</form>\n");
	write_file(dir, "csrf.html", "<input value=\"{{csrf|attr}}\">");
	write_file(dir, "notes.txt", "{{#broken");
	write_file(dir, ".hidden.html", "{{#broken");
	snprintf(sub, sizeof(sub), "%s/sub.html", dir);
	assert_int_equal(mkdir(sub, 0700), 0);

	assert_non_null(set = tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_true(tmpl_has(set, "login.html"));
	assert_true(tmpl_has(set, "csrf.html"));
	assert_false(tmpl_has(set, "notes.txt"));
	assert_false(tmpl_has(set, ".hidden.html"));
	assert_false(tmpl_has(set, "sub.html"));
	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(d, "csrf", "t0k"), 0);
	assert_int_equal(tdict_set(d, "user", "张 三"), 0);
	buf_clear(&f->out);
	assert_int_equal(tmpl_render(set, "login.html", tdict_scope(d),
	    tmpl_write_buf, &f->out), 0);
	assert_string_equal(f->out.data,
	    "<form><input value=\"t0k\">张&#x20;三</form>\n");
	tmpl_set_free(set);

	/* A parse error names the file and line. */
	write_file(dir, "bad.html", "ok\n{{#rows}}\n");
	assert_null(tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_string_equal(f->err, "bad.html:2: unclosed section 'rows'");
	remove_file(dir, "bad.html");
	/* So does a link error. */
	write_file(dir, "csrf.html", "{{>nope.html}}");
	assert_null(tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_string_equal(f->err, "csrf.html:1: unknown partial 'nope.html'");

	remove_file(dir, "login.html");
	remove_file(dir, "csrf.html");
	remove_file(dir, "notes.txt");
	remove_file(dir, ".hidden.html");
	remove_file(dir, "sub.html");
	assert_int_equal(rmdir(dir), 0);

	/* Missing directory; an empty one gives an empty set. */
	assert_null(tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, dir));
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(set = tmpl_set_load(dir, NULL, 0));
	assert_false(tmpl_has(set, "x.html"));
	tmpl_set_free(set);
	assert_int_equal(rmdir(dir), 0);
}

/* Static files are named with a fingerprint of their content. */
static void
test_set_assets(void **state)
{
	struct fix	*f = *state;
	struct tmpl_set	*set;
	struct tdict	*d, *x;
	char		 dir[] = "/tmp/test_tmpl.XXXXXX";
	char		 st[64], first[128], want[256];
	const char	*u;

	assert_non_null(mkdtemp(dir));
	snprintf(st, sizeof(st), "%s/static", dir);
	assert_int_equal(mkdir(st, 0700), 0);
	write_file(st, "site.css", "body { color: red }\n");
	write_file(st, "app.js", "'use strict';\n");
	write_file(st, "README", "no extension\n");
	write_file(dir, "page.html", "<link href=\"{{@site.css}}\">"
	    "{{#s}}<script src=\"{{src|static}}\"></script>{{/s}}"
	    "<img src=\"{{@none.png}}\">");
	assert_non_null(set = tmpl_set_load(dir, f->err, sizeof(f->err)));
	/* FNV-1a 64 of the content, between the name and its extension. */
	u = tmpl_asset_url(set, "/static/site.css");
	assert_int_equal(strlen(u), strlen("/static/site.0123456789abcdef.css"));
	assert_int_equal(strncmp(u, "/static/site.", 13), 0);
	assert_string_equal(u + 29, ".css");
	snprintf(first, sizeof(first), "%s", u);
	assert_int_equal(strncmp(tmpl_asset_url(set, "/static/README"),
	    "/static/README.", 15), 0);
	assert_int_equal(strlen(tmpl_asset_url(set, "/static/README")),
	    strlen("/static/README.0123456789abcdef"));
	/* Other URLs stay as they are. */
	assert_string_equal(tmpl_asset_url(set, "/static/other.css"),
	    "/static/other.css");
	assert_string_equal(tmpl_asset_url(set, "/worklist"), "/worklist");

	assert_non_null(d = tdict_new(f->a, NULL));
	assert_non_null(x = tdict_add(d, "s"));
	assert_int_equal(tdict_set(x, "src", "/static/app.js"), 0);
	buf_clear(&f->out);
	assert_int_equal(tmpl_render(set, "page.html", tdict_scope(d),
	    tmpl_write_buf, &f->out), 0);
	/* Escaped as attributes: '/' and '.' become references. */
	snprintf(want, sizeof(want), "href=\"&#x2F;static&#x2F;site&#x2E;%.16s"
	    "&#x2E;css\"", first + 13);
	assert_non_null(strstr(f->out.data, want));
	snprintf(want, sizeof(want), "src=\"&#x2F;static&#x2F;app&#x2E;%.16s"
	    "&#x2E;js\"", tmpl_asset_url(set, "/static/app.js") + 12);
	assert_non_null(strstr(f->out.data, want));
	/* A file that is not there: its plain name. */
	assert_non_null(strstr(f->out.data,
	    "src=\"/static/none&#x2E;png\""));
	tmpl_set_free(set);

	/* Changed content, changed URL. */
	write_file(st, "site.css", "body { color: blue }\n");
	assert_non_null(set = tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_string_not_equal(tmpl_asset_url(set, "/static/site.css"), first);
	tmpl_set_free(set);

	/* Bad names are refused when the template is read. */
	write_file(dir, "page.html", "{{@../etc/passwd}}");
	assert_null(tmpl_set_load(dir, f->err, sizeof(f->err)));
	assert_string_equal(f->err, "page.html:1: bad asset name '../etc/passwd'");

	remove_file(st, "site.css");
	remove_file(st, "app.js");
	remove_file(st, "README");
	remove_file(dir, "page.html");
	assert_int_equal(rmdir(st), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Writer that fails after "left" successful calls and counts calls. */
struct failw {
	int	 left;
	int	 calls;
	size_t	 bytes;
};

static int
fail_write(void *arg, const char *p, size_t n)
{
	struct failw	*w = arg;

	(void)p;
	w->calls++;
	if (w->left-- <= 0)
		return -1;
	w->bytes += n;
	return 0;
}

static void
test_write_error(void **state)
{
	struct fix		*f = *state;
	struct tmpl_set		*set;
	struct tdict		*d, *c;
	struct failw		 w;
	struct rep		 r = { 5, 0, 0, 1 };
	struct tmpl_scope	 sc = { rep_get, rep_section, NULL, NULL };
	char			*big;
	int			 i;

	assert_non_null(big = malloc(20001));
	memset(big, 'x', 20000);
	big[20000] = '\0';
	assert_non_null(d = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(d, "big", big), 0);
	for (i = 0; i < 3; i++)
		assert_non_null(c = tdict_add(d, "rows"));

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "small.html", "a{{x}}b", 7,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "big.html",
	    "{{#rows}}<{{big}}>{{/rows}}", 27, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_add(set, "rep.html",
	    "{{#rep}}{{big}}{{/rep}}", 23, f->err, sizeof(f->err)), 0);
	assert_int_equal(tmpl_set_link(set, f->err, sizeof(f->err)), 0);

	/* Failing at the final flush. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(tmpl_render(set, "small.html", NULL, fail_write,
	    &w), -1);
	assert_int_equal(w.calls, 1);
	/* Failing in the middle stops the rendering. */
	for (i = 0; i < 3; i++) {
		memset(&w, 0, sizeof(w));
		w.left = i;
		assert_int_equal(tmpl_render(set, "big.html", tdict_scope(d),
		    fail_write, &w), -1);
		assert_int_equal(w.calls, i + 1);
	}
	/* Enough room: every byte arrives, coalesced into few calls. */
	memset(&w, 0, sizeof(w));
	w.left = 1000;
	assert_int_equal(tmpl_render(set, "big.html", tdict_scope(d),
	    fail_write, &w), 0);
	assert_int_equal(w.bytes, 3 * 20002);
	assert_true(w.calls <= 10);
	memset(&w, 0, sizeof(w));
	w.left = 1000;
	assert_int_equal(tmpl_render(set, "small.html", NULL, fail_write,
	    &w), 0);
	assert_int_equal(w.calls, 1);

	/* A callback that ignores tmpl_emit() errors: still -1, and no
	 * further output is attempted. */
	sc.arg = &r;
	assert_non_null(c = tdict_new(f->a, NULL));
	assert_int_equal(tdict_set(c, "big", big), 0);
	sc.parent = tdict_scope(c);
	memset(&w, 0, sizeof(w));
	w.left = 1;
	assert_int_equal(tmpl_render(set, "rep.html", &sc, fail_write, &w),
	    -1);
	assert_int_equal(w.calls, 2);

	/* The public escapers report write errors too. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(tmpl_esc_html(fail_write, &w, "<", 1), -1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(tmpl_esc_attr(fail_write, &w, big, 20000), -1);
	assert_int_equal(w.calls, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(tmpl_esc_url(fail_write, &w, " ", 1), -1);

	/* A capped buffer as writer. */
	buf_free(&f->out);
	buf_init(&f->out, 100);
	assert_int_equal(tmpl_render(set, "big.html", tdict_scope(d),
	    tmpl_write_buf, &f->out), -1);
	buf_free(&f->out);
	buf_init(&f->out, 0);

	tmpl_set_free(set);
	free(big);
}

static void
test_large_values(void **state)
{
	struct fix	*f = *state;
	char		*big, *want;
	size_t		 i, n = 10000;

	/* Values far larger than the output buffer, escaped in pieces. */
	assert_non_null(big = malloc(n * 4 + 1));
	assert_non_null(want = malloc(n * 7 + 3));
	want[0] = '[';
	for (i = 0; i < n; i++) {
		memcpy(big + i * 4, "<中", 4);
		memcpy(want + 1 + i * 7, "&lt;中", 7);
	}
	big[n * 4] = '\0';
	memcpy(want + 1 + n * 7, "]", 2);
	assert_string_equal(render_v(f, "[{{v}}]", big), want);
	free(want);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test_setup_teardown(test_text_passthrough,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_text,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_attr,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_url,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapers_direct,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_keys,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sections,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_sections,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inverted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_scope,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_partials,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_cycles,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tdict,
		    setup, teardown),
		cmocka_unit_test(test_tdict_oom),
		cmocka_unit_test_setup_teardown(test_set_load,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_assets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_values,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
