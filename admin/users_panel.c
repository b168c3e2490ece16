/*
 * users_panel.c - accounts: list with search and keyset paging, create,
 * edit, disable/enable, reset password, unlock, roles and title.
 *
 * A page is read with "lower(login) > the last key seen" on the
 * users_login_lower index (institution_id first for an institution
 * administrator: users_inst_login), so the hundred-thousandth page costs
 * what the first does.  Search is a prefix of the login, or any part of
 * the name (a given name finds 黄文静 by 文静).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "db.h"

#define USERS_PAGE_MAX	256

struct user_row {
	long long	 id;
	char		 login[80];
	char		 name[260];
	char		 inst[64];
	char		 roles[128];
	int		 title;
	int		 active, locked;
	char		 key[80];	/* lower(login): the paging key */
};

static struct {
	struct user_row	 rows[USERS_PAGE_MAX];
	int		 n, sel, more;
	char		 search[64];
	char		 from[80];	/* page starts at this key... */
	int		 from_incl;	/* ...inclusive */
	int		 back;		/* read backwards (PgUp) */
	double		 ms;		/* time of the last page query */
} us;

static const char *const users_keys[FUNCBAR_KEYS] = {
	"帮助", "新建", "搜索", "编辑", "刷新", "停用/启用", "重置密码",
	"解锁", NULL, "退出"
};

static const char *const users_help[] = {
	"  F2 新建用户  F3 或 / 按用户名前缀或姓名中的字搜索（空为全部）",
	"  F4 或 Enter 编辑（姓名、机构、角色、职称）  F5 刷新  Home 回到首页",
	"  F6 停用/启用（停用立即结束其网页会话）  F7 重置密码（只显示一次）",
	"  F8 解除登录失败锁定",
	"  机构管理员只能看到和管理本机构的用户。",
	NULL
};

static const struct column users_cols[] = {
	{ "用户名", 14 }, { "姓名", 10 }, { "机构", 8 }, { "角色", 20 },
	{ "职称", 10 }, { "状态", 0 },
};

static int
users_page_size(void)
{
	int	 n = console_body_height() - 2;

	if (n > USERS_PAGE_MAX)
		n = USERS_PAGE_MAX;
	return n > 1 ? n : 1;
}

static const char *const *
users_keys_get(struct console *con)
{
	(void)con;
	return users_keys;
}

static double
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
users_load(struct console *con)
{
	PGresult	*r;
	char		 scope[32], lim[16], like[140];
	const char	*op;
	double		 t0;
	int		 i, n, size = users_page_size(), j;
	struct user_row	 tmp;

	(void)snprintf(scope, sizeof(scope), "%lld",
	    con->actor.platform ? 0 : con->actor.inst);
	(void)snprintf(lim, sizeof(lim), "%d", size + 1);
	str_like_prefix(like, sizeof(like), us.search);
	op = us.back ? "<" : us.from_incl ? ">=" : ">";
	t0 = now_ms();
	/* The operator is one of three literals, never input. */
	if (strcmp(op, "<") == 0)
		r = db_exec(con->db, "SELECT u.id, u.login, u.display_name,"
		    " i.code, u.roles, coalesce(u.title, ''), u.active,"
		    " coalesce(u.locked_until > now(), false), lower(u.login)"
		    " FROM users u JOIN institutions i ON i.id = u.institution_id"
		    " WHERE ($1::bigint = 0 OR u.institution_id = $1::bigint)"
		    " AND ($2 = '' OR lower(u.login) LIKE lower($2) || '%'"
		    "  OR u.display_name LIKE '%' || $2 || '%')"
		    " AND lower(u.login) < $3"
		    " ORDER BY lower(u.login) DESC LIMIT $4::int", 4, scope,
		    like, us.from, lim);
	else
		r = db_exec(con->db, us.from_incl ?
		    "SELECT u.id, u.login, u.display_name,"
		    " i.code, u.roles, coalesce(u.title, ''), u.active,"
		    " coalesce(u.locked_until > now(), false), lower(u.login)"
		    " FROM users u JOIN institutions i ON i.id = u.institution_id"
		    " WHERE ($1::bigint = 0 OR u.institution_id = $1::bigint)"
		    " AND ($2 = '' OR lower(u.login) LIKE lower($2) || '%'"
		    "  OR u.display_name LIKE '%' || $2 || '%')"
		    " AND lower(u.login) >= $3"
		    " ORDER BY lower(u.login) LIMIT $4::int" :
		    "SELECT u.id, u.login, u.display_name,"
		    " i.code, u.roles, coalesce(u.title, ''), u.active,"
		    " coalesce(u.locked_until > now(), false), lower(u.login)"
		    " FROM users u JOIN institutions i ON i.id = u.institution_id"
		    " WHERE ($1::bigint = 0 OR u.institution_id = $1::bigint)"
		    " AND ($2 = '' OR lower(u.login) LIKE lower($2) || '%'"
		    "  OR u.display_name LIKE '%' || $2 || '%')"
		    " AND lower(u.login) > $3"
		    " ORDER BY lower(u.login) LIMIT $4::int", 4, scope, like,
		    us.from, lim);
	us.ms = now_ms() - t0;
	if (r == NULL) {
		console_msg(con, 1, "读取用户失败：%s", store_messages[ST_ERROR]);
		us.n = 0;
		return -1;
	}
	n = PQntuples(r);
	if (us.back && n == 0) {
		/* Nothing before: stay on the first page. */
		PQclear(r);
		us.back = 0;
		us.from[0] = '\0';
		us.from_incl = 1;
		return users_load(con);
	}
	us.more = n > size;
	if (n > size)
		n = size;
	for (i = 0; i < n; i++) {
		struct user_row *u = &us.rows[i];

		u->id = db_ll(r, i, 0);
		str_copy(u->login, sizeof(u->login), db_val(r, i, 1));
		str_copy(u->name, sizeof(u->name), db_val(r, i, 2));
		str_copy(u->inst, sizeof(u->inst), db_val(r, i, 3));
		(void)model_roles_zh(model_roles_parse(db_val(r, i, 4)),
		    u->roles, sizeof(u->roles));
		u->title = model_lookup(title_names, TITLE__MAX,
		    db_val(r, i, 5));
		if (u->title < 0)
			u->title = TITLE_NONE;
		u->active = db_bool(r, i, 6);
		u->locked = db_bool(r, i, 7);
		str_copy(u->key, sizeof(u->key), db_val(r, i, 8));
	}
	PQclear(r);
	us.n = n;
	if (us.back) {
		for (i = 0, j = n - 1; i < j; i++, j--) {
			tmp = us.rows[i];
			us.rows[i] = us.rows[j];
			us.rows[j] = tmp;
		}
		us.more = 1;
		us.back = 0;
	}
	/* The page is now anchored at its first row. */
	if (n > 0) {
		str_copy(us.from, sizeof(us.from), us.rows[0].key);
		us.from_incl = 1;
	}
	if (us.sel >= us.n)
		us.sel = us.n > 0 ? us.n - 1 : 0;
	return 0;
}

static void
users_draw(struct console *con, int top, int height)
{
	const char	*cells[6];
	char		 info[1024], status[64];
	int		 i;

	(void)snprintf(info, sizeof(info), "%s  搜索：%s  本页 %d 条%s"
	    "  查询 %.1f ms", con->actor.platform ? "全部机构" :
	    con->inst_name, us.search[0] ? us.search : "（全部）", us.n,
	    us.more ? "，还有更多" : "", us.ms);
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, users_cols, 6);
	for (i = 0; i < us.n && i < height - 2; i++) {
		(void)snprintf(status, sizeof(status), "%s%s",
		    us.rows[i].active ? "正常" : "已停用",
		    us.rows[i].locked ? " 已锁定" : "");
		cells[0] = us.rows[i].login;
		cells[1] = us.rows[i].name;
		cells[2] = us.rows[i].inst;
		cells[3] = us.rows[i].roles;
		cells[4] = title_names[us.rows[i].title].zh;
		cells[5] = status;
		scr_table_row(top + 2 + i, users_cols, 6, cells, i == us.sel);
	}
	if (us.n == 0)
		(void)scr_put(top + 2, 0, -1, "没有符合条件的用户", AT_NORMAL);
}

/* Show the account form for a new user (u NULL) or u, and save it. */
static int
users_edit(struct console *con, const struct user_row *u)
{
	struct field	 fl[6];
	struct form	 f;
	struct user_form uf;
	struct store_err e;
	enum store_result res;
	char		 pw[STORE_PASSWORD_LEN + 1], text[256];
	long long	 id = u ? u->id : 0;
	int		 n = 0;

	memset(fl, 0, sizeof(fl));
	fl[n].name = "login"; fl[n].label = "用户名"; fl[n].kind = FK_TEXT;
	if (u)
		str_copy(fl[n].text, sizeof(fl[n].text), u->login);
	n++;
	fl[n].name = "name"; fl[n].label = "姓名"; fl[n].kind = FK_TEXT;
	if (u)
		str_copy(fl[n].text, sizeof(fl[n].text), u->name);
	n++;
	fl[n].name = "inst"; fl[n].label = "机构代码";
	fl[n].kind = FK_TEXT;	/* refused outside the scope */
	str_copy(fl[n].text, sizeof(fl[n].text), u ? u->inst : "");
	if (!con->actor.platform && u == NULL) {
		PGresult *r;
		char	  sinst[32];

		(void)snprintf(sinst, sizeof(sinst), "%lld", con->actor.inst);
		if ((r = db_exec(con->db, "SELECT code FROM institutions"
		    " WHERE id = $1::bigint", 1, sinst)) != NULL) {
			if (PQntuples(r) == 1)
				str_copy(fl[n].text, sizeof(fl[n].text),
				    db_val(r, 0, 0));
			PQclear(r);
		}
	}
	n++;
	fl[n].name = "roles"; fl[n].label = "角色"; fl[n].kind = FK_ROLES;
	n++;
	fl[n].name = "title"; fl[n].label = "职称"; fl[n].kind = FK_CHOICE;
	fl[n].opts = title_names; fl[n].nopts = TITLE__MAX;
	fl[n].choice = u ? u->title : TITLE_NONE;
	n++;
	if (u == NULL) {
		fl[n].name = "password"; fl[n].label = "初始密码";
		fl[n].kind = FK_SECRET;
		n++;
	}
	if (u != NULL) {
		/* The roles as stored, not as shown. */
		PGresult *r;
		char	  sid[32];

		(void)snprintf(sid, sizeof(sid), "%lld", u->id);
		if ((r = db_exec(con->db, "SELECT roles FROM users"
		    " WHERE id = $1::bigint", 1, sid)) != NULL) {
			if (PQntuples(r) == 1)
				fl[3].bits = model_roles_parse(db_val(r, 0, 0));
			PQclear(r);
		}
	}
	memset(&f, 0, sizeof(f));
	f.title = u ? "编辑用户" : "新建用户（初始密码留空则自动生成）";
	f.fields = fl;
	f.n = n;
	for (;;) {
		if (!form_run(con, &f)) {
			console_msg(con, 0, "已取消");
			return RD_RELOAD;
		}
		memset(&uf, 0, sizeof(uf));
		str_copy(uf.login, sizeof(uf.login), fl[0].text);
		str_copy(uf.name, sizeof(uf.name), fl[1].text);
		str_copy(uf.inst_code, sizeof(uf.inst_code), fl[2].text);
		uf.roles = fl[3].bits;
		uf.title = (enum title)fl[4].choice;
		memset(&e, 0, sizeof(e));
		pw[0] = '\0';
		res = store_user_save(con->db, &con->actor, id, &uf,
		    u ? NULL : fl[5].text, pw, &e, &id);
		if (res == ST_OK)
			break;
		form_error(&f, &e);
	}
	console_msg(con, 0, "%s用户 %s", u ? "已保存" : "已创建", uf.login);
	if (pw[0] != '\0') {
		(void)snprintf(text, sizeof(text),
		    "用户 %s 的初始密码：%s\n请立即转交本人，此密码不会再次显示。",
		    uf.login, pw);
		notice(con, "初始密码（仅显示一次）", text);
	}
	/* Show the page that holds the saved user. */
	us.search[0] = '\0';
	str_copy(us.from, sizeof(us.from), uf.login);
	{
		char	*p;

		for (p = us.from; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	us.from_incl = 1;
	us.sel = 0;
	return RD_RELOAD;
}

static int
users_key(struct console *con, int key)
{
	struct user_row	*u = us.n > 0 ? &us.rows[us.sel] : NULL;
	struct store_err e;
	char		 q[1200], pw[STORE_PASSWORD_LEN + 1];

	memset(&e, 0, sizeof(e));
	switch (key) {
	case K_DOWN:
		if (us.sel + 1 < us.n)
			us.sel++;
		else if (us.more && us.n > 1) {
			/* Scroll by one row: the page starts at the second. */
			str_copy(us.from, sizeof(us.from), us.rows[1].key);
			us.from_incl = 1;
			us.sel = us.n - 1;
			return RD_RELOAD;
		}
		return RD_DRAW;
	case K_UP:
		if (us.sel > 0)
			us.sel--;
		else if (us.n > 0 && us.rows[0].key[0] != '\0') {
			str_copy(us.from, sizeof(us.from), us.rows[0].key);
			us.back = 1;
			us.sel = 0;
			(void)users_load(con);
			/* One row back: the page starts at that row. */
			if (us.n > 0) {
				str_copy(us.from, sizeof(us.from),
				    us.rows[us.n - 1].key);
				us.from_incl = 1;
			}
			us.sel = 0;
			return RD_RELOAD;
		}
		return RD_DRAW;
	case K_PGDN:
		if (us.more && us.n > 0) {
			str_copy(us.from, sizeof(us.from),
			    us.rows[us.n - 1].key);
			us.from_incl = 0;
			us.sel = 0;
			return RD_RELOAD;
		}
		us.sel = us.n > 0 ? us.n - 1 : 0;
		return RD_DRAW;
	case K_PGUP:
		if (us.n > 0) {
			str_copy(us.from, sizeof(us.from), us.rows[0].key);
			us.back = 1;
			us.sel = 0;
			return RD_RELOAD;
		}
		return RD_DRAW;
	case K_HOME:
		us.from[0] = '\0';
		us.from_incl = 1;
		us.sel = 0;
		return RD_RELOAD;
	case K_F(3):
	case '/':
		if (prompt(con, "搜索用户名（前缀）或姓名（任意部分）", us.search,
		    sizeof(us.search))) {
			us.from[0] = '\0';
			us.from_incl = 1;
			us.sel = 0;
		}
		return RD_RELOAD;
	case K_F(2):
		return users_edit(con, NULL);
	case K_F(4):
	case K_ENTER:
		return u ? users_edit(con, u) : RD_DRAW;
	case K_F(5):
		con->msg[0] = '\0';
		return RD_RELOAD;
	case K_F(6):
		if (u == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), u->active ?
		    "停用用户 %s（%s）？\n其网页会话将立即结束。" :
		    "启用用户 %s（%s）？", u->login, u->name);
		if (!confirm(con, q))
			return RD_DRAW;
		if (store_user_active(con->db, &con->actor, u->id, !u->active,
		    &e) == ST_OK)
			console_msg(con, 0, "已%s用户 %s",
			    u->active ? "停用" : "启用", u->login);
		else
			console_msg(con, 1, "%s", e.msg);
		return RD_RELOAD;
	case K_F(7):
		if (u == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), "重置用户 %s（%s）的密码？\n"
		    "将生成新密码，其网页会话将结束。", u->login, u->name);
		if (!confirm(con, q))
			return RD_DRAW;
		if (store_user_passwd(con->db, &con->actor, u->id, NULL, pw,
		    &e) != ST_OK) {
			console_msg(con, 1, "%s", e.msg);
			return RD_RELOAD;
		}
		(void)snprintf(q, sizeof(q), "用户 %s 的新密码：%s\n"
		    "请立即转交本人，此密码不会再次显示。", u->login, pw);
		console_msg(con, 0, "已重置用户 %s 的密码", u->login);
		notice(con, "新密码（仅显示一次）", q);
		return RD_RELOAD;
	case K_F(8):
		if (u == NULL)
			return RD_DRAW;
		if (store_user_unlock(con->db, &con->actor, u->id, &e) == ST_OK)
			console_msg(con, 0, "已解除用户 %s 的锁定", u->login);
		else
			console_msg(con, 1, "%s", e.msg);
		return RD_RELOAD;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel users_panel = {
	"用户", users_keys_get, users_load, users_draw, users_key, users_help
};
