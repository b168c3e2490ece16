/*
 * ai.c - the “粤医智影” pages of the AI results (AI辅助功能页面), reached
 * from the AI row of 写报告: one reader's result on one series, in the
 * image viewer (viewer.c) with the lesion boxes and labels over its
 * slices (and, for the page without scripts, one still slice of the
 * volume it was computed on, /ai/slice), the lesion table, the summary
 * figures and the generated text; and
 * 上传影像结论, which takes that text into the report draft through the
 * workflow library, as the 保存 of 写报告 does.
 *
 * Access: a job is shown only together with an application the user's
 * institution may see (application_visible(), as on 写报告) whose linked
 * studies hold the job's series; /ai/slice follows the rule of
 * /series/preview.  Anything else answers 404, so that ids reveal nothing.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "pages.h"
#include "preview.h"
#include "workflow.h"

#define MSG_DB		"系统暂时不可用，请稍后重试"
#define MSG_INTERNAL	"系统内部错误"
#define MSG_NO_RESULT	"AI阅片结果不存在或无权查看"
#define AI_DISCLAIMER	"人工智能辅助阅片结果仅供参考，不得直接用于诊疗。"
#define AI_SLICE_EDGE	1024	/* longest edge of a served slice, pixels */
#define AI_MAX_COLS	16	/* measurement columns of the lesion table */
#define AI_HIST_BINS	1000	/* most bins of a histogram drawn */
#define FINDINGS_MAX	20000	/* characters: the editor's limits */
#define CONCLUSION_MAX	5000

/* The window a reader's slices open in, when no key image says. */
static const enum window_preset reader_window[READER__MAX] = {
	[READER_CT_LUNG_NODULE] =	WINDOW_LUNG,
	[READER_CT_PNEUMONIA] =		WINDOW_LUNG,
	[READER_CT_RIB_FRACTURE] =	WINDOW_BONE,
	[READER_DR_TUBERCULOSIS] =	WINDOW_AUTO,
	[READER_DR_LIMB_FRACTURE] =	WINDOW_AUTO,
	[READER_CT_BONE_DENSITY] =	WINDOW_BONE,
	[READER_CT_CORONARY_CALCIUM] =	WINDOW_MEDIASTINUM,
};

/* The window buttons of a CT, in the order the manual names them. */
static const enum window_preset ct_windows[] = {
	WINDOW_MEDIASTINUM, WINDOW_LUNG, WINDOW_BONE, WINDOW_AUTO,
};

/*
 * The orders of the lesion table besides the reader's own (?sort=WORD):
 * by a measurement, largest first, offered when a lesion has it (the lung
 * nodule reader's 体积 and 恶性概率, as the manual asks), and by slice and
 * position for every reader.
 */
static const struct {
	const char	*word;
	const char	*zh;
	const char	*measure;	/* NULL: by slice, then y, then x;
					 * "": by the rib's place */
} lesion_orders[] = {
	{ "volume",	"按体积",	"体积" },
	{ "malignancy",	"按恶性概率",	"恶性概率" },
	{ "slice",	"按层面",	NULL },
	{ "position",	"按部位",	"" },
};
#define NORDERS	(sizeof(lesion_orders) / sizeof(lesion_orders[0]))

/* An application as the pages of this file need it. */
struct ai_app {
	long long	 id;
	int		 state;		/* enum app_state, or -1 */
	enum app_mode	 mode;
	long long	 locked_by;
	long long	 applicant_inst, target_inst, assist_inst;
	const char	*diag_no, *patient_name, *patient_sex, *patient_age;
	const char	*holder;	/* who holds the lock, or "" */
};

struct ai_job;
static void	 ai_bmd_block(struct req *, struct tdict *, long long,
		    const struct ai_job *);

/* A job with its result, when there is one. */
struct ai_job {
	long long	 id;
	long long	 result;	/* ai_results.id, 0: none */
	long long	 series;	/* the series it read */
	const char	*state, *reader, *error;
	const char	*label, *modality;
	const char	*summary, *key_images;	/* JSON text */
	const char	*findings, *conclusion, *method, *finished_at;
	const char	*stamp;		/* the result's revision */
	const char	*hists;		/* JSON text */
	const char	*extra;		/* the reader's own figures, JSON */
	const char	*overlays;	/* JSON text (sql/033) */
	const char	*sort;		/* the lesions' order: "", "volume", ... */
	int		 n;		/* slices of the result's volume */
	int		 nx, ny;	/* its size in voxels */
};

struct ai_lesion {
	int		 idx, slice, x0, y0, x1, y1;
	double		 confidence;
	const char	*type, *location, *findings, *conclusion;
	json_t		*meas;		/* [{name, value, unit}] or NULL */
};

/* The lesions the doctor checked, as posted. */
struct ai_pick {
	int		 posted;	/* 0: a GET, everything checked */
	int		*idx;
	size_t		 n;
};

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

/* "序列 2 CHEST", or "序列 2" without a description (arena). */
static const char *
series_label(struct req *r, const char *number, const char *description)
{
	if (text_blank(description))
		return arena_printf(r->a, "序列 %s", number);
	return arena_printf(r->a, "序列 %s %s", number, description);
}

/* Whether the user writes the report of ap (page_is_reader()). */
static int
ai_app_reader(const struct req *r, const struct ai_app *ap)
{
	return page_is_reader(r, ap->mode, ap->applicant_inst,
	    ap->target_inst, ap->assist_inst);
}

/*
 * Application id as the user's institution sees it.  Returns 1, 0 when
 * there is no such application for this user, or -1 on database trouble.
 */
static int
ai_app_load(struct req *r, long long id, struct ai_app *ap)
{
	PGresult	*res;
	char		 sid[32], inst[32];

	memset(ap, 0, sizeof(*ap));
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(inst, sizeof(inst), "%lld", r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT a.id, a.state, a.mode,"
	    " coalesce(a.locked_by, 0), a.applicant_institution_id,"
	    " coalesce(a.target_institution_id, 0),"
	    " CASE WHEN a.assist THEN a.assist_institution_id ELSE 0 END,"
	    " a.diag_no, a.patient_name, a.patient_sex, a.patient_age,"
	    " coalesce(u.display_name, '')"
	    " FROM applications a LEFT JOIN users u ON u.id = a.locked_by"
	    " WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)",
	    2, sid, inst);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	ap->id = db_ll(res, 0, 0);
	ap->state = wf_state_parse(db_val(res, 0, 1));
	ap->mode = strcmp(db_val(res, 0, 2), "superior") == 0 ?
	    MODE_SUPERIOR : MODE_SELF;
	ap->locked_by = db_ll(res, 0, 3);
	ap->applicant_inst = db_ll(res, 0, 4);
	ap->target_inst = db_ll(res, 0, 5);
	ap->assist_inst = db_ll(res, 0, 6);
	ap->diag_no = arena_strdup(r->a, db_val(res, 0, 7));
	ap->patient_name = arena_strdup(r->a, db_val(res, 0, 8));
	ap->patient_sex = page_sex_zh(db_val(res, 0, 9));
	ap->patient_age = arena_strdup(r->a, db_val(res, 0, 10));
	ap->holder = arena_strdup(r->a, db_val(res, 0, 11));
	PQclear(res);
	if (ap->diag_no == NULL || ap->patient_name == NULL ||
	    ap->patient_age == NULL || ap->holder == NULL)
		return -1;
	return 1;
}

/*
 * Job `job` with its result, when its series belongs to a study linked to
 * application app (whose visibility the caller has checked).  The
 * reader's own figures and the overlays (the ribs' centre lines: some
 * 100 KB) only when figures; "{}" otherwise.  Returns 1, 0 when there is
 * no such job of that application, or -1.
 */
static int
ai_job_load(struct req *r, long long app, long long job, int figures,
    struct ai_job *jb)
{
	PGresult	*res;
	const char	**s[] = { &jb->state, &jb->reader, &jb->error,
			    &jb->modality, &jb->summary, &jb->key_images,
			    &jb->findings, &jb->conclusion, &jb->method,
			    &jb->finished_at, &jb->stamp, &jb->hists,
			    &jb->extra, &jb->overlays };
	const int	 col[] = { 1, 2, 3, 6, 8, 9, 10, 11, 12, 16, 17, 18,
			    19, 20 };
	char		 sapp[32], sjob[32];
	size_t		 i;

	memset(jb, 0, sizeof(*jb));
	jb->sort = "";
	(void)snprintf(sapp, sizeof(sapp), "%lld", app);
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	res = db_exec(r->db, "SELECT j.id, j.state, j.reader, j.error,"
	    " coalesce(se.series_number::text, ''), se.description,"
	    " se.modality, coalesce(res.id, 0),"
	    " coalesce(res.summary::text, '[]'),"
	    " coalesce(res.key_images::text, '[]'),"
	    " coalesce(res.findings_text, ''),"
	    " coalesce(res.conclusion_text, ''), coalesce(res.method, ''),"
	    " coalesce(cardinality(res.slice_uids), 0),"
	    " coalesce(nullif(res.nx, 0), se.cols, 0),"
	    " coalesce(nullif(res.ny, 0), se.rows, 0),"
	    " coalesce(to_char(CASE WHEN j.state = 'done'"
	    "  THEN coalesce(j.finished_at, res.updated_at)"
	    "  WHEN j.state IN ('failed', 'dead') THEN j.finished_at END,"
	    "  'YYYY-MM-DD HH24:MI'), ''),"
	    " coalesce((extract(epoch FROM res.updated_at) * 1000000)"
	    "  ::bigint::text, '0'),"
	    " coalesce(res.histograms::text, '[]'),"
	    " CASE WHEN $3::boolean THEN coalesce(res.extra::text, '{}')"
	    "  ELSE '{}' END,"
	    " CASE WHEN $3::boolean THEN coalesce(res.overlays::text, '{}')"
	    "  ELSE '{}' END, se.id"
	    " FROM ai_jobs j JOIN series se ON se.id = j.series_id"
	    " LEFT JOIN ai_results res ON res.job_id = j.id"
	    " WHERE j.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies x WHERE x.application_id = $2::bigint"
	    "  AND x.study_id = se.study_id)", 3, sjob, sapp,
	    figures ? "true" : "false");
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	jb->id = db_ll(res, 0, 0);
	jb->result = db_ll(res, 0, 7);
	jb->n = (int)db_ll(res, 0, 13);
	jb->nx = (int)db_ll(res, 0, 14);
	jb->ny = (int)db_ll(res, 0, 15);
	jb->series = db_ll(res, 0, 21);
	jb->label = series_label(r, db_val(res, 0, 4), db_val(res, 0, 5));
	for (i = 0; i < sizeof(col) / sizeof(col[0]); i++)
		if ((*s[i] = arena_strdup(r->a, db_val(res, 0, col[i]))) == NULL)
			jb->label = NULL;
	PQclear(res);
	return jb->label != NULL ? 1 : -1;
}

static void
ai_lesions_free(struct ai_lesion *l, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		json_decref(l[i].meas);
}

/*
 * The lesions of result, by number, into *out (arena; the caller calls
 * ai_lesions_free()).  Returns their number, or -1.
 */
static int
ai_lesions_load(struct req *r, long long app, long long result,
    struct ai_lesion **out)
{
	PGresult		*res;
	struct ai_lesion	*l;
	char			 sid[32], sapp[32];
	int			 i, n;

	*out = NULL;
	(void)snprintf(sid, sizeof(sid), "%lld", result);
	(void)snprintf(sapp, sizeof(sapp), "%lld", app);
	/* Without the boxes deleted for this application (删除病灶序号框):
	 * not shown, not drawn, not uploaded. */
	res = db_exec(r->db, "SELECT idx, slice, x0, y0, x1, y1, confidence,"
	    " type, location, findings_text, conclusion_text,"
	    " measurements::text FROM ai_lesions l"
	    " WHERE result_id = $1::bigint AND NOT EXISTS (SELECT 1"
	    "  FROM ai_lesion_deletions x WHERE x.application_id = $2::bigint"
	    "  AND x.result_id = l.result_id AND x.idx = l.idx)"
	    " ORDER BY idx", 2, sid, sapp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	if ((l = arena_calloc(r->a, (size_t)n + 1, sizeof(*l))) == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < n; i++) {
		l[i].idx = (int)db_ll(res, i, 0);
		l[i].slice = (int)db_ll(res, i, 1);
		l[i].x0 = (int)db_ll(res, i, 2);
		l[i].y0 = (int)db_ll(res, i, 3);
		l[i].x1 = (int)db_ll(res, i, 4);
		l[i].y1 = (int)db_ll(res, i, 5);
		l[i].confidence = strtod(db_val(res, i, 6), NULL);
		l[i].type = arena_strdup(r->a, db_val(res, i, 7));
		l[i].location = arena_strdup(r->a, db_val(res, i, 8));
		l[i].findings = arena_strdup(r->a, db_val(res, i, 9));
		l[i].conclusion = arena_strdup(r->a, db_val(res, i, 10));
		l[i].meas = json_loads(db_val(res, i, 11), 0, NULL);
		if (l[i].meas != NULL && !json_is_array(l[i].meas)) {
			json_decref(l[i].meas);
			l[i].meas = NULL;
		}
		if (l[i].type == NULL || l[i].location == NULL ||
		    l[i].findings == NULL || l[i].conclusion == NULL) {
			ai_lesions_free(l, i + 1);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	*out = l;
	return n;
}

/* A figure as a doctor reads it: one decimal, two under 1, none when
 * whole ("178.2", "0.72", "1458"). */
static const char *
num_text(struct req *r, double x)
{
	double	 a = fabs(x), k = a < 1.0 ? 100.0 : 10.0;
	double	 q = round(x * k) / k;
	char	*t, *e;

	if (fabs(q - round(q)) < 1e-9)
		return arena_printf(r->a, "%.0f", q);
	t = arena_printf(r->a, a < 1.0 ? "%.2f" : "%.1f", q);
	/* No trailing zeros: "0.5", not "0.50". */
	if (t != NULL && strchr(t, '.') != NULL) {
		e = t + strlen(t);
		while (e > t && e[-1] == '0')
			*--e = '\0';
	}
	return t;
}

/* A JSON value as shown in a cell: numbers without noise, strings as
 * they are, "—" for anything else. */
static const char *
json_text(struct req *r, const json_t *v)
{
	if (json_is_integer(v))
		return arena_printf(r->a, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return num_text(r, json_real_value(v));
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "是";
	if (json_is_false(v))
		return "否";
	return "—";
}

/* A member of a JSON object as text, or "" when it is absent. */
static const char *
json_member(struct req *r, const json_t *o, const char *key)
{
	const json_t	*v;

	if ((v = json_object_get(o, key)) == NULL || json_is_null(v))
		return "";
	return json_text(r, v);
}

/* How a job's state reads on 写报告 and here: the word, a CSS class and,
 * when it did not complete, why. */
static const char *
job_error_zh(struct req *r, const char *err)
{
	static const struct {
		const char	*en, *zh;
	} known[] = {
		{ READER_UNDEPLOYED, "该AI应用尚未在本系统部署" },
		{ "worker lost", "分析进程中断，已多次重试" },
		{ "not in the store", "影像文件缺失" },
	};
	size_t	 i;

	if (*err == '\0')
		return "";
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(err, known[i].en) != NULL)
			return arena_printf(r->a, "%s（%s）", known[i].zh, err);
	return arena_printf(r->a, "分析出错（%s）", err);
}

static void
job_state_zh(struct req *r, const char *state, const char *error,
    const char **zh, const char **cls, const char **note)
{
	*note = "";
	if (strcmp(state, "queued") == 0) {
		*zh = "排队";
		*cls = "queued";
	} else if (strcmp(state, "running") == 0) {
		*zh = "分析中";
		*cls = "running";
	} else if (strcmp(state, "done") == 0) {
		*zh = "完成";
		*cls = "done";
	} else if (strstr(error, READER_UNDEPLOYED) != NULL) {
		/* Matched and queued, but this reader is not deployed: not
		 * a failure of the analysis. */
		*zh = "未部署";
		*cls = "undeployed";
		*note = "该AI应用尚未在本系统部署";
	} else if (strcmp(state, "failed") == 0) {
		/* The reader refused the series: its reason, in Chinese. */
		*zh = "不适用";
		*cls = "failed";
		*note = error;
	} else {
		/* dead: it could not be analysed. */
		*zh = "失败";
		*cls = "failed";
		*note = job_error_zh(r, error);
	}
}

int
ai_cards(struct req *r, long long id, struct ai_card **out)
{
	PGresult	*res;
	struct ai_card	*c;
	const char	*label;
	char		 sid[32];
	int		 i, n, k = 0;

	*out = NULL;
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT se.id, coalesce(se.series_number::text,"
	    " ''), se.description, se.match_summary, se.matched_at IS NOT NULL,"
	    " coalesce(j.id::text, ''), coalesce(j.reader, ''),"
	    " coalesce(j.state, ''), coalesce(j.error, '')"
	    " FROM application_studies x JOIN studies st ON st.id = x.study_id"
	    " JOIN series se ON se.study_id = st.id"
	    " LEFT JOIN ai_jobs j ON j.series_id = se.id"
	    " WHERE x.application_id = $1::bigint"
	    " ORDER BY st.study_date, st.id, se.series_number NULLS LAST, se.id,"
	    " j.id", 1, sid);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	if ((c = arena_calloc(r->a, (size_t)n + 1, sizeof(*c))) == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < n; i++) {
		label = series_label(r, db_val(res, i, 1), db_val(res, i, 2));
		c[k].job = "";
		c[k].series = label != NULL ? label : "";
		c[k].note = "";
		c[k].href = "";
		if (*db_val(res, i, 5) != '\0') {
			c[k].job = arena_strdup(r->a, db_val(res, i, 5));
			c[k].reader = arena_strdup(r->a,
			    reader_name_zh(db_val(res, i, 6)));
			job_state_zh(r, db_val(res, i, 7), db_val(res, i, 8),
			    &c[k].state, &c[k].cls, &c[k].note);
			if (strcmp(db_val(res, i, 7), "done") == 0)
				c[k].href = arena_printf(r->a,
				    "/ai/result?id=%lld&job=%s", id,
				    db_val(res, i, 5));
		} else if (*db_val(res, i, 3) != '\0') {
			c[k].reader = "无适用的AI阅片算法";
			c[k].state = "不适用";
			c[k].cls = "nomatch";
			c[k].note = arena_strdup(r->a, db_val(res, i, 3));
		} else if (!db_bool(res, i, 4)) {
			c[k].reader = "AI阅片";
			c[k].state = "等待匹配";
			c[k].cls = "queued";
		} else
			continue;
		if (c[k].job == NULL || c[k].reader == NULL ||
		    c[k].note == NULL || c[k].href == NULL) {
			PQclear(res);
			return -1;
		}
		k++;
	}
	PQclear(res);
	*out = c;
	return k;
}

/*
 * GET /ai/jobs?id=N: the AI row of 写报告 as JSON, {"cards": [{job,
 * reader, series, state, cls, note, href}]}, for report.js to follow
 * queued and running jobs.  404 for an application the user may not see.
 */
void
page_ai_jobs(struct req *r)
{
	struct ai_app	 ap;
	struct ai_card	*c;
	json_t		*o, *a, *x;
	char		*s;
	long long	 id;
	int		 i, n;

	if ((id = field_id(r, FIELD_ID)) == 0 ||
	    (n = ai_app_load(r, id, &ap)) == 0) {
		(void)http_open(r, 404, "application/json; charset=utf-8");
		(void)http_puts(r, "{\"cards\":[]}");
		return;
	}
	if (n < 0 || (n = ai_cards(r, id, &c)) < 0) {
		(void)http_open(r, 503, "application/json; charset=utf-8");
		(void)http_puts(r, "{\"cards\":[]}");
		return;
	}
	o = json_object();
	a = json_array();
	for (i = 0; i < n && a != NULL; i++) {
		x = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "job", c[i].job, "reader", c[i].reader, "series",
		    c[i].series, "state", c[i].state, "cls", c[i].cls, "note",
		    c[i].note, "href", c[i].href);
		if (x == NULL || json_array_append_new(a, x) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	s = NULL;
	if (o != NULL && a != NULL && json_object_set_new(o, "cards", a) == 0)
		s = json_dumps(o, JSON_COMPACT);
	else
		json_decref(a);
	json_decref(o);
	if (s == NULL) {
		(void)http_open(r, 500, "application/json; charset=utf-8");
		(void)http_puts(r, "{\"cards\":[]}");
		return;
	}
	(void)http_open(r, 200, "application/json; charset=utf-8");
	(void)http_puts(r, s);
	free(s);
}

/* The window preset nearest to a key image's window (center, width). */
static enum window_preset
window_nearest(double c, double w)
{
	enum window_preset	 best = WINDOW_AUTO;
	double			 d, bd = INFINITY;
	int			 i;

	for (i = 0; i < WINDOW__MAX; i++) {
		if (i == WINDOW_AUTO)
			continue;
		d = fabs(c - preview_windows[i].center) +
		    fabs(w - preview_windows[i].width) / 2;
		if (d < bd) {
			bd = d;
			best = (enum window_preset)i;
		}
	}
	return best;
}

/* The page at slice z in window w, the lesions in the order shown. */
static const char *
ai_href(struct req *r, long long id, const struct ai_job *jb, int z, int w)
{
	return arena_printf(r->a, "/ai/result?id=%lld&job=%lld&z=%d&window=%s"
	    "%s%s", id, jb->id, z, preview_windows[w].name,
	    *jb->sort != '\0' ? "&sort=" : "", jb->sort);
}

/* Percent of n, for the boxes over the slice. */
static const char *
pct(struct req *r, double v, int n)
{
	return arena_printf(r->a, "%.4f", n > 0 ? 100.0 * v / n : 0.0);
}

static int
picked(const struct ai_pick *p, int idx)
{
	size_t	 i;

	if (p == NULL || !p->posted)
		return 1;
	for (i = 0; i < p->n; i++)
		if (p->idx[i] == idx)
			return 1;
	return 0;
}

/* The first key image within the volume: its slice into *key (or -1)
 * and the window preset nearest to its window into *kw (or -1). */
static void
ai_key_pick(const struct ai_job *jb, int *key, int *kw)
{
	json_t		*a, *o, *s, *c, *w;
	size_t		 i;

	*key = -1;
	*kw = -1;
	if ((a = json_loads(jb->key_images, 0, NULL)) == NULL)
		return;
	json_array_foreach(a, i, o) {
		if (!json_is_integer(s = json_object_get(o, "slice")) ||
		    json_integer_value(s) < 0 ||
		    json_integer_value(s) >= jb->n)
			continue;
		*key = (int)json_integer_value(s);
		c = json_object_get(o, "window_center");
		w = json_object_get(o, "window_width");
		if (json_is_number(c) && json_is_number(w))
			*kw = window_nearest(json_number_value(c),
			    json_number_value(w));
		break;
	}
	json_decref(a);
}

/* The summary figures and the 关键影像 of a result into d, the links to
 * the key images in window w. */
static void
ai_figures(struct req *r, struct tdict *d, const struct ai_job *jb,
    long long id, int w)
{
	struct tdict	*x;
	json_t		*a, *o, *s;
	size_t		 i;
	int		 z;

	/* Figures named after a lobe (右肺上叶受累比例, 右肺上叶评分, as the
	 * pneumonia reader gives them) go into a table of the five lobes,
	 * one column per figure; the others into the list. */
	static const char *const lobes[] = { "右肺上叶", "右肺中叶",
	    "右肺下叶", "左肺上叶", "左肺下叶" };
#define NLOBES	(sizeof(lobes) / sizeof(lobes[0]))
#define LOBE_COLS 6
	const char	*col[LOBE_COLS], *colu[LOBE_COLS];
	const char	*cell[NLOBES][LOBE_COLS];
	size_t		 ncol = 0, l, c;

	memset(cell, 0, sizeof(cell));
	if ((a = json_loads(jb->summary, 0, NULL)) != NULL)
		json_array_foreach(a, i, o) {
			const char	*nm;

			if (!json_is_object(o))
				continue;
			nm = json_member(r, o, "name");
			for (l = 0; l < NLOBES; l++)
				if (strncmp(nm, lobes[l], strlen(lobes[l])) ==
				    0 && nm[strlen(lobes[l])] != '\0')
					break;
			if (l < NLOBES) {
				nm += strlen(lobes[l]);
				for (c = 0; c < ncol && strcmp(col[c], nm) != 0;
				    c++)
					;
				if (c == ncol && ncol < LOBE_COLS) {
					col[ncol] = nm;
					colu[ncol++] = json_member(r, o,
					    "unit");
				}
				if (c < ncol) {
					cell[l][c] = json_member(r, o, "value");
					continue;
				}
			}
			if ((x = tdict_add(d, "summary")) == NULL)
				continue;
			(void)tdict_set(x, "name", json_member(r, o, "name"));
			(void)tdict_set(x, "value", json_member(r, o, "value"));
			(void)tdict_set(x, "unit", json_member(r, o, "unit"));
			(void)tdict_bool(d, "has_summary", 1);
		}
	/* (col, colu and cell point into a: it goes after the table) */
	for (c = 0; c < ncol; c++) {
		if ((x = tdict_add(d, "lobe_cols")) == NULL)
			continue;
		if (*colu[c] != '\0')
			(void)tdict_setf(x, "name", "%s（%s）", col[c],
			    colu[c]);
		else
			(void)tdict_set(x, "name", col[c]);
		(void)tdict_bool(d, "has_lobes", 1);
	}
	for (l = 0; ncol > 0 && l < NLOBES; l++) {
		struct tdict	*row, *y;

		if ((row = tdict_add(d, "lobe_rows")) == NULL)
			continue;
		(void)tdict_set(row, "name", lobes[l]);
		for (c = 0; c < ncol; c++)
			if ((y = tdict_add(row, "cells")) != NULL)
				(void)tdict_set(y, "text", cell[l][c] != NULL ?
				    cell[l][c] : "");
	}
	json_decref(a);
#undef NLOBES
#undef LOBE_COLS
	if ((a = json_loads(jb->key_images, 0, NULL)) != NULL)
		json_array_foreach(a, i, o) {
			if (!json_is_integer(s = json_object_get(o, "slice")) ||
			    json_integer_value(s) < 0 ||
			    json_integer_value(s) >= jb->n ||
			    (x = tdict_add(d, "keys")) == NULL)
				continue;
			z = (int)json_integer_value(s);
			(void)tdict_setf(x, "slice", "%d", z);
			(void)tdict_setf(x, "k", "%d", z + 1);
			(void)tdict_set(x, "caption", json_member(r, o,
			    "caption"));
			(void)tdict_set(x, "goto", ai_href(r, id, jb, z, w));
			(void)tdict_bool(d, "has_keys", 1);
		}
	json_decref(a);
}

/* The numeric value of measurement name of lesion l into *v; 1, or 0
 * when it has none. */
static int
lesion_measure(const struct ai_lesion *l, const char *name, double *v)
{
	const json_t	*o, *x;
	const char	*n;
	size_t		 i;

	json_array_foreach(l->meas, i, o) {
		n = json_string_value(json_object_get(o, "name"));
		x = json_object_get(o, "value");
		if (n != NULL && strcmp(n, name) == 0 && json_is_number(x)) {
			*v = json_number_value(x);
			return isfinite(*v);
		}
	}
	return 0;
}

/*
 * The rank of a rib's place ("右第5肋腋段", the rib fracture reader's
 * 病灶位置) in the order the manual asks for: right before left, by the
 * rib's number, posterior, axillary, anterior segment (后段, 腋段, 前段);
 * -1 when the location is not such a place.
 */
static int
rib_place_rank(const char *loc)
{
	static const char *const seg[] = { "后段", "腋段", "前段" };
	const char	*p;
	char		*e;
	long		 num;
	int		 side, k;

	if (strncmp(loc, "右第", strlen("右第")) == 0)
		side = 0;
	else if (strncmp(loc, "左第", strlen("左第")) == 0)
		side = 1;
	else
		return -1;
	p = loc + strlen("右第");
	num = strtol(p, &e, 10);
	if (e == p || num < 1 || num > 12 ||
	    strncmp(e, "肋", strlen("肋")) != 0)
		return -1;
	e += strlen("肋");
	for (k = 0; k < 3 && strcmp(e, seg[k]) != 0; k++)
		;
	if (k == 3)
		return -1;
	return side * 100 + (int)num * 4 + k;
}

/* Whether lesion a comes before lesion b in order k of lesion_orders:
 * largest first, the lesions without the measurement last; by slice,
 * then from the top of the image, then from the left; ties in the
 * reader's order. */
static int
lesion_before(const struct ai_lesion *a, const struct ai_lesion *b, size_t k)
{
	const char	*m = lesion_orders[k].measure;
	double		 va = 0, vb = 0;
	int		 ha, hb;

	if (m != NULL && *m == '\0') {
		ha = rib_place_rank(a->location);
		hb = rib_place_rank(b->location);
		if ((ha < 0) != (hb < 0))
			return ha >= 0;
		if (ha != hb)
			return ha < hb;
		if (a->slice != b->slice)
			return a->slice < b->slice;
	} else if (m != NULL) {
		ha = lesion_measure(a, m, &va);
		hb = lesion_measure(b, m, &vb);
		if (ha != hb)
			return ha;
		if (ha && va != vb)
			return va > vb;
	} else {
		if (a->slice != b->slice)
			return a->slice < b->slice;
		if (a->y0 != b->y0)
			return a->y0 < b->y0;
		if (a->x0 != b->x0)
			return a->x0 < b->x0;
	}
	return a->idx < b->idx;
}

/*
 * The order asked for (?sort=, or the upload form's sort), when the
 * lesions can be put in it, applied to l; its word into jb->sort ("" for
 * the reader's order) and the links to the orders into d.  The lists'
 * validator of the field knows other words (time, name, diag), so the
 * field as sent is matched here against this page's own.
 */
static void
ai_sort(struct req *r, struct tdict *d, long long id, struct ai_job *jb,
    struct ai_lesion *l, int n, int z, int w)
{
	struct tdict		*x;
	struct ai_lesion	 t;
	const char		*s = r->fields[FIELD_SORT];
	const char		*saved;
	size_t			 k, pick = NORDERS;
	int			 i, j, can[NORDERS];
	double			 v;

	for (k = 0; k < NORDERS; k++) {
		can[k] = lesion_orders[k].measure == NULL;
		for (i = 0; i < n && !can[k]; i++)
			can[k] = *lesion_orders[k].measure == '\0' ?
			    rib_place_rank(l[i].location) >= 0 :
			    lesion_measure(&l[i], lesion_orders[k].measure,
			    &v);
		if (can[k] && s != NULL && strcmp(s, lesion_orders[k].word) == 0)
			pick = k;
	}
	jb->sort = pick < NORDERS ? lesion_orders[pick].word : "";
	if (pick < NORDERS)
		for (i = 1; i < n; i++) {
			t = l[i];
			for (j = i; j > 0 && lesion_before(&t, &l[j - 1], pick);
			    j--)
				l[j] = l[j - 1];
			l[j] = t;
		}
	if (n < 2)
		return;
	(void)tdict_bool(d, "has_orders", 1);
	saved = jb->sort;
	/* The reader's order first. */
	for (i = 0; i <= (int)NORDERS; i++) {
		k = i == 0 ? NORDERS : (size_t)i - 1;
		if (k < NORDERS && !can[k])
			continue;
		if ((x = tdict_add(d, "orders")) == NULL)
			break;
		jb->sort = k < NORDERS ? lesion_orders[k].word : "";
		(void)tdict_set(x, "zh", k < NORDERS ? lesion_orders[k].zh :
		    "默认顺序");
		(void)tdict_set(x, "word", jb->sort);
		(void)tdict_set(x, "href", ai_href(r, id, jb, z, w));
		(void)tdict_bool(x, "on", strcmp(jb->sort, saved) == 0);
	}
	jb->sort = saved;
}

/*
 * The lesion table: the union of the measurement names, in order of first
 * appearance, makes the columns (at most AI_MAX_COLS).  Also the boxes
 * of the viewer.
 */
static void
ai_lesion_rows(struct req *r, struct tdict *d, long long id,
    const struct ai_job *jb, const struct ai_lesion *l, int n, int z, int w,
    const struct ai_pick *p)
{
	struct tdict	*x, *c;
	const char	*cols[AI_MAX_COLS];
	const json_t	*o, *v;
	size_t		 i, k, nc = 0;
	int		 j, q, t, *ord;

	/* The columns in the reader's order of the lesions, whatever the
	 * order of the rows. */
	if ((ord = arena_calloc(r->a, (size_t)n + 1, sizeof(*ord))) == NULL)
		return;
	for (j = 0; j < n; j++) {
		for (q = j; q > 0 && l[ord[q - 1]].idx > l[j].idx; q--)
			ord[q] = ord[q - 1];
		ord[q] = j;
	}
	for (t = 0; t < n; t++)
		json_array_foreach(l[ord[t]].meas, i, o) {
			const char *name = json_string_value(
			    json_object_get(o, "name"));

			if (name == NULL || nc == AI_MAX_COLS)
				continue;
			for (k = 0; k < nc; k++)
				if (strcmp(cols[k], name) == 0)
					break;
			if (k == nc)
				cols[nc++] = name;
		}
	for (k = 0; k < nc; k++)
		if ((x = tdict_add(d, "mcols")) != NULL)
			(void)tdict_set(x, "name", cols[k]);
	for (j = 0; j < n; j++) {
		if ((x = tdict_add(d, "lesions")) == NULL)
			break;
		(void)tdict_setf(x, "idx", "%d", l[j].idx);
		(void)tdict_set(x, "type", l[j].type);
		(void)tdict_set(x, "location", l[j].location);
		(void)tdict_setf(x, "slice", "%d", l[j].slice);
		(void)tdict_setf(x, "k", "%d", l[j].slice + 1);
		(void)tdict_setf(x, "confidence", "%.6f", l[j].confidence);
		(void)tdict_setf(x, "confidence_pct", "%.1f%%",
		    100.0 * l[j].confidence);
		(void)tdict_set(x, "goto", ai_href(r, id, jb,
		    l[j].slice >= 0 && l[j].slice < jb->n ? l[j].slice : z, w));
		(void)tdict_bool(x, "checked", picked(p, l[j].idx));
		(void)tdict_bool(x, "here", l[j].slice == z);
		for (k = 0; k < nc; k++) {
			if ((c = tdict_add(x, "cells")) == NULL)
				break;
			(void)tdict_set(c, "text", "—");
			(void)tdict_set(c, "sort", "");
			json_array_foreach(l[j].meas, i, o) {
				const char *name = json_string_value(
				    json_object_get(o, "name"));
				const char *unit = json_string_value(
				    json_object_get(o, "unit"));

				if (name == NULL || strcmp(name, cols[k]) != 0)
					continue;
				v = json_object_get(o, "value");
				(void)tdict_set(c, "text", unit != NULL &&
				    *unit != '\0' ? arena_printf(r->a, "%s %s",
				    json_text(r, v), unit) : json_text(r, v));
				(void)tdict_set(c, "sort", json_is_number(v) ?
				    arena_printf(r->a, "%.15g",
				    json_number_value(v)) : json_text(r, v));
				break;
			}
		}
		/* The box, clamped to the image. */
		if (jb->nx <= 0 || jb->ny <= 0 || l[j].slice < 0 ||
		    l[j].slice >= jb->n || (c = tdict_add(d, "boxes")) == NULL)
			continue;
		(void)tdict_setf(c, "idx", "%d", l[j].idx);
		(void)tdict_setf(c, "slice", "%d", l[j].slice);
		(void)tdict_bool(c, "here", l[j].slice == z);
		(void)tdict_set(c, "x", pct(r, l[j].x0 < 0 ? 0 : l[j].x0,
		    jb->nx));
		(void)tdict_set(c, "y", pct(r, l[j].y0 < 0 ? 0 : l[j].y0,
		    jb->ny));
		(void)tdict_set(c, "w", pct(r, (l[j].x1 >= jb->nx ? jb->nx - 1 :
		    l[j].x1) - (l[j].x0 < 0 ? 0 : l[j].x0) + 1, jb->nx));
		(void)tdict_set(c, "h", pct(r, (l[j].y1 >= jb->ny ? jb->ny - 1 :
		    l[j].y1) - (l[j].y0 < 0 ? 0 : l[j].y0) + 1, jb->ny));
	}
	(void)tdict_setf(d, "nlesions", "%d", n);
	(void)tdict_bool(d, "has_lesions", n > 0);
}

/*
 * The histograms of a result into d ("hists"), each as the bars of an SVG
 * chart in a box of HIST_W x HIST_H units: the CT number (HU) along x
 * with its ticks, the share of the voxels up, the -950 HU line of the
 * emphysema index (LAA-950) where the axis reaches it; and its figures
 * for the table beside.  An open-ended first or last bin ("open_below",
 * "open_above": everything below, or from its lower edge up) is drawn
 * apart and its tip says so, so that the vessels gathered at the top of
 * a lung's histogram are not read as a peak at 0 HU.
 */
#define HIST_W		480
#define HIST_H		220
#define HIST_L		46	/* the plot's margins */
#define HIST_R		14
#define HIST_T		16
#define HIST_B		38
#define HIST_LAA	(-950.0)

static void
ai_histograms(struct req *r, struct tdict *d, const struct ai_job *jb)
{
	static const double steps[] = { 10, 20, 25, 50, 100, 200, 250, 500,
	    1000, 2000, 5000 };
	struct tdict	*x, *c;
	json_t		*a, *o, *cs, *v;
	const char	*name;
	double		 lo, width, hi, total, top, t, step, pw, ph, px;
	size_t		 i, k, nb;
	int		 nh = 0, open_below, open_above;

	pw = HIST_W - HIST_L - HIST_R;
	ph = HIST_H - HIST_T - HIST_B;
	if ((a = json_loads(jb->hists, 0, NULL)) == NULL)
		return;
	json_array_foreach(a, i, o) {
		name = json_string_value(json_object_get(o, "name"));
		lo = json_number_value(json_object_get(o, "lo"));
		width = json_number_value(json_object_get(o, "width"));
		cs = json_object_get(o, "counts");
		nb = json_array_size(cs);
		open_below = json_is_true(json_object_get(o, "open_below"));
		open_above = json_is_true(json_object_get(o, "open_above"));
		if (name == NULL || !isfinite(lo) || !(width > 0) ||
		    !isfinite(width) || nb == 0 || nb > AI_HIST_BINS)
			continue;
		hi = lo + width * (double)nb;
		total = top = 0;
		json_array_foreach(cs, k, v) {
			t = json_number_value(v);
			if (isfinite(t) && t > 0) {
				total += t;
				top = t > top ? t : top;
			}
		}
		if ((x = tdict_add(d, "hists")) == NULL)
			break;
		nh++;
		(void)tdict_setf(x, "hn", "%d", nh);
		(void)tdict_set(x, "title", arena_printf(r->a, "%sCT密度直方图",
		    name));
		(void)tdict_setf(x, "vw", "%d", HIST_W);
		(void)tdict_setf(x, "vh", "%d", HIST_H);
		/* The frame: the axes. */
		(void)tdict_setf(x, "x0", "%d", HIST_L);
		(void)tdict_setf(x, "x1", "%d", HIST_W - HIST_R);
		(void)tdict_setf(x, "y0", "%d", HIST_T);
		(void)tdict_setf(x, "y1", "%d", HIST_H - HIST_B);
		(void)tdict_setf(x, "ylab_x", "%d", HIST_L - 6);
		(void)tdict_setf(x, "xlab_y", "%d", HIST_H - HIST_B + 17);
		(void)tdict_setf(x, "ty", "%d", HIST_H - HIST_B + 5);
		(void)tdict_setf(x, "axis_y", "%d", HIST_H - 4);
		(void)tdict_setf(x, "axis_x", "%.1f", HIST_L + pw / 2);
		(void)tdict_set(x, "ymax", top > 0 && total > 0 ?
		    arena_printf(r->a, "%s%%", num_text(r, 100 * top / total)) :
		    "0%");
		(void)tdict_setf(x, "ymax_y", "%d", HIST_T + 4);
		(void)tdict_setf(x, "ymin_y", "%d", HIST_H - HIST_B);
		(void)tdict_bool(x, "empty", !(total > 0));
		json_array_foreach(cs, k, v) {
			t = json_number_value(v);
			if (!(total > 0) || !isfinite(t) || t <= 0 ||
			    (c = tdict_add(x, "bars")) == NULL)
				continue;
			(void)tdict_setf(c, "x", "%.2f", HIST_L + pw * (double)k /
			    (double)nb);
			(void)tdict_setf(c, "w", "%.2f", pw / (double)nb);
			(void)tdict_setf(c, "h", "%.2f", ph * t / top);
			(void)tdict_setf(c, "y", "%.2f", HIST_T + ph -
			    ph * t / top);
			if (k == 0 && open_below)
				(void)tdict_set(c, "tip", arena_printf(r->a,
				    "< %s HU：%s%%", num_text(r, lo + width),
				    num_text(r, 100 * t / total)));
			else if (k + 1 == nb && open_above)
				(void)tdict_set(c, "tip", arena_printf(r->a,
				    "≥ %s HU：%s%%", num_text(r, lo + width *
				    (double)k), num_text(r, 100 * t / total)));
			else
				(void)tdict_set(c, "tip", arena_printf(r->a,
				    "%s ~ %s HU：%s%%", num_text(r, lo + width *
				    (double)k), num_text(r, lo + width *
				    (double)(k + 1)), num_text(r, 100 * t /
				    total)));
			(void)tdict_bool(c, "open", (k == 0 && open_below) ||
			    (k + 1 == nb && open_above));
		}
		/* Ticks: the first step that makes at most 6 of them. */
		for (k = 0, step = steps[0]; k < sizeof(steps) / sizeof(steps[0]);
		    k++)
			if ((hi - lo) / (step = steps[k]) <= 6)
				break;
		for (t = ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
			if ((c = tdict_add(x, "ticks")) == NULL)
				break;
			px = HIST_L + pw * (t - lo) / (hi - lo);
			(void)tdict_setf(c, "x", "%.2f", px);
			(void)tdict_set(c, "label", num_text(r, t));
		}
		if (HIST_LAA >= lo && HIST_LAA <= hi) {
			(void)tdict_bool(x, "has_laa", 1);
			(void)tdict_setf(x, "laa_x", "%.2f", HIST_L + pw *
			    (HIST_LAA - lo) / (hi - lo));
			(void)tdict_setf(x, "laa_ty", "%d", HIST_T - 4);
		}
		(void)tdict_bool(x, "has_open_note", open_below || open_above);
		if (open_below || open_above)
			(void)tdict_set(x, "open_note", arena_printf(r->a,
			    "%s%s%s", open_below ? arena_printf(r->a,
			    "首柱含低于 %s HU 的全部体素", num_text(r, lo +
			    width)) : "", open_below && open_above ? "；" : "",
			    open_above ? arena_printf(r->a, "末柱含 %s HU "
			    "及以上的全部体素", num_text(r, hi - width)) : ""));
		json_array_foreach(json_object_get(o, "measures"), k, v) {
			if (!json_is_object(v) ||
			    (c = tdict_add(x, "figures")) == NULL)
				continue;
			(void)tdict_set(c, "name", json_member(r, v, "name"));
			(void)tdict_set(c, "value", json_member(r, v, "value"));
			(void)tdict_set(c, "unit", json_member(r, v, "unit"));
			(void)tdict_bool(x, "has_figures", 1);
		}
	}
	json_decref(a);
	(void)tdict_bool(d, "has_hists", nh > 0);
}

/* Labels over the slices at most (a cage at 0.625 mm has some 4000). */
#define AI_OVERLAY_MAX	12000

/* One overlay label: its slice, place (voxels), text and class; for the
 * viewer into labels ([k, x, y, text, class]), for the page without
 * scripts into d when it is on slice z. */
static void
overlay_label(struct req *r, struct tdict *d, json_t *labels,
    const struct ai_job *jb, int z, int k, double x, double y,
    const char *text, const char *cls)
{
	struct tdict	*x1;

	if (k < 0 || k >= jb->n)
		return;
	(void)json_array_append_new(labels, json_pack("[i,f,f,s,s]", k,
	    round((x + 0.5) * 10.0) / 10.0, round((y + 0.5) * 10.0) / 10.0,
	    text, cls));
	if (k != z || (x1 = tdict_add(d, "ovl")) == NULL)
		return;
	(void)tdict_setf(x1, "slice", "%d", k);
	(void)tdict_set(x1, "x", pct(r, x + 0.5, jb->nx));
	(void)tdict_set(x1, "y", pct(r, y + 0.5, jb->ny));
	(void)tdict_set(x1, "text", text);
	(void)tdict_set(x1, "cls", cls);
}

/*
 * What a result draws over its slices besides the boxes (sql/033): the
 * rib fracture reader's ribs and vertebrae, as labels (显示左右肋骨、椎骨
 * 编号).  A rib's label ("右5") where its centre line crosses a slice, at
 * the middle of each run of its points on that slice; a vertebra's
 * ("T5") at its body's centre on each of its slices.  All slices' labels
 * go to the viewer (labels); the page without scripts draws slice z's.
 */
static void
ai_overlays(struct req *r, struct tdict *d, json_t *labels,
    const struct ai_job *jb, int z)
{
	json_t		*o, *a, *x, *line, *p;
	size_t		 i, j, j0, np;
	const char	*side, *lab;
	long long	 num;
	int		 k, k0, k1, count = 0;
	char		 text[32];

	if (jb->nx <= 0 || jb->ny <= 0 || jb->n <= 0 ||
	    (o = json_loads(jb->overlays, 0, NULL)) == NULL)
		return;
	a = json_object_get(o, "ribs");
	json_array_foreach(a, i, x) {
		side = json_string_value(json_object_get(x, "side"));
		num = json_integer_value(json_object_get(x, "number"));
		line = json_object_get(x, "line");
		if (side == NULL || !json_is_array(line))
			continue;
		if (num >= 1 && num <= 12)
			(void)snprintf(text, sizeof(text), "%s%lld",
			    *side == 'R' ? "右" : "左", num);
		else
			(void)snprintf(text, sizeof(text), "%s?",
			    *side == 'R' ? "右" : "左");
		np = json_array_size(line);
		for (j0 = 0; j0 < np && count < AI_OVERLAY_MAX; j0 = j) {
			p = json_array_get(line, j0);
			k = (int)lround(json_number_value(json_array_get(p, 2)));
			for (j = j0 + 1; j < np && lround(json_number_value(
			    json_array_get(json_array_get(line, j), 2))) == k;
			    j++)
				;
			p = json_array_get(line, (j0 + j - 1) / 2);
			overlay_label(r, d, labels, jb, z, k,
			    json_number_value(json_array_get(p, 0)),
			    json_number_value(json_array_get(p, 1)), text,
			    *side == 'R' ? "rib-r" : "rib-l");
			count++;
		}
	}
	a = json_object_get(o, "vertebrae");
	json_array_foreach(a, i, x) {
		lab = json_string_value(json_object_get(x, "label"));
		k0 = (int)json_integer_value(json_object_get(x, "k0"));
		k1 = (int)json_integer_value(json_object_get(x, "k1"));
		if (lab == NULL)
			continue;
		for (k = k0 < 0 ? 0 : k0; k <= k1 && k < jb->n &&
		    count < AI_OVERLAY_MAX; k++, count++)
			overlay_label(r, d, labels, jb, z, k, json_number_value(
			    json_object_get(x, "x")), json_number_value(
			    json_object_get(x, "y")), lab, "vert");
	}
	(void)tdict_bool(d, "has_overlays", count > 0);
	if (json_is_true(json_object_get(o, "uncertain")))
		(void)tdict_bool(d, "overlays_uncertain", 1);
	json_decref(o);
}

/*
 * The viewer of the result page (_viewer.html, viewer.js), opened on the
 * result's series, and what it draws over the axial images (zv_annot,
 * JSON): the slice to open (z, the viewer's image of the result's slice
 * z0) in window w, the viewer's image of each of the result's slices
 * (zk, -1: none), the result's size in voxels (nx, ny), the boxes [idx,
 * k, x0, y0, x1, y1] in its voxels (inclusive) and the labels [k, x, y,
 * text, class] (taken).  Returns 0, or -1 on database trouble.
 */
static int
ai_viewer(struct req *r, struct tdict *d, long long id,
    const struct ai_job *jb, const struct ai_lesion *l, int nl,
    json_t *labels, int z0, int w)
{
	PGresult		*res;
	struct viewer_map	 m;
	json_t			*o, *zk, *boxes;
	char			 sres[32], *txt;
	int			 i, n, rc;

	(void)snprintf(sres, sizeof(sres), "%lld", jb->result);
	res = db_exec(r->db, "SELECT t.u FROM ai_results res,"
	    " unnest(res.slice_uids) WITH ORDINALITY AS t(u, i)"
	    " WHERE res.id = $1::bigint ORDER BY t.i", 1, sres);
	if (res == NULL) {
		json_decref(labels);
		return -1;
	}
	n = PQntuples(res);
	memset(&m, 0, sizeof(m));
	m.series = jb->series;
	m.n = n;
	m.uids = arena_calloc(r->a, (size_t)n + 1, sizeof(*m.uids));
	m.k = arena_calloc(r->a, (size_t)n + 1, sizeof(*m.k));
	for (i = 0; m.uids != NULL && m.k != NULL && i < n; i++)
		if ((m.uids[i] = arena_strdup(r->a, db_val(res, i, 0))) == NULL)
			break;
	PQclear(res);
	if (m.uids == NULL || m.k == NULL || i < n ||
	    (rc = viewer_block_map(r, id, jb->series, d, NULL, 0, &m)) == -1) {
		json_decref(labels);
		return -1;
	}
	if (rc == 0 || !m.found) {
		json_decref(labels);
		return 0;
	}
	o = json_object();
	zk = json_array();
	boxes = json_array();
	for (i = 0; i < n; i++)
		(void)json_array_append_new(zk, json_integer(m.k[i]));
	for (i = 0; i < nl; i++)
		if (l[i].slice >= 0 && l[i].slice < n)
			(void)json_array_append_new(boxes, json_pack(
			    "[i,i,i,i,i,i]", l[i].idx, l[i].slice, l[i].x0,
			    l[i].y0, l[i].x1, l[i].y1));
	(void)json_object_set_new(o, "series", json_integer(jb->series));
	(void)json_object_set_new(o, "z", json_integer(z0 >= 0 && z0 < n ?
	    m.k[z0] : -1));
	(void)json_object_set_new(o, "preset", json_string(
	    preview_windows[w].name));
	(void)json_object_set_new(o, "nx", json_integer(jb->nx));
	(void)json_object_set_new(o, "ny", json_integer(jb->ny));
	(void)json_object_set_new(o, "zk", zk);
	(void)json_object_set_new(o, "boxes", boxes);
	(void)json_object_set_new(o, "labels", labels);
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt == NULL)
		return -1;
	(void)tdict_set(d, "zv_annot", txt);
	(void)tdict_bool(d, "zv_has_annot", 1);
	free(txt);
	return 0;
}

static void
ai_assets(struct tdict *d)
{
	struct tdict	*x;

	if ((x = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(x, "href", "/static/report.css");
	if ((x = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(x, "href", "/static/ai.css");
	if ((x = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(x, "src", "/static/ai.js");
}

/* The slice and window asked for, or those the result suggests. */
static void
ai_view_pick(const struct req *r, const struct ai_job *jb,
    const struct ai_lesion *l, int nl, int key, int kw, int *z, int *w)
{
	const char	*s;
	int		 rd;

	*z = -1;
	if ((s = http_field(r, FIELD_Z)) != NULL)
		*z = atoi(s);
	if (*z < 0 || *z >= jb->n)
		*z = key >= 0 ? key : nl > 0 && l[0].slice >= 0 &&
		    l[0].slice < jb->n ? l[0].slice : jb->n / 2;
	s = http_field(r, FIELD_WINDOW);
	*w = s != NULL && *s != '\0' ? preview_window_parse(s) : -1;
	if (*w >= 0 && (strcmp(jb->modality, "CT") == 0 || *w == WINDOW_AUTO))
		return;
	if (strcmp(jb->modality, "CT") != 0)
		*w = WINDOW_AUTO;
	else if (kw >= 0)
		*w = kw;
	else
		*w = (rd = reader_lookup(jb->reader)) >= 0 ?
		    (int)reader_window[rd] : WINDOW_AUTO;
}

/* Why the doctor who may write the report of ap cannot choose a key
 * image now, or NULL when the user holds its lock while it is 报告中. */
static const char *
ai_key_refusal(struct req *r, const struct ai_app *ap)
{
	if (ap->state == APP_REPORTING && ap->locked_by == r->sess.acct.id)
		return NULL;
	if (ap->state == APP_REPORTING && *ap->holder != '\0')
		return arena_printf(r->a, "该申请单正由%s书写报告，"
		    "只有锁定该申请单的医生可设置关键图像", ap->holder);
	if (ap->state == APP_PENDING)
		return "设置关键图像须先在写报告页面锁定该申请单";
	if (ap->state >= 0)
		return arena_printf(r->a, "该申请单当前状态为“%s”，"
		    "不能设置关键图像", app_state_names[ap->state].zh);
	return wf_messages[WF_CONFLICT];
}

/*
 * 设为关键图像 of the result page: for the doctors who may write the
 * report, the button (can_key) or the reason it is off (key_off); for
 * everyone who sees the page, the slices of this result among the
 * report's key images (list "key_slices": k, goto) and how many the
 * report has (key_total of key_max); after a chosen slice (the query's
 * key=added) the notice, for slice z0 shown.  Returns 0 or -1.
 */
static int
ai_key_block(struct req *r, struct tdict *d, const struct ai_app *ap,
    const struct ai_job *jb, int reader, int z0, int w)
{
	PGresult	*res;
	struct tdict	*x;
	const char	*why, *added;
	char		 sid[32], sjob[32];
	int		 i, total, z, here = 0;

	(void)snprintf(sid, sizeof(sid), "%lld", ap->id);
	(void)snprintf(sjob, sizeof(sjob), "%lld", jb->id);
	res = db_exec(r->db, "SELECT coalesce(slice, -1), job_id = $2::bigint"
	    " FROM report_key_images WHERE application_id = $1::bigint"
	    " ORDER BY slice", 2, sid, sjob);
	if (res == NULL)
		return -1;
	total = PQntuples(res);
	for (i = 0; i < total; i++) {
		z = (int)db_ll(res, i, 0);
		if (!db_bool(res, i, 1) || z < 0 || z >= jb->n ||
		    (x = tdict_add(d, "key_slices")) == NULL)
			continue;
		(void)tdict_setf(x, "z", "%d", z);
		(void)tdict_setf(x, "k", "%d", z + 1);
		(void)tdict_set(x, "goto", ai_href(r, ap->id, jb, z, w));
		(void)tdict_bool(x, "here", z == z0);
		(void)tdict_bool(d, "has_key_slices", 1);
		if (z == z0)
			here = 1;
	}
	PQclear(res);
	(void)tdict_bool(d, "key_here", here);
	(void)tdict_setf(d, "key_total", "%d", total);
	(void)tdict_setf(d, "key_max", "%d", WF_KEY_IMAGES_MAX);
	why = reader ? ai_key_refusal(r, ap) : NULL;
	(void)tdict_bool(d, "key_reader", reader);
	(void)tdict_bool(d, "can_key", reader && why == NULL);
	(void)tdict_set(d, "key_off", why != NULL ? why : "");
	/* The page a chosen slice returns to shows that slice; the notice
	 * only while it is one of the report's. */
	added = kv_get(&r->query, "key");
	(void)tdict_bool(d, "has_notice", added != NULL &&
	    strcmp(added, "added") == 0 && r->method == METHOD_GET && here);
	(void)tdict_set(d, "notice", arena_printf(r->a,
	    "已设为关键图像（第 %d 层），共 %d/%d 幅", z0 + 1, total,
	    WF_KEY_IMAGES_MAX));
	return 0;
}

/* Whether the doctor may delete the boxes of reader's results (删除病灶序号框:
 * the manual's tuberculosis reader, whose boxes are zones of the lung
 * fields a doctor may judge empty, and the limb fracture reader of the
 * same films, whose boxes a doctor may judge no fracture). */
static int
ai_boxes_deletable(const char *reader)
{
	return strcmp(reader, readers[READER_DR_TUBERCULOSIS].code) == 0 ||
	    strcmp(reader, readers[READER_DR_LIMB_FRACTURE].code) == 0;
}

/*
 * The boxes of result deleted for application app ("deleted": idx, by,
 * at) and, for the doctor writing its report, the 删除 buttons
 * (can_delete); after a deletion (the query's deleted=N) the notice.
 * Returns 0 or -1.
 */
static int
ai_deleted_block(struct req *r, struct tdict *d, const struct ai_app *ap,
    const struct ai_job *jb, int reader)
{
	PGresult	*res;
	struct tdict	*x;
	const char	*v;
	char		 sid[32], sres[32];
	int		 i, n;

	(void)snprintf(sid, sizeof(sid), "%lld", ap->id);
	(void)snprintf(sres, sizeof(sres), "%lld", jb->result);
	res = db_exec(r->db, "SELECT x.idx, coalesce(u.display_name, ''),"
	    " to_char(x.deleted_at, 'YYYY-MM-DD HH24:MI')"
	    " FROM ai_lesion_deletions x LEFT JOIN users u ON u.id = x.deleted_by"
	    " WHERE x.application_id = $1::bigint AND x.result_id = $2::bigint"
	    " ORDER BY x.idx", 2, sid, sres);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if ((x = tdict_add(d, "deleted")) == NULL)
			break;
		(void)tdict_set(x, "idx", db_val(res, i, 0));
		(void)tdict_set(x, "by", db_val(res, i, 1));
		(void)tdict_set(x, "at", db_val(res, i, 2));
	}
	PQclear(res);
	(void)tdict_bool(d, "has_deleted", n > 0);
	(void)tdict_bool(d, "can_delete", reader &&
	    ai_boxes_deletable(jb->reader) && ai_key_refusal(r, ap) == NULL);
	v = kv_get(&r->query, "deleted");
	if (v != NULL && r->method == METHOD_GET && *v != '\0' &&
	    strspn(v, "0123456789") == strlen(v) && strlen(v) < 6) {
		(void)tdict_bool(d, "has_notice", 1);
		(void)tdict_set(d, "notice", arena_printf(r->a,
		    "已删除病灶序号框 %s", v));
	}
	return 0;
}

/*
 * The result page of job of application id, answered with status; error
 * (may be NULL) is shown at the top; p holds the lesions checked when the
 * page is shown again after a refused 上传影像结论.
 */
static void
ai_page(struct req *r, long long id, long long job, int status,
    const char *error, const struct ai_pick *p)
{
	struct tdict		*d, *x;
	struct ai_app		 ap;
	struct ai_job		 jb;
	struct ai_lesion	*l = NULL;
	PGresult		*res;
	const char		*zh, *cls, *note;
	char			 sid[32];
	size_t			 i;
	json_t			*labels;
	int			 rc, nl = 0, z, w, key, kw, iw, ih, e, done, reader;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if ((rc = ai_app_load(r, id, &ap)) == 1)
		rc = ai_job_load(r, id, job, 1, &jb);
	if (rc <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ? MSG_NO_RESULT :
		    MSG_DB);
		return;
	}
	if (page_audit_read(r, "ai_result_viewed", "ai_job", job,
	    ap.diag_no) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	(void)tdict_setf(d, "id", "%lld", id);
	(void)tdict_setf(d, "job", "%lld", job);
	(void)tdict_set(d, "diag_no", ap.diag_no);
	(void)tdict_set(d, "patient_name", ap.patient_name);
	(void)tdict_set(d, "patient_sex", ap.patient_sex);
	(void)tdict_set(d, "patient_age", ap.patient_age);
	(void)tdict_set(d, "reader", reader_name_zh(jb.reader));
	(void)tdict_set(d, "series_label", jb.label);
	job_state_zh(r, jb.state, jb.error, &zh, &cls, &note);
	(void)tdict_set(d, "job_state", zh);
	(void)tdict_set(d, "cls", cls);
	(void)tdict_set(d, "note", note);
	(void)tdict_bool(d, "has_note", *note != '\0');
	done = strcmp(jb.state, "done") == 0 && jb.result != 0;
	(void)tdict_set(d, "finished_at", jb.finished_at);
	(void)tdict_bool(d, "has_finished", *jb.finished_at != '\0');
	(void)tdict_set(d, "finished_label", done ? "完成时间" : "结束时间");
	/* A result left from an earlier run is not this job's. */
	(void)tdict_set(d, "method", jb.method);
	(void)tdict_bool(d, "has_method", done && *jb.method != '\0');
	(void)tdict_set(d, "disclaimer", AI_DISCLAIMER);
	(void)tdict_set(d, "error", error != NULL ? error : "");
	(void)tdict_bool(d, "has_error", error != NULL);
	ai_assets(d);
	if (!done) {
		(void)tdict_bool(d, "has_result", 0);
		(void)tdict_bool(d, "pending", strcmp(jb.state, "queued") == 0 ||
		    strcmp(jb.state, "running") == 0);
		page_render(r, status, "ai_result.html", d);
		return;
	}
	(void)tdict_bool(d, "has_result", 1);
	if ((nl = ai_lesions_load(r, id, jb.result, &l)) < 0) {
		page_error(r, 503, MSG_DB);
		return;
	}
	ai_key_pick(&jb, &key, &kw);
	ai_view_pick(r, &jb, l, nl, key, kw, &z, &w);
	/* The order is the table's; the slice shown first is not. */
	ai_sort(r, d, id, &jb, l, nl, z, w);
	(void)tdict_set(d, "sort", jb.sort);
	ai_figures(r, d, &jb, id, w);
	ai_histograms(r, d, &jb);
	if ((labels = json_array()) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	ai_overlays(r, d, labels, &jb, z);
	/* 肋骨拉直/展开 (cpr.c) of the rib fracture reader's result. */
	(void)tdict_bool(d, "has_cpr", strcmp(jb.reader, "ct_rib_fracture") ==
	    0);
	(void)tdict_setf(d, "z", "%d", z);
	(void)tdict_setf(d, "k", "%d", z + 1);
	(void)tdict_setf(d, "n", "%d", jb.n);
	(void)tdict_setf(d, "last", "%d", jb.n > 0 ? jb.n - 1 : 0);
	(void)tdict_set(d, "window", preview_windows[w].name);
	(void)tdict_bool(d, "has_slices", jb.n > 0);
	(void)tdict_set(d, "img_src", arena_printf(r->a,
	    "/ai/slice?job=%lld&z=%d&window=%s", job, z,
	    preview_windows[w].name));
	/* The box the image takes: its size as served, so that the page
	 * does not move when it arrives. */
	iw = jb.nx > 0 ? jb.nx : 512;
	ih = jb.ny > 0 ? jb.ny : 512;
	e = iw > ih ? iw : ih;
	if (e > AI_SLICE_EDGE) {
		iw = (int)lround((double)iw * AI_SLICE_EDGE / e);
		ih = (int)lround((double)ih * AI_SLICE_EDGE / e);
	}
	(void)tdict_setf(d, "img_w", "%d", iw < 1 ? 1 : iw);
	(void)tdict_setf(d, "img_h", "%d", ih < 1 ? 1 : ih);
	(void)tdict_set(d, "prev_href", ai_href(r, id, &jb, z > 0 ? z - 1 : 0,
	    w));
	(void)tdict_set(d, "next_href", ai_href(r, id, &jb,
	    z + 1 < jb.n ? z + 1 : z, w));
	(void)tdict_bool(d, "at_first", z <= 0);
	(void)tdict_bool(d, "at_last", z + 1 >= jb.n);
	for (i = 0; i < sizeof(ct_windows) / sizeof(ct_windows[0]); i++) {
		if (strcmp(jb.modality, "CT") != 0)
			break;
		if ((x = tdict_add(d, "windows")) == NULL)
			break;
		(void)tdict_set(x, "name", preview_windows[ct_windows[i]].name);
		(void)tdict_set(x, "zh", preview_windows[ct_windows[i]].zh);
		(void)tdict_set(x, "href", ai_href(r, id, &jb, z,
		    ct_windows[i]));
		(void)tdict_bool(x, "on", (int)ct_windows[i] == w);
	}
	ai_lesion_rows(r, d, id, &jb, l, nl, z, w, p);
	/* The viewer, after the page's styles and script. */
	rc = jb.n > 0 ? ai_viewer(r, d, id, &jb, l, nl, labels, z, w) :
	    (json_decref(labels), 0);
	ai_lesions_free(l, nl);
	if (rc == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	ai_bmd_block(r, d, id, &jb);
	(void)tdict_set(d, "findings", jb.findings);
	(void)tdict_set(d, "conclusion", jb.conclusion);
	(void)tdict_set(d, "stamp", jb.stamp);
	/* 上传影像结论: for the doctors who write this report. */
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT coalesce(max(version), 0)"
	    " FROM report_versions WHERE application_id = $1::bigint", 1, sid);
	if (res == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	(void)tdict_set(d, "version", db_val(res, 0, 0));
	PQclear(res);
	reader = ai_app_reader(r, &ap);
	(void)tdict_bool(d, "can_upload", reader);
	(void)tdict_bool(d, "no_lock", reader &&
	    (ap.state != APP_REPORTING || ap.locked_by != r->sess.acct.id));
	if (ai_key_block(r, d, &ap, &jb, reader, z, w) == -1 ||
	    ai_deleted_block(r, d, &ap, &jb, reader) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	page_render(r, status, "ai_result.html", d);
}

/* A number of a JSON object as text with at most one decimal, "" when
 * absent or null. */
static const char *
json_num(struct req *r, const json_t *o, const char *key)
{
	const json_t	*x = json_object_get(o, key);

	if (!json_is_number(x))
		return "";
	return num_text(r, round(json_number_value(x) * 10.0) / 10.0);
}

/*
 * The bone density reader's own part of its result (ai_results.extra):
 * the body composition table and colour map, the mid-sagittal view with
 * the heights drawn over it, and the link to its A4 report; for the
 * result page and the report alike.  Nothing for other readers.
 */
static void
ai_bmd_block(struct req *r, struct tdict *d, long long id,
    const struct ai_job *jb)
{
	json_t		*x, *bc, *sag, *o, *ln, *c;
	struct tdict	*t, *u;
	size_t		 i, k;

	if (strcmp(jb->reader, "ct_bone_density") != 0 ||
	    (x = json_loads(jb->extra, 0, NULL)) == NULL)
		return;
	(void)tdict_bool(d, "is_bmd", 1);
	(void)tdict_set(d, "bmd_report_href", arena_printf(r->a,
	    "/ai/bmd-report?id=%lld&job=%lld", id, jb->id));
	if (json_is_object(bc = json_object_get(x, "body_composition"))) {
		(void)tdict_bool(d, "has_body", 1);
		(void)tdict_set(d, "body_level", json_text(r,
		    json_object_get(bc, "level")));
		(void)tdict_setf(d, "body_k", "%lld", json_integer_value(
		    json_object_get(bc, "slice")) + 1);
		(void)tdict_set(d, "muscle_area", json_num(r, bc,
		    "muscle_area"));
		(void)tdict_bool(d, "has_smi", json_is_number(
		    json_object_get(bc, "smi")));
		(void)tdict_set(d, "smi", json_num(r, bc, "smi"));
		(void)tdict_set(d, "height_cm", num_text(r, round(100.0 *
		    json_number_value(json_object_get(bc, "height_m")))));
		(void)tdict_set(d, "bodycomp_src", arena_printf(r->a,
		    "/ai/picture?job=%lld&picture=bodycomp", jb->id));
		json_array_foreach(json_object_get(bc, "rows"), i, o) {
			if ((t = tdict_add(d, "body_rows")) == NULL)
				break;
			(void)tdict_set(t, "name", json_text(r,
			    json_object_get(o, "name")));
			(void)tdict_set(t, "area", json_num(r, o, "area"));
			(void)tdict_set(t, "hu", json_num(r, o, "hu"));
			(void)tdict_set(t, "colour", json_text(r,
			    json_object_get(o, "colour")));
		}
	}
	if (json_is_object(sag = json_object_get(x, "sagittal")) &&
	    json_integer_value(json_object_get(sag, "width")) > 0) {
		(void)tdict_bool(d, "has_sagittal", 1);
		(void)tdict_setf(d, "sag_w", "%lld", json_integer_value(
		    json_object_get(sag, "width")));
		(void)tdict_setf(d, "sag_h", "%lld", json_integer_value(
		    json_object_get(sag, "height")));
		(void)tdict_set(d, "sagittal_src", arena_printf(r->a,
		    "/ai/picture?job=%lld&picture=sagittal", jb->id));
		json_array_foreach(json_object_get(sag, "levels"), i, o) {
			if ((t = tdict_add(d, "sag_levels")) == NULL)
				break;
			(void)tdict_set(t, "label", json_text(r,
			    json_object_get(o, "label")));
			(void)tdict_set(t, "x", json_num(r, o, "x"));
			(void)tdict_set(t, "y", json_num(r, o, "y"));
			json_array_foreach(json_object_get(o, "lines"), k, ln) {
				if ((u = tdict_add(t, "lines")) == NULL)
					break;
				c = json_array_get(ln, 0);
				(void)tdict_set(u, "x1", num_text(r,
				    json_number_value(c)));
				c = json_array_get(ln, 1);
				(void)tdict_set(u, "y1", num_text(r,
				    json_number_value(c)));
				c = json_array_get(ln, 2);
				(void)tdict_set(u, "x2", num_text(r,
				    json_number_value(c)));
				c = json_array_get(ln, 3);
				(void)tdict_set(u, "y2", num_text(r,
				    json_number_value(c)));
			}
		}
	}
	json_decref(x);
}

/*
 * GET /ai/result?id=N&job=J[&z=K&window=W] (“粤医智影”功能页面): the
 * result of job J on a series of application N, at slice K in window W.
 * 404 for a job that is not of an application the user may see.
 */
void
page_ai_result(struct req *r)
{
	long long	 id, job;

	if ((id = field_id(r, FIELD_ID)) == 0 ||
	    (job = field_id(r, FIELD_JOB)) == 0) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	ai_page(r, id, job, 200, NULL, NULL);
}

/*
 * GET /ai/slice?job=J&z=K&window=W: slice K (from 0, in the order of the
 * result's volume) of the volume job J was computed on, as PNG, at most
 * AI_SLICE_EDGE pixels on the longer edge.  The slice is found by its SOP
 * Instance UID (ai_results.slice_uids) among the series' instances, then
 * loaded alone; a frame of a multi-frame file counts from the file's
 * first slice.  Only for a series of a study linked to an application
 * the user's institution may see; 404 otherwise.
 */
void
page_ai_slice(struct req *r)
{
	PGresult		*res;
	const char		*s;
	char			 sjob[32], sz[16], inst[32], *key;
	long long		 job, series;
	int			 z, w, frame;

	job = field_id(r, FIELD_JOB);
	s = http_field(r, FIELD_Z);
	z = s != NULL ? atoi(s) : -1;
	s = http_field(r, FIELD_WINDOW);
	w = s != NULL && *s != '\0' ? preview_window_parse(s) : WINDOW_AUTO;
	if (job <= 0 || z < 0 || w < 0) {
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	(void)snprintf(sz, sizeof(sz), "%d", z);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT n.storage_key,"
	    " $2::int - (array_position(res.slice_uids, n.sop_instance_uid) - 1),"
	    " se.id"
	    " FROM ai_jobs j JOIN ai_results res ON res.job_id = j.id"
	    " JOIN series se ON se.id = j.series_id"
	    " JOIN instances n ON n.series_id = se.id"
	    "  AND n.sop_instance_uid = res.slice_uids[$2::int + 1]"
	    " WHERE j.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies l JOIN applications a"
	    "  ON a.id = l.application_id WHERE l.study_id = se.study_id"
	    "  AND application_visible(a, $3::bigint))"
	    " LIMIT 1", 3, sjob, sz, inst);
	if (res == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	frame = (int)db_ll(res, 0, 1);
	key = arena_strdup(r->a, db_val(res, 0, 0));
	series = db_ll(res, 0, 2);
	PQclear(res);
	if (key == NULL || frame < 0) {
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	if (page_audit_image(r, series) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	page_stored_png(r, key, frame, w, AI_SLICE_EDGE,
	    arena_printf(r->a, "job %s slice %s", sjob, sz));
}

/* Text with its trailing blanks and line ends cut off (arena). */
static char *
trim_end(struct req *r, const char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return arena_strndup(r->a, s, n);
}

/* Append line to b on a line of its own; blank lines are left out. */
static void
add_line(struct req *r, struct buf *b, const char *line)
{
	char	*t;

	if (text_blank(line) || (t = trim_end(r, line)) == NULL)
		return;
	if (b->len > 0)
		(void)buf_appends(b, "\n");
	(void)buf_appends(b, t);
}

/* The draft text followed by what is added, a blank line between. */
static const char *
join_draft(struct req *r, const char *draft, const char *added)
{
	char	*t;

	if (text_blank(draft) || (t = trim_end(r, draft)) == NULL)
		return added;
	return arena_printf(r->a, "%s\n\n%s", t, added);
}

/* The lesion numbers posted (every "lesion" field).  Returns 0, or -1
 * when one is not a number. */
static int
pick_read(struct req *r, struct ai_pick *p)
{
	size_t	 i, k;
	char	*end;
	long	 v;

	memset(p, 0, sizeof(*p));
	p->posted = 1;
	k = kv_count(&r->form, "lesion");
	if ((p->idx = arena_calloc(r->a, k + 1, sizeof(*p->idx))) == NULL)
		return -1;
	for (i = 0; i < r->form.n; i++) {
		if (strcmp(r->form.v[i].key, "lesion") != 0)
			continue;
		v = strtol(r->form.v[i].val, &end, 10);
		if (end == r->form.v[i].val || *end != '\0' || v < 0 ||
		    v > 1000000 || p->n == k)
			return -1;
		p->idx[p->n++] = (int)v;
	}
	return 0;
}

/* What a refused save means here, in Chinese. */
/*
 * The application and job a POST on a result names (id, job), loaded
 * into *ap and *jb; -1 when there is none the user may see (404) or the
 * database fails (503), the error page sent.
 */
static int
ai_post_target(struct req *r, long long *id, long long *job,
    struct ai_app *ap, struct ai_job *jb)
{
	int	 rc;

	if ((*id = field_id(r, FIELD_ID)) == 0 ||
	    (*job = field_id(r, FIELD_JOB)) == 0) {
		page_error(r, 404, MSG_NO_RESULT);
		return -1;
	}
	if ((rc = ai_app_load(r, *id, ap)) == 1)
		rc = ai_job_load(r, *id, *job, 0, jb);
	if (rc <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ? MSG_NO_RESULT :
		    MSG_DB);
		return -1;
	}
	return 0;
}

static const char *
upload_refusal(struct req *r, long long id, enum wf_result res)
{
	struct ai_app	 ap;

	switch (res) {
	case WF_STALE:
		return "报告已在写报告页面被修改，影像结论未上传。"
		    "请刷新本页后重新上传（报告内容未被覆盖）";
	case WF_LOCKED:
		if (ai_app_load(r, id, &ap) == 1 && *ap.holder != '\0')
			return arena_printf(r->a, "%s（锁定医生：%s），影像结论未上传",
			    wf_messages[WF_LOCKED], ap.holder);
		return arena_printf(r->a, "%s，影像结论未上传",
		    wf_messages[WF_LOCKED]);
	case WF_CONFLICT:
		if (ai_app_load(r, id, &ap) == 1 && ap.state == APP_PENDING)
			return "您已不再锁定该申请单（已解除锁定或锁定已超时），"
			    "影像结论未上传。请先返回写报告页面重新锁定后再上传";
		if (ai_app_load(r, id, &ap) == 1 && ap.state >= 0)
			return arena_printf(r->a, "该申请单当前状态为“%s”，"
			    "不能写报告，影像结论未上传",
			    app_state_names[ap.state].zh);
		return wf_messages[WF_CONFLICT];
	case WF_FORBIDDEN:
		return "您没有为该申请单写报告的权限，影像结论未上传";
	default:
		return wf_messages[res];
	}
}

/*
 * POST /ai/upload (上传影像结论): id, job, version (the report version the
 * page was shown with), stamp (the result's revision) and the checked
 * lesion numbers.  The result's 影像表现 followed by each checked lesion's
 * (one a line, by number) and its 影像结论 followed by the checked
 * lesions' non-empty ones are appended to the report draft of that
 * version (a blank line after what the doctor wrote) and saved through
 * wf_report_save() with ai_used set; then 303 to 写报告.  A refusal shows
 * this page again with its reason and the same lesions checked, and
 * stores nothing.
 */
void
page_ai_upload(struct req *r)
{
	struct ai_app		 ap;
	struct ai_job		 jb;
	struct ai_lesion	*l = NULL;
	struct ai_pick		 p;
	struct wf_actor		 w;
	struct buf		 f, c;
	enum wf_result		 res;
	PGresult		*pr;
	const char		*v, *stamp, *findings, *conclusion;
	char			 sid[32];
	long long		 id, job;
	int			 nl, i, base, version = 0;
	size_t			 k;

	if (ai_post_target(r, &id, &job, &ap, &jb) == -1)
		return;
	v = http_field(r, FIELD_VERSION);
	stamp = http_field(r, FIELD_STAMP);
	if (pick_read(r, &p) == -1 || v == NULL || stamp == NULL) {
		ai_page(r, id, job, 400, "提交的内容不完整或有误，影像结论未上传",
		    p.idx != NULL ? &p : NULL);
		return;
	}
	base = atoi(v);
	if (strcmp(jb.state, "done") != 0 || jb.result == 0) {
		ai_page(r, id, job, 409, "该AI阅片任务尚未完成，没有可上传的影像结论",
		    &p);
		return;
	}
	if (strcmp(stamp, jb.stamp) != 0) {
		ai_page(r, id, job, 409, "AI阅片结果已更新，影像结论未上传。"
		    "请核对本页的新结果后重新上传", NULL);
		return;
	}
	if (!ai_app_reader(r, &ap)) {
		ai_page(r, id, job, 403, upload_refusal(r, id, WF_FORBIDDEN),
		    &p);
		return;
	}
	if ((nl = ai_lesions_load(r, id, jb.result, &l)) < 0) {
		page_error(r, 503, MSG_DB);
		return;
	}
	for (k = 0; k < p.n; k++) {
		for (i = 0; i < nl && l[i].idx != p.idx[k]; i++)
			;
		if (i == nl) {
			ai_lesions_free(l, nl);
			ai_page(r, id, job, 400, "所选病灶不存在，影像结论未上传",
			    &p);
			return;
		}
	}
	buf_init(&f, 4 * FINDINGS_MAX + 1);
	buf_init(&c, 4 * CONCLUSION_MAX + 1);
	add_line(r, &f, jb.findings);
	add_line(r, &c, jb.conclusion);
	for (i = 0; i < nl; i++) {
		if (!picked(&p, l[i].idx))
			continue;
		add_line(r, &f, l[i].findings);
		add_line(r, &c, l[i].conclusion);
	}
	ai_lesions_free(l, nl);
	findings = f.len > 0 ? arena_strndup(r->a, f.data, f.len) : "";
	conclusion = c.len > 0 ? arena_strndup(r->a, c.data, c.len) : "";
	buf_free(&f);
	buf_free(&c);
	if (findings == NULL || conclusion == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if (*findings == '\0' && *conclusion == '\0') {
		ai_page(r, id, job, 400, "该AI结果没有可上传的影像表现或影像结论",
		    &p);
		return;
	}
	/* The draft the page was shown with; a later one makes the save
	 * stale below, so nothing written since is lost. */
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	pr = db_exec(r->db, "SELECT findings, conclusion FROM report_versions"
	    " WHERE application_id = $1::bigint AND version = $2::int", 2, sid,
	    v);
	if (pr == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (PQntuples(pr) == 1) {
		findings = join_draft(r, db_val(pr, 0, 0), findings);
		conclusion = join_draft(r, db_val(pr, 0, 1), conclusion);
	} else if (base != 0) {
		PQclear(pr);
		ai_page(r, id, job, 409, upload_refusal(r, id, WF_STALE), &p);
		return;
	}
	PQclear(pr);
	if (findings == NULL || conclusion == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if (u8_chars(findings) > FINDINGS_MAX || u8_chars(conclusion) >
	    CONCLUSION_MAX) {
		ai_page(r, id, job, 400, "加入后报告内容超过长度限制（影像表现"
		    "20000字、影像结论5000字），影像结论未上传", &p);
		return;
	}
	page_actor(r, &w);
	res = wf_report_save(r->db, &w, id, base, findings, conclusion, 1,
	    &version);
	if (res == WF_OK) {
		log_info("%s: %s took AI job %lld into report %lld v%d (%zu"
		    " lesions)", __func__, r->sess.acct.login, job, id,
		    version, p.n);
		http_redirect(r, arena_printf(r->a, "/report?id=%lld&ai=1", id));
		return;
	}
	if (res == WF_NOT_FOUND) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	ai_page(r, id, job, wf_http_status(res), upload_refusal(r, id, res),
	    &p);
}

/* What a refused 设为关键图像 means here, in Chinese. */
static const char *
key_refusal(struct req *r, long long id, enum wf_result res,
    const char *why)
{
	struct ai_app	 ap;
	const char	*off;

	if (why != NULL)
		return arena_printf(r->a, "未设为关键图像：%s", why);
	switch (res) {
	case WF_FORBIDDEN:
		return "您没有为该申请单写报告的权限，不能设置关键图像";
	case WF_LOCKED:
	case WF_CONFLICT:
		if (ai_app_load(r, id, &ap) == 1 &&
		    (off = ai_key_refusal(r, &ap)) != NULL)
			return off;
		return wf_messages[res];
	default:
		return wf_messages[res];
	}
}

/*
 * POST /ai/key-image (设为关键图像): id, job, z (the slice shown, from 0)
 * and window (the window shown), and sort to keep the lesions' order.
 * The slice becomes one of the report's key images through
 * wf_key_image_add() (the lock holder, 报告中, at most
 * WF_KEY_IMAGES_MAX, each once); then 303 back to this result at that
 * slice with the notice.  A refusal shows this page at the same slice
 * with its reason, and stores nothing.
 */
void
page_ai_key_image(struct req *r)
{
	struct ai_app		 ap;
	struct ai_job		 jb;
	struct wf_key_image	 k;
	struct wf_actor		 a;
	enum wf_result		 res;
	const char		*v, *why, *sort;
	long long		 id, job;
	size_t			 i;
	int			 w;

	if (ai_post_target(r, &id, &job, &ap, &jb) == -1)
		return;
	if (strcmp(jb.state, "done") != 0 || jb.result == 0) {
		ai_page(r, id, job, 409, "该AI阅片任务尚未完成，不能设置关键图像",
		    NULL);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.job = job;
	k.slice = (v = http_field(r, FIELD_Z)) != NULL && *v != '\0' ?
	    atoi(v) : -1;
	v = http_field(r, FIELD_WINDOW);
	w = v != NULL && *v != '\0' ? preview_window_parse(v) : WINDOW_AUTO;
	if (k.slice < 0 || r->field_bad[FIELD_Z] || w < 0 ||
	    r->field_bad[FIELD_WINDOW]) {
		ai_page(r, id, job, 400, "请选择要设为关键图像的层面", NULL);
		return;
	}
	k.window = preview_windows[w].name;
	page_actor(r, &a);
	res = wf_key_image_add(r->db, &a, id, &k, &why);
	if (res == WF_OK) {
		/* The lesions' order as the page had it, one of its own. */
		sort = r->fields[FIELD_SORT];
		for (i = 0; sort != NULL && i < NORDERS; i++)
			if (strcmp(sort, lesion_orders[i].word) == 0)
				jb.sort = lesion_orders[i].word;
		http_redirect(r, arena_printf(r->a, "%s&key=added#viewer",
		    ai_href(r, id, &jb, k.slice, w)));
		return;
	}
	if (res == WF_NOT_FOUND && why == NULL) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	ai_page(r, id, job, wf_http_status(res), key_refusal(r, id, res, why),
	    NULL);
}

/* What a refused 删除病灶序号框 means here, in Chinese. */
static const char *
delete_refusal(struct req *r, long long id, enum wf_result res,
    const char *why)
{
	struct ai_app	 ap;

	if (why != NULL)
		return arena_printf(r->a, "病灶序号框未删除：%s", why);
	switch (res) {
	case WF_FORBIDDEN:
		return "您没有为该申请单写报告的权限，不能删除病灶序号框";
	case WF_LOCKED:
	case WF_CONFLICT:
		if (ai_app_load(r, id, &ap) != 1)
			return wf_messages[res];
		if (ap.state == APP_REPORTING && *ap.holder != '\0' &&
		    ap.locked_by != r->sess.acct.id)
			return arena_printf(r->a, "该申请单正由%s书写报告，"
			    "只有锁定该申请单的医生可删除病灶序号框", ap.holder);
		if (ap.state == APP_PENDING)
			return "删除病灶序号框须先在写报告页面锁定该申请单";
		if (ap.state >= 0)
			return arena_printf(r->a, "该申请单当前状态为“%s”，"
			    "不能删除病灶序号框", app_state_names[ap.state].zh);
		return wf_messages[res];
	default:
		return wf_messages[res];
	}
}

/*
 * POST /ai/lesion/delete (删除病灶序号框): id, job, stamp (the result's
 * revision the page was shown with), lesion (its number), and z, window
 * and sort to come back to the same view.  Only for the readers whose
 * boxes the manual lets a doctor delete (ai_boxes_deletable()); the box
 * goes from this application's view of the result through
 * wf_ai_lesion_delete() (the lock holder, 报告中; history and audit),
 * then 303 back to the result with the notice.  A refusal shows this
 * page with its reason and deletes nothing.
 */
void
page_ai_lesion_delete(struct req *r)
{
	struct ai_app		 ap;
	struct ai_job		 jb;
	struct wf_actor		 a;
	enum wf_result		 res;
	const char		*v, *why, *sort, *stamp;
	long long		 id, job;
	size_t			 i;
	int			 w, z, idx;

	if (ai_post_target(r, &id, &job, &ap, &jb) == -1)
		return;
	if (strcmp(jb.state, "done") != 0 || jb.result == 0) {
		ai_page(r, id, job, 409, "该AI阅片任务尚未完成，没有可删除的病灶序号框",
		    NULL);
		return;
	}
	if (!ai_boxes_deletable(jb.reader)) {
		ai_page(r, id, job, 400, arena_printf(r->a, "%s的病灶不能删除",
		    reader_name_zh(jb.reader)), NULL);
		return;
	}
	stamp = http_field(r, FIELD_STAMP);
	v = http_field(r, FIELD_LESION);
	idx = v != NULL && *v != '\0' ? atoi(v) : 0;
	if (stamp == NULL || idx <= 0) {
		ai_page(r, id, job, 400, "请选择要删除的病灶序号框", NULL);
		return;
	}
	/* The box the doctor saw: a result read again has new boxes. */
	if (strcmp(stamp, jb.stamp) != 0) {
		ai_page(r, id, job, 409, "AI阅片结果已更新，病灶序号框未删除。"
		    "请核对本页的新结果", NULL);
		return;
	}
	page_actor(r, &a);
	res = wf_ai_lesion_delete(r->db, &a, id, job, idx, &why);
	if (res == WF_OK) {
		log_info("%s: %s deleted box %d of AI job %lld for application"
		    " %lld", __func__, r->sess.acct.login, idx, job, id);
		v = http_field(r, FIELD_Z);
		z = v != NULL && *v != '\0' && !r->field_bad[FIELD_Z] ?
		    atoi(v) : 0;
		if (z < 0 || z >= jb.n)
			z = 0;
		v = http_field(r, FIELD_WINDOW);
		w = v != NULL && *v != '\0' ? preview_window_parse(v) : -1;
		if (w < 0 || r->field_bad[FIELD_WINDOW])
			w = WINDOW_AUTO;
		sort = r->fields[FIELD_SORT];
		for (i = 0; sort != NULL && i < NORDERS; i++)
			if (strcmp(sort, lesion_orders[i].word) == 0)
				jb.sort = lesion_orders[i].word;
		http_redirect(r, arena_printf(r->a, "%s&deleted=%d#lesions",
		    ai_href(r, id, &jb, z, w), idx));
		return;
	}
	if (res == WF_NOT_FOUND && why == NULL) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	ai_page(r, id, job, wf_http_status(res), delete_refusal(r, id, res,
	    why), NULL);
}

/*
 * GET /ai/picture?job=J&picture=NAME: a picture the reader drew for the
 * result of job J (ai_result_pictures: the bone density reader's
 * "bodycomp" colour map and "sagittal" view), as PNG.  Under the rule of
 * /ai/slice: only for a series of a study linked to an application the
 * user's institution may see; 404 otherwise.
 */
void
page_ai_picture(struct req *r)
{
	PGresult	*res;
	const char	*name, *hex;
	unsigned char	*png;
	char		 sjob[32], inst[32];
	long long	 job, series;
	size_t		 n, i;

	job = field_id(r, FIELD_JOB);
	name = http_field(r, FIELD_PICTURE);
	if (job <= 0 || name == NULL || *name == '\0') {
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT encode(p.png, 'hex'), se.id"
	    " FROM ai_jobs j JOIN ai_results res ON res.job_id = j.id"
	    " JOIN ai_result_pictures p ON p.result_id = res.id AND p.name = $2"
	    " JOIN series se ON se.id = j.series_id"
	    " WHERE j.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies l JOIN applications a"
	    "  ON a.id = l.application_id WHERE l.study_id = se.study_id"
	    "  AND application_visible(a, $3::bigint))", 3, sjob, name, inst);
	if (res == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	hex = db_val(res, 0, 0);
	series = db_ll(res, 0, 1);
	n = strlen(hex) / 2;
	if ((png = arena_alloc(r->a, n + 1)) == NULL) {
		PQclear(res);
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned int	 b;

		(void)sscanf(hex + 2 * i, "%2x", &b);
		png[i] = (unsigned char)b;
	}
	PQclear(res);
	if (page_audit_image(r, series) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	(void)http_open(r, 200, "image/png");
	(void)http_write(r, (const char *)png, n);
}

/* The shape named in a bone density level's conclusion, "" when none. */
static const char *
bmd_shape(const char *conclusion)
{
	static const char *const shapes[] = { "楔形", "双凹形", "压缩形" };
	size_t	 i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (strstr(conclusion, shapes[i]) != NULL)
			return shapes[i];
	return "";
}

/*
 * GET /ai/bmd-report?id=N&job=J (一键输出脊柱椎体评估报告): the bone
 * density reader's result as one A4 sheet: the hospital and the patient,
 * a row per measured vertebra (CT number, estimated BMD, its class, the
 * heights and their ratios, the Genant grade and shape), the mid-sagittal
 * view with the heights drawn, the body composition's colour map with its
 * legend and areas, the conclusions and that they are for reference
 * only.  For whoever may see the result page (its access rule); 404
 * otherwise, and for a job of another reader or without a result.
 */
void
page_ai_bmd_report(struct req *r)
{
	struct tdict		*d, *t;
	struct ai_app		 ap;
	struct ai_job		 jb;
	struct ai_lesion	*l = NULL;
	PGresult		*res;
	char			 sinst[32];
	long long		 id, job;
	int			 rc, nl, i;

	if ((id = field_id(r, FIELD_ID)) == 0 ||
	    (job = field_id(r, FIELD_JOB)) == 0) {
		page_error(r, 404, MSG_NO_RESULT);
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	if ((rc = ai_app_load(r, id, &ap)) == 1)
		rc = ai_job_load(r, id, job, 1, &jb);
	if (rc == 1 && (strcmp(jb.reader, "ct_bone_density") != 0 ||
	    strcmp(jb.state, "done") != 0 || jb.result == 0))
		rc = 0;
	if (rc <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ? MSG_NO_RESULT :
		    MSG_DB);
		return;
	}
	(void)snprintf(sinst, sizeof(sinst), "%lld", ap.mode == MODE_SUPERIOR &&
	    ap.target_inst != 0 ? ap.target_inst : ap.applicant_inst);
	res = db_exec(r->db, "SELECT name, to_char(now(),"
	    " 'YYYY-MM-DD HH24:MI') FROM institutions WHERE id = $1::bigint",
	    1, sinst);
	if (res == NULL || (nl = ai_lesions_load(r, id, jb.result, &l)) < 0 ||
	    page_audit_read(r, "ai_spine_report_viewed", "ai_job", job,
	    ap.diag_no) == -1) {
		PQclear(res);
		page_error(r, 503, MSG_DB);
		return;
	}
	(void)tdict_set(d, "hospital", PQntuples(res) == 1 ? db_val(res, 0,
	    0) : "");
	(void)tdict_set(d, "now", PQntuples(res) == 1 ? db_val(res, 0, 1) :
	    "");
	PQclear(res);
	(void)tdict_setf(d, "id", "%lld", id);
	(void)tdict_setf(d, "job", "%lld", job);
	(void)tdict_set(d, "diag_no", ap.diag_no);
	(void)tdict_set(d, "patient_name", ap.patient_name);
	(void)tdict_set(d, "patient_sex", ap.patient_sex);
	(void)tdict_set(d, "patient_age", ap.patient_age);
	(void)tdict_set(d, "series_label", jb.label);
	(void)tdict_set(d, "finished_at", jb.finished_at);
	(void)tdict_set(d, "findings", jb.findings);
	(void)tdict_set(d, "conclusion", jb.conclusion);
	(void)tdict_set(d, "disclaimer", AI_DISCLAIMER);
	for (i = 0; i < nl; i++) {
		double	 ha = NAN, hm = NAN, hp = NAN, v;
		const char *cut;

		if ((t = tdict_add(d, "levels")) == NULL)
			break;
		(void)tdict_set(t, "level", l[i].location);
		cut = strstr(l[i].type, "，");
		(void)tdict_set(t, "category", cut != NULL ?
		    arena_strndup(r->a, l[i].type, (size_t)(cut - l[i].type)) :
		    l[i].type);
		(void)tdict_set(t, "hu", lesion_measure(&l[i], "平均CT值", &v) ?
		    num_text(r, v) : "");
		(void)tdict_set(t, "bmd", lesion_measure(&l[i], "估算骨密度",
		    &v) ? num_text(r, v) : "");
		if (lesion_measure(&l[i], "前缘高度", &ha))
			(void)tdict_set(t, "ha", num_text(r, ha));
		if (lesion_measure(&l[i], "中部高度", &hm))
			(void)tdict_set(t, "hm", num_text(r, hm));
		if (lesion_measure(&l[i], "后缘高度", &hp))
			(void)tdict_set(t, "hp", num_text(r, hp));
		if (isfinite(ha) && isfinite(hp) && hp > 0.0)
			(void)tdict_set(t, "ra", arena_printf(r->a, "%.2f",
			    ha / hp));
		if (isfinite(hm) && isfinite(hp) && hp > 0.0)
			(void)tdict_set(t, "rm", arena_printf(r->a, "%.2f",
			    hm / hp));
		if (lesion_measure(&l[i], "Genant分级", &v))
			(void)tdict_set(t, "grade", arena_printf(r->a, "%.0f%s%s",
			    v, v > 0.0 ? " " : "", v > 0.0 ?
			    bmd_shape(l[i].conclusion) : ""));
	}
	ai_lesions_free(l, nl);
	ai_bmd_block(r, d, id, &jb);
	page_render(r, 200, "ai_bmd_report.html", d);
}
