/*
 * fuzz_tmpl.c - libFuzzer driver for the template engine.
 *
 * The input is parsed as a template next to a fixed partial; when it parses
 * and links, it is rendered with a dict holding keys (some hostile), lists,
 * nested lists and booleans, to a writer that checks and discards.  The
 * input is also fed to the three escapers as a value.
 *
 * Loops nested n deep cost 3^n body renders (rows has three children), so
 * inputs with more than MAX_LOOPS '#' bytes are parsed but not rendered:
 * trusted templates do not do that, and the fuzzer should not hang on it.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "tmpl.h"

#define MAX_LOOPS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	 partial[] =
    "<p>{{#rows}}{{name|attr}}{{^sel}}-{{/sel}}{{/rows}}</p>";

/* Discard output, but touch every byte so the sanitizers check it. */
static int
sink(void *arg, const char *p, size_t n)
{
	size_t	*sum = arg;
	size_t	 i;

	for (i = 0; i < n; i++)
		*sum += (unsigned char)p[i];
	return 0;
}

static struct tdict *
build_dict(struct arena *a)
{
	struct tdict	*d, *row, *sub;
	int		 i, j;

	if ((d = tdict_new(a, NULL)) == NULL)
		return NULL;
	if (tdict_set(d, "name", "<script>\"x\"&'y'</script>") == -1 ||
	    tdict_set(d, "title", "病人 \xff\xe4\xb8 \xed\xa0\x80 ok") == -1 ||
	    tdict_set(d, "url", "a b/c?d=e&f=中") == -1 ||
	    tdict_set(d, "empty", "") == -1 ||
	    tdict_bool(d, "on", 1) == -1 ||
	    tdict_bool(d, "off", 0) == -1)
		return NULL;
	for (i = 0; i < 3; i++) {
		if ((row = tdict_add(d, "rows")) == NULL ||
		    tdict_setf(row, "name", "row%d\"<", i) == -1 ||
		    tdict_setf(row, "n", "%d", i) == -1 ||
		    tdict_bool(row, "sel", i == 1) == -1)
			return NULL;
		for (j = 0; j < i; j++)
			if ((sub = tdict_add(row, "cells")) == NULL ||
			    tdict_setf(sub, "v", "%d.%d", i, j) == -1)
				return NULL;
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_set	*set;
	struct arena	*a;
	struct tdict	*d;
	char		 err[256];
	size_t		 sum = 0, i, loops = 0;

	(void)tmpl_esc_html(sink, &sum, (const char *)data, size);
	(void)tmpl_esc_attr(sink, &sum, (const char *)data, size);
	(void)tmpl_esc_url(sink, &sum, (const char *)data, size);

	if ((set = tmpl_set_new()) == NULL)
		return 0;
	if (tmpl_set_add(set, "p.html", partial, sizeof(partial) - 1, err,
	    sizeof(err)) == -1)
		abort();
	if (tmpl_set_add(set, "f.html", (const char *)data, size, err,
	    sizeof(err)) == -1) {
		/* Every message names the template and a line. */
		if (strncmp(err, "f.html:", 7) != 0)
			abort();
		tmpl_set_free(set);
		return 0;
	}
	for (i = 0; i < size; i++)
		loops += data[i] == '#';
	if (tmpl_set_link(set, err, sizeof(err)) == 0 && loops <= MAX_LOOPS &&
	    (a = arena_new(0)) != NULL) {
		if ((d = build_dict(a)) != NULL) {
			(void)tmpl_render(set, "f.html", tdict_scope(d), sink,
			    &sum);
			(void)tmpl_render(set, "f.html", NULL, sink, &sum);
		}
		arena_free(a);
	}
	tmpl_set_free(set);
	return 0;
}
