/*
 * apply.c - the applicant's side of an application (申请单): 申请 (the
 * form), 查看 (the application page with its studies, series previews,
 * attachments and history), 取消, 修改并重新提交, linking a study by hand,
 * attachment download and the series thumbnail.
 *
 * Every object is looked up through application_visible(): an
 * application, attachment or series the user's institution may not see
 * answers 404, never 403, so that ids reveal nothing.  Every state change
 * goes through the workflow library.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "pages.h"
#include "preview.h"
#include "seriesmatch.h"
#include "store.h"
#include "workflow.h"

#define NOT_FOUND_MSG	"申请单不存在或无权访问"
#define PREVIEW_EDGE	256

/*
 * The fields of the form, their member of struct wf_form and of struct
 * wf_form_errors ((size_t)-1 where there is no error of its own).
 */
#define NOERR	((size_t)-1)
static const struct {
	enum field	 f;
	const char	*name;
	size_t		 form_off;
	size_t		 err_off;
} form_fields[] = {
	{ FIELD_PATIENT_NAME, "patient_name",
	    offsetof(struct wf_form, patient_name),
	    offsetof(struct wf_form_errors, patient_name) },
	{ FIELD_PATIENT_SEX, "patient_sex",
	    offsetof(struct wf_form, patient_sex),
	    offsetof(struct wf_form_errors, patient_sex) },
	{ FIELD_PATIENT_AGE, "patient_age",
	    offsetof(struct wf_form, patient_age),
	    offsetof(struct wf_form_errors, patient_age) },
	{ FIELD_PATIENT_BIRTH, "patient_birth",
	    offsetof(struct wf_form, patient_birth),
	    offsetof(struct wf_form_errors, patient_birth) },
	{ FIELD_PATIENT_NO, "patient_no",
	    offsetof(struct wf_form, patient_no),
	    offsetof(struct wf_form_errors, patient_no) },
	{ FIELD_PATIENT_PHONE, "patient_phone",
	    offsetof(struct wf_form, patient_phone),
	    offsetof(struct wf_form_errors, patient_phone) },
	{ FIELD_CHIEF_COMPLAINT, "chief_complaint",
	    offsetof(struct wf_form, chief_complaint),
	    offsetof(struct wf_form_errors, chief_complaint) },
	{ FIELD_PRESENT_ILLNESS, "present_illness",
	    offsetof(struct wf_form, present_illness),
	    offsetof(struct wf_form_errors, present_illness) },
	{ FIELD_HISTORY, "history",
	    offsetof(struct wf_form, history), NOERR },
	{ FIELD_CLINICAL_DIAGNOSIS, "clinical_diagnosis",
	    offsetof(struct wf_form, clinical_diagnosis),
	    offsetof(struct wf_form_errors, clinical_diagnosis) },
	{ FIELD_EXAM_TYPE, "exam_type",
	    offsetof(struct wf_form, exam_type),
	    offsetof(struct wf_form_errors, exam_type) },
	{ FIELD_BODY_PART, "body_part",
	    offsetof(struct wf_form, body_part),
	    offsetof(struct wf_form_errors, body_part) },
	{ FIELD_URGENCY, "urgency",
	    offsetof(struct wf_form, urgency),
	    offsetof(struct wf_form_errors, urgency) },
	{ FIELD_ACCESSION, "accession",
	    offsetof(struct wf_form, accession), NOERR },
	{ FIELD_EXAM_DATE, "exam_date",
	    offsetof(struct wf_form, exam_date),
	    offsetof(struct wf_form_errors, exam_date) },
	{ FIELD_MODE, "mode",
	    offsetof(struct wf_form, mode),
	    offsetof(struct wf_form_errors, mode) },
};
#define NFORM	(sizeof(form_fields) / sizeof(form_fields[0]))

static const struct model_name sex_names[] = {
	{ "M", "男" }, { "F", "女" }, { "O", "其他" },
};
static const struct model_name exam_type_names[] = {
	{ "CT", "CT" }, { "DR", "DR" },
};

static const char **
form_slot(struct wf_form *f, size_t i)
{
	return (const char **)((char *)f + form_fields[i].form_off);
}

static const char *
err_slot(const struct wf_form_errors *e, size_t i)
{
	if (form_fields[i].err_off == NOERR)
		return NULL;
	return *(const char *const *)((const char *)e +
	    form_fields[i].err_off);
}

static long long
id_of(const char *s)
{
	return s != NULL && *s != '\0' ? strtoll(s, NULL, 10) : 0;
}

/* The id parameter of a request, or 0 when absent or malformed. */
static long long
req_id(const struct req *r, enum field f)
{
	return id_of(http_field(r, f));
}

static int
is_applicant_of(const struct req *r, long long applicant_inst)
{
	return (r->sess.acct.roles & ROLE_BIT(ROLE_APPLICANT)) &&
	    r->sess.acct.institution_id == applicant_inst;
}

/* Options of a <select> or radio group, with the current value chosen. */
static void
add_options(struct tdict *d, const char *list, const struct model_name *opts,
    size_t n, const char *cur)
{
	struct tdict	*o;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if ((o = tdict_add(d, list)) == NULL)
			return;
		(void)tdict_set(o, "v", opts[i].code);
		(void)tdict_set(o, "label", opts[i].zh);
		(void)tdict_bool(o, "sel", cur != NULL &&
		    strcmp(cur, opts[i].code) == 0);
	}
}

/*
 * The alliances of the user's institution and, for each, its upper
 * hospitals (its superior, the superior's superior, ...), nearest first.
 */
static int
add_targets(struct req *r, struct tdict *d, long long alliance,
    long long target)
{
	PGresult	*res;
	struct tdict	*g = NULL, *o;
	char		 inst[32];
	long long	 al, last = 0;
	int		 i;

	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "WITH RECURSIVE up(alliance_id, id, depth) AS ("
	    " SELECT m.alliance_id, m.superior_id, 1 FROM alliance_members m"
	    "  WHERE m.institution_id = $1::bigint"
	    "  AND m.superior_id IS NOT NULL"
	    " UNION ALL SELECT up.alliance_id, m.superior_id, up.depth + 1"
	    "  FROM alliance_members m JOIN up"
	    "  ON m.alliance_id = up.alliance_id AND m.institution_id = up.id"
	    "  WHERE m.superior_id IS NOT NULL AND up.depth < 16)"
	    " SELECT up.alliance_id, al.name, up.id, i.name"
	    " FROM up JOIN alliances al ON al.id = up.alliance_id"
	    " JOIN institutions i ON i.id = up.id"
	    " WHERE al.active AND i.active"
	    " ORDER BY al.name, up.alliance_id, up.depth", 1, inst);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		al = db_ll(res, i, 0);
		if (g == NULL || al != last) {
			if ((g = tdict_add(d, "alliances")) == NULL)
				break;
			(void)tdict_set(g, "v", db_val(res, i, 0));
			(void)tdict_set(g, "label", db_val(res, i, 1));
			(void)tdict_bool(g, "sel", al == alliance);
			last = al;
		}
		if ((o = tdict_add(g, "targets")) == NULL)
			break;
		(void)tdict_set(o, "v", db_val(res, i, 2));
		(void)tdict_set(o, "label", db_val(res, i, 3));
		(void)tdict_bool(o, "sel", al == alliance &&
		    db_ll(res, i, 2) == target);
	}
	(void)tdict_bool(d, "has_alliances", PQntuples(res) > 0);
	PQclear(res);
	return 0;
}

/*
 * Render the application form (new or edit).  f holds the values to show,
 * e the errors (NULL: none), bad the fields that came malformed.
 */
static void
form_render(struct req *r, int status, struct wf_form *f,
    const struct wf_form_errors *e, const int *bad, long long edit_id,
    const char *diag_no, const char *notice)
{
	struct tdict	*d, *o;
	const char	*v, *msg;
	size_t		 i;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	for (i = 0; i < NFORM; i++) {
		v = *form_slot(f, i);
		(void)tdict_set(d, arena_printf(r->a, "f_%s",
		    form_fields[i].name), v != NULL ? v : "");
		msg = e != NULL ? err_slot(e, i) : NULL;
		if (bad != NULL && bad[i])
			msg = "内容过长或格式不正确";
		if (msg != NULL)
			(void)tdict_set(d, arena_printf(r->a, "e_%s",
			    form_fields[i].name), msg);
		(void)tdict_bool(d, arena_printf(r->a, "bad_%s",
		    form_fields[i].name), msg != NULL);
	}
	if (e != NULL && e->target != NULL)
		(void)tdict_set(d, "e_target", e->target);
	(void)tdict_bool(d, "bad_target", e != NULL && e->target != NULL);
	(void)tdict_bool(d, "has_errors", e != NULL && e->count > 0);
	if (e != NULL)
		(void)tdict_setf(d, "error_count", "%d", e->count);
	add_options(d, "sex_opts", sex_names, 3, f->patient_sex);
	add_options(d, "exam_opts", exam_type_names, 2, f->exam_type);
	add_options(d, "urgency_opts", urgency_names, URGENCY__MAX,
	    f->urgency != NULL ? f->urgency : "routine");
	add_options(d, "mode_opts", app_mode_names, MODE__MAX, f->mode);
	if (add_targets(r, d, f->alliance_id, f->target_institution_id) ==
	    -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	(void)tdict_bool(d, "editing", edit_id > 0);
	if (edit_id > 0) {
		(void)tdict_setf(d, "id", "%lld", edit_id);
		(void)tdict_set(d, "diag_no", diag_no != NULL ? diag_no : "");
		(void)tdict_set(d, "action", "/application/edit");
		(void)tdict_set(d, "title", "修改并重新提交");
	} else
		(void)tdict_set(d, "action", "/apply");
	(void)tdict_bool(d, "has_notice", notice != NULL);
	if (notice != NULL)
		(void)tdict_set(d, "notice", notice);
	if ((o = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(o, "href", "/static/apply.css");
	/* A new application takes its images and records with it. */
	if (edit_id <= 0 && (o = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(o, "src", "/static/apply-upload.js");
	page_render(r, status, "apply.html", d);
}

/* Read the submitted form; bad[i] tells which fields came malformed. */
static void
form_read(const struct req *r, struct wf_form *f, int *bad)
{
	size_t	 i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < NFORM; i++) {
		*form_slot(f, i) = http_field(r, form_fields[i].f);
		bad[i] = r->field_bad[form_fields[i].f];
	}
	f->alliance_id = req_id(r, FIELD_ALLIANCE);
	f->target_institution_id = req_id(r, FIELD_TARGET);
}

/* What the user typed, malformed values included, to show again. */
static void
form_typed(const struct req *r, struct wf_form *shown)
{
	size_t	 i;

	for (i = 0; i < NFORM; i++)
		if (r->fields[form_fields[i].f] != NULL)
			*form_slot(shown, i) = r->fields[form_fields[i].f];
}

static int
any_bad(const int *bad)
{
	size_t	 i;

	for (i = 0; i < NFORM; i++)
		if (bad[i])
			return 1;
	return 0;
}

/*
 * Match again the series of the studies linked to application id (or of
 * one study, when study > 0): the application's 检查类型 and 检查部位 are
 * evidence for the AI readers (a chest film without BodyPartExamined is a
 * chest on a DR 胸部 application), and a study received before its
 * application was made, or linked by hand, was matched without them.
 */
static void
rematch(struct req *r, long long id, long long study)
{
	PGresult	*res;
	char		 sid[32], st[32];
	int		 i;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(st, sizeof(st), "%lld", study);
	res = db_exec(r->db, "SELECT se.id FROM series se"
	    " JOIN application_studies l ON l.study_id = se.study_id"
	    " WHERE l.application_id = $1::bigint"
	    " AND ($2::bigint = 0 OR l.study_id = $2::bigint)"
	    " ORDER BY se.id", 2, sid, st);
	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++)
		if (seriesmatch_run(r->db, db_ll(res, i, 0)) == -1)
			log_error("%s: matching series %s failed", __func__,
			    db_val(res, i, 0));
	PQclear(res);
}

/*
 * 申请: GET shows the empty form, POST checks it (errors next to their
 * fields, everything typed kept) and creates the application, then sends
 * the browser to its page.
 */
void
page_apply(struct req *r)
{
	struct wf_actor		 who;
	struct wf_form		 f, shown;
	struct wf_form_errors	 e;
	int			 bad[NFORM], n;
	long long		 id;
	char			 diag[32], loc[64];
	enum wf_result		 res;

	memset(&f, 0, sizeof(f));
	if (r->method != METHOD_POST) {
		f.urgency = "routine";
		f.mode = "self";
		form_render(r, 200, &f, NULL, NULL, 0, NULL, NULL);
		return;
	}
	page_actor(r, &who);
	form_read(r, &f, bad);
	shown = f;
	form_typed(r, &shown);
	if ((n = wf_form_check(r->db, &who, &f, &e)) < 0) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if (n > 0 || any_bad(bad)) {
		if (e.count == 0)
			e.count = 1;
		form_render(r, 200, &shown, &e, bad, 0, NULL, NULL);
		return;
	}
	res = wf_create(r->db, &who, &f, &id, diag);
	if (res == WF_INVALID) {
		(void)wf_form_check(r->db, &who, &f, &e);
		if (e.count == 0)
			e.count = 1;
		form_render(r, 200, &shown, &e, bad, 0, NULL,
		    wf_messages[res]);
		return;
	}
	if (res != WF_OK) {
		page_error(r, res == WF_FORBIDDEN ? 403 : 503,
		    wf_messages[res]);
		return;
	}
	log_info("%s: %s created %s (id %lld)", __func__,
	    r->sess.acct.login, diag, id);
	/* Studies received before it and linked now. */
	rematch(r, id, 0);
	(void)snprintf(loc, sizeof(loc), "/application?id=%lld&created=1", id);
	http_redirect(r, loc);
}

/*
 * The application row as the page needs it, if the user's institution may
 * see it; NULL (and nothing sent) when it may not or does not exist.
 */
#define A_ID		0
#define A_DIAG		1
#define A_STATE		2
#define A_MODE		3
#define A_APPL_INST	4
#define A_FORM		5	/* NFORM form columns from here, in order */
#define A_ALLIANCE	(A_FORM + NFORM)
#define A_TARGET	(A_ALLIANCE + 1)
static PGresult *
app_fetch(struct req *r, long long id)
{
	PGresult	*res;
	char		 sid[32], inst[32];

	if (id <= 0) {
		page_error(r, 404, NOT_FOUND_MSG);
		return NULL;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT a.id, a.diag_no, a.state, a.mode,"
	    " a.applicant_institution_id,"
	    " a.patient_name, a.patient_sex, a.patient_age,"
	    " coalesce(to_char(a.patient_birth, 'YYYY-MM-DD'), ''),"
	    " a.patient_no, a.patient_phone, a.chief_complaint,"
	    " a.present_illness, a.history, a.clinical_diagnosis,"
	    " a.exam_type, a.body_part, a.urgency, a.accession,"
	    " coalesce(to_char(a.exam_date, 'YYYY-MM-DD'), ''), a.mode,"
	    " coalesce(a.alliance_id, 0), coalesce(a.target_institution_id, 0),"
	    /* A_TARGET + 1 on: what the page shows besides. */
	    " coalesce(al.name, ''), coalesce(ti.name, ''), ai.name,"
	    " coalesce(u.display_name, ''), a.assist,"
	    " coalesce(si.name, ''), a.return_reason,"
	    " to_char(a.submitted_at, 'YYYY-MM-DD HH24:MI'),"
	    " to_char(a.created_at, 'YYYY-MM-DD HH24:MI'),"
	    " coalesce(lu.display_name, '')"
	    " FROM applications a"
	    " JOIN institutions ai ON ai.id = a.applicant_institution_id"
	    " LEFT JOIN alliances al ON al.id = a.alliance_id"
	    " LEFT JOIN institutions ti ON ti.id = a.target_institution_id"
	    " LEFT JOIN institutions si ON si.id = a.assist_institution_id"
	    " LEFT JOIN users u ON u.id = a.applicant_id"
	    " LEFT JOIN users lu ON lu.id = a.locked_by"
	    " WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)",
	    2, sid, inst);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, NOT_FOUND_MSG);
		return NULL;
	}
	return res;
}

/* A DICOM date (YYYYMMDD) as YYYY-MM-DD; anything else as it is. */
static const char *
dicom_date(struct req *r, const char *da)
{
	size_t	 i;

	if (strlen(da) != 8)
		return *da != '\0' ? da : "未知";
	for (i = 0; i < 8; i++)
		if (da[i] < '0' || da[i] > '9')
			return da;
	return arena_printf(r->a, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
}

static void
view_history(struct req *r, struct tdict *d, const char *sid)
{
	PGresult	*res;
	struct tdict	*h;
	int		 i;

	res = db_exec(r->db, "SELECT to_char(h.at, 'YYYY-MM-DD HH24:MI:SS'),"
	    " coalesce(u.display_name, ''), coalesce(h.from_state, ''),"
	    " h.to_state, h.comment FROM application_history h"
	    " LEFT JOIN users u ON u.id = h.actor_id"
	    " WHERE h.application_id = $1::bigint ORDER BY h.at, h.id", 1, sid);
	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if ((h = tdict_add(d, "history")) == NULL)
			break;
		(void)tdict_set(h, "at", db_val(res, i, 0));
		(void)tdict_set(h, "actor", db_val(res, i, 1));
		(void)tdict_set(h, "from", *db_val(res, i, 2) != '\0' ?
		    model_zh(app_state_names, APP_STATE__MAX, db_val(res, i, 2)) :
		    "");
		(void)tdict_set(h, "to", model_zh(app_state_names,
		    APP_STATE__MAX, db_val(res, i, 3)));
		(void)tdict_set(h, "comment", db_val(res, i, 4));
	}
	PQclear(res);
}

static const char *
linked_zh(const char *how)
{
	if (strcmp(how, "accession") == 0)
		return "检查号自动关联";
	if (strcmp(how, "patient_date") == 0)
		return "患者号与检查日期自动关联";
	if (strcmp(how, "upload") == 0)
		return "上传";
	return "手动关联";
}

static const char	*identity_zh(struct req *, const char *);

/* The studies of the application, each with its series. */
static void
view_studies(struct req *r, struct tdict *d, const char *sid)
{
	PGresult	*st, *se;
	struct tdict	*s, *x;
	const char	*fits, *p, *q;
	struct buf	 b;
	int		 i, j, k;

	st = db_exec(r->db, "SELECT s.id, s.study_uid, s.accession,"
	    " s.study_date, s.description, p.patient_id, p.name, l.linked_by,"
	    " to_char(l.linked_at, 'YYYY-MM-DD HH24:MI'), l.differences,"
	    " l.confirm_reason, coalesce(cu.display_name, '')"
	    " FROM application_studies l JOIN studies s ON s.id = l.study_id"
	    " JOIN patients p ON p.id = s.patient_ref"
	    " LEFT JOIN users cu ON cu.id = l.confirmed_by"
	    " WHERE l.application_id = $1::bigint ORDER BY l.linked_at, s.id",
	    1, sid);
	se = db_exec(r->db, "SELECT se.id, se.study_id, se.modality,"
	    " se.description, se.instance_count,"
	    " coalesce(to_char(se.slice_thickness, 'FM990.00'), ''),"
	    " coalesce(to_char(se.kvp, 'FM990'), ''), se.kernel,"
	    " se.match_summary, coalesce((SELECT string_agg(m.reader, ','"
	    "  ORDER BY m.reader) FROM series_matches m"
	    "  WHERE m.series_id = se.id AND m.fits), ''), se.body_part"
	    " FROM series se JOIN application_studies l"
	    " ON l.study_id = se.study_id AND l.application_id = $1::bigint"
	    " ORDER BY se.study_id, se.series_number, se.id", 1, sid);
	if (st == NULL || se == NULL) {
		PQclear(st);
		PQclear(se);
		return;
	}
	for (i = 0; i < PQntuples(st); i++) {
		if ((s = tdict_add(d, "studies")) == NULL)
			break;
		(void)tdict_set(s, "study_id", db_val(st, i, 0));
		(void)tdict_set(s, "study_uid", db_val(st, i, 1));
		(void)tdict_set(s, "accession", db_val(st, i, 2));
		(void)tdict_set(s, "study_date", dicom_date(r, db_val(st, i, 3)));
		(void)tdict_set(s, "description", db_val(st, i, 4));
		(void)tdict_bool(s, "has_accession", *db_val(st, i, 2) != '\0');
		(void)tdict_bool(s, "has_description", *db_val(st, i, 4) != '\0');
		(void)tdict_set(s, "patient_id", db_val(st, i, 5));
		(void)tdict_set(s, "patient_name", db_val(st, i, 6));
		(void)tdict_set(s, "linked_by", linked_zh(db_val(st, i, 7)));
		(void)tdict_set(s, "linked_at", db_val(st, i, 8));
		if (strcmp(db_val(st, i, 9), "{}") != 0) {
			(void)tdict_bool(s, "confirmed", 1);
			(void)tdict_set(s, "confirm_diff",
			    identity_zh(r, db_val(st, i, 9)));
			(void)tdict_set(s, "confirm_reason", db_val(st, i, 10));
			(void)tdict_set(s, "confirm_by", db_val(st, i, 11));
		}
		for (j = 0; j < PQntuples(se); j++) {
			if (db_ll(se, j, 1) != db_ll(st, i, 0))
				continue;
			if ((x = tdict_add(s, "series")) == NULL)
				break;
			(void)tdict_set(x, "series_id", db_val(se, j, 0));
			(void)tdict_set(x, "modality", db_val(se, j, 2));
			(void)tdict_set(x, "sdesc", db_val(se, j, 3));
			(void)tdict_set(x, "slices", db_val(se, j, 4));
			(void)tdict_set(x, "thickness", db_val(se, j, 5));
			(void)tdict_set(x, "kvp", db_val(se, j, 6));
			(void)tdict_set(x, "kernel", db_val(se, j, 7));
			(void)tdict_set(x, "sbody", db_val(se, j, 10));
			fits = db_val(se, j, 9);
			buf_init(&b, 4096);
			for (p = fits, k = 0; *p != '\0'; p = *q ? q + 1 : q,
			    k++) {
				q = strchr(p, ',');
				if (q == NULL)
					q = p + strlen(p);
				(void)buf_appends(&b, k > 0 ? "、" : "");
				(void)buf_appends(&b, reader_name_zh(arena_strndup(
				    r->a, p, (size_t)(q - p))));
			}
			(void)tdict_set(x, "readers", b.data != NULL ?
			    b.data : "");
			(void)tdict_bool(x, "fits", k > 0);
			buf_free(&b);
			p = db_val(se, j, 8);
			(void)tdict_set(x, "summary", *p != '\0' ? p :
			    "尚未完成匹配");
		}
	}
	(void)tdict_bool(d, "no_studies", PQntuples(st) == 0);
	PQclear(st);
	PQclear(se);
}

/* "患者号、姓名" of a PostgreSQL array text of identity codes. */
static const char *
identity_zh(struct req *r, const char *arr)
{
	const char	*codes[16];
	struct buf	 b;
	const char	*out;
	size_t		 i, n;

	n = wf_identity_list(arr, codes, 16);
	buf_init(&b, 256);
	for (i = 0; i < n; i++) {
		(void)buf_appends(&b, i > 0 ? "、" : "");
		(void)buf_appends(&b, wf_identity_zh(codes[i]));
	}
	out = arena_strdup(r->a, b.data != NULL ? b.data : "");
	buf_free(&b);
	return out;
}

/* A DICOM age (045Y) as the form writes it (45岁). */
static const char *
dicom_age(struct req *r, const char *as)
{
	const char	*unit;
	int		 n;
	char		 u;

	if (sscanf(as, "%3d%c", &n, &u) != 2)
		return as;
	unit = u == 'Y' ? "岁" : u == 'M' ? "个月" : u == 'W' ? "周" :
	    u == 'D' ? "天" : NULL;
	return unit != NULL ? arena_printf(r->a, "%d%s", n, unit) : as;
}

/* One row of the comparison of a held study. */
static void
hold_row(struct tdict *h, const char *label, const char *code,
    const char *diff, const char *app, const char *dicom)
{
	struct tdict	*t;
	const char	*codes[16];
	size_t		 i, n;
	int		 differs = 0;

	n = wf_identity_list(diff, codes, 16);
	for (i = 0; i < n; i++)
		if (strcmp(codes[i], code) == 0)
			differs = 1;
	if ((t = tdict_add(h, "rows")) == NULL)
		return;
	(void)tdict_set(t, "label", label);
	(void)tdict_set(t, "app", *app != '\0' ? app : "（未填写）");
	(void)tdict_set(t, "dicom", *dicom != '\0' ? dicom : "（无）");
	(void)tdict_set(t, "cls", differs ? "differs" : "same");
	(void)tdict_set(t, "verdict", differs ? "不一致" : "");
}

/*
 * Studies held for the application because their patient differs
 * (study_link_holds): both sides side by side, for everyone who sees the
 * application; the applicant of an open application may link one with a
 * reason, or decline it.
 */
static void
view_holds(struct req *r, struct tdict *d, const char *sid, int can_confirm)
{
	PGresult	*res;
	struct tdict	*h;
	const char	*diff, *how;
	int		 i;

	res = db_exec(r->db, "SELECT h.study_id, h.differences, h.proposed_by,"
	    " to_char(h.held_at, 'YYYY-MM-DD HH24:MI'), s.study_date,"
	    " s.accession, s.description, (SELECT count(*) FROM series x"
	    "  WHERE x.study_id = s.id),"
	    " p.patient_id, p.name, p.sex, s.patient_age, p.birth_date,"
	    " a.patient_no, a.patient_name, a.patient_sex, a.patient_age,"
	    " coalesce(to_char(a.patient_birth, 'YYYYMMDD'), ''), a.accession,"
	    " coalesce((SELECT string_agg(o.diag_no || '（' || o.patient_name"
	    "  || '，' || o.patient_no || '）', '、' ORDER BY o.id)"
	    "  FROM application_studies l JOIN applications o"
	    "  ON o.id = l.application_id WHERE l.study_id = s.id"
	    "  AND o.id <> a.id AND o.state <> 'cancelled'), '')"
	    " FROM study_link_holds h"
	    " JOIN applications a ON a.id = h.application_id"
	    " JOIN studies s ON s.id = h.study_id"
	    " JOIN patients p ON p.id = s.patient_ref"
	    " WHERE h.application_id = $1::bigint"
	    " AND NOT EXISTS (SELECT 1 FROM application_studies l"
	    "  WHERE l.application_id = h.application_id"
	    "  AND l.study_id = h.study_id)"
	    " ORDER BY h.held_at, h.study_id", 1, sid);
	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if ((h = tdict_add(d, "holds")) == NULL)
			break;
		diff = db_val(res, i, 1);
		how = db_val(res, i, 2);
		(void)tdict_set(h, "study_id", db_val(res, i, 0));
		(void)tdict_set(h, "diff_zh", identity_zh(r, diff));
		(void)tdict_set(h, "proposed_zh", linked_zh(how));
		(void)tdict_set(h, "held_at", db_val(res, i, 3));
		(void)tdict_set(h, "study_date", dicom_date(r,
		    db_val(res, i, 4)));
		(void)tdict_set(h, "description", db_val(res, i, 6));
		(void)tdict_bool(h, "has_description",
		    *db_val(res, i, 6) != '\0');
		(void)tdict_set(h, "nseries", db_val(res, i, 7));
		hold_row(h, "身份证号/病历号（患者号）", "patient_id", diff,
		    db_val(res, i, 13), db_val(res, i, 8));
		hold_row(h, "患者姓名", "patient_name", diff,
		    db_val(res, i, 14), db_val(res, i, 9));
		hold_row(h, "性别", "patient_sex", diff,
		    model_zh(sex_names, 3, db_val(res, i, 15)),
		    *db_val(res, i, 10) != '\0' ? model_zh(sex_names, 3,
		    db_val(res, i, 10)) : "");
		hold_row(h, "年龄", "patient_age", diff, db_val(res, i, 16),
		    dicom_age(r, db_val(res, i, 11)));
		hold_row(h, "出生日期", "patient_birth", diff,
		    *db_val(res, i, 17) != '\0' ? dicom_date(r,
		    db_val(res, i, 17)) : "", *db_val(res, i, 12) != '\0' ?
		    dicom_date(r, db_val(res, i, 12)) : "");
		hold_row(h, "检查号", "accession", diff, db_val(res, i, 18),
		    db_val(res, i, 5));
		if (*db_val(res, i, 19) != '\0')
			(void)tdict_set(h, "others", db_val(res, i, 19));
		(void)tdict_bool(h, "has_others", *db_val(res, i, 19) != '\0');
		(void)tdict_bool(h, "can_confirm", can_confirm);
	}
	(void)tdict_bool(d, "has_holds", PQntuples(res) > 0);
	PQclear(res);
}

static void
view_attachments(struct req *r, struct tdict *d, const char *sid)
{
	PGresult	*res;
	struct tdict	*t;
	int		 i;

	res = db_exec(r->db, "SELECT t.id, t.filename, t.content_type,"
	    " t.size_bytes, coalesce(u.display_name, ''),"
	    " to_char(t.uploaded_at, 'YYYY-MM-DD HH24:MI')"
	    " FROM attachments t LEFT JOIN users u ON u.id = t.uploaded_by"
	    " WHERE t.application_id = $1::bigint ORDER BY t.id", 1, sid);
	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if ((t = tdict_add(d, "attachments")) == NULL)
			break;
		(void)tdict_set(t, "att_id", db_val(res, i, 0));
		(void)tdict_set(t, "filename", db_val(res, i, 1));
		(void)tdict_set(t, "kind", strcmp(db_val(res, i, 2),
		    "application/pdf") == 0 ? "PDF" : "JPEG");
		(void)tdict_setf(t, "size", "%.1f KB",
		    (double)db_ll(res, i, 3) / 1024.0);
		(void)tdict_set(t, "by", db_val(res, i, 4));
		(void)tdict_set(t, "at", db_val(res, i, 5));
	}
	PQclear(res);
}

/* Studies of the applicant's institution for the same patient number that
 * are not linked yet: offered for linking by hand. */
static void
view_unlinked(struct req *r, struct tdict *d, const char *sid)
{
	PGresult	*res;
	struct tdict	*t;
	int		 i;

	res = db_exec(r->db, "SELECT s.id, s.study_date, s.accession,"
	    " s.description, (SELECT count(*) FROM series x"
	    "  WHERE x.study_id = s.id)"
	    " FROM applications a JOIN studies s"
	    " ON s.institution_id = a.applicant_institution_id"
	    " JOIN patients p ON p.id = s.patient_ref"
	    " WHERE a.id = $1::bigint AND p.patient_id = a.patient_no"
	    " AND NOT EXISTS (SELECT 1 FROM application_studies l"
	    "  WHERE l.application_id = a.id AND l.study_id = s.id)"
	    " ORDER BY s.study_date DESC, s.id DESC LIMIT 50", 1, sid);
	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if ((t = tdict_add(d, "unlinked")) == NULL)
			break;
		(void)tdict_set(t, "study_id", db_val(res, i, 0));
		(void)tdict_set(t, "study_date", dicom_date(r, db_val(res, i, 1)));
		(void)tdict_set(t, "accession", db_val(res, i, 2));
		(void)tdict_set(t, "description", db_val(res, i, 3));
		(void)tdict_set(t, "nseries", db_val(res, i, 4));
	}
	PQclear(res);
}

/*
 * 查看: the application page, for the applicant's institution and for the
 * institutions that read it.
 */
void
page_app_view(struct req *r)
{
	PGresult	*a;
	struct tdict	*d, *s;
	const char	*state, *mode, *sex, *v;
	char		 sid[32];
	int		 st, applicant, open;
	static const char *const labels[] = {
		"f_patient_name", "f_patient_sex", "f_patient_age",
		"f_patient_birth", "f_patient_no", "f_patient_phone",
		"f_chief_complaint", "f_present_illness", "f_history",
		"f_clinical_diagnosis", "f_exam_type", "f_body_part",
		"f_urgency", "f_accession", "f_exam_date", "f_mode",
	};
	size_t		 i;

	if ((a = app_fetch(r, req_id(r, FIELD_ID))) == NULL)
		return;
	if (page_audit_read(r, "application_viewed", "application",
	    db_ll(a, 0, A_ID), db_val(a, 0, A_DIAG)) == -1) {
		PQclear(a);
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		PQclear(a);
		page_error(r, 500, "系统内部错误");
		return;
	}
	(void)snprintf(sid, sizeof(sid), "%s", db_val(a, 0, A_ID));
	state = db_val(a, 0, A_STATE);
	st = wf_state_parse(state);
	mode = db_val(a, 0, A_MODE);
	applicant = is_applicant_of(r, db_ll(a, 0, A_APPL_INST));
	open = st == APP_PENDING || st == APP_RETURNED;
	(void)tdict_set(d, "id", sid);
	(void)tdict_set(d, "diag_no", db_val(a, 0, A_DIAG));
	(void)tdict_set(d, "state", state);
	(void)tdict_set(d, "state_zh", st >= 0 ? app_state_names[st].zh :
	    state);
	for (i = 0; i < NFORM; i++)
		(void)tdict_set(d, labels[i], db_val(a, 0, A_FORM + (int)i));
	sex = db_val(a, 0, A_FORM + 1);
	(void)tdict_set(d, "sex_zh", model_zh(sex_names, 3, sex));
	(void)tdict_set(d, "urgency_zh", model_zh(urgency_names, URGENCY__MAX,
	    db_val(a, 0, A_FORM + 12)));
	(void)tdict_set(d, "mode_zh", model_zh(app_mode_names, MODE__MAX, mode));
	(void)tdict_bool(d, "superior", strcmp(mode, "superior") == 0);
	(void)tdict_set(d, "alliance_name", db_val(a, 0, A_TARGET + 1));
	(void)tdict_set(d, "target_name", db_val(a, 0, A_TARGET + 2));
	(void)tdict_set(d, "applicant_inst", db_val(a, 0, A_TARGET + 3));
	(void)tdict_set(d, "applicant_name", db_val(a, 0, A_TARGET + 4));
	(void)tdict_set(d, "assist_zh", db_bool(a, 0, A_TARGET + 5) ?
	    "是" : "否");
	(void)tdict_bool(d, "assisted", db_bool(a, 0, A_TARGET + 5));
	(void)tdict_set(d, "assist_name", db_val(a, 0, A_TARGET + 6));
	v = db_val(a, 0, A_TARGET + 7);
	(void)tdict_bool(d, "returned", st == APP_RETURNED);
	(void)tdict_set(d, "return_reason", v);
	(void)tdict_set(d, "submitted_at", db_val(a, 0, A_TARGET + 8));
	(void)tdict_set(d, "created_at", db_val(a, 0, A_TARGET + 9));
	(void)tdict_set(d, "locked_by", db_val(a, 0, A_TARGET + 10));
	(void)tdict_bool(d, "locked", *db_val(a, 0, A_TARGET + 10) != '\0');
	(void)tdict_bool(d, "created", kv_get(&r->query, "created") != NULL);
	(void)tdict_bool(d, "can_cancel", applicant && st == APP_PENDING);
	(void)tdict_bool(d, "can_edit", applicant && st == APP_RETURNED);
	(void)tdict_bool(d, "can_upload", applicant && open);
	(void)tdict_bool(d, "can_link", applicant && open);
	(void)tdict_bool(d, "has_report", st == APP_REPORTED ||
	    st == APP_REVIEWED);
	(void)tdict_set(d, "title", "申请单详情");
	PQclear(a);

	view_history(r, d, sid);
	view_studies(r, d, sid);
	view_holds(r, d, sid, applicant && open);
	(void)tdict_bool(d, "mismatch", kv_get(&r->query, "mismatch") != NULL);
	view_attachments(r, d, sid);
	if (applicant && open)
		view_unlinked(r, d, sid);
	if ((s = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(s, "href", "/static/apply.css");
	if (applicant && open && (s = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(s, "src", "/static/upload.js");
	page_render(r, 200, "application.html", d);
}

/* 取消: the applicant cancels while 待报告. */
void
page_app_cancel(struct req *r)
{
	struct wf_actor	 who;
	enum wf_result	 res;
	long long	 id;
	char		 loc[64];

	page_actor(r, &who);
	if ((id = req_id(r, FIELD_ID)) <= 0) {
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	}
	switch ((res = wf_cancel(r->db, &who, id))) {
	case WF_OK:
		/* Back where the user cancelled from (the list), if local. */
		if (http_field(r, FIELD_NEXT) != NULL &&
		    *http_field(r, FIELD_NEXT) != '\0') {
			http_redirect(r, http_field(r, FIELD_NEXT));
			return;
		}
		(void)snprintf(loc, sizeof(loc), "/application?id=%lld", id);
		http_redirect(r, loc);
		return;
	case WF_NOT_FOUND:
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	case WF_CONFLICT:
		page_error(r, 409, "只有待报告的申请单可以取消：" "申请单状态已变化，"
		    "请刷新后重试");
		return;
	case WF_FORBIDDEN:
		page_error(r, 403, wf_messages[res]);
		return;
	default:
		page_error(r, 503, wf_messages[res]);
		return;
	}
}

/*
 * 修改并重新提交: a returned application's form, prefilled; POST checks it
 * and resubmits it through the workflow.
 */
void
page_app_edit(struct req *r)
{
	struct wf_actor		 who;
	struct wf_form		 f, shown;
	struct wf_form_errors	 e;
	PGresult		*a;
	int			 bad[NFORM], n;
	long long		 id;
	char			 loc[64], diag[32];
	enum wf_result		 res;
	size_t			 i;

	id = req_id(r, FIELD_ID);
	if ((a = app_fetch(r, id)) == NULL)
		return;
	(void)snprintf(diag, sizeof(diag), "%s", db_val(a, 0, A_DIAG));
	if (!is_applicant_of(r, db_ll(a, 0, A_APPL_INST))) {
		PQclear(a);
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	}
	if (wf_state_parse(db_val(a, 0, A_STATE)) != APP_RETURNED) {
		PQclear(a);
		page_error(r, 409, "只有已退回的申请单可以修改并重新提交");
		return;
	}
	if (r->method != METHOD_POST) {
		memset(&f, 0, sizeof(f));
		for (i = 0; i < NFORM; i++)
			*form_slot(&f, i) = arena_strdup(r->a,
			    db_val(a, 0, A_FORM + (int)i));
		f.alliance_id = db_ll(a, 0, A_ALLIANCE);
		f.target_institution_id = db_ll(a, 0, A_TARGET);
		PQclear(a);
		form_render(r, 200, &f, NULL, NULL, id, diag, NULL);
		return;
	}
	PQclear(a);
	page_actor(r, &who);
	form_read(r, &f, bad);
	shown = f;
	form_typed(r, &shown);
	if ((n = wf_form_check(r->db, &who, &f, &e)) < 0) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if (n > 0 || any_bad(bad)) {
		if (e.count == 0)
			e.count = 1;
		form_render(r, 200, &shown, &e, bad, id, diag, NULL);
		return;
	}
	switch ((res = wf_resubmit(r->db, &who, id, &f))) {
	case WF_OK:
		rematch(r, id, 0);
		(void)snprintf(loc, sizeof(loc), "/application?id=%lld", id);
		http_redirect(r, loc);
		return;
	case WF_NOT_FOUND:
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	case WF_CONFLICT:
		page_error(r, 409, wf_messages[res]);
		return;
	case WF_INVALID:
		(void)wf_form_check(r->db, &who, &f, &e);
		if (e.count == 0)
			e.count = 1;
		form_render(r, 200, &shown, &e, bad, id, diag,
		    wf_messages[res]);
		return;
	default:
		page_error(r, res == WF_FORBIDDEN ? 403 : 503,
		    wf_messages[res]);
		return;
	}
}

/*
 * Link a study of the applicant's institution to the application by
 * hand.  A study whose patient differs is linked only with a reason
 * (reason): without one it is held and the application page asks.
 */
void
page_link_study(struct req *r)
{
	struct wf_actor	 who;
	PGresult	*a;
	enum wf_result	 res;
	long long	 id, study;
	const char	*reason;
	char		 loc[96];

	id = req_id(r, FIELD_ID);
	if ((a = app_fetch(r, id)) == NULL)
		return;
	if (!is_applicant_of(r, db_ll(a, 0, A_APPL_INST))) {
		PQclear(a);
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	}
	PQclear(a);
	if ((study = req_id(r, FIELD_STUDY)) <= 0) {
		page_error(r, 404, "检查不存在或无权访问");
		return;
	}
	if (r->field_bad[FIELD_REASON]) {
		page_error(r, 400, "确认原因不能超过500字节，请精简后重试");
		return;
	}
	reason = r->fields[FIELD_REASON];
	if (kv_get(&r->form, "confirm") != NULL && text_blank(reason)) {
		/* The confirmation form sent without a reason. */
		(void)snprintf(loc, sizeof(loc),
		    "/application?id=%lld&mismatch=1#held-studies", id);
		http_redirect(r, loc);
		return;
	}
	page_actor(r, &who);
	switch ((res = wf_link_study(r->db, &who, id, study, reason))) {
	case WF_OK:
		rematch(r, id, study);
		(void)snprintf(loc, sizeof(loc), "/application?id=%lld", id);
		http_redirect(r, loc);
		return;
	case WF_MISMATCH:
		(void)snprintf(loc, sizeof(loc),
		    "/application?id=%lld&mismatch=1#held-studies", id);
		http_redirect(r, loc);
		return;
	case WF_NOT_FOUND:
		page_error(r, 404, "检查不存在或无权访问");
		return;
	default:
		page_error(r, res == WF_FORBIDDEN ? 403 : res == WF_INVALID ?
		    400 : 503, wf_messages[res]);
		return;
	}
}

/* 不关联: the applicant declines a held study. */
void
page_decline_study(struct req *r)
{
	struct wf_actor	 who;
	PGresult	*a;
	enum wf_result	 res;
	long long	 id, study;
	char		 loc[64];

	id = req_id(r, FIELD_ID);
	if ((a = app_fetch(r, id)) == NULL)
		return;
	if (!is_applicant_of(r, db_ll(a, 0, A_APPL_INST))) {
		PQclear(a);
		page_error(r, 404, NOT_FOUND_MSG);
		return;
	}
	PQclear(a);
	if ((study = req_id(r, FIELD_STUDY)) <= 0) {
		page_error(r, 404, "检查不存在或无权访问");
		return;
	}
	page_actor(r, &who);
	switch ((res = wf_decline_study(r->db, &who, id, study))) {
	case WF_OK:
		(void)snprintf(loc, sizeof(loc), "/application?id=%lld", id);
		http_redirect(r, loc);
		return;
	case WF_NOT_FOUND:
		page_error(r, 404, "该检查不在待核对的影像中");
		return;
	default:
		page_error(r, res == WF_FORBIDDEN ? 403 : 503,
		    wf_messages[res]);
		return;
	}
}

/* Add a header to the response being prepared. */
static void
add_header(struct req *r, const char *h)
{
	if (r->nhdrs < HTTP_MAXHDRS)
		r->hdrs[r->nhdrs++] = h;
}

/*
 * Download an attachment: only from an application the user's institution
 * may see, always as a download, with the type it was checked to have.
 */
void
page_attachment(struct req *r)
{
	PGresult	*res;
	struct store	*st;
	struct buf	 name;
	char		 sid[32], inst[32], path[4096], chunk[65536];
	const char	*fn, *ct;
	ssize_t		 n;
	int		 fd;
	long long	 aid;

	if ((aid = req_id(r, FIELD_ATTACHMENT)) <= 0) {
		page_error(r, 404, "附件不存在或无权访问");
		return;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", aid);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT t.filename, t.content_type,"
	    " t.storage_key, t.size_bytes FROM attachments t"
	    " JOIN applications a ON a.id = t.application_id"
	    " WHERE t.id = $1::bigint AND application_visible(a, $2::bigint)",
	    2, sid, inst);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		page_error(r, 404, "附件不存在或无权访问");
		return;
	}
	if (page_audit_read(r, "attachment_viewed", "attachment", aid,
	    NULL) == -1) {
		PQclear(res);
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if ((st = store_open_dir(r->conf->store)) == NULL ||
	    store_local_path(st, db_val(res, 0, 2), path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: attachment %s: %s", __func__, sid,
		    strerror(errno));
		if (st != NULL)
			store_close(st);
		PQclear(res);
		page_error(r, 404, "附件文件不存在");
		return;
	}
	store_close(st);
	fn = db_val(res, 0, 0);
	ct = strcmp(db_val(res, 0, 1), "application/pdf") == 0 ?
	    "application/pdf" : "image/jpeg";
	buf_init(&name, 4096);
	(void)tmpl_esc_url(tmpl_write_buf, &name, fn, strlen(fn));
	add_header(r, arena_printf(r->a, "Content-Disposition: attachment;"
	    " filename=\"attachment-%s.%s\"; filename*=UTF-8''%s\r\n", sid,
	    strcmp(ct, "application/pdf") == 0 ? "pdf" : "jpg",
	    name.data != NULL ? name.data : ""));
	add_header(r, arena_printf(r->a, "Content-Length: %s\r\n",
	    db_val(res, 0, 3)));
	buf_free(&name);
	PQclear(res);
	(void)http_open(r, 200, ct);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (http_write(r, chunk, (size_t)n) == -1)
			break;
	(void)close(fd);
}

struct slice_pos {
	double		 pos;
	int		 num;
	const char	*key;
};

static int
slice_cmp(const void *x, const void *y)
{
	const struct slice_pos	*a = x, *b = y;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->num - b->num;
}

/*
 * The thumbnail of a series: its middle slice along the slice normal, in
 * the chosen window, at most 256 pixels on the longer edge.  Only for a
 * series of a study linked to an application the user's institution may
 * see.
 */
void
page_series_preview(struct req *r)
{
	PGresult		*res;
	struct slice_pos	*sl;
	const char		*w;
	char			 sid[32], inst[32], *key;
	double			 iop[6], ipp[3], nrm[3];
	int			 i, n, preset, has_iop;
	long long		 series;

	series = req_id(r, FIELD_SERIES);
	w = http_field(r, FIELD_WINDOW);
	preset = w != NULL && *w != '\0' ? preview_window_parse(w) :
	    WINDOW_AUTO;
	if (series <= 0 || preset < 0) {
		page_error(r, 404, "序列不存在或无权访问");
		return;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", series);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT n.storage_key, coalesce(n.ipp::text, ''),"
	    " coalesce(n.instance_number, 0), coalesce(se.iop::text, '')"
	    " FROM series se JOIN instances n ON n.series_id = se.id"
	    " WHERE se.id = $1::bigint AND EXISTS (SELECT 1"
	    "  FROM application_studies l JOIN applications a"
	    "  ON a.id = l.application_id WHERE l.study_id = se.study_id"
	    "  AND application_visible(a, $2::bigint))", 2, sid, inst);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		page_error(r, 404, "序列不存在或无权访问");
		return;
	}
	has_iop = page_float_array(db_val(res, 0, 3), iop, 6) == 6;
	nrm[0] = iop[1] * iop[5] - iop[2] * iop[4];
	nrm[1] = iop[2] * iop[3] - iop[0] * iop[5];
	nrm[2] = iop[0] * iop[4] - iop[1] * iop[3];
	if ((sl = arena_calloc(r->a, (size_t)n, sizeof(*sl))) == NULL) {
		PQclear(res);
		page_error(r, 500, "系统内部错误");
		return;
	}
	for (i = 0; i < n; i++) {
		sl[i].key = db_val(res, i, 0);
		sl[i].num = (int)db_ll(res, i, 2);
		sl[i].pos = has_iop && page_float_array(db_val(res, i, 1), ipp,
		    3) == 3 ? ipp[0] * nrm[0] + ipp[1] * nrm[1] +
		    ipp[2] * nrm[2] : (double)sl[i].num;
	}
	qsort(sl, (size_t)n, sizeof(*sl), slice_cmp);
	key = arena_strdup(r->a, sl[n / 2].key);
	PQclear(res);
	if (key == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	if (page_audit_image(r, series) == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	page_stored_png(r, key, -1, preset, PREVIEW_EDGE,
	    arena_printf(r->a, "series %s", sid));
}
