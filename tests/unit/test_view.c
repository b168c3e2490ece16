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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
