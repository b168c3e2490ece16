/*
 * jobs_panel.c - AI jobs that are dead or failing, with their error, and
 * 重试 (back to queued, attempts 0, run now; audited).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"

#define JOBS_MAX	500

struct job_row {
	long long	 id;
	char		 reader[64], state[16], tries[16], inst[64],
			 at[32], error[600];
};

static struct {
	struct job_row	 rows[JOBS_MAX];
	int		 n, sel, top;
} jb;

static const char *const jobs_keys[FUNCBAR_KEYS] = {
	"帮助", NULL, NULL, "详情", "刷新", NULL, NULL, "重试", NULL, "退出"
};

static const char *const jobs_help[] = {
	"  列出失败（等待重试）和已放弃（dead）的AI任务及其错误信息。",
	"  Enter/F4 查看完整错误  F8 重试：重新排队、尝试次数清零、立即执行。",
	NULL
};

static const struct column jobs_cols[] = {
	{ "任务", 6 }, { "AI模块", 16 }, { "状态", 6 }, { "次数", 4 },
	{ "机构", 7 }, { "错误", 0 },
};

static const char *const *
jobs_keys_get(struct console *con)
{
	(void)con;
	return jobs_keys;
}

static int
jobs_load(struct console *con)
{
	PGresult	*r;
	char		 scope[32];
	int		 i;

	(void)snprintf(scope, sizeof(scope), "%lld",
	    con->actor.platform ? 0 : con->actor.inst);
	if ((r = db_exec(con->db, "SELECT j.id, j.reader, j.state,"
	    " j.attempts || '/' || j.max_attempts, i.code,"
	    " to_char(j.updated_at, 'MM-DD HH24:MI'), j.error"
	    " FROM ai_jobs j JOIN series s ON s.id = j.series_id"
	    " JOIN studies t ON t.id = s.study_id"
	    " JOIN institutions i ON i.id = t.institution_id"
	    " WHERE (j.state IN ('dead', 'failed')"
	    "  OR (j.state = 'queued' AND j.attempts > 0))"
	    " AND ($1::bigint = 0 OR t.institution_id = $1::bigint)"
	    " ORDER BY j.updated_at DESC LIMIT 500", 1, scope)) == NULL) {
		console_msg(con, 1, "读取AI任务失败");
		jb.n = 0;
		return -1;
	}
	jb.n = PQntuples(r);
	for (i = 0; i < jb.n; i++) {
		struct job_row *p = &jb.rows[i];

		p->id = db_ll(r, i, 0);
		str_copy(p->reader, sizeof(p->reader), db_val(r, i, 1));
		str_copy(p->state, sizeof(p->state), db_val(r, i, 2));
		str_copy(p->tries, sizeof(p->tries), db_val(r, i, 3));
		str_copy(p->inst, sizeof(p->inst), db_val(r, i, 4));
		str_copy(p->at, sizeof(p->at), db_val(r, i, 5));
		str_copy(p->error, sizeof(p->error), db_val(r, i, 6));
	}
	PQclear(r);
	if (jb.sel >= jb.n)
		jb.sel = jb.n > 0 ? jb.n - 1 : 0;
	return 0;
}

static const char *
jobs_state_zh(const char *s)
{
	if (strcmp(s, "dead") == 0)
		return "已放弃";
	if (strcmp(s, "failed") == 0)
		return "失败";
	return "待重试";
}

static void
jobs_draw(struct console *con, int top, int height)
{
	const char	*cells[6];
	char		 info[100], id[24];
	int		 i, rows = height - 2;

	(void)con;
	if (jb.sel < jb.top)
		jb.top = jb.sel;
	if (rows > 0 && jb.sel >= jb.top + rows)
		jb.top = jb.sel - rows + 1;
	(void)snprintf(info, sizeof(info), "异常AI任务 %d 个", jb.n);
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, jobs_cols, 6);
	for (i = jb.top; i < jb.n && i - jb.top < rows; i++) {
		(void)snprintf(id, sizeof(id), "%lld", jb.rows[i].id);
		cells[0] = id;
		cells[1] = jb.rows[i].reader;
		cells[2] = jobs_state_zh(jb.rows[i].state);
		cells[3] = jb.rows[i].tries;
		cells[4] = jb.rows[i].inst;
		cells[5] = jb.rows[i].error;
		scr_table_row(top + 2 + i - jb.top, jobs_cols, 6, cells,
		    i == jb.sel);
	}
	if (jb.n == 0)
		(void)scr_put(top + 2, 0, -1, "没有失败的AI任务", AT_NORMAL);
}

static int
jobs_key(struct console *con, int key)
{
	struct job_row	*p = jb.n > 0 ? &jb.rows[jb.sel] : NULL;
	struct store_err e;
	char		 q[800];

	memset(&e, 0, sizeof(e));
	switch (key) {
	case K_DOWN:
		if (jb.sel + 1 < jb.n)
			jb.sel++;
		return RD_DRAW;
	case K_UP:
		if (jb.sel > 0)
			jb.sel--;
		return RD_DRAW;
	case K_F(5):
		return RD_RELOAD;
	case K_F(4):
	case K_ENTER:
		if (p == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), "%s（%s，%s，%s）\n%.500s",
		    p->reader, jobs_state_zh(p->state), p->tries, p->at,
		    p->error[0] ? p->error : "（无错误信息）");
		notice(con, "任务详情", q);
		return RD_DRAW;
	case K_F(8):
		if (p == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), "重试任务 %lld（%s）？", p->id,
		    p->reader);
		if (!confirm(con, q))
			return RD_DRAW;
		if (store_job_retry(con->db, &con->actor, p->id, &e) == ST_OK)
			console_msg(con, 0, "任务 %lld 已重新排队", p->id);
		else
			console_msg(con, 1, "%s", e.msg);
		return RD_RELOAD;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel jobs_panel = {
	"AI任务", jobs_keys_get, jobs_load, jobs_draw, jobs_key, jobs_help
};
