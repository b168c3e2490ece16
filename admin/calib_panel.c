/*
 * calib_panel.c - 钙化积分校准: the calcium mass score's factor per
 * scanner (cac_calibrations), as the site measured it on its phantom.
 * List, add, change the factor and note, remove.  The checks, the SQL
 * and the audit rows are store.c's, shared with `zhiying-admin
 * calibration add|list|remove` (calib.c).  Changes are for platform
 * administrators: the table is the whole platform's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"

#define CALIB_MAX	500

struct calib_row {
	long long	 id;
	struct calib_form f;
	char		 updated[80];	/* date and login */
};

static struct {
	struct calib_row rows[CALIB_MAX];
	int		 n, sel, top;
} cb;

static const char *const calib_keys[FUNCBAR_KEYS] = {
	"帮助", "新增", NULL, "修改", "刷新", NULL, NULL, "删除", NULL, "退出"
};
static const char *const calib_keys_ro[FUNCBAR_KEYS] = {
	"帮助", NULL, NULL, NULL, "刷新", NULL, NULL, NULL, NULL, "退出"
};

static const char *const calib_help[] = {
	"  各扫描机型的钙化质量积分校准系数（mg/cm³/HU，120 kV），",
	"  由本院用羟基磷灰石体模测定后录入。",
	"  F2 新增（厂商、型号、管电压都相同的记录被替换）",
	"  F4 或 Enter 修改系数与备注  F8 删除（需确认）",
	"  型号、管电压留空表示该厂商的所有机型、所有电压。",
	"  AI按“型号+管电压、型号、管电压、仅厂商”取最具体的一条，",
	"  都不符合时用配置项 cac_calibration 的默认值。",
	"  只有平台管理员可以修改；每次修改都写入审计日志。",
	NULL
};

static const struct column calib_cols[] = {
	{ "编号", 4 }, { "厂商", 12 }, { "型号", 14 }, { "管电压", 6 },
	{ "系数", 5 }, { "备注", 16 }, { "更新", 0 },
};

static const char *
calib_all(const char *s)
{
	return s[0] != '\0' ? s : "全部";
}

/* "GE LightSpeed16 120 kV": the scanner a row is for. */
static void
calib_scanner(char *buf, size_t size, const struct calib_form *f)
{
	(void)snprintf(buf, size, "%s%s%s%s%s", f->manufacturer,
	    f->model[0] ? " " : "", f->model, f->kvp[0] ? " " : "", f->kvp);
	if (f->kvp[0] != '\0' && strlen(buf) + 4 < size)
		(void)strcat(buf, " kV");
}

static const char *const *
calib_keys_get(struct console *con)
{
	return con->actor.platform ? calib_keys : calib_keys_ro;
}

static int
calib_load(struct console *con)
{
	PGresult	*r;
	int		 i;

	if ((r = store_calib_list(con->db)) == NULL) {
		console_msg(con, 1, "读取钙化积分校准失败");
		cb.n = 0;
		return -1;
	}
	cb.n = PQntuples(r) < CALIB_MAX ? PQntuples(r) : CALIB_MAX;
	for (i = 0; i < cb.n; i++) {
		struct calib_row *p = &cb.rows[i];

		p->id = db_ll(r, i, 0);
		str_copy(p->f.manufacturer, sizeof(p->f.manufacturer),
		    db_val(r, i, 1));
		str_copy(p->f.model, sizeof(p->f.model), db_val(r, i, 2));
		str_copy(p->f.kvp, sizeof(p->f.kvp), db_val(r, i, 3));
		str_copy(p->f.factor, sizeof(p->f.factor), db_val(r, i, 4));
		str_copy(p->f.note, sizeof(p->f.note), db_val(r, i, 5));
		(void)snprintf(p->updated, sizeof(p->updated), "%s %s",
		    db_val(r, i, 6), db_val(r, i, 7));
	}
	PQclear(r);
	if (cb.sel >= cb.n)
		cb.sel = cb.n > 0 ? cb.n - 1 : 0;
	return 0;
}

static void
calib_draw(struct console *con, int top, int height)
{
	const char	*cells[7];
	char		 info[200], id[24];
	int		 i, rows = height - 2;

	if (cb.sel < cb.top)
		cb.top = cb.sel;
	if (rows > 0 && cb.sel >= cb.top + rows)
		cb.top = cb.sel - rows + 1;
	(void)snprintf(info, sizeof(info), "钙化积分校准 %d 条  "
	    "系数单位 mg/cm³/HU（120 kV）%s", cb.n, con->actor.platform ?
	    "" : "  仅平台管理员可修改");
	(void)scr_put(top, 0, -1, info, AT_NORMAL);
	scr_table_head(top + 1, calib_cols, 7);
	for (i = cb.top; i < cb.n && i - cb.top < rows; i++) {
		(void)snprintf(id, sizeof(id), "%lld", cb.rows[i].id);
		cells[0] = id;
		cells[1] = cb.rows[i].f.manufacturer;
		cells[2] = calib_all(cb.rows[i].f.model);
		cells[3] = calib_all(cb.rows[i].f.kvp);
		cells[4] = cb.rows[i].f.factor;
		cells[5] = cb.rows[i].f.note;
		cells[6] = cb.rows[i].updated;
		scr_table_row(top + 2 + i - cb.top, calib_cols, 7, cells,
		    i == cb.sel);
	}
	if (cb.n == 0)
		(void)scr_put(top + 2, 0, -1, "尚未录入校准：钙化质量积分使用"
		    "配置项 cac_calibration 的默认值", AT_NORMAL);
}

/* The form of a new calibration (p NULL), or of the factor and note of
 * row p. */
static int
calib_edit(struct console *con, const struct calib_row *p)
{
	struct field	 fl[5];
	struct form	 f;
	struct calib_form v;
	struct store_err e;
	char		 what[1000];
	long long	 id = 0;
	int		 k;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "manufacturer"; fl[0].label = "厂商";
	fl[1].name = "model"; fl[1].label = "型号";
	fl[2].name = "kvp"; fl[2].label = "管电压 kV";
	fl[3].name = "factor"; fl[3].label = "校准系数";
	fl[4].name = "note"; fl[4].label = "备注";
	for (k = 0; k < 5; k++)
		fl[k].kind = p != NULL && k < 3 ? FK_FIXED : FK_TEXT;
	if (p != NULL) {
		str_copy(fl[0].text, sizeof(fl[0].text), p->f.manufacturer);
		str_copy(fl[1].text, sizeof(fl[1].text),
		    calib_all(p->f.model));
		str_copy(fl[2].text, sizeof(fl[2].text), calib_all(p->f.kvp));
		str_copy(fl[3].text, sizeof(fl[3].text), p->f.factor);
		str_copy(fl[4].text, sizeof(fl[4].text), p->f.note);
		/* A note longer than the field holds (from the command
		 * line) is kept as it is rather than cut. */
		if (strlen(p->f.note) >= sizeof(fl[4].text))
			fl[4].kind = FK_FIXED;
	}
	memset(&f, 0, sizeof(f));
	f.title = p ? "修改校准系数（mg/cm³/HU，120 kV）" :
	    "新增校准（系数 mg/cm³/HU；型号、管电压留空表示全部）";
	f.fields = fl;
	f.n = 5;
	for (;;) {
		if (!form_run(con, &f)) {
			console_msg(con, 0, "已取消");
			return RD_RELOAD;
		}
		memset(&v, 0, sizeof(v));
		if (p != NULL) {
			str_copy(v.manufacturer, sizeof(v.manufacturer),
			    p->f.manufacturer);
			str_copy(v.model, sizeof(v.model), p->f.model);
			str_copy(v.kvp, sizeof(v.kvp), p->f.kvp);
		} else {
			str_copy(v.manufacturer, sizeof(v.manufacturer),
			    fl[0].text);
			str_copy(v.model, sizeof(v.model), fl[1].text);
			str_copy(v.kvp, sizeof(v.kvp), fl[2].text);
		}
		str_copy(v.factor, sizeof(v.factor), fl[3].text);
		str_copy(v.note, sizeof(v.note), fl[4].kind == FK_FIXED ?
		    p->f.note : fl[4].text);
		memset(&e, 0, sizeof(e));
		if (store_calib_save(con->db, &con->actor, &v, &e, &id) ==
		    ST_OK)
			break;
		form_error(&f, &e);
	}
	calib_scanner(what, sizeof(what), &v);
	console_msg(con, 0, "已保存校准 %s：系数 %s", what, v.factor);
	(void)calib_load(con);
	for (k = 0; k < cb.n; k++)
		if (cb.rows[k].id == id)
			cb.sel = k;
	return RD_DRAW;
}

static int
calib_key(struct console *con, int key)
{
	struct calib_row *p = cb.n > 0 ? &cb.rows[cb.sel] : NULL;
	struct store_err e;
	char		 q[1200], what[1000];
	int		 page = console_body_height() - 2;

	memset(&e, 0, sizeof(e));
	switch (key) {
	case K_DOWN:
		if (cb.sel + 1 < cb.n)
			cb.sel++;
		return RD_DRAW;
	case K_UP:
		if (cb.sel > 0)
			cb.sel--;
		return RD_DRAW;
	case K_PGDN:
		cb.sel = cb.sel + page < cb.n ? cb.sel + page :
		    (cb.n > 0 ? cb.n - 1 : 0);
		return RD_DRAW;
	case K_PGUP:
		cb.sel = cb.sel > page ? cb.sel - page : 0;
		return RD_DRAW;
	case K_F(5):
		return RD_RELOAD;
	case K_F(2):
	case K_F(4):
	case K_ENTER:
	case K_F(8):
		break;
	default:
		return RD_UNHANDLED;
	}
	if (!con->actor.platform) {
		console_msg(con, 1, "只有平台管理员可以管理钙化积分校准");
		return RD_DRAW;
	}
	if (key == K_F(2))
		return calib_edit(con, NULL);
	if (p == NULL)
		return RD_DRAW;
	if (key != K_F(8))
		return calib_edit(con, p);
	calib_scanner(what, sizeof(what), &p->f);
	(void)snprintf(q, sizeof(q), "删除校准 %s（系数 %s）？\n"
	    "删除后该机型使用更一般的校准或默认值。", what, p->f.factor);
	if (!confirm(con, q))
		return RD_DRAW;
	if (store_calib_remove(con->db, &con->actor, p->id, &e) == ST_OK)
		console_msg(con, 0, "已删除校准 %s", what);
	else
		console_msg(con, 1, "%s", e.msg);
	return RD_RELOAD;
}

const struct panel calib_panel = {
	"校准", calib_keys_get, calib_load, calib_draw, calib_key, calib_help
};
