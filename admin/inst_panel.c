/*
 * inst_panel.c - institutions: list, search, create, edit, deactivate.
 * Changes are for platform administrators; an institution administrator
 * sees only their own institution.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"

#define INST_MAX	1000

struct inst_row {
	long long	 id;
	struct inst_form f;
	int		 level;
	int		 active;
	int		 users;
};

static struct {
	struct inst_row	 rows[INST_MAX];
	int		 n, sel, top;
	char		 search[64];
} is;

static const char *const inst_keys[FUNCBAR_KEYS] = {
	"帮助", "新建", "搜索", "编辑", "刷新", "停用/启用", NULL, NULL, NULL,
	"退出"
};

static const char *const inst_help[] = {
	"  F2 新建机构  F3 或 / 按代码或名称搜索  F4 或 Enter 编辑",
	"  F6 停用/启用（停用后该机构的用户不能登录）",
	"  只有平台管理员（省级机构的管理员）可以修改机构。",
	NULL
};

static const struct column inst_cols[] = {
	{ "代码", 8 }, { "名称", 18 }, { "级别", 4 }, { "地区", 18 },
	{ "用户", 5 }, { "状态", 0 },
};

static const char *const *
inst_keys_get(struct console *con)
{
	(void)con;
	return inst_keys;
}

static int
inst_load(struct console *con)
{
	PGresult	*r;
	char		 scope[32], like[140];
	int		 i;

	(void)snprintf(scope, sizeof(scope), "%lld",
	    con->actor.platform ? 0 : con->actor.inst);
	str_like_prefix(like, sizeof(like), is.search);
	if ((r = db_exec(con->db, "SELECT i.id, i.code, i.name, i.level,"
	    " i.region, i.contact, i.active,"
	    " (SELECT count(*) FROM users u WHERE u.institution_id = i.id)"
	    " FROM institutions i"
	    " WHERE ($1::bigint = 0 OR i.id = $1::bigint)"
	    " AND ($2 = '' OR lower(i.code) LIKE lower($2) || '%'"
	    "  OR i.name LIKE '%' || $2 || '%')"
	    " ORDER BY i.code LIMIT 1000", 2, scope, like)) == NULL) {
		console_msg(con, 1, "读取机构失败");
		is.n = 0;
		return -1;
	}
	is.n = PQntuples(r);
	for (i = 0; i < is.n; i++) {
		struct inst_row *p = &is.rows[i];

		p->id = db_ll(r, i, 0);
		str_copy(p->f.code, sizeof(p->f.code), db_val(r, i, 1));
		str_copy(p->f.name, sizeof(p->f.name), db_val(r, i, 2));
		str_copy(p->f.level, sizeof(p->f.level), db_val(r, i, 3));
		str_copy(p->f.region, sizeof(p->f.region), db_val(r, i, 4));
		str_copy(p->f.contact, sizeof(p->f.contact), db_val(r, i, 5));
		p->level = model_lookup(level_names, LEVEL__MAX, p->f.level);
		if (p->level < 0)
			p->level = LEVEL_PRIMARY;
		p->active = db_bool(r, i, 6);
		p->users = (int)db_ll(r, i, 7);
	}
	PQclear(r);
	if (is.sel >= is.n)
		is.sel = is.n > 0 ? is.n - 1 : 0;
	return 0;
}

static void
inst_draw(struct console *con, int top, int height)
{
	const char	*cells[6];
	char		 info[200], users[16];
	int		 i, rows = height - 2;

	(void)con;
	if (is.sel < is.top)
		is.top = is.sel;
	if (rows > 0 && is.sel >= is.top + rows)
		is.top = is.sel - rows + 1;
	(void)snprintf(info, sizeof(info), "机构 %d 个  搜索：%s", is.n,
	    is.search[0] ? is.search : "（全部）");
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, inst_cols, 6);
	for (i = is.top; i < is.n && i - is.top < rows; i++) {
		(void)snprintf(users, sizeof(users), "%d", is.rows[i].users);
		cells[0] = is.rows[i].f.code;
		cells[1] = is.rows[i].f.name;
		cells[2] = level_names[is.rows[i].level].zh;
		cells[3] = is.rows[i].f.region;
		cells[4] = users;
		cells[5] = is.rows[i].active ? "正常" : "已停用";
		scr_table_row(top + 2 + i - is.top, inst_cols, 6, cells,
		    i == is.sel);
	}
}

static int
inst_edit(struct console *con, const struct inst_row *p)
{
	struct field	 fl[5];
	struct form	 f;
	struct inst_form v;
	struct store_err e;
	int		 k;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "code"; fl[0].label = "机构代码"; fl[0].kind = FK_TEXT;
	fl[1].name = "name"; fl[1].label = "机构名称"; fl[1].kind = FK_TEXT;
	fl[2].name = "level"; fl[2].label = "级别"; fl[2].kind = FK_CHOICE;
	fl[2].opts = level_names; fl[2].nopts = LEVEL__MAX;
	fl[2].choice = LEVEL_COUNTY;
	fl[3].name = "region"; fl[3].label = "地区"; fl[3].kind = FK_TEXT;
	fl[4].name = "contact"; fl[4].label = "联系方式"; fl[4].kind = FK_TEXT;
	if (p != NULL) {
		str_copy(fl[0].text, sizeof(fl[0].text), p->f.code);
		str_copy(fl[1].text, sizeof(fl[1].text), p->f.name);
		fl[2].choice = p->level;
		str_copy(fl[3].text, sizeof(fl[3].text), p->f.region);
		str_copy(fl[4].text, sizeof(fl[4].text), p->f.contact);
	}
	memset(&f, 0, sizeof(f));
	f.title = p ? "编辑机构" : "新建机构";
	f.fields = fl;
	f.n = 5;
	for (;;) {
		if (!form_run(con, &f)) {
			console_msg(con, 0, "已取消");
			return RD_RELOAD;
		}
		memset(&v, 0, sizeof(v));
		str_copy(v.code, sizeof(v.code), fl[0].text);
		str_copy(v.name, sizeof(v.name), fl[1].text);
		str_copy(v.level, sizeof(v.level), level_names[fl[2].choice].code);
		str_copy(v.region, sizeof(v.region), fl[3].text);
		str_copy(v.contact, sizeof(v.contact), fl[4].text);
		memset(&e, 0, sizeof(e));
		if (store_inst_save(con->db, &con->actor, p ? p->id : 0, &v,
		    &e, NULL) == ST_OK)
			break;
		form_error(&f, &e);
	}
	console_msg(con, 0, "已保存机构 %s", v.name);
	(void)inst_load(con);
	for (k = 0; k < is.n; k++)
		if (strcmp(is.rows[k].f.code, v.code) == 0)
			is.sel = k;
	return RD_DRAW;
}

static int
inst_key(struct console *con, int key)
{
	struct inst_row	*p = is.n > 0 ? &is.rows[is.sel] : NULL;
	struct store_err e;
	char		 q[600];
	int		 page = console_body_height() - 2;

	memset(&e, 0, sizeof(e));
	switch (key) {
	case K_DOWN:
		if (is.sel + 1 < is.n)
			is.sel++;
		return RD_DRAW;
	case K_UP:
		if (is.sel > 0)
			is.sel--;
		return RD_DRAW;
	case K_PGDN:
		is.sel = is.sel + page < is.n ? is.sel + page :
		    (is.n > 0 ? is.n - 1 : 0);
		return RD_DRAW;
	case K_PGUP:
		is.sel = is.sel > page ? is.sel - page : 0;
		return RD_DRAW;
	case K_F(3):
	case '/':
		(void)prompt(con, "搜索机构代码或名称", is.search,
		    sizeof(is.search));
		is.sel = 0;
		return RD_RELOAD;
	case K_F(2):
		return inst_edit(con, NULL);
	case K_F(4):
	case K_ENTER:
		return p ? inst_edit(con, p) : RD_DRAW;
	case K_F(5):
		return RD_RELOAD;
	case K_F(6):
		if (p == NULL)
			return RD_DRAW;
		(void)snprintf(q, sizeof(q), p->active ?
		    "停用机构 %s？\n停用后该机构的用户将不能登录。" :
		    "启用机构 %s？", p->f.name);
		if (!confirm(con, q))
			return RD_DRAW;
		if (store_inst_active(con->db, &con->actor, p->id, !p->active,
		    &e) == ST_OK)
			console_msg(con, 0, "已%s机构 %s",
			    p->active ? "停用" : "启用", p->f.name);
		else
			console_msg(con, 1, "%s", e.msg);
		return RD_RELOAD;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel inst_panel = {
	"机构", inst_keys_get, inst_load, inst_draw, inst_key, inst_help
};
