/*
 * router.c - the page table, access checks and dispatch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"

#include "log.h"
#include "pages.h"

#define M_GET	((1u << METHOD_GET) | (1u << METHOD_HEAD))
#define M_POST	(1u << METHOD_POST)
#define R(x)	ROLE_BIT(ROLE_##x)

/* The login form's next field holds fewer bytes than this (http.c v_next). */
#define NEXT_MAX	512

/*
 * One row per page, in navigation order (the manual's order of the left
 * navigation: 申请, 申请列表, 待诊断, 待审核, 已报告, 已诊断, 打印报告).
 */
const struct page_def pages[PAGE__MAX] = {
	[PAGE_HOME] =		{ "/", ACCESS_ANY, M_GET, "首页", 0,
				    page_home },
	[PAGE_LOGIN] =		{ "/login", ACCESS_PUBLIC, M_GET | M_POST,
				    "登录", 0, page_login },
	[PAGE_LOGOUT] =		{ "/logout", ACCESS_ANY, M_POST, "安全退出",
				    0, page_logout },
	[PAGE_APPLY] =		{ "/apply", R(APPLICANT), M_GET | M_POST, "申请",
				    1, page_apply },
	[PAGE_APPLICATIONS] =	{ "/applications", R(APPLICANT), M_GET,
				    "申请列表", 1, page_applications },
	[PAGE_WORKLIST] =	{ "/worklist", R(APPLICANT) | R(DOCTOR), M_GET,
				    "待诊断", 1, page_worklist },
	[PAGE_REVIEW] =		{ "/review", R(DOCTOR), M_GET, "待审核", 1,
				    page_review_list },
	[PAGE_REPORTED] =	{ "/reported", R(DOCTOR), M_GET, "已报告", 1,
				    page_reported },
	[PAGE_DIAGNOSED] =	{ "/diagnosed", R(APPLICANT) | R(DOCTOR),
				    M_GET, "已诊断", 1, page_diagnosed },
	[PAGE_PRINT] =		{ "/print", R(APPLICANT), M_GET, "打印报告", 1,
				    page_print_list },
	[PAGE_STATS] =		{ "/stats", R(STATS), M_GET, "统计", 1,
				    page_stats },
	[PAGE_ADMIN] =		{ "/admin/users", R(ADMIN), M_GET, "机构用户",
				    1, page_admin_users },
	[PAGE_HEALTH] =		{ "/healthz", ACCESS_PUBLIC, M_GET, NULL, 0,
				    page_health },
	/* applicant pages: apply.c, upload.c */
	[PAGE_APP_VIEW] =	{ "/application", R(APPLICANT) | R(DOCTOR),
				    M_GET, "申请单详情", 0, page_app_view },
	[PAGE_APP_CANCEL] =	{ "/application/cancel", R(APPLICANT), M_POST,
				    "取消申请", 0, page_app_cancel },
	[PAGE_APP_EDIT] =	{ "/application/edit", R(APPLICANT),
				    M_GET | M_POST, "修改并重新提交", 0,
				    page_app_edit },
	[PAGE_UPLOAD_DICOM] =	{ "/upload/dicom", R(APPLICANT), M_POST,
				    "影像上传", 0, page_upload_dicom },
	[PAGE_UPLOAD_ATTACHMENT] = { "/upload/attachment", R(APPLICANT),
				    M_POST, "附件上传", 0,
				    page_upload_attachment },
	[PAGE_ATTACHMENT] =	{ "/attachment", R(APPLICANT) | R(DOCTOR),
				    M_GET, "附件", 0, page_attachment },
	[PAGE_SERIES_PREVIEW] =	{ "/series/preview", R(APPLICANT) | R(DOCTOR),
				    M_GET, "序列预览", 0, page_series_preview },
	[PAGE_LINK_STUDY] =	{ "/application/link", R(APPLICANT), M_POST,
				    "关联影像", 0, page_link_study },
	[PAGE_DECLINE_STUDY] =	{ "/application/decline", R(APPLICANT),
				    M_POST, "不关联影像", 0,
				    page_decline_study },
	/* list pages: lists.c */
	[PAGE_APP_RETURN] =	{ "/application/return", R(DOCTOR), M_POST,
				    "退回申请单", 0, page_app_return },
	[PAGE_APP_ASSIST] =	{ "/application/assist", R(DOCTOR),
				    M_GET | M_POST, "请求协助", 0,
				    page_app_assist },
	[PAGE_FILTER_SAVE] =	{ "/filters/save", R(APPLICANT) | R(DOCTOR),
				    M_POST, "保存常用筛选", 0, page_filter_save },
	[PAGE_FILTER_DELETE] =	{ "/filters/delete", R(APPLICANT) | R(DOCTOR),
				    M_POST, "删除常用筛选", 0,
				    page_filter_delete },
	/* report pages: report.c */
	[PAGE_REPORT] =		{ "/report", R(DOCTOR), M_GET | M_POST,
				    "写报告", 0, page_report },
	[PAGE_REPORT_UNLOCK] =	{ "/report/unlock", R(DOCTOR), M_POST,
				    "解除锁定", 0, page_report_unlock },
	[PAGE_REPORT_SAVE] =	{ "/report/save", R(DOCTOR), M_POST, "保存报告",
				    0, page_report_save },
	[PAGE_REPORT_SUBMIT] =	{ "/report/submit", R(DOCTOR), M_POST,
				    "写报告", 0, page_report_submit },
	[PAGE_REVIEW_DECIDE] =	{ "/review/decide", R(DOCTOR), M_GET | M_POST,
				    "审核报告", 0, page_review_decide },
	[PAGE_REPORT_VIEW] =	{ "/report/view", R(APPLICANT) | R(DOCTOR),
				    M_GET, "查看报告", 0, page_report_view },
	[PAGE_REPORT_PRINT] =	{ "/report/print", R(APPLICANT) | R(DOCTOR),
				    M_GET, "打印报告", 0, page_report_print },
	[PAGE_REPORT_KEY_ADD] =	{ "/report/key-image/add", R(DOCTOR), M_POST,
				    "添加关键图像", 0, page_report_key_add },
	[PAGE_REPORT_KEY_REMOVE] = { "/report/key-image/remove", R(DOCTOR),
				    M_POST, "移除关键图像", 0,
				    page_report_key_remove },
	[PAGE_REPORT_KEY_IMAGE] = { "/report/key-image",
				    R(APPLICANT) | R(DOCTOR), M_GET, "关键图像",
				    0, page_report_key_image },
	/* 统计: stats.c */
	[PAGE_STATS_EXPORT] =	{ "/stats/export", R(STATS), M_GET, "导出Excel",
				    0, page_stats_export },
	/* “粤医智影” AI results: ai.c */
	[PAGE_AI_RESULT] =	{ "/ai/result", R(DOCTOR), M_GET,
				    "“粤医智影”辅助阅片", 0, page_ai_result },
	[PAGE_AI_SLICE] =	{ "/ai/slice", R(DOCTOR), M_GET, "AI阅片影像",
				    0, page_ai_slice },
	[PAGE_AI_UPLOAD] =	{ "/ai/upload", R(DOCTOR), M_POST,
				    "上传影像结论", 0, page_ai_upload },
	[PAGE_AI_KEY_IMAGE] =	{ "/ai/key-image", R(DOCTOR), M_POST,
				    "设为关键图像", 0, page_ai_key_image },
	[PAGE_AI_LESION_DELETE] = { "/ai/lesion/delete", R(DOCTOR), M_POST,
				    "删除病灶序号框", 0, page_ai_lesion_delete },
	[PAGE_AI_JOBS] =	{ "/ai/jobs", R(DOCTOR), M_GET, "AI阅片任务",
				    0, page_ai_jobs },
	/* 查看影像图片: viewer.c */
	[PAGE_VIEWER] =		{ "/viewer", R(APPLICANT) | R(DOCTOR), M_GET,
				    "查看影像图片", 0, page_viewer },
	[PAGE_VIEWER_IMAGE] =	{ "/viewer/image", R(APPLICANT) | R(DOCTOR),
				    M_GET, "影像", 0, page_viewer_image },
	[PAGE_VIEWER_PROBE] =	{ "/viewer/probe", R(APPLICANT) | R(DOCTOR),
				    M_GET, "测量", 0, page_viewer_probe },
	[PAGE_VIEWER_RENDER] =	{ "/viewer/render", R(APPLICANT) | R(DOCTOR),
				    M_GET, "三维重建", 0, page_viewer_render },
	[PAGE_AI_PICTURE] =	{ "/ai/picture", R(DOCTOR), M_GET, "AI阅片图像",
				    0, page_ai_picture },
	[PAGE_AI_BMD_REPORT] =	{ "/ai/bmd-report", R(DOCTOR), M_GET,
				    "脊柱椎体评估报告", 0, page_ai_bmd_report },
	/* 肋骨拉直 / 肋骨展开: cpr.c */
	[PAGE_AI_CPR] =		{ "/ai/cpr", R(DOCTOR), M_GET, "肋骨拉直/展开", 0,
				    page_ai_cpr },
	[PAGE_AI_CPR_RIB] =	{ "/ai/cpr/rib", R(DOCTOR), M_GET, "肋骨拉直图像",
				    0, page_ai_cpr_rib },
	[PAGE_AI_CPR_CAGE] =	{ "/ai/cpr/cage", R(DOCTOR), M_GET,
				    "肋骨展开图像", 0, page_ai_cpr_cage },
};

static int
router_find(const char *path)
{
	int	 p;
	size_t	 n;

	for (p = 0; p < PAGE__MAX; p++)
		if (pages[p].path != NULL && strcmp(pages[p].path, path) == 0)
			return p;
	/* A trailing slash names the same page. */
	n = strlen(path);
	if (n > 1 && path[n - 1] == '/')
		for (p = 0; p < PAGE__MAX; p++)
			if (pages[p].path != NULL &&
			    strlen(pages[p].path) == n - 1 &&
			    strncmp(pages[p].path, path, n - 1) == 0)
				return p;
	return -1;
}

/*
 * To the login page, which returns to the page asked for, query string
 * included (/report?id=7, not /report): the login form checks it again
 * as a local path (http_local_path) before it redirects there.  A target
 * too long for the form's field returns to the path alone.
 */
static void
router_login_redirect(struct req *r)
{
	struct buf	 b;
	const char	*qs;
	char		*loc, *next;

	qs = r->fcgi != NULL ? FCGX_GetParam("QUERY_STRING", r->fcgi->envp) :
	    NULL;
	if (qs != NULL && *qs != '\0' &&
	    strlen(r->path) + 1 + strlen(qs) < NEXT_MAX)
		next = arena_printf(r->a, "%s?%s", r->path, qs);
	else
		next = arena_printf(r->a, "%s", r->path);
	if (next == NULL || !http_local_path(next))
		next = (char *)"/";
	buf_init(&b, 2048);
	(void)buf_appends(&b, "/login?");
	if (r->sstate == SESSION_EXPIRED)
		(void)buf_appends(&b, "expired=1&");
	(void)buf_appends(&b, "next=");
	(void)tmpl_esc_url(tmpl_write_buf, &b, next, strlen(next));
	loc = buf_take(&b);
	http_redirect(r, loc != NULL ? loc : "/login");
	free(loc);
}

void
router_dispatch(struct req *r)
{
	const struct page_def	*pd;
	const char		*token, *csrf;
	int			 p;

	if ((p = router_find(r->path)) < 0) {
		/* The page of the site, with its header and navigation when
		 * the user is logged in. */
		r->unrouted = 1;
		if (r->db != NULL && db_ensure(r->db) == 0) {
			token = kv_get(&r->cookies,
			    http_cookie_name(r, "zy_session"));
			r->sstate = session_lookup(r->db, r->conf, token,
			    &r->sess);
		}
		page_error(r, 404, "您访问的页面不存在");
		return;
	}
	r->page = (enum page)p;
	pd = &pages[p];
	if (!(pd->methods & (1u << r->method))) {
		page_error(r, 405, "不支持该请求方式");
		return;
	}
	if (r->page == PAGE_HEALTH) {
		pd->handler(r);
		return;
	}
	if (r->db == NULL || db_ensure(r->db) == -1) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	token = kv_get(&r->cookies, http_cookie_name(r, "zy_session"));
	r->sstate = session_lookup(r->db, r->conf, token, &r->sess);
	if (r->sstate == SESSION_ERROR) {
		page_error(r, 503, "系统暂时不可用，请稍后重试");
		return;
	}
	if (r->sstate == SESSION_EXPIRED)
		http_cookie_set(r, "zy_session", "", 0);
	if (pd->roles != ACCESS_PUBLIC) {
		if (r->sstate != SESSION_OK) {
			if (r->method == METHOD_POST)
				page_error(r, 403,
				    "登录已失效，请重新登录后再提交");
			else
				router_login_redirect(r);
			return;
		}
		if (!(r->sess.acct.roles & pd->roles)) {
			log_info("%s: %s refused %s (roles %#x)", __func__,
			    r->sess.acct.login, pd->path, r->sess.acct.roles);
			page_error(r, 403, "您没有访问此页面的权限");
			return;
		}
		/* Every POST of a logged-in user carries the session's CSRF
		 * token; a missing or wrong one changes nothing. */
		if (r->method == METHOD_POST) {
			csrf = http_csrf(r);
			if (csrf == NULL || !auth_csrf_equal(csrf, r->sess.csrf)) {
				log_info("%s: CSRF check failed for %s on %s",
				    __func__, r->sess.acct.login, pd->path);
				page_error(r, 403,
				    "页面已过期或请求无效，请刷新页面后重试");
				return;
			}
		}
	}
	pd->handler(r);
}
