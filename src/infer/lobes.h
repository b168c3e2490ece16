/*
 * lobes.h - the five lung lobes from the fissures.
 *
 * The fissures are plate-like sheets a little denser than the lung round
 * them: a Hessian plate filter enhances them, a smooth surface is fitted
 * to what it finds in each lung, and the lobes are the parts of the lung
 * on either side (right: upper, middle, lower; left: upper with the
 * lingula, lower).  Where a fissure is not seen over enough of its
 * expected extent, the border comes from the lung's geometry, and the
 * method text says so.
 */
#ifndef ZY_LOBES_H
#define ZY_LOBES_H

#include <stddef.h>
#include <stdint.h>

#include "anatomy.h"
#include "compute.h"
#include "series.h"

/*
 * Cut the lungs of v (lungs: enum lung_side per voxel of v's grid) into
 * lobes (enum lobe per voxel, LOBE_NONE outside the lungs), with how it
 * was done in *info.  Returns 0, or -1 with an English reason in err
 * (memory, the compute backend).  A lung missing from the mask is no
 * error: its fissure is reported not seen and the method text says so.
 *
 * The mask is best with the vessels' holes filled and the trachea and
 * main bronchi left out, as anatomy.h's lungs are; right and left must
 * be the patient's (LUNG_RIGHT at lower patient x).  Sides, up and
 * anterior come from v's orientation (row, col, step), so the order of
 * the slices does not matter.  The heavy 3-D passes (resampling,
 * smoothing, thresholds, morphology, components) run on the backend;
 * no state is kept between calls.  About 1 s for a 512 x 512 x 261 chest
 * on two cores.
 */
int	 lobes_find(struct compute *, const struct series_volume *v,
	    const uint8_t *lungs, uint8_t *lobes, struct lobe_info *info,
	    char *err, size_t errlen);

/* A lobe's extent in patient mm (DICOM LPS) and its size in voxels. */
struct lobe_extent {
	long long	 voxels;
	double		 lo[3], hi[3];
};

/* The extents of the lobes of a lobes mask on v's grid. */
void	 lobes_extents(const struct series_volume *v, const uint8_t *lobes,
	    struct lobe_extent ext[LOBE__MAX]);

/*
 * The bronchopulmonary segment (10 right, 8 left, as Chinese reports
 * count them) that patient position p most likely lies in, from its place
 * within the extent of its lobe l: "右肺上叶尖段", ...; "" for LOBE_NONE
 * or an empty lobe.  An approximation from the lobe's geometry (the
 * segments' usual positions), not a segmentation along the bronchi.
 * Static strings.
 */
const char	*lobes_segment_zh(enum lobe l, const struct lobe_extent *e,
		    const double p[3]);

#endif /* ZY_LOBES_H */
