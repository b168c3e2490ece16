/*
 * zhiying-inferd - the inference daemon.
 *
 *	zhiying-inferd [-c conf] [-p pidfile]
 *
 * Claims AI jobs from PostgreSQL one at a time (queue.h), loads the
 * job's series from the image store, runs its reader on the compute
 * backend (CUDA or CPU) and stores the findings (reader.h).  Any number of
 * daemons, on any number of hosts, share one database.
 *
 * A series is loaded once for all of its jobs: the daemon keeps the last
 * volume it loaded and, when it claims, prefers the queued jobs of that
 * series; the volume is used again while the series' instances are what
 * they were when it was loaded (queue_series_stamp()), and freed when a
 * job of another series comes or after a poll interval with nothing to do.
 *
 * The main thread is the supervisor: it waits for NOTIFY ai_jobs (polling
 * every infer_poll seconds as well), takes back the jobs of lost workers,
 * claims, and while a job runs in a worker thread (with a database
 * connection of its own) it renews the lease every third of infer_lease.
 * SIGTERM or SIGINT stops claiming; a running job gets infer_grace
 * seconds to finish, after which it is given back to the queue.
 */
#include "config.h"

#include <sys/select.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anatomy.h"
#include "film.h"
#include "compute.h"
#include "conf.h"
#include "db.h"
#include "loader.h"
#include "log.h"
#include "service.h"
#include "matcher.h"
#include "queue.h"
#include "reader.h"
#include "series.h"
#include "store.h"

static volatile sig_atomic_t	 stopping;
static int			 sigpipe_fd[2] = { -1, -1 };

/*
 * The series the daemon holds, for its next jobs: the volume last loaded
 * and the stamp of its instances then.  Used by the worker thread while a
 * job runs and by the supervisor between jobs, never by both at once.
 */
struct held {
	long long		 series;	/* 0: none */
	char			 stamp[64];
	struct series_volume	*vol;
	double			 since;		/* when its last job ended */
	/* The anatomy of the series held (anatomy.h), shared by its jobs:
	 * made again whenever the volume goes, so that no anatomy outlives
	 * the volume it was computed on.  NULL (out of memory): the readers
	 * keep their own for the call. */
	struct anatomy_cache	*anatomy;
	/* The series as a film (film.h) when it is one radiograph; NULL
	 * otherwise, or when the film could not be read (a film reader
	 * then makes its own from the volume, without the 检查部位). */
	struct film		*film;
	/* The voxel memory of the volume last released (struct
	 * series_spare), for the next series' load: the kernel does not
	 * clear its pages again.  Given back with the volume when idle. */
	struct series_spare	 spare;
};

struct daemon {
	struct conf	 cf;
	PGconn		*db;		/* supervisor: LISTEN, claims, leases */
	PGconn		*work;		/* the worker thread's */
	struct store	*store;
	struct compute	*compute;
	char		 worker[HOST_NAME_MAX + 32];	/* host:pid */
	struct held	 held;
};

/* One job in the worker thread. */
struct run {
	struct daemon	*d;
	struct job	 job;
	volatile int	 cancel;
	int		 done[2];	/* the worker writes a byte when done */
};

static void
on_signal(int sig)
{
	int	 saved = errno;

	(void)sig;
	stopping = 1;
	if (sigpipe_fd[1] != -1)
		(void)write(sigpipe_fd[1], "s", 1);
	errno = saved;
}

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
drain(int fd)
{
	char	 buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
}

/* The CPU seconds of the whole process (all its threads: the job's and
 * its OpenMP team; the supervisor's are next to nothing), a figure that
 * does not grow with what else shares the processors, as wall time
 * does. */
static double
cpu_s(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Make sure a connection is usable; the supervisor's listens again. */
static int
daemon_db_ensure(PGconn *c, int listen)
{
	if (PQstatus(c) == CONNECTION_OK)
		return 0;
	if (db_ensure(c) == -1)
		return -1;
	return listen ? queue_listen(c) : 0;
}

/* Free the series held, saying why; keep its voxel memory for the next
 * load unless keep is 0. */
static void
held_drop(struct held *h, const char *why, int keep)
{
	if (!keep)
		series_spare_free(&h->spare);
	if (h->vol == NULL)
		return;
	log_info("series %lld released (%s)", h->series, why);
	if (keep)
		series_recycle(h->vol, &h->spare);
	else
		series_free(h->vol);
	film_free(h->film);
	h->film = NULL;
	anatomy_cache_free(h->anatomy);
	if ((h->anatomy = anatomy_cache_new()) == NULL)
		log_warnx("anatomy cache: out of memory; readers keep their"
		    " own");
	h->vol = NULL;
	h->series = 0;
	h->stamp[0] = '\0';
}

/*
 * The volume of job j into *vol: the one held when it is of the same
 * series and its instances have not changed since, else loaded (what was
 * held is freed first).  The volume stays the held one's.  Returns 0, or
 * -1 with the reason in err.
 */
static int
job_volume(struct run *rn, struct series_volume **vol, char *err,
    size_t errlen)
{
	struct daemon	*d = rn->d;
	struct held	*h = &d->held;
	const struct job *j = &rn->job;
	char		 stamp[sizeof(h->stamp)];

	*vol = NULL;
	if (queue_series_stamp(d->work, j->series_id, stamp,
	    sizeof(stamp)) == -1) {
		errfmt(err, errlen, "database error reading the instances");
		return -1;
	}
	if (h->vol != NULL && h->series == j->series_id &&
	    strcmp(h->stamp, stamp) == 0) {
		*vol = h->vol;
		log_info("job %lld: series %lld reused, %dx%dx%d voxels", j->id,
		    j->series_id, h->vol->nx, h->vol->ny, h->vol->nz);
		return 0;
	}
	held_drop(h, h->series == j->series_id ? "its instances changed" :
	    "another series", 1);
	if (loader_series(d->work, d->store, j->series_id, &rn->cancel,
	    &h->spare, vol, err, errlen) == -1)
		return -1;
	h->vol = *vol;
	h->series = j->series_id;
	if (loader_is_film(*vol) && loader_film(d->work, d->store,
	    j->series_id, &h->film, err, errlen) == -1) {
		log_warnx("job %lld: %s; the film readers use the volume",
		    j->id, err);
		err[0] = '\0';
	} else if (h->film != NULL)
		log_info("job %lld: film, view %s from %s, pixel spacing %s,"
		    " exposed field %d,%d-%d,%d", j->id,
		    film_view_names[h->film->view],
		    film_from_names[h->film->view_from],
		    h->film->spacing_source ? "given" : "absent",
		    h->film->field[0], h->film->field[1], h->film->field[2],
		    h->film->field[3]);
	(void)snprintf(h->stamp, sizeof(h->stamp), "%s", stamp);
	log_info("job %lld: series %lld loaded, %dx%dx%d voxels", j->id,
	    j->series_id, (*vol)->nx, (*vol)->ny, (*vol)->nz);
	return 0;
}

/* The patient of job j into ctx, logged.  Returns 0 or -1. */
static int
job_patient(struct daemon *d, const struct job *j, struct reader_ctx *ctx)
{
	struct job_patient	 p;

	if (queue_patient(d->work, j->series_id, &p) == -1)
		return -1;
	ctx->patient_age = p.age;
	ctx->patient_sex = p.sex;
	if (isnan(p.age))
		log_info("job %lld: patient age unknown, sex %s%s%s%s", j->id,
		    p.sex ? (p.sex == 'M' ? "M" : "F") : "unknown",
		    p.sex ? " (" : "", p.sex_from, p.sex ? ")" : "");
	else
		log_info("job %lld: patient age %.2f (%s), sex %s%s%s%s",
		    j->id, p.age, p.age_from,
		    p.sex ? (p.sex == 'M' ? "M" : "F") : "unknown",
		    p.sex ? " (" : "", p.sex_from, p.sex ? ")" : "");
	return 0;
}

/* Whether code is one of the reader codes of list (commas or spaces). */
static int
reader_off(const char *list, const char *code)
{
	size_t	 n = strlen(code), k;

	while (*list != '\0') {
		list += strspn(list, ", \t");
		k = strcspn(list, ", \t");
		if (k == n && k > 0 && strncmp(list, code, n) == 0)
			return 1;
		list += k;
	}
	return 0;
}

/*
 * Whether the series holds the whole lungs, once a reader's anatomy has
 * looked: into series.lungs_complete (sql/016), which the matcher reads
 * when the series is matched again.  A failure is logged and changes
 * nothing else.
 */
static void
series_lungs_note(struct daemon *d, const struct job *j,
    const struct series_volume *vol)
{
	const struct anatomy	*an;
	char			 sid[32], err[256];

	if (d->held.anatomy == NULL || anatomy_get(d->held.anatomy,
	    d->compute, vol, j->series_id, 0, &an, err, sizeof(err)) == -1 ||
	    !(an->have & ANAT_LUNGS) || an->lungs_complete == -1)
		return;
	(void)snprintf(sid, sizeof(sid), "%lld", j->series_id);
	if (db_cmd(d->work, "UPDATE series SET lungs_complete = $2::boolean"
	    " WHERE id = $1::bigint AND lungs_complete IS DISTINCT FROM"
	    " $2::boolean", 2, sid, an->lungs_complete ? "true" :
	    "false") == -1)
		log_warnx("series %lld: lungs_complete not recorded",
		    j->series_id);
}

/*
 * How many of T12, L1 and L2 the series holds, once the vertebrae of a
 * reader's anatomy are numbered: into series.vertebrae_t12_l2 (sql/023),
 * which the matcher reads when the series is matched again.  A failure is
 * logged and changes nothing else.
 */
static void
series_vertebrae_note(struct daemon *d, const struct job *j,
    const struct series_volume *vol)
{
	const struct anatomy	*an;
	char			 sid[32], cnt[16], err[256];
	int			 n;

	if (d->held.anatomy == NULL || anatomy_get(d->held.anatomy,
	    d->compute, vol, j->series_id, 0, &an, err, sizeof(err)) == -1 ||
	    !(an->have & ANAT_VERTEBRAE) ||
	    (n = spine_count_t12_l2(&an->spine)) < 0)
		return;
	(void)snprintf(sid, sizeof(sid), "%lld", j->series_id);
	(void)snprintf(cnt, sizeof(cnt), "%d", n);
	if (db_cmd(d->work, "UPDATE series SET vertebrae_t12_l2 ="
	    " $2::smallint WHERE id = $1::bigint AND vertebrae_t12_l2 IS"
	    " DISTINCT FROM $2::smallint", 2, sid, cnt) == -1)
		log_warnx("series %lld: vertebrae_t12_l2 not recorded",
		    j->series_id);
}

/*
 * The seconds the anatomy of the series held has cost so far (0 when
 * there is none): read before and after a reader runs, the difference is
 * the share of its compute that made the anatomy the series' later jobs
 * take from the cache.
 */
static double
anatomy_seconds(struct daemon *d, const struct job *j,
    const struct series_volume *vol)
{
	const struct anatomy	*an;
	char			 err[256];

	if (d->held.anatomy == NULL || anatomy_get(d->held.anatomy,
	    d->compute, vol, j->series_id, 0, &an, err, sizeof(err)) == -1)
		return 0;
	return an->seconds;
}

/*
 * The job, in the worker thread: load (or take the volume held), look up
 * the reader, check, run, store.  Every way out ends the job in the
 * database on d->work.
 */
static void
job_run(struct run *rn)
{
	struct daemon		*d = rn->d;
	struct job		*j = &rn->job;
	struct series_volume	*vol = NULL;
	const struct reader_impl *impl;
	struct reader_ctx	 ctx;
	struct ai_result	 res;
	enum job_failure	 how = JOB_RETRY;
	char			 err[1024];
	int			 r, rc;
	double			 t0, t1, t2, t3, a0, a1, c1, c2;

	ai_result_init(&res);
	err[0] = '\0';
	if (daemon_db_ensure(d->work, 0) == -1)
		goto fail;
	if ((r = reader_lookup(j->reader)) == -1) {
		how = JOB_DEAD;
		errfmt(err, sizeof(err), "unknown reader '%s'", j->reader);
		goto fail;
	}
	/* A reader not in this build, or one this daemon is told not to
	 * run (infer_readers_off), ends the job at once, before the series
	 * is read at all. */
	if ((impl = reader_impls[r]) == NULL ||
	    reader_off(d->cf.infer_readers_off, j->reader)) {
		how = JOB_DEAD;
		errfmt(err, sizeof(err), "%s", READER_UNDEPLOYED);
		goto fail;
	}
	t0 = now_s();
	if (job_volume(rn, &vol, err, sizeof(err)) == -1)
		goto fail;
	t1 = now_s();
	c1 = cpu_s();
	if (impl->check(vol, err, sizeof(err)) != READER_FITS) {
		how = JOB_REFUSED;
		goto fail;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.compute = d->compute;
	ctx.series_id = j->series_id;
	ctx.cancel = &rn->cancel;
	ctx.conf = &d->cf;
	ctx.anatomy = d->held.anatomy;
	ctx.film = d->held.film;
	if (job_patient(d, j, &ctx) == -1) {
		errfmt(err, sizeof(err), "the patient could not be read");
		goto fail;
	}
	if (r == READER_CT_CORONARY_CALCIUM &&
	    reader_calibration(d->work, vol, &ctx) == -1) {
		errfmt(err, sizeof(err), "calibrations unreadable");
		goto fail;
	}
	a0 = anatomy_seconds(d, j, vol);
	rc = impl->run(&ctx, vol, &res, err, sizeof(err));
	a1 = anatomy_seconds(d, j, vol);
	series_lungs_note(d, j, vol);
	series_vertebrae_note(d, j, vol);
	if (rc != 0) {
		if (rc == 1)
			how = JOB_REFUSED;
		goto fail;
	}
	if (ai_result_set_volume(&res, vol) == -1) {
		errfmt(err, sizeof(err), "out of memory");
		goto fail;
	}
	t2 = now_s();
	c2 = cpu_s();
	rc = ai_result_store(d->work, j->id, j->series_id, j->reader,
	    d->worker, compute_kind_names[d->compute->kind], &res);
	t3 = now_s();
	if (rc == 1)
		log_info("job %lld done: %zu lesion(s); %dx%dx%d voxels,"
		    " load %.3f s, compute %.3f s (%s), write %.3f s;"
		    " anatomy %.3f s of the compute; CPU %.3f s in the"
		    " compute", j->id,
		    res.nlesions, vol->nx, vol->ny, vol->nz, t1 - t0, t2 - t1,
		    compute_kind_names[d->compute->kind], t3 - t2, a1 - a0,
		    c2 - c1);
	else if (rc == 0)
		log_warnx("job %lld: lease lost; result not stored", j->id);
	else {
		errfmt(err, sizeof(err), "the result could not be stored");
		goto fail;
	}
	/* The volume stays held, for the next job of the series. */
	ai_result_free(&res);
	return;
fail:
	ai_result_free(&res);
	if (err[0] == '\0')
		errfmt(err, sizeof(err), "database unavailable");
	/* Cancelled (the lease lost, or the stop's grace over): the job
	 * is the rescuer's or back in the queue, never a failure of ours;
	 * recording one would race with the supervisor giving it back. */
	if (rn->cancel) {
		log_info("job %lld: cancelled (%s); not recorded", j->id, err);
		return;
	}
	if (daemon_db_ensure(d->work, 0) == -1 ||
	    (rc = queue_fail(d->work, j, d->worker, how, err,
	    d->cf.infer_backoff, NULL)) == -1)
		log_error("job %lld: could not record failure: %s", j->id,
		    err);
	else if (rc == 0)
		log_warnx("job %lld: lease lost before failure was recorded:"
		    " %s", j->id, err);
}

static void *
job_thread(void *arg)
{
	struct run	*rn = arg;

	job_run(rn);
	(void)write(rn->done[1], "d", 1);
	return NULL;
}

/*
 * Supervise one claimed job: run it in a thread, renew its lease, and on
 * a stop give it infer_grace seconds.  Returns 0 when the job ended, 1
 * when it was given back and the daemon must exit at once (the thread may
 * still be running).
 */
/* Whether fd has something to read within half a second. */
static int
readable(int fd)
{
	fd_set		 rfds;
	struct timeval	 tv = { 0, 500000 };

	FD_ZERO(&rfds);
	FD_SET(fd, &rfds);
	return select(fd + 1, &rfds, NULL, NULL, &tv) > 0;
}

static int
job_supervise(struct daemon *d, const struct job *j)
{
	struct run	*rn;
	pthread_t	 th;
	sigset_t	 block, old;
	fd_set		 rfds;
	struct timeval	 tv;
	double		 beat, next_beat, grace_end = 0, t, wait;
	int		 maxfd, rc;

	if ((rn = calloc(1, sizeof(*rn))) == NULL ||
	    pipe(rn->done) == -1) {
		log_error("%s: %s", __func__, strerror(errno));
		free(rn);
		(void)queue_release(d->db, j, d->worker);
		return 1;
	}
	rn->d = d;
	rn->job = *j;
	/* The worker thread takes no signals: they wake the supervisor. */
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&th, NULL, job_thread, rn);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error("%s: pthread_create: %s", __func__, strerror(rc));
		(void)queue_release(d->db, j, d->worker);
		return 1;
	}
	beat = d->cf.infer_lease / 3.0;
	next_beat = now_s() + beat;
	for (;;) {
		if (stopping && grace_end == 0) {
			grace_end = now_s() + d->cf.infer_grace;
			log_info("stopping: job %lld has %d s to finish", j->id,
			    d->cf.infer_grace);
		}
		t = now_s();
		wait = next_beat - t;
		if (grace_end != 0 && grace_end - t < wait)
			wait = grace_end - t;
		if (wait < 0)
			wait = 0;
		FD_ZERO(&rfds);
		FD_SET(rn->done[0], &rfds);
		FD_SET(sigpipe_fd[0], &rfds);
		maxfd = rn->done[0] > sigpipe_fd[0] ? rn->done[0] :
		    sigpipe_fd[0];
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
		rc = select(maxfd + 1, &rfds, NULL, NULL, &tv);
		if (rc > 0 && FD_ISSET(sigpipe_fd[0], &rfds))
			drain(sigpipe_fd[0]);
		if (rc > 0 && FD_ISSET(rn->done[0], &rfds))
			break;
		t = now_s();
		if (grace_end != 0 && t >= grace_end) {
			rn->cancel = 1;
			if (daemon_db_ensure(d->db, 1) == 0 &&
			    queue_release(d->db, j, d->worker) == 1)
				log_info("job %lld given back to the queue",
				    j->id);
			else
				log_warnx("job %lld could not be given back;"
				    " its lease will run out", j->id);
			/* The thread is left to the process's exit. */
			return 1;
		}
		if (t >= next_beat) {
			next_beat = t + beat;
			if (daemon_db_ensure(d->db, 1) == -1)
				continue;
			if (queue_heartbeat(d->db, j->id, d->worker,
			    d->cf.infer_lease) == 0 && !rn->cancel) {
				/* The job may have just ended: stored by the
				 * thread, which says so on the pipe the moment
				 * its commit returns, no lease is left to
				 * renew.  That is no loss. */
				if (readable(rn->done[0]))
					break;
				log_warnx("job %lld: lease lost to the rescuer;"
				    " abandoning it", j->id);
				rn->cancel = 1;
			}
		}
	}
	(void)pthread_join(th, NULL);
	(void)close(rn->done[0]);
	(void)close(rn->done[1]);
	free(rn);
	return 0;
}

/* Wait up to seconds for NOTIFY ai_jobs or a signal. */
static void
daemon_wait(struct daemon *d, double seconds)
{
	PGnotify	*n;
	fd_set		 rfds;
	struct timeval	 tv;
	int		 sock, maxfd;

	if (daemon_db_ensure(d->db, 1) == -1 || (sock = PQsocket(d->db)) < 0) {
		(void)sleep(1);
		return;
	}
	FD_ZERO(&rfds);
	FD_SET(sock, &rfds);
	FD_SET(sigpipe_fd[0], &rfds);
	maxfd = sock > sigpipe_fd[0] ? sock : sigpipe_fd[0];
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	if (select(maxfd + 1, &rfds, NULL, NULL, &tv) > 0 &&
	    FD_ISSET(sigpipe_fd[0], &rfds))
		drain(sigpipe_fd[0]);
	if (PQconsumeInput(d->db) == 0) {
		log_warnx("database connection lost: %s",
		    PQerrorMessage(d->db));
		return;
	}
	while ((n = PQnotifies(d->db)) != NULL) {
		log_debug("notified: %s %s", n->relname, n->extra);
		PQfreemem(n);
	}
}

/* Serve until stopped.  Returns 0, or 1 when a job thread was left
 * running (its job given back) and the process must exit at once. */
static int
daemon_loop(struct daemon *d)
{
	struct job	 j;
	double		 due, last_rescue = 0;
	int		 rc;

	while (!stopping) {
		if (daemon_db_ensure(d->db, 1) == -1) {
			daemon_wait(d, 1);
			continue;
		}
		if (now_s() - last_rescue >= 1) {
			(void)queue_rescue(d->db, d->worker);
			last_rescue = now_s();
		}
		rc = queue_claim(d->db, d->worker, d->cf.infer_lease,
		    d->held.series, &j);
		if (rc == 1) {
			log_info("job %lld claimed: series %lld, %s, attempt %d"
			    " of %d", j.id, j.series_id, j.reader, j.attempts,
			    j.max_attempts);
			if (job_supervise(d, &j) == 1)
				return 1;
			d->held.since = now_s();
			continue;
		}
		/* Nothing for the series held for a poll interval: its
		 * memory is given back (and a spare a failed load left). */
		if (rc == 0 && (d->held.vol != NULL ||
		    d->held.spare.vox != NULL) &&
		    now_s() - d->held.since >= d->cf.infer_poll)
			held_drop(&d->held, "idle", 0);
		/* Nothing due: sleep until notified, until the next job is
		 * due or lease runs out, or for a poll interval. */
		due = rc == 0 ? queue_next_due(d->db) : -1;
		daemon_wait(d, queue_idle_wait(rc, due, d->cf.infer_poll));
	}
	return 0;
}

/*
 * OpenMP's threads wait passively (OMP_WAIT_POLICY=passive) unless the
 * environment says otherwise.  libgomp's default is to spin up to
 * 300,000 rounds at every barrier before sleeping: on a machine whose
 * cores other work shares, the thread that spins takes the processor
 * share that the thread it waits for needs (the daemon's threads are
 * one scheduler group, setsid's autogroup), and the CPU seconds of a nodule
 * job grow with the load.  libgomp reads the variable once, when the
 * program is loaded, before main(): so the daemon sets it and executes
 * itself again, once; if that fails it goes on as it is.
 */
static void
omp_wait_passive(char *argv[])
{
#ifdef _OPENMP
	char	 path[PATH_MAX];
	ssize_t	 n;

	if (getenv("OMP_WAIT_POLICY") != NULL ||
	    getenv("GOMP_SPINCOUNT") != NULL)
		return;
	/* By its own path, not /proc/self/exe: the process keeps its
	 * name (ps, pgrep). */
	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 1)) <= 0 ||
	    (size_t)n >= sizeof(path) - 1)
		return;
	path[n] = '\0';
	if (setenv("OMP_WAIT_POLICY", "passive", 1) == -1)
		return;
	(void)execv(path, argv);
	(void)unsetenv("OMP_WAIT_POLICY");
#else
	(void)argv;
#endif
}

int
main(int argc, char *argv[])
{
	struct daemon		 d;
	struct sigaction	 sa;
	const char		*pidfile;
	char			 err[1024], host[HOST_NAME_MAX + 1];
	int			 rc = 1, i, left;

	omp_wait_passive(argv);
	memset(&d, 0, sizeof(d));
	d.held.anatomy = anatomy_cache_new();
	if (service_init("zhiying-inferd", argc, argv, &d.cf, &pidfile) == -1)
		return 1;
	if (gethostname(host, sizeof(host)) == -1)
		(void)snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	(void)snprintf(d.worker, sizeof(d.worker), "%s:%ld", host,
	    (long)getpid());
	if (pipe(sigpipe_fd) == -1) {
		log_error("pipe: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < 2; i++)
		(void)fcntl(sigpipe_fd[i], F_SETFL,
		    fcntl(sigpipe_fd[i], F_GETFL) | O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	err[0] = '\0';
	if ((d.compute = compute_open(d.cf.infer_backend, err,
	    sizeof(err))) == NULL) {
		log_error("compute backend: %s", err);
		goto fail;
	}
	if ((d.store = store_open_dir(d.cf.store)) == NULL ||
	    (d.db = db_connect(d.cf.db_inferd)) == NULL ||
	    (d.work = db_connect(d.cf.db_inferd)) == NULL ||
	    queue_listen(d.db) == -1)
		goto fail;
	if (service_pidfile(pidfile) == -1)
		goto fail;
	log_info("worker %s: lease %d s, poll %d s, backoff %d s, grace %d s",
	    d.worker, d.cf.infer_lease, d.cf.infer_poll, d.cf.infer_backoff,
	    d.cf.infer_grace);
	left = daemon_loop(&d);
	log_info("stopped");
	rc = 0;
	if (pidfile != NULL)
		(void)unlink(pidfile);
	/* A job thread left running (its job given back) ends with the
	 * process; what it uses is not freed under it. */
	if (left)
		_exit(rc);
	held_drop(&d.held, "stopping", 0);
	anatomy_cache_free(d.held.anatomy);
	d.held.anatomy = NULL;
fail:
	if (d.db != NULL)
		PQfinish(d.db);
	if (d.work != NULL)
		PQfinish(d.work);
	store_close(d.store);
	compute_close(d.compute);
	return rc;
}
