/*
 * fuzz_urlencoded.c - libFuzzer driver: the input is a query string or an
 * application/x-www-form-urlencoded body.
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
	const char	*err;
	size_t		 i;
	int		 rc;

	if ((a = arena_new(0)) == NULL)
		return 0;
	kvlist_init(&l);
	rc = parse_urlencoded(a, (const char *)data, size, &l, 1000, &err);
	if ((rc == -1) != (err != NULL))
		abort();
	if (l.n > 1000)
		abort();
	for (i = 0; i < l.n; i++) {
		if (strlen(l.v[i].key) > 256 ||
		    l.v[i].val[l.v[i].vallen] != '\0')
			abort();
		if (kv_get(&l, l.v[i].key) == NULL)
			abort();
	}
	arena_free(a);
	return 0;
}
