/*
 * http.h - one request and its response, over FastCGI.
 *
 * A request owns an arena; everything hanging off struct req lives in it
 * and is released when the request ends.  Every response starts with
 * http_open(), which always sends the security headers.
 */
#ifndef ZY_HTTP_H
#define ZY_HTTP_H

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "account.h"
#include "arena.h"
#include "conf.h"
#include "parse.h"
#include "tmpl.h"

enum method {
	METHOD_GET,
	METHOD_HEAD,
	METHOD_POST,
	METHOD__MAX
};

/* Input fields known to the site: each is validated once, by its named
 * validator, before any handler sees it. */
enum field {
	FIELD_LOGIN,
	FIELD_PASSWORD,
	FIELD_CSRF,
	FIELD_NEXT,
	FIELD_PAGE,
	FIELD_KEYWORD,		/* q: patient name or 诊断号 */
	FIELD_ID,		/* an application */
	FIELD_PATIENT_NAME,
	FIELD_PATIENT_SEX,	/* M, F, O */
	FIELD_PATIENT_AGE,
	FIELD_PATIENT_BIRTH,	/* YYYY-MM-DD */
	FIELD_PATIENT_NO,	/* ID card or patient number */
	FIELD_PATIENT_PHONE,
	FIELD_CHIEF_COMPLAINT,	/* 主诉 */
	FIELD_PRESENT_ILLNESS,	/* 现病史 */
	FIELD_HISTORY,		/* 既往史 */
	FIELD_CLINICAL_DIAGNOSIS,
	FIELD_EXAM_TYPE,	/* CT, DR */
	FIELD_BODY_PART,
	FIELD_URGENCY,		/* routine, urgent, emergency */
	FIELD_ACCESSION,
	FIELD_EXAM_DATE,	/* YYYY-MM-DD */
	FIELD_MODE,		/* self, superior */
	FIELD_ALLIANCE,		/* an alliance id */
	FIELD_TARGET,		/* an institution id */
	FIELD_REASON,		/* 退回 reason */
	FIELD_COMMENT,		/* review comment */
	FIELD_FINDINGS,		/* 影像表现 */
	FIELD_CONCLUSION,	/* 影像结论 */
	FIELD_VERSION,		/* report version the editor started from */
	FIELD_AI_USED,		/* 0 or 1 */
	FIELD_FINAL,		/* 0 or 1 */
	FIELD_APPROVE,		/* 0 or 1 */
	FIELD_STUDY,		/* a study id */
	FIELD_SERIES,		/* a series id */
	FIELD_WINDOW,		/* lung, mediastinum, bone, auto */
	FIELD_SLICE,		/* slice number */
	FIELD_TIME,		/* all, today, 2days, week, custom */
	FIELD_FROM,		/* YYYY-MM-DD */
	FIELD_TO,		/* YYYY-MM-DD */
	FIELD_TAIL,		/* 诊断尾号 0-9 */
	FIELD_HOSPITAL,		/* 申请医院: an institution id */
	FIELD_STATUS,		/* a state code */
	FIELD_FILTER_NAME,	/* 保存常用筛选 */
	FIELD_FILTER,		/* a saved filter id */
	FIELD_SORT,		/* time, -time, name, -name, diag, -diag */
	FIELD_MATCH,		/* exact, fuzzy */
	FIELD_ATTACHMENT,	/* an attachment id */
	FIELD_READER,		/* 统计: an AI reader code */
	FIELD_GRAIN,		/* 统计: day, week, month */
	FIELD_JOB,		/* an AI job */
	FIELD_Z,		/* AI viewer: slice of the volume, from 0 */
	FIELD_LESION,		/* AI lesion number (repeated: ai.c) */
	FIELD_STAMP,		/* AI result revision, microseconds */
	FIELD_KEY,		/* a report key image (关键图像) */
	FIELD_PLANE,		/* viewer: axial, coronal, sagittal */
	FIELD_WC,		/* viewer: window centre, a number */
	FIELD_WW,		/* viewer: window width, a number */
	FIELD_PX,		/* viewer: a point's column, pixels */
	FIELD_PY,		/* viewer: a point's row, pixels */
	FIELD_RMM,		/* viewer: a region's radius, mm */
	FIELD_INVERT,		/* viewer: 0 or 1 */
	FIELD_FMT,		/* viewer: jpg, png */
	FIELD_PICTURE,		/* AI result picture: bodycomp, sagittal */
	FIELD_RENDER,		/* viewer 三维: bone, lung, mip */
	FIELD_AZ,		/* viewer 三维: azimuth, degrees */
	FIELD_EL,		/* viewer 三维: elevation, degrees */
	FIELD_ZOOM,		/* viewer 三维: zoom, a number */
	FIELD_SIZE,		/* viewer 三维: image side, pixels */
	FIELD_VOI,		/* viewer: 1, the file's VOI transform */
	FIELD_MASKS,		/* viewer: an AI result's regions (its id) */
	FIELD__MAX
};

/* Pages: one enum value, one row of the table in router.c, one handler. */
enum page {
	PAGE_HOME,
	PAGE_LOGIN,
	PAGE_LOGOUT,
	PAGE_APPLY,		/* 申请 */
	PAGE_APPLICATIONS,	/* 申请列表 */
	PAGE_WORKLIST,		/* 待诊断 */
	PAGE_REVIEW,		/* 待审核 */
	PAGE_REPORTED,		/* 已报告 */
	PAGE_DIAGNOSED,		/* 已诊断 */
	PAGE_PRINT,		/* 打印报告 */
	PAGE_STATS,		/* 统计 */
	PAGE_ADMIN,		/* 机构用户 */
	PAGE_HEALTH,
	/* The applicant's side of an application (apply.c, upload.c). */
	PAGE_APP_VIEW,		/* /application: 查看 */
	PAGE_APP_CANCEL,	/* /application/cancel */
	PAGE_APP_EDIT,		/* /application/edit: resubmit a returned one */
	PAGE_UPLOAD_DICOM,	/* /upload/dicom */
	PAGE_UPLOAD_ATTACHMENT,	/* /upload/attachment */
	PAGE_ATTACHMENT,	/* /attachment: download */
	PAGE_SERIES_PREVIEW,	/* /series/preview: PNG */
	PAGE_LINK_STUDY,	/* /application/link: link a study by hand */
	PAGE_DECLINE_STUDY,	/* /application/decline: a held study */
	/* Lists and their actions (lists.c). */
	PAGE_APP_RETURN,	/* /application/return: 退回 */
	PAGE_APP_ASSIST,	/* /application/assist: 请求协助 */
	PAGE_FILTER_SAVE,	/* /filters/save: 保存常用筛选 */
	PAGE_FILTER_DELETE,	/* /filters/delete */
	/* Reports (report.c). */
	PAGE_REPORT,		/* /report: 写报告 (takes the lock) */
	PAGE_REPORT_UNLOCK,	/* /report/unlock: 解除锁定 */
	PAGE_REPORT_SAVE,	/* /report/save: autosave */
	PAGE_REPORT_SUBMIT,	/* /report/submit */
	PAGE_REVIEW_DECIDE,	/* /review/decide: 审核 是/否 */
	PAGE_REPORT_VIEW,	/* /report/view: 查看报告 */
	PAGE_REPORT_PRINT,	/* /report/print: 打印 */
	PAGE_REPORT_KEY_ADD,	/* /report/key-image/add: 添加关键图像 */
	PAGE_REPORT_KEY_REMOVE,	/* /report/key-image/remove */
	PAGE_REPORT_KEY_IMAGE,	/* /report/key-image: its picture */
	PAGE_STATS_EXPORT,	/* /stats/export: 导出Excel (stats.c) */
	/* “粤医智影” AI results (ai.c). */
	PAGE_AI_RESULT,		/* /ai/result: the result page */
	PAGE_AI_SLICE,		/* /ai/slice: one slice as PNG */
	PAGE_AI_UPLOAD,		/* /ai/upload: 上传影像结论 */
	PAGE_AI_KEY_IMAGE,	/* /ai/key-image: 设为关键图像 */
	PAGE_AI_LESION_DELETE,	/* /ai/lesion/delete: 删除病灶序号框 */
	PAGE_AI_JOBS,		/* /ai/jobs: the AI row of 写报告, JSON */
	/* The image viewer, 查看影像图片 (viewer.c). */
	PAGE_VIEWER,		/* /viewer: the page */
	PAGE_VIEWER_IMAGE,	/* /viewer/image: one image, JPEG or PNG */
	PAGE_VIEWER_PROBE,	/* /viewer/probe: values at a point, JSON */
	PAGE_VIEWER_RENDER,	/* /viewer/render: 三维重建, JPEG */
	PAGE_AI_PICTURE,	/* /ai/picture: a reader's picture, PNG */
	PAGE_AI_BMD_REPORT,	/* /ai/bmd-report: 脊柱椎体评估报告 */
	PAGE_AI_CPR,		/* /ai/cpr: 肋骨拉直/展开 */
	PAGE_AI_CPR_RIB,	/* /ai/cpr/rib: a rib straightened, image */
	PAGE_AI_CPR_CAGE,	/* /ai/cpr/cage: the cage unfolded, image */
	PAGE__MAX
};

#define HTTP_MAXHDRS	16

struct req {
	FCGX_Request		*fcgi;
	struct arena		*a;
	const struct conf	*conf;
	const struct tmpl_set	*tmpl;
	PGconn			*db;

	enum method		 method;
	enum page		 page;
	const char		*path;
	const char		*ip;
	const char		*ua;
	int			 https;
	struct kvlist		 query;
	struct kvlist		 form;
	struct kvlist		 cookies;
	/* POST under /upload/: the body is left to the handler, to stream. */
	int			 upload;
	const char		*content_type;
	long long		 content_length;
	const char		*body_file;	/* spooled by nginx, or NULL */
	const char		*fields[FIELD__MAX];	/* NULL: absent */
	int			 field_bad[FIELD__MAX];	/* present, invalid */

	enum session_state	 sstate;
	struct session		 sess;		/* valid if sstate == OK */
	/* The path names no page: its 404 shows who is logged in, and is
	 * not audited (nothing was refused). */
	int			 unrouted;

	/* Response. */
	int			 opened;
	const char		*hdrs[HTTP_MAXHDRS];
	size_t			 nhdrs;
};

/* Name of a cookie as sent to this request: with the __Host- prefix when
 * it came over TLS.  Arena storage. */
const char	*http_cookie_name(struct req *, const char *base);

/* Queue a Set-Cookie for the next http_open(): HttpOnly, SameSite=Lax,
 * Path=/, Secure over TLS.  max_age < 0: session cookie; 0: delete. */
void		 http_cookie_set(struct req *, const char *base,
		    const char *value, int max_age);

/* Start the response: status line, content type, queued headers and the
 * security headers.  Returns 0, or -1 if already started. */
int		 http_open(struct req *, int status, const char *ctype);

/* Write body bytes (dropped for HEAD).  Returns 0 or -1. */
int		 http_write(struct req *, const char *, size_t);
int		 http_puts(struct req *, const char *);

/* Writer for tmpl_render(): arg is the struct req. */
int		 http_tmpl_write(void *arg, const char *, size_t);

/* Redirect with 303 See Other to a local path. */
void		 http_redirect(struct req *, const char *location);

/* Read the environment and input of a FastCGI request into r.  Returns
 * the HTTP status to answer with on bad input (400, 405, 413, 415), or 0. */
int		 http_parse(struct req *r);

/* Field value, or NULL when absent or invalid. */
const char	*http_field(const struct req *, enum field);

/* Append key=value (the value percent-encoded) to a query string being
 * built in b, with '&' between pairs; a NULL value appends nothing. */
struct buf;
void		 http_qs_add(struct buf *, const char *key, const char *val);

/* The CSRF token of a POST: the csrf field (form body, or an upload's
 * query string) or else the X-CSRF-Token header; NULL when neither is a
 * well-formed token. */
const char	*http_csrf(const struct req *);

/* Whether s is a safe local redirect target: "/x", never "//x", "/\\x"
 * or anything with a control character or a backslash. */
int		 http_local_path(const char *s);

#endif /* ZY_HTTP_H */
