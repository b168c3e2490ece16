/*
 * calib.c - the calcium mass score's calibration per scanner, for the
 * operator: zhiying-admin calibration add|list|remove.
 *
 * A site scans its hydroxyapatite phantom on each scanner and enters
 * the factor it measured (mg/cm³ per HU at 120 kV, McCollough et al.,
 * 2007) for the manufacturer, optionally the model and tube voltage; the
 * inference daemon takes the most specific row that fits a series.  See
 * sql/014_cac_calibration.sql.  Every change is one transaction with
 * its audit row.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "db.h"

/* A number filling all of s within lo..hi into *v; 0 or -1. */
static int
calib_num(const char *s, double lo, double hi, double *v)
{
	char	*end;

	if (s == NULL || *s == '\0')
		return -1;
	*v = strtod(s, &end);
	if (*end != '\0' || !isfinite(*v) || *v < lo || *v > hi)
		return -1;
	return 0;
}

/* calibration add --manufacturer M [--model X] [--kvp K] --factor F
 * [--note T]: a new row, or the factor of the same scanner replaced. */
int
calib_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	const char	*man = NULL, *model = "", *kvs = NULL, *fs = NULL;
	const char	*note = "";
	char		 kv[16] = "", fa[16];
	double		 kvp, factor;
	PGresult	*r = NULL;
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
	if (man[strspn(man, " ")] == '\0' || strlen(man) > 64 ||
	    strlen(model) > 64) {
		fprintf(stderr, "zhiying-admin: 厂商不能为空，厂商与型号"
		    "不超过64个字符\n");
		return 1;
	}
	if (calib_num(fs, 0.3, 1.5, &factor) == -1) {
		fprintf(stderr, "zhiying-admin: 校准系数须为0.3–1.5之间的数"
		    "（mg/cm³/HU，120 kV）: %s\n", fs);
		return 1;
	}
	if (kvs != NULL) {
		if (calib_num(kvs, 70, 150, &kvp) == -1) {
			fprintf(stderr, "zhiying-admin: 管电压须为70–150 kV:"
			    " %s\n", kvs);
			return 1;
		}
		(void)snprintf(kv, sizeof(kv), "%.0f", kvp);
	}
	if (strlen(note) > 200) {
		fprintf(stderr, "zhiying-admin: 备注不超过200个字符\n");
		return 1;
	}
	(void)snprintf(fa, sizeof(fa), "%.3f", factor);
	if (db_begin(c) == -1)
		goto fail;
	r = db_exec(c, "INSERT INTO cac_calibrations (manufacturer, model,"
	    " kvp, factor, note, updated_by) VALUES (btrim($1), btrim($2),"
	    " nullif($3, '')::numeric, $4::numeric, $5, $6)"
	    " ON CONFLICT (lower(btrim(manufacturer)), lower(btrim(model)),"
	    " coalesce(kvp, 0)) DO UPDATE SET factor = EXCLUDED.factor,"
	    " note = EXCLUDED.note, updated_at = now(),"
	    " updated_by = EXCLUDED.updated_by RETURNING id", 6, man, model,
	    kv, fa, note, a->login);
	if (r == NULL || PQntuples(r) != 1 ||
	    store_audit(c, a, 0, "cac_calibration_saved", "cac_calibration",
	    strtoll(PQgetvalue(r, 0, 0), NULL, 10), json_pack("{s:s, s:s, s:s, s:s}", "manufacturer", man, "model",
	    model, "kvp", kv, "factor", fa)) == -1 || db_commit(c) == -1)
		goto fail;
	printf("calibration %s saved: %s%s%s%s%s factor %s\n",
	    PQgetvalue(r, 0, 0), man, *model ? " " : "", model, *kv ? " " : "",
	    *kv ? kv : "", fa);
	PQclear(r);
	return 0;
fail:
	PQclear(r);
	db_rollback(c);
	fprintf(stderr, "zhiying-admin: the calibration could not be saved\n");
	return 1;
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
	r = db_exec(c, "SELECT id, manufacturer, model, coalesce(kvp::text,"
	    " '*'), factor, note, to_char(updated_at, 'YYYY-MM-DD'),"
	    " updated_by FROM cac_calibrations ORDER BY lower(manufacturer),"
	    " lower(model), kvp NULLS FIRST", 0);
	if (r == NULL) {
		fprintf(stderr, "zhiying-admin: cannot read calibrations\n");
		return 1;
	}
	printf("%-4s %-20s %-24s %-4s %-6s %s\n", "id", "manufacturer",
	    "model", "kV", "factor", "note (date, by)");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-4s %-20s %-24s %-4s %-6s %s (%s, %s)\n",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    *PQgetvalue(r, i, 2) ? PQgetvalue(r, i, 2) : "*",
		    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
		    PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
		    PQgetvalue(r, i, 7));
	PQclear(r);
	return 0;
}

/* calibration remove ID */
int
calib_remove(PGconn *c, struct actor *a, int argc, char **argv)
{
	PGresult	*r = NULL;
	double		 id;

	if (argc != 1)
		return 2;
	if (calib_num(argv[0], 1, 9e15, &id) == -1 || id != floor(id)) {
		fprintf(stderr, "zhiying-admin: not an id: %s\n", argv[0]);
		return 1;
	}
	if (db_begin(c) == -1)
		goto fail;
	r = db_exec(c, "DELETE FROM cac_calibrations WHERE id = $1::bigint"
	    " RETURNING manufacturer, model, coalesce(kvp::text, ''),"
	    " factor::text", 1, argv[0]);
	if (r == NULL)
		goto fail;
	if (PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(c);
		fprintf(stderr, "zhiying-admin: no calibration %s\n", argv[0]);
		return 1;
	}
	if (store_audit(c, a, 0, "cac_calibration_removed",
	    "cac_calibration", (long long)id, json_pack("{s:s, s:s, s:s, s:s}", "manufacturer",
	    PQgetvalue(r, 0, 0), "model", PQgetvalue(r, 0, 1), "kvp",
	    PQgetvalue(r, 0, 2), "factor", PQgetvalue(r, 0, 3))) == -1 ||
	    db_commit(c) == -1)
		goto fail;
	printf("calibration %s removed\n", argv[0]);
	PQclear(r);
	return 0;
fail:
	PQclear(r);
	db_rollback(c);
	fprintf(stderr, "zhiying-admin: the calibration could not be"
	    " removed\n");
	return 1;
}
