/*
 * tb.c - the tuberculosis reader of chest films (tb.h).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "film.h"
#include "log.h"
#include "matcher.h"
#include "plane.h"
#include "reader.h"
#include "series.h"
#include "tb.h"

const char *const tb_type_zh[TB_TYPE__MAX] = {
	"斑片影", "结节影", "纤维条索影", "钙化灶", "胸腔积液", "空洞"
};

static const char *const zone_zh[TB_ZONE__MAX] = { "上", "中", "下" };

const char *const tb_feature_names[TB_NFEAT] = {
	"upper_excess", "upper_texture"
};

/*
 * The image score's logistic model: weights of the features above and
 * the intercept.  Fitted (maximum likelihood, a ridge of 0.1) on the 60
 * films of ../shared/data/dr/tb, the set it is measured on: tbeval says
 * so, and prints the leave-one-out figure beside.
 */
const double tb_weights[TB_NFEAT + 1] = {
	11.61, 45.61, -1.795
};

#define WORK	256		/* working pixels across the longer side */

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
tb_score(const double *f, const double *w)
{
	double	 z = w[TB_NFEAT];
	int	 i;

	for (i = 0; i < TB_NFEAT; i++)
		z += w[i] * f[i];
	return 1.0 / (1.0 + exp(-z));
}

void
tb_result_free(struct tb_result *r)
{
	free(r->lesions);
	free(r->lungs);
	memset(r, 0, sizeof(*r));
}

/* The median of the n values of v where m (may be NULL) equals want;
 * NAN when none.  Sorts a copy. */
static double
masked_median(const float *v, const unsigned char *m, int want, size_t n,
    const int *rows, int w)
{
	float	*s;
	size_t	 i, k = 0;
	double	 r;

	if ((s = malloc(sizeof(*s) * n)) == NULL)
		return NAN;
	for (i = 0; i < n; i++)
		if ((m == NULL || m[i] == want) && (rows == NULL ||
		    ((int)(i / (size_t)w) >= rows[0] &&
		    (int)(i / (size_t)w) <= rows[1])))
			s[k++] = v[i];
	if (k == 0) {
		free(s);
		return NAN;
	}
	qsort(s, k, sizeof(*s), plane_cmp_float);
	r = s[k / 2];
	free(s);
	return r;
}

int
tb_film_check(const struct film *f, char *why, size_t sz)
{
	struct match_series	 s;
	struct match_result	 mr;
	size_t			 i, n, white = 0;
	enum film_view		 v;
	double			 c;

	/* A scanned document: mostly paper white, in the display. */
	n = (size_t)f->nx * f->ny;
	for (i = 0; i < n; i++)
		white += f->img[i] >= 0.8f;
	if (white > n * 6 / 10) {
		(void)snprintf(why, sz, "图像以白色背景为主（%.0f%%），似为扫描"
		    "文件而非X线胸片", 100.0 * (double)white / (double)n);
		return 1;
	}
	if (f->view == FILM_VIEW_LATERAL || f->view == FILM_VIEW_OTHER) {
		(void)snprintf(why, sz, "%s为%s，肺结核检测需胸部正位片"
		    "（后前位或前后位）", film_from_zh[f->view_from],
		    film_view_zh[f->view]);
		return 1;
	}
	matcher_series_init(&s);
	s.modality = f->modality;
	s.body_part = f->body_part;
	s.exam_part = f->exam_part;
	s.description = f->description;
	s.slices = 1;
	matcher_check(&s, READER_DR_TUBERCULOSIS, &mr);
	if (!mr.fits && (mr.rule == MATCH_REGION || mr.rule ==
	    MATCH_MODALITY) && strstr(mr.reason, "无法确定") == NULL) {
		(void)snprintf(why, sz, "%s", mr.reason);
		return 1;
	}
	if (f->view_from == FILM_FROM_NONE || f->view_from ==
	    FILM_FROM_IMAGE) {
		v = film_view_of_image(f, &c);
		if (v == FILM_VIEW_LATERAL) {
			(void)snprintf(why, sz, "图像未见纵隔两侧对称的双肺野"
			    "（似为侧位片或非胸部影像），肺结核检测需胸部"
			    "正位片");
			return 1;
		}
	}
	return 0;
}

/* Whether (x, y) lies in the lung prior of the side whose centre is cx
 * (working pixels of a w x h image). */
static int
in_prior(int x, int y, double cx, int w, int h)
{
	double	 u = (x - cx) / (0.24 * w), v = (y - 0.47 * h) / (0.42 * h);

	return u * u + v * v <= 1;
}

struct blob {
	int		 x0, y0, x1, y1, side;
	double		 n, sz, sx, sy, sxx, syy, sxy, sv;
};

/* The kind of a candidate opacity by its shape and brightness: small
 * and very bright a calcification, long and thin a streak, small and
 * compact a nodule, else a patch. */
static enum tb_type
blob_type(const struct blob *p)
{
	double	 cx = p->sx / p->n, cy = p->sy / p->n;
	double	 vx = p->sxx / p->n - cx * cx, vy = p->syy / p->n - cy * cy;
	double	 cxy = p->sxy / p->n - cx * cy, tr = vx + vy,
		 det = vx * vy - cxy * cxy, e1, e2, fill;

	e1 = tr / 2 + sqrt(fmax(0, tr * tr / 4 - det));
	e2 = tr / 2 - sqrt(fmax(0, tr * tr / 4 - det));
	fill = p->n / ((double)(p->x1 - p->x0 + 1) * (p->y1 - p->y0 + 1));
	if (p->sv / p->n > 0.85 && p->n < 60 && p->sz / p->n > 4)
		return TB_CALCIFICATION;
	if (sqrt(e1 / fmax(e2, 0.25)) >= 3)
		return TB_STREAK;
	if (p->n < 150 && fill >= 0.6)
		return TB_NODULE;
	return TB_PATCH;
}

static int
cmp_lesion(const void *a, const void *b)
{
	const struct tb_lesion	*x = a, *y = b;

	return x->confidence < y->confidence ? 1 :
	    x->confidence > y->confidence ? -1 : 0;
}

/* Room for the lesions of one film: four zones, two costophrenic
 * angles, the cavities. */
#define TB_CAVITIES_MAX	4
#define TB_LESIONS_MAX	(4 + 2 + TB_CAVITIES_MAX)

/* A box of working pixels (x0..x1, y0..y1) as film pixels into l. */
static void
box_to_film(const struct film *f, double scale, int x0, int y0, int x1,
    int y1, struct tb_lesion *l)
{
	int	 fx0 = f->field[0], fy0 = f->field[1];

	l->x0 = fx0 + (int)floor(x0 * scale);
	l->y0 = fy0 + (int)floor(y0 * scale);
	l->x1 = fx0 + (int)ceil((x1 + 1) * scale) - 1;
	l->y1 = fy0 + (int)ceil((y1 + 1) * scale) - 1;
	if (l->x0 < 0)
		l->x0 = 0;
	if (l->y0 < 0)
		l->y0 = 0;
	if (l->x1 >= f->nx)
		l->x1 = f->nx - 1;
	if (l->y1 >= f->ny)
		l->y1 = f->ny - 1;
}

/*
 * The costophrenic angle of one lung (side 0 the patient's right, on
 * the viewer's left; 1 the left) in ext, the lung grown without the
 * shape prior (w x h, values side + 1), whose rows run top..bot.  After
 * Armato et al., Acad Radiol 1998 (the angle of the lung contour at the
 * costophrenic point): the point P is the deepest point of the lung's
 * lateral quarter; the angle is that at P between the lateral border d
 * rows above it and the base d columns towards the middle.  A normal
 * recess is acute; fluid fills it up to a meniscus, the corner rounded
 * and raised, the angle obtuse.  Fills angle (degrees), raised (P above
 * the lowest of the base, of the lung's height), rise (the same in
 * working pixels) and the box (working pixels) of the recess.  Returns
 * 0, or -1 when the lung is too small to measure.
 */
int
tb_cp_angle(const unsigned char *ext, int w, int h, int side, int top,
    int bot, double *angle, double *raised, int *rise, int *box)
{
	int	*low, x, y, xl = w, xr = -1, px = -1, py = -1, d, lat, dir, xa,
		 xb, lowest = -1, q, ret = -1;
	double	 ax, ay, bx, by, c;

	*angle = *raised = NAN;
	*rise = 0;
	if (bot - top < 24 || (low = malloc(sizeof(*low) * (size_t)w)) ==
	    NULL)
		return -1;
	for (x = 0; x < w; x++) {
		low[x] = -1;
		for (y = h - 1; y >= top; y--)
			if (ext[(size_t)y * w + x] == side + 1) {
				low[x] = y;
				break;
			}
		if (low[x] >= 0) {
			xl = x < xl ? x : xl;
			xr = x > xr ? x : xr;
			lowest = low[x] > lowest ? low[x] : lowest;
		}
	}
	if (xr - xl < 16)
		goto out;
	/* Lateral: away from the middle; dir points to the middle. */
	lat = side == 0 ? xl : xr;
	dir = side == 0 ? 1 : -1;
	for (q = 0; q <= (xr - xl) / 4; q++) {
		x = lat + dir * q;
		if (low[x] > py) {
			py = low[x];
			px = x;
		}
	}
	d = (bot - top) / 12;
	d = d < 4 ? 4 : d;
	if (px < 0 || py - d < top)
		goto out;
	/* A: the lateral border d rows above P. */
	xa = -1;
	for (q = 0; q < w; q++) {
		x = side == 0 ? q : w - 1 - q;
		if (ext[(size_t)(py - d) * w + x] == side + 1) {
			xa = x;
			break;
		}
	}
	xb = px + dir * d;
	if (xa < 0 || xb < 0 || xb >= w || low[xb] < 0)
		goto out;
	ax = xa - px;
	ay = -d;
	bx = xb - px;
	by = low[xb] - py;
	c = (ax * bx + ay * by) / (hypot(ax, ay) * hypot(bx, by));
	*angle = acos(c < -1 ? -1 : c > 1 ? 1 : c) * 180 / M_PI;
	*raised = (double)(lowest - py) / (bot - top);
	*rise = lowest - py;
	/* The recess: from the chest wall to past P, from above the
	 * lateral border's point to the lowest of the base. */
	box[0] = side == 0 ? lat : px - 2 * d;
	box[2] = side == 0 ? px + 2 * d : lat;
	box[1] = py - 2 * d;
	box[3] = (lowest > py ? lowest : py) + d / 2;
	box[0] = box[0] < 0 ? 0 : box[0];
	box[1] = box[1] < 0 ? 0 : box[1];
	box[2] = box[2] >= w ? w - 1 : box[2];
	box[3] = box[3] >= h ? h - 1 : box[3];
	ret = 0;
out:
	free(low);
	return ret;
}

/*
 * Whether a costophrenic angle is blunted by fluid.  An obtuse angle
 * alone is not enough: a normal recess may be shallow, seen through the
 * breast or the soft tissue of the lateral chest wall, or rounded by a
 * poor inspiration, and its contour's angle is then obtuse while the
 * recess is still the lowest of the lung's base.  Fluid in the pleural
 * space fills the recess and rises along the chest wall to a meniscus,
 * highest laterally (the meniscus sign; Blackmore et al., Radiology
 * 1996: some 200 ml blunt the lateral angle on a PA film; Armato et al.,
 * Acad Radiol 1998, measure the angle on the contour), so the point of
 * the angle lies above the lowest of the base.  Both are asked: the
 * angle TB_CP_BLUNT or more, and its point TB_CP_RISE working pixels or
 * more above the base's lowest (one pixel is the contour's own step).
 */
int
tb_cp_blunted(double angle, int rise)
{
	return angle >= TB_CP_BLUNT && rise >= TB_CP_RISE;
}

int
tb_detect(const struct film *f, struct tb_result *r, char *err,
    size_t errlen)
{
	int	 fx0 = f->field[0], fy0 = f->field[1];
	int	 fw = f->field[2] - fx0 + 1, fh = f->field[3] - fy0 + 1;
	int	 w, h, x, y, i, j, n, side, xmid = 0, ncomp, best[2], top[2],
		 bot[2], rows[2];
	size_t	 tot, k, sizes[4096];
	float	*g = NULL, *a = NULL, *b = NULL, *tmp = NULL, *res = NULL;
	float	*lo = NULL;
	int	*lab = NULL, *stack = NULL;
	unsigned char *m = NULL, *lung = NULL, *cand = NULL;
	struct blob *bl = NULL, *cb = NULL;
	double	 bt[5], scale, t, p2, p98, prof, bestp, noise, area[2],
		 mediast, c0, t0 = now_s();
	int	 ret = -1, cp_box[2][4], cp_ok[2] = { 0, 0 }, ncav = 0,
		 cp_rise[2] = { 0, 0 };
	double	 cp_thr[2];
	unsigned char *ext = NULL;
	struct tb_lesion cav[TB_CAVITIES_MAX];

	memset(r, 0, sizeof(*r));
	if (fw < 64 || fh < 64) {
		(void)snprintf(err, errlen, "曝光区域过小（%d×%d像素），无法"
		    "识别肺野", fw, fh);
		return 1;
	}
	scale = (double)(fw > fh ? fw : fh) / WORK;
	w = (int)(fw / scale);
	h = (int)(fh / scale);
	if (w < 32)
		w = 32;
	if (h < 32)
		h = 32;
	tot = (size_t)w * h;
	if ((g = malloc(sizeof(*g) * tot)) == NULL ||
	    (a = malloc(sizeof(*a) * tot)) == NULL ||
	    (b = malloc(sizeof(*b) * tot)) == NULL ||
	    (lo = malloc(sizeof(*lo) * tot)) == NULL ||
	    (res = malloc(sizeof(*res) * tot)) == NULL ||
	    (tmp = malloc(sizeof(*tmp) * tot)) == NULL ||
	    (lab = malloc(sizeof(*lab) * tot)) == NULL ||
	    (stack = malloc(sizeof(*stack) * (tot * 4 + 4))) == NULL ||
	    (m = calloc(tot, 1)) == NULL ||
	    (lung = calloc(tot, 1)) == NULL ||
	    (cand = calloc(tot, 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The field, area-averaged to w x h. */
	plane_area_average(f->img, f->nx, fx0, fy0, fw, fh, a, w, h);
	/* Contrast stretched from the 2nd to the 98th percentile. */
	memcpy(b, a, sizeof(*b) * tot);
	qsort(b, tot, sizeof(*b), plane_cmp_float);
	p2 = b[tot / 50];
	p98 = b[tot - 1 - tot / 50];
	if (p98 - p2 < 0.02) {
		(void)snprintf(err, errlen, "图像几乎无对比，无法识别肺野");
		ret = 1;
		goto out;
	}
	for (k = 0; k < tot; k++) {
		double	 v = (a[k] - p2) / (p98 - p2);

		a[k] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
	}
	plane_blur(a, g, tmp, w, h, 1.5);
	/* The mediastinum: the brightest column of the middle band. */
	bestp = -1;
	for (x = (w * 35) / 100; x <= (w * 65) / 100; x++) {
		prof = 0;
		for (y = (h * 25) / 100; y <= (h * 65) / 100; y++)
			prof += g[(size_t)y * w + x];
		if (prof > bestp) {
			bestp = prof;
			xmid = x;
		}
	}
	/* The lung fields: darker than Otsu's threshold inside the prior,
	 * the largest component of each side, filled row by row. */
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			m[(size_t)y * w + x] = in_prior(x, y, xmid - 0.23 * w,
			    w, h) || in_prior(x, y, xmid + 0.23 * w, w, h);
	/* Otsu's threshold in five bands of rows, interpolated between
	 * their middles: the lower lungs lie behind more soft tissue. */
	for (i = 0; i < 5; i++) {
		int	 ya = (h * i) / 5, yb = (h * (i + 1)) / 5;

		memset(cand, 0, tot);
		for (k = (size_t)ya * w; k < (size_t)yb * w; k++)
			cand[k] = m[k];
		bt[i] = plane_otsu(g, cand, tot);
	}
	for (y = 0; y < h; y++) {
		double	 q = (y + 0.5) / h * 5 - 0.5;
		int	 q0 = q < 0 ? 0 : q >= 4 ? 3 : (int)q;

		q = q < 0 ? 0 : q > 4 ? 4 : q;
		t = bt[q0] + (q - q0) * (bt[q0 + 1] - bt[q0]);
		for (x = 0; x < w; x++) {
			k = (size_t)y * w + x;
			/* 1: darker than the lungs' threshold; 2: as dark
			 * as air, under half of it. */
			cand[k] = g[k] < t * 0.5 ? 2 : g[k] < t;
			res[k] = (float)t;
		}
	}
	/* The darkest that reaches the film's edge is air outside the
	 * body: it and three pixels about it are not lung. */
	for (k = 0; k < tot; k++)
		b[k] = cand[k] == 2;
	for (k = 0; k < tot; k++)
		cand[k] = b[k] != 0;
	ncomp = plane_components(cand, 1, w, h, lab, stack, sizes, 4096);
	{
		unsigned char	*edge = plane_border_labels(lab, ncomp, w, h);

		if (edge == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto out;
		}
		edge[0] = 0;
		for (k = 0; k < tot; k++)
			b[k] = edge[lab[k]] != 0;
		free(edge);
		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++) {
				int	 near = 0;

				k = (size_t)y * w + x;
				for (j = y - 3; j <= y + 3 && !near; j++)
					for (i = x - 3; i <= x + 3; i++)
						if (j >= 0 && j < h && i >= 0 &&
						    i < w && b[(size_t)j * w +
						    i] != 0) {
							near = 1;
							break;
						}
				/* Where the lungs may grow: in the prior,
				 * off the air, a little above the threshold
				 * (the lower lungs behind soft tissue). */
				cand[k] = m[k] && !near && g[k] < res[k] +
				    0.06;
				m[k] = m[k] && g[k] < res[k] && !near;
			}
	}
	ncomp = plane_components(m, 1, w, h, lab, stack, sizes, 4096);
	for (side = 0; side < 2; side++) {
		size_t	 cnt[4096] = { 0 };

		best[side] = 0;
		for (k = 0; k < tot; k++)
			if (lab[k] > 0 && lab[k] < 4096 &&
			    ((int)(k % (size_t)w) < xmid) == (side == 0))
				cnt[lab[k]]++;
		for (i = 1; i <= ncomp && i < 4096; i++)
			if (cnt[i] > cnt[best[side]])
				best[side] = i;
	}
	/* Each side's largest, grown for 12 steps into its allowed
	 * neighbours (region growing from the dark core). */
	for (k = 0; k < tot; k++)
		for (side = 0; side < 2; side++)
			if (best[side] != 0 && lab[k] == best[side] &&
			    ((int)(k % (size_t)w) < xmid) == (side == 0))
				lung[k] = (unsigned char)(side + 1);
	for (n = 0; n < 12; n++) {
		for (y = 1; y < h - 1; y++)
			for (x = 1; x < w - 1; x++) {
				k = (size_t)y * w + x;
				if (lung[k] || !cand[k])
					continue;
				for (side = 0; side < 2; side++)
					if ((x < xmid) == (side == 0) &&
					    (lung[k - 1] == side + 1 ||
					    lung[k + 1] == side + 1 ||
					    lung[k - w] == side + 1 ||
					    lung[k + w] == side + 1))
						lung[k] = (unsigned char)(side +
						    11);
			}
		for (k = 0; k < tot; k++)
			if (lung[k] > 10)
				lung[k] -= 10;
	}
	memcpy(cand, lung, tot);
	memset(lung, 0, tot);
	for (side = 0; side < 2; side++) {
		top[side] = h;
		bot[side] = -1;
		area[side] = 0;
		if (best[side] == 0)
			continue;
		for (y = 0; y < h; y++) {
			int	 l = -1, rr = -1;

			for (x = 0; x < w; x++)
				if (cand[(size_t)y * w + x] == side + 1) {
					if (l < 0)
						l = x;
					rr = x;
				}
			if (l < 0)
				continue;
			top[side] = y < top[side] ? y : top[side];
			bot[side] = y;
			for (x = l; x <= rr; x++) {
				lung[(size_t)y * w + x] = (unsigned char)(side +
				    1);
				area[side]++;
			}
		}
	}
	r->lung_frac[0] = area[0] / (double)tot;
	r->lung_frac[1] = area[1] / (double)tot;
	if (r->lung_frac[0] < 0.02 || r->lung_frac[1] < 0.02 ||
	    r->lung_frac[0] + r->lung_frac[1] < 0.08) {
		(void)snprintf(err, errlen, "未能在图像中识别双肺野（右%.0f%%、"
		    "左%.0f%%），可能不是完整的胸部正位片", 100 *
		    r->lung_frac[0], 100 * r->lung_frac[1]);
		ret = 1;
		goto out;
	}
	/*
	 * The costophrenic angles.  The shape prior holds the lung fields
	 * above inside ellipses, which round every recess; each lung is
	 * grown again here, for 24 steps and without the prior, into the
	 * pixels of its lower half darker than halfway between its middle
	 * zone and the tissue under its base (the diaphragm and what lies
	 * below), not air outside the body (b); its angle is measured on
	 * that contour (cp_angle()).
	 */
	if ((ext = malloc(tot)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (side = 0; side < 2; side++) {
		double	 lowz, under;
		int	 lx = w, rx = -1;

		cp_thr[side] = -1;
		if (best[side] == 0 || bot[side] + 4 >= h)
			continue;
		rows[0] = top[side] + (bot[side] - top[side]) / 3;
		rows[1] = top[side] + 2 * (bot[side] - top[side]) / 3;
		lowz = masked_median(g, lung, side + 1, tot, rows, w);
		for (k = 0; k < tot; k++)
			if (lung[k] == side + 1) {
				x = (int)(k % (size_t)w);
				lx = x < lx ? x : lx;
				rx = x > rx ? x : rx;
			}
		memset(ext, 0, tot);
		for (y = bot[side] + 3; y < h && y <= bot[side] + 12; y++)
			for (x = lx; x <= rx; x++)
				ext[(size_t)y * w + x] = 1;
		under = masked_median(g, ext, 1, tot, NULL, w);
		if (isfinite(lowz) && isfinite(under) && under > lowz)
			cp_thr[side] = (lowz + under) / 2;
	}
	/* The lung field's lower half kept where it is that dark (the
	 * prior lets it reach below the diaphragm), the largest piece of
	 * each side. */
	for (k = 0; k < tot; k++) {
		y = (int)(k / (size_t)w);
		side = lung[k] - 1;
		ext[k] = lung[k] != 0 && (y < (top[side] + bot[side]) / 2 ||
		    (cp_thr[side] > 0 && g[k] < cp_thr[side])) ? lung[k] : 0;
	}
	for (side = 0; side < 2; side++) {
		size_t	 big = 0, cnt[4096] = { 0 };
		int	 keep = 0;

		n = plane_components(ext, side + 1, w, h, lab, stack, sizes, 4096);
		for (k = 0; k < tot; k++)
			if (lab[k] > 0 && lab[k] < 4096)
				cnt[lab[k]]++;
		for (i = 1; i <= n && i < 4096; i++)
			if (cnt[i] > big) {
				big = cnt[i];
				keep = i;
			}
		for (k = 0; k < tot; k++)
			if (ext[k] == side + 1 && lab[k] != keep)
				ext[k] = 0;
	}
	for (n = 0; n < 24; n++) {
		for (y = 1; y < h - 1; y++)
			for (x = 1; x < w - 1; x++) {
				k = (size_t)y * w + x;
				side = x < xmid ? 0 : 1;
				if (ext[k] || g[k] >= cp_thr[side] || b[k] != 0 ||
				    top[side] >= h || y < (top[side] +
				    bot[side]) / 2)
					continue;
				if (ext[k - 1] == side + 1 || ext[k + 1] ==
				    side + 1 || ext[k - w] == side + 1 ||
				    ext[k + w] == side + 1)
					ext[k] = (unsigned char)(side + 11);
			}
		for (k = 0; k < tot; k++)
			if (ext[k] > 10)
				ext[k] -= 10;
	}
	for (side = 0; side < 2; side++) {
		r->cp_angle[side] = r->cp_raised[side] = NAN;
		if (best[side] != 0 && cp_thr[side] > 0)
			cp_ok[side] = tb_cp_angle(ext, w, h, side, top[side],
			    bot[side], &r->cp_angle[side],
			    &r->cp_raised[side], &cp_rise[side],
			    cp_box[side]) == 0;
	}
	/* The lungs' smooth background: a Gaussian of the lung only,
	 * normalised by the Gaussian of the mask (sigma 8 working pixels,
	 * 1/32 of the film). */
	for (k = 0; k < tot; k++) {
		b[k] = lung[k] ? g[k] : 0;
		res[k] = lung[k] ? 1 : 0;
	}
	plane_blur(b, lo, tmp, w, h, 8);
	plane_blur(res, b, tmp, w, h, 8);
	for (k = 0; k < tot; k++)
		res[k] = lung[k] && b[k] > 1e-3 ? g[k] - lo[k] / b[k] : 0;
	/* The lung's noise: the MAD of the residual. */
	for (k = 0, n = 0; k < tot; k++)
		if (lung[k])
			b[n++] = fabsf(res[k]);
	qsort(b, (size_t)n, sizeof(*b), plane_cmp_float);
	noise = 1.4826 * b[n / 2];
	if (noise < 1e-3)
		noise = 1e-3;
	/* Candidates: more than 2.5 noise units above the background,
	 * away from the lung's edge (two pixels in). */
	memset(cand, 0, tot);
	for (y = 2; y < h - 2; y++)
		for (x = 2; x < w - 2; x++) {
			k = (size_t)y * w + x;
			cand[k] = lung[k] && lung[k - 2] == lung[k] &&
			    lung[k + 2] == lung[k] && lung[k - 2 * w] ==
			    lung[k] && lung[k + 2 * w] == lung[k] &&
			    res[k] > 2.5 * noise;
		}
	ncomp = plane_components(cand, 1, w, h, lab, stack, sizes, 4096);
	if (ncomp > 4095)
		ncomp = 4095;
	if ((bl = calloc((size_t)ncomp + 1, sizeof(*bl))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 1; i <= ncomp; i++) {
		bl[i].x0 = w;
		bl[i].y0 = h;
		bl[i].x1 = bl[i].y1 = -1;
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			struct blob	*p;

			k = (size_t)y * w + x;
			if (lab[k] <= 0 || lab[k] > ncomp)
				continue;
			p = &bl[lab[k]];
			p->side = lung[k] - 1;
			p->x0 = x < p->x0 ? x : p->x0;
			p->x1 = x > p->x1 ? x : p->x1;
			p->y0 = y < p->y0 ? y : p->y0;
			p->y1 = y > p->y1 ? y : p->y1;
			p->n++;
			p->sz += res[k] / noise;
			p->sx += x;
			p->sy += y;
			p->sxx += (double)x * x;
			p->syy += (double)y * y;
			p->sxy += (double)x * y;
			p->sv += g[k];
		}
	/*
	 * Cavities: in the upper zone of each lung, a compact lucency (a
	 * noise unit and more below the lung's smooth background, 6 to
	 * 600 working pixels, at most 1.5 times as long as wide) whose
	 * surround, a band from just outside it to twice its radius, holds
	 * opacity (a noise unit above the background) in at least 10 of
	 * 12 sectors about its centre: a wall all round, where a space
	 * between two ribs is walled above and below only.  The lung's
	 * noise here is mostly its ribs, hence one unit, not more.
	 * Thresholds set on the phantom (phantom_chest_tb), not on the
	 * films measured, except the length: a cavity is a round or oval
	 * gas-filled space within a consolidation or nodule (Fleischner
	 * glossary, Hansell et al. 2008), where the space between two ribs,
	 * or between a rib and the clavicle that crosses it, is a lucency
	 * long along the bones that wall it; the normal films' false
	 * cavities of dr/tb were 1.7 to 2.4 times as long as wide, the
	 * phantom's 1.25, hence 1.5 (3:2), set on those films.
	 */
	memset(cand, 0, tot);
	for (y = 2; y < h - 2; y++)
		for (x = 2; x < w - 2; x++) {
			k = (size_t)y * w + x;
			side = lung[k] - 1;
			cand[k] = lung[k] && y < top[side] + (bot[side] -
			    top[side]) / 3 && lung[k - 2] == lung[k] &&
			    lung[k + 2] == lung[k] && lung[k - 2 * w] ==
			    lung[k] && lung[k + 2 * w] == lung[k] &&
			    res[k] < -1.0 * noise;
		}
	j = plane_components(cand, 1, w, h, lab, stack, sizes, 4096);
	if (j > 4095)
		j = 4095;
	if ((cb = calloc((size_t)j + 1, sizeof(*cb))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			struct blob	*p;

			k = (size_t)y * w + x;
			if (lab[k] <= 0 || lab[k] > j)
				continue;
			p = &cb[lab[k]];
			p->side = lung[k] - 1;
			p->n++;
			p->sx += x;
			p->sy += y;
			p->sxx += (double)x * x;
			p->syy += (double)y * y;
			p->sxy += (double)x * y;
		}
	for (i = 1; i <= j; i++) {
		struct blob	*p = &cb[i];
		double		 cx, cy, vx, vy, cxy, tr, det, e1, e2, req,
				 smax[12], ring = 0, nring = 0, dd, an;
		int		 walled = 0, sec, rr, xx, yy;

		if (p->n < 6 || p->n > 600)
			continue;
		cx = p->sx / p->n;
		cy = p->sy / p->n;
		vx = p->sxx / p->n - cx * cx;
		vy = p->syy / p->n - cy * cy;
		cxy = p->sxy / p->n - cx * cy;
		tr = vx + vy;
		det = vx * vy - cxy * cxy;
		e1 = tr / 2 + sqrt(fmax(0, tr * tr / 4 - det));
		e2 = tr / 2 - sqrt(fmax(0, tr * tr / 4 - det));
		if (sqrt(e1 / fmax(e2, 0.25)) > 1.5)
			continue;
		req = sqrt(p->n / M_PI);
		rr = (int)ceil(2 * req + 3);
		for (sec = 0; sec < 12; sec++)
			smax[sec] = -INFINITY;
		for (yy = (int)cy - rr; yy <= (int)cy + rr; yy++)
			for (xx = (int)cx - rr; xx <= (int)cx + rr; xx++) {
				if (xx < 0 || yy < 0 || xx >= w || yy >= h)
					continue;
				k = (size_t)yy * w + xx;
				dd = hypot(xx - cx, yy - cy);
				if (dd < req + 1 || dd > 2 * req + 3 ||
				    lung[k] != p->side + 1)
					continue;
				an = atan2(yy - cy, xx - cx) + M_PI;
				sec = (int)(an / (2 * M_PI) * 12) % 12;
				smax[sec] = fmax(smax[sec], res[k]);
				if (res[k] > 0) {
					ring += res[k];
					nring++;
				}
			}
		for (sec = 0; sec < 12; sec++)
			walled += smax[sec] > 1.0 * noise;
		if (walled < 10)
			continue;
		/* The largest ones are kept. */
		if (ncav == TB_CAVITIES_MAX) {
			int	 q, least = 0;

			for (q = 1; q < ncav; q++)
				if (cav[q].diameter < cav[least].diameter)
					least = q;
			if (cav[least].diameter >= 2 * req * scale)
				continue;
			ncav--;
			cav[least] = cav[ncav];
		}
		{
			struct tb_lesion *l = &cav[ncav++];
			int		  z, e = (int)ceil(2 * req + 2);

			memset(l, 0, sizeof(*l));
			l->type = TB_CAVITY;
			l->side = p->side;
			l->zone = TB_ZONE_UPPER;
			box_to_film(f, scale, (int)cx - e, (int)cy - e,
			    (int)cx + e, (int)cy + e, l);
			l->area_frac = p->n / area[p->side];
			l->contrast = nring ? ring / nring / noise : 0;
			l->diameter = 2 * req * scale;
			l->walled = walled;
			/* 10 sectors 0.6, 11 0.75, 12 0.9. */
			l->confidence = 0.6 + 0.15 * (walled - 10);
			z = TB_ZONE_UPPER;
			(void)snprintf(l->location, sizeof(l->location),
			    "%s%s肺野", p->side == 0 ? "右" : "左", zone_zh[z]);
		}
	}
	/* The features of the film. */
	mediast = 0;
	for (y = (h * 25) / 100; y <= (h * 65) / 100; y++)
		mediast += g[(size_t)y * w + xmid];
	mediast /= (h * 65) / 100 - (h * 25) / 100 + 1;
	c0 = 0;
	for (i = 1; i <= ncomp; i++)
		if (bl[i].n >= 6)
			c0 += bl[i].sz;
	for (side = 0; side < 2; side++) {
		int	 z;

		for (z = 0; z < 2; z++) {
			rows[0] = z ? top[side] + 2 * (bot[side] - top[side]) /
			    3 : top[side];
			rows[1] = z ? bot[side] : top[side] + (bot[side] -
			    top[side]) / 3;
			r->aux[z * 2 + side] = masked_median(g, lung, side + 1,
			    tot, rows, w);
		}
		r->aux[5 + side] = (bot[side] - top[side]) / (double)h;
		r->aux[9 + side] = area[side] / (double)tot;
	}
	r->aux[4] = mediast;
	{
		double	 tu = 0, tl = 0, nu = 0, nl = 0;

		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++) {
				k = (size_t)y * w + x;
				if (!lung[k])
					continue;
				side = lung[k] - 1;
				if (y < top[side] + (bot[side] - top[side]) / 3) {
					tu += fabsf(res[k]);
					nu++;
				} else if (y > top[side] + 2 * (bot[side] -
				    top[side]) / 3) {
					tl += fabsf(res[k]);
					nl++;
				}
			}
		r->aux[7] = nu ? tu / nu : 0;
		r->aux[8] = nl ? tl / nl : 0;
	}
	/* The features: the upper zone's excess density over the lower
	 * zone of the same lung, the larger of the two sides (TB prefers
	 * the upper zones), and the upper zones' texture (the mean
	 * absolute residual over the lung's smooth background). */
	r->feat[0] = fmax(r->aux[0] - r->aux[2], r->aux[1] - r->aux[3]);
	r->feat[1] = r->aux[7];
	r->burden = c0 / (area[0] + area[1]);
	r->score = tb_score(r->feat, tb_weights);
	r->positive = r->score >= TB_THRESHOLD;
	/*
	 * The lesions: the upper and middle zones of each lung scored by
	 * the image's model on the zone's own figures (its excess density
	 * over the lower zone of the same lung, its texture); a zone of
	 * score TB_THRESHOLD or more is boxed over its lung field, and its
	 * kind is that of the largest candidate opacity in it (patches by
	 * default).  The lower zones have no reference of their own and are
	 * not boxed.
	 */
	if ((r->lesions = calloc(TB_LESIONS_MAX, sizeof(*r->lesions))) ==
	    NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (side = 0; side < 2; side++) {
		double	 third = (bot[side] - top[side] + 1) / 3.0, lowmed;
		int	 z;

		rows[0] = top[side] + (int)(2 * third);
		rows[1] = bot[side];
		lowmed = masked_median(g, lung, side + 1, tot, rows, w);
		for (z = TB_ZONE_UPPER; z <= TB_ZONE_MIDDLE; z++) {
			struct tb_lesion *l;
			double		 zf[TB_NFEAT], tex = 0, nt = 0, conf,
					 big = 0;
			int		 bx0 = w, by0 = h, bx1 = -1, by1 = -1;
			enum tb_type	 type = TB_PATCH;

			rows[0] = top[side] + (int)(z * third);
			rows[1] = top[side] + (int)((z + 1) * third) - 1;
			for (y = rows[0]; y <= rows[1]; y++)
				for (x = 0; x < w; x++) {
					k = (size_t)y * w + x;
					if (lung[k] != side + 1)
						continue;
					tex += fabsf(res[k]);
					nt++;
					bx0 = x < bx0 ? x : bx0;
					bx1 = x > bx1 ? x : bx1;
					by0 = y < by0 ? y : by0;
					by1 = y > by1 ? y : by1;
				}
			if (nt < 20)
				continue;
			zf[0] = masked_median(g, lung, side + 1, tot, rows, w) -
			    lowmed;
			zf[1] = tex / nt;
			conf = tb_score(zf, tb_weights);
			if (conf < TB_THRESHOLD)
				continue;
			for (i = 1; i <= ncomp; i++) {
				struct blob	*p = &bl[i];
				double		 cy;

				if (p->n < 6 || p->side != side)
					continue;
				cy = p->sy / p->n;
				if (cy < rows[0] || cy > rows[1] || p->n <= big)
					continue;
				big = p->n;
				type = blob_type(p);
			}
			l = &r->lesions[r->count++];
			l->type = type;
			l->side = side;
			l->zone = (enum tb_zone)z;
			l->x0 = fx0 + (int)floor(bx0 * scale);
			l->y0 = fy0 + (int)floor(by0 * scale);
			l->x1 = fx0 + (int)ceil((bx1 + 1) * scale) - 1;
			l->y1 = fy0 + (int)ceil((by1 + 1) * scale) - 1;
			if (l->x1 >= f->nx)
				l->x1 = f->nx - 1;
			if (l->y1 >= f->ny)
				l->y1 = f->ny - 1;
			l->area_frac = nt / area[side];
			l->contrast = zf[0] / noise;
			l->confidence = conf;
			/* The patient's right on the viewer's left, as a PA
			 * film is hung (Patient Orientation is not read). */
			(void)snprintf(l->location, sizeof(l->location),
			    "%s%s肺野", side == 0 ? "右" : "左", zone_zh[z]);
		}
	}
	/* A blunted costophrenic angle (tb_cp_blunted()): an effusion, its
	 * confidence from
	 * 0.6 at 90 degrees to 0.95 at 150 and more. */
	for (side = 0; side < 2; side++) {
		struct tb_lesion *l;

		if (!cp_ok[side] || !tb_cp_blunted(r->cp_angle[side],
		    cp_rise[side]))
			continue;
		l = &r->lesions[r->count++];
		l->type = TB_EFFUSION;
		l->side = side;
		l->zone = TB_ZONE_LOWER;
		box_to_film(f, scale, cp_box[side][0], cp_box[side][1],
		    cp_box[side][2], cp_box[side][3], l);
		l->angle = r->cp_angle[side];
		l->raised = r->cp_raised[side];
		l->confidence = 0.6 + 0.35 * fmin(1, (l->angle - TB_CP_BLUNT) /
		    60);
		(void)snprintf(l->location, sizeof(l->location), "%s肋膈角",
		    side == 0 ? "右" : "左");
	}
	for (i = 0; i < ncav; i++)
		r->lesions[r->count++] = cav[i];
	qsort(r->lesions, r->count, sizeof(*r->lesions), cmp_lesion);
	r->lungs = lung;
	lung = NULL;
	r->wx = w;
	r->wy = h;
	r->scale = scale;
	r->seconds = now_s() - t0;
	ret = 0;
out:
	if (ret != 0) {
		free(r->lesions);
		r->lesions = NULL;
		r->count = 0;
	}
	free(g);
	free(a);
	free(b);
	free(lo);
	free(res);
	free(tmp);
	free(lab);
	free(stack);
	free(m);
	free(lung);
	free(cand);
	free(bl);
	free(cb);
	free(ext);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The reader: its check, its run and its result.                    */

#define TB_METHOD_ZH "经典图像分析，非深度学习：胸片按DICOM显示变换（模态" \
	"LUT、VOI LUT或窗宽窗位及VOI LUT函数、MONOCHROME1反相）得到医师所见灰度，去除四周遮光" \
	"（准直）边带后缩至256像素宽；以纵隔最亮列分左右，在双肺形状先验内" \
	"按分带Otsu阈值（Otsu 1979）取暗区、去除与片缘相连的体外空气，取" \
	"每侧最大连通域并区域生长、逐行填充为肺野（阈值加形状先验的肺野" \
	"分割，参见van Ginneken 2006综述、Candemir 2014，数据见Jaeger " \
	"2014）。肺野按高度三等分为上、中、下肺野。肺结核评分为两项特征的" \
	"逻辑回归：上肺野较同侧下肺野的密度增高（取两侧较大者；肺结核好发" \
	"于上叶），及上肺野纹理（相对肺野自身平滑背景的平均残差，纹理与" \
	"左右对比思路见Jaeger 2014、Santosh 2018）；≥0.5提示肺结核可能。" \
	"同一模型用于每侧上、中肺野本身的特征，≥0.5者以该肺野范围标注" \
	"病灶序号框并给出置信度；病灶类型取框内最大的高于背景2.5倍噪声" \
	"的局灶影的形态（斑片影、结节影、纤维条索影、钙化灶）。框为肺野分区" \
	"范围，不是病灶的精确边界。左右按后前位片常规挂片（患者右侧在观片者" \
	"左侧）。另单独识别两类病灶：胸腔积液——按Armato 1998测量肋膈角" \
	"（肺野外侧缘与膈面在外侧最低点处的夹角；为此肺野下半不加形状" \
	"先验，以中肺野与膈下组织之间的阈值重新生长），须同时满足≥90°" \
	"（锐角隐窝消失）且角顶高于同侧膈面最低点（液体沿胸壁上升形成" \
	"弯月面，Blackmore 1996）方判为变钝，仅角度变钝（隐窝浅、乳腺影" \
	"重叠、吸气不足）不报，以肋膈角区域标框；空洞——上肺野内低于平滑背景的紧凑透亮区，其" \
	"外周环带12个扇区中至少10个有高于背景的壁，且长径不超过短径1.5倍" \
	"（空洞为圆形或卵圆形含气腔，Hansell 2008 Fleischner术语；肋间隙及" \
	"肋骨与锁骨交叉间的透亮区沿骨走行伸长），以透亮区为中心标框。" \
	"两者阈值在体模上设定（空洞长短径比1.5参考了下述正常胸片的假阳性），" \
	"不改变肺结核评分。"

#define TB_LIMITS_ZH "局限：肺门淋巴结肿大及粟粒影未单独识别；胸腔积液与" \
	"空洞的识别有假阳性（公开正常胸片30幅中2幅报胸腔积液、0幅报" \
	"空洞，但空洞长短径比即参考这30幅设定，非独立测试；结核胸片30幅中" \
	"仅3幅报胸腔积液、2幅报空洞），须医师逐一核对，少量积液、仅侧位片可见的后肋膈角积液及" \
	"被实变遮盖或长径超过短径1.5倍的空洞可漏检；下肺野无同侧参照，除肋膈角外不标框；" \
	"与肋骨、锁骨重叠及胸壁软组织厚者易出现假阳性，大片实变可使肺野" \
	"分割偏小而漏检；侧位片、非胸部影像及扫描文件不予分析；未读取" \
	"Patient Orientation。已发表的深度学习与商用系统" \
	"（CAD4TB、qXR）AUC约0.90–0.99（Lakhani 2017、qXR乌干达研究" \
	"0.92），经典纹理方法约0.87–0.90（Jaeger 2014），本方法明显不及。"

/* The measured figures, from tbeval (README, Validation). */
#define TB_VALIDATION_ZH "验证：以tbeval在公开胸片60幅（Shenzhen与Montgomery，" \
	"结核、正常各30，Jaeger 2014）上评分AUC 0.79（bootstrap 95%区间" \
	"0.67–0.89），阈值0.5时灵敏度70%（21/30）、特异度73%（22/30）；" \
	"评分特征与权重即在这60幅上选定和拟合，非独立测试；留一法重拟合" \
	"权重的AUC为0.74（0.60–0.86），每折内重新选特征并拟合的嵌套留一法" \
	"AUC为0.74（0.61–0.86）。TBX11K结核胸片30幅（46个医师标注框）中22框被" \
	"命中（IoU≥0.3），每幅假阳性框1.6个（其中胸腔积液与空洞框0.07个）；" \
	"正常胸片每幅0.87个框。若以胸腔积液或空洞的置信度提高评分，同一" \
	"60幅上AUC为0.80（0.68–0.91），与评分本身（0.79）相近，故未采用。数据量小，数字只供" \
	"参考。"

static enum reader_verdict
tb_check(const struct series_volume *v, char *why, size_t sz)
{
	if (strcmp(v->modality, "DX") != 0 && strcmp(v->modality, "CR") != 0 &&
	    strcmp(v->modality, "SC") != 0) {
		(void)snprintf(why, sz, "模态为%s，肺结核检测需X线胸片"
		    "（DX/CR）", v->modality[0] ? v->modality : "未知");
		return READER_REFUSES;
	}
	if (v->nz != 1) {
		(void)snprintf(why, sz, "序列含%d幅图像，肺结核检测需单幅胸部"
		    "正位片", v->nz);
		return READER_REFUSES;
	}
	return READER_FITS;
}

int
tb_to_ai(const struct tb_result *r, const struct film *f,
    struct ai_result *out)
{
	struct ai_lesion	 al;
	struct ai_key_image	 key;
	char			*fd = NULL, *cc = NULL, *me = NULL, sp[160];
	size_t			 fl = 0, cl = 0, ml = 0, i;

	film_spacing_zh(f, sp, sizeof(sp));
	if (ai_text_append(&me, &ml, "%s%s%s本片：%s为%s（%s）；%s%s%s。",
	    TB_METHOD_ZH, TB_LIMITS_ZH, TB_VALIDATION_ZH, "投照体位",
	    film_view_zh[f->view], film_from_zh[f->view_from], sp,
	    f->notes[0] ? "；" : "", f->notes) == -1 ||
	    ai_text_append(&me, &ml, "结果仅供参考，不能直接用于诊断。") == -1)
		goto fail;
	if (r->count == 0 && !r->positive) {
		if (ai_text_append(&fd, &fl, "双肺野未见明确斑片、结节及条索"
		    "影。") == -1 || ai_text_append(&cc, &cl, "AI未提示肺结核"
		    "征象（肺结核评分%.2f）。", r->score) == -1)
			goto fail;
	} else if (r->count == 0) {
		if (ai_text_append(&fd, &fl, "双肺野密度及纹理异常，未见可"
		    "定位的局灶病灶。") == -1 || ai_text_append(&cc, &cl,
		    "AI提示肺结核可能（肺结核评分%.2f），请结合临床及病原学"
		    "检查。", r->score) == -1)
			goto fail;
	} else if (ai_text_append(&fd, &fl, "%s", "") == -1 ||
	    ai_text_append(&cc, &cl, "%s", "") == -1)
		goto fail;
	for (i = 0; i < r->count; i++) {
		const struct tb_lesion	*l = &r->lesions[i];
		int			 m = 0;

		memset(&al, 0, sizeof(al));
		al.id = (int)i + 1;
		(void)snprintf(al.type, sizeof(al.type), "%s",
		    tb_type_zh[l->type]);
		(void)snprintf(al.location, sizeof(al.location), "%s",
		    l->location);
		if (l->type == TB_EFFUSION) {
			(void)snprintf(al.findings, sizeof(al.findings),
			    "%s变钝（约%.0f°），呈弧形液体密度影，考虑胸腔"
			    "积液（病灶%d）。", l->location, l->angle, al.id);
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s侧胸腔积液可能（%s变钝），请结合临床，必要时"
			    "超声检查；结核性胸膜炎需鉴别。", l->side == 0 ?
			    "右" : "左", l->location);
		} else if (l->type == TB_CAVITY) {
			(void)snprintf(al.findings, sizeof(al.findings),
			    "%s见环形壁包绕的透亮区，考虑空洞（病灶%d）。",
			    l->location, al.id);
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s空洞，考虑继发性肺结核可能（AI肺结核评分"
			    "%.2f），请结合临床及痰检。", l->location,
			    r->score);
		} else {
			(void)snprintf(al.findings, sizeof(al.findings),
			    "%s见%s（病灶%d）。", l->location,
			    tb_type_zh[l->type], al.id);
			(void)snprintf(al.conclusion, sizeof(al.conclusion),
			    "%s%s，%s（AI肺结核评分%.2f），请结合临床及痰检。",
			    l->location, tb_type_zh[l->type], l->type ==
			    TB_CALCIFICATION ? "考虑陈旧性病灶" : r->positive ?
			    "考虑肺结核可能" : "性质待定", r->score);
		}
#define MEAS(nm, val, un) do { (void)snprintf(al.meas[m].name, AI_NAME_MAX, \
	"%s", (nm)); al.meas[m].value = (val); (void)snprintf(al.meas[m].unit, \
	AI_UNIT_MAX, "%s", (un)); m++; } while (0)
		if (l->type == TB_EFFUSION) {
			MEAS("肋膈角", round(l->angle), "°");
			MEAS("肋膈角抬高", round(l->raised * 1000.0) / 10.0,
			    "%肺高");
		} else {
			MEAS("占该侧肺野面积", round(l->area_frac * 1000.0) /
			    10.0, "%");
			MEAS("对比度", round(l->contrast * 10.0) / 10.0,
			    "倍噪声");
		}
		if (l->type == TB_CAVITY && f->spacing_source != 0)
			MEAS("透亮区直径", round(l->diameter * f->spacing[0]),
			    "mm");
		else if (l->type == TB_CAVITY)
			MEAS("透亮区直径", round(l->diameter), "像素");
		if (f->spacing_source != 0) {
			MEAS("宽", round((l->x1 - l->x0 + 1) * f->spacing[0]),
			    "mm");
			MEAS("高", round((l->y1 - l->y0 + 1) * f->spacing[1]),
			    "mm");
		}
#undef MEAS
		al.nmeas = (size_t)m;
		al.box.slice = 0;
		al.box.x0 = l->x0;
		al.box.y0 = l->y0;
		al.box.x1 = l->x1;
		al.box.y1 = l->y1;
		al.confidence = round(l->confidence * 100.0) / 100.0;
		if (ai_result_add_lesion(out, &al) == NULL)
			goto fail;
	}
	memset(&key, 0, sizeof(key));
	key.slice = 0;
	key.window_center = f->window_center;
	key.window_width = f->window_width;
	(void)snprintf(key.caption, sizeof(key.caption), "胸部正位片");
	if (ai_result_add_key(out, &key) == -1 ||
	    ai_result_add_summary(out, "肺结核评分",
	    round(r->score * 100.0) / 100.0, "") == -1 ||
	    ai_result_add_summary(out, "判定阈值", TB_THRESHOLD, "") == -1 ||
	    ai_result_add_summary(out, "病灶数", (double)r->count, "") == -1 ||
	    ai_result_add_summary(out, "右肺野面积占比",
	    round(r->lung_frac[0] * 1000.0) / 10.0, "%") == -1 ||
	    ai_result_add_summary(out, "左肺野面积占比",
	    round(r->lung_frac[1] * 1000.0) / 10.0, "%") == -1)
		goto fail;
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

static int
tb_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct film		*own = NULL;
	const struct film	*f = ctx->film;
	struct tb_result	 r;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	if (f == NULL) {
		if (film_from_volume(v, &own, err, errlen) == -1)
			return -1;
		f = own;
	}
	if (tb_film_check(f, err, errlen) != 0) {
		ret = 1;
		goto out;
	}
	if ((ret = tb_detect(f, &r, err, errlen)) != 0)
		goto out;
	log_info("series %lld: tuberculosis: score %.3f, %zu box(es),"
	    " %.3f s", ctx->series_id, r.score, r.count, r.seconds);
	if (tb_to_ai(&r, f, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		ret = -1;
	}
out:
	tb_result_free(&r);
	film_free(own);
	return ret;
}

const struct reader_impl tb_reader = {
	.id = READER_DR_TUBERCULOSIS,
	.check = tb_check,
	.run = tb_run,
};
