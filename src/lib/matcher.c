/*
 * matcher.c - the AI readers' data requirements and the checks of a
 * series against them.
 *
 * Source of every limit: the user manual's table of AI readers and their
 * 影像数据匹配限制要求, quoted above each entry of readers[].  Where the
 * table is silent or ambiguous the decision taken is written next to the
 * rule that carries it.  In short:
 *
 * - A limit fails only on what is known to break it.  Values the index
 *   cannot know yet (measured slice spacing, lung and vertebra coverage,
 *   an absent kernel tag, kVp, contrast) let the series fit with a note:
 *   the series loader fills them later and the check is run again, and a
 *   job that finds its data unusable reports so itself.  The exceptions
 *   are the modality, the body region and the slice thickness, without
 *   which nothing says the series is even of the right kind.
 * - Numbers are compared with MATCH_TOL of slack for float noise in the
 *   headers (1.25000001 mm is 1.25 mm).
 * - The 窗位 (window) column is a display setting chosen when reading,
 *   not a property of the acquired data: it is kept in readers[] for the
 *   pages and never refuses a series.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "matcher.h"

#define MATCH_TOL	0.01	/* mm or kV of float noise allowed */
#define QUOTE_MAX	33	/* header values quoted in reasons: 32 bytes */

#define RB(r)		REGION_BIT(REGION_##r)
#define CHEST_SCANS	(RB(CHEST) | RB(CHEST_ABDOMEN))

const struct reader_def readers[READER__MAX] = {
	/*
	 * 1. CT肺结节智能诊断: 重建数据 层厚/层间距 ≤3mm/3mm，建议
	 * 1.25mm/1.25mm；窗位：肺窗；部位：支持胸部平扫、胸腹连扫。要求影像
	 * 扫描包含完整肺部。
	 */
	[READER_CT_LUNG_NODULE] = {
		.code = "ct_lung_nodule", .zh = "CT肺结节智能诊断",
		.short_zh = "肺结节", .modality = MATCH_MOD_CT,
		.regions = CHEST_SCANS, .regions_zh = "胸部平扫、胸腹连扫",
		.max_thickness = 3, .max_spacing = 3,
		.rec_thickness = 1.25, .rec_spacing = 1.25,
		.kernel = KERNEL_ANY, .contrast = CONTRAST_ANY,
		.window_zh = "肺窗", .lungs = 1,
	},
	/*
	 * 2. CT肺炎辅助诊断: 层厚/层间距 ≤5mm/5mm，建议1.25/1.25；窗位：肺
	 * 窗；部位：胸部平扫、胸腹连扫，包含完整肺部。
	 */
	[READER_CT_PNEUMONIA] = {
		.code = "ct_pneumonia", .zh = "CT肺炎辅助诊断",
		.short_zh = "肺炎", .modality = MATCH_MOD_CT,
		.regions = CHEST_SCANS, .regions_zh = "胸部平扫、胸腹连扫",
		.max_thickness = 5, .max_spacing = 5,
		.rec_thickness = 1.25, .rec_spacing = 1.25,
		.kernel = KERNEL_ANY, .contrast = CONTRAST_ANY,
		.window_zh = "肺窗", .lungs = 1,
	},
	/*
	 * 3. CT骨折辅助诊断: 层厚/层间距 ≤2mm/2mm，建议1.25/1.25；窗位：骨
	 * 窗；部位：胸部平扫、胸腹连扫，包含完整肺部。  The bone window is best
	 * served by a sharp (bone) kernel, so a softer one gets a note.
	 */
	[READER_CT_RIB_FRACTURE] = {
		.code = "ct_rib_fracture", .zh = "CT骨折辅助诊断",
		.short_zh = "CT骨折", .modality = MATCH_MOD_CT,
		.regions = CHEST_SCANS, .regions_zh = "胸部平扫、胸腹连扫",
		.max_thickness = 2, .max_spacing = 2,
		.rec_thickness = 1.25, .rec_spacing = 1.25,
		.kernel = KERNEL_SHARP_PREFERRED, .contrast = CONTRAST_ANY,
		.window_zh = "骨窗", .lungs = 1,
	},
	/* 4. DR肺结核智能诊断: 部位：胸部正位，包含完整肺部。 */
	[READER_DR_TUBERCULOSIS] = {
		.code = "dr_tuberculosis", .zh = "DR肺结核智能诊断",
		.short_zh = "肺结核", .modality = MATCH_MOD_DR,
		.regions = RB(CHEST), .regions_zh = "胸部正位",
		.kernel = KERNEL_ANY, .contrast = CONTRAST_ANY,
		.lungs = 1, .frontal = 1,
	},
	/* 5. DR骨折辅助诊断: 部位：四肢。 */
	[READER_DR_LIMB_FRACTURE] = {
		.code = "dr_limb_fracture", .zh = "DR骨折辅助诊断",
		.short_zh = "DR骨折", .modality = MATCH_MOD_DR,
		.regions = RB(LIMB), .regions_zh = "四肢",
		.kernel = KERNEL_ANY, .contrast = CONTRAST_ANY,
	},
	/*
	 * 6. 骨密度CT影像辅助诊断: 管电压 80–150kV，建议120kV；层厚/层间距
	 * ≤2.5mm/2.5mm，建议1.25/1.25；卷积内核：标准重建算法（一般纵隔窗就
	 * 可以）；部位：胸部平扫、腹部平扫、胸腹连扫、腰椎平扫；要求包含T12、
	 * L1、L2椎体中不少于2个椎体，建议扫描至L2。  Every part listed is a
	 * 平扫, and the reader measures attenuation, which contrast raises in
	 * the vertebrae: an enhanced series is refused, as for calcium.
	 */
	[READER_CT_BONE_DENSITY] = {
		.code = "ct_bone_density", .zh = "骨密度CT影像辅助诊断",
		.short_zh = "骨密度", .modality = MATCH_MOD_CT,
		.regions = RB(CHEST) | RB(ABDOMEN) | RB(CHEST_ABDOMEN) |
		    RB(LUMBAR),
		.regions_zh = "胸部平扫、腹部平扫、胸腹连扫、腰椎平扫",
		.max_thickness = 2.5, .max_spacing = 2.5,
		.rec_thickness = 1.25, .rec_spacing = 1.25,
		.kvp_min = 80, .kvp_max = 150, .kvp_rec = 120,
		.kernel = KERNEL_STANDARD_REQUIRED,
		.contrast = CONTRAST_REFUSED,
		.min_vertebrae = 2,
	},
	/*
	 * 7. 冠脉钙化积分: 管电压 40–200kV，建议120kV；层厚/层间距
	 * ≤1.25mm/1.25mm；卷积内核：标准重建算法；部位：胸部平扫、胸腹连扫。
	 * Agatston scoring counts voxels above 130 HU, which contrast in the
	 * coronary lumen would also exceed: non-contrast only.
	 */
	[READER_CT_CORONARY_CALCIUM] = {
		.code = "ct_coronary_calcium", .zh = "冠脉钙化积分",
		.short_zh = "冠脉钙化积分", .modality = MATCH_MOD_CT,
		.regions = CHEST_SCANS, .regions_zh = "胸部平扫、胸腹连扫",
		.max_thickness = 1.25, .max_spacing = 1.25,
		.kvp_min = 40, .kvp_max = 200, .kvp_rec = 120,
		.kernel = KERNEL_STANDARD_REQUIRED,
		.contrast = CONTRAST_REFUSED,
		.heart = 1,
		/* Agatston's own slices: the ECG-gated calcium-score
		 * series of every vendor are 2.5-3 mm (see README). */
		.gated_thickness = 3.0,
	},
};

const char *const region_names_zh[REGION__MAX] = {
	"部位未知",	/* REGION_UNKNOWN */
	"胸部",		/* REGION_CHEST */
	"腹部",		/* REGION_ABDOMEN */
	"胸腹部",	/* REGION_CHEST_ABDOMEN */
	"腰椎",		/* REGION_LUMBAR */
	"四肢",		/* REGION_LIMB */
	"头部",		/* REGION_HEAD */
	"其他部位",	/* REGION_OTHER */
};

/* How a modality is named in a requirement. */
static const char *const modality_req_zh[MATCH_MOD__MAX] = {
	"CT",		/* MATCH_MOD_CT */
	"DR（DX、CR）",	/* MATCH_MOD_DR */
};

/*
 * Modality codes taken.  DR means digital radiographs: DX, and CR, the
 * same projection radiograph read from a phosphor plate.  "DR" is not a
 * DICOM defined term but some domestic DR units write it, meaning DX.
 * RF (fluoroscopy) is refused: its frames are low-dose, often dynamic
 * images, not the diagnostic radiographs the readers were trained on.
 */
static const struct {
	const char		*code;
	enum match_modality	 modality;
} modality_codes[] = {
	{ "CT",	MATCH_MOD_CT },
	{ "DX",	MATCH_MOD_DR },
	{ "CR",	MATCH_MOD_DR },
	{ "DR",	MATCH_MOD_DR },
};

/* A keyword found in free text; value -1: recognised, says nothing. */
struct keyword {
	const char	*word;	/* upper-case ASCII (whole words), or Chinese */
	int		 value;
};

/*
 * BodyPartExamined codes (DICOM PS3.16 CID 4031 and common variants),
 * compared upper-cased with everything but letters and digits removed
 * ("CHEST_TO_PELVIS" is CHESTTOPELVIS).
 *
 * 四肢 is read as Chinese anatomy divides the skeleton: 上肢骨 includes the
 * shoulder girdle (clavicle, scapula) and 下肢骨 the hip bone, so shoulder
 * and hip radiographs, where proximal humerus and femoral neck fractures
 * are sought, count as limbs.  The pelvis as a whole (with the sacrum)
 * and the spine are trunk: other.  A heart (calcium scoring) scan is a
 * chest scan; whether it covers the lungs is the coverage check's
 * business.  A whole-body scan covers the chest and the abdomen.
 */
static const struct {
	const char		*code;
	enum body_region	 region;
} region_codes[] = {
	{ "CHEST",		REGION_CHEST },
	{ "THORAX",		REGION_CHEST },
	{ "LUNG",		REGION_CHEST },
	{ "LUNGS",		REGION_CHEST },
	{ "HEART",		REGION_CHEST },
	{ "CARDIAC",		REGION_CHEST },
	{ "CORONARYARTERY",	REGION_CHEST },
	{ "MEDIASTINUM",	REGION_CHEST },
	{ "ABDOMEN",		REGION_ABDOMEN },
	{ "ABDOMENPELVIS",	REGION_ABDOMEN },
	{ "ABDPELVIS",		REGION_ABDOMEN },
	{ "LIVER",		REGION_ABDOMEN },
	{ "KIDNEY",		REGION_ABDOMEN },
	{ "PANCREAS",		REGION_ABDOMEN },
	{ "CHESTABDOMEN",	REGION_CHEST_ABDOMEN },
	{ "CHESTABDOMENPELVIS",	REGION_CHEST_ABDOMEN },
	{ "CHESTABDPELVIS",	REGION_CHEST_ABDOMEN },
	{ "CHESTTOPELVIS",	REGION_CHEST_ABDOMEN },
	{ "THORAXABDOMEN",	REGION_CHEST_ABDOMEN },
	{ "WHOLEBODY",		REGION_CHEST_ABDOMEN },
	{ "LSPINE",		REGION_LUMBAR },
	{ "LUMBARSPINE",	REGION_LUMBAR },
	{ "LUMBAR",		REGION_LUMBAR },
	{ "TLSPINE",		REGION_LUMBAR },
	{ "LSSPINE",		REGION_LUMBAR },
	{ "HAND",		REGION_LIMB },
	{ "FINGER",		REGION_LIMB },
	{ "THUMB",		REGION_LIMB },
	{ "WRIST",		REGION_LIMB },
	{ "ELBOW",		REGION_LIMB },
	{ "FOREARM",		REGION_LIMB },
	{ "RADIUS",		REGION_LIMB },
	{ "ULNA",		REGION_LIMB },
	{ "ARM",		REGION_LIMB },
	{ "UPPERARM",		REGION_LIMB },
	{ "HUMERUS",		REGION_LIMB },
	{ "SHOULDER",		REGION_LIMB },
	{ "CLAVICLE",		REGION_LIMB },
	{ "SCAPULA",		REGION_LIMB },
	{ "HIP",		REGION_LIMB },
	{ "FEMUR",		REGION_LIMB },
	{ "THIGH",		REGION_LIMB },
	{ "KNEE",		REGION_LIMB },
	{ "PATELLA",		REGION_LIMB },
	{ "LEG",		REGION_LIMB },
	{ "LOWERLEG",		REGION_LIMB },
	{ "TIBIA",		REGION_LIMB },
	{ "FIBULA",		REGION_LIMB },
	{ "TIBFIB",		REGION_LIMB },
	{ "ANKLE",		REGION_LIMB },
	{ "FOOT",		REGION_LIMB },
	{ "HEEL",		REGION_LIMB },
	{ "CALCANEUS",		REGION_LIMB },
	{ "TOE",		REGION_LIMB },
	{ "EXTREMITY",		REGION_LIMB },
	{ "UPPEREXTREMITY",	REGION_LIMB },
	{ "LOWEREXTREMITY",	REGION_LIMB },
	{ "HEAD",		REGION_HEAD },
	{ "BRAIN",		REGION_HEAD },
	{ "SKULL",		REGION_HEAD },
	{ "HEADNECK",		REGION_HEAD },
	{ "FACE",		REGION_HEAD },
	{ "SINUS",		REGION_HEAD },
	{ "ORBIT",		REGION_HEAD },
	{ "IAC",		REGION_HEAD },
	{ "TMJ",		REGION_HEAD },
	{ "NECK",		REGION_OTHER },
	{ "CSPINE",		REGION_OTHER },
	{ "TSPINE",		REGION_OTHER },
	{ "SPINE",		REGION_OTHER },
	{ "WHOLESPINE",		REGION_OTHER },
	{ "PELVIS",		REGION_OTHER },
	{ "SACRUM",		REGION_OTHER },
	{ "COCCYX",		REGION_OTHER },
	{ "BREAST",		REGION_OTHER },
};

/*
 * Keywords of descriptions (and of body part values not in the code
 * table).  At each position the first entry that matches wins and is
 * skipped over, so longer phrases come before their parts: 胸腹 before
 * 胸, 股骨头 (femoral head, a limb) before 头, 手术 (surgery, no region)
 * before 手, THORACIC SPINE before THORACIC.
 */
static const struct keyword region_words[] = {
	{ "股骨头",		REGION_LIMB },
	{ "肱骨头",		REGION_LIMB },
	{ "胸腹",		REGION_CHEST_ABDOMEN },
	{ "胸腰椎",		REGION_LUMBAR },
	{ "胸椎",		REGION_OTHER },
	{ "胸",			REGION_CHEST },
	{ "肺",			REGION_CHEST },
	{ "心脏",		REGION_CHEST },
	{ "冠脉",		REGION_CHEST },
	{ "腹股沟",		REGION_OTHER },
	{ "腹",			REGION_ABDOMEN },
	{ "腰椎",		REGION_LUMBAR },
	{ "腰",			REGION_LUMBAR },
	{ "四肢",		REGION_LIMB },
	{ "手术",		-1 },
	{ "手",			REGION_LIMB },
	{ "指",			REGION_LIMB },
	{ "腕",			REGION_LIMB },
	{ "肘",			REGION_LIMB },
	{ "前臂",		REGION_LIMB },
	{ "尺骨",		REGION_LIMB },
	{ "桡骨",		REGION_LIMB },
	{ "上臂",		REGION_LIMB },
	{ "肱骨",		REGION_LIMB },
	{ "肩",			REGION_LIMB },
	{ "锁骨",		REGION_LIMB },
	{ "膝",			REGION_LIMB },
	{ "髌",			REGION_LIMB },
	{ "小腿",		REGION_LIMB },
	{ "大腿",		REGION_LIMB },
	{ "胫",			REGION_LIMB },
	{ "腓",			REGION_LIMB },
	{ "踝",			REGION_LIMB },
	{ "跟骨",		REGION_LIMB },
	{ "趾",			REGION_LIMB },
	{ "足",			REGION_LIMB },
	{ "股骨",		REGION_LIMB },
	{ "髋",			REGION_LIMB },
	{ "上肢",		REGION_LIMB },
	{ "下肢",		REGION_LIMB },
	{ "头颅",		REGION_HEAD },
	{ "颅",			REGION_HEAD },
	{ "头",			REGION_HEAD },
	{ "脑",			REGION_HEAD },
	{ "颈",			REGION_OTHER },
	{ "盆",			REGION_OTHER },
	{ "乳腺",		REGION_OTHER },
	{ "THORACIC SPINE",	REGION_OTHER },
	{ "T-SPINE",		REGION_OTHER },
	{ "C-SPINE",		REGION_OTHER },
	{ "L-SPINE",		REGION_LUMBAR },
	{ "L SPINE",		REGION_LUMBAR },
	{ "LSPINE",		REGION_LUMBAR },
	{ "LUMBAR",		REGION_LUMBAR },
	{ "FEMORAL HEAD",	REGION_LIMB },
	{ "HUMERAL HEAD",	REGION_LIMB },
	{ "CHEST",		REGION_CHEST },
	{ "THORAX",		REGION_CHEST },
	{ "THORACIC",		REGION_CHEST },
	{ "LUNG",		REGION_CHEST },
	{ "LUNGS",		REGION_CHEST },
	{ "PULMONARY",		REGION_CHEST },
	{ "HEART",		REGION_CHEST },
	{ "CARDIAC",		REGION_CHEST },
	{ "CORONARY",		REGION_CHEST },
	{ "ABDOMEN",		REGION_ABDOMEN },
	{ "ABDOMINAL",		REGION_ABDOMEN },
	{ "ABD",		REGION_ABDOMEN },
	{ "LIVER",		REGION_ABDOMEN },
	{ "WHOLE BODY",		REGION_CHEST_ABDOMEN },
	{ "HAND",		REGION_LIMB },
	{ "FINGER",		REGION_LIMB },
	{ "WRIST",		REGION_LIMB },
	{ "ELBOW",		REGION_LIMB },
	{ "FOREARM",		REGION_LIMB },
	{ "ARM",		REGION_LIMB },
	{ "HUMERUS",		REGION_LIMB },
	{ "SHOULDER",		REGION_LIMB },
	{ "CLAVICLE",		REGION_LIMB },
	{ "HIP",		REGION_LIMB },
	{ "HIPS",		REGION_LIMB },
	{ "FEMUR",		REGION_LIMB },
	{ "THIGH",		REGION_LIMB },
	{ "KNEE",		REGION_LIMB },
	{ "PATELLA",		REGION_LIMB },
	{ "LEG",		REGION_LIMB },
	{ "TIBIA",		REGION_LIMB },
	{ "TIB",		REGION_LIMB },
	{ "FIBULA",		REGION_LIMB },
	{ "FIB",		REGION_LIMB },
	{ "ANKLE",		REGION_LIMB },
	{ "FOOT",		REGION_LIMB },
	{ "FEET",		REGION_LIMB },
	{ "HEEL",		REGION_LIMB },
	{ "TOE",		REGION_LIMB },
	{ "EXTREMITY",		REGION_LIMB },
	{ "LIMB",		REGION_LIMB },
	{ "HEAD",		REGION_HEAD },
	{ "BRAIN",		REGION_HEAD },
	{ "SKULL",		REGION_HEAD },
	{ "CRANIAL",		REGION_HEAD },
	{ "CERVICAL",		REGION_OTHER },
	{ "NECK",		REGION_OTHER },
	{ "SPINE",		REGION_OTHER },
	{ "PELVIS",		REGION_OTHER },
	{ "BREAST",		REGION_OTHER },
};

/* Radiograph projections. */
enum view {
	VIEW_UNKNOWN,
	VIEW_FRONTAL,
	VIEW_LATERAL,
	VIEW_OBLIQUE,
	VIEW_DECUBITUS,
	VIEW__MAX
};

static const char *const view_names_zh[VIEW__MAX] = {
	"未知",		/* VIEW_UNKNOWN */
	"正位",		/* VIEW_FRONTAL */
	"侧位",		/* VIEW_LATERAL */
	"斜位",		/* VIEW_OBLIQUE */
	"侧卧位",	/* VIEW_DECUBITUS */
};

/*
 * ViewPosition defined terms.  胸部正位 is the frontal chest radiograph:
 * postero-anterior (PA, the standard) or antero-posterior (AP, bedside),
 * both taken (AP with a note).  Lateral, oblique and decubitus views are
 * not 正位.
 */
static const struct {
	const char	*code;
	enum view	 view;
} view_codes[] = {
	{ "PA",		VIEW_FRONTAL },
	{ "AP",		VIEW_FRONTAL },
	{ "LL",		VIEW_LATERAL },
	{ "RL",		VIEW_LATERAL },
	{ "LAT",	VIEW_LATERAL },
	{ "LATERAL",	VIEW_LATERAL },
	{ "LLO",	VIEW_OBLIQUE },
	{ "RLO",	VIEW_OBLIQUE },
	{ "LLD",	VIEW_DECUBITUS },
	{ "RLD",	VIEW_DECUBITUS },
};

/* Projection words of descriptions, used when ViewPosition is empty. */
static const struct keyword view_words[] = {
	{ "正位",	VIEW_FRONTAL },
	{ "侧卧位",	VIEW_DECUBITUS },
	{ "侧位",	VIEW_LATERAL },
	{ "斜位",	VIEW_OBLIQUE },
	{ "PA",		VIEW_FRONTAL },
	{ "AP",		VIEW_FRONTAL },
	{ "FRONTAL",	VIEW_FRONTAL },
	{ "LATERAL",	VIEW_LATERAL },
	{ "LAT",	VIEW_LATERAL },
	{ "OBLIQUE",	VIEW_OBLIQUE },
	{ "DECUBITUS",	VIEW_DECUBITUS },
};

/*
 * ImageType values that mark a CT series as something other than the
 * reconstructed slices (重建数据) the CT readers take.
 */
static const struct {
	const char	*value;
	const char	*zh;
} image_type_refused[] = {
	{ "LOCALIZER",	"定位像" },
	{ "MIP",	"最大密度投影" },
	{ "MINIP",	"最小密度投影" },
};

/*
 * Reconstruction kernels by name, upper-cased.  标准重建算法 is a
 * standard or soft-tissue kernel ("一般纵隔窗就可以": what the mediastinal
 * window is read on); lung, bone and edge kernels are sharp.
 *   GE: STANDARD, SOFT; sharp: LUNG, BONE, BONEPLUS, EDGE, DETAIL, ULTRA.
 *   Philips: A, B, C, CB; sharp: D, E, L, YA, YB, YC, YD.
 */
static const struct {
	const char		*name;
	enum kernel_class	 cls;
} kernel_names[] = {
	{ "STANDARD",	KERNEL_STANDARD },
	{ "SOFT",	KERNEL_STANDARD },
	{ "STND",	KERNEL_STANDARD },
	{ "LUNG",	KERNEL_SHARP },
	{ "BONE",	KERNEL_SHARP },
	{ "BONEPLUS",	KERNEL_SHARP },
	{ "EDGE",	KERNEL_SHARP },
	{ "DETAIL",	KERNEL_SHARP },
	{ "ULTRA",	KERNEL_SHARP },
	{ "A",		KERNEL_STANDARD },
	{ "B",		KERNEL_STANDARD },
	{ "C",		KERNEL_STANDARD },
	{ "CB",		KERNEL_STANDARD },
	{ "D",		KERNEL_SHARP },
	{ "E",		KERNEL_SHARP },
	{ "L",		KERNEL_SHARP },
	{ "YA",		KERNEL_SHARP },
	{ "YB",		KERNEL_SHARP },
	{ "YC",		KERNEL_SHARP },
	{ "YD",		KERNEL_SHARP },
};

/*
 * Kernels named by one or two letters and a two-digit number (with an
 * optional one-letter suffix): the first row whose prefix (NULL: any)
 * and number range match gives the class.
 *   Canon/Toshiba: FC01–FC18 body and FC20–FC28 head are soft; FC30 and
 *   up (bone, lung, high resolution: FC30, FC35, FC50–FC56, FC80–FC86)
 *   are sharp; FL01–FL07 are lung kernels.
 *   Siemens: the number is the sharpness: B10f–B46f, Br32–Br44, Bv36,
 *   I26f–I44f, Qr36, Sa36, H30s are standard, B50f and up (B60f, B70f,
 *   Br64, I70f, H60s) sharp; Bl (lung) kernels are sharp whatever their
 *   number.
 */
static const struct {
	const char		*prefix;
	int			 lo, hi;
	enum kernel_class	 cls;
} kernel_series[] = {
	{ "FC",	1,	28,	KERNEL_STANDARD },
	{ "FC",	29,	99,	KERNEL_SHARP },
	{ "FL",	0,	99,	KERNEL_SHARP },
	{ "BL",	0,	99,	KERNEL_SHARP },
	{ NULL,	0,	49,	KERNEL_STANDARD },
	{ NULL,	50,	99,	KERNEL_SHARP },
};

/*
 * Words of other kernel names (United Imaging B_SOFT_B, B_SHARP_C; Canon
 * "Body Sharp"; Neusoft, Anke, ...).  Sharp words win over soft ones.
 */
static const struct keyword kernel_words[] = {
	{ "SHARP",	KERNEL_SHARP },
	{ "LUNG",	KERNEL_SHARP },
	{ "BONE",	KERNEL_SHARP },
	{ "EDGE",	KERNEL_SHARP },
	{ "DETAIL",	KERNEL_SHARP },
	{ "SOFT",	KERNEL_STANDARD },
	{ "STANDARD",	KERNEL_STANDARD },
	{ "SMOOTH",	KERNEL_STANDARD },
	{ "BODY",	KERNEL_STANDARD },
	{ "MEDIASTINUM", KERNEL_STANDARD },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What every rule of one check may look at. */
struct check_ctx {
	const struct match_series	*s;
	const struct reader_def		*def;
	enum body_region		 region;
	struct match_result		*res;
};

typedef int	(*match_rule_fn)(struct check_ctx *);

static const char *
str(const char *s)
{
	return s == NULL ? "" : s;
}

/* Drop a character cut short at the end of s (after truncation). */
static void
utf8_trim(char *s)
{
	size_t		 n, i, need;
	unsigned char	 c;

	n = strlen(s);
	i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	if (c < 0xc0)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* snprintf that cuts at a character boundary. */
static void __attribute__((format(printf, 3, 4)))
text_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (size == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= size)
		utf8_trim(buf);
}

/* Append s to buf, after sep if buf is not empty. */
static void
text_append(char *buf, size_t size, const char *sep, const char *s)
{
	size_t	 len = strlen(buf);

	if (len + 1 >= size)
		return;
	text_printf(buf + len, size - len, "%s%s", len > 0 ? sep : "", s);
}

/* A header value as quoted in a reason: at most QUOTE_MAX - 1 bytes. */
static const char *
quote(const char *s, char *buf)
{
	text_printf(buf, QUOTE_MAX, "%s", str(s));
	return buf;
}

/* A number the short way: 5, 2.5, 1.25. */
static const char *
num(double v, char *buf, size_t size)
{
	char	*p;

	text_printf(buf, size, "%.2f", v);
	p = buf + strlen(buf);
	while (p > buf && p[-1] == '0')
		*--p = '\0';
	if (p > buf && p[-1] == '.')
		*--p = '\0';
	return buf;
}

/* Copy src upper-cased (ASCII letters only) into dst. */
static void
upper_copy(char *dst, size_t size, const char *src)
{
	size_t	 i;

	text_printf(dst, size, "%s", str(src));
	for (i = 0; dst[i] != '\0'; i++)
		if (dst[i] >= 'a' && dst[i] <= 'z')
			dst[i] = (char)(dst[i] - 'a' + 'A');
}

static int
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * Find the keywords of t in upper-cased text, left to right; at each
 * position the first entry that matches wins and is skipped over.  Words
 * beginning or ending in an ASCII letter match only whole there.
 * Returns the bit set of the values found.
 */
static unsigned int
keyword_scan(const char *text, const struct keyword *t, size_t n)
{
	const char	*p = text;
	unsigned int	 bits = 0;
	size_t		 i, len = 0;

	while (*p != '\0') {
		for (i = 0; i < n; i++) {
			len = strlen(t[i].word);
			if (strncmp(p, t[i].word, len) != 0)
				continue;
			if (is_letter(t[i].word[0]) && p > text &&
			    is_letter(p[-1]))
				continue;
			if (is_letter(t[i].word[len - 1]) && is_letter(p[len]))
				continue;
			break;
		}
		if (i < n) {
			if (t[i].value >= 0)
				bits |= 1u << t[i].value;
			p += len;
			continue;
		}
		p++;
		while (((unsigned char)*p & 0xc0) == 0x80)
			p++;
	}
	return bits;
}

/*
 * Words of series, study and protocol descriptions that say whether a
 * series was enhanced: 平扫, C-, W/O, NON-CONTRAST; 增强, C+, CE, CTA,
 * WITH IV CON, the phases (动脉期, 静脉期, 门脉期, 延迟期).  The
 * non-contrast phrases come first: they hold "CONTRAST" and "CON".
 */
enum { CW_PLAIN, CW_ENHANCED };
static const struct keyword contrast_words[] = {
	{ "平扫",		CW_PLAIN },
	{ "非增强",		CW_PLAIN },
	{ "NON-CONTRAST",	CW_PLAIN },
	{ "NON CONTRAST",	CW_PLAIN },
	{ "NONCONTRAST",	CW_PLAIN },
	{ "NON-CON",		CW_PLAIN },
	{ "NON CON",		CW_PLAIN },
	{ "NONCON",		CW_PLAIN },
	{ "WITHOUT CONTRAST",	CW_PLAIN },
	{ "WITHOUT IV CON",	CW_PLAIN },
	{ "W/O CONTRAST",	CW_PLAIN },
	{ "WO CONTRAST",	CW_PLAIN },
	{ "NO CONTRAST",	CW_PLAIN },
	{ "W/O CON",		CW_PLAIN },
	{ "W/O",		CW_PLAIN },
	{ "WO CON",		CW_PLAIN },
	{ "UNENHANCED",		CW_PLAIN },
	{ "PLAIN",		CW_PLAIN },
	{ "NATIVE",		CW_PLAIN },
	{ "C-",			CW_PLAIN },
	{ "增强",		CW_ENHANCED },
	{ "造影",		CW_ENHANCED },
	{ "动脉期",		CW_ENHANCED },
	{ "静脉期",		CW_ENHANCED },
	{ "门脉期",		CW_ENHANCED },
	{ "门静脉期",		CW_ENHANCED },
	{ "延迟期",		CW_ENHANCED },
	{ "C+",			CW_ENHANCED },
	{ "+C",			CW_ENHANCED },
	{ "CE",			CW_ENHANCED },
	{ "CTA",		CW_ENHANCED },
	{ "ANGIO",		CW_ENHANCED },
	{ "WITH IV CON",	CW_ENHANCED },
	{ "W/ CON",		CW_ENHANCED },
	{ "W/CON",		CW_ENHANCED },
	{ "WITH CONTRAST",	CW_ENHANCED },
	{ "IV CON",		CW_ENHANCED },
	{ "CONTRAST",		CW_ENHANCED },
	{ "ENHANCED",		CW_ENHANCED },
	{ "ARTERIAL",		CW_ENHANCED },
	{ "VENOUS",		CW_ENHANCED },
	{ "PORTAL",		CW_ENHANCED },
	{ "DELAYED",		CW_ENHANCED },
};

/* Words of calcium-score series' descriptions and protocols. */
static const struct keyword gated_words[] = {
	{ "钙化积分",		1 },
	{ "钙化评分",		1 },
	{ "CALCIUM SCORE",	1 },
	{ "CALCIUM SCORING",	1 },
	{ "CA SCORE",		1 },
	{ "CASCORE",		1 },
	{ "CA SCORING",		1 },
	{ "CASC",		1 },
	{ "CACS",		1 },
	{ "CAC",		1 },
	{ "CS CARDIAC",		1 },
	{ "HEARTSCORE",		1 },
	{ "HEART CALC",		1 },
	{ "CORONARY CALCIUM",	1 },
};

enum tristate
matcher_gated_text(const char *text)
{
	char	 up[1024];

	upper_copy(up, sizeof(up), text);
	return keyword_scan(up, gated_words, NELEM(gated_words)) != 0 ?
	    TRI_YES : TRI_UNKNOWN;
}

enum tristate
matcher_contrast_text(const char *text)
{
	char		 up[1024];
	unsigned int	 bits;

	upper_copy(up, sizeof(up), text);
	bits = keyword_scan(up, contrast_words, NELEM(contrast_words));
	/* Both: a study of several phases; its series say which. */
	if (bits == (1u << CW_ENHANCED))
		return TRI_YES;
	if (bits == (1u << CW_PLAIN))
		return TRI_NO;
	return TRI_UNKNOWN;
}

/*
 * One region from the set named in a text.  "Other" gives way to any
 * named region (ABDOMEN PELVIS is abdominal, 颈胸 a chest scan).  Chest
 * with abdomen or lumbar spine is a thoraco-abdominal scan, abdomen with
 * lumbar spine a lumbar one.  Any other mix (head and chest) is
 * contradictory: unknown.
 */
static enum body_region
region_resolve(unsigned int bits)
{
	const unsigned int	 trunk = RB(CHEST) | RB(ABDOMEN) |
				    RB(CHEST_ABDOMEN) | RB(LUMBAR);
	int			 r;

	if (bits != RB(OTHER))
		bits &= ~RB(OTHER);
	if (bits == 0)
		return REGION_UNKNOWN;
	for (r = 0; r < REGION__MAX; r++)
		if (bits == REGION_BIT(r))
			return (enum body_region)r;
	if ((bits & ~trunk) != 0)
		return REGION_UNKNOWN;
	if (bits & CHEST_SCANS)
		return REGION_CHEST_ABDOMEN;
	return REGION_LUMBAR;
}

static enum body_region
region_of_text(const char *text)
{
	char	 up[1024];

	upper_copy(up, sizeof(up), text);
	return region_resolve(keyword_scan(up, region_words,
	    NELEM(region_words)));
}

static enum body_region
region_of_code(const char *code)
{
	char	 norm[64];
	size_t	 i, j;

	for (i = j = 0; code[i] != '\0' && j + 1 < sizeof(norm); i++) {
		if (code[i] >= 'a' && code[i] <= 'z')
			norm[j++] = (char)(code[i] - 'a' + 'A');
		else if ((code[i] >= 'A' && code[i] <= 'Z') ||
		    (code[i] >= '0' && code[i] <= '9'))
			norm[j++] = code[i];
	}
	norm[j] = '\0';
	for (i = 0; i < NELEM(region_codes); i++)
		if (strcmp(norm, region_codes[i].code) == 0)
			return region_codes[i].region;
	return REGION_UNKNOWN;
}

/*
 * The body part code wins, then its words, then the description's.  With
 * nothing said, a loader's finding that the complete lungs are covered
 * makes it a chest.
 */
enum body_region
matcher_region(const struct match_series *s)
{
	enum body_region	 r = REGION_UNKNOWN;

	if (str(s->body_part)[0] != '\0' &&
	    (r = region_of_code(s->body_part)) == REGION_UNKNOWN)
		r = region_of_text(s->body_part);
	if (r == REGION_UNKNOWN && str(s->description)[0] != '\0')
		r = region_of_text(s->description);
	if (r == REGION_UNKNOWN && str(s->exam_part)[0] != '\0')
		r = region_of_text(s->exam_part);
	if (r == REGION_UNKNOWN && s->lungs_complete == TRI_YES)
		r = REGION_CHEST;
	return r;
}

enum kernel_class
matcher_kernel_class(const char *kernel)
{
	char		 up[64], *p, *e;
	size_t		 i, nl;
	unsigned int	 bits;
	int		 number;

	upper_copy(up, sizeof(up), kernel);
	/* The first value (Siemens adds the iterative strength: Br36\3). */
	up[strcspn(up, "\\")] = '\0';
	for (p = up; *p == ' '; p++)
		;
	e = p + strlen(p);
	while (e > p && e[-1] == ' ')
		*--e = '\0';
	if (*p == '\0')
		return KERNEL_UNKNOWN;
	for (i = 0; i < NELEM(kernel_names); i++)
		if (strcmp(p, kernel_names[i].name) == 0)
			return kernel_names[i].cls;
	for (nl = 0; nl < 3 && is_letter(p[nl]); nl++)
		;
	if (nl >= 1 && nl <= 2 && p[nl] >= '0' && p[nl] <= '9' &&
	    p[nl + 1] >= '0' && p[nl + 1] <= '9' &&
	    (p[nl + 2] == '\0' || (is_letter(p[nl + 2]) &&
	    p[nl + 3] == '\0'))) {
		number = (p[nl] - '0') * 10 + (p[nl + 1] - '0');
		for (i = 0; i < NELEM(kernel_series); i++) {
			if (kernel_series[i].prefix != NULL &&
			    (strlen(kernel_series[i].prefix) != nl ||
			    strncmp(p, kernel_series[i].prefix, nl) != 0))
				continue;
			if (number >= kernel_series[i].lo &&
			    number <= kernel_series[i].hi)
				return kernel_series[i].cls;
		}
	}
	bits = keyword_scan(p, kernel_words, NELEM(kernel_words));
	if (bits & (1u << KERNEL_SHARP))
		return KERNEL_SHARP;
	if (bits & (1u << KERNEL_STANDARD))
		return KERNEL_STANDARD;
	return KERNEL_UNKNOWN;
}

static enum view
view_of_code(const char *code)
{
	size_t	 i;

	for (i = 0; i < NELEM(view_codes); i++)
		if (strcasecmp(code, view_codes[i].code) == 0)
			return view_codes[i].view;
	return VIEW_UNKNOWN;
}

static void
note(struct check_ctx *c, const char *s)
{
	text_append(c->res->notes, sizeof(c->res->notes), "；", s);
}

/* Fail with c->res->finding already written: the reason is the finding,
 * then the requirement. */
static int __attribute__((format(printf, 2, 3)))
require(struct check_ctx *c, const char *fmt, ...)
{
	char	 req[MATCH_TEXT_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	if (n < 0)
		req[0] = '\0';
	else if ((size_t)n >= sizeof(req))
		utf8_trim(req);
	text_printf(c->res->reason, sizeof(c->res->reason), "%s，%s",
	    c->res->finding, req);
	return -1;
}

static int
rule_modality(struct check_ctx *c)
{
	const char	*m = str(c->s->modality);
	char		 q[QUOTE_MAX], why[MATCH_TEXT_MAX];
	size_t		 i;

	/*
	 * A modality that names no image type the readers know (OT or SC of
	 * a scanned film, or none): the application's 检查类型 decides, with
	 * a note.  A known modality is what the images are, whatever the
	 * application says.
	 */
	for (i = 0; i < NELEM(modality_codes); i++)
		if (strcasecmp(m, modality_codes[i].code) == 0)
			break;
	if (i == NELEM(modality_codes) && str(c->s->exam_type)[0] != '\0') {
		for (i = 0; i < NELEM(modality_codes); i++)
			if (strcasecmp(c->s->exam_type,
			    modality_codes[i].code) == 0 &&
			    modality_codes[i].modality == c->def->modality)
				break;
		if (i < NELEM(modality_codes)) {
			if (m[0] == '\0')
				text_printf(why, sizeof(why), "设备类型未记录，"
				    "按申请单检查类型（%s）判断",
				    modality_codes[i].code);
			else
				text_printf(why, sizeof(why), "设备类型为 %s，"
				    "按申请单检查类型（%s）判断", quote(m, q),
				    modality_codes[i].code);
			note(c, why);
			m = modality_codes[i].code;
		}
	}
	for (i = 0; i < NELEM(modality_codes); i++)
		if (strcasecmp(m, modality_codes[i].code) == 0 &&
		    modality_codes[i].modality == c->def->modality) {
			/* A CT reader reads a volume: never one image or a
			 * few. */
			if (c->def->modality == MATCH_MOD_CT &&
			    c->s->slices > 0 &&
			    c->s->slices < MATCH_MIN_SLICES) {
				text_printf(c->res->finding,
				    sizeof(c->res->finding), "仅 %d 幅图像",
				    c->s->slices);
				return require(c, "%s需要连续的容积数据"
				    "（不少于 %d 层）", c->def->short_zh,
				    MATCH_MIN_SLICES);
			}
			return 0;
		}
	if (m[0] == '\0')
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "检查类型未知");
	else
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "检查类型为 %s", quote(m, q));
	return require(c, "%s仅支持 %s", c->def->short_zh,
	    modality_req_zh[c->def->modality]);
}

/* CT readers take reconstructed slices, not localizers or projections. */
static int
rule_image_type(struct check_ctx *c)
{
	char	 up[256], *tok, *save;
	size_t	 i;

	if (c->def->modality != MATCH_MOD_CT)
		return 0;
	upper_copy(up, sizeof(up), c->s->image_type);
	for (tok = strtok_r(up, "\\", &save); tok != NULL;
	    tok = strtok_r(NULL, "\\", &save))
		for (i = 0; i < NELEM(image_type_refused); i++)
			if (strcmp(tok, image_type_refused[i].value) == 0) {
				text_printf(c->res->finding,
				    sizeof(c->res->finding), "该序列为%s（%s）",
				    image_type_refused[i].zh,
				    image_type_refused[i].value);
				return require(c, "%s要求断层重建图像",
				    c->def->short_zh);
			}
	return 0;
}

/*
 * An unknown region refuses: nothing says the series shows the part the
 * reader reads.  The exceptions are coverage evidence: complete lungs
 * (matcher_region() makes that a chest) and, for bone density, enough of
 * T12–L2 covered, which is exactly the region that reader needs.
 */
/* Whether anything names a region: BodyPartExamined, or region words in
 * the description or the application's 检查部位 (which may contradict
 * each other: "头颅 胸部"). */
static int
region_said(const struct match_series *s)
{
	char	 up[1024];

	if (str(s->body_part)[0] != '\0')
		return 1;
	upper_copy(up, sizeof(up), s->description);
	if (keyword_scan(up, region_words, NELEM(region_words)) != 0)
		return 1;
	upper_copy(up, sizeof(up), s->exam_part);
	return keyword_scan(up, region_words, NELEM(region_words)) != 0;
}

static int
rule_region(struct check_ctx *c)
{
	char	 q[QUOTE_MAX];

	if (c->def->regions & REGION_BIT(c->region))
		return 0;
	if (c->region == REGION_UNKNOWN && c->def->min_vertebrae > 0 &&
	    c->s->vertebrae_t12_l2 >= c->def->min_vertebrae)
		return 0;
	/*
	 * Nothing says where a CT series is (BodyPartExamined is often
	 * removed by anonymisation): the reader judges by what the image
	 * holds (the lungs, the heart, the vertebrae) and says so if it is
	 * not what it reads.  Refusing here would refuse every reader.
	 */
	if (c->region == REGION_UNKNOWN && c->def->modality == MATCH_MOD_CT &&
	    !region_said(c->s)) {
		note(c, "未记录检查部位，阅片时按图像内容核对");
		return 0;
	}
	if (c->region == REGION_UNKNOWN)
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "无法确定检查部位");
	else if (c->region == REGION_OTHER && str(c->s->body_part)[0] != '\0')
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "检查部位为 %s", quote(c->s->body_part, q));
	else
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "检查部位为%s", region_names_zh[c->region]);
	return require(c, "%s仅支持%s", c->def->short_zh, c->def->regions_zh);
}

/*
 * Frontal radiographs only.  An unknown projection fits with a note:
 * many DR units leave ViewPosition empty, a chest series is frontal far
 * more often than not, and the reader reports an image it cannot read.
 */
static int
rule_view(struct check_ctx *c)
{
	const char	*code = str(c->s->view_position);
	char		 up[1024], q[QUOTE_MAX];
	enum view	 v;
	unsigned int	 bits;
	int		 i;

	if (!c->def->frontal)
		return 0;
	v = VIEW_UNKNOWN;
	if (code[0] != '\0')
		v = view_of_code(code);
	if (v == VIEW_UNKNOWN) {
		upper_copy(up, sizeof(up), c->s->description);
		bits = keyword_scan(up, view_words, NELEM(view_words));
		for (i = 0; i < VIEW__MAX; i++)
			if (bits == (1u << i))
				v = (enum view)i;
	}
	if (v == VIEW_FRONTAL) {
		if (strcasecmp(code, "AP") == 0)
			note(c, "前后位（AP）片，建议后前位（PA）");
		return 0;
	}
	if (v == VIEW_UNKNOWN) {
		note(c, "未能确认投照体位为正位");
		return 0;
	}
	if (code[0] != '\0' && view_of_code(code) == v)
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "投照体位为 %s（%s）", quote(code, q), view_names_zh[v]);
	else
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "投照体位为%s", view_names_zh[v]);
	return require(c, "%s要求%s（PA/AP）", c->def->short_zh,
	    c->def->regions_zh);
}

/* The slice thickness must be known: it is in every CT header. */
/* The thickness a reader takes of this series: its own limit, or a
 * gated calcium-score series' where it has one. */
static double
limit_thickness(const struct check_ctx *c)
{
	if (c->def->gated_thickness > 0 &&
	    c->s->calcium_score == TRI_YES)
		return c->def->gated_thickness;
	return c->def->max_thickness;
}

static int
rule_thickness(struct check_ctx *c)
{
	double	 t = c->s->slice_thickness, lim = limit_thickness(c);
	char	 a[32], b[32];

	if (c->def->max_thickness <= 0)
		return 0;
	num(lim, b, sizeof(b));
	if (isnan(t) || t <= 0) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "层厚未知");
		return require(c, "%s要求层厚不超过 %s mm", c->def->short_zh,
		    b);
	}
	if (t <= lim + MATCH_TOL) {
		if (t > c->def->max_thickness + MATCH_TOL)
			note(c, "心电门控钙化积分序列，按Agatston原始"
			    "3 mm层厚评分");
		return 0;
	}
	text_printf(c->res->finding, sizeof(c->res->finding), "层厚 %s mm",
	    num(t, a, sizeof(a)));
	return require(c, "超过%s要求的 %s mm", c->def->short_zh, b);
}

/*
 * The spacing between slices is often not in the header (the loader
 * measures it); unknown, the thickness alone is checked, with a note.
 * Old GE headers give SpacingBetweenSlices negative: its size counts.
 */
static int
rule_spacing(struct check_ctx *c)
{
	double	 t = c->s->slice_thickness, sp = fabs(c->s->slice_spacing);
	double	 lim = c->def->max_spacing;
	char	 a[32], b[32];
	int	 known = !isnan(sp) && sp > 0;

	if (c->def->max_spacing <= 0)
		return 0;
	if (c->def->gated_thickness > 0 && c->s->calcium_score == TRI_YES)
		lim = c->def->gated_thickness;
	if (!known)
		note(c, "层间距未知，暂按层厚核对");
	else if (sp > lim + MATCH_TOL) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "层间距 %s mm", num(sp, a, sizeof(a)));
		return require(c, "超过%s要求的 %s mm", c->def->short_zh,
		    num(lim, b, sizeof(b)));
	}
	if (c->def->rec_thickness > 0 &&
	    (t > c->def->rec_thickness + MATCH_TOL ||
	    (known && sp > c->def->rec_spacing + MATCH_TOL))) {
		char	 n[MATCH_TEXT_MAX];

		text_printf(n, sizeof(n), "建议层厚/层间距 %s mm/%s mm",
		    num(c->def->rec_thickness, a, sizeof(a)),
		    num(c->def->rec_spacing, b, sizeof(b)));
		note(c, n);
	}
	return 0;
}

/* kVp is nearly always in the header; absent, the series fits with a
 * note rather than be held up by a missing tag. */
static int
rule_kvp(struct check_ctx *c)
{
	double	 k = c->s->kvp;
	char	 a[32], lo[32], hi[32], n[MATCH_TEXT_MAX];

	if (c->def->kvp_max <= 0)
		return 0;
	if (isnan(k) || k <= 0) {
		note(c, "管电压未知");
		return 0;
	}
	if (k < c->def->kvp_min - MATCH_TOL ||
	    k > c->def->kvp_max + MATCH_TOL) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "管电压 %s kV", num(k, a, sizeof(a)));
		return require(c, "超出%s要求的 %s–%s kV", c->def->short_zh,
		    num(c->def->kvp_min, lo, sizeof(lo)),
		    num(c->def->kvp_max, hi, sizeof(hi)));
	}
	if (c->def->kvp_rec > 0 && fabs(k - c->def->kvp_rec) > MATCH_TOL) {
		text_printf(n, sizeof(n), "建议管电压 %s kV",
		    num(c->def->kvp_rec, a, sizeof(a)));
		note(c, n);
	}
	return 0;
}

/* A sharp kernel is refused where 标准重建算法 is required; an absent or
 * unrecognised one fits with a note. */
static int
rule_kernel(struct check_ctx *c)
{
	const char		*k = str(c->s->kernel);
	enum kernel_class	 cls = matcher_kernel_class(k);
	char			 q[QUOTE_MAX], n[MATCH_TEXT_MAX];

	switch (c->def->kernel) {
	case KERNEL_SHARP_PREFERRED:
		if (cls != KERNEL_SHARP)
			note(c, "建议使用骨算法（锐利卷积核）重建");
		return 0;
	case KERNEL_STANDARD_REQUIRED:
		if (cls == KERNEL_SHARP) {
			text_printf(c->res->finding, sizeof(c->res->finding),
			    "卷积核 %s 为锐利算法", quote(k, q));
			return require(c, "%s要求标准重建算法",
			    c->def->short_zh);
		}
		if (cls == KERNEL_UNKNOWN) {
			if (k[0] == '\0')
				text_printf(n, sizeof(n), "卷积核未知，"
				    "未核实是否为标准重建算法");
			else
				text_printf(n, sizeof(n), "卷积核 %s 无法识别，"
				    "未核实是否为标准重建算法", quote(k, q));
			note(c, n);
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * The manual lists 平扫 (non-contrast) parts for every CT reader.  The
 * readers that measure attenuation (calcium, bone density) refuse an
 * enhanced series; the detection readers still find nodules, pneumonia
 * and fractures on one, so it fits with a note.
 */
static int
rule_contrast(struct check_ctx *c)
{
	if (c->def->modality != MATCH_MOD_CT)
		return 0;
	if (c->def->contrast == CONTRAST_REFUSED) {
		if (c->s->contrast == TRI_YES) {
			text_printf(c->res->finding, sizeof(c->res->finding),
			    "该序列为增强扫描");
			return require(c, "%s仅支持平扫", c->def->short_zh);
		}
		if (c->s->contrast == TRI_UNKNOWN)
			note(c, "未核实是否为平扫");
	} else if (c->s->contrast == TRI_YES)
		note(c, "增强扫描，手册要求平扫，结果仅供参考");
	return 0;
}

/*
 * Incomplete lungs refuse.  Not yet checked, the series fits with a
 * note: the loader fills the check in (and the match is run again), and
 * a job that finds the lungs cut off reports it then.
 */
/*
 * Coverage the anatomy needs at the least, so that a short stack is
 * refused before anybody segments it.  Deliberately below any adult's:
 * adult lungs measure well over 150 mm from apex to base, and the T12 to
 * L2 vertebral bodies are 25 mm or more each with their discs.
 */
#define LUNG_MIN_EXTENT		100.0	/* mm */
#define VERTEBRA2_MIN_EXTENT	40.0	/* mm, for two vertebrae */

static int
rule_lungs(struct check_ctx *c)
{
	char	 nb[32];

	if (!c->def->lungs)
		return 0;
	if (c->s->lungs_complete != TRI_YES && !isnan(c->s->extent) &&
	    c->s->extent < LUNG_MIN_EXTENT) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "扫描范围仅 %s mm，不足以包含完整肺部",
		    num(c->s->extent, nb, sizeof(nb)));
		return require(c, "%s要求包含完整肺部", c->def->short_zh);
	}
	if (c->s->lungs_complete == TRI_NO) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "扫描未包含完整肺部");
		return require(c, "%s要求包含完整肺部", c->def->short_zh);
	}
	if (c->s->lungs_complete == TRI_UNKNOWN)
		note(c, "尚未核实是否包含完整肺部");
	return 0;
}

/* Fewer than the required vertebrae refuse; unknown fits with a note,
 * for the same reason as the lungs. */
static int
rule_vertebrae(struct check_ctx *c)
{
	int	 v = c->s->vertebrae_t12_l2;
	char	 nb[32];

	if (c->def->min_vertebrae <= 0)
		return 0;
	if (v < 0 && !isnan(c->s->extent) &&
	    c->s->extent < VERTEBRA2_MIN_EXTENT) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "扫描范围仅 %s mm，不足以包含 2 个椎体",
		    num(c->s->extent, nb, sizeof(nb)));
		return require(c, "%s要求包含 T12、L1、L2 中不少于 %d 个椎体",
		    c->def->short_zh, c->def->min_vertebrae);
	}
	if (v < 0) {
		note(c, "尚未核实 T12、L1、L2 椎体覆盖，建议扫描至 L2");
		return 0;
	}
	if (v < c->def->min_vertebrae) {
		text_printf(c->res->finding, sizeof(c->res->finding),
		    "扫描仅包含 T12、L1、L2 中 %d 个椎体", v);
		return require(c, "%s要求不少于 %d 个", c->def->short_zh,
		    c->def->min_vertebrae);
	}
	if (v < 3)
		note(c, "建议扫描至 L2");
	return 0;
}

/* A stack too short for the heart refuses; an unknown extent (a single
 * image, no spacing) is left to the reader. */
static int
rule_heart(struct check_ctx *c)
{
	char	 nb[32];

	if (!c->def->heart || isnan(c->s->extent) ||
	    c->s->extent >= MATCH_HEART_MIN_EXTENT)
		return 0;
	text_printf(c->res->finding, sizeof(c->res->finding),
	    "扫描范围仅 %s mm，不足以包含完整心脏",
	    num(c->s->extent, nb, sizeof(nb)));
	return require(c, "%s要求包含完整心脏", c->def->short_zh);
}

static const match_rule_fn match_rules[MATCH__MAX] = {
	[MATCH_OK] = NULL,
	[MATCH_MODALITY] = rule_modality,
	[MATCH_IMAGE_TYPE] = rule_image_type,
	[MATCH_REGION] = rule_region,
	[MATCH_VIEW] = rule_view,
	[MATCH_THICKNESS] = rule_thickness,
	[MATCH_SPACING] = rule_spacing,
	[MATCH_KVP] = rule_kvp,
	[MATCH_KERNEL] = rule_kernel,
	[MATCH_CONTRAST] = rule_contrast,
	[MATCH_LUNGS] = rule_lungs,
	[MATCH_VERTEBRAE] = rule_vertebrae,
	[MATCH_HEART] = rule_heart,
};

void
matcher_series_init(struct match_series *s)
{
	memset(s, 0, sizeof(*s));
	s->modality = s->body_part = s->description = s->exam_part = "";
	s->exam_type = "";
	s->kernel = s->image_type = s->view_position = "";
	s->slice_thickness = s->slice_spacing = s->kvp = NAN;
	s->slices = 0;
	s->contrast = s->lungs_complete = s->calcium_score = TRI_UNKNOWN;
	s->vertebrae_t12_l2 = -1;
	s->extent = NAN;
}

static void
check(const struct match_series *s, enum body_region region, enum reader r,
    struct match_result *res)
{
	struct check_ctx	 c;
	int			 k;

	memset(res, 0, sizeof(*res));
	res->fits = 1;
	res->rule = MATCH_OK;
	if ((int)r < 0 || r >= READER__MAX) {
		res->fits = 0;
		return;
	}
	c.s = s;
	c.def = &readers[r];
	c.region = region;
	c.res = res;
	for (k = MATCH_OK + 1; k < MATCH__MAX; k++)
		if (match_rules[k](&c) != 0) {
			res->fits = 0;
			res->rule = (enum match_rule)k;
			return;
		}
}

void
matcher_check(const struct match_series *s, enum reader r,
    struct match_result *res)
{
	check(s, matcher_region(s), r, res);
}

int
matcher_check_all(const struct match_series *s,
    struct match_result out[READER__MAX])
{
	enum body_region	 region = matcher_region(s);
	int			 r, n = 0;

	for (r = 0; r < READER__MAX; r++) {
		check(s, region, (enum reader)r, &out[r]);
		n += out[r].fits;
	}
	return n;
}

void
matcher_summary(const struct match_series *s,
    const struct match_result res[READER__MAX], char *buf, size_t size)
{
	enum body_region	 region;
	char			 names[MATCH_TEXT_MAX], part[MATCH_TEXT_MAX];
	char			 q[QUOTE_MAX], m[QUOTE_MAX];
	int			 done[READER__MAX] = { 0 };
	int			 r, k, first = 1;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (r = 0; r < READER__MAX; r++)
		if (res[r].fits)
			return;
	region = matcher_region(s);
	if (region == REGION_OTHER && str(s->body_part)[0] != '\0')
		quote(s->body_part, q);
	else
		text_printf(q, sizeof(q), "%s", region_names_zh[region]);
	text_printf(buf, size, "该序列（%s，%s）不符合任何AI应用的要求：",
	    str(s->modality)[0] != '\0' ? quote(s->modality, m) :
	    "检查类型未知", q);
	for (r = 0; r < READER__MAX; r++) {
		if (done[r])
			continue;
		names[0] = '\0';
		for (k = r; k < READER__MAX; k++)
			if (!done[k] &&
			    strcmp(res[k].finding, res[r].finding) == 0) {
				text_append(names, sizeof(names), "、",
				    readers[k].short_zh);
				done[k] = 1;
			}
		text_printf(part, sizeof(part), "%s%s，不适用于%s",
		    first ? "" : "；", res[r].finding, names);
		text_append(buf, size, "", part);
		first = 0;
	}
	text_append(buf, size, "", "。");
}

int
reader_lookup(const char *code)
{
	int	 r;

	if (code == NULL)
		return -1;
	for (r = 0; r < READER__MAX; r++)
		if (strcmp(readers[r].code, code) == 0)
			return r;
	return -1;
}

const char *
reader_name_zh(const char *code)
{
	int	 r;

	return (r = reader_lookup(code)) >= 0 ? readers[r].zh : code;
}
