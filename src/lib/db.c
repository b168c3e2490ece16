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
#define DB_MAXPREP	256	/* prepared statements kept per connection */

static char	last_state[6];

/*
 * The statements prepared on the connection of db_prepare_on(), by the
 * FNV-1a hash of their text (the text is kept to tell collisions apart).
 * backend is the server process they were prepared in: after PQreset()
 * the connection is the same PGconn with a new backend, which knows none.
 */
struct prep {
	unsigned long long	 h;
	char			*sql;
};
static struct {
	PGconn		*c;
	int		 backend;
	int		 n;
	int		 evict;		/* the slot to give up next when full */
	struct prep	 s[DB_MAXPREP];
} prep;

static void
prep_clear(void)
{
	int	 i;

	for (i = 0; i < prep.n; i++)
		free(prep.s[i].sql);
	prep.n = 0;
	prep.evict = 0;
}

void
db_prepare_on(PGconn *c)
{
	prep_clear();
	prep.c = c;
	prep.backend = 0;
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
 * NULL when c does not keep prepared statements or the statement cannot
 * be prepared (then it runs unnamed, and reports its own error).
 */
static const char *
prep_name(PGconn *c, const char *sql, int n, char *name, size_t size)
{
	PGresult		*r;
	unsigned long long	 h;
	char			 old[48];
	int			 i, ok;

	if (c == NULL || c != prep.c || PQstatus(c) != CONNECTION_OK)
		return NULL;
	if (PQbackendPID(c) != prep.backend) {
		prep_clear();
		prep.backend = PQbackendPID(c);
	}
	h = prep_hash(sql);
	(void)snprintf(name, size, "zy_%016llx", h);
	for (i = 0; i < prep.n; i++)
		if (prep.s[i].h == h)
			return strcmp(prep.s[i].sql, sql) == 0 ? name : NULL;
	if (prep.n == DB_MAXPREP) {
		/* Full (as many filter combinations as that): give up one
		 * of ours, in turn.  Only ours: the statements db_execp()
		 * prepared on the same connection stay (a DEALLOCATE ALL
		 * would fail its next execution).  The name is our own hex
		 * (DEALLOCATE takes no parameter). */
		(void)snprintf(old, sizeof(old), "DEALLOCATE zy_%016llx",
		    prep.s[prep.evict].h);
		r = PQexec(c, old);
		ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok)
			return NULL;
		free(prep.s[prep.evict].sql);
		prep.s[prep.evict] = prep.s[--prep.n];
		prep.evict = (prep.evict + 1) % DB_MAXPREP;
	}
	if ((prep.s[prep.n].sql = strdup(sql)) == NULL)
		return NULL;
	r = PQprepare(c, name, sql, n, NULL);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		free(prep.s[prep.n].sql);
		return NULL;
	}
	prep.s[prep.n++].h = h;
	return name;
}

/* Forget the statements of c (the server said it has none by a name). */
static void
prep_forget(PGconn *c)
{
	if (c == prep.c)
		prep_clear();
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

PGresult *
db_execv(const char *who, PGconn *c, const char *sql, int n,
    const char *const *params)
{
	PGresult	*r;
	const char	*state, *name;
	char		 nbuf[32];

	last_state[0] = '\0';
	if ((name = prep_name(c, sql, n, nbuf, sizeof(nbuf))) != NULL) {
		r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
		state = r != NULL ? PQresultErrorField(r,
		    PG_DIAG_SQLSTATE) : NULL;
		/* 26000: the server has no statement by that name (a
		 * DISCARD ALL, a pooler): run it unnamed this time. */
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

/*
 * The statements prepared on the connections of this process: a
 * connection is known by its address and its server process, which a
 * reset changes.
 */
#define DB_PREP_CONNS	4
#define DB_PREP_NAMES	32
#define DB_PIPE_MAX	8
static struct db_prep {
	const PGconn	*c;
	int		 pid;
	const char	*names[DB_PREP_NAMES];
	int		 n;
} db_preps[DB_PREP_CONNS];

/* Prepare name on c unless it is already.  Returns the connection's
 * entry (NULL: prepare nothing, run the text), or (void *)-1 when
 * preparing failed (logged). */
static struct db_prep *
db_prepare(const char *who, PGconn *c, const char *name, const char *sql,
    int n)
{
	struct db_prep	*p = NULL;
	PGresult	*r;
	int		 i, pid = PQbackendPID(c);

	for (i = 0; i < DB_PREP_CONNS && p == NULL; i++)
		if (db_preps[i].c == c)
			p = &db_preps[i];
	for (i = 0; i < DB_PREP_CONNS && p == NULL; i++)
		if (db_preps[i].c == NULL)
			p = &db_preps[i];
	if (p == NULL)	/* more connections than slots: take one */
		p = &db_preps[(unsigned)pid % DB_PREP_CONNS];
	if (p->c != c || p->pid != pid) {
		p->c = c;
		p->pid = pid;
		p->n = 0;
	}
	for (i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p;
	if (p->n == DB_PREP_NAMES)
		return NULL;
	if ((r = db_result(who, c, PQprepare(c, name, sql, n, NULL))) ==
	    NULL)
		return (struct db_prep *)-1;
	PQclear(r);
	p->names[p->n++] = name;
	return p;
}

PGresult *
db_execp(const char *who, PGconn *c, const char *name, const char *sql,
    int n, const char *const *params)
{
	struct db_prep	*p;
	PGresult	*r;

	last_state[0] = '\0';
	if ((p = db_prepare(who, c, name, sql, n)) == (struct db_prep *)-1)
		return NULL;
	if (p == NULL)
		return db_execv(who, c, sql, n, params);
	r = db_result(who, c, PQexecPrepared(c, name, n, params, NULL, NULL,
	    0));
	/* Not there after all (a connection at the address of a closed
	 * one, on a server process of the same number): prepare anew. */
	if (r == NULL && strcmp(last_state, "26000") == 0)
		p->n = 0;
	return r;
}

int
db_pipeline(const char *who, PGconn *c, const struct db_stmt *st, int n,
    PGresult **res)
{
	struct db_prep	*p[DB_PIPE_MAX];
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
		p[i] = NULL;
		if (st[i].name != NULL && (p[i] = db_prepare(who, c,
		    st[i].name, st[i].sql, st[i].n)) == (struct db_prep *)-1)
			return -1;
	}
	if (PQenterPipelineMode(c) != 1) {
		log_error("%s: cannot enter pipeline mode: %.*s", who,
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		(void)snprintf(last_state, sizeof(last_state), "08000");
		return -1;
	}
	for (i = 0; i < n; i++, sent++)
		if ((p[i] != NULL ? PQsendQueryPrepared(c, st[i].name,
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
					p[i]->n = 0;
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
