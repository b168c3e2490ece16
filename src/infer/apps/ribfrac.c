/*
 * ribfrac.c - the rib fracture reader (CT骨折辅助诊断), see ribfrac.h.
 *
 * The vertebrae come from the anatomy the series' jobs share (spine.c,
 * computed once per series for the bone density reader as well); the
 * ribs are traced, numbered and searched for fractures by ribs.c (centre
 * lines after Staal et al., 2007, and Lenga et al., 2018; numbered from
 * the twelfth rib at T12 and checked from the first, Lenga et al., 2018;
 * the fracture types of RibFrac, Jin et al., 2020).  Here the result: the
 * lesions with their sentences, the text, and the overlays.
 *
 * The manual asks for the whole rib cage in view: a scan whose range
 * shows neither the top of the cage (12 mm above the highest rib) nor the
 * last rib at T12 with the spine going on below it is refused with the
 * reason, as is one where no rib is seen or none can be numbered.
 *
 * Follow-up: no guideline on the imaging follow-up of rib fractures is
 * cited in this project's standards, so the text names none and says
 * that follow-up is the clinician's decision.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "anatomy.h"
#include "log.h"
#include "masks.h"
#include "ribfrac.h"
#include "spine.h"

#define RIB_BREAK_RING	0.72	/* ribs.c: a break's ring share */
#define RIB_STEP_MM	1.8	/* ribs.c: a displaced step-off */
#define RIB_BULGE_MM	1.5	/* ribs.c: a buckle's bulge */
#define RIB_THICK_MM	1.5	/* ribs.c: a callus' thickening */

/*
 * Append to the text what was not searched: the stretches where a rib
 * lies on another bone (the scapula, the clavicle) and the cross-section
 * cannot tell them apart (ribs.c), by rib and segment, and the ribs whose
 * line ran into the scapula or an arm.  Returns 0, or -1 out of memory.
 */
static int
not_searched(const struct series_volume *v, const struct ribs_info *ri,
    char **fd, size_t *flen)
{
	char	 part[1024], whole[512], name[32];
	size_t	 i, np = 0, nw = 0, o = 0, ow = 0;
	int	 m, sg;

	part[0] = whole[0] = '\0';
	for (i = 0; i < ri->n; i++) {
		const struct rib *r = &ri->r[i];

		if (r->number > 0)
			(void)snprintf(name, sizeof(name), "%s第%d肋",
			    r->side == RIB_RIGHT ? "右" : "左", r->number);
		else
			(void)snprintf(name, sizeof(name), "%s侧未编号肋骨",
			    r->side == RIB_RIGHT ? "右" : "左");
		if (!r->searched) {
			if (ow < sizeof(whole))
				ow += (size_t)snprintf(whole + ow,
				    sizeof(whole) - ow, "%s%s", nw++ ? "、" :
				    "", name);
			continue;
		}
		if ((m = ribs_skip_segments(v, ri, (int)i)) == 0)
			continue;
		if (o < sizeof(part))
			o += (size_t)snprintf(part + o, sizeof(part) - o,
			    "%s%s", np++ ? "、" : "", name);
		for (sg = 0; sg < 3; sg++)
			if ((m & (1 << sg)) && o < sizeof(part))
				o += (size_t)snprintf(part + o, sizeof(part) -
				    o, "%s", rib_segment_zh[sg]);
	}
	if (np > 0 && ai_text_append(fd, flen, "%s%s与肩胛骨、锁骨等邻近骨"
	    "紧贴、未能分开，该段未作骨折检测，请人工阅片。", part,
	    o >= sizeof(part) ? "等" : "") == -1)
		return -1;
	if (nw > 0 && ai_text_append(fd, flen, "%s%s中心线进入肩胛骨或上肢骨，"
	    "未作骨折检测，请人工阅片。", whole, ow >= sizeof(whole) ? "等" :
	    "") == -1)
		return -1;
	return 0;
}

enum reader_verdict
ribfrac_check(const struct series_volume *v, char *why, size_t sz)
{
	return reader_check_chest_ct(v, "肋骨骨折检测", 2.0, "可能漏检骨折",
	    "肋骨定位", why, sz);
}

static double
clamp01(double x)
{
	return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

double
ribfrac_confidence(const struct rib_fracture *f)
{
	double	 c;

	switch (f->type) {
	case RIBF_BUCKLE:
		c = clamp01((f->bulge_mm - RIB_BULGE_MM) / 2.0);
		break;
	case RIBF_OLD:
		c = clamp01((f->thick_mm - RIB_THICK_MM) / 2.0);
		break;
	default:
		c = clamp01((RIB_BREAK_RING - f->ring) / 0.5);
		if (f->type == RIBF_DISPLACED)
			c = fmax(c, clamp01((f->step_mm - RIB_STEP_MM) /
			    3.0));
		break;
	}
	/* An uncalibrated score: never shown as a certainty. */
	return 0.5 + 0.4 * c;
}

/* The position order: right before left, by number (not numbered last),
 * posterior, axillary, anterior, along the rib from its head. */
static const struct ribs_info *sort_ri;

static int
cmp_pos(const void *pa, const void *pb)
{
	const struct rib_fracture *a = *(const struct rib_fracture *const *)pa;
	const struct rib_fracture *b = *(const struct rib_fracture *const *)pb;
	const struct rib *ra = &sort_ri->r[a->rib], *rb = &sort_ri->r[b->rib];
	int	 na = ra->number > 0 ? ra->number : 99;
	int	 nb = rb->number > 0 ? rb->number : 99;

	if (ra->side != rb->side)
		return ra->side < rb->side ? -1 : 1;
	if (na != nb)
		return na < nb ? -1 : 1;
	if (a->rib != b->rib)
		return a->rib < b->rib ? -1 : 1;
	if (a->segment != b->segment)
		return a->segment < b->segment ? -1 : 1;
	return a->s_mm < b->s_mm ? -1 : a->s_mm > b->s_mm;
}

/* The lesion's sentences (影像表现, 影像结论) of f at where. */
static void
sentences(const struct rib_fracture *f, const char *where, char *fd,
    size_t fsz, char *cc, size_t csz)
{
	char	 a[32];

	switch (f->type) {
	case RIBF_DISPLACED:
		if (f->step_mm >= RIB_STEP_MM) {
			ai_text_fig(a, sizeof(a), f->step_mm);
			(void)snprintf(fd, fsz, "%s骨皮质连续性中断，断端错位"
			    "约%s mm。", where, a);
		} else {
			ai_text_fig(a, sizeof(a), f->angle_deg);
			(void)snprintf(fd, fsz, "%s骨皮质连续性中断，断端成角"
			    "约%s°。", where, a);
		}
		break;
	case RIBF_NONDISPLACED:
		(void)snprintf(fd, fsz, "%s骨皮质连续性中断，断端对位对线"
		    "良好。", where);
		break;
	case RIBF_SEGMENTAL:
		(void)snprintf(fd, fsz, "%s骨皮质连续性中断，同一肋骨见两处"
		    "以上骨折线，此为其中一处。", where);
		break;
	case RIBF_BUCKLE:
		(void)snprintf(fd, fsz, "%s骨皮质局限性隆起、扭曲，未见明确"
		    "骨折线。", where);
		break;
	case RIBF_OLD:
	default:
		ai_text_fig(a, sizeof(a), f->thick_mm);
		(void)snprintf(fd, fsz, "%s局部骨质增粗（较邻近增厚约%s mm），"
		    "呈骨痂样改变。", where, a);
		break;
	}
	(void)snprintf(cc, csz, "%s%s（AI提示，请结合临床）。", where,
	    rib_frac_zh[f->type]);
}

/* The overlays: the ribs' centre lines and labels, the vertebrae's. */
static char *
overlays(const struct series_volume *v, const struct ribs_info *ri,
    const struct spine_info *si)
{
	json_t	*o, *ribs, *vert, *line, *p;
	char	*s, lab[16];
	size_t	 i, k;
	int	 j;

	if ((o = json_object()) == NULL)
		return NULL;
	ribs = json_array();
	vert = json_array();
	if (ribs == NULL || vert == NULL || json_object_set_new(o, "ribs",
	    ribs) == -1 || json_object_set_new(o, "vertebrae", vert) == -1 ||
	    json_object_set_new(o, "uncertain", json_boolean(ri->uncertain))
	    == -1)
		goto fail;
	for (i = 0; i < ri->n; i++) {
		const struct rib	*r = &ri->r[i];

		if ((line = json_array()) == NULL)
			goto fail;
		for (j = 0; j < r->n; j++) {
			p = json_pack("[f, f, f]",
			    round(r->c[j][0] * 10.0) / 10.0,
			    round(r->c[j][1] * 10.0) / 10.0,
			    round(r->c[j][2] * 10.0) / 10.0);
			if (p == NULL || json_array_append_new(line, p) == -1) {
				json_decref(line);
				goto fail;
			}
		}
		if (r->number > 0)
			(void)snprintf(lab, sizeof(lab), "%s%d",
			    r->side == RIB_RIGHT ? "R" : "L", r->number);
		else
			(void)snprintf(lab, sizeof(lab), "%s?",
			    r->side == RIB_RIGHT ? "R" : "L");
		if ((p = json_pack("{s:s, s:i, s:s, s:o}", "side",
		    r->side == RIB_RIGHT ? "R" : "L", "number", r->number,
		    "label", lab, "line", line)) == NULL ||
		    json_array_append_new(ribs, p) == -1)
			goto fail;
	}
	for (k = 0; si != NULL && k < si->n && k < ri->nv &&
	    k < SPINE_BODIES_MAX; k++) {
		const struct vertebra	*b = &si->v[k];

		if (ri->vlabel[k] == 0 || b->k1 < 0 || b->k0 >= v->nz)
			continue;
		if ((p = json_pack("{s:s, s:i, s:i, s:f, s:f}", "label",
		    spine_label_name(ri->vlabel[k]), "k0", b->k0, "k1", b->k1,
		    "x", round(b->c[0] * 10.0) / 10.0, "y",
		    round(b->c[1] * 10.0) / 10.0)) == NULL ||
		    json_array_append_new(vert, p) == -1)
			goto fail;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
fail:
	json_decref(o);
	return NULL;
}

int
ribfrac_to_ai(const struct series_volume *v, const struct ribs_info *ri,
    const struct spine_info *si, struct ai_result *res, char *err,
    size_t errlen)
{
	const struct rib_fracture *ord[RIB_FRACTURES_MAX];
	struct ai_lesion	 l;
	char			*fd = NULL, *cc = NULL, *me = NULL, *ov = NULL;
	char			 where[96], a[32];
	size_t			 flen = 0, clen = 0, mlen = 0, i, nr = 0,
				 nl = 0, n;
	int			 top, bot;

	if (ri->n == 0) {
		(void)snprintf(err, errlen, "%s，无法进行肋骨骨折检测",
		    ri->why[0] != '\0' ? ri->why : "扫描范围内未见肋骨");
		return 1;
	}
	if (!ri->numbered) {
		(void)snprintf(err, errlen, "%s", ri->why[0] != '\0' ?
		    ri->why : "肋骨未能编号");
		return 1;
	}
	top = ri->top_seen[RIB_RIGHT] || ri->top_seen[RIB_LEFT];
	bot = ri->bottom_seen[RIB_RIGHT] || ri->bottom_seen[RIB_LEFT];
	if (!top || !bot) {
		(void)snprintf(err, errlen, "胸廓未完整包含在扫描范围内（%s），"
		    "CT骨折辅助诊断要求包含完整胸廓", !top && !bot ?
		    "未包括第1肋上方及T12以下" : !top ? "未包括第1肋上方" :
		    "未包括T12所附最后一对肋骨及其下方");
		return 1;
	}
	for (i = 0; i < ri->n; i++)
		if (ri->r[i].side == RIB_RIGHT)
			nr++;
		else
			nl++;
	n = ri->nf;
	for (i = 0; i < n; i++)
		ord[i] = &ri->f[i];
	sort_ri = ri;
	qsort(ord, n, sizeof(ord[0]), cmp_pos);
	sort_ri = NULL;
	for (i = 0; i < n; i++) {
		const struct rib_fracture *f = ord[i];

		memset(&l, 0, sizeof(l));
		l.id = (int)i + 1;
		(void)snprintf(l.type, sizeof(l.type), "%s",
		    rib_frac_zh[f->type]);
		ribs_where_zh(ri, f, where, sizeof(where));
		(void)snprintf(l.location, sizeof(l.location), "%s", where);
		l.box.slice = f->key_slice;
		l.box.x0 = f->x0;
		l.box.y0 = f->y0;
		l.box.x1 = f->x1;
		l.box.y1 = f->y1;
		l.confidence = ribfrac_confidence(f);
		(void)snprintf(l.meas[0].name, sizeof(l.meas[0].name),
		    "距肋头");
		l.meas[0].value = round(f->s_mm);
		(void)snprintf(l.meas[0].unit, sizeof(l.meas[0].unit), "mm");
		l.nmeas = 1;
		sentences(f, where, l.findings, sizeof(l.findings),
		    l.conclusion, sizeof(l.conclusion));
		if (ai_result_add_lesion(res, &l) == NULL)
			goto nomem;
	}
	/* 影像表现. */
	if (ai_text_append(&fd, &flen, "双侧肋骨共识别%zu根（右侧%zu根，左侧"
	    "%zu根），编号%s%s。", ri->n, nr, nl, ri->how_zh,
	    ri->uncertain && strstr(ri->how_zh, "存疑") == NULL ?
	    "；肋骨编号存疑，请核对" : "") == -1)
		goto nomem;
	/* The general text names no candidate: each one's sentences go
	 * into the report only when the doctor keeps it ticked. */
	if (n == 0) {
		if (ai_text_append(&fd, &flen, "所见肋骨未见明确骨折征象。") ==
		    -1 || ai_text_append(&cc, &clen, "所见双侧肋骨未见明确骨折"
		    "（AI提示）。") == -1)
			goto nomem;
	}
	if (not_searched(v, ri, &fd, &flen) == -1)
		goto nomem;
	if (ri->nf_dropped > 0 && ai_text_append(&fd, &flen, "另有%zu处骨折"
	    "候选超出列表上限未列出，请逐一核对原始图像。", ri->nf_dropped) ==
	    -1)
		goto nomem;
	if (ri->uncertain && ai_text_append(&cc, &clen, "肋骨编号存疑，请"
	    "核对。") == -1)
		goto nomem;
	if (ai_text_append(&cc, &clen, "是否随访复查由临床医生结合病情决定。")
	    == -1)
		goto nomem;
	/* The method. */
	ai_text_fig(a, sizeof(a), fabs(v->spacing[2]));
	if (ai_text_append(&me, &mlen, "经典图像分析（非深度学习）：骨窗下"
	    "沿脊柱两旁追踪肋骨，提取每根肋骨间隔1 mm的中心线（参照Staal等"
	    "2007、Lenga等2018）；自T12所附最后一对肋骨向上计数、自第1肋向下"
	    "核对编号（Lenga等2018），两者不符时标为存疑，扫描上缘未包括肺尖"
	    "时不自上计数；沿中心线每1 mm作垂"
	    "直截面，骨皮质环中断为骨折线（错位≥1.8 mm且两断端骨皮质错开≥1 mm，"
	    "或成角≥12°为移位骨折，"
	    "同一肋骨两处以上为节段性骨折），皮质局限隆起为屈曲骨折（皮质外缘"
	    "取半高处，参照Prevrhal等1999，对侧皮质不动；须在沿肋骨连续、"
	    "不少于两个体素间距的截面上出现），肋骨均匀增粗为陈旧性骨折（分类"
	    "参照RibFrac，Jin等2020）；肋骨与肩胛骨、锁骨等相贴而截面上无法"
	    "分开的节段不作检测，并在影像表现中列出；骨折线须两侧均为完整"
	    "肋骨，距肋头约3 cm内及距肋骨前端约2 cm内（肋椎关节、肋软骨连接"
	    "处）不作骨折线检测。本序列层厚%s mm。置信度"
	    "为候选超出判定阈值的程度，非经校准的概率。局限：仅在肋骨模体及"
	    "无骨折的真实CT上验证，真实骨折的敏感度尚未测得，假阳性仍可能多于"
	    "已发表的深度学习系统；与肩胛骨、锁骨相贴的节段未检测；不检测肋"
	    "软骨、胸骨、肩胛骨及脊柱骨折；第1、2肋被锁骨和肩胛骨遮挡时可能"
	    "未能识别，第1肋前段中心线可能沿锁骨偏离；扫描上缘穿过胸廓且未"
	    "包括T12时肋骨不编号、不作检测。结果仅供参考。", a) == -1)
		goto nomem;
	if ((ov = overlays(v, ri, si)) == NULL)
		goto nomem;
	if (ai_result_add_summary(res, "识别肋骨", (double)ri->n, "根") ==
	    -1 || ai_result_add_summary(res, "骨折候选", (double)n, "处") ==
	    -1 || ai_result_set_text(res, fd, cc) == -1 ||
	    ai_result_set_method(res, me) == -1 ||
	    ai_result_set_overlays(res, ov) == -1 ||
	    ai_result_set_volume(res, v) == -1)
		goto nomem;
	free(fd);
	free(cc);
	free(me);
	free(ov);
	return 0;
nomem:
	free(fd);
	free(cc);
	free(me);
	free(ov);
	(void)snprintf(err, errlen, "out of memory");
	return -1;
}

/* Label l on the voxels of at least RIBFRAC_BONE_HU within r_mm of the
 * voxel point p (x, y, slice) of v. */
#define RIBFRAC_BONE_HU	150.0
static void
ribfrac_ball(const struct series_volume *v, const double p[3], double r_mm,
    int only_unlabelled, uint8_t *lab, int l)
{
	double	 u, w, t;
	size_t	 o;
	int	 x, y, z, r[3], q;

	for (q = 0; q < 3; q++)
		r[q] = (int)ceil(r_mm / v->spacing[q]);
	for (z = (int)lround(p[2]) - r[2]; z <= (int)lround(p[2]) + r[2]; z++)
		for (y = (int)lround(p[1]) - r[1]; y <= (int)lround(p[1]) +
		    r[1]; y++)
			for (x = (int)lround(p[0]) - r[0]; x <=
			    (int)lround(p[0]) + r[0]; x++) {
				if (x < 0 || y < 0 || z < 0 || x >= v->nx ||
				    y >= v->ny || z >= v->nz)
					continue;
				u = (x - p[0]) * v->spacing[0];
				w = (y - p[1]) * v->spacing[1];
				t = (z - p[2]) * v->spacing[2];
				o = ((size_t)z * v->ny + y) * v->nx + x;
				if (u * u + w * w + t * t > r_mm * r_mm ||
				    !(v->vox[o] >= RIBFRAC_BONE_HU) ||
				    (only_unlabelled && lab[o] != 0))
					continue;
				lab[o] = (uint8_t)l;
			}
}

/*
 * The result's regions (sql/034, for the viewer): each rib traced, by
 * its side and number, as the bone (RIBFRAC_BONE_HU and up) within 6 mm
 * of its centre line (label 10 + its index), and each fracture, by the
 * 序号 of its lesion in res, as the bone within 5 mm of where it was
 * found (label 110 + its index), over the rib.  Returns 0, or -1 when
 * out of memory.
 */
static int
ribfrac_masks(const struct series_volume *v, const struct ribs_info *ri,
    struct ai_result *res)
{
	json_t		*legend;
	uint8_t		*lab = NULL;
	char		 name[48], *txt;
	double		 p[3];
	size_t		 i, j, k;
	int		 l, rc = -1;

	if ((legend = json_array()) == NULL ||
	    (lab = calloc((size_t)v->nx * v->ny * v->nz, 1)) == NULL)
		goto out;
	for (i = 0; i < ri->n && i < 100; i++) {
		const struct rib *r = &ri->r[i];

		l = 10 + (int)i;
		for (k = 0; k < (size_t)r->n; k++) {
			p[0] = r->c[k][0];
			p[1] = r->c[k][1];
			p[2] = r->c[k][2];
			ribfrac_ball(v, p, 6.0, 1, lab, l);
		}
		if (r->number > 0)
			(void)snprintf(name, sizeof(name), "%s第%d肋",
			    r->side == RIB_RIGHT ? "右" : "左", r->number);
		else
			(void)snprintf(name, sizeof(name), "%s侧肋骨（未编号）",
			    r->side == RIB_RIGHT ? "右" : "左");
		if (masks_legend_add(legend, l, name, MASKS_RIB, (int)i) == -1)
			goto out;
	}
	for (j = 0; j < res->nlesions && j < 140; j++) {
		const struct ai_lesion *al = &res->lesions[j];

		for (i = 0; i < ri->nf; i++) {
			const struct rib_fracture *f = &ri->f[i];

			if (f->key_slice != al->box.slice || f->x0 !=
			    al->box.x0 || f->y0 != al->box.y0 ||
			    f->x1 != al->box.x1 || f->y1 != al->box.y1)
				continue;
			l = 110 + (int)j;
			ribfrac_ball(v, f->p, 5.0, 0, lab, l);
			(void)snprintf(name, sizeof(name), "骨折%d", al->id);
			if (masks_legend_add(legend, l, name, MASKS_FRACTURE,
			    (int)j) == -1)
				goto out;
			break;
		}
	}
	if ((txt = json_dumps(legend, JSON_COMPACT)) == NULL)
		goto out;
	rc = ai_result_set_masks(res, lab, v->nx, v->ny, v->nz, txt);
	lab = NULL;
	free(txt);
out:
	free(lab);
	json_decref(legend);
	return rc;
}

static int
ribfrac_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct anatomy_cache	*own = NULL, *cache = ctx->anatomy;
	const struct anatomy	*an;
	struct ribs_info	*ri = NULL;
	int			 ret = -1;

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
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    errlen) == -1)
		goto out;
	if (ctx->cancel != NULL && *ctx->cancel) {
		(void)snprintf(err, errlen, "cancelled");
		goto out;
	}
	if (ri->n > 0 && ribs_fractures(v, ri, err, errlen) == -1)
		goto out;
	ret = ribfrac_to_ai(v, ri, &an->spine, res, err, errlen);
	if (ret == 0 && ribfrac_masks(v, ri, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		ret = -1;
	}
	if (ret == 0)
		log_info("series %lld: rib fractures: %zu rib(s), %zu"
		    " candidate(s)%s", ctx->series_id, ri->n, ri->nf,
		    ri->uncertain ? ", numbers uncertain" : "");
	else if (ret == 1)
		log_info("series %lld: rib fractures: refused: %s",
		    ctx->series_id, err);
out:
	free(ri);
	anatomy_cache_free(own);
	return ret;
}

const struct reader_impl ribfrac_reader = {
	.id = READER_CT_RIB_FRACTURE,
	.check = ribfrac_check,
	.run = ribfrac_run,
};
