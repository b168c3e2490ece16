/*
 * account.c - login with lockout, sessions with idle and absolute limits.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "audit.h"
#include "db.h"
#include "log.h"

const char *const login_messages[LOGIN__MAX] = {
	"",					/* LOGIN_OK */
	"用户名或密码错误",			/* LOGIN_BAD */
	"登录失败次数过多，账户已临时锁定",	/* LOGIN_LOCKED */
	"账户已停用，请联系本机构管理员",	/* LOGIN_DISABLED */
	"系统暂时无法登录，请稍后重试",		/* LOGIN_ERROR */
	"本地址登录失败次数过多，请稍后再试",	/* LOGIN_THROTTLED */
};

static void
copy(char *dst, size_t size, const char *src)
{
	size_t	 n;

	n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static char *
detail_json(const char *reason, int failures)
{
	json_t	*o;
	char	*s;

	o = json_object();
	if (reason != NULL)
		(void)json_object_set_new(o, "reason", json_string(reason));
	if (failures >= 0)
		(void)json_object_set_new(o, "failures", json_integer(failures));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int
login_audit(PGconn *c, const char *action, long long uid, long long inst,
    const char *login, const struct login_origin *o, const char *reason,
    int failures)
{
	struct audit	 a;
	char		*detail;
	int		 rc;

	detail = detail_json(reason, failures);
	memset(&a, 0, sizeof(a));
	a.actor_id = uid;
	a.actor_login = login;
	a.institution_id = inst;
	a.action = action;
	a.object_type = "user";
	a.ip = o->ip;
	a.channel = o->channel;
	a.detail = detail;
	rc = audit_write(c, &a);
	free(detail);
	return rc;
}

/* Columns of the account: keep in step with account_fill(). */
#define ACCOUNT_COLS \
	"u.id, u.institution_id, u.login, u.display_name, i.name," \
	" u.roles, coalesce(u.title, ''), i.level"

static void
account_fill(struct account *a, const PGresult *r, int row, int col)
{
	int	 t;

	memset(a, 0, sizeof(*a));
	a->id = db_ll(r, row, col);
	a->institution_id = db_ll(r, row, col + 1);
	copy(a->login, sizeof(a->login), db_val(r, row, col + 2));
	copy(a->display_name, sizeof(a->display_name), db_val(r, row, col + 3));
	copy(a->institution_name, sizeof(a->institution_name),
	    db_val(r, row, col + 4));
	a->roles = model_roles_parse(db_val(r, row, col + 5));
	t = model_lookup(title_names, TITLE__MAX, db_val(r, row, col + 6));
	a->title = t < 0 ? TITLE_NONE : (enum title)t;
	t = model_lookup(level_names, LEVEL__MAX, db_val(r, row, col + 7));
	a->level = t < 0 ? LEVEL_PRIMARY : (enum inst_level)t;
}

/*
 * The per-address throttle: whether the address o->ip has failed
 * conf->login_ip_max_failures times within login_ip_window seconds.  The
 * failures are the audit log's own login_failed rows, so every worker
 * sees the same count and nothing else has to be kept.  A refused
 * attempt checks no password and leaves the account's counter alone: a
 * stranger cannot lock every doctor out from one address.  Workers that
 * check at the same moment may each let one more failure through.
 * Returns 1 (refuse; *wait set), 0, or -1 on database trouble.
 */
static int
login_throttled(PGconn *c, const struct conf *cf, const char *login,
    const struct login_origin *o, int *wait)
{
	PGresult	*r;
	unsigned char	 tmp[sizeof(struct in6_addr)];
	char		 max[16], window[16];
	int		 n;

	/* The console has no address; a malformed one is not counted. */
	if (o->ip == NULL || cf->login_ip_max_failures == 0 ||
	    (inet_pton(AF_INET, o->ip, tmp) != 1 &&
	    inet_pton(AF_INET6, o->ip, tmp) != 1))
		return 0;
	(void)snprintf(max, sizeof(max), "%d", cf->login_ip_max_failures);
	(void)snprintf(window, sizeof(window), "%d", cf->login_ip_window);
	/* The wait ends when the max-th newest failure leaves the window. */
	r = db_exec(c,
	    "SELECT count(*), coalesce(ceil(extract(epoch FROM"
	    " (array_agg(at ORDER BY at DESC))[$2::int]"
	    " + $3::int * interval '1 second' - now())), 0)"
	    " FROM audit_log WHERE action = 'login_failed'"
	    " AND ip = $1::inet"
	    " AND at > now() - $3::int * interval '1 second'",
	    3, o->ip, max, window);
	if (r == NULL)
		return -1;
	n = (int)db_ll(r, 0, 0);
	*wait = (int)db_ll(r, 0, 1);
	PQclear(r);
	if (n < cf->login_ip_max_failures)
		return 0;
	if (*wait < 1)
		*wait = 1;
	log_info("%s: %s refused: %d failed logins from it", __func__,
	    o->ip, n);
	return login_audit(c, "login_throttled", 0, 0, login, o,
	    "address throttled", n) == 0 ? 1 : -1;
}

/*
 * The body of a login, inside the caller's transaction.  Returns the
 * result; on LOGIN_ERROR the caller rolls back.
 */
static enum login_result
login_check(PGconn *c, const struct conf *cf, const char *login,
    const char *password, const struct login_origin *o, struct account *out,
    int *wait)
{
	PGresult	*r = NULL, *u = NULL;
	char		 max[16], lock[16], id[32];
	long long	 uid, inst;
	int		 ok, failures, locked;
	enum login_result res = LOGIN_ERROR;

	switch (login_throttled(c, cf, login, o, wait)) {
	case 1:
		return LOGIN_THROTTLED;
	case 0:
		break;
	default:
		return LOGIN_ERROR;
	}
	r = db_exec(c,
	    "SELECT " ACCOUNT_COLS ", u.password_hash,"
	    " u.active AND i.active,"
	    " coalesce(u.locked_until > now(), false),"
	    " coalesce(ceil(extract(epoch FROM u.locked_until - now())), 0)"
	    " FROM users u JOIN institutions i ON i.id = u.institution_id"
	    " WHERE lower(u.login) = lower($1) FOR UPDATE OF u", 1, login);
	if (r == NULL)
		goto out;
	if (PQntuples(r) == 0) {
		/* Same work as a known login, so timing tells nothing. */
		(void)auth_password_verify(NULL, password);
		res = login_audit(c, "login_failed", 0, 0, login, o,
		    "unknown login", -1) == 0 ? LOGIN_BAD : LOGIN_ERROR;
		goto out;
	}
	uid = db_ll(r, 0, 0);
	inst = db_ll(r, 0, 1);
	(void)snprintf(id, sizeof(id), "%lld", uid);
	if (db_bool(r, 0, 10)) {
		*wait = (int)db_ll(r, 0, 11);
		(void)auth_password_verify(NULL, password);
		res = login_audit(c, "login_failed", uid, inst, login, o,
		    "account locked", -1) == 0 ? LOGIN_LOCKED : LOGIN_ERROR;
		goto out;
	}
	ok = auth_password_verify(db_val(r, 0, 8), password);
	if (!ok) {
		(void)snprintf(max, sizeof(max), "%d", cf->login_max_failures);
		(void)snprintf(lock, sizeof(lock), "%d", cf->login_lock_seconds);
		u = db_exec(c,
		    "UPDATE users SET"
		    " failed_logins = CASE WHEN failed_logins + 1 >= $2::int"
		    "  THEN 0 ELSE failed_logins + 1 END,"
		    " locked_until = CASE WHEN failed_logins + 1 >= $2::int"
		    "  THEN now() + $3::int * interval '1 second'"
		    "  ELSE locked_until END"
		    " WHERE id = $1::bigint"
		    " RETURNING failed_logins, locked_until > now()",
		    3, id, max, lock);
		if (u == NULL || PQntuples(u) != 1)
			goto out;
		locked = db_bool(u, 0, 1);
		failures = locked ? cf->login_max_failures : (int)db_ll(u, 0, 0);
		if (login_audit(c, "login_failed", uid, inst, login, o,
		    "wrong password", failures) == -1)
			goto out;
		if (locked) {
			if (login_audit(c, "account_locked", uid, inst, login,
			    o, NULL, failures) == -1)
				goto out;
			log_info("%s: account %s locked after %d failures",
			    __func__, login, failures);
			*wait = cf->login_lock_seconds;
			res = LOGIN_LOCKED;
		} else
			res = LOGIN_BAD;
		goto out;
	}
	if (!db_bool(r, 0, 9)) {
		res = login_audit(c, "login_failed", uid, inst, login, o,
		    "account disabled", -1) == 0 ? LOGIN_DISABLED : LOGIN_ERROR;
		goto out;
	}
	if (db_cmd(c, "UPDATE users SET failed_logins = 0, locked_until = NULL,"
	    " last_login_at = now() WHERE id = $1::bigint", 1, id) == -1)
		goto out;
	if (login_audit(c, "login", uid, inst, db_val(r, 0, 2), o, NULL,
	    -1) == -1)
		goto out;
	account_fill(out, r, 0, 0);
	res = LOGIN_OK;
out:
	PQclear(u);
	PQclear(r);
	return res;
}

enum login_result
account_login(PGconn *c, const struct conf *cf, const char *login,
    const char *password, const struct login_origin *o, struct account *out,
    int *wait)
{
	enum login_result	 res;

	*wait = 0;
	if (db_begin(c) == -1)
		return LOGIN_ERROR;
	res = login_check(c, cf, login, password, o, out, wait);
	if (res == LOGIN_ERROR || db_commit(c) == -1) {
		db_rollback(c);
		return LOGIN_ERROR;
	}
	return res;
}

enum login_result
session_login(PGconn *c, const struct conf *cf, const char *login,
    const char *password, const struct login_origin *o,
    const char *old_token, struct session *out, char *token, int *wait)
{
	enum login_result	 res;
	char			 digest[AUTH_DIGEST_LEN + 1], uid[32];
	PGresult		*r;

	*wait = 0;
	memset(out, 0, sizeof(*out));
	if (db_begin(c) == -1)
		return LOGIN_ERROR;
	res = login_check(c, cf, login, password, o, &out->acct, wait);
	if (res == LOGIN_ERROR)
		goto fail;
	if (res == LOGIN_OK) {
		/* A new token at every login: a token planted before the
		 * login (session fixation) never becomes valid. */
		if (old_token != NULL && auth_token_valid(old_token) &&
		    db_cmd(c, "SELECT session_end($1)", 1, old_token) == -1)
			goto fail;
		auth_token_new(token);
		auth_token_new(out->csrf);
		if (auth_token_digest(token, digest) == -1)
			goto fail;
		(void)snprintf(uid, sizeof(uid), "%lld", out->acct.id);
		r = db_exec(c, "INSERT INTO sessions (token_digest, user_id,"
		    " csrf_token, ip, user_agent) VALUES ($1, $2::bigint, $3,"
		    " $4::inet, left($5, 512)) RETURNING id", 5, digest, uid,
		    out->csrf, o->ip != NULL && *o->ip != '\0' ? o->ip : NULL,
		    o->user_agent ? o->user_agent : "");
		if (r == NULL)
			goto fail;
		out->id = db_ll(r, 0, 0);
		PQclear(r);
	}
	if (db_commit(c) == -1)
		goto fail;
	return res;
fail:
	db_rollback(c);
	memset(token, 0, AUTH_TOKEN_LEN + 1);
	return LOGIN_ERROR;
}

enum session_state
session_lookup(PGconn *c, const struct conf *cf, const char *token,
    struct session *out)
{
	PGresult	*r;
	char		 digest[AUTH_DIGEST_LEN + 1], idle[16], abs_[16],
			 touch[16], sid[32];
	int		 t;

	memset(out, 0, sizeof(*out));
	if (token == NULL || !auth_token_valid(token))
		return SESSION_NONE;
	if (auth_token_digest(token, digest) == -1)
		return SESSION_ERROR;
	(void)snprintf(idle, sizeof(idle), "%d", cf->session_idle);
	(void)snprintf(abs_, sizeof(abs_), "%d", cf->session_absolute);
	/* Refresh last_seen at most every tenth of the idle limit. */
	t = cf->session_idle / 10;
	(void)snprintf(touch, sizeof(touch), "%d", t < 1 ? 0 : t > 60 ? 60 : t);
	r = db_exec(c,
	    "SELECT s.id, s.csrf_token,"
	    " s.last_seen < now() - $2::int * interval '1 second'"
	    "  OR s.created_at < now() - $3::int * interval '1 second'"
	    "  OR NOT u.active OR NOT i.active,"
	    " s.last_seen < now() - $4::int * interval '1 second', "
	    ACCOUNT_COLS
	    " FROM sessions s JOIN users u ON u.id = s.user_id"
	    " JOIN institutions i ON i.id = u.institution_id"
	    " WHERE s.token_digest = $1", 4, digest, idle, abs_, touch);
	if (r == NULL)
		return SESSION_ERROR;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return SESSION_NONE;
	}
	out->id = db_ll(r, 0, 0);
	(void)snprintf(sid, sizeof(sid), "%lld", out->id);
	if (db_bool(r, 0, 2)) {
		PQclear(r);
		(void)db_cmd(c, "SELECT session_end($1)", 1, token);
		return SESSION_EXPIRED;
	}
	copy(out->csrf, sizeof(out->csrf), db_val(r, 0, 1));
	account_fill(&out->acct, r, 0, 4);
	if (db_bool(r, 0, 3))
		(void)db_cmd(c, "UPDATE sessions SET last_seen = now()"
		    " WHERE id = $1::bigint", 1, sid);
	PQclear(r);
	return SESSION_OK;
}

int
session_logout(PGconn *c, const struct session *s, const char *token,
    const struct login_origin *o)
{
	if (token == NULL || !auth_token_valid(token))
		return -1;
	if (db_begin(c) == -1)
		return -1;
	if (db_cmd(c, "SELECT session_end($1)", 1, token) == -1)
		goto fail;
	if (login_audit(c, "logout", s->acct.id, s->acct.institution_id,
	    s->acct.login, o, NULL, -1) == -1)
		goto fail;
	if (db_commit(c) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(c);
	return -1;
}
