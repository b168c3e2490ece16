/*
 * report.c - the reading doctors' pages and the report they produce:
 * 写报告 (with its lock, autosave and submission), 解除锁定, 审核,
 * 查看报告 and 打印.
 *
 * Every change goes through the workflow library (workflow.h), which
 * checks who may do what and keeps each report version; this file reads
 * what the pages show and renders it.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "matcher.h"
#include "pages.h"
#include "preview.h"
#include "workflow.h"

#define MSG_DB		"系统暂时不可用，请稍后重试"
#define MSG_INTERNAL	"系统内部错误"
#define MSG_NO_REPORT	"报告不存在或无权查看"
#define MSG_TOO_LONG	"报告内容过长或包含无效字符"
#define KEY_IMAGE_EDGE	768	/* longest edge of a key image, pixels */
#define AI_DISCLAIMER	"本报告部分内容由人工智能辅助生成，仅供参考，不得直接用于诊疗"

/* Columns of APP_SQL, in order. */
enum app_col {
	C_ID, C_DIAG_NO, C_STATE, C_MODE, C_PATIENT_NAME, C_PATIENT_SEX,
	C_PATIENT_AGE, C_PATIENT_BIRTH, C_PATIENT_NO, C_APPLICANT_INST,
	C_APPLICANT, C_EXAM_TYPE, C_BODY_PART, C_CHIEF_COMPLAINT,
	C_PRESENT_ILLNESS, C_HISTORY, C_CLINICAL_DIAGNOSIS, C_URGENCY,
	C_ASSIST, C_ASSIST_INST, C_TARGET_INST, C_SUBMITTED_AT,
	C_REVIEW_COMMENT, C_LOCKED_BY, C_AUTHOR_ID, C_AUTHOR, C_AUTHOR_TITLE,
	C_REVIEWER_ID, C_REVIEWER, C_REVIEWER_TITLE, C_REPORTED_AT,
	C_REVIEWED_AT, C_EXAM_DATE, C_ACCESSION, C_AUTHOR_INST,
	C_APPLICANT_INST_ID, C_TARGET_INST_ID, C_ASSIST_INST_ID, C_NOW,
	C__MAX
};

/* One application as the user's institution may see it. */
#define APP_SQL \
	"SELECT a.id, a.diag_no, a.state, a.mode, a.patient_name," \
	" a.patient_sex, a.patient_age," \
	" coalesce(to_char(a.patient_birth, 'YYYY-MM-DD'), ''), a.patient_no," \
	" ai.name, ap.display_name, a.exam_type, a.body_part," \
	" a.chief_complaint, a.present_illness, a.history," \
	" a.clinical_diagnosis, a.urgency, a.assist, coalesce(si.name, '')," \
	" coalesce(ti.name, '')," \
	" to_char(a.submitted_at, 'YYYY-MM-DD HH24:MI'), a.review_comment," \
	" coalesce(a.locked_by, 0), coalesce(a.report_author_id, 0)," \
	" coalesce(au.display_name, ''), coalesce(au.title, '')," \
	" coalesce(a.reviewer_id, 0), coalesce(rv.display_name, '')," \
	" coalesce(rv.title, '')," \
	" coalesce(to_char(a.reported_at, 'YYYY-MM-DD HH24:MI'), '')," \
	" coalesce(to_char(a.reviewed_at, 'YYYY-MM-DD HH24:MI'), '')," \
	" coalesce(to_char(a.exam_date, 'YYYY-MM-DD'), ''), a.accession," \
	" coalesce(ui.name, ''), a.applicant_institution_id," \
	" coalesce(a.target_institution_id, 0)," \
	" CASE WHEN a.assist THEN a.assist_institution_id ELSE 0 END," \
	" to_char(now(), 'YYYY-MM-DD HH24:MI')" \
	" FROM applications a" \
	" JOIN institutions ai ON ai.id = a.applicant_institution_id" \
	" JOIN users ap ON ap.id = a.applicant_id" \
	" LEFT JOIN institutions ti ON ti.id = a.target_institution_id" \
	" LEFT JOIN institutions si ON si.id = a.assist_institution_id" \
	" LEFT JOIN users au ON au.id = a.report_author_id" \
	" LEFT JOIN institutions ui ON ui.id = au.institution_id" \
	" LEFT JOIN users rv ON rv.id = a.reviewer_id" \
	" WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)"

/* What the handlers need to decide, beyond what the page shows. */
struct app_info {
	long long	 id;
	int		 state;		/* enum app_state, or -1 */
	enum app_mode	 mode;
	long long	 author, reviewer, locked_by;
	long long	 applicant_inst, target_inst, assist_inst;
	char		 diag_no[32];
};

/* The editor's content when a page is shown again after a POST. */
struct draft {
	const char	*findings, *conclusion;
	int		 version, ai_used;
};

static long long
req_id(const struct req *r)
{
	const char	*s;
	long long	 id;

	if ((s = http_field(r, FIELD_ID)) == NULL || *s == '\0')
		return 0;
	id = strtoll(s, NULL, 10);
	return id > 0 ? id : 0;
}

/* The lowest title that signs off, from the configuration. */
static enum title
signoff_title(const struct req *r)
{
	int	 t;

	t = model_lookup(title_names, TITLE__MAX, r->conf->signoff_title);
	/* A misspelt setting must not let anybody sign off. */
	return t > TITLE_NONE ? (enum title)t : TITLE_CHIEF;
}

static const char *
name_zh(const struct model_name *t, int n, const char *code)
{
	int	 i;

	i = model_lookup(t, n, code);
	return i >= 0 ? t[i].zh : code;
}

/* "周子健（住院医师）", or the name alone without a known title. */
static const char *
doctor_label(struct req *r, const char *name, const char *title)
{
	int	 t;

	if (*name == '\0')
		return "";
	t = model_lookup(title_names, TITLE__MAX, title);
	if (t <= TITLE_NONE)
		return name;
	return arena_printf(r->a, "%s（%s）", name, title_names[t].zh);
}

/*
 * Read application id as the user's institution sees it into ai and the
 * page's keys into d.  Returns 1, 0 when there is no such application for
 * this user, or -1 on database trouble.
 */
static int
app_facts(struct req *r, long long id, struct tdict *d, struct app_info *ai)
{
	PGresult	*res;
	const char	*reading;
	char		 sid[32], inst[32];
	int		 s;

	memset(ai, 0, sizeof(*ai));
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(inst, sizeof(inst), "%lld", r->sess.acct.institution_id);
	if ((res = db_exec(r->db, APP_SQL, 2, sid, inst)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	ai->id = db_ll(res, 0, C_ID);
	s = wf_state_parse(db_val(res, 0, C_STATE));
	ai->state = s;
	ai->mode = strcmp(db_val(res, 0, C_MODE), "superior") == 0 ?
	    MODE_SUPERIOR : MODE_SELF;
	ai->author = db_ll(res, 0, C_AUTHOR_ID);
	ai->reviewer = db_ll(res, 0, C_REVIEWER_ID);
	ai->locked_by = db_ll(res, 0, C_LOCKED_BY);
	ai->applicant_inst = db_ll(res, 0, C_APPLICANT_INST_ID);
	ai->target_inst = db_ll(res, 0, C_TARGET_INST_ID);
	ai->assist_inst = db_ll(res, 0, C_ASSIST_INST_ID);
	(void)snprintf(ai->diag_no, sizeof(ai->diag_no), "%s",
	    db_val(res, 0, C_DIAG_NO));

	(void)tdict_set(d, "id", db_val(res, 0, C_ID));
	(void)tdict_set(d, "diag_no", db_val(res, 0, C_DIAG_NO));
	(void)tdict_set(d, "state", s >= 0 ? app_state_names[s].zh : "");
	(void)tdict_set(d, "mode", app_mode_names[ai->mode].zh);
	(void)tdict_set(d, "patient_name", db_val(res, 0, C_PATIENT_NAME));
	(void)tdict_set(d, "patient_sex", page_sex_zh(db_val(res, 0,
	    C_PATIENT_SEX)));
	(void)tdict_set(d, "patient_age", db_val(res, 0, C_PATIENT_AGE));
	(void)tdict_set(d, "patient_birth", db_val(res, 0, C_PATIENT_BIRTH));
	(void)tdict_set(d, "patient_no", db_val(res, 0, C_PATIENT_NO));
	/* One that would push the printed sheet's table past the page
	 * wraps; a usual one stays on one line. */
	(void)tdict_bool(d, "patient_no_long",
	    strlen(db_val(res, 0, C_PATIENT_NO)) > 32);
	(void)tdict_set(d, "applicant_institution", db_val(res, 0,
	    C_APPLICANT_INST));
	(void)tdict_set(d, "applicant", db_val(res, 0, C_APPLICANT));
	(void)tdict_set(d, "exam_type", db_val(res, 0, C_EXAM_TYPE));
	(void)tdict_set(d, "body_part", db_val(res, 0, C_BODY_PART));
	(void)tdict_set(d, "chief_complaint", db_val(res, 0,
	    C_CHIEF_COMPLAINT));
	(void)tdict_set(d, "present_illness", db_val(res, 0,
	    C_PRESENT_ILLNESS));
	(void)tdict_set(d, "history", db_val(res, 0, C_HISTORY));
	(void)tdict_set(d, "clinical_diagnosis", db_val(res, 0,
	    C_CLINICAL_DIAGNOSIS));
	(void)tdict_set(d, "urgency", name_zh(urgency_names, URGENCY__MAX,
	    db_val(res, 0, C_URGENCY)));
	(void)tdict_bool(d, "urgent", strcmp(db_val(res, 0, C_URGENCY),
	    "routine") != 0);
	(void)tdict_set(d, "assist", db_bool(res, 0, C_ASSIST) ?
	    arena_printf(r->a, "是（%s）", db_val(res, 0, C_ASSIST_INST)) :
	    "否");
	(void)tdict_set(d, "target_institution", db_val(res, 0,
	    C_TARGET_INST));
	(void)tdict_set(d, "submitted_at", db_val(res, 0, C_SUBMITTED_AT));
	(void)tdict_set(d, "review_comment", db_val(res, 0,
	    C_REVIEW_COMMENT));
	(void)tdict_bool(d, "has_review_comment",
	    !text_blank(db_val(res, 0, C_REVIEW_COMMENT)));
	(void)tdict_set(d, "author", doctor_label(r, db_val(res, 0, C_AUTHOR),
	    db_val(res, 0, C_AUTHOR_TITLE)));
	(void)tdict_set(d, "reviewer", doctor_label(r, db_val(res, 0,
	    C_REVIEWER), db_val(res, 0, C_REVIEWER_TITLE)));
	(void)tdict_bool(d, "has_reviewer", ai->reviewer != 0);
	(void)tdict_set(d, "reported_at", db_val(res, 0, C_REPORTED_AT));
	(void)tdict_set(d, "reviewed_at", db_val(res, 0, C_REVIEWED_AT));
	(void)tdict_set(d, "exam_date", db_val(res, 0, C_EXAM_DATE));
	(void)tdict_set(d, "accession", db_val(res, 0, C_ACCESSION));
	(void)tdict_set(d, "now", db_val(res, 0, C_NOW));
	/* The hospital that read it heads the printed report: the author's;
	 * before there is one, the institution the mode names. */
	reading = db_val(res, 0, C_AUTHOR_INST);
	if (*reading == '\0')
		reading = db_val(res, 0, ai->mode == MODE_SUPERIOR ?
		    C_TARGET_INST : C_APPLICANT_INST);
	(void)tdict_set(d, "reading_institution", reading);
	PQclear(res);
	return 1;
}

/*
 * The latest report version into d (findings, conclusion, version,
 * ai_used) and whether any version used AI text (ai_any).  Returns 0 or
 * -1.
 */
static int
report_latest(struct req *r, long long id, struct tdict *d)
{
	PGresult	*res;
	char		 sid[32];

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT coalesce(l.version, 0),"
	    " coalesce(l.findings, ''), coalesce(l.conclusion, ''),"
	    " coalesce(l.ai_used, false),"
	    " coalesce((SELECT bool_or(ai_used) FROM report_versions"
	    "  WHERE application_id = $1::bigint), false)"
	    " FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT version, findings,"
	    "  conclusion, ai_used FROM report_versions"
	    "  WHERE application_id = $1::bigint"
	    "  ORDER BY version DESC LIMIT 1) l ON true", 1, sid);
	if (res == NULL)
		return -1;
	(void)tdict_set(d, "version", db_val(res, 0, 0));
	(void)tdict_set(d, "findings", db_val(res, 0, 1));
	(void)tdict_set(d, "conclusion", db_val(res, 0, 2));
	(void)tdict_set(d, "ai_used", db_bool(res, 0, 3) ? "1" : "0");
	(void)tdict_bool(d, "ai_any", db_bool(res, 0, 4));
	(void)tdict_set(d, "ai_disclaimer", AI_DISCLAIMER);
	PQclear(res);
	return 0;
}

/* Every version of the report, newest first, as list "versions". */
static int
report_versions(struct req *r, long long id, struct tdict *d)
{
	static const struct model_name kinds[] = {
		{ "draft",	"草稿（保存）" },
		{ "submitted",	"提交审核" },
		{ "final",	"最终报告" },
	};
	PGresult	*res;
	struct tdict	*v;
	char		 sid[32];
	int		 i;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT v.version, u.display_name,"
	    " to_char(v.created_at, 'YYYY-MM-DD HH24:MI:SS'), v.kind,"
	    " v.ai_used FROM report_versions v"
	    " JOIN users u ON u.id = v.author_id"
	    " WHERE v.application_id = $1::bigint ORDER BY v.version DESC",
	    1, sid);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if ((v = tdict_add(d, "versions")) == NULL)
			break;
		(void)tdict_set(v, "number", db_val(res, i, 0));
		(void)tdict_set(v, "author", db_val(res, i, 1));
		(void)tdict_set(v, "at", db_val(res, i, 2));
		(void)tdict_set(v, "kind", name_zh(kinds,
		    (int)(sizeof(kinds) / sizeof(kinds[0])), db_val(res, i, 3)));
		(void)tdict_set(v, "ai", db_bool(res, i, 4) ? "是" : "否");
	}
	PQclear(res);
	return 0;
}

/*
 * 关联影像: row 1 the original series of the linked studies (list
 * "series"), row 2 the AI readers' jobs on them and, for a series that
 * fits no reader, why (list "ai").  Returns 0 or -1.
 */
static int
app_images(struct req *r, long long id, struct tdict *d)
{
	PGresult	*res;
	struct tdict	*s, *c;
	struct ai_card	*cards;
	const char	*mod;
	char		 sid[32];
	int		 i, n;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT se.id, se.modality, se.description,"
	    " se.instance_count,"
	    " coalesce(trim_scale(round(se.slice_thickness::numeric, 2))::text"
	    "  || ' mm', '—'),"
	    " coalesce(trim_scale(round(se.kvp::numeric, 1))::text || ' kV',"
	    "  '—'),"
	    " CASE WHEN se.kernel = '' THEN '—' ELSE se.kernel END,"
	    " coalesce(se.series_number::text, '')"
	    " FROM application_studies x JOIN studies st ON st.id = x.study_id"
	    " JOIN series se ON se.study_id = st.id"
	    " WHERE x.application_id = $1::bigint"
	    " ORDER BY st.study_date, st.id, se.series_number NULLS LAST, se.id",
	    1, sid);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if ((s = tdict_add(d, "series")) == NULL)
			break;
		mod = db_val(res, i, 1);
		(void)tdict_set(s, "series_id", db_val(res, i, 0));
		(void)tdict_set(s, "modality", mod);
		(void)tdict_set(s, "description", *db_val(res, i, 2) != '\0' ?
		    db_val(res, i, 2) : "—");
		(void)tdict_set(s, "slices", db_val(res, i, 3));
		(void)tdict_set(s, "thickness", db_val(res, i, 4));
		(void)tdict_set(s, "kvp", db_val(res, i, 5));
		(void)tdict_set(s, "kernel", db_val(res, i, 6));
		(void)tdict_set(s, "number", db_val(res, i, 7));
		(void)tdict_set(s, "window", strcmp(mod, "CT") == 0 ? "lung" :
		    "auto");
	}
	PQclear(res);
	/* Row 2: the AI readers' jobs (ai.c, which also answers the polls
	 * of report.js for those still queued or running). */
	if ((n = ai_cards(r, id, &cards)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((c = tdict_add(d, "ai")) == NULL)
			break;
		(void)tdict_set(c, "job", cards[i].job);
		(void)tdict_set(c, "reader", cards[i].reader);
		(void)tdict_set(c, "series_label", cards[i].series);
		(void)tdict_set(c, "job_state", cards[i].state);
		(void)tdict_set(c, "cls", cards[i].cls);
		(void)tdict_set(c, "note", cards[i].note);
		(void)tdict_bool(c, "has_note", *cards[i].note != '\0');
		(void)tdict_set(c, "href", cards[i].href);
		(void)tdict_bool(c, "has_href", *cards[i].href != '\0');
	}
	return 0;
}

/*
 * The key images (关键图像) of application id, in their order, as list
 * "keys" (key, caption, src, position) with has_keys, key_count and
 * keys_full.  Every picture is fetched through /report/key-image, which
 * checks again that the user's institution may see it.  Returns 0 or -1.
 */
static int
report_keys(struct req *r, long long id, struct tdict *d)
{
	PGresult	*res;
	struct tdict	*k;
	char		 sid[32];
	int		 i, n;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT id, caption FROM report_key_images"
	    " WHERE application_id = $1::bigint ORDER BY position", 1, sid);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if ((k = tdict_add(d, "keys")) == NULL)
			break;
		(void)tdict_set(k, "key", db_val(res, i, 0));
		(void)tdict_set(k, "caption", db_val(res, i, 1));
		(void)tdict_setf(k, "position", "%d", i + 1);
		(void)tdict_set(k, "src", arena_printf(r->a,
		    "/report/key-image?id=%lld&key=%s", id, db_val(res, i, 0)));
	}
	PQclear(res);
	(void)tdict_bool(d, "has_keys", n > 0);
	(void)tdict_setf(d, "key_count", "%d", n);
	(void)tdict_setf(d, "key_max", "%d", WF_KEY_IMAGES_MAX);
	(void)tdict_bool(d, "keys_full", n >= WF_KEY_IMAGES_MAX);
	return 0;
}

/* The preset nearest to a reader's window (center, width). */
static const char *
window_near(json_t *center, json_t *width)
{
	double	 c, w, dist, best = -1;
	int	 i, pick = WINDOW_AUTO;

	if (!json_is_number(center) || !json_is_number(width))
		return preview_windows[WINDOW_AUTO].name;
	c = json_number_value(center);
	w = json_number_value(width);
	for (i = 0; i < WINDOW__MAX; i++) {
		if (i == WINDOW_AUTO)
			continue;
		dist = (c - preview_windows[i].center) *
		    (c - preview_windows[i].center) +
		    (w - preview_windows[i].width) *
		    (w - preview_windows[i].width);
		if (best < 0 || dist < best) {
			best = dist;
			pick = i;
		}
	}
	return preview_windows[pick].name;
}

/*
 * What the writer may choose as key images besides the series previews
 * (list "series" of app_images): the key slices of the finished AI
 * results on the application's series (list "key_ai": job, z, k, window,
 * reader, caption), and for each result a slice of the doctor's own
 * choosing (list "key_jobs": job, reader, n).  Returns 0 or -1.
 */
static int
key_choices(struct req *r, long long id, struct tdict *d)
{
	PGresult	*res;
	struct tdict	*x;
	json_t		*a, *o, *z;
	const char	*reader;
	char		 sid[32];
	size_t		 j;
	int		 i, n;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	res = db_exec(r->db, "SELECT j.id, j.reader,"
	    " coalesce(array_length(res.slice_uids, 1), 0),"
	    " res.key_images::text, coalesce(se.series_number::text, '')"
	    " FROM application_studies x JOIN studies st ON st.id = x.study_id"
	    " JOIN series se ON se.study_id = st.id"
	    " JOIN ai_jobs j ON j.series_id = se.id AND j.state = 'done'"
	    " JOIN ai_results res ON res.job_id = j.id"
	    " WHERE x.application_id = $1::bigint"
	    " ORDER BY st.study_date, st.id, se.series_number NULLS LAST, se.id,"
	    "  j.reader", 1, sid);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		n = (int)db_ll(res, i, 2);
		if (n <= 0)
			continue;
		reader = reader_name_zh(db_val(res, i, 1));
		if ((x = tdict_add(d, "key_jobs")) != NULL) {
			(void)tdict_set(x, "job", db_val(res, i, 0));
			(void)tdict_set(x, "reader", reader);
			(void)tdict_set(x, "series_number", db_val(res, i, 4));
			(void)tdict_setf(x, "n", "%d", n);
		}
		if ((a = json_loads(db_val(res, i, 3), 0, NULL)) == NULL)
			continue;
		json_array_foreach(a, j, o) {
			z = json_object_get(o, "slice");
			if (!json_is_integer(z) || json_integer_value(z) < 0 ||
			    json_integer_value(z) >= n ||
			    (x = tdict_add(d, "key_ai")) == NULL)
				continue;
			(void)tdict_set(x, "job", db_val(res, i, 0));
			(void)tdict_setf(x, "z", "%d",
			    (int)json_integer_value(z));
			(void)tdict_setf(x, "k", "%d",
			    (int)json_integer_value(z) + 1);
			(void)tdict_set(x, "window", window_near(
			    json_object_get(o, "window_center"),
			    json_object_get(o, "window_width")));
			(void)tdict_set(x, "reader", reader);
			(void)tdict_set(x, "caption", json_is_string(
			    json_object_get(o, "caption")) ? arena_printf(r->a,
			    "%s", json_string_value(json_object_get(o,
			    "caption"))) : "");
		}
		json_decref(a);
	}
	PQclear(res);
	return 0;
}

/* Styles and scripts of the report pages, for the shared header. */
static void
report_assets(struct tdict *d)
{
	struct tdict	*x;

	if ((x = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(x, "href", "/static/report.css");
	if ((x = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(x, "src", "/static/report.js");
}

static void
set_message(struct tdict *d, const char *error, const char *notice)
{
	(void)tdict_set(d, "error", error != NULL ? error : "");
	(void)tdict_bool(d, "has_error", error != NULL);
	(void)tdict_set(d, "notice", notice != NULL ? notice : "");
	(void)tdict_bool(d, "has_notice", notice != NULL);
}

/*
 * The 写报告 page of application id, whose lock the user holds: the
 * application, its images, and the editor with the latest version, or
 * with dr when the page is shown again after a refused POST.
 */
static void
report_editor(struct req *r, long long id, int status, const struct draft *dr,
    const char *error, const char *notice)
{
	struct tdict	*d;
	struct app_info	 ai;
	int		 rc;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)tdict_set(d, "title", "写报告");
	if ((rc = app_facts(r, id, d, &ai)) <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ?
		    wf_messages[WF_NOT_FOUND] : MSG_DB);
		return;
	}
	/* The images beside the report: the viewer (viewer.c). */
	if (report_latest(r, id, d) == -1 || app_images(r, id, d) == -1 ||
	    report_keys(r, id, d) == -1 || key_choices(r, id, d) == -1 ||
	    viewer_block(r, id, 0, d, NULL, 0) == -1 ||
	    page_audit_read(r, "application_viewed", "application", id,
	    ai.diag_no) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (dr != NULL) {
		(void)tdict_set(d, "findings", dr->findings != NULL ?
		    dr->findings : "");
		(void)tdict_set(d, "conclusion", dr->conclusion != NULL ?
		    dr->conclusion : "");
		(void)tdict_setf(d, "version", "%d", dr->version);
		(void)tdict_set(d, "ai_used", dr->ai_used ? "1" : "0");
	}
	/* Sent back by a reviewer: the comment comes first. */
	(void)tdict_bool(d, "returned", ai.state == APP_REPORTING &&
	    ai.reviewer != 0 && ai.author == r->sess.acct.id);
	(void)tdict_bool(d, "shown", 1);
	(void)tdict_bool(d, "offer", 0);
	(void)tdict_bool(d, "editing", 1);
	(void)tdict_bool(d, "locked", 0);
	(void)tdict_bool(d, "can_final", r->sess.acct.title >= signoff_title(r));
	(void)tdict_set(d, "signoff", title_names[signoff_title(r)].zh);
	set_message(d, error, notice);
	report_assets(d);
	page_render(r, status, "report.html", d);
}

/* The 写报告 page when another doctor holds the lock. */
static void
report_locked(struct req *r, const char *holder)
{
	struct tdict	*d;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)tdict_set(d, "title", "写报告");
	(void)tdict_bool(d, "shown", 0);
	(void)tdict_bool(d, "offer", 0);
	(void)tdict_bool(d, "editing", 0);
	(void)tdict_bool(d, "locked", 1);
	(void)tdict_set(d, "lock_message", arena_printf(r->a,
	    "%s（锁定医生：%s）", wf_messages[WF_LOCKED], holder));
	report_assets(d);
	page_render(r, 200, "report.html", d);
}

/* The page's dictionary with the facts of application id in it, and
 * those facts in *ai; NULL when the page has been answered: 500, 503
 * (database) or 404 (no such application the user may see). */
static struct tdict *
report_facts(struct req *r, long long id, struct app_info *ai)
{
	struct tdict	*d;
	int		 rc;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return NULL;
	}
	if ((rc = app_facts(r, id, d, ai)) <= 0 || ai->state < 0) {
		page_error(r, rc < 0 ? 503 : 404, rc < 0 ? MSG_DB :
		    wf_messages[WF_NOT_FOUND]);
		return NULL;
	}
	return d;
}

/* Why an application in its present state cannot be written. */
static void
report_refused(struct req *r, long long id)
{
	struct tdict	*d;
	struct app_info	 ai;

	if ((d = report_facts(r, id, &ai)) == NULL)
		return;
	page_error(r, 409, arena_printf(r->a,
	    "该申请单当前状态为“%s”，不能写报告",
	    app_state_names[ai.state].zh));
}

/* The notice after a key image was added or removed. */
static const char *
key_notice(const char *what)
{
	if (what == NULL)
		return NULL;
	if (strcmp(what, "added") == 0)
		return "已添加关键图像";
	if (strcmp(what, "removed") == 0)
		return "已移除关键图像";
	return NULL;
}

/*
 * GET /report?id=N (写报告) before the lock is the user's: the
 * application and a 写报告 button that POSTs for the lock.  A link
 * opened by a logged-in doctor (a mail, another site) takes nothing and
 * writes no history.  The holder of the lock gets the editor.
 */
static void
report_offer(struct req *r, long long id)
{
	struct tdict	*d;
	struct app_info	 ai;

	if ((d = report_facts(r, id, &ai)) == NULL)
		return;
	if (!page_is_reader(r, ai.mode, ai.applicant_inst, ai.target_inst,
	    ai.assist_inst)) {
		page_error(r, 403, wf_messages[WF_FORBIDDEN]);
		return;
	}
	if (ai.state == APP_REPORTING && ai.locked_by == r->sess.acct.id) {
		report_editor(r, id, 200, NULL, NULL,
		    kv_get(&r->query, "ai") != NULL ?
		    "已将AI辅助阅片意见加入报告，请核对修改后再提交" :
		    kv_get(&r->query, "saved") != NULL ? "报告已保存" :
		    key_notice(kv_get(&r->query, "key")));
		return;
	}
	if (ai.state != APP_PENDING && ai.state != APP_REPORTING) {
		page_error(r, 409, arena_printf(r->a,
		    "该申请单当前状态为“%s”，不能写报告",
		    app_state_names[ai.state].zh));
		return;
	}
	if (page_audit_read(r, "application_viewed", "application", id,
	    ai.diag_no) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	(void)tdict_set(d, "title", "写报告");
	(void)tdict_bool(d, "shown", 1);
	(void)tdict_bool(d, "offer", 1);
	(void)tdict_bool(d, "editing", 0);
	(void)tdict_bool(d, "locked", 0);
	(void)tdict_bool(d, "held", ai.state == APP_REPORTING);
	set_message(d, NULL, NULL);
	report_assets(d);
	page_render(r, 200, "report.html", d);
}

/*
 * POST /report (写报告): take the lock on the application, or confirm
 * it, then show the editor by a redirect (POST/redirect/GET); when
 * another doctor holds it, say who.
 */
static void
report_take(struct req *r, long long id)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	char		 holder[160];

	page_actor(r, &w);
	res = wf_lock(r->db, &w, id, r->conf->lock_idle, holder,
	    sizeof(holder));
	switch (res) {
	case WF_OK:
		http_redirect(r, arena_printf(r->a, "/report?id=%lld", id));
		break;
	case WF_LOCKED:
		report_locked(r, holder);
		break;
	case WF_NOT_FOUND:
		page_error(r, 404, wf_messages[res]);
		break;
	case WF_FORBIDDEN:
		page_error(r, 403, wf_messages[res]);
		break;
	case WF_CONFLICT:
		report_refused(r, id);
		break;
	default:
		page_error(r, 503, wf_messages[WF_ERROR]);
		break;
	}
}

/* /report (写报告): GET shows, POST takes the lock. */
void
page_report(struct req *r)
{
	long long	 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	if (r->method == METHOD_POST)
		report_take(r, id);
	else
		report_offer(r, id);
}

/*
 * The editor fields of a POST.  Returns 0, or -1 when a text is present
 * but too long or not valid UTF-8.
 */
static int
draft_read(const struct req *r, struct draft *dr)
{
	const char	*v;

	memset(dr, 0, sizeof(*dr));
	dr->findings = http_field(r, FIELD_FINDINGS);
	dr->conclusion = http_field(r, FIELD_CONCLUSION);
	v = http_field(r, FIELD_VERSION);
	dr->version = v != NULL ? atoi(v) : -1;
	v = http_field(r, FIELD_AI_USED);
	dr->ai_used = v != NULL && strcmp(v, "1") == 0;
	if ((r->fields[FIELD_FINDINGS] != NULL && dr->findings == NULL) ||
	    (r->fields[FIELD_CONCLUSION] != NULL && dr->conclusion == NULL)) {
		/* Keep what can be kept for the page shown again. */
		if (dr->findings == NULL)
			dr->findings = "";
		if (dr->conclusion == NULL)
			dr->conclusion = "";
		return -1;
	}
	return 0;
}

static int
wants_json(const struct req *r)
{
	const char	*acc;

	acc = FCGX_GetParam("HTTP_ACCEPT", r->fcgi->envp);
	return acc != NULL && strstr(acc, "application/json") != NULL;
}

/* Answer {ok, version, message} with status. */
static void
json_answer(struct req *r, int status, int ok, int version,
    const char *message)
{
	json_t	*j;
	char	*s;

	j = json_pack("{s:b, s:i, s:s}", "ok", ok, "version", version,
	    "message", message);
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	(void)http_open(r, s != NULL ? status : 500,
	    "application/json; charset=utf-8");
	(void)http_puts(r, s != NULL ? s :
	    "{\"ok\":false,\"version\":0,\"message\":\"" MSG_INTERNAL "\"}");
	free(s);
}

int
wf_http_status(enum wf_result res)
{
	switch (res) {
	case WF_OK:
		return 200;
	case WF_NOT_FOUND:
		return 404;
	case WF_FORBIDDEN:
		return 403;
	case WF_INVALID:
		return 400;
	case WF_CONFLICT:
	case WF_LOCKED:
	case WF_STALE:
		return 409;
	default:
		return 503;
	}
}

/*
 * POST /report/save: store a version of the report (autosave from
 * report.js, which asks for JSON, or the 保存 button without scripts,
 * which is sent back to the editor).  A save from a stale version is
 * refused with 409 and stores nothing.
 */
void
page_report_save(struct req *r)
{
	struct wf_actor	 w;
	struct draft	 dr;
	enum wf_result	 res;
	const char	*msg;
	long long	 id;
	int		 json, version = 0;

	json = wants_json(r);
	id = req_id(r);
	if (draft_read(r, &dr) == -1 || id == 0 || dr.version < 0) {
		msg = id == 0 ? wf_messages[WF_NOT_FOUND] : dr.version < 0 ?
		    wf_messages[WF_INVALID] : MSG_TOO_LONG;
		if (json)
			json_answer(r, id == 0 ? 404 : 400, 0, 0, msg);
		else if (id == 0)
			page_error(r, 404, msg);
		else
			report_editor(r, id, 400, &dr, msg, NULL);
		return;
	}
	page_actor(r, &w);
	res = wf_report_save(r->db, &w, id, dr.version, dr.findings,
	    dr.conclusion, dr.ai_used, &version);
	msg = res == WF_OK ? "已保存" : wf_messages[res];
	if (json) {
		json_answer(r, wf_http_status(res), res == WF_OK,
		    res == WF_OK ? version : dr.version, msg);
		return;
	}
	switch (res) {
	case WF_OK:
		http_redirect(r, arena_printf(r->a, "/report?id=%lld&saved=1",
		    id));
		break;
	case WF_STALE:
	case WF_LOCKED:
	case WF_CONFLICT:
		report_editor(r, id, 409, &dr, msg, NULL);
		break;
	default:
		page_error(r, wf_http_status(res), msg);
		break;
	}
}

/*
 * POST /report/submit: submit the report to review (final=0), or as the
 * final report (final=1, only with sign-off).  Findings and conclusion
 * are required; a refused submission shows the editor again with the
 * text as sent.
 */
void
page_report_submit(struct req *r)
{
	struct wf_actor	 w;
	struct draft	 dr;
	enum wf_result	 res;
	const char	*f, *msg;
	long long	 id;
	int		 final;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	if (draft_read(r, &dr) == -1 || dr.version < 0) {
		report_editor(r, id, 400, &dr, dr.version < 0 ?
		    wf_messages[WF_INVALID] : MSG_TOO_LONG, NULL);
		return;
	}
	f = http_field(r, FIELD_FINAL);
	final = f != NULL && strcmp(f, "1") == 0;
	if (text_blank(dr.findings) || text_blank(dr.conclusion)) {
		report_editor(r, id, 400, &dr, text_blank(dr.findings) &&
		    text_blank(dr.conclusion) ? "请填写影像表现和影像结论" :
		    text_blank(dr.findings) ? "请填写影像表现" : "请填写影像结论",
		    NULL);
		return;
	}
	if (final && r->sess.acct.title < signoff_title(r)) {
		report_editor(r, id, 403, &dr, arena_printf(r->a,
		    "出具最终报告需要%s及以上职称，请点击“提交审核”",
		    title_names[signoff_title(r)].zh), NULL);
		return;
	}
	page_actor(r, &w);
	res = wf_report_submit(r->db, &w, id, dr.version, dr.findings,
	    dr.conclusion, dr.ai_used, final, signoff_title(r));
	switch (res) {
	case WF_OK:
		http_redirect(r, final ? arena_printf(r->a,
		    "/report/view?id=%lld", id) : "/worklist");
		break;
	case WF_STALE:
	case WF_LOCKED:
	case WF_CONFLICT:
	case WF_INVALID:
		msg = res == WF_INVALID ? "请填写影像表现和影像结论" :
		    wf_messages[res];
		report_editor(r, id, wf_http_status(res), &dr, msg, NULL);
		break;
	default:
		page_error(r, wf_http_status(res), wf_messages[res]);
		break;
	}
}

/* POST /report/unlock (解除锁定): give the lock up, back to the worklist. */
void
page_report_unlock(struct req *r)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	long long	 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	page_actor(r, &w);
	res = wf_unlock(r->db, &w, id);
	if (res == WF_OK)
		http_redirect(r, "/worklist");
	else if (res == WF_CONFLICT)
		page_error(r, 409, "该申请单未被锁定，无需解除");
	else
		page_error(r, wf_http_status(res), wf_messages[res]);
}

/* Why the user may not review this report, or NULL when they may. */
static const char *
review_refusal(struct req *r, const struct app_info *ai)
{
	if (!page_is_reader(r, ai->mode, ai->applicant_inst,
	    ai->target_inst, ai->assist_inst))
		return wf_messages[WF_FORBIDDEN];
	if (ai->author == r->sess.acct.id)
		return "不能审核本人撰写的报告";
	if (r->sess.acct.title < signoff_title(r))
		return arena_printf(r->a, "审核报告需要%s及以上职称",
		    title_names[signoff_title(r)].zh);
	return NULL;
}

/* The 审核 page: the report with the key images it will be printed
 * with, the application and the 是/否 form. */
static void
review_page(struct req *r, long long id, int status, const char *error,
    const char *approve, const char *comment)
{
	struct tdict	*d;
	struct app_info	 ai;
	const char	*why;
	int		 rc;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return;
	}
	(void)tdict_set(d, "title", "审核报告");
	if ((rc = app_facts(r, id, d, &ai)) <= 0) {
		page_error(r, rc == 0 ? 404 : 503, rc == 0 ?
		    wf_messages[WF_NOT_FOUND] : MSG_DB);
		return;
	}
	if (ai.state != APP_IN_REVIEW) {
		page_error(r, 409, arena_printf(r->a,
		    "该报告不在审核中（当前状态：%s）", ai.state >= 0 ?
		    app_state_names[ai.state].zh : ""));
		return;
	}
	if (report_latest(r, id, d) == -1 || report_versions(r, id, d) == -1 ||
	    report_keys(r, id, d) == -1 ||
	    page_audit_read(r, "report_viewed", "application", id,
	    ai.diag_no) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	why = review_refusal(r, &ai);
	if (why != NULL && status == 200)
		status = 403;
	(void)tdict_bool(d, "can_review", why == NULL);
	(void)tdict_set(d, "refusal", why != NULL ? why : "");
	(void)tdict_bool(d, "refused", why != NULL);
	(void)tdict_bool(d, "approve_yes", approve != NULL &&
	    strcmp(approve, "1") == 0);
	(void)tdict_bool(d, "approve_no", approve != NULL &&
	    strcmp(approve, "0") == 0);
	(void)tdict_set(d, "comment", comment != NULL ? comment : "");
	set_message(d, error, NULL);
	report_assets(d);
	page_render(r, status, "review.html", d);
}

/*
 * GET /review/decide?id=N shows the report to review; POST decides:
 * approve=1 (是) approves it, approve=0 (否) sends it back to its author
 * with the comment, which is then required.
 */
void
page_review_decide(struct req *r)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	const char	*approve, *comment;
	long long	 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	if (r->method != METHOD_POST) {
		review_page(r, id, 200, NULL, NULL, NULL);
		return;
	}
	approve = http_field(r, FIELD_APPROVE);
	comment = http_field(r, FIELD_COMMENT);
	if (r->fields[FIELD_COMMENT] != NULL && comment == NULL) {
		review_page(r, id, 400, "审核意见过长（不超过2000字）", approve,
		    "");
		return;
	}
	if (approve == NULL) {
		review_page(r, id, 400, "请选择是否通过审核", NULL, comment);
		return;
	}
	if (strcmp(approve, "0") == 0 && text_blank(comment)) {
		review_page(r, id, 400, "审核不通过时请填写审核意见", approve,
		    comment);
		return;
	}
	page_actor(r, &w);
	res = wf_review(r->db, &w, id, strcmp(approve, "1") == 0, comment,
	    signoff_title(r));
	switch (res) {
	case WF_OK:
		http_redirect(r, "/review");
		break;
	case WF_FORBIDDEN:
		review_page(r, id, 403, NULL, approve, comment);
		break;
	case WF_INVALID:
		review_page(r, id, 400, "审核不通过时请填写审核意见", approve,
		    comment);
		break;
	case WF_CONFLICT:
		page_error(r, 409, "该报告已被审核或状态已变化，请刷新后重试");
		break;
	default:
		page_error(r, wf_http_status(res), wf_messages[res]);
		break;
	}
}

/*
 * The report of application id into a fresh dictionary, when it is
 * 已报告 or 已审核 and the user's institution may see it.  Returns the
 * dictionary, or NULL after answering with an error page.
 */
static struct tdict *
report_dict(struct req *r, long long id, struct app_info *aip)
{
	struct tdict	*d;
	struct app_info	 ai;
	int		 rc;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, MSG_INTERNAL);
		return NULL;
	}
	if ((rc = app_facts(r, id, d, &ai)) < 0) {
		page_error(r, 503, MSG_DB);
		return NULL;
	}
	if (rc == 0 || (ai.state != APP_REPORTED && ai.state != APP_REVIEWED)) {
		page_error(r, 404, MSG_NO_REPORT);
		return NULL;
	}
	if (report_latest(r, id, d) == -1 || report_versions(r, id, d) == -1) {
		page_error(r, 503, MSG_DB);
		return NULL;
	}
	(void)tdict_bool(d, "reviewed", ai.state == APP_REVIEWED);
	if (aip != NULL)
		*aip = ai;
	return d;
}

/*
 * GET /report/view?id=N (查看报告): the final report, its facts, its key
 * images and every version, for the applicant institution and the
 * reading institutions.
 */
void
page_report_view(struct req *r)
{
	struct tdict	*d;
	struct app_info	 ai;
	long long	 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, MSG_NO_REPORT);
		return;
	}
	if ((d = report_dict(r, id, &ai)) == NULL)
		return;
	if (report_keys(r, id, d) == -1 ||
	    page_audit_read(r, "report_viewed", "application", id,
	    ai.diag_no) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	report_assets(d);
	page_render(r, 200, "report_view.html", d);
}

/* The audit row of one printing, in a transaction of its own. */
static int
print_audit(struct req *r, long long id, const char *diag_no)
{
	struct audit	 au;
	json_t		*j;
	char		 sid[32], *detail;
	int		 rc;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	j = json_pack("{s:s}", "diag_no", diag_no);
	detail = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	memset(&au, 0, sizeof(au));
	au.actor_id = r->sess.acct.id;
	au.actor_login = r->sess.acct.login;
	au.institution_id = r->sess.acct.institution_id;
	au.action = "report_printed";
	au.object_type = "application";
	au.object_id = sid;
	au.ip = r->ip;
	au.detail = detail;
	if (db_begin(r->db) == -1) {
		free(detail);
		return -1;
	}
	rc = audit_write(r->db, &au);
	free(detail);
	if (rc == -1 || db_commit(r->db) == -1) {
		db_rollback(r->db);
		return -1;
	}
	return 0;
}

/*
 * GET /report/print?id=N (打印): the report laid out for A4, printed
 * through the browser.  Every GET is audited as report_printed; without
 * the audit row nothing is shown.
 */
void
page_report_print(struct req *r)
{
	struct tdict	*d;
	struct app_info	 ai;
	long long	 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, MSG_NO_REPORT);
		return;
	}
	if ((d = report_dict(r, id, &ai)) == NULL)
		return;
	if (report_keys(r, id, d) == -1 || (r->method == METHOD_GET &&
	    print_audit(r, id, ai.diag_no) == -1)) {
		page_error(r, 503, MSG_DB);
		return;
	}
	page_render(r, 200, "report_print.html", d);
}

/* Answer a refused key image change: the editor with why for what the
 * writer can put right (why is set only once the workflow found the user
 * writing the report), an error page for the rest. */
static void
key_refused(struct req *r, long long id, enum wf_result res, const char *why)
{
	if (why != NULL && (res == WF_INVALID || res == WF_NOT_FOUND)) {
		report_editor(r, id, wf_http_status(res), NULL, why, NULL);
		return;
	}
	switch (res) {
	case WF_CONFLICT:
		page_error(r, 409, "该报告当前不在书写中，不能修改关键图像");
		break;
	case WF_LOCKED:
		page_error(r, 409,
		    "修改关键图像须先在写报告页面锁定该申请单");
		break;
	default:
		page_error(r, wf_http_status(res), wf_messages[res]);
		break;
	}
}

/*
 * POST /report/key-image/add (添加关键图像): id, and either series (its
 * preview) or job with z (from 0) or slice (from 1), and window.  Only
 * the doctor writing the report; only the application's own images.
 * Back to the editor by a redirect.
 */
void
page_report_key_add(struct req *r)
{
	struct wf_key_image	 k;
	struct wf_actor		 w;
	enum wf_result		 res;
	const char		*v, *why;
	long long		 id;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	memset(&k, 0, sizeof(k));
	if ((v = http_field(r, FIELD_SERIES)) != NULL)
		k.series = strtoll(v, NULL, 10);
	if ((v = http_field(r, FIELD_JOB)) != NULL)
		k.job = strtoll(v, NULL, 10);
	k.slice = -1;
	if ((v = http_field(r, FIELD_Z)) != NULL)
		k.slice = atoi(v);
	else if ((v = http_field(r, FIELD_SLICE)) != NULL && atoi(v) > 0)
		k.slice = atoi(v) - 1;
	k.window = http_field(r, FIELD_WINDOW);
	if (k.window == NULL || *k.window == '\0')
		k.window = preview_windows[WINDOW_AUTO].name;
	if ((k.series > 0) == (k.job > 0) || r->field_bad[FIELD_WINDOW] ||
	    (k.job > 0 && k.slice < 0)) {
		/* Before any check of the writer: an error page, not the
		 * editor. */
		page_error(r, 400, k.job > 0 && k.slice < 0 ?
		    "请填写要添加的层面（从1开始的层号）" : "请选择要添加的关键图像");
		return;
	}
	page_actor(r, &w);
	res = wf_key_image_add(r->db, &w, id, &k, &why);
	if (res == WF_OK)
		http_redirect(r, arena_printf(r->a,
		    "/report?id=%lld&key=added#key-images", id));
	else
		key_refused(r, id, res, why);
}

/* POST /report/key-image/remove (移除): id and key, as add. */
void
page_report_key_remove(struct req *r)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	const char	*v, *why;
	long long	 id, key;

	if ((id = req_id(r)) == 0) {
		page_error(r, 404, wf_messages[WF_NOT_FOUND]);
		return;
	}
	v = http_field(r, FIELD_KEY);
	key = v != NULL ? strtoll(v, NULL, 10) : 0;
	if (key <= 0) {
		page_error(r, 400, "请选择要移除的关键图像");
		return;
	}
	page_actor(r, &w);
	res = wf_key_image_remove(r->db, &w, id, key, &why);
	if (res == WF_OK)
		http_redirect(r, arena_printf(r->a,
		    "/report?id=%lld&key=removed#key-images", id));
	else
		key_refused(r, id, res, why);
}

/*
 * GET /report/key-image?id=N&key=K: the picture of key image K of
 * application N, for whoever may see the application (the applicant
 * hospital prints it): a series' preview through /series/preview, which
 * checks again; an AI slice served here once the application, the series'
 * link to it and the result are found for the user's institution, audited
 * as any image view.
 */
void
page_report_key_image(struct req *r)
{
	PGresult	*res;
	const char	*v;
	char		 sid[32], skey[32], inst[32], *key, *loc;
	long long	 id, k, series;
	int		 frame, w;

	id = req_id(r);
	v = http_field(r, FIELD_KEY);
	k = v != NULL ? strtoll(v, NULL, 10) : 0;
	if (id == 0 || k <= 0) {
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(skey, sizeof(skey), "%lld", k);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT ki.kind, ki.series_id, ki.window_name,"
	    " coalesce(n.storage_key, ''),"
	    " coalesce(ki.slice - (array_position(res.slice_uids,"
	    "  n.sop_instance_uid) - 1), -1)"
	    " FROM report_key_images ki"
	    " JOIN applications a ON a.id = ki.application_id"
	    " JOIN series se ON se.id = ki.series_id"
	    " LEFT JOIN ai_results res ON res.job_id = ki.job_id"
	    " LEFT JOIN instances n ON n.series_id = se.id"
	    "  AND n.sop_instance_uid = res.slice_uids[ki.slice + 1]"
	    " WHERE ki.id = $1::bigint AND ki.application_id = $2::bigint"
	    " AND application_visible(a, $3::bigint)"
	    " AND EXISTS (SELECT 1 FROM application_studies x"
	    "  WHERE x.application_id = a.id AND x.study_id = se.study_id)"
	    " LIMIT 1", 3, skey, sid, inst);
	if (res == NULL) {
		page_error(r, 503, MSG_DB);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	series = db_ll(res, 0, 1);
	w = preview_window_parse(db_val(res, 0, 2));
	if (w < 0)
		w = WINDOW_AUTO;
	if (strcmp(db_val(res, 0, 0), "series") == 0) {
		loc = arena_printf(r->a, "/series/preview?series=%lld&window=%s",
		    series, preview_windows[w].name);
		PQclear(res);
		http_redirect(r, loc != NULL ? loc : "/");
		return;
	}
	key = arena_strdup(r->a, db_val(res, 0, 3));
	frame = (int)db_ll(res, 0, 4);
	PQclear(res);
	if (key == NULL || *key == '\0' || frame < 0) {
		page_error(r, 404, "影像不存在或无权访问");
		return;
	}
	if (page_audit_image(r, series) == -1) {
		page_error(r, 503, MSG_DB);
		return;
	}
	page_stored_png(r, key, frame, w, KEY_IMAGE_EDGE,
	    arena_printf(r->a, "key image %s of application %s", skey, sid));
}
