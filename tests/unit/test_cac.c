/*
 * test_cac.c - the coronary calcium reader against phantoms whose scores
 * are known from their geometry, and on a real chest CT.
 *
 * Each coronary plaque of the standard phantom is a cylinder along z of
 * radius r and length L = 15 mm, of one density h (at 120 kV), whose
 * ends fall on slab boundaries at every slice thickness tested.  Then,
 * independently of the reader:
 *
 *	Agatston = pi r^2 * w(h) * L / 3 mm	(area x weight on L / t
 *						 slices, times t / 3 mm)
 *	volume   = pi r^2 * L
 *	mass     = c * pi r^2 * L * (h - b) / 1000	(mg; c in mg/cm^3 per HU,
 *						 b the background: the wall)
 *
 * The voxels on the plaque's rim hold a part of it (partial volume): a
 * rim voxel holding the fraction f of calcium reads f h + (1 - f) b over
 * the artery's wall b = 40 HU around it, and counts when that reaches the
 * threshold T, i.e. when f >= f* = (T - b) / (h - b).  Along a straight
 * edge f falls from 1 to 0 over one pixel p, so the counted disc has the
 * radius r + (0.5 - f*) p: the Agatston and volume scores are compared
 * with that disc within 12.5 % (what is left is the pixel grid's
 * staircase).  The mass score loses the calcium of the voxels under the
 * threshold: it is compared with the true mass within 20 % (the error
 * shrinks as plaques grow; McCollough 2007 reports the same bias).
 * Densities and T scale with the tube voltage as in the phantom.
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
#include "cac.h"
#include "compute.h"
#include "phantom.h"
#include "realdata.h"
#include "preview.h"
#include "series.h"

#define T_PI		3.14159265358979323846
/* Agatston and volume: a plaque of 2.5 mm radius covers some 25 pixels
 * of 0.9 mm, one pixel is 4 % of it, and its rim's pixels cross the
 * threshold in groups on the symmetric grid. */
#define TOL		0.125
#define TOL_MASS	0.20
#define FAT_HU		-100.0
#define WALL_HU		40.0		/* the artery round a plaque */
#define CALIBRATION_120	0.75		/* mg/cm³ per HU, the default */

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

static const char *
out_dir(void)
{
	const char	*o = getenv("ZY_OUT");

	if (o == NULL || *o == '\0')
		return NULL;
	(void)mkdir(o, 0755);
	return o;
}

static void
test_definitions(void **state)
{
	(void)state;
	assert_int_equal(cac_weight(129.9), 0);
	assert_int_equal(cac_weight(130), 1);
	assert_int_equal(cac_weight(199.9), 1);
	assert_int_equal(cac_weight(200), 2);
	assert_int_equal(cac_weight(299), 2);
	assert_int_equal(cac_weight(300), 3);
	assert_int_equal(cac_weight(400), 4);
	assert_int_equal(cac_weight(1500), 4);
	assert_int_equal(cac_drs(0), 0);
	assert_int_equal(cac_drs(1), 1);
	assert_int_equal(cac_drs(99.9), 1);
	assert_int_equal(cac_drs(100), 2);
	assert_int_equal(cac_drs(299), 2);
	assert_int_equal(cac_drs(300), 3);
	assert_non_null(strstr(cac_category_zh(0), "无"));
	assert_non_null(strstr(cac_category_zh(50), "1–99"));
	assert_non_null(strstr(cac_category_zh(100), "100–399"));
	assert_non_null(strstr(cac_category_zh(400), "≥400"));
	/* 147 HU at 100 kV (Nakazato 2009) */
	assert_true(fabs(130.0 * cac_kv_factor(100) - 147.0) < 1.0);
	assert_true(cac_kv_factor(120) == 1.0);
	assert_true(cac_kv_factor(80) > cac_kv_factor(100));
	assert_true(cac_kv_factor(140) < 1.0);
}

/* The figures of a plaque: Agatston and volume of the disc that the
 * threshold keeps (see above), the mass of the whole plaque. */
static void
analytic(const struct phantom_plaque *p, double cal, double pixel,
    double kvp, double *ag, double *vol, double *mass)
{
	double	 F = phantom_calcium_factor(kvp);
	double	 fs = (130.0 * F - WALL_HU) / (p->hu * F - WALL_HU);
	double	 re = p->radius_mm + (0.5 - fs) * pixel;
	double	 area = T_PI * re * re;

	*ag = area * cac_weight(p->hu) * p->length_mm / 3.0;
	*vol = area * p->length_mm;
	/* The calcium's excess over the artery's wall it lies in, as the
	 * reader measures it: its CT number scales with the voltage, the
	 * wall's not. */
	*mass = cal * T_PI * p->radius_mm * p->radius_mm * p->length_mm *
	    (p->hu - WALL_HU / F) / 1000.0;
}

static void
near(const char *what, double got, double want, double tol)
{
	double	 e = fabs(got - want) / want;

	print_message("    %-28s %9.2f  analytic %9.2f  (%+.1f %%)\n", what,
	    got, want, 100.0 * (got - want) / want);
	if (!(e <= tol))
		fail_msg("%s: %.3f, expected %.3f within %.0f %%", what, got,
		    want, 100.0 * tol);
}

/* The kept lesion nearest to plaque p (axis and z middle), or NULL. */
static const struct cac_lesion *
lesion_of(const struct cac_result *r, const struct phantom_plaque *p,
    int kept)
{
	const struct cac_lesion	*best = NULL;
	double			 d, bd = 1e9, zm = p->z0 + p->length_mm / 2;
	size_t			 i;

	for (i = 0; i < r->nlesions; i++) {
		const struct cac_lesion *l = &r->lesions[i];

		if ((l->excluded == CAC_KEPT) != kept)
			continue;
		d = hypot(hypot(l->centroid[0] - p->center[0],
		    l->centroid[1] - p->center[1]), l->centroid[2] - zm);
		if (d < bd) {
			bd = d;
			best = l;
		}
	}
	return bd < 6.0 ? best : NULL;
}

/* Score the standard phantom at a thickness and voltage and check every
 * plaque against its analytic figures and artery. */
static void
check_spec(struct phantom_spec *spp, double tol, double tol_mass)
{
	struct phantom_spec	 sp = *spp;
	struct series_volume	*v;
	struct cac_result	 r;
	char			 err[256], what[64];
	double			 ag, vol, mass, tag = 0, tvol = 0, tmass = 0;
	double			 slice_mm = sp.slice_mm, kvp = sp.kvp;
	double			 noise = sp.noise_hu;
	size_t			 i;
	clock_t			 t0 = clock();

	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_int_equal((int)v->kvp, (int)kvp);
	if (cac_score(cpu, v, NULL, NULL, &r, err, sizeof(err)) == -1)
		fail_msg("cac_score: %s", err);
	if (r.verdict != CAC_SCORED)
		fail_msg("not scored: %s", r.why);
	print_message("  %.3g mm, %.0f kV, noise %.0f HU: %dx%dx%d, %.1f s;"
	    " heart at %.0f,%.0f,%.0f, root %.0f,%.0f,%.0f\n", slice_mm, kvp,
	    noise, v->nx, v->ny, v->nz, (double)(clock() - t0) /
	    CLOCKS_PER_SEC, r.heart_center[0], r.heart_center[1],
	    r.heart_center[2], r.aortic_root[0], r.aortic_root[1],
	    r.aortic_root[2]);
	for (i = 0; i < r.nlesions; i++)
		print_message("    region: %s %s at %.1f,%.1f,%.1f, %.1f mm3,"
		    " fat %.2f\n", cac_exclusion_names[r.lesions[i].excluded],
		    r.lesions[i].excluded == CAC_KEPT ?
		    cac_artery_names[r.lesions[i].artery] : "",
		    r.lesions[i].centroid[0], r.lesions[i].centroid[1],
		    r.lesions[i].centroid[2], r.lesions[i].volume_mm3,
		    r.lesions[i].fat);
	for (i = 0; i < sp.nplaques; i++)
		print_message("    plaque %s at %.1f,%.1f z %.1f-%.1f\n",
		    phantom_site_names[sp.plaques[i].site],
		    sp.plaques[i].center[0], sp.plaques[i].center[1],
		    sp.plaques[i].z0, sp.plaques[i].z0 +
		    sp.plaques[i].length_mm);
	assert_true(r.heart_found);
	assert_true(fabs(r.threshold_hu - 130.0 * cac_kv_factor(kvp)) < 1e-9);
	for (i = 0; i < sp.nplaques; i++) {
		const struct phantom_plaque *p = &sp.plaques[i];
		const struct cac_lesion *l;
		enum cac_artery		 want;

		switch (p->site) {
		case PHANTOM_LM: want = CAC_LM; break;
		case PHANTOM_LAD: want = CAC_LAD; break;
		case PHANTOM_LCX: want = CAC_LCX; break;
		case PHANTOM_RCA: want = CAC_RCA; break;
		default:
			/* Aorta and valve: found, and not counted. */
			if (lesion_of(&r, p, 1) != NULL)
				fail_msg("%s plaque counted as coronary",
				    phantom_site_names[p->site]);
			l = lesion_of(&r, p, 0);
			print_message("    %-28s excluded: %s\n",
			    phantom_site_names[p->site], l == NULL ?
			    "not in the heart's box" :
			    cac_exclusion_names[l->excluded]);
			/* The aorta's is far from the heart: outside, or
			 * not even looked at; the valve's is found; a free
			 * one (costal cartilage) is anything but coronary. */
			if (p->site == PHANTOM_FREE)
				continue;
			if (p->site == PHANTOM_AORTA)
				assert_true(l == NULL ||
				    l->excluded == CAC_EX_OUTSIDE);
			else {
				assert_non_null(l);
				assert_true(l->excluded == CAC_EX_VALVE ||
				    l->excluded == CAC_EX_INTRACARDIAC);
			}
			continue;
		}
		if ((l = lesion_of(&r, p, 1)) == NULL)
			fail_msg("%s plaque not found",
			    phantom_site_names[p->site]);
		if (l->artery != want)
			fail_msg("%s plaque assigned to %s",
			    phantom_site_names[p->site],
			    cac_artery_names[l->artery]);
		analytic(p, r.calibration, sp.pixel_mm, kvp, &ag, &vol,
		    &mass);
		(void)snprintf(what, sizeof(what), "%s Agatston",
		    phantom_site_names[p->site]);
		near(what, l->agatston, ag, tol);
		(void)snprintf(what, sizeof(what), "%s volume mm3",
		    phantom_site_names[p->site]);
		near(what, l->volume_mm3, vol, tol);
		(void)snprintf(what, sizeof(what), "%s mass mg",
		    phantom_site_names[p->site]);
		near(what, l->mass_mg, mass, tol_mass);
		assert_true(fabs(l->peak_hu / r.kv_factor - p->hu) <
		    1.0 + 4.0 * noise);
		tag += ag;
		tvol += vol;
		tmass += mass;
		assert_int_equal(r.artery[want].lesions, 1);
	}
	/* Nothing else counted: four plaques, four vessels. */
	assert_int_equal((int)r.nkept, 4);
	assert_int_equal(r.vessels, 4);
	near("total Agatston", r.total.agatston, tag, tol);
	near("total volume", r.total.volume_mm3, tvol, tol);
	near("total mass", r.total.mass_mg, tmass, tol_mass);
	/* No bone among the regions listed as lesions. */
	for (i = 0; i < r.nlesions; i++)
		if (r.lesions[i].excluded == CAC_KEPT)
			assert_true(r.lesions[i].volume_mm3 < 1000.0);
	cac_result_free(&r);
	series_free(v);
}

static void
check_standard(double slice_mm, double kvp, double noise, double tol,
    double tol_mass, double rca_hu)
{
	struct phantom_spec	 sp;
	size_t			 i;

	phantom_standard(&sp, slice_mm, kvp);
	sp.noise_hu = noise;
	sp.seed = 7;
	for (i = 0; i < sp.nplaques && rca_hu > 0; i++)
		if (sp.plaques[i].site == PHANTOM_RCA)
			sp.plaques[i].hu = rca_hu;
	check_spec(&sp, tol, tol_mass);
}

static void
test_thickness_3(void **state)
{
	(void)state;
	check_standard(3.0, 120, 0, TOL, TOL_MASS, 0);
}

static void
test_thickness_2_5(void **state)
{
	(void)state;
	check_standard(2.5, 120, 0, TOL, TOL_MASS, 0);
}

static void
test_thickness_1_25(void **state)
{
	(void)state;
	check_standard(1.25, 120, 0, TOL, TOL_MASS, 0);
}

static void
test_thickness_0_625(void **state)
{
	(void)state;
	check_standard(0.625, 120, 0, TOL, TOL_MASS, 0);
}

static void
test_kv(void **state)
{
	(void)state;
	check_standard(2.5, 80, 0, TOL, TOL_MASS, 0);
	check_standard(2.5, 100, 0, TOL, TOL_MASS, 0);
	check_standard(2.5, 140, 0, TOL, TOL_MASS, 0);
}

static void
test_noise(void **state)
{
	(void)state;
	/*
	 * Noise of 12 HU moves rim voxels across the threshold: 15 %.  The
	 * peak of a plaque of hundreds of voxels rises by 3-4 noise
	 * deviations, so the RCA plaque (180 HU, 20 under the 200 HU step
	 * of the weights) is made 250 HU here: Agatston's peak rule is
	 * that sensitive to noise, by definition.
	 */
	check_standard(1.25, 120, 12, 0.15, 0.25, 250);
}

/* No plaques: a zero score, CAC-DRS A0, in the words of the report. */
static void
test_zero(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct cac_result	 r;
	struct ai_result	 ai;
	char			 err[256];

	(void)state;
	phantom_standard(&sp, 3.0, 120);
	sp.nplaques = 0;
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	assert_int_equal(cac_score(cpu, v, NULL, NULL, &r, err, sizeof(err)),
	    0);
	assert_true(r.heart_found);
	assert_int_equal((int)r.nkept, 0);
	assert_true(r.total.agatston == 0.0);
	ai_result_init(&ai);
	assert_int_equal(cac_to_ai(&r, v, &ai), 0);
	assert_non_null(strstr(ai.findings, "未见钙化灶"));
	assert_non_null(strstr(ai.conclusion, "CAC-DRS A0"));
	assert_non_null(strstr(ai.conclusion, "无冠状动脉钙化"));
	assert_null(strstr(ai.conclusion, "/N"));
	ai_result_free(&ai);
	cac_result_free(&r);
	series_free(v);
}

/* No heart in the volume (a scan of air and a block of bone): nothing
 * scored, and the text says the heart was not found, not "0". */
static void
test_no_heart(void **state)
{
	struct series_volume	*v;
	struct cac_result	 r;
	struct ai_result	 ai;
	struct phantom_spec	 sp;
	char			 err[256];
	size_t			 i;

	(void)state;
	phantom_standard(&sp, 3.0, 120);
	sp.nx = sp.ny = 64;
	sp.nplaques = 0;
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	for (i = 0; i < (size_t)v->nx * v->ny * v->nz; i++)
		v->vox[i] = i % 97 == 0 ? 900.0f : -1000.0f;
	assert_int_equal(cac_score(cpu, v, NULL, NULL, &r, err, sizeof(err)),
	    0);
	assert_false(r.heart_found);
	assert_int_equal((int)r.nkept, 0);
	ai_result_init(&ai);
	assert_int_equal(cac_to_ai(&r, v, &ai), 0);
	assert_int_equal((int)ai.nlesions, 0);
	assert_int_equal(r.verdict, CAC_NOT_ASSESSABLE);
	assert_non_null(strstr(ai.findings, "定位心脏"));
	assert_non_null(strstr(ai.conclusion, "未能评估"));
	assert_null(strstr(ai.conclusion, "CAC-DRS"));
	ai_result_free(&ai);
	cac_result_free(&r);
	series_free(v);
}

/* The report text and the lesions of the standard phantom. */
static void
test_text(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct cac_result	 r;
	struct ai_result	 ai;
	char			 err[256], want[128];
	size_t			 i, kept = 0;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	assert_int_equal(cac_score(cpu, v, NULL, NULL, &r, err, sizeof(err)),
	    0);
	ai_result_init(&ai);
	assert_int_equal(cac_to_ai(&r, v, &ai), 0);
	print_message("  影像表现: %s\n  影像结论: %s\n", ai.findings,
	    ai.conclusion);
	assert_non_null(strstr(ai.findings, "钙化灶4处，累及4支血管"
	    "（LM、LAD、LCX、RCA）"));
	(void)snprintf(want, sizeof(want), "CAC-DRS A%d/N4",
	    cac_drs(r.total.agatston));
	assert_non_null(strstr(ai.conclusion, want));
	assert_non_null(strstr(ai.conclusion,
	    cac_category_zh(r.total.agatston)));
	assert_non_null(strstr(ai.findings, "主动脉根部/瓣膜区钙化1处"));
	assert_non_null(strstr(ai.method, "Agatston 1990"));
	assert_non_null(strstr(ai.method, "McCollough 2007"));
	/* Its limits and how it was checked, on every result page. */
	assert_non_null(strstr(ai.method, "局限："));
	assert_non_null(strstr(ai.method, "支架术后"));
	assert_non_null(strstr(ai.method, "尚无医生参考积分对照"));
	for (i = 0; i < ai.nlesions; i++) {
		const struct ai_lesion *l = &ai.lesions[i];

		assert_int_equal(l->id, (int)i + 1);
		assert_true(l->box.x0 <= l->box.x1 && l->box.y0 <= l->box.y1);
		assert_true(l->box.slice >= 0 && l->box.slice < v->nz);
		assert_true(l->confidence >= 0.5 && l->confidence <= 1.0);
		assert_true(l->findings[0] != '\0');
		if (strcmp(l->type, "冠脉钙化灶") == 0)
			kept++;
	}
	assert_int_equal((int)kept, 4);
	assert_true(ai.nkeys >= 1);
	ai_result_free(&ai);
	cac_result_free(&r);
	series_free(v);
}

/* A plaque whose ends fall inside slabs: within one slab of the exact. */
static void
test_unaligned(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct cac_result	 r;
	const struct cac_lesion	*l;
	char			 err[256];
	double			 ag, vol, mass;

	(void)state;
	phantom_standard(&sp, 3.0, 120);
	sp.plaques[1].z0 = 61.4;	/* LAD */
	sp.plaques[1].length_mm = 10.3;
	phantom_plaque_place(&sp.plaques[1]);
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	assert_int_equal(cac_score(cpu, v, NULL, NULL, &r, err, sizeof(err)),
	    0);
	assert_non_null(l = lesion_of(&r, &sp.plaques[1], 1));
	assert_int_equal(l->artery, CAC_LAD);
	analytic(&sp.plaques[1], r.calibration, sp.pixel_mm, 120, &ag, &vol,
	    &mass);
	/* Two end slabs partly filled: up to a slab's worth either way. */
	near("LAD unaligned volume", l->volume_mm3, vol, 3.0 / 10.3 + TOL);
	cac_result_free(&r);
	series_free(v);
}

/* Draw a box's outline into an 8-bit image. */
static void
draw_box(unsigned char *g, int w, int h, int x0, int y0, int x1, int y1)
{
	int	 x, y;

	for (x = x0; x <= x1; x++)
		if (x >= 0 && x < w) {
			if (y0 >= 0 && y0 < h) g[y0 * w + x] = 255;
			if (y1 >= 0 && y1 < h) g[y1 * w + x] = 255;
		}
	for (y = y0; y <= y1; y++)
		if (y >= 0 && y < h) {
			if (x0 >= 0 && x0 < w) g[y * w + x0] = 255;
			if (x1 >= 0 && x1 < w) g[y * w + x1] = 255;
		}
}

static void
png_write(const char *path, const unsigned char *g, int w, int h)
{
	struct buf	 b;
	FILE		*f;

	buf_init(&b, 64u << 20);
	assert_int_equal(preview_png_encode(g, w, h, &b), 0);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	assert_int_equal(fclose(f), 0);
	buf_free(&b);
}

/* Whether fine voxel x, y, k is in the heart mask of r. */
static int
in_heart(const struct series_volume *v, const struct cac_result *r, int x,
    int y, int k)
{
	long	 X = lround(x * v->spacing[0] / r->heart_sp[0]);
	long	 Y = lround(y * v->spacing[1] / r->heart_sp[1]);
	long	 Z = lround(k * v->spacing[2] / r->heart_sp[2]);

	return X >= 0 && Y >= 0 && Z >= 0 && X < r->heart_dims[0] &&
	    Y < r->heart_dims[1] && Z < r->heart_dims[2] &&
	    r->heart_mask[((size_t)Z * r->heart_dims[1] + Y) *
	    r->heart_dims[0] + X];
}

/* Whether fine voxel x, y, k is on the edge of the heart mask of r. */
static int
heart_edge(const struct series_volume *v, const struct cac_result *r,
    int x, int y, int k)
{
	return in_heart(v, r, x, y, k) && (!in_heart(v, r, x - 2, y, k) ||
	    !in_heart(v, r, x + 2, y, k) || !in_heart(v, r, x, y - 2, k) ||
	    !in_heart(v, r, x, y + 2, k));
}

static double
dist_mm(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) *
	    (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

static unsigned char
grey(float hu)
{
	double	 y = (hu + 160.0) / 400.0 * 255.0;

	return y < 0 ? 0 : y > 255 ? 255 : (unsigned char)y;
}

/*
 * Pictures of what the reader found, for a person to check: an axial
 * and a coronal slice through the heart's centre, mediastinal window,
 * the heart's outline in white and a box round every kept lesion on the
 * axial slice.  name-ax.png and name-cor.png in $ZY_OUT.
 */
static void
pictures(const struct series_volume *v, const struct cac_result *r,
    const char *name)
{
	const char	*o = out_dir();
	char		 path[1024];
	unsigned char	*g;
	int		 x, y, k, kc, yc, h, row;
	size_t		 i;

	if (o == NULL || r->heart_mask == NULL)
		return;
	kc = (int)lround((r->heart_center[2] - v->origin[2]) / v->step[2]);
	yc = (int)lround((r->heart_center[1] - v->origin[1]) /
	    v->spacing[1]);
	if (kc < 0 || kc >= v->nz || yc < 0 || yc >= v->ny)
		return;
	assert_non_null(g = malloc((size_t)v->nx * v->ny));
	for (y = 0; y < v->ny; y++)
		for (x = 0; x < v->nx; x++)
			g[(size_t)y * v->nx + x] = heart_edge(v, r, x, y, kc) ?
			    255 : grey(v->vox[((size_t)kc * v->ny + y) *
			    v->nx + x]);
	for (i = 0; i < r->nkept; i++) {
		const struct cac_lesion *l = &r->lesions[i];

		if (l->key_slice != kc)
			continue;
		draw_box(g, v->nx, v->ny, l->x0 - 4, l->y0 - 4, l->x1 + 4,
		    l->y1 + 4);
	}
	(void)snprintf(path, sizeof(path), "%s/%s-ax.png", o, name);
	png_write(path, g, v->nx, v->ny);
	free(g);
	/* Coronal, head up, at the pixels' spacing. */
	h = (int)lround(v->nz * fabs(v->step[2]) / v->spacing[0]);
	assert_non_null(g = malloc((size_t)v->nx * h));
	for (row = 0; row < h; row++) {
		k = (int)((h - 1 - row) * v->spacing[0] / fabs(v->step[2]));
		if (v->step[2] < 0)
			k = v->nz - 1 - k;
		if (k < 0)
			k = 0;
		if (k >= v->nz)
			k = v->nz - 1;
		for (x = 0; x < v->nx; x++)
			g[(size_t)row * v->nx + x] = heart_edge(v, r, x, yc,
			    k) ? 255 : grey(v->vox[((size_t)k * v->ny + yc) *
			    v->nx + x]);
	}
	(void)snprintf(path, sizeof(path), "%s/%s-cor.png", o, name);
	png_write(path, g, v->nx, h);
	free(g);
	print_message("  pictures: %s/%s-ax.png, -cor.png\n", o, name);
}

/* The diaphragm's domes under the lungs, the liver's at the height of
 * the heart's lower third: the heart is still the heart, and every
 * plaque scores as without them. */
static void
test_domes(void **state)
{
	struct phantom_spec	 sp;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	sp.domes = 1;
	check_spec(&sp, TOL, TOL_MASS);
}

/* A cardiac field of view, 250 mm round the heart, padded outside its
 * circle: the lungs reach the circle's edge and are lungs still. */
static void
test_small_fov(void **state)
{
	struct phantom_spec	 sp;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	sp.fov_mm = 250.0;
	sp.pixel_mm = 250.0 / sp.nx;
	sp.center[0] = phantom_anatomy.heart_c[0];
	sp.center[1] = phantom_anatomy.heart_c[1];
	check_spec(&sp, TOL, TOL_MASS);
}

/* Calcified costal cartilage beside the sternum is not coronary: the
 * four plaques score as ever, and nothing more is counted. */
static void
test_cartilage(void **state)
{
	struct phantom_spec	 sp;
	struct phantom_plaque	*p;
	int			 side;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	sp.cartilage = 1;
	for (side = -1; side <= 1; side += 2) {
		p = &sp.plaques[sp.nplaques++];
		memset(p, 0, sizeof(*p));
		p->site = PHANTOM_FREE;
		p->center[0] = side * 28.0;
		p->center[1] = -101.0;
		p->z0 = 65.0;
		p->length_mm = 10.0;
		p->radius_mm = 2.5;
		p->hu = 500.0;
	}
	check_spec(&sp, TOL, TOL_MASS);
}

/*
 * Contrast: chambers and aortas of enhanced blood (arterial 300 HU, a
 * late venous 130 HU) are refused with the blood's CT number, never
 * scored: the lumen is above the calcium threshold.
 */
static void
test_contrast(void **state)
{
	static const double	 blood[] = { 300.0, 130.0 };
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct cac_result	 r;
	struct ai_result	 ai;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(blood) / sizeof(blood[0]); i++) {
		phantom_standard(&sp, 2.5, 120);
		sp.blood_hu = blood[i];
		assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
		assert_int_equal(cac_score(cpu, v, NULL, NULL, &r, err,
		    sizeof(err)), 0);
		print_message("  blood %.0f HU: %s\n", blood[i], r.why);
		assert_int_equal(r.verdict, CAC_REFUSED);
		assert_non_null(strstr(r.why, "增强扫描"));
		assert_int_equal((int)r.nkept, 0);
		ai_result_init(&ai);
		assert_int_equal(cac_to_ai(&r, v, &ai), 0);
		assert_null(strstr(ai.conclusion, "CAC-DRS"));
		ai_result_free(&ai);
		cac_result_free(&r);
		series_free(v);
	}
}

/* What the headers say: a sharp kernel, a contrast agent, a description
 * of an enhanced series are refused by the check, before any scoring;
 * a plain standard series passes. */
static void
test_header_refusals(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	char			 err[256], why[512];
	static const char *const sharp[] = { "B70f", "LUNG", "L", "FC51",
	    "Br64", "BONEPLUS" };
	static const char *const soft[] = { "STANDARD", "B", "B30f", "FC03",
	    "Br40", "" };
	static const char *const enhanced[] = { "CTA CORONARY", "胸部增强",
	    "CHEST WITH IV CON", "C+ 动脉期", "Thorax CE 1.25" };
	static const char *const plain[] = { "2 Chest C-/Thorax", "胸部平扫",
	    "CHEST W/O CONTRAST", "NON-CON CHEST" };
	size_t			 i;

	(void)state;
	phantom_standard(&sp, 3.0, 120);
	sp.nx = sp.ny = 64;
	sp.pixel_mm = 384 * 0.9 / 64;
	assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(sharp) / sizeof(sharp[0]); i++) {
		(void)snprintf(v->kernel, sizeof(v->kernel), "%s", sharp[i]);
		assert_int_equal(cac_reader.check(v, why, sizeof(why)),
		    READER_REFUSES);
		assert_non_null(strstr(why, "锐利"));
	}
	for (i = 0; i < sizeof(soft) / sizeof(soft[0]); i++) {
		(void)snprintf(v->kernel, sizeof(v->kernel), "%s", soft[i]);
		assert_int_equal(cac_reader.check(v, why, sizeof(why)),
		    READER_FITS);
	}
	for (i = 0; i < sizeof(enhanced) / sizeof(enhanced[0]); i++) {
		(void)snprintf(v->description, sizeof(v->description), "%s",
		    enhanced[i]);
		assert_int_equal(cac_reader.check(v, why, sizeof(why)),
		    READER_REFUSES);
		assert_non_null(strstr(why, "增强"));
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		(void)snprintf(v->description, sizeof(v->description), "%s",
		    plain[i]);
		/* The study says enhanced; the series' own word wins. */
		(void)snprintf(v->study_description,
		    sizeof(v->study_description), "CHEST C+");
		assert_int_equal(cac_reader.check(v, why, sizeof(why)),
		    READER_FITS);
	}
	v->description[0] = '\0';
	assert_int_equal(cac_reader.check(v, why, sizeof(why)),
	    READER_REFUSES);
	v->study_description[0] = '\0';
	(void)snprintf(v->contrast_agent, sizeof(v->contrast_agent),
	    "OMNIPAQUE 350");
	assert_int_equal(cac_reader.check(v, why, sizeof(why)),
	    READER_REFUSES);
	assert_non_null(strstr(why, "OMNIPAQUE"));
	series_free(v);
}

/*
 * Lung-PET-CT-Dx: two patients' non-contrast chest CTs, each
 * reconstructed with a standard and a sharp kernel (5 mm Philips B and
 * L; 8 mm Siemens B40f and B70f), run through the reader directly as if
 * they were thin.  The standard ones: the heart is found above the
 * liver's dome and between the lungs, and no coronary lesion is
 * reported (the calcium the reader once counted there is the posterior
 * wall of the left atrium, a hilar node and costal cartilage; checked
 * on the pictures).  The sharp ones: refused for their noise, never
 * scored.
 */
static void
test_pet_ct(void **state)
{
	static const struct {
		const char	*dir;
		int		 sharp;
	} ser[] = {
		{ "Lung_Dx-A0001/5mm-B", 0 },
		{ "Lung_Dx-A0001/5mm-L", 1 },
		{ "Lung_Dx-A0002/8mm-B40f", 0 },
		{ "Lung_Dx-A0002/8mm-B70f", 1 },
	};
	struct cac_opts		 o;
	struct series_volume	*v;
	struct cac_result	 r;
	char			 dir[1024], err[512], name[64];
	size_t			 i, j;
	int			 ran = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.want_heart = 1;
	for (i = 0; i < sizeof(ser) / sizeof(ser[0]); i++) {
		(void)snprintf(dir, sizeof(dir), "%s/ct/lung-pet-ct-dx/%s",
		    realdata_dir(), ser[i].dir);
		if (realdata_load(dir, &v, NULL, 0) == -1)
			continue;
		ran++;
		if (cac_score(cpu, v, &o, NULL, &r, err, sizeof(err)) == -1)
			fail_msg("%s: %s", ser[i].dir, err);
		print_message("  %s: verdict %d %s; heart %s at %.0f,%.0f,%.0f;"
		    " noise %.1f HU, blood %.0f HU; %zu kept of %zu,"
		    " Agatston %.1f\n", ser[i].dir, r.verdict, r.why,
		    r.heart_found ? "found" : "not found", r.heart_center[0],
		    r.heart_center[1], r.heart_center[2], r.noise_hu,
		    r.blood_hu, r.nkept, r.nlesions, r.total.agatston);
		for (j = 0; j < r.nkept; j++)
			print_message("    kept %s at %.0f,%.0f,%.0f\n",
			    cac_artery_names[r.lesions[j].artery],
			    r.lesions[j].centroid[0], r.lesions[j].centroid[1],
			    r.lesions[j].centroid[2]);
		(void)snprintf(name, sizeof(name), "cac-petct-%s",
		    strchr(ser[i].dir, '/') + 1);
		pictures(v, &r, name);
		if (ser[i].sharp) {
			assert_int_equal(r.verdict, CAC_REFUSED);
			assert_non_null(strstr(r.why, "噪声"));
		} else {
			assert_int_equal(r.verdict, CAC_SCORED);
			assert_true(r.heart_found);
			/* Unenhanced blood, a standard kernel's noise. */
			assert_true(r.blood_hu > 20.0 && r.blood_hu < 70.0);
			assert_true(r.noise_hu < 15.0);
			/* In the chest's middle, left of the midline or near
			 * it: not the liver, which is right and low. */
			assert_true(fabs(r.heart_center[0] - (v->origin[0] +
			    v->spacing[0] * (v->nx - 1) / 2.0)) < 50.0);
			assert_int_equal((int)r.nkept, 0);
		}
		cac_result_free(&r);
		series_free(v);
	}
	if (ran == 0) {
		print_message("  %s/ct/lung-pet-ct-dx not found: skipping\n",
		    realdata_dir());
		skip();
	}
}

/* A volume cut from v: n x n pixels round (cx, cy) (fine voxels), the
 * circle inscribed in it reconstructed and the rest padding, as a
 * cardiac field of view shows the same chest. */
static struct series_volume *
cardiac_fov(const struct series_volume *v, int cx, int cy, int n)
{
	struct series_volume	*o;
	int			 x, y, k, sx, sy;
	double			 r2 = (n / 2.0) * (n / 2.0), u, w;

	assert_non_null(o = calloc(1, sizeof(*o)));
	*o = *v;
	o->warn = NULL;
	o->nwarn = 0;
	assert_non_null(o->slices = calloc((size_t)v->nz, sizeof(*o->slices)));
	memcpy(o->slices, v->slices, (size_t)v->nz * sizeof(*o->slices));
	o->nx = o->ny = n;
	assert_non_null(o->vox = malloc((size_t)n * n * v->nz *
	    sizeof(*o->vox)));
	sx = cx - n / 2;
	sy = cy - n / 2;
	for (k = 0; k < v->nz; k++)
		for (y = 0; y < n; y++)
			for (x = 0; x < n; x++) {
				u = x - (n - 1) / 2.0;
				w = y - (n - 1) / 2.0;
				o->vox[((size_t)k * n + y) * n + x] =
				    u * u + w * w > r2 || sx + x < 0 ||
				    sy + y < 0 || sx + x >= v->nx ||
				    sy + y >= v->ny ? -2048.0f :
				    v->vox[((size_t)k * v->ny + sy + y) *
				    v->nx + sx + x];
			}
	for (k = 0; k < 3; k++)
		o->origin[k] = v->origin[k] + sx * v->spacing[0] * v->row[k] +
		    sy * v->spacing[1] * v->col[k];
	return o;
}

/*
 * The mass score against inserts of known mass, as a site's calcium
 * phantom holds them (QRM's: hydroxyapatite 200, 400 and 800 mg/cm³,
 * cylinders 5 and 3 mm across and as long), in a water-equivalent body,
 * at 0.5, 1 and 3 mm and 80 to 140 kV.  An insert of density rho reads
 * rho / c_kV HU over water, c_kV = c / f(kV) (calcium attenuates more at
 * lower voltages); the reader's mass, with the calibration c, is then
 * rho x V for every insert: each within 10 %.  The inserts sit a
 * quarter of a slice off the slices' centres, as a scan finds them.
 */
static double
insert_hu(double x, double y, double z, const double (*ins)[3],
    const double *rho, const double *dia, int nins, double f)
{
	int	 i;

	if (x * x + y * y > 60.0 * 60.0)
		return -1000.0;
	for (i = 0; i < nins; i++) {
		double	 dx = x - ins[i][0], dy = y - ins[i][1];

		if (dx * dx + dy * dy <= dia[i] * dia[i] / 4.0 &&
		    fabs(z - ins[i][2]) <= dia[i] / 2.0)
			return rho[i] * f / CALIBRATION_120;
	}
	return 0.0;
}

static void
test_mass_inserts(void **state)
{
	static const double	 kvs[] = { 80, 100, 120, 140 };
	static const double	 slices[] = { 0.5, 1.0, 3.0 };
	double			 ins[6][3], rho[6], dia[6];
	struct series_volume	*v;
	struct phantom_spec	 sp;
	struct cac_lesion	*les;
	char			 err[256];
	size_t			 nl, j;
	int			 a, b, i, k, x, y, q, s2 = 4, nins = 0;
	double			 dx = 0.5, worst = 0.0;

	(void)state;
	for (a = 0; a < 3; a++)
		for (b = 0; b < 2; b++) {
			double	 ang = 2.0 * T_PI * nins / 6.0;

			ins[nins][0] = 35.0 * cos(ang);
			ins[nins][1] = 35.0 * sin(ang);
			rho[nins] = a == 0 ? 200.0 : a == 1 ? 400.0 : 800.0;
			dia[nins] = b == 0 ? 5.0 : 3.0;
			nins++;
		}
	for (k = 0; k < (int)(sizeof(kvs) / sizeof(kvs[0])); k++)
	for (q = 0; q < (int)(sizeof(slices) / sizeof(slices[0])); q++) {
		double	 dz = slices[q], f = phantom_calcium_factor(kvs[k]);

		/* A chest-sized grid of the standard phantom, then the
		 * inserts' body drawn over it. */
		phantom_standard(&sp, dz, kvs[k]);
		sp.nx = sp.ny = 260;
		sp.pixel_mm = dx;
		sp.nz = (int)lround(20.0 / dz);
		sp.nplaques = 0;
		sp.subsamples = 1;
		assert_int_equal(phantom_build(&sp, &v, err, sizeof(err)), 0);
		for (i = 0; i < nins; i++)
			ins[i][2] = 10.0 + dz / 4.0;
		for (i = 0; i < v->nz; i++)
			for (y = 0; y < v->ny; y++)
				for (x = 0; x < v->nx; x++) {
					double	 px = v->origin[0] + x * dx;
					double	 py = v->origin[1] + y * dx;
					double	 pz = (i + 0.5) * dz, acc = 0.0;
					int	 u, w, t, near = 0, m;

					/* Sub-samples where an edge may
					 * cross the voxel. */
					for (m = 0; m < nins; m++)
						near |= hypot(px - ins[m][0],
						    py - ins[m][1]) < dia[m] /
						    2.0 + 2.0 * dx;
					near |= fabs(hypot(px, py) - 60.0) <
					    2.0 * dx;
					if (!near) {
						v->vox[((size_t)i * v->ny +
						    y) * v->nx + x] = (float)
						    insert_hu(px, py, pz,
						    (const double (*)[3])ins,
						    rho, dia, nins, f);
						continue;
					}
					for (t = 0; t < s2; t++)
					for (w = 0; w < s2; w++)
					for (u = 0; u < s2; u++)
						acc += insert_hu(px + ((u + 0.5) /
						    s2 - 0.5) * dx, py + ((w +
						    0.5) / s2 - 0.5) * dx, pz +
						    ((t + 0.5) / s2 - 0.5) * dz,
						    (const double (*)[3])ins,
						    rho, dia, nins, f);
					v->vox[((size_t)i * v->ny + y) *
					    v->nx + x] = (float)(acc /
					    (s2 * s2 * s2));
				}
		assert_int_equal(cac_measure(cpu, v, CALIBRATION_120, &les,
		    &nl, err, sizeof(err)), 0);
		for (i = 0; i < nins; i++) {
			double	 want = rho[i] * T_PI * dia[i] * dia[i] / 4.0 *
			    dia[i] / 1000.0, e;
			const struct cac_lesion *l = NULL;

			for (j = 0; j < nl; j++)
				if (hypot(les[j].centroid[0] - ins[i][0],
				    les[j].centroid[1] - ins[i][1]) < 3.0)
					l = &les[j];
			if (l == NULL)
				fail_msg("%.0f kV, %.1f mm: the %.0f mg/cm³"
				    " %.0f mm insert not found", kvs[k], dz,
				    rho[i], dia[i]);
			e = (l->mass_mg - want) / want;
			if (fabs(e) > fabs(worst))
				worst = e;
			print_message("  %3.0f kV %.1f mm %3.0f mg/cm3 %.0f mm:"
			    " %6.2f mg, true %6.2f (%+.1f %%), background"
			    " %.0f HU\n", kvs[k], dz, rho[i], dia[i],
			    l->mass_mg, want, 100.0 * e, l->bg_hu);
			assert_true(fabs(e) <= 0.10);
		}
		free(les);
		series_free(v);
	}
	print_message("  worst insert: %+.1f %%\n", 100.0 * worst);
}

/* LIDC-IDRI-0002: a non-gated chest CT.  It must run, find the heart in
 * the middle of the chest, and give a plausible, finite result. */
static void
test_lidc(void **state)
{
	const char		*data = getenv("ZY_DATA");
	char			 base[1024], dir[1024], err[512], path[2400];
	size_t			 i;
	struct series_volume	*v = NULL;
	struct cac_result	 r, rf;
	struct ai_result	 ai;
	struct cac_opts		 o;
	struct series_volume	*fv;
	const char		*od;
	clock_t			 t0;

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
	t0 = clock();
	memset(&o, 0, sizeof(o));
	o.want_heart = 1;
	if (cac_score(cpu, v, &o, NULL, &r, err, sizeof(err)) == -1)
		fail_msg("cac_score: %s", err);
	pictures(v, &r, "cac-lidc-0002-heart");
	print_message("  LIDC-IDRI-0002: %dx%dx%d, %.2fx%.2fx%.2f mm, %.0f kV,"
	    " %.1f s: heart %s at %.0f,%.0f,%.0f, root %.0f,%.0f,%.0f;"
	    " %zu regions, %zu kept, Agatston %.1f, volume %.1f mm3,"
	    " mass %.1f mg\n", v->nx, v->ny, v->nz, v->spacing[0],
	    v->spacing[1], v->spacing[2], r.kvp, (double)(clock() - t0) /
	    CLOCKS_PER_SEC, r.heart_found ? "found" : "NOT found",
	    r.heart_center[0], r.heart_center[1], r.heart_center[2],
	    r.aortic_root[0], r.aortic_root[1], r.aortic_root[2],
	    r.nlesions, r.nkept, r.total.agatston, r.total.volume_mm3,
	    r.total.mass_mg);
	for (i = 0; i < r.nlesions; i++)
		print_message("    region %zu: %s %s, Agatston %.1f, %.1f mm3,"
		    " peak %.0f HU, at %.0f,%.0f,%.0f (slice %d), fat %.2f\n",
		    i + 1,
		    cac_exclusion_names[r.lesions[i].excluded],
		    r.lesions[i].excluded == CAC_KEPT ?
		    cac_artery_names[r.lesions[i].artery] : "",
		    r.lesions[i].agatston, r.lesions[i].volume_mm3,
		    r.lesions[i].peak_hu, r.lesions[i].centroid[0],
		    r.lesions[i].centroid[1], r.lesions[i].centroid[2],
		    r.lesions[i].key_slice, r.lesions[i].fat);
	assert_true(r.heart_found);
	/* The heart lies in the chest's middle third, left of the
	 * midline or near it, in front of the spine; the root above its
	 * centre. */
	assert_true(isfinite(r.total.agatston) && r.total.agatston >= 0.0);
	assert_true(r.aortic_root[2] > r.heart_center[2]);
	assert_true(fabs(r.heart_center[0] - (v->origin[0] +
	    v->spacing[0] * v->nx / 2.0)) < 60.0);
	ai_result_init(&ai);
	assert_int_equal(cac_to_ai(&r, v, &ai), 0);
	print_message("  影像表现: %s\n  影像结论: %s\n", ai.findings,
	    ai.conclusion);
	/* The pictures: the heart's middle slice, and the key slice of each
	 * of the first lesions, with the boxes of the lesions on it. */
	if ((od = out_dir()) != NULL) {
		size_t	 pic;
		double	 p[3];

		for (i = 0; i < 3; i++)
			p[i] = r.heart_center[i] - v->origin[i];
		for (pic = 0; pic <= ai.nlesions && pic < 4; pic++) {
			unsigned char	*g = NULL;
			int		 w, h, z;
			struct buf	 b;
			FILE		*f;

			z = pic > 0 ? ai.lesions[pic - 1].box.slice :
			    (int)lround((p[0] * v->normal[0] + p[1] *
			    v->normal[1] + p[2] * v->normal[2]) /
			    v->spacing[2]);
			if (z < 0 || z >= v->nz)
				z = v->nz / 2;
			assert_int_equal(preview_render(v, z, 40, 400, 0, &g,
			    &w, &h, err, sizeof(err)), 0);
			for (i = 0; i < ai.nlesions; i++)
				if (ai.lesions[i].box.slice == z)
					draw_box(g, w, h,
					    ai.lesions[i].box.x0 - 3,
					    ai.lesions[i].box.y0 - 3,
					    ai.lesions[i].box.x1 + 3,
					    ai.lesions[i].box.y1 + 3);
			buf_init(&b, 64u << 20);
			assert_int_equal(preview_png_encode(g, w, h, &b), 0);
			(void)snprintf(path, sizeof(path),
			    "%s/cac-lidc-0002-%zu.png", od, pic);
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
			assert_int_equal(fclose(f), 0);
			print_message("  picture: %s (slice %d%s)\n", path, z,
			    pic == 0 ? ", the heart's middle" : "");
			buf_free(&b);
			free(g);
		}
	}
	ai_result_free(&ai);

	/*
	 * The same chest reconstructed with a cardiac field of view: 250 mm
	 * round the heart, padding outside the circle, the lungs cut by it.
	 * The heart is found where it was, and the same calcium scored.
	 */
	fv = cardiac_fov(v, (int)lround((r.heart_center[0] - v->origin[0]) /
	    v->spacing[0]), (int)lround((r.heart_center[1] - v->origin[1]) /
	    v->spacing[1]), (int)lround(250.0 / v->spacing[0]));
	if (cac_score(cpu, fv, &o, NULL, &rf, err, sizeof(err)) == -1)
		fail_msg("cac_score, cardiac field: %s", err);
	print_message("  250 mm field: verdict %d %s; heart at %.0f,%.0f,%.0f;"
	    " %zu kept, Agatston %.1f\n", rf.verdict, rf.why,
	    rf.heart_center[0], rf.heart_center[1], rf.heart_center[2],
	    rf.nkept, rf.total.agatston);
	pictures(fv, &rf, "cac-lidc-0002-fov250");
	assert_int_equal(rf.verdict, CAC_SCORED);
	assert_true(dist_mm(rf.heart_center, r.heart_center) < 15.0);
	assert_int_equal((int)rf.nkept, (int)r.nkept);
	assert_true(fabs(rf.total.agatston - r.total.agatston) <=
	    0.1 * r.total.agatston + 0.5);
	cac_result_free(&rf);
	series_free(fv);
	cac_result_free(&r);
	series_free(v);
}

/* The reader run as the daemon runs it, on the heart of the anatomy
 * the series' jobs share (anatomy.h), gives what it gives on a heart of
 * its own; the heart is found once for the series. */
static void
test_shared_anatomy(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct reader_ctx	 ctx;
	struct ai_result	 own, shared;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 err[512];
	double			 t;
	size_t			 i;

	(void)state;
	phantom_standard(&sp, 2.5, 120);
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	memset(&ctx, 0, sizeof(ctx));
	ctx.compute = cpu;
	ctx.series_id = 7;
	ai_result_init(&own);
	ai_result_init(&shared);
	assert_int_equal(cac_reader.run(&ctx, v, &own, err, sizeof(err)), 0);
	assert_non_null(ac = anatomy_cache_new());
	ctx.anatomy = ac;
	assert_int_equal(cac_reader.run(&ctx, v, &shared, err, sizeof(err)),
	    0);
	assert_int_equal(anatomy_get(ac, cpu, v, 7, 0, &an, err, sizeof(err)),
	    0);
	assert_true(an->have & ANAT_HEART);
	assert_true(an->heart.found);
	t = an->seconds;
	ai_result_free(&shared);
	ai_result_init(&shared);
	assert_int_equal(cac_reader.run(&ctx, v, &shared, err, sizeof(err)),
	    0);
	assert_true(an->seconds == t);		/* not found again */
	assert_true(own.nlesions >= 4);	/* the four arteries, and what is excluded */
	assert_int_equal(shared.nlesions, own.nlesions);
	assert_int_equal(shared.nsummary, own.nsummary);
	for (i = 0; i < own.nsummary; i++) {
		assert_string_equal(shared.summary[i].name, own.summary[i].name);
		assert_true(shared.summary[i].value == own.summary[i].value);
	}
	assert_string_equal(shared.conclusion, own.conclusion);
	ai_result_free(&own);
	ai_result_free(&shared);
	anatomy_cache_free(ac);
	series_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_shared_anatomy),
		cmocka_unit_test(test_thickness_3),
		cmocka_unit_test(test_thickness_2_5),
		cmocka_unit_test(test_thickness_1_25),
		cmocka_unit_test(test_thickness_0_625),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_no_heart),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_domes),
		cmocka_unit_test(test_small_fov),
		cmocka_unit_test(test_cartilage),
		cmocka_unit_test(test_contrast),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_pet_ct),
		cmocka_unit_test(test_mass_inserts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
