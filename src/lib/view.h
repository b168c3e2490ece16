/*
 * view.h - the images of the viewer (查看影像图片): planes of a volume
 * (axial, coronal, sagittal), a window to 8 bits, the values under a
 * point or a circle, and JPEG.
 *
 * A volume for multiplanar reformatting (MPR) is held as 16-bit integers
 * (modality values rounded: Hounsfield units of CT are integers already),
 * half the memory of the loader's floats, in the loader's index space:
 * x along the row direction, y along the column direction, z along the
 * slice normal (series.h).  The planes are the index planes of that
 * space, without resampling:
 *
 *	axial		z = k: columns x, rows y
 *	coronal		y = j: columns x, rows z
 *	sagittal	x = i: columns y, rows z
 *
 * Rows of z run from the head down: when the slice normal points to the
 * head (its patient z component positive, as in a usual axial CT), row 0
 * is the last slice (flip set).  The pixels of a coronal or sagittal
 * plane are dx (or dy) wide and dz high; the viewer draws them to scale.
 * An oblique or tilted stack is shown in its index planes, as the loader
 * keeps it (not resampled).
 */
#ifndef ZY_VIEW_H
#define ZY_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "series.h"

enum view_plane {
	VIEW_AXIAL,
	VIEW_CORONAL,
	VIEW_SAGITTAL,
	VIEW__MAX
};

/* "axial", "coronal", "sagittal", for URLs and JSON. */
extern const char *const view_plane_names[VIEW__MAX];

/* The plane named name, or -1. */
int	 view_plane_parse(const char *name);

struct view_volume {
	int16_t		*vox;		/* nx * ny * nz, x fastest */
	int		 nx, ny, nz;
	double		 spacing[3];	/* dx, dy, dz (mm) */
	int		 flip;		/* z rows head up: row r is z nz-1-r */
	int		 invert;	/* MONOCHROME1 */
	/* The least and largest value (a missing one as -1024) of each
	 * block of VIEW_BLOCK voxels a side, with the voxel before and
	 * after it on each axis, x fastest: the empty space view_render()
	 * skips.  NULL: not made (view_volume_blocks()). */
	int16_t		*bmin, *bmax;
	int		 bx, by, bz;
};

#define VIEW_BLOCK	8

/*
 * Whether the rows of z run against z (the slice normal points to the
 * head): the flip of a volume whose slice normal is normal.
 */
int	 view_flip(const double normal[3]);

/*
 * A view volume of v: values rounded to the nearest integer and clamped
 * to -32768..32767, a missing value (NAN) -32768.  Returns 0, or -1 with
 * an English reason in err (no volume, no memory).  Free it with
 * view_volume_free().
 */
int	 view_volume_from(const struct series_volume *v,
	    struct view_volume **out, char *err, size_t errlen);
void	 view_volume_free(struct view_volume *);

/*
 * Make the blocks' least and largest values of vv (view_volume_from()
 * makes them).  Returns 0, or -1 when out of memory (vv is unchanged:
 * rendering then looks at every sample).
 */
int	 view_volume_blocks(struct view_volume *);

/*
 * The width and height of the plane's images and how many there are.
 * Returns 0, or -1 for an unknown plane.
 */
int	 view_plane_size(const struct view_volume *, enum view_plane,
	    int *w, int *h, int *n);

/* The pixel width and height (mm) of the plane's images. */
void	 view_plane_spacing(const struct view_volume *, enum view_plane,
	    double *sx, double *sy);

/*
 * Image index of plane into out, w * h values (view_plane_size()), row
 * by row.  Returns 0, or -1 with a reason in err when the plane or index
 * is out of range.
 */
int	 view_plane_get(const struct view_volume *, enum view_plane,
	    int index, float *out, char *err, size_t errlen);

/*
 * n values through the window (center c, width w >= 1) to 0..255 by the
 * linear VOI function of PS3.3 C.11.2.1.2.1, inverted if invert; a
 * missing value (NAN) is black.
 */
void	 view_window8(const float *in, size_t n, double c, double w,
	    int invert, unsigned char *out);

/* The values in a circle of an image. */
struct view_roi {
	size_t		 n;		/* pixels inside */
	double		 mean, sd;	/* of their values; sd with n - 1 */
	double		 min, max;
	double		 area_mm2;	/* n times the pixel area */
};

/*
 * The pixels of img (w by h, pixel sx by sy mm) whose centres lie within
 * r_mm of the point (cx, cy) in pixel coordinates (the centre of pixel
 * (0, 0) is (0.5, 0.5)); missing values (NAN) are left out.  Returns 0,
 * or -1 when no pixel is inside or the arguments are bad.
 */
int	 view_roi_circle(const float *img, int w, int h, double sx, double sy,
	    double cx, double cy, double r_mm, struct view_roi *);

/*
 * Encode an 8-bit grayscale image of w by h pixels as baseline JPEG of
 * the given quality (1..100), appended to out.  Returns 0, or -1 (memory,
 * the buffer's cap); out is unchanged then.
 */
int	 view_jpeg(const unsigned char *gray, int w, int h, int quality,
	    struct buf *out);

/*
 * 三维重建: a volume rendering of the whole volume by ray casting, in
 * orthographic projection (Levoy, "Display of surfaces from volume
 * data", IEEE CG&A 1988: front-to-back compositing of opacities
 * classified from the values, shaded by the gradient as the surface
 * normal; maximum intensity projection after Wallis et al., "Three-
 * dimensional display in nuclear medicine", IEEE TMI 1989).
 *
 * The camera turns about the volume's centre.  At azimuth 0 and
 * elevation 0 it looks from the front along +y (the column direction,
 * anterior to posterior in an axial CT), the image's right is +x (the
 * patient's left, as radiographs are read) and its top is the head
 * (-z rows, as the coronal plane: the flip of the volume).  Azimuth
 * turns the volume about the head-foot axis, the front coming to the
 * image's left as it grows; elevation tilts the camera over the head
 * (positive) or under the feet (negative).  At zoom 1 the volume's
 * diagonal fills the image's side, so that no turn cuts it.
 */
enum view_render_mode {
	VIEW_RENDER_BONE,	/* opacity from 200 HU up, shaded */
	VIEW_RENDER_LUNG,	/* the -500 HU surface of aerated lung, shaded */
	VIEW_RENDER_MIP,	/* the largest value along the ray */
	VIEW_RENDER__MAX
};

/* "bone", "lung", "mip", for URLs. */
extern const char *const view_render_names[VIEW_RENDER__MAX];

/* The mode named name, or -1. */
int	 view_render_parse(const char *name);

#define VIEW_RENDER_SIZE_MIN	32
#define VIEW_RENDER_SIZE_MAX	768
#define VIEW_RENDER_ZOOM_MIN	0.5
#define VIEW_RENDER_ZOOM_MAX	8.0
#define VIEW_RENDER_STEPS_MAX	1024	/* samples along one ray, at most */

struct view_camera {
	enum view_render_mode	 mode;
	double			 azimuth;	/* degrees, any */
	double			 elevation;	/* degrees, -90..90 */
	double			 zoom;		/* VIEW_RENDER_ZOOM_MIN..MAX */
	int			 size;		/* image side, pixels */
	double			 step_mm;	/* along the ray; 0: the least
						   voxel side or the pixel */
};

/* What a rendering was made with. */
struct view_render_info {
	double		 pixel_mm;	/* side of an image pixel */
	double		 step_mm;	/* between samples along a ray */
	int		 steps;		/* samples along the longest ray */
};

/*
 * Render vv as seen by cam into out, size * size values row by row: for
 * VIEW_RENDER_MIP the largest value along each ray (modality units; NAN
 * where the ray misses the volume; a missing value counts as -1024), for
 * the shaded modes a brightness 0..255.  The samples are trilinear; the
 * step is at least the volume's diagonal over VIEW_RENDER_STEPS_MAX, so
 * that a rendering costs at most size * size * VIEW_RENDER_STEPS_MAX
 * samples.  Returns 0, or -1 with an English reason in err for bad
 * parameters.
 */
int	 view_render(const struct view_volume *, const struct view_camera *,
	    float *out, struct view_render_info *, char *err, size_t errlen);

/*
 * The regions of an AI reader (masks.h) over the CT: a label volume on
 * the grid of the view volume (nx, ny, nz, x fastest, the same index
 * space), with each label's colour and how it is drawn.
 */
struct view_labels {
	uint8_t		*lab;		/* nx * ny * nz, owned */
	int		 nx, ny, nz;
	float		 rgb[256][3];	/* 0..1 */
	/* Opacity per millimetre of the region in 三维: everywhere inside
	 * (a nodule, a lesion), or with shell set only on its boundary
	 * (a lobe, a rib), where it meets another label or none. */
	float		 alpha_mm[256];
	unsigned char	 shell[256];
	/* How much of its colour a CT surface inside it takes (三维), and
	 * how much a slice's pixel (MPR; its outline is drawn whole). */
	float		 tint[256];
	float		 tint2d[256];
	/* Per block of VIEW_BLOCK voxels a side (as the volume's blocks),
	 * whether a label lies within two voxels of it; NULL: not made. */
	uint8_t		*bany;
	int		 bx, by, bz;
};

/* Set label l's colour (rgb 0..255) and drawing by its kind: shell set
 * for a translucent shell that tints the CT, else an opaque region. */
void	 view_labels_set(struct view_labels *, int l,
	    const unsigned char rgb[3], int shell);

/* Make the blocks of lb (after the labels are in); 0, or -1 when out of
 * memory (rendering then looks at every sample). */
int	 view_labels_blocks(struct view_labels *);

/* Free what lb holds (not lb itself). */
void	 view_labels_clear(struct view_labels *);

/*
 * 三维重建 with the regions: as view_render(), the CT seen through the
 * mode's classification, and with it the labelled regions composited in
 * the same rays (Levoy 1988; the regions' surfaces shaded by the
 * gradient of their indicator function, as for segmented volumes in
 * Höhne and Bernstein, "Shading 3D-images from CT using gray-level
 * gradients", IEEE TMI 1986): a CT surface inside a shell label takes
 * its colour, an opaque label shows in its colour.  For MIP the regions
 * are composited over the windowed (wc, ww) maximum.  lb must be on the
 * grid of vv.  rgb: size * size * 3 bytes.  Returns 0, or -1 with an
 * English reason in err.
 */
int	 view_render_labels(const struct view_volume *,
	    const struct view_labels *, const struct view_camera *,
	    double wc, double ww, unsigned char *rgb,
	    struct view_render_info *, char *err, size_t errlen);

/*
 * The labels of image index of plane p (as view_plane_get(), with the
 * flip of the volume they belong to) into out, w * h bytes.  Returns 0,
 * or -1 with a reason in err when out of range.
 */
int	 view_plane_labels(const struct view_labels *, int flip,
	    enum view_plane p, int index, uint8_t *out, char *err,
	    size_t errlen);

/*
 * A windowed slice (gray, w * h) with its labels (lab, w * h) into rgb
 * (w * h * 3): inside a label its colour mixed in by tint2d, on its
 * outline (a pixel with a 4-neighbour of another label) the colour
 * whole.
 */
void	 view_tint(const unsigned char *gray, const uint8_t *lab, int w,
	    int h, const struct view_labels *, unsigned char *rgb);

/* As view_jpeg(), of w by h RGB pixels. */
int	 view_jpeg_rgb(const unsigned char *rgb, int w, int h, int quality,
	    struct buf *out);

#endif /* ZY_VIEW_H */
