/*
 * nodule.c - the lung nodule reader (CT肺结节智能诊断), see nodule.h.
 *
 * Detection.  The CT numbers of the lungs' bounding box, with what lies
 * outside the lungs set to the lungs' median (so that a nodule on the
 * pleura or the mediastinum stands alone), are resampled to a 1.25 mm grid
 * and filtered at scales sigma = 1.2 ... 19.2 mm (the radius of the
 * sphere each answers best is sigma * sqrt(3): nodules of 4 mm to
 * masses of 66 mm),
 * each scale from the one before (the Gaussian's semigroup), the grid
 * halved after each pair of scales so that sigma stays one to two of its
 * voxels: a scale-space pyramid (Lindeberg, 1998).  At each scale the Hessian's eigenvalues l1 <= l2 <=
 * l3 of every lung voxel give the dot filter of Li, Sone and Doi (2003):
 * sigma^2 * l3^2 / |l1| where all three are negative (a blob), 0
 * otherwise, so that a vessel (one eigenvalue near 0) and the pleura (two
 * near 0) do not answer; a nodule on a vessel or on the pleura is still a
 * blob at its own scale.  The local maxima over space are the candidates
 * (Fotin, Reeves et al., 2019, arXiv 1907.08328, use the scale-normalised
 * Laplacian of Gaussian the same way): the strongest of each scale, one
 * per place, each scale with its own quota; a maximum at another scale
 * in the same place is another hypothesis (the dense part of a
 * ground-glass nodule, or the nodule round it), and of two segmentations
 * of one nodule the one that fits its scale is kept.
 *
 * Segmentation, at the volume's own resolution round each candidate: the
 * threshold halfway between the lung round it (the median beyond the
 * candidate's radius) and the nodule's plateau (the median of its inner
 * part), the component of the centre within a sphere of twice the
 * candidate's radius, then a morphological opening with a ball of half
 * the radius, which cuts the vessels thinner than that ball from it
 * (Kostis et al., 2003); on slices thicker than that ball, where it
 * cuts nothing along z, the slabs beyond the nodule's own radius along
 * z (half the long axis of its largest section) are cut instead, with
 * the stubs of a vessel along z.  A faint ground-glass margin round it (the
 * lower quartile of the ring 1-2 mm round its sections 40 HU or more
 * above the lung, and below the threshold) is taken in before the
 * opening: grown from it to the margin's half-maximum, no farther than
 * half its equivalent radius (at least 3 mm), since the ground-glass
 * component is part of a nodule's size (Bankier et al., 2017); such a
 * nodule's volume is its voxel count at that level (Ko et al., 2003).
 * Its volume otherwise counts each voxel of the border by
 * its partial volume, (HU - lung) / (plateau - lung) (a nodule too
 * small for a core takes its plateau from its central voxels, on
 * slices thicker than that from its axis in the slab of its centre; a voxel
 * next to the wall counts half, or nothing outside the threshold: it
 * holds the wall's partial volume too), the lung's level
 * read at the voxel's own height along gravity (GRAVITY below: dependent
 * lung is denser; a halo or margin must also stand above the lung of
 * its own height, Hansell et al., 2008), the linear mixing
 * of a voxel that holds both, so that the volume does not depend on the
 * threshold or the slice thickness; the interior counts whole.
 *
 * What is not a nodule (measured on LIDC-IDRI-0002, whose false positives
 * were mostly regions of lung and vessels taken in by a low threshold):
 * a segmentation that runs on to the surface of its search sphere with
 * more than a tenth of its voxels (part of a vessel tree or the hilum;
 * a larger scale takes a larger nodule whole), one thin for its volume
 * (the largest ball inside it under a third of its equivalent radius),
 * one of which half the voxels touch the lungs' border, one more than 3
 * times longer than wide; a halo, which makes a part-solid nodule, must
 * surround its solid part (three quarters of the ring above its level).
 *
 * The type: calcified when the mean of its 32 densest voxels is at least
 * 164 HU (Siegelman et al., 1980) in a nodule that is mostly solid; the
 * solid part is what is at least
 * -300 HU, between the -160 and -400 HU thresholds of Lee et al. (2018);
 * solid when that is at least half of the nodule, part-solid when it is
 * at least 8 mm^3 (a core of 2.5 mm), ground glass otherwise; 肿块 from 30
 * mm.  Axes on the axial slice where the nodule is largest (Bankier et
 * al., 2017), each slice's measured on its largest connected piece.  The Brock (PanCan) full model (McWilliams et
 * al., 2013), the Lung-RADS v2022 baseline category (American College of
 * Radiology, 2022; Christensen et al., 2024) and the Fleischner 2017
 * recommendation (MacMahon et al., 2017).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "masks.h"
#include "edt.h"
#include "mat3.h"
#include "nodule.h"

#define PI		3.14159265358979323846

/* The filter's grid and scales (mm), by level of the pyramid. */
#define GRID0_MM	1.25
#define LEVELS		4
static const double level_sigma[LEVELS][3] = {
	{ 1.2, 1.7, 0.0 },
	{ 2.4, 3.4, 0.0 },
	{ 4.8, 6.8, 0.0 },
	{ 9.6, 13.6, 19.2 },
};
/* Candidates segmented, at most, per scale (level_sigma[] in order):
 * the larger the scale, the larger the region each costs. */
#define NSCALES		9
static const int scale_quota[NSCALES] = { 150, 150, 100, 60, 30, 20, 12,
    8, 6 };
/* What the filter puts outside the lungs and where CT numbers are
 * limited to, so that bone and metal weigh no more than soft tissue. */
#define CLAMP_LO	-1000.0f
#define CLAMP_HI	150.0f
/* The dot filter's least answer: about 0.19 of a blob's contrast at its
 * best scale (a Gaussian blob: sigma^2 C s^3 / (s^2 + sigma^2)^2.5 at
 * sigma^2 = 2 s^2 / 3), so 5 is a contrast of about 27 HU, below the 50
 * HU of the faintest ground glass of the phantoms of Xie et al. (2013). */
#define DOT_MIN		5.0
/* A blob answers the dot filter at its scale with about 0.19 of its
 * contrast with the lung (above); spheres of 4-12 mm in the phantoms,
 * solid, ground glass, on vessels and the pleura, on 0.625-3 mm slices
 * with noise, answer 0.12-0.24.  A branching vessel or the hilum, whose
 * curvatures are not all large, answers much less for its contrast:
 * what answers less than half a blob's is not a nodule.  The contrast is
 * taken where the filter saw it, on its smoothed image: a sphere of
 * radius sigma * sqrt(3) keeps 0.61 of its contrast at its centre at
 * that scale (the share of a 3-D Gaussian within sqrt(3) sigma), so the
 * contrast is (g - lung) / 0.61; for an irregular nodule this is the
 * contrast of the blob the filter answered, not of its densest part. */
#define BLOB_SHARE	0.10
/* The least contrast of a segmented nodule with the lung round it. */
#define CONTRAST_MIN	30.0
/* The least contrast of a ground-glass halo round a solid part: the
 * faintest ground glass of the phantoms of Xie et al. (2013) is -800
 * HU, and a pure ground-glass nodule is mostly -600 HU or denser (m-CT,
 * STANDARDS.md 1.3); 100 HU above the lung keeps the lung's own slow
 * gradients (the dependent parts) from being taken for a halo. */
#define HALO_MIN	100.0
/* Reported from this mean diameter (mm). */
#define REPORT_MIN_MM	3.0
/* Solid part (Lee et al., 2018), calcification (Siegelman et al., 1980). */
#define SOLID_HU	-300.0
#define CALC_HU		164.0
#define CALC_VOXELS	32
#define MASS_MM		30.0
/* A segmented shape this elongated (the ratio of its longest to its
 * shortest principal axis) is a vessel, not a nodule. */
#define ELONG_MAX	3.0
#define THICK_MIN	0.33
/* A ground-glass margin: at least 40 HU above the lung round it (the
 * faintest ground glass of the phantoms of Xie et al., 2013, is 50 HU
 * above their lung, -800 against -850 HU), grown no farther from the
 * nodule than half its equivalent radius, and at least 3 mm. */
#define RIM_MIN		40.0
#define RIM_REACH	0.5
#define RIM_REACH_MIN	3.0
/* Only where a margin of 2 mm can be told from the partial volume of
 * the slab (the phantoms' thickest slices, 3 mm; on 5-8 mm slices every
 * edge reads as a faint margin), and for nodules (Bankier et al.'s
 * rule): not round a mass of 30 mm or more. */
#define RIM_SLICE_MAX	3.0
#define TRUNC_MAX	0.10
/* Less lung than this (both together) is no chest CT to read. */

const char *const nodule_type_zh[NODULE_TYPE__MAX] = {
	[NODULE_SOLID] = "实性结节",
	[NODULE_PART_SOLID] = "部分实性结节",
	[NODULE_GGN] = "磨玻璃结节",
	[NODULE_CALCIFIED] = "钙化结节",
};

void
nodule_result_free(struct nodule_result *r)
{
	size_t	 i;

	for (i = 0; r->nodules != NULL && i < r->count; i++)
		free(r->nodules[i].vox);
	free(r->nodules);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- */
/* The guidelines and the malignancy model.                          */

double
nodule_brock(const struct nodule_patient *p, enum nodule_type type,
    double size_mm, int upper_lobe, int count, int emphysema,
    int spiculation)
{
	double	 x, age = 62.0;
	int	 female = 0, fam = 0;

	if (p != NULL) {
		if (isfinite(p->age))
			age = p->age;
		female = p->sex == 'F';
		fam = p->family_history == 1;
	}
	if (!(size_mm > 0.0))
		return NAN;
	/* McWilliams et al. (2013), full model with spiculation, the
	 * coefficients of STANDARDS.md 1.2. */
	x = -6.7892 + 0.0287 * (age - 62.0) + 0.6011 * female +
	    0.2961 * fam + 0.2953 * (emphysema != 0) -
	    5.3854 * (pow(size_mm / 10.0, -0.5) - 1.58113883);
	if (type == NODULE_PART_SOLID)
		x += 0.3770;
	else if (type == NODULE_GGN)
		x -= 0.1276;
	x += 0.6581 * (upper_lobe != 0) - 0.0824 * (count - 4) +
	    0.7729 * (spiculation != 0);
	return 1.0 / (1.0 + exp(-x));
}

/* Lung-RADS sizes are mean diameters to one decimal place. */
static double
tenth(double x)
{
	return round(x * 10.0) / 10.0;
}

const char *
nodule_lungrads(enum nodule_type type, double mean_mm, double solid_mm,
    int juxtapleural)
{
	double	 d = tenth(mean_mm), s = tenth(solid_mm);

	switch (type) {
	case NODULE_CALCIFIED:
		/* Benign calcification: category 1. */
		return "1";
	case NODULE_GGN:
		return d < 30.0 ? "2" : "3";
	case NODULE_PART_SOLID:
		if (d < 6.0)
			return "2";
		if (s < 6.0)
			return "3";
		return s < 8.0 ? "4A" : "4B";
	default:
		/* Solid; juxtapleural and perifissural solid nodules under
		 * 10 mm are category 2 (v2022). */
		if (juxtapleural && d < 10.0)
			return "2";
		if (d < 6.0)
			return "2";
		if (d < 8.0)
			return "3";
		return d < 15.0 ? "4A" : "4B";
	}
}

/* The management of a Lung-RADS category, Chinese. */
static const char *
lungrads_action_zh(const char *cat)
{
	if (strcmp(cat, "3") == 0)
		return "建议6个月后复查低剂量CT";
	if (strcmp(cat, "4A") == 0)
		return "建议3个月后复查低剂量CT，实性成分≥8 mm时可行PET/CT";
	if (strcmp(cat, "4B") == 0)
		return "建议胸部诊断性CT、PET/CT和/或组织取样";
	return "建议12个月后年度低剂量CT筛查";
}

void
nodule_fleischner(enum nodule_type type, double mean_mm, double solid_mm,
    int multiple, char *out, size_t outlen)
{
	/* Fleischner sizes: the mean of long and short axis rounded to
	 * the nearest millimetre (Bankier et al., 2017). */
	double	 d = round(mean_mm), s = round(solid_mm);
	const char *t;

	if (type == NODULE_CALCIFIED)
		t = "良性钙化结节，无需随访";
	else if (mean_mm >= MASS_MM)
		t = "直径≥30 mm的肿块不属于该指南范围，建议进一步临床评估";
	else if (type == NODULE_SOLID && !multiple) {
		if (d < 6.0)
			t = "低危患者无需常规随访，高危患者可选择12个月时复查CT";
		else if (d <= 8.0)
			t = "6–12个月复查CT，之后考虑（高危者建议）18–24个月复查";
		else
			t = "考虑3个月复查CT、PET/CT或组织活检";
	} else if (type == NODULE_SOLID) {
		if (d < 6.0)
			t = "多发，低危患者无需常规随访，高危患者可选择12个月时"
			    "复查CT";
		else
			t = "多发，3–6个月复查CT，之后考虑（高危者建议）18–24"
			    "个月复查";
	} else if (multiple) {
		if (d < 6.0)
			t = "多发亚实性结节，3–6个月复查CT，若稳定考虑2年及4年"
			    "时复查";
		else
			t = "多发亚实性结节，3–6个月复查CT，之后按最可疑的结节"
			    "处理";
	} else if (type == NODULE_GGN) {
		if (d < 6.0)
			t = "无需常规随访";
		else
			t = "6–12个月复查CT确认是否持续存在，之后每2年复查至5年";
	} else {
		if (d < 6.0)
			t = "无需常规随访";
		else if (s < 6.0)
			t = "3–6个月复查CT确认是否持续存在；若持续存在且实性成分"
			    "<6 mm，每年复查CT至5年";
		else
			t = "3–6个月复查CT；实性成分≥6 mm，高度可疑恶性";
	}
	(void)snprintf(out, outlen, "%s（Fleischner 2017）", t);
}

/* ---------------------------------------------------------------- */
/* Detection: the dot filter over a scale-space pyramid.             */

struct cand {
	double	 pos[3];	/* voxels of v */
	double	 sigma;		/* mm */
	double	 dot;
	double	 g;		/* the smoothed CT number there */
};

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The dot filter of g (grid d, spacing h mm, smoothed at sigma mm) into
 * out, at the voxels of mask; 0 elsewhere. */
static void
dot_filter(const float *g, const uint8_t *mask, const int d[3], double h,
    double sigma, float *out)
{
	size_t	 sx = 1, sy = (size_t)d[0], sz = (size_t)d[0] * d[1];
	double	 s2 = sigma * sigma / (h * h), lim = -3.0 * DOT_MIN;
	int	 k;

	memset(out, 0, (size_t)d[0] * d[1] * d[2] * sizeof(float));
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
	for (k = 1; k < d[2] - 1; k++) {
		int	 i, j;
		size_t	 o;
		double	 c, hm[6], e[3];

		for (j = 1; j < d[1] - 1; j++)
			for (i = 1; i < d[0] - 1; i++) {
				o = (size_t)k * sz + (size_t)j * sy + i;
				if (!mask[o])
					continue;
				c = 2.0 * g[o];
				hm[0] = g[o + sx] + g[o - sx] - c;
				hm[1] = g[o + sy] + g[o - sy] - c;
				hm[2] = g[o + sz] + g[o - sz] - c;
				/* The scale-normalised Laplacian: a blob
				 * answers at least 3 times its dot value. */
				if (s2 * (hm[0] + hm[1] + hm[2]) > lim)
					continue;
				hm[3] = (g[o + sx + sy] - g[o + sx - sy] -
				    g[o - sx + sy] + g[o - sx - sy]) / 4.0;
				hm[4] = (g[o + sx + sz] - g[o + sx - sz] -
				    g[o - sx + sz] + g[o - sx - sz]) / 4.0;
				hm[5] = (g[o + sy + sz] - g[o + sy - sz] -
				    g[o - sy + sz] + g[o - sy - sz]) / 4.0;
				mat3_sym_eigen(hm, e);
				if (e[2] >= 0.0)
					continue;
				out[o] = (float)(s2 * e[2] * e[2] / -e[0]);
			}
	}
}

/* The local maxima of dot above DOT_MIN as candidates (grid d of level
 * spacing h, whose voxel 0 is v's voxel org, step h / v's spacing). */
static int
maxima(const float *dot, const float *g, const int d[3], double h,
    double sigma,
    const double org[3], const double vsp[3], struct cand **cs, size_t *nc,
    size_t *cap)
{
	size_t	 sy = (size_t)d[0], sz = (size_t)d[0] * d[1], o;
	int	 i, j, k, a, b, c, top;
	float	 x;

	for (k = 1; k < d[2] - 1; k++)
		for (j = 1; j < d[1] - 1; j++)
			for (i = 1; i < d[0] - 1; i++) {
				o = (size_t)k * sz + (size_t)j * sy + i;
				if ((x = dot[o]) < DOT_MIN)
					continue;
				top = 1;
				for (c = -1; c <= 1 && top; c++)
					for (b = -1; b <= 1 && top; b++)
						for (a = -1; a <= 1; a++) {
							float y = dot[o +
							    (ptrdiff_t)c * sz +
							    (ptrdiff_t)b * sy +
							    a];

							if (y > x || (y == x &&
							    (c * 9 + b * 3 +
							    a) > 0)) {
								top = 0;
								break;
							}
						}
				if (!top)
					continue;
				if (*nc == *cap) {
					size_t	 n = *cap ? *cap * 2 : 256;
					struct cand *p = realloc(*cs,
					    n * sizeof(**cs));

					if (p == NULL)
						return -1;
					*cs = p;
					*cap = n;
				}
				(*cs)[*nc].pos[0] = org[0] + i * h / vsp[0];
				(*cs)[*nc].pos[1] = org[1] + j * h / vsp[1];
				(*cs)[*nc].pos[2] = org[2] + k * h / vsp[2];
				(*cs)[*nc].sigma = sigma;
				(*cs)[*nc].dot = x;
				(*cs)[*nc].g = g[o];
				(*nc)++;
			}
	return 0;
}

/* The index of sigma among the scales of level_sigma[]. */
static int
scale_index(double sigma)
{
	int	 lv, s, n = 0;

	for (lv = 0; lv < LEVELS; lv++)
		for (s = 0; s < 3 && level_sigma[lv][s] > 0.0; s++, n++)
			if (fabs(level_sigma[lv][s] - sigma) < 1e-9)
				return n < NSCALES ? n : NSCALES - 1;
	return NSCALES - 1;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->dot < y->dot ? 1 : x->dot > y->dot ? -1 : 0;
}

/* Every second voxel of in (grid d) into out (grid od). */
static void
halve_f(const float *in, const int d[3], float *out, const int od[3])
{
	int	 i, j, k;

	for (k = 0; k < od[2]; k++)
		for (j = 0; j < od[1]; j++)
			for (i = 0; i < od[0]; i++)
				out[((size_t)k * od[1] + j) * od[0] + i] =
				    in[((size_t)(2 * k) * d[1] + 2 * j) * d[0] +
				    2 * i];
}

static void
halve_m(const uint8_t *in, const int d[3], uint8_t *out, const int od[3])
{
	int	 i, j, k;

	for (k = 0; k < od[2]; k++)
		for (j = 0; j < od[1]; j++)
			for (i = 0; i < od[0]; i++)
				out[((size_t)k * od[1] + j) * od[0] + i] =
				    in[((size_t)(2 * k) * d[1] + 2 * j) * d[0] +
				    2 * i];
}

static int
float_cmp(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* The median of a[0..n-1] (n > 0), reordering a: Hoare's selection. */
static float
median_f(float *a, size_t n)
{
	size_t	 lo = 0, hi = n - 1, k = n / 2, i, j;
	float	 p, t;

	while (lo < hi) {
		p = a[lo + (hi - lo) / 2];
		i = lo;
		j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* ---------------------------------------------------------------- */
/* Segmentation round a candidate, at the volume's resolution.       */

/* Keep in m only the 6-connected component of voxel seed; returns its
 * size.  stack holds n entries. */
static size_t
flood(uint8_t *m, const int d[3], size_t seed, size_t *stack)
{
	size_t	 top = 0, cnt = 0, o, n = (size_t)d[0] * d[1] * d[2];
	int	 i, j, k;

	if (!m[seed])
		return 0;
	m[seed] = 2;
	stack[top++] = seed;
	while (top > 0) {
		o = stack[--top];
		cnt++;
		i = (int)(o % d[0]);
		j = (int)(o / d[0] % d[1]);
		k = (int)(o / ((size_t)d[0] * d[1]));
#define PUSH(c, off) do { if ((c) && m[(off)] == 1) { m[(off)] = 2; \
	stack[top++] = (off); } } while (0)
		PUSH(i > 0, o - 1);
		PUSH(i < d[0] - 1, o + 1);
		PUSH(j > 0, o - d[0]);
		PUSH(j < d[1] - 1, o + d[0]);
		PUSH(k > 0, o - (size_t)d[0] * d[1]);
		PUSH(k < d[2] - 1, o + (size_t)d[0] * d[1]);
#undef PUSH
	}
	for (o = 0; o < n; o++)
		m[o] = m[o] == 2;
	return cnt;
}

/*
 * The section of m on slice k of the box that the calipers measure, into
 * sec (d[0] x d[1]): its largest 8-connected piece.  A radiologist
 * measures the nodule's own cross-section on the slice where it is
 * largest (Bankier et al., 2017); a piece that the slice shows apart
 * from it (a vessel or a strip of pleura that the segmentation joined to
 * it on another slice, a lobule cut off by the slice) is not part of that
 * cross-section, and a long axis drawn to it measures the gap as well.
 * stack holds d[0] * d[1] entries.  Returns the pixels kept.
 */
static size_t
section_piece(const uint8_t *m, const int d[3], int k, uint8_t *sec,
    size_t *stack)
{
	size_t	 n2 = (size_t)d[0] * d[1], o, top, cnt, best = 0, bo = 0;
	int	 i, j, a, b, lbl;

	memcpy(sec, m + (size_t)k * n2, n2);
	/* Each piece flooded (marked 2) and counted, then the largest
	 * flooded again (3) and kept. */
	for (lbl = 2; lbl <= 3; lbl++) {
		for (o = 0; o < n2; o++) {
			if (sec[o] != 1 || (lbl == 3 && o != bo))
				continue;
			top = 0;
			cnt = 0;
			sec[o] = (uint8_t)lbl;
			stack[top++] = o;
			while (top > 0) {
				size_t	 p = stack[--top];

				cnt++;
				i = (int)(p % d[0]);
				j = (int)(p / d[0]);
				for (b = -1; b <= 1; b++)
					for (a = -1; a <= 1; a++) {
						size_t	 q;

						if (i + a < 0 || j + b < 0 ||
						    i + a >= d[0] ||
						    j + b >= d[1])
							continue;
						q = (size_t)(j + b) * d[0] +
						    i + a;
						if (sec[q] == 1) {
							sec[q] = (uint8_t)lbl;
							stack[top++] = q;
						}
					}
			}
			if (lbl == 2 && cnt > best) {
				best = cnt;
				bo = o;
			}
		}
		if (best == 0)
			return 0;
		if (lbl == 2)
			for (o = 0; o < n2; o++)
				sec[o] = sec[o] != 0;
	}
	for (o = 0; o < n2; o++)
		sec[o] = sec[o] == 3;
	return best;
}

/* Long axis (maximum Feret diameter) and the largest width
 * perpendicular to it of the 2-D section sec (d[0] x d[1]), mm. */
static void
section_axes(const uint8_t *sec, const int d[3], double px, double py,
    double *lng, double *shrt)
{
	int	*bx = NULL, nb = 0, i, j, a, b, ii, jj, in, nbin;
	double	 best = -1.0, ux = 1.0, uy = 0.0, lo, p, dx, dy, q, t0;
	double	*lo_b, *hi_b;
	size_t	 o;

	*lng = *shrt = 0.0;
	if ((bx = malloc((size_t)d[0] * d[1] * 2 * sizeof(int))) == NULL)
		return;
	for (j = 0; j < d[1]; j++)
		for (i = 0; i < d[0]; i++) {
			o = (size_t)j * d[0] + i;
			if (!sec[o])
				continue;
			in = i > 0 && i < d[0] - 1 && j > 0 && j < d[1] - 1 &&
			    sec[o - 1] && sec[o + 1] && sec[o - d[0]] &&
			    sec[o + d[0]];
			if (in)
				continue;
			bx[2 * nb] = i;
			bx[2 * nb + 1] = j;
			nb++;
		}
	if (nb == 0) {
		free(bx);
		return;
	}
	for (a = 0; a < nb; a++)
		for (b = a; b < nb; b++) {
			dx = (bx[2 * b] - bx[2 * a]) * px;
			dy = (bx[2 * b + 1] - bx[2 * a + 1]) * py;
			if ((q = dx * dx + dy * dy) > best) {
				best = q;
				if (q > 0.0) {
					ux = dx / sqrt(q);
					uy = dy / sqrt(q);
				}
			}
		}
	/* Pixel centres to edges: a pixel's extent along the direction. */
	*lng = sqrt(best) + fabs(ux) * px + fabs(uy) * py;
	/*
	 * The short axis: the longest chord perpendicular to the long axis
	 * (Bankier et al., 2017), not the breadth of the whole section across
	 * it, which grows with the long axis's tilt on the pixel grid (an
	 * ellipse of 12 x 6.6 mm read 7.7 mm across).  The pixels are binned
	 * by their position along the long axis, a pixel's width per bin, and
	 * the widest bin is the chord.
	 */
	q = fmin(px, py);
	nbin = (int)ceil(*lng / q) + 2;
	if ((lo_b = malloc((size_t)nbin * 2 * sizeof(*lo_b))) == NULL) {
		free(bx);
		*shrt = 0.0;
		return;
	}
	hi_b = lo_b + nbin;
	for (a = 0; a < nbin; a++) {
		lo_b[a] = 1e30;
		hi_b[a] = -1e30;
	}
	t0 = 1e30;
	for (a = 0; a < nb; a++)
		t0 = fmin(t0, ux * bx[2 * a] * px + uy * bx[2 * a + 1] * py);
	for (a = 0; a < nb; a++) {
		ii = bx[2 * a];
		jj = bx[2 * a + 1];
		b = (int)floor((ux * ii * px + uy * jj * py - t0) / q + 0.5);
		b = b < 0 ? 0 : b >= nbin ? nbin - 1 : b;
		p = -uy * ii * px + ux * jj * py;
		lo_b[b] = p < lo_b[b] ? p : lo_b[b];
		hi_b[b] = p > hi_b[b] ? p : hi_b[b];
	}
	lo = 0.0;
	for (a = 0; a < nbin; a++)
		if (hi_b[a] >= lo_b[a] && hi_b[a] - lo_b[a] > lo)
			lo = hi_b[a] - lo_b[a];
	*shrt = lo + fabs(uy) * px + fabs(ux) * py;
	if (*shrt > *lng)
		*shrt = *lng;
	free(lo_b);
	free(bx);
}

/*
 * The best axial section of m: where the nodule appears largest
 * (Bankier et al., 2017), taken as the slice of the greatest product of
 * long and short axis (the bidimensional size of the WHO criteria,
 * Miller et al., 1981), so that a thin strip that a section of an
 * irregular nodule trails (a vessel, the pleura) does not choose it.
 * For a round nodule this is the slice of its greatest long axis.  Each
 * section is measured as section_piece() leaves it.  Returns the slice,
 * -1 when none (or out of memory).
 */
static int
best_axes(const uint8_t *m, const int d[3], double px, double py,
    double *lng, double *shrt)
{
	size_t	 n2 = (size_t)d[0] * d[1];
	uint8_t	*sec = malloc(n2);
	size_t	*stack = malloc(n2 * sizeof(*stack));
	int	 k, best = -1;
	double	 l, s, top = 0.0;

	*lng = *shrt = 0.0;
	if (sec == NULL || stack == NULL)
		goto out;
	for (k = 0; k < d[2]; k++) {
		if (section_piece(m, d, k, sec, stack) == 0)
			continue;
		section_axes(sec, d, px, py, &l, &s);
		if (l * s > top + 1e-9) {
			top = l * s;
			*lng = l;
			*shrt = s;
			best = k;
		}
	}
out:
	free(sec);
	free(stack);
	return best;
}

/* The voxels of m (box d at o0 of the volume) into n->vox, cropped to
 * their own box.  0, or -1 when out of memory. */
static int
keep_voxels(const uint8_t *m, const int d[3], const int o0[3],
    struct nodule *n)
{
	int	 lo[3] = { d[0], d[1], d[2] }, hi[3] = { -1, -1, -1 };
	int	 i, j, k, a;

	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				if (!m[((size_t)k * d[1] + j) * d[0] + i])
					continue;
				lo[0] = i < lo[0] ? i : lo[0];
				hi[0] = i > hi[0] ? i : hi[0];
				lo[1] = j < lo[1] ? j : lo[1];
				hi[1] = j > hi[1] ? j : hi[1];
				lo[2] = k < lo[2] ? k : lo[2];
				hi[2] = k > hi[2] ? k : hi[2];
			}
	if (hi[0] < 0)
		return 0;
	for (a = 0; a < 3; a++) {
		n->vox_o[a] = o0[a] + lo[a];
		n->vox_d[a] = hi[a] - lo[a] + 1;
	}
	if ((n->vox = malloc((size_t)n->vox_d[0] * n->vox_d[1] *
	    n->vox_d[2])) == NULL)
		return -1;
	for (k = 0; k < n->vox_d[2]; k++)
		for (j = 0; j < n->vox_d[1]; j++)
			for (i = 0; i < n->vox_d[0]; i++)
				n->vox[((size_t)k * n->vox_d[1] + j) *
				    n->vox_d[0] + i] = m[((size_t)(k + lo[2]) *
				    d[1] + j + lo[1]) * d[0] + i + lo[0]] != 0;
	return 0;
}

/* The 1-2-1 smoothing of in along x, then y (box d, x fastest), into
 * out; tmp is scratch of the same size. */
static void
smooth_plane(const float *in, const int d[3], float *tmp, float *out)
{
	size_t	 o;
	int	 i, j, k;

	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				tmp[o] = (2.0f * in[o] + in[i > 0 ? o - 1 : o] +
				    in[i < d[0] - 1 ? o + 1 : o]) / 4.0f;
			}
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				out[o] = (2.0f * tmp[o] + tmp[j > 0 ? o - d[0] :
				    o] + tmp[j < d[1] - 1 ? o + d[0] : o]) /
				    4.0f;
			}
}

/*
 * GRAVITY.  A supine patient's lungs grow denser towards the back: a
 * gradient along gravity of up to a few hundred HU in the last
 * centimetres over the posterior pleura (dependent density, Hansell et
 * al., 2008, the Fleischner glossary), which a ring round a nodule lying
 * in it reads as a halo or a ground-glass margin.  A halo or a margin is
 * focal: it stands above the lung at its own height, which dependent
 * density, the same at each height along the pleura, does not.  So the
 * halo's and the margin's lower quartiles are also taken with each
 * voxel's excess over the lung of its own height, and both must pass.
 *
 * The height is read along the image axis nearest gravity.  Gravity in
 * the patient's coordinates (LPS) follows Patient Position (0018,5100,
 * DICOM PS3.3 C.7.3.1.1.2): towards the back for a supine patient
 * (HFS, FFS), the front for a prone one (HFP, FFP), the patient's left
 * (+x) lying on the left side (HFDL, FFDL) and the right (-x) on the
 * right (HFDR, FFDR); its share along the rows and columns of the image
 * is its product with the Image Orientation's direction cosines.  When
 * the position is absent or another (a standing or sitting patient's
 * gravity runs along z, across no axial image), the image's columns:
 * a scanner reconstructs in the gantry's frame, whose y axis is its
 * vertical.  A level is then one per image row (j) or per image column
 * (i), whichever runs across gravity.
 */

/* The voxel axis (0: i, 1: j) nearest gravity for v (GRAVITY above). */
static int
gravity_axis(const struct series_volume *v)
{
	static const struct {
		const char	*pos;
		double		 g[3];
	} tab[] = {
		{ "HFS", { 0, 1, 0 } }, { "FFS", { 0, 1, 0 } },
		{ "HFP", { 0, -1, 0 } }, { "FFP", { 0, -1, 0 } },
		{ "HFDL", { 1, 0, 0 } }, { "FFDL", { 1, 0, 0 } },
		{ "HFDR", { -1, 0, 0 } }, { "FFDR", { -1, 0, 0 } },
	};
	size_t	 t;
	double	 gr, gc;

	for (t = 0; t < sizeof(tab) / sizeof(tab[0]); t++)
		if (strcmp(v->patient_position, tab[t].pos) == 0)
			break;
	if (t == sizeof(tab) / sizeof(tab[0]))
		return 1;
	gr = tab[t].g[0] * v->row[0] + tab[t].g[1] * v->row[1] +
	    tab[t].g[2] * v->row[2];
	gc = tab[t].g[0] * v->col[0] + tab[t].g[1] * v->col[1] +
	    tab[t].g[2] * v->col[2];
	return fabs(gr) > fabs(gc) ? 0 : 1;
}

/* The lower quartile of the n values a (sorted in place); +inf when
 * there are fewer than 8, which passes what it is tested for. */
static double
q1_or_inf(float *a, size_t n)
{
	if (n < 8)
		return HUGE_VAL;
	qsort(a, n, sizeof(*a), float_cmp);
	return a[n / 4];
}

/*
 * The level of the margin round m (box d, spacing sp): the median CT
 * number of raw at the lung voxels (lm) 1 to 2 mm in the plane from m's
 * section, on the slices whose section is at least half the largest.
 * buf holds the box's voxels, sec and dist are scratch of its size;
 * the lower quartile into *q1, that of each voxel's excess over the
 * lung level rowbg of its height along voxel axis gax (GRAVITY) added
 * to bg into *q1_row.  NAN when
 * there are fewer than 16 such voxels or out of memory.
 */
static double
rim_level(const uint8_t *m, const uint8_t *lm, const float *raw,
    const int d[3], const double sp[3], float *buf, uint8_t *sec,
    double *dist, double *q1, const double *rowbg, int gax, double bg,
    double *q1_row)
{
	size_t	 n2 = (size_t)d[0] * d[1], o, a, amax = 0, ns = 0, nu = 0;
	size_t	 nb = n2 * d[2];
	int	 k, d2[3] = { d[0], d[1], 1 };

	for (k = 0; k < d[2]; k++) {
		for (o = 0, a = 0; o < n2; o++)
			a += m[(size_t)k * n2 + o] != 0;
		amax = a > amax ? a : amax;
	}
	if (amax == 0)
		return NAN;
	for (k = 0; k < d[2]; k++) {
		for (o = 0, a = 0; o < n2; o++)
			a += (sec[o] = m[(size_t)k * n2 + o] != 0);
		if (a * 2 < amax)
			continue;
		if (edt3(sec, d2, sp, dist) == -1)
			return NAN;
		for (o = 0; o < n2; o++)
			if (lm[(size_t)k * n2 + o] && !sec[o] &&
			    dist[o] >= 1.0 && dist[o] <= 4.0) {
				buf[ns++] = raw[(size_t)k * n2 + o];
				if (ns + nu + 1 < nb) {
					nu++;
					buf[nb - nu] = raw[(size_t)k * n2 +
					    o] - rowbg[gax ? o / d[0] :
					    o % d[0]] + bg;
				}
			}
	}
	if (ns < 16)
		return NAN;
	*q1_row = q1_or_inf(buf + nb - nu, nu);
	qsort(buf, ns, sizeof(*buf), float_cmp);
	*q1 = buf[ns / 4];
	return buf[ns / 2];
}

/*
 * The partial volume of nodule in voxel o of its border, (HU - lung) /
 * (plateau - lung), with the lung's level at its own height: rowbg of
 * its height (GRAVITY), the lung at that height in the box beyond the
 * candidate's radius, where that leaves the plateau CONTRAST_MIN above
 * it.  One level for all of a nodule in dependent lung, lower than the
 * lung on its dependent side, counted the gradient as nodule (+13 to +15
 * % on the pleural phantom's posterior 10 mm sphere); a level read next
 * to the nodule is the partial-volume analysis of Kuhnigk et al.
 * (2006), and a row's, of many voxels, adds no noise of its own.
 */
static double
pv_row(const float *raw, size_t o, double lb, double plat)
{
	return fmin(fmax((raw[o] - lb) / (plat - lb), -1.0), 2.0);
}

/*
 * Whether voxel i, j, k of a box (d) with lung mask lm has a voxel
 * outside the lungs among its 26 neighbours: it may hold some of the
 * wall, whose partial volume the linear mixing of lung and nodule
 * (Kuhnigk et al., 2006) would count as nodule.  Measured on the
 * pleural phantom, such voxels carried the whole excess of the small
 * juxtapleural spheres' volume (a 6 mm one at 2.5 mm: 9.3 of 64.6
 * voxels' worth counted, 55.8 true).
 */
static int
wall_adj(const uint8_t *lm, const int d[3], int i, int j, int k)
{
	int	 a, b, c;

	for (c = -1; c <= 1; c++)
		for (b = -1; b <= 1; b++)
			for (a = -1; a <= 1; a++)
				if (i + a >= 0 && j + b >= 0 && k + c >= 0 &&
				    i + a < d[0] && j + b < d[1] &&
				    k + c < d[2] && !lm[((size_t)(k + c) *
				    d[1] + j + b) * d[0] + i + a])
					return 1;
	return 0;
}

/* The sum of the partial volumes pv_row() of the voxels where lb (the
 * lung's level each is read against) is a number, for the plateau
 * plat. */
static double
pv_sum(const float *raw, const float *lb, size_t nb, double plat)
{
	double	 s = 0.0;
	size_t	 o;

	for (o = 0; o < nb; o++)
		if (!isnan(lb[o]))
			s += pv_row(raw, o, lb[o], plat);
	return s;
}

struct seg_ctx {
	const struct series_volume *v;
	const struct anatomy	*an;
	double			 lung_bg;	/* the lungs' median HU */
	int			 gax;		/* gravity_axis() */
};

/*
 * Segment the candidate c into nodule n.  Returns 1 when it is a nodule,
 * 0 when it is not, -1 when out of memory.
 */
static int
segment(const struct seg_ctx *sc, const struct cand *c, struct nodule *n,
    double force)
{
	const struct series_volume *v = sc->v;
	const uint8_t	*lungs = sc->an->lungs;
	double		 sp[3], r_est, rlim, ro, bg, plat = 0.0, T = 0.0, vv, cnt;
	double		 d2, ctr[3], sum, lng, shrt, frac, w, den;
	double		 mu[3], cov[6], e[3], hs[3], rim, rim_q1 = NAN;
	double		 rim_q1_row = HUGE_VAL;
	double		 rim_den = 0.0, pw = 0.0;
	int		 nocore = 0;
	float		*pvl = NULL;
	int		 o0[3], d[3], ax, i, j, k, ci, cj, ck, key, ii, jj, kk;
	size_t		 nb, o, vo, n_in, ns, nsolid, ntop, seed, best;
	size_t		 ncontact = 0, nedge = 0, nu;
	float		*raw = NULL, *sm = NULL, *buf = NULL, *bmax = NULL;
	uint8_t		*m = NULL, *mk = NULL, *sol = NULL, *lm = NULL;
	uint8_t		*zcut = NULL;
	double		*rowbg = NULL;
	double		*dist = NULL;
	size_t		*stack = NULL;
	int		 ret = -1, side, gax = sc->gax;

	n->vox = NULL;
	for (ax = 0; ax < 3; ax++)
		sp[ax] = fabs(v->spacing[ax]);
	r_est = c->sigma * sqrt(3.0);
	rlim = fmin(2.0 * r_est + 2.0, r_est + 20.0);
	for (ax = 0; ax < 3; ax++) {
		int	 dim = ax == 0 ? v->nx : ax == 1 ? v->ny : v->nz;
		int	 h = (int)ceil((rlim + 1.0) / sp[ax]) + 1;
		int	 cc = (int)lround(c->pos[ax]);

		o0[ax] = cc - h < 0 ? 0 : cc - h;
		d[ax] = (cc + h >= dim ? dim - 1 : cc + h) - o0[ax] + 1;
		if (d[ax] < 3)
			return 0;
	}
	/* The blob rule first, on a sparse sample of the lung round it
	 * (every stride-th voxel): most candidates end here, before the
	 * region is copied. */
	if (!isfinite(force)) {
		int	 st[3], q;
		size_t	 nq = 0, cap = 0;
		float	*smp = NULL, *t;
		double	 rr = (1.3 * r_est + 1.0) * (1.3 * r_est + 1.0), dd, bq;

		for (ax = 0; ax < 3; ax++) {
			st[ax] = (int)(r_est / 4.0 / sp[ax]);
			st[ax] = st[ax] < 1 ? 1 : st[ax];
		}
		for (k = 0; k < d[2]; k += st[2])
			for (j = 0; j < d[1]; j += st[1])
				for (i = 0; i < d[0]; i += st[0]) {
					vo = ((size_t)(k + o0[2]) * v->ny + j +
					    o0[1]) * v->nx + i + o0[0];
					if (!lungs[vo])
						continue;
					dd = 0.0;
					for (q = 0; q < 3; q++) {
						double	 u = ((q == 0 ? i : q == 1 ?
						    j : k) + o0[q] - c->pos[q]) *
						    sp[q];

						dd += u * u;
					}
					if (dd <= rr)
						continue;
					if (nq == cap) {
						cap = cap ? 2 * cap : 1024;
						if ((t = realloc(smp, cap *
						    sizeof(*smp))) == NULL) {
							free(smp);
							return -1;
						}
						smp = t;
					}
					smp[nq++] = v->vox[vo];
				}
		bq = nq >= 20 ? median_f(smp, nq) : sc->lung_bg;
		free(smp);
		if (c->dot < BLOB_SHARE * (c->g - bq) / 0.61 * 0.9)
			return 0;
	}
	ci = (int)lround(c->pos[0]) - o0[0];
	cj = (int)lround(c->pos[1]) - o0[1];
	ck = (int)lround(c->pos[2]) - o0[2];
	nb = (size_t)d[0] * d[1] * d[2];
	raw = malloc(nb * sizeof(*raw));
	sm = malloc(nb * sizeof(*sm));
	buf = malloc(nb * sizeof(*buf));
	m = calloc(nb, 1);
	mk = calloc(nb, 1);
	sol = calloc(nb, 1);
	lm = calloc(nb, 1);
	dist = malloc(nb * sizeof(*dist));
	stack = malloc(nb * sizeof(*stack));
	bmax = malloc(nb * sizeof(*bmax));
	zcut = calloc((size_t)d[2], 1);
	rowbg = malloc((size_t)d[gax] * sizeof(*rowbg));
	pvl = malloc(nb * sizeof(*pvl));
	if (raw == NULL || sm == NULL || buf == NULL || m == NULL ||
	    mk == NULL || sol == NULL || lm == NULL || dist == NULL ||
	    stack == NULL || bmax == NULL || zcut == NULL || rowbg == NULL ||
	    pvl == NULL)
		goto out;
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				vo = ((size_t)(k + o0[2]) * v->ny + j + o0[1]) *
				    v->nx + i + o0[0];
				raw[o] = v->vox[vo];
				lm[o] = lungs[vo] != 0;
			}
	/*
	 * The lungs' border layer: for each lung voxel, the densest of its
	 * 6 neighbours outside the lungs.  Where that is above the
	 * threshold the voxel is taken as wall, not as the nodule: the
	 * anatomy's mask may take a strip of the chest wall in beside a
	 * juxtapleural nodule (its pleural closing), and a nodule tangent
	 * to the pleura loses no more than the voxel it touches it with.
	 */
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				static const int nb6[6][3] = { { 1, 0, 0 },
				    { -1, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 },
				    { 0, 0, 1 }, { 0, 0, -1 } };
				int	 q;

				o = ((size_t)k * d[1] + j) * d[0] + i;
				bmax[o] = -1e30f;
				if (!lm[o])
					continue;
				for (q = 0; q < 6; q++) {
					ii = i + o0[0] + nb6[q][0];
					jj = j + o0[1] + nb6[q][1];
					kk = k + o0[2] + nb6[q][2];
					if (ii < 0 || jj < 0 || kk < 0 ||
					    ii >= v->nx || jj >= v->ny ||
					    kk >= v->nz)
						continue;
					vo = ((size_t)kk * v->ny + jj) *
					    v->nx + ii;
					if (lungs[vo] == 0 && v->vox[vo] >
					    bmax[o])
						bmax[o] = v->vox[vo];
				}
			}
	/* In-plane 1-2-1 smoothing for the mask (noise), not the volume. */
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				buf[o] = (2.0f * raw[o] + raw[i > 0 ? o - 1 :
				    o] + raw[i < d[0] - 1 ? o + 1 : o]) / 4.0f;
			}
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				sm[o] = (2.0f * buf[o] + buf[j > 0 ? o - d[0] :
				    o] + buf[j < d[1] - 1 ? o + d[0] : o]) /
				    4.0f;
			}
#define D2(ii, jj, kk) (((ii) - c->pos[0] + o0[0]) * ((ii) - c->pos[0] + \
	o0[0]) * sp[0] * sp[0] + ((jj) - c->pos[1] + o0[1]) * ((jj) - \
	c->pos[1] + o0[1]) * sp[1] * sp[1] + ((kk) - c->pos[2] + o0[2]) * \
	((kk) - c->pos[2] + o0[2]) * sp[2] * sp[2])
	/* The lung round it: the median beyond its radius. */
	ns = 0;
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				o = ((size_t)k * d[1] + j) * d[0] + i;
				d2 = D2(i, j, k);
				if (lm[o] && d2 > (1.3 * r_est + 1.0) *
				    (1.3 * r_est + 1.0))
					buf[ns++] = raw[o];
			}
	if (ns >= 20)
		bg = median_f(buf, ns);
	else
		bg = sc->lung_bg;
	/* The lung's level at each height along gravity (the image rows
	 * or columns, axis gax, see GRAVITY above): the median of the lung
	 * beyond the candidate's radius at that height in the box, off the
	 * lungs' border, where there are 20 or more such voxels; bg
	 * elsewhere. */
	for (int h = 0; h < d[gax]; h++) {
		ns = 0;
		for (k = 0; k < d[2]; k++)
			for (j = gax ? h : 0; j < (gax ? h + 1 : d[1]); j++)
				for (i = gax ? 0 : h; i < (gax ? d[0] : h + 1);
				    i++) {
					o = ((size_t)k * d[1] + j) * d[0] + i;
					if (lm[o] && bmax[o] <= bg && D2(i, j,
					    k) > (1.3 * r_est + 1.0) * (1.3 *
					    r_est + 1.0))
						buf[ns++] = raw[o];
				}
		rowbg[h] = ns >= 20 ? median_f(buf, ns) : bg;
	}
	/* Its plateau: the median of its inner part; refined once from
	 * the radius the first segmentation gives.  A halo's (force) when
	 * this is the solid part of a part-solid nodule (below). */
	w = 0.6 * r_est;
	for (int pass = 0; pass < 2; pass++) {
		if (isfinite(force)) {
			plat = force;
			pass = 1;
			goto thresh;
		}
		ns = 0;
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < d[1]; j++)
				for (i = 0; i < d[0]; i++) {
					o = ((size_t)k * d[1] + j) * d[0] + i;
					if (D2(i, j, k) <= w * w)
						buf[ns++] = sm[o];
				}
		if (ns == 0)
			buf[ns++] = sm[((size_t)ck * d[1] + cj) * d[0] + ci];
		pw = w;
		/* A nodule too small for a core (fewer voxels in its
		 * inner part than a 3 x 3 x 3 block) on slices no thicker
		 * than that part's radius: most of those voxels hold lung
		 * at their edges and their median is below its density
		 * (+19 HU for a +100 HU sphere of 5 mm at 1.25 mm), which
		 * every border voxel's partial volume is divided by.  Its
		 * core is then its central voxels, within half that
		 * radius (the lesion's density read from its core, Kuhnigk
		 * et al., 2006).  On thicker slices every voxel holds lung
		 * above or below, and the median stands. */
		if (pass == 1)
			nocore = ns < 27;
		if (pass == 1 && ns < 27 && sp[2] <= w) {
			ns = 0;
			for (k = 0; k < d[2]; k++)
				for (j = 0; j < d[1]; j++)
					for (i = 0; i < d[0]; i++) {
						o = ((size_t)k * d[1] + j) *
						    d[0] + i;
						if (D2(i, j, k) <= w * w / 4.0)
							buf[ns++] = sm[o];
					}
			if (ns == 0)
				buf[ns++] = sm[((size_t)ck * d[1] + cj) *
				    d[0] + ci];
		}
		plat = median_f(buf, ns);
thresh:
		if (plat - bg < CONTRAST_MIN || (!isfinite(force) &&
		    c->dot < BLOB_SHARE * (c->g - bg) / 0.61)) {
			ret = 0;
			goto out;
		}
		T = bg + 0.5 * (plat - bg);
		/* The component within the sphere limit, in the lungs. */
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < d[1]; j++)
				for (i = 0; i < d[0]; i++) {
					o = ((size_t)k * d[1] + j) * d[0] + i;
					m[o] = lm[o] && sm[o] >= T &&
					    bmax[o] < T &&
					    D2(i, j, k) <= rlim * rlim;
				}
		/* The seed: the voxel above the threshold nearest the
		 * centre, within half the radius. */
		best = (size_t)-1;
		d2 = 1e30;
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < d[1]; j++)
				for (i = 0; i < d[0]; i++) {
					o = ((size_t)k * d[1] + j) * d[0] + i;
					if (m[o] && D2(i, j, k) < d2) {
						d2 = D2(i, j, k);
						best = o;
					}
				}
		if (best == (size_t)-1 || d2 > (0.5 * r_est + sp[2]) *
		    (0.5 * r_est + sp[2])) {
			ret = 0;
			goto out;
		}
		seed = best;
		cnt = (double)flood(m, d, seed, stack);
		if (pass == 0) {
			double	 req = cbrt(cnt * sp[0] * sp[1] * sp[2] * 3.0 /
			    (4.0 * PI));

			w = 0.6 * (req < r_est ? req : r_est);
			if (w < sp[0])
				w = sp[0];
		}
	}
	/*
	 * A halo: when what lies 1 to 2.5 mm round the component is still
	 * well above the lung, the component is the solid part of a
	 * part-solid nodule (or the dense centre of a ground glass one):
	 * segment again at the halo's level, in a sphere twice as wide.
	 */
	if (!isfinite(force)) {
		for (o = 0; o < nb; o++)
			mk[o] = m[o];
		if (edt3(mk, d, sp, dist) == -1)
			goto out;
		ns = nu = 0;
		for (o = 0; o < nb; o++)
			if (lm[o] && !m[o] && dist[o] >= 1.0 &&
			    dist[o] <= 2.5 * 2.5) {
				buf[ns++] = sm[o];
				if (ns + nu + 1 < nb) {
					nu++;
					buf[nb - nu] = sm[o] - rowbg[gax ?
					    o / d[0] % d[1] : o % d[0]] + bg;
				}
			}
		/* A halo surrounds the solid part: three quarters of the
		 * ring above the level, not a median that a knot of
		 * vessels round a vessel reaches as well; and above the
		 * lung at its own height (GRAVITY). */
		if (ns >= 8) {
			double	 halo, halo_row;

			halo_row = q1_or_inf(buf + nb - nu, nu);
			qsort(buf, ns, sizeof(*buf), float_cmp);
			halo = buf[ns / 4];
			if (halo - bg >= HALO_MIN &&
			    halo - bg >= 0.2 * (plat - bg) &&
			    halo_row - bg >= HALO_MIN && halo < T) {
				struct cand	 c2 = *c;

				c2.sigma = 2.0 * c->sigma;
				ret = segment(sc, &c2, n, halo);
				goto out;
			}
		}
	}
	/*
	 * A ground-glass margin: a faint rim round the nodule, below the
	 * half-contrast threshold, that a reader outlines with it (the
	 * ground-glass component is part of the size, Bankier et al.,
	 * 2017; LIDC-IDRI-0002's readers drew it).  Its level is read in
	 * the plane, 1 to 2 mm from the section, on the slices that cut
	 * the nodule across (half its largest section or more: a slab that
	 * grazes a cap holds the nodule's partial volume there); where
	 * three quarters of it are RIM_MIN above the lung (a margin
	 * surrounds the nodule; a vessel or the pleura beside it fills a
	 * part of the ring) and its median is below the threshold, the
	 * segmentation is grown from the nodule to the rim's half-maximum,
	 * no farther than RIM_REACH of the nodule's equivalent radius (and
	 * RIM_REACH_MIN mm) from it, before the opening that cuts the
	 * vessels it meets.  Only on slices of RIM_SLICE_MAX or thinner,
	 * round what is smaller than a mass.
	 */
	rim = NAN;
	if (sp[2] <= RIM_SLICE_MAX && 2.0 * cbrt(cnt * sp[0] * sp[1] *
	    sp[2] * 3.0 / (4.0 * PI)) < MASS_MM)
		rim = rim_level(m, lm, raw, d, sp, buf, mk, dist, &rim_q1,
		    rowbg, gax, bg, &rim_q1_row);
	if (isfinite(rim) && rim_q1 - bg >= RIM_MIN && rim_q1_row - bg >=
	    RIM_MIN && rim < T) {
		double	 reach = fmax(RIM_REACH_MIN, RIM_REACH * cbrt(cnt *
		    sp[0] * sp[1] * sp[2] * 3.0 / (4.0 * PI)));
		double	 T2 = T;
		float	*s2;

		for (o = 0; o < nb; o++)
			mk[o] = m[o];
		if (edt3(mk, d, sp, dist) == -1)
			goto out;
		/* The level is a quarter of the nodule's contrast or
		 * less: smoothed once more in the plane (1-2-1 twice is a
		 * 1-4-6-4-1 binomial, half the noise of the raw voxel),
		 * for noise's bumps next to the rim not to join it. */
		if ((s2 = malloc(nb * sizeof(*s2))) == NULL)
			goto out;
		smooth_plane(sm, d, buf, s2);
		/* Grown at the half-maximum of the ring's level, then once
		 * more at that of the grown layer's own level, read inside
		 * it (a millimetre from the nodule and off its border), which
		 * the nodule's partial volume at the ring does not raise. */
		for (int pass = 0; pass < 2; pass++) {
			T2 = bg + 0.5 * (rim - bg);
			for (o = 0; o < nb; o++)
				m[o] = lm[o] && (mk[o] || (s2[o] >= T2 &&
				    bmax[o] < T2 && dist[o] <= reach * reach));
			cnt = (double)flood(m, d, seed, stack);
			if (pass == 1)
				break;
			ns = 0;
			for (k = 1; k < d[2] - 1; k++)
				for (j = 1; j < d[1] - 1; j++)
					for (i = 1; i < d[0] - 1; i++) {
						o = ((size_t)k * d[1] + j) *
						    d[0] + i;
						if (m[o] && !mk[o] &&
						    dist[o] >= 1.0 &&
						    m[o - 1] && m[o + 1] &&
						    m[o - d[0]] &&
						    m[o + d[0]] &&
						    m[o - (size_t)d[0] *
						    d[1]] &&
						    m[o + (size_t)d[0] * d[1]])
							buf[ns++] = raw[o];
					}
			if (ns < 16 || median_f(buf, ns) - bg < RIM_MIN)
				break;
			rim = median_f(buf, ns);
		}
		free(s2);
		T = T2;
		rim_den = rim - bg;
	}
	/* The opening: erosion by a ball of ro, the deepest part near the
	 * centre, dilated back within the component by ro and a pixel
	 * (the grid's discrete ball loses the rim of a sphere). */
	ro = 0.6 * r_est;
	if (ro >= 1.5 * sp[0]) {
		for (o = 0; o < nb; o++)
			mk[o] = !m[o];
		if (edt3(mk, d, sp, dist) == -1)
			goto out;
		best = (size_t)-1;
		d2 = 0.0;
		for (k = 0; k < d[2]; k++)
			for (j = 0; j < d[1]; j++)
				for (i = 0; i < d[0]; i++) {
					o = ((size_t)k * d[1] + j) * d[0] + i;
					mk[o] = dist[o] > ro * ro;
					if (mk[o] && D2(i, j, k) <= (0.6 *
					    r_est + sp[2]) * (0.6 * r_est +
					    sp[2]) && dist[o] > d2) {
						d2 = dist[o];
						best = o;
					}
				}
		if (best != (size_t)-1) {
			(void)flood(mk, d, best, stack);
			if (edt3(mk, d, sp, dist) == -1)
				goto out;
			/* The opening proper in mk, then its rim back:
			 * one voxel round it, no farther than a pixel
			 * beyond ro (so that a vessel's stub or a strip of
			 * the chest wall does not come back with it). */
			for (o = 0; o < nb; o++)
				mk[o] = m[o] && dist[o] <= ro * ro;
			for (k = 0; k < d[2]; k++)
				for (j = 0; j < d[1]; j++)
					for (i = 0; i < d[0]; i++) {
						int	 a, b, cc, nearo = 0;

						o = ((size_t)k * d[1] + j) *
						    d[0] + i;
						if (!m[o] || mk[o] || dist[o] >
						    (ro + sp[0]) * (ro + sp[0]))
							continue;
						for (cc = -1; cc <= 1 &&
						    !nearo; cc++)
						for (b = -1; b <= 1 && !nearo;
						    b++)
						for (a = -1; a <= 1 && !nearo;
						    a++) {
							ii = i + a;
							jj = j + b;
							kk = k + cc;
							nearo = ii >= 0 &&
							    jj >= 0 &&
							    kk >= 0 &&
							    ii < d[0] &&
							    jj < d[1] &&
							    kk < d[2] &&
							    mk[((size_t)kk *
							    d[1] + jj) * d[0] +
							    ii] == 1;
						}
						if (nearo)
							mk[o] = 2;
					}
			for (o = 0; o < nb; o++)
				m[o] = mk[o] != 0;
			seed = best;
			(void)flood(m, d, seed, stack);
		}
	}
	/*
	 * A vessel along z, on slices thicker than the opening's ball:
	 * sampled on such slices the ball is a disc, and the opening (with
	 * the rim it gives back, a slab away) cuts nothing along z, so a
	 * vessel's stub of a slab or two stays on each end of the nodule,
	 * with the partial volume of its edges; on the phantom's 7 mm
	 * nodule on a 2 mm vessel at 3 mm slices, +30 mm3 (+16.7 %), all of
	 * it in the slabs beyond its caps.  The nodule's own radius cuts
	 * them (the opening sized by the nodule, Kostis et al., 2003; the
	 * partial-volume band kept off the vessels the segmentation
	 * removed, Kuhnigk et al., 2006): a slab whose nearest point lies
	 * farther along z from the nodule's centre than half the long axis
	 * of its largest axial section holds nothing of a compact nodule,
	 * and neither its voxels nor the partial volume of its edges count.
	 * On thinner slices the ball cuts along z itself.
	 */
	if (ro < sp[2]) {
		double	 zc = 0.0, zn, l2, s2;

		for (k = 0, cnt = 0.0; k < d[2]; k++)
			for (o = (size_t)k * d[0] * d[1]; o < (size_t)(k +
			    1) * d[0] * d[1]; o++)
				if (m[o]) {
					zc += k * sp[2];
					cnt += 1.0;
				}
		(void)best_axes(m, d, sp[0], sp[1], &l2, &s2);
		if (cnt > 0.0 && l2 > 0.0) {
			zc /= cnt;
			for (k = 0; k < d[2]; k++) {
				zn = fabs(k * sp[2] - zc) - 0.5 * sp[2];
				if (zn <= 0.5 * l2)
					continue;
				zcut[k] = 1;
				memset(m + (size_t)k * d[0] * d[1], 0,
				    (size_t)d[0] * d[1]);
			}
			if (m[seed])
				(void)flood(m, d, seed, stack);
			else
				memset(m, 0, nb);
		}
	}
	/*
	 * A nodule is a blob: its thickest part, the radius of the
	 * largest ball inside it, is a fair share of its equivalent radius
	 * (1 for a sphere, about 0.5 for a lobulated nodule of 2:1, 0.45
	 * for LIDC-IDRI-0002's irregular ground-glass nodule).  A tree of
	 * vessels, a band of dependent density along the pleura or the
	 * lung round a knot of vessels, taken in by a low threshold, is
	 * thin for its volume (0.23 to 0.31 there).
	 */
	for (o = 0, cnt = 0.0; o < nb; o++) {
		mk[o] = !m[o];
		cnt += m[o];
	}
	if (edt3(mk, d, sp, dist) == -1)
		goto out;
	d2 = 0.0;
	for (o = 0; o < nb; o++)
		if (m[o] && dist[o] > d2)
			d2 = dist[o];
	n->r_in = sqrt(d2);
	if (n->r_in < THICK_MIN * cbrt(3.0 * cnt * sp[0] * sp[1] * sp[2] /
	    (4.0 * PI))) {
		ret = 0;
		goto out;
	}
	/* Measures: counts, CT numbers, centre, the partial volume. */
	vv = sp[0] * sp[1] * sp[2];
	n_in = nsolid = 0;
	sum = 0.0;
	den = rim_den > 0.0 ? rim_den : plat - bg;
	memset(mu, 0, sizeof(mu));
	memset(cov, 0, sizeof(cov));
	n->hu_min = 1e30;
	n->hu_max = -1e30;
	ns = 0;
	frac = 0.0;
	for (o = 0; o < nb; o++)
		pvl[o] = NAN;
	n->juxtapleural = 0;
	for (k = 0; k < d[2]; k++)
		for (j = 0; j < d[1]; j++)
			for (i = 0; i < d[0]; i++) {
				int	 inner, a, b, cc, near_m = 0;

				o = ((size_t)k * d[1] + j) * d[0] + i;
				/* Cut by the volume's first or last slice:
				 * not measurable. */
				if (m[o] && d[2] > 1 && ((k == 0 &&
				    o0[2] == 0) || (k == d[2] - 1 &&
				    o0[2] + k == v->nz - 1))) {
					ret = 0;
					goto out;
				}
				if (!m[o]) {
					/* The shell: below the threshold, in
					 * the lungs, next to the nodule, not
					 * on a slab cut off above, nor on
					 * or next to the lungs' border (what
					 * it holds above the lung is the
					 * wall's partial volume). */
					if (!lm[o] || sm[o] >= T || zcut[k] ||
					    bmax[o] > bg)
						continue;
					for (cc = -1; cc <= 1 && !near_m; cc++)
					for (b = -1; b <= 1 && !near_m; b++)
					for (a = -1; a <= 1 && !near_m; a++) {
						ii = i + a;
						jj = j + b;
						kk = k + cc;
						if (ii >= 0 && jj >= 0 &&
						    kk >= 0 && ii < d[0] &&
						    jj < d[1] && kk < d[2] &&
						    m[((size_t)kk * d[1] +
						    jj) * d[0] + ii])
							near_m = 1;
					}
					if (near_m && wall_adj(lm, d, i, j, k))
						continue;
					if (near_m && rim_den > 0.0)
						frac += fmin(fmax((raw[o] - bg) /
						    den, -1.0), 2.0);
					else if (near_m) {
						pvl[o] = (float)(plat -
						    rowbg[gax ? j : i] >=
						    CONTRAST_MIN ? rowbg[gax ?
						    j : i] : bg);
						frac += pv_row(raw, o, pvl[o],
						    plat);
					}
					continue;
				}
				n_in++;
				if (D2(i, j, k) > (rlim - 1.5 * sp[0]) *
				    (rlim - 1.5 * sp[0]))
					nedge++;
				buf[ns++] = raw[o];
				sum += raw[o];
				n->hu_min = fmin(n->hu_min, raw[o]);
				n->hu_max = fmax(n->hu_max, raw[o]);
				hs[0] = i * sp[0];
				hs[1] = j * sp[1];
				hs[2] = k * sp[2];
				mu[0] += hs[0];
				mu[1] += hs[1];
				mu[2] += hs[2];
				cov[0] += hs[0] * hs[0];
				cov[1] += hs[1] * hs[1];
				cov[2] += hs[2] * hs[2];
				cov[3] += hs[0] * hs[1];
				cov[4] += hs[0] * hs[2];
				cov[5] += hs[1] * hs[2];
				if (sm[o] >= SOLID_HU) {
					sol[o] = 1;
					nsolid++;
				}
				inner = i > 0 && j > 0 && k > 0 &&
				    i < d[0] - 1 && j < d[1] - 1 &&
				    k < d[2] - 1 && m[o - 1] && m[o + 1] &&
				    m[o - d[0]] && m[o + d[0]] &&
				    m[o - (size_t)d[0] * d[1]] &&
				    m[o + (size_t)d[0] * d[1]];
				if (inner)
					frac += 1.0;
				else if (wall_adj(lm, d, i, j, k))
					/* Against the wall: nodule, wall
					 * and lung in one voxel, the excess
					 * over the lung not all nodule; at
					 * least half nodule (the
					 * threshold), as counted below. */
					frac += 0.5;
				else if (rim_den > 0.0)
					frac += fmin(fmax((raw[o] - bg) / den,
					    -1.0), 2.0);
				else {
					pvl[o] = (float)(plat - rowbg[gax ?
					    j : i] >= CONTRAST_MIN ?
					    rowbg[gax ? j : i] : bg);
					frac += pv_row(raw, o, pvl[o], plat);
				}
				/* Touches what is not lung: the pleura. */
				for (cc = -1, near_m = 0; cc <= 1; cc++)
				for (b = -1; b <= 1; b++)
				for (a = -1; a <= 1; a++) {
					ii = i + a + o0[0];
					jj = j + b + o0[1];
					kk = k + cc + o0[2];
					if (ii < 0 || jj < 0 || kk < 0 ||
					    ii >= v->nx || jj >= v->ny ||
					    kk >= v->nz)
						continue;
					if (lungs[((size_t)kk * v->ny + jj) *
					    v->nx + ii] == 0)
						near_m = 1;
					else if (i + a >= 0 && j + b >= 0 &&
					    k + cc >= 0 && i + a < d[0] &&
					    j + b < d[1] && k + cc < d[2] &&
					    bmax[((size_t)(k + cc) * d[1] +
					    j + b) * d[0] + i + a] >= T)
						near_m = 1;
				}
				ncontact += near_m;
			}
	if (n_in == 0) {
		ret = 0;
		goto out;
	}
#undef D2
	/* On the pleura, a nodule touches it with a part of its surface;
	 * a layer along the lungs' border (partial volume of the chest
	 * wall, the heart or the diaphragm on thick slices) touches it with
	 * most of its voxels. */
	n->juxtapleural = ncontact > 0;
	if (ncontact * 2 > n_in) {
		ret = 0;
		goto out;
	}
	/*
	 * The density every partial volume is divided by, for a nodule
	 * too small for a core (above) on slices thicker than the
	 * plateau's radius: there the plateau is the median of an inner
	 * part whose voxels mostly hold lung above or below (a 5 mm
	 * sphere on the pleura at 2.5 mm: -60 HU read for +100 HU, its
	 * border voxels' sum 33.2 voxels' worth for 27.6 true, the
	 * phantom built again without it), while the voxels on its axis
	 * in the slab through its centre hold it across the slab.
	 * The nodule's density is read there, in the slab of its centre
	 * (the centroid of the segmentation), within half the plateau's
	 * radius of its axis in the plane (the core's density, Kuhnigk et
	 * al., 2006), where that is denser; the threshold stays where the
	 * plateau put it.
	 */
	if (!isfinite(force) && rim_den == 0.0 && nocore && sp[2] > pw) {
		double	 zc = mu[2] / n_in / sp[2], xc = mu[0] / n_in / sp[0];
		double	 yc = mu[1] / n_in / sp[1], pc, pv0;
		size_t	 nc = 0;
		float	*cb;

		k = (int)lround(zc);
		if (k >= 0 && k < d[2]) {
			if ((cb = malloc((size_t)d[0] * d[1] *
			    sizeof(*cb))) == NULL)
				goto out;
			for (j = 0; j < d[1]; j++)
				for (i = 0; i < d[0]; i++) {
					double	 u = (i - xc) * sp[0];
					double	 q = (j - yc) * sp[1];

					o = ((size_t)k * d[1] + j) * d[0] + i;
					if (m[o] && u * u + q * q <= pw * pw /
					    4.0)
						cb[nc++] = sm[o];
				}
			if (nc > 0 && (pc = median_f(cb, nc)) > plat) {
				pv0 = pv_sum(raw, pvl, nb, plat);
				frac = frac - pv0 + pv_sum(raw, pvl, nb, pc);
			}
			free(cb);
		}
	}
	/* On a noisy image the partial volumes' sum can fall below what
	 * the threshold holds; every voxel of the component is at least
	 * half nodule in the smoothed image, which bounds it from below. */
	n->volume_mm3 = fmax(frac, 0.5 * (double)n_in) * vv;
	/* With a margin grown, a border voxel can hold lung, margin and
	 * core at once, and no one CT number says how much of it is
	 * nodule: the volume is the voxels at or above the margin's
	 * half-maximum (the full width at half maximum, Ko et al., 2003),
	 * which is what the truth's extent is defined by. */
	if (rim_den > 0.0)
		n->volume_mm3 = (double)n_in * vv;
	n->hu_mean = sum / n_in;
	for (ax = 0; ax < 3; ax++)
		mu[ax] /= n_in;
	cov[0] = cov[0] / n_in - mu[0] * mu[0];
	cov[1] = cov[1] / n_in - mu[1] * mu[1];
	cov[2] = cov[2] / n_in - mu[2] * mu[2];
	cov[3] = cov[3] / n_in - mu[0] * mu[1];
	cov[4] = cov[4] / n_in - mu[0] * mu[2];
	cov[5] = cov[5] / n_in - mu[1] * mu[2];
	/* A voxel's own extent, so that a one-voxel-thin shape is not
	 * taken for a line. */
	cov[0] += sp[0] * sp[0] / 12.0;
	cov[1] += sp[1] * sp[1] / 12.0;
	cov[2] += sp[2] * sp[2] / 12.0;
	mat3_sym_eigen(cov, e);
	n->elong = e[0] > 0.0 ? sqrt(e[2] / e[0]) : 1e9;
	n->contact = (double)ncontact / n_in;
	/* Contained: a nodule lies inside the sphere that its scale
	 * allows (and a larger scale takes a larger nodule whole); what
	 * runs on to that sphere's surface with a tenth of itself is part
	 * of something larger, a vessel tree or the hilum. */
	n->trunc = (double)nedge / n_in;
	if (n->trunc > TRUNC_MAX) {
		ret = 0;
		goto out;
	}
	n->dot = c->dot;
	n->sigma = c->sigma;
	n->contrast = plat - bg;
	if (e[0] <= 0.0 || sqrt(e[2] / e[0]) > ELONG_MAX) {
		ret = 0;
		goto out;
	}
	for (ax = 0; ax < 3; ax++)
		n->center_vox[ax] = o0[ax] + mu[ax] / sp[ax];
	for (ax = 0; ax < 3; ax++)
		ctr[ax] = v->origin[ax] + n->center_vox[0] * sp[0] *
		    v->row[ax] + n->center_vox[1] * sp[1] * v->col[ax] +
		    n->center_vox[2] * v->step[ax];
	memcpy(n->center, ctr, sizeof(ctr));
	/* The 32 densest voxels (Siegelman et al., 1980). */
	qsort(buf, ns, sizeof(*buf), float_cmp);
	n->hu_q[0] = buf[ns / 4];
	n->hu_q[1] = buf[ns / 2];
	n->hu_q[2] = buf[3 * ns / 4];
	n->lung_hu = bg;
	n->halo = isfinite(force);
	ntop = ns < CALC_VOXELS ? ns : CALC_VOXELS;
	for (o = ns - ntop, sum = 0.0; o < ns; o++)
		sum += buf[o];
	key = best_axes(m, d, sp[0], sp[1], &lng, &shrt);
	n->long_mm = lng;
	n->short_mm = shrt;
	n->mean_mm = (lng + shrt) / 2.0;
	n->compact = lng > 0.0 ? n->volume_mm3 / (PI / 6.0 * lng * lng *
	    lng) : 0.0;
	if (n->mean_mm < REPORT_MIN_MM) {
		ret = 0;
		goto out;
	}
	n->key_slice = key + o0[2];
	n->x0 = n->y0 = 1 << 30;
	n->x1 = n->y1 = -1;
	for (j = 0; j < d[1]; j++)
		for (i = 0; i < d[0]; i++)
			if (m[((size_t)key * d[1] + j) * d[0] + i]) {
				n->x0 = i + o0[0] < n->x0 ? i + o0[0] : n->x0;
				n->x1 = i + o0[0] > n->x1 ? i + o0[0] : n->x1;
				n->y0 = j + o0[1] < n->y0 ? j + o0[1] : n->y0;
				n->y1 = j + o0[1] > n->y1 ? j + o0[1] : n->y1;
			}
	/* Siegelman's rule is for solid nodules: a ground-glass region
	 * with a few dense voxels (a vessel's wall, bone at its border) is
	 * not a calcified nodule. */
	if (ntop > 0 && sum / ntop >= CALC_HU && nsolid * 2 >= n_in &&
	    n->mean_mm < MASS_MM)
		n->type = NODULE_CALCIFIED;
	else if (nsolid * 2 >= n_in)
		n->type = NODULE_SOLID;
	else if (nsolid * vv >= 8.0)
		n->type = NODULE_PART_SOLID;
	else
		n->type = NODULE_GGN;
	n->solid_mean_mm = 0.0;
	if (n->type == NODULE_PART_SOLID) {
		(void)best_axes(sol, d, sp[0], sp[1], &lng, &shrt);
		n->solid_mean_mm = (lng + shrt) / 2.0;
	} else if (n->type == NODULE_SOLID || n->type == NODULE_CALCIFIED)
		n->solid_mean_mm = n->mean_mm;
	/* Where: the side and lobe at its centre (else at its voxels). */
	ii = (int)lround(n->center_vox[0]);
	jj = (int)lround(n->center_vox[1]);
	kk = (int)lround(n->center_vox[2]);
	vo = ((size_t)kk * v->ny + jj) * v->nx + ii;
	side = lungs[vo];
	if (side == LUNG_NONE)
		side = lungs[((size_t)(lround(c->pos[2])) * v->ny +
		    lround(c->pos[1])) * v->nx + lround(c->pos[0])];
	n->side = side < LUNG_SIDE__MAX ? (enum lung_side)side : LUNG_NONE;
	n->lobe = LOBE_NONE;
	if ((sc->an->have & ANAT_LOBES) && sc->an->lobes != NULL &&
	    sc->an->lobes[vo] < LOBE__MAX)
		n->lobe = (enum lobe)sc->an->lobes[vo];
	if (n->lobe != LOBE_NONE)
		(void)snprintf(n->location, sizeof(n->location), "%s",
		    lobe_zh[n->lobe]);
	else
		(void)snprintf(n->location, sizeof(n->location), "%s",
		    n->side == LUNG_RIGHT ? "右肺" : n->side == LUNG_LEFT ?
		    "左肺" : "肺");
	/* How sure: the blob's strength over the filter's least answer,
	 * and the contrast with the lung. */
	n->confidence = 0.5 + 0.25 * fmin(1.0, (c->dot - DOT_MIN) /
	    (4.0 * DOT_MIN)) + 0.25 * fmin(1.0, (plat - bg - CONTRAST_MIN) /
	    200.0);
	if (keep_voxels(m, d, o0, n) == -1)
		goto out;
	ret = 1;
out:
	free(raw);
	free(sm);
	free(buf);
	free(m);
	free(mk);
	free(sol);
	free(lm);
	free(dist);
	free(stack);
	free(bmax);
	free(zcut);
	free(rowbg);
	free(pvl);
	return ret;
}

/* How far a segmentation is from the scale that found it: the
 * candidate's radius sigma * sqrt(3) against the nodule's equivalent
 * radius, as a ratio (Lindeberg's scale selection: a blob is best seen
 * at the scale of its size).  Of two segmentations of one nodule from
 * different scales, the one that fits its scale is kept. */
static double
scale_fit(const struct nodule *n)
{
	double	 req = cbrt(3.0 * fmax(n->volume_mm3, 1e-3) / (4.0 * PI));

	return fabs(log(req / (n->sigma * sqrt(3.0))));
}

static int
nodule_cmp(const void *a, const void *b)
{
	const struct nodule *x = a, *y = b;
	double	 px = isfinite(x->brock) ? x->brock : -1.0;
	double	 py = isfinite(y->brock) ? y->brock : -1.0;

	if (px != py)
		return px < py ? 1 : -1;
	return x->volume_mm3 < y->volume_mm3 ? 1 :
	    x->volume_mm3 > y->volume_mm3 ? -1 : 0;
}

#define CHECK(x) do { if ((x) == -1) { (void)snprintf(err, errlen, \
	"compute: %s", compute_error(c)); goto out; } } while (0)

int
nodule_detect(struct compute *c, const struct series_volume *v,
    const struct anatomy *an, const struct nodule_patient *pt,
    struct nodule_result *res, char *err, size_t errlen)
{
	struct seg_ctx	 sc;
	struct cand	*cs = NULL;
	struct nodule	*nn = NULL, nod;
	size_t		 nc = 0, cap = 0, i, j, n, vo, nlung = 0;
	double		 t0 = now_s(), vsp[3], osp[3], org[3], h, prev, inc;
	double		 sig[3];
	int		 bb[6], cd[3], d[3], od[3], ax, x, y, z, lv, s, ret = -1;
	int		 ncount, multiple, upper, quota[NSCALES], *sst = NULL;
	struct nodule	*segs = NULL;
	float		*crop = NULL, *a = NULL, *b = NULL, *dot = NULL, *t;
	uint8_t		*mask = NULL, *m2 = NULL;
	long long	*hist = NULL;
	long long	 acc;

	memset(res, 0, sizeof(*res));
	if (an == NULL || !(an->have & ANAT_LUNGS) || an->lungs == NULL ||
	    an->dims[0] != v->nx || an->dims[1] != v->ny ||
	    an->dims[2] != v->nz) {
		(void)snprintf(err, errlen, "no lungs for this volume");
		return -1;
	}
	for (ax = 0; ax < 3; ax++)
		vsp[ax] = fabs(v->spacing[ax]);
	/* The lungs' box and median CT number. */
	bb[0] = bb[2] = bb[4] = 1 << 30;
	bb[1] = bb[3] = bb[5] = -1;
	if ((hist = calloc(1400, sizeof(*hist))) == NULL)
		goto oom;
	for (z = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++) {
				vo = ((size_t)z * v->ny + y) * v->nx + x;
				if (!an->lungs[vo])
					continue;
				nlung++;
				bb[0] = x < bb[0] ? x : bb[0];
				bb[1] = x > bb[1] ? x : bb[1];
				bb[2] = y < bb[2] ? y : bb[2];
				bb[3] = y > bb[3] ? y : bb[3];
				bb[4] = z < bb[4] ? z : bb[4];
				bb[5] = z > bb[5] ? z : bb[5];
				s = (int)lround(v->vox[vo]) + 1100;
				hist[s < 0 ? 0 : s > 1399 ? 1399 : s]++;
			}
	if (nlung == 0) {
		free(hist);
		res->seconds_detect = now_s() - t0;
		return 0;
	}
	for (s = 0, acc = 0; s < 1400; s++)
		if ((acc += hist[s]) * 2 >= (long long)nlung)
			break;
	sc.lung_bg = s - 1100.0;
	free(hist);
	hist = NULL;
	sc.v = v;
	sc.an = an;
	sc.gax = gravity_axis(v);
	/* The box with a margin, outside the lungs at their median. */
	for (ax = 0; ax < 3; ax++) {
		int	 dim = ax == 0 ? v->nx : ax == 1 ? v->ny : v->nz;
		int	 mg = (int)ceil(3.0 / vsp[ax]);

		bb[2 * ax] = bb[2 * ax] - mg < 0 ? 0 : bb[2 * ax] - mg;
		bb[2 * ax + 1] = bb[2 * ax + 1] + mg >= dim ? dim - 1 :
		    bb[2 * ax + 1] + mg;
		cd[ax] = bb[2 * ax + 1] - bb[2 * ax] + 1;
		org[ax] = bb[2 * ax];
		osp[ax] = GRID0_MM;
	}
	if ((crop = malloc((size_t)cd[0] * cd[1] * cd[2] *
	    sizeof(*crop))) == NULL)
		goto oom;
	for (z = 0; z < cd[2]; z++)
		for (y = 0; y < cd[1]; y++)
			for (x = 0; x < cd[0]; x++) {
				float	 hu;

				vo = ((size_t)(z + bb[4]) * v->ny + y + bb[2]) *
				    v->nx + x + bb[0];
				hu = v->vox[vo];
				hu = hu < CLAMP_LO ? CLAMP_LO : hu > CLAMP_HI ?
				    CLAMP_HI : hu;
				crop[((size_t)z * cd[1] + y) * cd[0] + x] =
				    an->lungs[vo] ? hu : (float)sc.lung_bg;
			}
	compute_resample_dims(cd, vsp, osp, d);
	n = (size_t)d[0] * d[1] * d[2];
	if ((a = malloc(n * sizeof(*a))) == NULL ||
	    (b = malloc(n * sizeof(*b))) == NULL ||
	    (dot = malloc(n * sizeof(*dot))) == NULL ||
	    (mask = malloc(n)) == NULL || (m2 = malloc(n)) == NULL)
		goto oom;
	CHECK(compute_resample(c, a, d, crop, cd, vsp, osp));
	free(crop);
	crop = NULL;
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				int	 sx = (int)lround(x * GRID0_MM / vsp[0]);
				int	 sy = (int)lround(y * GRID0_MM / vsp[1]);
				int	 sz = (int)lround(z * GRID0_MM / vsp[2]);

				sx = sx >= cd[0] ? cd[0] - 1 : sx;
				sy = sy >= cd[1] ? cd[1] - 1 : sy;
				sz = sz >= cd[2] ? cd[2] - 1 : sz;
				mask[((size_t)z * d[1] + y) * d[0] + x] =
				    an->lungs[((size_t)(sz + bb[4]) * v->ny +
				    sy + bb[2]) * v->nx + sx + bb[0]] != 0;
			}
	/* The pyramid: a holds the level's image at blur prev. */
	prev = 0.0;
	h = GRID0_MM;
	for (lv = 0; lv < LEVELS; lv++) {
		for (s = 0; s < 3 && level_sigma[lv][s] > 0.0; s++) {
			inc = sqrt(level_sigma[lv][s] * level_sigma[lv][s] -
			    prev * prev);
			sig[0] = sig[1] = sig[2] = inc;
			CHECK(compute_gauss(c, b, a, d, (double[3]){ h, h, h },
			    sig));
			t = a;
			a = b;
			b = t;
			prev = level_sigma[lv][s];
			dot_filter(a, mask, d, h, prev, dot);
			if (maxima(dot, a, d, h, prev, org, vsp, &cs, &nc,
			    &cap) == -1)
				goto oom;
		}
		if (lv + 1 < LEVELS) {
			for (ax = 0; ax < 3; ax++)
				od[ax] = (d[ax] + 1) / 2;
			halve_f(a, d, b, od);
			halve_m(mask, d, m2, od);
			memcpy(mask, m2, (size_t)od[0] * od[1] * od[2]);
			t = a;
			a = b;
			b = t;
			memcpy(d, od, sizeof(d));
			h *= 2.0;
		}
	}
	free(a);
	free(b);
	free(dot);
	free(mask);
	free(m2);
	a = b = dot = NULL;
	mask = m2 = NULL;
	res->seconds_filter = now_s() - t0;
	/* The strongest first; one per place and scale: a maximum within
	 * the smaller radius of a stronger one is the same blob, while a
	 * small blob inside a large one (a dense part of a ground-glass
	 * nodule) stays, and the segmentation decides. */
	qsort(cs, nc, sizeof(*cs), cand_cmp);
	memset(quota, 0, sizeof(quota));
	for (i = 0, j = 0; i < nc; i++) {
		size_t	 q;
		int	 keep = 1, si = scale_index(cs[i].sigma);

		/* Each scale its own quota, the strongest first, so that a
		 * large faint blob (a ground-glass nodule of 2-3 cm answers
		 * with a third of what a knot of vessels does) is not
		 * crowded out by the small strong ones. */
		if (quota[si] >= scale_quota[si])
			continue;
		/* The blob rule of segment() ahead of it, at half its
		 * value: the lungs' median is not the lung round each. */
		if (cs[i].dot < 0.5 * BLOB_SHARE * (cs[i].g - sc.lung_bg) /
		    0.61)
			continue;
		/* One per place at each scale; a maximum at another scale
		 * is another hypothesis (a dense part of a ground-glass
		 * nodule, or the nodule round it), and the segmentation
		 * decides. */
		for (q = 0; q < j && keep; q++) {
			double	 dd = 0.0, r = cs[i].sigma * sqrt(3.0);

			if (cs[q].sigma != cs[i].sigma)
				continue;
			for (ax = 0; ax < 3; ax++)
				dd += (cs[q].pos[ax] - cs[i].pos[ax]) *
				    (cs[q].pos[ax] - cs[i].pos[ax]) *
				    vsp[ax] * vsp[ax];
			if (dd < r * r)
				keep = 0;
		}
		if (keep) {
			cs[j++] = cs[i];
			quota[si]++;
		}
	}
	nc = j;
	res->candidates = nc;
	/* Segment each, the candidates in parallel (each its own region);
	 * then, in the candidates' order, a nodule found twice is kept
	 * once, as the segmentation that fits its scale. */
	if (nc > 0 && ((segs = calloc(nc, sizeof(*segs))) == NULL ||
	    (sst = calloc(nc, sizeof(*sst))) == NULL))
		goto oom;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
	for (i = 0; i < nc; i++)
		sst[i] = segment(&sc, &cs[i], &segs[i], NAN);
	for (i = 0; i < nc; i++)
		if (sst[i] == -1)
			goto oom;
	for (i = 0; i < nc; i++) {
		int	 dup = 0;

		if (sst[i] == 0)
			continue;
		nod = segs[i];
		for (j = 0; j < res->count && !dup; j++) {
			double	 dd = 0.0, r = fmax(nn[j].long_mm,
			    nod.long_mm) / 2.0;

			for (ax = 0; ax < 3; ax++)
				dd += (nn[j].center[ax] - nod.center[ax]) *
				    (nn[j].center[ax] - nod.center[ax]);
			if (dd < r * r) {
				dup = 1;
				if (scale_fit(&nod) < scale_fit(&nn[j])) {
					free(nn[j].vox);
					nn[j] = nod;
					segs[i].vox = NULL;
				}
			}
		}
		if (dup)
			continue;
		if ((res->count & 15) == 0) {
			struct nodule *p = realloc(nn, (res->count + 16) *
			    sizeof(*nn));

			if (p == NULL)
				goto oom;
			nn = p;
		}
		nn[res->count++] = nod;
		segs[i].vox = NULL;
	}
	/* The guidelines, which need the count. */
	ncount = 0;
	for (i = 0; i < res->count; i++)
		ncount += nn[i].type != NODULE_CALCIFIED;
	multiple = ncount > 1;
	for (i = 0; i < res->count; i++) {
		struct nodule	*q = &nn[i];

		upper = q->lobe == LOBE_RUL || q->lobe == LOBE_LUL;
		/* Emphysema and spiculation are not assessed: 0. */
		q->brock = q->type == NODULE_CALCIFIED ? NAN :
		    nodule_brock(pt, q->type, q->long_mm, upper,
		    ncount > 0 ? ncount : 1, 0, 0);
		(void)snprintf(q->lungrads, sizeof(q->lungrads), "%s",
		    nodule_lungrads(q->type, q->mean_mm, q->solid_mean_mm,
		    q->juxtapleural));
		nodule_fleischner(q->type, q->mean_mm, q->solid_mean_mm,
		    multiple, q->fleischner, sizeof(q->fleischner));
	}
	if (res->count > 1)
		qsort(nn, res->count, sizeof(*nn), nodule_cmp);
	res->nodules = nn;
	nn = NULL;
	ret = 0;
	goto out;
oom:
	(void)snprintf(err, errlen, "out of memory");
out:
	free(hist);
	free(crop);
	free(a);
	free(b);
	free(dot);
	free(mask);
	free(m2);
	free(cs);
	for (i = 0; segs != NULL && i < nc; i++)
		free(segs[i].vox);
	free(segs);
	free(sst);
	if (nn != NULL)
		for (i = 0; i < res->count; i++)
			free(nn[i].vox);
	free(nn);
	if (ret == -1) {
		nodule_result_free(res);
	}
	res->seconds_detect = now_s() - t0;
	return ret;
}

/* ---------------------------------------------------------------- */
/* The reader: its check, its run and its result.                    */

const char *
nodule_type_text(const struct nodule *n)
{
	if (n->mean_mm >= MASS_MM && n->type != NODULE_CALCIFIED)
		return "肿块";
	return nodule_type_zh[n->type];
}

/*
 * What the reader cannot see and how it was checked, on every result
 * page, in plain words (READERS.md).
 */
#define NODULE_LIMITS_ZH "局限：小于4 mm的结节、与血管或胸膜广泛相连而" \
	"不呈圆形的结节、形态不规则或较大的磨玻璃结节、极淡的磨玻璃结节（尤其" \
	"在噪声大的低剂量或锐利卷积核图像上）可能漏检；血管分叉、肺门结构及胸膜增厚可能被误检为结节；" \
	"穿行于磨玻璃结节内的血管可能被计为实性成分；毛刺、分叶、空洞等形态" \
	"及良性钙化的形态（爆米花样、同心圆样）未评估，钙化仅按CT值判断；" \
	"层厚大于3 mm时小结节的体积与径线误差增大；坠积性密度的重力方向按DICOM" \
	"患者体位（仰卧、俯卧、左或右侧卧）判断，缺少体位信息时按图像的前后方向" \
	"判断。验证：解析体模（3–12 mm" \
	"球形结节，-800、-630、+100、+400 HU，部分实性，贴胸膜及贴血管，" \
	"0.625–3 mm层厚，含噪声）：≥4 mm结节全部检出，体积误差多在10%以内" \
	"（3 mm层厚下少数小结节约10%），但其中贴胸膜及贴血管者均为实性；" \
	"贴胸膜及贴血管的3种密度4–12 mm球形结节体模：贴胸膜的4 mm结节及" \
	"≤8 mm的极淡磨玻璃结节（-800 HU）多漏检，贴血管的磨玻璃结节（≤10 mm）" \
	"及4–5 mm实性结节多漏检；胸膜体模（贴胸膜4–10 mm结节、胸膜斑" \
	"及胸膜增厚、背侧坠积性密度增高）：胸膜斑、胸膜增厚及坠积性密度未被" \
	"报告为结节，位于坠积性密度内的≥6 mm贴胸膜结节（仰卧及侧卧体模）体积" \
	"误差在10%以内，但贴胸膜结节与胸壁接触处的部分容积可使体积偏大（≥6 mm" \
	"可达13%，5 mm实性结节1.25 mm层厚可达14%、2.5 mm层厚可达34%），2.5 mm层厚下4 mm" \
	"贴胸膜结节可能漏检；已知长短径的椭球形结节（含贴胸膜、" \
	"贴血管）径线误差在1个像素加10%以内，3 mm层厚下贴较粗血管的扁椭球" \
	"结节可能漏检；公开数据LIDC-IDRI-0002：检出" \
	"医师标注的约3 cm磨玻璃为主结节，但其长径较医师测量值偏小约2 mm" \
	"（结节边缘极淡的磨玻璃部分未计入），另有7处" \
	"假阳性（多为肺门血管及胸膜旁结构）；Lung-PET-CT-Dx 5 mm层厚的" \
	"肿块可检出，但紧贴纵隔的肿块只测量其肺内部分；尚未在多例数据上统计敏感度，检出结果须由医师逐一" \
	"确认，阴性结果不能排除结节。"

int
nodule_to_ai(const struct nodule_result *r, const struct anatomy *an,
    const struct series_volume *v, struct ai_result *out)
{
	struct ai_lesion	 al;
	struct ai_key_image	 key;
	struct ai_histogram	*hg;
	const struct nodule	*n;
	char			*fd = NULL, *cc = NULL, *me = NULL;
	char			 a[32], b[32], c[32], d[32], e[32];
	double			 counts[ANAT_HIST_BINS], total;
	size_t			 fl = 0, cl = 0, ml = 0, i;
	int			 side, k, lobes;

	lobes = an != NULL && (an->have & ANAT_LOBES) && an->lobes != NULL;
	if (ai_text_append(&me, &ml, "候选结节由肺内多尺度Hessian点状滤波（尺度归一化，"
	    "Lindeberg 1998；Li、Sone、Doi 2003点状增强滤波，血管呈管状、"
	    "胸膜呈板状而被抑制；Fotin、Reeves 2019多尺度LoG候选）检出，"
	    "在原始分辨率下以结节与周围肺组织CT值的中点为阈值三维分割，"
	    "球形范围限制并以形态学开运算切断相连血管（Kostis 2003）；"
	    "层厚大于开运算球半径时，沿z轴超出结节自身半径（最大截面长径之半）"
	    "的层面不计入，以切断沿z轴走行的血管残端（Kuhnigk 2006）；"
	    "层厚≤3 mm时，环绕结节的淡磨玻璃边缘（比周围肺组织高40 HU"
	    "以上）一并计入"
	    "（Bankier 2017：磨玻璃成分计入结节大小），以其半高值为界；"
	    "体积按部分容积加权计数（含磨玻璃边缘者按半高值以上体素计数），"
	    "周围肺组织CT值取结节所在高度（重力方向，同一图像行）的肺组织，"
	    "胸膜边界体素不计入；晕征及磨玻璃边缘须同时高于同一高度的肺组织，"
	    "背侧坠积性密度增高不计为晕征或边缘（Hansell 2008）；"
	    "长短径取结节截面最大（长径×短径最大）"
	    "的横断层面，只量该层与结节相连的截面，短径为垂直于长径的最长径"
	    "（Bankier 2017）。类型：最高32个体素平均CT值≥164 HU为钙化"
	    "（Siegelman 1980），≥-300 HU部分为实性成分（Lee 2018）。"
	    "恶性概率按Brock（PanCan）完整模型（McWilliams 2013）计算，"
	    "年龄、性别未知时按62岁、男性，家族史按无，肺气肿与毛刺未评估"
	    "按无计，结节数按本系统检出数计；%s。分类按Lung-RADS v2022基线筛查标准，"
	    "随访建议按Fleischner 2017（适用于≥35岁、无肿瘤及免疫抑制病史的"
	    "偶发结节）。", lobes ? "上叶位置取自肺叶分割" :
	    "未做肺叶分割时上叶位置按否计，位置仅标左右肺") == -1 ||
	    ai_text_append(&me, &ml, "%s", NODULE_LIMITS_ZH) == -1 ||
	    ai_text_append(&me, &ml, "结果仅供参考，不能直接用于诊断。") == -1)
		goto fail;

	/*
	 * The result's own text is what 上传影像结论 takes whatever the
	 * doctor checks: with nodules, only what holds for the series (the
	 * lungs' figures, below); each nodule's sentences, its category and
	 * follow-up come with it when it is checked, so that a nodule the
	 * doctor leaves out (a false positive) stays out of the report.
	 */
	if (r->count == 0) {
		if (ai_text_append(&fd, &fl, "双肺未见明确结节（≥4 mm）。") == -1 ||
		    ai_text_append(&cc, &cl, "双肺未见明确结节，Lung-RADS 1类，建议12个月"
		    "后年度低剂量CT筛查（Lung-RADS v2022）。") == -1)
			goto fail;
	} else if (ai_text_append(&fd, &fl, "%s", "") == -1 ||
	    ai_text_append(&cc, &cl, "%s", "") == -1)
		goto fail;
	for (i = 0; i < r->count; i++) {
		int	 m = 0;

		n = &r->nodules[i];
		memset(&al, 0, sizeof(al));
		al.id = (int)i + 1;
		(void)snprintf(al.type, sizeof(al.type), "%s",
		    nodule_type_text(n));
		(void)snprintf(al.location, sizeof(al.location), "%.100s%s",
		    n->location, n->juxtapleural ? "（胸膜下）" : "");
		ai_text_fig(a, sizeof(a), n->long_mm);
		ai_text_fig(b, sizeof(b), n->short_mm);
		ai_text_fig(c, sizeof(c), n->volume_mm3 >= 10.0 ?
		    round(n->volume_mm3) : n->volume_mm3);
		ai_text_fig(d, sizeof(d), round(n->hu_mean));
		ai_text_fig(e, sizeof(e), n->solid_mean_mm);
		(void)snprintf(al.findings, sizeof(al.findings),
		    "%s见%s，大小约%s×%s mm，体积约%s mm³，平均CT值约%s HU%s%s%s。",
		    n->location, nodule_type_text(n), a, b, c, d,
		    n->type == NODULE_PART_SOLID ? "，实性成分约" : "",
		    n->type == NODULE_PART_SOLID ? e : "",
		    n->type == NODULE_PART_SOLID ? " mm" : "");
		if (n->juxtapleural)
			(void)snprintf(al.findings + strlen(al.findings) - 3,
			    sizeof(al.findings) - strlen(al.findings) + 3,
			    "，邻近胸膜。");
		(void)snprintf(al.conclusion, sizeof(al.conclusion),
		    "%s%s，Lung-RADS %s类，%s（Lung-RADS v2022）；偶发结节随访：%s。",
		    n->location, nodule_type_text(n), n->lungrads,
		    lungrads_action_zh(n->lungrads), n->fleischner);
#define MEAS(nm, val, un) do { (void)snprintf(al.meas[m].name, AI_NAME_MAX, \
	"%s", (nm)); al.meas[m].value = (val); (void)snprintf(al.meas[m].unit, \
	AI_UNIT_MAX, "%s", (un)); m++; } while (0)
		MEAS("长径", round(n->long_mm * 10.0) / 10.0, "mm");
		MEAS("短径", round(n->short_mm * 10.0) / 10.0, "mm");
		MEAS("平均直径", round(n->mean_mm * 10.0) / 10.0, "mm");
		MEAS("体积", round(n->volume_mm3), "mm³");
		MEAS("平均CT值", round(n->hu_mean), "HU");
		MEAS("最小CT值", round(n->hu_min), "HU");
		MEAS("最大CT值", round(n->hu_max), "HU");
		if (isfinite(n->brock))
			MEAS("恶性概率", round(n->brock * 1000.0) / 10.0, "%");
#undef MEAS
		/* Eight figures fill the lesion (AI_MEASURES_MAX): the
		 * Lung-RADS category is in its conclusion. */
		al.nmeas = (size_t)m;
		al.box.slice = n->key_slice;
		al.box.x0 = n->x0 > 2 ? n->x0 - 2 : 0;
		al.box.y0 = n->y0 > 2 ? n->y0 - 2 : 0;
		al.box.x1 = n->x1 + 2 < v->nx ? n->x1 + 2 : v->nx - 1;
		al.box.y1 = n->y1 + 2 < v->ny ? n->y1 + 2 : v->ny - 1;
		al.confidence = n->confidence;
		if (ai_result_add_lesion(out, &al) == NULL)
			goto fail;
		if (i < 5) {
			memset(&key, 0, sizeof(key));
			key.slice = n->key_slice;
			key.window_center = -600.0;
			key.window_width = 1500.0;
			(void)snprintf(key.caption, sizeof(key.caption),
			    "结节%d：%.60s%.30s", al.id, n->location,
			    nodule_type_text(n));
			if (ai_result_add_key(out, &key) == -1)
				goto fail;
		}
	}
	if (ai_result_add_summary(out, "结节数", (double)r->count, "") == -1)
		goto fail;
	if (an != NULL) {
		if (ai_text_append(&fd, &fl, "右肺容积约%.0f mL，左肺约%.0f mL；"
		    "LAA-950 右肺%.1f%%，左肺%.1f%%。",
		    an->lung[LUNG_RIGHT].volume_ml, an->lung[LUNG_LEFT].volume_ml,
		    an->lung[LUNG_RIGHT].laa950_pct,
		    an->lung[LUNG_LEFT].laa950_pct) == -1)
			goto fail;
		for (side = LUNG_RIGHT; side <= LUNG_LEFT; side++) {
			const struct lung_stats *ls = &an->lung[side];

			(void)snprintf(a, sizeof(a), "%s容积", lung_side_zh[side]);
			(void)snprintf(b, sizeof(b), "%sLAA-950",
			    lung_side_zh[side]);
			if (ai_result_add_summary(out, a, round(ls->volume_ml),
			    "mL") == -1 || ai_result_add_summary(out, b,
			    round(ls->laa950_pct * 10.0) / 10.0, "%") == -1)
				goto fail;
			for (k = 0, total = 0.0; k < ANAT_HIST_BINS; k++)
				total += (double)(counts[k] = (double)ls->hist[k]);
			if (total <= 0.0)
				continue;
			if ((hg = ai_result_add_histogram(out,
			    lung_side_zh[side], ANAT_HIST_LO, ANAT_HIST_WIDTH,
			    counts, ANAT_HIST_BINS)) == NULL)
				goto fail;
			/* The anatomy's first and last bins are open-ended
			 * (anatomy.h): air below -1000 HU, and the vessels
			 * and nodules in the lungs from -10 HU up. */
			hg->open_below = hg->open_above = 1;
			(void)snprintf(hg->meas[0].name, AI_NAME_MAX, "容积");
			hg->meas[0].value = round(ls->volume_ml);
			(void)snprintf(hg->meas[0].unit, AI_UNIT_MAX, "mL");
			(void)snprintf(hg->meas[1].name, AI_NAME_MAX, "平均CT值");
			hg->meas[1].value = round(ls->mean_hu);
			(void)snprintf(hg->meas[1].unit, AI_UNIT_MAX, "HU");
			(void)snprintf(hg->meas[2].name, AI_NAME_MAX, "LAA-950");
			hg->meas[2].value = round(ls->laa950_pct * 10.0) / 10.0;
			(void)snprintf(hg->meas[2].unit, AI_UNIT_MAX, "%%");
			hg->nmeas = 3;
		}
	}
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
nodule_check(const struct series_volume *v, char *why, size_t sz)
{
	return reader_check_chest_ct(v, "肺结节检测", 3.0, "可能漏检结节",
	    "体积与径线测量", why, sz);
}

/*
 * The region of nodule nd for the viewer, as label l in lab (v's grid):
 * the reader's own segmentation, the voxels its volume, axes and type
 * were measured on (nd->vox), so that what 显示AI标注 shows is what the
 * figures describe.  A voxel already given to a nodule listed before
 * (two segmentations that touch) keeps its label.  Returns the voxels
 * labelled.
 */
static long
nodule_region(const struct series_volume *v, const struct nodule *nd,
    uint8_t *lab, int l)
{
	long	 got = 0;
	int	 i, j, k, x, y, z;
	size_t	 o;

	if (nd->vox == NULL)
		return 0;
	for (k = 0; k < nd->vox_d[2]; k++)
		for (j = 0; j < nd->vox_d[1]; j++)
			for (i = 0; i < nd->vox_d[0]; i++) {
				if (!nd->vox[((size_t)k * nd->vox_d[1] + j) *
				    nd->vox_d[0] + i])
					continue;
				x = i + nd->vox_o[0];
				y = j + nd->vox_o[1];
				z = k + nd->vox_o[2];
				if (x < 0 || y < 0 || z < 0 || x >= v->nx ||
				    y >= v->ny || z >= v->nz)
					continue;
				o = ((size_t)z * v->ny + y) * v->nx + x;
				if (lab[o] >= READER_MASKS_FIRST)
					continue;
				lab[o] = (uint8_t)l;
				got++;
			}
	return got;
}

/*
 * The result's regions (sql/034): the lobes (or lungs) and each nodule
 * by its 序号 (lesion i + 1 is label READER_MASKS_FIRST + i; the first
 * 245 nodules).  Returns 0, or -1 when out of memory.
 */
static int
nodule_masks(const struct nodule_result *r, const struct anatomy *an,
    const struct series_volume *v, struct ai_result *res)
{
	json_t	*legend;
	uint8_t	*lab = NULL;
	char	 name[32], *txt;
	size_t	 i;
	int	 l, rc = -1;

	if ((legend = json_array()) == NULL ||
	    reader_masks_lungs(an, v, &lab, legend) == -1)
		goto out;
	for (i = 0; i < r->count && READER_MASKS_FIRST + i <= 255; i++) {
		l = READER_MASKS_FIRST + (int)i;
		(void)nodule_region(v, &r->nodules[i], lab, l);
		(void)snprintf(name, sizeof(name), "结节%zu", i + 1);
		if (masks_legend_add(legend, l, name, MASKS_NODULE,
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
	json_decref(legend);
	return rc;
}

static int
nodule_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct anatomy_cache	*own = NULL;
	const struct anatomy	*an = NULL;
	struct nodule_patient	 pt;
	struct nodule_result	 r;
	int			 ret;

	memset(&r, 0, sizeof(r));
	if ((ret = reader_chest_lungs(ctx, v, "肺结节检测", "lung nodules",
	    &own, &an, err, errlen)) != 0)
		goto out;
	ret = -1;
	pt.age = ctx->patient_age;
	pt.sex = ctx->patient_sex;
	pt.family_history = -1;
	if (nodule_detect(ctx->compute, v, an, &pt, &r, err, errlen) == -1)
		goto out;
	log_info("series %lld: lung nodules: %zu candidate(s), %zu nodule(s),"
	    " %.2f s", ctx->series_id, r.candidates, r.count,
	    r.seconds_detect);
	if (nodule_to_ai(&r, an, v, res) == -1 ||
	    nodule_masks(&r, an, v, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	nodule_result_free(&r);
	anatomy_cache_free(own);
	return ret;
}

const struct reader_impl nodule_reader = {
	.id = READER_CT_LUNG_NODULE,
	.check = nodule_check,
	.run = nodule_run,
};
