/*
 * lists.c - the lists of the workflow and the actions taken from them.
 *
 * 申请列表, 待诊断, 待审核, 已报告, 已诊断 and 打印报告 share one list
 * engine with a scope per page.  Which applications a page shows is
 * decided here, from the session's institution, user and roles, never
 * from the URL: the URL carries only the filter (高级筛选), which narrows
 * the scope and cannot widen it.  Every value of the filter reaches the
 * database as a parameter.
 *
 * From the lists: 退回 and 请求协助, both through the workflow library,
 * and 保存常用筛选 (named query strings per user and list).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "pages.h"
#include "workflow.h"

#define LIST_PER_PAGE	20
#define LIST_SAVED_MAX	20	/* saved filters per user and list */
#define LIST_MAXPARAMS	48
/* The count under a list the kept totals (sql/041) cannot answer (by
 * 申请时间, 申请医院 or 关键字) stops this many rows past the page shown:
 * beyond it the page says 超过 N 条 instead of counting them all.  At a
 * million applications, counting 10,001 rows cost 14 ms for 待诊断 of
 * the last week and 150-200 ms for a 诊断号 fragment that holds a date
 * (load 7-8); 1,001 rows 0.6 ms and 2 ms (sql/042). */
#define LIST_COUNT_CAP	1000
#define LIST_STYLE	"/static/lists.css"
#define LIST_SCRIPT	"/static/lists.js"

#define ST(s)		(1u << (s))
#define ST_WORK		(ST(APP_PENDING) | ST(APP_REPORTING))
#define ST_DONE		(ST(APP_REPORTED) | ST(APP_REVIEWED))
#define ST_ALL		((1u << APP_STATE__MAX) - 1)

/* Columns beyond 诊断号 and 患者姓名, which every list has. */
enum col {
	COL_SEX,
	COL_AGE,
	COL_HOSPITAL,		/* 申请医院 */
	COL_EXAM,		/* 检查类型 */
	COL_URGENCY,
	COL_MODE,		/* 诊断模式 */
	COL_APPLICANT,		/* 申请人 */
	COL_TIME,		/* 申请时间 */
	COL_AUTHOR,		/* 报告医生 */
	COL_REVIEWER,		/* 审核医生 */
	COL_SUBMITTED,		/* 提交时间 (to review) */
	COL_REPORTED,		/* 报告时间 */
	COL_READER,		/* 诊断医院 */
	COL_STATE,
	COL_ASSIST,		/* 请求协助 */
	COL_LOCK,		/* 锁定医生 */
	COL__MAX
};
#define C(x)		(1u << COL_##x)

static const char *const col_keys[COL__MAX] = {
	"col_sex", "col_age", "col_hospital", "col_exam", "col_urgency",
	"col_mode", "col_applicant", "col_time", "col_author",
	"col_reviewer", "col_submitted", "col_reported", "col_reader",
	"col_state", "col_assist", "col_lock",
};

struct list_def {
	enum page	 page;
	unsigned int	 states;	/* ST() set shown by the list */
	unsigned int	 cols;		/* C() set */
	const char	*empty;
};

static const struct list_def list_defs[] = {
	{ PAGE_APPLICATIONS, ST_ALL, C(SEX) | C(AGE) | C(EXAM) | C(MODE) |
	    C(APPLICANT) | C(TIME) | C(STATE), "暂无申请记录" },
	{ PAGE_WORKLIST, ST_WORK, C(SEX) | C(AGE) | C(HOSPITAL) | C(EXAM) |
	    C(URGENCY) | C(TIME) | C(STATE) | C(ASSIST) | C(LOCK),
	    "暂无待诊断的申请" },
	{ PAGE_REVIEW, ST(APP_IN_REVIEW), C(SEX) | C(HOSPITAL) | C(EXAM) |
	    C(AUTHOR) | C(SUBMITTED), "暂无待审核的报告" },
	{ PAGE_REPORTED, ST_DONE, C(HOSPITAL) | C(EXAM) | C(AUTHOR) |
	    C(REVIEWER) | C(REPORTED) | C(STATE), "暂无已完成的报告" },
	{ PAGE_DIAGNOSED, ST_DONE, C(HOSPITAL) | C(READER) | C(EXAM) |
	    C(TIME) | C(REPORTED) | C(STATE), "暂无已诊断的申请" },
	{ PAGE_PRINT, ST_DONE, C(SEX) | C(AGE) | C(EXAM) | C(READER) |
	    C(REPORTED) | C(STATE), "暂无可打印的报告" },
};

/* The filter of a list, as read from the URL (or a saved-filter form). */
struct list_filter {
	const char	*time;		/* today, 2days, week; NULL: any */
	const char	*from, *to;	/* YYYY-MM-DD or NULL */
	const char	*tail;		/* 0-9 or NULL */
	const char	*hospital;	/* institution id or NULL */
	const char	*status;	/* state code or NULL */
	const char	*q;		/* trimmed keyword or NULL */
	int		 exact;		/* match q exactly */
	const char	*sort;		/* time, -time, name, ... (-time) */
	int		 has_mine;	/* the list has the toggle */
	int		 mine;		/* 申请列表: only the user's own */
	long long	 page;		/* 1-based */
	int		 q_bad;		/* the keyword was refused */
};

/* An SQL statement being built, with its parameters. */
struct qb {
	struct buf	 b;
	const char	*p[LIST_MAXPARAMS];
	int		 n;
	int		 err;
};

/* Visibility of an application to institution $1 as a reading
 * institution (workflow.c is_reader): its own self-diagnosed ones, the
 * superior-mode ones addressed to it, and those it was asked to help
 * with. */
#define SQL_READER \
	"((a.mode = 'self' AND a.applicant_institution_id = $1::bigint)" \
	" OR (a.mode = 'superior' AND a.target_institution_id = $1::bigint)" \
	" OR (a.assist AND a.assist_institution_id = $1::bigint))"
/* The same, for a search by name (关键字 without digits): the rows come
 * from the names' indexes, a few hundred at most, and the institution is
 * checked on them.  Written so that no index of the institutions
 * applies ("+ 0"): the planner would AND the names' bitmap with one of
 * every waiting row of the institution (9,809-49,803 entries at a
 * million applications, 10-60 ms) to save reading the few rows. */
#define SQL_READER_NAMES \
	"((a.mode = 'self' AND a.applicant_institution_id + 0 = $1::bigint)" \
	" OR (a.mode = 'superior' AND a.target_institution_id + 0 = $1::bigint)" \
	" OR (a.assist AND a.assist_institution_id + 0 = $1::bigint))"
#define SQL_OWN		"a.applicant_institution_id = $1::bigint"
#define SQL_OWN_SELF \
	"(a.mode = 'self' AND a.applicant_institution_id = $1::bigint)"
/* Read by $1 for a lower institution (superior mode or assistance). */
#define SQL_UPPER \
	"(((a.mode = 'superior' AND a.target_institution_id = $1::bigint)" \
	" OR (a.assist AND a.assist_institution_id = $1::bigint))" \
	" AND a.applicant_institution_id <> $1::bigint)"

static const struct list_def *
list_def_of(enum page p)
{
	size_t	 i;

	for (i = 0; i < sizeof(list_defs) / sizeof(list_defs[0]); i++)
		if (list_defs[i].page == p)
			return &list_defs[i];
	return NULL;
}

/* The list page whose path is the path part of s, or NULL. */
static const struct list_def *
list_def_of_path(const char *s, size_t n)
{
	size_t	 i;
	const char *p;

	for (i = 0; i < sizeof(list_defs) / sizeof(list_defs[0]); i++) {
		p = pages[list_defs[i].page].path;
		if (strlen(p) == n && strncmp(p, s, n) == 0)
			return &list_defs[i];
	}
	return NULL;
}

static int
has_role(const struct req *r, enum role role)
{
	return (r->sess.acct.roles & ROLE_BIT(role)) != 0;
}

/* Start a statement whose $1 is the session's institution. */
static void
qb_init(struct qb *q, const char *inst)
{
	memset(q, 0, sizeof(*q));
	buf_init(&q->b, 16384);
	q->p[q->n++] = inst;
}

static void
qb_sql(struct qb *q, const char *s)
{
	if (buf_appends(&q->b, s) == -1)
		q->err = 1;
}

/* Append a placeholder for value v, with an optional cast. */
static void
qb_arg(struct qb *q, const char *v, const char *cast)
{
	if (q->n >= LIST_MAXPARAMS) {
		q->err = 1;
		return;
	}
	q->p[q->n++] = v;
	if (buf_printf(&q->b, "$%d%s", q->n, cast != NULL ? cast : "") == -1)
		q->err = 1;
}

/* Run the statement; NULL (logged) on failure.  The builder is reset. */
static PGresult *
qb_exec(struct qb *q, PGconn *c, const char *who)
{
	PGresult	*res = NULL;

	if (!q->err)
		res = db_execv(who, c, q->b.data, q->n, q->p);
	else
		log_error("%s: statement too long", who);
	buf_free(&q->b);
	q->n = 0;
	q->err = 0;
	return res;
}

/* Trim ASCII blanks and the ideographic space (U+3000) around s. */
static const char *
trim(struct arena *a, const char *s)
{
	const char	*e;

	if (s == NULL)
		return NULL;
	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		else if (strncmp(s, "\xe3\x80\x80", 3) == 0)
			s += 3;
		else
			break;
	}
	e = s + strlen(s);
	for (;;) {
		if (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
		    e[-1] == '\n'))
			e--;
		else if (e - s >= 3 && strncmp(e - 3, "\xe3\x80\x80", 3) == 0)
			e -= 3;
		else
			break;
	}
	return e > s ? arena_strndup(a, s, (size_t)(e - s)) : NULL;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * Read the filter from the request's validated fields; src is where the
 * fields came from (query string or form), for the 申请列表 toggle.
 * Invalid values are dropped: a list always answers.
 */
static void
filter_read(struct req *r, const struct list_def *ld,
    const struct kvlist *src, struct list_filter *f)
{
	const char	*s;
	int		 st;

	memset(f, 0, sizeof(*f));
	f->time = nonempty(http_field(r, FIELD_TIME));
	if (f->time != NULL && strcmp(f->time, "all") == 0)
		f->time = NULL;
	if (f->time != NULL && strcmp(f->time, "custom") == 0)
		f->time = NULL;	/* the dates below say it */
	f->from = nonempty(http_field(r, FIELD_FROM));
	f->to = nonempty(http_field(r, FIELD_TO));
	if (f->time != NULL)
		f->from = f->to = NULL;
	if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0) {
		s = f->from;
		f->from = f->to;
		f->to = s;
	}
	f->tail = nonempty(http_field(r, FIELD_TAIL));
	f->hospital = nonempty(http_field(r, FIELD_HOSPITAL));
	f->status = nonempty(http_field(r, FIELD_STATUS));
	if (f->status != NULL && ((st = wf_state_parse(f->status)) < 0 ||
	    !(ld->states & ST(st))))
		f->status = NULL;
	f->q = trim(r->a, http_field(r, FIELD_KEYWORD));
	f->q_bad = r->fields[FIELD_KEYWORD] != NULL &&
	    r->field_bad[FIELD_KEYWORD];
	s = http_field(r, FIELD_MATCH);
	f->exact = s != NULL && strcmp(s, "exact") == 0;
	f->sort = nonempty(http_field(r, FIELD_SORT));
	if (f->sort != NULL && strcmp(f->sort, "-time") == 0)
		f->sort = NULL;
	/*
	 * 申请列表 shows what the user submitted (the manual: 查询当前用户提交
	 * 的), and on request every application of the institution, since
	 * colleagues cover each other's patients.  The toggle is not a field
	 * of the site's table; only "0" turns it off.
	 */
	s = kv_get(src, "mine");
	f->has_mine = ld->page == PAGE_APPLICATIONS;
	f->mine = f->has_mine && !(s != NULL && strcmp(s, "0") == 0);
	s = http_field(r, FIELD_PAGE);
	f->page = s != NULL ? strtoll(s, NULL, 10) : 1;
	if (f->page < 1)
		f->page = 1;
}

/* Whether an advanced filter (the ones under 高级筛选) is set. */
static int
filter_advanced(const struct list_filter *f)
{
	return f->time != NULL || f->from != NULL || f->to != NULL ||
	    f->tail != NULL || f->hospital != NULL || f->status != NULL ||
	    f->sort != NULL;
}

/*
 * The filter as a canonical query string (no '?'), page and sort as
 * given, in the arena.  Only values that differ from the defaults appear.
 */
static const char *
filter_qs(struct arena *a, const struct list_filter *f, const char *sort,
    long long page)
{
	struct buf	 b;
	char		 pg[24], *s;
	const char	*out;

	buf_init(&b, 4096);
	http_qs_add(&b, "time", f->time);
	http_qs_add(&b, "from", f->from);
	http_qs_add(&b, "to", f->to);
	http_qs_add(&b, "tail", f->tail);
	http_qs_add(&b, "hospital", f->hospital);
	http_qs_add(&b, "status", f->status);
	http_qs_add(&b, "q", f->q);
	http_qs_add(&b, "match", f->q != NULL && f->exact ? "exact" : NULL);
	http_qs_add(&b, "sort", sort);
	http_qs_add(&b, "mine", f->has_mine && !f->mine ? "0" : NULL);
	(void)snprintf(pg, sizeof(pg), "%lld", page);
	http_qs_add(&b, "page", page > 1 ? pg : NULL);
	s = buf_take(&b);
	out = arena_strdup(a, s != NULL ? s : "");
	free(s);
	return out != NULL ? out : "";
}

/* path?qs (or path), in the arena. */
static const char *
href(struct arena *a, const char *path, const char *qs)
{
	const char	*s;

	s = *qs != '\0' ? arena_printf(a, "%s?%s", path, qs) : path;
	return s != NULL ? s : path;
}

/* Escape the LIKE wildcards and the escape character in s. */
static const char *
like_pattern(struct arena *a, const char *s)
{
	char	*p, *o;

	if ((p = arena_alloc(a, strlen(s) * 2 + 3)) == NULL)
		return NULL;
	o = p;
	*o++ = '%';
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/*
 * The states the list shows with filter f, as an SQL array literal in
 * the arena ({pending,reporting}); NULL when out of memory.
 */
static const char *
list_states(struct req *r, const struct list_def *ld,
    const struct list_filter *f)
{
	struct buf	 sts;
	const char	*lit;
	int		 s, first = 1;

	if (f->status != NULL)
		return arena_printf(r->a, "{%s}", f->status);
	buf_init(&sts, 256);
	(void)buf_appends(&sts, "{");
	for (s = 0; s < APP_STATE__MAX; s++) {
		if (!(ld->states & ST(s)))
			continue;
		if (!first)
			(void)buf_appends(&sts, ",");
		(void)buf_appends(&sts, app_state_names[s].code);
		first = 0;
	}
	(void)buf_appends(&sts, "}");
	lit = arena_strdup(r->a, sts.data != NULL ? sts.data : "{}");
	buf_free(&sts);
	return lit;
}

/* Whether the keyword is looked for through the pieces of names (one
 * or two characters, fuzzy; list_where). */
static int
filter_by_pieces(const struct list_filter *f)
{
	return f->q != NULL && !f->exact && u8_chars(f->q) <= 2;
}

/* Whether the keyword is looked for as a name (SQL_READER_NAMES): fuzzy
 * and without a digit.  Such a keyword finds a 诊断号 only by its letter
 * prefix, which every 诊断号 shares; it is still looked for there, so the
 * rows are the same either way, only the plan differs. */
static int
filter_by_name(const struct list_filter *f)
{
	return f->q != NULL && !f->exact &&
	    strpbrk(f->q, "0123456789") == NULL;
}

/*
 * Append " FROM applications a WHERE <scope> AND <filter>" to q, whose $1
 * is the institution of the session.  Returns -1 when the filter cannot
 * be expressed (out of memory).
 */
static int
list_where(struct req *r, struct qb *q, const struct list_def *ld,
    const struct list_filter *f, const char *uid)
{
	const char	*lit, *pat, *reader;
	int		 appl = has_role(r, ROLE_APPLICANT);
	int		 doc = has_role(r, ROLE_DOCTOR);

	reader = filter_by_name(f) ? SQL_READER_NAMES : SQL_READER;
	qb_sql(q, " FROM applications a WHERE ");
	switch (ld->page) {
	case PAGE_APPLICATIONS:
		qb_sql(q, SQL_OWN);
		if (f->mine) {
			qb_sql(q, " AND a.applicant_id = ");
			qb_arg(q, uid, "::bigint");
		}
		break;
	case PAGE_WORKLIST:
		qb_sql(q, doc ? reader : SQL_OWN_SELF);
		break;
	case PAGE_REVIEW:
	case PAGE_REPORTED:
		qb_sql(q, reader);
		break;
	case PAGE_DIAGNOSED:
		if (appl && doc)
			qb_sql(q, "(" SQL_OWN_SELF " OR " SQL_UPPER ")");
		else
			qb_sql(q, appl ? SQL_OWN_SELF : SQL_UPPER);
		break;
	case PAGE_PRINT:
		qb_sql(q, SQL_OWN);
		break;
	default:
		qb_sql(q, "false");
		break;
	}
	if (f->status != NULL) {
		qb_sql(q, " AND a.state = ");
		qb_arg(q, f->status, NULL);
	} else if (ld->states != ST_ALL) {
		if ((lit = list_states(r, ld, f)) == NULL)
			return -1;
		qb_sql(q, " AND a.state = ANY (");
		qb_arg(q, lit, "::text[]");
		qb_sql(q, ")");
	}
	if (f->time != NULL) {
		/* 今天, 近两天 (today and yesterday), 近一周 (seven days). */
		qb_sql(q, strcmp(f->time, "today") == 0 ?
		    " AND a.submitted_at >= current_date" :
		    strcmp(f->time, "2days") == 0 ?
		    " AND a.submitted_at >= current_date - 1" :
		    " AND a.submitted_at >= current_date - 6");
	}
	if (f->from != NULL) {
		qb_sql(q, " AND a.submitted_at >= ");
		qb_arg(q, f->from, "::date");
	}
	if (f->to != NULL) {
		qb_sql(q, " AND a.submitted_at < ");
		qb_arg(q, f->to, "::date + 1");
	}
	if (f->tail != NULL) {
		qb_sql(q, " AND right(a.diag_no, 1) = ");
		qb_arg(q, f->tail, NULL);
	}
	if (f->hospital != NULL) {
		qb_sql(q, " AND a.applicant_institution_id = ");
		qb_arg(q, f->hospital, "::bigint");
	}
	if (f->q != NULL && f->exact) {
		qb_sql(q, " AND (a.patient_name = ");
		qb_arg(q, f->q, NULL);
		qb_sql(q, " OR a.diag_no = upper(");
		qb_arg(q, f->q, "))");
	} else if (filter_by_pieces(f)) {
		/* One or two characters (a given name): too short for
		 * trigrams, found through the pieces of names (009), and
		 * looked for in names only, since nearly every 诊断号 holds
		 * any two digits. */
		if ((pat = like_pattern(r->a, f->q)) == NULL)
			return -1;
		qb_sql(q, " AND name_grams(a.patient_name) @> ARRAY[lower(");
		qb_arg(q, f->q, "::text)]");
		qb_sql(q, " AND a.patient_name ILIKE ");
		qb_arg(q, pat, NULL);
	} else if (f->q != NULL) {
		/* ILIKE '%...%': served by the trigram indexes. */
		if ((pat = like_pattern(r->a, f->q)) == NULL)
			return -1;
		qb_sql(q, " AND (a.patient_name ILIKE ");
		qb_arg(q, pat, NULL);
		qb_sql(q, " OR a.diag_no ILIKE ");
		qb_arg(q, pat, ")");
	}
	return q->err ? -1 : 0;
}

/* Whether application a has a study linked (SQL): kept on the
 * application by a trigger on its links (sql/031). */
#define HAS_IMAGES	"(NOT a.images_missing)"

/*
 * The order of a list.  In 待诊断, by time (the default), the applications
 * whose images have arrived come first: one whose images are still on
 * their way (by upload, PACS or collector) stays in the list, marked
 * 影像未到, but a doctor cannot read it yet.  Any other order is the one
 * asked for.
 */
static const char *
list_order(const struct list_def *ld, const struct list_filter *f)
{
	const char	*s = f->sort != NULL ? f->sort : "-time";

	if (ld->page == PAGE_WORKLIST && strcmp(s, "time") == 0)
		return "a.images_missing, a.submitted_at, a.id";
	if (ld->page == PAGE_WORKLIST && strcmp(s, "-time") == 0)
		return "a.images_missing, a.submitted_at DESC, a.id DESC";
	if (strcmp(s, "time") == 0)
		return "a.submitted_at, a.id";
	if (strcmp(s, "name") == 0)
		return "a.patient_name, a.id";
	if (strcmp(s, "-name") == 0)
		return "a.patient_name DESC, a.id DESC";
	if (strcmp(s, "diag") == 0)
		return "a.diag_no";
	if (strcmp(s, "-diag") == 0)
		return "a.diag_no DESC";
	return "a.submitted_at DESC, a.id DESC";
}

/* The number of states in set. */
static int
states_count(unsigned int set)
{
	int	 n = 0;

	for (; set != 0; set &= set - 1)
		n++;
	return n;
}

/*
 * Append "SELECT a.id ... ORDER BY ... LIMIT lim OFFSET off", the ids of
 * the page's applications, to q.  待诊断 in its default order over more
 * than one state is one branch per state, each the first upto (offset
 * plus a page) rows in the order of applications_waiting (state,
 * images_missing, submitted_at DESC, id DESC), then merged: a single
 * "state = ANY (...)" over that index returns the rows state by state,
 * which must then all be read and sorted (every waiting row of the
 * institution, 50,000 at a million applications) before the first 20
 * are known.  The same rows, in the same order.  Returns 0 or -1.
 */
static int
list_ids(struct req *r, struct qb *q, const struct list_def *ld,
    const struct list_filter *f, const char *uid, const char *lim,
    const char *off, const char *upto)
{
	struct list_filter	 one;
	const char		*order = list_order(ld, f);
	int			 s, branches = 0;

	/* Not for the pieces of names either: their index gives the rows
	 * of both states in one bitmap, which each branch would read. */
	if (ld->page != PAGE_WORKLIST || f->status != NULL ||
	    f->sort != NULL || states_count(ld->states) < 2 ||
	    filter_by_pieces(f)) {
		qb_sql(q, "SELECT a.id");
		if (list_where(r, q, ld, f, uid) == -1)
			return -1;
	} else {
		qb_sql(q, "SELECT a.id FROM (");
		for (s = 0; s < APP_STATE__MAX; s++) {
			if (!(ld->states & ST(s)))
				continue;
			one = *f;
			one.status = app_state_names[s].code;
			if (branches++ > 0)
				qb_sql(q, " UNION ALL ");
			qb_sql(q, "(SELECT a.id, a.images_missing,"
			    " a.submitted_at");
			if (list_where(r, q, ld, &one, uid) == -1)
				return -1;
			qb_sql(q, " ORDER BY ");
			qb_sql(q, order);
			qb_sql(q, " LIMIT ");
			qb_arg(q, upto, "::bigint");
			qb_sql(q, ")");
		}
		qb_sql(q, ") a");
	}
	qb_sql(q, " ORDER BY ");
	qb_sql(q, order);
	qb_sql(q, " LIMIT ");
	qb_arg(q, lim, "::int");
	qb_sql(q, " OFFSET ");
	qb_arg(q, off, "::bigint");
	return q->err ? -1 : 0;
}

/* Columns of a list row, in the order of the SELECT below. */
enum {
	R_ID, R_DIAG, R_STATE, R_MODE, R_NAME, R_SEX, R_AGE, R_EXAM, R_BODY,
	R_URGENCY, R_TIME, R_HOSPITAL, R_HOSPITAL_ID, R_APPLICANT, R_ASSIST,
	R_ASSIST_INST, R_LOCKER, R_LOCK_EXPIRED, R_AUTHOR, R_REVIEWER,
	R_REPORTED, R_READER, R_RETURN_REASON, R_TARGET, R_IMAGES, R_HELD
};

static const char *
state_zh(const char *code, int *st)
{
	*st = wf_state_parse(code);
	return *st >= 0 ? app_state_names[*st].zh : code;
}

/* Fill one row of the table: its cells and the actions this user may
 * take on it. */
static void
list_row(struct req *r, const struct list_def *ld, struct tdict *row,
    const PGresult *res, int i, int has_uppers, const char *next)
{
	const char	*id = db_val(res, i, R_ID);
	int		 st, u, doc = has_role(r, ROLE_DOCTOR);
	int		 own, assisted, locked, v;
	long long	 inst = r->sess.acct.institution_id;

	(void)tdict_set(row, "id", id);
	(void)tdict_set(row, "diag_no", db_val(res, i, R_DIAG));
	(void)tdict_set(row, "state_code", db_val(res, i, R_STATE));
	(void)tdict_set(row, "state", state_zh(db_val(res, i, R_STATE), &st));
	(void)tdict_set(row, "mode", strcmp(db_val(res, i, R_MODE),
	    "self") == 0 ? app_mode_names[MODE_SELF].zh :
	    app_mode_names[MODE_SUPERIOR].zh);
	(void)tdict_set(row, "name", db_val(res, i, R_NAME));
	(void)tdict_set(row, "sex", page_sex_zh(db_val(res, i, R_SEX)));
	(void)tdict_set(row, "age", db_val(res, i, R_AGE));
	(void)tdict_set(row, "exam", db_val(res, i, R_EXAM));
	(void)tdict_set(row, "body_part", db_val(res, i, R_BODY));
	u = model_lookup(urgency_names, URGENCY__MAX,
	    db_val(res, i, R_URGENCY));
	(void)tdict_set(row, "urgency", u >= 0 ? urgency_names[u].zh : "");
	(void)tdict_set(row, "urgency_code", db_val(res, i, R_URGENCY));
	(void)tdict_set(row, "time", db_val(res, i, R_TIME));
	(void)tdict_set(row, "hospital", db_val(res, i, R_HOSPITAL));
	(void)tdict_set(row, "applicant", db_val(res, i, R_APPLICANT));
	assisted = db_bool(res, i, R_ASSIST);
	(void)tdict_set(row, "assist", assisted ? "是" : "否");
	(void)tdict_set(row, "assist_inst", db_val(res, i, R_ASSIST_INST));
	(void)tdict_bool(row, "has_assist_inst", assisted);
	locked = st == APP_REPORTING && *db_val(res, i, R_LOCKER) != '\0';
	(void)tdict_set(row, "locker", locked ? db_val(res, i, R_LOCKER) : "");
	(void)tdict_bool(row, "lock_expired", locked &&
	    db_bool(res, i, R_LOCK_EXPIRED));
	(void)tdict_set(row, "author", db_val(res, i, R_AUTHOR));
	(void)tdict_set(row, "reviewer", db_val(res, i, R_REVIEWER));
	(void)tdict_set(row, "reported", db_val(res, i, R_REPORTED));
	(void)tdict_set(row, "reader", db_val(res, i, R_READER));
	(void)tdict_set(row, "return_reason", db_val(res, i, R_RETURN_REASON));
	(void)tdict_bool(row, "has_return_reason", st == APP_RETURNED &&
	    *db_val(res, i, R_RETURN_REASON) != '\0');
	(void)tdict_set(row, "next", next);
	/* 影像未到: no study linked yet, while it waits to be read (or to
	 * be sent again); 影像待核对: a study is held because its patient
	 * differs from the application's. */
	v = st == APP_PENDING || st == APP_REPORTING || st == APP_RETURNED;
	(void)tdict_bool(row, "no_images", v && !db_bool(res, i, R_IMAGES));
	(void)tdict_bool(row, "images_held", v && db_bool(res, i, R_HELD));

	own = db_ll(res, i, R_HOSPITAL_ID) == inst;
	/* 查看 everywhere; 已取消 says 详情. */
	(void)tdict_bool(row, "act_view", st != APP_CANCELLED);
	(void)tdict_bool(row, "act_detail", st == APP_CANCELLED);
	v = st == APP_REPORTED || st == APP_REVIEWED;
	(void)tdict_bool(row, "act_report_view", v);
	(void)tdict_bool(row, "act_print", v && (ld->page == PAGE_REPORTED ||
	    ld->page == PAGE_PRINT));
	(void)tdict_bool(row, "act_cancel", ld->page == PAGE_APPLICATIONS &&
	    st == APP_PENDING);
	(void)tdict_bool(row, "act_edit", ld->page == PAGE_APPLICATIONS &&
	    st == APP_RETURNED);
	(void)tdict_bool(row, "act_review", ld->page == PAGE_REVIEW);
	/* The worklist: 写报告 for reading doctors (the list holds only
	 * what the institution reads); 退回 only by an upper hospital or a
	 * helper, never the applicant's own institution; one 请求协助 per
	 * application, by an institution that has an upper hospital. */
	(void)tdict_bool(row, "act_write", ld->page == PAGE_WORKLIST && doc);
	(void)tdict_bool(row, "act_return", ld->page == PAGE_WORKLIST &&
	    doc && !own && st == APP_PENDING);
	(void)tdict_bool(row, "act_assist", ld->page == PAGE_WORKLIST &&
	    doc && !assisted && has_uppers);
}

/* Whether institution $1 has an upper hospital in an alliance. */
#define SQL_HAS_UPPER \
	"SELECT 1 FROM alliance_members m" \
	" JOIN alliances al ON al.id = m.alliance_id AND al.active" \
	" WHERE m.institution_id = $1::bigint" \
	" AND m.superior_id IS NOT NULL LIMIT 1"

/*
 * 申请医院 choices: the institution $1 itself and, for a doctor, every
 * lower hospital of the alliances in which it is an upper hospital (the
 * chain below it).  An applicant's lists hold only its own institution.
 */
#define SQL_HOSPITALS \
	"WITH RECURSIVE down(alliance_id, id) AS (" \
	" SELECT alliance_id, institution_id FROM alliance_members" \
	"  WHERE superior_id = $1::bigint" \
	" UNION SELECT m.alliance_id, m.institution_id" \
	"  FROM alliance_members m JOIN down ON" \
	"  m.alliance_id = down.alliance_id AND m.superior_id = down.id)" \
	" SELECT i.id, i.name FROM institutions i" \
	" WHERE i.id = $1::bigint OR i.id IN (SELECT id FROM down)" \
	" ORDER BY i.id <> $1::bigint, i.name"

/* Whether the list has the 申请医院 choice. */
static int
list_has_hospitals(struct req *r, const struct list_def *ld)
{
	return has_role(r, ROLE_DOCTOR) && ld->page != PAGE_APPLICATIONS &&
	    ld->page != PAGE_PRINT;
}

/* The 申请医院 choices from res (SQL_HOSPITALS), or none (NULL). */
static void
list_hospitals(struct tdict *d, const struct list_filter *f,
    const PGresult *res)
{
	struct tdict	*o;
	int		 i, n;

	n = res != NULL ? PQntuples(res) : 0;
	(void)tdict_bool(d, "has_hospitals", n > 1);
	for (i = 0; i < n; i++) {
		if ((o = tdict_add(d, "hospital_opts")) == NULL)
			break;
		(void)tdict_set(o, "value", db_val(res, i, 0));
		(void)tdict_set(o, "label", db_val(res, i, 1));
		(void)tdict_bool(o, "sel", f->hospital != NULL &&
		    strcmp(f->hospital, db_val(res, i, 0)) == 0);
	}
}

static void
opt(struct tdict *d, const char *list, const char *value, const char *label,
    const char *cur)
{
	struct tdict	*o;

	if ((o = tdict_add(d, list)) == NULL)
		return;
	(void)tdict_set(o, "value", value);
	(void)tdict_set(o, "label", label);
	(void)tdict_bool(o, "sel", (cur == NULL && *value == '\0') ||
	    (cur != NULL && strcmp(cur, value) == 0));
}

/* The choices and current values of the filter form. */
static void
list_form(struct tdict *d, const struct list_def *ld,
    const struct list_filter *f)
{
	static const char *const sorts[][2] = {
		{ "-time", "申请时间（新→旧）" }, { "time", "申请时间（旧→新）" },
		{ "name", "患者姓名（升序）" }, { "-name", "患者姓名（降序）" },
		{ "diag", "诊断号（升序）" }, { "-diag", "诊断号（降序）" },
	};
	char		 t[2];
	size_t		 i;
	int		 s, nst = 0;

	(void)tdict_set(d, "q", f->q != NULL ? f->q : "");
	(void)tdict_bool(d, "q_bad", f->q_bad);
	opt(d, "match_opts", "fuzzy", "模糊", f->exact ? "exact" : "fuzzy");
	opt(d, "match_opts", "exact", "精确", f->exact ? "exact" : "fuzzy");
	opt(d, "time_opts", "all", "全部", f->time != NULL ? f->time :
	    f->from != NULL || f->to != NULL ? "custom" : "all");
	opt(d, "time_opts", "today", "今天", f->time);
	opt(d, "time_opts", "2days", "近两天", f->time);
	opt(d, "time_opts", "week", "近一周", f->time);
	opt(d, "time_opts", "custom", "自定义", f->time == NULL &&
	    (f->from != NULL || f->to != NULL) ? "custom" : f->time);
	(void)tdict_set(d, "from", f->from != NULL ? f->from : "");
	(void)tdict_set(d, "to", f->to != NULL ? f->to : "");
	opt(d, "tail_opts", "", "全部", f->tail);
	for (i = 0; i < 10; i++) {
		t[0] = (char)('0' + i);
		t[1] = '\0';
		opt(d, "tail_opts", t, t, f->tail);
	}
	opt(d, "status_opts", "", "全部", f->status);
	for (s = 0; s < APP_STATE__MAX; s++)
		if (ld->states & ST(s)) {
			opt(d, "status_opts", app_state_names[s].code,
			    app_state_names[s].zh, f->status);
			nst++;
		}
	(void)tdict_bool(d, "has_status", nst > 1);
	for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		opt(d, "sort_opts", sorts[i][0], sorts[i][1],
		    f->sort != NULL ? f->sort : "-time");
	(void)tdict_bool(d, "has_mine", ld->page == PAGE_APPLICATIONS);
	opt(d, "mine_opts", "1", "本人提交的", f->mine ? "1" : "0");
	opt(d, "mine_opts", "0", "本机构全部", f->mine ? "1" : "0");
	(void)tdict_bool(d, "adv_open", filter_advanced(f));
	/* The hidden copies of the filter in the 保存常用筛选 form. */
	(void)tdict_set(d, "f_time", f->time != NULL ? f->time :
	    f->from != NULL || f->to != NULL ? "custom" : "");
	(void)tdict_set(d, "f_tail", f->tail != NULL ? f->tail : "");
	(void)tdict_set(d, "f_hospital", f->hospital != NULL ? f->hospital :
	    "");
	(void)tdict_set(d, "f_status", f->status != NULL ? f->status : "");
	(void)tdict_set(d, "f_match", f->exact ? "exact" : "fuzzy");
	(void)tdict_set(d, "f_sort", f->sort != NULL ? f->sort : "");
	(void)tdict_set(d, "f_mine", f->mine ? "1" : "0");
}

/* Headers that sort: a link that toggles the direction of key. */
static void
list_sort_links(struct req *r, struct tdict *d, const struct list_filter *f,
    const char *path)
{
	static const char *const keys[] = { "time", "name", "diag" };
	const char	*cur = f->sort != NULL ? f->sort : "-time";
	const char	*next, *mark;
	char		 k[32], neg[8];
	size_t		 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)snprintf(neg, sizeof(neg), "-%s", keys[i]);
		if (strcmp(cur, keys[i]) == 0) {
			next = neg;
			mark = "▲";
		} else if (strcmp(cur, neg) == 0) {
			next = keys[i];
			mark = "▼";
		} else {
			next = strcmp(keys[i], "time") == 0 ? neg : keys[i];
			mark = "";
		}
		(void)snprintf(k, sizeof(k), "sort_%s", keys[i]);
		(void)tdict_set(d, k, href(r->a, path, filter_qs(r->a, f,
		    strcmp(next, "-time") == 0 ? NULL : next, 1)));
		(void)snprintf(k, sizeof(k), "mark_%s", keys[i]);
		(void)tdict_set(d, k, mark);
	}
}

/* 20 a page: numbers around the current one, the first and the last. */
/* When capped, npages is not the last page but one the count reached:
 * no number is shown for it, only the gap and 下一页. */
static void
list_pager(struct req *r, struct tdict *d, const struct list_filter *f,
    const char *path, long long npages, int capped)
{
	struct tdict	*p;
	long long	 i, lo, hi, last;

	(void)tdict_bool(d, "has_pager", npages > 1);
	if (npages <= 1)
		return;
	lo = f->page - 3 > 1 ? f->page - 3 : 1;
	hi = f->page + 3 < npages ? f->page + 3 : npages;
	last = npages;
	if (capped) {
		if (hi >= npages)
			hi = npages - 1;
		last = hi;
	}
	if ((p = tdict_add(d, "pager")) != NULL) {
		(void)tdict_set(p, "label", "上一页");
		(void)tdict_set(p, "href", href(r->a, path,
		    filter_qs(r->a, f, f->sort, f->page - 1)));
		(void)tdict_bool(p, "link", f->page > 1);
		(void)tdict_set(p, "cls", "prev");
	}
	for (i = 1; i <= last + (capped ? 1 : 0); i++) {
		if (capped && i == last + 1) {
			if ((p = tdict_add(d, "pager")) == NULL)
				return;
			(void)tdict_set(p, "label", "…");
			(void)tdict_bool(p, "link", 0);
			(void)tdict_set(p, "cls", "gap");
			break;
		}
		if (i != 1 && i != last && (i < lo || i > hi)) {
			if (i == lo - 1 || i == hi + 1) {
				if ((p = tdict_add(d, "pager")) == NULL)
					return;
				(void)tdict_set(p, "label", "…");
				(void)tdict_bool(p, "link", 0);
				(void)tdict_set(p, "cls", "gap");
			}
			continue;
		}
		if ((p = tdict_add(d, "pager")) == NULL)
			return;
		(void)tdict_setf(p, "label", "%lld", i);
		(void)tdict_set(p, "href", href(r->a, path,
		    filter_qs(r->a, f, f->sort, i)));
		(void)tdict_bool(p, "link", i != f->page);
		(void)tdict_set(p, "cls", i == f->page ? "current" : "");
	}
	if ((p = tdict_add(d, "pager")) != NULL) {
		(void)tdict_set(p, "label", "下一页");
		(void)tdict_set(p, "href", href(r->a, path,
		    filter_qs(r->a, f, f->sort, f->page + 1)));
		(void)tdict_bool(p, "link", capped || f->page < npages);
		(void)tdict_set(p, "cls", "next");
	}
}

/* The user's ($1) saved filters of list $2. */
#define SQL_SAVED \
	"SELECT id, name, query FROM saved_filters" \
	" WHERE user_id = $1::bigint AND page = $2 ORDER BY name, id"

/* The saved filters of res (SQL_SAVED), as links. */
static void
list_saved(struct req *r, struct tdict *d, const char *path,
    const char *current, const PGresult *res)
{
	struct tdict	*s;
	int		 i, n;

	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if ((s = tdict_add(d, "saved")) == NULL)
			break;
		(void)tdict_set(s, "id", db_val(res, i, 0));
		(void)tdict_set(s, "label", db_val(res, i, 1));
		(void)tdict_set(s, "href", href(r->a, path, db_val(res, i, 2)));
		(void)tdict_bool(s, "active", strcmp(current,
		    db_val(res, i, 2)) == 0);
	}
}

static void
list_assets(struct tdict *d)
{
	struct tdict	*s;

	if ((s = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(s, "href", LIST_STYLE);
	if ((s = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(s, "src", LIST_SCRIPT);
}

/*
 * The total of list_counts (sql/041) that counts the list with filter f:
 * with no filter but 报告状态 and 诊断尾号, the sum of its scope's totals of
 * the states shown (of the tail asked for).  Sets *kind and *owner and returns 1, or 0 when the rows must
 * be counted (any other filter; 已诊断, whose scope has no total).
 */
static int
list_count_key(struct req *r, const struct list_def *ld,
    const struct list_filter *f, const char *inst, const char *uid,
    const char **kind, const char **owner)
{
	if (f->time != NULL || f->from != NULL || f->to != NULL ||
	    f->hospital != NULL || f->q != NULL)
		return 0;
	*owner = inst;
	switch (ld->page) {
	case PAGE_APPLICATIONS:
		*kind = f->mine ? "u" : "i";
		if (f->mine)
			*owner = uid;
		return 1;
	case PAGE_WORKLIST:
		*kind = has_role(r, ROLE_DOCTOR) ? "r" : "s";
		return 1;
	case PAGE_REVIEW:
	case PAGE_REPORTED:
		*kind = "r";
		return 1;
	case PAGE_PRINT:
		*kind = "i";
		return 1;
	default:
		return 0;
	}
}

/*
 * Build in q the count of the list with filter f (and the SQL condition
 * extra, which the totals do not know, when not NULL): the totals of
 * list_counts when they answer it (*exact set), else the rows counted,
 * stopping at cap rows when cap is not NULL.  Returns 0, or -1 (q freed).
 */
static int
list_count(struct req *r, struct qb *q, const struct list_def *ld,
    const struct list_filter *f, const char *inst, const char *uid,
    const char *extra, const char *cap, int *exact)
{
	const char	*kind, *owner, *states;

	*exact = 0;
	if (extra == NULL &&
	    list_count_key(r, ld, f, inst, uid, &kind, &owner)) {
		if ((states = list_states(r, ld, f)) == NULL)
			return -1;
		qb_init(q, kind);
		qb_sql(q, "SELECT coalesce(sum(n), 0) FROM list_counts"
		    " WHERE kind = $1::\"char\" AND owner = ");
		qb_arg(q, owner, "::bigint");
		/* The user's own, from the user's institution (list_where). */
		if (*kind == 'u') {
			qb_sql(q, " AND inst = ");
			qb_arg(q, inst, "::bigint");
		}
		qb_sql(q, " AND state = ANY (");
		qb_arg(q, states, "::text[])");
		if (f->tail != NULL) {
			qb_sql(q, " AND tail = ");
			qb_arg(q, f->tail, NULL);
		}
		*exact = 1;
	} else {
		qb_init(q, inst);
		qb_sql(q, cap != NULL ? "SELECT count(*) FROM (SELECT 1" :
		    "SELECT count(*)");
		if (list_where(r, q, ld, f, uid) == -1)
			q->err = 1;
		if (extra != NULL)
			qb_sql(q, extra);
		if (cap != NULL) {
			qb_sql(q, " LIMIT ");
			qb_arg(q, cap, "::bigint) c");
		}
	}
	if (q->err) {
		buf_free(&q->b);
		return -1;
	}
	return 0;
}

/* The name of the institution, of the user, whose id is the SQL x. */
#define SQL_INST_NAME(x) "(SELECT name FROM institutions WHERE id = " x ")"
#define SQL_USER_NAME(x) \
	"(SELECT display_name FROM users WHERE id = " x ")"

/*
 * Build in q the rows of page f->page of the list.  Returns 0, or -1
 * (q freed).
 */
static int
list_rows(struct req *r, struct qb *q, const struct list_def *ld,
    const struct list_filter *f, const char *inst, const char *uid)
{
	const char	*idle, *off, *lim, *upto;

	idle = arena_printf(r->a, "%d", r->conf->lock_idle);
	off = arena_printf(r->a, "%lld", (f->page - 1) * LIST_PER_PAGE);
	lim = arena_printf(r->a, "%d", LIST_PER_PAGE);
	upto = arena_printf(r->a, "%lld", f->page * LIST_PER_PAGE);
	qb_init(q, inst);
	if (idle == NULL || off == NULL || lim == NULL || upto == NULL)
		q->err = 1;
	/* The names come from scalar subqueries, not joins: with eight
	 * more relations in the join search, planning the statement cost
	 * 11-13 ms (each worker plans it afresh five times per filter
	 * before it settles on a generic plan), against 0.9 ms so. */
	qb_sql(q, "SELECT a.id, a.diag_no, a.state, a.mode,"
	    " a.patient_name, a.patient_sex, a.patient_age, a.exam_type,"
	    " a.body_part, a.urgency,"
	    " to_char(a.submitted_at, 'YYYY-MM-DD HH24:MI'),"
	    " " SQL_INST_NAME("a.applicant_institution_id") ","
	    " a.applicant_institution_id,"
	    " " SQL_USER_NAME("a.applicant_id") ","
	    " a.assist,"
	    " coalesce((SELECT name FROM institutions"
	    "  WHERE id = a.assist_institution_id AND a.assist), ''),"
	    " coalesce(" SQL_USER_NAME("a.locked_by") ", ''),"
	    " coalesce(a.lock_seen_at < now() - ");
	qb_arg(q, idle, "::int");
	qb_sql(q, " * interval '1 s', false),"
	    " coalesce(" SQL_USER_NAME("a.report_author_id") ", ''),"
	    " coalesce(" SQL_USER_NAME("a.reviewer_id") ", ''),"
	    " coalesce(to_char(a.reported_at, 'YYYY-MM-DD HH24:MI'), ''),"
	    " coalesce((SELECT i.name FROM users u"
	    "  JOIN institutions i ON i.id = u.institution_id"
	    "  WHERE u.id = a.report_author_id),"
	    " " SQL_INST_NAME("a.target_institution_id") ","
	    " " SQL_INST_NAME("a.applicant_institution_id") "),"
	    " a.return_reason,"
	    " coalesce(" SQL_INST_NAME("a.target_institution_id") ", ''),"
	    " " HAS_IMAGES ","
	    " EXISTS (SELECT 1 FROM study_link_holds h"
	    "  WHERE h.application_id = a.id AND NOT EXISTS (SELECT 1"
	    "  FROM application_studies l WHERE l.application_id = a.id"
	    "  AND l.study_id = h.study_id))"
	    /* The page's ids first, from the columns the filter and the
	     * order read (applications_waiting covers 待诊断's), then their
	     * rows: not every row the filter leaves from the heap. */
	    " FROM (SELECT a.* FROM (");
	if (!q->err && list_ids(r, q, ld, f, uid, lim, off, upto) == -1)
		q->err = 1;
	qb_sql(q, ") k JOIN applications a ON a.id = k.id) a ORDER BY ");
	qb_sql(q, list_order(ld, f));
	if (q->err) {
		buf_free(&q->b);
		return -1;
	}
	return 0;
}

/* The statements of a list page, sent together (db_pipeline). */
enum { LS_COUNT, LS_ROWS, LS_SAVED, LS_HOSPITALS, LS_UPPER, LS__MAX };

/*
 * Serve a list page: count what the filter leaves of the page's scope,
 * read one page of it and render applist.html.  The count, the page, the
 * saved filters, the 申请医院 choices and whether there is an upper
 * hospital are independent of each other: they go to the database in
 * one round trip.  Only a page past the last (known from the count) is
 * read again, as the last page.
 */
static void
list_page(struct req *r)
{
	const struct list_def	*ld;
	struct list_filter	 f;
	struct tdict		*d, *row;
	struct qb		 qc, qr;
	struct db_stmt		 st[LS__MAX];
	PGresult		*res[LS__MAX];
	const char		*path, *self, *cur, *p_inst[1], *p_saved[2];
	char			 inst[32], uid[32], cap[24];
	long long		 total, npages;
	int			 i, c, ns, capped, exact, has_hosp, has_up;
	int			 prep;

	if ((ld = list_def_of(r->page)) == NULL) {
		page_error(r, 404, "您访问的页面不存在");
		return;
	}
	path = pages[ld->page].path;
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	(void)snprintf(uid, sizeof(uid), "%lld", r->sess.acct.id);
	filter_read(r, ld, &r->query, &f);

	/* Counted from the totals, or up to LIST_COUNT_CAP rows past the
	 * page asked for, and one more to know there are more. */
	if (f.page > (LLONG_MAX - LIST_COUNT_CAP - 1) / LIST_PER_PAGE)
		f.page = 1;
	(void)snprintf(cap, sizeof(cap), "%lld",
	    (f.page - 1) * LIST_PER_PAGE + LIST_COUNT_CAP + 1);
	if (list_count(r, &qc, ld, &f, inst, uid, NULL, cap, &exact) == -1) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	if (list_rows(r, &qr, ld, &f, inst, uid) == -1) {
		buf_free(&qc.b);
		page_error(r, 500, "系统内部错误");
		return;
	}
	p_inst[0] = inst;
	p_saved[0] = uid;
	p_saved[1] = path;
	has_hosp = list_has_hospitals(r, ld);
	has_up = ld->page == PAGE_WORKLIST && has_role(r, ROLE_DOCTOR);
	/* Under 关键字 the plan depends on the words: a name or a serial
	 * number is found through the trigram indexes, a 诊断号 fragment
	 * that holds a date in the waiting rows' order (sql/042), and the
	 * pieces of names of the waiting rows have an index of their own
	 * that only constant states can choose.  A generic plan, made
	 * once for all words, cannot be right for each: these two
	 * statements are sent with their values and planned each time
	 * (about 1 ms). */
	prep = f.q == NULL;
	st[LS_COUNT] = (struct db_stmt){ prep, qc.b.data, qc.n, qc.p };
	st[LS_ROWS] = (struct db_stmt){ prep, qr.b.data, qr.n, qr.p };
	st[LS_SAVED] = (struct db_stmt){ 1, SQL_SAVED, 2, p_saved };
	ns = LS_SAVED + 1;
	if (has_hosp)
		st[ns++] = (struct db_stmt){ 1, SQL_HOSPITALS, 1, p_inst };
	if (has_up)
		st[ns++] = (struct db_stmt){ 1, SQL_HAS_UPPER, 1, p_inst };
	i = db_pipeline(__func__, r->db, st, ns, res);
	buf_free(&qc.b);
	buf_free(&qr.b);
	if (i == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	/* Unused places hold NULL from here on. */
	for (i = ns; i < LS__MAX; i++)
		res[i] = NULL;
	if (!has_hosp && has_up) {
		res[LS_UPPER] = res[LS_HOSPITALS];
		res[LS_HOSPITALS] = NULL;
	}

	total = db_ll(res[LS_COUNT], 0, 0);
	capped = !exact && total == strtoll(cap, NULL, 10);
	if (capped)
		total--;
	npages = (total + LIST_PER_PAGE - 1) / LIST_PER_PAGE;
	if (f.page > npages && npages > 0) {
		/* Past the end: the last page instead. */
		f.page = npages;
		PQclear(res[LS_ROWS]);
		res[LS_ROWS] = NULL;
		if (list_rows(r, &qr, ld, &f, inst, uid) == -1 ||
		    (res[LS_ROWS] = qb_exec(&qr, r->db, __func__)) == NULL) {
			for (i = 0; i < LS__MAX; i++)
				PQclear(res[i]);
			page_error(r, 503, "系统暂时不可用，请稍后重试");
			return;
		}
	}

	if ((d = page_dict(r)) == NULL) {
		for (i = 0; i < LS__MAX; i++)
			PQclear(res[i]);
		page_error(r, 500, "系统内部错误");
		return;
	}
	list_assets(d);
	(void)tdict_set(d, "path", path);
	self = href(r->a, path, filter_qs(r->a, &f, f.sort, f.page));
	(void)tdict_set(d, "self", self);
	(void)tdict_setf(d, "total", "%lld", total);
	(void)tdict_bool(d, "capped", capped);
	(void)tdict_setf(d, "page", "%lld", f.page);
	(void)tdict_setf(d, "pages", "%lld", npages > 0 ? npages : 1);
	(void)tdict_set(d, "empty", ld->empty);
	for (c = 0; c < COL__MAX; c++)
		(void)tdict_bool(d, col_keys[c], (ld->cols & (1u << c)) != 0);
	list_form(d, ld, &f);
	list_hospitals(d, &f, res[LS_HOSPITALS]);
	list_sort_links(r, d, &f, path);
	list_pager(r, d, &f, path, npages, capped);
	cur = filter_qs(r->a, &f, f.sort, 1);
	list_saved(r, d, path, cur, res[LS_SAVED]);
	for (i = 0; i < PQntuples(res[LS_ROWS]); i++) {
		if ((row = tdict_add(d, "rows")) == NULL)
			break;
		list_row(r, ld, row, res[LS_ROWS], i, res[LS_UPPER] != NULL &&
		    PQntuples(res[LS_UPPER]) > 0, self);
	}
	for (i = 0; i < LS__MAX; i++)
		PQclear(res[i]);
	page_render(r, 200, "applist.html", d);
}

/*
 * 申请列表: the applications of the user's institution (by default the
 * user's own), in every state, with the actions of each state.
 */
void
page_applications(struct req *r)
{
	list_page(r);
}

/*
 * 待诊断: what the institution reads and nobody has reported yet
 * (待报告, 报告中), with 写报告, 退回 and 请求协助.
 */
void
page_worklist(struct req *r)
{
	list_page(r);
}

/* 待审核: reports of what the institution reads, waiting for review. */
void
page_review_list(struct req *r)
{
	list_page(r);
}

/* 已报告: finished reports (已报告, 已审核) of what the institution reads. */
void
page_reported(struct req *r)
{
	list_page(r);
}

/*
 * 已诊断: for an applicant, the institution's self-diagnosed applications
 * with a finished report; for a doctor, those of lower institutions the
 * institution read (superior mode or assistance).
 */
void
page_diagnosed(struct req *r)
{
	list_page(r);
}

/* 打印报告: the institution's applications with a finished report. */
void
page_print_list(struct req *r)
{
	list_page(r);
}

/*
 * What waits for the user, for the home page: for each list the user may
 * open, the count that list shows unfiltered (the same scope, list_where()),
 * under key "waiting" (label, count, href, id), with the urgent ones of
 * 待诊断 (加急: urgent or emergency) and the institution's returned
 * applications (申请列表, 已退回) beside.  Returns 0, or -1 when the
 * database fails.
 */
int
lists_home(struct req *r, struct tdict *d)
{
	static const struct {
		enum page	 page;
		const char	*label, *id, *status, *where, *qs;
	} tiles[] = {
		{ PAGE_WORKLIST, "待诊断", "home-worklist", NULL, NULL, "" },
		{ PAGE_WORKLIST, "其中加急", "home-urgent", NULL,
		    " AND a.urgency IN ('urgent', 'emergency')", "" },
		{ PAGE_REVIEW, "待审核", "home-review", NULL, NULL, "" },
		{ PAGE_APPLICATIONS, "已退回的申请", "home-returned",
		    "returned", NULL, "?status=returned&mine=0" },
	};
	const struct list_def	*ld;
	struct list_filter	 f;
	struct tdict		*t;
	struct qb		 q;
	PGresult		*res;
	char			 inst[32], uid[32];
	size_t			 i;
	int			 exact;

	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	(void)snprintf(uid, sizeof(uid), "%lld", r->sess.acct.id);
	for (i = 0; i < sizeof(tiles) / sizeof(tiles[0]); i++) {
		if (!(pages[tiles[i].page].roles & r->sess.acct.roles) ||
		    (ld = list_def_of(tiles[i].page)) == NULL)
			continue;
		memset(&f, 0, sizeof(f));
		f.status = tiles[i].status;
		if (list_count(r, &q, ld, &f, inst, uid, tiles[i].where, NULL,
		    &exact) == -1)
			return -1;
		if ((res = qb_exec(&q, r->db, __func__)) == NULL)
			return -1;
		if ((t = tdict_add(d, "waiting")) == NULL) {
			PQclear(res);
			return -1;
		}
		(void)tdict_set(t, "label", tiles[i].label);
		(void)tdict_set(t, "count", db_val(res, 0, 0));
		(void)tdict_set(t, "id", tiles[i].id);
		(void)tdict_setf(t, "href", "%s%s", pages[tiles[i].page].path,
		    tiles[i].qs);
		if (strcmp(db_val(res, 0, 0), "0") != 0)
			(void)tdict_set(t, "some", "1");
		PQclear(res);
	}
	return 0;
}

/*
 * Where to go back to after an action: the list URL the form came from
 * when it is a local path, else the given list.
 */
static const char *
back_to(struct req *r, const char *dflt)
{
	const char	*n = http_field(r, FIELD_NEXT);

	return n != NULL && *n != '\0' ? n : dflt;
}

/* Status of a workflow result that is not WF_OK. */
static int
wf_status(enum wf_result res)
{
	switch (res) {
	case WF_NOT_FOUND:
		return 404;
	case WF_CONFLICT:
	case WF_LOCKED:
	case WF_STALE:
		return 409;
	case WF_FORBIDDEN:
		return 403;
	case WF_INVALID:
		return 400;
	default:
		return 503;
	}
}

/* What the action pages show of an application. */
enum {
	A_ID, A_DIAG, A_NAME, A_SEX, A_AGE, A_EXAM, A_BODY, A_HOSPITAL,
	A_STATE, A_ASSIST, A_ASSIST_INST, A_CC, A_PI, A_TIME
};

/* Load application id as a reading institution of the session sees it;
 * NULL when it is not one (or on database trouble: *dberr set). */
static PGresult *
action_load(struct req *r, const char *id, int *dberr)
{
	PGresult	*res;
	char		 inst[32];

	*dberr = 0;
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT a.id, a.diag_no, a.patient_name,"
	    " a.patient_sex, a.patient_age, a.exam_type, a.body_part,"
	    " ai.name, a.state, a.assist, coalesce(si.name, ''),"
	    " a.chief_complaint, a.present_illness,"
	    " to_char(a.submitted_at, 'YYYY-MM-DD HH24:MI')"
	    " FROM applications a"
	    " JOIN institutions ai ON ai.id = a.applicant_institution_id"
	    " LEFT JOIN institutions si ON si.id = a.assist_institution_id"
	    " WHERE a.id = $2::bigint AND " SQL_READER, 2, inst, id);
	if (res == NULL) {
		*dberr = 1;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	return res;
}

static void
action_app(struct tdict *d, const PGresult *res)
{
	int	 st;

	(void)tdict_set(d, "id", db_val(res, 0, A_ID));
	(void)tdict_set(d, "diag_no", db_val(res, 0, A_DIAG));
	(void)tdict_set(d, "name", db_val(res, 0, A_NAME));
	(void)tdict_set(d, "sex", page_sex_zh(db_val(res, 0, A_SEX)));
	(void)tdict_set(d, "age", db_val(res, 0, A_AGE));
	(void)tdict_set(d, "exam", db_val(res, 0, A_EXAM));
	(void)tdict_set(d, "body_part", db_val(res, 0, A_BODY));
	(void)tdict_set(d, "hospital", db_val(res, 0, A_HOSPITAL));
	(void)tdict_set(d, "state", state_zh(db_val(res, 0, A_STATE), &st));
	(void)tdict_set(d, "time", db_val(res, 0, A_TIME));
}

/* The 退回 form again, with what went wrong. */
static void
return_form(struct req *r, int status, const char *id, const char *error)
{
	struct tdict	*d;
	PGresult	*res;
	int		 dberr;

	if ((res = action_load(r, id, &dberr)) == NULL) {
		page_error(r, dberr ? 503 : 404, dberr ?
		    "系统暂时不可用，请稍后重试" : wf_messages[WF_NOT_FOUND]);
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		PQclear(res);
		page_error(r, 500, "系统内部错误");
		return;
	}
	list_assets(d);
	(void)tdict_set(d, "title", "退回申请单");
	action_app(d, res);
	PQclear(res);
	(void)tdict_set(d, "error", error != NULL ? error : "");
	(void)tdict_bool(d, "has_error", error != NULL);
	(void)tdict_set(d, "reason", r->fields[FIELD_REASON] != NULL &&
	    !r->field_bad[FIELD_REASON] ? r->fields[FIELD_REASON] : "");
	(void)tdict_set(d, "next", back_to(r, pages[PAGE_WORKLIST].path));
	page_render(r, status, "list_return.html", d);
}

/*
 * 退回 (POST /application/return): a reading doctor of an upper hospital
 * returns an incomplete application to its applicant, with a reason.
 */
void
page_app_return(struct req *r)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	const char	*id, *reason;

	id = http_field(r, FIELD_ID);
	if (id == NULL || *id == '\0') {
		page_error(r, 400, "请求缺少申请单编号");
		return;
	}
	if (r->fields[FIELD_REASON] != NULL && r->field_bad[FIELD_REASON]) {
		return_form(r, 400, id, "退回原因不能超过500个字");
		return;
	}
	reason = trim(r->a, http_field(r, FIELD_REASON));
	if (reason == NULL) {
		return_form(r, 400, id, "请填写退回原因");
		return;
	}
	page_actor(r, &w);
	res = wf_return(r->db, &w, strtoll(id, NULL, 10), reason);
	if (res == WF_OK) {
		http_redirect(r, back_to(r, pages[PAGE_WORKLIST].path));
		return;
	}
	if (res == WF_INVALID) {
		return_form(r, 400, id, "请填写退回原因");
		return;
	}
	page_error(r, wf_status(res), res == WF_FORBIDDEN ?
	    "只有上级医院或协助医院的医生可以退回申请单" : wf_messages[res]);
}

/*
 * The upper hospitals the session's institution may ask for help: its
 * superior, the superior's superior and so on, in each active alliance.
 */
static PGresult *
assist_targets(struct req *r, const char *inst)
{
	return db_exec(r->db, "WITH RECURSIVE up(alliance_id, id, depth) AS ("
	    " SELECT alliance_id, superior_id, 1 FROM alliance_members"
	    "  WHERE institution_id = $1::bigint AND superior_id IS NOT NULL"
	    " UNION ALL SELECT m.alliance_id, m.superior_id, up.depth + 1"
	    "  FROM alliance_members m JOIN up ON"
	    "  m.alliance_id = up.alliance_id AND m.institution_id = up.id"
	    "  WHERE m.superior_id IS NOT NULL AND up.depth < 16)"
	    " SELECT up.alliance_id, al.name, up.id, i.name, al.kind"
	    " FROM up JOIN alliances al ON al.id = up.alliance_id"
	    " JOIN institutions i ON i.id = up.id"
	    " WHERE al.active AND i.active ORDER BY al.name, up.depth", 1,
	    inst);
}

/* The 请求协助 form. */
static void
assist_form(struct req *r, int status, const char *id, const char *error)
{
	struct tdict	*d, *o, *g = NULL;
	PGresult	*res, *t;
	const char	*al, *tg, *cc, *pi, *prev = "";
	char		 inst[32];
	int		 dberr, i, n, kind;

	if ((res = action_load(r, id, &dberr)) == NULL) {
		page_error(r, dberr ? 503 : 404, dberr ?
		    "系统暂时不可用，请稍后重试" : wf_messages[WF_NOT_FOUND]);
		return;
	}
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	if ((t = assist_targets(r, inst)) == NULL) {
		PQclear(res);
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		PQclear(res);
		PQclear(t);
		page_error(r, 500, "系统内部错误");
		return;
	}
	list_assets(d);
	(void)tdict_set(d, "title", "请求协助");
	action_app(d, res);
	/* The typed text on a second try, else what the application says. */
	cc = r->method == METHOD_POST ? http_field(r, FIELD_CHIEF_COMPLAINT) :
	    NULL;
	pi = r->method == METHOD_POST ? http_field(r, FIELD_PRESENT_ILLNESS) :
	    NULL;
	(void)tdict_set(d, "chief_complaint", cc != NULL ? cc :
	    db_val(res, 0, A_CC));
	(void)tdict_set(d, "present_illness", pi != NULL ? pi :
	    db_val(res, 0, A_PI));
	(void)tdict_bool(d, "assisted", db_bool(res, 0, A_ASSIST));
	(void)tdict_set(d, "assist_inst", db_val(res, 0, A_ASSIST_INST));
	PQclear(res);
	al = http_field(r, FIELD_ALLIANCE);
	tg = http_field(r, FIELD_TARGET);
	n = PQntuples(t);
	for (i = 0; i < n; i++) {
		if (strcmp(prev, db_val(t, i, 0)) != 0) {
			if ((o = tdict_add(d, "alliances")) == NULL)
				break;
			kind = model_lookup(alliance_kind_names, ALLIANCE__MAX,
			    db_val(t, i, 4));
			(void)tdict_set(o, "value", db_val(t, i, 0));
			(void)tdict_setf(o, "label", "%s（%s）",
			    db_val(t, i, 1), kind >= 0 ?
			    alliance_kind_names[kind].zh : "");
			(void)tdict_bool(o, "sel", al != NULL &&
			    strcmp(al, db_val(t, i, 0)) == 0);
			g = o;
			prev = db_val(t, i, 0);
		}
		if (g == NULL || (o = tdict_add(g, "targets")) == NULL)
			break;
		(void)tdict_set(o, "value", db_val(t, i, 2));
		(void)tdict_set(o, "label", db_val(t, i, 3));
		(void)tdict_set(o, "alliance", db_val(t, i, 0));
		(void)tdict_bool(o, "sel", tg != NULL && al != NULL &&
		    strcmp(tg, db_val(t, i, 2)) == 0 &&
		    strcmp(al, db_val(t, i, 0)) == 0);
	}
	PQclear(t);
	(void)tdict_bool(d, "has_targets", n > 0);
	(void)tdict_set(d, "error", error != NULL ? error : "");
	(void)tdict_bool(d, "has_error", error != NULL);
	(void)tdict_set(d, "next", back_to(r, pages[PAGE_WORKLIST].path));
	page_render(r, status, "assist.html", d);
}

/*
 * 请求协助 (GET/POST /application/assist): choose an alliance and one of
 * the institution's upper hospitals in it, complete 主诉 and 现病史, and
 * add that hospital as a reader of the application.
 */
void
page_app_assist(struct req *r)
{
	struct wf_actor	 w;
	enum wf_result	 res;
	PGresult	*app;
	const char	*id, *al, *tg, *cc, *pi;
	int		 dberr, assisted;

	id = http_field(r, FIELD_ID);
	if (id == NULL || *id == '\0') {
		page_error(r, 400, "请求缺少申请单编号");
		return;
	}
	if (r->method != METHOD_POST) {
		assist_form(r, 200, id, NULL);
		return;
	}
	al = nonempty(http_field(r, FIELD_ALLIANCE));
	tg = nonempty(http_field(r, FIELD_TARGET));
	if (al == NULL || tg == NULL) {
		assist_form(r, 400, id, "请选择医联体/医共体及上级医院");
		return;
	}
	if ((r->fields[FIELD_CHIEF_COMPLAINT] != NULL &&
	    r->field_bad[FIELD_CHIEF_COMPLAINT]) ||
	    (r->fields[FIELD_PRESENT_ILLNESS] != NULL &&
	    r->field_bad[FIELD_PRESENT_ILLNESS])) {
		assist_form(r, 400, id,
		    "主诉不能超过2000个字，现病史不能超过4000个字");
		return;
	}
	/* One assistance per application: asking again would take the
	 * application away from the hospital already helping. */
	if ((app = action_load(r, id, &dberr)) == NULL) {
		page_error(r, dberr ? 503 : 404, dberr ?
		    "系统暂时不可用，请稍后重试" : wf_messages[WF_NOT_FOUND]);
		return;
	}
	assisted = db_bool(app, 0, A_ASSIST);
	PQclear(app);
	if (assisted) {
		assist_form(r, 409, id, "该申请单已请求过协助");
		return;
	}
	cc = http_field(r, FIELD_CHIEF_COMPLAINT);
	pi = http_field(r, FIELD_PRESENT_ILLNESS);
	page_actor(r, &w);
	res = wf_assist(r->db, &w, strtoll(id, NULL, 10), strtoll(al, NULL, 10),
	    strtoll(tg, NULL, 10), cc, pi);
	switch (res) {
	case WF_OK:
		http_redirect(r, back_to(r, pages[PAGE_WORKLIST].path));
		return;
	case WF_INVALID:
		assist_form(r, 400, id,
		    "所选医院不是本机构在该医联体/医共体中的上级医院");
		return;
	case WF_CONFLICT:
		assist_form(r, 409, id,
		    "申请单已不在待报告或报告中状态，不能请求协助");
		return;
	default:
		page_error(r, wf_status(res), wf_messages[res]);
		return;
	}
}

/*
 * Read a list filter posted by the 保存常用筛选 form: the list's path in
 * next, the filter in the other fields.  NULL when next is not a list.
 */
static const struct list_def *
saved_target(struct req *r, struct list_filter *f)
{
	const struct list_def	*ld;
	const char		*n = http_field(r, FIELD_NEXT), *qm;

	if (n == NULL)
		return NULL;
	qm = strchr(n, '?');
	if ((ld = list_def_of_path(n, qm != NULL ? (size_t)(qm - n) :
	    strlen(n))) == NULL)
		return NULL;
	if (f != NULL)
		filter_read(r, ld, &r->form, f);
	return ld;
}

/*
 * 保存常用筛选 (POST /filters/save): keep the filter under a name for this
 * user and list; the same name again replaces it.
 */
void
page_filter_save(struct req *r)
{
	const struct list_def	*ld;
	struct list_filter	 f;
	const char		*name, *path, *qs;
	char			 uid[32], max[16], msg[128];
	PGresult		*res;
	int			 n;

	if ((ld = saved_target(r, &f)) == NULL) {
		page_error(r, 400, "请求无效，请返回列表页面后重试");
		return;
	}
	path = pages[ld->page].path;
	if (r->fields[FIELD_FILTER_NAME] != NULL &&
	    r->field_bad[FIELD_FILTER_NAME]) {
		page_error(r, 400, "筛选名称不能超过32个字");
		return;
	}
	if ((name = trim(r->a, http_field(r, FIELD_FILTER_NAME))) == NULL) {
		page_error(r, 400, "请输入常用筛选的名称");
		return;
	}
	qs = filter_qs(r->a, &f, f.sort, 1);
	(void)snprintf(uid, sizeof(uid), "%lld", r->sess.acct.id);
	(void)snprintf(max, sizeof(max), "%d", LIST_SAVED_MAX);
	res = db_exec(r->db, "INSERT INTO saved_filters (user_id, page, name,"
	    " query) SELECT $1::bigint, $2, $3, $4"
	    " WHERE (SELECT count(*) FROM saved_filters WHERE"
	    "  user_id = $1::bigint AND page = $2) < $5::int"
	    " OR EXISTS (SELECT 1 FROM saved_filters WHERE"
	    "  user_id = $1::bigint AND page = $2 AND name = $3)"
	    " ON CONFLICT (user_id, page, name) DO UPDATE"
	    " SET query = EXCLUDED.query, created_at = now() RETURNING id",
	    5, uid, path, name, qs, max);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		(void)snprintf(msg, sizeof(msg), "每个列表最多保存%d个常用筛选，"
		    "请先删除不再使用的", LIST_SAVED_MAX);
		page_error(r, 409, msg);
		return;
	}
	http_redirect(r, href(r->a, path, qs));
}

/* 删除常用筛选 (POST /filters/delete): only the user's own. */
void
page_filter_delete(struct req *r)
{
	const struct list_def	*ld;
	const char		*id;
	char			 uid[32];
	PGresult		*res;
	int			 n;

	id = http_field(r, FIELD_FILTER);
	if (id == NULL || *id == '\0') {
		page_error(r, 400, "请求缺少筛选编号");
		return;
	}
	(void)snprintf(uid, sizeof(uid), "%lld", r->sess.acct.id);
	res = db_exec(r->db, "DELETE FROM saved_filters WHERE id = $1::bigint"
	    " AND user_id = $2::bigint RETURNING page", 2, id, uid);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		page_error(r, 404, "常用筛选不存在或已删除");
		return;
	}
	ld = saved_target(r, NULL);
	http_redirect(r, ld != NULL ? back_to(r, "/") : "/");
}
