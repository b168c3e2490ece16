/*
 * stats.h - the figures of 统计 and their Excel workbook.
 *
 * Shared by the 统计 page of zhiying-web and the zhiying-stats command.
 *
 * Scope: what a manager (role stats) may see is decided from the
 * manager's institution alone.  A province-level institution sees every
 * application; any other sees the applications submitted by itself and by
 * every institution below it in its alliances, following superior_id
 * down (a recursive CTE over alliance_members).  The filter only narrows
 * that scope: an institution or alliance outside it yields no rows.  An
 * application belongs to the scope of its applicant institution.
 *
 * Every value reaches the database as a parameter.  Results are PGresults
 * owned by struct stats until stats_free().
 */
#ifndef ZY_STATS_H
#define ZY_STATS_H

#include <libpq-fe.h>

/* What to count: each member is NULL when not set; values are validated
 * by the caller (ids are digits, dates YYYY-MM-DD, codes from their sets). */
struct stats_filter {
	const char	*scope;		/* the manager's institution id */
	const char	*from, *to;	/* submitted_at, inclusive days */
	const char	*hospital;	/* applicant institution id */
	const char	*alliance;	/* alliance id (applicant a member) */
	const char	*exam;		/* CT, DR */
	const char	*reader;	/* an AI reader code */
	const char	*mode;		/* self, superior */
	const char	*status;	/* a state code */
	const char	*grain;		/* day, week, month (NULL: day) */
	/* Count every figure from the applications' rows, not from the
	 * daily counts (sql/040): the reference of the tests and benches. */
	int		 raw;
};

/* The figure groups, in the order of the page and of the workbook. */
enum stats_group {
	STATS_INST,		/* 按机构: applications by institution and state */
	STATS_TIME,		/* 按时间: volume per day, week or month */
	STATS_TURN,		/* 时效: turnaround medians and P90 */
	STATS_RATE,		/* 比率: returned, cancelled, assistance, AI text */
	STATS_DOCTOR,		/* 医生工作量 */
	STATS_AI,		/* AI阅片 */
	STATS__MAX
};

enum stats_type {
	STATS_T_TEXT,
	STATS_T_INT,
	STATS_T_HOURS,		/* decimal hours */
	STATS_T_PCT,		/* a ratio 0..1; NULL when the base is 0 */
	STATS_T_DATE,		/* YYYY-MM-DD */
	STATS_T_READER		/* an AI reader code, shown by its name */
};

struct stats_col {
	const char	*head;		/* Chinese header */
	enum stats_type	 type;
	double		 width;		/* Excel column width */
};

struct stats_group_def {
	const char	*key;		/* "inst", "time", ... */
	const char	*name;		/* Chinese: sheet and section title */
	int		 ncols;
	struct stats_col cols[10];
	int		 bar;		/* column drawn as a bar, or -1 */
	int		 chart;		/* 0 none, 1 column chart, 2 line chart */
};

extern const struct stats_group_def stats_groups[STATS__MAX];

struct stats {
	PGresult	*res[STATS__MAX];
	/* Names for the filter sheet: scope, hospital, alliance. */
	char		*scope_name, *hospital_name, *alliance_name;
	int		 province;	/* the scope is the whole province */
};

/* Run every figure query for f into s.  Returns 0, or -1 (logged) when a
 * query failed; s is then freed.  Free with stats_free(). */
int		 stats_run(PGconn *, const struct stats_filter *f,
		    struct stats *s);
void		 stats_free(struct stats *);

/* The text shown for cell (row, col) of group g: reader names, percents
 * with one decimal ("12.5%"), hours with two, "-" for an undefined ratio
 * or median.  Returns static storage or the result's own; buf is used for
 * formatted values (at least 32 bytes). */
const char	*stats_cell(const struct stats *, enum stats_group g, int row,
		    int col, char *buf, size_t bufsz);

/* The filter as (label, value) pairs in Chinese, for the page and the
 * workbook; n receives the count (at most 12).  Static or s storage. */
struct stats_kv {
	const char	*label;
	const char	*value;
};
int		 stats_describe(const struct stats *, const struct stats_filter *,
		    struct stats_kv out[12]);

/*
 * The institutions (id, name) and alliances (id, name) a manager of
 * institution scope may filter on.  Returns a result (PQclear() it) of
 * rows (kind 'i' or 'a', id, name), or NULL (logged).
 */
PGresult	*stats_choices(PGconn *, const char *scope);

/*
 * Write the workbook: one sheet per figure group, with native charts for
 * the time series and the per-institution counts, plus 筛选条件 with the
 * filter, the exporter and the export time (now, local).  constant_memory
 * mode with tmpdir for its temporary files (NULL: the system's).  Returns
 * 0, or -1 (logged) on failure; a partial file may remain at path.
 */
int		 stats_xlsx(const struct stats *, const struct stats_filter *,
		    const char *exporter, const char *path, const char *tmpdir);

/*
 * The workbook of an export whose figures could not be computed after its
 * download had started: one sheet, 导出失败, saying why (Chinese), when
 * and for whom; no figures.  Returns 0 or -1 (logged).
 */
int		 stats_xlsx_failed(const char *why, const char *exporter,
		    const char *path, const char *tmpdir);

/* The filter as a JSON object (for the audit log); malloc'd, or NULL. */
char		*stats_filter_json(const struct stats_filter *);

#endif /* ZY_STATS_H */
