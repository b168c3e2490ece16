/*
 * login.c - 登录 and 安全退出.
 *
 * The login form is protected against cross-site submission by a
 * double-submit token: a random value in a cookie that must equal the
 * hidden field.  After login every form carries the session's own token.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pages.h"

#define LOGIN_COOKIE	"zy_login"
#define SESSION_COOKIE	"zy_session"

static void
login_form(struct req *r, int status, const char *error, const char *notice)
{
	struct tdict	*d;
	const char	*tok, *login, *next;
	char		 fresh[AUTH_TOKEN_LEN + 1], *mask;

	tok = kv_get(&r->cookies, http_cookie_name(r, LOGIN_COOKIE));
	if (tok == NULL || !auth_token_valid(tok)) {
		auth_token_new(fresh);
		tok = fresh;
		http_cookie_set(r, LOGIN_COOKIE, tok, 3600);
	}
	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	if ((mask = arena_alloc(r->a, AUTH_MASKED_LEN + 1)) == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	auth_csrf_mask(tok, mask);
	(void)tdict_set(d, "login_csrf", mask);
	login = r->fields[FIELD_LOGIN];
	if (login != NULL && r->method == METHOD_POST)
		(void)tdict_set(d, "login", login);
	next = http_field(r, FIELD_NEXT);
	(void)tdict_set(d, "next", next != NULL ? next : "");
	if (error != NULL)
		(void)tdict_set(d, "error", error);
	(void)tdict_bool(d, "has_error", error != NULL);
	if (notice != NULL)
		(void)tdict_set(d, "notice", notice);
	(void)tdict_bool(d, "has_notice", notice != NULL);
	page_render(r, status, "login.html", d);
}

static void
login_post(struct req *r)
{
	const char		*cookie, *csrf, *login, *password, *next;
	struct login_origin	 o;
	struct session		 s;
	char			 token[AUTH_TOKEN_LEN + 1], msg[256];
	enum login_result	 res;
	int			 wait;

	cookie = kv_get(&r->cookies, http_cookie_name(r, LOGIN_COOKIE));
	csrf = http_field(r, FIELD_CSRF);
	if (cookie == NULL || csrf == NULL || !auth_csrf_equal(csrf, cookie)) {
		log_info("%s: login form without a valid token from %s",
		    __func__, r->ip ? r->ip : "?");
		page_error(r, 403, "页面已过期或请求无效，请刷新页面后重试");
		return;
	}
	login = http_field(r, FIELD_LOGIN);
	password = http_field(r, FIELD_PASSWORD);
	if (r->fields[FIELD_LOGIN] == NULL || *r->fields[FIELD_LOGIN] == '\0' ||
	    r->fields[FIELD_PASSWORD] == NULL ||
	    *r->fields[FIELD_PASSWORD] == '\0') {
		login_form(r, 200, "请输入用户名和密码", NULL);
		return;
	}
	if (login == NULL || password == NULL) {
		/* Cannot exist: answer as for a wrong password. */
		login_form(r, 200, login_messages[LOGIN_BAD], NULL);
		return;
	}
	o.ip = r->ip;
	o.user_agent = r->ua;
	o.channel = "web";
	res = session_login(r->db, r->conf, login, password, &o,
	    kv_get(&r->cookies, http_cookie_name(r, SESSION_COOKIE)), &s,
	    token, &wait);
	switch (res) {
	case LOGIN_OK:
		http_cookie_set(r, SESSION_COOKIE, token, -1);
		http_cookie_set(r, LOGIN_COOKIE, "", 0);
		next = http_field(r, FIELD_NEXT);
		http_redirect(r, next != NULL && *next != '\0' ? next : "/");
		return;
	case LOGIN_LOCKED:
		(void)snprintf(msg, sizeof(msg), "%s，请%d分钟后重试或联系本机构管理员",
		    login_messages[res], wait <= 60 ? 1 : (wait + 59) / 60);
		login_form(r, 200, msg, NULL);
		return;
	case LOGIN_THROTTLED:
		(void)snprintf(msg, sizeof(msg), "%s（约%d分钟后可再试）",
		    login_messages[res], wait <= 60 ? 1 : (wait + 59) / 60);
		login_form(r, 429, msg, NULL);
		return;
	case LOGIN_ERROR:
		page_error(r, 503, login_messages[res]);
		return;
	default:
		login_form(r, 200, login_messages[res], NULL);
		return;
	}
}

void
page_login(struct req *r)
{
	const char	*next;

	if (r->method == METHOD_POST) {
		login_post(r);
		return;
	}
	/* Already logged in (again, in another tab): on to the page the
	 * login was asked for. */
	if (r->sstate == SESSION_OK) {
		next = http_field(r, FIELD_NEXT);
		http_redirect(r, next != NULL && *next != '\0' ? next : "/");
		return;
	}
	if (kv_get(&r->query, "expired") != NULL ||
	    r->sstate == SESSION_EXPIRED)
		login_form(r, 200, NULL, "登录已超时，请重新登录");
	else if (kv_get(&r->query, "bye") != NULL)
		login_form(r, 200, NULL, "您已安全退出");
	else
		login_form(r, 200, NULL, NULL);
}

void
page_logout(struct req *r)
{
	struct login_origin	 o;

	o.ip = r->ip;
	o.user_agent = r->ua;
	o.channel = "web";
	if (session_logout(r->db, &r->sess, kv_get(&r->cookies,
	    http_cookie_name(r, SESSION_COOKIE)), &o) == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	http_cookie_set(r, SESSION_COOKIE, "", 0);
	/* What this site kept in the browser goes with the session: the
	 * 写报告 editor's local copies of unsaved text hold patients'
	 * findings, and a shared computer's next user must not find them
	 * (report.js saves to the server before it lets 安全退出 go).
	 * Browsers honour this over TLS and on the loopback. */
	if (r->nhdrs < HTTP_MAXHDRS)
		r->hdrs[r->nhdrs++] = "Clear-Site-Data: \"storage\"\r\n";
	http_redirect(r, "/login?bye=1");
}
