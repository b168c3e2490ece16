/*
 * conf.c - the configuration table and its file and environment readers.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/zhiying"
#endif

enum conf_type {
	CONF_STRING,
	CONF_INT,
	CONF_LONG,
	CONF_DOUBLE,
	CONF_TYPE__MAX
};

struct conf_option {
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
	size_t		 size;	/* of a string */
	double		 min, max;	/* of a number */
	const char	*def;
};

#define S(f)	CONF_STRING, offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define I(f)	CONF_INT, offsetof(struct conf, f), 0
#define L(f)	CONF_LONG, offsetof(struct conf, f), 0
#define D(f)	CONF_DOUBLE, offsetof(struct conf, f), 0

static const struct conf_option options[] = {
	{ "db",			S(db), 0, 0, "dbname=zhiying user=zhiying_app" },
	{ "db_owner",		S(db_owner), 0, 0, "dbname=zhiying user=zhiying" },
	{ "db_console",		S(db_console), 0, 0,
				    "dbname=zhiying user=zhiying_console" },
	{ "db_inferd",		S(db_inferd), 0, 0,
				    "dbname=zhiying user=zhiying_inferd" },
	{ "db_scp",		S(db_scp), 0, 0,
				    "dbname=zhiying user=zhiying_scp" },
	{ "listen",		S(listen), 0, 0, "127.0.0.1:9000" },
	{ "workers",		I(workers), 1, 256, "4" },
	{ "templates",		S(templates), 0, 0, PKGDATADIR "/templates" },
	{ "sql",		S(sql), 0, 0, PKGDATADIR "/sql" },
	{ "store",		S(store), 0, 0, "/var/lib/zhiying/store" },
	{ "log_level",		S(log_level), 0, 0, "info" },
	/* Statements a web worker keeps prepared on its connection, the
	 * oldest given up first (each distinct list filter is one). */
	{ "db_statements",	I(db_statements), 16, 65536, "256" },
	{ "session_idle",	I(session_idle), 1, 86400, "1800" },
	{ "session_absolute",	I(session_absolute), 60, 30 * 86400, "43200" },
	{ "login_max_failures",	I(login_max_failures), 1, 100, "5" },
	{ "login_lock_seconds",	I(login_lock_seconds), 1, 86400, "900" },
	{ "login_ip_max_failures", I(login_ip_max_failures), 0, 100000, "20" },
	{ "login_ip_window",	I(login_ip_window), 1, 86400, "900" },
	{ "upload_max",		L(upload_max), 1024, 64L * 1024 * 1024 * 1024,
				    "4294967296" },
	{ "site_name",		S(site_name), 0, 0, "粤医智影" },
	{ "scp_ae_title",	S(scp_ae_title), 0, 0, "ZHIYING" },
	{ "scp_port",		I(scp_port), 1, 65535, "11112" },
	{ "scp_max_assoc",	I(scp_max_assoc), 1, 512, "16" },
	{ "scp_spool",		S(scp_spool), 0, 0, "/var/lib/zhiying/spool" },
	/* Deflated DICOM (uploads and the receiver): the largest real image,
	 * a multi-frame study of some hundred MB, fits; a deflate bomb is
	 * refused before its output is held (see dicom.h). */
	{ "dicom_max_inflated",	L(dicom_max_inflated), 8L * 1024 * 1024,
				    4L * 1024 * 1024 * 1024, "536870912" },
	{ "dicom_inflate_ratio", I(dicom_inflate_ratio), 10, 1100, "200" },
	/* The receiver's address: local only unless a site says otherwise
	 * (production.conf listens on 0.0.0.0, behind the peers' networks). */
	{ "scp_listen",		S(scp_listen), 0, 0, "127.0.0.1" },
	/* Seconds an association may send nothing (mid-PDU included) before
	 * it is ended. */
	{ "scp_timeout",	I(scp_timeout), 1, 3600, "60" },
	/* 住院医师 submit to review; from this title on, a doctor may sign a
	 * report off and review others'. */
	{ "signoff_title",	S(signoff_title), 0, 0, "attending" },
	{ "lock_idle",		I(lock_idle), 60, 86400, "1800" },
	/* zhiying-inferd: the compute backend (auto takes CUDA when a device
	 * is present), the lease of a claimed job (renewed every third of
	 * it), the poll behind LISTEN, the first retry delay (doubled for
	 * each attempt) and how long a running job may finish on SIGTERM. */
	{ "infer_backend",	S(infer_backend), 0, 0, "auto" },
	{ "infer_lease",	I(infer_lease), 1, 86400, "60" },
	{ "infer_poll",		I(infer_poll), 1, 3600, "5" },
	{ "infer_backoff",	I(infer_backoff), 0, 86400, "30" },
	{ "infer_grace",	I(infer_grace), 0, 3600, "30" },
	/* Readers of this build that this daemon does not run (a site that
	 * has not deployed one): their jobs end as a reader not deployed
	 * does, before the series is read.  Codes by commas or spaces. */
	{ "infer_readers_off",	S(infer_readers_off), 0, 0, "" },
	/* The coronary calcium reader's mass score: mg of calcium
	 * hydroxyapatite per cm³ per HU at 120 kV, from the scanner's
	 * calibration phantom (McCollough 2007). */
	{ "cac_calibration",	D(cac_calibration), 0.3, 1.5, "0.75" },
	/* ECG-gated calcium-score series of 2.5-3 mm, Agatston's own
	 * slices: scored (1) or refused with the reason (0).  Other CT is
	 * scored at 1.25 mm and thinner, as the manual asks. */
	{ "cac_gated_3mm",	I(cac_gated_3mm), 0, 1, "1" },
};

#undef S
#undef I
#undef L
#undef D

static const struct conf_option *
conf_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static int
conf_apply(struct conf *c, const struct conf_option *o, const char *value,
    char *err, size_t errlen)
{
	char	*end;
	long	 v;
	double	 d;

	switch (o->type) {
	case CONF_STRING:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes",
			    o->name, o->size - 1);
			return -1;
		}
		memcpy((char *)c + o->offset, value, strlen(value) + 1);
		return 0;
	case CONF_INT:
	case CONF_LONG:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			snprintf(err, errlen, "%s: '%s' is not a number",
			    o->name, value);
			return -1;
		}
		if ((double)v < o->min || (double)v > o->max) {
			snprintf(err, errlen, "%s: %ld is outside %.0f..%.0f",
			    o->name, v, o->min, o->max);
			return -1;
		}
		if (o->type == CONF_INT)
			*(int *)(void *)((char *)c + o->offset) = (int)v;
		else
			*(long *)(void *)((char *)c + o->offset) = v;
		return 0;
	case CONF_DOUBLE:
		errno = 0;
		d = strtod(value, &end);
		if (errno != 0 || end == value || *end != '\0' || d != d) {
			snprintf(err, errlen, "%s: '%s' is not a number",
			    o->name, value);
			return -1;
		}
		if (d < o->min || d > o->max) {
			snprintf(err, errlen, "%s: %g is outside %g..%g",
			    o->name, d, o->min, o->max);
			return -1;
		}
		*(double *)(void *)((char *)c + o->offset) = d;
		return 0;
	default:
		break;
	}
	snprintf(err, errlen, "%s: bad option type", o->name);
	return -1;
}

int
conf_set(struct conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_option	*o;

	if ((o = conf_find(name)) == NULL) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
	return conf_apply(c, o, value, err, errlen);
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
conf_read_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	 line[2048], msg[512], *p, *eq, *key, *val;
	int	 lineno = 0, rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto fail;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (conf_set(c, key, val, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto fail;
		}
	}
	rc = 0;
fail:
	(void)fclose(fp);
	return rc;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	size_t	 i, j;
	char	 env[64], msg[512];
	const char *v;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (conf_apply(c, &options[i], options[i].def, err,
		    errlen) == -1)
			return -1;
	if (path != NULL && *path != '\0' &&
	    conf_read_file(c, path, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		(void)snprintf(env, sizeof(env), "ZHIYING_%s", options[i].name);
		for (j = 8; env[j] != '\0'; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		if ((v = getenv(env)) == NULL)
			continue;
		if (conf_apply(c, &options[i], v, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "environment %s: %s", env, msg);
			return -1;
		}
	}
	return 0;
}

void
conf_dump(const struct conf *c, void *fp)
{
	size_t				 i;
	const struct conf_option	*o;

	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		o = &options[i];
		switch (o->type) {
		case CONF_STRING:
			fprintf(fp, "%s = %s\n", o->name,
			    (const char *)c + o->offset);
			break;
		case CONF_INT:
			fprintf(fp, "%s = %d\n", o->name,
			    *(const int *)(const void *)((const char *)c +
			    o->offset));
			break;
		case CONF_LONG:
			fprintf(fp, "%s = %ld\n", o->name,
			    *(const long *)(const void *)((const char *)c +
			    o->offset));
			break;
		case CONF_DOUBLE:
			fprintf(fp, "%s = %g\n", o->name,
			    *(const double *)(const void *)((const char *)c +
			    o->offset));
			break;
		default:
			break;
		}
	}
}
