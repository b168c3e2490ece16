/*
 * cpr.h - 肋骨拉直 / 肋骨展开: the straightened curved planar
 * reformation (CPR) of a rib along its centre line, and the unfolded rib
 * cage, all ribs straightened and laid out side by side.
 *
 * A centre line comes in the view volume's index space (x along the
 * rows, y along the columns, z the slice index: view.h), as the rib
 * fracture reader stores it (ai_results.overlays, sql/033: one point a
 * millimetre from the rib's head to its front end).  It is taken to
 * millimetres by the voxel spacing, resampled at a fixed arc step, and
 * given a rotation-minimising frame (Wang, Jüttler, Zheng and Liu,
 * "Computation of rotation minimizing frames", ACM TOG 2008: the double
 * reflection method; Bishop, "There is more than one way to frame a
 * curve", 1975), which does not flip where the curve straightens as the
 * Frenet frame does.  The frame's normal starts as the head direction
 * square to the rib's first tangent.
 *
 * The straightened CPR (Kanitsar, Fleischmann, Wegenkittl, Felkel and
 * Gröller, "CPR - Curved Planar Reformation", IEEE Visualization 2002)
 * samples the volume trilinearly along the normal turned by an angle
 * about the tangent: the image's columns are the arc length from the
 * head (column c at c * step mm), its rows the offset along the turned
 * normal (row 0 the largest offset: at angle 0 the head side is up), both
 * step mm a pixel, so that the rib lies straight and to scale.
 *
 * The unfolded cage lays out every rib so, one row a rib number (1 at the
 * top), the right ribs to the image's left and the left ones to its
 * right, each from its head at the middle outwards, on one arc scale so
 * that lengths compare: the arrangement of the unfolded rib displays
 * evaluated by Ringl et al. (Eur Radiol 2015, "The ribs unfolded") and
 * Dankerl et al. (Acad Radiol 2017, a single in-plane reformation of the
 * rib cage), here with evenly spaced rows rather than the ribs' own
 * heights.
 */
#ifndef ZY_CPR_H
#define ZY_CPR_H

#include <stddef.h>

#include "view.h"

#define CPR_STEP_MIN	0.2	/* mm a pixel, least */
#define CPR_STEP_MAX	4.0
#define CPR_HALF_MAX	60.0	/* mm each side of the centre line */
#define CPR_LEN_MAX	1000.0	/* mm of one line, at most */
#define CPR_RIBS_MAX	64
#define CPR_GAP_MM	8.0	/* between the two sides when unfolded */

/* A centre line resampled at a fixed arc step, with its frame (mm, the
 * index space scaled by the spacing). */
struct cpr_path {
	int		 n;		/* samples, n >= 2 */
	double		 step;		/* mm between samples */
	double		 length;	/* mm of the polyline given */
	double		(*p)[3];	/* points */
	double		(*t)[3];	/* unit tangents */
	double		(*u)[3];	/* unit normals (angle 0) */
	double		(*b)[3];	/* t x u */
	double		 spacing[3];	/* of the volume, mm */
};

/*
 * The path of the n points pts (index space, x y z) of a volume of the
 * given spacing, resampled every step mm; up is the direction (index
 * space, any length) the normal starts from, the head's.  Returns 0, or
 * -1 with an English reason in err (fewer than two distinct points, a
 * line longer than CPR_LEN_MAX, bad step, memory).  Free with
 * cpr_path_free().
 */
int	 cpr_path_make(const double (*pts)[3], int n, const double spacing[3],
	    const double up[3], double step, struct cpr_path *out, char *err,
	    size_t errlen);
void	 cpr_path_free(struct cpr_path *);

/*
 * The arc position (mm from the first point) of the point of the path
 * nearest to q (index space); its distance (mm) in *dist if not NULL.
 */
double	 cpr_project(const struct cpr_path *, const double q[3],
	    double *dist);

/* The image of cpr_image(): width (columns) and height (rows) for a
 * path and half width half_mm (mm each side of the line). */
void	 cpr_image_size(const struct cpr_path *, double half_mm, int *w,
	    int *h);

/*
 * The straightened CPR of path through vv at angle degrees (turned from
 * the normal towards t x u), half_mm each side, into out (w * h values of
 * cpr_image_size(), row by row, modality units; NAN outside the volume
 * or on a missing value).  The path must have been made with vv's
 * spacing.
 */
void	 cpr_image(const struct view_volume *vv, const struct cpr_path *,
	    double angle, double half_mm, float *out);

/* One rib of a result. */
struct cpr_rib {
	int		 side;		/* 1 right, 2 left */
	int		 number;	/* 1..12; 0 not numbered */
	char		 label[16];	/* as stored: "R5", "L?" */
	char		 zh[24];	/* as shown: "右5", "左?" */
	int		 row;		/* unfolded: its row */
	struct cpr_path	 path;
};

struct cpr_ribs {
	struct cpr_rib	*r;
	size_t		 n;
	int		 uncertain;	/* the reader doubted its numbers */
	int		 rows;		/* unfolded rows */
};

/*
 * The ribs of a rib fracture result's overlays (JSON text: {"ribs":
 * [{"side": "R", "number": 5, "label": "R5", "line": [[x, y, z], ...]},
 * ...], "uncertain": false}), paths made for a volume of spacing with
 * flip (view.h: +z is the head) at step mm, ordered by side (right
 * first) and number (unnumbered last), and their unfolded rows
 * (cpr_layout()).  Returns the number of ribs (0: the result has no
 * centre lines), or -1 with an English reason in err.  Free with
 * cpr_ribs_free().
 */
int	 cpr_ribs_parse(const char *json, const double spacing[3], int flip,
	    double step, struct cpr_ribs *out, char *err, size_t errlen);
void	 cpr_ribs_free(struct cpr_ribs *);

/*
 * The rows of the unfolded cage: rib n of a side in row n - 1; an
 * unnumbered rib, or a second of one number, in the first free row from
 * 12 down.  Sets each rib's row and ribs->rows (at least 12 when there
 * are ribs).
 */
void	 cpr_layout(struct cpr_ribs *);

/* The unfolded image's geometry. */
struct cpr_unfold {
	double		 step, half_mm;
	int		 w, h;
	int		 row_h;		/* pixels a row */
	int		 side_w;	/* columns of one side */
	int		 gap;		/* columns between the sides */
};

/* The geometry of the unfolded image of ribs at step mm a pixel (their
 * paths' step), half_mm each side of each line. */
void	 cpr_unfold_geom(const struct cpr_ribs *, double half_mm,
	    struct cpr_unfold *);

/*
 * Where arc position s (mm from the head) of rib k lies on the unfolded
 * image: pixel centre x, y (the line's row).
 */
void	 cpr_unfold_point(const struct cpr_ribs *, const struct cpr_unfold *,
	    size_t k, double s, double *x, double *y);

/*
 * The unfolded cage through vv at angle degrees into out (g->w * g->h
 * values, NAN where no rib is).
 */
void	 cpr_unfold_image(const struct view_volume *vv,
	    const struct cpr_ribs *, const struct cpr_unfold *, double angle,
	    float *out);

/*
 * The rib a lesion belongs to: the rib of its place ("右第5肋腋段": side
 * and number), else the one whose line passes nearest to q (index
 * space).  Returns its index, or -1 when there are no ribs; its arc
 * position and distance in *s and *dist.
 */
int	 cpr_lesion_rib(const struct cpr_ribs *, const char *place,
	    const double q[3], double *s, double *dist);

#endif /* ZY_CPR_H */
