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

/* Encode a key's character as UTF-8 into mb; returns its length, or 0
 * when the key is not a printable character. */
static size_t
key_utf8(int key, char *mb)
{
	unsigned int	 c = (unsigned int)key;

	if ((key & K_FN) || key < 32 || key == 127 || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (c < 0x80) {
		mb[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		mb[0] = (char)(0xc0 | (c >> 6));
		mb[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		mb[0] = (char)(0xe0 | (c >> 12));
		mb[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		mb[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	mb[0] = (char)(0xf0 | (c >> 18));
	mb[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	mb[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	mb[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Insert the character of a key into a UTF-8 buffer at byte offset off
 * (a character boundary).  Returns 1 when the key was a printable
 * character that fitted, 0 otherwise.
 */
int
str_insert_key(char *buf, size_t size, size_t off, int key)
{
	char	 mb[8];
	size_t	 len, n;

	if ((n = key_utf8(key, mb)) == 0)
		return 0;
	len = strlen(buf);
	if (off > len || len + n >= size)
		return 0;
	memmove(buf + off + n, buf + off, len - off + 1);
	memcpy(buf + off, mb, n);
	return 1;
}

/* Append the character of a key (see str_insert_key). */
int
str_append_key(char *buf, size_t size, int key)
{
	return str_insert_key(buf, size, strlen(buf), key);
}

/* Byte offset of the point back characters before the end of buf. */
size_t
str_offset_back(const char *buf, size_t back)
{
	size_t	 off = strlen(buf);

	while (back > 0 && off > 0) {
		off--;
		if (((unsigned char)buf[off] & 0xc0) != 0x80)
			back--;
	}
	return off;
}

/* Remove the character that ends at byte offset off (the one before the
 * cursor).  Returns 1 if there was one. */
int
str_delete_before(char *buf, size_t off)
{
	size_t	 start = off;

	if (off == 0)
		return 0;
	do
		start--;
	while (start > 0 && ((unsigned char)buf[start] & 0xc0) == 0x80);
	memmove(buf + start, buf + off, strlen(buf + off) + 1);
	return 1;
}

/* Remove the character that starts at byte offset off (the one under the
 * cursor).  Returns 1 if there was one. */
int
str_delete_at(char *buf, size_t off)
{
	size_t	 end = off;

	if (buf[off] == '\0')
		return 0;
	do
		end++;
	while (((unsigned char)buf[end] & 0xc0) == 0x80);
	memmove(buf + off, buf + end, strlen(buf + end) + 1);
	return 1;
}

/* Remove the last UTF-8 character of buf. */
void
str_backspace(char *buf)
{
	(void)str_delete_before(buf, strlen(buf));
}
