/*
 * ribs.c - the ribs: traced, numbered, and searched for fractures
 * (ribs.h).
 *
 * Tracing (ribs_trace()):
 *  1. bone as spine.c sees it for the ribs: blocks of about 2 mm whose
 *     mean is over RIB_HU, in the body, off the column (COLUMN_MM either
 *     side of the spine's centre line) and off a strip STERNUM_MM either
 *     side of the midline in front of the spine, so that the sternum and
 *     calcified costal cartilage do not join the ribs of both sides;
 *  2. 3-D components (26-connected); a component that reaches RIB_REACH_MM
 *     or more to the side from blocks within RIB_MEDIAL_MM of the centre
 *     line, not in front of the body, is a rib (the costovertebral and
 *     costotransverse joints; as spine.c).  A component whose medial
 *     blocks fall into groups more than SPLIT_MM apart along the spine
 *     holds several ribs joined further out (cartilage, a callus): it is
 *     split by a breadth-first growth from each group at once, every
 *     block going to the head that reaches it first;
 *  3. the centre line: a rib winds round the cage, so its blocks are
 *     ordered by their angle round the cage's centre (the middle of the
 *     ribs' front-to-back extent, on the spine's line), binned every
 *     BIN_DEG degrees from the head (behind) to the front end, each bin
 *     taking its innermost blocks within TRACK_MM of the height the line
 *     had in the bins before (followed from the head, so that the
 *     scapula joined to the rib does not pull the line off it); the bins'
 *     centroids, smoothed, resampled every 1 mm, then each point moved
 *     to the centroid of the bone in the rib's cross-section square to
 *     the line at full resolution, and the line smoothed again (the
 *     centre line of Staal et al., 2007, and Lenga et al., 2018, is a
 *     ridge or a learnt one; this is the classical centroid of a tube);
 *  4. numbers, per side: the ribs ordered by the height of their heads.
 *     When the scan reaches TOP_MM above the highest rib's head with no
 *     rib there and shows the lungs' apices (apex_in_view()), that rib
 *     is the first and the others are counted from it; the count is checked from below: when the vertebrae are
 *     labelled (spine.c: T12 is the last rib-bearing body) and the lowest
 *     rib's head lies by T12, it must be the twelfth.  Without the top,
 *     the ribs are counted upwards from the twelfth at T12.  A count that
 *     disagrees, or right and left heads of one number more than
 *     PAIR_MM apart in height, is marked uncertain (Lenga et al., 2018,
 *     label by counting from ribs 1 and 12; the thoracolumbar junction's
 *     stump ribs are the classic failure, VerSe 2020's rule: the last
 *     thoracic vertebra carries a rib of 4 cm or more).  The vertebrae
 *     take spine.c's labels, or, where those are missing, T(n) for the
 *     body by the head of rib n.
 *
 * Fractures (ribs_fractures()), from the cross-sections square to the
 * centre line every 1 mm, NRAY rays out to RAY_MM (the cross-sections
 * along the rib that curved planar reformation resamples, Kanitsar et
 * al., 2002): per ray the brightest sample within HIT_MM (the cortex)
 * and the extent of the bone contiguous from the centre (over EDGE_HU);
 * per section the mean brightness, the mean and largest extent and the
 * centroid of the bone.  Each is compared with its own median over
 * BASE_MM either way along the rib (a rib's size and density change
 * slowly; a fracture is local):
 *  - a break of the cortical ring: the brightness over soft tissue falls
 *    under BREAK_RATIO of the rib's own (the gap of a fracture line),
 *    with the ring whole on both sides within the searched stretch
 *    (sides_whole(): not in the costochondral junction);
 *  - displaced (移位骨折): at a break, the centre line of the rib on one
 *    side, carried across, misses the other side's by STEP_MM or more
 *    (step-off) with the two fragments' cortices offset by CORTEX_MM
 *    (cortex_offset()), or the two sides' directions differ by
 *    ANGLE_DEG more than the smooth line's (angulation); otherwise
 *    non-displaced;
 *  - buckle (屈曲骨折, cortical distortion without a break): the largest
 *    extent over its median by BULGE_MM, and more than twice the mean
 *    extent's rise (one side), over no more than BUCKLE_LEN_MM;
 *  - old (陈旧性骨折): the mean extent over its median by THICK_MM over
 *    CALLUS_LEN_MM or more (callus round the rib, Weikert et al., 2020,
 *    detect acute and chronic fractures);
 *  - segmental (节段性骨折): two breaks or more on one rib (RibFrac).
 * Each finding is judged in the rib's own cross-section and along its own
 * line, not in the axial slices: a bulge must leave the opposite side of
 * the rib in place (a centre line off the middle moves both), and a
 * finding must show on consecutive sections over as many as the volume's
 * sampling along the rib spreads it (along_mm(): the pixel where the rib
 * lies in the slice, the slice spacing where it crosses them; a buckle
 * over two such samples, Nyquist; a break over one).  Where the rib
 * touches other bone (section_touches(): bone going on within CONTACT_MM
 * to RAY_MM, or further than the largest buckle beyond the rib's own
 * size: the scapula, the clavicle) the stretch is not searched and is
 * recorded (rib.skip) for the result to name.
 * The first NECK_MM from the head (the costovertebral joints) and the
 * last END_MM before the front end (the costochondral junction) are not
 * searched.  The segment is from the angle round the cage's centre:
 * behind 30 degrees from the side posterior, within 30 degrees axillary,
 * in front anterior (the thirds of the half-ring between the
 * costovertebral and the costochondral junctions, the axillary lines
 * between).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ribs.h"

#define PI		3.14159265358979323846
#define RIB_HU		250.0
#define BLOCK_MM	1.4
#define INNER_MM	10.0
#define TRACK_MM	6.0
#define COLUMN_MM	18.0
#define STERNUM_MM	30.0
#define FRONT_MM	25.0
#define RIB_MEDIAL_MM	32.0
#define RIB_REACH_MM	60.0
#define SPLIT_MM	8.0
#define FIRST_REACH_MM	35.0
#define FIRST_FRONT_MM	20.0
#define COMP_MIN	10
#define JOIN_MM		10.0
#define CAGE_MM		55.0
#define BIN_DEG		2.0
#define TOP_MM		12.0
#define APEX_SHARE	0.10
#define LUNG_HU		(-400.0)
#define LUNG_MIN_CM2	20.0
#define PAIR_MM		15.0
#define GAP_SHARE	1.7
#define NRAY		24
#define RAY_MM		10.0
#define RAY_STEP	0.5
#define HIT_MM		6.0
#define EDGE_HU		200.0
#define SOFT_HU		40.0
#define BASE_MM		20
#define BREAK_RATIO	0.72
#define STEP_MM		1.8
#define CORTEX_MM	1.0
#define OFF_FROM	6
#define OFF_NEAR	4
#define ANGLE_DEG	12.0
#define BULGE_MM	1.5
#define BUCKLE_LEN_MM	9
#define BULGE_MAX_MM	3.5
#define BREAK_LEN_MM	8
#define SIDE_RATIO	0.85
#define RIB_LEN_MAX_MM	340
#define RIB_REACH_MAX_MM 165.0
#define THICK_MM	1.5
#define CALLUS_LEN_MM	6
#define NECK_MM		25
#define END_MM		12
#define MERGE_MM	8.0
#define CONTACT_MM	3.0
#define CONTACT_PAD_MM	5
#define CONTACT_JOIN_MM	10

const char *const rib_frac_zh[RIBF__MAX] = {
	"移位骨折", "无移位骨折", "屈曲骨折", "节段性骨折", "陈旧性骨折",
};

const char *const rib_segment_zh[3] = { "后段", "腋段", "前段" };

static int
cmp_d(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *d, int n)
{
	if (n <= 0)
		return NAN;
	qsort(d, (size_t)n, sizeof(*d), cmp_d);
	return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2.0;
}

/* Patient z (mm) of slice k. */
static double
zpos(const struct series_volume *v, double k)
{
	return v->origin[2] + k * v->step[2];
}

/* Trilinear CT number at voxel coordinates; -1000 outside. */
static double
tri(const struct series_volume *v, double x, double y, double z)
{
	int	 i = (int)floor(x), j = (int)floor(y), k = (int)floor(z);
	double	 fx = x - i, fy = y - j, fz = z - k, r = 0.0;
	int	 a, b, c;

	if (i < 0 || j < 0 || k < 0 || i + 1 >= v->nx || j + 1 >= v->ny)
		return -1000.0;
	if (k + 1 >= v->nz) {
		if (k != v->nz - 1)
			return -1000.0;
		fz = 0.0;
	}
	for (c = 0; c < 2; c++) {
		if (c && fz == 0.0)
			break;
		for (b = 0; b < 2; b++)
			for (a = 0; a < 2; a++)
				r += (a ? fx : 1 - fx) * (b ? fy : 1 - fy) *
				    (c ? fz : 1 - fz) * v->vox[((size_t)(k +
				    c) * v->ny + j + b) * v->nx + i + a];
	}
	return r;
}

/* The patient's right is -x in LPS: the lower x of an image whose rows
 * run along +x. */
static int
side_of(const struct series_volume *v, double x, double cx)
{
	int	 right_low = v->row[0] >= 0.0;

	return (x < cx) == right_low ? RIB_RIGHT : RIB_LEFT;
}

int
ribs_segment(const struct series_volume *v, const struct ribs_info *ri,
    double x, double y)
{
	double	 phi = atan2((y - ri->cage[1]) * v->spacing[1],
	    fabs(x - ri->cage[0]) * v->spacing[0]) * 180.0 / PI;

	/* Rows run front to back in a supine chest (+y posterior). */
	if (v->col[1] < 0.0)
		phi = -phi;
	return phi > 30.0 ? 0 : phi >= -30.0 ? 1 : 2;
}

void
ribs_where_zh(const struct ribs_info *ri, const struct rib_fracture *f,
    char *buf, size_t sz)
{
	const struct rib	*r = &ri->r[f->rib];

	if (r->number > 0)
		(void)snprintf(buf, sz, "%s第%d肋%s", r->side == RIB_RIGHT ?
		    "右" : "左", r->number, rib_segment_zh[f->segment]);
	else
		(void)snprintf(buf, sz, "%s侧肋骨（未能编号）%s",
		    r->side == RIB_RIGHT ? "右" : "左",
		    rib_segment_zh[f->segment]);
}

/* ---- Tracing ---- */


struct grid {
	int	 fx, fz, W, H, D;
	uint8_t	*bone;		/* 1 bone, 2 seen */
	int	*lab;		/* rib candidate of a block; -1 */
};

/* The block's centre in voxels. */
static void
blk_vox(const struct grid *g, size_t q, double *x, double *y, double *z)
{
	int	 X = (int)(q % g->W), Y = (int)(q / g->W % g->H);
	int	 Z = (int)(q / ((size_t)g->W * g->H));

	*x = X * g->fx + (g->fx - 1) / 2.0;
	*y = Y * g->fx + (g->fx - 1) / 2.0;
	*z = Z * g->fz + (g->fz - 1) / 2.0;
}

/* A component of bone blocks. */
struct comp {
	size_t	*q;
	size_t	 n;
	double	 reach, miny, lo, hi;	/* angles round the cage, rad */
	int	 medial;
	int	 link;		/* a piece: the component it joins; -1 */
	size_t	 lblk, fblk;	/* the blocks it was joined by */
};

/* The component that piece h leads to: its head, or another piece
 * joined to one. */
static int
leads_to_head(const struct comp *comps, int t)
{
	int	 hops = 0;

	while (comps[t].medial < 3 && comps[t].link >= 0 && hops < 8) {
		t = comps[t].link;
		hops++;
	}
	return comps[t].medial >= 3;
}

/*
 * The component that the headless piece h joins: the one with most
 * blocks within JOIN_MM of the piece's blocks that leads to a head and
 * shares under a third of the piece's angles round the cage.  Returns its
 * index with the two blocks it was found by (lblk in it, fblk in the
 * piece), -1 for none, -2 out of memory.
 */
static int
piece_target(const struct grid *g, const struct comp *comps, size_t ncomp,
    const int *cl, int h, size_t *lblk, size_t *fblk)
{
	const struct comp	*fc = &comps[h];
	int			 R = (int)ceil(JOIN_MM / 2.0), best = -1, bestn = 0;
	int			*votes, X, Y, Z, a, b, c, o;
	size_t			 e, q, r;

	if ((votes = calloc(ncomp, sizeof(*votes))) == NULL)
		return -2;
	for (e = 0; e < fc->n; e += 2) {
		q = fc->q[e];
		X = (int)(q % g->W);
		Y = (int)(q / g->W % g->H);
		Z = (int)(q / ((size_t)g->W * g->H));
		for (c = -R; c <= R; c++)
			for (b = -R; b <= R; b++)
				for (a = -R; a <= R; a++) {
					if (X + a < 0 || X + a >= g->W ||
					    Y + b < 0 || Y + b >= g->H ||
					    Z + c < 0 || Z + c >= g->D ||
					    a * a + b * b + c * c > R * R)
						continue;
					r = ((size_t)(Z + c) * g->H + Y + b) *
					    g->W + X + a;
					o = cl[r];
					if (o < 0 || o == h ||
					    !leads_to_head(comps, o))
						continue;
					if (++votes[o] > bestn) {
						bestn = votes[o];
						best = o;
						*lblk = r;
						*fblk = q;
					}
				}
	}
	free(votes);
	if (best >= 0 && fmin(fc->hi, comps[best].hi) - fmax(fc->lo,
	    comps[best].lo) > 0.3 * (fc->hi - fc->lo))
		best = -1;
	return best;
}

/* A candidate rib: its blocks (indices into a shared list). */
struct cand {
	size_t	*q;
	size_t	 n;
	int	 side;
	double	 reach, head_k, head_z;
};

static int
grow(const struct grid *g, size_t *stk, size_t ns, int *lab)
{
	size_t	 h;
	int	 a, b, c;

	/* Breadth-first from the seeds in stk[0..ns), each carrying its
	 * label in lab; only blocks of the component (lab == -2) are
	 * taken. */
	for (h = 0; h < ns; h++) {
		size_t	 q = stk[h];
		int	 X = (int)(q % g->W), Y = (int)(q / g->W % g->H);
		int	 Z = (int)(q / ((size_t)g->W * g->H));

		for (c = -1; c <= 1; c++)
			for (b = -1; b <= 1; b++)
				for (a = -1; a <= 1; a++) {
					size_t	 r;

					if (X + a < 0 || X + a >= g->W ||
					    Y + b < 0 || Y + b >= g->H ||
					    Z + c < 0 || Z + c >= g->D)
						continue;
					r = ((size_t)(Z + c) * g->H + Y + b) *
					    g->W + X + a;
					if (lab[r] != -2)
						continue;
					lab[r] = lab[q];
					stk[ns++] = r;
				}
	}
	return (int)ns;
}

static void
line_smooth(double (*p)[3], int n, int w)
{
	double	(*t)[3];
	int	 i, j, a, m;

	if (n < 3 || (t = malloc((size_t)n * sizeof(*t))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		double	 s[3] = { 0, 0, 0 };

		m = 0;
		for (j = i - w; j <= i + w; j++) {
			int	 jj = j < 0 ? 0 : j >= n ? n - 1 : j;

			for (a = 0; a < 3; a++)
				s[a] += p[jj][a];
			m++;
		}
		for (a = 0; a < 3; a++)
			t[i][a] = s[a] / m;
	}
	/* The ends stay where they are. */
	for (i = 1; i < n - 1; i++)
		for (a = 0; a < 3; a++)
			p[i][a] = t[i][a];
	free(t);
}

/* Resample the polyline p (n points, mm) every 1 mm into out (at most
 * max points).  Returns the count. */
static int
resample(double (*p)[3], int n, double (*out)[3], int max)
{
	double	 acc = 0.0, need = 0.0;
	int	 i, m = 0, a;

	if (n < 2)
		return 0;
	for (a = 0; a < 3; a++)
		out[0][a] = p[0][a];
	m = 1;
	need = 1.0;
	for (i = 1; i < n && m < max; i++) {
		double	 d[3], L;

		for (a = 0; a < 3; a++)
			d[a] = p[i][a] - p[i - 1][a];
		L = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
		while (L > 0.0 && acc + L >= need && m < max) {
			double	 t = (need - acc) / L;

			for (a = 0; a < 3; a++)
				out[m][a] = p[i - 1][a] + t * d[a];
			m++;
			need += 1.0;
		}
		acc += L;
	}
	return m;
}

void
ribs_section_axes(const double t[3], double u[3], double w[3])
{
	double	 L;
	int	 k;

	/* u = t x z. */
	u[0] = t[1];
	u[1] = -t[0];
	u[2] = 0.0;
	L = sqrt(u[0] * u[0] + u[1] * u[1]);
	if (L < 0.2) {
		u[0] = 1.0;
		u[1] = u[2] = 0.0;
	} else {
		u[0] /= L;
		u[1] /= L;
	}
	w[0] = t[1] * u[2] - t[2] * u[1];
	w[1] = t[2] * u[0] - t[0] * u[2];
	w[2] = t[0] * u[1] - t[1] * u[0];
	L = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
	for (k = 0; k < 3 && L > 0.0; k++)
		w[k] /= L;
}

/* The cross-section frame at point i of the line p (mm): tangent t, and
 * u, w square to it (u in the axial plane where the rib allows). */
static void
frame(double (*p)[3], int n, int i, double t[3], double u[3], double w[3])
{
	int	 a = i - 3 < 0 ? 0 : i - 3, b = i + 3 >= n ? n - 1 : i + 3, k;
	double	 L;

	for (k = 0; k < 3; k++)
		t[k] = p[b][k] - p[a][k];
	L = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
	if (L <= 0.0) {
		t[0] = 1.0;
		t[1] = t[2] = 0.0;
	} else
		for (k = 0; k < 3; k++)
			t[k] /= L;
	ribs_section_axes(t, u, w);
}

/* mm (x, y along the pixel axes, z along the slices) to voxels. */
static double
hu_mm(const struct series_volume *v, const double q[3])
{
	return tri(v, q[0] / v->spacing[0], q[1] / v->spacing[1],
	    q[2] / v->spacing[2]);
}

struct section {
	double	 bright;	/* mean of the rays' brightest within HIT_MM */
	double	 ext;		/* mean extent of contiguous bone */
	double	 ext_max;
	double	 cov;		/* share of rays that hit bone */
	double	 ctr[3];	/* centroid of the bone, mm; NAN if none */
	double	 e[NRAY];	/* each ray's extent, NAN where no bone */
	int	 gap[NRAY];	/* the extent reached across a sample
				 * under EDGE_HU */
	double	 reach[NRAY];	/* the farthest bone along the ray with no
				 * gap over CONTACT_MM; NAN where none */
};

static void
section_at(const struct series_volume *v, double (*p)[3], int n, int i,
    struct section *s)
{
	enum { NR = (int)(RAY_MM / RAY_STEP) };
	double	 t[3], u[3], w[3], q[3], sw = 0.0, sc[3] = { 0, 0, 0 };
	double	 hv[NR + 1];
	int	 a, k, r, hits = 0;

	frame(p, n, i, t, u, w);
	s->bright = s->ext = s->ext_max = 0.0;
	for (a = 0; a < NRAY; a++) {
		double	 ang = 2.0 * PI * a / NRAY, ca = cos(ang),
			    sa = sin(ang), best = -1e9, last = -1.0, hl = 0.0,
			    edge = -1.0, far = -1.0;
		int	 dip = 0;

		for (r = 0; r <= NR; r++) {
			for (k = 0; k < 3; k++)
				q[k] = p[i][k] + r * RAY_STEP * (ca * u[k] +
				    sa * w[k]);
			hv[r] = hu_mm(v, q);
		}
		for (r = 0; r <= NR; r++) {
			double	 rr = r * RAY_STEP, hu = hv[r];

			for (k = 0; k < 3; k++)
				q[k] = p[i][k] + rr * (ca * u[k] + sa * w[k]);
			if (rr <= HIT_MM && hu > best)
				best = hu;
			if (hu >= EDGE_HU) {
				if (last < 0.0 && rr > HIT_MM)
					break;
				if (last >= 0.0 && rr - last > RAY_STEP * 1.5)
					dip = 1;
				last = rr;
				hl = hu;
				edge = rr;
				if (r > 0) {
					double	 wt = rr;

					sw += wt;
					for (k = 0; k < 3; k++)
						sc[k] += wt * q[k];
				}
			} else if (last >= 0.0) {
				/* The edge between the samples, linearly. */
				if (rr - last < RAY_STEP * 1.5)
					edge = last + RAY_STEP * (hl - EDGE_HU) /
					    (hl - hu);
				if (rr - last > 2.0)
					break;
			}
		}
		s->bright += best;
		s->e[a] = s->reach[a] = NAN;
		s->gap[a] = dip;
		if (last >= 0.0) {
			hits++;
			s->e[a] = edge;
			s->ext += edge;
			if (edge > s->ext_max)
				s->ext_max = edge;
		}
		if (!(best >= EDGE_HU))
			continue;
		/* Other bone within CONTACT_MM of this bone's edge. */
		for (r = 0; r <= NR; r++) {
			double	 rr = r * RAY_STEP;

			if (far < 0.0 && rr > HIT_MM)
				break;
			if (hv[r] >= EDGE_HU) {
				if (far >= 0.0 && rr - far > CONTACT_MM)
					break;
				far = rr;
			} else if (far >= 0.0 && rr - far > CONTACT_MM)
				break;
		}
		if (far >= 0.0)
			s->reach[a] = far;
	}
	s->bright /= NRAY;
	s->ext = hits > 0 ? s->ext / hits : 0.0;
	s->cov = (double)hits / NRAY;
	for (k = 0; k < 3; k++)
		s->ctr[k] = sw > 0.0 ? sc[k] / sw : NAN;
}

/* The centre line of candidate c into r. */
static int
centre_line(const struct series_volume *v, const struct grid *g,
    const struct cand *c, const double cage[2], struct rib *r)
{
	enum { NB = (int)(200 / BIN_DEG) };
	double	 sum[NB][3], (*p)[3] = NULL, (*q)[3] = NULL, x, y, z;
	double	 sx = v->spacing[0], sy = v->spacing[1], sz = v->spacing[2];
	int	 cnt[NB], b, m = 0, n, i, k, pass, *bb = NULL;
	double	 rmin[NB], *rr = NULL;
	size_t	 h, e, *ord = NULL, start[NB + 1];

	memset(sum, 0, sizeof(sum));
	memset(cnt, 0, sizeof(cnt));
	for (b = 0; b < NB; b++)
		rmin[b] = 1e30;
	/*
	 * Per bin, the innermost blocks round the cage: a rib lies on the
	 * cage, the scapula or an arm joined to it lies outside.  The bins
	 * are then followed from the head outwards, each taking only the
	 * blocks within TRACK_MM of the height the line had in the bins
	 * before (carried on by its slope): the scapula lying on ribs 2-7
	 * behind, joined to them and split among them by the growth from
	 * their heads, spreads 10 mm and more above and below each rib, and
	 * its blocks within INNER_MM of the rib's inner side pulled the
	 * line by up to 8 mm (issue 13).  A bin with no block near the
	 * height carried on takes its innermost blocks as before.  The
	 * line is followed as a ridge is tracked along a rib (Staal et al.,
	 * 2007, group line elements along the rib in the same way).
	 */
	if ((bb = malloc(c->n * sizeof(*bb))) == NULL ||
	    (rr = malloc(c->n * sizeof(*rr))) == NULL ||
	    (ord = malloc(c->n * sizeof(*ord))) == NULL) {
		free(bb);
		free(rr);
		return -1;
	}
	for (h = 0; h < c->n; h++) {
		double	 phi, dx, dy;

		blk_vox(g, c->q[h], &x, &y, &z);
		dx = fabs(x - cage[0]) * sx;
		dy = (y - cage[1]) * sy * (v->col[1] < 0 ? -1 : 1);
		phi = atan2(dy, dx) * 180.0 / PI;
		rr[h] = sqrt(dx * dx + dy * dy);
		/* From behind (+90) to the front (-90, -100 at most). */
		b = (int)floor((100.0 - phi) / BIN_DEG);
		bb[h] = b >= 0 && b < NB ? b : -1;
		if (bb[h] >= 0)
			rmin[b] = fmin(rmin[b], rr[h]);
	}
	/* The blocks in the order of their bins. */
	memset(start, 0, sizeof(start));
	for (h = 0; h < c->n; h++)
		if (bb[h] >= 0)
			start[bb[h] + 1]++;
	for (b = 0; b < NB; b++)
		start[b + 1] += start[b];
	{
		size_t	 fill[NB];

		memcpy(fill, start, sizeof(fill));
		for (h = 0; h < c->n; h++)
			if (bb[h] >= 0)
				ord[fill[bb[h]]++] = h;
	}
	{
		double	 zp = NAN, slope = 0.0, zl = NAN;
		int	 bl = -1;

		for (b = 0; b < NB; b++) {
			if (!(rmin[b] < 1e29))
				continue;
			for (pass = 0; pass < 2; pass++) {
				for (e = start[b]; e < start[b + 1]; e++) {
					h = ord[e];
					if (rr[h] > rmin[b] + INNER_MM)
						continue;
					blk_vox(g, c->q[h], &x, &y, &z);
					if (pass == 0 && isfinite(zp) &&
					    fabs(z * sz - zp) > TRACK_MM)
						continue;
					sum[b][0] += x * sx;
					sum[b][1] += y * sy;
					sum[b][2] += z * sz;
					cnt[b]++;
				}
				if (cnt[b] > 0)
					break;
			}
			if (cnt[b] == 0)
				continue;
			z = sum[b][2] / cnt[b];
			if (bl >= 0 && isfinite(zl))
				slope = (z - zl) / (b - bl);
			zl = z;
			bl = b;
			zp = z + slope;
		}
	}
	free(bb);
	free(rr);
	free(ord);
	if ((p = malloc(NB * sizeof(*p))) == NULL ||
	    (q = malloc(RIB_PTS_MAX * sizeof(*q))) == NULL) {
		free(p);
		return -1;
	}
	for (b = 0; b < NB; b++)
		if (cnt[b] > 0) {
			for (k = 0; k < 3; k++)
				p[m][k] = sum[b][k] / cnt[b];
			m++;
		}
	line_smooth(p, m, 1);
	n = resample(p, m, q, RIB_PTS_MAX);
	/* Each point to the centroid of the bone in its cross-section,
	 * then smoothed over 7 mm. */
	for (i = 0; i < n; i++) {
		struct section	 s;

		section_at(v, q, n, i, &s);
		if (isfinite(s.ctr[0]) && s.cov >= 0.5)
			for (k = 0; k < 3; k++)
				p[0][k] = s.ctr[k];
		else
			for (k = 0; k < 3; k++)
				p[0][k] = q[i][k];
		/* In place is fine: a point moves by a little and the
		 * frames of the next points use their own neighbours. */
		for (k = 0; k < 3; k++)
			q[i][k] = p[0][k];
	}
	line_smooth(q, n, 3);
	free(p);
	if ((p = malloc(RIB_PTS_MAX * sizeof(*p))) == NULL) {
		free(q);
		return -1;
	}
	n = resample(q, n, p, RIB_PTS_MAX);
	r->n = n;
	for (i = 0; i < n; i++) {
		r->c[i][0] = (float)(p[i][0] / sx);
		r->c[i][1] = (float)(p[i][1] / sy);
		r->c[i][2] = (float)(p[i][2] / sz);
	}
	free(p);
	free(q);
	return 0;
}

static int
cmp_head(const void *a, const void *b)
{
	const struct rib	*x = a, *y = b;

	if (x->side != y->side)
		return x->side - y->side;
	return x->head_z > y->head_z ? -1 : x->head_z < y->head_z;
}

/* The spine body whose slices hold slice k, or the nearest within
 * 10 mm; -1. */
static int
body_at(const struct series_volume *v, const struct spine_info *si,
    double k)
{
	double	 best = 1e30, d;
	size_t	 b;
	int	 bi = -1;

	if (si == NULL)
		return -1;
	for (b = 0; b < si->n; b++) {
		d = k < si->v[b].k0 ? si->v[b].k0 - k : k > si->v[b].k1 ?
		    k - si->v[b].k1 : 0.0;
		if (d < best) {
			best = d;
			bi = (int)b;
		}
	}
	return bi >= 0 && best * v->spacing[2] <= 10.0 ? bi : -1;
}

/*
 * The level of a rib's head from the labelled vertebrae: the head of rib
 * n lies by the disc between T(n-1) and T(n) or the upper part of T(n)
 * (ribs 2-9 articulate with both bodies, 1 and 10-12 with their own;
 * Gray's Anatomy), so it is the body whose span from a quarter of its
 * height below its centre up to the same mark of the body above holds
 * the head.  Returns the label, or 0.
 */
static int
head_level(const struct series_volume *v, const struct spine_info *si,
    double head_z)
{
	size_t	 b;
	double	 lo, hi;

	if (si == NULL || !si->labelled)
		return 0;
	for (b = 0; b < si->n; b++) {
		const struct vertebra	*t = &si->v[b];
		double	 zc = zpos(v, t->c[2]);
		double	 h = fabs(zpos(v, t->k1) - zpos(v, t->k0));

		lo = zc - 0.25 * h;
		if (b > 0) {
			const struct vertebra	*u = &si->v[b - 1];

			hi = zpos(v, u->c[2]) - 0.25 * fabs(zpos(v, u->k1) -
			    zpos(v, u->k0));
		} else
			hi = zc + 0.75 * h + 8.0;
		if (hi < lo) {
			double	 x = hi;

			hi = lo;
			lo = x;
		}
		if (head_z >= lo && head_z < hi)
			return t->label >= SPINE_T1 && t->label <= SPINE_T12 ?
			    t->label : 0;
	}
	return 0;
}

/*
 * The apices of the lungs in the scan: the lungs' area (air under
 * LUNG_HU inside the body) in the top 3 mm against the largest slice's.
 * The apex is a dome that rises above the first rib's front into the
 * root of the neck, to the level of the first rib's neck behind (Gray's
 * Anatomy, the cervical pleura); a scan that shows the top of the cage
 * shows the lungs tapering to their apices, a scan whose top cuts through
 * the cage cuts through the lungs at a good part of their width.  Sets
 * ri->apex_share and returns 1 when the apices are in view (the share
 * APEX_SHARE or less), 0 when not (or no lungs, under LUNG_MIN_CM2 on
 * every slice: the top of the cage, which they fill, is not in view),
 * -1 without a body mask.
 */
static int
apex_in_view(const struct series_volume *v, const uint8_t *body,
    struct ribs_info *ri)
{
	enum { ST = 4 };
	double	 px = v->spacing[0] * v->spacing[1] * ST * ST / 100.0;
	double	 top = 0.0, best = 0.0, a;
	int	 k, i, j, kt, dir, ntop, m = 0, W, H;
	int	*x0 = NULL, *x1 = NULL, *y0 = NULL, *y1 = NULL;

	ri->apex_share = NAN;
	W = (v->nx - ST / 2 + ST - 1) / ST;
	H = (v->ny - ST / 2 + ST - 1) / ST;
	if (body == NULL || v->nz < 1 || W < 1 || H < 1)
		return -1;
	if ((x0 = malloc((size_t)H * sizeof(*x0))) == NULL ||
	    (x1 = malloc((size_t)H * sizeof(*x1))) == NULL ||
	    (y0 = malloc((size_t)W * sizeof(*y0))) == NULL ||
	    (y1 = malloc((size_t)W * sizeof(*y1))) == NULL) {
		free(x0);
		free(x1);
		free(y0);
		return -1;
	}
	/* The top slice and the way down from it. */
	kt = zpos(v, 0) > zpos(v, v->nz - 1) ? 0 : v->nz - 1;
	dir = kt == 0 ? 1 : -1;
	ntop = (int)lround(3.0 / fabs(v->step[2]));
	if (ntop < 1)
		ntop = 1;
	for (k = 0; k < v->nz; k++) {
		size_t	 cnt = 0;
		const uint8_t	*bs = body + (size_t)k * v->ny * v->nx;
		const float	*vs = v->vox + (size_t)k * v->ny * v->nx;

		/*
		 * Inside the body: between its first and last voxel on the
		 * row and on the column (the body mask leaves air out at
		 * the volume's first and last slices, where its erosion
		 * reaches the edge; air between an arm and the trunk has no
		 * body in front of it and behind it).
		 */
		for (j = 0; j < H; j++) {
			x0[j] = W;
			x1[j] = -1;
		}
		for (i = 0; i < W; i++) {
			y0[i] = H;
			y1[i] = -1;
		}
		for (j = 0; j < H; j++)
			for (i = 0; i < W; i++)
				if (bs[(size_t)(ST / 2 + j * ST) * v->nx +
				    ST / 2 + i * ST]) {
					if (i < x0[j]) x0[j] = i;
					x1[j] = i;
					if (j < y0[i]) y0[i] = j;
					y1[i] = j;
				}
		for (j = 0; j < H; j++)
			for (i = x0[j] + 1; i < x1[j]; i++)
				cnt += j > y0[i] && j < y1[i] &&
				    vs[(size_t)(ST / 2 + j * ST) * v->nx +
				    ST / 2 + i * ST] < LUNG_HU;
		a = (double)cnt * px;
		best = fmax(best, a);
		if ((k - kt) * dir < ntop) {
			top += a;
			m++;
		}
	}
	free(x0);
	free(x1);
	free(y0);
	free(y1);
	if (best < LUNG_MIN_CM2)
		return 0;
	ri->apex_share = top / m / best;
	return ri->apex_share <= APEX_SHARE;
}

static void
number_ribs(const struct series_volume *v, const struct spine_info *si,
    int apex, struct ribs_info *ri)
{
	double	 ztop = fmax(zpos(v, 0), zpos(v, v->nz - 1));
	double	 zbot = fmin(zpos(v, 0), zpos(v, v->nz - 1));
	int	 side, i, j, n0, n1, bad = 0, any = 0, top = 0, bot = 0;
	int	 cross = 1;
	char	 note[160] = "";
	size_t	 a, b;

	for (side = RIB_RIGHT; side <= RIB_LEFT; side++) {
		int	 na[RIBS_MAX], nc[RIBS_MAX], m = 0, k;
		double	 gaps[RIBS_MAX], gmed;

		n0 = -1;
		n1 = -1;
		for (i = 0; i < (int)ri->n; i++)
			if (ri->r[i].side == side) {
				if (n0 < 0)
					n0 = i;
				n1 = i;
			}
		if (n0 < 0)
			continue;
		/* The top: the scan reaches TOP_MM above the highest rib,
		 * and the lungs' apices are in it (apex_in_view(): a scan
		 * starting in the lower cage reaches above its highest
		 * rib's head too, the ribs above it leaving the slices by
		 * their heads only). */
		{
			double	 hi = -1e30;

			for (i = 0; i < ri->r[n0].n; i++)
				hi = fmax(hi, zpos(v, ri->r[n0].c[i][2]));
			hi = fmax(hi, ri->r[n0].head_z);
			ri->top_seen[side] = ztop - hi >= TOP_MM && apex != 0;
		}
		/* The bottom: the lowest rib's head at T12 (spine.c's
		 * labels), the scan going on below it. */
		ri->bottom_seen[side] = head_level(v, si, ri->r[n1].head_z) ==
		    SPINE_T12 && ri->r[n1].head_z - zbot >= 30.0;
		/* The heads' spacing: a gap of GAP_SHARE times the median or
		 * more is a rib not seen. */
		for (i = n0; i < n1; i++)
			gaps[m++] = ri->r[i].head_z - ri->r[i + 1].head_z;
		gmed = m >= 3 ? median(gaps, m) : 1e30;
		/* A: counted down from the first rib; C: up from the
		 * twelfth at T12; both skip a number at each gap. */
		k = 1;
		for (i = n0; i <= n1; i++) {
			if (i > n0 && ri->r[i - 1].head_z - ri->r[i].head_z >=
			    GAP_SHARE * gmed)
				k++;
			na[i - n0] = ri->top_seen[side] && k <= 12 ? k : 0;
			k++;
		}
		k = 12;
		for (i = n1; i >= n0; i--) {
			if (i < n1 && ri->r[i].head_z - ri->r[i + 1].head_z >=
			    GAP_SHARE * gmed)
				k--;
			nc[i - n0] = ri->bottom_seen[side] && k >= 1 ? k : 0;
			k--;
		}
		for (i = n0; i <= n1; i++) {
			int	 x = na[i - n0], y = nc[i - n0];

			/* From T12 where both are there: the top of the
			 * cage is where the first rib hides behind the
			 * clavicle and the scapula. */
			ri->r[i].number = y > 0 ? y : x;
			if (x > 0 && y > 0 && x != y && !bad) {
				bad = 1;
				(void)snprintf(note, sizeof(note), "；%s侧自第1"
				    "肋向下计数与自T12向上计数不符（相差%d根），"
				    "编号存疑，请核对", side == RIB_RIGHT ? "右" :
				    "左", abs(x - y));
			}
			if (x == 0 || y == 0)
				cross = 0;
		}
		top |= ri->top_seen[side];
		bot |= ri->bottom_seen[side];
		/* Two ribs of one number on a side. */
		for (i = n0; i <= n1; i++)
			for (j = i + 1; j <= n1; j++)
				if (ri->r[i].number > 0 && ri->r[i].number ==
				    ri->r[j].number && !bad) {
					bad = 1;
					(void)snprintf(note, sizeof(note), "；%s侧"
					    "两根肋骨同为第%d肋，编号存疑，请核对",
					    side == RIB_RIGHT ? "右" : "左",
					    ri->r[i].number);
				}
		for (i = n0; i <= n1; i++)
			if (ri->r[i].number > 0)
				any = 1;
	}
	/* Pairs: right and left of one number at about one height. */
	for (a = 0; a < ri->n; a++)
		for (b = 0; b < ri->n; b++)
			if (ri->r[a].side == RIB_RIGHT && ri->r[b].side ==
			    RIB_LEFT && ri->r[a].number > 0 &&
			    ri->r[a].number == ri->r[b].number &&
			    fabs(ri->r[a].head_z - ri->r[b].head_z) >
			    PAIR_MM && !bad) {
				bad = 1;
				(void)snprintf(note, sizeof(note), "；左右同序号"
				    "肋骨高度不一致，编号存疑，请核对");
			}
	if (!any) {
		(void)snprintf(ri->why, sizeof(ri->why), "%s，亦未能确定T12，"
		    "肋骨未能编号", apex == 0 ? "扫描范围未包括肺尖及第1肋"
		    "上方（扫描上缘穿过胸廓）" : "扫描范围未包括第1肋上方");
		return;
	}
	ri->numbered = 1;
	ri->uncertain = bad || !cross;
	(void)snprintf(ri->how_zh, sizeof(ri->how_zh), "%s%s%s",
	    top && bot ? "自T12所附最后一对肋骨向上计数，并自第1肋向下计数核对" :
	    bot ? "自T12所附最后一对肋骨向上计数（扫描未包括第1肋上方，未能核对）" :
	    "自第1肋向下计数（未能与T12核对）", !bad && cross ? "，一致" : "",
	    note);
}

int
ribs_trace(const struct series_volume *v, const double *spine_xy,
    const uint8_t *body, const struct spine_info *si, struct ribs_info *ri,
    char *err, size_t errlen)
{
	struct grid	 g;
	struct cand	*cd = NULL;
	struct comp	*comps = NULL;
	size_t		 ncomp = 0, acomp = 0;
	int		*cl = NULL;
	double		 pc[2];
	size_t		 ncd = 0, acd = 0, n, p, ns, h, *stk = NULL, *qs = NULL;
	size_t		 nqs = 0;
	double		*cx = NULL, *cy = NULL, *tmp = NULL, ylo = 1e30, yhi = -1e30;
	int		 nz = v->nz, k, j, prev, X, Y, Z, a, b, c, i, ret = -1;
	double		 sx = v->spacing[0], sz = v->spacing[2];

	memset(ri, 0, sizeof(*ri));
	memset(&g, 0, sizeof(g));
	if ((cx = malloc((size_t)nz * sizeof(*cx))) == NULL ||
	    (cy = malloc((size_t)nz * sizeof(*cy))) == NULL ||
	    (tmp = malloc((size_t)nz * sizeof(*tmp))) == NULL)
		goto oom;
	/* The spine's line: gaps filled, ends held. */
	prev = -1;
	for (k = 0; k < nz; k++) {
		cx[k] = cy[k] = NAN;
		if (spine_xy == NULL || !isfinite(spine_xy[2 * k]) ||
		    !isfinite(spine_xy[2 * k + 1]))
			continue;
		cx[k] = spine_xy[2 * k];
		cy[k] = spine_xy[2 * k + 1];
		for (j = prev + 1; prev >= 0 && j < k; j++) {
			double	 t = (double)(j - prev) / (k - prev);

			cx[j] = cx[prev] + t * (cx[k] - cx[prev]);
			cy[j] = cy[prev] + t * (cy[k] - cy[prev]);
		}
		prev = k;
	}
	if (prev < 0) {
		(void)snprintf(ri->why, sizeof(ri->why), "未见脊柱，无法识别"
		    "肋骨");
		ret = 0;
		goto done;
	}
	for (k = 0; k < nz && !isfinite(cx[k]); k++)
		;
	for (j = 0; j < k; j++) {
		cx[j] = cx[k];
		cy[j] = cy[k];
	}
	for (k = prev + 1; k < nz; k++) {
		cx[k] = cx[prev];
		cy[k] = cy[prev];
	}
	/* 1. Bone blocks. */
	g.fx = (int)lround(BLOCK_MM / sx);
	g.fz = (int)lround(BLOCK_MM / sz);
	if (g.fx < 1) g.fx = 1;
	if (g.fz < 1) g.fz = 1;
	g.W = v->nx / g.fx;
	g.H = v->ny / g.fx;
	g.D = nz / g.fz;
	if (g.W < 3 || g.H < 3 || g.D < 1) {
		(void)snprintf(ri->why, sizeof(ri->why), "图像过小，无法识别"
		    "肋骨");
		ret = 0;
		goto done;
	}
	n = (size_t)g.W * g.H * g.D;
	if ((g.bone = calloc(n, 1)) == NULL ||
	    (g.lab = malloc(n * sizeof(*g.lab))) == NULL)
		goto oom;
	for (p = 0; p < n; p++)
		g.lab[p] = -1;
	for (Z = 0; Z < g.D; Z++) {
		int	 kc = Z * g.fz + g.fz / 2;

		for (Y = 0; Y < g.H; Y++)
			for (X = 0; X < g.W; X++) {
				double	 s = 0.0, dxm, dym;

				i = X * g.fx + g.fx / 2;
				j = Y * g.fx + g.fx / 2;
				if (body != NULL && !body[((size_t)kc * v->ny +
				    j) * v->nx + i])
					continue;
				dxm = fabs(i - cx[kc]) * sx;
				dym = (j - cy[kc]) * v->spacing[1] *
				    (v->col[1] < 0 ? -1 : 1);
				if (dxm < COLUMN_MM || (dxm < STERNUM_MM &&
				    dym < -FRONT_MM))
					continue;
				for (c = 0; c < g.fz; c++)
					for (b = 0; b < g.fx; b++)
						for (a = 0; a < g.fx; a++)
							s += v->vox[((size_t)(Z * g.fz + c) *
							    v->ny + Y * g.fx + b) * v->nx +
							    X * g.fx + a];
				if (s / (g.fx * g.fx * g.fz) > RIB_HU)
					g.bone[((size_t)Z * g.H + Y) * g.W + X] = 1;
			}
	}
	{
		size_t	 nb = 0;

		for (p = 0; p < n; p++)
			nb += g.bone[p];
		if ((stk = malloc((nb + 1) * sizeof(*stk))) == NULL)
			goto oom;
	}
	/* 2. Components of COMP_MIN blocks or more. */
	if ((cl = malloc(n * sizeof(*cl))) == NULL)
		goto oom;
	for (p = 0; p < n; p++)
		cl[p] = -1;
	{
		double	 m[2] = { 0, 0 };
		int	 nn = 0;

		for (k = 0; k < nz; k++) {
			tmp[nn++] = cx[k];
		}
		m[0] = median(tmp, nn);
		nn = 0;
		for (k = 0; k < nz; k++)
			tmp[nn++] = cy[k];
		m[1] = median(tmp, nn);
		pc[0] = m[0];
		pc[1] = m[1] - CAGE_MM / v->spacing[1] * (v->col[1] < 0 ? -1 :
		    1);
	}
	for (p = 0; p < n; p++) {
		struct comp	*cp;
		double		 x, y, z;

		if (g.bone[p] != 1)
			continue;
		ns = 0;
		stk[ns++] = p;
		g.bone[p] = 2;
		for (h = 0; h < ns; h++) {
			size_t	 q = stk[h];

			X = (int)(q % g.W);
			Y = (int)(q / g.W % g.H);
			Z = (int)(q / ((size_t)g.W * g.H));
			for (c = -1; c <= 1; c++)
				for (b = -1; b <= 1; b++)
					for (a = -1; a <= 1; a++) {
						size_t	 r;

						if (X + a < 0 || X + a >= g.W ||
						    Y + b < 0 || Y + b >= g.H ||
						    Z + c < 0 || Z + c >= g.D)
							continue;
						r = ((size_t)(Z + c) * g.H + Y +
						    b) * g.W + X + a;
						if (g.bone[r] != 1)
							continue;
						g.bone[r] = 2;
						stk[ns++] = r;
					}
		}
		if (ns < COMP_MIN)
			continue;
		if (ncomp == acomp) {
			struct comp	*t = realloc(comps, (acomp * 2 + 16) *
			    sizeof(*comps));

			if (t == NULL)
				goto oom;
			comps = t;
			acomp = acomp * 2 + 16;
		}
		cp = &comps[ncomp];
		memset(cp, 0, sizeof(*cp));
		cp->link = -1;
		cp->lo = 1e9;
		cp->hi = -1e9;
		cp->miny = 1e30;
		if ((cp->q = malloc(ns * sizeof(*cp->q))) == NULL)
			goto oom;
		memcpy(cp->q, stk, ns * sizeof(*stk));
		cp->n = ns;
		for (h = 0; h < ns; h++) {
			double	 dym, phi;

			cl[stk[h]] = (int)ncomp;
			blk_vox(&g, stk[h], &x, &y, &z);
			k = (int)lround(z);
			if (k >= nz)
				k = nz - 1;
			cp->reach = fmax(cp->reach, fabs(x - cx[k]) * sx);
			dym = (y - cy[k]) * v->spacing[1] * (v->col[1] < 0 ?
			    -1 : 1);
			cp->miny = fmin(cp->miny, dym);
			if (fabs(x - cx[k]) * sx <= RIB_MEDIAL_MM && dym >=
			    -10.0)
				cp->medial++;
			phi = atan2((y - pc[1]) * v->spacing[1] *
			    (v->col[1] < 0 ? -1 : 1), fabs(x - pc[0]) * sx);
			cp->lo = fmin(cp->lo, phi);
			cp->hi = fmax(cp->hi, phi);
		}
		ncomp++;
	}
	/* Pieces without a head (beyond a displaced fracture, or a
	 * fracture near the head) join the component next to them, within
	 * JOIN_MM, that goes on where they stop round the cage (they share
	 * little of its angles), so that a broken rib is one rib. */
	{
		int	 pass, changed = 1;

		for (pass = 0; pass < 3 && changed; pass++) {
			changed = 0;
			for (h = 0; h < ncomp; h++) {
				struct comp	*fc = &comps[h];
				int		 best;

				if (fc->medial >= 3 || fc->link >= 0 ||
				    fc->reach < 25.0)
					continue;
				if ((best = piece_target(&g, comps, ncomp, cl,
				    (int)h, &fc->lblk, &fc->fblk)) == -2)
					goto oom;
				if (best < 0)
					continue;
				fc->link = best;
				changed = 1;
			}
		}
	}
	/* The ribs: components with heads, with the pieces joined to them,
	 * split at their heads. */
	for (h = 0; h < ncomp; h++) {
		double	 reach, x, y, z, zs[4096];
		int	 nm = 0, ng, grp[4096], s, t, hops, forward;
		size_t	 e, f;

		if (comps[h].medial < 3)
			continue;
		/* The group: this component and the pieces leading to it. */
		ns = 0;
		reach = comps[h].reach;
		forward = 0;
		for (f = 0; f < ncomp; f++) {
			t = (int)f;
			hops = 0;
			while (t != (int)h && comps[t].medial < 3 &&
			    comps[t].link >= 0 && hops < 8) {
				t = comps[t].link;
				hops++;
			}
			if (t != (int)h)
				continue;
			for (e = 0; e < comps[f].n; e++)
				stk[ns++] = comps[f].q[e];
			reach = fmax(reach, comps[f].reach);
			if (comps[f].miny <= -FIRST_FRONT_MM)
				forward = 1;
		}
		/* A rib reaches far to the side; the first rib, short,
		 * curves forwards to the sternum, which a transverse process
		 * does not. */
		if (reach < RIB_REACH_MM && !(reach >= FIRST_REACH_MM &&
		    forward))
			continue;
		for (e = 0; e < ns; e++) {
			double	 dym;

			blk_vox(&g, stk[e], &x, &y, &z);
			k = (int)lround(z);
			if (k >= nz)
				k = nz - 1;
			dym = (y - cy[k]) * v->spacing[1] * (v->col[1] < 0 ?
			    -1 : 1);
			g.lab[stk[e]] = -2;
			if (fabs(x - cx[k]) * sx > RIB_MEDIAL_MM ||
			    dym < -10.0 || nm >= 4096)
				continue;
			zs[nm++] = z;
		}
		qsort(zs, (size_t)nm, sizeof(*zs), cmp_d);
		/* Groups of heads: gaps over SPLIT_MM along the spine. */
		ng = 1;
		grp[0] = 0;
		for (i = 1; i < nm; i++) {
			if ((zs[i] - zs[i - 1]) * sz > SPLIT_MM)
				ng++;
			grp[i] = ng - 1;
		}
		for (e = 0; e < ns; e++) {
			size_t	 q = stk[e];
			double	 dym;

			blk_vox(&g, q, &x, &y, &z);
			k = (int)lround(z);
			if (k >= nz)
				k = nz - 1;
			dym = (y - cy[k]) * v->spacing[1] * (v->col[1] < 0 ?
			    -1 : 1);
			if (fabs(x - cx[k]) * sx > RIB_MEDIAL_MM || dym < -10.0)
				continue;
			for (i = 0; i < nm && zs[i] != z; i++)
				;
			g.lab[q] = (int)acd + (i < nm ? grp[i] : 0);
		}
		free(qs);
		if ((qs = malloc(ns * sizeof(*qs))) == NULL)
			goto oom;
		nqs = 0;
		for (e = 0; e < ns; e++)
			if (g.lab[stk[e]] >= 0)
				qs[nqs++] = stk[e];
		nqs = (size_t)grow(&g, qs, nqs, g.lab);
		/* The joined pieces take the part of the block they were
		 * joined by, nearest the head first. */
		for (hops = 0; hops < 8; hops++)
			for (f = 0; f < ncomp; f++) {
				int	 lb;

				if (comps[f].link < 0 || g.lab[comps[f].fblk] !=
				    -2 || (lb = g.lab[comps[f].lblk]) < 0)
					continue;
				for (e = 0; e < comps[f].n; e++)
					if (g.lab[comps[f].q[e]] == -2) {
						g.lab[comps[f].q[e]] = lb;
						qs[nqs++] = comps[f].q[e];
					}
			}
		if (ncd + (size_t)ng > RIBS_MAX * 2) {
			ng = (int)(RIBS_MAX * 2 - ncd);
			if (ng <= 0)
				goto clear;
		}
		{
			struct cand	*tt = realloc(cd, (ncd + (size_t)ng) *
			    sizeof(*cd));

			if (tt == NULL)
				goto oom;
			cd = tt;
		}
		for (s = 0; s < ng; s++) {
			struct cand	*cc = &cd[ncd];
			double		 hk = 0.0, hx = 0.0, my = 1e30;
			int		 nh = 0;

			memset(cc, 0, sizeof(*cc));
			if ((cc->q = malloc(nqs * sizeof(*cc->q))) == NULL)
				goto oom;
			for (e = 0; e < nqs; e++) {
				double	 dym;

				if (g.lab[qs[e]] != (int)acd + s)
					continue;
				cc->q[cc->n++] = qs[e];
				blk_vox(&g, qs[e], &x, &y, &z);
				k = (int)lround(z);
				if (k >= nz)
					k = nz - 1;
				cc->reach = fmax(cc->reach, fabs(x - cx[k]) *
				    sx);
				dym = (y - cy[k]) * v->spacing[1] *
				    (v->col[1] < 0 ? -1 : 1);
				my = fmin(my, dym);
				if (fabs(x - cx[k]) * sx <= RIB_MEDIAL_MM &&
				    dym >= -10.0) {
					hk += z;
					hx += x - cx[k];
					nh++;
				}
			}
			if ((cc->reach < RIB_REACH_MM &&
			    !(cc->reach >= FIRST_REACH_MM &&
			    my <= -FIRST_FRONT_MM)) || nh == 0 || cc->n < 10) {
				free(cc->q);
				continue;
			}
			cc->head_k = hk / nh;
			cc->head_z = zpos(v, cc->head_k);
			cc->side = side_of(v, cx[(int)lround(cc->head_k)] +
			    hx / nh, cx[(int)lround(cc->head_k)]);
			for (e = 0; e < cc->n; e++) {
				blk_vox(&g, cc->q[e], &x, &y, &z);
				ylo = fmin(ylo, y);
				yhi = fmax(yhi, y);
			}
			ncd++;
		}
		acd += (size_t)ng;
	clear:
		for (e = 0; e < ns; e++)
			g.lab[stk[e]] = -1;
	}
	if (ncd == 0) {
		(void)snprintf(ri->why, sizeof(ri->why), "脊柱旁未见肋骨");
		ret = 0;
		goto done;
	}
	/* 3. The cage's centre and the centre lines. */
	{
		int	 m = 0;

		for (k = 0; k < nz; k++)
			tmp[m++] = cx[k];
		ri->cage[0] = median(tmp, m);
		ri->cage[1] = (ylo + yhi) / 2.0;
	}
	for (h = 0; h < ncd && ri->n < RIBS_MAX; h++) {
		struct rib	*r = &ri->r[ri->n];

		memset(r, 0, sizeof(*r));
		if (centre_line(v, &g, &cd[h], ri->cage, r) == -1)
			goto oom;
		if (r->n < 20)
			continue;
		r->side = cd[h].side;
		r->head_z = cd[h].head_z;
		r->reach_mm = cd[h].reach;
		r->blocks = (long)cd[h].n;
		r->body = body_at(v, si, cd[h].head_k);
		ri->n++;
	}
	qsort(ri->r, ri->n, sizeof(ri->r[0]), cmp_head);
	/* 4. Numbers and the vertebrae's labels. */
	number_ribs(v, si, apex_in_view(v, body, ri), ri);
	if (si != NULL) {
		ri->nv = si->n;
		for (h = 0; h < si->n; h++)
			ri->vlabel[h] = si->v[h].label;
		if (!si->labelled && ri->numbered)
			for (h = 0; h < ri->n; h++) {
				const struct rib *r = &ri->r[h];

				if (r->number <= 0 || r->body < 0)
					continue;
				for (p = 0; p < si->n; p++) {
					int	 lab = r->number + (int)p -
					    r->body;

					ri->vlabel[p] = lab >= SPINE_T1 &&
					    lab <= SPINE_S1 ? lab : 0;
				}
				break;
			}
	}
	ret = 0;
	goto done;
oom:
	(void)snprintf(err, errlen, "out of memory");
	ret = -1;
done:
	for (h = 0; h < ncd; h++)
		free(cd[h].q);
	free(cd);
	for (h = 0; h < ncomp; h++)
		free(comps[h].q);
	free(comps);
	free(cl);
	free(qs);
	free(stk);
	free(g.bone);
	free(g.lab);
	free(cx);
	free(cy);
	free(tmp);
	return ret;
}

/* ---- Fractures ---- */

struct fcand {
	int	 i;
	enum rib_frac_type type;
	double	 ring, step, angle, bulge, thick, offset;
	int	 prio;
};

/* The median of a[lo..hi] (finite values) over BASE_MM either way. */
static double
base_at(const double *a, int n, int i, int lo, int hi, double *tmp)
{
	int	 j, m = 0;

	for (j = i - BASE_MM; j <= i + BASE_MM; j++)
		if (j >= lo && j <= hi && j < n && j >= 0 && isfinite(a[j]))
			tmp[m++] = a[j];
	return median(tmp, m);
}

static double
angle3(const double a[3], const double b[3])
{
	double	 d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
	double	 la = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
	double	 lb = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);

	if (la <= 0.0 || lb <= 0.0)
		return 0.0;
	d /= la * lb;
	d = d > 1.0 ? 1.0 : d < -1.0 ? -1.0 : d;
	return acos(d) * 180.0 / PI;
}

/*
 * The ring as bright as the rib's own on both sides of i, from 4 to
 * 10 mm away, within the searched stretch lo..hi: a break is a lucent
 * line across the cortex with the rib's bone on both sides of it
 * (Talbot et al., 2017; RibFrac's classes, Jin et al., 2020), and the
 * costochondral junction, where the rib's bone ends in cartilage and its
 * ring dims towards the end, is not the rib whole beyond a break (a
 * break 13 mm before the front end, its far side in the junction, was
 * taken for one).
 */
static int
sides_whole(const double *br, const double *bb, int lo, int hi, int i)
{
	double	 l[8], r[8];
	int	 nl = 0, nr = 0, j;

	for (j = 4; j <= 10; j++) {
		if (i - j >= lo && isfinite(bb[i]))
			l[nl++] = (br[i - j] - SOFT_HU) / fmax(1.0, bb[i] -
			    SOFT_HU);
		if (i + j <= hi && isfinite(bb[i]))
			r[nr++] = (br[i + j] - SOFT_HU) / fmax(1.0, bb[i] -
			    SOFT_HU);
	}
	return nl >= 4 && nr >= 4 && median(l, nl) >= SIDE_RATIO &&
	    median(r, nr) >= SIDE_RATIO;
}

static int
add_cand(struct fcand *fc, int *nfc, int max, const struct fcand *c)
{
	int	 j;

	for (j = 0; j < *nfc; j++)
		if (abs(fc[j].i - c->i) <= MERGE_MM) {
			if (c->prio > fc[j].prio)
				fc[j] = *c;
			return 0;
		}
	if (*nfc >= max)
		return -1;
	fc[(*nfc)++] = *c;
	return 0;
}

/*
 * The section touches other bone: bone going on, with no gap over
 * CONTACT_MM, to the end of a ray (RAY_MM from the centre line, beyond
 * the half-height of the largest rib), or on two neighbouring rays
 * further than the rib's own extent (the section's median ray) by more
 * than the largest buckle (BULGE_MAX_MM): the scapula or the clavicle
 * lying on the rib, which the cross-section cannot tell from a bulge or
 * a step of the rib's own cortex.
 */
static int
section_touches(const struct section *s)
{
	double	 e[NRAY], med;
	int	 a, m = 0, f[NRAY];

	for (a = 0; a < NRAY; a++)
		if (isfinite(s->e[a]))
			e[m++] = s->e[a];
	if (m < NRAY / 2)
		return 0;
	med = median(e, m);
	for (a = 0; a < NRAY; a++) {
		if (isfinite(s->reach[a]) && s->reach[a] >= RAY_MM - RAY_STEP)
			return 1;
		f[a] = isfinite(s->reach[a]) && s->reach[a] > med +
		    BULGE_MAX_MM;
	}
	for (a = 0; a < NRAY; a++)
		if (f[a] && f[(a + 1) % NRAY])
			return 1;
	return 0;
}

/*
 * The sampling of the volume along the rib at point i of p (mm): the
 * voxel's size in the direction of the rib (in-plane pixels where it
 * lies in the slice, the slice spacing where it crosses them).  A
 * finding on the cortex is real only over at least two such samples
 * (Nyquist), so the cross-sections every 1 mm that must show it grow
 * with it.
 */
static double
along_mm(const struct series_volume *v, double (*p)[3], int n, int i)
{
	double	 t[3], u[3], w[3];

	frame(p, n, i, t, u, w);
	return sqrt(t[0] * t[0] * v->spacing[0] * v->spacing[0] + t[1] *
	    t[1] * v->spacing[1] * v->spacing[1] + t[2] * t[2] *
	    v->spacing[2] * v->spacing[2]);
}

/*
 * The outer edge of the cortex along the ray from o (mm) in the unit
 * direction d: the brightest sample within HIT_MM (the cortex, past
 * marrow that may lie under EDGE_HU in older patients' ribs), then out
 * to where the ray falls under EDGE_HU.  NAN when no sample within
 * HIT_MM reaches EDGE_HU.
 */
static double
cortex_edge(const struct series_volume *v, const double o[3],
    const double d[3])
{
	double	 q[3], r, h, best = -1e9, rb = 0.0;
	int	 k;

	for (r = 0.0; r <= HIT_MM; r += RAY_STEP) {
		for (k = 0; k < 3; k++)
			q[k] = o[k] + r * d[k];
		if ((h = hu_mm(v, q)) > best) {
			best = h;
			rb = r;
		}
	}
	if (best < EDGE_HU)
		return NAN;
	for (r = rb; r <= RAY_MM; r += RAY_STEP) {
		for (k = 0; k < 3; k++)
			q[k] = o[k] + r * d[k];
		if (hu_mm(v, q) < EDGE_HU)
			return r - RAY_STEP / 2.0;
	}
	return RAY_MM;
}

/* The least-squares parabola through p[a..b][k] (index centred on c):
 * its value and slope at c + x into y[k], dy[k]. */
static void
quad_at(double (*p)[3], int a, int b, int c, double x, double y[3],
    double dy[3])
{
	double	 s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, m[3][4], f;
	int	 j, k, r, q;

	for (j = a; j <= b; j++) {
		double	 t = j - c;

		s0 += 1;
		s1 += t;
		s2 += t * t;
		s3 += t * t * t;
		s4 += t * t * t * t;
	}
	for (k = 0; k < 3; k++) {
		double	 b0 = 0, b1 = 0, b2 = 0, co[3];

		for (j = a; j <= b; j++) {
			double	 t = j - c;

			b0 += p[j][k];
			b1 += t * p[j][k];
			b2 += t * t * p[j][k];
		}
		m[0][0] = s0; m[0][1] = s1; m[0][2] = s2; m[0][3] = b0;
		m[1][0] = s1; m[1][1] = s2; m[1][2] = s3; m[1][3] = b1;
		m[2][0] = s2; m[2][1] = s3; m[2][2] = s4; m[2][3] = b2;
		for (r = 0; r < 3; r++)
			for (q = r + 1; q < 3; q++) {
				f = m[q][r] / m[r][r];
				for (j = r; j < 4; j++)
					m[q][j] -= f * m[r][j];
			}
		for (r = 2; r >= 0; r--) {
			co[r] = m[r][3];
			for (j = r + 1; j < 3; j++)
				co[r] -= m[r][j] * co[j];
			co[r] /= m[r][r];
		}
		y[k] = co[0] + co[1] * x + co[2] * x * x;
		dy[k] = co[1] + 2.0 * co[2] * x;
	}
}

/*
 * The cortical offset at a break at point bi of the line p: a displaced
 * fracture is a cortical discontinuity with the two fragments' cortices
 * offset (Talbot et al., 2017; RibFrac's displaced class, Jin et al.,
 * 2020): the cortex on one side of the rib moved out and on the opposite
 * side moved in, by a cortical thickness (CORTEX_MM) or more.  From each
 * side in turn: the line OFF_FROM to OFF_FROM + 10 mm from the break,
 * fitted by a parabola (the rib's own bend, which a straight line carried
 * 10 mm round the rib's angle misses by 1-2 mm) and carried across the
 * break; the cortex's outer edge on NRAY rays square to it OFF_NEAR mm
 * short of the break and as far beyond it (the median of three sections
 * each); the largest of min(rise on three neighbouring rays, fall on the
 * three opposite).  The smaller of the two sides' offsets is returned
 * (mm: seen from both fragments, as a reading confirms it in two
 * planes), 0 where the line is too short.
 */
static double
cortex_offset(const struct series_volume *v, double (*p)[3], int n, int bi)
{
	double	 worst = 1e9;
	int	 side;

	if (bi - OFF_FROM - 10 < 0 || bi + OFF_FROM + 10 >= n)
		return 0.0;
	for (side = -1; side <= 1; side += 2) {
		int	 a = side < 0 ? bi - OFF_FROM - 10 : bi + OFF_FROM;
		int	 b = side < 0 ? bi - OFF_FROM : bi + OFF_FROM + 10;
		double	 ne[NRAY], fe[NRAY], dd[NRAY], col[3], best = 0.0;
		double	 o[3], t[3], u[3], w[3], dir[3], L;
		int	 k, ray, j, m;

		for (m = 0; m < 2; m++) {
			double	 (*ed)[NRAY] = NULL;
			double	 e3[3][NRAY];

			for (j = -1; j <= 1; j++) {
				/* Near: OFF_NEAR before the break on this
				 * side; far: as far beyond it. */
				double	 x = (m == 0 ? -side * OFF_NEAR :
				    side * OFF_NEAR) + j;

				quad_at(p, a, b, bi, -x, o, t);
				L = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] *
				    t[2]);
				if (!(L > 0.0))
					return 0.0;
				for (k = 0; k < 3; k++)
					t[k] /= L;
				ribs_section_axes(t, u, w);
				for (ray = 0; ray < NRAY; ray++) {
					double	 ang = 2.0 * PI * ray / NRAY, e;

					for (k = 0; k < 3; k++)
						dir[k] = cos(ang) * u[k] +
						    sin(ang) * w[k];
					e = cortex_edge(v, o, dir);
					e3[j + 1][ray] = isfinite(e) ? e : 0.0;
				}
			}
			ed = m == 0 ? &ne : &fe;
			for (ray = 0; ray < NRAY; ray++) {
				for (j = 0; j < 3; j++)
					col[j] = e3[j][ray];
				qsort(col, 3, sizeof(col[0]), cmp_d);
				(*ed)[ray] = col[1];
			}
		}
		for (ray = 0; ray < NRAY; ray++)
			dd[ray] = fe[ray] - ne[ray];
		for (ray = 0; ray < NRAY; ray++) {
			double	 up = 0.0, dn = 0.0;

			for (j = -1; j <= 1; j++) {
				up += dd[(ray + j + NRAY) % NRAY];
				dn -= dd[(ray + NRAY / 2 + j + NRAY) % NRAY];
			}
			best = fmax(best, fmin(up, dn) / 3.0);
		}
		worst = fmin(worst, best);
	}
	return worst;
}

static int
in_skip(const struct rib *r, int i)
{
	int	 k;

	for (k = 0; k < r->nskip; k++)
		if (i >= r->skip[k][0] && i <= r->skip[k][1])
			return 1;
	return 0;
}

int
ribs_skip_segments(const struct series_volume *v, const struct ribs_info *ri,
    int ir)
{
	const struct rib	*r = &ri->r[ir];
	int			 k, i, m = 0;

	for (k = 0; k < r->nskip; k++)
		for (i = r->skip[k][0]; i <= r->skip[k][1] && i < r->n; i++)
			m |= 1 << ribs_segment(v, ri, r->c[i][0], r->c[i][1]);
	return m;
}

static int
rib_fractures(const struct series_volume *v, struct ribs_info *ri, int ir,
    char *err, size_t errlen)
{
	struct rib	*r = &ri->r[ir];
	int		 n = r->n, i, j, k, lo, hi, nfc = 0, nbreak = 0, run;
	double		(*p)[3] = NULL, (*ct)[3] = NULL, *br = NULL,
			    *ex = NULL, *em = NULL, *tmp = NULL, *bb = NULL,
			    *er = NULL,
			    *be = NULL, *bm = NULL, *eo = NULL;
	int		*touch = NULL;
	char		*gp = NULL;
	struct fcand	 fc[32];
	struct section	 s;
	int		 ret = -1;

	lo = NECK_MM;
	hi = n - 1 - END_MM;
	/* A line too long or reaching too far has run into the scapula or
	 * an arm: not searched (said in the result). */
	r->nskip = 0;
	if (hi - lo < 10 || n > RIB_LEN_MAX_MM || r->reach_mm >
	    RIB_REACH_MAX_MM) {
		r->searched = 0;
		return 0;
	}
	r->searched = 1;
	if ((p = malloc((size_t)n * sizeof(*p))) == NULL ||
	    (ct = malloc((size_t)n * sizeof(*ct))) == NULL ||
	    (br = malloc((size_t)n * sizeof(*br))) == NULL ||
	    (ex = malloc((size_t)n * sizeof(*ex))) == NULL ||
	    (em = malloc((size_t)n * sizeof(*em))) == NULL ||
	    (bb = malloc((size_t)n * sizeof(*bb))) == NULL ||
	    (be = malloc((size_t)n * sizeof(*be))) == NULL ||
	    (bm = malloc((size_t)n * sizeof(*bm))) == NULL ||
	    (eo = malloc((size_t)n * sizeof(*eo))) == NULL ||
	    (tmp = malloc((2 * BASE_MM + 2) * sizeof(*tmp))) == NULL ||
	    (er = malloc((size_t)n * NRAY * sizeof(*er))) == NULL ||
	    (touch = calloc((size_t)n, sizeof(*touch))) == NULL ||
	    (gp = calloc((size_t)n * NRAY, sizeof(*gp))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		p[i][0] = r->c[i][0] * v->spacing[0];
		p[i][1] = r->c[i][1] * v->spacing[1];
		p[i][2] = r->c[i][2] * v->spacing[2];
	}
	for (i = 0; i < n; i++) {
		section_at(v, p, n, i, &s);
		br[i] = s.bright;
		touch[i] = s.cov >= 0.5 && section_touches(&s);
		for (k = 0; k < NRAY; k++) {
			er[(size_t)i * NRAY + k] = s.cov >= 0.5 && !touch[i] ?
			    s.e[k] : NAN;
			gp[(size_t)i * NRAY + k] = (char)s.gap[k];
		}
		for (k = 0; k < 3; k++)
			ct[i][k] = s.cov >= 0.5 ? s.ctr[k] : NAN;
	}
	/* Where the rib touches other bone over two sections or more, it
	 * is not searched (CONTACT_PAD_MM more either way, the sections
	 * whose baselines it would sway; stretches closer than
	 * CONTACT_JOIN_MM one): said in the result, not guessed at. */
	r->nskip = 0;
	for (i = lo; i <= hi; i++) {
		int	 a0, b0;

		if (!touch[i])
			continue;
		for (j = i; j <= hi && touch[j]; j++)
			;
		if (j - i >= 2) {
			a0 = i - CONTACT_PAD_MM < lo ? lo : i - CONTACT_PAD_MM;
			b0 = j - 1 + CONTACT_PAD_MM > hi ? hi : j - 1 +
			    CONTACT_PAD_MM;
			if (r->nskip > 0 && (a0 - r->skip[r->nskip - 1][1] <=
			    CONTACT_JOIN_MM || r->nskip == RIB_SKIP_MAX))
				r->skip[r->nskip - 1][1] = b0;
			else {
				r->skip[r->nskip][0] = a0;
				r->skip[r->nskip][1] = b0;
				r->nskip++;
			}
		}
		i = j;
	}
	/* Each ray's extent against its own median along the rib (the
	 * frame turns with the rib, so a ray looks the same way round it
	 * all along): the median of the differences is the rib thickened
	 * all round, their largest a bulge on one side. */
	for (i = lo; i <= hi; i++) {
		double	 d[NRAY], dd[NRAY], col[2 * BASE_MM + 2];
		int	 nd = 0, a, m;

		bb[i] = base_at(br, n, i, lo / 2, n - 1 - END_MM / 2, tmp);
		be[i] = bm[i] = 0.0;
		for (a = 0; a < NRAY; a++) {
			double	 e = er[(size_t)i * NRAY + a], base;

			d[a] = NAN;
			if (!isfinite(e))
				continue;
			m = 0;
			for (j = i - BASE_MM; j <= i + BASE_MM; j++)
				if (j >= lo / 2 && j <= n - 1 - END_MM / 2 &&
				    isfinite(er[(size_t)j * NRAY + a]))
					col[m++] = er[(size_t)j * NRAY + a];
			base = median(col, m);
			if (isfinite(base))
				dd[nd++] = d[a] = e - base;
		}
		if (nd < NRAY / 2) {
			ex[i] = em[i] = eo[i] = NAN;
			continue;
		}
		/* A bulge raises two neighbouring rays' edges at least (one
		 * ray is noise), with the opposite side of the rib in
		 * place: a centre line off the rib's middle raises one side
		 * as much as it lowers the other, a buckle (cortical
		 * distortion, RibFrac's class, Jin et al., 2020) bulges one
		 * side only.  And the bulge must be the rib's own cortex,
		 * contiguous out to its edge: a ray whose bone was reached
		 * across a dip under EDGE_HU found another bone beyond a
		 * thin gap (the scapula lying a mm or two off the rib), not
		 * a buckle (a focal bulge of the rib's cortex, Talbot et al.,
		 * 2017).  Nor is a bulge whose opposite rays were reached so
		 * (eo[], the bulge with the opposite side seen, must reach
		 * BULGE_MM at the candidate): the opposite side in place must
		 * be the rib's own cortex; with another bone's beyond a dip
		 * there, the line lies off the rib's middle unseen and the
		 * "bulge" is the rib's near side (issue 13: the shoulder
		 * phantom's 屈曲骨折 on rib 6 behind, the scapula a mm off the
		 * rib's back). */
		em[i] = eo[i] = -1e9;
		for (a = 0; a < NRAY; a++) {
			int	 b = (a + 1) % NRAY, oa = (a + NRAY / 2) % NRAY;
			int	 ob = (b + NRAY / 2) % NRAY;
			double	 up;

			if (!isfinite(d[a]) || !isfinite(d[b]) ||
			    gp[(size_t)i * NRAY + a] || gp[(size_t)i * NRAY + b])
				continue;
			up = fmin(d[a], d[b]);
			if ((isfinite(d[oa]) && d[oa] < -0.5 * up) ||
			    (isfinite(d[ob]) && d[ob] < -0.5 * up))
				continue;
			em[i] = fmax(em[i], up);
			if (!gp[(size_t)i * NRAY + oa] &&
			    !gp[(size_t)i * NRAY + ob])
				eo[i] = fmax(eo[i], up);
		}
		ex[i] = median(dd, nd);
	}
	/* Breaks: runs of a dim ring, at their dimmest. */
	for (i = lo; i <= hi; i++) {
		struct fcand	 c;
		double		 rat, best = 1e9, d[3], e[3], f[3], g[3];
		int		 bi = -1, a, b;

		rat = (br[i] - SOFT_HU) / fmax(1.0, bb[i] - SOFT_HU);
		if (!(rat < BREAK_RATIO))
			continue;
		for (j = i; j <= hi; j++) {
			rat = (br[j] - SOFT_HU) / fmax(1.0, bb[j] - SOFT_HU);
			if (!(rat < BREAK_RATIO))
				break;
			if (rat < best) {
				best = rat;
				bi = j;
			}
		}
		run = j - i;
		i = j;
		/* A fracture line is short, with the rib whole on both
		 * sides; a long dim run is the line leaving the bone.  It
		 * shows on as many sections as the sampling along the rib
		 * spreads it over (along_mm(), at least one). */
		if (run > BREAK_LEN_MM || !sides_whole(br, bb, lo, hi, bi) ||
		    run < (int)floor(along_mm(v, p, n, bi) + 0.5) ||
		    in_skip(r, bi))
			continue;
		memset(&c, 0, sizeof(c));
		c.i = bi;
		c.ring = best;
		/* Step-off: each side's line carried to the break. */
		a = bi - 5;
		b = bi + 5;
		if (a - 5 >= 0 && b + 5 < n && isfinite(ct[a][0]) &&
		    isfinite(ct[a - 5][0]) && isfinite(ct[b][0]) &&
		    isfinite(ct[b + 5][0])) {
			double	 q = 0.0;

			for (k = 0; k < 3; k++) {
				double	 pb = 2.0 * ct[a][k] - ct[a - 5][k];
				double	 pa = 2.0 * ct[b][k] - ct[b + 5][k];

				q += (pb - pa) * (pb - pa);
			}
			c.step = sqrt(q);
		}
		/* Angulation beyond the smooth line's bend. */
		if (bi - 15 >= 0 && bi + 15 < n && isfinite(ct[bi - 5][0]) &&
		    isfinite(ct[bi - 15][0]) && isfinite(ct[bi + 5][0]) &&
		    isfinite(ct[bi + 15][0])) {
			for (k = 0; k < 3; k++) {
				d[k] = ct[bi - 5][k] - ct[bi - 15][k];
				e[k] = ct[bi + 15][k] - ct[bi + 5][k];
				f[k] = p[bi - 5][k] - p[bi - 15][k];
				g[k] = p[bi + 15][k] - p[bi + 5][k];
			}
			c.angle = angle3(d, e) - angle3(f, g);
		}
		/* A step-off of the bone's centroids is a displacement only
		 * with the cortices offset too (cortex_offset()): the
		 * centroid of a rib whose marrow is under EDGE_HU, or whose
		 * ring dims on one side, wanders by 2 mm and more with the
		 * cortex in place on both sides (issue 13: LIDC-IDRI-0002's
		 * 右第6肋后段, step 2.3 mm, its cortices continuous on the
		 * straightened rib in both planes). */
		if (c.step >= STEP_MM)
			c.offset = cortex_offset(v, p, n, bi);
		c.type = (c.step >= STEP_MM && c.offset >= CORTEX_MM) ||
		    c.angle >= ANGLE_DEG ? RIBF_DISPLACED : RIBF_NONDISPLACED;
		c.prio = 2;
		nbreak++;
		if (add_cand(fc, &nfc, 32, &c) == -1)
			break;
	}
	/* Callus: the rib thickened all round over a stretch. */
	for (i = lo; i <= hi; i++) {
		struct fcand	 c;
		double		 best = 0.0;
		int		 bi = -1;

		if (!(ex[i] - be[i] >= THICK_MM))
			continue;
		for (j = i; j <= hi && ex[j] - be[j] >= THICK_MM; j++)
			if (ex[j] - be[j] > best) {
				best = ex[j] - be[j];
				bi = j;
			}
		run = j - i;
		i = j;
		if (run < CALLUS_LEN_MM || in_skip(r, bi))
			continue;
		memset(&c, 0, sizeof(c));
		c.i = bi;
		c.type = RIBF_OLD;
		c.thick = best;
		c.ring = (br[bi] - SOFT_HU) / fmax(1.0, bb[bi] - SOFT_HU);
		c.prio = 3;
		(void)add_cand(fc, &nfc, 32, &c);
	}
	/* Buckles: a short one-sided bulge. */
	for (i = lo; i <= hi; i++) {
		struct fcand	 c;
		double		 best = 0.0, rise = 0.0;
		int		 bi = -1, full = 0;

		if (!(em[i] - bm[i] >= BULGE_MM * 0.6))
			continue;
		for (j = i; j <= hi && em[j] - bm[j] >= BULGE_MM * 0.6; j++) {
			full += em[j] - bm[j] >= BULGE_MM;
			if (em[j] - bm[j] > best) {
				best = em[j] - bm[j];
				bi = j;
				rise = ex[j] - be[j];
			}
		}
		run = j - i;
		i = j;
		/* The bulge in full on consecutive sections over two
		 * samples of the volume along the rib at least. */
		if (best < BULGE_MM || best > BULGE_MAX_MM || run < 2 ||
		    !(eo[bi] - bm[bi] >= BULGE_MM) ||
		    run > BUCKLE_LEN_MM ||
		    full < (int)fmax(2.0, floor(2.0 * along_mm(v, p, n, bi) + 0.5)) ||
		    !(best >= 2.0 * fmax(rise, 0.25)) || in_skip(r, bi))
			continue;
		memset(&c, 0, sizeof(c));
		c.i = bi;
		c.type = RIBF_BUCKLE;
		c.bulge = best;
		c.ring = (br[bi] - SOFT_HU) / fmax(1.0, bb[bi] - SOFT_HU);
		c.prio = 1;
		(void)add_cand(fc, &nfc, 32, &c);
	}
	nbreak = 0;
	for (j = 0; j < nfc; j++)
		if (fc[j].type == RIBF_DISPLACED || fc[j].type ==
		    RIBF_NONDISPLACED)
			nbreak++;
	for (j = 0; j < nfc; j++) {
		struct rib_fracture	*f;
		double			 hx, hy;

		if (ri->nf >= RIB_FRACTURES_MAX) {
			ri->nf_dropped++;
			continue;
		}
		f = &ri->f[ri->nf++];
		memset(f, 0, sizeof(*f));
		f->rib = ir;
		f->type = nbreak >= 2 && (fc[j].type == RIBF_DISPLACED ||
		    fc[j].type == RIBF_NONDISPLACED) ? RIBF_SEGMENTAL :
		    fc[j].type;
		f->s_mm = fc[j].i;
		for (k = 0; k < 3; k++)
			f->p[k] = r->c[fc[j].i][k];
		f->ring = fc[j].ring;
		f->step_mm = fc[j].step;
		f->angle_deg = fc[j].angle;
		f->bulge_mm = fc[j].bulge;
		f->thick_mm = fc[j].thick;
		f->segment = ribs_segment(v, ri, f->p[0], f->p[1]);
		f->key_slice = (int)lround(f->p[2]);
		if (f->key_slice < 0)
			f->key_slice = 0;
		if (f->key_slice >= v->nz)
			f->key_slice = v->nz - 1;
		hx = 8.0 / v->spacing[0];
		hy = 8.0 / v->spacing[1];
		f->x0 = (int)fmax(0.0, floor(f->p[0] - hx));
		f->y0 = (int)fmax(0.0, floor(f->p[1] - hy));
		f->x1 = (int)fmin(v->nx - 1.0, ceil(f->p[0] + hx));
		f->y1 = (int)fmin(v->ny - 1.0, ceil(f->p[1] + hy));
	}
	ret = 0;
done:
	free(p);
	free(ct);
	free(br);
	free(ex);
	free(em);
	free(bb);
	free(be);
	free(bm);
	free(eo);
	free(tmp);
	free(er);
	free(touch);
	free(gp);
	return ret;
}

int
ribs_fractures(const struct series_volume *v, struct ribs_info *ri,
    char *err, size_t errlen)
{
	size_t	 i;

	ri->nf = 0;
	ri->nf_dropped = 0;
	for (i = 0; i < ri->n; i++)
		if (rib_fractures(v, ri, (int)i, err, errlen) == -1)
			return -1;
	return 0;
}
