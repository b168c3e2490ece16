/*
 * ribs.h - the ribs of a chest CT: found, traced, numbered, and searched
 * for fractures along their centre lines; for the rib fracture reader and
 * the viewer (curved planar reformations along the centre lines).
 *
 *  - ribs_trace(): each rib as a 3-D component of bone beside the spine
 *    (as spine.c finds them), its centre line (points 1 mm apart from the
 *    head to the front end), its side and its number 1-12 (counted from
 *    the first rib when the scan shows the top of the cage and the lungs'
 *    apices, checked from T12 with the last rib; not numbered when it
 *    shows neither end), and the vertebrae's labels;
 *  - ribs_fractures(): candidates along each centre line from the rib's
 *    cross-sections square to it: breaks of the cortical ring, step-offs
 *    and angulation, buckles (a local bulge of the cortex on one side) and
 *    callus (the rib thickened all round), typed in the RibFrac classes
 *    and healed ones.
 * See ribs.c for the rules and their sources.
 */
#ifndef ZY_RIBS_H
#define ZY_RIBS_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"
#include "spine.h"

#define RIBS_MAX		32
#define RIB_PTS_MAX		480	/* 1 mm apart */
#define RIB_FRACTURES_MAX	64
#define RIB_SKIP_MAX		8

enum rib_side {
	RIB_RIGHT = 1,
	RIB_LEFT = 2
};

/* The fracture types (RibFrac, Jin et al., 2020: displaced,
 * non-displaced, buckle, segmental; and healed ones). */
enum rib_frac_type {
	RIBF_DISPLACED,		/* 移位骨折 */
	RIBF_NONDISPLACED,	/* 无移位骨折 */
	RIBF_BUCKLE,		/* 屈曲骨折 */
	RIBF_SEGMENTAL,		/* 节段性骨折 */
	RIBF_OLD,		/* 陈旧性骨折 */
	RIBF__MAX
};

extern const char *const rib_frac_zh[RIBF__MAX];
/* "后段", "腋段", "前段". */
extern const char *const rib_segment_zh[3];

struct rib {
	int		 side;		/* enum rib_side */
	int		 number;	/* 1..12; 0 not numbered */
	int		 n;		/* centre line points */
	float		 c[RIB_PTS_MAX][3];	/* voxels (x, y, slice) */
	double		 head_z;	/* patient z of its head, mm */
	double		 reach_mm;	/* to the side from the spine */
	int		 body;		/* spine body by its head; -1 */
	long		 blocks;	/* its blocks of bone */
	int		 searched;	/* searched for fractures (a line
					 * that ran into the scapula or an
					 * arm is not) */
	int		 nskip;		/* stretches not searched: */
	int		 skip[RIB_SKIP_MAX][2];	/* centre line points a..b
					 * where the rib is not separated
					 * from another bone (the scapula,
					 * the clavicle) */
};

struct rib_fracture {
	int		 rib;		/* index in ribs_info.r */
	enum rib_frac_type type;
	int		 segment;	/* 0 posterior, 1 axillary, 2 anterior */
	double		 s_mm;		/* along the centre line from the
					 * head */
	double		 p[3];		/* voxels */
	/* What was measured there. */
	double		 ring;		/* the ring's brightness over the
					 * rib's own hereabouts, 0..1+ */
	double		 step_mm;	/* step-off of the centre line */
	double		 angle_deg;	/* angulation */
	double		 bulge_mm;	/* one-sided bulge */
	double		 thick_mm;	/* all-round thickening */
	int		 key_slice;
	int		 x0, y0, x1, y1;	/* box on the key slice */
};

struct ribs_info {
	struct rib	 r[RIBS_MAX];	/* right side first, each side from
					 * the head down */
	size_t		 n;
	int		 numbered;	/* numbers given (on either side) */
	int		 uncertain;	/* the two counts disagree, or one
					 * side only */
	int		 top_seen[3], bottom_seen[3];	/* per side */
	double		 apex_share;	/* the lungs' area in the top 3 mm
					 * over their largest slice's (the
					 * apices in view when small); NAN
					 * without a body mask */
	int		 vlabel[SPINE_BODIES_MAX];	/* spine bodies' labels
						 * (SPINE_*), 0 unknown */
	size_t		 nv;
	double		 cage[2];	/* the cage's centre, voxels x, y */
	char		 how_zh[256];	/* how the numbers were set */
	char		 why[256];	/* no ribs or no numbers: why */
	struct rib_fracture f[RIB_FRACTURES_MAX];
	size_t		 nf;
	size_t		 nf_dropped;	/* over RIB_FRACTURES_MAX */
};

/*
 * The ribs of v from the spine's centre line spine_xy (2 * nz, voxels,
 * NAN where none), the body mask (may be NULL) and the vertebrae si (may
 * be NULL) into out.  Returns 0 (out->n 0 with a reason when no rib is
 * seen), or -1 with an English reason in err (memory).
 */
int	 ribs_trace(const struct series_volume *v, const double *spine_xy,
	    const uint8_t *body, const struct spine_info *si,
	    struct ribs_info *out, char *err, size_t errlen);

/* The fracture candidates along the traced ribs of ri into ri->f. */
int	 ribs_fractures(const struct series_volume *v, struct ribs_info *ri,
	    char *err, size_t errlen);

/* The segments (bit 0 posterior, 1 axillary, 2 anterior) that rib ir's
 * stretches not searched cross (0 when none). */
int	 ribs_skip_segments(const struct series_volume *v,
	    const struct ribs_info *ri, int ir);

/* "左第5肋腋段" (number "?" when not numbered). */
void	 ribs_where_zh(const struct ribs_info *, const struct rib_fracture *,
	    char *buf, size_t sz);

/* The segment (0 posterior, 1 axillary, 2 anterior) of the point (x, y
 * voxels) of v round the cage's centre. */
int	 ribs_segment(const struct series_volume *v, const struct ribs_info *,
	    double x, double y);

/* The cross-section axes square to the unit tangent t (mm): u in the
 * axial plane where the rib allows (t x z), w = t x u. */
void	 ribs_section_axes(const double t[3], double u[3], double w[3]);

#endif /* ZY_RIBS_H */
