/*
 * edt.c - the squared Euclidean distance transform (edt.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "edt.h"

#define BIG	EDT_NONE

/* Boxes of fewer voxels are done by the calling thread alone: the
 * readers call edt3() on many small boxes (a nodule's, one slice of
 * it), where starting the OpenMP team and waiting for it at the ends of
 * the passes cost more than the work. */
#define EDT_PAR_MIN	(1 << 17)

/*
 * The first pass, along x, from the seeds themselves: on a line the
 * input is 0 at a seed and BIG elsewhere, so the lower envelope of the
 * parabolas is the parabola of the nearest seed, and the distance is
 * that seed's (Meijster, Roerdink and Hesselink, 2000, phase 1: a scan
 * each way).  Worked out as edt1() works out the value of the parabola
 * it picks, (q - v)^2 w w + 0, so the bits are the same; BIG on a line
 * without a seed, as there.
 */
static void
edt_x(const uint8_t *seed, int n, double w, double *d)
{
	int	 q, v;

	for (q = 0, v = -1; q < n; q++) {
		if (seed[q])
			v = q;
		d[q] = v < 0 ? BIG : (q - v) * (q - v) * w * w;
	}
	for (q = n - 1, v = -1; q >= 0; q--) {
		if (seed[q])
			v = q;
		if (v >= 0 && (v - q) * (v - q) * w * w < d[q])
			d[q] = (v - q) * (v - q) * w * w;
	}
}

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

/*
 * The squared distance (mm) of each voxel of the box d (spacing sp) to
 * the nearest voxel where seed is set, into dist (BIG where none): the
 * seeds' distance along x, then Felzenszwalb and Huttenlocher's pass
 * along y and along z.  A line of the later passes that is all BIG (no
 * seed in its plane so far) or all 0 (seeds all along it) is what
 * edt1() would leave it, and is skipped; so is an axis one voxel long.
 * The lines of each pass are independent: in a large box the threads of
 * one team share them.
 */
int
edt3(const uint8_t *seed, const int d[3], const double sp[3], double *dist)
{
	int	 m = d[0] > d[1] ? d[0] : d[1], fail = 0;
	size_t	 st[3], nb;

	m = m > d[2] ? m : d[2];
	st[0] = 1;
	st[1] = (size_t)d[0];
	st[2] = (size_t)d[0] * d[1];
	nb = st[2] * d[2];
	if (nb == 0)
		return 0;

#pragma omp parallel if (nb >= EDT_PAR_MIN) reduction(|:fail)
	{
		double	*f = malloc(m * sizeof(*f));
		double	*o = malloc(m * sizeof(*o));
		double	*z = malloc((m + 1) * sizeof(*z));
		int	*v = malloc(m * sizeof(*v));
		int	 ok = f != NULL && o != NULL && z != NULL && v != NULL;
		int	 ax, i, j, k, n, a1, a2, zero, none;
		size_t	 b;

		fail |= !ok;
#pragma omp for schedule(static)
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < d[1]; j++) {
				b = (size_t)k * st[2] + (size_t)j * st[1];
				edt_x(seed + b, d[0], sp[0], dist + b);
			}
		for (ax = 1; ax < 3; ax++) {
			if ((n = d[ax]) == 1)
				continue;
			a1 = 0;
			a2 = ax == 1 ? 2 : 1;
#pragma omp for schedule(static)
			for (j = 0; j < d[a2]; j++) {
				if (!ok)
					continue;
				for (i = 0; i < d[a1]; i++) {
					b = i * st[a1] + j * st[a2];
					zero = none = 1;
					for (k = 0; k < n; k++) {
						f[k] = dist[b + k * st[ax]];
						zero &= f[k] == 0.0;
						none &= f[k] == BIG;
					}
					if (zero || none)
						continue;
					edt1(f, n, sp[ax], o, v, z);
					for (k = 0; k < n; k++)
						dist[b + k * st[ax]] = o[k] >
						    BIG ? BIG : o[k];
				}
			}
		}
		free(f);
		free(o);
		free(z);
		free(v);
	}
	return fail ? -1 : 0;
}
