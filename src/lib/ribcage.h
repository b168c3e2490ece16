/*
 * ribcage.h - the rib cage phantom: a chest CT of known ribs, vertebrae
 * and rib fractures, for the rib reader's tests and its evaluation
 * (zhiying-phantom -R).
 *
 * A trunk of fat and soft tissue with two lungs round a column of
 * vertebral bodies T1..L1 and the top of L2 (elliptic bodies of 1 mm
 * cortex round trabecular bone, discs between them, the arch, canal and
 * spinous process behind; transverse processes on L1 and L2).  Twelve
 * ribs on each side: curved tubes of RIBCAGE_RIB_R mm with a cortex of
 * RIBCAGE_CORTEX_MM round marrow, each from the side of its body T1..T12
 * (head at the body's upper half), out to the tubercle and round the
 * trunk on an ellipse of its own width, descending towards its front end:
 * ribs 1-7 reach the front beside the sternum, 8-10 end at the costal
 * margin, 11 and 12 are short (floating).
 *
 * Fractures of known place and kind are put on the ribs:
 *  - RIBCAGE_CUT: a gap of RIBCAGE_GAP_MM across the rib (non-displaced);
 *  - RIBCAGE_DISPLACED: the gap, the rib beyond it (from the head)
 *    shifted by shift_mm square to the rib, upwards;
 *  - RIBCAGE_BUCKLE: a bulge of the cortex on the rib's outer side
 *    (a half-sphere of cortex of RIBCAGE_BUCKLE_MM radius);
 *  - RIBCAGE_CALLUS: a healed fracture, the rib thickened by up to
 *    RIBCAGE_CALLUS_MM over some 15 mm, of irregular density.
 * A segmental fracture is two cuts on one rib.
 *
 * Two options, off in the standard phantom, put what on real scans makes
 * false candidates (ribcage_spec.options):
 *  - RIBCAGE_OBLIQUE: ribs 2-11 drop steeply (RIBCAGE_SAG_MM more, rib 1
 *    and rib 12 half of it) between 25 and 65 degrees round the cage from
 *    the tubercle, the posterior and axillary stretch where real ribs
 *    leave the axial plane (up to some 40 degrees to it here);
 *  - RIBCAGE_SHOULDER: a scapula on each side, a plate of 4 mm (1 mm
 *    cortex on each face round marrow) over ribs 2-7 behind, following the
 *    back of the cage RIBCAGE_SCAP_GAP_MM off the most posterior rib at
 *    each width (touching some ribs, a few mm off the others), and a
 *    clavicle, a tube of 6 mm (1.5 mm cortex), from beside the top of the
 *    sternum over the front of rib 1 (2 mm off it) out and back to the
 *    shoulder.  Neither holds a fracture.
 */
#ifndef ZY_RIBCAGE_H
#define ZY_RIBCAGE_H

#include <stddef.h>

#include "series.h"

#define RIBCAGE_RIB_R		3.5
#define RIBCAGE_CORTEX_MM	1.0
#define RIBCAGE_GAP_MM		1.5
#define RIBCAGE_BUCKLE_MM	2.8
#define RIBCAGE_CALLUS_MM	3.5
#define RIBCAGE_FRACTURES_MAX	24
#define RIBCAGE_SAG_MM		28.0
#define RIBCAGE_SCAP_GAP_MM	1.0

#define RIBCAGE_OBLIQUE		0x1
#define RIBCAGE_SHOULDER	0x2

enum ribcage_kind {
	RIBCAGE_CUT,
	RIBCAGE_DISPLACED,
	RIBCAGE_BUCKLE,
	RIBCAGE_CALLUS,
	RIBCAGE_KIND__MAX
};

/* "cut", "displaced", "buckle", "callus". */
extern const char *const ribcage_kind_names[RIBCAGE_KIND__MAX];

struct ribcage_fracture {
	int		 side;		/* 1 right, 2 left */
	int		 number;	/* 1..12 */
	double		 t;		/* along the rib's shaft, 0 the
					 * tubercle .. 1 the front end */
	enum ribcage_kind kind;
	double		 shift_mm;	/* RIBCAGE_DISPLACED */
	/* Filled by ribcage_build(): where it lies, mm (x, y, z, the
	 * volume's patient coordinates) and its segment (0 posterior, 1
	 * axillary, 2 anterior, from its angle round the cage). */
	double		 p[3];
	int		 segment;
};

struct ribcage_spec {
	double		 pixel_mm;	/* in-plane; 0: 0.9 */
	double		 slice_mm;	/* thickness = spacing */
	double		 noise_hu;
	unsigned	 seed;
	unsigned	 options;	/* RIBCAGE_OBLIQUE, RIBCAGE_SHOULDER */
	struct ribcage_fracture f[RIBCAGE_FRACTURES_MAX];
	size_t		 nf;
};

/* The standard set of fractures (ribcage.c: nine, of each kind, both
 * sides, all three segments, one segmental pair) into spec->f. */
void	 ribcage_standard(struct ribcage_spec *, double slice_mm,
	    double noise_hu, unsigned seed);

/* The shoulder (RIBCAGE_SHOULDER) and, instead of the nine, four
 * fractures under the scapulae: a cut on R3, a displaced cut of 3 mm on
 * L4, a buckle on R5 and a cut on L6, 0.18-0.25 of the shaft from the
 * tubercle (ribeval -u and the unit tests share it). */
void	 ribcage_under_scapula(struct ribcage_spec *, double slice_mm,
	    double noise_hu, unsigned seed);

/*
 * Build the phantom of spec into a new series_volume (series_free()) and
 * fill in the fractures' places.  Returns 0, or -1 with an English reason
 * in err.
 */
int	 ribcage_build(struct ribcage_spec *, struct series_volume **out,
	    char *err, size_t errlen);

/*
 * The truth of the ribs of a built phantom, for the tests: the point (mm,
 * patient) of rib number (1..12) on side (1 right, 2 left) at t along its
 * shaft (0 tubercle, 1 front end) and the z of its head.  Returns 0, or
 * -1 for a rib that is not there.
 */
int	 ribcage_rib_point(const struct ribcage_spec *, int side, int number,
	    double t, double p[3]);
double	 ribcage_head_z(const struct ribcage_spec *, int number);

/* The z (mm) of the middle of vertebra i (0 T1 .. 12 L1, 13 L2). */
double	 ribcage_body_z(const struct ribcage_spec *, int i);

#endif /* ZY_RIBCAGE_H */
