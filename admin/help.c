/*
 * help.c - the help screen (F1): the keys every panel shares, then the
 * current panel's own.
 */
#include "config.h"

#include "console.h"

static const char *const help_common[] = {
	"通用按键",
	"  F1 / ?        帮助（本页）",
	"  Tab / 1-8     面板：1用户 2机构 3医联体 4角色权限 5锁定 6AI任务 7审计 8校准",
	"  ↑ ↓ PgUp PgDn 移动光标、翻页",
	"  F10 / q       退出",
	"表单中：Tab/↓ 下一项，↑ 上一项，←→/空格 选择，F2 或最后一项回车 保存，Esc 取消",
	"所有修改都在一个事务中完成，并写入审计日志（渠道 console）。",
	NULL
};

static const char *const help_keys[FUNCBAR_KEYS] = {
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "返回"
};

/* Show the help screen until a key other than a resize is pressed. */
void
help_show(struct console *con)
{
	const char *const *p;
	int	 y, key;

	do {
		(void)erase();
		y = console_body_top();
		(void)scr_put(y++, 1, -1, "帮助", AT_BOLD);
		for (p = help_common; *p != NULL && y < LINES - 2; p++)
			(void)scr_put(y++, 1, -1, *p, AT_NORMAL);
		y++;
		(void)scr_put(y++, 1, -1, panels[con->cur]->title, AT_BOLD);
		for (p = panels[con->cur]->help; p != NULL && *p != NULL &&
		    y < LINES - 2; p++)
			(void)scr_put(y++, 1, -1, *p, AT_NORMAL);
		console_frame(con, help_keys);
		key = input_key();
	} while (key == K_RESIZE);
}
