/*
 * test_anatomy.c - the shared chest anatomy (anatomy.c) against phantoms
 * of known geometry, and on a real chest CT with the LIDC readers'
 * nodule contours.
 *
 * The phantom's lungs are elliptic cylinders (phantom.c: right centred
 * at x -82, y 5 with semi-axes 52 x 72 mm; left at 85, 5, 48 x 72), less
 * what the generator puts before them: the heart and its fat, the
 * aortas and their fat sleeves, the spine.  Their true volume is
 * integrated here from that geometry on a grid of 0.5 x 0.5 x 1 mm,
 * independently of the voxels; the masks may differ from it by the
 * partial volume of their border voxels and by the pleural closing
 * filling the cusps where the heart's fat meets the lungs' outline (a
 * few millilitres): they are compared within 4 %.
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
#include "compute.h"
#include "log.h"
#include "phantom.h"
#include "realdata.h"
#include "series.h"

#define VOL_TOL		0.04
/* phantom.c's fat round the heart and the aortas (FAT_HEART, FAT_ASC,
 * FAT_DESC) and the trachea's and bronchi's radii with their wall. */
#define FAT_HEART	12.0
#define FAT_ASC		8.0
#define FAT_DESC	6.0
#define TRACHEA_OUT	10.5
#define BRONCHUS_OUT	7.5

static struct compute	*cpu;

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
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
e2(double x, double y, double cx, double cy, double a, double b)
{
	return ((x - cx) / a) * ((x - cx) / a) + ((y - cy) / b) * ((y - cy) /
	    b);
}

/* The distance of p to the segment a..b, and where it falls along it. */
static double
seg(const double p[3], const double a[3], const double b[3], double *t)
{
	double	 d[3], w[3], dd = 0, dw = 0, q, r = 0;
	int	 i;

	for (i = 0; i < 3; i++) {
		d[i] = b[i] - a[i];
		w[i] = p[i] - a[i];
		dd += d[i] * d[i];
		dw += d[i] * w[i];
	}
	*t = dw / dd;
	q = *t < 0 ? 0 : *t > 1 ? 1 : *t;
	for (i = 0; i < 3; i++)
		r += (w[i] - q * d[i]) * (w[i] - q * d[i]);
	return sqrt(r);
}

static const double carina[3] = { 0, 30, 110 };
static const double bend[2][3] = { { -60, 15, 85 }, { 60, 15, 80 } };

/*
 * The true side of the lung at a point of the phantom sp (no plaques),
 * in the generator's order; the juxtapleural nodule counts as lung where
 * it lies in the lung's outline (the mask must hold it).
 */
static int
truth(const struct phantom_spec *sp, double x, double y, double z)
{
	const struct phantom_anatomy *A = &phantom_anatomy;
	double	 p[3] = { x, y, z }, t;
	int	 i, out;

	if (e2(x, y, 0, 0, A->body_a, A->body_b) > 1.0)
		return LUNG_NONE;
	if (z >= A->asc_z0 && e2(x, y, A->asc_c[0], A->asc_c[1], A->asc_r,
	    A->asc_r) <= 1.0)
		return LUNG_NONE;
	if (e2(x, y, A->desc_c[0], A->desc_c[1], A->desc_r, A->desc_r) <= 1.0)
		return LUNG_NONE;
	if (pow((x - A->heart_c[0]) / A->heart_r[0], 2) + pow((y -
	    A->heart_c[1]) / A->heart_r[1], 2) + pow((z - A->heart_c[2]) /
	    A->heart_r[2], 2) <= 1.0)
		return LUNG_NONE;
	if (e2(x, y, A->spine_c[0], A->spine_c[1], A->spine_r,
	    A->spine_r) <= 1.0)
		return LUNG_NONE;
	if (fabs(x - A->spine_c[0]) <= 4.0 && y > A->spine_c[1] +
	    A->spine_r && y <= A->spine_c[1] + A->spine_r + 12.0 &&
	    fmod(z, 30.0) < 25.0)
		return LUNG_NONE;
	if (pow((x - A->heart_c[0]) / (A->heart_r[0] + FAT_HEART), 2) +
	    pow((y - A->heart_c[1]) / (A->heart_r[1] + FAT_HEART), 2) +
	    pow((z - A->heart_c[2]) / (A->heart_r[2] + FAT_HEART), 2) <= 1.0)
		return LUNG_NONE;
	if (z >= A->asc_z0 - 10.0 && e2(x, y, A->asc_c[0], A->asc_c[1],
	    A->asc_r + FAT_ASC, A->asc_r + FAT_ASC) <= 1.0)
		return LUNG_NONE;
	if (e2(x, y, A->desc_c[0], A->desc_c[1], A->desc_r + FAT_DESC,
	    A->desc_r + FAT_DESC) <= 1.0)
		return LUNG_NONE;
	out = (sp->lung_z[0] != 0.0 || sp->lung_z[1] != 0.0) &&
	    (z < sp->lung_z[0] || z >= sp->lung_z[1]);
	if (sp->jp_mm > 0.0 && pow(x - sp->jp_center[0], 2) + pow(y -
	    sp->jp_center[1], 2) + pow(z - sp->jp_center[2], 2) <=
	    sp->jp_mm * sp->jp_mm / 4.0) {
		if (!out && e2(x, y, -82, 5, 52, 72) <= 1.0)
			return LUNG_RIGHT;
		if (!out && e2(x, y, 85, 5, 48, 72) <= 1.0)
			return LUNG_LEFT;
		return LUNG_NONE;
	}
	if (sp->airways) {
		if (z >= carina[2] && e2(x, y, carina[0], carina[1],
		    TRACHEA_OUT, TRACHEA_OUT) <= 1.0)
			return LUNG_NONE;
		for (i = 0; i < 2; i++)
			if (seg(p, carina, bend[i], &t) <= BRONCHUS_OUT &&
			    t <= 1.0)
				return LUNG_NONE;
	}
	if (out)
		return LUNG_NONE;
	if (sp->junction && (e2(x, y, -40, -68, 45, 14) <= 1.0 ||
	    e2(x, y, 40, -68, 45, 14) <= 1.0))
		return x < 0.0 ? LUNG_RIGHT : LUNG_LEFT;
	if (e2(x, y, -82, 5, 52, 72) <= 1.0)
		return LUNG_RIGHT;
	if (e2(x, y, 85, 5, 48, 72) <= 1.0)
		return LUNG_LEFT;
	return LUNG_NONE;
}

/* The true lung volumes (mL) of sp's volume, integrated on a fine grid. */
static void
true_volumes(const struct phantom_spec *sp, double ml[LUNG_SIDE__MAX])
{
	double	 x, y, z, zt = sp->nz * sp->slice_mm, h = 0.5, hz = 1.0;
	long	 n[LUNG_SIDE__MAX] = { 0 };
	int	 s;

	for (z = hz / 2; z < zt; z += hz)
		for (y = -100.0 + h / 2; y < 90.0; y += h)
			for (x = -140.0 + h / 2; x < 140.0; x += h)
				n[truth(sp, x, y, z)]++;
	for (s = 0; s < LUNG_SIDE__MAX; s++)
		ml[s] = n[s] * h * h * hz / 1000.0;
}

/* The voxel of patient (x, y, z) in a phantom volume. */
static size_t
pvox(const struct series_volume *v, double x, double y, double z)
{
	long	 i = lround((x - v->origin[0]) / v->spacing[0]);
	long	 j = lround((y - v->origin[1]) / v->spacing[1]);
	long	 k = lround((z - v->origin[2]) / v->spacing[2]);

	assert_true(i >= 0 && i < v->nx && j >= 0 && j < v->ny && k >= 0 &&
	    k < v->nz);
	return ((size_t)k * v->ny + (size_t)j) * v->nx + (size_t)i;
}

static void
anatomy_phantom(const struct phantom_spec *sp, struct series_volume **v)
{
	char	 err[256];

	if (phantom_build(sp, v, err, sizeof(err)) == -1)
		fail_msg("%s", err);
}

/*
 * With $ZY_OUT set, slice k of v as a PGM (lung window) with the masks
 * drawn over it: right lung dark (20-40), left light (200-220), airways white,
 * the spine's centre as a black cross, for looking at what was found.
 */
static void
dump_slice(const struct series_volume *v, const struct anatomy *an, int k,
    const char *name)
{
	const char	*o = getenv("ZY_OUT");
	char		 path[1024];
	FILE		*f;
	size_t		 pl = (size_t)v->nx * v->ny, i;
	int		 g;

	if (o == NULL || *o == '\0')
		return;
	(void)snprintf(path, sizeof(path), "%s/%s-%03d.pgm", o, name, k);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fprintf(f, "P5 %d %d 255\n", v->nx, v->ny);
	for (i = 0; i < pl; i++) {
		g = (int)lround((v->vox[k * pl + i] + 1000.0) / 1400.0 * 160.0);
		g = g < 0 ? 0 : g > 160 ? 160 : g;
		if (getenv("ZY_OUTLINE") != NULL) {
			/* Only the lungs' border, in white. */
			if (an->lungs != NULL && an->lungs[k * pl + i] &&
			    i % v->nx > 0 && i % v->nx < (size_t)v->nx - 1 &&
			    i / v->nx > 0 && i / v->nx < (size_t)v->ny - 1 &&
			    (!an->lungs[k * pl + i - 1] ||
			    !an->lungs[k * pl + i + 1] ||
			    !an->lungs[k * pl + i - v->nx] ||
			    !an->lungs[k * pl + i + v->nx]))
				g = 255;
		} else if (an->lungs != NULL && an->lungs[k * pl + i] ==
		    LUNG_RIGHT)
			g = 20 + g / 8;
		else if (an->lungs != NULL && an->lungs[k * pl + i] ==
		    LUNG_LEFT)
			g = 200 + g / 8;
		if (an->airways != NULL && an->airways[k * pl + i])
			g = 255;
		if (getenv("ZY_BODY") && an->body != NULL && !an->body[k * pl + i])
			g = g / 3;
		if (an->spine_xy != NULL && !isnan(an->spine_xy[2 * k]) &&
		    ((labs((long)(i % v->nx) - lround(an->spine_xy[2 * k])) <=
		    4 && (long)(i / v->nx) == lround(an->spine_xy[2 * k +
		    1])) || (labs((long)(i / v->nx) - lround(an->spine_xy[2 *
		    k + 1])) <= 4 && (long)(i % v->nx) ==
		    lround(an->spine_xy[2 * k]))))
			g = 0;
		(void)fputc(g, f);
	}
	fclose(f);
}

/* With $ZY_OUT set, the coronal plane at row y of v, drawn as
 * dump_slice() draws, top of the patient up. */
static void
dump_coronal(const struct series_volume *v, const struct anatomy *an, int y,
    const char *name)
{
	const char	*o = getenv("ZY_OUT");
	char		 path[1024];
	FILE		*f;
	size_t		 pl = (size_t)v->nx * v->ny, i;
	int		 g, x, k, kk;

	if (o == NULL || *o == '\0')
		return;
	(void)snprintf(path, sizeof(path), "%s/%s-cor%03d.pgm", o, name, y);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fprintf(f, "P5 %d %d 255\n", v->nx, v->nz);
	for (kk = 0; kk < v->nz; kk++) {
		k = v->step[2] >= 0 ? v->nz - 1 - kk : kk;
		for (x = 0; x < v->nx; x++) {
			i = k * pl + (size_t)y * v->nx + x;
			g = (int)lround((v->vox[i] + 1000.0) / 1400.0 * 160.0);
			g = g < 0 ? 0 : g > 160 ? 160 : g;
			if (an->lungs[i] == LUNG_RIGHT)
				g = 20 + g / 8;
			else if (an->lungs[i] == LUNG_LEFT)
				g = 200 + g / 8;
			if (an->airways[i])
				g = 255;
			(void)fputc(g, f);
		}
	}
	fclose(f);
}

static void
near(const char *what, double got, double want, double tol)
{
	print_message("  %-28s %9.1f (truth %9.1f, %+.1f %%)\n", what, got,
	    want, 100.0 * (got - want) / want);
	if (!(fabs(got - want) <= tol * fabs(want)))
		fail_msg("%s: %.2f, want %.2f within %.0f %%", what, got, want,
		    tol * 100.0);
}

/* The standard chest: volumes per side, the sides, the body. */
static void
test_phantom_standard(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[256];
	double			 ml[LUNG_SIDE__MAX], body = 0, sx[3] = { 0 };
	double			 vml, bt;
	long			 cnt[3] = { 0 };
	size_t			 i, n;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	sp.nplaques = 0;
	anatomy_phantom(&sp, &v);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 1, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	true_volumes(&sp, ml);
	vml = v->spacing[0] * v->spacing[1] * v->spacing[2] / 1000.0;
	n = (size_t)v->nx * v->ny * v->nz;
	for (i = 0; i < n; i++) {
		body += an->body[i];
		if (an->lungs[i]) {
			cnt[an->lungs[i]]++;
			sx[an->lungs[i]] += v->origin[0] + (double)(i % v->nx) *
			    v->spacing[0];
		}
	}
	print_message("  standard chest, %d x %d x %d, %.2f s\n", v->nx,
	    v->ny, v->nz, an->seconds);
	near("right lung (mL)", an->lung[LUNG_RIGHT].volume_ml,
	    ml[LUNG_RIGHT], VOL_TOL);
	near("left lung (mL)", an->lung[LUNG_LEFT].volume_ml, ml[LUNG_LEFT],
	    VOL_TOL);
	assert_true(cnt[LUNG_RIGHT] > 0 && cnt[LUNG_LEFT] > 0);
	/* The patient's right is at the lower x (LPS). */
	assert_true(sx[LUNG_RIGHT] / cnt[LUNG_RIGHT] < -60.0);
	assert_true(sx[LUNG_LEFT] / cnt[LUNG_LEFT] > 60.0);
	bt = M_PI * phantom_anatomy.body_a * phantom_anatomy.body_b *
	    v->nz * v->spacing[2] / 1000.0;
	near("body (mL)", body * vml, bt, 0.02);
	/* The lungs run through the top and bottom slices. */
	assert_int_equal(an->lungs_complete, 0);
	assert_non_null(strstr(an->lungs_why, "肺尖"));
	assert_non_null(strstr(an->lungs_why, "肺底"));
	near("mean lung HU, right", an->lung[LUNG_RIGHT].mean_hu, -850.0,
	    0.03);
	anatomy_cache_free(ac);
	series_free(v);
}

/* The chest with a trachea, main bronchi, an anterior junction, a
 * juxtapleural nodule, and lungs that end inside the volume. */
static void
variant_spec(struct phantom_spec *sp)
{
	phantom_standard(sp, 2.0, 120);
	sp->nplaques = 0;
	sp->lung_z[0] = 20.0;
	sp->lung_z[1] = 130.0;
	sp->airways = 1;
	sp->junction = 1;
	sp->jp_center[0] = -132.0;	/* 2 mm inside the right lung's edge */
	sp->jp_center[1] = 5.0;
	sp->jp_center[2] = 75.0;
	sp->jp_mm = 8.0;
}

static void
check_variant(const struct phantom_spec *sp, const struct series_volume *v,
    const struct anatomy *an)
{
	double		 ml[LUNG_SIDE__MAX], z, t, p[3], x, y;
	double		 r = sp->jp_mm / 2.0;
	long		 wrong = 0, tot = 0, jin = 0, jn = 0, tr = 0;
	size_t		 i;
	int		 k, b, s, good = 0, slices = 0;

	true_volumes(sp, ml);
	for (k = 0; k < v->nz; k += 5)
		dump_slice(v, an, k, "variant");
	dump_slice(v, an, (int)(pvox(v, 0, 0, sp->jp_center[2]) /
	    ((size_t)v->nx * v->ny)), "variant");
	near("right lung (mL)", an->lung[LUNG_RIGHT].volume_ml,
	    ml[LUNG_RIGHT], VOL_TOL);
	near("left lung (mL)", an->lung[LUNG_LEFT].volume_ml, ml[LUNG_LEFT],
	    VOL_TOL);
	/* The airways: the trachea and the bronchi outside the lungs are
	 * airways, never lung. */
	for (z = carina[2] + 1.0; z < v->nz * v->spacing[2]; z += 1.0) {
		i = pvox(v, 0.0, 30.0, z);
		assert_int_equal(an->airways[i], 1);
		assert_int_equal(an->lungs[i], LUNG_NONE);
	}
	for (b = 0; b < 2; b++)
		for (t = 0.1; t <= 0.5; t += 0.1) {
			for (k = 0; k < 3; k++)
				p[k] = carina[k] + t * (bend[b][k] - carina[k]);
			i = pvox(v, p[0], p[1], p[2]);
			assert_int_equal(an->airways[i], 1);
			assert_int_equal(an->lungs[i], LUNG_NONE);
		}
	for (k = 0; k < v->nz; k++)
		for (y = 15.0; y <= 45.0; y += v->spacing[1])
			for (x = -15.0; x <= 15.0; x += v->spacing[0]) {
				z = v->origin[2] + k * v->spacing[2];
				if (z >= carina[2] && e2(x, y, 0, 30, 9, 9) <=
				    1.0)
					tr += an->lungs[pvox(v, x, y, z)] != 0;
			}
	assert_int_equal(tr, 0);
	/* The sides, on both sides of the junction (at x = 0 the lungs
	 * meet above and below the heart's fat, z 20-32 and 88-130 mm). */
	assert_int_equal(an->lungs[pvox(v, -20, -68, 100)], LUNG_RIGHT);
	assert_int_equal(an->lungs[pvox(v, 20, -68, 100)], LUNG_LEFT);
	assert_int_equal(an->lungs[pvox(v, -20, -68, 26)], LUNG_RIGHT);
	assert_int_equal(an->lungs[pvox(v, 20, -68, 26)], LUNG_LEFT);
	assert_int_equal(an->lungs[pvox(v, -82, 5, 75)], LUNG_RIGHT);
	assert_int_equal(an->lungs[pvox(v, 85, 5, 75)], LUNG_LEFT);
	for (i = 0; i < (size_t)v->nx * v->ny * v->nz; i++) {
		x = v->origin[0] + (double)(i % v->nx) * v->spacing[0];
		y = v->origin[1] + (double)(i / v->nx % v->ny) * v->spacing[1];
		z = v->origin[2] + (double)(i / ((size_t)v->nx * v->ny)) *
		    v->spacing[2];
		s = truth(sp, x, y, z);
		/* Where the tongues overlap either side is right. */
		if (s == LUNG_NONE || an->lungs[i] == LUNG_NONE ||
		    fabs(x) <= 6.0)
			continue;
		tot++;
		wrong += an->lungs[i] != s;
	}
	print_message("  %-28s %9.3f %%\n", "voxels on the wrong side",
	    100.0 * wrong / tot);
	assert_true(wrong <= 0.002 * tot);
	/* The juxtapleural nodule lies inside the lung. */
	for (z = sp->jp_center[2] - r; z <= sp->jp_center[2] + r;
	    z += v->spacing[2])
		for (y = sp->jp_center[1] - r; y <= sp->jp_center[1] + r;
		    y += v->spacing[1])
			for (x = sp->jp_center[0] - r; x <= sp->jp_center[0] +
			    r; x += v->spacing[0]) {
				if (pow(x - sp->jp_center[0], 2) + pow(y -
				    sp->jp_center[1], 2) + pow(z -
				    sp->jp_center[2], 2) > r * r ||
				    e2(x, y, -82, 5, 52, 72) > 1.0)
					continue;
				jn++;
				jin += an->lungs[pvox(v, x, y, z)] ==
				    LUNG_RIGHT;
			}
	print_message("  %-28s %9.1f %% of %ld voxels (%.0f mm)\n",
	    "juxtapleural nodule inside", 100.0 * jin / jn, jn, sp->jp_mm);
	assert_true(jn > 50 && jin >= 0.95 * jn);
	assert_int_equal(an->lungs_complete, 1);
	assert_string_equal(an->lungs_why, "");
	/* The spine: the vertebral bodies' centre at (0, 80), away from
	 * the discs and their partial volume. */
	for (k = 0; k < v->nz; k++) {
		double	 zz = v->origin[2] + k * v->spacing[2], px, py;

		if (fmod(zz, 30.0) < 3.0 || fmod(zz, 30.0) > 22.0)
			continue;
		slices++;
		px = v->origin[0] + an->spine_xy[2 * k] * v->spacing[0];
		py = v->origin[1] + an->spine_xy[2 * k + 1] * v->spacing[1];
		good += hypot(px - 0.0, py - 80.0) <= 3.0;
	}
	print_message("  %-28s %d of %d slices\n", "spine within 3 mm", good,
	    slices);
	assert_true(slices > 0 && good == slices);
}

static void
test_phantom_variant(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[256];

	(void)state;
	variant_spec(&sp);
	anatomy_phantom(&sp, &v);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 2, ANAT_LUNGS | ANAT_SPINE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  airways, junction, nodule: %.2f s\n", an->seconds);
	check_variant(&sp, v, an);
	anatomy_cache_free(ac);
	series_free(v);
}

/* With noise (20 HU, as a low-dose chest): the same figures. */
static void
test_phantom_noise(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[256];

	(void)state;
	variant_spec(&sp);
	sp.noise_hu = 20.0;
	sp.seed = 7;
	anatomy_phantom(&sp, &v);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 3, ANAT_LUNGS | ANAT_SPINE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  with 20 HU noise: %.2f s\n", an->seconds);
	check_variant(&sp, v, an);
	anatomy_cache_free(ac);
	series_free(v);
}

/* A larger juxtapleural nodule, 16 mm, its centre 4 mm inside the
 * pleura: inside the lung too. */
static void
test_phantom_nodule16(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[256];

	(void)state;
	variant_spec(&sp);
	sp.jp_center[0] = -130.0;
	sp.jp_mm = 16.0;
	anatomy_phantom(&sp, &v);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 8, ANAT_LUNGS | ANAT_SPINE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	check_variant(&sp, v, an);
	anatomy_cache_free(ac);
	series_free(v);
}

/* Lungs cut by the scan's ends or by the field of view. */
static void
test_phantom_cut(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[256];

	(void)state;
	assert_non_null(ac = anatomy_cache_new());
	/* The apices above the scan. */
	variant_spec(&sp);
	sp.lung_z[1] = 200.0;
	anatomy_phantom(&sp, &v);
	if (anatomy_get(ac, cpu, v, 4, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  apices cut: %d %s\n", an->lungs_complete,
	    an->lungs_why);
	assert_int_equal(an->lungs_complete, 0);
	assert_non_null(strstr(an->lungs_why, "肺尖未包含在扫描范围内"));
	assert_null(strstr(an->lungs_why, "肺底"));
	series_free(v);
	/* The bases below it. */
	variant_spec(&sp);
	sp.lung_z[0] = -10.0;
	anatomy_phantom(&sp, &v);
	if (anatomy_get(ac, cpu, v, 5, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  bases cut: %d %s\n", an->lungs_complete,
	    an->lungs_why);
	assert_int_equal(an->lungs_complete, 0);
	assert_non_null(strstr(an->lungs_why, "肺底未包含"));
	assert_null(strstr(an->lungs_why, "肺尖"));
	series_free(v);
	/* A reconstruction circle of 220 mm: the lungs reach its edge. */
	variant_spec(&sp);
	sp.fov_mm = 220.0;
	anatomy_phantom(&sp, &v);
	if (anatomy_get(ac, cpu, v, 6, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  small field: %d %s; right %.0f mL, left %.0f mL\n",
	    an->lungs_complete, an->lungs_why,
	    an->lung[LUNG_RIGHT].volume_ml, an->lung[LUNG_LEFT].volume_ml);
	assert_int_equal(an->lungs_complete, 0);
	assert_non_null(strstr(an->lungs_why, "肺野被重建视野截断"));
	assert_true(an->lung[LUNG_RIGHT].volume_ml > 100.0 &&
	    an->lung[LUNG_LEFT].volume_ml > 100.0);
	series_free(v);
	/* No lungs in the series at all: empty masks, not an error. */
	variant_spec(&sp);
	sp.lung_z[0] = 300.0;
	sp.lung_z[1] = 400.0;
	anatomy_phantom(&sp, &v);
	if (anatomy_get(ac, cpu, v, 7, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  no lungs: %d %s; right %.0f mL, left %.0f mL\n",
	    an->lungs_complete, an->lungs_why,
	    an->lung[LUNG_RIGHT].volume_ml, an->lung[LUNG_LEFT].volume_ml);
	assert_int_equal(an->lungs_complete, -1);
	assert_true(an->lung[LUNG_RIGHT].volume_ml == 0.0 &&
	    an->lung[LUNG_LEFT].volume_ml == 0.0);
	series_free(v);
	anatomy_cache_free(ac);
}

/* The cache: parts added to what is there, another series replaces it,
 * the lobes and the heart of their own modules. */
static void
test_cache(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an, *an2;
	char			 err[256];
	double			 t;

	(void)state;
	phantom_standard(&sp, 5.0, 120);
	sp.nplaques = 0;
	anatomy_phantom(&sp, &v);
	assert_non_null(ac = anatomy_cache_new());
	assert_int_equal(anatomy_get(ac, cpu, v, 10, ANAT_BODY, &an, err,
	    sizeof(err)), 0);
	assert_int_equal(an->have, ANAT_BODY);
	assert_null(an->lungs);
	assert_int_equal(anatomy_get(ac, cpu, v, 10, ANAT_LUNGS, &an2, err,
	    sizeof(err)), 0);
	assert_ptr_equal(an, an2);
	assert_int_equal(an->have, ANAT_BODY | ANAT_LUNGS);
	assert_non_null(an->lungs);
	t = an->seconds;
	assert_int_equal(anatomy_get(ac, cpu, v, 10, ANAT_LUNGS | ANAT_BODY,
	    &an2, err, sizeof(err)), 0);
	assert_true(an2->seconds == t);
	/* Another series: computed again, only what is asked. */
	assert_int_equal(anatomy_get(ac, cpu, v, 11, ANAT_SPINE, &an2, err,
	    sizeof(err)), 0);
	assert_int_equal(an2->series_id, 11);
	assert_int_equal(an2->have, ANAT_SPINE);
	assert_null(an2->lungs);
	/* The lobes (lobes.c) on the lungs they imply, each lung voxel in
	 * a lobe of its own side; the heart (heart.c) where the phantom's
	 * is. */
	assert_int_equal(anatomy_get(ac, cpu, v, 11, ANAT_LOBES, &an2, err,
	    sizeof(err)), 0);
	assert_int_equal(an2->have, ANAT_SPINE | ANAT_BODY | ANAT_LUNGS |
	    ANAT_LOBES);
	assert_non_null(an2->lobes);
	{
		size_t	 i, nv = (size_t)v->nx * v->ny * v->nz, bad = 0;
		size_t	 lungv = 0;

		for (i = 0; i < nv; i++) {
			if (an2->lungs[i] == LUNG_NONE) {
				bad += an2->lobes[i] != LOBE_NONE;
				continue;
			}
			lungv++;
			if (an2->lungs[i] == LUNG_RIGHT)
				bad += an2->lobes[i] < LOBE_RUL ||
				    an2->lobes[i] > LOBE_RLL;
			else
				bad += an2->lobes[i] < LOBE_LUL ||
				    an2->lobes[i] > LOBE_LLL;
		}
		assert_true(lungv > 0);
		assert_int_equal(bad, 0);
	}
	assert_true(an2->lobe_info.method_zh[0] != '\0');
	assert_int_equal(anatomy_get(ac, cpu, v, 11, ANAT_HEART, &an2, err,
	    sizeof(err)), 0);
	assert_true(an2->have & ANAT_HEART);
	assert_true(an2->heart.found);
	assert_true(fabs(an2->heart.center[0] - phantom_anatomy.heart_c[0]) <
	    15.0);
	assert_true(fabs(an2->heart.center[1] - phantom_anatomy.heart_c[1]) <
	    15.0);
	assert_string_equal(lung_side_zh[LUNG_RIGHT], "右肺");
	assert_string_equal(lobe_zh[LOBE_LLL], "左肺下叶");
	anatomy_cache_free(ac);
	series_free(v);
}

/* ---- the real chest CT ---- */

static char *
slurp(const char *path)
{
	FILE	*f;
	long	 n;
	char	*s;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	(void)fseek(f, 0, SEEK_END);
	n = ftell(f);
	(void)fseek(f, 0, SEEK_SET);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	s[fread(s, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return s;
}

/*
 * The readers' nodule contours of an LIDC reading file (its <roi>
 * elements: <imageZposition>, <inclusion>, <edgeMap> <xCoord>/<yCoord>
 * in pixels), those of at least 8 points: each contour's inside on its
 * slice is counted (*n) and how much of it the lungs hold (*in).
 */
static void
nodule_inside(const char *xmlpath, const struct series_volume *v,
    const struct anatomy *an, long *in, long *n, double *zlo, double *zhi)
{
	char	*s, *r, *end, *q;
	int	 px[512], py[512], np, k, kbest, x, y, i, j, x0, x1, y0, y1;
	double	 z, d, best;
	size_t	 pl = (size_t)v->nx * v->ny;

	*in = *n = 0;
	*zlo = INFINITY;
	*zhi = -INFINITY;
	assert_non_null(s = slurp(xmlpath));
	for (r = strstr(s, "<roi>"); r != NULL; r = strstr(end, "<roi>")) {
		assert_non_null(end = strstr(r, "</roi>"));
		*end = '\0';
		end++;
		if (strstr(r, "<inclusion>TRUE") == NULL ||
		    (q = strstr(r, "<imageZposition>")) == NULL)
			continue;
		z = strtod(q + strlen("<imageZposition>"), NULL);
		np = 0;
		for (q = strstr(r, "<xCoord>"); q != NULL && np < 512;
		    q = strstr(q + 1, "<xCoord>")) {
			char	*yc = strstr(q, "<yCoord>");

			if (yc == NULL)
				break;
			px[np] = atoi(q + strlen("<xCoord>"));
			py[np++] = atoi(yc + strlen("<yCoord>"));
		}
		if (np < 8)
			continue;
		kbest = -1;
		best = INFINITY;
		for (k = 0; k < v->nz; k++) {
			d = fabs(v->origin[2] + k * v->step[2] - z);
			if (d < best) {
				best = d;
				kbest = k;
			}
		}
		if (kbest < 0 || best > v->spacing[2] / 2)
			continue;
		if (z < *zlo)
			*zlo = z;
		if (z > *zhi)
			*zhi = z;
		x0 = x1 = px[0];
		y0 = y1 = py[0];
		for (i = 1; i < np; i++) {
			if (px[i] < x0) x0 = px[i];
			if (px[i] > x1) x1 = px[i];
			if (py[i] < y0) y0 = py[i];
			if (py[i] > y1) y1 = py[i];
		}
		/* The contour and its inside (even-odd rule). */
		for (y = y0; y <= y1; y++)
			for (x = x0; x <= x1; x++) {
				int	 c = 0, on = 0;

				for (i = 0, j = np - 1; i < np; j = i++) {
					if (px[i] == x && py[i] == y)
						on = 1;
					if ((py[i] > y) != (py[j] > y) &&
					    x < (double)(px[j] - px[i]) *
					    (y - py[i]) / (py[j] - py[i]) +
					    px[i])
						c = !c;
				}
				if (!c && !on)
					continue;
				(*n)++;
				*in += an->lungs[(size_t)kbest * pl +
				    (size_t)y * v->nx + x] != 0;
			}
	}
	free(s);
}

static void
test_lidc(void **state)
{
	char			 dir[1024], sub[1024], xml[2400], err[256];
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	double			 t0, tl, zlo, zhi, ztop, tan;
	double			 full[LUNG_SIDE__MAX] = { 0 };
	long			 in, n, tr = 0;
	size_t			 pl;
	int			 k, x, y, ktop, s;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/ct/LIDC-IDRI-0002", realdata_dir());
	if (realdata_find_dcm_dir(dir, sub, sizeof(sub)) == -1) {
		print_message("  %s not found: skipping the real-data test\n",
		    dir);
		skip();
	}
	t0 = now_s();
	assert_int_equal(realdata_load(sub, &v, xml, sizeof(xml)), 0);
	tl = now_s() - t0;
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 100, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	tan = an->seconds;
	if (anatomy_get(ac, cpu, v, 100, ANAT_SPINE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  LIDC-IDRI-0002 %d x %d x %d: load %.2f s, body and "
	    "lungs %.2f s, spine %.2f s (%s)\n", v->nx, v->ny, v->nz, tl,
	    tan, an->seconds - tan, cpu->device);
	/* The spine: seen on most slices, its centre in bone (the mean of
	 * the 5 x 5 voxels round it above 100 HU: not the spinal canal)
	 * near the middle of the image's width. */
	{
		int	 seen = 0, inbone = 0;

		pl = (size_t)v->nx * v->ny;
		for (k = 0; k < v->nz; k++) {
			double	 sx = an->spine_xy[2 * k];
			double	 sy = an->spine_xy[2 * k + 1], m = 0;
			int	 a, b;

			if (isnan(sx))
				continue;
			seen++;
			for (b = -2; b <= 2; b++)
				for (a = -2; a <= 2; a++)
					m += v->vox[k * pl + (size_t)(lround(sy) +
					    b) * v->nx + (size_t)(lround(sx) +
					    a)] / 25.0;
			if (m > 100.0 &&
			    fabs(sx - v->nx / 2.0) * v->spacing[0] < 40.0)
				inbone++;
			else
				dump_slice(v, an, k, "lidc-spine");
		}
		print_message("  spine on %d of %d slices, %d of them in bone "
		    "near the midline\n", seen, v->nz, inbone);
		assert_true(seen >= 0.9 * v->nz);
		assert_true(inbone >= 0.9 * seen);
	}
	for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++)
		print_message("  %s: %.0f mL, mean %.0f HU, LAA-950 %.2f %%\n",
		    s == LUNG_RIGHT ? "right" : "left",
		    an->lung[s].volume_ml, an->lung[s].mean_hu,
		    an->lung[s].laa950_pct);
	print_message("  complete: %d %s\n", an->lungs_complete,
	    an->lungs_why);
	/* The series runs from the neck to the upper abdomen (its
	 * README): the lungs are whole. */
	assert_int_equal(an->lungs_complete, 1);
	for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++)
		assert_true(an->lung[s].volume_ml >= 1500.0 &&
		    an->lung[s].volume_ml <= 4500.0);
	/* The trachea on the top slices (the 20 mm from the top): no lung
	 * voxel in it, and the airways there. */
	pl = (size_t)v->nx * v->ny;
	ktop = v->step[2] >= 0 ? v->nz - 1 : 0;
	ztop = v->origin[2] + ktop * v->step[2];
	{
		long	 aw = 0;

		for (k = 0; k < v->nz; k++) {
			if (fabs(v->origin[2] + k * v->step[2] - ztop) > 20.0)
				continue;
			for (y = 0; y < v->ny; y++)
				for (x = 0; x < v->nx; x++) {
					size_t	 i = k * pl + (size_t)y *
					    v->nx + x;

					if (!an->airways[i])
						continue;
					aw++;
					tr += an->lungs[i] != 0;
				}
		}
		print_message("  airways on the top 20 mm: %ld voxels, %ld "
		    "of them lung\n", aw, tr);
		assert_true(aw > 1000);
		assert_int_equal(tr, 0);
	}
	for (k = 0; k < v->nz; k += 10)
		dump_slice(v, an, k, "lidc");
	dump_slice(v, an, ktop, "lidc");
	for (y = 200; y <= 320; y += 30)
		dump_coronal(v, an, y, "lidc");
	/* The trachea's lumen there: within 6 mm of the airways' centre on
	 * each top slice, no lung, and the air (below -900 HU) airway. */
	{
		long	 lung6 = 0, air6 = 0, airw6 = 0;

		for (k = 0; k < v->nz; k++) {
			double	 sx = 0, sy = 0, c = 0;

			if (fabs(v->origin[2] + k * v->step[2] - ztop) > 20.0)
				continue;
			for (y = 0; y < v->ny; y++)
				for (x = 0; x < v->nx; x++)
					if (an->airways[k * pl + (size_t)y *
					    v->nx + x]) {
						sx += x;
						sy += y;
						c++;
					}
			assert_true(c > 0);
			for (y = 0; y < v->ny; y++)
				for (x = 0; x < v->nx; x++) {
					size_t	 i = k * pl + (size_t)y *
					    v->nx + x;

					if (hypot((x - sx / c) * v->spacing[0],
					    (y - sy / c) * v->spacing[1]) >
					    6.0)
						continue;
					lung6 += an->lungs[i] != 0;
					if (v->vox[i] < -900.0f) {
						air6++;
						airw6 += an->airways[i];
					}
				}
		}
		print_message("  trachea, top 20 mm, within 6 mm of its centre: "
		    "%ld lung voxels; %ld of %ld air voxels airway\n", lung6,
		    airw6, air6);
		assert_int_equal(lung6, 0);
		assert_true(air6 > 1000 && airw6 >= 0.99 * air6);
	}
	/* No bone in the lungs: the pleural closing bridges the concavity
	 * round the vertebrae and rib heads without taking them in (a lung
	 * voxel of 300 HU or more beside a bone voxel outside the lungs
	 * would be bone the closing added). */
	{
		long	 bone = 0;

		for (k = 0; k < v->nz; k++)
			for (y = 1; y < v->ny - 1; y++)
				for (x = 1; x < v->nx - 1; x++) {
					size_t	 i = k * pl + (size_t)y *
					    v->nx + x;
					size_t	 nb[4] = { i - 1, i + 1,
					    i - v->nx, i + v->nx };
					int	 q;

					if (an->lungs[i] == 0 ||
					    v->vox[i] < 300.0f)
						continue;
					for (q = 0; q < 4; q++)
						if (an->lungs[nb[q]] == 0 &&
						    v->vox[nb[q]] >= 300.0f) {
							bone++;
							break;
						}
				}
		print_message("  lung voxels of bone joined to bone outside the"
		    " lungs: %ld\n", bone);
		assert_int_equal(bone, 0);
	}
	/* The readers' nodule. */
	if (*xml == '\0') {
		print_message("  no reading file: the nodule not checked\n");
	} else {
		nodule_inside(xml, v, an, &in, &n, &zlo, &zhi);
		print_message("  the readers' nodule (z %.1f..%.1f): %.1f %% "
		    "of %ld voxels inside the lungs\n", zlo, zhi,
		    n ? 100.0 * in / n : 0.0, n);
		assert_true(n > 500);
		assert_true(in >= 0.95 * n);
	}
	/* The same series reconstructed on a field of 210 mm: the lungs
	 * cut by it, and said to be. */
	for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++)
		full[s] = an->lung[s].volume_ml;
	{
		double	 r2 = 105.0 * 105.0, dx, dy;
		long	 pad = 0;

		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++) {
				dx = (x - (v->nx - 1) / 2.0) * v->spacing[0];
				dy = (y - (v->ny - 1) / 2.0) * v->spacing[1];
				if (dx * dx + dy * dy <= r2)
					continue;
				pad++;
				for (k = 0; k < v->nz; k++)
					v->vox[k * pl + (size_t)y * v->nx +
					    x] = -2048.0f;
			}
		assert_true(pad > 0);
		if (anatomy_get(ac, cpu, v, 101, ANAT_LUNGS, &an, err,
		    sizeof(err)) == -1)
			fail_msg("%s", err);
		print_message("  on a 210 mm field: right %.0f mL, left %.0f "
		    "mL, %.2f s; %d %s\n", an->lung[LUNG_RIGHT].volume_ml,
		    an->lung[LUNG_LEFT].volume_ml, an->seconds,
		    an->lungs_complete, an->lungs_why);
		assert_int_equal(an->lungs_complete, 0);
		assert_non_null(strstr(an->lungs_why, "肺野被重建视野截断"));
		/* What is left of each lung, and nothing else (no air
		 * outside the body, which the circle now touches too). */
		for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++)
			assert_true(an->lung[s].volume_ml >= 0.5 * full[s] &&
			    an->lung[s].volume_ml <= 1.01 * full[s]);
	}
	anatomy_cache_free(ac);
	series_free(v);
}

#ifdef HAVE_CUDA
/* The masks of v on the CPU and on gpu: the same but for a few voxels
 * (the backends' float sums may round differently). */
static void
cuda_compare(struct compute *gpu, const struct series_volume *v,
    const char *what)
{
	struct anatomy_cache	*a1, *a2;
	const struct anatomy	*c1, *c2;
	char			 err[256];
	size_t			 i, n;
	long			 dl = 0, db = 0, da = 0, ds = 0;
	int			 k;

	assert_non_null(a1 = anatomy_cache_new());
	assert_non_null(a2 = anatomy_cache_new());
	if (anatomy_get(a1, cpu, v, 1, ANAT_LUNGS | ANAT_SPINE, &c1, err,
	    sizeof(err)) == -1 || anatomy_get(a2, gpu, v, 1,
	    ANAT_LUNGS | ANAT_SPINE, &c2, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	n = (size_t)v->nx * v->ny * v->nz;
	for (i = 0; i < n; i++) {
		dl += c1->lungs[i] != c2->lungs[i];
		db += c1->body[i] != c2->body[i];
		da += c1->airways[i] != c2->airways[i];
	}
	for (k = 0; k < v->nz; k++)
		ds += !(c1->spine_xy[2 * k] == c2->spine_xy[2 * k] ||
		    (isnan(c1->spine_xy[2 * k]) &&
		    isnan(c2->spine_xy[2 * k])));
	print_message("  %s: cpu %.2f s, %s %.2f s; differing voxels: lungs "
	    "%ld, body %ld, airways %ld; spine slices %ld\n", what,
	    c1->seconds, gpu->device, c2->seconds, dl, db, da, ds);
	near("right lung, cuda (mL)", c2->lung[LUNG_RIGHT].volume_ml,
	    c1->lung[LUNG_RIGHT].volume_ml, 0.001);
	near("left lung, cuda (mL)", c2->lung[LUNG_LEFT].volume_ml,
	    c1->lung[LUNG_LEFT].volume_ml, 0.001);
	assert_true(dl <= (long)(n / 100000));
	assert_true(db <= (long)(n / 100000));
	assert_true(da <= (long)(n / 100000));
	assert_true(ds <= v->nz / 50);
	anatomy_cache_free(a1);
	anatomy_cache_free(a2);
}
#endif

/* The CUDA backend gives the same masks as the CPU, on the phantom and
 * on the real series when present (skipped without a device). */
static void
test_cuda_agrees(void **state)
{
#ifdef HAVE_CUDA
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct compute		*gpu;
	char			 err[256], dir[1024], sub[1024], xml[2400];

	(void)state;
	if (compute_cuda_devices() == 0) {
		print_message("  no CUDA device: skipping\n");
		skip();
	}
	assert_non_null(gpu = compute_cuda_open(err, sizeof(err)));
	variant_spec(&sp);
	sp.noise_hu = 20.0;
	sp.seed = 7;
	anatomy_phantom(&sp, &v);
	cuda_compare(gpu, v, "phantom");
	series_free(v);
	(void)snprintf(dir, sizeof(dir), "%s/ct/LIDC-IDRI-0002", realdata_dir());
	if (realdata_find_dcm_dir(dir, sub, sizeof(sub)) == 0) {
		assert_int_equal(realdata_load(sub, &v, xml, sizeof(xml)), 0);
		cuda_compare(gpu, v, "LIDC-IDRI-0002");
		series_free(v);
	}
	compute_close(gpu);
#else
	(void)state;
	print_message("  built without CUDA: skipping\n");
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phantom_standard),
		cmocka_unit_test(test_phantom_variant),
		cmocka_unit_test(test_phantom_noise),
		cmocka_unit_test(test_phantom_nodule16),
		cmocka_unit_test(test_phantom_cut),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_cuda_agrees),
	};

	/* The anatomy's steps: ZY_DEBUG=1. */
	if (getenv("ZY_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	/* One test by name: ZY_TEST=test_lidc. */
	if (getenv("ZY_TEST") != NULL)
		cmocka_set_test_filter(getenv("ZY_TEST"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
