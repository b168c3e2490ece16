/*
 * log.h - logging to standard error (collected by the start script).
 *
 * Messages are English, one line each, prefixed with time, program, pid
 * and level.  Log an error once, where it is handled, with __func__.
 */
#ifndef ZY_LOG_H
#define ZY_LOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__MAX
};

/* Set the program name shown in each line (not copied). */
void	 log_init(const char *progname);

/* Only messages at or above this importance are written. */
void	 log_set_level(enum log_level);

/* Parse "error", "warn", "info" or "debug"; -1 if unknown. */
int	 log_level_parse(const char *);

void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Format a reason into a caller's error buffer (err may be NULL or
 * errlen 0: then nothing is written).  For functions that report why
 * they failed instead of logging. */
void	 errfmt(char *err, size_t errlen, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* ZY_LOG_H */
