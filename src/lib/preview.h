/*
 * preview.h - 8-bit grayscale previews of a loaded series, as PNG.
 *
 * A slice of a series_volume is mapped through a window (center and
 * width, the linear VOI function of PS3.3 C.11.2.1.2) or the file's own
 * VOI transform (voi.h) to 0-255, inverted when the volume says so
 * (MONOCHROME1), optionally shrunk by area
 * averaging so that its longer edge fits, and encoded as PNG (grayscale,
 * 8 bits, zlib).  Pixels are shown square: the pixel spacing is not
 * used to correct the aspect ratio.
 */
#ifndef ZY_PREVIEW_H
#define ZY_PREVIEW_H

#include <stddef.h>

#include "buf.h"
#include "series.h"
#include "voi.h"

enum window_preset {
	WINDOW_LUNG,
	WINDOW_MEDIASTINUM,
	WINDOW_BONE,
	WINDOW_AUTO,		/* the file's, else 1st-99th percentile */
	WINDOW__MAX
};

struct window_def {
	const char	*name;		/* "lung", for URLs and JSON */
	const char	*zh;		/* "肺窗", for pages */
	double		 center, width;	/* NAN for WINDOW_AUTO */
};

/* The presets, indexed by enum window_preset. */
extern const struct window_def preview_windows[WINDOW__MAX];

/* The preset named name ("lung", "mediastinum", "bone", "auto"), or -1. */
int	 preview_window_parse(const char *name);

/*
 * The center and width of a preset for one slice of v.  WINDOW_AUTO takes
 * the file's own Window Center/Width when it has one, otherwise the
 * percentile window below.  Returns 0, or -1 if slice or the preset is
 * out of range.
 */
int	 preview_window(const struct series_volume *v, int slice,
	    enum window_preset, double *center, double *width);

/*
 * A window spanning the lo-th to the hi-th percentile (0 < lo < hi < 100)
 * of the values of one slice, from a histogram of 16384 bins; the width
 * is at least 1.  Returns 0, or -1 on bad arguments or memory.
 */
int	 preview_window_percentile(const struct series_volume *v, int slice,
	    double lo, double hi, double *center, double *width);

/*
 * Render slice of v through the window (width >= 1) into a malloc'ed
 * 8-bit image, row-major, in *pix (the caller frees it with free()), of
 * *pw by *ph pixels.  If max_edge > 0 and the longer edge is longer, the
 * image is shrunk to fit by area averaging.  Returns 0, or -1 with an
 * English reason in err (err may be NULL) and *pix set to NULL.
 */
int	 preview_render(const struct series_volume *v, int slice,
	    double center, double width, int max_edge, unsigned char **pix,
	    int *pw, int *ph, char *err, size_t errlen);

/*
 * As preview_render(), through the VOI transform voi (voi.h): the one
 * the film loader and the viewer apply.  preview_render() is this with
 * the linear window (center, width) and the volume's polarity.
 */
int	 preview_render_voi(const struct series_volume *v, int slice,
	    const struct voi *voi, int max_edge, unsigned char **pix,
	    int *pw, int *ph, char *err, size_t errlen);

/*
 * The file's own VOI transform of v into *voi (pointing into v): its
 * first VOI LUT, else its window through its VOI LUT Function; with the
 * volume's polarity.  Returns 0, or -1 when the file has neither (or a
 * function or window that cannot be applied).
 */
int	 preview_voi_of_file(const struct series_volume *v, struct voi *voi);

/*
 * Encode an 8-bit grayscale image of w by h pixels as PNG, appended to
 * out (set up by the caller with buf_init(); the caller frees it).
 * Returns 0, or -1 when memory is short or the buffer's cap is passed;
 * out is unchanged then.
 */
int	 preview_png_encode(const unsigned char *gray, int w, int h,
	    struct buf *out);

/* As preview_png_encode(), for an RGB image (3 bytes a pixel). */
int	 preview_png_encode_rgb(const unsigned char *rgb, int w, int h,
	    struct buf *out);

/*
 * preview_render() then preview_png_encode(): the PNG of slice of v is
 * appended to out.  Returns 0, or -1 with a reason in err.
 */
int	 preview_png(const struct series_volume *v, int slice, double center,
	    double width, int max_edge, struct buf *out, char *err,
	    size_t errlen);

/* As preview_png(), through the VOI transform voi (preview_render_voi()). */
int	 preview_png_voi(const struct series_volume *v, int slice,
	    const struct voi *voi, int max_edge, struct buf *out, char *err,
	    size_t errlen);

/*
 * As preview_png(), written to the file at path (replaced atomically by
 * way of path.tmp).  Returns 0, or -1 with a reason in err.
 */
int	 preview_png_file(const struct series_volume *v, int slice,
	    double center, double width, int max_edge, const char *path,
	    char *err, size_t errlen);

#endif /* ZY_PREVIEW_H */
