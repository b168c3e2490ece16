/*
 * test_edt.c - the distance transform (src/infer/edt.c): against the
 * brute force on small boxes, and bit for bit against the plain
 * Felzenszwalb and Huttenlocher (2012) transform it replaced (three
 * passes of the lower envelope of parabolas, kept here as the
 * reference) on random masks of many shapes, densities and spacings,
 * small boxes (one thread) and large ones (the OpenMP team).
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edt.h"

#define BIG	EDT_NONE

/* The reference: the transform as it was, one line at a time. */
static void
ref_edt1(const double *f, int n, double w, double *d, int *v, double *z)
{
	int	 q, k = 0;
	double	 s;

	v[0] = 0;
	z[0] = -BIG;
	z[1] = BIG;
	for (q = 1; q < n; q++) {
		for (;;) {
			s = ((f[q] + q * q * w * w) - (f[v[k]] +
			    v[k] * v[k] * w * w)) / (2.0 * w * (q - v[k]));
			if (s > z[k] || k == 0)
				break;
			k--;
		}
		if (s <= z[k]) {
			v[0] = q;
			z[0] = -BIG;
			z[1] = BIG;
			continue;
		}
		k++;
		v[k] = q;
		z[k] = s;
		z[k + 1] = BIG;
	}
	k = 0;
	for (q = 0; q < n; q++) {
		while (z[k + 1] < q * w)
			k++;
		d[q] = (q - v[k]) * (q - v[k]) * w * w + f[v[k]];
	}
}

static void
ref_edt3(const uint8_t *seed, const int d[3], const double sp[3],
    double *dist)
{
	int	 m = d[0] > d[1] ? d[0] : d[1], ax, i, j, k, n, a1, a2;
	size_t	 st[3], b;
	double	*f, *o, *z;
	int	*v;

	m = m > d[2] ? m : d[2];
	st[0] = 1;
	st[1] = (size_t)d[0];
	st[2] = (size_t)d[0] * d[1];
	f = malloc(m * sizeof(*f));
	o = malloc(m * sizeof(*o));
	z = malloc((m + 1) * sizeof(*z));
	v = malloc(m * sizeof(*v));
	assert_true(f != NULL && o != NULL && z != NULL && v != NULL);
	for (b = 0; b < st[2] * d[2]; b++)
		dist[b] = seed[b] ? 0.0 : BIG;
	for (ax = 0; ax < 3; ax++) {
		a1 = ax == 0 ? 1 : 0;
		a2 = ax == 2 ? 1 : 2;
		n = d[ax];
		for (j = 0; j < d[a2]; j++)
			for (i = 0; i < d[a1]; i++) {
				b = i * st[a1] + j * st[a2];
				for (k = 0; k < n; k++)
					f[k] = dist[b + k * st[ax]];
				ref_edt1(f, n, sp[ax], o, v, z);
				for (k = 0; k < n; k++)
					dist[b + k * st[ax]] = o[k] > BIG ?
					    BIG : o[k];
			}
	}
	free(f);
	free(o);
	free(z);
	free(v);
}

/* A small deterministic generator (the tests repeat exactly). */
static uint32_t
rnd(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/*
 * A random mask: independent voxels with probability p (per mille), or
 * with blobs (balls of random centres and radii, filled or as their
 * complement, as the readers give it: a nodule's mask and the lung
 * round it).
 */
static void
fill(uint8_t *m, const int d[3], uint32_t *s, int kind, int p)
{
	size_t	 n = (size_t)d[0] * d[1] * d[2], o;
	int	 b, x, y, z, cx, cy, cz, r;

	memset(m, 0, n);
	if (kind == 0) {
		for (o = 0; o < n; o++)
			m[o] = (int)(rnd(s) % 1000) < p;
		return;
	}
	for (b = 0; b < 1 + (int)(rnd(s) % 4); b++) {
		cx = (int)(rnd(s) % d[0]);
		cy = (int)(rnd(s) % d[1]);
		cz = (int)(rnd(s) % d[2]);
		r = 1 + (int)(rnd(s) % 12);
		for (z = 0; z < d[2]; z++)
			for (y = 0; y < d[1]; y++)
				for (x = 0; x < d[0]; x++)
					if ((x - cx) * (x - cx) + (y - cy) *
					    (y - cy) + (z - cz) * (z - cz) <=
					    r * r)
						m[((size_t)z * d[1] + y) *
						    d[0] + x] = 1;
	}
	if (kind == 2)
		for (o = 0; o < n; o++)
			m[o] = !m[o];
}

/* edt3() against the reference, every bit, on a mask. */
static void
same(const uint8_t *m, const int d[3], const double sp[3])
{
	size_t	 n = (size_t)d[0] * d[1] * d[2];
	double	*a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));

	assert_true(a != NULL && b != NULL);
	ref_edt3(m, d, sp, a);
	assert_int_equal(edt3(m, d, sp, b), 0);
	assert_memory_equal(a, b, n * sizeof(*a));
	free(a);
	free(b);
}

/* Small boxes, one thread: the shapes the readers use (a 2-D slice
 * with d[2] = 1, lines of one voxel), every density from no seed to all
 * seeds, isotropic and anisotropic spacings, spacings with no exact
 * binary form. */
static void
test_small_random(void **state)
{
	static const double sps[][3] = {
		{ 1, 1, 1 }, { 0.703125, 0.703125, 2.5 },
		{ 0.6, 0.6, 0.6 }, { 0.7, 0.9, 1.3 }, { 1.5, 1.5, 1.5 },
	};
	static const int dims[][3] = {
		{ 1, 1, 1 }, { 7, 1, 1 }, { 1, 9, 1 }, { 1, 1, 11 },
		{ 23, 17, 1 }, { 31, 29, 13 }, { 40, 33, 27 }, { 64, 5, 48 },
	};
	static const int dens[] = { 0, 1, 10, 100, 500, 900, 1000 };
	uint32_t	 s = 12345;
	uint8_t		*m;
	size_t		 di, si, pi;
	int		 kind;

	(void)state;
	m = malloc(64 * 64 * 64);
	assert_non_null(m);
	for (di = 0; di < sizeof(dims) / sizeof(dims[0]); di++)
		for (si = 0; si < sizeof(sps) / sizeof(sps[0]); si++) {
			for (pi = 0; pi < sizeof(dens) / sizeof(dens[0]);
			    pi++) {
				fill(m, dims[di], &s, 0, dens[pi]);
				same(m, dims[di], sps[si]);
			}
			for (kind = 1; kind <= 2; kind++) {
				fill(m, dims[di], &s, kind, 0);
				same(m, dims[di], sps[si]);
			}
		}
	free(m);
}

/* Boxes past the one-thread limit: the passes shared by the team. */
static void
test_large_random(void **state)
{
	static const int dims[][3] = {
		{ 96, 80, 40 }, { 150, 120, 9 }, { 61, 67, 71 },
	};
	const double	 sp[3] = { 0.78125, 0.78125, 1.25 };
	uint32_t	 s = 777;
	uint8_t		*m;
	size_t		 di;

	(void)state;
	m = malloc(150 * 120 * 71);
	assert_non_null(m);
	for (di = 0; di < sizeof(dims) / sizeof(dims[0]); di++) {
		fill(m, dims[di], &s, 0, 2);
		same(m, dims[di], sp);
		fill(m, dims[di], &s, 1, 0);
		same(m, dims[di], sp);
		fill(m, dims[di], &s, 2, 0);
		same(m, dims[di], sp);
	}
	free(m);
}

/* Against the brute force: the squared distance to the nearest seed. */
static void
test_brute(void **state)
{
	const int	 d[3] = { 13, 11, 9 };
	const double	 sp[3] = { 0.7, 0.9, 2.5 };
	uint8_t		 m[13 * 11 * 9];
	double		 dist[13 * 11 * 9], best, e;
	uint32_t	 s = 99;
	int		 x, y, z, a, b, c;

	(void)state;
	fill(m, d, &s, 0, 15);
	assert_int_equal(edt3(m, d, sp, dist), 0);
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				best = BIG;
				for (c = 0; c < d[2]; c++)
					for (b = 0; b < d[1]; b++)
						for (a = 0; a < d[0]; a++) {
							if (!m[(c * d[1] + b) *
							    d[0] + a])
								continue;
							e = (a - x) * sp[0] *
							    (a - x) * sp[0] +
							    (b - y) * sp[1] *
							    (b - y) * sp[1] +
							    (c - z) * sp[2] *
							    (c - z) * sp[2];
							best = e < best ? e :
							    best;
						}
				assert_true(fabs(dist[(z * d[1] + y) * d[0] +
				    x] - best) <= 1e-9 * (1 + best));
			}
	/* No seed: EDT_NONE everywhere. */
	memset(m, 0, sizeof(m));
	assert_int_equal(edt3(m, d, sp, dist), 0);
	for (x = 0; x < d[0] * d[1] * d[2]; x++)
		assert_true(dist[x] == EDT_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brute),
		cmocka_unit_test(test_small_random),
		cmocka_unit_test(test_large_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
