/*
 * queue.h - the AI job queue in PostgreSQL (table ai_jobs).
 *
 * A job is queued by the matcher (NOTIFY ai_jobs), claimed by one worker
 * in a short transaction (FOR UPDATE SKIP LOCKED) that leases it to the
 * worker until lease_until, kept alive by heartbeats while it runs, and
 * finished only by the worker that holds the lease:
 *
 *	queued -> running -> done	a result is stored (reader.h)
 *	                  -> queued	failed, retried after a backoff of
 *					base * 2^(attempts - 1) seconds
 *	                  -> dead	failed max_attempts times, or cannot
 *					succeed (reader not in this build)
 *	                  -> failed	the reader refused the series
 *	                  -> queued	released by a stopping worker
 *
 * A job whose lease ran out (its worker died or hangs) is taken back by
 * any worker's rescuer: queued again, or dead ("worker lost") when it
 * has had all its attempts.  Every change writes an audit row in its
 * transaction.  Functions return -1 on database trouble (logged).
 */
#ifndef ZY_QUEUE_H
#define ZY_QUEUE_H

#include <libpq-fe.h>

struct job {
	long long	 id;
	long long	 series_id;
	char		 reader[64];
	int		 attempts;	/* this one included */
	int		 max_attempts;
	int		 slices;
};

/* How a job that did not succeed ends. */
enum job_failure {
	JOB_RETRY,			/* again after a backoff, or dead */
	JOB_DEAD,			/* no point in trying again */
	JOB_REFUSED,			/* the reader said no: failed */
	JOB_FAILURE__MAX
};

/* Listen for NOTIFY ai_jobs on c.  Returns 0 or -1. */
int	 queue_listen(PGconn *c);

/*
 * Claim the oldest due queued job for worker ("host:pid") with a lease of
 * lease seconds, counting the attempt.  Returns 1 with the job in *j, 0
 * when there is none, -1 on trouble.
 */
int	 queue_claim(PGconn *c, const char *worker, int lease, struct job *j);

/*
 * Extend the lease of job id held by worker to lease seconds from now
 * and note the heartbeat.  Returns 1, 0 when worker no longer holds it,
 * or -1.
 */
int	 queue_heartbeat(PGconn *c, long long id, const char *worker,
	    int lease);

/*
 * End a held job that did not succeed, with its error (English): see
 * enum job_failure; backoff is the base delay of a retry in seconds.
 * *state gets the state it ended in ("queued", "dead", "failed"; static
 * strings; may be NULL).  Returns 1, 0 when worker no longer holds the
 * job, -1.
 */
int	 queue_fail(PGconn *c, const struct job *j, const char *worker,
	    enum job_failure how, const char *error, int backoff,
	    const char **state);

/* Give a held job back to the queue as if it had not been tried (a
 * stopping worker).  Returns 1, 0 when not held by worker, -1. */
int	 queue_release(PGconn *c, const struct job *j, const char *worker);

/* Take back the jobs whose lease ran out: queued again, or dead with
 * "worker lost" after their last attempt.  Returns how many, or -1. */
int	 queue_rescue(PGconn *c, const char *worker);

/* Seconds until something may need doing: the next queued job due or
 * the next lease to run out.  Returns that (0 if overdue), or -1 when
 * nothing is queued or running, or on trouble. */
double	 queue_next_due(PGconn *c);

#endif /* ZY_QUEUE_H */
