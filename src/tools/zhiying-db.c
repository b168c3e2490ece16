/*
 * zhiying-db - schema migrations and demo data.
 *
 *	zhiying-db [-c conf] migrate	apply pending sql/NNN_name.sql in order
 *	zhiying-db [-c conf] status	list applied and pending migrations
 *	zhiying-db [-c conf] demo	load the demo network (idempotent)
 *	zhiying-db [-c conf] logins	the demo logins and what each finds
 *
 * Migrations run as the schema owner (option db_owner), each in its own
 * transaction together with its row in schema_migrations, so a failed
 * migration leaves nothing behind and is retried next time.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "model.h"

/* An arbitrary constant: one migrator at a time per database. */
#define MIGRATE_LOCK	"7316402"

struct migration {
	int	 version;
	char	 name[256];
	char	 path[2048];
	char	 digest[65];
	char	*sql;
};

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: zhiying-db [-c conf] [-s sqldir] migrate | status | demo |"
	    " logins\n"
	    "       zhiying-db -h | --help\n"
	    "  migrate  apply the pending schema migrations in order\n"
	    "  status   list applied and pending migrations\n"
	    "  demo     load the demo institutions, alliances and users\n"
	    "  logins   the demo logins and what each finds on its pages\n");
	if (fp == stdout)
		fprintf(fp, "\n"
		    "  -c conf     configuration file (default: $ZHIYING_CONF);"
		    " connects with\n"
		    "              db_owner, the schema's owner"
		    " (ZHIYING_DB_OWNER overrides it)\n"
		    "  -s sqldir   folder of the NNN_name.sql migrations"
		    " (default: the sql setting)\n"
		    "  -h, --help  this text\n");
	exit(status);
}

static int
mig_cmp(const void *a, const void *b)
{
	const struct migration	*x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp;
	char	*p = NULL;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1)
		goto fail;
	if ((p = malloc((size_t)n + 1)) == NULL)
		goto fail;
	if (fread(p, 1, (size_t)n, fp) != (size_t)n) {
		free(p);
		p = NULL;
		goto fail;
	}
	p[n] = '\0';
	*len = (size_t)n;
fail:
	(void)fclose(fp);
	return p;
}

static void
digest_hex(const char *s, size_t n, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;

	(void)EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Read sql/NNN_name.sql files, sorted by number.  Returns the count or -1. */
static int
mig_scan(const char *dir, struct migration **out)
{
	DIR		*d;
	struct dirent	*e;
	struct migration *m = NULL, *tmp;
	int		 n = 0, i;
	size_t		 len;
	char		*end;
	long		 v;

	if ((d = opendir(dir)) == NULL) {
		log_error("%s: %s: %s", __func__, dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 9 || strcmp(e->d_name + len - 4, ".sql") != 0)
			continue;
		v = strtol(e->d_name, &end, 10);
		if (end != e->d_name + 3 || *end != '_' || v <= 0) {
			log_warnx("%s: ignoring %s (not NNN_name.sql)",
			    __func__, e->d_name);
			continue;
		}
		if ((tmp = realloc(m, sizeof(*m) * (size_t)(n + 1))) == NULL)
			goto fail;
		m = tmp;
		memset(&m[n], 0, sizeof(m[n]));
		m[n].version = (int)v;
		(void)snprintf(m[n].name, sizeof(m[n].name), "%.*s",
		    (int)(len - 4), e->d_name);
		(void)snprintf(m[n].path, sizeof(m[n].path), "%s/%s", dir,
		    e->d_name);
		if ((m[n].sql = slurp(m[n].path, &len)) == NULL) {
			log_error("%s: %s: %s", __func__, m[n].path,
			    strerror(errno));
			n++;
			goto fail;
		}
		digest_hex(m[n].sql, len, m[n].digest);
		n++;
	}
	(void)closedir(d);
	qsort(m, (size_t)n, sizeof(*m), mig_cmp);
	for (i = 1; i < n; i++)
		if (m[i].version == m[i - 1].version) {
			log_error("%s: two migrations numbered %03d", __func__,
			    m[i].version);
			*out = m;
			return -(n + 2);
		}
	*out = m;
	return n;
fail:
	(void)closedir(d);
	for (i = 0; i < n; i++)
		free(m[i].sql);
	free(m);
	return -1;
}

static void
mig_free(struct migration *m, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		free(m[i].sql);
	free(m);
}

static int
cmd_migrate(PGconn *c, const char *dir, int dry)
{
	struct migration *m = NULL;
	PGresult	*r = NULL, *x;
	int		 n, i, j, found, applied = 0, rc = -1;
	char		 ver[16];

	if ((n = mig_scan(dir, &m)) < 0) {
		if (n < -1)
			mig_free(m, -n - 2);
		return -1;
	}
	if (db_cmd(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0) == -1)
		goto out;
	if (db_cmd(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY, name text NOT NULL,"
	    " digest text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0) == -1)
		goto out;
	if ((r = db_exec(c, "SELECT version, name, digest FROM"
	    " schema_migrations ORDER BY version", 0)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		found = 0;
		for (j = 0; j < PQntuples(r); j++) {
			if (db_ll(r, j, 0) != m[i].version)
				continue;
			found = 1;
			if (strcmp(db_val(r, j, 2), m[i].digest) != 0) {
				log_error("%s: %s was changed after it was"
				    " applied; add a new migration instead",
				    __func__, m[i].name);
				goto out;
			}
		}
		if (found)
			continue;
		if (dry) {
			printf("pending  %s\n", m[i].name);
			continue;
		}
		if (db_begin(c) == -1)
			goto out;
		/* A migration file is trusted SQL of the release, with no
		 * values from outside: run it as a script. */
		x = PQexec(c, m[i].sql);
		if (PQresultStatus(x) != PGRES_COMMAND_OK &&
		    PQresultStatus(x) != PGRES_TUPLES_OK) {
			log_error("%s: %s failed: %.*s", __func__, m[i].name,
			    (int)strcspn(PQresultErrorMessage(x), "\n"),
			    PQresultErrorMessage(x));
			PQclear(x);
			db_rollback(c);
			goto out;
		}
		PQclear(x);
		(void)snprintf(ver, sizeof(ver), "%d", m[i].version);
		if (db_cmd(c, "INSERT INTO schema_migrations (version, name,"
		    " digest) VALUES ($1::int, $2, $3)", 3, ver, m[i].name,
		    m[i].digest) == -1 || db_commit(c) == -1) {
			db_rollback(c);
			goto out;
		}
		printf("applied  %s\n", m[i].name);
		applied++;
	}
	if (!dry)
		printf("%d migration(s) applied, schema at %03d\n", applied,
		    n > 0 ? m[n - 1].version : 0);
	rc = 0;
out:
	PQclear(r);
	(void)db_cmd(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", 0);
	mig_free(m, n);
	return rc;
}

/*
 * The demo network: two alliances, each with an upper hospital and
 * grassroots members, and accounts of every role and title level.
 */
struct demo_inst {
	const char	*code, *name, *level, *region;
};
static const struct demo_inst demo_insts[] = {
	{ "GD-PH",  "广东省人民医院",	"province", "广州市越秀区" },
	{ "YB-CH",  "粤北市中心医院",	"city",     "粤北市浈江区" },
	{ "QX-PH",  "清溪县人民医院",	"county",   "粤北市清溪县" },
	{ "SL-THC", "石岭镇卫生院",	"primary",  "粤北市清溪县石岭镇" },
	{ "JN-PH",  "江南县人民医院",	"county",   "江门市江南县" },
	{ "BS-THC", "白沙镇卫生院",	"primary",  "江门市江南县白沙镇" },
	{ "LW-THC", "龙湾镇卫生院",	"primary",  "江门市江南县龙湾镇" },
};

struct demo_alliance {
	const char	*code, *name, *kind;
};
static const struct demo_alliance demo_alliances[] = {
	{ "YB-YLT", "粤北医联体", "medical_alliance" },
	{ "JN-YGT", "江南县医共体", "county_community" },
};

struct demo_member {
	const char	*alliance, *inst, *superior;
};
static const struct demo_member demo_members[] = {
	{ "YB-YLT", "GD-PH",  NULL },
	{ "YB-YLT", "YB-CH",  "GD-PH" },
	{ "YB-YLT", "QX-PH",  "YB-CH" },
	{ "YB-YLT", "SL-THC", "YB-CH" },
	{ "JN-YGT", "JN-PH",  NULL },
	{ "JN-YGT", "BS-THC", "JN-PH" },
	{ "JN-YGT", "LW-THC", "JN-PH" },
};

struct demo_user {
	const char	*login, *name, *inst, *roles, *title;
	int		 test_only;	/* created, never listed */
};
static const struct demo_user demo_users[] = {
	{ "admin",	  "系统管理员", "GD-PH",  "{admin}", NULL, 0 },
	{ "gd_chief",	  "陈国华",	"GD-PH",  "{doctor}", "chief", 0 },
	{ "gd_stats",	  "林统计",	"GD-PH",  "{stats}", NULL, 0 },
	{ "yb_resident",  "周子健",	"YB-CH",  "{doctor}", "resident", 0 },
	{ "yb_attending", "黄文静",	"YB-CH",  "{doctor}", "attending", 0 },
	{ "yb_assoc",	  "吴志强",	"YB-CH",  "{doctor}", "associate_chief", 0 },
	{ "yb_admin",	  "刘管理",	"YB-CH",  "{admin}", NULL, 0 },
	{ "yb_stats",	  "郑晓燕",	"YB-CH",  "{stats}", NULL, 0 },
	{ "qx_apply",	  "张晓明",	"QX-PH",  "{applicant}", NULL, 0 },
	{ "qx_doctor",	  "李建国",	"QX-PH",  "{applicant,doctor}", "attending", 0 },
	{ "sl_apply",	  "王小芳",	"SL-THC", "{applicant}", NULL, 0 },
	{ "jn_attending", "何俊峰",	"JN-PH",  "{doctor}", "attending", 0 },
	{ "jn_chief",	  "梁志明",	"JN-PH",  "{doctor}", "chief", 0 },
	{ "jn_admin",	  "罗管理",	"JN-PH",  "{admin}", NULL, 0 },
	{ "bs_apply",	  "冯丽华",	"BS-THC", "{applicant}", NULL, 0 },
	{ "lw_apply",	  "邓志伟",	"LW-THC", "{applicant}", NULL, 0 },
	/* The tests lock this one out (tests/integration/web.test.mjs). */
	{ "lw_locktest",  "测试锁定",	"LW-THC", "{applicant}", NULL, 1 },
};

/* DICOM senders: each hospital's PACS front-end machine or image
 * collector, registered by its calling AE title and the network it sends
 * from (all of them this machine in the demo). */
struct demo_peer {
	const char	*ae, *inst, *kind, *description;
};
static const struct demo_peer demo_peers[] = {
	{ "YB_PACS",	  "YB-CH",  "pacs",	 "粤北市中心医院 PACS 前置机" },
	{ "QX_PACS",	  "QX-PH",  "pacs",	 "清溪县人民医院 PACS 前置机" },
	{ "SL_COLLECTOR", "SL-THC", "collector", "石岭镇卫生院 影像采集器" },
	{ "BS_COLLECTOR", "BS-THC", "collector", "白沙镇卫生院 影像采集器" },
	{ "LW_COLLECTOR", "LW-THC", "collector", "龙湾镇卫生院 影像采集器" },
};
#define DEMO_PEER_NETWORK	"127.0.0.1/32"

#define DEMO_PASSWORD	"Zhiying2026"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
demo_load(PGconn *c)
{
	char		 hash[AUTH_HASH_MAX], detail[128];
	PGresult	*r;
	size_t		 i;
	int		 added = 0;
	struct audit	 a;

	if (db_begin(c) == -1)
		return -1;
	for (i = 0; i < NELEM(demo_insts); i++)
		if (db_cmd(c, "INSERT INTO institutions (code, name, level,"
		    " region) VALUES ($1, $2, $3, $4)"
		    " ON CONFLICT (code) DO NOTHING", 4, demo_insts[i].code,
		    demo_insts[i].name, demo_insts[i].level,
		    demo_insts[i].region) == -1)
			goto fail;
	for (i = 0; i < NELEM(demo_alliances); i++)
		if (db_cmd(c, "INSERT INTO alliances (code, name, kind)"
		    " VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING", 3,
		    demo_alliances[i].code, demo_alliances[i].name,
		    demo_alliances[i].kind) == -1)
			goto fail;
	/* Members whose superior is a member must come after it. */
	for (i = 0; i < NELEM(demo_members); i++)
		if (db_cmd(c, "INSERT INTO alliance_members (alliance_id,"
		    " institution_id, superior_id)"
		    " SELECT a.id, i.id, s.id FROM alliances a"
		    " JOIN institutions i ON i.code = $2"
		    " LEFT JOIN institutions s ON s.code = $3"
		    " WHERE a.code = $1 ON CONFLICT DO NOTHING", 3,
		    demo_members[i].alliance, demo_members[i].inst,
		    demo_members[i].superior) == -1)
			goto fail;
	for (i = 0; i < NELEM(demo_peers); i++)
		if (db_cmd(c, "INSERT INTO dicom_peers (ae_title,"
		    " institution_id, kind, description, network)"
		    " SELECT $1, id, $3, $4, $5 FROM institutions"
		    " WHERE code = $2 ON CONFLICT (ae_title) DO NOTHING", 5,
		    demo_peers[i].ae, demo_peers[i].inst, demo_peers[i].kind,
		    demo_peers[i].description, DEMO_PEER_NETWORK) == -1)
			goto fail;
	for (i = 0; i < NELEM(demo_users); i++) {
		if ((r = db_exec(c, "SELECT 1 FROM users WHERE login = $1", 1,
		    demo_users[i].login)) == NULL)
			goto fail;
		if (PQntuples(r) > 0) {
			PQclear(r);
			continue;
		}
		PQclear(r);
		if (auth_password_hash(DEMO_PASSWORD, hash) == -1)
			goto fail;
		if (db_cmd(c, "INSERT INTO users (institution_id, login,"
		    " display_name, password_hash, roles, title)"
		    " SELECT id, $2, $3, $4, $5::text[], $6 FROM institutions"
		    " WHERE code = $1", 6, demo_users[i].inst,
		    demo_users[i].login, demo_users[i].name, hash,
		    demo_users[i].roles, demo_users[i].title) == -1)
			goto fail;
		added++;
	}
	(void)snprintf(detail, sizeof(detail), "{\"users_added\": %d}", added);
	memset(&a, 0, sizeof(a));
	a.action = "demo_data_loaded";
	a.channel = "setup";
	a.detail = detail;
	if (audit_write(c, &a) == -1 || db_commit(c) == -1)
		goto fail;
	return added;
fail:
	db_rollback(c);
	return -1;
}

static int
cmd_demo(PGconn *c)
{
	int		 added;

	if ((added = demo_load(c)) < 0)
		return -1;
	printf("demo data: %d user(s) added\n", added);
	return 0;
}

/*
 * The demo logins, each with what its pages show, counted with the
 * lists' own rules (src/web/lists.c): 申请列表 the user's own
 * applications, 退回 those of them returned; 待诊断 (待报告 and 报告中), 待审核
 * and 已报告 what the user's institution reads (its self-diagnosed ones,
 * superior-mode ones addressed to it, those it was asked to help with),
 * 待审核 only for who may sign off, less the user's own reports; 统计 the
 * applications of the manager's institution and those below it in its
 * alliances (all of them for the province).  The accounts only the tests
 * use (lw_locktest) are not listed.
 */
#define SQL_READS \
	"((a.mode = 'self' AND a.applicant_institution_id = u.institution_id)" \
	" OR (a.mode = 'superior' AND a.target_institution_id = u.institution_id)" \
	" OR (a.assist AND a.assist_institution_id = u.institution_id))"

static int
cmd_logins(PGconn *c, const char *signoff)
{
	PGresult	*r;
	unsigned int	 roles;
	char		 rolestr[128], what[256];
	int		 i, t, so, n;
	size_t		 k;
	struct buf	 logins;

	so = model_lookup(title_names, TITLE__MAX, signoff);
	if (so <= TITLE_NONE)
		so = TITLE_ATTENDING;
	buf_init(&logins, 256);
	(void)buf_appends(&logins, "{");
	for (k = 0, n = 0; k < NELEM(demo_users); k++) {
		if (demo_users[k].test_only)
			continue;
		(void)buf_appends(&logins, n++ > 0 ? "," : "");
		(void)buf_appends(&logins, demo_users[k].login);
	}
	if (buf_appends(&logins, "}") == -1) {
		buf_free(&logins);
		return -1;
	}
	r = db_exec(c, "SELECT u.login, u.display_name, i.name, u.roles,"
	    " coalesce(u.title, ''),"
	    " (SELECT count(*) FROM applications a WHERE a.applicant_id = u.id),"
	    " (SELECT count(*) FROM applications a WHERE a.applicant_id = u.id"
	    "   AND a.state = 'returned'),"
	    " (SELECT count(*) FROM applications a WHERE " SQL_READS
	    "   AND a.state IN ('pending', 'reporting')),"
	    " (SELECT count(*) FROM applications a WHERE " SQL_READS
	    "   AND a.state = 'in_review'"
	    "   AND a.report_author_id IS DISTINCT FROM u.id),"
	    " (SELECT count(*) FROM applications a WHERE " SQL_READS
	    "   AND a.state IN ('reported', 'reviewed')),"
	    " (WITH RECURSIVE sc(id) AS (SELECT u.institution_id"
	    "   UNION SELECT m.institution_id FROM alliance_members m"
	    "   JOIN sc ON m.superior_id = sc.id)"
	    "  SELECT count(*) FROM applications a"
	    "  WHERE i.level = 'province' OR a.applicant_institution_id IN"
	    "   (SELECT id FROM sc))"
	    " FROM users u JOIN institutions i ON i.id = u.institution_id"
	    " WHERE u.login = ANY ($1::text[]) ORDER BY u.id", 1, logins.data);
	buf_free(&logins);
	if (r == NULL)
		return -1;
	printf("demo logins (every demo password is %s):\n", DEMO_PASSWORD);
	for (i = 0; i < PQntuples(r); i++) {
		roles = model_roles_parse(db_val(r, i, 3));
		(void)model_roles_zh(roles, rolestr, sizeof(rolestr));
		t = model_lookup(title_names, TITLE__MAX, db_val(r, i, 4));
		what[0] = '\0';
		if (roles & ROLE_BIT(ROLE_APPLICANT))
			(void)snprintf(what + strlen(what),
			    sizeof(what) - strlen(what), "%s申请列表 %s，退回 %s",
			    what[0] != '\0' ? "；" : "", db_val(r, i, 5),
			    db_val(r, i, 6));
		if (roles & ROLE_BIT(ROLE_DOCTOR))
			(void)snprintf(what + strlen(what),
			    sizeof(what) - strlen(what), "%s待诊断 %s，%s%s%s"
			    "已报告 %s", what[0] != '\0' ? "；" : "",
			    db_val(r, i, 7), t >= so ? "待审核 " : "",
			    t >= so ? db_val(r, i, 8) : "", t >= so ? "，" : "",
			    db_val(r, i, 9));
		if (roles & ROLE_BIT(ROLE_STATS))
			(void)snprintf(what + strlen(what),
			    sizeof(what) - strlen(what), "%s统计 %s 份申请",
			    what[0] != '\0' ? "；" : "", db_val(r, i, 10));
		if (roles & ROLE_BIT(ROLE_ADMIN))
			(void)snprintf(what + strlen(what),
			    sizeof(what) - strlen(what), "%s机构用户",
			    what[0] != '\0' ? "；" : "");
		printf("  %-14s %s  %s  %s%s%s — %s\n", db_val(r, i, 0),
		    db_val(r, i, 1), db_val(r, i, 2), rolestr,
		    t > 0 ? "·" : "", t > 0 ? title_names[t].zh : "", what);
	}
	PQclear(r);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	 cf;
	char		 err[1024];
	const char	*cfpath = getenv("ZHIYING_CONF"), *sqldir = NULL;
	PGconn		*c;
	int		 ch, rc;

	log_init("zhiying-db");
	while ((ch = getopt_long(argc, argv, "c:hs:", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			cfpath = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 's':
			sqldir = optarg;
			break;
		default:
			usage(stderr, 2);
		}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(stderr, 2);
	if (conf_load(&cf, cfpath, err, sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return 1;
	}
	if (sqldir == NULL)
		sqldir = cf.sql;
	if (strcmp(argv[0], "migrate") == 0 || strcmp(argv[0], "status") == 0) {
		if ((c = db_connect(cf.db_owner)) == NULL)
			return 1;
		if (strcmp(argv[0], "status") == 0)
			rc = cmd_migrate(c, sqldir, 1);
		else
			rc = cmd_migrate(c, sqldir, 0);
	} else if (strcmp(argv[0], "logins") == 0) {
		if ((c = db_connect(cf.db_owner)) == NULL)
			return 1;
		rc = cmd_logins(c, cf.signoff_title);
	} else if (strcmp(argv[0], "demo") == 0) {
		/* Accounts, institutions and peers are not the web's to
		 * write: the demo network is loaded as the owner. */
		if (auth_init() == -1 || (c = db_connect(cf.db_owner)) == NULL)
			return 1;
		rc = cmd_demo(c);
	} else
		usage(stderr, 2);
	PQfinish(c);
	return rc == 0 ? 0 : 1;
}
