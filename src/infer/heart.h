/*
 * heart.h - the heart and the aortic root in a CT of the chest, for the
 * shared anatomy (anatomy.h) and the calcium reader (cac.h).
 *
 * The heart is found on a copy of the volume resampled to a coarse grid
 * (2 mm, or the volume's own spacing where coarser): between
 * the lungs, above the diaphragm, the largest part of the mediastinum's
 * soft tissue; see heart.c for the passes.  heart_find() fills struct
 * anat_heart's public fields and keeps the coarse masks it made on the
 * way in a struct heart_masks, reached through anat_heart's priv, for
 * the readers that need more than the heart's place (the calcium reader:
 * the shell where the coronary arteries run, the heart's depths, bone,
 * the chest wall).
 */
#ifndef ZY_HEART_H
#define ZY_HEART_H

#include <stddef.h>
#include <stdint.h>

#include "anatomy.h"
#include "compute.h"
#include "series.h"

#define HEART_LUNG_HU	(-500.0)	/* lung and air: below */
#define HEART_LUNG_MIN_ML 50.0		/* a lung, at least */
#define HEART_SHELL_MM	10.0		/* epicardial fat around the heart */

/* What the finder makes, on the coarse grid (dims, x fastest). */
struct heart_masks {
	int		 dims[3];
	double		 sp[3];		/* coarse spacing in the fine axes */
	uint8_t		*hull;		/* the cavity: the lungs' hull, grown */
	uint8_t		*heart;		/* the heart and vessel roots */
	uint8_t		*shell;		/* within HEART_SHELL_MM of it */
	uint8_t		*deep;		/* deeper than 8 mm in it */
	uint8_t		*bone;		/* bone, and 4 mm round it */
	uint8_t		*wall;		/* the chest wall's band */
	double		 heart_ml, lung_ml;
	int		 at_end;	/* the heart reaches an end slice */
	int		 have_dome;	/* the diaphragm's domes in view */
	double		 zdome;		/* the right dome's top, patient z */
	double		 enh_ml, enh_hu;	/* the blood, any phase */
	double		 root_z;	/* patient z of the root level */
	/* The image's noise in the heart's depth (heart_find()), HU; NAN
	 * when no heart was found. */
	double		 noise_hu;
};

/*
 * The relative CT number of hydroxyapatite (calcium, bone) at tube
 * voltage kvp, 1 at 120 kV.  cac_kv_factor() is this.
 */
double	 heart_kv_factor(double kvp);

/*
 * Find the heart and the aortic root of v.  Fills out's public fields
 * (found; when found, center, root, zlo, zhi, volume_ml, blood_hu; when
 * not, why, in Chinese) and out->priv, a struct heart_masks, also when
 * the heart is not found.  Returns 0, or -1 with an English reason in
 * err (the compute backend, memory), out then empty.  Free with
 * heart_free().
 */
int	 heart_find(struct compute *, const struct series_volume *,
	    struct anat_heart *out, char *err, size_t errlen);

/* Free out's masks and clear it. */
void	 heart_free(struct anat_heart *);

/*
 * One pass of a box filter along one axis of a binary volume of dims:
 * out[i] = any (dilate) or all (erode; outside the volume counts as
 * background) of in over i - r .. i + r on that axis.  cnt holds
 * dims[axis] + 1 counts.
 */
void	 heart_box_pass(uint8_t *out, const uint8_t *in, const int dims[3],
	    int axis, int r, int erode, int *cnt);

#endif /* ZY_HEART_H */
