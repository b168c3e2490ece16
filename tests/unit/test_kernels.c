/*
 * test_kernels.c - the compute kernels against results known in closed
 * form, on the CPU backend; and the CUDA backend against the CPU one
 * where a CUDA device is present (skipped otherwise).
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

#include "compute.h"

#define IDX(d, x, y, z)	(((size_t)(z) * (size_t)(d)[1] + (size_t)(y)) * \
			    (size_t)(d)[0] + (size_t)(x))

static size_t
count(const int d[3])
{
	return (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
}

static int
setup(void **state)
{
	*state = compute_cpu_open();
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	compute_close(*state);
	return 0;
}

static void
test_clamp_window_threshold(void **state)
{
	struct compute	*c = *state;
	float		 in[6] = { -2000, -1000, -600, 40, 400, 3000 };
	float		 out[6];
	uint8_t		 m[6];

	assert_int_equal(compute_clamp(c, out, in, 6, -1024, 1500), 0);
	assert_true(out[0] == -1024 && out[1] == -1000 && out[5] == 1500);
	assert_true(out[3] == 40);
	/* Lung window: center -600, width 1500 spans -1350..150. */
	assert_int_equal(compute_window(c, out, in, 6, -600, 1500), 0);
	assert_true(out[0] == 0 && out[4] == 1 && out[5] == 1);
	assert_float_equal(out[2], 0.5, 1e-6);
	assert_float_equal(out[1], 350.0 / 1500, 1e-6);
	assert_int_equal(compute_window(c, out, in, 6, 0, 0), -1);
	assert_int_equal(compute_clamp(c, out, in, 6, 1, 0), -1);
	/* Bounds are inclusive. */
	assert_int_equal(compute_threshold(c, m, in, 6, -1000, 40), 0);
	assert_memory_equal(m, ((uint8_t[]){ 0, 1, 1, 1, 0, 0 }), 6);
}

/* A delta in the middle becomes the sampled normalised kernel, the
 * product of the three axes' kernels. */
static void
test_gauss_delta(void **state)
{
	struct compute	*c = *state;
	int		 d[3] = { 21, 19, 17 }, x, y, z, r[3], k;
	double		 sp[3] = { 0.5, 1.0, 2.5 }, sg[3] = { 1.0, 1.5, 5.0 };
	double		 w[3][32], sum, s, total = 0;
	float		*in, *out;

	in = calloc(count(d), sizeof(*in));
	out = calloc(count(d), sizeof(*out));
	assert_non_null(in);
	assert_non_null(out);
	in[IDX(d, 10, 9, 8)] = 1000;
	assert_int_equal(compute_gauss(c, out, in, d, sp, sg), 0);
	for (k = 0; k < 3; k++) {
		s = sg[k] / sp[k];
		r[k] = (int)ceil(3 * s);
		for (sum = 0, x = -r[k]; x <= r[k]; x++)
			sum += exp(-(double)x * x / (2 * s * s));
		for (x = -r[k]; x <= r[k]; x++)
			w[k][x + r[k]] = exp(-(double)x * x / (2 * s * s)) /
			    sum;
	}
	/* sigma in voxels 2, 1.5, 2: radii 6, 5, 6 fit inside. */
	assert_int_equal(r[0], 6);
	assert_int_equal(r[1], 5);
	assert_int_equal(r[2], 6);
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				double	 want = 0;

				if (abs(x - 10) <= r[0] && abs(y - 9) <= r[1] &&
				    abs(z - 8) <= r[2])
					want = 1000 * w[0][x - 10 + r[0]] *
					    w[1][y - 9 + r[1]] *
					    w[2][z - 8 + r[2]];
				assert_float_equal(out[IDX(d, x, y, z)], want,
				    1e-4);
				total += out[IDX(d, x, y, z)];
			}
	/* The sum is kept. */
	assert_float_equal(total, 1000, 1e-2);
	free(in);
	free(out);
}

/* A random field away from the edges keeps its sum; a constant stays. */
static void
test_gauss_sum(void **state)
{
	struct compute	*c = *state;
	int		 d[3] = { 40, 40, 40 }, x, y, z;
	double		 sp[3] = { 1, 1, 1 }, sg[3] = { 1.2, 0.8, 2 };
	double		 sin_ = 0, sout = 0;
	float		*in, *out;
	size_t		 i;

	in = calloc(count(d), sizeof(*in));
	out = calloc(count(d), sizeof(*out));
	assert_non_null(in);
	assert_non_null(out);
	srand(7);
	for (z = 10; z < 30; z++)
		for (y = 10; y < 30; y++)
			for (x = 10; x < 30; x++) {
				in[IDX(d, x, y, z)] = (float)(rand() % 2000);
				sin_ += in[IDX(d, x, y, z)];
			}
	assert_int_equal(compute_gauss(c, out, in, d, sp, sg), 0);
	for (i = 0; i < count(d); i++)
		sout += out[i];
	assert_float_equal(sout / sin_, 1.0, 1e-5);
	for (i = 0; i < count(d); i++)
		in[i] = -500;
	assert_int_equal(compute_gauss(c, out, in, d, sp, sg), 0);
	for (i = 0; i < count(d); i++)
		assert_float_equal(out[i], -500, 1e-3);
}

/*
 * The Gaussian as the backend defines it, one voxel at a time (what
 * cpu.c computed before its rows were summed side by side, and what the
 * CUDA kernel k_gauss_axis computes): the float weights of gauss_kernel(),
 * each axis in turn, each voxel's sum over k = -r..r in that order in
 * double with the edge voxel repeated, rounded to float between axes.
 */
static void
ref_gauss(float *out, const float *in, const int d[3], const double sp[3],
    const double sg[3])
{
	float	*tmp, w[128];
	double	 sum, sigma, s;
	int	 a, k, r, x, y, z, p[3], q, base;

	tmp = malloc(count(d) * sizeof(*tmp));
	assert_non_null(tmp);
	memcpy(out, in, count(d) * sizeof(*out));
	for (a = 0; a < 3; a++) {
		if (sg[a] == 0)
			continue;
		sigma = sg[a] / sp[a];
		r = (int)ceil(3 * sigma);
		r = r < 1 ? 1 : r;
		assert_true(2 * r + 1 <= 128);
		for (sum = 0, k = -r; k <= r; k++)
			sum += exp(-(double)k * k / (2 * sigma * sigma));
		for (k = -r; k <= r; k++)
			w[k + r] = (float)(exp(-(double)k * k /
			    (2 * sigma * sigma)) / sum);
		memcpy(tmp, out, count(d) * sizeof(*tmp));
		for (z = 0; z < d[2]; z++)
			for (y = 0; y < d[1]; y++)
				for (x = 0; x < d[0]; x++) {
					p[0] = x;
					p[1] = y;
					p[2] = z;
					base = p[a];
					s = 0;
					for (k = -r; k <= r; k++) {
						q = base + k;
						q = q < 0 ? 0 : q >= d[a] ?
						    d[a] - 1 : q;
						p[a] = q;
						s += (double)w[k + r] *
						    tmp[IDX(d, p[0], p[1], p[2])];
					}
					out[IDX(d, x, y, z)] = (float)s;
				}
	}
	free(tmp);
}

/*
 * The backend's Gaussian is the reference's to the bit: random values,
 * volumes narrower than the kernel along some axis (the edge repeated
 * for most weights), one, two or three axes smoothed, and in place.
 */
static void
test_gauss_exact(void **state)
{
	static const struct {
		int	 d[3];
		double	 sp[3], sg[3];
	} cs[] = {
		{ { 37, 23, 19 }, { 0.68, 0.68, 1.25 }, { 1.0, 1.0, 1.0 } },
		{ { 3, 29, 5 }, { 0.5, 0.7, 0.6 }, { 2.0, 0.9, 3.1 } },
		{ { 1, 1, 9 }, { 1, 1, 1 }, { 1.5, 1.5, 1.5 } },
		{ { 17, 8, 13 }, { 0.8, 0.8, 2.5 }, { 0, 2.2, 0 } },
		{ { 16, 15, 14 }, { 0.8, 0.8, 2.5 }, { 1.7, 0, 1.1 } },
		{ { 12, 11, 10 }, { 1, 1, 1 }, { 0, 0, 0 } },
	};
	struct compute	*c = *state;
	float		*in, *out, *want;
	size_t		 i, t, n;

	srand(11);
	for (t = 0; t < sizeof(cs) / sizeof(cs[0]); t++) {
		n = count(cs[t].d);
		in = malloc(n * sizeof(*in));
		out = malloc(n * sizeof(*out));
		want = malloc(n * sizeof(*want));
		assert_non_null(in);
		assert_non_null(out);
		assert_non_null(want);
		for (i = 0; i < n; i++)
			in[i] = (float)(rand() % 4001 - 2000) / 7.0f;
		ref_gauss(want, in, cs[t].d, cs[t].sp, cs[t].sg);
		assert_int_equal(compute_gauss(c, out, in, cs[t].d, cs[t].sp,
		    cs[t].sg), 0);
		assert_memory_equal(out, want, n * sizeof(*out));
		/* In place. */
		memcpy(out, in, n * sizeof(*out));
		assert_int_equal(compute_gauss(c, out, out, cs[t].d, cs[t].sp,
		    cs[t].sg), 0);
		assert_memory_equal(out, want, n * sizeof(*out));
		free(in);
		free(out);
		free(want);
	}
}

static void
fill_box(uint8_t *m, const int d[3], int x0, int y0, int z0, int x1, int y1,
    int z1)
{
	int	 x, y, z;

	for (z = z0; z <= z1; z++)
		for (y = y0; y <= y1; y++)
			for (x = x0; x <= x1; x++)
				m[IDX(d, x, y, z)] = 1;
}

static void
test_components(void **state)
{
	struct compute	*c = *state;
	int		 d[3] = { 20, 16, 12 };
	uint8_t		*m;
	int32_t		*lab;
	float		*val;
	struct cc_stats	*st;
	size_t		 n, i;

	m = calloc(count(d), 1);
	lab = calloc(count(d), sizeof(*lab));
	val = calloc(count(d), sizeof(*val));
	assert_non_null(m);
	assert_non_null(lab);
	assert_non_null(val);
	for (i = 0; i < count(d); i++)
		val[i] = 1;
	/* A 3x4x5 block, a single voxel, and two voxels that touch only at
	 * a corner: 26-connected, not 6-connected. */
	fill_box(m, d, 2, 3, 1, 4, 6, 5);
	val[IDX(d, 3, 4, 2)] = 90;
	m[IDX(d, 15, 2, 0)] = 1;
	m[IDX(d, 10, 10, 8)] = 1;
	m[IDX(d, 11, 11, 9)] = 1;
	val[IDX(d, 11, 11, 9)] = 7;

	assert_int_equal(compute_label(c, lab, m, val, d, 6, &st, &n), 0);
	assert_int_equal(n, 4);
	/* Numbered by first voxel in memory order: the single voxel at z 0
	 * comes first. */
	assert_int_equal(lab[IDX(d, 15, 2, 0)], 1);
	assert_int_equal(st[0].count, 1);
	assert_int_equal(lab[IDX(d, 2, 3, 1)], 2);
	assert_int_equal(st[1].count, 3 * 4 * 5);
	assert_true(st[1].x0 == 2 && st[1].y0 == 3 && st[1].z0 == 1);
	assert_true(st[1].x1 == 4 && st[1].y1 == 6 && st[1].z1 == 5);
	assert_float_equal(st[1].max, 90, 0);
	assert_float_equal(st[1].sum, 59 + 90, 1e-9);
	assert_int_equal(st[2].count, 1);
	assert_int_equal(st[3].count, 1);
	assert_int_equal(lab[IDX(d, 0, 0, 0)], 0);
	free(st);

	assert_int_equal(compute_label(c, lab, m, val, d, 26, &st, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(st[2].count, 2);
	assert_true(st[2].x0 == 10 && st[2].x1 == 11 && st[2].z0 == 8 &&
	    st[2].z1 == 9);
	assert_float_equal(st[2].max, 7, 0);
	assert_float_equal(st[2].sum, 8, 1e-9);
	assert_int_equal(lab[IDX(d, 10, 10, 8)], lab[IDX(d, 11, 11, 9)]);
	free(st);

	/* A U shape: its arms meet only at the bottom, after both started. */
	memset(m, 0, count(d));
	fill_box(m, d, 1, 1, 0, 1, 10, 0);
	fill_box(m, d, 8, 1, 0, 8, 10, 0);
	fill_box(m, d, 1, 10, 0, 8, 10, 0);
	assert_int_equal(compute_label(c, lab, m, NULL, d, 6, &st, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].count, 10 + 10 + 6);
	assert_true(st[0].y0 == 1 && st[0].y1 == 10);
	free(st);

	memset(m, 0, count(d));
	assert_int_equal(compute_label(c, lab, m, NULL, d, 6, &st, &n), 0);
	assert_int_equal(n, 0);
	assert_null(st);
	assert_int_equal(compute_label(c, lab, m, NULL, d, 8, &st, &n), -1);
	free(m);
	free(lab);
	free(val);
}

/*
 * The components of m by a flood fill from each voxel not yet reached,
 * in memory order: numbered 1.. by their first voxel, as compute_label()
 * numbers them.  Returns the number of components.
 */
static int32_t
flood_label(const uint8_t *m, const int d[3], int conn, int32_t *lab)
{
	size_t	 n = count(d), i, *stack, top;
	int32_t	 k = 0;
	int	 x, y, z, dx, dy, dz, xx, yy, zz;

	assert_non_null(stack = malloc(n * sizeof(*stack)));
	memset(lab, 0, n * sizeof(*lab));
	for (i = 0; i < n; i++) {
		if (!m[i] || lab[i] != 0)
			continue;
		lab[i] = ++k;
		stack[0] = i;
		top = 1;
		while (top > 0) {
			size_t	 j = stack[--top];

			x = (int)(j % (size_t)d[0]);
			y = (int)(j / (size_t)d[0] % (size_t)d[1]);
			z = (int)(j / ((size_t)d[0] * (size_t)d[1]));
			for (dz = -1; dz <= 1; dz++)
			for (dy = -1; dy <= 1; dy++)
			for (dx = -1; dx <= 1; dx++) {
				if (conn == 6 && abs(dx) + abs(dy) + abs(dz) != 1)
					continue;
				xx = x + dx;
				yy = y + dy;
				zz = z + dz;
				if (xx < 0 || yy < 0 || zz < 0 || xx >= d[0] ||
				    yy >= d[1] || zz >= d[2] ||
				    !m[IDX(d, xx, yy, zz)] ||
				    lab[IDX(d, xx, yy, zz)] != 0)
					continue;
				lab[IDX(d, xx, yy, zz)] = k;
				stack[top++] = IDX(d, xx, yy, zz);
			}
		}
	}
	free(stack);
	return k;
}

/*
 * The labelling cut into slabs of planes (one per half a thread) gives
 * the labels of a flood fill, to the voxel, with the statistics of one
 * pass: random masks of several densities, whose components cross the
 * slabs' seams many times, among them helices that climb through every
 * plane and join only at the top, for both connectivities; and volumes
 * of fewer planes than slabs.
 */
static void
test_components_seams(void **state)
{
	struct compute	*c = *state;
	static const int dims[][3] = {
		{ 37, 23, 29 }, { 64, 64, 61 }, { 5, 7, 3 }, { 9, 4, 1 },
	};
	static const unsigned dens[] = { 15, 35, 60 };	/* percent */
	struct cc_stats	*st;
	uint8_t		*m;
	int32_t		*lab, *ref;
	float		*val;
	size_t		 n, i, nv;
	unsigned	 seed = 12345;
	int		 di, ri, conn, k, x, y, z;

	for (di = 0; di < (int)(sizeof(dims) / sizeof(dims[0])); di++) {
		const int	*d = dims[di];

		nv = count(d);
		assert_non_null(m = malloc(nv));
		assert_non_null(lab = malloc(nv * sizeof(*lab)));
		assert_non_null(ref = malloc(nv * sizeof(*ref)));
		assert_non_null(val = malloc(nv * sizeof(*val)));
		for (i = 0; i < nv; i++) {
			seed = seed * 1103515245U + 12345U;
			val[i] = (float)((seed >> 8) % 1000);
		}
		for (ri = 0; ri < (int)(sizeof(dens) / sizeof(dens[0])) + 1;
		    ri++) {
			if (ri < (int)(sizeof(dens) / sizeof(dens[0])))
				for (i = 0; i < nv; i++) {
					seed = seed * 1103515245U + 12345U;
					m[i] = (seed >> 16) % 100 < dens[ri];
				}
			else {
				/* Two helices up the volume, one plane a
				 * step, joined by a bridge on the last. */
				memset(m, 0, nv);
				for (z = 0; z < d[2]; z++) {
					x = z % d[0];
					m[IDX(d, x, 0, z)] = 1;
					m[IDX(d, d[0] - 1 - x, d[1] - 1, z)] = 1;
				}
				for (y = 0; y < d[1]; y++)
					m[IDX(d, (d[2] - 1) % d[0], y,
					    d[2] - 1)] = 1;
				for (x = 0; x < d[0]; x++)
					m[IDX(d, x, d[1] - 1, d[2] - 1)] = 1;
			}
			for (conn = 6; conn <= 26; conn += 20) {
				k = flood_label(m, d, conn, ref);
				assert_int_equal(compute_label(c, lab, m, val,
				    d, conn, &st, &n), 0);
				assert_int_equal(n, (size_t)k);
				assert_memory_equal(lab, ref, nv * sizeof(*lab));
				for (i = 0; i < nv; i++)
					if (lab[i] > 0)
						st[lab[i] - 1].count--;
				for (i = 0; i < n; i++)
					assert_int_equal(st[i].count, 0);
				free(st);
			}
		}
		free(m);
		free(lab);
		free(ref);
		free(val);
	}
}

static size_t
ones(const uint8_t *m, size_t n)
{
	size_t	 i, k = 0;

	for (i = 0; i < n; i++)
		k += m[i] != 0;
	return k;
}

static void
test_morphology(void **state)
{
	struct compute	*c = *state;
	int		 d[3] = { 24, 24, 24 }, x, y, z, inside;
	uint8_t		*m, *out;

	m = calloc(count(d), 1);
	out = calloc(count(d), 1);
	assert_non_null(m);
	assert_non_null(out);
	/* A 9^3 cube at 8..16. */
	fill_box(m, d, 8, 8, 8, 16, 16, 16);
	assert_int_equal(compute_morph(c, out, m, d, MORPH_ERODE, MORPH_BOX, 2),
	    0);
	assert_int_equal(ones(out, count(d)), 5 * 5 * 5);
	assert_int_equal(out[IDX(d, 10, 10, 10)], 1);
	assert_int_equal(out[IDX(d, 9, 10, 10)], 0);
	assert_int_equal(compute_morph(c, out, m, d, MORPH_DILATE, MORPH_BOX,
	    2), 0);
	assert_int_equal(ones(out, count(d)), 13 * 13 * 13);
	/* The cross of radius 1 erodes a cube like the box: by one face. */
	assert_int_equal(compute_morph(c, out, m, d, MORPH_ERODE, MORPH_CROSS,
	    1), 0);
	assert_int_equal(ones(out, count(d)), 7 * 7 * 7);
	/* Dilated by the cross of radius 2: the voxels within L1 distance 2
	 * of the cube. */
	assert_int_equal(compute_morph(c, out, m, d, MORPH_DILATE, MORPH_CROSS,
	    2), 0);
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				int	 dx = x < 8 ? 8 - x : x > 16 ? x - 16 : 0;
				int	 dy = y < 8 ? 8 - y : y > 16 ? y - 16 : 0;
				int	 dz = z < 8 ? 8 - z : z > 16 ? z - 16 : 0;

				inside = dx + dy + dz <= 2;
				assert_int_equal(out[IDX(d, x, y, z)], inside);
			}
	/* Radius 0 copies; outside the volume is background. */
	assert_int_equal(compute_morph(c, out, m, d, MORPH_ERODE, MORPH_BOX, 0),
	    0);
	assert_memory_equal(out, m, count(d));
	memset(m, 1, count(d));
	assert_int_equal(compute_morph(c, out, m, d, MORPH_ERODE, MORPH_BOX, 1),
	    0);
	assert_int_equal(ones(out, count(d)), 22 * 22 * 22);
	free(m);
	free(out);
}

/* Linear ramps are reproduced exactly by trilinear interpolation. */
static void
test_resample(void **state)
{
	struct compute	*c = *state;
	int		 d[3] = { 11, 9, 7 }, od[3], x, y, z;
	double		 sp[3] = { 0.7, 0.8, 2.5 }, osp[3] = { 0.5, 1.1, 1.0 };
	double		 px, py, pz;
	float		*in, *out;

	in = calloc(count(d), sizeof(*in));
	assert_non_null(in);
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++)
				in[IDX(d, x, y, z)] = (float)(3 * x * sp[0] -
				    2 * y * sp[1] + 0.5 * z * sp[2] + 100);
	compute_resample_dims(d, sp, osp, od);
	/* (11 - 1) * 0.7 / 0.5 = 14; 8 * 0.8 / 1.1 = 5.8; 6 * 2.5 = 15. */
	assert_int_equal(od[0], 15);
	assert_int_equal(od[1], 6);
	assert_int_equal(od[2], 16);
	out = calloc(count(od), sizeof(*out));
	assert_non_null(out);
	assert_int_equal(compute_resample(c, out, od, in, d, sp, osp), 0);
	for (z = 0; z < od[2]; z++)
		for (y = 0; y < od[1]; y++)
			for (x = 0; x < od[0]; x++) {
				px = x * osp[0];
				py = y * osp[1];
				pz = z * osp[2];
				assert_float_equal(out[IDX(od, x, y, z)],
				    3 * px - 2 * py + 0.5 * pz + 100, 1e-3);
			}
	free(in);
	free(out);
}

/*
 * Trilinear resampling as the backend defines it, one voxel at a time
 * (what cpu.c computed before it worked each axis' neighbours out once,
 * and what the CUDA kernel k_resample computes).
 */
static void
ref_resample(float *out, const int od[3], const float *in, const int d[3],
    const double sp[3], const double osp[3])
{
	int	 x, y, z, b, i0[3], i1[3], o[3];
	double	 f[3], p;
	float	 v000, v100, v010, v110, v001, v101, v011, v111;

	for (z = 0; z < od[2]; z++)
		for (y = 0; y < od[1]; y++)
			for (x = 0; x < od[0]; x++) {
				o[0] = x;
				o[1] = y;
				o[2] = z;
				for (b = 0; b < 3; b++) {
					p = o[b] * osp[b] / sp[b];
					i0[b] = (int)floor(p);
					if (i0[b] > d[b] - 2)
						i0[b] = d[b] - 2;
					if (i0[b] < 0)
						i0[b] = 0;
					i1[b] = d[b] > 1 ? i0[b] + 1 : 0;
					f[b] = d[b] > 1 ? p - i0[b] : 0;
				}
				v000 = in[IDX(d, i0[0], i0[1], i0[2])];
				v100 = in[IDX(d, i1[0], i0[1], i0[2])];
				v010 = in[IDX(d, i0[0], i1[1], i0[2])];
				v110 = in[IDX(d, i1[0], i1[1], i0[2])];
				v001 = in[IDX(d, i0[0], i0[1], i1[2])];
				v101 = in[IDX(d, i1[0], i0[1], i1[2])];
				v011 = in[IDX(d, i0[0], i1[1], i1[2])];
				v111 = in[IDX(d, i1[0], i1[1], i1[2])];
				out[IDX(od, x, y, z)] = (float)(
				    (1 - f[2]) * ((1 - f[1]) * ((1 - f[0]) *
				    v000 + f[0] * v100) + f[1] * ((1 - f[0]) *
				    v010 + f[0] * v110)) +
				    f[2] * ((1 - f[1]) * ((1 - f[0]) * v001 +
				    f[0] * v101) + f[1] * ((1 - f[0]) * v011 +
				    f[0] * v111)));
			}
}

/*
 * The backend's resampling is the reference's to the bit: random values,
 * finer and coarser grids, an axis of one voxel, and an output grid
 * reaching past the input (the last pair of voxels extrapolated).
 */
static void
test_resample_exact(void **state)
{
	static const struct {
		int	 d[3], od[3];
		double	 sp[3], osp[3];
	} cs[] = {
		{ { 37, 23, 19 }, { 0, 0, 0 }, { 0.68, 0.68, 1.25 },
		    { 1.5, 1.5, 1.5 } },
		{ { 13, 11, 9 }, { 0, 0, 0 }, { 0.9, 0.7, 2.5 },
		    { 0.33, 0.45, 0.6 } },
		{ { 1, 7, 5 }, { 0, 0, 0 }, { 1, 1, 1 }, { 0.5, 0.4, 0.3 } },
		{ { 9, 8, 7 }, { 14, 3, 11 }, { 1, 1, 1 }, { 0.8, 3.1, 0.9 } },
	};
	struct compute	*c = *state;
	float		*in, *out, *want;
	size_t		 i, t, n, on;
	int		 od[3];

	srand(13);
	for (t = 0; t < sizeof(cs) / sizeof(cs[0]); t++) {
		n = count(cs[t].d);
		if (cs[t].od[0] > 0)
			memcpy(od, cs[t].od, sizeof(od));
		else
			compute_resample_dims(cs[t].d, cs[t].sp, cs[t].osp, od);
		on = count(od);
		in = malloc(n * sizeof(*in));
		out = malloc(on * sizeof(*out));
		want = malloc(on * sizeof(*want));
		assert_non_null(in);
		assert_non_null(out);
		assert_non_null(want);
		for (i = 0; i < n; i++)
			in[i] = (float)(rand() % 4001 - 2000) / 7.0f;
		ref_resample(want, od, in, cs[t].d, cs[t].sp, cs[t].osp);
		assert_int_equal(compute_resample(c, out, od, in, cs[t].d,
		    cs[t].sp, cs[t].osp), 0);
		assert_memory_equal(out, want, on * sizeof(*out));
		free(in);
		free(out);
		free(want);
	}
}

/* Every operation on the CUDA backend gives the CPU's answer. */
static void
test_cuda_agrees(void **state)
{
#ifdef HAVE_CUDA
	struct compute	*cpu = *state, *gpu;
	char		 err[256];
	int		 d[3] = { 64, 48, 40 }, od[3], conn, i;
	double		 sp[3] = { 0.7, 0.7, 1.25 }, sg[3] = { 1.5, 1.5, 2.0 };
	double		 osp[3] = { 1, 1, 1 };
	size_t		 n = count(d), k, na, nb;
	float		*in, *a, *b, *ra, *rb;
	uint8_t		*m, *ma, *mb;
	int32_t		*la, *lb;
	struct cc_stats	*sa, *sb;

	if (compute_cuda_devices() == 0)
		skip();
	gpu = compute_cuda_open(err, sizeof(err));
	assert_non_null(gpu);
	in = malloc(n * sizeof(*in));
	a = malloc(n * sizeof(*a));
	b = malloc(n * sizeof(*b));
	m = malloc(n);
	ma = malloc(n);
	mb = malloc(n);
	la = malloc(n * sizeof(*la));
	lb = malloc(n * sizeof(*lb));
	assert_true(in && a && b && m && ma && mb && la && lb);
	srand(11);
	for (k = 0; k < n; k++)
		in[k] = (float)(rand() % 3000 - 1200);
	assert_int_equal(compute_clamp(cpu, a, in, n, -1000, 400), 0);
	assert_int_equal(compute_clamp(gpu, b, in, n, -1000, 400), 0);
	assert_memory_equal(a, b, n * sizeof(*a));
	assert_int_equal(compute_window(cpu, a, in, n, -600, 1500), 0);
	assert_int_equal(compute_window(gpu, b, in, n, -600, 1500), 0);
	for (k = 0; k < n; k++)
		assert_float_equal(a[k], b[k], 1e-6);
	assert_int_equal(compute_threshold(cpu, ma, in, n, 200, 3000), 0);
	assert_int_equal(compute_threshold(gpu, mb, in, n, 200, 3000), 0);
	assert_memory_equal(ma, mb, n);
	memcpy(m, ma, n);
	for (conn = 6; conn <= 26; conn += 20) {
		assert_int_equal(compute_label(cpu, la, m, in, d, conn, &sa,
		    &na), 0);
		assert_int_equal(compute_label(gpu, lb, m, in, d, conn, &sb,
		    &nb), 0);
		assert_int_equal(na, nb);
		assert_memory_equal(la, lb, n * sizeof(*la));
		for (k = 0; k < na; k++) {
			assert_int_equal(sa[k].count, sb[k].count);
			assert_float_equal(sa[k].sum, sb[k].sum, 1e-6);
		}
		free(sa);
		free(sb);
	}
	for (i = 0; i < MORPH_OP__MAX * MORPH_SHAPE__MAX; i++) {
		assert_int_equal(compute_morph(cpu, ma, m, d, i % 2, i / 2, 2),
		    0);
		assert_int_equal(compute_morph(gpu, mb, m, d, i % 2, i / 2, 2),
		    0);
		assert_memory_equal(ma, mb, n);
	}
	assert_int_equal(compute_gauss(cpu, a, in, d, sp, sg), 0);
	assert_int_equal(compute_gauss(gpu, b, in, d, sp, sg), 0);
	for (k = 0; k < n; k++)
		assert_float_equal(a[k], b[k], 1e-2);
	compute_resample_dims(d, sp, osp, od);
	ra = malloc(count(od) * sizeof(*ra));
	rb = malloc(count(od) * sizeof(*rb));
	assert_true(ra && rb);
	assert_int_equal(compute_resample(cpu, ra, od, in, d, sp, osp), 0);
	assert_int_equal(compute_resample(gpu, rb, od, in, d, sp, osp), 0);
	for (k = 0; k < count(od); k++)
		assert_float_equal(ra[k], rb[k], 1e-2);
	free(ra);
	free(rb);
	free(in);
	free(a);
	free(b);
	free(m);
	free(ma);
	free(mb);
	free(la);
	free(lb);
	compute_close(gpu);
#else
	(void)state;
	skip();
#endif
}

static void
test_open(void **state)
{
	struct compute	*c;
	char		 err[256] = "";

	(void)state;
	assert_null(compute_open("tpu", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown compute backend"));
	c = compute_open("cpu", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->kind, COMPUTE_CPU);
	compute_close(c);
	/* auto always gives a backend: CUDA with a device, else the CPU. */
	c = compute_open("auto", err, sizeof(err));
	assert_non_null(c);
	compute_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clamp_window_threshold),
		cmocka_unit_test(test_gauss_delta),
		cmocka_unit_test(test_gauss_sum),
		cmocka_unit_test(test_gauss_exact),
		cmocka_unit_test(test_components),
		cmocka_unit_test(test_components_seams),
		cmocka_unit_test(test_morphology),
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_resample_exact),
		cmocka_unit_test(test_cuda_agrees),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
