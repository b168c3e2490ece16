/*
 * nodule.h - the lung nodule reader (CT肺结节智能诊断).
 *
 * Candidates by a multiscale scale-normalised Laplacian-of-Gaussian blob
 * filter inside the lungs (anatomy.h), vessels suppressed by the shape of
 * the Hessian (a nodule is a blob, a vessel a tube), each candidate
 * segmented in 3-D; per nodule its type (实性, 部分实性, 磨玻璃, 钙化),
 * lobe, axes, volume and CT numbers, the Brock (PanCan) malignancy
 * probability (McWilliams et al., 2013), the Lung-RADS v2022 category and
 * the Fleischner 2017 recommendation (MacMahon et al., 2017).
 */
#ifndef ZY_NODULE_H
#define ZY_NODULE_H

#include <stddef.h>
#include <stdint.h>

#include "anatomy.h"
#include "compute.h"
#include "reader.h"
#include "series.h"

enum nodule_type {
	NODULE_SOLID,		/* 实性 */
	NODULE_PART_SOLID,	/* 部分实性 */
	NODULE_GGN,		/* 磨玻璃 (non-solid) */
	NODULE_CALCIFIED,	/* 钙化 */
	NODULE_TYPE__MAX
};

/* "实性结节", "部分实性结节", "磨玻璃结节", "钙化结节". */
extern const char *const nodule_type_zh[NODULE_TYPE__MAX];

/* What the Brock model and the guidelines need of the patient; a field
 * that is not known is left at its "unknown" value. */
struct nodule_patient {
	double		 age;		/* years; NAN: unknown */
	int		 sex;		/* 'M', 'F', 0: unknown */
	int		 family_history;	/* 1, 0, -1: unknown */
};

struct nodule {
	enum nodule_type type;
	enum lobe	 lobe;
	enum lung_side	 side;
	char		 location[128];	/* "右肺上叶" (segment where known) */
	double		 center[3];	/* patient mm (LPS) */
	double		 center_vox[3];	/* i, j, k of the volume */
	double		 long_mm, short_mm;	/* same axial slice */
	double		 mean_mm;	/* (long + short) / 2 */
	double		 solid_mean_mm;	/* part-solid: its solid part */
	double		 volume_mm3;
	double		 hu_min, hu_max, hu_mean;
	int		 key_slice;	/* of the long axis */
	int		 x0, y0, x1, y1;	/* box on the key slice */
	int		 juxtapleural;	/* touches the pleura */
	double		 brock;		/* 0..1 */
	char		 lungrads[4];	/* "1", "2", "3", "4A", "4B" */
	char		 fleischner[256];	/* the recommendation, Chinese */
	double		 confidence;	/* 0..1 */
	/* Shape: the volume over that of the sphere of the long axis;
	 * the ratio of the longest to the shortest principal axis; the
	 * share of its voxels that touch what is not lung. */
	double		 compact, elong, contact;
	double		 dot;		/* the filter's answer */
	double		 sigma;		/* at this scale, mm */
	double		 contrast;	/* plateau - lung round it, HU */
	double		 lung_hu;	/* the lung round it, HU */
	double		 hu_q[3];	/* quartiles of its CT numbers */
	int		 halo;		/* segmented at a halo's level */
	double		 r_in;		/* largest ball inside, mm */
	double		 trunc;		/* share at the search limit */
	/* Its segmentation, the voxels the volume and the axes were
	 * measured on: a box of vox_d voxels at vox_o (i, j, k of the
	 * volume), one byte a voxel (1: the nodule), x fastest.  Owned by
	 * the result (nodule_result_free()); NULL when not kept. */
	uint8_t		*vox;
	int		 vox_o[3], vox_d[3];
};

struct nodule_result {
	struct nodule	*nodules;	/* by malignancy, then volume */
	size_t		 count;
	size_t		 candidates;	/* before the shape and size rules */
	double		 seconds_detect;
	double		 seconds_filter;	/* of which the pyramid */
};

void	 nodule_result_free(struct nodule_result *);

/*
 * The Brock (PanCan) full model (McWilliams et al., 2013): the
 * probability (0..1) that a nodule of type and size_mm (its longest
 * diameter) is malignant, for patient p (NULL or unknown fields: age 62,
 * male, no family history), upper_lobe, count nodules in the scan,
 * emphysema and spiculation (0 or 1).  NAN when size_mm is not positive.
 */
double	 nodule_brock(const struct nodule_patient *p, enum nodule_type type,
	    double size_mm, int upper_lobe, int count, int emphysema,
	    int spiculation);

/*
 * The Lung-RADS v2022 category at baseline of a nodule of mean diameter
 * mean_mm with a solid part of mean diameter solid_mm (part-solid), and
 * whether it lies on the pleura (a solid one under 10 mm is then
 * category 2; its benign shape is not assessed): "1" (calcified), "2",
 * "3", "4A" or "4B".  In the reader's result the category is in each
 * lesion's conclusion ("Lung-RADS 4A类"): its eight figures (长径, 短径,
 * 平均直径, 体积, 平均CT值, 最小CT值, 最大CT值, 恶性概率) fill
 * AI_MEASURES_MAX.
 */
const char *nodule_lungrads(enum nodule_type type, double mean_mm,
	    double solid_mm, int juxtapleural);

/*
 * The Fleischner 2017 recommendation (MacMahon et al., 2017) for an
 * incidental nodule of type and mean diameter mean_mm (its solid part
 * solid_mm), one of several when multiple, in Chinese with the
 * guideline's name, into out.  The sizes are rounded to the millimetre
 * (Bankier et al., 2017); 30 mm and more is a mass, outside the
 * guideline.
 */
void	 nodule_fleischner(enum nodule_type type, double mean_mm,
	    double solid_mm, int multiple, char *out, size_t outlen);

/* The type as shown: nodule_type_zh[], or "肿块" from 30 mm. */
const char *nodule_type_text(const struct nodule *);

/* The reader's result of r (an: the anatomy it was found in, for the
 * lungs' volumes and histograms; may be NULL).  0, or -1 when out of
 * memory. */
int	 nodule_to_ai(const struct nodule_result *r,
	    const struct anatomy *an, const struct series_volume *v,
	    struct ai_result *out);

/*
 * Find the nodules of v inside the lungs of an (which must hold
 * ANAT_LUNGS; lobes are used when present).  Returns 0, or -1 with an
 * English reason in err.
 */
int	 nodule_detect(struct compute *, const struct series_volume *,
	    const struct anatomy *, const struct nodule_patient *,
	    struct nodule_result *, char *err, size_t errlen);

extern const struct reader_impl nodule_reader;

#endif /* ZY_NODULE_H */
