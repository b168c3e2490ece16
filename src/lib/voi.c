/*
 * voi.c - the VOI transform and polarity of a film (voi.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "voi.h"

const char *const voi_function_names[VOI_FN__MAX] = {
	"LINEAR", "LINEAR_EXACT", "SIGMOID"
};

int
voi_function_parse(const char *s)
{
	int	 i;

	if (s == NULL || *s == '\0')
		return VOI_FN_LINEAR;
	for (i = 0; i < VOI_FN__MAX; i++)
		if (strcmp(s, voi_function_names[i]) == 0)
			return i;
	return -1;
}

int
voi_check(const struct voi *v, char *err, size_t errlen)
{
	const char	*why = NULL;

	if (v->lut != NULL) {
		if (v->lut->n == 0 || v->lut->v == NULL)
			why = "the VOI LUT has no entries";
		else if (v->lut->bits < 8 || v->lut->bits > 16)
			why = "VOI LUT entries must have 8 to 16 bits";
	} else if ((int)v->fn < 0 || v->fn >= VOI_FN__MAX)
		why = "unknown VOI LUT Function";
	else if (!isfinite(v->center) || !isfinite(v->width))
		why = "no window";
	else if (v->fn == VOI_FN_LINEAR ? v->width < 1 : !(v->width > 0))
		why = "window width out of range for its VOI LUT Function";
	if (why == NULL)
		return 0;
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", why);
	return -1;
}

double
voi_value(const struct voi *v, double x)
{
	double	 y, c = v->center, w = v->width, k;

	if (isnan(x))
		return 0;
	if (v->lut != NULL) {
		/* PS3.3 C.11.2.1.1: out-of-range inputs take the end
		 * entries. */
		k = floor(x + 0.5) - (double)v->lut->first;
		if (k < 0)
			k = 0;
		if (k > (double)(v->lut->n - 1))
			k = (double)(v->lut->n - 1);
		y = v->lut->v[(size_t)k] / (double)((1L << v->lut->bits) - 1);
	} else if (v->fn == VOI_FN_SIGMOID) {
		/* C.11.2.1.3.1 */
		y = 1 / (1 + exp(-4 * (x - c) / w));
	} else if (v->fn == VOI_FN_LINEAR_EXACT) {
		/* C.11.2.1.3.2 */
		if (x <= c - w / 2)
			y = 0;
		else if (x > c + w / 2)
			y = 1;
		else
			y = (x - c) / w + 0.5;
	} else {
		/* C.11.2.1.2.1; a width of 1 is a threshold at c - 0.5. */
		if (x <= c - 0.5 - (w - 1) / 2)
			y = 0;
		else if (x > c - 0.5 + (w - 1) / 2)
			y = 1;
		else
			y = (x - (c - 0.5)) / (w - 1) + 0.5;
	}
	y = y < 0 ? 0 : y > 1 ? 1 : y;
	return v->invert ? 1 - y : y;
}

void
voi_apply(const struct voi *v, const float *in, size_t n, float *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		out[i] = (float)voi_value(v, in[i]);
}

void
voi_apply8(const struct voi *v, const float *in, size_t n,
    unsigned char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)floor(voi_value(v, in[i]) * 255 +
		    0.5);
}

void
voi_lut_window(const struct dcm_lut_table *t, double *center,
    double *width)
{
	float	 lo = t->v[0], hi = t->v[0];
	size_t	 i, a = 0, b = t->n - 1;

	for (i = 1; i < t->n; i++) {
		lo = t->v[i] < lo ? t->v[i] : lo;
		hi = t->v[i] > hi ? t->v[i] : hi;
	}
	while (a < t->n - 1 && t->v[a] <= lo && t->v[a + 1] <= lo)
		a++;
	while (b > a && t->v[b] >= hi && t->v[b - 1] >= hi)
		b--;
	*width = (double)(b - a) + 1;
	*center = (double)t->first + (double)a + (*width) / 2;
}
