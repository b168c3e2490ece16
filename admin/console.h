/*
 * console.h - zhiying-admin, the ncurses administration console.
 *
 * The screen is one header line (the panels as tabs), the body of the
 * current panel, a message line and the function-key bar.  Everything is
 * drawn on stdscr, so a screen dump (replay mode) sees exactly what a
 * terminal shows.  Each panel lives in its own file and exports one
 * struct panel; its key handler returns RD_* flags that tell the loop
 * what to do next, as htop's panels do.
 *
 * Scope: an administrator (role admin) of a province-level institution
 * (institutions.level = 'province', the platform's own operator) is a
 * platform administrator and manages everything; any other administrator
 * manages only the users of their own institution.  store.c enforces it.
 */
#ifndef ZY_ADMIN_CONSOLE_H
#define ZY_ADMIN_CONSOLE_H

#include <stddef.h>
#include <wchar.h>

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include <libpq-fe.h>

#include "buf.h"
#include "conf.h"
#include "store.h"

/* Attributes as int, the type scr_put() takes. */
#define AT_NORMAL	((int)A_NORMAL)
#define AT_BOLD		((int)A_BOLD)
#define AT_REVERSE	((int)A_REVERSE)
#define AT_UNDERLINE	((int)A_UNDERLINE)
#define AT_PAIR(n)	((int)COLOR_PAIR(n))

/* What a key handler asks of the main loop. */
enum {
	RD_NONE		= 0,
	RD_DRAW		= 1 << 0,	/* draw the screen again */
	RD_RELOAD	= 1 << 1,	/* reload the panel's rows, then draw */
	RD_QUIT		= 1 << 2,	/* leave the console */
	RD_UNHANDLED	= 1 << 3	/* not this handler's key */
};

/*
 * Keys: a character is its code point; a function or cursor key is its
 * ncurses KEY_* code with K_FN set, so the two never collide.
 */
#define K_FN		0x40000000
#define K_ENTER		'\n'
#define K_TAB		'\t'
#define K_ESC		27
#define K_EOF		(K_FN | 0x1fffff)	/* end of a replay script */
#define K_F(n)		(K_FN | KEY_F(n))
#define K_UP		(K_FN | KEY_UP)
#define K_DOWN		(K_FN | KEY_DOWN)
#define K_LEFT		(K_FN | KEY_LEFT)
#define K_RIGHT		(K_FN | KEY_RIGHT)
#define K_PGUP		(K_FN | KEY_PPAGE)
#define K_PGDN		(K_FN | KEY_NPAGE)
#define K_HOME		(K_FN | KEY_HOME)
#define K_END		(K_FN | KEY_END)
#define K_BTAB		(K_FN | KEY_BTAB)
#define K_BS		(K_FN | KEY_BACKSPACE)
#define K_DEL		(K_FN | KEY_DC)
#define K_RESIZE	(K_FN | KEY_RESIZE)

enum panel_id {
	PANEL_USERS,
	PANEL_INST,
	PANEL_ALLIANCE,
	PANEL_ROLES,
	PANEL_LOCKS,
	PANEL_JOBS,
	PANEL_AUDIT,
	PANEL_CALIB,
	PANEL__MAX
};

#define FUNCBAR_KEYS	10

struct console {
	PGconn		*db;
	const struct conf *cf;
	struct actor	 actor;
	char		 name[260];	/* the administrator's display name */
	char		 inst_name[520];
	enum panel_id	 cur;
	char		 msg[512];	/* message line */
	int		 msg_error;	/* shown as an error */
};

struct panel {
	const char	*title;		/* tab text */
	/* Labels of F1..F10 for the current state (NULL: key unused). */
	const char *const *(*keys)(struct console *);
	/* Load the rows again.  Returns 0, or -1 with con->msg set. */
	int		 (*load)(struct console *);
	/* Draw the body: rows top .. top + height - 1. */
	void		 (*draw)(struct console *, int top, int height);
	/* Handle a key; returns RD_* flags. */
	int		 (*key)(struct console *, int key);
	/* Lines of the help screen for this panel, NULL-terminated. */
	const char *const *help;
};

extern const struct panel users_panel, inst_panel, alliance_panel,
	roles_panel, locks_panel, jobs_panel, audit_panel, calib_panel;
extern const struct panel *const panels[PANEL__MAX];

/* console.c: the frame around the panels. */
void		 console_msg(struct console *, int error, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
void		 console_frame(struct console *, const char *const *keys);
void		 console_paint(struct console *);
int		 console_body_top(void);
int		 console_body_height(void);
int		 console_run(struct console *);

/* screen.c: the terminal, widths of UTF-8 text, and screen dumps. */
int		 screen_init(int replay, int rows, int cols);
void		 screen_end(void);
int		 scr_width(const char *utf8);
int		 scr_put(int y, int x, int width, const char *utf8, int attr);
int		 screen_dump(const char *path);
int		 scr_small(void);

/* A table: column titles and widths (0: the rest of the line). */
struct column {
	const char	*title;
	int		 width;
};
void		 scr_table_head(int y, const struct column *, int n);
void		 scr_table_row(int y, const struct column *, int n,
		    const char *const *cells, int selected);

/* replay.c: keys from the terminal, or from a script (tig-style). */
int		 replay_open(const char *script, const char *dumpdir);
int		 replay_active(void);
int		 input_key(void);

/* funcbar.c */
void		 funcbar_draw(const char *const *keys);

/* help.c */
void		 help_show(struct console *);

/* form.c: modal forms, confirmation and notices. */
enum field_kind {
	FK_TEXT,
	FK_SECRET,		/* shown as asterisks */
	FK_CHOICE,		/* one of opts, cycled with Left/Right/Space */
	FK_ROLES,		/* a set of roles: Left/Right pick, Space toggles */
	FK_FIXED,		/* shown, not editable */
	FK__MAX
};

struct field {
	const char	*name;		/* matches store_err.field */
	const char	*label;		/* Chinese */
	enum field_kind	 kind;
	char		 text[400];	/* FK_TEXT, FK_SECRET, FK_FIXED */
	const struct model_name *opts;	/* FK_CHOICE */
	int		 nopts;
	int		 choice;
	unsigned int	 bits;		/* FK_ROLES */
	int		 sub;		/* FK_ROLES cursor */
	size_t		 back;		/* text cursor: characters from the
					 * end (0: at the end) */
	char		 err[256];
};

struct form {
	const char	*title;
	struct field	*fields;
	int		 n;
	int		 cur;
};

int		 form_run(struct console *, struct form *);
void		 form_error(struct form *, const struct store_err *);
struct field	*form_field(struct form *, const char *name);
int		 confirm(struct console *, const char *question);
void		 notice(struct console *, const char *title, const char *text);
int		 prompt(struct console *, const char *label, char *buf,
		    size_t size);

/* text.c: small string helpers. */
void		 str_copy(char *dst, size_t size, const char *src);
void		 str_like_prefix(char *dst, size_t size, const char *src);
int		 str_append_key(char *buf, size_t size, int key);
int		 str_insert_key(char *buf, size_t size, size_t off, int key);
size_t		 str_offset_back(const char *buf, size_t back);
int		 str_delete_before(char *buf, size_t off);
int		 str_delete_at(char *buf, size_t off);
void		 str_backspace(char *buf);

/* cli.c: the non-interactive subcommands. */
int		 cli_main(const struct conf *, int argc, char *argv[]);

/* zhiying-admin calibration add|list|remove (calib.c): the calcium mass
 * score's factor per scanner.  Exit status as cli_main's. */
int		 calib_add(PGconn *, struct actor *, int, char **);
int		 calib_list(PGconn *, struct actor *, int, char **);
int		 calib_remove(PGconn *, struct actor *, int, char **);

#endif /* ZY_ADMIN_CONSOLE_H */
