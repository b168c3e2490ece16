/*
 * text.c - bounded copies and the editing of UTF-8 text fields.
 */
#include "config.h"

#include <string.h>

#include "console.h"

/*
 * Copy src into dst of size bytes; a copy that does not fit is cut at a
 * character boundary, never inside a UTF-8 sequence.
 */
void
str_copy(char *dst, size_t size, const char *src)
{
	size_t	 n;

	if (size == 0)
		return;
	n = strlen(src);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Escape the LIKE wildcards of src (%, _ and the escape \) so that it
 * matches as a literal prefix.
 */
void
str_like_prefix(char *dst, size_t size, const char *src)
{
	size_t	 o = 0;

	for (; *src != '\0' && o + 3 < size; src++) {
		if (*src == '%' || *src == '_' || *src == '\\')
			dst[o++] = '\\';
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

/*
 * Append the character of a key to a UTF-8 buffer.  Returns 1 when the
 * key was a printable character that fitted, 0 otherwise.
 */
int
str_append_key(char *buf, size_t size, int key)
{
	char	 mb[8];
	size_t	 len, n;
	unsigned int c = (unsigned int)key;

	if ((key & K_FN) || key < 32 || key == 127 || c > 0x10ffff)
		return 0;
	if (c < 0x80) {
		mb[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		mb[0] = (char)(0xc0 | (c >> 6));
		mb[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		mb[0] = (char)(0xe0 | (c >> 12));
		mb[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		mb[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		mb[0] = (char)(0xf0 | (c >> 18));
		mb[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		mb[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		mb[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	len = strlen(buf);
	if (len + n >= size)
		return 0;
	memcpy(buf + len, mb, n);
	buf[len + n] = '\0';
	return 1;
}

/* Remove the last UTF-8 character of buf. */
void
str_backspace(char *buf)
{
	size_t	 n = strlen(buf);

	while (n > 0) {
		n--;
		if (((unsigned char)buf[n] & 0xc0) != 0x80)
			break;
	}
	buf[n] = '\0';
}
