/*
 * heart.c - the heart and the aortic root in a CT of the chest (heart.h),
 * found as the calcium reader first did (cac.c):
 *
 *  1. the heart, on a copy of the volume resampled to 2 mm: the lungs are
 *     the air inside the body and within the reconstruction's field of
 *     view (a cardiac field cuts the chest: its lungs reach its edge);
 *     the abdomen is cut away under the lungs' floor where that floor is
 *     the diaphragm's (the right dome's top, from the outer right chest);
 *     on each slice the convex hull of the lungs holds the mediastinum;
 *     its soft tissue, eroded to cut thin bridges, has the heart (with
 *     the roots of the great vessels) as its largest part, grown back
 *     into the soft tissue;
 *  2. the aortic root: going up from the heart's widest slice, where the
 *     cross-section falls under 40 % of the widest, the heart ends and the
 *     great vessels begin; the root is the centre of the mask there;
 *  3. around the heart, for the calcium reader: the chest's cavity (the
 *     lungs' hull, grown), the shell where the coronary arteries run, the
 *     heart's depths, bone and the margin round it, the chest wall's
 *     band; the blood's CT number whatever the phase (contrast), and the
 *     blood and the image's noise in the heart's depth.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heart.h"
#include "log.h"

#define COARSE_MM	2.0		/* the anatomy's grid */
#define LUNG_HU		HEART_LUNG_HU
#define LUNG_MIN_ML	HEART_LUNG_MIN_ML
#define PURE_AIR_HU	-975.0		/* air, not lung tissue */
#define PURE_AIR_SHARE	0.5		/* of a lung's voxels, at most */
#define BODY_CUT_SHARE	0.3		/* tissue on the field's edge */
#define DOME_OUTER	0.55		/* of the right lung's half-width */
#define DOME_LO_HU	0.0		/* liver, spleen: soft tissue */
#define DOME_AREA_CM2	10.0		/* of the dome's top */
#define DOME_UNDER_MM	5.0		/* the liver under the floor */
#define DOME_ABOVE_MM	10.0		/* lungs' floor: the diaphragm's */
#define DOME_HEART_MM	30.0		/* the heart's lowest, under it */
#define SOFT_LO		-30.0		/* heart and blood, unenhanced */
#define SOFT_HI		150.0
#define HEART_MIN_ML	150.0
#define ROOT_FRACTION	0.40		/* of the widest cross-section */
#define SHELL_MM	HEART_SHELL_MM	/* epicardial fat around the heart */
#define DEEP_MM		8.0		/* deeper than this: in the heart */
#define BONE_HU		250.0		/* bone on the 2 mm grid */
#define BONE_MIN_ML	2.0		/* a bone, not a calcification */
#define BONE_NEAR_MM	4.0		/* calcium this close is bone's */
#define CAVITY_MM	2.0		/* beyond the lungs' hull */
#define ENH_HI_HU	600.0		/* enhanced blood, at the most */
#define ENH_DEEP_MM	8.0		/* the blood pool's depth */
#define WALL_MM		10.0		/* the chest wall's band */
#define WALL_SLAB_MM	15.0		/* ribs of the slices round */
#define HEART_NECK_MM	4.0		/* bridges cut to find the heart */

/*
 * The relative CT number of hydroxyapatite by tube voltage (1 at 120
 * kV).  The 100 kV figure gives the 147 HU threshold that Nakazato et al.
 * (2009) found equivalent to 130 HU at 120 kV; the others follow the
 * same photoelectric trend of calcium in phantoms.
 */
static const double kv_table[][2] = {
	{ 80.0, 1.38 }, { 100.0, 1.13 }, { 120.0, 1.00 }, { 140.0, 0.92 },
};

double
heart_kv_factor(double kvp)
{
	size_t	 i, n = sizeof(kv_table) / sizeof(kv_table[0]);
	double	 t;

	if (!(kvp > kv_table[0][0]))
		return kv_table[0][1];
	for (i = 1; i < n; i++)
		if (kvp <= kv_table[i][0]) {
			t = (kvp - kv_table[i - 1][0]) /
			    (kv_table[i][0] - kv_table[i - 1][0]);
			return kv_table[i - 1][1] +
			    t * (kv_table[i][1] - kv_table[i - 1][1]);
		}
	return kv_table[n - 1][1];
}

/* The volume's slice step along the patient's z (signed), mm. */
static double
step_z(const struct series_volume *v)
{
	return v->step[2] != 0.0 ? v->step[2] : v->spacing[2] * v->normal[2];
}

/* Fill the convex polygon hull (n points, counter-clockwise) into mask
 * (w x h) by testing each pixel of its bounding box. */
static void
fill_hull(uint8_t *mask, int w, int h, const int (*pt)[2], int n)
{
	int	 x, y, i, inside, xmin = w, xmax = -1, ymin = h, ymax = -1;
	long	 cr;

	for (i = 0; i < n; i++) {
		if (pt[i][0] < xmin) xmin = pt[i][0];
		if (pt[i][0] > xmax) xmax = pt[i][0];
		if (pt[i][1] < ymin) ymin = pt[i][1];
		if (pt[i][1] > ymax) ymax = pt[i][1];
	}
	for (y = ymin; y <= ymax; y++)
		for (x = xmin; x <= xmax; x++) {
			inside = 1;
			for (i = 0; i < n && inside; i++) {
				const int *a = pt[i], *b = pt[(i + 1) % n];

				cr = (long)(b[0] - a[0]) * (y - a[1]) -
				    (long)(b[1] - a[1]) * (x - a[0]);
				if (n > 2 && cr < 0)
					inside = 0;
			}
			if (inside)
				mask[(size_t)y * w + x] = 1;
		}
}

static long
cross3(const int *o, const int *a, const int *b)
{
	return (long)(a[0] - o[0]) * (b[1] - o[1]) -
	    (long)(a[1] - o[1]) * (b[0] - o[0]);
}

static int
pt_cmp(const void *a, const void *b)
{
	const int	*p = a, *q = b;

	if (p[0] != q[0])
		return p[0] < q[0] ? -1 : 1;
	return p[1] < q[1] ? -1 : p[1] > q[1];
}

/*
 * The convex hull of the lung pixels of one slice, filled into hull.
 * The candidate points are the first and last lung pixel of each row;
 * Andrew's monotone chain gives the hull.  pts and hp hold 2 * h points.
 */
static void
slice_hull(const uint8_t *lung, uint8_t *hull, int w, int h,
    int (*pts)[2], int (*hp)[2])
{
	int	 x, y, n = 0, k = 0, i, t;

	for (y = 0; y < h; y++) {
		int	 first = -1, last = -1;

		for (x = 0; x < w; x++)
			if (lung[(size_t)y * w + x]) {
				if (first == -1)
					first = x;
				last = x;
			}
		if (first == -1)
			continue;
		pts[n][0] = first;
		pts[n++][1] = y;
		if (last != first) {
			pts[n][0] = last;
			pts[n++][1] = y;
		}
	}
	if (n < 3)
		return;
	qsort(pts, (size_t)n, sizeof(pts[0]), pt_cmp);
	for (i = 0; i < n; i++) {
		while (k >= 2 && cross3(hp[k - 2], hp[k - 1], pts[i]) <= 0)
			k--;
		hp[k][0] = pts[i][0];
		hp[k++][1] = pts[i][1];
	}
	for (i = n - 2, t = k + 1; i >= 0; i--) {
		while (k >= t && cross3(hp[k - 2], hp[k - 1], pts[i]) <= 0)
			k--;
		hp[k][0] = pts[i][0];
		hp[k++][1] = pts[i][1];
	}
	if (k > 1)
		k--;
	fill_hull(hull, w, h, (const int (*)[2])hp, k);
}

/* Add the voxels of the heart mask on coarse slice k to sum (x, y, k)
 * and their count to *cnt. */
static void
slice_sums(const struct heart_masks *an, int k, double sum[3], double *cnt)
{
	size_t		 plane = (size_t)an->dims[0] * an->dims[1], i;
	const uint8_t	*m = an->heart + (size_t)k * plane;

	for (i = 0; i < plane; i++)
		if (m[i]) {
			sum[0] += (double)(i % an->dims[0]);
			sum[1] += (double)(i / an->dims[0]);
			sum[2] += k;
			(*cnt)++;
		}
}

/*
 * The reconstruction's field of view on the coarse grid: a column of
 * voxels is outside it when, through every slice, it holds only the
 * padding the scanner writes outside the reconstruction circle (below
 * -1500 HU, or one constant value below air, such as the -1024 that the
 * loader makes of Pixel Padding Value).  Real air is never one value on
 * every slice of a series.
 */
static void
fov_plane(const struct series_volume *v, const struct heart_masks *an,
    uint8_t *fov)
{
	int	 X, Y, x, y, k;
	float	 lo, hi, h;
	size_t	 sl = (size_t)v->nx * v->ny;

	for (Y = 0; Y < an->dims[1]; Y++)
		for (X = 0; X < an->dims[0]; X++) {
			x = (int)lround(X * an->sp[0] / v->spacing[0]);
			y = (int)lround(Y * an->sp[1] / v->spacing[1]);
			if (x > v->nx - 1)
				x = v->nx - 1;
			if (y > v->ny - 1)
				y = v->ny - 1;
			lo = INFINITY;
			hi = -INFINITY;
			for (k = 0; k < v->nz; k++) {
				h = v->vox[k * sl + (size_t)y * v->nx + x];
				if (h < lo)
					lo = h;
				if (h > hi)
					hi = h;
			}
			fov[(size_t)Y * an->dims[0] + X] = !(hi <= -1500.0f ||
			    (hi - lo < 0.5f && hi <= -1010.0f));
		}
}

/*
 * Which air components (lab, st: of the air within the field of view)
 * are lungs; their voxels are set in lung, the others cleared.
 *
 * Air outside the body reaches the edge of the field of view: the image's
 * edge, or the reconstruction circle.  So do the lungs of a
 * reconstruction with a small, cardiac field of view, which cuts the
 * chest; the edge of such a field is then mostly tissue, where that of a
 * field holding the whole body is mostly air.  When the body is cut,
 * what tells lungs and outside air apart is what they hold: outside air is air
 * (-1000 HU); lung tissue averages -900 to -700 HU even in emphysema,
 * on the 2 mm grid that mixes in its
 * vessels and walls, and few of their voxels are below PURE_AIR_HU, while
 * most of outside air's are.  Gas in the bowel is air as well, and is
 * not lung either.  A lung is at least LUNG_MIN_ML.
 */
static int
lungs_pick(const struct heart_masks *an, const uint8_t *fov, const float *cv,
    const int32_t *lab, const struct cc_stats *st, size_t nst, double vox_ml,
    uint8_t *lung)
{
	size_t	 plane = (size_t)an->dims[0] * an->dims[1], i, p;
	int	 W = an->dims[0], H = an->dims[1], x, y, k;
	long	*touch = NULL, *pure = NULL, nring = 0, tissue = 0;
	int	 cut;
	uint8_t	*ring = NULL, *keep = NULL;

	if ((touch = calloc(nst + 1, sizeof(*touch))) == NULL ||
	    (pure = calloc(nst + 1, sizeof(*pure))) == NULL ||
	    (ring = calloc(plane, 1)) == NULL ||
	    (keep = calloc(nst + 1, 1)) == NULL) {
		free(touch);
		free(pure);
		free(ring);
		return -1;
	}
	for (i = 0; i < plane * an->dims[2]; i++)
		if (lab[i] != 0 && cv[i] < PURE_AIR_HU)
			pure[lab[i] - 1]++;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			p = (size_t)y * W + x;
			if (!fov[p])
				continue;
			ring[p] = x == 0 || y == 0 || x == W - 1 ||
			    y == H - 1 || !fov[p - 1] || !fov[p + 1] ||
			    !fov[p - W] || !fov[p + W];
		}
	for (k = 0; k < an->dims[2]; k++)
		for (p = 0; p < plane; p++) {
			if (!ring[p])
				continue;
			nring++;
			if (lab[k * plane + p] != 0)
				touch[lab[k * plane + p] - 1]++;
			else if (cv[k * plane + p] > LUNG_HU)
				tissue++;
		}
	/* Mostly tissue on the field's edge: the reconstruction cuts the
	 * body, and the lungs may reach the edge. */
	cut = nring > 0 && tissue >= BODY_CUT_SHARE * (double)nring;
	log_debug("field of view: %.0f %% of its edge is tissue: %s", nring > 0 ?
	    100.0 * tissue / nring : 0.0, cut ? "the body is cut" :
	    "the body is within it");
	for (i = 0; i < nst; i++) {
		double	 ml = st[i].count * vox_ml;
		double	 mean = st[i].sum / (double)st[i].count;
		double	 share = pure[i] / (double)st[i].count;

		keep[i + 1] = ml >= LUNG_MIN_ML && share < PURE_AIR_SHARE &&
		    (cut || touch[i] == 0);
		if (ml >= LUNG_MIN_ML)
			log_debug("air component %zu: %.0f mL, mean %.0f HU,"
			    " %.0f %% air, %ld voxels on the field's edge,"
			    " z %d-%d: %s", i, ml, mean, share * 100.0,
			    touch[i], st[i].z0, st[i].z1,
			    keep[i + 1] ? "lung" : "not lung");
	}
	for (i = 0; i < plane * an->dims[2]; i++)
		lung[i] = keep[lab[i]];
	free(touch);
	free(pure);
	free(ring);
	free(keep);
	return 0;
}

/*
 * The top of the right dome of the diaphragm (the liver's), as patient z:
 * the height that DOME_AREA_CM2 of the right lung's floors reach (the
 * floor of a column is its lowest lung voxel, with tissue under it) in
 * the outer part of the right chest,
 * beyond DOME_OUTER of the way from the middle of the lungs to their
 * right edge, where the heart never reaches and the dome's top, in the
 * midclavicular line, does.  The lungs' middle and edge are taken on the
 * slice where they are widest.  Returns 1 and sets *zdome, or 0 when no
 * such floor is in view (the scan ends above the diaphragm).
 */
static int
dome_top(const struct series_volume *v, const struct heart_masks *an,
    const float *cv, const uint8_t *lung, int up, double *zdome)
{
	size_t	 plane = (size_t)an->dims[0] * an->dims[1], p;
	int	 W = an->dims[0], nz = an->dims[2], k, kk, x, y, kw = -1;
	int	 xlo, xhi, best = -1, kb, gap;
	long	 cnt, wmax = 0, *hist;
	double	 mid, lim, pz[3], right;

	/* The widest slice of the lungs, and their extent on it. */
	for (k = 0; k < nz; k++) {
		cnt = 0;
		for (p = 0; p < plane; p++)
			cnt += lung[k * plane + p];
		if (cnt > wmax) {
			wmax = cnt;
			kw = k;
		}
	}
	if (kw == -1)
		return 0;
	xlo = W;
	xhi = -1;
	for (p = 0; p < plane; p++)
		if (lung[kw * plane + p]) {
			x = (int)(p % W);
			if (x < xlo)
				xlo = x;
			if (x > xhi)
				xhi = x;
		}
	mid = (xlo + xhi) / 2.0;
	gap = (int)ceil(DOME_UNDER_MM / an->sp[2]);
	if ((hist = calloc(nz, sizeof(*hist))) == NULL)
		return 0;
	/* The patient's right is -x; row[0] says where that is. */
	right = v->row[0] >= 0.0 ? -1.0 : 1.0;
	lim = mid + right * DOME_OUTER * (xhi - xlo) / 2.0;
	for (y = 0; y < an->dims[1]; y++)
		for (x = 0; x < W; x++) {
			if ((x - lim) * right < 0.0)
				continue;
			p = (size_t)y * W + x;
			for (kk = 0; kk < nz; kk++) {
				k = up > 0 ? kk : nz - 1 - kk;
				if (lung[k * plane + p])
					break;
			}
			/* A floor with the liver, not air, under it (past
			 * the voxel that the floor shares with the lung). */
			if (kk < gap || kk == nz)
				continue;
			kb = up > 0 ? kk - gap : nz - 1 - (kk - gap);
			if (cv[kb * plane + p] < DOME_LO_HU)
				continue;
			hist[kk]++;
		}
	/* The highest floor that DOME_AREA_CM2 of floors reach: the dome
	 * is broad, the tip of a lung's edge over the heart is not. */
	for (kk = nz - 1, cnt = 0; kk > 0; kk--)
		if ((cnt += hist[kk]) * an->sp[0] * an->sp[1] / 100.0 >=
		    DOME_AREA_CM2) {
			best = kk;
			break;
		}
	free(hist);
	if (best <= 0)
		return 0;
	series_vox2pat(v, 0, 0, (up > 0 ? best : nz - 1 - best) * an->sp[2] /
	    v->spacing[2], pz);
	*zdome = pz[2];
	return 1;
}

/*
 * The abdomen, as far as the heart's search needs it: the voxels under
 * the lungs' floor where that floor is the diaphragm's (no higher than
 * DOME_ABOVE_MM over the domes' top: the liver's and spleen's domes,
 * capped by the lungs' bases), and every voxel lower than
 * DOME_HEART_MM under the domes' top.  The heart's lower wall lies on
 * the diaphragm, at about the height of the right dome; the lungs' front
 * edges over the heart end higher, and what they cap is heart.  Without
 * a dome in view, nothing is abdomen.
 */
static void
abdomen_mask(const struct series_volume *v, const struct heart_masks *an,
    const uint8_t *lung, int up, int have_dome, double zdome, uint8_t *out)
{
	size_t	 plane = (size_t)an->dims[0] * an->dims[1], p;
	int	 k, nz = an->dims[2], kk, kf;
	double	*zk, pz[3];

	memset(out, 0, plane * nz);
	if (!have_dome || (zk = malloc(nz * sizeof(*zk))) == NULL)
		return;
	for (k = 0; k < nz; k++) {
		series_vox2pat(v, 0, 0, k * an->sp[2] / v->spacing[2], pz);
		zk[k] = pz[2];
	}
	for (p = 0; p < plane; p++) {
		/* From the feet up to the first lung voxel: the floor. */
		for (kk = 0; kk < nz; kk++) {
			k = up > 0 ? kk : nz - 1 - kk;
			if (lung[k * plane + p])
				break;
		}
		kf = kk;
		for (kk = 0; kk < nz; kk++) {
			k = up > 0 ? kk : nz - 1 - kk;
			if (zk[k] < zdome - DOME_HEART_MM ||
			    (kf < nz && kk < kf && zk[up > 0 ? kf :
			    nz - 1 - kf] <= zdome + DOME_ABOVE_MM))
				out[k * plane + p] = 1;
		}
	}
	free(zk);
}

/* One pass of a box filter along one axis: out[i] = any (dilate) or all
 * (erode; outside the volume counts as background) of in over i - r ..
 * i + r on that axis.  cnt holds n + 1 counts. */
void
heart_box_pass(uint8_t *out, const uint8_t *in, const int dims[3],
    int axis, int r, int erode, int *cnt)
{
	size_t	 stride[3], base, i;
	int	 n = dims[axis], a, b, j, o1, o2, u, w;

	stride[0] = 1;
	stride[1] = (size_t)dims[0];
	stride[2] = (size_t)dims[0] * dims[1];
	/* The two other axes. */
	a = axis == 0 ? 1 : 0;
	b = axis == 2 ? 1 : 2;
	for (o2 = 0; o2 < dims[b]; o2++)
		for (o1 = 0; o1 < dims[a]; o1++) {
			base = o1 * stride[a] + o2 * stride[b];
			cnt[0] = 0;
			for (j = 0; j < n; j++)
				cnt[j + 1] = cnt[j] +
				    (in[base + j * stride[axis]] != 0);
			for (j = 0; j < n; j++) {
				u = j - r < 0 ? 0 : j - r;
				w = j + r > n - 1 ? n - 1 : j + r;
				i = base + j * stride[axis];
				if (erode)
					out[i] = j - r >= 0 && j + r <= n - 1 &&
					    cnt[w + 1] - cnt[u] == 2 * r + 1;
				else
					out[i] = cnt[w + 1] - cnt[u] > 0;
			}
		}
}

/*
 * Binary erosion or dilation by a box of half-width mm_xy in the slice
 * plane and mm_z along the slices, on the coarse grid, whose slices may
 * be thicker than its pixels (the thick slices of a routine chest CT).
 * A radius of 0 leaves that axis alone.  Outside the volume is
 * background.  Returns 0, or -1 when out of memory.
 */
static int
morph_mm(const struct heart_masks *an, uint8_t *out, const uint8_t *in,
    enum morph_op op, double mm_xy, double mm_z)
{
	size_t	 n = (size_t)an->dims[0] * an->dims[1] * an->dims[2];
	int	 r[3], a, mx = 0, *cnt;
	uint8_t	*t;

	for (a = 0; a < 3; a++) {
		r[a] = (int)lround((a < 2 ? mm_xy : mm_z) / an->sp[a]);
		if ((a < 2 ? mm_xy : mm_z) > 0.0 && r[a] < 1)
			r[a] = 1;
		if (an->dims[a] > mx)
			mx = an->dims[a];
	}
	if ((t = malloc(n)) == NULL ||
	    (cnt = malloc(((size_t)mx + 1) * sizeof(*cnt))) == NULL) {
		free(t);
		return -1;
	}
	memcpy(out, in, n);
	for (a = 0; a < 3; a++) {
		if (r[a] == 0)
			continue;
		memcpy(t, out, n);
		heart_box_pass(out, t, an->dims, a, r[a], op == MORPH_ERODE,
		    cnt);
	}
	free(t);
	free(cnt);
	return 0;
}

#define MORPH(o, i, op, xy, z) do { \
	if (morph_mm(an, (o), (i), (op), (xy), (z)) == -1) { \
		(void)snprintf(err, errlen, "out of memory"); goto fail; } \
	} while (0)

static int
float_cmp(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/*
 * Contrast in the blood, seen in the image.  The heart's search above
 * takes unenhanced blood and myocardium (SOFT_LO to SOFT_HI); enhanced
 * blood (150-500 HU) falls outside that band, and the heart may then be
 * missed or something else taken for it.  So the mediastinum is searched
 * once more with a band that holds enhanced blood too (SOFT_LO to
 * ENH_HI_HU): its largest part, cut at its thin bridges, is the heart
 * with the great vessels whatever the phase, and bone that touches them
 * (the spine) is a small part of it.  The median CT number of its depth
 * (ENH_DEEP_MM in) is the blood's: 30-60 HU without contrast, over
 * 100 HU with it (cac.c's CONTRAST_BLOOD_HU).  Sets an->enh_ml (the
 * part's volume) and an->enh_hu (that median, NAN when there is none).
 * mask is the band's candidates (hull, not lung, not abdomen) and is
 * overwritten; tmp is scratch.  Returns 0 or -1.
 */
static int
enhanced(struct compute *c, struct heart_masks *an, const float *cv,
    uint8_t *mask, uint8_t *tmp, int32_t *lab, double vox_ml)
{
	size_t		 n = (size_t)an->dims[0] * an->dims[1] * an->dims[2];
	size_t		 nst = 0, i, m = 0;
	struct cc_stats	*st = NULL;
	float		*val = NULL;
	double		 best = 0.0;
	int		 ib = -1, rc = -1;

	an->enh_ml = 0.0;
	an->enh_hu = NAN;
	if (morph_mm(an, tmp, mask, MORPH_ERODE, HEART_NECK_MM,
	    HEART_NECK_MM) == -1)
		goto fail;
	if (compute_label(c, lab, tmp, NULL, an->dims, 6, &st, &nst) == -1)
		goto fail;
	for (i = 0; i < nst; i++)
		if (st[i].count * vox_ml > best) {
			best = st[i].count * vox_ml;
			ib = (int)i;
		}
	if (ib == -1) {
		rc = 0;
		goto fail;
	}
	an->enh_ml = best;
	for (i = 0; i < n; i++)
		tmp[i] = lab[i] == ib + 1;
	if (morph_mm(an, mask, tmp, MORPH_ERODE, ENH_DEEP_MM, ENH_DEEP_MM) ==
	    -1 || (val = malloc(n * sizeof(*val))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (mask[i])
			val[m++] = cv[i];
	if (m > 0) {
		qsort(val, m, sizeof(*val), float_cmp);
		an->enh_hu = val[m / 2];
	}
	log_debug("mediastinum with enhanced blood's band: %.0f mL, median"
	    " %.0f HU in its depth", an->enh_ml, an->enh_hu);
	rc = 0;
fail:
	free(st);
	free(val);
	return rc;
}

#define CHECK(x) do { if ((x) == -1) { \
	(void)snprintf(err, errlen, "compute: %s", compute_error(c)); \
	goto fail; } } while (0)

static int
find_heart(struct compute *c, const struct series_volume *v, double fkv,
    struct anat_heart *h, struct heart_masks *an, char *err, size_t errlen)
{
	double		 osp[3], vox_ml, best, p[3], *area = NULL;
	float		*cv = NULL;
	uint8_t		*air = NULL, *soft = NULL, *tmp = NULL, *fov = NULL;
	uint8_t		*abd = NULL;
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	size_t		 n, nst = 0, i, plane;
	int		 dims[3] = { v->nx, v->ny, v->nz }, (*pts)[2] = NULL;
	int		 (*hp)[2] = NULL, k, kmax, kroot, ib;
	double		 sum[3], cnt, amax;
	int		 up, rc = -1, hd;
	double		 zdome = 0.0;

	for (i = 0; i < 3; i++)
		osp[i] = v->spacing[i] > COARSE_MM ? v->spacing[i] : COARSE_MM;
	compute_resample_dims(dims, v->spacing, osp, an->dims);
	memcpy(an->sp, osp, sizeof(osp));
	plane = (size_t)an->dims[0] * an->dims[1];
	n = plane * an->dims[2];
	vox_ml = osp[0] * osp[1] * osp[2] / 1000.0;
	if ((cv = malloc(n * sizeof(*cv))) == NULL ||
	    (air = calloc(n, 1)) == NULL || (soft = calloc(n, 1)) == NULL ||
	    (tmp = calloc(n, 1)) == NULL || (fov = calloc(plane, 1)) == NULL ||
	    (abd = calloc(n, 1)) == NULL ||
	    (an->hull = calloc(n, 1)) == NULL ||
	    (an->heart = calloc(n, 1)) == NULL ||
	    (an->shell = calloc(n, 1)) == NULL ||
	    (an->deep = calloc(n, 1)) == NULL ||
	    (an->bone = calloc(n, 1)) == NULL ||
	    (an->wall = calloc(n, 1)) == NULL ||
	    (lab = malloc(n * sizeof(*lab))) == NULL ||
	    (pts = malloc(2 * (size_t)an->dims[1] * sizeof(*pts))) == NULL ||
	    (hp = malloc((2 * (size_t)an->dims[1] + 2) * sizeof(*hp))) == NULL ||
	    (area = calloc((size_t)an->dims[2], sizeof(*area))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	CHECK(compute_resample(c, cv, an->dims, v->vox, dims, v->spacing,
	    osp));

	/* The lungs: air inside the body, within the reconstruction. */
	fov_plane(v, an, fov);
	CHECK(compute_threshold(c, air, cv, n, -3000.0f, (float)LUNG_HU));
	for (i = 0; i < n; i++)
		air[i] = air[i] && fov[i % plane];
	CHECK(compute_label(c, lab, air, cv, an->dims, 6, &st, &nst));
	if (lungs_pick(an, fov, cv, lab, st, nst, vox_ml, air) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	free(st);
	st = NULL;
	for (k = 0; k < an->dims[2]; k++)
		slice_hull(air + k * plane, an->hull + k * plane,
		    an->dims[0], an->dims[1], pts, hp);

	/* The soft tissue of the mediastinum, eroded; its largest part. */
	CHECK(compute_threshold(c, soft, cv, n, (float)SOFT_LO,
	    (float)SOFT_HI));
	up = step_z(v) >= 0.0 ? 1 : -1;
	hd = dome_top(v, an, cv, air, up, &zdome);
	log_debug("domes of the diaphragm: %s %.0f", hd ? "top at z" :
	    "not in view", hd ? zdome : 0.0);
	an->have_dome = hd;
	an->zdome = zdome;
	abdomen_mask(v, an, air, up, hd, zdome, abd);
	for (i = 0; i < n; i++)
		soft[i] = soft[i] && an->hull[i] && !air[i] && !abd[i];
	MORPH(tmp, soft, MORPH_ERODE, HEART_NECK_MM, HEART_NECK_MM);
	CHECK(compute_label(c, lab, tmp, NULL, an->dims, 6, &st, &nst));
	best = 0.0;
	ib = -1;
	for (i = 0; i < nst; i++)
		if (st[i].count * vox_ml > best) {
			best = st[i].count * vox_ml;
			ib = (int)i;
		}
	h->found = ib != -1 && best >= HEART_MIN_ML / 4.0;
	if (h->found) {
		for (i = 0; i < n; i++)
			tmp[i] = lab[i] == ib + 1;
		MORPH(an->heart, tmp, MORPH_DILATE, HEART_NECK_MM,
		    HEART_NECK_MM);
		cnt = 0;
		for (i = 0; i < n; i++) {
			an->heart[i] = an->heart[i] && soft[i];
			cnt += an->heart[i];
		}
		an->heart_ml = cnt * vox_ml;
		h->found = an->heart_ml >= HEART_MIN_ML;
	}
	if (h->found) {
		/* The aortic root: up from the widest slice, the first one under
		 * ROOT_FRACTION of it.  "Up" is the patient's +z. */
		amax = 0;
		kmax = 0;
		for (k = 0; k < an->dims[2]; k++) {
			for (i = 0; i < plane; i++)
				area[k] += an->heart[k * plane + i];
			if (area[k] > amax) {
				amax = area[k];
				kmax = k;
			}
		}
		/* The great vessels go on up; the heart's lower wall
		 * must be in view. */
		an->at_end = area[up > 0 ? 0 : an->dims[2] - 1] > 0;
		kroot = kmax;
		while (kroot + up >= 0 && kroot + up < an->dims[2] &&
		    area[kroot] >= ROOT_FRACTION * amax)
			kroot += up;
		/* The root: in the axial plane, the centre of the great vessels
		 * 4 to 20 mm above the root level; its height, the root level.
		 * The heart's centre: of the mask below the root level. */
		memset(sum, 0, sizeof(sum));
		cnt = 0;
		for (k = 0; k < an->dims[2]; k++) {
			double	 rel = (k - kroot) * up * osp[2];

			if (rel < 4.0 || rel > 20.0)
				continue;
			slice_sums(an, k, sum, &cnt);
		}
		if (cnt == 0)		/* nothing above: the top of the heart */
			slice_sums(an, kroot, sum, &cnt);
		if (cnt == 0)
			cnt = 1;
		series_vox2pat(v, sum[0] / cnt * osp[0] / v->spacing[0],
		    sum[1] / cnt * osp[1] / v->spacing[1],
		    kroot * osp[2] / v->spacing[2], h->root);
		memset(sum, 0, sizeof(sum));
		cnt = 0;
		h->zlo = INFINITY;
		h->zhi = -INFINITY;
		for (k = 0; k < an->dims[2]; k++) {
			if (area[k] == 0)
				continue;
			series_vox2pat(v, 0, 0, k * osp[2] / v->spacing[2], p);
			if (p[2] < h->zlo)
				h->zlo = p[2];
			if (p[2] > h->zhi)
				h->zhi = p[2];
			if ((k - kroot) * up < 0)
				slice_sums(an, k, sum, &cnt);
		}
		if (cnt == 0)
			cnt = 1;
		series_vox2pat(v, sum[0] / cnt * osp[0] / v->spacing[0],
		    sum[1] / cnt * osp[1] / v->spacing[1],
		    sum[2] / cnt * osp[2] / v->spacing[2], h->center);
		series_vox2pat(v, 0, 0, kroot * osp[2] / v->spacing[2], p);
		an->root_z = p[2];

		/*
		 * The chest's cavity: on each slice the convex hull of the lungs,
		 * and CAVITY_MM more.  The heart lies against the front chest wall;
		 * calcified costal cartilage there is near the heart but in front
		 * of the line between the lungs' front edges, while the coronary
		 * arteries run in the heart's grooves, behind it.
		 */
		memcpy(tmp, an->hull, n);
		MORPH(an->hull, tmp, MORPH_DILATE, CAVITY_MM, CAVITY_MM);

		/* The shell where the coronary arteries run, and the heart's
		 * depths, where calcium is in valves or the annulus. */
		MORPH(an->shell, an->heart, MORPH_DILATE, SHELL_MM, SHELL_MM);
		MORPH(an->deep, an->heart, MORPH_ERODE, DEEP_MM, DEEP_MM);

	}

	/* Bone: large dense structures (ribs, sternum, spine), and a
	 * margin round them, where calcium belongs to the bone or its
	 * cartilage. */
	CHECK(compute_threshold(c, tmp, cv, n, (float)(BONE_HU * fkv),
	    INFINITY));
	free(st);
	st = NULL;
	CHECK(compute_label(c, lab, tmp, NULL, an->dims, 26, &st, &nst));
	for (i = 0; i < n; i++)
		tmp[i] = lab[i] != 0 && st[lab[i] - 1].count * vox_ml >=
		    BONE_MIN_ML;
	MORPH(an->bone, tmp, MORPH_DILATE, BONE_NEAR_MM, BONE_NEAR_MM);

	/*
	 * The chest wall: on each slice, the band WALL_MM deep inside the
	 * outline of the bony cage (ribs, costal cartilage, sternum and
	 * spine: the convex hull of their bone, on the slice and within
	 * WALL_SLAB_MM of it, as the ribs run obliquely).  Calcified costal
	 * cartilage lies in it, beside the sternum; the heart's front lies
	 * deeper, behind the sternum and the fat in front of the heart.
	 */
	MORPH(soft, tmp, MORPH_DILATE, 0.0, WALL_SLAB_MM);
	for (k = 0; k < an->dims[2]; k++)
		slice_hull(soft + k * plane, an->wall + k * plane,
		    an->dims[0], an->dims[1], pts, hp);
	MORPH(soft, an->wall, MORPH_ERODE, WALL_MM, 0.0);
	for (i = 0; i < n; i++)
		an->wall[i] = an->wall[i] && !soft[i];

	/* Contrast: the blood's CT number, whatever the phase. */
	CHECK(compute_threshold(c, soft, cv, n, (float)SOFT_LO,
	    (float)ENH_HI_HU));
	for (i = 0; i < n; i++)
		soft[i] = soft[i] && an->hull[i] && !air[i] && !abd[i];
	CHECK(enhanced(c, an, cv, soft, tmp, lab, vox_ml));
	an->lung_ml = 0.0;
	for (i = 0; i < n; i++)
		an->lung_ml += air[i];
	an->lung_ml *= vox_ml;
	rc = 0;
fail:
	free(st);
	free(cv);
	free(air);
	free(soft);
	free(tmp);
	free(fov);
	free(abd);
	free(lab);
	free(pts);
	free(hp);
	free(area);
	return rc;
}

/*
 * The heart's blood and the image's noise, measured in the depth of the
 * heart (the coarse mask deep, sampled at its voxels' centres): the
 * median CT number, which is that of blood and myocardium (30-60 HU
 * without contrast, 150 HU and more with it), and the noise, from the
 * differences of neighbouring voxels (the median absolute difference,
 * which anatomy barely moves: 1.4826 / sqrt 2 of it estimates the
 * standard deviation of white noise).  -1 when out of memory; 0 and NAN
 * figures when the depth is empty.
 */
static int
heart_stats(const struct series_volume *v, const struct heart_masks *an,
    double *blood, double *noise)
{
	size_t	 plane = (size_t)an->dims[0] * an->dims[1], i, m = 0;
	float	*val, *dif;
	long	 x, y, z;
	const float *p;

	*blood = *noise = NAN;
	if ((val = malloc(plane * an->dims[2] * sizeof(*val))) == NULL)
		return -1;
	if ((dif = malloc(plane * an->dims[2] * sizeof(*dif))) == NULL) {
		free(val);
		return -1;
	}
	for (i = 0; i < plane * an->dims[2]; i++) {
		if (!an->deep[i])
			continue;
		x = lround((i % an->dims[0]) * an->sp[0] / v->spacing[0]);
		y = lround((i / an->dims[0] % an->dims[1]) * an->sp[1] /
		    v->spacing[1]);
		z = lround((i / plane) * an->sp[2] / v->spacing[2]);
		if (x + 1 >= v->nx || y >= v->ny || z >= v->nz)
			continue;
		p = v->vox + ((size_t)z * v->ny + y) * v->nx + x;
		val[m] = p[0];
		dif[m++] = fabsf(p[1] - p[0]);
	}
	if (m > 0) {
		qsort(val, m, sizeof(*val), float_cmp);
		qsort(dif, m, sizeof(*dif), float_cmp);
		*blood = val[m / 2];
		*noise = dif[m / 2] * 1.4826 / sqrt(2.0);
	}
	free(val);
	free(dif);
	return 0;
}

int
heart_find(struct compute *c, const struct series_volume *v,
    struct anat_heart *out, char *err, size_t errlen)
{
	struct heart_masks *an;
	double		 kvp;

	memset(out, 0, sizeof(*out));
	out->blood_hu = NAN;
	if ((an = calloc(1, sizeof(*an))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->priv = an;
	an->noise_hu = NAN;
	/* Bone's threshold scales with the tube voltage as calcium's. */
	kvp = isfinite(v->kvp) && v->kvp > 0.0 ? v->kvp : 120.0;
	if (find_heart(c, v, heart_kv_factor(kvp), out, an, err, errlen) == -1)
		goto fail;
	if (out->found) {
		out->volume_ml = an->heart_ml;
		if (heart_stats(v, an, &out->blood_hu, &an->noise_hu) == -1) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		log_debug("heart: %.0f mL, z %.0f to %.0f; blood %.0f HU,"
		    " noise %.1f HU", an->heart_ml, out->zlo, out->zhi,
		    out->blood_hu, an->noise_hu);
	} else if (an->lung_ml < LUNG_MIN_ML)
		(void)snprintf(out->why, sizeof(out->why), "图像中未见肺组织，"
		    "无法定位心脏");
	else
		(void)snprintf(out->why, sizeof(out->why), "未能在两肺之间、"
		    "膈肌以上定位心脏");
	return 0;
fail:
	heart_free(out);
	return -1;
}

void
heart_free(struct anat_heart *h)
{
	struct heart_masks *an = h->priv;

	if (an != NULL) {
		free(an->hull);
		free(an->heart);
		free(an->shell);
		free(an->deep);
		free(an->bone);
		free(an->wall);
		free(an);
	}
	memset(h, 0, sizeof(*h));
}
