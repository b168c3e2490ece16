/*
 * fuzz_multipart.c - libFuzzer driver for the streaming multipart parser.
 *
 * The first input byte chooses a chunk size; the rest is the body of a
 * request with boundary "zyB0undary".  The body is parsed once fed in
 * chunks and once whole: both must give the same events (hashed), the
 * same result and the same reason, or the driver aborts.  The body also
 * goes through mp_parse_buffer() (the collector).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "parse.h"

#define CTYPE	"multipart/form-data; boundary=zyB0undary"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct events {
	uint64_t	 hash;
	int		 last;		/* last event: 'B', 'D', 'E' or 0 */
	int		 inpart;
	size_t		 nbegin;
};

static void
ev_mix(struct events *ev, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		ev->hash ^= s[i];
		ev->hash *= 0x100000001b3ULL;
	}
}

static void
ev_str(struct events *ev, const char *s)
{
	size_t	 n;

	if (s == NULL) {
		ev_mix(ev, "\xff", 1);
		return;
	}
	n = strlen(s);
	ev_mix(ev, &n, sizeof(n));
	ev_mix(ev, s, n);
}

static int
ev_begin(void *arg, const struct mp_part *p)
{
	struct events	*ev = arg;

	if (ev->inpart || p->name == NULL)
		abort();
	ev->inpart = 1;
	ev->nbegin++;
	ev->last = 'B';
	ev_mix(ev, "B", 1);
	ev_str(ev, p->name);
	ev_str(ev, p->filename);
	ev_str(ev, p->content_type);
	if (p->filename != NULL &&
	    (strchr(p->filename, '/') != NULL || strchr(p->filename, '\\')))
		abort();
	return 0;
}

static int
ev_data(void *arg, const char *p, size_t n)
{
	struct events	*ev = arg;

	if (!ev->inpart || n == 0 || p == NULL)
		abort();
	/* Runs of data calls hash as one event: the split depends on the
	 * chunks. */
	if (ev->last != 'D')
		ev_mix(ev, "D", 1);
	ev->last = 'D';
	ev_mix(ev, p, n);
	return 0;
}

static int
ev_end(void *arg)
{
	struct events	*ev = arg;

	if (!ev->inpart)
		abort();
	ev->inpart = 0;
	ev->last = 'E';
	ev_mix(ev, "E", 1);
	return 0;
}

static const struct mp_callbacks ev_cb = { ev_begin, ev_data, ev_end };

/* Parse body in chunks of chunk bytes (0: whole).  Returns the result;
 * *why is the reason. */
static int
run(const char *body, size_t len, size_t chunk, struct events *ev,
    const char **why)
{
	struct arena		*a;
	struct mp_parser	*mp;
	const char		*err;
	size_t			 off, n;
	int			 rc = 0;

	memset(ev, 0, sizeof(*ev));
	ev->hash = 0xcbf29ce484222325ULL;
	if ((a = arena_new(0)) == NULL)
		abort();
	if ((mp = mp_new(a, CTYPE, &ev_cb, ev, NULL, &err)) == NULL)
		abort();
	if (chunk == 0)
		rc = mp_feed(mp, body, len);
	else
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			if ((rc = mp_feed(mp, body + off, n)) == -1)
				break;
		}
	if (rc == 0)
		rc = mp_finish(mp);
	if ((rc == -1) != (mp_error(mp) != NULL))
		abort();
	if (rc == 0 && ev->inpart)
		abort();
	*why = mp_error(mp);
	arena_free(a);
	return rc;
}

static int
file_begin(void *arg, const struct mp_part *p)
{
	(void)arg;
	return p->filename == NULL ? -1 : 0;
}

static int
file_data(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	return n == 0 ? -1 : 0;
}

static const struct mp_callbacks file_cb = { file_begin, file_data, NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events	 e1, e2;
	struct arena	*a;
	struct kvlist	 l;
	const char	*body, *why1, *why2, *err;
	size_t		 len, chunk, i;
	int		 rc1, rc2, rc;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	body = (const char *)data + 1;
	len = size - 1;

	rc1 = run(body, len, chunk, &e1, &why1);
	rc2 = run(body, len, 0, &e2, &why2);
	if (rc1 != rc2 || e1.hash != e2.hash || e1.nbegin != e2.nbegin ||
	    e1.inpart != e2.inpart)
		abort();
	if ((why1 == NULL) != (why2 == NULL) ||
	    (why1 != NULL && strcmp(why1, why2) != 0))
		abort();

	if ((a = arena_new(0)) == NULL)
		abort();
	kvlist_init(&l);
	rc = mp_parse_buffer(a, CTYPE, body, len, &l, 64, &file_cb, NULL,
	    &err);
	if ((rc == -1) != (err != NULL))
		abort();
	for (i = 0; i < l.n; i++)
		if (l.v[i].vallen > 64 || l.v[i].val[l.v[i].vallen] != '\0')
			abort();
	arena_free(a);
	return 0;
}
