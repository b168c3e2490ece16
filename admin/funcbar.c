/*
 * funcbar.c - the function-key bar on the last line, as htop's.
 */
#include "config.h"

#include <stdio.h>

#include "console.h"

/* Draw F1..F10 with their labels; a NULL label leaves its key out. */
void
funcbar_draw(const char *const *keys)
{
	char	 num[8];
	int	 i, x = 0, y = LINES - 1, w;
	int	 bar = has_colors() ? AT_PAIR(1) : AT_REVERSE;

	(void)move(y, 0);
	for (i = 0; i < FUNCBAR_KEYS && x < COLS; i++) {
		if (keys[i] == NULL)
			continue;
		(void)snprintf(num, sizeof(num), "F%d", i + 1);
		x += scr_put(y, x, -1, num, AT_BOLD);
		w = scr_width(keys[i]);
		if (x + w > COLS)
			break;
		x += scr_put(y, x, w, keys[i], bar);
		if (x < COLS)
			x += scr_put(y, x, 1, " ", AT_NORMAL);
	}
	if (x < COLS)
		(void)scr_put(y, x, -1, "", AT_NORMAL);
}
