/*
 * bodycomp.c - body composition on one axial slice, see bodycomp.h.
 *
 * The tissues by CT number, as the Alberta protocol sets them (Mitsiopoulos
 * et al., 1998, J Appl Physiol 85:115; Mourtzakis et al., 2008; the
 * windows of TomoVision's Slice-O-Matic used by Prado et al., 2008):
 * skeletal muscle -29..+150 HU, subcutaneous and intermuscular fat
 * -190..-30 HU, visceral fat -150..-50 HU.  Which fat or muscle pixel
 * belongs to which compartment is geometry:
 *  1. the body: pixels over -500 HU, the largest 4-connected part, its
 *     holes filled (bowel gas);
 *  2. from the body's centroid, 1440 rays; on each, from the skin inwards
 *     (values below the fat window met before any fat, the table's foam
 *     and the air between it and the back that the outline's holes took
 *     in, are outside: the skin lies inside them),
 *     past the skin and the subcutaneous fat, the first run of 3 mm or more
 *     over -30 HU is the outer fascia of the muscle wall (r_out); from
 *     there inwards the wall goes on through muscle and through fat runs
 *     shorter than 5 mm (intermuscular fat), and ends at a longer run of
 *     fat (the visceral fat) or at bone, where its inner edge is found
 *     (r_in), or at gas or 25 mm deep, where it is not (a bowel loop or
 *     an organ lies against the wall without fat between: muscle by CT
 *     number, not by anatomy).  The inner edge then follows a thickness
 *     prior (thickness_prior()): a ray that did not find it, or found it
 *     much deeper than the rays round it (an organ taken in before a fat
 *     plane behind it), takes the median thickness of the rays round it
 *     that found it.  Both edges are smoothed with a running median over
 *     1.5 degrees either side (a thin gap in the wall, the linea alba, is
 *     bridged);
 *  3. subcutaneous fat: fat pixels of the body outside the outer fascia
 *     (Shen et al., 2004, who separate SAT and VAT by the abdominal wall's
 *     muscle);
 *  4. the paraspinal zone: behind the front of the vertebral body and
 *     within 45 % of the body's half-width from the midline.  There the
 *     muscle inside the fascia that is joined (8-connected, through muscle)
 *     to pixels within 3 mm of the vertebra's own bone (vertebra_bone():
 *     the body's cortex met by rays from its centre, the arch behind it;
 *     not a rib, nor a kidney or vessel bright with contrast) is the
 *     paraspinal group: erector
 *     spinae, quadratus lumborum and psoas, together with the wall's
 *     pixels inside the zone.  The psoas is put with the paraspinal group,
 *     the muscles lying against the spine, as Mitsiopoulos et al. (1998)
 *     and Shen et al. (2004) list it apart from the abdominal-wall group
 *     (rectus abdominis, the obliques, transversus abdominis).  Bone and
 *     what it encloses (over 150 HU, holes filled: the marrow, a canal
 *     inside a closed arch) are left out, and so is the canal behind the
 *     body (22 mm wide, 20 mm deep); the body's front is where that bone
 *     ends forwards of its centre, its back as far behind;
 *  5. intermuscular fat: fat pixels within a muscle group's outline: in
 *     the wall, the parts of the fat (8-connected) that lie wholly between
 *     r_out and r_in (a part that reaches the subcutaneous or the visceral
 *     fat is theirs: the pixels shared at the wall's edges); in the
 *     paraspinal group, the fat in the holes of its mask;
 *  6. visceral fat: pixels in the visceral window inside the fascia that
 *     are none of the above.
 * The skeletal muscle area (SMA) is the two muscle groups together,
 * intermuscular fat not included (Mourtzakis et al., 2008).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bodycomp.h"

#define BC_PI		3.14159265358979323846
#define NRAYS		1440
#define SMOOTH_RAYS	6		/* 1.5 degrees either side */
#define BODY_HU		(-500.0)
#define WALL_RUN_MM	3.0		/* the outer fascia: a run this long */
#define SKIN_MM		4.0		/* skin searched for fat this deep */
#define VAT_RUN_MM	5.0		/* the wall ends at fat this deep */
#define WALL_MAX_MM	25.0
#define THICK_WIN_DEG	22.5		/* the thickness prior's window */
#define THICK_MIN_FOUND	40		/* rays found in it, at least */
#define THICK_TOL_MM	4.0		/* thicker than the prior by this */
#define THICK_TOL_SHARE	0.35		/* or this share of it: an organ */
#define BONE_HU		150.0
#define SEED_MM		3.0
#define ZONE_SHARE	0.45		/* of the body's half-width */
#define VB_RAYS		32		/* from the body's centre */
#define VB_REACH_MM	30.0
#define VB_HITS		3
#define ARCH_HALF_MM	20.0		/* the arch's parts: centre within */
#define ARCH_DEPTH_MM	70.0		/* this of the midline, behind */
#define CANAL_HALF_MM	11.0
#define CANAL_DEPTH_MM	20.0

const char *const bc_tissue_zh[BC__MAX] = {
	[BC_NONE] = "",
	[BC_SAT] = "皮下脂肪",
	[BC_VAT] = "内脏脂肪",
	[BC_WALL_IMAT] = "腹壁肌间脂肪",
	[BC_PARA_IMAT] = "椎旁肌间脂肪",
	[BC_WALL_MUSCLE] = "腹壁肌肉",
	[BC_PARA_MUSCLE] = "椎旁肌肉",
};

const unsigned char bc_colour[BC__MAX][3] = {
	[BC_NONE] = { 0, 0, 0 },
	[BC_SAT] = { 255, 215, 0 },		/* yellow */
	[BC_VAT] = { 255, 120, 0 },		/* orange */
	[BC_WALL_IMAT] = { 0, 200, 80 },	/* green */
	[BC_PARA_IMAT] = { 0, 200, 230 },	/* cyan */
	[BC_WALL_MUSCLE] = { 230, 30, 30 },	/* red */
	[BC_PARA_MUSCLE] = { 160, 60, 255 },	/* violet */
};

static int
is_fat(double h)
{
	return h >= BC_FAT_LO && h <= BC_FAT_HI;
}

static int
is_muscle(double h)
{
	return h >= BC_MUSCLE_LO && h <= BC_MUSCLE_HI;
}

/*
 * Fill: mark in out (0/1) the pixels reachable from the seeds (out's
 * pixels set on entry) through pixels where pass[] is set, 4- or
 * 8-connected.  stack holds nx * ny ints.
 */
static void
grow(const uint8_t *pass, uint8_t *out, int nx, int ny, int eight,
    int *stack)
{
	static const int d8[8][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 },
	    { 0, -1 }, { 1, 1 }, { -1, 1 }, { 1, -1 }, { -1, -1 } };
	size_t	 top = 0, n = (size_t)nx * ny, p;
	int	 i, j, d, a, b;

	for (p = 0; p < n; p++)
		if (out[p])
			stack[top++] = (int)p;
	while (top > 0) {
		p = (size_t)stack[--top];
		i = (int)(p % (size_t)nx);
		j = (int)(p / (size_t)nx);
		for (d = 0; d < (eight ? 8 : 4); d++) {
			a = i + d8[d][0];
			b = j + d8[d][1];
			if (a < 0 || b < 0 || a >= nx || b >= ny)
				continue;
			p = (size_t)b * nx + a;
			if (pass[p] && !out[p]) {
				out[p] = 1;
				stack[top++] = (int)p;
			}
		}
	}
}

/* Holes of mask: the pixels not in it that the border cannot reach
 * through pixels not in it; into holes (0/1).  tmp: nx * ny bytes. */
static void
holes(const uint8_t *mask, uint8_t *hole, uint8_t *tmp, int nx, int ny,
    int *stack)
{
	size_t	 p, n = (size_t)nx * ny;
	int	 i, j;

	for (p = 0; p < n; p++) {
		tmp[p] = !mask[p];
		hole[p] = 0;
	}
	for (j = 0; j < ny; j++)
		for (i = 0; i < nx; i++)
			if ((i == 0 || j == 0 || i == nx - 1 || j == ny - 1) &&
			    tmp[(size_t)j * nx + i])
				hole[(size_t)j * nx + i] = 1;
	grow(tmp, hole, nx, ny, 0, stack);	/* hole = reached outside */
	for (p = 0; p < n; p++)
		hole[p] = tmp[p] && !hole[p];
}

/* Label the 8-connected parts of mask 1.. into lab (0 outside it);
 * returns how many. */
static int
label_parts(const uint8_t *mask, int *lab, int nx, int ny, int *stack)
{
	size_t	 p, q, n = (size_t)nx * ny, top;
	int	 nl = 0, i, j, a, b;

	for (p = 0; p < n; p++)
		lab[p] = 0;
	for (p = 0; p < n; p++) {
		if (!mask[p] || lab[p])
			continue;
		lab[p] = ++nl;
		stack[0] = (int)p;
		top = 1;
		while (top > 0) {
			q = (size_t)stack[--top];
			i = (int)(q % (size_t)nx);
			j = (int)(q / (size_t)nx);
			for (b = j - 1; b <= j + 1; b++)
				for (a = i - 1; a <= i + 1; a++) {
					size_t	 r;

					if (a < 0 || b < 0 || a >= nx ||
					    b >= ny)
						continue;
					r = (size_t)b * nx + a;
					if (mask[r] && !lab[r]) {
						lab[r] = nl;
						stack[top++] = (int)r;
					}
				}
		}
	}
	return nl;
}

/*
 * The vertebra's own bone on the slice, into mark (0/1): the parts
 * (8-connected) of bone over BONE_HU that VB_RAYS rays from the vertebral
 * body's centre meet first within VB_REACH_MM (VB_HITS of them or more:
 * the body's cortex, or the body itself where its marrow is over
 * BONE_HU), and the parts whose centre lies on the midline behind the
 * body (the arch and the spinous process where they are not joined to it
 * on this slice).  Bone of other things, the ribs' ends, a kidney's or
 * the aorta's contrast, does not seed the paraspinal muscle.  lab and
 * stack: nx * ny ints.  Returns 0 or -1 (memory).
 */
static int
vertebra_bone(const float *img, int nx, int ny, double sx, double sy,
    const struct vertebra *vb, double back, int *lab, int *stack,
    uint8_t *mark)
{
	uint8_t	*bone, *take;
	int	*hits;
	double	*mx, *my, *mn;
	size_t	 n = (size_t)nx * ny, p;
	int	 nl, t, l, ii, jj;

	if ((bone = malloc(n)) == NULL)
		return -1;
	for (p = 0; p < n; p++)
		bone[p] = img[p] > BONE_HU;
	nl = label_parts(bone, lab, nx, ny, stack);
	free(bone);
	hits = calloc((size_t)nl + 1, sizeof(int));
	take = calloc((size_t)nl + 1, 1);
	mx = calloc((size_t)nl + 1, sizeof(double));
	my = calloc((size_t)nl + 1, sizeof(double));
	mn = calloc((size_t)nl + 1, sizeof(double));
	if (hits == NULL || take == NULL || mx == NULL || my == NULL ||
	    mn == NULL) {
		free(hits);
		free(take);
		free(mx);
		free(my);
		free(mn);
		return -1;
	}
	for (t = 0; t < VB_RAYS; t++) {
		double	 a = 2.0 * BC_PI * t / VB_RAYS, rr, st = 0.25 *
		    fmin(sx, sy);

		for (rr = 0.0; rr <= VB_REACH_MM; rr += st) {
			ii = (int)lround(vb->c[0] + rr * cos(a) / sx);
			jj = (int)lround(vb->c[1] + rr * sin(a) / sy);
			if (ii < 0 || jj < 0 || ii >= nx || jj >= ny)
				break;
			if ((l = lab[(size_t)jj * nx + ii]) > 0) {
				hits[l]++;
				break;
			}
		}
	}
	for (p = 0; p < n; p++)
		if ((l = lab[p]) > 0) {
			mx[l] += (double)(p % (size_t)nx);
			my[l] += (double)(p / (size_t)nx);
			mn[l] += 1.0;
		}
	for (l = 1; l <= nl; l++) {
		double	 X = (mx[l] / mn[l] - vb->c[0]) * sx;
		double	 Y = (my[l] / mn[l] - back) * sy;

		take[l] = hits[l] >= VB_HITS || (fabs(X) < ARCH_HALF_MM &&
		    Y > 0.0 && Y < ARCH_DEPTH_MM);
	}
	for (p = 0; p < n; p++)
		mark[p] = lab[p] > 0 && take[lab[p]];
	free(hits);
	free(take);
	free(mx);
	free(my);
	free(mn);
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Running circular median of r[NRAYS] over SMOOTH_RAYS either side;
 * NAN entries are skipped. */
static void
smooth(const double *r, double *out)
{
	double	 w[2 * SMOOTH_RAYS + 1];
	int	 i, k, m;

	for (i = 0; i < NRAYS; i++) {
		for (m = 0, k = -SMOOTH_RAYS; k <= SMOOTH_RAYS; k++) {
			double	 x = r[(i + k + NRAYS) % NRAYS];

			if (isfinite(x))
				w[m++] = x;
		}
		if (m == 0) {
			out[i] = NAN;
			continue;
		}
		qsort(w, (size_t)m, sizeof(w[0]), cmp_d);
		out[i] = m % 2 ? w[m / 2] : (w[m / 2 - 1] + w[m / 2]) / 2.0;
	}
}

/*
 * The wall's thickness prior.  Where a ray found the wall's inner edge
 * (fat or bone behind it), its thickness th = rout - rin is measured;
 * where it did not (an organ or a bowel loop against the wall, no fat
 * between), or where the measured thickness exceeds the thickness found
 * round it by more than THICK_TOL_MM or THICK_TOL_SHARE (the organ taken
 * in before a fat plane behind it), the ray takes the median thickness
 * of the rays that found their edge within THICK_WIN_DEG either side,
 * the window doubled until it holds THICK_MIN_FOUND of them.  The
 * abdominal wall's muscles are a band of slowly changing thickness
 * (Chung et al., 2009, who fit the wall as a closed band, and the
 * thickness constraint of Popuri et al., 2016, IEEE TMI 35:512): the
 * inner edge where it is seen carries over to where an organ hides it.
 */
static void
thickness_prior(const double *rout, double *rin, const uint8_t *fnd)
{
	double	 th[NRAYS], w[NRAYS], ref;
	int	 t, u, m, win;

	for (t = 0; t < NRAYS; t++)
		th[t] = isfinite(rout[t]) && isfinite(rin[t]) ? rout[t] -
		    rin[t] : NAN;
	for (t = 0; t < NRAYS; t++) {
		if (!isfinite(th[t]))
			continue;
		for (win = (int)lround(THICK_WIN_DEG / 360.0 * NRAYS);;
		    win *= 2) {
			if (win > NRAYS / 2)
				win = NRAYS / 2;
			for (m = 0, u = -win; u < win; u++) {
				int	 q = (t + u + NRAYS) % NRAYS;

				if (fnd[q] && isfinite(th[q]))
					w[m++] = th[q];
			}
			if (m >= THICK_MIN_FOUND || win >= NRAYS / 2)
				break;
		}
		if (m == 0)
			continue;
		qsort(w, (size_t)m, sizeof(w[0]), cmp_d);
		ref = m % 2 ? w[m / 2] : (w[m / 2 - 1] + w[m / 2]) / 2.0;
		if (!fnd[t] || th[t] > ref + fmax(THICK_TOL_MM,
		    THICK_TOL_SHARE * ref))
			rin[t] = rout[t] - fmin(th[t], ref);
	}
}

void
bodycomp_free(struct bodycomp *bc)
{
	free(bc->map);
	memset(bc, 0, sizeof(*bc));
}

double
bodycomp_muscle_cm2(const struct bodycomp *bc)
{
	return bc->area_cm2[BC_WALL_MUSCLE] + bc->area_cm2[BC_PARA_MUSCLE];
}

int
bodycomp_measure(const struct series_volume *v, int k,
    const struct vertebra *vb, struct bodycomp *out, char *err,
    size_t errlen)
{
	const float	*img;
	uint8_t		*reach = NULL, *bonefill = NULL, *body = NULL, *tmp = NULL, *para = NULL, *hole = NULL,
			*seed = NULL, *map = NULL, *band = NULL, *in = NULL,
			*zone = NULL, *vbone = NULL;
	int		*stack = NULL, *lab = NULL, nl, nx = v->nx, ny = v->ny, i, j, t, l, r,
			 row, lb;
	double		*rout = NULL, *rin = NULL, *s1 = NULL, *s2 = NULL;
	uint8_t		 fnd[NRAYS];
	double		 sx = fabs(v->spacing[0]), sy = fabs(v->spacing[1]);
	double		 h, cx = 0.0, cy = 0.0, sum[BC__MAX], zw, front, back;
	size_t		 n = (size_t)nx * ny, p, best = 0, cnt = 0;
	int		 ret = -1;

	memset(out, 0, sizeof(*out));
	if (k < 0 || k >= v->nz || nx < 8 || ny < 8 || !(sx > 0.0) ||
	    !(sy > 0.0)) {
		(void)snprintf(err, errlen, "该层面无法测量身体成分");
		return 1;
	}
	img = v->vox + (size_t)k * n;
	h = 0.25 * fmin(sx, sy);
	if ((body = calloc(n, 1)) == NULL || (tmp = calloc(n, 1)) == NULL ||
	    (para = calloc(n, 1)) == NULL || (hole = calloc(n, 1)) == NULL ||
	    (seed = calloc(n, 1)) == NULL || (map = calloc(n, 1)) == NULL ||
	    (band = calloc(n, 1)) == NULL || (in = calloc(n, 1)) == NULL ||
	    (zone = calloc(n, 1)) == NULL ||
	    (bonefill = calloc(n, 1)) == NULL ||
	    (vbone = calloc(n, 1)) == NULL ||
	    (stack = malloc(n * sizeof(int))) == NULL ||
	    (lab = malloc(n * sizeof(int))) == NULL ||
	    (rout = malloc(NRAYS * sizeof(double))) == NULL ||
	    (rin = malloc(NRAYS * sizeof(double))) == NULL ||
	    (s1 = malloc(NRAYS * sizeof(double))) == NULL ||
	    (s2 = malloc(NRAYS * sizeof(double))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}

	/* 1. The body: the largest 4-connected part over BODY_HU, holes
	 * filled. */
	for (p = 0; p < n; p++)
		tmp[p] = img[p] > BODY_HU;
	for (p = 0; p < n; p++) {
		size_t	 q, c = 0;

		if (!tmp[p] || seed[p])
			continue;
		memset(hole, 0, n);
		hole[p] = 1;
		grow(tmp, hole, nx, ny, 0, stack);
		for (q = 0; q < n; q++)
			if (hole[q]) {
				seed[q] = 1;
				c++;
			}
		if (c > cnt) {
			cnt = c;
			best = p;
		}
	}
	if (cnt == 0) {
		(void)snprintf(err, errlen, "该层面未见躯体，无法测量身体成分");
		ret = 1;
		goto out;
	}
	memset(body, 0, n);
	body[best] = 1;
	grow(tmp, body, nx, ny, 0, stack);
	holes(body, hole, tmp, nx, ny, stack);
	for (p = 0; p < n; p++) {
		body[p] |= hole[p];
		if (body[p]) {
			cx += (double)(p % (size_t)nx);
			cy += (double)(p / (size_t)nx);
		}
	}
	for (cnt = 0, p = 0; p < n; p++)
		cnt += body[p];
	cx /= (double)cnt;
	cy /= (double)cnt;

	/* 2. The wall along the rays from the centroid (mm from it). */
	for (t = 0; t < NRAYS; t++) {
		double	 a = 2.0 * BC_PI * t / NRAYS, dx = cos(a), dy = sin(a);
		double	 rs = -1.0, rr, run = 0.0, runst = 0.0;
		int	 fat_seen = 0, ii, jj;

		rout[t] = rin[t] = NAN;
		for (rr = 0.0;; rr += h) {
			ii = (int)lround(cx + rr * dx / sx);
			jj = (int)lround(cy + rr * dy / sy);
			if (ii < 0 || jj < 0 || ii >= nx || jj >= ny)
				break;
			if (body[(size_t)jj * nx + ii])
				rs = rr;
		}
		if (rs <= 0.0)
			continue;
		/* Inwards: past the skin, through the fat, to the first
		 * WALL_RUN_MM of tissue over the fat window. */
		for (rr = rs; rr > 0.0; rr -= h) {
			double	 v0;

			ii = (int)lround(cx + rr * dx / sx);
			jj = (int)lround(cy + rr * dy / sy);
			v0 = img[(size_t)jj * nx + ii];
			/* Below the fat window before any fat: air or the
			 * table's foam that the body's outline took in (a gap
			 * between the back and the table, filled as a hole);
			 * the skin lies further in. */
			if (v0 < BC_FAT_LO && !fat_seen) {
				rs = rr;
				run = 0.0;
				continue;
			}
			if (v0 <= BC_FAT_HI) {
				fat_seen = 1;
				run = 0.0;
				continue;
			}
			if (!fat_seen && rs - rr < SKIN_MM)
				continue;
			if (run == 0.0)
				runst = rr;
			run += h;
			if (run >= WALL_RUN_MM) {
				rout[t] = runst + h / 2.0;
				break;
			}
		}
		if (!isfinite(rout[t]))
			continue;
		/* On inwards, through the wall, to VAT_RUN_MM of fat or bone
		 * (its inner edge found), or to gas (a bowel's) or
		 * WALL_MAX_MM (not found: an organ or the bowel lies against
		 * the wall). */
		run = 0.0;
		rin[t] = fmax(rout[t] - WALL_MAX_MM, 0.0);
		fnd[t] = 0;
		for (rr = rout[t] - h / 2.0; rr > 0.0 &&
		    rr > rout[t] - WALL_MAX_MM; rr -= h) {
			double	 v0;

			ii = (int)lround(cx + rr * dx / sx);
			jj = (int)lround(cy + rr * dy / sy);
			v0 = img[(size_t)jj * nx + ii];
			if (v0 > BONE_HU) {
				rin[t] = rr + h / 2.0;
				fnd[t] = 1;
				break;
			}
			if (v0 < BC_FAT_LO) {
				rin[t] = (run > 0.0 ? runst : rr) + h / 2.0;
				break;
			}
			if (v0 <= BC_FAT_HI) {
				if (run == 0.0)
					runst = rr;
				run += h;
				if (run >= VAT_RUN_MM) {
					rin[t] = runst + h / 2.0;
					fnd[t] = 1;
					break;
				}
			} else
				run = 0.0;
		}
	}
	thickness_prior(rout, rin, fnd);
	smooth(rout, s1);
	smooth(rin, s2);

	/* Inside the fascia, in the wall's band. */
	for (j = 0; j < ny; j++)
		for (i = 0; i < nx; i++) {
			double	 X = (i - cx) * sx, Y = (j - cy) * sy;
			double	 a = atan2(Y, X), rr = sqrt(X * X + Y * Y);

			p = (size_t)j * nx + i;
			if (!body[p])
				continue;
			if (a < 0.0)
				a += 2.0 * BC_PI;
			t = (int)lround(a / (2.0 * BC_PI) * NRAYS) % NRAYS;
			if (!isfinite(s1[t]))
				continue;
			in[p] = rr < s1[t];
			band[p] = in[p] && isfinite(s2[t]) && rr > s2[t];
		}

	/* 4. The paraspinal zone: behind the vertebral body's front, within
	 * ZONE_SHARE of the body's half-width at its centre row. */
	row = (int)lround(vb->c[1]);
	if (row < 0)
		row = 0;
	if (row >= ny)
		row = ny - 1;
	for (l = 0; l < nx && !body[(size_t)row * nx + l]; l++)
		;
	for (r = nx - 1; r >= 0 && !body[(size_t)row * nx + r]; r--)
		;
	zw = r > l ? ZONE_SHARE * (r - l + 1) * sx / 2.0 : 0.0;
	/* Bone and what it encloses (the marrow, the canal inside a closed
	 * arch): bonefill.  The body's front: from its centre forwards to
	 * the end of that; its back as far behind the centre. */
	for (p = 0; p < n; p++)
		tmp[p] = img[p] > BONE_HU;
	holes(tmp, hole, seed, nx, ny, stack);
	for (p = 0; p < n; p++)
		bonefill[p] = tmp[p] || hole[p];
	i = (int)lround(vb->c[0]);
	if (i < 0)
		i = 0;
	if (i >= nx)
		i = nx - 1;
	for (j = row; j > 0 && bonefill[(size_t)(j - 1) * nx + i]; j--)
		;
	front = j - 0.5;
	back = vb->c[1] + (vb->c[1] - front);
	for (j = 0; j < ny; j++)
		for (i = 0; i < nx; i++) {
			double	 X = (i - vb->c[0]) * sx;

			p = (size_t)j * nx + i;
			zone[p] = in[p] && j >= front && fabs(X) <= zw &&
			    !bonefill[p];
			/* the canal behind the body */
			if (fabs(X) < CANAL_HALF_MM && j > back &&
			    (j - back) * sy < CANAL_DEPTH_MM)
				zone[p] = 0;
		}
	/* Muscle of the zone joined to the vertebra's bone within
	 * SEED_MM. */
	if (vertebra_bone(img, nx, ny, sx, sy, vb, back, lab, stack,
	    vbone) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	lb = (int)ceil(SEED_MM / fmin(sx, sy));
	for (p = 0; p < n; p++) {
		tmp[p] = zone[p] && is_muscle(img[p]);
		seed[p] = 0;
	}
	for (j = 0; j < ny; j++)
		for (i = 0; i < nx; i++) {
			int	 a, b;

			p = (size_t)j * nx + i;
			if (!tmp[p])
				continue;
			for (b = j - lb; b <= j + lb && !seed[p]; b++)
				for (a = i - lb; a <= i + lb; a++) {
					double	 X = (a - i) * sx, Y = (b - j) *
					    sy;

					if (a < 0 || b < 0 || a >= nx ||
					    b >= ny || X * X + Y * Y >
					    SEED_MM * SEED_MM)
						continue;
					if (vbone[(size_t)b * nx + a]) {
						seed[p] = 1;
						break;
					}
				}
		}
	memcpy(para, seed, n);
	grow(tmp, para, nx, ny, 1, stack);
	for (p = 0; p < n; p++)
		if (band[p] && zone[p] && is_muscle(img[p]))
			para[p] = 1;
	holes(para, hole, tmp, nx, ny, stack);

	/* 5. The wall's fat: a part of the fat (8-connected) wholly inside
	 * the band is intermuscular; one that reaches the subcutaneous fat
	 * belongs to it, one that reaches inside the wall to the visceral
	 * fat (the partial pixels at the band's edges). */
	for (p = 0; p < n; p++)
		tmp[p] = body[p] && is_fat(img[p]);
	nl = label_parts(tmp, lab, nx, ny, stack);
	if ((reach = calloc((size_t)nl + 1, 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (p = 0; p < n; p++)
		if (lab[p] > 0)
			reach[lab[p]] |= !in[p] ? 1 : !band[p] ? 2 : 0;

	/* 3, 5, 6: the map. */
	for (p = 0; p < n; p++) {
		double	 x = img[p];

		map[p] = BC_NONE;
		if (!body[p])
			continue;
		if (!in[p]) {
			if (is_fat(x))
				map[p] = BC_SAT;
			continue;
		}
		if (para[p])
			map[p] = BC_PARA_MUSCLE;
		else if (band[p] && is_fat(x))
			map[p] = reach[lab[p]] & 1 ? BC_SAT :
			    reach[lab[p]] & 2 ? (hole[p] && zone[p] ?
			    BC_PARA_IMAT : BC_VAT) : zone[p] ? BC_PARA_IMAT :
			    BC_WALL_IMAT;
		else if (hole[p] && zone[p] && is_fat(x))
			map[p] = BC_PARA_IMAT;
		else if (band[p] && !zone[p] && is_muscle(x))
			map[p] = BC_WALL_MUSCLE;
		else if (!band[p] && x >= BC_VAT_LO && x <= BC_VAT_HI)
			map[p] = BC_VAT;
	}
	/* Bone and what it encloses are no tissue of these. */
	for (p = 0; p < n; p++)
		if (bonefill[p])
			map[p] = BC_NONE;

	memset(sum, 0, sizeof(sum));
	for (p = 0; p < n; p++) {
		out->n[map[p]]++;
		sum[map[p]] += img[p];
	}
	for (t = 1; t < BC__MAX; t++) {
		out->area_cm2[t] = (double)out->n[t] * sx * sy / 100.0;
		out->hu[t] = out->n[t] > 0 ? sum[t] / (double)out->n[t] : NAN;
	}
	out->n[BC_NONE] = 0;
	out->slice = k;
	out->nx = nx;
	out->ny = ny;
	out->map = map;
	map = NULL;
	ret = 0;
out:
	free(body);
	free(tmp);
	free(para);
	free(hole);
	free(seed);
	free(map);
	free(band);
	free(in);
	free(zone);
	free(bonefill);
	free(vbone);
	free(stack);
	free(lab);
	free(reach);
	free(rout);
	free(rin);
	free(s1);
	free(s2);
	return ret;
}

int
bodycomp_picture(const struct series_volume *v, const struct bodycomp *bc,
    unsigned char **rgb)
{
	const float	*img = v->vox + (size_t)bc->slice * v->nx * v->ny;
	size_t		 n = (size_t)bc->nx * bc->ny, p;
	unsigned char	*o;
	int		 c;

	*rgb = NULL;
	if ((o = malloc(n * 3)) == NULL)
		return -1;
	for (p = 0; p < n; p++) {
		double	 g = (img[p] - (40.0 - 200.0)) / 400.0 * 255.0;
		int	 m = bc->map[p];

		g = g < 0.0 ? 0.0 : g > 255.0 ? 255.0 : g;
		for (c = 0; c < 3; c++)
			o[p * 3 + c] = m == BC_NONE ? (unsigned char)g :
			    (unsigned char)lround(0.35 * g + 0.65 *
			    bc_colour[m][c]);
	}
	*rgb = o;
	return 0;
}
