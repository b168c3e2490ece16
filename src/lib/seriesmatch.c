/*
 * seriesmatch.c - from the index to the matcher to the job queue.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "matcher.h"
#include "seriesmatch.h"

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
seriesmatch_spacing(const double *ipp, int n, const double *iop)
{
	double	 nrm[3], *pos, *d, med;
	int	 i, k = 0;

	if (n < 2)
		return NAN;
	/* Slice normal = row direction x column direction. */
	nrm[0] = iop[1] * iop[5] - iop[2] * iop[4];
	nrm[1] = iop[2] * iop[3] - iop[0] * iop[5];
	nrm[2] = iop[0] * iop[4] - iop[1] * iop[3];
	if (fabs(nrm[0]) + fabs(nrm[1]) + fabs(nrm[2]) < 1e-6)
		return NAN;
	if ((pos = calloc((size_t)n, sizeof(*pos))) == NULL ||
	    (d = calloc((size_t)n, sizeof(*d))) == NULL) {
		free(pos);
		return NAN;
	}
	for (i = 0; i < n; i++)
		pos[i] = ipp[3 * i] * nrm[0] + ipp[3 * i + 1] * nrm[1] +
		    ipp[3 * i + 2] * nrm[2];
	qsort(pos, (size_t)n, sizeof(*pos), dbl_cmp);
	/* Slices at the same position (duplicates) are not a spacing. */
	for (i = 1; i < n; i++)
		if (pos[i] - pos[i - 1] > 1e-3)
			d[k++] = pos[i] - pos[i - 1];
	med = NAN;
	if (k > 0) {
		qsort(d, (size_t)k, sizeof(*d), dbl_cmp);
		med = d[k / 2];
	}
	free(pos);
	free(d);
	return med;
}

static double
num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NAN :
	    strtod(PQgetvalue(r, row, col), NULL);
}

/* Parse a float8[] literal "{a,b,c}" into out (up to n values). */
static int
arr(const char *s, double *out, int n)
{
	char	*end;
	int	 k = 0;

	if (*s++ != '{')
		return 0;
	while (k < n && *s != '\0' && *s != '}') {
		out[k++] = strtod(s, &end);
		if (end == s)
			return 0;
		s = end;
		if (*s == ',')
			s++;
	}
	return k;
}

/* The measured spacing of a series from its instances' positions. */
static double
series_spacing(PGconn *c, const char *sid, const char *iop_text)
{
	PGresult	*r;
	double		 iop[6], *ipp, sp;
	int		 i, n, k = 0;

	if (arr(iop_text, iop, 6) != 6)
		return NAN;
	r = db_exec(c, "SELECT ipp FROM instances WHERE series_id = $1::bigint"
	    " AND ipp IS NOT NULL", 1, sid);
	if (r == NULL)
		return NAN;
	n = PQntuples(r);
	if ((ipp = calloc((size_t)n * 3 + 1, sizeof(*ipp))) == NULL) {
		PQclear(r);
		return NAN;
	}
	for (i = 0; i < n; i++)
		if (arr(PQgetvalue(r, i, 0), ipp + 3 * k, 3) == 3)
			k++;
	PQclear(r);
	sp = seriesmatch_spacing(ipp, k, iop);
	free(ipp);
	return sp;
}

static int
match_audit(PGconn *c, const char *sid, int fits, const char *summary)
{
	struct audit	 a;
	json_t		*d;
	char		*detail;
	int		 rc;

	d = json_pack("{s:i, s:s}", "readers_fitting", fits, "summary",
	    summary);
	detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	memset(&a, 0, sizeof(a));
	a.action = "series_matched";
	a.object_type = "series";
	a.object_id = sid;
	a.channel = "system";
	a.detail = detail;
	rc = audit_write(c, &a);
	free(detail);
	return rc;
}

int
seriesmatch_run(PGconn *c, long long series_id)
{
	struct match_series	 ms;
	struct match_result	 res[READER__MAX];
	PGresult		*r = NULL;
	char			 sid[32], slices[16], desc[600],
				 summary[1024] = "";
	int			 fits, k, queued = 0;

	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	if (db_begin(c) == -1)
		return -1;
	/* Lock the series row: two senders finishing at once match in turn. */
	r = db_exec(c, "SELECT s.modality, s.body_part, s.description,"
	    " st.description, s.kernel, s.image_type, s.view_position,"
	    " s.slice_thickness, s.spacing_between_slices, s.kvp,"
	    " s.instance_count, s.contrast_agent, coalesce(s.iop::text, ''),"
	    " coalesce((SELECT string_agg(DISTINCT a.body_part, ' ')"
	    " FROM application_studies x JOIN applications a"
	    " ON a.id = x.application_id WHERE x.study_id = st.id"
	    " AND a.state <> 'cancelled'), ''),"
	    " coalesce(s.lungs_complete::text, ''),"
	    /* 检查类型, when the live applications of the study agree. */
	    " coalesce((SELECT CASE WHEN count(DISTINCT a.exam_type) = 1"
	    "  THEN min(a.exam_type) END"
	    " FROM application_studies x JOIN applications a"
	    " ON a.id = x.application_id WHERE x.study_id = st.id"
	    " AND a.state <> 'cancelled'), ''),"
	    " coalesce(s.vertebrae_t12_l2::text, '')"
	    " FROM series s JOIN studies st ON st.id = s.study_id"
	    " WHERE s.id = $1::bigint FOR UPDATE OF s", 1, sid);
	if (r == NULL || PQntuples(r) != 1)
		goto fail;
	matcher_series_init(&ms);
	(void)snprintf(desc, sizeof(desc), "%s %s", db_val(r, 0, 2),
	    db_val(r, 0, 3));
	ms.modality = db_val(r, 0, 0);
	ms.body_part = db_val(r, 0, 1);
	/* The application's 检查部位, when the study is linked already. */
	ms.exam_part = db_val(r, 0, 13);
	ms.exam_type = db_val(r, 0, 15);
	ms.description = desc;
	ms.kernel = db_val(r, 0, 4);
	ms.image_type = db_val(r, 0, 5);
	ms.view_position = db_val(r, 0, 6);
	ms.slice_thickness = num(r, 0, 7);
	ms.kvp = num(r, 0, 9);
	ms.slices = (int)db_ll(r, 0, 10);
	/* The measured spacing is what a reader gets; the header's Spacing
	 * Between Slices only when positions are missing. */
	ms.slice_spacing = ms.slices > 1 ?
	    series_spacing(c, sid, db_val(r, 0, 12)) : NAN;
	if (isnan(ms.slice_spacing))
		ms.slice_spacing = num(r, 0, 8);
	/* Contrast: the Contrast/Bolus Agent tag, else what the series'
	 * description says, else the study's (增强, C+, CTA; 平扫, C-). */
	if (db_val(r, 0, 11)[0] != '\0')
		ms.contrast = TRI_YES;
	else if ((ms.contrast = matcher_contrast_text(db_val(r, 0, 2))) ==
	    TRI_UNKNOWN)
		ms.contrast = matcher_contrast_text(db_val(r, 0, 3));
	/* Whole lungs, once the daemon's anatomy has looked (sql/016). */
	ms.lungs_complete = db_val(r, 0, 14)[0] == 't' ? TRI_YES :
	    db_val(r, 0, 14)[0] == 'f' ? TRI_NO : TRI_UNKNOWN;
	/* Of T12, L1 and L2, once the daemon has numbered the vertebrae
	 * (sql/023). */
	if (db_val(r, 0, 16)[0] != '\0')
		ms.vertebrae_t12_l2 = (int)db_ll(r, 0, 16);
	/* A gated calcium-score series says so in its description. */
	ms.calcium_score = matcher_gated_text(desc);
	/* What the stack covers along its normal: a few slices of a chest
	 * cannot hold complete lungs, whatever their thickness. */
	if (ms.slices > 1 && !isnan(ms.slice_spacing))
		ms.extent = (ms.slices - 1) * fabs(ms.slice_spacing) +
		    (isnan(ms.slice_thickness) ? 0 : ms.slice_thickness);
	fits = matcher_check_all(&ms, res);
	if (fits == 0)
		matcher_summary(&ms, res, summary, sizeof(summary));
	(void)snprintf(slices, sizeof(slices), "%d", ms.slices);
	for (k = 0; k < READER__MAX; k++) {
		if (db_cmd(c, "INSERT INTO series_matches (series_id, reader,"
		    " fits, reason, notes, slices) VALUES ($1::bigint, $2,"
		    " $3::boolean, $4, $5, $6::int)"
		    " ON CONFLICT (series_id, reader) DO UPDATE SET"
		    " fits = EXCLUDED.fits, reason = EXCLUDED.reason,"
		    " notes = EXCLUDED.notes, slices = EXCLUDED.slices,"
		    " matched_at = now()", 6, sid, readers[k].code,
		    res[k].fits ? "true" : "false", res[k].reason,
		    res[k].notes, slices) == -1)
			goto fail;
		if (!res[k].fits)
			continue;
		/* New job, or the series grew since its job was queued. */
		if (db_cmd(c, "INSERT INTO ai_jobs (series_id, reader, slices)"
		    " VALUES ($1::bigint, $2, $3::int)"
		    " ON CONFLICT (series_id, reader) DO UPDATE SET"
		    " state = 'queued', slices = EXCLUDED.slices,"
		    " attempts = 0, error = '', run_after = now(),"
		    " updated_at = now(), finished_at = NULL"
		    " WHERE ai_jobs.slices <> EXCLUDED.slices"
		    " AND ai_jobs.state <> 'running'", 3, sid,
		    readers[k].code, slices) == -1)
			goto fail;
		queued++;
	}
	if (db_cmd(c, "UPDATE series SET match_summary = $2, matched_at = now()"
	    " WHERE id = $1::bigint", 2, sid, summary) == -1)
		goto fail;
	if (queued > 0 &&
	    db_cmd(c, "SELECT pg_notify('ai_jobs', $1)", 1, sid) == -1)
		goto fail;
	if (match_audit(c, sid, fits, summary) == -1 || db_commit(c) == -1)
		goto fail;
	PQclear(r);
	return fits;
fail:
	PQclear(r);
	db_rollback(c);
	log_error("%s: series %s could not be matched", __func__, sid);
	return -1;
}
