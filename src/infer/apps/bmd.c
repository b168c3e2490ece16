/*
 * bmd.c - the bone density reader (骨密度CT影像辅助诊断), see bmd.h.
 *
 * The vertebrae come from the anatomy the series' jobs share (spine.c:
 * bodies split at the discs, labelled from the last rib-bearing vertebra,
 * the trabecular ROI off the cortex and the basivertebral vein, the
 * heights on each body's mid-sagittal plane).  Here:
 *  - the estimated BMD: a phantomless calibration.  The CT numbers are
 *    first put on a common scale by two internal references, air (-1000
 *    HU) and the patient's fat (FAT_REF_HU), a linear correction of the
 *    scanner's scale (the internal calibration of Gudmundsdottir et al.,
 *    1993, and Mueller et al., 2011, who use air with fat, muscle or
 *    blood); then BMD = BMD_PER_HU x HU.  BMD_PER_HU is derived, not a
 *    measured calibration: the young-adult L1 mean of 236 HU (PMC6047377)
 *    against the young-adult QCT spine mean of about 175 mg/cm³, and
 *    Pickhardt's 110 / 160 HU (2013) beside the QCT cut-offs 80 / 120
 *    mg/cm³, all give 0.73-0.76 mg/cm³ per HU at 120 kV.  [K] the
 *    175 mg/cm³ young-adult figure and the fat reference are from
 *    secondary sources; a site phantom table (asynchronous calibration,
 *    Wang et al., 2017) replaces this when a site enters one (not yet).
 *  - the QCT category on the mean of L1 and L2 (two vertebrae, ACR 2018;
 *    the same cut-offs in the Chinese expert consensus, Cheng et al.,
 *    2020): > 120 normal, 80-120 low bone mass, < 80 osteoporosis; when
 *    L1 or L2 is not measured, the two measured levels nearest to them,
 *    and the text says which;
 *  - the L1 CT-number band (Pickhardt et al., 2013): <= 110 HU (> 90 %
 *    specific for osteoporosis), 110-160 HU (below the 90 %-sensitive
 *    threshold), > 160 HU;
 *  - the Genant grade from the heights (bmd_genant()).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "anatomy.h"
#include "bmd.h"
#include "bodycomp.h"
#include "log.h"
#include "masks.h"
#include "matcher.h"

#define FAT_REF_HU	(-100.0)	/* adipose at 120 kV (TomoVision's
					 * window -190..-30 centres near it) */
#define BMD_PER_HU	0.75
#define BMD_PI		3.14159265358979323846
#define MASK_HALF_X_MM	25.0		/* the measuring box */
#define MASK_HALF_Y_MM	20.0
#define MASK_RAYS	180		/* the outline, every 2 degrees */
#define MASK_NEAR_DEG	20.0		/* a ray's neighbours, each side */
#define MASK_OUT_SHARE	1.25		/* farther out: through a gap */

const char *const bmd_shape_zh[BMD_SHAPE__MAX] = {
	[BMD_SHAPE_NONE] = "",
	[BMD_SHAPE_WEDGE] = "楔形",
	[BMD_SHAPE_BICONCAVE] = "双凹形",
	[BMD_SHAPE_CRUSH] = "压缩形",
};

const char *const bmd_qct_zh[3] = { "骨量正常", "骨量减少", "骨质疏松" };

const char *const bmd_l1_zh[3] = {
	"L1 CT值>160 HU，骨质疏松可能性小",
	"L1 CT值110–160 HU，低于骨质疏松筛查的90%敏感度阈值，建议骨密度检查",
	"L1 CT值≤110 HU，提示骨质疏松（特异度>90%），建议骨密度检查",
};

int
bmd_genant(double ha, double hm, double hp, double hp_ref, double *loss,
    enum bmd_shape *shape)
{
	double	 l, best = 0.0;

	*shape = BMD_SHAPE_NONE;
	*loss = NAN;
	if (!(hp > 0.0) || !isfinite(ha) || !isfinite(hm))
		return 0;
	if ((l = 1.0 - ha / hp) > best) {
		best = l;
		*shape = BMD_SHAPE_WEDGE;
	}
	if ((l = 1.0 - hm / hp) > best) {
		best = l;
		*shape = BMD_SHAPE_BICONCAVE;
	}
	if (hp_ref > 0.0 && (l = 1.0 - hp / hp_ref) > best) {
		best = l;
		*shape = BMD_SHAPE_CRUSH;
	}
	*loss = best;
	if (best < 0.20) {
		*shape = BMD_SHAPE_NONE;
		return 0;
	}
	return best <= 0.25 ? 1 : best <= 0.40 ? 2 : 3;
}

double
bmd_from_hu(double hu, double air, double fat)
{
	if (isfinite(air) && isfinite(fat) && air < -900.0 && air > -1100.0 &&
	    fat > -150.0 && fat < -50.0)
		hu = -1000.0 + (hu - air) * (FAT_REF_HU + 1000.0) /
		    (fat - air);
	return BMD_PER_HU * hu;
}

int
bmd_qct_category(double bmd)
{
	return bmd > 120.0 ? 0 : bmd >= 80.0 ? 1 : 2;
}

int
bmd_l1_band(double hu)
{
	return hu > 160.0 ? 0 : hu > 110.0 ? 1 : 2;
}

enum reader_verdict
bmd_check(const struct series_volume *v, char *why, size_t sz)
{
	double	 dz = fabs(v->spacing[2]);
	int	 ce;

	if (strcmp(v->modality, "CT") != 0) {
		(void)snprintf(why, sz, "非CT序列，骨密度分析不适用");
		return READER_REFUSES;
	}
	if (fabs(v->normal[2]) < 0.9) {
		(void)snprintf(why, sz, "非横断面序列，骨密度分析需要横断面重建");
		return READER_REFUSES;
	}
	if (v->nz < MATCH_MIN_SLICES) {
		(void)snprintf(why, sz, "层数过少（%d层），无法进行骨密度分析",
		    v->nz);
		return READER_REFUSES;
	}
	if (dz > 2.55 || (isfinite(v->slice_thickness) &&
	    v->slice_thickness > 2.55)) {
		(void)snprintf(why, sz, "层厚/层距 %.3g/%.3g mm，超过骨密度分析"
		    "允许的 2.5 mm（建议 1.25 mm）", isfinite(v->slice_thickness) ?
		    v->slice_thickness : dz, dz);
		return READER_REFUSES;
	}
	if (v->spacing_max > 1.5 * v->spacing_median + 0.01) {
		(void)snprintf(why, sz, "层面位置不连续（最大层距 %.3g mm），存在"
		    "缺层，椎体高度无法测量", v->spacing_max);
		return READER_REFUSES;
	}
	if (v->tilt_deg > 1.0 || (isfinite(v->gantry_tilt) &&
	    fabs(v->gantry_tilt) > 1.0)) {
		(void)snprintf(why, sz, "机架倾斜，椎体形态测量需要无倾斜的横断面"
		    "序列");
		return READER_REFUSES;
	}
	if (isfinite(v->kvp) && v->kvp > 0.0 && (v->kvp < 79.5 ||
	    v->kvp > 150.5)) {
		(void)snprintf(why, sz, "管电压 %.0f kV，骨密度分析要求 80–150 kV"
		    "（建议 120 kV）", v->kvp);
		return READER_REFUSES;
	}
	if (matcher_kernel_class(v->kernel) == KERNEL_SHARP) {
		(void)snprintf(why, sz, "卷积核 %.60s 为锐利算法（肺/骨），CT值"
		    "噪声大；骨密度分析要求标准重建算法", v->kernel);
		return READER_REFUSES;
	}
	if (v->contrast_agent[0] != '\0') {
		(void)snprintf(why, sz, "该序列为增强扫描（对比剂 %.60s），对比剂"
		    "使椎体CT值升高；骨密度分析仅适用于平扫CT", v->contrast_agent);
		return READER_REFUSES;
	}
	if ((ce = matcher_contrast_text(v->description)) == TRI_UNKNOWN)
		ce = matcher_contrast_text(v->study_description);
	if (ce == TRI_YES) {
		(void)snprintf(why, sz, "序列描述表明为增强扫描；骨密度分析仅适用"
		    "于平扫CT");
		return READER_REFUSES;
	}
	return READER_FITS;
}

/* The measured, labelled body of label lab, or NULL. */
static const struct vertebra *
level(const struct spine_info *si, int lab)
{
	size_t	 i;

	for (i = 0; i < si->n; i++)
		if (si->v[i].label == lab && !si->v[i].partial &&
		    si->v[i].roi_voxels > 0)
			return &si->v[i];
	return NULL;
}

/* The posterior height expected of body i: its measured neighbours'
 * mean (NAN when none). */
static double
hp_ref(const struct spine_info *si, size_t i)
{
	double	 s = 0.0;
	int	 n = 0;

	if (i > 0 && isfinite(si->v[i - 1].hp) && !si->v[i - 1].partial) {
		s += si->v[i - 1].hp;
		n++;
	}
	if (i + 1 < si->n && isfinite(si->v[i + 1].hp) &&
	    !si->v[i + 1].partial) {
		s += si->v[i + 1].hp;
		n++;
	}
	return n > 0 ? s / n : NAN;
}

int
bmd_to_ai(const struct spine_info *si, const struct series_volume *v,
    struct ai_result *out, char *err, size_t errlen)
{
	static const int order[] = { SPINE_L1, SPINE_L2, SPINE_T12, SPINE_L3,
	    SPINE_T12 - 1, SPINE_L3 + 1 };
	const struct vertebra *q[2] = { NULL, NULL }, *l1;
	struct ai_lesion al;
	struct ai_key_image key;
	char	*fd = NULL, *cc = NULL, *me = NULL, a[32], b[32], c[32];
	size_t	 fl = 0, cl = 0, ml = 0, i, nq = 0;
	int	 nlev = 0, g, cat = -1, band = -1, nfrac = 0, id = 0;
	double	 loss, mean = NAN;
	enum bmd_shape shape;

	if (!si->found) {
		(void)snprintf(err, errlen, "%s，无法进行骨密度分析", si->why);
		return 1;
	}
	if (!si->labelled) {
		(void)snprintf(err, errlen, "%s", si->why);
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (level(si, SPINE_T12 + (int)i) != NULL)
			nlev++;
	if (nlev < 2) {
		(void)snprintf(err, errlen, "扫描范围内可测量的T12、L1、L2椎体"
		    "不足2个（%d个），骨密度分析要求至少包含其中2个", nlev);
		return 1;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && nq < 2; i++) {
		const struct vertebra *t = level(si, order[i]);

		if (t != NULL && (nq == 0 || q[0] != t))
			q[nq++] = t;
	}
	if (nq == 2) {
		mean = (bmd_from_hu(q[0]->hu, si->air_hu, si->fat_hu) +
		    bmd_from_hu(q[1]->hu, si->air_hu, si->fat_hu)) / 2.0;
		cat = bmd_qct_category(mean);
	}
	if ((l1 = level(si, SPINE_L1)) != NULL)
		band = bmd_l1_band(l1->hu);
	if (ai_text_append(&me, &ml, "椎体沿脊柱中心线按椎间盘分节（各层以椎体"
	    "中心向前、两侧放射取样，见皮质环者为椎体层，椎间盘层无皮质环；"
	    "Mastmeyer 2006 的按椎间盘分节思路），肋骨为自椎体旁向外侧延伸"
	    "≥60 mm的骨结构，%s。松质骨CT值取椎体中部一半层面内的椭圆ROI（各"
	    "半轴为椎体半径的65%%且距皮质≥5 mm，避开后方中央的椎基静脉；"
	    "Cann & Genant 1980的QCT椭圆ROI）。估算骨密度为无体模内部校准："
	    "以体外空气（-1000 HU）与体内脂肪（-100 HU）校正CT值标尺后按"
	    "0.75 mg/cm³每HU换算（由青年人L1 236 HU与QCT青年参考值、"
	    "Pickhardt 2013 的110/160 HU与QCT 80/120 mg/cm³推得，非本机体模"
	    "校准，数值仅供参考）。分类按ACR 2018及《中国定量CT骨质疏松诊断"
	    "专家共识》（程晓光等，2020）：两个腰椎平均骨密度>120 mg/cm³为"
	    "骨量正常，80–120为骨量减少，<80为骨质疏松（各椎体一行的分类按"
	    "该椎体自身估算值，诊断以两椎体平均为准）。L1 CT值分档按Pickhardt "
	    "2013：≤110 HU特异度>90%%，≤160 HU敏感度90%%。椎体前、中、后高度在"
	    "各椎体自身的正中矢状面上（过椎体中心、沿脊柱局部方向重采样）测量，"
	    "取深度10%%、50%%、90%%处上下终板外缘间距；终板位置按各层矩形层厚"
	    "响应拟合（薄于层厚的终板只保留其质量，Prevrhal 1999），终板跨两层时"
	    "可精确定位，落在一层之内时取其可能位置的中点；测三个高度时，"
	    "该线自身各层不能定位终板者，以其前后±3 mm内每0.5 mm一条的"
	    "多条线共同拟合一个倾斜的终板，终板与层面斜交（楔形、凹陷的"
	    "两侧、脊柱前倾）时由跨层的线定位；压缩骨折按Genant 1993"
	    "半定量分级：前/后、中/后高度比或后高与相邻椎体后高之比下降"
	    "20–25%%为1级（轻度）、25–40%%为2级（中度）、>40%%为3级（重度），"
	    "对应楔形、双凹形、压缩形。", si->uncertain ? "按最后一对肋骨所附"
	    "椎体为T12计数（本例节段存疑，请核对）" : "以最后一对肋骨所附椎体"
	    "为T12计数") == -1 ||
	    ai_text_append(&me, &ml, "局限：未见肋骨、移行椎（腰肋、骶椎腰化）"
	    "或肋骨发育短小时节段可能错位；严重骨质增生、内固定物、椎体肿瘤"
	    "及增强扫描影响CT值与高度；轻度（1级）骨折最难判断；层厚2.5 mm时"
	    "终板与层面平行且落在一层之内者其层内位置无法由图像确定（终板"
	    "CT值已知亦然），每个终板误差最多"
	    "0.75 mm、高度最多1.5 mm，接近分级界值的轻度骨折可能错分（体模上"
	    "22.5%%的双凹形1级在10个噪声种子中3个判为0级，因中部高度位于凹陷"
	    "底部、终板与层面平行），建议1.25 mm以下层厚。验证：在"
	    "已知松质骨CT值、皮质与高度（含一个楔形与一个双凹形椎体）的合成"
	    "脊柱体模上，0.625与1.25 mm层厚（含脊柱前倾12°）加15 HU噪声时"
	    "松质骨CT值误差≤0.5 HU、椎体高度误差≤0.25 mm（10个噪声种子≤0.4 mm）、"
	    "正中矢状面面积误差≤0.8%%、节段与Genant分级全部正确；2.5 mm时CT值"
	    "与节段正确，高度误差≤0.82 mm（10个噪声种子≤1.01 mm，其中终板与"
	    "层面斜交者≤0.39 mm）、面积误差≤0.8%%，楔形T12分级正确，双凹形"
	    "L2（22.5%%）判为0级。"
	    "真实胸部CT（LIDC-IDRI-0002）上T3–L2共12个椎体逐一"
	    "分出，节段由肋骨判定并经矢状位图像目视核对；另一腹盆部CT"
	    "（3 mm，留作检验，以TotalSegmentator的自动标注为参考而非人工"
	    "金标准）上T12至S1节段与参考一致，髂骨翼（骶髂关节处高而宽的"
	    "骨板）不计为肋骨。估算骨密度未与QCT或"
	    "DXA对照验证。"
	    "结果仅供参考，不能直接用于诊断。") == -1)
		goto oom;
	for (i = 0; i < si->n; i++) {
		const struct vertebra *t = &si->v[i];
		double	 bmd;
		int	 m = 0;

		if (t->partial || t->label == 0 || t->roi_voxels == 0)
			continue;
		bmd = bmd_from_hu(t->hu, si->air_hu, si->fat_hu);
		g = bmd_genant(t->ha, t->hm, t->hp, hp_ref(si, i), &loss,
		    &shape);
		if (!isfinite(t->hp))
			g = 0;
		memset(&al, 0, sizeof(al));
		al.id = ++id;
		/* The level's own QCT class (the diagnosis takes the mean of
		 * two levels, in the conclusion). */
		(void)snprintf(al.type, sizeof(al.type), "%s%s",
		    bmd_qct_zh[bmd_qct_category(bmd)], g > 0 ? "，压缩骨折" :
		    "");
		(void)snprintf(al.location, sizeof(al.location), "%s椎体",
		    spine_label_name(t->label));
#define MEAS(n, val, u) do { \
		(void)snprintf(al.meas[m].name, sizeof(al.meas[m].name), "%s", \
		    n); \
		al.meas[m].value = (val); \
		(void)snprintf(al.meas[m].unit, sizeof(al.meas[m].unit), "%s", \
		    u); \
		m++; } while (0)
		MEAS("平均CT值", round(t->hu * 10.0) / 10.0, "HU");
		MEAS("估算骨密度", round(bmd * 10.0) / 10.0, "mg/cm³");
		if (isfinite(t->ha))
			MEAS("前缘高度", round(t->ha * 10.0) / 10.0, "mm");
		if (isfinite(t->hm))
			MEAS("中部高度", round(t->hm * 10.0) / 10.0, "mm");
		if (isfinite(t->hp))
			MEAS("后缘高度", round(t->hp * 10.0) / 10.0, "mm");
		if (isfinite(t->area_mm2))
			MEAS("正中矢状面面积", round(t->area_mm2) / 100.0,
			    "cm²");
		/* Graded only with its three heights measured. */
		if (isfinite(t->ha) && isfinite(t->hm) && isfinite(t->hp)) {
			MEAS("压缩程度", round(loss * 1000.0) / 10.0, "%");
			MEAS("Genant分级", g, "");
		}
#undef MEAS
		al.nmeas = (size_t)m;
		al.box.slice = t->key_slice;
		al.box.x0 = t->x0;
		al.box.y0 = t->y0;
		al.box.x1 = t->x1;
		al.box.y1 = t->y1;
		al.confidence = si->uncertain ? 0.6 : 0.9;
		ai_text_fig(a, sizeof(a), round(t->hu));
		ai_text_fig(b, sizeof(b), round(bmd));
		(void)snprintf(al.findings, sizeof(al.findings), "%s椎体松质骨"
		    "平均CT值%s HU，估算骨密度约%s mg/cm³%s%s%s。",
		    spine_label_name(t->label), a, b, g > 0 ? "，椎体呈" : "",
		    g > 0 ? bmd_shape_zh[shape] : "", g > 0 ? "变扁" : "");
		if (g > 0) {
			ai_text_fig(c, sizeof(c), round(loss * 100.0));
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s椎体%s压缩骨折（Genant %d级，高度减少约%s%%）。",
			    spine_label_name(t->label), bmd_shape_zh[shape], g,
			    c);
			if (ai_text_append(&cc, &cl, "%s", al.conclusion) == -1)
				goto oom;
			nfrac++;
		}
		if (ai_result_add_lesion(out, &al) == NULL)
			goto oom;
		memset(&key, 0, sizeof(key));
		key.slice = t->key_slice;
		key.window_center = 400.0;
		key.window_width = 1800.0;
		(void)snprintf(key.caption, sizeof(key.caption), "%s椎体",
		    spine_label_name(t->label));
		if (ai_result_add_key(out, &key) == -1)
			goto oom;
	}
	if (nq == 2) {
		ai_text_fig(a, sizeof(a), round(mean));
		if (ai_text_append(&fd, &fl, "%s、%s椎体平均估算骨密度约%s "
		    "mg/cm³。", spine_label_name(q[0]->label),
		    spine_label_name(q[1]->label), a) == -1 ||
		    ai_text_append(&cc, &cl, "%s（%s–%s平均估算骨密度%s "
		    "mg/cm³，按QCT标准）。", bmd_qct_zh[cat],
		    spine_label_name(q[0]->label), spine_label_name(q[1]->label),
		    a) == -1 ||
		    ai_result_add_summary(out, "平均估算骨密度",
		    round(mean * 10.0) / 10.0, "mg/cm³") == -1)
			goto oom;
	}
	if (band >= 0) {
		ai_text_fig(a, sizeof(a), round(l1->hu));
		if (ai_text_append(&fd, &fl, "L1椎体松质骨平均CT值%s HU。", a) ==
		    -1 || ai_text_append(&cc, &cl, "%s。", bmd_l1_zh[band]) ==
		    -1 || ai_result_add_summary(out, "L1平均CT值",
		    round(l1->hu * 10.0) / 10.0, "HU") == -1)
			goto oom;
	}
	if (nfrac == 0 && (ai_text_append(&fd, &fl, "所测椎体形态未见明确"
	    "压缩变扁。") == -1 || ai_text_append(&cc, &cl, "所测椎体未见"
	    "明确压缩骨折。") == -1))
		goto oom;
	if (si->uncertain && ai_text_append(&cc, &cl, "（%s。）",
	    si->label_zh) == -1)
		goto oom;
	if (ai_result_add_summary(out, "压缩骨折椎体数", nfrac, "个") == -1 ||
	    ai_result_set_text(out, fd, cc) == -1 ||
	    ai_result_set_method(out, me) == -1 ||
	    ai_result_set_volume(out, v) == -1)
		goto oom;
	free(fd);
	free(cc);
	free(me);
	return 0;
oom:
	free(fd);
	free(cc);
	free(me);
	(void)snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * The skeletal muscle index cut-offs at L3 for a Chinese population
 * (Zhuang et al., 2016, Medicine 95:e3164; gastric cancer patients):
 * men < 40.8, women < 34.9 cm²/m².
 */
#define SMI_CUT_M	40.8
#define SMI_CUT_F	34.9

/* The mid-sagittal view of the spine: grey, PIC_MM pixels, the head at
 * the top, anterior to the left, cropped round the bodies; the heights
 * of each measured body as lines into *levels (JSON). */
#define PIC_MM	0.5

static int
sagittal(const struct spine_info *si, const struct series_volume *v,
    struct ai_result *out, json_t *levels, json_t *sag)
{
	double	 xs[SPINE_BODIES_MAX], cxv, ymin = 1e30, ymax = -1e30;
	double	 sy = fabs(v->spacing[1]), dz = fabs(v->spacing[2]), ya, yb;
	int	 head_up = v->step[2] >= 0.0, w, h, i, j, m = 0, rc = -1;
	unsigned char *pix = NULL;
	size_t	 b;

	for (b = 0; b < si->n; b++)
		if (!si->v[b].partial) {
			xs[m++] = si->v[b].c[0];
			ymin = fmin(ymin, si->v[b].c[1]);
			ymax = fmax(ymax, si->v[b].c[1]);
		}
	if (m == 0 || !(sy > 0.0) || !(dz > 0.0))
		return 0;
	for (i = 1; i < m; i++)		/* the median column */
		for (j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
			double	 t = xs[j];

			xs[j] = xs[j - 1];
			xs[j - 1] = t;
		}
	cxv = xs[m / 2];
	ya = fmax(0.0, ymin * sy - 60.0);		/* mm */
	yb = fmin((v->ny - 1) * sy, ymax * sy + 80.0);
	w = (int)((yb - ya) / PIC_MM) + 1;
	h = (int)((v->nz - 1) * dz / PIC_MM) + 1;
	if (w < 2 || h < 2 || (pix = malloc((size_t)w * h)) == NULL)
		return w < 2 || h < 2 ? 0 : -1;
	for (j = 0; j < h; j++) {
		double	 kz = j * PIC_MM / dz;

		if (head_up)
			kz = (v->nz - 1) - kz;
		for (i = 0; i < w; i++) {
			double	 yy = (ya + i * PIC_MM) / sy, val, g;
			int	 k0 = (int)floor(kz), y0 = (int)floor(yy);
			double	 fk = kz - k0, fy = yy - y0;
			int	 k1 = k0 + 1 < v->nz ? k0 + 1 : k0;
			int	 y1 = y0 + 1 < v->ny ? y0 + 1 : y0;
			int	 xi = (int)lround(cxv);
			const float *vx = v->vox;
			size_t	 nx = (size_t)v->nx, ny = (size_t)v->ny;

			val = (1 - fk) * ((1 - fy) * vx[((size_t)k0 * ny + y0) *
			    nx + xi] + fy * vx[((size_t)k0 * ny + y1) * nx +
			    xi]) + fk * ((1 - fy) * vx[((size_t)k1 * ny + y0) *
			    nx + xi] + fy * vx[((size_t)k1 * ny + y1) * nx +
			    xi]);
			g = (val - (300.0 - 750.0)) / 1500.0 * 255.0;
			pix[(size_t)j * w + i] = (unsigned char)(g < 0.0 ? 0 :
			    g > 255.0 ? 255 : lround(g));
		}
	}
	for (b = 0; b < si->n; b++) {
		const struct vertebra *t = &si->v[b];
		double	 row, front, hh[3] = { t->ha, t->hm, t->hp };
		json_t	*lv, *lines;
		int	 q;

		if (t->partial || t->label == 0)
			continue;
		row = (head_up ? (v->nz - 1) - t->c[2] : t->c[2]) * dz /
		    PIC_MM;
		front = (t->c[1] * sy - (isfinite(t->depth) ? t->depth :
		    32.0) / 2.0 - ya) / PIC_MM;
		if ((lines = json_array()) == NULL)
			goto out;
		for (q = 0; q < 3 && isfinite(t->depth); q++) {
			double	 x = front + (0.1 + 0.4 * q) * t->depth / PIC_MM;

			if (!isfinite(hh[q]))
				continue;
			(void)json_array_append_new(lines, json_pack("[f,f,f,f]",
			    round(x * 10) / 10, round((row - hh[q] / 2.0 /
			    PIC_MM) * 10) / 10, round(x * 10) / 10,
			    round((row + hh[q] / 2.0 / PIC_MM) * 10) / 10));
		}
		lv = json_pack("{s:s, s:f, s:f, s:o}", "label",
		    spine_label_name(t->label), "x", round(fmax(front - 4.0,
		    12.0) * 10) / 10, "y", round(row * 10) / 10, "lines",
		    lines);
		if (lv == NULL || json_array_append_new(levels, lv) == -1)
			goto out;
	}
	if (json_object_set_new(sag, "width", json_integer(w)) == -1 ||
	    json_object_set_new(sag, "height", json_integer(h)) == -1 ||
	    ai_result_add_picture(out, "sagittal", pix, w, h, 1) == -1)
		goto out;
	rc = 0;
out:
	free(pix);
	return rc;
}

int
bmd_body_to_ai(const struct spine_info *si, const struct series_volume *v,
    double height_m, int sex, struct ai_result *out, char *err,
    size_t errlen)
{
	static const int order[] = { SPINE_L3, SPINE_L2, SPINE_L3 + 1,
	    SPINE_L5, SPINE_L1, SPINE_T12 };
	const struct vertebra *lv = NULL;
	struct bodycomp	 bc;
	struct ai_key_image key;
	json_t		*x = NULL, *bcj, *rows, *sag, *levels;
	unsigned char	*rgb = NULL;
	char		*fd = NULL, *cc = NULL, *js = NULL, why[256], a[32], b[32];
	char		*me = NULL;
	size_t		 fl = 0, cl = 0, ml = 0, i;
	double		 sma, smi = NAN, cut;
	int		 t, rc = -1, r;

	memset(&bc, 0, sizeof(bc));
	if (out->findings != NULL && ai_text_append(&fd, &fl, "%s",
	    out->findings) == -1)
		goto oom;
	if (out->conclusion != NULL && ai_text_append(&cc, &cl, "%s",
	    out->conclusion) == -1)
		goto oom;
	if ((x = json_object()) == NULL || (sag = json_object()) == NULL ||
	    json_object_set_new(x, "sagittal", sag) == -1 ||
	    (levels = json_array()) == NULL ||
	    json_object_set_new(sag, "levels", levels) == -1)
		goto oom;
	if (sagittal(si, v, out, levels, sag) == -1)
		goto oom;
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && lv == NULL; i++)
		lv = level(si, order[i]);
	if (lv == NULL) {
		if (ai_text_append(&fd, &fl, "扫描范围内未见完整的L1–L5或T12椎体，"
		    "未测量身体成分。") == -1)
			goto oom;
		goto text;
	}
	if ((r = bodycomp_measure(v, lv->key_slice, lv, &bc, why,
	    sizeof(why))) == -1) {
		(void)snprintf(err, errlen, "%s", why);
		goto fail;
	}
	if (r == 1) {
		if (ai_text_append(&fd, &fl, "%s椎体层面%s。",
		    spine_label_name(lv->label), why) == -1)
			goto oom;
		goto text;
	}
	sma = bodycomp_muscle_cm2(&bc);
	if (isfinite(height_m) && height_m > 0.5 && height_m < 2.5)
		smi = sma / (height_m * height_m);
	if (ai_text_append(&fd, &fl, "%s身体成分（%s椎体中部层面，第%d层）：",
	    lv->label == SPINE_L3 ? "" : "L3不在扫描范围内，改在该层面测量；",
	    spine_label_name(lv->label), lv->key_slice + 1) == -1)
		goto oom;
	if ((bcj = json_object()) == NULL ||
	    json_object_set_new(x, "body_composition", bcj) == -1 ||
	    (rows = json_array()) == NULL ||
	    json_object_set_new(bcj, "rows", rows) == -1)
		goto oom;
	for (t = BC_SAT; t < BC__MAX; t++) {
		char	 col[8];

		(void)snprintf(col, sizeof(col), "#%02x%02x%02x",
		    bc_colour[t][0], bc_colour[t][1], bc_colour[t][2]);
		ai_text_fig(a, sizeof(a), round(bc.area_cm2[t] * 10.0) / 10.0);
		ai_text_fig(b, sizeof(b), isfinite(bc.hu[t]) ?
		    round(bc.hu[t]) : 0.0);
		if (ai_text_append(&fd, &fl, "%s%s面积%s cm²%s%s%s",
		    t == BC_SAT ? "" : "，", bc_tissue_zh[t], a,
		    isfinite(bc.hu[t]) ? "（平均CT值" : "",
		    isfinite(bc.hu[t]) ? b : "",
		    isfinite(bc.hu[t]) ? " HU）" : "") == -1)
			goto oom;
		if (json_array_append_new(rows, json_pack("{s:s, s:f, s:o, s:s}",
		    "name", bc_tissue_zh[t], "area",
		    round(bc.area_cm2[t] * 10.0) / 10.0, "hu",
		    isfinite(bc.hu[t]) ? json_real(round(bc.hu[t] * 10.0) /
		    10.0) : json_null(), "colour", col)) == -1)
			goto oom;
	}
	ai_text_fig(a, sizeof(a), round(sma * 10.0) / 10.0);
	if (ai_text_append(&fd, &fl, "；骨骼肌面积（腹壁肌肉与椎旁肌肉，含腰大肌）"
	    "%s cm²", a) == -1)
		goto oom;
	if (isfinite(smi)) {
		ai_text_fig(a, sizeof(a), round(smi * 10.0) / 10.0);
		ai_text_fig(b, sizeof(b), round(height_m * 100.0));
		if (ai_text_append(&fd, &fl, "，骨骼肌指数%s cm²/m²（身高%s cm）。",
		    a, b) == -1)
			goto oom;
		cut = sex == 'M' ? SMI_CUT_M : sex == 'F' ? SMI_CUT_F : NAN;
		if (isfinite(cut) && smi < cut && ai_text_append(&cc, &cl,
		    "骨骼肌指数%s cm²/m²，低于%s性界值%.1f cm²/m²（Zhuang 2016），"
		    "提示骨骼肌量减少。", a, sex == 'M' ? "男" : "女", cut) == -1)
			goto oom;
	} else if (ai_text_append(&fd, &fl, "；身高未知，未计算骨骼肌指数。") ==
	    -1)
		goto oom;
	if (json_object_set_new(bcj, "level",
	    json_string(spine_label_name(lv->label))) == -1 ||
	    json_object_set_new(bcj, "slice", json_integer(lv->key_slice)) ==
	    -1 || json_object_set_new(bcj, "muscle_area",
	    json_real(round(sma * 10.0) / 10.0)) == -1 ||
	    json_object_set_new(bcj, "height_m", isfinite(smi) ?
	    json_real(height_m) : json_null()) == -1 ||
	    json_object_set_new(bcj, "smi", isfinite(smi) ?
	    json_real(round(smi * 10.0) / 10.0) : json_null()) == -1)
		goto oom;
	if (ai_result_add_summary(out, "骨骼肌面积", round(sma * 10.0) / 10.0,
	    "cm²") == -1 || (isfinite(smi) && ai_result_add_summary(out,
	    "骨骼肌指数", round(smi * 10.0) / 10.0, "cm²/m²") == -1) ||
	    ai_result_add_summary(out, "内脏脂肪面积",
	    round(bc.area_cm2[BC_VAT] * 10.0) / 10.0, "cm²") == -1 ||
	    ai_result_add_summary(out, "皮下脂肪面积",
	    round(bc.area_cm2[BC_SAT] * 10.0) / 10.0, "cm²") == -1)
		goto oom;
	memset(&key, 0, sizeof(key));
	key.slice = lv->key_slice;
	key.window_center = 40.0;
	key.window_width = 400.0;
	(void)snprintf(key.caption, sizeof(key.caption), "%s身体成分测量层面",
	    spine_label_name(lv->label));
	if (ai_result_add_key(out, &key) == -1 ||
	    bodycomp_picture(v, &bc, &rgb) == -1 ||
	    ai_result_add_picture(out, "bodycomp", rgb, bc.nx, bc.ny, 3) == -1)
		goto oom;
text:
	if (out->method != NULL && (ai_text_append(&me, &ml, "%s",
	    out->method) == -1 || ai_text_append(&me, &ml, "身体成分：在L3椎体"
	    "中部层面测量（L3不在扫描范围内时依次改用L2、L4、L5、L1、T12，"
	    "Derstine 2018），CT值窗按Alberta方案（Mitsiopoulos 1998、"
	    "Mourtzakis 2008）：骨骼肌-29至150 HU，脂肪-190至-30 HU（内脏"
	    "脂肪同此窗）；自躯体中心放射取样，皮下脂肪之内第一层连续≥3 mm"
	    "的软组织为腹壁肌筋膜外缘，其外的脂肪为皮下脂肪（Shen 2004）；"
	    "腹壁肌内缘为其内≥5 mm脂肪或骨之处，脏器或肠管紧贴腹壁（其间无"
	    "脂肪）或所见内缘远深于邻近时，按邻近可见内缘处的腹壁厚度中位数"
	    "推定（厚度先验，Chung 2009、Popuri 2016），内缘以内的脂肪为内脏"
	    "脂肪，其内软组织不计为肌肉；椎体前缘之后、躯干半宽45%%以内与本"
	    "椎骨（椎体皮质及椎弓，不含肋骨及强化的肾、血管）相连的肌肉为"
	    "椎旁肌（竖脊肌、腰方肌，腰大肌亦归入此组），其余腹壁肌环为腹壁"
	    "肌肉；肌间脂肪为各肌群轮廓内的脂肪。骨骼肌面积为两组肌肉之和，"
	    "骨骼肌指数=骨骼肌面积/身高²（身高取自DICOM PatientSize），界值按"
	    "Zhuang 2016（男<40.8、女<34.9 cm²/m²）。验证：在已知各成分面积的"
	    "合成体模上（0.625–2.5 mm，15 HU噪声，含紧贴腹壁内面的肝叶、"
	    "肠管与结肠）面积误差≤2%%、CT值与理想勾画相差≤0.3 HU；与"
	    "TotalSegmentator模型分割对照（一例增强CT的L1层面，3 mm像素）肌肉"
	    "面积+8.2%%、皮下脂肪+10.3%%、内脏与肌间脂肪较其躯干脂肪+18.8%%。"
	    "局限：脏器大范围紧贴腹壁时内缘为推定；紧贴腰大肌或竖脊肌的脏器"
	    "及膈肌脚仍可被计入椎旁肌；像素较大时肠气、肠内容物与软组织的"
	    "部分容积像素可落在脂肪窗内而计为内脏脂肪；尚未与人工勾画对照。") == -1 ||
	    ai_result_set_method(out, me) == -1))
		goto oom;
	if ((js = json_dumps(x, JSON_COMPACT)) == NULL ||
	    ai_result_set_extra(out, js) == -1 ||
	    ai_result_set_text(out, fd, cc) == -1)
		goto oom;
	rc = 0;
	goto done;
oom:
	(void)snprintf(err, errlen, "out of memory");
fail:
	rc = -1;
done:
	bodycomp_free(&bc);
	json_decref(x);
	free(js);
	free(rgb);
	free(fd);
	free(cc);
	free(me);
	return rc;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The body's outline on one slice in polar coordinates about its centre
 * (cx, cy; the outline star-shaped about it, as in the polar search of
 * the vertebral body's outline of Yao et al., 2006, "Automated spinal
 * column extraction and partitioning", IEEE ISBI): into rad[MASK_RAYS]
 * the distance (mm) at which each ray first meets the cortex (at or over
 * BMD_CORTEX_HU) within the measuring box.  A ray that leaves the box
 * without meeting it went out through a gap in the cortex (the
 * basivertebral foramen, a thin osteoporotic shell), and one that meets
 * bone much farther out than the rays round it (more than
 * MASK_OUT_SHARE of their median, within MASK_NEAR_DEG) went through a
 * gap to other bone (a pedicle, the arch): both take the distance
 * interpolated between the nearest rays either side that met the
 * cortex where it belongs.  Returns how many rays met the cortex.
 */
static int
outline(const struct series_volume *v, const float *sl, double cx,
    double cy, double *rad)
{
	double	 st = 0.25 * fmin(v->spacing[0], v->spacing[1]), r;
	double	 w[MASK_RAYS];
	int	 t, u, m, hits = 0, near = (int)lround(MASK_NEAR_DEG / 360.0 *
		    MASK_RAYS), ok[MASK_RAYS];

	for (t = 0; t < MASK_RAYS; t++) {
		double	 a = 2.0 * BMD_PI * t / MASK_RAYS;

		rad[t] = NAN;
		for (r = 0.0;; r += st) {
			double	 X = r * cos(a), Y = r * sin(a);
			int	 ii = (int)lround(cx + X / v->spacing[0]);
			int	 jj = (int)lround(cy + Y / v->spacing[1]);

			if (fabs(X) > MASK_HALF_X_MM ||
			    fabs(Y) > MASK_HALF_Y_MM || ii < 0 || jj < 0 ||
			    ii >= v->nx || jj >= v->ny)
				break;
			if (sl[(size_t)jj * v->nx + ii] >= BMD_CORTEX_HU) {
				rad[t] = r;
				break;
			}
		}
	}
	for (t = 0; t < MASK_RAYS; t++) {
		ok[t] = 0;
		if (!isfinite(rad[t]))
			continue;
		for (m = 0, u = -near; u <= near; u++)
			if (u != 0 && isfinite(rad[(t + u + MASK_RAYS) %
			    MASK_RAYS]))
				w[m++] = rad[(t + u + MASK_RAYS) % MASK_RAYS];
		if (m > 0) {
			qsort(w, (size_t)m, sizeof(w[0]), cmp_dbl);
			if (rad[t] > MASK_OUT_SHARE * w[m / 2])
				continue;
		}
		ok[t] = 1;
		hits++;
	}
	if (hits == 0)
		return 0;
	for (t = 0; t < MASK_RAYS; t++) {
		int	 a = 1, b = 1;

		if (ok[t])
			continue;
		while (!ok[(t - a + MASK_RAYS) % MASK_RAYS])
			a++;
		while (!ok[(t + b) % MASK_RAYS])
			b++;
		rad[t] = (rad[(t - a + MASK_RAYS) % MASK_RAYS] * b +
		    rad[(t + b) % MASK_RAYS] * a) / (a + b);
	}
	return hits;
}

int
bmd_masks(const struct anatomy *an, const struct series_volume *v,
    struct ai_result *res)
{
	const struct spine_info	*si = &an->spine;
	static const int	 nb4[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 },
				    { 0, -1 } };
	json_t			*legend;
	uint8_t			*lab = NULL, *seen = NULL;
	size_t			*st = NULL, ns, o, plane;
	char			 name[48], *txt;
	double			 cx, cy, rad[MASK_RAYS];
	size_t			 i;
	int			 k, x, y, xx, yy, q, l, ix, iy, rc = -1, star;
	int			 edge;
	int			 wx0, wy0, wx1, wy1, mx, my;

	if (si->n == 0)
		return 0;
	plane = (size_t)v->nx * v->ny;
	if ((legend = json_array()) == NULL ||
	    (lab = calloc(plane * v->nz, 1)) == NULL ||
	    (seen = calloc(plane, 1)) == NULL ||
	    (st = malloc(plane * sizeof(*st))) == NULL)
		goto out;
	mx = (int)ceil(MASK_HALF_X_MM / v->spacing[0]) + 2;
	my = (int)ceil(MASK_HALF_Y_MM / v->spacing[1]) + 2;
	for (i = 0; i < si->n && i < 245; i++) {
		const struct vertebra *b = &si->v[i];

		l = 10 + (int)i;
		for (k = b->k0 < 0 ? 0 : b->k0; k <= b->k1 && k < v->nz; k++) {
			const float	*sl = v->vox + plane * (size_t)k;
			uint8_t		*ls = lab + plane * (size_t)k;

			cx = b->c[0];
			cy = b->c[1];
			if (an->spine_xy != NULL &&
			    isfinite(an->spine_xy[2 * k])) {
				cx = an->spine_xy[2 * k];
				cy = an->spine_xy[2 * k + 1];
			}
			ix = (int)lround(cx);
			iy = (int)lround(cy);
			if (ix < 0 || iy < 0 || ix >= v->nx || iy >= v->ny ||
			    !(sl[(size_t)iy * v->nx + ix] < BMD_CORTEX_HU))
				continue;
			wx0 = ix - mx < 0 ? 0 : ix - mx;
			wy0 = iy - my < 0 ? 0 : iy - my;
			wx1 = ix + mx >= v->nx ? v->nx - 1 : ix + mx;
			wy1 = iy + my >= v->ny ? v->ny - 1 : iy + my;
			/* Where most rays meet the cortex, the inside is
			 * the outline's; else the voxels under
			 * BMD_CORTEX_HU reached from the centre within the
			 * box, where the cortex encloses them. */
			star = outline(v, sl, cx, cy, rad) >= MASK_RAYS / 2;
			if (star) {
				for (y = wy0; y <= wy1; y++)
					for (x = wx0; x <= wx1; x++) {
						double	 X = (x - cx) *
						    v->spacing[0], Y = (y -
						    cy) * v->spacing[1], a;
						int	 t;

						a = atan2(Y, X);
						if (a < 0.0)
							a += 2.0 * BMD_PI;
						t = (int)lround(a / (2.0 *
						    BMD_PI) * MASK_RAYS) %
						    MASK_RAYS;
						if (sqrt(X * X + Y * Y) <
						    rad[t] && fabs(X) <=
						    MASK_HALF_X_MM &&
						    fabs(Y) <= MASK_HALF_Y_MM)
							seen[(size_t)y *
							    v->nx + x] = 1;
					}
			} else {
				edge = 0;
				ns = 0;
				o = (size_t)iy * v->nx + ix;
				seen[o] = 1;
				st[ns++] = o;
				while (ns > 0) {
					o = st[--ns];
					x = (int)(o % (size_t)v->nx);
					y = (int)(o / (size_t)v->nx);
					for (q = 0; q < 4; q++) {
						xx = x + nb4[q][0];
						yy = y + nb4[q][1];
						if (xx < 0 || yy < 0 ||
						    xx >= v->nx ||
						    yy >= v->ny ||
						    fabs((xx - cx) *
						    v->spacing[0]) >
						    MASK_HALF_X_MM ||
						    fabs((yy - cy) *
						    v->spacing[1]) >
						    MASK_HALF_Y_MM) {
							edge = 1;
							continue;
						}
						o = (size_t)yy * v->nx + xx;
						if (seen[o] || !(sl[o] <
						    BMD_CORTEX_HU))
							continue;
						seen[o] = 1;
						st[ns++] = o;
					}
				}
				/* Nothing encloses it (a disc's slice): no
				 * body here. */
				if (edge)
					for (y = wy0; y <= wy1; y++)
						memset(seen + (size_t)y *
						    v->nx + wx0, 0,
						    (size_t)(wx1 - wx0 + 1));
			}
			/* The inside, and the cortex one voxel round it. */
			for (y = wy0; y <= wy1; y++)
				for (x = wx0; x <= wx1; x++) {
					o = (size_t)y * v->nx + x;
					if (seen[o]) {
						ls[o] = (uint8_t)l;
						continue;
					}
					if (!(sl[o] >= BMD_CORTEX_HU))
						continue;
					for (q = 0; q < 4; q++) {
						xx = x + nb4[q][0];
						yy = y + nb4[q][1];
						if (xx >= 0 && yy >= 0 &&
						    xx < v->nx && yy < v->ny &&
						    seen[(size_t)yy * v->nx +
						    xx]) {
							ls[o] = (uint8_t)l;
							break;
						}
					}
				}
			for (y = wy0; y <= wy1; y++)
				memset(seen + (size_t)y * v->nx + wx0, 0,
				    (size_t)(wx1 - wx0 + 1));
		}
		if (b->label != 0)
			(void)snprintf(name, sizeof(name), "%s椎体",
			    spine_label_name(b->label));
		else
			(void)snprintf(name, sizeof(name), "未定序椎体");
		if (masks_legend_add(legend, l, name, MASKS_VERTEBRA,
		    (int)i) == -1)
			goto out;
	}
	if ((txt = json_dumps(legend, JSON_COMPACT)) == NULL)
		goto out;
	rc = ai_result_set_masks(res, lab, v->nx, v->ny, v->nz, txt);
	lab = NULL;
	free(txt);
out:
	free(lab);
	free(seen);
	free(st);
	json_decref(legend);
	return rc;
}

static int
bmd_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct anatomy_cache	*own = NULL, *cache = ctx->anatomy;
	const struct anatomy	*an;
	int			 ret = -1;
	size_t			 i;

	if (cache == NULL && (cache = own = anatomy_cache_new()) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (anatomy_get(cache, ctx->compute, v, ctx->series_id,
	    ANAT_VERTEBRAE, &an, err, errlen) == -1)
		goto out;
	if (ctx->cancel != NULL && *ctx->cancel) {
		(void)snprintf(err, errlen, "cancelled");
		goto out;
	}
	for (i = 0; i < an->spine.n; i++)
		log_debug("series %lld: bone density: %s slices %d-%d hu %.1f"
		    " ha %.1f hm %.1f hp %.1f ribs %d", ctx->series_id,
		    spine_label_name(an->spine.v[i].label),
		    an->spine.v[i].k0, an->spine.v[i].k1, an->spine.v[i].hu,
		    an->spine.v[i].ha, an->spine.v[i].hm, an->spine.v[i].hp,
		    an->spine.v[i].ribs);
	ret = bmd_to_ai(&an->spine, v, res, err, errlen);
	if (ret == 0)
		ret = bmd_body_to_ai(&an->spine, v, v->patient_size,
		    ctx->patient_sex, res, err, errlen);
	if (ret == 0 && bmd_masks(an, v, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		ret = -1;
	}
	if (ret == 1)
		log_info("series %lld: bone density: refused: %s",
		    ctx->series_id, err);
	else if (ret == 0)
		log_info("series %lld: bone density: %zu vertebra(e)",
		    ctx->series_id, res->nlesions);
out:
	anatomy_cache_free(own);
	return ret;
}

const struct reader_impl bmd_reader = {
	.id = READER_CT_BONE_DENSITY,
	.check = bmd_check,
	.run = bmd_run,
};
