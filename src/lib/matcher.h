/*
 * matcher.h - does a series fit each AI reader's data requirements?
 *
 * When a series arrives, it is checked against the requirements of each
 * of the seven AI readers, taken from the user manual's table of readers
 * and their 影像数据匹配限制要求.  For each reader the answer is whether
 * the series fits; a series that fits gets a job queued for that reader
 * (elsewhere), one that fits none shows why, in Chinese, on the
 * application page.
 *
 * The matcher only looks at what it is given: the study index fills a
 * struct match_series from the headers, the series loader later adds
 * what it measures (slice spacing, lung and vertebra coverage).  Values
 * not known yet are marked unknown (NAN, TRI_UNKNOWN, -1) and most of them
 * let the series fit with an advisory note; see matcher.c for each rule.
 * Nothing here allocates, logs or keeps state.
 */
#ifndef ZY_MATCHER_H
#define ZY_MATCHER_H

#include <stddef.h>

/* The AI readers, in the order of the manual's table. */
enum reader {
	READER_CT_LUNG_NODULE,		/* CT肺结节智能诊断 */
	READER_CT_PNEUMONIA,		/* CT肺炎辅助诊断 */
	READER_CT_RIB_FRACTURE,		/* CT骨折辅助诊断 */
	READER_DR_TUBERCULOSIS,		/* DR肺结核智能诊断 */
	READER_DR_LIMB_FRACTURE,	/* DR骨折辅助诊断 */
	READER_CT_BONE_DENSITY,		/* 骨密度CT影像辅助诊断 */
	READER_CT_CORONARY_CALCIUM,	/* 冠脉钙化积分 */
	READER__MAX
};

/* The kind of equipment a reader takes. */
enum match_modality {
	MATCH_MOD_CT,			/* computed tomography */
	MATCH_MOD_DR,			/* digital radiography: DX, CR */
	MATCH_MOD__MAX
};

/* Body regions the classifier tells apart. */
enum body_region {
	REGION_UNKNOWN,			/* nothing said, or contradictory */
	REGION_CHEST,			/* 胸部 */
	REGION_ABDOMEN,			/* 腹部 */
	REGION_CHEST_ABDOMEN,		/* 胸腹部 (胸腹连扫) */
	REGION_LUMBAR,			/* 腰椎 */
	REGION_LIMB,			/* 四肢 */
	REGION_HEAD,			/* 头部 */
	REGION_OTHER,			/* known, but none of the above */
	REGION__MAX
};
#define REGION_BIT(r)	(1u << (r))

/* Classes of CT reconstruction kernels. */
enum kernel_class {
	KERNEL_UNKNOWN,			/* absent or not recognised */
	KERNEL_STANDARD,		/* standard or soft: 标准重建算法 */
	KERNEL_SHARP,			/* lung, bone, edge, high resolution */
	KERNEL__MAX
};

/* What a reader needs of the reconstruction kernel. */
enum kernel_policy {
	KERNEL_ANY,			/* not a requirement */
	KERNEL_SHARP_PREFERRED,		/* any; a note unless sharp */
	KERNEL_STANDARD_REQUIRED,	/* sharp kernels refused */
	KERNEL_POLICY__MAX
};

/* What a reader needs of contrast enhancement. */
enum contrast_policy {
	CONTRAST_ANY,			/* either; a note if enhanced */
	CONTRAST_REFUSED,		/* non-contrast (平扫) only */
	CONTRAST_POLICY__MAX
};

/*
 * One reader's requirements.  A limit of 0 means "no such limit".
 * The numbers come from the manual's table; see readers[] in matcher.c.
 */
struct reader_def {
	const char	*code;		/* "ct_lung_nodule", as stored */
	const char	*zh;		/* "CT肺结节智能诊断", as shown */
	const char	*short_zh;	/* "肺结节", inside reasons */
	enum match_modality modality;
	unsigned int	 regions;	/* REGION_BIT()s accepted */
	const char	*regions_zh;	/* the manual's wording of them */
	double		 max_thickness, max_spacing;	/* mm */
	double		 rec_thickness, rec_spacing;	/* recommended, mm */
	double		 kvp_min, kvp_max, kvp_rec;	/* kV */
	enum kernel_policy kernel;
	enum contrast_policy contrast;
	const char	*window_zh;	/* display window, advisory; or NULL */
	int		 lungs;		/* the complete lungs must be covered */
	int		 frontal;	/* frontal (PA, AP) radiographs only */
	int		 min_vertebrae;	/* of T12, L1 and L2 */
	int		 heart;		/* the whole heart must be covered */
	/* An ECG-gated calcium-score series (its description says so) may
	 * be this thick and spaced; 0: no such allowance. */
	double		 gated_thickness;
};

/* The least craniocaudal coverage that can hold the whole heart and the
 * coronary arteries (an adult heart is 12 cm long); the calcium reader
 * refuses less too. */
#define MATCH_HEART_MIN_EXTENT	60.0	/* mm */

/* The fewest images a CT reader takes as a volume. */
#define MATCH_MIN_SLICES	10

extern const struct reader_def readers[READER__MAX];

/* The error of a job whose reader is not in the daemon's build: matched
 * and queued, then ended at once; not a failure of the analysis (the
 * result page says 未部署, the statistics leave it out). */
#define READER_UNDEPLOYED	"reader not available in this build"

/* Chinese names of the regions ("胸部"), indexed by enum body_region. */
extern const char *const region_names_zh[REGION__MAX];

enum tristate {
	TRI_UNKNOWN,
	TRI_NO,
	TRI_YES
};

/*
 * What is known of a series.  String members may be NULL or "".
 * Call matcher_series_init() first: it marks everything unknown.
 */
struct match_series {
	const char	*modality;	/* "CT", "DX", "CR", ... */
	const char	*body_part;	/* BodyPartExamined, "CHEST" */
	const char	*exam_part;	/* the application's 检查部位, "胸部"
					 * ("" when not linked yet) */
	const char	*exam_type;	/* the application's 检查类型, "CT" or
					 * "DR" ("" when not linked yet, or
					 * when its applications differ) */
	const char	*description;	/* series and study description */
	const char	*kernel;	/* ConvolutionKernel, "B30f" */
	const char	*image_type;	/* "ORIGINAL\\PRIMARY\\AXIAL" */
	const char	*view_position;	/* DX/CR: "PA", "AP", "LL", ... */
	double		 slice_thickness;	/* mm; NAN if unknown */
	double		 slice_spacing;		/* mm between slices; NAN */
	double		 kvp;			/* NAN if unknown */
	int		 slices;		/* images in the series */
	double		 extent;		/* mm covered along the slice
						 * normal; NAN if unknown */
	enum tristate	 contrast;		/* contrast-enhanced? */
	enum tristate	 calcium_score;		/* a gated calcium-score
						 * series, by its words */
	enum tristate	 lungs_complete;	/* loader's coverage check */
	int		 vertebrae_t12_l2;	/* of T12, L1, L2; -1 unknown */
};

/* The rules, in the order they are checked; the first that fails is
 * the one reported. */
enum match_rule {
	MATCH_OK,			/* no rule failed */
	MATCH_MODALITY,
	MATCH_IMAGE_TYPE,
	MATCH_REGION,
	MATCH_VIEW,
	MATCH_THICKNESS,
	MATCH_SPACING,
	MATCH_KVP,
	MATCH_KERNEL,
	MATCH_CONTRAST,
	MATCH_LUNGS,
	MATCH_VERTEBRAE,
	MATCH_HEART,
	MATCH__MAX
};

#define MATCH_TEXT_MAX	256

struct match_result {
	int		 fits;
	enum match_rule	 rule;		/* the failing rule, MATCH_OK if fits */
	char		 finding[MATCH_TEXT_MAX];	/* "层厚 5 mm" */
	char		 reason[MATCH_TEXT_MAX];	/* the finding, then the
							 * requirement; "" if
							 * it fits */
	char		 notes[MATCH_TEXT_MAX];	/* advisory, joined by "；" */
};

/* Mark everything in *s unknown: strings "", doubles NAN, tristates
 * TRI_UNKNOWN, vertebrae -1, slices 0. */
void		 matcher_series_init(struct match_series *s);

/*
 * Check series s against reader r and fill *res.  A series that fits
 * may still carry notes (e.g. "建议层厚/层间距 1.25 mm/1.25 mm"); one that
 * does not carries the first failing rule's finding and reason, e.g.
 * "层厚 5 mm，超过肺结节要求的 3 mm", and the notes gathered before it.
 */
void		 matcher_check(const struct match_series *s, enum reader r,
		    struct match_result *res);

/* Check s against every reader, filling out[] in enum order.  Returns the
 * number of readers it fits. */
int		 matcher_check_all(const struct match_series *s,
		    struct match_result out[READER__MAX]);

/*
 * Write into buf (size bytes, always NUL-terminated, cut at a character
 * boundary) one Chinese sentence telling why s fits no reader, grouping
 * the readers that failed on the same finding, e.g. "该序列（CT，头部）不
 * 符合任何AI应用的要求：检查部位为头部，不适用于肺结节、…；…。".  res is
 * what matcher_check_all() gave for s.  If some reader fits, buf is "".
 */
void		 matcher_summary(const struct match_series *s,
		    const struct match_result res[READER__MAX], char *buf,
		    size_t size);

/* The body region of s as the matcher sees it (codes, then description,
 * then coverage evidence). */
enum body_region matcher_region(const struct match_series *s);

/* The class of a ConvolutionKernel value (its first value is used). */
enum kernel_class matcher_kernel_class(const char *kernel);

/* What a description or protocol name says of contrast: TRI_YES for
 * 增强, C+, CE, CTA, WITH IV CON, a phase (动脉期...); TRI_NO for 平扫,
 * C-, W/O, NON-CONTRAST; TRI_UNKNOWN for neither or both. */
enum tristate	 matcher_contrast_text(const char *text);

/* Whether a description or protocol name is that of an ECG-gated
 * calcium-score series (Calcium Score, CaSc, CACS, 钙化积分): TRI_YES or
 * TRI_UNKNOWN. */
enum tristate	 matcher_gated_text(const char *text);

/* Look up a reader's code ("ct_lung_nodule").  Returns the index or -1. */
int		 reader_lookup(const char *code);

/* The Chinese name of a reader code ("CT肺结节智能诊断"), or the code. */
const char	*reader_name_zh(const char *code);

#endif /* ZY_MATCHER_H */
