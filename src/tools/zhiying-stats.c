/*
 * zhiying-stats - the 统计 workbook from the command line.
 *
 *	zhiying-stats [-c conf] --scope CODE [--from YYYY-MM-DD]
 *	    [--to YYYY-MM-DD] [--hospital CODE] [--alliance CODE]
 *	    [--exam CT|DR] [--reader CODE] [--mode self|superior]
 *	    [--status STATE] [--grain day|week|month] -o FILE.xlsx
 *
 * Writes the same workbook as 导出Excel on the 统计 page for a manager of
 * institution CODE (the scope rules of stats.h), for scheduled jobs.  The
 * export is audited as stats_exported, channel "cli".
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "stats.h"

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: zhiying-stats [-c conf] --scope CODE [--from YYYY-MM-DD]"
	    " [--to YYYY-MM-DD]\n"
	    "    [--hospital CODE] [--alliance CODE] [--exam CT|DR]"
	    " [--reader CODE]\n"
	    "    [--mode self|superior] [--status STATE]"
	    " [--grain day|week|month]\n"
	    "    [--from-rows] -o FILE.xlsx\n"
	    "       zhiying-stats -h | --help\n");
	if (fp == stdout)
		fprintf(fp, "\n"
		    "Writes the workbook of the 统计 page's 导出Excel for the"
		    " institution or\n"
		    "alliance CODE (--scope) and the filters given, as a"
		    " scheduled job would.\n"
		    "  -c conf        configuration file (default:"
		    " $ZHIYING_CONF)\n"
		    "  --status       pending, reporting, in_review, reported,"
		    " reviewed,\n"
		    "                 cancelled or returned\n"
		    "  --from-rows    count every figure from the applications'"
		    " rows instead\n"
		    "                 of the daily counts (the same workbook,"
		    " slower)\n"
		    "  -o, --output   the .xlsx file to write\n"
		    "  -h, --help     this text\n");
	exit(status);
}

static int
is_date(const char *s)
{
	int	 i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int
in_set(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* The id (text) of the institution or alliance with code, or NULL. */
static char *
id_of(PGconn *c, const char *table, const char *code)
{
	PGresult	*r;
	char		*id = NULL;

	r = db_exec(c, strcmp(table, "alliances") == 0 ?
	    "SELECT id FROM alliances WHERE code = $1" :
	    "SELECT id FROM institutions WHERE code = $1", 1, code);
	if (r != NULL && PQntuples(r) == 1)
		id = strdup(db_val(r, 0, 0));
	PQclear(r);
	if (id == NULL)
		log_error("no %s with code %s", table, code);
	return id;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "hospital", required_argument, NULL, 'H' },
		{ "alliance", required_argument, NULL, 'a' },
		{ "exam", required_argument, NULL, 'e' },
		{ "reader", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "status", required_argument, NULL, 'S' },
		{ "grain", required_argument, NULL, 'g' },
		{ "output", required_argument, NULL, 'o' },
		{ "from-rows", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const exams[] = { "CT", "DR", NULL };
	static const char *const modes[] = { "self", "superior", NULL };
	static const char *const grains[] = { "day", "week", "month", NULL };
	static const char *const states[] = { "pending", "reporting",
	    "in_review", "reported", "reviewed", "cancelled", "returned", NULL };
	struct conf	 cf;
	struct stats_filter f;
	struct stats	 s;
	struct audit	 au;
	char		 err[1024], *scope = NULL, *hosp = NULL, *alli = NULL;
	char		*detail;
	const char	*cfpath = getenv("ZHIYING_CONF"), *out = NULL;
	const char	*scode = NULL, *hcode = NULL, *acode = NULL, *tmpdir;
	PGconn		*c;
	int		 ch, rc = 1;

	log_init("zhiying-stats");
	memset(&f, 0, sizeof(f));
	while ((ch = getopt_long(argc, argv, "c:ho:", longopts, NULL)) != -1)
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'c':
			cfpath = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			scode = optarg;
			break;
		case 'f':
			f.from = optarg;
			break;
		case 't':
			f.to = optarg;
			break;
		case 'H':
			hcode = optarg;
			break;
		case 'a':
			acode = optarg;
			break;
		case 'e':
			f.exam = optarg;
			break;
		case 'r':
			f.reader = optarg;
			break;
		case 'm':
			f.mode = optarg;
			break;
		case 'S':
			f.status = optarg;
			break;
		case 'g':
			f.grain = optarg;
			break;
		case 'R':
			f.raw = 1;
			break;
		default:
			usage(stderr, 2);
		}
	if (optind != argc || scode == NULL || out == NULL)
		usage(stderr, 2);
	if ((f.from != NULL && !is_date(f.from)) ||
	    (f.to != NULL && !is_date(f.to)) ||
	    (f.exam != NULL && !in_set(f.exam, exams)) ||
	    (f.mode != NULL && !in_set(f.mode, modes)) ||
	    (f.grain != NULL && !in_set(f.grain, grains)) ||
	    (f.status != NULL && !in_set(f.status, states)) ||
	    (f.reader != NULL && reader_lookup(f.reader) < 0)) {
		log_error("invalid filter value");
		usage(stderr, 2);
	}
	if (conf_load(&cf, cfpath, err, sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return 1;
	}
	if ((c = db_connect(cf.db)) == NULL)
		return 1;
	if ((scope = id_of(c, "institutions", scode)) == NULL ||
	    (hcode != NULL && (hosp = id_of(c, "institutions", hcode)) ==
	    NULL) ||
	    (acode != NULL && (alli = id_of(c, "alliances", acode)) == NULL))
		goto done;
	f.scope = scope;
	f.hospital = hosp;
	f.alliance = alli;
	if (stats_run(c, &f, &s) == -1)
		goto done;
	tmpdir = access(cf.scp_spool, W_OK) == 0 ? cf.scp_spool : "/tmp";
	if (stats_xlsx(&s, &f, "zhiying-stats", out, tmpdir) == 0) {
		detail = stats_filter_json(&f);
		memset(&au, 0, sizeof(au));
		au.actor_login = "zhiying-stats";
		au.action = "stats_exported";
		au.object_type = "stats";
		au.object_id = out;
		au.channel = "cli";
		au.detail = detail;
		rc = audit_write(c, &au) == 0 ? 0 : 1;
		free(detail);
	}
	stats_free(&s);
done:
	free(scope);
	free(hosp);
	free(alli);
	PQfinish(c);
	return rc;
}
