/*
 * arena.h - per-request memory arena.
 *
 * Every allocation made while serving one request comes from one arena and
 * is released in one call when the request ends (arena_reset()).  Nothing
 * allocated from an arena may be freed on its own.  Allocations are aligned
 * for any object type.
 */
#ifndef ZY_ARENA_H
#define ZY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* Create an arena whose chunks are at least chunk bytes (0: default).
 * Returns NULL when out of memory.  Free with arena_free(). */
struct arena	*arena_new(size_t chunk);

/* Release every allocation but keep the first chunk for reuse. */
void		 arena_reset(struct arena *);

/* Release the arena and everything allocated from it.  NULL is allowed. */
void		 arena_free(struct arena *);

/* Allocate n bytes (n may be 0).  Returns NULL when out of memory or when
 * the arena's cap (arena_set_cap) would be exceeded. */
void		*arena_alloc(struct arena *, size_t n);

/* As arena_alloc() for nmemb * size zeroed bytes, overflow-checked. */
void		*arena_calloc(struct arena *, size_t nmemb, size_t size);

/* Copies of strings, always NUL-terminated; NULL on failure. */
char		*arena_strdup(struct arena *, const char *);
char		*arena_strndup(struct arena *, const char *, size_t);

/* Formatted string in the arena; NULL on failure. */
char		*arena_printf(struct arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
char		*arena_vprintf(struct arena *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

/* Refuse allocations beyond max bytes in total (0: no cap). */
void		 arena_set_cap(struct arena *, size_t max);

/* Bytes currently handed out (for tests and statistics). */
size_t		 arena_used(const struct arena *);

#endif /* ZY_ARENA_H */
