/*
 * stats.c - 统计: the managers' figures and their Excel export.
 *
 * The scope is the session's institution (see stats.h: a province-level
 * institution sees everything, any other itself and the institutions
 * below it in its alliances); the URL carries only the filter, which
 * narrows that scope and never widens it.  The figures are computed by
 * src/lib/stats.c, shared with the zhiying-stats command.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "pages.h"
#include "stats.h"
#include "workflow.h"

#define STATS_STYLE	"/static/stats.css"
#define STATS_SCRIPT	"/static/stats.js"

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* The filter from the URL's validated fields; invalid values are
 * dropped, so the page always answers. */
static void
filter_read(struct req *r, struct stats_filter *f, char *scope, size_t n)
{
	const char	*s;

	memset(f, 0, sizeof(*f));
	(void)snprintf(scope, n, "%lld", r->sess.acct.institution_id);
	f->scope = scope;
	f->from = nonempty(http_field(r, FIELD_FROM));
	f->to = nonempty(http_field(r, FIELD_TO));
	if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0) {
		s = f->from;
		f->from = f->to;
		f->to = s;
	}
	f->hospital = nonempty(http_field(r, FIELD_HOSPITAL));
	f->alliance = nonempty(http_field(r, FIELD_ALLIANCE));
	f->exam = nonempty(http_field(r, FIELD_EXAM_TYPE));
	f->reader = nonempty(http_field(r, FIELD_READER));
	f->mode = nonempty(http_field(r, FIELD_MODE));
	f->status = nonempty(http_field(r, FIELD_STATUS));
	f->grain = nonempty(http_field(r, FIELD_GRAIN));
}

/* The filter as a query string (no '?'), in the arena. */
static const char *
filter_qs(struct arena *a, const struct stats_filter *f)
{
	struct buf	 b;
	char		*s;
	const char	*out;

	buf_init(&b, 4096);
	http_qs_add(&b, "from", f->from);
	http_qs_add(&b, "to", f->to);
	http_qs_add(&b, "hospital", f->hospital);
	http_qs_add(&b, "alliance", f->alliance);
	http_qs_add(&b, "exam_type", f->exam);
	http_qs_add(&b, "reader", f->reader);
	http_qs_add(&b, "mode", f->mode);
	http_qs_add(&b, "status", f->status);
	http_qs_add(&b, "grain", f->grain);
	s = buf_take(&b);
	out = arena_strdup(a, s != NULL ? s : "");
	free(s);
	return out != NULL ? out : "";
}

static void
opt_add(struct tdict *d, const char *list, const char *value,
    const char *label, const char *cur)
{
	struct tdict	*o;

	if ((o = tdict_add(d, list)) == NULL)
		return;
	(void)tdict_set(o, "value", value);
	(void)tdict_set(o, "label", label);
	(void)tdict_bool(o, "sel", cur != NULL && strcmp(cur, value) == 0);
}

static void
page_options(struct req *r, struct tdict *d, const struct stats_filter *f,
    PGresult *ch)
{
	int	 i;

	for (i = 0; ch != NULL && i < PQntuples(ch); i++)
		opt_add(d, strcmp(db_val(ch, i, 0), "i") == 0 ?
		    "hospital_opts" : "alliance_opts", db_val(ch, i, 1),
		    db_val(ch, i, 2), strcmp(db_val(ch, i, 0), "i") == 0 ?
		    f->hospital : f->alliance);
	opt_add(d, "exam_opts", "CT", "CT", f->exam);
	opt_add(d, "exam_opts", "DR", "DR", f->exam);
	for (i = 0; i < READER__MAX; i++)
		opt_add(d, "reader_opts", readers[i].code, readers[i].zh,
		    f->reader);
	for (i = 0; i < MODE__MAX; i++)
		opt_add(d, "mode_opts", app_mode_names[i].code,
		    app_mode_names[i].zh, f->mode);
	for (i = 0; i < APP_STATE__MAX; i++)
		opt_add(d, "status_opts", app_state_names[i].code,
		    app_state_names[i].zh, f->status);
	opt_add(d, "grain_opts", "day", "按日", f->grain != NULL ? f->grain :
	    "day");
	opt_add(d, "grain_opts", "week", "按周", f->grain);
	opt_add(d, "grain_opts", "month", "按月", f->grain);
	(void)tdict_set(d, "from", f->from != NULL ? f->from : "");
	(void)tdict_set(d, "to", f->to != NULL ? f->to : "");
	(void)r;
}

/* One figure group as a section: headers, rows, cells and the bar of its
 * bar column (a class per 5% step of the largest value). */
static void
page_group(struct req *r, struct tdict *d, const struct stats *s,
    enum stats_group g)
{
	const struct stats_group_def *gd = &stats_groups[g];
	struct tdict	*gr, *h, *row, *c;
	char		 buf[64];
	double		 max = 0, v;
	int		 i, k, n = PQntuples(s->res[g]);

	if ((gr = tdict_add(d, "groups")) == NULL)
		return;
	(void)tdict_set(gr, "key", gd->key);
	(void)tdict_set(gr, "name", gd->name);
	(void)tdict_bool(gr, "has_bar", gd->bar >= 0);
	for (k = 0; k < gd->ncols; k++)
		if ((h = tdict_add(gr, "heads")) != NULL)
			(void)tdict_set(h, "head", gd->cols[k].head);
	if (gd->bar >= 0)
		for (i = 0; i < n; i++)
			if ((v = strtod(db_val(s->res[g], i, gd->bar),
			    NULL)) > max)
				max = v;
	for (i = 0; i < n; i++) {
		if ((row = tdict_add(gr, "rows")) == NULL)
			return;
		for (k = 0; k < gd->ncols; k++) {
			if ((c = tdict_add(row, "cells")) == NULL)
				return;
			(void)tdict_set(c, "v", arena_strdup(r->a,
			    stats_cell(s, g, i, k, buf, sizeof(buf))));
			(void)tdict_set(c, "cls", gd->cols[k].type ==
			    STATS_T_TEXT || gd->cols[k].type ==
			    STATS_T_READER ? "" : "num");
		}
		if (gd->bar >= 0) {
			v = strtod(db_val(s->res[g], i, gd->bar), NULL);
			(void)tdict_setf(row, "bar", "w%d", max > 0 ?
			    (int)(v / max * 20 + 0.5) * 5 : 0);
		}
	}
	(void)tdict_setf(gr, "ncols", "%d", gd->ncols + (gd->bar >= 0));
}

/*
 * 统计: the filter form, then every figure group as a table with bars,
 * and the 导出Excel link carrying the same filter.
 */
void
page_stats(struct req *r)
{
	struct stats_filter f;
	struct stats	 s;
	struct stats_kv	 kv[12];
	struct tdict	*d, *x;
	PGresult	*ch;
	char		 scope[32];
	const char	*qs;
	long long	 total = 0;
	int		 g, i, n;

	filter_read(r, &f, scope, sizeof(scope));
	if (stats_run(r->db, &f, &s) == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	ch = stats_choices(r->db, scope);
	if ((d = page_dict(r)) == NULL) {
		PQclear(ch);
		stats_free(&s);
		page_error(r, 500, "系统内部错误");
		return;
	}
	if ((x = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(x, "href", STATS_STYLE);
	if ((x = tdict_add(d, "scripts")) != NULL)
		(void)tdict_set(x, "src", STATS_SCRIPT);
	page_options(r, d, &f, ch);
	PQclear(ch);
	qs = filter_qs(r->a, &f);
	(void)tdict_set(d, "export_href", *qs != '\0' ?
	    arena_printf(r->a, "%s?%s", pages[PAGE_STATS_EXPORT].path, qs) :
	    pages[PAGE_STATS_EXPORT].path);
	n = stats_describe(&s, &f, kv);
	for (i = 0; i < n; i++)
		if ((x = tdict_add(d, "used")) != NULL) {
			(void)tdict_set(x, "label", kv[i].label);
			(void)tdict_set(x, "value", arena_strdup(r->a,
			    kv[i].value));
		}
	for (i = 0; i < PQntuples(s.res[STATS_INST]); i++)
		total += db_ll(s.res[STATS_INST], i, 1);
	(void)tdict_setf(d, "total", "%lld", total);
	for (g = 0; g < STATS__MAX; g++)
		page_group(r, d, &s, (enum stats_group)g);
	stats_free(&s);
	page_render(r, 200, "stats.html", d);
}

static void
add_header(struct req *r, const char *h)
{
	if (h != NULL && r->nhdrs < HTTP_MAXHDRS)
		r->hdrs[r->nhdrs++] = h;
}

/*
 * 导出Excel: the figures of the same filter as an .xlsx, audited as
 * stats_exported.  The headers go out at once, so that the download
 * starts while the figures are computed (seconds over a million
 * applications); the workbook is written in constant-memory mode into
 * the spool folder and streamed from there.  Should the database fail
 * after the download has started, the file received is a workbook that
 * says so (导出失败), never figures that are wrong or partial.
 */
void
page_stats_export(struct req *r)
{
	struct stats_filter f;
	struct stats	 s;
	struct audit	 au;
	char		 scope[32], path[1200], day[16], chunk[65536];
	char		*detail;
	const char	*dir;
	time_t		 now = time(NULL);
	struct tm	 tm;
	ssize_t		 got;
	int		 fd, rc;

	filter_read(r, &f, scope, sizeof(scope));
	detail = stats_filter_json(&f);
	memset(&au, 0, sizeof(au));
	au.actor_id = r->sess.acct.id;
	au.actor_login = r->sess.acct.login;
	au.institution_id = r->sess.acct.institution_id;
	au.action = "stats_exported";
	au.object_type = "stats";
	au.ip = r->ip;
	au.detail = detail;
	rc = audit_write(r->db, &au);
	free(detail);
	if (rc == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	dir = r->conf->scp_spool[0] != '\0' ? r->conf->scp_spool : "/tmp";
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/stats-XXXXXX", dir) >=
	    sizeof(path) || (fd = mkstemp(path)) == -1) {
		log_error("%s: %s: %s", __func__, path, strerror(errno));
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	(void)close(fd);
	(void)localtime_r(&now, &tm);
	(void)strftime(day, sizeof(day), "%Y%m%d", &tm);
	/* 统计 in UTF-8, percent-encoded. */
	add_header(r, arena_printf(r->a, "Content-Disposition: attachment;"
	    " filename=\"stats-%s.xlsx\";"
	    " filename*=UTF-8''%%E7%%BB%%9F%%E8%%AE%%A1-%s.xlsx\r\n", day, day));
	add_header(r, "Cache-Control: no-store\r\n");
	(void)http_open(r, 200, "application/vnd.openxmlformats-"
	    "officedocument.spreadsheetml.sheet");
	(void)FCGX_FFlush(r->fcgi->out);
	if (stats_run(r->db, &f, &s) == -1) {
		log_error("%s: the figures could not be computed; the"
		    " workbook says so", __func__);
		rc = stats_xlsx_failed("数据库暂时不可用，统计未能完成，"
		    "请稍后重新导出。", r->sess.acct.login, path, dir);
	} else {
		rc = stats_xlsx(&s, &f, r->sess.acct.login, path, dir);
		stats_free(&s);
	}
	if (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		while ((got = read(fd, chunk, sizeof(chunk))) > 0)
			if (http_write(r, chunk, (size_t)got) == -1)
				break;
		(void)close(fd);
	} else
		log_error("%s: the workbook %s was not written", __func__,
		    path);
	(void)unlink(path);
}
