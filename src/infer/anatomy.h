/*
 * anatomy.h - the chest anatomy that the CT readers share, once per series.
 *
 * The readers ask for the parts they need (anatomy_get()); each part is
 * computed once per series on the compute backend and kept in a cache
 * for the other jobs of the same series, so that the lung nodule and the
 * pneumonia readers share the lungs and lobes, and the calcium reader's
 * heart is found once.  Masks are on the volume's own voxel grid
 * (v->nx * v->ny * v->nz, x fastest), as struct series_volume keeps the
 * voxels.
 *
 *  - body: the patient's outline (table, air and the reconstruction
 *    circle's padding outside).
 *  - lungs: the lung parenchyma, right and left separated where they
 *    touch at the anterior and posterior junctions (Hu et al., 2001), the
 *    trachea and main bronchi removed, and the holes and pleural
 *    indentations that nodules and vessels make filled, so that a
 *    juxtapleural nodule lies inside the mask.
 *  - lobes: the five lobes from the fissures (lobes.h), with a stated
 *    fallback where a fissure is not seen.
 *  - heart: the heart and the aortic root (heart.h).
 *  - spine: the centre of the vertebral bodies on each slice.
 *  - vertebrae: the bodies, labelled and measured (spine.h).
 */
#ifndef ZY_ANATOMY_H
#define ZY_ANATOMY_H

#include <stddef.h>
#include <stdint.h>

#include "compute.h"
#include "series.h"
#include "spine.h"

/* The parts, as bits for anatomy_get(). */
#define ANAT_BODY	0x01u
#define ANAT_LUNGS	0x02u	/* implies ANAT_BODY */
#define ANAT_LOBES	0x04u	/* implies ANAT_LUNGS */
#define ANAT_HEART	0x08u
#define ANAT_SPINE	0x10u
#define ANAT_VERTEBRAE	0x20u	/* implies ANAT_SPINE and ANAT_BODY */

/* Values of the lungs mask. */
enum lung_side {
	LUNG_NONE,
	LUNG_RIGHT,
	LUNG_LEFT,
	LUNG_SIDE__MAX
};

/* "", "右肺", "左肺". */
extern const char *const lung_side_zh[LUNG_SIDE__MAX];

/* Values of the lobes mask. */
enum lobe {
	LOBE_NONE,
	LOBE_RUL,		/* 右肺上叶 */
	LOBE_RML,		/* 右肺中叶 */
	LOBE_RLL,		/* 右肺下叶 */
	LOBE_LUL,		/* 左肺上叶 (with the lingula) */
	LOBE_LLL,		/* 左肺下叶 */
	LOBE__MAX
};

/* "", "右肺上叶", "右肺中叶", "右肺下叶", "左肺上叶", "左肺下叶". */
extern const char *const lobe_zh[LOBE__MAX];

/*
 * The CT-number histogram of one lung: bins of ANAT_HIST_WIDTH HU from
 * ANAT_HIST_LO, the first holding everything below, the last everything
 * at or above its lower edge; counts in voxels.
 */
#define ANAT_HIST_LO	(-1000.0)
#define ANAT_HIST_WIDTH	10.0
#define ANAT_HIST_BINS	100

/* Of the voxels of one side of the lungs mask (so without the
 * airways). */
struct lung_stats {
	double		 volume_ml;
	double		 mean_hu;
	double		 laa950_pct;	/* share below -950 HU, percent */
	long long	 hist[ANAT_HIST_BINS];
};

/* What the lobes were cut from, for the reader's method text. */
struct lobe_info {
	/* The share of each fissure's expected surface that the filter
	 * saw: right oblique, right horizontal, left oblique (0..1). */
	double		 fissure_seen[3];
	int		 fallback;	/* a lobe border came from geometry */
	char		 method_zh[512];	/* how, in Chinese, for the page */
};

/* The heart and aortic root (filled by heart.c). */
struct anat_heart {
	int		 found;
	double		 center[3], root[3];	/* patient mm */
	double		 zlo, zhi;		/* patient z range */
	double		 volume_ml;
	double		 blood_hu;	/* its median CT number */
	char		 why[256];	/* when not found, in Chinese */
	void		*priv;		/* the finder's own masks (heart.h) */
};

struct anatomy {
	long long		 series_id;
	int			 dims[3];	/* the volume's */
	double			 spacing[3];
	unsigned		 have;		/* ANAT_* computed */
	/* The patient, with the lungs; not the table, the air round him
	 * nor the padding outside the reconstruction circle. */
	uint8_t			*body;		/* 0/1 */
	/* The lungs with their vessels, the nodules and the pleural
	 * indentations filled in; never an airway voxel. */
	uint8_t			*lungs;		/* enum lung_side */
	/* The trachea and main bronchi (and the larger bronchi the growth
	 * reached before it would leak), their lumen with its rim. */
	uint8_t			*airways;	/* trachea, main bronchi: 0/1 */
	uint8_t			*lobes;		/* enum lobe */
	struct lobe_info	 lobe_info;
	/* Whether the lungs are whole in the series: 1 from the apices
	 * to the bases and inside the field of view, 0 cut (why says
	 * where, in Chinese), -1 not known. */
	int			 lungs_complete;
	char			 lungs_why[256];
	struct lung_stats	 lung[LUNG_SIDE__MAX];	/* [RIGHT], [LEFT] */
	struct anat_heart	 heart;
	/* Per slice, the centre of the vertebral body (voxels x, y); NAN
	 * where none is seen. */
	double			*spine_xy;	/* 2 * nz */
	/* The vertebral bodies, their labels and measures (spine.h). */
	struct spine_info	 spine;
	/* Seconds spent on each part, for the bench: the sum over the
	 * calls that computed something. */
	double			 seconds;
};

struct anatomy_cache;

/* A cache of the anatomy of the last series seen; NULL when out of
 * memory.  Free with anatomy_cache_free(). */
struct anatomy_cache	*anatomy_cache_new(void);
void			 anatomy_cache_free(struct anatomy_cache *);

/*
 * The anatomy of v (series series_id) with at least the parts asked for:
 * the cached one when it is of the same series and volume, computed
 * further as needed; a different series replaces what the cache held.
 * The anatomy stays the cache's (valid until the next call with another
 * series, or the cache is freed).  Returns 0, or -1 with an English
 * reason in err (the compute backend, memory).  A part that is not there
 * to find (no lungs in a head CT) is not an error: its mask is empty and
 * the reader decides.
 */
int	 anatomy_get(struct anatomy_cache *, struct compute *,
	    const struct series_volume *, long long series_id,
	    unsigned parts, const struct anatomy **out, char *err,
	    size_t errlen);

#endif /* ZY_ANATOMY_H */
