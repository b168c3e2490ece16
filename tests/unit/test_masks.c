/*
 * test_masks.c - the readers' label volumes (masks.c): deflated and
 * inflated again to the byte, refused when damaged; and their drawing
 * over the CT (view.c): a labelled ball rendered in 三维 appears in its
 * colour where the camera projects its centre, from several sides, and
 * nothing is coloured away from it; a labelled rod of bone takes its
 * region's tint; an empty label volume renders the CT as view_render()
 * does; in MPR the ball's slice is tinted inside and outlined whole.
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
#include <jansson.h>

#include "buf.h"
#include "masks.h"
#include "series.h"
#include "view.h"

#define N	64
#define SP	1.0			/* mm, every axis */
#define BX	40			/* the ball's centre, voxels */
#define BY	30
#define BZ	22
#define BR	7.0			/* its radius, mm */
#define LBALL	10
#define LROD	1

static const unsigned char RED[3] = { 0xff, 0x20, 0x20 };
static const unsigned char BLUE[3] = { 0x20, 0x40, 0xff };

/* Air, a rod of bone along z at x = 16, y = 40 (radius 3), a ball
 * label at (BX, BY, BZ) and the rod labelled as a shell. */
static void
phantom(struct series_volume *v, uint8_t *lab, double nsign)
{
	float	*vox;
	size_t	 o;
	int	 x, y, z;
	double	 d;

	memset(v, 0, sizeof(*v));
	vox = malloc((size_t)N * N * N * sizeof(*vox));
	assert_non_null(vox);
	for (z = 0, o = 0; z < N; z++)
		for (y = 0; y < N; y++)
			for (x = 0; x < N; x++, o++) {
				d = hypot(x - 16, y - 40);
				vox[o] = d <= 3 && z > 4 && z < N - 5 ?
				    1000 : -1000;
				lab[o] = 0;
				if (vox[o] > 0)
					lab[o] = LROD;
				if (sqrt((x - BX) * (x - BX) + (y - BY) *
				    (y - BY) + (z - BZ) * (z - BZ)) * SP <= BR)
					lab[o] = LBALL;
			}
	v->vox = vox;
	v->nx = v->ny = v->nz = N;
	v->spacing[0] = v->spacing[1] = v->spacing[2] = SP;
	v->row[0] = 1;
	v->col[1] = 1;
	v->normal[2] = nsign;
}

static void
test_roundtrip(void **state)
{
	struct series_volume	 v;
	struct buf		 z;
	uint8_t			*lab, *back;
	size_t			 n = (size_t)N * N * N;
	char			 err[128];

	(void)state;
	lab = malloc(n);
	back = malloc(n);
	assert_non_null(lab);
	assert_non_null(back);
	phantom(&v, lab, 1);
	free(v.vox);
	/* Some scattered labels too, so that not everything is a run. */
	lab[12345] = 200;
	lab[n - 1] = 255;
	buf_init(&z, 0);
	assert_int_equal(masks_encode(lab, n, &z), 0);
	/* Runs of a byte: far below the raw size. */
	assert_true(z.len > 0);
	assert_true(z.len < n / 20);
	memset(back, 0xaa, n);
	assert_int_equal(masks_decode((unsigned char *)z.data, z.len, back, n,
	    err, sizeof(err)), 0);
	assert_memory_equal(lab, back, n);
	/* A size other than the data's, cut data, garbage: refused. */
	assert_int_equal(masks_decode((unsigned char *)z.data, z.len, back,
	    n - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(masks_decode((unsigned char *)z.data, z.len, back,
	    n + 1, err, sizeof(err)), -1);
	assert_int_equal(masks_decode((unsigned char *)z.data, z.len / 2, back,
	    n, err, sizeof(err)), -1);
	assert_int_equal(masks_decode((const unsigned char *)"not zlib", 8,
	    back, n, err, sizeof(err)), -1);
	buf_free(&z);
	/* Nothing at all: a valid stream of nothing. */
	buf_init(&z, 0);
	assert_int_equal(masks_encode(lab, 0, &z), 0);
	assert_int_equal(masks_decode((unsigned char *)z.data, z.len, back, 0,
	    err, sizeof(err)), 0);
	buf_free(&z);
	free(lab);
	free(back);
}

static void
test_legend(void **state)
{
	json_t		*a;
	char		 c[8], *t;
	unsigned char	 rgb[3], rgb2[3];
	int		 i;

	(void)state;
	a = json_array();
	assert_int_equal(masks_legend_add(a, 1, "右肺上叶", MASKS_LOBE, 0), 0);
	assert_int_equal(masks_legend_add(a, 10, "结节1", MASKS_NODULE, 0),
	    0);
	t = json_dumps(a, JSON_COMPACT);
	assert_string_equal(t, "[{\"label\":1,\"name\":\"右肺上叶\",\"kind\":"
	    "\"lobe\",\"colour\":\"#5a8dee\"},{\"label\":10,\"name\":\"结节1\","
	    "\"kind\":\"nodule\",\"colour\":\"#ff2020\"}]");
	free(t);
	json_decref(a);
	/* Every colour parses back; no lobe shares a nodule's colour. */
	for (i = 0; i < 8; i++) {
		masks_colour(MASKS_NODULE, i, c, rgb);
		assert_int_equal(masks_colour_parse(c, rgb2), 0);
		assert_memory_equal(rgb, rgb2, 3);
		masks_colour(MASKS_LOBE, i, c, rgb2);
		assert_memory_not_equal(rgb, rgb2, 3);
	}
	assert_int_equal(masks_colour_parse("#12345", rgb), -1);
	assert_int_equal(masks_colour_parse("#12345g", rgb), -1);
	assert_int_equal(masks_kind_parse("fracture"), MASKS_FRACTURE);
	assert_int_equal(masks_kind_parse("bone"), -1);
	assert_true(masks_kind_shell(MASKS_LOBE));
	assert_false(masks_kind_shell(MASKS_NODULE));
}

/* The labels of the phantom with the ball red and the rod a blue shell,
 * on the grid of vv. */
static void
labels_of(struct view_labels *lb, uint8_t *lab)
{
	memset(lb, 0, sizeof(*lb));
	lb->lab = lab;
	lb->nx = lb->ny = lb->nz = N;
	view_labels_set(lb, LBALL, RED, 0);
	view_labels_set(lb, LROD, BLUE, 1);
	assert_int_equal(view_labels_blocks(lb), 0);
}

static int
is_red(const unsigned char *p)
{
	return p[0] > 120 && p[1] < p[0] / 3 && p[2] < p[0] / 3;
}

/* Red at all, however dark the shading at a grazing edge. */
static int
is_reddish(const unsigned char *p)
{
	return p[0] > 30 && p[0] > 2 * p[1] && p[0] > 2 * p[2];
}

/* Where the camera projects index point (x, y, z) of a volume of N a
 * side at spacing SP (view.h: azimuth a, elevation e; zs the sign of
 * the head axis along the index z). */
static void
project(double az, double el, double zoom, int size, int flip, double x,
    double y, double z, double *pi, double *pj)
{
	double	 a = az * M_PI / 180, e = el * M_PI / 180, r[3], u[3], p[3];
	double	 ext = (N - 1) * SP, diag = sqrt(3) * ext, pix, zs;

	zs = flip ? 1 : -1;
	pix = diag / (size * zoom);
	r[0] = cos(a);
	r[1] = -sin(a);
	r[2] = 0;
	u[0] = sin(a) * sin(e);
	u[1] = cos(a) * sin(e);
	u[2] = cos(e);
	p[0] = x * SP - ext / 2;
	p[1] = y * SP - ext / 2;
	p[2] = zs * (z * SP - ext / 2);
	*pi = (p[0] * r[0] + p[1] * r[1] + p[2] * r[2]) / pix + size / 2.0;
	*pj = size / 2.0 - (p[0] * u[0] + p[1] * u[1] + p[2] * u[2]) / pix;
}

static void
check_views(int flip, enum view_render_mode mode)
{
	static const double	 angles[][2] = { { 0, 0 }, { 90, 0 },
	    { 180, 0 }, { 270, 0 }, { 35, 30 }, { -60, -45 }, { 10, 90 } };
	struct series_volume	 v;
	struct view_volume	*vv;
	struct view_labels	 lb;
	struct view_camera	 cam;
	unsigned char		*rgb;
	uint8_t			*lab;
	char			 err[128];
	double			 ci, cj, ri, rj, d, rpix;
	size_t			 a;
	int			 i, j, red, far_coloured;

	lab = malloc((size_t)N * N * N);
	assert_non_null(lab);
	phantom(&v, lab, flip ? 1 : -1);
	assert_int_equal(view_volume_from(&v, &vv, err, sizeof(err)), 0);
	free(v.vox);
	assert_int_equal(vv->flip, flip);
	labels_of(&lb, lab);
	memset(&cam, 0, sizeof(cam));
	cam.mode = mode;
	cam.zoom = 1.5;
	cam.size = 128;
	rgb = malloc((size_t)cam.size * cam.size * 3);
	assert_non_null(rgb);
	for (a = 0; a < sizeof(angles) / sizeof(angles[0]); a++) {
		cam.azimuth = angles[a][0];
		cam.elevation = angles[a][1];
		assert_int_equal(view_render_labels(vv, &lb, &cam, 0, 2000,
		    rgb, NULL, err, sizeof(err)), 0);
		project(cam.azimuth, cam.elevation, cam.zoom, cam.size, flip,
		    BX, BY, BZ, &ci, &cj);
		rpix = BR / (sqrt(3) * (N - 1) * SP / (cam.size * cam.zoom));
		/* The ball: red about its projected centre, and red nowhere
		 * more than two pixels beyond its silhouette. */
		red = far_coloured = 0;
		for (j = 0; j < cam.size; j++)
			for (i = 0; i < cam.size; i++) {
				const unsigned char *p = rgb +
				    ((size_t)j * cam.size + i) * 3;

				d = hypot(i + 0.5 - ci, j + 0.5 - cj);
				if (d < rpix * 0.6 && !is_red(p)) {
					print_message("az %g el %g: (%d, %d)"
					    " %d %d %d not red\n", cam.azimuth,
					    cam.elevation, i, j, p[0], p[1],
					    p[2]);
					fail();
				}
				if (d > rpix + 2 && is_reddish(p))
					far_coloured++;
				red += is_reddish(p);
			}
		assert_int_equal(far_coloured, 0);
		if (fabs(red - M_PI * rpix * rpix) >= 0.2 * M_PI * rpix *
		    rpix)
			print_message("az %g el %g: %d red, %.0f expected\n",
			    cam.azimuth, cam.elevation, red,
			    M_PI * rpix * rpix);
		/* Its area: the disc of its radius, within a fifth. */
		assert_true(fabs(red - M_PI * rpix * rpix) <
		    0.2 * M_PI * rpix * rpix);
		/* The rod's middle, in bone: its shell's blue over white,
		 * unless the ball hides it. */
		project(cam.azimuth, cam.elevation, cam.zoom, cam.size, flip,
		    16, 40, N / 2.0, &ri, &rj);
		if (mode == VIEW_RENDER_BONE && fabs(cam.elevation) < 60 &&
		    hypot(ri - ci, rj - cj) > rpix + 6) {
			const unsigned char *p = rgb + ((size_t)rj *
			    cam.size + (size_t)ri) * 3;

			assert_true(p[2] > p[0] + 40);
			assert_true(p[2] > 80);
		}
	}
	free(rgb);
	view_labels_clear(&lb);
	view_volume_free(vv);
}

/*
 * The centres the viewer names regions at: a box of label 3 over x 2..4,
 * y 1, z 0..2 and a lone voxel of label 7 have theirs exactly; label 5,
 * in the legend but with no voxel, gets none.
 */
static void
test_centres(void **state)
{
	uint8_t	 lab[6 * 3 * 4];
	json_t	*lg, *at;
	int	 x, z;

	(void)state;
	memset(lab, 0, sizeof(lab));
	for (z = 0; z <= 2; z++)
		for (x = 2; x <= 4; x++)
			lab[(size_t)z * 18 + 1 * 6 + x] = 3;
	lab[3 * 18 + 2 * 6 + 5] = 7;
	lg = json_array();
	assert_non_null(lg);
	assert_int_equal(masks_legend_add(lg, 3, "结节1", MASKS_NODULE, 0), 0);
	assert_int_equal(masks_legend_add(lg, 5, "结节2", MASKS_NODULE, 1), 0);
	assert_int_equal(masks_legend_add(lg, 7, "L1椎体", MASKS_VERTEBRA, 0),
	    0);
	assert_int_equal(masks_legend_centres(lg, lab, 6, 3, 4), 0);
	at = json_object_get(json_array_get(lg, 0), "at");
	assert_true(json_is_array(at) && json_array_size(at) == 3);
	assert_true(fabs(json_number_value(json_array_get(at, 0)) - 3) < 1e-9);
	assert_true(fabs(json_number_value(json_array_get(at, 1)) - 1) < 1e-9);
	assert_true(fabs(json_number_value(json_array_get(at, 2)) - 1) < 1e-9);
	assert_null(json_object_get(json_array_get(lg, 1), "at"));
	at = json_object_get(json_array_get(lg, 2), "at");
	assert_true(fabs(json_number_value(json_array_get(at, 0)) - 5) < 1e-9);
	assert_true(fabs(json_number_value(json_array_get(at, 1)) - 2) < 1e-9);
	assert_true(fabs(json_number_value(json_array_get(at, 2)) - 3) < 1e-9);
	json_decref(lg);
}

static void
test_render_bone(void **state)
{
	(void)state;
	check_views(0, VIEW_RENDER_BONE);
	check_views(1, VIEW_RENDER_BONE);
}

static void
test_render_mip(void **state)
{
	(void)state;
	check_views(0, VIEW_RENDER_MIP);
}

/* With no label anywhere the colour rendering is the grey one. */
static void
test_render_empty(void **state)
{
	struct series_volume	 v;
	struct view_volume	*vv;
	struct view_labels	 lb;
	struct view_camera	 cam;
	unsigned char		*rgb;
	uint8_t			*lab;
	float			*g;
	char			 err[128];
	size_t			 i, n, coloured = 0;
	int			 c, bright = 0;

	(void)state;
	lab = malloc((size_t)N * N * N);
	assert_non_null(lab);
	phantom(&v, lab, 1);
	memset(lab, 0, (size_t)N * N * N);
	assert_int_equal(view_volume_from(&v, &vv, err, sizeof(err)), 0);
	free(v.vox);
	labels_of(&lb, lab);
	memset(&cam, 0, sizeof(cam));
	cam.mode = VIEW_RENDER_BONE;
	cam.zoom = 1;
	cam.size = 96;
	cam.azimuth = 30;
	cam.elevation = 20;
	n = (size_t)cam.size * cam.size;
	rgb = malloc(n * 3);
	g = malloc(n * sizeof(*g));
	assert_int_equal(view_render(vv, &cam, g, NULL, err, sizeof(err)), 0);
	assert_int_equal(view_render_labels(vv, &lb, &cam, 0, 1, rgb, NULL,
	    err, sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		for (c = 0; c < 3; c++)
			assert_true(fabs(rgb[i * 3 + c] - g[i]) <= 1.0);
		coloured += rgb[i * 3] != rgb[i * 3 + 2];
		bright += g[i] > 100;
	}
	assert_int_equal(coloured, 0);
	assert_true(bright > 50);	/* the rod is there */
	/* Labels on another grid: refused. */
	lb.nz = N - 1;
	assert_int_equal(view_render_labels(vv, &lb, &cam, 0, 1, rgb, NULL,
	    err, sizeof(err)), -1);
	lb.nz = N;
	free(rgb);
	free(g);
	view_labels_clear(&lb);
	view_volume_free(vv);
}

static void
test_planes(void **state)
{
	struct series_volume	 v;
	struct view_labels	 lb;
	unsigned char		 gray[N * N], rgb[N * N * 3];
	uint8_t			*lab, pl[N * N];
	char			 err[128];
	int			 x, y, r, inside = 0, edge = 0;
	struct buf		 jb;

	(void)state;
	lab = malloc((size_t)N * N * N);
	assert_non_null(lab);
	phantom(&v, lab, 1);
	free(v.vox);
	labels_of(&lb, lab);
	memset(gray, 100, sizeof(gray));
	/* Axial through the ball's centre. */
	assert_int_equal(view_plane_labels(&lb, 1, VIEW_AXIAL, BZ, pl, err,
	    sizeof(err)), 0);
	view_tint(gray, pl, N, N, &lb, rgb);
	assert_int_equal(pl[BY * N + BX], LBALL);
	/* Inside: grey mixed with red; on the outline: red whole; outside
	 * any label: the grey unchanged. */
	for (y = 0; y < N; y++)
		for (x = 0; x < N; x++) {
			const unsigned char *p = rgb + (y * N + x) * 3;
			double	 d = hypot(x - BX, y - BY);

			if (d < BR - 1.5) {
				assert_int_equal(pl[y * N + x], LBALL);
				assert_true(p[0] > 150 && p[1] < 100 &&
				    p[1] > 40);
				inside++;
			} else if (pl[y * N + x] == LBALL &&
			    (pl[y * N + x + 1] == 0 ||
			    pl[y * N + x - 1] == 0)) {
				assert_int_equal(p[0], 0xff);
				assert_int_equal(p[1], 0x20);
				edge++;
			} else if (pl[y * N + x] == 0) {
				assert_int_equal(p[0], 100);
				assert_int_equal(p[1], 100);
				assert_int_equal(p[2], 100);
			}
		}
	assert_true(inside > 80);
	assert_true(edge > 10);
	/* Coronal through the ball, head up (flip): row r is z N - 1 - r. */
	assert_int_equal(view_plane_labels(&lb, 1, VIEW_CORONAL, BY, pl, err,
	    sizeof(err)), 0);
	r = N - 1 - BZ;
	assert_int_equal(pl[r * N + BX], LBALL);
	assert_int_equal(pl[(N - 1 - 2) * N + BX], 0);
	/* Sagittal through the rod: columns y, its label at y = 40. */
	assert_int_equal(view_plane_labels(&lb, 0, VIEW_SAGITTAL, 16, pl, err,
	    sizeof(err)), 0);
	assert_int_equal(pl[(N / 2) * N + 40], LROD);
	assert_int_equal(pl[(N / 2) * N + 20], 0);
	assert_int_equal(view_plane_labels(&lb, 0, VIEW_SAGITTAL, N, pl, err,
	    sizeof(err)), -1);
	/* The tinted slice as a colour JPEG. */
	buf_init(&jb, 0);
	assert_int_equal(view_jpeg_rgb(rgb, N, N, 90, &jb), 0);
	assert_true(jb.len > 100);
	assert_int_equal((unsigned char)jb.data[0], 0xff);
	assert_int_equal((unsigned char)jb.data[1], 0xd8);
	buf_free(&jb);
	view_labels_clear(&lb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_legend),
		cmocka_unit_test(test_centres),
		cmocka_unit_test(test_render_bone),
		cmocka_unit_test(test_render_mip),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_planes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
