/*
 * audit_panel.c - the audit log, newest first, filtered by who, action
 * and time range, paged by id (keyset).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "console.h"
#include "db.h"

#define AUDIT_PAGE_MAX	256

struct audit_row {
	long long	 id;
	char		 at[32], who[80], action[64], object[80], channel[16],
			 detail[300], detail_zh[400];
};

static struct {
	struct audit_row rows[AUDIT_PAGE_MAX];
	int		 n, sel, more;
	long long	 before;	/* page: ids below this; 0 = newest */
	long long	 stack[64];	/* page starts, for PgUp */
	int		 depth;
	char		 who[80], action[64], from[40], to[40];
} au;

static const char *const audit_keys[FUNCBAR_KEYS] = {
	"帮助", NULL, "筛选", "详情", "刷新", NULL, NULL, NULL, NULL, "退出"
};

static const char *const audit_help[] = {
	"  F3 筛选：操作人（用户名前缀）、操作（前缀，如 user_、login）、起止时间",
	"  时间格式：2026-01-31 或 2026-01-31 08:00；PgDn/PgUp 翻页",
	"  审计日志只能追加，任何人都不能修改或删除。",
	NULL
};

static const struct column audit_cols[] = {
	{ "时间", 14 }, { "操作人", 12 }, { "操作", 22 }, { "对象", 10 },
	{ "渠道", 7 }, { "详情", 0 },
};

static const char *const *
audit_keys_get(struct console *con)
{
	(void)con;
	return audit_keys;
}

static int
audit_load(struct console *con)
{
	PGresult	*r;
	char		 scope[32], before[32], lim[16], who[180], act[140];
	int		 i, n, size = console_body_height() - 2;

	if (size > AUDIT_PAGE_MAX)
		size = AUDIT_PAGE_MAX;
	if (size < 1)
		size = 1;
	(void)snprintf(scope, sizeof(scope), "%lld",
	    con->actor.platform ? 0 : con->actor.inst);
	(void)snprintf(before, sizeof(before), "%lld", au.before);
	(void)snprintf(lim, sizeof(lim), "%d", size + 1);
	str_like_prefix(who, sizeof(who), au.who);
	str_like_prefix(act, sizeof(act), au.action);
	if ((r = db_exec(con->db, "SELECT id, to_char(at, 'MM-DD HH24:MI:SS'),"
	    " actor_login, action, object_type || ' ' || object_id, channel,"
	    " detail::text FROM audit_log"
	    " WHERE ($1::bigint = 0 OR institution_id = $1::bigint)"
	    " AND ($2::bigint = 0 OR id < $2::bigint)"
	    " AND ($3 = '' OR lower(actor_login) LIKE lower($3) || '%')"
	    " AND ($4 = '' OR action LIKE $4 || '%')"
	    " AND ($5 = '' OR at >= $5::timestamptz)"
	    " AND ($6 = '' OR at < $6::timestamptz)"
	    " ORDER BY id DESC LIMIT $7::int", 7, scope, before, who, act,
	    au.from, au.to, lim)) == NULL) {
		console_msg(con, 1, "读取审计日志失败（请检查时间格式）");
		au.n = 0;
		return -1;
	}
	n = PQntuples(r);
	au.more = n > size;
	if (n > size)
		n = size;
	for (i = 0; i < n; i++) {
		struct audit_row *p = &au.rows[i];

		p->id = db_ll(r, i, 0);
		str_copy(p->at, sizeof(p->at), db_val(r, i, 1));
		str_copy(p->who, sizeof(p->who), db_val(r, i, 2));
		str_copy(p->action, sizeof(p->action), db_val(r, i, 3));
		str_copy(p->object, sizeof(p->object), db_val(r, i, 4));
		str_copy(p->channel, sizeof(p->channel), db_val(r, i, 5));
		str_copy(p->detail, sizeof(p->detail), db_val(r, i, 6));
		(void)audit_detail_zh(db_val(r, i, 6), p->detail_zh,
		    sizeof(p->detail_zh));
	}
	PQclear(r);
	au.n = n;
	if (au.sel >= au.n)
		au.sel = au.n > 0 ? au.n - 1 : 0;
	return 0;
}

static void
audit_draw(struct console *con, int top, int height)
{
	const char	*cells[6];
	char		 info[400];
	int		 i;

	(void)con;
	(void)snprintf(info, sizeof(info), "操作人：%s  操作：%s  时间：%s ～ %s"
	    "  第 %d 页", au.who[0] ? au.who : "全部",
	    au.action[0] ? au.action : "全部", au.from[0] ? au.from : "不限",
	    au.to[0] ? au.to : "不限", au.depth + 1);
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, audit_cols, 6);
	for (i = 0; i < au.n && i < height - 2; i++) {
		cells[0] = au.rows[i].at;
		cells[1] = au.rows[i].who;
		cells[2] = audit_action_zh(au.rows[i].action);
		cells[3] = au.rows[i].object;
		cells[4] = au.rows[i].channel;
		cells[5] = au.rows[i].detail_zh;
		scr_table_row(top + 2 + i, audit_cols, 6, cells, i == au.sel);
	}
	if (au.n == 0)
		(void)scr_put(top + 2, 0, -1, "没有符合条件的记录", AT_NORMAL);
}

static int
audit_filter(struct console *con)
{
	struct field	 fl[4];
	struct form	 f;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "who"; fl[0].label = "操作人"; fl[0].kind = FK_TEXT;
	fl[1].name = "action"; fl[1].label = "操作"; fl[1].kind = FK_TEXT;
	fl[2].name = "from"; fl[2].label = "起始时间"; fl[2].kind = FK_TEXT;
	fl[3].name = "to"; fl[3].label = "截止时间"; fl[3].kind = FK_TEXT;
	str_copy(fl[0].text, sizeof(fl[0].text), au.who);
	str_copy(fl[1].text, sizeof(fl[1].text), au.action);
	str_copy(fl[2].text, sizeof(fl[2].text), au.from);
	str_copy(fl[3].text, sizeof(fl[3].text), au.to);
	memset(&f, 0, sizeof(f));
	f.title = "筛选审计日志（留空为不限）";
	f.fields = fl;
	f.n = 4;
	for (;;) {
		struct store_err e;
		PGresult	*r;
		int		 k;

		if (!form_run(con, &f))
			return RD_DRAW;
		memset(&e, 0, sizeof(e));
		for (k = 2; k < 4; k++) {
			if (fl[k].text[0] == '\0')
				continue;
			if ((r = db_exec(con->db, "SELECT $1::timestamptz", 1,
			    fl[k].text)) == NULL) {
				str_copy(e.field, sizeof(e.field), fl[k].name);
				str_copy(e.msg, sizeof(e.msg),
				    "时间格式不对，例如 2026-01-31 08:00");
				break;
			}
			PQclear(r);
		}
		if (e.field[0] == '\0')
			break;
		form_error(&f, &e);
	}
	str_copy(au.who, sizeof(au.who), fl[0].text);
	str_copy(au.action, sizeof(au.action), fl[1].text);
	str_copy(au.from, sizeof(au.from), fl[2].text);
	str_copy(au.to, sizeof(au.to), fl[3].text);
	au.before = 0;
	au.depth = 0;
	au.sel = 0;
	return RD_RELOAD;
}

static int
audit_key(struct console *con, int key)
{
	struct audit_row *p = au.n > 0 ? &au.rows[au.sel] : NULL;
	char		 text[1200];

	switch (key) {
	case K_DOWN:
		if (au.sel + 1 < au.n)
			au.sel++;
		return RD_DRAW;
	case K_UP:
		if (au.sel > 0)
			au.sel--;
		return RD_DRAW;
	case K_PGDN:
		if (!au.more || au.n == 0 || au.depth >= 63)
			return RD_DRAW;
		au.stack[au.depth++] = au.before;
		au.before = au.rows[au.n - 1].id;
		au.sel = 0;
		return RD_RELOAD;
	case K_PGUP:
		if (au.depth == 0)
			return RD_DRAW;
		au.before = au.stack[--au.depth];
		au.sel = 0;
		return RD_RELOAD;
	case K_HOME:
	case K_F(5):
		au.before = 0;
		au.depth = 0;
		return RD_RELOAD;
	case K_F(3):
	case '/':
		return audit_filter(con);
	case K_F(4):
	case K_ENTER:
		if (p == NULL)
			return RD_DRAW;
		(void)snprintf(text, sizeof(text), "%s  %s  %s（%s）\n%s  渠道 %s"
		    "\n%s", p->at, p->who, audit_action_zh(p->action), p->action,
		    p->object, p->channel, p->detail_zh);
		notice(con, "审计记录", text);
		return RD_DRAW;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel audit_panel = {
	"审计", audit_keys_get, audit_load, audit_draw, audit_key, audit_help
};
