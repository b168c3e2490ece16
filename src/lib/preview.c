/*
 * preview.c - windowed 8-bit previews of a series, encoded as PNG.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "preview.h"
#include "voi.h"
#include "series.h"
#include "log.h"

#define PREVIEW_BINS	16384

const struct window_def preview_windows[WINDOW__MAX] = {
	{ "lung",	 "肺窗",	-600,	1500 },
	{ "mediastinum", "纵隔窗",	40,	400 },
	{ "bone",	 "骨窗",	400,	1800 },
	{ "auto",	 "自动",	NAN,	NAN },
};

int
preview_window_parse(const char *name)
{
	int	 i;

	for (i = 0; i < WINDOW__MAX; i++)
		if (strcmp(preview_windows[i].name, name) == 0)
			return i;
	return -1;
}

int
preview_window_percentile(const struct series_volume *v, int slice,
    double lo, double hi, double *center, double *width)
{
	const float	*p;
	size_t		*hist = NULL, n, i, cum, want_lo, want_hi;
	double		 vmin = INFINITY, vmax = -INFINITY, scale, plo, phi;
	size_t		 b;

	if (v == NULL || slice < 0 || slice >= v->nz || !(lo > 0) ||
	    !(hi > lo) || !(hi < 100))
		goto fail;
	n = (size_t)v->nx * (size_t)v->ny;
	p = v->vox + n * (size_t)slice;
	for (i = 0; i < n; i++)
		if (!isnan(p[i])) {
			vmin = fmin(vmin, p[i]);
			vmax = fmax(vmax, p[i]);
		}
	if (isinf(vmin)) {
		*center = 0;
		*width = 1;
		return 0;
	}
	if ((hist = calloc(PREVIEW_BINS, sizeof(*hist))) == NULL)
		goto fail;
	scale = vmax > vmin ? (PREVIEW_BINS - 1) / (vmax - vmin) : 0;
	for (i = n = 0; i < (size_t)v->nx * (size_t)v->ny; i++)
		if (!isnan(p[i])) {
			hist[(size_t)((p[i] - vmin) * scale)]++;
			n++;
		}
	want_lo = (size_t)(lo / 100 * (double)n);
	want_hi = (size_t)(hi / 100 * (double)n);
	plo = vmin;
	phi = vmax;
	for (b = 0, cum = 0; b < PREVIEW_BINS; b++) {
		if (cum <= want_lo && cum + hist[b] > want_lo)
			plo = vmin + (double)b / (scale > 0 ? scale : 1);
		if (cum <= want_hi && cum + hist[b] > want_hi)
			phi = vmin + (b + 1.0) / (scale > 0 ? scale : 1);
		cum += hist[b];
	}
	phi = fmin(phi, vmax);
	free(hist);
	*center = (plo + phi) / 2;
	*width = fmax(phi - plo, 1);
	return 0;
fail:
	free(hist);
	return -1;
}

int
preview_window(const struct series_volume *v, int slice,
    enum window_preset preset, double *center, double *width)
{
	if (v == NULL || slice < 0 || slice >= v->nz || (int)preset < 0 ||
	    preset >= WINDOW__MAX)
		return -1;
	if (preset != WINDOW_AUTO) {
		*center = preview_windows[preset].center;
		*width = preview_windows[preset].width;
		return 0;
	}
	if (isfinite(v->window_center) && isfinite(v->window_width) &&
	    v->window_width >= 1) {
		*center = v->window_center;
		*width = v->window_width;
		return 0;
	}
	return preview_window_percentile(v, slice, 1, 99, center, width);
}

static unsigned char
preview_byte(float y)
{
	if (!(y > 0))
		return 0;
	if (y >= 255)
		return 255;
	return (unsigned char)(y + 0.5f);
}

/*
 * Shrink n samples at in (stride istride) to m (m <= n) at out (stride
 * ostride) by averaging the area each output sample covers.
 */
static void
preview_shrink(const float *in, size_t istride, int n, float *out,
    size_t ostride, int m)
{
	double	 f = (double)n / m, x0, x1, acc, cover;
	int	 o, x;

	for (o = 0; o < m; o++) {
		x0 = o * f;
		x1 = (o + 1) * f;
		acc = 0;
		for (x = (int)x0; x < n && x < x1; x++) {
			cover = fmin(x + 1, x1) - fmax(x, x0);
			acc += cover * in[(size_t)x * istride];
		}
		out[(size_t)o * ostride] = (float)(acc / f);
	}
}

int
preview_render(const struct series_volume *v, int slice, double center,
    double width, int max_edge, unsigned char **pix, int *pw, int *ph,
    char *err, size_t errlen)
{
	struct voi	 voi;

	memset(&voi, 0, sizeof(voi));
	voi.center = center;
	voi.width = width;
	voi.fn = VOI_FN_LINEAR;
	voi.invert = v != NULL && v->invert_for_display;
	if (v != NULL && pix != NULL && (!isfinite(center) ||
	    !isfinite(width) || width < 1)) {
		*pix = NULL;
		errfmt(err, errlen, "bad window %g/%g", center, width);
		return -1;
	}
	return preview_render_voi(v, slice, &voi, max_edge, pix, pw, ph, err,
	    errlen);
}

int
preview_voi_of_file(const struct series_volume *v, struct voi *voi)
{
	int	 fn;

	memset(voi, 0, sizeof(*voi));
	voi->invert = v->invert_for_display;
	if (v->voi_lut.n > 0) {
		voi->lut = &v->voi_lut;
		return 0;
	}
	if ((fn = voi_function_parse(v->voi_function)) < 0)
		return -1;
	voi->fn = (enum voi_function)fn;
	voi->center = v->window_center;
	voi->width = v->window_width;
	return voi_check(voi, NULL, 0);
}

int
preview_render_voi(const struct series_volume *v, int slice,
    const struct voi *voi, int max_edge, unsigned char **pix, int *pw,
    int *ph, char *err, size_t errlen)
{
	const float	*src;
	float		*row = NULL, *tmp = NULL, *col = NULL, *cout = NULL;
	unsigned char	*img = NULL;
	int		 nx, ny, ow, oh, x, y, edge;
	double		 scale = 1;

	if (pix != NULL)
		*pix = NULL;
	if (v == NULL || pix == NULL || pw == NULL || ph == NULL) {
		errfmt(err, errlen, "no volume");
		goto fail;
	}
	if (slice < 0 || slice >= v->nz) {
		errfmt(err, errlen, "slice %d outside 0..%d", slice,
		    v->nz - 1);
		goto fail;
	}
	if (voi_check(voi, err, errlen) == -1)
		goto fail;
	nx = v->nx;
	ny = v->ny;
	edge = nx > ny ? nx : ny;
	if (max_edge > 0 && edge > max_edge)
		scale = (double)max_edge / edge;
	ow = (int)lround(nx * scale);
	oh = (int)lround(ny * scale);
	ow = ow < 1 ? 1 : ow;
	oh = oh < 1 ? 1 : oh;
	src = v->vox + (size_t)nx * (size_t)ny * (size_t)slice;

	if ((img = malloc((size_t)ow * (size_t)oh)) == NULL ||
	    (row = malloc((size_t)nx * sizeof(*row))) == NULL ||
	    (tmp = malloc((size_t)ow * (size_t)ny * sizeof(*tmp))) == NULL ||
	    (col = malloc((size_t)ny * sizeof(*col))) == NULL ||
	    (cout = malloc((size_t)oh * sizeof(*cout))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto fail;
	}
	/* Window each row, shrink it across, then shrink each column. */
	for (y = 0; y < ny; y++) {
		for (x = 0; x < nx; x++)
			row[x] = (float)(voi_value(voi, src[(size_t)y * nx +
			    x]) * 255);
		if (ow == nx)
			memcpy(tmp + (size_t)y * ow, row, (size_t)nx *
			    sizeof(*row));
		else
			preview_shrink(row, 1, nx, tmp + (size_t)y * ow, 1,
			    ow);
	}
	for (x = 0; x < ow; x++) {
		if (oh == ny) {
			for (y = 0; y < oh; y++)
				img[(size_t)y * ow + x] =
				    preview_byte(tmp[(size_t)y * ow + x]);
			continue;
		}
		for (y = 0; y < ny; y++)
			col[y] = tmp[(size_t)y * ow + x];
		preview_shrink(col, 1, ny, cout, 1, oh);
		for (y = 0; y < oh; y++)
			img[(size_t)y * ow + x] = preview_byte(cout[y]);
	}
	free(row);
	free(tmp);
	free(col);
	free(cout);
	*pix = img;
	*pw = ow;
	*ph = oh;
	return 0;
fail:
	free(row);
	free(tmp);
	free(col);
	free(cout);
	free(img);
	return -1;
}

static void
png_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Append one chunk: length, type, data, CRC of type and data. */
static int
png_chunk(struct buf *out, const char *type, const unsigned char *data,
    size_t len)
{
	unsigned char	 hdr[8], crc[4];
	uLong		 c;

	if (len > 0x7fffffff)
		return -1;
	png_be32(hdr, (uint32_t)len);
	memcpy(hdr + 4, type, 4);
	c = crc32(0L, Z_NULL, 0);
	c = crc32(c, hdr + 4, 4);
	if (len > 0)
		c = crc32(c, data, (uInt)len);
	png_be32(crc, (uint32_t)c);
	if (buf_append(out, hdr, 8) == -1 ||
	    (len > 0 && buf_append(out, data, len) == -1) ||
	    buf_append(out, crc, 4) == -1)
		return -1;
	return 0;
}

static int
png_paeth(int a, int b, int c)
{
	int	 p = a + b - c, pa = abs(p - a), pb = abs(p - b);
	int	 pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/*
 * Filter row y of a w-pixel grayscale image into dst (1 + w bytes),
 * picking the filter with the smallest sum of absolute differences, the
 * heuristic the PNG specification suggests.
 */
static void
png_filter_row(const unsigned char *img, int w, int y, unsigned char *dst,
    unsigned char *trial)
{
	const unsigned char	*cur = img + (size_t)y * w;
	const unsigned char	*up = y > 0 ? cur - w : NULL;
	unsigned long		 best = ULONG_MAX, sum;
	int			 f, x, a, b, c, r;

	for (f = 0; f < 5; f++) {
		sum = 0;
		for (x = 0; x < w; x++) {
			a = x > 0 ? cur[x - 1] : 0;
			b = up != NULL ? up[x] : 0;
			c = x > 0 && up != NULL ? up[x - 1] : 0;
			switch (f) {
			case 0:
				r = cur[x];
				break;
			case 1:
				r = cur[x] - a;
				break;
			case 2:
				r = cur[x] - b;
				break;
			case 3:
				r = cur[x] - (a + b) / 2;
				break;
			default:
				r = cur[x] - png_paeth(a, b, c);
				break;
			}
			trial[x] = (unsigned char)r;
			sum += (unsigned long)abs((signed char)trial[x]);
		}
		if (sum < best) {
			best = sum;
			dst[0] = (unsigned char)f;
			memcpy(dst + 1, trial, (size_t)w);
		}
	}
}

int
preview_png_encode(const unsigned char *gray, int w, int h, struct buf *out)
{
	static const unsigned char sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	unsigned char	 ihdr[13], *raw = NULL, *z = NULL, *trial = NULL;
	size_t		 start = out->len, rawlen, stride;
	uLongf		 zlen;
	int		 y;

	if (gray == NULL || w <= 0 || h <= 0 || w > 0x7fffffff - 1)
		goto fail;
	stride = (size_t)w + 1;
	if ((size_t)h > SIZE_MAX / stride)
		goto fail;
	rawlen = stride * (size_t)h;
	if (rawlen > ULONG_MAX / 2)
		goto fail;
	zlen = compressBound((uLong)rawlen);
	if ((raw = malloc(rawlen)) == NULL || (z = malloc(zlen)) == NULL ||
	    (trial = malloc((size_t)w)) == NULL)
		goto fail;
	for (y = 0; y < h; y++)
		png_filter_row(gray, w, y, raw + (size_t)y * stride, trial);
	if (compress2(z, &zlen, raw, (uLong)rawlen, 6) != Z_OK)
		goto fail;

	png_be32(ihdr, (uint32_t)w);
	png_be32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;		/* bit depth */
	ihdr[9] = 0;		/* grayscale */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;	/* deflate, adaptive, none */
	if (buf_append(out, sig, sizeof(sig)) == -1 ||
	    png_chunk(out, "IHDR", ihdr, sizeof(ihdr)) == -1 ||
	    png_chunk(out, "IDAT", z, zlen) == -1 ||
	    png_chunk(out, "IEND", NULL, 0) == -1)
		goto fail;
	free(raw);
	free(z);
	free(trial);
	return 0;
fail:
	if (out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	free(raw);
	free(z);
	free(trial);
	return -1;
}

int
preview_png_encode_rgb(const unsigned char *rgb, int w, int h,
    struct buf *out)
{
	static const unsigned char sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	unsigned char	 ihdr[13], *raw = NULL, *z = NULL;
	size_t		 start = out->len, rawlen, stride;
	uLongf		 zlen;
	int		 y;

	if (rgb == NULL || w <= 0 || h <= 0 || w > (0x7fffffff - 1) / 3)
		goto fail;
	stride = (size_t)w * 3 + 1;
	if ((size_t)h > SIZE_MAX / stride)
		goto fail;
	rawlen = stride * (size_t)h;
	if (rawlen > ULONG_MAX / 2)
		goto fail;
	zlen = compressBound((uLong)rawlen);
	if ((raw = malloc(rawlen)) == NULL || (z = malloc(zlen)) == NULL)
		goto fail;
	for (y = 0; y < h; y++) {
		raw[(size_t)y * stride] = 0;	/* filter: none */
		memcpy(raw + (size_t)y * stride + 1, rgb + (size_t)y * w * 3,
		    (size_t)w * 3);
	}
	if (compress2(z, &zlen, raw, (uLong)rawlen, 6) != Z_OK)
		goto fail;
	png_be32(ihdr, (uint32_t)w);
	png_be32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;		/* bit depth */
	ihdr[9] = 2;		/* truecolour */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	if (buf_append(out, sig, sizeof(sig)) == -1 ||
	    png_chunk(out, "IHDR", ihdr, sizeof(ihdr)) == -1 ||
	    png_chunk(out, "IDAT", z, zlen) == -1 ||
	    png_chunk(out, "IEND", NULL, 0) == -1)
		goto fail;
	free(raw);
	free(z);
	return 0;
fail:
	if (out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	free(raw);
	free(z);
	return -1;
}

int
preview_png(const struct series_volume *v, int slice, double center,
    double width, int max_edge, struct buf *out, char *err, size_t errlen)
{
	struct voi	 voi;

	memset(&voi, 0, sizeof(voi));
	voi.center = center;
	voi.width = width;
	voi.fn = VOI_FN_LINEAR;
	voi.invert = v != NULL && v->invert_for_display;
	return preview_png_voi(v, slice, &voi, max_edge, out, err, errlen);
}

int
preview_png_voi(const struct series_volume *v, int slice,
    const struct voi *voi, int max_edge, struct buf *out, char *err,
    size_t errlen)
{
	unsigned char	*pix = NULL;
	int		 w, h;

	if (preview_render_voi(v, slice, voi, max_edge, &pix, &w, &h,
	    err, errlen) == -1)
		goto fail;
	if (preview_png_encode(pix, w, h, out) == -1) {
		errfmt(err, errlen, "PNG encoding failed (memory or "
		    "buffer cap)");
		goto fail;
	}
	free(pix);
	return 0;
fail:
	free(pix);
	return -1;
}

int
preview_png_file(const struct series_volume *v, int slice, double center,
    double width, int max_edge, const char *path, char *err, size_t errlen)
{
	struct buf	 b;
	char		 tmp[4096];
	FILE		*fp;
	int		 made = 0, bad;

	buf_init(&b, 0);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errfmt(err, errlen, "path too long");
		goto fail;
	}
	if (preview_png(v, slice, center, width, max_edge, &b, err,
	    errlen) == -1)
		goto fail;
	if ((fp = fopen(tmp, "wb")) == NULL) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	made = 1;
	bad = fwrite(b.data, 1, b.len, fp) != b.len;
	if (fclose(fp) == EOF || bad) {
		errfmt(err, errlen, "%s: write failed", tmp);
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	buf_free(&b);
	return 0;
fail:
	if (made)
		(void)remove(tmp);
	buf_free(&b);
	return -1;
}
