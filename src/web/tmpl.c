/*
 * tmpl.c - HTML templates with escaping by default.
 *
 * A template is parsed into a flat array of nodes.  A section node's body
 * is the nodes that follow it up to (not including) its end index, so the
 * tree is walked by index ranges and rendering needs no allocation.  The
 * template keeps a private copy of its source: text nodes point into it
 * and key names are NUL-terminated in place (the bytes overwritten belong
 * to the tag, never to text).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "tmpl.h"
#include "log.h"

#define TMPL_OUTBUF	8192		/* render output coalescing buffer */
#define TMPL_ESCBUF	512		/* buffer of the public escapers */
#define TMPL_MAXFILE	(16 * 1024 * 1024)
#define TMPL_NAMESHOW	64		/* longest name quoted in messages */

enum node_type {
	NODE_TEXT,
	NODE_VAR,
	NODE_SECTION,
	NODE_INVERTED,
	NODE_PARTIAL,
	NODE_ASSET		/* {{@name}}: /static/name, fingerprinted */
};

enum filter {
	FILTER_TEXT,
	FILTER_ATTR,
	FILTER_URL,
	FILTER_STATIC		/* a /static/ URL, fingerprinted; attr */
};

struct node {
	enum node_type	 type;
	enum filter	 filter;	/* NODE_VAR */
	const char	*s;		/* text, or NUL-terminated name */
	size_t		 len;		/* NODE_TEXT */
	size_t		 end;		/* sections: index past the body */
	size_t		 target;	/* NODE_PARTIAL: template index */
	unsigned int	 line;
};

struct tmpl {
	char		*name;
	char		*src;		/* private copy, see above */
	struct node	*nodes;
	size_t		 nnodes;
	size_t		 cap;
};

/* A static file and the URL the pages name it by. */
struct asset {
	char		*name;		/* "zhiying.css" */
	char		*url;		/* "/static/zhiying.<hash>.css" */
};

struct tmpl_set {
	struct tmpl	**t;
	size_t		  n;
	size_t		  cap;
	int		  linked;
	struct asset	 *assets;	/* of <dir>/static, by name */
	size_t		  nassets;
};

/* Buffered output. */
struct out {
	tmpl_write_fn	 fn;
	void		*arg;
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 err;
};

struct tmpl_ctx {
	const struct tmpl_set	*set;
	struct out		 out;
	int			 err;	/* rendering failed */
	int			 depth;	/* sections and partials entered */
	/* The section being rendered. */
	const struct tmpl	*sec_t;
	size_t			 sec_begin;
	size_t			 sec_end;
	const struct tmpl_scope	*sec_scope;
	int			 counting;
	size_t			 count;
	char			 buf[TMPL_OUTBUF];
};

static int	render_nodes(struct tmpl_ctx *, const struct tmpl *, size_t,
		    size_t, const struct tmpl_scope *);

/*
 * Messages.
 */

/*
 * Output.
 */

static int
out_flush(struct out *o)
{
	if (o->err)
		return -1;
	if (o->len > 0 && o->fn(o->arg, o->buf, o->len) != 0) {
		o->err = 1;
		return -1;
	}
	o->len = 0;
	return 0;
}

static int
out_write(struct out *o, const char *p, size_t n)
{
	if (o->err)
		return -1;
	if (n > o->cap - o->len) {
		if (out_flush(o) == -1)
			return -1;
		if (n >= o->cap) {
			if (o->fn(o->arg, p, n) != 0) {
				o->err = 1;
				return -1;
			}
			return 0;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/*
 * Length of the UTF-8 sequence at s (n > 0 bytes).  *valid tells whether it
 * is a well-formed sequence; if not, the length is that of the maximal
 * ill-formed subpart (at least 1), which is replaced by one U+FFFD.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, int *valid)
{
	unsigned char	 c = s[0], lo = 0x80, hi = 0xBF;
	size_t		 need, i;

	*valid = 0;
	if (c < 0x80) {
		*valid = c != 0;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 1;
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xBF;
	}
	*valid = 1;
	return need + 1;
}

static const char	 hexdig[] = "0123456789ABCDEF";
static const char	 replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* Bytes that tmpl_esc_html changes: the five specials, NUL, non-ASCII. */
static int
html_special(unsigned char c)
{
	return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' ||
	    c == '\0' || c >= 0x80;
}

static int
esc_html(struct out *o, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*ent;
	size_t			 i, run, len;
	int			 valid;

	i = 0;
	while (i < n) {
		for (run = i; run < n && !html_special(p[run]); run++)
			continue;
		if (run > i && out_write(o, s + i, run - i) == -1)
			return -1;
		if ((i = run) >= n)
			break;
		switch (p[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			ent = NULL;
			break;
		}
		if (ent != NULL) {
			if (out_write(o, ent, strlen(ent)) == -1)
				return -1;
			i++;
			continue;
		}
		len = utf8_seq(p + i, n - i, &valid);
		if (out_write(o, valid ? s + i : replacement,
		    valid ? len : sizeof(replacement) - 1) == -1)
			return -1;
		i += len;
	}
	return 0;
}

static int
esc_attr(struct out *o, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 ent[7];
	size_t			 i, run, len;
	int			 valid;

	i = 0;
	while (i < n) {
		for (run = i; run < n && is_alnum(p[run]); run++)
			continue;
		if (run > i && out_write(o, s + i, run - i) == -1)
			return -1;
		if ((i = run) >= n)
			break;
		if (p[i] >= 0x80 || p[i] == '\0') {
			len = utf8_seq(p + i, n - i, &valid);
			if (out_write(o, valid ? s + i : replacement,
			    valid ? len : sizeof(replacement) - 1) == -1)
				return -1;
			i += len;
			continue;
		}
		ent[0] = '&';
		ent[1] = '#';
		ent[2] = 'x';
		ent[3] = hexdig[p[i] >> 4];
		ent[4] = hexdig[p[i] & 0xF];
		ent[5] = ';';
		if (out_write(o, ent, 6) == -1)
			return -1;
		i++;
	}
	return 0;
}

static int
url_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static int
esc_url(struct out *o, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 pct[3];
	size_t			 i, run;

	i = 0;
	while (i < n) {
		for (run = i; run < n && url_unreserved(p[run]); run++)
			continue;
		if (run > i && out_write(o, s + i, run - i) == -1)
			return -1;
		if ((i = run) >= n)
			break;
		pct[0] = '%';
		pct[1] = hexdig[p[i] >> 4];
		pct[2] = hexdig[p[i] & 0xF];
		if (out_write(o, pct, 3) == -1)
			return -1;
		i++;
	}
	return 0;
}

static int
esc_public(int (*esc)(struct out *, const char *, size_t),
    tmpl_write_fn fn, void *arg, const char *s, size_t n)
{
	char		 buf[TMPL_ESCBUF];
	struct out	 o;

	o.fn = fn;
	o.arg = arg;
	o.buf = buf;
	o.len = 0;
	o.cap = sizeof(buf);
	o.err = 0;
	if (esc(&o, s, n) == -1)
		return -1;
	return out_flush(&o);
}

int
tmpl_esc_html(tmpl_write_fn fn, void *arg, const char *s, size_t n)
{
	return esc_public(esc_html, fn, arg, s, n);
}

int
tmpl_esc_attr(tmpl_write_fn fn, void *arg, const char *s, size_t n)
{
	return esc_public(esc_attr, fn, arg, s, n);
}

int
tmpl_esc_url(tmpl_write_fn fn, void *arg, const char *s, size_t n)
{
	return esc_public(esc_url, fn, arg, s, n);
}

int
tmpl_write_buf(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

/*
 * Parsing.
 */

struct parse {
	struct tmpl	*t;
	char		*err;
	size_t		 errlen;
	unsigned int	 line;
	size_t		 open[TMPL_MAX_SECTION_DEPTH];	/* node indices */
	size_t		 nopen;
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_keychar(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static unsigned int
count_lines(const char *p, size_t n)
{
	unsigned int	 k = 0;
	const char	*q;

	while (n > 0 && (q = memchr(p, '\n', n)) != NULL) {
		k++;
		n -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return k;
}

/* Trim blanks off both ends of [*p, *p + *n). */
static void
trim(char **p, size_t *n)
{
	while (*n > 0 && is_blank(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*p)[*n - 1]))
		(*n)--;
}

static int
parse_fail(struct parse *ps, unsigned int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
parse_fail(struct parse *ps, unsigned int line, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errfmt(ps->err, ps->errlen, "%s:%u: %s", ps->t->name, line, msg);
	return -1;
}

static struct node *
node_add(struct parse *ps, enum node_type type)
{
	struct tmpl	*t = ps->t;
	struct node	*n;
	size_t		 ncap;

	if (t->nnodes == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*n) ||
		    (n = realloc(t->nodes, ncap * sizeof(*n))) == NULL) {
			errfmt(ps->err, ps->errlen, "%s: out of memory",
			    t->name);
			return NULL;
		}
		t->nodes = n;
		t->cap = ncap;
	}
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = ps->line;
	return n;
}

/* A file name of the static folder: [A-Za-z0-9_.-], not starting with '.'. */
static int
asset_name_ok(const char *p, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 128 || p[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '_' || p[i] == '.' || p[i] == '-'))
			return 0;
	return 1;
}

/* Check that [p, p + n) is a valid key; on error, report it. */
static int
check_key(struct parse *ps, const char *p, size_t n)
{
	size_t	 i;

	if (n == 0)
		return parse_fail(ps, ps->line, "empty key");
	for (i = 0; i < n; i++)
		if (!is_keychar((unsigned char)p[i]))
			return parse_fail(ps, ps->line, "bad key '%.*s'",
			    (int)(n < TMPL_NAMESHOW ? n : TMPL_NAMESHOW), p);
	return 0;
}

/* Handle the tag whose content (between the braces) is [p, p + n). */
static int
parse_tag(struct parse *ps, char *p, size_t n)
{
	struct node	*nd, *open;
	char		*key, *f;
	size_t		 klen, flen;
	enum filter	 filter;
	char		 sigil;

	trim(&p, &n);
	sigil = n > 0 ? p[0] : '\0';
	if (sigil == '!')
		return 0;
	if (sigil == '@') {
		p++;
		n--;
		trim(&p, &n);
		if (!asset_name_ok(p, n))
			return parse_fail(ps, ps->line, "bad asset name '%.*s'",
			    (int)(n < TMPL_NAMESHOW ? n : TMPL_NAMESHOW), p);
		p[n] = '\0';
		if ((nd = node_add(ps, NODE_ASSET)) == NULL)
			return -1;
		nd->s = p;
		return 0;
	}
	if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>') {
		p++;
		n--;
		trim(&p, &n);
		if (check_key(ps, p, n) == -1)
			return -1;
		/* The byte after the name belongs to the tag. */
		p[n] = '\0';
		switch (sigil) {
		case '>':
			if ((nd = node_add(ps, NODE_PARTIAL)) == NULL)
				return -1;
			nd->s = p;
			nd->target = SIZE_MAX;
			return 0;
		case '/':
			if (ps->nopen == 0)
				return parse_fail(ps, ps->line,
				    "unexpected close of section '%.*s'",
				    TMPL_NAMESHOW, p);
			open = &ps->t->nodes[ps->open[ps->nopen - 1]];
			if (strcmp(open->s, p) != 0)
				return parse_fail(ps, ps->line,
				    "section '%.*s' (line %u) closed as '%.*s'",
				    TMPL_NAMESHOW, open->s, open->line,
				    TMPL_NAMESHOW, p);
			open->end = ps->t->nnodes;
			ps->nopen--;
			return 0;
		default:
			if (ps->nopen == TMPL_MAX_SECTION_DEPTH)
				return parse_fail(ps, ps->line,
				    "sections nested too deeply (max %d)",
				    TMPL_MAX_SECTION_DEPTH);
			if ((nd = node_add(ps, sigil == '#' ? NODE_SECTION :
			    NODE_INVERTED)) == NULL)
				return -1;
			nd->s = p;
			ps->open[ps->nopen++] = ps->t->nnodes - 1;
			return 0;
		}
	}

	key = p;
	klen = n;
	filter = FILTER_TEXT;
	if ((f = memchr(p, '|', n)) != NULL) {
		klen = (size_t)(f - p);
		f++;
		flen = n - klen - 1;
		trim(&key, &klen);
		trim(&f, &flen);
		if (flen == 4 && memcmp(f, "text", 4) == 0)
			filter = FILTER_TEXT;
		else if (flen == 4 && memcmp(f, "attr", 4) == 0)
			filter = FILTER_ATTR;
		else if (flen == 3 && memcmp(f, "url", 3) == 0)
			filter = FILTER_URL;
		else if (flen == 6 && memcmp(f, "static", 6) == 0)
			filter = FILTER_STATIC;
		else
			return parse_fail(ps, ps->line,
			    "unknown filter '%.*s'",
			    (int)(flen < TMPL_NAMESHOW ? flen : TMPL_NAMESHOW),
			    f);
	}
	if (check_key(ps, key, klen) == -1)
		return -1;
	key[klen] = '\0';
	if ((nd = node_add(ps, NODE_VAR)) == NULL)
		return -1;
	nd->s = key;
	nd->filter = filter;
	return 0;
}

static int
parse(struct parse *ps, size_t len)
{
	char		*src = ps->t->src, *tag, *close;
	struct node	*nd, *open;
	size_t		 pos;

	pos = 0;
	ps->line = 1;
	while (pos < len) {
		tag = memmem(src + pos, len - pos, "{{", 2);
		if (tag == NULL)
			tag = src + len;
		if (tag > src + pos) {
			if ((nd = node_add(ps, NODE_TEXT)) == NULL)
				return -1;
			nd->s = src + pos;
			nd->len = (size_t)(tag - (src + pos));
			ps->line += count_lines(nd->s, nd->len);
		}
		if (tag == src + len)
			break;
		close = memmem(tag + 2, len - (size_t)(tag + 2 - src), "}}",
		    2);
		if (close == NULL)
			return parse_fail(ps, ps->line, "unclosed tag");
		if (parse_tag(ps, tag + 2, (size_t)(close - (tag + 2))) == -1)
			return -1;
		ps->line += count_lines(tag + 2, (size_t)(close - (tag + 2)));
		pos = (size_t)(close + 2 - src);
	}
	if (ps->nopen > 0) {
		open = &ps->t->nodes[ps->open[ps->nopen - 1]];
		return parse_fail(ps, open->line, "unclosed section '%.*s'",
		    TMPL_NAMESHOW, open->s);
	}
	return 0;
}

static void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->src);
	free(t->nodes);
	free(t);
}

static const struct tmpl *
tmpl_find(const struct tmpl_set *set, const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->t[i]->name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return set->t[i];
		}
	return NULL;
}

struct tmpl_set *
tmpl_set_new(void)
{
	return calloc(1, sizeof(struct tmpl_set));
}

void
tmpl_set_free(struct tmpl_set *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tmpl_free(set->t[i]);
	free(set->t);
	for (i = 0; i < set->nassets; i++) {
		free(set->assets[i].name);
		free(set->assets[i].url);
	}
	free(set->assets);
	free(set);
}

int
tmpl_has(const struct tmpl_set *set, const char *name)
{
	return tmpl_find(set, name, NULL) != NULL;
}

int
tmpl_set_add(struct tmpl_set *set, const char *name, const char *src,
    size_t len, char *err, size_t errlen)
{
	struct parse	 ps;
	struct tmpl	*t, **nt;
	size_t		 ncap;

	if (tmpl_find(set, name, NULL) != NULL) {
		errfmt(err, errlen, "%s: duplicate template", name);
		return -1;
	}
	if (set->n == set->cap) {
		ncap = set->cap ? set->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*nt) ||
		    (nt = realloc(set->t, ncap * sizeof(*nt))) == NULL)
			goto oom;
		set->t = nt;
		set->cap = ncap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto oom;
	if ((t->name = strdup(name)) == NULL || len == SIZE_MAX ||
	    (t->src = malloc(len + 1)) == NULL) {
		tmpl_free(t);
		goto oom;
	}
	if (len > 0)
		memcpy(t->src, src, len);
	t->src[len] = '\0';

	memset(&ps, 0, sizeof(ps));
	ps.t = t;
	ps.err = err;
	ps.errlen = errlen;
	if (parse(&ps, len) == -1) {
		tmpl_free(t);
		return -1;
	}
	set->t[set->n++] = t;
	set->linked = 0;
	return 0;
oom:
	errfmt(err, errlen, "%s: out of memory", name);
	return -1;
}

/*
 * Linking.
 */

enum { WHITE, GREY, BLACK };

struct link {
	struct tmpl_set	*set;
	unsigned char	*color;
	int		*height;	/* longest partial chain below */
	char		*err;
	size_t		 errlen;
};

/* Depth-first walk over the includes of template i, entered at depth. */
static int
link_visit(struct link *lk, size_t i, int depth)
{
	const struct tmpl	*t = lk->set->t[i];
	const struct node	*nd;
	size_t			 k;
	int			 h = 0;

	lk->color[i] = GREY;
	for (k = 0; k < t->nnodes; k++) {
		nd = &t->nodes[k];
		if (nd->type != NODE_PARTIAL)
			continue;
		if (lk->color[nd->target] == GREY) {
			errfmt(lk->err, lk->errlen, "%s:%u: include cycle "
			    "through '%s'", t->name, nd->line, nd->s);
			return -1;
		}
		if (depth + 1 > TMPL_MAX_PARTIAL_DEPTH) {
			errfmt(lk->err, lk->errlen, "%s:%u: partials nested "
			    "too deeply (max %d)", t->name, nd->line,
			    TMPL_MAX_PARTIAL_DEPTH);
			return -1;
		}
		if (lk->color[nd->target] == WHITE &&
		    link_visit(lk, nd->target, depth + 1) == -1)
			return -1;
		if (lk->height[nd->target] + 1 > h)
			h = lk->height[nd->target] + 1;
		if (depth + h > TMPL_MAX_PARTIAL_DEPTH) {
			errfmt(lk->err, lk->errlen, "%s:%u: partials nested "
			    "too deeply (max %d)", t->name, nd->line,
			    TMPL_MAX_PARTIAL_DEPTH);
			return -1;
		}
	}
	lk->height[i] = h;
	lk->color[i] = BLACK;
	return 0;
}

int
tmpl_set_link(struct tmpl_set *set, char *err, size_t errlen)
{
	struct link	 lk;
	struct tmpl	*t;
	struct node	*nd;
	size_t		 i, k;
	int		 rc = -1;

	set->linked = 0;
	for (i = 0; i < set->n; i++) {
		t = set->t[i];
		for (k = 0; k < t->nnodes; k++) {
			nd = &t->nodes[k];
			if (nd->type != NODE_PARTIAL)
				continue;
			if (tmpl_find(set, nd->s, &nd->target) == NULL) {
				errfmt(err, errlen, "%s:%u: unknown partial "
				    "'%s'", t->name, nd->line, nd->s);
				return -1;
			}
		}
	}
	lk.set = set;
	lk.err = err;
	lk.errlen = errlen;
	lk.color = calloc(set->n ? set->n : 1, sizeof(*lk.color));
	lk.height = calloc(set->n ? set->n : 1, sizeof(*lk.height));
	if (lk.color == NULL || lk.height == NULL) {
		errfmt(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < set->n; i++)
		if (lk.color[i] == WHITE && link_visit(&lk, i, 0) == -1)
			goto done;
	set->linked = 1;
	rc = 0;
done:
	free(lk.color);
	free(lk.height);
	return rc;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has_html_suffix(const char *s)
{
	size_t	 n = strlen(s);

	return n > 5 && strcmp(s + n - 5, ".html") == 0;
}

/* Read the regular file name in dfd into a new buffer (free() it). */
static char *
read_file(int dfd, const char *dir, const char *name, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*p = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		errfmt(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TMPL_MAXFILE) {
		errfmt(err, errlen, "%s/%s: not a regular file or too large",
		    dir, name);
		goto fail;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		errfmt(err, errlen, "%s/%s: out of memory", dir, name);
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, p + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			errfmt(err, errlen, "%s/%s: %s", dir, name,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*lenp = len;
	return p;
fail:
	free(p);
	close(fd);
	return NULL;
}

/*
 * Static files.  Each file of <dir>/static is named in the pages with a
 * fingerprint of its content, /static/zhiying.<16 hex digits>.css, which
 * nginx serves as the file itself with a long, immutable cache life
 * (nginx/locations.conf.in): a changed file gets a new URL, so a browser
 * never keeps an old one, and an unchanged one is never asked for again.
 * The fingerprint is 64-bit FNV-1a, not a security measure.
 */
static int
asset_cmp(const void *a, const void *b)
{
	return strcmp(((const struct asset *)a)->name,
	    ((const struct asset *)b)->name);
}

static const char *
asset_find(const struct tmpl_set *set, const char *name)
{
	struct asset	 key, *a;

	if (set->nassets == 0)
		return NULL;
	key.name = (char *)name;
	a = bsearch(&key, set->assets, set->nassets, sizeof(*set->assets),
	    asset_cmp);
	return a != NULL ? a->url : NULL;
}

const char *
tmpl_asset_url(const struct tmpl_set *set, const char *url)
{
	const char	*v;

	if (strncmp(url, "/static/", 8) != 0 ||
	    (v = asset_find(set, url + 8)) == NULL)
		return url;
	return v;
}

/* "name.ext" with hash h: "/static/name.<h>.ext" (no extension: at the end). */
static char *
asset_url(const char *name, uint64_t h)
{
	const char	*dot = strrchr(name, '.');
	char		*u;
	size_t		 n = strlen(name) + 8 + 17 + 1;
	int		 base;

	if ((u = malloc(n)) == NULL)
		return NULL;
	base = dot != NULL && dot != name ? (int)(dot - name) :
	    (int)strlen(name);
	(void)snprintf(u, n, "/static/%.*s.%016llx%s", base, name,
	    (unsigned long long)h, name + base);
	return u;
}

static int
assets_load(struct tmpl_set *set, const char *dir, char *err, size_t errlen)
{
	struct dirent	*de;
	struct asset	*na;
	size_t		 cap = 0, len, i;
	char		 path[4096], *src;
	uint64_t	 h;
	DIR		*d;

	if ((size_t)snprintf(path, sizeof(path), "%s/static", dir) >=
	    sizeof(path)) {
		errfmt(err, errlen, "%s: path too long", dir);
		return -1;
	}
	/* Templates without static files (tests): names stay as written. */
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : (errfmt(err, errlen, "%s: %s",
		    path, strerror(errno)), -1);
	while ((de = readdir(d)) != NULL) {
		if (!asset_name_ok(de->d_name, strlen(de->d_name)))
			continue;
		if ((src = read_file(dirfd(d), path, de->d_name, &len, err,
		    errlen)) == NULL) {
			/* A folder or other non-file: not an asset. */
			continue;
		}
		h = 0xcbf29ce484222325ULL;
		for (i = 0; i < len; i++) {
			h ^= (unsigned char)src[i];
			h *= 0x100000001b3ULL;
		}
		free(src);
		if (set->nassets == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = realloc(set->assets, cap * sizeof(*na))) ==
			    NULL)
				goto oom;
			set->assets = na;
		}
		na = &set->assets[set->nassets];
		if ((na->name = strdup(de->d_name)) == NULL)
			goto oom;
		if ((na->url = asset_url(de->d_name, h)) == NULL) {
			free(na->name);
			goto oom;
		}
		set->nassets++;
	}
	closedir(d);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (set->nassets > 0)
		qsort(set->assets, set->nassets, sizeof(*set->assets),
		    asset_cmp);
	return 0;
oom:
	closedir(d);
	errfmt(err, errlen, "%s: out of memory", path);
	return -1;
}

struct tmpl_set *
tmpl_set_load(const char *dir, char *err, size_t errlen)
{
	struct tmpl_set	 *set = NULL;
	struct dirent	 *de;
	struct stat	  st;
	DIR		 *d;
	char		**names = NULL, **nn, *src;
	size_t		  n = 0, cap = 0, i, len;
	int		  ok = 0;

	if ((d = opendir(dir)) == NULL) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_html_suffix(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if (cap > SIZE_MAX / sizeof(*nn) ||
			    (nn = realloc(names, cap * sizeof(*nn))) == NULL)
				goto oom;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	/* Sorted, so that errors do not depend on directory order. */
	if (n > 0)
		qsort(names, n, sizeof(*names), namecmp);
	if ((set = tmpl_set_new()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((src = read_file(dirfd(d), dir, names[i], &len, err,
		    errlen)) == NULL)
			goto done;
		if (tmpl_set_add(set, names[i], src, len, err, errlen) == -1) {
			free(src);
			goto done;
		}
		free(src);
	}
	if (tmpl_set_link(set, err, errlen) == -1)
		goto done;
	if (assets_load(set, dir, err, errlen) == -1)
		goto done;
	ok = 1;
	goto done;
oom:
	errfmt(err, errlen, "%s: out of memory", dir);
done:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!ok) {
		tmpl_set_free(set);
		return NULL;
	}
	return set;
}

/*
 * Rendering.
 */

static const char *
scope_get(const struct tmpl_scope *sc, const char *key)
{
	const char	*v;

	for (; sc != NULL; sc = sc->parent)
		if (sc->get != NULL && (v = sc->get(sc->arg, key)) != NULL)
			return v;
	return NULL;
}

/* Render the section (or inverted section) node at index i of t. */
static int
render_section(struct tmpl_ctx *ctx, const struct tmpl *t, size_t i,
    const struct tmpl_scope *scope)
{
	const struct node	*nd = &t->nodes[i];
	const struct tmpl_scope	*sc, *o_scope;
	const struct tmpl	*o_t;
	size_t			 o_begin, o_end, o_count;
	int			 o_counting, r = 1;

	o_t = ctx->sec_t;
	o_begin = ctx->sec_begin;
	o_end = ctx->sec_end;
	o_scope = ctx->sec_scope;
	o_counting = ctx->counting;
	o_count = ctx->count;

	ctx->sec_t = t;
	ctx->sec_begin = i + 1;
	ctx->sec_end = nd->end;
	ctx->sec_scope = scope;
	ctx->counting = nd->type == NODE_INVERTED;
	ctx->count = 0;
	for (sc = scope; sc != NULL; sc = sc->parent) {
		if (sc->section == NULL)
			continue;
		if ((r = sc->section(sc->arg, nd->s, ctx)) != 1)
			break;
	}
	if (r < 0)
		ctx->err = 1;
	if (!ctx->err && nd->type == NODE_INVERTED && ctx->count == 0) {
		ctx->counting = 0;
		(void)render_nodes(ctx, t, i + 1, nd->end, scope);
	}

	ctx->sec_t = o_t;
	ctx->sec_begin = o_begin;
	ctx->sec_end = o_end;
	ctx->sec_scope = o_scope;
	ctx->counting = o_counting;
	ctx->count = o_count;
	return ctx->err ? -1 : 0;
}

static int
render_nodes(struct tmpl_ctx *ctx, const struct tmpl *t, size_t i,
    size_t end, const struct tmpl_scope *scope)
{
	const struct node	*nd;
	const char		*v;
	int			 r;

	if (ctx->depth >= TMPL_MAX_RENDER_DEPTH) {
		ctx->err = 1;
		return -1;
	}
	ctx->depth++;
	for (; i < end && !ctx->err; i++) {
		nd = &t->nodes[i];
		r = 0;
		switch (nd->type) {
		case NODE_TEXT:
			r = out_write(&ctx->out, nd->s, nd->len);
			break;
		case NODE_VAR:
			if ((v = scope_get(scope, nd->s)) == NULL)
				break;
			if (nd->filter == FILTER_STATIC) {
				v = tmpl_asset_url(ctx->set, v);
				r = esc_attr(&ctx->out, v, strlen(v));
			} else if (nd->filter == FILTER_ATTR)
				r = esc_attr(&ctx->out, v, strlen(v));
			else if (nd->filter == FILTER_URL)
				r = esc_url(&ctx->out, v, strlen(v));
			else
				r = esc_html(&ctx->out, v, strlen(v));
			break;
		case NODE_ASSET:
			v = asset_find(ctx->set, nd->s);
			if (v == NULL) {
				r = out_write(&ctx->out, "/static/", 8);
				if (r == 0)
					r = esc_attr(&ctx->out, nd->s,
					    strlen(nd->s));
			} else
				r = esc_attr(&ctx->out, v, strlen(v));
			break;
		case NODE_SECTION:
		case NODE_INVERTED:
			r = render_section(ctx, t, i, scope);
			i = nd->end - 1;
			break;
		case NODE_PARTIAL:
			if (nd->target >= ctx->set->n) {
				r = -1;
				break;
			}
			r = render_nodes(ctx, ctx->set->t[nd->target], 0,
			    ctx->set->t[nd->target]->nnodes, scope);
			break;
		}
		if (r == -1)
			ctx->err = 1;
	}
	ctx->depth--;
	return ctx->err ? -1 : 0;
}

int
tmpl_render(const struct tmpl_set *set, const char *name,
    const struct tmpl_scope *scope, tmpl_write_fn fn, void *warg)
{
	struct tmpl_ctx		 ctx;
	const struct tmpl	*t;

	if (!set->linked || (t = tmpl_find(set, name, NULL)) == NULL)
		return -1;
	memset(&ctx, 0, offsetof(struct tmpl_ctx, buf));
	ctx.set = set;
	ctx.out.fn = fn;
	ctx.out.arg = warg;
	ctx.out.buf = ctx.buf;
	ctx.out.cap = sizeof(ctx.buf);
	if (render_nodes(&ctx, t, 0, t->nnodes, scope) == -1)
		return -1;
	return out_flush(&ctx.out);
}

int
tmpl_emit(struct tmpl_ctx *ctx, const struct tmpl_scope *child)
{
	if (ctx == NULL || ctx->sec_t == NULL || ctx->err)
		return -1;
	if (ctx->counting) {
		ctx->count++;
		return 0;
	}
	return render_nodes(ctx, ctx->sec_t, ctx->sec_begin, ctx->sec_end,
	    child != NULL ? child : ctx->sec_scope);
}

const struct tmpl_scope *
tmpl_ctx_scope(const struct tmpl_ctx *ctx)
{
	return ctx->sec_scope;
}

/*
 * tdict.
 */

enum { TD_VAL, TD_BOOL, TD_LIST };

struct tdict_ent {
	struct tdict_ent	*next;
	const char		*key;
	int			 kind;
	const char		*val;		/* TD_VAL */
	int			 on;		/* TD_BOOL */
	struct tdict		*first;		/* TD_LIST */
	struct tdict		*last;
};

struct tdict {
	struct arena		*a;
	struct tdict_ent	*ents;
	struct tdict_ent	*tail;
	struct tdict		*next;		/* sibling in a list */
	struct tmpl_scope	 sc;
};

static struct tdict_ent *
tdict_find(const struct tdict *d, const char *key, int kind)
{
	struct tdict_ent	*e;

	for (e = d->ents; e != NULL; e = e->next)
		if (e->kind == kind && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Find the entry (key, kind) or append a new one. */
static struct tdict_ent *
tdict_ent(struct tdict *d, const char *key, int kind)
{
	struct tdict_ent	*e;

	if ((e = tdict_find(d, key, kind)) != NULL)
		return e;
	if ((e = arena_calloc(d->a, 1, sizeof(*e))) == NULL ||
	    (e->key = arena_strdup(d->a, key)) == NULL)
		return NULL;
	e->kind = kind;
	if (d->tail != NULL)
		d->tail->next = e;
	else
		d->ents = e;
	d->tail = e;
	return e;
}

static const char *
tdict_get(void *arg, const char *key)
{
	struct tdict_ent	*e;

	return (e = tdict_find(arg, key, TD_VAL)) != NULL ? e->val : NULL;
}

static int
tdict_section(void *arg, const char *name, struct tmpl_ctx *ctx)
{
	struct tdict		*d = arg, *c;
	struct tdict_ent	*e;
	struct tmpl_scope	 sc;

	if ((e = tdict_find(d, name, TD_BOOL)) != NULL)
		return e->on ? tmpl_emit(ctx, NULL) : 0;
	if ((e = tdict_find(d, name, TD_LIST)) == NULL)
		return 1;
	for (c = e->first; c != NULL; c = c->next) {
		/* The child's own keys first, then the enclosing scope. */
		sc = c->sc;
		sc.parent = tmpl_ctx_scope(ctx);
		if (tmpl_emit(ctx, &sc) == -1)
			return -1;
	}
	return 0;
}

struct tdict *
tdict_new(struct arena *a, const struct tdict *parent)
{
	struct tdict	*d;

	if ((d = arena_calloc(a, 1, sizeof(*d))) == NULL)
		return NULL;
	d->a = a;
	d->sc.get = tdict_get;
	d->sc.section = tdict_section;
	d->sc.arg = d;
	d->sc.parent = parent != NULL ? &parent->sc : NULL;
	return d;
}

int
tdict_set(struct tdict *d, const char *key, const char *val)
{
	struct tdict_ent	*e;
	char			*v;

	if ((v = arena_strdup(d->a, val)) == NULL ||
	    (e = tdict_ent(d, key, TD_VAL)) == NULL)
		return -1;
	e->val = v;
	return 0;
}

int
tdict_setf(struct tdict *d, const char *key, const char *fmt, ...)
{
	struct tdict_ent	*e;
	va_list			 ap;
	char			*v;

	va_start(ap, fmt);
	v = arena_vprintf(d->a, fmt, ap);
	va_end(ap);
	if (v == NULL || (e = tdict_ent(d, key, TD_VAL)) == NULL)
		return -1;
	e->val = v;
	return 0;
}

int
tdict_bool(struct tdict *d, const char *section, int on)
{
	struct tdict_ent	*e;

	if ((e = tdict_ent(d, section, TD_BOOL)) == NULL)
		return -1;
	e->on = on != 0;
	return 0;
}

struct tdict *
tdict_add(struct tdict *d, const char *list)
{
	struct tdict_ent	*e;
	struct tdict		*c;

	if ((e = tdict_ent(d, list, TD_LIST)) == NULL ||
	    (c = tdict_new(d->a, d)) == NULL)
		return NULL;
	if (e->last != NULL)
		e->last->next = c;
	else
		e->first = c;
	e->last = c;
	return c;
}

const struct tmpl_scope *
tdict_scope(struct tdict *d)
{
	return &d->sc;
}
