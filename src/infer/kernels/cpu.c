/*
 * cpu.c - the CPU compute backend (OpenMP when built with it), and the
 * backend selection of compute_open().
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#define OMP_FOR		_Pragma("omp parallel for schedule(static)")
#else
#define OMP_FOR
#endif

#include "compute.h"
#include "log.h"

const char *const compute_kind_names[COMPUTE__MAX] = {
	"cpu",
	"cuda",
};

#define IDX(d, x, y, z)	(((size_t)(z) * (size_t)(d)[1] + (size_t)(y)) * \
			    (size_t)(d)[0] + (size_t)(x))

static size_t
dims_count(const int dims[3])
{
	return (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
}

static int
dims_valid(const int dims[3])
{
	return dims[0] > 0 && dims[1] > 0 && dims[2] > 0;
}

static int
cpu_fail(struct compute *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -1;
}

static void
cpu_close(struct compute *c)
{
	free(c);
}

static int
cpu_clamp(struct compute *c, float *out, const float *in, size_t n,
    float lo, float hi)
{
	size_t	 i;

	if (lo > hi)
		return cpu_fail(c, "clamp: lower bound above upper bound");
	OMP_FOR
	for (i = 0; i < n; i++)
		out[i] = in[i] < lo ? lo : in[i] > hi ? hi : in[i];
	return 0;
}

static int
cpu_window(struct compute *c, float *out, const float *in, size_t n,
    float center, float width)
{
	size_t	 i;
	float	 lo, v;

	if (!(width > 0))
		return cpu_fail(c, "window: width must be positive");
	lo = center - width / 2;
	OMP_FOR
	for (i = 0; i < n; i++) {
		v = (in[i] - lo) / width;
		out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
	}
	return 0;
}

static int
cpu_threshold(struct compute *c, uint8_t *mask, const float *in, size_t n,
    float lo, float hi)
{
	size_t	 i;

	(void)c;
	OMP_FOR
	for (i = 0; i < n; i++)
		mask[i] = in[i] >= lo && in[i] <= hi;
	return 0;
}

/* Union-find over voxel indices; the root of a set is its lowest index. */
static int32_t
uf_find(int32_t *p, int32_t i)
{
	int32_t	 r = i, t;

	while (p[r] != r)
		r = p[r];
	while (p[i] != r) {
		t = p[i];
		p[i] = r;
		i = t;
	}
	return r;
}

static void
uf_union(int32_t *p, int32_t a, int32_t b)
{
	a = uf_find(p, a);
	b = uf_find(p, b);
	if (a < b)
		p[b] = a;
	else if (b < a)
		p[a] = b;
}

int
compute_cc_finish(int32_t *labels, const float *val, const int dims[3],
    struct cc_stats **stats, size_t *n)
{
	struct cc_stats	*st = NULL, *tmp, *s;
	size_t		 i, total = dims_count(dims), k = 0, cap = 0;
	int32_t		 rep;
	int		 x, y, z;
	float		 v;

	*stats = NULL;
	*n = 0;
	/* A representative is the lowest index of its component, so it is
	 * met (and renumbered in place) before any other voxel of it. */
	for (i = 0; i < total; i++) {
		if (labels[i] == 0)
			continue;
		rep = labels[i] - 1;
		if ((size_t)rep == i) {
			if (k == cap) {
				cap = cap ? 2 * cap : 64;
				tmp = realloc(st, cap * sizeof(*st));
				if (tmp == NULL) {
					free(st);
					return -1;
				}
				st = tmp;
			}
			k++;
			labels[i] = (int32_t)k;
			x = (int)(i % (size_t)dims[0]);
			y = (int)(i / (size_t)dims[0] % (size_t)dims[1]);
			z = (int)(i / ((size_t)dims[0] * (size_t)dims[1]));
			s = &st[k - 1];
			s->count = 0;
			s->x0 = s->x1 = x;
			s->y0 = s->y1 = y;
			s->z0 = s->z1 = z;
			s->max = val != NULL ? val[i] : 0;
			s->sum = 0;
		} else
			labels[i] = labels[rep];
		s = &st[labels[i] - 1];
		x = (int)(i % (size_t)dims[0]);
		y = (int)(i / (size_t)dims[0] % (size_t)dims[1]);
		z = (int)(i / ((size_t)dims[0] * (size_t)dims[1]));
		s->count++;
		if (x < s->x0)
			s->x0 = x;
		if (x > s->x1)
			s->x1 = x;
		if (y < s->y0)
			s->y0 = y;
		if (y > s->y1)
			s->y1 = y;
		if (z > s->z1)
			s->z1 = z;
		v = val != NULL ? val[i] : 0;
		if (v > s->max)
			s->max = v;
		s->sum += v;
	}
	*stats = st;
	*n = k;
	return 0;
}

/*
 * Join each voxel of planes z0..z1-1 with its neighbours met before it
 * (in memory order) that lie in those planes too; each set's root stays
 * its lowest index.  Only labels of those planes are touched.  The
 * neighbours are listed once (3 for faces, 13 for all 26) with their
 * index offsets; a voxel off the rows and planes of the edge takes them
 * all without a bounds check, the others as before.  The joins are the
 * same, in the same order.
 */
static void
label_planes(int32_t *labels, const uint8_t *mask, const int dims[3],
    int conn, int z0, int z1)
{
	ptrdiff_t	 off[13];
	size_t		 i;
	int		 nb[13][3], m = 0, k, x, y, z, dx, dy, dz, xx, yy, zz;

	for (dz = -1; dz <= 0; dz++)
		for (dy = -1; dy <= 1; dy++)
			for (dx = -1; dx <= 1; dx++) {
				if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0)))
					continue;
				if (conn == 6 && abs(dx) + abs(dy) + abs(dz) != 1)
					continue;
				nb[m][0] = dx;
				nb[m][1] = dy;
				nb[m][2] = dz;
				off[m++] = ((ptrdiff_t)dz * dims[1] + dy) *
				    dims[0] + dx;
			}
	for (z = z0; z < z1; z++)
		for (y = 0; y < dims[1]; y++)
			for (x = 0; x < dims[0]; x++) {
				i = IDX(dims, x, y, z);
				if (!mask[i])
					continue;
				if (z > z0 && y > 0 && y < dims[1] - 1 && x > 0 &&
				    x < dims[0] - 1) {
					for (k = 0; k < m; k++)
						if (mask[(ptrdiff_t)i + off[k]])
							uf_union(labels,
							    (int32_t)i, (int32_t)
							    ((ptrdiff_t)i +
							    off[k]));
					continue;
				}
				for (k = 0; k < m; k++) {
					xx = x + nb[k][0];
					yy = y + nb[k][1];
					zz = z + nb[k][2];
					if (xx < 0 || yy < 0 || zz < z0 ||
					    xx >= dims[0] || yy >= dims[1])
						continue;
					if (mask[IDX(dims, xx, yy, zz)])
						uf_union(labels, (int32_t)i,
						    (int32_t)IDX(dims, xx, yy,
						    zz));
				}
			}
}

/* The joins label_planes() left out at plane z: with plane z - 1. */
static void
label_seam(int32_t *labels, const uint8_t *mask, const int dims[3],
    int conn, int z)
{
	size_t	 i;
	int	 x, y, dx, dy, xx, yy;

	for (y = 0; y < dims[1]; y++)
		for (x = 0; x < dims[0]; x++) {
			i = IDX(dims, x, y, z);
			if (!mask[i])
				continue;
			for (dy = -1; dy <= 1; dy++)
				for (dx = -1; dx <= 1; dx++) {
					if (conn == 6 && (dx != 0 || dy != 0))
						continue;
					xx = x + dx;
					yy = y + dy;
					if (xx < 0 || yy < 0 || xx >= dims[0] ||
					    yy >= dims[1])
						continue;
					if (mask[IDX(dims, xx, yy, z - 1)])
						uf_union(labels, (int32_t)i,
						    (int32_t)IDX(dims, xx, yy,
						    z - 1));
				}
		}
}

/*
 * Two-pass union-find labelling (Rosenfeld and Pfaltz 1966; the
 * union-find of Wu, Otoo and Suzuki 2009), the volume cut into slabs of
 * planes that are labelled in parallel and then joined at their seams
 * (as Oliveira and Lotufo 2010 and Allegretti et al. 2020 split it).  Each
 * set's root is its lowest index, in a slab and after the seams alike, so
 * the labels are those of one pass over the whole volume, whatever the
 * number of slabs:
 *  1. each slab on its own (no other slab's labels are touched), its
 *     voxels then pointed straight at their slab's roots, which are
 *     listed;
 *  2. the seams, in turn: only roots change;
 *  3. each listed root pointed at its final root, in turn;
 *  4. in parallel, every other voxel through its slab root (which 4
 *     never writes) to the final root, then roots to root + 1.
 */
static int
cpu_label(struct compute *c, int32_t *labels, const uint8_t *mask,
    const float *val, const int dims[3], int conn, struct cc_stats **stats,
    size_t *n)
{
	size_t	 total, plane, *nroots = NULL, *caproots = NULL;
	int32_t	**roots = NULL;
	int	 nslab = 1, s, oom = 0;

	*stats = NULL;
	*n = 0;
	if (!dims_valid(dims))
		return cpu_fail(c, "label: empty volume");
	if (conn != 6 && conn != 26)
		return cpu_fail(c, "label: connectivity %d is not 6 or 26",
		    conn);
	total = dims_count(dims);
	if (total > INT32_MAX)
		return cpu_fail(c, "label: volume too large");
	plane = (size_t)dims[0] * (size_t)dims[1];
#ifdef _OPENMP
	/* Two slabs a thread, so that an uneven one does not hold the
	 * others up; each seam is one plane's work. */
	nslab = 2 * omp_get_max_threads();
#endif
	if (nslab > dims[2])
		nslab = dims[2];
	if ((roots = calloc((size_t)nslab, sizeof(*roots))) == NULL ||
	    (nroots = calloc((size_t)nslab, sizeof(*nroots))) == NULL ||
	    (caproots = calloc((size_t)nslab, sizeof(*caproots))) == NULL) {
		free(roots);
		free(nroots);
		return cpu_fail(c, "label: out of memory");
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) reduction(|:oom)
#endif
	for (s = 0; s < nslab; s++) {
		int	 z0 = (int)((long long)dims[2] * s / nslab);
		int	 z1 = (int)((long long)dims[2] * (s + 1) / nslab);
		size_t	 i, lo = plane * (size_t)z0, hi = plane * (size_t)z1;
		int32_t	*tmp;

		for (i = lo; i < hi; i++)
			labels[i] = mask[i] ? (int32_t)i : -1;
		label_planes(labels, mask, dims, conn, z0, z1);
		for (i = lo; i < hi; i++) {
			if (!mask[i])
				continue;
			labels[i] = uf_find(labels, (int32_t)i);
			if ((size_t)labels[i] != i)
				continue;
			if (nroots[s] == caproots[s]) {
				caproots[s] = caproots[s] ? 2 * caproots[s] :
				    256;
				tmp = realloc(roots[s], caproots[s] *
				    sizeof(*tmp));
				if (tmp == NULL) {
					oom = 1;
					break;
				}
				roots[s] = tmp;
			}
			roots[s][nroots[s]++] = (int32_t)i;
		}
	}
	if (!oom) {
		size_t	 i, k;

		for (s = 1; s < nslab; s++)
			label_seam(labels, mask, dims, conn,
			    (int)((long long)dims[2] * s / nslab));
		for (s = 0; s < nslab; s++)
			for (k = 0; k < nroots[s]; k++)
				labels[roots[s][k]] = uf_find(labels,
				    roots[s][k]);
		OMP_FOR
		for (i = 0; i < total; i++) {
			int32_t	 t;

			if (!mask[i])
				continue;
			/* A root already holds its final root, and is
			 * not written: other voxels read it. */
			t = labels[labels[i]];
			if (t != labels[i])
				labels[i] = t;
		}
		OMP_FOR
		for (i = 0; i < total; i++)
			labels[i] = mask[i] ? labels[i] + 1 : 0;
	}
	for (s = 0; s < nslab; s++)
		free(roots[s]);
	free(roots);
	free(nroots);
	free(caproots);
	if (oom)
		return cpu_fail(c, "label: out of memory");
	if (compute_cc_finish(labels, val, dims, stats, n) == -1)
		return cpu_fail(c, "label: out of memory");
	return 0;
}

/* One pass of a 1-D min (erode) or max (dilate) of radius r along axis a;
 * outside the volume is background. */
static void
morph_line(uint8_t *out, const uint8_t *in, const int dims[3], int a,
    int erode, int r)
{
	size_t	 stride;
	int	 z;

	stride = a == 0 ? 1 : a == 1 ? (size_t)dims[0] :
	    (size_t)dims[0] * (size_t)dims[1];
	OMP_FOR
	for (z = 0; z < dims[2]; z++) {
		size_t	 i, j;
		int	 x, y, k, p[3], q, v;

		for (y = 0; y < dims[1]; y++)
			for (x = 0; x < dims[0]; x++) {
				p[0] = x;
				p[1] = y;
				p[2] = z;
				i = IDX(dims, x, y, z);
				v = erode;
				for (k = -r; k <= r && v == erode; k++) {
					q = p[a] + k;
					if (q < 0 || q >= dims[a]) {
						if (erode)
							v = 0;
						continue;
					}
					j = (size_t)((ptrdiff_t)i + (ptrdiff_t)k *
					    (ptrdiff_t)stride);
					if (erode && !in[j])
						v = 0;
					else if (!erode && in[j])
						v = 1;
				}
				out[i] = (uint8_t)v;
			}
	}
}

/* One step of the 6-neighbourhood cross. */
static void
morph_cross1(uint8_t *out, const uint8_t *in, const int dims[3], int erode)
{
	int	 z;

	OMP_FOR
	for (z = 0; z < dims[2]; z++) {
		static const int off[6][3] = {
			{ -1, 0, 0 }, { 1, 0, 0 }, { 0, -1, 0 },
			{ 0, 1, 0 }, { 0, 0, -1 }, { 0, 0, 1 } };
		int	 x, y, k, xx, yy, zz, v, nb;

		for (y = 0; y < dims[1]; y++)
			for (x = 0; x < dims[0]; x++) {
				v = in[IDX(dims, x, y, z)] != 0;
				for (k = 0; k < 6 && v == erode; k++) {
					xx = x + off[k][0];
					yy = y + off[k][1];
					zz = z + off[k][2];
					nb = xx >= 0 && yy >= 0 && zz >= 0 &&
					    xx < dims[0] && yy < dims[1] &&
					    zz < dims[2] &&
					    in[IDX(dims, xx, yy, zz)];
					if (erode && !nb)
						v = 0;
					else if (!erode && nb)
						v = 1;
				}
				out[IDX(dims, x, y, z)] = (uint8_t)v;
			}
	}
}

static int
cpu_morph(struct compute *c, uint8_t *out, const uint8_t *in,
    const int dims[3], enum morph_op op, enum morph_shape shape, int r)
{
	uint8_t	*a = NULL, *b = NULL, *t;
	size_t	 n, i;
	int	 k, erode = op == MORPH_ERODE;

	if (!dims_valid(dims) || r < 0 || op >= MORPH_OP__MAX ||
	    shape >= MORPH_SHAPE__MAX)
		return cpu_fail(c, "morph: bad arguments");
	n = dims_count(dims);
	if ((a = malloc(n)) == NULL || (b = malloc(n)) == NULL) {
		free(a);
		return cpu_fail(c, "morph: out of memory");
	}
	for (i = 0; i < n; i++)
		a[i] = in[i] != 0;
	if (shape == MORPH_BOX) {
		/* The box is separable: a line along each axis in turn. */
		for (k = 0; k < 3 && r > 0; k++) {
			morph_line(b, a, dims, k, erode, r);
			t = a;
			a = b;
			b = t;
		}
	} else {
		for (k = 0; k < r; k++) {
			morph_cross1(b, a, dims, erode);
			t = a;
			a = b;
			b = t;
		}
	}
	memcpy(out, a, n);
	free(a);
	free(b);
	return 0;
}

/* The sampled, normalised Gaussian of sigma voxels out to 3 sigma: 2 *
 * *radius + 1 weights, or NULL. */
static float *
gauss_kernel(double sigma, int *radius)
{
	float	*w;
	double	 sum = 0;
	int	 k, r;

	r = (int)ceil(3 * sigma);
	if (r < 1)
		r = 1;
	if ((w = calloc((size_t)(2 * r + 1), sizeof(*w))) == NULL)
		return NULL;
	for (k = -r; k <= r; k++)
		sum += exp(-(double)k * k / (2 * sigma * sigma));
	for (k = -r; k <= r; k++)
		w[k + r] = (float)(exp(-(double)k * k / (2 * sigma * sigma)) /
		    sum);
	*radius = r;
	return w;
}

/*
 * One axis a of the separable Gaussian, in to out (2r + 1 weights w): for
 * each voxel s = sum over k = -r..r, in that order, of w[k + r] times the
 * input k voxels along a (the edge voxel repeated beyond the volume), in
 * double, then rounded to float; the CUDA kernel (k_gauss_axis) sums the
 * same terms in the same order.  The sums of a whole row along x are kept
 * side by side (one double a voxel) and each weight is added to all of
 * them in turn: every voxel gets the same additions in the same order as
 * one voxel at a time would, so the output is the same to the bit, but the
 * input is read along rows instead of once per weight and voxel at a
 * stride.  Returns 0, or -1 when out of memory.
 */
static int
gauss_axis(float *out, const float *in, const int dims[3], int a,
    const float *w, int r)
{
	int	 fail = 0;

#ifdef _OPENMP
#pragma omp parallel reduction(|:fail)
#endif
	{
		double	*s = malloc((size_t)dims[0] * sizeof(*s));
		int	 z, y, x, k, q, lo, hi, nx = dims[0];
		const float *row;
		double	 wk;

		fail |= s == NULL;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
		for (z = 0; z < dims[2]; z++) {
			if (s == NULL)
				continue;
			for (y = 0; y < dims[1]; y++) {
				for (x = 0; x < nx; x++)
					s[x] = 0;
				for (k = -r; k <= r; k++) {
					wk = (double)w[k + r];
					if (a == 0) {
						/* x + k clamped to 0..nx-1:
						 * the first lo voxels read
						 * 0, those from hi on nx-1. */
						row = in + IDX(dims, 0, y, z);
						lo = k < 0 ? -k : 0;
						lo = lo > nx ? nx : lo;
						hi = nx - k > nx ? nx : nx - k;
						hi = hi < lo ? lo : hi;
						for (x = 0; x < lo; x++)
							s[x] += wk * row[0];
						for (x = lo; x < hi; x++)
							s[x] += wk * row[x + k];
						for (x = hi; x < nx; x++)
							s[x] += wk *
							    row[nx - 1];
						continue;
					}
					q = (a == 1 ? y : z) + k;
					q = q < 0 ? 0 : q >= dims[a] ?
					    dims[a] - 1 : q;
					row = in + (a == 1 ? IDX(dims, 0, q, z) :
					    IDX(dims, 0, y, q));
					for (x = 0; x < nx; x++)
						s[x] += wk * row[x];
				}
				for (x = 0; x < nx; x++)
					out[IDX(dims, x, y, z)] = (float)s[x];
			}
		}
		free(s);
	}
	return fail ? -1 : 0;
}

/*
 * The axes one after the other, each pass reading the last one's output:
 * from in, through the scratch and out in turn, so that the last pass
 * writes out and no pass needs a copy first.  In place (out == in) the
 * input is copied to the scratch first when the count of passes is odd.
 */
static int
cpu_gauss(struct compute *c, float *out, const float *in, const int dims[3],
    const double spacing[3], const double sigma_mm[3])
{
	float		*tmp = NULL, *w, *dst;
	const float	*src = in;
	size_t		 n;
	int		 a, r, m = 0;

	if (!dims_valid(dims))
		return cpu_fail(c, "gauss: empty volume");
	for (a = 0; a < 3; a++)
		if (!(spacing[a] > 0) || !(sigma_mm[a] >= 0))
			return cpu_fail(c, "gauss: bad spacing or sigma");
	n = dims_count(dims);
	for (a = 0; a < 3; a++)
		m += sigma_mm[a] != 0;
	if (m == 0) {
		if (out != in)
			memcpy(out, in, n * sizeof(*out));
		return 0;
	}
	if ((m > 1 || out == in) &&
	    (tmp = malloc(n * sizeof(*tmp))) == NULL)
		return cpu_fail(c, "gauss: out of memory");
	if (out == in && m % 2 == 1) {
		memcpy(tmp, in, n * sizeof(*tmp));
		src = tmp;
		dst = out;
	} else if (out == in)
		dst = tmp;
	else
		dst = m % 2 == 1 ? out : tmp;
	for (a = 0; a < 3; a++) {
		if (sigma_mm[a] == 0)
			continue;
		if ((w = gauss_kernel(sigma_mm[a] / spacing[a], &r)) == NULL) {
			free(tmp);
			return cpu_fail(c, "gauss: out of memory");
		}
		if (gauss_axis(dst, src, dims, a, w, r) == -1) {
			free(w);
			free(tmp);
			return cpu_fail(c, "gauss: out of memory");
		}
		free(w);
		src = dst;
		dst = dst == out ? tmp : out;
	}
	free(tmp);
	return 0;
}

void
compute_resample_dims(const int dims[3], const double spacing[3],
    const double ospacing[3], int odims[3])
{
	int	 a;

	for (a = 0; a < 3; a++)
		odims[a] = (int)floor((dims[a] - 1) * spacing[a] / ospacing[a] +
		    1e-9) + 1;
}

/*
 * Trilinear resampling: output voxel o at o * ospacing / spacing in the
 * input's voxels, between the input voxels i0 = floor of that (kept to
 * 0..dims - 2) and i0 + 1, at fraction f.  The CUDA kernel (k_resample)
 * computes the same.  i0, i0 + 1 and f of each axis depend on that
 * axis' output index alone: they are worked out once per axis, with the
 * same expressions, rather than three times per voxel, and the sum is
 * the same expression in the same order, so the output is the same to
 * the bit.
 */
static int
cpu_resample(struct compute *c, float *out, const int odims[3],
    const float *in, const int dims[3], const double spacing[3],
    const double ospacing[3])
{
	int	*ix[3][2] = { { NULL, NULL }, { NULL, NULL }, { NULL, NULL } };
	double	*fx[3] = { NULL, NULL, NULL }, p;
	int	 z, a, o, rc = -1;

	if (!dims_valid(dims) || !dims_valid(odims))
		return cpu_fail(c, "resample: empty volume");
	for (a = 0; a < 3; a++)
		if (!(spacing[a] > 0) || !(ospacing[a] > 0))
			return cpu_fail(c, "resample: bad spacing");
	for (a = 0; a < 3; a++) {
		if ((ix[a][0] = malloc(odims[a] * sizeof(int))) == NULL ||
		    (ix[a][1] = malloc(odims[a] * sizeof(int))) == NULL ||
		    (fx[a] = malloc(odims[a] * sizeof(double))) == NULL) {
			(void)cpu_fail(c, "resample: out of memory");
			goto out;
		}
		for (o = 0; o < odims[a]; o++) {
			p = o * ospacing[a] / spacing[a];
			ix[a][0][o] = (int)floor(p);
			if (ix[a][0][o] > dims[a] - 2)
				ix[a][0][o] = dims[a] - 2;
			if (ix[a][0][o] < 0)
				ix[a][0][o] = 0;
			ix[a][1][o] = dims[a] > 1 ? ix[a][0][o] + 1 : 0;
			fx[a][o] = dims[a] > 1 ? p - ix[a][0][o] : 0;
		}
	}
	OMP_FOR
	for (z = 0; z < odims[2]; z++) {
		const float	*r00, *r10, *r01, *r11;
		const int	*x0 = ix[0][0], *x1 = ix[0][1];
		const double	*f0 = fx[0];
		double		 f1, f2;
		int		 x, y;
		float		 v000, v100, v010, v110, v001, v101, v011,
				 v111;

		f2 = fx[2][z];
		for (y = 0; y < odims[1]; y++) {
			f1 = fx[1][y];
			r00 = in + IDX(dims, 0, ix[1][0][y], ix[2][0][z]);
			r10 = in + IDX(dims, 0, ix[1][1][y], ix[2][0][z]);
			r01 = in + IDX(dims, 0, ix[1][0][y], ix[2][1][z]);
			r11 = in + IDX(dims, 0, ix[1][1][y], ix[2][1][z]);
			for (x = 0; x < odims[0]; x++) {
				v000 = r00[x0[x]];
				v100 = r00[x1[x]];
				v010 = r10[x0[x]];
				v110 = r10[x1[x]];
				v001 = r01[x0[x]];
				v101 = r01[x1[x]];
				v011 = r11[x0[x]];
				v111 = r11[x1[x]];
				out[IDX(odims, x, y, z)] = (float)(
				    (1 - f2) * ((1 - f1) * ((1 - f0[x]) *
				    v000 + f0[x] * v100) + f1 * ((1 - f0[x]) *
				    v010 + f0[x] * v110)) +
				    f2 * ((1 - f1) * ((1 - f0[x]) * v001 +
				    f0[x] * v101) + f1 * ((1 - f0[x]) * v011 +
				    f0[x] * v111)));
			}
		}
	}
	rc = 0;
out:
	for (a = 0; a < 3; a++) {
		free(ix[a][0]);
		free(ix[a][1]);
		free(fx[a]);
	}
	return rc;
}

static const struct compute_ops cpu_ops = {
	cpu_close,
	cpu_clamp,
	cpu_window,
	cpu_threshold,
	cpu_label,
	cpu_morph,
	cpu_gauss,
	cpu_resample,
};

/*
 * Open the CPU backend.  Returns NULL only when out of memory.
 */
struct compute *
compute_cpu_open(void)
{
	struct compute	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->ops = &cpu_ops;
	c->kind = COMPUTE_CPU;
#ifdef _OPENMP
	(void)snprintf(c->device, sizeof(c->device), "CPU, %d OpenMP threads",
	    omp_get_max_threads());
#else
	(void)snprintf(c->device, sizeof(c->device), "CPU, one thread");
#endif
	return c;
}

struct compute *
compute_open(const char *which, char *err, size_t errlen)
{
	struct compute	*c = NULL;

	if (strcmp(which, "cuda") == 0) {
#ifdef HAVE_CUDA
		c = compute_cuda_open(err, errlen);
#else
		errfmt(err, errlen, "the CUDA backend is not in this build");
#endif
	} else if (strcmp(which, "auto") == 0) {
#ifdef HAVE_CUDA
		if (compute_cuda_devices() > 0)
			c = compute_cuda_open(err, errlen);
#endif
		if (c == NULL)
			c = compute_cpu_open();
	} else if (strcmp(which, "cpu") == 0)
		c = compute_cpu_open();
	else
		errfmt(err, errlen, "unknown compute backend '%s' (auto, cuda"
		    " or cpu)", which);
	if (c == NULL) {
		if (err != NULL && errlen > 0 && *err == '\0')
			errfmt(err, errlen, "out of memory");
		return NULL;
	}
	log_info("compute backend %s (asked for %s): %s",
	    compute_kind_names[c->kind], which, c->device);
	return c;
}

void
compute_close(struct compute *c)
{
	if (c != NULL)
		c->ops->close(c);
}

const char *
compute_error(const struct compute *c)
{
	return c->error;
}

int
compute_clamp(struct compute *c, float *out, const float *in, size_t n,
    float lo, float hi)
{
	return c->ops->clamp(c, out, in, n, lo, hi);
}

int
compute_window(struct compute *c, float *out, const float *in, size_t n,
    float center, float width)
{
	return c->ops->window(c, out, in, n, center, width);
}

int
compute_threshold(struct compute *c, uint8_t *mask, const float *in,
    size_t n, float lo, float hi)
{
	return c->ops->threshold(c, mask, in, n, lo, hi);
}

int
compute_label(struct compute *c, int32_t *labels, const uint8_t *mask,
    const float *val, const int dims[3], int connectivity,
    struct cc_stats **stats, size_t *n)
{
	return c->ops->label(c, labels, mask, val, dims, connectivity, stats,
	    n);
}

int
compute_morph(struct compute *c, uint8_t *out, const uint8_t *in,
    const int dims[3], enum morph_op op, enum morph_shape shape, int r)
{
	return c->ops->morph(c, out, in, dims, op, shape, r);
}

int
compute_gauss(struct compute *c, float *out, const float *in,
    const int dims[3], const double spacing[3], const double sigma_mm[3])
{
	return c->ops->gauss(c, out, in, dims, spacing, sigma_mm);
}

int
compute_resample(struct compute *c, float *out, const int odims[3],
    const float *in, const int dims[3], const double spacing[3],
    const double ospacing[3])
{
	return c->ops->resample(c, out, odims, in, dims, spacing, ospacing);
}
