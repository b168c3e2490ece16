/*
 * service.c - the daemons' common start: command line, configuration,
 * log level, pid file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

static void
service_usage(const char *name)
{
	fprintf(stderr, "usage: %s [-c conf] [-p pidfile]\n", name);
	exit(2);
}

int
service_init(const char *name, int argc, char *argv[], struct conf *cf,
    const char **pidfile)
{
	const char	*cfpath = getenv("ZHIYING_CONF");
	char		 err[1024];
	int		 ch, lvl;

	log_init(name);
	*pidfile = NULL;
	while ((ch = getopt(argc, argv, "c:p:")) != -1)
		switch (ch) {
		case 'c':
			cfpath = optarg;
			break;
		case 'p':
			*pidfile = optarg;
			break;
		default:
			service_usage(name);
		}
	if (optind != argc)
		service_usage(name);
	if (conf_load(cf, cfpath, err, sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return -1;
	}
	if ((lvl = log_level_parse(cf->log_level)) >= 0)
		log_set_level((enum log_level)lvl);
	return 0;
}

int
service_pidfile(const char *path)
{
	FILE	*fp;

	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) == EOF) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
