/*
 * phantom.c - synthetic CT volumes of known content (see phantom.h).
 *
 * The anatomy is a set of simple solids, each of one density; a point
 * takes the density of the first solid of the list in hu_at() that holds
 * it.  A voxel is the mean over a grid of sub-samples where its corners
 * and centre disagree, and the single value where they agree: every
 * solid is larger than a voxel, so a voxel whose nine probes agree lies
 * in one solid.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phantom.h"

#define PI		3.14159265358979323846
#define SQRT1_2		0.70710678118654752440

const char *const phantom_site_names[PHANTOM_SITE__MAX] = {
	[PHANTOM_LM] = "LM",
	[PHANTOM_LAD] = "LAD",
	[PHANTOM_LCX] = "LCX",
	[PHANTOM_RCA] = "RCA",
	[PHANTOM_AORTA] = "AORTA",
	[PHANTOM_VALVE] = "VALVE",
	[PHANTOM_FREE] = "FREE",
};

const struct phantom_anatomy phantom_anatomy = {
	.body_a = 160, .body_b = 115,
	.heart_c = { 15, -20, 60 }, .heart_r = { 55, 45, 45 },
	.root = { -5, -15, 100 },
	.asc_c = { -5, -15 }, .asc_r = 15, .asc_z0 = 95,
	.desc_c = { 25, 55 }, .desc_r = 12,
	.spine_c = { 0, 80 }, .spine_r = 20,
};

#define A	phantom_anatomy

/* Densities at 120 kV (HU). */
#define HU_AIR		-1000.0
#define HU_LUNG		-850.0
#define HU_FAT		-100.0
#define HU_SOFT		40.0
#define HU_BLOOD	40.0
#define HU_DISC		80.0
#define HU_TRABECULAR	250.0	/* scaled with kV */
#define HU_CORTICAL	700.0	/* scaled with kV */
#define HU_RIB		600.0	/* scaled with kV */
#define HU_STERNUM	450.0	/* scaled with kV */
#define HU_LIVER	60.0
#define HU_CARTILAGE	110.0

/* The domes of the diaphragm: spheres whose tops are the right dome (the
 * liver's) at z = 50 mm, in the lower third of the heart, and the left
 * one (the spleen's) at z = 25 mm.  The heart sits on the diaphragm
 * between them. */
static const double dome_r[3] = { -70.0, 10.0, -50.0 }, dome_r_rad = 100.0;
static const double dome_l[3] = { 75.0, 20.0, -75.0 }, dome_l_rad = 100.0;
/* A coronary plaque lies in its artery's wall: soft tissue ARTERY_WALL
 * mm round it, ARTERY_MORE mm beyond its ends, in the epicardial fat. */
#define ARTERY_WALL	1.5
#define ARTERY_MORE	3.0
/* The myocardium's thickness, round the chambers' blood. */
#define MYOCARDIUM	8.0

/* The heart's fat and the aortas' sleeves, beyond their surfaces (mm). */
#define FAT_HEART	12.0
#define FAT_ASC		8.0
#define FAT_DESC	6.0

/* Where the coronary plaques sit, as angles around the heart's axis in
 * the axial plane: 0 to the patient's left, 90 to the front. */
static const double site_angle[PHANTOM_SITE__MAX] = {
	[PHANTOM_LAD] = 70.0,
	[PHANTOM_LCX] = -40.0,
	[PHANTOM_RCA] = 150.0,
};

/*
 * Relative CT number of hydroxyapatite by tube voltage, 1 at 120 kV.
 * Calcium attenuates more at lower energies; the 100 kV figure matches
 * the 147 HU threshold found equivalent to 130 HU at 120 kV by Nakazato
 * et al. (2009); the others follow the same photoelectric trend.
 */
static const double kv_table[][2] = {
	{ 80.0, 1.38 }, { 100.0, 1.13 }, { 120.0, 1.00 }, { 140.0, 0.92 },
};

double
phantom_calcium_factor(double kvp)
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

/* (x/a)^2 + (y/b)^2 of an ellipse centred at cx, cy. */
static double
ell2(double x, double y, double cx, double cy, double a, double b)
{
	double	 u = (x - cx) / a, v = (y - cy) / b;

	return u * u + v * v;
}

static int
in_sphere(double x, double y, double z, const double c[3], double r)
{
	return (x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]) +
	    (z - c[2]) * (z - c[2]) <= r * r;
}

static double
ellipsoid3(double x, double y, double z, const double c[3],
    const double r[3], double grow)
{
	double	 u = (x - c[0]) / (r[0] + grow);
	double	 v = (y - c[1]) / (r[1] + grow);
	double	 w = (z - c[2]) / (r[2] + grow);

	return u * u + v * v + w * w;
}

/* The heart's half-widths in the axial plane at height z (0 above and
 * below it). */
static double
heart_scale(double z)
{
	double	 w = (z - A.heart_c[2]) / A.heart_r[2];

	return w >= 1.0 ? 0.0 : sqrt(1.0 - w * w);
}

void
phantom_plaque_place(struct phantom_plaque *p)
{
	double	 th, c, s, t, sc, best = 0.0, z, a, b;
	double	 dx, dy;
	int	 i;

	switch (p->site) {
	case PHANTOM_LM:
		/* Left of the ascending aorta, just above the heart. */
		p->center[0] = A.asc_c[0] + A.asc_r + 3.0 + p->radius_mm;
		p->center[1] = A.asc_c[1] - 3.0;
		return;
	case PHANTOM_AORTA:
		/* In the left back wall of the descending aorta. */
		p->center[0] = A.desc_c[0] + A.desc_r * SQRT1_2;
		p->center[1] = A.desc_c[1] + A.desc_r * SQRT1_2;
		return;
	case PHANTOM_VALVE:
		p->center[0] = A.root[0];
		p->center[1] = A.root[1];
		return;
	case PHANTOM_LAD:
	case PHANTOM_LCX:
	case PHANTOM_RCA:
		break;
	default:
		return;
	}
	/* On the surface where the heart is widest within the plaque's z
	 * range, 2 mm out, so that the whole cylinder lies in the fat. */
	for (i = 0; i <= 16; i++) {
		z = p->z0 + p->length_mm * i / 16.0;
		if ((sc = heart_scale(z)) > best)
			best = sc;
	}
	th = site_angle[p->site] * PI / 180.0;
	c = cos(th);
	s = -sin(th);		/* the front is -y */
	a = A.heart_r[0] * best;
	b = A.heart_r[1] * best;
	t = best > 0.0 ? 1.0 / sqrt((c / a) * (c / a) + (s / b) * (s / b)) :
	    0.0;
	dx = c * (t + 2.0 + p->radius_mm);
	dy = s * (t + 2.0 + p->radius_mm);
	p->center[0] = A.heart_c[0] + dx;
	p->center[1] = A.heart_c[1] + dy;
}

void
phantom_standard(struct phantom_spec *sp, double slice_mm, double kvp)
{
	static const struct phantom_plaque std[] = {
		{ PHANTOM_LM, { 0, 0 }, 105.0, 15.0, 2.5, 250.0 },
		{ PHANTOM_LAD, { 0, 0 }, 60.0, 15.0, 2.5, 450.0 },
		{ PHANTOM_LCX, { 0, 0 }, 75.0, 15.0, 3.0, 350.0 },
		{ PHANTOM_RCA, { 0, 0 }, 45.0, 15.0, 3.5, 180.0 },
		{ PHANTOM_AORTA, { 0, 0 }, 30.0, 15.0, 2.5, 500.0 },
		{ PHANTOM_VALVE, { 0, 0 }, 90.0, 15.0, 3.0, 600.0 },
	};
	size_t	 i;

	memset(sp, 0, sizeof(*sp));
	sp->nx = sp->ny = 384;
	sp->pixel_mm = 0.9;
	sp->slice_mm = slice_mm;
	sp->nz = (int)lround(150.0 / slice_mm);
	sp->kvp = kvp;
	sp->subsamples = 4;
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		sp->plaques[i] = std[i];
		phantom_plaque_place(&sp->plaques[i]);
	}
	sp->nplaques = i;
}

/* The lungs of hu_at(), for the nodules' vessels and the tests. */
int
phantom_lung_at(double x, double y, double z)
{
	(void)z;
	if (ell2(x, y, -82, 5, 52, 72) <= 1.0)
		return 1;
	if (ell2(x, y, 85, 5, 48, 72) <= 1.0)
		return 2;
	return 0;
}

/* A nodule's ground-glass margin at squared (scaled) distance q2 from
 * its centre: whether it is there, its density into *hu. */
static int
rim_hu_at(const struct phantom_nodule *n, double q2, double *hu)
{
	double	 r = sqrt(q2) - n->diameter_mm / 2.0, f = n->rim_fade_mm;

	if (r < 0.0 || r > n->rim_mm + f / 2.0)
		return 0;
	if (f > 0.0 && r > n->rim_mm - f / 2.0)
		*hu = n->rim_hu + (HU_LUNG - n->rim_hu) * (r - n->rim_mm +
		    f / 2.0) / f;
	else
		*hu = n->rim_hu;
	return 1;
}

double
phantom_rim_extent_mm(const struct phantom_nodule *n)
{
	return n->diameter_mm + (n->rim_mm > 0.0 ? 2.0 * n->rim_mm : 0.0);
}

/*
 * Lung nodules and lung vessels (the nodule reader's phantom): whether
 * the point is in one, and its density into *hu.  Nodules come first, so
 * that a nodule on a vessel keeps its own density.
 */
static int
lung_lesion_at(const struct phantom_spec *sp, double x, double y, double z,
    double *hu)
{
	const struct phantom_nodule	*n;
	const struct phantom_vessel	*w;
	size_t				 i;
	double				 d[3], u[3], l2, t, q2;
	int				 a;

	for (i = 0; i < sp->nnodules; i++) {
		n = &sp->nodules[i];
		d[0] = x - n->center[0];
		d[1] = y - n->center[1];
		d[2] = z - n->center[2];
		for (a = 0; a < 3; a++)
			if (n->scale[a] > 0.0)
				d[a] /= n->scale[a];
		q2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
		if (n->core_mm > 0.0 && 4.0 * q2 <= n->core_mm * n->core_mm) {
			*hu = n->core_hu;
			return 1;
		}
		if (4.0 * q2 <= n->diameter_mm * n->diameter_mm) {
			*hu = n->hu;
			return 1;
		}
		if (n->rim_mm > 0.0 && rim_hu_at(n, q2, hu))
			return 1;
	}
	if (sp->nvessels == 0 || phantom_lung_at(x, y, z) == 0)
		return 0;
	/* Not where the lungs are cut short (lung_z). */
	if ((sp->lung_z[0] != 0.0 || sp->lung_z[1] != 0.0) &&
	    (z < sp->lung_z[0] || z >= sp->lung_z[1]))
		return 0;
	for (i = 0; i < sp->nvessels; i++) {
		w = &sp->vessels[i];
		u[0] = w->p1[0] - w->p0[0];
		u[1] = w->p1[1] - w->p0[1];
		u[2] = w->p1[2] - w->p0[2];
		d[0] = x - w->p0[0];
		d[1] = y - w->p0[1];
		d[2] = z - w->p0[2];
		l2 = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
		t = l2 > 0.0 ? (d[0] * u[0] + d[1] * u[1] + d[2] * u[2]) / l2 :
		    0.0;
		if (t < 0.0 || t > 1.0)
			continue;
		d[0] -= t * u[0];
		d[1] -= t * u[1];
		d[2] -= t * u[2];
		if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <=
		    w->radius_mm * w->radius_mm) {
			*hu = w->hu != 0.0 ? w->hu : HU_BLOOD;
			return 1;
		}
	}
	return 0;
}

/* The lungs' ellipses (phantom_lung_at()): centre and semi-axes. */
static const double lung_ell[2][4] = {
	{ -82.0, 5.0, 52.0, 72.0 }, { 85.0, 5.0, 48.0, 72.0 },
};

/* The radius of lung ellipse e along the ray at angle phi from its
 * centre. */
static double
lung_rb(const double *e, double phi)
{
	double	 c = cos(phi) / e[2], s = sin(phi) / e[3];

	return 1.0 / sqrt(c * c + s * s);
}

/*
 * Pleural plaques and dependent density, in lung l (1, 2) at a point of
 * it: 1 with *hu set, or 0 where it is lung.
 */
static int
lung_pleural_at(const struct phantom_spec *sp, int l, double x, double y,
    double z, double *hu)
{
	const double	*e = lung_ell[l - 1];
	const struct phantom_pleural *pp;
	double		 phi, r, rb, depth, s, dphi, q, yb, t;
	size_t		 i;

	phi = atan2(y - e[1], x - e[0]);
	r = hypot(x - e[0], y - e[1]);
	for (i = 0; i < sp->npleural; i++) {
		pp = &sp->pleural[i];
		if (pp->lung != l)
			continue;
		rb = lung_rb(e, phi);
		depth = rb - r;
		dphi = remainder(phi - pp->angle_deg * PI / 180.0, 2.0 * PI);
		s = dphi * lung_rb(e, pp->angle_deg * PI / 180.0);
		q = 1.0 - (2.0 * s / pp->width_mm) * (2.0 * s / pp->width_mm) -
		    (2.0 * (z - pp->z) / pp->height_mm) * (2.0 * (z - pp->z) /
		    pp->height_mm);
		if (q > 0.0 && depth >= 0.0 && depth <= pp->thick_mm *
		    sqrt(q)) {
			*hu = pp->hu;
			return 1;
		}
	}
	if (sp->dependent_mm > 0.0 && (sp->dependent_right ? x < e[0] :
	    y > e[1])) {
		if (sp->dependent_right) {
			/* Along -x: the depth above the pleura on the
			 * patient's right. */
			t = (y - e[1]) / e[3];
			yb = e[0] - e[2] * sqrt(fmax(0.0, 1.0 - t * t));
			depth = x - yb;
		} else {
			t = (x - e[0]) / e[2];
			yb = e[1] + e[3] * sqrt(fmax(0.0, 1.0 - t * t));
			depth = yb - y;
		}
		if (depth < 0.0)
			return 0;
		if (depth <= sp->dependent_mm) {
			*hu = -500.0 - 200.0 * depth / sp->dependent_mm;
			return 1;
		}
		if (depth <= 1.5 * sp->dependent_mm) {
			*hu = -700.0 + (HU_LUNG + 700.0) * (depth -
			    sp->dependent_mm) / (0.5 * sp->dependent_mm);
			return 1;
		}
	}
	return 0;
}

/* ---- Lung and airway variants (lung_z, airways, junction, jp_mm) ---- */

#define TRACHEA_R	9.0
#define BRONCHUS_R	6.0
#define AIRWAY_WALL	1.5
static const double carina[3] = { 0.0, 30.0, 110.0 };
static const double bronchus_end[2][3] = {
	{ -60.0, 15.0, 85.0 }, { 60.0, 15.0, 80.0 },
};

/* The distance of p to the segment a..b and where it falls along it
 * (0 at a, 1 at b, unclamped). */
static double
seg_dist(const double p[3], const double a[3], const double b[3],
    double *t)
{
	double	 d[3], w[3], dd = 0, dw = 0, q, r = 0;
	int	 i;

	for (i = 0; i < 3; i++) {
		d[i] = b[i] - a[i];
		w[i] = p[i] - a[i];
		dd += d[i] * d[i];
		dw += d[i] * w[i];
	}
	*t = dw / dd;
	q = *t < 0.0 ? 0.0 : *t > 1.0 ? 1.0 : *t;
	for (i = 0; i < 3; i++)
		r += (w[i] - q * d[i]) * (w[i] - q * d[i]);
	return sqrt(r);
}

/* What the variants put at a point, checked just before the lungs: 1
 * with *hu set, or 0 where the standard chest goes on. */
static int
lung_variant(const struct phantom_spec *sp, double x, double y, double z,
    double *hu)
{
	double	 p[3] = { x, y, z }, t, d, r2;
	int	 i, out;

	if (sp->jp_mm > 0.0 && in_sphere(x, y, z, sp->jp_center,
	    sp->jp_mm / 2.0)) {
		*hu = HU_SOFT;
		return 1;
	}
	if (sp->airways) {
		r2 = (x - carina[0]) * (x - carina[0]) +
		    (y - carina[1]) * (y - carina[1]);
		if (z >= carina[2] && r2 <= TRACHEA_R * TRACHEA_R) {
			*hu = HU_AIR;
			return 1;
		}
		for (i = 0; i < 2; i++) {
			d = seg_dist(p, carina, bronchus_end[i], &t);
			if (t <= 1.0 && d <= BRONCHUS_R) {
				*hu = HU_AIR;
				return 1;
			}
		}
		if (z >= carina[2] && r2 <= (TRACHEA_R + AIRWAY_WALL) *
		    (TRACHEA_R + AIRWAY_WALL)) {
			*hu = HU_SOFT;
			return 1;
		}
		for (i = 0; i < 2; i++) {
			d = seg_dist(p, carina, bronchus_end[i], &t);
			if (t <= 1.0 && d <= BRONCHUS_R + AIRWAY_WALL) {
				*hu = HU_SOFT;
				return 1;
			}
		}
	}
	out = (sp->lung_z[0] != 0.0 || sp->lung_z[1] != 0.0) &&
	    (z < sp->lung_z[0] || z >= sp->lung_z[1]);
	if (sp->junction && !out && (ell2(x, y, -40, -68, 45, 14) <= 1.0 ||
	    ell2(x, y, 40, -68, 45, 14) <= 1.0)) {
		*hu = HU_LUNG;
		return 1;
	}
	if (out && (ell2(x, y, -82, 5, 52, 72) <= 1.0 ||
	    ell2(x, y, 85, 5, 48, 72) <= 1.0)) {
		*hu = HU_FAT;
		return 1;
	}
	return 0;
}

/* ---- end of the lung and airway variants ---- */

/* ---- The spine phantom (spine.n > 0) ---- */

static double
vmax3(const struct phantom_vertebra *pv)
{
	return fmax(pv->ha, fmax(pv->hm, pv->hp));
}

/* The middle of body i along the axis, from the axis' point. */
static double
spine_sc(const struct phantom_spine *sp, size_t i)
{
	double	 s = sp->top - vmax3(&sp->v[0]) / 2.0;
	size_t	 j;

	for (j = 0; j < i; j++)
		s -= vmax3(&sp->v[j]) / 2.0 + sp->disc_mm +
		    vmax3(&sp->v[j + 1]) / 2.0;
	return s;
}

/* The height of a body at t (0 front .. 1 back of its depth). */
static double
spine_h(const struct phantom_vertebra *pv, double t)
{
	if (t <= 0.1)
		return pv->ha;
	if (t <= 0.5)
		return pv->ha + (t - 0.1) / 0.4 * (pv->hm - pv->ha);
	if (t <= 0.9)
		return pv->hm + (t - 0.5) / 0.4 * (pv->hp - pv->hm);
	return pv->hp;
}

void
phantom_spine_center(const struct phantom_spec *sp, size_t i, double c[3])
{
	double	 t = sp->spine.tilt_deg * PI / 180.0, sc = spine_sc(&sp->spine,
	    i), zc = sp->nz * sp->slice_mm / 2.0;

	c[0] = 0.0;
	c[1] = PHANTOM_SPINE_Y + sc * sin(t);
	c[2] = zc + sc * cos(t);
}

/* The distance of (x, w) to the segment p..q (2-D). */
static double
seg2(double x, double w, const double p[2], const double q[2])
{
	double	 dx = q[0] - p[0], dw = q[1] - p[1], t;

	t = ((x - p[0]) * dx + (w - p[1]) * dw) / (dx * dx + dw * dw);
	t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
	dx = x - p[0] - t * dx;
	dw = w - p[1] - t * dw;
	return sqrt(dx * dx + dw * dw);
}

static double	spine_trunk(double, double, enum phantom_tissue *);

static double
spine_hu_at(const struct phantom_spec *sp, double x, double y, double z,
    int *ca)
{
	static const double rib[5][2] = {
		{ 24.0, 8.0 }, { 45.0, 28.0 }, { 85.0, 25.0 }, { 105.0, -10.0 },
		{ 100.0, -40.0 },
	};
	const struct phantom_spine *S = &sp->spine;
	const struct phantom_vertebra *pv;
	double	 t = S->tilt_deg * PI / 180.0, zc = sp->nz * sp->slice_mm / 2.0;
	double	 s, w, sc, best = 1e30, h = 0.0, e, ax = fabs(x);
	size_t	 i, bi = 0;
	int	 j;

	*ca = 0;
	if (ell2(x, y, 0, 0, 125, 95) > 1.0)
		return HU_AIR;
	s = (y - PHANTOM_SPINE_Y) * sin(t) + (z - zc) * cos(t);
	w = (y - PHANTOM_SPINE_Y) * cos(t) - (z - zc) * sin(t);
	sc = S->top - vmax3(&S->v[0]) / 2.0;
	for (i = 0; i < S->n; i++) {
		if (i > 0)
			sc -= vmax3(&S->v[i - 1]) / 2.0 + S->disc_mm +
			    vmax3(&S->v[i]) / 2.0;
		if (fabs(s - sc) < best) {
			best = fabs(s - sc);
			bi = i;
			h = sc;
		}
	}
	pv = &S->v[bi];
	sc = s - h;
	e = ell2(x, w, 0, 0, PHANTOM_BODY_A, PHANTOM_BODY_B);
	if (e <= 1.0) {
		h = spine_h(pv, (w + PHANTOM_BODY_B) / (2.0 * PHANTOM_BODY_B));
		if (fabs(sc) > h / 2.0)
			return HU_DISC;
		if (fabs(sc) < 2.5 && ax < 2.5 && w > 0.0)
			return HU_BLOOD;
		*ca = 1;
		if (fabs(sc) > h / 2.0 - PHANTOM_CORTEX_MM ||
		    ell2(x, w, 0, 0, PHANTOM_BODY_A - PHANTOM_CORTEX_MM,
		    PHANTOM_BODY_B - PHANTOM_CORTEX_MM) > 1.0)
			return PHANTOM_CORTEX_HU;
		return pv->hu;
	}
	/* Behind the body: the canal, pedicles and laminae, the spinous
	 * process; all along the column. */
	if (ax < 10.0 && w > PHANTOM_BODY_B && w <= 31.0)
		return 15.0;
	if ((ax >= 10.0 && ax <= 15.0 && w >= 14.0 && w <= 31.0) ||
	    (ax < 15.0 && w > 31.0 && w <= 37.0) ||
	    (ax < 4.0 && w > 37.0 && w <= 55.0)) {
		*ca = 1;
		return 450.0;
	}
	if (pv->tp_mm > 0.0 && ax >= 15.0 && ax <= pv->tp_mm && w >= 18.0 &&
	    w <= 26.0 && fabs(sc) < 6.0) {
		*ca = 1;
		return 450.0;
	}
	if (pv->ribs && (pv->ribs != 2 || x < 0.0) && fabs(sc - 2.0) <= 6.0)
		for (j = 0; j < 4; j++) {
			double	 d = seg2(ax, w, rib[j], rib[j + 1]);
			double	 r2 = 16.0 - (sc - 2.0) * (sc - 2.0);

			if (r2 > 0.0 && d * d <= r2) {
				*ca = 1;
				return 400.0;
			}
		}
	/* The aorta in front and to the left of the body. */
	if (ell2(x, y, 20.0, 8.0, 11.0, 11.0) <= 1.0)
		return HU_BLOOD;
	if (S->organs && phantom_spine_organ(x, y, &h, NULL))
		return h;
	return spine_trunk(x, y, NULL);
}

/*
 * The trunk round the column (outside the bones, the canal, the vein and
 * the aorta), the same on every slice: skin 2 mm; subcutaneous fat to
 * the muscle ring, an elliptic annulus 14 mm thick (at its minor axis)
 * with eight islands of intermuscular fat (ellipses 8 x 1.5 mm, along the
 * ring); the erector spinae beside the spinous process, each with a round
 * island of fat 6.5 mm in radius, bulging from the back of the ring; the
 * psoas beside the body; inside the ring visceral fat round the viscera
 * (an ellipse in front of the spine) and the kidneys.  All muscle, skin
 * and viscera 40 HU, fat -100 HU.
 */
#define RING_IN_A	97.0
#define RING_IN_B	67.0
#define RING_OUT_A	111.0
#define RING_OUT_B	81.0

static const double ring_islands_deg[] = {
	-160.0, -130.0, -100.0, -70.0, -40.0, -10.0, 20.0, 160.0,
};

static double
spine_trunk(double x, double y, enum phantom_tissue *t)
{
	enum phantom_tissue	 tt;
	double			 hu = HU_SOFT, ax = fabs(x);
	size_t			 i;

	if (ell2(x, y, 0, 0, 125, 95) > 1.0) {
		tt = PT_AIR;
		hu = HU_AIR;
	} else if (ell2(x, y, 0, 0, 123, 93) > 1.0)
		tt = PT_SKIN;
	else if (ell2(ax, y, 30, 74, 6.5, 6.5) <= 1.0) {
		tt = PT_PARA_IMAT;
		hu = HU_FAT;
	} else if (ell2(ax, y, 30, 74, 18, 10) <= 1.0)
		tt = PT_ERECTOR;
	else if (ell2(x, y, 0, 0, RING_OUT_A, RING_OUT_B) > 1.0) {
		tt = PT_SAT;
		hu = HU_FAT;
	} else if (ell2(x, y, 0, 0, RING_IN_A, RING_IN_B) > 1.0) {
		tt = PT_RING;
		for (i = 0; i < sizeof(ring_islands_deg) /
		    sizeof(ring_islands_deg[0]); i++) {
			double	 a = ring_islands_deg[i] * PI / 180.0;
			double	 cx = 104.0 * cos(a), cy = 74.0 * sin(a);
			/* the ring's direction there, and across it */
			double	 tx = -104.0 * sin(a), ty = 74.0 * cos(a);
			double	 tn = sqrt(tx * tx + ty * ty), u, w;

			tx /= tn;
			ty /= tn;
			u = (x - cx) * tx + (y - cy) * ty;
			w = -(x - cx) * ty + (y - cy) * tx;
			if (ell2(u, w, 0, 0, 8.0, 1.5) <= 1.0) {
				tt = PT_RING_IMAT;
				hu = HU_FAT;
				break;
			}
		}
	} else if (ell2(ax, y, 34, 44, 12, 11) <= 1.0)
		tt = PT_PSOAS;
	else if (ell2(x, y, 0, -20, 75, 38) <= 1.0 ||
	    ell2(ax, y, 62, 22, 10, 15) <= 1.0)
		tt = PT_VISCERA;
	else {
		tt = PT_VAT;
		hu = HU_FAT;
	}
	if (t != NULL)
		*t = tt;
	return hu;
}

enum phantom_tissue
phantom_spine_tissue(const struct phantom_spec *sp, double x, double y,
    double z)
{
	enum phantom_tissue	 t;
	int			 ca;
	double			 hu, oh;

	if (sp->spine.n == 0)
		return PT_OTHER;
	hu = spine_hu_at(sp, x, y, z, &ca);
	if (ca)
		return PT_BONE;
	if (sp->spine.organs && phantom_spine_organ(x, y, &oh, &t))
		return hu == oh ? t : PT_OTHER;
	if (hu != spine_trunk(x, y, &t))
		return PT_OTHER;
	return t;
}

void
phantom_spine_standard(struct phantom_spec *sp, double slice_mm,
    double noise_hu, double tilt_deg)
{
	static const struct phantom_vertebra std[] = {
		{ "T10", 200.0, 22.0, 22.0, 22.0, 1, 0.0 },
		{ "T11", 180.0, 23.0, 23.0, 24.0, 1, 0.0 },
		{ "T12", 150.0, 17.5, 21.25, 25.0, 1, 0.0 },
		{ "L1", 110.0, 26.0, 25.0, 26.0, 0, 35.0 },
		{ "L2", 90.0, 28.0, 21.7, 28.0, 0, 42.0 },
		{ "L3", 70.0, 28.0, 27.5, 28.0, 0, 48.0 },
		{ "L4", 130.0, 28.0, 28.0, 28.0, 0, 45.0 },
	};
	size_t	 i;

	memset(sp, 0, sizeof(*sp));
	sp->nx = sp->ny = 320;
	sp->pixel_mm = 0.8;
	sp->slice_mm = slice_mm;
	sp->nz = (int)lround(200.0 / slice_mm);
	sp->kvp = 120.0;
	sp->subsamples = 4;
	sp->noise_hu = noise_hu;
	sp->seed = 7;
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		sp->spine.v[i] = std[i];
	sp->spine.n = i;
	sp->spine.disc_mm = 8.0;
	sp->spine.tilt_deg = tilt_deg;
	/* T11 to L3 whole in the middle, T10 and L4 cut by the ends: the
	 * column from T10's top to L4's bottom is 229 mm; 12 mm of T10 and
	 * 9 mm of L4 are in the 200 mm round the axis' point (the volume's
	 * middle). */
	sp->spine.top = 110.0;
}

/*
 * The organs against the wall's inner face (phantom.h): the liver's
 * lobe an ellipse at (-82, -15) of 18 x 26 mm, the bowel loops circles
 * of 12 mm at (-25, -55) (fluid) and (22, -56) (gas), the colon a circle
 * of 13 mm at (86, -10) (gas); each reaches past the ring's inner
 * ellipse (97 x 67 mm), which keeps its own pixels.
 */
int
phantom_spine_organ(double x, double y, double *hu, enum phantom_tissue *t)
{
	static const struct {
		double	 cx, cy, r, wall, in;
	} loop[] = {
		{ -25.0, -55.0, 12.0, 2.5, 15.0 },
		{ 22.0, -56.0, 12.0, 2.5, HU_AIR },
		{ 86.0, -10.0, 13.0, 3.0, HU_AIR },
	};
	enum phantom_tissue	 tt;
	size_t			 i;
	double			 d;

	(void)spine_trunk(x, y, &tt);
	if (tt != PT_VAT && tt != PT_VISCERA)
		return 0;
	if (ell2(x, y, -82.0, -15.0, 18.0, 26.0) <= 1.0) {
		*hu = 55.0;
		goto found;
	}
	for (i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
		d = hypot(x - loop[i].cx, y - loop[i].cy);
		if (d > loop[i].r)
			continue;
		*hu = d > loop[i].r - loop[i].wall ? HU_SOFT : loop[i].in;
		goto found;
	}
	return 0;
found:
	if (t != NULL)
		*t = PT_ORGAN;
	return 1;
}

/* ---- end of the spine phantom ---- */

/* The density at a point, 120 kV, and whether it is calcium or bone (to
 * be scaled with the tube voltage). */
static double
hu_at(const struct phantom_spec *sp, double x, double y, double z, int *ca)
{
	const struct phantom_plaque *p;
	size_t	 i;
	double	 d2, rr, blood;
	int	 l;

	*ca = 0;
	if (sp->spine.n > 0)
		return spine_hu_at(sp, x, y, z, ca);
	if (ell2(x, y, 0, 0, A.body_a, A.body_b) > 1.0)
		return HU_AIR;
	/* The lung nodule reader's: nodules and lung vessels. */
	if ((sp->nnodules > 0 || sp->nvessels > 0) &&
	    lung_lesion_at(sp, x, y, z, &d2))
		return d2;
	for (i = 0; i < sp->nplaques; i++) {
		p = &sp->plaques[i];
		if (z < p->z0 || z >= p->z0 + p->length_mm)
			continue;
		d2 = (x - p->center[0]) * (x - p->center[0]) +
		    (y - p->center[1]) * (y - p->center[1]);
		if (d2 <= p->radius_mm * p->radius_mm) {
			*ca = 1;
			return p->hu;
		}
	}
	/* The artery round a coronary plaque: its wall and lumen. */
	for (i = 0; i < sp->nplaques; i++) {
		p = &sp->plaques[i];
		if (p->site > PHANTOM_RCA || z < p->z0 - ARTERY_MORE ||
		    z >= p->z0 + p->length_mm + ARTERY_MORE)
			continue;
		d2 = (x - p->center[0]) * (x - p->center[0]) +
		    (y - p->center[1]) * (y - p->center[1]);
		if (d2 <= (p->radius_mm + ARTERY_WALL) *
		    (p->radius_mm + ARTERY_WALL))
			return HU_SOFT;
	}
	blood = sp->blood_hu != 0.0 ? sp->blood_hu : HU_BLOOD;
	if (z >= A.asc_z0 && ell2(x, y, A.asc_c[0], A.asc_c[1], A.asc_r,
	    A.asc_r) <= 1.0)
		return blood;
	if (ell2(x, y, A.desc_c[0], A.desc_c[1], A.desc_r, A.desc_r) <= 1.0)
		return blood;
	if (ellipsoid3(x, y, z, A.heart_c, A.heart_r, 0.0) <= 1.0)
		return ellipsoid3(x, y, z, A.heart_c, A.heart_r, -MYOCARDIUM) <=
		    1.0 ? blood : HU_SOFT;
	/* Vertebral bodies 25 mm high with 5 mm discs; the spinous
	 * process behind them. */
	rr = ell2(x, y, A.spine_c[0], A.spine_c[1], A.spine_r, A.spine_r);
	if (rr <= 1.0) {
		if (fmod(z, 30.0) >= 25.0)
			return HU_DISC;
		*ca = 1;
		return rr >= 0.81 ? HU_CORTICAL : HU_TRABECULAR;
	}
	if (fabs(x - A.spine_c[0]) <= 4.0 && y > A.spine_c[1] + A.spine_r &&
	    y <= A.spine_c[1] + A.spine_r + 12.0 && fmod(z, 30.0) < 25.0) {
		*ca = 1;
		return HU_CORTICAL;
	}
	if (ellipsoid3(x, y, z, A.heart_c, A.heart_r, FAT_HEART) <= 1.0)
		return HU_FAT;
	if (z >= A.asc_z0 - 10.0 && ell2(x, y, A.asc_c[0], A.asc_c[1],
	    A.asc_r + FAT_ASC, A.asc_r + FAT_ASC) <= 1.0)
		return HU_FAT;
	if (ell2(x, y, A.desc_c[0], A.desc_c[1], A.desc_r + FAT_DESC,
	    A.desc_r + FAT_DESC) <= 1.0)
		return HU_FAT;
	if (sp->domes && (in_sphere(x, y, z, dome_r, dome_r_rad) ||
	    in_sphere(x, y, z, dome_l, dome_l_rad)) &&
	    ell2(x, y, 0, 0, 140, 95) <= 1.0)
		return HU_LIVER;
	if (lung_variant(sp, x, y, z, &d2))
		return d2;
	if ((l = phantom_lung_at(x, y, z)) != 0) {
		if ((sp->npleural > 0 || sp->dependent_mm > 0.0) &&
		    lung_pleural_at(sp, l, x, y, z, &d2))
			return d2;
		return HU_LUNG;
	}
	/* Costal cartilage: from the sternum's edge to the ribs' front
	 * ends, 8 mm thick, level with the ribs. */
	if (sp->cartilage && fabs(x) > 15.0 && fabs(x) <= 42.0 &&
	    y >= -105.0 && y <= -97.0 && fmod(z + 25.0, 30.0) < 10.0)
		return HU_CARTILAGE;
	if (fabs(x) <= 15.0 && y >= -108.0 && y <= -98.0) {
		*ca = 1;
		return HU_STERNUM;
	}
	/* Ribs: 10 mm bands every 30 mm, behind the front 40 mm. */
	if (fmod(z + 25.0, 30.0) < 10.0 && fabs(x) > 40.0 &&
	    ell2(x, y, 0, 0, 150, 105) <= 1.0 &&
	    ell2(x, y, 0, 0, 144, 99) > 1.0) {
		*ca = 1;
		return HU_RIB;
	}
	if (ell2(x, y, 0, 0, A.body_a - 8.0, A.body_b - 8.0) > 1.0)
		return HU_FAT;
	/* Inside the rib cage what is not organ is mediastinal fat. */
	if (ell2(x, y, 0, 0, 140, 95) <= 1.0)
		return HU_FAT;
	return HU_SOFT;
}

static double
hu_scaled(const struct phantom_spec *sp, double f, double x, double y,
    double z)
{
	int	 ca;
	double	 v = hu_at(sp, x, y, z, &ca);

	return ca ? v * f : v;
}

/* A deterministic normal deviate (xorshift64* and Box-Muller). */
static double
gauss_next(uint64_t *s)
{
	double	 u1, u2;

	do {
		*s ^= *s >> 12;
		*s ^= *s << 25;
		*s ^= *s >> 27;
		u1 = (double)((*s * 2685821657736338717ULL) >> 11) /
		    9007199254740992.0;
	} while (u1 <= 0.0);
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	u2 = (double)((*s * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

int
phantom_build(const struct phantom_spec *sp, struct series_volume **out,
    char *err, size_t errlen)
{
	struct series_volume	*v;
	double			 f, dx, dz, x0, y0, *cp = NULL, cv, acc;
	size_t			 plane, n;
	int			 i, j, k, s, sz, a, b, c, same;
	uint64_t		 rng;

	*out = NULL;
	if (sp->nx < 8 || sp->ny < 8 || sp->nz < 1 || sp->nx > 2048 ||
	    sp->ny > 2048 || sp->nz > 4096 || !(sp->pixel_mm > 0.0) ||
	    !(sp->slice_mm > 0.0) || sp->nplaques > PHANTOM_PLAQUES_MAX ||
	    sp->nnodules > PHANTOM_NODULES_MAX ||
	    sp->nvessels > PHANTOM_VESSELS_MAX ||
	    sp->npleural > PHANTOM_PLEURAL_MAX ||
	    sp->spine.n > PHANTOM_VERTEBRAE_MAX) {
		(void)snprintf(err, errlen, "phantom: bad size or spacing");
		return -1;
	}
	s = sp->subsamples > 0 ? sp->subsamples : 4;
	/* The spine phantom's endplates (1 mm across z) in slices thicker
	 * than a pixel: sub-samples along z as close as in the plane, so
	 * that a slice's mean is its rectangular profile's (4 sub-samples
	 * over 2.5 mm counted a 1 mm plate as 0.625 or 1.25 mm), and the
	 * voxel's centre line tested at each of them (a plate between the
	 * corner planes and the centre was missed). */
	sz = s;
	if (sp->spine.n > 0 && sp->slice_mm > sp->pixel_mm)
		sz = (int)ceil(s * sp->slice_mm / sp->pixel_mm);
	f = phantom_calcium_factor(sp->kvp > 0.0 ? sp->kvp : 120.0);
	dx = sp->pixel_mm;
	dz = sp->slice_mm;
	x0 = sp->center[0] - (sp->nx - 1) / 2.0 * dx;
	y0 = sp->center[1] - (sp->ny - 1) / 2.0 * dx;
	n = (size_t)sp->nx * sp->ny * sp->nz;
	plane = (size_t)(sp->nx + 1) * (sp->ny + 1);
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->vox = malloc(n * sizeof(float))) == NULL ||
	    (v->slices = calloc((size_t)sp->nz, sizeof(*v->slices))) == NULL ||
	    (cp = malloc(2 * plane * sizeof(double))) == NULL) {
		(void)snprintf(err, errlen, "phantom: out of memory");
		free(cp);
		series_free(v);
		return -1;
	}
	/* Corner planes at the slab boundaries, two at a time. */
	for (j = 0; j <= sp->ny; j++)
		for (i = 0; i <= sp->nx; i++)
			cp[(size_t)j * (sp->nx + 1) + i] = hu_scaled(sp, f,
			    x0 + (i - 0.5) * dx, y0 + (j - 0.5) * dx, 0.0);
	for (k = 0; k < sp->nz; k++) {
		double	*lo = cp + (k & 1) * plane;
		double	*hi = cp + ((k + 1) & 1) * plane;

		for (j = 0; j <= sp->ny; j++)
			for (i = 0; i <= sp->nx; i++)
				hi[(size_t)j * (sp->nx + 1) + i] = hu_scaled(sp,
				    f, x0 + (i - 0.5) * dx,
				    y0 + (j - 0.5) * dx, (k + 1) * dz -
				    1e-9);
		for (j = 0; j < sp->ny; j++)
			for (i = 0; i < sp->nx; i++) {
				size_t	 o = (size_t)j * (sp->nx + 1) + i;
				double	 xc = x0 + i * dx, yc = y0 + j * dx;

				cv = hu_scaled(sp, f, xc, yc, (k + 0.5) * dz);
				same = lo[o] == cv && lo[o + 1] == cv &&
				    lo[o + sp->nx + 1] == cv &&
				    lo[o + sp->nx + 2] == cv &&
				    hi[o] == cv && hi[o + 1] == cv &&
				    hi[o + sp->nx + 1] == cv &&
				    hi[o + sp->nx + 2] == cv;
				for (c = 0; same && sz > s && c < sz; c++)
					same = hu_scaled(sp, f, xc, yc, (k +
					    (c + 0.5) / sz) * dz) == cv;
				if (!same) {
					acc = 0.0;
					for (c = 0; c < sz; c++)
						for (b = 0; b < s; b++)
							for (a = 0; a < s; a++)
								acc += hu_scaled(sp, f,
								    xc + ((a + 0.5) / s - 0.5) * dx,
								    yc + ((b + 0.5) / s - 0.5) * dx,
								    (k + (c + 0.5) / sz) * dz);
					cv = acc / ((double)s * s * sz);
				}
				v->vox[((size_t)k * sp->ny + j) * sp->nx + i] =
				    (float)cv;
			}
	}
	free(cp);
	if (sp->noise_hu > 0.0) {
		rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)sp->seed;
		if (rng == 0)
			rng = 1;
		for (n = 0; n < (size_t)sp->nx * sp->ny * sp->nz; n++)
			v->vox[n] += (float)(sp->noise_hu * gauss_next(&rng));
	}
	/* Outside the reconstruction circle: the scanner's padding. */
	if (sp->fov_mm > 0.0)
		for (j = 0; j < sp->ny; j++)
			for (i = 0; i < sp->nx; i++) {
				double	 u = (i - (sp->nx - 1) / 2.0) * dx;
				double	 w = (j - (sp->ny - 1) / 2.0) * dx;

				if (u * u + w * w <= sp->fov_mm * sp->fov_mm /
				    4.0)
					continue;
				for (k = 0; k < sp->nz; k++)
					v->vox[((size_t)k * sp->ny + j) *
					    sp->nx + i] = (float)PHANTOM_PADDING;
			}
	v->nx = sp->nx;
	v->ny = sp->ny;
	v->nz = sp->nz;
	v->spacing[0] = v->spacing[1] = dx;
	v->spacing[2] = dz;
	v->origin[0] = x0;
	v->origin[1] = y0;
	v->origin[2] = 0.5 * dz;
	v->row[0] = 1.0;
	v->col[1] = 1.0;
	v->normal[2] = 1.0;
	v->step[2] = dz;
	v->spacing_min = v->spacing_median = v->spacing_max = dz;
	v->gantry_tilt = NAN;
	v->kvp = sp->kvp > 0.0 ? sp->kvp : 120.0;
	v->patient_size = NAN;
	v->slice_thickness = dz;
	v->padding_fill = NAN;
	v->order = sp->nz > 1 ? SERIES_ORDER_POSITION : SERIES_ORDER_SINGLE;
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	(void)snprintf(v->patient_position, sizeof(v->patient_position),
	    "%s", sp->dependent_right ? "HFDR" : "HFS");
	(void)snprintf(v->photometric, sizeof(v->photometric), "MONOCHROME2");
	v->window_center = 40.0;
	v->window_width = 400.0;
	for (k = 0; k < sp->nz; k++) {
		v->slices[k].file = k;
		v->slices[k].instance_number = k + 1;
		v->slices[k].has_ipp = 1;
		v->slices[k].ipp[0] = x0;
		v->slices[k].ipp[1] = y0;
		v->slices[k].ipp[2] = (k + 0.5) * dz;
		v->slices[k].pos = (k + 0.5) * dz;
	}
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Films (phantom_film_chest(), phantom_film_limb()).                */

/* Whether (u, w) lies in the ellipse of centre (cu, cw), semi-axes a, b. */
static int
film_in_ellipse(double u, double w, double cu, double cw, double a, double b)
{
	double	 du = (u - cu) / a, dw = (w - cw) / b;

	return du * du + dw * dw <= 1;
}

/* The distance from (u, w) to the segment (u0, w0)-(u1, w1). */
static double
film_seg_dist(double u, double w, double u0, double w0, double u1, double w1)
{
	double	 du = u1 - u0, dw = w1 - w0, t;

	t = ((u - u0) * du + (w - w0) * dw) / (du * du + dw * dw);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return hypot(u - (u0 + t * du), w - (w0 + t * dw));
}

const struct phantom_chest phantom_chest_tb = {
	.effusion = { 45, 0 },
	.cav = { { .u = 75, .w = -95, .r_out = 15, .r_in = 9,
	    .lucency = 150 } },
	.ncav = 1,
};

/* The base of a lung at a = |u| (mm): a dome, highest (w 112) at the
 * lung's middle (a 78), deepest at the chest wall (w 145 at a 140, the
 * costophrenic recess) and lower by the heart (w 127 at a 16). */
static double
film_lung_base(double a)
{
	double	 t;

	if (a >= 78) {
		t = (a - 78) / 62;
		return 112 + 33 * t * t;
	}
	t = (78 - a) / 62;
	return 112 + 15 * t * t;
}

/* Whether (u, w) is in the lung of side (-1 the patient's right, 1 the
 * left): the upper half an ellipse; below its widest row the chest wall
 * runs nearly straight down to the recess, the base a dome. */
static int
film_in_lung(double u, double w, int side)
{
	double	 a = u * side, e;

	if (a < 0 || w <= -150)
		return 0;
	if (w < -5)
		return film_in_ellipse(u, w, side * 78, -5, 62, 150);
	e = (w + 5) / 150;
	return a > 78 - 62 * sqrt(fmax(0, 1 - e * e)) &&
	    a < 140 - 0.05 * (w + 5) && w < film_lung_base(a);
}

/* A chest PA film's value at (u, w) mm: u to the patient's left, w down,
 * from the middle of the film. */
double
phantom_film_chest(double u, double w)
{
	static const struct phantom_chest none;

	return phantom_film_chest_spec(&none, u, w);
}

double
phantom_film_chest_spec(const struct phantom_chest *spec, double u, double w)
{
	double	 v = 120, half, a, rw, d, surf;
	int	 i, side;

	/* The trunk, wider below the shoulders; the neck above. */
	half = w < -170 ? 55 : w < -130 ? 55 + (w + 170) * 2.6 : 160;
	if (fabs(u) < half && w > -215 && w < 215)
		v += 1300;
	/* The lungs, dark; the heart and the mediastinum between them.
	 * An effusion fills the lung's lateral recess as soft tissue up
	 * to a meniscus, highest at the chest wall. */
	for (side = -1; side <= 1; side += 2) {
		if (!film_in_lung(u, w, side))
			continue;
		a = u * side;
		rw = spec->effusion[side < 0 ? 0 : 1];
		surf = 141 - rw * (0.3 + 0.7 * pow(fmax(0, (a - 16) / 124),
		    2));
		if (rw > 0 && w > surf)
			continue;
		v -= 850;
	}
	if (fabs(u) < 26 && w < 90)
		v += 450;
	if (film_in_ellipse(u, w, 22, 70, 72, 62))
		v += 650;
	/* The diaphragm's domes below the lungs stay soft tissue; the
	 * spine shows faintly through the heart. */
	if (fabs(u) < 17 && w > -215 && w < 215)
		v += 420;
	/* Posterior ribs: arcs from the spine out and down. */
	for (i = 0; i < 10; i++)
		for (side = -1; side <= 1; side += 2) {
			a = fabs(u);
			if (a < 20 || a > 148 || u * side < 0)
				continue;
			rw = -140 + 24 * i + 40 * (a / 148) * (a / 148);
			if (fabs(w - rw) < 4.5)
				v += 520;
		}
	/* The clavicles. */
	for (side = -1; side <= 1; side += 2)
		if (film_seg_dist(u, w, side * 22, -150, side * 128, -166) < 6)
			v += 700;
	/* Cavities: a ring of opacity about a lucent centre. */
	for (i = 0; i < spec->ncav && i < PHANTOM_CAVITIES_MAX; i++) {
		d = hypot(u - spec->cav[i].u, w - spec->cav[i].w);
		if (d < spec->cav[i].r_in)
			v -= spec->cav[i].lucency;
		else if (d < spec->cav[i].r_out)
			v += 500;
	}
	return v;
}

const struct phantom_limb phantom_limb_default = {
	.fx = { { .bone = 0, .kind = PHANTOM_FX_OBLIQUE, .w = 80,
	    .tilt = 35, .gap = 1.8 } },
	.nfx = 1,
};

/* A forearm film's value at (u, w) mm: u across, w along the arm. */
double
phantom_film_limb(double u, double w)
{
	return phantom_film_limb_spec(&phantom_limb_default, u, w);
}

/*
 * The film of spec at (u, w).  For each bone the point is taken back
 * into the unbroken bone's frame, fracture by fracture from the top: on
 * a fracture's line it is lucent; below it, the step-off is undone and
 * the angulation turned back about the fracture's centre.
 */
double
phantom_film_limb_spec(const struct phantom_limb *spec, double u, double w)
{
	double	 v = 150, c, half, d, uu, ww, lw, gap, du, dw, a;
	int	 b, i, k, order[PHANTOM_FRACTURES_MAX], n, lucent;

	half = 34 + w * 0.04;
	if (fabs(u) < half)
		v += 900;
	/* Radius (bone 0, u < 0) and ulna: a cortex brighter than the
	 * marrow. */
	for (b = 0; b < 2; b++) {
		c = PHANTOM_LIMB_CENTRE(b);
		/* This bone's fractures, from the top down. */
		for (n = 0, i = 0; i < spec->nfx && i <
		    PHANTOM_FRACTURES_MAX; i++) {
			if (spec->fx[i].bone != b)
				continue;
			for (k = n; k > 0 && spec->fx[order[k - 1]].w >
			    spec->fx[i].w; k--)
				order[k] = order[k - 1];
			order[k] = i;
			n++;
		}
		uu = u;
		ww = w;
		lucent = 0;
		for (k = 0; k < n && !lucent; k++) {
			const struct phantom_fracture *f = &spec->fx[order[k]];

			gap = f->gap > 0 ? f->gap : 1.8;
			lw = f->w + (f->kind == PHANTOM_FX_OBLIQUE ?
			    tan(f->tilt * M_PI / 180) * (uu - c) : 0);
			if (fabs(ww - lw) < gap / 2) {
				lucent = 1;
				break;
			}
			if (ww < lw)
				break;
			du = uu - f->shift - c;
			dw = ww - f->w;
			a = -f->angulation * M_PI / 180;
			uu = c + du * cos(a) - dw * sin(a);
			ww = f->w + du * sin(a) + dw * cos(a);
		}
		if (lucent)
			continue;
		half = b == 0 ? 7.5 + ww * 0.015 : 6.5 - ww * 0.01;
		d = fabs(uu - c);
		if (d > half || fabs(ww) > 170)
			continue;
		v += d > half - 2.2 ? 1500 : 900;
	}
	return v;
}
