/*
 * bodycomp.h - body composition on one axial slice at a lumbar level
 * (the bone density reader's, bmd.c): subcutaneous and visceral fat, the
 * abdominal wall's muscle and the paraspinal muscles (erector spinae,
 * quadratus lumborum and psoas), and the intermuscular fat within each
 * of the two muscle groups, each as an area and a mean CT number, with a
 * map of the slice's pixels by compartment for the colour picture.
 * See bodycomp.c for the rules and their sources.
 */
#ifndef ZY_BODYCOMP_H
#define ZY_BODYCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"
#include "spine.h"

/* The compartments, as the map holds them (0: none of them). */
enum bc_tissue {
	BC_NONE,
	BC_SAT,			/* subcutaneous fat */
	BC_VAT,			/* visceral fat */
	BC_WALL_IMAT,		/* intermuscular fat, abdominal wall */
	BC_PARA_IMAT,		/* intermuscular fat, paraspinal */
	BC_WALL_MUSCLE,		/* abdominal wall muscle */
	BC_PARA_MUSCLE,		/* paraspinal muscle, with the psoas */
	BC__MAX
};

/* "皮下脂肪", ... in the order above. */
extern const char *const bc_tissue_zh[BC__MAX];
/* Their colours in the picture, RGB. */
extern const unsigned char bc_colour[BC__MAX][3];

/* The HU windows: muscle and fat as the Alberta protocol (TomoVision's
 * Slice-O-Matic) sets them; visceral fat in the same window as the other
 * fat (-190..-30 HU, as e.g. the studies of Sci Rep 2025;15:96238 table 1
 * use it), not TomoVision's -150..-50 HU, which drops the pixels of fat
 * shared with the bowel wall and the organs (3.7 % of the phantom's
 * visceral fat). */
#define BC_MUSCLE_LO	(-29.0)
#define BC_MUSCLE_HI	150.0
#define BC_FAT_LO	(-190.0)
#define BC_FAT_HI	(-30.0)
#define BC_VAT_LO	BC_FAT_LO
#define BC_VAT_HI	BC_FAT_HI

struct bodycomp {
	int		 slice;		/* z index measured */
	int		 nx, ny;
	double		 area_cm2[BC__MAX];
	double		 hu[BC__MAX];	/* mean; NAN where none */
	long		 n[BC__MAX];	/* pixels */
	uint8_t		*map;		/* nx * ny, enum bc_tissue */
};

/*
 * Measure slice k of v at the vertebral body vb (its centre and box on
 * that slice, spine.h) into out (free with bodycomp_free()).  Returns 0;
 * 1 when the slice shows no body to measure (the reason in err, Chinese);
 * -1 with an English reason in err (memory).
 */
int	 bodycomp_measure(const struct series_volume *v, int k,
	    const struct vertebra *vb, struct bodycomp *out, char *err,
	    size_t errlen);

void	 bodycomp_free(struct bodycomp *);

/* The skeletal muscle area (wall and paraspinal), cm². */
double	 bodycomp_muscle_cm2(const struct bodycomp *);

/*
 * The slice as an RGB picture (3 bytes a pixel, nx * ny, malloc'd into
 * *rgb): the soft-tissue window (40/400 HU) in grey, each compartment's
 * pixels tinted with its colour.  Returns 0 or -1 (memory).
 */
int	 bodycomp_picture(const struct series_volume *v,
	    const struct bodycomp *, unsigned char **rgb);

#endif /* ZY_BODYCOMP_H */
