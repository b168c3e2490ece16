/*
 * viewer.c - 查看影像图片: the image viewer of an application's studies.
 *
 *	GET /viewer?id=N[&series=S]	the page: every series of the
 *		application's linked studies, the geometry the browser needs
 *		(sizes, pixel spacing, orientation) as JSON in an attribute
 *	GET /viewer/image?series=S&plane=P&z=K&wc=C&ww=W[&invert=1][&fmt=png]
 *		image K of plane P (axial, coronal, sagittal) through the
 *		window C/W, at full resolution, as JPEG (quality 90) or, with
 *		fmt=png, lossless PNG
 *	GET /viewer/probe?series=S&plane=P&z=K&px=X&py=Y[&rmm=R]
 *		the value under pixel (X, Y) and, with R > 0, the mean,
 *		standard deviation, extremes and area of the circle of R mm
 *		about it, as JSON
 *	GET /viewer/render?series=S&render=M&az=A&el=E&zoom=Z&size=N[&wc=C&ww=W]
 *		三维重建: the CT volume rendered by ray casting (view.h) in
 *		mode M (bone, lung, mip; MIP through the window C/W), seen
 *		from azimuth A and elevation E degrees at zoom Z, N by N
 *		pixels, as JPEG
 *
 * With &masks=R, /viewer/image and /viewer/render draw the regions of AI
 * result R of the series (显示AI标注; sql/034, masks.h): the slice tinted
 * and outlined in the regions' colours, the rendering with the regions
 * as coloured surfaces, in colour.  R must be a result of that series
 * (else 404).  The labels of one result are kept decoded in a per-worker
 * cache beside the volume's, at most VIEWER_MASK_BYTES (256 MiB: a
 * 512 x 512 x 1024 grid), replaced when the result is written again.
 *
 * Pixels are rendered here, not in the browser: a windowed slice of a
 * chest CT is some 40-80 KB as JPEG, against 0.5 MB of 16-bit pixels, so
 * that over a 10 Mbit/s link the first image arrives in a fraction of a
 * second and the browser can prefetch ten and more slices a second (see
 * README, "Image viewer", for the measurements).
 *
 * An axial image of a series of single-frame files loads that one file.
 * Coronal and sagittal images, and every image of a multi-frame file,
 * come from the whole series, loaded once into a per-worker cache of one
 * volume held as 16-bit integers (view.h), at most VIEWER_CACHE_VOXELS
 * voxels (512 MiB); a larger series is shown axially only.
 *
 * Access is that of /series/preview: a series of a study linked to an
 * application the user's institution may see (application_visible());
 * anything else answers 404, so that ids reveal nothing.  Every image and
 * probe is audited through page_audit_image() (one row per series, user
 * and minute).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "masks.h"
#include "matcher.h"
#include "pages.h"
#include "preview.h"
#include "series.h"
#include "store.h"
#include "view.h"
#include "voi.h"

#define MSG_DB		"系统暂时不可用，请稍后重试"
#define MSG_INTERNAL	"系统内部错误"
#define MSG_NO_SERIES	"影像不存在或无权访问"
#define MSG_NO_APP	"申请单不存在或无权查看"
#define VIEWER_CACHE_VOXELS	((size_t)512 * 512 * 1024)
#define VIEWER_JPEG_QUALITY	90
#define VIEWER_IMAGE_MAX	(64u * 1024 * 1024)	/* bytes of one answer */
#define VIEWER_MASK_BYTES	((size_t)512 * 512 * 1024)
#define MSG_NO_MASKS	"AI标注不存在或与该序列不符"

/* One file (or frame) of a series, in slice order. */
struct vslice {
	const char	*key;
	const char	*uid;		/* SOP Instance UID */
	int		 num;
	double		 pos;
};

/* A series as the viewer sees it, from the index (no pixels read). */
struct vseries {
	long long	 id;
	int		 nx, ny, nz;
	double		 dx, dy, dz;
	int		 spacing_known;
	double		 iop[6];
	int		 has_iop, flip, multiframe, film;
	const char	*modality, *number, *description;
	double		 wc, ww;	/* the file's window; NAN if none */
	struct vslice	*sl;		/* nfiles, sorted */
	int		 nfiles;
};

/* The one volume a worker keeps for MPR. */
static struct {
	long long		 series;
	struct view_volume	*vv;
} cache;

/* The labels of the one AI result a worker keeps decoded. */
static struct {
	long long		 result;
	char			 written[64];	/* its written_at */
	struct view_labels	 lb;
} mcache;

static long long
field_id(const struct req *r, enum field f)
{
	const char	*s;
	long long	 v;

	if ((s = http_field(r, f)) == NULL || *s == '\0')
		return 0;
	v = strtoll(s, NULL, 10);
	return v > 0 ? v : 0;
}

/* A number field, or def when it is absent (the validator checked it). */
static double
field_num(const struct req *r, enum field f, double def)
{
	const char	*s;

	if ((s = http_field(r, f)) == NULL || *s == '\0')
		return def;
	return strtod(s, NULL);
}

static int
vslice_cmp(const void *x, const void *y)
{
	const struct vslice	*a = x, *b = y;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->num - b->num;
}

static int
double_cmp(const void *x, const void *y)
{
	double	 a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/*
 * The series id as the user may see it: its files in slice order (by
 * Image Position Patient along the normal of Image Orientation Patient,
 * as the loader orders them; a second file at the same place is left
 * out, as the loader leaves it out) and its geometry.  Returns 1, 0 when
 * there is no such series for the user, or -1 on a database error.
 */
static int
vseries_get(struct req *r, long long id, struct vseries *s)
{
	PGresult	*res;
	char		 sid[32], inst[32];
	double		 ipp[3], nrm[3], ps[2], *d;
	int		 i, n, k, frames;

	memset(s, 0, sizeof(*s));
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT n.storage_key, coalesce(n.ipp::text, ''),"
	    " coalesce(n.instance_number, 0), n.frames,"
	    " coalesce(se.iop::text, ''), coalesce(se.pixel_spacing::text, ''),"
	    " coalesce(se.cols, n.cols, 0), coalesce(se.rows, n.rows, 0),"
	    " se.modality, coalesce(se.spacing_between_slices,"
	    "  se.slice_thickness, 0),"
	    " coalesce(se.window_center::text, ''),"
	    " coalesce(se.window_width::text, ''),"
	    " coalesce(se.series_number, 0), se.description,"
	    " n.sop_instance_uid"
	    " FROM series se JOIN instances n ON n.series_id = se.id"
	    " WHERE se.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies l JOIN applications a"
	    "  ON a.id = l.application_id WHERE l.study_id = se.study_id"
	    "  AND application_visible(a, $2::bigint))", 2, sid, inst);
	if (res == NULL)
		return -1;
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return 0;
	}
	s->id = id;
	s->has_iop = page_float_array(db_val(res, 0, 4), s->iop, 6) == 6;
	s->spacing_known = page_float_array(db_val(res, 0, 5), ps, 2) == 2 &&
	    ps[0] > 0 && ps[1] > 0;
	/* Pixel Spacing is row spacing (dy), then column spacing (dx). */
	s->dx = s->spacing_known ? ps[1] : 1;
	s->dy = s->spacing_known ? ps[0] : 1;
	s->nx = (int)db_ll(res, 0, 6);
	s->ny = (int)db_ll(res, 0, 7);
	s->modality = arena_strdup(r->a, db_val(res, 0, 8));
	s->number = arena_strdup(r->a, db_val(res, 0, 12));
	s->description = arena_strdup(r->a, db_val(res, 0, 13));
	s->wc = *db_val(res, 0, 10) != '\0' ? strtod(db_val(res, 0, 10),
	    NULL) : NAN;
	s->ww = *db_val(res, 0, 11) != '\0' ? strtod(db_val(res, 0, 11),
	    NULL) : NAN;
	if (!s->has_iop) {
		memset(s->iop, 0, sizeof(s->iop));
		s->iop[0] = s->iop[4] = 1;
	}
	nrm[0] = s->iop[1] * s->iop[5] - s->iop[2] * s->iop[4];
	nrm[1] = s->iop[2] * s->iop[3] - s->iop[0] * s->iop[5];
	nrm[2] = s->iop[0] * s->iop[4] - s->iop[1] * s->iop[3];
	s->flip = view_flip(nrm);
	s->sl = arena_calloc(r->a, (size_t)n, sizeof(*s->sl));
	d = arena_calloc(r->a, (size_t)n, sizeof(*d));
	if (s->sl == NULL || d == NULL || s->modality == NULL ||
	    s->number == NULL || s->description == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < n; i++) {
		s->sl[i].key = arena_strdup(r->a, db_val(res, i, 0));
		s->sl[i].uid = arena_strdup(r->a, db_val(res, i, 14));
		s->sl[i].num = (int)db_ll(res, i, 2);
		s->sl[i].pos = s->has_iop && page_float_array(db_val(res, i, 1),
		    ipp, 3) == 3 ? ipp[0] * nrm[0] + ipp[1] * nrm[1] +
		    ipp[2] * nrm[2] : (double)s->sl[i].num;
		if (s->sl[i].key == NULL || s->sl[i].uid == NULL) {
			PQclear(res);
			return -1;
		}
	}
	frames = (int)db_ll(res, 0, 3);
	s->dz = strtod(db_val(res, 0, 9), NULL);
	PQclear(res);
	qsort(s->sl, (size_t)n, sizeof(*s->sl), vslice_cmp);
	for (i = k = 0; i < n; i++)
		if (k == 0 || !s->has_iop ||
		    fabs(s->sl[i].pos - s->sl[k - 1].pos) > 1e-3)
			s->sl[k++] = s->sl[i];
	s->nfiles = k;
	if (k == 1 && frames > 1) {
		s->multiframe = 1;
		s->nz = frames;
	} else
		s->nz = k;
	if (k > 1 && s->has_iop) {
		for (i = 1; i < k; i++)
			d[i - 1] = s->sl[i].pos - s->sl[i - 1].pos;
		qsort(d, (size_t)k - 1, sizeof(*d), double_cmp);
		s->dz = d[(k - 1) / 2];
	}
	if (!(s->dz > 0))
		s->dz = 1;
	s->film = s->nz == 1 && strcmp(s->modality, "CT") != 0;
	return 1;
}

/* The local path of a stored key (arena), or NULL. */
static const char *
vkey_path(struct req *r, const char *key)
{
	struct store	*st;
	char		 path[4096];
	int		 rc;

	if ((st = store_open_dir(r->conf->store)) == NULL)
		return NULL;
	rc = store_local_path(st, key, path, sizeof(path));
	store_close(st);
	return rc == -1 ? NULL : arena_strdup(r->a, path);
}

/*
 * What 默认窗 shows of film s, for the page's window label: its VOI LUT
 * ("LUT", with the linear window equivalent to it, from which a drag
 * starts) or its VOI LUT Function when not LINEAR.  Read from the
 * header of its file (the LUT's data only when there is one).  Nothing
 * is set for a CT or a file that cannot be read (the image request says
 * why).
 */
static void
vfilm_voi(struct req *r, const struct vseries *s, json_t *o)
{
	struct dcm_info		 info;
	struct dcm_lut_table	 lut;
	const char		*path;
	double			 c, w;

	if (!s->film || s->nfiles < 1 ||
	    (path = vkey_path(r, s->sl[0].key)) == NULL ||
	    dcm_read_info(path, NULL, &info, NULL, 0) == -1)
		return;
	if (info.voi_luts > 0 &&
	    dcm_read_voi_lut(path, NULL, 0, &lut, NULL, 0) == 0) {
		voi_lut_window(&lut, &c, &w);
		dcm_lut_table_free(&lut);
		(void)json_object_set_new(o, "voi", json_string("LUT"));
		(void)json_object_set_new(o, "voi_wc", json_real(c));
		(void)json_object_set_new(o, "voi_ww", json_real(w));
	} else if (voi_function_parse(info.voi_function) > 0)
		(void)json_object_set_new(o, "voi", json_string(
		    info.voi_function));
}

/*
 * The whole series s in the worker's cache, loaded if it is not there.
 * Returns the volume, or NULL with a reason in err (too large, a file
 * missing or unreadable).
 */
static struct view_volume *
vcache_get(struct req *r, const struct vseries *s, char *err, size_t errlen)
{
	struct series_opts	 opts;
	struct series_volume	*v = NULL;
	struct view_volume	*vv = NULL;
	const char		**paths;
	int			 i;

	if (cache.vv != NULL && cache.series == s->id)
		return cache.vv;
	if ((size_t)s->nx * (size_t)s->ny * (size_t)s->nz >
	    VIEWER_CACHE_VOXELS) {
		errfmt(err, errlen, "%d x %d x %d voxels: more than the cache"
		    " holds", s->nx, s->ny, s->nz);
		return NULL;
	}
	if ((paths = arena_calloc(r->a, (size_t)s->nfiles,
	    sizeof(*paths))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < s->nfiles; i++)
		if ((paths[i] = vkey_path(r, s->sl[i].key)) == NULL) {
			errfmt(err, errlen, "%s: not in the store",
			    s->sl[i].key);
			return NULL;
		}
	/* The memory of the old volume goes before the new one comes. */
	view_volume_free(cache.vv);
	cache.vv = NULL;
	cache.series = 0;
	memset(&opts, 0, sizeof(opts));
	opts.max_voxels = VIEWER_CACHE_VOXELS;
	if (series_load(paths, (size_t)s->nfiles, &opts, &v, err,
	    errlen) == -1)
		return NULL;
	if (view_volume_from(v, &vv, err, errlen) == -1) {
		series_free(v);
		return NULL;
	}
	series_free(v);
	cache.vv = vv;
	cache.series = s->id;
	return vv;
}

/*
 * The labels of AI result rid of series s (the user may see s: vrequest()
 * checked), from the worker's cache or the database.  Returns the labels,
 * or NULL with *status 404 (no such result of s, or labels not on s's
 * grid), 503 (database) or 500 (logged).
 */
static const struct view_labels *
vmasks_get(struct req *r, const struct vseries *s, long long rid,
    int *status)
{
	PGresult		*res;
	json_t			*leg = NULL, *e;
	struct view_labels	 lb;
	unsigned char		*z = NULL, rgb[3];
	char			 srid[32], ssid[32], err[256];
	size_t			 zlen, i, n;
	int			 k, l;

	*status = 500;
	(void)snprintf(srid, sizeof(srid), "%lld", rid);
	(void)snprintf(ssid, sizeof(ssid), "%lld", s->id);
	res = db_exec(r->db, "SELECT m.nx, m.ny, m.nz, m.raw_bytes,"
	    " m.written_at::text, m.legend::text"
	    " FROM ai_result_masks m JOIN ai_results res ON res.id = m.result_id"
	    " WHERE m.result_id = $1::bigint AND res.series_id = $2::bigint",
	    2, srid, ssid);
	if (res == NULL) {
		*status = 503;
		return NULL;
	}
	if (PQntuples(res) != 1 || db_ll(res, 0, 0) != s->nx ||
	    db_ll(res, 0, 1) != s->ny || db_ll(res, 0, 2) != s->nz) {
		PQclear(res);
		*status = 404;
		return NULL;
	}
	if (mcache.lb.lab != NULL && mcache.result == rid &&
	    strcmp(mcache.written, db_val(res, 0, 4)) == 0) {
		PQclear(res);
		return &mcache.lb;
	}
	memset(&lb, 0, sizeof(lb));
	lb.nx = s->nx;
	lb.ny = s->ny;
	lb.nz = s->nz;
	n = (size_t)lb.nx * (size_t)lb.ny * (size_t)lb.nz;
	if ((size_t)db_ll(res, 0, 3) != n || n > VIEWER_MASK_BYTES) {
		log_error("%s: result %lld: %zu labels, more than the cache"
		    " holds or not its grid", __func__, rid, n);
		PQclear(res);
		*status = 404;
		return NULL;
	}
	leg = json_loads(db_val(res, 0, 5), 0, NULL);
	PQclear(res);
	/* The memory of the old labels goes before the new come. */
	view_labels_clear(&mcache.lb);
	mcache.result = 0;
	res = db_exec(r->db, "SELECT data, written_at::text"
	    " FROM ai_result_masks WHERE result_id = $1::bigint", 1, srid);
	if (res == NULL) {
		json_decref(leg);
		*status = 503;
		return NULL;
	}
	if (PQntuples(res) != 1 || !json_is_array(leg) ||
	    (z = PQunescapeBytea((const unsigned char *)db_val(res, 0, 0),
	    &zlen)) == NULL || (lb.lab = malloc(n)) == NULL ||
	    masks_decode(z, zlen, lb.lab, n, err, sizeof(err)) == -1) {
		log_error("%s: result %lld: labels unreadable", __func__, rid);
		goto fail;
	}
	json_array_foreach(leg, i, e) {
		l = (int)json_integer_value(json_object_get(e, "label"));
		k = masks_kind_parse(json_string_value(json_object_get(e,
		    "kind")));
		if (l < 1 || l > 255 || k < 0 || masks_colour_parse(
		    json_string_value(json_object_get(e, "colour")), rgb) == -1)
			continue;
		view_labels_set(&lb, l, rgb, masks_kind_shell(
		    (enum masks_kind)k));
	}
	(void)view_labels_blocks(&lb);
	mcache.lb = lb;
	mcache.result = rid;
	(void)snprintf(mcache.written, sizeof(mcache.written), "%s",
	    db_val(res, 0, 1));
	PQfreemem(z);
	PQclear(res);
	json_decref(leg);
	return &mcache.lb;
fail:
	if (z != NULL)
		PQfreemem(z);
	PQclear(res);
	json_decref(leg);
	view_labels_clear(&lb);
	return NULL;
}

/* The AI results of series id that carry regions, for the page:
 * [{"result": R, "reader": "CT肺结节智能诊断", "legend": [...]}, ...];
 * NULL on a database error. */
static json_t *
vmasks_json(struct req *r, long long id)
{
	PGresult	*res;
	json_t		*a, *o;
	char		 sid[32];
	int		 i;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT m.result_id, res.reader, m.legend::text"
	    " FROM ai_result_masks m JOIN ai_results res ON res.id = m.result_id"
	    " WHERE res.series_id = $1::bigint ORDER BY res.reader", 1, sid);
	if (res == NULL)
		return NULL;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object();
		(void)json_object_set_new(o, "result", json_integer(
		    db_ll(res, i, 0)));
		(void)json_object_set_new(o, "reader", json_string(
		    reader_name_zh(db_val(res, i, 1))));
		(void)json_object_set_new(o, "legend", json_loads(
		    db_val(res, i, 2), 0, NULL));
		(void)json_array_append_new(a, o);
	}
	PQclear(res);
	return a;
}

/* An image of a series: values, size and pixel size. */
struct vimage {
	float		*val;		/* malloc'ed w * h */
	int		 w, h;
	double		 sx, sy;
	int		 invert;	/* MONOCHROME1 */
	/* One file's own VOI transform (voi.h): its VOI LUT (taken from
	 * the loader; freed with val), its window and function. */
	struct dcm_lut_table lut;
	double		 wc, ww;
	char		 fn[17];
};

/*
 * Image z of plane p of series s into im.  Returns 0, 404 when there is
 * no such image, or 500 (logged, with what).
 */
static int
vimage_get(struct req *r, const struct vseries *s, enum view_plane p,
    int z, struct vimage *im)
{
	struct series_volume	*v = NULL;
	struct view_volume	*vv;
	const char		*path;
	char			 err[256];
	int			 n;

	memset(im, 0, sizeof(*im));
	err[0] = '\0';
	if (p == VIEW_AXIAL && !s->multiframe) {
		if (z < 0 || z >= s->nfiles)
			return 404;
		if ((path = vkey_path(r, s->sl[z].key)) == NULL) {
			log_error("%s: series %lld image %d: %s not in the"
			    " store", __func__, s->id, z, s->sl[z].key);
			return 404;
		}
		if (series_load(&path, 1, NULL, &v, err, sizeof(err)) == -1)
			goto fail;
		im->w = v->nx;
		im->h = v->ny;
		im->sx = v->spacing[0];
		im->sy = v->spacing[1];
		im->invert = v->invert_for_display;
		im->lut = v->voi_lut;
		memset(&v->voi_lut, 0, sizeof(v->voi_lut));
		im->wc = v->window_center;
		im->ww = v->window_width;
		(void)snprintf(im->fn, sizeof(im->fn), "%s", v->voi_function);
		/* One file: its (first) slice is the image. */
		if ((im->val = malloc((size_t)v->nx * (size_t)v->ny *
		    sizeof(float))) == NULL) {
			errfmt(err, sizeof(err), "out of memory");
			goto fail;
		}
		memcpy(im->val, v->vox, (size_t)v->nx * (size_t)v->ny *
		    sizeof(float));
		series_free(v);
		return 0;
	}
	if (s->nz < 2 && p != VIEW_AXIAL)
		return 404;
	if ((vv = vcache_get(r, s, err, sizeof(err))) == NULL)
		goto fail;
	if (view_plane_size(vv, p, &im->w, &im->h, &n) == -1 || z < 0 ||
	    z >= n)
		return 404;
	view_plane_spacing(vv, p, &im->sx, &im->sy);
	im->invert = vv->invert;
	if ((im->val = malloc((size_t)im->w * (size_t)im->h *
	    sizeof(float))) == NULL) {
		errfmt(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (view_plane_get(vv, p, z, im->val, err, sizeof(err)) == -1)
		goto fail;
	return 0;
fail:
	log_error("%s: series %lld %s image %d: %s", __func__, s->id,
	    view_plane_names[p], z, err);
	series_free(v);
	free(im->val);
	im->val = NULL;
	dcm_lut_table_free(&im->lut);
	return 500;
}

/* The series, plane and image index of an image or probe request; sends
 * the error and returns -1 when they are bad or not the user's. */
static int
vrequest(struct req *r, struct vseries *s, enum view_plane *p, int *z)
{
	const char	*v;
	long long	 id;
	int		 rc, plane;

	id = field_id(r, FIELD_SERIES);
	v = http_field(r, FIELD_PLANE);
	plane = v != NULL && *v != '\0' ? view_plane_parse(v) : VIEW_AXIAL;
	v = http_field(r, FIELD_Z);
	*z = v != NULL && *v != '\0' ? atoi(v) : 0;
	if (id <= 0 || plane < 0 || r->field_bad[FIELD_PLANE] ||
	    r->field_bad[FIELD_Z] || r->field_bad[FIELD_SERIES]) {
		page_error(r, 404, MSG_NO_SERIES);
		return -1;
	}
	*p = (enum view_plane)plane;
	if ((rc = vseries_get(r, id, s)) == -1) {
		page_error(r, 503, MSG_DB);
		return -1;
	}
	if (rc == 0) {
		page_error(r, 404, MSG_NO_SERIES);
		return -1;
	}
	if (page_audit_image(r, id) == -1) {
		page_error(r, 503, MSG_DB);
		return -1;
	}
	return 0;
}

/*
 * The windowed image g (w by h) of plane p, index z of series s with the
 * regions of AI result mid over it, into a new RGB image *rgb.  Returns
 * 0, or the status to answer (404, 503, 500).
 */
static int
vimage_tint(struct req *r, const struct vseries *s, enum view_plane p,
    int z, long long mid, const unsigned char *g, int w, int h,
    unsigned char **rgb)
{
	const struct view_labels	*lb;
	uint8_t				*lp;
	char				 err[256];
	int				 st, lw, lh, ln;

	*rgb = NULL;
	if ((lb = vmasks_get(r, s, mid, &st)) == NULL)
		return st;
	lw = p == VIEW_SAGITTAL ? lb->ny : lb->nx;
	lh = p == VIEW_AXIAL ? lb->ny : lb->nz;
	ln = p == VIEW_AXIAL ? lb->nz : p == VIEW_CORONAL ? lb->ny : lb->nx;
	if (lw != w || lh != h || z < 0 || z >= ln)
		return 404;
	if ((lp = malloc((size_t)w * (size_t)h)) == NULL ||
	    (*rgb = malloc((size_t)w * (size_t)h * 3)) == NULL) {
		free(lp);
		return 500;
	}
	if (view_plane_labels(lb, s->flip, p, z, lp, err, sizeof(err)) == -1) {
		log_error("%s: result %lld: %s", __func__, mid, err);
		free(lp);
		free(*rgb);
		*rgb = NULL;
		return 404;
	}
	view_tint(g, lp, w, h, lb, *rgb);
	free(lp);
	return 0;
}

void
page_viewer_image(struct req *r)
{
	struct vseries	 s;
	struct vimage	 im;
	struct voi	 voi;
	struct buf	 out;
	enum view_plane	 p;
	unsigned char	*g, *rgb = NULL;
	const char	*fmt;
	double		 wc, ww;
	long long	 mid;
	int		 z, rc, png, inv, usevoi, fn;

	mid = field_id(r, FIELD_MASKS);
	if (r->field_bad[FIELD_MASKS]) {
		page_error(r, 404, MSG_NO_MASKS);
		return;
	}
	if (vrequest(r, &s, &p, &z) == -1)
		return;
	wc = field_num(r, FIELD_WC, NAN);
	ww = field_num(r, FIELD_WW, NAN);
	fmt = http_field(r, FIELD_FMT);
	png = fmt != NULL && strcmp(fmt, "png") == 0;
	inv = field_num(r, FIELD_INVERT, 0) == 1;
	usevoi = field_num(r, FIELD_VOI, 0) == 1;
	if (r->field_bad[FIELD_WC] || r->field_bad[FIELD_WW] ||
	    r->field_bad[FIELD_FMT] || r->field_bad[FIELD_INVERT] ||
	    r->field_bad[FIELD_VOI]) {
		page_error(r, 404, "无法显示该影像");
		return;
	}
	if ((rc = vimage_get(r, &s, p, z, &im)) != 0) {
		page_error(r, 404, rc == 404 ? MSG_NO_SERIES :
		    "无法显示该影像");
		return;
	}
	/* 自动 asks for the file's own VOI transform: its VOI LUT, else
	 * its window through its VOI LUT Function (voi.h), as the film
	 * readers see the image; a window asked for replaces it. */
	memset(&voi, 0, sizeof(voi));
	voi.invert = im.invert != inv;
	fn = voi_function_parse(im.fn);
	if (usevoi && im.lut.n > 0)
		voi.lut = &im.lut;
	else if (usevoi && fn > 0 && voi_check(&(struct voi){ .center =
	    im.wc, .width = im.ww, .fn = (enum voi_function)fn }, NULL,
	    0) == 0) {
		voi.fn = (enum voi_function)fn;
		wc = im.wc;
		ww = im.ww;
	} else if (!isfinite(wc) || !isfinite(ww) || ww < 1) {
		/* No window asked for: the file's, else the image's own. */
		if (isfinite(s.wc) && isfinite(s.ww) && s.ww >= 1) {
			wc = s.wc;
			ww = s.ww;
		} else {
			struct series_volume	 one;

			memset(&one, 0, sizeof(one));
			one.vox = im.val;
			one.nx = im.w;
			one.ny = im.h;
			one.nz = 1;
			if (preview_window_percentile(&one, 0, 1, 99, &wc,
			    &ww) == -1) {
				wc = 0;
				ww = 1;
			}
		}
	}
	voi.center = wc;
	voi.width = ww;
	buf_init(&out, VIEWER_IMAGE_MAX);
	if ((g = malloc((size_t)im.w * (size_t)im.h)) == NULL) {
		free(im.val);
		dcm_lut_table_free(&im.lut);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	voi_apply8(&voi, im.val, (size_t)im.w * (size_t)im.h, g);
	free(im.val);
	dcm_lut_table_free(&im.lut);
	if (mid > 0 && (rc = vimage_tint(r, &s, p, z, mid, g, im.w, im.h,
	    &rgb)) != 0) {
		free(g);
		buf_free(&out);
		page_error(r, rc, rc == 404 ? MSG_NO_MASKS : rc == 503 ?
		    MSG_DB : MSG_INTERNAL);
		return;
	}
	if (rgb != NULL)
		rc = png ? preview_png_encode_rgb(rgb, im.w, im.h, &out) :
		    view_jpeg_rgb(rgb, im.w, im.h, VIEWER_JPEG_QUALITY, &out);
	else
		rc = png ? preview_png_encode(g, im.w, im.h, &out) :
		    view_jpeg(g, im.w, im.h, VIEWER_JPEG_QUALITY, &out);
	free(rgb);
	free(g);
	if (rc == -1) {
		log_error("%s: series %lld: encoding %d x %d failed", __func__,
		    s.id, im.w, im.h);
		buf_free(&out);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)http_open(r, 200, png ? "image/png" : "image/jpeg");
	(void)http_write(r, out.data, out.len);
	buf_free(&out);
}

#define MSG_RENDER_BAD	"三维重建参数无效"
#define MSG_RENDER_NO	"该序列不能三维重建（需为CT多层序列）"

/* The rendering of vv with the labels lb, answered as a colour JPEG. */
static void
vrender_labels(struct req *r, const struct vseries *s,
    const struct view_volume *vv, const struct view_labels *lb,
    const struct view_camera *cam, double wc, double ww)
{
	struct view_render_info	 ri;
	struct buf		 out;
	unsigned char		*rgb;
	char			 err[256];
	int			 rc;

	if ((rgb = malloc((size_t)cam->size * (size_t)cam->size * 3)) ==
	    NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if (view_render_labels(vv, lb, cam, wc, ww, rgb, &ri, err,
	    sizeof(err)) == -1) {
		log_error("%s: series %lld: %s", __func__, s->id, err);
		free(rgb);
		page_error(r, 404, MSG_NO_MASKS);
		return;
	}
	buf_init(&out, VIEWER_IMAGE_MAX);
	rc = view_jpeg_rgb(rgb, cam->size, cam->size, VIEWER_JPEG_QUALITY,
	    &out);
	free(rgb);
	if (rc == -1) {
		log_error("%s: series %lld: encoding %d x %d failed", __func__,
		    s->id, cam->size, cam->size);
		buf_free(&out);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)http_open(r, 200, "image/jpeg");
	(void)http_write(r, out.data, out.len);
	buf_free(&out);
}

/*
 * GET /viewer/render: 三维重建 of a CT series from the worker's cached
 * volume.  The cost is bounded by the image's side (at most
 * VIEW_RENDER_SIZE_MAX) and the samples along a ray (at most
 * VIEW_RENDER_STEPS_MAX); bad parameters answer 400, a series that is
 * not a CT stack the cache can hold 400 too; access and audit as
 * /viewer/image.
 */
void
page_viewer_render(struct req *r)
{
	struct vseries		 s;
	struct view_volume	*vv;
	struct view_camera	 cam;
	struct view_render_info	 ri;
	struct buf		 out;
	enum view_plane		 p;
	const char		*m;
	const struct view_labels *lb = NULL;
	unsigned char		*g = NULL;
	float			*img = NULL;
	char			 err[256];
	double			 wc, ww;
	long long		 mid;
	size_t			 i, n;
	int			 z, mode, rc, st;

	m = http_field(r, FIELD_RENDER);
	mode = m != NULL && *m != '\0' ? view_render_parse(m) :
	    VIEW_RENDER_BONE;
	memset(&cam, 0, sizeof(cam));
	cam.azimuth = field_num(r, FIELD_AZ, 0);
	cam.elevation = field_num(r, FIELD_EL, 0);
	cam.zoom = field_num(r, FIELD_ZOOM, 1);
	cam.size = (int)field_num(r, FIELD_SIZE, 512);
	wc = field_num(r, FIELD_WC, 400);
	ww = field_num(r, FIELD_WW, 1800);
	if (mode < 0 || r->field_bad[FIELD_RENDER] || r->field_bad[FIELD_AZ] ||
	    r->field_bad[FIELD_EL] || r->field_bad[FIELD_ZOOM] ||
	    r->field_bad[FIELD_SIZE] || r->field_bad[FIELD_WC] ||
	    r->field_bad[FIELD_WW] || !(fabs(cam.azimuth) <= 36000) ||
	    !(cam.elevation >= -90 && cam.elevation <= 90) ||
	    !(cam.zoom >= VIEW_RENDER_ZOOM_MIN &&
	    cam.zoom <= VIEW_RENDER_ZOOM_MAX) ||
	    cam.size < VIEW_RENDER_SIZE_MIN ||
	    cam.size > VIEW_RENDER_SIZE_MAX || !isfinite(wc) ||
	    !(ww >= 1 && ww <= 100000) || r->field_bad[FIELD_MASKS]) {
		page_error(r, 400, MSG_RENDER_BAD);
		return;
	}
	mid = field_id(r, FIELD_MASKS);
	cam.mode = (enum view_render_mode)mode;
	if (vrequest(r, &s, &p, &z) == -1)
		return;
	if (strcmp(s.modality, "CT") != 0 || s.nz < 2 ||
	    (size_t)s.nx * (size_t)s.ny * (size_t)s.nz > VIEWER_CACHE_VOXELS) {
		page_error(r, 400, MSG_RENDER_NO);
		return;
	}
	err[0] = '\0';
	if ((vv = vcache_get(r, &s, err, sizeof(err))) == NULL) {
		log_error("%s: series %lld: %s", __func__, s.id, err);
		page_error(r, 404, "无法显示该影像");
		return;
	}
	if (mid > 0) {
		if ((lb = vmasks_get(r, &s, mid, &st)) == NULL) {
			page_error(r, st, st == 404 ? MSG_NO_MASKS :
			    st == 503 ? MSG_DB : MSG_INTERNAL);
			return;
		}
		vrender_labels(r, &s, vv, lb, &cam, wc, ww);
		return;
	}
	n = (size_t)cam.size * (size_t)cam.size;
	if ((img = malloc(n * sizeof(*img))) == NULL ||
	    (g = malloc(n)) == NULL) {
		free(img);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if (view_render(vv, &cam, img, &ri, err, sizeof(err)) == -1) {
		log_error("%s: series %lld: %s", __func__, s.id, err);
		free(img);
		free(g);
		page_error(r, 400, MSG_RENDER_BAD);
		return;
	}
	if (cam.mode == VIEW_RENDER_MIP)
		view_window8(img, n, wc, ww, 0, g);
	else
		for (i = 0; i < n; i++)
			g[i] = (unsigned char)(img[i] < 0 ? 0 : img[i] > 255 ?
			    255 : img[i] + 0.5f);
	free(img);
	buf_init(&out, VIEWER_IMAGE_MAX);
	rc = view_jpeg(g, cam.size, cam.size, VIEWER_JPEG_QUALITY, &out);
	free(g);
	if (rc == -1) {
		log_error("%s: series %lld: encoding %d x %d failed", __func__,
		    s.id, cam.size, cam.size);
		buf_free(&out);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)http_open(r, 200, "image/jpeg");
	(void)http_write(r, out.data, out.len);
	buf_free(&out);
}

/* A JSON number, or null for what is not one. */
static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(round(v * 100) / 100) : json_null();
}

void
page_viewer_probe(struct req *r)
{
	struct vseries	 s;
	struct vimage	 im;
	struct view_roi	 roi;
	enum view_plane	 p;
	json_t		*o, *jr;
	char		*txt;
	double		 px, py, rmm, v = NAN;
	int		 z, rc, x, y;

	if (vrequest(r, &s, &p, &z) == -1)
		return;
	px = field_num(r, FIELD_PX, NAN);
	py = field_num(r, FIELD_PY, NAN);
	rmm = field_num(r, FIELD_RMM, 0);
	if (!isfinite(px) || !isfinite(py) || !(rmm >= 0) || rmm > 500) {
		page_error(r, 404, "测量位置无效");
		return;
	}
	if ((rc = vimage_get(r, &s, p, z, &im)) != 0) {
		page_error(r, 404, rc == 404 ? MSG_NO_SERIES :
		    "无法显示该影像");
		return;
	}
	x = (int)floor(px);
	y = (int)floor(py);
	if (x >= 0 && y >= 0 && x < im.w && y < im.h)
		v = im.val[(size_t)y * im.w + x];
	o = json_object();
	(void)json_object_set_new(o, "x", json_integer(x));
	(void)json_object_set_new(o, "y", json_integer(y));
	(void)json_object_set_new(o, "value", jnum(v));
	(void)json_object_set_new(o, "unit", json_string(
	    strcmp(s.modality, "CT") == 0 ? "HU" : ""));
	if (rmm > 0 && view_roi_circle(im.val, im.w, im.h, im.sx, im.sy, px,
	    py, rmm, &roi) == 0) {
		jr = json_object();
		(void)json_object_set_new(jr, "n", json_integer(
		    (json_int_t)roi.n));
		(void)json_object_set_new(jr, "mean", jnum(roi.mean));
		(void)json_object_set_new(jr, "sd", jnum(roi.sd));
		(void)json_object_set_new(jr, "min", jnum(roi.min));
		(void)json_object_set_new(jr, "max", jnum(roi.max));
		(void)json_object_set_new(jr, "area_mm2", jnum(roi.area_mm2));
		(void)json_object_set_new(o, "roi", jr);
	}
	free(im.val);
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)http_open(r, 200, "application/json; charset=utf-8");
	(void)http_puts(r, txt);
	free(txt);
}

/* The orientation of a series for the page: one JSON object. */
static json_t *
vseries_json(const struct vseries *s)
{
	json_t	*o, *iop;
	int	 i;

	o = json_object();
	iop = json_array();
	for (i = 0; i < 6; i++)
		(void)json_array_append_new(iop, json_real(s->iop[i]));
	(void)json_object_set_new(o, "id", json_integer(s->id));
	(void)json_object_set_new(o, "number", json_string(s->number));
	(void)json_object_set_new(o, "description", json_string(
	    s->description));
	(void)json_object_set_new(o, "modality", json_string(s->modality));
	(void)json_object_set_new(o, "nx", json_integer(s->nx));
	(void)json_object_set_new(o, "ny", json_integer(s->ny));
	(void)json_object_set_new(o, "nz", json_integer(s->nz));
	(void)json_object_set_new(o, "dx", json_real(s->dx));
	(void)json_object_set_new(o, "dy", json_real(s->dy));
	(void)json_object_set_new(o, "dz", json_real(s->dz));
	(void)json_object_set_new(o, "spacing_known", json_boolean(
	    s->spacing_known));
	(void)json_object_set_new(o, "iop", iop);
	(void)json_object_set_new(o, "has_iop", json_boolean(s->has_iop));
	(void)json_object_set_new(o, "flip", json_boolean(s->flip));
	(void)json_object_set_new(o, "film", json_boolean(s->film));
	(void)json_object_set_new(o, "ct", json_boolean(
	    strcmp(s->modality, "CT") == 0));
	/* MPR needs a stack the worker's cache can hold. */
	(void)json_object_set_new(o, "mpr", json_boolean(s->nz >= 2 &&
	    (size_t)s->nx * (size_t)s->ny * (size_t)s->nz <=
	    VIEWER_CACHE_VOXELS));
	(void)json_object_set_new(o, "wc", isfinite(s->wc) ?
	    json_real(s->wc) : json_null());
	(void)json_object_set_new(o, "ww", isfinite(s->ww) ?
	    json_real(s->ww) : json_null());
	return o;
}

/*
 * The viewer's axial image of each slice of m (m->k): a slice of a file
 * of single frames by its SOP Instance UID among the files in the
 * viewer's order, a frame of a multi-frame file by its place among the
 * slices of the same UID.  -1 for a slice the viewer does not show.
 */
static void
viewer_map_slices(const struct vseries *s, struct viewer_map *m)
{
	int	 z, i, first;

	m->found = 1;
	for (z = 0; z < m->n; z++) {
		m->k[z] = -1;
		if (s->multiframe) {
			if (strcmp(m->uids[z], s->sl[0].uid) != 0)
				continue;
			for (first = z; first > 0 && strcmp(m->uids[first - 1],
			    m->uids[z]) == 0; first--)
				;
			if (z - first < s->nz)
				m->k[z] = z - first;
			continue;
		}
		/* Most often the same order: the slice's own place first. */
		if (z < s->nfiles && strcmp(s->sl[z].uid, m->uids[z]) == 0) {
			m->k[z] = z;
			continue;
		}
		for (i = 0; i < s->nfiles; i++)
			if (strcmp(s->sl[i].uid, m->uids[z]) == 0) {
				m->k[z] = i;
				break;
			}
	}
}

int
viewer_block(struct req *r, long long id, long long want, struct tdict *d,
    char *diag_no, size_t diag_len)
{
	return viewer_block_map(r, id, want, d, diag_no, diag_len, NULL);
}

int
viewer_block_map(struct req *r, long long id, long long want,
    struct tdict *d, char *diag_no, size_t diag_len, struct viewer_map *m)
{
	PGresult	*res;
	struct tdict	*t;
	struct vseries	 s;
	json_t		*info, *arr, *o, *jm;
	char		 sid[32], inst[32], *txt;
	double		 ids[256];
	int		 i, n, rc, start = -1, best = -1, bestn = 0, k = 0;

	if (m != NULL) {
		m->found = 0;
		for (i = 0; i < m->n; i++)
			m->k[i] = -1;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT a.diag_no, a.patient_name, a.patient_sex,"
	    " a.patient_age, coalesce(to_char(a.exam_date, 'YYYY-MM-DD'), ''),"
	    " coalesce((SELECT array_agg(se.id ORDER BY st.study_date, st.id,"
	    "  se.series_number NULLS LAST, se.id)::text"
	    "  FROM application_studies l JOIN studies st ON st.id = l.study_id"
	    "  JOIN series se ON se.study_id = st.id"
	    "  WHERE l.application_id = a.id), '{}')"
	    " FROM applications a"
	    " WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)",
	    2, sid, inst);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	(void)tdict_set(d, "zv_diag_no", db_val(res, 0, 0));
	if (diag_no != NULL)
		(void)snprintf(diag_no, diag_len, "%s", db_val(res, 0, 0));
	(void)tdict_set(d, "zv_patient_name", db_val(res, 0, 1));
	(void)tdict_set(d, "zv_patient_sex", page_sex_zh(db_val(res, 0, 2)));
	(void)tdict_set(d, "zv_patient_age", db_val(res, 0, 3));
	(void)tdict_set(d, "zv_exam_date", db_val(res, 0, 4));
	(void)tdict_bool(d, "zv_has_exam_date", *db_val(res, 0, 4) != '\0');
	info = json_object();
	arr = json_array();
	(void)json_object_set_new(info, "app", json_integer(id));
	(void)json_object_set_new(info, "patient", json_pack("{s:s,s:s,s:s}",
	    "name", db_val(res, 0, 1), "sex", page_sex_zh(db_val(res, 0, 2)),
	    "age", db_val(res, 0, 3)));
	(void)json_object_set_new(info, "diag_no", json_string(
	    db_val(res, 0, 0)));
	(void)json_object_set_new(info, "exam_date", json_string(
	    db_val(res, 0, 4)));
	n = page_float_array(db_val(res, 0, 5), ids, 256);
	PQclear(res);
	for (i = 0; i < n; i++) {
		if ((rc = vseries_get(r, (long long)ids[i], &s)) == -1) {
			json_decref(info);
			json_decref(arr);
			return -1;
		}
		if (rc == 0)
			continue;
		if ((o = vseries_json(&s)) == NULL || (jm = vmasks_json(r,
		    s.id)) == NULL) {
			json_decref(o);
			json_decref(info);
			json_decref(arr);
			return -1;
		}
		(void)json_object_set_new(o, "masks", jm);
		vfilm_voi(r, &s, o);
		(void)json_array_append_new(arr, o);
		if ((t = tdict_add(d, "zv_series")) != NULL) {
			(void)tdict_setf(t, "series_id", "%lld", s.id);
			(void)tdict_setf(t, "k", "%d", k);
			(void)tdict_set(t, "number", s.number);
			(void)tdict_set(t, "description", s.description);
			(void)tdict_set(t, "modality", s.modality);
			(void)tdict_setf(t, "nz", "%d", s.nz);
		}
		if (s.id == want)
			start = k;
		if (m != NULL && s.id == m->series)
			viewer_map_slices(&s, m);
		if (s.nz > bestn) {
			bestn = s.nz;
			best = k;
		}
		k++;
	}
	(void)json_object_set_new(info, "series", arr);
	(void)json_object_set_new(info, "start", json_integer(
	    start >= 0 ? start : best >= 0 ? best : 0));
	txt = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	if (txt == NULL)
		return -1;
	(void)tdict_set(d, "zv_info", txt);
	free(txt);
	(void)tdict_bool(d, "zv_has_series", k > 0);
	if ((t = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(t, "href", "/static/viewer.css");
	if ((t = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(t, "src", "/static/viewer.js");
	return 1;
}

/*
 * GET /viewer?id=N[&series=S]: the viewer of application N's images,
 * opening series S (else the first with the most slices).  404 for an
 * application the user may not see.
 */
void
page_viewer(struct req *r)
{
	struct tdict	*d;
	char		 sid[32], diag[64];
	long long	 id;
	int		 rc;

	if ((id = field_id(r, FIELD_ID)) == 0) {
		page_error(r, 404, MSG_NO_APP);
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if ((rc = viewer_block(r, id, field_id(r, FIELD_SERIES), d, diag,
	    sizeof(diag))) <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ? MSG_NO_APP :
		    MSG_DB);
		return;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)tdict_set(d, "id", sid);
	if (page_audit_read(r, "application_viewed", "application", id,
	    diag) == -1 || cpr_viewer_links(r, id, d) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	page_render(r, 200, "viewer.html", d);
}

/*
 * The whole series id in the worker's cache (the one volume MPR and
 * 三维重建 use), for another page's images (肋骨拉直: cpr.c), with the
 * access and audit of /viewer/image.  Returns 1 with *vv, 0 when the user
 * may not see such a series, -1 on database trouble, or -2 when it cannot
 * be held (not a CT stack, too large, unreadable: logged).
 */
int
viewer_volume(struct req *r, long long id, struct view_volume **vv)
{
	struct vseries	 s;
	char		 err[256];
	int		 rc;

	*vv = NULL;
	if ((rc = vseries_get(r, id, &s)) <= 0)
		return rc;
	if (page_audit_image(r, id) == -1)
		return -1;
	if (strcmp(s.modality, "CT") != 0 || s.nz < 2 ||
	    (size_t)s.nx * (size_t)s.ny * (size_t)s.nz > VIEWER_CACHE_VOXELS) {
		log_error("%s: series %lld: not a CT stack the cache holds",
		    __func__, id);
		return -2;
	}
	err[0] = '\0';
	if ((*vv = vcache_get(r, &s, err, sizeof(err))) == NULL) {
		log_error("%s: series %lld: %s", __func__, id, err);
		return -2;
	}
	return 1;
}
