/*
 * cpr.c - 肋骨拉直 / 肋骨展开: the rib fracture reader's ribs, each
 * straightened along its centre line, and the whole cage unfolded, with
 * the fractures marked (src/lib/cpr.h for the methods).
 *
 *	GET /ai/cpr?id=N&job=J[&z=K&az=A&window=W]
 *		the page of job J (ct_rib_fracture) of application N: the list
 *		of ribs, rib K (by its place in that list, from 0; the first
 *		with a fracture when absent) straightened and turned by A
 *		degrees (0..180) about its centre line, the unfolded cage, the
 *		fractures marked on both and listed with their rib, window W
 *		(bone, mediastinum, lung)
 *	GET /ai/cpr/rib?job=J&z=K[&az=A&window=W&fmt=png]
 *		rib K straightened: its arc length across (from the head at
 *		the left), CPR_HALF_RIB mm each side of the line down, both
 *		CPR_STEP_WEB mm a pixel; JPEG, or PNG with fmt=png
 *	GET /ai/cpr/cage?job=J[&az=A&window=W&fmt=png]
 *		the cage unfolded: a row a rib number, rib 1 at the top, the
 *		right ribs to the left of the middle, the left ones to the
 *		right, each from its head outwards, CPR_HALF_CAGE mm each side
 *
 * The images come from the worker's cached volume of the viewer
 * (viewer_volume(): the series is not loaded again while the doctor
 * turns and steps), the ribs' paths from a per-worker cache of the last
 * result's parsed centre lines.  The markers and labels are drawn by the
 * page over the images (SVG), at the places this file computes.
 *
 * Access is that of /ai/result and /viewer/image: the job's series must
 * belong to a study linked to an application the user's institution may
 * see, and anything else answers 404; the page is audited as the result
 * page is (ai_result_viewed), every image as image_viewed
 * (page_audit_image(), through viewer_volume()).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cpr.h"
#include "db.h"
#include "log.h"
#include "pages.h"
#include "preview.h"
#include "view.h"

#define MSG_DB		"系统暂时不可用，请稍后重试"
#define MSG_INTERNAL	"系统内部错误"
#define MSG_NO_RESULT	"AI阅片结果不存在或无权查看"
#define MSG_NO_IMAGE	"影像不存在或无权访问"
#define MSG_BAD		"肋骨拉直参数无效"
#define MSG_NO_LINES	"该AI结果未保存肋骨中心线（较早版本的分析结果），无法显示" \
			"肋骨拉直/展开图像；请重新进行CT骨折辅助诊断后查看。"
#define MSG_NO_VOLUME	"该序列无法用于肋骨拉直（需为可完整载入的CT多层序列）。"
#define MSG_MISMATCH	"影像序列与AI结果的层面不一致（序列可能已更新），无法显示" \
			"肋骨拉直/展开图像；请重新进行CT骨折辅助诊断后查看。"
#define MSG_NOT_RIBS	"该AI阅片结果不是CT骨折辅助诊断，没有肋骨拉直/展开图像。"
#define MSG_NOT_DONE	"AI分析尚未完成或未成功，暂无肋骨拉直/展开图像。"
#define AI_DISCLAIMER	"人工智能辅助阅片结果仅供参考，不得直接用于诊疗。"

#define CPR_STEP_WEB	0.5	/* mm a pixel, both axes */
#define CPR_HALF_RIB	20.0	/* mm each side, one rib */
#define CPR_HALF_CAGE	10.0	/* mm each side, the cage's rows */
#define CPR_JPEG_QUALITY 90
#define CPR_IMAGE_MAX	(32u * 1024 * 1024)

/* The job as an image or the page needs it. */
struct cjob {
	long long	 job, series, result;
	const char	*reader, *state, *overlays, *stamp;
	int		 nx, ny, nz;
};

/* The ribs of the last result a worker drew. */
static struct {
	long long	 result;
	char		 stamp[32];
	size_t		 len;		/* of the overlays' text */
	int		 nx, ny, nz;
	double		 spacing[3];
	struct cpr_ribs	 ribs;
} rcache;

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

/* The columns of the job query below. */
#define CJOB_COLUMNS \
	" j.id, se.id, coalesce(res.id, 0), j.reader, j.state," \
	" coalesce(res.overlays::text, '{}')," \
	" coalesce((extract(epoch FROM res.updated_at) * 1000000)" \
	"  ::bigint::text, '0')," \
	" coalesce(nullif(res.nx, 0), se.cols, 0)," \
	" coalesce(nullif(res.ny, 0), se.rows, 0)," \
	" coalesce(cardinality(res.slice_uids), 0)"

static int
cjob_fill(struct req *r, PGresult *res, struct cjob *j)
{
	j->job = db_ll(res, 0, 0);
	j->series = db_ll(res, 0, 1);
	j->result = db_ll(res, 0, 2);
	j->reader = arena_strdup(r->a, db_val(res, 0, 3));
	j->state = arena_strdup(r->a, db_val(res, 0, 4));
	j->overlays = arena_strdup(r->a, db_val(res, 0, 5));
	j->stamp = arena_strdup(r->a, db_val(res, 0, 6));
	j->nx = (int)db_ll(res, 0, 7);
	j->ny = (int)db_ll(res, 0, 8);
	j->nz = (int)db_ll(res, 0, 9);
	return j->reader != NULL && j->state != NULL && j->overlays != NULL &&
	    j->stamp != NULL ? 1 : -1;
}

/*
 * Job `job` when its series belongs to a study linked to an application
 * the user's institution may see.  Returns 1, 0 when not, or -1.
 */
static int
cjob_load(struct req *r, long long job, struct cjob *j)
{
	PGresult	*res;
	char		 sjob[32], inst[32];
	int		 rc;

	memset(j, 0, sizeof(*j));
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT" CJOB_COLUMNS
	    " FROM ai_jobs j JOIN series se ON se.id = j.series_id"
	    " LEFT JOIN ai_results res ON res.job_id = j.id"
	    " WHERE j.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies l JOIN applications a"
	    "  ON a.id = l.application_id WHERE l.study_id = se.study_id"
	    "  AND application_visible(a, $2::bigint))", 2, sjob, inst);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	rc = cjob_fill(r, res, j);
	PQclear(res);
	return rc;
}

/*
 * The ribs of job j drawn from vv (the cache's, parsed again when the
 * result or the volume changed).  Returns the number of ribs (0: no
 * centre lines), -1 when the result does not fit the volume, or -2 on
 * a bad overlay (logged).
 */
static int
cribs_get(const struct cjob *j, const struct view_volume *vv,
    const struct cpr_ribs **out)
{
	char	 err[256];
	int	 n;

	*out = NULL;
	if (j->nx != vv->nx || j->ny != vv->ny || j->nz != vv->nz)
		return -1;
	if (rcache.result == j->result && strcmp(rcache.stamp, j->stamp) ==
	    0 && rcache.len == strlen(j->overlays) && rcache.nx == vv->nx &&
	    rcache.ny == vv->ny && rcache.nz == vv->nz && memcmp(rcache.spacing, vv->spacing,
	    sizeof(rcache.spacing)) == 0) {
		*out = &rcache.ribs;
		return (int)rcache.ribs.n;
	}
	cpr_ribs_free(&rcache.ribs);
	rcache.result = 0;
	if ((n = cpr_ribs_parse(j->overlays, vv->spacing, vv->flip,
	    CPR_STEP_WEB, &rcache.ribs, err, sizeof(err))) == -1) {
		log_error("%s: job %lld: %s", __func__, j->job, err);
		return -2;
	}
	rcache.result = j->result;
	(void)snprintf(rcache.stamp, sizeof(rcache.stamp), "%s", j->stamp);
	rcache.len = strlen(j->overlays);
	rcache.nx = vv->nx;
	rcache.ny = vv->ny;
	rcache.nz = vv->nz;
	memcpy(rcache.spacing, vv->spacing, sizeof(rcache.spacing));
	*out = &rcache.ribs;
	return n;
}

/* The window of the request: a preset (bone by default; auto is bone
 * here) or wc/ww.  Returns 0, or -1 for bad values. */
static int
cwindow(const struct req *r, double *wc, double *ww, int *preset)
{
	const char	*s;
	int		 w;

	if (r->field_bad[FIELD_WINDOW] || r->field_bad[FIELD_WC] ||
	    r->field_bad[FIELD_WW])
		return -1;
	s = http_field(r, FIELD_WINDOW);
	w = s != NULL && *s != '\0' ? preview_window_parse(s) : WINDOW_BONE;
	if (w < 0)
		return -1;
	if (w == WINDOW_AUTO)
		w = WINDOW_BONE;
	*preset = w;
	*wc = preview_windows[w].center;
	*ww = preview_windows[w].width;
	s = http_field(r, FIELD_WC);
	if (s != NULL && *s != '\0') {
		*wc = strtod(s, NULL);
		s = http_field(r, FIELD_WW);
		*ww = s != NULL && *s != '\0' ? strtod(s, NULL) : NAN;
		if (r->field_bad[FIELD_WC] || r->field_bad[FIELD_WW] ||
		    !isfinite(*wc) || !(*ww >= 1 && *ww <= 100000))
			return -1;
	}
	return 0;
}

/* The angle of the request, 0..180 degrees (0 when absent), or -1. */
static double
cangle(const struct req *r)
{
	const char	*s = http_field(r, FIELD_AZ);
	double		 a;

	if (r->field_bad[FIELD_AZ])
		return -1;
	if (s == NULL || *s == '\0')
		return 0;
	a = strtod(s, NULL);
	if (r->field_bad[FIELD_AZ] || !(a >= 0 && a <= 180))
		return -1;
	return a;
}

/*
 * The common part of the two images: the job, the cached volume and the
 * ribs; sends the error and returns -1 when any is missing.
 */
static int
cimage_begin(struct req *r, struct cjob *j, struct view_volume **vv,
    const struct cpr_ribs **rs, double *angle, double *wc, double *ww)
{
	long long	 job;
	int		 rc, preset;

	job = field_id(r, FIELD_JOB);
	if (job <= 0 || r->field_bad[FIELD_JOB]) {
		page_error(r, 404, MSG_NO_IMAGE);
		return -1;
	}
	if ((*angle = cangle(r)) < 0 || cwindow(r, wc, ww, &preset) == -1 ||
	    r->field_bad[FIELD_Z] || r->field_bad[FIELD_FMT]) {
		page_error(r, 400, MSG_BAD);
		return -1;
	}
	if ((rc = cjob_load(r, job, j)) <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ? MSG_NO_IMAGE :
		    MSG_DB);
		return -1;
	}
	if (j->result == 0 || strcmp(j->reader, "ct_rib_fracture") != 0) {
		page_error(r, 404, MSG_NO_IMAGE);
		return -1;
	}
	if ((rc = viewer_volume(r, j->series, vv)) <= 0) {
		page_error(r, rc == 0 ? 404 : rc == -1 ? 503 : 404,
		    rc == 0 ? MSG_NO_IMAGE : rc == -1 ? MSG_DB : MSG_NO_VOLUME);
		return -1;
	}
	if ((rc = cribs_get(j, *vv, rs)) <= 0) {
		page_error(r, 404, rc == 0 ? MSG_NO_LINES : rc == -1 ?
		    MSG_MISMATCH : MSG_INTERNAL);
		return -1;
	}
	return 0;
}

/* Window the values and send them as JPEG or PNG. */
static void
csend(struct req *r, const struct cjob *j, const float *img, int w, int h,
    double wc, double ww, int invert)
{
	struct buf	 out;
	unsigned char	*g;
	const char	*fmt = http_field(r, FIELD_FMT);
	int		 png = fmt != NULL && strcmp(fmt, "png") == 0, rc;

	if ((g = malloc((size_t)w * (size_t)h)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	view_window8(img, (size_t)w * (size_t)h, wc, ww, invert, g);
	buf_init(&out, CPR_IMAGE_MAX);
	rc = png ? preview_png_encode(g, w, h, &out) :
	    view_jpeg(g, w, h, CPR_JPEG_QUALITY, &out);
	free(g);
	if (rc == -1) {
		log_error("%s: job %lld: encoding %d x %d failed", __func__,
		    j->job, w, h);
		buf_free(&out);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)http_open(r, 200, png ? "image/png" : "image/jpeg");
	(void)http_write(r, out.data, out.len);
	buf_free(&out);
}

void
page_ai_cpr_rib(struct req *r)
{
	struct cjob		 j;
	struct view_volume	*vv;
	const struct cpr_ribs	*rs;
	const char		*s;
	float			*img;
	double			 angle, wc, ww;
	int			 k, w, h;

	if (cimage_begin(r, &j, &vv, &rs, &angle, &wc, &ww) == -1)
		return;
	s = http_field(r, FIELD_Z);
	k = s != NULL && *s != '\0' ? atoi(s) : 0;
	if (k < 0 || (size_t)k >= rs->n) {
		page_error(r, 404, MSG_NO_IMAGE);
		return;
	}
	cpr_image_size(&rs->r[k].path, CPR_HALF_RIB, &w, &h);
	if ((img = malloc((size_t)w * (size_t)h * sizeof(*img))) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	cpr_image(vv, &rs->r[k].path, angle, CPR_HALF_RIB, img);
	csend(r, &j, img, w, h, wc, ww, vv->invert);
	free(img);
}

void
page_ai_cpr_cage(struct req *r)
{
	struct cjob		 j;
	struct view_volume	*vv;
	const struct cpr_ribs	*rs;
	struct cpr_unfold	 g;
	float			*img;
	double			 angle, wc, ww;

	if (cimage_begin(r, &j, &vv, &rs, &angle, &wc, &ww) == -1)
		return;
	cpr_unfold_geom(rs, CPR_HALF_CAGE, &g);
	if ((img = malloc((size_t)g.w * (size_t)g.h * sizeof(*img))) ==
	    NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	cpr_unfold_image(vv, rs, &g, angle, img);
	csend(r, &j, img, g.w, g.h, wc, ww, vv->invert);
	free(img);
}

/* A figure with one decimal (arena). */
static const char *
fig1(struct req *r, double x)
{
	return arena_printf(r->a, "%.1f", round(x * 10) / 10);
}

/* The lesions of result (without those deleted for application app) onto
 * the ribs: rows of the page's table, markers of both images, and the
 * JSON the script draws them from. */
static int
clesions(struct req *r, struct tdict *d, long long app, long long result,
    const struct cpr_ribs *rs, const struct cpr_unfold *g, int k,
    json_t *jl, int *nf)
{
	PGresult	*res;
	struct tdict	*t;
	char		 sid[32], sapp[32];
	double		 q[3], s, dist, x, y, ux, uy;
	int		 i, n, rib, w, h;

	(void)snprintf(sid, sizeof(sid), "%lld", result);
	(void)snprintf(sapp, sizeof(sapp), "%lld", app);
	res = db_exec(r->db, "SELECT idx, slice, x0, y0, x1, y1, type,"
	    " location FROM ai_lesions l"
	    " WHERE result_id = $1::bigint AND NOT EXISTS (SELECT 1"
	    "  FROM ai_lesion_deletions x WHERE x.application_id = $2::bigint"
	    "  AND x.result_id = l.result_id AND x.idx = l.idx)"
	    " ORDER BY idx", 2, sid, sapp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		q[0] = (db_ll(res, i, 2) + db_ll(res, i, 4)) / 2.0;
		q[1] = (db_ll(res, i, 3) + db_ll(res, i, 5)) / 2.0;
		q[2] = (double)db_ll(res, i, 1);
		if ((rib = cpr_lesion_rib(rs, db_val(res, i, 7), q, &s,
		    &dist)) < 0)
			continue;
		nf[rib]++;
		cpr_image_size(&rs->r[rib].path, CPR_HALF_RIB, &w, &h);
		x = s / CPR_STEP_WEB + 0.5;
		y = (h - 1) / 2 + 0.5;
		cpr_unfold_point(rs, g, (size_t)rib, s, &ux, &uy);
		(void)json_array_append_new(jl, json_pack("{s:I, s:i, s:f,"
		    " s:f, s:f, s:f, s:f}", "idx", db_ll(res, i, 0), "rib", rib,
		    "s", round(s * 10) / 10, "x", x, "y", y, "ux", ux, "uy",
		    uy));
		if ((t = tdict_add(d, "lesions")) != NULL) {
			(void)tdict_set(t, "idx", db_val(res, i, 0));
			(void)tdict_set(t, "type", db_val(res, i, 6));
			(void)tdict_set(t, "location", db_val(res, i, 7));
			(void)tdict_setf(t, "rib", "%d", rib);
			(void)tdict_set(t, "rib_zh", rs->r[rib].zh);
			(void)tdict_set(t, "s", fig1(r, s));
			(void)tdict_set(t, "href", arena_printf(r->a,
			    "/ai/cpr?id=%lld&job=%s&z=%d", app,
			    http_field(r, FIELD_JOB), rib));
		}
		if ((t = tdict_add(d, "cage_marks")) != NULL) {
			(void)tdict_set(t, "idx", db_val(res, i, 0));
			(void)tdict_set(t, "x", fig1(r, ux));
			(void)tdict_set(t, "y", fig1(r, uy));
		}
		if (rib == k && (t = tdict_add(d, "rib_marks")) != NULL) {
			(void)tdict_set(t, "idx", db_val(res, i, 0));
			(void)tdict_set(t, "x", fig1(r, x));
			(void)tdict_set(t, "y", fig1(r, y));
		}
	}
	PQclear(res);
	(void)tdict_bool(d, "has_lesions", n > 0);
	return n;
}

/* The page's message instead of the images. */
static void
cmessage(struct tdict *d, const char *msg)
{
	(void)tdict_bool(d, "has_message", 1);
	(void)tdict_set(d, "message", msg);
}

void
page_ai_cpr(struct req *r)
{
	PGresult		*res;
	struct tdict		*d, *t;
	struct cjob		 j;
	struct view_volume	*vv;
	const struct cpr_ribs	*rs;
	struct cpr_unfold	 g;
	json_t			*info, *jr, *jl;
	const char		*s;
	char			 sapp[32], sjob[32], inst[32], *txt;
	double			 angle, wc, ww, lx, ly;
	long long		 app, job;
	int			 rc, k, i, w, h, preset, *nf;
	static const int	 wins[] = { WINDOW_BONE, WINDOW_MEDIASTINUM,
				    WINDOW_LUNG };

	app = field_id(r, FIELD_ID);
	job = field_id(r, FIELD_JOB);
	if (app == 0 || job == 0) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	if ((angle = cangle(r)) < 0 || cwindow(r, &wc, &ww, &preset) == -1 ||
	    r->field_bad[FIELD_Z]) {
		page_error(r, 400, MSG_BAD);
		return;
	}
	(void)snprintf(sapp, sizeof(sapp), "%lld", app);
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT" CJOB_COLUMNS ","
	    " a.diag_no, a.patient_name, a.patient_sex, a.patient_age,"
	    " coalesce(se.series_number::text, ''),"
	    " coalesce(se.description, '')"
	    " FROM applications a JOIN application_studies x"
	    " ON x.application_id = a.id"
	    " JOIN series se ON se.study_id = x.study_id"
	    " JOIN ai_jobs j ON j.series_id = se.id"
	    " LEFT JOIN ai_results res ON res.job_id = j.id"
	    " WHERE a.id = $1::bigint AND j.id = $2::bigint"
	    " AND application_visible(a, $3::bigint) LIMIT 1", 3, sapp, sjob,
	    inst);
	if (res == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	if (cjob_fill(r, res, &j) == -1 || (d = page_dict(r)) == NULL) {
		PQclear(res);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)tdict_set(d, "id", sapp);
	(void)tdict_set(d, "job", sjob);
	(void)tdict_set(d, "diag_no", db_val(res, 0, 10));
	(void)tdict_set(d, "patient_name", db_val(res, 0, 11));
	(void)tdict_set(d, "patient_sex", page_sex_zh(db_val(res, 0, 12)));
	(void)tdict_set(d, "patient_age", db_val(res, 0, 13));
	(void)tdict_set(d, "series_label", *db_val(res, 0, 15) != '\0' ?
	    arena_printf(r->a, "序列 %s %s", db_val(res, 0, 14),
	    db_val(res, 0, 15)) : arena_printf(r->a, "序列 %s",
	    db_val(res, 0, 14)));
	(void)tdict_set(d, "disclaimer", AI_DISCLAIMER);
	if (page_audit_read(r, "ai_result_viewed", "ai_job", job,
	    db_val(res, 0, 10)) == -1) {
		PQclear(res);
		page_error(r, 503, MSG_DB);
		return;
	}
	PQclear(res);
	/* The panels (report.css) and the window buttons (ai.css). */
	if ((t = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(t, "href", "/static/report.css");
	if ((t = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(t, "href", "/static/ai.css");
	if ((t = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(t, "href", "/static/cpr.css");
	if ((t = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(t, "src", "/static/cpr.js");
	if (strcmp(j.reader, "ct_rib_fracture") != 0) {
		cmessage(d, MSG_NOT_RIBS);
		page_render(r, 200, "cpr.html", d);
		return;
	}
	if (strcmp(j.state, "done") != 0 || j.result == 0) {
		cmessage(d, MSG_NOT_DONE);
		page_render(r, 200, "cpr.html", d);
		return;
	}
	if (strcmp(j.overlays, "{}") == 0 ||
	    strstr(j.overlays, "\"ribs\"") == NULL) {
		cmessage(d, MSG_NO_LINES);
		page_render(r, 200, "cpr.html", d);
		return;
	}
	if ((rc = viewer_volume(r, j.series, &vv)) <= 0) {
		if (rc == 0) {
			page_error(r, 404, MSG_NO_RESULT);
			return;
		}
		if (rc == -1) {
			page_error(r, 503, MSG_DB);
			return;
		}
		cmessage(d, MSG_NO_VOLUME);
		page_render(r, 200, "cpr.html", d);
		return;
	}
	if ((rc = cribs_get(&j, vv, &rs)) <= 0) {
		cmessage(d, rc == 0 ? MSG_NO_LINES : rc == -1 ? MSG_MISMATCH :
		    MSG_INTERNAL);
		page_render(r, 200, "cpr.html", d);
		return;
	}
	s = http_field(r, FIELD_Z);
	k = s != NULL && *s != '\0' ? atoi(s) : -1;
	if (k >= (int)rs->n)
		k = -1;
	cpr_unfold_geom(rs, CPR_HALF_CAGE, &g);
	if ((nf = arena_calloc(r->a, rs->n, sizeof(*nf))) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	info = json_object();
	jl = json_array();
	/* The lesions first: without a rib asked for, the first rib with a
	 * fracture is shown.  Their rib markers are drawn for rib k; the
	 * script moves them when the rib changes. */
	if (k < 0) {
		json_t	*tmp = json_array();

		if (clesions(r, tdict_new(r->a, NULL), app, j.result, rs, &g,
		    -1, tmp, nf) == -1) {
			json_decref(tmp);
			json_decref(info);
			json_decref(jl);
			page_error(r, 503, MSG_DB);
			return;
		}
		for (i = 0; i < (int)rs->n && nf[i] == 0; i++)
			;
		k = i < (int)rs->n ? i : 0;
		json_decref(tmp);
		memset(nf, 0, rs->n * sizeof(*nf));
	}
	if (clesions(r, d, app, j.result, rs, &g, k, jl, nf) == -1) {
		json_decref(info);
		json_decref(jl);
		page_error(r, 503, MSG_DB);
		return;
	}
	jr = json_array();
	for (i = 0; i < (int)rs->n; i++) {
		const struct cpr_rib	*b = &rs->r[i];

		cpr_image_size(&b->path, CPR_HALF_RIB, &w, &h);
		(void)json_array_append_new(jr, json_pack("{s:s, s:s, s:i,"
		    " s:i, s:f, s:i, s:i, s:i}", "zh", b->zh, "label", b->label,
		    "w", w, "h", h, "len", round(b->path.length * 10) / 10,
		    "nf", nf[i], "side", b->side, "row", b->row));
		if ((t = tdict_add(d, b->side == 1 ? "ribs_r" : "ribs_l")) ==
		    NULL)
			continue;
		(void)tdict_setf(t, "k", "%d", i);
		(void)tdict_set(t, "zh", b->zh);
		(void)tdict_set(t, "len", fig1(r, b->path.length));
		(void)tdict_setf(t, "nf", "%d", nf[i]);
		(void)tdict_bool(t, "has_frac", nf[i] > 0);
		(void)tdict_bool(t, "on", i == k);
		(void)tdict_set(t, "href", arena_printf(r->a,
		    "/ai/cpr?id=%lld&job=%lld&z=%d&az=%g&window=%s", app, job,
		    i, angle, preview_windows[preset].name));
		/* Its label on the unfolded cage, at the image's edge. */
		cpr_unfold_point(rs, &g, (size_t)i, 0, &lx, &ly);
		if ((t = tdict_add(d, "cage_labels")) != NULL) {
			(void)tdict_set(t, "zh", b->zh);
			(void)tdict_set(t, "x", b->side == 1 ? "4" :
			    arena_printf(r->a, "%d", g.w - 4));
			(void)tdict_set(t, "y", fig1(r, ly));
			(void)tdict_set(t, "anchor", b->side == 1 ? "start" :
			    "end");
			(void)tdict_set(t, "cls", b->side == 1 ? "rib-r" :
			    "rib-l");
		}
	}
	(void)json_object_set_new(info, "ribs", jr);
	(void)json_object_set_new(info, "lesions", jl);
	(void)json_object_set_new(info, "job", json_integer(job));
	(void)json_object_set_new(info, "app", json_integer(app));
	(void)json_object_set_new(info, "k", json_integer(k));
	(void)json_object_set_new(info, "angle", json_real(angle));
	(void)json_object_set_new(info, "window", json_string(
	    preview_windows[preset].name));
	(void)json_object_set_new(info, "step", json_real(CPR_STEP_WEB));
	(void)json_object_set_new(info, "cage", json_pack("{s:i, s:i, s:i,"
	    " s:i, s:i}", "w", g.w, "h", g.h, "row_h", g.row_h, "side_w",
	    g.side_w, "gap", g.gap));
	txt = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	if (txt == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)tdict_set(d, "info", txt);
	free(txt);
	(void)tdict_bool(d, "has_ribs", 1);
	(void)tdict_bool(d, "uncertain", rs->uncertain);
	(void)tdict_set(d, "rib_zh", rs->r[k].zh);
	(void)tdict_set(d, "rib_len", fig1(r, rs->r[k].path.length));
	(void)tdict_setf(d, "k", "%d", k);
	(void)tdict_setf(d, "angle", "%g", angle);
	(void)tdict_set(d, "window", preview_windows[preset].name);
	cpr_image_size(&rs->r[k].path, CPR_HALF_RIB, &w, &h);
	(void)tdict_setf(d, "rib_w", "%d", w);
	(void)tdict_setf(d, "rib_h", "%d", h);
	(void)tdict_setf(d, "rib_mid", "%.1f", (h - 1) / 2 + 0.5);
	(void)tdict_set(d, "rib_src", arena_printf(r->a,
	    "/ai/cpr/rib?job=%lld&z=%d&az=%g&window=%s", job, k, angle,
	    preview_windows[preset].name));
	(void)tdict_setf(d, "cage_w", "%d", g.w);
	(void)tdict_setf(d, "cage_h", "%d", g.h);
	(void)tdict_set(d, "cage_src", arena_printf(r->a,
	    "/ai/cpr/cage?job=%lld&az=%g&window=%s", job, angle,
	    preview_windows[preset].name));
	for (i = 0; i < (int)(sizeof(wins) / sizeof(wins[0])); i++) {
		if ((t = tdict_add(d, "windows")) == NULL)
			break;
		(void)tdict_set(t, "name", preview_windows[wins[i]].name);
		(void)tdict_set(t, "zh", preview_windows[wins[i]].zh);
		(void)tdict_bool(t, "on", wins[i] == preset);
		(void)tdict_set(t, "href", arena_printf(r->a,
		    "/ai/cpr?id=%lld&job=%lld&z=%d&az=%g&window=%s", app, job,
		    k, angle, preview_windows[wins[i]].name));
	}
	page_render(r, 200, "cpr.html", d);
}

/*
 * The viewer's links to 肋骨拉直/展开 (page_viewer()): for a doctor, one a
 * series of application app with a finished rib fracture result, as
 * zv_cpr (href, series_id, number) and zv_has_cpr.  Returns 0, or -1 on
 * database trouble.
 */
int
cpr_viewer_links(struct req *r, long long app, struct tdict *d)
{
	PGresult	*res;
	struct tdict	*t;
	char		 sapp[32];
	int		 i, n;

	if (!(r->sess.acct.roles & ROLE_BIT(ROLE_DOCTOR)))
		return 0;
	(void)snprintf(sapp, sizeof(sapp), "%lld", app);
	/* The caller has checked that the user may see the application. */
	res = db_exec(r->db, "SELECT max(j.id), se.id,"
	    " coalesce(se.series_number::text, '')"
	    " FROM application_studies x JOIN series se"
	    " ON se.study_id = x.study_id JOIN ai_jobs j ON j.series_id = se.id"
	    " WHERE x.application_id = $1::bigint"
	    " AND j.reader = 'ct_rib_fracture' AND j.state = 'done'"
	    " GROUP BY se.id, se.series_number ORDER BY se.series_number, se.id",
	    1, sapp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if ((t = tdict_add(d, "zv_cpr")) == NULL)
			break;
		(void)tdict_set(t, "href", arena_printf(r->a,
		    "/ai/cpr?id=%lld&job=%s", app, db_val(res, i, 0)));
		(void)tdict_set(t, "series_id", db_val(res, i, 1));
		(void)tdict_set(t, "number", db_val(res, i, 2));
	}
	PQclear(res);
	(void)tdict_bool(d, "zv_has_cpr", n > 0);
	return 0;
}
