/*
 * ribcage.c - the rib cage phantom (ribcage.h).
 *
 * The trunk, lungs and column are drawn voxel by voxel; each rib is a
 * polyline (a point every RIB_STEP mm) drawn by the distance of a voxel
 * to its nearest segment, found for the voxels round each segment in a
 * buffer over the rib's bounding box; voxels near the rib's surface take
 * the mean of 2 x 2 x 2 samples (partial volume).  Noise is added last.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ribcage.h"
#include "series.h"

#define PI		3.14159265358979323846
#define FOV_MM		256.0
#define TOP_MM		12.0	/* above T1 */
#define DISC_MM		4.0
#define NBODY		14	/* T1 .. L1, L2 cut by the bottom */
#define SPINE_Y		48.0
#define BODY_A		17.0
#define BODY_B		13.0
#define RIB_STEP	0.5
#define TUB_X		28.0	/* the tubercle's distance from the midline */
#define TUB_Y		64.0
#define HEAD_X		17.5
#define HEAD_Y		52.0
#define SAG_FROM	(25.0 * PI / 180.0)	/* from the tubercle */
#define SAG_TO		(65.0 * PI / 180.0)
#define SCAP_T		4.0	/* the scapula's plate */
#define SCAP_MEDIAL	48.0	/* its medial border from the midline */
#define SCAP_TOP_LAT	100.0	/* its lateral border at the top and */
#define SCAP_LOW_LAT	68.0	/* at the inferior angle */
#define CLAV_R		6.0
#define CLAV_CORT	1.5
#define CLAV_GAP	2.0	/* off rib 1's front */
#define HU_BONE_CORT	650.0	/* scapula and clavicle */
#define HU_BONE_MARROW	200.0

#define HU_AIR		-1000.0
#define HU_LUNG		-850.0
#define HU_FAT		-100.0
#define HU_SOFT		40.0
#define HU_DISC		80.0
#define HU_TRAB		220.0
#define HU_CORT		600.0
#define HU_ARCH		450.0
#define HU_RIBCORT	700.0
#define HU_MARROW	250.0

const char *const ribcage_kind_names[RIBCAGE_KIND__MAX] = {
	"cut", "displaced", "buckle", "callus",
};

/* The rib's ellipse: lateral and front-back half-axes, mm. */
static const double rib_a[12] = {
	45, 66, 82, 92, 98, 101, 102, 101, 99, 95, 88, 80,
};
static const double rib_b[12] = {
	48, 56, 62, 66, 68, 69, 69, 69, 68, 66, 64, 62,
};
static const double rib_drop[12] = {
	12, 30, 33, 35, 36, 37, 38, 38, 36, 32, 18, 14,
};

static double
body_h(int i)
{
	return 13.0 + 0.7 * i;
}

static double
height_mm(void)
{
	double	 z = TOP_MM;
	int	 i;

	for (i = 0; i < NBODY - 1; i++)
		z += body_h(i) + DISC_MM;
	return z + body_h(NBODY - 1) / 2.0;
}

static int
nslices(const struct ribcage_spec *sp)
{
	return (int)ceil(height_mm() / sp->slice_mm);
}

/* The top of the volume (mm): z = (k + 0.5) * slice. */
static double
top_z(const struct ribcage_spec *sp)
{
	return nslices(sp) * sp->slice_mm;
}

double
ribcage_body_z(const struct ribcage_spec *sp, int i)
{
	double	 z = top_z(sp) - TOP_MM;
	int	 j;

	for (j = 0; j < i; j++)
		z -= body_h(j) + DISC_MM;
	return z - body_h(i) / 2.0;
}

double
ribcage_head_z(const struct ribcage_spec *sp, int number)
{
	return ribcage_body_z(sp, number - 1) + 0.2 * body_h(number - 1);
}

struct rgeom {
	double	 a, b, y0, th0, th1, zh, drop, sag;
};

static void
rib_geom(const struct ribcage_spec *sp, int n, struct rgeom *g)
{
	double	 c;

	g->a = rib_a[n - 1];
	g->b = rib_b[n - 1];
	g->th0 = asin(TUB_X / g->a);
	c = cos(g->th0);
	g->y0 = TUB_Y - g->b * c;
	if (n <= 7)
		g->th1 = PI - asin(20.0 / g->a);
	else if (n <= 10)
		g->th1 = PI - asin(0.55);
	else if (n == 11)
		g->th1 = 115.0 * PI / 180.0;
	else
		g->th1 = 100.0 * PI / 180.0;
	g->zh = ribcage_head_z(sp, n);
	g->drop = rib_drop[n - 1];
	g->sag = 0.0;
	if (sp->options & RIBCAGE_OBLIQUE)
		g->sag = n == 1 || n == 12 ? RIBCAGE_SAG_MM / 2.0 :
		    RIBCAGE_SAG_MM;
}

static void
shaft_point(const struct rgeom *g, int side, double t, double p[3])
{
	double	 th = g->th0 + t * (g->th1 - g->th0);
	double	 sx = side == 1 ? -1.0 : 1.0;

	double	 u = (th - g->th0 - SAG_FROM) / (SAG_TO - SAG_FROM);

	p[0] = sx * g->a * sin(th);
	p[1] = g->y0 + g->b * cos(th);
	p[2] = g->zh - g->drop * pow(t < 0.0 ? 0.0 : t, 1.5);
	/* The oblique stretch: a smooth step down (zero slope at its
	 * ends). */
	u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
	p[2] -= g->sag * u * u * (3.0 - 2.0 * u);
}

int
ribcage_rib_point(const struct ribcage_spec *sp, int side, int number,
    double t, double p[3])
{
	struct rgeom	 g;

	if (number < 1 || number > 12 || (side != 1 && side != 2))
		return -1;
	rib_geom(sp, number, &g);
	shaft_point(&g, side, t, p);
	return 0;
}

void
ribcage_standard(struct ribcage_spec *sp, double slice_mm, double noise_hu,
    unsigned seed)
{
	static const struct {
		int	 side, number;
		double	 t;
		int	 kind;
		double	 shift;
	} std[] = {
		{ 1, 5, 0.45, RIBCAGE_DISPLACED, 3.0 },
		{ 2, 7, 0.12, RIBCAGE_CUT, 0 },
		{ 1, 8, 0.55, RIBCAGE_BUCKLE, 0 },
		{ 2, 4, 0.50, RIBCAGE_CALLUS, 0 },
		{ 1, 6, 0.16, RIBCAGE_CUT, 0 },
		{ 1, 6, 0.50, RIBCAGE_CUT, 0 },
		{ 2, 9, 0.88, RIBCAGE_DISPLACED, 4.0 },
		{ 1, 3, 0.80, RIBCAGE_CUT, 0 },
		{ 2, 10, 0.40, RIBCAGE_BUCKLE, 0 },
	};
	size_t	 i;

	memset(sp, 0, sizeof(*sp));
	sp->pixel_mm = 0.9;
	sp->slice_mm = slice_mm;
	sp->noise_hu = noise_hu;
	sp->seed = seed;
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		sp->f[i].side = std[i].side;
		sp->f[i].number = std[i].number;
		sp->f[i].t = std[i].t;
		sp->f[i].kind = (enum ribcage_kind)std[i].kind;
		sp->f[i].shift_mm = std[i].shift;
	}
	sp->nf = i;
}

/*
 * The four fractures under the scapulae (ribeval -u, test_ribs'
 * test_phantom_under_scapula): one of each kind but the callus, on ribs
 * 3-6 in the stretch 0.18-0.25 of the shaft from the tubercle, where the
 * scapula (ribs 2-7 behind, 48 mm from the midline out to 68-100 mm)
 * lies on them; with the shoulder.
 */
void
ribcage_under_scapula(struct ribcage_spec *sp, double slice_mm,
    double noise_hu, unsigned seed)
{
	static const struct {
		int	 side, number;
		double	 t;
		int	 kind;
		double	 shift;
	} u[] = {
		{ 1, 3, 0.22, RIBCAGE_CUT, 0.0 },
		{ 2, 4, 0.22, RIBCAGE_DISPLACED, 3.0 },
		{ 1, 5, 0.25, RIBCAGE_BUCKLE, 0.0 },
		{ 2, 6, 0.18, RIBCAGE_CUT, 0.0 },
	};
	size_t	 i;

	ribcage_standard(sp, slice_mm, noise_hu, seed);
	sp->options |= RIBCAGE_SHOULDER;
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		memset(&sp->f[i], 0, sizeof(sp->f[i]));
		sp->f[i].side = u[i].side;
		sp->f[i].number = u[i].number;
		sp->f[i].t = u[i].t;
		sp->f[i].kind = (enum ribcage_kind)u[i].kind;
		sp->f[i].shift_mm = u[i].shift;
	}
	sp->nf = i;
}

static double
ell(double x, double y, double cx, double cy, double a, double b)
{
	double	 u = (x - cx) / a, w = (y - cy) / b;

	return u * u + w * w;
}

/* The trunk, lungs and column at (x, y, z). */
static double
base_hu(const struct ribcage_spec *sp, double x, double y, double z)
{
	double	 w = y - SPINE_Y, ax = fabs(x), zb, zt;
	int	 i;

	if (ell(x, y, 0, 0, 118, 92) > 1.0)
		return HU_AIR;
	/* The column: the body of the level whose span holds z. */
	zt = top_z(sp) - TOP_MM;
	for (i = 0; i < NBODY; i++) {
		zb = zt - body_h(i);
		if (z <= zt && z > zb) {
			double	 zc = (zt + zb) / 2.0;

			if (ell(x, y, 0, SPINE_Y, BODY_A, BODY_B) <= 1.0) {
				if (fabs(z - zc) > body_h(i) / 2.0 - 1.0 ||
				    ell(x, y, 0, SPINE_Y, BODY_A - 1.0,
				    BODY_B - 1.0) > 1.0)
					return HU_CORT;
				return HU_TRAB;
			}
			if (i >= 12 && ax >= 11.0 && ax <= 42.0 && w >= 16.0 &&
			    w <= 23.0 && fabs(z - zc) < 5.0)
				return HU_ARCH;
			break;
		}
		if (z <= zb && z > zb - DISC_MM) {
			if (ell(x, y, 0, SPINE_Y, BODY_A, BODY_B) <= 1.0)
				return HU_DISC;
			break;
		}
		zt = zb - DISC_MM;
	}
	if (z <= top_z(sp) - TOP_MM + 6.0) {
		if (ax < 7.0 && w > BODY_B && w <= 27.0)
			return 15.0;
		if ((ax >= 7.0 && ax <= 11.0 && w >= 11.0 && w <= 27.0) ||
		    (ax < 11.0 && w > 27.0 && w <= 32.0) ||
		    (ax < 3.5 && w > 32.0 && w <= 46.0))
			return HU_ARCH;
	}
	if (ell(x, y, 0, 0, 108, 82) > 1.0)
		return HU_FAT;
	if (z < ribcage_body_z(sp, 1) && z > ribcage_body_z(sp, 10) &&
	    (ell(x, y, -52, 0, 40, 60) <= 1.0 || ell(x, y, 52, 0, 40, 60) <=
	    1.0))
		return HU_LUNG;
	return HU_SOFT;
}

/* A rib as drawn: its polyline and what changes it. */
struct rline {
	int		 n;
	double		*p;	/* 3 * n, mm */
	double		*s;	/* arc length from the head */
	double		*t;	/* shaft parameter, < 0 on the neck */
	double		 out[2];	/* outward, in-plane, at the buckle */
	/* Its fractures: gaps (centre s), callus (centre s), buckles
	 * (centre point). */
	double		 gap[RIBCAGE_FRACTURES_MAX];
	int		 ngap;
	double		 callus[RIBCAGE_FRACTURES_MAX];
	int		 ncallus;
	double		 bk[RIBCAGE_FRACTURES_MAX][3];
	int		 nbk;
};

static uint32_t
hash3(int a, int b, int c)
{
	uint32_t h = (uint32_t)a * 73856093u ^ (uint32_t)b * 19349663u ^
	    (uint32_t)c * 83492791u;

	h ^= h >> 13;
	h *= 0x5bd1e995u;
	h ^= h >> 15;
	return h;
}

/*
 * The rib's CT number at q, or NAN outside it; j0 a segment near q.
 */
static double
rib_hu(const struct rline *L, int j0, const double q[3])
{
	double	 best = 1e30, bs = 0.0, r, re, cal = 0.0;
	int	 j, i;

	for (j = j0 - 6; j <= j0 + 6; j++) {
		const double	*a, *b;
		double		 d[3], e[3], tt, l2, dd;

		if (j < 0 || j + 1 >= L->n)
			continue;
		a = L->p + 3 * j;
		b = L->p + 3 * (j + 1);
		l2 = 0.0;
		tt = 0.0;
		for (i = 0; i < 3; i++) {
			d[i] = b[i] - a[i];
			e[i] = q[i] - a[i];
			l2 += d[i] * d[i];
			tt += d[i] * e[i];
		}
		tt = l2 > 0.0 ? tt / l2 : 0.0;
		tt = tt < 0.0 ? 0.0 : tt > 1.0 ? 1.0 : tt;
		dd = 0.0;
		for (i = 0; i < 3; i++)
			dd += (e[i] - tt * d[i]) * (e[i] - tt * d[i]);
		if (dd < best) {
			best = dd;
			bs = L->s[j] + tt * (L->s[j + 1] - L->s[j]);
		}
	}
	for (i = 0; i < L->nbk; i++) {
		double	 dx = q[0] - L->bk[i][0], dy = q[1] - L->bk[i][1];
		double	 dz = q[2] - L->bk[i][2];

		if (dx * dx + dy * dy + dz * dz <= RIBCAGE_BUCKLE_MM *
		    RIBCAGE_BUCKLE_MM)
			return HU_RIBCORT;
	}
	r = sqrt(best);
	for (i = 0; i < L->ngap; i++)
		if (fabs(bs - L->gap[i]) < RIBCAGE_GAP_MM / 2.0)
			return NAN;
	for (i = 0; i < L->ncallus; i++) {
		double	 u = (bs - L->callus[i]) / 6.0;

		cal = fmax(cal, RIBCAGE_CALLUS_MM * exp(-u * u));
	}
	re = RIBCAGE_RIB_R + cal;
	if (r >= re)
		return NAN;
	if (r >= RIBCAGE_RIB_R) {
		/* Callus: woven bone, irregular, a denser rind. */
		uint32_t h = hash3((int)floor(q[0] / 1.5),
		    (int)floor(q[1] / 1.5), (int)floor(q[2] / 1.5));

		if (r >= re - 1.0)
			return 550.0;
		return 380.0 + 200.0 * ((h & 0xffff) / 65535.0 - 0.5);
	}
	if (r >= RIBCAGE_RIB_R - RIBCAGE_CORTEX_MM)
		return cal > 0.5 ? 620.0 : HU_RIBCORT;
	return HU_MARROW;
}

static int
rline_make(const struct ribcage_spec *sp, int side, int n, struct rline *L)
{
	struct rgeom	 g;
	double		 h[3], e[3], len, arc, th, dth;
	int		 cap, m, i, k, nh;
	size_t		 f;

	memset(L, 0, sizeof(*L));
	rib_geom(sp, n, &g);
	h[0] = (side == 1 ? -1.0 : 1.0) * HEAD_X;
	h[1] = HEAD_Y;
	h[2] = g.zh;
	shaft_point(&g, side, 0.0, e);
	len = hypot(e[0] - h[0], e[1] - h[1]);
	/* The shaft's length, roughly, for the allocation. */
	arc = (g.th1 - g.th0) * fmax(g.a, g.b) + g.drop;
	cap = (int)((len + arc) / RIB_STEP) * 2 + 16;
	if ((L->p = malloc((size_t)cap * 3 * sizeof(double))) == NULL ||
	    (L->s = malloc((size_t)cap * sizeof(double))) == NULL ||
	    (L->t = malloc((size_t)cap * sizeof(double))) == NULL)
		return -1;
	nh = (int)ceil(len / RIB_STEP);
	m = 0;
	for (i = 0; i < nh; i++) {
		double	 u = (double)i / nh;

		for (k = 0; k < 3; k++)
			L->p[3 * m + k] = h[k] + u * (e[k] - h[k]);
		L->t[m] = -(1.0 - u);
		m++;
	}
	dth = RIB_STEP / fmax(g.a, g.b) / 2.0;
	for (th = 0.0; th <= 1.0 && m < cap - 1; th += dth * 1.0 / (g.th1 -
	    g.th0)) {
		shaft_point(&g, side, th, L->p + 3 * m);
		L->t[m] = th;
		m++;
	}
	shaft_point(&g, side, 1.0, L->p + 3 * m);
	L->t[m] = 1.0;
	m++;
	L->n = m;
	L->s[0] = 0.0;
	for (i = 1; i < m; i++) {
		double	 dx = L->p[3 * i] - L->p[3 * i - 3];
		double	 dy = L->p[3 * i + 1] - L->p[3 * i - 2];
		double	 dz = L->p[3 * i + 2] - L->p[3 * i - 1];

		L->s[i] = L->s[i - 1] + sqrt(dx * dx + dy * dy + dz * dz);
	}
	/* The fractures of this rib. */
	for (f = 0; f < sp->nf; f++) {
		struct ribcage_fracture	*fr = (struct ribcage_fracture *)
			    &sp->f[f];
		int			 jf = 0;
		double			 bd = 1e30, phi;

		if (fr->side != side || fr->number != n)
			continue;
		for (i = 0; i < m; i++)
			if (fabs(L->t[i] - fr->t) < bd) {
				bd = fabs(L->t[i] - fr->t);
				jf = i;
			}
		for (k = 0; k < 3; k++)
			fr->p[k] = L->p[3 * jf + k];
		phi = atan2(fr->p[1] - g.y0, fabs(fr->p[0])) * 180.0 / PI;
		fr->segment = phi > 30.0 ? 0 : phi >= -30.0 ? 1 : 2;
		switch (fr->kind) {
		case RIBCAGE_DISPLACED:
			for (i = jf + 1; i < m; i++)
				L->p[3 * i + 2] += fr->shift_mm;
			/* FALLTHROUGH */
		case RIBCAGE_CUT:
			L->gap[L->ngap++] = L->s[jf];
			break;
		case RIBCAGE_CALLUS:
			L->callus[L->ncallus++] = L->s[jf];
			break;
		case RIBCAGE_BUCKLE: {
			double	 ox = fr->p[0], oy = fr->p[1] - g.y0;
			double	 on = hypot(ox, oy);

			L->bk[L->nbk][0] = fr->p[0] + ox / on *
			    RIBCAGE_RIB_R;
			L->bk[L->nbk][1] = fr->p[1] + oy / on *
			    RIBCAGE_RIB_R;
			L->bk[L->nbk][2] = fr->p[2];
			L->nbk++;
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

static void
rline_free(struct rline *L)
{
	free(L->p);
	free(L->s);
	free(L->t);
}

/*
 * Partial volume at voxel (i, j, k) of v (x0, y0: the first voxel's
 * centre, mm; slice k's centre at (k + 0.5) slices): the mean of 2 x 2 x 2
 * samples of density at the voxel's quarter points, a sample where
 * density gives NAN (outside the object) keeping the voxel's value.  A
 * voxel no sample of which falls in the object is left as it was.  The
 * ribs and the shoulder share it, each with its own density.
 */
typedef double	(*density_fn)(const void *, const double q[3]);

static void
pv_sample(struct series_volume *v, double x0, double y0, int i, int j,
    int k, density_fn density, const void *arg)
{
	double	 dx = v->spacing[0], dz = v->spacing[2], q[3], acc = 0.0, hu;
	float	*vx = &v->vox[((size_t)k * v->ny + j) * v->nx + i];
	int	 hit = 0, sa, sb, sc;

	for (sc = 0; sc < 2; sc++)
		for (sb = 0; sb < 2; sb++)
			for (sa = 0; sa < 2; sa++) {
				q[0] = x0 + (i + (sa - 0.5) / 2.0) * dx;
				q[1] = y0 + (j + (sb - 0.5) / 2.0) * dx;
				q[2] = (k + 0.5 + (sc - 0.5) / 2.0) * dz;
				hu = density(arg, q);
				if (isnan(hu))
					hu = *vx;
				else
					hit++;
				acc += hu;
			}
	if (hit)
		*vx = (float)(acc / 8.0);
}

/* A rib's density for pv_sample(): rib_hu() near segment j0. */
struct rib_at {
	const struct rline	*L;
	int			 j0;
};

static double
rib_density(const void *arg, const double q[3])
{
	const struct rib_at	*ra = arg;

	return rib_hu(ra->L, ra->j0, q);
}

/* Draw rib L into v (x0, y0: the first voxel's centre, mm). */
static int
rib_draw(struct series_volume *v, const struct rline *L, double x0,
    double y0)
{
	double	 dx = v->spacing[0], dz = v->spacing[2], lo[3], hi[3], mar;
	int	 i0, i1, j0, j1, k0, k1, W, H, D, j, a, b, c;
	float	*dist;
	int	*seg;
	size_t	 n, o;
	struct rib_at rs;

	mar = RIBCAGE_RIB_R + RIBCAGE_CALLUS_MM + 2.0 * RIBCAGE_BUCKLE_MM +
	    2.0;
	for (a = 0; a < 3; a++) {
		lo[a] = 1e30;
		hi[a] = -1e30;
	}
	for (j = 0; j < L->n; j++)
		for (a = 0; a < 3; a++) {
			lo[a] = fmin(lo[a], L->p[3 * j + a]);
			hi[a] = fmax(hi[a], L->p[3 * j + a]);
		}
	i0 = (int)floor((lo[0] - mar - x0) / dx);
	i1 = (int)ceil((hi[0] + mar - x0) / dx);
	j0 = (int)floor((lo[1] - mar - y0) / dx);
	j1 = (int)ceil((hi[1] + mar - y0) / dx);
	k0 = (int)floor((lo[2] - mar) / dz - 0.5);
	k1 = (int)ceil((hi[2] + mar) / dz - 0.5);
	if (i0 < 0) i0 = 0;
	if (j0 < 0) j0 = 0;
	if (k0 < 0) k0 = 0;
	if (i1 > v->nx - 1) i1 = v->nx - 1;
	if (j1 > v->ny - 1) j1 = v->ny - 1;
	if (k1 > v->nz - 1) k1 = v->nz - 1;
	if (i1 < i0 || j1 < j0 || k1 < k0)
		return 0;
	W = i1 - i0 + 1;
	H = j1 - j0 + 1;
	D = k1 - k0 + 1;
	n = (size_t)W * H * D;
	if ((dist = malloc(n * sizeof(*dist))) == NULL ||
	    (seg = malloc(n * sizeof(*seg))) == NULL) {
		free(dist);
		return -1;
	}
	for (o = 0; o < n; o++)
		dist[o] = 1e30f;
	/* Each segment marks the voxels round it. */
	for (j = 0; j + 1 < L->n; j++) {
		const double	*p = L->p + 3 * j, *q = L->p + 3 * j + 3;
		double		 r = RIBCAGE_RIB_R + RIBCAGE_CALLUS_MM + 1.5;
		int		 ia, ib, ja, jb, ka, kb;

		ia = (int)floor((fmin(p[0], q[0]) - r - x0) / dx) - i0;
		ib = (int)ceil((fmax(p[0], q[0]) + r - x0) / dx) - i0;
		ja = (int)floor((fmin(p[1], q[1]) - r - y0) / dx) - j0;
		jb = (int)ceil((fmax(p[1], q[1]) + r - y0) / dx) - j0;
		ka = (int)floor((fmin(p[2], q[2]) - r) / dz - 0.5) - k0;
		kb = (int)ceil((fmax(p[2], q[2]) + r) / dz - 0.5) - k0;
		if (ia < 0) ia = 0;
		if (ja < 0) ja = 0;
		if (ka < 0) ka = 0;
		if (ib >= W) ib = W - 1;
		if (jb >= H) jb = H - 1;
		if (kb >= D) kb = D - 1;
		for (c = ka; c <= kb; c++)
			for (b = ja; b <= jb; b++)
				for (a = ia; a <= ib; a++) {
					double	 e[3], d[3], tt, l2 = 0, dd = 0;
					int	 m;

					e[0] = x0 + (a + i0) * dx - p[0];
					e[1] = y0 + (b + j0) * dx - p[1];
					e[2] = (c + k0 + 0.5) * dz - p[2];
					tt = 0.0;
					for (m = 0; m < 3; m++) {
						d[m] = q[m] - p[m];
						l2 += d[m] * d[m];
						tt += d[m] * e[m];
					}
					tt = l2 > 0 ? tt / l2 : 0.0;
					tt = tt < 0 ? 0 : tt > 1 ? 1 : tt;
					for (m = 0; m < 3; m++)
						dd += (e[m] - tt * d[m]) *
						    (e[m] - tt * d[m]);
					o = ((size_t)c * H + b) * W + a;
					if (dd < dist[o]) {
						dist[o] = (float)dd;
						seg[o] = j;
					}
				}
	}
	/* The buckles' voxels lie within reach of a segment too. */
	for (c = 0; c < D; c++)
		for (b = 0; b < H; b++)
			for (a = 0; a < W; a++) {
				double	 dd;

				o = ((size_t)c * H + b) * W + a;
				if (dist[o] > 1e29f)
					continue;
				dd = sqrt(dist[o]);
				if (dd > RIBCAGE_RIB_R + RIBCAGE_CALLUS_MM +
				    1.5)
					continue;
				rs.L = L;
				rs.j0 = seg[o];
				pv_sample(v, x0, y0, a + i0, b + j0, c + k0,
				    rib_density, &rs);
			}
	free(dist);
	free(seg);
	return 0;
}

/* ---- The scapulae and clavicles (RIBCAGE_SHOULDER) ---- */

struct shoulder {
	double	 ys[128];	/* per mm of width: the back of ribs 2-7 */
	double	 ztop, zlow;	/* the scapula's height */
	double	 cl[2][4][3];	/* each clavicle's polyline */
};

static void
shoulder_make(const struct ribcage_spec *sp, struct shoulder *sh)
{
	struct rgeom	 g;
	double		 p[3], q[3], t;
	int		 n, i, side;

	for (i = 0; i < 128; i++)
		sh->ys[i] = NAN;
	for (n = 2; n <= 7; n++) {
		rib_geom(sp, n, &g);
		for (t = 0.0; t <= 0.6; t += 0.0005) {
			shaft_point(&g, 2, t, p);
			i = (int)lround(p[0]);
			if (i >= 0 && i < 128 && !(sh->ys[i] >= p[1] +
			    RIBCAGE_RIB_R))
				sh->ys[i] = p[1] + RIBCAGE_RIB_R;
		}
	}
	sh->ztop = ribcage_head_z(sp, 2) + 4.0;
	sh->zlow = ribcage_head_z(sp, 7) - 8.0;
	/* The clavicle crosses in front of rib 1 (at 0.8 of its shaft),
	 * CLAV_GAP off it, forwards and up. */
	for (side = 1; side <= 2; side++) {
		double	 sx = side == 1 ? -1.0 : 1.0, d = (RIBCAGE_RIB_R +
			    CLAV_R + CLAV_GAP) / sqrt(2.0);

		rib_geom(sp, 1, &g);
		shaft_point(&g, side, 0.8, q);
		sh->cl[side - 1][0][0] = sx * 22.0;
		sh->cl[side - 1][0][1] = q[1] - 16.0;
		sh->cl[side - 1][0][2] = q[2] + d - 2.0;
		sh->cl[side - 1][1][0] = q[0];
		sh->cl[side - 1][1][1] = q[1] - d;
		sh->cl[side - 1][1][2] = q[2] + d;
		sh->cl[side - 1][2][0] = sx * 80.0;
		sh->cl[side - 1][2][1] = -8.0;
		sh->cl[side - 1][2][2] = g.zh + 2.0;
		sh->cl[side - 1][3][0] = sx * 108.0;
		sh->cl[side - 1][3][1] = 12.0;
		sh->cl[side - 1][3][2] = g.zh + 6.0;
	}
}

/* The scapula's or clavicle's CT number at q (mm), or NAN. */
static double
shoulder_hu(const struct shoulder *sh, const double q[3])
{
	double	 ax = fabs(q[0]), f, lat, ys, d, best = 1e30;
	int	 i, side, j, k;

	if (q[2] <= sh->ztop && q[2] >= sh->zlow && ax >= SCAP_MEDIAL) {
		f = (sh->ztop - q[2]) / (sh->ztop - sh->zlow);
		lat = SCAP_TOP_LAT + f * (SCAP_LOW_LAT - SCAP_TOP_LAT);
		i = (int)lround(ax);
		if (ax <= lat && i < 128 && isfinite(ys = sh->ys[i])) {
			d = q[1] - (ys + RIBCAGE_SCAP_GAP_MM);
			if (d >= 0.0 && d <= SCAP_T)
				return d < 1.0 || d > SCAP_T - 1.0 ?
				    HU_BONE_CORT : HU_BONE_MARROW;
		}
	}
	side = q[0] < 0.0 ? 0 : 1;
	for (j = 0; j < 3; j++) {
		const double	*a = sh->cl[side][j], *b = sh->cl[side][j + 1];
		double		 e[3], l2 = 0.0, tt = 0.0, dd = 0.0;

		for (k = 0; k < 3; k++) {
			e[k] = b[k] - a[k];
			l2 += e[k] * e[k];
			tt += e[k] * (q[k] - a[k]);
		}
		tt = tt / l2;
		tt = tt < 0.0 ? 0.0 : tt > 1.0 ? 1.0 : tt;
		for (k = 0; k < 3; k++)
			dd += (q[k] - a[k] - tt * e[k]) * (q[k] - a[k] -
			    tt * e[k]);
		best = fmin(best, dd);
	}
	d = sqrt(best);
	if (d > CLAV_R)
		return NAN;
	return d > CLAV_R - CLAV_CORT ? HU_BONE_CORT : HU_BONE_MARROW;
}

static double
shoulder_density(const void *arg, const double q[3])
{
	return shoulder_hu(arg, q);
}

/* Draw the scapulae and clavicles into v, 2 x 2 x 2 samples a voxel
 * near their surfaces as the ribs. */
static int
shoulder_draw(const struct ribcage_spec *sp, struct series_volume *v,
    double x0, double y0)
{
	struct shoulder	*sh;
	double		 dx = v->spacing[0], dz = v->spacing[2];
	double		 zt, zl;
	int		 i, j, k;

	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return -1;
	shoulder_make(sp, sh);
	zt = sh->cl[0][3][2] + CLAV_R + 1.0;
	zl = sh->zlow - 1.0;
	for (k = 0; k < v->nz; k++) {
		double	 z = (k + 0.5) * dz;

		if (z > zt + dz || z < zl - dz)
			continue;
		for (j = 0; j < v->ny; j++) {
			double	 y = y0 + j * dx;

			if (y < -60.0 || y > 100.0)
				continue;
			for (i = 0; i < v->nx; i++) {
				double	 x = x0 + i * dx;

				if (fabs(x) < 18.0 || fabs(x) > 116.0)
					continue;
				pv_sample(v, x0, y0, i, j, k, shoulder_density,
				    sh);
			}
		}
	}
	free(sh);
	return 0;
}

static double
gauss(uint64_t *s)
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
ribcage_build(struct ribcage_spec *sp, struct series_volume **out,
    char *err, size_t errlen)
{
	struct series_volume	*v;
	struct rline		 L;
	double			 dx, dz, x0, y0;
	int			 nx, nz, i, j, k, side, n;
	size_t			 nv, o;
	uint64_t		 rng;

	*out = NULL;
	if (sp->pixel_mm <= 0.0)
		sp->pixel_mm = 0.9;
	if (!(sp->slice_mm >= 0.3 && sp->slice_mm <= 10.0) ||
	    !(sp->pixel_mm >= 0.3 && sp->pixel_mm <= 4.0) ||
	    sp->nf > RIBCAGE_FRACTURES_MAX) {
		(void)snprintf(err, errlen, "ribcage: bad spacing");
		return -1;
	}
	for (o = 0; o < sp->nf; o++)
		if (sp->f[o].number < 1 || sp->f[o].number > 12 ||
		    (sp->f[o].side != 1 && sp->f[o].side != 2) ||
		    !(sp->f[o].t > 0.0 && sp->f[o].t < 1.0) ||
		    sp->f[o].kind >= RIBCAGE_KIND__MAX) {
			(void)snprintf(err, errlen, "ribcage: bad fracture "
			    "%zu", o);
			return -1;
		}
	dx = sp->pixel_mm;
	dz = sp->slice_mm;
	nx = (int)ceil(FOV_MM / dx);
	nz = nslices(sp);
	x0 = -(nx - 1) / 2.0 * dx;
	y0 = x0;
	nv = (size_t)nx * nx * nz;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->vox = malloc(nv * sizeof(float))) == NULL ||
	    (v->slices = calloc((size_t)nz, sizeof(*v->slices))) == NULL) {
		(void)snprintf(err, errlen, "ribcage: out of memory");
		series_free(v);
		return -1;
	}
	v->nx = v->ny = nx;
	v->nz = nz;
	v->spacing[0] = v->spacing[1] = dx;
	v->spacing[2] = dz;
	for (k = 0; k < nz; k++)
		for (j = 0; j < nx; j++)
			for (i = 0; i < nx; i++)
				v->vox[((size_t)k * nx + j) * nx + i] =
				    (float)base_hu(sp, x0 + i * dx, y0 + j * dx,
				    (k + 0.5) * dz);
	for (side = 1; side <= 2; side++)
		for (n = 1; n <= 12; n++) {
			if (rline_make(sp, side, n, &L) == -1 ||
			    rib_draw(v, &L, x0, y0) == -1) {
				rline_free(&L);
				(void)snprintf(err, errlen, "ribcage: out of "
				    "memory");
				series_free(v);
				return -1;
			}
			rline_free(&L);
		}
	if ((sp->options & RIBCAGE_SHOULDER) && shoulder_draw(sp, v, x0,
	    y0) == -1) {
		(void)snprintf(err, errlen, "ribcage: out of memory");
		series_free(v);
		return -1;
	}
	if (sp->noise_hu > 0.0) {
		rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)sp->seed;
		if (rng == 0)
			rng = 1;
		for (o = 0; o < nv; o++)
			v->vox[o] += (float)(sp->noise_hu * gauss(&rng));
	}
	v->origin[0] = x0;
	v->origin[1] = y0;
	v->origin[2] = 0.5 * dz;
	v->row[0] = 1.0;
	v->col[1] = 1.0;
	v->normal[2] = 1.0;
	v->step[2] = dz;
	v->spacing_min = v->spacing_median = v->spacing_max = dz;
	v->gantry_tilt = NAN;
	v->kvp = 120.0;
	v->slice_thickness = dz;
	v->padding_fill = NAN;
	v->order = SERIES_ORDER_POSITION;
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	(void)snprintf(v->photometric, sizeof(v->photometric), "MONOCHROME2");
	v->window_center = 400.0;
	v->window_width = 1800.0;
	for (k = 0; k < nz; k++) {
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
