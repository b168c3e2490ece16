/*
 * noduleeval - the lung nodule reader against the readers' truth.
 *
 *	noduleeval [-b backend] [-n] [-d datadir] [-f] [-p dir]
 *	noduleeval [-b backend] -g all|layout@slice
 *
 * Runs the shared anatomy and the nodule detector (anatomy.h, nodule.h)
 * as zhiying-inferd's reader does, on the real chest CTs of datadir
 * (default $ZY_DATA, else ../shared/data), and prints the published
 * metrics of the issue and STANDARDS.md §1.5:
 *
 *  - LIDC-IDRI-0002 with its reading file (071.xml): the radiologists'
 *    nodules are clustered across the four reading sessions (two marks
 *    are one nodule when their centres lie within half the larger one's
 *    long axis, at least 5 mm); a nodule that at least two readers
 *    outlined (LIDC's readers outline nodules of 3 mm or more and mark
 *    smaller ones with a point), 3 mm or more in their mean long axis,
 *    is the truth.  A reported nodule
 *    hits it when its centre lies within the nodule's radius (half the
 *    readers' mean long axis, at least 3 mm), as the LUNA16 evaluation
 *    counts hits (Setio et al., 2017).  Reported nodules on marks that
 *    are not truth (one reader, below 3 mm, or a reader's "non-nodule")
 *    are neither hits nor false positives (LUNA16's excluded findings);
 *    every other one is a false positive.  The hit's long axis is
 *    compared with the mean of the readers' long axes, each the largest
 *    distance between two points of one slice's outline, less a pixel's
 *    extent along it: LIDC's readers drew their outlines on the first
 *    pixels outside the nodule, so that the outline overlaps none of it
 *    (Armato et al., 2011; McNitt-Gray et al., 2007), and the nodule's
 *    own extent from edge to edge, what the reader's calipers count
 *    (nodule.c, section_axes()), is the distance between the outline's
 *    pixel centres less one pixel step along that direction (half a
 *    pixel outside the nodule's edge at each end).
 *  - Lung-PET-CT-Dx (5 and 8 mm, lung cancer boxes; the matcher refuses
 *    such thick slices, so the detector is run directly): the boxes of a
 *    series are grouped into tumours (overlapping boxes on neighbouring
 *    slices); a tumour is found when a reported nodule's centre lies in
 *    its box on that slice (±1 slice) or its key-slice box overlaps the
 *    tumour's box there.  A tumour over 30 mm must be reported with a
 *    long axis of 30 mm or more (a 肿块).
 *
 * The program exits 1 when what the reader holds today fails (the LIDC
 * truth nodule missed or its long axis more than 2.5 mm from the readers'
 * mean, more than 10 false positives on LIDC-IDRI-0002, a boxed tumour of
 * a series of 5 mm or thinner missed), and says so as the cmocka programs
 * do, for make check and tests/run.sh: a guard against regressions.  The
 * issue's own, stricter figures are printed beside and not yet all met:
 * the long axis within 1.5 mm, every tumour over 3 cm reported as a mass
 * (Lung_Dx-A0001's lies against the mediastinum, mostly outside the
 * lungs' mask: its part in the lung is reported), and the tumours of the
 * 8 mm series (which the matcher refuses) found.  With -n it only prints.  Without the data it
 * exits 77 (skipped), saying so.  With -f, a FLOOR line: one 3-D Gaussian
 * of the whole LIDC volume at 1 mm on the same backend, the first pass
 * of any multiscale blob filter, as a peer of the detector's time.
 * With -p, each reported nodule's key slice round its box is written to
 * dir as NNN-verdict.png, NNN the number printed before it.
 * With -g, no data: the phantom grid instead (eval_grid()
 * below), spheres of 4-12 mm at -800, -630 and +100 HU on the pleura
 * and on vessels at 0.625-3 mm slices, without noise and with 20 HU
 * under three seeds, each sphere's volume error printed; "all", or the
 * layouts and thicknesses whose name ("pleura@2.5", "vessel@3") holds
 * the argument.
 * Times: load (series_load()), anatomy
 * (anatomy_get(), lungs and lobes), detect (nodule_detect()).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anatomy.h"
#include "compute.h"
#include "log.h"
#include "buf.h"
#include "nodule.h"
#include "phantom.h"
#include "preview.h"
#include "series.h"

#define PROG		"noduleeval"
#define MAX_PATHS	4096
#define LONG_AXIS_TOL	1.5	/* mm, the issue's */
#define LONG_AXIS_GUARD	2.5	/* mm, what the reader holds today */
#define THICK_MM	5.0	/* thicker: printed, not held */
#define MASS_MM		30.0	/* a 肿块 */

static char	*paths[MAX_PATHS];
static size_t	 npaths;
static const char *want_ext = ".dcm";
static int	 failed;		/* a -c criterion failed */
static int	 floor_too;		/* -f */
static const char *pic_dir;		/* -p */
static int	 pic_seq;
static const uint8_t *an_lungs;		/* of the last run_detect() */
static int	 skipped;		/* data sets not found */

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
collect(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	size_t	 n = strlen(p), e = strlen(want_ext);

	(void)sb;
	(void)f;
	if (type != FTW_F || n < e || strcmp(p + n - e, want_ext) != 0)
		return 0;
	if (npaths == MAX_PATHS) {
		fprintf(stderr, PROG ": more than %d files\n", MAX_PATHS);
		return 1;
	}
	if ((paths[npaths] = strdup(p)) == NULL)
		return 1;
	npaths++;
	return 0;
}

static void
paths_clear(void)
{
	while (npaths > 0)
		free(paths[--npaths]);
}

/* Load the .dcm files under dir.  Returns 0, or -1 (said). */
static int
load_dir(const char *dir, struct series_volume **v, double *secs)
{
	char	 err[512];
	double	 t0;

	paths_clear();
	if (nftw(dir, collect, 16, FTW_PHYS) != 0 || npaths == 0) {
		fprintf(stderr, PROG ": %s: no DICOM files read\n", dir);
		return -1;
	}
	qsort(paths, npaths, sizeof(*paths), path_cmp);
	t0 = now();
	if (series_load((const char *const *)paths, npaths, NULL, v, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s: %s\n", dir, err);
		return -1;
	}
	*secs = now() - t0;
	return 0;
}

static int
too_long(const char *data)
{
	fprintf(stderr, PROG ": %s: path too long\n", data);
	return -1;
}

/* The slice of v with this SOP Instance UID, or -1. */
static int
slice_of(const struct series_volume *v, const char *uid)
{
	int	 k;

	for (k = 0; k < v->nz; k++)
		if (strcmp(v->slices[k].sop_uid, uid) == 0)
			return k;
	return -1;
}

/* The slice of v nearest to patient position z (along the normal), or
 * -1 when none lies within half a spacing. */
static int
slice_at(const struct series_volume *v, double z)
{
	int	 k, best = -1;
	double	 d, bd = INFINITY;

	for (k = 0; k < v->nz; k++) {
		d = fabs(v->slices[k].ipp[2] - z);
		if (d < bd) {
			bd = d;
			best = k;
		}
	}
	return bd <= v->spacing[2] / 2 + 0.01 ? best : -1;
}

/* ---- LIDC reading file ------------------------------------------------ */

struct mark {
	int		 session;
	int		 outlined;	/* a contour, not a centre point */
	int		 nodule;	/* 0: a reader's non-nodule */
	double		 c[3];		/* voxel i, j, k */
	double		 long_mm;	/* outlined: largest on a slice */
	int		 cluster;
};

#define MAX_MARKS	256
#define FP_GUARD	10	/* false positives on LIDC-IDRI-0002 */
static struct mark	 marks[MAX_MARKS];
static int		 nmarks;

/* The next <tag>...</tag> at or after p and before end: its content in
 * [*b, *e).  Returns 1 found, 0 not. */
static int
block(const char *p, const char *end, const char *tag, const char **b,
    const char **e)
{
	char		 open[64], close[64];
	const char	*s, *t;

	(void)snprintf(open, sizeof(open), "<%s>", tag);
	(void)snprintf(close, sizeof(close), "</%s>", tag);
	if ((s = strstr(p, open)) == NULL || s >= end)
		return 0;
	s += strlen(open);
	if ((t = strstr(s, close)) == NULL || t > end)
		return 0;
	*b = s;
	*e = t;
	return 1;
}

/* One reader's mark (a nodule or a non-nodule) between b and e. */
static int
parse_mark(const struct series_volume *v, int session, int nodule,
    const char *b, const char *e)
{
	const char	*rb, *re, *p, *q, *xb, *xe, *yb, *ye;
	double		 sx = 0, sy = 0, sz = 0, cnt = 0, best = 0, d, dx, dy;
	double		 px[1024], py[1024];
	char		 uid[80];
	int		 np, k, i, j, outlined = 0;
	struct mark	*m;

	for (p = b; block(p, e, nodule ? "roi" : "nonNodule", &rb, &re) ||
	    (!nodule && p == b); p = re) {
		if (!nodule) {
			rb = b;
			re = e;
		}
		k = -1;
		if (block(rb, re, "imageSOP_UID", &q, &xe) &&
		    (size_t)(xe - q) < sizeof(uid)) {
			memcpy(uid, q, (size_t)(xe - q));
			uid[xe - q] = '\0';
			k = slice_of(v, uid);
		}
		if (k == -1 && block(rb, re, "imageZposition", &q, &xe))
			k = slice_at(v, strtod(q, NULL));
		if (k == -1)
			goto next;
		if (nodule && block(rb, re, "inclusion", &q, &xe) &&
		    strncmp(q, "FALSE", 5) == 0)
			goto next;	/* a hole in the outline */
		np = 0;
		for (q = rb; np < 1024 && block(q, re, "xCoord", &xb, &xe) &&
		    block(xe, re, "yCoord", &yb, &ye); q = ye) {
			px[np] = strtod(xb, NULL);
			py[np] = strtod(yb, NULL);
			sx += px[np];
			sy += py[np];
			sz += k;
			cnt++;
			np++;
		}
		if (np > 1)
			outlined = 1;
		for (i = 0; i < np; i++)
			for (j = i + 1; j < np; j++) {
				dx = (px[i] - px[j]) * v->spacing[0];
				dy = (py[i] - py[j]) * v->spacing[1];
				if ((d = hypot(dx, dy)) <= 0.0)
					continue;
				/* The outline lies on the first pixels
				 * outside the nodule: a pixel step along
				 * the diameter off its edge-to-edge
				 * extent. */
				d -= (fabs(dx) * v->spacing[0] + fabs(dy) *
				    v->spacing[1]) / d;
				if (d > best)
					best = d;
			}
next:
		if (!nodule)
			break;
	}
	if (cnt == 0)
		return 0;
	if (nmarks == MAX_MARKS) {
		fprintf(stderr, PROG ": more than %d marks\n", MAX_MARKS);
		return -1;
	}
	m = &marks[nmarks++];
	m->session = session;
	m->nodule = nodule;
	m->outlined = outlined;
	m->c[0] = sx / cnt;
	m->c[1] = sy / cnt;
	m->c[2] = sz / cnt;
	m->long_mm = best;
	m->cluster = -1;
	return 0;
}

static int
parse_lidc(const char *file, const struct series_volume *v)
{
	FILE		*fp;
	char		*buf;
	long		 len;
	const char	*p, *sb, *se, *q, *nb, *ne, *end;
	int		 session = 0, rc = 0;

	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		fprintf(stderr, PROG ": %s: cannot read\n", file);
		(void)fclose(fp);
		return -1;
	}
	(void)fclose(fp);
	buf[len] = '\0';
	end = buf + len;
	nmarks = 0;
	for (p = buf; rc == 0 && block(p, end, "readingSession", &sb, &se);
	    p = se, session++) {
		for (q = sb; rc == 0 &&
		    block(q, se, "unblindedReadNodule", &nb, &ne); q = ne)
			rc = parse_mark(v, session, 1, nb, ne);
		for (q = sb; rc == 0 && block(q, se, "nonNodule", &nb, &ne);
		    q = ne)
			rc = parse_mark(v, session, 0, nb, ne);
	}
	free(buf);
	return rc;
}

/* Distance in mm between two voxel positions of v. */
static double
vdist(const struct series_volume *v, const double a[3], const double b[3])
{
	double	 dx = (a[0] - b[0]) * v->spacing[0];
	double	 dy = (a[1] - b[1]) * v->spacing[1];
	double	 dz = (a[2] - b[2]) * v->spacing[2];

	return sqrt(dx * dx + dy * dy + dz * dz);
}

struct truth {
	double		 c[3];		/* mean centre, voxels */
	double		 long_mm;	/* mean of the readers' */
	int		 readers;
	int		 outlined;	/* readers who outlined it */
	int		 nodule;	/* any reader called it a nodule */
	int		 truth;		/* >= 3 mm, >= 2 readers */
	int		 hit;		/* index of the reported one + 1 */
};

static struct truth	 clusters[MAX_MARKS];
static int		 nclusters;

/* Group the marks of different readers that are one finding. */
static void
cluster_marks(const struct series_volume *v)
{
	int	 i, j, c, sessions;
	double	 r;

	nclusters = 0;
	for (i = 0; i < nmarks; i++) {
		if (marks[i].cluster != -1)
			continue;
		c = nclusters++;
		marks[i].cluster = c;
		for (j = i + 1; j < nmarks; j++) {
			if (marks[j].cluster != -1 ||
			    marks[j].session == marks[i].session)
				continue;
			r = fmax(marks[i].long_mm, marks[j].long_mm) / 2;
			if (vdist(v, marks[i].c, marks[j].c) <= fmax(r, 5.0))
				marks[j].cluster = c;
		}
	}
	for (c = 0; c < nclusters; c++) {
		struct truth	*t = &clusters[c];
		int		 n = 0, nl = 0;

		memset(t, 0, sizeof(*t));
		sessions = 0;
		for (i = 0; i < nmarks; i++) {
			if (marks[i].cluster != c)
				continue;
			for (j = 0; j < 3; j++)
				t->c[j] += marks[i].c[j];
			n++;
			sessions |= 1 << marks[i].session;
			if (marks[i].nodule)
				t->nodule = 1;
			if (marks[i].outlined && marks[i].nodule) {
				t->long_mm += marks[i].long_mm;
				nl++;
			}
		}
		for (j = 0; j < 3; j++)
			t->c[j] /= n;
		t->long_mm = nl > 0 ? t->long_mm / nl : 0;
		t->readers = __builtin_popcount((unsigned)sessions);
		t->outlined = nl;
		t->truth = nl >= 2 && t->long_mm >= 3.0;
	}
}

static int
run_detect(struct compute *c, struct anatomy_cache *ac,
    const struct series_volume *v, long long id, struct nodule_result *nr,
    double *t_anat, double *t_det)
{
	const struct anatomy	*an;
	struct nodule_patient	 pt = { NAN, 0, -1 };
	char			 err[512];
	double			 t0 = now();

	if (anatomy_get(ac, c, v, id, ANAT_LUNGS | ANAT_LOBES, &an, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, PROG ": anatomy: %s\n", err);
		return -1;
	}
	*t_anat = now() - t0;
	an_lungs = an->lungs;
	t0 = now();
	if (nodule_detect(c, v, an, &pt, nr, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": nodule_detect: %s\n", err);
		return -1;
	}
	*t_det = now() - t0;
	return 0;
}

/* The floor: one Gaussian of the whole volume at 1 mm. */
static int
gauss_floor(struct compute *c, const struct series_volume *v)
{
	int	 dims[3] = { v->nx, v->ny, v->nz };
	double	 sigma[3] = { 1.0, 1.0, 1.0 }, t0;
	float	*out;

	if ((out = malloc((size_t)v->nx * v->ny * v->nz * sizeof(*out))) ==
	    NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	t0 = now();
	if (compute_gauss(c, out, v->vox, dims, v->spacing, sigma) == -1) {
		fprintf(stderr, PROG ": gauss: %s\n", compute_error(c));
		free(out);
		return -1;
	}
	printf("FLOOR gauss_s=%.3f backend=%s\n", now() - t0,
	    compute_kind_names[c->kind]);
	free(out);
	return 0;
}

/*
 * With -p dir: the key slice of n round its box (lung window, 2x, the box
 * drawn), dir/NNN-verdict.png, so that what was reported can be seen.
 */
static void
picture(const struct series_volume *v, const struct nodule *n,
    const char *verdict)
{
	enum { HALF = 64, ZOOM = 2, W = 2 * HALF * ZOOM };
	unsigned char	*g;
	struct buf	 b;
	char		 path[PATH_MAX];
	int		 cx, cy, i, j, x, y, k = n->key_slice;
	FILE		*fp;
	float		 hu;

	if (pic_dir == NULL || k < 0 || k >= v->nz)
		return;
	if ((g = malloc((size_t)W * W)) == NULL)
		return;
	cx = (n->x0 + n->x1) / 2;
	cy = (n->y0 + n->y1) / 2;
	for (j = 0; j < W; j++)
		for (i = 0; i < W; i++) {
			x = cx - HALF + i / ZOOM;
			y = cy - HALF + j / ZOOM;
			hu = x < 0 || y < 0 || x >= v->nx || y >= v->ny ?
			    -1000.0f : v->vox[((size_t)k * v->ny + y) *
			    v->nx + x];
			hu = (hu + 1350.0f) / 1500.0f;
			g[(size_t)j * W + i] = (unsigned char)(255.0f *
			    (hu < 0.0f ? 0.0f : hu > 1.0f ? 1.0f : hu));
		}
	for (j = 0; j < W; j++)
		for (i = 0; i < W; i++) {
			x = cx - HALF + i / ZOOM;
			y = cy - HALF + j / ZOOM;
			if (((x == n->x0 - 1 || x == n->x1 + 1) && y >=
			    n->y0 - 1 && y <= n->y1 + 1) || ((y == n->y0 - 1 ||
			    y == n->y1 + 1) && x >= n->x0 - 1 && x <=
			    n->x1 + 1))
				g[(size_t)j * W + i] = (i + j) % 6 < 3 ? 255 :
				    0;
		}
	buf_init(&b, 1 << 22);
	(void)snprintf(path, sizeof(path), "%s/%03d-%s.png", pic_dir,
	    pic_seq, verdict);
	if (preview_png_encode(g, W, W, &b) == 0 &&
	    (fp = fopen(path, "wb")) != NULL) {
		(void)fwrite(b.data, 1, b.len, fp);
		(void)fclose(fp);
	}
	buf_free(&b);
	free(g);
}

/* With -p dir: the whole slice k (lung window), the box b0 dashed and
 * the lungs' border in grey, dir/NNN-name.png; for a tumour's box. */
static void
picture_slice(const struct series_volume *v, const uint8_t *lungs, int k,
    const int b0[4], const char *name)
{
	unsigned char	*g;
	struct buf	 b;
	char		 path[PATH_MAX];
	int		 i, j;
	size_t		 o;
	FILE		*fp;
	float		 hu;

	if (pic_dir == NULL || k < 0 || k >= v->nz)
		return;
	if ((g = malloc((size_t)v->nx * v->ny)) == NULL)
		return;
	for (j = 0; j < v->ny; j++)
		for (i = 0; i < v->nx; i++) {
			o = ((size_t)k * v->ny + j) * v->nx + i;
			hu = (v->vox[o] + 1350.0f) / 1500.0f;
			g[(size_t)j * v->nx + i] = (unsigned char)(255.0f *
			    (hu < 0.0f ? 0.0f : hu > 1.0f ? 1.0f : hu));
			if (lungs != NULL && lungs[o] && i > 0 && (!lungs[o -
			    1] || !lungs[o + 1] || !lungs[o - v->nx] ||
			    !lungs[o + v->nx]))
				g[(size_t)j * v->nx + i] = 160;
			if ((((i == b0[0] || i == b0[2]) && j >= b0[1] &&
			    j <= b0[3]) || ((j == b0[1] || j == b0[3]) &&
			    i >= b0[0] && i <= b0[2])))
				g[(size_t)j * v->nx + i] = (i + j) % 6 < 3 ?
				    255 : 0;
		}
	buf_init(&b, 1 << 23);
	(void)snprintf(path, sizeof(path), "%s/%03d-%s.png", pic_dir,
	    pic_seq++, name);
	if (preview_png_encode(g, v->nx, v->ny, &b) == 0 &&
	    (fp = fopen(path, "wb")) != NULL) {
		(void)fwrite(b.data, 1, b.len, fp);
		(void)fclose(fp);
	}
	buf_free(&b);
	free(g);
}

static void
print_nodule(const struct series_volume *v, const struct nodule *n,
    const char *verdict)
{
	printf("  %03d %-9s %s %s long=%.1f short=%.1f mean=%.1f vol=%.0f"
	    " hu=%.0f at i=%.0f j=%.0f k=%.0f brock=%.3f lung-rads=%s\n",
	    pic_seq, verdict, nodule_type_zh[n->type], n->location, n->long_mm,
	    n->short_mm, n->mean_mm, n->volume_mm3, n->hu_mean,
	    n->center_vox[0], n->center_vox[1], n->center_vox[2], n->brock,
	    n->lungrads);
	printf("      contrast=%.0f lung=%.0f q=%.0f/%.0f/%.0f halo=%d"
	    " sigma=%.1f dot=%.1f elong=%.2f compact=%.2f contact=%.2f"
	    " jp=%d thick=%.2f trunc=%.3f\n", n->contrast, n->lung_hu, n->hu_q[0], n->hu_q[1],
	    n->hu_q[2], n->halo, n->sigma, n->dot, n->elong, n->compact,
	    n->contact, n->juxtapleural,
	    n->r_in / cbrt(3.0 * n->volume_mm3 / (4.0 * 3.14159265)),
	    n->trunc);
	picture(v, n, verdict);
	pic_seq++;
}

static int
eval_lidc(struct compute *c, struct anatomy_cache *ac, const char *data,
    int check)
{
	char			 dir[PATH_MAX], xml[PATH_MAX];
	struct series_volume	*v = NULL;
	struct nodule_result	 nr;
	double			 tl, ta, td, d, r, best;
	int			 i, j, k, fp = 0, excl = 0, ntruth = 0, found = 0;

	memset(&nr, 0, sizeof(nr));
	if ((size_t)snprintf(dir, sizeof(dir), "%s/ct/LIDC-IDRI-0002",
	    data) >= sizeof(dir))
		return too_long(data);
	want_ext = ".xml";
	paths_clear();
	if (access(dir, R_OK) != 0 || nftw(dir, collect, 16, FTW_PHYS) != 0 ||
	    npaths == 0) {
		printf("# LIDC-IDRI-0002: skipped (no %s)\n", dir);
		skipped++;
		return 0;
	}
	(void)snprintf(xml, sizeof(xml), "%s", paths[0]);
	want_ext = ".dcm";
	if (load_dir(dir, &v, &tl) == -1)
		return -1;
	if (floor_too && gauss_floor(c, v) == -1) {
		series_free(v);
		return -1;
	}
	if (parse_lidc(xml, v) == -1 || (cluster_marks(v), 0) ||
	    run_detect(c, ac, v, 1, &nr, &ta, &td) == -1) {
		series_free(v);
		return -1;
	}
	printf("LIDC-IDRI-0002 %dx%dx%d spacing=%.3f,%.3f,%.3f backend=%s"
	    " load_s=%.3f anatomy_s=%.3f detect_s=%.3f nodules=%zu"
	    " candidates=%zu marks=%d findings=%d\n", v->nx, v->ny, v->nz,
	    v->spacing[0], v->spacing[1], v->spacing[2],
	    compute_kind_names[c->kind], tl, ta, td, nr.count,
	    nr.candidates, nmarks, nclusters);
	for (i = 0; i < nclusters; i++) {
		struct truth *t = &clusters[i];

		if (t->truth)
			ntruth++;
		printf("  finding %d: %s readers=%d outlined=%d long=%.1f mm"
		    " at i=%.0f j=%.0f k=%.0f%s\n", i + 1, t->nodule ?
		    (t->outlined ? "nodule>=3mm" : "nodule<3mm") :
		    "non-nodule", t->readers, t->outlined, t->long_mm,
		    t->c[0], t->c[1], t->c[2],
		    t->truth ? " TRUTH" : "");
		if (t->outlined >= 2)
			for (j = 0; j < nmarks; j++)
				if (marks[j].cluster == i &&
				    marks[j].outlined)
					printf("    reader %d: long axis %.1f"
					    " mm\n", marks[j].session,
					    marks[j].long_mm);
	}
	for (j = 0; j < (int)nr.count; j++) {
		const struct nodule *n = &nr.nodules[j];
		int	 on = -1;

		best = INFINITY;
		for (i = 0; i < nclusters; i++) {
			r = fmax(clusters[i].long_mm / 2, 3.0);
			d = vdist(v, n->center_vox, clusters[i].c);
			if (d <= r && d < best) {
				best = d;
				on = i;
			}
		}
		if (on != -1 && clusters[on].truth) {
			if (clusters[on].hit == 0)
				clusters[on].hit = j + 1;
			print_nodule(v, n, "hit");
		} else if (on != -1) {
			excl++;
			print_nodule(v, n, "excluded");
		} else {
			fp++;
			print_nodule(v, n, "FP");
		}
	}
	for (i = 0; i < nclusters; i++) {
		struct truth	*t = &clusters[i];
		double		 dl;

		if (!t->truth)
			continue;
		if (t->hit == 0) {
			printf("LIDC truth nodule %d (%.1f mm): MISSED\n",
			    i + 1, t->long_mm);
			if (check)
				failed = 1;
			continue;
		}
		found++;
		k = t->hit - 1;
		dl = nr.nodules[k].long_mm - t->long_mm;
		printf("LIDC truth nodule %d: found; long axis %.1f mm,"
		    " readers' mean %.1f mm, difference %+.1f mm (%s the"
		    " issue's %.1f mm; %s the guard's %.1f mm)\n",
		    i + 1, nr.nodules[k].long_mm, t->long_mm, dl,
		    fabs(dl) <= LONG_AXIS_TOL ? "within" : "NOT within",
		    LONG_AXIS_TOL, fabs(dl) <= LONG_AXIS_GUARD ? "within" :
		    "NOT within", LONG_AXIS_GUARD);
		if (check && fabs(dl) > LONG_AXIS_GUARD)
			failed = 1;
	}
	printf("LIDC summary: sensitivity %d/%d, false positives per scan %d"
	    " (and %d on excluded findings; the guard allows %d)\n", found,
	    ntruth, fp, excl, FP_GUARD);
	if (check && fp > FP_GUARD)
		failed = 1;
	nodule_result_free(&nr);
	series_free(v);
	return 0;
}

/* ---- Lung-PET-CT-Dx ----------------------------------------------------- */

struct box {
	char		 series[64];	/* Lung_Dx-A0001/5mm-B */
	char		 uid[80];
	int		 x0, y0, x1, y1;
	int		 k;		/* slice in the loaded volume */
	int		 tumour;
};

#define MAX_BOXES	128
static struct box	 boxes[MAX_BOXES];
static int		 nboxes;

static int
read_boxes(const char *csv)
{
	FILE	*fp;
	char	 line[512], *f[9], *s;
	int	 i;

	nboxes = 0;
	if ((fp = fopen(csv, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "file,", 5) == 0)
			continue;
		for (i = 0, s = line; i < 9; i++) {
			f[i] = s;
			if ((s = strpbrk(s, ",\n")) == NULL)
				break;
			*s++ = '\0';
		}
		if (i < 8 || nboxes == MAX_BOXES)
			continue;
		struct box *b = &boxes[nboxes++];
		if ((s = strrchr(f[0], '/')) != NULL)
			*s = '\0';
		(void)snprintf(b->series, sizeof(b->series), "%s", f[0]);
		(void)snprintf(b->uid, sizeof(b->uid), "%s", f[1]);
		b->x0 = atoi(f[5]);
		b->y0 = atoi(f[6]);
		b->x1 = atoi(f[7]);
		b->y1 = atoi(f[8]);
		b->k = -1;
		b->tumour = -1;
	}
	(void)fclose(fp);
	return 0;
}

static int
overlap(int a0, int a1, int b0, int b1)
{
	return a0 <= b1 && b0 <= a1;
}

static int
eval_petct(struct compute *c, struct anatomy_cache *ac, const char *data,
    int check)
{
	static const char *const series[] = {
		"Lung_Dx-A0001/5mm-B", "Lung_Dx-A0001/5mm-L",
		"Lung_Dx-A0002/8mm-B40f", "Lung_Dx-A0002/8mm-B70f",
	};
	char			 dir[PATH_MAX], csv[PATH_MAX];
	struct series_volume	*v;
	struct nodule_result	 nr;
	double			 tl, ta, td, span;
	size_t			 s;
	int			 i, j, t, ntum, hit, mass, missed = 0, all = 0;

	if ((size_t)snprintf(csv, sizeof(csv),
	    "%s/ct/lung-pet-ct-dx/boxes.csv", data) >= sizeof(csv))
		return too_long(data);
	if (read_boxes(csv) == -1) {
		printf("# Lung-PET-CT-Dx: skipped (no %s)\n", csv);
		skipped++;
		return 0;
	}
	for (s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
		v = NULL;
		memset(&nr, 0, sizeof(nr));
		if ((size_t)snprintf(dir, sizeof(dir),
		    "%s/ct/lung-pet-ct-dx/%s", data, series[s]) >= sizeof(dir))
			return too_long(data);
		if (load_dir(dir, &v, &tl) == -1 ||
		    run_detect(c, ac, v, 100 + (long long)s, &nr, &ta,
		    &td) == -1) {
			series_free(v);
			return -1;
		}
		/* The series' boxes, grouped into tumours. */
		ntum = 0;
		for (i = 0; i < nboxes; i++) {
			if (strcmp(boxes[i].series, series[s]) != 0)
				continue;
			boxes[i].k = slice_of(v, boxes[i].uid);
			boxes[i].tumour = -1;
		}
		for (i = 0; i < nboxes; i++) {
			if (strcmp(boxes[i].series, series[s]) != 0 ||
			    boxes[i].k == -1)
				continue;
			if (boxes[i].tumour == -1)
				boxes[i].tumour = ntum++;
			for (j = 0; j < nboxes; j++)
				if (j != i && boxes[j].tumour == -1 &&
				    strcmp(boxes[j].series, series[s]) == 0 &&
				    boxes[j].k != -1 &&
				    abs(boxes[j].k - boxes[i].k) <= 1 &&
				    overlap(boxes[i].x0, boxes[i].x1,
				    boxes[j].x0, boxes[j].x1) &&
				    overlap(boxes[i].y0, boxes[i].y1,
				    boxes[j].y0, boxes[j].y1))
					boxes[j].tumour = boxes[i].tumour;
		}
		printf("Lung-PET-CT-Dx %s %dx%dx%d spacing=%.3f,%.3f,%.3f"
		    " kernel=%s load_s=%.3f anatomy_s=%.3f detect_s=%.3f"
		    " nodules=%zu tumours=%d\n", series[s], v->nx, v->ny,
		    v->nz, v->spacing[0], v->spacing[1], v->spacing[2],
		    v->kernel, tl, ta, td, nr.count, ntum);
		for (t = 0; t < ntum; t++) {
			span = 0;
			hit = -1;
			for (i = 0; i < nboxes; i++) {
				const struct box *b = &boxes[i];

				if (strcmp(b->series, series[s]) != 0 ||
				    b->tumour != t)
					continue;
				span = fmax(span, fmax((b->x1 - b->x0) *
				    v->spacing[0], (b->y1 - b->y0) *
				    v->spacing[1]));
				for (j = 0; hit == -1 && j < (int)nr.count;
				    j++) {
					const struct nodule *n = &nr.nodules[j];
					int	 nk = (int)lround(n->center_vox[2]);

					if ((abs(nk - b->k) <= 1 &&
					    n->center_vox[0] >= b->x0 &&
					    n->center_vox[0] <= b->x1 &&
					    n->center_vox[1] >= b->y0 &&
					    n->center_vox[1] <= b->y1) ||
					    (n->key_slice == b->k &&
					    overlap(n->x0, n->x1, b->x0, b->x1) &&
					    overlap(n->y0, n->y1, b->y0, b->y1)))
						hit = j;
				}
			}
			for (i = 0; i < nboxes; i++)
				if (strcmp(boxes[i].series, series[s]) == 0 &&
				    boxes[i].tumour == t) {
					int	 bb[4] = { boxes[i].x0,
					    boxes[i].y0, boxes[i].x1,
					    boxes[i].y1 };

					picture_slice(v, an_lungs, boxes[i].k,
					    bb, "tumour");
					break;
				}
			all++;
			mass = hit != -1 && nr.nodules[hit].long_mm >= MASS_MM;
			printf("  tumour %d: boxed span %.0f mm: %s", t + 1, span,
			    hit == -1 ? "MISSED" : "found");
			if (hit != -1)
				printf(" as %s, long axis %.1f mm%s",
				    nodule_type_zh[nr.nodules[hit].type],
				    nr.nodules[hit].long_mm, span >= MASS_MM ?
				    (mass ? " (肿块)" : " (NOT reported as"
				    " 肿块)") : "");
			putchar('\n');
			if (hit == -1 || (span >= MASS_MM && !mass))
				missed++;
			if (hit == -1 && check && v->spacing[2] <= THICK_MM +
			    0.01)
				failed = 1;
		}
		for (j = 0; j < (int)nr.count; j++)
			print_nodule(v, &nr.nodules[j], "reported");
		nodule_result_free(&nr);
		series_free(v);
	}
	printf("Lung-PET-CT-Dx summary: %d/%d boxed tumours found as the"
	    " issue asks\n", all - missed, all);
	return 0;
}

/* ---------------------------------------------------------------- */
/* -g: the phantom grid of the issue.                                */

/*
 * Spheres of 4-12 mm at -800, -630 (ground glass) and +100 HU (solid)
 * in the standard chest (phantom.c, the lungs the anatomy's own), in two
 * layouts: tangent to the pleura (the right and left lungs' lateral,
 * anterior and posterior walls, three spheres on each at z = 25, 60 and
 * 95 mm) and centred on vessels along z (radius 1 and 1.5 mm, three
 * spheres on each), at 0.625, 1.25, 2.5 and 3 mm slices, without noise
 * and with 20 HU of noise under three seeds.  Each sphere's volume
 * error, type and whether it was found (within its radius, at least 2
 * mm, as LUNA16 counts a hit), and what else was reported.
 */
#define GRID_NS		6
#define GRID_NH		3
#define GRID_NT		4
#define GRID_NRUN	4		/* no noise, then three seeds */
static const double grid_d[GRID_NS] = { 4, 5, 6, 8, 10, 12 };
static const double grid_hu[GRID_NH] = { -800, -630, 100 };
static const double grid_slice[GRID_NT] = { 0.625, 1.25, 2.5, 3.0 };
static const double grid_z[GRID_NH] = { 25, 60, 95 };
/* The walls: a point on the lungs' ellipses (phantom.c: right (-82, 5)
 * 52 x 72 mm, left (85, 5) 48 x 72) and the inward normal there. */
static const double grid_wall[6][4] = {
	{ -134, 5, 1, 0 }, { -82, -67, 0, 1 }, { -82, 77, 0, -1 },
	{ 133, 5, -1, 0 }, { 85, -67, 0, 1 }, { 85, 77, 0, -1 },
};
/* The vessels along z (x, y, radius). */
static const double grid_vessel[6][3] = {
	{ -65, 40, 1.0 }, { -100, -10, 1.5 }, { -85, -45, 1.0 },
	{ 100, 30, 1.5 }, { 75, -20, 1.0 }, { 95, 50, 1.5 },
};

struct grid_cell {
	int		 found[GRID_NRUN];
	double		 ev[GRID_NRUN];
	int		 type_ok[GRID_NRUN];
};

static void
grid_place(int layout, int s, int h, double c[3])
{
	int	 w = (s + h) % 6;

	if (layout == 0) {
		c[0] = grid_wall[w][0] + grid_wall[w][2] * grid_d[s] / 2.0;
		c[1] = grid_wall[w][1] + grid_wall[w][3] * grid_d[s] / 2.0;
	} else {
		c[0] = grid_vessel[w][0];
		c[1] = grid_vessel[w][1];
	}
	c[2] = grid_z[h];
}

static int
grid_run(struct compute *c, int layout, double slice, double noise,
    unsigned seed, struct grid_cell cell[GRID_NS][GRID_NH], int run,
    int *fp, double *t_det)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct nodule_result	 r;
	struct nodule_patient	 pt = { NAN, 0, -1 };
	char			 err[256];
	double			 ct[3], d2, lim, vt;
	size_t			 j;
	int			 s, h, w, *used;

	phantom_standard(&sp, slice, 120.0);
	sp.nplaques = 0;
	sp.nz = (int)lround(120.0 / slice);
	sp.noise_hu = noise;
	sp.seed = seed;
	sp.nnodules = 0;
	for (s = 0; s < GRID_NS; s++)
		for (h = 0; h < GRID_NH; h++) {
			struct phantom_nodule *n = &sp.nodules[sp.nnodules++];

			memset(n, 0, sizeof(*n));
			grid_place(layout, s, h, n->center);
			n->diameter_mm = grid_d[s];
			n->hu = grid_hu[h];
		}
	sp.nvessels = 0;
	if (layout == 1)
		for (w = 0; w < 6; w++) {
			struct phantom_vessel *q = &sp.vessels[sp.nvessels++];

			q->p0[0] = q->p1[0] = grid_vessel[w][0];
			q->p0[1] = q->p1[1] = grid_vessel[w][1];
			q->p0[2] = -10.0;
			q->p1[2] = 160.0;
			q->radius_mm = grid_vessel[w][2];
			q->hu = 40.0;
		}
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	if ((ac = anatomy_cache_new()) == NULL ||
	    anatomy_get(ac, c, v, 1, ANAT_LUNGS, &an, err,
	    sizeof(err)) == -1 ||
	    nodule_detect(c, v, an, &pt, &r, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": grid: %s\n", ac ? err : "no memory");
		anatomy_cache_free(ac);
		series_free(v);
		return -1;
	}
	*t_det += r.seconds_detect;
	if ((used = calloc(r.count + 1, sizeof(*used))) == NULL) {
		nodule_result_free(&r);
		anatomy_cache_free(ac);
		series_free(v);
		return -1;
	}
	for (s = 0; s < GRID_NS; s++)
		for (h = 0; h < GRID_NH; h++) {
			struct grid_cell *g = &cell[s][h];
			const struct nodule *n = NULL;

			grid_place(layout, s, h, ct);
			lim = fmax(grid_d[s] / 2.0, 2.0);
			for (j = 0; j < r.count && n == NULL; j++) {
				d2 = pow(r.nodules[j].center[0] - ct[0], 2) +
				    pow(r.nodules[j].center[1] - ct[1], 2) +
				    pow(r.nodules[j].center[2] - ct[2], 2);
				if (d2 <= lim * lim) {
					n = &r.nodules[j];
					used[j] = 1;
				}
			}
			g->found[run] = n != NULL;
			if (n == NULL)
				continue;
			vt = 3.14159265358979323846 * pow(grid_d[s], 3) / 6.0;
			g->ev[run] = 100.0 * (n->volume_mm3 - vt) / vt;
			g->type_ok[run] = n->type == (grid_hu[h] >= -300.0 ?
			    NODULE_SOLID : NODULE_GGN);
		}
	for (j = 0; j < r.count; j++)
		if (!used[j]) {
			printf("    false positive %.1f,%.1f,%.1f %.1f mm %.0f "
			    "HU\n", r.nodules[j].center[0],
			    r.nodules[j].center[1], r.nodules[j].center[2],
			    r.nodules[j].mean_mm, r.nodules[j].hu_mean);
			(*fp)++;
		}
	free(used);
	nodule_result_free(&r);
	anatomy_cache_free(ac);
	series_free(v);
	return 0;
}

static int
eval_grid(struct compute *c, const char *only)
{
	static const char *const lname[2] = { "pleura", "vessel" };
	struct grid_cell	 cell[GRID_NS][GRID_NH];
	int			 layout, t, run, s, h, fp, miss, typ;
	double			 worst, t_det;
	char			 col[GRID_NRUN * 9 + 1];

	for (layout = 0; layout < 2; layout++)
		for (t = 0; t < GRID_NT; t++) {
			char	 tag[32];

			(void)snprintf(tag, sizeof(tag), "%s@%g", lname[layout],
			    grid_slice[t]);
			if (only != NULL && strstr(tag, only) == NULL)
				continue;
			memset(cell, 0, sizeof(cell));
			fp = 0;
			t_det = 0.0;
			for (run = 0; run < GRID_NRUN; run++)
				if (grid_run(c, layout, grid_slice[t], run ?
				    20.0 : 0.0, (unsigned)run, cell, run, &fp,
				    &t_det) == -1)
					return -1;
			printf("grid %s %g mm (volume error %%, no noise | 20 HU"
			    " seeds 1-3; x missed, * wrong type):\n",
			    lname[layout], grid_slice[t]);
			worst = 0.0;
			miss = typ = 0;
			for (s = 0; s < GRID_NS; s++)
				for (h = 0; h < GRID_NH; h++) {
					struct grid_cell *g = &cell[s][h];
					char	*p = col;

					for (run = 0; run < GRID_NRUN; run++) {
						if (!g->found[run]) {
							p += sprintf(p, " %7s",
							    "x");
							miss++;
							continue;
						}
						p += sprintf(p, " %+6.1f%s",
						    g->ev[run], g->type_ok[run] ?
						    " " : "*");
						typ += !g->type_ok[run];
						if (grid_d[s] >= 5.0 &&
						    fabs(g->ev[run]) > worst)
							worst = fabs(g->ev[run]);
					}
					printf("  %4.0f mm %5.0f HU:%s\n",
					    grid_d[s], grid_hu[h], col);
				}
			printf("grid %s %g mm: missed %d, wrong type %d, false "
			    "positives %d, worst |volume error| from 5 mm %.1f "
			    "%%, detect %.1f s\n", lname[layout],
			    grid_slice[t], miss, typ, fp, worst, t_det);
			fflush(stdout);
		}
	return 0;
}

int
main(int argc, char *argv[])
{
	const char		*backend = "cpu", *data = getenv("ZY_DATA");
	char			 err[256], def[PATH_MAX];
	struct compute		*c;
	struct anatomy_cache	*ac;
	const char		*grid = NULL;
	int			 ch, check = 0, rc = 0;

	check = 1;
	while ((ch = getopt(argc, argv, "b:nd:fg:p:")) != -1)
		switch (ch) {
		case 'b':
			backend = optarg;
			break;
		case 'n':
			check = 0;
			break;
		case 'd':
			data = optarg;
			break;
		case 'f':
			floor_too = 1;
			break;
		case 'g':
			grid = optarg;
			break;
		case 'p':
			pic_dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: " PROG
			    " [-b backend] [-n] [-d datadir] [-f] [-g which] [-p dir]\n");
			return 2;
		}
	if (data == NULL || *data == '\0') {
		(void)snprintf(def, sizeof(def), "%s/../shared/data",
		    ZY_TOP_SRCDIR);
		data = def;
	}
	log_init(PROG);
	log_set_level(LOG_LEVEL_WARN);
	if ((c = compute_open(backend, err, sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if ((ac = anatomy_cache_new()) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	printf("# noduleeval: data %s, backend %s (%s)\n", data,
	    compute_kind_names[c->kind], c->device);
	if (grid != NULL) {
		rc = eval_grid(c, strcmp(grid, "all") == 0 ? NULL : grid) ==
		    -1;
		anatomy_cache_free(ac);
		compute_close(c);
		return rc;
	}
	if (eval_lidc(c, ac, data, check) == -1 ||
	    eval_petct(c, ac, data, check) == -1)
		rc = 1;
	anatomy_cache_free(ac);
	compute_close(c);
	paths_clear();
	if (rc == 0 && skipped == 2) {
		printf("[  SKIPPED ] 1 test(s).\n");
		return 77;
	}
	if (rc == 0 && failed) {
		printf("[  FAILED  ] noduleeval: the guard fails"
		    " (above)\n[  FAILED  ] 1 test(s).\n");
		rc = 1;
	} else if (rc == 0 && check)
		printf("[       OK ] noduleeval: the guard holds (the"
		    " issue's figures above)\n"
		    "[  PASSED  ] 1 test(s).\n");
	else if (rc != 0)
		printf("[  FAILED  ] 1 test(s).\n");
	return rc;
}
