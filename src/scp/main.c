/*
 * zhiying-scp - the DICOM C-STORE receiver.
 *
 *	zhiying-scp [-c conf] [-p pidfile]
 *
 * The hospital's PACS front-end machine and the image collectors of
 * modalities push studies here.  Each calling AE title must be registered
 * (dicom_peers) and belongs to one institution; unknown callers are
 * refused at association.  Every association is served by a child process
 * of its own (several at once, up to scp_max_assoc), which hands each
 * received object to the ingest path shared with web uploads.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "conf.h"
#include "db.h"
#include "dicom.h"
#include "ingest.h"
#include "log.h"
#include "service.h"
#include "seriesmatch.h"
#include "store.h"
#include "workflow.h"

static volatile sig_atomic_t	 stopping;
static pid_t			 listener;	/* the parent's pid */

/* A small set of row ids. */
struct idset {
	long long	*v;
	size_t		 n, cap;
};

static void
idset_add(struct idset *s, long long id)
{
	long long	*p;
	size_t		 i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return;
	if (s->n == s->cap) {
		p = reallocarray(s->v, s->cap ? 2 * s->cap : 16, sizeof(*p));
		if (p == NULL)
			return;
		s->v = p;
		s->cap = s->cap ? 2 * s->cap : 16;
	}
	s->v[s->n++] = id;
}

struct serve_ctx {
	PGconn			*db;
	struct store		*store;
	struct ingest_source	 src;
	struct dcm_limits	 limits;
	int			 stored, duplicate, refused, failed;
	struct idset		 series;	/* touched, for the matcher */
	struct idset		 studies;	/* touched, for linking */
};

static void
on_signal(int sig)
{
	/* A child that DCMTK forked is still reading its request, inside
	 * dcm_net_accept(), with the parent's handlers: it ends at once. */
	if (getpid() != listener) {
		sigset_t	 set;

		(void)signal(sig, SIG_DFL);
		(void)sigemptyset(&set);
		(void)sigaddset(&set, sig);
		(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
		(void)raise(sig);
		_exit(1);
	}
	stopping = 1;
}

/*
 * One received object: ingest it and answer the sender.  The answer is
 * sent when this returns, so DCM_STORE_OK means durable: ingest_file()
 * returns INGEST_STORED only after the spool file was renamed into the
 * store and fsynced with its folder and the index row was committed
 * (synchronous_commit on).  Nothing is batched across objects: a sender
 * waits for each answer.
 */
static enum dcm_store_status
on_store(void *arg, const char *path, char *reason, size_t size)
{
	struct serve_ctx	*s = arg;
	struct ingest_outcome	*o;
	enum ingest_result	 res;
	enum dcm_store_status	 st;

	if ((o = malloc(sizeof(*o))) == NULL) {
		(void)snprintf(reason, size, "out of memory");
		return DCM_STORE_BUSY;
	}
	if (db_ensure(s->db) == -1) {
		free(o);
		s->failed++;
		(void)snprintf(reason, size, "database unavailable");
		return DCM_STORE_BUSY;
	}
	res = ingest_file(s->db, s->store, &s->limits, path, &s->src, o);
	switch (res) {
	case INGEST_STORED:
		s->stored++;
		idset_add(&s->series, o->series_id);
		idset_add(&s->studies, o->study_id);
		st = DCM_STORE_OK;
		break;
	case INGEST_DUPLICATE:
		s->duplicate++;
		st = DCM_STORE_OK;
		break;
	case INGEST_REFUSED:
		s->refused++;
		log_warnx("refused an object from %s: %s", s->src.calling_ae,
		    o->reason);
		(void)snprintf(reason, size, "%s", o->reason);
		st = DCM_STORE_REFUSED;
		break;
	default:
		s->failed++;
		(void)snprintf(reason, size, "%s", o->reason);
		st = DCM_STORE_BUSY;
		break;
	}
	free(o);
	return st;
}

/* A registered calling AE title, as the receiver checks it. */
struct peer {
	long long	 inst;		/* 0: not registered (or inactive) */
	int		 allowed;	/* the address is inside network */
	char		 network[64];
};

/* Look up a registered, active calling AE title and whether addr lies in
 * its network.  Returns 0 (p->inst 0 when there is no such peer), -1 on
 * database trouble. */
static int
peer_lookup(PGconn *db, const char *ae, const char *addr, struct peer *p)
{
	PGresult	*r;
	unsigned char	 bin[sizeof(struct in6_addr)];
	const char	*a;

	memset(p, 0, sizeof(*p));
	/* An address that is not one (it cannot be, from a socket) is in
	 * no network: NULL makes the comparison false, not an error. */
	a = inet_pton(AF_INET, addr, bin) == 1 ||
	    inet_pton(AF_INET6, addr, bin) == 1 ? addr : NULL;
	r = db_exec(db, "SELECT p.institution_id,"
	    " coalesce($2::inet <<= p.network, false), p.network::text"
	    " FROM dicom_peers p JOIN institutions i ON i.id = p.institution_id"
	    " WHERE p.ae_title = $1 AND p.active AND i.active", 2, ae, a);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		p->inst = db_ll(r, 0, 0);
		p->allowed = db_bool(r, 0, 1);
		(void)snprintf(p->network, sizeof(p->network), "%s",
		    PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	return 0;
}

static void
refusal_audit(PGconn *db, const struct dcm_assoc_info *ai, const char *why,
    const struct peer *p)
{
	struct audit	 a;
	json_t		*d;
	char		*detail;

	d = json_pack("{s:s, s:s}", "reason", why, "called_ae", ai->called_ae);
	if (d != NULL && p != NULL && p->inst > 0)
		(void)json_object_set_new(d, "network",
		    json_string(p->network));
	detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	memset(&a, 0, sizeof(a));
	a.actor_login = ai->calling_ae;
	a.action = "dicom_association_refused";
	a.object_type = "dicom_peer";
	a.object_id = ai->calling_ae;
	a.ip = ai->peer;
	a.channel = "scp";
	a.detail = detail;
	if (p != NULL)
		a.institution_id = p->inst;
	(void)audit_write(db, &a);
	free(detail);
}

/*
 * Remove the spool files of a child that is gone (pid), or at start (pid
 * 0) those of every process that no longer runs.  Spool files are named
 * PID-SEQ.dcm by the child that writes them; a child that ends normally
 * removes its own, one killed mid-transfer cannot.
 */
static void
spool_sweep(const char *dir, pid_t pid)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[2048], *end;
	long		 owner;
	int		 n, removed = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warnx("%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		errno = 0;
		owner = strtol(e->d_name, &end, 10);
		if (errno != 0 || end == e->d_name || *end != '-' ||
		    owner <= 0 || strcmp(end + strcspn(end, "."), ".dcm") != 0)
			continue;
		if (pid > 0 ? owner != (long)pid :
		    kill((pid_t)owner, 0) == 0 || errno != ESRCH)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			log_warnx("%s: %s", path, strerror(errno));
	}
	(void)closedir(d);
	if (removed > 0)
		log_info("removed %d spool file(s) left by %s", removed,
		    pid > 0 ? "an association that was killed" :
		    "associations of an earlier run");
}

/* Reap the children that ended: log the killed ones and sweep their
 * spool files.  Returns how many were reaped. */
static int
children_reap(const char *spool)
{
	pid_t	 pid;
	int	 status, n = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0 ||
	    (pid == -1 && errno == EINTR)) {
		if (pid == -1)
			continue;
		n++;
		if (WIFSIGNALED(status))
			log_warnx("association process %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
		spool_sweep(spool, pid);
	}
	return n;
}

/*
 * The child process of one connection: check who calls, then serve the
 * association and exit.
 */
static _Noreturn void
child_serve(struct dcm_assoc *as, const struct conf *cf)
{
	struct serve_ctx	 s;
	struct dcm_assoc_info	 ai;
	struct timespec		 t0, t1;
	struct peer		 p;
	struct wf_linker	 lk;
	const char		*why = NULL;
	char			 err[512];
	size_t			 i;
	int			 rc, fits;

	memset(&s, 0, sizeof(s));
	ingest_limits(&s.limits, cf);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	dcm_assoc_get_info(as, &ai);
	/* DCMTK hands over a connection that closed before it sent a
	 * request as one with no AE titles: nobody asked for anything. */
	if (ai.called_ae[0] == '\0' && ai.calling_ae[0] == '\0') {
		log_warnx("association request failed: the connection from %s"
		    " closed before its request", ai.peer);
		dcm_assoc_free(as);
		_exit(1);
	}
	if ((s.db = db_connect(cf->db_scp)) == NULL ||
	    (s.store = store_open_dir(cf->store)) == NULL) {
		log_error("association from %s (%s) refused: no database or"
		    " store", ai.calling_ae, ai.peer);
		dcm_assoc_reject(as, DCM_REJECT_BUSY);
		dcm_assoc_free(as);
		_exit(1);
	}
	memset(&p, 0, sizeof(p));
	if (strcmp(ai.called_ae, cf->scp_ae_title) != 0) {
		why = "called AE title is not ours";
		dcm_assoc_reject(as, DCM_REJECT_CALLED_AE);
	} else if (peer_lookup(s.db, ai.calling_ae, ai.peer, &p) == -1) {
		log_error("association from %s (%s) refused: database error",
		    ai.calling_ae, ai.peer);
		dcm_assoc_reject(as, DCM_REJECT_BUSY);
		dcm_assoc_free(as);
		_exit(1);
	} else if (p.inst == 0) {
		why = "calling AE title not registered";
		dcm_assoc_reject(as, DCM_REJECT_CALLING_AE);
	} else if (!p.allowed) {
		/* A known title from an unknown place: to the caller it is
		 * not recognised, the audit row says why. */
		why = "address outside the peer's network";
		dcm_assoc_reject(as, DCM_REJECT_CALLING_AE);
	}
	if (why != NULL) {
		log_warnx("refused association from %s (%s): %s%s%s",
		    ai.calling_ae, ai.peer, why, p.inst > 0 ? " " : "",
		    p.inst > 0 ? p.network : "");
		refusal_audit(s.db, &ai, why, &p);
		dcm_assoc_free(as);
		PQfinish(s.db);
		_exit(0);
	}
	s.src.institution_id = p.inst;
	s.src.channel = "scp";
	s.src.calling_ae = ai.calling_ae;
	s.src.ip = ai.peer;
	/* Spool files are ours: renamed into the store, not copied. */
	s.src.move = 1;
	if (dcm_assoc_accept(as, cf->scp_ae_title, ingest_sop_classes, err,
	    sizeof(err)) == -1) {
		log_error("association from %s (%s): %s", ai.calling_ae,
		    ai.peer, err);
		dcm_assoc_free(as);
		_exit(1);
	}
	rc = dcm_assoc_serve(as, cf->scp_spool, cf->scp_timeout, on_store, &s,
	    err, sizeof(err));
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("association from %s (%s) %s: %d stored, %d duplicate,"
	    " %d refused, %d failed in %.2f s", ai.calling_ae, ai.peer,
	    rc == 0 ? "released" : err, s.stored, s.duplicate, s.refused,
	    s.failed, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	dcm_assoc_free(as);
	/* The sender is done (or gone).  Link new studies to the
	 * applications that wait for them (same accession number, or
	 * patient number and exam date, and the same patient: a study whose
	 * patient differs is held for the applicant), then match what
	 * arrived, with the application's 检查类型 and 检查部位 known, and
	 * queue the AI jobs.  A series that is still incomplete is matched
	 * again when the rest arrives. */
	memset(&lk, 0, sizeof(lk));
	lk.institution_id = p.inst;
	lk.login = ai.calling_ae;
	lk.ip = s.src.ip;
	lk.channel = "scp";
	for (i = 0; i < s.studies.n; i++)
		if ((fits = wf_autolink_study(s.db, &lk, s.studies.v[i])) > 0)
			log_info("study %lld linked to %d application(s)",
			    s.studies.v[i], fits);
	for (i = 0; i < s.series.n; i++) {
		fits = seriesmatch_run(s.db, s.series.v[i]);
		if (fits >= 0)
			log_info("series %lld fits %d AI reader(s)",
			    s.series.v[i], fits);
	}
	free(s.series.v);
	free(s.studies.v);
	store_close(s.store);
	PQfinish(s.db);
	_exit(rc == 0 ? 0 : 1);
}

int
main(int argc, char *argv[])
{
	struct conf		 cf;
	struct sigaction	 sa;
	struct dcm_net		*net;
	struct dcm_assoc	*as;
	siginfo_t		 si;
	const char		*pidfile;
	char			 err[1024];
	int			 children = 0, rc, i;

	if (service_init("zhiying-scp", argc, argv, &cf, &pidfile) == -1)
		return 1;
	if (mkdir(cf.scp_spool, 0750) == -1 && errno != EEXIST) {
		log_error("%s: %s", cf.scp_spool, strerror(errno));
		return 1;
	}
	listener = getpid();
	/* The children share our process group, so that stopping can end
	 * them all at once (kill(0, ...)) and nothing else. */
	if (getpgrp() != getpid() && setpgid(0, 0) == -1)
		log_warnx("setpgid: %s", strerror(errno));
	/* Each connection gets a child process of its own. */
	if ((net = dcm_net_listen(cf.scp_listen, cf.scp_port, 1,
	    cf.scp_timeout, err, sizeof(err))) == NULL) {
		log_error("cannot listen on %s port %d: %s", cf.scp_listen,
		    cf.scp_port, err);
		return 1;
	}
	spool_sweep(cf.scp_spool, 0);
	if (service_pidfile(pidfile) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	log_info("listening as %s on %s port %d (at most %d associations,"
	    " %d s timeout)", cf.scp_ae_title, cf.scp_listen, cf.scp_port,
	    cf.scp_max_assoc, cf.scp_timeout);

	while (!stopping) {
		children -= children_reap(cf.scp_spool);
		/* At the limit, new connections wait in the listen queue. */
		if (children >= cf.scp_max_assoc) {
			(void)usleep(50000);
			continue;
		}
		rc = dcm_net_accept(net, 1, &as, err, sizeof(err));
		if (dcm_net_is_child(net)) {
			/* The child of a connection.  Whatever happened, it
			 * ends here: back in the loop it would be a second
			 * listener that nobody counts or stops. */
			sa.sa_handler = SIG_DFL;
			(void)sigaction(SIGTERM, &sa, NULL);
			(void)sigaction(SIGINT, &sa, NULL);
			if (stopping)
				_exit(0);
			if (rc == DCM_ACCEPT_REQUEST)
				child_serve(as, &cf);
			log_warnx("association request failed: %s",
			    rc == DCM_ACCEPT_TIMEOUT ? "nothing arrived in"
			    " time" : err);
			_exit(1);
		}
		if (rc == DCM_ACCEPT_TIMEOUT)
			continue;
		if (rc == DCM_ACCEPT_FORKED) {
			children++;
			continue;
		}
		log_warnx("association request failed: %s", err);
	}
	/* Stop listening first, so that the port is free for the next
	 * start, then end the associations: a sender whose association is
	 * cut sends again, and ingest keeps no half-stored object. */
	log_info("stopping; ending %d association(s)", children);
	dcm_net_free(net);
	if (children > 0) {
		sa.sa_handler = SIG_IGN;
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)kill(0, SIGTERM);
		/* SIGTERM ends a child wherever it is; a child past the
		 * grace (which cannot be) is left to the stop script. */
		for (i = 0; i < 100 && children > 0; i++) {
			children -= children_reap(cf.scp_spool);
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) ==
			    -1 && errno == ECHILD)
				children = 0;
			if (children > 0)
				(void)usleep(50000);
		}
		if (children > 0)
			log_warnx("%d association(s) did not end", children);
	}
	if (pidfile != NULL)
		(void)unlink(pidfile);
	return 0;
}
