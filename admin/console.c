/*
 * console.c - the frame around the panels and the main loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

const struct panel *const panels[PANEL__MAX] = {
	&users_panel,		/* PANEL_USERS */
	&inst_panel,		/* PANEL_INST */
	&alliance_panel,	/* PANEL_ALLIANCE */
	&roles_panel,		/* PANEL_ROLES */
	&locks_panel,		/* PANEL_LOCKS */
	&jobs_panel,		/* PANEL_JOBS */
	&audit_panel,		/* PANEL_AUDIT */
	&calib_panel,		/* PANEL_CALIB */
};

/* Set the message line. */
void
console_msg(struct console *con, int error, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(con->msg, sizeof(con->msg), fmt, ap);
	va_end(ap);
	con->msg_error = error;
}

/* First row and number of rows of a panel's body. */
int
console_body_top(void)
{
	return 1;
}

int
console_body_height(void)
{
	return LINES - 3 > 0 ? LINES - 3 : 0;
}

/*
 * Draw the header (tabs and who is logged in), the message line and the
 * function-key bar; the body is left to the caller.
 */
void
console_frame(struct console *con, const char *const *keys)
{
	char	 tab[64], who[400];
	int	 i, x, bar = has_colors() ? AT_PAIR(1) : AT_REVERSE;

	(void)scr_put(0, 0, -1, "", bar);
	x = scr_put(0, 0, -1, "智影管理 ", bar | AT_BOLD);
	for (i = 0; i < PANEL__MAX && x < COLS; i++) {
		(void)snprintf(tab, sizeof(tab), "%d%s ", i + 1,
		    panels[i]->title);
		x += scr_put(0, x, scr_width(tab), tab, i == (int)con->cur ?
		    AT_REVERSE | AT_BOLD : bar);
	}
	(void)snprintf(who, sizeof(who), "%s%s", con->actor.login,
	    con->actor.platform ? "[平台]" : "[机构]");
	if (x + scr_width(who) + 1 <= COLS)
		(void)scr_put(0, COLS - scr_width(who), -1, who, bar);
	(void)scr_put(LINES - 2, 0, -1, con->msg, con->msg_error ?
	    (has_colors() ? AT_PAIR(2) | AT_BOLD : AT_BOLD) : AT_NORMAL);
	funcbar_draw(keys);
}

/* Draw the whole screen: the current panel in its frame. */
void
console_paint(struct console *con)
{
	const struct panel *p = panels[con->cur];

	(void)erase();
	if (scr_small()) {
		(void)scr_put(0, 0, -1, "窗口太小：至少需要 60×12", AT_BOLD);
		return;
	}
	p->draw(con, console_body_top(), console_body_height());
	console_frame(con, p->keys(con));
}

/* Keys every panel shares: help, quit, switching panels, resize. */
static int
console_key(struct console *con, int key)
{
	switch (key) {
	case K_F(1):
	case '?':
		help_show(con);
		return RD_DRAW;
	case K_F(10):
	case 'q':
		return RD_QUIT;
	case K_TAB:
		con->cur = (enum panel_id)((con->cur + 1) % PANEL__MAX);
		con->msg[0] = '\0';
		return RD_RELOAD;
	case K_BTAB:
		con->cur = (enum panel_id)((con->cur + PANEL__MAX - 1) %
		    PANEL__MAX);
		con->msg[0] = '\0';
		return RD_RELOAD;
	case K_RESIZE:
		return RD_RELOAD;
	default:
		if (key >= '1' && key < '1' + PANEL__MAX) {
			con->cur = (enum panel_id)(key - '1');
			con->msg[0] = '\0';
			return RD_RELOAD;
		}
		return RD_UNHANDLED;
	}
}

/*
 * Run the console until F10 (or the end of a replay script).  Returns 0.
 */
int
console_run(struct console *con)
{
	int	 flags = RD_RELOAD, key;

	for (;;) {
		if ((flags & RD_RELOAD) && !scr_small())
			(void)panels[con->cur]->load(con);
		if (flags & (RD_RELOAD | RD_DRAW))
			console_paint(con);
		key = input_key();
		if (key == K_EOF)
			break;
		if (scr_small() && key != K_RESIZE && key != K_F(10)) {
			flags = RD_NONE;
			continue;
		}
		flags = panels[con->cur]->key(con, key);
		if (flags & RD_UNHANDLED)
			flags = console_key(con, key);
		if (flags & RD_UNHANDLED)
			flags = RD_NONE;
		if (flags & RD_QUIT)
			break;
	}
	return 0;
}
