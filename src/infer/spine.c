/*
 * spine.c - the vertebrae of a CT: bodies, labels, trabecular CT number
 * and morphometry (spine.h).
 *
 * The passes:
 *  1. the centre line: anatomy.c's centre of the vertebral body per slice
 *     (the largest inscribed circle of the bone in front of the canal),
 *     its gaps (a body whose trabecular bone is too faint to be seen as
 *     solid) filled linearly and the line smoothed by a running median of
 *     CENTRE_MED_MM;
 *  2. bodies and discs: on each slice, NRAY rays from the centre; along a
 *     ray the body's edge is where, after bone, the profile falls to soft
 *     tissue (spine_edge(), a half-maximum edge between the cortical peak
 *     and what lies beyond, as QCT's edge detection, Kalender et al.,
 *     1987).  A slice of a body shows the cortical ring on most of the
 *     rays forwards (|angle| <= FRONT_DEG from straight ahead, where
 *     neither the canal, the pedicles, the rib heads nor the transverse
 *     processes lie) at RING_SHARE_R or more of the body's radius
 *     hereabouts; a disc's slice (the annulus is 70-130 HU) does not, or
 *     only close to the centre where an endplate's partial volume lies.
 *     For the score, with pixels wider than the cortex, a ray's edge is
 *     its last fall from bone to soft tissue within RING_MAX_MM, not the
 *     first:
 *     trabecular bone of 100-130 HU (an osteopenic body) passes for soft
 *     tissue, and a brighter spot inside it gave an edge a millimetre
 *     from the centre (totalseg-example at 3 mm); and the bone threshold
 *     is lowered with pixels wider than the cortex (rays()).
 *     The discs are the slices of a low score and the local minima of
 *     the score that are deep enough and a body's radius apart, wider
 *     than one thin slice; a run of body slices longer than LONG_SHARE
 *     radii (a thin disc not seen) is split where the centre's mean CT
 *     number is lowest (the nucleus).  The column is split at its discs
 *     as Mastmeyer et al. (2006) do, by the profile along the spine;
 *  3. ribs: bone (2 mm blocks over RIB_HU) outside the column (more than
 *     COLUMN_MM from the centre line to the side), in 3-D components
 *     (26-connected); a component that reaches RIB_REACH_MM or more to the
 *     side from within RIB_MEDIAL_MM of the centre line, not in front of
 *     the body, is a rib with its head and neck at the spine (the
 *     costovertebral and costotransverse joints; transverse processes of
 *     the lumbar spine reach some 35-50 mm, the ribs well beyond).  A
 *     rib is a tube some 10-15 mm across that leaves the spine at the
 *     costovertebral joint and runs out, back, then forwards and down
 *     round the trunk: where it crosses the band RIB_PLATE_BAND_MM wide
 *     just inside RIB_REACH_MM from the midline it is short along the
 *     spine, and ribs joined through the processes or the scapula cross
 *     it, and meet the spine, one by one; a component that both crosses
 *     it and meets the spine over more than RIB_PLATE_MM without a gap
 *     is a plate, the iliac wing joined to the sacrum's ala at the
 *     sacroiliac joint, and no rib (totalseg-example: the wings passed
 *     for ribs on L4-S1; the band alone took test_ribs's shoulder
 *     phantom's ribs joined to the scapula for a plate).  A component
 *     whose medial end (within RIB_HEAD_MM of its most medial voxel) is
 *     no taller than RIB_HEAD_MAX_MM is one rib, and its level is the
 *     body that holds most of its head's voxels (T10-T12 bear their
 *     rib's head on their own body, Gray's Anatomy; the neck and shaft
 *     fall towards the body below, and when every medial voxel counted,
 *     at 3 mm T12's ribs made L1 rib-bearing); a taller one is ribs joined through the
 *     articular and transverse processes, and each body takes those
 *     whose medial voxels lie by it;
 *  4. labels: T12 is the last rib-bearing vertebra (Gray's Anatomy); it is
 *     the last rib-bearing body of the first run of them from the head
 *     (one body without a rib seen inside the run is bridged: a rib head
 *     can be missed), provided a body without ribs follows it in the
 *     scan (else the scan may end above T12 and no label is given).  The
 *     labels are marked uncertain when the last rib is seen on one side
 *     only or is short (under RIB_SURE_MM: a hypoplastic 12th rib, or a
 *     lumbar rib on L1, cannot be told apart), or a run was bridged;
 *     when no rib is seen at all no label is given;
 *  5. the trabecular ROI: on the middle half of a body's slices, an
 *     ellipse of ROI_SHARE of the body's half-axes (anterior, lateral,
 *     posterior, each the median of the rays' edges about that direction)
 *     and at least ROI_MARGIN_MM inside the cortex's edge, without the
 *     posterior central strip (VEIN_MM either side of the midline behind
 *     the centre) where the basivertebral vein enters; the mean and the
 *     SD of the CT numbers in it (the elliptical ROI of QCT, Cann and
 *     Genant, 1980; ACR-SPR-SSR practice parameter for QCT, 2018);
 *  6. morphometry on the body's own mid-sagittal plane: through its
 *     centre, spanned by the spine's local direction (between the centres
 *     of its neighbours) and the front-to-back direction square to it,
 *     resampled trilinearly every PLANE_MM; the anterior and posterior
 *     edges (median of four rows at a quarter and a third of the body's
 *     height above and below the centre, off the basivertebral vein), and
 *     the heights between the endplates' outer edges on lines along the
 *     spine at 10 %, 50 % and 90 % of the depth (the six-point placement
 *     of quantitative morphometry, McCloskey et al., 1993; Genant et al.,
 *     1993, inset from the corners, which are rounded), each the median
 *     of three lines 0.5 mm apart; the mid-sagittal area the sum of the
 *     heights over the depth.  The plane's centre is first moved along
 *     the axis to the middle between the endplates (a line 4 mm in front
 *     of the centre), as the run of slices may put it a slice off.  An
 *     edge on the plane is first the middle of the cortex's peak plus
 *     half a nominal plate (spine_plate_edge()): the slice profile blurs
 *     a 1 mm endplate over the slice thickness, which moves a
 *     half-maximum edge of the lowered peak outwards but leaves the
 *     peak's middle in place.  Along the axis that middle is only known
 *     to a slice (the resampled profile peaks at a slice's middle), so
 *     the edge is then placed on the slices themselves
 *     (spine_plate_fit()): a slab thinner than the slice profile keeps
 *     its mass, not its width (Prevrhal et al., 1999), and the plate's
 *     mass shared between two slices places it; within one slice it
 *     cannot be placed, and the middle of the places it may have is
 *     taken (the likelihood-weighted mean of the places), at most
 *     (slice - 1 mm) / 2 off.  For the three heights, where a line's own
 *     slices leave the plate open the lines every LINE_MM within
 *     LINE_N LINE_MM of it and LINE_WALL_MM inside the front and back
 *     edges are fitted together as one plate sloping linearly across
 *     them (spine_plate_fit_lines()): where the plate is sloped to the
 *     slices across the depth (a wedge, a concavity's sides, a leaning
 *     spine) the lines on which it crosses a slice's boundary place it;
 *     where it is square to them nothing can.  The lines keep off the
 *     walls: a first try over +-2 mm took lines 1.2 mm from the back edge
 *     into the posterior wall's cortex (T11's posterior height 21.9 for
 *     24 mm at 2.5 mm) and was not kept.  A height longer than the
 *     distance between the body's centre and its neighbours' (a disc not
 *     seen, the line ran into the next body) or under a third of the
 *     body's run is not kept, and the body is not graded;
 *  7. the internal references of the phantomless calibration on the
 *     measured bodies' middle slices: air outside the body, fat (-190 to
 *     -30 HU) inside it, paraspinal muscle (-29 to 150 HU) in two discs
 *     beside the spinous process.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spine.h"

#define NRAY		36		/* every 10 degrees */
#define RAY_MM		40.0
#define RAY_STEP	0.5
#define FRONT_DEG	60.0
#define RING_MIN_MM	5.0
#define RING_MAX_MM	35.0
#define RING_SHARE	0.5
#define RING_SHARE_R	0.7
#define RADIUS_MM	25.0
#define SCORE_DISC_MAX	0.9
#define SCORE_DROP	0.15
#define DROP_MM		12.0
#define NMS_SHARE	1.0
#define LONG_SHARE	2.0
#define CENTRE_MM	6.0
#define CENTRE_MED_MM	5.0
#define BODY_MIN_MM	8.0
#define GAP_MIN_MM	1.5
#define RIB_HU		150.0
#define COLUMN_MM	18.0
#define RIB_MEDIAL_MM	32.0
#define RIB_REACH_MM	60.0
#define RIB_SURE_MM	70.0
#define RIB_MIN_VOX	3
#define RIB_HEAD_MM	6.0
#define RIB_HEAD_MAX_MM	45.0
#define RIB_PLATE_BAND_MM 10.0
#define RIB_PLATE_MM	45.0
#define ROI_SHARE	0.65
#define ROI_MARGIN_MM	5.0
#define VEIN_MM		5.0
#define PLANE_MM	0.25
#define PLATE_MIN_HU	60.0
#define PLATE_HALF_MM	0.5
#define PITCH_SHARE	1.6
#define PLANE_HALF_U	40.0
#define PLANE_HALF_W	35.0
#define ROW_FRONT_MM	4.0
#define LINE_N		6
#define LINE_MM		0.5
#define LINE_WALL_MM	3.0
#define LINE_SD_MM	0.25

static const char *const names[] = {
	"?", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10",
	"T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1",
};

const char *
spine_label_name(int label)
{
	if (label < 1 || label > SPINE_S1)
		return names[0];
	return names[label];
}

static double	 median_pos(double *, int);

/* The median of the m values of d (reordered); NAN when none. */
static double
median_pos_f(double *d, int m)
{
	return m > 0 ? median_pos(d, m) : NAN;
}

int
spine_count_t12_l2(const struct spine_info *si)
{
	size_t	 i;
	int	 n = 0;

	if (!si->labelled)
		return -1;
	for (i = 0; i < si->n; i++)
		if (!si->v[i].partial && si->v[i].label >= SPINE_T12 &&
		    si->v[i].label <= SPINE_L2)
			n++;
	return n;
}

/* spine_edge() with bone from a 3-sample mean of bone HU; with outer,
 * the last such edge of the profile rather than the first. */
static double
edge_bone(const float *p, int n, double h, double bone, int outer)
{
	int	 run = (int)ceil(SPINE_RUN_MM / h), i, j, seen = 0, lo, ipk;
	double	 s, peak, out, level, e, last = -1.0;

	for (i = 1; i + 1 < n && !(outer && h * i > RING_MAX_MM); i++) {
		s = (p[i - 1] + p[i] + p[i + 1]) / 3.0;
		if (s >= bone)
			seen = 1;
		if (!seen || s >= SPINE_LOW_HU || i + run >= n)
			continue;
		for (j = i; j <= i + run; j++)
			if (p[j] >= SPINE_LOW_HU)
				break;
		if (j <= i + run)
			continue;
		/* The last peak, within 4 mm before the fall. */
		lo = i - (int)ceil(4.0 / h);
		if (lo < 0)
			lo = 0;
		ipk = lo;
		for (j = lo; j <= i; j++)
			if (p[j] > p[ipk])
				ipk = j;
		peak = p[ipk];
		out = 0.0;
		for (j = i; j <= i + run; j++)
			out += p[j];
		out /= run + 1;
		level = (peak + out) / 2.0;
		e = h * i;
		for (j = ipk + 1; j <= i + run; j++)
			if (p[j] < level) {
				e = h * ((j - 1) + (p[j - 1] - level) /
				    (p[j - 1] - p[j]));
				break;
			}
		if (!outer)
			return e;
		last = e;
		seen = 0;
		i += run;
	}
	return last;
}

double
spine_edge(const float *p, int n, double h)
{
	return edge_bone(p, n, h, SPINE_BONE_HU, 0);
}

double
spine_plate_edge(const float *p, int n, double h)
{
	double	 e = spine_edge(p, n, h), peak, tin, lin, xin, xout;
	double	 d[64];
	int	 ie, ipk, j, lo, m = 0;

	if (e < 0.0)
		return e;
	/* The cortex's peak: the highest sample within 3 mm before the
	 * half-maximum edge. */
	ie = (int)floor(e / h);
	if (ie >= n - 1)
		return e;
	lo = ie - (int)ceil(3.0 / h);
	if (lo < 0)
		lo = 0;
	ipk = lo;
	for (j = lo; j <= ie; j++)
		if (p[j] > p[ipk])
			ipk = j;
	peak = p[ipk];
	/* The bone inside: the median of 2-4 mm before the peak. */
	for (j = ipk - (int)ceil(4.0 / h); j <= ipk - (int)ceil(2.0 / h) &&
	    m < 64; j++)
		if (j >= 0)
			d[m++] = p[j];
	tin = median_pos_f(d, m);
	if (!isfinite(tin) || peak - tin < PLATE_MIN_HU)
		return e;
	lin = (peak + tin) / 2.0;
	/* Outwards: spine_edge()'s half-maximum crossing, e. */
	for (j = ipk; j > 0 && p[j - 1] >= lin; j--)
		;
	if (j == 0)
		return e;
	xin = h * ((j - 1) + (lin - p[j - 1]) / (p[j] - p[j - 1]));
	xout = e;
	return (xin + xout) / 2.0 + PLATE_HALF_MM;
}

/* The length of [a0, a1] within [b0, b1]. */
static double
overlap(double a0, double a1, double b0, double b1)
{
	double	 lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0.0;
}

/* The plate's grid: edges within 3 mm of e0 every 0.02 mm, slopes
 * along the depth within +-0.5 every 0.025 (one line: none). */
#define FIT_NG		301
#define FIT_STEP	0.02
#define FIT_NS		41
#define FIT_SSTEP	0.025

double
spine_plate_fit_lines(const struct spine_line *ln, int nl, double w,
    double e0, double sigma2, double *sd)
{
	const double	 c = SPINE_PLATE_MM;
	static const double	 big = 1e300;
	double		*sse, best = INFINITY, r, P, srp, spp, srr, fb, e;
	double		 sw = 0.0, se = 0.0, se2 = 0.0, wt, lo, hi, sl, m;
	int		 g, k, i, j, ns = nl > 1 ? FIT_NS : 1, used;

	if (!(w > 0.0) || nl < 1 || !(sigma2 > 0.0))
		return -1.0;
	if ((sse = malloc(sizeof(*sse) * FIT_NG * (size_t)ns)) == NULL)
		return -1.0;
	for (j = 0; j < ns; j++) {
		sl = ns > 1 ? (j - ns / 2) * FIT_SSTEP : 0.0;
		for (g = 0; g < FIT_NG; g++) {
			srp = spp = srr = 0.0;
			used = 0;
			for (i = 0; i < nl; i++) {
				e = e0 - 3.0 + g * FIT_STEP + sl * ln[i].dw;
				lo = ln[i].e0 - c - w - 1.5;
				hi = ln[i].e0 + w + 1.5;
				for (k = 0; k < ln[i].nk; k++) {
					const double	 xk = ln[i].x[k];

					if (xk < lo || xk > hi)
						continue;
					/* The slice's share of bone (below
					 * e) and of the plate ([e - c, e]);
					 * the plate's excess over t is the
					 * one linear unknown, shared. */
					fb = overlap(xk - w / 2.0, xk + w / 2.0,
					    -1e9, e) / w;
					P = overlap(xk - w / 2.0, xk + w / 2.0,
					    e - c, e) / w;
					r = ln[i].val[k] - ln[i].t * fb -
					    ln[i].d * (1.0 - fb);
					srp += r * P;
					spp += P * P;
					srr += r * r;
					used++;
				}
			}
			sse[j * FIT_NG + g] = big;
			if (used < 2 || !(spp > 0.0) || !(srp > 0.0))
				continue;
			sse[j * FIT_NG + g] = srr - srp * srp / spp;
			if (sse[j * FIT_NG + g] < best)
				best = sse[j * FIT_NG + g];
		}
	}
	if (!isfinite(best)) {
		free(sse);
		return -1.0;
	}
	/* The edge's mean over the places (and slopes) weighed by their
	 * likelihood, exp(-sse / 2 sigma2): where the plate lies within one
	 * slice the places that keep it there fit alike and the mean is
	 * their middle; where it is shared the fit's minimum. */
	for (j = 0; j < ns; j++)
		for (g = 0; g < FIT_NG; g++) {
			if (sse[j * FIT_NG + g] >= big)
				continue;
			wt = exp(-(sse[j * FIT_NG + g] - best) /
			    (2.0 * sigma2));
			sw += wt;
			se += wt * (e0 - 3.0 + g * FIT_STEP);
			se2 += wt * (e0 - 3.0 + g * FIT_STEP) *
			    (e0 - 3.0 + g * FIT_STEP);
		}
	free(sse);
	m = se / sw;
	if (sd != NULL)
		*sd = sqrt(fmax(0.0, se2 / sw - m * m));
	return m;
}

double
spine_plate_fit(const float *val, const double *x, int nk, double w,
    double t, double d, double e0, double sigma2)
{
	struct spine_line	 ln;

	ln.val = val;
	ln.x = x;
	ln.nk = nk;
	ln.dw = 0.0;
	ln.t = t;
	ln.d = d;
	ln.e0 = e0;
	return spine_plate_fit_lines(&ln, 1, w, e0, sigma2, NULL);
}

/* The voxel value at fractional voxel coordinates (trilinear); air
 * outside the volume. */
static double
tri(const struct series_volume *v, double x, double y, double z)
{
	int	 i, j, k, a, b, c;
	double	 fx, fy, fz, acc = 0.0, w;

	if (!(x >= 0.0 && y >= 0.0 && z >= 0.0 && x <= v->nx - 1 &&
	    y <= v->ny - 1 && z <= v->nz - 1))
		return -1000.0;
	i = (int)x;
	j = (int)y;
	k = (int)z;
	if (i >= v->nx - 1) i = v->nx - 2;
	if (j >= v->ny - 1) j = v->ny - 2;
	if (k >= v->nz - 1) k = v->nz > 1 ? v->nz - 2 : 0;
	if (i < 0) i = 0;
	if (j < 0) j = 0;
	fx = x - i;
	fy = y - j;
	fz = v->nz > 1 ? z - k : 0.0;
	for (c = 0; c < 2 && k + c < v->nz; c++)
		for (b = 0; b < 2; b++)
			for (a = 0; a < 2; a++) {
				w = (a ? fx : 1 - fx) * (b ? fy : 1 - fy) *
				    (c ? fz : 1 - fz);
				if (w == 0.0)
					continue;
				acc += w * v->vox[((size_t)(k + c) * v->ny +
				    (j + b)) * v->nx + (i + a)];
			}
	return acc;
}

/* The bone threshold of the rays: the cortex's peak over the bone
 * inside, SPINE_BONE_HU - SPINE_LOW_HU for a cortex seen whole, is
 * lowered by pixels wider than it: a shell thinner than the pixel keeps
 * its mass, not its peak (Prevrhal et al., 1999), so the excess is
 * scaled by the nominal cortex (SPINE_PLATE_MM) over the pixel where the
 * pixel is wider (3 mm pixels: 147 HU; at 1 mm or finer, SPINE_BONE_HU). */
static double
bone_hu(const struct series_volume *v)
{
	double	 pix = fmax(fabs(v->spacing[0]), fabs(v->spacing[1]));

	return SPINE_LOW_HU + (SPINE_BONE_HU - SPINE_LOW_HU) *
	    fmin(1.0, SPINE_PLATE_MM / pix);
}

/* The edges along the rays of slice k from (cx, cy) (voxels) into r
 * (mm, -1 where none); ray a points at angle 10a degrees clockwise from
 * straight ahead (-y) seen from the feet, towards +x at 90. */
static void
rays(const struct series_volume *v, int k, double cx, double cy, double *r,
    int outer)
{
	float	 prof[(int)(RAY_MM / RAY_STEP) + 1];
	int	 n = (int)(RAY_MM / RAY_STEP) + 1, a, s;
	double	 ph, ux, uy;

	double	 bone = bone_hu(v);

	for (a = 0; a < NRAY; a++) {
		ph = a * 2.0 * M_PI / NRAY;
		ux = sin(ph) / v->spacing[0];
		uy = -cos(ph) / v->spacing[1];
		for (s = 0; s < n; s++)
			prof[s] = (float)tri(v, cx + ux * s * RAY_STEP,
			    cy + uy * s * RAY_STEP, k);
		r[a] = edge_bone(prof, n, RAY_STEP, bone, outer);
	}
}

/* The ray's angle, degrees in -180..180. */
static double
ray_deg(int a)
{
	double	 d = a * 360.0 / NRAY;

	return d > 180.0 ? d - 360.0 : d;
}

static int
cmp_d(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the n values of d that are not negative (NAN if none);
 * d is reordered. */
static double
median_pos(double *d, int n)
{
	int	 i, m = 0;

	for (i = 0; i < n; i++)
		if (d[i] >= 0.0 && isfinite(d[i]))
			d[m++] = d[i];
	if (m == 0)
		return NAN;
	qsort(d, (size_t)m, sizeof(*d), cmp_d);
	return m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2.0;
}

/* The median of the ray edges of r within tol degrees of deg, skipping
 * those within skip degrees of it. */
static double
half_axis(const double *r, double deg, double tol, double skip)
{
	double	 d[NRAY], dd;
	int	 a, m = 0;

	for (a = 0; a < NRAY; a++) {
		dd = fabs(ray_deg(a) - deg);
		if (dd > 180.0)
			dd = 360.0 - dd;
		if (dd <= tol + 1e-9 && dd >= skip - 1e-9)
			d[m++] = r[a];
	}
	return median_pos(d, m);
}

/* The mean CT number within CENTRE_MM of (cx, cy) on slice k. */
static double
centre_mean(const struct series_volume *v, double cx, double cy, int k)
{
	int	 i, j, r = (int)ceil(CENTRE_MM / v->spacing[0]);
	double	 s = 0.0, X, Y;
	long	 n = 0;

	for (j = (int)cy - r; j <= (int)cy + r; j++)
		for (i = (int)cx - r; i <= (int)cx + r; i++) {
			if (i < 0 || j < 0 || i >= v->nx || j >= v->ny)
				continue;
			X = (i - cx) * v->spacing[0];
			Y = (j - cy) * v->spacing[1];
			if (X * X + Y * Y > CENTRE_MM * CENTRE_MM)
				continue;
			s += v->vox[((size_t)k * v->ny + j) * v->nx + i];
			n++;
		}
	return n > 0 ? s / n : 0.0;
}

/* The body's centre on slice k: along its axis from its centre. */
static void
centre_at(const struct series_volume *v, const struct vertebra *b, double k,
    double *x, double *y)
{
	double	 t = b->axis[2] != 0.0 ? (k - b->c[2]) * v->spacing[2] /
	    b->axis[2] : 0.0;

	*x = b->c[0] + b->axis[0] * t / v->spacing[0];
	*y = b->c[1] + b->axis[1] * t / v->spacing[1];
}

/* The trabecular ROI of b (step 5). */
static void
roi_measure(const struct series_volume *v, struct vertebra *b)
{
	double	 r[NRAY], ant, lat, post, la, ll, lp, cx, cy, X, Y, e;
	double	 s = 0.0, s2 = 0.0, L = b->k1 - b->k0 + 1;
	long	 n = 0;
	int	 k, i, j, ka, kb, i0, i1, j0, j1;

	ka = (int)ceil(b->k0 + 0.25 * L - 0.5);
	kb = (int)floor(b->k1 - 0.25 * L + 0.5);
	if (kb < ka)
		ka = kb = (int)lround(b->c[2]);
	for (k = ka; k <= kb; k++) {
		centre_at(v, b, k, &cx, &cy);
		rays(v, k, cx, cy, r, 0);
		ant = half_axis(r, 0.0, 30.0, 0.0);
		lat = (half_axis(r, 90.0, 20.0, 0.0) +
		    half_axis(r, -90.0, 20.0, 0.0)) / 2.0;
		post = half_axis(r, 180.0, 30.0, 15.0);
		if (!isfinite(ant) || !isfinite(lat) || !isfinite(post))
			continue;
		la = fmin(ROI_SHARE * ant, ant - ROI_MARGIN_MM);
		ll = fmin(ROI_SHARE * lat, lat - ROI_MARGIN_MM);
		lp = fmin(ROI_SHARE * post, post - ROI_MARGIN_MM);
		if (la <= 1.0 || ll <= 1.0 || lp <= 1.0)
			continue;
		i0 = (int)floor(cx - ll / v->spacing[0]);
		i1 = (int)ceil(cx + ll / v->spacing[0]);
		j0 = (int)floor(cy - la / v->spacing[1]);
		j1 = (int)ceil(cy + lp / v->spacing[1]);
		for (j = j0; j <= j1; j++)
			for (i = i0; i <= i1; i++) {
				if (i < 0 || j < 0 || i >= v->nx ||
				    j >= v->ny)
					continue;
				X = (i - cx) * v->spacing[0];
				Y = (j - cy) * v->spacing[1];
				e = (X / ll) * (X / ll) + (Y < 0.0 ?
				    (Y / la) * (Y / la) : (Y / lp) * (Y / lp));
				if (e > 1.0)
					continue;
				if (Y > -VEIN_MM && fabs(X) < VEIN_MM)
					continue;
				e = v->vox[((size_t)k * v->ny + j) * v->nx +
				    i];
				s += e;
				s2 += e * e;
				n++;
			}
	}
	b->roi_voxels = n;
	b->roi_ml = n * v->spacing[0] * v->spacing[1] * v->spacing[2] /
	    1000.0;
	if (n > 0) {
		b->hu = s / n;
		b->hu_sd = n > 1 ? sqrt(fmax(0.0, (s2 - s * s / n) /
		    (n - 1))) : 0.0;
	}
}

/* The plane of b (step 6), as a sampler. */
struct plane {
	const struct series_volume *v;
	double	 p0[3], a[3], e[3];	/* mm */
};

static double
plane_at(const struct plane *pl, double u, double w)
{
	const struct series_volume *v = pl->v;

	return tri(v, (pl->p0[0] + u * pl->a[0] + w * pl->e[0]) /
	    v->spacing[0], (pl->p0[1] + u * pl->a[1] + w * pl->e[1]) /
	    v->spacing[1], (pl->p0[2] + u * pl->a[2] + w * pl->e[2]) /
	    v->spacing[2]);
}

/* The edge from (u, w) along the direction (du, dw) (unit), mm from the
 * start, or -1. */
static double
plane_edge(const struct plane *pl, double u, double w, double du, double dw,
    double len)
{
	float	 prof[512];
	int	 n = (int)(len / PLANE_MM) + 1, s;

	if (n > 512)
		n = 512;
	for (s = 0; s < n; s++)
		prof[s] = (float)plane_at(pl, u + du * s * PLANE_MM,
		    w + dw * s * PLANE_MM);
	return spine_plate_edge(prof, n, PLANE_MM);
}

/*
 * The endplate's edge from (u, w) along the body's axis (du = 1 up, -1
 * down), mm from the start, or -1: spine_plate_edge() on the resampled
 * profile finds it to within a slice; spine_plate_fit() then places it
 * on the slices themselves.  The line along the axis meets slice k's
 * middle at the knot where the plane's z is k's; a slice of thickness sz
 * (contiguous slices: the spacing) averages the body along the axis over
 * sz |a_z| (the slab seen along z, where it leans, is no thicker along
 * its own axis).  The bone inside is the median of 1-5 mm inside the
 * plate and a slice beyond it, the disc the median of 0.5-3 mm beyond a
 * slice past the edge (spine_plate_edge() may be a slice off); sigma2 the
 * body's trabecular variance, the noise a knot carries.
 */
struct pline {
	float	 kv[64];
	double	 kx[64], t, d, e0, wx;
	int	 nk;
};

/* The line of plane_plate_edge() from (u, w): its knots, bone, disc and
 * first edge in o; 0 when it can be fitted, 1 when only o->e0 is known,
 * -1 when not even that. */
static int
plane_line(const struct plane *pl, double u, double w, double du,
    struct pline *o)
{
	const struct series_volume *v = pl->v;
	float	 prof[512];
	double	 in[64], out[64], sz = v->spacing[2], az, z0, wx, e0;
	double	 x, lo, hi;
	int	 n = (int)(30.0 / PLANE_MM) + 1, s, k, k0, k1, ni = 0, no = 0;

	o->nk = 0;
	for (s = 0; s < n; s++)
		prof[s] = (float)plane_at(pl, u + du * s * PLANE_MM, w);
	o->e0 = e0 = spine_plate_edge(prof, n, PLANE_MM);
	if (e0 < 0.0)
		return -1;
	az = du * pl->a[2];
	if (fabs(az) < 0.5)
		return 1;
	o->wx = wx = sz * fabs(az);
	/* The plane's z (mm) at the start; x along the line: z0 + x az. */
	z0 = pl->p0[2] + u * pl->a[2] + w * pl->e[2];
	lo = e0 - SPINE_PLATE_MM - sz / fabs(az) - 6.0;
	hi = e0 + sz / fabs(az) + 3.0;
	k0 = (int)floor((z0 + (az > 0 ? lo : hi) * az) / sz);
	k1 = (int)ceil((z0 + (az > 0 ? hi : lo) * az) / sz);
	for (k = k0; k <= k1 && o->nk < 64; k++) {
		x = (k * sz - z0) / az;
		if (x < 0.0 || x < lo || x > hi)
			continue;
		o->kx[o->nk] = x;
		o->kv[o->nk] = (float)plane_at(pl, u + du * x, w);
		o->nk++;
	}
	for (s = 0; s < n; s++) {
		x = s * PLANE_MM;
		if (x >= e0 - SPINE_PLATE_MM - wx - 5.0 &&
		    x <= e0 - SPINE_PLATE_MM - wx - 1.0 && ni < 64)
			in[ni++] = prof[s];
		if (x >= e0 + wx + 0.5 && x <= e0 + wx + 3.0 && no < 64)
			out[no++] = prof[s];
	}
	o->t = median_pos_f(in, ni);
	o->d = median_pos_f(out, no);
	if (!isfinite(o->t) || !isfinite(o->d))
		return 1;
	return 0;
}

static double
plane_plate_edge(const struct plane *pl, double u, double w, double du,
    double sigma2)
{
	struct pline	 o;
	double		 e;
	int		 r = plane_line(pl, u, w, du, &o);

	if (r != 0)
		return o.e0;
	e = spine_plate_fit(o.kv, o.kx, o.nk, o.wx, o.t, o.d, o.e0, sigma2);
	return e < 0.0 ? o.e0 : e;
}

/*
 * The endplate's edge on the line at w0.  Where the line's own slices
 * place it (the spread of its fit under LINE_SD_MM: the plate shared
 * between two slices) that place; else the lines every LINE_MM within
 * LINE_N LINE_MM of it and within [wlo, whi] (off the walls' cortex),
 * fitted together (spine_plate_fit_lines()): one plate, its edge sloping
 * linearly across them, its excess over the bone shared.  An endplate
 * is seldom square to the slices across the body's depth: where it
 * crosses a slice's boundary on some of the lines their shares place it,
 * and the slope carries that to the lines where it lies within one
 * slice.  The line's own place is kept where it has one, as a straight
 * edge across a curved plate (a concavity) would move it.
 */
static double
plane_plate_edge_lines(const struct plane *pl, double u, double w0,
    double du, double sigma2, double wlo, double whi)
{
	struct pline	 o[2 * LINE_N + 1];
	struct spine_line ln[2 * LINE_N + 1];
	double		 e, w, sd;
	int		 j, r, nl = 0, ic = -1;

	for (j = -LINE_N; j <= LINE_N; j++) {
		w = w0 + j * LINE_MM;
		if (j != 0 && (w < wlo || w > whi))
			continue;
		r = plane_line(pl, u, w, du, &o[nl]);
		if (j == 0 && r != 0)
			return o[nl].e0;
		if (r != 0)
			continue;
		ln[nl].val = o[nl].kv;
		ln[nl].x = o[nl].kx;
		ln[nl].nk = o[nl].nk;
		ln[nl].dw = j * LINE_MM;
		ln[nl].t = o[nl].t;
		ln[nl].d = o[nl].d;
		ln[nl].e0 = o[nl].e0;
		if (j == 0)
			ic = nl;
		nl++;
	}
	if (ic < 0)
		return -1.0;
	e = spine_plate_fit_lines(&ln[ic], 1, o[ic].wx, o[ic].e0, sigma2,
	    &sd);
	if (e >= 0.0 && sd < LINE_SD_MM)
		return e;
	e = spine_plate_fit_lines(ln, nl, o[ic].wx, o[ic].e0, sigma2, NULL);
	return e < 0.0 ? o[ic].e0 : e;
}

/* The same from the lines about w (plane_plate_edge_lines()). */
static double
plane_height_lines(const struct plane *pl, double w, double u0,
    double sigma2, double wlo, double whi)
{
	double	 up = plane_plate_edge_lines(pl, u0, w, 1.0, sigma2, wlo, whi);
	double	 dn = plane_plate_edge_lines(pl, -u0, w, -1.0, sigma2, wlo,
		    whi);

	if (up < 0.0 || dn < 0.0)
		return NAN;
	return up + dn + 2.0 * u0;
}

/* The height of the body on the line at w: from u0 up and down. */
static double
plane_height(const struct plane *pl, double w, double u0, double sigma2)
{
	double	 up = plane_plate_edge(pl, u0, w, 1.0, sigma2);
	double	 dn = plane_plate_edge(pl, -u0, w, -1.0, sigma2);

	if (up < 0.0 || dn < 0.0)
		return NAN;
	return up + dn + 2.0 * u0;
}

static void
morphometry(const struct series_volume *v, struct vertebra *b, double pitch)
{
	struct plane	 pl;
	double		 L, rows[4], ant[4], post[4], wa, wp, d, h[3], t, hr;
	double		 area = 0.0, w, s2, up, dn;
	int		 i, q, nl = 0, ok = 0;

	b->ha = b->hm = b->hp = b->depth = b->area_mm2 = NAN;
	s2 = isfinite(b->hu_sd) && b->hu_sd > 0.0 ? b->hu_sd * b->hu_sd :
	    100.0;
	pl.v = v;
	for (i = 0; i < 3; i++) {
		pl.p0[i] = b->c[i] * v->spacing[i];
		pl.a[i] = b->axis[i];
	}
	/* Front to back, square to the axis. */
	pl.e[0] = -pl.a[1] * pl.a[0];
	pl.e[1] = 1.0 - pl.a[1] * pl.a[1];
	pl.e[2] = -pl.a[1] * pl.a[2];
	d = sqrt(pl.e[0] * pl.e[0] + pl.e[1] * pl.e[1] + pl.e[2] * pl.e[2]);
	if (!(d > 1e-6))
		return;
	for (i = 0; i < 3; i++)
		pl.e[i] /= d;
	L = (b->k1 - b->k0 + 1) * v->spacing[2] * fabs(b->axis[2]);
	/* The middle plane between the endplates, on a line in front of
	 * the centre (off the basivertebral vein): the run of slices puts
	 * the centre up to a slice off, and the rows of the front and back
	 * edges must keep off the endplates of a concave body. */
	up = plane_edge(&pl, 0.0, -ROW_FRONT_MM, 1.0, 0.0, 30.0);
	dn = plane_edge(&pl, 0.0, -ROW_FRONT_MM, -1.0, 0.0, 30.0);
	hr = L;
	if (up >= 0.0 && dn >= 0.0 && fabs(up - dn) / 2.0 < 0.25 * L) {
		for (i = 0; i < 3; i++)
			pl.p0[i] += (up - dn) / 2.0 * pl.a[i];
		/* The rows at a quarter and a third of the height measured
		 * there, not of the run of slices: a run that holds a
		 * concave body's rim (L2 of the phantom, 28 mm at its rim,
		 * 21.7 in the middle, when a try of the ring score took its
		 * rim's slices in) put the rows at a third of 28.75 mm, 9.5
		 * mm from the middle, on the concave endplate's cortex
		 * (depth 17.9 for 32 mm). */
		hr = fmin(L, up + dn);
	}
	rows[0] = 0.25 * hr;
	rows[1] = -0.25 * hr;
	rows[2] = 0.33 * hr;
	rows[3] = -0.33 * hr;
	for (i = 0; i < 4; i++) {
		ant[i] = plane_edge(&pl, rows[i], 0.0, 0.0, -1.0,
		    PLANE_HALF_W);
		post[i] = plane_edge(&pl, rows[i], 0.0, 0.0, 1.0,
		    PLANE_HALF_W);
	}
	wa = -median_pos(ant, 4);
	wp = median_pos(post, 4);
	if (!isfinite(wa) || !isfinite(wp) || wp - wa < 10.0)
		return;
	b->depth = wp - wa;
	for (q = 0; q < 3; q++) {
		double	 m[3];

		t = q == 0 ? 0.1 : q == 1 ? 0.5 : 0.9;
		for (i = 0; i < 3; i++) {
			m[i] = plane_height_lines(&pl, wa + t * b->depth +
			    (i - 1) * 0.5, 0.2 * L, s2, wa + LINE_WALL_MM,
			    wp - LINE_WALL_MM);
			if (!isfinite(m[i]))
				m[i] = -1.0;
		}
		h[q] = median_pos(m, 3);
	}
	/* A height beyond the distance between the centres of the body and
	 * its neighbours (a line that crossed a disc it did not see into the
	 * next body) or under a third of the body's run of slices is no
	 * height. */
	for (q = 0; q < 3; q++)
		if (!(h[q] <= pitch && h[q] >= 0.3 * L))
			h[q] = NAN;
	b->ha = h[0];
	b->hm = h[1];
	b->hp = h[2];
	for (w = wa + PLANE_MM / 2.0; w < wp; w += PLANE_MM) {
		d = plane_height(&pl, w, 0.2 * L, s2);
		nl++;
		if (isfinite(d)) {
			area += d * PLANE_MM;
			ok++;
		}
	}
	if (ok > 0 && ok * 10 >= nl * 8)
		b->area_mm2 = area * nl / ok;
}

/* Step 3: the ribs, their levels marked in the bodies' ribs bits. */
static int
ribs_find(const struct series_volume *v, const uint8_t *body,
    const double *cx, const double *cy, const int *valid,
    struct spine_info *si, char *err, size_t errlen)
{
	int	 fx, fz, W, H, D, X, Y, Z, i, j, k, a, b, c;
	size_t	 n, p, q, h, *stk = NULL, ns;
	uint8_t	*bone = NULL;
	int	*cnt = NULL, *vote = NULL;
	double	 dxm, reach, m, dmin;
	int	 nb = (int)si->n, bi, hz0, hz1, one;
	uint8_t	*zocc = NULL;

	fx = (int)lround(2.0 / v->spacing[0]);
	fz = (int)lround(2.0 / v->spacing[2]);
	if (fx < 1) fx = 1;
	if (fz < 1) fz = 1;
	W = v->nx / fx;
	H = v->ny / fx;
	D = v->nz / fz;
	if (W < 3 || H < 3 || D < 1)
		return 0;
	n = (size_t)W * H * D;
	if ((bone = calloc(n, 1)) == NULL ||
	    (stk = malloc(n * sizeof(*stk))) == NULL ||
	    (cnt = calloc((size_t)nb * 2, sizeof(*cnt))) == NULL ||
	    (vote = calloc((size_t)nb * 2, sizeof(*vote))) == NULL ||
	    (zocc = malloc((size_t)D)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		free(bone);
		free(stk);
		free(cnt);
		free(vote);
		return -1;
	}
	for (Z = 0; Z < D; Z++) {
		int	 kc = Z * fz + fz / 2;

		if (!valid[kc])
			continue;
		for (Y = 0; Y < H; Y++)
			for (X = 0; X < W; X++) {
				double	 s = 0.0;

				i = X * fx + fx / 2;
				j = Y * fx + fx / 2;
				if (body != NULL && !body[((size_t)kc * v->ny +
				    j) * v->nx + i])
					continue;
				if (fabs(i - cx[kc]) * v->spacing[0] <
				    COLUMN_MM)
					continue;
				for (c = 0; c < fz; c++)
					for (b = 0; b < fx; b++)
						for (a = 0; a < fx; a++)
							s += v->vox[((size_t)(Z * fz + c) *
							    v->ny + Y * fx + b) * v->nx +
							    X * fx + a];
				if (s / (fx * fx * fz) > RIB_HU)
					bone[((size_t)Z * H + Y) * W + X] = 1;
			}
	}
	for (p = 0; p < n; p++) {
		if (bone[p] != 1)
			continue;
		/* One component: its reach, then its medial voxels. */
		ns = 0;
		stk[ns++] = p;
		bone[p] = 2;
		reach = 0.0;
		for (h = 0; h < ns; h++) {
			q = stk[h];
			X = (int)(q % W);
			Y = (int)(q / W % H);
			Z = (int)(q / ((size_t)W * H));
			k = Z * fz + fz / 2;
			dxm = fabs(X * fx + fx / 2 - cx[k]) * v->spacing[0];
			if (dxm > reach)
				reach = dxm;
			for (c = -1; c <= 1; c++)
				for (b = -1; b <= 1; b++)
					for (a = -1; a <= 1; a++) {
						size_t	 r;

						if (X + a < 0 || X + a >= W ||
						    Y + b < 0 || Y + b >= H ||
						    Z + c < 0 || Z + c >= D)
							continue;
						r = ((size_t)(Z + c) * H + Y +
						    b) * W + X + a;
						if (bone[r] != 1)
							continue;
						bone[r] = 2;
						stk[ns++] = r;
					}
		}
		if (reach < RIB_REACH_MM)
			continue;
		/* Its medial end: the voxels within RIB_HEAD_MM of its most
		 * medial one, not in front of the body. */
		dmin = 1e30;
		for (h = 0; h < ns; h++) {
			q = stk[h];
			X = (int)(q % W);
			Y = (int)(q / W % H);
			Z = (int)(q / ((size_t)W * H));
			k = Z * fz + fz / 2;
			dxm = fabs(X * fx + fx / 2 - cx[k]) * v->spacing[0];
			if ((Y * fx + fx / 2 - cy[k]) * v->spacing[1] >= -10.0 &&
			    dxm < dmin)
				dmin = dxm;
		}
		if (dmin > RIB_MEDIAL_MM)
			continue;
		/* A plate, not a rib: a rib is a tube some 10-15 mm across
		 * that leaves the spine at its head and runs out, back, then
		 * forwards and down round the trunk, so where it crosses the
		 * band of RIB_PLATE_BAND_MM just inside RIB_REACH_MM from the
		 * midline it is short along the spine, and ribs joined through
		 * the processes or the scapula cross it, and meet the spine,
		 * one by one with the intercostal spaces between; the iliac
		 * wing, a wide plate joined to the sacrum's ala at the
		 * sacroiliac joint, crosses the band and meets the spine over
		 * more than RIB_PLATE_MM without a gap. */
		memset(zocc, 0, (size_t)D);
		hz0 = INT32_MAX;
		hz1 = -1;
		for (h = 0; h < ns; h++) {
			q = stk[h];
			X = (int)(q % W);
			Y = (int)(q / W % H);
			Z = (int)(q / ((size_t)W * H));
			k = Z * fz + fz / 2;
			dxm = fabs(X * fx + fx / 2 - cx[k]) * v->spacing[0];
			if (dxm >= RIB_REACH_MM - RIB_PLATE_BAND_MM &&
			    dxm <= RIB_REACH_MM)
				zocc[Z] |= 1;
			if ((Y * fx + fx / 2 - cy[k]) * v->spacing[1] < -10.0 ||
			    dxm > dmin + RIB_HEAD_MM)
				continue;
			zocc[Z] |= 2;
			hz0 = Z < hz0 ? Z : hz0;
			hz1 = Z > hz1 ? Z : hz1;
		}
		for (a = 0, b = 0, c = 0, i = 0, j = 0; a < D; a++) {
			b = zocc[a] & 1 ? b + 1 : 0;
			c = b > c ? b : c;
			i = zocc[a] & 2 ? i + 1 : 0;
			j = i > j ? i : j;
		}
		if (c * fz * v->spacing[2] > RIB_PLATE_MM &&
		    j * fz * v->spacing[2] > RIB_PLATE_MM)
			continue;
		/* Where the medial end is no taller than RIB_HEAD_MAX_MM the
		 * component is one rib, and it is the level's whose body
		 * holds most of its head's voxels (T10-T12 bear their rib's
		 * head on their own body, Gray's Anatomy; the neck and shaft
		 * fall towards the body below).  Else it is ribs joined
		 * through the articular and transverse processes, and each
		 * body takes those whose medial voxels lie by it. */
		one = (hz1 - hz0 + 1) * fz * v->spacing[2] <= RIB_HEAD_MAX_MM;
		for (h = 0; h < ns; h++) {
			double	 best = 1e30, dz;

			q = stk[h];
			X = (int)(q % W);
			Y = (int)(q / W % H);
			Z = (int)(q / ((size_t)W * H));
			k = Z * fz + fz / 2;
			i = X * fx + fx / 2;
			j = Y * fx + fx / 2;
			if (fabs(i - cx[k]) * v->spacing[0] > (one ? dmin +
			    RIB_HEAD_MM : RIB_MEDIAL_MM) ||
			    (j - cy[k]) * v->spacing[1] < -10.0)
				continue;
			/* The body it lies by: the one whose slices hold
			 * it, or the nearest. */
			bi = -1;
			for (a = 0; a < nb; a++) {
				struct vertebra	*vb = &si->v[a];

				dz = k < vb->k0 ? vb->k0 - k : k > vb->k1 ?
				    k - vb->k1 : 0;
				if (dz < best) {
					best = dz;
					bi = a;
				}
			}
			if (bi < 0 || best * v->spacing[2] > 10.0)
				continue;
			vote[2 * bi + (i > cx[k] ? 1 : 0)]++;
		}
		/* One rib: the body that holds most of its head (a head at a
		 * disc between two bodies goes to one). */
		for (bi = -1, a = 0; one && a < 2 * nb; a++)
			if (vote[a] > 0 && (bi < 0 || vote[a] > vote[bi]))
				bi = a;
		for (a = 0; a < 2 * nb; a++) {
			if (vote[a] == 0 || (one && a != bi))
				continue;
			cnt[a] += vote[a];
			m = si->v[a / 2].rib_reach_mm;
			if (reach > m)
				si->v[a / 2].rib_reach_mm = reach;
		}
		memset(vote, 0, (size_t)nb * 2 * sizeof(*vote));
	}
	for (a = 0; a < nb; a++) {
		/* Patient right is -x in LPS: the lower x of an axial
		 * image with row along +x. */
		int	 rgt = v->row[0] >= 0.0 ? 0 : 1;

		if (cnt[2 * a + rgt] >= RIB_MIN_VOX)
			si->v[a].ribs |= 1;
		if (cnt[2 * a + 1 - rgt] >= RIB_MIN_VOX)
			si->v[a].ribs |= 2;
		if (!si->v[a].ribs)
			si->v[a].rib_reach_mm = 0.0;
	}
	free(bone);
	free(stk);
	free(cnt);
	free(vote);
	free(zocc);
	return 0;
}

/* Step 4. */
static void
labels(struct spine_info *si)
{
	int	 n = (int)si->n, first = -1, last, j, bridged = 0, lab, b;
	const struct vertebra *t;

	for (j = 0; j < n; j++)
		if (si->v[j].ribs) {
			first = j;
			break;
		}
	if (first < 0) {
		(void)snprintf(si->why, sizeof(si->why), "扫描范围内未见肋骨，"
		    "无法按最后一对肋骨确定T12，椎体未能定序");
		return;
	}
	last = first;
	for (j = first + 1; j < n; j++) {
		if (si->v[j].ribs) {
			last = j;
			continue;
		}
		if (j + 1 < n && si->v[j + 1].ribs) {
			bridged = 1;
			continue;
		}
		break;
	}
	if (last == n - 1) {
		(void)snprintf(si->why, sizeof(si->why), "扫描范围内最下方的"
		    "椎体仍有肋骨，未见其下无肋骨的椎体，无法确定T12，椎体未能"
		    "定序");
		return;
	}
	for (b = 0; b < n; b++) {
		lab = SPINE_T12 - (last - b);
		si->v[b].label = lab >= SPINE_T1 && lab <= SPINE_S1 ? lab : 0;
	}
	si->labelled = 1;
	t = &si->v[last];
	if (t->ribs != 3 || t->rib_reach_mm < RIB_SURE_MM || bridged)
		si->uncertain = 1;
	(void)snprintf(si->label_zh, sizeof(si->label_zh), "以最后一对肋骨"
	    "所附椎体为T12向上下计数%s", !si->uncertain ? "" :
	    t->ribs != 3 ? "；T12仅一侧见肋骨，节段标记存疑，请核对" :
	    t->rib_reach_mm < RIB_SURE_MM ? "；最下方肋骨短小（第12肋发育短小"
	    "与L1腰肋无法区分），节段标记存疑，请核对" :
	    "；其上有椎体未见肋骨（已视为漏检），节段标记存疑，请核对");
}

/* Step 7, on slice k. */
static void
references(const struct series_volume *v, const uint8_t *body, int k,
    double cx, double cy, double *sum, long *cnt)
{
	int	 i, j, s;
	double	 x;
	size_t	 o;

	for (j = 0; j < v->ny; j++)
		for (i = 0; i < v->nx; i++) {
			o = ((size_t)k * v->ny + j) * v->nx + i;
			x = v->vox[o];
			if (body != NULL && !body[o]) {
				if (x >= -1100.0 && x <= -900.0) {
					sum[0] += x;
					cnt[0]++;
				}
				continue;
			}
			if (body == NULL)
				continue;
			if (x >= -190.0 && x <= -30.0) {
				sum[1] += x;
				cnt[1]++;
			}
			/* The erector spinae: 10 mm discs 30 mm to either
			 * side of the midline, 45 mm behind the body's
			 * centre. */
			for (s = -1; s <= 1; s += 2) {
				double	 X = (i - cx) * v->spacing[0] - s *
				    30.0, Y = (j - cy) * v->spacing[1] - 45.0;

				if (X * X + Y * Y <= 100.0 && x >= -29.0 &&
				    x <= 150.0) {
					sum[2] += x;
					cnt[2]++;
				}
			}
		}
}

int
spine_vertebrae(const struct series_volume *v, const double *spine_xy,
    const uint8_t *body, struct spine_info *si, char *err, size_t errlen)
{
	double	*cx = NULL, *cy = NULL, *score = NULL, r[NRAY], tmp[256];
	double	*fr = NULL, *med = NULL, *rad = NULL;
	double	 sum[3] = { 0 };
	long	 cnt[3] = { 0 };
	int	*valid = NULL, *isb = NULL, nz = v->nz, k, j, a, w, prev;
	int	 gap_min, body_min, up, nb, b, m;
	struct vertebra	 tmpv[SPINE_BODIES_MAX];

	memset(si, 0, sizeof(*si));
	si->air_hu = si->fat_hu = si->muscle_hu = NAN;
	if ((cx = calloc((size_t)nz, sizeof(*cx))) == NULL ||
	    (cy = calloc((size_t)nz, sizeof(*cy))) == NULL ||
	    (score = calloc((size_t)nz, sizeof(*score))) == NULL ||
	    (valid = calloc((size_t)nz, sizeof(*valid))) == NULL ||
	    (isb = calloc((size_t)nz, sizeof(*isb))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* 1. The centre line: gaps filled, ends held, a running median. */
	prev = -1;
	for (k = 0; k < nz; k++) {
		if (!isfinite(spine_xy[2 * k]) || !isfinite(spine_xy[2 * k +
		    1]))
			continue;
		cx[k] = spine_xy[2 * k];
		cy[k] = spine_xy[2 * k + 1];
		valid[k] = 1;
		if (prev >= 0 && k - prev > 1 && (k - prev) * v->spacing[2] <=
		    60.0)
			for (j = prev + 1; j < k; j++) {
				double	 t = (double)(j - prev) / (k - prev);

				cx[j] = cx[prev] + t * (cx[k] - cx[prev]);
				cy[j] = cy[prev] + t * (cy[k] - cy[prev]);
				valid[j] = 2;
			}
		prev = k;
	}
	if (prev < 0) {
		(void)snprintf(si->why, sizeof(si->why), "未见椎体");
		goto done;
	}
	/* The ends: held for up to 30 mm. */
	for (k = 0; k < nz && !valid[k]; k++)
		;
	for (j = k - 1; j >= 0 && (k - j) * v->spacing[2] <= 30.0; j--) {
		cx[j] = cx[k];
		cy[j] = cy[k];
		valid[j] = 2;
	}
	for (k = nz - 1; k >= 0 && !valid[k]; k--)
		;
	for (j = k + 1; j < nz && (j - k) * v->spacing[2] <= 30.0; j++) {
		cx[j] = cx[k];
		cy[j] = cy[k];
		valid[j] = 2;
	}
	w = (int)lround(CENTRE_MED_MM / v->spacing[2] / 2.0);
	if (w > 60)
		w = 60;
	if (w >= 1) {
		double	*mx = malloc((size_t)nz * sizeof(*mx));
		double	*my = malloc((size_t)nz * sizeof(*my));

		if (mx == NULL || my == NULL) {
			free(mx);
			free(my);
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (k = 0; k < nz; k++) {
			mx[k] = cx[k];
			my[k] = cy[k];
			if (!valid[k])
				continue;
			m = 0;
			for (j = k - w; j <= k + w; j++)
				if (j >= 0 && j < nz && valid[j])
					tmp[m++] = cx[j];
			mx[k] = median_pos(tmp, m);
			m = 0;
			for (j = k - w; j <= k + w; j++)
				if (j >= 0 && j < nz && valid[j])
					tmp[m++] = cy[j];
			my[k] = median_pos(tmp, m);
		}
		memcpy(cx, mx, (size_t)nz * sizeof(*cx));
		memcpy(cy, my, (size_t)nz * sizeof(*cy));
		free(mx);
		free(my);
	}
	/* 2. The ring score of each slice: the share of the rays forwards
	 * and sideways whose edge lies at RING_SHARE_R or more of the
	 * body's radius hereabouts (the 75th percentile of the slices'
	 * median edges within RADIUS_MM), and not beyond RING_MAX_MM: an
	 * endplate's partial volume in a disc's slice gives edges close to
	 * the centre, the annulus none.  With pixels wider than the cortex
	 * (bone_hu() lowered), a ray's edge here is its last fall from bone
	 * to soft tissue within RING_MAX_MM: the cortex is no longer seen
	 * as a peak over the trabecular bone, bone under SPINE_LOW_HU
	 * passes for soft tissue, and a brighter spot inside it gives a
	 * first fall there, the cortex lying beyond.  With the cortex
	 * resolved, the first fall (an endplate's partial volume through
	 * the centre must still mark the disc: the first try, the last fall
	 * at every pixel size, joined a disc's slices to L2 in the phantom
	 * leaning 12 degrees, its centre 5 mm off). */
	if ((fr = calloc((size_t)nz * NRAY, sizeof(*fr))) == NULL ||
	    (rad = calloc((size_t)nz, sizeof(*rad))) == NULL ||
	    (med = calloc((size_t)nz, sizeof(*med))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (k = 0; k < nz; k++) {
		m = 0;
		if (valid[k]) {
			rays(v, k, cx[k], cy[k], fr + (size_t)k * NRAY,
			    bone_hu(v) < SPINE_BONE_HU);
			for (a = 0; a < NRAY; a++)
				if (fabs(ray_deg(a)) <= FRONT_DEG)
					tmp[m++] = fmax(0.0, fr[(size_t)k *
					    NRAY + a]);
		}
		med[k] = m > 0 ? median_pos(tmp, m) : NAN;
	}
	w = (int)lround(RADIUS_MM / v->spacing[2]);
	for (k = 0; k < nz; k++) {
		int	 front = 0, ring = 0, q;
		double	 R;

		if (!valid[k])
			continue;
		m = 0;
		for (j = k - w; j <= k + w && m < 255; j++)
			if (j >= 0 && j < nz && isfinite(med[j]))
				tmp[m++] = med[j];
		qsort(tmp, (size_t)m, sizeof(*tmp), cmp_d);
		q = (int)floor(0.75 * (m - 1));
		R = m > 0 ? tmp[q] : 0.0;
		rad[k] = R;
		for (a = 0; a < NRAY; a++) {
			double	 e = fr[(size_t)k * NRAY + a];

			if (fabs(ray_deg(a)) > FRONT_DEG)
				continue;
			front++;
			if (e >= RING_MIN_MM && e >= RING_SHARE_R * R &&
			    e <= RING_MAX_MM)
				ring++;
		}
		score[k] = (double)ring / front;
		isb[k] = score[k] >= RING_SHARE;
	}
	/* Runs: short gaps closed, short bodies dropped. */
	gap_min = (int)ceil(GAP_MIN_MM / v->spacing[2] - 1e-9);
	if (gap_min < 1)
		gap_min = 1;
	body_min = (int)ceil(BODY_MIN_MM / v->spacing[2] - 1e-9);
	for (k = 0; k < nz; k++) {
		if (isb[k] || !valid[k])
			continue;
		for (j = k; j < nz && !isb[j] && valid[j]; j++)
			;
		if (k > 0 && isb[k - 1] && j < nz && isb[j] && j - k <
		    gap_min)
			for (a = k; a < j; a++)
				isb[a] = 1;
		k = j;
	}
	/* Discs the threshold misses (thin thoracic discs at thick
	 * slices): local minima of the score, SCORE_DROP below the highest
	 * within DROP_MM, kept deepest first, none within NMS_SHARE of the
	 * body's radius of a deeper one; the disc is the slices round the
	 * minimum below half-way to that height. */
	{
		int	*cand = NULL, nc = 0, c2, wd = (int)lround(DROP_MM /
			    v->spacing[2]);

		if ((cand = malloc((size_t)nz * sizeof(*cand))) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (k = 0; k < nz; k++) {
			double	 hi = 0.0;
			int	 lm = valid[k] && score[k] < SCORE_DISC_MAX;

			for (j = k - 2; j <= k + 2 && lm; j++)
				if (j >= 0 && j < nz && valid[j] && score[j] <
				    score[k])
					lm = 0;
			for (j = k - wd; j <= k + wd && lm; j++)
				if (j >= 0 && j < nz && valid[j] && score[j] >
				    hi)
					hi = score[j];
			if (lm && hi - score[k] >= SCORE_DROP)
				cand[nc++] = k;
		}
		/* Deepest first (insertion sort: few). */
		for (a = 1; a < nc; a++) {
			c2 = cand[a];
			for (j = a; j > 0 && score[cand[j - 1]] > score[c2];
			    j--)
				cand[j] = cand[j - 1];
			cand[j] = c2;
		}
		for (a = 0; a < nc; a++) {
			double	 hi = 0.0, half;
			int	 kk = cand[a], near = 0;

			for (j = 0; j < a && !near; j++)
				if (cand[j] >= 0 && abs(cand[j] - kk) *
				    v->spacing[2] < NMS_SHARE * fmax(rad[kk],
				    10.0))
					near = 1;
			if (near) {
				cand[a] = -1;
				continue;
			}
			for (j = kk - wd; j <= kk + wd; j++)
				if (j >= 0 && j < nz && valid[j] && score[j] >
				    hi)
					hi = score[j];
			half = score[kk] + 0.5 * (hi - score[kk]);
			for (j = kk; j > 0 && valid[j - 1] && score[j - 1] <
			    half; j--)
				;
			for (c2 = kk; c2 + 1 < nz && valid[c2 + 1] &&
			    score[c2 + 1] < half; c2++)
				;
			/* A dip of one thin slice is noise or an endplate's
			 * partial volume, not a disc. */
			if (c2 - j + 1 < gap_min) {
				cand[a] = -1;
				continue;
			}
			for (; j <= c2; j++)
				isb[j] = 0;
		}
		free(cand);
	}
	up = (v->step[2] != 0.0 ? v->step[2] : v->normal[2]) >= 0.0;
	/* A run longer than LONG_SHARE of the body's radius holds two
	 * bodies whose disc the rays did not see (a thin disc in thick
	 * slices, bridging osteophytes): split at the lowest mean CT number
	 * of the centre (the nucleus) within the run's middle 60 %. */
	for (k = 0; k < nz; k++) {
		int	 kmin;
		double	 cmin;

		if (!isb[k])
			continue;
		for (j = k; j < nz && isb[j]; j++)
			;
		m = (k + j) / 2;
		if (j - k >= 2 * body_min && (j - k) * v->spacing[2] >
		    LONG_SHARE * fmax(rad[m], 10.0)) {
			kmin = -1;
			cmin = 1e30;
			for (a = k + (int)(0.2 * (j - k)); a < j - (int)(0.2 *
			    (j - k)); a++) {
				double	 cm = centre_mean(v, cx[a], cy[a], a);

				if (cm < cmin) {
					cmin = cm;
					kmin = a;
				}
			}
			if (kmin > k) {
				isb[kmin] = 0;
				k--;		/* both parts again */
				continue;
			}
		}
		k = j;
	}
	nb = 0;
	for (k = 0; k < nz; k++) {
		if (!isb[k])
			continue;
		for (j = k; j < nz && isb[j]; j++)
			;
		if (j - k >= body_min && nb < SPINE_BODIES_MAX) {
			struct vertebra	*vb = &tmpv[nb++];

			memset(vb, 0, sizeof(*vb));
			vb->k0 = k;
			vb->k1 = j - 1;
			vb->partial = k == 0 || j == nz || !valid[k > 0 ?
			    k - 1 : 0] || !valid[j < nz ? j : nz - 1];
		}
		k = j;
	}
	if (nb == 0) {
		(void)snprintf(si->why, sizeof(si->why), "未能分出椎体");
		goto done;
	}
	/* From the head down. */
	for (b = 0; b < nb; b++)
		si->v[b] = tmpv[up ? nb - 1 - b : b];
	si->n = (size_t)nb;
	si->found = nb;
	/* 4. Centres (the lateral and the front-back middles of the edges
	 * on slices off the middle, off the basivertebral vein). */
	for (b = 0; b < nb; b++) {
		struct vertebra	*vb = &si->v[b];
		double	 xs[8], ys[8], L = vb->k1 - vb->k0 + 1, xl, xr, ya,
			 yp;
		int	 nxs = 0, q;

		vb->c[2] = (vb->k0 + vb->k1) / 2.0;
		for (q = 0; q < 4; q++) {
			double	 f = q == 0 ? 0.25 : q == 1 ? 0.35 : q == 2 ?
			    0.65 : 0.75;

			k = (int)lround(vb->k0 + f * (L - 1));
			if (!valid[k])
				continue;
			rays(v, k, cx[k], cy[k], r, 0);
			xr = r[NRAY / 4];
			xl = r[3 * NRAY / 4];
			ya = r[0];
			yp = half_axis(r, 180.0, 10.0, 0.0);
			if (xr < 0.0 || xl < 0.0 || ya < 0.0 || !isfinite(yp))
				continue;
			xs[nxs] = cx[k] + (xr - xl) / 2.0 / v->spacing[0];
			ys[nxs] = cy[k] + (yp - ya) / 2.0 / v->spacing[1];
			nxs++;
		}
		if (nxs == 0) {
			k = (int)lround(vb->c[2]);
			vb->c[0] = cx[k];
			vb->c[1] = cy[k];
		} else {
			double	 t2[8];

			memcpy(t2, ys, sizeof(ys));
			vb->c[0] = median_pos(xs, nxs);
			vb->c[1] = median_pos(t2, nxs);
		}
		vb->key_slice = (int)lround(vb->c[2]);
	}
	/* The local direction: between the neighbours' centres. */
	for (b = 0; b < nb; b++) {
		struct vertebra	*vb = &si->v[b];
		const struct vertebra *p0 = &si->v[b > 0 ? b - 1 : b];
		const struct vertebra *p1 = &si->v[b + 1 < nb ? b + 1 : b];
		double	 d[3], l = 0.0;

		for (a = 0; a < 3; a++) {
			d[a] = (p1->c[a] - p0->c[a]) * v->spacing[a];
			l += d[a] * d[a];
		}
		if (p0 == p1 || !(l > 0.0) || fabs(d[2]) / sqrt(l) < 0.7) {
			d[0] = d[1] = 0.0;
			d[2] = 1.0;
			l = 1.0;
		}
		l = sqrt(l);
		if (d[2] < 0.0)
			l = -l;
		for (a = 0; a < 3; a++)
			vb->axis[a] = d[a] / l;
	}
	/* 3, 4: ribs and labels. */
	if (ribs_find(v, body, cx, cy, valid, si, err, errlen) == -1)
		goto fail;
	labels(si);
	/* 5, 6, 7: the measures of the whole bodies. */
	for (b = 0; b < nb; b++) {
		struct vertebra	*vb = &si->v[b];
		double	 hx, hy;

		vb->hu = vb->hu_sd = NAN;
		vb->ha = vb->hm = vb->hp = vb->depth = vb->area_mm2 = NAN;
		hx = vb->c[0];
		hy = vb->c[1];
		vb->x0 = (int)floor(hx - 25.0 / v->spacing[0]);
		vb->x1 = (int)ceil(hx + 25.0 / v->spacing[0]);
		vb->y0 = (int)floor(hy - 20.0 / v->spacing[1]);
		vb->y1 = (int)ceil(hy + 20.0 / v->spacing[1]);
		if (vb->x0 < 0) vb->x0 = 0;
		if (vb->y0 < 0) vb->y0 = 0;
		if (vb->x1 >= v->nx) vb->x1 = v->nx - 1;
		if (vb->y1 >= v->ny) vb->y1 = v->ny - 1;
		if (vb->partial)
			continue;
		roi_measure(v, vb);
		{
			double	 pt = 0.0;
			int	 np = 0;

			if (b > 0) {
				pt += fabs(si->v[b - 1].c[2] - vb->c[2]);
				np++;
			}
			if (b + 1 < nb) {
				pt += fabs(si->v[b + 1].c[2] - vb->c[2]);
				np++;
			}
			pt = np > 0 ? pt / np * v->spacing[2] :
			    PITCH_SHARE * (vb->k1 - vb->k0 + 1) *
			    v->spacing[2];
			morphometry(v, vb, pt);
		}
		references(v, body, vb->key_slice, vb->c[0], vb->c[1], sum,
		    cnt);
	}
	if (cnt[0] > 0)
		si->air_hu = sum[0] / cnt[0];
	if (cnt[1] > 0)
		si->fat_hu = sum[1] / cnt[1];
	if (cnt[2] > 0)
		si->muscle_hu = sum[2] / cnt[2];
done:
	free(rad);
	free(fr);
	free(med);
	free(cx);
	free(cy);
	free(score);
	free(valid);
	free(isb);
	return 0;
fail:
	free(rad);
	free(fr);
	free(med);
	free(cx);
	free(cy);
	free(score);
	free(valid);
	free(isb);
	return -1;
}
