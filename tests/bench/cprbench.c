/*
 * cprbench - what 肋骨拉直 / 肋骨展开 (src/lib/cpr.c, /ai/cpr/rib and
 * /ai/cpr/cage) cost on a real chest CT once the series is in the web
 * worker's cache.
 *
 *	cprbench [folder]
 *
 * The series (LIDC-IDRI-0002 of ../shared/data or $ZY_DATA, or the DICOM
 * folder given) is read by the rib fracture reader as the daemon reads
 * it, for its centre lines (ai_results.overlays).  Then, as a web worker
 * answers: the volume made into the viewer's 16-bit cache (once per
 * series, timed), the overlays parsed into the ribs' paths (once per
 * result, timed), and each rib straightened at 0, 45 and 90 degrees and
 * the cage unfolded five times at 0 and 30 degrees, each image windowed
 * (bone) and encoded as JPEG as the worker sends it: milliseconds per
 * image, mean and largest, the sampling alone, and the process's CPU
 * time per image (what it costs whatever else the machine runs; the
 * reader's threads have ended by then).  Times are reported,
 * never judged.  Without the data it says so and exits 0.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anatomy.h"
#include "buf.h"
#include "compute.h"
#include "cpr.h"
#include "realdata.h"
#include "reader.h"
#include "ribfrac.h"
#include "series.h"
#include "view.h"

#define PROG	"cprbench"
#define STEP	0.5	/* as the web (src/web/cpr.c) */
#define HALF_RIB 20.0
#define HALF_CAGE 10.0

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU time: what an image costs whatever else the machine
 * runs (one thread). */
static double
cpu_now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Window (bone) and encode img as the worker does; returns the bytes. */
static size_t
encode(const float *img, int w, int h)
{
	struct buf	 out;
	unsigned char	*g;
	size_t		 n;

	if ((g = malloc((size_t)w * h)) == NULL)
		return 0;
	view_window8(img, (size_t)w * h, 400, 1800, 0, g);
	buf_init(&out, 0);
	if (view_jpeg(g, w, h, 90, &out) == -1)
		out.len = 0;
	n = out.len;
	buf_free(&out);
	free(g);
	return n;
}

int
main(int argc, char *argv[])
{
	static const double	 angles[] = { 0, 45, 90 };
	struct compute		*cpu;
	struct anatomy_cache	*ac;
	struct series_volume	*v = NULL;
	struct view_volume	*vv = NULL;
	struct reader_ctx	 ctx;
	struct ai_result	 res;
	struct cpr_ribs		 rs;
	struct cpr_unfold	 g;
	char			 base[4096], dir[4096], err[256];
	float			*img;
	double			 t0, t, sum = 0, mx = 0, samp = 0, cs = 0, cm = 0;
	double			 csamp = 0, c0, rcpu = 0, ccpu = 0;
	size_t			 i, bytes = 0, cbytes = 0;
	int			 a, rep, w, h, n = 0, rc;

	if (argc > 1)
		(void)snprintf(base, sizeof(base), "%s", argv[1]);
	else
		(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
		    realdata_dir());
	if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
		printf("%s not found: skipped\n", base);
		return 0;
	}
	if (realdata_load(dir, &v, NULL, 0) == -1) {
		fprintf(stderr, PROG ": cannot load %s\n", dir);
		return 1;
	}
	if ((cpu = compute_cpu_open()) == NULL ||
	    (ac = anatomy_cache_new()) == NULL) {
		fprintf(stderr, PROG ": no compute backend or memory\n");
		return 1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.compute = cpu;
	ctx.series_id = 1;
	ctx.anatomy = ac;
	ai_result_init(&res);
	t0 = now();
	rc = ribfrac_reader.run(&ctx, v, &res, err, sizeof(err));
	printf("%s: %dx%dx%d, the rib fracture reader %.1f s (%s)\n", base,
	    v->nx, v->ny, v->nz, now() - t0, rc == 0 ? "done" : err);
	if (rc != 0 || res.overlays == NULL)
		return 1;
	t0 = now();
	if (view_volume_from(v, &vv, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	printf("the viewer's cache: the volume made in %.0f ms (once a "
	    "series)\n", 1e3 * (now() - t0));
	t0 = now();
	if (cpr_ribs_parse(res.overlays, vv->spacing, vv->flip, STEP, &rs,
	    err, sizeof(err)) <= 0) {
		fprintf(stderr, PROG ": overlays: %s\n", err);
		return 1;
	}
	printf("the ribs' paths: %zu ribs, %zu bytes of overlays parsed in "
	    "%.1f ms (once a result)\n", rs.n, strlen(res.overlays),
	    1e3 * (now() - t0));
	for (i = 0; i < rs.n; i++)
		for (a = 0; a < 3; a++) {
			cpr_image_size(&rs.r[i].path, HALF_RIB, &w, &h);
			if ((img = malloc((size_t)w * h * sizeof(*img))) ==
			    NULL)
				return 1;
			t0 = now();
			c0 = cpu_now();
			cpr_image(vv, &rs.r[i].path, angles[a], HALF_RIB, img);
			samp += now() - t0;
			bytes += encode(img, w, h);
			t = now() - t0;
			rcpu += cpu_now() - c0;
			sum += t;
			mx = t > mx ? t : mx;
			n++;
			free(img);
		}
	printf("CPR rib: %d images (%zu ribs x 3 angles, %.1f mm a pixel, "
	    "%.0f mm high): %.2f ms each on average (sampling %.2f ms), "
	    "largest %.2f ms, %.1f KB of JPEG; CPU %.2f ms each\n", n, rs.n,
	    STEP, 2 * HALF_RIB, 1e3 * sum / n, 1e3 * samp / n, 1e3 * mx,
	    bytes / 1024.0 / n, 1e3 * rcpu / n);
	cpr_unfold_geom(&rs, HALF_CAGE, &g);
	if ((img = malloc((size_t)g.w * g.h * sizeof(*img))) == NULL)
		return 1;
	for (rep = 0; rep < 10; rep++) {
		t0 = now();
		c0 = cpu_now();
		cpr_unfold_image(vv, &rs, &g, rep % 2 ? 30 : 0, img);
		csamp += now() - t0;
		cbytes += encode(img, g.w, g.h);
		t = now() - t0;
		ccpu += cpu_now() - c0;
		cs += t;
		cm = t > cm ? t : cm;
	}
	printf("CPR cage: 10 unfolded images of %dx%d: %.2f ms each on "
	    "average (sampling %.2f ms), largest %.2f ms, %.1f KB of JPEG; "
	    "CPU %.2f ms each\n", g.w, g.h, 1e3 * cs / 10, 1e3 * csamp / 10,
	    1e3 * cm, cbytes / 1024.0 / 10, 1e3 * ccpu / 10);
	free(img);
	cpr_ribs_free(&rs);
	view_volume_free(vv);
	ai_result_free(&res);
	anatomy_cache_free(ac);
	compute_close(cpu);
	series_free(v);
	return 0;
}
