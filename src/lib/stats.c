/*
 * stats.c - the figures of 统计 and their Excel workbook (libxlsxwriter).
 *
 * The scope is resolved first: sc walks the alliances down from the
 * manager's institution through superior_id, and a province-level manager
 * sees every institution; the ids go to the figure queries as one array.
 * Each figure query then reads the filtered applications as the CTE f,
 * narrow rows without lookups: the history's and the report versions'
 * facts are kept on the application (sql/032), and the columns f reads
 * are all in one covering index (sql/039), so each figure is one
 * index-only scan that PostgreSQL may split over its parallel workers.
 * The queries run in one REPEATABLE READ READ ONLY transaction: every
 * figure is of the same moment.
 *
 * Unless the filter names an AI reader (or asks for the rows, raw), the
 * groups but AI阅片 are read from what sql/040 keeps up to date in the
 * transaction of every change: counts per day of submission (按机构,
 * 按时间, 比率, 医生工作量) and, for 时效, counts per month and whole hour
 * of turnaround, from which the exact percentiles are found by reading a
 * few values of the turnaround's own index.  Both ways give the same
 * figures (tests/integration/stats.test.mjs compares the workbooks).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <xlsxwriter.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "stats.h"
#include "workflow.h"

#define STATS_MAXPARAMS	16

const struct stats_group_def stats_groups[STATS__MAX] = {
	[STATS_INST] = { "inst", "按机构", 9, {
	    { "申请机构", STATS_T_TEXT, 24 }, { "申请数", STATS_T_INT, 10 },
	    { "待报告", STATS_T_INT, 10 }, { "报告中", STATS_T_INT, 10 },
	    { "审核中", STATS_T_INT, 10 }, { "已报告", STATS_T_INT, 10 },
	    { "已审核", STATS_T_INT, 10 }, { "已取消", STATS_T_INT, 10 },
	    { "已退回", STATS_T_INT, 10 } }, 1, 1 },
	[STATS_TIME] = { "time", "按时间", 3, {
	    { "时间段（起）", STATS_T_DATE, 14 }, { "申请数", STATS_T_INT, 10 },
	    { "已完成", STATS_T_INT, 10 } }, 1, 2 },
	[STATS_TURN] = { "turn", "时效", 4, {
	    { "指标", STATS_T_TEXT, 22 }, { "样本数", STATS_T_INT, 10 },
	    { "中位数（小时）", STATS_T_HOURS, 16 },
	    { "P90（小时）", STATS_T_HOURS, 14 } }, -1, 0 },
	[STATS_RATE] = { "rate", "比率", 4, {
	    { "指标", STATS_T_TEXT, 22 }, { "数量", STATS_T_INT, 10 },
	    { "基数", STATS_T_INT, 10 }, { "比例", STATS_T_PCT, 10 } }, -1, 0 },
	[STATS_DOCTOR] = { "doctor", "医生工作量", 5, {
	    { "医生", STATS_T_TEXT, 14 }, { "账号", STATS_T_TEXT, 16 },
	    { "所在机构", STATS_T_TEXT, 24 }, { "报告数", STATS_T_INT, 10 },
	    { "审核数", STATS_T_INT, 10 } }, 3, 0 },
	[STATS_AI] = { "ai", "AI阅片", 9, {
	    { "AI阅片", STATS_T_READER, 24 }, { "任务数", STATS_T_INT, 10 },
	    { "完成", STATS_T_INT, 10 }, { "失败", STATS_T_INT, 10 },
	    { "失败率", STATS_T_PCT, 10 }, { "阳性", STATS_T_INT, 10 },
	    { "阳性率", STATS_T_PCT, 10 }, { "引用AI文本", STATS_T_INT, 12 },
	    { "引用率", STATS_T_PCT, 10 } }, 1, 0 },
};

/* The filter's values, each passed once and referred to by number. */
enum sq_slot {
	SLOT_IDS, SLOT_FROM, SLOT_TO, SLOT_HOSPITAL, SLOT_ALLIANCE, SLOT_EXAM,
	SLOT_MODE, SLOT_STATUS, SLOT_READER, SLOT_M1, SLOT_M2, SLOT__MAX
};

/* A statement being built, with its parameters. */
struct sq {
	struct buf	 b;
	const char	*p[STATS_MAXPARAMS];
	int		 n;
	int		 slot[SLOT__MAX];	/* parameter number, or 0 */
	int		 err;
};

static void
sq_sql(struct sq *q, const char *s)
{
	if (buf_appends(&q->b, s) == -1)
		q->err = 1;
}

static int
sq_arg(struct sq *q, const char *v, const char *cast)
{
	if (q->n >= STATS_MAXPARAMS) {
		q->err = 1;
		return 0;
	}
	q->p[q->n++] = v;
	if (buf_printf(&q->b, "$%d%s", q->n, cast != NULL ? cast : "") == -1)
		q->err = 1;
	return q->n;
}

/* v as the parameter of slot k: passed the first time, then referred to. */
static void
sq_ref(struct sq *q, enum sq_slot k, const char *v, const char *cast)
{
	if (q->slot[k] == 0)
		q->slot[k] = sq_arg(q, v, cast);
	else if (buf_printf(&q->b, "$%d%s", q->slot[k], cast != NULL ? cast :
	    "") == -1)
		q->err = 1;
}

static void
sq_start(struct sq *q, int nfixed, const char *const *fixed)
{
	int	 i;

	memset(q, 0, sizeof(*q));
	buf_init(&q->b, 8192);
	for (i = 0; i < nfixed; i++)
		q->p[q->n++] = fixed[i];
}

/* The scope CTEs alone; $1 is the manager's institution. */
#define SQL_SCOPE \
	"WITH RECURSIVE sc(id) AS (SELECT $1::bigint" \
	" UNION SELECT m.institution_id FROM alliance_members m" \
	"  JOIN sc ON m.superior_id = sc.id)," \
	" scope AS (SELECT id FROM sc UNION SELECT i.id FROM institutions i" \
	"  WHERE EXISTS (SELECT 1 FROM institutions p" \
	"   WHERE p.id = $1::bigint AND p.level = 'province'))"

/* The institutions of the scope as one array, for the figure queries. */
#define SQL_SCOPE_IDS SQL_SCOPE \
	" SELECT coalesce(array_agg(id ORDER BY id), '{}')::text FROM scope"

/*
 * The conditions the applications a and the kept rows s (sql/040) are
 * both filtered by: the scope (ids, an array), 申请医院, 医联体, 检查类型,
 * 申请方式 and 报告状态, on the columns of t (an alias) named inst (the
 * applying institution), exam_type, mode and state; every value a
 * parameter (sq_ref).
 */
static void
sq_where_common(struct sq *q, const struct stats_filter *f, const char *ids,
    const char *t, const char *inst)
{
	static const enum sq_slot slot[3] = { SLOT_EXAM, SLOT_MODE,
	    SLOT_STATUS };
	static const char *const col[3] = { "exam_type", "mode", "state" };
	const char	*v[3] = { f->exam, f->mode, f->status };
	size_t		 i;

	if (buf_printf(&q->b, "%s.%s = ANY(", t, inst) == -1)
		q->err = 1;
	sq_ref(q, SLOT_IDS, ids, "::bigint[])");
	if (f->hospital != NULL) {
		if (buf_printf(&q->b, " AND %s.%s = ", t, inst) == -1)
			q->err = 1;
		sq_ref(q, SLOT_HOSPITAL, f->hospital, "::bigint");
	}
	if (f->alliance != NULL) {
		if (buf_printf(&q->b, " AND %s.%s IN (SELECT institution_id"
		    " FROM alliance_members WHERE alliance_id = ", t, inst) == -1)
			q->err = 1;
		sq_ref(q, SLOT_ALLIANCE, f->alliance, "::bigint)");
	}
	for (i = 0; i < 3; i++) {
		if (v[i] == NULL)
			continue;
		if (buf_printf(&q->b, " AND %s.%s = ", t, col[i]) == -1)
			q->err = 1;
		sq_ref(q, slot[i], v[i], "::text");
	}
}

/*
 * The filter on applications a of the scope (ids, an array): the
 * condition of a WHERE, every value a parameter (sq_ref).
 */
static void
sq_where(struct sq *q, const struct stats_filter *f, const char *ids)
{
	sq_where_common(q, f, ids, "a", "applicant_institution_id");
	if (f->from != NULL) {
		sq_sql(q, " AND a.submitted_at >= ");
		sq_ref(q, SLOT_FROM, f->from, "::date");
	}
	if (f->to != NULL) {
		sq_sql(q, " AND a.submitted_at < ");
		sq_ref(q, SLOT_TO, f->to, "::date + 1");
	}
	if (f->reader != NULL) {
		sq_sql(q, " AND EXISTS (SELECT 1 FROM application_studies s"
		    " JOIN series se ON se.study_id = s.study_id"
		    " JOIN ai_jobs j ON j.series_id = se.id"
		    " WHERE s.application_id = a.id AND j.reader = ");
		sq_ref(q, SLOT_READER, f->reader, "::text)");
	}
}

/* The turnarounds in hours: written as sql/040's indexes are, so that the
 * planner reads them from there and the values are the same doubles. */
#define SQL_FIRST_H 	"date_part('epoch', least(a.reported_at, CASE WHEN a.reported_at" 	" IS NOT NULL THEN a.first_reported_at END) - a.submitted_at) / 3600"
#define SQL_FINAL_H 	"date_part('epoch', CASE a.state WHEN 'reported' THEN a.reported_at" 	" WHEN 'reviewed' THEN a.reviewed_at END - a.submitted_at) / 3600"

/*
 * Start q as the CTE f of the filtered applications of the scope (ids, an
 * array), one narrow row each, after the nfixed parameters of the figure
 * query itself ($1, $2).  first_at is the first submission to review or
 * sign-off (the history, kept on the application as first_reported_at),
 * or reported_at where the history lacks it; final_at the sign-off of a
 * self-signed report, or the review; ret whether it is or ever was
 * returned; aiu whether a submitted or final report version used the AI
 * text.  f is read once by each figure query, so PostgreSQL inlines it and
 * reads only the columns that query uses.
 */
static void
sq_base(struct sq *q, const struct stats_filter *f, const char *ids,
    int nfixed, const char *const *fixed)
{
	sq_start(q, nfixed, fixed);
	sq_sql(q, "WITH f AS (SELECT a.id, a.applicant_institution_id AS inst,"
	    " a.state, a.assist, a.submitted_at,"
	    " least(a.reported_at, CASE WHEN a.reported_at IS NOT NULL THEN"
	    "  a.first_reported_at END) AS first_at,"
	    " CASE a.state WHEN 'reported' THEN a.reported_at"
	    "  WHEN 'reviewed' THEN a.reviewed_at END AS final_at,"
	    " a.report_author_id AS author, a.reviewer_id AS reviewer,"
	    " a.state = 'returned' OR a.ever_returned AS ret, a.ai_used AS aiu"
	    " FROM applications a WHERE ");
	sq_where(q, f, ids);
	sq_sql(q, ") ");
}

/* The same filter on the rows s of stats_counts or stats_turn, but for
 * the dates; no reader. */
static void
sq_where_kept(struct sq *q, const struct stats_filter *f, const char *ids)
{
	sq_sql(q, "s.n <> 0 AND ");
	sq_where_common(q, f, ids, "s", "inst");
}

/*
 * Start q as the CTE c of the daily counts (sql/040) of the filtered
 * applications of the scope, as sq_base does for f; the same filter, by
 * the columns the counts are kept by.  A day is taken in stats_zone(),
 * which stats_run sets for its transaction, so the bounds select the same
 * applications as f's.  Not for a reader filter: the counts do not know
 * the AI jobs.
 */
static void
sq_counts(struct sq *q, const struct stats_filter *f, const char *ids,
    int nfixed, const char *const *fixed)
{
	sq_start(q, nfixed, fixed);
	sq_sql(q, "WITH c AS (SELECT s.day, s.inst, s.state, s.assist,"
	    " s.ret, s.aiu, s.author, s.reviewer, s.n"
	    " FROM stats_counts s WHERE ");
	sq_where_kept(q, f, ids);
	if (f->from != NULL) {
		sq_sql(q, " AND s.day >= ");
		sq_ref(q, SLOT_FROM, f->from, "::date");
	}
	if (f->to != NULL) {
		sq_sql(q, " AND s.day <= ");
		sq_ref(q, SLOT_TO, f->to, "::date");
	}
	sq_sql(q, ") ");
}

/*
 * The months wholly within [from, to] as [m1, m2), first days: m1 the
 * first month that starts on or after from, m2 the first that starts after
 * to.  Empty when m1 >= m2.
 */
static void
whole_months(const char *from, const char *to, char m1[16], char m2[16])
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 y, m, d, last;

	*m1 = *m2 = '\0';
	if (from != NULL && sscanf(from, "%d-%d-%d", &y, &m, &d) == 3 &&
	    m >= 1 && m <= 12) {
		if (d > 1 && ++m > 12)
			m = 1, y++;
		(void)snprintf(m1, 16, "%04d-%02d-01", y, m);
	}
	if (to != NULL && sscanf(to, "%d-%d-%d", &y, &m, &d) == 3 &&
	    m >= 1 && m <= 12) {
		last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) ||
		    y % 400 == 0));
		if (d >= last && ++m > 12)
			m = 1, y++;
		(void)snprintf(m2, 16, "%04d-%02d-01", y, m);
	}
}

/*
 * 时效 from stats_turn (sql/040): the exact percentile_cont of each
 * turnaround, as group_sql's over f computes it.  The histogram h counts
 * the values per whole hour: the kept rows of the whole months of the
 * date range, and the applications of the rest of it (e, read from the
 * covering index).  For each wanted fraction p of a kind with total n
 * values, percentile_cont takes the values of rank lo = floor(p(n - 1))
 * and lo + 1 (from 0) and interpolates: the hour holding rank lo is found
 * from h, and the two values are read in order from the turnaround's
 * index, from the start of that hour, after the ones before lo.
 */
static void
sq_turn(struct sq *q, const struct stats_filter *f, const char *ids,
    const char *m1, const char *m2)
{
	static const char *const kinds[2][3] = {
	    { "f", SQL_FIRST_H, "a.reported_at IS NOT NULL" },
	    { "l", SQL_FINAL_H, "a.state IN ('reported', 'reviewed')" } };
	int	 k;

	sq_start(q, 0, NULL);
	sq_sql(q, "WITH e AS (SELECT " SQL_FIRST_H " AS fh, " SQL_FINAL_H
	    " AS lh FROM applications a WHERE ");
	sq_where(q, f, ids);
	/* The whole months come from stats_turn; no date range: all. */
	sq_sql(q, " AND NOT (true");
	if (*m1 != '\0') {
		sq_sql(q, " AND a.submitted_at >= ");
		sq_ref(q, SLOT_M1, m1, "::date");
	}
	if (*m2 != '\0') {
		sq_sql(q, " AND a.submitted_at < ");
		sq_ref(q, SLOT_M2, m2, "::date");
	}
	sq_sql(q, ")),"
	    " h AS (SELECT s.kind, s.bucket, s.n FROM stats_turn s WHERE ");
	sq_where_kept(q, f, ids);
	if (*m1 != '\0') {
		sq_sql(q, " AND s.month >= ");
		sq_ref(q, SLOT_M1, m1, "::date");
	}
	if (*m2 != '\0') {
		sq_sql(q, " AND s.month < ");
		sq_ref(q, SLOT_M2, m2, "::date");
	}
	sq_sql(q, " UNION ALL SELECT 'f', floor(e.fh)::integer, 1 FROM e"
	    "  WHERE e.fh IS NOT NULL"
	    " UNION ALL SELECT 'l', floor(e.lh)::integer, 1 FROM e"
	    "  WHERE e.lh IS NOT NULL),"
	    " b AS (SELECT h.kind, h.bucket, sum(h.n) AS n FROM h"
	    "  GROUP BY h.kind, h.bucket HAVING sum(h.n) <> 0),"
	    " c AS (SELECT b.kind, b.bucket, b.n,"
	    "  sum(b.n) OVER (PARTITION BY b.kind ORDER BY b.bucket) - b.n"
	    "   AS below, sum(b.n) OVER (PARTITION BY b.kind) AS total FROM b),"
	    " r AS (SELECT k.kind, k.o, p.i, p.p, t.total,"
	    "  floor(p.p * (t.total - 1)::float8)::bigint AS lo"
	    "  FROM (VALUES ('f', 1), ('l', 2)) k(kind, o)"
	    "  CROSS JOIN (VALUES (1, 0.5::float8), (2, 0.9::float8)) p(i, p)"
	    "  LEFT JOIN (SELECT DISTINCT c.kind, c.total FROM c) t"
	    "   ON t.kind = k.kind),"
	    " x AS (SELECT r.*, c.bucket, (r.lo - c.below)::bigint AS off"
	    "  FROM r LEFT JOIN c ON c.kind = r.kind AND c.below <= r.lo"
	    "   AND r.lo < c.below + c.n),"
	    " v AS (SELECT x.*, CASE x.kind");
	for (k = 0; k < 2; k++) {
		sq_sql(q, " WHEN '");
		sq_sql(q, kinds[k][0]);
		sq_sql(q, "' THEN (SELECT array_agg(y.v ORDER BY y.v) FROM"
		    " (SELECT ");
		sq_sql(q, kinds[k][1]);
		sq_sql(q, " AS v FROM applications a WHERE ");
		sq_sql(q, kinds[k][2]);
		sq_sql(q, " AND ");
		sq_where(q, f, ids);
		sq_sql(q, " AND ");
		sq_sql(q, kinds[k][1]);
		sq_sql(q, " >= x.bucket ORDER BY ");
		sq_sql(q, kinds[k][1]);
		sq_sql(q, " OFFSET x.off LIMIT 2) y)");
	}
	/* percentile_cont's interpolation, in its order of operations. */
	sq_sql(q, " END AS vals FROM x WHERE x.bucket IS NOT NULL),"
	    " w AS (SELECT r.kind, r.o, r.i, coalesce(r.total, 0)::bigint AS n,"
	    "  CASE WHEN cardinality(v.vals) < 2 THEN v.vals[1]"
	    "  ELSE v.vals[1] + (r.p * (r.total - 1)::float8 - r.lo)"
	    "   * (v.vals[2] - v.vals[1]) END AS val"
	    "  FROM r LEFT JOIN v ON v.kind = r.kind AND v.i = r.i)"
	    " SELECT CASE w.kind WHEN 'f' THEN '提交→首次报告'"
	    "  ELSE '提交→最终报告' END, w.n,"
	    " round((max(w.val) FILTER (WHERE w.i = 1))::numeric, 2),"
	    " round((max(w.val) FILTER (WHERE w.i = 2))::numeric, 2)"
	    " FROM w GROUP BY w.kind, w.o, w.n ORDER BY w.o");
}

/*
 * The groups that are counts, over c (sq_counts): the same columns, types
 * and order as group_sql's over f.  NULL: the group reads f.
 */
static const char *const count_sql[STATS__MAX] = {
	[STATS_INST] =
	    "SELECT i.name, c.n, c.p, c.rg, c.ir, c.rd, c.rv, c.ca, c.rt"
	    " FROM (SELECT c.inst, sum(c.n)::bigint AS n,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'pending'), 0)::bigint"
	    "  AS p,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'reporting'), 0)::bigint"
	    "  AS rg,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'in_review'), 0)::bigint"
	    "  AS ir,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'reported'), 0)::bigint"
	    "  AS rd,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'reviewed'), 0)::bigint"
	    "  AS rv,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'cancelled'), 0)::bigint"
	    "  AS ca,"
	    " coalesce(sum(c.n) FILTER (WHERE c.state = 'returned'), 0)::bigint"
	    "  AS rt"
	    " FROM c GROUP BY c.inst) c JOIN institutions i ON i.id = c.inst"
	    " ORDER BY c.n DESC, i.name",
	[STATS_TIME] =
	    "SELECT to_char(d, 'YYYY-MM-DD'), n, done"
	    " FROM (SELECT date_trunc($1::text, c.day::timestamp) AS d,"
	    " sum(c.n)::bigint AS n, coalesce(sum(c.n) FILTER (WHERE c.state IN"
	    " ('reported', 'reviewed')), 0)::bigint AS done FROM c GROUP BY 1) t"
	    " ORDER BY d",
	[STATS_RATE] =
	    "WITH s AS (SELECT coalesce(sum(c.n), 0)::bigint AS n,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.ret), 0)::bigint AS ret,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.state = 'cancelled'), 0)::bigint"
	    "   AS can,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.assist), 0)::bigint AS asst,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.state IN ('reported',"
	    "   'reviewed')), 0)::bigint AS done,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.state IN ('reported',"
	    "   'reviewed') AND c.aiu), 0)::bigint AS aiu FROM c)"
	    " SELECT v.k, v.c, v.b, round(v.c::numeric / nullif(v.b, 0), 4)"
	    " FROM s, LATERAL (VALUES ('退回', s.ret, s.n), ('取消', s.can, s.n),"
	    " ('请求协助', s.asst, s.n), ('报告引用AI文本', s.aiu, s.done)) v(k, c, b)",
	[STATS_DOCTOR] =
	    "WITH p AS (SELECT c.author, c.reviewer,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.state IN ('in_review',"
	    "   'reported', 'reviewed')), 0)::bigint AS r,"
	    "  coalesce(sum(c.n) FILTER (WHERE c.state = 'reviewed'), 0)::bigint"
	    "   AS v"
	    "  FROM c WHERE c.author IS NOT NULL OR c.reviewer IS NOT NULL"
	    "  GROUP BY c.author, c.reviewer)"
	    " SELECT u.display_name, u.login, i.name, sum(w.r), sum(w.v)"
	    " FROM p CROSS JOIN LATERAL (VALUES (p.author, p.r, 0::bigint),"
	    "  (p.reviewer, 0::bigint, p.v)) w(uid, r, v)"
	    " JOIN users u ON u.id = w.uid"
	    " JOIN institutions i ON i.id = u.institution_id"
	    " GROUP BY u.id, u.display_name, u.login, i.name"
	    " HAVING sum(w.r) + sum(w.v) > 0"
	    " ORDER BY sum(w.r) + sum(w.v) DESC, u.login",
};

/* The figure query of each group, over f (sq_base). */
static const char *const group_sql[STATS__MAX] = {
	/* Counted by institution first, then named: the join is of a few
	 * rows, not of every application. */
	[STATS_INST] =
	    "SELECT i.name, c.n, c.p, c.rg, c.ir, c.rd, c.rv, c.ca, c.rt"
	    " FROM (SELECT f.inst, count(*) AS n,"
	    " count(*) FILTER (WHERE f.state = 'pending') AS p,"
	    " count(*) FILTER (WHERE f.state = 'reporting') AS rg,"
	    " count(*) FILTER (WHERE f.state = 'in_review') AS ir,"
	    " count(*) FILTER (WHERE f.state = 'reported') AS rd,"
	    " count(*) FILTER (WHERE f.state = 'reviewed') AS rv,"
	    " count(*) FILTER (WHERE f.state = 'cancelled') AS ca,"
	    " count(*) FILTER (WHERE f.state = 'returned') AS rt"
	    " FROM f GROUP BY f.inst) c JOIN institutions i ON i.id = c.inst"
	    " ORDER BY c.n DESC, i.name",
	[STATS_TIME] =
	    "SELECT to_char(d, 'YYYY-MM-DD'), n, done"
	    " FROM (SELECT date_trunc($1::text, f.submitted_at) AS d,"
	    " count(*) AS n, count(*) FILTER (WHERE f.state IN ('reported',"
	    " 'reviewed')) AS done FROM f GROUP BY 1) t ORDER BY d",
	[STATS_TURN] =
	    /* date_part() is double precision; extract() is numeric, whose
	     * sort made this the slowest figure (2.2 s instead of 0.9 s for
	     * a million applications).  Both percentiles of a column from
	     * one sort of it. */
	    "WITH t AS (SELECT date_part('epoch', first_at - submitted_at)"
	    "  / 3600 AS fh, date_part('epoch', final_at - submitted_at) / 3600"
	    "  AS lh"
	    "  FROM f),"
	    " s AS (SELECT count(fh) AS nf,"
	    "  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY fh)"
	    "   AS pf, count(lh) AS nl,"
	    "  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY lh)"
	    "   AS pl FROM t)"
	    " SELECT v.* FROM s, LATERAL (VALUES"
	    " ('提交→首次报告', s.nf, round(s.pf[1]::numeric, 2),"
	    "  round(s.pf[2]::numeric, 2)),"
	    " ('提交→最终报告', s.nl, round(s.pl[1]::numeric, 2),"
	    "  round(s.pl[2]::numeric, 2))) v",
	[STATS_RATE] =
	    "WITH s AS (SELECT count(*) AS n,"
	    "  count(*) FILTER (WHERE f.ret) AS ret,"
	    "  count(*) FILTER (WHERE f.state = 'cancelled') AS can,"
	    "  count(*) FILTER (WHERE f.assist) AS asst,"
	    "  count(*) FILTER (WHERE f.state IN ('reported', 'reviewed'))"
	    "   AS done,"
	    "  count(*) FILTER (WHERE f.state IN ('reported', 'reviewed') AND"
	    "   f.aiu) AS aiu FROM f)"
	    " SELECT v.k, v.c, v.b, round(v.c::numeric / nullif(v.b, 0), 4)"
	    " FROM s, LATERAL (VALUES ('退回', s.ret, s.n), ('取消', s.can, s.n),"
	    " ('请求协助', s.asst, s.n), ('报告引用AI文本', s.aiu, s.done)) v(k, c, b)",
	/* Counted by (author, reviewer) first, a few pairs, then each
	 * pair's reports to its author and reviews to its reviewer. */
	[STATS_DOCTOR] =
	    "WITH p AS (SELECT f.author, f.reviewer,"
	    "  count(*) FILTER (WHERE f.state IN ('in_review', 'reported',"
	    "   'reviewed')) AS r,"
	    "  count(*) FILTER (WHERE f.state = 'reviewed') AS v"
	    "  FROM f WHERE f.author IS NOT NULL OR f.reviewer IS NOT NULL"
	    "  GROUP BY f.author, f.reviewer)"
	    " SELECT u.display_name, u.login, i.name, sum(w.r), sum(w.v)"
	    " FROM p CROSS JOIN LATERAL (VALUES (p.author, p.r, 0::bigint),"
	    "  (p.reviewer, 0::bigint, p.v)) w(uid, r, v)"
	    " JOIN users u ON u.id = w.uid"
	    " JOIN institutions i ON i.id = u.institution_id"
	    " GROUP BY u.id, u.display_name, u.login, i.name"
	    " HAVING sum(w.r) + sum(w.v) > 0"
	    " ORDER BY sum(w.r) + sum(w.v) DESC, u.login",
	/* The jobs of the series of the filtered applications; $1 is the
	 * reader filter, or NULL for every reader, $2 the error of a job
	 * whose reader is not deployed (READER_UNDEPLOYED): such jobs are
	 * no analysis and are left out.  A report's use of AI text is
	 * credited to the readers that produced a result for its
	 * application, out of the applications they did. */
	[STATS_AI] =
	    "WITH j AS (SELECT jb.id, jb.reader, jb.state, f.id AS app,"
	    "  EXISTS (SELECT 1 FROM ai_results r JOIN ai_lesions l"
	    "   ON l.result_id = r.id WHERE r.job_id = jb.id) AS pos, f.aiu"
	    "  FROM f JOIN application_studies s"
	    "  ON s.application_id = f.id"
	    "  JOIN series se ON se.study_id = s.study_id"
	    "  JOIN ai_jobs jb ON jb.series_id = se.id"
	    "  WHERE ($1::text IS NULL OR jb.reader = $1::text)"
	    "  AND NOT (jb.state = 'dead' AND strpos(jb.error, $2::text) > 0)),"
	    " g AS (SELECT reader, count(DISTINCT id) AS jobs,"
	    "  count(DISTINCT id) FILTER (WHERE state = 'done') AS done,"
	    "  count(DISTINCT id) FILTER (WHERE state IN ('failed', 'dead'))"
	    "   AS failed,"
	    "  count(DISTINCT id) FILTER (WHERE state = 'done' AND pos) AS pos,"
	    "  count(DISTINCT app) FILTER (WHERE aiu AND state = 'done')"
	    "   AS aiu,"
	    "  count(DISTINCT app) FILTER (WHERE state = 'done') AS apps"
	    "  FROM j GROUP BY reader)"
	    " SELECT reader, jobs, done, failed,"
	    " round(failed::numeric / nullif(jobs, 0), 4), pos,"
	    " round(pos::numeric / nullif(done, 0), 4), aiu,"
	    " round(aiu::numeric / nullif(apps, 0), 4)"
	    " FROM g ORDER BY jobs DESC, reader",
};

static PGresult *
sq_exec(struct sq *q, PGconn *c, const char *who)
{
	PGresult	*res = NULL;

	if (!q->err)
		res = db_execv(who, c, q->b.data, q->n, q->p);
	else
		log_error("%s: statement too long", who);
	buf_free(&q->b);
	return res;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

int
stats_run(PGconn *c, const struct stats_filter *f, struct stats *s)
{
	struct sq	 q;
	PGresult	*r;
	const char	*p[2];
	const char	*gs;
	char		*ids = NULL, m1[16], m2[16];
	int		 g, own, counted;

	memset(s, 0, sizeof(*s));
	/* The figures are read in this transaction, or in the caller's. */
	own = PQtransactionStatus(c) == PQTRANS_IDLE;
	if (own && db_cmd(c, "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0) == -1)
		return -1;
	/*
	 * Compiling these short scans costs more than it saves.  Memory:
	 * 128MB of work_mem (hashes at twice that) took the backend to 385
	 * MiB for the province at a million applications; at 12MB, hashes
	 * no larger, the medians' sorts spill to disk and it stays under
	 * 64 MiB, for this transaction only.  The covering index is read
	 * from the cache: random reads of it cost what sequential ones do,
	 * and at the default cost the planner scans the whole table (four
	 * times the index's size) instead.
	 */
	/* The days of the counts are of stats_zone(); f's bounds and time
	 * buckets are taken in the same zone. */
	if (own && db_cmd(c, "SELECT set_config('TimeZone', stats_zone(),"
	    " true)", 0) == -1)
		goto fail;
	if (own && (db_cmd(c, "SET LOCAL jit = off", 0) == -1 ||
	    db_cmd(c, "SET LOCAL work_mem = '12MB'", 0) == -1 ||
	    db_cmd(c, "SET LOCAL hash_mem_multiplier = 1", 0) == -1 ||
	    db_cmd(c, "SET LOCAL random_page_cost = 1.1", 0) == -1))
		goto fail;
	if ((r = db_execv(__func__, c, SQL_SCOPE_IDS, 1, &f->scope)) == NULL)
		goto fail;
	ids = strdup(db_val(r, 0, 0));
	PQclear(r);
	if (ids == NULL)
		goto fail;
	whole_months(f->from, f->to, m1, m2);
	for (g = 0; g < STATS__MAX; g++) {
		p[0] = g == STATS_TIME ? (f->grain != NULL ? f->grain :
		    "day") : g == STATS_AI ? f->reader : NULL;
		p[1] = READER_UNDEPLOYED;
		/* Kept counts serve every group but AI阅片, unless the
		 * filter names a reader (the counts do not know the jobs). */
		counted = (count_sql[g] != NULL || g == STATS_TURN) &&
		    f->reader == NULL && !f->raw;
		if (counted && g == STATS_TURN)
			sq_turn(&q, f, ids, m1, m2);
		else {
			if (counted)
				sq_counts(&q, f, ids, g == STATS_TIME ? 1 : 0,
				    p);
			else
				sq_base(&q, f, ids, g == STATS_TIME ? 1 :
				    g == STATS_AI ? 2 : 0, p);
			gs = counted ? count_sql[g] : group_sql[g];
			/* A figure query of CTEs of its own continues the
			 * WITH. */
			if (strncmp(gs, "WITH ", 5) == 0) {
				sq_sql(&q, ",");
				sq_sql(&q, gs + 4);
			} else
				sq_sql(&q, gs);
		}
		/*
		 * The medians' two sorts of a million values each fit in
		 * 32MB and take two thirds of the time they take on disk;
		 * the backend stays under 64 MiB (tests/bench/stats.sh).
		 * The planner takes the time buckets, an expression of the
		 * submission time, for as many groups as applications, and
		 * sorts a million rows to group them into a few hundred:
		 * hashing them is cheaper.
		 */
		if (own && g == STATS_TURN && !counted && db_cmd(c,
		    "SET LOCAL work_mem = '32MB'", 0) == -1)
			goto fail;
		if (own && g == STATS_TIME && !counted && db_cmd(c,
		    "SET LOCAL enable_sort = off", 0) == -1)
			goto fail;
		if ((s->res[g] = sq_exec(&q, c, __func__)) == NULL)
			goto fail;
		if (own && (g == STATS_TURN || g == STATS_TIME) && (db_cmd(c,
		    "SET LOCAL work_mem = '12MB'", 0) == -1 || db_cmd(c,
		    "SET LOCAL enable_sort = on", 0) == -1))
			goto fail;
	}
	free(ids);
	ids = NULL;
	if (own && db_commit(c) == -1)
		goto fail;
	r = db_exec(c, "SELECT (SELECT name FROM institutions"
	    " WHERE id = $1::bigint),"
	    " (SELECT name FROM institutions WHERE id = $2::bigint),"
	    " (SELECT name FROM alliances WHERE id = $3::bigint),"
	    " coalesce((SELECT level = 'province' FROM institutions"
	    " WHERE id = $1::bigint), false)", 3, f->scope, f->hospital,
	    f->alliance);
	if (r == NULL)
		goto fail;
	s->scope_name = dup_or_null(db_val(r, 0, 0));
	s->hospital_name = dup_or_null(db_val(r, 0, 1));
	s->alliance_name = dup_or_null(db_val(r, 0, 2));
	s->province = db_bool(r, 0, 3);
	PQclear(r);
	return 0;
fail:
	free(ids);
	if (own)
		db_rollback(c);
	stats_free(s);
	return -1;
}

void
stats_free(struct stats *s)
{
	int	 g;

	for (g = 0; g < STATS__MAX; g++) {
		PQclear(s->res[g]);
		s->res[g] = NULL;
	}
	free(s->scope_name);
	free(s->hospital_name);
	free(s->alliance_name);
	s->scope_name = s->hospital_name = s->alliance_name = NULL;
}

const char *
stats_cell(const struct stats *s, enum stats_group g, int row, int col,
    char *buf, size_t bufsz)
{
	const char	*v = db_val(s->res[g], row, col);
	int		 k;

	switch (stats_groups[g].cols[col].type) {
	case STATS_T_PCT:
		if (*v == '\0')
			return "-";
		(void)snprintf(buf, bufsz, "%.1f%%", strtod(v, NULL) * 100);
		return buf;
	case STATS_T_HOURS:
		if (*v == '\0')
			return "-";
		(void)snprintf(buf, bufsz, "%.2f", strtod(v, NULL));
		return buf;
	case STATS_T_READER:
		k = reader_lookup(v);
		return k >= 0 ? readers[k].zh : v;
	default:
		return v;
	}
}

static const char *
word_zh(const struct model_name *names, int n, const char *code)
{
	int	 i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(names[i].code, code) == 0)
			return names[i].zh;
	return code;
}

int
stats_describe(const struct stats *s, const struct stats_filter *f,
    struct stats_kv out[12])
{
	int		 n = 0, k;
	const char	*g;

#define KV(l, v) do {							\
	out[n].label = (l);						\
	out[n].value = (v) != NULL ? (v) : "全部";			\
	n++;								\
} while (0)
	KV("统计范围", s->scope_name != NULL ? (s->province ?
	    "全省（全部机构）" : s->scope_name) : NULL);
	KV("开始日期", f->from);
	KV("结束日期", f->to);
	KV("申请机构", s->hospital_name);
	KV("医联体", s->alliance_name);
	KV("检查类型", f->exam);
	k = f->reader != NULL ? reader_lookup(f->reader) : -1;
	KV("AI阅片", k >= 0 ? readers[k].zh : f->reader);
	KV("诊断模式", word_zh(app_mode_names, MODE__MAX, f->mode));
	KV("状态", word_zh(app_state_names, APP_STATE__MAX, f->status));
	g = f->grain != NULL ? f->grain : "day";
	KV("时间粒度", strcmp(g, "week") == 0 ? "周" :
	    strcmp(g, "month") == 0 ? "月" : "日");
#undef KV
	return n;
}

PGresult *
stats_choices(PGconn *c, const char *scope)
{
	return db_exec(c, SQL_SCOPE
	    " SELECT 'i', i.id, i.name FROM institutions i"
	    "  WHERE i.id IN (SELECT id FROM scope)"
	    " UNION ALL SELECT 'a', al.id, al.name FROM alliances al"
	    "  WHERE EXISTS (SELECT 1 FROM alliance_members m"
	    "   WHERE m.alliance_id = al.id AND m.institution_id IN"
	    "   (SELECT id FROM scope))"
	    " ORDER BY 1 DESC, 2", 1, scope);
}

char *
stats_filter_json(const struct stats_filter *f)
{
	json_t	*o;
	char	*s;

	if ((o = json_object()) == NULL)
		return NULL;
#define J(k, v) do {							\
	if ((v) != NULL)						\
		(void)json_object_set_new(o, (k), json_string(v));	\
} while (0)
	J("scope", f->scope);
	J("from", f->from);
	J("to", f->to);
	J("hospital", f->hospital);
	J("alliance", f->alliance);
	J("exam_type", f->exam);
	J("reader", f->reader);
	J("mode", f->mode);
	J("status", f->status);
	J("grain", f->grain != NULL ? f->grain : "day");
#undef J
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Formats of the workbook. */
struct xfmt {
	lxw_format	*head, *text, *num, *hours, *pct, *date, *title;
};

static lxw_datetime
to_datetime(const char *v)
{
	lxw_datetime	 d;

	memset(&d, 0, sizeof(d));
	if (sscanf(v, "%d-%d-%d", &d.year, &d.month, &d.day) != 3)
		d.year = 1900, d.month = 1, d.day = 1;
	return d;
}

/* One figure group as a sheet: header row, rows, frozen header,
 * autofilter, widths and, for some groups, a native chart. */
static int
xlsx_group(lxw_workbook *wb, const struct stats *s, enum stats_group g,
    const struct xfmt *x)
{
	const struct stats_group_def *gd = &stats_groups[g];
	lxw_worksheet	*ws;
	lxw_chart	*ch;
	lxw_chart_series *se;
	lxw_datetime	 dt;
	const char	*v;
	int		 row, col, n = PQntuples(s->res[g]), k;

	if ((ws = workbook_add_worksheet(wb, gd->name)) == NULL)
		return -1;
	for (col = 0; col < gd->ncols; col++) {
		(void)worksheet_set_column(ws, (lxw_col_t)col, (lxw_col_t)col,
		    gd->cols[col].width, NULL);
		(void)worksheet_write_string(ws, 0, (lxw_col_t)col,
		    gd->cols[col].head, x->head);
	}
	(void)worksheet_freeze_panes(ws, 1, 0);
	(void)worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1),
	    (lxw_col_t)(gd->ncols - 1));
	for (row = 0; row < n; row++) {
		for (col = 0; col < gd->ncols; col++) {
			v = db_val(s->res[g], row, col);
			if (*v == '\0' && gd->cols[col].type != STATS_T_TEXT)
				continue;	/* an undefined ratio: blank */
			switch (gd->cols[col].type) {
			case STATS_T_INT:
				(void)worksheet_write_number(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col,
				    strtod(v, NULL), x->num);
				break;
			case STATS_T_HOURS:
				(void)worksheet_write_number(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col,
				    strtod(v, NULL), x->hours);
				break;
			case STATS_T_PCT:
				(void)worksheet_write_number(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col,
				    strtod(v, NULL), x->pct);
				break;
			case STATS_T_DATE:
				dt = to_datetime(v);
				(void)worksheet_write_datetime(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col, &dt,
				    x->date);
				break;
			case STATS_T_READER:
				k = reader_lookup(v);
				(void)worksheet_write_string(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col,
				    k >= 0 ? readers[k].zh : v, x->text);
				break;
			default:
				(void)worksheet_write_string(ws,
				    (lxw_row_t)(row + 1), (lxw_col_t)col, v,
				    x->text);
				break;
			}
		}
	}
	if (gd->chart == 0 || n == 0)
		return 0;
	ch = workbook_add_chart(wb, gd->chart == 1 ? LXW_CHART_COLUMN :
	    LXW_CHART_LINE);
	if (ch == NULL)
		return -1;
	for (col = 1; col < (gd->chart == 1 ? 2 : gd->ncols); col++) {
		if ((se = chart_add_series(ch, NULL, NULL)) == NULL)
			return -1;
		chart_series_set_categories(se, gd->name, 1, 0, (lxw_row_t)n,
		    0);
		chart_series_set_values(se, gd->name, 1, (lxw_col_t)col,
		    (lxw_row_t)n, (lxw_col_t)col);
		chart_series_set_name_range(se, gd->name, 0, (lxw_col_t)col);
	}
	chart_title_set_name(ch, gd->chart == 1 ? "各机构申请数" : "申请量趋势");
	chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
	return worksheet_insert_chart(ws, 1, (lxw_col_t)(gd->ncols + 1), ch) ==
	    LXW_NO_ERROR ? 0 : -1;
}

int
stats_xlsx(const struct stats *s, const struct stats_filter *f,
    const char *exporter, const char *path, const char *tmpdir)
{
	lxw_workbook_options opt;
	lxw_workbook	*wb;
	lxw_worksheet	*ws;
	struct xfmt	 x;
	struct stats_kv	 kv[12];
	char		 when[64];
	time_t		 now = time(NULL);
	struct tm	 tm;
	lxw_error	 e;
	int		 g, i, n;

	memset(&opt, 0, sizeof(opt));
	opt.constant_memory = LXW_TRUE;
	opt.tmpdir = (char *)(uintptr_t)tmpdir;
	if ((wb = workbook_new_opt(path, &opt)) == NULL) {
		log_error("%s: cannot create %s", __func__, path);
		return -1;
	}
	x.head = workbook_add_format(wb);
	format_set_bold(x.head);
	format_set_bg_color(x.head, 0xDDEBF7);
	format_set_border(x.head, LXW_BORDER_THIN);
	format_set_text_wrap(x.head);
	x.text = workbook_add_format(wb);
	x.num = workbook_add_format(wb);
	format_set_num_format(x.num, "#,##0");
	x.hours = workbook_add_format(wb);
	format_set_num_format(x.hours, "0.00");
	x.pct = workbook_add_format(wb);
	format_set_num_format(x.pct, "0.0%");
	x.date = workbook_add_format(wb);
	format_set_num_format(x.date, "yyyy-mm-dd");
	x.title = workbook_add_format(wb);
	format_set_bold(x.title);

	for (g = 0; g < STATS__MAX; g++)
		if (xlsx_group(wb, s, (enum stats_group)g, &x) == -1) {
			log_error("%s: sheet %s failed", __func__,
			    stats_groups[g].name);
			break;
		}
	if ((ws = workbook_add_worksheet(wb, "筛选条件")) != NULL) {
		(void)worksheet_set_column(ws, 0, 0, 14, NULL);
		(void)worksheet_set_column(ws, 1, 1, 30, NULL);
		(void)worksheet_write_string(ws, 0, 0, "项目", x.head);
		(void)worksheet_write_string(ws, 0, 1, "值", x.head);
		(void)worksheet_freeze_panes(ws, 1, 0);
		n = stats_describe(s, f, kv);
		for (i = 0; i < n; i++) {
			(void)worksheet_write_string(ws, (lxw_row_t)(i + 1), 0,
			    kv[i].label, x.title);
			(void)worksheet_write_string(ws, (lxw_row_t)(i + 1), 1,
			    kv[i].value, x.text);
		}
		(void)localtime_r(&now, &tm);
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		(void)worksheet_write_string(ws, (lxw_row_t)(n + 1), 0,
		    "导出时间", x.title);
		(void)worksheet_write_string(ws, (lxw_row_t)(n + 1), 1, when,
		    x.text);
		(void)worksheet_write_string(ws, (lxw_row_t)(n + 2), 0,
		    "导出人", x.title);
		(void)worksheet_write_string(ws, (lxw_row_t)(n + 2), 1,
		    exporter != NULL ? exporter : "", x.text);
	}
	if (g < STATS__MAX || ws == NULL) {
		(void)workbook_close(wb);
		return -1;
	}
	if ((e = workbook_close(wb)) != LXW_NO_ERROR) {
		log_error("%s: %s: %s", __func__, path, lxw_strerror(e));
		return -1;
	}
	return 0;
}

int
stats_xlsx_failed(const char *why, const char *exporter, const char *path,
    const char *tmpdir)
{
	lxw_workbook_options opt;
	lxw_workbook	*wb;
	lxw_worksheet	*ws;
	lxw_format	*bold;
	char		 when[64];
	time_t		 now = time(NULL);
	struct tm	 tm;
	lxw_error	 e;

	memset(&opt, 0, sizeof(opt));
	opt.constant_memory = LXW_TRUE;
	opt.tmpdir = (char *)(uintptr_t)tmpdir;
	if ((wb = workbook_new_opt(path, &opt)) == NULL) {
		log_error("%s: cannot create %s", __func__, path);
		return -1;
	}
	bold = workbook_add_format(wb);
	format_set_bold(bold);
	if ((ws = workbook_add_worksheet(wb, "导出失败")) == NULL) {
		(void)workbook_close(wb);
		return -1;
	}
	(void)localtime_r(&now, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	(void)worksheet_set_column(ws, 0, 0, 12, NULL);
	(void)worksheet_set_column(ws, 1, 1, 60, NULL);
	(void)worksheet_write_string(ws, 0, 0, "导出失败", bold);
	(void)worksheet_write_string(ws, 0, 1, why, NULL);
	(void)worksheet_write_string(ws, 1, 0, "导出时间", bold);
	(void)worksheet_write_string(ws, 1, 1, when, NULL);
	(void)worksheet_write_string(ws, 2, 0, "导出人", bold);
	(void)worksheet_write_string(ws, 2, 1, exporter != NULL ? exporter :
	    "", NULL);
	if ((e = workbook_close(wb)) != LXW_NO_ERROR) {
		log_error("%s: %s: %s", __func__, path, lxw_strerror(e));
		return -1;
	}
	return 0;
}
