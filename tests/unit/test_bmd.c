/*
 * test_bmd.c - the vertebrae (src/infer/spine.c) and the bone density
 * reader (src/infer/apps/bmd.c).
 *
 * The spine phantom (src/lib/phantom.c, phantom_spine_standard()): T10
 * cut by the top of the scan, T11 to L3 whole, L4 cut by the bottom; ribs
 * on T10-T12, transverse processes on the lumbar bodies; trabecular bone
 * of 200, 180, 150, 110, 90, 70 and 130 HU in a 1 mm cortex of 600 HU,
 * the basivertebral vein (40 HU) in each; T12 a wedge (ha/hp 0.70, 30 %:
 * Genant 2), L2 biconcave (hm/hp 0.775, 22.5 %: Genant 1); the spine
 * straight or leaning forwards by 12 degrees; at 0.625, 1.25 and 2.5 mm
 * with 15 HU of noise.  Asserted: the labels T11..L3, the trabecular mean
 * within 2 HU, heights within 0.3 mm (0.4 leaning) and areas within 3 %
 * (at 2.5 mm the heights within 1.05 mm, those whose endplates slope
 * across the depth within 0.45, and the grades printed, see
 * test_phantom_2_5), the Genant grades and shapes exact.
 * spine_plate_fit() on exact slices of an endplate at 20 places across
 * the slice, spine_plate_fit_lines() on 13 lines across a sloped one.  The Genant rule, the QCT and L1 bands at their edges;
 * the reader's refusals; T12 with its right rib only (labels kept, marked
 * uncertain, said so); the chest phantom, whose ribs do not reach the
 * spine (no labels, refused).  On the real chest CT of ../shared/data
 * (LIDC-IDRI-0002, T12 and L1 in view) the levels, CT numbers and
 * heights are printed, the labels T12 and L1 asserted; the 20 slices of
 * totalseg-example (T11-T12, no vertebra without ribs below) must not be
 * labelled, and its 3 mm abdomen is compared with TotalSegmentator's
 * labels and spine report (test_totalseg_nifti).  With ZY_BMD_PICS=DIR the tests write sagittal pictures with
 * the labels there, to check them by eye.
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
#include <dirent.h>
#include <zlib.h>

#include "anatomy.h"
#include "bmd.h"
#include "bodycomp.h"
#include "buf.h"
#include "compute.h"
#include "phantom.h"
#include "preview.h"
#include "realdata.h"
#include "reader.h"
#include "series.h"
#include "spine.h"

static struct compute	*cpu;

struct spine_info;
static void	print_spine(const struct spine_info *);

#define PIC_MM	0.5

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

/* ---- Sagittal pictures with the labels (ZY_BMD_PICS) ---- */

/* A 3 x 5 font for the labels. */
static const char *const glyph[] = {
	"T", "111010010010010", "L", "100100100100111",
	"0", "111101101101111", "1", "010110010010111",
	"2", "111001111100111", "3", "111001111001111",
	"4", "101101111001001", "5", "111100111001111",
	"6", "111100111101111", "7", "111001001001001",
	"8", "111101111101111", "9", "111101111001111",
	"?", "111001011000010",
};

static void
put_text(unsigned char *img, int w, int h, int x, int y, const char *s,
    int scale)
{
	size_t	 g;
	int	 i, a, b, c;

	for (; *s != '\0'; s++, x += 4 * scale) {
		for (g = 0; g < sizeof(glyph) / sizeof(glyph[0]); g += 2)
			if (glyph[g][0] == *s)
				break;
		if (g >= sizeof(glyph) / sizeof(glyph[0]))
			continue;
		for (i = 0; i < 15; i++) {
			if (glyph[g + 1][i] != '1')
				continue;
			for (b = 0; b < scale; b++)
				for (a = 0; a < scale; a++) {
					int	 px = x + (i % 3) * scale + a;
					int	 py = y + (i / 3) * scale + b;

					if (px >= 0 && py >= 0 && px < w &&
					    py < h)
						img[(size_t)py * w + px] = 255;
				}
		}
		(void)c;
	}
}

/* The sagittal plane of v through the bodies' median x, 1 mm pixels,
 * the head up, each body's label beside it and a tick at its centre. */
static void
sagittal_png(const struct series_volume *v, const struct spine_info *si,
    const char *name)
{
	const char	*dir = getenv("ZY_BMD_PICS");
	char		 path[4096];
	double		 xs[SPINE_BODIES_MAX], x = v->nx / 2.0, dz;
	unsigned char	*img;
	struct buf	 out;
	int		 W, H, r, c, up, k;
	size_t		 i, n = 0;
	FILE		*f;

	if (dir == NULL || *dir == '\0')
		return;
	for (i = 0; i < si->n; i++)
		xs[n++] = si->v[i].c[0];
	if (n > 0) {
		for (i = 1; i < n; i++) {
			double	 t = xs[i];
			size_t	 j = i;

			for (; j > 0 && xs[j - 1] > t; j--)
				xs[j] = xs[j - 1];
			xs[j] = t;
		}
		x = xs[n / 2];
	}
	dz = fabs(v->spacing[2]);
	/* Pixels of PIC_MM. */
	dz /= PIC_MM;
	W = (int)(v->ny * v->spacing[1] / PIC_MM);
	H = (int)(v->nz * dz);
	up = (v->step[2] != 0.0 ? v->step[2] : v->normal[2]) >= 0.0;
	if ((img = calloc((size_t)W * H, 1)) == NULL)
		return;
	for (r = 0; r < H; r++)
		for (c = 0; c < W; c++) {
			double	 kz = up ? (H - 1 - r) / dz : r / dz, val;
			int	 j = (int)(c * PIC_MM / v->spacing[1]);
			int	 kk = (int)kz;

			if (kk >= v->nz)
				kk = v->nz - 1;
			if (j >= v->ny)
				j = v->ny - 1;
			val = v->vox[((size_t)kk * v->ny + j) * v->nx +
			    (int)lround(x)];
			val = (val - (300.0 - 750.0)) / 1500.0 * 255.0;
			img[(size_t)r * W + c] = (unsigned char)(val < 0 ? 0 :
			    val > 255 ? 255 : val);
		}
	for (i = 0; i < si->n; i++) {
		const struct vertebra *b = &si->v[i];
		int	 row = (int)lround(up ? H - 1 - b->c[2] * dz : b->c[2] *
		    dz), col = (int)(b->c[1] * v->spacing[1] / PIC_MM);

		for (k = -24; k <= -8; k++)
			if (col + k >= 0 && row >= 0 && row < H)
				img[(size_t)row * W + col + k] = 255;
		put_text(img, W, H, col - 110, row - 10, b->partial ? "?" :
		    spine_label_name(b->label), 4);
	}
	buf_init(&out, 64u << 20);
	if (preview_png_encode(img, W, H, &out) == 0) {
		(void)snprintf(path, sizeof(path), "%s/%s.png", dir, name);
		if ((f = fopen(path, "wb")) != NULL) {
			(void)fwrite(out.data, 1, out.len, f);
			(void)fclose(f);
			print_message("  wrote %s\n", path);
		}
	}
	buf_free(&out);
	free(img);
}

/* ---- The rules ---- */

static void
test_genant(void **state)
{
	double		 loss;
	enum bmd_shape	 s;

	(void)state;
	/* Normal: 19 % is under grade 1. */
	assert_int_equal(bmd_genant(25.0, 25.0, 25.0, 25.0, &loss, &s), 0);
	assert_int_equal(s, BMD_SHAPE_NONE);
	assert_int_equal(bmd_genant(20.25, 25.0, 25.0, NAN, &loss, &s), 0);
	/* Wedge 22 %: grade 1; 30 %: 2; 45 %: 3. */
	assert_int_equal(bmd_genant(19.5, 24.0, 25.0, NAN, &loss, &s), 1);
	assert_int_equal(s, BMD_SHAPE_WEDGE);
	assert_true(fabs(loss - 0.22) < 1e-9);
	assert_int_equal(bmd_genant(17.5, 24.0, 25.0, NAN, &loss, &s), 2);
	assert_int_equal(bmd_genant(13.75, 24.0, 25.0, NAN, &loss, &s), 3);
	/* Biconcave: the middle lowest. */
	assert_int_equal(bmd_genant(27.0, 20.0, 27.0, NAN, &loss, &s), 2);
	assert_int_equal(s, BMD_SHAPE_BICONCAVE);
	/* Crush: the whole body lower than its neighbours. */
	assert_int_equal(bmd_genant(17.0, 16.5, 17.0, 27.0, &loss, &s), 2);
	assert_int_equal(s, BMD_SHAPE_CRUSH);
	/* The band edges: 25 % is grade 1, 40 % grade 2. */
	assert_int_equal(bmd_genant(18.75, 25.0, 25.0, NAN, &loss, &s), 1);
	assert_int_equal(bmd_genant(15.0, 25.0, 25.0, NAN, &loss, &s), 2);
	assert_int_equal(bmd_genant(NAN, 25.0, 25.0, NAN, &loss, &s), 0);
}

static void
test_bands(void **state)
{
	(void)state;
	assert_int_equal(bmd_qct_category(120.1), 0);
	assert_int_equal(bmd_qct_category(120.0), 1);
	assert_int_equal(bmd_qct_category(80.0), 1);
	assert_int_equal(bmd_qct_category(79.9), 2);
	assert_int_equal(bmd_l1_band(160.1), 0);
	assert_int_equal(bmd_l1_band(160.0), 1);
	assert_int_equal(bmd_l1_band(110.1), 1);
	assert_int_equal(bmd_l1_band(110.0), 2);
	/* The internal references: a scale that reads air at -1000 and fat
	 * at -100 is left as it is; one that reads 10 HU high everywhere
	 * is corrected. */
	assert_true(fabs(bmd_from_hu(100.0, -1000.0, -100.0) - 75.0) < 1e-9);
	assert_true(fabs(bmd_from_hu(110.0, -990.0, -90.0) - 75.0) < 1e-9);
	/* Implausible references are not used. */
	assert_true(fabs(bmd_from_hu(100.0, -500.0, -100.0) - 75.0) < 1e-9);
}

static void
test_edge(void **state)
{
	float	 p[200];
	int	 i;
	double	 e;

	(void)state;
	/* Trabecular 70 HU, a 1 mm cortex of 600 from 10 mm, then 80 HU:
	 * at 0.25 mm steps the edge is at 11 mm (between samples 43 and
	 * 44 the profile falls from 600 to 80: half-way at 43.5). */
	for (i = 0; i < 200; i++)
		p[i] = i < 40 ? 70.0f : i < 44 ? 600.0f : 80.0f;
	e = spine_edge(p, 200, 0.25);
	assert_true(fabs(e - 10.875) < 0.01);
	/* No bone: no edge. */
	for (i = 0; i < 200; i++)
		p[i] = 70.0f;
	assert_true(spine_edge(p, 200, 0.25) < 0.0);
}

/*
 * spine_plate_fit() on the slices of a line across an endplate: bone of
 * t HU, a 1 mm plate of 600 HU, the disc of 80 HU beyond, each slice the
 * exact mean over its rectangular profile of w mm; the edge at 20 places
 * across a slice.  Where the plate spans two slices its place is in the
 * data and the fit must find it (within 0.05 mm); where it lies within
 * one slice any place that keeps it there gives the same slices, and the
 * middle of them is within (w - 1) / 2 of the truth.  The edge of the
 * resampled profile's peak (spine_plate_edge()) is printed beside it.
 */
static void
test_plate_fit(void **state)
{
	static const double ws[] = { 0.625, 1.25, 2.5 };
	static const double ts[] = { 180.0, 110.0, 70.0 };
	float	 val[64], prof[161];
	double	 x[64], w, e, a, f, worst_fit, worst_peak, o, z;
	int	 q, r, ph, k, nk, s, two;

	(void)state;
	for (q = 0; q < 3; q++)
		for (r = 0; r < 3; r++) {
			w = ws[q];
			worst_fit = worst_peak = 0.0;
			for (ph = 0; ph < 20; ph++) {
				/* The edge at 10 mm; slices from -w + ph w / 20. */
				e = 10.0;
				nk = 0;
				two = 0;
				for (k = 0; k < 64; k++) {
					a = -w + ph * w / 20.0 + k * w;
					if (a + w > 40.0)
						break;
					o = fmax(0.0, fmin(a + w, e - 1.0) - a);
					f = fmax(0.0, fmin(a + w, e) -
					    fmax(a, e - 1.0));
					val[nk] = (float)((ts[r] * o + 600.0 *
					    f + 80.0 * (w - o - f)) / w);
					x[nk] = a + w / 2.0;
					if (f > 1e-6 && f < 1.0 - 1e-6)
						two = 1;
					nk++;
				}
				f = spine_plate_fit(val, x, nk, w, ts[r], 80.0,
				    e + 0.4 * w, 1.0);
				if (two && fabs(f - e) > 0.05)
					fail_msg("w %.3g t %.0f phase %d: %.3f "
					    "for %.3f (plate in two slices)",
					    w, ts[r], ph, f, e);
				if (fabs(f - e) > (w - 1.0) / 2.0 + 0.05 &&
				    fabs(f - e) > 0.05)
					fail_msg("w %.3g t %.0f phase %d: %.3f "
					    "for %.3f", w, ts[r], ph, f, e);
				worst_fit = fmax(worst_fit, fabs(f - e));
				/* The resampled profile, linear between the
				 * slices' middles, every 0.25 mm. */
				for (s = 0; s < 161; s++) {
					z = s * 0.25;
					for (k = 0; k + 1 < nk &&
					    x[k + 1] < z; k++)
						;
					if (k + 1 >= nk || z < x[0])
						prof[s] = val[k];
					else
						prof[s] = (float)(val[k] +
						    (val[k + 1] - val[k]) *
						    (z - x[k]) / w);
				}
				worst_peak = fmax(worst_peak,
				    fabs(spine_plate_edge(prof, 161, 0.25) -
				    e));
			}
			print_message("  plate fit, %.3g mm slices, bone %.0f "
			    "HU: worst %.2f mm (the peak's middle: %.2f)\n",
			    w, ts[r], worst_fit, worst_peak);
		}
}

/*
 * spine_plate_fit_lines() on 13 lines 0.5 mm apart across an endplate
 * that slopes by 0.15 mm per mm across them (a wedge's plate: T12's of
 * the phantom slopes 0.146), 2.5 mm slices, bone 110 HU, a 1 mm plate of
 * 600 HU, the disc of 80 HU, the exact slice means; the middle line's
 * edge at 20 places across a slice.  Where the plate crosses a slice's
 * boundary on some of the lines the fit must place the middle line's
 * edge within 0.1 mm, though its own slices may leave it 0.75 mm open;
 * a flat plate (no slope) within one slice on every line stays within
 * (w - 1) / 2, as one line alone.
 */
static void
test_plate_fit_lines(void **state)
{
	static const double slopes[] = { 0.15, -0.15, 0.0 };
	float	 val[13][64];
	double	 x[13][64], w = 2.5, e, ec, a, o, f, got, one, worst = 0.0;
	double	 worst_one = 0.0;
	struct spine_line ln[13];
	int	 q, ph, i, k, nk, two;

	(void)state;
	for (q = 0; q < 3; q++)
		for (ph = 0; ph < 20; ph++) {
			ec = 10.0 + ph * w / 20.0;
			two = 0;
			for (i = 0; i < 13; i++) {
				ln[i].dw = (i - 6) * 0.5;
				e = ec + slopes[q] * ln[i].dw;
				nk = 0;
				for (k = 0; k < 64; k++) {
					a = -w + k * w;
					if (a + w > 40.0)
						break;
					o = fmax(0.0, fmin(a + w, e - 1.0) - a);
					f = fmax(0.0, fmin(a + w, e) -
					    fmax(a, e - 1.0));
					val[i][nk] = (float)((110.0 * o +
					    600.0 * f + 80.0 * (w - o - f)) /
					    w);
					x[i][nk] = a + w / 2.0;
					if (f > 1e-6 && f < 1.0 - 1e-6)
						two = 1;
					nk++;
				}
				ln[i].val = val[i];
				ln[i].x = x[i];
				ln[i].nk = nk;
				ln[i].t = 110.0;
				ln[i].d = 80.0;
				ln[i].e0 = e + 0.4 * w;
			}
			got = spine_plate_fit_lines(ln, 13, w, ec + 0.4 * w,
			    1.0, NULL);
			one = spine_plate_fit_lines(&ln[6], 1, w, ec + 0.4 * w,
			    1.0, NULL);
			if (two && fabs(got - ec) > 0.1)
				fail_msg("slope %.2f phase %d: %.3f for %.3f "
				    "(the plate crosses a slice on some line)",
				    slopes[q], ph, got, ec);
			if (fabs(got - ec) > (w - 1.0) / 2.0 + 0.05)
				fail_msg("slope %.2f phase %d: %.3f for %.3f",
				    slopes[q], ph, got, ec);
			if (slopes[q] != 0.0 && two) {
				worst = fmax(worst, fabs(got - ec));
				worst_one = fmax(worst_one, fabs(one - ec));
			}
		}
	print_message("  plate fit over 13 lines, sloped 0.15, crossing a "
	    "slice on some line: worst %.2f mm (the middle line alone: "
	    "%.2f)\n", worst, worst_one);
	assert_true(worst <= 0.1);
}

/* ---- The phantom ---- */

struct expect {
	const char	*name;
	int		 grade;
	enum bmd_shape	 shape;
	int		 sloped;	/* the heights (1 anterior, 2 middle,
					 * 4 posterior) whose endplates slope
					 * across the depth at that line */
};

static void
check_phantom(double slice, double noise, double tilt, double htol,
    double stol, double atol, int grades)
{
	static const struct expect ex[] = {
		{ "T11", 0, BMD_SHAPE_NONE, 0 },
		{ "T12", 2, BMD_SHAPE_WEDGE, 7 },
		{ "L1", 0, BMD_SHAPE_NONE, 0 },
		{ "L2", 1, BMD_SHAPE_BICONCAVE, 5 },
		{ "L3", 0, BMD_SHAPE_NONE, 0 },
	};
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	const struct spine_info	*si;
	struct ai_result	 res;
	char			 err[256], pic[64];
	size_t			 i, j;
	double			 t0, worst_hu = 0, worst_h = 0, worst_a = 0;

	phantom_spine_standard(&sp, slice, noise, tilt);
	t0 = now_s();
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	print_message("  phantom %.3g mm, noise %.0f HU, tilt %.0f deg "
	    "(built in %.1f s)\n", slice, noise, tilt, now_s() - t0);
	assert_non_null(ac = anatomy_cache_new());
	t0 = now_s();
	if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	si = &an->spine;
	print_message("  %zu bodies in %.2f s, labelled %d%s %s\n", si->n,
	    now_s() - t0, si->labelled, si->uncertain ? " (uncertain)" : "",
	    si->labelled ? si->label_zh : si->why);
	for (i = 0; i < si->n; i++) {
		const struct vertebra *b = &si->v[i];

		print_message("    %-3s%s slices %3d-%3d c %.1f %.1f %.1f hu "
		    "%6.1f sd %4.1f (%ld) ha %5.2f hm %5.2f hp %5.2f depth "
		    "%5.2f area %6.1f ribs %d reach %.0f\n",
		    spine_label_name(b->label), b->partial ? "*" : " ", b->k0,
		    b->k1, b->c[0], b->c[1], b->c[2], b->hu, b->hu_sd,
		    b->roi_voxels, b->ha, b->hm, b->hp, b->depth, b->area_mm2,
		    b->ribs, b->rib_reach_mm);
	}
	(void)snprintf(pic, sizeof(pic), "phantom-%.3g-tilt%.0f", slice, tilt);
	sagittal_png(v, si, pic);
	assert_true(si->labelled);
	for (j = 0; j < sizeof(ex) / sizeof(ex[0]); j++) {
		const struct phantom_vertebra *pv = NULL;
		const struct vertebra *b = NULL;
		double	 c[3], kz, loss, area, href;
		enum bmd_shape s;
		size_t	 pi;
		int	 g;

		for (pi = 0; pi < sp.spine.n; pi++)
			if (strcmp(sp.spine.v[pi].name, ex[j].name) == 0)
				pv = &sp.spine.v[pi];
		assert_non_null(pv);
		pi = (size_t)(pv - sp.spine.v);
		phantom_spine_center(&sp, pi, c);
		kz = c[2] / slice - 0.5;
		for (i = 0; i < si->n; i++)
			if (fabs(si->v[i].c[2] - kz) * slice < 5.0)
				b = &si->v[i];
		if (b == NULL)
			fail_msg("%s not found", ex[j].name);
		assert_string_equal(spine_label_name(b->label), ex[j].name);
		assert_false(b->partial);
		if (fabs(b->hu - pv->hu) > worst_hu)
			worst_hu = fabs(b->hu - pv->hu);
		if (fabs(b->hu - pv->hu) > 2.0)
			fail_msg("%s: %.1f HU, truth %.0f", ex[j].name, b->hu,
			    pv->hu);
		if (fabs(b->ha - pv->ha) > worst_h)
			worst_h = fabs(b->ha - pv->ha);
		if (fabs(b->hm - pv->hm) > worst_h)
			worst_h = fabs(b->hm - pv->hm);
		if (fabs(b->hp - pv->hp) > worst_h)
			worst_h = fabs(b->hp - pv->hp);
		if (!(fabs(b->ha - pv->ha) <= htol &&
		    fabs(b->hm - pv->hm) <= htol &&
		    fabs(b->hp - pv->hp) <= htol))
			fail_msg("%s: heights %.2f %.2f %.2f, truth %.2f "
			    "%.2f %.2f", ex[j].name, b->ha, b->hm, b->hp,
			    pv->ha, pv->hm, pv->hp);
		if (((ex[j].sloped & 1) && !(fabs(b->ha - pv->ha) <= stol)) ||
		    ((ex[j].sloped & 2) && !(fabs(b->hm - pv->hm) <= stol)) ||
		    ((ex[j].sloped & 4) && !(fabs(b->hp - pv->hp) <= stol)))
			fail_msg("%s: heights %.2f %.2f %.2f, truth %.2f "
			    "%.2f %.2f (sloped endplates within %.2f mm)",
			    ex[j].name, b->ha, b->hm, b->hp, pv->ha, pv->hm,
			    pv->hp, stol);
		area = 2.0 * PHANTOM_BODY_B * (0.3 * pv->ha + 0.4 * pv->hm +
		    0.3 * pv->hp);
		if (fabs(b->area_mm2 / area - 1.0) > worst_a)
			worst_a = fabs(b->area_mm2 / area - 1.0);
		if (!(fabs(b->area_mm2 / area - 1.0) <= atol))
			fail_msg("%s: area %.1f mm², truth %.1f", ex[j].name,
			    b->area_mm2, area);
		i = (size_t)(b - si->v);
		href = NAN;
		if (i > 0 && i + 1 < si->n && !si->v[i - 1].partial &&
		    !si->v[i + 1].partial)
			href = (si->v[i - 1].hp + si->v[i + 1].hp) / 2.0;
		else if (i > 0 && !si->v[i - 1].partial)
			href = si->v[i - 1].hp;
		else if (i + 1 < si->n && !si->v[i + 1].partial)
			href = si->v[i + 1].hp;
		g = bmd_genant(b->ha, b->hm, b->hp, href, &loss, &s);
		print_message("    %s: Genant %d %s (%.1f %%), truth %d %s\n",
		    ex[j].name, g, bmd_shape_zh[s], loss * 100.0, ex[j].grade,
		    bmd_shape_zh[ex[j].shape]);
		if (grades && (g != ex[j].grade || s != ex[j].shape))
			fail_msg("%s: Genant %d %s (%.1f %%), truth %d %s",
			    ex[j].name, g, bmd_shape_zh[s], loss * 100.0,
			    ex[j].grade, bmd_shape_zh[ex[j].shape]);
	}
	print_message("  worst: %.2f HU, %.2f mm, area %.2f %%\n", worst_hu,
	    worst_h, worst_a * 100.0);
	if (!grades)
		goto out;
	/* The reader's result: one lesion per labelled whole body, the
	 * fractures in the conclusion. */
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(si, v, &res, err, sizeof(err)), 0);
	assert_int_equal(res.nlesions, 5);
	/* Each level's own class from its estimate (0.75 mg/cm³ per HU on
	 * the phantom's exact air and fat): T11 180 HU 135, T12 150 HU 112,
	 * L1 110 HU 82, L2 90 HU 67, L3 70 HU 52 mg/cm³. */
	{
		static const char *const types[] = { "骨量正常",
		    "骨量减少，压缩骨折", "骨量减少", "骨质疏松，压缩骨折",
		    "骨质疏松" };

		for (i = 0; i < 5; i++)
			assert_string_equal(res.lesions[i].type, types[i]);
	}
	assert_non_null(strstr(res.conclusion, "T12椎体楔形压缩骨折（Genant 2级"));
	assert_non_null(strstr(res.conclusion, "L2椎体双凹形压缩骨折（Genant 1级"));
	assert_non_null(strstr(res.method, "验证："));
	assert_non_null(strstr(res.method, "结果仅供参考"));
	/* The bodies as regions for the viewer: each labelled whole
	 * body's centre in its label, the labelled voxels the phantom's
	 * bone (its bodies), not its canal, discs or muscles. */
	assert_int_equal(bmd_masks(an, v, &res), 0);
	assert_non_null(res.masks);
	assert_non_null(strstr(res.masks_legend, "\"T12椎体\""));
	{
		size_t	 o, inbone = 0, nl = 0, outside = 0;
		double	 p[3], tw, ex2, ew, zc = sp.nz * sp.slice_mm / 2.0;
		double	 tr = sp.spine.tilt_deg * 3.14159265358979 / 180.0;
		int	 a, x, y, z;

		for (i = 0; i < si->n; i++) {
			const struct vertebra *b = &si->v[i];

			if (b->label == 0 || b->partial)
				continue;
			o = ((size_t)lround(b->c[2]) * v->ny +
			    (size_t)lround(b->c[1])) * v->nx +
			    (size_t)lround(b->c[0]);
			assert_int_equal(res.masks[o], 10 + (int)i);
		}
		for (z = 0, o = 0; z < v->nz; z++)
			for (y = 0; y < v->ny; y++)
				for (x = 0; x < v->nx; x++, o++) {
					if (res.masks[o] == 0)
						continue;
					for (a = 0; a < 3; a++)
						p[a] = v->origin[a] + x *
						    v->spacing[0] * v->row[a] +
						    y * v->spacing[1] *
						    v->col[a] + z * v->step[a];
					nl++;
					inbone += phantom_spine_tissue(&sp,
					    p[0], p[1], p[2]) == PT_BONE;
					/* outside the bodies' outline by
					 * more than 1.5 mm: run out through
					 * the basivertebral vein's gap in
					 * the posterior cortex */
					tw = (p[1] - PHANTOM_SPINE_Y) *
					    cos(tr) - (p[2] - zc) * sin(tr);
					ex2 = p[0] / (PHANTOM_BODY_A + 1.5);
					ew = tw / (PHANTOM_BODY_B + 1.5);
					outside += ex2 * ex2 + ew * ew > 1.0;
				}
		print_message("  regions: %zu voxels, %.1f %% in bone, %.2f %% "
		    "outside the bodies\n", nl, 100.0 * (double)inbone /
		    (double)nl, 100.0 * (double)outside / (double)nl);
		assert_true(nl > 0);
		assert_true((double)inbone >= 0.85 * (double)nl);
		assert_true((double)outside <= 0.01 * (double)nl);
	}
	ai_result_free(&res);
out:
	anatomy_cache_free(ac);
	series_free(v);
}

static void
test_phantom_1_25(void **state)
{
	(void)state;
	check_phantom(1.25, 15.0, 0.0, 0.3, 0.3, 0.03, 1);
}

static void
test_phantom_tilt(void **state)
{
	(void)state;
	check_phantom(1.25, 15.0, 12.0, 0.4, 0.4, 0.03, 1);
}

static void
test_phantom_0_625(void **state)
{
	(void)state;
	check_phantom(0.625, 15.0, 0.0, 0.3, 0.3, 0.03, 1);
}

/*
 * At 2.5 mm a 1 mm endplate that lies within one slice on every line
 * about a height's line cannot be placed within it (test_plate_fit): it
 * is then up to 0.75 mm off and a height up to 1.5 mm.  The bound held
 * here, 1.05 mm, is the worst over noise seeds 1-10 (ZY_BMD_SWEEP=1;
 * 1.01, T11's and L3's flat endplates; 1.41 before the lines were
 * fitted together).  The heights whose endplates slope across the depth
 * (T12's wedge, L2's anterior and posterior heights) are placed by the
 * lines where the plate crosses a slice's boundary (test_plate_fit_lines)
 * and are held to 0.45 mm (worst 0.39 over seeds 1-10; 1.04 before, T12's
 * posterior height 0.62 off at this seed).  The areas are held to 3 % as
 * at the thinner slices.  The grades are printed, not held: L2's middle
 * height loss of 22.5 % lies 2.5 points above Genant's 20 %, some 0.6 mm
 * of height, and its middle height is at the bottom of the concavity,
 * where the plate is flat across the lines.
 */
static void
test_phantom_2_5(void **state)
{
	(void)state;
	check_phantom(2.5, 15.0, 0.0, 1.05, 0.45, 0.03, 0);
}

/*
 * ZY_BMD_SWEEP=1: the height errors (measured - truth, mm) of each whole
 * body of the straight phantom, per height, at 0.625, 1.25 and 2.5 mm,
 * 15 HU of noise, seeds 1-10, and the worst and the mean of them; only
 * printed (the assertions are in check_phantom()).
 */
static void
test_sweep(void **state)
{
	static const double slices[] = { 0.625, 1.25, 2.5 };
	static const char *const nm[] = { "T11", "T12", "L1", "L2", "L3" };
	struct phantom_spec	 sp;
	struct series_volume	*v;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	const struct spine_info	*si;
	char			 err[256];
	size_t			 q, i, pi, j;
	unsigned		 seed;
	double			 c[3], worst, e[3], sum;
	int			 ne;

	(void)state;
	if (getenv("ZY_BMD_SWEEP") == NULL)
		skip();
	for (q = 0; q < sizeof(slices) / sizeof(slices[0]); q++) {
		worst = sum = 0.0;
		ne = 0;
		for (seed = 1; seed <= 10; seed++) {
			phantom_spine_standard(&sp, slices[q], 15.0, 0.0);
			sp.seed = seed;
			v = NULL;
			if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
				fail_msg("phantom: %s", err);
			assert_non_null(ac = anatomy_cache_new());
			if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an,
			    err, sizeof(err)) == -1)
				fail_msg("anatomy: %s", err);
			si = &an->spine;
			for (j = 0; j < 5; j++) {
				const struct vertebra *b = NULL;
				const struct phantom_vertebra *pv = NULL;

				for (pi = 0; pi < sp.spine.n; pi++)
					if (strcmp(sp.spine.v[pi].name,
					    nm[j]) == 0)
						pv = &sp.spine.v[pi];
				assert_non_null(pv);
				phantom_spine_center(&sp,
				    (size_t)(pv - sp.spine.v), c);
				for (i = 0; i < si->n; i++)
					if (fabs(si->v[i].c[2] - (c[2] /
					    slices[q] - 0.5)) * slices[q] < 5.0)
						b = &si->v[i];
				if (b == NULL) {
					print_message("  %.3g mm seed %u %s "
					    "not found\n", slices[q], seed,
					    nm[j]);
					continue;
				}
				e[0] = b->ha - pv->ha;
				e[1] = b->hm - pv->hm;
				e[2] = b->hp - pv->hp;
				for (i = 0; i < 3; i++) {
					if (!(fabs(e[i]) <= worst))
						worst = isfinite(e[i]) ?
						    fabs(e[i]) : INFINITY;
					if (isfinite(e[i])) {
						sum += fabs(e[i]);
						ne++;
					}
				}
				print_message("  %.3g mm seed %2u %-3s "
				    "a %+6.2f m %+6.2f p %+6.2f\n",
				    slices[q], seed, nm[j], e[0], e[1], e[2]);
			}
			anatomy_cache_free(ac);
			series_free(v);
		}
		print_message("  %.3g mm: worst height error %.2f mm, mean "
		    "absolute %.2f\n", slices[q], worst, ne > 0 ? sum / ne :
		    NAN);
	}
}

/* ---- The checks ---- */

static void
test_check(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	char			 err[256], why[256];

	(void)state;
	phantom_spine_standard(&sp, 2.5, 0.0, 0.0);
	sp.nx = sp.ny = 64;
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_int_equal(bmd_check(v, why, sizeof(why)), READER_FITS);
	v->spacing[2] = 3.0;
	assert_int_equal(bmd_check(v, why, sizeof(why)), READER_REFUSES);
	assert_non_null(strstr(why, "2.5 mm"));
	v->spacing[2] = 2.5;
	v->kvp = 70.0;
	assert_int_equal(bmd_check(v, why, sizeof(why)), READER_REFUSES);
	assert_non_null(strstr(why, "80–150 kV"));
	v->kvp = 120.0;
	(void)snprintf(v->contrast_agent, sizeof(v->contrast_agent), "IOPAMIDOL");
	assert_int_equal(bmd_check(v, why, sizeof(why)), READER_REFUSES);
	assert_non_null(strstr(why, "平扫"));
	series_free(v);
}

/*
 * The standard chest phantom (the calcium reader's, src/lib/phantom.c):
 * vertebral bodies but ribs that are rings of bone apart from the spine:
 * no rib-bearing vertebra, so no label, and the reader refuses, saying
 * why (the daemon's result for this phantom in the integration and
 * browser tests).
 */
static void
test_chest_phantom(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ai_result	 res;
	char			 err[256];

	(void)state;
	phantom_standard(&sp, 1.25, 120.0);
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 5, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	print_spine(&an->spine);
	assert_false(an->spine.labelled);
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(&an->spine, v, &res, err, sizeof(err)), 1);
	print_message("  reader refuses: %s\n", err);
	assert_non_null(strstr(err, "肋骨"));
	ai_result_free(&res);
	anatomy_cache_free(ac);
	series_free(v);
}

/*
 * The rule's ambiguity: T12's rib on the right only (a missing or
 * hypoplastic 12th rib on the left).  T12 is still the last rib-bearing
 * vertebra, but the labels are marked uncertain and the conclusion says
 * so.
 */
static void
test_one_rib(void **state)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ai_result	 res;
	char			 err[256];
	size_t			 i;
	int			 t12 = 0;

	(void)state;
	phantom_spine_standard(&sp, 2.5, 15.0, 0.0);
	sp.spine.v[2].ribs = 2;		/* T12 */
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 6, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	print_spine(&an->spine);
	assert_true(an->spine.labelled);
	assert_true(an->spine.uncertain);
	assert_non_null(strstr(an->spine.label_zh, "仅一侧"));
	for (i = 0; i < an->spine.n; i++)
		if (an->spine.v[i].label == SPINE_T12) {
			assert_int_equal(an->spine.v[i].ribs, 1);	/* right */
			t12 = 1;
		}
	assert_true(t12);
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(&an->spine, v, &res, err, sizeof(err)), 0);
	assert_non_null(strstr(res.conclusion, "节段标记存疑"));
	assert_non_null(strstr(res.method, "本例节段存疑"));
	ai_result_free(&res);
	anatomy_cache_free(ac);
	series_free(v);
}

/* ---- Real data ---- */

static void
print_spine(const struct spine_info *si)
{
	size_t	 i;

	print_message("  %zu bodies, labelled %d%s: %s; air %.0f fat %.0f "
	    "muscle %.0f HU\n", si->n, si->labelled, si->uncertain ?
	    " (uncertain)" : "", si->labelled ? si->label_zh : si->why,
	    si->air_hu, si->fat_hu, si->muscle_hu);
	for (i = 0; i < si->n; i++) {
		const struct vertebra *b = &si->v[i];

		print_message("    %-3s%s slices %3d-%3d hu %6.1f sd %5.1f ha "
		    "%5.1f hm %5.1f hp %5.1f depth %5.1f area %6.0f ribs %d "
		    "reach %.0f\n", spine_label_name(b->label), b->partial ?
		    "*" : " ", b->k0, b->k1, b->hu, b->hu_sd, b->ha, b->hm,
		    b->hp, b->depth, b->area_mm2, b->ribs, b->rib_reach_mm);
	}
}

/*
 * LIDC-IDRI-0002: a chest CT down to L1 (2.5 mm).  T12 and L1 must be
 * found and labelled (checked by eye on the sagittal picture); the rest is
 * printed.
 */
static void
test_lidc(void **state)
{
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ai_result	 res;
	char			 base[4096], dir[4096], err[256];
	double			 t0;
	size_t			 i;
	int			 t12 = 0, l1 = 0, ret;

	(void)state;
	(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
	    realdata_dir());
	if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
		print_message("  %s not found: skipping the real-data test\n",
		    base);
		skip();
	}
	assert_int_equal(realdata_load(dir, &v, NULL, 0), 0);
	assert_non_null(ac = anatomy_cache_new());
	t0 = now_s();
	if (anatomy_get(ac, cpu, v, 2, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	print_message("  LIDC-IDRI-0002 (%d slices of %.2f mm): %.2f s\n",
	    v->nz, v->spacing[2], now_s() - t0);
	print_spine(&an->spine);
	sagittal_png(v, &an->spine, "lidc-0002");
	for (i = 0; i < an->spine.n; i++) {
		if (an->spine.v[i].label == SPINE_T12 &&
		    !an->spine.v[i].partial)
			t12 = 1;
		if (an->spine.v[i].label == SPINE_L1)
			l1 = 1;
	}
	assert_true(an->spine.labelled);
	assert_true(t12);
	assert_true(l1);
	ai_result_init(&res);
	ret = bmd_to_ai(&an->spine, v, &res, err, sizeof(err));
	print_message("  reader: %d %s\n", ret, ret == 0 ? res.conclusion :
	    err);
	/* Body composition: L3 is not in this chest CT, so the level is the
	 * next of the reader's order that is whole (the text says so);
	 * printed, the pictures written with ZY_BMD_PICS. */
	if (ret == 0) {
		const char	*pics = getenv("ZY_BMD_PICS"), *s;

		assert_int_equal(bmd_body_to_ai(&an->spine, v, NAN, 0, &res,
		    err, sizeof(err)), 0);
		assert_non_null(s = strstr(res.findings, "L3不在扫描范围内"));
		print_message("  %s\n", s);
		for (i = 0; pics != NULL && *pics != '\0' &&
		    i < res.npictures; i++) {
			char	 path[4096];
			FILE	*f;

			(void)snprintf(path, sizeof(path), "%s/lidc-0002-%s.png",
			    pics, res.pictures[i].name);
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(res.pictures[i].png, 1,
			    res.pictures[i].len, f), res.pictures[i].len);
			assert_int_equal(fclose(f), 0);
		}
	}
	/* The bodies' regions: on how many of their slices a region runs
	 * out to the measuring box's edge (through a gap in the cortex),
	 * printed; asserted on no more than a tenth of them. */
	if (ret == 0) {
		int	 nsl = 0, nout = 0, z, x, y, hit;
		size_t	 plane = (size_t)v->nx * v->ny;

		assert_int_equal(bmd_masks(an, v, &res), 0);
		for (i = 0; i < an->spine.n; i++) {
			const struct vertebra *b = &an->spine.v[i];

			for (z = b->k0 < 0 ? 0 : b->k0; z <= b->k1 &&
			    z < v->nz; z++) {
				double	 cx = b->c[0], cy = b->c[1];
				int	 any = 0;

				if (an->spine_xy != NULL &&
				    isfinite(an->spine_xy[2 * z])) {
					cx = an->spine_xy[2 * z];
					cy = an->spine_xy[2 * z + 1];
				}
				for (hit = 0, y = 0; y < v->ny; y++)
					for (x = 0; x < v->nx; x++) {
						if (res.masks[plane * z +
						    (size_t)y * v->nx + x] !=
						    10 + (int)i)
							continue;
						any = 1;
						if (fabs(x - cx) *
						    v->spacing[0] > 24.0 ||
						    fabs(y - cy) *
						    v->spacing[1] > 19.0)
							hit = 1;
					}
				nsl += any;
				nout += hit;
			}
		}
		print_message("  regions: %d slices, %d of them out to the "
		    "measuring box's edge\n", nsl, nout);
		assert_true(nsl > 0);
		assert_true(nout * 10 <= nsl);
	}
	ai_result_free(&res);
	anatomy_cache_free(ac);
	series_free(v);
}

/*
 * totalseg-example's 20 DICOM slices: T11 and T12 with their ribs and no
 * vertebra below without ribs: the last rib-bearing body cannot be told
 * from one above it, so no labels (and the reader refuses, saying why).
 */
static void
test_totalseg(void **state)
{
	static char		 paths[64][4400];
	const char		*pp[64];
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ai_result	 res;
	char			 dir[4096], err[256];
	DIR			*d;
	struct dirent		*e;
	size_t			 n = 0;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/ct/totalseg-example/"
	    "example_ct_dicom", realdata_dir());
	/* The files have no extension: every file of the folder. */
	if ((d = opendir(dir)) == NULL) {
		print_message("  %s not found: skipping\n", dir);
		skip();
	}
	while ((e = readdir(d)) != NULL && n < 64) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(paths[n], sizeof(paths[n]), "%s/%s", dir,
		    e->d_name);
		pp[n] = paths[n];
		n++;
	}
	(void)closedir(d);
	if (series_load(pp, n, NULL, &v, err, sizeof(err)) == -1)
		fail_msg("series_load: %s", err);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 3, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	print_message("  totalseg-example DICOM (%d slices of %.2f mm):\n",
	    v->nz, v->spacing[2]);
	print_spine(&an->spine);
	sagittal_png(v, &an->spine, "totalseg-dicom");
	assert_false(an->spine.labelled);
	ai_result_init(&res);
	assert_int_equal(bmd_to_ai(&an->spine, v, &res, err, sizeof(err)), 1);
	print_message("  reader refuses: %s\n", err);
	ai_result_free(&res);
	anatomy_cache_free(ac);
	series_free(v);
}

/* ---- a coarse lumbar column with iliac wings (spine_vertebrae()) ---- */

/* The distance from p to the segment a-b (3-D, mm). */
static double
seg3(const double *p, const double *a, const double *b)
{
	double	 d[3], e[3], t = 0.0, l = 0.0, s = 0.0;
	int	 i;

	for (i = 0; i < 3; i++) {
		d[i] = b[i] - a[i];
		e[i] = p[i] - a[i];
		t += d[i] * e[i];
		l += d[i] * d[i];
	}
	t = l > 0.0 ? fmin(1.0, fmax(0.0, t / l)) : 0.0;
	for (i = 0; i < 3; i++)
		s += (e[i] - t * d[i]) * (e[i] - t * d[i]);
	return sqrt(s);
}

/*
 * What a point (mm; x to the left, y to the back, z up from the volume's
 * bottom, the spine's axis at x = y = 0) holds in the coarse column: soft
 * tissue 40 HU; from the bottom S1 and L5 to T12 (n bodies of 24 mm,
 * discs of 7 mm at 80 HU, the first body 6 mm up), elliptic bodies of
 * 22 x 16 mm with a 1 mm cortex of 700 HU round trabecular bone of
 * 110 HU; with ribs, T12's pair: tubes of 5 mm radius (450 HU) from
 * beside the body at its middle out, back and then forwards round the
 * trunk and down (Gray's Anatomy: the rib's head at its own body for
 * T10-T12, the shaft lateral, then forwards and down); with wings, the
 * iliac wings: plates 8 mm thick from beside the sacrum (S1) to L5's top,
 * out and forwards (the sacroiliac joints and the alae).
 */
static double
coarse_column(double x, double y, double z, int n, int ribs, int wings)
{
	double	 p[3], ax = fabs(x);
	int	 i;

	p[0] = ax;
	p[1] = y;
	p[2] = z;
	for (i = 0; i < n; i++) {
		double	 z0 = 6.0 + 31.0 * i, e;

		if (z < z0 || z > z0 + 24.0)
			continue;
		e = (x / 22.0) * (x / 22.0) + (y / 16.0) * (y / 16.0);
		if (e > 1.0)
			break;
		if (z < z0 + 1.0 || z > z0 + 23.0 || (x / 21.0) * (x / 21.0) +
		    (y / 15.0) * (y / 15.0) > 1.0)
			return 700.0;
		return 110.0;
	}
	for (i = 0; i + 1 < n; i++) {
		double	 z0 = 6.0 + 31.0 * i + 24.0;

		if (z >= z0 && z <= z0 + 7.0 && (x / 22.0) * (x / 22.0) +
		    (y / 16.0) * (y / 16.0) <= 1.0)
			return 80.0;
	}
	if (ribs) {
		double	 zh = 6.0 + 31.0 * (n - 1) + 12.0;
		double	 pts[4][3] = { { 24.0, 10.0, zh }, { 60.0, 25.0,
			    zh - 8.0 }, { 110.0, 5.0, zh - 30.0 }, { 125.0,
			    -50.0, zh - 50.0 } };

		for (i = 0; i < 3; i++)
			if (seg3(p, pts[i], pts[i + 1]) <= 5.0)
				return 450.0;
	}
	if (wings && z <= 6.0 + 31.0 + 24.0) {
		double	 q[3][3] = { { 25.0, 15.0, z }, { 70.0, 20.0, z },
			    { 120.0, -20.0, z } };

		for (i = 0; i < 2; i++)
			if (seg3(p, q[i], q[i + 1]) <= 4.0)
				return 450.0;
	}
	return 40.0;
}

/* The coarse column on 3 mm voxels (each the mean of 3 x 3 x 3 samples)
 * and its vertebrae. */
static void
coarse_spine(int ribs, int wings, struct spine_info *si)
{
	struct series_volume	*v;
	double			*xy;
	char			 err[256];
	int			 nx = 90, nz = 76, n = 7, i, j, k, a, b, c;

	assert_non_null(v = calloc(1, sizeof(*v)));
	assert_non_null(v->vox = malloc((size_t)nx * nx * nz *
	    sizeof(float)));
	assert_non_null(v->slices = calloc((size_t)nz, sizeof(*v->slices)));
	assert_non_null(xy = malloc((size_t)nz * 2 * sizeof(*xy)));
	for (k = 0; k < nz; k++)
		for (j = 0; j < nx; j++)
			for (i = 0; i < nx; i++) {
				double	 s = 0.0;

				for (c = -1; c <= 1; c++)
					for (b = -1; b <= 1; b++)
						for (a = -1; a <= 1; a++)
							s += coarse_column((i - 45) *
							    3.0 + a, (j - 45) * 3.0 + b,
							    k * 3.0 + 1.5 + c, n, ribs,
							    wings);
				v->vox[((size_t)k * nx + j) * nx + i] =
				    (float)(s / 27.0);
			}
	v->nx = v->ny = nx;
	v->nz = nz;
	v->spacing[0] = v->spacing[1] = v->spacing[2] = 3.0;
	v->row[0] = 1.0;
	v->col[1] = 1.0;
	v->normal[2] = 1.0;
	v->step[2] = 3.0;
	v->spacing_min = v->spacing_median = v->spacing_max = 3.0;
	v->gantry_tilt = v->kvp = v->slice_thickness = NAN;
	v->window_center = v->window_width = v->padding_fill = NAN;
	v->order = SERIES_ORDER_POSITION;
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	for (k = 0; k < nz; k++) {
		v->slices[k].pos = v->slices[k].ipp[2] = k * 3.0;
		v->slices[k].has_ipp = 1;
		/* The centre of the column wherever a body or disc is. */
		xy[2 * k] = xy[2 * k + 1] = k * 3.0 + 1.5 <= 6.0 + 31.0 *
		    (n - 1) + 31.0 ? 45.0 : NAN;
	}
	if (spine_vertebrae(v, xy, NULL, si, err, sizeof(err)) == -1)
		fail_msg("spine: %s", err);
	print_message("  coarse column, ribs %d, wings %d:\n", ribs, wings);
	print_spine(si);
	free(xy);
	series_free(v);
}

/*
 * The iliac wings are plates, not ribs (totalseg-example: at 3 mm they
 * passed for ribs on L4-S1).  A lumbar column without a rib, wings beside
 * the sacrum and L5: no body bears a rib, and the vertebrae are not
 * numbered for want of one (before: "ribs" on L5 and S1, refused as a
 * scan ending above T12).  With T12's ribs added, T12 to S1 are numbered.
 */
static void
test_iliac_wings(void **state)
{
	static const int want[] = { SPINE_T12, SPINE_L1, SPINE_L1 + 1,
	    SPINE_L1 + 2, SPINE_L1 + 3, SPINE_L5, SPINE_S1 };
	struct spine_info	 si;
	size_t			 i;

	(void)state;
	coarse_spine(0, 1, &si);
	assert_int_equal(si.n, 7);
	for (i = 0; i < si.n; i++)
		assert_int_equal(si.v[i].ribs, 0);
	assert_false(si.labelled);
	assert_non_null(strstr(si.why, "未见肋骨"));
	coarse_spine(1, 1, &si);
	assert_int_equal(si.n, 7);
	assert_true(si.labelled);
	for (i = 0; i < si.n; i++)
		assert_int_equal(si.v[i].label, want[i]);
}

/* ---- totalseg-example's abdomen (NIfTI) against its spine report ---- */

/*
 * A gzipped NIfTI-1 volume (int32, int16 or uint8; axial, the sform a
 * diagonal, RAS) as a series_volume in this project's orientation: x to
 * the patient's left, y to the back, slices from the feet up.  Returns 0
 * or -1.
 */
static int
nifti_load(const char *path, struct series_volume **out)
{
	gzFile			 f;
	unsigned char		 hdr[348], *raw = NULL;
	short			 dim[8], dt;
	float			 pix[8], off;
	struct series_volume	*v;
	size_t			 n, bpv, i;
	int			 x, y, z, nx, ny, nz;
	long			 skip;

	*out = NULL;
	if ((f = gzopen(path, "rb")) == NULL)
		return -1;
	if (gzread(f, hdr, sizeof(hdr)) != (int)sizeof(hdr)) {
		gzclose(f);
		return -1;
	}
	memcpy(dim, hdr + 40, sizeof(dim));
	memcpy(&dt, hdr + 70, sizeof(dt));
	memcpy(pix, hdr + 76, sizeof(pix));
	memcpy(&off, hdr + 108, sizeof(off));
	nx = dim[1];
	ny = dim[2];
	nz = dim[3];
	bpv = dt == 8 ? 4 : dt == 4 ? 2 : dt == 2 ? 1 : 0;
	n = (size_t)nx * ny * nz;
	if (bpv == 0 || nx < 8 || ny < 8 || nz < 2 ||
	    (raw = malloc(n * bpv)) == NULL) {
		gzclose(f);
		return -1;
	}
	for (skip = (long)off - (long)sizeof(hdr); skip > 0; skip--)
		(void)gzgetc(f);
	if (gzread(f, raw, (unsigned)(n * bpv)) != (int)(n * bpv)) {
		free(raw);
		gzclose(f);
		return -1;
	}
	gzclose(f);
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->vox = malloc(n * sizeof(float))) == NULL ||
	    (v->slices = calloc((size_t)nz, sizeof(*v->slices))) == NULL) {
		free(raw);
		series_free(v);
		return -1;
	}
	/* RAS: i to the right, j to the front; flip both. */
	for (z = 0; z < nz; z++)
		for (y = 0; y < ny; y++)
			for (x = 0; x < nx; x++) {
				size_t	 src = ((size_t)z * ny + y) * nx + x;
				size_t	 dst = ((size_t)z * ny + (ny - 1 - y)) *
				    nx + (nx - 1 - x);
				double	 val;

				if (bpv == 4) {
					int32_t	 t;

					memcpy(&t, raw + 4 * src, 4);
					val = t;
				} else if (bpv == 2) {
					int16_t	 t;

					memcpy(&t, raw + 2 * src, 2);
					val = t;
				} else
					val = raw[src];
				v->vox[dst] = (float)val;
			}
	free(raw);
	v->nx = nx;
	v->ny = ny;
	v->nz = nz;
	v->spacing[0] = pix[1];
	v->spacing[1] = pix[2];
	v->spacing[2] = pix[3];
	v->row[0] = 1.0;
	v->col[1] = 1.0;
	v->normal[2] = 1.0;
	v->step[2] = pix[3];
	v->spacing_min = v->spacing_median = v->spacing_max = pix[3];
	v->gantry_tilt = v->kvp = v->slice_thickness = NAN;
	v->window_center = v->window_width = NAN;
	v->padding_fill = NAN;
	v->order = SERIES_ORDER_POSITION;
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	for (i = 0; i < (size_t)nz; i++) {
		v->slices[i].pos = i * pix[3];
		v->slices[i].has_ipp = 1;
		v->slices[i].ipp[2] = i * pix[3];
	}
	*out = v;
	return 0;
}

/* A number from the spine report's JSON ("key": value); NAN if none. */
static double
json_num(const char *js, const char *key)
{
	char		 k[128];
	const char	*p;

	(void)snprintf(k, sizeof(k), "\"%s\":", key);
	if ((p = strstr(js, k)) == NULL)
		return NAN;
	return strtod(p + strlen(k), NULL);
}

/*
 * example_ct.nii.gz (3 mm voxels, pelvis to T11/T12) against
 * TotalSegmentator's vertebra labels (spine_report/totalseg.nii.gz, a
 * model's output, not manual truth) and its spine report (heights and mean
 * HU of L1-L5): the differences are printed.  3 mm is beyond the reader's
 * 2.5 mm (the reader refuses it), but the finder must still number it:
 * asserted that T12 (by its ribs) and L1-L5 are found, each whole body
 * labelled as the reference's mask at its centre.  Before, only 4 bodies
 * were split out (the 3 mm pixels lowered the cortex under the bone
 * threshold and the trabecular bone, 100-130 HU, was taken for soft
 * tissue), nothing above slice 88, and the iliac wings passed for ribs on
 * L4-S1; no label was given.  The heights of a body not labelled are
 * compared as the level the reference's mask gives its centre.
 */
static void
test_totalseg_nifti(void **state)
{
	static const char *const lnames[] = { "L1", "L2", "L3", "L4", "L5" };
	struct series_volume	*v = NULL, *lab = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	char			 path[4096], err[256], *js = NULL;
	FILE			*f;
	long			 len;
	size_t			 i, q;
	int			 agree = 0, checked = 0, t12 = 0, nh = 0;
	int			 nhu = 0, nlab = 0, oklab = 0;
	double			 dh = 0.0, dhu = 0.0;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
	    "example_ct.nii.gz", realdata_dir());
	if (nifti_load(path, &v) == -1) {
		print_message("  %s not loaded: skipping\n", path);
		skip();
	}
	(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
	    "spine_report/totalseg.nii.gz", realdata_dir());
	assert_int_equal(nifti_load(path, &lab), 0);
	(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
	    "spine_report/spine_report.json", realdata_dir());
	assert_non_null(f = fopen(path, "rb"));
	(void)fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_non_null(js = calloc((size_t)len + 1, 1));
	assert_int_equal(fread(js, 1, (size_t)len, f), (size_t)len);
	(void)fclose(f);
	assert_non_null(ac = anatomy_cache_new());
	if (anatomy_get(ac, cpu, v, 4, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	print_message("  totalseg-example abdomen (%d slices of %.0f mm):\n",
	    v->nz, v->spacing[2]);
	print_spine(&an->spine);
	sagittal_png(v, &an->spine, "totalseg-abdomen");
	for (i = 0; i < an->spine.n; i++) {
		const struct vertebra *b = &an->spine.v[i];
		int	 ref, x = (int)lround(b->c[0]), y = (int)lround(b->c[1]);
		int	 z = (int)lround(b->c[2]);
		char	 key[64];
		double	 hu, hp, hm, ha, hmed;

		ref = (int)lab->vox[((size_t)z * lab->ny + y) * lab->nx + x];
		if (b->label == SPINE_T12 && ref == 32)
			t12 = 1;
		/* Every labelled body the reference's mask holds at its
		 * centre (T11 33 .. S1 26) has its label. */
		if (b->label >= SPINE_T1 && ref >= 26 && ref <= 33) {
			nlab++;
			if (ref == 44 - b->label)
				oklab++;
		}
		/* totalseg labels: 26 S1, 27 L5 .. 31 L1, 32 T12, 33 T11. */
		print_message("    %s: reference label at its centre %s\n",
		    spine_label_name(b->label), ref >= 26 && ref <= 33 ?
		    (const char *[]){ "S1", "L5", "L4", "L3", "L2", "L1",
		    "T12", "T11" }[ref - 26] : "(none)");
		if (b->partial)
			continue;
		if (b->label >= SPINE_L1 && b->label <= SPINE_L5) {
			checked++;
			if (ref == 31 - (b->label - SPINE_L1))
				agree++;
			q = (size_t)(b->label - SPINE_L1);
		} else if (ref >= 27 && ref <= 31) {
			/* Not labelled here (at 3 mm the labels fail): the
			 * body is compared as the level the reference's
			 * mask gives its centre. */
			q = (size_t)(31 - ref);
		} else
			continue;
		(void)snprintf(key, sizeof(key), "vertebrae_%s_intensity",
		    lnames[q]);
		hu = json_num(js, key);
		(void)snprintf(key, sizeof(key), "vertebrae_%s_intensity_median",
		    lnames[q]);
		hmed = json_num(js, key);
		(void)snprintf(key, sizeof(key),
		    "vertebrae_%s_height_anterior_mm", lnames[q]);
		ha = json_num(js, key);
		(void)snprintf(key, sizeof(key),
		    "vertebrae_%s_height_middle_mm", lnames[q]);
		hm = json_num(js, key);
		(void)snprintf(key, sizeof(key),
		    "vertebrae_%s_height_posterior_mm", lnames[q]);
		hp = json_num(js, key);
		print_message("    %s vs report: HU %.1f / %.1f / %.1f "
		    "(trabecular ROI / whole mask's mean / median), heights a "
		    "%.1f/%.1f m %.1f/%.1f p %.1f/%.1f mm\n", lnames[q], b->hu,
		    hu, hmed, b->ha, ha, b->hm, hm, b->hp, hp);
		{
			const double	 o3[3] = { b->ha, b->hm, b->hp };
			const double	 r3[3] = { ha, hm, hp };
			int		 e;

			for (e = 0; e < 3; e++)
				if (isfinite(o3[e]) && isfinite(r3[e])) {
					dh += fabs(o3[e] - r3[e]);
					nh++;
				}
			if (isfinite(b->hu) && isfinite(hmed)) {
				dhu += fabs(b->hu - hmed);
				nhu++;
			}
		}
	}
	print_message("  labels agreeing with the reference: %d of %d; "
	    "heights measured %d of 15, mean absolute difference %.2f mm; "
	    "trabecular HU against the mask's median, mean absolute "
	    "difference %.1f HU over %d\n", agree, checked, nh, nh > 0 ?
	    dh / nh : NAN, nhu > 0 ? dhu / nhu : NAN, nhu);
	assert_true(an->spine.n >= 3);
	assert_true(an->spine.labelled);
	assert_true(t12);
	assert_int_equal(checked, 5);
	assert_int_equal(agree, checked);
	print_message("  every labelled body at a reference label: %d of %d "
	    "agree\n", oklab, nlab);
	assert_int_equal(oklab, nlab);
	free(js);
	anatomy_cache_free(ac);
	series_free(lab);
	series_free(v);
}

/* The area (cm²) and mean CT number of the pixels of slice k of v where
 * mask (a volume on the same grid) is set. */
static void
mask_area(const struct series_volume *v, const struct series_volume *mask,
    int k, double *area, double *hu)
{
	size_t	 n = (size_t)v->nx * v->ny, p, c = 0;
	double	 s = 0.0;

	for (p = 0; p < n; p++)
		if (mask->vox[(size_t)k * n + p] > 0.5) {
			s += v->vox[(size_t)k * n + p];
			c++;
		}
	*area = (double)c * v->spacing[0] * v->spacing[1] / 100.0;
	*hu = c > 0 ? s / (double)c : NAN;
}

/*
 * Body composition on totalseg-example's crop (example_ct_sm, 3 mm voxels,
 * about L2 to T11) against TotalSegmentator's tissue masks on the same grid
 * (skeletal muscle, subcutaneous fat, torso fat: a model's output, not
 * manual truth).  L3 is not in the crop and L2 is cut by it, so the slice
 * is the middle of L1 (the reader's order L3, L2, L4, L5, L1), found from
 * the crop's own vertebra labels (example_seg, 31 = L1); the body's box
 * is the front 40 % of that label's depth (the label holds the whole
 * vertebra).  The differences are printed; asserted only that each
 * compartment is found.
 */
static void
test_totalseg_bodycomp(void **state)
{
	static const char *const masks[] = { "subcutaneous_fat",
	    "skeletal_muscle", "torso_fat" };
	struct series_volume	*v = NULL, *seg = NULL, *m[3] = { NULL };
	struct vertebra		 vb;
	struct bodycomp		 bc;
	char			 path[4096], err[256];
	double			 ra[3], rh[3], ma[3], mh[3], sx = 0, sy = 0;
	size_t			 n, p;
	int			 k, k0 = -1, k1 = -1, i, j, y0 = 1 << 30, y1 = -1;
	long			 c = 0;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
	    "example_ct_sm.nii.gz", realdata_dir());
	if (nifti_load(path, &v) == -1) {
		print_message("  %s not loaded: skipping\n", path);
		skip();
	}
	(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
	    "example_seg.nii.gz", realdata_dir());
	assert_int_equal(nifti_load(path, &seg), 0);
	for (i = 0; i < 3; i++) {
		(void)snprintf(path, sizeof(path), "%s/ct/totalseg-example/"
		    "example_seg_tissue_types/%s.nii.gz", realdata_dir(),
		    masks[i]);
		assert_int_equal(nifti_load(path, &m[i]), 0);
		assert_int_equal(m[i]->nx, v->nx);
		assert_int_equal(m[i]->nz, v->nz);
	}
	n = (size_t)v->nx * v->ny;
	for (k = 0; k < v->nz; k++)
		for (p = 0; p < n; p++)
			if (lround(seg->vox[(size_t)k * n + p]) == 31) {
				if (k0 < 0)
					k0 = k;
				k1 = k;
				break;
			}
	assert_true(k0 >= 0);
	k = (k0 + k1) / 2;
	memset(&vb, 0, sizeof(vb));
	vb.label = SPINE_L1;
	vb.key_slice = k;
	vb.x0 = v->nx;
	vb.x1 = -1;
	for (j = 0; j < v->ny; j++)
		for (i = 0; i < v->nx; i++)
			if (lround(seg->vox[(size_t)k * n + (size_t)j * v->nx +
			    i]) == 31) {
				y0 = j < y0 ? j : y0;
				y1 = j > y1 ? j : y1;
			}
	vb.y0 = y0;
	vb.y1 = y0 + (int)lround(0.4 * (y1 - y0));
	for (j = vb.y0; j <= vb.y1; j++)
		for (i = 0; i < v->nx; i++)
			if (lround(seg->vox[(size_t)k * n + (size_t)j * v->nx +
			    i]) == 31) {
				vb.x0 = i < vb.x0 ? i : vb.x0;
				vb.x1 = i > vb.x1 ? i : vb.x1;
				sx += i;
				sy += j;
				c++;
			}
	vb.c[0] = sx / c;
	vb.c[1] = sy / c;
	vb.c[2] = k;
	assert_int_equal(bodycomp_measure(v, k, &vb, &bc, err, sizeof(err)),
	    0);
	for (i = 0; i < 3; i++)
		mask_area(v, m[i], k, &ra[i], &rh[i]);
	ma[0] = bc.area_cm2[BC_SAT];
	mh[0] = bc.hu[BC_SAT];
	ma[1] = bodycomp_muscle_cm2(&bc);
	mh[1] = (bc.hu[BC_WALL_MUSCLE] * bc.n[BC_WALL_MUSCLE] +
	    bc.hu[BC_PARA_MUSCLE] * bc.n[BC_PARA_MUSCLE]) /
	    (double)(bc.n[BC_WALL_MUSCLE] + bc.n[BC_PARA_MUSCLE]);
	ma[2] = bc.area_cm2[BC_VAT] + bc.area_cm2[BC_WALL_IMAT] +
	    bc.area_cm2[BC_PARA_IMAT];
	mh[2] = (bc.hu[BC_VAT] * bc.n[BC_VAT] + (bc.n[BC_WALL_IMAT] > 0 ?
	    bc.hu[BC_WALL_IMAT] * bc.n[BC_WALL_IMAT] : 0.0) +
	    (bc.n[BC_PARA_IMAT] > 0 ? bc.hu[BC_PARA_IMAT] *
	    bc.n[BC_PARA_IMAT] : 0.0)) / (double)(bc.n[BC_VAT] +
	    bc.n[BC_WALL_IMAT] + bc.n[BC_PARA_IMAT]);
	print_message("  totalseg-example crop, L1 middle (slice %d of %d, "
	    "%.0f mm pixels), ours vs TotalSegmentator's masks:\n", k,
	    v->nz, v->spacing[0]);
	for (i = 0; i < 3; i++)
		print_message("    %-28s %7.1f vs %7.1f cm² (%+.1f %%), "
		    "%6.1f vs %6.1f HU\n", i == 0 ? "subcutaneous fat" : i == 1 ?
		    "muscle (wall + paraspinal)" : "VAT + IMAT vs torso fat",
		    ma[i], ra[i], 100.0 * (ma[i] - ra[i]) / ra[i], mh[i], rh[i]);
	for (i = BC_SAT; i < BC__MAX; i++)
		print_message("      %s %.1f cm² %.1f HU\n", bc_tissue_zh[i],
		    bc.area_cm2[i], bc.hu[i]);
	/* Where the two differ: our visceral and intermuscular fat pixels
	 * by the reference's masks (torso fat, muscle, subcutaneous fat, an
	 * organ of the total map, none), and the reference's torso fat
	 * pixels by ours and by CT number (inside -190..-30 HU or not). */
	{
		long	 ours[5] = { 0 }, refs[6] = { 0 }, nout = 0;
		double	 sout = 0.0;
		size_t	 o;
		int	 t, f;

		for (p = 0; p < n; p++) {
			o = (size_t)k * n + p;
			t = bc.map[p];
			f = t == BC_VAT || t == BC_WALL_IMAT ||
			    t == BC_PARA_IMAT;
			if (f)
				ours[m[2]->vox[o] > 0.5 ? 0 : m[1]->vox[o] > 0.5 ?
				    1 : m[0]->vox[o] > 0.5 ? 2 :
				    lround(seg->vox[o]) > 0 ? 3 : 4]++;
			if (m[2]->vox[o] > 0.5) {
				refs[f ? 0 : t == BC_SAT ? 1 : (t ==
				    BC_WALL_MUSCLE || t == BC_PARA_MUSCLE) ?
				    2 : 3]++;
				if (v->vox[o] < -190.0)
					refs[4]++;
				else if (v->vox[o] > -30.0)
					refs[5]++;
			} else if (f) {
				sout += v->vox[o];
				nout++;
			}
		}
		print_message("    our VAT + IMAT pixels in the reference's "
		    "torso fat %ld, muscle %ld, subcutaneous fat %ld, an organ "
		    "%ld, none %ld\n", ours[0], ours[1], ours[2], ours[3],
		    ours[4]);
		print_message("    the reference's torso fat pixels in our VAT "
		    "+ IMAT %ld, SAT %ld, muscle %ld, other %ld; under -190 HU "
		    "%ld, over -30 HU %ld\n", refs[0], refs[1], refs[2],
		    refs[3], refs[4], refs[5]);
		print_message("    our VAT + IMAT outside the torso fat: %.1f "
		    "cm², %.1f HU\n", (double)nout * v->spacing[0] *
		    v->spacing[1] / 100.0, nout > 0 ? sout / (double)nout :
		    NAN);
		/* Our muscle pixels by the reference's masks, and the
		 * reference's muscle pixels that are not ours. */
		{
			long	 mm[5] = { 0 }, miss[3] = { 0 }, org[120] = { 0 };
			int	 lb;

			for (p = 0; p < n; p++) {
				o = (size_t)k * n + p;
				t = bc.map[p];
				lb = (int)lround(seg->vox[o]);
				if (t == BC_WALL_MUSCLE || t == BC_PARA_MUSCLE) {
					mm[m[1]->vox[o] > 0.5 ? 0 : m[2]->vox[o] >
					    0.5 ? 1 : m[0]->vox[o] > 0.5 ? 2 :
					    lb > 0 ? 3 : 4]++;
					if (m[1]->vox[o] <= 0.5 && lb > 0 &&
					    lb < 120)
						org[lb]++;
				} else if (m[1]->vox[o] > 0.5)
					miss[t == BC_NONE ? 0 : (t == BC_SAT ||
					    t == BC_VAT || t == BC_WALL_IMAT ||
					    t == BC_PARA_IMAT) ? 1 : 2]++;
			}
			print_message("    our muscle pixels in the reference's "
			    "muscle %ld, torso fat %ld, subcutaneous fat %ld, "
			    "a label of the total map %ld, none %ld; the "
			    "reference's muscle not ours: unclassed %ld, fat "
			    "%ld, other %ld\n", mm[0], mm[1], mm[2], mm[3],
			    mm[4], miss[0], miss[1], miss[2]);
			for (lb = 1; lb < 120; lb++)
				if (org[lb] > 0)
					print_message("      label %d: %ld\n",
					    lb, org[lb]);
		}
		/* The fat behind the back muscles is subcutaneous: it was
		 * taken for visceral when the body's outline held the
		 * table's foam and the air gap above it (143 of our 1669
		 * pixels in the reference's subcutaneous fat; 39 of 1560
		 * once the skin is sought inside them). */
		assert_true(ours[2] * 20 <= ours[0] + ours[1] + ours[2] +
		    ours[3] + ours[4]);
	}
	{
		const char	*dir = getenv("ZY_BMD_PICS");
		unsigned char	*rgb;
		FILE		*f;

		if (dir != NULL && *dir != '\0' &&
		    bodycomp_picture(v, &bc, &rgb) == 0) {
			(void)snprintf(path, sizeof(path),
			    "%s/totalseg-bodycomp.ppm", dir);
			if ((f = fopen(path, "wb")) != NULL) {
				(void)fprintf(f, "P6\n%d %d\n255\n", bc.nx,
				    bc.ny);
				(void)fwrite(rgb, 3, n, f);
				(void)fclose(f);
			}
			free(rgb);
		}
	}
	for (i = 0; i < 3; i++)
		assert_true(ma[i] > 0.0 && ra[i] > 0.0);
	bodycomp_free(&bc);
	for (i = 0; i < 3; i++)
		series_free(m[i]);
	series_free(seg);
	series_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genant),
		cmocka_unit_test(test_bands),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_plate_fit),
		cmocka_unit_test(test_plate_fit_lines),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_chest_phantom),
		cmocka_unit_test(test_one_rib),
		cmocka_unit_test(test_iliac_wings),
		cmocka_unit_test(test_phantom_1_25),
		cmocka_unit_test(test_phantom_tilt),
		cmocka_unit_test(test_phantom_2_5),
		cmocka_unit_test(test_phantom_0_625),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_totalseg),
		cmocka_unit_test(test_totalseg_nifti),
		cmocka_unit_test(test_totalseg_bodycomp),
	};

	/* ZY_TEST_FILTER=test_lidc runs one test (while working on it). */
	if (getenv("ZY_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ZY_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
