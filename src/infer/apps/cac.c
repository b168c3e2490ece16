/*
 * cac.c - the coronary calcium reader (冠脉钙化积分); see cac.h for the
 * methods and their references.
 *
 * The passes:
 *  1. the heart, on a copy of the volume resampled to 2 mm, and the
 *     masks round it (heart_find(), heart.c);
 *  2. the aortic root, from the heart's cross-sections (heart.c);
 *  3. whether to score at all (assess()): contrast seen in the blood,
 *     the noise of a sharp kernel, no lungs or no heart to trust, the
 *     heart's lower wall cut off: refused or 未能评估, with the reason;
 *  4. calcium, at full resolution inside a box around the heart: the
 *     voxels at or above the threshold, in 3-D connected regions; each is
 *     kept, or excluded: bone (large, or within 4 mm of a bone), the
 *     chest wall (costal cartilage), outside the heart (more than 10 mm
 *     from it, in front of the lungs' hull, above the aortic root or
 *     below the heart), the aortic root and valve (within 12 mm of the
 *     root), inside the heart (deeper than 8 mm: valves, annulus), not in
 *     fat or against the lung (the coronary arteries run in epicardial
 *     fat; calcified costal cartilage and lymph nodes do not), or too
 *     small: under 1 mm² once the slices are averaged over 3 mm as
 *     Agatston's were, so that the noise of thin slices is not scored;
 *  5. the scores of the kept regions, slice by slice, as Agatston and
 *     McCollough define them, the mass with its background subtracted
 *     and its partial-volume shell (region_mass());
 *  6. each kept region's artery, from its place around the heart.
 *
 * On a scan that is not ECG-gated the heart moves during the scan; the
 * scores are then approximate, as the method statement says.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anatomy.h"
#include "cac.h"
#include "heart.h"
#include "log.h"

#define PI		3.14159265358979323846
#define THRESHOLD_HU	130.0		/* Agatston 1990 */
#define CALIBRATION	0.75		/* mg/cm³ per HU, 120 kV */
#define LUNG_HU		HEART_LUNG_HU
#define LUNG_MIN_ML	HEART_LUNG_MIN_ML
#define ROOT_VALVE_MM	12.0		/* the aortic annulus' radius */
#define LM_REACH_MM	40.0		/* the left main's length and more */
#define SHELL_MM	HEART_SHELL_MM	/* epicardial fat around the heart */
#define BONE_MM3	3000.0		/* larger regions are bone */
#define ABOVE_ROOT_MM	25.0		/* the arteries start at the root */
#define SLAB_MM		3.0		/* Agatston's slices */
#define CAC_THIN_MM	1.25		/* the manual's, for other CT */
#define FAT_SHARE_MIN	0.15		/* of fat round a coronary lesion */
#define LUNG_SHARE_MAX	0.2		/* of lung round it: hilar nodes */
#define CONTRAST_BLOOD_HU 100.0	/* blood above: enhanced */
#define NOISE_MAX_HU	20.0		/* at 3 mm: a standard kernel's */
#define HEART_MIN_HEIGHT_MM 50.0
#define HEART_MAX_ML	1800.0		/* with the great vessels' roots */
#define MASS_SHELL_MM	1.0		/* the rim's partial volume */
#define MASS_BG_LO_HU	-30.0		/* the background: soft tissue */

const char *const cac_artery_names[CAC_ARTERY__MAX] = {
	"LM", "LAD", "LCX", "RCA",
};

const char *const cac_artery_zh[CAC_ARTERY__MAX] = {
	"左冠状动脉主干", "左前降支", "左回旋支", "右冠状动脉",
};

const char *const cac_exclusion_names[CAC_EXCLUSION__MAX] = {
	"kept", "bone", "outside the heart", "aortic root or valve",
	"inside the heart", "below the minimum area", "chest wall",
};

/* The relative CT number of hydroxyapatite by tube voltage (heart.c). */
double
cac_kv_factor(double kvp)
{
	return heart_kv_factor(kvp);
}

int
cac_weight(double peak)
{
	if (peak >= 400.0)
		return 4;
	if (peak >= 300.0)
		return 3;
	if (peak >= 200.0)
		return 2;
	if (peak >= 130.0)
		return 1;
	return 0;
}

/* The risk categories of the SCCT guidelines (Hecht et al., 2017). */
const char *
cac_category_zh(double a)
{
	if (a <= 0.0)
		return "无冠状动脉钙化（0分）";
	if (a < 100.0)
		return "轻度冠状动脉钙化（1–99分）";
	if (a < 400.0)
		return "中度冠状动脉钙化（100–399分）";
	return "重度冠状动脉钙化（≥400分）";
}

/* CAC-DRS (Hecht et al., 2018). */
int
cac_drs(double a)
{
	if (a <= 0.0)
		return 0;
	if (a < 100.0)
		return 1;
	if (a < 300.0)
		return 2;
	return 3;
}

void
cac_result_free(struct cac_result *r)
{
	free(r->lesions);
	free(r->heart_mask);
	memset(r, 0, sizeof(*r));
}

static int
float_cmp(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

#define CHECK(x) do { if ((x) == -1) { \
	(void)snprintf(err, errlen, "compute: %s", compute_error(c)); \
	goto fail; } } while (0)

/* The coarse voxel of fine voxel i, j, k, or -1 outside. */
static long
coarse_at(const struct series_volume *v, const struct heart_masks *an,
    double i, double j, double k)
{
	long	 x = lround(i * v->spacing[0] / an->sp[0]);
	long	 y = lround(j * v->spacing[1] / an->sp[1]);
	long	 z = lround(k * v->spacing[2] / an->sp[2]);

	if (x < 0 || y < 0 || z < 0 || x >= an->dims[0] ||
	    y >= an->dims[1] || z >= an->dims[2])
		return -1;
	return (z * an->dims[1] + y) * an->dims[0] + x;
}

static double
dist3(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) +
	    (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

/*
 * The artery of a lesion at p.  Near the aortic root and to its left:
 * the left main.  Otherwise the angle around the heart's centre in the
 * axial plane, 0 to the patient's left and 90 to the front: the anterior
 * interventricular groove (LAD) from 30 to 120, the right atrioventricular
 * groove and the posterior descending artery (RCA) from 120 round to
 * -90, the left atrioventricular groove (LCX) from -90 to 30.
 */
static enum cac_artery
assign(const struct anat_heart *h, const struct heart_masks *an,
    const double p[3])
{
	double	 th;

	if (dist3(p, h->root) <= LM_REACH_MM && p[0] > h->root[0] &&
	    p[2] >= an->root_z - 10.0)
		return CAC_LM;
	th = atan2(-(p[1] - h->center[1]), p[0] - h->center[0]) * 180.0 /
	    PI;
	if (th >= 30.0 && th < 120.0)
		return CAC_LAD;
	if (th >= 120.0 || th < -90.0)
		return CAC_RCA;
	return CAC_LCX;
}

/*
 * What surrounds a lesion on its key slice, in the ring from 2 to 6 mm
 * outside its box: the share of fat (-190 to -30 HU) into l->fat and of
 * lung (below -500 HU) into l->lung.  The coronary arteries run in the
 * epicardial fat, inside the pericardium; calcium in the chest wall
 * (costal cartilage) or in a lymph node is embedded in soft tissue, and
 * a calcified node at the hilum lies against the lung.
 */
static void
ring_shares(const struct series_volume *v, struct cac_lesion *l)
{
	int	 x, y, in0, in1, ou0, ou1, jn0, jn1, jo0, jo1;
	long	 fat = 0, lung = 0, all = 0;
	float	 h;
	const float *sl;

	l->fat = l->lung = 0.0;
	if (l->key_slice < 0)
		return;
	sl = v->vox + (size_t)l->key_slice * v->nx * v->ny;
	in0 = l->x0 - (int)lround(2.0 / v->spacing[0]);
	in1 = l->x1 + (int)lround(2.0 / v->spacing[0]);
	ou0 = l->x0 - (int)lround(6.0 / v->spacing[0]);
	ou1 = l->x1 + (int)lround(6.0 / v->spacing[0]);
	jn0 = l->y0 - (int)lround(2.0 / v->spacing[1]);
	jn1 = l->y1 + (int)lround(2.0 / v->spacing[1]);
	jo0 = l->y0 - (int)lround(6.0 / v->spacing[1]);
	jo1 = l->y1 + (int)lround(6.0 / v->spacing[1]);
	for (y = jo0; y <= jo1; y++)
		for (x = ou0; x <= ou1; x++) {
			if (x < 0 || y < 0 || x >= v->nx || y >= v->ny)
				continue;
			if (x >= in0 && x <= in1 && y >= jn0 && y <= jn1)
				continue;
			h = sl[(size_t)y * v->nx + x];
			all++;
			if (h >= -190.0f && h <= -30.0f)
				fat++;
			else if (h < (float)LUNG_HU)
				lung++;
		}
	if (all > 0) {
		l->fat = (double)fat / all;
		l->lung = (double)lung / all;
	}
}

static int
lesion_cmp(const void *a, const void *b)
{
	const struct cac_lesion *p = a, *q = b;

	if ((p->excluded == CAC_KEPT) != (q->excluded == CAC_KEPT))
		return p->excluded == CAC_KEPT ? -1 : 1;
	if (p->excluded == CAC_KEPT && p->artery != q->artery)
		return p->artery < q->artery ? -1 : 1;
	if (p->agatston != q->agatston)
		return p->agatston > q->agatston ? -1 : 1;
	return p->volume_mm3 > q->volume_mm3 ? -1 :
	    p->volume_mm3 < q->volume_mm3;
}

/*
 * The mass score of each region (McCollough et al., 2007: m = c x V x
 * CT, c the calibration of hydroxyapatite, mg/cm³ per HU at 120 kV),
 * with the background subtracted (Hoffmann et al., 2006) and the
 * partial-volume shell counted: m = c / f x V_voxel x sum (CT - CT_bg)
 * over the region's voxels and the voxels within MASS_SHELL_MM of it
 * (at least one voxel on each axis) that no other region holds.  The
 * calcium a voxel on the region's rim holds raises it above the
 * background by its share, under the threshold or not, so the sum over
 * the shell gives the whole calcium, where the sum over the voxels at
 * the threshold alone misses the rim's (the under-estimate McCollough
 * describes, 10-30 % for small lesions).  The background CT_bg is what
 * the calcium lies in, the artery's wall and blood: the median of the
 * voxels of both shells (up to twice MASS_SHELL_MM out) that are soft
 * tissue under the threshold (from MASS_BG_LO_HU; fat and lung are
 * round the artery, not in it); 0 (water) when there are none.  Where
 * the shell's sum falls below that of the region's own voxels (a speck
 * in a noisy or mixed surrounding), the latter is taken: the calcium at
 * the threshold is there whatever the shell holds.  f scales calcium's CT
 * number with the tube voltage.  The box of dims d holds sub and lab
 * (labels of the nst regions); the lesions get mass_mg and bg_hu.
 * Returns 0 or -1 (memory).
 */
static int
region_mass(const struct series_volume *v, const int d[3], const float *sub,
    const int32_t *lab, size_t nst, double thr, double f, double cal,
    double voxmm3, struct cac_lesion *les)
{
	size_t		 n = (size_t)d[0] * d[1] * d[2], i, *cnt = NULL;
	size_t		 *off = NULL;
	int32_t		*own = NULL, *own2 = NULL;
	float		*bgv = NULL;
	double		*sum = NULL, *core = NULL;
	uint8_t		*nearm = NULL, *tmpm = NULL;
	int		*bcnt = NULL;
	int		 r[3], x, y, z, a, dx, dy, dz, l, pass;
	int		 rc = -1;

	r[0] = (int)lround(MASS_SHELL_MM / v->spacing[0]);
	r[1] = (int)lround(MASS_SHELL_MM / v->spacing[1]);
	r[2] = (int)lround(MASS_SHELL_MM / fabs(v->spacing[2]));
	for (a = 0; a < 3; a++)
		if (r[a] < 1)
			r[a] = 1;
	if ((own = malloc(n * sizeof(*own))) == NULL ||
	    (own2 = malloc(n * sizeof(*own2))) == NULL ||
	    (sum = calloc(nst, sizeof(*sum))) == NULL ||
	    (cnt = calloc(nst + 1, sizeof(*cnt))) == NULL ||
	    (off = calloc(nst + 1, sizeof(*off))) == NULL ||
	    (bgv = malloc(n * sizeof(*bgv))) == NULL ||
	    (core = calloc(nst, sizeof(*core))) == NULL ||
	    (nearm = malloc(n)) == NULL || (tmpm = malloc(n)) == NULL ||
	    (bcnt = malloc(((size_t)(d[0] > d[1] ? (d[0] > d[2] ? d[0] :
	    d[2]) : (d[1] > d[2] ? d[1] : d[2])) + 1) * sizeof(*bcnt))) ==
	    NULL)
		goto fail;
	/* Two shells: the first (pass 0) is counted, both give the
	 * background.  A voxel of a shell belongs to the region
	 * whose voxel it meets first in memory order. */
	memcpy(own, lab, n * sizeof(*own));
	for (pass = 0; pass < 2; pass++) {
		/* Only voxels within reach of a region are looked at: the
		 * regions are few and small in a large box. */
		for (i = 0; i < n; i++)
			nearm[i] = own[i] > 0;
		for (a = 0; a < 3; a++) {
			memcpy(tmpm, nearm, n);
			heart_box_pass(nearm, tmpm, d, a, r[a], 0, bcnt);
		}
		memcpy(own2, own, n * sizeof(*own2));
		for (z = 0; z < d[2]; z++)
			for (y = 0; y < d[1]; y++)
				for (x = 0; x < d[0]; x++) {
					i = ((size_t)z * d[1] + y) * d[0] + x;
					if (own[i] != 0 || !nearm[i])
						continue;
					l = 0;
					for (dz = -r[2]; dz <= r[2] && !l; dz++)
					for (dy = -r[1]; dy <= r[1] && !l; dy++)
					for (dx = -r[0]; dx <= r[0] && !l; dx++) {
						int	 xx = x + dx, yy = y + dy;
						int	 zz = z + dz;

						if (xx < 0 || yy < 0 || zz < 0 ||
						    xx >= d[0] || yy >= d[1] ||
						    zz >= d[2])
							continue;
						l = own[((size_t)zz * d[1] +
						    yy) * d[0] + xx];
						if (l < 0)
							l = 0;
					}
					/* First shell: the label; second:
					 * the label, negative. */
					if (l != 0)
						own2[i] = pass == 0 ? l : -l;
				}
		memcpy(own, own2, n * sizeof(*own));
	}
	/* The background's samples, grouped by region. */
	for (i = 0; i < n; i++)
		if (own[i] != 0 && lab[i] == 0 && sub[i] >= MASS_BG_LO_HU &&
		    sub[i] < thr)
			cnt[abs(own[i]) - 1]++;
	for (l = 1; l <= (int)nst; l++)
		off[l] = off[l - 1] + cnt[l - 1];
	memset(cnt, 0, (nst + 1) * sizeof(*cnt));
	for (i = 0; i < n; i++)
		if (own[i] != 0 && lab[i] == 0 && sub[i] >= MASS_BG_LO_HU &&
		    sub[i] < thr) {
			l = abs(own[i]);
			bgv[off[l - 1] + cnt[l - 1]++] = sub[i];
		}
	for (l = 1; l <= (int)nst; l++) {
		float	*q = bgv + off[l - 1];

		if (cnt[l - 1] > 0) {
			qsort(q, cnt[l - 1], sizeof(*q), float_cmp);
			les[l - 1].bg_hu = q[cnt[l - 1] / 2];
		} else
			les[l - 1].bg_hu = 0.0;
	}
	for (i = 0; i < n; i++)
		if (own[i] > 0) {
			sum[own[i] - 1] += sub[i] - les[own[i] - 1].bg_hu;
			if (lab[i] != 0)
				core[lab[i] - 1] += sub[i] -
				    les[lab[i] - 1].bg_hu;
		}
	for (i = 0; i < nst; i++) {
		if (sum[i] < core[i])
			sum[i] = core[i];
		les[i].mass_mg = cal * sum[i] / f * voxmm3 / 1000.0;
		if (les[i].mass_mg < 0.0)
			les[i].mass_mg = 0.0;
	}
	rc = 0;
fail:
	free(own);
	free(own2);
	free(sum);
	free(cnt);
	free(off);
	free(bgv);
	free(core);
	free(nearm);
	free(tmpm);
	free(bcnt);
	return rc;
}

/*
 * The image's noise where no heart was found: the same estimate as
 * heart_stats() in heart.c (the median absolute difference of neighbours, times
 * 1.4826 / sqrt 2), over the pairs of neighbouring voxels that are both
 * soft tissue or fat (-200 to 200 HU), every fourth voxel on each axis.
 * NAN when there are none.
 */
static double
image_noise(const struct series_volume *v)
{
	size_t	 m = 0, cap = 0;
	float	*dif = NULL, *t, a, b;
	int	 x, y, z;
	double	 r = NAN;

	for (z = 0; z < v->nz; z += 4)
		for (y = 0; y < v->ny; y += 4)
			for (x = 0; x + 1 < v->nx; x += 4) {
				a = v->vox[((size_t)z * v->ny + y) * v->nx + x];
				b = v->vox[((size_t)z * v->ny + y) * v->nx +
				    x + 1];
				if (a < -200.0f || a > 200.0f ||
				    b < -200.0f || b > 200.0f)
					continue;
				if (m == cap) {
					cap = cap ? 2 * cap : 4096;
					if ((t = realloc(dif, cap *
					    sizeof(*dif))) == NULL) {
						free(dif);
						return NAN;
					}
					dif = t;
				}
				dif[m++] = fabsf(b - a);
			}
	if (m > 0) {
		qsort(dif, m, sizeof(*dif), float_cmp);
		r = dif[m / 2] * 1.4826 / sqrt(2.0);
	}
	free(dif);
	return r;
}

/*
 * Whether the series can be scored, from what the anatomy pass found;
 * when not, why, in Chinese, into r->why.  Refused: what the reader is
 * not for (contrast, a noise that a sharp kernel or a very low dose
 * gives); not assessable: where it cannot tell (no heart it can trust).
 * It says so rather than give a score of nothing.
 */
static enum cac_verdict
assess(const struct anat_heart *h, const struct heart_masks *an,
    struct cac_result *r)
{
	double	 eq;

	r->verdict = CAC_SCORED;
	r->why[0] = '\0';
	if (an->enh_hu > CONTRAST_BLOOD_HU || (h->found &&
	    r->blood_hu > CONTRAST_BLOOD_HU)) {
		(void)snprintf(r->why, sizeof(r->why), "图像中心腔/大血管血池"
		    "CT值约 %.0f HU（平扫时约 30–60 HU），为增强扫描；"
		    "冠脉钙化积分仅适用于平扫CT",
		    an->enh_hu > CONTRAST_BLOOD_HU ? an->enh_hu :
		    r->blood_hu);
		return r->verdict = CAC_REFUSED;
	}
	if (an->lung_ml < LUNG_MIN_ML) {
		(void)snprintf(r->why, sizeof(r->why), "图像中未见肺组织，"
		    "无法定位心脏");
		return r->verdict = CAC_NOT_ASSESSABLE;
	}
	/* The noise of a 3 mm slice, as Agatston scored: thinner slices
	 * average to it.  So much noise may hide the heart too: then it is
	 * the noise that is said. */
	eq = r->noise_hu * sqrt((r->increment_mm < SLAB_MM ?
	    r->increment_mm : SLAB_MM) / SLAB_MM);
	if (!h->found && !(eq > NOISE_MAX_HU)) {
		(void)snprintf(r->why, sizeof(r->why), "未能在两肺之间、"
		    "膈肌以上定位心脏");
		return r->verdict = CAC_NOT_ASSESSABLE;
	}
	if (eq > NOISE_MAX_HU) {
		(void)snprintf(r->why, sizeof(r->why), "图像噪声过高（%s约"
		    " %.0f HU，折合3 mm层厚约 %.0f HU，上限 %.0f HU），多为锐利"
		    "卷积核（肺/骨算法）或剂量过低，钙化积分不可靠；请使用标准"
		    "算法重建的序列", h->found ? "心腔内" : "软组织内",
		    r->noise_hu, eq, NOISE_MAX_HU);
		return r->verdict = CAC_REFUSED;
	}
	if (an->at_end) {
		(void)snprintf(r->why, sizeof(r->why), "心脏未完整包含在扫描"
		    "范围内（心脏下壁达到扫描末层）");
		return r->verdict = CAC_NOT_ASSESSABLE;
	}
	if (h->zhi - h->zlo < HEART_MIN_HEIGHT_MM ||
	    an->heart_ml > HEART_MAX_ML) {
		(void)snprintf(r->why, sizeof(r->why), "定位的心脏大小不符合"
		    "解剖（上下径 %.0f mm，体积 %.0f mL），为免误判未予评分",
		    h->zhi - h->zlo, an->heart_ml);
		return r->verdict = CAC_NOT_ASSESSABLE;
	}
	return CAC_SCORED;
}

int
cac_score(struct compute *c, const struct series_volume *v,
    const struct cac_opts *opts, volatile int *cancel,
    struct cac_result *res, char *err, size_t errlen)
{
	struct anat_heart ht;		/* found here when not shared */
	const struct anat_heart *hp;
	const struct heart_masks *an;
	struct cc_stats	*st = NULL;
	float		*sub = NULL;
	uint8_t		*mask = NULL;
	int32_t		*lab = NULL;
	long		*vis = NULL;
	size_t		 n, nst = 0, i, sn, plane;
	int		 b[6], d[3], x, y, k, a, l;
	double		 f, thr, cal, minarea, pxa, inc, voxmm3, p[3];
	long		 ci;
	struct cac_lesion *le;

	memset(res, 0, sizeof(*res));
	memset(&ht, 0, sizeof(ht));
	res->kvp = isfinite(v->kvp) && v->kvp > 0.0 ? v->kvp : 120.0;
	res->kvp_assumed = !(isfinite(v->kvp) && v->kvp > 0.0);
	f = res->kv_factor = cac_kv_factor(res->kvp);
	thr = res->threshold_hu = THRESHOLD_HU * f;
	cal = res->calibration = opts != NULL && opts->calibration > 0.0 ?
	    opts->calibration : CALIBRATION;
	if (opts != NULL && opts->calibration_from != NULL)
		(void)snprintf(res->calibration_from,
		    sizeof(res->calibration_from), "%s",
		    opts->calibration_from);
	minarea = opts != NULL && opts->min_area_mm2 > 0.0 ?
	    opts->min_area_mm2 : 1.0;
	inc = res->increment_mm = fabs(v->spacing[2]);
	pxa = v->spacing[0] * v->spacing[1];
	voxmm3 = pxa * inc;

	/* The heart of the series' shared anatomy when the daemon has one
	 * (anatomy.h), else found here. */
	if (opts != NULL && opts->heart != NULL)
		hp = opts->heart;
	else {
		if (heart_find(c, v, &ht, err, errlen) == -1)
			goto fail;
		hp = &ht;
	}
	an = hp->priv;
	if (cancel != NULL && *cancel) {
		(void)snprintf(err, errlen, "cancelled");
		goto fail;
	}
	res->heart_found = hp->found;
	res->blood_hu = res->noise_hu = NAN;
	if (opts != NULL && opts->want_heart && hp->found) {
		/* A copy: the heart's masks are the anatomy's, which other
		 * readers of the series may share. */
		size_t	 hn = (size_t)an->dims[0] * an->dims[1] * an->dims[2];

		if ((res->heart_mask = malloc(hn)) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		memcpy(res->heart_mask, an->heart, hn);
		memcpy(res->heart_dims, an->dims, sizeof(an->dims));
		memcpy(res->heart_sp, an->sp, sizeof(an->sp));
	}
	if (hp->found) {
		memcpy(res->heart_center, hp->center, sizeof(hp->center));
		memcpy(res->aortic_root, hp->root, sizeof(hp->root));
		/* Measured in the heart's depth by heart_find(). */
		res->blood_hu = hp->blood_hu;
		res->noise_hu = an->noise_hu;
	} else
		res->noise_hu = image_noise(v);
	if (assess(hp, an, res) != CAC_SCORED) {
		log_debug("not scored: %s", res->why);
		heart_free(&ht);
		return 0;
	}

	/* The box of fine voxels around the shell, 3 voxels more. */
	b[0] = b[1] = b[2] = INT32_MAX;
	b[3] = b[4] = b[5] = -1;
	plane = (size_t)an->dims[0] * an->dims[1];
	for (i = 0; i < plane * an->dims[2]; i++) {
		int	 q[3];

		if (!an->shell[i])
			continue;
		q[0] = (int)(i % an->dims[0]);
		q[1] = (int)(i / an->dims[0] % an->dims[1]);
		q[2] = (int)(i / plane);
		for (a = 0; a < 3; a++) {
			if (q[a] < b[a])
				b[a] = q[a];
			if (q[a] > b[a + 3])
				b[a + 3] = q[a];
		}
	}
	{
		int	 nn[3] = { v->nx, v->ny, v->nz };

		for (a = 0; a < 3; a++) {
			double	 s = an->sp[a] / v->spacing[a];

			b[a] = (int)floor((b[a] - 1.5) * s);
			b[a + 3] = (int)ceil((b[a + 3] + 1.5) * s);
			if (b[a] < 0)
				b[a] = 0;
			if (b[a + 3] > nn[a] - 1)
				b[a + 3] = nn[a] - 1;
			d[a] = b[a + 3] - b[a] + 1;
		}
	}
	n = (size_t)d[0] * d[1] * d[2];
	sn = (size_t)d[0] * d[1];
	if ((sub = malloc(n * sizeof(*sub))) == NULL ||
	    (mask = malloc(n)) == NULL ||
	    (lab = malloc(n * sizeof(*lab))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (k = 0; k < d[2]; k++)
		for (y = 0; y < d[1]; y++)
			memcpy(sub + ((size_t)k * d[1] + y) * d[0],
			    v->vox + (((size_t)(k + b[2]) * v->ny + y + b[1]) *
			    v->nx + b[0]), (size_t)d[0] * sizeof(*sub));
	CHECK(compute_threshold(c, mask, sub, n, (float)thr, INFINITY));
	CHECK(compute_label(c, lab, mask, sub, d, 26, &st, &nst));

	/*
	 * What a standard reconstruction would show: Agatston scored 3 mm
	 * slices, whose noise is lower than that of thin ones.  A region
	 * counts only if enough of it stays at the threshold when the
	 * slices are averaged over 3 mm, so that single-slice noise specks
	 * of thin reconstructions are not taken for calcium.
	 */
	if (nst > 0 && (vis = calloc(nst, sizeof(*vis))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	{
		int	 w = (int)lround(SLAB_MM / inc), lo, z, cntz;
		size_t	 j;
		double	 acc;

		if (w < 1)
			w = 1;
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < sn; j++) {
				if ((l = lab[k * sn + j]) == 0)
					continue;
				lo = k - w / 2;
				acc = 0.0;
				cntz = 0;
				for (z = lo; z < lo + w; z++)
					if (z >= 0 && z < d[2]) {
						acc += sub[z * sn + j];
						cntz++;
					}
				if (acc / cntz >= thr)
					vis[l - 1]++;
			}
	}
	if (cancel != NULL && *cancel) {
		(void)snprintf(err, errlen, "cancelled");
		goto fail;
	}
	if (nst > 0 && (res->lesions = calloc(nst, sizeof(*res->lesions))) ==
	    NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	res->nlesions = nst;
	for (i = 0; i < nst; i++) {
		le = &res->lesions[i];
		le->key_slice = -1;
		series_vox2pat(v, b[0] + (st[i].x0 + st[i].x1) / 2.0,
		    b[1] + (st[i].y0 + st[i].y1) / 2.0,
		    b[2] + (st[i].z0 + st[i].z1) / 2.0, le->centroid);
	}

	/*
	 * Slice by slice: the pixels of each region on the slice.  A region
	 * is one 3-D component; on a slice its pixels may form several 2-D
	 * lesions, which Agatston weighs each by its own peak, so each slice
	 * is labelled in 2-D as well (8 neighbours).
	 */
	{
		int	 dd[3] = { d[0], d[1], 1 };
		int32_t	*l2 = NULL;
		struct cc_stats *s2 = NULL;
		size_t	 n2 = 0, j;
		long	*owner = NULL;

		if ((l2 = malloc(sn * sizeof(*l2))) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (k = 0; k < d[2]; k++) {
			if (cancel != NULL && *cancel)
				break;
			if (compute_label(c, l2, mask + k * sn, sub + k * sn, dd,
			    26, &s2, &n2) == -1) {
				(void)snprintf(err, errlen, "compute: %s",
				    compute_error(c));
				free(l2);
				goto fail;
			}
			if (n2 == 0)
				continue;
			if ((owner = calloc(n2, sizeof(*owner))) == NULL) {
				free(s2);
				free(l2);
				(void)snprintf(err, errlen, "out of memory");
				goto fail;
			}
			for (j = 0; j < sn; j++)
				if (l2[j] != 0)
					owner[l2[j] - 1] = lab[k * sn + j];
			for (j = 0; j < n2; j++) {
				double	 ar = s2[j].count * pxa, pk;
				int	 w;

				le = &res->lesions[owner[j] - 1];
				if (s2[j].max > le->peak_hu)
					le->peak_hu = s2[j].max;
				if (ar < minarea)
					continue;
				pk = s2[j].max / f;
				w = cac_weight(pk);
				le->agatston += ar * w;
				le->volume_mm3 += s2[j].count * voxmm3;
				le->slices++;
				if (ar > le->key_area_mm2) {
					le->key_area_mm2 = ar;
					le->key_slice = b[2] + k;
					le->x0 = b[0] + s2[j].x0;
					le->y0 = b[1] + s2[j].y0;
					le->x1 = b[0] + s2[j].x1;
					le->y1 = b[1] + s2[j].y1;
				}
			}
			free(owner);
			owner = NULL;
			free(s2);
			s2 = NULL;
		}
		free(l2);
		if (cancel != NULL && *cancel) {
			(void)snprintf(err, errlen, "cancelled");
			goto fail;
		}
	}

	/* The mass of each region, with its partial-volume shell. */
	if (nst > 0 && region_mass(v, d, sub, lab, nst, thr, f, cal, voxmm3,
	    res->lesions) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}

	/* Region centres, by voxel, and the decisions. */
	{
		double	*cs;

		if (nst > 0 && (cs = calloc(nst * 3, sizeof(*cs))) != NULL) {
			for (k = 0; k < d[2]; k++)
				for (y = 0; y < d[1]; y++)
					for (x = 0; x < d[0]; x++) {
						l = lab[((size_t)k * d[1] + y) *
						    d[0] + x];
						if (l == 0)
							continue;
						cs[(l - 1) * 3] += x;
						cs[(l - 1) * 3 + 1] += y;
						cs[(l - 1) * 3 + 2] += k;
					}
			for (i = 0; i < nst; i++)
				series_vox2pat(v,
				    b[0] + cs[i * 3] / st[i].count,
				    b[1] + cs[i * 3 + 1] / st[i].count,
				    b[2] + cs[i * 3 + 2] / st[i].count,
				    res->lesions[i].centroid);
			free(cs);
		}
	}
	for (i = 0; i < nst; i++) {
		double	 q[3], tot = st[i].count * voxmm3;

		le = &res->lesions[i];
		/* The centre in fine voxels, for the masks. */
		for (a = 0; a < 3; a++)
			p[a] = le->centroid[a] - v->origin[a];
		q[0] = (p[0] * v->row[0] + p[1] * v->row[1] + p[2] * v->row[2]) /
		    v->spacing[0];
		q[1] = (p[0] * v->col[0] + p[1] * v->col[1] + p[2] * v->col[2]) /
		    v->spacing[1];
		q[2] = (p[0] * v->normal[0] + p[1] * v->normal[1] +
		    p[2] * v->normal[2]) / (v->step[0] * v->normal[0] +
		    v->step[1] * v->normal[1] + v->step[2] * v->normal[2]);
		ci = coarse_at(v, an, q[0], q[1], q[2]);
		if (tot > BONE_MM3 || (ci != -1 && an->bone[ci]))
			le->excluded = CAC_EX_BONE;
		else if (ci != -1 && an->wall[ci] &&
		    le->centroid[1] < hp->center[1])
			le->excluded = CAC_EX_WALL;
		else if (ci == -1 || !an->shell[ci] || !an->hull[ci] ||
		    le->centroid[2] > an->root_z + ABOVE_ROOT_MM ||
		    le->centroid[2] < hp->zlo - SHELL_MM)
			le->excluded = CAC_EX_OUTSIDE;
		else if (dist3(le->centroid, hp->root) <= ROOT_VALVE_MM)
			le->excluded = CAC_EX_VALVE;
		else if (an->deep[ci])
			le->excluded = CAC_EX_INTRACARDIAC;
		else if (le->slices > 0 && (ring_shares(v, le),
		    le->fat < FAT_SHARE_MIN || le->lung > LUNG_SHARE_MAX))
			le->excluded = CAC_EX_OUTSIDE;
		else if (le->slices == 0 || vis[i] * pxa < minarea)
			le->excluded = CAC_EX_SMALL;
		else
			le->excluded = CAC_KEPT;
		if (le->excluded == CAC_KEPT)
			le->artery = assign(hp, an, le->centroid);
	}
	/* Excluded regions keep their figures for the listing, but small
	 * ones would crowd it: noise specks are dropped from the list. */
	qsort(res->lesions, nst, sizeof(*res->lesions), lesion_cmp);
	for (i = 0, k = 0; i < nst; i++) {
		le = &res->lesions[i];
		if (le->excluded == CAC_EX_SMALL ||
		    (le->excluded != CAC_KEPT && le->slices == 0))
			continue;
		res->lesions[k++] = *le;
	}
	res->nlesions = (size_t)k;
	for (i = 0; i < res->nlesions; i++) {
		struct cac_totals *t;

		le = &res->lesions[i];
		if (le->excluded != CAC_KEPT)
			continue;
		res->nkept++;
		le->agatston *= inc / 3.0;
		t = &res->artery[le->artery];
		if (t->lesions++ == 0)
			res->vessels++;
		t->agatston += le->agatston;
		t->volume_mm3 += le->volume_mm3;
		t->mass_mg += le->mass_mg;
		res->total.agatston += le->agatston;
		res->total.volume_mm3 += le->volume_mm3;
		res->total.mass_mg += le->mass_mg;
		res->total.lesions++;
	}
	for (i = res->nkept; i < res->nlesions; i++)
		res->lesions[i].agatston *= inc / 3.0;
	free(st);
	free(sub);
	free(mask);
	free(lab);
	free(vis);
	heart_free(&ht);
	return 0;
fail:
	free(st);
	free(sub);
	free(mask);
	free(lab);
	free(vis);
	heart_free(&ht);
	cac_result_free(res);
	return -1;
}

int
cac_measure(struct compute *c, const struct series_volume *v, double cal,
    struct cac_lesion **out, size_t *nout, char *err, size_t errlen)
{
	size_t		 n = (size_t)v->nx * v->ny * v->nz, nst = 0, i;
	int		 d[3] = { v->nx, v->ny, v->nz };
	double		 kvp, f, thr, voxmm3;
	uint8_t		*mask = NULL;
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	struct cac_lesion *les = NULL;

	*out = NULL;
	*nout = 0;
	kvp = isfinite(v->kvp) && v->kvp > 0.0 ? v->kvp : 120.0;
	f = cac_kv_factor(kvp);
	thr = THRESHOLD_HU * f;
	voxmm3 = v->spacing[0] * v->spacing[1] * fabs(v->spacing[2]);
	if (!(cal > 0.0))
		cal = CALIBRATION;
	if ((mask = malloc(n)) == NULL ||
	    (lab = malloc(n * sizeof(*lab))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (compute_threshold(c, mask, v->vox, n, (float)thr, INFINITY) ==
	    -1 || compute_label(c, lab, mask, v->vox, d, 26, &st, &nst) ==
	    -1) {
		(void)snprintf(err, errlen, "compute: %s", compute_error(c));
		goto fail;
	}
	if (nst > 0) {
		if ((les = calloc(nst, sizeof(*les))) == NULL ||
		    region_mass(v, d, v->vox, lab, nst, thr, f, cal, voxmm3,
		    les) == -1) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (i = 0; i < nst; i++) {
			les[i].volume_mm3 = st[i].count * voxmm3;
			les[i].peak_hu = st[i].max;
			les[i].key_slice = -1;
			series_vox2pat(v, (st[i].x0 + st[i].x1) / 2.0,
			    (st[i].y0 + st[i].y1) / 2.0,
			    (st[i].z0 + st[i].z1) / 2.0, les[i].centroid);
		}
	}
	free(mask);
	free(lab);
	free(st);
	*out = les;
	*nout = nst;
	return 0;
fail:
	free(mask);
	free(lab);
	free(st);
	free(les);
	return -1;
}

/*
 * What the reader cannot see and how it was checked, on every result
 * page, in plain words (READERS.md).
 */
#define CAC_LIMITS_ZH	"局限：按CT值阈值与解剖位置判读，不识别冠状动脉" \
	"本身；冠脉支架、起搏器导线、人工瓣膜等金属及运动伪影可能被计为钙化" \
	"或致漏计，支架术后及有金属植入者的积分不可靠；增强扫描、锐利卷积核、" \
	"层距大于3 mm的序列不予评分。验证：解析体模（0.5–3 mm、80–140 kV、" \
	"噪声、增强、小视野、膈顶、肋软骨）及羟基磷灰石插件质量；公开数据" \
	"LIDC-IDRI与Lung-PET-CT-Dx上未见假阳性病灶，但尚无医生参考积分对照，" \
	"分级一致性未经验证。"

static const char *
exclusion_zh(enum cac_exclusion e)
{
	switch (e) {
	case CAC_EX_VALVE:
		return "主动脉根部/主动脉瓣";
	case CAC_EX_INTRACARDIAC:
		return "心腔内（瓣膜/瓣环）";
	case CAC_EX_BONE:
		return "骨骼";
	case CAC_EX_WALL:
		return "胸壁（肋软骨等）";
	default:
		return "冠状动脉区域外（主动脉等）";
	}
}

/* How sure: how far the lesion is above the minimum area and the
 * threshold; a speck at the limits of both gets 0.5. */
static double
confidence(const struct cac_result *r, const struct cac_lesion *l)
{
	double	 a = (l->key_area_mm2 - 1.0) / 4.0;
	double	 h = (l->peak_hu / r->kv_factor - THRESHOLD_HU) / 170.0;

	a = a < 0.0 ? 0.0 : a > 1.0 ? 1.0 : a;
	h = h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
	return 0.5 + 0.25 * a + 0.25 * h;
}

int
cac_to_ai(const struct cac_result *r, const struct series_volume *v,
    struct ai_result *out)
{
	struct ai_lesion	 al;
	struct ai_key_image	 key;
	const struct cac_lesion	*l;
	char			*fd = NULL, *cc = NULL, *me = NULL;
	char			 a[32], b[32], c[32], d[32];
	size_t			 fl = 0, cl = 0, ml = 0, i, shown = 0;
	int			 id = 0, k, first, drs, nex[CAC_EXCLUSION__MAX];

	memset(nex, 0, sizeof(nex));
	ai_text_fig(a, sizeof(a), r->threshold_hu);
	ai_text_fig(b, sizeof(b), r->kvp);
	(void)snprintf(c, sizeof(c), "%g", round(r->increment_mm * 1000.0) /
	    1000.0);
	if (ai_text_append(&me, &ml, "Agatston 1990：钙化灶为CT值≥%s HU（相当于120 kV时"
	    "130 HU）且面积≥1 mm²的区域，按峰值CT值加权1–4"
	    "（130–199、200–299、300–399、≥400 HU，按管电压换算），"
	    "各层面积×权重之和按层距/3 mm归一；容积积分 Callister 1998；"
	    "质量积分 McCollough 2007，扣除周围软组织本底（Hoffmann 2006），"
	    "计入部分容积边缘，校准系数 %.2f mg/cm³/HU（120 kV，%s%s）；"
	    "风险分级 0、1–99、100–399、≥400 及 CAC-DRS（Hecht 2018）。"
	    "管电压 %s kV%s，层距 %s mm。非心电门控或非平扫CT的积分"
	    "可能低估或高估。", a, r->calibration,
	    r->calibration_from[0] != '\0' ? "本院体模测定：" :
	    "默认值，未录入本机型的体模测定值",
	    r->calibration_from, b,
	    r->kvp_assumed ? "（未记录，按120 kV计）" : "", c) == -1 ||
	    ai_text_append(&me, &ml, "%s", CAC_LIMITS_ZH) == -1)
		goto fail;
	if (r->verdict != CAC_SCORED) {
		if (ai_text_append(&fd, &fl, "本序列%s，未进行冠状动脉钙化积分。",
		    r->why) == -1 ||
		    ai_text_append(&cc, &cl, "冠状动脉钙化积分未能评估（%s），"
		    "请结合临床。", r->why) == -1)
			goto fail;
		goto text;
	}
	ai_text_fig(a, sizeof(a), r->total.agatston);
	ai_text_fig(b, sizeof(b), r->total.volume_mm3);
	ai_text_fig(c, sizeof(c), r->total.mass_mg);
	if (r->nkept == 0) {
		if (ai_text_append(&fd, &fl, "冠状动脉钙化积分（Agatston法）："
		    "冠状动脉走行区未见钙化灶。") == -1)
			goto fail;
	} else {
		if (ai_text_append(&fd, &fl, "冠状动脉钙化积分（Agatston法）："
		    "冠状动脉走行区见钙化灶%zu处，累及%d支血管（", r->nkept,
		    r->vessels) == -1)
			goto fail;
		for (k = 0, first = 1; k < CAC_ARTERY__MAX; k++) {
			if (r->artery[k].lesions == 0)
				continue;
			if (ai_text_append(&fd, &fl, "%s%s", first ? "" : "、",
			    cac_artery_names[k]) == -1)
				goto fail;
			first = 0;
		}
		if (ai_text_append(&fd, &fl, "）。") == -1)
			goto fail;
		for (k = 0; k < CAC_ARTERY__MAX; k++) {
			ai_text_fig(d, sizeof(d), r->artery[k].agatston);
			if (ai_text_append(&fd, &fl, "%s%s %s",
			    k ? "，" : "各支积分：", cac_artery_names[k], d) == -1)
				goto fail;
		}
		if (ai_text_append(&fd, &fl, "。总Agatston积分 %s，总体积 %s mm³，"
		    "总质量 %s mg。", a, b, c) == -1)
			goto fail;
	}
	for (i = r->nkept; i < r->nlesions; i++)
		nex[r->lesions[i].excluded]++;
	if (nex[CAC_EX_VALVE] + nex[CAC_EX_INTRACARDIAC] > 0 &&
	    ai_text_append(&fd, &fl, "另见主动脉根部/瓣膜区钙化%d处，未计入冠状动脉"
	    "钙化积分。", nex[CAC_EX_VALVE] + nex[CAC_EX_INTRACARDIAC]) == -1)
		goto fail;
	drs = cac_drs(r->total.agatston);
	if (ai_text_append(&cc, &cl, "冠状动脉钙化总积分 %s（Agatston），%s；"
	    "CAC-DRS A%d", a, cac_category_zh(r->total.agatston), drs) == -1 ||
	    (drs > 0 && ai_text_append(&cc, &cl, "/N%d", r->vessels) == -1) ||
	    ai_text_append(&cc, &cl, "。") == -1)
		goto fail;

	/* The lesions: the kept ones, then the excluded (not bone). */
	for (i = 0; i < r->nlesions && shown < 40; i++) {
		l = &r->lesions[i];
		/* Of the excluded, only what a reader of the heart should
		 * see: calcium of the aortic root, valves and annulus. */
		if (l->key_slice < 0 || (l->excluded != CAC_KEPT &&
		    l->excluded != CAC_EX_VALVE &&
		    l->excluded != CAC_EX_INTRACARDIAC))
			continue;
		memset(&al, 0, sizeof(al));
		al.id = ++id;
		ai_text_fig(a, sizeof(a), l->agatston);
		ai_text_fig(b, sizeof(b), l->volume_mm3);
		ai_text_fig(c, sizeof(c), l->mass_mg);
		ai_text_fig(d, sizeof(d), l->peak_hu);
		if (l->excluded == CAC_KEPT) {
			(void)snprintf(al.type, sizeof(al.type), "冠脉钙化灶");
			(void)snprintf(al.location, sizeof(al.location),
			    "%s（%s）", cac_artery_names[l->artery],
			    cac_artery_zh[l->artery]);
			(void)snprintf(al.findings, sizeof(al.findings),
			    "%s（%s）钙化灶：Agatston积分 %s，体积 %s mm³，"
			    "质量 %s mg，CT值峰值 %s HU。",
			    cac_artery_zh[l->artery],
			    cac_artery_names[l->artery], a, b, c, d);
		} else {
			(void)snprintf(al.type, sizeof(al.type),
			    "非冠脉钙化（未计分）");
			(void)snprintf(al.location, sizeof(al.location), "%s",
			    exclusion_zh(l->excluded));
			(void)snprintf(al.findings, sizeof(al.findings),
			    "%s钙化：体积 %s mm³，CT值峰值 %s HU，"
			    "未计入冠状动脉钙化积分。",
			    exclusion_zh(l->excluded), b, d);
		}
		(void)snprintf(al.meas[0].name, AI_NAME_MAX, "Agatston积分");
		al.meas[0].value = l->agatston;
		(void)snprintf(al.meas[1].name, AI_NAME_MAX, "体积");
		al.meas[1].value = l->volume_mm3;
		(void)snprintf(al.meas[1].unit, AI_UNIT_MAX, "mm³");
		(void)snprintf(al.meas[2].name, AI_NAME_MAX, "质量");
		al.meas[2].value = l->mass_mg;
		(void)snprintf(al.meas[2].unit, AI_UNIT_MAX, "mg");
		(void)snprintf(al.meas[3].name, AI_NAME_MAX, "CT值峰值");
		al.meas[3].value = l->peak_hu;
		(void)snprintf(al.meas[3].unit, AI_UNIT_MAX, "HU");
		(void)snprintf(al.meas[4].name, AI_NAME_MAX, "层数");
		al.meas[4].value = l->slices;
		al.nmeas = 5;
		al.box.slice = l->key_slice;
		al.box.x0 = l->x0 > 2 ? l->x0 - 2 : 0;
		al.box.y0 = l->y0 > 2 ? l->y0 - 2 : 0;
		al.box.x1 = l->x1 + 2 < v->nx ? l->x1 + 2 : v->nx - 1;
		al.box.y1 = l->y1 + 2 < v->ny ? l->y1 + 2 : v->ny - 1;
		al.confidence = confidence(r, l);
		if (ai_result_add_lesion(out, &al) == NULL)
			goto fail;
		if (shown++ == 0 || (l->excluded == CAC_KEPT && id <= 3)) {
			memset(&key, 0, sizeof(key));
			key.slice = l->key_slice;
			key.window_center = 40.0;
			key.window_width = 400.0;
			(void)snprintf(key.caption, sizeof(key.caption),
			    "病灶%d：%.90s", al.id, al.location);
			if (ai_result_add_key(out, &key) == -1)
				goto fail;
		}
	}
	if (ai_result_add_summary(out, "总Agatston积分", r->total.agatston,
	    "") == -1)
		goto fail;
	for (k = 0; k < CAC_ARTERY__MAX; k++) {
		(void)snprintf(a, sizeof(a), "%s积分", cac_artery_names[k]);
		if (ai_result_add_summary(out, a, r->artery[k].agatston,
		    "") == -1)
			goto fail;
	}
	if (ai_result_add_summary(out, "总体积", r->total.volume_mm3,
	    "mm³") == -1 ||
	    ai_result_add_summary(out, "总质量", r->total.mass_mg, "mg") ==
	    -1 ||
	    ai_result_add_summary(out, "钙化灶数", (double)r->nkept, "") ==
	    -1 ||
	    ai_result_add_summary(out, "受累血管数", r->vessels, "") == -1 ||
	    ai_result_add_summary(out, "CAC-DRS分级（A）", drs, "") == -1 ||
	    ai_result_add_summary(out, "管电压", r->kvp, "kV") == -1 ||
	    ai_result_add_summary(out, "钙化阈值", r->threshold_hu, "HU") ==
	    -1)
		goto fail;
text:
	if (ai_result_set_text(out, fd, cc) == -1 ||
	    ai_result_set_method(out, me) == -1)
		goto fail;
	free(fd);
	free(cc);
	free(me);
	return 0;
fail:
	free(fd);
	free(cc);
	free(me);
	return -1;
}

static enum reader_verdict
cac_check(const struct series_volume *v, char *why, size_t sz)
{
	double		 cover = fabs(v->spacing[2]) * (v->nz - 1);
	enum tristate	 ce;

	if (strcmp(v->modality, "CT") != 0) {
		(void)snprintf(why, sz, "非CT序列，冠脉钙化积分不适用");
		return READER_REFUSES;
	}
	if (fabs(v->normal[2]) < 0.9) {
		(void)snprintf(why, sz, "非横断面序列，冠脉钙化积分需要横断面"
		    "重建");
		return READER_REFUSES;
	}
	if (v->nz < 10) {
		(void)snprintf(why, sz, "层数过少（%d层），无法评估冠脉钙化",
		    v->nz);
		return READER_REFUSES;
	}
	if (cover < MATCH_HEART_MIN_EXTENT) {
		(void)snprintf(why, sz, "扫描范围不足（%.0f mm），"
		    "未包含完整心脏", cover);
		return READER_REFUSES;
	}
	if (fabs(v->spacing[2]) > SLAB_MM + 0.1) {
		(void)snprintf(why, sz, "层距 %.3g mm，超过冠脉钙化积分允许的"
		    " 3 mm（Agatston 定义的层厚）", fabs(v->spacing[2]));
		return READER_REFUSES;
	}
	if (matcher_kernel_class(v->kernel) == KERNEL_SHARP) {
		(void)snprintf(why, sz, "卷积核 %.60s 为锐利算法（肺/骨），"
		    "边缘过冲与噪声会被误计为钙化；冠脉钙化积分要求标准重建"
		    "算法", v->kernel);
		return READER_REFUSES;
	}
	if (v->contrast_agent[0] != '\0') {
		(void)snprintf(why, sz, "该序列为增强扫描（对比剂 %.60s）；"
		    "冠脉钙化积分仅适用于平扫CT", v->contrast_agent);
		return READER_REFUSES;
	}
	if ((ce = matcher_contrast_text(v->description)) == TRI_UNKNOWN)
		ce = matcher_contrast_text(v->study_description);
	if (ce == TRI_YES) {
		(void)snprintf(why, sz, "序列描述“%.80s”表明为增强扫描；"
		    "冠脉钙化积分仅适用于平扫CT", v->description[0] != '\0' &&
		    matcher_contrast_text(v->description) == TRI_YES ?
		    v->description : v->study_description);
		return READER_REFUSES;
	}
	return READER_FITS;
}

static int
cac_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct cac_result	 r;
	struct cac_opts		 o;

	memset(&o, 0, sizeof(o));
	/* A gated calcium-score series thicker than the manual's 1.25 mm:
	 * as the site decided (cac_gated_3mm). */
	if (ctx->conf != NULL && !ctx->conf->cac_gated_3mm &&
	    fabs(v->spacing[2]) > CAC_THIN_MM + 0.05 &&
	    (matcher_gated_text(v->description) == TRI_YES ||
	    matcher_gated_text(v->study_description) == TRI_YES)) {
		(void)snprintf(err, errlen, "心电门控钙化积分序列层距 %.3g mm，"
		    "本站设置（cac_gated_3mm = 0）只评分 1.25 mm 及更薄的序列",
		    fabs(v->spacing[2]));
		return 1;
	}
	if (ctx->cac_calibration > 0.0) {
		o.calibration = ctx->cac_calibration;
		o.calibration_from = ctx->cac_calibration_from;
	} else if (ctx->conf != NULL)
		o.calibration = ctx->conf->cac_calibration;
	/* The heart from the anatomy the series' jobs share. */
	if (ctx->anatomy != NULL) {
		const struct anatomy	*an;

		if (anatomy_get(ctx->anatomy, ctx->compute, v, ctx->series_id,
		    ANAT_HEART, &an, err, errlen) == -1)
			return -1;
		o.heart = &an->heart;
	}
	if (cac_score(ctx->compute, v, &o, ctx->cancel, &r, err,
	    errlen) == -1)
		return -1;
	if (r.verdict == CAC_REFUSED) {
		log_info("series %lld: coronary calcium: refused: %s",
		    ctx->series_id, r.why);
		(void)snprintf(err, errlen, "%s", r.why);
		cac_result_free(&r);
		return 1;
	}
	log_info("series %lld: coronary calcium: heart %s, %zu region(s),"
	    " %zu kept, Agatston %.1f", ctx->series_id, r.heart_found ?
	    "found" : "not found", r.nlesions, r.nkept, r.total.agatston);
	if (cac_to_ai(&r, v, res) == -1) {
		cac_result_free(&r);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	cac_result_free(&r);
	return 0;
}

const struct reader_impl cac_reader = {
	.id = READER_CT_CORONARY_CALCIUM,
	.check = cac_check,
	.run = cac_run,
};
