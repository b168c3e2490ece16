/*
 * test_lobes.c - the lobes from the fissures, on synthetic lungs whose
 * fissures are known, and on a real chest CT.
 *
 * The synthetic chest (built here): two ellipsoidal lungs of -850 HU in
 * soft tissue of 40 HU, with vessels (tubes of 40 HU from each hilum),
 * and the three fissures as curved sheets of 1 mm (a Gaussian profile of
 * 0.45 mm standard deviation, -700 HU at its middle) over known surfaces
 * z = f(x, y), then Gaussian noise of 20 HU.  The lobes follow from the
 * same surfaces.  The reader's fissure is where its labels change along
 * z; its distance from the truth, along the normal, is averaged over the
 * lung (the mean fissure distance of Qi et al., 2014), and compared
 * within 2 mm; the labels within 95 % per voxel.  Variants: half of the
 * right oblique fissure missing (an incomplete fissure: still within
 * 4 mm, and not seen whole), the left oblique one absent (the geometric
 * fallback, said in the method text), the slices stored from the head
 * down (the lobes follow the patient's axes, not the voxels'), and the
 * left lung left out of the mask.  The noise, 45 HU, is that of a thin
 * lung reconstruction; the fits hold at twice as much.
 *
 * The real-data test reads $ZY_DATA or ../shared/data and skips without.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "anatomy.h"
#include "buf.h"
#include "compute.h"
#include "lobes.h"
#include "preview.h"
#include "realdata.h"
#include "series.h"

static struct compute	*cpu;

static void	 pictures(const struct series_volume *, const uint8_t *,
		    const uint8_t *, const char *);

static int
setup(void **state)
{
	(void)state;
	cpu = compute_cpu_open();
	return cpu == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	compute_close(cpu);
	return 0;
}

static double
now(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- the synthetic chest ---- */

#define SX	1.0
#define SY	1.0
#define SZ	1.25
#define NX	220
#define NY	170
#define NZ	176
#define LUNG_HU	-850.0
#define SHEET_HU 150.0		/* over the lung: -700 at the middle */
#define SHEET_SD 0.45		/* mm: a 1 mm sheet */
#define NOISE_HU 45.0

enum { F_RO, F_RH, F_LO };

/* The lungs: ellipsoids (centre, semi-axes; mm). */
static const double lung_c[2][3] = { { 60, 85, 110 }, { 160, 85, 110 } };
static const double lung_r[2][3] = { { 40, 65, 95 }, { 38, 65, 95 } };

/* The fissures' heights z = f(x, y) and their slopes. */
static double
fis_z(int f, double x, double y, double *gx, double *gy)
{
	double	 dy = y - 85;

	switch (f) {
	case F_RO:
		*gx = 0.08;
		*gy = 1.0 + 0.006 * dy;
		return 105 + dy + 0.08 * (x - 60) + 0.003 * dy * dy;
	case F_RH:
		*gx = 0;
		*gy = 0.05;
		return 135 + 0.05 * dy;
	default:
		*gx = -0.08;
		*gy = 1.2 + 0.004 * dy;
		return 100 + 1.2 * dy - 0.08 * (x - 160) + 0.002 * dy * dy;
	}
}

/* The distance of (x, y, z) from fissure f along its normal, signed
 * (> 0 above). */
static double
fis_dist(int f, double x, double y, double z)
{
	double	 gx, gy, zf = fis_z(f, x, y, &gx, &gy);

	return (z - zf) / sqrt(1 + gx * gx + gy * gy);
}

static int
in_lung(int s, double x, double y, double z)
{
	double	 a = (x - lung_c[s][0]) / lung_r[s][0];
	double	 b = (y - lung_c[s][1]) / lung_r[s][1];
	double	 c = (z - lung_c[s][2]) / lung_r[s][2];

	return a * a + b * b + c * c <= 1.0;
}

/* The true lobe at a point of lung s. */
static uint8_t
true_lobe(int s, double x, double y, double z)
{
	if (s == 0) {
		if (fis_dist(F_RO, x, y, z) <= 0)
			return LOBE_RLL;
		return fis_dist(F_RH, x, y, z) > 0 ? LOBE_RUL : LOBE_RML;
	}
	return fis_dist(F_LO, x, y, z) <= 0 ? LOBE_LLL : LOBE_LUL;
}

static uint64_t	 rng_s;

static double
uniform(void)
{
	rng_s ^= rng_s << 13;
	rng_s ^= rng_s >> 7;
	rng_s ^= rng_s << 17;
	return ((rng_s >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss_noise(void)
{
	return sqrt(-2 * log(uniform())) * cos(2 * 3.14159265358979 *
	    uniform());
}

/* A vessel: a segment from a to b of radius r (mm). */
struct tube {
	double	 a[3], b[3], r;
};

static double
seg_dist(const struct tube *t, const double p[3])
{
	double	 d[3], q[3], u = 0, l = 0;
	int	 i;

	for (i = 0; i < 3; i++) {
		d[i] = t->b[i] - t->a[i];
		q[i] = p[i] - t->a[i];
		u += d[i] * q[i];
		l += d[i] * d[i];
	}
	u = u / l;
	u = u < 0 ? 0 : u > 1 ? 1 : u;
	l = 0;
	for (i = 0; i < 3; i++)
		l += (q[i] - u * d[i]) * (q[i] - u * d[i]);
	return sqrt(l);
}

/* From each hilum (medial, mid-height) to the lung's periphery,
 * crossing the fissures. */
static const struct tube tubes[] = {
	{ { 85, 90, 115 }, { 35, 60, 185 }, 3.0 },
	{ { 85, 90, 115 }, { 30, 130, 160 }, 3.0 },
	{ { 85, 90, 115 }, { 40, 40, 60 }, 2.5 },
	{ { 85, 90, 115 }, { 45, 120, 40 }, 3.0 },
	{ { 85, 90, 115 }, { 30, 55, 130 }, 2.0 },
	{ { 85, 90, 115 }, { 60, 145, 110 }, 2.0 },
	{ { 135, 90, 115 }, { 185, 60, 185 }, 3.0 },
	{ { 135, 90, 115 }, { 190, 130, 160 }, 3.0 },
	{ { 135, 90, 115 }, { 180, 40, 60 }, 2.5 },
	{ { 135, 90, 115 }, { 175, 120, 40 }, 3.0 },
	{ { 135, 90, 115 }, { 190, 55, 130 }, 2.0 },
	{ { 135, 90, 115 }, { 160, 145, 110 }, 2.0 },
};

/* The variants: the whole chest; half the right oblique fissure
 * missing; the left oblique one absent; the whole chest with its slices
 * stored from the head down (the patient's z falling with the slice
 * index); the left lung left out of the mask. */
enum variant { WHOLE, HALF_RO, NO_LO, HEAD_FIRST, ONE_LUNG };

/* The patient z of slice k. */
static double
slice_z(enum variant var, int k)
{
	return var == HEAD_FIRST ? (NZ - 1 - k) * SZ : k * SZ;
}

/* Build the chest: the volume, its lungs and the true lobes. */
static struct series_volume *
build(enum variant var, uint8_t **lungs, uint8_t **truth)
{
	struct series_volume	*v;
	size_t			 n = (size_t)NX * NY * NZ, i;
	int			 x, y, z, s;
	unsigned		 t;

	assert_non_null(v = calloc(1, sizeof(*v)));
	assert_non_null(v->vox = malloc(n * sizeof(float)));
	assert_non_null(*lungs = calloc(n, 1));
	assert_non_null(*truth = calloc(n, 1));
	v->nx = NX;
	v->ny = NY;
	v->nz = NZ;
	v->spacing[0] = SX;
	v->spacing[1] = SY;
	v->spacing[2] = SZ;
	v->row[0] = 1;
	v->col[1] = 1;
	v->normal[2] = 1;
	v->step[2] = var == HEAD_FIRST ? -SZ : SZ;
	v->origin[2] = slice_z(var, 0);
	rng_s = 0x9e3779b97f4a7c15ull + (uint64_t)var;
	for (z = 0, i = 0; z < NZ; z++)
		for (y = 0; y < NY; y++)
			for (x = 0; x < NX; x++, i++) {
				double	 p[3] = { x * SX, y * SY,
					    slice_z(var, z) };
				double	 hu = 40, d, gx, gy;

				for (s = 0; s < 2; s++)
					if (in_lung(s, p[0], p[1], p[2]))
						break;
				if (s < 2) {
					(*lungs)[i] = s == 0 ? LUNG_RIGHT :
					    var == ONE_LUNG ? LUNG_NONE :
					    LUNG_LEFT;
					if ((*lungs)[i])
						(*truth)[i] = true_lobe(s, p[0],
						    p[1], p[2]);
					hu = LUNG_HU;
					if (s == 0) {
						d = fis_dist(F_RO, p[0], p[1],
						    p[2]);
						if (var != HALF_RO || p[1] >= 85)
							hu += SHEET_HU * exp(-d *
							    d / (2 * SHEET_SD *
							    SHEET_SD));
						/* The horizontal fissure
						 * ends at the oblique. */
						if (fis_z(F_RH, p[0], p[1], &gx,
						    &gy) > fis_z(F_RO, p[0],
						    p[1], &gx, &gy)) {
							d = fis_dist(F_RH, p[0],
							    p[1], p[2]);
							hu += SHEET_HU * exp(-d *
							    d / (2 * SHEET_SD *
							    SHEET_SD));
						}
					} else if (var != NO_LO) {
						d = fis_dist(F_LO, p[0], p[1],
						    p[2]);
						hu += SHEET_HU * exp(-d * d /
						    (2 * SHEET_SD * SHEET_SD));
					}
					for (t = 0; t < sizeof(tubes) /
					    sizeof(tubes[0]); t++)
						if (seg_dist(&tubes[t], p) <=
						    tubes[t].r)
							hu = 40;
				}
				v->vox[i] = (float)(hu + NOISE_HU *
				    gauss_noise());
			}
	return v;
}

static void
free_volume(struct series_volume *v)
{
	if (v != NULL)
		free(v->vox);
	free(v);
}

/*
 * The mean distance (mm, along the normal) between fissure f and where
 * the labels change from the lobe below to the lobes above along z, over
 * the columns where the true fissure crosses the lung.
 */
static double
fissure_error(enum variant var, const uint8_t *lobes, int f, int *ncols)
{
	double	 sum = 0, gx, gy, gxo, gyo, zf, zt, best, d, x, y;
	int	 i, j, k, n = 0, s = f == F_LO ? 1 : 0, t;
	uint8_t	 below = f == F_RO ? LOBE_RLL : f == F_RH ? LOBE_RML : LOBE_LLL;

	for (j = 0; j < NY; j += 2)
		for (i = 0; i < NX; i += 2) {
			x = i * SX;
			y = j * SY;
			zf = fis_z(f, x, y, &gx, &gy);
			if (!in_lung(s, x, y, zf))
				continue;
			if (f == F_RH && zf < fis_z(F_RO, x, y, &gxo, &gyo) + 3)
				continue;
			best = 1e9;
			for (k = 0; k + 1 < NZ; k++) {
				uint8_t	 a = lobes[((size_t)k * NY + j) * NX +
				    i], b = lobes[((size_t)(k + 1) * NY + j) *
				    NX + i], lo, hi;

				/* The lower of the two voxels in the patient
				 * and the upper one. */
				lo = slice_z(var, k) < slice_z(var, k + 1) ? a : b;
				hi = lo == a ? b : a;
				if (lo != below || (f == F_RH ? hi != LOBE_RUL :
				    hi == LOBE_NONE || hi == below))
					continue;
				zt = (slice_z(var, k) + slice_z(var, k + 1)) / 2;
				if (fabs(zt - zf) < fabs(best))
					best = zt - zf;
			}
			if (best > 1e8) {
				/* No border in the column: the lobe runs
				 * to the lung's end. */
				for (t = 0; t < NZ; t++)
					if (in_lung(s, x, y, slice_z(var, t)))
						break;
				best = fabs(slice_z(var, t) - zf);
				for (t = NZ - 1; t >= 0; t--)
					if (in_lung(s, x, y, slice_z(var, t)))
						break;
				if (fabs(slice_z(var, t) - zf) < best)
					best = fabs(slice_z(var, t) - zf);
			}
			d = fabs(best) / sqrt(1 + gx * gx + gy * gy);
			sum += d;
			n++;
		}
	*ncols = n;
	return n > 0 ? sum / n : 1e9;
}

struct synth {
	struct lobe_info	 info;
	double			 err[3];
	double			 agree;
	double			 seconds;
};

static void
run_synthetic(enum variant var, struct synth *o, struct lobe_extent *ext)
{
	struct series_volume	*v;
	uint8_t			*lungs, *truth, *lobes;
	size_t			 n = (size_t)NX * NY * NZ, i, nl = 0, ok = 0;
	char			 err[256];
	int			 f, nc;
	double			 t0;
	static const char *const vname[] = { "whole", "right oblique half"
	    " missing", "left oblique absent", "whole, head first",
	    "left lung not in the mask" };

	v = build(var, &lungs, &truth);
	assert_non_null(lobes = malloc(n));
	t0 = now();
	if (lobes_find(cpu, v, lungs, lobes, &o->info, err, sizeof(err)) == -1)
		fail_msg("lobes_find: %s", err);
	o->seconds = now() - t0;
	for (i = 0; i < n; i++)
		if (lungs[i]) {
			nl++;
			ok += lobes[i] == truth[i];
			assert_int_not_equal(lobes[i], LOBE_NONE);
		} else
			assert_int_equal(lobes[i], LOBE_NONE);
	o->agree = (double)ok / (double)nl;
	for (f = 0; f < 3; f++) {
		if (var == ONE_LUNG && f == F_LO) {
			o->err[f] = NAN;
			continue;
		}
		o->err[f] = fissure_error(var, lobes, f, &nc);
		assert_true(nc > 100);
	}
	print_message("  synthetic, %s: %.2f s; mean fissure distance %.2f /"
	    " %.2f / %.2f mm (right oblique / horizontal / left oblique),"
	    " seen %.0f / %.0f / %.0f %%, fallback %d; labels %.2f %% right\n"
	    "    %s\n", vname[var], o->seconds, o->err[0], o->err[1],
	    o->err[2], 100 * o->info.fissure_seen[0],
	    100 * o->info.fissure_seen[1], 100 * o->info.fissure_seen[2],
	    o->info.fallback, 100 * o->agree, o->info.method_zh);
	if (ext != NULL)
		lobes_extents(v, lobes, ext);
	if (var <= NO_LO)
		pictures(v, lungs, lobes, var == WHOLE ? "lobes-synthetic" :
		    var == HALF_RO ? "lobes-synthetic-half" :
		    "lobes-synthetic-absent");
	free(lobes);
	free(lungs);
	free(truth);
	free_volume(v);
}

static void
test_whole(void **state)
{
	struct synth		 o;
	struct lobe_extent	 ext[LOBE__MAX];
	int			 f;

	(void)state;
	run_synthetic(WHOLE, &o, ext);
	for (f = 0; f < 3; f++) {
		assert_true(o.err[f] <= 2.0);
		assert_true(o.info.fissure_seen[f] >= 0.7);
	}
	assert_int_equal(o.info.fallback, 0);
	assert_true(o.agree >= 0.95);
	assert_null(strstr(o.info.method_zh, "估计"));
	for (f = LOBE_RUL; f < LOBE__MAX; f++)
		assert_true(ext[f].voxels > 0);

	/* The segments from the places in the lobes. */
	{
		const struct lobe_extent	*e;
		double				 p[3];

		e = &ext[LOBE_RUL];
		p[0] = (e->lo[0] + e->hi[0]) / 2;
		p[1] = (e->lo[1] + e->hi[1]) / 2;
		p[2] = e->hi[2] - 2;
		assert_string_equal(lobes_segment_zh(LOBE_RUL, e, p),
		    "右肺上叶尖段");
		p[1] = e->lo[1] + 2;
		p[2] = e->lo[2] + 0.3 * (e->hi[2] - e->lo[2]);
		assert_string_equal(lobes_segment_zh(LOBE_RUL, e, p),
		    "右肺上叶前段");
		e = &ext[LOBE_RML];
		p[0] = e->lo[0] + 2;	/* the patient's right: lateral */
		assert_string_equal(lobes_segment_zh(LOBE_RML, e, p),
		    "右肺中叶外侧段");
		e = &ext[LOBE_RLL];
		p[1] = e->hi[1] - 2;
		p[2] = e->lo[2] + 2;
		assert_string_equal(lobes_segment_zh(LOBE_RLL, e, p),
		    "右肺下叶后基底段");
		e = &ext[LOBE_LUL];
		p[0] = (e->lo[0] + e->hi[0]) / 2;
		p[1] = e->lo[1] + 2;
		p[2] = e->lo[2] + 2;
		assert_string_equal(lobes_segment_zh(LOBE_LUL, e, p),
		    "左肺上叶下舌段");
		e = &ext[LOBE_LLL];
		p[2] = e->hi[2] - 2;
		assert_string_equal(lobes_segment_zh(LOBE_LLL, e, p),
		    "左肺下叶背段");
		assert_string_equal(lobes_segment_zh(LOBE_NONE, e, p), "");
	}
}

static void
test_half_missing(void **state)
{
	struct synth	 o;

	(void)state;
	run_synthetic(HALF_RO, &o, NULL);
	assert_true(o.err[0] <= 4.0);
	assert_true(o.info.fissure_seen[0] < 0.8);
	assert_true(o.info.fissure_seen[0] >= 0.4);
	assert_true(o.err[1] <= 2.5);
	assert_true(o.err[2] <= 2.0);
	assert_true(o.agree >= 0.93);
}

static void
test_absent(void **state)
{
	struct synth	 o;

	(void)state;
	run_synthetic(NO_LO, &o, NULL);
	assert_int_equal(o.info.fallback, 1);
	assert_true(o.info.fissure_seen[2] < 0.4);
	assert_non_null(strstr(o.info.method_zh, "左斜裂仅见"));
	assert_non_null(strstr(o.info.method_zh, "按肺的几何形态估计"));
	assert_non_null(strstr(o.info.method_zh, "近似"));
	assert_null(strstr(o.info.method_zh, "右斜裂仅见"));
	/* The right lung keeps its fissures. */
	assert_true(o.err[0] <= 2.0);
	assert_true(o.err[1] <= 2.0);
	assert_true(o.info.fissure_seen[0] >= 0.7);
}

static const char *
out_dir(void)
{
	const char	*o = getenv("ZY_OUT");

	if (o == NULL || *o == '\0')
		return NULL;
	(void)mkdir(o, 0755);
	return o;
}

/*
 * With $ZY_OUT: sagittal slices through each lung at a third and two
 * thirds of its width, head up, anterior to the left, lung window, the
 * lobes' borders in white: name-R1.png, name-R2.png, name-L1.png, ...
 */
static void
pictures(const struct series_volume *v, const uint8_t *lungs,
    const uint8_t *lobes, const char *name)
{
	const char	*o = out_dir();
	int		 side, t, x, y, row, k, h, x0, x1;
	unsigned char	*g;
	char		 path[1200];
	struct buf	 b;
	FILE		*f;
	double		 dz = fabs(v->step[2]) > 0 ? fabs(v->step[2]) :
			    v->spacing[2];

	if (o == NULL)
		return;
	h = (int)lround(v->nz * dz / v->spacing[1]);
	assert_non_null(g = malloc((size_t)v->ny * h));
	for (side = LUNG_RIGHT; side <= LUNG_LEFT; side++) {
		x0 = v->nx;
		x1 = -1;
		for (size_t i = 0; i < (size_t)v->nx * v->ny * v->nz; i++)
			if (lungs[i] == side) {
				x = (int)(i % (size_t)v->nx);
				if (x < x0) x0 = x;
				if (x > x1) x1 = x;
			}
		if (x1 < 0)
			continue;
		for (t = 1; t <= 2; t++) {
			x = x0 + (x1 - x0) * t / 3;
			for (row = 0; row < h; row++) {
				k = (int)((h - 1 - row) * v->spacing[1] / dz);
				if (v->step[2] < 0)
					k = v->nz - 1 - k;
				if (k < 0) k = 0;
				if (k >= v->nz) k = v->nz - 1;
				for (y = 0; y < v->ny; y++) {
					size_t	 i = ((size_t)k * v->ny + y) *
					    v->nx + x;
					double	 hu = v->vox[i];
					int	 e = 0;

					if (lobes[i] && y + 1 < v->ny &&
					    lobes[i + v->nx] && lobes[i + v->nx]
					    != lobes[i])
						e = 1;
					if (lobes[i] && k + 1 < v->nz &&
					    lobes[i + (size_t)v->nx * v->ny] &&
					    lobes[i + (size_t)v->nx * v->ny] !=
					    lobes[i])
						e = 1;
					hu = (hu + 1000) / 400 * 255;
					g[(size_t)row * v->ny + y] = e && (y + row) % 6 < 2 ? 255 :
					    (unsigned char)(hu < 0 ? 0 : hu > 254 ?
					    254 : hu);
				}
			}
			(void)snprintf(path, sizeof(path), "%s/%s-%c%d.png", o,
			    name, side == LUNG_RIGHT ? 'R' : 'L', t);
			buf_init(&b, 64u << 20);
			assert_int_equal(preview_png_encode(g, v->ny, h, &b), 0);
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
			assert_int_equal(fclose(f), 0);
			buf_free(&b);
		}
	}
	free(g);
}

/* Slices from the head down: the same lobes, by the patient's axes. */
static void
test_head_first(void **state)
{
	struct synth	 o;
	int		 f;

	(void)state;
	run_synthetic(HEAD_FIRST, &o, NULL);
	for (f = 0; f < 3; f++)
		assert_true(o.err[f] <= 2.0);
	assert_int_equal(o.info.fallback, 0);
	assert_true(o.agree >= 0.95);
}

/* One lung in the mask: its lobes, nothing on the other side, and the
 * method text says which lung was not there. */
static void
test_one_lung(void **state)
{
	struct synth	 o;

	(void)state;
	run_synthetic(ONE_LUNG, &o, NULL);
	assert_true(o.err[F_RO] <= 2.0);
	assert_true(o.err[F_RH] <= 2.0);
	assert_true(o.agree >= 0.95);
	assert_true(o.info.fissure_seen[2] == 0);
	assert_non_null(strstr(o.info.method_zh, "未见左肺，无左斜裂"));
}

/*
 * The CUDA backend gives the CPU's lobes (where a device is present): the
 * filter's input comes from the backend's resampling and smoothing, whose
 * floating point may differ in the last bits, so the labels must agree on
 * all but 0.1 % of the voxels and the seen shares within 2 points.
 */
static void
test_cuda_agrees(void **state)
{
#ifdef HAVE_CUDA
	struct series_volume	*v;
	struct compute		*gpu;
	struct lobe_info	 ia, ib;
	uint8_t			*lungs, *truth, *a, *b;
	size_t			 n = (size_t)NX * NY * NZ, i, same = 0, nl = 0;
	char			 err[256];
	int			 f;

	(void)state;
	if (compute_cuda_devices() == 0) {
		print_message("  no CUDA device: skipped\n");
		skip();
	}
	assert_non_null(gpu = compute_cuda_open(err, sizeof(err)));
	v = build(WHOLE, &lungs, &truth);
	assert_non_null(a = malloc(n));
	assert_non_null(b = malloc(n));
	if (lobes_find(cpu, v, lungs, a, &ia, err, sizeof(err)) == -1)
		fail_msg("lobes_find, CPU: %s", err);
	if (lobes_find(gpu, v, lungs, b, &ib, err, sizeof(err)) == -1)
		fail_msg("lobes_find, CUDA: %s", err);
	for (i = 0; i < n; i++)
		if (lungs[i]) {
			nl++;
			same += a[i] == b[i];
		}
	print_message("  CUDA (%s) and CPU: %.4f %% of the lung voxels in the"
	    " same lobe\n", gpu->device, 100.0 * same / nl);
	assert_true(same >= nl - nl / 1000);
	for (f = 0; f < 3; f++)
		assert_true(fabs(ia.fissure_seen[f] - ib.fissure_seen[f]) <=
		    0.02);
	assert_int_equal(ia.fallback, ib.fallback);
	compute_close(gpu);
	free(a);
	free(b);
	free(lungs);
	free(truth);
	free_volume(v);
#else
	(void)state;
	print_message("  built without CUDA: skipped\n");
	skip();
#endif
}

/* ---- the real chest CT ---- */

/*
 * A lung mask good enough for the lobes (the anatomy module makes the
 * real one): the air under -400 HU in 3-D pieces that do not reach the
 * edges of the slices, the two largest, sides by patient x (the right
 * lung at lower x); the vessels' holes filled slice by slice.
 */
static void
simple_lungs(const struct series_volume *v, uint8_t *lungs)
{
	size_t		 n = (size_t)v->nx * v->ny * v->nz, i, nst = 0, k;
	uint8_t		*air;
	int32_t		*lab, *queue;
	struct cc_stats	*st = NULL;
	int		 dims[3] = { v->nx, v->ny, v->nz }, x, y, z;
	long long	 c1 = 0, c2 = 0;
	int32_t		 l1 = 0, l2 = 0;
	double		 sx = 0, mid;
	long long	 cnt = 0;

	assert_non_null(air = malloc(n));
	assert_non_null(lab = malloc(n * sizeof(*lab)));
	assert_int_equal(compute_threshold(cpu, air, v->vox, n, -3000.0f,
	    -400.0f), 0);
	assert_int_equal(compute_label(cpu, lab, air, NULL, dims, 6, &st,
	    &nst), 0);
	for (k = 0; k < nst; k++) {
		if (st[k].x0 == 0 || st[k].y0 == 0 || st[k].x1 == v->nx - 1 ||
		    st[k].y1 == v->ny - 1)
			continue;
		if (st[k].count > c1) {
			c2 = c1;
			l2 = l1;
			c1 = st[k].count;
			l1 = (int32_t)k + 1;
		} else if (st[k].count > c2) {
			c2 = st[k].count;
			l2 = (int32_t)k + 1;
		}
	}
	assert_true(l1 > 0);
	/* Two lungs apart, or one piece of both (joined by the airways). */
	if (c2 < c1 / 4)
		l2 = -1;
	for (i = 0; i < n; i++)
		if (lab[i] == l1 || lab[i] == l2) {
			sx += (double)(i % (size_t)v->nx);
			cnt++;
		}
	mid = sx / (double)cnt;
	/* The midline in voxels; the right lung at lower patient x. */
	for (i = 0; i < n; i++) {
		lungs[i] = LUNG_NONE;
		if (lab[i] == l1 || lab[i] == l2) {
			int	 lowx = (double)(i % (size_t)v->nx) < mid;

			if (v->row[0] < 0)
				lowx = !lowx;
			lungs[i] = lowx ? LUNG_RIGHT : LUNG_LEFT;
		}
	}
	/* Fill the holes (vessels) slice by slice: what the slice's edge
	 * does not reach through the non-lung. */
	assert_non_null(queue = malloc((size_t)v->nx * v->ny *
	    sizeof(*queue)));
	for (z = 0; z < v->nz; z++) {
		uint8_t	*L = lungs + (size_t)z * v->nx * v->ny;
		uint8_t	*seen = air;	/* reused */
		size_t	 qh = 0, qt = 0, m = (size_t)v->nx * v->ny;

		memset(seen, 0, m);
		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++)
				if ((x == 0 || y == 0 || x == v->nx - 1 ||
				    y == v->ny - 1) && !L[y * v->nx + x]) {
					seen[y * v->nx + x] = 1;
					queue[qt++] = y * v->nx + x;
				}
		while (qh < qt) {
			int32_t	 q = queue[qh++], nb[4];
			int	 qx = q % v->nx, qy = q / v->nx, t;

			nb[0] = qx > 0 ? q - 1 : -1;
			nb[1] = qx < v->nx - 1 ? q + 1 : -1;
			nb[2] = qy > 0 ? q - v->nx : -1;
			nb[3] = qy < v->ny - 1 ? q + v->nx : -1;
			for (t = 0; t < 4; t++)
				if (nb[t] >= 0 && !seen[nb[t]] && !L[nb[t]]) {
					seen[nb[t]] = 1;
					queue[qt++] = nb[t];
				}
		}
		for (k = 0; k < m; k++)
			if (!L[k] && !seen[k]) {
				int	 lowx = (double)(k % (size_t)v->nx) <
				    mid;

				if (v->row[0] < 0)
					lowx = !lowx;
				L[k] = lowx ? LUNG_RIGHT : LUNG_LEFT;
			}
	}
	free(queue);
	free(st);
	free(lab);
	free(air);
}

/*
 * LIDC-IDRI-0002 (512 x 512 x 261, 1.25 mm).  The lobes' shares of the
 * lungs must lie in broad ranges round the means of healthy volunteers
 * on supine CT (Yamada et al., 2020: RUL 17.9, RML 9.3, RLL 26.5,
 * LUL 23.1, LLL 23.2 %; ranges 11.8-22.7, 6.6-13.8, 22.3-34.0, 18.1-26.6,
 * 19.4-28.7 %), and the upper lobes lie above the lower ones.
 */
static void
test_lidc(void **state)
{
	const char		*data = getenv("ZY_DATA");
	char			 base[1024], dir[1024], err[256];
	struct series_volume	*v = NULL;
	struct lobe_info	 info;
	uint8_t			*lungs, *lobes;
	size_t			 n, i;
	long long		 cnt[LOBE__MAX] = { 0 }, tot = 0;
	double			 zs[LOBE__MAX] = { 0 }, t0, sec, sh[LOBE__MAX];
	double			 cpus;
	clock_t			 c0;
	static const double	 lo[LOBE__MAX] = { 0, 12, 3, 15, 15, 15 };
	static const double	 hi[LOBE__MAX] = { 0, 30, 15, 35, 35, 35 };
	int			 l;

	(void)state;
	(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
	    data != NULL && *data ? data : ZY_TOP_SRCDIR "/../shared/data");
	if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
		print_message("  %s not found: skipping the real-data test\n",
		    base);
		skip();
	}
	if (realdata_load(dir, &v, NULL, 0) == -1)
		fail_msg("LIDC-IDRI-0002: no DICOM files in %s", dir);
	n = (size_t)v->nx * v->ny * v->nz;
	assert_non_null(lungs = malloc(n));
	assert_non_null(lobes = malloc(n));
	simple_lungs(v, lungs);
	t0 = now();
	c0 = clock();
	if (lobes_find(cpu, v, lungs, lobes, &info, err, sizeof(err)) == -1)
		fail_msg("lobes_find: %s", err);
	sec = now() - t0;
	cpus = (double)(clock() - c0) / CLOCKS_PER_SEC;
	pictures(v, lungs, lobes, "lobes-lidc-0002");
	for (i = 0; i < n; i++) {
		l = lobes[i];
		if (lungs[i] == LUNG_NONE) {
			assert_int_equal(l, LOBE_NONE);
			continue;
		}
		assert_true(l > LOBE_NONE && l < LOBE__MAX);
		assert_true(lungs[i] == LUNG_RIGHT ? l <= LOBE_RLL :
		    l >= LOBE_LUL);
		cnt[l]++;
		tot++;
		zs[l] += v->origin[2] + (double)(i / ((size_t)v->nx *
		    v->ny)) * v->step[2];
	}
	print_message("  LIDC-IDRI-0002: %dx%dx%d, %.2fx%.2fx%.2f mm: lungs"
	    " %.0f mL, lobes in %.2f s (%.2f s of processor time, %s)\n",
	    v->nx, v->ny, v->nz, v->spacing[0], v->spacing[1], v->spacing[2],
	    tot * v->spacing[0] * v->spacing[1] * v->spacing[2] / 1000, sec,
	    cpus, cpu->device);
	for (l = LOBE_RUL; l < LOBE__MAX; l++) {
		sh[l] = 100.0 * cnt[l] / (double)tot;
		zs[l] = cnt[l] ? zs[l] / cnt[l] : NAN;
	}
	print_message("    shares RUL %.1f, RML %.1f, RLL %.1f, LUL %.1f,"
	    " LLL %.1f %%; mean z RUL %.0f, RML %.0f, RLL %.0f, LUL %.0f,"
	    " LLL %.0f mm\n", sh[1], sh[2], sh[3], sh[4], sh[5], zs[1],
	    zs[2], zs[3], zs[4], zs[5]);
	print_message("    fissures seen: right oblique %.0f %%, right"
	    " horizontal %.0f %%, left oblique %.0f %%; fallback %d\n    %s\n",
	    100 * info.fissure_seen[0], 100 * info.fissure_seen[1],
	    100 * info.fissure_seen[2], info.fallback, info.method_zh);
	for (l = LOBE_RUL; l < LOBE__MAX; l++) {
		assert_true(cnt[l] > 0);
		if (!(sh[l] >= lo[l] && sh[l] <= hi[l]))
			fail_msg("lobe %d: %.1f %% of the lungs, expected %.0f"
			    " to %.0f %%", l, sh[l], lo[l], hi[l]);
	}
	assert_true(zs[LOBE_RUL] > zs[LOBE_RLL]);
	assert_true(zs[LOBE_LUL] > zs[LOBE_LLL]);
	assert_true(zs[LOBE_RUL] > zs[LOBE_RML]);
	/* The shares hold even for the geometric fallback, which cuts at
	 * the published means; what shows the filter at work is the left
	 * oblique fissure, a plain sheet on this series' sagittal slices
	 * (see the pictures with $ZY_OUT): it must be seen and fitted. */
	assert_true(info.fissure_seen[2] >= 0.5);
	free(lungs);
	free(lobes);
	series_free(v);
}

/*
 * Thick slices (Lung-PET-CT-Dx: 5 mm, 8 mm, with lung cancers): the
 * fissures are seldom seen as sheets there.  The lobes must still come,
 * upper over lower, with what was seen and estimated in the method text;
 * the figures are printed.
 */
static void
test_thick(void **state)
{
	static const char *const series[] = {
		"Lung_Dx-A0001/5mm-L", "Lung_Dx-A0002/8mm-B40f"
	};
	const char		*data = getenv("ZY_DATA");
	char			 dir[1024], err[256];
	struct series_volume	*v;
	struct lobe_info	 info;
	uint8_t			*lungs, *lobes;
	size_t			 n, i, k;
	long long		 cnt[LOBE__MAX], tot;
	double			 zs[LOBE__MAX], t0;
	int			 l, ran = 0;

	(void)state;
	for (k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		(void)snprintf(dir, sizeof(dir), "%s/ct/lung-pet-ct-dx/%s",
		    data != NULL && *data ? data :
		    ZY_TOP_SRCDIR "/../shared/data", series[k]);
		v = NULL;
		if (realdata_load(dir, &v, NULL, 0) == -1)
			continue;
		ran++;
		n = (size_t)v->nx * v->ny * v->nz;
		assert_non_null(lungs = malloc(n));
		assert_non_null(lobes = malloc(n));
		simple_lungs(v, lungs);
		t0 = now();
		if (lobes_find(cpu, v, lungs, lobes, &info, err,
		    sizeof(err)) == -1)
			fail_msg("lobes_find: %s", err);
		t0 = now() - t0;
		memset(cnt, 0, sizeof(cnt));
		memset(zs, 0, sizeof(zs));
		tot = 0;
		for (i = 0; i < n; i++)
			if (lungs[i]) {
				cnt[lobes[i]]++;
				tot++;
				zs[lobes[i]] += v->origin[2] + (double)(i /
				    ((size_t)v->nx * v->ny)) * v->step[2];
			}
		for (l = LOBE_RUL; l < LOBE__MAX; l++) {
			assert_true(cnt[l] > 0);
			zs[l] /= cnt[l];
		}
		print_message("  %s: %dx%dx%d, %.2f mm slices, %.2f s: shares"
		    " %.1f / %.1f / %.1f / %.1f / %.1f %%, seen %.0f / %.0f /"
		    " %.0f %%, fallback %d\n    %s\n", series[k], v->nx, v->ny,
		    v->nz, v->spacing[2], t0, 100.0 * cnt[1] / tot,
		    100.0 * cnt[2] / tot, 100.0 * cnt[3] / tot,
		    100.0 * cnt[4] / tot, 100.0 * cnt[5] / tot,
		    100 * info.fissure_seen[0], 100 * info.fissure_seen[1],
		    100 * info.fissure_seen[2], info.fallback, info.method_zh);
		assert_int_equal(cnt[LOBE_NONE], 0);
		assert_true(zs[LOBE_RUL] > zs[LOBE_RLL]);
		assert_true(zs[LOBE_LUL] > zs[LOBE_LLL]);
		assert_true(strlen(info.method_zh) > 0);
		free(lungs);
		free(lobes);
		series_free(v);
	}
	if (ran == 0) {
		print_message("  lung-pet-ct-dx not found: skipped\n");
		skip();
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_half_missing),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_head_first),
		cmocka_unit_test(test_one_lung),
		cmocka_unit_test(test_cuda_agrees),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_thick),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
