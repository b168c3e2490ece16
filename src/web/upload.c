/*
 * upload.c - files attached to an application: DICOM images (影像文件)
 * and other records (PDF or JPEG).
 *
 * The body is never held in memory: nginx spools it to a file (or it
 * comes through FastCGI), and it is streamed through the multipart
 * parser.  Each file part is written to a temporary file in the spool
 * folder, named after the worker (upload-<pid>-*), checked and stored
 * (DICOM through ingest_file(), the one ingest path), then removed; the
 * files of a worker that died, and its partial writes to the store, are
 * swept by the supervisor that reaps it and by every worker that starts
 * (upload_sweep()).  Every stored study is linked to the
 * application in the transaction that indexes its instance, so a worker
 * that dies mid-upload leaves nothing stored and unlinked; every series
 * touched is matched against the AI readers.
 *
 * The answer is JSON for upload.js (Accept: application/json) and an
 * HTML result page for a plain form post.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "pages.h"
#include "seriesmatch.h"
#include "store.h"
#include "workflow.h"

#define NOT_FOUND_MSG	"申请单不存在或无权访问"
#define UPLOAD_CHUNK	(256 * 1024)
#define MAX_NAME	200	/* bytes of a file name kept */
#define HELD_MSG	"；影像的患者信息与申请单不一致，尚未关联，" \
			"请在申请单页“待核对的影像”中核对"

enum upload_kind {
	UPLOAD_DICOM,
	UPLOAD_ATTACHMENT
};

struct upload_result {
	const char	*name;
	int		 ok;
	const char	*message;
};

struct upload {
	struct req		*r;
	enum upload_kind	 kind;
	struct store		*st;
	struct ingest_source	 src;
	long long		 app_id;
	/* The part being received. */
	int			 fd;
	int			 skip;
	char			 tmp[1024];
	const char		*name;
	long long		 size;
	unsigned char		 head[8];
	size_t			 headlen;
	long long		 total;
	int			 too_big;
	/* What happened to each file. */
	struct upload_result	*res;
	size_t			 nres, capres;
	size_t			 stored, duplicate, refused;
	size_t			 held;	/* stored, patient differs */
	/* Series touched (DICOM). */
	long long		*series;
	size_t			 nseries, capseries;
};

static int
result_add(struct upload *u, const char *name, int ok, const char *msg)
{
	struct upload_result	*n;
	size_t			 cap;

	if (u->nres == u->capres) {
		cap = u->capres ? u->capres * 2 : 32;
		if ((n = arena_calloc(u->r->a, cap, sizeof(*n))) == NULL)
			return -1;
		if (u->nres > 0)
			memcpy(n, u->res, u->nres * sizeof(*n));
		u->res = n;
		u->capres = cap;
	}
	u->res[u->nres].name = name;
	u->res[u->nres].ok = ok;
	u->res[u->nres].message = msg;
	u->nres++;
	return 0;
}

static int
series_add(struct upload *u, long long id)
{
	long long	*n;
	size_t		 i, cap;

	for (i = 0; i < u->nseries; i++)
		if (u->series[i] == id)
			return 0;
	if (u->nseries == u->capseries) {
		cap = u->capseries ? u->capseries * 2 : 16;
		if ((n = arena_calloc(u->r->a, cap, sizeof(*n))) == NULL)
			return -1;
		if (u->nseries > 0)
			memcpy(n, u->series, u->nseries * sizeof(*n));
		u->series = n;
		u->capseries = cap;
	}
	u->series[u->nseries++] = id;
	return 0;
}

/* A file name cut to MAX_NAME bytes on a UTF-8 boundary. */
static const char *
short_name(struct arena *a, const char *s)
{
	size_t	 n = strlen(s);

	if (n <= MAX_NAME)
		return arena_strdup(a, s);
	n = MAX_NAME;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return arena_strndup(a, s, n);
}

/* The Chinese reason a DICOM file was refused; the technical one (in
 * English) goes to the log, not to the page. */
static const char *
refusal_zh(struct arena *a, const struct ingest_outcome *o, int read_failed)
{
	const char	*what;

	if (strstr(o->reason, "inflates past") != NULL)
		what = "压缩的数据解压后超过允许的大小（可能是恶意构造的文件）";
	else if (read_failed)
		what = "无法按DICOM格式读取该文件";
	else if (strstr(o->reason, "already stored under another") != NULL)
		what = "该SOP实例UID已属于另一个检查或序列，不能重复使用";
	else if (strstr(o->reason, "Pixel Data holds") != NULL ||
	    strstr(o->reason, "fragment(s) for") != NULL)
		what = "图像数据与文件头声明的尺寸不符，无法显示";
	else if (strstr(o->reason, "larger than") != NULL)
		what = "图像尺寸超出允许的范围";
	else if (strstr(o->reason, "Samples per Pixel") != NULL ||
	    strstr(o->reason, "Bits Allocated") != NULL)
		what = "不支持的像素格式";
	else if (strstr(o->reason, "not an image type") != NULL)
		what = "不是系统接受的影像类型";
	else if (strstr(o->reason, "no pixel data") != NULL)
		what = "文件中没有图像数据";
	else if (strstr(o->reason, "image size") != NULL)
		what = "图像尺寸无效";
	else if (strstr(o->reason, "UID") != NULL)
		what = "缺少或错误的检查、序列或实例UID";
	else
		what = "文件内容不符合要求";
	return arena_printf(a, "不是有效的DICOM文件：%s", what);
}

static void
part_close(struct upload *u)
{
	if (u->fd != -1) {
		(void)close(u->fd);
		u->fd = -1;
	}
	if (u->tmp[0] != '\0') {
		(void)unlink(u->tmp);
		u->tmp[0] = '\0';
	}
}

static int
on_begin(void *arg, const struct mp_part *p)
{
	struct upload	*u = arg;

	u->skip = p->filename == NULL || p->filename[0] == '\0';
	u->size = 0;
	u->headlen = 0;
	if (u->skip)
		return 0;
	u->name = short_name(u->r->a, p->filename);
	if ((size_t)snprintf(u->tmp, sizeof(u->tmp), "%s/upload-%ld-XXXXXX",
	    u->r->conf->scp_spool, (long)getpid()) >= sizeof(u->tmp) ||
	    (u->fd = mkstemp(u->tmp)) == -1) {
		log_error("%s: %s: %s", __func__, u->tmp, strerror(errno));
		u->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct upload	*u = arg;
	size_t		 k, off = 0;
	ssize_t		 w;

	u->total += (long long)n;
	if (u->total > u->r->conf->upload_max) {
		u->too_big = 1;
		return -1;
	}
	if (u->skip)
		return 0;
	if (u->headlen < sizeof(u->head)) {
		k = sizeof(u->head) - u->headlen;
		if (k > n)
			k = n;
		memcpy(u->head + u->headlen, p, k);
		u->headlen += k;
	}
	while (off < n) {
		if ((w = write(u->fd, p + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s: %s: %s", __func__, u->tmp,
			    strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	u->size += (long long)n;
	return 0;
}

static void
dicom_done(struct upload *u)
{
	struct ingest_outcome	 o;
	enum ingest_result	 res;
	struct dcm_limits	 lim;

	ingest_limits(&lim, u->r->conf);
	res = ingest_file(u->r->db, u->st, &lim, u->tmp, &u->src, &o);
	if ((res == INGEST_STORED || res == INGEST_DUPLICATE) && o.held)
		u->held++;
	switch (res) {
	case INGEST_STORED:
		u->stored++;
		(void)series_add(u, o.series_id);
		(void)result_add(u, u->name, 1, arena_printf(u->r->a,
		    "已上传：%s %s%s", o.info.modality[0] ? o.info.modality :
		    "DICOM", o.info.series_description, o.held ? HELD_MSG :
		    ""));
		break;
	case INGEST_DUPLICATE:
		u->duplicate++;
		(void)series_add(u, o.series_id);
		(void)result_add(u, u->name, 1, o.held ?
		    "该影像此前已上传，未重复保存" HELD_MSG :
		    "该影像此前已上传，未重复保存");
		break;
	case INGEST_REFUSED:
		u->refused++;
		log_info("%s: %s: %s refused: %s", __func__,
		    u->r->sess.acct.login, u->name, o.reason);
		(void)result_add(u, u->name, 0, refusal_zh(u->r->a, &o,
		    o.unreadable));
		break;
	default:
		u->refused++;
		(void)result_add(u, u->name, 0,
		    "系统暂时无法保存该文件，请稍后重试");
		break;
	}
}

/* A random lower-case hex name for a stored attachment. */
static int
random_hex(char *out, size_t bytes)
{
	unsigned char	 b[32];
	size_t		 i;

	if (bytes > sizeof(b) || getrandom(b, bytes, 0) != (ssize_t)bytes)
		return -1;
	for (i = 0; i < bytes; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static void
attachment_done(struct upload *u)
{
	const char	*ct, *ext;
	char		 key[256], rnd[33], app[32], user[32], size[32], id[32];
	PGresult	*res;
	struct audit	 a;

	if (u->size == 0) {
		u->refused++;
		(void)result_add(u, u->name, 0, "文件为空，未保存");
		return;
	}
	if (u->headlen >= 5 && memcmp(u->head, "%PDF-", 5) == 0) {
		ct = "application/pdf";
		ext = "pdf";
	} else if (u->headlen >= 3 && u->head[0] == 0xff &&
	    u->head[1] == 0xd8 && u->head[2] == 0xff) {
		ct = "image/jpeg";
		ext = "jpg";
	} else {
		u->refused++;
		(void)result_add(u, u->name, 0, "不是PDF或JPEG文件"
		    "（文件内容与PDF/JPEG格式不符），未保存");
		return;
	}
	if (random_hex(rnd, 16) == -1) {
		u->refused++;
		(void)result_add(u, u->name, 0,
		    "系统暂时无法保存该文件，请稍后重试");
		return;
	}
	(void)snprintf(key, sizeof(key), "att/%lld/%lld/%s.%s",
	    u->src.institution_id, u->app_id, rnd, ext);
	(void)snprintf(app, sizeof(app), "%lld", u->app_id);
	(void)snprintf(user, sizeof(user), "%lld", u->src.user_id);
	(void)snprintf(size, sizeof(size), "%lld", u->size);
	if (store_put_file(u->st, key, u->tmp) == -1)
		goto fail;
	if (db_begin(u->r->db) == -1)
		goto fail_stored;
	res = db_exec(u->r->db, "INSERT INTO attachments (application_id,"
	    " filename, content_type, size_bytes, storage_key, uploaded_by)"
	    " VALUES ($1::bigint, $2, $3, $4::bigint, $5, $6::bigint)"
	    " RETURNING id", 6, app, u->name, ct, size, key, user);
	if (res == NULL)
		goto fail_txn;
	(void)snprintf(id, sizeof(id), "%s", db_val(res, 0, 0));
	PQclear(res);
	memset(&a, 0, sizeof(a));
	a.actor_id = u->src.user_id;
	a.actor_login = u->r->sess.acct.login;
	a.institution_id = u->src.institution_id;
	a.action = "attachment_uploaded";
	a.object_type = "attachment";
	a.object_id = id;
	a.ip = u->r->ip;
	if (audit_write(u->r->db, &a) == -1 || db_commit(u->r->db) == -1)
		goto fail_txn;
	u->stored++;
	(void)result_add(u, u->name, 1, arena_printf(u->r->a, "已上传（%s）",
	    strcmp(ext, "pdf") == 0 ? "PDF" : "JPEG"));
	return;
fail_txn:
	db_rollback(u->r->db);
fail_stored:
	(void)store_remove(u->st, key);
fail:
	u->refused++;
	(void)result_add(u, u->name, 0, "系统暂时无法保存该文件，请稍后重试");
}

static int
on_end(void *arg)
{
	struct upload	*u = arg;

	if (u->skip)
		return 0;
	if (u->fd != -1) {
		(void)close(u->fd);
		u->fd = -1;
	}
	if (u->kind == UPLOAD_DICOM)
		dicom_done(u);
	else
		attachment_done(u);
	part_close(u);
	return 0;
}

/*
 * The studies of the series stored are linked to the application already
 * (ingest_file() links each with its instance); link them to the other
 * applications waiting for them, and match each series.
 */
static void
dicom_finish(struct upload *u)
{
	struct wf_linker	 lk;
	PGresult		*res;
	char			 se[32];
	size_t			 i;

	memset(&lk, 0, sizeof(lk));
	lk.user_id = u->src.user_id;
	lk.institution_id = u->src.institution_id;
	lk.login = u->src.login;
	lk.ip = u->src.ip;
	lk.channel = "upload";
	for (i = 0; i < u->nseries; i++) {
		(void)snprintf(se, sizeof(se), "%lld", u->series[i]);
		res = db_exec(u->r->db, "SELECT study_id FROM series"
		    " WHERE id = $1::bigint", 1, se);
		if (res != NULL && PQntuples(res) == 1 &&
		    wf_autolink_study(u->r->db, &lk, db_ll(res, 0, 0)) == -1)
			log_error("%s: autolink of the study of series %s"
			    " failed", __func__, se);
		PQclear(res);
		if (seriesmatch_run(u->r->db, u->series[i]) == -1)
			log_error("%s: matching series %s failed", __func__,
			    se);
	}
}

/* Stream the request body into the multipart parser.  Returns 0, or -1
 * with a static Chinese reason in *why. */
static int
body_stream(struct upload *u, const char **why)
{
	struct req		*r = u->r;
	struct mp_collect	 col;
	struct mp_parser	*mp;
	struct kvlist		 fields;
	struct mp_callbacks	 cb = { on_begin, on_data, on_end };
	const char		*err = NULL;
	char			*chunk;
	long long		 left;
	ssize_t			 n;
	int			 fd = -1, rc = 0, m;

	*why = NULL;
	if (r->content_type == NULL ||
	    strncasecmp(r->content_type, "multipart/form-data", 19) != 0) {
		*why = "请以表单文件上传方式提交（multipart/form-data）";
		return -1;
	}
	if ((chunk = malloc(UPLOAD_CHUNK)) == NULL) {
		*why = "系统内部错误";
		return -1;
	}
	kvlist_init(&fields);
	mp_collect_init(&col, r->a, &fields, 4096, 64 * 1024, &cb, u);
	if ((mp = mp_collect_new(&col, r->content_type, NULL, &err)) == NULL) {
		free(chunk);
		*why = "上传的数据格式有误";
		log_info("%s: %s", __func__, err);
		return -1;
	}
	if (r->body_file != NULL &&
	    (fd = open(r->body_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: %s: %s", __func__, r->body_file,
		    strerror(errno));
		mp_collect_free(&col);
		free(chunk);
		*why = "系统内部错误";
		return -1;
	}
	left = r->content_length;
	for (;;) {
		if (fd != -1) {
			if ((n = read(fd, chunk, UPLOAD_CHUNK)) == -1 &&
			    errno == EINTR)
				continue;
		} else {
			if (left == 0)
				break;
			m = FCGX_GetStr(chunk, left > 0 && left < UPLOAD_CHUNK ?
			    (int)left : UPLOAD_CHUNK, r->fcgi->in);
			n = m;
			if (left > 0 && m > 0)
				left -= m;
		}
		if (n <= 0) {
			if (n < 0)
				rc = -1;
			break;
		}
		if ((rc = mp_feed(mp, chunk, (size_t)n)) == -1)
			break;
	}
	if (rc == 0)
		rc = mp_finish(mp);
	err = mp_collect_error(&col, mp);
	mp_collect_free(&col);
	if (fd != -1)
		(void)close(fd);
	free(chunk);
	part_close(u);
	if (rc == -1) {
		if (u->too_big)
			*why = "上传的文件总大小超过限制";
		else
			*why = "上传的数据不完整或格式有误";
		log_info("%s: %s: %s", __func__, r->sess.acct.login,
		    err != NULL ? err : "read error");
	}
	return rc;
}

static int
wants_json(const struct req *r)
{
	const char	*acc = FCGX_GetParam("HTTP_ACCEPT", r->fcgi->envp);

	return acc != NULL && strstr(acc, "application/json") != NULL;
}

static void
answer_json(struct req *r, int status, const struct upload *u,
    const char *error)
{
	json_t	*o, *files, *f;
	char	*s;
	size_t	 i;

	o = json_object();
	files = json_array();
	for (i = 0; u != NULL && i < u->nres; i++) {
		f = json_pack("{s:s, s:b, s:s}", "name", u->res[i].name,
		    "ok", u->res[i].ok, "message", u->res[i].message);
		(void)json_array_append_new(files, f);
	}
	(void)json_object_set_new(o, "files", files);
	if (u != NULL) {
		(void)json_object_set_new(o, "stored",
		    json_integer((json_int_t)u->stored));
		(void)json_object_set_new(o, "duplicate",
		    json_integer((json_int_t)u->duplicate));
		(void)json_object_set_new(o, "refused",
		    json_integer((json_int_t)u->refused));
		(void)json_object_set_new(o, "held",
		    json_integer((json_int_t)u->held));
		(void)json_object_set_new(o, "series",
		    json_integer((json_int_t)u->nseries));
	}
	if (error != NULL)
		(void)json_object_set_new(o, "error", json_string(error));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	(void)http_open(r, status, "application/json; charset=utf-8");
	if (s != NULL)
		(void)http_puts(r, s);
	free(s);
}

static void
answer_html(struct req *r, int status, const struct upload *u,
    const char *error)
{
	struct tdict	*d, *f;
	size_t		 i;

	if ((d = page_dict(r)) == NULL) {
		page_error(r, 500, "系统内部错误");
		return;
	}
	(void)tdict_set(d, "title", u->kind == UPLOAD_DICOM ? "影像上传结果" :
	    "附件上传结果");
	(void)tdict_setf(d, "id", "%lld", u->app_id);
	for (i = 0; i < u->nres; i++) {
		if ((f = tdict_add(d, "files")) == NULL)
			break;
		(void)tdict_set(f, "name", u->res[i].name);
		(void)tdict_set(f, "message", u->res[i].message);
		(void)tdict_set(f, "cls", u->res[i].ok ? "ok" : "bad");
	}
	(void)tdict_bool(d, "no_files", u->nres == 0);
	(void)tdict_setf(d, "summary", "成功 %zu 个（其中重复 %zu 个），未通过 %zu 个",
	    u->stored + u->duplicate, u->duplicate, u->refused);
	(void)tdict_bool(d, "has_error", error != NULL);
	if (error != NULL)
		(void)tdict_set(d, "error", error);
	if ((f = tdict_add(d, "styles")) != NULL)
		(void)tdict_set(f, "href", "/static/apply.css");
	page_render(r, status, "app_upload.html", d);
}

static void
upload_run(struct req *r, enum upload_kind kind)
{
	struct upload	 u;
	PGresult	*res;
	const char	*why = NULL;
	char		 sid[32], inst[32];
	int		 st, json = wants_json(r), status;

	memset(&u, 0, sizeof(u));
	u.r = r;
	u.kind = kind;
	u.fd = -1;
	u.app_id = http_field(r, FIELD_ID) != NULL ?
	    strtoll(http_field(r, FIELD_ID), NULL, 10) : 0;
	(void)snprintf(sid, sizeof(sid), "%lld", u.app_id);
	(void)snprintf(inst, sizeof(inst), "%lld",
	    r->sess.acct.institution_id);
	res = db_exec(r->db, "SELECT a.state FROM applications a"
	    " WHERE a.id = $1::bigint AND application_visible(a, $2::bigint)"
	    " AND a.applicant_institution_id = $2::bigint", 2, sid, inst);
	if (res == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if (u.app_id <= 0 || PQntuples(res) != 1) {
		PQclear(res);
		if (json)
			answer_json(r, 404, NULL, NOT_FOUND_MSG);
		else
			page_error(r, 404, NOT_FOUND_MSG);
		return;
	}
	st = wf_state_parse(db_val(res, 0, 0));
	PQclear(res);
	if (st != APP_PENDING && st != APP_RETURNED) {
		why = "只有待报告或已退回的申请单可以上传文件";
		if (json)
			answer_json(r, 409, NULL, why);
		else
			page_error(r, 409, why);
		return;
	}
	if (mkdir(r->conf->scp_spool, 0750) == -1 && errno != EEXIST)
		log_error("%s: %s: %s", __func__, r->conf->scp_spool,
		    strerror(errno));
	if ((u.st = store_open_dir(r->conf->store)) == NULL) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	u.src.institution_id = r->sess.acct.institution_id;
	u.src.channel = "upload";
	u.src.ip = r->ip;
	u.src.user_id = r->sess.acct.id;
	u.src.login = r->sess.acct.login;
	if (kind == UPLOAD_DICOM)
		u.src.application_id = u.app_id;
	status = body_stream(&u, &why) == 0 ? 200 : 400;
	if (kind == UPLOAD_DICOM)
		dicom_finish(&u);
	store_close(u.st);
	if (status == 200 && u.nres == 0) {
		status = 400;
		why = "请选择要上传的文件";
	}
	if (u.too_big)
		status = 413;
	log_info("%s: %s: application %lld: %zu stored, %zu duplicate,"
	    " %zu refused", __func__, r->sess.acct.login, u.app_id, u.stored,
	    u.duplicate, u.refused);
	if (json)
		answer_json(r, status, &u, why);
	else
		answer_html(r, status, &u, why);
}

/*
 * Remove what uploads that will never finish left: the spool files and
 * the store's partial writes of worker pid, or with pid 0, of every
 * process that is gone.  Other files of the spool folder (the
 * receiver's) are left alone.
 */
void
upload_sweep(const struct conf *cf, long pid)
{
	struct store	*st;

	(void)store_sweep_files(cf->scp_spool, "upload-", pid);
	if ((st = store_open_dir(cf->store)) != NULL) {
		(void)store_sweep(st, pid);
		store_close(st);
	}
}

/*
 * POST /upload/dicom?id=N&csrf=T: DICOM files for application N, as
 * multipart/form-data, any number of file parts.
 */
void
page_upload_dicom(struct req *r)
{
	upload_run(r, UPLOAD_DICOM);
}

/*
 * POST /upload/attachment?id=N&csrf=T: records (PDF or JPEG, checked by
 * their first bytes) for application N.
 */
void
page_upload_attachment(struct req *r)
{
	upload_run(r, UPLOAD_ATTACHMENT);
}
