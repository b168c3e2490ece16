/*
 * lobes.c - the five lung lobes from the fissures; see lobes.h.
 *
 * The passes:
 *  1. the lungs' bounding box is cut out of the volume, resampled to a
 *     1.25 mm grid (or the volume's own where coarser), smoothed with a
 *     Gaussian of 1 mm (the scale of the fissures' Hessian) and resampled
 *     to a 1.5 mm grid, all on the compute backend; the lungs' mask is
 *     carried over by nearest neighbour;
 *  2. on that grid, inside each lung eroded by 3 mm (away from the
 *     pleura) and away from the vessels and airway walls (above -600 HU,
 *     dilated by a voxel), the Hessian's eigenvalues by magnitude
 *     |l1| >= |l2| >= |l3| give a plate measure: a bright sheet has one
 *     large negative eigenvalue and two small ones, so the measure is
 *     |l1| exp(-l2^2 / (2 (a l1)^2)) for l1 < 0 and |l2| <= 0.4 |l1|,
 *     after Frangi et al.'s (1998) ratio adapted to plates as Lassen et
 *     al. (2013) do for the fissures; a tube (a vessel) has |l2| close to
 *     |l1| and a blob all three, and both fall out; the sheet's normal is
 *     l1's eigenvector;
 *  3. the voxels of a strong plate measure, in connected pieces of some
 *     size, are the fissure candidates;
 *  4. each fissure (the left oblique, the right oblique, then the right
 *     horizontal above it) is a smooth surface d = f(u, w) over a frame
 *     whose normal is the fissure's expected one: for the obliques, a
 *     plane rising 45 degrees from anterior-inferior to posterior-superior
 *     in the sagittal plane, for the horizontal one an axial plane.  The
 *     expected plane is placed where it cuts the lung into the published
 *     mean lobe volume shares (Yamada et al., 2020), and f, a quadratic,
 *     is fitted to the candidates from there by iteratively reweighted
 *     least squares with Tukey's biweight (Beaton and Tukey, 1974) on a
 *     shrinking scale (25 mm down to 3 mm), the candidates whose normal
 *     is more than 35 degrees off the surface's being left out, as Qi et
 *     al. (2014) fit a surface to the fissure points a filter found.  A
 *     smooth correction over a grid of nodes 15 mm or more apart, with a
 *     penalty on its second differences (a discrete thin plate, Wahba,
 *     1990), then lets the surface bend with the fissure.  Outside the
 *     range of the points that carried the fit, the surface goes on along
 *     its tangent plane at the range's edge;
 *  5. the share of the fissure's expected extent that was seen: over a
 *     6 mm grid of the surface, the cells inside the lung where the
 *     candidates within 2 mm of it are a sheet (at least three times as
 *     dense as 4 to 10 mm off it).  Where under 40 % is seen, the fissure
 *     is the expected plane of step 4 instead (lobe_info.fallback);
 *  6. every lung voxel of the full grid is labelled by its side of the
 *     surfaces: behind and under the oblique fissure the lower lobe; in
 *     front of and above it the upper lobe, and on the right, under the
 *     horizontal fissure, the middle lobe.
 *
 * The segments (lobes_segment_zh()) are named from a point's place within
 * its lobe's extent, after the segments' usual positions (Jackson and
 * Huber, 1943; Boyden, 1955): an approximation from the lobe's geometry,
 * not a segmentation along the segmental bronchi.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lobes.h"
#include "mat3.h"

#define PI		3.14159265358979323846
#define GRID_MM		1.5		/* the filter's grid */
#define SIGMA_MM	1.0		/* the Hessian's scale */
#define MID_MM		1.25		/* the smoothing's grid */
#define ERODE_VOX	2		/* 3 mm from the pleura */
#define VESSEL_HU	-600.0		/* vessels, airway walls: above */
#define PLATE_ALPHA	0.5		/* Frangi's alpha, for |l2| / |l1| */
#define PLATE_RATIO	0.4		/* |l2| / |l1| at most: not a tube */
#define PLATE_MIN	6.0		/* HU / mm^2: a candidate's measure */
#define PIECE_MIN	12		/* voxels of a candidate piece */
#define OBLIQUE_DEG	45.0		/* the obliques' rise, sagittal */
#define NORMAL_COS	0.82		/* cos 35 degrees */
#define INLIER_MM	3.0
#define CELL_MM		6.0		/* the grid of the seen share */
#define SEEN_IN_MM	2.0		/* a cell's fissure: this close */
#define SEEN_OFF_LO	4.0		/* its background: this far off */
#define SEEN_OFF_HI	10.0
#define SEEN_MIN_N	3		/* candidates, at least */
#define SEEN_MIN	0.40		/* under it: the geometric fallback */
#define LOBE_SCALE	100.0		/* mm: the polynomial's unit */
#define RIDGE		1e-3		/* on the quadratic terms */
#define NODES_MAX	16		/* the correction's grid, per axis */
#define NODE_MM		15.0		/* its spacing, at least */
#define BEND		0.1		/* its bending penalty */
#define MIN_LUNG_VOX	2000		/* on the grid: 6.75 mL */

/*
 * The mean lobe volumes of 32 healthy volunteers on supine CT, as shares
 * of both lungs (Yamada et al., 2020, Table 3): RUL 17.9 %, RML 9.3 %,
 * RLL 26.5 %, LUL 23.1 %, LLL 23.2 %.  The expected fissures cut each
 * lung into these shares.
 */
#define SHARE_RLL	(26.5 / (17.9 + 9.3 + 26.5))
#define SHARE_RML	(9.3 / (17.9 + 9.3))	/* of RUL + RML */
#define SHARE_LLL	(23.2 / (23.1 + 23.2))

enum fissure {
	FIS_RO,		/* right oblique */
	FIS_RH,		/* right horizontal */
	FIS_LO,		/* left oblique */
	FIS__MAX
};

/* The eigenvalues of the symmetric 3x3 matrix h (mat3.h), ordered by
 * magnitude: |e[0]| >= |e[1]| >= |e[2]|. */
static void
eig3_mag(const double h[6], double e[3])
{
	double	 t;
	int	 i, j;

	mat3_sym_eigen(h, e);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (fabs(e[j]) > fabs(e[i])) {
				t = e[i];
				e[i] = e[j];
				e[j] = t;
			}
}

static const char *const fissure_zh[FIS__MAX] = {
	"右斜裂", "右水平裂", "左斜裂"
};

/* A fissure: d = f(u, w) in the frame (t1, t2, n) at c, patient mm. */
struct surface {
	double		 c[3], t1[3], t2[3], n[3];
	double		 a[6];	/* 1, U, W, U^2, UW, W^2; U = u / 100 mm */
	double		 ulo, uhi, wlo, whi;	/* where the fit had points */
	double		 seen;	/* share of the expected extent */
	int		 fitted;
	/* A smooth correction over a grid of nodes (bilinear between them),
	 * where the fissure bends more than the quadratic: gn[0] == 0 for
	 * none. */
	int		 gn[2];
	double		 g0[2], gstep;
	double		 gd[NODES_MAX * NODES_MAX];
};

/* A fissure candidate. */
struct cand {
	float		 p[3];	/* patient mm */
	float		 nv[3];	/* the sheet's normal, patient */
	float		 m;	/* plate measure */
	uint8_t		 side;
};

/* The resampled work grid and how it sits in the patient. */
struct grid {
	int		 dims[3];
	size_t		 n;
	int		 box0[3];	/* the crop's first voxel in v */
	int		 box1[3];	/* and its last */
	double		 sp[3];		/* v's spacing */
	double		 h;		/* the grid's */
	double		 o[3];		/* patient position of v's voxel 0 */
	double		 m[3][3];	/* columns: mm per voxel of v */
	double		 mi[3][3];	/* its inverse */
	double		 axis[3][3];	/* the grid's axes, unit, patient */
	float		*hu;		/* smoothed, resampled */
	uint8_t		*side;		/* enum lung_side, resampled */
	uint8_t		*region;	/* where the filter looks: side */
};

static double
dot3(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* The patient position of v's voxel (i, j, k), fractional allowed. */
static void
vox_to_patient(const struct grid *g, double i, double j, double k,
    double p[3])
{
	int	 r;

	for (r = 0; r < 3; r++)
		p[r] = g->o[r] + g->m[r][0] * i + g->m[r][1] * j +
		    g->m[r][2] * k;
}

/* The work grid's voxel nearest to patient position p; -1 outside. */
static long
patient_to_grid(const struct grid *g, const double p[3])
{
	double	 d[3], f[3];
	long	 q[3];
	int	 r;

	for (r = 0; r < 3; r++)
		d[r] = p[r] - g->o[r];
	for (r = 0; r < 3; r++) {
		f[r] = g->mi[r][0] * d[0] + g->mi[r][1] * d[1] +
		    g->mi[r][2] * d[2];
		f[r] = (f[r] - g->box0[r]) * g->sp[r] / g->h;
		q[r] = lround(f[r]);
		if (q[r] < 0 || q[r] >= g->dims[r])
			return -1;
	}
	return ((long)q[2] * g->dims[1] + q[1]) * g->dims[0] + q[0];
}

static int
inv3(const double m[3][3], double o[3][3])
{
	double	 det;

	det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
	    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
	    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
	if (fabs(det) < 1e-12)
		return -1;
	o[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
	o[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
	o[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
	o[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
	o[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
	o[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
	o[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
	o[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
	o[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
	return 0;
}

/* The unit eigenvector of h for its eigenvalue l: the longest cross
 * product of two rows of h - l I. */
static void
eigvec3(const double h[6], double l, double v[3])
{
	double	 r[3][3], c[3][3], best = -1, len;
	int	 i, k;

	r[0][0] = h[0] - l; r[0][1] = h[3]; r[0][2] = h[4];
	r[1][0] = h[3]; r[1][1] = h[1] - l; r[1][2] = h[5];
	r[2][0] = h[4]; r[2][1] = h[5]; r[2][2] = h[2] - l;
	for (i = 0; i < 3; i++) {
		const double	*a = r[i], *b = r[(i + 1) % 3];

		c[i][0] = a[1] * b[2] - a[2] * b[1];
		c[i][1] = a[2] * b[0] - a[0] * b[2];
		c[i][2] = a[0] * b[1] - a[1] * b[0];
	}
	k = 0;
	for (i = 0; i < 3; i++) {
		len = dot3(c[i], c[i]);
		if (len > best) {
			best = len;
			k = i;
		}
	}
	len = sqrt(best);
	if (len < 1e-30) {
		v[0] = v[1] = 0;
		v[2] = 1;
		return;
	}
	for (i = 0; i < 3; i++)
		v[i] = c[k][i] / len;
}

/* The Hessian at grid voxel (x, y, z), by central differences (HU/mm^2)
 * along the grid's axes; the voxel is at least one from the edges. */
static void
hessian(const struct grid *g, int x, int y, int z, double h[6])
{
	const float	*f = g->hu;
	size_t		 sx = 1, sy = (size_t)g->dims[0];
	size_t		 sz = (size_t)g->dims[0] * g->dims[1];
	size_t		 i = (size_t)z * sz + (size_t)y * sy + (size_t)x;
	double		 c = f[i], k = 1.0 / (g->h * g->h);

	h[0] = (f[i + sx] - 2 * c + f[i - sx]) * k;
	h[1] = (f[i + sy] - 2 * c + f[i - sy]) * k;
	h[2] = (f[i + sz] - 2 * c + f[i - sz]) * k;
	h[3] = (f[i + sx + sy] - f[i + sx - sy] - f[i - sx + sy] +
	    f[i - sx - sy]) * k / 4;
	h[4] = (f[i + sx + sz] - f[i + sx - sz] - f[i - sx + sz] +
	    f[i - sx - sz]) * k / 4;
	h[5] = (f[i + sy + sz] - f[i + sy - sz] - f[i - sy + sz] +
	    f[i - sy - sz]) * k / 4;
}

/* Frangi's (1998) ratio adapted to plates: a bright sheet's measure. */
static double
plate(const double e[3])
{
	double	 rb;

	if (e[0] >= 0 || fabs(e[1]) > PLATE_RATIO * fabs(e[0]))
		return 0;
	rb = e[1] / (PLATE_ALPHA * e[0]);
	return -e[0] * exp(-rb * rb / 2.0);
}

/* ---- the surfaces ---- */

static double
poly(const double *a, double U, double W, double *dU, double *dW)
{
	if (dU != NULL)
		*dU = a[1] + 2 * a[3] * U + a[4] * W;
	if (dW != NULL)
		*dW = a[2] + a[4] * U + 2 * a[5] * W;
	return a[0] + a[1] * U + a[2] * W + a[3] * U * U + a[4] * U * W +
	    a[5] * W * W;
}

static double
clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* The correction at (u, w), held constant beyond the fit's points. */
static double
corr(const struct surface *s, double u, double w, int *node, double *wt)
{
	double	 fu, fw, tu, tw;
	int	 iu, iw;

	if (s->gn[0] == 0)
		return 0;
	fu = (clampd(u, s->ulo, s->uhi) - s->g0[0]) / s->gstep;
	fw = (clampd(w, s->wlo, s->whi) - s->g0[1]) / s->gstep;
	iu = (int)floor(fu);
	iw = (int)floor(fw);
	iu = iu < 0 ? 0 : iu > s->gn[0] - 2 ? s->gn[0] - 2 : iu;
	iw = iw < 0 ? 0 : iw > s->gn[1] - 2 ? s->gn[1] - 2 : iw;
	tu = clampd(fu - iu, 0, 1);
	tw = clampd(fw - iw, 0, 1);
	if (node != NULL) {
		node[0] = iw * s->gn[0] + iu;
		node[1] = node[0] + 1;
		node[2] = node[0] + s->gn[0];
		node[3] = node[2] + 1;
		wt[0] = (1 - tu) * (1 - tw);
		wt[1] = tu * (1 - tw);
		wt[2] = (1 - tu) * tw;
		wt[3] = tu * tw;
	}
	return (1 - tw) * ((1 - tu) * s->gd[iw * s->gn[0] + iu] + tu *
	    s->gd[iw * s->gn[0] + iu + 1]) + tw * ((1 - tu) *
	    s->gd[(iw + 1) * s->gn[0] + iu] + tu *
	    s->gd[(iw + 1) * s->gn[0] + iu + 1]);
}

/* The surface's offset d at (u, w) mm, with its slopes (mm per mm):
 * beyond the range of the fit's points it goes on along the tangent
 * plane at the range's edge. */
static double
surf_eval(const struct surface *s, double u, double w, double *du,
    double *dw)
{
	double	 uc = clampd(u, s->ulo, s->uhi), wc = clampd(w, s->wlo, s->whi);
	double	 gu, gw, d;

	d = LOBE_SCALE * poly(s->a, uc / LOBE_SCALE, wc / LOBE_SCALE, &gu,
	    &gw);
	d += gu * (u - uc) + gw * (w - wc);
	d += corr(s, u, w, NULL, NULL);
	if (du != NULL)
		*du = gu;
	if (dw != NULL)
		*dw = gw;
	return d;
}

/* Frame coordinates of p. */
static void
to_frame(const struct surface *s, const double p[3], double *u, double *w,
    double *d)
{
	double	 q[3] = { p[0] - s->c[0], p[1] - s->c[1], p[2] - s->c[2] };

	*u = dot3(q, s->t1);
	*w = dot3(q, s->t2);
	*d = dot3(q, s->n);
}

/* The signed distance of p along the frame's normal above the surface:
 * > 0 on the upper lobe's side. */
static double
surf_side(const struct surface *s, const double p[3])
{
	double	 u, w, d;

	to_frame(s, p, &u, &w, &d);
	return d - surf_eval(s, u, w, NULL, NULL);
}

/* The frame of a fissure in lung side's centroid c. */
static void
surf_frame(struct surface *s, enum fissure f, const double c[3])
{
	double	 al = OBLIQUE_DEG * PI / 180.0;

	memset(s, 0, sizeof(*s));
	memcpy(s->c, c, sizeof(s->c));
	s->t1[0] = 1;
	if (f == FIS_RH) {
		s->t2[1] = 1;
		s->n[2] = 1;
	} else {
		/* Along the fissure: posterior (+y) and up (+z); the
		 * normal points anterior and up, to the upper lobe. */
		s->t2[1] = cos(al);
		s->t2[2] = sin(al);
		s->n[1] = -sin(al);
		s->n[2] = cos(al);
	}
	s->ulo = s->wlo = -1e9;
	s->uhi = s->whi = 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The expected surface: the frame's plane d = d0 that leaves the share
 * below of the lung's voxels (of side, and above the surface above when
 * given) under it.  Returns -1 when the lung has no voxels.
 */
static int
surf_prior(struct surface *s, const struct grid *g, int side,
    const struct surface *above, double below)
{
	double	*d, p[3], u, w, dd;
	size_t	 i, n = 0, cap = 0;
	int	 x, y, z;

	for (i = 0; i < g->n; i++)
		if (g->side[i] == side)
			cap++;
	if (cap == 0 || (d = malloc(cap * sizeof(*d))) == NULL)
		return -1;
	for (z = 0, i = 0; z < g->dims[2]; z++)
		for (y = 0; y < g->dims[1]; y++)
			for (x = 0; x < g->dims[0]; x++, i++) {
				if (g->side[i] != side)
					continue;
				vox_to_patient(g, g->box0[0] + x * g->h /
				    g->sp[0], g->box0[1] + y * g->h / g->sp[1],
				    g->box0[2] + z * g->h / g->sp[2], p);
				if (above != NULL && surf_side(above, p) <= 0)
					continue;
				to_frame(s, p, &u, &w, &dd);
				d[n++] = dd;
			}
	if (n == 0) {
		free(d);
		return -1;
	}
	qsort(d, n, sizeof(*d), cmp_double);
	memset(s->a, 0, sizeof(s->a));
	s->a[0] = d[(size_t)(below * (double)(n - 1))] / LOBE_SCALE;
	free(d);
	return 0;
}

/* The side of the region at patient position p; 0 outside the grid. */
static int
q_grid(const struct grid *g, const double p[3], const uint8_t *reg)
{
	long	 q = patient_to_grid(g, p);

	return q < 0 ? 0 : reg[q] & 0x7f;
}

/* Solve the n x n system a x = b (a row-major, destroyed) by Gaussian
 * elimination with partial pivoting.  Returns -1 when singular. */
static int
solve(double *a, double *b, double *x, int n)
{
	int	 i, j, k, piv;
	double	 t, f;

	for (k = 0; k < n; k++) {
		piv = k;
		for (i = k + 1; i < n; i++)
			if (fabs(a[i * n + k]) > fabs(a[piv * n + k]))
				piv = i;
		if (fabs(a[piv * n + k]) < 1e-12)
			return -1;
		if (piv != k) {
			for (j = 0; j < n; j++) {
				t = a[k * n + j];
				a[k * n + j] = a[piv * n + j];
				a[piv * n + j] = t;
			}
			t = b[k];
			b[k] = b[piv];
			b[piv] = t;
		}
		for (i = k + 1; i < n; i++) {
			f = a[i * n + k] / a[k * n + k];
			for (j = k; j < n; j++)
				a[i * n + j] -= f * a[k * n + j];
			b[i] -= f * b[k];
		}
	}
	for (i = n - 1; i >= 0; i--) {
		t = b[i];
		for (j = i + 1; j < n; j++)
			t -= a[i * n + j] * x[j];
		x[i] = t / a[i * n + i];
	}
	return 0;
}

/*
 * Whether candidate k agrees with surface s: its residual along the
 * normal (mm) in *r, and whether its sheet's normal is within 35 degrees
 * of the surface's there.
 */
static int
cand_fits(const struct surface *s, const struct cand *k, double *r,
    double *u, double *w)
{
	double	 p[3] = { k->p[0], k->p[1], k->p[2] }, d, gu, gw, sn[3], len;
	double	 kn[3] = { k->nv[0], k->nv[1], k->nv[2] };
	int	 i;

	to_frame(s, p, u, w, &d);
	*r = d - surf_eval(s, *u, *w, &gu, &gw);
	/* The surface's normal: n - gu t1 - gw t2. */
	for (i = 0; i < 3; i++)
		sn[i] = s->n[i] - gu * s->t1[i] - gw * s->t2[i];
	len = sqrt(dot3(sn, sn));
	return fabs(dot3(sn, kn)) >= NORMAL_COS * len;
}

/*
 * Fit s (its frame and expected plane set) to the candidates of side
 * (above the surface above when given) by iteratively reweighted least
 * squares with Tukey's biweight on a shrinking scale.  Returns the
 * number of points that carried the last fit.
 */
static size_t
surf_fit(struct surface *s, const struct cand *cs, size_t nc, int side,
    const struct surface *above)
{
	static const double	 scale[] = { 25, 15, 10, 6, 4, 3, 3, 3 };
	double			 A[36], b[6], x[6], phi[6], r, u, w, wt, sw;
	double			 ulo, uhi, wlo, whi, q;
	size_t			 i, used = 0;
	int			 it, j, l;

	for (it = 0; it < (int)(sizeof(scale) / sizeof(scale[0])); it++) {
		memset(A, 0, sizeof(A));
		memset(b, 0, sizeof(b));
		sw = 0;
		used = 0;
		ulo = wlo = 1e9;
		uhi = whi = -1e9;
		for (i = 0; i < nc; i++) {
			const struct cand	*k = &cs[i];
			double			 p[3];

			if (k->side != side)
				continue;
			if (!cand_fits(s, k, &r, &u, &w) ||
			    fabs(r) >= scale[it])
				continue;
			if (above != NULL) {
				p[0] = k->p[0];
				p[1] = k->p[1];
				p[2] = k->p[2];
				if (surf_side(above, p) < INLIER_MM)
					continue;
			}
			q = 1.0 - (r / scale[it]) * (r / scale[it]);
			wt = k->m * q * q;
			phi[0] = 1;
			phi[1] = u / LOBE_SCALE;
			phi[2] = w / LOBE_SCALE;
			phi[3] = phi[1] * phi[1];
			phi[4] = phi[1] * phi[2];
			phi[5] = phi[2] * phi[2];
			for (j = 0; j < 6; j++) {
				for (l = 0; l < 6; l++)
					A[j * 6 + l] += wt * phi[j] * phi[l];
				b[j] += wt * phi[j] * (r + surf_eval(s, u,
				    w, NULL, NULL)) / LOBE_SCALE;
			}
			sw += wt;
			used++;
			if (u < ulo) ulo = u;
			if (u > uhi) uhi = u;
			if (w < wlo) wlo = w;
			if (w > whi) whi = w;
		}
		if (used < 30 || sw <= 0)
			return 0;
		/* A little ridge keeps the curvature small where the points
		 * do not hold it. */
		for (j = 3; j < 6; j++)
			A[j * 6 + j] += RIDGE * sw;
		if (solve(A, b, x, 6) == -1)
			return 0;
		memcpy(s->a, x, sizeof(x));
		s->ulo = ulo;
		s->uhi = uhi;
		s->wlo = wlo;
		s->whi = whi;
	}
	s->fitted = 1;
	return used;
}


/*
 * Let the fitted surface bend where its points do: a correction over a
 * grid of nodes, fitted by the same reweighted least squares on a scale
 * of 6 down to 3 mm, with a penalty on its second differences (a discrete
 * thin plate, Wahba, 1990) that keeps it smooth and carries it on where
 * there are no points.
 */
static int
surf_refine(struct surface *s, const struct cand *cs, size_t nc, int side,
    const struct surface *above, const double ur[2], const double wr[2])
{
	static const double	 scale[] = { 6, 4, 3 };
	double			*A, *b, *x, r, u, w, q, wt, sw, lam, bw[4], p[3];
	int			 N, it, j, l, nd[4], iu, iw, d, k;
	size_t			 i;
	struct surface		 t = *s;

	t.gstep = fmax(NODE_MM, fmax(ur[1] - ur[0], wr[1] - wr[0]) /
	    (NODES_MAX - 1));
	t.gn[0] = (int)ceil((ur[1] - ur[0]) / t.gstep) + 1;
	t.gn[1] = (int)ceil((wr[1] - wr[0]) / t.gstep) + 1;
	if (t.gn[0] > NODES_MAX) t.gn[0] = NODES_MAX;
	if (t.gn[1] > NODES_MAX) t.gn[1] = NODES_MAX;
	if (t.gn[0] < 3 || t.gn[1] < 3)
		return 0;
	t.g0[0] = ur[0];
	t.g0[1] = wr[0];
	memset(t.gd, 0, sizeof(t.gd));
	N = t.gn[0] * t.gn[1];
	A = malloc((size_t)N * N * sizeof(*A));
	b = malloc((size_t)N * sizeof(*b));
	x = malloc((size_t)N * sizeof(*x));
	if (A == NULL || b == NULL || x == NULL) {
		free(A);
		free(b);
		free(x);
		return -1;
	}
	for (it = 0; it < (int)(sizeof(scale) / sizeof(scale[0])); it++) {
		memset(A, 0, (size_t)N * N * sizeof(*A));
		memset(b, 0, (size_t)N * sizeof(*b));
		sw = 0;
		for (i = 0; i < nc; i++) {
			const struct cand	*c = &cs[i];
			double			 base;

			if (c->side != side || !cand_fits(&t, c, &r, &u, &w) ||
			    fabs(r) >= scale[it])
				continue;
			if (above != NULL) {
				p[0] = c->p[0];
				p[1] = c->p[1];
				p[2] = c->p[2];
				if (surf_side(above, p) < INLIER_MM)
					continue;
			}
			q = 1.0 - (r / scale[it]) * (r / scale[it]);
			wt = c->m * q * q;
			/* The residual from the surface without the
			 * correction. */
			base = r + corr(&t, u, w, nd, bw);
			for (j = 0; j < 4; j++) {
				for (l = 0; l < 4; l++)
					A[nd[j] * N + nd[l]] += wt * bw[j] *
					    bw[l];
				b[nd[j]] += wt * bw[j] * base;
			}
			sw += wt;
		}
		if (sw <= 0)
			break;
		lam = BEND * sw / N;
		for (d = 0; d < 2; d++)
			for (iw = 0; iw < t.gn[1]; iw++)
				for (iu = 0; iu < t.gn[0]; iu++) {
					int	 c3[3];

					if (d == 0 && (iu == 0 || iu == t.gn[0] - 1))
						continue;
					if (d == 1 && (iw == 0 || iw == t.gn[1] - 1))
						continue;
					k = iw * t.gn[0] + iu;
					c3[1] = k;
					c3[0] = d == 0 ? k - 1 : k - t.gn[0];
					c3[2] = d == 0 ? k + 1 : k + t.gn[0];
					for (j = 0; j < 3; j++)
						for (l = 0; l < 3; l++)
							A[c3[j] * N + c3[l]] += lam *
							    (j == 1 ? -2 : 1) *
							    (l == 1 ? -2 : 1);
				}
		for (k = 0; k < N; k++)
			A[k * N + k] += 1e-3 * lam;
		if (solve(A, b, x, N) == -1)
			break;
		memcpy(t.gd, x, (size_t)N * sizeof(*x));
	}
	free(A);
	free(b);
	free(x);
	*s = t;
	return 0;
}

/*
 * The share of the surface's expected extent that the candidates show:
 * over a CELL_MM grid of (u, w), of the cells whose surface point lies
 * in the filter's region of side (and above the surface above, when
 * given), those where the candidates within SEEN_IN_MM of the surface
 * are at least SEEN_MIN_N and at least three times as dense as those
 * from SEEN_OFF_LO to SEEN_OFF_HI mm off it on both sides: a sheet, not
 * the scatter of noise and small vessels that any surface collects.
 */
static double
surf_seen(const struct surface *s, const struct grid *g, const uint8_t *reg,
    int side, const struct cand *cs, size_t nc, const struct surface *above,
    const double urange[2], const double wrange[2])
{
	int		 nu, nw, iu, iw, ci;
	int		*cnt;
	size_t		 i, expect = 0, seen = 0;
	double		 u, w, r, p[3], d, ar;

	nu = (int)ceil((urange[1] - urange[0]) / CELL_MM) + 1;
	nw = (int)ceil((wrange[1] - wrange[0]) / CELL_MM) + 1;
	if (nu <= 0 || nw <= 0 ||
	    (cnt = calloc((size_t)nu * nw * 2, sizeof(*cnt))) == NULL)
		return 0;
	for (i = 0; i < nc; i++) {
		if (cs[i].side != side || !cand_fits(s, &cs[i], &r, &u, &w))
			continue;
		ar = fabs(r);
		if (ar > SEEN_IN_MM && (ar < SEEN_OFF_LO || ar > SEEN_OFF_HI))
			continue;
		iu = (int)floor((u - urange[0]) / CELL_MM);
		iw = (int)floor((w - wrange[0]) / CELL_MM);
		if (iu >= 0 && iu < nu && iw >= 0 && iw < nw)
			cnt[2 * (iw * nu + iu) + (ar > SEEN_IN_MM)]++;
	}
	for (iw = 0; iw < nw; iw++)
		for (iu = 0; iu < nu; iu++) {
			int	*k = &cnt[2 * (iw * nu + iu)];

			u = urange[0] + (iu + 0.5) * CELL_MM;
			w = wrange[0] + (iw + 0.5) * CELL_MM;
			d = surf_eval(s, u, w, NULL, NULL);
			for (ci = 0; ci < 3; ci++)
				p[ci] = s->c[ci] + u * s->t1[ci] +
				    w * s->t2[ci] + d * s->n[ci];
			if ((q_grid(g, p, reg)) != side)
				continue;
			if (above != NULL && surf_side(above, p) < CELL_MM)
				continue;
			expect++;
			/* In: 2 SEEN_IN_MM wide; off: 2 (HI - LO). */
			if (k[0] >= SEEN_MIN_N && k[0] * (SEEN_OFF_HI -
			    SEEN_OFF_LO) >= 3 * SEEN_IN_MM * k[1])
				seen++;
		}
	free(cnt);
	return expect > 0 ? (double)seen / (double)expect : 0;
}

/* The range of the frame coordinates (u, w) of side's grid voxels. */
static void
frame_range(const struct surface *s, const struct grid *g, int side,
    double ur[2], double wr[2])
{
	double	 p[3], u, w, d;
	size_t	 i;
	int	 x, y, z;

	ur[0] = wr[0] = 1e9;
	ur[1] = wr[1] = -1e9;
	for (z = 0, i = 0; z < g->dims[2]; z++)
		for (y = 0; y < g->dims[1]; y++)
			for (x = 0; x < g->dims[0]; x++, i++) {
				if (g->side[i] != side)
					continue;
				vox_to_patient(g, g->box0[0] + x * g->h /
				    g->sp[0], g->box0[1] + y * g->h / g->sp[1],
				    g->box0[2] + z * g->h / g->sp[2], p);
				to_frame(s, p, &u, &w, &d);
				if (u < ur[0]) ur[0] = u;
				if (u > ur[1]) ur[1] = u;
				if (w < wr[0]) wr[0] = w;
				if (w > wr[1]) wr[1] = w;
			}
}

/* The centroid of side's grid voxels (patient mm); -1 when none. */
static int
centroid(const struct grid *g, int side, double c[3], size_t *count)
{
	double	 s[3] = { 0, 0, 0 }, p[3];
	size_t	 i, n = 0;
	int	 x, y, z, r;

	for (z = 0, i = 0; z < g->dims[2]; z++)
		for (y = 0; y < g->dims[1]; y++)
			for (x = 0; x < g->dims[0]; x++, i++) {
				if (g->side[i] != side)
					continue;
				vox_to_patient(g, g->box0[0] + x * g->h /
				    g->sp[0], g->box0[1] + y * g->h / g->sp[1],
				    g->box0[2] + z * g->h / g->sp[2], p);
				for (r = 0; r < 3; r++)
					s[r] += p[r];
				n++;
			}
	*count = n;
	if (n == 0)
		return -1;
	for (r = 0; r < 3; r++)
		c[r] = s[r] / (double)n;
	return 0;
}

/*
 * One fissure: fitted from the expected plane; the expected plane itself
 * when it is seen over less than SEEN_MIN of its extent.
 */
static void
fissure(struct surface *s, enum fissure f, const struct grid *g, int side,
    const double c[3], const struct cand *cs, size_t nc,
    const struct surface *above, double below)
{
	struct surface	 prior, fit;
	double		 ur[2], wr[2];

	surf_frame(&prior, f, c);
	if (surf_prior(&prior, g, side, above, below) == -1) {
		*s = prior;
		return;
	}
	frame_range(&prior, g, side, ur, wr);
	fit = prior;
	if (surf_fit(&fit, cs, nc, side, above) > 0) {
		/* Without memory for the correction the quadratic stays. */
		(void)surf_refine(&fit, cs, nc, side, above, ur, wr);
		fit.seen = surf_seen(&fit, g, g->region, side, cs, nc, above,
		    ur, wr);
		if (fit.seen >= SEEN_MIN) {
			*s = fit;
			return;
		}
	}
	prior.seen = fit.fitted ? fit.seen :
	    surf_seen(&prior, g, g->region, side, cs, nc, above, ur, wr);
	prior.fitted = 0;
	*s = prior;
}

/* ---- the passes ---- */

#define CHECK(x) do {							\
	if ((x) == -1) {						\
		(void)snprintf(err, errlen, "compute: %s",		\
		    compute_error(c));					\
		goto fail;						\
	}								\
} while (0)

/* Pass 1: the work grid of the lungs' box. */
static int
make_grid(struct compute *c, const struct series_volume *v,
    const uint8_t *lungs, struct grid *g, char *err, size_t errlen)
{
	int		 lo[3] = { v->nx, v->ny, v->nz }, hi[3] = { -1, -1, -1 };
	int		 cd[3], x, y, z, r;
	size_t		 i, cn;
	float		*crop = NULL, *mid = NULL, *sm = NULL;
	double		 sig[3] = { SIGMA_MM, SIGMA_MM, SIGMA_MM }, osp[3];
	double		 msp[3];
	int		 md[3];
	size_t		 mn;
	double		 st[3], len;

	/* The lungs' box, from each row's first and last lung voxel (the
	 * empty stretches passed eight voxels at a time; LUNG_NONE is 0). */
	for (z = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++) {
			const uint8_t *row = lungs + ((size_t)z * v->ny + y) *
			    v->nx;
			uint64_t w;

			for (x = 0; x + 8 <= v->nx; x += 8) {
				memcpy(&w, row + x, sizeof(w));
				if (w != 0)
					break;
			}
			while (x < v->nx && row[x] == LUNG_NONE)
				x++;
			if (x == v->nx)
				continue;
			if (x < lo[0]) lo[0] = x;
			for (x = v->nx - 1; row[x] == LUNG_NONE; x--)
				continue;
			if (x > hi[0]) hi[0] = x;
			if (y < lo[1]) lo[1] = y;
			if (y > hi[1]) hi[1] = y;
			if (z < lo[2]) lo[2] = z;
			if (z > hi[2]) hi[2] = z;
		}
	if (hi[0] < 0)
		return 1;
	for (r = 0; r < 3; r++) {
		int	 m = (int)ceil(2 * GRID_MM / v->spacing[r]) + 1;
		int	 nmax = r == 0 ? v->nx : r == 1 ? v->ny : v->nz;

		lo[r] = lo[r] - m < 0 ? 0 : lo[r] - m;
		hi[r] = hi[r] + m >= nmax ? nmax - 1 : hi[r] + m;
		cd[r] = hi[r] - lo[r] + 1;
		g->box0[r] = lo[r];
		g->box1[r] = hi[r];
		g->sp[r] = v->spacing[r];
		osp[r] = GRID_MM;
	}
	g->h = GRID_MM;
	/* The patient geometry: the step between slices where known. */
	memcpy(st, v->step, sizeof(st));
	len = sqrt(dot3(st, st));
	if (!(len > 1e-6)) {
		for (r = 0; r < 3; r++)
			st[r] = v->normal[r] * v->spacing[2];
		len = v->spacing[2];
	}
	for (r = 0; r < 3; r++) {
		g->o[r] = v->origin[r];
		g->m[r][0] = v->row[r] * v->spacing[0];
		g->m[r][1] = v->col[r] * v->spacing[1];
		g->m[r][2] = st[r];
		g->axis[0][r] = v->row[r];
		g->axis[1][r] = v->col[r];
		g->axis[2][r] = st[r] / len;
	}
	if (inv3(g->m, g->mi) == -1) {
		(void)snprintf(err, errlen, "degenerate volume orientation");
		return -1;
	}
	cn = (size_t)cd[0] * cd[1] * cd[2];
	compute_resample_dims(cd, v->spacing, osp, g->dims);
	g->n = (size_t)g->dims[0] * g->dims[1] * g->dims[2];
	/* A finer grid first (1 mm, or the volume's own where coarser) for
	 * the smoothing, which costs what the voxels cost. */
	for (r = 0; r < 3; r++)
		msp[r] = v->spacing[r] > MID_MM ? v->spacing[r] : MID_MM;
	compute_resample_dims(cd, v->spacing, msp, md);
	mn = (size_t)md[0] * md[1] * md[2];
	if ((crop = malloc(cn * sizeof(*crop))) == NULL ||
	    (mid = malloc(mn * sizeof(*mid))) == NULL ||
	    (sm = malloc(mn * sizeof(*sm))) == NULL ||
	    (g->hu = malloc(g->n * sizeof(*g->hu))) == NULL ||
	    (g->side = malloc(g->n)) == NULL ||
	    (g->region = calloc(g->n, 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (z = 0; z < cd[2]; z++)
		for (y = 0; y < cd[1]; y++)
			memcpy(crop + ((size_t)z * cd[1] + y) * cd[0],
			    v->vox + (((size_t)(z + lo[2]) * v->ny + y +
			    lo[1]) * v->nx + lo[0]), cd[0] * sizeof(*crop));
	CHECK(compute_resample(c, mid, md, crop, cd, v->spacing, msp));
	free(crop);
	crop = NULL;
	CHECK(compute_gauss(c, sm, mid, md, msp, sig));
	CHECK(compute_resample(c, g->hu, g->dims, sm, md, msp, osp));
	free(mid);
	free(sm);
	mid = sm = NULL;
	for (z = 0, i = 0; z < g->dims[2]; z++) {
		int	 sz = lo[2] + (int)lround(z * GRID_MM / v->spacing[2]);

		if (sz > hi[2]) sz = hi[2];
		for (y = 0; y < g->dims[1]; y++) {
			int	 sy = lo[1] + (int)lround(y * GRID_MM /
			    v->spacing[1]);

			if (sy > hi[1]) sy = hi[1];
			for (x = 0; x < g->dims[0]; x++, i++) {
				int	 sx = lo[0] + (int)lround(x * GRID_MM /
				    v->spacing[0]);

				if (sx > hi[0]) sx = hi[0];
				g->side[i] = lungs[((size_t)sz * v->ny + sy) *
				    v->nx + sx];
			}
		}
	}
	return 0;
fail:
	free(crop);
	free(mid);
	free(sm);
	return -1;
}

/* Pass 2: where the filter looks: each lung eroded, less the vessels. */
static int
make_region(struct compute *c, struct grid *g, char *err, size_t errlen)
{
	uint8_t	*a = NULL, *b = NULL, *ves = NULL;
	size_t	 i;
	int	 side, rc = -1;

	if ((a = malloc(g->n)) == NULL || (b = malloc(g->n)) == NULL ||
	    (ves = malloc(g->n)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	CHECK(compute_threshold(c, a, g->hu, g->n, (float)VESSEL_HU, 1e9f));
	CHECK(compute_morph(c, ves, a, g->dims, MORPH_DILATE, MORPH_BOX, 1));
	for (side = LUNG_RIGHT; side <= LUNG_LEFT; side++) {
		for (i = 0; i < g->n; i++)
			a[i] = g->side[i] == side;
		CHECK(compute_morph(c, b, a, g->dims, MORPH_ERODE, MORPH_CROSS,
		    ERODE_VOX));
		for (i = 0; i < g->n; i++)
			if (b[i])
				g->region[i] = (uint8_t)side;
	}
	/* The region for the seen share keeps the vessels (they cross the
	 * fissures); the filter's leaves them out (ves marks them). */
	for (i = 0; i < g->n; i++)
		if (ves[i] && g->region[i])
			g->region[i] |= 0x80;
	rc = 0;
fail:
	free(a);
	free(b);
	free(ves);
	return rc;
}

/* Pass 2 and 3: the plate measure and the candidates. */
static int
find_candidates(struct compute *c, struct grid *g, struct cand **out,
    size_t *nout, char *err, size_t errlen)
{
	float		*m = NULL;
	uint8_t		*mk = NULL;
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	size_t		 nst = 0, i, nc = 0, cap = 0;
	struct cand	*cs = NULL;
	int		 z, rc = -1;

	*out = NULL;
	*nout = 0;
	if ((m = calloc(g->n, sizeof(*m))) == NULL ||
	    (mk = calloc(g->n, 1)) == NULL ||
	    (lab = malloc(g->n * sizeof(*lab))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 2)
#endif
	for (z = 1; z < g->dims[2] - 1; z++) {
		int	 x, y;
		double	 h[6], e[3], pm;

		for (y = 1; y < g->dims[1] - 1; y++)
			for (x = 1; x < g->dims[0] - 1; x++) {
				size_t	 k = ((size_t)z * g->dims[1] + y) *
				    g->dims[0] + x;
				uint8_t	 r = g->region[k];

				if (r == 0 || (r & 0x80))
					continue;
				hessian(g, x, y, z, h);
				eig3_mag(h, e);
				pm = plate(e);
				if (pm >= PLATE_MIN) {
					m[k] = (float)pm;
					mk[k] = 1;
				}
			}
	}
	CHECK(compute_label(c, lab, mk, m, g->dims, 26, &st, &nst));
	for (i = 0; i < g->n; i++) {
		int		 x, y, zz, r;
		double		 h[6], e[3], nv[3], p[3];
		struct cand	*k;

		if (lab[i] == 0 || st[lab[i] - 1].count < PIECE_MIN)
			continue;
		if (nc == cap) {
			struct cand	*t;

			cap = cap ? cap * 2 : 4096;
			if ((t = realloc(cs, cap * sizeof(*cs))) == NULL) {
				(void)snprintf(err, errlen, "out of memory");
				goto fail;
			}
			cs = t;
		}
		x = (int)(i % (size_t)g->dims[0]);
		y = (int)(i / (size_t)g->dims[0] % (size_t)g->dims[1]);
		zz = (int)(i / ((size_t)g->dims[0] * g->dims[1]));
		hessian(g, x, y, zz, h);
		eig3_mag(h, e);
		eigvec3(h, e[0], nv);
		vox_to_patient(g, g->box0[0] + x * g->h / g->sp[0],
		    g->box0[1] + y * g->h / g->sp[1],
		    g->box0[2] + zz * g->h / g->sp[2], p);
		k = &cs[nc++];
		for (r = 0; r < 3; r++) {
			k->p[r] = (float)p[r];
			k->nv[r] = (float)(nv[0] * g->axis[0][r] +
			    nv[1] * g->axis[1][r] + nv[2] * g->axis[2][r]);
		}
		k->m = m[i];
		k->side = g->region[i] & 0x7f;
	}
	*out = cs;
	*nout = nc;
	cs = NULL;
	rc = 0;
fail:
	free(cs);
	free(st);
	free(m);
	free(mk);
	free(lab);
	return rc;
}

/* The lobe at patient position p of lung side. */
static uint8_t
lobe_at(const struct surface s[FIS__MAX], int side, const double p[3])
{
	if (side == LUNG_RIGHT) {
		if (surf_side(&s[FIS_RO], p) <= 0)
			return LOBE_RLL;
		return surf_side(&s[FIS_RH], p) > 0 ? LOBE_RUL : LOBE_RML;
	}
	return surf_side(&s[FIS_LO], p) <= 0 ? LOBE_LLL : LOBE_LUL;
}

/* The method text, in Chinese, for the page. */
static void
method_text(struct lobe_info *info, const struct surface s[FIS__MAX],
    const int present[FIS__MAX])
{
	char	*o = info->method_zh;
	size_t	 sz = sizeof(info->method_zh), len;
	int	 f;

	len = (size_t)snprintf(o, sz, "按叶间裂分叶（Hessian板状滤波与曲面拟合）：");
	for (f = 0; f < FIS__MAX && len < sz; f++) {
		if (!present[f]) {
			/* Once per lung: the horizontal fissure's is the
			 * right oblique's. */
			if (f != FIS_RH)
				len += (size_t)snprintf(o + len, sz - len,
				    "未见%s，无%s；", f == FIS_LO ? "左肺" :
				    "右肺", f == FIS_LO ? "左斜裂" :
				    "右斜裂与右水平裂");
		} else if (s[f].fitted)
			len += (size_t)snprintf(o + len, sz - len, "%s见%.0f%%；",
			    fissure_zh[f], 100.0 * s[f].seen);
		else
			len += (size_t)snprintf(o + len, sz - len,
			    "%s仅见%.0f%%，按肺的几何形态估计；", fissure_zh[f],
			    100.0 * s[f].seen);
	}
	if (len < sz)
		(void)snprintf(o + len, sz - len, "%s", info->fallback ?
		    "肺叶边界为近似。" : "肺叶边界按拟合的叶间裂曲面划分，为近似。");
}

int
lobes_find(struct compute *c, const struct series_volume *v,
    const uint8_t *lungs, uint8_t *lobes, struct lobe_info *info,
    char *err, size_t errlen)
{
	struct grid	 g;
	struct cand	*cs = NULL;
	uint8_t		*lbc = NULL, *mixed = NULL;
	int		*qxs = NULL;
	struct surface	 s[FIS__MAX];
	double		 ctr[LUNG_SIDE__MAX][3];
	int		 present[FIS__MAX], have[LUNG_SIDE__MAX] = { 0 };
	size_t		 nc = 0, cnt, nv;
	int		 rc = -1, f, z;

	memset(&g, 0, sizeof(g));
	memset(info, 0, sizeof(*info));
	memset(s, 0, sizeof(s));
	nv = (size_t)v->nx * v->ny * v->nz;
	memset(lobes, LOBE_NONE, nv);
	switch (make_grid(c, v, lungs, &g, err, errlen)) {
	case -1:
		goto fail;
	case 1:
		(void)snprintf(info->method_zh, sizeof(info->method_zh),
		    "未见肺组织，未分肺叶。");
		rc = 0;
		goto fail;
	default:
		break;
	}
	if (make_region(c, &g, err, errlen) == -1 ||
	    find_candidates(c, &g, &cs, &nc, err, errlen) == -1)
		goto fail;
	for (f = LUNG_RIGHT; f <= LUNG_LEFT; f++)
		have[f] = centroid(&g, f, ctr[f], &cnt) == 0 &&
		    cnt >= MIN_LUNG_VOX;
	present[FIS_RO] = present[FIS_RH] = have[LUNG_RIGHT];
	present[FIS_LO] = have[LUNG_LEFT];
	if (have[LUNG_RIGHT]) {
		fissure(&s[FIS_RO], FIS_RO, &g, LUNG_RIGHT, ctr[LUNG_RIGHT],
		    cs, nc, NULL, SHARE_RLL);
		fissure(&s[FIS_RH], FIS_RH, &g, LUNG_RIGHT, ctr[LUNG_RIGHT],
		    cs, nc, &s[FIS_RO], SHARE_RML);
	}
	if (have[LUNG_LEFT])
		fissure(&s[FIS_LO], FIS_LO, &g, LUNG_LEFT, ctr[LUNG_LEFT],
		    cs, nc, NULL, SHARE_LLL);
	for (f = 0; f < FIS__MAX; f++) {
		info->fissure_seen[f] = present[f] ? s[f].seen : 0;
		if (present[f] && !s[f].fitted)
			info->fallback = 1;
	}
	method_text(info, s, present);

	/* Pass 6: every lung voxel (all inside the box) by its side of the
	 * surfaces; on the work grid first, where a voxel and all its
	 * neighbours agree the lung voxels nearest to it take its lobe, the
	 * others are worked out. */
	if ((lbc = calloc(g.n, 1)) == NULL || (mixed = calloc(g.n, 1)) == NULL ||
	    (qxs = malloc((size_t)v->nx * sizeof(*qxs))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (z = 0; z < v->nx; z++)
		qxs[z] = (int)lround((z - g.box0[0]) * g.sp[0] / g.h);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 4)
#endif
	for (z = 0; z < g.dims[2]; z++) {
		int	 x, y;
		double	 p[3];

		for (y = 0; y < g.dims[1]; y++)
			for (x = 0; x < g.dims[0]; x++) {
				size_t	 i = ((size_t)z * g.dims[1] + y) *
				    g.dims[0] + x;
				int	 l = g.side[i];

				if (l == LUNG_NONE || l >= LUNG_SIDE__MAX ||
				    !have[l])
					continue;
				vox_to_patient(&g, g.box0[0] + x * g.h /
				    g.sp[0], g.box0[1] + y * g.h / g.sp[1],
				    g.box0[2] + z * g.h / g.sp[2], p);
				lbc[i] = lobe_at(s, l, p);
			}
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 4)
#endif
	for (z = 0; z < g.dims[2]; z++) {
		int	 x, y, dx, dy, dz;

		for (y = 0; y < g.dims[1]; y++)
			for (x = 0; x < g.dims[0]; x++) {
				size_t	 i = ((size_t)z * g.dims[1] + y) *
				    g.dims[0] + x;

				if (lbc[i] == LOBE_NONE)
					continue;
				if (x == 0 || y == 0 || z == 0 ||
				    x == g.dims[0] - 1 || y == g.dims[1] - 1 ||
				    z == g.dims[2] - 1) {
					mixed[i] = 1;
					continue;
				}
				for (dz = -1; dz <= 1; dz++)
					for (dy = -1; dy <= 1; dy++)
						for (dx = -1; dx <= 1; dx++)
							if (lbc[(size_t)((long)i +
							    ((long)dz * g.dims[1] +
							    dy) * g.dims[0] + dx)] !=
							    lbc[i])
								mixed[i] = 1;
			}
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 4)
#endif
	for (z = g.box0[2]; z <= g.box1[2]; z++) {
		int	 x, y, qx, qy, qz;
		double	 p[3];

		qz = (int)lround((z - g.box0[2]) * g.sp[2] / g.h);
		for (y = g.box0[1]; y <= g.box1[1]; y++) {
			qy = (int)lround((y - g.box0[1]) * g.sp[1] / g.h);
			for (x = g.box0[0]; x <= g.box1[0]; x++) {
				size_t	 i = ((size_t)z * v->ny + y) * v->nx + x;
				size_t	 q;
				uint8_t	 l = lungs[i];

				if (l == LUNG_NONE || l >= LUNG_SIDE__MAX ||
				    !have[l])
					continue;
				qx = qxs[x];
				if (qx >= 0 && qy >= 0 && qz >= 0 &&
				    qx < g.dims[0] && qy < g.dims[1] &&
				    qz < g.dims[2]) {
					q = ((size_t)qz * g.dims[1] + qy) *
					    g.dims[0] + qx;
					if (lbc[q] != LOBE_NONE && !mixed[q] &&
					    (lbc[q] <= LOBE_RLL) ==
					    (l == LUNG_RIGHT)) {
						lobes[i] = lbc[q];
						continue;
					}
				}
				vox_to_patient(&g, x, y, z, p);
				lobes[i] = lobe_at(s, l, p);
			}
		}
	}
	rc = 0;
fail:
	free(qxs);
	free(lbc);
	free(mixed);
	free(cs);
	free(g.hu);
	free(g.side);
	free(g.region);
	return rc;
}

/* ---- the segments ---- */

void
lobes_extents(const struct series_volume *v, const uint8_t *lobes,
    struct lobe_extent ext[LOBE__MAX])
{
	struct grid	 g;
	double		 p[3];
	size_t		 i;
	int		 x, y, z, l, r;

	memset(&g, 0, sizeof(g));
	for (r = 0; r < 3; r++) {
		g.o[r] = v->origin[r];
		g.m[r][0] = v->row[r] * v->spacing[0];
		g.m[r][1] = v->col[r] * v->spacing[1];
		g.m[r][2] = dot3(v->step, v->step) > 1e-12 ? v->step[r] :
		    v->normal[r] * v->spacing[2];
	}
	for (l = 0; l < LOBE__MAX; l++) {
		ext[l].voxels = 0;
		for (r = 0; r < 3; r++) {
			ext[l].lo[r] = 1e9;
			ext[l].hi[r] = -1e9;
		}
	}
	for (z = 0, i = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++, i++) {
				l = lobes[i];
				if (l == LOBE_NONE || l >= LOBE__MAX)
					continue;
				vox_to_patient(&g, x, y, z, p);
				ext[l].voxels++;
				for (r = 0; r < 3; r++) {
					if (p[r] < ext[l].lo[r])
						ext[l].lo[r] = p[r];
					if (p[r] > ext[l].hi[r])
						ext[l].hi[r] = p[r];
				}
			}
}

/* Where p lies in [lo, hi], 0..1. */
static double
frac(double p, double lo, double hi)
{
	return hi > lo ? clampd((p - lo) / (hi - lo), 0, 1) : 0.5;
}

const char *
lobes_segment_zh(enum lobe l, const struct lobe_extent *e, const double p[3])
{
	double	 lat, post, up;

	if (l <= LOBE_NONE || l >= LOBE__MAX || e == NULL || e->voxels == 0)
		return "";
	/* Lateral: away from the midline, to the patient's right (lower
	 * x) in the right lung, to the left in the left lung. */
	lat = frac(p[0], e->lo[0], e->hi[0]);
	if (l <= LOBE_RLL)
		lat = 1.0 - lat;
	post = frac(p[1], e->lo[1], e->hi[1]);
	up = frac(p[2], e->lo[2], e->hi[2]);
	switch (l) {
	case LOBE_RUL:
		/* S1 at the apex, S2 behind, S3 in front. */
		if (up >= 0.65)
			return "右肺上叶尖段";
		return post >= 0.5 ? "右肺上叶后段" : "右肺上叶前段";
	case LOBE_RML:
		/* S4 lateral, S5 medial. */
		return lat >= 0.5 ? "右肺中叶外侧段" : "右肺中叶内侧段";
	case LOBE_RLL:
		/* S6 the top of the lower lobe, then the basal segments:
		 * S7 medial, S8 anterior, S9 lateral, S10 posterior. */
		if (up >= 0.6)
			return "右肺下叶背段";
		if (post >= 0.65)
			return "右肺下叶后基底段";
		if (lat < 0.35)
			return "右肺下叶内基底段";
		return post < 0.35 ? "右肺下叶前基底段" : "右肺下叶外基底段";
	case LOBE_LUL:
		/* S1+2 apicoposterior, S3 anterior, the lingula below:
		 * S4 superior, S5 inferior. */
		if (up < 0.4)
			return up >= 0.2 ? "左肺上叶上舌段" : "左肺上叶下舌段";
		if (up >= 0.75 || post >= 0.5)
			return "左肺上叶尖后段";
		return "左肺上叶前段";
	case LOBE_LLL:
		/* S6, then S7+8 anteromedial, S9 lateral, S10 posterior. */
		if (up >= 0.6)
			return "左肺下叶背段";
		if (post >= 0.65)
			return "左肺下叶后基底段";
		if (post < 0.35 || lat < 0.35)
			return "左肺下叶前内基底段";
		return "左肺下叶外基底段";
	default:
		return "";
	}
}
