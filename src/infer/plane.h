/*
 * plane.h - what the film readers (tb.c, limb.c) do to a 2-D working
 * image: a separable Gaussian blur and the labelling of 4-connected
 * components.
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

/* qsort() order of floats, ascending. */
int	 plane_cmp_float(const void *a, const void *b);

#endif /* ZY_PLANE_H */
