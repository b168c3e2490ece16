/*
 * fuzz_cookie.c - libFuzzer driver: the input is a Cookie header.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	*a;
	struct kvlist	 l;
	char		*h;
	size_t		 i;
	int		 rc;

	if ((h = malloc(size + 1)) == NULL)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	if ((a = arena_new(0)) == NULL) {
		free(h);
		return 0;
	}
	kvlist_init(&l);
	rc = parse_cookies(a, h, &l, 50);
	if (rc == 0 && strlen(h) > 8192)
		abort();
	if (l.n > 50)
		abort();
	for (i = 0; i < l.n; i++) {
		if (l.v[i].key[0] == '\0' ||
		    strlen(l.v[i].val) != l.v[i].vallen ||
		    strchr(l.v[i].val, '"') != NULL ||
		    strchr(l.v[i].val, ';') != NULL)
			abort();
	}
	arena_free(a);
	free(h);
	return 0;
}
