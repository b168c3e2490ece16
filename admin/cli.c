/*
 * cli.c - non-interactive subcommands for scripted provisioning.
 *
 * These are for the server's operator: they connect with the console's
 * conninfo (db_console, role zhiying_console: accounts, institutions,
 * alliances and peers, not the schema), which only a local operator
 * holds, and need no administrator login.  Each change is audited with
 * channel "cli" and the operator's OS user name as actor_login.  Exit
 * status: 0 done, 1 refused or failed, 2 usage.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "console.h"
#include "db.h"

struct cli_cmd {
	const char	*noun, *verb;
	const char	*usage;
	int		 (*run)(PGconn *, struct actor *, int, char **);
};

/* The value of --name in argv, or NULL. */
static const char *
cli_opt(int argc, char **argv, const char *name)
{
	int	 i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
cli_flag(int argc, char **argv, const char *name)
{
	int	 i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/* A password from standard input (first line). */
static int
cli_read_password(char *buf, size_t size)
{
	size_t	 n;

	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

static int
cli_result(enum store_result res, const struct store_err *e, const char *ok)
{
	if (res == ST_OK) {
		printf("%s\n", ok);
		return 0;
	}
	fprintf(stderr, "zhiying-admin: %s%s%s\n", e->field[0] ? e->field : "",
	    e->field[0] ? ": " : "", e->msg);
	return 1;
}

static int
cli_user_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct user_form f;
	struct store_err e;
	const char	*login, *name, *inst, *roles, *title;
	char		 pw[AUTH_PASSWORD_MAX + 2], gen[STORE_PASSWORD_LEN + 1];
	char		 list[200], *tok, *save;
	enum store_result res;
	int		 k;

	login = cli_opt(argc, argv, "--login");
	name = cli_opt(argc, argv, "--name");
	inst = cli_opt(argc, argv, "--institution");
	roles = cli_opt(argc, argv, "--roles");
	title = cli_opt(argc, argv, "--title");
	if (login == NULL || name == NULL || inst == NULL || roles == NULL)
		return 2;
	memset(&f, 0, sizeof(f));
	str_copy(f.login, sizeof(f.login), login);
	str_copy(f.name, sizeof(f.name), name);
	str_copy(f.inst_code, sizeof(f.inst_code), inst);
	str_copy(list, sizeof(list), roles);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((k = model_lookup(role_names, ROLE__MAX, tok)) < 0) {
			fprintf(stderr, "zhiying-admin: unknown role %s\n",
			    tok);
			return 2;
		}
		f.roles |= ROLE_BIT(k);
	}
	f.title = TITLE_NONE;
	if (title != NULL && title[0] != '\0') {
		if ((k = model_lookup(title_names, TITLE__MAX, title)) <= 0) {
			fprintf(stderr, "zhiying-admin: unknown title %s\n",
			    title);
			return 2;
		}
		f.title = (enum title)k;
	}
	pw[0] = gen[0] = '\0';
	if (cli_flag(argc, argv, "--password-stdin") &&
	    cli_read_password(pw, sizeof(pw)) == -1)
		return 2;
	memset(&e, 0, sizeof(e));
	res = store_user_save(c, a, 0, &f, pw, gen, &e, NULL);
	if (res == ST_OK && gen[0] != '\0')
		printf("password: %s\n", gen);
	return cli_result(res, &e, "user created");
}

static long long
cli_user_id(PGconn *c, struct actor *a, int argc, char **argv)
{
	long long	 id;

	if (argc < 1 || argv[0][0] == '-')
		return -2;
	if ((id = store_user_find(c, a, argv[0])) <= 0)
		fprintf(stderr, "zhiying-admin: no user %s\n", argv[0]);
	return id;
}

static int
cli_user_state(PGconn *c, struct actor *a, int argc, char **argv, int what)
{
	struct store_err e;
	enum store_result res;
	long long	 id;

	if ((id = cli_user_id(c, a, argc, argv)) == -2)
		return 2;
	if (id <= 0)
		return 1;
	memset(&e, 0, sizeof(e));
	if (what == 2)
		res = store_user_unlock(c, a, id, &e);
	else
		res = store_user_active(c, a, id, what, &e);
	return cli_result(res, &e, what == 2 ? "user unlocked" : what ?
	    "user enabled" : "user disabled");
}

static int
cli_user_disable(PGconn *c, struct actor *a, int argc, char **argv)
{
	return cli_user_state(c, a, argc, argv, 0);
}

static int
cli_user_enable(PGconn *c, struct actor *a, int argc, char **argv)
{
	return cli_user_state(c, a, argc, argv, 1);
}

static int
cli_user_unlock(PGconn *c, struct actor *a, int argc, char **argv)
{
	return cli_user_state(c, a, argc, argv, 2);
}

static int
cli_user_passwd(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct store_err e;
	enum store_result res;
	char		 pw[AUTH_PASSWORD_MAX + 2], gen[STORE_PASSWORD_LEN + 1];
	long long	 id;
	int		 fromstdin = cli_flag(argc, argv, "--password-stdin");

	if ((id = cli_user_id(c, a, argc, argv)) == -2)
		return 2;
	if (id <= 0)
		return 1;
	if (fromstdin && cli_read_password(pw, sizeof(pw)) == -1)
		return 2;
	memset(&e, 0, sizeof(e));
	gen[0] = '\0';
	res = store_user_passwd(c, a, id, fromstdin ? pw : NULL, gen, &e);
	if (res == ST_OK && gen[0] != '\0')
		printf("password: %s\n", gen);
	return cli_result(res, &e, "password set");
}

static int
cli_inst_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct inst_form f;
	struct store_err e;
	const char	*code, *name, *level, *region, *contact;

	code = cli_opt(argc, argv, "--code");
	name = cli_opt(argc, argv, "--name");
	level = cli_opt(argc, argv, "--level");
	region = cli_opt(argc, argv, "--region");
	contact = cli_opt(argc, argv, "--contact");
	if (code == NULL || name == NULL || level == NULL)
		return 2;
	memset(&f, 0, sizeof(f));
	str_copy(f.code, sizeof(f.code), code);
	str_copy(f.name, sizeof(f.name), name);
	str_copy(f.level, sizeof(f.level), level);
	str_copy(f.region, sizeof(f.region), region ? region : "");
	str_copy(f.contact, sizeof(f.contact), contact ? contact : "");
	memset(&e, 0, sizeof(e));
	return cli_result(store_inst_save(c, a, 0, &f, &e, NULL), &e,
	    "institution created");
}

static int
cli_alliance_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct alliance_form f;
	struct store_err e;
	const char	*code, *name, *kind;

	code = cli_opt(argc, argv, "--code");
	name = cli_opt(argc, argv, "--name");
	kind = cli_opt(argc, argv, "--kind");
	if (code == NULL || name == NULL || kind == NULL)
		return 2;
	memset(&f, 0, sizeof(f));
	str_copy(f.code, sizeof(f.code), code);
	str_copy(f.name, sizeof(f.name), name);
	str_copy(f.kind, sizeof(f.kind), kind);
	memset(&e, 0, sizeof(e));
	return cli_result(store_alliance_save(c, a, 0, &f, &e, NULL), &e,
	    "alliance created");
}

static int
cli_alliance_member(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct store_err e;
	const char	*al, *inst, *sup;
	long long	 id;

	al = cli_opt(argc, argv, "--alliance");
	inst = cli_opt(argc, argv, "--institution");
	sup = cli_opt(argc, argv, "--superior");
	if (al == NULL || inst == NULL)
		return 2;
	if ((id = store_alliance_find(c, al)) <= 0) {
		fprintf(stderr, "zhiying-admin: no alliance %s\n", al);
		return 1;
	}
	memset(&e, 0, sizeof(e));
	return cli_result(store_member_set(c, a, id, inst, sup ? sup : "",
	    &e), &e, "member set");
}

static int
cli_peer_add(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct peer_form f;
	struct store_err e;
	const char	*ae, *inst, *net, *kind, *desc;

	ae = cli_opt(argc, argv, "--ae");
	inst = cli_opt(argc, argv, "--institution");
	net = cli_opt(argc, argv, "--network");
	kind = cli_opt(argc, argv, "--kind");
	desc = cli_opt(argc, argv, "--description");
	if (ae == NULL || inst == NULL || net == NULL)
		return 2;
	memset(&f, 0, sizeof(f));
	str_copy(f.ae, sizeof(f.ae), ae);
	str_copy(f.inst_code, sizeof(f.inst_code), inst);
	str_copy(f.network, sizeof(f.network), net);
	str_copy(f.kind, sizeof(f.kind), kind ? kind : "pacs");
	str_copy(f.description, sizeof(f.description), desc ? desc : "");
	memset(&e, 0, sizeof(e));
	return cli_result(store_peer_add(c, a, &f, &e), &e, "peer registered");
}

static int
cli_peer_set(PGconn *c, struct actor *a, int argc, char **argv)
{
	struct store_err e;
	const char	*net;
	int		 active = -1;

	if (argc < 1 || argv[0][0] == '-')
		return 2;
	net = cli_opt(argc, argv, "--network");
	if (cli_flag(argc, argv, "--disable"))
		active = 0;
	else if (cli_flag(argc, argv, "--enable"))
		active = 1;
	if (net == NULL && active == -1)
		return 2;
	memset(&e, 0, sizeof(e));
	return cli_result(store_peer_set(c, a, argv[0], net, active, &e), &e,
	    "peer changed");
}

static int
cli_peer_list(PGconn *c, struct actor *a, int argc, char **argv)
{
	PGresult	*r;
	int		 i;

	(void)a;
	(void)argc;
	(void)argv;
	if ((r = db_exec(c, "SELECT p.ae_title, i.code, p.kind,"
	    " p.network::text, CASE WHEN p.active THEN 'active'"
	    " ELSE 'disabled' END, p.description FROM dicom_peers p"
	    " JOIN institutions i ON i.id = p.institution_id"
	    " ORDER BY p.ae_title", 0)) == NULL) {
		fprintf(stderr, "zhiying-admin: %s\n", store_messages[ST_ERROR]);
		return 1;
	}
	for (i = 0; i < PQntuples(r); i++)
		printf("%-16s %-12s %-9s %-20s %-8s %s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
		    PQgetvalue(r, i, 5));
	PQclear(r);
	return 0;
}

static const struct cli_cmd cli_cmds[] = {
	{ "user", "add", "user add --login L --name N --institution CODE"
	  " --roles applicant,doctor,stats,admin [--title resident|attending|"
	  "associate_chief|chief] [--password-stdin]", cli_user_add },
	{ "user", "disable", "user disable LOGIN", cli_user_disable },
	{ "user", "enable", "user enable LOGIN", cli_user_enable },
	{ "user", "unlock", "user unlock LOGIN", cli_user_unlock },
	{ "user", "passwd", "user passwd LOGIN [--password-stdin]"
	  "  (without it a password is generated and printed once)",
	  cli_user_passwd },
	{ "institution", "add", "institution add --code C --name N"
	  " --level province|city|county|primary [--region R] [--contact T]",
	  cli_inst_add },
	{ "alliance", "add", "alliance add --code C --name N"
	  " --kind medical_alliance|county_community", cli_alliance_add },
	{ "alliance", "member", "alliance member --alliance C --institution C"
	  " [--superior C]", cli_alliance_member },
	{ "calibration", "add", "calibration add --manufacturer M [--model X]"
	  " [--kvp K] --factor F [--note T]  (calcium mass score, mg/cm3 per"
	  " HU at 120 kV, from the site's phantom)", calib_add },
	{ "calibration", "list", "calibration list", calib_list },
	{ "calibration", "remove", "calibration remove ID", calib_remove },
	{ "peer", "add", "peer add --ae AE --institution CODE --network"
	  " ADDRESS[/PREFIX] [--kind pacs|collector] [--description TEXT]",
	  cli_peer_add },
	{ "peer", "set", "peer set AE [--network ADDRESS[/PREFIX]]"
	  " [--enable|--disable]", cli_peer_set },
	{ "peer", "list", "peer list  (AE title, institution, kind, network,"
	  " state, description)", cli_peer_list },
};
#define CLI_NCMDS	(sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void
cli_usage(FILE *fp, const char *noun)
{
	size_t	 i;

	fprintf(fp, "usage: zhiying-admin [-c conf] COMMAND\n");
	for (i = 0; i < CLI_NCMDS; i++)
		if (noun == NULL || strcmp(noun, cli_cmds[i].noun) == 0)
			fprintf(fp, "  %s\n", cli_cmds[i].usage);
	fprintf(fp, "Run on the server by its operator: connects as the"
	    " console (db_console);\nchanges are audited with channel"
	    " \"cli\" and the OS user name.\n");
}

/*
 * Run one subcommand (argv[0] is the noun).  Returns the exit status.
 */
int
cli_main(const struct conf *cf, int argc, char *argv[])
{
	const struct cli_cmd *cmd = NULL;
	struct actor	 a;
	struct passwd	*pw;
	PGconn		*c;
	size_t		 i;
	int		 rc;

	if (argc < 2 || cli_flag(argc, argv, "--help") ||
	    cli_flag(argc, argv, "-h")) {
		cli_usage(argc < 1 || cli_flag(argc, argv, "--help") ||
		    cli_flag(argc, argv, "-h") ? stdout : stderr,
		    argc >= 1 ? argv[0] : NULL);
		return argc < 2 && !cli_flag(argc, argv, "--help") &&
		    !cli_flag(argc, argv, "-h") ? 2 : 0;
	}
	for (i = 0; i < CLI_NCMDS; i++)
		if (strcmp(argv[0], cli_cmds[i].noun) == 0 &&
		    strcmp(argv[1], cli_cmds[i].verb) == 0)
			cmd = &cli_cmds[i];
	if (cmd == NULL) {
		cli_usage(stderr, NULL);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.platform = 1;
	a.channel = "cli";
	pw = getpwuid(getuid());
	(void)snprintf(a.login, sizeof(a.login), "%s",
	    pw != NULL ? pw->pw_name : "operator");
	if (auth_init() == -1 || (c = db_connect(cf->db_console)) == NULL) {
		fprintf(stderr, "zhiying-admin: cannot connect (db_console)\n");
		return 1;
	}
	rc = cmd->run(c, &a, argc - 2, argv + 2);
	if (rc == 2)
		fprintf(stderr, "usage: zhiying-admin %s\n", cmd->usage);
	PQfinish(c);
	return rc;
}
