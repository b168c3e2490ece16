/*
 * test_bodycomp.c - body composition at a lumbar level
 * (src/infer/bodycomp.c) on the spine phantom's trunk (src/lib/phantom.c,
 * spine_trunk()): skin 2 mm, subcutaneous fat, an elliptic muscle ring of
 * the abdominal wall with eight islands of intermuscular fat, the erector
 * spinae with an island each, the psoas, visceral fat round the viscera
 * and kidneys.  The slice through the middle of L3 at 0.625, 1.25 and
 * 2.5 mm with 15 HU of noise.
 *
 * The truth: each compartment's area integrated from the phantom's
 * geometry on a 0.1 mm grid (phantom_spine_tissue()), with the paraspinal
 * zone of bodycomp.c (behind the vertebral body's front, within 45 % of
 * the trunk's half-width at the body's centre: the ring's part there is
 * paraspinal muscle; no muscle in the canal behind the body);
 * the CT numbers (muscle 40 HU, fat -100 HU): the mean that a perfect
 * outline would take from the same noisy slice, partial volume and all:
 * the voxels in the compartment's window that touch it (for the thin
 * islands of intermuscular fat about -90 HU, for the thick compartments
 * within 3 HU of the tissue's own).  Asserted: every area within 3 %, every mean
 * CT number within 2 HU.
 */
#include "config.h"

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
#include "bmd.h"
#include "bodycomp.h"
#include "compute.h"
#include "reader.h"
#include "phantom.h"
#include "series.h"
#include "spine.h"

#define SLAB_MM		16.0
#define GRID_MM		0.1
#define L3_INDEX	5	/* in phantom_spine_standard()'s list */

/* Whether slab() puts the organs against the wall (phantom.h,
 * phantom_spine_organ()). */
static int organs;

/* The phantom with L3's middle at the middle of an odd number of slices
 * over SLAB_MM; its slice index into *k. */
static void
slab(struct phantom_spec *sp, double mm, double noise, int *k)
{
	double	 c[3];
	int	 nz;

	phantom_spine_standard(sp, mm, noise, 0.0);
	sp->spine.organs = organs;
	phantom_spine_center(sp, L3_INDEX, c);
	sp->spine.top -= c[2] - sp->nz * sp->slice_mm / 2.0;
	nz = (int)ceil(SLAB_MM / mm);
	if (nz % 2 == 0)
		nz++;
	sp->nz = nz;
	*k = nz / 2;
}

/* The compartment of phantom tissue t at (x, y) mm. */
static enum bc_tissue
truth_of(enum phantom_tissue t, double x, double y, double zw)
{
	int	 zone = y >= 40.0 - PHANTOM_BODY_B && fabs(x) <= zw;

	/* the canal behind the body: no muscle there */
	if (fabs(x) < 11.0 && y > 40.0 + PHANTOM_BODY_B && y < 40.0 +
	    PHANTOM_BODY_B + 20.0)
		return t == PT_VAT ? BC_VAT : BC_NONE;
	switch (t) {
	case PT_SAT:
		return BC_SAT;
	case PT_VAT:
		return BC_VAT;
	case PT_RING:
		return zone ? BC_PARA_MUSCLE : BC_WALL_MUSCLE;
	case PT_RING_IMAT:
		return zone ? BC_PARA_IMAT : BC_WALL_IMAT;
	case PT_ERECTOR:
	case PT_PSOAS:
		return BC_PARA_MUSCLE;
	case PT_PARA_IMAT:
		return BC_PARA_IMAT;
	default:
		return BC_NONE;
	}
}

/* With ZY_BC_PICS=DIR, the colour picture as DIR/bodycomp-MM.ppm, to
 * look at. */
static void
write_picture(const struct series_volume *v, const struct bodycomp *bc,
    double mm)
{
	const char	*dir = getenv("ZY_BC_PICS");
	unsigned char	*rgb;
	char		 path[512];
	FILE		*f;

	if (dir == NULL || *dir == '\0')
		return;
	assert_int_equal(bodycomp_picture(v, bc, &rgb), 0);
	(void)snprintf(path, sizeof(path), "%s/bodycomp-%s%.3g.ppm", dir,
	    organs ? "organs-" : "", mm);
	assert_non_null(f = fopen(path, "wb"));
	(void)fprintf(f, "P6\n%d %d\n255\n", bc->nx, bc->ny);
	assert_int_equal(fwrite(rgb, 3, (size_t)bc->nx * bc->ny, f),
	    (size_t)bc->nx * bc->ny);
	assert_int_equal(fclose(f), 0);
	free(rgb);
}

static void
check_at(double mm)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct vertebra		 vb;
	struct bodycomp		 bc;
	double			 area[BC__MAX], c[3], x, y, z, zw, ideal[BC__MAX];
	double			 half = 128.0, sum[BC__MAX];
	long			 cnt[BC__MAX];
	char			 err[256];
	int			 k, t, i, j;

	slab(&sp, mm, 15.0, &k);
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	phantom_spine_center(&sp, L3_INDEX, c);
	z = (k + 0.5) * mm;
	assert_true(fabs(c[2] - z) < 1e-6);

	/* The vertebra as spine.c gives it: centre and box, voxels. */
	memset(&vb, 0, sizeof(vb));
	vb.label = SPINE_L3;
	vb.key_slice = k;
	vb.c[0] = (0.0 + half - sp.pixel_mm / 2.0) / sp.pixel_mm;
	vb.c[1] = (40.0 + half - sp.pixel_mm / 2.0) / sp.pixel_mm;
	vb.c[2] = k;
	vb.x0 = (int)lround(vb.c[0] - PHANTOM_BODY_A / sp.pixel_mm);
	vb.x1 = (int)lround(vb.c[0] + PHANTOM_BODY_A / sp.pixel_mm);
	vb.y0 = (int)lround(vb.c[1] - PHANTOM_BODY_B / sp.pixel_mm);
	vb.y1 = (int)lround(vb.c[1] + PHANTOM_BODY_B / sp.pixel_mm);

	/* The areas, integrated. */
	zw = 0.45 * 125.0 * sqrt(1.0 - (40.0 / 95.0) * (40.0 / 95.0));
	memset(area, 0, sizeof(area));
	for (y = -half + GRID_MM / 2.0; y < half; y += GRID_MM)
		for (x = -half + GRID_MM / 2.0; x < half; x += GRID_MM)
			area[truth_of(phantom_spine_tissue(&sp, x, y, z), x, y,
			    zw)] += GRID_MM * GRID_MM / 100.0;

	/* The ideal means: the voxels in the compartment's window of which
	 * a 4 x 4 sub-sample lies in it (what a perfect outline would take
	 * from this noisy slice, partial volume and all). */
	memset(sum, 0, sizeof(sum));
	memset(cnt, 0, sizeof(cnt));
	for (j = 0; j < sp.ny; j++)
		for (i = 0; i < sp.nx; i++) {
			double	 h = v->vox[((size_t)k * sp.ny + j) * sp.nx +
			    i], xc = -half + (i + 0.5) * sp.pixel_mm,
			    yc = -half + (j + 0.5) * sp.pixel_mm;
			int	 a, b, fat, mus, seen[BC__MAX];

			fat = h >= BC_FAT_LO && h <= BC_FAT_HI;
			mus = h >= BC_MUSCLE_LO && h <= BC_MUSCLE_HI;
			if (!fat && !mus)
				continue;
			memset(seen, 0, sizeof(seen));
			for (b = 0; b < 4; b++)
				for (a = 0; a < 4; a++) {
					double	 xs = xc + ((a + 0.5) / 4 -
					    0.5) * sp.pixel_mm, ys = yc +
					    ((b + 0.5) / 4 - 0.5) *
					    sp.pixel_mm;

					seen[truth_of(phantom_spine_tissue(&sp,
					    xs, ys, z), xs, ys, zw)] = 1;
				}
			for (t = 1; t < BC__MAX; t++) {
				int	 isfat = t <= BC_PARA_IMAT;

				if (seen[t] && (isfat ? fat : mus)) {
					sum[t] += h;
					cnt[t]++;
				}
			}
		}
	for (t = 1; t < BC__MAX; t++)
		ideal[t] = cnt[t] > 0 ? sum[t] / cnt[t] : NAN;

	assert_int_equal(bodycomp_measure(v, k, &vb, &bc, err, sizeof(err)),
	    0);
	write_picture(v, &bc, mm);
	for (t = 1; t < BC__MAX; t++) {
		double	 e = (bc.area_cm2[t] - area[t]) / area[t];

		print_message("%s%.3g mm %-8s area %7.2f cm² (truth %7.2f, "
		    "%+.2f %%)  HU %7.2f (truth %7.2f)\n", organs ?
		    "organs " : "", mm,
		    bc_tissue_zh[t], bc.area_cm2[t], area[t], 100.0 * e,
		    bc.hu[t], ideal[t]);
	}
	for (t = 1; t < BC__MAX; t++) {
		assert_true(area[t] > 0.5);
		assert_true(fabs(bc.area_cm2[t] - area[t]) <= 0.03 * area[t]);
		assert_true(fabs(bc.hu[t] - ideal[t]) <= 2.0);
	}
	bodycomp_free(&bc);
	series_free(v);
}

static void
test_phantom_0_625(void **state)
{
	(void)state;
	check_at(0.625);
}

static void
test_phantom_1_25(void **state)
{
	(void)state;
	check_at(1.25);
}

static void
test_phantom_2_5(void **state)
{
	(void)state;
	check_at(2.5);
}

/*
 * The same trunk with organs of muscle density against the wall's inner
 * face, with no fat between (a lobe of liver, two bowel loops, one of
 * them with gas, the colon with gas; phantom_spine_organ()): none of
 * their pixels is muscle, so the same bounds hold with the truth taken
 * without them.
 */
static void
test_organs(void **state)
{
	(void)state;
	organs = 1;
	check_at(0.625);
	check_at(1.25);
	check_at(2.5);
	organs = 0;
}

/* A slice without a body: refused with a reason, nothing measured. */
static void
test_no_body(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct vertebra		 vb;
	struct bodycomp		 bc;
	char			 err[256];
	size_t			 p;
	int			 k;

	(void)state;
	slab(&sp, 2.5, 0.0, &k);
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	for (p = 0; p < (size_t)sp.nx * sp.ny; p++)
		v->vox[(size_t)k * sp.nx * sp.ny + p] = -1000.0f;
	memset(&vb, 0, sizeof(vb));
	assert_int_equal(bodycomp_measure(v, k, &vb, &bc, err, sizeof(err)),
	    1);
	assert_non_null(strstr(err, "未见躯体"));
	assert_null(bc.map);
	series_free(v);
}

/*
 * The reader's own path: the whole spine phantom at 2.5 mm, its vertebrae
 * found and labelled by the shared anatomy (spine.c), the body
 * composition at L3 by bmd_body_to_ai(): L3 chosen, the same areas
 * within 3 % of the truth of check_at(), the colour map and the sagittal
 * view drawn, the sentences and the table written, the index with a
 * height of 1.70 m.
 */
static void
test_reader_path(void **state)
{
	static const double truth[BC__MAX] = { 0, 72.71, 78.91, 3.02, 2.65,
	    60.71, 18.05 };
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct compute		*cpu;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	const struct vertebra	*l3 = NULL;
	struct ai_result	 res;
	struct bodycomp		 bc;
	struct timespec		 t0, t1;
	char			 err[256];
	size_t			 i;
	int			 t;

	(void)state;
	phantom_spine_standard(&sp, 2.5, 15.0, 0.0);
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	assert_non_null(cpu = compute_cpu_open());
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	for (i = 0; i < an->spine.n; i++)
		if (an->spine.v[i].label == SPINE_L3)
			l3 = &an->spine.v[i];
	assert_non_null(l3);
	print_message("  L3: slice %d centre %.1f %.1f box %d-%d x %d-%d\n",
	    l3->key_slice, l3->c[0], l3->c[1], l3->x0, l3->x1, l3->y0,
	    l3->y1);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(bodycomp_measure(v, l3->key_slice, l3, &bc, err,
	    sizeof(err)), 0);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("  body composition of the slice: %.3f s\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	write_picture(v, &bc, 25.0);
	for (t = 1; t < BC__MAX; t++) {
		print_message("  %-8s %7.2f cm² (truth %7.2f)  %7.2f HU\n",
		    bc_tissue_zh[t], bc.area_cm2[t], truth[t], bc.hu[t]);
		assert_true(fabs(bc.area_cm2[t] - truth[t]) <= 0.03 *
		    truth[t]);
	}
	bodycomp_free(&bc);
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(&an->spine, v, &res, err, sizeof(err)),
	    0);
	assert_int_equal(bmd_body_to_ai(&an->spine, v, 1.70, 'F', &res, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(res.findings, "身体成分（L3椎体中部层面"));
	assert_non_null(strstr(res.findings, "cm²/m²（身高170 cm）"));
	assert_non_null(strstr(res.extra, "\"body_composition\""));
	assert_non_null(strstr(res.extra, "\"level\":\"L3\""));
	assert_int_equal(res.npictures, 2);
	assert_string_equal(res.pictures[0].name, "sagittal");
	assert_string_equal(res.pictures[1].name, "bodycomp");
	assert_int_equal(res.pictures[1].width, 320);
	assert_true(res.pictures[0].len > 1000 && res.pictures[1].len > 1000);
	ai_result_free(&res);
	/* Without a height: no index, said so. */
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(&an->spine, v, &res, err, sizeof(err)),
	    0);
	assert_int_equal(bmd_body_to_ai(&an->spine, v, NAN, 0, &res, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(res.findings, "身高未知，未计算骨骼肌指数"));
	assert_non_null(strstr(res.extra, "\"smi\":null"));
	ai_result_free(&res);
	anatomy_cache_free(ac);
	compute_close(cpu);
	series_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phantom_0_625),
		cmocka_unit_test(test_phantom_1_25),
		cmocka_unit_test(test_phantom_2_5),
		cmocka_unit_test(test_organs),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_reader_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
