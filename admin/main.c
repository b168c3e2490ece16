/*
 * main.c - zhiying-admin: options, the administrator's login, and either
 * the console or a subcommand.
 *
 *   zhiying-admin [-c conf] [--replay FILE --dump DIR [--size WxH]]
 *   zhiying-admin [-c conf] user|institution|alliance ... (see --help)
 *
 * ZY_ADMIN_REPLAY and ZY_ADMIN_DUMP stand in for --replay and --dump.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "console.h"
#include "db.h"
#include "log.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: zhiying-admin [-c conf] [--replay FILE]"
	    " [--dump DIR] [--size WxH] [--log FILE]\n"
	    "       zhiying-admin [-c conf] COMMAND ...   (zhiying-admin"
	    " --help-commands)\n");
	if (fp != stdout)
		return;
	fprintf(fp, "\n"
	    "The administrators' console (ncurses): institutions, alliances,"
	    " accounts,\n"
	    "report locks, failing AI jobs, the audit log, calibration.  With"
	    " a COMMAND,\n"
	    "provisioning from scripts instead (user, peer, calibration ...).\n"
	    "\n"
	    "  -c conf          configuration file (default: $ZHIYING_CONF);"
	    " connects\n"
	    "                   with db_console\n"
	    "  --replay FILE    play the keystrokes of FILE instead of the"
	    " keyboard\n"
	    "  --dump DIR       write each screen to DIR (with --replay)\n"
	    "  --size WxH       the screen's size (with --replay)\n"
	    "  --log FILE       log to FILE instead of standard error\n"
	    "  --help-commands  the commands and their options\n"
	    "  -h, --help       this text\n");
}

/* The address of an ssh client, for the audit log. */
static const char *
login_ip(char *buf, size_t size)
{
	const char	*s = getenv("SSH_CLIENT");

	if (s == NULL)
		return NULL;
	str_copy(buf, size, s);
	buf[strcspn(buf, " ")] = '\0';
	return buf;
}

/*
 * Ask for a login and password until an administrator logs in (returns
 * 0) or the user gives up (-1).  account_login() applies the web's
 * hashes, lockout and audit, with channel "console".
 */
static int
login_run(struct console *con)
{
	struct field	 fl[2];
	struct form	 f;
	struct account	 acct;
	struct login_origin o;
	struct store_err e;
	enum login_result res;
	char		 ip[64];
	int		 wait = 0;

	memset(fl, 0, sizeof(fl));
	fl[0].name = "login"; fl[0].label = "用户名"; fl[0].kind = FK_TEXT;
	fl[1].name = "password"; fl[1].label = "密码"; fl[1].kind = FK_SECRET;
	memset(&f, 0, sizeof(f));
	f.title = "智影管理控制台 — 管理员登录";
	f.fields = fl;
	f.n = 2;
	memset(&o, 0, sizeof(o));
	o.ip = login_ip(ip, sizeof(ip));
	o.user_agent = "zhiying-admin";
	o.channel = "console";
	for (;;) {
		if (!form_run(con, &f))
			return -1;
		memset(&e, 0, sizeof(e));
		res = account_login(con->db, con->cf, fl[0].text, fl[1].text,
		    &o, &acct, &wait);
		fl[1].text[0] = '\0';
		if (res == LOGIN_OK && !(acct.roles & ROLE_BIT(ROLE_ADMIN))) {
			str_copy(e.field, sizeof(e.field), "login");
			str_copy(e.msg, sizeof(e.msg),
			    "该账户没有管理员角色，不能使用管理控制台");
			form_error(&f, &e);
			continue;
		}
		if (res == LOGIN_OK)
			break;
		str_copy(e.field, sizeof(e.field),
		    res == LOGIN_BAD ? "password" : "login");
		if (res == LOGIN_LOCKED)
			(void)snprintf(e.msg, sizeof(e.msg), "%s（约 %d 秒后再试）",
			    login_messages[res], wait);
		else
			str_copy(e.msg, sizeof(e.msg), login_messages[res]);
		form_error(&f, &e);
	}
	con->actor.id = acct.id;
	con->actor.inst = acct.institution_id;
	con->actor.platform = acct.level == LEVEL_PROVINCE;
	str_copy(con->actor.login, sizeof(con->actor.login), acct.login);
	con->actor.channel = "console";
	str_copy(con->name, sizeof(con->name), acct.display_name);
	str_copy(con->inst_name, sizeof(con->inst_name), acct.institution_name);
	console_msg(con, 0, "欢迎，%s（%s，%s）。F1 帮助", acct.display_name,
	    acct.institution_name, con->actor.platform ? "平台管理员" :
	    "机构管理员");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct conf	 cf;
	struct console	 con;
	const char	*cfpath = getenv("ZHIYING_CONF");
	const char	*replay = getenv("ZY_ADMIN_REPLAY");
	const char	*dump = getenv("ZY_ADMIN_DUMP");
	const char	*logpath = NULL;
	char		 err[512];
	int		 i, lvl, rows = 24, cols = 80, rc;

	(void)setlocale(LC_ALL, "");
	log_init("zhiying-admin");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfpath = argv[++i];
		else if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc)
			replay = argv[++i];
		else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
			dump = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			logpath = argv[++i];
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%dx%d", &cols, &rows) != 2 ||
			    cols < 1 || rows < 1 || cols > 999 || rows > 999) {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--help-commands") == 0) {
			char	*h[] = { "--help", NULL };

			return cli_main(&cf, 1, h);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (conf_load(&cf, cfpath, err, sizeof(err)) == -1) {
		fprintf(stderr, "zhiying-admin: %s\n", err);
		return 1;
	}
	if ((lvl = log_level_parse(cf.log_level)) >= 0)
		log_set_level((enum log_level)lvl);
	if (i < argc)
		return cli_main(&cf, argc - i, argv + i);

	if (replay != NULL && replay_open(replay, dump) == -1) {
		fprintf(stderr, "zhiying-admin: cannot read %s\n", replay);
		return 1;
	}
	if (!replay_active() && (!isatty(STDIN_FILENO) ||
	    !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "zhiying-admin: needs a terminal (or"
		    " --replay)\n");
		return 1;
	}
	memset(&con, 0, sizeof(con));
	con.cf = &cf;
	if (auth_init() == -1 || (con.db = db_connect(cf.db_console)) == NULL) {
		fprintf(stderr, "zhiying-admin: cannot connect to the"
		    " database\n");
		return 1;
	}
	/* Log lines must not land on the screen. */
	if (logpath != NULL || isatty(STDERR_FILENO))
		if (freopen(logpath ? logpath : "/dev/null", "a", stderr) ==
		    NULL)
			return 1;
	if (screen_init(replay_active(), rows, cols) == -1) {
		PQfinish(con.db);
		fprintf(stdout, "zhiying-admin: cannot start the terminal\n");
		return 1;
	}
	rc = 0;
	if (login_run(&con) == 0)
		rc = console_run(&con);
	screen_end();
	PQfinish(con.db);
	return rc;
}
