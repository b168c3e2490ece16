/*
 * limbeval - the fracture reader of limb films against dr/fracture's
 * boxes.
 *
 *	limbeval [-d datadir] [-p dir] [-k factor] [-T] [-v]
 *
 * Runs the film loader (film.h), the reader's check and its detector
 * (limb.h) as zhiying-inferd does, on the 80 films of dr/fracture (60
 * with 94 fracture boxes, 20 with none; datadir defaults to $ZY_DATA,
 * else ../shared/data), and prints for the odd-numbered films (limb01,
 * limb03, ...: the half the thresholds were chosen on), the even ones
 * (held out) and all 80:
 *
 *  - sensitivity by box: a truth box is hit when the centre of a
 *    reported site (limb_fracture.cx, cy) lies inside it (the
 *    centre-in-box rule; the box the reader reports is the bone's
 *    cross-section about the site, larger than many truth boxes, so
 *    IoU >= 0.3 is printed beside but is not the measure);
 *  - false boxes per film: reported sites inside no truth box;
 *  - image-level sensitivity (films with a fracture box that get at least
 *    one box) and specificity (films with none that get none);
 *
 * each with a percentile bootstrap 95 % interval (2000 resamples of the
 * films, fixed seed), and the truth boxes by where they lie against what
 * the reader traced (enum place), with how many of each were missed.
 * Then the boxes reported on the limb films of xray/extremity (no
 * fracture known), and the seconds per film.
 *
 * -k multiplies every threshold of limb_defaults by factor; -T prints
 * the figures of the tuning half for factors 0.6 to 2.0 (how the
 * defaults were chosen) and exits.  -p dir writes each film with its
 * bones' outline, its boxes (white) and the truth (dashed) as
 * dir/NAME.png, and each missed truth box enlarged as dir/NAME-missN.png;
 * -v prints each film's boxes and where each truth box lies.
 *
 * Exits 1 when the guard fails (all 80 films: fewer than 5 % of the
 * truth boxes hit, more than 2.5 false boxes per film, more than one box
 * per film on xray/extremity, a film that does not load, over 2 s per
 * film), 77 when the data is absent, saying so as the cmocka programs
 * do, for make check.  The reader is deterministic, so the figures do
 * not move between runs; the bounds (the README's figures are 10 % and
 * 1.6) catch a reader that broke, not one that got a little worse.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "film.h"
#include "filmeval.h"
#include "limb.h"
#include "preview.h"

#define MAXF	100
#define MAXB	200
#define MAXR	64

/*
 * Where a truth box's centre lies with respect to what the reader
 * traced: the classes its misses fall into (README).  "Near" is within
 * two widths of a long bone followed (beyond its end or beside it, in
 * widths of that bone), or on it within two widths of an end.
 */
enum place {
	PLACE_SHAFT,		/* on a long bone, 2 widths or more from
				 * its ends */
	PLACE_BONE_END,		/* on a long bone, near an end */
	PLACE_NEAR_BONE,	/* off the long bones, near one */
	PLACE_COMPONENT,	/* on a mask component not followed, far
				 * from the long bones */
	PLACE_OFF,		/* off the bone mask, far from them */
	PLACE_REFUSED,		/* on a film the reader refused */
	PLACE__MAX
};

static const char *const place_name[PLACE__MAX] = {
	"on a long bone's shaft",
	"on a long bone near its end",
	"off the long bones, near one",
	"on a bone component not followed",
	"off the bone mask",
	"on a refused film",
};

/* What one film gave. */
struct one {
	char	 name[32];
	int	 truth;		/* truth boxes */
	int	 hit, hit_iou;	/* of them hit */
	int	 on_bone;	/* of them centred on a long bone followed */
	int	 reported, falses;
	int	 odd;
	int	 place[PLACE__MAX], missed[PLACE__MAX];	/* truth boxes by
							 * where they lie */
};

static const char	*pic_dir;
static int		 verbose;

static double
iou(const struct limb_fracture *l, const struct fe_box *b)
{
	return fe_iou(l->x0, l->y0, l->x1, l->y1, b);
}

static int
inside(const struct limb_fracture *l, const struct fe_box *b)
{
	return l->cx >= b->x0 && l->cx <= b->x1 && l->cy >= b->y0 &&
	    l->cy <= b->y1;
}

static void
picture(const char *name, const struct film *f, const struct limb_result *r,
    const struct fe_box *tb, int ntb)
{
	unsigned char	*g, *bm;
	char		 path[1024];
	size_t		 k, n = (size_t)f->nx * f->ny;
	int		 x, y, i;

	if (pic_dir == NULL || (g = malloc(n)) == NULL)
		return;
	for (k = 0; k < n; k++)
		g[k] = (unsigned char)(f->img[k] * 220);
	/* The bones' outline (the labels' border). */
	if (r->mask != NULL && (bm = malloc((size_t)r->wx * r->wy)) != NULL) {
		for (k = 0; k < (size_t)r->wx * r->wy; k++)
			bm[k] = r->mask[k] != 0;
		fe_draw_outline(g, f, bm, r->wx, r->wy, r->scale, -1);
		free(bm);
	}
	for (i = 0; i < (int)r->count; i++)
		fe_draw_box(g, f->nx, f->ny, r->fx[i].x0, r->fx[i].y0,
		    r->fx[i].x1, r->fx[i].y1, 0);
	fe_draw_truth(g, f, tb, ntb, name);
	(void)snprintf(path, sizeof(path), "%s/%s.png", pic_dir, name);
	(void)fe_write_png(path, g, f->nx, f->ny);
	/* Each missed truth box on its own: the film about it (a box's
	 * size all round), the outline and the boxes drawn as above,
	 * enlarged to 320 pixels across, beside the same crop bare, as
	 * dir/NAME-missN.png. */
	for (i = 0, k = 0; i < ntb; i++) {
		unsigned char	*c;
		int		 hit = 0, q, cx0, cy0, cw, chh, zw, zh;
		double		 z;

		if (strcmp(tb[i].file, name) != 0)
			continue;
		for (q = 0; q < (int)r->count; q++)
			hit |= inside(&r->fx[q], &tb[i]);
		k++;
		if (hit)
			continue;
		cw = (int)(2 * (tb[i].x1 - tb[i].x0)) + 40;
		chh = (int)(2 * (tb[i].y1 - tb[i].y0)) + 40;
		cw = cw > chh ? cw : chh;
		chh = cw;
		cx0 = (int)((tb[i].x0 + tb[i].x1) / 2) - cw / 2;
		cy0 = (int)((tb[i].y0 + tb[i].y1) / 2) - chh / 2;
		z = 320.0 / cw;
		zw = 640;
		zh = 320;
		if ((c = malloc((size_t)zw * zh)) == NULL)
			continue;
		for (y = 0; y < zh; y++)
			for (x = 0; x < zw; x++) {
				int	 sx = cx0 + (int)((x % 320) / z),
					 sy = cy0 + (int)(y / z);
				size_t	 o = (size_t)sy * f->nx + sx;

				c[(size_t)y * zw + x] = sx < 0 || sy < 0 ||
				    sx >= f->nx || sy >= f->ny ? 0 : x < 320 ?
				    (unsigned char)(f->img[o] * 255) : g[o];
			}
		(void)snprintf(path, sizeof(path), "%s/%s-miss%zu.png",
		    pic_dir, name, k);
		(void)fe_write_png(path, c, zw, zh);
		free(c);
	}
	free(g);
}

/* The place of working pixel (wx, wy) in r, the distance in widths to
 * the nearest long bone (0 on it) or, on one, to its nearer end into
 * *wd. */
static enum place
truth_place(const struct limb_result *r, int wx, int wy, double *wd)
{
	double	 bd = 1e9;
	size_t	 q;
	int	 lb = wx >= 0 && wy >= 0 && wx < r->wx && wy < r->wy ?
		     r->mask[(size_t)wy * r->wx + wx] : 0;

	for (q = 0; q < r->nbones; q++) {
		const struct limb_bone *b = &r->bones[q];
		double	 t = (wx - b->cx) * b->ax + (wy - b->cy) * b->ay,
			 u = fabs(-(wx - b->cx) * b->ay + (wy - b->cy) *
			     b->ax), e;

		if (b->width <= 0)
			continue;
		if (lb > 0 && b->label == lb) {
			*wd = fmin(t - b->t0, b->t1 - t) / b->width;
			return *wd < 2 ? PLACE_BONE_END : PLACE_SHAFT;
		}
		e = (fmax(fmax(b->t0 - t, t - b->t1), 0) + u) / b->width;
		bd = fmin(bd, e);
	}
	*wd = bd;
	if (bd < 2)
		return PLACE_NEAR_BONE;
	return lb > 0 ? PLACE_COMPONENT : PLACE_OFF;
}

/* Run the reader on dir/name with p; its result into r (zeroed when
 * refused).  0, or -1 (said). */
static int
run_one(const char *dir, const char *name, const struct limb_params *p,
    struct film **f, struct limb_result *r, double *secs)
{
	char	 path[1024], err[512];
	double	 t0;
	int	 rc;

	memset(r, 0, sizeof(*r));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (film_load(path, NULL, f, err, sizeof(err)) == -1) {
		printf("%s: %s\n", name, err);
		return -1;
	}
	t0 = fe_now();
	if (limb_film_check(*f, err, sizeof(err)) != 0) {
		printf("%s: refused: %s\n", name, err);
		*secs = fe_now() - t0;
		return 0;
	}
	rc = limb_detect(*f, p, r, err, sizeof(err));
	*secs = fe_now() - t0;
	if (rc == 1)
		printf("%s: refused: %s\n", name, err);
	else if (rc == -1) {
		printf("%s: %s\n", name, err);
		film_free(*f);
		return -1;
	}
	return 0;
}

/* The figures of the films of o (n) whose odd is want (-1: all): box
 * sensitivity, false boxes per film, image sensitivity and specificity,
 * with their bootstrap intervals, printed under label; the box
 * sensitivity and false boxes per film into *sens and *fpf. */
static void
figures(const struct one *o, int n, int want, const char *label,
    double *sens, double *fpf)
{
	static double	 bs[4][2000];
	int		 idx[MAXF], m = 0, i, k, j;
	double		 v[4], v0[4] = { 0, 0, 0, 0 }, lo[4], hi[4];

	for (i = 0; i < n; i++)
		if (want < 0 || o[i].odd == want)
			idx[m++] = i;
	for (k = -1; k < 2000; k++) {
		double	 th = 0, hh = 0, hi_ = 0, fa = 0, pf = 0, pp = 0,
			 nf = 0, nn = 0, ob = 0;

		for (j = 0; j < m; j++) {
			const struct one *x = &o[idx[k < 0 ? j : fe_rnd(m)]];

			th += x->truth;
			hh += x->hit;
			hi_ += x->hit_iou;
			ob += x->on_bone;
			fa += x->falses;
			if (x->truth > 0) {
				pf++;
				pp += x->reported > 0;
			} else {
				nf++;
				nn += x->reported == 0;
			}
		}
		v[0] = th ? hh / th : NAN;
		v[1] = m ? fa / m : NAN;
		v[2] = pf ? pp / pf : NAN;
		v[3] = nf ? nn / nf : NAN;
		if (k < 0) {
			memcpy(v0, v, sizeof(v0));
			*sens = v[0];
			*fpf = v[1];
			printf("%s: %d films, %.0f truth boxes\n", label, m, th);
			printf("  boxes hit (centre in box) %.0f/%.0f, by IoU >="
			    " 0.3 %.0f; false boxes %.0f; truth boxes centred on"
			    " a long bone the reader followed %.0f\n", hh, th,
			    hi_, fa, ob);
			continue;
		}
		for (j = 0; j < 4; j++)
			bs[j][k] = v[j];
	}
	for (j = 0; j < 4; j++) {
		qsort(bs[j], 2000, sizeof(double), fe_cmp_double);
		lo[j] = bs[j][49];
		hi[j] = bs[j][1949];
	}
	printf("  sensitivity by box %.2f (bootstrap 95%% %.2f-%.2f)\n",
	    v0[0], lo[0], hi[0]);
	printf("  false boxes per film %.2f (%.2f-%.2f)\n", v0[1], lo[1],
	    hi[1]);
	printf("  films with a fracture given a box %.2f (%.2f-%.2f),"
	    " films without given none %.2f (%.2f-%.2f)\n", v0[2], lo[2],
	    hi[2], v0[3], lo[3], hi[3]);
	printf("  truth boxes by where they lie (missed of them):\n");
	for (k = 0; k < PLACE__MAX; k++) {
		int	 pl = 0, mi = 0;

		for (j = 0; j < m; j++) {
			pl += o[idx[j]].place[k];
			mi += o[idx[j]].missed[k];
		}
		printf("    %s: %d (%d)\n", place_name[k], pl, mi);
	}
}

static int
run_set(const char *dir, const struct fe_box *tb, int ntb, char names[][32],
    int nn, const struct limb_params *p, struct one *o, double *tsecs,
    double *maxsecs, int pics)
{
	struct film		*f;
	struct limb_result	 r;
	double			 secs;
	int			 i, j, k, fail = 0;
	enum place		 c;
	double			 wd;

	for (i = 0; i < nn; i++) {
		struct one *x = &o[i];

		memset(x, 0, sizeof(*x));
		(void)snprintf(x->name, sizeof(x->name), "%.31s", names[i]);
		x->odd = atoi(names[i] + 4) % 2;
		if (run_one(dir, names[i], p, &f, &r, &secs) == -1) {
			fail = 1;
			continue;
		}
		*tsecs += secs;
		*maxsecs = secs > *maxsecs ? secs : *maxsecs;
		x->reported = (int)r.count;
		for (j = 0; j < ntb; j++) {
			int	 h = 0, hi = 0;

			if (strcmp(tb[j].file, names[i]) != 0)
				continue;
			x->truth++;
			if (r.mask != NULL) {
				int	 wx = (int)(((tb[j].x0 + tb[j].x1) / 2 -
					     f->field[0]) / r.scale),
					 wy = (int)(((tb[j].y0 + tb[j].y1) / 2 -
					     f->field[1]) / r.scale), lb;
				size_t	 q;

				lb = wx >= 0 && wy >= 0 && wx < r.wx &&
				    wy < r.wy ? r.mask[(size_t)wy * r.wx + wx] :
				    0;
				for (q = 0; lb > 0 && q < r.nbones; q++)
					if (r.bones[q].label == lb) {
						x->on_bone++;
						break;
					}
				/* Where the truth box lies (the misses'
				 * classes, README). */
				c = truth_place(&r, wx, wy, &wd);
				if (verbose)
					printf("%s: truth %d at %.0f,%.0f: %s"
					    " (%.1f widths)\n", names[i],
					    x->truth, (tb[j].x0 + tb[j].x1) / 2,
					    (tb[j].y0 + tb[j].y1) / 2,
					    place_name[c], wd);
			} else
				c = PLACE_REFUSED;
			for (k = 0; k < (int)r.count; k++) {
				h |= inside(&r.fx[k], &tb[j]);
				hi |= iou(&r.fx[k], &tb[j]) >= 0.3;
			}
			x->place[c]++;
			x->missed[c] += !h;
			x->hit += h;
			x->hit_iou += hi;
		}
		for (k = 0; k < (int)r.count; k++) {
			int	 any = 0;

			for (j = 0; j < ntb; j++)
				if (strcmp(tb[j].file, names[i]) == 0)
					any |= inside(&r.fx[k], &tb[j]);
			x->falses += !any;
			if (verbose)
				printf("%s: box %d %s %s score %.2f cues %x"
				    " line z %.1f angle %.0f cortex z %.1f step"
				    " %.2f angulation %.1f%s\n", names[i], k + 1,
				    r.fx[k].location, limb_type_zh[r.fx[k].type],
				    r.fx[k].score, r.fx[k].cues, r.fx[k].line_z,
				    r.fx[k].line_angle, r.fx[k].cortex_z,
				    r.fx[k].step, r.fx[k].angulation, any ?
				    " (hit)" : "");
		}
		if (verbose)
			printf("%s: %zu bones, %d/%d truth boxes hit\n",
			    names[i], r.nbones, x->hit, x->truth);
		if (pics)
			picture(names[i], f, &r, tb, ntb);
		limb_result_free(&r);
		film_free(f);
	}
	return fail;
}

int
main(int argc, char *argv[])
{
	static struct fe_box	 tb[MAXB];
	static struct one	 o[MAXF];
	static char		 names[MAXF][32];
	struct limb_params	 p = limb_defaults;
	const char		*data = getenv("ZY_DATA");
	char			 dir[1024], path[1100], line[512];
	double			 tsecs = 0, maxsecs = 0, factor = 1, sens, fpf,
				 s2, f2;
	int			 ch, ntb = 0, nn = 0, fail = 0, tune = 0, i;
	FILE			*fp;

	while ((ch = getopt(argc, argv, "d:k:p:Tv")) != -1)
		switch (ch) {
		case 'd':
			data = optarg;
			break;
		case 'k':
			factor = atof(optarg);
			break;
		case 'p':
			pic_dir = optarg;
			break;
		case 'T':
			tune = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: limbeval [-d datadir] [-p dir]"
			    " [-k factor] [-T] [-v]\n");
			return 2;
		}
	if (data == NULL || *data == '\0')
		data = ZY_TOP_SRCDIR "/../shared/data";
	(void)snprintf(dir, sizeof(dir), "%s/dr/fracture", data);
	(void)snprintf(path, sizeof(path), "%s/images.csv", dir);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("limbeval: %s absent: skipped\n", path);
		printf("[  SKIPPED ] 1 test(s).\n");
		return 77;
	}
	while (fgets(line, sizeof(line), fp) != NULL && nn < MAXF) {
		char	*c = strchr(line, ',');

		if (c == NULL || strncmp(line, "file,", 5) == 0)
			continue;
		*c = '\0';
		(void)snprintf(names[nn++], sizeof(names[0]), "%.31s", line);
	}
	(void)fclose(fp);
	(void)snprintf(path, sizeof(path), "%s/boxes.csv", dir);
	if ((ntb = fe_read_boxes(path, "fracture", tb, MAXB)) == -1) {
		printf("limbeval: %s absent\n", path);
		return 1;
	}
	if (tune) {
		static const double ks[] = { 0.6, 0.7, 0.8, 0.9, 1.0, 1.1,
		    1.25, 1.5, 1.75, 2.0 };
		size_t	 q;

		printf("the tuning half (odd-numbered films), every threshold"
		    " times k:\n");
		for (q = 0; q < sizeof(ks) / sizeof(ks[0]); q++) {
			struct limb_params pk = limb_defaults;
			int	 th = 0, hh = 0, fa = 0, m = 0;

			pk.line_z *= ks[q];
			pk.line_min *= ks[q];
			pk.cortex_z *= ks[q];
			pk.cortex_min *= ks[q];
			pk.step *= ks[q];
			pk.angle *= ks[q];
			(void)run_set(dir, tb, ntb, names, nn, &pk, o, &tsecs,
			    &maxsecs, 0);
			for (i = 0; i < nn; i++)
				if (o[i].odd) {
					th += o[i].truth;
					hh += o[i].hit;
					fa += o[i].falses;
					m++;
				}
			printf("  k %.2f: boxes hit %d/%d = %.2f, false boxes"
			    " per film %.2f\n", ks[q], hh, th, th ?
			    (double)hh / th : 0, m ? (double)fa / m : 0);
		}
		return 0;
	}
	p.line_z *= factor;
	p.line_min *= factor;
	p.cortex_z *= factor;
	p.cortex_min *= factor;
	p.step *= factor;
	p.angle *= factor;
	fail |= run_set(dir, tb, ntb, names, nn, &p, o, &tsecs, &maxsecs, 1);
	printf("dr/fracture (the thresholds times %.2f; hit: the reported"
	    " site's centre inside the truth box)\n", factor);
	figures(o, nn, 1, "odd-numbered films (the thresholds chosen on"
	    " them)", &s2, &f2);
	figures(o, nn, 0, "even-numbered films (held out)", &s2, &f2);
	figures(o, nn, -1, "all 80 films", &sens, &fpf);
	if (sens < 0.05 || fpf > 2.5)
		fail = 1;
	printf("  seconds per film (check and detection, decoding apart):"
	    " mean %.3f, max %.3f\n", tsecs / nn, maxsecs);
	if (maxsecs > 2)
		fail = 1;
	/* Limb films with no fracture known: the boxes they get. */
	{
		static const char *const ext[] = {
			"wg04_RG2_hip_CR_uncompressed.dcm",
			"wg04_RG3_tibia-ankle-AP_CR_MONOCHROME1_"
			    "uncompressed.dcm",
		};
		struct film		*f;
		struct limb_result	 r;
		double			 secs;
		size_t			 q;
		int			 boxes = 0, films = 0;

		(void)snprintf(dir, sizeof(dir), "%s/xray/extremity", data);
		for (q = 0; q < sizeof(ext) / sizeof(ext[0]); q++) {
			if (run_one(dir, ext[q], &p, &f, &r, &secs) == -1)
				continue;
			films++;
			boxes += (int)r.count;
			printf("xray/extremity/%s: %zu bones, %zu boxes,"
			    " %.3f s\n", ext[q], r.nbones, r.count, secs);
			picture(ext[q], f, &r, NULL, 0);
			limb_result_free(&r);
			film_free(f);
		}
		printf("xray/extremity: %d boxes on %d films without a known"
		    " fracture\n", boxes, films);
		if (boxes > films)
			fail = 1;
	}
	if (fail)
		printf("limbeval: the guard failed (box sensitivity >= 0.05,"
		    " <= 2.5 false boxes per film, <= 1 box per extremity"
		    " film, <= 2 s per film, every film loads)\n");
	return fail;
}
