/*
 * test_view.c - the viewer's planes, windows, regions and JPEG.
 *
 * The volume is built in memory with a value that names its voxel
 * (100 z + 10 y + x), so that every plane can be checked pixel by pixel;
 * the regions are checked against counts and means known from symmetry;
 * the JPEG is decoded again with libjpeg.
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
#include <jpeglib.h>

#include "buf.h"
#include "series.h"
#include "view.h"

#define NX	4
#define NY	3
#define NZ	5

static float	 vox[NX * NY * NZ];

/* A series volume of NX by NY by NZ, normal along +z or -z. */
static void
make_volume(struct series_volume *v, double nz_sign)
{
	int	 x, y, z;

	memset(v, 0, sizeof(*v));
	for (z = 0; z < NZ; z++)
		for (y = 0; y < NY; y++)
			for (x = 0; x < NX; x++)
				vox[(z * NY + y) * NX + x] =
				    (float)(100 * z + 10 * y + x);
	v->vox = vox;
	v->nx = NX;
	v->ny = NY;
	v->nz = NZ;
	v->spacing[0] = 0.7;
	v->spacing[1] = 0.8;
	v->spacing[2] = 2.5;
	v->row[0] = 1;
	v->col[1] = 1;
	v->normal[2] = nz_sign;
}

static void
test_planes_head_up(void **state)
{
	struct series_volume	 v;
	struct view_volume	*vv;
	float			 img[NX * NZ];
	double			 sx, sy;
	int			 w, h, n, r, c;

	(void)state;
	make_volume(&v, 1);
	assert_int_equal(view_volume_from(&v, &vv, NULL, 0), 0);
	assert_int_equal(vv->flip, 1);

	assert_int_equal(view_plane_size(vv, VIEW_AXIAL, &w, &h, &n), 0);
	assert_int_equal(w, NX);
	assert_int_equal(h, NY);
	assert_int_equal(n, NZ);
	assert_int_equal(view_plane_get(vv, VIEW_AXIAL, 2, img, NULL, 0), 0);
	for (r = 0; r < h; r++)
		for (c = 0; c < w; c++)
			assert_true(img[r * w + c] == 200 + 10 * r + c);

	/* Coronal: columns x, rows z from the last slice (the head) down. */
	assert_int_equal(view_plane_size(vv, VIEW_CORONAL, &w, &h, &n), 0);
	assert_int_equal(w, NX);
	assert_int_equal(h, NZ);
	assert_int_equal(n, NY);
	assert_int_equal(view_plane_get(vv, VIEW_CORONAL, 1, img, NULL, 0),
	    0);
	for (r = 0; r < h; r++)
		for (c = 0; c < w; c++)
			assert_true(img[r * w + c] ==
			    100 * (NZ - 1 - r) + 10 + c);
	view_plane_spacing(vv, VIEW_CORONAL, &sx, &sy);
	assert_true(sx == 0.7 && sy == 2.5);

	/* Sagittal: columns y, rows z. */
	assert_int_equal(view_plane_size(vv, VIEW_SAGITTAL, &w, &h, &n), 0);
	assert_int_equal(w, NY);
	assert_int_equal(h, NZ);
	assert_int_equal(n, NX);
	assert_int_equal(view_plane_get(vv, VIEW_SAGITTAL, 3, img, NULL, 0),
	    0);
	for (r = 0; r < h; r++)
		for (c = 0; c < w; c++)
			assert_true(img[r * w + c] ==
			    100 * (NZ - 1 - r) + 10 * c + 3);
	view_plane_spacing(vv, VIEW_SAGITTAL, &sx, &sy);
	assert_true(sx == 0.8 && sy == 2.5);
	view_plane_spacing(vv, VIEW_AXIAL, &sx, &sy);
	assert_true(sx == 0.7 && sy == 0.8);

	/* Out of range. */
	assert_int_equal(view_plane_get(vv, VIEW_SAGITTAL, NX, img, NULL, 0),
	    -1);
	assert_int_equal(view_plane_get(vv, VIEW_AXIAL, -1, img, NULL, 0),
	    -1);
	view_volume_free(vv);
}

static void
test_planes_feet_up(void **state)
{
	struct series_volume	 v;
	struct view_volume	*vv;
	float			 img[NX * NZ];
	int			 r, c;

	(void)state;
	make_volume(&v, -1);
	assert_int_equal(view_volume_from(&v, &vv, NULL, 0), 0);
	assert_int_equal(vv->flip, 0);
	assert_int_equal(view_plane_get(vv, VIEW_CORONAL, 0, img, NULL, 0),
	    0);
	for (r = 0; r < NZ; r++)
		for (c = 0; c < NX; c++)
			assert_true(img[r * NX + c] == 100 * r + c);
	view_volume_free(vv);
}

static void
test_volume_clamps(void **state)
{
	struct series_volume	 v;
	struct view_volume	*vv;
	float			 img[NX * NY];
	unsigned char		 g[3];

	(void)state;
	make_volume(&v, 1);
	vox[0] = 40000;
	vox[1] = -40000;
	vox[2] = NAN;
	vox[3] = -1000.6f;
	assert_int_equal(view_volume_from(&v, &vv, NULL, 0), 0);
	assert_int_equal(view_plane_get(vv, VIEW_AXIAL, 0, img, NULL, 0), 0);
	assert_true(img[0] == 32767);
	assert_true(isnan(img[1]));	/* the floor stands for missing */
	assert_true(isnan(img[2]));
	assert_true(img[3] == -1001);
	/* A missing value is black, inverted or not. */
	view_window8(img + 1, 1, 0, 100, 1, g);
	assert_int_equal(g[0], 0);
	view_volume_free(vv);
}

/* The linear VOI function: PS3.3 C.11.2.1.2.1 worked on a CT window. */
static void
test_window(void **state)
{
	float		 in[] = { -1000, -160, -159.5f, 40, 239.5f, 240, 3000 };
	unsigned char	 out[7], inv[7];

	(void)state;
	view_window8(in, 7, 40, 400, 0, out);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_true(out[2] <= 1);
	/* The centre maps to the middle grey. */
	assert_true(out[3] == 127 || out[3] == 128);
	assert_true(out[4] >= 254);
	assert_int_equal(out[5], 255);
	assert_int_equal(out[6], 255);
	view_window8(in, 7, 40, 400, 1, inv);
	for (int i = 0; i < 7; i++)
		assert_int_equal(inv[i], 255 - out[i]);
}

/* A 40 by 40 image whose value is its column, pixels 0.5 by 2 mm. */
static void
test_roi(void **state)
{
	static float	 img[40 * 40];
	struct view_roi	 roi;
	size_t		 n = 0;
	int		 x, y;
	double		 dx, dy;

	(void)state;
	for (y = 0; y < 40; y++)
		for (x = 0; x < 40; x++)
			img[y * 40 + x] = (float)x;
	/* Centre on a pixel corner: the circle is symmetric about x = 20,
	 * so the mean is the mean of columns 19.5, i.e. 19.5. */
	assert_int_equal(view_roi_circle(img, 40, 40, 0.5, 2, 20, 20, 6,
	    &roi), 0);
	for (y = 0; y < 40; y++)
		for (x = 0; x < 40; x++) {
			dx = (x + 0.5 - 20) * 0.5;
			dy = (y + 0.5 - 20) * 2;
			if (dx * dx + dy * dy <= 36)
				n++;
		}
	assert_int_equal(roi.n, n);
	assert_true(fabs(roi.mean - 19.5) < 1e-9);
	assert_true(fabs(roi.area_mm2 - (double)n) < 1e-9);
	assert_true(roi.min == 8 && roi.max == 31);	/* 6 mm = 12 columns */
	assert_true(roi.sd > 0);

	/* A uniform region has no spread; missing values are left out. */
	for (x = 0; x < 40 * 40; x++)
		img[x] = 50;
	img[20 * 40 + 20] = NAN;
	assert_int_equal(view_roi_circle(img, 40, 40, 1, 1, 20.5, 20.5, 3,
	    &roi), 0);
	assert_true(roi.mean == 50 && roi.sd == 0);
	/* 29 pixel centres lie within 3 pixels of a centre; one missing. */
	assert_int_equal(roi.n, 28);
	/* A point: radius 0 on a pixel centre is that pixel. */
	assert_int_equal(view_roi_circle(img, 40, 40, 1, 1, 3.5, 4.5, 0,
	    &roi), 0);
	assert_int_equal(roi.n, 1);
	/* Outside the image: nothing inside. */
	assert_int_equal(view_roi_circle(img, 40, 40, 1, 1, -10, -10, 2,
	    &roi), -1);
}

static void
test_jpeg(void **state)
{
	struct jpeg_decompress_struct	 di;
	struct jpeg_error_mgr		 je;
	static unsigned char		 g[64 * 48], back[64 * 48];
	struct buf			 b;
	JSAMPROW			 row;
	int				 x, y, maxerr = 0, d;

	(void)state;
	for (y = 0; y < 48; y++)
		for (x = 0; x < 64; x++)
			g[y * 64 + x] = (unsigned char)(x * 4);
	buf_init(&b, 1 << 20);
	assert_int_equal(view_jpeg(g, 64, 48, 90, &b), 0);
	assert_true(b.len > 100);
	assert_int_equal((unsigned char)b.data[0], 0xff);
	assert_int_equal((unsigned char)b.data[1], 0xd8);

	di.err = jpeg_std_error(&je);
	jpeg_create_decompress(&di);
	jpeg_mem_src(&di, (unsigned char *)b.data, (unsigned long)b.len);
	assert_int_equal(jpeg_read_header(&di, TRUE), JPEG_HEADER_OK);
	assert_int_equal(di.image_width, 64);
	assert_int_equal(di.image_height, 48);
	assert_int_equal(di.num_components, 1);
	(void)jpeg_start_decompress(&di);
	while (di.output_scanline < di.output_height) {
		row = back + (size_t)di.output_scanline * 64;
		(void)jpeg_read_scanlines(&di, &row, 1);
	}
	(void)jpeg_finish_decompress(&di);
	jpeg_destroy_decompress(&di);
	for (x = 0; x < 64 * 48; x++) {
		d = abs((int)g[x] - (int)back[x]);
		maxerr = d > maxerr ? d : maxerr;
	}
	/* A smooth ramp survives quality 90 within a few grey levels. */
	assert_true(maxerr <= 4);

	/* A full buffer fails and leaves it as it was. */
	buf_free(&b);
	buf_init(&b, 16);
	assert_int_equal(view_jpeg(g, 64, 48, 90, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_int_equal(view_jpeg(NULL, 64, 48, 90, &b), -1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(view_plane_parse("axial"), VIEW_AXIAL);
	assert_int_equal(view_plane_parse("coronal"), VIEW_CORONAL);
	assert_int_equal(view_plane_parse("sagittal"), VIEW_SAGITTAL);
	assert_int_equal(view_plane_parse("oblique"), -1);
	assert_int_equal(view_plane_parse(NULL), -1);
}

/*
 * 三维重建 on an analytic phantom: 64 mm cube of 1 mm voxels (head up,
 * slice normal to the head), a ball of radius 12 mm at the centre and a
 * rod of radius 3 mm along x (x 12..51) 20.5 mm above it.
 */
#define VR_N	64
#define VR_C	31.5
#define VR_ROD_Z	52.0

static struct view_volume *
vr_phantom(int bg, int ball, int rod)
{
	struct view_volume	*vv;
	double			 dx, dy, dz;
	int			 x, y, z;
	int16_t			 v;

	vv = calloc(1, sizeof(*vv));
	assert_non_null(vv);
	vv->vox = malloc((size_t)VR_N * VR_N * VR_N * sizeof(*vv->vox));
	assert_non_null(vv->vox);
	vv->nx = vv->ny = vv->nz = VR_N;
	vv->spacing[0] = vv->spacing[1] = vv->spacing[2] = 1;
	vv->flip = 1;
	for (z = 0; z < VR_N; z++)
		for (y = 0; y < VR_N; y++)
			for (x = 0; x < VR_N; x++) {
				dx = x - VR_C;
				dy = y - VR_C;
				dz = z - VR_C;
				v = (int16_t)bg;
				if (dx * dx + dy * dy + dz * dz <= 144)
					v = (int16_t)ball;
				dz = z - VR_ROD_Z;
				if (x >= 12 && x <= 51 && dy * dy + dz * dz <= 9)
					v = (int16_t)rod;
				vv->vox[((size_t)z * VR_N + y) * VR_N + x] = v;
			}
	return vv;
}

/* How many pixels of row j are brighter than min. */
static int
vr_row_width(const float *img, int n, int j, float min)
{
	int	 i, w = 0;

	for (i = 0; i < n; i++)
		if (img[(size_t)j * n + i] > min)
			w++;
	return w;
}

/* The image row of a height h mm above the centre. */
static int
vr_row_of(const struct view_render_info *ri, int n, double h)
{
	return (int)floor(n / 2.0 - h / ri->pixel_mm);
}

/*
 * view_render() with the blocks of empty space made, checked against the
 * same rendering without them (every sample looked at): the skipping
 * must not change a pixel.
 */
static int
vr_render(struct view_volume *vv, const struct view_camera *cam, float *out,
    struct view_render_info *ri, char *err, size_t errlen)
{
	int16_t	*lo, *hi;
	float	*plain;
	size_t	 n = (size_t)cam->size * (size_t)cam->size;
	int	 rc;

	if (vv->bmax == NULL)
		assert_int_equal(view_volume_blocks(vv), 0);
	if ((rc = view_render(vv, cam, out, ri, err, errlen)) == -1)
		return -1;
	plain = malloc(n * sizeof(*plain));
	assert_non_null(plain);
	lo = vv->bmin;
	hi = vv->bmax;
	vv->bmin = vv->bmax = NULL;
	assert_int_equal(view_render(vv, cam, plain, NULL, err, errlen), 0);
	vv->bmin = lo;
	vv->bmax = hi;
	assert_memory_equal(out, plain, n * sizeof(*plain));
	free(plain);
	return rc;
}

static void
test_render(void **state)
{
	struct view_volume	*vv;
	struct view_camera	 cam;
	struct view_render_info	 ri;
	const int		 N = 128;
	float			*a, *b, *c;
	char			 err[128];
	int			 jb, jr, w;

	(void)state;
	vv = vr_phantom(0, 1000, 800);
	a = malloc(N * N * sizeof(float));
	b = malloc(N * N * sizeof(float));
	c = malloc(N * N * sizeof(float));
	assert_true(a != NULL && b != NULL && c != NULL);
	memset(&cam, 0, sizeof(cam));
	cam.mode = VIEW_RENDER_BONE;
	cam.zoom = 1;
	cam.size = N;
	assert_int_equal(vr_render(vv, &cam, a, &ri, err, sizeof(err)), 0);
	/* The diagonal (63 sqrt 3 mm) fills the side. */
	assert_true(fabs(ri.pixel_mm - 63 * sqrt(3) / N) < 1e-9);
	assert_true(ri.steps <= VIEW_RENDER_STEPS_MAX + 1);
	/* The ball's silhouette through its centre: 24 mm. */
	jb = vr_row_of(&ri, N, 0);
	w = vr_row_width(a, N, jb, 10);
	print_message("ball: %d pixels of %.3f mm (24 mm: %.1f)\n", w,
	    ri.pixel_mm, 24 / ri.pixel_mm);
	assert_true(fabs(w - 24 / ri.pixel_mm) <= 2);
	/* The rod seen from the front: 40 mm long (x 12..51 and the
	 * trilinear half voxel at either end), 6 mm thick. */
	jr = vr_row_of(&ri, N, VR_ROD_Z - VR_C);
	w = vr_row_width(a, N, jr, 10);
	print_message("rod from the front: %d pixels (40 mm: %.1f)\n", w,
	    40 / ri.pixel_mm);
	assert_true(fabs(w - 40 / ri.pixel_mm) <= 2);
	/* Nothing above the rod nor in the corners. */
	assert_int_equal(vr_row_width(a, N, vr_row_of(&ri, N,
	    VR_ROD_Z - VR_C + 6), 10), 0);
	assert_true(a[0] == 0);

	/* Turned by 90 degrees: seen from its end, the rod is 6 mm wide. */
	cam.azimuth = 90;
	assert_int_equal(vr_render(vv, &cam, b, &ri, err, sizeof(err)), 0);
	w = vr_row_width(b, N, jr, 10);
	print_message("rod from the side: %d pixels (6 mm: %.1f)\n", w,
	    6 / ri.pixel_mm);
	assert_true(fabs(w - 6 / ri.pixel_mm) <= 2);
	assert_memory_not_equal(a, b, N * N * sizeof(float));
	/* The ball is the same from every side. */
	assert_true(fabs(vr_row_width(b, N, jb, 10) - 24 / ri.pixel_mm) <= 2);
	/* A whole turn more is the same image. */
	cam.azimuth = 450;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	assert_memory_equal(b, c, N * N * sizeof(float));
	cam.azimuth = 360;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	assert_memory_equal(a, c, N * N * sizeof(float));

	/* From over the head the rod lies across the ball: still 40 mm
	 * along x, in the middle rows. */
	cam.azimuth = 0;
	cam.elevation = 90;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	w = vr_row_width(c, N, vr_row_of(&ri, N, 0), 10);
	assert_true(fabs(w - 40 / ri.pixel_mm) <= 2);

	/* Zoom 2: pixels half as large, the ball twice as wide. */
	cam.elevation = 0;
	cam.zoom = 2;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	assert_true(fabs(ri.pixel_mm - 63 * sqrt(3) / N / 2) < 1e-9);
	w = vr_row_width(c, N, vr_row_of(&ri, N, 0), 10);
	assert_true(fabs(w - 24 / ri.pixel_mm) <= 2);

	/* MIP: the rod's value on its axis, the ball's at its centre,
	 * nothing where the ray misses the volume. */
	cam.mode = VIEW_RENDER_MIP;
	cam.zoom = 1;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	print_message("MIP: rod %.2f, ball %.2f\n",
	    c[(size_t)jr * N + N / 2 - 10], c[(size_t)jb * N + N / 2]);
	assert_true(fabs(c[(size_t)jr * N + N / 2 - 10] - 800) < 0.01);
	assert_true(fabs(c[(size_t)jb * N + N / 2] - 1000) < 0.01);
	assert_true(isnan(c[0]));
	view_volume_free(vv);

	/* Lung: a ball of aerated lung (-800 HU) in water shows its
	 * boundary, 24 mm across; the water nothing. */
	vv = vr_phantom(0, -800, 0);
	cam.mode = VIEW_RENDER_LUNG;
	assert_int_equal(vr_render(vv, &cam, c, &ri, err, sizeof(err)), 0);
	w = vr_row_width(c, N, jb, 10);
	print_message("lung ball: %d pixels (24 mm: %.1f)\n", w,
	    24 / ri.pixel_mm);
	assert_true(fabs(w - 24 / ri.pixel_mm) <= 2);
	assert_int_equal(vr_row_width(c, N, vr_row_of(&ri, N, 16), 10), 0);

	/* Bad cameras. */
	cam.size = 16;
	assert_int_equal(view_render(vv, &cam, c, &ri, err, sizeof(err)), -1);
	cam.size = N;
	cam.zoom = 20;
	assert_int_equal(view_render(vv, &cam, c, &ri, err, sizeof(err)), -1);
	cam.zoom = 1;
	cam.elevation = 91;
	assert_int_equal(view_render(vv, &cam, c, &ri, err, sizeof(err)), -1);
	cam.elevation = 0;
	cam.azimuth = NAN;
	assert_int_equal(view_render(vv, &cam, c, &ri, err, sizeof(err)), -1);
	view_volume_free(vv);
	assert_int_equal(view_render_parse("bone"), VIEW_RENDER_BONE);
	assert_int_equal(view_render_parse("lung"), VIEW_RENDER_LUNG);
	assert_int_equal(view_render_parse("mip"), VIEW_RENDER_MIP);
	assert_int_equal(view_render_parse("vr"), -1);
	free(a);
	free(b);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planes_head_up),
		cmocka_unit_test(test_planes_feet_up),
		cmocka_unit_test(test_volume_clamps),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_roi),
		cmocka_unit_test(test_jpeg),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
