/*
 * service.h - how the daemons (zhiying-web, zhiying-scp, zhiying-inferd)
 * start alike: the command line "[-c conf] [-p pidfile]" (ZHIYING_CONF
 * when -c is not given), the configuration, its log level, and the pid
 * file that zhiying.sh and init systems follow.
 */
#ifndef ZY_SERVICE_H
#define ZY_SERVICE_H

#include "conf.h"

/*
 * Start logging as name, read the command line and load the
 * configuration into cf; *pidfile is the -p path or NULL.  A bad command
 * line prints the usage and exits 2.  Returns 0, or -1 when the
 * configuration cannot be loaded (logged).
 */
int	 service_init(const char *name, int argc, char *argv[],
	    struct conf *cf, const char **pidfile);

/* Write this process's pid into path (nothing when NULL).  Returns 0, or
 * -1 (logged). */
int	 service_pidfile(const char *path);

#endif /* ZY_SERVICE_H */
