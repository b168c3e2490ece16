/*
 * film.c - a radiograph as the 2-D image a viewer shows (film.h).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom.h"
#include "film.h"
#include "series.h"
#include "voi.h"

const char *const film_view_zh[FILM_VIEW__MAX] = {
	"未知", "正位", "侧位", "斜位或侧卧位"
};

const char *const film_view_names[FILM_VIEW__MAX] = {
	"unknown", "frontal", "lateral", "oblique or decubitus"
};

const char *const film_from_names[FILM_FROM__MAX] = {
	"nothing", "the tags", "the descriptions", "the exam part", "the image"
};

const char *const film_from_zh[FILM_FROM__MAX] = {
	"无", "DICOM标签", "序列描述", "申请单检查部位", "图像"
};

static void
errfmt_(char *err, size_t errlen, const char *s)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", s);
}

static void
note(struct film *f, const char *s)
{
	size_t	 n = strlen(f->notes);

	(void)snprintf(f->notes + n, sizeof(f->notes) - n, "%s%s",
	    n ? "；" : "", s);
}

static int
cmp_float(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* The p and q quantiles (0..1) of the values of the rectangle, from a
 * sample of at most 65536 of them. */
static void
quantiles(const float *v, int nx, int x0, int y0, int x1, int y1, double p,
    double q, double *lo, double *hi)
{
	size_t	 n = (size_t)(x1 - x0 + 1) * (size_t)(y1 - y0 + 1), m = 0;
	size_t	 step = n / 65536 + 1, k = 0;
	float	*s;
	int	 x, y;

	*lo = 0;
	*hi = 1;
	if ((s = malloc(sizeof(*s) * (n / step + 1))) == NULL)
		return;
	for (y = y0; y <= y1; y++)
		for (x = x0; x <= x1; x++, k++)
			if (k % step == 0 && isfinite(v[(size_t)y * nx + x]))
				s[m++] = v[(size_t)y * nx + x];
	if (m > 0) {
		qsort(s, m, sizeof(*s), cmp_float);
		*lo = s[(size_t)(p * (double)(m - 1))];
		*hi = s[(size_t)(q * (double)(m - 1))];
	}
	free(s);
}

/*
 * Whether the n values at v, stride apart, are a flat border line: 85 %
 * of them in the most common of 32 bins and its neighbours, that bin
 * black (below 0.15) or white (above 0.85): an unexposed or blocked
 * band, where burned-in letters take only a few pixels.
 */
static int
flat_line(const float *v, int n, size_t stride)
{
	int	 h[32] = { 0 }, i, b, best = 0, c;

	for (i = 0; i < n; i++) {
		b = (int)(v[(size_t)i * stride] * 32.0f);
		h[b < 0 ? 0 : b > 31 ? 31 : b]++;
	}
	for (i = 1; i < 32; i++)
		if (h[i] > h[best])
			best = i;
	if (best > 4 && best < 27)
		return 0;
	c = h[best] + (best > 0 ? h[best - 1] : 0) +
	    (best < 31 ? h[best + 1] : 0);
	return c >= 0.85 * n;
}

/* The exposed field inside flat border bands, at most a third of the
 * film from each edge. */
static void
find_field(struct film *f)
{
	int	 x0 = 0, y0 = 0, x1 = f->nx - 1, y1 = f->ny - 1;

	while (y0 < f->ny / 3 && flat_line(f->img + (size_t)y0 * f->nx,
	    f->nx, 1))
		y0++;
	while (y1 > f->ny - 1 - f->ny / 3 && flat_line(f->img +
	    (size_t)y1 * f->nx, f->nx, 1))
		y1--;
	while (x0 < f->nx / 3 && flat_line(f->img + (size_t)y0 * f->nx + x0,
	    y1 - y0 + 1, (size_t)f->nx))
		x0++;
	while (x1 > f->nx - 1 - f->nx / 3 && flat_line(f->img +
	    (size_t)y0 * f->nx + x1, y1 - y0 + 1, (size_t)f->nx))
		x1--;
	f->field[0] = x0;
	f->field[1] = y0;
	f->field[2] = x1;
	f->field[3] = y1;
}

/* Whether upper-cased s holds word w. */
static int
has_word(const char *s, const char *w)
{
	char	 up[600];
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	up[i] = '\0';
	return strstr(up, w) != NULL;
}

/* The side a description names: 'R' or 'L' when it names one side
 * only (右/左 before a part, RIGHT/LEFT as words), else 0. */
static int
side_of_text(const char *s)
{
	int	 r, l;

	if (s == NULL || *s == '\0')
		return 0;
	r = has_word(s, "RIGHT") || strstr(s, "右") != NULL;
	l = has_word(s, "LEFT") || strstr(s, "左") != NULL;
	return r && !l ? 'R' : l && !r ? 'L' : 0;
}

/* The view a text names (a View Position code when code is set). */
static enum film_view
view_of_text(const char *s, int code)
{
	if (s == NULL || *s == '\0')
		return FILM_VIEW_UNKNOWN;
	if (code) {
		if (strcmp(s, "PA") == 0 || strcmp(s, "AP") == 0)
			return FILM_VIEW_FRONTAL;
		if (strcmp(s, "LL") == 0 || strcmp(s, "RL") == 0 ||
		    strcmp(s, "LAT") == 0 || strcmp(s, "LATERAL") == 0)
			return FILM_VIEW_LATERAL;
		if (strcmp(s, "LLO") == 0 || strcmp(s, "RLO") == 0 ||
		    strcmp(s, "LLD") == 0 || strcmp(s, "RLD") == 0)
			return FILM_VIEW_OTHER;
		return FILM_VIEW_UNKNOWN;
	}
	if (strstr(s, "侧卧位") != NULL || strstr(s, "斜位") != NULL ||
	    has_word(s, "OBLIQUE") || has_word(s, "DECUBITUS"))
		return FILM_VIEW_OTHER;
	if (strstr(s, "侧位") != NULL || has_word(s, "LAT"))
		return FILM_VIEW_LATERAL;
	if (strstr(s, "正位") != NULL || has_word(s, " PA") ||
	    has_word(s, "PA ") || has_word(s, " AP") || has_word(s, "AP ") ||
	    has_word(s, "FRONTAL") || strcmp(s, "PA") == 0 ||
	    strcmp(s, "AP") == 0)
		return FILM_VIEW_FRONTAL;
	return FILM_VIEW_UNKNOWN;
}

enum film_view
film_view_of_image(const struct film *f, double *contrast)
{
	int	 x0 = f->field[0], y0 = f->field[1], x1 = f->field[2],
		 y1 = f->field[3], w = x1 - x0 + 1, h = y1 - y0 + 1, x, y, i,
		 r;
	double	*p, *s, mid = -1, l = 2, rr = 2, c;

	if (contrast != NULL)
		*contrast = NAN;
	if (w < 32 || h < 32 || (p = calloc((size_t)w * 2,
	    sizeof(*p))) == NULL)
		return FILM_VIEW_UNKNOWN;
	s = p + w;
	/* The mean of each column over the middle of the chest. */
	for (y = y0 + h / 4; y <= y0 + (h * 13) / 20; y++)
		for (x = 0; x < w; x++)
			p[x] += f->img[(size_t)y * f->nx + x0 + x];
	r = w / 40 + 1;
	for (x = 0; x < w; x++) {
		double	 a = 0;
		int	 n = 0;

		for (i = x - r; i <= x + r; i++)
			if (i >= 0 && i < w) {
				a += p[i];
				n++;
			}
		s[x] = a / n / (h * 13 / 20 - h / 4 + 1);
	}
	for (x = (w * 35) / 100; x <= (w * 65) / 100; x++)
		mid = s[x] > mid ? s[x] : mid;
	for (x = w / 10; x <= (w * 40) / 100; x++)
		l = s[x] < l ? s[x] : l;
	for (x = (w * 60) / 100; x <= (w * 90) / 100; x++)
		rr = s[x] < rr ? s[x] : rr;
	free(p);
	c = mid - (l > rr ? l : rr);
	if (contrast != NULL)
		*contrast = c;
	return c >= 0.05 ? FILM_VIEW_FRONTAL : c < 0.02 ? FILM_VIEW_LATERAL :
	    FILM_VIEW_UNKNOWN;
}

int
film_from_values(const float *vals, int nx, int ny,
    const struct film_tags *t, struct film **out, char *err, size_t errlen)
{
	struct film	*f;
	struct voi	 voi;
	double		 c, w, lo, hi;
	size_t		 n;
	enum film_view	 v;
	int		 fn;

	*out = NULL;
	if (nx < 32 || ny < 32) {
		errfmt_(err, errlen, "the image is too small for a film");
		return -1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->img = malloc(sizeof(float) * (size_t)nx * ny)) == NULL) {
		free(f);
		errfmt_(err, errlen, "out of memory");
		return -1;
	}
	f->nx = nx;
	f->ny = ny;
	n = (size_t)nx * ny;
#define S(dst, src) (void)snprintf(dst, sizeof(dst), "%s", \
	(src) != NULL ? (src) : "")
	S(f->modality, t->modality);
	S(f->body_part, t->body_part);
	S(f->exam_part, t->exam_part);
	S(f->description, t->description);
#undef S
	/* The VOI transform (voi.h): the file's VOI LUT, else its window
	 * through its function, else the 0.5-99.5 % range of the middle of
	 * the film, linear. */
	memset(&voi, 0, sizeof(voi));
	voi.invert = f->inverted = t->photometric != NULL &&
	    strcmp(t->photometric, "MONOCHROME1") == 0;
	fn = voi_function_parse(t->voi_function);
	c = t->window_center;
	w = t->window_width;
	if (t->voi_lut != NULL && t->voi_lut->n > 0) {
		voi.lut = t->voi_lut;
		voi_lut_window(t->voi_lut, &c, &w);
		f->window_from_file = f->voi_from_lut = 1;
	} else if (fn < 0) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "unknown VOI LUT Function "
			    "\"%s\"", t->voi_function);
		goto fail;
	} else if (isfinite(c) && isfinite(w) && (fn == VOI_FN_LINEAR ?
	    w >= 1 : w > 0)) {
		voi.fn = (enum voi_function)fn;
		f->window_from_file = 1;
	} else {
		quantiles(vals, nx, nx / 10, ny / 10, nx - 1 - nx / 10,
		    ny - 1 - ny / 10, 0.005, 0.995, &lo, &hi);
		if (hi - lo < 1e-6)
			hi = lo + 1;
		w = hi - lo + 1;
		c = lo + 0.5 + (w - 1) / 2;
		voi.fn = VOI_FN_LINEAR;
		note(f, "文件未提供窗宽窗位，按图像灰度范围（0.5%–99.5%）显示");
	}
	voi.center = f->window_center = c;
	voi.width = f->window_width = w;
	if (voi_check(&voi, err, errlen) == -1)
		goto fail;
	voi_apply(&voi, vals, n, f->img);
	/* The pixel size: its absence is stated, never assumed. */
	f->spacing_source = t->spacing_source;
	if (t->spacing_source != 0 && t->pixel_spacing[0] > 0 &&
	    t->pixel_spacing[1] > 0) {
		f->spacing[0] = t->pixel_spacing[1];
		f->spacing[1] = t->pixel_spacing[0];
	} else {
		f->spacing_source = 0;
		note(f, "未提供像素间距（Imager Pixel Spacing/Pixel Spacing），"
		    "不给出毫米尺寸");
	}
	find_field(f);
	/* The side: the laterality tags, else the descriptions' words. */
	if (t->laterality != NULL && (strcmp(t->laterality, "R") == 0 ||
	    strcmp(t->laterality, "L") == 0)) {
		f->side = t->laterality[0];
		f->side_from = FILM_FROM_TAGS;
	} else if ((f->side = side_of_text(t->description)) != 0)
		f->side_from = FILM_FROM_TEXT;
	/* The view: View Position, then the descriptions, then the
	 * application's 检查部位, then the image. */
	if ((v = view_of_text(t->view_position, 1)) != FILM_VIEW_UNKNOWN)
		f->view_from = FILM_FROM_TAGS;
	else if ((v = view_of_text(t->description, 0)) != FILM_VIEW_UNKNOWN)
		f->view_from = FILM_FROM_TEXT;
	else if ((v = view_of_text(t->exam_part, 0)) != FILM_VIEW_UNKNOWN)
		f->view_from = FILM_FROM_EXAM;
	f->view = v;
	if (v == FILM_VIEW_UNKNOWN) {
		f->view = film_view_of_image(f, &f->midline_contrast);
		f->view_from = f->view == FILM_VIEW_UNKNOWN ? FILM_FROM_NONE :
		    FILM_FROM_IMAGE;
	} else
		(void)film_view_of_image(f, &f->midline_contrast);
	*out = f;
	return 0;
fail:
	film_free(f);
	return -1;
}

/* The film tags of info (whose strings it points into). */
static void
tags_of_info(const struct dcm_info *in, const char *exam_part, char *desc,
    size_t dsz, struct film_tags *t)
{
	memset(t, 0, sizeof(*t));
	t->modality = in->modality;
	t->photometric = in->photometric;
	t->window_center = in->window_center;
	t->window_width = in->window_width;
	t->voi_function = in->voi_function;
	t->pixel_spacing[0] = in->pixel_spacing[0];
	t->pixel_spacing[1] = in->pixel_spacing[1];
	t->spacing_source = in->pixel_spacing_source;
	t->view_position = in->view_position;
	t->laterality = in->laterality;
	t->body_part = in->body_part;
	(void)snprintf(desc, dsz, "%s %s", in->series_description,
	    in->study_description);
	t->description = desc;
	t->exam_part = exam_part;
}

int
film_load(const char *path, const char *exam_part, struct film **out,
    char *err, size_t errlen)
{
	struct dcm_info	 in;
	struct dcm_lut_table lut;
	struct film_tags t;
	float		*vals = NULL;
	char		 desc[600];
	int		 rc;

	*out = NULL;
	memset(&lut, 0, sizeof(lut));
	if (dcm_read_frame(path, NULL, 0, &vals, &in, err, errlen) == -1)
		return -1;
	tags_of_info(&in, exam_part, desc, sizeof(desc), &t);
	/* The first VOI LUT, the one a viewer shows by default. */
	if (in.voi_luts > 0 && dcm_read_voi_lut(path, NULL, 0, &lut, err,
	    errlen) == -1) {
		free(vals);
		return -1;
	}
	t.voi_lut = lut.n > 0 ? &lut : NULL;
	rc = film_from_values(vals, in.cols, in.rows, &t, out, err, errlen);
	free(vals);
	dcm_lut_table_free(&lut);
	return rc;
}

int
film_from_volume(const struct series_volume *v, struct film **f, char *err,
    size_t errlen)
{
	struct film_tags	 t;
	char			 desc[600];

	memset(&t, 0, sizeof(t));
	t.modality = v->modality;
	t.photometric = v->photometric;
	t.window_center = v->window_center;
	t.window_width = v->window_width;
	t.voi_function = v->voi_function;
	t.voi_lut = v->voi_lut.n > 0 ? &v->voi_lut : NULL;
	if (series_warn_find(v, SERIES_WARN_NO_PIXEL_SPACING) == NULL &&
	    v->spacing[0] > 0 && v->spacing[1] > 0) {
		t.pixel_spacing[0] = v->spacing[1];
		t.pixel_spacing[1] = v->spacing[0];
		t.spacing_source = 1;
	}
	(void)snprintf(desc, sizeof(desc), "%s %s", v->description,
	    v->study_description);
	t.description = desc;
	return film_from_values(v->vox, v->nx, v->ny, &t, f, err, errlen);
}

void
film_spacing_zh(const struct film *f, char *b, size_t sz)
{
	if (f->spacing_source == 0)
		(void)snprintf(b, sz, "图像未提供像素间距，不给出毫米尺寸");
	else
		(void)snprintf(b, sz, "像素间距 %.3g×%.3g mm（%s）",
		    f->spacing[0], f->spacing[1], f->spacing_source ==
		    DCM_SPACING_IMAGER ? "Imager Pixel Spacing" :
		    "Pixel Spacing");
}

void
film_free(struct film *f)
{
	if (f == NULL)
		return;
	free(f->img);
	free(f);
}
