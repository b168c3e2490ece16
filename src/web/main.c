/*
 * zhiying-web - the FastCGI worker pool behind nginx.
 *
 *	zhiying-web [-c conf] [-p pidfile]
 *
 * The supervisor opens the FastCGI socket, loads and parses the templates
 * once, and forks the workers, which share the socket and each hold one
 * database connection.  A worker that dies is replaced; SIGTERM stops
 * them all, each finishing the request it is serving.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "service.h"
#include "pages.h"

#define MAX_WORKERS	256
#define REQ_ARENA_CAP	(64u * 1024 * 1024)

static volatile sig_atomic_t	 stopping;
static volatile sig_atomic_t	 busy;		/* worker: serving a request */
static volatile sig_atomic_t	 child_died;

static void
worker_sigterm(int sig)
{
	(void)sig;
	/* Idle in accept(): leave now.  Busy: finish the request first. */
	if (!busy)
		_exit(0);
	stopping = 1;
}

static void
worker_run(int sock, const struct conf *cf, const struct tmpl_set *ts)
{
	FCGX_Request		 fr;
	struct sigaction	 sa;
	struct arena		*a;
	struct req		 r;
	PGconn			*db = NULL;
	sigset_t		 none;
	int			 status;

	/* The supervisor's blocked signals are inherited: unblock them. */
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sigterm;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if ((a = arena_new(0)) == NULL || FCGX_InitRequest(&fr, sock, 0) != 0) {
		log_error("%s: out of memory", __func__);
		_exit(1);
	}
	arena_set_cap(a, REQ_ARENA_CAP);
	/* Uploads of workers that died (the supervisor too) end here. */
	upload_sweep(cf, 0);
	/* Connect at start; a failed connection is retried per request. */
	if ((db = db_connect(cf->db)) == NULL)
		db = PQconnectStart(cf->db);
	/* Every statement of a page is parsed and planned once per worker
	 * (issue 19: planning was 57-62 % of the samples under load). */
	db_prepare_on(db, cf->db_statements);
	while (!stopping) {
		busy = 0;
		if (stopping || FCGX_Accept_r(&fr) < 0)
			break;
		busy = 1;
		memset(&r, 0, sizeof(r));
		r.fcgi = &fr;
		r.a = a;
		r.conf = cf;
		r.tmpl = ts;
		r.db = db;
		if ((status = http_parse(&r)) != 0)
			page_error(&r, status, status == 413 ?
			    "提交的内容过大" : "请求格式错误");
		else
			router_dispatch(&r);
		if (!r.opened)
			page_error(&r, 500, "系统内部错误");
		if (db != NULL)
			db_rollback(db);
		FCGX_Finish_r(&fr);
		arena_reset(a);
	}
	PQfinish(db);
	arena_free(a);
	_exit(0);
}

static pid_t
worker_spawn(int sock, const struct conf *cf, const struct tmpl_set *ts)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_error("%s: fork: %s", __func__, strerror(errno));
		return -1;
	}
	if (pid == 0)
		worker_run(sock, cf, ts);
	return pid;
}

static void
super_signal(int sig)
{
	if (sig == SIGCHLD)
		child_died = 1;
	else
		stopping = 1;
}

int
main(int argc, char *argv[])
{
	struct conf		 cf;
	struct tmpl_set		*ts;
	struct sigaction	 sa;
	sigset_t		 block, old;
	pid_t			 pids[MAX_WORKERS], pid;
	char			 err[1024];
	const char		*pidfile;
	time_t			 window = 0;
	int			 sock, i, wst, deaths = 0;

	if (service_init("zhiying-web", argc, argv, &cf, &pidfile) == -1)
		return 1;
	if (auth_init() == -1)
		return 1;
	if ((ts = tmpl_set_load(cf.templates, err, sizeof(err))) == NULL) {
		log_error("templates: %s", err);
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_error("FastCGI library failed to initialise");
		return 1;
	}
	if ((sock = FCGX_OpenSocket(cf.listen, 256)) < 0) {
		log_error("cannot listen on %s", cf.listen);
		return 1;
	}
	if (service_pidfile(pidfile) == -1)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = super_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGCHLD);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, &old);

	for (i = 0; i < cf.workers; i++)
		pids[i] = worker_spawn(sock, &cf, ts);
	log_info("listening on %s with %d workers", cf.listen, cf.workers);

	while (!stopping) {
		(void)sigsuspend(&old);
		if (!child_died)
			continue;
		child_died = 0;
		while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
			for (i = 0; i < cf.workers; i++)
				if (pids[i] == pid)
					break;
			if (i == cf.workers)
				continue;
			/* Its upload, if it was receiving one, never ends. */
			upload_sweep(&cf, (long)pid);
			if (stopping)
				continue;
			if (WIFSIGNALED(wst))
				log_error("worker %ld killed by signal %d;"
				    " replacing it", (long)pid, WTERMSIG(wst));
			else
				log_error("worker %ld exited with %d;"
				    " replacing it", (long)pid,
				    WEXITSTATUS(wst));
			/* A worker that dies at once, again and again,
			 * must not make the supervisor spin. */
			if (time(NULL) - window > 10) {
				window = time(NULL);
				deaths = 0;
			}
			if (++deaths > 5 * cf.workers)
				(void)sleep(1);
			pids[i] = worker_spawn(sock, &cf, ts);
		}
	}
	log_info("stopping %d workers", cf.workers);
	for (i = 0; i < cf.workers; i++)
		if (pids[i] > 0)
			(void)kill(pids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (pidfile != NULL)
		(void)unlink(pidfile);
	tmpl_set_free(ts);
	return 0;
}
