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

#include <stddef.h>

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
 * Claim a due queued job for worker ("host:pid") with a lease of lease
 * seconds, counting the attempt: the oldest of series prefer (the series
 * whose volume the worker holds; 0: none) when it has one, else the
 * oldest of all.  Returns 1 with the job in *j, 0 when there is none, -1
 * on trouble.
 */
int	 queue_claim(PGconn *c, const char *worker, int lease,
	    long long prefer, struct job *j);

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

/* How long the daemon waits (for NOTIFY ai_jobs at most that long) after
 * queue_claim() returned claimed (0 none, -1 trouble) and
 * queue_next_due() due, with the poll interval poll: never less than a
 * second when something is due but could not be claimed, the poll
 * interval when nothing is queued. */
double	 queue_idle_wait(int claimed, double due, int poll);

/*
 * What the instances of series series_id are now, as text into stamp
 * (size bytes, 64 are enough): their count and a digest of their rows
 * (id, storage key, number, time received).  A volume loaded when the
 * stamp was S is still the series while the stamp is S.  Returns 0, or
 * -1 (stamp "").
 */
int	 queue_series_stamp(PGconn *c, long long series_id, char *stamp,
	    size_t size);

/* The patient of a series, for the readers. */
struct job_patient {
	double		 age;		/* years at the study, NAN: unknown */
	int		 sex;		/* 'M', 'F', or 0: unknown */
	const char	*age_from;	/* "application", "dicom", "" */
	const char	*sex_from;
};

/*
 * The patient of series series_id into *p: from the application linked to
 * the series' study (the latest one not cancelled; its date of birth, else
 * the age its applicant wrote, and its sex), else from the DICOM header
 * (PatientBirthDate, PatientAge, PatientSex).  The age is taken at the
 * study date (StudyDate, else the application's exam date, else the day
 * the study arrived).  Returns 0 (what is not known left unknown), or -1
 * on database trouble.
 */
int	 queue_patient(PGconn *c, long long series_id, struct job_patient *p);

/* Age in years at date at of someone born on birth, both "YYYYMMDD" or
 * "YYYY-MM-DD": whole years plus the part of the current year (45.5: half
 * way from the 45th birthday to the 46th).  NAN when a date is not a
 * valid date, or birth is after at, or the age is over 150. */
double	 queue_age_between(const char *birth, const char *at);

/* Years of a DICOM Age String ("045Y", "006M", "003W", "010D"), or of
 * an age as an applicant writes it ("58", "58岁", "3个月", "2周", "10天");
 * NAN for anything else. */
double	 queue_age_text(const char *s);

#endif /* ZY_QUEUE_H */
