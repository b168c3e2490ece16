/*
 * test_cpr.c - 肋骨拉直 / 肋骨展开 (src/lib/cpr.c) on the rib cage
 * phantom (src/lib/ribcage.c: 24 ribs of known course, nine fractures of
 * known place) and on curves whose frames are known analytically.
 *
 * The ribs' centre lines are given as the rib fracture reader stores
 * them (ai_results.overlays: JSON, voxel coordinates to 0.1, a point a
 * millimetre), made from the phantom's own shaft curve (tubercle to
 * front end).  Checked:
 *  - the straightened length of every rib against the shaft's arc length
 *    integrated finely: within 2 %;
 *  - the cut and displaced fractures: a gap across the rib (no cortex)
 *    within 1.5 mm of the arc position of the fracture, where
 *    cpr_lesion_rib() projects the fracture's point; the cortex
 *    continuous everywhere else along the ribs;
 *  - the frame: square to the tangent, turning smoothly, not flipping
 *    at an inflection (an S curve in a plane keeps its normal exactly),
 *    and the intact rib a continuous band centred on the line at 0 and
 *    90 degrees;
 *  - the unfolded cage: 24 ribs in 12 rows a side, 右1..右12 and
 *    左1..左12 from the top, right ribs to the image's left; each row's
 *    pixels those of the rib's own CPR; markers where the fractures are.
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

#include <cmocka.h>

#include "buf.h"
#include "cpr.h"
#include "ribcage.h"
#include "series.h"
#include "view.h"

#define STEP		0.5	/* mm a pixel */
#define HALF		8.0	/* mm each side */
#define BONE_HU		330.0	/* cortex 700, marrow 250 */
#define GAP_HU		280.0	/* soft tissue 40, lung -850 */

static struct ribcage_spec	 sp;
static struct view_volume	*vv;
static double			 x0v, y0v, dxv, dzv;
static struct cpr_ribs		 ribs;

/* Voxel coordinates of a point of the phantom (mm). */
static void
to_vox(const double p[3], double q[3])
{
	q[0] = (p[0] - x0v) / dxv;
	q[1] = (p[1] - y0v) / dxv;
	q[2] = p[2] / dzv - 0.5;
}

/* The arc length of the shaft of a rib from t = 0 to t, finely. */
static double
shaft_arc(int side, int number, double t)
{
	double	 a[3], b[3], s = 0;
	int	 i, n = 20000;

	(void)ribcage_rib_point(&sp, side, number, 0, a);
	for (i = 1; i <= n; i++) {
		(void)ribcage_rib_point(&sp, side, number, t * i / n, b);
		s += sqrt((b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) *
		    (b[1] - a[1]) + (b[2] - a[2]) * (b[2] - a[2]));
		memcpy(a, b, sizeof(a));
	}
	return s;
}

/* The overlays JSON of the 24 ribs as the reader writes it: a point
 * about every millimetre of the shaft, voxels rounded to 0.1. */
static char *
overlays_json(void)
{
	struct buf	 b;
	double		 p[3], q[3], len;
	int		 side, n, i, np;
	char		*s;

	buf_init(&b, 0);
	assert_int_equal(buf_appends(&b, "{\"ribs\":["), 0);
	for (side = 1; side <= 2; side++)
		for (n = 1; n <= 12; n++) {
			len = shaft_arc(side, n, 1.0);
			np = (int)ceil(len) + 1;
			assert_int_equal(buf_printf(&b, "%s{\"side\":\"%s\","
			    "\"number\":%d,\"label\":\"%s%d\",\"line\":[",
			    side == 1 && n == 1 ? "" : ",", side == 1 ? "R" :
			    "L", n, side == 1 ? "R" : "L", n), 0);
			for (i = 0; i < np; i++) {
				(void)ribcage_rib_point(&sp, side, n,
				    (double)i / (np - 1), p);
				to_vox(p, q);
				assert_int_equal(buf_printf(&b, "%s[%.1f,%.1f,"
				    "%.1f]", i ? "," : "", q[0], q[1], q[2]),
				    0);
			}
			assert_int_equal(buf_appends(&b, "]}"), 0);
		}
	assert_int_equal(buf_appends(&b, "],\"uncertain\":false}"), 0);
	assert_non_null(s = buf_take(&b));
	return s;
}

static int
setup(void **state)
{
	struct series_volume	*v;
	char			 err[256];
	char			*js;

	(void)state;
	ribcage_standard(&sp, 1.0, 0.0, 1);
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	x0v = v->origin[0];
	y0v = v->origin[1];
	dxv = v->spacing[0];
	dzv = v->spacing[2];
	if (view_volume_from(v, &vv, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		series_free(v);
		return -1;
	}
	series_free(v);
	js = overlays_json();
	if (cpr_ribs_parse(js, vv->spacing, 1, STEP, &ribs, err,
	    sizeof(err)) != 24) {
		fprintf(stderr, "%s\n", err);
		free(js);
		return -1;
	}
	free(js);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cpr_ribs_free(&ribs);
	view_volume_free(vv);
	return 0;
}

static const struct cpr_rib *
rib(int side, int number)
{
	size_t	 i;

	for (i = 0; i < ribs.n; i++)
		if (ribs.r[i].side == side && ribs.r[i].number == number)
			return &ribs.r[i];
	fail_msg("rib %d %d not parsed", side, number);
	return NULL;
}

/* The CPR of r at angle: malloc'ed, w by h. */
static float *
image(const struct cpr_rib *r, double angle, double half, int *w, int *h)
{
	float	*img;

	cpr_image_size(&r->path, half, w, h);
	assert_non_null(img = malloc((size_t)*w * *h * sizeof(*img)));
	cpr_image(vv, &r->path, angle, half, img);
	return img;
}

/* The largest value of column c over the rows within rmm of the line. */
static double
colmax(const float *img, int w, int h, int c, double rmm)
{
	double	 m = -INFINITY;
	int	 r, hc = (h - 1) / 2;

	for (r = 0; r < h; r++)
		if (fabs((hc - r) * STEP) <= rmm && img[(size_t)r * w + c] > m)
			m = img[(size_t)r * w + c];
	return m;
}

static void
test_length(void **state)
{
	double	 truth, got, worst = 0;
	int	 side, n;

	(void)state;
	for (side = 1; side <= 2; side++)
		for (n = 1; n <= 12; n++) {
			const struct cpr_rib	*r = rib(side, n);

			truth = shaft_arc(side, n, 1.0);
			/* The image's width is the length to a step. */
			got = (r->path.n - 1) * STEP;
			assert_true(fabs(got - truth) <= 0.02 * truth);
			assert_true(fabs(r->path.length - truth) <= 0.02 *
			    truth);
			if (fabs(got - truth) / truth > worst)
				worst = fabs(got - truth) / truth;
		}
	printf("# straightened lengths within %.2f %% of the shafts' arcs\n",
	    100 * worst);
}

/* Whether arc s of rib (side, n) is within mm of a fracture of a kind
 * that breaks or changes the cortex. */
static int
near_fracture(int side, int n, double s, double mm)
{
	size_t	 i;

	for (i = 0; i < sp.nf; i++)
		if (sp.f[i].side == side && sp.f[i].number == n &&
		    fabs(shaft_arc(side, n, sp.f[i].t) - s) <= mm)
			return 1;
	return 0;
}

static void
test_gaps(void **state)
{
	double	 q[3], s, d, sf, m, best, lowest = INFINITY;
	float	*img;
	size_t	 i;
	int	 w, h, c, cb, k, ngap = 0, side, n, ncol = 0, bad = 0;

	(void)state;
	for (i = 0; i < sp.nf; i++) {
		const struct ribcage_fracture	*f = &sp.f[i];
		const struct cpr_rib		*r;
		char				 place[64];

		if (f->kind != RIBCAGE_CUT && f->kind != RIBCAGE_DISPLACED)
			continue;
		r = rib(f->side, f->number);
		sf = shaft_arc(f->side, f->number, f->t);
		/* The fracture's point, projected onto its rib. */
		(void)snprintf(place, sizeof(place), "%s第%d肋", f->side == 1 ?
		    "右" : "左", f->number);
		to_vox(f->p, q);
		k = cpr_lesion_rib(&ribs, place, q, &s, &d);
		assert_ptr_equal(&ribs.r[k], r);
		assert_true(fabs(s - sf) <= 1.0);
		assert_true(d <= 1.0);
		/* Without the place: the nearest line, the same rib. */
		assert_int_equal(cpr_lesion_rib(&ribs, "", q, &s, &d), k);
		img = image(r, 0, HALF, &w, &h);
		/* The lowest column within 10 mm: the gap. */
		best = INFINITY;
		cb = -1;
		for (c = 0; c < w; c++)
			if (fabs(c * STEP - sf) <= 10 &&
			    (m = colmax(img, w, h, c, RIBCAGE_RIB_R + 4.5)) <
			    best) {
				best = m;
				cb = c;
			}
		printf("# %s%d %s at %.1f mm: gap at %.1f mm, %.0f HU\n",
		    f->side == 1 ? "R" : "L", f->number,
		    ribcage_kind_names[f->kind], sf, cb * STEP, best);
		assert_true(best < GAP_HU);
		assert_true(fabs(cb * STEP - sf) <= 1.5);
		ngap++;
		free(img);
	}
	assert_int_equal(ngap, 6);
	/* The cortex continuous elsewhere, on every rib. */
	for (side = 1; side <= 2; side++)
		for (n = 1; n <= 12; n++) {
			img = image(rib(side, n), 0, HALF, &w, &h);
			for (c = 0; c < w; c++) {
				if (c * STEP < 2 || c * STEP > (w - 1) * STEP -
				    3 || near_fracture(side, n, c * STEP, 3))
					continue;
				m = colmax(img, w, h, c, RIBCAGE_RIB_R + 4.5);
				if (m < lowest)
					lowest = m;
				if (!(m > BONE_HU) && ++bad)
					print_error("%s%d: %.0f HU at %.1f mm\n",
					    side == 1 ? "R" : "L", n, m,
					    c * STEP);
				ncol++;
			}
			free(img);
		}
	printf("# cortex in %d columns of the 24 ribs outside the "
	    "fractures, the least %.0f HU\n", ncol, lowest);
	assert_int_equal(bad, 0);
}

/* An S curve in the plane z = 5: its frame's normal, started at +z,
 * stays +z through the inflection (a Frenet normal turns over there). */
static void
test_frame_inflection(void **state)
{
	double		 pts[400][3], up[3] = { 0, 0, 1 }, sp3[3] = { 1, 1, 1 };
	struct cpr_path	 c;
	char		 err[128];
	int		 i;

	(void)state;
	for (i = 0; i < 400; i++) {
		pts[i][0] = i * 0.25;
		pts[i][1] = 20 * sin(i * 0.25 / 15.0);
		pts[i][2] = 5;
	}
	assert_int_equal(cpr_path_make((const double (*)[3])pts, 400, sp3,
	    up, 0.5, &c, err, sizeof(err)), 0);
	for (i = 0; i < c.n; i++) {
		assert_true(c.u[i][2] > 0.999999);
		assert_true(fabs(c.u[i][0] * c.t[i][0] + c.u[i][1] *
		    c.t[i][1] + c.u[i][2] * c.t[i][2]) < 1e-9);
	}
	cpr_path_free(&c);
	/* A helix about z (radius 30, pitch 2 pi 10): the normal turns
	 * smoothly, square to the tangent, never more than 2 degrees a
	 * step of 0.5 mm. */
	for (i = 0; i < 400; i++) {
		pts[i][0] = 30 * cos(i / 30.0);
		pts[i][1] = 30 * sin(i / 30.0);
		pts[i][2] = 10 * i / 30.0;
	}
	assert_int_equal(cpr_path_make((const double (*)[3])pts, 400, sp3,
	    up, 0.5, &c, err, sizeof(err)), 0);
	for (i = 0; i + 1 < c.n; i++)
		assert_true(c.u[i][0] * c.u[i + 1][0] + c.u[i][1] *
		    c.u[i + 1][1] + c.u[i][2] * c.u[i + 1][2] >
		    cos(2 * M_PI / 180));
	cpr_path_free(&c);
	/* Too short, or one point: refused. */
	assert_int_equal(cpr_path_make((const double (*)[3])pts, 1, sp3, up,
	    0.5, &c, err, sizeof(err)), -1);
}

/* Every rib's frame turns smoothly and keeps the head up; an intact rib
 * is one band of bone 7 mm wide about the line, at 0 and 90 degrees. */
static void
test_band(void **state)
{
	static const double	 angles[] = { 0, 90, 45 };
	const struct cpr_rib	*r;
	float			*img;
	size_t			 i;
	double			 lo, hi, mid, width;
	int			 w, h, c, row, a, k, inrun, runs, hc;

	(void)state;
	for (i = 0; i < ribs.n; i++) {
		r = &ribs.r[i];
		for (k = 0; k + 1 < r->path.n; k++) {
			assert_true(r->path.u[k][0] * r->path.u[k + 1][0] +
			    r->path.u[k][1] * r->path.u[k + 1][1] +
			    r->path.u[k][2] * r->path.u[k + 1][2] >
			    cos(3 * M_PI / 180));
			assert_true(r->path.u[k][2] > 0.5);
		}
	}
	/* The second right and the first left ribs have no fracture. */
	for (k = 0; k < 2; k++) {
		r = k == 0 ? rib(1, 2) : rib(2, 1);
		for (a = 0; a < 3; a++) {
			img = image(r, angles[a], HALF, &w, &h);
			hc = (h - 1) / 2;
			for (c = (int)(10 / STEP); c < w - (int)(4 / STEP);
			    c++) {
				lo = INFINITY;
				hi = -INFINITY;
				runs = inrun = 0;
				for (row = 0; row < h; row++) {
					if (img[(size_t)row * w + c] > 150) {
						if (!inrun)
							runs++;
						inrun = 1;
						lo = fmin(lo, (hc - row) * STEP);
						hi = fmax(hi, (hc - row) * STEP);
					} else
						inrun = 0;
				}
				mid = (lo + hi) / 2;
				width = hi - lo + STEP;
				if (runs != 1 || fabs(mid) > 1.0 ||
				    fabs(width - 2 * RIBCAGE_RIB_R) > 1.5)
					fail_msg("%s at %.0f deg, %.1f mm: %d "
					    "run(s), centre %.1f, width %.1f",
					    r->zh, angles[a], c * STEP, runs,
					    mid, width);
			}
			free(img);
		}
	}
}

static void
test_unfold(void **state)
{
	struct cpr_unfold	 g;
	const struct cpr_rib	*r;
	float			*u, *img;
	double			 x, y, x1, y1;
	char			 want[16];
	size_t			 i;
	int			 w, h, c, row, rows[2] = { 0, 0 };

	(void)state;
	assert_int_equal(ribs.n, 24);
	assert_int_equal(ribs.rows, 12);
	assert_false(ribs.uncertain);
	for (i = 0; i < ribs.n; i++) {
		r = &ribs.r[i];
		assert_int_equal(r->row, r->number - 1);
		(void)snprintf(want, sizeof(want), "%s%d", r->side == 1 ?
		    "右" : "左", r->number);
		assert_string_equal(r->zh, want);
		rows[r->side - 1]++;
		/* Right first, by number. */
		assert_int_equal(r->side, i < 12 ? 1 : 2);
		assert_int_equal(r->number, (int)(i % 12) + 1);
	}
	assert_int_equal(rows[0], 12);
	assert_int_equal(rows[1], 12);
	cpr_unfold_geom(&ribs, HALF, &g);
	assert_int_equal(g.h, 12 * g.row_h);
	assert_int_equal(g.w, 2 * g.side_w + g.gap);
	assert_non_null(u = malloc((size_t)g.w * g.h * sizeof(*u)));
	cpr_unfold_image(vv, &ribs, &g, 30, u);
	for (i = 0; i < ribs.n; i++) {
		r = &ribs.r[i];
		/* The head at the middle, the rib outwards: right ribs to the
		 * image's left. */
		cpr_unfold_point(&ribs, &g, i, 0, &x, &y);
		cpr_unfold_point(&ribs, &g, i, 50, &x1, &y1);
		assert_true(y == y1);
		assert_true(fabs(y - (r->row + 0.5) * g.row_h) <= 0.5);
		if (r->side == 1) {
			assert_true(x < g.side_w && x1 < x);
		} else {
			assert_true(x > g.side_w + g.gap && x1 > x);
		}
		/* The row holds the rib's own CPR at that angle. */
		img = image(r, 30, HALF, &w, &h);
		assert_int_equal(h, g.row_h);
		for (c = 0; c < w; c++) {
			cpr_unfold_point(&ribs, &g, i, c * STEP, &x, &y);
			for (row = 0; row < h; row++) {
				float	 a = img[(size_t)row * w + c];
				float	 b = u[(size_t)(r->row * g.row_h +
				    row) * g.w + (size_t)floor(x)];

				assert_true((isnan(a) && isnan(b)) || a == b);
			}
		}
		free(img);
	}
	/* Between the sides, and beyond the short ribs: nothing. */
	assert_true(isnan(u[(size_t)(g.row_h / 2) * g.w + g.side_w +
	    g.gap / 2]));
	free(u);
}

/* Overlays without centre lines (an older result) or broken. */
static void
test_parse(void **state)
{
	struct cpr_ribs	 rs;
	double		 s1[3] = { 0.7, 0.7, 2.5 };
	char		 err[128];

	(void)state;
	assert_int_equal(cpr_ribs_parse("{}", s1, 1, 0.5, &rs, err,
	    sizeof(err)), 0);
	assert_int_equal(cpr_ribs_parse(NULL, s1, 1, 0.5, &rs, err,
	    sizeof(err)), 0);
	assert_int_equal(cpr_ribs_parse("{\"ribs\":[]}", s1, 1, 0.5, &rs,
	    err, sizeof(err)), 0);
	assert_int_equal(cpr_ribs_parse("{\"ribs\":", s1, 1, 0.5, &rs, err,
	    sizeof(err)), -1);
	assert_int_equal(cpr_ribs_parse("{\"ribs\":[{\"side\":\"X\","
	    "\"line\":[[1,2,3],[4,5,6]]}]}", s1, 1, 0.5, &rs, err,
	    sizeof(err)), -1);
	/* Unnumbered ribs after the numbered ones, as stored. */
	assert_int_equal(cpr_ribs_parse("{\"uncertain\":true,\"ribs\":["
	    "{\"side\":\"L\",\"number\":0,\"label\":\"L?\","
	    "\"line\":[[10,10,3],[40,10,3]]},"
	    "{\"side\":\"L\",\"number\":3,\"label\":\"L3\","
	    "\"line\":[[10,10,9],[40,10,9]]},"
	    "{\"side\":\"R\",\"number\":3,\"label\":\"R3\","
	    "\"line\":[[10,10,9],[40,10,9]]}]}", s1, 1, 0.5, &rs, err,
	    sizeof(err)), 3);
	assert_true(rs.uncertain);
	assert_string_equal(rs.r[0].zh, "右3");
	assert_string_equal(rs.r[1].zh, "左3");
	assert_string_equal(rs.r[2].zh, "左?");
	assert_int_equal(rs.r[1].row, 2);
	assert_int_equal(rs.r[2].row, 12);
	assert_int_equal(rs.rows, 13);
	/* 30 voxels of 0.7 mm. */
	assert_true(fabs(rs.r[0].path.length - 21.0) < 1e-9);
	cpr_ribs_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_frame_inflection),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_band),
		cmocka_unit_test(test_unfold),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
