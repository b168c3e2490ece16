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
	(void)view_volume_blocks(vv);
	*out = vv;
	return 0;
}

int
view_volume_blocks(struct view_volume *vv)
{
	size_t	 nb, bi = 0;
	int	 bx, by, bz, i, j, k, x, y, z, x0, x1, y0, y1, z0, z1, lo, hi, v;

	bx = (vv->nx - 1) / VIEW_BLOCK + 1;
	by = (vv->ny - 1) / VIEW_BLOCK + 1;
	bz = (vv->nz - 1) / VIEW_BLOCK + 1;
	nb = (size_t)bx * (size_t)by * (size_t)bz;
	free(vv->bmin);
	free(vv->bmax);
	vv->bmin = malloc(nb * sizeof(*vv->bmin));
	vv->bmax = malloc(nb * sizeof(*vv->bmax));
	if (vv->bmin == NULL || vv->bmax == NULL) {
		free(vv->bmin);
		free(vv->bmax);
		vv->bmin = vv->bmax = NULL;
		return -1;
	}
	for (k = 0; k < bz; k++)
		for (j = 0; j < by; j++)
			for (i = 0; i < bx; i++, bi++) {
				/* The block and one voxel either side: every
				 * corner of a trilinear sample inside it. */
				x0 = i * VIEW_BLOCK - 1 < 0 ? 0 : i * VIEW_BLOCK - 1;
				y0 = j * VIEW_BLOCK - 1 < 0 ? 0 : j * VIEW_BLOCK - 1;
				z0 = k * VIEW_BLOCK - 1 < 0 ? 0 : k * VIEW_BLOCK - 1;
				x1 = i * VIEW_BLOCK + VIEW_BLOCK;
				y1 = j * VIEW_BLOCK + VIEW_BLOCK;
				z1 = k * VIEW_BLOCK + VIEW_BLOCK;
				x1 = x1 > vv->nx - 1 ? vv->nx - 1 : x1;
				y1 = y1 > vv->ny - 1 ? vv->ny - 1 : y1;
				z1 = z1 > vv->nz - 1 ? vv->nz - 1 : z1;
				lo = INT16_MAX;
				hi = -1024;
				for (z = z0; z <= z1; z++)
					for (y = y0; y <= y1; y++)
						for (x = x0; x <= x1; x++) {
							v = vv->vox[((size_t)z *
							    vv->ny + (size_t)y) *
							    vv->nx + (size_t)x];
							if (v == INT16_MIN)
								v = -1024;
							lo = v < lo ? v : lo;
							hi = v > hi ? v : hi;
						}
				vv->bmin[bi] = (int16_t)lo;
				vv->bmax[bi] = (int16_t)hi;
			}
	vv->bx = bx;
	vv->by = by;
	vv->bz = bz;
	return 0;
}

void
view_volume_free(struct view_volume *vv)
{
	if (vv == NULL)
		return;
	free(vv->vox);
	free(vv->bmin);
	free(vv->bmax);
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

/* One JPEG of w x h pixels of n components (1 grey, 3 RGB), to out. */
static int
view_jpeg_n(const unsigned char *px, int n, int w, int h, int quality,
    struct buf *out)
{
	struct jpeg_compress_struct	 ci;
	struct view_jerr		 je;
	unsigned char			*mem = NULL;
	unsigned long			 len = 0;
	JSAMPROW			 row;
	volatile int			 ok = 0;

	if (px == NULL || w < 1 || h < 1 || w > 65500 || h > 65500)
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
	ci.input_components = n;
	ci.in_color_space = n == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality < 1 ? 1 : quality > 100 ? 100 :
	    quality, TRUE);
	/* Full chroma: a thin coloured outline survives. */
	if (n == 3)
		ci.comp_info[0].h_samp_factor = ci.comp_info[0].v_samp_factor =
		    1;
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		row = (JSAMPROW)(px + (size_t)ci.next_scanline * (size_t)w *
		    (size_t)n);
		(void)jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	if (buf_append(out, mem, (size_t)len) == 0)
		ok = 1;
	free(mem);
	return ok ? 0 : -1;
}

int
view_jpeg(const unsigned char *gray, int w, int h, int quality,
    struct buf *out)
{
	return view_jpeg_n(gray, 1, w, h, quality, out);
}

/* ------------------------------------------------------------------ */
/* 三维重建: ray casting (Levoy 1988; MIP, Wallis 1989). */

const char *const view_render_names[VIEW_RENDER__MAX] = {
	"bone", "lung", "mip",
};

int
view_render_parse(const char *name)
{
	int	 i;

	for (i = 0; name != NULL && i < VIEW_RENDER__MAX; i++)
		if (strcmp(view_render_names[i], name) == 0)
			return i;
	return -1;
}

#define VR_LUT_LO	(-1024)		/* the opacity table's range, HU */
#define VR_LUT_N	4096
#define VR_OPAQUE	0.98		/* early ray termination */

/*
 * Bone's opacity per millimetre of a value: nothing below 200 HU (soft
 * tissue, contrast-free vessels), rising to 0.5/mm at 700 HU, so that
 * cortical bone is opaque within a few millimetres and cancellous bone
 * of 200-400 HU stays translucent.
 */
#define VR_BONE_FROM	200	/* HU: no opacity below */

static double
vr_alpha_mm(double v)
{
	if (v < VR_BONE_FROM)
		return 0;
	if (v < 700)
		return 0.5 * (v - 200) / 500;
	return 0.5;
}

/*
 * Lung: the -500 HU boundary of aerated lung as an iso-value contour
 * surface (Levoy 1988, eq. 3): opacity VR_LUNG_ALPHA per millimetre on
 * the surface, falling linearly to nothing VR_LUNG_R mm from it, the
 * distance being the value's difference over the gradient's magnitude.
 * The surface is met where the lung meets the chest wall, the vessels
 * and the airways' walls, and at the skin: that is translucent enough
 * (about a third of the light) for the lungs to show through it.
 */
#define VR_LUNG_ISO	(-500.0)
#define VR_LUNG_ALPHA	0.35
#define VR_LUNG_R	1.0	/* mm */
#define VR_LUNG_NEAR	300.0	/* HU: farther values are not looked at */

/* The value at index position (x, y, z), trilinear; inside the volume
 * (0 <= x <= nx - 1 ...), missing values as -1024. */
static inline float
vr_sample(const struct view_volume *vv, double x, double y, double z)
{
	const int16_t	*p;
	size_t		 sx = 1, sy = (size_t)vv->nx,
			 sz = (size_t)vv->nx * (size_t)vv->ny;
	double		 fx, fy, fz, c[8];
	int		 ix, iy, iz, i;

	ix = (int)x;
	iy = (int)y;
	iz = (int)z;
	if (ix > vv->nx - 2)
		ix = vv->nx - 2;
	if (iy > vv->ny - 2)
		iy = vv->ny - 2;
	if (iz > vv->nz - 2)
		iz = vv->nz - 2;
	fx = x - ix;
	fy = y - iy;
	fz = z - iz;
	p = vv->vox + (size_t)iz * sz + (size_t)iy * sy + (size_t)ix;
	c[0] = p[0];
	c[1] = p[sx];
	c[2] = p[sy];
	c[3] = p[sy + sx];
	c[4] = p[sz];
	c[5] = p[sz + sx];
	c[6] = p[sz + sy];
	c[7] = p[sz + sy + sx];
	for (i = 0; i < 8; i++)
		if (c[i] == INT16_MIN)
			c[i] = -1024;
	return (float)((((c[0] * (1 - fx) + c[1] * fx) * (1 - fy) +
	    (c[2] * (1 - fx) + c[3] * fx) * fy) * (1 - fz)) +
	    (((c[4] * (1 - fx) + c[5] * fx) * (1 - fy) +
	    (c[6] * (1 - fx) + c[7] * fx) * fy) * fz));
}

static inline double
vr_vox(const struct view_volume *vv, int x, int y, int z)
{
	int16_t	 v;

	x = x < 0 ? 0 : x >= vv->nx ? vv->nx - 1 : x;
	y = y < 0 ? 0 : y >= vv->ny ? vv->ny - 1 : y;
	z = z < 0 ? 0 : z >= vv->nz ? vv->nz - 1 : z;
	v = vv->vox[((size_t)z * vv->ny + (size_t)y) * vv->nx + (size_t)x];
	return v == INT16_MIN ? -1024 : v;
}

/*
 * The shade of a sample at index position (x, y, z) seen along the
 * physical direction d (Phong's model with the light at the eye, as
 * Levoy's): the surface normal is the gradient of the values by central
 * differences at the nearest voxel, in physical units (zs: the sign of
 * the index z along the head axis).
 */
static inline double
vr_shade(const struct view_volume *vv, double x, double y, double z,
    const double d[3], double zs, double *gmag)
{
	double	 g[3], m, c;
	int	 ix = (int)(x + 0.5), iy = (int)(y + 0.5), iz = (int)(z + 0.5);

	g[0] = (vr_vox(vv, ix + 1, iy, iz) - vr_vox(vv, ix - 1, iy, iz)) /
	    (2 * vv->spacing[0]);
	g[1] = (vr_vox(vv, ix, iy + 1, iz) - vr_vox(vv, ix, iy - 1, iz)) /
	    (2 * vv->spacing[1]);
	g[2] = zs * (vr_vox(vv, ix, iy, iz + 1) - vr_vox(vv, ix, iy, iz - 1)) /
	    (2 * vv->spacing[2]);
	m = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
	*gmag = m;
	if (m < 1e-6)
		return 0.2 + 0.7;	/* no surface: the diffuse maximum */
	c = fabs(g[0] * d[0] + g[1] * d[1] + g[2] * d[2]) / m;
	/* ambient 0.2, diffuse 0.7, specular 0.25 with exponent 16 */
	m = 0.2 + 0.7 * c + 0.25 * pow(c, 16);
	return m > 1 ? 1 : m;
}

/* The label at voxel (x, y, z), clamped to the grid. */
static inline int
vl_at(const struct view_labels *lb, int x, int y, int z)
{
	x = x < 0 ? 0 : x >= lb->nx ? lb->nx - 1 : x;
	y = y < 0 ? 0 : y >= lb->ny ? lb->ny - 1 : y;
	z = z < 0 ? 0 : z >= lb->nz ? lb->nz - 1 : z;
	return lb->lab[((size_t)z * lb->ny + (size_t)y) * lb->nx + (size_t)x];
}

/*
 * The region l at voxel (x, y, z) seen along d: 1 with its shade in *sh
 * when the voxel is on its boundary (a 6-neighbour of another label),
 * the normal being the gradient of the region's indicator function
 * (Höhne and Bernstein 1986); 0 inside.
 */
static inline int
vl_edge(const struct view_labels *lb, int l, int x, int y, int z,
    const double sp[3], const double d[3], double zs, double *sh)
{
	double	 g[3], m, c;
	int	 n[6];

	n[0] = vl_at(lb, x + 1, y, z) == l;
	n[1] = vl_at(lb, x - 1, y, z) == l;
	n[2] = vl_at(lb, x, y + 1, z) == l;
	n[3] = vl_at(lb, x, y - 1, z) == l;
	n[4] = vl_at(lb, x, y, z + 1) == l;
	n[5] = vl_at(lb, x, y, z - 1) == l;
	if (n[0] && n[1] && n[2] && n[3] && n[4] && n[5]) {
		*sh = 0.2 + 0.7;
		return 0;
	}
	g[0] = (n[0] - n[1]) / (2 * sp[0]);
	g[1] = (n[2] - n[3]) / (2 * sp[1]);
	g[2] = zs * (n[4] - n[5]) / (2 * sp[2]);
	m = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
	c = m < 1e-9 ? 1 : fabs(g[0] * d[0] + g[1] * d[1] + g[2] * d[2]) / m;
	m = 0.2 + 0.7 * c + 0.25 * pow(c, 16);
	*sh = m > 1 ? 1 : m;
	return 1;
}

/*
 * The ray caster of view_render() and view_render_labels(): into out
 * (floats, as view_render() says) when lb is NULL, else into rgb.
 */
static int
vr_cast(const struct view_volume *vv, const struct view_labels *lb,
    const struct view_camera *cam, double wc, double ww, float *out,
    unsigned char *rgb, struct view_render_info *info, char *err,
    size_t errlen)
{
	double	 a, e, d[3], r[3], u[3], ext[3], diag, half, pix, step;
	double	 id[3], o[3], cen[3], zs, t0, t1, ta, tb, p, q, s, acc, A;
	double	 lut[VR_LUT_N], minsp, x, y, z, al, best, sh, gm;
	double	 lal[256], ac[3], col[3], lsh, gy, tt;
	size_t	 bi = 0;
	int	 lo, hi, ctskip, lab;
	float	 v;
	int	 N, i, j, k, k0, k1, ax, hit, lv, c;

	if (vv == NULL || vv->nx < 2 || vv->ny < 2 || vv->nz < 2) {
		errfmt(err, errlen, "a volume of at least 2 x 2 x 2 voxels is"
		    " needed");
		return -1;
	}
	if (cam == NULL || (int)cam->mode < 0 ||
	    cam->mode >= VIEW_RENDER__MAX || !isfinite(cam->azimuth) ||
	    !(cam->elevation >= -90 && cam->elevation <= 90) ||
	    !(cam->zoom >= VIEW_RENDER_ZOOM_MIN &&
	    cam->zoom <= VIEW_RENDER_ZOOM_MAX) ||
	    cam->size < VIEW_RENDER_SIZE_MIN ||
	    cam->size > VIEW_RENDER_SIZE_MAX || !(cam->step_mm >= 0)) {
		errfmt(err, errlen, "bad camera");
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (!(vv->spacing[i] > 0)) {
			errfmt(err, errlen, "no voxel spacing");
			return -1;
		}
	N = cam->size;
	a = fmod(cam->azimuth, 360) * M_PI / 180;
	e = cam->elevation * M_PI / 180;
	/* The camera in physical axes (x, y as the index, z to the head). */
	d[0] = sin(a) * cos(e);
	d[1] = cos(a) * cos(e);
	d[2] = -sin(e);
	u[0] = sin(a) * sin(e);
	u[1] = cos(a) * sin(e);
	u[2] = cos(e);
	r[0] = cos(a);
	r[1] = -sin(a);
	r[2] = 0;
	zs = vv->flip ? 1 : -1;
	ext[0] = (vv->nx - 1) * vv->spacing[0];
	ext[1] = (vv->ny - 1) * vv->spacing[1];
	ext[2] = (vv->nz - 1) * vv->spacing[2];
	diag = sqrt(ext[0] * ext[0] + ext[1] * ext[1] + ext[2] * ext[2]);
	if (diag < 1e-6)
		diag = 1;
	half = diag / 2;
	pix = diag / (N * cam->zoom);
	minsp = fmin(vv->spacing[0], fmin(vv->spacing[1], vv->spacing[2]));
	step = cam->step_mm > 0 ? cam->step_mm : fmax(minsp, pix);
	if (step < diag / VIEW_RENDER_STEPS_MAX)
		step = diag / VIEW_RENDER_STEPS_MAX;
	/* The ray's direction in index units per millimetre. */
	id[0] = d[0] / vv->spacing[0];
	id[1] = d[1] / vv->spacing[1];
	id[2] = zs * d[2] / vv->spacing[2];
	cen[0] = ext[0] / 2;
	cen[1] = ext[1] / 2;
	cen[2] = ext[2] / 2;
	if (cam->mode == VIEW_RENDER_BONE)
		for (i = 0; i < VR_LUT_N; i++)
			lut[i] = 1 - pow(1 - vr_alpha_mm(VR_LUT_LO + i), step);
	if (lb != NULL) {
		if (lb->lab == NULL || lb->nx != vv->nx || lb->ny != vv->ny ||
		    lb->nz != vv->nz) {
			errfmt(err, errlen, "labels not on the volume's grid");
			return -1;
		}
		for (i = 0; i < 256; i++)
			lal[i] = 1 - pow(1 - fmin(lb->alpha_mm[i], 0.999),
			    step);
	}
	for (j = 0; j < N; j++)
		for (i = 0; i < N; i++) {
			p = (i + 0.5 - N / 2.0) * pix;
			q = (N / 2.0 - j - 0.5) * pix;
			/* The ray's start, half the diagonal before the centre,
			 * in index units (z measured from the centre along the
			 * head axis, then to the index). */
			x = p * r[0] + q * u[0] - half * d[0];
			y = p * r[1] + q * u[1] - half * d[1];
			z = p * r[2] + q * u[2] - half * d[2];
			o[0] = (cen[0] + x) / vv->spacing[0];
			o[1] = (cen[1] + y) / vv->spacing[1];
			o[2] = (cen[2] + zs * z) / vv->spacing[2];
			/* Where it is inside [0, n - 1] on every axis. */
			t0 = 0;
			t1 = diag;
			hit = 1;
			for (ax = 0; ax < 3 && hit; ax++) {
				int	 n = ax == 0 ? vv->nx : ax == 1 ? vv->ny :
					    vv->nz;

				if (fabs(id[ax]) < 1e-12) {
					if (o[ax] < 0 || o[ax] > n - 1)
						hit = 0;
					continue;
				}
				ta = (0 - o[ax]) / id[ax];
				tb = (n - 1 - o[ax]) / id[ax];
				if (ta > tb) {
					s = ta;
					ta = tb;
					tb = s;
				}
				t0 = fmax(t0, ta);
				t1 = fmin(t1, tb);
				if (t0 > t1)
					hit = 0;
			}
			if (!hit) {
				if (lb != NULL)
					memset(rgb + ((size_t)j * N + i) * 3,
					    0, 3);
				else
					out[(size_t)j * N + i] =
					    cam->mode == VIEW_RENDER_MIP ?
					    NAN : 0;
				continue;
			}
			/* Samples on the grid k * step from the start. */
			k0 = (int)ceil(t0 / step - 1e-9);
			k1 = (int)floor(t1 / step + 1e-9);
			acc = A = 0;
			ac[0] = ac[1] = ac[2] = 0;
			best = -INFINITY;
			for (k = k0; k <= k1; k++) {
				s = k * step;
				x = fmin(fmax(o[0] + s * id[0], 0), vv->nx - 1);
				y = fmin(fmax(o[1] + s * id[1], 0), vv->ny - 1);
				z = fmin(fmax(o[2] + s * id[2], 0), vv->nz - 1);
				/* Empty space: a block where no value could
				 * add anything (Levoy, "Efficient ray tracing of
				 * volume data", ACM TOG 1990, with one level of
				 * blocks instead of his octree). */
				if (vv->bmax != NULL) {
					bi = ((size_t)((int)z / VIEW_BLOCK) *
					    (size_t)vv->by + (size_t)((int)y /
					    VIEW_BLOCK)) * (size_t)vv->bx +
					    (size_t)((int)x / VIEW_BLOCK);
					lo = vv->bmin[bi];
					hi = vv->bmax[bi];
					ctskip = cam->mode == VIEW_RENDER_BONE ?
					    hi < VR_BONE_FROM :
					    cam->mode == VIEW_RENDER_LUNG ?
					    hi < VR_LUNG_ISO - VR_LUNG_NEAR ||
					    lo > VR_LUNG_ISO + VR_LUNG_NEAR :
					    hi <= best;
					if (ctskip && (lb == NULL ||
					    (lb->bany != NULL &&
					    !lb->bany[bi])))
						continue;
				} else
					ctskip = 0;
				lab = 0;
				if (lb != NULL) {
					int	 ix = (int)(x + 0.5),
						 iy = (int)(y + 0.5),
						 iz = (int)(z + 0.5);

					lab = lb->lab[((size_t)iz * lb->ny +
					    (size_t)iy) * lb->nx + (size_t)ix];
					/* The region first, then the CT
					 * at the same place. */
					if (lab != 0 && lal[lab] > 0 &&
					    (vl_edge(lb, lab, ix, iy, iz,
					    vv->spacing, d, zs, &lsh) ||
					    !lb->shell[lab])) {
						al = lal[lab];
						for (c = 0; c < 3; c++)
							ac[c] += (1 - A) * al *
							    lsh * lb->rgb[lab][c];
						A += (1 - A) * al;
						if (A > VR_OPAQUE)
							break;
					}
					if (ctskip)
						continue;
				}
				v = vr_sample(vv, x, y, z);
				if (cam->mode == VIEW_RENDER_MIP) {
					if (v > best)
						best = v;
					continue;
				}
				if (cam->mode == VIEW_RENDER_LUNG) {
					if (fabs(v - VR_LUNG_ISO) > VR_LUNG_NEAR)
						continue;
					sh = vr_shade(vv, x, y, z, d, zs, &gm);
					if (gm < 1e-6 || fabs(v - VR_LUNG_ISO) >
					    VR_LUNG_R * gm)
						continue;
					al = VR_LUNG_ALPHA * (1 - fabs(v -
					    VR_LUNG_ISO) / (VR_LUNG_R * gm));
					al = 1 - pow(1 - al, step);
				} else {
					lv = (int)lrintf(v) - VR_LUT_LO;
					lv = lv < 0 ? 0 : lv >= VR_LUT_N ?
					    VR_LUT_N - 1 : lv;
					if ((al = lut[lv]) <= 0)
						continue;
					sh = vr_shade(vv, x, y, z, d, zs, &gm);
				}
				if (lb != NULL) {
					/* White, or tinted by the region
					 * it lies in. */
					tt = lab != 0 ? lb->tint[lab] : 0;
					for (c = 0; c < 3; c++) {
						col[c] = (1 - tt) + tt *
						    lb->rgb[lab][c];
						ac[c] += (1 - A) * al * sh *
						    col[c];
					}
				} else
					acc += (1 - A) * al * sh;
				A += (1 - A) * al;
				if (A > VR_OPAQUE)
					break;
			}
			if (lb != NULL) {
				/* MIP: the regions over the windowed
				 * maximum. */
				gy = 0;
				if (cam->mode == VIEW_RENDER_MIP && k1 >= k0) {
					float		 fb = (float)best;
					unsigned char	 g8;

					view_window8(&fb, 1, wc, ww, 0, &g8);
					gy = g8 / 255.0;
				}
				for (c = 0; c < 3; c++) {
					tt = 255 * (ac[c] + (1 - A) * gy);
					rgb[((size_t)j * N + i) * 3 + c] =
					    (unsigned char)(tt < 0 ? 0 :
					    tt > 255 ? 255 : tt + 0.5);
				}
				continue;
			}
			out[(size_t)j * N + i] = cam->mode == VIEW_RENDER_MIP ?
			    (k1 >= k0 ? (float)best : NAN) :
			    (float)(255 * acc);
		}
	if (info != NULL) {
		info->pixel_mm = pix;
		info->step_mm = step;
		info->steps = (int)(diag / step) + 1;
	}
	return 0;
}

int
view_render(const struct view_volume *vv, const struct view_camera *cam,
    float *out, struct view_render_info *info, char *err, size_t errlen)
{
	return vr_cast(vv, NULL, cam, 0, 1, out, NULL, info, err, errlen);
}

int
view_render_labels(const struct view_volume *vv,
    const struct view_labels *lb, const struct view_camera *cam, double wc,
    double ww, unsigned char *rgb, struct view_render_info *info, char *err,
    size_t errlen)
{
	if (lb == NULL || rgb == NULL) {
		errfmt(err, errlen, "no labels");
		return -1;
	}
	return vr_cast(vv, lb, cam, wc, ww, NULL, rgb, info, err, errlen);
}

/* ------------------------------------------------------------------ */
/* The regions of the readers over the planes and in 三维. */

void
view_labels_set(struct view_labels *lb, int l, const unsigned char rgb[3],
    int shell)
{
	int	 c;

	if (l < 1 || l > 255)
		return;
	for (c = 0; c < 3; c++)
		lb->rgb[l][c] = rgb[c] / 255.0f;
	lb->shell[l] = (unsigned char)(shell != 0);
	/* A shell: some light from its boundary, the CT inside it mostly
	 * its colour; a region: opaque within a couple of millimetres. */
	lb->alpha_mm[l] = shell ? 0.1f : 0.8f;
	lb->tint[l] = 0.7f;
	lb->tint2d[l] = shell ? 0.25f : 0.45f;
}

int
view_labels_blocks(struct view_labels *lb)
{
	size_t	 nb, o = 0;
	int	 bx, by, bz, x, y, z, a[3], b[3], i, j, k;

	bx = (lb->nx - 1) / VIEW_BLOCK + 1;
	by = (lb->ny - 1) / VIEW_BLOCK + 1;
	bz = (lb->nz - 1) / VIEW_BLOCK + 1;
	nb = (size_t)bx * (size_t)by * (size_t)bz;
	free(lb->bany);
	if ((lb->bany = calloc(nb, 1)) == NULL)
		return -1;
	for (z = 0; z < lb->nz; z++)
		for (y = 0; y < lb->ny; y++)
			for (x = 0; x < lb->nx; x++, o++) {
				if (lb->lab[o] == 0)
					continue;
				/* The blocks of every voxel within two of
				 * it: a sample's nearest voxel and the
				 * neighbours of its boundary test. */
				a[0] = (x - 2 < 0 ? 0 : x - 2) / VIEW_BLOCK;
				b[0] = (x + 2 >= lb->nx ? lb->nx - 1 : x + 2) /
				    VIEW_BLOCK;
				a[1] = (y - 2 < 0 ? 0 : y - 2) / VIEW_BLOCK;
				b[1] = (y + 2 >= lb->ny ? lb->ny - 1 : y + 2) /
				    VIEW_BLOCK;
				a[2] = (z - 2 < 0 ? 0 : z - 2) / VIEW_BLOCK;
				b[2] = (z + 2 >= lb->nz ? lb->nz - 1 : z + 2) /
				    VIEW_BLOCK;
				for (k = a[2]; k <= b[2]; k++)
					for (j = a[1]; j <= b[1]; j++)
						for (i = a[0]; i <= b[0]; i++)
							lb->bany[((size_t)k *
							    by + (size_t)j) *
							    bx + (size_t)i] = 1;
			}
	lb->bx = bx;
	lb->by = by;
	lb->bz = bz;
	return 0;
}

void
view_labels_clear(struct view_labels *lb)
{
	if (lb == NULL)
		return;
	free(lb->lab);
	free(lb->bany);
	memset(lb, 0, sizeof(*lb));
}

int
view_plane_labels(const struct view_labels *lb, int flip, enum view_plane p,
    int index, uint8_t *out, char *err, size_t errlen)
{
	const uint8_t	*src;
	size_t		 nx, sl;
	int		 w, h, n, r, c, z;

	switch (p) {
	case VIEW_AXIAL:
		w = lb->nx, h = lb->ny, n = lb->nz;
		break;
	case VIEW_CORONAL:
		w = lb->nx, h = lb->nz, n = lb->ny;
		break;
	case VIEW_SAGITTAL:
		w = lb->ny, h = lb->nz, n = lb->nx;
		break;
	default:
		errfmt(err, errlen, "unknown plane %d", (int)p);
		return -1;
	}
	if (index < 0 || index >= n) {
		errfmt(err, errlen, "%s labels %d outside 0..%d",
		    view_plane_names[p], index, n - 1);
		return -1;
	}
	nx = (size_t)lb->nx;
	sl = nx * (size_t)lb->ny;
	if (p == VIEW_AXIAL) {
		memcpy(out, lb->lab + sl * (size_t)index, sl);
		return 0;
	}
	for (r = 0; r < h; r++) {
		z = flip ? h - 1 - r : r;
		src = lb->lab + sl * (size_t)z;
		if (p == VIEW_CORONAL)
			memcpy(out + (size_t)r * w, src + nx * (size_t)index,
			    (size_t)w);
		else
			for (c = 0; c < w; c++)
				out[(size_t)r * w + c] =
				    src[nx * (size_t)c + (size_t)index];
	}
	return 0;
}

void
view_tint(const unsigned char *gray, const uint8_t *lab, int w, int h,
    const struct view_labels *lb, unsigned char *rgb)
{
	size_t	 o;
	double	 t, v;
	int	 x, y, l, c, edge;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			o = (size_t)y * w + x;
			l = lab[o];
			edge = l != 0 && ((x > 0 && lab[o - 1] != l) ||
			    (x < w - 1 && lab[o + 1] != l) ||
			    (y > 0 && lab[o - w] != l) ||
			    (y < h - 1 && lab[o + w] != l));
			t = l == 0 ? 0 : edge ? 1 : lb->tint2d[l];
			for (c = 0; c < 3; c++) {
				v = (1 - t) * gray[o] + t * 255 * lb->rgb[l][c];
				rgb[o * 3 + c] = (unsigned char)(v + 0.5);
			}
		}
}

int
view_jpeg_rgb(const unsigned char *rgb, int w, int h, int quality,
    struct buf *out)
{
	return view_jpeg_n(rgb, 3, w, h, quality, out);
}
