/*
 * cacbench.c - what the coronary calcium reader costs per study: loading
 * the series, then scoring it on the CPU or the CUDA backend.
 *
 *	cacbench [-cf] [-b cpu|cuda|auto] [-n repeats] [-p] [dir ...]
 *
 * The inputs are, with -p, the standard phantom (phantom_standard():
 * 384 x 384 pixels of 0.9 mm over z = 0..150 mm, 120 kV, a plaque in each
 * coronary artery, one on the aorta and one in the aortic valve) at 1.25
 * and at 0.625 mm, each written as a DICOM CT series into a temporary
 * folder (removed at the end) so that it is loaded as a scanner's would
 * be; then every dir given, one series each: every file under it whose
 * name ends in ".dcm", recursively.
 *
 * For each input:
 *
 *   load	series_load() of the files into a volume of HU, repeats
 *		times (the page cache is warm after the first); the median;
 *   compute	cac_score() and cac_to_ai() on the backend (-b, default
 *		auto), repeats times, as zhiying-inferd's "compute" of a
 *		job; the median, and the fastest;
 *   floor	with -f: one threshold at the reader's calcium threshold
 *		(130 HU at 120 kV) and one 26-connected labelling with
 *		statistics of the whole volume, on the same backend: a pass
 *		that every scorer looking at every voxel makes; the median.
 *
 * One line per input and backend, "CAC" and key=value pairs (a value
 * with spaces in double quotes), gives the volume, the times and the
 * scores: total Agatston, volume (mm³) and mass (mg) scores, lesions
 * kept, regions found, vessels, and Agatston per artery.
 *
 * With -c both backends run on the same loaded volume, a "CAC" line
 * each, then one "COMPARE" line: whether every figure agrees (within
 * 1e-6 relative, 1e-6 absolute below 1) and every lesion (exclusion,
 * artery, slices, key slice, box: exactly), both in struct cac_result
 * and in the struct ai_result made of it; the report text; and the speed
 * ratio of the medians.  Where CUDA is not built or finds no device, the
 * line says "cuda=unavailable" with the reason, and the CPU runs alone.
 *
 * Exits 0 (also when the backends disagree: the COMPARE line says so;
 * scripts judge), 1 when an input cannot be made, loaded or scored, 2 on
 * a usage error.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cac.h"
#include "compute.h"
#include "dcmwrite.h"
#include "log.h"
#include "phantom.h"
#include "reader.h"
#include "series.h"

#define PROG		"cacbench"
#define MAX_RUNS	100
#define REL_TOL		1e-6

static const double phantom_slices[] = { 1.25, 0.625 };
#define NPHANTOMS	(sizeof(phantom_slices) / sizeof(phantom_slices[0]))

struct input {
	char		 name[128];
	char		 dir[PATH_MAX];
};

/* What one backend made of one volume. */
struct run {
	struct compute	*c;
	struct cac_result r;
	struct ai_result ai;
	int		 scored;
	double		 t[MAX_RUNS];
	double		 med, best, floor_med;
	size_t		 floor_regions;
};

static char	**paths;
static size_t	  npaths, cappaths;
static off_t	  total_bytes;
static char	  tmpdir[PATH_MAX];

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The median of t[0..n-1] (sorted in place). */
static double
median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int
collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t	 len = strlen(path);
	char	**np;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || len < 4 ||
	    strcmp(path + len - 4, ".dcm") != 0)
		return 0;
	if (npaths == cappaths) {
		cappaths = cappaths ? cappaths * 2 : 256;
		if ((np = realloc(paths, cappaths * sizeof(*paths))) == NULL)
			return -1;
		paths = np;
	}
	if ((paths[npaths] = strdup(path)) == NULL)
		return -1;
	npaths++;
	total_bytes += sb->st_size;
	return 0;
}

static void
paths_free(void)
{
	size_t	 i;

	for (i = 0; i < npaths; i++)
		free(paths[i]);
	npaths = 0;
	total_bytes = 0;
}

/* The .dcm files under dir, in name order.  Returns 0 or -1 (said). */
static int
paths_collect(const char *dir)
{
	paths_free();
	if (nftw(dir, collect, 16, FTW_PHYS) == -1) {
		fprintf(stderr, PROG ": %s: %s\n", dir,
		    errno ? strerror(errno) : "out of memory");
		return -1;
	}
	if (npaths == 0) {
		fprintf(stderr, PROG ": no .dcm file under %s\n", dir);
		return -1;
	}
	qsort(paths, npaths, sizeof(*paths), cmp_path);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

/* Remove the temporary folder of the phantoms, if any. */
static void
tmpdir_remove(void)
{
	if (tmpdir[0] == '\0')
		return;
	if (nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, PROG ": removing %s: %s\n", tmpdir,
		    strerror(errno));
	tmpdir[0] = '\0';
}

/*
 * Build the standard phantom at slice_mm and write it as a DICOM series
 * into a folder of tmpdir, described in *in.  Returns 0 or -1 (said).
 */
static int
phantom_make(double slice_mm, struct input *in)
{
	struct phantom_spec	 sp;
	struct series_volume	*v = NULL;
	struct dcmwrite_opts	 o;
	const char		*base;
	char			 err[512];
	double			 t0 = now(), t1;

	if (tmpdir[0] == '\0') {
		if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
			base = "/tmp";
		if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/cacbench.XXXXXX",
		    base) >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL) {
			fprintf(stderr, PROG ": mkdtemp in %s: %s\n", base,
			    strerror(errno));
			tmpdir[0] = '\0';
			return -1;
		}
	}
	(void)snprintf(in->name, sizeof(in->name), "phantom-%gmm", slice_mm);
	if ((size_t)snprintf(in->dir, sizeof(in->dir), "%s/%s", tmpdir,
	    in->name) >= sizeof(in->dir)) {
		fprintf(stderr, PROG ": %s: path too long\n", tmpdir);
		return -1;
	}
	phantom_standard(&sp, slice_mm, 120);
	if (phantom_build(&sp, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": phantom at %g mm: %s\n", slice_mm, err);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.patient_id = "CACBENCH";
	o.series_description = "cacbench standard phantom";
	if (dcmwrite_series(v, &o, in->dir, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": writing %s: %s\n", in->dir, err);
		series_free(v);
		return -1;
	}
	t1 = now();
	printf("# %s: %dx%dx%d built and written as DICOM in %.1f s\n",
	    in->name, v->nx, v->ny, v->nz, t1 - t0);
	series_free(v);
	return 0;
}

/*
 * Load the files of paths[] runs times; the last volume into *out, the
 * median time into *t.  Returns 0 or -1 (said).
 */
static int
load(const char *name, int runs, struct series_volume **out, double *t)
{
	double	 tl[MAX_RUNS], t0;
	char	 err[512];
	int	 r;

	*out = NULL;
	for (r = 0; r < runs; r++) {
		series_free(*out);
		*out = NULL;
		t0 = now();
		if (series_load((const char *const *)paths, npaths, NULL, out,
		    err, sizeof(err)) == -1) {
			fprintf(stderr, PROG ": %s: series_load: %s\n", name,
			    err);
			return -1;
		}
		tl[r] = now() - t0;
	}
	*t = median(tl, runs);
	return 0;
}

static void
run_clear(struct run *rn)
{
	if (rn->scored) {
		cac_result_free(&rn->r);
		ai_result_free(&rn->ai);
	}
	rn->scored = 0;
}

/*
 * Score v on rn->c runs times, as the daemon's reader does (cac_score
 * and cac_to_ai); the last result stays in rn.  Returns 0 or -1 (said).
 */
static int
score(struct run *rn, const char *name, const struct series_volume *v,
    int runs)
{
	double	 t0, tmp[MAX_RUNS];
	char	 err[512];
	int	 r;

	for (r = 0; r < runs; r++) {
		run_clear(rn);
		ai_result_init(&rn->ai);
		t0 = now();
		if (cac_score(rn->c, v, NULL, NULL, &rn->r, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, PROG ": %s: cac_score (%s): %s\n", name,
			    compute_kind_names[rn->c->kind], err);
			return -1;
		}
		rn->scored = 1;
		if (cac_to_ai(&rn->r, v, &rn->ai) == -1) {
			fprintf(stderr, PROG ": %s: cac_to_ai: out of memory\n",
			    name);
			return -1;
		}
		rn->t[r] = now() - t0;
	}
	memcpy(tmp, rn->t, (size_t)runs * sizeof(*tmp));
	rn->med = median(tmp, runs);
	rn->best = tmp[0];
	return 0;
}

/*
 * The floor: threshold the whole volume at the reader's threshold and
 * label it (26 neighbours, with statistics), runs times; the median into
 * rn->floor_med.  Returns 0 or -1 (said).
 */
static int
floor_time(struct run *rn, const char *name, const struct series_volume *v,
    double thr, int runs)
{
	struct cc_stats	*st = NULL;
	uint8_t		*mask;
	int32_t		*lab;
	size_t		 n = (size_t)v->nx * v->ny * v->nz, nst = 0;
	int		 dims[3] = { v->nx, v->ny, v->nz }, r, rc = -1;
	double		 t[MAX_RUNS], t0;

	mask = malloc(n);
	lab = malloc(n * sizeof(*lab));
	if (mask == NULL || lab == NULL) {
		fprintf(stderr, PROG ": %s: out of memory\n", name);
		goto out;
	}
	for (r = 0; r < runs; r++) {
		t0 = now();
		if (compute_threshold(rn->c, mask, v->vox, n, (float)thr,
		    INFINITY) == -1 || compute_label(rn->c, lab, mask, v->vox,
		    dims, 26, &st, &nst) == -1) {
			fprintf(stderr, PROG ": %s: floor (%s): %s\n", name,
			    compute_kind_names[rn->c->kind],
			    compute_error(rn->c));
			goto out;
		}
		t[r] = now() - t0;
		free(st);
		st = NULL;
	}
	rn->floor_med = median(t, runs);
	rn->floor_regions = nst;
	rc = 0;
out:
	free(mask);
	free(lab);
	return rc;
}

/* A device string as a quoted value: no double quotes inside. */
static void
print_quoted(const char *key, const char *s)
{
	printf(" %s=\"", key);
	for (; *s != '\0'; s++)
		putchar(*s == '"' ? '\'' : *s);
	putchar('"');
}

static void
print_line(const char *name, const struct series_volume *v, double load_s,
    const struct run *rn, int runs, int with_floor)
{
	const struct cac_result	*r = &rn->r;
	int			 a;

	printf("CAC input=%s files=%zu mb=%.1f nx=%d ny=%d nz=%d"
	    " spacing=%.3f,%.3f,%.3f backend=%s", name, npaths,
	    (double)total_bytes / 1e6, v->nx, v->ny, v->nz, v->spacing[0],
	    v->spacing[1], v->spacing[2], compute_kind_names[rn->c->kind]);
	print_quoted("device", rn->c->device);
	printf(" repeats=%d load_s=%.4f compute_s=%.4f compute_best_s=%.4f",
	    runs, load_s, rn->med, rn->best);
	if (with_floor)
		printf(" floor_s=%.4f floor_regions=%zu", rn->floor_med,
		    rn->floor_regions);
	printf(" heart=%d agatston=%.3f volume_mm3=%.3f mass_mg=%.3f kept=%zu"
	    " regions=%zu vessels=%d", r->heart_found, r->total.agatston,
	    r->total.volume_mm3, r->total.mass_mg, r->nkept, r->nlesions,
	    r->vessels);
	for (a = 0; a < CAC_ARTERY__MAX; a++)
		printf(" agatston_%s=%.3f", cac_artery_names[a],
		    r->artery[a].agatston);
	putchar('\n');
	(void)fflush(stdout);
}

/* The first difference found, for the COMPARE line. */
static char	 diff[256];

static void
diff_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
diff_set(const char *fmt, ...)
{
	va_list	 ap;

	if (diff[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(diff, sizeof(diff), fmt, ap);
	va_end(ap);
}

/* Whether two figures agree: REL_TOL relative, REL_TOL absolute below 1. */
static int
fig_eq(const char *what, size_t i, double a, double b)
{
	double	 s = fmax(fmax(fabs(a), fabs(b)), 1.0);

	if (a == b || fabs(a - b) <= REL_TOL * s)
		return 1;
	diff_set("%s[%zu] %.9g vs %.9g", what, i, a, b);
	return 0;
}

static int
int_eq(const char *what, size_t i, long long a, long long b)
{
	if (a == b)
		return 1;
	diff_set("%s[%zu] %lld vs %lld", what, i, a, b);
	return 0;
}

static int
totals_eq(const char *what, size_t i, const struct cac_totals *a,
    const struct cac_totals *b)
{
	char	 w[64];
	int	 ok = 1;

	(void)snprintf(w, sizeof(w), "%s.agatston", what);
	ok &= fig_eq(w, i, a->agatston, b->agatston);
	(void)snprintf(w, sizeof(w), "%s.volume", what);
	ok &= fig_eq(w, i, a->volume_mm3, b->volume_mm3);
	(void)snprintf(w, sizeof(w), "%s.mass", what);
	ok &= fig_eq(w, i, a->mass_mg, b->mass_mg);
	(void)snprintf(w, sizeof(w), "%s.lesions", what);
	ok &= int_eq(w, i, a->lesions, b->lesions);
	return ok;
}

/*
 * Compare two scored results of one volume.  *figs: every figure agrees;
 * *les: every lesion agrees (exclusion, artery, slices, box); *text: the
 * report text is the same.
 */
static void
compare(const struct run *x, const struct run *y, int *figs, int *les,
    int *text)
{
	const struct cac_result	*a = &x->r, *b = &y->r;
	const struct ai_result	*p = &x->ai, *q = &y->ai;
	size_t			 i, j, k;

	*figs = *les = 1;
	diff[0] = '\0';
	*les &= int_eq("regions", 0, (long long)a->nlesions,
	    (long long)b->nlesions);
	*les &= int_eq("kept", 0, (long long)a->nkept, (long long)b->nkept);
	*les &= int_eq("vessels", 0, a->vessels, b->vessels);
	*les &= int_eq("heart", 0, a->heart_found, b->heart_found);
	*figs &= fig_eq("threshold", 0, a->threshold_hu, b->threshold_hu);
	for (k = 0; k < 3; k++) {
		*figs &= fig_eq("heart_center", k, a->heart_center[k],
		    b->heart_center[k]);
		*figs &= fig_eq("aortic_root", k, a->aortic_root[k],
		    b->aortic_root[k]);
	}
	*figs &= totals_eq("total", 0, &a->total, &b->total);
	for (k = 0; k < CAC_ARTERY__MAX; k++)
		*figs &= totals_eq(cac_artery_names[k], 0, &a->artery[k],
		    &b->artery[k]);
	for (i = 0; i < a->nlesions && i < b->nlesions; i++) {
		const struct cac_lesion *l = &a->lesions[i], *m = &b->lesions[i];

		*les &= int_eq("lesion.excluded", i, l->excluded, m->excluded);
		if (l->excluded == CAC_KEPT)
			*les &= int_eq("lesion.artery", i, l->artery,
			    m->artery);
		*les &= int_eq("lesion.slices", i, l->slices, m->slices);
		*les &= int_eq("lesion.key_slice", i, l->key_slice,
		    m->key_slice);
		*les &= int_eq("lesion.x0", i, l->x0, m->x0);
		*les &= int_eq("lesion.y0", i, l->y0, m->y0);
		*les &= int_eq("lesion.x1", i, l->x1, m->x1);
		*les &= int_eq("lesion.y1", i, l->y1, m->y1);
		*figs &= fig_eq("lesion.agatston", i, l->agatston,
		    m->agatston);
		*figs &= fig_eq("lesion.volume", i, l->volume_mm3,
		    m->volume_mm3);
		*figs &= fig_eq("lesion.mass", i, l->mass_mg, m->mass_mg);
		*figs &= fig_eq("lesion.peak", i, l->peak_hu, m->peak_hu);
		*figs &= fig_eq("lesion.key_area", i, l->key_area_mm2,
		    m->key_area_mm2);
		for (k = 0; k < 3; k++)
			*figs &= fig_eq("lesion.centroid", i, l->centroid[k],
			    m->centroid[k]);
	}
	/* What the daemon stores: the ai_result of each. */
	*les &= int_eq("ai.lesions", 0, (long long)p->nlesions,
	    (long long)q->nlesions);
	for (i = 0; i < p->nlesions && i < q->nlesions; i++) {
		const struct ai_lesion	*l = &p->lesions[i], *m = &q->lesions[i];

		*les &= int_eq("ai.box.slice", i, l->box.slice, m->box.slice);
		*les &= int_eq("ai.box.x0", i, l->box.x0, m->box.x0);
		*les &= int_eq("ai.box.y0", i, l->box.y0, m->box.y0);
		*les &= int_eq("ai.box.x1", i, l->box.x1, m->box.x1);
		*les &= int_eq("ai.box.y1", i, l->box.y1, m->box.y1);
		*les &= int_eq("ai.measures", i, (long long)l->nmeas,
		    (long long)m->nmeas);
		for (j = 0; j < l->nmeas && j < m->nmeas; j++)
			*figs &= fig_eq("ai.measure", i, l->meas[j].value,
			    m->meas[j].value);
		*figs &= fig_eq("ai.confidence", i, l->confidence,
		    m->confidence);
	}
	*figs &= int_eq("ai.summary", 0, (long long)p->nsummary,
	    (long long)q->nsummary);
	for (i = 0; i < p->nsummary && i < q->nsummary; i++)
		*figs &= fig_eq("ai.summary", i, p->summary[i].value,
		    q->summary[i].value);
	*les &= int_eq("ai.keys", 0, (long long)p->nkeys, (long long)q->nkeys);
	for (i = 0; i < p->nkeys && i < q->nkeys; i++)
		*les &= int_eq("ai.key.slice", i, p->keys[i].slice,
		    q->keys[i].slice);
	*text = p->findings != NULL && q->findings != NULL &&
	    p->conclusion != NULL && q->conclusion != NULL &&
	    strcmp(p->findings, q->findings) == 0 &&
	    strcmp(p->conclusion, q->conclusion) == 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-cf] [-b cpu|cuda|auto] [-n repeats]"
	    " [-p] [dir ...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct input		*in = NULL;
	struct series_volume	*v = NULL;
	struct run		 runs[COMPUTE__MAX];
	const char		*backend = "auto";
	char			 err[512], *end;
	size_t			 nin = 0, i, k, nruns = 0;
	double			 load_s;
	int			 ch, n = 3, phantom = 0, cmp = 0, with_floor = 0,
				 rc = 1, figs, les, text;

	log_init(PROG);
	while ((ch = getopt(argc, argv, "b:cfn:p")) != -1)
		switch (ch) {
		case 'b':
			backend = optarg;
			break;
		case 'c':
			cmp = 1;
			break;
		case 'f':
			with_floor = 1;
			break;
		case 'n':
			errno = 0;
			n = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 ||
			    n > MAX_RUNS)
				usage();
			break;
		case 'p':
			phantom = 1;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc == 0 && !phantom)
		usage();

	memset(runs, 0, sizeof(runs));
	err[0] = '\0';
	if (cmp) {
		if ((runs[0].c = compute_open("cpu", err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, PROG ": cpu: %s\n", err);
			return 1;
		}
		nruns = 1;
		err[0] = '\0';
		if ((runs[1].c = compute_open("cuda", err, sizeof(err))) !=
		    NULL)
			nruns = 2;
	} else {
		if ((runs[0].c = compute_open(backend, err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, PROG ": %s: %s\n", backend, err);
			return 1;
		}
		nruns = 1;
	}

	if ((in = calloc(NPHANTOMS + (size_t)argc, sizeof(*in))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	for (i = 0; phantom && i < NPHANTOMS; i++)
		if (phantom_make(phantom_slices[i], &in[nin++]) == -1)
			goto out;
	for (k = 0; k < (size_t)argc; k++) {
		const char	*b;
		size_t		 len = strlen(argv[k]);

		while (len > 1 && argv[k][len - 1] == '/')
			len--;
		if (len >= sizeof(in[nin].dir)) {
			fprintf(stderr, PROG ": %s: path too long\n", argv[k]);
			goto out;
		}
		memcpy(in[nin].dir, argv[k], len);
		in[nin].dir[len] = '\0';
		b = strrchr(in[nin].dir, '/');
		b = b != NULL && b[1] != '\0' ? b + 1 : in[nin].dir;
		(void)snprintf(in[nin].name, sizeof(in[nin].name), "%s", b);
		for (end = in[nin].name; *end != '\0'; end++)
			if (*end == ' ' || *end == '"' || *end == '=')
				*end = '_';
		nin++;
	}

	printf("# cacbench: %d repeat(s); load = series_load() of the files"
	    " (median), compute = cac_score() + cac_to_ai() (median)%s\n", n,
	    with_floor ? ", floor = threshold + 26-connected label of the"
	    " whole volume on the same backend (median)" : "");
	for (i = 0; i < nin; i++) {
		if (paths_collect(in[i].dir) == -1 ||
		    load(in[i].name, n, &v, &load_s) == -1)
			goto out;
		for (k = 0; k < nruns; k++) {
			if (score(&runs[k], in[i].name, v, n) == -1)
				goto out;
			if (with_floor && floor_time(&runs[k], in[i].name, v,
			    runs[k].r.threshold_hu, n) == -1)
				goto out;
			print_line(in[i].name, v, load_s, &runs[k], n,
			    with_floor);
		}
		if (cmp && nruns == 1) {
			printf("COMPARE input=%s cuda=unavailable", in[i].name);
			print_quoted("reason", err);
			printf(" agree=skipped\n");
		} else if (cmp) {
			compare(&runs[0], &runs[1], &figs, &les, &text);
			printf("COMPARE input=%s cpu_s=%.4f cuda_s=%.4f"
			    " speedup=%.2f figures=%s lesions=%s regions=%zu"
			    " text=%s agree=%s", in[i].name, runs[0].med,
			    runs[1].med, runs[1].med > 0 ? runs[0].med /
			    runs[1].med : 0.0, figs ? "agree" : "differ",
			    les ? "agree" : "differ", runs[0].r.nlesions,
			    text ? "same" : "differs",
			    figs && les ? "yes" : "no");
			if (with_floor)
				printf(" cpu_floor_s=%.4f cuda_floor_s=%.4f",
				    runs[0].floor_med, runs[1].floor_med);
			if (diff[0] != '\0')
				print_quoted("first_diff", diff);
			putchar('\n');
		}
		(void)fflush(stdout);
		for (k = 0; k < nruns; k++)
			run_clear(&runs[k]);
		series_free(v);
		v = NULL;
	}
	rc = 0;
out:
	for (k = 0; k < nruns; k++) {
		run_clear(&runs[k]);
		compute_close(runs[k].c);
	}
	series_free(v);
	paths_free();
	free(paths);
	free(in);
	tmpdir_remove();
	return rc;
}
