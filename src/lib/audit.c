/*
 * audit.c - writing audit rows.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "matcher.h"
#include "model.h"
#include "workflow.h"

/* Only a well-formed address reaches the inet column; anything else is
 * kept out rather than failing the change it belongs to. */
const char *
audit_ip(const char *ip)
{
	unsigned char	 tmp[sizeof(struct in6_addr)];

	if (ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, tmp) == 1 ||
	    inet_pton(AF_INET6, ip, tmp) == 1)
		return ip;
	return NULL;
}

int
audit_write(PGconn *c, const struct audit *a)
{
	char	 actor[32], inst[32];

	(void)snprintf(actor, sizeof(actor), "%lld", a->actor_id);
	(void)snprintf(inst, sizeof(inst), "%lld", a->institution_id);
	return db_cmd(c,
	    "INSERT INTO audit_log (actor_id, actor_login, institution_id,"
	    " action, object_type, object_id, ip, channel, detail)"
	    " VALUES (NULLIF($1, '0')::bigint, $2, NULLIF($3, '0')::bigint,"
	    " $4, $5, $6, $7::inet, $8, $9::jsonb)", 9,
	    actor, a->actor_login ? a->actor_login : "", inst, a->action,
	    a->object_type ? a->object_type : "",
	    a->object_id ? a->object_id : "", audit_ip(a->ip),
	    a->channel ? a->channel : "web", a->detail ? a->detail : "{}");
}

/* The actions the platform writes, by the code it stores. */
static const struct model_name audit_actions[] = {
	{ "access_denied", "访问被拒绝" },
	{ "account_locked", "账号锁定" },
	{ "ai_job_dead", "AI任务失败" },
	{ "ai_job_failed", "AI任务不适用" },
	{ "ai_job_retried", "AI任务重试" },
	{ "ai_lesion_deleted", "删除病灶序号框" },
	{ "ai_result_stored", "AI结果保存" },
	{ "ai_result_viewed", "查看AI结果" },
	{ "alliance_created", "新建医联体" },
	{ "alliance_member_removed", "移出医联体成员" },
	{ "alliance_member_set", "设置医联体成员" },
	{ "alliance_updated", "修改医联体" },
	{ "application_cancelled", "取消申请" },
	{ "application_created", "提交申请" },
	{ "application_resubmitted", "重新提交申请" },
	{ "application_returned", "退回申请" },
	{ "application_viewed", "查看申请" },
	{ "assistance_requested", "请求协助" },
	{ "attachment_uploaded", "上传附件" },
	{ "attachment_viewed", "查看附件" },
	{ "cac_calibration_removed", "删除钙化积分校准" },
	{ "cac_calibration_saved", "保存钙化积分校准" },
	{ "demo_data_loaded", "载入演示数据" },
	{ "dicom_association_refused", "拒绝DICOM连接" },
	{ "dicom_peer_created", "新增DICOM节点" },
	{ "dicom_peer_updated", "修改DICOM节点" },
	{ "dicom_stored", "接收DICOM影像" },
	{ "image_viewed", "查看影像" },
	{ "images_held", "影像待核对" },
	{ "institution_created", "新建机构" },
	{ "institution_updated", "修改机构" },
	{ "key_image_added", "添加关键图像" },
	{ "key_image_removed", "移除关键图像" },
	{ "lock_expired", "报告锁超时释放" },
	{ "login", "登录" },
	{ "login_failed", "登录失败" },
	{ "login_throttled", "登录受限" },
	{ "logout", "退出登录" },
	{ "password_reset", "重置密码" },
	{ "report_approved", "审核通过" },
	{ "report_lock_broken", "强制解锁报告" },
	{ "report_locked", "锁定报告" },
	{ "report_printed", "打印报告" },
	{ "report_rejected", "审核退回" },
	{ "report_saved", "保存报告" },
	{ "report_submitted", "提交报告" },
	{ "report_unlocked", "解锁报告" },
	{ "report_viewed", "查看报告" },
	{ "series_matched", "序列匹配AI应用" },
	{ "stats_exported", "导出统计" },
	{ "study_link_declined", "拒绝关联影像" },
	{ "study_link_held", "影像待核对" },
	{ "study_linked", "关联影像" },
	{ "study_linked_confirmed", "确认关联影像" },
	{ "user_created", "新建账号" },
	{ "user_disabled", "停用账号" },
	{ "user_enabled", "启用账号" },
	{ "user_unlocked", "解锁账号" },
	{ "user_updated", "修改账号" },
};

/* The detail's keys, named. */
static const struct model_name audit_keys[] = {
	{ "ae_title", "AE名称" },
	{ "attempt", "尝试次数" },
	{ "called_ae", "被叫AE" },
	{ "code", "代码" },
	{ "diag_no", "诊断号" },
	{ "error", "错误" },
	{ "from", "原状态" },
	{ "institution", "机构" },
	{ "institution_id", "机构编号" },
	{ "message", "提示" },
	{ "name", "名称" },
	{ "network", "网络" },
	{ "reader", "AI应用" },
	{ "reason", "原因" },
	{ "status", "状态码" },
	{ "study_id", "检查编号" },
	{ "summary", "摘要" },
	{ "to", "新状态" },
	{ "version", "版本" },
};

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

const char *
audit_action_zh(const char *action)
{
	return model_zh(audit_actions, NELEM(audit_actions), action);
}

char *
audit_detail_zh(const char *json, char *out, size_t size)
{
	json_t		*o, *v;
	json_error_t	 e;
	const char	*k, *val;
	char		 num[64], *txt = NULL;
	size_t		 len = 0;
	int		 st;

	if (size == 0)
		return out;
	out[0] = '\0';
	if (json == NULL)
		return out;
	if ((o = json_loads(json, 0, &e)) == NULL || !json_is_object(o)) {
		json_decref(o);
		(void)snprintf(out, size, "%s", json);
		return out;
	}
	json_object_foreach(o, k, v) {
		free(txt);
		txt = NULL;
		if (json_is_string(v))
			val = json_string_value(v);
		else if (json_is_integer(v)) {
			(void)snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			val = num;
		} else if (json_is_null(v))
			val = "";
		else if (json_is_true(v) || json_is_false(v))
			val = json_is_true(v) ? "是" : "否";
		else
			val = txt = json_dumps(v, JSON_COMPACT);
		if (val == NULL)
			val = "";
		if ((strcmp(k, "from") == 0 || strcmp(k, "to") == 0) &&
		    (st = model_lookup(app_state_names, APP_STATE__MAX,
		    val)) >= 0)
			val = app_state_names[st].zh;
		else if (strcmp(k, "reader") == 0 &&
		    (st = reader_lookup(val)) >= 0)
			val = readers[st].zh;
		len += (size_t)snprintf(out + (len < size ? len : size - 1),
		    len < size ? size - len : 1, "%s%s：%s",
		    len > 0 ? "；" : "", model_zh(audit_keys, NELEM(audit_keys),
		    k), val);
	}
	free(txt);
	json_decref(o);
	if (len >= size) {
		/* Cut: not in the middle of a character. */
		size_t	 n = strlen(out), i = n;

		while (i > 0 && ((unsigned char)out[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > 0 && (unsigned char)out[i - 1] >= 0xC0) {
			size_t	 want = (unsigned char)out[i - 1] >= 0xF0 ? 4 :
			    (unsigned char)out[i - 1] >= 0xE0 ? 3 : 2;

			if (n - (i - 1) < want)
				out[i - 1] = '\0';
		}
	}
	return out;
}
