/*
 * edt.h - the exact squared Euclidean distance transform of a 3-D mask
 * with anisotropic voxels (Felzenszwalb and Huttenlocher, 2012), shared
 * by the readers that measure thickness and open masks with a ball.
 */
#ifndef ZY_EDT_H
#define ZY_EDT_H

#include <stdint.h>

/* What edt3() gives a voxel with no seed in the volume. */
#define EDT_NONE	1e12

/*
 * The squared distance in mm of each voxel of the box d (x fastest,
 * spacing sp in mm) to the nearest voxel where seed is nonzero, into
 * dist (EDT_NONE where there is none).  Returns 0, or -1 when memory is
 * short.
 */
int	 edt3(const uint8_t *seed, const int d[3], const double sp[3],
	    double *dist);

#endif /* ZY_EDT_H */
