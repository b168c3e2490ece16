/*
 * spine.h - the vertebrae of a CT: found, labelled and measured, once per
 * series (anatomy.h, ANAT_VERTEBRAE), for the bone density reader and,
 * later, the rib fracture reader's numbering.
 *
 * From the centre line of the vertebral bodies (anatomy.h's spine_xy):
 *  - the bodies and the discs between them, slice by slice: a body's
 *    slice shows a ring of cortex round the centre on most of the rays
 *    cast forwards and sideways, a disc's does not;
 *  - the ribs: 3-D components of bone beside the spine that reach far to
 *    the side from near it (the costovertebral and costotransverse
 *    joints); the level of a rib is the body its medial end lies by;
 *  - the labels: T12 is the last rib-bearing body of the first run of
 *    rib-bearing bodies from the head, when a body without ribs follows
 *    it in the scan; the others are counted from it;
 *  - per body, the trabecular bone's mean CT number in an ROI kept off the
 *    cortex and the basivertebral vein, on the middle slices;
 *  - per body, on its own mid-sagittal plane (through its centre, along
 *    the spine's local direction), the anterior, middle and posterior
 *    heights, the depth and the mid-sagittal area.
 * See spine.c for the rules and their sources.
 */
#ifndef ZY_SPINE_H
#define ZY_SPINE_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"

#define SPINE_BODIES_MAX	32

/* Labels: 1..12 T1..T12, 13..17 L1..L5, 18 S1; 0 not known. */
#define SPINE_T1	1
#define SPINE_T12	12
#define SPINE_L1	13
#define SPINE_L2	14
#define SPINE_L3	15
#define SPINE_L5	17
#define SPINE_S1	18

/* "T12", "L1"; "?" for 0 or out of range. */
const char	*spine_label_name(int label);

struct vertebra {
	int		 label;		/* SPINE_*, 0 not known */
	int		 k0, k1;	/* its slices (volume z indices), inclusive */
	int		 partial;	/* cut by the scan's end: not measured */
	double		 c[3];		/* centre, voxels (x, y, z index) */
	double		 axis[3];	/* the spine's direction, unit, in mm
					 * space, towards higher z index */
	/* The trabecular ROI. */
	double		 hu;		/* mean CT number */
	double		 hu_sd;
	long		 roi_voxels;
	double		 roi_ml;
	/* Morphometry on the mid-sagittal plane, mm; NAN when not
	 * measured. */
	double		 ha, hm, hp;	/* at 10 %, 50 %, 90 % of the depth */
	double		 depth;		/* anterior to posterior edge */
	double		 area_mm2;	/* mid-sagittal area */
	int		 ribs;		/* bits: 1 right, 2 left */
	double		 rib_reach_mm;	/* the longest rib's lateral reach */
	int		 key_slice;	/* the middle slice */
	int		 x0, y0, x1, y1;	/* its box on that slice */
};

struct spine_info {
	int		 found;		/* bodies found */
	struct vertebra	 v[SPINE_BODIES_MAX];	/* from the head down */
	size_t		 n;
	int		 labelled;	/* labels from the ribs */
	int		 uncertain;	/* the rule met an ambiguity */
	char		 label_zh[256];	/* how the labels were set, Chinese */
	char		 why[256];	/* no bodies or no labels: why */
	/* The internal references on the measured slices (phantomless
	 * calibration): mean CT numbers; NAN where not found. */
	double		 air_hu, fat_hu, muscle_hu;
};

/*
 * The vertebrae of v from the centre line spine_xy (2 * nz, voxels, NAN
 * where none) and the body mask (may be NULL) into out.  Returns 0 (with
 * out->found 0 and a reason when there are no bodies to see), or -1 with
 * an English reason in err (memory).
 */
int	 spine_vertebrae(const struct series_volume *v, const double *spine_xy,
	    const uint8_t *body, struct spine_info *out, char *err,
	    size_t errlen);

/* How many of T12, L1 and L2 are whole and numbered in si; -1 when the
 * vertebrae could not be numbered. */
int	 spine_count_t12_l2(const struct spine_info *si);

/*
 * The edge of a body along a profile from inside it outwards (n samples
 * of HU, h mm apart): after bone (a 3-sample mean of SPINE_BONE_HU or
 * more) the first place from which the profile stays under SPINE_LOW_HU
 * for SPINE_RUN_MM; the edge is where the profile falls half-way from the
 * last peak to the level beyond.  Returns mm from sample 0, or -1.
 */
double	 spine_edge(const float *prof, int n, double h);

/*
 * As spine_edge(), for a cortex seen as a peak over the bone inside (by
 * PLATE_MIN_HU or more): the middle of the peak between its half-maximum
 * crossings, inwards over the bone inside and outwards over what lies
 * beyond, plus half a nominal cortical plate (PLATE_HALF_MM): blurring by
 * the slice profile spreads the peak about its middle, where a
 * half-maximum edge of the lowered peak moves outwards.  Otherwise
 * spine_edge()'s edge.
 */
double	 spine_plate_edge(const float *prof, int n, double h);

/*
 * An endplate's outer edge along a line from inside a body outwards, from
 * the values of the slices the line crosses (nk knots: val[k] at x[k] mm
 * along the line, each the mean over a rectangular slice profile of w mm
 * along the line): the body's bone of t HU inside, the disc's d HU
 * beyond and between them a plate of SPINE_PLATE_MM of unknown CT number
 * (its mass, CT number times thickness, is what a slice thicker than the
 * plate keeps: Prevrhal et al., 1999).  The model's slice means are
 * fitted to the knots by least squares for each edge position on a grid
 * of 0.02 mm within 3 mm of e0 (the plate's mass solved for each); where
 * the plate lies within one slice every position that keeps it there
 * fits as well (the data do not tell them apart).  The edge is the mean
 * of the positions weighed by their likelihood, exp(-residual / 2
 * sigma2) (sigma2 one knot's noise variance): the fit's minimum where
 * the plate is shared between two slices, the middle of the positions
 * that fit where it is not.  Returns mm along the line, or -1 when no
 * knot lies near e0 or no plate of positive mass fits.
 */
double	 spine_plate_fit(const float *val, const double *x, int nk, double w,
	    double t, double d, double e0, double sigma2);

/*
 * The same over nl lines side by side across the plate (in the body's
 * depth), each with its own knots, bone t, disc d and first edge e0, dw
 * mm from the line whose edge is wanted (dw 0; e0 the grid's centre):
 * one plate whose edge slopes linearly across the lines (edge + slope
 * dw, slopes within +-0.5 every 0.025) and whose excess over the bone is
 * shared, fitted by least squares; the edge the likelihood-weighted mean
 * as above, over the slopes too.  An endplate seldom lies square to the
 * slices across the body's depth: on the lines where it crosses a
 * slice's boundary the shares place it, and the slope carries that to
 * the lines where it lies within one slice (Prevrhal et al., 1999: a slab
 * thinner than the slice keeps its mass, not its place).  A plate flat
 * across the lines, within one slice on all of them, stays as open as
 * on one line.  sd, if not NULL, gets the edge's spread under the same
 * weights (0.43 mm for a 1 mm plate free in a 2.5 mm slice).
 */
struct spine_line {
	const float	*val;
	const double	*x;
	int		 nk;
	double		 dw, t, d, e0;
};

double	 spine_plate_fit_lines(const struct spine_line *, int nl, double w,
	    double e0, double sigma2, double *sd);

#define SPINE_PLATE_MM	1.0
#define SPINE_BONE_HU	180.0
#define SPINE_LOW_HU	130.0
#define SPINE_RUN_MM	2.0

#endif /* ZY_SPINE_H */
