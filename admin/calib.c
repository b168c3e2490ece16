/*
 * calib.c - the calcium mass score's calibration per scanner, for the
 * operator: zhiying-admin calibration add|list|remove.
 *
 * A site scans its hydroxyapatite phantom on each scanner and enters
 * the factor it measured (mg/cm³ per HU at 120 kV, McCollough et al.,
 * 2007) for the manufacturer, optionally the model and tube voltage; the
 * inference daemon takes the most specific row that fits a series.  See
 * sql/014_cac_calibration.sql.  The checks, the SQL and the audit rows
 * are store.c's (store_calib_*), shared with the console's 校准 panel:
 * every change is one transaction with its audit row.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "db.h"

/* The refusal of a change, as the operator sees it: the message, and
 * the value that was refused when it is a number. */
static int
calib_refused(const struct store_err *e, const char *value)
{
	if (value != NULL)
		fprintf(stderr, "zhiying-admin: %s: %s\n", e->msg, value);
	else
		fprintf(stderr, "zhiying-admin: %s\n", e->msg);
	return 1;
}

/* calibration add --manufacturer M [--model X] [--kvp K] --factor F
 * [--note T]: a new row, or the factor of the same scanner replaced. */
int
calib_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct calib_form f;
	struct store_err e;
	const char	*man = NULL, *model = "", *kvs = "", *fs = NULL;
	const char	*note = "";
	long long	 id;
	int		 i;

	for (i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--manufacturer") == 0)
			man = argv[i + 1];
		else if (strcmp(argv[i], "--model") == 0)
			model = argv[i + 1];
		else if (strcmp(argv[i], "--kvp") == 0)
			kvs = argv[i + 1];
		else if (strcmp(argv[i], "--factor") == 0)
			fs = argv[i + 1];
		else if (strcmp(argv[i], "--note") == 0)
			note = argv[i + 1];
		else
			return 2;
	}
	if (i != argc || man == NULL || fs == NULL)
		return 2;
	memset(&f, 0, sizeof(f));
	memset(&e, 0, sizeof(e));
	/* Text longer than its field is longer than the store allows, and
	 * stays so when cut; a number that does not fit is handed on as one
	 * it refuses, and named as given. */
	str_copy(f.manufacturer, sizeof(f.manufacturer), man);
	str_copy(f.model, sizeof(f.model), model);
	str_copy(f.note, sizeof(f.note), note);
	str_copy(f.kvp, sizeof(f.kvp), strlen(kvs) < sizeof(f.kvp) ? kvs : "?");
	str_copy(f.factor, sizeof(f.factor), strlen(fs) < sizeof(f.factor) ?
	    fs : "?");
	switch (store_calib_save(c, a, &f, &e, &id)) {
	case ST_OK:
		break;
	case ST_INVALID:
		if (strcmp(e.field, "factor") == 0)
			return calib_refused(&e, fs);
		if (strcmp(e.field, "kvp") == 0)
			return calib_refused(&e, kvs);
		return calib_refused(&e, NULL);
	case ST_ERROR:
		fprintf(stderr, "zhiying-admin: the calibration could not be"
		    " saved\n");
		return 1;
	default:
		return calib_refused(&e, NULL);
	}
	printf("calibration %lld saved: %s%s%s%s%s factor %s\n", id, man,
	    *model ? " " : "", model, *f.kvp ? " " : "", f.kvp, f.factor);
	return 0;
}

/* calibration list: one line a row. */
int
calib_list(PGconn *c, struct actor *a, int argc, char **argv)
{
	PGresult	*r;
	int		 i;

	(void)a;
	(void)argv;
	if (argc != 0)
		return 2;
	if ((r = store_calib_list(c)) == NULL) {
		fprintf(stderr, "zhiying-admin: cannot read calibrations\n");
		return 1;
	}
	printf("%-4s %-20s %-24s %-4s %-6s %s\n", "id", "manufacturer",
	    "model", "kV", "factor", "note (date, by)");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-4s %-20s %-24s %-4s %-6s %s (%s, %s)\n",
		    db_val(r, i, 0), db_val(r, i, 1),
		    *db_val(r, i, 2) ? db_val(r, i, 2) : "*",
		    *db_val(r, i, 3) ? db_val(r, i, 3) : "*", db_val(r, i, 4),
		    db_val(r, i, 5), db_val(r, i, 6), db_val(r, i, 7));
	PQclear(r);
	return 0;
}

/* calibration remove ID */
int
calib_remove(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct store_err e;
	char		*end;
	long long	 id;

	if (argc != 1)
		return 2;
	id = strtoll(argv[0], &end, 10);
	if (argv[0][0] < '0' || argv[0][0] > '9' || *end != '\0' || id < 1) {
		fprintf(stderr, "zhiying-admin: not an id: %s\n", argv[0]);
		return 1;
	}
	memset(&e, 0, sizeof(e));
	switch (store_calib_remove(c, a, id, &e)) {
	case ST_OK:
		printf("calibration %lld removed\n", id);
		return 0;
	case ST_NOT_FOUND:
		fprintf(stderr, "zhiying-admin: no calibration %s\n", argv[0]);
		return 1;
	case ST_ERROR:
		fprintf(stderr, "zhiying-admin: the calibration could not be"
		    " removed\n");
		return 1;
	default:
		return calib_refused(&e, NULL);
	}
}
