/*
 * page.c - what every page shares, and the pages of the navigation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "pages.h"
#include "preview.h"
#include "series.h"
#include "store.h"
#include "workflow.h"

struct tdict *
page_dict(struct req *r)
{
	struct tdict	*d, *n;
	const struct account *a = &r->sess.acct;
	char		 roles[256], *mask;
	int		 p;

	if ((d = tdict_new(r->a, NULL)) == NULL)
		return NULL;
	(void)tdict_set(d, "site", r->conf->site_name);
	(void)tdict_set(d, "title", pages[r->page].title != NULL ?
	    pages[r->page].title : "");
	if (r->sstate != SESSION_OK) {
		(void)tdict_bool(d, "authed", 0);
		return d;
	}
	(void)tdict_bool(d, "authed", 1);
	(void)tdict_set(d, "user_name", a->display_name);
	(void)tdict_set(d, "user_login", a->login);
	(void)tdict_set(d, "institution", a->institution_name);
	/* Masked afresh for each page (auth_csrf_mask: BREACH). */
	if ((mask = arena_alloc(r->a, AUTH_MASKED_LEN + 1)) == NULL)
		return NULL;
	auth_csrf_mask(r->sess.csrf, mask);
	(void)tdict_set(d, "csrf", mask);
	(void)tdict_set(d, "user_roles",
	    model_roles_zh(a->roles, roles, sizeof(roles)));
	(void)tdict_set(d, "user_title", title_names[a->title].zh);
	(void)tdict_bool(d, "has_title", a->title != TITLE_NONE);
	/* The navigation holds exactly the pages this user may open. */
	for (p = 0; p < PAGE__MAX; p++) {
		if (!pages[p].nav || !(pages[p].roles & a->roles))
			continue;
		if ((n = tdict_add(d, "nav")) == NULL)
			return NULL;
		(void)tdict_set(n, "href", pages[p].path);
		(void)tdict_set(n, "label", pages[p].title);
		(void)tdict_set(n, "cls", p == (int)r->page ? "active" : "");
	}
	return d;
}

void
page_actor(const struct req *r, struct wf_actor *w)
{
	memset(w, 0, sizeof(*w));
	w->user_id = r->sess.acct.id;
	w->institution_id = r->sess.acct.institution_id;
	w->login = r->sess.acct.login;
	w->name = r->sess.acct.display_name;
	w->roles = r->sess.acct.roles;
	w->title = r->sess.acct.title;
	w->ip = r->ip;
}

void
page_render(struct req *r, int status, const char *name, struct tdict *d)
{
	if (d == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	(void)http_open(r, status, "text/html; charset=utf-8");
	if (tmpl_render(r->tmpl, name, tdict_scope(d), http_tmpl_write,
	    r) == -1)
		log_error("%s: rendering %s failed", __func__, name);
}

/* The detail of a read's audit row: the page, and what names the object
 * for a person reading the log.  Returns JSON text to free(). */
static char *
read_detail(const struct req *r, const char *note_key, const char *note,
    int status)
{
	json_t	*o;
	char	*s;

	o = json_object();
	(void)json_object_set_new(o, "page", json_string(r->path));
	if (note != NULL && *note != '\0')
		(void)json_object_set_new(o, note_key, json_string(note));
	if (status != 0)
		(void)json_object_set_new(o, "status", json_integer(status));
	(void)json_object_set_new(o, "session", json_integer(r->sess.id));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int
page_audit_read(struct req *r, const char *action, const char *type,
    long long id, const char *diag_no)
{
	struct audit	 a;
	char		 oid[32], *detail;
	int		 rc;

	(void)snprintf(oid, sizeof(oid), "%lld", id);
	if ((detail = read_detail(r, "diag_no", diag_no, 0)) == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	a.actor_id = r->sess.acct.id;
	a.actor_login = r->sess.acct.login;
	a.institution_id = r->sess.acct.institution_id;
	a.action = action;
	a.object_type = type;
	a.object_id = oid;
	a.ip = r->ip;
	a.detail = detail;
	rc = audit_write(r->db, &a);
	free(detail);
	return rc;
}

/* Parse a PostgreSQL float array "{a,b,c}" into at most n values. */
int
page_float_array(const char *s, double *v, int n)
{
	char	*end;
	int	 k = 0;

	if (*s != '{')
		return 0;
	s++;
	while (k < n && *s != '\0' && *s != '}') {
		v[k++] = strtod(s, &end);
		if (end == s)
			return 0;
		s = *end == ',' ? end + 1 : end;
	}
	return k;
}

int
page_audit_image(struct req *r, long long series_id)
{
	char	 uid[32], inst[32], oid[32], *detail;
	int	 rc;

	(void)snprintf(uid, sizeof(uid), "%lld", r->sess.acct.id);
	(void)snprintf(inst, sizeof(inst), "%lld", r->sess.acct.institution_id);
	(void)snprintf(oid, sizeof(oid), "%lld", series_id);
	if ((detail = read_detail(r, NULL, NULL, 0)) == NULL)
		return -1;
	/* A viewer asks for dozens of slices a minute: one row per series,
	 * user and minute says who looked, and when, as well. */
	rc = db_cmd(r->db, "INSERT INTO audit_log (actor_id, actor_login,"
	    " institution_id, action, object_type, object_id, ip, channel,"
	    " detail) SELECT $1::bigint, $2, $3::bigint, 'image_viewed',"
	    " 'series', $4, $5::inet, 'web', $6::jsonb WHERE NOT EXISTS"
	    " (SELECT 1 FROM audit_log WHERE action = 'image_viewed'"
	    "  AND actor_id = $1::bigint AND object_type = 'series'"
	    "  AND object_id = $4"
	    "  AND at >= date_trunc('minute', clock_timestamp()))", 6,
	    uid, r->sess.acct.login, inst, oid, audit_ip(r->ip), detail);
	free(detail);
	return rc;
}

/*
 * A refusal (403, 404) met by a logged-in user is audited: who tried to
 * open what.  Anonymous requests are not: they never reach patient data
 * and would let anyone fill the log.
 */
static void
page_audit_denied(struct req *r, int status, const char *message)
{
	struct audit	 a;
	const char	*id;
	char		*detail;

	if (r->sstate != SESSION_OK || r->db == NULL || r->unrouted ||
	    (status != 403 && status != 404))
		return;
	if ((detail = read_detail(r, "message", message, status)) == NULL)
		return;
	id = http_field(r, FIELD_ID);
	memset(&a, 0, sizeof(a));
	a.actor_id = r->sess.acct.id;
	a.actor_login = r->sess.acct.login;
	a.institution_id = r->sess.acct.institution_id;
	a.action = "access_denied";
	a.object_type = "page";
	a.object_id = id != NULL ? id : "";
	a.ip = r->ip;
	a.detail = detail;
	if (audit_write(r->db, &a) == -1)
		log_error("%s: %s on %s not audited", __func__,
		    r->sess.acct.login, r->path);
	free(detail);
}

/*
 * What a user can do after a refusal or a failure, by its status: the
 * message says what happened, this what to do next.
 */
static const struct {
	int		 status;
	const char	*title;
	const char	*advice;
} error_words[] = {
	{ 400, "请求无效", "提交的内容不完整或格式不正确。请返回上一页，"
	    "检查填写的内容后重新提交。" },
	{ 403, "没有权限", "您没有权限查看此页面或进行此操作。如需开通权限，"
	    "请联系本机构的系统管理员；如果登录已失效，请重新登录。" },
	{ 404, "页面不存在", "页面不存在，或您无权查看。请检查地址是否正确，"
	    "或从首页的导航重新进入。" },
	{ 405, "请求方式不支持", "请从页面上的按钮和链接进行操作，"
	    "不要直接在地址栏中打开此地址。" },
	{ 409, "状态已变化", "申请单或报告的状态已经变化，此操作无法完成。"
	    "请刷新页面，查看最新状态后再操作。" },
	{ 413, "提交的内容过大", "提交的内容超过了系统允许的大小。"
	    "请精简内容，或分几次提交。" },
	{ 500, "系统内部错误", "系统处理您的请求时出错，您的操作可能没有完成。"
	    "请稍后重试；如果多次出现，请联系系统管理员。" },
	{ 503, "系统暂时不可用", "系统正忙或正在维护，请稍等几分钟后重试。"
	    "如果长时间无法使用，请联系系统管理员。" },
};

void
page_error(struct req *r, int status, const char *message)
{
	struct tdict	*d;
	const char	*title = "无法完成请求", *advice =
	    "请返回首页后重试；如果多次出现，请联系系统管理员。";
	size_t		 i;

	if (r->opened)
		return;
	page_audit_denied(r, status, message);
	for (i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++)
		if (error_words[i].status == status) {
			title = error_words[i].title;
			advice = error_words[i].advice;
		}
	if ((d = page_dict(r)) == NULL) {
		(void)http_open(r, status, "text/plain; charset=utf-8");
		(void)http_puts(r, message);
		return;
	}
	(void)tdict_setf(d, "status", "%d", status);
	(void)tdict_set(d, "message", message);
	(void)tdict_set(d, "advice", advice);
	(void)tdict_set(d, "title", title);
	page_render(r, status, "error.html", d);
}

void
page_health(struct req *r)
{
	(void)http_open(r, 200, "text/plain; charset=utf-8");
	(void)http_puts(r, "ok\n");
}

void
page_home(struct req *r)
{
	struct tdict	*d;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	if (lists_home(r, d) == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	page_render(r, 200, "home.html", d);
}

/*
 * 机构用户: the accounts of the administrator's own institution.  Changes
 * are made in the console (zhiying-admin).
 */
void
page_admin_users(struct req *r)
{
	struct tdict	*d, *row;
	PGresult	*res;
	char		 inst[32], roles[256];
	int		 i, t;

	(void)snprintf(inst, sizeof(inst), "%lld", r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT login, display_name, roles,"
	    " coalesce(title, ''), active,"
	    " coalesce(locked_until > now(), false),"
	    " coalesce(to_char(last_login_at, 'YYYY-MM-DD HH24:MI'), '')"
	    " FROM users WHERE institution_id = $1::bigint ORDER BY login",
	    1, inst);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if ((d = page_dict(r)) == NULL) {
		PQclear(res);
		page_error(r, 500, "系统内部错误");
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		if ((row = tdict_add(d, "users")) == NULL)
			break;
		(void)tdict_set(row, "login", db_val(res, i, 0));
		(void)tdict_set(row, "name", db_val(res, i, 1));
		(void)tdict_set(row, "roles", model_roles_zh(
		    model_roles_parse(db_val(res, i, 2)), roles,
		    sizeof(roles)));
		t = model_lookup(title_names, TITLE__MAX, db_val(res, i, 3));
		(void)tdict_set(row, "title", t > 0 ? title_names[t].zh : "");
		(void)tdict_set(row, "state", !db_bool(res, i, 4) ? "已停用" :
		    db_bool(res, i, 5) ? "已锁定" : "正常");
		(void)tdict_set(row, "last_login", db_val(res, i, 6));
	}
	PQclear(res);
	page_render(r, 200, "admin_users.html", d);
}

void
page_stored_png(struct req *r, const char *key, int frame, int preset,
    int max_edge, const char *what)
{
	struct store		*st;
	struct series_volume	*v = NULL;
	struct voi		 voi;
	struct buf		 png;
	const char		*paths[1];
	char			 path[4096], err[256];
	double			 c, wd;

	if ((st = store_open_dir(r->conf->store)) == NULL ||
	    store_local_path(st, key, path, sizeof(path)) == -1) {
		if (st != NULL)
			store_close(st);
		page_error(r, 404, "影像文件不存在");
		return;
	}
	store_close(st);
	paths[0] = path;
	err[0] = '\0';
	buf_init(&png, 16 * 1024 * 1024);
	if (series_load(paths, 1, NULL, &v, err, sizeof(err)) == -1)
		goto fail;
	/* One image: its only slice; a multi-frame file: the frame asked
	 * for, or its middle one. */
	if (v->nz == 1)
		frame = 0;
	else if (frame < 0)
		frame = v->nz / 2;
	if (frame >= v->nz) {
		(void)snprintf(err, sizeof(err), "frame %d of %d", frame,
		    v->nz);
		goto fail;
	}
	/* 自动 is the file's own VOI transform where it has one (a VOI
	 * LUT, a window and its function), as the film readers see it. */
	if (preset == WINDOW_AUTO && preview_voi_of_file(v, &voi) == 0) {
		if (preview_png_voi(v, frame, &voi, max_edge, &png, err,
		    sizeof(err)) == -1)
			goto fail;
	} else if (preview_window(v, frame, (enum window_preset)preset, &c,
	    &wd) == -1 || preview_png(v, frame, c, wd, max_edge, &png, err,
	    sizeof(err)) == -1)
		goto fail;
	series_free(v);
	(void)http_open(r, 200, "image/png");
	(void)http_write(r, png.data, png.len);
	buf_free(&png);
	return;
fail:
	log_error("%s: %s (%s): %s", __func__, key, what, err);
	series_free(v);
	buf_free(&png);
	page_error(r, 404, "无法显示该影像");
}

int
page_is_reader(const struct req *r, enum app_mode mode,
    long long applicant_inst, long long target_inst, long long assist_inst)
{
	long long	 inst = r->sess.acct.institution_id;

	if (!(r->sess.acct.roles & ROLE_BIT(ROLE_DOCTOR)))
		return 0;
	if (mode == MODE_SELF && applicant_inst == inst)
		return 1;
	if (mode == MODE_SUPERIOR && target_inst == inst)
		return 1;
	return assist_inst != 0 && assist_inst == inst;
}

const char *
page_sex_zh(const char *s)
{
	return strcmp(s, "M") == 0 ? "男" : strcmp(s, "F") == 0 ? "女" :
	    "其他";
}
