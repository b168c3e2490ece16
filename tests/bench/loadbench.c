/*
 * loadbench.c - what turning one DICOM series into a volume of modality
 * values (HU for CT) costs next to reading its files raw.
 *
 *	loadbench [-n runs] dir
 *
 * Every file under dir whose name ends in ".dcm" (recursively; anything
 * else, such as an annotation XML beside the images, is left out) is one
 * image of the series.  Two passes are timed, each once as a warm-up and
 * then runs times (default 3):
 *
 *   raw		open(2) and read(2) of every file into one buffer, its
 *			bytes summed as 64-bit words so that nothing of it
 *			can be dropped;
 *   series_load	src/lib/series.h: parse, decode, rescale, order the
 *			slices and fill the float volume; the time ends when
 *			series_load() returns, before series_free();
 *   first		the warm-up load, the process's first: new memory,
 *			as the daemon's first series (once only, not a
 *			best nor a median);
 *   reusing memory	the same, each load given the voxel memory of the
 *			volume before it (series_recycle(), struct
 *			series_spare), as the inference daemon loads one
 *			series after another: no new pages for the kernel
 *			to clear;
 *   header pass	dcm_read_info() of every file on one thread, the
 *			loader's first pass without its threads: the cost
 *			of a header read, per file.
 *
 * Both read the same files through the page cache, warm after the
 * warm-up.  It prints the best and the median of each, throughput in MB/s
 * (10^6 bytes of files per second), the volume's size, its value range,
 * and the ratio of the loader's time to the raw read's.  The last line,
 * starting "RESULT", carries the figures as key=value pairs for scripts.
 * Exits 0, or 1 when a file cannot be read or the series cannot be loaded.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dicom.h"
#include "series.h"

#define MAX_RUNS	100

static char	**paths;
static size_t	  npaths, cappaths;
static off_t	  total_bytes, max_bytes;

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	if (sb->st_size > max_bytes)
		max_bytes = sb->st_size;
	return 0;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Read every file whole into buf; the sum of all bytes into *sum. */
static int
raw_pass(unsigned char *buf, size_t size, uint64_t *sum)
{
	uint64_t	 s = 0, w;
	size_t		 i;
	ssize_t		 n, k;
	int		 fd;

	for (i = 0; i < npaths; i++) {
		if ((fd = open(paths[i], O_RDONLY)) == -1) {
			fprintf(stderr, "loadbench: %s: %s\n", paths[i],
			    strerror(errno));
			return -1;
		}
		while ((n = read(fd, buf, size)) > 0) {
			/* Eight bytes at a time: the sum costs far less
			 * than the copy out of the page cache. */
			for (k = 0; k + 8 <= n; k += 8) {
				memcpy(&w, buf + k, 8);
				s += w;
			}
			for (; k < n; k++)
				s += buf[k];
		}
		if (n == -1) {
			fprintf(stderr, "loadbench: %s: %s\n", paths[i],
			    strerror(errno));
			(void)close(fd);
			return -1;
		}
		(void)close(fd);
	}
	*sum = s;
	return 0;
}

/* dcm_read_info() of every file, one after another. */
static int
header_pass(void)
{
	struct dcm_info	 in;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < npaths; i++)
		if (dcm_read_info(paths[i], NULL, &in, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "loadbench: %s: %s\n", paths[i], err);
			return -1;
		}
	return 0;
}

static int
load_pass(struct series_volume **out, struct series_spare *spare)
{
	struct series_opts	 o;
	char			 err[512];

	memset(&o, 0, sizeof(o));
	o.spare = spare;
	if (series_load((const char *const *)paths, npaths, &o, out, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "loadbench: series_load: %s\n", err);
		return -1;
	}
	return 0;
}

/* The median of t[0..n) (sorts t). */
static double
median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* The best (least) of t[0..n), whatever its order. */
static double
best(const double *t, int n)
{
	double	 b = t[0];
	int	 i;

	for (i = 1; i < n; i++)
		if (t[i] < b)
			b = t[i];
	return b;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadbench [-n runs] dir\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct series_volume	*v = NULL;
	struct series_volume	*w = NULL;
	struct series_spare	 spare = { NULL, 0 };
	double			 traw[MAX_RUNS], tload[MAX_RUNS],
				 treuse[MAX_RUNS], thead[MAX_RUNS], t0, tfirst,
				 head_best;
	struct dcm_counts	 c0, c1;
	double			 raw_best, raw_med, load_best, load_med, mb,
				 vol_mb, vmin, vmax, reuse_best, reuse_med;
	uint64_t		 sum, sum0;
	unsigned char		*buf;
	size_t			 nvox, i, bufsize;
	int			 ch, runs = 3, r, nx = 0, ny = 0, nz = 0;
	char			*end;

	while ((ch = getopt(argc, argv, "n:")) != -1)
		switch (ch) {
		case 'n':
			errno = 0;
			runs = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || runs < 1 ||
			    runs > MAX_RUNS)
				usage();
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	if (nftw(argv[0], collect, 16, FTW_PHYS) == -1) {
		fprintf(stderr, "loadbench: %s: %s\n", argv[0],
		    errno ? strerror(errno) : "out of memory");
		return 1;
	}
	if (npaths == 0) {
		fprintf(stderr, "loadbench: no .dcm file under %s\n", argv[0]);
		return 1;
	}
	qsort(paths, npaths, sizeof(*paths), cmp_path);
	mb = (double)total_bytes / 1e6;
	/* One buffer as large as the largest file: one read(2) per file. */
	bufsize = (size_t)max_bytes + 1;
	if ((buf = malloc(bufsize)) == NULL) {
		fprintf(stderr, "loadbench: out of memory\n");
		return 1;
	}
	printf("loadbench: %zu files, %.1f MB, in %s\n", npaths, mb, argv[0]);
	printf("one warm-up, then %d runs of each\n", runs);

	/* Warm-up: the page cache, DCMTK's dictionary, the allocator.  The
	 * warm-up load is the process's first: its volume is memory the
	 * process never had, as the daemon's first series (or its first
	 * after it gave its memory back, idle) is; timed apart. */
	if (raw_pass(buf, bufsize, &sum0) == -1)
		return 1;
	t0 = now();
	if (load_pass(&v, NULL) == -1)
		return 1;
	tfirst = now() - t0;
	series_free(v);
	v = NULL;

	for (r = 0; r < runs; r++) {
		t0 = now();
		if (raw_pass(buf, bufsize, &sum) == -1)
			return 1;
		traw[r] = now() - t0;
		if (sum != sum0) {
			fprintf(stderr, "loadbench: the files changed while"
			    " being read\n");
			return 1;
		}
	}
	for (r = 0; r < runs; r++) {
		t0 = now();
		if (load_pass(&v, NULL) == -1)
			return 1;
		tload[r] = now() - t0;
		if (r + 1 < runs) {
			series_free(v);
			v = NULL;
		}
	}
	/* Reusing memory: a warm-up load leaves its voxels in the spare,
	 * then each run takes them and gives them back. */
	if (load_pass(&w, &spare) == -1)
		return 1;
	for (r = 0; r < runs; r++) {
		series_recycle(w, &spare);
		w = NULL;
		t0 = now();
		if (load_pass(&w, &spare) == -1)
			return 1;
		treuse[r] = now() - t0;
	}
	/* The same volume either way, to the bit. */
	if (w->nx != v->nx || w->ny != v->ny || w->nz != v->nz ||
	    memcmp(w->vox, v->vox, (size_t)v->nx * (size_t)v->ny *
	    (size_t)v->nz * sizeof(*v->vox)) != 0) {
		fprintf(stderr, "loadbench: the volume loaded into reused"
		    " memory differs\n");
		return 1;
	}
	series_free(w);
	series_spare_free(&spare);

	/* The header pass, on this thread alone (warm by now). */
	dcm_counts_get(&c0);
	for (r = 0; r < runs; r++) {
		t0 = now();
		if (header_pass() == -1)
			return 1;
		thead[r] = now() - t0;
	}
	dcm_counts_get(&c1);

	/* The last volume: its size and value range (outside the timing). */
	nx = v->nx;
	ny = v->ny;
	nz = v->nz;
	nvox = (size_t)nx * (size_t)ny * (size_t)nz;
	vol_mb = (double)(nvox * sizeof(float)) / 1e6;
	vmin = INFINITY;
	vmax = -INFINITY;
	for (i = 0; i < nvox; i++) {
		if (v->vox[i] < vmin)
			vmin = v->vox[i];
		if (v->vox[i] > vmax)
			vmax = v->vox[i];
	}
	printf("volume %dx%dx%d float32 = %.1f MB, spacing %.3f %.3f %.3f mm,"
	    " %s values %.0f..%.0f, %zu warning(s)\n", nx, ny, nz, vol_mb,
	    v->spacing[0], v->spacing[1], v->spacing[2], v->modality, vmin,
	    vmax, v->nwarn);
	for (i = 0; i < v->nwarn; i++)
		printf("  warning %s: %s\n", series_warn_name(v->warn[i].code),
		    v->warn[i].en);
	series_free(v);
	free(buf);

	raw_best = best(traw, runs);
	raw_med = median(traw, runs);
	load_best = best(tload, runs);
	load_med = median(tload, runs);
	reuse_best = best(treuse, runs);
	reuse_med = median(treuse, runs);
	head_best = best(thead, runs);
	printf("\n%-26s %10s %10s %12s\n", "pass", "best s", "median s",
	    "MB/s (best)");
	printf("%-26s %10.4f %10.4f %12.0f\n", "raw read(2)", raw_best,
	    raw_med, mb / raw_best);
	printf("%-26s %10.4f %10.4f %12.0f\n", "series_load -> HU volume",
	    load_best, load_med, mb / load_best);
	printf("%-26s %10.4f %10.4f %12.0f\n", "  reusing memory",
	    reuse_best, reuse_med, mb / reuse_best);
	printf("%-26s %10.4f %10s %12.0f\n", "  the process's first",
	    tfirst, "-", mb / tfirst);
	printf("%-26s %10.4f %10.4f %12.0f\n", "header pass, 1 thread",
	    head_best, median(thead, runs), mb / head_best);
	printf("header pass: %.1f us a file (best); of %lu reads, %lu "
	    "staged, %lu answered by the walk alone\n",
	    head_best * 1e6 / (double)npaths,
	    (unsigned long)(npaths * (size_t)runs),
	    c1.staged - c0.staged, c1.walked - c0.walked);
	printf("\nloader/raw time: %.1fx (best), %.1fx (median); reusing"
	    " memory %.1fx, %.1fx; checksum %016llx\n", load_best / raw_best,
	    load_med / raw_med, reuse_best / raw_best, reuse_med / raw_med,
	    (unsigned long long)sum0);
	printf("RESULT files=%zu mb=%.1f raw_best=%.4f raw_median=%.4f"
	    " load_best=%.4f load_median=%.4f reuse_best=%.4f"
	    " reuse_median=%.4f first=%.4f header_us=%.1f nx=%d ny=%d nz=%d"
	    " volume_mb=%.1f\n", npaths, mb, raw_best, raw_med, load_best,
	    load_med, reuse_best, reuse_med, tfirst,
	    head_best * 1e6 / (double)npaths, nx, ny, nz, vol_mb);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return 0;
}
