/*
 * test_limb.c - the limb fracture reader (limb.h) on the forearm phantom
 * (phantom.h: phantom_film_limb_spec()): an intact forearm gets no box;
 * each drawn fracture (transverse, oblique, a step-off, angulation, two
 * lines close together) gets one box at its place, in the right third of
 * the right bone, of its type where the geometry tells it; the side from
 * the laterality tag; the result for the page; a film written as DICOM
 * with its laterality and read back.  limbeval measures the reader on
 * real films.
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
#include "limb.h"
#include "phantom.h"
#include "reader.h"
#include "series.h"

#define NX	700
#define NY	1000
#define MM	0.35

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

/* The forearm of spec as stored values, NX x NY of MM mm. */
static float *
forearm(const struct phantom_limb *spec)
{
	float			*v = malloc(sizeof(float) * NX * NY);
	unsigned long long	 x = 0x9e3779b97f4a7c15ULL;
	int			 i, j;

	assert_non_null(v);
	for (j = 0; j < NY; j++)
		for (i = 0; i < NX; i++)
			v[(size_t)j * NX + i] = (float)(phantom_film_limb_spec(
			    spec, (i - (NX - 1) / 2.0) * MM,
			    (j - (NY - 1) / 2.0) * MM) + 25 * noise(&x));
	return v;
}

static struct film *
film_of(const struct phantom_limb *spec, const char *laterality)
{
	struct film_tags t;
	struct film	*f;
	float		*v = forearm(spec);
	char		 err[256];

	memset(&t, 0, sizeof(t));
	t.modality = "DX";
	t.photometric = "MONOCHROME2";
	t.window_center = 1400;
	t.window_width = 2800;
	t.pixel_spacing[0] = t.pixel_spacing[1] = MM;
	t.spacing_source = DCM_SPACING_IMAGER;
	t.view_position = "AP";
	t.body_part = "FOREARM";
	t.laterality = laterality;
	assert_int_equal(film_from_values(v, NX, NY, &t, &f, err,
	    sizeof(err)), 0);
	free(v);
	return f;
}

/* Read spec; r filled, the film returned. */
static struct film *
read_spec(const struct phantom_limb *spec, struct limb_result *r)
{
	struct film	*f = film_of(spec, "R");
	char		 err[256];

	assert_int_equal(limb_film_check(f, err, sizeof(err)), 0);
	if (limb_detect(f, NULL, r, err, sizeof(err)) != 0)
		fail_msg("limb_detect: %s", err);
	return f;
}

/* The film pixel of (u, w) mm. */
#define PXU(u)	((u) / MM + (NX - 1) / 2.0)
#define PXW(w)	((w) / MM + (NY - 1) / 2.0)

/* That r holds exactly one box, at fracture fx of bone's film place
 * (within 6 mm along the bone, inside the box), and return it. */
static const struct limb_fracture *
one_at(const struct limb_result *r, double u, double w)
{
	const struct limb_fracture *l;

	if (r->count != 1 || getenv("LIMB_VERBOSE") != NULL) {
		size_t	 i;

		for (i = 0; i < r->count; i++)
			print_message("box %zu: %s at %.0f,%.0f score %.2f"
			    " cues %x type %d line z %.1f angle %.0f cortex z"
			    " %.1f step %.2f angulation %.1f\n", i + 1,
			    r->fx[i].location, r->fx[i].cx, r->fx[i].cy,
			    r->fx[i].score, r->fx[i].cues, r->fx[i].type,
			    r->fx[i].line_z, r->fx[i].line_angle,
			    r->fx[i].cortex_z, r->fx[i].step,
			    r->fx[i].angulation);
		if (r->count != 1)
			fail_msg("%zu boxes, not 1", r->count);
	}
	l = &r->fx[0];
	assert_true(fabs(l->cy - PXW(w)) < 6 / MM);
	assert_true(fabs(l->cx - PXU(u)) < 8 / MM);
	assert_true(l->x0 <= PXU(u) && l->x1 >= PXU(u));
	assert_true(l->y0 <= PXW(w) && l->y1 >= PXW(w));
	assert_true(l->confidence >= 0.5 && l->confidence <= 1);
	return l;
}

/* An intact forearm: two long bones, no box. */
static void
test_intact(void **state)
{
	struct phantom_limb	 spec;
	struct limb_result	 r;
	struct film		*f;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	f = read_spec(&spec, &r);
	assert_int_equal(r.nbones, 2);
	if (r.count != 0)
		fail_msg("%zu boxes on an intact forearm, the first %s score"
		    " %.2f cues %x", r.count, r.fx[0].location,
		    r.fx[0].score, r.fx[0].cues);
	assert_int_equal(r.orient, LIMB_ORIENT_PROXIMAL_UP);
	limb_result_free(&r);
	film_free(f);
}

/* A transverse line across the radius in its proximal third. */
static void
test_transverse(void **state)
{
	struct phantom_limb	 spec = { .nfx = 1, .fx = { { .bone = 0,
	    .kind = PHANTOM_FX_TRANSVERSE, .w = -90 } } };
	struct limb_result	 r;
	struct film		*f;
	const struct limb_fracture *l;

	(void)state;
	f = read_spec(&spec, &r);
	l = one_at(&r, PHANTOM_LIMB_CENTRE(0), -90);
	assert_true(l->cues & LIMB_CUE_LINE);
	assert_int_equal(l->type, LIMB_TRANSVERSE);
	assert_true(fabs(l->line_angle) < 30);
	assert_int_equal(l->third, LIMB_THIRD_UPPER);
	assert_string_equal(l->location, "右前臂（图像左起第1骨）近端1/3");
	limb_result_free(&r);
	film_free(f);
}

/* A line tilted 35 degrees across the ulna in its middle. */
static void
test_oblique(void **state)
{
	struct phantom_limb	 spec = { .nfx = 1, .fx = { { .bone = 1,
	    .kind = PHANTOM_FX_OBLIQUE, .w = 0, .tilt = 35 } } };
	struct limb_result	 r;
	struct film		*f;
	const struct limb_fracture *l;

	(void)state;
	f = read_spec(&spec, &r);
	l = one_at(&r, PHANTOM_LIMB_CENTRE(1), 0);
	assert_int_equal(l->type, LIMB_OBLIQUE);
	assert_true(fabs(fabs(l->line_angle) - 35) <= 10);
	assert_string_equal(l->location, "右前臂（图像左起第2骨）中段");
	limb_result_free(&r);
	film_free(f);
}

/* The radius broken across its distal third, the lower part shifted
 * 5 mm (a third of its width) to the side. */
static void
test_step(void **state)
{
	struct phantom_limb	 spec = { .nfx = 1, .fx = { { .bone = 0,
	    .kind = PHANTOM_FX_TRANSVERSE, .w = 90, .shift = -5 } } };
	struct limb_result	 r;
	struct film		*f;
	const struct limb_fracture *l;

	(void)state;
	f = read_spec(&spec, &r);
	l = one_at(&r, PHANTOM_LIMB_CENTRE(0) - 2.5, 90);
	assert_true(l->cues & LIMB_CUE_STEP);
	/* 5 mm of a radius about 16 mm wide there. */
	assert_true(l->step > 0.2 && l->step < 0.45);
	assert_int_equal(l->third, LIMB_THIRD_LOWER);
	assert_string_equal(l->location, "右前臂（图像左起第1骨）远端1/3");
	limb_result_free(&r);
	film_free(f);
}

/* The ulna angulated 12 degrees at w = 100, its lower part turned to
 * the viewer's right (and still in the soft tissue). */
static void
test_angulation(void **state)
{
	struct phantom_limb	 spec = { .nfx = 1, .fx = { { .bone = 1,
	    .kind = PHANTOM_FX_TRANSVERSE, .w = 100, .angulation = -12 } } };
	struct limb_result	 r;
	struct film		*f;
	const struct limb_fracture *l;

	(void)state;
	f = read_spec(&spec, &r);
	l = one_at(&r, PHANTOM_LIMB_CENTRE(1), 100);
	assert_true(l->cues & LIMB_CUE_ANGLE);
	assert_true(fabs(l->angulation - 12) <= 4);
	limb_result_free(&r);
	film_free(f);
}

/* Two lines 12 mm apart across the radius: one comminuted site. */
static void
test_comminuted(void **state)
{
	struct phantom_limb	 spec = { .nfx = 2, .fx = {
	    { .bone = 0, .kind = PHANTOM_FX_TRANSVERSE, .w = 20 },
	    { .bone = 0, .kind = PHANTOM_FX_OBLIQUE, .w = 32, .tilt = -30 } } };
	struct limb_result	 r;
	struct film		*f;
	const struct limb_fracture *l;

	(void)state;
	f = read_spec(&spec, &r);
	l = one_at(&r, PHANTOM_LIMB_CENTRE(0), 26);
	assert_int_equal(l->type, LIMB_COMMINUTED);
	assert_true(l->y0 <= PXW(20) && l->y1 >= PXW(32));
	limb_result_free(&r);
	film_free(f);
}

/* The default phantom (zhiying-phantom -F limb) as the page gets it:
 * the box, its type and place, the sentences, the method's notice. */
static void
test_result(void **state)
{
	struct limb_result	 r;
	struct ai_result	 ai;
	struct film		*f;
	const struct phantom_fracture *d = &phantom_limb_default.fx[0];

	(void)state;
	f = read_spec(&phantom_limb_default, &r);
	(void)one_at(&r, PHANTOM_LIMB_CENTRE(d->bone), d->w);
	ai_result_init(&ai);
	assert_int_equal(limb_to_ai(&r, f, &ai), 0);
	assert_int_equal(ai.nlesions, 1);
	assert_string_equal(ai.lesions[0].type, "斜形骨折");
	assert_string_equal(ai.lesions[0].location,
	    "右前臂（图像左起第1骨）远端1/3");
	assert_non_null(strstr(ai.lesions[0].findings,
	    "右前臂（图像左起第1骨）远端1/3见透亮骨折线"));
	assert_non_null(strstr(ai.lesions[0].conclusion, "斜形骨折"));
	assert_int_equal(ai.lesions[0].box.slice, 0);
	assert_non_null(strstr(ai.method, "侧别为右（DICOM标签）"));
	assert_non_null(strstr(ai.method, "结果仅供参考"));
	/* The limits name the bones' ends, where most misses lie. */
	assert_non_null(strstr(ai.method, "干骺端"));
	assert_string_equal(ai.findings, "");
	ai_result_free(&ai);
	limb_result_free(&r);
	film_free(f);
}

/* Refusals: a chest film by its tags; a film with no long bone. */
static void
test_refusals(void **state)
{
	struct film_tags t;
	struct film	*f;
	struct limb_result r;
	float		*v = malloc(sizeof(float) * 200 * 200);
	char		 err[256];
	int		 i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < 200 * 200; i++)
		v[i] = (float)(100 + (i % 200 > 100 ? 50 : 0) + (i % 7));
	memset(&t, 0, sizeof(t));
	t.modality = "DX";
	t.body_part = "CHEST";
	t.window_center = NAN;
	t.window_width = NAN;
	assert_int_equal(film_from_values(v, 200, 200, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(limb_film_check(f, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "四肢"));
	film_free(f);
	t.body_part = "HAND";
	assert_int_equal(film_from_values(v, 200, 200, &t, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(limb_film_check(f, err, sizeof(err)), 0);
	assert_int_equal(limb_detect(f, NULL, &r, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "未能在图像中识别长骨"));
	film_free(f);
	free(v);
}

/* The film written as DICOM with its Image Laterality, read back: the
 * side from the tags; without the tag, from the description. */
static void
test_dicom_side(void **state)
{
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	struct film		*f;
	char			 dir[] = "/tmp/test_limb.XXXXXX", path[256],
				 err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->nx = NX;
	v->ny = NY;
	v->nz = 1;
	v->vox = forearm(&phantom_limb_default);
	v->spacing[0] = v->spacing[1] = MM;
	v->spacing[2] = NAN;
	v->row[0] = 1;
	v->col[2] = -1;
	v->normal[1] = 1;
	v->kvp = 55;
	v->slice_thickness = NAN;
	v->window_center = 1400;
	v->window_width = 2800;
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	memset(&o, 0, sizeof(o));
	o.body_part = "FOREARM";
	o.view_position = "AP";
	o.laterality = "L";
	o.series_description = "Forearm AP";
	assert_int_equal(dcmwrite_series(v, &o, dir, err, sizeof(err)), 0);
	(void)snprintf(path, sizeof(path), "%s/IM000001.dcm", dir);
	assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f->side, 'L');
	assert_int_equal(f->side_from, FILM_FROM_TAGS);
	film_free(f);
	(void)unlink(path);
	o.laterality = NULL;
	o.series_description = "RIGHT FOREARM AP";
	assert_int_equal(dcmwrite_series(v, &o, dir, err, sizeof(err)), 0);
	assert_int_equal(film_load(path, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f->side, 'R');
	assert_int_equal(f->side_from, FILM_FROM_TEXT);
	film_free(f);
	(void)unlink(path);
	(void)rmdir(dir);
	series_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_transverse),
		cmocka_unit_test(test_oblique),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_angulation),
		cmocka_unit_test(test_comminuted),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_dicom_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
