/*
 * db.h - PostgreSQL access through libpq.
 *
 * Every statement is parameterized: callers pass the SQL text with $1..$n
 * and the values as strings (NULL for SQL NULL).  A failed statement is
 * logged once here with the caller's name and returns NULL; its SQLSTATE
 * stays readable through db_sqlstate() until the next statement.
 */
#ifndef ZY_DB_H
#define ZY_DB_H

#include <libpq-fe.h>

/* Connect with a libpq conninfo string.  Returns NULL (logged) on failure.
 * Close with PQfinish(). */
PGconn		*db_connect(const char *conninfo);

/* Keep the statements run on connection c as named prepared statements:
 * each distinct SQL text is prepared on its first use (PQprepare, named
 * after the text's hash) and executed by name afterwards, so that the
 * server parses it once and may reuse its plan.  One connection per
 * process (the web worker's); a reconnect (a new backend) or a statement
 * the server no longer knows prepares again.  At most max statements are
 * kept on a connection (0: 256; at least 16), the oldest given up first;
 * the size is the process's, for db_execp() too.  c NULL turns it off. */
void		 db_prepare_on(PGconn *c, int max);

/* Reconnect a broken connection.  Returns 0 when usable, -1 if not. */
int		 db_ensure(PGconn *);

/* Run one statement with n text parameters, given as variadic
 * const char * arguments.  Returns the result (PQclear() it) when the
 * statement succeeded, NULL (logged, with who as the prefix) otherwise. */
#define db_exec(c, sql, n, ...) \
	db_exec_fn(__func__, (c), (sql), (n), ##__VA_ARGS__)
PGresult	*db_exec_fn(const char *who, PGconn *, const char *sql, int n,
		    ...);

/* As db_exec() with the parameters in an array. */
PGresult	*db_execv(const char *who, PGconn *, const char *sql, int n,
		    const char *const *params);

/* As db_execv(), as a statement prepared on any connection (kept as
 * db_prepare_on() keeps them): later calls on the same connection skip
 * parsing and planning.  A connection reset by db_ensure() prepares
 * again. */
PGresult	*db_execp(const char *who, PGconn *, const char *sql, int n,
		    const char *const *params);

/* One statement of db_pipeline(): prepared as by db_execp() when
 * prepare, or sent as it is (BEGIN). */
struct db_stmt {
	int			 prepare;
	const char		*sql;
	int			 n;
	const char *const	*params;
};

/* Run n statements in one round trip (libpq's pipeline mode), in
 * order; a failure skips the rest.  res[i] gets each result (PQclear()
 * them) or NULL.  Returns 0 when all succeeded, or -1 (logged, the
 * failed one's SQLSTATE in db_sqlstate(); a transaction the statements
 * began is then failed: roll it back). */
int		 db_pipeline(const char *who, PGconn *,
		    const struct db_stmt *, int n, PGresult **res);

/* Run a statement and discard its result; returns 0 or -1. */
#define db_cmd(c, sql, n, ...) \
	db_cmd_fn(__func__, (c), (sql), (n), ##__VA_ARGS__)
int		 db_cmd_fn(const char *who, PGconn *, const char *sql, int n,
		    ...);

/* Transactions.  db_rollback() is safe to call whatever the state. */
int		 db_begin(PGconn *);
int		 db_commit(PGconn *);
void		 db_rollback(PGconn *);

/* SQLSTATE of the last failed statement, or "" (static storage). */
const char	*db_sqlstate(void);

/* Value of a result cell, "" for NULL; and whether it is SQL true. */
const char	*db_val(const PGresult *, int row, int col);
int		 db_bool(const PGresult *, int row, int col);
long long	 db_ll(const PGresult *, int row, int col);

#endif /* ZY_DB_H */
