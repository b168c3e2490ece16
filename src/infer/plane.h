/*
 * plane.h - what the film readers (tb.c, limb.c) do to a 2-D working
 * image: the film's field area-averaged to the working size, Otsu's
 * threshold, a separable Gaussian blur, the labelling of 4-connected
 * components and the components that touch the border.
 */
#ifndef ZY_PLANE_H
#define ZY_PLANE_H

#include <stddef.h>

/*
 * A separable Gaussian blur of in (w x h floats) into out, clamped at
 * the edges; the kernel is cut at 3 sigma, at most 31 pixels from its
 * centre.  tmp has w * h floats; out may not be in.
 */
void	 plane_blur(const float *in, float *out, float *tmp, int w, int h,
	    double sigma);

/*
 * Label the 4-connected components of the pixels of m (w x h) equal to
 * want into lab (0: none), with a stack of w * h ints.  Returns the
 * number of components; when size is not NULL, their sizes in pixels
 * into size[1..] as far as nsize entries go.
 */
int	 plane_components(const unsigned char *m, int want, int w, int h,
	    int *lab, int *stack, size_t *size, int nsize);

/*
 * The rectangle x0, y0, fw x fh of img (rows of stride floats)
 * area-averaged into out, w x h: each output pixel the mean of the input
 * pixels its cell covers (at least one).
 */
void	 plane_area_average(const float *img, int stride, int x0, int y0,
	    int fw, int fh, float *out, int w, int h);

/*
 * Otsu's threshold (Otsu 1979) of the values of v (0..1) where m is set,
 * over 128 bins; 0.5 when no split exists.
 */
double	 plane_otsu(const float *v, const unsigned char *m, size_t n);

/*
 * Which of the ncomp components labelled in lab (w x h, plane_components)
 * touch the image's border: an array of ncomp + 1 flags (entry 0 for
 * the unlabelled pixels, set when they touch it), NULL when out of
 * memory; the caller frees it.
 */
unsigned char *plane_border_labels(const int *lab, int ncomp, int w, int h);

/* qsort() order of floats, ascending. */
int	 plane_cmp_float(const void *a, const void *b);

#endif /* ZY_PLANE_H */
