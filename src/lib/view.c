/*
 * view.c - planes, windows, regions and JPEG for the viewer.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "buf.h"
#include "log.h"
#include "series.h"
#include "view.h"

const char *const view_plane_names[VIEW__MAX] = {
	"axial", "coronal", "sagittal",
};

int
view_plane_parse(const char *name)
{
	int	 i;

	for (i = 0; name != NULL && i < VIEW__MAX; i++)
		if (strcmp(view_plane_names[i], name) == 0)
			return i;
	return -1;
}

int
view_flip(const double normal[3])
{
	return normal[2] > 0;
}

int
view_volume_from(const struct series_volume *v, struct view_volume **out,
    char *err, size_t errlen)
{
	struct view_volume	*vv;
	size_t			 i, n;
	float			 x;

	*out = NULL;
	if (v == NULL || v->nx < 1 || v->ny < 1 || v->nz < 1) {
		errfmt(err, errlen, "no volume");
		return -1;
	}
	n = (size_t)v->nx * (size_t)v->ny * (size_t)v->nz;
	if ((vv = calloc(1, sizeof(*vv))) == NULL ||
	    (vv->vox = malloc(n * sizeof(*vv->vox))) == NULL) {
		free(vv);
		errfmt(err, errlen, "out of memory for %zu voxels", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		x = v->vox[i];
		if (isnan(x) || x <= -32768)
			vv->vox[i] = INT16_MIN;
		else if (x >= 32767)
			vv->vox[i] = INT16_MAX;
		else	/* to nearest, halves away from zero */
			vv->vox[i] = (int16_t)(x >= 0 ? x + 0.5f : x - 0.5f);
	}
	vv->nx = v->nx;
	vv->ny = v->ny;
	vv->nz = v->nz;
	memcpy(vv->spacing, v->spacing, sizeof(vv->spacing));
	vv->flip = view_flip(v->normal);
	vv->invert = v->invert_for_display;
	*out = vv;
	return 0;
}

void
view_volume_free(struct view_volume *vv)
{
	if (vv == NULL)
		return;
	free(vv->vox);
	free(vv);
}

int
view_plane_size(const struct view_volume *vv, enum view_plane p, int *w,
    int *h, int *n)
{
	switch (p) {
	case VIEW_AXIAL:
		*w = vv->nx;
		*h = vv->ny;
		*n = vv->nz;
		return 0;
	case VIEW_CORONAL:
		*w = vv->nx;
		*h = vv->nz;
		*n = vv->ny;
		return 0;
	case VIEW_SAGITTAL:
		*w = vv->ny;
		*h = vv->nz;
		*n = vv->nx;
		return 0;
	default:
		return -1;
	}
}

void
view_plane_spacing(const struct view_volume *vv, enum view_plane p,
    double *sx, double *sy)
{
	*sx = p == VIEW_SAGITTAL ? vv->spacing[1] : vv->spacing[0];
	*sy = p == VIEW_AXIAL ? vv->spacing[1] : vv->spacing[2];
}

static inline float
view_val(int16_t s)
{
	return s == INT16_MIN ? NAN : (float)s;
}

int
view_plane_get(const struct view_volume *vv, enum view_plane p, int index,
    float *out, char *err, size_t errlen)
{
	const int16_t	*src;
	size_t		 nx, ny, sl;
	int		 w, h, n, r, c, z;

	if (view_plane_size(vv, p, &w, &h, &n) == -1) {
		errfmt(err, errlen, "unknown plane %d", (int)p);
		return -1;
	}
	if (index < 0 || index >= n) {
		errfmt(err, errlen, "%s image %d outside 0..%d",
		    view_plane_names[p], index, n - 1);
		return -1;
	}
	nx = (size_t)vv->nx;
	ny = (size_t)vv->ny;
	sl = nx * ny;
	if (p == VIEW_AXIAL) {
		src = vv->vox + sl * (size_t)index;
		for (r = 0; r < h * w; r++)
			out[r] = view_val(src[r]);
		return 0;
	}
	for (r = 0; r < h; r++) {
		z = vv->flip ? h - 1 - r : r;
		src = vv->vox + sl * (size_t)z;
		if (p == VIEW_CORONAL) {
			src += nx * (size_t)index;
			for (c = 0; c < w; c++)
				out[(size_t)r * w + c] = view_val(src[c]);
		} else {
			src += (size_t)index;
			for (c = 0; c < w; c++)
				out[(size_t)r * w + c] =
				    view_val(src[nx * (size_t)c]);
		}
	}
	return 0;
}

void
view_window8(const float *in, size_t n, double c, double w, int invert,
    unsigned char *out)
{
	double	 lo, hi, y;
	size_t	 i;

	if (!(w >= 1))
		w = 1;
	lo = c - 0.5 - (w - 1) / 2;
	hi = c - 0.5 + (w - 1) / 2;
	for (i = 0; i < n; i++) {
		if (isnan(in[i]) || in[i] <= lo)
			y = 0;
		else if (in[i] > hi)
			y = 255;
		else if (w > 1)
			y = ((in[i] - (c - 0.5)) / (w - 1) + 0.5) * 255;
		else
			y = 255;
		if (y > 255)
			y = 255;
		if (y < 0)
			y = 0;
		if (invert && !isnan(in[i]))
			y = 255 - y;
		out[i] = (unsigned char)(y + 0.5);
	}
}

int
view_roi_circle(const float *img, int w, int h, double sx, double sy,
    double cx, double cy, double r_mm, struct view_roi *roi)
{
	double	 dx, dy, sum = 0, sum2 = 0, mean, v;
	int	 x, y, x0, x1, y0, y1;

	memset(roi, 0, sizeof(*roi));
	if (img == NULL || w < 1 || h < 1 || !(sx > 0) || !(sy > 0) ||
	    !isfinite(cx) || !isfinite(cy) || !(r_mm >= 0))
		return -1;
	roi->min = INFINITY;
	roi->max = -INFINITY;
	/* Only the rows and columns the circle can reach. */
	x0 = (int)floor(cx - r_mm / sx - 1);
	x1 = (int)ceil(cx + r_mm / sx + 1);
	y0 = (int)floor(cy - r_mm / sy - 1);
	y1 = (int)ceil(cy + r_mm / sy + 1);
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > w ? w : x1;
	y1 = y1 > h ? h : y1;
	/* Two passes: the mean, then the squares about it (no loss of
	 * precision on large values). */
	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++) {
			dx = (x + 0.5 - cx) * sx;
			dy = (y + 0.5 - cy) * sy;
			v = img[(size_t)y * w + x];
			if (dx * dx + dy * dy > r_mm * r_mm || isnan(v))
				continue;
			roi->n++;
			sum += v;
			roi->min = fmin(roi->min, v);
			roi->max = fmax(roi->max, v);
		}
	if (roi->n == 0)
		return -1;
	mean = sum / (double)roi->n;
	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++) {
			dx = (x + 0.5 - cx) * sx;
			dy = (y + 0.5 - cy) * sy;
			v = img[(size_t)y * w + x];
			if (dx * dx + dy * dy > r_mm * r_mm || isnan(v))
				continue;
			sum2 += (v - mean) * (v - mean);
		}
	roi->mean = mean;
	roi->sd = roi->n > 1 ? sqrt(sum2 / (double)(roi->n - 1)) : 0;
	roi->area_mm2 = (double)roi->n * sx * sy;
	return 0;
}

/* libjpeg reports errors by calling error_exit, which must not return. */
struct view_jerr {
	struct jpeg_error_mgr	 pub;
	jmp_buf			 jb;
};

static void
view_jerr_exit(j_common_ptr cinfo)
{
	struct view_jerr	*e = (struct view_jerr *)cinfo->err;

	longjmp(e->jb, 1);
}

static void
view_jerr_output(j_common_ptr cinfo)
{
	(void)cinfo;
}

int
view_jpeg(const unsigned char *gray, int w, int h, int quality,
    struct buf *out)
{
	struct jpeg_compress_struct	 ci;
	struct view_jerr		 je;
	unsigned char			*mem = NULL;
	unsigned long			 len = 0;
	JSAMPROW			 row;
	volatile int			 ok = 0;

	if (gray == NULL || w < 1 || h < 1 || w > 65500 || h > 65500)
		return -1;
	memset(&ci, 0, sizeof(ci));
	ci.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = view_jerr_exit;
	je.pub.output_message = view_jerr_output;
	if (setjmp(je.jb) != 0) {
		jpeg_destroy_compress(&ci);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &mem, &len);
	ci.image_width = (JDIMENSION)w;
	ci.image_height = (JDIMENSION)h;
	ci.input_components = 1;
	ci.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality < 1 ? 1 : quality > 100 ? 100 :
	    quality, TRUE);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		row = (JSAMPROW)(gray + (size_t)ci.next_scanline * (size_t)w);
		(void)jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	if (buf_append(out, mem, (size_t)len) == 0)
		ok = 1;
	free(mem);
	return ok ? 0 : -1;
}
