/*
 * pneumonia.h - the pneumonia reader (CT肺炎辅助诊断).
 *
 * Opacities in the lungs of the shared chest anatomy (anatomy.h), by
 * density: ground glass and consolidation, the vessels and airway walls
 * left out by their width, dependent density along the posterior pleura
 * set apart; each lesion a 3-D region with its slices, type, lobe and
 * segment, volume and share of the lungs; per lobe the involved share
 * and the CT severity score (Pan et al., 2020); a pneumonia likelihood
 * from CO-RADS-like features (Prokop et al., 2020).  See pneumonia.c.
 */
#ifndef ZY_PNEUMONIA_H
#define ZY_PNEUMONIA_H

#include <stddef.h>
#include <stdint.h>

#include "anatomy.h"
#include "compute.h"
#include "reader.h"
#include "series.h"

enum pneu_type {
	PNEU_GGO,		/* 磨玻璃影 */
	PNEU_CONSOLIDATION,	/* 实变 */
	PNEU_MIXED,		/* 混合 */
	PNEU_TYPE__MAX
};

extern const char *const pneu_type_zh[PNEU_TYPE__MAX];

struct pneu_lesion {
	enum pneu_type	 type;
	enum lobe	 lobe;		/* where most of it lies */
	enum lung_side	 side;
	int		 lobes;		/* the lobes it reaches, bits 1 << lobe */
	char		 location[128];	/* "右肺下叶后基底段" */
	int		 slice_first, slice_last;	/* volume z indices */
	double		 volume_ml;
	double		 lung_pct;	/* of both lungs' volume */
	double		 cons_ml;	/* of which consolidation */
	double		 hu_mean;
	double		 center[3];	/* patient mm (LPS) */
	double		 peripheral;	/* share in the outer third of the lung */
	double		 roundness;	/* largest inner ball / equivalent radius */
	int		 focal;		/* round: a nodule or mass, not a patch */
	int		 key_slice;	/* of its largest section */
	int		 x0, y0, x1, y1;	/* box on the key slice */
	double		 confidence;	/* 0..1 */
	int		 cc;		/* its connected component, 1.. */
};

struct pneu_lobe {
	double		 volume_ml;	/* the lobe's */
	double		 involved_ml;
	double		 pct;		/* involved share, percent */
	int		 score;		/* 0..5 (Pan et al., 2020) */
};

/* The pneumonia likelihood, modelled on CO-RADS (Prokop et al., 2020):
 * 1 very low .. 5 very high. */
struct pneu_level {
	int		 level;		/* 1..5 */
	const char	*zh;		/* "很低", "低", "不确定", "高", "很高" */
	char		 why[512];	/* the features that gave it, Chinese */
};

struct pneu_result {
	struct pneu_lesion *lesions;	/* by volume, largest first */
	size_t		 count;
	int		 lobes_known;	/* lobes from the anatomy */
	struct pneu_lobe lobe[LOBE__MAX];
	double		 lungs_ml;
	double		 involved_ml, involved_pct;
	double		 ggo_ml, cons_ml;
	int		 severity;	/* 0..25, with the lobes; -1 without */
	double		 dependent_ml;	/* set apart as dependent density */
	double		 vessel_ml;	/* set apart as knots of vessels */
	int		 bilateral;
	int		 nlobes;	/* lobes involved */
	int		 nfocal;	/* round lesions of 1 mL or more */
	struct pneu_level likelihood;
	double		 seconds;
	/* The lesions' voxels on the volume's grid (nx * ny * nz): lesion k
	 * (0.., in the order above, the first PNEU_REGIONS_MAX) as
	 * PNEU_REGION(k, 0) where ground glass, PNEU_REGION(k, 1) where
	 * consolidated; 0 elsewhere.  NULL when none was made. */
	uint8_t		*regions;
};

#define PNEU_REGIONS_MAX	120
#define PNEU_REGION(k, cons)	(10 + 2 * (int)(k) + ((cons) ? 1 : 0))

void	 pneumonia_result_free(struct pneu_result *);

/* The CT severity score of a lobe with pct percent involved (Pan et
 * al., 2020): 0 none, 1 under 5 %, 2 5-25 %, 3 26-49 %, 4 50-75 %, 5
 * over 75 %. */
int	 pneumonia_lobe_score(double involved_ml, double pct);

/*
 * The opacities of v in the lungs of an (ANAT_LUNGS, with ANAT_LOBES
 * where it has them) into res.  Returns 0, or -1 with an English reason
 * in err (memory, the backend).
 */
int	 pneumonia_detect(struct compute *, const struct series_volume *v,
	    const struct anatomy *an, struct pneu_result *res, char *err,
	    size_t errlen);

/* A lesion's equivalent diameter (of a sphere of its volume), mm. */
double	 pneumonia_diameter(const struct pneu_lesion *);

/* The likelihood of res from its lesions (fills res->likelihood and
 * res->nfocal). */
void	 pneumonia_likelihood(struct pneu_result *res);

/* The reader's result from res: lesions, figures, texts and method.
 * Returns 0 or -1 (out of memory). */
int	 pneumonia_to_ai(const struct pneu_result *res,
	    const struct anatomy *an, const struct series_volume *v,
	    struct ai_result *out);

enum reader_verdict pneumonia_check(const struct series_volume *,
	    char *why, size_t size);

extern const struct reader_impl pneumonia_reader;

#endif /* ZY_PNEUMONIA_H */
