/*
 * audit.h - the append-only audit log.
 *
 * Every state change writes one audit row inside the same transaction as
 * the change itself, so either both are stored or neither is.
 */
#ifndef ZY_AUDIT_H
#define ZY_AUDIT_H

#include <libpq-fe.h>

struct audit {
	long long	 actor_id;	/* 0: none (e.g. unknown login) */
	const char	*actor_login;	/* as typed or as stored; may be NULL */
	long long	 institution_id;	/* 0: none */
	const char	*action;	/* e.g. "login", "login_failed" */
	const char	*object_type;	/* may be NULL */
	const char	*object_id;	/* may be NULL */
	const char	*ip;		/* client address; may be NULL */
	const char	*channel;	/* "web", "console", ...; NULL: "web" */
	const char	*detail;	/* JSON object text; NULL: {} */
};

/* ip when it is a well-formed IPv4 or IPv6 address, else NULL. */
const char	*audit_ip(const char *ip);

/* Append one row.  Returns 0, or -1 (logged) on failure; the caller then
 * rolls back the change it belongs to. */
int	 audit_write(PGconn *, const struct audit *);

/* The Chinese name of an audit action ("report_lock_broken": 强制解锁报告),
 * or the code itself when it has none. */
const char	*audit_action_zh(const char *action);

/*
 * The detail of an audit row (JSON object text) in Chinese words into out
 * (size bytes): "原状态：待报告；新状态：报告中；诊断号：ZY…", the known keys
 * named, application states by their Chinese names, other values as they
 * are; text that is not a JSON object is copied as it is.  Returns out.
 */
char		*audit_detail_zh(const char *json, char *out, size_t size);

#endif /* ZY_AUDIT_H */
