/*
 * voi.h - from a film's modality values to the grey a viewer shows: the
 * VOI transform and the polarity of the grayscale pipeline (PS3.4 N.2).
 *
 * The modality transform (Modality LUT Sequence or Rescale Slope and
 * Intercept, PS3.3 C.11.1) is the loader's (dicom.h); this module does
 * the rest, in the standard's order: the VOI transform, then MONOCHROME1
 * inverted (PS3.3 C.7.6.3.1.2, the Presentation LUT Shape INVERSE).
 * The VOI transform is the file's first VOI LUT (VOI LUT Sequence
 * (0028,3010), PS3.3 C.11.2.1.1) when it has one; else its window
 * (Window Center and Width) through its VOI LUT Function (0028,1056):
 * LINEAR (C.11.2.1.2.1), LINEAR_EXACT (C.11.2.1.3.2) or SIGMOID
 * (C.11.2.1.3.1).  The daemon's film loader (film.h), the series preview
 * (preview.h) and the viewer's image all go through voi_apply() or
 * voi_apply8(), so a film is read as it is shown.
 */
#ifndef ZY_VOI_H
#define ZY_VOI_H

#include <stddef.h>

#include "dicom.h"

enum voi_function {
	VOI_FN_LINEAR,
	VOI_FN_LINEAR_EXACT,
	VOI_FN_SIGMOID,
	VOI_FN__MAX
};

/* "LINEAR", "LINEAR_EXACT", "SIGMOID", as the attribute spells them. */
extern const char *const voi_function_names[VOI_FN__MAX];

/* The function a VOI LUT Function value names: "" or NULL is LINEAR
 * (the default of PS3.3 C.11.2.1.3); -1 for anything else. */
int	 voi_function_parse(const char *);

struct voi {
	const struct dcm_lut_table *lut;	/* used when not NULL */
	double		 center, width;		/* else the window */
	enum voi_function fn;
	int		 invert;		/* MONOCHROME1 */
};

/*
 * Whether v can be applied: a LUT of at least one entry of 8 to 16
 * bits, or a finite window whose width is at least 1 (LINEAR) or above
 * 0 (LINEAR_EXACT, SIGMOID).  Returns 0, or -1 with an English reason.
 */
int	 voi_check(const struct voi *v, char *err, size_t errlen);

/*
 * The displayed grey of modality value x, 0 (black) to 1 (white): the
 * VOI LUT entry of x (x rounded to the nearest integer; below the first
 * value mapped the first entry, above the last the last), divided by its
 * largest value 2^bits - 1, or the window function; then inverted for
 * MONOCHROME1.  A NaN (no value) is black.  v must pass voi_check().
 */
double	 voi_value(const struct voi *v, double x);

/* voi_value() of the n values at in, into out (0..1). */
void	 voi_apply(const struct voi *v, const float *in, size_t n,
	    float *out);

/* voi_value() of the n values at in, as bytes 0..255 rounded. */
void	 voi_apply8(const struct voi *v, const float *in, size_t n,
	    unsigned char *out);

/*
 * The linear window equivalent to a VOI LUT, for what records a window
 * (a key image): from the input of the first entry above the least
 * entry to the last below the largest.  *center, *width.
 */
void	 voi_lut_window(const struct dcm_lut_table *, double *center,
	    double *width);

#endif /* ZY_VOI_H */
