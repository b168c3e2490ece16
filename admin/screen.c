/*
 * screen.c - the terminal, display widths of UTF-8 text, screen dumps.
 *
 * Chinese characters take two cells.  Text is converted to wide
 * characters and laid out by wcwidth(), so columns line up and a string
 * cut to fit never splits a character.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

static SCREEN	*scr_screen;
static FILE	*scr_null;

/*
 * Start curses.  In replay mode the output goes to /dev/null and the
 * size is rows x cols; the screen still lives in stdscr, which is what
 * dumps read.  Returns 0 or -1.
 */
int
screen_init(int replay, int rows, int cols)
{
	if (replay) {
		if ((scr_null = fopen("/dev/null", "r+")) == NULL)
			return -1;
		if ((scr_screen = newterm("xterm-256color", scr_null,
		    scr_null)) == NULL &&
		    (scr_screen = newterm("vt100", scr_null, scr_null)) == NULL)
			return -1;
		(void)set_term(scr_screen);
		(void)resizeterm(rows, cols);
	} else if (initscr() == NULL)
		return -1;
	(void)raw();
	(void)noecho();
	(void)nonl();
	(void)keypad(stdscr, TRUE);
	(void)curs_set(0);
	set_escdelay(50);
	if (has_colors()) {
		(void)start_color();
		(void)use_default_colors();
		(void)init_pair(1, COLOR_BLACK, COLOR_CYAN);	/* bars */
		(void)init_pair(2, COLOR_RED, -1);		/* errors */
		(void)init_pair(3, COLOR_GREEN, -1);		/* notes */
	}
	return 0;
}

/* End curses and give the terminal back. */
void
screen_end(void)
{
	(void)endwin();
	if (scr_screen != NULL) {
		delscreen(scr_screen);
		scr_screen = NULL;
	}
	if (scr_null != NULL) {
		(void)fclose(scr_null);
		scr_null = NULL;
	}
}

/* Wide characters of a UTF-8 string, malloc'ed; NULL on bad input. */
static wchar_t *
scr_wide(const char *s)
{
	size_t	 n;
	wchar_t	*w;

	if ((n = mbstowcs(NULL, s, 0)) == (size_t)-1)
		return NULL;
	if ((w = calloc(n + 1, sizeof(*w))) == NULL)
		return NULL;
	(void)mbstowcs(w, s, n + 1);
	return w;
}

/* Display width in cells of a UTF-8 string. */
int
scr_width(const char *s)
{
	wchar_t	*w;
	int	 n = 0, k;
	size_t	 i;

	if ((w = scr_wide(s)) == NULL)
		return (int)strlen(s);
	for (i = 0; w[i] != L'\0'; i++)
		if ((k = wcwidth(w[i])) > 0)
			n += k;
	free(w);
	return n;
}

/*
 * Draw UTF-8 text at y, x in at most width cells (negative: to the end
 * of the line), padded with spaces to width.  Returns the cells used.
 */
int
scr_put(int y, int x, int width, const char *s, int attr)
{
	wchar_t	*w, one[2];
	size_t	 i;
	int	 used = 0, k;

	if (y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (width < 0 || x + width > COLS)
		width = COLS - x;
	(void)attron(attr);
	(void)move(y, x);
	if ((w = scr_wide(s)) != NULL) {
		one[1] = L'\0';
		for (i = 0; w[i] != L'\0'; i++) {
			k = wcwidth(w[i]);
			if (k < 0) {
				one[0] = L'?';
				k = 1;
			} else
				one[0] = w[i];
			if (k == 0)
				continue;
			if (used + k > width)
				break;
			(void)addwstr(one);
			used += k;
		}
		free(w);
	}
	for (k = used; k < width; k++)
		(void)addch(' ');
	(void)attroff(attr);
	return used;
}

/* The terminal is too small to lay out the console. */
int
scr_small(void)
{
	return LINES < 12 || COLS < 60;
}

void
scr_table_head(int y, const struct column *c, int n)
{
	int	 i, x = 0, w;

	for (i = 0; i < n && x < COLS; i++) {
		w = c[i].width > 0 ? c[i].width : COLS - x;
		(void)scr_put(y, x, w, c[i].title, AT_BOLD | AT_UNDERLINE);
		x += w;
		if (i + 1 < n && x < COLS)
			(void)scr_put(y, x++, 1, " ", AT_UNDERLINE);
	}
}

void
scr_table_row(int y, const struct column *c, int n, const char *const *cells,
    int selected)
{
	int	 i, x = 0, w, attr = selected ? AT_REVERSE : AT_NORMAL;

	for (i = 0; i < n && x < COLS; i++) {
		w = c[i].width > 0 ? c[i].width : COLS - x;
		(void)scr_put(y, x, w, cells[i], attr);
		x += w;
		if (i + 1 < n && x < COLS)
			(void)scr_put(y, x++, 1, " ", attr);
	}
}

/*
 * Write every cell of the screen as UTF-8 lines (trailing blanks cut)
 * to path.  A wide character is written once for its two cells.
 * Returns 0 or -1.
 */
int
screen_dump(const char *path)
{
	FILE	*fp;
	cchar_t	 cc;
	wchar_t	 wch[CCHARW_MAX + 1];
	attr_t	 a;
	short	 pair;
	char	 line[4096], mb[MB_LEN_MAX + 1];
	size_t	 len, end;
	int	 y, x, k, n;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	for (y = 0; y < LINES; y++) {
		len = end = 0;
		for (x = 0; x < COLS; x += k) {
			k = 1;
			wch[0] = L' ';
			wch[1] = L'\0';
			if (mvin_wch(y, x, &cc) == OK)
				(void)getcchar(&cc, wch, &a, &pair, NULL);
			if (wch[0] == L'\0')
				wch[0] = L' ';
			if ((n = wcwidth(wch[0])) > 1)
				k = n;
			n = (int)wcrtomb(mb, wch[0], NULL);
			if (n <= 0) {
				mb[0] = '?';
				n = 1;
			}
			if (len + (size_t)n >= sizeof(line))
				break;
			memcpy(line + len, mb, (size_t)n);
			len += (size_t)n;
			if (wch[0] != L' ')
				end = len;
		}
		(void)fprintf(fp, "%.*s\n", (int)end, line);
	}
	return fclose(fp) == 0 ? 0 : -1;
}
