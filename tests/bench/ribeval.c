/*
 * ribeval - the ribs (src/infer/ribs.c) on the rib cage phantom and on
 * the real chest CT.
 *
 *	ribeval [-lnuz] [-d folder] [-o options] [-p dir]
 *
 * 1. The rib cage phantom (src/lib/ribcage.c, its nine standard
 *    fractures) at 0.625, 1.25 and 2 mm with 15 HU of noise, three seeds
 *    each: per scan the ribs found, whether every rib is numbered right
 *    (the rib numbered n on a side within 4 mm of the truth rib n at its
 *    shaft's middle), the fractures found (within 10 mm on the right
 *    rib), their type and segment right, and the false candidates;
 *    summed: sensitivity and false positives per scan.
 * 2. LIDC-IDRI-0002 (../shared/data, or $ZY_DATA; no known fracture):
 *    the ribs with their numbers, head heights and lengths, the
 *    vertebrae's labels, every fracture candidate (each a false positive
 *    here), and the time of the anatomy (ANAT_VERTEBRAE) and of the ribs
 *    (tracing and the fracture search) once the anatomy is there; then
 *    the whole rib fracture reader (ribfrac.c: the ribs, the lesions,
 *    the text, the overlays) with the anatomy in the shared cache, as the
 *    daemon runs it after another reader of the series.
 *
 * With -o the phantom takes ribcage_spec.options (1 the oblique ribs, 2
 * the scapulae and clavicles, 3 both), with -z it has no fractures, with
 * -u it has the scapulae and clavicles and, instead of the nine, four
 * fractures under the scapulae (a cut on R3, a displaced cut on L4, a
 * buckle on R5, a cut on L6, 0.18-0.25 of the shaft from the tubercle).
 * With -l only LIDC-IDRI-0002 is read; with -d only the DICOM series in
 * folder (one that zhiying-phantom -R wrote, say), printed as LIDC's.  With -p dir: for each scan a frontal projection (the maximum over the
 * back half of the body, bone window) with each rib's centre line drawn
 * and its number written at its outer end (R right, L left), and a side
 * projection with the vertebrae's labels; for LIDC also each candidate's
 * key slice round its box.  The program exits 1 when the phantom's
 * numbering or its fractures fall short of what test_ribs asserts, so
 * that it guards the figures it prints; with -n it only prints.  Without
 * the data the LIDC part is skipped, saying so.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anatomy.h"
#include "buf.h"
#include "compute.h"
#include "preview.h"
#include "realdata.h"
#include "ribcage.h"
#include "ribs.h"
#include "series.h"
#include "spine.h"
#include "reader.h"
#include "ribfrac.h"

#define PROG	"ribeval"

static const char	*pic_dir;
static unsigned		 ph_options;	/* -o: ribcage_spec.options */
static int		 ph_none;	/* -z: the phantom without fractures */
static int		 ph_under;	/* -u: fractures under the scapulae */
static struct compute	*cpu;

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Pictures ---- */

/* A 3 x 5 font: the digits, R, L, T, S and ?. */
static const struct {
	char	 c;
	char	 rows[16];
} font[] = {
	{ '0', "111101101101111" }, { '1', "010110010010111" },
	{ '2', "111001111100111" }, { '3', "111001011001111" },
	{ '4', "101101111001001" }, { '5', "111100111001111" },
	{ '6', "111100111101111" }, { '7', "111001010010010" },
	{ '8', "111101111101111" }, { '9', "111101111001111" },
	{ 'R', "110101110101101" }, { 'L', "100100100100111" },
	{ 'T', "111010010010010" }, { 'S', "111100111001111" },
	{ '?', "111001011000010" },
};

struct pic {
	unsigned char	*g;
	int		 w, h;
};

static void
put(struct pic *p, int x, int y, unsigned char c)
{
	if (x >= 0 && y >= 0 && x < p->w && y < p->h)
		p->g[(size_t)y * p->w + x] = c;
}

/* Text at (x, y), white on a black outline, scale s. */
static void
text(struct pic *p, int x, int y, const char *s, int sc)
{
	int	 pass, i, r, c, a, b;
	size_t	 f;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; s[i] != '\0'; i++) {
			for (f = 0; f < sizeof(font) / sizeof(font[0]); f++)
				if (font[f].c == s[i])
					break;
			if (f == sizeof(font) / sizeof(font[0]))
				continue;
			for (r = 0; r < 5; r++)
				for (c = 0; c < 3; c++) {
					if (font[f].rows[r * 3 + c] != '1')
						continue;
					for (b = -1; b <= sc; b++)
						for (a = -1; a <= sc; a++) {
							int	 in = a >= 0 && b >= 0 &&
							    a < sc && b < sc;

							if (pass == 0 && !in)
								put(p, x + (i * 4 + c) * sc + a,
								    y + r * sc + b, 0);
							else if (pass == 1 && in)
								put(p, x + (i * 4 + c) * sc + a,
								    y + r * sc + b, 255);
						}
				}
		}
}

static void
pic_write(struct pic *p, const char *name)
{
	struct buf	 b;
	char		 path[PATH_MAX];
	FILE		*fp;

	if (pic_dir == NULL)
		return;
	buf_init(&b, 1 << 22);
	(void)snprintf(path, sizeof(path), "%s/%s.png", pic_dir, name);
	if (preview_png_encode(p->g, p->w, p->h, &b) == 0 &&
	    (fp = fopen(path, "wb")) != NULL) {
		(void)fwrite(b.data, 1, b.len, fp);
		(void)fclose(fp);
		printf("  picture %s\n", path);
	}
	buf_free(&b);
}

static unsigned char
bone_gray(double hu)
{
	double	 t = (hu + 100.0) / 1100.0;

	return (unsigned char)(255.0 * (t < 0 ? 0 : t > 1 ? 1 : t));
}

/*
 * The frontal projection: the maximum over the back half of the body
 * (rows behind the cage's centre) and, beside it, over the front half;
 * z up, scaled to square pixels.  Each rib's centre line is drawn on the
 * half it lies in, its number at its outer end.
 */
static void
frontal(const struct series_volume *v, const struct ribs_info *ri,
    const char *name)
{
	struct pic	 p;
	double		 zs = fabs(v->step[2]) / v->spacing[0];
	int		 H = (int)lround(v->nz * zs), W = v->nx, i, j, row, half;
	size_t		 r;
	int		 up = v->step[2] > 0;

	if (pic_dir == NULL)
		return;
	p.w = 2 * W;
	p.h = H;
	if ((p.g = calloc((size_t)p.w * p.h, 1)) == NULL)
		return;
	for (half = 0; half < 2; half++)
		for (row = 0; row < H; row++) {
			int	 k = (int)(row / zs);

			if (up)
				k = v->nz - 1 - k;
			if (k < 0 || k >= v->nz)
				continue;
			for (i = 0; i < W; i++) {
				float	 m = -1000.0f;

				for (j = 0; j < v->ny; j++) {
					int	 back = j >= ri->cage[1];

					if (back != (half == 0))
						continue;
					m = fmaxf(m, v->vox[((size_t)k *
					    v->ny + j) * v->nx + i]);
				}
				p.g[(size_t)row * p.w + half * W + i] =
				    bone_gray(m);
			}
		}
	for (r = 0; r < ri->n; r++) {
		const struct rib	*rb = &ri->r[r];
		int			 out = 0, t;
		double			 best = -1.0;
		char			 lab[16];

		for (t = 0; t < rb->n; t++) {
			int	 x = (int)lround(rb->c[t][0]);
			int	 k = (int)lround(rb->c[t][2]);
			int	 y = (int)lround((up ? v->nz - 1 - k : k) * zs);
			int	 hf = rb->c[t][1] >= ri->cage[1] ? 0 : 1;

			put(&p, hf * W + x, y, t % 6 < 4 ? 255 : 0);
			/* The label behind, some 45 mm from the head, where
			 * the ribs are counted down the spine by eye. */
			if (best < 0.0 && t * 1.0 >= 45.0) {
				best = 1.0;
				out = t;
			}
		}
		{
			int	 x = (int)lround(rb->c[out][0]);
			int	 k = (int)lround(rb->c[out][2]);
			int	 y = (int)lround((up ? v->nz - 1 - k : k) * zs);
			int	 hf = rb->c[out][1] >= ri->cage[1] ? 0 : 1;

			if (rb->number > 0)
				(void)snprintf(lab, sizeof(lab), "%c%d",
				    rb->side == RIB_RIGHT ? 'R' : 'L',
				    rb->number);
			else
				(void)snprintf(lab, sizeof(lab), "%c?",
				    rb->side == RIB_RIGHT ? 'R' : 'L');
			text(&p, hf * W + x + (x < ri->cage[0] ? -34 : 6),
			    y - 14, lab, 2);
		}
	}
	for (r = 0; r < ri->nf; r++) {
		const struct rib_fracture *f = &ri->f[r];
		int	 x = (int)lround(f->p[0]), k = (int)lround(f->p[2]);
		int	 y = (int)lround((up ? v->nz - 1 - k : k) * zs), a;
		int	 hf = f->p[1] >= ri->cage[1] ? 0 : 1;

		for (a = -6; a <= 6; a++) {
			put(&p, hf * W + x + a, y - 6, 255);
			put(&p, hf * W + x + a, y + 6, 255);
			put(&p, hf * W + x - 6, y + a, 255);
			put(&p, hf * W + x + 6, y + a, 255);
		}
	}
	pic_write(&p, name);
	free(p.g);
}

/* The side projection round the spine (a slab of 60 mm about the cage's
 * centre line), the vertebrae's labels at their centres. */
static void
side(const struct series_volume *v, const struct spine_info *si,
    const struct ribs_info *ri, const char *name)
{
	struct pic	 p;
	double		 zs = fabs(v->step[2]) / v->spacing[1];
	int		 H = (int)lround(v->nz * zs), W = v->ny, i, j, row;
	int		 up = v->step[2] > 0, half = (int)lround(30.0 /
			    v->spacing[0]);
	size_t		 b;

	if (pic_dir == NULL)
		return;
	p.w = W;
	p.h = H;
	if ((p.g = calloc((size_t)p.w * p.h, 1)) == NULL)
		return;
	for (row = 0; row < H; row++) {
		int	 k = (int)(row / zs);

		if (up)
			k = v->nz - 1 - k;
		if (k < 0 || k >= v->nz)
			continue;
		for (j = 0; j < W; j++) {
			float	 m = -1000.0f;
			int	 c = (int)lround(ri->cage[0]);

			for (i = c - half; i <= c + half; i++)
				if (i >= 0 && i < v->nx)
					m = fmaxf(m, v->vox[((size_t)k * v->ny +
					    j) * v->nx + i]);
			p.g[(size_t)row * p.w + j] = bone_gray(m);
		}
	}
	for (b = 0; b < si->n && b < ri->nv; b++) {
		int	 k = (int)lround(si->v[b].c[2]);
		int	 y = (int)lround((up ? v->nz - 1 - k : k) * zs);
		int	 x = (int)lround(si->v[b].c[1]);
		const char *l = spine_label_name(ri->vlabel[b]);

		text(&p, x - 60, y - 5, l, 2);
	}
	pic_write(&p, name);
	free(p.g);
}

/* Trilinear CT number at voxel coordinates; -1000 outside. */
static double
sample(const struct series_volume *v, double x, double y, double z)
{
	int	 i = (int)floor(x), j = (int)floor(y), k = (int)floor(z);
	double	 fx = x - i, fy = y - j, fz = z - k, r = 0.0;
	int	 a, b, c;

	if (i < 0 || j < 0 || k < 0 || i + 1 >= v->nx || j + 1 >= v->ny ||
	    k + 1 >= v->nz)
		return -1000.0;
	for (c = 0; c < 2; c++)
		for (b = 0; b < 2; b++)
			for (a = 0; a < 2; a++)
				r += (a ? fx : 1 - fx) * (b ? fy : 1 - fy) *
				    (c ? fz : 1 - fz) * v->vox[((size_t)(k +
				    c) * v->ny + j + b) * v->nx + i + a];
	return r;
}

/*
 * Below the key slice, the rib straightened round the candidate in two
 * planes square to each other (curved planar reformation, Kanitsar et
 * al., 2002): along the centre line 20 mm either way (across), 8 mm
 * either side of it (down) in the axial plane's direction u (in-out
 * round the cage) and in w (up-down), 0.25 mm a pixel, with a mark at
 * the candidate.  A buckle shows as a bulge of one cortex in one of
 * them at least, a break as a dark line across the rib in both.
 */
static void
straight(const struct series_volume *v, const struct rib *r, int at,
    struct pic *p, int y0)
{
	double	 mm[3] = { v->spacing[0], v->spacing[1], v->spacing[2] };
	int	 px, py, pl, k;

	for (pl = 0; pl < 2; pl++)
		for (px = 0; px < 160; px++) {
			double	 s = at + (px - 80) * 0.25, t[3], u[3], w[3], L;
			double	 c[3];
			int	 i0 = (int)floor(s), a, b;

			if (i0 < 0 || i0 + 1 >= r->n)
				continue;
			a = i0 - 3 < 0 ? 0 : i0 - 3;
			b = i0 + 3 >= r->n ? r->n - 1 : i0 + 3;
			for (k = 0; k < 3; k++) {
				c[k] = (r->c[i0][k] + (s - i0) * (r->c[i0 +
				    1][k] - r->c[i0][k])) * mm[k];
				t[k] = (r->c[b][k] - r->c[a][k]) * mm[k];
			}
			L = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
			if (L <= 0.0)
				continue;
			for (k = 0; k < 3; k++)
				t[k] /= L;
			ribs_section_axes(t, u, w);
			for (py = 0; py < 64; py++) {
				double	 o = (py - 32) * 0.25, q[3];
				const double *d = pl == 0 ? u : w;

				for (k = 0; k < 3; k++)
					q[k] = (c[k] + o * d[k]) / mm[k];
				put(p, px, y0 + pl * 66 + py, bone_gray(sample(v,
				    q[0], q[1], q[2])));
			}
			if (px == 80)
				for (py = 0; py < 4; py++) {
					put(p, px, y0 + pl * 66 + py, 255);
					put(p, px, y0 + pl * 66 + 63 - py,
					    255);
				}
		}
}

/* A candidate's key slice round its box, bone window, 2x; below it the
 * rib straightened round it in two planes (straight()). */
static void
crop(const struct series_volume *v, const struct ribs_info *ri,
    const struct rib_fracture *f, const char *name)
{
	enum { HALF = 40, Z = 2, W = 2 * HALF * Z, SH = 132 };
	struct pic	 p;
	int		 cx = (f->x0 + f->x1) / 2, cy = (f->y0 + f->y1) / 2;
	int		 i, j, x, y, k = f->key_slice;

	if (pic_dir == NULL)
		return;
	p.w = W;
	p.h = W + SH;
	if ((p.g = calloc((size_t)p.w * p.h, 1)) == NULL)
		return;
	straight(v, &ri->r[f->rib], (int)lround(f->s_mm), &p, W);
	for (j = 0; j < W; j++)
		for (i = 0; i < W; i++) {
			x = cx - HALF + i / Z;
			y = cy - HALF + j / Z;
			p.g[(size_t)j * W + i] = x < 0 || y < 0 || x >= v->nx ||
			    y >= v->ny ? 0 : bone_gray(v->vox[((size_t)k *
			    v->ny + y) * v->nx + x]);
			if (((x == f->x0 || x == f->x1) && y >= f->y0 &&
			    y <= f->y1) || ((y == f->y0 || y == f->y1) &&
			    x >= f->x0 && x <= f->x1))
				p.g[(size_t)j * W + i] = (i + j) % 6 < 3 ?
				    255 : 0;
		}
	pic_write(&p, name);
	free(p.g);
}

/* ---- The phantom ---- */

static void
to_mm(const struct series_volume *v, const double p[3], double q[3])
{
	q[0] = v->origin[0] + p[0] * v->spacing[0];
	q[1] = v->origin[1] + p[1] * v->spacing[1];
	q[2] = v->origin[2] + p[2] * v->step[2];
}

static double
dist3(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] -
	    b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

struct tally {
	int	 scans, ribs_right, ribs, found, typed, placed, truth, fp;
	int	 off3;		/* ribs whose line strays over 3 mm */
	double	 off_max;	/* the largest stray, mm */
};

/*
 * How far the centre line r strays from the truth rib (side, num): the
 * largest distance, mm, from the truth's shaft points (every 2 % from
 * 5 % to 95 % of the shaft) to the nearest point of r; *at the shaft's
 * fraction where it is largest.
 */
static double
line_off(const struct series_volume *v, const struct ribcage_spec *sp,
    const struct rib *r, int side, int num, double *at)
{
	double	 q[3], m[3], worst = 0.0, t;
	int	 c;

	*at = 0.0;
	for (t = 0.05; t <= 0.951; t += 0.02) {
		double	 best = 1e30;

		(void)ribcage_rib_point(sp, side, num, t, q);
		for (c = 0; c < r->n; c++) {
			double	 p[3] = { r->c[c][0], r->c[c][1], r->c[c][2] };

			to_mm(v, p, m);
			best = fmin(best, dist3(m, q));
		}
		if (best > worst) {
			worst = best;
			*at = t;
		}
	}
	return worst;
}

static enum rib_frac_type
truth_type(const struct ribcage_spec *sp, size_t i)
{
	size_t	 j;

	if (sp->f[i].kind == RIBCAGE_CUT)
		for (j = 0; j < sp->nf; j++)
			if (j != i && sp->f[j].side == sp->f[i].side &&
			    sp->f[j].number == sp->f[i].number &&
			    (sp->f[j].kind == RIBCAGE_CUT || sp->f[j].kind ==
			    RIBCAGE_DISPLACED))
				return RIBF_SEGMENTAL;
	return sp->f[i].kind == RIBCAGE_DISPLACED ? RIBF_DISPLACED :
	    sp->f[i].kind == RIBCAGE_BUCKLE ? RIBF_BUCKLE :
	    sp->f[i].kind == RIBCAGE_CALLUS ? RIBF_OLD : RIBF_NONDISPLACED;
}

static int
phantom(double slice, unsigned seed, struct tally *t)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	char			 err[256], name[64];
	double			 q[3], m[3], t0, ta, tr;
	int			 side, num, right = 0, found = 0, fp = 0;
	int			*hit;
	size_t			 i, j;

	/* -u: under the scapulae (ribcage_under_scapula(), as
	 * test_ribs), the shoulder with the options of -o. */
	if (ph_under)
		ribcage_under_scapula(&sp, slice, 15.0, seed);
	else
		ribcage_standard(&sp, slice, 15.0, seed);
	sp.options |= ph_options;
	if (ph_none && !ph_under)
		sp.nf = 0;
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": phantom: %s\n", err);
		return -1;
	}
	if ((ac = anatomy_cache_new()) == NULL || (ri = calloc(1,
	    sizeof(*ri))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	t0 = now();
	if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": anatomy: %s\n", err);
		return -1;
	}
	ta = now() - t0;
	t0 = now();
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    sizeof(err)) == -1 || ribs_fractures(v, ri, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": ribs: %s\n", err);
		return -1;
	}
	tr = now() - t0;
	for (side = 1; side <= 2; side++)
		for (num = 1; num <= 12; num++) {
			int	 ok = 0, c;

			(void)ribcage_rib_point(&sp, side, num, 0.5, q);
			for (i = 0; i < ri->n; i++) {
				const struct rib *r = &ri->r[i];
				double	 best = 1e30;

				if (r->side != side || r->number != num)
					continue;
				for (c = 0; c < r->n; c++) {
					double	 p[3] = { r->c[c][0], r->c[c][1],
						    r->c[c][2] };

					to_mm(v, p, m);
					best = fmin(best, dist3(m, q));
				}
				ok = best <= 4.0;
				if (ok) {
					double	 at, off = line_off(v, &sp, r,
						    side, num, &at);

					t->off_max = fmax(t->off_max, off);
					if (off > 3.0) {
						t->off3++;
						printf("  line %c%d strays %.1f mm "
						    "at %.2f of the shaft\n",
						    side == RIB_RIGHT ? 'R' :
						    'L', num, off, at);
					}
				}
			}
			right += ok;
		}
	if ((hit = calloc(ri->nf + 1, sizeof(*hit))) == NULL)
		return -1;
	for (i = 0; i < sp.nf; i++) {
		int	 best = -1;
		double	 bd = 10.0;

		for (j = 0; j < ri->nf; j++) {
			const struct rib *r = &ri->r[ri->f[j].rib];

			to_mm(v, ri->f[j].p, m);
			if (r->side == sp.f[i].side && r->number ==
			    sp.f[i].number && dist3(m, sp.f[i].p) <= bd) {
				bd = dist3(m, sp.f[i].p);
				best = (int)j;
			}
		}
		if (best < 0)
			continue;
		hit[best] = 1;
		found++;
		t->typed += ri->f[best].type == truth_type(&sp, i);
		t->placed += ri->f[best].segment == sp.f[i].segment;
		if (ri->f[best].segment != sp.f[i].segment)
			printf("  %s %d%c at %.2f of the shaft: segment %d, "
			    "truth %d\n", ribcage_kind_names[sp.f[i].kind],
			    sp.f[i].number, sp.f[i].side == 1 ? 'R' : 'L',
			    sp.f[i].t, ri->f[best].segment, sp.f[i].segment);
	}
	for (j = 0; j < ri->nf; j++) {
		if (hit[j])
			continue;
		fp++;
		ribs_where_zh(ri, &ri->f[j], name, sizeof(name));
		printf("  false %s %s slice %d (ring %.2f step %.1f angle %.0f "
		    "bulge %.1f thick %.1f)\n", name, rib_frac_zh[ri->f[j].type],
		    ri->f[j].key_slice, ri->f[j].ring, ri->f[j].step_mm,
		    ri->f[j].angle_deg, ri->f[j].bulge_mm, ri->f[j].thick_mm);
	}
	for (i = 0; i < ri->n; i++)
		if (!ri->r[i].searched)
			printf("  rib %c%d not searched\n", ri->r[i].side ==
			    RIB_RIGHT ? 'R' : 'L', ri->r[i].number);
	printf("phantom %.3g mm seed %u: %zu ribs, %d/24 numbered right%s, "
	    "fractures %d/%zu, false %d; anatomy %.2f s, ribs %.2f s\n", slice,
	    seed, ri->n, right, ri->uncertain ? " (uncertain)" : "", found,
	    sp.nf, fp, ta, tr);
	if (seed == 1) {
		(void)snprintf(name, sizeof(name), "phantom-%g-frontal", slice);
		frontal(v, ri, name);
	}
	if (ph_under && seed == 1)
		for (i = 0; i < sp.nf; i++)
			printf("  truth %s %d%c at %.2f: x %.0f y %.0f z %.0f "
			    "mm\n", ribcage_kind_names[sp.f[i].kind],
			    sp.f[i].number, sp.f[i].side == 1 ? 'R' : 'L',
			    sp.f[i].t, sp.f[i].p[0], sp.f[i].p[1], sp.f[i].p[2]);
	t->scans++;
	t->ribs += (int)ri->n;
	t->ribs_right += right;
	t->found += found;
	t->truth += (int)sp.nf;
	t->fp += fp;
	free(hit);
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
	return 0;
}

/* ---- A folder of DICOM files (-d) ---- */

/*
 * A DICOM file by its name (.dcm) or by its content: the 128-byte
 * preamble and "DICM" (PS3.10 7.1).  Series as archived or exported
 * often carry no extension (ct/totalseg-example: CT.<uid>), which the
 * unit tests' realdata_find_dcm_dir() and realdata_load(), keyed on
 * ".dcm", do not see.
 */
static int
is_dicom(const char *path, const char *name)
{
	FILE		*f;
	char		 m[132];
	struct stat	 st;
	int		 ok;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	if (strstr(name, ".dcm") != NULL)
		return 1;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(m, 1, sizeof(m), f) == sizeof(m) &&
	    memcmp(m + 128, "DICM", 4) == 0;
	(void)fclose(f);
	return ok;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The DICOM files of the first folder at or under dir that holds any
 * (sorted by name) into *paths, their count into *n.  Returns 0, -1
 * when there are none. */
static int
dicom_files(const char *dir, char ***paths, size_t *n)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[4096], **l = NULL, **t;
	size_t		 m = 0, cap = 0;
	struct stat	 st;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!is_dicom(p, e->d_name))
			continue;
		if (m == cap) {
			cap = cap ? 2 * cap : 256;
			if ((t = realloc(l, cap * sizeof(*l))) == NULL)
				break;
			l = t;
		}
		if ((l[m] = strdup(p)) == NULL)
			break;
		m++;
	}
	if (m > 0) {
		(void)closedir(d);
		qsort(l, m, sizeof(*l), cmp_path);
		*paths = l;
		*n = m;
		return 0;
	}
	free(l);
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
		    dicom_files(p, paths, n) == 0) {
			(void)closedir(d);
			return 0;
		}
	}
	(void)closedir(d);
	return -1;
}

/* The series in folder (its DICOM files, any name) into *v.  Returns 0,
 * 1 when the folder holds no DICOM file, -1 when they do not load. */
static int
folder_load(const char *folder, struct series_volume **v)
{
	char	**paths = NULL, err[512];
	size_t	 n = 0, i;
	int	 rc;

	if (dicom_files(folder, &paths, &n) == -1)
		return 1;
	rc = series_load((const char *const *)paths, n, NULL, v, err,
	    sizeof(err));
	if (rc == -1)
		fprintf(stderr, PROG ": %s: %s\n", folder, err);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc == -1 ? -1 : 0;
}

/* ---- LIDC-IDRI-0002 ---- */

static int
lidc(const char *folder, int *fp_out)
{
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	char			 base[4096], dir[4096], err[256], w[64];
	char			 name[64];
	double			 t0, ta, tr;
	size_t			 i;
	int			 lr;

	if (folder != NULL) {
		if ((lr = folder_load(folder, &v)) == 1) {
			fprintf(stderr, PROG ": %s: no DICOM file\n", folder);
			return -1;
		}
		if (lr == -1)
			return -1;
	} else {
		(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
		    realdata_dir());
		if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
			printf("lidc: %s not found: skipped\n", base);
			return 1;
		}
		if (realdata_load(dir, &v, NULL, 0) == -1) {
			fprintf(stderr, PROG ": cannot load %s\n", dir);
			return -1;
		}
	}
	if ((ac = anatomy_cache_new()) == NULL || (ri = calloc(1,
	    sizeof(*ri))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	t0 = now();
	if (anatomy_get(ac, cpu, v, 2, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": anatomy: %s\n", err);
		return -1;
	}
	ta = now() - t0;
	t0 = now();
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    sizeof(err)) == -1 || ribs_fractures(v, ri, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": ribs: %s\n", err);
		return -1;
	}
	tr = now() - t0;
	printf("lidc %s: %dx%dx%d, %.3g mm; anatomy %.2f s, "
	    "ribs %.2f s (tracing and fractures)\n", folder != NULL ? folder :
	    "LIDC-IDRI-0002", v->nx, v->ny, v->nz,
	    fabs(v->step[2]), ta, tr);
	printf("  %zu ribs; %s%s; the lungs' apices: top 3 mm %.2f of the "
	    "largest slice, top seen R %d L %d, bottom seen R %d L %d\n",
	    ri->n, ri->numbered ? ri->how_zh : "not numbered: ", ri->numbered ?
	    "" : ri->why, ri->apex_share, ri->top_seen[RIB_RIGHT],
	    ri->top_seen[RIB_LEFT], ri->bottom_seen[RIB_RIGHT],
	    ri->bottom_seen[RIB_LEFT]);
	for (i = 0; i < ri->n; i++)
		printf("  rib %c%-2d %3d mm, head z %.1f, reach %.0f mm, body "
		    "%s\n", ri->r[i].side == RIB_RIGHT ? 'R' : 'L',
		    ri->r[i].number, ri->r[i].n, ri->r[i].head_z,
		    ri->r[i].reach_mm, ri->r[i].body >= 0 ?
		    spine_label_name(ri->vlabel[ri->r[i].body]) : "-");
	for (i = 0; i < an->spine.n; i++)
		printf("  vertebra %s slices %d-%d\n",
		    spine_label_name(ri->vlabel[i]), an->spine.v[i].k0,
		    an->spine.v[i].k1);
	for (i = 0; i < ri->nf; i++) {
		ribs_where_zh(ri, &ri->f[i], w, sizeof(w));
		printf("  candidate %02zu %s %s slice %d, %.0f mm from the head "
		    "of %d (ring %.2f step %.1f angle %.0f bulge %.1f thick "
		    "%.1f)\n", i, w, rib_frac_zh[ri->f[i].type],
		    ri->f[i].key_slice, ri->f[i].s_mm, ri->r[ri->f[i].rib].n,
		    ri->f[i].ring, ri->f[i].step_mm, ri->f[i].angle_deg,
		    ri->f[i].bulge_mm, ri->f[i].thick_mm);
		(void)snprintf(name, sizeof(name), "lidc-candidate-%02zu", i);
		crop(v, ri, &ri->f[i], name);
	}
	/* The whole reader as the daemon runs it after another reader of
	 * the series (the bone density reader) computed the vertebrae: the
	 * anatomy from the shared cache, the ribs, the result. */
	{
		struct reader_ctx	 ctx;
		struct ai_result	 res;
		int			 rc;

		memset(&ctx, 0, sizeof(ctx));
		ctx.compute = cpu;
		ctx.series_id = 2;
		ctx.anatomy = ac;
		ai_result_init(&res);
		t0 = now();
		rc = ribfrac_reader.run(&ctx, v, &res, err, sizeof(err));
		printf("lidc: the reader with the anatomy cached %.2f s (%s, "
		    "%zu lesions)\n", now() - t0, rc == 0 ? "done" : rc == 1 ?
		    "refused" : "failed", res.nlesions);
		if (rc != 0)
			printf("  %s\n", err);
		ai_result_free(&res);
	}
	if (folder == NULL)
		printf("lidc: %zu false positives (no known fracture)\n",
		    ri->nf);
	else
		printf("%s: %zu candidates\n", folder, ri->nf);
	frontal(v, ri, "lidc-frontal");
	side(v, &an->spine, ri, "lidc-side");
	*fp_out = (int)ri->nf;
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const double	 slices[] = { 0.625, 1.25, 2.0 };
	struct tally		 t = { 0 };
	int			 ch, only = 0, fail = 0, fp = 0, s, ret;
	int			 real_only = 0;
	const char		*folder = NULL;
	unsigned		 seed;

	while ((ch = getopt(argc, argv, "d:lno:p:uz")) != -1)
		switch (ch) {
		case 'u':
			ph_under = 1;
			break;
		case 'o':
			ph_options = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'z':
			ph_none = 1;
			break;
		case 'd':
			folder = optarg;
			real_only = 1;
			break;
		case 'l':
			real_only = 1;
			break;
		case 'n':
			only = 1;
			break;
		case 'p':
			pic_dir = optarg;
			if (mkdir(pic_dir, 0755) == -1 && errno != EEXIST) {
				fprintf(stderr, PROG ": %s: %s\n", pic_dir,
				    strerror(errno));
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: " PROG " [-lnuz] [-d folder] [-o options] "
			    "[-p dir]\n");
			return 2;
		}
	if ((cpu = compute_cpu_open()) == NULL) {
		fprintf(stderr, PROG ": no compute backend\n");
		return 1;
	}
	for (s = 0; s < 3 && !real_only; s++)
		for (seed = 1; seed <= 3; seed++)
			if (phantom(slices[s], seed, &t) == -1)
				return 1;
	if (!real_only)
		printf("phantom: %d scans, ribs numbered right %d/%d, sensitivity "
	    "%d/%d (%.1f %%), type right %d, segment right %d, false "
	    "positives %.2f per scan\n", t.scans, t.ribs_right, 24 * t.scans,
	    t.found, t.truth, 100.0 * t.found / t.truth, t.typed, t.placed,
	    (double)t.fp / t.scans);
	if (!real_only)
		printf("phantom: centre lines straying over 3 mm from the "
		    "truth (5-95 %% of the shaft) %d of %d, the largest %.1f "
		    "mm\n", t.off3, t.ribs_right, t.off_max);
	if (!real_only && (t.ribs_right != 24 * t.scans ||
	    t.found != t.truth || t.fp > t.scans))
		fail = 1;
	ret = lidc(folder, &fp);
	if (ret == -1)
		fail = 1;
	compute_close(cpu);
	if (fail && !only) {
		printf(PROG ": FAILED (the phantom's numbering or fractures "
		    "fall short)\n");
		return 1;
	}
	return 0;
}
