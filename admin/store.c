/*
 * store.c - the console's changes, each one transaction with its audit row.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "store.h"

const char *const store_messages[ST__MAX] = {
	"已保存",				/* ST_OK */
	"输入有误",				/* ST_INVALID */
	"已存在",				/* ST_DUPLICATE */
	"未找到",				/* ST_NOT_FOUND */
	"无权操作：超出本账户的管理范围",	/* ST_FORBIDDEN */
	"数据库错误，请查看日志",		/* ST_ERROR */
};

static enum store_result
st_fail(struct store_err *e, const char *field, const char *msg,
    enum store_result r)
{
	(void)snprintf(e->field, sizeof(e->field), "%s", field);
	(void)snprintf(e->msg, sizeof(e->msg), "%s",
	    msg != NULL ? msg : store_messages[r]);
	return r;
}

/* After a failed statement: roll back and say what the database said. */
static enum store_result
st_dberr(PGconn *c, struct store_err *e)
{
	const char	*s = db_sqlstate();

	db_rollback(c);
	if (strcmp(s, "23505") == 0)
		return st_fail(e, "", "与已有记录重复", ST_DUPLICATE);
	if (strncmp(s, "23", 2) == 0)
		return st_fail(e, "", "数据不符合约束", ST_INVALID);
	return st_fail(e, "", NULL, ST_ERROR);
}

static int
st_match(const char *s, const char *extra, size_t min, size_t max)
{
	size_t	 n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i]) != NULL))
			return 0;
	return 1;
}

int
store_audit(PGconn *c, const struct actor *a, long long inst, const char *action,
    const char *otype, long long oid, json_t *detail)
{
	struct audit	 au;
	char		 id[32], *d;
	int		 rc;

	(void)snprintf(id, sizeof(id), "%lld", oid);
	d = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	memset(&au, 0, sizeof(au));
	au.actor_id = a->id;
	au.actor_login = a->login;
	au.institution_id = inst;
	au.action = action;
	au.object_type = otype;
	au.object_id = id;
	au.channel = a->channel;
	au.detail = d;
	rc = audit_write(c, &au);
	free(d);
	return rc;
}

/*
 * In the open transaction: whether another row than sid holds code or
 * name, through q (a constant "SELECT code = $1 FROM <table> WHERE (code
 * = $1 OR name = $2) AND id <> $3::bigint").  ST_OK, or the failure
 * (field code or name) with the transaction rolled back.
 */
static enum store_result
st_unique(PGconn *c, struct store_err *e, const char *q, const char *code,
    const char *name, const char *sid, const char *code_taken,
    const char *name_taken)
{
	PGresult	*r;
	int		 dupcode;

	if ((r = db_exec(c, q, 3, code, name, sid)) == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ST_OK;
	}
	dupcode = db_bool(r, 0, 0);
	PQclear(r);
	db_rollback(c);
	return dupcode ? st_fail(e, "code", code_taken, ST_DUPLICATE) :
	    st_fail(e, "name", name_taken, ST_DUPLICATE);
}

/* The id that an INSERT or UPDATE ... RETURNING id gave into *nid, or
 * the failure (missing: the row to update is gone), rolled back.  r is
 * consumed. */
static enum store_result
st_saved(PGconn *c, PGresult *r, struct store_err *e, const char *missing,
    long long *nid)
{
	if (r == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "", missing, ST_NOT_FOUND);
	}
	*nid = db_ll(r, 0, 0);
	PQclear(r);
	return ST_OK;
}

/* Commit after the audit row, or roll back. */
static enum store_result
st_finish(PGconn *c, const struct actor *a, long long inst,
    const char *action, const char *otype, long long oid, json_t *detail,
    struct store_err *e)
{
	if (store_audit(c, a, inst, action, otype, oid, detail) == -1 ||
	    db_commit(c) == -1)
		return st_dberr(c, e);
	return ST_OK;
}

void
store_password_new(char *out)
{
	static const char letters[] = "abcdefghjkmnpqrstuvwxyz"
	    "ABCDEFGHJKLMNPQRSTUVWXYZ";
	static const char digits[] = "23456789";
	static const char all[] = "abcdefghjkmnpqrstuvwxyz"
	    "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t	 i;

	for (i = 0; i < STORE_PASSWORD_LEN; i++)
		out[i] = all[randombytes_uniform(sizeof(all) - 1)];
	/* One letter and one digit at random places: the policy holds. */
	i = randombytes_uniform(STORE_PASSWORD_LEN / 2);
	out[i] = letters[randombytes_uniform(sizeof(letters) - 1)];
	i = STORE_PASSWORD_LEN / 2 + randombytes_uniform(STORE_PASSWORD_LEN / 2);
	out[i] = digits[randombytes_uniform(sizeof(digits) - 1)];
	out[STORE_PASSWORD_LEN] = '\0';
}

long long
store_inst_find(PGconn *c, const char *code)
{
	PGresult	*r;
	long long	 id;

	if ((r = db_exec(c, "SELECT id FROM institutions WHERE code = $1", 1,
	    code)) == NULL)
		return -1;
	id = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
	PQclear(r);
	return id;
}

long long
store_alliance_find(PGconn *c, const char *code)
{
	PGresult	*r;
	long long	 id;

	if ((r = db_exec(c, "SELECT id FROM alliances WHERE code = $1", 1,
	    code)) == NULL)
		return -1;
	id = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
	PQclear(r);
	return id;
}

long long
store_user_find(PGconn *c, const struct actor *a, const char *login)
{
	PGresult	*r;
	long long	 id;
	char		 scope[32];

	(void)snprintf(scope, sizeof(scope), "%lld", a->platform ? 0 : a->inst);
	if ((r = db_exec(c, "SELECT id FROM users WHERE lower(login) ="
	    " lower($1) AND ($2::bigint = 0 OR institution_id = $2::bigint)",
	    2, login, scope)) == NULL)
		return -1;
	id = PQntuples(r) == 1 ? db_ll(r, 0, 0) : 0;
	PQclear(r);
	return id;
}

enum store_result
store_inst_save(PGconn *c, const struct actor *a, long long id,
    const struct inst_form *f, struct store_err *e, long long *newid)
{
	PGresult		*r;
	char			 sid[32];
	long long		 nid;
	enum store_result	 rc;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理机构",
		    ST_FORBIDDEN);
	if (!st_match(f->code, "_-", 2, 32))
		return st_fail(e, "code",
		    "机构代码须为2-32位字母、数字、-或_", ST_INVALID);
	if (f->name[0] == '\0' || u8_chars(f->name) > 128)
		return st_fail(e, "name", "请填写机构名称（最多128字）",
		    ST_INVALID);
	if (model_lookup(level_names, LEVEL__MAX, f->level) < 0)
		return st_fail(e, "level", "请选择机构级别", ST_INVALID);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((rc = st_unique(c, e, "SELECT code = $1 FROM institutions"
	    " WHERE (code = $1 OR name = $2) AND id <> $3::bigint", f->code,
	    f->name, sid, "机构代码已存在", "机构名称已存在")) != ST_OK)
		return rc;
	if (id == 0)
		r = db_exec(c, "INSERT INTO institutions (code, name, level,"
		    " region, contact) VALUES ($1, $2, $3, $4, $5)"
		    " RETURNING id", 5, f->code, f->name, f->level, f->region,
		    f->contact);
	else
		r = db_exec(c, "UPDATE institutions SET code = $1, name = $2,"
		    " level = $3, region = $4, contact = $5,"
		    " updated_at = now() WHERE id = $6::bigint RETURNING id",
		    6, f->code, f->name, f->level, f->region, f->contact, sid);
	if ((rc = st_saved(c, r, e, "机构不存在", &nid)) != ST_OK)
		return rc;
	if (newid != NULL)
		*newid = nid;
	return st_finish(c, a, nid, id == 0 ? "institution_created" :
	    "institution_updated", "institution", nid,
	    json_pack("{ssssssssss}", "code", f->code, "name", f->name,
	    "level", f->level, "region", f->region, "contact", f->contact), e);
}

enum store_result
store_inst_active(PGconn *c, const struct actor *a, long long id, int active,
    struct store_err *e)
{
	char	 sid[32];
	int	 n;
	PGresult *r;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理机构",
		    ST_FORBIDDEN);
	if (!active && id == a->inst)
		return st_fail(e, "", "不能停用本账户所在的机构", ST_INVALID);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "UPDATE institutions SET active = $2::boolean,"
	    " updated_at = now() WHERE id = $1::bigint", 2, sid,
	    active ? "true" : "false")) == NULL)
		return st_dberr(c, e);
	n = atoi(PQcmdTuples(r));
	PQclear(r);
	if (n != 1) {
		db_rollback(c);
		return st_fail(e, "", "机构不存在", ST_NOT_FOUND);
	}
	return st_finish(c, a, id, active ? "institution_activated" :
	    "institution_deactivated", "institution", id, json_object(), e);
}

enum store_result
store_alliance_save(PGconn *c, const struct actor *a, long long id,
    const struct alliance_form *f, struct store_err *e, long long *newid)
{
	PGresult		*r;
	char			 sid[32];
	long long		 nid;
	enum store_result	 rc;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理医联体/医共体",
		    ST_FORBIDDEN);
	if (!st_match(f->code, "_-", 2, 32))
		return st_fail(e, "code", "代码须为2-32位字母、数字、-或_",
		    ST_INVALID);
	if (f->name[0] == '\0' || u8_chars(f->name) > 128)
		return st_fail(e, "name", "请填写名称（最多128字）",
		    ST_INVALID);
	if (model_lookup(alliance_kind_names, ALLIANCE__MAX, f->kind) < 0)
		return st_fail(e, "kind", "请选择类型", ST_INVALID);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((rc = st_unique(c, e, "SELECT code = $1 FROM alliances"
	    " WHERE (code = $1 OR name = $2) AND id <> $3::bigint", f->code,
	    f->name, sid, "代码已存在", "名称已存在")) != ST_OK)
		return rc;
	if (id == 0)
		r = db_exec(c, "INSERT INTO alliances (code, name, kind)"
		    " VALUES ($1, $2, $3) RETURNING id", 3, f->code, f->name,
		    f->kind);
	else
		r = db_exec(c, "UPDATE alliances SET code = $1, name = $2,"
		    " kind = $3, updated_at = now() WHERE id = $4::bigint"
		    " RETURNING id", 4, f->code, f->name, f->kind, sid);
	if ((rc = st_saved(c, r, e, "医联体/医共体不存在", &nid)) != ST_OK)
		return rc;
	if (newid != NULL)
		*newid = nid;
	return st_finish(c, a, 0, id == 0 ? "alliance_created" :
	    "alliance_updated", "alliance", nid, json_pack("{ssssss}",
	    "code", f->code, "name", f->name, "kind", f->kind), e);
}

enum store_result
store_member_set(PGconn *c, const struct actor *a, long long alliance_id,
    const char *inst_code, const char *superior_code, struct store_err *e)
{
	PGresult	*r;
	char		 al[32], in[32], su[32];
	long long	 inst, sup = 0;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理医联体/医共体",
		    ST_FORBIDDEN);
	if ((inst = store_inst_find(c, inst_code)) <= 0)
		return st_fail(e, "inst", inst < 0 ? NULL : "没有这个机构代码",
		    inst < 0 ? ST_ERROR : ST_INVALID);
	if (superior_code[0] != '\0') {
		if ((sup = store_inst_find(c, superior_code)) <= 0)
			return st_fail(e, "superior", sup < 0 ? NULL :
			    "没有这个机构代码", sup < 0 ? ST_ERROR :
			    ST_INVALID);
		if (sup == inst)
			return st_fail(e, "superior", "上级医院不能是本机构",
			    ST_INVALID);
	}
	(void)snprintf(al, sizeof(al), "%lld", alliance_id);
	(void)snprintf(in, sizeof(in), "%lld", inst);
	(void)snprintf(su, sizeof(su), "%lld", sup);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if (sup != 0) {
		/* The superior must be a member, and no cycle may form. */
		if ((r = db_exec(c, "WITH RECURSIVE up(id) AS ("
		    " SELECT $2::bigint"
		    " UNION SELECT m.superior_id FROM alliance_members m"
		    "  JOIN up ON m.institution_id = up.id"
		    "  WHERE m.alliance_id = $1::bigint"
		    "  AND m.superior_id IS NOT NULL)"
		    " SELECT (SELECT count(*) FROM alliance_members"
		    "  WHERE alliance_id = $1::bigint"
		    "  AND institution_id = $2::bigint),"
		    " (SELECT count(*) FROM up WHERE id = $3::bigint)", 3,
		    al, su, in)) == NULL)
			return st_dberr(c, e);
		if (db_ll(r, 0, 0) == 0 || db_ll(r, 0, 1) != 0) {
			int notmember = db_ll(r, 0, 0) == 0;

			PQclear(r);
			db_rollback(c);
			return st_fail(e, "superior", notmember ?
			    "上级医院须先加入本医联体/医共体" :
			    "上下级关系不能成环", ST_INVALID);
		}
		PQclear(r);
	}
	if (db_cmd(c, "INSERT INTO alliance_members (alliance_id,"
	    " institution_id, superior_id) VALUES ($1::bigint, $2::bigint,"
	    " NULLIF($3, '0')::bigint) ON CONFLICT (alliance_id,"
	    " institution_id) DO UPDATE SET superior_id = excluded.superior_id",
	    3, al, in, su) == -1)
		return st_dberr(c, e);
	(void)db_cmd(c, "UPDATE alliances SET updated_at = now()"
	    " WHERE id = $1::bigint", 1, al);
	return st_finish(c, a, inst, "alliance_member_set", "alliance",
	    alliance_id, json_pack("{ssss}", "institution", inst_code,
	    "superior", superior_code), e);
}

enum store_result
store_member_remove(PGconn *c, const struct actor *a, long long alliance_id,
    long long inst_id, struct store_err *e)
{
	PGresult	*r;
	char		 al[32], in[32];
	int		 n;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理医联体/医共体",
		    ST_FORBIDDEN);
	(void)snprintf(al, sizeof(al), "%lld", alliance_id);
	(void)snprintf(in, sizeof(in), "%lld", inst_id);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "SELECT count(*) FROM alliance_members"
	    " WHERE alliance_id = $1::bigint AND superior_id = $2::bigint",
	    2, al, in)) == NULL)
		return st_dberr(c, e);
	n = (int)db_ll(r, 0, 0);
	PQclear(r);
	if (n > 0) {
		db_rollback(c);
		return st_fail(e, "", "仍有成员以它为上级医院，请先修改这些成员",
		    ST_INVALID);
	}
	if ((r = db_exec(c, "DELETE FROM alliance_members"
	    " WHERE alliance_id = $1::bigint AND institution_id = $2::bigint",
	    2, al, in)) == NULL)
		return st_dberr(c, e);
	n = atoi(PQcmdTuples(r));
	PQclear(r);
	if (n != 1) {
		db_rollback(c);
		return st_fail(e, "", "不是本医联体/医共体的成员",
		    ST_NOT_FOUND);
	}
	return st_finish(c, a, inst_id, "alliance_member_removed", "alliance",
	    alliance_id, json_pack("{sI}", "institution_id",
	    (json_int_t)inst_id), e);
}

/* The text[] literal of a role set. */
static void
st_roles_literal(unsigned int roles, char *buf, size_t size)
{
	int	 k;

	(void)snprintf(buf, size, "{");
	for (k = 0; k < ROLE__MAX; k++) {
		if (!(roles & ROLE_BIT(k)))
			continue;
		if (buf[1] != '\0')
			(void)strncat(buf, ",", size - strlen(buf) - 1);
		(void)strncat(buf, role_names[k].code, size - strlen(buf) - 1);
	}
	(void)strncat(buf, "}", size - strlen(buf) - 1);
}

enum store_result
store_user_save(PGconn *c, const struct actor *a, long long id,
    const struct user_form *f, const char *password, char *genpw,
    struct store_err *e, long long *newid)
{
	PGresult		*r;
	char			 sid[32], sinst[32], scope[32], roles[64];
	char			 hash[AUTH_HASH_MAX];
	const char		*why, *title;
	long long		 inst, nid;
	enum store_result	 rc;

	if (!st_match(f->login, "_.-", 3, 64))
		return st_fail(e, "login",
		    "用户名须为3-64位字母、数字、.、-或_", ST_INVALID);
	if (f->name[0] == '\0' || u8_chars(f->name) > 64)
		return st_fail(e, "name", "请填写姓名（最多64字）", ST_INVALID);
	if (f->roles == 0)
		return st_fail(e, "roles", "至少选择一个角色", ST_INVALID);
	if ((f->roles & ROLE_BIT(ROLE_DOCTOR)) && f->title == TITLE_NONE)
		return st_fail(e, "title", "受邀方人员须选择职称", ST_INVALID);
	if (f->inst_code[0] == '\0')
		inst = a->inst;
	else if ((inst = store_inst_find(c, f->inst_code)) < 0)
		return st_fail(e, "inst", NULL, ST_ERROR);
	if (inst == 0)
		return st_fail(e, "inst", "没有这个机构代码", ST_INVALID);
	if (!a->platform && inst != a->inst)
		return st_fail(e, "inst", "只能管理本机构的用户", ST_FORBIDDEN);
	if (id != 0 && id == a->id && !(f->roles & ROLE_BIT(ROLE_ADMIN)))
		return st_fail(e, "roles", "不能取消自己的管理员角色",
		    ST_INVALID);
	if (id == 0) {
		if (password == NULL || password[0] == '\0') {
			store_password_new(genpw);
			password = genpw;
		} else if ((why = auth_password_policy(password)) != NULL)
			return st_fail(e, "password", why, ST_INVALID);
		if (auth_password_hash(password, hash) == -1)
			return st_fail(e, "", NULL, ST_ERROR);
	}
	st_roles_literal(f->roles, roles, sizeof(roles));
	title = f->title == TITLE_NONE ? NULL : title_names[f->title].code;
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(sinst, sizeof(sinst), "%lld", inst);
	(void)snprintf(scope, sizeof(scope), "%lld", a->platform ? 0 : a->inst);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "SELECT 1 FROM users WHERE lower(login) ="
	    " lower($1) AND id <> $2::bigint", 2, f->login, sid)) == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) > 0) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "login", "用户名已存在", ST_DUPLICATE);
	}
	PQclear(r);
	if (id == 0)
		r = db_exec(c, "INSERT INTO users (institution_id, login,"
		    " display_name, password_hash, roles, title) VALUES"
		    " ($1::bigint, $2, $3, $4, $5::text[], $6) RETURNING id",
		    6, sinst, f->login, f->name, hash, roles, title);
	else
		r = db_exec(c, "UPDATE users SET institution_id = $1::bigint,"
		    " login = $2, display_name = $3, roles = $4::text[],"
		    " title = $5, updated_at = now() WHERE id = $6::bigint"
		    " AND ($7::bigint = 0 OR institution_id = $7::bigint)"
		    " RETURNING id", 7, sinst, f->login, f->name, roles, title,
		    sid, scope);
	sodium_memzero(hash, sizeof(hash));
	if ((rc = st_saved(c, r, e, "用户不存在或不属于本机构", &nid)) !=
	    ST_OK)
		return rc;
	if (newid != NULL)
		*newid = nid;
	return st_finish(c, a, inst, id == 0 ? "user_created" :
	    "user_updated", "user", nid, json_pack("{sssssssss?}",
	    "login", f->login, "name", f->name, "institution", f->inst_code,
	    "roles", roles, "title", title), e);
}

/*
 * One change of a user in scope: sql updates the user $1 and may use
 * $2, the scope (0: every institution).  It must return the user's
 * institution_id.
 */
static enum store_result
st_user_change(PGconn *c, const struct actor *a, long long id,
    const char *sql, const char *action, json_t *detail, int endsessions,
    struct store_err *e)
{
	PGresult	*r;
	char		 sid[32], scope[32];
	long long	 inst;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(scope, sizeof(scope), "%lld", a->platform ? 0 : a->inst);
	if (db_begin(c) == -1) {
		json_decref(detail);
		return st_fail(e, "", NULL, ST_ERROR);
	}
	if ((r = db_exec(c, sql, 2, sid, scope)) == NULL) {
		json_decref(detail);
		return st_dberr(c, e);
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		json_decref(detail);
		db_rollback(c);
		return st_fail(e, "", "用户不存在或不属于本机构",
		    ST_NOT_FOUND);
	}
	inst = db_ll(r, 0, 0);
	PQclear(r);
	if (endsessions && db_cmd(c, "DELETE FROM sessions"
	    " WHERE user_id = $1::bigint", 1, sid) == -1) {
		json_decref(detail);
		return st_dberr(c, e);
	}
	return st_finish(c, a, inst, action, "user", id, detail, e);
}

enum store_result
store_user_active(PGconn *c, const struct actor *a, long long id, int active,
    struct store_err *e)
{
	if (!active && id == a->id)
		return st_fail(e, "", "不能停用自己的账户", ST_INVALID);
	if (active)
		return st_user_change(c, a, id, "UPDATE users SET active = true,"
		    " updated_at = now() WHERE id = $1::bigint AND ($2::bigint"
		    " = 0 OR institution_id = $2::bigint)"
		    " RETURNING institution_id", "user_enabled", json_object(),
		    0, e);
	return st_user_change(c, a, id, "UPDATE users SET active = false,"
	    " updated_at = now() WHERE id = $1::bigint AND ($2::bigint = 0"
	    " OR institution_id = $2::bigint) RETURNING institution_id",
	    "user_disabled", json_object(), 1, e);
}

enum store_result
store_user_unlock(PGconn *c, const struct actor *a, long long id,
    struct store_err *e)
{
	return st_user_change(c, a, id, "UPDATE users SET failed_logins = 0,"
	    " locked_until = NULL, updated_at = now() WHERE id = $1::bigint"
	    " AND ($2::bigint = 0 OR institution_id = $2::bigint)"
	    " RETURNING institution_id", "user_unlocked", json_object(), 0, e);
}

enum store_result
store_user_passwd(PGconn *c, const struct actor *a, long long id,
    const char *password, char *genpw, struct store_err *e)
{
	PGresult	*r;
	char		 hash[AUTH_HASH_MAX], sid[32], scope[32];
	const char	*why;
	long long	 inst;

	if (password == NULL) {
		store_password_new(genpw);
		password = genpw;
	} else if ((why = auth_password_policy(password)) != NULL)
		return st_fail(e, "password", why, ST_INVALID);
	if (auth_password_hash(password, hash) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(scope, sizeof(scope), "%lld", a->platform ? 0 : a->inst);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	r = db_exec(c, "UPDATE users SET password_hash = $3,"
	    " password_changed_at = now(), failed_logins = 0,"
	    " locked_until = NULL, updated_at = now() WHERE id = $1::bigint"
	    " AND ($2::bigint = 0 OR institution_id = $2::bigint)"
	    " RETURNING institution_id", 3, sid, scope, hash);
	sodium_memzero(hash, sizeof(hash));
	if (r == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "", "用户不存在或不属于本机构",
		    ST_NOT_FOUND);
	}
	inst = db_ll(r, 0, 0);
	PQclear(r);
	if (db_cmd(c, "DELETE FROM sessions WHERE user_id = $1::bigint", 1,
	    sid) == -1)
		return st_dberr(c, e);
	return st_finish(c, a, inst, "password_reset", "user", id,
	    json_pack("{sb}", "generated", password == genpw), e);
}

enum store_result
store_job_retry(PGconn *c, const struct actor *a, long long id,
    struct store_err *e)
{
	PGresult	*r;
	char		 sid[32], scope[32];
	long long	 inst;
	json_t		*d;

	(void)snprintf(sid, sizeof(sid), "%lld", id);
	(void)snprintf(scope, sizeof(scope), "%lld", a->platform ? 0 : a->inst);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "UPDATE ai_jobs j SET state = 'queued',"
	    " attempts = 0, run_after = now(), leased_by = NULL,"
	    " lease_until = NULL, finished_at = NULL, updated_at = now()"
	    " FROM series s JOIN studies t ON t.id = s.study_id"
	    " WHERE j.id = $1::bigint AND s.id = j.series_id"
	    " AND j.state IN ('dead', 'failed')"
	    " AND ($2::bigint = 0 OR t.institution_id = $2::bigint)"
	    " RETURNING t.institution_id, j.reader, j.error", 2, sid,
	    scope)) == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "", "任务不存在、已在处理或超出管理范围",
		    ST_NOT_FOUND);
	}
	inst = db_ll(r, 0, 0);
	d = json_pack("{ssss}", "reader", db_val(r, 0, 1), "error",
	    db_val(r, 0, 2));
	PQclear(r);
	if (db_cmd(c, "SELECT pg_notify('ai_jobs', $1)", 1, sid) == -1) {
		json_decref(d);
		return st_dberr(c, e);
	}
	return st_finish(c, a, inst, "ai_job_retried", "ai_job", id, d, e);
}

int
store_network_check(const char *in, char *out, size_t size,
    struct store_err *e)
{
	unsigned char	 bin[sizeof(struct in6_addr)];
	char		 addr[INET6_ADDRSTRLEN + 1], *end;
	const char	*slash;
	size_t		 alen, i, nbytes;
	long		 prefix;
	int		 af, max, n;

	slash = strchr(in, '/');
	alen = slash != NULL ? (size_t)(slash - in) : strlen(in);
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, in, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1) {
		af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		af = AF_INET6;
		max = 128;
	} else
		goto bad;
	prefix = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || prefix > max)
			goto bad;
	}
	if (prefix == 0) {
		(void)st_fail(e, "network", "不能向所有地址开放（前缀长度为0）",
		    ST_INVALID);
		return -1;
	}
	/* PostgreSQL's cidr refuses bits set right of the mask: say so in
	 * the operator's words rather than as a constraint error. */
	nbytes = (size_t)max / 8;
	for (i = 0; i < nbytes; i++) {
		long	 bit = (long)i * 8;
		unsigned char mask = bit >= prefix ? 0 : bit + 8 <= prefix ?
		    0xff : (unsigned char)(0xff << (8 - (prefix - bit)));

		if ((bin[i] & (unsigned char)~mask) != 0) {
			(void)st_fail(e, "network", "网段的主机位须为0，"
			    "如 10.20.30.0/24", ST_INVALID);
			return -1;
		}
	}
	(void)inet_ntop(af, bin, addr, sizeof(addr));
	n = snprintf(out, size, "%s/%ld", addr, prefix);
	if (n < 0 || (size_t)n >= size)
		goto bad;
	return 0;
bad:
	(void)st_fail(e, "network", "网络地址无效：请填写IP地址或网段，"
	    "如 10.20.30.40 或 10.20.30.0/24", ST_INVALID);
	return -1;
}

/* A calling AE title: 1-16 characters of printable ASCII but the
 * backslash, no leading or trailing space (PS3.5 AE). */
static int
st_ae_valid(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > 16 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == '\\')
			return 0;
	return 1;
}

enum store_result
store_peer_add(PGconn *c, const struct actor *a, const struct peer_form *f,
    struct store_err *e)
{
	PGresult	*r;
	char		 net[64], sinst[32];
	long long	 inst, nid;
	enum store_result rc;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理DICOM节点",
		    ST_FORBIDDEN);
	if (!st_ae_valid(f->ae))
		return st_fail(e, "ae", "AE名称须为1-16位可打印ASCII字符"
		    "（不含反斜杠，首尾无空格）", ST_INVALID);
	if (strcmp(f->kind, "pacs") != 0 && strcmp(f->kind, "collector") != 0)
		return st_fail(e, "kind", "类型须为 pacs（PACS前置机）或"
		    " collector（影像采集器）", ST_INVALID);
	if (u8_chars(f->description) > 128)
		return st_fail(e, "description", "说明最多128字", ST_INVALID);
	if (store_network_check(f->network, net, sizeof(net), e) == -1)
		return ST_INVALID;
	if ((inst = store_inst_find(c, f->inst_code)) <= 0)
		return st_fail(e, "inst", inst < 0 ? NULL : "没有这个机构代码",
		    inst < 0 ? ST_ERROR : ST_INVALID);
	(void)snprintf(sinst, sizeof(sinst), "%lld", inst);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	r = db_exec(c, "INSERT INTO dicom_peers (ae_title, institution_id,"
	    " kind, description, network) VALUES ($1, $2::bigint, $3, $4,"
	    " $5::cidr) ON CONFLICT (ae_title) DO NOTHING RETURNING id", 5,
	    f->ae, sinst, f->kind, f->description, net);
	/* No row back: the title is taken (ON CONFLICT DO NOTHING). */
	if (r != NULL && PQntuples(r) == 0) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "ae", "AE名称已登记", ST_DUPLICATE);
	}
	if ((rc = st_saved(c, r, e, "AE名称已登记", &nid)) != ST_OK)
		return rc;
	return st_finish(c, a, inst, "dicom_peer_created", "dicom_peer", nid,
	    json_pack("{ssssssssss}", "ae_title", f->ae, "institution",
	    f->inst_code, "kind", f->kind, "description", f->description,
	    "network", net), e);
}

enum store_result
store_peer_set(PGconn *c, const struct actor *a, const char *ae,
    const char *network, int active, struct store_err *e)
{
	PGresult	*r;
	json_t		*d;
	char		 net[64];
	long long	 inst, id;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理DICOM节点",
		    ST_FORBIDDEN);
	if (network != NULL &&
	    store_network_check(network, net, sizeof(net), e) == -1)
		return ST_INVALID;
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "UPDATE dicom_peers SET"
	    " network = coalesce($2::cidr, network),"
	    " active = coalesce($3::boolean, active)"
	    " WHERE ae_title = $1 RETURNING id, institution_id,"
	    " network::text, active", 3, ae, network != NULL ? net : NULL,
	    active < 0 ? NULL : active ? "true" : "false")) == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "ae", "没有登记这个AE名称", ST_NOT_FOUND);
	}
	id = db_ll(r, 0, 0);
	inst = db_ll(r, 0, 1);
	d = json_pack("{sssssb}", "ae_title", ae, "network",
	    PQgetvalue(r, 0, 2), "active", db_bool(r, 0, 3));
	PQclear(r);
	return st_finish(c, a, inst, "dicom_peer_updated", "dicom_peer", id,
	    d, e);
}

/* A number filling all of s (spaces around it allowed) within lo..hi into
 * *v; 0 or -1. */
static int
st_number(const char *s, double lo, double hi, double *v)
{
	char	 buf[64], *end;
	size_t	 n;

	s += strspn(s, " ");
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, &end);
	if (*end != '\0' || !isfinite(*v) || *v < lo || *v > hi)
		return -1;
	return 0;
}

enum store_result
store_calib_save(PGconn *c, const struct actor *a, struct calib_form *f,
    struct store_err *e, long long *newid)
{
	PGresult	*r;
	double		 kvp, factor;
	long long	 nid;
	enum store_result rc;

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理钙化积分校准",
		    ST_FORBIDDEN);
	if (f->manufacturer[strspn(f->manufacturer, " ")] == '\0')
		return st_fail(e, "manufacturer", "厂商不能为空（DICOM"
		    " Manufacturer 的开头，如 GE、SIEMENS）", ST_INVALID);
	if (u8_chars(f->manufacturer) > 64)
		return st_fail(e, "manufacturer", "厂商不超过64个字符",
		    ST_INVALID);
	if (u8_chars(f->model) > 64)
		return st_fail(e, "model", "型号不超过64个字符", ST_INVALID);
	if (f->kvp[strspn(f->kvp, " ")] == '\0')
		f->kvp[0] = '\0';
	else if (st_number(f->kvp, CALIB_KVP_MIN, CALIB_KVP_MAX, &kvp) == -1)
		return st_fail(e, "kvp", "管电压须为70–150 kV（留空：所有电压）",
		    ST_INVALID);
	if (st_number(f->factor, CALIB_FACTOR_MIN, CALIB_FACTOR_MAX,
	    &factor) == -1)
		return st_fail(e, "factor", "校准系数须为0.3–1.5之间的数"
		    "（mg/cm³/HU，120 kV）", ST_INVALID);
	if (u8_chars(f->note) > 200)
		return st_fail(e, "note", "备注不超过200个字符", ST_INVALID);
	if (f->kvp[0] != '\0')
		(void)snprintf(f->kvp, sizeof(f->kvp), "%.0f", kvp);
	(void)snprintf(f->factor, sizeof(f->factor), "%.3f", factor);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	r = db_exec(c, "INSERT INTO cac_calibrations (manufacturer, model,"
	    " kvp, factor, note, updated_by) VALUES (btrim($1), btrim($2),"
	    " nullif($3, '')::numeric, $4::numeric, $5, $6)"
	    " ON CONFLICT (lower(btrim(manufacturer)), lower(btrim(model)),"
	    " coalesce(kvp, 0)) DO UPDATE SET factor = EXCLUDED.factor,"
	    " note = EXCLUDED.note, updated_at = now(),"
	    " updated_by = EXCLUDED.updated_by RETURNING id", 6,
	    f->manufacturer, f->model, f->kvp, f->factor, f->note, a->login);
	if ((rc = st_saved(c, r, e, NULL, &nid)) != ST_OK)
		return rc;
	if ((rc = st_finish(c, a, 0, "cac_calibration_saved", "cac_calibration",
	    nid, json_pack("{s:s, s:s, s:s, s:s}", "manufacturer",
	    f->manufacturer, "model", f->model, "kvp", f->kvp, "factor",
	    f->factor), e)) == ST_OK && newid != NULL)
		*newid = nid;
	return rc;
}

enum store_result
store_calib_remove(PGconn *c, const struct actor *a, long long id,
    struct store_err *e)
{
	PGresult	*r;
	json_t		*d;
	char		 sid[32];

	if (!a->platform)
		return st_fail(e, "", "只有平台管理员可以管理钙化积分校准",
		    ST_FORBIDDEN);
	(void)snprintf(sid, sizeof(sid), "%lld", id);
	if (db_begin(c) == -1)
		return st_fail(e, "", NULL, ST_ERROR);
	if ((r = db_exec(c, "DELETE FROM cac_calibrations WHERE id = $1::bigint"
	    " RETURNING manufacturer, model, coalesce(kvp::text, ''),"
	    " factor::text", 1, sid)) == NULL)
		return st_dberr(c, e);
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		return st_fail(e, "", "该校准已不存在", ST_NOT_FOUND);
	}
	d = json_pack("{s:s, s:s, s:s, s:s}", "manufacturer", db_val(r, 0, 0),
	    "model", db_val(r, 0, 1), "kvp", db_val(r, 0, 2), "factor",
	    db_val(r, 0, 3));
	PQclear(r);
	return st_finish(c, a, 0, "cac_calibration_removed", "cac_calibration",
	    id, d, e);
}

PGresult *
store_calib_list(PGconn *c)
{
	return db_exec(c, "SELECT id, manufacturer, model, coalesce(kvp::text,"
	    " ''), factor::text, note, to_char(updated_at, 'YYYY-MM-DD'),"
	    " updated_by FROM cac_calibrations ORDER BY lower(manufacturer),"
	    " lower(model), kvp NULLS FIRST", 0);
}
