/*
 * service.c - the daemons' common start: command line, configuration,
 * log level, pid file.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

/* What each daemon is, and the settings it is mostly run with. */
static const struct {
	const char	*name;
	const char	*what;
	const char	*settings;
} daemons[] = {
	{ "zhiying-web",
	  "The web application: a supervisor that listens on the FastCGI\n"
	  "socket and forks the workers, which render the pages behind nginx.\n",
	  "db, listen, workers, templates, store, session_idle, lock_idle" },
	{ "zhiying-scp",
	  "The DICOM C-STORE receiver (AE title ZHIYING): registered senders\n"
	  "only; every object is stored through the ingest path of uploads.\n",
	  "db_scp, scp_listen, scp_port (ZHIYING_SCP_PORT), scp_spool,\n"
	  "    scp_max_assoc, scp_timeout, store" },
	{ "zhiying-inferd",
	  "The inference daemon: claims AI jobs from PostgreSQL and runs the\n"
	  "AI readers on the images of the store, on CUDA or the CPU.\n",
	  "db_inferd, store, infer_backend, infer_lease, infer_poll,\n"
	  "    infer_backoff, infer_grace" },
};

static void
service_usage(const char *name, FILE *fp, int status)
{
	size_t	 i;

	fprintf(fp, "usage: %s [-c conf] [-p pidfile]\n"
	    "       %s -h | --help\n", name, name);
	if (fp == stderr)
		exit(status);
	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if (strcmp(daemons[i].name, name) == 0)
			fprintf(fp, "\n%s", daemons[i].what);
	fprintf(fp, "\n"
	    "  -c conf     configuration file (default: $ZHIYING_CONF, else\n"
	    "              the built-in defaults)\n"
	    "  -p pidfile  write the process id to pidfile\n"
	    "  -h, --help  this text\n"
	    "\n"
	    "Any setting of the file is overridden by the environment variable\n"
	    "ZHIYING_<NAME> (scp_port: ZHIYING_SCP_PORT).  It runs in the\n"
	    "foreground, logs to standard error and stops on SIGTERM.\n");
	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if (strcmp(daemons[i].name, name) == 0)
			fprintf(fp, "Settings it reads: %s.\n",
			    daemons[i].settings);
	exit(status);
}

int
service_init(const char *name, int argc, char *argv[], struct conf *cf,
    const char **pidfile)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*cfpath = getenv("ZHIYING_CONF");
	char		 err[1024];
	int		 ch, lvl;

	log_init(name);
	*pidfile = NULL;
	while ((ch = getopt_long(argc, argv, "c:hp:", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			cfpath = optarg;
			break;
		case 'h':
			service_usage(name, stdout, 0);
			break;
		case 'p':
			*pidfile = optarg;
			break;
		default:
			service_usage(name, stderr, 2);
		}
	if (optind != argc)
		service_usage(name, stderr, 2);
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
