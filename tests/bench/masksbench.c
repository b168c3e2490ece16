/*
 * masksbench.c - what the readers' regions (显示AI标注) weigh and cost, on
 * LIDC-IDRI-0002 (or the folder given): the lung nodule reader run as the
 * daemon runs it, its label volume (the lobes and each nodule) deflated
 * as ai_result_masks stores it (bytes, and the time), inflated again as
 * the web worker does (the time, the best of three), the blocks of the
 * labels made; then 三维 as /viewer/render renders it, each of bone and
 * lung at the drag's 160 pixels and a full 512, from the front and at
 * 45°, without and with the regions (the best of two each).
 *
 *	masksbench [-d folder]
 *
 * Times are printed, never judged; without the data the bench says so
 * and exits 0.  tests/bench/viewer.sh runs it.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "anatomy.h"
#include "buf.h"
#include "compute.h"
#include "masks.h"
#include "reader.h"
#include "realdata.h"
#include "series.h"
#include "view.h"

#define PROG	"masksbench"

static double
now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The labels of res as the viewer sets them from the legend. */
static int
labels_from(const struct ai_result *res, struct view_labels *lb)
{
	json_t		*leg, *e;
	unsigned char	 rgb[3];
	size_t		 i;
	int		 k, l, n = 0;

	if ((leg = json_loads(res->masks_legend, 0, NULL)) == NULL)
		return -1;
	json_array_foreach(leg, i, e) {
		l = (int)json_integer_value(json_object_get(e, "label"));
		k = masks_kind_parse(json_string_value(json_object_get(e,
		    "kind")));
		if (l < 1 || l > 255 || k < 0 || masks_colour_parse(
		    json_string_value(json_object_get(e, "colour")), rgb) == -1)
			continue;
		view_labels_set(lb, l, rgb, masks_kind_shell((enum masks_kind)k));
		n++;
	}
	json_decref(leg);
	return n;
}

int
main(int argc, char *argv[])
{
	static const int	 sizes[2] = { 160, 512 };
	static const double	 azs[2] = { 0, 45 };
	struct series_volume	*v = NULL;
	struct view_volume	*vv = NULL;
	struct view_labels	 lb;
	struct view_camera	 cam;
	struct reader_ctx	 ctx;
	struct ai_result	 res;
	struct anatomy_cache	*ac;
	struct compute		*cpu;
	struct buf		 z;
	const char		*folder = NULL;
	char			 base[4096], dir[4096], err[256];
	unsigned char		*rgb;
	float			*img;
	double			 t0, tr, te, td = INFINITY, tb, t, best[2];
	size_t			 n, i, counts[256];
	int			 c, m, s, a, r, nl, regions = 0;

	while ((c = getopt(argc, argv, "d:")) != -1)
		switch (c) {
		case 'd':
			folder = optarg;
			break;
		default:
			fprintf(stderr, "usage: " PROG " [-d folder]\n");
			return 2;
		}
	if (folder != NULL)
		(void)snprintf(base, sizeof(base), "%s", folder);
	else
		(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
		    realdata_dir());
	if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
		printf("masks: %s not found: skipped\n", base);
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
	ctx.patient_age = NAN;
	ai_result_init(&res);
	t0 = now();
	r = reader_impls[READER_CT_LUNG_NODULE]->run(&ctx, v, &res, err,
	    sizeof(err));
	tr = now() - t0;
	if (r != 0 || res.masks == NULL) {
		fprintf(stderr, PROG ": the reader: %s\n", r != 0 ? err :
		    "no masks");
		return 1;
	}
	n = (size_t)res.masks_dims[0] * res.masks_dims[1] * res.masks_dims[2];
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < n; i++)
		counts[res.masks[i]]++;
	for (i = 1; i < 256; i++)
		regions += counts[i] > 0;
	printf("masks %s: %dx%dx%d, the nodule reader %.1f s, %zu lesions,"
	    " %d labelled regions, %.1f %% of the voxels labelled\n",
	    folder != NULL ? folder : "LIDC-IDRI-0002", res.masks_dims[0],
	    res.masks_dims[1], res.masks_dims[2], tr, res.nlesions, regions,
	    100.0 * (double)(n - counts[0]) / (double)n);
	for (i = READER_MASKS_FIRST; i < 256; i++)
		if (counts[i] > 0)
			printf("  label %zu: %zu voxels\n", i, counts[i]);
	buf_init(&z, 0);
	t0 = now();
	if (masks_encode(res.masks, n, &z) == -1) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	te = now() - t0;
	memset(&lb, 0, sizeof(lb));
	lb.nx = res.masks_dims[0];
	lb.ny = res.masks_dims[1];
	lb.nz = res.masks_dims[2];
	if ((lb.lab = malloc(n)) == NULL)
		return 1;
	for (r = 0; r < 3; r++) {
		t0 = now();
		if (masks_decode((unsigned char *)z.data, z.len, lb.lab, n, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, PROG ": %s\n", err);
			return 1;
		}
		td = fmin(td, now() - t0);
	}
	if (memcmp(lb.lab, res.masks, n) != 0) {
		fprintf(stderr, PROG ": the labels came back different\n");
		return 1;
	}
	nl = labels_from(&res, &lb);
	t0 = now();
	(void)view_labels_blocks(&lb);
	tb = now() - t0;
	printf("MASKS bytes %zu of %zu raw (%.2f %%), legend %zu bytes,"
	    " %d labels; deflate %.0f ms, inflate %.0f ms, blocks %.0f ms\n",
	    z.len, n, 100.0 * (double)z.len / (double)n,
	    strlen(res.masks_legend), nl, te * 1e3, td * 1e3, tb * 1e3);
	buf_free(&z);
	if (view_volume_from(v, &vv, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	rgb = malloc((size_t)512 * 512 * 3);
	img = malloc((size_t)512 * 512 * sizeof(*img));
	if (rgb == NULL || img == NULL)
		return 1;
	for (m = 0; m < 2; m++)
		for (s = 0; s < 2; s++)
			for (a = 0; a < 2; a++) {
				memset(&cam, 0, sizeof(cam));
				cam.mode = m == 0 ? VIEW_RENDER_BONE :
				    VIEW_RENDER_LUNG;
				cam.azimuth = azs[a];
				cam.zoom = 1;
				cam.size = sizes[s];
				best[0] = best[1] = INFINITY;
				for (r = 0; r < 2; r++) {
					t0 = now();
					if (view_render(vv, &cam, img, NULL,
					    err, sizeof(err)) == -1)
						return 1;
					t = now() - t0;
					best[0] = fmin(best[0], t);
					t0 = now();
					if (view_render_labels(vv, &lb, &cam,
					    400, 1800, rgb, NULL, err,
					    sizeof(err)) == -1) {
						fprintf(stderr, PROG ": %s\n",
						    err);
						return 1;
					}
					t = now() - t0;
					best[1] = fmin(best[1], t);
				}
				printf("MASKS3D %s %d px az %.0f: %.0f ms without"
				    " the regions, %.0f ms with them\n",
				    view_render_names[cam.mode], cam.size,
				    cam.azimuth, best[0] * 1e3, best[1] * 1e3);
			}
	free(rgb);
	free(img);
	view_labels_clear(&lb);
	view_volume_free(vv);
	ai_result_free(&res);
	anatomy_cache_free(ac);
	compute_close(cpu);
	series_free(v);
	return 0;
}
