/*
 * edt.c - the squared Euclidean distance transform (edt.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "edt.h"

#define BIG	EDT_NONE

/* One pass of the squared Euclidean distance transform along a line
 * of n samples w mm apart (Felzenszwalb and Huttenlocher, 2012). */
static void
edt1(const double *f, int n, double w, double *d, int *v, double *z)
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
			/* k == 0 and the new parabola is lower everywhere */
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

/* The squared distance (mm) of each voxel of the box d (spacing sp) to
 * the nearest voxel where seed is set, into dist (BIG where none).  The
 * lines of each pass are independent: the threads share them. */
int
edt3(const uint8_t *seed, const int d[3], const double sp[3], double *dist)
{
	int	 m = d[0] > d[1] ? d[0] : d[1], ax, fail = 0;
	size_t	 st[3], base;

	m = m > d[2] ? m : d[2];
	st[0] = 1;
	st[1] = (size_t)d[0];
	st[2] = (size_t)d[0] * d[1];
	for (base = 0; base < st[2] * d[2]; base++)
		dist[base] = seed[base] ? 0.0 : BIG;
	for (ax = 0; ax < 3; ax++) {
		int	 a1 = ax == 0 ? 1 : 0, a2 = ax == 2 ? 1 : 2;
		int	 n = d[ax];

#pragma omp parallel reduction(|:fail)
		{
			double	*f = malloc(m * sizeof(*f));
			double	*o = malloc(m * sizeof(*o));
			double	*z = malloc((m + 1) * sizeof(*z));
			int	*v = malloc(m * sizeof(*v));
			int	 ok = f != NULL && o != NULL && z != NULL &&
				    v != NULL, i, j, k;
			size_t	 b;

			fail |= !ok;
#pragma omp for schedule(static)
			for (j = 0; j < d[a2]; j++) {
				if (!ok)
					continue;
				for (i = 0; i < d[a1]; i++) {
					b = i * st[a1] + j * st[a2];
					for (k = 0; k < n; k++)
						f[k] = dist[b + k * st[ax]];
					edt1(f, n, sp[ax], o, v, z);
					for (k = 0; k < n; k++)
						dist[b + k * st[ax]] = o[k] >
						    BIG ? BIG : o[k];
				}
			}
			free(f);
			free(o);
			free(z);
			free(v);
		}
		if (fail)
			return -1;
	}
	return 0;
}
