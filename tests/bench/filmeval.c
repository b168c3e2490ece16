/*
 * filmeval.c - what tbeval and limbeval share (filmeval.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "film.h"
#include "filmeval.h"
#include "preview.h"

double
fe_now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rng = 0x2545f4914f6cdd1dULL;

int
fe_rnd(int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int)((rng >> 11) % (unsigned long long)n);
}

int
fe_cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
fe_read_boxes(const char *path, const char *cls, struct fe_box *b, int max)
{
	FILE	*fp;
	char	 line[512], c[64];
	int	 n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL && n < max) {
		if (strncmp(line, "file,", 5) == 0)
			continue;
		if (sscanf(line, "%31[^,],%63[^,],%lf,%lf,%lf,%lf", b[n].file,
		    c, &b[n].x0, &b[n].y0, &b[n].x1, &b[n].y1) == 6 &&
		    (cls == NULL || strcmp(c, cls) == 0))
			n++;
	}
	(void)fclose(fp);
	return n;
}

double
fe_iou(int x0, int y0, int x1, int y1, const struct fe_box *b)
{
	double	 ix = fmin(x1 + 1, b->x1) - fmax(x0, b->x0);
	double	 iy = fmin(y1 + 1, b->y1) - fmax(y0, b->y0);
	double	 i, u;

	if (ix <= 0 || iy <= 0)
		return 0;
	i = ix * iy;
	u = (double)(x1 + 1 - x0) * (y1 + 1 - y0) +
	    (b->x1 - b->x0) * (b->y1 - b->y0) - i;
	return i / u;
}

void
fe_draw_box(unsigned char *g, int w, int h, int x0, int y0, int x1, int y1,
    int dashed)
{
	int	 x, y, t;

	for (t = 0; t < 2; t++)
		for (x = x0; x <= x1; x++)
			for (y = (t ? y1 : y0) - 1; y <= (t ? y1 : y0) + 1;
			    y++)
				if (x >= 0 && x < w && y >= 0 && y < h &&
				    (!dashed || (x / 6) % 2))
					g[(size_t)y * w + x] = 255;
	for (t = 0; t < 2; t++)
		for (y = y0; y <= y1; y++)
			for (x = (t ? x1 : x0) - 1; x <= (t ? x1 : x0) + 1;
			    x++)
				if (x >= 0 && x < w && y >= 0 && y < h &&
				    (!dashed || (y / 6) % 2))
					g[(size_t)y * w + x] = 255;
}

void
fe_draw_outline(unsigned char *g, const struct film *f,
    const unsigned char *mask, int mw, int mh, double scale, int value)
{
	size_t	 k;
	int	 x, y, wx, wy;

	if (mask == NULL)
		return;
	for (y = 0; y < f->ny; y++)
		for (x = 0; x < f->nx; x++) {
			wx = (int)((x - f->field[0]) / scale);
			wy = (int)((y - f->field[1]) / scale);
			if (wx < 1 || wy < 1 || wx >= mw - 1 || wy >= mh - 1)
				continue;
			k = (size_t)wy * mw + wx;
			if (mask[k] && (!mask[k - 1] || !mask[k + 1] ||
			    !mask[k - mw] || !mask[k + mw]))
				g[(size_t)y * f->nx + x] = value >= 0 ?
				    (unsigned char)value : (x + y) % 4 < 2 ?
				    255 : 0;
		}
}

void
fe_draw_truth(unsigned char *g, const struct film *f,
    const struct fe_box *tb, int ntb, const char *name)
{
	int	 i;

	for (i = 0; i < ntb; i++)
		if (strcmp(tb[i].file, name) == 0)
			fe_draw_box(g, f->nx, f->ny, (int)tb[i].x0,
			    (int)tb[i].y0, (int)tb[i].x1, (int)tb[i].y1, 1);
}

int
fe_write_png(const char *path, const unsigned char *g, int w, int h)
{
	struct buf	 b;
	FILE		*fp;
	int		 rc = -1;

	buf_init(&b, (size_t)w * h + (1 << 16));
	if (preview_png_encode(g, w, h, &b) == 0 &&
	    (fp = fopen(path, "wb")) != NULL) {
		if (fwrite(b.data, 1, b.len, fp) == b.len)
			rc = 0;
		if (fclose(fp) != 0)
			rc = -1;
	}
	buf_free(&b);
	return rc;
}
