/*
 * parse.c - parsers for network input: urlencoded data, the Cookie
 * header, and streaming multipart/form-data.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "parse.h"

#define URL_MAXKEY		256
#define COOKIE_MAXHEADER	8192
#define MP_DEF_PARTS		1000
#define MP_DEF_HEADER		(16 * 1024)
#define MP_MAXBOUNDARY		70
#define MP_MAXPAD		256

/*
 * Character classes and UTF-8.
 */

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 7230 tchar. */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2046 bchars. */
static int
is_bchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

/* Strict UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF. */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t		 i, n, k;
	uint32_t	 cp, min;
	unsigned char	 c;

	for (i = 0; i < len; i += n) {
		c = s[i];
		if (c < 0x80) {
			n = 1;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n > len - i)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/*
 * Key/value lists.
 */

void
kvlist_init(struct kvlist *l)
{
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

/* Append an entry whose strings already live in the arena. */
static int
kvlist_push(struct arena *a, struct kvlist *l, const char *key,
    const char *val, size_t vallen)
{
	struct kv	*nv;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 8;
		if (ncap < l->cap || ncap > SIZE_MAX / sizeof(*nv))
			return -1;
		if ((nv = arena_alloc(a, ncap * sizeof(*nv))) == NULL)
			return -1;
		if (l->n > 0)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n].key = key;
	l->v[l->n].val = val;
	l->v[l->n].vallen = vallen;
	l->n++;
	return 0;
}

int
kvlist_add(struct arena *a, struct kvlist *l, const char *key, size_t keylen,
    const char *val, size_t vallen)
{
	char	*k, *v;

	if ((k = arena_strndup(a, key, keylen)) == NULL)
		return -1;
	if ((v = arena_strndup(a, val, vallen)) == NULL)
		return -1;
	return kvlist_push(a, l, k, v, vallen);
}

const struct kv *
kv_find(const struct kvlist *l, const char *key)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

const char *
kv_get(const struct kvlist *l, const char *key)
{
	const struct kv	*kv;

	return (kv = kv_find(l, key)) != NULL ? kv->val : NULL;
}

size_t
kv_count(const struct kvlist *l, const char *key)
{
	size_t	 i, n;

	for (i = n = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			n++;
	return n;
}

/*
 * Urlencoded data.
 */

/* Decode len bytes of s ('+' and %XX) into a NUL-terminated arena copy.
 * plus: whether '+' means a space. */
static char *
url_decode(struct arena *a, const char *s, size_t len, int plus,
    size_t *outlen, const char **errstr)
{
	char	*out;
	size_t	 i, o;
	int	 hi, lo;

	if (len == SIZE_MAX || (out = arena_alloc(a, len + 1)) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	for (i = o = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3 ||
			    (hi = hex_value((unsigned char)s[i + 1])) == -1 ||
			    (lo = hex_value((unsigned char)s[i + 2])) == -1) {
				*errstr = "malformed %-escape";
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

int
parse_urlencoded(struct arena *a, const char *s, size_t len,
    struct kvlist *out, size_t maxfields, const char **errstr)
{
	const char	*p, *end, *amp, *eq;
	char		*key, *val;
	size_t		 keylen, vallen, n;

	*errstr = NULL;
	if (len == 0)
		return 0;
	n = 0;
	end = s + len;
	for (p = s; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;
		if (++n > maxfields) {
			*errstr = "too many fields";
			goto fail;
		}
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		/* Each escape shrinks 3 bytes to 1: refuse long keys early. */
		if ((size_t)(eq - p) > 3 * URL_MAXKEY) {
			*errstr = "field name too long";
			goto fail;
		}
		key = url_decode(a, p, (size_t)(eq - p), 1, &keylen, errstr);
		if (key == NULL)
			goto fail;
		if (keylen > URL_MAXKEY) {
			*errstr = "field name too long";
			goto fail;
		}
		if (memchr(key, '\0', keylen) != NULL ||
		    !utf8_valid((const unsigned char *)key, keylen)) {
			*errstr = "field name is not valid UTF-8 text";
			goto fail;
		}
		if (eq < amp) {
			val = url_decode(a, eq + 1, (size_t)(amp - eq - 1), 1,
			    &vallen, errstr);
			if (val == NULL)
				goto fail;
		} else if ((val = arena_strndup(a, "", 0)) == NULL) {
			*errstr = "out of memory";
			goto fail;
		} else
			vallen = 0;
		if (kvlist_push(a, out, key, val, vallen) == -1) {
			*errstr = "out of memory";
			goto fail;
		}
		if (amp == end)
			break;
	}
	return 0;
fail:
	return -1;
}

/*
 * Cookies.
 */

int
parse_cookies(struct arena *a, const char *header, struct kvlist *out,
    size_t maxcookies)
{
	const char	*p, *end, *semi, *eq, *ns, *ne, *vs, *ve, *q;
	size_t		 len, n;
	int		 ok;

	if (header == NULL)
		return 0;
	if ((len = strnlen(header, COOKIE_MAXHEADER + 1)) > COOKIE_MAXHEADER)
		return -1;
	n = 0;
	end = header + len;
	for (p = header; p < end; p = semi + 1) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		if ((eq = memchr(p, '=', (size_t)(semi - p))) == NULL)
			goto next;
		for (ns = p; ns < eq && is_ows((unsigned char)*ns); ns++)
			continue;
		for (ne = eq; ne > ns && is_ows((unsigned char)ne[-1]); ne--)
			continue;
		for (vs = eq + 1; vs < semi && is_ows((unsigned char)*vs); vs++)
			continue;
		for (ve = semi; ve > vs && is_ows((unsigned char)ve[-1]); ve--)
			continue;
		if (ns == ne)
			goto next;
		for (ok = 1, q = ns; q < ne; q++)
			if (!is_tchar((unsigned char)*q))
				ok = 0;
		if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
			vs++;
			ve--;
		}
		for (q = vs; q < ve; q++)
			if (is_ctl((unsigned char)*q) || *q == '"')
				ok = 0;
		if (!ok)
			goto next;
		if (++n > maxcookies)
			return -1;
		if (kvlist_add(a, out, ns, (size_t)(ne - ns), vs,
		    (size_t)(ve - vs)) == -1)
			return -1;
next:
		if (semi == end)
			break;
	}
	return 0;
}

/*
 * Header parameters: "type; name=value; name="quoted \" value"".
 */

/* Skip OWS in [*pp, end). */
static void
hdr_skip_ows(const char **pp, const char *end)
{
	while (*pp < end && is_ows((unsigned char)**pp))
		(*pp)++;
}

/* Read a token into [*ts, *te); returns its length. */
static size_t
hdr_token(const char **pp, const char *end, const char **ts, const char **te)
{
	*ts = *pp;
	while (*pp < end && is_tchar((unsigned char)**pp))
		(*pp)++;
	*te = *pp;
	return (size_t)(*te - *ts);
}

/*
 * Read the next parameter after the media or disposition type: OWS ';'
 * OWS name OWS '=' OWS value OWS.  Empty parameters (";;", a trailing
 * ';') are skipped.  The value is unquoted into an arena copy.  Returns 1
 * with a parameter, 0 at the end, -1 with *errstr on a syntax error.
 */
static int
hdr_param_next(struct arena *a, const char **pp, const char *end,
    const char **name, size_t *namelen, char **val, size_t *vallen,
    const char **errstr)
{
	const char	*p, *ns, *ne, *vs;
	char		*v;
	size_t		 o;

	p = *pp;
	for (;;) {
		hdr_skip_ows(&p, end);
		if (p == end) {
			*pp = p;
			return 0;
		}
		if (*p != ';')
			goto bad;
		p++;
		hdr_skip_ows(&p, end);
		if (p < end && *p != ';')
			break;
	}
	if (hdr_token(&p, end, &ns, &ne) == 0)
		goto bad;
	hdr_skip_ows(&p, end);
	if (p == end || *p != '=')
		goto bad;
	p++;
	hdr_skip_ows(&p, end);
	if (p < end && *p == '"') {
		/* Quoted string; the copy is never longer than the input. */
		if ((v = arena_alloc(a, (size_t)(end - p))) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
		for (p++, o = 0; p < end && *p != '"'; p++) {
			if (*p == '\\' && end - p >= 2 &&
			    (p[1] == '"' || p[1] == '\\'))
				p++;
			v[o++] = *p;
		}
		if (p == end) {
			*errstr = "unterminated quoted string in header";
			return -1;
		}
		p++;
		v[o] = '\0';
	} else {
		for (vs = p; p < end && *p != ';' && *p != '"' &&
		    !is_ows((unsigned char)*p) && !is_ctl((unsigned char)*p);
		    p++)
			continue;
		o = (size_t)(p - vs);
		if ((v = arena_strndup(a, vs, o)) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
	}
	hdr_skip_ows(&p, end);
	if (p < end && *p != ';')
		goto bad;
	*pp = p;
	*name = ns;
	*namelen = (size_t)(ne - ns);
	*val = v;
	*vallen = o;
	return 1;
bad:
	*errstr = "malformed header parameter";
	return -1;
}

static int
hdr_name_is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(s, name, len) == 0;
}

/*
 * Multipart parser.
 */

enum mp_state {
	MP_PREAMBLE,	/* looking for the first delimiter */
	MP_DELIM,	/* just after a delimiter */
	MP_PAD,		/* transport padding after a delimiter */
	MP_CR,		/* CR after a delimiter */
	MP_DASH,	/* one '-' after a delimiter */
	MP_HEADER,	/* reading a part's header block */
	MP_BODY,	/* in a part's data */
	MP_EPILOGUE,	/* after the closing delimiter */
	MP_ERROR
};

struct mp_parser {
	struct arena		*arena;
	struct mp_callbacks	 cb;
	void			*arg;
	size_t			 max_parts;
	size_t			 max_header;
	char			*delim;	/* "\r\n--" boundary */
	size_t			 dlen;
	size_t			 match;	/* bytes of delim matched */
	size_t			 held;	/* of those, fed in earlier chunks */
	enum mp_state		 state;
	size_t			 pad;
	char			*hbuf;	/* header block of the current part */
	size_t			 hlen;
	size_t			 nparts;
	const char		*err;
};

static int
mp_fail(struct mp_parser *mp, const char *why)
{
	if (mp->state != MP_ERROR) {
		mp->state = MP_ERROR;
		mp->err = why;
	}
	return -1;
}

static int
mp_data(struct mp_parser *mp, const char *p, size_t n)
{
	if (n == 0 || mp->cb.part_data == NULL)
		return 0;
	if (mp->cb.part_data(mp->arg, p, n) == -1)
		return mp_fail(mp, "upload aborted while receiving part data");
	return 0;
}

/*
 * Look for the delimiter in p[0..n) and, when emit is set, pass the bytes
 * before it to part_data.  Bytes that may begin a delimiter are held back
 * across calls; as '\r' occurs in the delimiter only as its first byte,
 * a failed partial match can only restart at the current byte, and the
 * held bytes are known to equal the delimiter's first bytes.  Sets *used
 * to the bytes consumed.  Returns 1 if the delimiter was found (it ends
 * at p[*used - 1]), 0 if not (*used == n), -1 on a callback abort.
 */
static int
mp_scan(struct mp_parser *mp, const char *p, size_t n, size_t *used, int emit)
{
	const char	*d = mp->delim, *q;
	size_t		 i, end;

	i = 0;
	while (i < n) {
		if (mp->match == 0) {
			/* Outside a partial match only a CR matters. */
			if ((q = memchr(p + i, d[0], n - i)) == NULL)
				break;
			i = (size_t)(q - p);
		}
		if (p[i] == d[mp->match]) {
			i++;
			if (++mp->match < mp->dlen)
				continue;
			/* The match covers dlen - held bytes of p. */
			end = i - (mp->dlen - mp->held);
			if (emit && mp_data(mp, p, end) == -1)
				return -1;
			mp->match = mp->held = 0;
			*used = i;
			return 1;
		}
		/* A partial match failed.  Release what earlier chunks held;
		 * the bytes of this chunk stay in the run that begins at
		 * p[0].  p[i] is looked at again. */
		if (mp->held > 0 && emit && mp_data(mp, d, mp->held) == -1)
			return -1;
		mp->held = 0;
		mp->match = 0;
	}
	end = n - (mp->match - mp->held);
	if (emit && mp_data(mp, p, end) == -1)
		return -1;
	mp->held = mp->match;
	*used = n;
	return 0;
}

/* Strip the directory part of a file name, in place. */
static char *
mp_basename(char *s)
{
	char	*p, *base;

	for (base = p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	return base;
}

/*
 * Decode an RFC 5987 ext-value (charset'language'pct-encoded) into UTF-8.
 * Returns an arena string, or NULL with *errstr set.
 */
static char *
mp_extvalue(struct arena *a, const char *s, size_t len, size_t *outlen,
    const char **errstr)
{
	const char	*q1, *q2, *end = s + len;
	char		*raw, *out;
	size_t		 rawlen, i, o;
	unsigned char	 c;
	int		 latin1;

	if ((q1 = memchr(s, '\'', len)) == NULL ||
	    (q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1))) == NULL)
		goto bad;
	if (hdr_name_is(s, (size_t)(q1 - s), "UTF-8"))
		latin1 = 0;
	else if (hdr_name_is(s, (size_t)(q1 - s), "ISO-8859-1"))
		latin1 = 1;
	else {
		*errstr = "unsupported charset in filename*";
		return NULL;
	}
	for (i = 1; q2 + i < end; i++) {
		c = (unsigned char)q2[i];
		if (c != '%' && !is_tchar(c))
			goto bad;
	}
	raw = url_decode(a, q2 + 1, (size_t)(end - q2 - 1), 0, &rawlen, errstr);
	if (raw == NULL)
		return NULL;
	if (!latin1) {
		*outlen = rawlen;
		return raw;
	}
	if (rawlen > (SIZE_MAX - 1) / 2 ||
	    (out = arena_alloc(a, rawlen * 2 + 1)) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	for (i = o = 0; i < rawlen; i++) {
		c = (unsigned char)raw[i];
		if (c < 0x80)
			out[o++] = (char)c;
		else {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	*errstr = "malformed filename* parameter";
	return NULL;
}

/* A part's name or file name must be UTF-8 text without control
 * characters. */
static int
mp_text_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)s[i]))
			return 0;
	return utf8_valid((const unsigned char *)s, len);
}

/* Parse the value of a Content-Disposition field into part. */
static int
mp_disposition(struct mp_parser *mp, const char *p, const char *end,
    struct mp_part *part)
{
	const char	*ts, *te, *pname, *errstr = NULL;
	char		*val, *fname = NULL, *fnamex = NULL, *base;
	size_t		 pnamelen, vallen, fnamelen = 0, fnamexlen = 0;
	int		 rc;

	if (hdr_token(&p, end, &ts, &te) == 0 ||
	    !hdr_name_is(ts, (size_t)(te - ts), "form-data"))
		return mp_fail(mp, "part disposition is not form-data");
	while ((rc = hdr_param_next(mp->arena, &p, end, &pname, &pnamelen,
	    &val, &vallen, &errstr)) == 1) {
		if (hdr_name_is(pname, pnamelen, "name")) {
			if (part->name != NULL)
				return mp_fail(mp, "duplicate name parameter");
			if (!mp_text_ok(val, vallen))
				return mp_fail(mp,
				    "part name is not valid UTF-8 text");
			part->name = val;
		} else if (hdr_name_is(pname, pnamelen, "filename")) {
			if (fname != NULL)
				return mp_fail(mp,
				    "duplicate filename parameter");
			fname = val;
			fnamelen = vallen;
		} else if (hdr_name_is(pname, pnamelen, "filename*")) {
			if (fnamex != NULL)
				return mp_fail(mp,
				    "duplicate filename* parameter");
			fnamex = mp_extvalue(mp->arena, val, vallen,
			    &fnamexlen, &errstr);
			if (fnamex == NULL)
				return mp_fail(mp, errstr);
		}
	}
	if (rc == -1)
		return mp_fail(mp, errstr);
	if (fnamex != NULL) {
		fname = fnamex;
		fnamelen = fnamexlen;
	}
	if (fname != NULL) {
		if (!mp_text_ok(fname, fnamelen))
			return mp_fail(mp, "file name is not valid UTF-8 text");
		base = mp_basename(fname);
		if (fnamelen > 0 && (*base == '\0' ||
		    strcmp(base, ".") == 0 || strcmp(base, "..") == 0))
			return mp_fail(mp, "file name has no base name");
		part->filename = base;
	}
	return 0;
}

/* Parse the header block in hbuf (ending in the blank line) and start
 * the part. */
static int
mp_headers(struct mp_parser *mp)
{
	struct mp_part	 part;
	const char	*s, *end, *eol, *colon, *vs, *ve;
	int		 seen_cd = 0;

	memset(&part, 0, sizeof(part));
	s = mp->hbuf;
	end = mp->hbuf + mp->hlen - 2;	/* without the blank line */
	for (; s < end; s = eol + 2) {
		/* Every line ends in CRLF; a CR alone is caught here. */
		eol = memchr(s, '\r', (size_t)(end - s));
		if (eol == NULL || eol[1] != '\n')
			return mp_fail(mp, "bare CR in part header");
		if (memchr(s, '\n', (size_t)(eol - s)) != NULL)
			return mp_fail(mp, "bare LF in part header");
		if (memchr(s, '\0', (size_t)(eol - s)) != NULL)
			return mp_fail(mp, "NUL byte in part header");
		if (is_ows((unsigned char)*s))
			return mp_fail(mp, "folded part header line");
		if ((colon = memchr(s, ':', (size_t)(eol - s))) == NULL)
			return mp_fail(mp, "malformed part header line");
		for (vs = s; vs < colon; vs++)
			if (!is_tchar((unsigned char)*vs))
				return mp_fail(mp,
				    "malformed part header name");
		if (colon == s)
			return mp_fail(mp, "malformed part header name");
		for (vs = colon + 1; vs < eol && is_ows((unsigned char)*vs);
		    vs++)
			continue;
		for (ve = eol; ve > vs && is_ows((unsigned char)ve[-1]); ve--)
			continue;
		if (hdr_name_is(s, (size_t)(colon - s),
		    "Content-Disposition")) {
			if (seen_cd)
				return mp_fail(mp,
				    "duplicate Content-Disposition header");
			seen_cd = 1;
			if (mp_disposition(mp, vs, ve, &part) == -1)
				return -1;
		} else if (hdr_name_is(s, (size_t)(colon - s),
		    "Content-Type")) {
			if (part.content_type != NULL)
				return mp_fail(mp,
				    "duplicate Content-Type header");
			part.content_type = arena_strndup(mp->arena, vs,
			    (size_t)(ve - vs));
			if (part.content_type == NULL)
				return mp_fail(mp, "out of memory");
		}
	}
	if (!seen_cd)
		return mp_fail(mp, "part has no Content-Disposition header");
	if (part.name == NULL)
		return mp_fail(mp, "part has no name");
	if (mp->cb.part_begin != NULL &&
	    mp->cb.part_begin(mp->arg, &part) == -1)
		return mp_fail(mp, "part refused by part_begin callback");
	return 0;
}

struct mp_parser *
mp_new(struct arena *a, const char *content_type,
    const struct mp_callbacks *cb, void *arg, const struct mp_limits *limits,
    const char **errstr)
{
	struct mp_parser	*mp = NULL;
	const char		*p, *end, *ts, *te, *pname;
	char			*val, *boundary = NULL;
	size_t			 pnamelen, vallen, blen = 0, i;
	int			 rc;

	*errstr = NULL;
	if (content_type == NULL) {
		*errstr = "missing Content-Type";
		goto fail;
	}
	p = content_type;
	end = p + strlen(p);
	hdr_skip_ows(&p, end);
	if (hdr_token(&p, end, &ts, &te) == 0 || p == end || *p != '/' ||
	    !hdr_name_is(ts, (size_t)(te - ts), "multipart")) {
		*errstr = "Content-Type is not multipart/form-data";
		goto fail;
	}
	p++;
	if (hdr_token(&p, end, &ts, &te) == 0 ||
	    !hdr_name_is(ts, (size_t)(te - ts), "form-data")) {
		*errstr = "Content-Type is not multipart/form-data";
		goto fail;
	}
	while ((rc = hdr_param_next(a, &p, end, &pname, &pnamelen, &val,
	    &vallen, errstr)) == 1) {
		if (!hdr_name_is(pname, pnamelen, "boundary"))
			continue;
		if (boundary != NULL) {
			*errstr = "duplicate multipart boundary";
			goto fail;
		}
		boundary = val;
		blen = vallen;
	}
	if (rc == -1)
		goto fail;
	if (boundary == NULL) {
		*errstr = "missing multipart boundary";
		goto fail;
	}
	if (blen < 1 || blen > MP_MAXBOUNDARY || boundary[blen - 1] == ' ') {
		*errstr = "invalid multipart boundary";
		goto fail;
	}
	for (i = 0; i < blen; i++)
		if (!is_bchar((unsigned char)boundary[i])) {
			*errstr = "invalid multipart boundary";
			goto fail;
		}

	if ((mp = arena_calloc(a, 1, sizeof(*mp))) == NULL)
		goto oom;
	mp->arena = a;
	if (cb != NULL)
		mp->cb = *cb;
	mp->arg = arg;
	mp->max_parts = MP_DEF_PARTS;
	mp->max_header = MP_DEF_HEADER;
	if (limits != NULL && limits->max_parts != 0)
		mp->max_parts = limits->max_parts;
	if (limits != NULL && limits->max_header != 0)
		mp->max_header = limits->max_header;
	if ((mp->delim = arena_printf(a, "\r\n--%s", boundary)) == NULL)
		goto oom;
	mp->dlen = blen + 4;
	if ((mp->hbuf = arena_alloc(a, mp->max_header)) == NULL)
		goto oom;
	/* The first delimiter may open the body without a CRLF before it:
	 * start as if one had just been seen. */
	mp->match = mp->held = 2;
	mp->state = MP_PREAMBLE;
	return mp;
oom:
	*errstr = "out of memory";
fail:
	return NULL;
}

int
mp_feed(struct mp_parser *mp, const char *p, size_t n)
{
	size_t		 i, used;
	int		 rc;
	unsigned char	 c;

	if (mp->state == MP_ERROR)
		return -1;
	if (p == NULL && n > 0)
		return mp_fail(mp, "no data to parse");
	i = 0;
	while (i < n) {
		switch (mp->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			rc = mp_scan(mp, p + i, n - i, &used,
			    mp->state == MP_BODY);
			if (rc == -1)
				return -1;
			i += used;
			if (rc == 0)
				break;
			if (mp->state == MP_BODY && mp->cb.part_end != NULL &&
			    mp->cb.part_end(mp->arg) == -1)
				return mp_fail(mp,
				    "upload aborted by part_end callback");
			mp->state = MP_DELIM;
			mp->pad = 0;
			break;
		case MP_DELIM:
		case MP_PAD:
			c = (unsigned char)p[i++];
			if (c == '-' && mp->state == MP_DELIM)
				mp->state = MP_DASH;
			else if (c == '\r')
				mp->state = MP_CR;
			else if (is_ows(c) && ++mp->pad <= MP_MAXPAD)
				mp->state = MP_PAD;
			else
				return mp_fail(mp, "malformed boundary line");
			break;
		case MP_DASH:
			if (p[i++] != '-')
				return mp_fail(mp, "malformed boundary line");
			mp->state = MP_EPILOGUE;
			break;
		case MP_CR:
			if (p[i++] != '\n')
				return mp_fail(mp, "malformed boundary line");
			if (++mp->nparts > mp->max_parts)
				return mp_fail(mp, "too many parts");
			mp->hlen = 0;
			mp->state = MP_HEADER;
			break;
		case MP_HEADER:
			if (mp->hlen == mp->max_header)
				return mp_fail(mp, "part header too long");
			c = (unsigned char)p[i++];
			mp->hbuf[mp->hlen++] = (char)c;
			if (c != '\n')
				break;
			/* The block ends with a blank line; it may be the
			 * only line (no header fields). */
			if (!(mp->hlen == 2 && mp->hbuf[0] == '\r') &&
			    !(mp->hlen >= 4 && memcmp(mp->hbuf + mp->hlen - 4,
			    "\r\n\r\n", 4) == 0))
				break;
			if (mp_headers(mp) == -1)
				return -1;
			mp->match = mp->held = 0;
			mp->state = MP_BODY;
			break;
		case MP_EPILOGUE:
			i = n;
			break;
		case MP_ERROR:
			return -1;
		}
	}
	return 0;
}

int
mp_finish(struct mp_parser *mp)
{
	switch (mp->state) {
	case MP_EPILOGUE:
		return 0;
	case MP_ERROR:
		return -1;
	case MP_PREAMBLE:
		return mp_fail(mp, "no multipart boundary in body");
	default:
		return mp_fail(mp, "truncated multipart body");
	}
}

const char *
mp_error(const struct mp_parser *mp)
{
	return mp->err;
}

/*
 * Collector.
 */

static int
mp_collect_begin(void *arg, const struct mp_part *part)
{
	struct mp_collect	*col = arg;

	if (part->filename != NULL) {
		if (col->file_cb == NULL) {
			col->err = "file uploads are not accepted here";
			return -1;
		}
		col->infile = 1;
		if (col->file_cb->part_begin != NULL)
			return col->file_cb->part_begin(col->file_arg, part);
		return 0;
	}
	col->infile = 0;
	col->name = part->name;
	buf_clear(&col->val);
	return 0;
}

static int
mp_collect_data(void *arg, const char *p, size_t n)
{
	struct mp_collect	*col = arg;

	if (col->infile) {
		if (col->file_cb->part_data != NULL)
			return col->file_cb->part_data(col->file_arg, p, n);
		return 0;
	}
	if (n > col->maxval - col->val.len) {
		col->err = "form field value too long";
		return -1;
	}
	if (col->maxtotal != 0 && n > col->maxtotal - col->total) {
		col->err = "form fields too long in total";
		return -1;
	}
	if (buf_append(&col->val, p, n) == -1) {
		col->err = "out of memory";
		return -1;
	}
	col->total += n;
	return 0;
}

static int
mp_collect_end(void *arg)
{
	struct mp_collect	*col = arg;
	const char		*v;

	if (col->infile) {
		col->infile = 0;
		if (col->file_cb->part_end != NULL)
			return col->file_cb->part_end(col->file_arg);
		return 0;
	}
	v = col->val.len > 0 ? col->val.data : "";
	if (kvlist_add(col->arena, col->fields, col->name, strlen(col->name),
	    v, col->val.len) == -1) {
		col->err = "out of memory";
		return -1;
	}
	buf_clear(&col->val);
	return 0;
}

static const struct mp_callbacks mp_collect_cb = {
	mp_collect_begin,
	mp_collect_data,
	mp_collect_end
};

void
mp_collect_init(struct mp_collect *col, struct arena *a,
    struct kvlist *fields, size_t maxval, size_t maxtotal,
    const struct mp_callbacks *file_cb, void *file_arg)
{
	memset(col, 0, sizeof(*col));
	col->arena = a;
	col->fields = fields;
	col->maxval = maxval;
	col->maxtotal = maxtotal;
	col->file_cb = file_cb;
	col->file_arg = file_arg;
	buf_init(&col->val, 0);
}

struct mp_parser *
mp_collect_new(struct mp_collect *col, const char *content_type,
    const struct mp_limits *limits, const char **errstr)
{
	return mp_new(col->arena, content_type, &mp_collect_cb, col, limits,
	    errstr);
}

const char *
mp_collect_error(const struct mp_collect *col, const struct mp_parser *mp)
{
	if (col->err != NULL)
		return col->err;
	return mp != NULL ? mp_error(mp) : NULL;
}

void
mp_collect_free(struct mp_collect *col)
{
	buf_free(&col->val);
}

int
mp_parse_buffer(struct arena *a, const char *content_type, const char *body,
    size_t len, struct kvlist *fields, size_t maxval,
    const struct mp_callbacks *file_cb, void *file_arg, const char **errstr)
{
	struct mp_collect	 col;
	struct mp_parser	*mp;
	int			 rc = -1;

	mp_collect_init(&col, a, fields, maxval, 0, file_cb, file_arg);
	if ((mp = mp_collect_new(&col, content_type, NULL, errstr)) == NULL)
		goto fail;
	if (mp_feed(mp, body, len) == -1 || mp_finish(mp) == -1) {
		*errstr = mp_collect_error(&col, mp);
		goto fail;
	}
	*errstr = NULL;
	rc = 0;
fail:
	mp_collect_free(&col);
	return rc;
}
