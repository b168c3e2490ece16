/*
 * locks_panel.c - report locks held (报告中): who holds each and for how
 * long, and 强制解锁 through wf_unlock with administrator rights.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"
#include "workflow.h"

#define LOCKS_MAX	500

struct lock_row {
	long long	 id, inst;
	char		 diag[40], patient[200], holder[300], age[40],
			 idle[40];
};

static struct {
	struct lock_row	 rows[LOCKS_MAX];
	int		 n, sel, top;
} lk;

static const char *const locks_keys[FUNCBAR_KEYS] = {
	"帮助", NULL, NULL, NULL, "刷新", NULL, NULL, "强制解锁", NULL, "退出"
};

static const char *const locks_help[] = {
	"  列出“报告中”的申请及其锁定人、锁定时长、最近活动。",
	"  F8 强制解锁：申请回到“待报告”，锁定人未提交的修改以已保存版本为准。",
	NULL
};

static const struct column locks_cols[] = {
	{ "诊断号", 16 }, { "患者", 8 }, { "锁定人", 20 }, { "已锁定", 10 },
	{ "无操作", 0 },
};

static const char *const *
locks_keys_get(struct console *con)
{
	(void)con;
	return locks_keys;
}

static int
locks_load(struct console *con)
{
	PGresult	*r;
	char		 scope[32];
	int		 i;

	(void)snprintf(scope, sizeof(scope), "%lld",
	    con->actor.platform ? 0 : con->actor.inst);
	if ((r = db_exec(con->db, "SELECT a.id, a.applicant_institution_id,"
	    " a.diag_no, a.patient_name, u.display_name || '（' || u.login"
	    " || '）', to_char(now() - a.locked_at, 'HH24:MI:SS'),"
	    " to_char(now() - coalesce(a.lock_seen_at, a.locked_at),"
	    " 'HH24:MI:SS')"
	    " FROM applications a JOIN users u ON u.id = a.locked_by"
	    " WHERE a.state = 'reporting'"
	    " AND ($1::bigint = 0 OR application_visible(a, $1::bigint))"
	    " ORDER BY a.locked_at LIMIT 500", 1, scope)) == NULL) {
		console_msg(con, 1, "读取锁定失败");
		lk.n = 0;
		return -1;
	}
	lk.n = PQntuples(r);
	for (i = 0; i < lk.n; i++) {
		struct lock_row *p = &lk.rows[i];

		p->id = db_ll(r, i, 0);
		p->inst = db_ll(r, i, 1);
		str_copy(p->diag, sizeof(p->diag), db_val(r, i, 2));
		str_copy(p->patient, sizeof(p->patient), db_val(r, i, 3));
		str_copy(p->holder, sizeof(p->holder), db_val(r, i, 4));
		str_copy(p->age, sizeof(p->age), db_val(r, i, 5));
		str_copy(p->idle, sizeof(p->idle), db_val(r, i, 6));
	}
	PQclear(r);
	if (lk.sel >= lk.n)
		lk.sel = lk.n > 0 ? lk.n - 1 : 0;
	return 0;
}

static void
locks_draw(struct console *con, int top, int height)
{
	const char	*cells[5];
	char		 info[100];
	int		 i, rows = height - 2;

	(void)con;
	if (lk.sel < lk.top)
		lk.top = lk.sel;
	if (rows > 0 && lk.sel >= lk.top + rows)
		lk.top = lk.sel - rows + 1;
	(void)snprintf(info, sizeof(info), "报告锁定 %d 个", lk.n);
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, locks_cols, 5);
	for (i = lk.top; i < lk.n && i - lk.top < rows; i++) {
		cells[0] = lk.rows[i].diag;
		cells[1] = lk.rows[i].patient;
		cells[2] = lk.rows[i].holder;
		cells[3] = lk.rows[i].age;
		cells[4] = lk.rows[i].idle;
		scr_table_row(top + 2 + i - lk.top, locks_cols, 5, cells,
		    i == lk.sel);
	}
	if (lk.n == 0)
		(void)scr_put(top + 2, 0, -1, "当前没有被锁定的报告", AT_NORMAL);
}

static int
locks_key(struct console *con, int key)
{
	struct wf_actor	 w;
	struct lock_row	*p = lk.n > 0 ? &lk.rows[lk.sel] : NULL;
	enum wf_result	 res;
	char		 q[600];

	switch (key) {
	case K_DOWN:
		if (lk.sel + 1 < lk.n)
			lk.sel++;
		return RD_DRAW;
	case K_UP:
		if (lk.sel > 0)
			lk.sel--;
		return RD_DRAW;
	case K_F(5):
		return RD_RELOAD;
	case K_F(8):
		if (p == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), "强制解锁 %s？\n锁定人：%s",
		    p->diag, p->holder);
		if (!confirm(con, q))
			return RD_DRAW;
		memset(&w, 0, sizeof(w));
		w.user_id = con->actor.id;
		/* The application must be visible to the acting institution:
		 * a platform administrator acts as its applicant's. */
		w.institution_id = con->actor.platform ? p->inst :
		    con->actor.inst;
		w.login = con->actor.login;
		w.name = con->name;
		w.roles = ROLE_BIT(ROLE_ADMIN);
		w.title = TITLE_NONE;
		w.channel = "console";
		res = wf_unlock(con->db, &w, p->id);
		if (res == WF_OK)
			console_msg(con, 0, "已强制解锁 %s", p->diag);
		else
			console_msg(con, 1, "解锁失败：%s", wf_messages[res]);
		return RD_RELOAD;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel locks_panel = {
	"锁定", locks_keys_get, locks_load, locks_draw, locks_key, locks_help
};
