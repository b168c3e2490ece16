/*
 * buf.h - a capped dynamic byte buffer.
 *
 * buf_init() sets the most the buffer may ever hold; appends past it fail
 * instead of growing without bound, so input from the network can be
 * collected safely.  The data is always NUL-terminated.  buf_take() hands
 * the bytes to the caller, who frees them with free().
 */
#ifndef ZY_BUF_H
#define ZY_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: no cap */
};

/* Start an empty buffer that may hold at most max bytes (0: no cap). */
void	 buf_init(struct buf *, size_t max);

/* Append bytes.  Returns 0, or -1 when the cap would be passed or memory
 * is short; the buffer is unchanged then. */
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_appends(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Hand the contents to the caller (free() them) and reset the buffer.
 * Returns an empty string, not NULL, for an empty buffer; NULL on OOM. */
char	*buf_take(struct buf *);

/* Forget the contents but keep the memory. */
void	 buf_clear(struct buf *);

/* Free the contents. */
void	 buf_free(struct buf *);

/* The characters (UTF-8 code points, not bytes) of a string: continuation
 * bytes are not counted; the string is not validated. */
size_t	 u8_chars(const char *);

#endif /* ZY_BUF_H */
