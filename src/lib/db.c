/*
 * db.c - thin parameterized layer over libpq.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

#define DB_MAXPARAMS	64
#define DB_PREP_DEFAULT	256	/* prepared statements kept per connection */
#define DB_PREP_CONNS	4	/* connections of a process with a cache */
#define DB_PIPE_MAX	8
#define DB_PREP_MIN	16	/* the smallest cache db_prepare_on() takes */

static char	last_state[6];

/*
 * The statements prepared on a connection, by the FNV-1a hash of their
 * text (the name on the server is the hash; the text is kept to tell
 * collisions apart).  One cache serves both ways a statement gets
 * prepared: every statement of the connection given to db_prepare_on()
 * (all), and those run through db_execp() or db_pipeline() on any
 * connection.  Full, it gives up its entries in turn, each by name
 * (never DEALLOCATE ALL).  pid is the server process the statements
 * were prepared in: after PQreset() the PGconn is the same with a new
 * backend, which knows none of them.
 */
struct prep {
	unsigned long long	 h;
	char			*sql;
	int			 pinned;	/* used by the pipeline being sent */
};
static struct prep_conn {
	const PGconn	*c;
	int		 pid;
	int		 all;
	int		 n;
	int		 evict;		/* the entry to give up next when full */
	int		 evicted;	/* given up on this backend (logged once) */
	struct prep	*s;		/* prep_max entries */
} prep_conns[DB_PREP_CONNS];
static int	prep_max = DB_PREP_DEFAULT;

static void
prep_clear(struct prep_conn *pc)
{
	int	 i;

	for (i = 0; i < pc->n; i++)
		free(pc->s[i].sql);
	pc->n = 0;
	pc->evict = 0;
	pc->evicted = 0;
}

/* The cache of c, when c has one, or one made for it when make. */
static struct prep_conn *
prep_conn(const PGconn *c, int make)
{
	struct prep_conn	*pc = NULL;
	int			 i;

	for (i = 0; i < DB_PREP_CONNS && pc == NULL; i++)
		if (prep_conns[i].c == c)
			pc = &prep_conns[i];
	if (pc == NULL && !make)
		return NULL;
	for (i = 0; i < DB_PREP_CONNS && pc == NULL; i++)
		if (prep_conns[i].c == NULL)
			pc = &prep_conns[i];
	if (pc == NULL) {	/* more connections than caches: take one */
		pc = &prep_conns[(unsigned)PQbackendPID(c) % DB_PREP_CONNS];
		prep_clear(pc);
		pc->all = 0;
	}
	if (pc->s == NULL &&
	    (pc->s = calloc((size_t)prep_max, sizeof(*pc->s))) == NULL)
		return NULL;
	if (pc->c != c) {
		prep_clear(pc);
		pc->c = c;
		pc->pid = PQbackendPID(c);
	} else if (PQbackendPID(c) != pc->pid) {
		prep_clear(pc);
		pc->pid = PQbackendPID(c);
	}
	return pc;
}

void
db_prepare_on(PGconn *c, int max)
{
	struct prep_conn	*pc;
	int			 i;

	/* The size is the process's: set before any cache has entries. */
	if (max > 0 && max < DB_PREP_MIN)
		max = DB_PREP_MIN;
	if (max > 0 && max != prep_max) {
		for (i = 0; i < DB_PREP_CONNS; i++) {
			prep_clear(&prep_conns[i]);
			free(prep_conns[i].s);
			prep_conns[i].s = NULL;
			prep_conns[i].c = NULL;
		}
		prep_max = max;
	}
	for (i = 0; i < DB_PREP_CONNS; i++)
		prep_conns[i].all = 0;
	if (c != NULL && (pc = prep_conn(c, 1)) != NULL)
		pc->all = 1;
}

static unsigned long long
prep_hash(const char *s)
{
	unsigned long long	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * The name of sql's prepared statement on c, prepared now if it was not;
 * NULL when the statement is to run unnamed: c keeps no statements and
 * force is 0, or the statement cannot be prepared (then it runs unnamed
 * and reports its own error).  pin keeps the statement from being given
 * up for another until prep_unpin(): the statements of one pipeline are
 * all prepared before any is sent, and the cache's oldest entry may be
 * one of them.
 */
static const char *
prep_name(PGconn *c, const char *sql, int n, int force, int pin,
    char *name, size_t size)
{
	struct prep_conn	*pc;
	PGresult		*r;
	unsigned long long	 h;
	char			 old[48];
	const char		*state;
	int			 i, ok;

	if (c == NULL || PQstatus(c) != CONNECTION_OK ||
	    (pc = prep_conn(c, force)) == NULL || (!force && !pc->all))
		return NULL;
	h = prep_hash(sql);
	(void)snprintf(name, size, "zy_%016llx", h);
	for (i = 0; i < pc->n; i++)
		if (pc->s[i].h == h) {
			if (strcmp(pc->s[i].sql, sql) != 0)
				return NULL;
			pc->s[i].pinned |= pin;
			return name;
		}
	if (pc->n == prep_max) {
		/* Full (as many filter combinations as that): give up the
		 * oldest, by its name (our own hex: DEALLOCATE takes no
		 * parameter); the new one takes its place.  First in, first
		 * out, passing over the statements pinned by the pipeline
		 * being prepared (at most DB_PIPE_MAX, fewer than
		 * DB_PREP_MIN). */
		while (pc->s[pc->evict].pinned)
			pc->evict = (pc->evict + 1) % prep_max;
		i = pc->evict;
		(void)snprintf(old, sizeof(old), "DEALLOCATE zy_%016llx",
		    pc->s[i].h);
		r = PQexec(c, old);
		ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok)
			return NULL;
		if (pc->evicted++ == 0)
			log_info("%s: %d statements prepared on the connection:"
			    " giving up the oldest in turn", __func__, prep_max);
		free(pc->s[i].sql);
		pc->s[i].sql = NULL;
		pc->evict = (pc->evict + 1) % prep_max;
	} else
		i = pc->n;
	if ((pc->s[i].sql = strdup(sql)) == NULL)
		goto drop;
	r = PQprepare(c, name, sql, n, NULL);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	/* 42P05: prepared already (by a cache this process gave up for
	 * another connection, on the same backend): the name is the text's. */
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!ok && state != NULL && strcmp(state, "42P05") == 0)
		ok = 1;
	PQclear(r);
	if (!ok) {
		free(pc->s[i].sql);
		goto drop;
	}
	pc->s[i].h = h;
	pc->s[i].pinned = pin;
	if (i == pc->n)
		pc->n++;
	return name;
drop:
	/* The place stays empty: fill it with the last entry. */
	if (i < pc->n) {
		pc->s[i] = pc->s[--pc->n];
		pc->evict = pc->n > 0 ? pc->evict % pc->n : 0;
	}
	return NULL;
}

/* Let the statements pinned on c be given up again. */
static void
prep_unpin(PGconn *c)
{
	struct prep_conn	*pc;
	int			 i;

	if ((pc = prep_conn(c, 0)) != NULL)
		for (i = 0; i < pc->n; i++)
			pc->s[i].pinned = 0;
}

/* Forget the statements of c (the server said it has none by a name). */
static void
prep_forget(PGconn *c)
{
	struct prep_conn	*pc;

	if ((pc = prep_conn(c, 0)) != NULL)
		prep_clear(pc);
}

const char *
db_sqlstate(void)
{
	return last_state;
}

static void
db_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *
db_connect(const char *conninfo)
{
	PGconn	*c;

	c = PQconnectdb(conninfo);
	if (c == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		log_error("%s: %.*s", __func__,
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	(void)PQsetNoticeProcessor(c, db_notice, NULL);
	return c;
}

int
db_ensure(PGconn *c)
{
	if (PQstatus(c) == CONNECTION_OK)
		return 0;
	PQreset(c);
	if (PQstatus(c) == CONNECTION_OK) {
		log_info("%s: reconnected to the database", __func__);
		return 0;
	}
	log_error("%s: %.*s", __func__,
	    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
	return -1;
}

/* The result of a statement: r when it succeeded, else NULL (logged). */
static PGresult *
db_result(const char *who, PGconn *c, PGresult *r)
{
	ExecStatusType	 st;
	const char	*state, *msg;

	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	(void)snprintf(last_state, sizeof(last_state), "%s",
	    state != NULL ? state : "08000");
	msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	/* Constraint violations are expected input errors: the caller
	 * reports them; everything else is logged as an error. */
	if (strncmp(last_state, "23", 2) == 0 ||
	    strcmp(last_state, "40001") == 0)
		log_debug("%s: [%s] %.*s", who, last_state,
		    (int)strcspn(msg, "\n"), msg);
	else
		log_error("%s: [%s] %.*s", who, last_state,
		    (int)strcspn(msg, "\n"), msg);
	PQclear(r);
	return NULL;
}

/* sql run as a prepared statement when the connection keeps them, or
 * when force; otherwise unnamed. */
static PGresult *
db_run(const char *who, PGconn *c, const char *sql, int n,
    const char *const *params, int force)
{
	PGresult	*r;
	const char	*state, *name;
	char		 nbuf[32];

	last_state[0] = '\0';
	if ((name = prep_name(c, sql, n, force, 0, nbuf, sizeof(nbuf))) !=
	    NULL) {
		r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
		state = r != NULL ? PQresultErrorField(r,
		    PG_DIAG_SQLSTATE) : NULL;
		/* 26000: the server has no statement by that name (a
		 * DISCARD ALL, a pooler, a connection at the address of a
		 * closed one on a server process of the same number): run
		 * it unnamed this time. */
		if (state != NULL && strcmp(state, "26000") == 0) {
			prep_forget(c);
			PQclear(r);
			r = PQexecParams(c, sql, n, NULL, params, NULL, NULL,
			    0);
		}
	} else
		r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	return db_result(who, c, r);
}

PGresult *
db_execv(const char *who, PGconn *c, const char *sql, int n,
    const char *const *params)
{
	return db_run(who, c, sql, n, params, 0);
}

PGresult *
db_execp(const char *who, PGconn *c, const char *sql, int n,
    const char *const *params)
{
	return db_run(who, c, sql, n, params, 1);
}

int
db_pipeline(const char *who, PGconn *c, const struct db_stmt *st, int n,
    PGresult **res)
{
	const char	*p[DB_PIPE_MAX];
	char		 names[DB_PIPE_MAX][32];
	PGresult	*r;
	int		 i, sent = 0, rc = 0, failed = 0;

	last_state[0] = '\0';
	for (i = 0; i < n; i++)
		res[i] = NULL;
	if (n > DB_PIPE_MAX) {
		log_error("%s: %d statements is too many", who, n);
		return -1;
	}
	/* Prepared first, outside the pipeline: once per connection. */
	for (i = 0; i < n; i++) {
		p[i] = st[i].prepare ? prep_name(c, st[i].sql, st[i].n, 1, 1,
		    names[i], sizeof(names[i])) : NULL;
	}
	prep_unpin(c);
	if (PQenterPipelineMode(c) != 1) {
		log_error("%s: cannot enter pipeline mode: %.*s", who,
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		(void)snprintf(last_state, sizeof(last_state), "08000");
		return -1;
	}
	for (i = 0; i < n; i++, sent++)
		if ((p[i] != NULL ? PQsendQueryPrepared(c, p[i],
		    st[i].n, st[i].params, NULL, NULL, 0) :
		    PQsendQueryParams(c, st[i].sql, st[i].n, NULL,
		    st[i].params, NULL, NULL, 0)) != 1)
			break;
	if (PQpipelineSync(c) != 1 || sent < n) {
		log_error("%s: cannot send: %.*s", who,
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		(void)snprintf(last_state, sizeof(last_state), "08000");
		rc = -1;
	}
	/* Each statement's result, then its NULL; then the sync. */
	for (i = 0; i < sent; i++) {
		r = PQgetResult(c);
		if (r != NULL && PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
			PQclear(r);
			r = NULL;
			rc = -1;
		} else if (r != NULL || !failed) {
			if ((r = db_result(who, c, r)) == NULL) {
				failed = 1;
				rc = -1;
				if (p[i] != NULL &&
				    strcmp(last_state, "26000") == 0)
					prep_forget(c);
			}
		}
		res[i] = r;
		while ((r = PQgetResult(c)) != NULL)
			PQclear(r);
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		PQclear(r);
	}
	if (PQexitPipelineMode(c) != 1) {
		log_error("%s: cannot leave pipeline mode: %.*s", who,
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		rc = -1;
	}
	if (rc == -1)
		for (i = 0; i < n; i++) {
			PQclear(res[i]);
			res[i] = NULL;
		}
	return rc;
}

static PGresult *
db_vexec(const char *who, PGconn *c, const char *sql, int n, va_list ap)
{
	const char	*params[DB_MAXPARAMS];
	int		 i;

	if (n < 0 || n > DB_MAXPARAMS) {
		log_error("%s: %d parameters is too many", who, n);
		return NULL;
	}
	for (i = 0; i < n; i++)
		params[i] = va_arg(ap, const char *);
	return db_execv(who, c, sql, n, params);
}

PGresult *
db_exec_fn(const char *who, PGconn *c, const char *sql, int n, ...)
{
	va_list		 ap;
	PGresult	*r;

	va_start(ap, n);
	r = db_vexec(who, c, sql, n, ap);
	va_end(ap);
	return r;
}

int
db_cmd_fn(const char *who, PGconn *c, const char *sql, int n, ...)
{
	va_list		 ap;
	PGresult	*r;

	va_start(ap, n);
	r = db_vexec(who, c, sql, n, ap);
	va_end(ap);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
db_begin(PGconn *c)
{
	return db_cmd(c, "BEGIN", 0);
}

int
db_commit(PGconn *c)
{
	return db_cmd(c, "COMMIT", 0);
}

void
db_rollback(PGconn *c)
{
	PGresult	*r;

	if (PQtransactionStatus(c) == PQTRANS_IDLE)
		return;
	r = PQexec(c, "ROLLBACK");
	PQclear(r);
}

const char *
db_val(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return "";
	return PQgetvalue(r, row, col);
}

int
db_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

long long
db_ll(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}
