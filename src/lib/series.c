/*
 * series.c - load one DICOM series as a volume with its real geometry.
 *
 * Two passes over the files: the first reads the headers, orders the
 * slices, checks the geometry and sizes the volume; the second decodes
 * each slice straight into its place in the one allocation.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dicom.h"
#include "series.h"
#include "log.h"

#define SERIES_MAX_VOXELS	((size_t)512 * 512 * 2048)
#define SERIES_GAP_FACTOR	1.5
#define SERIES_GAP_WINDOW	3	/* neighbours each side, for medians */
#define SERIES_SAME_POS_MM	0.01	/* closer than this: same position */
#define SERIES_TILT_MIN_DEG	0.5	/* smaller shears are rounding */
#define SERIES_IOP_TOL		2e-3	/* direction cosine difference */
#define SERIES_SPACING_TOL	1e-3	/* pixel spacing difference (mm) */
#define SERIES_CT_AIR		-1024.0f
#define SERIES_PI		3.14159265358979323846
#define SERIES_INT16_MAX_ICPT	1073741824.0	/* 2^30: no overflow */

static const char *const warn_names[SERIES_WARN__MAX] = {
	"gap", "duplicate", "same_position", "nonuniform", "tilt",
	"tilt_tag", "no_position", "spacing_assumed", "instance_order",
	"padding", "no_pixel_spacing", "multiframe", "frame_of_reference"
};

/* Append a warning; en and zh are already formatted.  Returns 0 or -1. */
static int
series_warn_add(struct series_volume *v, enum series_warn code,
    const char *en, const char *zh)
{
	struct series_warning	*w;

	w = realloc(v->warn, (v->nwarn + 1) * sizeof(*w));
	if (w == NULL)
		return -1;
	v->warn = w;
	w = &v->warn[v->nwarn++];
	memset(w, 0, sizeof(*w));
	w->code = code;
	(void)snprintf(w->en, sizeof(w->en), "%s", en);
	(void)snprintf(w->zh, sizeof(w->zh), "%s", zh);
	return 0;
}

/* Millimetres for people: at most two decimals, at least one. */
static void
series_mm(char *b, size_t size, double mm)
{
	size_t	 n;

	(void)snprintf(b, size, "%.2f", mm);
	n = strlen(b);
	if (n > 3 && b[n - 1] == '0' && b[n - 3] == '.')
		b[n - 1] = '\0';
}

static double
vec_dot(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
vec_cross(const double *a, const double *b, double *c)
{
	c[0] = a[1] * b[2] - a[2] * b[1];
	c[1] = a[2] * b[0] - a[0] * b[2];
	c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Scale a to unit length; returns its former length. */
static double
vec_unit(double *a)
{
	double	 l = sqrt(vec_dot(a, a));

	if (l > 0) {
		a[0] /= l;
		a[1] /= l;
		a[2] /= l;
	}
	return l;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n values (n > 0); sorts them. */
static double
series_median(double *d, size_t n)
{
	qsort(d, n, sizeof(*d), cmp_double);
	return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/* Volume order by position, then Instance Number, then file order. */
static int
cmp_slice_pos(const void *a, const void *b)
{
	const struct series_slice	*x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->instance_number != y->instance_number)
		return x->instance_number < y->instance_number ? -1 : 1;
	return (x->file > y->file) - (x->file < y->file);
}

/* Order by Instance Number, then file order. */
static int
cmp_slice_inst(const void *a, const void *b)
{
	const struct series_slice	*x = a, *y = b;

	if (x->instance_number != y->instance_number)
		return x->instance_number < y->instance_number ? -1 : 1;
	return (x->file > y->file) - (x->file < y->file);
}

/* Order of slice pointers by SOP Instance UID, then volume order. */
static int
cmp_slice_sop(const void *a, const void *b)
{
	const struct series_slice *const	*pa = a, *const *pb = b;
	const struct series_slice		*x = *pa, *y = *pb;
	int					 c;

	if ((c = strcmp(x->sop_uid, y->sop_uid)) != 0)
		return c;
	return (x > y) - (x < y);
}

/* Row, column and normal directions from an IOP; 0, or -1 when the
 * directions are not two orthogonal unit vectors. */
static int
series_orientation(const double *iop, double *row, double *col,
    double *normal)
{
	memcpy(row, iop, 3 * sizeof(double));
	memcpy(col, iop + 3, 3 * sizeof(double));
	if (fabs(vec_unit(row) - 1) > 0.01 || fabs(vec_unit(col) - 1) > 0.01)
		return -1;
	if (fabs(vec_dot(row, col)) > 0.01)
		return -1;
	vec_cross(row, col, normal);
	vec_unit(normal);
	return 0;
}

/*
 * Refuse a series whose images cannot share one voxel grid.  Returns 0,
 * or -1 with a reason in err.
 */
static int
series_check_mixed(const char *const *paths, const struct dcm_info *in,
    size_t n, char *err, size_t errlen)
{
	const struct dcm_info	*a = &in[0], *b;
	size_t			 i;
	int			 k;

	for (i = 0; i < n; i++) {
		b = &in[i];
		if (b->rows <= 0 || b->cols <= 0 || !b->has_pixels) {
			errfmt(err, errlen, "%s: no image", paths[i]);
			return -1;
		}
		if (n > 1 && b->frames > 1) {
			errfmt(err, errlen, "%s: a multi-frame file in a "
			    "series of %zu files", paths[i], n);
			return -1;
		}
		if (i == 0)
			continue;
		if (b->rows != a->rows || b->cols != a->cols) {
			errfmt(err, errlen, "mixed geometry: %s is %dx%d, "
			    "%s is %dx%d", paths[0], a->cols, a->rows,
			    paths[i], b->cols, b->rows);
			return -1;
		}
		if ((a->pixel_spacing_source == DCM_SPACING_NONE) !=
		    (b->pixel_spacing_source == DCM_SPACING_NONE) ||
		    (a->pixel_spacing_source != DCM_SPACING_NONE &&
		    (fabs(a->pixel_spacing[0] - b->pixel_spacing[0]) >
		    SERIES_SPACING_TOL ||
		    fabs(a->pixel_spacing[1] - b->pixel_spacing[1]) >
		    SERIES_SPACING_TOL))) {
			errfmt(err, errlen, "mixed geometry: pixel spacing "
			    "%g\\%g in %s, %g\\%g in %s", a->pixel_spacing[0],
			    a->pixel_spacing[1], paths[0],
			    b->pixel_spacing[0], b->pixel_spacing[1],
			    paths[i]);
			return -1;
		}
		if (a->has_iop && b->has_iop)
			for (k = 0; k < 6; k++)
				if (fabs(a->iop[k] - b->iop[k]) >
				    SERIES_IOP_TOL) {
					errfmt(err, errlen, "mixed "
					    "geometry: orientation differs "
					    "between %s and %s", paths[0],
					    paths[i]);
					return -1;
				}
	}
	return 0;
}

/*
 * Drop slices whose SOP Instance UID came before (duplicates) and
 * slices at the position of the one before them, reporting both.  The
 * slices are in volume order; *nz shrinks.  Returns 0 or -1 (memory).
 */
static int
series_dedup(struct series_volume *v, struct series_slice *s, int *nz)
{
	struct series_slice	**p = NULL;
	char			 en[256], zh[256];
	int			 i, j, n = *nz;

	if ((p = calloc((size_t)n, sizeof(*p))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		p[i] = &s[i];
	qsort(p, (size_t)n, sizeof(*p), cmp_slice_sop);
	for (i = 1; i < n; i++) {
		if (p[i]->sop_uid[0] == '\0' ||
		    strcmp(p[i]->sop_uid, p[i - 1]->sop_uid) != 0)
			continue;
		(void)snprintf(en, sizeof(en), "duplicate image dropped: "
		    "SOP Instance UID %s appears twice (instance %d)",
		    p[i]->sop_uid, p[i]->instance_number);
		(void)snprintf(zh, sizeof(zh), "重复图像已去除：SOP 实例 UID "
		    "%s 出现两次（实例号 %d）", p[i]->sop_uid,
		    p[i]->instance_number);
		if (series_warn_add(v, SERIES_WARN_DUPLICATE, en, zh) == -1)
			goto fail;
		p[i]->file = -1;
		p[i] = p[i - 1];	/* a third copy meets the kept one */
	}
	free(p);
	p = NULL;

	for (i = j = 0; i < n; i++) {
		if (s[i].file == -1)
			continue;
		if (j > 0 && v->order == SERIES_ORDER_POSITION &&
		    s[i].pos - s[j - 1].pos < SERIES_SAME_POS_MM) {
			(void)snprintf(en, sizeof(en), "two images at one "
			    "position (%.2f mm): instance %d kept, instance "
			    "%d dropped", s[i].pos, s[j - 1].instance_number,
			    s[i].instance_number);
			(void)snprintf(zh, sizeof(zh), "两幅图像位置相同"
			    "（%.2f mm）：保留实例号 %d，去除实例号 %d",
			    s[i].pos, s[j - 1].instance_number,
			    s[i].instance_number);
			if (series_warn_add(v, SERIES_WARN_SAME_POSITION, en,
			    zh) == -1)
				goto fail;
			continue;
		}
		s[j++] = s[i];
	}
	*nz = j;
	return 0;
fail:
	free(p);
	return -1;
}

/*
 * Whether spacing i of the m spacings d is a gap: larger than factor
 * times the median of the (up to SERIES_GAP_WINDOW) spacings before it
 * and of those after it.  A missing slice stands out on both sides; a
 * change of slice spacing within the series (thin then thick) does not.
 * Returns 1 or 0.
 */
static int
series_is_gap(const double *d, int m, int i, double factor)
{
	double	 w[SERIES_GAP_WINDOW];
	int	 j, n, side = 0;

	for (n = 0, j = i - 1; j >= 0 && n < SERIES_GAP_WINDOW; j--)
		w[n++] = d[j];
	if (n > 0) {
		if (d[i] <= factor * series_median(w, (size_t)n))
			return 0;
		side++;
	}
	for (n = 0, j = i + 1; j < m && n < SERIES_GAP_WINDOW; j++)
		w[n++] = d[j];
	if (n > 0) {
		if (d[i] <= factor * series_median(w, (size_t)n))
			return 0;
		side++;
	}
	return side > 0;
}

/*
 * Measure the spacing of slices ordered by position: dz is the median
 * distance between neighbours along the normal.  Report gaps (see
 * series_is_gap()), uneven spacing among the rest, gantry tilt and
 * Instance Numbers out of order.
 * Returns 0 or -1 (memory).
 */
static int
series_measure(struct series_volume *v, const struct series_slice *s,
    int nz, double gap_factor)
{
	double		*d = NULL, *win = NULL, *ok = NULL;
	double		 D[3], inplane[3], along, lo, hi;
	char		 en[256], zh[256], a[32], b[32], c[32];
	int		 i, j, m = nz - 1, nok, inc, dec, known;

	if (nz < 2)
		return 0;
	d = calloc((size_t)m, sizeof(*d));
	win = calloc((size_t)m, sizeof(*win));
	ok = calloc((size_t)m, sizeof(*ok));
	if (d == NULL || win == NULL || ok == NULL)
		goto fail;
	for (i = 0; i < m; i++)
		d[i] = s[i + 1].pos - s[i].pos;
	memcpy(win, d, (size_t)m * sizeof(*d));
	v->spacing_median = series_median(win, (size_t)m);
	v->spacing[2] = v->spacing_median;

	for (i = nok = 0; i < m; i++) {
		if (series_is_gap(d, m, i, gap_factor) == 0) {
			ok[nok++] = d[i];
			continue;
		}
		series_mm(a, sizeof(a), d[i]);
		series_mm(b, sizeof(b), v->spacing_median);
		(void)snprintf(en, sizeof(en), "missing slice between slices "
		    "%d and %d (spacing %s mm, median %s mm)", i + 1, i + 2,
		    a, b);
		(void)snprintf(zh, sizeof(zh), "第%d与%d层之间缺层（间距 %s "
		    "mm，中位 %s mm）", i + 1, i + 2, a, b);
		if (series_warn_add(v, SERIES_WARN_GAP, en, zh) == -1)
			goto fail;
	}

	lo = hi = nok > 0 ? ok[0] : v->spacing_median;
	for (i = 0; i < nok; i++) {
		lo = fmin(lo, ok[i]);
		hi = fmax(hi, ok[i]);
	}
	v->spacing_min = v->spacing_max = d[0];
	for (i = 0; i < m; i++) {
		v->spacing_min = fmin(v->spacing_min, d[i]);
		v->spacing_max = fmax(v->spacing_max, d[i]);
	}
	if (hi - lo > fmax(0.01, 0.02 * v->spacing_median)) {
		series_mm(a, sizeof(a), lo);
		series_mm(b, sizeof(b), hi);
		series_mm(c, sizeof(c), v->spacing_median);
		(void)snprintf(en, sizeof(en), "uneven slice spacing: %s-%s mm "
		    "(median %s mm)", a, b, c);
		(void)snprintf(zh, sizeof(zh), "层间距不均匀：%s–%s mm（中位 "
		    "%s mm）", a, b, c);
		if (series_warn_add(v, SERIES_WARN_NONUNIFORM, en, zh) == -1)
			goto fail;
	}

	/* Tilt: the displacement from first to last slice origin should
	 * run along the normal; an in-plane part is a sheared stack. */
	for (j = 0; j < 3; j++)
		D[j] = s[nz - 1].ipp[j] - s[0].ipp[j];
	along = vec_dot(D, v->normal);
	for (j = 0; j < 3; j++)
		inplane[j] = D[j] - along * v->normal[j];
	v->tilt_deg = atan2(sqrt(vec_dot(inplane, inplane)), fabs(along)) *
	    180 / SERIES_PI;
	for (j = 0; j < 3; j++)
		v->step[j] = D[j] * v->spacing[2] / along;
	if (v->tilt_deg >= SERIES_TILT_MIN_DEG) {
		if (isnan(v->gantry_tilt)) {
			(void)snprintf(en, sizeof(en), "gantry tilt %.1f "
			    "degrees: slices are sheared", v->tilt_deg);
			(void)snprintf(zh, sizeof(zh), "机架倾斜 %.1f°",
			    v->tilt_deg);
		} else {
			(void)snprintf(en, sizeof(en), "gantry tilt %.1f "
			    "degrees: slices are sheared (Gantry/Detector "
			    "Tilt %.1f)", v->tilt_deg, v->gantry_tilt);
			(void)snprintf(zh, sizeof(zh), "机架倾斜 %.1f°（标签"
			    "记录 %.1f°）", v->tilt_deg, v->gantry_tilt);
		}
		if (series_warn_add(v, SERIES_WARN_TILT, en, zh) == -1)
			goto fail;
	} else if (!isnan(v->gantry_tilt) &&
	    fabs(v->gantry_tilt) >= SERIES_TILT_MIN_DEG) {
		(void)snprintf(en, sizeof(en), "Gantry/Detector Tilt is %.1f "
		    "degrees but the slices are not sheared",
		    v->gantry_tilt);
		(void)snprintf(zh, sizeof(zh), "机架倾斜标签为 %.1f°，但图像"
		    "位置未见倾斜", v->gantry_tilt);
		if (series_warn_add(v, SERIES_WARN_TILT_TAG, en, zh) == -1)
			goto fail;
	}

	/* Instance Numbers should run one way along the volume. */
	inc = dec = 1;
	known = 0;
	for (i = 0; i < nz; i++)
		known |= s[i].instance_number != 0;
	for (i = 0; i < m; i++) {
		inc &= s[i + 1].instance_number > s[i].instance_number;
		dec &= s[i + 1].instance_number < s[i].instance_number;
	}
	if (known && !inc && !dec) {
		(void)snprintf(en, sizeof(en), "Instance Number order "
		    "disagrees with slice positions; positions used");
		(void)snprintf(zh, sizeof(zh), "实例号顺序与层面位置不一致，"
		    "已按位置排序");
		if (series_warn_add(v, SERIES_WARN_INSTANCE_ORDER, en,
		    zh) == -1)
			goto fail;
	}
	free(d);
	free(win);
	free(ok);
	return 0;
fail:
	free(d);
	free(win);
	free(ok);
	return -1;
}

/*
 * The slice spacing when it cannot be measured: Spacing Between Slices,
 * else Slice Thickness, else 1 mm, with a warning naming the source.
 * Returns 0 or -1 (memory).
 */
static int
series_spacing_assumed(struct series_volume *v, const struct dcm_info *in,
    enum series_warn code, const char *why_en, const char *why_zh)
{
	const char	*src_en, *src_zh;
	char		 en[256], zh[256], a[32];

	if (in->spacing_between_slices > 0) {
		v->spacing[2] = in->spacing_between_slices;
		src_en = "Spacing Between Slices";
		src_zh = "层间距标签";
	} else if (in->slice_thickness > 0) {
		v->spacing[2] = in->slice_thickness;
		src_en = "Slice Thickness";
		src_zh = "层厚";
	} else {
		v->spacing[2] = 1;
		src_en = "a default";
		src_zh = "默认值";
	}
	v->spacing_min = v->spacing_max = v->spacing_median = v->spacing[2];
	series_mm(a, sizeof(a), v->spacing[2]);
	(void)snprintf(en, sizeof(en), "%s; slice spacing %s mm taken from "
	    "%s", why_en, a, src_en);
	(void)snprintf(zh, sizeof(zh), "%s；层间距 %s mm 取自%s", why_zh, a,
	    src_zh);
	return series_warn_add(v, code, en, zh);
}

/*
 * Set the padding voxels (equal to pad[k] in slice k; NAN: none) to the
 * fill value and report how many there were.  lo and hi are the extremes
 * of the other voxels.  Returns 0 or -1 (memory).
 */
static int
series_pad_replace(struct series_volume *v, const float *pad, float lo,
    float hi)
{
	size_t	 plane = (size_t)v->nx * (size_t)v->ny, i;
	float	*dst;
	char	 en[256], zh[256];
	int	 k;

	if (strcmp(v->modality, "CT") == 0)
		v->padding_fill = SERIES_CT_AIR;
	else if (isinf(lo))
		v->padding_fill = 0;
	else
		v->padding_fill = v->invert_for_display ? hi : lo;
	/* CT padding was replaced as each slice was read. */
	for (k = 0; strcmp(v->modality, "CT") != 0 && k < v->nz; k++) {
		dst = v->vox + plane * (size_t)k;
		if (isnan(pad[k]))
			continue;
		for (i = 0; i < plane; i++)
			if (dst[i] == pad[k])
				dst[i] = v->padding_fill;
	}
	(void)snprintf(en, sizeof(en), "%zu padding voxels (Pixel Padding "
	    "Value) set to %g", v->padding_voxels, (double)v->padding_fill);
	(void)snprintf(zh, sizeof(zh), "%zu 个填充像素（Pixel Padding Value）"
	    "已设为 %g", v->padding_voxels, (double)v->padding_fill);
	return series_warn_add(v, SERIES_WARN_PADDING, en, zh);
}

/*
 * The two passes over the files run on a few threads (one per processor,
 * at most SERIES_THREADS), each taking the next file or slice in order.
 * A failure stops the others from taking more; the reason given is that
 * of the first file in order that failed, as a loop over them would give.
 */
#define SERIES_THREADS	8
#define SERIES_CHUNK	65536	/* bytes read at once by the fast path */

struct series_job {
	struct series_volume	*v;
	const char *const	*paths;
	struct dcm_info		*in;	/* one per file, from the first pass */
	size_t			 n;	/* files (first pass) or slices */
	const struct dcm_limits	*lim;
	volatile int		*cancel;
	float			*pad;	/* per slice: padding value or NAN */
	int			(*one)(struct series_job *, size_t, void *,
				    char *, size_t);
	pthread_mutex_t		 mu;
	size_t			 next;	/* the next one to take */
	size_t			 failed;	/* the first that failed, or n */
	char			 err[512];
	size_t			 padding_voxels;
	float			 lo, hi;
	size_t			 fast;	/* slices read by the fast path */
	size_t			 prefaulted;	/* see series_prefault() */
	int			 general;	/* no fast path */
	int			 fresh;		/* v->vox is new memory */
};

/* What one thread of the second pass keeps between slices. */
struct series_scratch {
	float		*tab;		/* dcm_native16()'s table */
	double		 slope, intercept;
	int		 bits_stored, high_bit, sgnd, have_tab;
	unsigned char	 buf[SERIES_CHUNK];
};

static void *
series_worker(void *arg)
{
	struct series_job	*j = arg;
	struct series_scratch	*sc;
	char			 why[512];
	size_t			 k;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;	/* the other threads do the work */
	for (;;) {
		(void)pthread_mutex_lock(&j->mu);
		k = j->failed == j->n ? j->next : j->n;
		if (k < j->n)
			j->next++;
		(void)pthread_mutex_unlock(&j->mu);
		if (k >= j->n)
			break;
		why[0] = '\0';
		if (j->cancel != NULL && *j->cancel)
			(void)snprintf(why, sizeof(why), "cancelled");
		else if (j->one(j, k, sc, why, sizeof(why)) == 0)
			continue;
		(void)pthread_mutex_lock(&j->mu);
		if (k < j->failed) {
			j->failed = k;
			(void)snprintf(j->err, sizeof(j->err), "%s", why);
		}
		(void)pthread_mutex_unlock(&j->mu);
	}
	free(sc->tab);
	free(sc);
	return NULL;
}

/* Run j->one over 0..j->n-1 on the calling thread and a few more.
 * Returns 0, or -1 with the first failure's reason in err. */
static int
series_run(struct series_job *j, char *err, size_t errlen)
{
	pthread_t	 t[SERIES_THREADS];
	long		 ncpu;
	int		 i, nt = 0, want, rc = 0;

	j->next = 0;
	j->failed = j->n;
	j->err[0] = '\0';
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		errfmt(err, errlen, "cannot create a mutex");
		return -1;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	want = ncpu < 1 ? 1 : ncpu > SERIES_THREADS ? SERIES_THREADS :
	    (int)ncpu;
	if ((size_t)want > j->n)
		want = (int)j->n;
	for (i = 1; i < want; i++)
		if (pthread_create(&t[nt], NULL, series_worker, j) == 0)
			nt++;
	/* The calling thread works too; with no scratch memory for it,
	 * the others do everything (or, without others, nothing). */
	(void)series_worker(j);
	for (i = 0; i < nt; i++)
		(void)pthread_join(t[i], NULL);
	(void)pthread_mutex_destroy(&j->mu);
	if (j->failed < j->n) {
		errfmt(err, errlen, "%s", j->err);
		rc = -1;
	} else if (j->next < j->n) {
		errfmt(err, errlen, "out of memory");
		rc = -1;
	}
	return rc;
}

/* The padding voxels of one slice and the extremes of the others. */
struct series_stats {
	float	 pad;		/* the padding value, or NAN */
	float	 fill;		/* what padding becomes now, or NAN */
	float	 lo, hi;
	size_t	 npad;
};

static void
series_stats_init(struct series_stats *st, const struct series_volume *v,
    const struct dcm_info *in)
{
	st->pad = NAN;
	if (in->has_padding && !in->has_modality_lut)
		st->pad = (float)(in->pixel_padding * in->rescale_slope +
		    in->rescale_intercept);
	/* CT padding becomes air whatever the rest: at once, while the
	 * slice is in the cache (series_pad_replace() leaves it). */
	st->fill = strcmp(v->modality, "CT") == 0 ? SERIES_CT_AIR : NAN;
	st->lo = INFINITY;
	st->hi = -INFINITY;
	st->npad = 0;
}

static void
series_stats_add(struct series_stats *st, float *dst, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (dst[i] == st->pad) {
			st->npad++;
			if (!isnan(st->fill))
				dst[i] = st->fill;
			continue;
		}
		if (dst[i] < st->lo)
			st->lo = dst[i];
		if (dst[i] > st->hi)
			st->hi = dst[i];
	}
}

/* Merge the figures of slice k into the job. */
static void
series_stats_merge(struct series_job *j, size_t k,
    const struct series_stats *st)
{
	j->pad[k] = st->pad;
	(void)pthread_mutex_lock(&j->mu);
	j->padding_voxels += st->npad;
	if (st->lo < j->lo)
		j->lo = st->lo;
	if (st->hi > j->hi)
		j->hi = st->hi;
	(void)pthread_mutex_unlock(&j->mu);
}

/* First pass: the header of file i. */
static int
series_info_one(struct series_job *j, size_t i, void *scratch, char *why,
    size_t whylen)
{
	char	 e[256];

	(void)scratch;
	if (dcm_read_info(j->paths[i], j->lim, &j->in[i], e,
	    sizeof(e)) == -1) {
		(void)snprintf(why, whylen, "%s: %s", j->paths[i], e);
		return -1;
	}
	return 0;
}

/*
 * Stored 16-bit samples to modality values when Rescale Slope is 1 and
 * Rescale Intercept a whole number (nearly every CT): the value is then
 * the integer v + intercept rounded to a float, which is what
 * (float)((double)v * 1 + intercept) gives too, exactly (both are one
 * rounding, to nearest, of the same integer).  With the padding count
 * and the extremes as series_stats_add() makes them; four samples at a
 * time with SSE2 where there is SSE2.
 */
struct series_int16 {
	int		 shift;		/* high bit + 1 - bits stored */
	int32_t		 mask, sign;	/* sign: the sign bit if signed */
	int32_t		 intercept;
};

static void
series_int16_one(const unsigned char *b, float *o,
    const struct series_int16 *c, struct series_stats *st)
{
	int32_t	 v;
	float	 f;

	v = ((int32_t)(b[0] | (unsigned)b[1] << 8) >> c->shift) & c->mask;
	v = (v ^ c->sign) - c->sign;
	f = (float)(v + c->intercept);
	if (f == st->pad) {
		st->npad++;
		*o = isnan(st->fill) ? f : st->fill;
		return;
	}
	*o = f;
	if (f < st->lo)
		st->lo = f;
	if (f > st->hi)
		st->hi = f;
}

static void
series_int16(const unsigned char *b, float *o, size_t n,
    const struct series_int16 *c, struct series_stats *st)
{
	size_t	 i = 0;
#ifdef __SSE2__
	__m128i	 zero = _mm_setzero_si128(), mask, sign, icpt, cnt, raw, w,
		 npad = _mm_setzero_si128();
	__m128	 pad, fill, inf, ninf, lo, hi, f, m;
	float	 l[4], h[4];
	uint32_t np[4];
	int	 k, repl;

	mask = _mm_set1_epi32(c->mask);
	sign = _mm_set1_epi32(c->sign);
	icpt = _mm_set1_epi32(c->intercept);
	cnt = _mm_cvtsi32_si128(c->shift);
	pad = _mm_set1_ps(st->pad);
	repl = !isnan(st->fill);
	fill = _mm_set1_ps(repl ? st->fill : 0);
	inf = _mm_set1_ps(INFINITY);
	ninf = _mm_set1_ps(-INFINITY);
	lo = _mm_set1_ps(st->lo);
	hi = _mm_set1_ps(st->hi);
	for (; i + 8 <= n; i += 8) {
		raw = _mm_loadu_si128((const __m128i *)(const void *)
		    (b + 2 * i));
		for (k = 0; k < 2; k++) {
			w = k == 0 ? _mm_unpacklo_epi16(raw, zero) :
			    _mm_unpackhi_epi16(raw, zero);
			w = _mm_and_si128(_mm_srl_epi32(w, cnt), mask);
			w = _mm_sub_epi32(_mm_xor_si128(w, sign), sign);
			f = _mm_cvtepi32_ps(_mm_add_epi32(w, icpt));
			m = _mm_cmpeq_ps(f, pad);	/* never for NAN */
			/* A padding lane is all ones (-1): counted in the
			 * lanes.  (A movemask and a scalar sum for every
			 * four samples made a chain that held the loop up:
			 * half of the load's samples were there.)  A call
			 * is one chunk, far below 2^32 samples a lane. */
			npad = _mm_sub_epi32(npad, _mm_castps_si128(m));
			lo = _mm_min_ps(lo, _mm_or_ps(_mm_and_ps(m, inf),
			    _mm_andnot_ps(m, f)));
			hi = _mm_max_ps(hi, _mm_or_ps(_mm_and_ps(m, ninf),
			    _mm_andnot_ps(m, f)));
			if (repl)
				f = _mm_or_ps(_mm_and_ps(m, fill),
				    _mm_andnot_ps(m, f));
			_mm_storeu_ps(o + i + 4 * (size_t)k, f);
		}
	}
	_mm_storeu_si128((__m128i *)(void *)np, npad);
	st->npad += (size_t)np[0] + np[1] + np[2] + np[3];
	/* Values are never NAN or -0 (converted integers): the order in
	 * which the extremes are taken does not matter. */
	_mm_storeu_ps(l, lo);
	_mm_storeu_ps(h, hi);
	for (k = 0; k < 4; k++) {
		if (l[k] < st->lo)
			st->lo = l[k];
		if (h[k] > st->hi)
			st->hi = h[k];
	}
#endif
	for (; i < n; i++)
		series_int16_one(b + 2 * i, o + i, c, st);
}

/*
 * The fast path of one slice: native little-endian 16-bit grey pixels
 * (dcm_native16()) read straight from the file into their place in the
 * volume, through the integer conversion above or one table.  Every
 * offset and length was checked against the file's size by the first
 * pass and is checked again against the file as opened now.  Returns 0,
 * or 1 when the general path must do it (another kind of image, a file
 * changed since the first pass, a short read).
 */
static int
series_fast(const char *path, const struct dcm_info *in,
    const struct dcm_limits *lim, struct series_scratch *sc, float *dst,
    struct series_stats *st)
{
	struct series_int16	 c = { 0, 0, 0, 0 };
	struct stat		 sb;
	size_t			 left, got, i, n, npix;
	off_t			 off;
	ssize_t			 r;
	int			 fd, rc = 1, integer;

	if (dcm_native16(in, lim, NULL) == -1)
		return 1;
	integer = in->rescale_slope == 1 &&
	    in->rescale_intercept == floor(in->rescale_intercept) &&
	    fabs(in->rescale_intercept) <= SERIES_INT16_MAX_ICPT;
	if (integer) {
		c.shift = in->high_bit + 1 - in->bits_stored;
		c.mask = (int32_t)((1U << in->bits_stored) - 1);
		c.sign = in->pixel_representation == 1 ?
		    (int32_t)(1U << (in->bits_stored - 1)) : 0;
		c.intercept = (int32_t)in->rescale_intercept;
	} else if (!sc->have_tab || sc->slope != in->rescale_slope ||
	    sc->intercept != in->rescale_intercept ||
	    sc->bits_stored != in->bits_stored ||
	    sc->high_bit != in->high_bit ||
	    sc->sgnd != in->pixel_representation) {
		if (sc->tab == NULL &&
		    (sc->tab = malloc(65536 * sizeof(*sc->tab))) == NULL)
			return 1;
		sc->have_tab = 0;
		if (dcm_native16(in, lim, sc->tab) == -1)
			return 1;
		sc->slope = in->rescale_slope;
		sc->intercept = in->rescale_intercept;
		sc->bits_stored = in->bits_stored;
		sc->high_bit = in->high_bit;
		sc->sgnd = in->pixel_representation;
		sc->have_tab = 1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < 0 ||
	    (unsigned long long)sb.st_size != in->file_size)
		goto done;
	npix = (size_t)in->rows * (size_t)in->cols;
	off = (off_t)in->pixel_offset;
	left = npix * 2;
	while (left > 0) {
		n = left < sizeof(sc->buf) ? left : sizeof(sc->buf);
		got = 0;
		while (got < n) {
			r = pread(fd, sc->buf + got, n - got, off);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				goto done;
			got += (size_t)r;
			off += r;
		}
		if (integer)
			series_int16(sc->buf, dst, n / 2, &c, st);
		else {
			for (i = 0; i < n; i += 2)
				dst[i / 2] = sc->tab[sc->buf[i] |
				    (unsigned)sc->buf[i + 1] << 8];
			series_stats_add(st, dst, n / 2);
		}
		dst += n / 2;
		left -= n;
	}
	rc = 0;
done:
	(void)close(fd);
	return rc;
}

/*
 * Fault in the pages of n new floats at dst with one call instead of a
 * fault for each page as the fill first writes it: the kernel clears and
 * maps them in a loop.  Where every fault traps to the hypervisor (the
 * virtual machines here) that is most of a load into new memory: 274 MB
 * took 2.4-2.8 s page by page, 1.4-1.5 s so (load average 8).  The
 * contents do not change; a page shared with the slice beside
 * it is harmless.  A kernel without MADV_POPULATE_WRITE (5.14) refuses
 * it, and the fill then faults as before.  Returns 0, or -1 when
 * nothing was done.
 */
static int
series_prefault(float *dst, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	long		 pagesz = sysconf(_SC_PAGESIZE);
	uintptr_t	 a, b;

	if (pagesz <= 0 || n == 0)
		return -1;
	a = (uintptr_t)dst & ~((uintptr_t)pagesz - 1);
	b = ((uintptr_t)(dst + n) + (uintptr_t)pagesz - 1) &
	    ~((uintptr_t)pagesz - 1);
	return madvise((void *)a, b - a, MADV_POPULATE_WRITE) == 0 ? 0 : -1;
#else
	(void)dst;
	(void)n;
	return -1;
#endif
}

/* Second pass: slice k into its place in the volume. */
static int
series_fill_one(struct series_job *j, size_t k, void *scratch, char *why,
    size_t whylen)
{
	struct series_volume	*v = j->v;
	struct dcm_info		 in;
	const char		*path = j->paths[v->slices[k].file];
	size_t			 plane = (size_t)v->nx * (size_t)v->ny;
	float			*dst = v->vox + plane * k, *px = NULL;
	struct series_stats	 st;
	char			 e[256];
	int			 fast, pre;

	pre = j->fresh && series_prefault(dst, plane) == 0;
	series_stats_init(&st, v, &j->in[v->slices[k].file]);
	fast = !j->general && series_fast(path, &j->in[v->slices[k].file], j->lim, scratch,
	    dst, &st) == 0;
	if (fast)
		in = j->in[v->slices[k].file];
	else if (dcm_read_frame(path, j->lim, v->slices[k].frame, &px, &in,
	    e, sizeof(e)) == -1) {
		(void)snprintf(why, whylen, "%s: %s", path, e);
		return -1;
	}
	if (in.cols != v->nx || in.rows != v->ny) {
		(void)snprintf(why, whylen, "%s: image size changed while "
		    "loading", path);
		free(px);
		return -1;
	}
	if (px != NULL) {
		memcpy(dst, px, plane * sizeof(*dst));
		free(px);
		/* The general path: figures of the file as read now. */
		series_stats_init(&st, v, &in);
		series_stats_add(&st, dst, plane);
	}
	series_stats_merge(j, k, &st);
	if (fast || pre) {
		(void)pthread_mutex_lock(&j->mu);
		j->fast += fast != 0;
		j->prefaulted += pre != 0;
		(void)pthread_mutex_unlock(&j->mu);
	}
	return 0;
}

/*
 * Decode every slice into the volume, then replace Pixel Padding Value
 * voxels: with -1024 HU in CT, otherwise with the darkest value of the
 * rest of the image (its maximum for MONOCHROME1).  in holds the first
 * pass's header of every file.  Returns 0, or -1 with a reason in err.
 */
static int
series_fill(struct series_volume *v, const char *const *paths,
    struct dcm_info *in, const struct dcm_limits *lim,
    volatile int *cancel, int general, int fresh, char *err, size_t errlen)
{
	struct series_job	 j;
	struct dcm_info		*fi = NULL;
	size_t			 plane = (size_t)v->nx * (size_t)v->ny;
	char			 why[256];
	int			 k, rc = -1;

	memset(&j, 0, sizeof(j));
	j.v = v;
	j.paths = paths;
	j.in = in;
	j.n = (size_t)v->nz;
	j.lim = lim;
	j.cancel = cancel;
	j.one = series_fill_one;
	j.general = general;
	j.fresh = fresh;
	j.lo = INFINITY;
	j.hi = -INFINITY;
	if ((j.pad = calloc((size_t)v->nz, sizeof(*j.pad))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto done;
	}
	if (v->order == SERIES_ORDER_FRAMES) {
		/* One file of frames: read and parsed once. */
		if (cancel != NULL && *cancel) {
			errfmt(err, errlen, "cancelled");
			goto done;
		}
		if ((fi = malloc(sizeof(*fi))) == NULL) {
			errfmt(err, errlen, "out of memory");
			goto done;
		}
		if (fresh && series_prefault(v->vox, plane *
		    (size_t)v->nz) == 0)
			j.prefaulted = (size_t)v->nz;
		if (dcm_read_frames(paths[0], lim, v->vox,
		    plane * (size_t)v->nz, fi, why, sizeof(why)) == -1) {
			errfmt(err, errlen, "%s: %s", paths[0], why);
			goto done;
		}
		if (fi->cols != v->nx || fi->rows != v->ny) {
			errfmt(err, errlen, "%s: image size changed while "
			    "loading", paths[0]);
			goto done;
		}
		if (pthread_mutex_init(&j.mu, NULL) != 0) {
			errfmt(err, errlen, "cannot create a mutex");
			goto done;
		}
		for (k = 0; k < v->nz; k++) {
			struct series_stats	 st;

			series_stats_init(&st, v, fi);
			series_stats_add(&st, v->vox + plane * (size_t)k,
			    plane);
			series_stats_merge(&j, (size_t)k, &st);
		}
		(void)pthread_mutex_destroy(&j.mu);
	} else if (series_run(&j, err, errlen) == -1)
		goto done;
	v->padding_voxels = j.padding_voxels;
	v->fast_slices = j.fast;
	v->prefaulted_slices = j.prefaulted;
	if (v->padding_voxels > 0 &&
	    series_pad_replace(v, j.pad, j.lo, j.hi) == -1) {
		errfmt(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(fi);
	free(j.pad);
	return rc;
}

int
series_load(const char *const *paths, size_t n,
    const struct series_opts *opts, struct series_volume **out, char *err,
    size_t errlen)
{
	struct series_volume	*v = NULL;
	struct dcm_info		*in = NULL, *a;
	struct series_slice	*s;
	const struct dcm_limits	*lim = opts != NULL ? opts->limits : NULL;
	volatile int		*cancel = opts != NULL ? opts->cancel : NULL;
	struct series_spare	*spare = opts != NULL ? opts->spare : NULL;
	size_t			 maxvox = SERIES_MAX_VOXELS, i, nvox;
	double			 gapf = SERIES_GAP_FACTOR;
	double			 r[3], c[3], nrm[3];
	int			 k, nz, positioned, fresh = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (paths == NULL || n == 0 || out == NULL) {
		errfmt(err, errlen, "no files");
		goto fail;
	}
	if (n > INT32_MAX) {
		errfmt(err, errlen, "too many files");
		goto fail;
	}
	if (opts != NULL && opts->max_voxels > 0)
		maxvox = opts->max_voxels;
	if (opts != NULL && opts->gap_factor > 1)
		gapf = opts->gap_factor;

	if ((in = calloc(n, sizeof(*in))) == NULL ||
	    (v = calloc(1, sizeof(*v))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (paths[i] == NULL) {
			errfmt(err, errlen, "path %zu is NULL", i);
			goto fail;
		}
	if (cancel != NULL && *cancel) {
		errfmt(err, errlen, "cancelled");
		goto fail;
	}
	{
		struct series_job	 j;

		memset(&j, 0, sizeof(j));
		j.paths = paths;
		j.in = in;
		j.n = n;
		j.lim = lim;
		j.cancel = cancel;
		j.one = series_info_one;
		if (series_run(&j, err, errlen) == -1)
			goto fail;
	}
	if (series_check_mixed(paths, in, n, err, errlen) == -1)
		goto fail;

	a = &in[0];
	v->nx = a->cols;
	v->ny = a->rows;
	v->nz = nz = n > 1 ? (int)n : a->frames > 1 ? a->frames : 1;
	v->gantry_tilt = a->gantry_tilt;
	v->kvp = a->kvp;
	v->patient_size = a->patient_size;
	v->slice_thickness = a->slice_thickness;
	v->window_center = a->window_center;
	v->window_width = a->window_width;
	v->padding_fill = NAN;
	(void)snprintf(v->modality, sizeof(v->modality), "%s", a->modality);
	(void)snprintf(v->photometric, sizeof(v->photometric), "%s",
	    a->photometric);
	(void)snprintf(v->series_uid, sizeof(v->series_uid), "%s",
	    a->series_uid);
	(void)snprintf(v->manufacturer, sizeof(v->manufacturer), "%s",
	    a->manufacturer);
	(void)snprintf(v->model, sizeof(v->model), "%s", a->model);
	(void)snprintf(v->kernel, sizeof(v->kernel), "%s", a->kernel);
	(void)snprintf(v->patient_position, sizeof(v->patient_position),
	    "%s", a->patient_position);
	(void)snprintf(v->contrast_agent, sizeof(v->contrast_agent), "%s",
	    a->contrast_agent);
	(void)snprintf(v->description, sizeof(v->description), "%s",
	    a->series_description);
	(void)snprintf(v->study_description, sizeof(v->study_description),
	    "%s", a->study_description);
	v->invert_for_display = strcmp(a->photometric, "MONOCHROME1") == 0;
	(void)snprintf(v->voi_function, sizeof(v->voi_function), "%s",
	    a->voi_function);
	/* A VOI LUT replaces the window for display (PS3.4 N.2.1.1); one
	 * that cannot be read refuses the series rather than show it
	 * wrongly. */
	if (a->voi_luts > 0 && dcm_read_voi_lut(paths[0], opts != NULL ?
	    opts->limits : NULL, 0, &v->voi_lut, err, errlen) == -1)
		goto fail;

	/* In-plane geometry.  Imager Pixel Spacing is at the detector;
	 * it is what a radiograph offers. */
	if (a->pixel_spacing_source != DCM_SPACING_NONE) {
		v->spacing[0] = a->pixel_spacing[1];
		v->spacing[1] = a->pixel_spacing[0];
	} else {
		v->spacing[0] = v->spacing[1] = 1;
		if (series_warn_add(v, SERIES_WARN_NO_PIXEL_SPACING,
		    "no Pixel Spacing; 1 mm pixels assumed",
		    "缺少像素间距，按 1 mm 处理") == -1)
			goto fail;
	}
	positioned = 1;
	for (i = 0; i < n; i++)
		if (!in[i].has_ipp || !in[i].has_iop ||
		    series_orientation(in[i].iop, r, c, nrm) == -1)
			positioned = 0;
	if (!a->has_iop ||
	    series_orientation(a->iop, v->row, v->col, v->normal) == -1) {
		memset(v->row, 0, sizeof(v->row));
		memset(v->col, 0, sizeof(v->col));
		memset(v->normal, 0, sizeof(v->normal));
		v->row[0] = v->col[1] = v->normal[2] = 1;
	}
	for (i = 1; i < n; i++)
		if (in[i].frame_of_reference_uid[0] != '\0' &&
		    a->frame_of_reference_uid[0] != '\0' &&
		    strcmp(in[i].frame_of_reference_uid,
		    a->frame_of_reference_uid) != 0) {
			if (series_warn_add(v, SERIES_WARN_FRAME_OF_REFERENCE,
			    "Frame of Reference UIDs differ within the series",
			    "序列内参考坐标系 UID 不一致") == -1)
				goto fail;
			break;
		}

	if ((v->slices = calloc((size_t)nz, sizeof(*v->slices))) == NULL)
		goto fail;
	for (k = 0; k < nz; k++) {
		s = &v->slices[k];
		s->file = n > 1 ? k : 0;
		s->frame = n > 1 ? 0 : k;
		s->instance_number = in[s->file].instance_number;
		s->has_ipp = in[s->file].has_ipp;
		if (s->has_ipp)
			memcpy(s->ipp, in[s->file].ipp, sizeof(s->ipp));
		s->pos = vec_dot(s->ipp, v->normal);
		memcpy(s->sop_uid, in[s->file].sop_instance_uid,
		    sizeof(s->sop_uid));
	}

	if (nz == 1) {
		v->order = SERIES_ORDER_SINGLE;
		v->spacing[2] = a->slice_thickness > 0 ? a->slice_thickness :
		    a->spacing_between_slices > 0 ?
		    a->spacing_between_slices : 1;
		v->spacing_min = v->spacing_max = v->spacing_median =
		    v->spacing[2];
	} else if (n == 1) {
		v->order = SERIES_ORDER_FRAMES;
		if (series_spacing_assumed(v, a, SERIES_WARN_MULTIFRAME,
		    "multi-frame image without per-frame positions: frames "
		    "taken in order", "多帧图像无逐帧位置，按帧顺序排列") == -1)
			goto fail;
	} else if (positioned) {
		v->order = SERIES_ORDER_POSITION;
		qsort(v->slices, (size_t)nz, sizeof(*v->slices),
		    cmp_slice_pos);
		if (series_dedup(v, v->slices, &nz) == -1)
			goto fail;
		v->nz = nz;
		if (nz == 1)
			v->spacing[2] = v->spacing_min = v->spacing_max =
			    v->spacing_median = a->slice_thickness > 0 ?
			    a->slice_thickness : 1;
		else if (series_measure(v, v->slices, nz, gapf) == -1)
			goto fail;
	} else {
		v->order = SERIES_ORDER_INSTANCE;
		qsort(v->slices, (size_t)nz, sizeof(*v->slices),
		    cmp_slice_inst);
		if (series_dedup(v, v->slices, &nz) == -1)
			goto fail;
		v->nz = nz;
		if (series_spacing_assumed(v, a, SERIES_WARN_NO_POSITION,
		    "image position or orientation missing: slices ordered "
		    "by Instance Number",
		    "缺少图像位置或方向，已按实例号排序") == -1)
			goto fail;
	}
	if (v->order != SERIES_ORDER_POSITION || nz == 1)
		for (k = 0; k < 3; k++)
			v->step[k] = v->normal[k] * v->spacing[2];
	if (v->slices[0].has_ipp)
		memcpy(v->origin, v->slices[0].ipp, sizeof(v->origin));
	if (v->order == SERIES_ORDER_FRAMES)
		for (k = 0; k < nz; k++) {
			s = &v->slices[k];
			s->has_ipp = 0;
			for (i = 0; i < 3; i++)
				s->ipp[i] = v->origin[i] + k * v->step[i];
			s->pos = vec_dot(s->ipp, v->normal);
		}

	nvox = (size_t)v->nx * (size_t)v->ny;
	if (nvox > maxvox / (size_t)v->nz) {
		errfmt(err, errlen, "series too large: %dx%dx%d voxels, "
		    "limit %zu", v->nx, v->ny, v->nz, maxvox);
		goto fail;
	}
	nvox *= (size_t)v->nz;
	v->vox_cap = nvox;
	if (spare != NULL && spare->vox != NULL) {
		/* Pages already faulted in and cleared once: every voxel is
		 * written below, so nothing of the old volume shows. */
		if (spare->cap >= nvox && spare->cap / 2 <= nvox) {
			v->vox = spare->vox;
			v->vox_cap = spare->cap;
			spare->vox = NULL;
			spare->cap = 0;
		} else
			series_spare_free(spare);
	}
	if (v->vox == NULL) {
		if ((v->vox = malloc(nvox * sizeof(*v->vox))) == NULL) {
			errfmt(err, errlen, "out of memory for %zu voxels",
			    nvox);
			goto fail;
		}
		fresh = 1;
	}
	if (series_fill(v, paths, in, lim, cancel,
	    opts != NULL && opts->general, fresh, err, errlen) == -1)
		goto fail;
	free(in);
	*out = v;
	return 0;
fail:
	/* A failure that gave no reason was a failed allocation. */
	if (err != NULL && errlen > 0 && err[0] == '\0')
		errfmt(err, errlen, "out of memory");
	free(in);
	series_recycle(v, spare);
	return -1;
}

void
series_spare_free(struct series_spare *sp)
{
	if (sp == NULL)
		return;
	free(sp->vox);
	sp->vox = NULL;
	sp->cap = 0;
}

void
series_recycle(struct series_volume *v, struct series_spare *sp)
{
	if (v != NULL && sp != NULL && v->vox != NULL) {
		series_spare_free(sp);
		sp->vox = v->vox;
		sp->cap = v->vox_cap != 0 ? v->vox_cap :
		    (size_t)v->nx * (size_t)v->ny * (size_t)v->nz;
		v->vox = NULL;
	}
	series_free(v);
}

void
series_free(struct series_volume *v)
{
	if (v == NULL)
		return;
	free(v->vox);
	free(v->slices);
	free(v->warn);
	dcm_lut_table_free(&v->voi_lut);
	free(v);
}

const char *
series_warn_name(enum series_warn code)
{
	if ((int)code < 0 || code >= SERIES_WARN__MAX)
		return "unknown";
	return warn_names[code];
}

const struct series_warning *
series_warn_find(const struct series_volume *v, enum series_warn code)
{
	size_t	 i;

	for (i = 0; i < v->nwarn; i++)
		if (v->warn[i].code == code)
			return &v->warn[i];
	return NULL;
}

void
series_vox2pat(const struct series_volume *v, double i, double j, double k,
    double p[3])
{
	int	 a;

	for (a = 0; a < 3; a++)
		p[a] = v->origin[a] + i * v->spacing[0] * v->row[a] +
		    j * v->spacing[1] * v->col[a] + k * v->step[a];
}
