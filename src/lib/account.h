/*
 * account.h - logging in and out, and sessions.
 *
 * Shared by the web workers and the console so that both apply the same
 * hashes, lockout and audit rules.  Every outcome of a login attempt is
 * written to the audit log in the same transaction as its effect.
 */
#ifndef ZY_ACCOUNT_H
#define ZY_ACCOUNT_H

#include <libpq-fe.h>

#include "auth.h"
#include "conf.h"
#include "model.h"

struct account {
	long long	 id;
	long long	 institution_id;
	char		 login[65];
	char		 display_name[260];
	char		 institution_name[520];
	unsigned int	 roles;		/* ROLE_BIT() set */
	enum title	 title;
	enum inst_level	 level;		/* of the institution */
};

enum login_result {
	LOGIN_OK,
	LOGIN_BAD,		/* unknown login or wrong password */
	LOGIN_LOCKED,		/* too many failures; wait */
	LOGIN_DISABLED,		/* account or institution deactivated */
	LOGIN_ERROR,		/* database trouble (logged) */
	LOGIN_THROTTLED,	/* too many failures from the address; wait */
	LOGIN__MAX
};

/* Chinese message for the user for each result (static storage). */
extern const char *const login_messages[LOGIN__MAX];

/* Who is logging in, from where, through which program. */
struct login_origin {
	const char	*ip;
	const char	*user_agent;
	const char	*channel;	/* "web" or "console" */
};

/* Check a login and password, count failures, lock the account after
 * conf->login_max_failures of them, and audit the outcome.  An address
 * (o->ip) with conf->login_ip_max_failures failures in the last
 * login_ip_window seconds gets LOGIN_THROTTLED without a check.  On
 * LOGIN_OK fills *out.  On LOGIN_LOCKED and LOGIN_THROTTLED sets *wait to
 * the seconds left. */
enum login_result account_login(PGconn *, const struct conf *,
		    const char *login, const char *password,
		    const struct login_origin *, struct account *out, int *wait);

struct session {
	long long	 id;
	char		 csrf[AUTH_TOKEN_LEN + 1];
	struct account	 acct;
};

enum session_state {
	SESSION_NONE,		/* no or unknown token */
	SESSION_OK,
	SESSION_EXPIRED,	/* idle or absolute timeout, or disabled */
	SESSION_ERROR,		/* database trouble (logged) */
	SESSION__MAX
};

/* Log in: run account_login() and, when it succeeds, start a session in
 * the same transaction.  token receives the new secret token
 * (AUTH_TOKEN_LEN + 1 bytes) for the cookie; only its digest is stored.
 * old_token, if not NULL, names a session of this browser to end first. */
enum login_result session_login(PGconn *, const struct conf *,
		    const char *login, const char *password,
		    const struct login_origin *, const char *old_token,
		    struct session *out, char *token, int *wait);

/* Find the session of a token and check its timeouts; refreshes its idle
 * time.  An expired session is deleted. */
enum session_state session_lookup(PGconn *, const struct conf *,
		    const char *token, struct session *out);

/* End the session of token (安全退出) and audit it.  Returns 0 or -1. */
int		 session_logout(PGconn *, const struct session *,
		    const char *token, const struct login_origin *);

#endif /* ZY_ACCOUNT_H */
