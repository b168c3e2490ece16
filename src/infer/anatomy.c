/*
 * anatomy.c - the chest anatomy that the CT readers share (anatomy.h).
 *
 * The passes, on a coarse copy of the volume (COARSE_MM, trilinear) where
 * only the choice of the parts matters, and at full resolution where the
 * mask itself is the result:
 *  1. the field of view: columns that hold only the scanner's padding
 *     through every slice are outside the reconstruction circle;
 *  2. the air inside the field (below LUNG_HU, above PADDING_HU) in 3-D
 *     components (6-connected); those that reach the field's edge are
 *     outside air, unless the field cuts the body (its edge mostly
 *     tissue), when the lungs reach the edge too and what tells them from
 *     outside air is their texture and shape: lung is not pure air, nor
 *     air on average, and little of it lies on the edge, where outside
 *     air is a shell along it (Hu, Hoffman, Reinhardt, 2001, threshold
 *     and components; the pure-air test as in the calcium reader); a
 *     lung is at least LUNG_MIN_SHARE of the largest;
 *  3. the body: the largest 3-D component of tissue with the lungs, its
 *     holes filled on each slice;
 *  4. the trachea: a round air column near the midline on the top slices,
 *     grown at full resolution wave by wave (6-connected) down the
 *     trachea into the main bronchi, at thresholds rising from -950 HU; a
 *     wave much larger than the waves a few steps before is the growth
 *     leaking into the lung, and the last threshold that does not leak is
 *     kept (explosion control, Mori et al., 1996; wavefront growth, De
 *     Nunzio et al., 2011); the lumen's rim of partial volume is added;
 *  5. right and left: the lungs without the airways, on a grid of twice
 *     the coarse spacing, eroded until they fall in two (Hu et al., 2001,
 *     who erode until two components or cut the junction along its
 *     densest line), and grown back on the coarse grid along the
 *     geodesic distance within the lungs, so that the split lies on the
 *     junction; the side with the lower patient x is the right lung (LPS);
 *  6. at full resolution, per side and slice, the holes filled and the
 *     pleural indentations of juxtapleural nodules and vessels closed by
 *     a disk of CLOSE_MM on a grid of about CLOSE_GRID_MM (the
 *     morphological smoothing of the lung border, Hu et al., 2001; the
 *     rolling ball of Armato and Sensakovic, 2004; distances by
 *     Felzenszwalb and Huttenlocher, 2012); what the closing adds is grown
 *     by one pixel of that grid, so that a nodule's base on the pleura is
 *     inside; the closing of one side never takes the other's voxels, nor
 *     bone (CLOSE_BONE_HU: the vertebrae, rib heads and osteophytes in
 *     the concavities it bridges), nor what bone cuts off from the lung;
 *  7. whether the lungs are whole: the lungs' area on the end slices of
 *     the series (apices and bases), and the field's edge;
 *  8. the spine: on each slice, the centre of the largest inscribed
 *     circle of the bone near the midline behind the body's middle,
 *     within a vertebral body's depth of its front (the vertebral body;
 *     chamfer distance, Borgefors, 1986).
 *
 * The image is taken as the scanner writes a supine chest: rows from the
 * patient's front to back (the column direction along +y) for the spine's
 * front; the sides use the patient coordinates.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "anatomy.h"
#include "heart.h"
#include "lobes.h"
#include "log.h"

#define COARSE_MM	2.0		/* the coarse grid */
#define PADDING_HU	-1500.0		/* below: the scanner's padding */
#define LUNG_HU		-400.0		/* air and lung below */
#define LUNG_MIN_ML	30.0
#define LUNG_MIN_SHARE	0.05		/* of the largest lung component */
#define PURE_AIR_HU	-975.0		/* air, not lung tissue */
#define PURE_AIR_SHARE	0.5		/* of a lung's voxels, at most */
#define BODY_CUT_SHARE	0.3		/* tissue on the field's edge */
/* Of a lung's voxels on the field's edge, at most: air outside the body
 * is a shell along the edge, a few voxels thick (its share is the
 * inverse of its thickness), where a lung cut by the field is deep
 * behind its cut face.  The phantom's lungs cut by a 220 mm field have
 * 3.7 %, those of LIDC-IDRI-0002 cut to 210 mm 2.9 %; the air round the
 * latter cut to 210 or 260 mm, 8.5-18.7 %. */
#define EDGE_SHARE	0.06
#define EDGE_AIR_HU	-900.0		/* air on the field's edge, on
					 * average below: not lung (some
					 * scanners read air at -930) */
#define AIRWAY_HU	-900.0		/* the trachea's lumen, when seeking it */
#define AIRWAY_MAX_ML	200.0
#define TRACHEA_MIN_MM2	120.0		/* 12 mm across */
#define TRACHEA_MAX_MM2	1000.0		/* 36 mm across */
#define TRACHEA_OFF_MM	35.0		/* from the body's midline */
#define TRACHEA_SEEK_MM	80.0		/* down from the top */
#define WAVE_BACK	8		/* waves compared */
#define WAVE_GROWTH	2.5		/* a leak's growth over them */
#define WAVE_UNDO	12		/* waves taken back after a leak */
#define RIM_STEPS	4		/* the lumen's rim, voxels */
#define SIDE_ERODE_MAX	6		/* erosions, of twice the coarse
					 * spacing */
#define SIDE_MIN_SHARE	0.2		/* the smaller lung, of the larger */
#define CLOSE_MM	15.0		/* the pleural closing's radius */
#define CLOSE_GRID_MM	1.4		/* the closing's grid, about */
#define CLOSE_BONE_HU	300.0		/* the closing adds no bone */
#define END_SHARE	0.03		/* of the widest slice's lung area */
#define BONE_HU		100.0		/* the trabecular bone of the elderly
					 * too (Schreiber et al., 2011) */
#define SPINE_OFF_MM	30.0
#define SPINE_MIN_MM2	300.0
#define SPINE_BODY_MM	30.0		/* a vertebral body's depth */
#define SPINE_SOLID_MM	8.0		/* its inscribed circle, at least */

const char *const lung_side_zh[LUNG_SIDE__MAX] = {
	[LUNG_NONE] = "",
	[LUNG_RIGHT] = "右肺",
	[LUNG_LEFT] = "左肺",
};

const char *const lobe_zh[LOBE__MAX] = {
	[LOBE_NONE] = "",
	[LOBE_RUL] = "右肺上叶",
	[LOBE_RML] = "右肺中叶",
	[LOBE_RLL] = "右肺下叶",
	[LOBE_LUL] = "左肺上叶",
	[LOBE_LLL] = "左肺下叶",
};

/* The coarse copy and what is found on it. */
struct coarse {
	int		 dims[3];
	double		 osp[3];
	size_t		 plane, n;
	double		 vox_ml;
	float		*cv;
	uint8_t		*fov;		/* plane: inside the reconstruction */
	uint8_t		*ring;		/* plane: the field's edge */
	uint8_t		*lung;		/* the lung components */
	uint8_t		*body;		/* holes filled per slice */
	int		*ix, *iy, *iz;	/* full voxel -> coarse voxel */
	int		 cut;		/* the field cuts the body */
	int		 lung_edge;	/* a lung reaches the field's edge */
	int		 bb[6];		/* the lungs' box, coarse */
};

/* The anatomy of the last series, and its coarse pass, kept for the
 * parts asked for later. */
struct anatomy_cache {
	struct anatomy	 an;
	int		 used;
	struct coarse	 co;
	int		 have_co;
};

#define CHECK(call) do { \
	if ((call) == -1) { \
		(void)snprintf(err, errlen, "%s", compute_error(c)); \
		goto fail; } \
	} while (0)
#define ALLOC(p, n) do { \
	if (((p) = calloc((n), sizeof(*(p)))) == NULL) { \
		(void)snprintf(err, errlen, "out of memory"); \
		goto fail; } \
	} while (0)

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Patient x of (fractional) voxel i, j, k of v. */
static double
pat_x(const struct series_volume *v, double i, double j, double k)
{
	return v->origin[0] + i * v->spacing[0] * v->row[0] +
	    j * v->spacing[1] * v->col[0] + k * v->step[0];
}

/* The volume's slice step along the patient's z (signed), mm. */
static double
step_z(const struct series_volume *v)
{
	return v->step[2] != 0.0 ? v->step[2] : v->spacing[2] * v->normal[2];
}

/*
 * Fill the holes of the binary image m (w x h, nonzero foreground)
 * within the box x0..x1, y0..y1: the background not reached from the
 * box's border (4-connected) becomes 1.  stk holds w * h entries.
 */
static void
fill_holes(uint8_t *m, int w, int x0, int y0, int x1, int y1, int *stk)
{
	int	 x, y, sp = 0, p, px, py;

#define SEED(xx, yy) do { \
	p = (yy) * w + (xx); \
	if (m[p] == 0) { m[p] = 2; stk[sp++] = p; } \
	} while (0)
	for (x = x0; x <= x1; x++) {
		SEED(x, y0);
		SEED(x, y1);
	}
	for (y = y0; y <= y1; y++) {
		SEED(x0, y);
		SEED(x1, y);
	}
	while (sp > 0) {
		p = stk[--sp];
		px = p % w;
		py = p / w;
		if (px > x0)
			SEED(px - 1, py);
		if (px < x1)
			SEED(px + 1, py);
		if (py > y0)
			SEED(px, py - 1);
		if (py < y1)
			SEED(px, py + 1);
	}
#undef SEED
	for (y = y0; y <= y1; y++)
		for (x = x0; x <= x1; x++) {
			p = y * w + x;
			m[p] = m[p] != 2;
		}
}

/*
 * The squared Euclidean distance transform in one dimension of f (n
 * values, 0 on the feature, a large value elsewhere) into d (Felzenszwalb
 * and Huttenlocher, 2012).  v, z: n and n + 1 scratch entries.
 */
static void
edt1(const float *f, float *d, int n, int *v, float *z)
{
	int	 k = 0, q;
	float	 s;

	v[0] = 0;
	z[0] = -INFINITY;
	z[1] = INFINITY;
	for (q = 1; q < n; q++) {
		for (;;) {
			s = ((f[q] + (float)q * q) - (f[v[k]] +
			    (float)v[k] * v[k])) / (2.0f * (float)(q - v[k]));
			if (s > z[k] || k == 0)
				break;
			k--;
		}
		k++;
		v[k] = q;
		z[k] = s;
		z[k + 1] = INFINITY;
	}
	k = 0;
	for (q = 0; q < n; q++) {
		while (z[k + 1] < (float)q)
			k++;
		d[q] = (float)(q - v[k]) * (float)(q - v[k]) + f[v[k]];
	}
}

/* Scratch of the 2-D distance transform. */
struct edt_buf {
	float	*f, *d, *z;
	int	*v;
};

/* d[i] = the squared distance (pixels) of pixel i of the w x h image m
 * to the nearest pixel where m is (want). */
static void
edt2(const uint8_t *m, int want, int w, int h, float *out,
    struct edt_buf *b)
{
	int	 x, y;
	float	 big = (float)(w + h) * (w + h);

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++)
			b->f[x] = (m[y * w + x] != 0) == want ? 0.0f : big;
		edt1(b->f, b->d, w, b->v, b->z);
		for (x = 0; x < w; x++)
			out[y * w + x] = b->d[x];
	}
	for (x = 0; x < w; x++) {
		for (y = 0; y < h; y++)
			b->f[y] = out[y * w + x];
		edt1(b->f, b->d, h, b->v, b->z);
		for (y = 0; y < h; y++)
			out[y * w + x] = b->d[y];
	}
}

static void
coarse_free(struct coarse *co)
{
	free(co->cv);
	free(co->fov);
	free(co->ring);
	free(co->lung);
	free(co->body);
	free(co->ix);
	free(co->iy);
	free(co->iz);
	memset(co, 0, sizeof(*co));
}

/* The coarse voxel of full voxel index i. */
static size_t
c_of(const struct coarse *co, const struct series_volume *v, size_t i)
{
	size_t	 pl = (size_t)v->nx * v->ny;
	int	 z = (int)(i / pl), y = (int)(i % pl / v->nx),
		 x = (int)(i % v->nx);

	return ((size_t)co->iz[z] * co->dims[1] + co->iy[y]) * co->dims[0] +
	    co->ix[x];
}

/*
 * The field of view, as the calcium reader finds it: a column is outside
 * the reconstruction when through every slice it holds only padding
 * (below PADDING_HU, or one constant value below air); less its edge,
 * and ring the edge of what is left.
 */
static void
fov_plane(const struct series_volume *v, struct coarse *co)
{
	int	 X, Y, k, W = co->dims[0], H = co->dims[1];
	float	 lo, hi, h;
	size_t	 sl = (size_t)v->nx * v->ny, p;

#ifdef _OPENMP
#pragma omp parallel for private(X, k, lo, hi, h)
#endif
	for (Y = 0; Y < H; Y++)
		for (X = 0; X < W; X++) {
			int	 x = (int)lround(X * co->osp[0] / v->spacing[0]);
			int	 y = (int)lround(Y * co->osp[1] / v->spacing[1]);

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
			co->fov[(size_t)Y * W + X] = !(hi <= PADDING_HU ||
			    (hi - lo < 0.5f && hi <= -1010.0f));
		}
	/* The coarse voxels on the circle's edge mix the padding with what
	 * is inside and may read as air: they are left out, and the edge
	 * is the ring of voxels inside them. */
	for (k = 0; k < 2; k++) {
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++) {
				p = (size_t)Y * W + X;
				co->ring[p] = co->fov[p] && (X == 0 || Y == 0 ||
				    X == W - 1 || Y == H - 1 ||
				    !co->fov[p - 1] || !co->fov[p + 1] ||
				    !co->fov[p - W] || !co->fov[p + W]);
			}
		if (k == 0)
			for (p = 0; p < co->plane; p++)
				co->fov[p] = co->fov[p] && !co->ring[p];
	}
}

/*
 * The coarse pass: the copy, the field of view, the lungs' components
 * and the body.  Returns 0 or -1 with err.
 */
static int
coarse_build(struct compute *c, const struct series_volume *v,
    struct coarse *co, char *err, size_t errlen)
{
	int		 dims[3] = { v->nx, v->ny, v->nz }, a, k, *stk = NULL;
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	size_t		 nst = 0, i, p, best;
	long		*touch = NULL, *pure = NULL, nring = 0, tissue = 0;
	uint8_t		*m = NULL, *keep = NULL;
	int		 W, H, D, x, y, z;

	memset(co, 0, sizeof(*co));
	for (a = 0; a < 3; a++)
		co->osp[a] = v->spacing[a] > COARSE_MM ? v->spacing[a] :
		    COARSE_MM;
	compute_resample_dims(dims, v->spacing, co->osp, co->dims);
	W = co->dims[0];
	H = co->dims[1];
	D = co->dims[2];
	co->plane = (size_t)W * H;
	co->n = co->plane * D;
	co->vox_ml = co->osp[0] * co->osp[1] * co->osp[2] / 1000.0;
	ALLOC(co->cv, co->n);
	ALLOC(co->fov, co->plane);
	ALLOC(co->ring, co->plane);
	ALLOC(co->lung, co->n);
	ALLOC(co->body, co->n);
	ALLOC(co->ix, (size_t)v->nx);
	ALLOC(co->iy, (size_t)v->ny);
	ALLOC(co->iz, (size_t)v->nz);
	ALLOC(m, co->n);
	ALLOC(lab, co->n);
	ALLOC(stk, co->plane);
	for (x = 0; x < v->nx; x++) {
		co->ix[x] = (int)lround(x * v->spacing[0] / co->osp[0]);
		if (co->ix[x] > W - 1)
			co->ix[x] = W - 1;
	}
	for (y = 0; y < v->ny; y++) {
		co->iy[y] = (int)lround(y * v->spacing[1] / co->osp[1]);
		if (co->iy[y] > H - 1)
			co->iy[y] = H - 1;
	}
	for (z = 0; z < v->nz; z++) {
		co->iz[z] = (int)lround(z * v->spacing[2] / co->osp[2]);
		if (co->iz[z] > D - 1)
			co->iz[z] = D - 1;
	}
	CHECK(compute_resample(c, co->cv, co->dims, v->vox, dims, v->spacing,
	    co->osp));
	fov_plane(v, co);

	/* The air within the field, in components. */
	CHECK(compute_threshold(c, m, co->cv, co->n, (float)PADDING_HU,
	    (float)LUNG_HU));
	for (i = 0; i < co->n; i++)
		m[i] = m[i] && co->fov[i % co->plane];
	CHECK(compute_label(c, lab, m, co->cv, co->dims, 6, &st, &nst));
	ALLOC(touch, nst + 1);
	ALLOC(pure, nst + 1);
	ALLOC(keep, nst + 1);
	for (i = 0; i < co->n; i++)
		if (lab[i] != 0 && co->cv[i] < PURE_AIR_HU)
			pure[lab[i] - 1]++;
	for (k = 0; k < D; k++)
		for (p = 0; p < co->plane; p++) {
			if (!co->ring[p])
				continue;
			nring++;
			i = k * co->plane + p;
			if (lab[i] != 0)
				touch[lab[i] - 1]++;
			else if (co->cv[i] > LUNG_HU)
				tissue++;
		}
	co->cut = nring > 0 && tissue >= BODY_CUT_SHARE * (double)nring;
	/* Lung-like components; gas in the bowel that is not pure air is
	 * small beside the largest of them. */
	for (i = 0; i < nst; i++)
		keep[i + 1] = st[i].count * co->vox_ml >= LUNG_MIN_ML &&
		    pure[i] < PURE_AIR_SHARE * (double)st[i].count &&
		    (touch[i] == 0 || (co->cut && st[i].sum /
		    (double)st[i].count > EDGE_AIR_HU &&
		    touch[i] <= EDGE_SHARE * (double)st[i].count));
	best = 0;
	for (i = 0; i < nst; i++)
		if (keep[i + 1] && (size_t)st[i].count > best)
			best = (size_t)st[i].count;
	for (i = 0; i < nst; i++) {
		double	 ml = st[i].count * co->vox_ml;
		double	 share = pure[i] / (double)st[i].count;

		keep[i + 1] = keep[i + 1] && (double)st[i].count >=
		    LUNG_MIN_SHARE * (double)best;
		if (keep[i + 1] && touch[i] > 0)
			co->lung_edge = 1;
		if (ml >= LUNG_MIN_ML)
			log_debug("anatomy: air component %zu: %.0f mL, mean "
			    "%.0f HU, %.0f %% pure air, %.1f %% on the "
			    "field's edge: %s", i, ml, st[i].sum /
			    (double)st[i].count, share * 100.0, 100.0 *
			    touch[i] / (double)st[i].count,
			    keep[i + 1] ? "lung" : "not lung");
	}
	co->bb[0] = W;
	co->bb[1] = H;
	co->bb[2] = D;
	co->bb[3] = co->bb[4] = co->bb[5] = -1;
	for (i = 0; i < nst; i++)
		if (keep[i + 1]) {
			if (st[i].x0 < co->bb[0]) co->bb[0] = st[i].x0;
			if (st[i].y0 < co->bb[1]) co->bb[1] = st[i].y0;
			if (st[i].z0 < co->bb[2]) co->bb[2] = st[i].z0;
			if (st[i].x1 > co->bb[3]) co->bb[3] = st[i].x1;
			if (st[i].y1 > co->bb[4]) co->bb[4] = st[i].y1;
			if (st[i].z1 > co->bb[5]) co->bb[5] = st[i].z1;
		}
	for (i = 0; i < co->n; i++)
		co->lung[i] = keep[lab[i]];
	free(st);
	st = NULL;

	/* The body: the largest component of tissue, with the lungs. */
	CHECK(compute_threshold(c, m, co->cv, co->n, (float)LUNG_HU + 0.5f,
	    1e30f));
	for (i = 0; i < co->n; i++)
		m[i] = m[i] && co->fov[i % co->plane];
	CHECK(compute_label(c, lab, m, NULL, co->dims, 6, &st, &nst));
	best = 0;
	for (i = 1; i < nst; i++)
		if (st[i].count > st[best].count)
			best = i;
	for (i = 0; i < co->n; i++)
		co->body[i] = (nst > 0 && lab[i] == (int32_t)best + 1) ||
		    co->lung[i];
	for (k = 0; k < D; k++)
		fill_holes(co->body + k * co->plane, W, 0, 0, W - 1, H - 1,
		    stk);
	free(st);
	free(lab);
	free(m);
	free(touch);
	free(pure);
	free(keep);
	free(stk);
	return 0;
fail:
	free(st);
	free(lab);
	free(m);
	free(touch);
	free(pure);
	free(keep);
	free(stk);
	coarse_free(co);
	return -1;
}

/*
 * The body at full resolution: the coarse body, whose border band takes
 * only tissue.
 */
static int
body_full(struct compute *c, const struct series_volume *v,
    const struct coarse *co, uint8_t *body, char *err, size_t errlen)
{
	uint8_t	*er = NULL;
	size_t	 i, ci, crow;
	int	 x, y, z;

	ALLOC(er, co->n);
	CHECK(compute_morph(c, er, co->body, co->dims, MORPH_ERODE,
	    MORPH_CROSS, 1));
#ifdef _OPENMP
#pragma omp parallel for private(y, x, i, ci, crow)
#endif
	for (z = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++) {
			i = ((size_t)z * v->ny + y) * v->nx;
			crow = ((size_t)co->iz[z] * co->dims[1] + co->iy[y]) *
			    co->dims[0];
			for (x = 0; x < v->nx; x++) {
				ci = crow + co->ix[x];
				body[i + x] = co->body[ci] && (er[ci] ||
				    v->vox[i + x] > LUNG_HU);
			}
		}
	free(er);
	return 0;
fail:
	free(er);
	return -1;
}

/* A growing list of voxel indices. */
struct vlist {
	size_t	*v;
	size_t	 n, cap;
};

static int
vl_push(struct vlist *l, size_t i)
{
	size_t	*t;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		if ((t = realloc(l->v, l->cap * sizeof(*t))) == NULL)
			return -1;
		l->v = t;
	}
	l->v[l->n++] = i;
	return 0;
}

/*
 * The trachea's cross-section on the top slices: on each slice from the
 * superior end down, the 2-D components (4-connected) of the airway
 * lumen (cand, below AIRWAY_HU); the first round one of a trachea's size
 * near the body's midline.  Its voxels go to seed.  Returns 1 found, 0
 * not, -1 out of memory.
 */
static int
trachea_seed(const struct series_volume *v, const struct coarse *co,
    const uint8_t *cand, const int fb[6], struct vlist *seed)
{
	size_t		 pl = (size_t)v->nx * v->ny, p, q;
	int		 up = step_z(v) >= 0.0 ? 1 : -1, s, k, x, y, nx = v->nx;
	int		 maxs, bx0, bx1, X, Y;
	double		 pxmm2 = v->spacing[0] * v->spacing[1], mid;
	uint8_t		*seen = NULL;
	struct vlist	 comp = { 0 };
	int		 found = 0;

	if ((seen = calloc(pl, 1)) == NULL)
		return -1;
	maxs = (int)(TRACHEA_SEEK_MM / v->spacing[2]) + 1;
	for (s = 0; s < maxs && s <= fb[5] - fb[2] && !found; s++) {
		double	 bestd = INFINITY;
		size_t	 bestn = 0;

		k = up > 0 ? fb[5] - s : fb[2] + s;
		/* The body's midline on this slice, from the coarse body. */
		bx0 = co->dims[0];
		bx1 = -1;
		for (Y = 0; Y < co->dims[1]; Y++)
			for (X = 0; X < co->dims[0]; X++)
				if (co->body[((size_t)co->iz[k] * co->dims[1] +
				    Y) * co->dims[0] + X]) {
					if (X < bx0) bx0 = X;
					if (X > bx1) bx1 = X;
				}
		if (bx1 < 0)
			continue;
		mid = (bx0 + bx1) / 2.0 * co->osp[0] / v->spacing[0];
		memset(seen, 0, pl);
		for (y = fb[1]; y <= fb[4]; y++)
			for (x = fb[0]; x <= fb[3]; x++) {
				int	 cx0 = x, cx1 = x, cy0 = y, cy1 = y;
				double	 sx = 0, area, dmid, fill;
				size_t	 h;

				p = (size_t)y * nx + x;
				if (seen[p] || !cand[k * pl + p] ||
				    !(v->vox[k * pl + p] < AIRWAY_HU))
					continue;
				comp.n = 0;
				seen[p] = 1;
				if (vl_push(&comp, p) == -1)
					goto oom;
				for (h = 0; h < comp.n; h++) {
					int	 px, py, d;

					q = comp.v[h];
					px = (int)(q % nx);
					py = (int)(q / nx);
					sx += px;
					if (px < cx0) cx0 = px;
					if (px > cx1) cx1 = px;
					if (py < cy0) cy0 = py;
					if (py > cy1) cy1 = py;
					for (d = 0; d < 4; d++) {
						int	 ax = px + (d == 0) - (d == 1);
						int	 ay = py + (d == 2) - (d == 3);
						size_t	 r;

						if (ax < fb[0] || ax > fb[3] ||
						    ay < fb[1] || ay > fb[4])
							continue;
						r = (size_t)ay * nx + ax;
						if (seen[r] || !cand[k * pl + r] ||
						    !(v->vox[k * pl + r] <
						    AIRWAY_HU))
							continue;
						seen[r] = 1;
						if (vl_push(&comp, r) == -1)
							goto oom;
					}
				}
				area = comp.n * pxmm2;
				fill = comp.n / ((double)(cx1 - cx0 + 1) *
				    (cy1 - cy0 + 1));
				dmid = fabs(sx / comp.n - mid) * v->spacing[0];
				if (area < TRACHEA_MIN_MM2 ||
				    area > TRACHEA_MAX_MM2 || fill < 0.55 ||
				    dmid > TRACHEA_OFF_MM || dmid >= bestd)
					continue;
				bestd = dmid;
				bestn = comp.n;
				seed->n = 0;
				for (h = 0; h < comp.n; h++)
					if (vl_push(seed, k * pl +
					    comp.v[h]) == -1)
						goto oom;
			}
		if (bestn > 0) {
			found = 1;
			log_debug("anatomy: trachea on slice %d, %.0f mm2, "
			    "%.0f mm off the midline", k, bestn * pxmm2,
			    bestd);
		}
	}
	free(seen);
	free(comp.v);
	return found;
oom:
	free(seen);
	free(comp.v);
	return -1;
}

/*
 * One growth of the airways from the seed (q's first nseed voxels, set in
 * air) wave by wave within cand below thr: a leak into the lung shows as
 * a wave WAVE_GROWTH times the one WAVE_BACK steps before; the last
 * WAVE_UNDO waves are then undone and *leak set.  Past AIRWAY_MAX_ML,
 * *leak is set too.  Returns 0 or -1 (out of memory).
 */
static int
grow_at(const struct series_volume *v, const uint8_t *cand, size_t nseed,
    double thr, struct vlist *q, uint8_t *air, int *leak)
{
	size_t		 pl = (size_t)v->nx * v->ny, h, i;
	size_t		*ls = NULL, nls = 0, cls = 0, *t;
	double		 vml = v->spacing[0] * v->spacing[1] * v->spacing[2] /
	    1000.0, ref = 0.0;
	int		 d, l;
	long		 off[6];

	off[0] = 1;
	off[1] = -1;
	off[2] = v->nx;
	off[3] = -(long)v->nx;
	off[4] = (long)pl;
	off[5] = -(long)pl;
	*leak = 0;
	for (h = nseed; h < q->n; h++)
		air[q->v[h]] = 0;
	q->n = nseed;
#define LEVEL(x) do { \
	if (nls == cls) { \
		cls = cls ? cls * 2 : 256; \
		if ((t = realloc(ls, cls * sizeof(*t))) == NULL) \
			goto oom; \
		ls = t; } \
	ls[nls++] = (x); \
	} while (0)
	LEVEL(0);
	LEVEL(q->n);
	/* ls[l] .. ls[l + 1]: wave l. */
	for (l = 0;; l++) {
		size_t	 a = ls[l], b = ls[l + 1], sz;

		for (h = a; h < b; h++) {
			size_t	 p = q->v[h];
			int	 x = (int)(p % v->nx), y = (int)(p % pl / v->nx),
				 z = (int)(p / pl);

			for (d = 0; d < 6; d++) {
				if ((d == 0 && x == v->nx - 1) ||
				    (d == 1 && x == 0) ||
				    (d == 2 && y == v->ny - 1) ||
				    (d == 3 && y == 0) ||
				    (d == 4 && z == v->nz - 1) ||
				    (d == 5 && z == 0))
					continue;
				i = (size_t)((long)p + off[d]);
				if (air[i] || !cand[i] || !(v->vox[i] < thr))
					continue;
				air[i] = 1;
				if (vl_push(q, i) == -1)
					goto oom;
			}
		}
		LEVEL(q->n);
		sz = q->n - b;
		if (sz == 0)
			break;
		if (l + 1 <= WAVE_BACK && (double)sz > ref)
			ref = (double)sz;
		if (l + 1 > WAVE_BACK && (double)sz > WAVE_GROWTH *
		    (double)(ls[l + 2 - WAVE_BACK] - ls[l + 1 - WAVE_BACK]) &&
		    (double)sz > 1.5 * ref) {
			int	 keep = l + 1 - WAVE_UNDO;

			if (keep < 1)
				keep = 1;
			for (h = ls[keep]; h < q->n; h++)
				air[q->v[h]] = 0;
			q->n = ls[keep];
			*leak = 1;
			break;
		}
		if (q->n * vml > AIRWAY_MAX_ML) {
			*leak = 1;
			break;
		}
	}
#undef LEVEL
	free(ls);
	return 0;
oom:
	free(ls);
	return -1;
}

/*
 * The trachea and main bronchi from seed (in q): grown at the thresholds
 * of AIRWAY_HU upwards, the last that does not leak kept (explosion
 * control: Mori et al., 1996), as the lumen of a low-dose scan is not all
 * below -950 HU.  The lumen's rim (partial volume) is added by
 * conditional dilations within cand, and on each slice what the airways
 * enclose.  Marks air (0/1).
 */
static int
airways_grow(const struct series_volume *v, const uint8_t *cand,
    struct vlist *q, uint8_t *air, double *ml)
{
	static const double thr[] = { -950, -925, -900, -875, -850, -825,
	    -800 };
	size_t		 pl = (size_t)v->nx * v->ny, h, i, nseed = q->n;
	double		 vml = v->spacing[0] * v->spacing[1] * v->spacing[2] /
	    1000.0;
	int		 d, rim, zs, *stk = NULL, leak, ti, nt, *bb = NULL;
	long		 off[6];
	uint8_t		*hole = NULL;
	size_t		*start = NULL, *ord = NULL, nq;

	off[0] = 1;
	off[1] = -1;
	off[2] = v->nx;
	off[3] = -(long)v->nx;
	for (h = 0; h < q->n; h++)
		air[q->v[h]] = 1;
	nt = (int)(sizeof(thr) / sizeof(thr[0]));
	for (ti = 0; ti < nt; ti++) {
		if (grow_at(v, cand, nseed, thr[ti], q, air, &leak) == -1)
			goto oom;
		log_debug("anatomy: airways below %.0f HU: %.1f mL%s", thr[ti],
		    q->n * vml, leak ? ", leaks" : "");
		if (leak)
			break;
	}
	if (leak && ti > 0 && grow_at(v, cand, nseed, thr[ti - 1], q, air,
	    &leak) == -1)
		goto oom;
	/* The lumen's rim, where the partial volume of the wall rises from
	 * the lumen's air towards the wall: up to RIM_STEPS voxels in the
	 * slice, each no lower than the airway voxel it is reached from. */
	for (rim = 0; rim < RIM_STEPS; rim++) {
		size_t	 to = q->n;

		for (h = 0; h < to; h++) {
			size_t	 p = q->v[h];
			int	 x = (int)(p % v->nx), y = (int)(p % pl / v->nx);

			for (d = 0; d < 4; d++) {
				if ((d == 0 && x == v->nx - 1) ||
				    (d == 1 && x == 0) ||
				    (d == 2 && y == v->ny - 1) ||
				    (d == 3 && y == 0))
					continue;
				i = (size_t)((long)p + off[d]);
				if (air[i] || !cand[i] ||
				    (rim > 0 && v->vox[i] < v->vox[p]))
					continue;
				air[i] = 1;
				if (vl_push(q, i) == -1)
					goto oom;
			}
		}
	}
	/* Where the airways stand alone in the mediastinum (above the
	 * lungs, or beside them), the whole air column round them on the
	 * slice is theirs, its rim of partial volume too: the 2-D
	 * component of cand that holds them, when it is not much larger
	 * than they are (it is not the lung). */
	if ((stk = malloc(pl * sizeof(*stk))) == NULL ||
	    (start = calloc((size_t)v->nz + 1, sizeof(*start))) == NULL ||
	    (ord = malloc((q->n + 1) * sizeof(*ord))) == NULL ||
	    (bb = malloc(4 * (size_t)v->nz * sizeof(*bb))) == NULL)
		goto oom;
	/* The airway voxels by slice (a counting sort). */
	nq = q->n;
	for (h = 0; h < nq; h++)
		start[q->v[h] / pl + 1]++;
	for (zs = 0; zs < v->nz; zs++)
		start[zs + 1] += start[zs];
	for (h = 0; h < nq; h++)
		ord[start[q->v[h] / pl]++] = q->v[h];
	for (zs = v->nz; zs > 0; zs--)
		start[zs] = start[zs - 1];
	start[0] = 0;
	for (zs = 0; zs < v->nz; zs++) {
		size_t	 o = (size_t)zs * pl, ns = 0, cap, nn;
		int	 big = 0;

		for (h = start[zs]; h < start[zs + 1]; h++)
			stk[ns++] = (int)(ord[h] - o);
		if (ns == 0)
			continue;
		cap = 3 * ns + 200;
		nn = ns;
		for (h = 0; h < nn && !big; h++) {
			int	 p = stk[h], x = p % v->nx, y = p / v->nx;

			for (d = 0; d < 4; d++) {
				if ((d == 0 && x == v->nx - 1) ||
				    (d == 1 && x == 0) ||
				    (d == 2 && y == v->ny - 1) ||
				    (d == 3 && y == 0))
					continue;
				i = o + (size_t)((long)p + off[d]);
				if (air[i] || !cand[i])
					continue;
				air[i] = 2;
				stk[nn++] = (int)(i - o);
				if (nn > cap) {
					big = 1;
					break;
				}
			}
		}
		for (h = ns; h < nn; h++) {
			i = o + (size_t)stk[h];
			air[i] = !big;
			if (!big && vl_push(q, i) == -1)
				goto oom;
		}
	}
	/* What the airways enclose on each slice. */
	if ((hole = malloc(pl)) == NULL)
		goto oom;
	for (zs = 0; zs < v->nz; zs++) {
		bb[4 * zs] = v->nx;
		bb[4 * zs + 1] = v->ny;
		bb[4 * zs + 2] = bb[4 * zs + 3] = -1;
	}
	for (h = 0; h < q->n; h++) {
		int	 x = (int)(q->v[h] % v->nx);
		int	 y = (int)(q->v[h] % pl / v->nx);
		int	*b4 = bb + 4 * (q->v[h] / pl);

		if (x < b4[0]) b4[0] = x;
		if (y < b4[1]) b4[1] = y;
		if (x > b4[2]) b4[2] = x;
		if (y > b4[3]) b4[3] = y;
	}
	for (zs = 0; zs < v->nz; zs++) {
		int	 x0 = bb[4 * zs], y0 = bb[4 * zs + 1];
		int	 x1 = bb[4 * zs + 2], y1 = bb[4 * zs + 3], x, y;
		size_t	 o = (size_t)zs * pl;

		if (x1 < 0 || x1 - x0 < 2 || y1 - y0 < 2)
			continue;
		for (y = y0; y <= y1; y++)
			for (x = x0; x <= x1; x++)
				hole[(size_t)y * v->nx + x] =
				    air[o + (size_t)y * v->nx + x];
		fill_holes(hole, v->nx, x0, y0, x1, y1, stk);
		for (y = y0; y <= y1; y++)
			for (x = x0; x <= x1; x++) {
				i = o + (size_t)y * v->nx + x;
				if (hole[(size_t)y * v->nx + x] && !air[i] &&
				    cand[i]) {
					air[i] = 1;
					if (vl_push(q, i) == -1)
						goto oom;
				}
			}
	}
	*ml = q->n * vml;
	free(hole);
	free(stk);
	free(start);
	free(ord);
	free(bb);
	return 0;
oom:
	free(hole);
	free(stk);
	free(start);
	free(ord);
	free(bb);
	return -1;
}

/*
 * Right and left on the coarse grid: lung (the lungs less the airways)
 * eroded until its two largest components are both large, then grown
 * back within grow along the geodesic distance.  side gets LUNG_RIGHT or
 * LUNG_LEFT on the voxels of grow it reaches.
 */
static int
sides_coarse(struct compute *c, const struct series_volume *v,
    const struct coarse *co, const uint8_t *lung, const uint8_t *grow,
    uint8_t *side, double *midx, char *err, size_t errlen)
{
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	size_t		 nst = 0, i, a = 0, b = 0, h, n4;
	uint8_t		*er = NULL, *tmp = NULL;
	int		 r, d, W = co->dims[0], H = co->dims[1], d4[3], X, Y, Z;
	double		 xa, xb, mid;
	struct vlist	 q = { 0 };
	long		 off[6];

	/* On a grid of twice the coarse spacing: a voxel is lung where
	 * most of its eight are. */
	for (r = 0; r < 3; r++)
		d4[r] = (co->dims[r] + 1) / 2;
	n4 = (size_t)d4[0] * d4[1] * d4[2];
	ALLOC(lab, n4);
	ALLOC(er, n4);
	ALLOC(tmp, n4);
	memset(side, 0, co->n);
	for (Z = 0; Z < co->dims[2]; Z++)
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++)
				if (lung[((size_t)Z * H + Y) * W + X])
					tmp[((size_t)(Z / 2) * d4[1] + Y / 2) *
					    d4[0] + X / 2]++;
	for (i = 0; i < n4; i++)
		er[i] = tmp[i] >= 4;
	for (r = 0; r <= SIDE_ERODE_MAX; r++) {
		if (r > 0) {
			CHECK(compute_morph(c, tmp, er, d4, MORPH_ERODE,
			    MORPH_CROSS, 1));
			memcpy(er, tmp, n4);
		}
		free(st);
		st = NULL;
		CHECK(compute_label(c, lab, er, NULL, d4, 6, &st, &nst));
		if (nst == 0)
			break;
		a = 0;
		b = (size_t)-1;
		for (i = 1; i < nst; i++)
			if (st[i].count > st[a].count)
				a = i;
		for (i = 0; i < nst; i++)
			if (i != a && (b == (size_t)-1 ||
			    st[i].count > st[b].count))
				b = i;
		if (b != (size_t)-1 && st[b].count >= SIDE_MIN_SHARE *
		    st[a].count)
			break;
	}
	if (nst == 0 || r > SIDE_ERODE_MAX) {
		/* One lung only, or no split: by the body's midline. */
		int	 bx0 = W, bx1 = -1;

		for (i = 0; i < co->n; i++)
			if (co->body[i]) {
				X = (int)(i % W);
				if (X < bx0) bx0 = X;
				if (X > bx1) bx1 = X;
			}
		mid = pat_x(v, (bx0 + bx1) / 2.0 * co->osp[0] / v->spacing[0],
		    v->ny / 2.0, 0);
		for (Z = 0; Z < co->dims[2]; Z++)
			for (Y = 0; Y < H; Y++)
				for (X = 0; X < W; X++) {
					i = ((size_t)Z * H + Y) * W + X;
					if (grow[i])
						side[i] = pat_x(v, X * co->osp[0] /
						    v->spacing[0], Y * co->osp[1] /
						    v->spacing[1], Z * co->osp[2] /
						    v->spacing[2]) < mid ?
						    LUNG_RIGHT : LUNG_LEFT;
				}
		*midx = mid;
		log_debug("anatomy: the lungs do not fall in two; sides by "
		    "the midline");
		goto done;
	}
	log_debug("anatomy: the lungs fall in two after %d erosions of "
	    "%.0f mm", r, 2.0 * co->osp[0]);
	xa = pat_x(v, (st[a].x0 + st[a].x1 + 1) * co->osp[0] / v->spacing[0],
	    (st[a].y0 + st[a].y1 + 1) * co->osp[1] / v->spacing[1],
	    (st[a].z0 + st[a].z1 + 1) * co->osp[2] / v->spacing[2]);
	xb = pat_x(v, (st[b].x0 + st[b].x1 + 1) * co->osp[0] / v->spacing[0],
	    (st[b].y0 + st[b].y1 + 1) * co->osp[1] / v->spacing[1],
	    (st[b].z0 + st[b].z1 + 1) * co->osp[2] / v->spacing[2]);
	for (Z = 0; Z < co->dims[2]; Z++)
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++) {
				int32_t	 l = lab[((size_t)(Z / 2) * d4[1] +
				    Y / 2) * d4[0] + X / 2];

				i = ((size_t)Z * H + Y) * W + X;
				if (!lung[i] || (l != (int32_t)a + 1 &&
				    l != (int32_t)b + 1))
					continue;
				side[i] = ((l == (int32_t)a + 1) == (xa < xb)) ?
				    LUNG_RIGHT : LUNG_LEFT;
				if (vl_push(&q, i) == -1)
					goto oom;
			}
	off[0] = 1;
	off[1] = -1;
	off[2] = W;
	off[3] = -W;
	off[4] = (long)co->plane;
	off[5] = -(long)co->plane;
	for (h = 0; h < q.n; h++) {
		size_t	 p = q.v[h];
		int	 x = (int)(p % W), y = (int)(p % co->plane / W),
			 z = (int)(p / co->plane);

		for (d = 0; d < 6; d++) {
			if ((d == 0 && x == W - 1) || (d == 1 && x == 0) ||
			    (d == 2 && y == H - 1) || (d == 3 && y == 0) ||
			    (d == 4 && z == co->dims[2] - 1) ||
			    (d == 5 && z == 0))
				continue;
			i = (size_t)((long)p + off[d]);
			if (side[i] || !grow[i])
				continue;
			side[i] = side[p];
			if (vl_push(&q, i) == -1)
				goto oom;
		}
	}
	/* What the growth did not reach: by the side of the midline. */
	mid = (xa + xb) / 2.0;
	*midx = mid;
	for (i = 0; i < co->n; i++)
		if (grow[i] && !side[i])
			side[i] = pat_x(v, (double)(i % W) * co->osp[0] /
			    v->spacing[0], (double)(i % co->plane / W) *
			    co->osp[1] / v->spacing[1], (double)(i / co->plane) *
			    co->osp[2] / v->spacing[2]) < mid ? LUNG_RIGHT :
			    LUNG_LEFT;
done:
	free(q.v);
	free(st);
	free(lab);
	free(er);
	free(tmp);
	return 0;
oom:
	(void)snprintf(err, errlen, "out of memory");
fail:
	free(q.v);
	free(st);
	free(lab);
	free(er);
	free(tmp);
	return -1;
}

/*
 * The pleural closing of one side on one slice: m (w x h, the side's
 * mask at full resolution) reduced by f in-plane into a coarser box (a
 * coarse pixel is in when at least half its f x f pixels are), closed
 * with a disk of rpx coarse pixels there, and the pixels of the coarse
 * pixels the closing adds set in add (full resolution, w x h).  The box
 * is x0..x1, y0..y1 of the full slice.
 */
struct close_buf {
	uint8_t		*lo, *cl;
	float		*d;
	struct edt_buf	 e;
};

static void
close_side(const uint8_t *m, int w, int x0, int y0, int x1, int y1, int f,
    double rpx, uint8_t *add, struct close_buf *cb)
{
	int	 mx = (int)ceil(rpx) + 2, lw, lh, X, Y, x, y, cnt;
	int	 ox = x0 / f - mx, oy = y0 / f - mx;
	float	 r2 = (float)(rpx * rpx);

	lw = (x1 / f + mx) - ox + 1;
	lh = (y1 / f + mx) - oy + 1;
	for (Y = 0; Y < lh; Y++)
		for (X = 0; X < lw; X++) {
			int	 fx = (X + ox) * f, fy = (Y + oy) * f, dx, dy;

			cnt = 0;
			for (dy = 0; dy < f; dy++)
				for (dx = 0; dx < f; dx++) {
					x = fx + dx;
					y = fy + dy;
					if (x >= x0 && x <= x1 && y >= y0 &&
					    y <= y1 && m[y * w + x])
						cnt++;
				}
			cb->lo[Y * lw + X] = 2 * cnt >= f * f;
		}
	/* Dilate: within rpx of the mask; erode: beyond rpx of its
	 * complement. */
	edt2(cb->lo, 1, lw, lh, cb->d, &cb->e);
	for (X = 0; X < lw * lh; X++)
		cb->cl[X] = cb->d[X] <= r2;
	edt2(cb->cl, 0, lw, lh, cb->d, &cb->e);
	/* What the closing adds, grown by one coarse pixel: the coarse
	 * grid must not leave the strip next to the pleura outside, where
	 * the disk just enters a nodule's base, nor the pixels of the
	 * coarse pixels round it that are only partly lung. */
	for (X = 0; X < lw * lh; X++)
		cb->cl[X] = cb->d[X] > r2 && !cb->lo[X];
	/* The 3 x 3 neighbourhood in two passes: along the rows into lo
	 * (not needed any more), then across them. */
	for (Y = 0; Y < lh; Y++) {
		const uint8_t *c = cb->cl + Y * lw;
		uint8_t	*h = cb->lo + Y * lw;

		for (X = 0; X < lw; X++)
			h[X] = c[X] | (X > 0 ? c[X - 1] : 0) |
			    (X < lw - 1 ? c[X + 1] : 0);
	}
	for (Y = 0; Y < lh; Y++)
		for (X = 0; X < lw; X++) {
			if (!cb->lo[Y * lw + X] && (Y == 0 ||
			    !cb->lo[(Y - 1) * lw + X]) && (Y == lh - 1 ||
			    !cb->lo[(Y + 1) * lw + X]))
				continue;
			for (y = (Y + oy) * f; y < (Y + oy + 1) * f; y++)
				for (x = (X + ox) * f; x < (X + ox + 1) * f;
				    x++)
					if (x >= x0 && x <= x1 && y >= y0 &&
					    y <= y1)
						add[y * w + x] = 1;
		}
}

/* The scratch of one thread's slices. */
struct slice_work {
	uint8_t		*sm, *add;
	int		*stk;
	struct close_buf cb;
};

static void
slice_work_free(struct slice_work *w)
{
	free(w->sm);
	free(w->add);
	free(w->stk);
	free(w->cb.lo);
	free(w->cb.cl);
	free(w->cb.d);
	free(w->cb.e.f);
	free(w->cb.e.d);
	free(w->cb.e.z);
	free(w->cb.e.v);
	memset(w, 0, sizeof(*w));
}

static int
slice_work_alloc(struct slice_work *w, const struct series_volume *v, int f,
    double rpx)
{
	size_t	 pl = (size_t)v->nx * v->ny;
	int	 mx = (int)ceil(rpx) + 2;
	size_t	 lw = (size_t)v->nx / f + 2 * mx + 2;
	size_t	 lh = (size_t)v->ny / f + 2 * mx + 2;
	size_t	 big = lw > lh ? lw : lh;

	memset(w, 0, sizeof(*w));
	if ((w->sm = calloc(pl, 1)) == NULL ||
	    (w->add = calloc(pl, 1)) == NULL ||
	    (w->stk = calloc(pl, sizeof(int))) == NULL ||
	    (w->cb.lo = calloc(lw * lh, 1)) == NULL ||
	    (w->cb.cl = calloc(lw * lh, 1)) == NULL ||
	    (w->cb.d = calloc(lw * lh, sizeof(float))) == NULL ||
	    (w->cb.e.f = calloc(big, sizeof(float))) == NULL ||
	    (w->cb.e.d = calloc(big, sizeof(float))) == NULL ||
	    (w->cb.e.z = calloc(big + 1, sizeof(float))) == NULL ||
	    (w->cb.e.v = calloc(big, sizeof(int))) == NULL) {
		slice_work_free(w);
		return -1;
	}
	return 0;
}

/*
 * Slice k of the lungs, per side: the holes filled, then what the
 * pleural closing adds (within the body, outside the airways and the
 * other lung).  Touches only slice k.
 */
static long
slice_close(const struct series_volume *v, struct anatomy *an, int k,
    const int fb[6], int f, double rpx, struct slice_work *w)
{
	long	 added = 0;
	size_t	 pl = (size_t)v->nx * v->ny, i;
	uint8_t	*L = an->lungs + (size_t)k * pl;
	const uint8_t *A = an->airways + (size_t)k * pl;
	const uint8_t *B = an->body + (size_t)k * pl;
	const float *V = v->vox + (size_t)k * pl;
	int	 x0[LUNG_SIDE__MAX], y0[LUNG_SIDE__MAX], x1[LUNG_SIDE__MAX];
	int	 y1[LUNG_SIDE__MAX], x, y, s, sp;

	for (s = 0; s < LUNG_SIDE__MAX; s++) {
		x0[s] = v->nx;
		y0[s] = v->ny;
		x1[s] = y1[s] = -1;
	}
	for (y = fb[1]; y <= fb[4]; y++)
		for (x = fb[0]; x <= fb[3]; x++) {
			s = L[(size_t)y * v->nx + x];
			if (x < x0[s]) x0[s] = x;
			if (x > x1[s]) x1[s] = x;
			if (y < y0[s]) y0[s] = y;
			if (y > y1[s]) y1[s] = y;
		}
	for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++) {
		int	 X0, Y0, X1, Y1;

		if (x1[s] < 0)
			continue;
		X0 = x0[s] > 0 ? x0[s] - 1 : 0;
		Y0 = y0[s] > 0 ? y0[s] - 1 : 0;
		X1 = x1[s] < v->nx - 1 ? x1[s] + 1 : v->nx - 1;
		Y1 = y1[s] < v->ny - 1 ? y1[s] + 1 : v->ny - 1;
		for (y = Y0; y <= Y1; y++)
			for (x = X0; x <= X1; x++) {
				i = (size_t)y * v->nx + x;
				w->sm[i] = L[i] == s;
				w->add[i] = 0;
			}
		fill_holes(w->sm, v->nx, X0, Y0, X1, Y1, w->stk);
		close_side(w->sm, v->nx, X0, Y0, X1, Y1, f, rpx, w->add,
		    &w->cb);
		/* The holes first; then what the closing adds, but not
		 * bone (a vertebra, a rib head or an osteophyte in the
		 * concavity the disk bridges is no juxtapleural nodule) and
		 * only what stays joined to the lung without it. */
		for (y = Y0; y <= Y1; y++)
			for (x = X0; x <= X1; x++) {
				i = (size_t)y * v->nx + x;
				if (L[i] != 0 || A[i]) {
					w->add[i] = 0;
					continue;
				}
				if (w->sm[i]) {
					L[i] = (uint8_t)s;
					w->add[i] = 0;
				} else
					w->add[i] = w->add[i] && B[i] &&
					    V[i] < CLOSE_BONE_HU;
			}
		sp = 0;
		for (y = Y0; y <= Y1; y++)
			for (x = X0; x <= X1; x++) {
				i = (size_t)y * v->nx + x;
				if (w->add[i] == 1 && ((x > X0 && L[i - 1] == s) ||
				    (x < X1 && L[i + 1] == s) || (y > Y0 &&
				    L[i - v->nx] == s) || (y < Y1 &&
				    L[i + v->nx] == s))) {
					w->add[i] = 2;
					w->stk[sp++] = (int)i;
				}
			}
		while (sp > 0) {
			int	 p = w->stk[--sp], px = p % v->nx, py = p / v->nx;

			L[p] = (uint8_t)s;
			added++;
#define GROW(q) do { if (w->add[q] == 1) { w->add[q] = 2; \
	w->stk[sp++] = (q); } } while (0)
			if (px > X0)
				GROW(p - 1);
			if (px < X1)
				GROW(p + 1);
			if (py > Y0)
				GROW(p - v->nx);
			if (py < Y1)
				GROW(p + v->nx);
#undef GROW
		}
	}
	return added;
}

/* Statistics and completeness of the lungs. */
static void
lung_figures(const struct series_volume *v, const struct coarse *co,
    struct anatomy *an)
{
	size_t		 pl = (size_t)v->nx * v->ny, i;
	double		 vml = v->spacing[0] * v->spacing[1] * v->spacing[2] /
	    1000.0, sum[LUNG_SIDE__MAX] = { 0 }, amax = 0;
	long long	 cnt[LUNG_SIDE__MAX] = { 0 }, low[LUNG_SIDE__MAX] = { 0 };
	long long	*area = NULL;
	int		 k, s, b, ksup, kinf;
	char		*w = an->lungs_why;
	size_t		 wl = sizeof(an->lungs_why);

	memset(an->lung, 0, sizeof(an->lung));
	area = calloc((size_t)v->nz, sizeof(*area));
	for (k = 0; k < v->nz; k++)
		for (i = k * pl; i < (k + 1) * pl; i++) {
			s = an->lungs[i];
			if (s == LUNG_NONE)
				continue;
			cnt[s]++;
			sum[s] += v->vox[i];
			if (v->vox[i] < -950.0f)
				low[s]++;
			b = (int)floor((v->vox[i] - ANAT_HIST_LO) /
			    ANAT_HIST_WIDTH);
			if (b < 0)
				b = 0;
			if (b > ANAT_HIST_BINS - 1)
				b = ANAT_HIST_BINS - 1;
			an->lung[s].hist[b]++;
			if (area != NULL)
				area[k]++;
		}
	for (s = LUNG_RIGHT; s < LUNG_SIDE__MAX; s++) {
		an->lung[s].volume_ml = cnt[s] * vml;
		an->lung[s].mean_hu = cnt[s] ? sum[s] / cnt[s] : NAN;
		an->lung[s].laa950_pct = cnt[s] ? 100.0 * low[s] / cnt[s] : NAN;
	}
	an->lungs_why[0] = '\0';
	if (cnt[LUNG_RIGHT] + cnt[LUNG_LEFT] == 0 || area == NULL) {
		an->lungs_complete = -1;
		(void)snprintf(w, wl, "未找到肺野");
		free(area);
		return;
	}
	for (k = 0; k < v->nz; k++)
		if (area[k] > amax)
			amax = (double)area[k];
	ksup = step_z(v) >= 0.0 ? v->nz - 1 : 0;
	kinf = v->nz - 1 - ksup;
	an->lungs_complete = 1;
	if (area[ksup] > END_SHARE * amax) {
		an->lungs_complete = 0;
		(void)snprintf(w + strlen(w), wl - strlen(w), "%s",
		    "肺尖未包含在扫描范围内");
	}
	if (area[kinf] > END_SHARE * amax) {
		an->lungs_complete = 0;
		(void)snprintf(w + strlen(w), wl - strlen(w), "%s%s",
		    *w ? "；" : "", "肺底未包含在扫描范围内");
	}
	if (co->lung_edge) {
		an->lungs_complete = 0;
		(void)snprintf(w + strlen(w), wl - strlen(w), "%s%s",
		    *w ? "；" : "", "肺野被重建视野截断");
	}
	free(area);
}

/*
 * The lungs at full resolution (see the passes at the top).  an->body
 * is set already.
 */
static int
lungs_full(struct compute *c, const struct series_volume *v,
    const struct coarse *co, struct anatomy *an, char *err, size_t errlen)
{
	size_t		 pl = (size_t)v->nx * v->ny, i;
	uint8_t		*lungd = NULL, *cair = NULL, *cl2 = NULL, *cside = NULL;
	int		 fb[6], a, k, x, y, f, found, nw = 1;
	long		 nadd = 0;
	struct vlist	 q = { 0 };
	struct slice_work *sw = NULL;
	double		 aml = 0.0, rpx;
	double		 mid = 0.0, t0 = now_s();

	if (co->bb[3] < 0) {
		lung_figures(v, co, an);
		return 0;
	}
	ALLOC(lungd, co->n);
	ALLOC(cair, co->n);
	ALLOC(cl2, co->n);
	ALLOC(cside, co->n);
	CHECK(compute_morph(c, lungd, co->lung, co->dims, MORPH_DILATE,
	    MORPH_CROSS, 1));
	/* The box of the lungs, at full resolution. */
	for (a = 0; a < 3; a++) {
		int	 nfull = a == 0 ? v->nx : a == 1 ? v->ny : v->nz;

		fb[a] = (int)floor((co->bb[a] - 1) * co->osp[a] /
		    v->spacing[a]);
		fb[a + 3] = (int)ceil((co->bb[a + 3] + 1) * co->osp[a] /
		    v->spacing[a]);
		if (fb[a] < 0)
			fb[a] = 0;
		if (fb[a + 3] > nfull - 1)
			fb[a + 3] = nfull - 1;
	}
	/* The candidates: air within the coarse lungs. */
#ifdef _OPENMP
#pragma omp parallel for private(y, x)
#endif
	for (k = fb[2]; k <= fb[5]; k++)
		for (y = fb[1]; y <= fb[4]; y++) {
			size_t	 row = (size_t)k * pl + (size_t)y * v->nx;
			size_t	 crow = ((size_t)co->iz[k] * co->dims[1] +
			    co->iy[y]) * co->dims[0];

			for (x = fb[0]; x <= fb[3]; x++) {
				float	 h = v->vox[row + x];

				an->lungs[row + x] = h >= PADDING_HU &&
				    h < LUNG_HU && lungd[crow + co->ix[x]];
			}
		}

	/* The trachea and main bronchi. */
	found = trachea_seed(v, co, an->lungs, fb, &q);
	if (found == -1)
		goto oom;
	if (found == 1 && airways_grow(v, an->lungs, &q, an->airways,
	    &aml) == -1)
		goto oom;
	log_debug("anatomy: airways %.1f mL (%.2f s)", aml, now_s() - t0);
	for (i = 0; i < q.n; i++) {
		an->lungs[q.v[i]] = 0;
		cair[c_of(co, v, q.v[i])] = 1;
	}

	/* Right and left. */
	for (i = 0; i < co->n; i++) {
		cl2[i] = co->lung[i] && !cair[i];
		lungd[i] = lungd[i] && !cair[i];
	}
	if (sides_coarse(c, v, co, cl2, lungd, cside, &mid, err,
	    errlen) == -1)
		goto fail;
	/* Each voxel its coarse voxel's side; the rows' starts worked out
	 * once per row (the byte stores would otherwise make the compiler
	 * load the coarse grid's indices again at every voxel). */
#ifdef _OPENMP
#pragma omp parallel for private(y, x)
#endif
	for (k = fb[2]; k <= fb[5]; k++) {
		size_t	 cz = (size_t)co->iz[k] * co->dims[1];

		for (y = fb[1]; y <= fb[4]; y++) {
			uint8_t	*row = an->lungs + (size_t)k * pl +
			    (size_t)y * v->nx;
			const uint8_t *crow = cside + (cz + co->iy[y]) *
			    co->dims[0];
			const int *ix = co->ix;

			for (x = fb[0]; x <= fb[3]; x++) {
				int	 sd;

				if (!row[x])
					continue;
				sd = crow[ix[x]];
				if (sd == LUNG_NONE)
					sd = pat_x(v, x, y, k) < mid ?
					    LUNG_RIGHT : LUNG_LEFT;
				row[x] = (uint8_t)sd;
			}
		}
	}

	log_debug("anatomy: sides (%.2f s)", now_s() - t0);
	/* Per side and slice: holes, and the pleural closing. */
	f = (int)lround(CLOSE_GRID_MM / v->spacing[0]);
	if (f < 1)
		f = 1;
	rpx = CLOSE_MM / (v->spacing[0] * f);
#ifdef _OPENMP
	nw = omp_get_max_threads();
#endif
	ALLOC(sw, (size_t)nw);
	for (a = 0; a < nw; a++)
		if (slice_work_alloc(&sw[a], v, f, rpx) == -1)
			goto oom;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic) reduction(+:nadd)
#endif
	for (k = fb[2]; k <= fb[5]; k++) {
		int	 t = 0;

#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		nadd += slice_close(v, an, k, fb, f, rpx, &sw[t]);
	}
	log_debug("anatomy: the pleural closing adds %.1f mL",
	    nadd * v->spacing[0] * v->spacing[1] * v->spacing[2] / 1000.0);
	log_debug("anatomy: holes and closing (%.2f s)", now_s() - t0);
	/* The lungs are in the body: a select the compiler vectorises. */
#ifdef _OPENMP
#pragma omp parallel for private(y, x)
#endif
	for (k = fb[2]; k <= fb[5]; k++)
		for (y = fb[1]; y <= fb[4]; y++) {
			size_t	 o = (size_t)k * pl + (size_t)y * v->nx;
			const uint8_t *l = an->lungs + o;
			uint8_t	*b = an->body + o;

			for (x = fb[0]; x <= fb[3]; x++)
				b[x] = l[x] ? 1 : b[x];
		}
	lung_figures(v, co, an);
	free(q.v);
	free(lungd);
	free(cair);
	free(cl2);
	free(cside);
	if (sw != NULL)
		for (a = 0; a < nw; a++)
			slice_work_free(&sw[a]);
	free(sw);
	return 0;
oom:
	(void)snprintf(err, errlen, "out of memory");
fail:
	free(q.v);
	free(lungd);
	free(cair);
	free(cl2);
	free(cside);
	if (sw != NULL)
		for (a = 0; a < nw; a++)
			slice_work_free(&sw[a]);
	free(sw);
	return -1;
}

/*
 * The spine: on each coarse slice, the bone (above BONE_HU) in the body
 * within SPINE_OFF_MM of the body's midline and behind the body's
 * middle; its largest 2-D component (its holes left open: the spinal
 * canal is one); the centre of its largest inscribed circle (chamfer 3-4 distance, Borgefors, 1986)
 * within SPINE_BODY_MM of its front is the vertebral body's; NAN when
 * that circle is small (a ring of cortex, the body not seen).  Full
 * slices take their coarse slice's centre.
 */
static int
spine_find(const struct series_volume *v, const struct coarse *co,
    struct anatomy *an, char *err, size_t errlen)
{
	int		 W = co->dims[0], H = co->dims[1], D = co->dims[2];
	int		 X, Y, Z, bx0, bx1, by0, by1, *dist = NULL;
	uint8_t		*bone = NULL, *best = NULL, *seen = NULL;
	double		*cxy = NULL, midx, midy;
	struct vlist	 comp = { 0 };
	size_t		 p, h, bestn;
	int		 k;

	ALLOC(bone, co->plane);
	ALLOC(best, co->plane);
	ALLOC(seen, co->plane);
	ALLOC(dist, co->plane);
	ALLOC(cxy, 2 * (size_t)D);
	for (Z = 0; Z < D; Z++) {
		const uint8_t	*B = co->body + (size_t)Z * co->plane;
		const float	*cv = co->cv + (size_t)Z * co->plane;
		int		 mxd, x0 = W, y0 = H, x1 = -1, y1 = -1, yb, solid;
		double		 sx = 0, sy = 0, nb = 0;

		cxy[2 * Z] = cxy[2 * Z + 1] = NAN;
		bx0 = W;
		bx1 = -1;
		by0 = H;
		by1 = -1;
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++)
				if (B[(size_t)Y * W + X]) {
					if (X < bx0) bx0 = X;
					if (X > bx1) bx1 = X;
					if (Y < by0) by0 = Y;
					if (Y > by1) by1 = Y;
				}
		if (bx1 < 0)
			continue;
		midx = (bx0 + bx1) / 2.0;
		midy = (by0 + by1) / 2.0;
		memset(seen, 0, co->plane);
		memset(best, 0, co->plane);
		bestn = 0;
		/* Bone: the 3 x 3 mean of the coarse slice above BONE_HU, so
		 * that the trabecular bone of a vertebral body is whole. */
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++) {
				double	 m = 0.0;
				int	 a, b, c9 = 0;

				p = (size_t)Y * W + X;
				bone[p] = 0;
				if (!B[p] || fabs(X - midx) * co->osp[0] >
				    SPINE_OFF_MM || !(Y > midy))
					continue;
				for (b = Y - 1; b <= Y + 1; b++)
					for (a = X - 1; a <= X + 1; a++)
						if (a >= 0 && b >= 0 && a < W &&
						    b < H) {
							m += cv[(size_t)b * W +
							    a];
							c9++;
						}
				bone[p] = m / c9 > BONE_HU;
			}
		for (p = 0; p < co->plane; p++) {
			if (!bone[p] || seen[p])
				continue;
			comp.n = 0;
			seen[p] = 1;
			if (vl_push(&comp, p) == -1)
				goto oom;
			for (h = 0; h < comp.n; h++) {
				size_t	 qq = comp.v[h], r;
				int	 px = (int)(qq % W), py = (int)(qq / W), d;

				for (d = 0; d < 4; d++) {
					int	 ax = px + (d == 0) - (d == 1);
					int	 ay = py + (d == 2) - (d == 3);

					if (ax < 0 || ay < 0 || ax >= W ||
					    ay >= H)
						continue;
					r = (size_t)ay * W + ax;
					if (!bone[r] || seen[r])
						continue;
					seen[r] = 1;
					if (vl_push(&comp, r) == -1)
						goto oom;
				}
			}
			if (comp.n > bestn) {
				bestn = comp.n;
				memset(best, 0, co->plane);
				for (h = 0; h < comp.n; h++)
					best[comp.v[h]] = 1;
			}
		}
		if (bestn * co->osp[0] * co->osp[1] < SPINE_MIN_MM2)
			continue;
		for (p = 0; p < co->plane; p++)
			if (best[p]) {
				X = (int)(p % W);
				Y = (int)(p / W);
				if (X < x0) x0 = X;
				if (X > x1) x1 = X;
				if (Y < y0) y0 = Y;
				if (Y > y1) y1 = Y;
			}
		x0 = x0 > 0 ? x0 - 1 : 0;
		y0 = y0 > 0 ? y0 - 1 : 0;
		x1 = x1 < W - 1 ? x1 + 1 : W - 1;
		y1 = y1 < H - 1 ? y1 + 1 : H - 1;
		/* Chamfer 3-4 distance to the background, two passes. */
		for (Y = y0; Y <= y1; Y++)
			for (X = x0; X <= x1; X++) {
				p = (size_t)Y * W + X;
				dist[p] = best[p] ? 1 << 28 : 0;
			}
#define DM(a, b) ((a) < (b) ? (a) : (b))
		for (Y = y0 + 1; Y <= y1 - 1; Y++)
			for (X = x0 + 1; X <= x1 - 1; X++) {
				p = (size_t)Y * W + X;
				if (!dist[p])
					continue;
				dist[p] = DM(dist[p], dist[p - 1] + 3);
				dist[p] = DM(dist[p], dist[p - W] + 3);
				dist[p] = DM(dist[p], dist[p - W - 1] + 4);
				dist[p] = DM(dist[p], dist[p - W + 1] + 4);
			}
		/* The vertebral body is the front of the spine: its centre
		 * is sought within SPINE_BODY_MM of the front. */
		yb = y0 + 1 + (int)lround(SPINE_BODY_MM / co->osp[1]);
		mxd = 0;
		for (Y = y1 - 1; Y >= y0 + 1; Y--)
			for (X = x1 - 1; X >= x0 + 1; X--) {
				p = (size_t)Y * W + X;
				if (!dist[p])
					continue;
				dist[p] = DM(dist[p], dist[p + 1] + 3);
				dist[p] = DM(dist[p], dist[p + W] + 3);
				dist[p] = DM(dist[p], dist[p + W + 1] + 4);
				dist[p] = DM(dist[p], dist[p + W - 1] + 4);
				if (Y <= yb && dist[p] > mxd)
					mxd = dist[p];
			}
#undef DM
		/* A body whose trabecular bone is under BONE_HU is a ring:
		 * not seen. */
		solid = mxd / 3.0 * co->osp[0] >= SPINE_SOLID_MM;
		for (Y = y0 + 1; Y <= y1 - 1 && Y <= yb && solid; Y++)
			for (X = x0 + 1; X <= x1 - 1; X++)
				if (dist[(size_t)Y * W + X] == mxd) {
					sx += X;
					sy += Y;
					nb++;
				}
		if (nb > 0) {
			cxy[2 * Z] = sx / nb * co->osp[0] / v->spacing[0];
			cxy[2 * Z + 1] = sy / nb * co->osp[1] / v->spacing[1];
		}
	}
	for (k = 0; k < v->nz; k++) {
		an->spine_xy[2 * k] = cxy[2 * co->iz[k]];
		an->spine_xy[2 * k + 1] = cxy[2 * co->iz[k] + 1];
	}
	free(bone);
	free(best);
	free(seen);
	free(dist);
	free(cxy);
	free(comp.v);
	return 0;
oom:
	(void)snprintf(err, errlen, "out of memory");
fail:
	free(bone);
	free(best);
	free(seen);
	free(dist);
	free(cxy);
	free(comp.v);
	return -1;
}

static void
anatomy_clear(struct anatomy *an)
{
	free(an->body);
	free(an->lungs);
	free(an->airways);
	free(an->lobes);
	free(an->spine_xy);
	heart_free(&an->heart);
	memset(an, 0, sizeof(*an));
	an->lungs_complete = -1;
}

struct anatomy_cache *
anatomy_cache_new(void)
{
	struct anatomy_cache	*ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	ac->an.lungs_complete = -1;
	return ac;
}

void
anatomy_cache_free(struct anatomy_cache *ac)
{
	if (ac == NULL)
		return;
	anatomy_clear(&ac->an);
	if (ac->have_co)
		coarse_free(&ac->co);
	free(ac);
}

int
anatomy_get(struct anatomy_cache *ac, struct compute *c,
    const struct series_volume *v, long long series_id, unsigned parts,
    const struct anatomy **out, char *err, size_t errlen)
{
	struct anatomy	*an = &ac->an;
	const struct coarse *co = &ac->co;
	size_t		 n = (size_t)v->nx * v->ny * v->nz;
	unsigned	 miss;
	double		 t0 = now_s();
	int		 a;

	*out = NULL;
	if (ac->used && (an->series_id != series_id ||
	    an->dims[0] != v->nx || an->dims[1] != v->ny ||
	    an->dims[2] != v->nz || an->spacing[0] != v->spacing[0] ||
	    an->spacing[1] != v->spacing[1] ||
	    an->spacing[2] != v->spacing[2])) {
		anatomy_clear(an);
		if (ac->have_co)
			coarse_free(&ac->co);
		ac->have_co = 0;
		ac->used = 0;
	}
	if (!ac->used) {
		an->series_id = series_id;
		an->dims[0] = v->nx;
		an->dims[1] = v->ny;
		an->dims[2] = v->nz;
		for (a = 0; a < 3; a++)
			an->spacing[a] = v->spacing[a];
		an->lungs_complete = -1;
		ac->used = 1;
	}
	if (parts & ANAT_LOBES)
		parts |= ANAT_LUNGS;
	if (parts & ANAT_LUNGS)
		parts |= ANAT_BODY;
	if (parts & ANAT_VERTEBRAE)
		parts |= ANAT_SPINE | ANAT_BODY;
	miss = parts & ~an->have;
	if ((miss & (ANAT_BODY | ANAT_LUNGS | ANAT_SPINE)) && !ac->have_co) {
		if (coarse_build(c, v, &ac->co, err, errlen) == -1)
			return -1;
		ac->have_co = 1;
		log_debug("anatomy: coarse pass %.2f s", now_s() - t0);
	}
	if (miss & (ANAT_BODY | ANAT_LUNGS)) {
		if (an->body == NULL && (an->body = calloc(n, 1)) == NULL)
			goto oom;
		if (body_full(c, v, co, an->body, err, errlen) == -1)
			goto fail;
		an->have |= ANAT_BODY;
		log_debug("anatomy: body %.2f s", now_s() - t0);
	}
	if (miss & ANAT_LUNGS) {
		if ((an->lungs == NULL && (an->lungs = calloc(n, 1)) == NULL) ||
		    (an->airways == NULL &&
		    (an->airways = calloc(n, 1)) == NULL))
			goto oom;
		memset(an->lungs, 0, n);
		memset(an->airways, 0, n);
		if (lungs_full(c, v, co, an, err, errlen) == -1)
			goto fail;
		an->have |= ANAT_LUNGS;
		log_debug("anatomy: lungs %.2f s", now_s() - t0);
	}
	if (miss & ANAT_SPINE) {
		if (an->spine_xy == NULL && (an->spine_xy =
		    calloc(2 * (size_t)v->nz, sizeof(double))) == NULL)
			goto oom;
		if (spine_find(v, co, an, err, errlen) == -1)
			goto fail;
		an->have |= ANAT_SPINE;
	}
	if (miss & (ANAT_BODY | ANAT_LUNGS | ANAT_SPINE))
		an->seconds += now_s() - t0;
	/* The vertebrae from the spine's centre line (spine.h). */
	if (miss & ANAT_VERTEBRAE) {
		t0 = now_s();
		if (spine_vertebrae(v, an->spine_xy, an->body, &an->spine, err,
		    errlen) == -1)
			goto fail;
		an->have |= ANAT_VERTEBRAE;
		an->seconds += now_s() - t0;
		log_debug("anatomy: vertebrae %.2f s", now_s() - t0);
	}
	/* The lobes from the fissures (lobes.h), on the lungs just found. */
	if (miss & ANAT_LOBES) {
		t0 = now_s();
		if (an->lobes == NULL && (an->lobes = malloc(n)) == NULL)
			goto oom;
		if (lobes_find(c, v, an->lungs, an->lobes, &an->lobe_info, err,
		    errlen) == -1)
			goto fail;
		an->have |= ANAT_LOBES;
		an->seconds += now_s() - t0;
		log_debug("anatomy: lobes %.2f s", now_s() - t0);
	}
	/* The heart and the aortic root (heart.h). */
	if (miss & ANAT_HEART) {
		t0 = now_s();
		if (heart_find(c, v, &an->heart, err, errlen) == -1)
			goto fail;
		an->have |= ANAT_HEART;
		an->seconds += now_s() - t0;
	}
	*out = an;
	return 0;
oom:
	(void)snprintf(err, errlen, "out of memory");
fail:
	return -1;
}
