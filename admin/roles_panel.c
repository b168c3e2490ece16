/*
 * roles_panel.c - which role may do what: the table of the user manual
 * (用户角色和权限), read-only.
 */
#include "config.h"

#include <stddef.h>

#include "console.h"

static const struct {
	const char	*module, *does, *roles;
} roles_rows[] = {
	{ "申请", "录入申请单与病历资料，选择诊断模式，上传并关联影像，提交申请",
	  "邀请方人员" },
	{ "待诊断", "自诊断：查询待诊断申请、看影像、上传AI结论、审核生成报告",
	  "邀请方人员、受邀方人员" },
	{ "", "上级诊断：接收下级机构申请、看影像、写报告、反馈下级机构",
	  "受邀方人员" },
	{ "申请列表", "查询本人提交的申请、取消申请、查看报告单",
	  "邀请方人员（基层医院）" },
	{ "已诊断", "自诊断：本机构诊断的申请与报告单", "邀请方人员" },
	{ "", "上级诊断：下级机构已诊断的申请与报告单", "受邀方人员" },
	{ "待审核/已报告", "审核报告（需达到签发职称），查看已报告",
	  "受邀方人员" },
	{ "打印报告", "打印已完成的诊断报告", "邀请方人员" },
	{ "统计", "查看本机构及下级机构的业务统计", "统计" },
	{ "机构用户", "为本机构人员开通账户、分配角色和职称", "管理员" },
	{ "安全退出", "安全退出系统", "全部角色" },
};

static const struct column roles_cols[] = {
	{ "模块", 14 }, { "角色", 24 }, { "操作功能", 0 },
};

static const char *const roles_keys[FUNCBAR_KEYS] = {
	"帮助", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "退出"
};

static const char *const roles_help[] = {
	"  本页是用户手册“用户角色和权限”的对照表，只读。",
	"  受邀方人员须有职称；主治医师及以上（可配置 signoff_title）可签发、审核报告。",
	NULL
};

static const char *const *
roles_keys_get(struct console *con)
{
	(void)con;
	return roles_keys;
}

static int
roles_load(struct console *con)
{
	(void)con;
	return 0;
}

static void
roles_draw(struct console *con, int top, int height)
{
	const char	*cells[3];
	size_t		 i;
	int		 y = top;

	(void)con;
	scr_table_head(y++, roles_cols, 3);
	for (i = 0; i < sizeof(roles_rows) / sizeof(roles_rows[0]) &&
	    y < top + height; i++) {
		cells[0] = roles_rows[i].module;
		cells[1] = roles_rows[i].roles;
		cells[2] = roles_rows[i].does;
		scr_table_row(y++, roles_cols, 3, cells, 0);
	}
	if (y + 1 < top + height)
		(void)scr_put(y + 1, 0, -1, "职称：住院医师 < 主治医师 <"
		    " 副主任医师 < 主任医师", AT_NORMAL);
}

static int
roles_key(struct console *con, int key)
{
	(void)con;
	(void)key;
	return RD_UNHANDLED;
}

const struct panel roles_panel = {
	"角色权限", roles_keys_get, roles_load, roles_draw, roles_key,
	roles_help
};
