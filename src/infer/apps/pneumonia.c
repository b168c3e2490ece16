/*
 * pneumonia.c - the pneumonia reader (CT肺炎辅助诊断), pneumonia.h.
 *
 * Method.  The lungs and lobes are the shared anatomy's (anatomy.h).
 * Inside the lungs, on a 1.5 mm isotropic grid smoothed with a Gaussian
 * of 1 mm (noise), an opacity is what is at least -750 HU: ground glass,
 * the hazy increase of attenuation through which vessels stay visible,
 * from -750 to -300 HU, and consolidation, which hides them, from -300
 * HU up (Hansell et al., 2008, the Fleischner Society's glossary; the
 * split at -300 HU, the best of eight thresholds compared for ground
 * glass against consolidation, BMC Infect Dis 2021;21:841).  Vessels and
 * airway walls are opacities of that density too, but thin: a
 * morphological opening of the opacities with a ball of 3 mm radius
 * (Serra, 1982) keeps what a 6 mm ball fits into, so that the vessels
 * and bronchial walls of a normal lung (under 6 mm across outside the
 * hila) go and a patch of pneumonia stays whole; before it, the axes of
 * the wider vessels (6 to 17 mm, by a Hessian tube filter at 2.5, 4 and
 * 6 mm) are taken out, so that the opening cuts them too.  The
 * consolidated part is opened the same way with a 2 mm ball, so that the
 * vessels running through ground glass do not count as consolidation.
 * Each 3-D connected region of at least 0.1 mL is a lesion when it is
 * consolidation (half of it dense after that opening, or a dense core
 * more than 9 mm across) or ground glass (a third of it the centre of a
 * 3 mm ball of opacity, 2 mm or more from anything dense); the rest,
 * vessels with the blur round them, is set apart and its volume
 * reported.  An opacity counts from a core inside the aerated lung
 * (below -400 HU, Hu et al., 2001, with the holes each slice shows in it
 * filled) deeper than the border's partial volume (3 mm, or the slice
 * thickness), and reaches 3 mm beyond it to the pleura.
 *
 * Dependent density: the gravity-dependent lung of a supine patient
 * (the posterior subpleural rim) is denser and may look like ground
 * glass; it clears when the patient lies prone (Hansell et al., 2008,
 * "dependent opacity").  A region that lies for at least 80 % within 10
 * mm of the pleura, in the posterior third of its lung, and is nowhere
 * thicker than 10 mm (the largest ball inside it of 5 mm radius at most)
 * is set apart as such, its volume reported, not a lesion.
 *
 * Per lesion: its slices, type (磨玻璃影 under 10 % consolidation, 实变
 * from 70 %, 磨玻璃影伴实变 between), the lobe that holds most of it and the
 * segment from the lobe's geometry (lobes.h), its volume and share of
 * both lungs.  Per lobe: the involved share and the CT severity score,
 * 0 none, 1 under 5 %, 2 5-25 %, 3 26-49 %, 4 50-75 %, 5 over 75 %, five
 * lobes for 0-25 (Pan et al., 2020).  The likelihood of pneumonia is a
 * rule on the features of CO-RADS (Prokop et al., 2020): bilateral,
 * multifocal, peripheral ground glass is very high; unilateral or
 * lobar patterns high; a single or central opacity equivocal; none very
 * low.  Crazy paving, the reversed halo, tree-in-bud and cavities are
 * not recognised, and the page says so.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "edt.h"
#include "lobes.h"
#include "log.h"
#include "masks.h"
#include "mat3.h"
#include "pneumonia.h"

#define WORK_MM		1.5	/* the grid of the analysis */
#define SMOOTH_MM	1.0	/* Gaussian sigma against noise */
#define GGO_LO		-750.0	/* HU: ground glass from here */
#define CONS_LO		-300.0	/* HU: consolidation from here */
#define OPEN_MM		3.0	/* ball radius: vessels and walls go */
#define CONS_OPEN_MM	2.0	/* the same for the consolidated part */
#define MIN_ML		0.1	/* smallest lesion */
#define KNOT_ML		2.0	/* a dense knot of vessels is smaller */
#define SIGNIF_ML	1.0	/* a lesion the likelihood counts */
#define ROUND_MIN	0.55	/* inner ball / equivalent radius: round */
#define NODULE_MM	30.0	/* a round lesion up to this is a nodule */
#define GGO_CORE_MM	2.0	/* ground glass proper: this far from dense */
#define GGO_SHARE	0.3	/* of a ground-glass lesion, at least */
#define CORE_MM		4.5	/* a consolidated core wider than vessels */
#define DEP_BAND_MM	10.0	/* dependent density: within the rim */
#define DEP_SHARE	0.8
#define DEP_THICK_MM	5.0	/* and no inner ball wider than this */
#define BORDER_MM	3.0	/* the border's partial volume, at least */
#define REACH_MM	3.0	/* from a core to the pleura, beyond it */
#define TUBE_MIN	60.0	/* HU, scale-normalised curvature */
#define HLO		-1000.0	/* the regions' histograms */
#define HW		10.0
#define HBINS		160

/* The tube filter's scales (mm): vessels of about 6 to 14 mm. */
static const double tube_mm[] = { 2.5, 4.0, 6.0 };

const char *const pneu_type_zh[PNEU_TYPE__MAX] = {
	[PNEU_GGO] = "磨玻璃影",
	[PNEU_CONSOLIDATION] = "实变",
	[PNEU_MIXED] = "磨玻璃影伴实变",
};

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
pneumonia_result_free(struct pneu_result *r)
{
	if (r == NULL)
		return;
	free(r->lesions);
	r->lesions = NULL;
	r->count = 0;
	free(r->regions);
	r->regions = NULL;
}

int
pneumonia_lobe_score(double involved_ml, double pct)
{
	if (involved_ml <= 0.0)
		return 0;
	if (pct < 5.0)
		return 1;
	if (pct <= 25.0)
		return 2;
	if (pct < 50.0)
		return 3;
	if (pct <= 75.0)
		return 4;
	return 5;
}

/* What is gathered per region of the opening. */
struct acc {
	long long	 n, ncons, nggo, nband, nperiph;
	long long	 nside[LUNG_SIDE__MAX];
	long long	 nlobe[LOBE__MAX];
	double		 sum_hu, sum[3];	/* work voxel centre */
	double		 thick2;		/* largest inner distance^2 */
	int		 z0, z1;
};

static int
lesion_cmp(const void *a, const void *b)
{
	const struct pneu_lesion *x = a, *y = b;

	return x->volume_ml < y->volume_ml ? 1 : x->volume_ml >
	    y->volume_ml ? -1 : 0;
}

/* Open mask m (d, spacing h) with a ball of radius r mm into out: the
 * voxels of m within r of a voxel deeper than r inside m (those, the
 * erosion, into eroded when it is not NULL).  dist is scratch.  Returns 0
 * or -1 (memory). */
static int
open_ball(const uint8_t *m, uint8_t *out, uint8_t *tmp, const int d[3],
    double h, double r, double *dist, uint8_t *eroded)
{
	size_t	 o, n = (size_t)d[0] * d[1] * d[2];
	double	 sp[3] = { h, h, h };

	for (o = 0; o < n; o++)
		tmp[o] = !m[o];
	if (edt3(tmp, d, sp, dist) == -1)
		return -1;
	for (o = 0; o < n; o++)
		tmp[o] = dist[o] > r * r;
	if (eroded != NULL)
		memcpy(eroded, tmp, n);
	if (edt3(tmp, d, sp, dist) == -1)
		return -1;
	for (o = 0; o < n; o++)
		out[o] = m[o] && dist[o] <= r * r + 1e-9;
	return 0;
}

/*
 * The aerated lung of each slice with its holes filled into f: the
 * voxels of the lungs wl below -400 HU in g, and what they enclose on the
 * slice (not reached from the slice's edge without crossing them); seen
 * is scratch of the volume's size.  Returns 0, or -1 (memory).
 */
static int
fill_aerated(const uint8_t *wl, const float *g, const int d[3],
    uint8_t *seen, uint8_t *f)
{
	size_t	 plane = (size_t)d[0] * d[1], o, top, *stk;
	int	 x, y, z, k;

	if ((stk = malloc(plane * sizeof(*stk))) == NULL)
		return -1;
	for (z = 0; z < d[2]; z++) {
		uint8_t	*fs = f + z * plane, *ss = seen + z * plane;
		const uint8_t *ws = wl + z * plane;
		const float *gs = g + z * plane;

		for (o = 0; o < plane; o++) {
			fs[o] = ws[o] && gs[o] < -400.0f;
			ss[o] = 0;
		}
		top = 0;
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				if (x != 0 && y != 0 && x != d[0] - 1 &&
				    y != d[1] - 1)
					continue;
				o = (size_t)y * d[0] + x;
				if (!fs[o] && !ss[o]) {
					ss[o] = 1;
					stk[top++] = o;
				}
			}
		while (top > 0) {
			static const int dx[4] = { 1, -1, 0, 0 };
			static const int dy[4] = { 0, 0, 1, -1 };

			o = stk[--top];
			x = (int)(o % d[0]);
			y = (int)(o / d[0]);
			for (k = 0; k < 4; k++) {
				int	 xx = x + dx[k], yy = y + dy[k];
				size_t	 oo;

				if (xx < 0 || yy < 0 || xx >= d[0] ||
				    yy >= d[1])
					continue;
				oo = (size_t)yy * d[0] + xx;
				if (fs[oo] || ss[oo])
					continue;
				ss[oo] = 1;
				stk[top++] = oo;
			}
		}
		for (o = 0; o < plane; o++)
			fs[o] = fs[o] || (!ss[o] && ws[o]);
	}
	free(stk);
	return 0;
}

/*
 * Clear from m the voxels of bright tubes at scale sigma (mm) in t, the
 * image smoothed at that scale on a grid of h mm: where the two largest
 * curvatures across are strong (scale-normalised, Lindeberg 1998) and
 * the third, along, is under half of them (Sato et al., 1998; Frangi et
 * al., 1998, the vessel measures of the same eigenvalues), on the tube's
 * axis, where the slope is small beside the curvature (the rim of a blob
 * curves the same way, with its steepest slope).  A patch of
 * consolidation is flat inside and a sheet at its edge; a vessel is a
 * tube, in the lung as in ground glass.
 */
static void
tubes(const float *t, const int d[3], double h, double sigma, uint8_t *m)
{
	size_t	 sx = 1, sy = (size_t)d[0], sz = (size_t)d[0] * d[1];
	double	 s2 = sigma * sigma / (h * h);
	int	 k;

#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
	for (k = 1; k < d[2] - 1; k++) {
		int	 i, j;
		size_t	 o;
		double	 c2, hm[6], e[3], gx, gy, gz;

		for (j = 1; j < d[1] - 1; j++)
			for (i = 1; i < d[0] - 1; i++) {
				o = (size_t)k * sz + (size_t)j * sy + i;
				if (!m[o])
					continue;
				c2 = 2.0 * t[o];
				hm[0] = t[o + sx] + t[o - sx] - c2;
				hm[1] = t[o + sy] + t[o - sy] - c2;
				hm[2] = t[o + sz] + t[o - sz] - c2;
				hm[3] = (t[o + sx + sy] - t[o + sx - sy] -
				    t[o - sx + sy] + t[o - sx - sy]) / 4.0;
				hm[4] = (t[o + sx + sz] - t[o + sx - sz] -
				    t[o - sx + sz] + t[o - sx - sz]) / 4.0;
				hm[5] = (t[o + sy + sz] - t[o + sy - sz] -
				    t[o - sy + sz] + t[o - sy - sz]) / 4.0;
				mat3_sym_eigen(hm, e);
				if (s2 * e[1] >= -TUBE_MIN ||
				    fabs(e[2]) >= 0.5 * fabs(e[1]))
					continue;
				/* On the tube's axis, not on an edge: the
				 * rim of a bright blob curves like a tube
				 * too, but there the slope is steepest. */
				gx = (t[o + sx] - t[o - sx]) / 2.0;
				gy = (t[o + sy] - t[o - sy]) / 2.0;
				gz = (t[o + sz] - t[o - sz]) / 2.0;
				if (sqrt(s2 * (gx * gx + gy * gy + gz * gz)) <
				    0.5 * s2 * fabs(e[1]))
					m[o] = 0;
			}
	}
}

#define OOM() do { (void)snprintf(err, errlen, "out of memory"); \
	goto out; } while (0)

int
pneumonia_detect(struct compute *c, const struct series_volume *v,
    const struct anatomy *an, struct pneu_result *res, char *err,
    size_t errlen)
{
	double		 t0 = now_s(), vsp[3], osp[3], h = WORK_MM, vv, lung_bg;
	double		 ylo[LUNG_SIDE__MAX], yhi[LUNG_SIDE__MAX], p[3];
	int		 bb[6], cd[3], d[3], ax, x, y, z, s, ret = -1;
	size_t		 n, o, vo, nlung = 0, ncc = 0, i, k;
	long long	*hist = NULL, acc_n;
	float		*crop = NULL, *a = NULL, *g = NULL, *t = NULL;
	uint8_t		*wl = NULL, *wlobe = NULL, *m = NULL, *op = NULL,
			*tmp = NULL, *cons = NULL, *tb = NULL, *ero = NULL;
	double		*dist = NULL, *dborder = NULL, *dtb = NULL;
	int32_t		*lab = NULL;
	struct cc_stats	*st = NULL;
	struct acc	*ac = NULL;
	long long	*hh = NULL, *ntot = NULL, *ncon0 = NULL, *ntb = NULL;
	double		*thr = NULL, *maxd = NULL, *cthick = NULL, border;
	struct lobe_extent ext[LOBE__MAX];
	long long	 lobe_vox[LOBE__MAX];

	memset(res, 0, sizeof(*res));
	res->severity = -1;
	if (an == NULL || !(an->have & ANAT_LUNGS) || an->lungs == NULL ||
	    an->dims[0] != v->nx || an->dims[1] != v->ny ||
	    an->dims[2] != v->nz) {
		(void)snprintf(err, errlen, "no lungs for this volume");
		return -1;
	}
	res->lobes_known = (an->have & ANAT_LOBES) && an->lobes != NULL;
	for (ax = 0; ax < 3; ax++)
		vsp[ax] = fabs(v->spacing[ax]);
	vv = vsp[0] * vsp[1] * vsp[2];
	/* The lungs' box, volumes and median CT number. */
	bb[0] = bb[2] = bb[4] = 1 << 30;
	bb[1] = bb[3] = bb[5] = -1;
	memset(lobe_vox, 0, sizeof(lobe_vox));
	if ((hist = calloc(1400, sizeof(*hist))) == NULL)
		OOM();
	for (z = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++) {
				vo = ((size_t)z * v->ny + y) * v->nx + x;
				if (!an->lungs[vo])
					continue;
				nlung++;
				if (res->lobes_known && an->lobes[vo] < LOBE__MAX)
					lobe_vox[an->lobes[vo]]++;
				bb[0] = x < bb[0] ? x : bb[0];
				bb[1] = x > bb[1] ? x : bb[1];
				bb[2] = y < bb[2] ? y : bb[2];
				bb[3] = y > bb[3] ? y : bb[3];
				bb[4] = z < bb[4] ? z : bb[4];
				bb[5] = z > bb[5] ? z : bb[5];
				s = (int)lround(v->vox[vo]) + 1100;
				hist[s < 0 ? 0 : s > 1399 ? 1399 : s]++;
			}
	res->lungs_ml = nlung * vv / 1000.0;
	for (s = LOBE_RUL; s < LOBE__MAX; s++)
		res->lobe[s].volume_ml = lobe_vox[s] * vv / 1000.0;
	if (nlung == 0) {
		res->seconds = now_s() - t0;
		pneumonia_likelihood(res);
		ret = 0;
		goto out;
	}
	for (s = 0, acc_n = 0; s < 1400; s++)
		if ((acc_n += hist[s]) * 2 >= (long long)nlung)
			break;
	lung_bg = s - 1100.0;
	/* The box with a margin; outside the lungs their median, so that
	 * the chest wall does not bleed into the lung through the
	 * smoothing. */
	for (ax = 0; ax < 3; ax++) {
		int	 dim = ax == 0 ? v->nx : ax == 1 ? v->ny : v->nz;
		int	 mg = (int)ceil(2.0 * WORK_MM / vsp[ax]);

		bb[2 * ax] = bb[2 * ax] - mg < 0 ? 0 : bb[2 * ax] - mg;
		bb[2 * ax + 1] = bb[2 * ax + 1] + mg >= dim ? dim - 1 :
		    bb[2 * ax + 1] + mg;
		cd[ax] = bb[2 * ax + 1] - bb[2 * ax] + 1;
		osp[ax] = h;
	}
	if ((crop = malloc((size_t)cd[0] * cd[1] * cd[2] *
	    sizeof(*crop))) == NULL)
		OOM();
	for (z = 0; z < cd[2]; z++)
		for (y = 0; y < cd[1]; y++)
			for (x = 0; x < cd[0]; x++) {
				vo = ((size_t)(z + bb[4]) * v->ny + y + bb[2]) *
				    v->nx + x + bb[0];
				crop[((size_t)z * cd[1] + y) * cd[0] + x] =
				    an->lungs[vo] ? v->vox[vo] :
				    (float)lung_bg;
			}
	compute_resample_dims(cd, vsp, osp, d);
	n = (size_t)d[0] * d[1] * d[2];
	if ((a = malloc(n * sizeof(*a))) == NULL ||
	    (g = malloc(n * sizeof(*g))) == NULL ||
	    (t = malloc(n * sizeof(*t))) == NULL ||
	    (wl = calloc(n, 1)) == NULL || (wlobe = calloc(n, 1)) == NULL ||
	    (m = calloc(n, 1)) == NULL || (op = calloc(n, 1)) == NULL ||
	    (tmp = calloc(n, 1)) == NULL || (cons = calloc(n, 1)) == NULL ||
	    (tb = calloc(n, 1)) == NULL || (ero = calloc(n, 1)) == NULL ||
	    (dist = malloc(n * sizeof(*dist))) == NULL ||
	    (dborder = malloc(n * sizeof(*dborder))) == NULL ||
	    (dtb = malloc(n * sizeof(*dtb))) == NULL ||
	    (lab = malloc(n * sizeof(*lab))) == NULL)
		OOM();
	if (compute_resample(c, a, d, crop, cd, vsp, osp) == -1 ||
	    compute_gauss(c, g, a, d, osp, (double[3]){ SMOOTH_MM, SMOOTH_MM,
	    SMOOTH_MM }) == -1) {
		(void)snprintf(err, errlen, "compute: %s", compute_error(c));
		goto out;
	}
	free(crop);
	crop = NULL;
	/* The lungs and lobes on the work grid (nearest voxel), the
	 * opacities, and each lung's extent from front to back. */
	for (s = 0; s < LUNG_SIDE__MAX; s++) {
		ylo[s] = 1e30;
		yhi[s] = -1e30;
	}
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				int	 sx = (int)lround(x * h / vsp[0]);
				int	 sy = (int)lround(y * h / vsp[1]);
				int	 sz = (int)lround(z * h / vsp[2]);
				double	 py;

				sx = sx >= cd[0] ? cd[0] - 1 : sx;
				sy = sy >= cd[1] ? cd[1] - 1 : sy;
				sz = sz >= cd[2] ? cd[2] - 1 : sz;
				o = ((size_t)z * d[1] + y) * d[0] + x;
				vo = ((size_t)(sz + bb[4]) * v->ny + sy +
				    bb[2]) * v->nx + sx + bb[0];
				wl[o] = an->lungs[vo] < LUNG_SIDE__MAX ?
				    an->lungs[vo] : 0;
				if (res->lobes_known)
					wlobe[o] = an->lobes[vo];
				m[o] = wl[o] && g[o] >= GGO_LO;
				if (!wl[o])
					continue;
				py = v->origin[1] + (sx + bb[0]) * vsp[0] *
				    v->row[1] + (sy + bb[2]) * vsp[1] *
				    v->col[1] + (sz + bb[4]) * v->step[1];
				ylo[wl[o]] = fmin(ylo[wl[o]], py);
				yhi[wl[o]] = fmax(yhi[wl[o]], py);
			}
	/*
	 * The aerated lung, filled: what is below -400 HU (Hu et al.,
	 * 2001) with its holes on each slice (the vessels, nodules and
	 * consolidations it surrounds).  The anatomy's mask also holds what
	 * its pleural closing took in and the partial volume of the chest
	 * wall, the heart and the diaphragm along its border; an opacity
	 * counts when it has a core deeper than the border's partial
	 * volume inside the filled aerated lung, and reaches from there to
	 * the pleura.
	 */
	if (fill_aerated(wl, g, d, tmp, m) == -1)
		OOM();
	for (o = 0; o < n; o++)
		tmp[o] = !m[o];
	if (edt3(tmp, d, osp, dborder) == -1)
		OOM();
	border = fmax(BORDER_MM, fabs(v->spacing[2]));
	/* The opacities without the vessels too wide for the opening
	 * (the hilar and segmental ones, to about 14 mm), opened. */
	for (o = 0; o < n; o++)
		tb[o] = m[o] = wl[o] && g[o] >= GGO_LO;
	for (k = 0; k < sizeof(tube_mm) / sizeof(tube_mm[0]); k++) {
		if (compute_gauss(c, t, a, d, osp, (double[3]){ tube_mm[k],
		    tube_mm[k], tube_mm[k] }) == -1) {
			(void)snprintf(err, errlen, "compute: %s",
			    compute_error(c));
			goto out;
		}
		tubes(t, d, h, tube_mm[k], m);
	}
	for (o = 0; o < n; o++)
		tb[o] = tb[o] && !m[o];
	if (edt3(tb, d, osp, dtb) == -1)
		OOM();
	if (open_ball(m, op, tmp, d, h, OPEN_MM, dist, ero) == -1)
		OOM();
	for (o = 0; o < n; o++)
		tmp[o] = op[o] && dborder[o] > border * border;
	if (edt3(tmp, d, osp, dist) == -1)
		OOM();
	for (o = 0; o < n; o++)
		op[o] = op[o] && dist[o] <= (border + REACH_MM) *
		    (border + REACH_MM);
	/* Its consolidated part, opened in turn. */
	for (o = 0; o < n; o++)
		m[o] = op[o] && g[o] >= CONS_LO;
	if (open_ball(m, cons, tmp, d, h, CONS_OPEN_MM, dist, NULL) == -1)
		OOM();
	/* The depth of each lung on each slice, for "peripheral". */
	if ((maxd = calloc((size_t)d[2] * LUNG_SIDE__MAX,
	    sizeof(*maxd))) == NULL)
		OOM();
	for (o = 0; o < n; o++)
		if (wl[o] && dborder[o] < EDT_NONE) {
			double	*q = &maxd[(o / ((size_t)d[0] * d[1])) *
			    LUNG_SIDE__MAX + wl[o]];

			*q = fmax(*q, dborder[o]);
		}
	for (o = 0; o < n; o++)
		tmp[o] = !op[o];
	if (edt3(tmp, d, osp, dist) == -1)
		OOM();
	if (compute_label(c, lab, op, NULL, d, 26, &st, &ncc) == -1) {
		(void)snprintf(err, errlen, "compute: %s", compute_error(c));
		goto out;
	}
	if (ncc > 0 && ((ac = calloc(ncc, sizeof(*ac))) == NULL ||
	    (hh = calloc(ncc * HBINS, sizeof(*hh))) == NULL ||
	    (thr = calloc(ncc, sizeof(*thr))) == NULL ||
	    (ntot = calloc(ncc, sizeof(*ntot))) == NULL ||
	    (ncon0 = calloc(ncc, sizeof(*ncon0))) == NULL ||
	    (ntb = calloc(ncc, sizeof(*ntb))) == NULL ||
	    (cthick = calloc(ncc, sizeof(*cthick))) == NULL))
		OOM();
	/*
	 * Each region's own edge: for ground glass (and ground glass with
	 * a consolidated part: the median of what lies 2 mm or more inside
	 * it under -300 HU) the -750 HU of the opacities, halfway between
	 * the lung and ground glass of -650 HU; for consolidation halfway
	 * between the lung and that median, as for a nodule, so that its
	 * volume does not take in the blur round it.  And how many of its
	 * voxels lie near the axis of a vessel that the tube filter took
	 * out (within the opening's reach).
	 */
	for (o = 0; o < n; o++) {
		if (lab[o] == 0)
			continue;
		i = (size_t)(lab[o] - 1);
		ntot[i]++;
		ncon0[i] += cons[o];
		ntb[i] += dtb[o] <= (OPEN_MM + h) * (OPEN_MM + h);
		if (dist[o] >= 4.0) {
			int	 hb = (int)floor((g[o] - HLO) / HW);

			hb = hb < 0 ? 0 : hb >= HBINS ? HBINS - 1 : hb;
			hh[i * HBINS + hb]++;
		}
	}
	for (i = 0; i < ncc; i++) {
		long long	 tot = 0, cum = 0;
		int		 hb;
		double		 plat = GGO_LO;

		for (hb = 0; hb < HBINS; hb++)
			tot += hh[i * HBINS + hb];
		for (hb = 0; hb < HBINS && tot > 0; hb++)
			if ((cum += hh[i * HBINS + hb]) * 2 >= tot) {
				plat = HLO + (hb + 0.5) * HW;
				break;
			}
		thr[i] = plat < CONS_LO ? GGO_LO : fmax(GGO_LO, lung_bg +
		    0.5 * (plat - lung_bg));
	}
	/* The thickness of each region's consolidated part: the largest
	 * ball inside it. */
	for (o = 0; o < n; o++)
		tmp[o] = !cons[o];
	if (edt3(tmp, d, osp, dtb) == -1)
		OOM();
	for (o = 0; o < n; o++)
		if (lab[o] != 0 && cons[o] && dtb[o] > cthick[lab[o] - 1])
			cthick[lab[o] - 1] = dtb[o];
	/* How far each voxel lies from the dense (>= -300 HU) part of the
	 * opacities: ground glass proper lies 2 mm or more from it, the
	 * partial volume round a vessel nearer. */
	for (o = 0; o < n; o++)
		tmp[o] = op[o] && g[o] >= CONS_LO;
	if (edt3(tmp, d, osp, dtb) == -1)
		OOM();
	for (i = 0; i < ncc; i++) {
		ac[i].z0 = 1 << 30;
		ac[i].z1 = -1;
	}
	for (z = 0; z < d[2]; z++)
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++) {
				struct acc	*q;
				double		 md;

				o = ((size_t)z * d[1] + y) * d[0] + x;
				if (lab[o] == 0 || g[o] < thr[lab[o] - 1])
					continue;
				q = &ac[lab[o] - 1];
				md = maxd[(size_t)z * LUNG_SIDE__MAX + wl[o]];
				q->n++;
				q->ncons += cons[o];
				q->nggo += ero[o] && g[o] < CONS_LO &&
				    dtb[o] >= GGO_CORE_MM * GGO_CORE_MM;
				q->nband += dborder[o] <= DEP_BAND_MM *
				    DEP_BAND_MM;
				/* The outer third of the lung's depth. */
				q->nperiph += wl[o] && dborder[o] * 9.0 <= md;
				q->nside[wl[o]]++;
				if (wlobe[o] < LOBE__MAX)
					q->nlobe[wlobe[o]]++;
				q->sum_hu += g[o];
				q->sum[0] += x;
				q->sum[1] += y;
				q->sum[2] += z;
				q->thick2 = fmax(q->thick2, dist[o]);
				q->z0 = z < q->z0 ? z : q->z0;
				q->z1 = z > q->z1 ? z : q->z1;
			}
	if (res->lobes_known)
		lobes_extents(v, an->lobes, ext);
	for (i = 0; i < ncc; i++) {
		struct acc		*q = &ac[i];
		struct pneu_lesion	 l, *nl;
		double			 ml = q->n * h * h * h / 1000.0, cw[3];
		double			 frac;
		int			 side, best, kz, area, barea;

		if (q->n == 0 || ml < MIN_ML)
			continue;
		for (ax = 0; ax < 3; ax++)
			cw[ax] = q->sum[ax] / q->n;
		/* Native voxel of the centre, and patient mm. */
		{
			double	 ni = bb[0] + cw[0] * h / vsp[0];
			double	 nj = bb[2] + cw[1] * h / vsp[1];
			double	 nk = bb[4] + cw[2] * h / vsp[2];

			for (ax = 0; ax < 3; ax++)
				p[ax] = v->origin[ax] + ni * vsp[0] *
				    v->row[ax] + nj * vsp[1] * v->col[ax] +
				    nk * v->step[ax];
		}
		side = q->nside[LUNG_RIGHT] >= q->nside[LUNG_LEFT] ?
		    LUNG_RIGHT : LUNG_LEFT;
		/* Dependent density: a thin rim along the posterior
		 * pleura. */
		if ((double)q->nband >= DEP_SHARE * q->n &&
		    sqrt(q->thick2) <= DEP_THICK_MM &&
		    yhi[side] > ylo[side] &&
		    p[1] >= ylo[side] + 2.0 / 3.0 * (yhi[side] - ylo[side])) {
			res->dependent_ml += ml;
			continue;
		}
		/* A knot of vessels: small, dense, on the axes of the
		 * vessels that run into it. */
		if (ml < KNOT_ML && ntb[i] > 0 && ncon0[i] >= 0.5 * ntot[i]) {
			res->vessel_ml += ml;
			continue;
		}
		/* Neither consolidation (half of it dense after the
		 * opening, or a dense core wider than the vessels there)
		 * nor ground glass (a third of it hazy lung, the centre of
		 * a 3 mm ball of opacity 2 mm or more from anything dense):
		 * vessels and their partial volume. */
		if (q->ncons < 0.5 * q->n && q->nggo < GGO_SHARE * q->n &&
		    cthick[i] < CORE_MM * CORE_MM) {
			res->vessel_ml += ml;
			continue;
		}
		memset(&l, 0, sizeof(l));
		l.cc = (int)i + 1;
		l.side = (enum lung_side)side;
		l.volume_ml = ml;
		l.cons_ml = q->ncons * h * h * h / 1000.0;
		l.hu_mean = q->sum_hu / q->n;
		l.peripheral = (double)q->nperiph / q->n;
		/* The distance map reaches the centres of the voxels
		 * outside: the edge lies half a voxel nearer. */
		l.roundness = fmax(0.0, sqrt(q->thick2) - h / 2.0) /
		    cbrt(3.0 * ml * 1000.0 / (4.0 * M_PI));
		l.focal = l.roundness >= ROUND_MIN;
		memcpy(l.center, p, sizeof(p));
		frac = (double)q->ncons / q->n;
		l.type = frac >= 0.7 ? PNEU_CONSOLIDATION : frac < 0.1 ?
		    PNEU_GGO : PNEU_MIXED;
		l.lobe = LOBE_NONE;
		for (s = LOBE_RUL, best = 0; s < LOBE__MAX; s++) {
			if (q->nlobe[s] > best) {
				best = (int)q->nlobe[s];
				l.lobe = (enum lobe)s;
			}
			if (q->nlobe[s] > 0)
				l.lobes |= 1 << s;
		}
		if (l.lobe != LOBE_NONE) {
			const char *seg = lobes_segment_zh(l.lobe,
			    &ext[l.lobe], p);

			(void)snprintf(l.location, sizeof(l.location), "%s",
			    seg != NULL && *seg != '\0' ? seg :
			    lobe_zh[l.lobe]);
		} else
			(void)snprintf(l.location, sizeof(l.location), "%s",
			    lung_side_zh[side]);
		/* Slices: the native slices its work slices cover. */
		l.slice_first = bb[4] + (int)floor(q->z0 * h / vsp[2]);
		l.slice_last = bb[4] + (int)ceil(q->z1 * h / vsp[2]);
		l.slice_first = l.slice_first < 0 ? 0 : l.slice_first;
		l.slice_last = l.slice_last >= v->nz ? v->nz - 1 :
		    l.slice_last;
		/* The key slice: its largest section; the box there. */
		kz = q->z0;
		barea = -1;
		for (z = q->z0; z <= q->z1; z++) {
			for (y = 0, area = 0; y < d[1]; y++)
				for (x = 0; x < d[0]; x++) {
					o = ((size_t)z * d[1] + y) * d[0] + x;
					area += lab[o] == (int32_t)(i + 1) &&
					    g[o] >= thr[i];
				}
			if (area > barea) {
				barea = area;
				kz = z;
			}
		}
		l.x0 = l.y0 = 1 << 30;
		l.x1 = l.y1 = -1;
		for (y = 0; y < d[1]; y++)
			for (x = 0; x < d[0]; x++)
				if (lab[((size_t)kz * d[1] + y) * d[0] + x] ==
				    (int32_t)(i + 1) && g[((size_t)kz * d[1] +
				    y) * d[0] + x] >= thr[i]) {
					l.x0 = x < l.x0 ? x : l.x0;
					l.x1 = x > l.x1 ? x : l.x1;
					l.y0 = y < l.y0 ? y : l.y0;
					l.y1 = y > l.y1 ? y : l.y1;
				}
		l.key_slice = bb[4] + (int)lround(kz * h / vsp[2]);
		l.key_slice = l.key_slice >= v->nz ? v->nz - 1 : l.key_slice;
		l.x0 = bb[0] + (int)floor((l.x0 - 0.5) * h / vsp[0]);
		l.x1 = bb[0] + (int)ceil((l.x1 + 0.5) * h / vsp[0]);
		l.y0 = bb[2] + (int)floor((l.y0 - 0.5) * h / vsp[1]);
		l.y1 = bb[2] + (int)ceil((l.y1 + 0.5) * h / vsp[1]);
		l.x0 = l.x0 < 0 ? 0 : l.x0;
		l.y0 = l.y0 < 0 ? 0 : l.y0;
		l.x1 = l.x1 >= v->nx ? v->nx - 1 : l.x1;
		l.y1 = l.y1 >= v->ny ? v->ny - 1 : l.y1;
		/* How sure: its size and how far above the ground-glass
		 * floor it lies. */
		l.confidence = 0.5 + 0.25 * fmin(1.0, ml / 5.0) + 0.25 *
		    fmin(1.0, (l.hu_mean - GGO_LO) / 300.0);
		if ((res->count & 15) == 0) {
			nl = realloc(res->lesions, (res->count + 16) *
			    sizeof(*nl));
			if (nl == NULL)
				OOM();
			res->lesions = nl;
		}
		res->lesions[res->count++] = l;
		res->involved_ml += ml;
		res->cons_ml += l.cons_ml;
		for (s = LOBE_RUL; s < LOBE__MAX; s++)
			res->lobe[s].involved_ml += q->nlobe[s] * h * h * h /
			    1000.0;
	}
	if (res->count > 1)
		qsort(res->lesions, res->count, sizeof(*res->lesions),
		    lesion_cmp);
	res->ggo_ml = res->involved_ml - res->cons_ml;
	res->involved_pct = res->lungs_ml > 0.0 ? 100.0 * res->involved_ml /
	    res->lungs_ml : 0.0;
	for (k = 0; k < res->count; k++)
		res->lesions[k].lung_pct = res->lungs_ml > 0.0 ? 100.0 *
		    res->lesions[k].volume_ml / res->lungs_ml : 0.0;
	if (res->lobes_known) {
		res->severity = 0;
		for (s = LOBE_RUL; s < LOBE__MAX; s++) {
			struct pneu_lobe *pl = &res->lobe[s];

			pl->pct = pl->volume_ml > 0.0 ? fmin(100.0, 100.0 *
			    pl->involved_ml / pl->volume_ml) : 0.0;
			pl->score = pneumonia_lobe_score(pl->involved_ml,
			    pl->pct);
			res->severity += pl->score;
			res->nlobes += pl->involved_ml > 0.0;
		}
	}
	{
		int	 r = 0, l = 0;

		for (k = 0; k < res->count; k++) {
			r |= res->lesions[k].side == LUNG_RIGHT;
			l |= res->lesions[k].side == LUNG_LEFT;
		}
		res->bilateral = r && l;
	}
	pneumonia_likelihood(res);
	/*
	 * The lesions' voxels on the volume's grid, for the viewer: each
	 * native voxel of the lungs takes the work voxel nearest it (the
	 * analysis' 1.5 mm grid), its lesion by the order above where it
	 * lies at or above the lesion's own edge, consolidated where the
	 * opened dense part is.
	 */
	if (res->count > 0) {
		int	*ccmap;
		int	 wx, wy, wz, xx, yy, zz;

		if ((ccmap = malloc(ncc * sizeof(*ccmap))) == NULL ||
		    (res->regions = calloc((size_t)v->nx * v->ny * v->nz,
		    1)) == NULL) {
			free(ccmap);
			OOM();
		}
		for (i = 0; i < ncc; i++)
			ccmap[i] = -1;
		for (k = 0; k < res->count && k < PNEU_REGIONS_MAX; k++)
			ccmap[res->lesions[k].cc - 1] = (int)k;
		for (zz = bb[4]; zz <= bb[5]; zz++)
			for (yy = bb[2]; yy <= bb[3]; yy++)
				for (xx = bb[0]; xx <= bb[1]; xx++) {
					vo = ((size_t)zz * v->ny + yy) * v->nx +
					    xx;
					if (an->lungs[vo] == 0)
						continue;
					wx = (int)lround((xx - bb[0]) * vsp[0] /
					    h);
					wy = (int)lround((yy - bb[2]) * vsp[1] /
					    h);
					wz = (int)lround((zz - bb[4]) * vsp[2] /
					    h);
					if (wx >= d[0] || wy >= d[1] ||
					    wz >= d[2])
						continue;
					o = ((size_t)wz * d[1] + wy) * d[0] +
					    wx;
					if (lab[o] == 0 ||
					    ccmap[lab[o] - 1] < 0 ||
					    g[o] < thr[lab[o] - 1])
						continue;
					res->regions[vo] = (uint8_t)PNEU_REGION(
					    ccmap[lab[o] - 1], cons[o]);
				}
		free(ccmap);
	}
	ret = 0;
out:
	free(hist);
	free(crop);
	free(a);
	free(g);
	free(t);
	free(wl);
	free(wlobe);
	free(m);
	free(op);
	free(tmp);
	free(cons);
	free(dist);
	free(dborder);
	free(dtb);
	free(lab);
	free(st);
	free(ac);
	free(hh);
	free(ntot);
	free(ncon0);
	free(ntb);
	free(cthick);
	free(tb);
	free(ero);
	free(thr);
	free(maxd);
	if (ret == -1)
		pneumonia_result_free(res);
	res->seconds = now_s() - t0;
	return ret;
}

/* A lesion's equivalent diameter, mm. */
double
pneumonia_diameter(const struct pneu_lesion *l)
{
	return 2.0 * cbrt(3.0 * l->volume_ml * 1000.0 / (4.0 * M_PI));
}

/*
 * The likelihood from the lesions of 1 mL or more (about 12 mm across):
 * smaller opacities are too small for the patterns of CO-RADS and are
 * what a normal lung's vessel knots and scars leave.
 *
 * The levels follow the structure of CO-RADS (Prokop et al., 2020),
 * widened from COVID-19 to pneumonia in general:
 *   5  bilateral multifocal ground glass, mostly in the outer third of
 *      the lungs (subpleural), with or without consolidation;
 *   4  multifocal opacities that lack one of those (one lung only, or
 *      not subpleural), or one large consolidation (lobar or segmental
 *      consolidation, the typical form of bacterial pneumonia);
 *   3  one opacity: CO-RADS 3 holds that a single or small ground-glass
 *      opacity fits pneumonia and many other diseases alike;
 *   2  only specks under 1 mL;
 *   1  nothing.
 * A round lesion (the largest ball inside it at least 0.6 of the radius
 * of a sphere of its volume) is a nodule (up to 30 mm) or a mass, not a
 * patch of pneumonia (Hansell 2008: a nodule is a rounded opacity up to
 * 3 cm; CO-RADS 1 counts lung tumours as non-infectious): it is not
 * counted, and the reason says that it was seen.
 */
void
pneumonia_likelihood(struct pneu_result *r)
{
	struct pneu_level	*lv = &r->likelihood;
	double			 periph = 0.0, vol = 0.0, cons = 0.0;
	int			 ggo = 0, right = 0, left = 0, nsig = 0;
	int			 nnod = 0, nmass = 0;
	size_t			 k;
	char			 focal[160];

	for (k = 0; k < r->count; k++) {
		const struct pneu_lesion *l = &r->lesions[k];

		if (l->volume_ml < SIGNIF_ML)
			continue;
		if (l->focal) {
			if (pneumonia_diameter(l) <= NODULE_MM)
				nnod++;
			else
				nmass++;
			continue;
		}
		nsig++;
		vol += l->volume_ml;
		cons += l->cons_ml;
		periph += l->peripheral * l->volume_ml;
		ggo |= l->type != PNEU_CONSOLIDATION;
		right |= l->side == LUNG_RIGHT;
		left |= l->side == LUNG_LEFT;
	}
	r->nfocal = nnod + nmass;
	periph = vol > 0.0 ? periph / vol : 0.0;
	focal[0] = '\0';
	if (nnod > 0 || nmass > 0)
		(void)snprintf(focal, sizeof(focal), "；另见类圆形%s%s%s，"
		    "不计入肺炎征象，请结合肺结节阅片", nnod > 0 ? "结节样病灶"
		    : "", nnod > 0 && nmass > 0 ? "及" : "", nmass > 0 ?
		    "肿块样病灶" : "");
	if (r->count == 0) {
		lv->level = 1;
		lv->zh = "很低";
		(void)snprintf(lv->why, sizeof(lv->why),
		    "未见磨玻璃影或实变");
	} else if (nsig == 0) {
		lv->level = r->nfocal > 0 ? 1 : 2;
		lv->zh = r->nfocal > 0 ? "很低" : "低";
		(void)snprintf(lv->why, sizeof(lv->why), "%s%s",
		    r->nfocal > 0 ? "未见片状磨玻璃影或实变" :
		    "仅见小片状密度增高影（均小于1 mL）", focal);
	} else if (right && left && nsig >= 2 && ggo && periph >= 0.5) {
		lv->level = 5;
		lv->zh = "很高";
		(void)snprintf(lv->why, sizeof(lv->why),
		    "双肺多发、以胸膜下分布为主的磨玻璃影%s%s",
		    cons > 0.0 ? "，伴实变" : "", focal);
	} else if (right && left && nsig >= 2) {
		lv->level = 4;
		lv->zh = "高";
		(void)snprintf(lv->why, sizeof(lv->why), "双肺多发%s%s",
		    ggo ? "磨玻璃影/实变，分布不以胸膜下为主" : "实变", focal);
	} else if (nsig >= 2) {
		lv->level = 4;
		lv->zh = "高";
		(void)snprintf(lv->why, sizeof(lv->why), "单侧肺多发%s%s",
		    ggo ? "磨玻璃影" : "实变", focal);
	} else if (!ggo && vol >= 10.0) {
		lv->level = 4;
		lv->zh = "高";
		(void)snprintf(lv->why, sizeof(lv->why),
		    "单发大片实变（大叶或肺段性实变为细菌性肺炎常见表现）%s",
		    focal);
	} else {
		lv->level = 3;
		lv->zh = "不确定";
		(void)snprintf(lv->why, sizeof(lv->why),
		    "单发%s，需与其他病变鉴别%s", ggo ? "磨玻璃影" : "实变",
		    focal);
	}
}

/* ---------------------------------------------------------------- */
/* The reader: its check, its run and its result.                    */

#define PNEU_LIMITS_ZH "局限：按CT值与形态学开运算分割病灶，宽度小于约6 mm" \
	"的病灶（小斑片、细网格影）及铺路石征、反晕征、树芽征、空洞、胸腔积液" \
	"未识别；肺门区较粗血管、肺不张、肺水肿、出血及肿瘤等同样表现为磨玻璃影" \
	"或实变，不能与肺炎鉴别；紧贴胸壁的大片实变若超出肺野分割范围，只计其" \
	"肺内部分；仰卧位下背侧胸膜下坠积性密度增高按规则剔除并单列体积，可能" \
	"误剔早期胸膜下磨玻璃影；俯卧位扫描未区分。疑似程度为规则分级，不是经" \
	"统计校准的概率。验证：解析体模（1.25与5 mm层厚，噪声20 HU）的6个" \
	"病灶（磨玻璃影、实变与混合；球形与胸膜下板状）体积误差≤8%，肺叶与" \
	"评分全部正确，球形者均判为结节或肿块样；正常肺（LIDC-IDRI-0002）" \
	"误检体积1.3 mL（占全肺0.02%），其结节判为结节样；4个肺癌序列" \
	"（Lung-PET-CT-Dx）的肿块均未识别为肿块，3个判为不确定、1个判为很" \
	"高，即肿瘤可被当作肺炎；尚未在确诊肺炎的真实病例上验证。" \
	"结果须由医师逐一确认。"

enum reader_verdict
pneumonia_check(const struct series_volume *v, char *why, size_t sz)
{
	return reader_check_chest_ct(v, "肺炎辅助诊断", 5.0, "病灶体积无法测量",
	    "体积测量", why, sz);
}

int
pneumonia_to_ai(const struct pneu_result *r, const struct anatomy *an,
    const struct series_volume *v, struct ai_result *out)
{
	struct ai_lesion	 al;
	struct ai_key_image	 key;
	const struct pneu_lesion *l;
	char			*fd = NULL, *cc = NULL, *me = NULL;
	char			 a[32], b[32], c[32];
	size_t			 fl = 0, cl = 0, ml = 0, i;
	int			 s;

	(void)an;
	if (ai_text_append(&me, &ml, "病灶按密度在肺野内分割（肺野与肺叶取自"
	    "共享解剖分割）：平滑后CT值≥-750 HU为异常密度，-750～-300 HU为"
	    "磨玻璃影、≥-300 HU为实变（定义见Fleischner学会术语，Hansell "
	    "2008；-300 HU分界见BMC Infect Dis 2021）；以半径3 mm球形结构"
	    "元素做形态学开运算（Serra 1982）去除血管与支气管壁，实变部分以"
	    "2 mm再行开运算以免穿行血管计入实变；体积≥0.1 mL的三维连通区为"
	    "病灶；背侧胸膜下10 mm内、厚度≤5 mm的带状密度增高视为坠积性改变"
	    "单列。每肺叶按受累比例评分0–5分（0无，1 <5%%，2 5–25%%，3 "
	    "26–49%%，4 50–75%%，5 >75%%），五叶合计0–25分（Pan 2020）。"
	    "疑似程度参照CO-RADS（Prokop 2020）的特征分级，只计体积≥1 mL的"
	    "病灶：双肺多发、以胸膜下（肺外带）分布为主的磨玻璃影为很高（5级），"
	    "多发但仅单侧或不以胸膜下为主、或单发大片实变（≥10 mL）为高（4级），"
	    "单发病灶为不确定（3级），仅见小于1 mL的小片影为低（2级），未见病"
	    "灶为很低（1级）。类圆形病灶（最大内切球半径≥等体积球半径的0.6）"
	    "视为结节（≤30 mm）或肿块（>30 mm），不计入肺炎征象（Hansell "
	    "2008；CO-RADS 1将肺肿瘤列为非感染性表现）。%s", r->lobes_known ? "" : "未做肺叶分割，未计算严重程度"
	    "评分。") == -1 ||
	    ai_text_append(&me, &ml, "%s", PNEU_LIMITS_ZH) == -1 ||
	    ai_text_append(&me, &ml, "结果仅供参考，不能直接用于诊断。") == -1)
		goto fail;
	/* As for the nodules: with lesions, the report takes the checked
	 * lesions' sentences only, so that a false one left unchecked
	 * stays out. */
	if (r->count == 0) {
		if (ai_text_append(&fd, &fl, "双肺未见明确磨玻璃影及实变。") ==
		    -1 || ai_text_append(&cc, &cl, "双肺未见明确肺炎征象。") ==
		    -1)
			goto fail;
	} else if (ai_text_append(&fd, &fl, "%s", "") == -1 ||
	    ai_text_append(&cc, &cl, "%s", "") == -1)
		goto fail;
	for (i = 0; i < r->count; i++) {
		int	 m = 0;

		l = &r->lesions[i];
		memset(&al, 0, sizeof(al));
		al.id = (int)i + 1;
		(void)snprintf(al.type, sizeof(al.type), "%s",
		    pneu_type_zh[l->type]);
		(void)snprintf(al.location, sizeof(al.location), "%.120s",
		    l->location);
		ai_text_fig(a, sizeof(a), round(l->volume_ml * 100.0) / 100.0);
		ai_text_fig(b, sizeof(b), round(l->lung_pct * 100.0) / 100.0);
		ai_text_fig(c, sizeof(c), round(l->hu_mean));
		(void)snprintf(al.findings, sizeof(al.findings),
		    "%s见%s（第%d–%d层），体积约%s cm³，占全肺容积约%s%%，"
		    "平均CT值约%s HU。", l->location, pneu_type_zh[l->type],
		    l->slice_first + 1, l->slice_last + 1, a, b, c);
		ai_text_fig(c, sizeof(c), round(pneumonia_diameter(l)));
		if (l->focal)
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s类圆形%s（等效直径约%s mm），%s，请结合肺结节"
			    "阅片及临床。", l->location, pneumonia_diameter(l) <=
			    NODULE_MM ? "结节样病灶" : "肿块样病灶", c,
			    pneumonia_diameter(l) <= NODULE_MM ?
			    "非典型肺炎表现" : "需警惕肿瘤性病变");
		else
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s%s，考虑炎症（AI肺炎疑似程度：%s）。",
			    l->location, pneu_type_zh[l->type],
			    r->likelihood.zh);
#define MEAS(nm, val, un) do { (void)snprintf(al.meas[m].name, AI_NAME_MAX, \
	"%s", (nm)); al.meas[m].value = (val); (void)snprintf(al.meas[m].unit, \
	AI_UNIT_MAX, "%s", (un)); m++; } while (0)
		MEAS("起始层", l->slice_first + 1, "");
		MEAS("终止层", l->slice_last + 1, "");
		MEAS("体积", round(l->volume_ml * 100.0) / 100.0, "cm³");
		MEAS("占全肺比例", round(l->lung_pct * 100.0) / 100.0, "%");
		MEAS("实变体积", round(l->cons_ml * 100.0) / 100.0, "cm³");
		MEAS("平均CT值", round(l->hu_mean), "HU");
		MEAS("等效直径", round(pneumonia_diameter(l)), "mm");
		MEAS("圆度", round(l->roundness * 100.0) / 100.0, "");
#undef MEAS
		al.nmeas = (size_t)m;
		al.box.slice = l->key_slice;
		al.box.x0 = l->x0;
		al.box.y0 = l->y0;
		al.box.x1 = l->x1;
		al.box.y1 = l->y1;
		al.confidence = l->confidence;
		if (ai_result_add_lesion(out, &al) == NULL)
			goto fail;
		if (i < 5) {
			memset(&key, 0, sizeof(key));
			key.slice = l->key_slice;
			key.window_center = -600.0;
			key.window_width = 1500.0;
			(void)snprintf(key.caption, sizeof(key.caption),
			    "病灶%d：%.60s%.30s", al.id, l->location,
			    pneu_type_zh[l->type]);
			if (ai_result_add_key(out, &key) == -1)
				goto fail;
		}
	}
	if (ai_result_add_summary(out, "病灶数", (double)r->count, "") == -1 ||
	    ai_result_add_summary(out, "肺炎疑似程度", r->likelihood.level,
	    "级") == -1 ||
	    ai_result_add_summary(out, "病灶总体积",
	    round(r->involved_ml * 100.0) / 100.0, "cm³") == -1 ||
	    ai_result_add_summary(out, "全肺受累比例",
	    round(r->involved_pct * 100.0) / 100.0, "%") == -1 ||
	    ai_result_add_summary(out, "坠积性密度（未计入）",
	    round(r->dependent_ml * 100.0) / 100.0, "cm³") == -1)
		goto fail;
	if (r->lobes_known) {
		if (ai_result_add_summary(out, "CT严重程度评分", r->severity,
		    "/25") == -1)
			goto fail;
		for (s = LOBE_RUL; s < LOBE__MAX; s++) {
			char	 nm[AI_NAME_MAX];

			(void)snprintf(nm, sizeof(nm), "%s受累比例", lobe_zh[s]);
			if (ai_result_add_summary(out, nm,
			    round(r->lobe[s].pct * 100.0) / 100.0, "%") == -1)
				goto fail;
			(void)snprintf(nm, sizeof(nm), "%s评分", lobe_zh[s]);
			if (ai_result_add_summary(out, nm, r->lobe[s].score,
			    "") == -1)
				goto fail;
		}
	}
	if (ai_text_append(&me, &ml, "本例疑似程度：%s（%d级），依据：%s。",
	    r->likelihood.zh, r->likelihood.level, r->likelihood.why) == -1)
		goto fail;
	(void)v;
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

/*
 * The result's regions (sql/034): the lobes (or lungs) and each lesion
 * by its 病灶 number, its ground glass and its consolidation apart
 * (PNEU_REGION()).  Returns 0, or -1 when out of memory.
 */
static int
pneumonia_masks(const struct pneu_result *r, const struct anatomy *an,
    const struct series_volume *v, struct ai_result *res)
{
	json_t	*legend;
	uint8_t	*lab = NULL;
	char	 name[48], *txt;
	size_t	 n, i, *count = NULL;
	int	 l, rc = -1;

	n = (size_t)v->nx * v->ny * v->nz;
	if ((legend = json_array()) == NULL ||
	    (count = calloc(256, sizeof(*count))) == NULL ||
	    reader_masks_lungs(an, v, &lab, legend) == -1)
		goto out;
	if (r->regions != NULL)
		for (i = 0; i < n; i++)
			if (r->regions[i] != 0) {
				lab[i] = r->regions[i];
				count[r->regions[i]]++;
			}
	for (i = 0; i < r->count && i < PNEU_REGIONS_MAX; i++)
		for (l = 0; l < 2; l++) {
			if (count[PNEU_REGION(i, l)] == 0)
				continue;
			(void)snprintf(name, sizeof(name), "病灶%zu%s", i + 1,
			    l ? "实变" : "磨玻璃影");
			if (masks_legend_add(legend, PNEU_REGION(i, l), name,
			    l ? MASKS_CONSOLIDATION : MASKS_GGO, (int)i) == -1)
				goto out;
		}
	if ((txt = json_dumps(legend, JSON_COMPACT)) == NULL)
		goto out;
	rc = ai_result_set_masks(res, lab, v->nx, v->ny, v->nz, txt);
	lab = NULL;
	free(txt);
out:
	free(lab);
	free(count);
	json_decref(legend);
	return rc;
}

static int
pneumonia_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct anatomy_cache	*own = NULL;
	const struct anatomy	*an = NULL;
	struct pneu_result	 r;
	int			 ret;

	memset(&r, 0, sizeof(r));
	if ((ret = reader_chest_lungs(ctx, v, "肺炎辅助诊断", "pneumonia",
	    &own, &an, err, errlen)) != 0)
		goto out;
	ret = -1;
	if (pneumonia_detect(ctx->compute, v, an, &r, err, errlen) == -1)
		goto out;
	log_info("series %lld: pneumonia: %zu lesion(s), %.1f mL (%.2f %%),"
	    " severity %d, likelihood %d, %.2f s", ctx->series_id, r.count,
	    r.involved_ml, r.involved_pct, r.severity, r.likelihood.level,
	    r.seconds);
	if (pneumonia_to_ai(&r, an, v, res) == -1 ||
	    pneumonia_masks(&r, an, v, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	pneumonia_result_free(&r);
	anatomy_cache_free(own);
	return ret;
}

const struct reader_impl pneumonia_reader = {
	.id = READER_CT_PNEUMONIA,
	.check = pneumonia_check,
	.run = pneumonia_run,
};
