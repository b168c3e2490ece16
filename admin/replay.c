/*
 * replay.c - where keys come from: the terminal, or a script.
 *
 * Script mode, after tig: a file of keystrokes is played against the
 * console without a terminal, and <Dump name> writes the screen as text,
 * so tests need no sleeps and no terminal emulator.  Syntax: text is
 * typed as it stands; the end of a line types nothing; a line starting
 * with '#' is a comment; <Name> is a key: Enter, Tab, BTab, Esc, Up,
 * Down, Left, Right, PgUp, PgDn, Home, End, Backspace, Del, Space, Lt
 * (a literal '<'), C-u (clear a field), F1..F12; <Resize 100x30> resizes the screen; <Dump
 * name> writes DUMPDIR/name.txt.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "log.h"

static char	*rp_text;	/* the script; NULL: read the terminal */
static size_t	 rp_len, rp_pos;
static char	 rp_dumpdir[PATH_MAX];

static const struct {
	const char	*name;
	int		 key;
} rp_keys[] = {
	{ "Enter", K_ENTER }, { "Tab", K_TAB }, { "BTab", K_BTAB },
	{ "Esc", K_ESC }, { "Up", K_UP }, { "Down", K_DOWN },
	{ "Left", K_LEFT }, { "Right", K_RIGHT }, { "PgUp", K_PGUP },
	{ "PgDn", K_PGDN }, { "Home", K_HOME }, { "End", K_END },
	{ "Backspace", K_BS }, { "Del", K_DEL }, { "Space", ' ' },
	{ "Lt", '<' }, { "C-u", 21 },
};

/*
 * Read a script of keys (see above); dumps go to dumpdir.  Returns 0, or
 * -1 when the script cannot be read.
 */
int
replay_open(const char *script, const char *dumpdir)
{
	FILE	*fp;
	long	 n;

	if ((fp = fopen(script, "r")) == NULL)
		return -1;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1 ||
	    (rp_text = malloc((size_t)n + 1)) == NULL) {
		(void)fclose(fp);
		return -1;
	}
	rp_len = fread(rp_text, 1, (size_t)n, fp);
	rp_text[rp_len] = '\0';
	(void)fclose(fp);
	str_copy(rp_dumpdir, sizeof(rp_dumpdir), dumpdir ? dumpdir : ".");
	return 0;
}

/* Keys come from a script. */
int
replay_active(void)
{
	return rp_text != NULL;
}

/* A <...> token at rp_pos; returns a key, or 0 when it was an action. */
static int
replay_token(void)
{
	char	 tok[256], path[PATH_MAX + 300];
	size_t	 n, i;
	int	 w, h, f;

	n = strcspn(rp_text + rp_pos + 1, ">\n");
	if (rp_text[rp_pos + 1 + n] != '>' || n >= sizeof(tok)) {
		rp_pos++;
		return '<';
	}
	memcpy(tok, rp_text + rp_pos + 1, n);
	tok[n] = '\0';
	rp_pos += n + 2;
	for (i = 0; i < sizeof(rp_keys) / sizeof(rp_keys[0]); i++)
		if (strcmp(tok, rp_keys[i].name) == 0)
			return rp_keys[i].key;
	if (sscanf(tok, "F%d", &f) == 1 && f >= 1 && f <= 12)
		return K_F(f);
	if (sscanf(tok, "Resize %dx%d", &w, &h) == 2 && w > 0 && h > 0 &&
	    w < 1000 && h < 1000) {
		(void)resizeterm(h, w);
		return K_RESIZE;
	}
	if (strncmp(tok, "Dump ", 5) == 0 && tok[5] != '\0' &&
	    strchr(tok + 5, '/') == NULL) {
		(void)snprintf(path, sizeof(path), "%s/%s.txt", rp_dumpdir,
		    tok + 5);
		if (screen_dump(path) == -1)
			log_error("%s: cannot write %s", __func__, path);
		return 0;
	}
	log_warnx("%s: unknown key <%s> ignored", __func__, tok);
	return 0;
}

static int
replay_next(void)
{
	mbstate_t	 st;
	wchar_t		 wc;
	size_t		 n;
	int		 k;

	while (rp_pos < rp_len) {
		if (rp_text[rp_pos] == '\n') {
			rp_pos++;
			continue;
		}
		if (rp_text[rp_pos] == '#' &&
		    (rp_pos == 0 || rp_text[rp_pos - 1] == '\n')) {
			rp_pos += strcspn(rp_text + rp_pos, "\n");
			continue;
		}
		if (rp_text[rp_pos] == '<') {
			if ((k = replay_token()) != 0)
				return k;
			continue;
		}
		memset(&st, 0, sizeof(st));
		n = mbrtowc(&wc, rp_text + rp_pos, rp_len - rp_pos, &st);
		if (n == 0 || n > rp_len - rp_pos) {
			rp_pos++;
			continue;
		}
		rp_pos += n;
		return (int)wc;
	}
	return K_EOF;
}

/*
 * The next key, from the script or the terminal, with the terminal's
 * variants (Return, ^H, DEL) folded into one code each.
 */
int
input_key(void)
{
	wint_t	 wc;
	int	 rc;

	(void)refresh();
	if (rp_text != NULL)
		return replay_next();
	for (;;) {
		rc = wget_wch(stdscr, &wc);
		if (rc == KEY_CODE_YES) {
			if (wc == KEY_ENTER)
				return K_ENTER;
			return K_FN | (int)wc;
		}
		if (rc == ERR)
			continue;
		if (wc == '\r' || wc == '\n')
			return K_ENTER;
		if (wc == 127 || wc == 8)
			return K_BS;
		return (int)wc;
	}
}
