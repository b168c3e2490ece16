/*
 * queue.c - claiming, keeping and finishing AI jobs.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "queue.h"

/* The SQL state names and audit actions of the failures, indexed by enum
 * job_failure. */
static const char *const failure_names[JOB_FAILURE__MAX] = {
	"retry",
	"dead",
	"failed",
};

/* One audit row about job id, by worker; detail is a JSON object, taken
 * over (NULL: {}). */
static int
queue_audit(PGconn *c, const char *action, const char *id,
    const char *worker, json_t *detail)
{
	struct audit	 a;
	char		*d = NULL;
	int		 rc;

	if (detail != NULL) {
		d = json_dumps(detail, JSON_COMPACT);
		json_decref(detail);
	}
	memset(&a, 0, sizeof(a));
	a.actor_login = worker;
	a.action = action;
	a.object_type = "ai_job";
	a.object_id = id;
	a.channel = "inferd";
	a.detail = d;
	rc = audit_write(c, &a);
	free(d);
	return rc;
}

int
queue_listen(PGconn *c)
{
	return db_cmd(c, "LISTEN ai_jobs", 0);
}

int
queue_claim(PGconn *c, const char *worker, int lease, long long prefer,
    struct job *j)
{
	PGresult	*r = NULL;
	char		 ls[16], ps[32];
	int		 rc = -1;

	(void)snprintf(ls, sizeof(ls), "%d", lease);
	(void)snprintf(ps, sizeof(ps), "%lld", prefer > 0 ? prefer : 0);
	if (db_begin(c) == -1)
		return -1;
	/* A due job of the preferred series first (the index of
	 * (series_id, reader) finds it), else the oldest due one; the
	 * second is only looked for when the first finds none. */
	r = db_exec(c, "UPDATE ai_jobs SET state = 'running',"
	    " leased_by = $1, lease_until = now() + make_interval(secs =>"
	    " $2::int), heartbeat_at = now(), attempts = attempts + 1,"
	    " updated_at = now()"
	    " WHERE id = coalesce("
	    " (SELECT id FROM ai_jobs WHERE series_id = $3::bigint"
	    "  AND state = 'queued' AND run_after <= now()"
	    "  ORDER BY run_after, id FOR UPDATE SKIP LOCKED LIMIT 1),"
	    " (SELECT id FROM ai_jobs WHERE state = 'queued'"
	    "  AND run_after <= now() ORDER BY run_after, id"
	    "  FOR UPDATE SKIP LOCKED LIMIT 1))"
	    " RETURNING id, series_id, reader, attempts, max_attempts,"
	    " slices", 3, worker, ls, ps);
	if (r == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		rc = 0;
		goto fail;
	}
	memset(j, 0, sizeof(*j));
	j->id = db_ll(r, 0, 0);
	j->series_id = db_ll(r, 0, 1);
	(void)snprintf(j->reader, sizeof(j->reader), "%s", db_val(r, 0, 2));
	j->attempts = (int)db_ll(r, 0, 3);
	j->max_attempts = (int)db_ll(r, 0, 4);
	j->slices = (int)db_ll(r, 0, 5);
	if (queue_audit(c, "ai_job_claimed", db_val(r, 0, 0), worker,
	    json_pack("{s:s, s:i, s:i}", "reader", j->reader, "attempt",
	    j->attempts, "max_attempts", j->max_attempts)) == -1 ||
	    db_commit(c) == -1)
		goto fail;
	PQclear(r);
	return 1;
fail:
	PQclear(r);
	db_rollback(c);
	return rc;
}

int
queue_heartbeat(PGconn *c, long long id, const char *worker, int lease)
{
	PGresult	*r;
	char		 jid[32], ls[16];
	int		 n;

	(void)snprintf(jid, sizeof(jid), "%lld", id);
	(void)snprintf(ls, sizeof(ls), "%d", lease);
	r = db_exec(c, "UPDATE ai_jobs SET heartbeat_at = now(),"
	    " lease_until = now() + make_interval(secs => $3::int)"
	    " WHERE id = $1::bigint AND leased_by = $2 AND state = 'running'",
	    3, jid, worker, ls);
	if (r == NULL)
		return -1;
	n = atoi(PQcmdTuples(r));
	PQclear(r);
	return n == 1;
}

int
queue_fail(PGconn *c, const struct job *j, const char *worker,
    enum job_failure how, const char *error, int backoff, const char **state)
{
	static const char *const states[] = { "queued", "dead", "failed" };
	PGresult	*r = NULL;
	char		 jid[32], bo[16];
	const char	*st;
	size_t		 i;
	int		 rc = -1;

	(void)snprintf(jid, sizeof(jid), "%lld", j->id);
	(void)snprintf(bo, sizeof(bo), "%d", backoff);
	if (db_begin(c) == -1)
		return -1;
	r = db_exec(c, "UPDATE ai_jobs SET state = CASE"
	    " WHEN $3 = 'retry' AND attempts < max_attempts THEN 'queued'"
	    " WHEN $3 = 'failed' THEN 'failed' ELSE 'dead' END,"
	    " run_after = CASE WHEN $3 = 'retry' AND attempts < max_attempts"
	    " THEN now() + make_interval(secs => $5::int *"
	    " power(2, attempts - 1)) ELSE run_after END,"
	    " finished_at = CASE WHEN $3 = 'retry' AND"
	    " attempts < max_attempts THEN NULL ELSE now() END,"
	    " error = $4, leased_by = NULL, lease_until = NULL,"
	    " updated_at = now()"
	    " WHERE id = $1::bigint AND leased_by = $2 AND state = 'running'"
	    " RETURNING state, round(extract(epoch FROM run_after - now()))",
	    5, jid, worker, failure_names[how], error, bo);
	if (r == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		rc = 0;
		goto fail;
	}
	st = "dead";
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(db_val(r, 0, 0), states[i]) == 0)
			st = states[i];
	if (queue_audit(c, strcmp(st, "queued") == 0 ? "ai_job_retry" :
	    strcmp(st, "failed") == 0 ? "ai_job_failed" : "ai_job_dead", jid,
	    worker, json_pack("{s:s, s:i, s:s, s:s}", "reader", j->reader,
	    "attempt", j->attempts, "state", st, "error", error)) == -1 ||
	    db_commit(c) == -1)
		goto fail;
	if (strcmp(st, "queued") == 0)
		log_info("job %s: attempt %d of %d failed, retried in %s s: %s",
		    jid, j->attempts, j->max_attempts, db_val(r, 0, 1), error);
	else
		log_info("job %s %s after attempt %d of %d: %s", jid, st,
		    j->attempts, j->max_attempts, error);
	if (state != NULL)
		*state = st;
	PQclear(r);
	return 1;
fail:
	PQclear(r);
	db_rollback(c);
	return rc;
}

int
queue_release(PGconn *c, const struct job *j, const char *worker)
{
	PGresult	*r = NULL;
	char		 jid[32];
	int		 rc = -1;

	(void)snprintf(jid, sizeof(jid), "%lld", j->id);
	if (db_begin(c) == -1)
		return -1;
	r = db_exec(c, "UPDATE ai_jobs SET state = 'queued',"
	    " attempts = greatest(attempts - 1, 0), leased_by = NULL,"
	    " lease_until = NULL, run_after = now(), updated_at = now()"
	    " WHERE id = $1::bigint AND leased_by = $2 AND state = 'running'",
	    2, jid, worker);
	if (r == NULL)
		goto fail;
	if (atoi(PQcmdTuples(r)) != 1) {
		rc = 0;
		goto fail;
	}
	if (queue_audit(c, "ai_job_released", jid, worker,
	    json_pack("{s:s}", "reader", j->reader)) == -1 ||
	    db_cmd(c, "SELECT pg_notify('ai_jobs', $1)", 1, jid) == -1 ||
	    db_commit(c) == -1)
		goto fail;
	PQclear(r);
	return 1;
fail:
	PQclear(r);
	db_rollback(c);
	return rc;
}

int
queue_rescue(PGconn *c, const char *worker)
{
	PGresult	*r = NULL;
	int		 i, n, requeued = 0;

	if (db_begin(c) == -1)
		return -1;
	r = db_exec(c, "WITH lost AS (SELECT id, leased_by FROM ai_jobs"
	    " WHERE state = 'running' AND lease_until < now()"
	    " FOR UPDATE SKIP LOCKED)"
	    " UPDATE ai_jobs j SET state = CASE WHEN j.attempts <"
	    " j.max_attempts THEN 'queued' ELSE 'dead' END,"
	    " finished_at = CASE WHEN j.attempts < j.max_attempts THEN NULL"
	    " ELSE now() END, run_after = now(), error = 'worker lost',"
	    " leased_by = NULL, lease_until = NULL, updated_at = now()"
	    " FROM lost WHERE j.id = lost.id"
	    " RETURNING j.id, j.state, lost.leased_by, j.attempts", 0);
	if (r == NULL)
		goto fail;
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		if (strcmp(db_val(r, i, 1), "queued") == 0)
			requeued++;
		if (queue_audit(c, "ai_job_rescued", db_val(r, i, 0), worker,
		    json_pack("{s:s, s:s, s:i}", "lost_worker",
		    db_val(r, i, 2), "state", db_val(r, i, 1), "attempts",
		    (int)db_ll(r, i, 3))) == -1)
			goto fail;
	}
	if (requeued > 0 &&
	    db_cmd(c, "SELECT pg_notify('ai_jobs', 'rescued')", 0) == -1)
		goto fail;
	if (db_commit(c) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		log_warnx("job %s: lease of %s ran out after attempt %s;"
		    " now %s", db_val(r, i, 0), db_val(r, i, 2),
		    db_val(r, i, 3), db_val(r, i, 1));
	PQclear(r);
	return n;
fail:
	PQclear(r);
	db_rollback(c);
	return -1;
}

double
queue_next_due(PGconn *c)
{
	PGresult	*r;
	double		 s = -1;

	/* NULL when nothing is queued or running (greatest() would make
	 * that 0, which is "overdue": the idle daemon claimed in a loop). */
	r = db_exec(c, "SELECT extract(epoch FROM least("
	    "(SELECT min(run_after) FROM ai_jobs WHERE state = 'queued'),"
	    " (SELECT min(lease_until) FROM ai_jobs WHERE state = 'running'))"
	    " - now())", 0);
	if (r == NULL)
		return -1;
	if (!PQgetisnull(r, 0, 0)) {
		s = strtod(db_val(r, 0, 0), NULL);
		if (s < 0)
			s = 0;
	}
	PQclear(r);
	return s;
}

double
queue_idle_wait(int claimed, double due, int poll)
{
	/* Trouble, or nothing queued or running: until notified, or a
	 * poll interval. */
	if (claimed < 0 || due < 0 || due > poll)
		return poll;
	/* Due now, yet nothing could be claimed: the job is another
	 * worker's (SKIP LOCKED) or a lease ran out that the rescue, once
	 * a second, takes back.  Not a loop of claims. */
	if (due <= 0)
		return 1;
	return due + 0.05;
}

int
queue_series_stamp(PGconn *c, long long series_id, char *stamp, size_t size)
{
	PGresult	*r;
	char		 sid[32];

	if (size > 0)
		stamp[0] = '\0';
	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	r = db_exec(c, "SELECT count(*)::text || ':' || coalesce(md5("
	    "string_agg(id::text || ' ' || storage_key || ' ' ||"
	    " coalesce(instance_number::text, '-') || ' ' ||"
	    " received_at::text, ',' ORDER BY id)), '')"
	    " FROM instances WHERE series_id = $1::bigint", 1, sid);
	if (r == NULL)
		return -1;
	(void)snprintf(stamp, size, "%s", db_val(r, 0, 0));
	PQclear(r);
	return 0;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); d may pass the month's end (Feb 29 of a common year
 * is Mar 1). */
static long
days_from_civil(long y, long m, long d)
{
	long		 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYYMMDD" or "YYYY-MM-DD", blanks around allowed.  Returns 0 or -1. */
static int
date_parse(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	char		 t[16];
	size_t		 n, i, k = 0;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		for (i = 0; i < n; i++)
			if (i != 4 && i != 7)
				t[k++] = s[i];
	} else if (n == 8) {
		memcpy(t, s, 8);
		k = 8;
	} else
		return -1;
	t[k] = '\0';
	for (i = 0; i < 8; i++)
		if (!isdigit((unsigned char)t[i]))
			return -1;
	*y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 +
	    (t[3] - '0');
	*m = (t[4] - '0') * 10 + (t[5] - '0');
	*d = (t[6] - '0') * 10 + (t[7] - '0');
	if (*y < 1800 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1] ||
	    (*m == 2 && *d == 29 && (*y % 4 != 0 ||
	    (*y % 100 == 0 && *y % 400 != 0))))
		return -1;
	return 0;
}

double
queue_age_between(const char *birth, const char *at)
{
	int		 by, bm, bd, ay, am, ad, years;
	long		 last, next, now;

	if (birth == NULL || at == NULL || date_parse(birth, &by, &bm, &bd) ||
	    date_parse(at, &ay, &am, &ad))
		return NAN;
	years = ay - by - (am < bm || (am == bm && ad < bd));
	if (years < 0 || years > 150)
		return NAN;
	/* The birthdays around the date; one on Feb 29 falls on Mar 1 of
	 * a common year. */
	last = days_from_civil(by + years, bm, bd);
	next = days_from_civil(by + years + 1, bm, bd);
	now = days_from_civil(ay, am, ad);
	return years + (double)(now - last) / (double)(next - last);
}

double
queue_age_text(const char *s)
{
	static const struct {
		const char	*unit;
		double		 years;
	} units[] = {
		{ "", 1.0 }, { "Y", 1.0 }, { "y", 1.0 }, { "岁", 1.0 },
		{ "周岁", 1.0 }, { "M", 1.0 / 12 }, { "m", 1.0 / 12 },
		{ "月", 1.0 / 12 }, { "个月", 1.0 / 12 },
		{ "W", 7 / 365.2425 }, { "w", 7 / 365.2425 },
		{ "周", 7 / 365.2425 }, { "D", 1 / 365.2425 },
		{ "d", 1 / 365.2425 }, { "天", 1 / 365.2425 },
		{ "日", 1 / 365.2425 },
	};
	const char	*p;
	size_t		 i, n;
	double		 v;

	if (s == NULL)
		return NAN;
	while (*s == ' ')
		s++;
	for (p = s, v = 0; isdigit((unsigned char)*p) && p - s < 4; p++)
		v = v * 10 + (*p - '0');
	if (p == s || isdigit((unsigned char)*p))
		return NAN;
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].unit) == n &&
		    strncmp(p, units[i].unit, n) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]) || v * units[i].years > 150)
		return NAN;
	return v * units[i].years;
}

/* 'M', 'F' or 0 of a sex as stored ("M", "F", "O", "", "m "). */
static int
sex_code(const char *s)
{
	while (*s == ' ')
		s++;
	if ((*s == 'M' || *s == 'm' || *s == 'F' || *s == 'f') &&
	    (s[1] == '\0' || s[1] == ' '))
		return toupper((unsigned char)*s);
	return 0;
}

int
queue_patient(PGconn *c, long long series_id, struct job_patient *p)
{
	PGresult	*r;
	const char	*at;
	char		 sid[32];
	int		 y, m, d;

	p->age = NAN;
	p->sex = 0;
	p->age_from = p->sex_from = "";
	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	/* Through the one function the daemon's role may call on the
	 * patients and applications (sql/015_ai_histograms.sql). */
	r = db_exec(c, "SELECT app_birth, app_age, app_sex, app_exam_date,"
	    " dicom_birth, dicom_age, dicom_sex, study_date, received"
	    " FROM ai_series_patient($1::bigint)", 1, sid);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return 0;
	}
	/* The day of the study. */
	at = db_val(r, 0, 7);
	if (date_parse(at, &y, &m, &d) == -1)
		at = db_val(r, 0, 3);
	if (date_parse(at, &y, &m, &d) == -1)
		at = db_val(r, 0, 8);
	if (!isnan(p->age = queue_age_between(db_val(r, 0, 0), at)) ||
	    !isnan(p->age = queue_age_text(db_val(r, 0, 1))))
		p->age_from = "application";
	else if (!isnan(p->age = queue_age_between(db_val(r, 0, 4), at)) ||
	    !isnan(p->age = queue_age_text(db_val(r, 0, 5))))
		p->age_from = "dicom";
	if ((p->sex = sex_code(db_val(r, 0, 2))) != 0)
		p->sex_from = "application";
	else if ((p->sex = sex_code(db_val(r, 0, 6))) != 0)
		p->sex_from = "dicom";
	PQclear(r);
	return 0;
}
