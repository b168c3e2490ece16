/*
 * cpr.c - 肋骨拉直 / 肋骨展开: the straightened CPR of a rib and the
 * unfolded rib cage (cpr.h for the methods and their sources).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cpr.h"

#define PI		3.14159265358979323846
#define TANGENT_MM	2.0	/* half the chord a tangent is taken over */

static double
dot3(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3(const double a[3], const double b[3], double c[3])
{
	c[0] = a[1] * b[2] - a[2] * b[1];
	c[1] = a[2] * b[0] - a[0] * b[2];
	c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Scale a to unit length; returns 0, or -1 (left alone) when it is
 * (nearly) zero. */
static int
unit3(double a[3])
{
	double	 l = sqrt(dot3(a, a));

	if (!(l > 1e-12))
		return -1;
	a[0] /= l;
	a[1] /= l;
	a[2] /= l;
	return 0;
}

/* The point at arc s of the polyline q (m points, cumulative lengths L). */
static void
poly_at(const double (*q)[3], const double *L, int m, double s, double p[3])
{
	int	 lo = 0, hi = m - 1, mid, a;
	double	 f;

	if (s <= 0) {
		memcpy(p, q[0], sizeof(double) * 3);
		return;
	}
	if (s >= L[m - 1]) {
		memcpy(p, q[m - 1], sizeof(double) * 3);
		return;
	}
	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (L[mid] <= s)
			lo = mid;
		else
			hi = mid;
	}
	f = L[hi] > L[lo] ? (s - L[lo]) / (L[hi] - L[lo]) : 0;
	for (a = 0; a < 3; a++)
		p[a] = q[lo][a] + f * (q[hi][a] - q[lo][a]);
}

void
cpr_path_free(struct cpr_path *c)
{
	if (c == NULL)
		return;
	free(c->p);
	memset(c, 0, sizeof(*c));
}

int
cpr_path_make(const double (*pts)[3], int n, const double spacing[3],
    const double up[3], double step, struct cpr_path *c, char *err,
    size_t errlen)
{
	double		(*q)[3] = NULL, *L = NULL, a[3], bk[3], fw[3], r[3];
	double		 v1[3], tl[3], rl[3], v2[3], c1, c2, h, s;
	int		 i, k, m = 0, ns;

	memset(c, 0, sizeof(*c));
	if (!(step >= CPR_STEP_MIN && step <= CPR_STEP_MAX) || n < 2 ||
	    !(spacing[0] > 0 && spacing[1] > 0 && spacing[2] > 0)) {
		(void)snprintf(err, errlen, "cpr: bad step, spacing or line");
		return -1;
	}
	if ((q = malloc((size_t)n * sizeof(*q))) == NULL ||
	    (L = malloc((size_t)n * sizeof(*L))) == NULL) {
		free(q);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* In millimetres; points not finite or on the one before left out. */
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++)
			a[k] = pts[i][k] * spacing[k];
		if (!isfinite(a[0]) || !isfinite(a[1]) || !isfinite(a[2]))
			continue;
		if (m > 0) {
			for (k = 0; k < 3; k++)
				r[k] = a[k] - q[m - 1][k];
			if (sqrt(dot3(r, r)) < 1e-6)
				continue;
			L[m] = L[m - 1] + sqrt(dot3(r, r));
		} else
			L[m] = 0;
		memcpy(q[m], a, sizeof(a));
		m++;
	}
	if (m < 2 || !(L[m - 1] >= step) || L[m - 1] > CPR_LEN_MAX) {
		(void)snprintf(err, errlen, "cpr: a line of %d point(s), %.1f"
		    " mm", m, m > 0 ? L[m - 1] : 0.0);
		goto fail;
	}
	ns = (int)floor(L[m - 1] / step + 1e-9) + 1;
	if ((c->p = malloc((size_t)ns * 4 * sizeof(*c->p))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->t = c->p + ns;
	c->u = c->t + ns;
	c->b = c->u + ns;
	c->n = ns;
	c->step = step;
	c->length = L[m - 1];
	memcpy(c->spacing, spacing, sizeof(c->spacing));
	h = step > TANGENT_MM ? step : TANGENT_MM;
	for (i = 0; i < ns; i++) {
		s = i * step;
		poly_at((const double (*)[3])q, L, m, s, c->p[i]);
		poly_at((const double (*)[3])q, L, m, s - h, bk);
		poly_at((const double (*)[3])q, L, m, s + h, fw);
		for (k = 0; k < 3; k++)
			c->t[i][k] = fw[k] - bk[k];
		if (unit3(c->t[i]) == -1) {
			if (i > 0)
				memcpy(c->t[i], c->t[i - 1], sizeof(c->t[i]));
			else {
				c->t[i][0] = 1;
				c->t[i][1] = c->t[i][2] = 0;
			}
		}
	}
	/* The first normal: up square to the first tangent (any square
	 * direction when up runs along it). */
	memcpy(r, up, sizeof(r));
	s = dot3(r, c->t[0]);
	for (k = 0; k < 3; k++)
		r[k] -= s * c->t[0][k];
	if (unit3(r) == -1) {
		a[0] = fabs(c->t[0][0]) < 0.9 ? 1 : 0;
		a[1] = 1 - a[0];
		a[2] = 0;
		cross3(c->t[0], a, r);
		(void)unit3(r);
	}
	memcpy(c->u[0], r, sizeof(r));
	/* The double reflection (Wang et al. 2008): reflect the frame in the
	 * plane bisecting the chord, then in the one bisecting the tangents. */
	for (i = 0; i + 1 < ns; i++) {
		for (k = 0; k < 3; k++)
			v1[k] = c->p[i + 1][k] - c->p[i][k];
		c1 = dot3(v1, v1);
		memcpy(rl, c->u[i], sizeof(rl));
		memcpy(tl, c->t[i], sizeof(tl));
		if (c1 > 1e-18) {
			s = 2.0 / c1 * dot3(v1, c->u[i]);
			h = 2.0 / c1 * dot3(v1, c->t[i]);
			for (k = 0; k < 3; k++) {
				rl[k] = c->u[i][k] - s * v1[k];
				tl[k] = c->t[i][k] - h * v1[k];
			}
		}
		for (k = 0; k < 3; k++)
			v2[k] = c->t[i + 1][k] - tl[k];
		c2 = dot3(v2, v2);
		if (c2 > 1e-18) {
			s = 2.0 / c2 * dot3(v2, rl);
			for (k = 0; k < 3; k++)
				rl[k] -= s * v2[k];
		}
		/* Square to the tangent again against rounding. */
		s = dot3(rl, c->t[i + 1]);
		for (k = 0; k < 3; k++)
			rl[k] -= s * c->t[i + 1][k];
		if (unit3(rl) == -1)
			memcpy(rl, c->u[i], sizeof(rl));
		memcpy(c->u[i + 1], rl, sizeof(rl));
	}
	for (i = 0; i < ns; i++)
		cross3(c->t[i], c->u[i], c->b[i]);
	free(q);
	free(L);
	return 0;
fail:
	free(q);
	free(L);
	cpr_path_free(c);
	return -1;
}

double
cpr_project(const struct cpr_path *c, const double q[3], double *dist)
{
	double	 m[3], d[3], e[3], best = INFINITY, bs = 0, f, l2, x;
	int	 i, k;

	for (k = 0; k < 3; k++)
		m[k] = q[k] * c->spacing[k];
	for (i = 0; i < c->n; i++) {
		/* The segment from sample i to i + 1 (a point for the last). */
		for (k = 0; k < 3; k++) {
			d[k] = i + 1 < c->n ? c->p[i + 1][k] - c->p[i][k] : 0;
			e[k] = m[k] - c->p[i][k];
		}
		l2 = dot3(d, d);
		f = l2 > 0 ? dot3(e, d) / l2 : 0;
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		for (k = 0; k < 3; k++)
			e[k] -= f * d[k];
		x = dot3(e, e);
		if (x < best) {
			best = x;
			bs = (i + f) * c->step;
		}
	}
	if (dist != NULL)
		*dist = sqrt(best);
	return bs;
}

/* The value of vv at (x, y, z) in index space, trilinear; NAN outside or
 * next to a missing value. */
static float
sample(const struct view_volume *vv, double x, double y, double z)
{
	const int16_t	*v = vv->vox;
	size_t		 sx = 1, sy = (size_t)vv->nx, sz = sy * vv->ny, o;
	double		 fx, fy, fz, c00, c01, c10, c11;
	int		 i, j, k, di, dj, dk, a[8], t;

	if (!(x >= 0 && y >= 0 && z >= 0 && x <= vv->nx - 1 &&
	    y <= vv->ny - 1 && z <= vv->nz - 1))
		return NAN;
	i = (int)x;
	j = (int)y;
	k = (int)z;
	di = i + 1 < vv->nx ? 1 : 0;
	dj = j + 1 < vv->ny ? 1 : 0;
	dk = k + 1 < vv->nz ? 1 : 0;
	fx = x - i;
	fy = y - j;
	fz = z - k;
	o = (size_t)k * sz + (size_t)j * sy + (size_t)i * sx;
	a[0] = v[o];
	a[1] = v[o + di];
	a[2] = v[o + dj * sy];
	a[3] = v[o + dj * sy + di];
	a[4] = v[o + dk * sz];
	a[5] = v[o + dk * sz + di];
	a[6] = v[o + dk * sz + dj * sy];
	a[7] = v[o + dk * sz + dj * sy + di];
	for (t = 0; t < 8; t++)
		if (a[t] == INT16_MIN)
			return NAN;
	c00 = a[0] + fx * (a[1] - a[0]);
	c01 = a[2] + fx * (a[3] - a[2]);
	c10 = a[4] + fx * (a[5] - a[4]);
	c11 = a[6] + fx * (a[7] - a[6]);
	c00 += fy * (c01 - c00);
	c10 += fy * (c11 - c10);
	return (float)(c00 + fz * (c10 - c00));
}

static int
half_rows(double half_mm, double step)
{
	int	 hr;

	if (!(half_mm > 0))
		return 0;
	if (half_mm > CPR_HALF_MAX)
		half_mm = CPR_HALF_MAX;
	hr = (int)lround(half_mm / step);
	return hr;
}

void
cpr_image_size(const struct cpr_path *c, double half_mm, int *w, int *h)
{
	*w = c->n;
	*h = 2 * half_rows(half_mm, c->step) + 1;
}

/* Column i of path c at angle (radians) into out, h values a stride
 * apart, row 0 the largest offset. */
static void
column(const struct view_volume *vv, const struct cpr_path *c, int i,
    double ca, double sa, int hr, float *out, size_t stride)
{
	double	 d[3], q[3], o;
	int	 r, k;

	/* The point and the direction in voxels: a sample is then a
	 * multiply-add a coordinate. */
	for (k = 0; k < 3; k++) {
		d[k] = (ca * c->u[i][k] + sa * c->b[i][k]) / c->spacing[k];
		q[k] = c->p[i][k] / c->spacing[k];
	}
	for (r = 0; r <= 2 * hr; r++) {
		o = (hr - r) * c->step;
		out[(size_t)r * stride] = sample(vv, q[0] + o * d[0],
		    q[1] + o * d[1], q[2] + o * d[2]);
	}
}

void
cpr_image(const struct view_volume *vv, const struct cpr_path *c,
    double angle, double half_mm, float *out)
{
	double	 a = angle * PI / 180.0;
	int	 i, w, h, hr;

	cpr_image_size(c, half_mm, &w, &h);
	hr = (h - 1) / 2;
	for (i = 0; i < c->n; i++)
		column(vv, c, i, cos(a), sin(a), hr, out + i, (size_t)w);
}

void
cpr_ribs_free(struct cpr_ribs *rs)
{
	size_t	 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		cpr_path_free(&rs->r[i].path);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static int
rib_cmp(const void *x, const void *y)
{
	const struct cpr_rib	*a = x, *b = y;
	int			 na, nb;

	if (a->side != b->side)
		return a->side - b->side;
	na = a->number > 0 ? a->number : 1000;
	nb = b->number > 0 ? b->number : 1000;
	if (na != nb)
		return na - nb;
	/* The order stored (row then holds it) for equal places. */
	return a->row - b->row;
}

void
cpr_layout(struct cpr_ribs *rs)
{
	char	 used[2][CPR_RIBS_MAX];
	size_t	 i;
	int	 s, row, rows = 0;

	memset(used, 0, sizeof(used));
	for (i = 0; i < rs->n; i++)
		rs->r[i].row = -1;
	for (i = 0; i < rs->n; i++) {
		s = rs->r[i].side == 1 ? 0 : 1;
		row = rs->r[i].number - 1;
		if (row >= 0 && row < 12 && !used[s][row]) {
			used[s][row] = 1;
			rs->r[i].row = row;
		}
	}
	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].row >= 0)
			continue;
		s = rs->r[i].side == 1 ? 0 : 1;
		for (row = 12; row < CPR_RIBS_MAX && used[s][row]; row++)
			;
		used[s][row] = 1;
		rs->r[i].row = row;
	}
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].row + 1 > rows)
			rows = rs->r[i].row + 1;
	rs->rows = rs->n > 0 && rows < 12 ? 12 : rows;
}

int
cpr_ribs_parse(const char *json, const double spacing[3], int flip,
    double step, struct cpr_ribs *rs, char *err, size_t errlen)
{
	json_t		*o, *a, *x, *line, *p;
	json_error_t	 je;
	double		(*pts)[3] = NULL, up[3] = { 0, 0, 0 };
	const char	*side, *lab;
	size_t		 i, j, np;
	struct cpr_rib	*r;

	memset(rs, 0, sizeof(*rs));
	up[2] = flip ? 1 : -1;
	if ((o = json_loads(json != NULL ? json : "{}", 0, &je)) == NULL) {
		(void)snprintf(err, errlen, "overlays: %s", je.text);
		return -1;
	}
	rs->uncertain = json_is_true(json_object_get(o, "uncertain"));
	a = json_object_get(o, "ribs");
	if (!json_is_array(a) || json_array_size(a) == 0) {
		json_decref(o);
		return 0;
	}
	if (json_array_size(a) > CPR_RIBS_MAX) {
		(void)snprintf(err, errlen, "overlays: %zu ribs",
		    json_array_size(a));
		goto fail;
	}
	if ((rs->r = calloc(json_array_size(a), sizeof(*rs->r))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	json_array_foreach(a, i, x) {
		side = json_string_value(json_object_get(x, "side"));
		lab = json_string_value(json_object_get(x, "label"));
		line = json_object_get(x, "line");
		if (side == NULL || (strcmp(side, "R") != 0 &&
		    strcmp(side, "L") != 0) || !json_is_array(line) ||
		    (np = json_array_size(line)) < 2) {
			(void)snprintf(err, errlen, "overlays: rib %zu: no side"
			    " or line", i);
			goto fail;
		}
		r = &rs->r[rs->n];
		r->side = *side == 'R' ? 1 : 2;
		r->number = (int)json_integer_value(json_object_get(x,
		    "number"));
		if (r->number < 0 || r->number > 12)
			r->number = 0;
		if (lab != NULL && strlen(lab) < sizeof(r->label))
			(void)snprintf(r->label, sizeof(r->label), "%s", lab);
		else if (r->number > 0)
			(void)snprintf(r->label, sizeof(r->label), "%s%d", side,
			    r->number);
		else
			(void)snprintf(r->label, sizeof(r->label), "%s?", side);
		/* Shown in Chinese: the side's character, the rest as the
		 * reader stored it ("R?" → "右?"). */
		(void)snprintf(r->zh, sizeof(r->zh), "%s%s", r->side == 1 ?
		    "右" : "左", r->label[0] == 'R' || r->label[0] == 'L' ?
		    r->label + 1 : r->label);
		r->row = (int)i;
		if ((pts = malloc(np * sizeof(*pts))) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (j = 0; j < np; j++) {
			p = json_array_get(line, j);
			pts[j][0] = json_is_number(json_array_get(p, 0)) ?
			    json_number_value(json_array_get(p, 0)) : NAN;
			pts[j][1] = json_is_number(json_array_get(p, 1)) ?
			    json_number_value(json_array_get(p, 1)) : NAN;
			pts[j][2] = json_is_number(json_array_get(p, 2)) ?
			    json_number_value(json_array_get(p, 2)) : NAN;
		}
		if (cpr_path_make((const double (*)[3])pts, (int)np, spacing,
		    up, step, &r->path, err, errlen) == -1)
			goto fail;
		free(pts);
		pts = NULL;
		rs->n++;
	}
	json_decref(o);
	qsort(rs->r, rs->n, sizeof(*rs->r), rib_cmp);
	cpr_layout(rs);
	return (int)rs->n;
fail:
	free(pts);
	json_decref(o);
	cpr_ribs_free(rs);
	return -1;
}

void
cpr_unfold_geom(const struct cpr_ribs *rs, double half_mm,
    struct cpr_unfold *g)
{
	size_t	 i;

	memset(g, 0, sizeof(*g));
	if (rs->n == 0)
		return;
	g->step = rs->r[0].path.step;
	g->half_mm = half_mm;
	g->row_h = 2 * half_rows(half_mm, g->step) + 1;
	for (i = 0; i < rs->n; i++)
		if (rs->r[i].path.n > g->side_w)
			g->side_w = rs->r[i].path.n;
	g->gap = (int)ceil(CPR_GAP_MM / g->step);
	g->w = 2 * g->side_w + g->gap;
	g->h = rs->rows * g->row_h;
}

void
cpr_unfold_point(const struct cpr_ribs *rs, const struct cpr_unfold *g,
    size_t k, double s, double *x, double *y)
{
	const struct cpr_rib	*r = &rs->r[k];
	double			 c = s / g->step;

	*x = r->side == 1 ? g->side_w - 1 - c + 0.5 :
	    g->side_w + g->gap + c + 0.5;
	*y = r->row * g->row_h + (g->row_h - 1) / 2 + 0.5;
}

void
cpr_unfold_image(const struct view_volume *vv, const struct cpr_ribs *rs,
    const struct cpr_unfold *g, double angle, float *out)
{
	const struct cpr_rib	*r;
	double			 a = angle * PI / 180.0;
	size_t			 i, n = (size_t)g->w * (size_t)g->h;
	int			 c, col;

	for (i = 0; i < n; i++)
		out[i] = NAN;
	for (i = 0; i < rs->n; i++) {
		r = &rs->r[i];
		for (c = 0; c < r->path.n; c++) {
			col = r->side == 1 ? g->side_w - 1 - c :
			    g->side_w + g->gap + c;
			column(vv, &r->path, c, cos(a), sin(a),
			    (g->row_h - 1) / 2, out + (size_t)r->row *
			    g->row_h * g->w + col, (size_t)g->w);
		}
	}
}

int
cpr_lesion_rib(const struct cpr_ribs *rs, const char *place,
    const double q[3], double *s, double *dist)
{
	const char	*p = place != NULL ? place : "";
	double		 d, best = INFINITY, bs = 0, x;
	size_t		 i;
	int		 side = 0, num = 0, k = -1;

	if (strncmp(p, "右", strlen("右")) == 0)
		side = 1;
	else if (strncmp(p, "左", strlen("左")) == 0)
		side = 2;
	if (side != 0) {
		p += strlen("右");
		if (strncmp(p, "第", strlen("第")) == 0) {
			p += strlen("第");
			while (*p >= '0' && *p <= '9' && num < 100)
				num = num * 10 + (*p++ - '0');
			if (strncmp(p, "肋", strlen("肋")) != 0)
				num = 0;
		}
	}
	for (i = 0; side != 0 && num > 0 && i < rs->n; i++)
		if (rs->r[i].side == side && rs->r[i].number == num) {
			*s = cpr_project(&rs->r[i].path, q, dist);
			return (int)i;
		}
	for (i = 0; i < rs->n; i++) {
		x = cpr_project(&rs->r[i].path, q, &d);
		if (d < best) {
			best = d;
			bs = x;
			k = (int)i;
		}
	}
	*s = bs;
	if (dist != NULL)
		*dist = best;
	return k;
}
