/*
 * bmd.h - the bone density reader (骨密度CT影像辅助诊断).
 *
 * The vertebrae of the shared anatomy (spine.h: found, labelled from the
 * last rib, measured): per level the trabecular CT number, an estimated
 * volumetric BMD through a phantomless calibration, the QCT category
 * (ACR 2018; the Chinese expert consensus, Cheng et al., 2020) and the
 * opportunistic L1 screening band (Pickhardt et al., 2013); the heights on
 * each body's mid-sagittal plane and the Genant semiquantitative grade of
 * a compression fracture (Genant et al., 1993).  See bmd.c.
 */
#ifndef ZY_BMD_H
#define ZY_BMD_H

#include "reader.h"
#include "series.h"
#include "spine.h"

/* Genant shapes. */
enum bmd_shape {
	BMD_SHAPE_NONE,
	BMD_SHAPE_WEDGE,	/* 楔形: the anterior height reduced */
	BMD_SHAPE_BICONCAVE,	/* 双凹形: the middle height reduced */
	BMD_SHAPE_CRUSH,	/* 压缩形: the posterior height reduced too */
	BMD_SHAPE__MAX
};

extern const char *const bmd_shape_zh[BMD_SHAPE__MAX];

/*
 * The Genant grade (0..3) of a body of heights ha, hm, hp (mm), hp_ref
 * the posterior height expected (the mean of its neighbours'; NAN when
 * none), with the largest reduction (0..1) into *loss and its shape: the
 * ratios ha/hp (wedge), hm/hp (biconcave), hp/hp_ref (crush); grade 1
 * 20-25 %, 2 25-40 %, 3 over 40 % (Genant et al., 1993).
 */
int	 bmd_genant(double ha, double hm, double hp, double hp_ref,
	    double *loss, enum bmd_shape *shape);

/* The estimated BMD (mg/cm³) of a trabecular CT number, calibrated by the
 * internal references air_hu and fat_hu (NAN: not used). */
double	 bmd_from_hu(double hu, double air_hu, double fat_hu);

/* The QCT category of a BMD (ACR 2018 and the Chinese consensus): 0
 * normal (> 120), 1 low bone mass (80-120), 2 osteoporosis (< 80). */
int	 bmd_qct_category(double bmd);
extern const char *const bmd_qct_zh[3];

/* The L1 CT-number screening band (Pickhardt et al., 2013): 0 over 160
 * HU, 1 110-160, 2 110 or under. */
int	 bmd_l1_band(double hu);
extern const char *const bmd_l1_zh[3];

enum reader_verdict bmd_check(const struct series_volume *, char *why,
	    size_t size);

/* The reader's result from the vertebrae; 0, 1 (not enough labelled
 * levels: why in err, Chinese) or -1 (memory). */
int	 bmd_to_ai(const struct spine_info *, const struct series_volume *,
	    struct ai_result *out, char *err, size_t errlen);

struct anatomy;

/*
 * The result's regions (sql/034, for the viewer): each vertebral body of
 * an's spine as label 10 + i (its index from the head down), named by
 * its level ("T12椎体"; "未定序椎体" unlabelled).  On each of its slices
 * the body is what the cortex encloses about the spine's centre line:
 * the voxels under BMD_CORTEX_HU reached from the centre without
 * crossing the cortex (at or above it), within 25 by 20 mm of the centre
 * (the measuring box), with the cortex one voxel round them.  Returns 0
 * (nothing set when there are no bodies), or -1 when out of memory.
 */
#define BMD_CORTEX_HU	250.0
int	 bmd_masks(const struct anatomy *, const struct series_volume *,
	    struct ai_result *);

/*
 * Body composition (bodycomp.h) on the middle slice of L3, else of L2,
 * L4, L5, L1 or T12 (Derstine et al., 2018), added to out: its sentences
 * to the findings (and to the conclusion when the skeletal muscle index
 * is under the cut-off for the patient's sex), the figures, the slice as
 * a key image, the colour map (picture "bodycomp"), the mid-sagittal view
 * of the spine (picture "sagittal") with the heights to draw over it,
 * and the table in out->extra.  height_m: the patient's height (NAN or 0
 * when not known: the index is not computed and the text says so); sex
 * 'M', 'F' or 0.  Returns 0 (also when no level could be measured: the
 * text says why), or -1 (memory).
 */
int	 bmd_body_to_ai(const struct spine_info *, const struct series_volume *,
	    double height_m, int sex, struct ai_result *out, char *err,
	    size_t errlen);

extern const struct reader_impl bmd_reader;

#endif /* ZY_BMD_H */
