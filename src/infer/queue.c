/*
 * queue.c - claiming, keeping and finishing AI jobs.
 */
#include "config.h"

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
queue_claim(PGconn *c, const char *worker, int lease, struct job *j)
{
	PGresult	*r = NULL;
	char		 ls[16];
	int		 rc = -1;

	(void)snprintf(ls, sizeof(ls), "%d", lease);
	if (db_begin(c) == -1)
		return -1;
	r = db_exec(c, "UPDATE ai_jobs SET state = 'running',"
	    " leased_by = $1, lease_until = now() + make_interval(secs =>"
	    " $2::int), heartbeat_at = now(), attempts = attempts + 1,"
	    " updated_at = now()"
	    " WHERE id = (SELECT id FROM ai_jobs WHERE state = 'queued'"
	    " AND run_after <= now() ORDER BY run_after, id"
	    " FOR UPDATE SKIP LOCKED LIMIT 1)"
	    " RETURNING id, series_id, reader, attempts, max_attempts,"
	    " slices", 2, worker, ls);
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

	r = db_exec(c, "SELECT greatest(extract(epoch FROM least("
	    "(SELECT min(run_after) FROM ai_jobs WHERE state = 'queued'),"
	    " (SELECT min(lease_until) FROM ai_jobs WHERE state = 'running'))"
	    " - now()), 0)", 0);
	if (r == NULL)
		return -1;
	if (!PQgetisnull(r, 0, 0))
		s = strtod(db_val(r, 0, 0), NULL);
	PQclear(r);
	return s;
}
