/*
 * store.h - the console's changes to the database.
 *
 * Shared by the panels of the interactive console and the command-line
 * subcommands.  Every change is one transaction that also writes its
 * audit row, so either both are stored or neither is.  The actor's scope
 * is checked here, in the SQL of each change, not only by the screens:
 * an institution administrator (actor.platform == 0) can change only the
 * users of actor.inst and nothing else.
 */
#ifndef ZY_ADMIN_STORE_H
#define ZY_ADMIN_STORE_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "model.h"

/* Who makes a change, and through which program. */
struct actor {
	long long	 id;		/* users.id; 0 for the CLI operator */
	long long	 inst;		/* own institution; 0 for the CLI */
	int		 platform;	/* may manage every institution */
	char		 login[65];	/* as written to audit_log.actor_login */
	const char	*channel;	/* "console" or "cli" */
};

enum store_result {
	ST_OK,
	ST_INVALID,		/* bad or missing field (err says which) */
	ST_DUPLICATE,		/* code, name or login already taken */
	ST_NOT_FOUND,
	ST_FORBIDDEN,		/* outside the actor's scope */
	ST_ERROR,		/* database trouble (logged) */
	ST__MAX
};

/* What went wrong, for the form: the field name ("" for the whole form)
 * and a message in Chinese. */
struct store_err {
	char		 field[24];
	char		 msg[256];
};

struct inst_form {
	char		 code[64];
	char		 name[400];
	char		 level[16];	/* level_names code */
	char		 region[400];
	char		 contact[400];
};

struct alliance_form {
	char		 code[64];
	char		 name[400];
	char		 kind[24];	/* alliance_kind_names code */
};

struct user_form {
	char		 login[80];
	char		 name[400];
	char		 inst_code[64];
	unsigned int	 roles;		/* ROLE_BIT() set */
	enum title	 title;
};

/* A DICOM sender (dicom_peers): its calling AE title, the institution
 * whose images it sends, and the host or network it sends from. */
struct peer_form {
	char		 ae[24];
	char		 inst_code[64];
	char		 kind[16];	/* pacs or collector */
	char		 description[400];
	char		 network[64];	/* an address or CIDR network */
};

#define STORE_PASSWORD_LEN	14	/* generated passwords */

/* Create (id 0) or change an institution.  Platform scope only.  On a
 * new one *newid is set when not NULL. */
/* Write the audit row of a change by actor a, in the open transaction:
 * action on object otype oid of institution inst (0: none), with detail
 * (a JSON object, taken and freed).  Returns 0 or -1. */
int		 store_audit(PGconn *, const struct actor *, long long inst,
		    const char *action, const char *otype, long long oid,
		    json_t *detail);

enum store_result store_inst_save(PGconn *, const struct actor *,
		    long long id, const struct inst_form *, struct store_err *,
		    long long *newid);

/* Deactivate (active 0) or reactivate an institution. */
enum store_result store_inst_active(PGconn *, const struct actor *,
		    long long id, int active, struct store_err *);

/* Create (id 0) or change an alliance.  Platform scope only. */
enum store_result store_alliance_save(PGconn *, const struct actor *,
		    long long id, const struct alliance_form *,
		    struct store_err *, long long *newid);

/* Add an institution (by code) to an alliance, or change its upper
 * hospital: superior is the code of another member, "" for none. */
enum store_result store_member_set(PGconn *, const struct actor *,
		    long long alliance_id, const char *inst_code,
		    const char *superior_code, struct store_err *);

/* Remove a member (refused while others name it as their superior). */
enum store_result store_member_remove(PGconn *, const struct actor *,
		    long long alliance_id, long long inst_id,
		    struct store_err *);

/* Create (id 0) or change a user.  A new user gets password, or a
 * generated one written to genpw (STORE_PASSWORD_LEN + 1 bytes) when
 * password is NULL or "". */
enum store_result store_user_save(PGconn *, const struct actor *,
		    long long id, const struct user_form *, const char *password,
		    char *genpw, struct store_err *, long long *newid);

/* Disable (active 0, which also ends the user's sessions) or enable. */
enum store_result store_user_active(PGconn *, const struct actor *,
		    long long id, int active, struct store_err *);

/* Clear the failed-login count and the lockout of a user. */
enum store_result store_user_unlock(PGconn *, const struct actor *,
		    long long id, struct store_err *);

/* Set a new password: password, or a generated one written to genpw
 * (STORE_PASSWORD_LEN + 1 bytes) when password is NULL.  Ends the user's
 * sessions. */
enum store_result store_user_passwd(PGconn *, const struct actor *,
		    long long id, const char *password, char *genpw,
		    struct store_err *);

/* Find a user by login within the actor's scope.  Returns the id, 0 when
 * not found or out of scope, -1 on database trouble. */
long long	 store_user_find(PGconn *, const struct actor *, const char *login);

/* Find an alliance or an institution by code.  Returns the id, 0 when not
 * found, -1 on database trouble. */
long long	 store_alliance_find(PGconn *, const char *code);
long long	 store_inst_find(PGconn *, const char *code);

/* Check an allowed host or network ("10.1.2.3", "10.1.2.0/24", IPv6
 * alike) and write it in CIDR form into out (size bytes).  Returns 0, or
 * -1 with a message in Chinese in e (field "network"). */
int		 store_network_check(const char *in, char *out, size_t size,
		    struct store_err *e);

/* Register a DICOM peer.  Platform scope only. */
enum store_result store_peer_add(PGconn *, const struct actor *,
		    const struct peer_form *, struct store_err *);

/* Change the network of a peer (by AE title), and its active flag unless
 * active is -1; network NULL keeps it.  Platform scope only. */
enum store_result store_peer_set(PGconn *, const struct actor *,
		    const char *ae, const char *network, int active,
		    struct store_err *);

/* Requeue a dead or failed AI job (attempts 0, run now). */
enum store_result store_job_retry(PGconn *, const struct actor *,
		    long long id, struct store_err *);

/* A calibration of the calcium mass score for one scanner
 * (cac_calibrations, sql/014_cac_calibration.sql): the manufacturer, the
 * model ("" for all), the tube voltage ("" for all) and the factor c in
 * mg/cm³ per HU at 120 kV that the site measured on its phantom. */
struct calib_form {
	char		 manufacturer[400];
	char		 model[400];
	char		 kvp[64];
	char		 factor[64];
	char		 note[1024];	/* the phantom, the date */
};

/* The factor's range (mg/cm³/HU) and the tube voltage's (kV). */
#define CALIB_FACTOR_MIN	0.3
#define CALIB_FACTOR_MAX	1.5
#define CALIB_KVP_MIN		70
#define CALIB_KVP_MAX		150

/* Save a calibration: a new row, or the factor and note of the same
 * scanner (manufacturer, model and voltage, case and spaces ignored)
 * replaced.  Platform scope only.  The fields are checked first (errors
 * name the field: manufacturer, model, kvp, factor, note); on success
 * f->kvp and f->factor hold the values as stored ("120", "0.680") and
 * *newid, when not NULL, the row's id. */
enum store_result store_calib_save(PGconn *, const struct actor *,
		    struct calib_form *f, struct store_err *,
		    long long *newid);

/* Remove a calibration by id.  Platform scope only. */
enum store_result store_calib_remove(PGconn *, const struct actor *,
		    long long id, struct store_err *);

/* The calibrations, most general first within a manufacturer: columns
 * id, manufacturer, model, kvp ("" for all voltages), factor, note,
 * updated (YYYY-MM-DD), updated_by.  NULL on database trouble. */
PGresult	*store_calib_list(PGconn *);

/* Write a fresh password of letters and digits that passes the policy
 * into out (STORE_PASSWORD_LEN + 1 bytes). */
void		 store_password_new(char *out);

/* The Chinese message of a result (static storage). */
extern const char *const store_messages[ST__MAX];

#endif /* ZY_ADMIN_STORE_H */
