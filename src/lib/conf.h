/*
 * conf.h - configuration: one "key = value" file plus environment overrides.
 *
 * Every option is one row of the table in conf.c: name, type, bounds and
 * default.  An environment variable ZHIYING_<NAME> (upper case) overrides
 * the file.  Defaults run locally.
 */
#ifndef ZY_CONF_H
#define ZY_CONF_H

#include <stddef.h>

struct conf {
	char	db[512];		/* libpq conninfo of the application role */
	char	db_owner[512];		/* conninfo of the schema owner (migrations) */
	char	db_console[512];	/* conninfo of zhiying-admin */
	char	db_inferd[512];		/* conninfo of zhiying-inferd */
	char	db_scp[512];		/* conninfo of zhiying-scp */
	char	listen[256];		/* FastCGI socket: host:port or a path */
	int	workers;		/* FastCGI worker processes */
	char	templates[1024];	/* folder of the HTML templates */
	char	sql[1024];		/* folder of the schema migrations */
	char	store[1024];		/* image store root */
	char	log_level[16];
	int	session_idle;		/* seconds without a request */
	int	db_statements;		/* prepared per worker connection */
	int	session_absolute;	/* seconds since login */
	int	login_max_failures;	/* failed logins before the lock */
	int	login_lock_seconds;
	int	login_ip_max_failures;	/* per address; 0: off */
	int	login_ip_window;	/* seconds they are counted over */
	long	upload_max;		/* bytes of one request body */
	char	site_name[128];
	char	scp_ae_title[17];	/* our AE title */
	int	scp_port;
	int	scp_max_assoc;		/* associations served at once */
	char	scp_spool[1024];	/* received objects before ingest */
	long	dicom_max_inflated;	/* bytes a deflated dataset inflates to */
	int	dicom_inflate_ratio;	/* inflated / deflated, past 8 MiB */
	char	scp_listen[64];		/* IPv4 address to listen on */
	int	scp_timeout;		/* seconds of silence that end one */
	char	signoff_title[32];	/* lowest title that may sign off */
	int	lock_idle;		/* seconds before a report lock lapses */
	char	infer_backend[8];	/* auto, cuda or cpu */
	int	infer_lease;		/* seconds a claimed job is held */
	int	infer_poll;		/* seconds between queue polls */
	int	infer_backoff;		/* first retry delay, then doubled */
	int	infer_grace;		/* seconds a job may finish on stop */
	char	infer_readers_off[160];	/* reader codes not run here, by
					 * commas or spaces */
	double	cac_calibration;	/* mass score: mg/cm³ per HU, 120 kV */
	int	cac_gated_3mm;		/* score gated 3 mm calcium series */
};

/* Fill c with defaults, then the file at path (NULL or "" to skip; a
 * missing file is an error), then the environment.  Returns 0, or -1 with
 * a message in err naming the file, line and option. */
int	 conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* Set one option by name from text, with its bounds checked.  Returns 0,
 * or -1 with a message in err. */
int	 conf_set(struct conf *c, const char *name, const char *value,
	    char *err, size_t errlen);

/* Write every option as "name = value" lines to a stream (FILE *). */
void	 conf_dump(const struct conf *c, void *fp);

#endif /* ZY_CONF_H */
