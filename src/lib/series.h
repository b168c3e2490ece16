/*
 * series.h - load one DICOM series as a volume with its real geometry.
 *
 * The caller groups files by Series Instance UID and hands the paths
 * here.  Slices are ordered along the slice normal (the cross product of
 * the row and column directions of Image Orientation Patient) by the
 * projection of Image Position Patient on it, never by Instance Number or
 * Slice Location.  The slice spacing is measured from those projections.
 * Series whose images differ in size, pixel spacing or orientation are
 * refused; everything else that is odd (gaps, duplicates, uneven spacing,
 * gantry tilt, missing positions, padding) is loaded and reported as
 * structured warnings, in English and Chinese, for the application pages.
 *
 * Voxels are modality values (Hounsfield units for CT), stored as float,
 * x fastest: vox[(z * ny + y) * nx + x].  Index x runs along row[], y
 * along col[] and z along normal[].  MONOCHROME1 images are not inverted
 * in the volume; invert_for_display tells the preview to do it.
 *
 * Multi-frame files (Enhanced CT) load their frames as slices in frame
 * order: dcm_info carries no per-frame positions, so the spacing comes
 * from Spacing Between Slices or Slice Thickness and a warning says so.
 */
#ifndef ZY_SERIES_H
#define ZY_SERIES_H

#include <stddef.h>

#include "dicom.h"

enum series_warn {
	SERIES_WARN_GAP,		/* a missing slice: spacing too large */
	SERIES_WARN_DUPLICATE,		/* one SOP Instance UID twice: dropped */
	SERIES_WARN_SAME_POSITION,	/* two images at one place: one kept */
	SERIES_WARN_NONUNIFORM,		/* slice spacing varies */
	SERIES_WARN_TILT,		/* slices sheared: gantry tilt */
	SERIES_WARN_TILT_TAG,		/* tilt tag set, positions unsheared */
	SERIES_WARN_NO_POSITION,	/* no IPP/IOP: Instance Number order */
	SERIES_WARN_SPACING_ASSUMED,	/* slice spacing not measured */
	SERIES_WARN_INSTANCE_ORDER,	/* Instance Numbers out of order */
	SERIES_WARN_PADDING,		/* Pixel Padding Value voxels set */
	SERIES_WARN_NO_PIXEL_SPACING,	/* no Pixel Spacing: 1 mm assumed */
	SERIES_WARN_MULTIFRAME,		/* multi-frame: frame order assumed */
	SERIES_WARN_FRAME_OF_REFERENCE,	/* Frame of Reference UIDs differ */
	SERIES_WARN__MAX
};

struct series_warning {
	enum series_warn code;
	char		 en[256];	/* English sentence */
	char		 zh[256];	/* the same in Chinese (UTF-8) */
};

/* How the slices were ordered. */
enum series_order {
	SERIES_ORDER_SINGLE,		/* one image: nz = 1 */
	SERIES_ORDER_POSITION,		/* by IPP along the normal */
	SERIES_ORDER_INSTANCE,		/* by Instance Number (no IPP/IOP) */
	SERIES_ORDER_FRAMES,		/* frames of one multi-frame file */
	SERIES_ORDER__MAX
};

/* One slice of the volume, in volume order. */
struct series_slice {
	int		 file;		/* index into the caller's paths */
	int		 frame;		/* frame number in that file */
	int		 instance_number;
	int		 has_ipp;
	double		 ipp[3];	/* Image Position Patient (mm) */
	double		 pos;		/* ipp projected on the normal (mm) */
	char		 sop_uid[65];
};

struct series_volume {
	float			*vox;		/* nx * ny * nz values */
	int			 nx, ny, nz;
	double			 spacing[3];	/* dx, dy, median dz (mm) */
	double			 origin[3];	/* IPP of slice 0 */
	double			 row[3], col[3], normal[3];
	double			 step[3];	/* origin k to k + 1 (mm) */
	double			 spacing_min, spacing_median, spacing_max;
	double			 tilt_deg;	/* measured from positions */
	double			 gantry_tilt;	/* (0018,1120); NAN if absent */
	double			 kvp;		/* (0018,0060); NAN if absent */
	double			 patient_size;	/* (0010,1020), metres; NAN */
	double			 slice_thickness;	/* (0018,0050); NAN */
	int			 invert_for_display;	/* MONOCHROME1 */
	size_t			 padding_voxels;
	float			 padding_fill;	/* what they were set to */
	enum series_order	 order;
	char			 modality[17], photometric[17];
	char			 series_uid[65];
	/* Of the first file: what the readers check of the acquisition. */
	char			 manufacturer[129], model[129];
	char			 kernel[129];		/* ConvolutionKernel */
	char			 patient_position[17];	/* (0018,5100):
						 * "HFS", "HFDL", ...; "" */
	char			 contrast_agent[129];	/* "" if none */
	char			 description[257];	/* series' */
	char			 study_description[257];
	double			 window_center;	/* the file's; NAN if none */
	double			 window_width;
	/* The first file's VOI transform (voi.h): its first VOI LUT
	 * (voi_lut.n 0: none) and its VOI LUT Function ("" if none). */
	struct dcm_lut_table	 voi_lut;
	char			 voi_function[17];
	size_t			 fast_slices;	/* read straight from
						 * the file (dcm_native16()) */
	size_t			 prefaulted_slices;	/* new memory faulted
						 * in at once, not page by page
						 * (0 when it was a spare's) */
	struct series_slice	*slices;	/* nz entries */
	struct series_warning	*warn;
	size_t			 nwarn;
	/* Voxels vox has room for: nx * ny * nz, or more when it was a
	 * larger volume's (struct series_spare); 0 means nx * ny * nz. */
	size_t			 vox_cap;
};

/*
 * The voxel memory of a volume kept for the next series_load(), so that
 * a process that loads one series after another (the inference daemon,
 * one series per job) does not have the kernel clear a new volume's pages
 * each time.  series_recycle() frees a volume but keeps its voxels here;
 * series_load() with opts->spare takes them when they hold the new volume
 * and are at most twice its size, and otherwise frees them before it
 * allocates: the spare and the volumes loaded with it never hold more
 * than one volume's memory at once.  Zero-initialise; free with
 * series_spare_free().
 */
struct series_spare {
	float			*vox;
	size_t			 cap;		/* voxels */
};

/* Options; a zero field takes its default.  opts may be NULL. */
struct series_opts {
	size_t			 max_voxels;	/* nx*ny*nz: 512*512*2048 */
	double			 gap_factor;	/* see series_load(): 1.5 */
	const struct dcm_limits	*limits;	/* per file; NULL: defaults */
	/* Set (by another thread) to stop loading: series_load() then
	 * returns -1 with "cancelled" before its next file.  May be NULL. */
	volatile int		*cancel;
	/* Decode every slice through dcm_read_frame(), never reading
	 * native 16-bit pixels straight from the file (dcm_native16()):
	 * for tests, which compare the two. */
	int			 general;
	/* Voxel memory to use again (see struct series_spare); NULL:
	 * a new allocation.  A failed load leaves the memory in it. */
	struct series_spare	*spare;
};

/*
 * Load the n files at paths as one series into a new volume in *out.
 *
 * Several files are ordered by the projection of IPP on the slice
 * normal; dz is the median distance between neighbours.  A later file
 * with a SOP Instance UID already seen is dropped, and so is an image at
 * the position of the one before it (the lower Instance Number is kept);
 * both are reported.  A spacing is a gap when it is more than gap_factor
 * times the median of the three spacings before it and of the three
 * after it, so that a thin-then-thick series is uneven, not gapped.  A
 * stack whose origins drift within the slice plane is reported as tilted;
 * it is not resampled: step[] and slices[].ipp give the real positions.
 * Without IPP and IOP in every file, Instance Number orders the slices.
 * One file is a 2-D image (nz = 1) or, with several frames, a stack.
 * Pixel Padding Value voxels become -1024 in CT, otherwise the darkest
 * other value.
 *
 * Returns 0, or -1 with an English reason in err (errlen bytes, always
 * NUL-terminated; err may be NULL) and *out set to NULL.  Refused: a file
 * that cannot be read or has no pixels, images of different size, pixel
 * spacing or orientation, a mix of multi-frame files with others, and a
 * series of more than max_voxels voxels; "cancelled" when opts->cancel
 * was set.  Nothing is logged.  The caller
 * frees the volume with series_free().
 */
int		 series_load(const char *const *paths, size_t n,
		    const struct series_opts *, struct series_volume **out,
		    char *err, size_t errlen);

/* The patient coordinates (mm) of the (fractional) voxel i, j, k of v:
 * origin + i dx row + j dy col + k step. */
void		 series_vox2pat(const struct series_volume *, double i,
		    double j, double k, double p[3]);

/* Free a volume and everything it holds; NULL is allowed. */
void		 series_free(struct series_volume *);

/* Free a volume but keep its voxel memory in sp for the next load (what
 * sp held before is freed); NULL volume is allowed. */
void		 series_recycle(struct series_volume *, struct series_spare *);

/* Free what sp holds; sp is empty after. */
void		 series_spare_free(struct series_spare *);

/* A short stable name of a warning code ("gap", "tilt", ...) for JSON
 * and logs; "unknown" if out of range (static strings). */
const char	*series_warn_name(enum series_warn);

/* The first warning with the given code, or NULL. */
const struct series_warning *series_warn_find(const struct series_volume *,
		    enum series_warn);

#endif /* ZY_SERIES_H */
