/*
 * cac.h - the coronary calcium reader (冠脉钙化积分).
 *
 * Calcified lesions are found in a non-contrast CT of the chest and
 * scored as published:
 *
 *  - Agatston score (Agatston et al., 1990): on each slice, a lesion is a
 *    connected region of at least 130 HU and at least 1 mm²; its area
 *    times a density weight from its peak (1: 130-199 HU, 2: 200-299,
 *    3: 300-399, 4: >= 400) is summed over all slices.  The original
 *    slices were 3 mm thick and contiguous, so the sum is scaled by the
 *    slice increment over 3 mm for other reconstructions.
 *  - Volume score (Callister et al., 1998): the volume of the voxels of
 *    the same lesions (mm³).
 *  - Mass score (McCollough et al., 2007): m = c × V × mean CT number,
 *    with c the calibration factor of hydroxyapatite (mg/cm³ per HU at
 *    120 kV) of the scanner.
 *  - At tube voltages other than 120 kV calcium attenuates differently:
 *    the threshold and the weight bands are scaled by the relative CT
 *    number of hydroxyapatite at that voltage (147 HU at 100 kV, as
 *    Nakazato et al., 2009), and so is c.
 *  - Categories: 0, 1-99, 100-399, >= 400 (Hecht et al., 2017), and
 *    CAC-DRS A0-A3 with the number of vessels N1-N4 (Hecht et al., 2018).
 *
 * Each lesion is assigned to the left main (LM), the left anterior
 * descending (LAD), the left circumflex (LCX) or the right coronary
 * artery (RCA) from where it lies relative to the heart and the aortic
 * root, which the reader finds itself; calcium in bone, in the aorta
 * away from the heart and at the aortic valve is not coronary and is
 * left out of the scores (it is listed as excluded).
 */
#ifndef ZY_CAC_H
#define ZY_CAC_H

#include <stddef.h>

#include "anatomy.h"
#include "compute.h"
#include "reader.h"
#include "series.h"

enum cac_artery {
	CAC_LM,
	CAC_LAD,
	CAC_LCX,
	CAC_RCA,
	CAC_ARTERY__MAX
};

/* "LM", "LAD", "LCX", "RCA". */
extern const char *const cac_artery_names[CAC_ARTERY__MAX];
/* "左冠状动脉主干", ... */
extern const char *const cac_artery_zh[CAC_ARTERY__MAX];

/* Why a calcified region does not count. */
enum cac_exclusion {
	CAC_KEPT,
	CAC_EX_BONE,		/* part of a bone: large, or outside the heart */
	CAC_EX_OUTSIDE,		/* away from the heart: aorta, lung, wall */
	CAC_EX_VALVE,		/* at the aortic root: valve, annulus */
	CAC_EX_INTRACARDIAC,	/* deep in the heart: valves, annulus */
	CAC_EX_SMALL,		/* below 1 mm² on every slice */
	CAC_EX_WALL,		/* in the chest wall: costal cartilage */
	CAC_EXCLUSION__MAX
};

extern const char *const cac_exclusion_names[CAC_EXCLUSION__MAX];

struct cac_opts {
	double	 calibration;	/* mg/cm³ per HU at 120 kV; 0: 0.75 */
	double	 min_area_mm2;	/* 0: 1 */
	int	 want_heart;	/* keep the heart's mask in the result */
	/* The heart of the series' shared anatomy (anatomy.h, found by
	 * heart_find()); NULL: cac_score() finds it itself. */
	const struct anat_heart *heart;
	/* Where calibration came from, said in the method ("GE
	 * LightSpeed16 120 kV": the site's phantom; NULL or "": the
	 * configured default). */
	const char *calibration_from;
};

/* One calcified region (3-D connected, 26 neighbours). */
struct cac_lesion {
	enum cac_exclusion excluded;
	enum cac_artery	 artery;	/* when kept */
	double		 agatston;	/* normalised to 3 mm */
	double		 volume_mm3;
	double		 mass_mg;
	double		 bg_hu;		/* the background under it */
	double		 peak_hu;	/* as measured */
	double		 centroid[3];	/* patient coordinates (mm) */
	int		 slices;	/* with a counted area */
	int		 key_slice;	/* largest area */
	int		 x0, y0, x1, y1; /* on the key slice */
	double		 key_area_mm2;
	double		 fat;		/* share of fat round it, 0..1 */
	double		 lung;		/* share of lung round it, 0..1 */
};

/* Whether a series was scored. */
enum cac_verdict {
	CAC_SCORED,
	CAC_NOT_ASSESSABLE,	/* 未能评估: no heart to trust */
	CAC_REFUSED,		/* not for this reader: contrast, noise */
	CAC_VERDICT__MAX
};

struct cac_totals {
	double		 agatston, volume_mm3, mass_mg;
	int		 lesions;
};

struct cac_result {
	struct cac_lesion *lesions;	/* kept first, by artery then size */
	size_t		 nlesions;
	size_t		 nkept;
	struct cac_totals artery[CAC_ARTERY__MAX];
	struct cac_totals total;
	int		 vessels;	/* arteries with calcium */
	double		 kvp;		/* used (120 when unknown) */
	int		 kvp_assumed;
	double		 kv_factor;	/* relative CT number of calcium */
	double		 threshold_hu;	/* 130 scaled */
	double		 calibration;	/* c at 120 kV */
	char		 calibration_from[200];	/* "": the default */
	double		 increment_mm;	/* slice increment */
	enum cac_verdict verdict;
	char		 why[512];	/* when not scored, in Chinese */
	int		 heart_found;
	double		 heart_center[3], aortic_root[3];	/* mm */
	double		 blood_hu;	/* the heart's median CT number */
	/* With want_heart: the heart's mask on the reader's coarse grid
	 * (dims, spacing in the volume's axes, x fastest), for pictures. */
	unsigned char	*heart_mask;
	int		 heart_dims[3];
	double		 heart_sp[3];
	double		 noise_hu;	/* the image's, in the heart */
};

/* The relative CT number of hydroxyapatite at kvp (1 at 120 kV). */
double	 cac_kv_factor(double kvp);

/* The Agatston density weight of a peak (in HU at 120 kV): 0-4. */
int	 cac_weight(double peak_hu120);

/* "0", "1-99", ... as the Chinese category sentence part. */
const char *cac_category_zh(double agatston);

/* CAC-DRS A0..A3 for a total Agatston score. */
int	 cac_drs(double agatston);

/*
 * Find, score and assign the calcified lesions of v.  Returns 0, or -1
 * with an English reason in err (a compute backend failure, memory, or
 * cancel set).  Free the result with cac_result_free().
 */
int	 cac_score(struct compute *, const struct series_volume *,
	    const struct cac_opts *, volatile int *cancel,
	    struct cac_result *, char *err, size_t errlen);

void	 cac_result_free(struct cac_result *);

/*
 * Measure every calcified region of v as the mass score does, without
 * the heart: what a calibration phantom's inserts hold.  *out gets the
 * nout regions (free() it) with volume_mm3 (at the threshold), peak_hu,
 * bg_hu, centroid and mass_mg with the calibration cal (mg/cm³ per HU
 * at 120 kV; 0 for the default).  A site measures its phantom's inserts
 * of known density with cal = 1 to find its own factor: the inserts'
 * mass over the figure given.  Returns 0, or -1 with a reason in err.
 */
int	 cac_measure(struct compute *, const struct series_volume *,
	    double cal, struct cac_lesion **out, size_t *nout, char *err,
	    size_t errlen);

/* Fill an ai_result (lesions, figures, key image, text, method) from a
 * scored result.  Returns 0 or -1 (memory). */
int	 cac_to_ai(const struct cac_result *, const struct series_volume *,
	    struct ai_result *);

extern const struct reader_impl cac_reader;

#endif /* ZY_CAC_H */
