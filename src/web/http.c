/*
 * http.c - request input and response output over FastCGI.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "log.h"

#define FORM_MAX	(1024 * 1024)	/* urlencoded or multipart fields */
#define FORM_MAXFIELDS	512
#define QUERY_MAX	8192

/* Security headers of every dynamic response. */
static const char *const security_headers =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n"
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:;"
    " style-src 'self'; script-src 'self'; object-src 'none';"
    " frame-ancestors 'none'; form-action 'self'; base-uri 'none'\r\n"
    /* Pages carry patient data: never keep them in shared caches. */
    "Cache-Control: no-store\r\n";

static const char *const status_text[] = {
	[200] = "OK", [303] = "See Other", [400] = "Bad Request",
	[403] = "Forbidden", [404] = "Not Found", [409] = "Conflict",
	[405] = "Method Not Allowed", [413] = "Payload Too Large",
	[415] = "Unsupported Media Type", [500] = "Internal Server Error",
	[503] = "Service Unavailable",
};

/* Field validators: each takes the raw value and says whether it is
 * acceptable.  Handlers only ever see values that passed. */
typedef int (*validator)(const char *, size_t);

static int
valid_utf8(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, len;
	unsigned int		 cp;

	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] == 0)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			len = 2, cp = p[i] & 0x1f;
		else if ((p[i] & 0xf0) == 0xe0)
			len = 3, cp = p[i] & 0x0f;
		else if ((p[i] & 0xf8) == 0xf0)
			len = 4, cp = p[i] & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
v_login(const char *s, size_t n)
{
	size_t	 i;

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int
v_password(const char *s, size_t n)
{
	return n >= 1 && n <= AUTH_PASSWORD_MAX && valid_utf8(s, n);
}

static int
v_csrf(const char *s, size_t n)
{
	return n <= AUTH_MASKED_LEN && auth_csrf_valid(s);
}

static int
v_next(const char *s, size_t n)
{
	return n < 512 && valid_utf8(s, n) && http_local_path(s);
}

static int
v_uint(const char *s, size_t n)
{
	size_t	 i;

	if (n < 1 || n > 9)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
v_text(const char *s, size_t n)
{
	return valid_utf8(s, n);
}

/* One of a fixed set of words, given as "|a|b|c|". */
static int
v_word(const char *s, size_t n, const char *set)
{
	const char	*p;

	if (n == 0 || memchr(s, '|', n) != NULL)
		return 0;
	for (p = strstr(set, s); p != NULL; p = strstr(p + 1, s))
		if (p[-1] == '|' && p[n] == '|')
			return 1;
	return 0;
}

static int
v_date(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 1;	/* an empty optional date */
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int
v_bool(const char *s, size_t n)
{
	return n == 1 && (s[0] == '0' || s[0] == '1');
}

static int
v_id(const char *s, size_t n)
{
	return n == 0 || v_uint(s, n);
}

static int
v_sex(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|M|F|O|");
}

static int
v_exam_type(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|CT|DR|");
}

static int
v_urgency(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|routine|urgent|emergency|");
}

static int
v_mode(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|self|superior|");
}

static int
v_window(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|lung|mediastinum|bone|auto|");
}

static int
v_plane(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|axial|coronal|sagittal|");
}

static int
v_render(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|bone|lung|mip|");
}

static int
v_fmt(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|jpg|png|");
}

/* A decimal number: an optional minus, digits, optionally a point and
 * more digits (no exponent, no blanks). */
static int
v_num(const char *s, size_t n)
{
	size_t	 i = 0, digits = 0;

	if (n > 0 && s[0] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	return n > 0 && digits > 0 && i == n && n <= 12;
}

static int
v_time(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|all|today|2days|week|custom|");
}

static int
v_tail(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] >= '0' && s[0] <= '9');
}

static int
v_status(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|pending|reporting|in_review|reported|"
	    "reviewed|cancelled|returned|");
}

static int
v_sort(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|time|-time|name|-name|diag|-diag|");
}

static int
v_reader(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|ct_lung_nodule|ct_pneumonia|"
	    "ct_rib_fracture|dr_tuberculosis|dr_limb_fracture|ct_bone_density|"
	    "ct_coronary_calcium|");
}

static int
v_picture(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|bodycomp|sagittal|");
}

static int
v_grain(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|day|week|month|");
}

/* An AI result's revision: microseconds since the epoch. */
static int
v_stamp(const char *s, size_t n)
{
	size_t	 i;

	if (n < 1 || n > 20)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
v_match(const char *s, size_t n)
{
	return n == 0 || v_word(s, n, "|exact|fuzzy|");
}

/* The table: name, validator, and the most characters (bytes for
 * non-text) a value may have. */
static const struct {
	const char	*name;
	validator	 valid;
	size_t		 max;
} fields[FIELD__MAX] = {
	{ "login",		v_login,	64 },	/* FIELD_LOGIN */
	{ "password",		v_password,	AUTH_PASSWORD_MAX },	/* FIELD_PASSWORD */
	{ "csrf",		v_csrf,		AUTH_MASKED_LEN },	/* FIELD_CSRF */
	{ "next",		v_next,		511 },	/* FIELD_NEXT */
	{ "page",		v_uint,		9 },	/* FIELD_PAGE */
	{ "q",			v_text,		64 },	/* FIELD_KEYWORD */
	{ "id",			v_id,		18 },	/* FIELD_ID */
	{ "patient_name",	v_text,		64 },	/* FIELD_PATIENT_NAME */
	{ "patient_sex",	v_sex,		1 },	/* FIELD_PATIENT_SEX */
	{ "patient_age",	v_text,		16 },	/* FIELD_PATIENT_AGE */
	{ "patient_birth",	v_date,		10 },	/* FIELD_PATIENT_BIRTH */
	{ "patient_no",		v_text,		64 },	/* FIELD_PATIENT_NO */
	{ "patient_phone",	v_text,		32 },	/* FIELD_PATIENT_PHONE */
	{ "chief_complaint",	v_text,		2000 },	/* FIELD_CHIEF_COMPLAINT */
	{ "present_illness",	v_text,		4000 },	/* FIELD_PRESENT_ILLNESS */
	{ "history",		v_text,		4000 },	/* FIELD_HISTORY */
	{ "clinical_diagnosis",	v_text,		500 },	/* FIELD_CLINICAL_DIAGNOSIS */
	{ "exam_type",		v_exam_type,	2 },	/* FIELD_EXAM_TYPE */
	{ "body_part",		v_text,		64 },	/* FIELD_BODY_PART */
	{ "urgency",		v_urgency,	9 },	/* FIELD_URGENCY */
	{ "accession",		v_text,		64 },	/* FIELD_ACCESSION */
	{ "exam_date",		v_date,		10 },	/* FIELD_EXAM_DATE */
	{ "mode",		v_mode,		8 },	/* FIELD_MODE */
	{ "alliance",		v_id,		18 },	/* FIELD_ALLIANCE */
	{ "target",		v_id,		18 },	/* FIELD_TARGET */
	{ "reason",		v_text,		500 },	/* FIELD_REASON */
	{ "comment",		v_text,		2000 },	/* FIELD_COMMENT */
	{ "findings",		v_text,		20000 },	/* FIELD_FINDINGS */
	{ "conclusion",		v_text,		5000 },	/* FIELD_CONCLUSION */
	{ "version",		v_uint,		9 },	/* FIELD_VERSION */
	{ "ai_used",		v_bool,		1 },	/* FIELD_AI_USED */
	{ "final",		v_bool,		1 },	/* FIELD_FINAL */
	{ "approve",		v_bool,		1 },	/* FIELD_APPROVE */
	{ "study",		v_id,		18 },	/* FIELD_STUDY */
	{ "series",		v_id,		18 },	/* FIELD_SERIES */
	{ "window",		v_window,	11 },	/* FIELD_WINDOW */
	{ "slice",		v_uint,		9 },	/* FIELD_SLICE */
	{ "time",		v_time,		6 },	/* FIELD_TIME */
	{ "from",		v_date,		10 },	/* FIELD_FROM */
	{ "to",			v_date,		10 },	/* FIELD_TO */
	{ "tail",		v_tail,		1 },	/* FIELD_TAIL */
	{ "hospital",		v_id,		18 },	/* FIELD_HOSPITAL */
	{ "status",		v_status,	9 },	/* FIELD_STATUS */
	{ "filter_name",	v_text,		32 },	/* FIELD_FILTER_NAME */
	{ "filter",		v_id,		18 },	/* FIELD_FILTER */
	{ "sort",		v_sort,		5 },	/* FIELD_SORT */
	{ "match",		v_match,	5 },	/* FIELD_MATCH */
	{ "attachment",		v_id,		18 },	/* FIELD_ATTACHMENT */
	{ "reader",		v_reader,	19 },	/* FIELD_READER */
	{ "grain",		v_grain,	5 },	/* FIELD_GRAIN */
	{ "job",		v_id,		18 },	/* FIELD_JOB */
	{ "z",			v_uint,		9 },	/* FIELD_Z */
	{ "lesion",		v_uint,		9 },	/* FIELD_LESION */
	{ "stamp",		v_stamp,	20 },	/* FIELD_STAMP */
	{ "key",		v_id,		18 },	/* FIELD_KEY */
	{ "plane",		v_plane,	8 },	/* FIELD_PLANE */
	{ "wc",			v_num,		12 },	/* FIELD_WC */
	{ "ww",			v_num,		12 },	/* FIELD_WW */
	{ "px",			v_num,		12 },	/* FIELD_PX */
	{ "py",			v_num,		12 },	/* FIELD_PY */
	{ "rmm",		v_num,		12 },	/* FIELD_RMM */
	{ "invert",		v_bool,		1 },	/* FIELD_INVERT */
	{ "fmt",		v_fmt,		3 },	/* FIELD_FMT */
	{ "picture",		v_picture,	8 },	/* FIELD_PICTURE */
	{ "render",		v_render,	4 },	/* FIELD_RENDER */
	{ "az",			v_num,		12 },	/* FIELD_AZ */
	{ "el",			v_num,		12 },	/* FIELD_EL */
	{ "zoom",		v_num,		12 },	/* FIELD_ZOOM */
	{ "size",		v_uint,		4 },	/* FIELD_SIZE */
	{ "voi",		v_bool,		1 },	/* FIELD_VOI */
	{ "masks",		v_id,		18 },	/* FIELD_MASKS */
};

/* Characters of a UTF-8 string (valid input assumed). */
static size_t
u8chars(const char *s, size_t n)
{
	size_t	 i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

void
http_qs_add(struct buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return;
	if (b->len > 0)
		(void)buf_appends(b, "&");
	(void)buf_appends(b, key);
	(void)buf_appends(b, "=");
	(void)tmpl_esc_url(tmpl_write_buf, b, val, strlen(val));
}

int
http_local_path(const char *s)
{
	const unsigned char	*p;

	/* Browsers drop tabs and newlines from a URL and read '\\' as
	 * '/', so "/\t/host" and "/\\host" name another host: a target is
	 * one '/' then no control character and no backslash at all. */
	if (s[0] != '/' || s[1] == '/')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

const char *
http_csrf(const struct req *r)
{
	const char	*t;

	if ((t = http_field(r, FIELD_CSRF)) != NULL)
		return t;
	/* An upload streams its body: the page's script sends the token
	 * in a header, where no log records it. */
	t = FCGX_GetParam("HTTP_X_CSRF_TOKEN", r->fcgi->envp);
	return t != NULL && auth_csrf_valid(t) ? t : NULL;
}

const char *
http_field(const struct req *r, enum field f)
{
	return r->field_bad[f] ? NULL : r->fields[f];
}

const char *
http_cookie_name(struct req *r, const char *base)
{
	/* The __Host- prefix binds the cookie to this host and requires
	 * Secure, so it is only possible over TLS. */
	if (r->https)
		return arena_printf(r->a, "__Host-%s", base);
	return base;
}

void
http_cookie_set(struct req *r, const char *base, const char *value,
    int max_age)
{
	char	 age[48] = "";

	if (r->nhdrs >= HTTP_MAXHDRS)
		return;
	if (max_age >= 0)
		(void)snprintf(age, sizeof(age), "; Max-Age=%d", max_age);
	r->hdrs[r->nhdrs++] = arena_printf(r->a,
	    "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax%s%s\r\n",
	    http_cookie_name(r, base), value, r->https ? "; Secure" : "", age);
}

int
http_open(struct req *r, int status, const char *ctype)
{
	size_t		 i;
	const char	*text;

	if (r->opened)
		return -1;
	r->opened = 1;
	text = status > 0 && (size_t)status <
	    sizeof(status_text) / sizeof(status_text[0]) &&
	    status_text[status] != NULL ? status_text[status] : "Unknown";
	(void)FCGX_FPrintF(r->fcgi->out, "Status: %d %s\r\n", status, text);
	if (ctype != NULL)
		(void)FCGX_FPrintF(r->fcgi->out, "Content-Type: %s\r\n", ctype);
	(void)FCGX_PutS(security_headers, r->fcgi->out);
	if (r->https)
		(void)FCGX_PutS("Strict-Transport-Security: max-age=31536000;"
		    " includeSubDomains\r\n", r->fcgi->out);
	for (i = 0; i < r->nhdrs; i++)
		(void)FCGX_PutS(r->hdrs[i], r->fcgi->out);
	return FCGX_PutS("\r\n", r->fcgi->out) < 0 ? -1 : 0;
}

int
http_write(struct req *r, const char *p, size_t n)
{
	if (r->method == METHOD_HEAD || n == 0)
		return 0;
	return FCGX_PutStr(p, (int)n, r->fcgi->out) == (int)n ? 0 : -1;
}

int
http_puts(struct req *r, const char *s)
{
	return http_write(r, s, strlen(s));
}

int
http_tmpl_write(void *arg, const char *p, size_t n)
{
	return http_write(arg, p, n);
}

void
http_redirect(struct req *r, const char *location)
{
	if (!http_local_path(location))
		location = "/";
	if (r->nhdrs < HTTP_MAXHDRS)
		r->hdrs[r->nhdrs++] = arena_printf(r->a, "Location: %s\r\n",
		    location);
	(void)http_open(r, 303, "text/plain; charset=utf-8");
}

/*
 * Read the request body into memory, up to max bytes.  nginx spools large
 * bodies to a file and may pass its name instead of the bytes.
 */
static char *
body_read(struct req *r, size_t max, size_t *len, int *status)
{
	const char	*cl, *file;
	char		*buf, *end;
	long		 n;
	size_t		 got = 0;
	ssize_t		 k;
	int		 fd, m;

	*status = 0;
	cl = FCGX_GetParam("CONTENT_LENGTH", r->fcgi->envp);
	n = cl != NULL && *cl != '\0' ? strtol(cl, &end, 10) : 0;
	if (cl != NULL && *cl != '\0' && (*end != '\0' || n < 0)) {
		*status = 400;
		return NULL;
	}
	if ((size_t)n > max) {
		*status = 413;
		return NULL;
	}
	if ((buf = arena_alloc(r->a, (size_t)n + 1)) == NULL) {
		*status = 500;
		return NULL;
	}
	file = FCGX_GetParam("ZY_BODY_FILE", r->fcgi->envp);
	if (file != NULL && *file != '\0') {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			log_error("%s: %s: %s", __func__, file, strerror(errno));
			*status = 500;
			return NULL;
		}
		while (got < (size_t)n &&
		    (k = read(fd, buf + got, (size_t)n - got)) > 0)
			got += (size_t)k;
		(void)close(fd);
	} else {
		while (got < (size_t)n) {
			m = FCGX_GetStr(buf + got, (int)((size_t)n - got),
			    r->fcgi->in);
			if (m <= 0)
				break;
			got += (size_t)m;
		}
	}
	if (got != (size_t)n) {
		*status = 400;
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

static void
fields_validate(struct req *r, const struct kvlist *src)
{
	const struct kv	*kv;
	int		 f;

	for (f = 0; f < FIELD__MAX; f++) {
		if ((kv = kv_find(src, fields[f].name)) == NULL)
			continue;
		r->fields[f] = kv->val;
		r->field_bad[f] = strlen(kv->val) != kv->vallen ||
		    !fields[f].valid(kv->val, kv->vallen) ||
		    u8chars(kv->val, kv->vallen) > fields[f].max;
	}
}

int
http_parse(struct req *r)
{
	const char	*m, *qs, *ck, *ct, *https, *errstr = NULL;
	char		*body;
	size_t		 len = 0;
	int		 status;

	kvlist_init(&r->query);
	kvlist_init(&r->form);
	kvlist_init(&r->cookies);
	m = FCGX_GetParam("REQUEST_METHOD", r->fcgi->envp);
	if (m != NULL && strcmp(m, "GET") == 0)
		r->method = METHOD_GET;
	else if (m != NULL && strcmp(m, "HEAD") == 0)
		r->method = METHOD_HEAD;
	else if (m != NULL && strcmp(m, "POST") == 0)
		r->method = METHOD_POST;
	else
		return 405;
	r->path = FCGX_GetParam("DOCUMENT_URI", r->fcgi->envp);
	if (r->path == NULL)
		r->path = FCGX_GetParam("SCRIPT_NAME", r->fcgi->envp);
	if (r->path == NULL || *r->path != '/')
		return 400;
	r->ip = FCGX_GetParam("REMOTE_ADDR", r->fcgi->envp);
	r->ua = FCGX_GetParam("HTTP_USER_AGENT", r->fcgi->envp);
	https = FCGX_GetParam("HTTPS", r->fcgi->envp);
	r->https = https != NULL && *https != '\0' &&
	    strcasecmp(https, "off") != 0;

	qs = FCGX_GetParam("QUERY_STRING", r->fcgi->envp);
	if (qs != NULL && *qs != '\0') {
		if (strlen(qs) > QUERY_MAX)
			return 400;
		if (parse_urlencoded(r->a, qs, strlen(qs), &r->query,
		    FORM_MAXFIELDS, &errstr) == -1) {
			log_info("%s: bad query string: %s", __func__, errstr);
			return 400;
		}
	}
	ck = FCGX_GetParam("HTTP_COOKIE", r->fcgi->envp);
	if (ck != NULL && parse_cookies(r->a, ck, &r->cookies, 64) == -1)
		return 400;

	if (r->method == METHOD_POST && strncmp(r->path, "/upload/", 8) == 0) {
		/* Uploads stream their body in the handler; their fields
		 * (the CSRF token among them) come in the query string. */
		const char	*cl, *bf;
		char		*end;

		r->upload = 1;
		r->content_type = FCGX_GetParam("CONTENT_TYPE", r->fcgi->envp);
		cl = FCGX_GetParam("CONTENT_LENGTH", r->fcgi->envp);
		r->content_length = cl != NULL ? strtoll(cl, &end, 10) : -1;
		if (cl != NULL && (*end != '\0' || r->content_length < 0))
			return 400;
		if (r->content_length > r->conf->upload_max)
			return 413;
		bf = FCGX_GetParam("ZY_BODY_FILE", r->fcgi->envp);
		r->body_file = bf != NULL && *bf != '\0' ? bf : NULL;
		fields_validate(r, &r->query);
		return 0;
	}
	if (r->method == METHOD_POST) {
		ct = FCGX_GetParam("CONTENT_TYPE", r->fcgi->envp);
		if (ct == NULL)
			ct = "";
		if ((body = body_read(r, FORM_MAX, &len, &status)) == NULL)
			return status;
		if (strncasecmp(ct, "application/x-www-form-urlencoded",
		    33) == 0) {
			if (parse_urlencoded(r->a, body, len, &r->form,
			    FORM_MAXFIELDS, &errstr) == -1) {
				log_info("%s: bad form: %s", __func__, errstr);
				return 400;
			}
		} else if (strncasecmp(ct, "multipart/form-data", 19) == 0) {
			/* No page of this release takes files on this path;
			 * uploads have their own streaming route. */
			if (mp_parse_buffer(r->a, ct, body, len, &r->form,
			    64 * 1024, NULL, NULL, &errstr) == -1) {
				log_info("%s: bad multipart form: %s",
				    __func__, errstr);
				return 400;
			}
		} else if (len > 0)
			return 415;
		fields_validate(r, &r->form);
	} else
		fields_validate(r, &r->query);
	return 0;
}
