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
	struct prep	 s[DB_MAXPREP];
} prep;

static void
prep_clear(void)
{
	int	 i;

	for (i = 0; i < prep.n; i++)
		free(prep.s[i].sql);
	prep.n = 0;
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
		/* Full (as many filter combinations as that): start over. */
		r = PQexec(c, "DEALLOCATE ALL");
		ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok)
			return NULL;
		prep_clear();
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

PGresult *
db_execv(const char *who, PGconn *c, const char *sql, int n,
    const char *const *params)
{
	PGresult	*r;
	ExecStatusType	 st;
	const char	*state, *msg, *name;
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
