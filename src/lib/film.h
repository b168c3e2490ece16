/*
 * film.h - a radiograph (CR, DX, or a Secondary Capture of a film) as the
 * 2-D image a viewer shows, for the readers of single films.
 *
 * A film series is one image.  Its modality values (Modality LUT or
 * Rescale Slope/Intercept already applied by the loader, dicom.h) go
 * through the file's VOI transform as a viewer applies it (voi.h, PS3.4
 * N.2): its first VOI LUT, else its window through its VOI LUT Function
 * (LINEAR, LINEAR_EXACT, SIGMOID), else a linear window from the 0.5th
 * to the 99.5th percentile of the middle of the film; MONOCHROME1 is
 * inverted, so that 1 is white (dense: bone) and 0 black (air), as on
 * the screen.
 *
 * The pixel size is Imager Pixel Spacing or Pixel Spacing where present;
 * without either, the film has no size in mm (spacing 0) and says so.
 * The shutter and collimation borders are found from the image: rows and
 * columns at the edges that are flat and black or white (unexposed or
 * blocked); field[] is the exposed rectangle inside them.  The view
 * (frontal or lateral) comes from View Position and the descriptions,
 * else from the image: a frontal chest has two dark lung fields either
 * side of a bright mediastinum, a lateral one dark field.
 */
#ifndef ZY_FILM_H
#define ZY_FILM_H

#include <stddef.h>

#include "dicom.h"

enum film_view {
	FILM_VIEW_UNKNOWN,
	FILM_VIEW_FRONTAL,		/* PA or AP */
	FILM_VIEW_LATERAL,
	FILM_VIEW_OTHER,		/* oblique, decubitus */
	FILM_VIEW__MAX
};

extern const char *const film_view_zh[FILM_VIEW__MAX];
extern const char *const film_view_names[FILM_VIEW__MAX];	/* for logs */

/* Where a finding of the film came from. */
enum film_from {
	FILM_FROM_NONE,
	FILM_FROM_TAGS,			/* View Position, Body Part Examined */
	FILM_FROM_TEXT,			/* series or study description */
	FILM_FROM_EXAM,			/* the application's 检查部位 */
	FILM_FROM_IMAGE,		/* what the pixels show */
	FILM_FROM__MAX
};

extern const char *const film_from_zh[FILM_FROM__MAX];
extern const char *const film_from_names[FILM_FROM__MAX];	/* for logs */

/* What the header says, for film_from_values(); strings may be NULL. */
struct film_tags {
	const char	*modality;	/* "DX", "CR", "SC" */
	const char	*photometric;	/* "MONOCHROME1" inverts */
	double		 window_center, window_width;	/* NAN: none */
	const char	*voi_function;	/* VOI LUT Function; NULL: LINEAR */
	const struct dcm_lut_table *voi_lut;	/* the first VOI LUT;
					 * NULL: none */
	double		 pixel_spacing[2];	/* row, column (mm); 0: none */
	int		 spacing_source;	/* DCM_SPACING_* (dicom.h) */
	const char	*view_position;	/* "PA", "AP", "LL" ... */
	const char	*laterality;	/* Image Laterality or Laterality */
	const char	*body_part;	/* BodyPartExamined */
	const char	*description;	/* series and study description */
	const char	*exam_part;	/* the application's 检查部位 */
};

struct film {
	float		*img;		/* nx * ny display values, 0..1 */
	int		 nx, ny;
	double		 spacing[2];	/* x (column), y (row) mm; 0: unknown */
	int		 spacing_source;	/* DCM_SPACING_* */
	int		 inverted;	/* MONOCHROME1: inverted for display */
	double		 window_center, window_width;	/* applied (for a
					 * VOI LUT: its linear equivalent) */
	int		 window_from_file;
	int		 voi_from_lut;	/* the file's VOI LUT was applied */
	int		 field[4];	/* x0, y0, x1, y1 exposed, inclusive */
	enum film_view	 view;
	enum film_from	 view_from;
	/* The frontal-chest evidence of the image: mediastinum brighter
	 * than both lung fields by this much (display units). */
	double		 midline_contrast;
	char		 modality[17];
	char		 body_part[65];
	char		 exam_part[129];
	char		 description[257];
	/* The side of a paired part: 'R', 'L' from the laterality tags
	 * (FILM_FROM_TAGS) or the descriptions (FILM_FROM_TEXT), else 0. */
	int		 side;
	enum film_from	 side_from;
	char		 notes[512];	/* Chinese: what was assumed */
};

/*
 * Make a film of nx * ny modality values (row-major) and what the header
 * says.  Returns 0 with a new film in *out (film_free() it), or -1 with
 * an English reason in err (a VOI LUT Function it does not know, a
 * window its function cannot use).
 */
int		 film_from_values(const float *vals, int nx, int ny,
		    const struct film_tags *, struct film **out, char *err,
		    size_t errlen);

/*
 * Read the DICOM file at path as a film (exam_part: the application's
 * 检查部位, may be NULL).  Returns 0 with *out, or -1 with err.
 */
int		 film_load(const char *path, const char *exam_part,
		    struct film **out, char *err, size_t errlen);

/*
 * The film of a loaded one-image series (a film reader's job that came
 * without the daemon's film): its display transform from what the volume
 * keeps of the header.  Returns 0 with *out, or -1 with err.
 */
struct series_volume;
int		 film_from_volume(const struct series_volume *,
		    struct film **out, char *err, size_t errlen);

/* The view the image shows (FILM_VIEW_FRONTAL or _LATERAL, or _UNKNOWN
 * when it cannot tell), with the midline contrast into *contrast (may be
 * NULL). */
enum film_view	 film_view_of_image(const struct film *, double *contrast);

/* The pixel size, in Chinese, for the result page ("像素间距 0.14 mm（
 * Imager Pixel Spacing）" or that there is none). */
void		 film_spacing_zh(const struct film *, char *, size_t);

void		 film_free(struct film *);

#endif /* ZY_FILM_H */
