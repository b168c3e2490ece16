/*
 * alliance_panel.c - alliances (医联体/医共体) and their members: which
 * member is the upper hospital (上级) of which.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"

#define AL_MAX	500

struct al_row {
	long long	 id;
	struct alliance_form f;
	int		 kind, members;
};

struct member_row {
	long long	 inst;
	char		 code[64], name[400], level[16];
	char		 sup_code[64], sup_name[400];
};

static struct {
	struct al_row	 rows[AL_MAX];
	int		 n, sel, top;
	int		 open;		/* showing the members of rows[sel] */
	struct member_row members[AL_MAX];
	int		 mn, msel, mtop;
} al;

static const char *const al_keys[FUNCBAR_KEYS] = {
	"帮助", "新建", NULL, "编辑", "刷新", NULL, NULL, NULL, NULL, "退出"
};
static const char *const member_keys[FUNCBAR_KEYS] = {
	"帮助", "加成员", NULL, "设上级", "刷新", NULL, NULL, "移除", NULL,
	"退出"
};

static const char *const al_help[] = {
	"  列表：F2 新建  F4 编辑  Enter 查看成员",
	"  成员：F2 加入机构（可同时指定上级医院）  F4 设置上级医院  F8 移除  Esc 返回",
	"  上级医院必须是同一医联体/医共体的成员，上下级关系不能成环。",
	NULL
};

static const struct column al_cols[] = {
	{ "代码", 10 }, { "名称", 24 }, { "类型", 6 }, { "成员", 0 },
};
static const struct column member_cols[] = {
	{ "代码", 8 }, { "成员机构", 20 }, { "级别", 4 }, { "上级医院", 0 },
};

static const char *const *
al_keys_get(struct console *con)
{
	(void)con;
	return al.open ? member_keys : al_keys;
}

static int
al_load(struct console *con)
{
	PGresult	*r;
	char		 sid[32];
	int		 i;

	if ((r = db_exec(con->db, "SELECT a.id, a.code, a.name, a.kind,"
	    " (SELECT count(*) FROM alliance_members m"
	    "  WHERE m.alliance_id = a.id)"
	    " FROM alliances a ORDER BY a.code LIMIT 500", 0)) == NULL) {
		console_msg(con, 1, "读取医联体失败");
		al.n = 0;
		return -1;
	}
	al.n = PQntuples(r);
	for (i = 0; i < al.n; i++) {
		al.rows[i].id = db_ll(r, i, 0);
		str_copy(al.rows[i].f.code, sizeof(al.rows[i].f.code),
		    db_val(r, i, 1));
		str_copy(al.rows[i].f.name, sizeof(al.rows[i].f.name),
		    db_val(r, i, 2));
		str_copy(al.rows[i].f.kind, sizeof(al.rows[i].f.kind),
		    db_val(r, i, 3));
		al.rows[i].kind = model_lookup(alliance_kind_names,
		    ALLIANCE__MAX, db_val(r, i, 3));
		if (al.rows[i].kind < 0)
			al.rows[i].kind = ALLIANCE_MEDICAL;
		al.rows[i].members = (int)db_ll(r, i, 4);
	}
	PQclear(r);
	if (al.sel >= al.n)
		al.sel = al.n > 0 ? al.n - 1 : 0;
	if (!al.open || al.n == 0) {
		al.open = 0;
		return 0;
	}
	(void)snprintf(sid, sizeof(sid), "%lld", al.rows[al.sel].id);
	if ((r = db_exec(con->db, "SELECT i.id, i.code, i.name, i.level,"
	    " coalesce(s.code, ''), coalesce(s.name, '')"
	    " FROM alliance_members m JOIN institutions i"
	    "  ON i.id = m.institution_id"
	    " LEFT JOIN institutions s ON s.id = m.superior_id"
	    " WHERE m.alliance_id = $1::bigint"
	    " ORDER BY m.superior_id IS NOT NULL, i.level, i.code", 1,
	    sid)) == NULL) {
		console_msg(con, 1, "读取成员失败");
		al.mn = 0;
		return -1;
	}
	al.mn = PQntuples(r) < AL_MAX ? PQntuples(r) : AL_MAX;
	for (i = 0; i < al.mn; i++) {
		struct member_row *m = &al.members[i];
		int	 lv;

		m->inst = db_ll(r, i, 0);
		str_copy(m->code, sizeof(m->code), db_val(r, i, 1));
		str_copy(m->name, sizeof(m->name), db_val(r, i, 2));
		lv = model_lookup(level_names, LEVEL__MAX, db_val(r, i, 3));
		str_copy(m->level, sizeof(m->level),
		    lv < 0 ? "" : level_names[lv].zh);
		str_copy(m->sup_code, sizeof(m->sup_code), db_val(r, i, 4));
		str_copy(m->sup_name, sizeof(m->sup_name), db_val(r, i, 5));
	}
	PQclear(r);
	if (al.msel >= al.mn)
		al.msel = al.mn > 0 ? al.mn - 1 : 0;
	return 0;
}

static void
al_draw(struct console *con, int top, int height)
{
	const char	*cells[4];
	char		 info[600], num[16], sup[500];
	int		 i, rows = height - 2;

	(void)con;
	if (!al.open) {
		if (al.sel < al.top)
			al.top = al.sel;
		if (rows > 0 && al.sel >= al.top + rows)
			al.top = al.sel - rows + 1;
		(void)snprintf(info, sizeof(info), "医联体/医共体 %d 个", al.n);
		(void)scr_put(top, 0, -1, info, AT_NORMAL);
		scr_table_head(top + 1, al_cols, 4);
		for (i = al.top; i < al.n && i - al.top < rows; i++) {
			(void)snprintf(num, sizeof(num), "%d",
			    al.rows[i].members);
			cells[0] = al.rows[i].f.code;
			cells[1] = al.rows[i].f.name;
			cells[2] = alliance_kind_names[al.rows[i].kind].zh;
			cells[3] = num;
			scr_table_row(top + 2 + i - al.top, al_cols, 4, cells,
			    i == al.sel);
		}
		return;
	}
	if (al.msel < al.mtop)
		al.mtop = al.msel;
	if (rows > 0 && al.msel >= al.mtop + rows)
		al.mtop = al.msel - rows + 1;
	(void)snprintf(info, sizeof(info), "%s（%s）的成员 %d 个  Esc 返回",
	    al.rows[al.sel].f.name,
	    alliance_kind_names[al.rows[al.sel].kind].zh, al.mn);
	(void)scr_put(top, 0, -1, info, AT_BOLD);
	scr_table_head(top + 1, member_cols, 4);
	for (i = al.mtop; i < al.mn && i - al.mtop < rows; i++) {
		if (al.members[i].sup_code[0] != '\0')
			(void)snprintf(sup, sizeof(sup), "%s %s",
			    al.members[i].sup_code, al.members[i].sup_name);
		else
			str_copy(sup, sizeof(sup), "（牵头医院）");
		cells[0] = al.members[i].code;
		cells[1] = al.members[i].name;
		cells[2] = al.members[i].level;
		cells[3] = sup;
		scr_table_row(top + 2 + i - al.mtop, member_cols, 4, cells,
		    i == al.msel);
	}
}

static int
al_edit(struct console *con, const struct al_row *p)
{
	struct field	 fl[3];
	struct form	 f;
	struct alliance_form v;
	struct store_err e;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "code"; fl[0].label = "代码"; fl[0].kind = FK_TEXT;
	fl[1].name = "name"; fl[1].label = "名称"; fl[1].kind = FK_TEXT;
	fl[2].name = "kind"; fl[2].label = "类型"; fl[2].kind = FK_CHOICE;
	fl[2].opts = alliance_kind_names; fl[2].nopts = ALLIANCE__MAX;
	if (p != NULL) {
		str_copy(fl[0].text, sizeof(fl[0].text), p->f.code);
		str_copy(fl[1].text, sizeof(fl[1].text), p->f.name);
		fl[2].choice = p->kind;
	}
	memset(&f, 0, sizeof(f));
	f.title = p ? "编辑医联体/医共体" : "新建医联体/医共体";
	f.fields = fl;
	f.n = 3;
	for (;;) {
		if (!form_run(con, &f)) {
			console_msg(con, 0, "已取消");
			return RD_RELOAD;
		}
		memset(&v, 0, sizeof(v));
		str_copy(v.code, sizeof(v.code), fl[0].text);
		str_copy(v.name, sizeof(v.name), fl[1].text);
		str_copy(v.kind, sizeof(v.kind),
		    alliance_kind_names[fl[2].choice].code);
		memset(&e, 0, sizeof(e));
		if (store_alliance_save(con->db, &con->actor, p ? p->id : 0,
		    &v, &e, NULL) == ST_OK)
			break;
		form_error(&f, &e);
	}
	console_msg(con, 0, "已保存 %s", v.name);
	return RD_RELOAD;
}

static int
member_edit(struct console *con, const struct member_row *m)
{
	struct field	 fl[2];
	struct form	 f;
	struct store_err e;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "inst"; fl[0].label = "成员机构代码";
	fl[0].kind = m ? FK_FIXED : FK_TEXT;
	fl[1].name = "superior"; fl[1].label = "上级医院代码";
	fl[1].kind = FK_TEXT;
	if (m != NULL) {
		str_copy(fl[0].text, sizeof(fl[0].text), m->code);
		str_copy(fl[1].text, sizeof(fl[1].text), m->sup_code);
	}
	memset(&f, 0, sizeof(f));
	f.title = m ? "设置上级医院（留空则为牵头医院）" :
	    "加入成员（上级医院留空则为牵头医院）";
	f.fields = fl;
	f.n = 2;
	for (;;) {
		if (!form_run(con, &f)) {
			console_msg(con, 0, "已取消");
			return RD_RELOAD;
		}
		memset(&e, 0, sizeof(e));
		if (store_member_set(con->db, &con->actor,
		    al.rows[al.sel].id, fl[0].text, fl[1].text, &e) == ST_OK)
			break;
		form_error(&f, &e);
	}
	console_msg(con, 0, "已保存成员 %s", fl[0].text);
	return RD_RELOAD;
}

static int
al_key(struct console *con, int key)
{
	struct store_err e;
	char		 q[600];
	int		*sel = al.open ? &al.msel : &al.sel;
	int		 n = al.open ? al.mn : al.n;

	memset(&e, 0, sizeof(e));
	switch (key) {
	case K_DOWN:
		if (*sel + 1 < n)
			(*sel)++;
		return RD_DRAW;
	case K_UP:
		if (*sel > 0)
			(*sel)--;
		return RD_DRAW;
	case K_ESC:
		if (!al.open)
			return RD_UNHANDLED;
		al.open = 0;
		return RD_RELOAD;
	case K_ENTER:
		if (al.open || al.n == 0)
			return al.open && al.mn > 0 ?
			    member_edit(con, &al.members[al.msel]) : RD_DRAW;
		al.open = 1;
		al.msel = al.mtop = 0;
		return RD_RELOAD;
	case K_F(2):
		if (!al.open)
			return al_edit(con, NULL);
		return member_edit(con, NULL);
	case K_F(4):
		if (!al.open)
			return al.n ? al_edit(con, &al.rows[al.sel]) : RD_DRAW;
		return al.mn ? member_edit(con, &al.members[al.msel]) : RD_DRAW;
	case K_F(5):
		return RD_RELOAD;
	case K_F(8):
		if (!al.open || al.mn == 0)
			return RD_UNHANDLED;
		(void)snprintf(q, sizeof(q), "把 %s 移出 %s？",
		    al.members[al.msel].name, al.rows[al.sel].f.name);
		if (!confirm(con, q))
			return RD_DRAW;
		if (store_member_remove(con->db, &con->actor,
		    al.rows[al.sel].id, al.members[al.msel].inst, &e) == ST_OK)
			console_msg(con, 0, "已移除 %s",
			    al.members[al.msel].name);
		else
			console_msg(con, 1, "%s", e.msg);
		return RD_RELOAD;
	default:
		return RD_UNHANDLED;
	}
}

const struct panel alliance_panel = {
	"医联体", al_keys_get, al_load, al_draw, al_key, al_help
};
