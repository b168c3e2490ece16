/*
 * form.c - modal forms, confirmations, notices and one-line prompts.
 *
 * A form keeps what was typed: when the change it feeds is refused, the
 * caller puts the error next to its field (form_error) and runs the form
 * again with the input intact.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "console.h"

#define FORM_LABEL	14	/* cells of the label column */

static const char *const form_keys[FUNCBAR_KEYS] = {
	NULL, "保存", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "取消"
};

struct field *
form_field(struct form *f, const char *name)
{
	int	 i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	return NULL;
}

/* Put a refusal next to its field (or on the first one) and focus it. */
void
form_error(struct form *f, const struct store_err *e)
{
	struct field	*fl;
	int		 i;

	for (i = 0; i < f->n; i++)
		f->fields[i].err[0] = '\0';
	if ((fl = form_field(f, e->field)) == NULL)
		fl = &f->fields[0];
	str_copy(fl->err, sizeof(fl->err), e->msg);
	f->cur = (int)(fl - f->fields);
	if (f->fields[f->cur].kind == FK_FIXED)
		f->cur = 0;
}

static void
form_value(const struct field *fl, int y, int x, int current)
{
	char	 buf[512];
	int	 k, attr = current ? AT_REVERSE : AT_UNDERLINE;
	size_t	 i, off;

	switch (fl->kind) {
	case FK_SECRET:
		buf[0] = '\0';
		for (i = 0; fl->text[i] != '\0' && i < 64; i++)
			if (((unsigned char)fl->text[i] & 0xc0) != 0x80)
				(void)strncat(buf, "*", sizeof(buf) -
				    strlen(buf) - 1);
		(void)scr_put(y, x, 40, buf, attr);
		break;
	case FK_CHOICE:
		(void)snprintf(buf, sizeof(buf), "◀ %s ▶",
		    fl->opts[fl->choice].zh[0] != '\0' ?
		    fl->opts[fl->choice].zh : "无");
		(void)scr_put(y, x, scr_width(buf), buf, attr);
		break;
	case FK_ROLES:
		for (k = 0; k < ROLE__MAX; k++) {
			(void)snprintf(buf, sizeof(buf), "[%s]%s",
			    fl->bits & ROLE_BIT(k) ? "x" : " ",
			    role_names[k].zh);
			x += scr_put(y, x, scr_width(buf), buf,
			    current && fl->sub == k ? AT_REVERSE : AT_NORMAL);
			x += scr_put(y, x, 1, " ", AT_NORMAL);
		}
		break;
	case FK_FIXED:
		(void)scr_put(y, x, -1, fl->text, AT_BOLD);
		break;
	default:
		if (current) {
			off = str_offset_back(fl->text, fl->back);
			(void)snprintf(buf, sizeof(buf), "%.*s▏%s", (int)off,
			    fl->text, fl->text + off);
		} else
			(void)snprintf(buf, sizeof(buf), "%s", fl->text);
		if (scr_width(buf) > 40)
			(void)scr_put(y, x, -1, buf, attr);
		else
			(void)scr_put(y, x, 40, buf, attr);
		break;
	}
}

static void
form_draw(struct console *con, struct form *f)
{
	int	 i, y, top = console_body_top();

	(void)erase();
	if (scr_small()) {
		(void)scr_put(0, 0, -1, "窗口太小：至少需要 60×12", AT_BOLD);
		return;
	}
	(void)scr_put(top, 1, -1, f->title, AT_BOLD);
	for (i = 0; i < f->n; i++) {
		y = top + 2 + 2 * i;
		if (y >= LINES - 2)
			break;
		(void)scr_put(y, 2, FORM_LABEL, f->fields[i].label,
		    i == f->cur ? AT_BOLD : AT_NORMAL);
		form_value(&f->fields[i], y, 2 + FORM_LABEL, i == f->cur);
		if (f->fields[i].err[0] != '\0' && y + 1 < LINES - 2)
			(void)scr_put(y + 1, 2 + FORM_LABEL, -1,
			    f->fields[i].err, has_colors() ?
			    AT_PAIR(2) | AT_BOLD : AT_BOLD);
	}
	console_frame(con, form_keys);
}

static void
form_move(struct form *f, int dir)
{
	int	 i;

	for (i = 0; i < f->n; i++) {
		f->cur = (f->cur + dir + f->n) % f->n;
		if (f->fields[f->cur].kind != FK_FIXED)
			return;
	}
}

/* Edit the focused field with a key.  Returns 1 if it used the key. */
static int
form_edit(struct field *fl, int key)
{
	size_t	 n, off;

	switch (fl->kind) {
	case FK_TEXT:
	case FK_SECRET:
		n = u8_chars(fl->text);
		if (fl->back > n)
			fl->back = n;
		off = str_offset_back(fl->text, fl->back);
		switch (key) {
		case K_LEFT:
			if (fl->back < n)
				fl->back++;
			return 1;
		case K_RIGHT:
			if (fl->back > 0)
				fl->back--;
			return 1;
		case K_HOME:
			fl->back = n;
			return 1;
		case K_END:
			fl->back = 0;
			return 1;
		case K_BS:
			(void)str_delete_before(fl->text, off);
			return 1;
		case K_DEL:
			if (str_delete_at(fl->text, off) && fl->back > 0)
				fl->back--;
			return 1;
		case 21:	/* ^U */
			fl->text[0] = '\0';
			fl->back = 0;
			return 1;
		default:
			return str_insert_key(fl->text, sizeof(fl->text), off,
			    key);
		}
	case FK_CHOICE:
		if (key == K_RIGHT || key == ' ') {
			fl->choice = (fl->choice + 1) % fl->nopts;
			return 1;
		}
		if (key == K_LEFT) {
			fl->choice = (fl->choice + fl->nopts - 1) % fl->nopts;
			return 1;
		}
		return 0;
	case FK_ROLES:
		if (key == K_RIGHT) {
			fl->sub = (fl->sub + 1) % ROLE__MAX;
			return 1;
		}
		if (key == K_LEFT) {
			fl->sub = (fl->sub + ROLE__MAX - 1) % ROLE__MAX;
			return 1;
		}
		if (key == ' ') {
			fl->bits ^= ROLE_BIT(fl->sub);
			return 1;
		}
		if (key >= '1' && key < '1' + ROLE__MAX) {
			fl->sub = key - '1';
			fl->bits ^= ROLE_BIT(fl->sub);
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/*
 * Run a form until F2 (or Enter on the last field) saves it, or Esc or
 * F10 cancels it.  Returns 1 to save, 0 when cancelled.
 */
int
form_run(struct console *con, struct form *f)
{
	int	 key, last;

	if (f->fields[f->cur].kind == FK_FIXED)
		form_move(f, 1);
	for (;;) {
		form_draw(con, f);
		key = input_key();
		switch (key) {
		case K_EOF:
		case K_ESC:
		case K_F(10):
			return 0;
		case K_F(2):
			return 1;
		case K_UP:
		case K_BTAB:
			form_move(f, -1);
			break;
		case K_DOWN:
		case K_TAB:
			form_move(f, 1);
			break;
		case K_ENTER:
			last = f->n - 1;
			while (last > 0 && f->fields[last].kind == FK_FIXED)
				last--;
			if (f->cur >= last)
				return 1;
			form_move(f, 1);
			break;
		default:
			(void)form_edit(&f->fields[f->cur], key);
			break;
		}
	}
}

/* A box in the middle of the screen with lines of text. */
static void
box_draw(const char *title, const char *text, const char *hint)
{
	char	 lines[12][256];
	int	 n = 0, i, w, h, y, x;
	const char *p = text, *e;

	w = scr_width(title) + 4;
	while (n < 10 && *p != '\0') {
		e = strchr(p, '\n');
		(void)snprintf(lines[n], sizeof(lines[n]), "%.*s",
		    (int)(e ? (size_t)(e - p) : strlen(p)), p);
		if (scr_width(lines[n]) + 4 > w)
			w = scr_width(lines[n]) + 4;
		n++;
		p = e ? e + 1 : p + strlen(p);
	}
	str_copy(lines[n++], sizeof(lines[0]), "");
	str_copy(lines[n++], sizeof(lines[0]), hint);
	if (scr_width(hint) + 4 > w)
		w = scr_width(hint) + 4;
	if (w > COLS - 2)
		w = COLS - 2;
	h = n + 2;
	y = (LINES - h) / 2;
	x = (COLS - w) / 2;
	(void)scr_put(y, x, w, "", AT_REVERSE);
	(void)scr_put(y, x + 2, w - 4, title, AT_REVERSE | AT_BOLD);
	for (i = 0; i < n; i++) {
		(void)scr_put(y + 1 + i, x, w, "", AT_REVERSE);
		(void)scr_put(y + 1 + i, x + 2, w - 4, lines[i], AT_REVERSE);
	}
	(void)scr_put(y + h - 1, x, w, "", AT_REVERSE);
}

/*
 * Ask before a destructive change.  Returns 1 on y (or F2), 0 on n, Esc
 * or F10.
 */
int
confirm(struct console *con, const char *question)
{
	int	 key;

	for (;;) {
		console_paint(con);
		box_draw("请确认", question, "y 确认    n/Esc 取消");
		key = input_key();
		if (key == 'y' || key == 'Y' || key == K_F(2))
			return 1;
		if (key == 'n' || key == 'N' || key == K_ESC ||
		    key == K_F(10) || key == K_EOF)
			return 0;
	}
}

/* Show text until a key is pressed (Enter, Esc, or any other). */
void
notice(struct console *con, const char *title, const char *text)
{
	int	 key;

	do {
		console_paint(con);
		box_draw(title, text, "按 Enter 继续");
		key = input_key();
	} while (key == K_RESIZE);
}

/*
 * Edit buf on the message line.  Returns 1 on Enter, 0 on Esc (buf is
 * then as it was).
 */
int
prompt(struct console *con, const char *label, char *buf, size_t size)
{
	char	 line[600], keep[512];
	int	 key, x;

	str_copy(keep, sizeof(keep), buf);
	for (;;) {
		console_paint(con);
		(void)snprintf(line, sizeof(line), "%s：", label);
		x = scr_put(LINES - 2, 0, -1, line, AT_BOLD);
		(void)snprintf(line, sizeof(line), "%s▏", buf);
		(void)scr_put(LINES - 2, x, -1, line, AT_NORMAL);
		key = input_key();
		if (key == K_ENTER)
			return 1;
		if (key == K_ESC || key == K_EOF || key == K_F(10)) {
			str_copy(buf, size, keep);
			return 0;
		}
		if (key == K_BS || key == K_DEL)
			str_backspace(buf);
		else if (key == 21)
			buf[0] = '\0';
		else
			(void)str_append_key(buf, size, key);
	}
}
