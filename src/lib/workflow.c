/*
 * workflow.c - the application life cycle: create, return, cancel,
 * resubmit, lock, assist, report, review; each one transaction with its
 * history and audit rows.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "workflow.h"

const struct model_name app_state_names[APP_STATE__MAX] = {
	{ "pending",	"待报告" },	/* APP_PENDING */
	{ "reporting",	"报告中" },	/* APP_REPORTING */
	{ "in_review",	"审核中" },	/* APP_IN_REVIEW */
	{ "reported",	"已报告" },	/* APP_REPORTED */
	{ "reviewed",	"已审核" },	/* APP_REVIEWED */
	{ "cancelled",	"已取消" },	/* APP_CANCELLED */
	{ "returned",	"已退回" },	/* APP_RETURNED */
};

const struct model_name app_mode_names[MODE__MAX] = {
	{ "self",	"自行诊断" },	/* MODE_SELF */
	{ "superior",	"上级诊断" },	/* MODE_SUPERIOR */
};

const struct model_name urgency_names[URGENCY__MAX] = {
	{ "routine",	"普通" },	/* URGENCY_ROUTINE */
	{ "urgent",	"加急" },	/* URGENCY_URGENT */
	{ "emergency",	"急诊" },	/* URGENCY_EMERGENCY */
};

const char *const wf_messages[WF__MAX] = {
	"",						/* WF_OK */
	"申请单不存在或无权访问",			/* WF_NOT_FOUND */
	"申请单状态已变化，请刷新后重试",		/* WF_CONFLICT */
	"当前申请单已被其他医生锁定",			/* WF_LOCKED */
	"您没有执行此操作的权限",			/* WF_FORBIDDEN */
	"报告已被修改，请刷新后再保存（您的内容未被覆盖）",	/* WF_STALE */
	"提交的内容不完整或有误",			/* WF_INVALID */
	"系统暂时无法处理，请稍后重试",			/* WF_ERROR */
	"影像的患者信息与申请单不一致，请核对后填写原因再确认关联",	/* WF_MISMATCH */
};

int
wf_state_parse(const char *s)
{
	return model_lookup(app_state_names, APP_STATE__MAX, s);
}

/* What an operation needs to know of an application, read under lock. */
struct app_row {
	long long	 id;
	enum app_state	 state;
	enum app_mode	 mode;
	long long	 applicant_id, applicant_inst, target_inst, assist_inst;
	long long	 locked_by, author;
	int		 lock_expired;
	int		 version;	/* latest report version, 0 if none */
	char		 diag_no[32];
	char		 holder[130];	/* display name of the lock holder */
};

/* Is the actor's institution one that reads this application? */
static int
is_reader(const struct app_row *a, const struct wf_actor *who)
{
	if (!(who->roles & ROLE_BIT(ROLE_DOCTOR)))
		return 0;
	if (a->mode == MODE_SELF && a->applicant_inst == who->institution_id)
		return 1;
	if (a->mode == MODE_SUPERIOR && a->target_inst == who->institution_id)
		return 1;
	return a->assist_inst != 0 && a->assist_inst == who->institution_id;
}

static int
is_applicant(const struct app_row *a, const struct wf_actor *who)
{
	return (who->roles & ROLE_BIT(ROLE_APPLICANT)) &&
	    a->applicant_inst == who->institution_id;
}

/*
 * Read application id FOR UPDATE (inside the caller's transaction).
 * Returns WF_OK, WF_NOT_FOUND when it does not exist or the actor's
 * institution cannot see it, or WF_ERROR.
 */
static enum wf_result
app_load(PGconn *c, const struct wf_actor *who, long long id, int lock_idle,
    struct app_row *a)
{
	PGresult	*r;
	char		 sid[32], idle[16];
	int		 s;

	memset(a, 0, sizeof(*a));
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(idle, sizeof(idle), "%d", lock_idle > 0 ? lock_idle :
	    1800);
	r = db_exec(c, "SELECT a.id, a.state, a.mode, a.applicant_id,"
	    " a.applicant_institution_id,"
	    " coalesce(a.target_institution_id, 0),"
	    " CASE WHEN a.assist THEN a.assist_institution_id ELSE 0 END,"
	    " coalesce(a.locked_by, 0), coalesce(a.report_author_id, 0),"
	    " coalesce(a.lock_seen_at < now() - $3::int * interval '1 s',"
	    "  false),"
	    " (SELECT coalesce(max(version), 0) FROM report_versions v"
	    "  WHERE v.application_id = a.id), a.diag_no,"
	    /* A subquery, not a join: when the row was locked meanwhile,
	     * PostgreSQL re-reads it but would keep the joined (empty)
	     * holder of the row as it was. */
	    " coalesce((SELECT u.display_name FROM users u"
	    "  WHERE u.id = a.locked_by), '')"
	    " FROM applications a"
	    " WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)"
	    " FOR UPDATE OF a", 3, sid, (who->institution_id ?
	    (snprintf(a->holder, sizeof(a->holder), "%lld",
	    who->institution_id), a->holder) : "0"), idle);
	if (r == NULL)
		return WF_ERROR;
	if (PQntuples(r) != 1) {
		PQclear(r);
		memset(a, 0, sizeof(*a));
		return WF_NOT_FOUND;
	}
	a->id = db_ll(r, 0, 0);
	s = wf_state_parse(db_val(r, 0, 1));
	a->state = s < 0 ? APP_CANCELLED : (enum app_state)s;
	a->mode = strcmp(db_val(r, 0, 2), "superior") == 0 ? MODE_SUPERIOR :
	    MODE_SELF;
	a->applicant_id = db_ll(r, 0, 3);
	a->applicant_inst = db_ll(r, 0, 4);
	a->target_inst = db_ll(r, 0, 5);
	a->assist_inst = db_ll(r, 0, 6);
	a->locked_by = db_ll(r, 0, 7);
	a->author = db_ll(r, 0, 8);
	a->lock_expired = db_bool(r, 0, 9);
	a->version = (int)db_ll(r, 0, 10);
	(void)snprintf(a->diag_no, sizeof(a->diag_no), "%s", db_val(r, 0, 11));
	(void)snprintf(a->holder, sizeof(a->holder), "%s", db_val(r, 0, 12));
	PQclear(r);
	return WF_OK;
}

/* History and audit rows of one change, in the caller's transaction. */
static int
app_record(PGconn *c, const struct wf_actor *who, const struct app_row *a,
    const char *action, enum app_state from, enum app_state to,
    const char *comment)
{
	struct audit	 au;
	json_t		*d;
	char		 sid[32], uid[32], *detail;
	int		 rc;

	(void)snprintf(sid, sizeof(sid), "%lld", a->id);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	if (db_cmd(c, "INSERT INTO application_history (application_id,"
	    " actor_id, from_state, to_state, comment) VALUES ($1::bigint,"
	    " $2::bigint, $3, $4, $5)", 5, sid, uid, app_state_names[from].code,
	    app_state_names[to].code, comment ? comment : "") == -1)
		return -1;
	d = json_pack("{s:s, s:s, s:s, s:s}", "diag_no", a->diag_no, "from",
	    app_state_names[from].code, "to", app_state_names[to].code,
	    "comment", comment ? comment : "");
	detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	memset(&au, 0, sizeof(au));
	au.actor_id = who->user_id;
	au.actor_login = who->login;
	au.institution_id = who->institution_id;
	au.action = action;
	au.object_type = "application";
	au.object_id = sid;
	au.ip = who->ip;
	au.channel = who->channel;
	au.detail = detail;
	rc = audit_write(c, &au);
	free(detail);
	return rc;
}

/* Run body between BEGIN and COMMIT; roll back unless it returns WF_OK. */
#define WF_TXN_BEGIN(c) \
	do { if (db_begin(c) == -1) return WF_ERROR; } while (0)
static enum wf_result
wf_end(PGconn *c, enum wf_result res)
{
	if (res == WF_OK && db_commit(c) == 0)
		return WF_OK;
	db_rollback(c);
	return res == WF_OK ? WF_ERROR : res;
}

static int
valid_date(const char *s)
{
	int	 y, m, d;
	char	 tail;

	return sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
	    y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int
wf_form_check(PGconn *c, const struct wf_actor *who, const struct wf_form *f,
    struct wf_form_errors *e)
{
	PGresult	*r;
	char		 inst[32], al[32], tg[32];

	memset(e, 0, sizeof(*e));
#define REQUIRE(field, msg) \
	do { if (text_blank(f->field)) { e->field = (msg); e->count++; } } while (0)
	REQUIRE(patient_name, "请填写患者姓名");
	REQUIRE(patient_no, "请填写身份证号/病历号");
	REQUIRE(patient_phone, "请填写联系电话");
	REQUIRE(chief_complaint, "请填写主诉");
	REQUIRE(present_illness, "请填写现病史");
	REQUIRE(clinical_diagnosis, "请填写临床诊断");
	REQUIRE(body_part, "请填写检查部位");
#undef REQUIRE
	if (e->patient_name == NULL && u8_chars(f->patient_name) > 64) {
		e->patient_name = "患者姓名不能超过64个字";
		e->count++;
	}
	if (e->patient_no == NULL && u8_chars(f->patient_no) > 64) {
		e->patient_no = "身份证号/病历号不能超过64个字符";
		e->count++;
	}
	if (f->patient_sex == NULL || (strcmp(f->patient_sex, "M") != 0 &&
	    strcmp(f->patient_sex, "F") != 0 && strcmp(f->patient_sex, "O") != 0)) {
		e->patient_sex = "请选择性别";
		e->count++;
	}
	if (text_blank(f->patient_age) && text_blank(f->patient_birth)) {
		e->patient_age = "请填写年龄或出生日期";
		e->count++;
	} else if (!text_blank(f->patient_birth) && !valid_date(f->patient_birth)) {
		e->patient_birth = "出生日期格式应为 YYYY-MM-DD";
		e->count++;
	}
	if (!text_blank(f->exam_date) && !valid_date(f->exam_date)) {
		e->exam_date = "检查日期格式应为 YYYY-MM-DD";
		e->count++;
	}
	if (f->exam_type == NULL || (strcmp(f->exam_type, "CT") != 0 &&
	    strcmp(f->exam_type, "DR") != 0)) {
		e->exam_type = "请选择检查类型";
		e->count++;
	}
	if (f->urgency == NULL ||
	    model_lookup(urgency_names, URGENCY__MAX, f->urgency) < 0) {
		e->urgency = "请选择紧急程度";
		e->count++;
	}
	if (f->mode == NULL ||
	    model_lookup(app_mode_names, MODE__MAX, f->mode) < 0) {
		e->mode = "请选择AI诊断模式";
		e->count++;
	} else if (strcmp(f->mode, "superior") == 0) {
		if (f->alliance_id <= 0 || f->target_institution_id <= 0) {
			e->target = "上级诊断须选择医联体/医共体及上级医院";
			e->count++;
			return e->count;
		}
		/* The target must be an upper hospital of the applicant in
		 * that alliance: its superior, or the superior's, and so on. */
		(void)snprintf(inst, sizeof(inst), "%lld", who->institution_id);
		(void)snprintf(al, sizeof(al), "%lld", f->alliance_id);
		(void)snprintf(tg, sizeof(tg), "%lld", f->target_institution_id);
		r = db_exec(c, "WITH RECURSIVE up(id) AS ("
		    " SELECT superior_id FROM alliance_members"
		    "  WHERE alliance_id = $2::bigint AND institution_id = $1::bigint"
		    " UNION SELECT m.superior_id FROM alliance_members m"
		    "  JOIN up ON m.institution_id = up.id"
		    "  WHERE m.alliance_id = $2::bigint)"
		    " SELECT 1 FROM up JOIN institutions i ON i.id = up.id"
		    " WHERE up.id = $3::bigint AND i.active", 3, inst, al, tg);
		if (r == NULL)
			return -1;
		if (PQntuples(r) == 0) {
			e->target = "所选医院不是本机构在该医联体/医共体中的上级医院";
			e->count++;
		}
		PQclear(r);
	}
	return e->count;
}

/* The Chinese names of the codes of study_identity_diff(). */
static const struct model_name identity_names[] = {
	{ "patient_id", "患者号" },
	{ "patient_name", "姓名" },
	{ "patient_sex", "性别" },
	{ "patient_age", "年龄" },
	{ "patient_birth", "出生日期" },
	{ "accession", "检查号" },
	{ "other_patient", "已关联其他患者的申请单" },
};
#define NIDENTITY	(sizeof(identity_names) / sizeof(identity_names[0]))

const char *
wf_identity_zh(const char *code)
{
	return model_zh(identity_names, (int)NIDENTITY, code);
}

size_t
wf_identity_list(const char *arr, const char **codes, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < NIDENTITY && n < max; i++) {
		const char	*p = arr != NULL ? strstr(arr,
				    identity_names[i].code) : NULL;
		size_t		 len = strlen(identity_names[i].code);

		/* Codes are whole elements of a PostgreSQL array text:
		 * {patient_id,accession}. */
		while (p != NULL && ((p != arr && p[-1] != '{' &&
		    p[-1] != ',') || (p[len] != ',' && p[len] != '}')))
			p = strstr(p + 1, identity_names[i].code);
		if (p != NULL)
			codes[n++] = identity_names[i].code;
	}
	return n;
}

/* "患者号、姓名" for the differences of a PostgreSQL array text. */
static void
identity_text(const char *arr, char *out, size_t size)
{
	const char	*codes[NIDENTITY];
	size_t		 i, n, len = 0;

	out[0] = '\0';
	n = wf_identity_list(arr, codes, NIDENTITY);
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i > 0 ? "、" : "", wf_identity_zh(codes[i]));
}

/* The audit row of a link or a hold, in the caller's transaction. */
static int
offer_audit(PGconn *c, const struct wf_linker *who, long long inst,
    const char *app, const char *action, long long study, const char *how,
    const char *diff)
{
	struct audit	 au;
	json_t		*d;
	char		*detail;
	int		 rc;

	d = json_pack("{s:I, s:s, s:s}", "study_id", (json_int_t)study,
	    "linked_by", how, "differences", diff != NULL ? diff : "{}");
	detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	memset(&au, 0, sizeof(au));
	au.actor_id = who->user_id;
	au.actor_login = who->login;
	au.institution_id = who->institution_id ? who->institution_id : inst;
	au.action = action;
	au.object_type = "application";
	au.object_id = app;
	au.ip = who->ip;
	au.channel = who->channel;
	au.detail = detail;
	rc = audit_write(c, &au);
	free(detail);
	return rc;
}

int
wf_offer_study(PGconn *c, const struct wf_linker *who, long long app,
    long long study, const char *how)
{
	PGresult	*r;
	char		 sa[32], ss[32], diff[256];
	long long	 inst;
	int		 linked, n;

	(void)snprintf(sa, sizeof(sa), "%lld", app);
	(void)snprintf(ss, sizeof(ss), "%lld", study);
	/* Only a study of the applicant's institution. */
	r = db_exec(c, "SELECT EXISTS (SELECT 1 FROM application_studies l"
	    "  WHERE l.application_id = a.id AND l.study_id = s.id),"
	    " study_identity_diff(a.id, s.id), s.institution_id"
	    " FROM applications a, studies s WHERE a.id = $1::bigint"
	    " AND s.id = $2::bigint"
	    " AND s.institution_id = a.applicant_institution_id", 2, sa, ss);
	if (r == NULL)
		return WF_OFFER_ERROR;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return WF_OFFER_NONE;
	}
	linked = db_bool(r, 0, 0);
	(void)snprintf(diff, sizeof(diff), "%s", db_val(r, 0, 1));
	inst = db_ll(r, 0, 2);
	PQclear(r);
	if (linked)
		return WF_OFFER_KNOWN;
	if (strcmp(diff, "{}") == 0) {
		r = db_exec(c, "INSERT INTO application_studies"
		    " (application_id, study_id, linked_by) VALUES ($1::bigint,"
		    " $2::bigint, $3) ON CONFLICT DO NOTHING RETURNING study_id",
		    3, sa, ss, how);
		if (r == NULL)
			return WF_OFFER_ERROR;
		n = PQntuples(r);
		PQclear(r);
		if (n == 0)
			return WF_OFFER_KNOWN;
		return offer_audit(c, who, inst, sa, "study_linked", study, how,
		    NULL) == -1 ? WF_OFFER_ERROR : WF_OFFER_LINKED;
	}
	/* The patient differs: held for the applicant, audited once. */
	r = db_exec(c, "INSERT INTO study_link_holds (application_id,"
	    " study_id, proposed_by, differences) VALUES ($1::bigint,"
	    " $2::bigint, $3, $4::text[]) ON CONFLICT DO NOTHING"
	    " RETURNING study_id", 4, sa, ss, how, diff);
	if (r == NULL)
		return WF_OFFER_ERROR;
	n = PQntuples(r);
	PQclear(r);
	if (n == 0)
		return db_cmd(c, "UPDATE study_link_holds SET differences ="
		    " $3::text[] WHERE application_id = $1::bigint"
		    " AND study_id = $2::bigint", 3, sa, ss, diff) == -1 ?
		    WF_OFFER_ERROR : WF_OFFER_HELD;
	log_info("study %lld not linked to application %lld: the patient"
	    " differs (%s)", study, app, diff);
	return offer_audit(c, who, inst, sa, "study_link_held", study, how,
	    diff) == -1 ? WF_OFFER_ERROR : WF_OFFER_HELD;
}

/* The rule that links a study to an application (SQL, over s, p, a). */
#define LINK_RULE \
	" ((a.accession <> '' AND a.accession = s.accession)" \
	"  OR (p.patient_id = a.patient_no AND a.exam_date IS NOT NULL" \
	"  AND to_char(a.exam_date, 'YYYYMMDD') = s.study_date))"
#define LINK_HOW \
	" CASE WHEN a.accession <> '' AND a.accession = s.accession" \
	"  THEN 'accession' ELSE 'patient_date' END"

/* Offer application id the studies of its institution that the rule
 * points at, in the caller's transaction. */
static int
link_existing(PGconn *c, const struct wf_actor *who, const char *sid)
{
	struct wf_linker	 l;
	PGresult		*r;
	int			 i, rc = 0;

	r = db_exec(c, "SELECT a.id, s.id," LINK_HOW
	    " FROM applications a JOIN studies s"
	    "  ON s.institution_id = a.applicant_institution_id"
	    " JOIN patients p ON p.id = s.patient_ref"
	    " WHERE a.id = $1::bigint AND" LINK_RULE
	    " ORDER BY s.id", 1, sid);
	if (r == NULL)
		return -1;
	memset(&l, 0, sizeof(l));
	l.user_id = who->user_id;
	l.institution_id = who->institution_id;
	l.login = who->login;
	l.ip = who->ip;
	l.channel = who->channel;
	for (i = 0; i < PQntuples(r) && rc == 0; i++)
		if (wf_offer_study(c, &l, db_ll(r, i, 0), db_ll(r, i, 1),
		    db_val(r, i, 2)) == WF_OFFER_ERROR)
			rc = -1;
	PQclear(r);
	return rc;
}

/* The linked studies of application id compared with its patient again
 * (a resubmission may have corrected it): those that now differ in
 * something not confirmed at linking go back to the holds (sql/021),
 * each with its audit row, in the caller's transaction. */
static int
recheck_links(PGconn *c, const struct wf_actor *who, const char *sid)
{
	struct wf_linker	 l;
	PGresult		*r;
	int			 i, rc = 0;

	r = db_exec(c, "SELECT study_id, linked_by, differences::text"
	    " FROM study_links_recheck($1::bigint)", 1, sid);
	if (r == NULL)
		return -1;
	memset(&l, 0, sizeof(l));
	l.user_id = who->user_id;
	l.institution_id = who->institution_id;
	l.login = who->login;
	l.ip = who->ip;
	l.channel = who->channel;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		log_info("study %lld unlinked from application %s on"
		    " resubmission: the patient differs (%s)", db_ll(r, i, 0),
		    sid, db_val(r, i, 2));
		rc = offer_audit(c, &l, 0, sid, "study_link_held",
		    db_ll(r, i, 0), db_val(r, i, 1), db_val(r, i, 2));
	}
	PQclear(r);
	return rc;
}

int
wf_autolink_study(PGconn *c, const struct wf_linker *who, long long study_id)
{
	PGresult	*r;
	char		 sid[32];
	int		 i, n = 0, res;

	(void)snprintf(sid, sizeof(sid), "%lld", study_id);
	if (db_begin(c) == -1)
		return -1;
	r = db_exec(c, "SELECT a.id," LINK_HOW
	    " FROM studies s JOIN patients p ON p.id = s.patient_ref"
	    " JOIN applications a"
	    "  ON a.applicant_institution_id = s.institution_id"
	    " WHERE s.id = $1::bigint AND a.state <> 'cancelled' AND" LINK_RULE
	    " AND NOT EXISTS (SELECT 1 FROM application_studies l"
	    "  WHERE l.application_id = a.id AND l.study_id = s.id)"
	    " ORDER BY a.id", 1, sid);
	if (r == NULL) {
		db_rollback(c);
		return -1;
	}
	for (i = 0; i < PQntuples(r); i++) {
		res = wf_offer_study(c, who, db_ll(r, i, 0), study_id,
		    db_val(r, i, 1));
		if (res == WF_OFFER_ERROR) {
			PQclear(r);
			db_rollback(c);
			return -1;
		}
		if (res == WF_OFFER_LINKED)
			n++;
	}
	PQclear(r);
	if (db_commit(c) == -1) {
		db_rollback(c);
		return -1;
	}
	return n;
}

/* Parameters of the form columns, in the order of FORM_COLS. */
#define FORM_COLS \
	"patient_name, patient_sex, patient_age, patient_birth, patient_no," \
	" patient_phone, chief_complaint, present_illness, history," \
	" clinical_diagnosis, exam_type, body_part, urgency, accession," \
	" exam_date, mode, alliance_id, target_institution_id"

static void
form_params(const struct wf_form *f, const char **p, char *al, char *tg)
{
	int	 sup = f->mode != NULL && strcmp(f->mode, "superior") == 0;

	(void)snprintf(al, 32, "%lld", f->alliance_id);
	(void)snprintf(tg, 32, "%lld", f->target_institution_id);
	p[0] = f->patient_name;
	p[1] = f->patient_sex;
	p[2] = f->patient_age ? f->patient_age : "";
	p[3] = text_blank(f->patient_birth) ? NULL : f->patient_birth;
	p[4] = f->patient_no;
	p[5] = f->patient_phone ? f->patient_phone : "";
	p[6] = f->chief_complaint ? f->chief_complaint : "";
	p[7] = f->present_illness ? f->present_illness : "";
	p[8] = f->history ? f->history : "";
	p[9] = f->clinical_diagnosis ? f->clinical_diagnosis : "";
	p[10] = f->exam_type;
	p[11] = f->body_part ? f->body_part : "";
	p[12] = f->urgency;
	p[13] = f->accession ? f->accession : "";
	p[14] = text_blank(f->exam_date) ? NULL : f->exam_date;
	p[15] = f->mode;
	p[16] = sup ? al : NULL;
	p[17] = sup ? tg : NULL;
}

enum wf_result
wf_create(PGconn *c, const struct wf_actor *who, const struct wf_form *f,
    long long *id, char *diag_no)
{
	struct wf_form_errors	 e;
	struct app_row		 a;
	const char		*p[21];
	char			 al[32], tg[32], uid[32], inst[32], sid[32];
	PGresult		*r;
	int			 n;

	*id = 0;
	if (!(who->roles & ROLE_BIT(ROLE_APPLICANT)))
		return WF_FORBIDDEN;
	if ((n = wf_form_check(c, who, f, &e)) < 0)
		return WF_ERROR;
	if (n > 0)
		return WF_INVALID;
	form_params(f, p, al, tg);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	(void)snprintf(inst, sizeof(inst), "%lld", who->institution_id);
	p[18] = uid;
	p[19] = inst;
	WF_TXN_BEGIN(c);
	r = db_execv(__func__, c, "INSERT INTO applications (" FORM_COLS ","
	    " applicant_id, applicant_institution_id, diag_no) VALUES ($1, $2,"
	    " $3, $4::date, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
	    " $15::date, $16, $17::bigint, $18::bigint, $19::bigint,"
	    " $20::bigint, 'ZY' || to_char(now(), 'YYYYMMDD')"
	    " || lpad(nextval('diag_no_seq')::text, 6, '0'))"
	    " RETURNING id, diag_no", 20, p);
	if (r == NULL)
		return wf_end(c, strncmp(db_sqlstate(), "23", 2) == 0 ?
		    WF_INVALID : WF_ERROR);
	*id = db_ll(r, 0, 0);
	(void)snprintf(diag_no, 32, "%s", db_val(r, 0, 1));
	PQclear(r);
	memset(&a, 0, sizeof(a));
	a.id = *id;
	(void)snprintf(a.diag_no, sizeof(a.diag_no), "%s", diag_no);
	(void)snprintf(sid, sizeof(sid), "%lld", *id);
	if (link_existing(c, who, sid) == -1 ||
	    app_record(c, who, &a, "application_created", APP_PENDING,
	    APP_PENDING, app_mode_names[strcmp(f->mode, "superior") == 0 ?
	    MODE_SUPERIOR : MODE_SELF].zh) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

/* A conditional state change: UPDATE ... WHERE state = from, plus extra
 * assignments; 0 rows means somebody changed it first. */
static enum wf_result
app_move(PGconn *c, const struct app_row *a, enum app_state from,
    enum app_state to, const char *extra, int n, const char *p1,
    const char *p2)
{
	PGresult	*r;
	char		 sql[1024], sid[32];

	(void)snprintf(sid, sizeof(sid), "%lld", a->id);
	(void)snprintf(sql, sizeof(sql), "UPDATE applications SET state = $2%s%s"
	    " WHERE id = $1::bigint AND state = $3 RETURNING id",
	    extra != NULL ? ", " : "", extra != NULL ? extra : "");
	r = db_exec(c, sql, 3 + n, sid, app_state_names[to].code,
	    app_state_names[from].code, p1, p2);
	if (r == NULL)
		return WF_ERROR;
	n = PQntuples(r);
	PQclear(r);
	return n == 1 ? WF_OK : WF_CONFLICT;
}

enum wf_result
wf_cancel(PGconn *c, const struct wf_actor *who, long long id)
{
	struct app_row	 a;
	enum wf_result	 res;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_applicant(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	if (a.state != APP_PENDING)
		return wf_end(c, WF_CONFLICT);
	if ((res = app_move(c, &a, APP_PENDING, APP_CANCELLED, NULL, 0, NULL,
	    NULL)) != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, "application_cancelled", APP_PENDING,
	    APP_CANCELLED, NULL) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_return(PGconn *c, const struct wf_actor *who, long long id,
    const char *reason)
{
	struct app_row	 a;
	enum wf_result	 res;

	if (text_blank(reason))
		return WF_INVALID;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	/* Returned by a reading institution other than the applicant. */
	if (!is_reader(&a, who) || a.applicant_inst == who->institution_id)
		return wf_end(c, WF_FORBIDDEN);
	if (a.state != APP_PENDING)
		return wf_end(c, WF_CONFLICT);
	if ((res = app_move(c, &a, APP_PENDING, APP_RETURNED,
	    "return_reason = $4", 1, reason, NULL)) != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, "application_returned", APP_PENDING,
	    APP_RETURNED, reason) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_resubmit(PGconn *c, const struct wf_actor *who, long long id,
    const struct wf_form *f)
{
	struct wf_form_errors	 e;
	struct app_row		 a;
	const char		*p[21];
	char			 al[32], tg[32], sid[32];
	enum wf_result		 res;
	PGresult		*r;
	int			 n;

	if ((n = wf_form_check(c, who, f, &e)) < 0)
		return WF_ERROR;
	if (n > 0)
		return WF_INVALID;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_applicant(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	if (a.state != APP_RETURNED)
		return wf_end(c, WF_CONFLICT);
	form_params(f, p, al, tg);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	p[18] = sid;
	r = db_execv(__func__, c, "UPDATE applications SET (" FORM_COLS ","
	    " state, submitted_at) = ($1, $2, $3, $4::date, $5, $6, $7, $8, $9,"
	    " $10, $11, $12, $13, $14, $15::date, $16, $17::bigint,"
	    " $18::bigint, 'pending', now())"
	    " WHERE id = $19::bigint AND state = 'returned' RETURNING id",
	    19, p);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	n = PQntuples(r);
	PQclear(r);
	if (n != 1)
		return wf_end(c, WF_CONFLICT);
	if (recheck_links(c, who, sid) == -1 ||
	    link_existing(c, who, sid) == -1 || app_record(c, who, &a,
	    "application_resubmitted", APP_RETURNED, APP_PENDING, NULL) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_lock(PGconn *c, const struct wf_actor *who, long long id, int lock_idle,
    char *holder, size_t holdersize)
{
	struct app_row	 a;
	enum wf_result	 res;
	char		 sid[32], uid[32];

	holder[0] = '\0';
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, lock_idle, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_reader(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	if (a.state == APP_PENDING) {
		if ((res = app_move(c, &a, APP_PENDING, APP_REPORTING,
		    "locked_by = $4::bigint, locked_at = now(),"
		    " lock_seen_at = now()", 1, uid, NULL)) != WF_OK)
			return wf_end(c, res);
		if (app_record(c, who, &a, "report_locked", APP_PENDING,
		    APP_REPORTING, NULL) == -1)
			return wf_end(c, WF_ERROR);
		return wf_end(c, WF_OK);
	}
	if (a.state != APP_REPORTING)
		return wf_end(c, WF_CONFLICT);
	if (a.locked_by != who->user_id && !a.lock_expired) {
		(void)snprintf(holder, holdersize, "%s", a.holder);
		return wf_end(c, WF_LOCKED);
	}
	if (db_cmd(c, "UPDATE applications SET locked_by = $2::bigint,"
	    " locked_at = CASE WHEN locked_by = $2::bigint THEN locked_at"
	    "  ELSE now() END, lock_seen_at = now() WHERE id = $1::bigint",
	    2, sid, uid) == -1)
		return wf_end(c, WF_ERROR);
	if (a.locked_by != who->user_id && app_record(c, who, &a,
	    "report_lock_taken_over", APP_REPORTING, APP_REPORTING,
	    a.holder) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_unlock(PGconn *c, const struct wf_actor *who, long long id)
{
	struct app_row	 a;
	enum wf_result	 res;
	int		 admin = (who->roles & ROLE_BIT(ROLE_ADMIN)) != 0;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (a.state != APP_REPORTING)
		return wf_end(c, WF_CONFLICT);
	if (a.locked_by != who->user_id && !admin)
		return wf_end(c, WF_FORBIDDEN);
	if ((res = app_move(c, &a, APP_REPORTING, APP_PENDING,
	    "locked_by = NULL, locked_at = NULL, lock_seen_at = NULL", 0,
	    NULL, NULL)) != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, admin && a.locked_by != who->user_id ?
	    "report_lock_broken" : "report_unlocked", APP_REPORTING,
	    APP_PENDING, NULL) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_assist(PGconn *c, const struct wf_actor *who, long long id,
    long long alliance_id, long long institution_id, const char *cc,
    const char *pi)
{
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	char		 sid[32], al[32], tg[32], inst[32], uid[32];
	int		 n;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_reader(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	if (a.state != APP_PENDING && a.state != APP_REPORTING)
		return wf_end(c, WF_CONFLICT);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(al, sizeof(al), "%lld", alliance_id);
	(void)snprintf(tg, sizeof(tg), "%lld", institution_id);
	(void)snprintf(inst, sizeof(inst), "%lld", who->institution_id);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	/* The helper must be an upper hospital of the asking institution. */
	r = db_exec(c, "WITH RECURSIVE up(id) AS ("
	    " SELECT superior_id FROM alliance_members"
	    "  WHERE alliance_id = $2::bigint AND institution_id = $1::bigint"
	    " UNION SELECT m.superior_id FROM alliance_members m"
	    "  JOIN up ON m.institution_id = up.id"
	    "  WHERE m.alliance_id = $2::bigint)"
	    " SELECT 1 FROM up WHERE id = $3::bigint", 3, inst, al, tg);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	n = PQntuples(r);
	PQclear(r);
	if (n == 0)
		return wf_end(c, WF_INVALID);
	if (db_cmd(c, "UPDATE applications SET assist = true,"
	    " assist_alliance_id = $2::bigint,"
	    " assist_institution_id = $3::bigint, assist_by = $4::bigint,"
	    " assist_at = now(),"
	    " chief_complaint = CASE WHEN $5 = '' THEN chief_complaint"
	    "  ELSE $5 END,"
	    " present_illness = CASE WHEN $6 = '' THEN present_illness"
	    "  ELSE $6 END"
	    " WHERE id = $1::bigint", 6, sid, al, tg, uid, cc ? cc : "",
	    pi ? pi : "") == -1)
		return wf_end(c, WF_ERROR);
	if (app_record(c, who, &a, "assistance_requested", a.state, a.state,
	    "请求协助") == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

/* Insert report version base + 1 of kind; the caller holds the row lock,
 * so two saves from the same base cannot both pass the check. */
static enum wf_result
report_insert(PGconn *c, const struct wf_actor *who, const struct app_row *a,
    int base, const char *findings, const char *conclusion, int ai_used,
    const char *kind, int *version)
{
	char	 sid[32], uid[32], ver[16];

	if (base != a->version)
		return WF_STALE;
	(void)snprintf(sid, sizeof(sid), "%lld", a->id);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	(void)snprintf(ver, sizeof(ver), "%d", base + 1);
	if (db_cmd(c, "INSERT INTO report_versions (application_id, version,"
	    " author_id, findings, conclusion, ai_used, kind) VALUES"
	    " ($1::bigint, $2::int, $3::bigint, $4, $5, $6::boolean, $7)", 7,
	    sid, ver, uid, findings ? findings : "",
	    conclusion ? conclusion : "", ai_used ? "true" : "false",
	    kind) == -1)
		return strncmp(db_sqlstate(), "23", 2) == 0 ? WF_STALE :
		    WF_ERROR;
	if (version != NULL)
		*version = base + 1;
	return db_cmd(c, "UPDATE applications SET lock_seen_at = now()"
	    " WHERE id = $1::bigint", 1, sid) == 0 ? WF_OK : WF_ERROR;
}

/* The lock holder writing: state 报告中 and the lock is the actor's. */
static enum wf_result
writer_check(const struct app_row *a, const struct wf_actor *who)
{
	if (!is_reader(a, who))
		return WF_FORBIDDEN;
	if (a->state != APP_REPORTING)
		return WF_CONFLICT;
	if (a->locked_by != who->user_id)
		return WF_LOCKED;
	return WF_OK;
}

enum wf_result
wf_report_save(PGconn *c, const struct wf_actor *who, long long id, int base,
    const char *findings, const char *conclusion, int ai_used, int *version)
{
	struct app_row	 a;
	enum wf_result	 res;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK ||
	    (res = writer_check(&a, who)) != WF_OK ||
	    (res = report_insert(c, who, &a, base, findings, conclusion,
	    ai_used, "draft", version)) != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, "report_saved", a.state, a.state, NULL) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

/* The caption of slice z of an AI result: the reader, the slice and the
 * reader's own caption of it when it is one of the result's key images. */
static void
key_ai_caption(char *out, size_t sz, const char *reader, int z,
    const char *keys)
{
	json_t		*a, *o, *s, *c;
	size_t		 i;
	const char	*cap = "";

	if ((a = json_loads(keys, 0, NULL)) != NULL)
		json_array_foreach(a, i, o) {
			s = json_object_get(o, "slice");
			c = json_object_get(o, "caption");
			if (json_is_integer(s) && json_integer_value(s) == z &&
			    json_is_string(c)) {
				cap = json_string_value(c);
				break;
			}
		}
	(void)snprintf(out, sz, "%s 第 %d 层%s%s", reader_name_zh(reader),
	    z + 1, *cap != '\0' ? " " : "", cap);
	json_decref(a);
}

/*
 * The caption of the key image k if it is one of application a's (a
 * series of a study linked to it, or a slice of a job's result on one),
 * with its series into *series.  Returns WF_OK, WF_NOT_FOUND or
 * WF_INVALID (*why set), or WF_ERROR.
 */
static enum wf_result
key_resolve(PGconn *c, const struct app_row *a, const struct wf_key_image *k,
    long long *series, char *cap, size_t sz, const char **why)
{
	PGresult	*r;
	char		 sid[32], ref[32];
	int		 n;

	(void)snprintf(sid, sizeof(sid), "%lld", a->id);
	(void)snprintf(ref, sizeof(ref), "%lld", k->job > 0 ? k->job :
	    k->series);
	if (k->job > 0)
		r = db_exec(c, "SELECT j.series_id, j.reader,"
		    " coalesce(array_length(res.slice_uids, 1), 0),"
		    " res.key_images::text"
		    " FROM ai_jobs j JOIN ai_results res ON res.job_id = j.id"
		    " JOIN series se ON se.id = j.series_id"
		    " WHERE j.id = $1::bigint AND EXISTS (SELECT 1"
		    "  FROM application_studies x WHERE x.study_id = se.study_id"
		    "  AND x.application_id = $2::bigint)", 2, ref, sid);
	else
		r = db_exec(c, "SELECT se.id,"
		    " coalesce(se.series_number::text, ''), se.description,"
		    " se.modality FROM series se"
		    " WHERE se.id = $1::bigint AND EXISTS (SELECT 1"
		    "  FROM application_studies x WHERE x.study_id = se.study_id"
		    "  AND x.application_id = $2::bigint)", 2, ref, sid);
	if (r == NULL)
		return WF_ERROR;
	if (PQntuples(r) != 1) {
		PQclear(r);
		*why = "所选影像不存在或不属于该申请单";
		return WF_NOT_FOUND;
	}
	*series = db_ll(r, 0, 0);
	if (k->job > 0) {
		n = (int)db_ll(r, 0, 2);
		if (k->slice < 0 || k->slice >= n) {
			PQclear(r);
			*why = "所选层面不存在";
			return WF_INVALID;
		}
		key_ai_caption(cap, sz, db_val(r, 0, 1), k->slice,
		    db_val(r, 0, 3));
	} else if (*db_val(r, 0, 2) != '\0')
		(void)snprintf(cap, sz, "序列 %s %s", db_val(r, 0, 1),
		    db_val(r, 0, 2));
	else
		(void)snprintf(cap, sz, "序列 %s（%s）", db_val(r, 0, 1),
		    db_val(r, 0, 3));
	PQclear(r);
	return WF_OK;
}

/* Cut s at sz - 1 bytes or less without cutting a UTF-8 character. */
static void
utf8_cut(char *s, size_t sz)
{
	size_t	 n = strlen(s);

	if (n < sz - 1)
		return;
	n = sz - 1;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

enum wf_result
wf_key_image_add(PGconn *c, const struct wf_actor *who, long long id,
    const struct wf_key_image *k, const char **why)
{
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	long long	 series = 0;
	char		 sid[32], sser[32], sjob[32], sz[16], uid[32], pos[32];
	char		 cap[400];
	int		 n, dup;

	*why = NULL;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK ||
	    (res = writer_check(&a, who)) != WF_OK ||
	    (res = key_resolve(c, &a, k, &series, cap, sizeof(cap), why)) !=
	    WF_OK)
		return wf_end(c, res);
	/* Under 200 bytes, so within the column's 200 characters. */
	utf8_cut(cap, 200);
	(void)snprintf(sid, sizeof(sid), "%lld", a.id);
	(void)snprintf(sser, sizeof(sser), "%lld", series);
	(void)snprintf(sjob, sizeof(sjob), "%lld", k->job > 0 ? k->job : 0);
	(void)snprintf(sz, sizeof(sz), "%d", k->job > 0 ? k->slice : -1);
	r = db_exec(c, "SELECT count(*), coalesce(max(position), 0),"
	    " coalesce(bool_or(series_id = $2::bigint"
	    "  AND coalesce(job_id, 0) = $3::bigint"
	    "  AND coalesce(slice, -1) = $4::int), false)"
	    " FROM report_key_images WHERE application_id = $1::bigint", 4,
	    sid, sser, sjob, sz);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	n = (int)db_ll(r, 0, 0);
	(void)snprintf(pos, sizeof(pos), "%lld", db_ll(r, 0, 1) + 1);
	dup = db_bool(r, 0, 2);
	PQclear(r);
	if (dup) {
		*why = "该影像已在关键图像中";
		return wf_end(c, WF_INVALID);
	}
	if (n >= WF_KEY_IMAGES_MAX) {
		*why = "关键图像最多4幅，请先移除一幅再添加";
		return wf_end(c, WF_INVALID);
	}
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	if (db_cmd(c, "INSERT INTO report_key_images (application_id, kind,"
	    " series_id, job_id, slice, window_name, caption, position,"
	    " created_by) VALUES ($1::bigint, $2, $3::bigint,"
	    " nullif($4::bigint, 0), nullif($5::int, -1), $6, $7, $8::int,"
	    " $9::bigint)", 9, sid, k->job > 0 ? "ai" : "series", sser, sjob,
	    sz, k->window, cap, pos, uid) == -1 ||
	    app_record(c, who, &a, "key_image_added", a.state, a.state,
	    cap) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_key_image_remove(PGconn *c, const struct wf_actor *who, long long id,
    long long key, const char **why)
{
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	char		 sid[32], skey[32], *cap;

	*why = NULL;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK ||
	    (res = writer_check(&a, who)) != WF_OK)
		return wf_end(c, res);
	(void)snprintf(sid, sizeof(sid), "%lld", a.id);
	(void)snprintf(skey, sizeof(skey), "%lld", key);
	r = db_exec(c, "DELETE FROM report_key_images WHERE id = $1::bigint"
	    " AND application_id = $2::bigint RETURNING caption", 2, skey,
	    sid);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	if (PQntuples(r) != 1) {
		PQclear(r);
		*why = "该关键图像不存在或已移除";
		return wf_end(c, WF_NOT_FOUND);
	}
	cap = strdup(db_val(r, 0, 0));
	PQclear(r);
	if (cap == NULL || app_record(c, who, &a, "key_image_removed",
	    a.state, a.state, cap) == -1) {
		free(cap);
		return wf_end(c, WF_ERROR);
	}
	free(cap);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_ai_lesion_delete(PGconn *c, const struct wf_actor *who, long long id,
    long long job, int idx, const char **why)
{
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	char		 sid[32], sjob[32], sidx[16], uid[32], note[200];
	int		 n;

	*why = NULL;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK ||
	    (res = writer_check(&a, who)) != WF_OK)
		return wf_end(c, res);
	(void)snprintf(sid, sizeof(sid), "%lld", a.id);
	(void)snprintf(sjob, sizeof(sjob), "%lld", job);
	(void)snprintf(sidx, sizeof(sidx), "%d", idx);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	/* The lesion of the job's result, on a series of one of this
	 * application's studies. */
	r = db_exec(c, "SELECT res.id, j.reader FROM ai_jobs j"
	    " JOIN ai_results res ON res.job_id = j.id"
	    " JOIN ai_lesions l ON l.result_id = res.id AND l.idx = $3::int"
	    " JOIN series se ON se.id = j.series_id"
	    " JOIN application_studies x ON x.study_id = se.study_id"
	    "  AND x.application_id = $1::bigint"
	    " WHERE j.id = $2::bigint AND j.state = 'done'", 3, sid, sjob,
	    sidx);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	if (PQntuples(r) != 1) {
		PQclear(r);
		*why = "该病灶序号框不存在";
		return wf_end(c, WF_NOT_FOUND);
	}
	(void)snprintf(note, sizeof(note), "删除病灶序号框 %d（%s）", idx,
	    reader_name_zh(db_val(r, 0, 1)));
	/* Under 200 bytes: the history's comment takes it whole. */
	utf8_cut(note, sizeof(note) - 1);
	PQclear(r);
	r = db_exec(c, "INSERT INTO ai_lesion_deletions (application_id,"
	    " result_id, idx, deleted_by) SELECT $1::bigint, res.id, $3::int,"
	    " $4::bigint FROM ai_results res WHERE res.job_id = $2::bigint"
	    " ON CONFLICT DO NOTHING RETURNING idx", 4, sid, sjob, sidx, uid);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	n = PQntuples(r);
	PQclear(r);
	if (n == 0) {
		*why = "该病灶序号框已删除";
		return wf_end(c, WF_INVALID);
	}
	if (app_record(c, who, &a, "ai_lesion_deleted", a.state, a.state,
	    note) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_report_submit(PGconn *c, const struct wf_actor *who, long long id,
    int base, const char *findings, const char *conclusion, int ai_used,
    int final, enum title signoff)
{
	struct app_row	 a;
	enum wf_result	 res;
	enum app_state	 to;
	char		 uid[32];

	if (text_blank(findings) || text_blank(conclusion))
		return WF_INVALID;
	/* Only a doctor with sign-off may finalise without review. */
	if (final && who->title < signoff)
		return WF_FORBIDDEN;
	to = final ? APP_REPORTED : APP_IN_REVIEW;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK ||
	    (res = writer_check(&a, who)) != WF_OK ||
	    (res = report_insert(c, who, &a, base, findings, conclusion,
	    ai_used, final ? "final" : "submitted", NULL)) != WF_OK)
		return wf_end(c, res);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	if ((res = app_move(c, &a, APP_REPORTING, to,
	    "report_author_id = $4::bigint, reported_at = now(),"
	    " locked_by = NULL, locked_at = NULL, lock_seen_at = NULL", 1,
	    uid, NULL)) != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, final ? "report_finalised" :
	    "report_submitted", APP_REPORTING, to, NULL) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_review(PGconn *c, const struct wf_actor *who, long long id, int approve,
    const char *comment, enum title signoff)
{
	struct app_row	 a;
	enum wf_result	 res;
	char		 uid[32], author[32];

	if (!approve && text_blank(comment))
		return WF_INVALID;
	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_reader(&a, who) || who->title < signoff ||
	    a.author == who->user_id)
		return wf_end(c, WF_FORBIDDEN);
	if (a.state != APP_IN_REVIEW)
		return wf_end(c, WF_CONFLICT);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	(void)snprintf(author, sizeof(author), "%lld", a.author);
	if (approve)
		res = app_move(c, &a, APP_IN_REVIEW, APP_REVIEWED,
		    "reviewer_id = $4::bigint, reviewed_at = now(),"
		    " review_comment = $5", 2, uid, comment ? comment : "");
	else
		/* Back to its author, locked to the author. */
		res = app_move(c, &a, APP_IN_REVIEW, APP_REPORTING,
		    "reviewer_id = $4::bigint, review_comment = $5,"
		    " locked_by = report_author_id, locked_at = now(),"
		    " lock_seen_at = now()", 2, uid, comment);
	if (res != WF_OK)
		return wf_end(c, res);
	if (app_record(c, who, &a, approve ? "report_approved" :
	    "report_rejected", APP_IN_REVIEW, approve ? APP_REVIEWED :
	    APP_REPORTING, comment) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_link_study(PGconn *c, const struct wf_actor *who, long long id,
    long long study_id, const char *reason)
{
	struct wf_linker l;
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	char		 sid[32], st[32], uid[32], diff[256], zh[256],
			 how[16], comment[2600];
	int		 n, linked;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_applicant(&a, who) && !is_reader(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(st, sizeof(st), "%lld", study_id);
	/* Only a study the applicant's institution sent. */
	r = db_exec(c, "SELECT EXISTS (SELECT 1 FROM application_studies l"
	    "  WHERE l.application_id = a.id AND l.study_id = s.id),"
	    " study_identity_diff(a.id, s.id), coalesce((SELECT h.proposed_by"
	    "  FROM study_link_holds h WHERE h.application_id = a.id"
	    "  AND h.study_id = s.id), 'hand')"
	    " FROM applications a, studies s WHERE a.id = $1::bigint"
	    " AND s.id = $2::bigint"
	    " AND s.institution_id = a.applicant_institution_id", 2, sid, st);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return wf_end(c, WF_NOT_FOUND);
	}
	linked = db_bool(r, 0, 0);
	(void)snprintf(diff, sizeof(diff), "%s", db_val(r, 0, 1));
	(void)snprintf(how, sizeof(how), "%s", db_val(r, 0, 2));
	PQclear(r);
	if (linked)
		return wf_end(c, WF_NOT_FOUND);
	if (strcmp(diff, "{}") == 0) {
		if (db_cmd(c, "INSERT INTO application_studies (application_id,"
		    " study_id, linked_by) VALUES ($1::bigint, $2::bigint, $3)",
		    3, sid, st, how) == -1 ||
		    db_cmd(c, "DELETE FROM study_link_holds WHERE"
		    " application_id = $1::bigint AND study_id = $2::bigint",
		    2, sid, st) == -1 ||
		    app_record(c, who, &a, "study_linked", a.state, a.state,
		    st) == -1)
			return wf_end(c, WF_ERROR);
		return wf_end(c, WF_OK);
	}
	if (text_blank(reason)) {
		/* Not linked: held, and the applicant is asked why. */
		memset(&l, 0, sizeof(l));
		l.user_id = who->user_id;
		l.institution_id = who->institution_id;
		l.login = who->login;
		l.ip = who->ip;
		l.channel = who->channel;
		if (wf_offer_study(c, &l, id, study_id, how) == WF_OFFER_ERROR)
			return wf_end(c, WF_ERROR);
		if (db_commit(c) == -1) {
			db_rollback(c);
			return WF_ERROR;
		}
		return WF_MISMATCH;
	}
	if (u8_chars(reason) > 500)
		return wf_end(c, WF_INVALID);
	(void)snprintf(uid, sizeof(uid), "%lld", who->user_id);
	r = db_exec(c, "INSERT INTO application_studies (application_id,"
	    " study_id, linked_by, differences, confirmed_by, confirm_reason)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::text[], $5::bigint, $6)"
	    " ON CONFLICT DO NOTHING RETURNING study_id", 6, sid, st, how, diff,
	    uid, reason);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	n = PQntuples(r);
	PQclear(r);
	if (n == 0)
		return wf_end(c, WF_CONFLICT);
	identity_text(diff, zh, sizeof(zh));
	(void)snprintf(comment, sizeof(comment), "检查 %s 的患者信息与申请单"
	    "不一致（%s），确认关联。原因：%s", st, zh, reason);
	if (db_cmd(c, "DELETE FROM study_link_holds WHERE"
	    " application_id = $1::bigint AND study_id = $2::bigint",
	    2, sid, st) == -1 ||
	    app_record(c, who, &a, "study_linked_confirmed", a.state, a.state,
	    comment) == -1)
		return wf_end(c, WF_ERROR);
	log_info("study %s linked to application %s by %s although the"
	    " patient differs (%s)", st, sid, who->login ? who->login : "?",
	    diff);
	return wf_end(c, WF_OK);
}

enum wf_result
wf_decline_study(PGconn *c, const struct wf_actor *who, long long id,
    long long study_id)
{
	struct app_row	 a;
	enum wf_result	 res;
	PGresult	*r;
	char		 sid[32], st[32], zh[256], comment[400];
	int		 n;

	WF_TXN_BEGIN(c);
	if ((res = app_load(c, who, id, 0, &a)) != WF_OK)
		return wf_end(c, res);
	if (!is_applicant(&a, who))
		return wf_end(c, WF_FORBIDDEN);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(st, sizeof(st), "%lld", study_id);
	r = db_exec(c, "DELETE FROM study_link_holds WHERE"
	    " application_id = $1::bigint AND study_id = $2::bigint"
	    " RETURNING differences", 2, sid, st);
	if (r == NULL)
		return wf_end(c, WF_ERROR);
	if ((n = PQntuples(r)) == 1)
		identity_text(db_val(r, 0, 0), zh, sizeof(zh));
	PQclear(r);
	if (n != 1)
		return wf_end(c, WF_NOT_FOUND);
	(void)snprintf(comment, sizeof(comment), "检查 %s 的患者信息与申请单"
	    "不一致（%s），不予关联", st, zh);
	if (app_record(c, who, &a, "study_link_declined", a.state, a.state,
	    comment) == -1)
		return wf_end(c, WF_ERROR);
	return wf_end(c, WF_OK);
}
