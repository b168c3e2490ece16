/*
 * plane.c - 2-D image operations of the film readers (plane.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plane.h"

void
plane_blur(const float *in, float *out, float *tmp, int w, int h,
    double sigma)
{
	float	 k[64];
	int	 r = (int)ceil(3 * sigma), x, y, i, j;
	double	 s = 0;

	if (r > 31)
		r = 31;
	for (i = -r; i <= r; i++)
		s += (k[i + r] = (float)exp(-0.5 * i * i / (sigma * sigma)));
	for (i = 0; i <= 2 * r; i++)
		k[i] = (float)(k[i] / s);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			float	 a = 0;

			for (i = -r; i <= r; i++) {
				j = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
				a += k[i + r] * in[(size_t)y * w + j];
			}
			tmp[(size_t)y * w + x] = a;
		}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			float	 a = 0;

			for (i = -r; i <= r; i++) {
				j = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
				a += k[i + r] * tmp[(size_t)j * w + x];
			}
			out[(size_t)y * w + x] = a;
		}
}

int
plane_components(const unsigned char *m, int want, int w, int h, int *lab,
    int *stack, size_t *size, int nsize)
{
	int	 n = 0, sp, p, q, x, y, d;
	size_t	 i, tot = (size_t)w * h;
	static const int dx[4] = { 1, -1, 0, 0 }, dy[4] = { 0, 0, 1, -1 };

	if (size == NULL)
		nsize = 0;
	memset(lab, 0, sizeof(*lab) * tot);
	for (i = 0; i < tot; i++) {
		if (m[i] != want || lab[i])
			continue;
		n++;
		if (n < nsize)
			size[n] = 0;
		sp = 0;
		stack[sp++] = (int)i;
		lab[i] = n;
		while (sp > 0) {
			p = stack[--sp];
			if (n < nsize)
				size[n]++;
			x = p % w;
			y = p / w;
			for (d = 0; d < 4; d++) {
				if (x + dx[d] < 0 || x + dx[d] >= w ||
				    y + dy[d] < 0 || y + dy[d] >= h)
					continue;
				q = p + dx[d] + dy[d] * w;
				if (m[q] == want && !lab[q]) {
					lab[q] = n;
					stack[sp++] = q;
				}
			}
		}
	}
	return n;
}

void
plane_area_average(const float *img, int stride, int x0, int y0, int fw,
    int fh, float *out, int w, int h)
{
	int	 x, y, i, j;

	for (y = 0; y < h; y++) {
		int	 ya = y0 + (int)(y * (double)fh / h),
			 yb = y0 + (int)((y + 1) * (double)fh / h);

		if (yb <= ya)
			yb = ya + 1;
		for (x = 0; x < w; x++) {
			int	 xa = x0 + (int)(x * (double)fw / w),
				 xb = x0 + (int)((x + 1) * (double)fw / w);
			double	 s = 0;

			if (xb <= xa)
				xb = xa + 1;
			for (j = ya; j < yb; j++)
				for (i = xa; i < xb; i++)
					s += img[(size_t)j * stride + i];
			out[(size_t)y * w + x] = (float)(s / ((double)(yb -
			    ya) * (xb - xa)));
		}
	}
}

double
plane_otsu(const float *v, const unsigned char *m, size_t n)
{
	double	 h[128] = { 0 }, tot = 0, sum = 0, sb = 0, wb = 0, best = -1,
		 t = 0.5, mb, mf, btw;
	size_t	 i;
	int	 b;

	for (i = 0; i < n; i++)
		if (m[i]) {
			b = (int)(v[i] * 128);
			h[b < 0 ? 0 : b > 127 ? 127 : b]++;
			tot++;
		}
	for (b = 0; b < 128; b++)
		sum += b * h[b];
	for (b = 0; b < 128; b++) {
		wb += h[b];
		if (wb == 0 || wb == tot)
			continue;
		sb += b * h[b];
		mb = sb / wb;
		mf = (sum - sb) / (tot - wb);
		btw = wb * (tot - wb) * (mb - mf) * (mb - mf);
		if (btw > best) {
			best = btw;
			t = (b + 1) / 128.0;
		}
	}
	return t;
}

unsigned char *
plane_border_labels(const int *lab, int ncomp, int w, int h)
{
	unsigned char	*edge;
	int		 x, y;

	if ((edge = calloc((size_t)ncomp + 1, 1)) == NULL)
		return NULL;
	for (x = 0; x < w; x++) {
		edge[lab[x]] = 1;
		edge[lab[(size_t)(h - 1) * w + x]] = 1;
	}
	for (y = 0; y < h; y++) {
		edge[lab[(size_t)y * w]] = 1;
		edge[lab[(size_t)y * w + w - 1]] = 1;
	}
	return edge;
}

int
plane_cmp_float(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}
