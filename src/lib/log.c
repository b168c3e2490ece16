/*
 * log.c - one-line log messages on standard error.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "zhiying";
static enum log_level	 log_level = LOG_LEVEL_INFO;

static const char *const log_names[LOG_LEVEL__MAX] = {
	"error",	/* LOG_LEVEL_ERROR */
	"warn",		/* LOG_LEVEL_WARN */
	"info",		/* LOG_LEVEL_INFO */
	"debug",	/* LOG_LEVEL_DEBUG */
};

void
log_init(const char *progname)
{
	log_prog = progname;
}

void
log_set_level(enum log_level l)
{
	log_level = l;
}

int
log_level_parse(const char *s)
{
	int	 i;

	for (i = 0; i < LOG_LEVEL__MAX; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	va_list		 ap;
	char		 ts[32], line[2048];
	struct timespec	 now;
	struct tm	 tm;
	int		 n;

	if (l > log_level)
		return;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	(void)localtime_r(&now.tv_sec, &tm);
	(void)strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld %s[%ld] %s: ", ts,
	    now.tv_nsec / 1000000, log_prog, (long)getpid(), log_names[l]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so lines of several workers do not interleave. */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = sizeof(line) - 1;
	(void)write(STDERR_FILENO, line, (size_t)n);
}

void
errfmt(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
