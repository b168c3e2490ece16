/*
 * parse.h - parsers for request input that comes from the network:
 * query strings and urlencoded bodies, the Cookie header, and
 * multipart/form-data bodies (a streaming, push-style parser).
 *
 * Everything these functions return is allocated from the request's
 * arena and lives until the arena is reset or freed; nothing needs to be
 * freed on its own, except where a comment says otherwise (the value
 * buffer of struct mp_collect).  Error strings are static English text.
 * Every input, however malformed, is handled in bounded memory.
 */
#ifndef ZY_PARSE_H
#define ZY_PARSE_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"

/*
 * Key/value lists.
 */

struct kv {
	const char	*key;	/* NUL-terminated, holds no NUL byte */
	const char	*val;	/* NUL-terminated, but may hold NUL bytes */
	size_t		 vallen;	/* true length of val */
};

struct kvlist {
	struct kv	*v;
	size_t		 n;
	size_t		 cap;
};

/* Make the list empty.  The list owns no memory of its own: its array
 * lives in the arena it is filled from, so there is nothing to free. */
void		 kvlist_init(struct kvlist *);

/* Append a copy of key (keylen bytes) and val (vallen bytes, may hold NUL
 * bytes) to the list; both copies are NUL-terminated and live in the
 * arena.  Returns 0, or -1 when out of memory (the list is unchanged). */
int		 kvlist_add(struct arena *, struct kvlist *, const char *key,
		    size_t keylen, const char *val, size_t vallen);

/* Returns the first entry whose key equals key, or NULL.  Use this when
 * the value may hold NUL bytes and its length matters. */
const struct kv	*kv_find(const struct kvlist *, const char *key);

/* Returns the value of the first entry whose key equals key, or NULL.
 * The string belongs to the list's arena. */
const char	*kv_get(const struct kvlist *, const char *key);

/* Returns how many entries have key key. */
size_t		 kv_count(const struct kvlist *, const char *key);

/*
 * Parse a query string or an application/x-www-form-urlencoded body of
 * len bytes ("a=1&b=%E4%B8%AD&c") and append its fields, in order, to out.
 * '+' decodes to a space and %XX to the byte XX; a pair without '='
 * gets an empty value; empty pairs ("&&") are skipped; an empty key
 * ("=v") is kept.  Values may decode to any bytes (see struct kv).
 * Returns 0, or -1 with *errstr set to a static English reason on a
 * malformed %-escape, more than maxfields fields (0 allows none), a key
 * longer than 256 bytes after decoding, a key that holds a NUL byte or
 * is not valid UTF-8, or when out of memory.  On -1, out may hold the
 * fields parsed before the error.  s may be NULL when len is 0.
 */
int		 parse_urlencoded(struct arena *, const char *s, size_t len,
		    struct kvlist *out, size_t maxfields, const char **errstr);

/*
 * Parse a Cookie request header ("a=1; b=2", RFC 6265) and append the
 * cookies, in order, to out.  Spaces around names, values and ';' are
 * ignored and a value in double quotes is unquoted; values are not
 * %-decoded.  Malformed pairs (no '=', a name that is not an RFC 7230
 * token, a value holding control characters or a stray '"') are skipped.
 * header may be NULL (no cookies).  Returns 0, or -1 when the header is
 * longer than 8192 bytes, holds more than maxcookies well-formed cookies,
 * or memory is short; out may then hold some cookies.
 */
int		 parse_cookies(struct arena *, const char *header,
		    struct kvlist *out, size_t maxcookies);

/*
 * Streaming multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * The caller pushes the body in chunks of any size with mp_feed() and the
 * parser calls back for each part: part_begin once its header block is
 * read, part_data zero or more times with the part's bytes in order
 * (never with n == 0; the split of the bytes between calls depends on
 * the chunks fed), part_end when the delimiter after it is seen.  A part's
 * data is never buffered: at most the length of a delimiter
 * ("\r\n--" boundary, boundary length + 4 bytes) is held back while it
 * may be the start of one.  A callback returns 0, or -1 to abort the
 * parse.  part_end is not called for a part cut short by an error or a
 * truncated body.  A delimiter followed by anything but "--", transport
 * padding or CRLF is an error, not data: RFC 2046 forbids the delimiter
 * inside a part, and this keeps the bytes held back to one delimiter.
 *
 * Part headers: Content-Disposition must be form-data with a name
 * parameter; filename and filename* (RFC 5987, UTF-8 or ISO-8859-1,
 * converted to UTF-8, taking precedence over filename) are read, and the
 * directory part of the file name is removed (up to the last '/' or '\').
 * In a quoted parameter a backslash escapes only '"' and '\'; before any
 * other byte it is kept, as browsers send Windows paths unescaped.
 * Obsolete header folding, bare CR or LF and NUL bytes are refused.
 * Other header fields are ignored.
 */

struct mp_part {
	const char	*name;		/* UTF-8, never NULL */
	const char	*filename;	/* UTF-8 base name; NULL if not a file,
					 * "" if the browser sent filename="" */
	const char	*content_type;	/* NULL if absent */
};

struct mp_callbacks {
	int	(*part_begin)(void *arg, const struct mp_part *);
	int	(*part_data)(void *arg, const char *p, size_t n);
	int	(*part_end)(void *arg);
};

struct mp_limits {
	size_t	 max_parts;	/* 0: 1000 */
	size_t	 max_header;	/* bytes of one part's header block,
				 * blank line included; 0: 16 KiB */
};

struct mp_parser;

/*
 * Create a parser for a body of Content-Type content_type, which must be
 * multipart/form-data with a boundary parameter (quoted or not; 1 to 70
 * characters of RFC 2046 bchars, not ending in a space).  cb may be NULL
 * and any of its members may be NULL (that event is then ignored); the
 * struct is copied.  arg is passed to every callback.  limits may be NULL
 * for the defaults.  The parser and every string it hands to callbacks
 * (struct mp_part's members) live in the arena.  Returns the parser, or
 * NULL with *errstr set to a static English reason.
 */
struct mp_parser *mp_new(struct arena *, const char *content_type,
		    const struct mp_callbacks *cb, void *arg,
		    const struct mp_limits *limits, const char **errstr);

/* Push n bytes of the body.  The preamble before the first boundary and
 * the epilogue after the closing one are ignored.  Returns 0, or -1 when
 * the body is malformed, a limit is passed or a callback aborted; the
 * error is sticky (every later call fails) and mp_error() tells why. */
int		 mp_feed(struct mp_parser *, const char *p, size_t n);

/* Tell the parser the body has ended.  Returns 0 if the closing boundary
 * was seen and no error happened, else -1 (a truncated body is an error). */
int		 mp_finish(struct mp_parser *);

/* Returns a static English reason for the last error, or NULL if none. */
const char	*mp_error(const struct mp_parser *);

/*
 * Collector: callbacks that gather the non-file parts (fields) into a
 * kvlist, key = part name, and forward file parts (parts with a filename,
 * even "") to the caller's callbacks.  Typical use while reading the
 * request body in chunks:
 *
 *	struct mp_collect	 col;
 *
 *	mp_collect_init(&col, arena, &fields, 64 * 1024, 1024 * 1024,
 *	    &upload_cb, upload);
 *	if ((mp = mp_collect_new(&col, content_type, NULL, &err)) == NULL)
 *		goto fail;
 *	while ((n = read_body(...)) > 0)
 *		if (mp_feed(mp, chunk, n) == -1)
 *			break;
 *	rc = n == 0 ? mp_finish(mp) : -1;
 *	err = mp_collect_error(&col, mp);
 *	mp_collect_free(&col);
 *
 * The members are private; set them with mp_collect_init().
 */
struct mp_collect {
	struct arena			*arena;
	struct kvlist			*fields;
	size_t				 maxval;
	size_t				 maxtotal;
	size_t				 total;
	const struct mp_callbacks	*file_cb;
	void				*file_arg;
	const char			*name;	/* field being collected */
	int				 infile;
	struct buf			 val;
	const char			*err;
};

/* Prepare col.  Field values are capped at maxval bytes each (0 allows
 * only empty values) and, if maxtotal is not 0, at maxtotal bytes all
 * together; passing a cap is an error.  file_cb receives the file parts
 * with file_arg; if it is NULL, a file part is an error.  fields is not
 * cleared. */
void		 mp_collect_init(struct mp_collect *, struct arena *,
		    struct kvlist *fields, size_t maxval, size_t maxtotal,
		    const struct mp_callbacks *file_cb, void *file_arg);

/* As mp_new(), with the collector's callbacks and the collector's arena.
 * Returns the parser, or NULL with *errstr set. */
struct mp_parser *mp_collect_new(struct mp_collect *, const char *content_type,
		    const struct mp_limits *limits, const char **errstr);

/* Returns the reason the parse failed: the collector's own (a value too
 * long, files refused) if it has one, else mp_error(mp); NULL if none.
 * mp may be NULL. */
const char	*mp_collect_error(const struct mp_collect *,
		    const struct mp_parser *mp);

/* Free the collector's value buffer (malloc'ed, see buf.h).  Call it once
 * the parse is over, whatever its outcome; calling it twice is harmless. */
void		 mp_collect_free(struct mp_collect *);

/*
 * Parse a complete multipart/form-data body held in memory (len bytes):
 * non-file parts go into fields as with struct mp_collect (values capped
 * at maxval bytes each), file parts go to file_cb with file_arg (NULL
 * refuses files).  Uses the default mp_limits.  Returns 0, or -1 with
 * *errstr set to a static English reason; fields may then hold some
 * entries.
 */
int		 mp_parse_buffer(struct arena *, const char *content_type,
		    const char *body, size_t len, struct kvlist *fields,
		    size_t maxval, const struct mp_callbacks *file_cb,
		    void *file_arg, const char **errstr);

#endif /* ZY_PARSE_H */
