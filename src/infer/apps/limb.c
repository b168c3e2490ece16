/*
 * limb.c - the fracture reader of limb films (limb.h).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "film.h"
#include "limb.h"
#include "log.h"
#include "matcher.h"
#include "plane.h"
#include "reader.h"
#include "series.h"

const char *const limb_type_zh[LIMB_TYPE__MAX] = {
	"骨折", "横形骨折", "斜形骨折", "粉碎性骨折"
};

/*
 * The thresholds: a lucent line 7.5 robust z above the bone's own
 * stations and 0.05 of the display range darker than the chords above
 * and below it; a cortical ridge 7.5 z and 0.075 darker; a step-off of
 * 19 % of the width; 12.5 degrees of angulation.  Set first on the
 * phantom (6 z, 0.04, 6 z, 0.06, 15 %, 10 degrees: an intact bone gives
 * no box and every drawn fracture one), then all raised together by the
 * largest factor that kept every box hit on the odd-numbered films of
 * dr/fracture (limbeval -T: 1.25), the even ones held out; the README
 * gives both halves.
 */
const struct limb_params limb_defaults = {
	.line_z = 7.5, .line_min = 0.05,
	.cortex_z = 7.5, .cortex_min = 0.075,
	.step = 0.1875, .angle = 12.5,
};

#define WORK		512	/* working pixels across the longer side */
#define MAXBONES	64
#define NPHI		25	/* chord angles, -60..60 degrees */

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The two thresholds of a three-class Otsu (Otsu 1979, extended to
 * several levels as in Liao, Chen & Chung, J Inf Sci Eng 2001) of the n
 * values of v (0..1): air, soft tissue, bone.
 */
static void
otsu3(const float *v, size_t n, double *t1, double *t2)
{
	double	 h[128] = { 0 }, P[129] = { 0 }, S[129] = { 0 }, best = -1,
		 w0, w1, w2, m0, m1, m2, b;
	size_t	 i;
	int	 k, a, c;

	for (i = 0; i < n; i++) {
		k = (int)(v[i] * 128);
		h[k < 0 ? 0 : k > 127 ? 127 : k]++;
	}
	for (k = 0; k < 128; k++) {
		P[k + 1] = P[k] + h[k];
		S[k + 1] = S[k] + k * h[k];
	}
	*t1 = 1.0 / 3;
	*t2 = 2.0 / 3;
	/* Classes [0, a), [a, c), [c, 128). */
	for (a = 1; a < 127; a++)
		for (c = a + 1; c < 128; c++) {
			w0 = P[a];
			w1 = P[c] - P[a];
			w2 = P[128] - P[c];
			if (w0 == 0 || w1 == 0 || w2 == 0)
				continue;
			m0 = S[a] / w0;
			m1 = (S[c] - S[a]) / w1;
			m2 = (S[128] - S[c]) / w2;
			b = w0 * m0 * m0 + w1 * m1 * m1 + w2 * m2 * m2;
			if (b > best) {
				best = b;
				*t1 = a / 128.0;
				*t2 = c / 128.0;
			}
		}
}

/* A grey-level square erosion (min) or dilation (max) of radius r of in
 * into out; tmp of w * h floats. */
static void
grey_morph(const float *in, float *out, float *tmp, int w, int h, int r,
    int dilate)
{
	int	 x, y, i;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			float	 v = in[(size_t)y * w + x], q;

			for (i = x - r; i <= x + r; i++) {
				if (i < 0 || i >= w)
					continue;
				q = in[(size_t)y * w + i];
				v = dilate ? (q > v ? q : v) : (q < v ? q : v);
			}
			tmp[(size_t)y * w + x] = v;
		}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			float	 v = tmp[(size_t)y * w + x], q;

			for (i = y - r; i <= y + r; i++) {
				if (i < 0 || i >= h)
					continue;
				q = tmp[(size_t)i * w + x];
				v = dilate ? (q > v ? q : v) : (q < v ? q : v);
			}
			out[(size_t)y * w + x] = v;
		}
}

/* A square dilation (max) or erosion (min) of radius r of m into out;
 * tmp of w * h bytes. */
static void
morph(const unsigned char *m, unsigned char *out, unsigned char *tmp, int w,
    int h, int r, int dilate)
{
	int	 x, y, i, v;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			v = !dilate;
			for (i = x - r; i <= x + r; i++) {
				int	 q = m[(size_t)y * w + (i < 0 ? 0 : i >=
				    w ? w - 1 : i)];

				v = dilate ? v || q : v && q;
			}
			tmp[(size_t)y * w + x] = (unsigned char)v;
		}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			v = !dilate;
			for (i = y - r; i <= y + r; i++) {
				int	 q = tmp[(size_t)(i < 0 ? 0 : i >= h ?
				    h - 1 : i) * w + x];

				v = dilate ? v || q : v && q;
			}
			out[(size_t)y * w + x] = (unsigned char)v;
		}
}

/* g at (x, y), bilinear, clamped. */
static double
samp(const float *g, int w, int h, double x, double y)
{
	int	 i, j;
	double	 fx, fy;

	x = x < 0 ? 0 : x > w - 1.001 ? w - 1.001 : x;
	y = y < 0 ? 0 : y > h - 1.001 ? h - 1.001 : y;
	i = (int)x;
	j = (int)y;
	fx = x - i;
	fy = y - j;
	return (1 - fy) * ((1 - fx) * g[(size_t)j * w + i] + fx *
	    g[(size_t)j * w + i + 1]) + fy * ((1 - fx) *
	    g[(size_t)(j + 1) * w + i] + fx * g[(size_t)(j + 1) * w + i + 1]);
}

/* Whether upper-cased s holds word w. */
static int
has(const char *s, const char *w)
{
	char	 up[600];
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	up[i] = '\0';
	return strstr(up, w) != NULL;
}

/*
 * The part a film shows and which end its top is, from the tags, the
 * descriptions and the 检查部位: limb films are hung as the patient
 * stands (the proximal end up), hands, wrists and feet with the fingers
 * or toes up (the distal end up).
 */
static enum limb_orient
part_of(const struct film *f, char *part, size_t sz)
{
	static const struct {
		const char	*word, *zh;
		enum limb_orient o;
	} parts[] = {
		{ "FINGER", "手指", LIMB_ORIENT_DISTAL_UP },
		{ "THUMB", "拇指", LIMB_ORIENT_DISTAL_UP },
		{ "指", "手指", LIMB_ORIENT_DISTAL_UP },
		{ "TOE", "足趾", LIMB_ORIENT_DISTAL_UP },
		{ "趾", "足趾", LIMB_ORIENT_DISTAL_UP },
		{ "WRIST", "腕部", LIMB_ORIENT_DISTAL_UP },
		{ "腕", "腕部", LIMB_ORIENT_DISTAL_UP },
		{ "HAND", "手", LIMB_ORIENT_DISTAL_UP },
		{ "手", "手", LIMB_ORIENT_DISTAL_UP },
		{ "FOREARM", "前臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "前臂", "前臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "FOOT", "足", LIMB_ORIENT_DISTAL_UP },
		{ "足", "足", LIMB_ORIENT_DISTAL_UP },
		{ "HUMERUS", "上臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "肱骨", "上臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "上臂", "上臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "ELBOW", "肘部", LIMB_ORIENT_PROXIMAL_UP },
		{ "肘", "肘部", LIMB_ORIENT_PROXIMAL_UP },
		{ "SHOULDER", "肩部", LIMB_ORIENT_PROXIMAL_UP },
		{ "肩", "肩部", LIMB_ORIENT_PROXIMAL_UP },
		{ "FEMUR", "大腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "THIGH", "大腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "股骨", "大腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "大腿", "大腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "KNEE", "膝部", LIMB_ORIENT_PROXIMAL_UP },
		{ "膝", "膝部", LIMB_ORIENT_PROXIMAL_UP },
		{ "TIBIA", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "FIBULA", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "胫", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "腓", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "小腿", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "ANKLE", "踝部", LIMB_ORIENT_PROXIMAL_UP },
		{ "踝", "踝部", LIMB_ORIENT_PROXIMAL_UP },
		{ "LEG", "小腿", LIMB_ORIENT_PROXIMAL_UP },
		{ "ARM", "上臂", LIMB_ORIENT_PROXIMAL_UP },
		{ "HIP", "髋部", LIMB_ORIENT_PROXIMAL_UP },
		{ "髋", "髋部", LIMB_ORIENT_PROXIMAL_UP },
	};
	const char	*src[3] = { f->body_part, f->description, f->exam_part };
	size_t		 i, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			if (has(src[k], parts[i].word)) {
				(void)snprintf(part, sz, "%s", parts[i].zh);
				return parts[i].o;
			}
	(void)snprintf(part, sz, "四肢");
	return LIMB_ORIENT_UNKNOWN;
}

int
limb_film_check(const struct film *f, char *why, size_t sz)
{
	struct match_series	 s;
	struct match_result	 mr;
	size_t			 i, n, white = 0;

	/* A scanned document: mostly paper white, in the display. */
	n = (size_t)f->nx * f->ny;
	for (i = 0; i < n; i++)
		white += f->img[i] >= 0.8f;
	if (white > n * 6 / 10) {
		(void)snprintf(why, sz, "图像以白色背景为主（%.0f%%），似为扫描"
		    "文件而非四肢X线片", 100.0 * (double)white / (double)n);
		return 1;
	}
	matcher_series_init(&s);
	s.modality = f->modality;
	s.body_part = f->body_part;
	s.exam_part = f->exam_part;
	s.description = f->description;
	s.slices = 1;
	matcher_check(&s, READER_DR_LIMB_FRACTURE, &mr);
	if (!mr.fits && (mr.rule == MATCH_REGION || mr.rule ==
	    MATCH_MODALITY) && strstr(mr.reason, "无法确定") == NULL) {
		(void)snprintf(why, sz, "%s", mr.reason);
		return 1;
	}
	return 0;
}

/* One station of a bone: its cross-section at t along the axis. */
struct station {
	int		 ok;
	double		 e0, e1, c, wd;	/* edges, centre, width (offsets
					 * along the normal) */
	double		 line, phi, cortex, k[2];
	double		 step, angle, score;
	double		 zl, zc;
	int		 used;		/* taken by a site */
	int		 waist;		/* near a narrowing: a joint */
};

/* The median of the n values of v (sorted in place). */
static double
median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The point of station t's centre line. */
#define PX(b, t, c)	((b)->cx + (t) * (b)->ax - (c) * (b)->ay)
#define PY(b, t, c)	((b)->cy + (t) * (b)->ay + (c) * (b)->ax)

/* The mean of g along the chord of half-length hl through (x, y) in
 * direction (dx, dy). */
static double
chord(const float *g, int w, int h, double x, double y, double dx,
    double dy, double hl)
{
	double	 s = 0;
	int	 n = 0, i, m = (int)ceil(hl);

	for (i = -m; i <= m; i++) {
		s += samp(g, w, h, x + i * dx * hl / m, y + i * dy * hl / m);
		n++;
	}
	return s / n;
}

/* Least-squares slope of c over stations [a, b] (ok ones), and the
 * root mean square of the residual into *rms. */
static int
slope(const struct station *st, int a, int b, double *m, double *rms)
{
	double	 sx = 0, sy = 0, sxx = 0, sxy = 0, q, r = 0;
	int	 i, n = 0;

	for (i = a; i <= b; i++) {
		if (!st[i].ok)
			continue;
		sx += i;
		sy += st[i].c;
		sxx += (double)i * i;
		sxy += i * st[i].c;
		n++;
	}
	if (n < 6 || n * sxx - sx * sx <= 0)
		return -1;
	*m = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	q = (sy - *m * sx) / n;
	for (i = a; i <= b; i++)
		if (st[i].ok)
			r += (st[i].c - q - *m * i) * (st[i].c - q - *m * i);
	*rms = sqrt(r / n);
	return 0;
}

/* The least-squares line of edge k (0: e0, 1: e1) over stations [a, b]
 * (ok ones), at station i, into *v, the residual's root mean square into
 * *rms.  0, or -1 with too few. */
static int
edge_at(const struct station *st, int a, int b, int k, int i, double *v,
    double *rms)
{
	double	 sx = 0, sy = 0, sxx = 0, sxy = 0, e, m, d, q, r = 0;
	int	 j, n = 0;

	for (j = a; j <= b; j++) {
		if (!st[j].ok)
			continue;
		e = k ? st[j].e1 : st[j].e0;
		sx += j;
		sy += e;
		sxx += (double)j * j;
		sxy += j * e;
		n++;
	}
	d = n * sxx - sx * sx;
	if (n < 4 || d <= 0)
		return -1;
	m = (n * sxy - sx * sy) / d;
	q = (sy - m * sx) / n;
	*v = q + m * i;
	for (j = a; j <= b; j++)
		if (st[j].ok) {
			e = (k ? st[j].e1 : st[j].e0) - q - m * j;
			r += e * e;
		}
	*rms = sqrt(r / n);
	return 0;
}

/* Robust z of the values v[a..b] of st (field off), into zf. */
static void
robust_z(struct station *st, int a, int b, size_t off, size_t zoff)
{
	double	*v, med, mad;
	int	 i, n = 0;

	if (b < a || (v = malloc(sizeof(*v) * (size_t)(b - a + 1))) == NULL)
		return;
	for (i = a; i <= b; i++)
		if (st[i].ok)
			v[n++] = *(double *)((char *)&st[i] + off);
	med = median(v, n);
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - med);
	mad = 1.4826 * median(v, n);
	if (mad < 0.004)
		mad = 0.004;
	for (i = a; i <= b; i++)
		*(double *)((char *)&st[i] + zoff) = st[i].ok ?
		    (*(double *)((char *)&st[i] + off) - med) / mad : 0;
	free(v);
}

struct ctx {
	const float	*g;
	const int	*lab;
	int		 w, h;
	const struct limb_params *p;
};

/* A site found on a bone, before it becomes a fracture. */
struct site {
	int		 i;		/* the station of the highest score */
	int		 il, i2;	/* its lucent line's, a second line's
					 * (-1: none) */
	double		 score;
};

/*
 * Follow bone b (label id) station by station and find its fracture
 * sites into fx (up to max), returning how many.
 */
static int
bone_sites(const struct ctx *x, struct limb_bone *b, int id, double R,
    struct limb_fracture *fx, int max, int bi)
{
	struct station	*st;
	struct site	 sites[8];
	double		*tmp, wmed, prev = 0, best, bc, phi, dx, dy, hl, a, s0,
			 s1, m1, m2;
	int		 ns, i, j, k, o, n0, n1, first = -1, last = -1, ok, d,
			 nsites = 0, win, lw, nfx = 0, mo = (int)ceil(R);

	ns = (int)floor(b->t1 - b->t0) + 1;
	if (ns < 12)
		return 0;
	if ((st = calloc((size_t)ns, sizeof(*st))) == NULL ||
	    (tmp = malloc(sizeof(*tmp) * (size_t)(ns + 2 * mo + 2))) == NULL) {
		free(st);
		return -1;
	}
	/* The cross-sections: along the normal, the run of this bone's
	 * label nearest the last station's centre. */
	for (i = 0; i < ns; i++) {
		double	 t = b->t0 + i, bd = 1e9;
		int	 in = 0, rs = 0;

		for (o = -mo; o <= mo + 1; o++) {
			int	 px = (int)lround(PX(b, t, o)),
				 py = (int)lround(PY(b, t, o)),
				 on = o <= mo && px >= 0 && py >= 0 &&
				     px < x->w && py < x->h &&
				     x->lab[(size_t)py * x->w + px] == id;
			double	 dd;

			if (on && !in) {
				rs = o;
				in = 1;
			} else if (!on && in) {
				in = 0;
				if (o - rs < 3)
					continue;
				dd = prev < rs ? rs - prev : prev > o - 1 ?
				    prev - (o - 1) : 0;
				if (dd < bd) {
					bd = dd;
					st[i].ok = 1;
					st[i].e0 = rs;
					st[i].e1 = o - 1;
				}
			}
		}
		if (st[i].ok) {
			st[i].c = (st[i].e0 + st[i].e1) / 2;
			st[i].wd = st[i].e1 - st[i].e0 + 1;
			prev = st[i].c;
			if (first < 0)
				first = i;
			last = i;
		}
	}
	if (first < 0 || last - first < 12) {
		free(st);
		free(tmp);
		return 0;
	}
	for (i = first, n0 = 0; i <= last; i++)
		if (st[i].ok)
			tmp[n0++] = st[i].wd;
	wmed = median(tmp, n0);
	b->width = wmed;
	/* Its ends touch the field's edge: a bone cut by the film. */
	for (k = 0; k < 2; k++) {
		double	 t = b->t0 + (k ? last : first), c = st[k ? last :
			    first].c, ex = PX(b, t, c), ey = PY(b, t, c);

		ok = ex < 3 || ey < 3 || ex > x->w - 4 || ey > x->h - 4;
		if (k)
			b->edge1 = ok;
		else
			b->edge0 = ok;
	}
	d = (int)lround(fmax(3, 0.12 * wmed));
	/* The lucent line and the cortices at each station. */
	for (i = first; i <= last; i++) {
		double	 t = b->t0 + i, qx, qy;

		if (!st[i].ok)
			continue;
		qx = PX(b, t, st[i].c);
		qy = PY(b, t, st[i].c);
		for (k = 0; k < 2; k++) {
			double	 e = k ? st[i].e1 : st[i].e0, hi = -1, v;
			int	 r, rn = (int)ceil(0.3 * st[i].wd);

			for (r = 1; r <= rn; r++) {
				v = samp(x->g, x->w, x->h, PX(b, t, e + (k ?
				    -r : r)), PY(b, t, e + (k ? -r : r)));
				hi = v > hi ? v : hi;
			}
			st[i].k[k] = hi;
		}
		best = -1e9;
		bc = 0;
		if (i - d < first || i + d > last || !st[i - d].ok ||
		    !st[i + d].ok)
			continue;
		for (j = 0; j < NPHI; j++) {
			phi = (-60 + 5 * j) * M_PI / 180;
			/* Across the bone, turned by phi toward its axis. */
			dx = -b->ay * cos(phi) + b->ax * sin(phi);
			dy = b->ax * cos(phi) + b->ay * sin(phi);
			hl = 0.45 * st[i].wd / cos(phi);
			s0 = chord(x->g, x->w, x->h, qx, qy, dx, dy, hl);
			s1 = (chord(x->g, x->w, x->h, PX(b, t - d,
			    st[i - d].c), PY(b, t - d, st[i - d].c), dx, dy,
			    hl) + chord(x->g, x->w, x->h, PX(b, t + d,
			    st[i + d].c), PY(b, t + d, st[i + d].c), dx, dy,
			    hl)) / 2;
			if (s1 - s0 > best) {
				best = s1 - s0;
				bc = phi * 180 / M_PI;
			}
		}
		st[i].line = best;
		st[i].phi = bc;
	}
	for (i = first + d; i <= last - d; i++) {
		if (!st[i].ok || !st[i - d].ok || !st[i + d].ok)
			continue;
		for (k = 0; k < 2; k++) {
			a = (st[i - d].k[k] + st[i + d].k[k]) / 2 - st[i].k[k];
			st[i].cortex = k == 0 || a > st[i].cortex ? a :
			    st[i].cortex;
		}
	}
	/* The ends (a half width, at least 3 stations) are left out: the
	 * bone's cross-section turns into the joint there. */
	n0 = first + (int)fmax(d + 1, 0.5 * wmed);
	n1 = last - (int)fmax(d + 1, 0.5 * wmed);
	if (n1 - n0 < 6) {
		free(st);
		free(tmp);
		return 0;
	}
	/*
	 * A joint inside the component (phalanges run together over a
	 * joint space the closing bridged): the outline narrows to under
	 * 0.7 of the width about it.  The stations within half a width of
	 * such a waist are ends of two bones, not a shaft.
	 */
	{
		int	 lw2 = (int)fmax(8, 1.5 * wmed), cnt, nh;

		for (i = n0; i <= n1; i++) {
			double	 lm;

			if (!st[i].ok)
				continue;
			cnt = 0;
			for (j = i - lw2; j <= i + lw2; j++)
				if (j >= first && j <= last && st[j].ok)
					tmp[cnt++] = st[j].wd;
			lm = median(tmp, cnt);
			if (st[i].wd >= 0.7 * lm)
				continue;
			nh = (int)fmax(d + 1, 0.5 * wmed);
			for (j = i - nh; j <= i + nh; j++)
				if (j >= 0 && j < ns)
					st[j].waist = 1;
		}
	}
	robust_z(st, n0, n1, offsetof(struct station, line),
	    offsetof(struct station, zl));
	robust_z(st, n0, n1, offsetof(struct station, cortex),
	    offsetof(struct station, zc));
	/* Step-off and angulation: the edges and the centre line either
	 * side of the station. */
	win = (int)fmax(4, 0.5 * wmed);
	lw = (int)fmax(8, 1.5 * wmed);
	for (i = n0; i <= n1; i++) {
		double	 e[2][2], wa, wb, r1, r2, rmax = fmax(1, 0.08 * wmed);
		int	 side;

		if (!st[i].ok)
			continue;
		/* Each edge's line above and below, met at the station:
		 * a tilted bone's edges agree there, a shifted one's do
		 * not. */
		/* Both only where the edges and the centre line are
		 * straight either side (a shaft, not a joint's outline or
		 * bones run together): their residual within rmax. */
		for (side = 0; side < 2; side++)
			for (k = 0; k < 2; k++)
				e[side][k] = i - 2 - win >= first && i + 2 +
				    win <= last && edge_at(st, side ? i + 2 :
				    i - 2 - win, side ? i + 2 + win : i - 2, k,
				    i, &e[side][k], &r1) == 0 && r1 <= rmax ?
				    e[side][k] : NAN;
		wa = e[0][1] - e[0][0];
		wb = e[1][1] - e[1][0];
		if (isfinite(wa) && isfinite(wb) && fabs(wb - wa) < 0.35 *
		    wmed && (e[1][0] - e[0][0]) * (e[1][1] - e[0][1]) > 0)
			st[i].step = fmin(fabs(e[1][0] - e[0][0]),
			    fabs(e[1][1] - e[0][1])) / wmed;
		if (i - 2 - lw >= first && i + 2 + lw <= last &&
		    slope(st, i - 2 - lw, i - 2, &m1, &r1) == 0 &&
		    slope(st, i + 2, i + 2 + lw, &m2, &r2) == 0 &&
		    r1 <= rmax && r2 <= rmax)
			st[i].angle = fabs(atan(m2) - atan(m1)) * 180 / M_PI;
		/* More than 45 degrees or a whole width is no break of
		 * one bone but two bones or a joint. */
		if (st[i].angle > 45)
			st[i].angle = 0;
		if (st[i].step > 1)
			st[i].step = 0;
	}
	/* The score of each station: the largest cue over its
	 * threshold. */
	for (i = n0; i <= n1; i++) {
		if (!st[i].ok || st[i].waist)
			continue;
		if (st[i].line >= x->p->line_min)
			st[i].score = fmax(st[i].score, st[i].zl /
			    x->p->line_z);
		if (st[i].cortex >= x->p->cortex_min)
			st[i].score = fmax(st[i].score, st[i].zc /
			    x->p->cortex_z);
	}
	/* A step-off or an angle alone is as often a bend, a joint or two
	 * bones run together: each counts where a lucent line or a broken
	 * cortex of half its threshold lies within half a width. */
	for (i = n0; i <= n1; i++)
		tmp[i] = 0;
	for (i = n0; i <= n1; i++) {
		double	 lc = 0, s;
		int	 nh = (int)fmax(3, 0.5 * wmed);

		if (!st[i].ok || st[i].waist)
			continue;
		for (j = i - nh; j <= i + nh; j++)
			if (j >= n0 && j <= n1 && st[j].ok)
				lc = fmax(lc, st[j].score);
		if (lc < 0.5)
			continue;
		s = fmax(st[i].step / x->p->step, st[i].angle / x->p->angle);
		tmp[i] = fmax(st[i].score, s);
	}
	for (i = n0; i <= n1; i++)
		if (st[i].ok)
			st[i].score = tmp[i] > st[i].score ? tmp[i] :
			    st[i].score;
	/*
	 * The sites: the highest station of score >= 1, then the next
	 * among the rest, each taking the stations about it (the windows
	 * of its step-off and angulation, which a break shows beside it
	 * too).  A second lucent line within two widths, beyond the
	 * first line's own reach along the axis and at least 0.4 of its
	 * contrast, makes the site comminuted: both lines in one box.
	 */
	for (;;) {
		int	 bi_ = -1, j2 = -1, rad = (int)fmax(5, lw + 2), sep,
			 il;
		double	 b2 = 0;

		best = 1;
		for (i = n0; i <= n1; i++)
			if (st[i].ok && st[i].score >= best) {
				best = st[i].score;
				bi_ = i;
			}
		if (bi_ < 0 || nsites >= (int)(sizeof(sites) /
		    sizeof(sites[0])))
			break;
		/* Its lucent line: the strongest about it. */
		il = -1;
		for (i = bi_ - rad; i <= bi_ + rad; i++)
			if (i >= n0 && i <= n1 && st[i].ok && !st[i].used &&
			    st[i].line >= x->p->line_min && st[i].zl >=
			    x->p->line_z && (il < 0 || st[i].zl > st[il].zl))
				il = i;
		if (il >= 0) {
			sep = (int)ceil(fmax(4, 0.4 * wmed) + 0.5 *
			    st[il].wd * fabs(tan(st[il].phi * M_PI / 180)));
			for (i = il - (int)(2 * wmed); i <= il + (int)(2 *
			    wmed); i++)
				if (i >= n0 && i <= n1 && abs(i - il) >= sep &&
				    st[i].ok && !st[i].used && st[i].line >=
				    x->p->line_min && st[i].zl >=
				    x->p->line_z && st[i].zl >= 0.4 *
				    st[il].zl && st[i].zl > b2 &&
				    st[i].zl >= st[i - 1].zl && st[i].zl >=
				    st[i + 1].zl) {
					b2 = st[i].zl;
					j2 = i;
				}
		}
		sites[nsites].i = bi_;
		sites[nsites].il = il;
		sites[nsites].i2 = j2;
		sites[nsites].score = best;
		nsites++;
		for (i = bi_ - rad; i <= bi_ + rad; i++)
			if (i >= 0 && i < ns) {
				st[i].score = 0;
				st[i].used = 1;
			}
		if (j2 >= 0)
			for (i = j2 - rad; i <= j2 + rad; i++)
				if (i >= 0 && i < ns) {
					st[i].score = 0;
					st[i].used = 1;
				}
	}
	for (k = 0; k < nsites && nfx < max; k++) {
		struct limb_fracture	*f = &fx[nfx];
		struct station		*s = &st[sites[k].il >= 0 ?
					    sites[k].il : sites[k].i];
		double			 ta, tb, ha, xs[4], ys[4], lo, hi, fr;
		int			 ia, ib, c, nh = (int)fmax(3, 0.5 * wmed);

		memset(f, 0, sizeof(*f));
		f->bone = bi;
		f->score = sites[k].score;
		f->confidence = 1 - 0.5 * exp(-(f->score - 1) * 2);
		if (sites[k].il >= 0) {
			f->cues |= LIMB_CUE_LINE;
			f->line_z = s->zl;
			f->line_angle = s->phi;
		}
		/* The other cues: their largest about the site (a cortex
		 * within half a width). */
		for (i = sites[k].i - nh; i <= sites[k].i + nh; i++) {
			if (i < n0 || i > n1 || !st[i].ok)
				continue;
			if (st[i].cortex >= x->p->cortex_min && st[i].zc >=
			    x->p->cortex_z) {
				f->cues |= LIMB_CUE_CORTEX;
				f->cortex_z = fmax(f->cortex_z, st[i].zc);
			}
			/* Step-off and angulation at the site only: their
			 * windows straddle it, and a step beside them
			 * reads as an angle. */
			if (abs(i - sites[k].i) > 2)
				continue;
			if (st[i].step >= x->p->step) {
				f->cues |= LIMB_CUE_STEP;
				f->step = fmax(f->step, st[i].step);
			}
			if (st[i].angle >= x->p->angle) {
				f->cues |= LIMB_CUE_ANGLE;
				f->angulation = fmax(f->angulation,
				    st[i].angle);
			}
		}
		if (sites[k].i2 >= 0)
			f->type = LIMB_COMMINUTED;
		else if (f->cues & LIMB_CUE_LINE)
			/* AO/OTA 2018 (Meinberg et al.): transverse under
			 * 30 degrees from the perpendicular to the axis,
			 * oblique from 30. */
			f->type = fabs(s->phi) < 30 ? LIMB_TRANSVERSE :
			    LIMB_OBLIQUE;
		else
			f->type = LIMB_TYPE_UNKNOWN;
		ia = sites[k].il >= 0 ? sites[k].il : sites[k].i;
		ib = sites[k].i2 >= 0 ? sites[k].i2 : ia;
		if (ib < ia) {
			c = ia;
			ia = ib;
			ib = c;
		}
		/* The box: the site's stations, the tilt of its line and
		 * a little more along the axis, the edges across. */
		ha = 0.4 * wmed + 2 + ((f->cues & LIMB_CUE_LINE) ? 0.5 *
		    s->wd * fabs(tan(s->phi * M_PI / 180)) : 0);
		ta = b->t0 + ia - ha;
		tb = b->t0 + ib + ha;
		lo = 1e9;
		hi = -1e9;
		for (i = ia - (int)ha; i <= ib + (int)ha; i++)
			if (i >= 0 && i < ns && st[i].ok) {
				lo = fmin(lo, st[i].e0 - 2);
				hi = fmax(hi, st[i].e1 + 2);
			}
		for (c = 0; c < 4; c++) {
			xs[c] = PX(b, c < 2 ? ta : tb, c % 2 ? hi : lo);
			ys[c] = PY(b, c < 2 ? ta : tb, c % 2 ? hi : lo);
		}
		f->x0 = (int)floor(fmin(fmin(xs[0], xs[1]), fmin(xs[2],
		    xs[3])));
		f->x1 = (int)ceil(fmax(fmax(xs[0], xs[1]), fmax(xs[2],
		    xs[3])));
		f->y0 = (int)floor(fmin(fmin(ys[0], ys[1]), fmin(ys[2],
		    ys[3])));
		f->y1 = (int)ceil(fmax(fmax(ys[0], ys[1]), fmax(ys[2],
		    ys[3])));
		f->cx = PX(b, b->t0 + (ia + ib) / 2.0, st[(ia + ib) / 2].ok ?
		    st[(ia + ib) / 2].c : s->c);
		f->cy = PY(b, b->t0 + (ia + ib) / 2.0, st[(ia + ib) / 2].ok ?
		    st[(ia + ib) / 2].c : s->c);
		fr = ((ia + ib) / 2.0 - first) / (double)(last - first);
		f->pos = fr;
		f->third = fr < 1.0 / 3 ? LIMB_THIRD_UPPER : fr < 2.0 / 3 ?
		    LIMB_THIRD_MIDDLE : LIMB_THIRD_LOWER;
		f->joint = (fr < 0.1 && !b->edge0) || (fr > 0.9 && !b->edge1);
		nfx++;
	}
	free(st);
	free(tmp);
	return nfx;
}

static int
cmp_fx(const void *a, const void *b)
{
	const struct limb_fracture *x = a, *y = b;

	return x->confidence < y->confidence ? 1 :
	    x->confidence > y->confidence ? -1 : 0;
}

void
limb_result_free(struct limb_result *r)
{
	free(r->fx);
	free(r->bones);
	free(r->mask);
	memset(r, 0, sizeof(*r));
}

/* The words of a site's place: the side and part, the bone, the third
 * as the film is hung. */
static void
place(const struct film *f, const struct limb_result *r,
    struct limb_fracture *x)
{
	const struct limb_bone	*b = &r->bones[x->bone];
	static const char *const prox[3] = {
		"近端1/3", "中段", "远端1/3"
	}, *const dist[3] = {
		"远端1/3", "中段", "近端1/3"
	}, *const img[3] = {
		"图像上1/3段", "图像中段", "图像下1/3段"
	}, *const imgx[3] = {
		"图像左1/3段", "图像中段", "图像右1/3段"
	};
	int		 vertical = fabs(b->ay) >= M_SQRT1_2;
	const char	*third;

	if (vertical && r->orient == LIMB_ORIENT_PROXIMAL_UP)
		third = prox[x->third];
	else if (vertical && r->orient == LIMB_ORIENT_DISTAL_UP)
		third = dist[x->third];
	else
		third = vertical ? img[x->third] : imgx[x->third];
	(void)snprintf(x->location, sizeof(x->location),
	    "%s%s（图像左起第%d骨）%s%s", f->side == 'R' ? "右" : f->side ==
	    'L' ? "左" : "", r->part_zh, b->order, third, x->joint ?
	    "近关节处" : "");
}

int
limb_detect(const struct film *f, const struct limb_params *p,
    struct limb_result *r, char *err, size_t errlen)
{
	int	 fx0 = f->field[0], fy0 = f->field[1];
	int	 fw = f->field[2] - fx0 + 1, fh = f->field[3] - fy0 + 1;
	int	 w, h, x, y, i, j, ncomp, nb = 0;
	size_t	 tot, k, nfx = 0;
	float	*a = NULL, *g = NULL, *tmp = NULL;
	int	*lab = NULL, *stack = NULL;
	unsigned char *m = NULL, *m2 = NULL, *mt = NULL, *edge = NULL;
	double	 scale, p1, p99, t1, t2, t0 = now_s();
	struct ctx cx;
	int	 ret = -1;

	if (p == NULL)
		p = &limb_defaults;
	memset(r, 0, sizeof(*r));
	if (fw < 48 || fh < 48) {
		(void)snprintf(err, errlen, "曝光区域过小（%d×%d像素），无法"
		    "识别骨骼", fw, fh);
		return 1;
	}
	scale = (double)(fw > fh ? fw : fh) / WORK;
	if (scale < 1)
		scale = 1;
	w = (int)(fw / scale);
	h = (int)(fh / scale);
	tot = (size_t)w * h;
	if ((a = malloc(sizeof(*a) * tot)) == NULL ||
	    (g = malloc(sizeof(*g) * tot)) == NULL ||
	    (tmp = malloc(sizeof(*tmp) * tot)) == NULL ||
	    (lab = malloc(sizeof(*lab) * tot)) == NULL ||
	    (stack = malloc(sizeof(*stack) * (tot + 1))) == NULL ||
	    (m = calloc(tot, 1)) == NULL || (m2 = calloc(tot, 1)) == NULL ||
	    (mt = calloc(tot, 1)) == NULL ||
	    (r->bones = calloc(MAXBONES, sizeof(*r->bones))) == NULL ||
	    (r->fx = calloc(MAXBONES * 4, sizeof(*r->fx))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The field, area-averaged to w x h. */
	plane_area_average(f->img, f->nx, fx0, fy0, fw, fh, a, w, h);
	/* Contrast stretched from the 1st to the 99th percentile. */
	memcpy(tmp, a, sizeof(*tmp) * tot);
	qsort(tmp, tot, sizeof(*tmp), plane_cmp_float);
	p1 = tmp[tot / 100];
	p99 = tmp[tot - 1 - tot / 100];
	if (p99 - p1 < 0.02) {
		(void)snprintf(err, errlen, "图像几乎无对比，无法识别骨骼");
		ret = 1;
		goto out;
	}
	for (k = 0; k < tot; k++) {
		double	 v = (a[k] - p1) / (p99 - p1);

		a[k] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
	}
	plane_blur(a, g, tmp, w, h, 1.0);
	/* Bone: the brightest of three classes; opened (specks), closed
	 * over 2 pixels (a thin fracture line bridged), holes filled (the
	 * medulla inside the cortices). */
	otsu3(g, tot, &t1, &t2);
	/*
	 * Bone stands above the soft tissue about it: the white top-hat
	 * (the image less its opening by a square of 6 % of the field,
	 * wider than a shaft; Serra 1982) thresholded by Otsu inside the
	 * body, where the image is also in the top class of the three.
	 * Soft tissue thick enough to reach the top class, which a single
	 * threshold takes for bone on hand films, drops out.
	 */
	{
		int	 rr = (int)fmax(6, 0.06 * (w > h ? w : h));
		double	 tt;

		grey_morph(g, a, tmp, w, h, rr, 0);
		grey_morph(a, a, tmp, w, h, rr, 1);
		for (k = 0; k < tot; k++) {
			a[k] = g[k] - a[k];
			m2[k] = g[k] > t1;
		}
		tt = plane_otsu(a, m2, tot);
		for (k = 0; k < tot; k++)
			m[k] = g[k] > t2 && a[k] > tt;
	}
	morph(m, m2, mt, w, h, 1, 0);
	morph(m2, m, mt, w, h, 1, 1);
	morph(m, m2, mt, w, h, 2, 1);
	morph(m2, m, mt, w, h, 2, 0);
	ncomp = plane_components(m, 0, w, h, lab, stack, NULL, 0);
	if ((edge = plane_border_labels(lab, ncomp, w, h)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (k = 0; k < tot; k++)
		if (!m[k] && !edge[lab[k]])
			m[k] = 1;
	ncomp = plane_components(m, 1, w, h, lab, stack, NULL, 0);
	/* The long bones: components of some size, at least 2.5 times as
	 * long as wide, their axis the principal one. */
	{
		double	*mo = calloc((size_t)ncomp + 1, 6 * sizeof(double));

		if (mo == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++) {
				double	*q = mo + 6 * lab[(size_t)y * w + x];

				q[0]++;
				q[1] += x;
				q[2] += y;
				q[3] += (double)x * x;
				q[4] += (double)y * y;
				q[5] += (double)x * y;
			}
		for (i = 1; i <= ncomp && nb < MAXBONES; i++) {
			double	*q = mo + 6 * i, n = q[0], mx, my, vx, vy,
				 vxy, tr, det, e1, e2, ax, ay, len, t0b = 1e9,
				 t1b = -1e9, rr = 0;
			struct limb_bone *b = &r->bones[nb];

			if (n < fmax(60, 0.002 * (double)tot))
				continue;
			mx = q[1] / n;
			my = q[2] / n;
			vx = q[3] / n - mx * mx;
			vy = q[4] / n - my * my;
			vxy = q[5] / n - mx * my;
			tr = vx + vy;
			det = vx * vy - vxy * vxy;
			e1 = tr / 2 + sqrt(fmax(0, tr * tr / 4 - det));
			e2 = tr / 2 - sqrt(fmax(0, tr * tr / 4 - det));
			if (e2 <= 0 || sqrt(e1 / e2) < 2.5)
				continue;
			ax = fabs(vxy) > 1e-9 ? e1 - vy : vx >= vy ? 1 : 0;
			ay = fabs(vxy) > 1e-9 ? vxy : vx >= vy ? 0 : 1;
			len = hypot(ax, ay);
			ax /= len;
			ay /= len;
			/* Down the film, or right when lying across. */
			if ((fabs(ay) >= fabs(ax) && ay < 0) ||
			    (fabs(ay) < fabs(ax) && ax < 0)) {
				ax = -ax;
				ay = -ay;
			}
			for (y = 0; y < h; y++)
				for (x = 0; x < w; x++) {
					double	 t, o;

					if (lab[(size_t)y * w + x] != i)
						continue;
					t = (x - mx) * ax + (y - my) * ay;
					o = fabs(-(x - mx) * ay + (y - my) * ax);
					t0b = fmin(t0b, t);
					t1b = fmax(t1b, t);
					rr = fmax(rr, o);
				}
			if (t1b - t0b < 30)
				continue;
			b->cx = mx;
			b->cy = my;
			b->ax = ax;
			b->ay = ay;
			b->t0 = t0b;
			b->t1 = t1b;
			b->label = i;
			cx.g = g;
			cx.lab = lab;
			cx.w = w;
			cx.h = h;
			cx.p = p;
			j = bone_sites(&cx, b, i, rr + 2, r->fx + nfx, 1, nb);
			if (j < 0) {
				free(mo);
				(void)snprintf(err, errlen, "out of memory");
				goto out;
			}
			if (b->width <= 0)
				continue;
			nfx += (size_t)j;
			nb++;
		}
		free(mo);
	}
	if (nb == 0) {
		(void)snprintf(err, errlen, "未能在图像中识别长骨（骨干），"
		    "可能不是四肢X线片或曝光不当");
		ret = 1;
		goto out;
	}
	r->nbones = (size_t)nb;
	/* The bones numbered from the film's left. */
	for (i = 0; i < nb; i++) {
		r->bones[i].order = 1;
		for (j = 0; j < nb; j++)
			if (r->bones[j].cx < r->bones[i].cx ||
			    (r->bones[j].cx == r->bones[i].cx && j < i))
				r->bones[i].order++;
	}
	r->orient = part_of(f, r->part_zh, sizeof(r->part_zh));
	for (k = 0; k < nfx; k++) {
		struct limb_fracture *q = &r->fx[k];

		q->cx = fx0 + (q->cx + 0.5) * scale;
		q->cy = fy0 + (q->cy + 0.5) * scale;
		q->x0 = fx0 + (int)floor(q->x0 * scale);
		q->y0 = fy0 + (int)floor(q->y0 * scale);
		q->x1 = fx0 + (int)ceil((q->x1 + 1) * scale) - 1;
		q->y1 = fy0 + (int)ceil((q->y1 + 1) * scale) - 1;
		q->x0 = q->x0 < fx0 ? fx0 : q->x0;
		q->y0 = q->y0 < fy0 ? fy0 : q->y0;
		q->x1 = q->x1 > f->field[2] ? f->field[2] : q->x1;
		q->y1 = q->y1 > f->field[3] ? f->field[3] : q->y1;
		place(f, r, q);
	}
	qsort(r->fx, nfx, sizeof(*r->fx), cmp_fx);
	r->count = nfx;
	r->mask = lab;
	lab = NULL;
	r->wx = w;
	r->wy = h;
	r->scale = scale;
	r->seconds = now_s() - t0;
	ret = 0;
out:
	if (ret != 0) {
		free(r->fx);
		free(r->bones);
		r->fx = NULL;
		r->bones = NULL;
		r->count = r->nbones = 0;
	}
	free(a);
	free(g);
	free(tmp);
	free(lab);
	free(stack);
	free(m);
	free(m2);
	free(mt);
	free(edge);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The reader: its check, its run and its result.                    */

#define LIMB_METHOD_ZH "经典图像分析，非深度学习：X线片按DICOM显示变换（模态" \
	"LUT、VOI LUT或窗宽窗位及VOI LUT函数、MONOCHROME1反相）得到医师所见灰度，去除四周遮光" \
	"（准直）边带后缩至长边512像素；以三类Otsu阈值（Otsu 1979；多阈值" \
	"见Liao 2001）取最亮一类且高于周围软组织者（白顶帽变换，" \
	"Serra 1982，再取Otsu阈值）为骨，经开、闭运算（闭运算弥合细骨折线）并" \
	"填充髓腔，取长宽比≥2.5的连通域为长骨，沿其主轴逐点测量横断面" \
	"（两侧骨皮质边缘、中心线、骨干宽度）。骨折候选来自四项征象：横贯" \
	"骨干的透亮线（过中心线的弦在−60°至60°每5°共25个方向上较其上下弦变暗，" \
	"线算子思路见Ricci与Perfetti 2007）、单侧骨皮质中断、断端错位" \
	"（两侧皮质缘同向移位）及成角（上下段中心线夹角，骨轴与角度方法见" \
	"Tian Tai Peng 2002），骨轮廓缩窄处（关节）半个骨宽内不计；透亮线与皮质以该骨自身各点的稳健z值（中位数" \
	"与MAD）计，错位以骨干宽度的比例、成角以度计，各除以阈值（透亮线" \
	"z≥7.5且对比≥0.05、皮质z≥7.5且对比≥0.075、错位≥19%、成角≥12.5°；" \
	"错位与成角须伴有达半数阈值的透亮线或皮质中断），取" \
	"最大者为评分，≥1者标注病灶框，置信度由评分换算（0.5–1）。骨折" \
	"类型仅在几何可辨时给出：透亮线与骨干横轴夹角<30°为横形，≥30°为" \
	"斜形（AO/OTA 2018，Meinberg 2018），同一骨两宽度内两条透亮线为粉碎性（分型词汇参见AO/OTA及" \
	"Al-Ayyoub 2013），其余只报骨折。病灶位置按长骨主轴三等分；四肢" \
	"按常规挂片（近端向上，手、腕、足指/趾端向上）称近端、中段、远端，" \
	"部位不明时按图像上、中、下段；左右取自DICOM侧别标签或描述。"

#define LIMB_LIMITS_ZH "局限：仅分析长骨骨干，腕骨、跗骨等短骨、扁骨及关节面" \
	"骨折不能识别；骨端（干骺端及骨骺，如桡骨远端、掌骨与指骨的基底及" \
	"颈部）骨折多被漏检，验证数据中约三分之一的骨折标注框位于骨端；" \
	"螺旋形、嵌插、撕脱、青枝及隆突（竹节）骨折不能分型，" \
	"无移位的细微骨折线、断端分离较宽而被分为两段的骨折可能漏检；骺板、" \
	"骨重叠、石膏、内固定物及图中文字箭头可致假阳性；单一投照体位，" \
	"未结合其他体位。已发表的深度学习系统敏感度、特异度约91–92%" \
	"（Kuo 2022荟萃分析），尚无经典方法报告相近水平，本方法明显不及。"

/* The measured figures, from limbeval (README, Validation). */
#define LIMB_VALIDATION_ZH "验证：体模前臂的横形、斜形、错位、成角及双骨折线" \
	"骨折均在正确的骨与分段检出，横形、斜形、粉碎性分型正确，错位与" \
	"成角均测得，完整骨未出框。以limbeval在" \
	"网络收集的四肢X线片80幅（60幅有骨折框共94框，20幅无框，多为手、" \
	"腕、前臂，无像素间距）上评估，以报告病灶中心落在标注框内计命中：" \
	"94框命中8框（9%，bootstrap 95%区间3%–15%），每幅假阳性框1.2个" \
	"（0.9–1.5），无骨折片中仅35%无框；阈值在奇数号片上选定，偶数号" \
	"留出片命中6/49（12%，3%–24%），每幅假阳性框1.2个。94框中仅32框" \
	"位于本方法能识别并跟踪的长骨骨干上。该数据上检出率很低，远不足以" \
	"用于筛查，数字只供参考。"

static enum reader_verdict
limb_check(const struct series_volume *v, char *why, size_t sz)
{
	if (strcmp(v->modality, "DX") != 0 && strcmp(v->modality, "CR") != 0 &&
	    strcmp(v->modality, "SC") != 0) {
		(void)snprintf(why, sz, "模态为%s，四肢骨折检测需X线片"
		    "（DX/CR）", v->modality[0] ? v->modality : "未知");
		return READER_REFUSES;
	}
	if (v->nz != 1) {
		(void)snprintf(why, sz, "序列含%d幅图像，四肢骨折检测需单幅"
		    "X线片", v->nz);
		return READER_REFUSES;
	}
	return READER_FITS;
}

int
limb_to_ai(const struct limb_result *r, const struct film *f,
    struct ai_result *out)
{
	struct ai_lesion	 al;
	struct ai_key_image	 key;
	char			*fd = NULL, *cc = NULL, *me = NULL, sp[160],
				 side[64];
	size_t			 fl = 0, cl = 0, ml = 0, i;

	film_spacing_zh(f, sp, sizeof(sp));
	if (f->side != 0)
		(void)snprintf(side, sizeof(side), "侧别为%s（%s）",
		    f->side == 'R' ? "右" : "左", film_from_zh[f->side_from]);
	else
		(void)snprintf(side, sizeof(side), "侧别未知");
	if (ai_text_append(&me, &ml, "%s%s%s本片：部位%s，%s，挂片方向%s；"
	    "%s%s%s。", LIMB_METHOD_ZH, LIMB_LIMITS_ZH, LIMB_VALIDATION_ZH,
	    r->part_zh, side, r->orient == LIMB_ORIENT_PROXIMAL_UP ?
	    "近端向上" : r->orient == LIMB_ORIENT_DISTAL_UP ? "远端向上" :
	    "未知（按图像上、中、下段描述）", sp, f->notes[0] ? "；" : "",
	    f->notes) == -1 ||
	    ai_text_append(&me, &ml, "结果仅供参考，不能直接用于诊断。") == -1)
		goto fail;
	if (r->count == 0) {
		if (ai_text_append(&fd, &fl, "所见%zu根长骨骨皮质连续，未见"
		    "明确骨折线、错位及成角。", r->nbones) == -1 ||
		    ai_text_append(&cc, &cl, "AI未提示长骨骨折征象，请结合"
		    "临床，必要时加摄其他体位。") == -1)
			goto fail;
	} else if (ai_text_append(&fd, &fl, "%s", "") == -1 ||
	    ai_text_append(&cc, &cl, "%s", "") == -1)
		goto fail;
	for (i = 0; i < r->count; i++) {
		const struct limb_fracture *l = &r->fx[i];
		char		 signs[256] = "", dis[128] = "";
		size_t		 sl = 0;
		int		 m = 0;

		if (l->cues & LIMB_CUE_LINE)
			sl += (size_t)snprintf(signs + sl, sizeof(signs) - sl,
			    "%s透亮骨折线", sl ? "、" : "");
		if ((l->cues & LIMB_CUE_CORTEX) && sl < sizeof(signs))
			sl += (size_t)snprintf(signs + sl, sizeof(signs) - sl,
			    "%s骨皮质中断", sl ? "、" : "");
		if (sl == 0)
			(void)snprintf(signs, sizeof(signs), "骨干轮廓不连续");
		if ((l->cues & LIMB_CUE_STEP) && (l->cues & LIMB_CUE_ANGLE))
			(void)snprintf(dis, sizeof(dis), "，断端错位约骨干宽度"
			    "的%.0f%%，成角约%.0f°", l->step * 100,
			    l->angulation);
		else if (l->cues & LIMB_CUE_STEP)
			(void)snprintf(dis, sizeof(dis), "，断端错位约骨干宽度"
			    "的%.0f%%", l->step * 100);
		else if (l->cues & LIMB_CUE_ANGLE)
			(void)snprintf(dis, sizeof(dis), "，成角约%.0f°",
			    l->angulation);
		memset(&al, 0, sizeof(al));
		al.id = (int)i + 1;
		(void)snprintf(al.type, sizeof(al.type), "%s",
		    limb_type_zh[l->type]);
		(void)snprintf(al.location, sizeof(al.location), "%s",
		    l->location);
		(void)snprintf(al.findings, sizeof(al.findings),
		    "%s见%s%s（病灶%d）。", l->location, signs, dis, al.id);
		(void)snprintf(al.conclusion, sizeof(al.conclusion),
		    "%s%s%s可能（AI置信度%.2f），请结合临床，必要时加摄其他"
		    "体位或CT检查。", l->location, limb_type_zh[l->type],
		    (l->cues & (LIMB_CUE_STEP | LIMB_CUE_ANGLE)) ? "伴移位" :
		    "", l->confidence);
#define MEAS(nm, val, un) do { (void)snprintf(al.meas[m].name, AI_NAME_MAX, \
	"%s", (nm)); al.meas[m].value = (val); (void)snprintf(al.meas[m].unit, \
	AI_UNIT_MAX, "%s", (un)); m++; } while (0)
		if (l->cues & LIMB_CUE_LINE)
			MEAS("骨折线与骨干横轴夹角",
			    round(fabs(l->line_angle)), "°");
		if (l->cues & LIMB_CUE_STEP)
			MEAS("错位", round(l->step * 100), "%骨干宽度");
		if (l->cues & LIMB_CUE_ANGLE)
			MEAS("成角", round(l->angulation), "°");
		MEAS("评分", round(l->score * 100.0) / 100.0, "");
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
	(void)snprintf(key.caption, sizeof(key.caption), "%sX线片",
	    r->part_zh);
	if (ai_result_add_key(out, &key) == -1 ||
	    ai_result_add_summary(out, "骨折病灶数", (double)r->count,
	    "") == -1 ||
	    ai_result_add_summary(out, "识别长骨数", (double)r->nbones,
	    "") == -1 ||
	    ai_result_add_summary(out, "判定阈值（评分）", 1, "") == -1)
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
limb_run(const struct reader_ctx *ctx, const struct series_volume *v,
    struct ai_result *res, char *err, size_t errlen)
{
	struct film		*own = NULL;
	const struct film	*f = ctx->film;
	struct limb_result	 r;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	if (f == NULL) {
		if (film_from_volume(v, &own, err, errlen) == -1)
			return -1;
		f = own;
	}
	if (limb_film_check(f, err, errlen) != 0) {
		ret = 1;
		goto out;
	}
	if ((ret = limb_detect(f, NULL, &r, err, errlen)) != 0)
		goto out;
	log_info("series %lld: limb fracture: %zu bone(s), %zu box(es),"
	    " %.3f s", ctx->series_id, r.nbones, r.count, r.seconds);
	if (limb_to_ai(&r, f, res) == -1) {
		(void)snprintf(err, errlen, "out of memory");
		ret = -1;
	}
out:
	limb_result_free(&r);
	film_free(own);
	return ret;
}

const struct reader_impl limb_reader = {
	.id = READER_DR_LIMB_FRACTURE,
	.check = limb_check,
	.run = limb_run,
};
