/*
 * viewerbench.c - what the viewer's server-rendered images cost and
 * weigh, next to sending the pixels to the browser.
 *
 *	viewerbench [-n slices] dir
 *
 * Every file under dir whose name ends in ".dcm" (recursively) is one
 * image of a series.  Measured, on up to n axial slices spread over the
 * series (default 40), as /viewer/image does them:
 *
 *   one file	series_load() of that one file (the axial path);
 *   window	view_window8() of the slice (lung window, -600/1500);
 *   jpeg	view_jpeg() at quality 90, and its size;
 *   png	preview_png_encode() of the same 8 bits (fmt=png), and its
 *		size;
 * and, for MPR, once: series_load() of the whole series and
 * view_volume_from() (the worker cache's fill), then every 16th coronal
 * and sagittal image through view_plane_get(), window and JPEG; and
 * 三维重建 (view_render(), as /viewer/render does it): each mode (bone,
 * lung, MIP) from azimuths 0, 45 and 90 degrees at elevation 15, at the
 * 160-pixel side the viewer asks for while the doctor drags and the
 * 512-pixel side of a full image at 1366 x 768, with the JPEG's size
 * (with ZY_VIEWER_PICS=dir, the full ones are written there).
 *
 * It prints means (ms, bytes) and what they mean on a 10 Mbit/s link:
 * the time one image takes to arrive, and how long the series' 16-bit
 * pixels alone would take (the alternative of rendering in the browser).
 * The last line, "RESULT", carries the figures as key=value pairs.
 * Exits 0, or 1 when the series cannot be read.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "preview.h"
#include "series.h"
#include "view.h"

#define LINK_BPS	10e6	/* the grassroots hospitals' link */
#define LINK_RTT	0.030	/* s */

static char	**paths;
static size_t	  npaths, cappaths;

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t	 len = strlen(path);
	char	**np;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || len < 4 ||
	    strcmp(path + len - 4, ".dcm") != 0)
		return 0;
	if (npaths == cappaths) {
		cappaths = cappaths ? cappaths * 2 : 256;
		if ((np = realloc(paths, cappaths * sizeof(*paths))) == NULL)
			return -1;
		paths = np;
	}
	if ((paths[npaths] = strdup(path)) == NULL)
		return -1;
	npaths++;
	return 0;
}

/* Window, JPEG and PNG of one image; adds times (s) and sizes. */
static int
encode(const float *val, int w, int h, double *t_win, double *t_jpg,
    double *t_png, double *b_jpg, double *b_png)
{
	unsigned char	*g;
	struct buf	 b;
	double		 t;

	if ((g = malloc((size_t)w * (size_t)h)) == NULL)
		return -1;
	t = now();
	view_window8(val, (size_t)w * (size_t)h, -600, 1500, 0, g);
	*t_win += now() - t;
	buf_init(&b, 64u << 20);
	t = now();
	if (view_jpeg(g, w, h, 90, &b) == -1)
		goto fail;
	*t_jpg += now() - t;
	*b_jpg += (double)b.len;
	buf_free(&b);
	buf_init(&b, 64u << 20);
	t = now();
	if (preview_png_encode(g, w, h, &b) == -1)
		goto fail;
	*t_png += now() - t;
	*b_png += (double)b.len;
	buf_free(&b);
	free(g);
	return 0;
fail:
	buf_free(&b);
	free(g);
	return -1;
}

/* With ZY_VIEWER_PICS=dir, the full renderings as dir/3d-MODE-AZ.jpg, to
 * be looked at. */
static int
write_pic(const char *dir, const char *mode, int az, const struct buf *b)
{
	char	 path[4096];
	FILE	*f;
	int	 rc;

	(void)snprintf(path, sizeof(path), "%s/3d-%s-%d.jpg", dir, mode, az);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	rc = fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

/* 三维重建: the render times of each mode at the drag's and the full
 * size, printed with a RESULT3D line. */
static int
render3d(const struct view_volume *vv)
{
	static const int	 sizes[2] = { 160, 512 };
	static const double	 az[3] = { 0, 45, 90 };
	struct view_camera	 cam;
	struct view_render_info	 ri;
	struct buf		 b;
	unsigned char		*g;
	float			*img;
	char			 err[128];
	const char		*pics = getenv("ZY_VIEWER_PICS");
	double			 t, ms[VIEW_RENDER__MAX][2], kb[VIEW_RENDER__MAX][2];
	size_t			 i, n;
	int			 m, si, a;

	img = malloc((size_t)512 * 512 * sizeof(*img));
	g = malloc((size_t)512 * 512);
	if (img == NULL || g == NULL)
		return -1;
	for (m = 0; m < VIEW_RENDER__MAX; m++)
		for (si = 0; si < 2; si++) {
			ms[m][si] = kb[m][si] = 0;
			for (a = 0; a < 3; a++) {
				memset(&cam, 0, sizeof(cam));
				cam.mode = (enum view_render_mode)m;
				cam.azimuth = az[a];
				cam.elevation = 15;
				cam.zoom = 1;
				cam.size = sizes[si];
				n = (size_t)cam.size * (size_t)cam.size;
				t = now();
				if (view_render(vv, &cam, img, &ri, err,
				    sizeof(err)) == -1) {
					fprintf(stderr, "viewerbench: %s\n", err);
					return -1;
				}
				if (m == VIEW_RENDER_MIP)
					view_window8(img, n, 400, 1800, 0, g);
				else
					for (i = 0; i < n; i++)
						g[i] = (unsigned char)(img[i] < 0 ?
						    0 : img[i] > 255 ? 255 :
						    img[i] + 0.5f);
				buf_init(&b, 0);
				if (view_jpeg(g, cam.size, cam.size, 90, &b) ==
				    -1)
					return -1;
				ms[m][si] += (now() - t) * 1e3 / 3;
				if (pics != NULL && si == 1)
					(void)write_pic(pics, view_render_names[m],
					    (int)az[a], &b);
				kb[m][si] += b.len / 1024.0 / 3;
				buf_free(&b);
			}
			printf("3D %s %d px: %.0f ms with JPEG, %.1f KB, pixel "
			    "%.2f mm, step %.2f mm, %d samples a ray at most\n",
			    view_render_names[m], sizes[si], ms[m][si],
			    kb[m][si], ri.pixel_mm, ri.step_mm, ri.steps);
		}
	printf("RESULT3D");
	for (m = 0; m < VIEW_RENDER__MAX; m++)
		printf(" %s_drag_ms=%.0f %s_full_ms=%.0f %s_full_kb=%.1f",
		    view_render_names[m], ms[m][0], view_render_names[m],
		    ms[m][1], view_render_names[m], kb[m][1]);
	printf("\n");
	free(img);
	free(g);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct series_volume	*v = NULL, *one;
	struct view_volume	*vv = NULL;
	const char		*p1;
	char			 err[256];
	double			 t, t_one = 0, t_win = 0, t_jpg = 0, t_png = 0;
	double			 b_jpg = 0, b_png = 0, t_load, t_conv;
	double			 m_win = 0, m_jpg = 0, m_png = 0, mb_jpg = 0,
				 mb_png = 0, t_plane = 0;
	float			*img;
	size_t			 i, step;
	int			 c, n = 40, done = 0, mdone = 0, w, h, nn, p, k;

	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n' && atoi(optarg) > 0)
			n = atoi(optarg);
		else {
			fprintf(stderr, "usage: viewerbench [-n slices] dir\n");
			return 1;
		}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: viewerbench [-n slices] dir\n");
		return 1;
	}
	if (nftw(argv[optind], collect, 16, FTW_PHYS) == -1 || npaths == 0) {
		fprintf(stderr, "viewerbench: no .dcm files under %s\n",
		    argv[optind]);
		return 1;
	}

	/* The axial path: one file each. */
	step = npaths > (size_t)n ? npaths / (size_t)n : 1;
	for (i = 0; i < npaths; i += step) {
		p1 = paths[i];
		t = now();
		if (series_load(&p1, 1, NULL, &one, err, sizeof(err)) == -1) {
			fprintf(stderr, "viewerbench: %s: %s\n", p1, err);
			return 1;
		}
		t_one += now() - t;
		if (encode(one->vox, one->nx, one->ny, &t_win, &t_jpg, &t_png,
		    &b_jpg, &b_png) == -1) {
			fprintf(stderr, "viewerbench: encoding failed\n");
			return 1;
		}
		series_free(one);
		done++;
	}

	/* The MPR path: the whole series once, then its planes. */
	t = now();
	if (series_load((const char *const *)paths, npaths, NULL, &v, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "viewerbench: the series: %s\n", err);
		return 1;
	}
	t_load = now() - t;
	t = now();
	if (view_volume_from(v, &vv, err, sizeof(err)) == -1) {
		fprintf(stderr, "viewerbench: %s\n", err);
		return 1;
	}
	t_conv = now() - t;
	if ((img = malloc((size_t)(v->nx > v->ny ? v->nx : v->ny) *
	    (size_t)(v->nx > v->nz ? v->nx : v->nz) * sizeof(float) * 2)) ==
	    NULL)
		return 1;
	for (p = VIEW_CORONAL; p <= VIEW_SAGITTAL; p++) {
		(void)view_plane_size(vv, (enum view_plane)p, &w, &h, &nn);
		for (k = 0; k < nn; k += 16) {
			t = now();
			(void)view_plane_get(vv, (enum view_plane)p, k, img,
			    NULL, 0);
			t_plane += now() - t;
			if (encode(img, w, h, &m_win, &m_jpg, &m_png, &mb_jpg,
			    &mb_png) == -1)
				return 1;
			mdone++;
		}
	}
	free(img);

	printf("series: %zu files, %d x %d x %d, %.3f x %.3f x %.3f mm\n",
	    npaths, v->nx, v->ny, v->nz, v->spacing[0], v->spacing[1],
	    v->spacing[2]);
	printf("axial (%d slices): one file %.1f ms, window %.2f ms, "
	    "JPEG q90 %.1f ms %.0f bytes, PNG %.1f ms %.0f bytes\n", done,
	    t_one / done * 1e3, t_win / done * 1e3, t_jpg / done * 1e3,
	    b_jpg / done, t_png / done * 1e3, b_png / done);
	printf("at 10 Mbit/s: a JPEG slice %.0f ms (%.1f slices/s), a PNG "
	    "slice %.0f ms (%.1f slices/s), 16-bit pixels %.0f ms a slice, "
	    "%.1f s for the series\n",
	    (b_jpg / done * 8 / LINK_BPS + LINK_RTT) * 1e3,
	    LINK_BPS / (b_jpg / done * 8),
	    (b_png / done * 8 / LINK_BPS + LINK_RTT) * 1e3,
	    LINK_BPS / (b_png / done * 8),
	    (double)v->nx * v->ny * 2 * 8 / LINK_BPS * 1e3,
	    (double)v->nx * v->ny * v->nz * 2 * 8 / LINK_BPS);
	printf("MPR: series load %.0f ms, to int16 %.0f ms (%.0f MiB held), "
	    "a plane %.2f ms + JPEG %.1f ms %.0f bytes (%d images)\n",
	    t_load * 1e3, t_conv * 1e3,
	    (double)v->nx * v->ny * v->nz * 2 / 1048576.0,
	    t_plane / mdone * 1e3, m_jpg / mdone * 1e3, mb_jpg / mdone,
	    mdone);
	printf("RESULT files=%zu nx=%d ny=%d nz=%d one_file_ms=%.2f "
	    "window_ms=%.3f jpeg_ms=%.2f jpeg_bytes=%.0f png_ms=%.2f "
	    "png_bytes=%.0f load_ms=%.1f int16_ms=%.1f plane_ms=%.3f "
	    "plane_jpeg_bytes=%.0f\n", npaths, v->nx, v->ny, v->nz,
	    t_one / done * 1e3, t_win / done * 1e3, t_jpg / done * 1e3,
	    b_jpg / done, t_png / done * 1e3, b_png / done, t_load * 1e3,
	    t_conv * 1e3, t_plane / mdone * 1e3, mb_jpg / mdone);
	if (render3d(vv) == -1)
		return 1;
	view_volume_free(vv);
	series_free(v);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return 0;
}
