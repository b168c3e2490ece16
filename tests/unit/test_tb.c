/*
 * test_tb.c - the film loader (film.h) and the tuberculosis reader (tb.h)
 * on synthetic films: the chest of zhiying-phantom -F (phantom.h) with
 * opacities of known place added, in MONOCHROME1 and MONOCHROME2, 8 and
 * 16 bits, with and without a window and a pixel spacing, with
 * collimation bands; a lateral-like film, a limb and a document refused.
 * Real films (../shared/data/dr/tb) are loaded from their DICOM files when
 * present; tbeval measures the reader on them.
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
#include <unistd.h>

#include <cmocka.h>

#include "dcmwrite.h"
#include "dicom.h"
#include "film.h"
#include "phantom.h"
#include "preview.h"
#include "realdata.h"
#include "reader.h"
#include "series.h"
#include "tb.h"
#include "voi.h"

#define N	800
#define MM	0.5

/* A deviate of about unit variance (sum of three uniforms). */
static double
noise(unsigned long long *x)
{
	double	 s = 0;
	int	 i;

	for (i = 0; i < 3; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		s += (double)(*x >> 11) / 9007199254740992.0;
	}
	return (s - 1.5) * 2;
}

/* The chest film of phantom.h, N x N of MM mm, as stored values: value
 * (attenuation) * gain + offset; with an opacity of radius rad mm at
 * (cu, cw) mm when rad > 0, added to the attenuation; border px of
 * collimation (value coll) on every side when border > 0. */
static float *
chest_of(const struct phantom_chest *sp, double gain, double offset,
    double cu, double cw, double rad, int border, double coll)
{
	float			*v = malloc(sizeof(float) * N * N);
	unsigned long long	 x = 0x9e3779b97f4a7c15ULL;
	double			 u, w, a;
	int			 i, j;

	assert_non_null(v);
	for (j = 0; j < N; j++)
		for (i = 0; i < N; i++) {
			u = (i - (N - 1) / 2.0) * MM;
			w = (j - (N - 1) / 2.0) * MM;
			a = (sp != NULL ? phantom_film_chest_spec(sp, u, w) :
			    phantom_film_chest(u, w)) + 25 * noise(&x);
			if (rad > 0 && hypot(u - cu, w - cw) < rad)
				a += 500;
			if (border > 0 && (i < border || j < border ||
			    i >= N - border || j >= N - border))
				a = coll;
			v[(size_t)j * N + i] = (float)(a * gain + offset);
		}
	return v;
}

static float *
chest(double gain, double offset, double cu, double cw, double rad,
    int border, double coll)
{
	return chest_of(NULL, gain, offset, cu, cw, rad, border, coll);
}

static struct film_tags
tags(const char *photometric, double wc, double ww, double spacing)
{
	struct film_tags	 t;

	memset(&t, 0, sizeof(t));
	t.modality = "DX";
	t.photometric = photometric;
	t.window_center = wc;
	t.window_width = ww;
	if (spacing > 0) {
		t.pixel_spacing[0] = t.pixel_spacing[1] = spacing;
		t.spacing_source = DCM_SPACING_IMAGER;
	}
	t.view_position = "PA";
	t.body_part = "CHEST";
	return t;
}

/* The display transform: the file's window, MONOCHROME1 inverted, the
 * absence of a pixel size stated. */
static void
test_display(void **state)
{
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0);
	struct film	*f, *g;
	float		*v = chest(1, 0, 0, 0, 0, 0, 0);
	char		 err[256], b[200];
	size_t		 k;

	(void)state;
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_true(f->window_from_file);
	assert_false(f->inverted);
	/* Air outside the trunk is dark, the spine bright. */
	assert_true(f->img[10 * N + 10] < 0.15f);
	assert_true(f->img[(N / 2) * N + N / 2] > f->img[(N / 2) * N +
	    N / 2 - 150]);
	assert_int_equal(f->spacing_source, 0);
	film_spacing_zh(f, b, sizeof(b));
	assert_non_null(strstr(b, "未提供像素间距"));
	assert_non_null(strstr(f->notes, "不给出毫米尺寸"));
	/* MONOCHROME1 of the negated values shows the same picture. */
	for (k = 0; k < (size_t)N * N; k++)
		v[k] = 4000 - v[k];
	t = tags("MONOCHROME1", 4000 - 1400 + 1, 2800, 0.2);
	assert_int_equal(film_from_values(v, N, N, &t, &g, err,
	    sizeof(err)), 0);
	assert_true(g->inverted);
	for (k = 0; k < (size_t)N * N; k += 997)
		assert_true(fabsf(f->img[k] - g->img[k]) < 0.01f);
	assert_int_equal(g->spacing_source, DCM_SPACING_IMAGER);
	assert_true(fabs(g->spacing[0] - 0.2) < 1e-9);
	film_free(f);
	film_free(g);
	free(v);
}

/* No window: 16-bit values shown by their range. */
static void
test_no_window(void **state)
{
	struct film_tags t = tags("MONOCHROME2", NAN, NAN, 0.14);
	struct film	*f;
	float		*v = chest(20, 1000, 0, 0, 0, 0, 0);
	char		 err[256];

	(void)state;
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_false(f->window_from_file);
	assert_true(f->window_width > 20000);
	assert_non_null(strstr(f->notes, "窗宽窗位"));
	assert_true(f->img[(N / 2) * N + N / 2] > 0.6f);
	film_free(f);
	free(v);
}

/* Collimation bands, white (blocked) or black (unexposed), found. */
static void
test_collimation(void **state)
{
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0.2);
	struct film	*f;
	float		*v;
	char		 err[256];
	int		 white;

	(void)state;
	for (white = 0; white < 2; white++) {
		v = chest(1, 0, 0, 0, 0, 40, white ? 3500 : 0);
		assert_int_equal(film_from_values(v, N, N, &t, &f, err,
		    sizeof(err)), 0);
		/* Top and bottom: the band exactly (the neck and the
		 * belly are not flat).  The sides: the band and the flat
		 * black air beside the trunk (to 80 pixels) are both
		 * outside the exposed body. */
		assert_in_range(f->field[1], 38, 42);
		assert_in_range(f->field[3], N - 43, N - 39);
		assert_in_range(f->field[0], 38, 82);
		assert_in_range(f->field[2], N - 83, N - 39);
		film_free(f);
		free(v);
	}
}

/* The view from the tags, the description, the 检查部位, the image. */
static void
test_view(void **state)
{
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0.2);
	struct film	*f;
	float		*v = chest(1, 0, 0, 0, 0, 0, 0), *lat;
	char		 err[256], why[256];
	int		 i, j;

	(void)state;
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f->view, FILM_VIEW_FRONTAL);
	assert_int_equal(f->view_from, FILM_FROM_TAGS);
	assert_true(f->midline_contrast >= 0.05);
	film_free(f);
	t.view_position = "";
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f->view, FILM_VIEW_FRONTAL);
	assert_int_equal(f->view_from, FILM_FROM_IMAGE);
	film_free(f);
	t.exam_part = "胸部侧位";
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f->view, FILM_VIEW_LATERAL);
	assert_int_equal(f->view_from, FILM_FROM_EXAM);
	assert_int_equal(tb_film_check(f, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "侧位"));
	film_free(f);
	/* A lateral-like film: one dark field, the spine to one side. */
	lat = malloc(sizeof(float) * N * N);
	assert_non_null(lat);
	for (j = 0; j < N; j++)
		for (i = 0; i < N; i++) {
			double	 u = (i - N / 2.0) * MM, w = (j - N / 2.0) * MM;
			double	 a = 120;

			if (fabs(u) < 130 && fabs(w) < 190)
				a += 1300;
			if ((u / 100) * (u / 100) + (w / 140) * (w / 140) < 1)
				a -= 800;
			if (u > 100 && u < 125)
				a += 600;
			lat[(size_t)j * N + i] = (float)a;
		}
	t.exam_part = "";
	assert_int_equal(film_from_values(lat, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f->view, FILM_VIEW_LATERAL);
	assert_int_equal(tb_film_check(f, why, sizeof(why)), 1);
	film_free(f);
	free(lat);
	free(v);
}

/* Other parts and a document are refused, with the reason. */
static void
test_refusals(void **state)
{
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0.2);
	struct film	*f;
	float		*v = chest(1, 0, 0, 0, 0, 0, 0), *doc;
	char		 err[256], why[256];
	int		 i, j;

	(void)state;
	t.body_part = "SKULL";
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(tb_film_check(f, why, sizeof(why)), 1);
	film_free(f);
	t.body_part = "";
	t.exam_part = "左前臂";
	assert_int_equal(film_from_values(v, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(tb_film_check(f, why, sizeof(why)), 1);
	film_free(f);
	/* A page of text: white paper, dark lines of letters. */
	doc = malloc(sizeof(float) * N * N);
	assert_non_null(doc);
	for (j = 0; j < N; j++)
		for (i = 0; i < N; i++)
			doc[(size_t)j * N + i] = (j % 24 < 8 && i % 9 < 5 &&
			    i > 60 && i < N - 60) ? 20.0f : 240.0f;
	t = tags("MONOCHROME2", NAN, NAN, 0);
	t.modality = "SC";
	t.view_position = "";
	t.body_part = "";
	assert_int_equal(film_from_values(doc, N, N, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(tb_film_check(f, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "扫描文件"));
	film_free(f);
	free(doc);
	free(v);
}

/*
 * An opacity of 12 mm radius in the right upper zone (the patient's
 * right, the viewer's left) is boxed there, the left lung not; the same
 * with MONOCHROME1 at 16 bits.  The phantom's sharp ribs and noise make
 * even its clean film score high (it is no normal chest), so the clean
 * film is held to less: a lower upper-zone excess and no higher a
 * confidence there.
 */
static void
test_opacity(void **state)
{
	struct film_tags t;
	struct film	*f;
	struct tb_result r;
	float		*v;
	char		 err[256];
	double		 cu = -80, cw = -85, conf = 0, excess = 0;
	int		 px = (int)(cu / MM + (N - 1) / 2.0),
			 py = (int)(cw / MM + (N - 1) / 2.0), k, found, mono1;
	size_t		 i;

	(void)state;
	for (mono1 = 0; mono1 < 2; mono1++) {
		v = chest(mono1 ? -16 : 1, mono1 ? 60000 : 0, cu, cw, 12, 0,
		    0);
		t = tags(mono1 ? "MONOCHROME1" : "MONOCHROME2", mono1 ?
		    60000 - 16 * 1400 : 1400, mono1 ? 16 * 2800 : 2800, 0.5);
		assert_int_equal(film_from_values(v, N, N, &t, &f, err,
		    sizeof(err)), 0);
		assert_int_equal(tb_film_check(f, err, sizeof(err)), 0);
		assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
		assert_true(r.lung_frac[0] > 0.05 && r.lung_frac[1] > 0.05);
		for (k = 0, found = 0; k < (int)r.count; k++) {
			assert_int_equal(r.lesions[k].side, 0);
			if (r.lesions[k].x0 <= px && r.lesions[k].x1 >= px &&
			    r.lesions[k].y0 <= py && r.lesions[k].y1 >= py) {
				found = 1;
				assert_string_equal(r.lesions[k].location,
				    "右上肺野");
				assert_true(r.lesions[k].confidence >= 0.5);
				conf = r.lesions[k].confidence;
			}
		}
		assert_true(found);
		excess = r.feat[0];
		tb_result_free(&r);
		film_free(f);
		free(v);
	}
	v = chest(1, 0, 0, 0, 0, 0, 0);
	t = tags("MONOCHROME2", 1400, 2800, 0.5);
	assert_int_equal(film_from_values(v, N, N, &t, &f, err, sizeof(err)),
	    0);
	assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
	assert_true(r.feat[0] < excess - 0.005);
	for (i = 0; i < r.count; i++)
		if (r.lesions[i].x0 <= px && r.lesions[i].x1 >= px &&
		    r.lesions[i].y0 <= py && r.lesions[i].y1 >= py)
			assert_true(r.lesions[i].confidence < conf);
	tb_result_free(&r);
	film_free(f);
	free(v);
}

/* Whether lesion l's box holds the film point of (u, w) mm. */
static int
box_holds(const struct tb_lesion *l, double u, double w)
{
	int	 px = (int)lround(u / MM + (N - 1) / 2.0),
		 py = (int)lround(w / MM + (N - 1) / 2.0);

	return l->x0 <= px && l->x1 >= px && l->y0 <= py && l->y1 >= py;
}

/*
 * Effusion and cavity on the phantom whose truth is known
 * (phantom_chest_tb: fluid in the right costophrenic recess, a cavity
 * in the left upper zone), in MONOCHROME2 and MONOCHROME1; each found,
 * once, in its place, with its own box, kind and words; the normal
 * phantom, and the phantom with the plain opacity, give neither, their
 * costophrenic angles acute.
 */
static void
test_effusion_cavity(void **state)
{
	const struct phantom_chest *sp = &phantom_chest_tb;
	struct film_tags t;
	struct film	*f;
	struct tb_result r;
	struct ai_result a;
	float		*v;
	char		 err[256];
	int		 mono1, eff, cav, normal;
	size_t		 k;

	(void)state;
	for (mono1 = 0; mono1 < 2; mono1++) {
		v = chest_of(sp, mono1 ? -16 : 1, mono1 ? 60000 : 0, 0, 0, 0,
		    0, 0);
		t = tags(mono1 ? "MONOCHROME1" : "MONOCHROME2", mono1 ?
		    60000 - 16 * 1400 : 1400, mono1 ? 16 * 2800 : 2800, 0.5);
		assert_int_equal(film_from_values(v, N, N, &t, &f, err,
		    sizeof(err)), 0);
		assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
		printf("lesions phantom (%s): angles right %.0f left %.0f, "
		    "raised %.2f %.2f\n", t.photometric, r.cp_angle[0],
		    r.cp_angle[1], r.cp_raised[0], r.cp_raised[1]);
		for (k = 0, eff = cav = 0; k < r.count; k++) {
			const struct tb_lesion *l = &r.lesions[k];

			printf("  %s %s conf %.2f box %d,%d-%d,%d\n",
			    tb_type_zh[l->type], l->location, l->confidence,
			    l->x0, l->y0, l->x1, l->y1);
			if (l->type == TB_EFFUSION) {
				eff++;
				assert_string_equal(l->location, "右肋膈角");
				/* The recess's corner under the fluid. */
				assert_true(box_holds(l, -125, 110));
				assert_true(l->angle >= TB_CP_BLUNT);
			}
			if (l->type == TB_CAVITY) {
				cav++;
				assert_string_equal(l->location, "左上肺野");
				assert_true(box_holds(l, sp->cav[0].u,
				    sp->cav[0].w));
				/* Its lucency, 18 mm across, within 40 %. */
				assert_in_range(l->diameter * MM, 11, 25);
			}
		}
		assert_int_equal(eff, 1);
		assert_int_equal(cav, 1);
		assert_true(r.cp_angle[1] < TB_CP_BLUNT);
		assert_true(r.positive);
		ai_result_init(&a);
		assert_int_equal(tb_to_ai(&r, f, &a), 0);
		for (k = 0, eff = cav = 0; k < a.nlesions; k++) {
			eff += strcmp(a.lesions[k].type, "胸腔积液") == 0 &&
			    strstr(a.lesions[k].findings, "右肋膈角") != NULL &&
			    strstr(a.lesions[k].conclusion, "胸腔积液") != NULL;
			cav += strcmp(a.lesions[k].type, "空洞") == 0 &&
			    strstr(a.lesions[k].findings, "左上肺野") != NULL &&
			    strstr(a.lesions[k].conclusion, "空洞") != NULL;
		}
		assert_int_equal(eff, 1);
		assert_int_equal(cav, 1);
		ai_result_free(&a);
		tb_result_free(&r);
		film_free(f);
		free(v);
	}
	for (normal = 0; normal < 2; normal++) {
		v = chest(1, 0, -80, -85, normal ? 0 : 12, 0, 0);
		t = tags("MONOCHROME2", 1400, 2800, 0.5);
		assert_int_equal(film_from_values(v, N, N, &t, &f, err,
		    sizeof(err)), 0);
		assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
		printf("%s phantom: angles right %.0f left %.0f\n", normal ?
		    "normal" : "opacity", r.cp_angle[0], r.cp_angle[1]);
		assert_true(r.cp_angle[0] < 70 && r.cp_angle[1] < 70);
		for (k = 0; k < r.count; k++)
			assert_true(r.lesions[k].type != TB_EFFUSION &&
			    r.lesions[k].type != TB_CAVITY);
		tb_result_free(&r);
		film_free(f);
		free(v);
	}
}

/*
 * A lucency long along its walls, as a rib interspace is between two
 * rib bands and closed at its ends by a crossing: the normal phantom
 * with, where phantom_chest_tb has its cavity (left upper zone), a
 * lucency of semi-axes a by b mm (as lucent as that cavity's) inside a
 * wall of opacity 6 mm thick (as dense).  Round (18 by 18 mm across,
 * the phantom's cavity) it is a cavity; long (26 by 16 mm across, its
 * lucency about 2.1 times as long as wide on the working image) it is
 * not, though walled in 10 of 12 sectors as the round one is.
 */
static float *
chest_slot(double a, double b)
{
	const struct phantom_chest *sp = &phantom_chest_tb;
	float			*v = malloc(sizeof(float) * N * N);
	unsigned long long	 x = 0x9e3779b97f4a7c15ULL;
	double			 u, w, e, o, val;
	int			 i, j;

	assert_non_null(v);
	for (j = 0; j < N; j++)
		for (i = 0; i < N; i++) {
			u = (i - (N - 1) / 2.0) * MM - sp->cav[0].u;
			w = (j - (N - 1) / 2.0) * MM - sp->cav[0].w;
			e = hypot(u / a, w / b);
			o = hypot(u / (a + 6), w / (b + 6));
			val = phantom_film_chest(u + sp->cav[0].u,
			    w + sp->cav[0].w) + 25 * noise(&x);
			if (e < 1)
				val -= sp->cav[0].lucency;
			else if (o < 1)
				val += 500;
			v[(size_t)j * N + i] = (float)val;
		}
	return v;
}

static void
test_cavity_shape(void **state)
{
	const struct phantom_chest *sp = &phantom_chest_tb;
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0.5);
	struct film	*f;
	struct tb_result r;
	float		*v;
	char		 err[256];
	int		 slot, cav;
	size_t		 k;

	(void)state;
	for (slot = 0; slot < 2; slot++) {
		v = slot ? chest_slot(13, 8) : chest_slot(sp->cav[0].r_in,
		    sp->cav[0].r_in);
		assert_int_equal(film_from_values(v, N, N, &t, &f, err,
		    sizeof(err)), 0);
		assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
		for (k = 0, cav = 0; k < r.count; k++)
			if (r.lesions[k].type == TB_CAVITY) {
				printf("%s lucency: cavity walled %d of 12 "
				    "sectors, %.0f px\n", slot ? "long" :
				    "round", r.lesions[k].walled,
				    r.lesions[k].diameter);
				cav += box_holds(&r.lesions[k], sp->cav[0].u,
				    sp->cav[0].w);
			}
		assert_int_equal(cav, slot ? 0 : 1);
		tb_result_free(&r);
		film_free(f);
		free(v);
	}
}

/*
 * The costophrenic angle on drawn masks of a right lung (viewer's left,
 * columns 20..60, rows 20..100): a normal recess whose corner is cut
 * off (a shallow angle, as seen through the breast or with a poor
 * inspiration) is obtuse but still the lowest of the base, so it is not
 * blunted; a meniscus, the base rising along the chest wall, is.
 */
static void
test_cp_meniscus(void **state)
{
	enum { W = 128 };
	unsigned char	*m;
	double		 angle, raised;
	int		 x, y, rise, box[4], menisc;

	(void)state;
	assert_non_null(m = calloc(W * W, 1));
	for (menisc = 0; menisc < 2; menisc++) {
		memset(m, 0, W * W);
		for (y = 20; y <= 100; y++)
			for (x = 20; x <= 60; x++) {
				int	 q = x - 20, low;

				low = menisc ? (q < 16 ? 100 - (int)lround(12 *
				    (1 - q / 16.0)) : 100) : 100;
				if (!menisc && q < y - 92)
					continue;
				if (y <= low)
					m[y * W + x] = 1;
			}
		assert_int_equal(tb_cp_angle(m, W, W, 0, 20, 100, &angle,
		    &raised, &rise, box), 0);
		printf("%s: angle %.0f, rise %d px\n", menisc ? "meniscus" :
		    "shallow recess", angle, rise);
		/* Both obtuse. */
		assert_true(angle >= TB_CP_BLUNT);
		if (menisc) {
			assert_true(rise >= TB_CP_RISE);
			assert_true(tb_cp_blunted(angle, rise));
		} else {
			assert_int_equal(rise, 0);
			assert_false(tb_cp_blunted(angle, rise));
		}
	}
	free(m);
}

/* The result for the page: numbered boxes on slice 0, confidence, the
 * text the doctor's ticks take, the notice. */
static void
test_result(void **state)
{
	struct film_tags t = tags("MONOCHROME2", 1400, 2800, 0);
	struct film	*f;
	struct tb_result r;
	struct ai_result a;
	float		*v = chest(1, 0, -80, -85, 12, 0, 0);
	char		 err[256];
	size_t		 i;

	(void)state;
	assert_int_equal(film_from_values(v, N, N, &t, &f, err, sizeof(err)),
	    0);
	assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
	assert_true(r.count >= 1);
	ai_result_init(&a);
	assert_int_equal(tb_to_ai(&r, f, &a), 0);
	assert_int_equal(a.nlesions, r.count);
	for (i = 0; i < a.nlesions; i++) {
		assert_int_equal(a.lesions[i].id, (int)i + 1);
		assert_int_equal(a.lesions[i].box.slice, 0);
		assert_non_null(strstr(a.lesions[i].findings, "肺野"));
		assert_true(a.lesions[i].confidence >= 0.5 &&
		    a.lesions[i].confidence <= 1);
		/* No size in mm without a pixel spacing. */
		assert_null(strstr(a.lesions[i].meas[a.lesions[i].nmeas -
		    1].unit, "mm"));
	}
	assert_non_null(strstr(a.method, "仅供参考"));
	assert_non_null(strstr(a.method, "验证"));
	assert_non_null(strstr(a.method, "未提供像素间距"));
	ai_result_free(&a);
	tb_result_free(&r);
	film_free(f);
	free(v);
}

/*
 * A film through the DICOM files: the phantom chest with the opacity as
 * a MONOCHROME1 DX of 16-bit values (up to 30000) and a band of 40
 * unexposed (black) pixels on every side, written by dcmwrite and read back by film_load(): shown
 * as the MONOCHROME2 picture, its Pixel Spacing kept, its band found, the
 * opacity boxed in the right upper zone.
 */
static void
test_dicom_film(void **state)
{
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	struct film		*f;
	struct tb_result	 r;
	float			*a = chest(-8, 30000, -80, -85, 12, 40, 0);
	char			 dir[] = "/tmp/test_tb.XXXXXX", path[64],
				 err[256];
	int			 px = (int)(-80 / MM + (N - 1) / 2.0),
				 py = (int)(-85 / MM + (N - 1) / 2.0), k, found;

	(void)state;
	assert_non_null(mkdtemp(dir));
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->vox = a;
	v->nx = v->ny = N;
	v->nz = 1;
	v->spacing[0] = v->spacing[1] = MM;
	v->row[0] = 1;
	v->col[2] = -1;
	v->normal[1] = 1;
	v->kvp = 120;
	v->slice_thickness = NAN;
	v->window_center = 30000 - 8 * 1400;
	v->window_width = 8 * 2800;
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	(void)snprintf(v->photometric, sizeof(v->photometric), "MONOCHROME1");
	memset(&o, 0, sizeof(o));
	o.body_part = "CHEST";
	o.view_position = "PA";
	assert_int_equal(dcmwrite_series(v, &o, dir, err, sizeof(err)), 0);
	series_free(v);
	(void)snprintf(path, sizeof(path), "%s/IM000001.dcm", dir);
	assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)), 0);
	assert_true(f->inverted);
	assert_true(f->window_from_file);
	assert_int_equal(f->spacing_source, DCM_SPACING_PIXEL);
	assert_true(fabs(f->spacing[0] - MM) < 1e-6);
	assert_int_equal(f->view_from, FILM_FROM_TAGS);
	assert_in_range(f->field[1], 38, 42);
	assert_in_range(f->field[3], N - 43, N - 39);
	/* Bone white, air black, as in the MONOCHROME2 film. */
	assert_true(f->img[(size_t)(N / 2) * N + N / 2] > 0.6f);
	assert_int_equal(tb_film_check(f, err, sizeof(err)), 0);
	assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
	for (k = 0, found = 0; k < (int)r.count; k++)
		found |= r.lesions[k].x0 <= px && r.lesions[k].x1 >= px &&
		    r.lesions[k].y0 <= py && r.lesions[k].y1 >= py &&
		    strcmp(r.lesions[k].location, "右上肺野") == 0;
	assert_true(found);
	tb_result_free(&r);
	film_free(f);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Write nx x ny values as a DX film in a new folder under /tmp with the
 * options o; its path into path (the folder: dir). */
static void
film_write(const float *vals, int nx, int ny, const char *photometric,
    const struct dcmwrite_opts *o, char *dir, char *path, size_t sz)
{
	struct series_volume	*v;
	char			 err[256];

	(void)snprintf(dir, 32, "/tmp/test_tb.XXXXXX");
	assert_non_null(mkdtemp(dir));
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->vox = malloc(sizeof(float) * (size_t)nx * ny);
	assert_non_null(v->vox);
	memcpy(v->vox, vals, sizeof(float) * (size_t)nx * ny);
	v->nx = nx;
	v->ny = ny;
	v->nz = 1;
	v->spacing[0] = v->spacing[1] = MM;
	v->row[0] = 1;
	v->col[2] = -1;
	v->normal[1] = 1;
	v->kvp = 120;
	v->slice_thickness = NAN;
	v->window_center = NAN;
	v->window_width = NAN;
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	(void)snprintf(v->photometric, sizeof(v->photometric), "%s",
	    photometric);
	assert_int_equal(dcmwrite_series(v, o, dir, err, sizeof(err)), 0);
	series_free(v);
	(void)snprintf(path, sz, "%s/IM000001.dcm", dir);
}

static void
film_unwrite(const char *dir, const char *path)
{
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

#define LN	64		/* side of the LUT test films */

/* One LUT film: its stored values, what is written, what must be shown
 * (by hand, below). */
struct lut_case {
	const char	*name;
	const char	*photometric;
	int		 sgnd;
	double		 lo, step;	/* stored value of pixel i: lo +
					 * i * step */
	int		 mlut;		/* Modality LUT: m = 3 s + 7 */
	unsigned	 vbits;		/* VOI LUT entries' bits; 0: none */
	const char	*fn;		/* VOI LUT Function, window used */
	double		 wc, ww;
};

/* The modality value of stored value s in case c. */
static double
case_modality(const struct lut_case *c, double s)
{
	if (!c->mlut)
		return s;
	/* 4096 entries from stored value 0: below 0 the first, above
	 * 4095 the last. */
	s = s < 0 ? 0 : s > 4095 ? 4095 : s;
	return 3 * s + 7;
}

/* The VOI LUT of case c: entry j maps modality value first + j. */
static void
case_voi(const struct lut_case *c, uint16_t *d, size_t *count,
    struct dcmwrite_lut *l)
{
	size_t	 j;

	memset(l, 0, sizeof(*l));
	l->bits = c->vbits;
	if (c->vbits == 8) {
		/* 256 entries from -128, j itself, two to a word. */
		l->entries = 256;
		l->first = -128;
		for (j = 0; j < 128; j++)
			d[j] = (uint16_t)(2 * j | (2 * j + 1) << 8);
		*count = 128;
	} else if (c->vbits == 12) {
		/* 2048 entries from 4000, 2 j (at most 4095). */
		l->entries = 2048;
		l->first = 4000;
		for (j = 0; j < 2048; j++)
			d[j] = (uint16_t)(2 * j > 4095 ? 4095 : 2 * j);
		*count = 2048;
	} else {
		/* 65536 entries (descriptor 0) from 0, falling. */
		l->entries = 0;
		l->first = 0;
		for (j = 0; j < 65536; j++)
			d[j] = (uint16_t)(65535 - j);
		*count = 65536;
	}
	l->data = d;
	l->count = *count;
}

/* What case c shows for modality value m, 0..1, worked by hand. */
static double
case_shown(const struct lut_case *c, double m)
{
	double	 y, k;

	if (c->vbits == 8) {
		k = m + 128;
		k = k < 0 ? 0 : k > 255 ? 255 : k;
		y = k / 255;
	} else if (c->vbits == 12) {
		k = m - 4000;
		k = k < 0 ? 0 : k > 2047 ? 2047 : k;
		y = fmin(2 * k, 4095) / 4095;
	} else if (c->vbits == 16) {
		y = (65535 - m) / 65535;
	} else if (strcmp(c->fn, "SIGMOID") == 0) {
		y = 1 / (1 + exp(-4 * (m - c->wc) / c->ww));
	} else {	/* LINEAR_EXACT */
		y = m <= c->wc - c->ww / 2 ? 0 : m > c->wc + c->ww / 2 ? 1 :
		    (m - c->wc) / c->ww + 0.5;
	}
	return strcmp(c->photometric, "MONOCHROME1") == 0 ? 1 - y : y;
}

/*
 * Films with Modality and VOI LUT Sequences and VOI LUT Functions
 * (PS3.3 C.11.1, C.11.2; PS3.4 N.2), written by dcmwrite and read by the
 * daemon's loader (film_load()) and by the series preview
 * (series_load(), preview_render_voi()): 8-, 12- and 16-bit entries,
 * signed and unsigned pixels, MONOCHROME1 and 2, values below and above
 * the tables; what is shown is worked out by hand above, and both paths
 * must show it.  The first of two VOI LUTs is the one shown.
 */
static void
test_lut_films(void **state)
{
	static const struct lut_case cases[] = {
		{ "mlut+voi12", "MONOCHROME2", 0, 0, 1.25, 1, 12, NULL, 0, 0 },
		{ "voi8 signed", "MONOCHROME1", 1, -2000, 0.25, 0, 8, NULL, 0,
		    0 },
		{ "voi16", "MONOCHROME2", 0, 0, 16, 0, 16, NULL, 0, 0 },
		{ "sigmoid", "MONOCHROME2", 1, -1000, 0.5, 0, 0, "SIGMOID",
		    -24, 300 },
		{ "linear exact", "MONOCHROME1", 0, 0, 1, 1, 0,
		    "LINEAR_EXACT", 5000, 2000.5 },
	};
	static uint16_t		 md[4096], vd[65536], other[4];
	struct dcmwrite_lut	 ml, vl[2];
	struct dcmwrite_opts	 o;
	struct series_volume	*sv;
	struct voi		 voi;
	struct film		*f;
	const char		*paths[1];
	unsigned char		*pix;
	float			 vals[LN * LN];
	char			 dir[32], path[64], err[256];
	size_t			 i, k, cnt;
	double			 want, worst;
	int			 pw, ph;

	(void)state;
	for (k = 0; k < 4096; k++)
		md[k] = (uint16_t)(3 * k + 7);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lut_case *c = &cases[i];

		for (k = 0; k < LN * LN; k++)
			vals[k] = (float)(c->lo + (double)k * c->step);
		memset(&o, 0, sizeof(o));
		o.body_part = "CHEST";
		o.view_position = "PA";
		o.pixel_unsigned = !c->sgnd;
		if (c->mlut) {
			memset(&ml, 0, sizeof(ml));
			ml.entries = 4096;
			ml.bits = 16;
			ml.data = md;
			ml.count = 4096;
			o.modality_lut = &ml;
		}
		if (c->vbits > 0) {
			/* A second VOI LUT, all white, that must not be
			 * the one shown; and a window that must not be
			 * used either. */
			case_voi(c, vd, &cnt, &vl[0]);
			memset(&vl[1], 0, sizeof(vl[1]));
			other[0] = other[1] = other[2] = other[3] = 255;
			vl[1].entries = 4;
			vl[1].bits = 8;
			vl[1].data = other;
			vl[1].count = 4;
			o.voi_luts = vl;
			o.nvoi_luts = 2;
			o.window_center = 1;
			o.window_width = 2;
		} else {
			o.voi_function = c->fn;
			o.window_center = c->wc;
			o.window_width = c->ww;
		}
		film_write(vals, LN, LN, c->photometric, &o, dir, path,
		    sizeof(path));
		assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)),
		    0);
		assert_int_equal(f->voi_from_lut, c->vbits > 0);
		worst = 0;
		for (k = 0; k < LN * LN; k++) {
			/* The writer stores the nearest integer. */
			want = case_shown(c, case_modality(c,
			    (double)lround(vals[k])));
			worst = fmax(worst, fabs(f->img[k] - want));
		}
		printf("%s: film_load differs from the hand by %.2g at most\n",
		    c->name, worst);
		assert_true(worst < 1e-6);
		paths[0] = path;
		assert_int_equal(series_load(paths, 1, NULL, &sv, err,
		    sizeof(err)), 0);
		assert_int_equal(preview_voi_of_file(sv, &voi), 0);
		assert_int_equal(preview_render_voi(sv, 0, &voi, 0, &pix, &pw,
		    &ph, err, sizeof(err)), 0);
		assert_int_equal(pw, LN);
		for (k = 0; k < LN * LN; k++)
			assert_int_equal(pix[k], (int)floor(f->img[k] * 255 +
			    0.5));
		free(pix);
		series_free(sv);
		film_free(f);
		film_unwrite(dir, path);
	}
}

/* LUTs that cannot be applied: a clear refusal by the film loader and
 * the series loader, nothing shown. */
static void
test_lut_refused(void **state)
{
	static const uint16_t	 d[4] = { 1, 2, 3, 4 };
	struct dcmwrite_lut	 l;
	struct dcmwrite_opts	 o;
	struct series_volume	*sv;
	struct film		*f;
	const char		*paths[1];
	float			 vals[LN * LN];
	char			 dir[32], path[64], err[256];
	int			 kind;
	size_t			 k;

	(void)state;
	for (k = 0; k < LN * LN; k++)
		vals[k] = (float)k;
	for (kind = 0; kind < 5; kind++) {
		memset(&o, 0, sizeof(o));
		memset(&l, 0, sizeof(l));
		o.pixel_unsigned = 1;
		l.entries = kind == 1 ? 0 : 8;	/* 0: 65536 */
		l.bits = 16;
		l.data = d;
		l.count = kind == 2 || kind == 3 ? 0 : 4;
		if (kind == 3 || kind == 4)
			o.modality_lut = &l;
		else {
			o.voi_luts = &l;
			o.nvoi_luts = 1;
		}
		if (kind == 4)
			l.entries = 4, o.voi_function = "CUBIC";
		film_write(vals, LN, LN, "MONOCHROME2", &o, dir, path,
		    sizeof(path));
		assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)),
		    -1);
		assert_null(f);
		printf("refused (%d): %s\n", kind, err);
		assert_non_null(strstr(err, kind == 4 ? "VOI LUT Function" :
		    kind >= 2 ? "no LUT Data" : "announces"));
		paths[0] = path;
		if (kind != 4) {
			assert_int_equal(series_load(paths, 1, NULL, &sv, err,
			    sizeof(err)), -1);
			assert_null(sv);
		}
		film_unwrite(dir, path);
	}
}

/*
 * The same chest through a VOI LUT Sequence and through the window it
 * stands for: shown alike (within the 12-bit table's step) and read
 * alike by the tuberculosis reader, its boxes and score.
 */
static void
test_voi_lut_as_window(void **state)
{
	static uint16_t		 d[65536];
	float			*v = chest(8, 2000, -80, -85, 12, 0, 0);
	struct dcmwrite_opts	 o;
	struct dcmwrite_lut	 l;
	struct film		*fw, *fl;
	struct tb_result	 rw, rl;
	struct voi		 lin;
	char			 dw[32], pw[64], dl[32], pl[64], err[256];
	double			 c = 2000 + 8 * 1400, w = 8 * 2800, worst = 0;
	size_t			 k;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.body_part = "CHEST";
	o.view_position = "PA";
	o.pixel_unsigned = 1;
	o.window_center = c;
	o.window_width = w;
	film_write(v, N, N, "MONOCHROME2", &o, dw, pw, sizeof(pw));
	/* The window as a table of 12-bit entries, one per modality value
	 * across it (PS3.3 C.11.2.1.2.1 sampled). */
	memset(&lin, 0, sizeof(lin));
	lin.center = c;
	lin.width = w;
	memset(&l, 0, sizeof(l));
	l.first = (long)floor(c - w / 2);
	l.entries = (unsigned)w + 2;
	l.bits = 12;
	for (k = 0; k < l.entries; k++)
		d[k] = (uint16_t)lround(4095 * voi_value(&lin,
		    (double)l.first + (double)k));
	l.data = d;
	l.count = l.entries;
	memset(&o, 0, sizeof(o));
	o.body_part = "CHEST";
	o.view_position = "PA";
	o.pixel_unsigned = 1;
	o.no_window = 1;
	o.voi_luts = &l;
	o.nvoi_luts = 1;
	film_write(v, N, N, "MONOCHROME2", &o, dl, pl, sizeof(pl));
	free(v);
	assert_int_equal(film_load(pw, NULL, &fw, err, sizeof(err)), 0);
	assert_int_equal(film_load(pl, NULL, &fl, err, sizeof(err)), 0);
	assert_false(fw->voi_from_lut);
	assert_true(fl->voi_from_lut);
	assert_true(fl->window_from_file);
	for (k = 0; k < (size_t)N * N; k++)
		worst = fmax(worst, fabs(fw->img[k] - fl->img[k]));
	printf("VOI LUT film against the windowed film: %.2g at most\n",
	    worst);
	assert_true(worst <= 0.5 / 4095 + 1e-6);
	assert_int_equal(tb_detect(fw, &rw, err, sizeof(err)), 0);
	assert_int_equal(tb_detect(fl, &rl, err, sizeof(err)), 0);
	printf("score %.4f windowed, %.4f through the VOI LUT; %zu and %zu "
	    "box(es)\n", rw.score, rl.score, rw.count, rl.count);
	assert_true(fabs(rw.score - rl.score) < 0.01);
	assert_int_equal(rw.count, rl.count);
	for (k = 0; k < rw.count; k++) {
		assert_string_equal(rw.lesions[k].location,
		    rl.lesions[k].location);
		assert_int_equal(rw.lesions[k].type, rl.lesions[k].type);
		assert_true(abs(rw.lesions[k].x0 - rl.lesions[k].x0) <= 2 &&
		    abs(rw.lesions[k].y1 - rl.lesions[k].y1) <= 2);
	}
	tb_result_free(&rw);
	tb_result_free(&rl);
	film_free(fw);
	film_free(fl);
	film_unwrite(dw, pw);
	film_unwrite(dl, pl);
}

/* A real film from its DICOM file: 8-bit, no pixel spacing, PA. */
static void
test_real_film(void **state)
{
	struct film	*f;
	struct tb_result r;
	char		 path[1024], err[256];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/dr/tb/cxr01.dcm",
	    realdata_dir());
	if (access(path, R_OK) != 0)
		skip();
	assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f->nx, 512);
	assert_int_equal(f->spacing_source, 0);
	assert_int_equal(f->view, FILM_VIEW_FRONTAL);
	assert_int_equal(f->view_from, FILM_FROM_TAGS);
	assert_true(f->midline_contrast >= 0.05);
	assert_int_equal(tb_film_check(f, err, sizeof(err)), 0);
	assert_int_equal(tb_detect(f, &r, err, sizeof(err)), 0);
	assert_true(r.lung_frac[0] > 0.05 && r.lung_frac[1] > 0.05);
	tb_result_free(&r);
	film_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_no_window),
		cmocka_unit_test(test_collimation),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_opacity),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_effusion_cavity),
		cmocka_unit_test(test_cavity_shape),
		cmocka_unit_test(test_cp_meniscus),
		cmocka_unit_test(test_dicom_film),
		cmocka_unit_test(test_lut_films),
		cmocka_unit_test(test_lut_refused),
		cmocka_unit_test(test_voi_lut_as_window),
		cmocka_unit_test(test_real_film),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

