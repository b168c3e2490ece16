/*
 * loader.c - a job's series from the store into a volume.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "film.h"
#include "loader.h"
#include "log.h"

int
loader_series(PGconn *c, struct store *st, long long series_id,
    volatile int *cancel, struct series_spare *spare,
    struct series_volume **out, char *err, size_t errlen)
{
	struct series_opts	 o;
	PGresult	*r;
	char		 sid[32], path[PATH_MAX], why[512];
	char		**paths = NULL;
	int		 i, n = 0, rc = -1;

	*out = NULL;
	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	r = db_exec(c, "SELECT storage_key FROM instances"
	    " WHERE series_id = $1::bigint"
	    " ORDER BY instance_number NULLS LAST, id", 1, sid);
	if (r == NULL) {
		errfmt(err, errlen, "database error listing the instances");
		return -1;
	}
	if ((n = PQntuples(r)) == 0) {
		errfmt(err, errlen, "series %s has no instances", sid);
		goto fail;
	}
	if ((paths = calloc((size_t)n, sizeof(*paths))) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (store_exists(st, db_val(r, i, 0)) != 1) {
			errfmt(err, errlen, "%s: not in the store",
			    db_val(r, i, 0));
			goto fail;
		}
		if (store_local_path(st, db_val(r, i, 0), path,
		    sizeof(path)) == -1 || (paths[i] = strdup(path)) == NULL) {
			errfmt(err, errlen, "%s: cannot be read from the store",
			    db_val(r, i, 0));
			goto fail;
		}
	}
	memset(&o, 0, sizeof(o));
	o.cancel = cancel;
	o.spare = spare;
	if (series_load((const char *const *)paths, (size_t)n, &o, out, why,
	    sizeof(why)) == -1) {
		errfmt(err, errlen, "series %s cannot be loaded: %s", sid, why);
		goto fail;
	}
	rc = 0;
fail:
	if (paths != NULL)
		for (i = 0; i < n; i++)
			free(paths[i]);
	free(paths);
	PQclear(r);
	return rc;
}

int
loader_is_film(const struct series_volume *v)
{
	return v->nz == 1 && (strcmp(v->modality, "DX") == 0 ||
	    strcmp(v->modality, "CR") == 0 || strcmp(v->modality, "SC") == 0);
}

int
loader_film(PGconn *c, struct store *st, long long series_id,
    struct film **out, char *err, size_t errlen)
{
	PGresult	*r;
	char		 sid[32], path[PATH_MAX], why[512];
	int		 rc = -1;

	*out = NULL;
	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	/* The application's 检查部位 through ai_series_exam_part()
	 * (sql/025): the daemon does not read the applications. */
	r = db_exec(c, "SELECT storage_key, ai_series_exam_part($1::bigint)"
	    " FROM instances WHERE series_id = $1::bigint"
	    " ORDER BY instance_number NULLS LAST, id LIMIT 1", 1, sid);
	if (r == NULL) {
		errfmt(err, errlen, "database error reading the film");
		return -1;
	}
	if (PQntuples(r) != 1) {
		errfmt(err, errlen, "series %s has no instances", sid);
		goto fail;
	}
	if (store_local_path(st, db_val(r, 0, 0), path, sizeof(path)) == -1) {
		errfmt(err, errlen, "%s: cannot be read from the store",
		    db_val(r, 0, 0));
		goto fail;
	}
	if (film_load(path, db_val(r, 0, 1), out, why, sizeof(why)) == -1) {
		errfmt(err, errlen, "series %s: the film cannot be read: %s",
		    sid, why);
		goto fail;
	}
	rc = 0;
fail:
	PQclear(r);
	return rc;
}
